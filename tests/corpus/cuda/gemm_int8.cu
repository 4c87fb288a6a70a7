#include <cuda_runtime.h>
#include <stdint.h>

// Integer GEMM: C[M,N] (int32) = A[M,K] (uint8) @ B[K,N] (int8). 32x32 output tiles, block of 32x8
// threads; each thread accumulates 4 rows (ty, ty+8, ty+16, ty+24) of one column. The 8-bit slabs are
// staged in shared memory (zero-filled past the edges) and widened to int32 in the inner product.
#define TILE 32
#define ROWS_PER_PASS 8

__global__ void gemm_u8s8_kernel(const uint8_t* __restrict__ A, const int8_t* __restrict__ B,
                                 int32_t* __restrict__ C, int M, int N, int K)
{
    __shared__ uint8_t As[TILE][TILE + 4];
    __shared__ int8_t Bs[TILE][TILE + 4];

    const int tx = threadIdx.x, ty = threadIdx.y;
    const int row0 = blockIdx.y * TILE, col = blockIdx.x * TILE + tx;
    int32_t acc[TILE / ROWS_PER_PASS] = {0, 0, 0, 0};

    for (int k0 = 0; k0 < K; k0 += TILE) {
#pragma unroll
        for (int p = 0; p < TILE / ROWS_PER_PASS; ++p) {
            const int r = ty + p * ROWS_PER_PASS;
            const int ar = row0 + r, ak = k0 + tx;
            As[r][tx] = (ar < M && ak < K) ? A[(size_t)ar * K + ak] : (uint8_t)0;
            const int bk = k0 + r;
            Bs[r][tx] = (bk < K && col < N) ? B[(size_t)bk * N + col] : (int8_t)0;
        }
        __syncthreads();

#pragma unroll 8
        for (int k = 0; k < TILE; ++k) {
            const int32_t b = Bs[k][tx];
#pragma unroll
            for (int p = 0; p < TILE / ROWS_PER_PASS; ++p)
                acc[p] += (int32_t)As[ty + p * ROWS_PER_PASS][k] * b;
        }
        __syncthreads();
    }

    if (col >= N) return;
#pragma unroll
    for (int p = 0; p < TILE / ROWS_PER_PASS; ++p) {
        const int r = row0 + ty + p * ROWS_PER_PASS;
        if (r < M) C[(size_t)r * N + col] = acc[p];
    }
}

extern "C" void gemm_int8(const uint8_t* A, const int8_t* B, int32_t* C, int M, int N, int K)
{
    if (M <= 0 || N <= 0) return;
    uint8_t* dA;
    int8_t* dB;
    int32_t* dC;
    const size_t a_bytes = (size_t)M * K, b_bytes = (size_t)K * N, c_bytes = (size_t)M * N * sizeof(int32_t);
    cudaMalloc((void**)&dA, a_bytes ? a_bytes : 1);
    cudaMalloc((void**)&dB, b_bytes ? b_bytes : 1);
    cudaMalloc((void**)&dC, c_bytes);
    cudaMemcpy(dA, A, a_bytes, cudaMemcpyHostToDevice);
    cudaMemcpy(dB, B, b_bytes, cudaMemcpyHostToDevice);

    dim3 block(TILE, ROWS_PER_PASS);
    dim3 grid((N + TILE - 1) / TILE, (M + TILE - 1) / TILE);
    gemm_u8s8_kernel<<<grid, block>>>(dA, dB, dC, M, N, K);

    cudaMemcpy(C, dC, c_bytes, cudaMemcpyDeviceToHost);
    cudaFree(dA);
    cudaFree(dB);
    cudaFree(dC);
}
