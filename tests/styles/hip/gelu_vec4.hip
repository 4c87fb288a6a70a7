// y = gelu(x) (tanh form): each thread loads a float4, threads past the end leave early, and the last partial
// quad is done element by element.
#include <hip/hip_runtime.h>

#define THREADS 128

__device__ __forceinline__ float gelu_tanh(float v) {
    const float k = 0.7978845608f;
    return 0.5f * v * (1.0f + tanhf(k * (v + 0.044715f * v * v * v)));
}

__global__ void __launch_bounds__(THREADS) gelu_kernel(const float* __restrict__ x, float* __restrict__ y, int n) {
    const int quad = hipBlockIdx_x * hipBlockDim_x + hipThreadIdx_x;
    const int base = quad * 4;
    if (base >= n) return;
    if (base + 4 <= n) {
        const float4 v = reinterpret_cast<const float4*>(x)[quad];
        reinterpret_cast<float4*>(y)[quad] =
            make_float4(gelu_tanh(v.x), gelu_tanh(v.y), gelu_tanh(v.z), gelu_tanh(v.w));
        return;
    }
    for (int i = base; i < n; ++i) y[i] = gelu_tanh(x[i]);
}

extern "C" void gelu_vec4(const float* x, float* y, int n) {
    float *dx, *dy;
    hipMalloc(&dx, n * sizeof(float));
    hipMalloc(&dy, n * sizeof(float));
    hipMemcpy(dx, x, n * sizeof(float), hipMemcpyHostToDevice);
    const int quads = (n + 3) / 4;
    hipLaunchKernelGGL(gelu_kernel, dim3((quads + THREADS - 1) / THREADS), dim3(THREADS), 0, 0, dx, dy, n);
    hipMemcpy(y, dy, n * sizeof(float), hipMemcpyDeviceToHost);
    hipFree(dx);
    hipFree(dy);
}
