// C[M,N] (int32) = A[M,K] (uint8) @ B[K,N] (int8).
// gfx90a has no mixed-sign (u8 x s8) dot or MFMA instruction (v_mfma_i32_*i8 is signed x signed and 255 does
// not fit in s8), so this is an LDS-tiled integer GEMM: 16x16 work-items, 32x32 output tile, each work-item a
// 2x2 register micro-tile; operands widened to int32 once, when they are staged in LDS.
#include <hip/hip_runtime.h>
#include <cstdint>

template <int TILE, int TK>
__global__ void __launch_bounds__(256)
gemm_u8s8_kernel(const uint8_t* __restrict__ A, const int8_t* __restrict__ B, int32_t* __restrict__ C,
                 int M, int N, int K) {
    constexpr int kThreadsPerDim = 16;
    constexpr int kMicro = TILE / kThreadsPerDim;
    __shared__ int As[TILE][TK + 1];
    __shared__ int Bs[TK][TILE + 1];

    const int tx = threadIdx.x, ty = threadIdx.y;
    const int tid = ty * kThreadsPerDim + tx;
    const int m0 = blockIdx.y * TILE;
    const int n0 = blockIdx.x * TILE;

    int acc[kMicro][kMicro] = {};

    for (int k0 = 0; k0 < K; k0 += TK) {
        for (int idx = tid; idx < TILE * TK; idx += 256) {
            const int r = idx / TK, c = idx % TK;
            const int gm = m0 + r, gk = k0 + c;
            As[r][c] = (gm < M && gk < K) ? static_cast<int>(A[static_cast<size_t>(gm) * K + gk]) : 0;
        }
        for (int idx = tid; idx < TK * TILE; idx += 256) {
            const int r = idx / TILE, c = idx % TILE;
            const int gk = k0 + r, gn = n0 + c;
            Bs[r][c] = (gk < K && gn < N) ? static_cast<int>(B[static_cast<size_t>(gk) * N + gn]) : 0;
        }
        __syncthreads();

#pragma unroll 8
        for (int k = 0; k < TK; ++k) {
            int a[kMicro], b[kMicro];
#pragma unroll
            for (int i = 0; i < kMicro; ++i) a[i] = As[ty + i * kThreadsPerDim][k];
#pragma unroll
            for (int j = 0; j < kMicro; ++j) b[j] = Bs[k][tx + j * kThreadsPerDim];
#pragma unroll
            for (int i = 0; i < kMicro; ++i)
#pragma unroll
                for (int j = 0; j < kMicro; ++j) acc[i][j] += a[i] * b[j];
        }
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < kMicro; ++i) {
        const int gm = m0 + ty + i * kThreadsPerDim;
#pragma unroll
        for (int j = 0; j < kMicro; ++j) {
            const int gn = n0 + tx + j * kThreadsPerDim;
            if (gm < M && gn < N) C[static_cast<size_t>(gm) * N + gn] = acc[i][j];
        }
    }
}

extern "C" void gemm_int8(const uint8_t* A, const int8_t* B, int32_t* C, int M, int N, int K) {
    constexpr int kTile = 32;
    constexpr int kTileK = 32;
    uint8_t* dA;
    int8_t* dB;
    int32_t* dC;
    hipMalloc(&dA, static_cast<size_t>(M) * K);
    hipMalloc(&dB, static_cast<size_t>(K) * N);
    hipMalloc(&dC, static_cast<size_t>(M) * N * sizeof(int32_t));
    hipMemcpy(dA, A, static_cast<size_t>(M) * K, hipMemcpyHostToDevice);
    hipMemcpy(dB, B, static_cast<size_t>(K) * N, hipMemcpyHostToDevice);

    const dim3 block(16, 16);
    const dim3 grid((N + kTile - 1) / kTile, (M + kTile - 1) / kTile);
    hipLaunchKernelGGL((gemm_u8s8_kernel<kTile, kTileK>), grid, block, 0, 0, dA, dB, dC, M, N, K);

    hipMemcpy(C, dC, static_cast<size_t>(M) * N * sizeof(int32_t), hipMemcpyDeviceToHost);
    hipFree(dA);
    hipFree(dB);
    hipFree(dC);
}
