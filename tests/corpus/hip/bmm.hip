// C[b] = A[b] @ B[b] for A[batch,M,K], B[batch,K,N]: classic 16x16 LDS tiling, batch index on grid z.
#include <hip/hip_runtime.h>

#define TILE 16

__global__ void bmm_tiled(const float* A, const float* B, float* C, int M, int N, int K) {
    __shared__ float a_tile[TILE][TILE];
    __shared__ float b_tile[TILE][TILE + 1];

    const int batch = blockIdx.z;
    const float* a = A + static_cast<size_t>(batch) * M * K;
    const float* b = B + static_cast<size_t>(batch) * K * N;
    float* c = C + static_cast<size_t>(batch) * M * N;

    const int row = blockIdx.y * TILE + threadIdx.y;
    const int col = blockIdx.x * TILE + threadIdx.x;
    float acc = 0.0f;

    for (int k0 = 0; k0 < K; k0 += TILE) {
        const int ak = k0 + threadIdx.x;
        const int bk = k0 + threadIdx.y;
        a_tile[threadIdx.y][threadIdx.x] = (row < M && ak < K) ? a[row * K + ak] : 0.0f;
        b_tile[threadIdx.y][threadIdx.x] = (bk < K && col < N) ? b[bk * N + col] : 0.0f;
        __syncthreads();
#pragma unroll
        for (int k = 0; k < TILE; ++k) acc += a_tile[threadIdx.y][k] * b_tile[k][threadIdx.x];
        __syncthreads();
    }
    if (row < M && col < N) c[row * N + col] = acc;
}

extern "C" void bmm(const float* A, const float* B, float* C, int batch, int M, int N, int K) {
    const size_t a_elems = static_cast<size_t>(batch) * M * K;
    const size_t b_elems = static_cast<size_t>(batch) * K * N;
    const size_t c_elems = static_cast<size_t>(batch) * M * N;
    float *dA, *dB, *dC;
    hipMalloc(&dA, a_elems * sizeof(float));
    hipMalloc(&dB, b_elems * sizeof(float));
    hipMalloc(&dC, c_elems * sizeof(float));
    hipMemcpy(dA, A, a_elems * sizeof(float), hipMemcpyHostToDevice);
    hipMemcpy(dB, B, b_elems * sizeof(float), hipMemcpyHostToDevice);

    dim3 threads(TILE, TILE);
    dim3 blocks((N + TILE - 1) / TILE, (M + TILE - 1) / TILE, batch);
    bmm_tiled<<<blocks, threads>>>(dA, dB, dC, M, N, K);

    hipMemcpy(C, dC, c_elems * sizeof(float), hipMemcpyDeviceToHost);
    hipFree(dA);
    hipFree(dB);
    hipFree(dC);
}
