#include <cuda_runtime.h>

// Generic elementwise map: the operation is a functor so the same grid-stride kernel serves many ops.
struct ClampScale {
    float lo, hi, scale;
    __device__ float operator()(float v) const {
        float s = v * scale;
        return s < lo ? lo : (s > hi ? hi : s);
    }
};

template <typename Op>
__global__ void map_kernel(const float* __restrict__ in, float* __restrict__ out, int n, Op op) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        out[i] = op(in[i]);
}

extern "C" void clamp_functor(const float* x, float* y, int n, float lo, float hi, float scale) {
    float *d_in, *d_out;
    cudaMalloc(&d_in, n * sizeof(float));
    cudaMalloc(&d_out, n * sizeof(float));
    cudaMemcpy(d_in, x, n * sizeof(float), cudaMemcpyHostToDevice);
    ClampScale op{lo, hi, scale};
    int threads = 128;
    int blocks = (n + threads - 1) / threads;
    if (blocks > 64) blocks = 64;
    map_kernel<ClampScale><<<blocks, threads>>>(d_in, d_out, n, op);
    cudaMemcpy(y, d_out, n * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(d_in);
    cudaFree(d_out);
}
