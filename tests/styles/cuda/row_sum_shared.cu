// y[r] = sum of row r: one block per row, strided partial sums, then a shared-memory tree with barriers.
#include <cuda_runtime.h>

constexpr int kBlock = 128;

__global__ void row_sum_kernel(const float* x, float* y, int cols) {
    __shared__ float partial[kBlock];
    const float* row = x + (size_t)blockIdx.x * cols;
    float acc = 0.0f;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) acc += row[c];
    partial[threadIdx.x] = acc;
    __syncthreads();
    for (int width = blockDim.x / 2; width > 0; width /= 2) {
        if (threadIdx.x < width) partial[threadIdx.x] += partial[threadIdx.x + width];
        __syncthreads();
    }
    if (threadIdx.x == 0) y[blockIdx.x] = partial[0];
}

extern "C" void row_sum_shared(const float* x, float* y, int rows, int cols) {
    float *d_x, *d_y;
    cudaMalloc(&d_x, (size_t)rows * cols * sizeof(float));
    cudaMalloc(&d_y, (size_t)rows * sizeof(float));
    cudaMemcpy(d_x, x, (size_t)rows * cols * sizeof(float), cudaMemcpyHostToDevice);
    row_sum_kernel<<<rows, kBlock>>>(d_x, d_y, cols);
    cudaMemcpy(y, d_y, (size_t)rows * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(d_x);
    cudaFree(d_y);
}
