// z = a x + b y with AVX-512: one loop, every step masked (the mask is full except on the last, partial step).
#include <immintrin.h>

extern "C" void axpby_avx512(const float* x, const float* y, float* z, float a, float b, int n) {
    const __m512 va = _mm512_set1_ps(a);
    const __m512 vb = _mm512_set1_ps(b);
    for (int i = 0; i < n; i += 16) {
        const int left = n - i;
        const __mmask16 m = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
        const __m512 vx = _mm512_mask_loadu_ps(_mm512_setzero_ps(), m, x + i);
        const __m512 vy = _mm512_mask_loadu_ps(_mm512_setzero_ps(), m, y + i);
        _mm512_mask_storeu_ps(z + i, m, _mm512_fmadd_ps(va, vx, _mm512_mul_ps(vb, vy)));
    }
}
