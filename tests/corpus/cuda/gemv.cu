#include <cuda_runtime.h>

// y[M] = A[M,K] @ x[K]. One warp per output row: the 32 lanes read consecutive elements of the row
// (coalesced), keep 4 independent partial sums to hide latency, and combine them with a shuffle tree.
constexpr int kWarpsPerBlock = 4;
constexpr unsigned kAllLanes = 0xffffffffu;

__device__ __forceinline__ float warp_reduce_add(float v) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(kAllLanes, v, offset);
    return v;
}

__global__ void gemv_warp_per_row_kernel(const float* __restrict__ A, const float* __restrict__ x,
                                         float* __restrict__ y, int M, int K) {
    const int lane = threadIdx.x & 31;
    const int row = blockIdx.x * kWarpsPerBlock + (threadIdx.x >> 5);
    if (row >= M) return;

    const float* __restrict__ a = A + static_cast<size_t>(row) * K;
    float s0 = 0.f, s1 = 0.f, s2 = 0.f, s3 = 0.f;
    int k = lane;
    for (; k + 96 < K; k += 128) {
        s0 += a[k] * __ldg(x + k);
        s1 += a[k + 32] * __ldg(x + k + 32);
        s2 += a[k + 64] * __ldg(x + k + 64);
        s3 += a[k + 96] * __ldg(x + k + 96);
    }
    for (; k < K; k += 32) s0 += a[k] * __ldg(x + k);

    const float total = warp_reduce_add((s0 + s1) + (s2 + s3));
    if (lane == 0) y[row] = total;
}

extern "C" void gemv(const float* A, const float* x, float* y, int M, int K) {
    if (M <= 0) return;
    float *dA, *dx, *dy;
    const size_t a_bytes = static_cast<size_t>(M) * K * sizeof(float);
    cudaMalloc(&dA, a_bytes > 0 ? a_bytes : sizeof(float));
    cudaMalloc(&dx, K > 0 ? K * sizeof(float) : sizeof(float));
    cudaMalloc(&dy, M * sizeof(float));
    cudaMemcpy(dA, A, a_bytes, cudaMemcpyHostToDevice);
    cudaMemcpy(dx, x, K * sizeof(float), cudaMemcpyHostToDevice);

    const int threads = kWarpsPerBlock * 32;
    const int blocks = (M + kWarpsPerBlock - 1) / kWarpsPerBlock;
    gemv_warp_per_row_kernel<<<blocks, threads>>>(dA, dx, dy, M, K);

    cudaMemcpy(y, dy, M * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dA);
    cudaFree(dx);
    cudaFree(dy);
}
