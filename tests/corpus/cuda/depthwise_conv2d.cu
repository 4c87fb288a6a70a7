#include <cuda_runtime.h>

// Depthwise 2-D convolution in NHWC: x[N,H,W,C], w[KH,KW,C] -> y[N,OH,OW,C], any stride, zero padding.
// Channel is the fastest thread index (coalesced loads and stores). The filter is small and read by
// every thread, so it lives in __constant__ memory when it fits; larger filters are read from global.
constexpr int kMaxConstTaps = 8192;  // floats: 32 KiB of constant memory
__constant__ float c_filter[kMaxConstTaps];

template <bool FILTER_IN_CONSTANT>
__global__ void depthwise_conv2d_kernel(const float* __restrict__ x, const float* __restrict__ w_global,
                                        float* __restrict__ y, int N, int H, int W, int C, int KH, int KW,
                                        int stride, int pad, int OH, int OW) {
    // blockIdx.x = pixel * channel_blocks + channel block, pixel = (n * OH + oh) * OW + ow (1-D: no 65535 cap)
    const int channel_blocks = (C + blockDim.x - 1) / blockDim.x;
    const int c = (blockIdx.x % channel_blocks) * blockDim.x + threadIdx.x;
    if (c >= C) return;
    const int pixel = blockIdx.x / channel_blocks;
    const int ow = pixel % OW;
    const int oh = (pixel / OW) % OH;
    const int n = pixel / (OW * OH);

    const int ih0 = oh * stride - pad;
    const int iw0 = ow * stride - pad;
    float acc = 0.0f;
    for (int kh = 0; kh < KH; ++kh) {
        const int ih = ih0 + kh;
        if (ih < 0 || ih >= H) continue;
        for (int kw = 0; kw < KW; ++kw) {
            const int iw = iw0 + kw;
            if (iw < 0 || iw >= W) continue;
            const int tap = (kh * KW + kw) * C + c;
            const float wv = FILTER_IN_CONSTANT ? c_filter[tap] : w_global[tap];
            acc += x[(((size_t)n * H + ih) * W + iw) * C + c] * wv;
        }
    }
    y[(((size_t)n * OH + oh) * OW + ow) * C + c] = acc;
}

extern "C" void depthwise_conv2d(const float* x, const float* w, float* y, int N, int H, int W, int C, int KH,
                                 int KW, int stride, int pad) {
    const int OH = (H + 2 * pad - KH) / stride + 1;
    const int OW = (W + 2 * pad - KW) / stride + 1;
    if (N <= 0 || C <= 0 || OH <= 0 || OW <= 0) return;
    const size_t x_count = (size_t)N * H * W * C;
    const size_t w_count = (size_t)KH * KW * C;
    const size_t y_count = (size_t)N * OH * OW * C;
    float *d_x, *d_y, *d_w = nullptr;
    cudaMalloc(&d_x, x_count * sizeof(float));
    cudaMalloc(&d_y, y_count * sizeof(float));
    cudaMemcpy(d_x, x, x_count * sizeof(float), cudaMemcpyHostToDevice);

    const int threads = C >= 128 ? 128 : ((C + 31) / 32) * 32;
    const unsigned grid = (unsigned)((C + threads - 1) / threads) * (unsigned)(N * OH * OW);
    if (w_count <= (size_t)kMaxConstTaps) {
        cudaMemcpyToSymbol(c_filter, w, w_count * sizeof(float));
        depthwise_conv2d_kernel<true><<<grid, threads>>>(d_x, nullptr, d_y, N, H, W, C, KH, KW, stride, pad, OH, OW);
    } else {
        cudaMalloc(&d_w, w_count * sizeof(float));
        cudaMemcpy(d_w, w, w_count * sizeof(float), cudaMemcpyHostToDevice);
        depthwise_conv2d_kernel<false><<<grid, threads>>>(d_x, d_w, d_y, N, H, W, C, KH, KW, stride, pad, OH, OW);
    }

    cudaMemcpy(y, d_y, y_count * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(d_x);
    cudaFree(d_y);
    if (d_w) cudaFree(d_w);
}
