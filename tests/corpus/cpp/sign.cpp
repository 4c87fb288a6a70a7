// sign: y = -1, 0 or +1 from two compare masks (0 stays 0).
#include <immintrin.h>

#define LANES 16

extern "C" void sign(const float* __restrict__ x, float* __restrict__ y, int n) {
    const __m512 zero = _mm512_setzero_ps();
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 minus_one = _mm512_set1_ps(-1.0f);
    const int full = n / LANES * LANES;

#pragma omp parallel for schedule(static)
    for (int i = 0; i < full; i += LANES) {
        const __m512 v = _mm512_loadu_ps(x + i);
        const __mmask16 pos = _mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ);
        const __mmask16 neg = _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ);
        __m512 r = _mm512_mask_mov_ps(zero, pos, one);
        r = _mm512_mask_mov_ps(r, neg, minus_one);
        _mm512_storeu_ps(y + i, r);
    }

    for (int i = full; i < n; ++i) {
        y[i] = x[i] > 0.0f ? 1.0f : (x[i] < 0.0f ? -1.0f : 0.0f);
    }
}
