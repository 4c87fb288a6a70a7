#include <cuda_runtime.h>
#include <math.h>

// One warp per row: every lane accumulates a strided partial sum of squares, the warp folds it with
// shuffles, lane 0 writes sqrt(sum + eps).
#define WARP 32
#define ROWS_PER_BLOCK 4

__device__ __forceinline__ float warp_sum(float v) {
    for (int off = WARP / 2; off > 0; off /= 2)
        v += __shfl_down_sync(0xffffffffu, v, off);
    return v;
}

__global__ void row_l2_kernel(const float* __restrict__ x, float* __restrict__ norms, int rows, int cols, float eps) {
    int lane = threadIdx.x % WARP;
    int row = blockIdx.x * ROWS_PER_BLOCK + threadIdx.x / WARP;
    if (row >= rows) return;
    const float* r = x + (size_t)row * cols;
    float acc = 0.f;
    for (int c = lane; c < cols; c += WARP) acc += r[c] * r[c];
    acc = warp_sum(acc);
    if (lane == 0) norms[row] = sqrtf(acc + eps);
}

extern "C" void rownorm_shfl(const float* x, float* norms, int rows, int cols, float eps) {
    float *dx, *dn;
    size_t xb = (size_t)rows * cols * sizeof(float);
    cudaMalloc(&dx, xb);
    cudaMalloc(&dn, rows * sizeof(float));
    cudaMemcpy(dx, x, xb, cudaMemcpyHostToDevice);
    int blocks = (rows + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK;
    row_l2_kernel<<<blocks, WARP * ROWS_PER_BLOCK>>>(dx, dn, rows, cols, eps);
    cudaMemcpy(norms, dn, rows * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(dn);
}
