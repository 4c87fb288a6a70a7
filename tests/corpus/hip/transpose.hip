// y[cols, rows] = x[rows, cols]^T through a 64x64 LDS tile (one row of the tile per wavefront pass), so both the
// global read and the global write are contiguous along a wavefront. The +1 column of padding keeps the
// column-wise LDS read free of bank conflicts.
#include <hip/hip_runtime.h>

constexpr int TILE_DIM = 64;
constexpr int BLOCK_ROWS = 4;

__global__ void __launch_bounds__(TILE_DIM * BLOCK_ROWS)
transpose_kernel(const float* __restrict__ x, float* __restrict__ y, int rows, int cols) {
    __shared__ float tile[TILE_DIM][TILE_DIM + 1];

    const int col = blockIdx.x * TILE_DIM + threadIdx.x;  // column of x
    const int row_base = blockIdx.y * TILE_DIM;
#pragma unroll
    for (int j = 0; j < TILE_DIM; j += BLOCK_ROWS) {
        const int r = j + threadIdx.y;
        const int row = row_base + r;
        if (row < rows && col < cols) tile[r][threadIdx.x] = x[static_cast<size_t>(row) * cols + col];
    }
    __syncthreads();

    const int out_col = row_base + threadIdx.x;  // column of y = row of x
    const int out_row_base = blockIdx.x * TILE_DIM;
#pragma unroll
    for (int j = 0; j < TILE_DIM; j += BLOCK_ROWS) {
        const int r = j + threadIdx.y;
        const int out_row = out_row_base + r;
        if (out_row < cols && out_col < rows) y[static_cast<size_t>(out_row) * rows + out_col] = tile[threadIdx.x][r];
    }
}

extern "C" void transpose(const float* x, float* y, int rows, int cols) {
    const size_t bytes = sizeof(float) * static_cast<size_t>(rows) * cols;
    float *d_x, *d_y;
    hipMalloc(&d_x, bytes);
    hipMalloc(&d_y, bytes);
    hipMemcpy(d_x, x, bytes, hipMemcpyHostToDevice);

    const dim3 block(TILE_DIM, BLOCK_ROWS);
    const dim3 grid((cols + TILE_DIM - 1) / TILE_DIM, (rows + TILE_DIM - 1) / TILE_DIM);
    hipLaunchKernelGGL(transpose_kernel, grid, block, 0, 0, d_x, d_y, rows, cols);

    hipMemcpy(y, d_y, bytes, hipMemcpyDeviceToHost);
    hipFree(d_x);
    hipFree(d_y);
}
