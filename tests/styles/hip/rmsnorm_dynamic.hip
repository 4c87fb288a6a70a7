// y = x / sqrt(mean(x^2) + eps) * gamma per row: one block per row, sum of squares reduced in dynamic shared memory.
#include <hip/hip_runtime.h>

__global__ void rmsnorm_kernel(const float* x, const float* gamma, float* y, int cols, float eps) {
    extern __shared__ float squares[];
    const float* in = x + (size_t)blockIdx.x * cols;
    float acc = 0.0f;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) acc += in[c] * in[c];
    squares[threadIdx.x] = acc;
    __syncthreads();
    for (unsigned half = blockDim.x >> 1; half > 0; half >>= 1) {
        if (threadIdx.x < half) squares[threadIdx.x] += squares[threadIdx.x + half];
        __syncthreads();
    }
    const float scale = rsqrtf(squares[0] / cols + eps);
    for (int c = threadIdx.x; c < cols; c += blockDim.x) y[(size_t)blockIdx.x * cols + c] = in[c] * scale * gamma[c];
}

extern "C" void rmsnorm_dynamic(const float* x, const float* gamma, float* y, int rows, int cols, float eps) {
    float *dx, *dg, *dy;
    hipMalloc(&dx, sizeof(float) * rows * cols);
    hipMalloc(&dg, sizeof(float) * cols);
    hipMalloc(&dy, sizeof(float) * rows * cols);
    hipMemcpy(dx, x, sizeof(float) * rows * cols, hipMemcpyHostToDevice);
    hipMemcpy(dg, gamma, sizeof(float) * cols, hipMemcpyHostToDevice);
    const int threads = 64;
    hipLaunchKernelGGL(rmsnorm_kernel, dim3(rows), dim3(threads), threads * sizeof(float), 0, dx, dg, dy, cols, eps);
    hipMemcpy(y, dy, sizeof(float) * rows * cols, hipMemcpyDeviceToHost);
    hipFree(dx);
    hipFree(dg);
    hipFree(dy);
}
