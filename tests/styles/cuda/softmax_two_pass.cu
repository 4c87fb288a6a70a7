// Row softmax in two kernels: a templated block per row finds max and sum with warp tiles of cooperative groups,
// then a flat elementwise kernel normalizes. The statistics live in a device scratch buffer.
#include <cooperative_groups.h>
#include <cuda_runtime.h>
#include <math.h>

namespace cg = cooperative_groups;

template <int BLOCK>
__global__ void row_stats(const float* x, float* stats, int cols) {
    __shared__ float per_warp[BLOCK / 32];
    cg::thread_block block = cg::this_thread_block();
    cg::thread_block_tile<32> warp = cg::tiled_partition<32>(block);
    const float* row = x + (size_t)blockIdx.x * cols;
    float best = -INFINITY;
    for (int c = threadIdx.x; c < cols; c += BLOCK) best = fmaxf(best, row[c]);
    for (int offset = 16; offset > 0; offset /= 2) best = fmaxf(best, warp.shfl_xor(best, offset));
    if (warp.thread_rank() == 0) per_warp[threadIdx.x / 32] = best;
    block.sync();
    best = per_warp[0];
    for (int w = 1; w < BLOCK / 32; ++w) best = fmaxf(best, per_warp[w]);
    block.sync();
    float total = 0.0f;
    for (int c = threadIdx.x; c < cols; c += BLOCK) total += expf(row[c] - best);
    for (int offset = 16; offset > 0; offset /= 2) total += warp.shfl_xor(total, offset);
    if (warp.thread_rank() == 0) per_warp[threadIdx.x / 32] = total;
    block.sync();
    if (threadIdx.x == 0) {
        float sum = 0.0f;
        for (int w = 0; w < BLOCK / 32; ++w) sum += per_warp[w];
        stats[2 * blockIdx.x] = best;
        stats[2 * blockIdx.x + 1] = sum;
    }
}

__global__ void normalize(const float* x, const float* stats, float* y, int total, int cols) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const int r = i / cols;
    y[i] = expf(x[i] - stats[2 * r]) / stats[2 * r + 1];
}

extern "C" void softmax_two_pass(const float* x, float* y, int rows, int cols) {
    const int total = rows * cols;
    float *dx, *dy, *stats;
    cudaMalloc(&dx, total * sizeof(float));
    cudaMalloc(&dy, total * sizeof(float));
    cudaMalloc(&stats, 2 * rows * sizeof(float));
    cudaMemcpy(dx, x, total * sizeof(float), cudaMemcpyHostToDevice);
    row_stats<128><<<rows, 128>>>(dx, stats, cols);
    normalize<<<(total + 255) / 256, 256>>>(dx, stats, dy, total, cols);
    cudaMemcpy(y, dy, total * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(dy);
    cudaFree(stats);
}
