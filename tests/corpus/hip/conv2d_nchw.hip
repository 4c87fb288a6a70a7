// Direct NCHW convolution with zero padding: x[N,C,H,W], w[F,C,KH,KW] -> y[N,F,OH,OW].
// A 16x16 work-group covers a 16x16 patch of one output plane (n, f): neighbouring lanes read neighbouring
// input pixels, and the filter taps are uniform across the group.
#include <hip/hip_runtime.h>

struct ConvShape {
    int C, H, W, F, KH, KW, stride, pad, OH, OW;
};

__device__ __forceinline__ float conv_at(const float* __restrict__ x_n, const float* __restrict__ w_f,
                                         const ConvShape& s, int oh, int ow) {
    const int ih0 = oh * s.stride - s.pad;
    const int iw0 = ow * s.stride - s.pad;
    float acc = 0.0f;
    for (int c = 0; c < s.C; ++c) {
        const float* xc = x_n + static_cast<size_t>(c) * s.H * s.W;
        const float* wc = w_f + static_cast<size_t>(c) * s.KH * s.KW;
        for (int kh = 0; kh < s.KH; ++kh) {
            const int ih = ih0 + kh;
            if (ih < 0 || ih >= s.H) continue;
            for (int kw = 0; kw < s.KW; ++kw) {
                const int iw = iw0 + kw;
                if (iw < 0 || iw >= s.W) continue;
                acc += xc[ih * s.W + iw] * wc[kh * s.KW + kw];
            }
        }
    }
    return acc;
}

__global__ void __launch_bounds__(256)
conv2d_nchw_kernel(const float* __restrict__ x, const float* __restrict__ w, float* __restrict__ y, ConvShape s) {
    const int ow = blockIdx.x * 16 + threadIdx.x;
    const int oh = blockIdx.y * 16 + threadIdx.y;
    const int nf = blockIdx.z;  // n * F + f
    if (oh >= s.OH || ow >= s.OW) return;
    const int n = nf / s.F;
    const int f = nf % s.F;
    const float* x_n = x + static_cast<size_t>(n) * s.C * s.H * s.W;
    const float* w_f = w + static_cast<size_t>(f) * s.C * s.KH * s.KW;
    y[(static_cast<size_t>(nf) * s.OH + oh) * s.OW + ow] = conv_at(x_n, w_f, s, oh, ow);
}

extern "C" void conv2d_nchw(const float* x, const float* w, float* y, int N, int C, int H, int W, int F,
                            int KH, int KW, int stride, int pad) {
    ConvShape s;
    s.C = C; s.H = H; s.W = W; s.F = F; s.KH = KH; s.KW = KW; s.stride = stride; s.pad = pad;
    s.OH = (H + 2 * pad - KH) / stride + 1;
    s.OW = (W + 2 * pad - KW) / stride + 1;

    const size_t x_elems = static_cast<size_t>(N) * C * H * W;
    const size_t w_elems = static_cast<size_t>(F) * C * KH * KW;
    const size_t y_elems = static_cast<size_t>(N) * F * s.OH * s.OW;
    float *d_x, *d_w, *d_y;
    hipMalloc(&d_x, x_elems * sizeof(float));
    hipMalloc(&d_w, w_elems * sizeof(float));
    hipMalloc(&d_y, y_elems * sizeof(float));
    hipMemcpy(d_x, x, x_elems * sizeof(float), hipMemcpyHostToDevice);
    hipMemcpy(d_w, w, w_elems * sizeof(float), hipMemcpyHostToDevice);

    const dim3 block(16, 16);
    const dim3 grid((s.OW + 15) / 16, (s.OH + 15) / 16, N * F);
    hipLaunchKernelGGL(conv2d_nchw_kernel, grid, block, 0, 0, d_x, d_w, d_y, s);

    hipMemcpy(y, d_y, y_elems * sizeof(float), hipMemcpyDeviceToHost);
    hipFree(d_x);
    hipFree(d_w);
    hipFree(d_y);
}
