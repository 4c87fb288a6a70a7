// y[r, c] = x[r, c] * s[r] on a 2D grid; the row-major index is a macro and out-of-range threads return early.
#include <cuda_runtime.h>

#define AT(r, c, ld) ((r) * (ld) + (c))

__global__ void row_scale_kernel(const float* x, const float* s, float* y, int rows, int cols) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    const int r = blockIdx.y * blockDim.y + threadIdx.y;
    if (r >= rows || c >= cols) return;
    y[AT(r, c, cols)] = x[AT(r, c, cols)] * s[r];
}

extern "C" void row_scale_2d(const float* x, const float* s, float* y, int rows, int cols) {
    float *d_x, *d_s, *d_y;
    cudaMalloc((void**)&d_x, sizeof(float) * rows * cols);
    cudaMalloc((void**)&d_s, sizeof(float) * rows);
    cudaMalloc((void**)&d_y, sizeof(float) * rows * cols);
    cudaMemcpy(d_x, x, sizeof(float) * rows * cols, cudaMemcpyHostToDevice);
    cudaMemcpy(d_s, s, sizeof(float) * rows, cudaMemcpyHostToDevice);
    dim3 block(16, 8);
    dim3 grid((cols + block.x - 1) / block.x, (rows + block.y - 1) / block.y);
    row_scale_kernel<<<grid, block>>>(d_x, d_s, d_y, rows, cols);
    cudaMemcpy(y, d_y, sizeof(float) * rows * cols, cudaMemcpyDeviceToHost);
    cudaFree(d_x);
    cudaFree(d_s);
    cudaFree(d_y);
}
