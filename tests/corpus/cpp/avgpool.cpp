// avgpool (NHWC, KxK window, no padding): sum of the K*K taps over 16 channels at a time, times 1/(K*K).
// Rows of taps are contiguous in W*C, so each tap row is walked with a pointer bump.
#include <immintrin.h>

#define CH_MASK(left) ((left) >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (left)) - 1u))

extern "C" void avgpool(const float* __restrict__ x, float* __restrict__ y, int N, int H, int W, int C, int K,
                        int stride) {
    const int OH = (H - K) / stride + 1;
    const int OW = (W - K) / stride + 1;
    const __m512 inv_area = _mm512_set1_ps(1.0f / (float)(K * K));
    const size_t row_pitch = (size_t)W * C;

#pragma omp parallel for collapse(2) schedule(static)
    for (int n = 0; n < N; ++n) {
        for (int oh = 0; oh < OH; ++oh) {
            const float* in_row = x + ((size_t)n * H + (size_t)oh * stride) * row_pitch;
            float* out_row = y + ((size_t)n * OH + oh) * OW * C;
            for (int ow = 0; ow < OW; ++ow) {
                for (int c = 0; c < C; c += 16) {
                    const __mmask16 m = CH_MASK(C - c);
                    __m512 acc = _mm512_setzero_ps();
                    const float* tap_row = in_row + (size_t)ow * stride * C + c;
                    for (int kh = 0; kh < K; ++kh, tap_row += row_pitch) {
                        const float* tap = tap_row;
                        for (int kw = 0; kw < K; ++kw, tap += C) acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(m, tap));
                    }
                    _mm512_mask_storeu_ps(out_row + (size_t)ow * C + c, m, _mm512_mul_ps(acc, inv_area));
                }
            }
        }
    }
}
