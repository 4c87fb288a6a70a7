#include <cuda_runtime.h>
#include <stdint.h>

// Batched integer GEMM C[b] (int32) = A[b] (uint8) @ B[b] (int8). Square TILE x TILE shared tiles widened
// to int when staged (the multiply-accumulate then needs no per-use conversion), batch index on grid.z.
template <int TILE>
__global__ void bmm_u8s8_kernel(const uint8_t* __restrict__ A, const int8_t* __restrict__ B,
                                int32_t* __restrict__ C, int M, int N, int K) {
    __shared__ int sA[TILE][TILE];
    __shared__ int sB[TILE][TILE];

    const uint8_t* __restrict__ a = A + (size_t)blockIdx.z * M * K;
    const int8_t* __restrict__ b = B + (size_t)blockIdx.z * K * N;
    int32_t* __restrict__ c = C + (size_t)blockIdx.z * M * N;

    const int tx = threadIdx.x, ty = threadIdx.y;
    const int r = blockIdx.y * TILE + ty;
    const int col = blockIdx.x * TILE + tx;
    int acc = 0;

    for (int k0 = 0; k0 < K; k0 += TILE) {
        sA[ty][tx] = (r < M && k0 + tx < K) ? (int)a[(size_t)r * K + k0 + tx] : 0;
        sB[ty][tx] = (k0 + ty < K && col < N) ? (int)b[(size_t)(k0 + ty) * N + col] : 0;
        __syncthreads();
#pragma unroll
        for (int k = 0; k < TILE; ++k) acc += sA[ty][k] * sB[k][tx];
        __syncthreads();
    }
    if (r < M && col < N) c[(size_t)r * N + col] = acc;
}

extern "C" void bmm_int8(const uint8_t* A, const int8_t* B, int32_t* C, int batch, int M, int N, int K) {
    if (batch <= 0 || M <= 0 || N <= 0) return;
    constexpr int kTile = 16;
    const size_t a_bytes = (size_t)batch * M * K;
    const size_t b_bytes = (size_t)batch * K * N;
    const size_t c_bytes = (size_t)batch * M * N * sizeof(int32_t);
    uint8_t* dA;
    int8_t* dB;
    int32_t* dC;
    cudaMalloc(&dA, a_bytes ? a_bytes : 1);
    cudaMalloc(&dB, b_bytes ? b_bytes : 1);
    cudaMalloc(&dC, c_bytes);
    cudaMemcpy(dA, A, a_bytes, cudaMemcpyHostToDevice);
    cudaMemcpy(dB, B, b_bytes, cudaMemcpyHostToDevice);

    const dim3 block(kTile, kTile);
    const dim3 grid((N + kTile - 1) / kTile, (M + kTile - 1) / kTile, batch);
    bmm_u8s8_kernel<kTile><<<grid, block>>>(dA, dB, dC, M, N, K);

    cudaMemcpy(C, dC, c_bytes, cudaMemcpyDeviceToHost);
    cudaFree(dA);
    cudaFree(dB);
    cudaFree(dC);
}
