#include <hip/hip_runtime.h>

// y = alpha * x + y, four floats per thread through float4, then the n % 4 leftovers one by one.
__global__ void axpy4_kernel(float alpha, const float* __restrict__ x, float* __restrict__ y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    int nvec = n >> 2;
    if (i < nvec) {
        float4 xv = reinterpret_cast<const float4*>(x)[i];
        float4 yv = reinterpret_cast<float4*>(y)[i];
        yv.x += alpha * xv.x;
        yv.y += alpha * xv.y;
        yv.z += alpha * xv.z;
        yv.w += alpha * xv.w;
        reinterpret_cast<float4*>(y)[i] = yv;
    }
    int tail = (nvec << 2) + i;
    if (i < (n & 3)) y[tail] += alpha * x[tail];
}

extern "C" void axpy_vec4(const float* x, float* y, int n, float alpha) {
    float *d_x, *d_y;
    size_t bytes = n * sizeof(float);
    hipMalloc((void**)&d_x, bytes);
    hipMalloc((void**)&d_y, bytes);
    hipMemcpy(d_x, x, bytes, hipMemcpyHostToDevice);
    hipMemcpy(d_y, y, bytes, hipMemcpyHostToDevice);
    int threads = 256;
    int work = n / 4 > 4 ? n / 4 : 4;
    int blocks = (work + threads - 1) / threads;
    hipLaunchKernelGGL(axpy4_kernel, dim3(blocks), dim3(threads), 0, 0, alpha, d_x, d_y, n);
    hipMemcpy(y, d_y, bytes, hipMemcpyDeviceToHost);
    hipFree(d_x);
    hipFree(d_y);
}
