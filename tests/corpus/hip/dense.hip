// y[M,N] = x[M,K] @ W[N,K]^T + bias[N]  (a fully connected layer, PyTorch weight layout).
// Both operands are K-contiguous, so both LDS tiles are [row][k] and filled with coalesced loads.
// 32x8 work-items; each computes four rows of one output column; bias added in the epilogue.
#include <hip/hip_runtime.h>

constexpr int TILE = 32;
constexpr int ROWS_PER_THREAD = 4;
constexpr int BLOCK_Y = TILE / ROWS_PER_THREAD;

__global__ void __launch_bounds__(TILE * BLOCK_Y)
dense_kernel(const float* __restrict__ x, const float* __restrict__ W, const float* __restrict__ bias,
             float* __restrict__ y, int M, int N, int K) {
    __shared__ float xs[TILE][TILE + 1];
    __shared__ float ws[TILE][TILE + 1];  // ws[n][k]: lanes read down a column, +1 pad keeps it conflict-free

    const int tx = threadIdx.x;
    const int ty = threadIdx.y;
    const int m0 = blockIdx.y * TILE;
    const int n0 = blockIdx.x * TILE;

    float acc[ROWS_PER_THREAD] = {0.0f, 0.0f, 0.0f, 0.0f};

    for (int k0 = 0; k0 < K; k0 += TILE) {
        const int k = k0 + tx;
#pragma unroll
        for (int i = 0; i < ROWS_PER_THREAD; ++i) {
            const int r = ty + i * BLOCK_Y;
            xs[r][tx] = (m0 + r < M && k < K) ? x[static_cast<size_t>(m0 + r) * K + k] : 0.0f;
            ws[r][tx] = (n0 + r < N && k < K) ? W[static_cast<size_t>(n0 + r) * K + k] : 0.0f;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < TILE; ++kk) {
            const float w = ws[tx][kk];
#pragma unroll
            for (int i = 0; i < ROWS_PER_THREAD; ++i) acc[i] += xs[ty + i * BLOCK_Y][kk] * w;
        }
        __syncthreads();
    }

    const int n = n0 + tx;
    if (n >= N) return;
    const float b = bias[n];
#pragma unroll
    for (int i = 0; i < ROWS_PER_THREAD; ++i) {
        const int m = m0 + ty + i * BLOCK_Y;
        if (m < M) y[static_cast<size_t>(m) * N + n] = acc[i] + b;
    }
}

extern "C" void dense(const float* x, const float* W, const float* bias, float* y, int M, int N, int K) {
    float *d_x, *d_w, *d_b, *d_y;
    hipMalloc(&d_x, sizeof(float) * static_cast<size_t>(M) * K);
    hipMalloc(&d_w, sizeof(float) * static_cast<size_t>(N) * K);
    hipMalloc(&d_b, sizeof(float) * N);
    hipMalloc(&d_y, sizeof(float) * static_cast<size_t>(M) * N);
    hipMemcpy(d_x, x, sizeof(float) * static_cast<size_t>(M) * K, hipMemcpyHostToDevice);
    hipMemcpy(d_w, W, sizeof(float) * static_cast<size_t>(N) * K, hipMemcpyHostToDevice);
    hipMemcpy(d_b, bias, sizeof(float) * N, hipMemcpyHostToDevice);

    const dim3 block(TILE, BLOCK_Y);
    const dim3 grid((N + TILE - 1) / TILE, (M + TILE - 1) / TILE);
    hipLaunchKernelGGL(dense_kernel, grid, block, 0, 0, d_x, d_w, d_b, d_y, M, N, K);

    hipMemcpy(y, d_y, sizeof(float) * static_cast<size_t>(M) * N, hipMemcpyDeviceToHost);
    hipFree(d_x);
    hipFree(d_w);
    hipFree(d_b);
    hipFree(d_y);
}
