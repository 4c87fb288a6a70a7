// softmax over the last axis: one row per OpenMP iteration, three vector passes
// (max, exp and sum with exp(x - max) stored to y, scale by 1/sum). Tails use masked loads.
#include <immintrin.h>

namespace {

inline __mmask16 lanes(int remaining) {
    return remaining >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << remaining) - 1u);
}

inline __m512 fast_exp(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));  // arguments are <= 0 here
    const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504089f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(1.0f / 720.0f), r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, k);
}

}  // namespace

extern "C" void softmax(const float* __restrict__ x, float* __restrict__ y, int rows, int cols) {
#pragma omp parallel for schedule(static)
    for (int r = 0; r < rows; ++r) {
        const float* xr = x + (long)r * cols;
        float* yr = y + (long)r * cols;

        const __m512 neg_inf = _mm512_set1_ps(-__builtin_inff());
        __m512 vmax = neg_inf;
        for (int c = 0; c < cols; c += 16) {
            vmax = _mm512_max_ps(vmax, _mm512_mask_loadu_ps(neg_inf, lanes(cols - c), xr + c));
        }
        const __m512 row_max = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));

        __m512 vsum = _mm512_setzero_ps();
        for (int c = 0; c < cols; c += 16) {
            const __mmask16 m = lanes(cols - c);
            const __m512 e = fast_exp(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, xr + c), row_max));
            vsum = _mm512_mask_add_ps(vsum, m, vsum, e);
            _mm512_mask_storeu_ps(yr + c, m, e);
        }
        const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(vsum));

        for (int c = 0; c < cols; c += 16) {
            const __mmask16 m = lanes(cols - c);
            _mm512_mask_storeu_ps(yr + c, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, yr + c), inv));
        }
    }
}
