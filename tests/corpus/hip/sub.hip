// c = a - b, one element per work-item.
#include <hip/hip_runtime.h>

__global__ void sub_kernel(const float* a, const float* b, float* c, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    c[i] = a[i] - b[i];
}

extern "C" void sub(const float* a, const float* b, float* c, int n) {
    const size_t bytes = static_cast<size_t>(n) * sizeof(float);
    float* d_a = nullptr;
    float* d_b = nullptr;
    float* d_c = nullptr;
    hipMalloc(reinterpret_cast<void**>(&d_a), bytes);
    hipMalloc(reinterpret_cast<void**>(&d_b), bytes);
    hipMalloc(reinterpret_cast<void**>(&d_c), bytes);
    hipMemcpy(d_a, a, bytes, hipMemcpyHostToDevice);
    hipMemcpy(d_b, b, bytes, hipMemcpyHostToDevice);

    const int threads = 512;
    const int blocks = (n + threads - 1) / threads;
    sub_kernel<<<blocks, threads>>>(d_a, d_b, d_c, n);

    hipMemcpy(c, d_c, bytes, hipMemcpyDeviceToHost);
    hipFree(d_a);
    hipFree(d_b);
    hipFree(d_c);
}
