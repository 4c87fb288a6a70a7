// Row means of x[rows, cols]: one 256-wide work-group per row; wavefront __shfl_down reduction,
// partials of the four wavefronts combined through LDS by the first wavefront.
#include <hip/hip_runtime.h>

__device__ float wavefront_sum(float v) {
#pragma unroll
    for (int offset = 32; offset > 0; offset >>= 1) v += __shfl_down(v, offset, 64);
    return v;
}

__global__ void __launch_bounds__(256) row_mean_kernel(const float* __restrict__ x, float* __restrict__ y, int cols) {
    __shared__ float partial[4];
    const int tid = threadIdx.x;
    const float* row = x + static_cast<long>(blockIdx.x) * cols;

    float acc = 0.0f;
    for (int c = tid; c < cols; c += 256) acc += row[c];
    acc = wavefront_sum(acc);
    if ((tid & 63) == 0) partial[tid >> 6] = acc;
    __syncthreads();

    if (tid < 64) {
        float total = tid < 4 ? partial[tid] : 0.0f;
        total = wavefront_sum(total);
        if (tid == 0) y[blockIdx.x] = total / static_cast<float>(cols);
    }
}

extern "C" void reduce_mean(const float* x, float* y, int rows, int cols) {
    const size_t in_bytes = static_cast<size_t>(rows) * cols * sizeof(float);
    const size_t out_bytes = static_cast<size_t>(rows) * sizeof(float);
    float *d_x, *d_y;
    hipMalloc(&d_x, in_bytes);
    hipMalloc(&d_y, out_bytes);
    hipMemcpy(d_x, x, in_bytes, hipMemcpyHostToDevice);
    hipLaunchKernelGGL(row_mean_kernel, dim3(rows), dim3(256), 0, 0, d_x, d_y, cols);
    hipMemcpy(y, d_y, out_bytes, hipMemcpyDeviceToHost);
    hipFree(d_x);
    hipFree(d_y);
}
