// conv2d_nhwc: x[N,H,W,C] * w[KH,KW,C,F] -> y[N,OH,OW,F], any stride, zero padding.
// Output channels are contiguous in both w and y, so the kernel vectorises over F: for one output pixel,
// up to 64 channels (4 zmm) accumulate x[n,ih,iw,c] (broadcast) * w[kh,kw,c,f:f+16] over the taps that fall
// inside the image (padding taps are skipped, not multiplied by zero). Work items are output rows.
#include <immintrin.h>

#define FCHUNKS 4

static inline __mmask16 lane_mask(int n) {
    if (n <= 0) return 0;
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

extern "C" void conv2d_nhwc(const float* x, const float* w, float* y, int N, int C, int H, int W, int F, int KH,
                            int KW, int stride, int pad) {
    const int OH = (H + 2 * pad - KH) / stride + 1;
    const int OW = (W + 2 * pad - KW) / stride + 1;

#pragma omp parallel for collapse(2) schedule(static)
    for (int n = 0; n < N; ++n) {
        for (int oh = 0; oh < OH; ++oh) {
            for (int ow = 0; ow < OW; ++ow) {
                float* out = y + (((size_t)n * OH + oh) * OW + ow) * F;
                for (int f0 = 0; f0 < F; f0 += 16 * FCHUNKS) {
                    __mmask16 m[FCHUNKS];
                    __m512 acc[FCHUNKS];
                    for (int q = 0; q < FCHUNKS; ++q) {
                        m[q] = lane_mask(F - f0 - 16 * q);
                        acc[q] = _mm512_setzero_ps();
                    }
                    for (int kh = 0; kh < KH; ++kh) {
                        const int ih = oh * stride - pad + kh;
                        if (ih < 0 || ih >= H) continue;
                        for (int kw = 0; kw < KW; ++kw) {
                            const int iw = ow * stride - pad + kw;
                            if (iw < 0 || iw >= W) continue;
                            const float* px = x + (((size_t)n * H + ih) * W + iw) * C;
                            const float* wt = w + ((size_t)kh * KW + kw) * C * F + f0;
                            for (int c = 0; c < C; ++c) {
                                const __m512 xv = _mm512_set1_ps(px[c]);
                                for (int q = 0; q < FCHUNKS; ++q) {
                                    if (!m[q]) break;
                                    acc[q] = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(m[q], wt + (size_t)c * F + 16 * q),
                                                             acc[q]);
                                }
                            }
                        }
                    }
                    for (int q = 0; q < FCHUNKS && m[q]; ++q) _mm512_mask_storeu_ps(out + f0 + 16 * q, m[q], acc[q]);
                }
            }
        }
    }
}
