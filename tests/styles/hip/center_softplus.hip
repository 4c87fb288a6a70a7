#include <hip/hip_runtime.h>
#include <math.h>

// Two launches: per-row means into a scratch buffer, then y = softplus(x - mean[row]).
#define CHECK(call) do { hipError_t e_ = (call); if (e_ != hipSuccess) return; } while (0)

__device__ __forceinline__ float softplus(float v) {
    return v > 20.0f ? v : log1pf(expf(v));
}

__global__ void row_mean(const float* x, float* mean, int rows, int cols) {
    for (int r = blockIdx.x * blockDim.x + threadIdx.x; r < rows; r += blockDim.x * gridDim.x) {
        float s = 0.0f;
        for (int c = 0; c < cols; ++c) s += x[r * cols + c];
        mean[r] = s / cols;
    }
}

__global__ void center_act(const float* __restrict__ x, const float* __restrict__ mean, float* __restrict__ y,
                           int rows, int cols) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= rows * cols) return;
    int r = idx / cols;
    y[idx] = softplus(x[idx] - mean[r]);
}

extern "C" void center_softplus(const float* x, float* y, int rows, int cols) {
    if (rows <= 0 || cols <= 0) return;
    float *dx, *dy, *dmean;
    const size_t total = (size_t)rows * cols;
    CHECK(hipMalloc(&dx, total * sizeof(float)));
    CHECK(hipMalloc(&dy, total * sizeof(float)));
    CHECK(hipMalloc(&dmean, rows * sizeof(float)));
    CHECK(hipMemcpy(dx, x, total * sizeof(float), hipMemcpyHostToDevice));
    hipLaunchKernelGGL(row_mean, dim3((rows + 63) / 64), dim3(64), 0, 0, dx, dmean, rows, cols);
    const int tpb = 256;
    hipLaunchKernelGGL(center_act, dim3((int)((total + tpb - 1) / tpb)), dim3(tpb), 0, 0, dx, dmean, dy, rows, cols);
    CHECK(hipMemcpy(y, dy, total * sizeof(float), hipMemcpyDeviceToHost));
    hipFree(dx);
    hipFree(dy);
    hipFree(dmean);
}
