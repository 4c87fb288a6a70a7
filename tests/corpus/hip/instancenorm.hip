// Instance norm on x[N,C,HW]: each (n, c) plane is normalized by its own mean and biased variance, then
// scaled by gamma[c] and shifted by beta[c]. One work-group per plane; LDS tree reductions.
#include <hip/hip_runtime.h>

template <int BLOCK>
__device__ float lds_block_sum(float v, float* buf) {
    buf[threadIdx.x] = v;
    __syncthreads();
#pragma unroll
    for (int s = BLOCK / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) buf[threadIdx.x] += buf[threadIdx.x + s];
        __syncthreads();
    }
    const float total = buf[0];
    __syncthreads();  // buf is reused by the next reduction
    return total;
}

template <int BLOCK>
__global__ void __launch_bounds__(BLOCK)
instancenorm_kernel(const float* __restrict__ x, const float* __restrict__ gamma, const float* __restrict__ beta,
                    float* __restrict__ y, int C, int HW, float eps) {
    __shared__ float buf[BLOCK];
    const size_t base = static_cast<size_t>(blockIdx.x) * HW;
    const int c = blockIdx.x % C;

    float s = 0.0f;
    for (int i = threadIdx.x; i < HW; i += BLOCK) s += x[base + i];
    const float mu = lds_block_sum<BLOCK>(s, buf) / HW;

    float v = 0.0f;
    for (int i = threadIdx.x; i < HW; i += BLOCK) {
        const float d = x[base + i] - mu;
        v += d * d;
    }
    const float var = lds_block_sum<BLOCK>(v, buf) / HW;

    const float scale = gamma[c] / sqrtf(var + eps);
    const float shift = beta[c] - mu * scale;
    for (int i = threadIdx.x; i < HW; i += BLOCK) y[base + i] = x[base + i] * scale + shift;
}

extern "C" void instancenorm(const float* x, const float* gamma, const float* beta, float* y, int N, int C, int HW,
                             float eps) {
    constexpr int kBlock = 128;
    const size_t bytes = sizeof(float) * static_cast<size_t>(N) * C * HW;
    float *d_x, *d_gamma, *d_beta, *d_y;
    hipMalloc(&d_x, bytes);
    hipMalloc(&d_y, bytes);
    hipMalloc(&d_gamma, sizeof(float) * C);
    hipMalloc(&d_beta, sizeof(float) * C);
    hipMemcpy(d_x, x, bytes, hipMemcpyHostToDevice);
    hipMemcpy(d_gamma, gamma, sizeof(float) * C, hipMemcpyHostToDevice);
    hipMemcpy(d_beta, beta, sizeof(float) * C, hipMemcpyHostToDevice);

    hipLaunchKernelGGL(instancenorm_kernel<kBlock>, dim3(N * C), dim3(kBlock), 0, 0, d_x, d_gamma, d_beta, d_y,
                       C, HW, eps);

    hipMemcpy(y, d_y, bytes, hipMemcpyDeviceToHost);
    hipFree(d_x);
    hipFree(d_y);
    hipFree(d_gamma);
    hipFree(d_beta);
}
