// conv2d_nchw: x[N,C,H,W] * w[F,C,KH,KW] -> y[N,F,OH,OW], any stride, zero padding.
// Per image: im2col into col[C*KH*KW][OH*OW] (padding becomes explicit zeros, stride disappears), then a
// gemm y[n] = w[F][CKK] @ col[CKK][P] with 4x32 register tiles (filters x output pixels) and masked tails.
#include <immintrin.h>
#include <vector>

namespace {

constexpr int TF = 4;   // filters per micro tile
constexpr int TP = 32;  // output pixels per micro tile

inline __mmask16 mask_n(int n) {
    if (n <= 0) return 0;
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

void im2col(const float* __restrict__ img, float* __restrict__ col, int C, int H, int W, int KH, int KW, int stride,
            int pad, int OH, int OW) {
    const int rows = C * KH * KW;
#pragma omp parallel for schedule(static)
    for (int r = 0; r < rows; ++r) {
        const int c = r / (KH * KW), kh = (r / KW) % KH, kw = r % KW;
        const float* plane = img + (size_t)c * H * W;
        float* dst = col + (size_t)r * OH * OW;
        for (int oh = 0; oh < OH; ++oh) {
            const int ih = oh * stride - pad + kh;
            for (int ow = 0; ow < OW; ++ow) {
                const int iw = ow * stride - pad + kw;
                const bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
                dst[oh * OW + ow] = inside ? plane[(size_t)ih * W + iw] : 0.0f;
            }
        }
    }
}

}  // namespace

extern "C" void conv2d_nchw(const float* x, const float* w, float* y, int N, int C, int H, int W, int F, int KH,
                            int KW, int stride, int pad) {
    const int OH = (H + 2 * pad - KH) / stride + 1;
    const int OW = (W + 2 * pad - KW) / stride + 1;
    const int P = OH * OW;
    const int CKK = C * KH * KW;
    std::vector<float> col((size_t)CKK * P);

    for (int n = 0; n < N; ++n) {
        im2col(x + (size_t)n * C * H * W, col.data(), C, H, W, KH, KW, stride, pad, OH, OW);
        float* yn = y + (size_t)n * F * P;
        const int ftiles = (F + TF - 1) / TF, ptiles = (P + TP - 1) / TP;

#pragma omp parallel for collapse(2) schedule(static)
        for (int ft = 0; ft < ftiles; ++ft) {
            for (int pt = 0; pt < ptiles; ++pt) {
                const int f0 = ft * TF, p0 = pt * TP;
                const int nf = F - f0 < TF ? F - f0 : TF;
                const __mmask16 m0 = mask_n(P - p0), m1 = mask_n(P - p0 - 16);
                __m512 lo[TF], hi[TF];
                for (int i = 0; i < TF; ++i) lo[i] = hi[i] = _mm512_setzero_ps();

                for (int r = 0; r < CKK; ++r) {
                    const float* src = col.data() + (size_t)r * P + p0;
                    const __m512 c0 = _mm512_maskz_loadu_ps(m0, src);
                    const __m512 c1 = _mm512_maskz_loadu_ps(m1, src + 16);
                    for (int i = 0; i < nf; ++i) {
                        const __m512 wv = _mm512_set1_ps(w[(size_t)(f0 + i) * CKK + r]);
                        lo[i] = _mm512_fmadd_ps(wv, c0, lo[i]);
                        hi[i] = _mm512_fmadd_ps(wv, c1, hi[i]);
                    }
                }
                for (int i = 0; i < nf; ++i) {
                    float* dst = yn + (size_t)(f0 + i) * P + p0;
                    _mm512_mask_storeu_ps(dst, m0, lo[i]);
                    _mm512_mask_storeu_ps(dst + 16, m1, hi[i]);
                }
            }
        }
    }
}
