#include <cuda_runtime.h>
#include <cfloat>

// Row minimum as a two-pass reduction, so long rows still fill the GPU: pass 1 splits every row into
// chunks (grid.y) and writes one partial minimum per (row, chunk); pass 2 reduces each row's partials.
#define BLOCK_THREADS 256
#define CHUNK_ELEMS 4096  // elements of a row handled by one block in pass 1

__device__ __forceinline__ float warp_reduce_min(float v)
{
    for (int off = 16; off > 0; off >>= 1)
        v = fminf(v, __shfl_xor_sync(0xffffffffu, v, off));
    return v;
}

// Every thread returns the block minimum.
__device__ float block_reduce_min(float v)
{
    __shared__ float per_warp[BLOCK_THREADS / 32];
    __shared__ float total;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = warp_reduce_min(v);
    if (lane == 0) per_warp[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < BLOCK_THREADS / 32 ? per_warp[lane] : FLT_MAX;
        v = warp_reduce_min(v);
        if (lane == 0) total = v;
    }
    __syncthreads();
    return total;
}

__global__ void row_min_partial_kernel(const float* __restrict__ x, float* __restrict__ partial, int cols,
                                       int chunks)
{
    const int row = blockIdx.x, chunk = blockIdx.y;
    const int begin = chunk * CHUNK_ELEMS;
    const int end = begin + CHUNK_ELEMS < cols ? begin + CHUNK_ELEMS : cols;
    const float* __restrict__ src = x + (size_t)row * cols;
    float m = FLT_MAX;
    for (int c = begin + threadIdx.x; c < end; c += BLOCK_THREADS)
        m = fminf(m, src[c]);
    m = block_reduce_min(m);
    if (threadIdx.x == 0)
        partial[(size_t)row * chunks + chunk] = m;
}

__global__ void row_min_final_kernel(const float* __restrict__ partial, float* __restrict__ y, int chunks)
{
    const float* __restrict__ src = partial + (size_t)blockIdx.x * chunks;
    float m = FLT_MAX;
    for (int i = threadIdx.x; i < chunks; i += BLOCK_THREADS)
        m = fminf(m, src[i]);
    m = block_reduce_min(m);
    if (threadIdx.x == 0)
        y[blockIdx.x] = m;
}

extern "C" void reduce_min(const float* x, float* y, int rows, int cols)
{
    if (rows <= 0 || cols <= 0) return;
    const int chunks = (cols + CHUNK_ELEMS - 1) / CHUNK_ELEMS;
    float *d_x, *d_partial, *d_y;
    cudaMalloc(&d_x, sizeof(float) * (size_t)rows * cols);
    cudaMalloc(&d_partial, sizeof(float) * (size_t)rows * chunks);
    cudaMalloc(&d_y, sizeof(float) * rows);
    cudaMemcpy(d_x, x, sizeof(float) * (size_t)rows * cols, cudaMemcpyHostToDevice);

    row_min_partial_kernel<<<dim3(rows, chunks), BLOCK_THREADS>>>(d_x, d_partial, cols, chunks);
    row_min_final_kernel<<<rows, BLOCK_THREADS>>>(d_partial, d_y, chunks);

    cudaMemcpy(y, d_y, sizeof(float) * rows, cudaMemcpyDeviceToHost);
    cudaFree(d_x);
    cudaFree(d_partial);
    cudaFree(d_y);
}
