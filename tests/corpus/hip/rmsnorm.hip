// RMS norm: y = x / sqrt(mean(x^2) + eps) * gamma, one wavefront per row of x[rows, cols].
// __shfl_down leaves the sum of squares in lane 0; __shfl broadcasts it back to the wavefront.
#include <hip/hip_runtime.h>

template <int WAVES>
__global__ void __launch_bounds__(WAVES * 64)
rmsnorm_kernel(const float* __restrict__ x, const float* __restrict__ gamma, float* __restrict__ y,
               int rows, int cols, float eps) {
    const int lane = threadIdx.x & 63;
    const int row = blockIdx.x * WAVES + (threadIdx.x >> 6);
    if (row >= rows) return;

    const float* xr = x + static_cast<size_t>(row) * cols;
    float* yr = y + static_cast<size_t>(row) * cols;

    float ss = 0.0f;
    for (int c = lane; c < cols; c += 64) ss += xr[c] * xr[c];
#pragma unroll
    for (int off = 32; off > 0; off >>= 1) ss += __shfl_down(ss, off);
    ss = __shfl(ss, 0);

    const float inv_rms = rsqrtf(ss / static_cast<float>(cols) + eps);
    for (int c = lane; c < cols; c += 64) yr[c] = xr[c] * inv_rms * gamma[c];
}

extern "C" void rmsnorm(const float* x, const float* gamma, float* y, int rows, int cols, float eps) {
    constexpr int kWaves = 2;
    const size_t bytes = static_cast<size_t>(rows) * cols * sizeof(float);
    float* d_x = nullptr;
    float* d_g = nullptr;
    float* d_y = nullptr;
    hipMalloc(&d_x, bytes);
    hipMalloc(&d_g, cols * sizeof(float));
    hipMalloc(&d_y, bytes);
    hipMemcpy(d_x, x, bytes, hipMemcpyHostToDevice);
    hipMemcpy(d_g, gamma, cols * sizeof(float), hipMemcpyHostToDevice);

    const int grid = (rows + kWaves - 1) / kWaves;
    rmsnorm_kernel<kWaves><<<grid, kWaves * 64>>>(d_x, d_g, d_y, rows, cols, eps);

    hipMemcpy(y, d_y, bytes, hipMemcpyDeviceToHost);
    hipFree(d_x);
    hipFree(d_g);
    hipFree(d_y);
}
