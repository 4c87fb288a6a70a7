// 1-D convolution with zero "same" padding, y[f, i] = sum_c sum_j x[c, i + j - K/2] * w[f, c, j]. Each thread
// computes four output channels of one position (thread coarsening over filters): every input it loads feeds
// four sums. Blocks along y take the channels four at a time; the last block clamps its weight reads.
#include <cuda_runtime.h>

#define FILTERS_PER_THREAD 4

__global__ void conv1d_four_filters_kernel(const float* __restrict__ x, const float* __restrict__ w,
                                           float* __restrict__ y, int C, int L, int F, int K) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    const int f0 = blockIdx.y * FILTERS_PER_THREAD;
    if (i >= L) return;
    float acc[FILTERS_PER_THREAD] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int c = 0; c < C; ++c) {
        for (int j = 0; j < K; ++j) {
            const int at = i + j - K / 2;
            if (at < 0 || at >= L) continue;
            const float v = x[c * L + at];
#pragma unroll
            for (int g = 0; g < FILTERS_PER_THREAD; ++g) {
                const int f = min(f0 + g, F - 1);
                acc[g] += v * w[(f * C + c) * K + j];
            }
        }
    }
    for (int g = 0; g < FILTERS_PER_THREAD; ++g)
        if (f0 + g < F) y[(f0 + g) * L + i] = acc[g];
}

extern "C" void conv1d_four_filters(const float* x, const float* w, float* y, int C, int L, int F, int K) {
    float *dx, *dw, *dy;
    cudaMalloc(&dx, sizeof(float) * C * L);
    cudaMalloc(&dw, sizeof(float) * F * C * K);
    cudaMalloc(&dy, sizeof(float) * F * L);
    cudaMemcpy(dx, x, sizeof(float) * C * L, cudaMemcpyHostToDevice);
    cudaMemcpy(dw, w, sizeof(float) * F * C * K, cudaMemcpyHostToDevice);
    const dim3 grid((L + 63) / 64, (F + FILTERS_PER_THREAD - 1) / FILTERS_PER_THREAD);
    conv1d_four_filters_kernel<<<grid, 64>>>(dx, dw, dy, C, L, F, K);
    cudaMemcpy(y, dy, sizeof(float) * F * L, cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(dw);
    cudaFree(dy);
}
