// Row softmax, one block per row: a block-wide max and sum through warp shuffles and shared memory.
#include <cuda_runtime.h>

__device__ __forceinline__ float warp_reduce(float v, bool take_max) {
    for (int offset = warpSize / 2; offset > 0; offset >>= 1) {
        float other = __shfl_xor_sync(0xffffffffu, v, offset);
        v = take_max ? fmaxf(v, other) : v + other;
    }
    return v;
}

__device__ float block_reduce(float v, bool take_max, float* scratch) {
    const int lane = threadIdx.x % warpSize, warp = threadIdx.x / warpSize;
    v = warp_reduce(v, take_max);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    const int warps = (blockDim.x + warpSize - 1) / warpSize;
    v = threadIdx.x < warps ? scratch[threadIdx.x] : (take_max ? -INFINITY : 0.0f);
    if (warp == 0) v = warp_reduce(v, take_max);
    if (threadIdx.x == 0) scratch[0] = v;
    __syncthreads();
    v = scratch[0];
    __syncthreads();
    return v;
}

__global__ void softmax_rows(const float* __restrict__ x, float* __restrict__ y, int cols) {
    __shared__ float scratch[32];
    const float* row = x + (size_t)blockIdx.x * cols;
    float m = -INFINITY;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) m = fmaxf(m, row[c]);
    m = block_reduce(m, true, scratch);
    float s = 0.0f;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) s += __expf(row[c] - m);
    s = block_reduce(s, false, scratch);
    for (int c = threadIdx.x; c < cols; c += blockDim.x) y[(size_t)blockIdx.x * cols + c] = __expf(row[c] - m) / s;
}

extern "C" void softmax(const float* x, float* y, int rows, int cols) {
    float *dx, *dy;
    const size_t bytes = (size_t)rows * cols * sizeof(float);
    cudaMalloc(&dx, bytes);
    cudaMalloc(&dy, bytes);
    cudaMemcpy(dx, x, bytes, cudaMemcpyHostToDevice);
    softmax_rows<<<rows, 256>>>(dx, dy, cols);
    cudaMemcpy(y, dy, bytes, cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(dy);
}
