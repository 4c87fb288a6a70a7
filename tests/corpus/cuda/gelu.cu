#include <cuda_runtime.h>

// Tanh-approximation GELU: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
__device__ __forceinline__ float gelu_tanh(float v) {
    const float kSqrt2OverPi = 0.7978845608f;
    const float kCubic = 0.044715f;
    const float inner = kSqrt2OverPi * (v + kCubic * v * v * v);
    return 0.5f * v * (1.0f + tanhf(inner));
}

__global__ void __launch_bounds__(256) gelu_kernel(const float* __restrict__ x, float* __restrict__ y, int n) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    int step = gridDim.x * blockDim.x;
    for (; idx < n; idx += step) {
        y[idx] = gelu_tanh(__ldg(x + idx));
    }
}

extern "C" void gelu(const float* x, float* y, int n) {
    if (n <= 0) return;
    size_t nbytes = (size_t)n * sizeof(float);
    float *d_x = NULL, *d_y = NULL;
    cudaMalloc((void**)&d_x, nbytes);
    cudaMalloc((void**)&d_y, nbytes);
    cudaMemcpy(d_x, x, nbytes, cudaMemcpyHostToDevice);

    int threads = 256;
    int blocks = (n + threads - 1) / threads;
    if (blocks > 4096) blocks = 4096;
    gelu_kernel<<<blocks, threads>>>(d_x, d_y, n);

    cudaMemcpy(y, d_y, nbytes, cudaMemcpyDeviceToHost);
    cudaFree(d_x);
    cudaFree(d_y);
}
