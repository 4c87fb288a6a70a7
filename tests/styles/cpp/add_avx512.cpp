// c = a + b with AVX-512: 16 lanes per step and a masked tail for the remainder.
#include <immintrin.h>

extern "C" void add_avx512(const float* a, const float* b, float* c, int n) {
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 va = _mm512_loadu_ps(a + i);
        __m512 vb = _mm512_loadu_ps(b + i);
        _mm512_storeu_ps(c + i, _mm512_add_ps(va, vb));
    }
    if (i < n) {
        const __mmask16 tail = (__mmask16)((1u << (n - i)) - 1u);
        __m512 va = _mm512_maskz_loadu_ps(tail, a + i);
        __m512 vb = _mm512_maskz_loadu_ps(tail, b + i);
        _mm512_mask_storeu_ps(c + i, tail, _mm512_add_ps(va, vb));
    }
}
