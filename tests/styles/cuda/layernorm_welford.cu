// Layer norm of each row of x[rows, cols]: one warp per row, per-lane Welford statistics merged by shuffles.
#include <cuda_runtime.h>

#define WARP 32
#define ROWS_PER_BLOCK 4
#define FULL_MASK 0xffffffffu

// Chan's combination of two (mean, M2, count) partials into the first one.
__device__ void welford_merge(float& mean, float& m2, float& count, float other_mean, float other_m2,
                              float other_count) {
    const float total = count + other_count;
    if (total == 0.0f) return;
    const float delta = other_mean - mean;
    const float weight = other_count / total;
    mean += delta * weight;
    m2 += other_m2 + delta * delta * count * weight;
    count = total;
}

__global__ void layernorm_kernel(const float* x, const float* gamma, const float* beta, float* y, int rows,
                                 int cols, float eps) {
    const int lane = threadIdx.x;
    const int row = blockIdx.x * ROWS_PER_BLOCK + threadIdx.y;
    if (row >= rows) return;  // whole warps leave together
    const float* in = x + (size_t)row * cols;
    float mean = 0.0f, m2 = 0.0f, count = 0.0f;
    for (int c = lane; c < cols; c += WARP) {
        count += 1.0f;
        const float delta = in[c] - mean;
        mean += delta / count;
        m2 += delta * (in[c] - mean);
    }
    for (int offset = WARP / 2; offset > 0; offset >>= 1) {
        const float other_mean = __shfl_down_sync(FULL_MASK, mean, offset);
        const float other_m2 = __shfl_down_sync(FULL_MASK, m2, offset);
        const float other_count = __shfl_down_sync(FULL_MASK, count, offset);
        welford_merge(mean, m2, count, other_mean, other_m2, other_count);
    }
    mean = __shfl_sync(FULL_MASK, mean, 0);
    const float inv_std = rsqrtf(__shfl_sync(FULL_MASK, m2, 0) / cols + eps);
    for (int c = lane; c < cols; c += WARP) y[(size_t)row * cols + c] = (in[c] - mean) * inv_std * gamma[c] + beta[c];
}

extern "C" void layernorm_welford(const float* x, const float* gamma, const float* beta, float* y, int rows, int cols,
                                  float eps) {
    float *dx, *dg, *db, *dy;
    cudaMalloc(&dx, sizeof(float) * rows * cols);
    cudaMalloc(&dg, sizeof(float) * cols);
    cudaMalloc(&db, sizeof(float) * cols);
    cudaMalloc(&dy, sizeof(float) * rows * cols);
    cudaMemcpy(dx, x, sizeof(float) * rows * cols, cudaMemcpyHostToDevice);
    cudaMemcpy(dg, gamma, sizeof(float) * cols, cudaMemcpyHostToDevice);
    cudaMemcpy(db, beta, sizeof(float) * cols, cudaMemcpyHostToDevice);
    const dim3 block(WARP, ROWS_PER_BLOCK);
    layernorm_kernel<<<(rows + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK, block>>>(dx, dg, db, dy, rows, cols, eps);
    cudaMemcpy(y, dy, sizeof(float) * rows * cols, cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(dg);
    cudaFree(db);
    cudaFree(dy);
}
