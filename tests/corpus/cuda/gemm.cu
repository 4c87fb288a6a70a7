#include <cuda_runtime.h>

// SGEMM C[M,N] = A[M,K] @ B[K,N]. A 64x64 block tile is computed by 16x16 threads, each owning a 4x4
// register tile at stride 16 (rows ty+16i, cols tx+16j) so that shared-memory reads of B are
// conflict-free and A reads are broadcasts. K is walked in 16-wide slabs staged in shared memory;
// out-of-range elements are staged as zeros, so edge tiles need no special inner loop.
namespace {

constexpr int BM = 64;
constexpr int BN = 64;
constexpr int BK = 16;
constexpr int TX = 16;
constexpr int TY = 16;
constexpr int THREADS = TX * TY;
constexpr int RM = BM / TY;  // rows per thread
constexpr int RN = BN / TX;  // cols per thread

__global__ void __launch_bounds__(THREADS)
sgemm_tiled_kernel(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C,
                   int M, int N, int K) {
    __shared__ float As[BK][BM];  // A slab stored transposed: As[k][m]
    __shared__ float Bs[BK][BN];

    const int tx = threadIdx.x;
    const int ty = threadIdx.y;
    const int tid = ty * TX + tx;
    const int m0 = blockIdx.y * BM;
    const int n0 = blockIdx.x * BN;

    float acc[RM][RN];
#pragma unroll
    for (int i = 0; i < RM; ++i)
#pragma unroll
        for (int j = 0; j < RN; ++j) acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < K; k0 += BK) {
#pragma unroll
        for (int e = tid; e < BM * BK; e += THREADS) {
            const int r = e / BK;
            const int k = e % BK;
            const int gr = m0 + r;
            const int gk = k0 + k;
            As[k][r] = (gr < M && gk < K) ? A[(size_t)gr * K + gk] : 0.0f;
        }
#pragma unroll
        for (int e = tid; e < BK * BN; e += THREADS) {
            const int k = e / BN;
            const int c = e % BN;
            const int gk = k0 + k;
            const int gc = n0 + c;
            Bs[k][c] = (gk < K && gc < N) ? B[(size_t)gk * N + gc] : 0.0f;
        }
        __syncthreads();

#pragma unroll
        for (int k = 0; k < BK; ++k) {
            float a_frag[RM];
            float b_frag[RN];
#pragma unroll
            for (int i = 0; i < RM; ++i) a_frag[i] = As[k][ty + i * TY];
#pragma unroll
            for (int j = 0; j < RN; ++j) b_frag[j] = Bs[k][tx + j * TX];
#pragma unroll
            for (int i = 0; i < RM; ++i)
#pragma unroll
                for (int j = 0; j < RN; ++j) acc[i][j] += a_frag[i] * b_frag[j];
        }
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < RM; ++i) {
        const int r = m0 + ty + i * TY;
        if (r >= M) continue;
#pragma unroll
        for (int j = 0; j < RN; ++j) {
            const int c = n0 + tx + j * TX;
            if (c < N) C[(size_t)r * N + c] = acc[i][j];
        }
    }
}

}  // namespace

extern "C" void gemm(const float* A, const float* B, float* C, int M, int N, int K) {
    if (M <= 0 || N <= 0) return;
    const size_t bytes_a = (size_t)M * K * sizeof(float);
    const size_t bytes_b = (size_t)K * N * sizeof(float);
    const size_t bytes_c = (size_t)M * N * sizeof(float);
    float *dA, *dB, *dC;
    cudaMalloc(&dA, bytes_a > 0 ? bytes_a : sizeof(float));
    cudaMalloc(&dB, bytes_b > 0 ? bytes_b : sizeof(float));
    cudaMalloc(&dC, bytes_c);
    cudaMemcpy(dA, A, bytes_a, cudaMemcpyHostToDevice);
    cudaMemcpy(dB, B, bytes_b, cudaMemcpyHostToDevice);

    const dim3 block(TX, TY);
    const dim3 grid((N + BN - 1) / BN, (M + BM - 1) / BM);
    sgemm_tiled_kernel<<<grid, block>>>(dA, dB, dC, M, N, K);

    cudaMemcpy(C, dC, bytes_c, cudaMemcpyDeviceToHost);
    cudaFree(dA);
    cudaFree(dB);
    cudaFree(dC);
}
