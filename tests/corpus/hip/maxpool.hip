// NHWC max pooling, KxK window, no padding: y[N,OH,OW,C], OH = (H-K)/stride+1.
// Flat grid-stride loop over outputs with the channel fastest (coalesced reads of each window pixel).
#include <hip/hip_runtime.h>
#include <cmath>

__global__ void __launch_bounds__(256)
maxpool_nhwc(const float* __restrict__ x, float* __restrict__ y, int N, int H, int W, int C, int K, int stride,
             int OH, int OW) {
    const size_t total = static_cast<size_t>(N) * OH * OW * C;
    const size_t step = static_cast<size_t>(gridDim.x) * blockDim.x;
    for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += step) {
        const int c = i % C;
        const int ow = (i / C) % OW;
        const int oh = (i / (static_cast<size_t>(C) * OW)) % OH;
        const int n = i / (static_cast<size_t>(C) * OW * OH);
        const float* src = x + ((static_cast<size_t>(n) * H + oh * stride) * W + ow * stride) * C + c;
        float m = -INFINITY;
        for (int kh = 0; kh < K; ++kh)
            for (int kw = 0; kw < K; ++kw) m = fmaxf(m, src[(static_cast<size_t>(kh) * W + kw) * C]);
        y[i] = m;
    }
}

extern "C" void maxpool(const float* x, float* y, int N, int H, int W, int C, int K, int stride) {
    const int OH = (H - K) / stride + 1;
    const int OW = (W - K) / stride + 1;
    const size_t in_bytes = sizeof(float) * static_cast<size_t>(N) * H * W * C;
    const size_t out_elems = static_cast<size_t>(N) * OH * OW * C;
    float *d_x, *d_y;
    hipMalloc(&d_x, in_bytes);
    hipMalloc(&d_y, out_elems * sizeof(float));
    hipMemcpy(d_x, x, in_bytes, hipMemcpyHostToDevice);

    const unsigned grid = static_cast<unsigned>(std::min<size_t>((out_elems + 255) / 256, 4096));
    hipLaunchKernelGGL(maxpool_nhwc, dim3(grid), dim3(256), 0, 0, d_x, d_y, N, H, W, C, K, stride, OH, OW);

    hipMemcpy(y, d_y, out_elems * sizeof(float), hipMemcpyDeviceToHost);
    hipFree(d_x);
    hipFree(d_y);
}
