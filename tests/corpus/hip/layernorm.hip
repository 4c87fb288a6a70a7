// Layer norm over the last axis of x[rows, cols] (biased variance), one work-group per row.
// Two-pass statistics (mean first, then the mean of squared deviations) avoid the cancellation of E[x^2]-E[x]^2.
#include <hip/hip_runtime.h>

constexpr int kThreads = 256;

// Sum over the work-group, returned to every work-item. `red` holds one float per wavefront.
__device__ float block_sum(float v, float* red) {
    const int lane = threadIdx.x % warpSize;
    const int wave = threadIdx.x / warpSize;
    const int num_waves = kThreads / warpSize;
    for (int off = warpSize / 2; off > 0; off /= 2) v += __shfl_xor(v, off);
    if (lane == 0) red[wave] = v;
    __syncthreads();
    float total = 0.0f;
    for (int w = 0; w < num_waves; ++w) total += red[w];
    __syncthreads();
    return total;
}

__global__ void __launch_bounds__(kThreads)
layernorm_kernel(const float* __restrict__ x, const float* __restrict__ gamma, const float* __restrict__ beta,
                 float* __restrict__ y, int cols, float eps) {
    __shared__ float red[kThreads / 32];  // enough for wave32 and wave64 targets
    const float* xr = x + static_cast<size_t>(blockIdx.x) * cols;
    float* yr = y + static_cast<size_t>(blockIdx.x) * cols;

    float s = 0.0f;
    for (int c = threadIdx.x; c < cols; c += kThreads) s += xr[c];
    const float mu = block_sum(s, red) / cols;

    float sq = 0.0f;
    for (int c = threadIdx.x; c < cols; c += kThreads) {
        const float d = xr[c] - mu;
        sq += d * d;
    }
    const float rstd = rsqrtf(block_sum(sq, red) / cols + eps);

    for (int c = threadIdx.x; c < cols; c += kThreads) {
        yr[c] = (xr[c] - mu) * rstd * gamma[c] + beta[c];
    }
}

extern "C" void layernorm(const float* x, const float* gamma, const float* beta, float* y, int rows, int cols,
                          float eps) {
    const size_t bytes = sizeof(float) * static_cast<size_t>(rows) * cols;
    float *d_x, *d_g, *d_b, *d_y;
    hipMalloc(&d_x, bytes);
    hipMalloc(&d_y, bytes);
    hipMalloc(&d_g, sizeof(float) * cols);
    hipMalloc(&d_b, sizeof(float) * cols);
    hipMemcpy(d_x, x, bytes, hipMemcpyHostToDevice);
    hipMemcpy(d_g, gamma, sizeof(float) * cols, hipMemcpyHostToDevice);
    hipMemcpy(d_b, beta, sizeof(float) * cols, hipMemcpyHostToDevice);

    hipLaunchKernelGGL(layernorm_kernel, dim3(rows), dim3(kThreads), 0, 0, d_x, d_g, d_b, d_y, cols, eps);

    hipMemcpy(y, d_y, bytes, hipMemcpyDeviceToHost);
    hipFree(d_x);
    hipFree(d_y);
    hipFree(d_g);
    hipFree(d_b);
}
