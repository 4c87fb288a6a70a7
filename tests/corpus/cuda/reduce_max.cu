#include <cuda_runtime.h>
#include <float.h>

// Row maximum, one block per row. Threads first reduce a strided slice in registers, then a shared-memory
// tree halves the block down to one warp, and the last warp finishes with shuffles.
constexpr int kThreads = 256;

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int delta = 16; delta >= 1; delta /= 2) {
        v = fmaxf(v, __shfl_down_sync(0xffffffff, v, delta));
    }
    return v;
}

__global__ void row_max_kernel(const float* __restrict__ x, float* __restrict__ y, const int cols) {
    __shared__ float smem[kThreads];
    const int tid = threadIdx.x;
    const float* __restrict__ row = x + static_cast<size_t>(blockIdx.x) * cols;

    float m = -FLT_MAX;
    for (int c = tid; c < cols; c += kThreads) {
        m = fmaxf(m, row[c]);
    }
    smem[tid] = m;
    __syncthreads();

#pragma unroll
    for (int half = kThreads / 2; half >= 32; half >>= 1) {
        if (tid < half) {
            smem[tid] = fmaxf(smem[tid], smem[tid + half]);
        }
        __syncthreads();
    }

    if (tid < 32) {
        m = warp_max(smem[tid]);
        if (tid == 0) {
            y[blockIdx.x] = m;
        }
    }
}

extern "C" void reduce_max(const float* x, float* y, int rows, int cols) {
    if (rows <= 0 || cols <= 0) return;
    const size_t in_bytes = static_cast<size_t>(rows) * cols * sizeof(float);
    float* d_x = nullptr;
    float* d_y = nullptr;
    cudaMalloc(&d_x, in_bytes);
    cudaMalloc(&d_y, rows * sizeof(float));
    cudaMemcpy(d_x, x, in_bytes, cudaMemcpyHostToDevice);
    row_max_kernel<<<rows, kThreads>>>(d_x, d_y, cols);
    cudaMemcpy(y, d_y, rows * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(d_x);
    cudaFree(d_y);
}
