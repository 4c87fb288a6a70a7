// Tanh-approximated GELU: y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
// The two coefficients live in constant memory, set from the host with hipMemcpyToSymbol.
#include <hip/hip_runtime.h>

__constant__ float c_gelu_coeffs[2];  // {sqrt(2/pi), cubic coefficient}

__device__ __forceinline__ float gelu_tanh(float v) {
    const float inner = c_gelu_coeffs[0] * (v + c_gelu_coeffs[1] * v * v * v);
    return 0.5f * v * (1.0f + tanhf(inner));
}

__global__ void gelu_kernel(const float* __restrict__ x, float* __restrict__ y, int n) {
    const int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        y[i] = gelu_tanh(x[i]);
    }
}

extern "C" void gelu(const float* x, float* y, int n) {
    const float coeffs[2] = {0.7978845608f, 0.044715f};
    hipMemcpyToSymbol(HIP_SYMBOL(c_gelu_coeffs), coeffs, sizeof(coeffs), 0, hipMemcpyHostToDevice);

    const size_t bytes = static_cast<size_t>(n) * sizeof(float);
    float *d_x, *d_y;
    hipMalloc(&d_x, bytes);
    hipMalloc(&d_y, bytes);
    hipMemcpy(d_x, x, bytes, hipMemcpyHostToDevice);

    const int block = 256;
    int grid = (n + block - 1) / block;
    grid = grid > 512 ? 512 : grid;
    hipLaunchKernelGGL(gelu_kernel, dim3(grid), dim3(block), 0, 0, d_x, d_y, n);

    hipMemcpy(y, d_y, bytes, hipMemcpyDeviceToHost);
    hipFree(d_x);
    hipFree(d_y);
}
