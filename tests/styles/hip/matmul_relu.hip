#include <hip/hip_runtime.h>

// C = relu(A @ B + bias) with 16x16 shared tiles; bias is per output column.
#define TS 16

__device__ inline float relu_f(float v) { return v > 0.0f ? v : 0.0f; }

__global__ void mm_bias_relu(const float* A, const float* B, const float* bias, float* C, int M, int N, int K) {
    __shared__ float As[TS][TS];
    __shared__ float Bs[TS][TS];
    int row = blockIdx.y * TS + threadIdx.y;
    int col = blockIdx.x * TS + threadIdx.x;
    float acc = 0.0f;
    for (int k0 = 0; k0 < K; k0 += TS) {
        int ak = k0 + threadIdx.x, bk = k0 + threadIdx.y;
        As[threadIdx.y][threadIdx.x] = (row < M && ak < K) ? A[row * K + ak] : 0.0f;
        Bs[threadIdx.y][threadIdx.x] = (bk < K && col < N) ? B[bk * N + col] : 0.0f;
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < TS; ++kk) acc += As[threadIdx.y][kk] * Bs[kk][threadIdx.x];
        __syncthreads();
    }
    if (row < M && col < N) C[row * N + col] = relu_f(acc + bias[col]);
}

extern "C" void matmul_relu(const float* A, const float* B, const float* bias, float* C, int M, int N, int K) {
    float *dA, *dB, *dbias, *dC;
    hipMalloc(&dA, sizeof(float) * M * K);
    hipMalloc(&dB, sizeof(float) * K * N);
    hipMalloc(&dbias, sizeof(float) * N);
    hipMalloc(&dC, sizeof(float) * M * N);
    hipMemcpy(dA, A, sizeof(float) * M * K, hipMemcpyHostToDevice);
    hipMemcpy(dB, B, sizeof(float) * K * N, hipMemcpyHostToDevice);
    hipMemcpy(dbias, bias, sizeof(float) * N, hipMemcpyHostToDevice);
    dim3 threads(TS, TS);
    dim3 grid((N + TS - 1) / TS, (M + TS - 1) / TS);
    mm_bias_relu<<<grid, threads>>>(dA, dB, dbias, dC, M, N, K);
    hipMemcpy(C, dC, sizeof(float) * M * N, hipMemcpyDeviceToHost);
    hipFree(dA); hipFree(dB); hipFree(dbias); hipFree(dC);
}
