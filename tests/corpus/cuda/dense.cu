#include <cuda_runtime.h>

// Fully connected layer y[M,N] = x[M,K] @ W[N,K]^T + bias[N]. Both operands are K-contiguous, so both
// 32x32 tiles are loaded along K with coalesced reads; W's tile is stored transposed into a padded
// (33-column) array so the transposing store has no bank conflicts. Block 32x8: 4 output rows per thread.
constexpr int kTile = 32;
constexpr int kRowsPerThread = 4;
constexpr int kBlockRows = kTile / kRowsPerThread;  // 8

__global__ void dense_kernel(const float* __restrict__ x, const float* __restrict__ W,
                             const float* __restrict__ bias, float* __restrict__ y, int M, int N, int K) {
    __shared__ float xs[kTile][kTile + 1];  // xs[m][k]
    __shared__ float wt[kTile][kTile + 1];  // wt[k][n] = W[n][k]

    const int tx = threadIdx.x;
    const int ty = threadIdx.y;
    const int m0 = blockIdx.y * kTile;
    const int n0 = blockIdx.x * kTile;
    const int n = n0 + tx;

    float acc[kRowsPerThread];
#pragma unroll
    for (int i = 0; i < kRowsPerThread; ++i) acc[i] = 0.0f;

    for (int k0 = 0; k0 < K; k0 += kTile) {
        const int k = k0 + tx;
#pragma unroll
        for (int i = 0; i < kRowsPerThread; ++i) {
            const int r = ty + i * kBlockRows;
            const int m = m0 + r;
            const int wn = n0 + r;
            xs[r][tx] = (m < M && k < K) ? x[(size_t)m * K + k] : 0.0f;
            wt[tx][r] = (wn < N && k < K) ? W[(size_t)wn * K + k] : 0.0f;
        }
        __syncthreads();
#pragma unroll 8
        for (int kk = 0; kk < kTile; ++kk) {
            const float w = wt[kk][tx];
#pragma unroll
            for (int i = 0; i < kRowsPerThread; ++i) acc[i] += xs[ty + i * kBlockRows][kk] * w;
        }
        __syncthreads();
    }

    if (n >= N) return;
    const float b = bias[n];
#pragma unroll
    for (int i = 0; i < kRowsPerThread; ++i) {
        const int m = m0 + ty + i * kBlockRows;
        if (m < M) y[(size_t)m * N + n] = acc[i] + b;
    }
}

extern "C" void dense(const float* x, const float* W, const float* bias, float* y, int M, int N, int K) {
    if (M <= 0 || N <= 0) return;
    const size_t x_elems = (size_t)M * K, w_elems = (size_t)N * K, y_elems = (size_t)M * N;
    float *d_x, *d_W, *d_bias, *d_y;
    cudaMalloc(&d_x, (x_elems ? x_elems : 1) * sizeof(float));
    cudaMalloc(&d_W, (w_elems ? w_elems : 1) * sizeof(float));
    cudaMalloc(&d_bias, N * sizeof(float));
    cudaMalloc(&d_y, y_elems * sizeof(float));
    cudaMemcpy(d_x, x, x_elems * sizeof(float), cudaMemcpyHostToDevice);
    cudaMemcpy(d_W, W, w_elems * sizeof(float), cudaMemcpyHostToDevice);
    cudaMemcpy(d_bias, bias, N * sizeof(float), cudaMemcpyHostToDevice);

    const dim3 block(kTile, kBlockRows);
    const dim3 grid((N + kTile - 1) / kTile, (M + kTile - 1) / kTile);
    dense_kernel<<<grid, block>>>(d_x, d_W, d_bias, d_y, M, N, K);

    cudaMemcpy(y, d_y, y_elems * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(d_x);
    cudaFree(d_W);
    cudaFree(d_bias);
    cudaFree(d_y);
}
