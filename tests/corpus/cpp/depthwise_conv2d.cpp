// depthwise_conv2d (NHWC): y[n,oh,ow,c] = sum_{kh,kw} x[n,ih,iw,c] * w[kh,kw,c], zero padding, any stride.
// Channels are innermost in x, w and y: vectorised over 16 channels (masked tail); taps that fall in the
// padding are skipped. One output row per work item.
#include <immintrin.h>

extern "C" void depthwise_conv2d(const float* __restrict__ x, const float* __restrict__ w, float* __restrict__ y,
                                 int N, int H, int W, int C, int KH, int KW, int stride, int pad) {
    const int OH = (H + 2 * pad - KH) / stride + 1;
    const int OW = (W + 2 * pad - KW) / stride + 1;

#pragma omp parallel for collapse(2) schedule(static)
    for (int n = 0; n < N; ++n) {
        for (int oh = 0; oh < OH; ++oh) {
            const int kh_lo = pad - oh * stride > 0 ? pad - oh * stride : 0;
            const int kh_hi = H + pad - oh * stride < KH ? H + pad - oh * stride : KH;
            for (int ow = 0; ow < OW; ++ow) {
                const int kw_lo = pad - ow * stride > 0 ? pad - ow * stride : 0;
                const int kw_hi = W + pad - ow * stride < KW ? W + pad - ow * stride : KW;
                float* out = y + (((size_t)n * OH + oh) * OW + ow) * C;
                for (int c = 0; c < C; c += 16) {
                    const __mmask16 m = C - c >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (C - c)) - 1u);
                    __m512 acc = _mm512_setzero_ps();
                    for (int kh = kh_lo; kh < kh_hi; ++kh) {
                        const int ih = oh * stride - pad + kh;
                        for (int kw = kw_lo; kw < kw_hi; ++kw) {
                            const int iw = ow * stride - pad + kw;
                            const __m512 xv = _mm512_maskz_loadu_ps(m, x + (((size_t)n * H + ih) * W + iw) * C + c);
                            const __m512 wv = _mm512_maskz_loadu_ps(m, w + ((size_t)kh * KW + kw) * C + c);
                            acc = _mm512_fmadd_ps(xv, wv, acc);
                        }
                    }
                    _mm512_mask_storeu_ps(out + c, m, acc);
                }
            }
        }
    }
}
