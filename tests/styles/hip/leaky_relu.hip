// y = x > 0 ? x : 0.1 x, launched with hipLaunchKernelGGL; the block size is a launch bound.
#include <hip/hip_runtime.h>

#define BLOCK 256

__global__ __launch_bounds__(BLOCK) void leaky_kernel(const float* x, float* y, const int n) {
    const int i = hipBlockIdx_x * hipBlockDim_x + hipThreadIdx_x;
    if (i >= n) {
        return;
    }
    const float v = x[i];
    y[i] = v > 0.0f ? v : 0.1f * v;
}

extern "C" void leaky_relu(const float* x, float* y, int n) {
    float* dx = nullptr;
    float* dy = nullptr;
    hipMalloc(&dx, n * sizeof(float));
    hipMalloc(&dy, n * sizeof(float));
    hipMemcpy(dx, x, n * sizeof(float), hipMemcpyHostToDevice);
    hipLaunchKernelGGL(leaky_kernel, dim3((n + BLOCK - 1) / BLOCK), dim3(BLOCK), 0, 0, dx, dy, n);
    hipMemcpy(y, dy, n * sizeof(float), hipMemcpyDeviceToHost);
    hipFree(dx);
    hipFree(dy);
}
