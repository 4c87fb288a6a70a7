#include <cuda_runtime.h>

// Count of positive entries per row: one warp per row, ballot + popc per 32-column chunk.
__global__ void count_pos(const float* __restrict__ x, int* __restrict__ counts, int rows, int cols) {
    int row = blockIdx.x;
    int lane = threadIdx.x;
    int total = 0;
    for (int base = 0; base < cols; base += 32) {
        int c = base + lane;
        bool pos = c < cols && x[(size_t)row * cols + c] > 0.0f;
        unsigned mask = __ballot_sync(0xffffffffu, pos);
        total += __popc(mask);
    }
    __syncwarp();
    if (lane == 0) counts[row] = total;
}

extern "C" void positives_ballot(const float* x, int* counts, int rows, int cols) {
    float* dx; int* dc;
    cudaMalloc(&dx, sizeof(float) * rows * cols);
    cudaMalloc(&dc, sizeof(int) * rows);
    cudaMemcpy(dx, x, sizeof(float) * rows * cols, cudaMemcpyHostToDevice);
    count_pos<<<rows, 32>>>(dx, dc, rows, cols);
    cudaMemcpy(counts, dc, sizeof(int) * rows, cudaMemcpyDeviceToHost);
    cudaFree(dx); cudaFree(dc);
}
