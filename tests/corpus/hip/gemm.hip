// C[M,N] = A[M,K] @ B[K,N] in fp32 on the CDNA matrix cores (v_mfma_f32_16x16x4f32).
//
// Work-group: 256 work-items = 4 wavefronts, computing a 64x64 tile of C; each wavefront owns a 32x32
// quadrant as 2x2 MFMA tiles of 16x16. A and B are staged through LDS in K-slabs of 16, zero-filled
// past the matrix edges so the MFMAs never see garbage; stores are guarded.
//
// Operand layout assumed for __builtin_amdgcn_mfma_f32_16x16x4f32 (wave64, one float per lane for A and B,
// AMD matrix-instruction documentation / CDNA ISA guide), with lane = 0..63:
//   A (16x4):  lane holds A[i][k] with i = lane % 16, k = lane / 16
//   B (4x16):  lane holds B[k][j] with j = lane % 16, k = lane / 16
//   C/D (16x16, 4 floats per lane): element r holds D[i][j] with j = lane % 16, i = 4 * (lane / 16) + r
#include <hip/hip_runtime.h>

typedef float floatx4 __attribute__((ext_vector_type(4)));

constexpr int kTileM = 64;
constexpr int kTileN = 64;
constexpr int kTileK = 16;
constexpr int kThreads = 256;
constexpr int kPad = 1;  // breaks the 16-way LDS bank conflict when lanes walk down a column of As

__global__ void __launch_bounds__(kThreads)
gemm_mfma_f32(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C, int M, int N, int K) {
    __shared__ float As[kTileM][kTileK + kPad];
    __shared__ float Bs[kTileK][kTileN + kPad];

    const int tid = threadIdx.x;
    const int lane = tid % 64;
    const int wave = tid / 64;
    const int block_m = blockIdx.y * kTileM;
    const int block_n = blockIdx.x * kTileN;
    const int wave_m = (wave / 2) * 32;  // quadrant of the 64x64 tile owned by this wavefront
    const int wave_n = (wave % 2) * 32;

    floatx4 acc[2][2];
#pragma unroll
    for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int j = 0; j < 2; ++j) acc[i][j] = floatx4{0.0f, 0.0f, 0.0f, 0.0f};

    for (int k0 = 0; k0 < K; k0 += kTileK) {
        // 64x16 slab of A and 16x64 slab of B: four elements per work-item each.
#pragma unroll
        for (int e = 0; e < (kTileM * kTileK) / kThreads; ++e) {
            const int idx = tid + e * kThreads;
            const int r = idx / kTileK, c = idx % kTileK;
            const int gr = block_m + r, gc = k0 + c;
            As[r][c] = (gr < M && gc < K) ? A[static_cast<size_t>(gr) * K + gc] : 0.0f;
        }
#pragma unroll
        for (int e = 0; e < (kTileK * kTileN) / kThreads; ++e) {
            const int idx = tid + e * kThreads;
            const int r = idx / kTileN, c = idx % kTileN;
            const int gr = k0 + r, gc = block_n + c;
            Bs[r][c] = (gr < K && gc < N) ? B[static_cast<size_t>(gr) * N + gc] : 0.0f;
        }
        __syncthreads();

#pragma unroll
        for (int kk = 0; kk < kTileK; kk += 4) {
            float a_frag[2], b_frag[2];
#pragma unroll
            for (int i = 0; i < 2; ++i) a_frag[i] = As[wave_m + i * 16 + lane % 16][kk + lane / 16];
#pragma unroll
            for (int j = 0; j < 2; ++j) b_frag[j] = Bs[kk + lane / 16][wave_n + j * 16 + lane % 16];
#pragma unroll
            for (int i = 0; i < 2; ++i)
#pragma unroll
                for (int j = 0; j < 2; ++j)
                    acc[i][j] = __builtin_amdgcn_mfma_f32_16x16x4f32(a_frag[i], b_frag[j], acc[i][j], 0, 0, 0);
        }
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < 2; ++i) {
#pragma unroll
        for (int j = 0; j < 2; ++j) {
            const int col = block_n + wave_n + j * 16 + lane % 16;
#pragma unroll
            for (int r = 0; r < 4; ++r) {
                const int row = block_m + wave_m + i * 16 + 4 * (lane / 16) + r;
                if (row < M && col < N) C[static_cast<size_t>(row) * N + col] = acc[i][j][r];
            }
        }
    }
}

extern "C" void gemm(const float* A, const float* B, float* C, int M, int N, int K) {
    const size_t bytes_a = sizeof(float) * static_cast<size_t>(M) * K;
    const size_t bytes_b = sizeof(float) * static_cast<size_t>(K) * N;
    const size_t bytes_c = sizeof(float) * static_cast<size_t>(M) * N;
    float *dA, *dB, *dC;
    hipMalloc(&dA, bytes_a);
    hipMalloc(&dB, bytes_b);
    hipMalloc(&dC, bytes_c);
    hipMemcpy(dA, A, bytes_a, hipMemcpyHostToDevice);
    hipMemcpy(dB, B, bytes_b, hipMemcpyHostToDevice);

    const dim3 grid((N + kTileN - 1) / kTileN, (M + kTileM - 1) / kTileM);
    hipLaunchKernelGGL(gemm_mfma_f32, grid, dim3(kThreads), 0, 0, dA, dB, dC, M, N, K);

    hipMemcpy(C, dC, bytes_c, hipMemcpyDeviceToHost);
    hipFree(dA);
    hipFree(dB);
    hipFree(dC);
}
