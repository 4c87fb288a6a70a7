// y = 1 / (1 + exp(-x)), written through a small functor template so the map kernel is reusable.
#include <hip/hip_runtime.h>

struct Sigmoid {
    __device__ float operator()(float v) const { return 1.0f / (1.0f + expf(-v)); }
};

template <typename F, int BLOCK>
__global__ void __launch_bounds__(BLOCK) map_kernel(const float* __restrict__ in, float* __restrict__ out, int n, F f) {
    const int i = blockIdx.x * BLOCK + threadIdx.x;
    if (i >= n) return;
    out[i] = f(in[i]);
}

extern "C" void sigmoid(const float* x, float* y, int n) {
    constexpr int kBlock = 256;
    const size_t bytes = static_cast<size_t>(n) * sizeof(float);
    float* d_x = nullptr;
    float* d_y = nullptr;
    hipMalloc(&d_x, bytes);
    hipMalloc(&d_y, bytes);
    hipMemcpy(d_x, x, bytes, hipMemcpyHostToDevice);

    const dim3 grid((n + kBlock - 1) / kBlock);
    hipLaunchKernelGGL((map_kernel<Sigmoid, kBlock>), grid, dim3(kBlock), 0, 0, d_x, d_y, n, Sigmoid{});

    hipMemcpy(y, d_y, bytes, hipMemcpyDeviceToHost);
    hipFree(d_x);
    hipFree(d_y);
}
