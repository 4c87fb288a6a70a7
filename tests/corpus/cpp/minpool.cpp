// minpool (NHWC, KxK window, no padding): work items are output pixels (flattened n, oh, ow); each takes
// the running minimum of its K*K taps 16 channels at a time, +inf filling the masked channel tail.
#include <immintrin.h>

static inline __mmask16 channel_mask(int left) {
    return left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
}

extern "C" void minpool(const float* __restrict__ x, float* __restrict__ y, int N, int H, int W, int C, int K,
                        int stride) {
    const int OH = (H - K) / stride + 1;
    const int OW = (W - K) / stride + 1;
    const long pixels = (long)N * OH * OW;
    const __m512 pos_inf = _mm512_set1_ps(__builtin_inff());

#pragma omp parallel for schedule(static)
    for (long p = 0; p < pixels; ++p) {
        const int ow = (int)(p % OW);
        const int oh = (int)((p / OW) % OH);
        const int n = (int)(p / ((long)OW * OH));
        const float* base = x + (((size_t)n * H + (size_t)oh * stride) * W + (size_t)ow * stride) * C;
        for (int c = 0; c < C; c += 16) {
            const __mmask16 m = channel_mask(C - c);
            __m512 acc = pos_inf;
            for (int kh = 0; kh < K; ++kh) {
                const float* row = base + (size_t)kh * W * C + c;
                for (int kw = 0; kw < K; ++kw) acc = _mm512_min_ps(acc, _mm512_mask_loadu_ps(pos_inf, m, row + (size_t)kw * C));
            }
            _mm512_mask_storeu_ps(y + (size_t)p * C + c, m, acc);
        }
    }
}
