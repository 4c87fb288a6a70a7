// y = max(x, 0). Each work-item handles kItems elements spaced one block apart, so loads stay coalesced.
#include <hip/hip_runtime.h>

constexpr int kBlock = 256;
constexpr int kItems = 4;

__global__ void __launch_bounds__(kBlock) relu_kernel(const float* __restrict__ x, float* __restrict__ y, int n) {
    const int base = blockIdx.x * kBlock * kItems + threadIdx.x;
#pragma unroll
    for (int k = 0; k < kItems; ++k) {
        const int i = base + k * kBlock;
        if (i < n) {
            y[i] = fmaxf(x[i], 0.0f);
        }
    }
}

extern "C" void relu(const float* x, float* y, int n) {
    const size_t bytes = static_cast<size_t>(n) * sizeof(float);
    float *d_x, *d_y;
    hipMalloc(&d_x, bytes);
    hipMalloc(&d_y, bytes);
    hipMemcpy(d_x, x, bytes, hipMemcpyHostToDevice);

    const int per_block = kBlock * kItems;
    const int grid = (n + per_block - 1) / per_block;
    hipLaunchKernelGGL(relu_kernel, dim3(grid), dim3(kBlock), 0, 0, d_x, d_y, n);

    hipMemcpy(y, d_y, bytes, hipMemcpyDeviceToHost);
    hipFree(d_x);
    hipFree(d_y);
}
