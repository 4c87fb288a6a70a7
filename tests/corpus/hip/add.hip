// c = a + b. Vectorized float4 body (16-byte global loads) in a grid-stride loop, scalar tail.
#include <hip/hip_runtime.h>

__global__ void __launch_bounds__(256) add_kernel(const float* __restrict__ a, const float* __restrict__ b,
                                                  float* __restrict__ c, int n) {
    const int stride = blockDim.x * gridDim.x;
    const int tid = blockIdx.x * blockDim.x + threadIdx.x;
    const int n4 = n / 4;
    const float4* a4 = reinterpret_cast<const float4*>(a);
    const float4* b4 = reinterpret_cast<const float4*>(b);
    float4* c4 = reinterpret_cast<float4*>(c);
    for (int i = tid; i < n4; i += stride) {
        const float4 x = a4[i];
        const float4 y = b4[i];
        c4[i] = make_float4(x.x + y.x, x.y + y.y, x.z + y.z, x.w + y.w);
    }
    // Tail: the last n % 4 elements.
    for (int i = n4 * 4 + tid; i < n; i += stride) {
        c[i] = a[i] + b[i];
    }
}

extern "C" void add(const float* a, const float* b, float* c, int n) {
    const size_t bytes = static_cast<size_t>(n) * sizeof(float);
    float *d_a, *d_b, *d_c;
    hipMalloc(&d_a, bytes);
    hipMalloc(&d_b, bytes);
    hipMalloc(&d_c, bytes);
    hipMemcpy(d_a, a, bytes, hipMemcpyHostToDevice);
    hipMemcpy(d_b, b, bytes, hipMemcpyHostToDevice);

    const int block = 256;
    int grid = (n / 4 + block - 1) / block;
    if (grid < 1) grid = 1;
    if (grid > 1024) grid = 1024;
    hipLaunchKernelGGL(add_kernel, dim3(grid), dim3(block), 0, 0, d_a, d_b, d_c, n);

    hipMemcpy(c, d_c, bytes, hipMemcpyDeviceToHost);
    hipFree(d_a);
    hipFree(d_b);
    hipFree(d_c);
}
