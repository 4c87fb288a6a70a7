#include <cuda_runtime.h>

// Batched SGEMM C[b] = A[b] @ B[b], A[batch,M,K], B[batch,K,N], C[batch,M,N]. Classic 16x16 shared-memory
// tiling, one output per thread, batch on grid.z. Tiles past the matrix edges are zero-filled.
#define TS 16
#define A_AT(b, r, c) A[((size_t)(b) * M + (r)) * K + (c)]
#define B_AT(b, r, c) B[((size_t)(b) * K + (r)) * N + (c)]
#define C_AT(b, r, c) C[((size_t)(b) * M + (r)) * N + (c)]

__global__ void bmm_tiled_kernel(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C,
                                 int M, int N, int K)
{
    __shared__ float tileA[TS][TS];
    __shared__ float tileB[TS][TS + 1];

    const int b = blockIdx.z;
    const int row = blockIdx.y * TS + threadIdx.y;
    const int col = blockIdx.x * TS + threadIdx.x;
    float acc = 0.0f;

    for (int t = 0; t < (K + TS - 1) / TS; ++t) {
        const int ka = t * TS + threadIdx.x;
        const int kb = t * TS + threadIdx.y;
        tileA[threadIdx.y][threadIdx.x] = (row < M && ka < K) ? A_AT(b, row, ka) : 0.0f;
        tileB[threadIdx.y][threadIdx.x] = (kb < K && col < N) ? B_AT(b, kb, col) : 0.0f;
        __syncthreads();
#pragma unroll
        for (int k = 0; k < TS; ++k)
            acc += tileA[threadIdx.y][k] * tileB[k][threadIdx.x];
        __syncthreads();
    }

    if (row < M && col < N)
        C_AT(b, row, col) = acc;
}

extern "C" void bmm(const float* A, const float* B, float* C, int batch, int M, int N, int K)
{
    if (batch <= 0 || M <= 0 || N <= 0) return;
    const size_t na = (size_t)batch * M * K, nb = (size_t)batch * K * N, nc = (size_t)batch * M * N;
    float *dA, *dB, *dC;
    cudaMalloc(&dA, (na ? na : 1) * sizeof(float));
    cudaMalloc(&dB, (nb ? nb : 1) * sizeof(float));
    cudaMalloc(&dC, nc * sizeof(float));
    cudaMemcpy(dA, A, na * sizeof(float), cudaMemcpyHostToDevice);
    cudaMemcpy(dB, B, nb * sizeof(float), cudaMemcpyHostToDevice);

    dim3 threads(TS, TS);
    dim3 blocks((N + TS - 1) / TS, (M + TS - 1) / TS, batch);
    bmm_tiled_kernel<<<blocks, threads>>>(dA, dB, dC, M, N, K);

    cudaMemcpy(C, dC, nc * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dA);
    cudaFree(dB);
    cudaFree(dC);
}
