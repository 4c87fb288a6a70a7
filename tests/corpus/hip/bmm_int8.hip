// C[b] (int32) = A[b] (uint8) @ B[b] (int8), A[batch,M,K], B[batch,K,N].
// 256 work-items per group compute a 64x64 tile as 4x4 register micro-tiles; K slabs of 16 staged in LDS
// as raw bytes (LDS traffic is 4x smaller than widened ints), widened in registers. Batch on grid z.
#include <hip/hip_runtime.h>
#include <cstdint>

namespace {
constexpr int BM = 64, BN = 64, BK = 16;
constexpr int TM = 4, TN = 4;  // micro-tile per work-item; 16x16 work-items
}

__global__ void __launch_bounds__(256)
bmm_u8s8_kernel(const uint8_t* __restrict__ A, const int8_t* __restrict__ B, int32_t* __restrict__ C,
                int M, int N, int K) {
    __shared__ uint8_t As[BK][BM];  // transposed: As[k][m], so a column of A is contiguous for the micro-tile
    __shared__ int8_t Bs[BK][BN];

    const size_t batch = blockIdx.z;
    A += batch * M * K;
    B += batch * K * N;
    C += batch * M * N;

    const int tid = threadIdx.x;
    const int tm = (tid / 16) * TM;  // micro-tile origin inside the 64x64 tile
    const int tn = (tid % 16) * TN;
    const int m_base = blockIdx.y * BM;
    const int n_base = blockIdx.x * BN;

    int acc[TM][TN];
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = 0;

    for (int k0 = 0; k0 < K; k0 += BK) {
#pragma unroll
        for (int e = 0; e < (BM * BK) / 256; ++e) {
            const int idx = tid + e * 256;
            const int m = idx / BK, k = idx % BK;
            const bool ok = (m_base + m < M) && (k0 + k < K);
            As[k][m] = ok ? A[static_cast<size_t>(m_base + m) * K + k0 + k] : uint8_t(0);
        }
#pragma unroll
        for (int e = 0; e < (BK * BN) / 256; ++e) {
            const int idx = tid + e * 256;
            const int k = idx / BN, n = idx % BN;
            const bool ok = (k0 + k < K) && (n_base + n < N);
            Bs[k][n] = ok ? B[static_cast<size_t>(k0 + k) * N + n_base + n] : int8_t(0);
        }
        __syncthreads();

#pragma unroll
        for (int k = 0; k < BK; ++k) {
            int a[TM], b[TN];
#pragma unroll
            for (int i = 0; i < TM; ++i) a[i] = As[k][tm + i];
#pragma unroll
            for (int j = 0; j < TN; ++j) b[j] = Bs[k][tn + j];
#pragma unroll
            for (int i = 0; i < TM; ++i)
#pragma unroll
                for (int j = 0; j < TN; ++j) acc[i][j] += a[i] * b[j];
        }
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < TM; ++i) {
        const int m = m_base + tm + i;
        if (m >= M) break;
#pragma unroll
        for (int j = 0; j < TN; ++j) {
            const int n = n_base + tn + j;
            if (n < N) C[static_cast<size_t>(m) * N + n] = acc[i][j];
        }
    }
}

extern "C" void bmm_int8(const uint8_t* A, const int8_t* B, int32_t* C, int batch, int M, int N, int K) {
    const size_t a_bytes = static_cast<size_t>(batch) * M * K;
    const size_t b_bytes = static_cast<size_t>(batch) * K * N;
    const size_t c_bytes = static_cast<size_t>(batch) * M * N * sizeof(int32_t);
    uint8_t* dA;
    int8_t* dB;
    int32_t* dC;
    hipMalloc(&dA, a_bytes);
    hipMalloc(&dB, b_bytes);
    hipMalloc(&dC, c_bytes);
    hipMemcpy(dA, A, a_bytes, hipMemcpyHostToDevice);
    hipMemcpy(dB, B, b_bytes, hipMemcpyHostToDevice);

    const dim3 grid((N + BN - 1) / BN, (M + BM - 1) / BM, batch);
    hipLaunchKernelGGL(bmm_u8s8_kernel, grid, dim3(256), 0, 0, dA, dB, dC, M, N, K);

    hipMemcpy(C, dC, c_bytes, hipMemcpyDeviceToHost);
    hipFree(dA);
    hipFree(dB);
    hipFree(dC);
}
