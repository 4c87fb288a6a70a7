#include <cuda_runtime.h>

// Row sum: one block per row. Each thread accumulates a strided slice (coalesced across the block), then
// the block reduces with warp shuffles followed by a single warp over the per-warp partials.
__device__ __forceinline__ float warp_reduce_sum(float v) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) {
        v += __shfl_down_sync(0xffffffffu, v, offset);
    }
    return v;
}

template <int BLOCK>
__device__ __forceinline__ float block_reduce_sum(float v) {
    static_assert(BLOCK % 32 == 0 && BLOCK <= 1024, "block must be whole warps");
    __shared__ float warp_partials[BLOCK / 32];
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    v = warp_reduce_sum(v);
    if (lane == 0) warp_partials[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < BLOCK / 32 ? warp_partials[lane] : 0.0f;
        v = warp_reduce_sum(v);
    }
    return v;  // valid in thread 0
}

template <int BLOCK>
__global__ void __launch_bounds__(BLOCK) row_sum_kernel(const float* __restrict__ x, float* __restrict__ y,
                                                        int cols) {
    const float* row = x + (size_t)blockIdx.x * cols;
    float acc = 0.0f;
    for (int c = threadIdx.x; c < cols; c += BLOCK) {
        acc += row[c];
    }
    acc = block_reduce_sum<BLOCK>(acc);
    if (threadIdx.x == 0) {
        y[blockIdx.x] = acc;
    }
}

extern "C" void reduce_sum(const float* x, float* y, int rows, int cols) {
    if (rows <= 0) return;
    const size_t in_bytes = (size_t)rows * cols * sizeof(float);
    const size_t out_bytes = (size_t)rows * sizeof(float);
    float *d_x, *d_y;
    cudaMalloc(&d_x, in_bytes > 0 ? in_bytes : sizeof(float));
    cudaMalloc(&d_y, out_bytes);
    cudaMemcpy(d_x, x, in_bytes, cudaMemcpyHostToDevice);

    if (cols <= 128) {
        row_sum_kernel<128><<<rows, 128>>>(d_x, d_y, cols);
    } else {
        row_sum_kernel<256><<<rows, 256>>>(d_x, d_y, cols);
    }

    cudaMemcpy(y, d_y, out_bytes, cudaMemcpyDeviceToHost);
    cudaFree(d_x);
    cudaFree(d_y);
}
