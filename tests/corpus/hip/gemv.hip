// y[M] = A[M,K] @ x[K]: one wavefront per row (four rows per work-group), lanes stride along the row so
// each 64-wide load of A is contiguous; butterfly reduction with __shfl_xor.
#include <hip/hip_runtime.h>

constexpr int kWaveSize = 64;
constexpr int kRowsPerBlock = 4;

__device__ __forceinline__ float wave_allreduce_sum(float v) {
#pragma unroll
    for (int mask = kWaveSize / 2; mask >= 1; mask /= 2) v += __shfl_xor(v, mask, kWaveSize);
    return v;
}

__global__ void __launch_bounds__(kWaveSize * kRowsPerBlock)
gemv_kernel(const float* __restrict__ A, const float* __restrict__ x, float* __restrict__ y, int M, int K) {
    const int row = blockIdx.x * kRowsPerBlock + threadIdx.y;
    if (row >= M) return;
    const float* a_row = A + static_cast<size_t>(row) * K;
    float partial = 0.0f;
    for (int k = threadIdx.x; k < K; k += kWaveSize) partial += a_row[k] * x[k];
    partial = wave_allreduce_sum(partial);
    if (threadIdx.x == 0) y[row] = partial;
}

extern "C" void gemv(const float* A, const float* x, float* y, int M, int K) {
    float *dA, *dx, *dy;
    hipMalloc(&dA, sizeof(float) * static_cast<size_t>(M) * K);
    hipMalloc(&dx, sizeof(float) * K);
    hipMalloc(&dy, sizeof(float) * M);
    hipMemcpy(dA, A, sizeof(float) * static_cast<size_t>(M) * K, hipMemcpyHostToDevice);
    hipMemcpy(dx, x, sizeof(float) * K, hipMemcpyHostToDevice);

    const dim3 block(kWaveSize, kRowsPerBlock);  // threadIdx.y selects the wavefront = the row
    const dim3 grid((M + kRowsPerBlock - 1) / kRowsPerBlock);
    hipLaunchKernelGGL(gemv_kernel, grid, block, 0, 0, dA, dx, dy, M, K);

    hipMemcpy(y, dy, sizeof(float) * M, hipMemcpyDeviceToHost);
    hipFree(dA);
    hipFree(dx);
    hipFree(dy);
}
