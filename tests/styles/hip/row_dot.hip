// y[r] = A[r, :] . x: one thread per row with a serial loop over the columns (small matrices).
#include <hip/hip_runtime.h>

__device__ inline float dot(const float* u, const float* v, int len) {
    float s = 0.0f;
    for (int k = 0; k < len; ++k) s += u[k] * v[k];
    return s;
}

__global__ void row_dot_kernel(const float* A, const float* x, float* y, int rows, int cols) {
    int r = blockIdx.x * blockDim.x + threadIdx.x;
    if (r < rows) y[r] = dot(A + (size_t)r * cols, x, cols);
}

extern "C" void row_dot(const float* A, const float* x, float* y, int rows, int cols) {
    float *dA, *dx, *dy;
    hipMalloc(&dA, sizeof(float) * rows * cols);
    hipMalloc(&dx, sizeof(float) * cols);
    hipMalloc(&dy, sizeof(float) * rows);
    hipMemcpy(dA, A, sizeof(float) * rows * cols, hipMemcpyHostToDevice);
    hipMemcpy(dx, x, sizeof(float) * cols, hipMemcpyHostToDevice);
    hipLaunchKernelGGL(row_dot_kernel, dim3((rows + 63) / 64), dim3(64), 0, 0, dA, dx, dy, rows, cols);
    hipMemcpy(y, dy, sizeof(float) * rows, hipMemcpyDeviceToHost);
    hipFree(dA);
    hipFree(dx);
    hipFree(dy);
}
