// C[M,N] (fp32) = A[M,K] @ B[K,N] with fp16 inputs, on the matrix cores (v_mfma_f32_16x16x16f16).
//
// Work-group: 4 wavefronts, 64x64 tile of C, each wavefront a 32x32 quadrant = 2x2 MFMA tiles.
// K advances in slabs of 32 (two MFMA k-steps). B is stored transposed in LDS (Bt[n][k]) so that the four
// consecutive k values a lane feeds to the MFMA are contiguous, like A's, and load as one 8-byte half4.
// Out-of-range elements are zero-filled; fp16 products are exact in fp32, accumulation is fp32.
//
// Operand layout assumed for __builtin_amdgcn_mfma_f32_16x16x16f16 (wave64; AMD matrix-instruction
// documentation / CDNA ISA guide), lane = 0..63, element r = 0..3 of the lane's vector:
//   A (16x16, half4 per lane):  A[i][k] with i = lane % 16, k = 4 * (lane / 16) + r
//   B (16x16, half4 per lane):  B[k][j] with j = lane % 16, k = 4 * (lane / 16) + r
//   C/D (16x16, float4 per lane): D[i][j] with j = lane % 16, i = 4 * (lane / 16) + r
#include <hip/hip_runtime.h>
#include <hip/hip_fp16.h>

typedef _Float16 half4 __attribute__((ext_vector_type(4)));
typedef float floatx4 __attribute__((ext_vector_type(4)));

namespace {

constexpr int kBM = 64;
constexpr int kBN = 64;
constexpr int kBK = 32;
constexpr int kLdsK = kBK + 4;  // row pitch of 72 bytes: keeps 8-byte alignment, shifts banks per row
constexpr int kThreads = 256;

__device__ __forceinline__ half4 load_half4(const _Float16* p) {
    return *reinterpret_cast<const half4*>(p);
}

}  // namespace

__global__ void __launch_bounds__(kThreads)
gemm_fp16_mfma(const _Float16* __restrict__ A, const _Float16* __restrict__ B, float* __restrict__ C,
               int M, int N, int K) {
    __shared__ _Float16 As[kBM][kLdsK];
    __shared__ _Float16 Bt[kBN][kLdsK];

    const int tid = threadIdx.x;
    const int lane = tid & 63;
    const int wave = tid >> 6;
    const int row0 = blockIdx.y * kBM;
    const int col0 = blockIdx.x * kBN;
    const int wm = (wave >> 1) * 32;
    const int wn = (wave & 1) * 32;
    const _Float16 zero = static_cast<_Float16>(0.0f);

    floatx4 acc[2][2] = {};

    for (int k0 = 0; k0 < K; k0 += kBK) {
        // A slab 64x32: consecutive work-items walk along k (coalesced).
        for (int idx = tid; idx < kBM * kBK; idx += kThreads) {
            const int m = idx / kBK, k = idx % kBK;
            const int gm = row0 + m, gk = k0 + k;
            As[m][k] = (gm < M && gk < K) ? A[static_cast<size_t>(gm) * K + gk] : zero;
        }
        // B slab 32x64: consecutive work-items walk along n (coalesced), stored transposed.
        for (int idx = tid; idx < kBK * kBN; idx += kThreads) {
            const int k = idx / kBN, n = idx % kBN;
            const int gk = k0 + k, gn = col0 + n;
            Bt[n][k] = (gk < K && gn < N) ? B[static_cast<size_t>(gk) * N + gn] : zero;
        }
        __syncthreads();

#pragma unroll
        for (int kk = 0; kk < kBK; kk += 16) {
            const int k_lane = kk + 4 * (lane / 16);
            half4 a[2], b[2];
#pragma unroll
            for (int i = 0; i < 2; ++i) a[i] = load_half4(&As[wm + 16 * i + lane % 16][k_lane]);
#pragma unroll
            for (int j = 0; j < 2; ++j) b[j] = load_half4(&Bt[wn + 16 * j + lane % 16][k_lane]);
#pragma unroll
            for (int i = 0; i < 2; ++i)
#pragma unroll
                for (int j = 0; j < 2; ++j)
                    acc[i][j] = __builtin_amdgcn_mfma_f32_16x16x16f16(a[i], b[j], acc[i][j], 0, 0, 0);
        }
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int j = 0; j < 2; ++j) {
            const int n = col0 + wn + 16 * j + lane % 16;
            if (n >= N) continue;
#pragma unroll
            for (int r = 0; r < 4; ++r) {
                const int m = row0 + wm + 16 * i + 4 * (lane / 16) + r;
                if (m < M) C[static_cast<size_t>(m) * N + n] = acc[i][j][r];
            }
        }
}

extern "C" void gemm_fp16(const __half* A, const __half* B, float* C, int M, int N, int K) {
    const size_t a_bytes = static_cast<size_t>(M) * K * sizeof(_Float16);
    const size_t b_bytes = static_cast<size_t>(K) * N * sizeof(_Float16);
    const size_t c_bytes = static_cast<size_t>(M) * N * sizeof(float);
    _Float16* dA = nullptr;
    _Float16* dB = nullptr;
    float* dC = nullptr;
    hipMalloc(&dA, a_bytes);
    hipMalloc(&dB, b_bytes);
    hipMalloc(&dC, c_bytes);
    hipMemcpy(dA, A, a_bytes, hipMemcpyHostToDevice);
    hipMemcpy(dB, B, b_bytes, hipMemcpyHostToDevice);

    dim3 grid((N + kBN - 1) / kBN, (M + kBM - 1) / kBM);
    hipLaunchKernelGGL(gemm_fp16_mfma, grid, dim3(kThreads), 0, 0, dA, dB, dC, M, N, K);

    hipMemcpy(C, dC, c_bytes, hipMemcpyDeviceToHost);
    hipFree(dA);
    hipFree(dB);
    hipFree(dC);
}
