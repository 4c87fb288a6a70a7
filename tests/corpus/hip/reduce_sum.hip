// Row sums of x[rows, cols]: one wavefront (64 lanes) per row, four rows per work-group.
// Lanes stride the row, then a __shfl_down tree leaves the total in lane 0.
#include <hip/hip_runtime.h>

#define ROWS_PER_BLOCK 4

__global__ void row_sum_kernel(const float* __restrict__ x, float* __restrict__ y, int rows, int cols) {
    const int lane = threadIdx.x % warpSize;
    const int row = blockIdx.x * ROWS_PER_BLOCK + threadIdx.x / warpSize;
    if (row >= rows) return;  // whole wavefronts leave together, so the shuffles below stay convergent

    const float* p = x + static_cast<size_t>(row) * cols;
    float acc = 0.0f;
    for (int c = lane; c < cols; c += warpSize) acc += p[c];
    for (int offset = warpSize / 2; offset > 0; offset /= 2) acc += __shfl_down(acc, offset);
    if (lane == 0) y[row] = acc;
}

extern "C" void reduce_sum(const float* x, float* y, int rows, int cols) {
    float* d_x;
    float* d_y;
    hipMalloc(&d_x, sizeof(float) * rows * cols);
    hipMalloc(&d_y, sizeof(float) * rows);
    hipMemcpy(d_x, x, sizeof(float) * rows * cols, hipMemcpyHostToDevice);

    const int grid = (rows + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK;
    row_sum_kernel<<<grid, ROWS_PER_BLOCK * 64>>>(d_x, d_y, rows, cols);  // CDNA wavefronts are 64 wide

    hipMemcpy(y, d_y, sizeof(float) * rows, hipMemcpyDeviceToHost);
    hipFree(d_x);
    hipFree(d_y);
}
