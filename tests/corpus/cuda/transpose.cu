#include <cuda_runtime.h>

// y[cols, rows] = x[rows, cols]^T through a 32x32 shared tile: reads and writes are both coalesced, and
// the extra column of padding puts the column-wise tile reads on distinct banks. Block 32x8: each thread
// moves 4 elements.
constexpr int TILE_DIM = 32;
constexpr int BLOCK_ROWS = 8;

__global__ void transpose_tiled_kernel(const float* __restrict__ x, float* __restrict__ y, int rows, int cols) {
    __shared__ float tile[TILE_DIM][TILE_DIM + 1];

    int col = blockIdx.x * TILE_DIM + threadIdx.x;
    int row = blockIdx.y * TILE_DIM + threadIdx.y;
#pragma unroll
    for (int j = 0; j < TILE_DIM; j += BLOCK_ROWS) {
        if (row + j < rows && col < cols) {
            tile[threadIdx.y + j][threadIdx.x] = x[(size_t)(row + j) * cols + col];
        }
    }
    __syncthreads();

    // Swap block coordinates: this block writes the transposed tile.
    col = blockIdx.y * TILE_DIM + threadIdx.x;  // index into y's columns (= x's rows)
    row = blockIdx.x * TILE_DIM + threadIdx.y;  // index into y's rows (= x's columns)
#pragma unroll
    for (int j = 0; j < TILE_DIM; j += BLOCK_ROWS) {
        if (row + j < cols && col < rows) {
            y[(size_t)(row + j) * rows + col] = tile[threadIdx.x][threadIdx.y + j];
        }
    }
}

extern "C" void transpose(const float* x, float* y, int rows, int cols) {
    if (rows <= 0 || cols <= 0) return;
    const size_t bytes = (size_t)rows * cols * sizeof(float);
    float *d_in, *d_out;
    cudaMalloc(&d_in, bytes);
    cudaMalloc(&d_out, bytes);
    cudaMemcpy(d_in, x, bytes, cudaMemcpyHostToDevice);

    const dim3 block(TILE_DIM, BLOCK_ROWS);
    const dim3 grid((cols + TILE_DIM - 1) / TILE_DIM, (rows + TILE_DIM - 1) / TILE_DIM);
    transpose_tiled_kernel<<<grid, block>>>(d_in, d_out, rows, cols);

    cudaMemcpy(y, d_out, bytes, cudaMemcpyDeviceToHost);
    cudaFree(d_in);
    cudaFree(d_out);
}
