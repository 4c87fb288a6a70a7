// y = clamp(x, -0.5, 0.5): a templated kernel where each thread handles ITEMS elements, unrolled.
#include <cuda_runtime.h>

template <typename T, int ITEMS>
__global__ void clamp_kernel(const T* __restrict__ in, T* __restrict__ out, int n, T lo, T hi) {
    const int base = (blockIdx.x * blockDim.x + threadIdx.x) * ITEMS;
#pragma unroll
    for (int k = 0; k < ITEMS; ++k) {
        const int i = base + k;
        if (i < n) {
            const T v = in[i];
            out[i] = v < lo ? lo : (v > hi ? hi : v);
        }
    }
}

extern "C" void clamp_unrolled(const float* x, float* y, int n) {
    constexpr int kItems = 4;
    constexpr int kThreads = 64;
    float* d_in = nullptr;
    float* d_out = nullptr;
    cudaMalloc(&d_in, n * sizeof(float));
    cudaMalloc(&d_out, n * sizeof(float));
    cudaMemcpy(d_in, x, n * sizeof(float), cudaMemcpyHostToDevice);
    const int per_block = kThreads * kItems;
    clamp_kernel<float, kItems><<<(n + per_block - 1) / per_block, kThreads>>>(d_in, d_out, n, -0.5f, 0.5f);
    cudaMemcpy(y, d_out, n * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(d_in);
    cudaFree(d_out);
}
