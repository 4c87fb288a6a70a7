#include <cuda_runtime.h>
#include <cuda_fp16.h>
#include <mma.h>

using namespace nvcuda;

// Half-precision GEMM on tensor cores: C[M,N] (fp32) = A[M,K] @ B[K,N] (fp16), fp32 accumulation.
// A block of 4 warps computes a 64x64 tile; each warp owns a 32x32 quadrant = 2x2 wmma 16x16x16
// accumulators. K is walked in 32-wide slabs staged into zero-padded shared memory, which makes every
// wmma load in-bounds for any M, N, K; the accumulators go through shared memory so the final store can
// drop the rows/columns outside C. Shared row strides are padded (+8 halves / +4 floats) to spread banks
// while keeping every fragment pointer 32-byte aligned and every ldm a multiple of 8 halves / 4 floats.
constexpr int BM = 64;
constexpr int BN = 64;
constexpr int BK = 32;
constexpr int WMMA_M = 16;
constexpr int WMMA_N = 16;
constexpr int WMMA_K = 16;
constexpr int WARPS = 4;
constexpr int THREADS = WARPS * 32;
constexpr int A_LD = BK + 8;
constexpr int B_LD = BN + 8;
constexpr int C_LD = BN + 4;
constexpr int FRAGS = 2;  // per warp, in each dimension

__global__ void __launch_bounds__(THREADS)
gemm_fp16_wmma_kernel(const half* __restrict__ A, const half* __restrict__ B, float* __restrict__ C,
                      int M, int N, int K) {
    __shared__ __align__(128) half As[BM * A_LD];
    __shared__ __align__(128) half Bs[BK * B_LD];
    __shared__ __align__(128) float Cs[BM * C_LD];

    const int warp_id = threadIdx.x / 32;
    const int warp_row = (warp_id / 2) * (FRAGS * WMMA_M);
    const int warp_col = (warp_id % 2) * (FRAGS * WMMA_N);
    const int m0 = blockIdx.y * BM;
    const int n0 = blockIdx.x * BN;
    const half zero = __float2half(0.0f);

    wmma::fragment<wmma::accumulator, WMMA_M, WMMA_N, WMMA_K, float> acc[FRAGS][FRAGS];
#pragma unroll
    for (int i = 0; i < FRAGS; ++i)
#pragma unroll
        for (int j = 0; j < FRAGS; ++j) wmma::fill_fragment(acc[i][j], 0.0f);

    for (int k0 = 0; k0 < K; k0 += BK) {
        for (int e = threadIdx.x; e < BM * BK; e += THREADS) {
            const int r = e / BK, c = e % BK;
            const int gr = m0 + r, gc = k0 + c;
            As[r * A_LD + c] = (gr < M && gc < K) ? A[(size_t)gr * K + gc] : zero;
        }
        for (int e = threadIdx.x; e < BK * BN; e += THREADS) {
            const int r = e / BN, c = e % BN;
            const int gr = k0 + r, gc = n0 + c;
            Bs[r * B_LD + c] = (gr < K && gc < N) ? B[(size_t)gr * N + gc] : zero;
        }
        __syncthreads();

#pragma unroll
        for (int kk = 0; kk < BK; kk += WMMA_K) {
            wmma::fragment<wmma::matrix_a, WMMA_M, WMMA_N, WMMA_K, half, wmma::row_major> a_frag[FRAGS];
            wmma::fragment<wmma::matrix_b, WMMA_M, WMMA_N, WMMA_K, half, wmma::row_major> b_frag[FRAGS];
#pragma unroll
            for (int i = 0; i < FRAGS; ++i)
                wmma::load_matrix_sync(a_frag[i], As + (warp_row + i * WMMA_M) * A_LD + kk, A_LD);
#pragma unroll
            for (int j = 0; j < FRAGS; ++j)
                wmma::load_matrix_sync(b_frag[j], Bs + kk * B_LD + warp_col + j * WMMA_N, B_LD);
#pragma unroll
            for (int i = 0; i < FRAGS; ++i)
#pragma unroll
                for (int j = 0; j < FRAGS; ++j) wmma::mma_sync(acc[i][j], a_frag[i], b_frag[j], acc[i][j]);
        }
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < FRAGS; ++i)
#pragma unroll
        for (int j = 0; j < FRAGS; ++j)
            wmma::store_matrix_sync(Cs + (warp_row + i * WMMA_M) * C_LD + warp_col + j * WMMA_N, acc[i][j], C_LD,
                                    wmma::mem_row_major);
    __syncthreads();

    for (int e = threadIdx.x; e < BM * BN; e += THREADS) {
        const int r = e / BN, c = e % BN;
        const int gr = m0 + r, gc = n0 + c;
        if (gr < M && gc < N) C[(size_t)gr * N + gc] = Cs[r * C_LD + c];
    }
}

extern "C" void gemm_fp16(const half* A, const half* B, float* C, int M, int N, int K) {
    if (M <= 0 || N <= 0) return;
    const size_t a_elems = (size_t)M * K, b_elems = (size_t)K * N, c_elems = (size_t)M * N;
    half *dA, *dB;
    float* dC;
    cudaMalloc(&dA, (a_elems > 0 ? a_elems : 1) * sizeof(half));
    cudaMalloc(&dB, (b_elems > 0 ? b_elems : 1) * sizeof(half));
    cudaMalloc(&dC, c_elems * sizeof(float));
    cudaMemcpy(dA, A, a_elems * sizeof(half), cudaMemcpyHostToDevice);
    cudaMemcpy(dB, B, b_elems * sizeof(half), cudaMemcpyHostToDevice);

    const dim3 grid((N + BN - 1) / BN, (M + BM - 1) / BM);
    gemm_fp16_wmma_kernel<<<grid, THREADS>>>(dA, dB, dC, M, N, K);

    cudaMemcpy(C, dC, c_elems * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dA);
    cudaFree(dB);
    cudaFree(dC);
}
