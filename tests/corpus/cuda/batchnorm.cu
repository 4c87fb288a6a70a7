#include <cuda_runtime.h>

// Inference BatchNorm on x[N, C, HW]: y = (x - mean[c]) * rsqrt(var[c] + eps) * gamma[c] + beta[c].
// The four per-channel vectors are read by every thread of a block at the same address, the broadcast
// pattern __constant__ memory serves best; channel counts beyond its capacity use global memory instead.
#define BN_MAX_CONST_CHANNELS 2048  // 4 vectors * 2048 floats = 32 KiB of the 64 KiB constant bank

__constant__ float c_mean[BN_MAX_CONST_CHANNELS];
__constant__ float c_var[BN_MAX_CONST_CHANNELS];
__constant__ float c_gamma[BN_MAX_CONST_CHANNELS];
__constant__ float c_beta[BN_MAX_CONST_CHANNELS];

struct ChannelParams {
    const float* mean;
    const float* var;
    const float* gamma;
    const float* beta;
};

// grid = (ceil(HW / (blockDim.x * 4)), C, N): the block's channel is uniform, so its scale/shift are computed
// once per thread; each thread then covers 4 elements of the plane, blockDim.x apart (coalesced).
template <bool USE_CONSTANT>
__global__ void batchnorm_kernel(const float* __restrict__ x, float* __restrict__ y, ChannelParams p, int C,
                                 int HW, float eps) {
    const int c = blockIdx.y;
    const int n = blockIdx.z;
    float m, v, g, b;
    if (USE_CONSTANT) {
        m = c_mean[c];
        v = c_var[c];
        g = c_gamma[c];
        b = c_beta[c];
    } else {
        m = p.mean[c];
        v = p.var[c];
        g = p.gamma[c];
        b = p.beta[c];
    }
    const float scale = g * rsqrtf(v + eps);
    const float shift = b - m * scale;

    const size_t plane = ((size_t)n * C + c) * HW;
    const int start = blockIdx.x * blockDim.x * 4 + threadIdx.x;
#pragma unroll
    for (int k = 0; k < 4; ++k) {
        const int i = start + k * blockDim.x;
        if (i < HW) y[plane + i] = x[plane + i] * scale + shift;
    }
}

extern "C" void batchnorm(const float* x, const float* mean, const float* var, const float* gamma,
                          const float* beta, float* y, int N, int C, int HW, float eps) {
    if (N <= 0 || C <= 0 || HW <= 0) return;
    const size_t count = (size_t)N * C * HW;
    const size_t cbytes = (size_t)C * sizeof(float);
    float *d_x, *d_y;
    cudaMalloc(&d_x, count * sizeof(float));
    cudaMalloc(&d_y, count * sizeof(float));
    cudaMemcpy(d_x, x, count * sizeof(float), cudaMemcpyHostToDevice);

    const int threads = 256;
    const dim3 grid((HW + threads * 4 - 1) / (threads * 4), C, N);
    float* d_params = nullptr;
    if (C <= BN_MAX_CONST_CHANNELS) {
        cudaMemcpyToSymbol(c_mean, mean, cbytes);
        cudaMemcpyToSymbol(c_var, var, cbytes);
        cudaMemcpyToSymbol(c_gamma, gamma, cbytes);
        cudaMemcpyToSymbol(c_beta, beta, cbytes);
        batchnorm_kernel<true><<<grid, threads>>>(d_x, d_y, ChannelParams{}, C, HW, eps);
    } else {
        cudaMalloc(&d_params, 4 * cbytes);
        cudaMemcpy(d_params, mean, cbytes, cudaMemcpyHostToDevice);
        cudaMemcpy(d_params + C, var, cbytes, cudaMemcpyHostToDevice);
        cudaMemcpy(d_params + 2 * C, gamma, cbytes, cudaMemcpyHostToDevice);
        cudaMemcpy(d_params + 3 * C, beta, cbytes, cudaMemcpyHostToDevice);
        const ChannelParams p{d_params, d_params + C, d_params + 2 * C, d_params + 3 * C};
        batchnorm_kernel<false><<<grid, threads>>>(d_x, d_y, p, C, HW, eps);
    }

    cudaMemcpy(y, d_y, count * sizeof(float), cudaMemcpyDeviceToHost);
    if (d_params) cudaFree(d_params);
    cudaFree(d_x);
    cudaFree(d_y);
}
