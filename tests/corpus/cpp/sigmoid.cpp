// sigmoid: y = 1 / (1 + exp(-x)). Vector exp, then the reciprocal from vrcp14ps refined by one
// Newton-Raphson step (relative error ~1e-8, cheaper than a full division).
#include <immintrin.h>

static inline __m512 exp512(__m512 x) {
    const __m512 lo = _mm512_set1_ps(-87.0f), hi = _mm512_set1_ps(88.0f);
    x = _mm512_max_ps(lo, _mm512_min_ps(hi, x));
    const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504089f)), _MM_FROUND_TO_NEAREST_INT);
    const __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(-2.12194440e-4f),
                                      _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), x));
    // e^r by Horner, 1 + r + r^2/2 + ... + r^6/720
    static const float c[7] = {1.0f / 720.0f, 1.0f / 120.0f, 1.0f / 24.0f, 1.0f / 6.0f, 0.5f, 1.0f, 1.0f};
    __m512 p = _mm512_set1_ps(c[0]);
    for (int i = 1; i < 7; ++i) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c[i]));
    return _mm512_scalef_ps(p, k);
}

static inline __m512 reciprocal(__m512 d) {
    const __m512 r0 = _mm512_rcp14_ps(d);
    // r1 = r0 * (2 - d * r0)
    return _mm512_mul_ps(r0, _mm512_fnmadd_ps(d, r0, _mm512_set1_ps(2.0f)));
}

extern "C" void sigmoid(const float* __restrict__ x, float* __restrict__ y, int n) {
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 sign_bit = _mm512_set1_ps(-0.0f);

#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1u);
        const __m512 v = _mm512_maskz_loadu_ps(m, x + i);
        const __m512 e = exp512(_mm512_xor_ps(v, sign_bit));
        _mm512_mask_storeu_ps(y + i, m, reciprocal(_mm512_add_ps(one, e)));
    }
}
