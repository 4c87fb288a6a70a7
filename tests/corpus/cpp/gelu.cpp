// gelu (tanh form): 0.5 x (1 + tanh(u)) == x * sigmoid(2u) with u = 0.7978845608 (x + 0.044715 x^3),
// so one vector exp and one division per 16 elements.
#include <immintrin.h>

namespace {

// exp(x) = 2^k * e^r with k = round(x / ln2) and |r| <= ln2 / 2; degree-6 Taylor polynomial for e^r,
// 2^k applied with vscalefps. The input is clamped so the result stays finite.
inline __m512 exp_ps(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.0f)), _mm512_set1_ps(88.0f));
    const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504089f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.0f / 720.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, k);
}

inline __m512 gelu_ps(__m512 x) {
    const __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
    const __m512 u = _mm512_mul_ps(_mm512_set1_ps(0.7978845608f), _mm512_fmadd_ps(_mm512_set1_ps(0.044715f), x3, x));
    const __m512 e = exp_ps(_mm512_mul_ps(_mm512_set1_ps(-2.0f), u));
    return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

}  // namespace

extern "C" void gelu(const float* __restrict__ x, float* __restrict__ y, int n) {
    const int full = n - n % 16;

#pragma omp parallel for schedule(static)
    for (int i = 0; i < full; i += 16) {
        _mm512_storeu_ps(y + i, gelu_ps(_mm512_loadu_ps(x + i)));
    }
    if (full != n) {
        const __mmask16 m = _cvtu32_mask16((1u << (n - full)) - 1u);
        _mm512_mask_storeu_ps(y + full, m, gelu_ps(_mm512_maskz_loadu_ps(m, x + full)));
    }
}
