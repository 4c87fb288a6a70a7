#include <cuda_runtime.h>
#include <cstdint>

// y[M] (int32) = A[M,K] (uint8) @ x[K] (int8). One block per row; each thread accumulates a strided
// slice in int32, then a classic shared-memory tree reduction combines the partial sums.
template <int BLOCK>
__global__ void gemv_u8s8_kernel(const uint8_t* __restrict__ A, const int8_t* __restrict__ x,
                                 int32_t* __restrict__ y, int K) {
    static_assert((BLOCK & (BLOCK - 1)) == 0, "tree reduction needs a power-of-two block");
    __shared__ int32_t partial[BLOCK];
    const uint8_t* __restrict__ row = A + (size_t)blockIdx.x * K;

    int32_t acc = 0;
    for (int k = threadIdx.x; k < K; k += BLOCK) {
        acc += static_cast<int32_t>(row[k]) * static_cast<int32_t>(x[k]);
    }
    partial[threadIdx.x] = acc;
    __syncthreads();

#pragma unroll
    for (int stride = BLOCK / 2; stride > 0; stride >>= 1) {
        if (threadIdx.x < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
        __syncthreads();
    }
    if (threadIdx.x == 0) y[blockIdx.x] = partial[0];
}

extern "C" void gemv_int8(const uint8_t* A, const int8_t* x, int32_t* y, int M, int K) {
    if (M <= 0) return;
    const size_t a_bytes = (size_t)M * K;
    uint8_t* d_A = nullptr;
    int8_t* d_x = nullptr;
    int32_t* d_y = nullptr;
    cudaMalloc(&d_A, a_bytes ? a_bytes : 1);
    cudaMalloc(&d_x, K > 0 ? (size_t)K : 1);
    cudaMalloc(&d_y, (size_t)M * sizeof(int32_t));
    cudaMemcpy(d_A, A, a_bytes, cudaMemcpyHostToDevice);
    cudaMemcpy(d_x, x, (size_t)K, cudaMemcpyHostToDevice);

    gemv_u8s8_kernel<128><<<M, 128>>>(d_A, d_x, d_y, K);

    cudaMemcpy(y, d_y, (size_t)M * sizeof(int32_t), cudaMemcpyDeviceToHost);
    cudaFree(d_A);
    cudaFree(d_x);
    cudaFree(d_y);
}
