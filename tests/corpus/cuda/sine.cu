#include <cuda_runtime.h>

// A generic unary map: the functor is inlined into the kernel, so one template serves any pointwise op.
struct SinOp {
    __device__ __forceinline__ float operator()(float v) const { return sinf(v); }
};

template <typename Op>
__global__ void unary_map_kernel(const float* __restrict__ in, float* __restrict__ out, int n, Op op) {
    const int stride = blockDim.x * gridDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        out[i] = op(in[i]);
    }
}

extern "C" void sine(const float* x, float* y, int n) {
    if (n <= 0) return;
    const size_t bytes = (size_t)n * sizeof(float);
    float* d_in = nullptr;
    float* d_out = nullptr;
    cudaMalloc(&d_in, bytes);
    cudaMalloc(&d_out, bytes);
    cudaMemcpy(d_in, x, bytes, cudaMemcpyHostToDevice);

    constexpr int kThreads = 256;
    int blocks = (n + kThreads - 1) / kThreads;
    blocks = blocks > 2048 ? 2048 : blocks;
    unary_map_kernel<<<blocks, kThreads>>>(d_in, d_out, n, SinOp{});

    cudaMemcpy(y, d_out, bytes, cudaMemcpyDeviceToHost);
    cudaFree(d_in);
    cudaFree(d_out);
}
