// Row min of x[rows, cols]: one work-group per row, classic LDS tree reduction (no shuffles).
#include <hip/hip_runtime.h>
#include <cfloat>

constexpr int kThreads = 128;

__global__ void __launch_bounds__(kThreads) row_min_kernel(const float* __restrict__ x, float* __restrict__ y, int cols) {
    __shared__ float smem[kThreads];
    const int tid = threadIdx.x;
    const float* row = x + static_cast<size_t>(blockIdx.x) * cols;

    float v = FLT_MAX;
    for (int c = tid; c < cols; c += kThreads) v = fminf(v, row[c]);
    smem[tid] = v;
    __syncthreads();

#pragma unroll
    for (int active = kThreads / 2; active > 0; active >>= 1) {
        if (tid < active) smem[tid] = fminf(smem[tid], smem[tid + active]);
        __syncthreads();
    }
    if (tid == 0) y[blockIdx.x] = smem[0];
}

extern "C" void reduce_min(const float* x, float* y, int rows, int cols) {
    const size_t n = static_cast<size_t>(rows) * cols;
    float* d_x = nullptr;
    float* d_y = nullptr;
    hipMalloc(&d_x, n * sizeof(float));
    hipMalloc(&d_y, rows * sizeof(float));
    hipMemcpy(d_x, x, n * sizeof(float), hipMemcpyHostToDevice);
    hipLaunchKernelGGL(row_min_kernel, dim3(rows), dim3(kThreads), 0, 0, d_x, d_y, cols);
    hipMemcpy(y, d_y, rows * sizeof(float), hipMemcpyDeviceToHost);
    hipFree(d_x);
    hipFree(d_y);
}
