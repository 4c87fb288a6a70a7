// y = sin(x). Full-precision sinf (not __sinf): the hardware approximation loses accuracy away from 0.
#include <hip/hip_runtime.h>

constexpr int kBlock = 128;

__global__ void __launch_bounds__(kBlock) sin_kernel(const float* __restrict__ x, float* __restrict__ y, int n) {
    const int i = blockIdx.x * kBlock + threadIdx.x;
    if (i < n) {
        y[i] = sinf(x[i]);
    }
}

extern "C" void sine(const float* x, float* y, int n) {
    const size_t bytes = sizeof(float) * static_cast<size_t>(n);
    float* d_x;
    float* d_y;
    hipMalloc(&d_x, bytes);
    hipMalloc(&d_y, bytes);
    hipMemcpy(d_x, x, bytes, hipMemcpyHostToDevice);
    hipLaunchKernelGGL(sin_kernel, dim3((n + kBlock - 1) / kBlock), dim3(kBlock), 0, 0, d_x, d_y, n);
    hipMemcpy(y, d_y, bytes, hipMemcpyDeviceToHost);
    hipFree(d_x);
    hipFree(d_y);
}
