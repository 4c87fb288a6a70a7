// y[M] (int32) = A[M,K] (uint8) @ x[K] (int8). Work-groups walk rows grid-stride, one row per wavefront;
// each lane accumulates a strided slice of the row in int32, then __shfl_down folds the 64 partials.
// x is small and re-read by every row, so it stays hot in L1/L2 without explicit staging.
#include <hip/hip_runtime.h>
#include <cstdint>

#define WAVES 4

__global__ void __launch_bounds__(WAVES * 64)
gemv_u8s8(const uint8_t* __restrict__ A, const int8_t* __restrict__ x, int32_t* __restrict__ y, int M, int K) {
    const int lane = threadIdx.x % 64;
    const int wave = threadIdx.x / 64;
    for (int row = blockIdx.x * WAVES + wave; row < M; row += gridDim.x * WAVES) {
        const uint8_t* a = A + static_cast<size_t>(row) * K;
        int acc = 0;
        for (int k = lane; k < K; k += 64) acc += static_cast<int>(a[k]) * static_cast<int>(x[k]);
        for (int offset = 32; offset > 0; offset >>= 1) acc += __shfl_down(acc, offset);
        if (lane == 0) y[row] = acc;
    }
}

extern "C" void gemv_int8(const uint8_t* A, const int8_t* x, int32_t* y, int M, int K) {
    uint8_t* dA;
    int8_t* dx;
    int32_t* dy;
    hipMalloc(&dA, static_cast<size_t>(M) * K);
    hipMalloc(&dx, K);
    hipMalloc(&dy, sizeof(int32_t) * M);
    hipMemcpy(dA, A, static_cast<size_t>(M) * K, hipMemcpyHostToDevice);
    hipMemcpy(dx, x, K, hipMemcpyHostToDevice);

    int grid = (M + WAVES - 1) / WAVES;
    if (grid > 256) grid = 256;
    hipLaunchKernelGGL(gemv_u8s8, dim3(grid), dim3(WAVES * 64), 0, 0, dA, dx, dy, M, K);

    hipMemcpy(y, dy, sizeof(int32_t) * M, hipMemcpyDeviceToHost);
    hipFree(dA);
    hipFree(dx);
    hipFree(dy);
}
