// maxpool (NHWC, KxK window, no padding): vectorised over 16 channels with a masked tail; the first tap
// initialises the accumulator so no -inf sentinel is needed. One output row per work item.
#include <immintrin.h>

extern "C" void maxpool(const float* __restrict__ x, float* __restrict__ y, int N, int H, int W, int C, int K,
                        int stride) {
    const int OH = (H - K) / stride + 1;
    const int OW = (W - K) / stride + 1;

#pragma omp parallel for collapse(2) schedule(static)
    for (int n = 0; n < N; ++n) {
        for (int oh = 0; oh < OH; ++oh) {
            for (int ow = 0; ow < OW; ++ow) {
                const float* corner = x + (((size_t)n * H + oh * stride) * W + ow * stride) * C;
                float* out = y + (((size_t)n * OH + oh) * OW + ow) * C;
                for (int c = 0; c < C; c += 16) {
                    const __mmask16 m = C - c >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (C - c)) - 1u);
                    __m512 acc = _mm512_maskz_loadu_ps(m, corner + c);
                    for (int kh = 0; kh < K; ++kh) {
                        for (int kw = 0; kw < K; ++kw) {
                            const float* tap = corner + ((size_t)kh * W + kw) * C + c;
                            acc = _mm512_max_ps(acc, _mm512_maskz_loadu_ps(m, tap));
                        }
                    }
                    _mm512_mask_storeu_ps(out + c, m, acc);
                }
            }
        }
    }
}
