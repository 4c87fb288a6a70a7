// add: c = a + b, fp32, AVX-512 with a masked tail.
#include <immintrin.h>

extern "C" void add(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ c, int n) {
    const int full = n & ~15;

#pragma omp parallel for schedule(static)
    for (int i = 0; i < full; i += 16) {
        const __m512 va = _mm512_loadu_ps(a + i);
        const __m512 vb = _mm512_loadu_ps(b + i);
        _mm512_storeu_ps(c + i, _mm512_add_ps(va, vb));
    }

    if (full < n) {
        const __mmask16 m = (__mmask16)((1u << (n - full)) - 1u);
        const __m512 va = _mm512_maskz_loadu_ps(m, a + full);
        const __m512 vb = _mm512_maskz_loadu_ps(m, b + full);
        _mm512_mask_storeu_ps(c + full, m, _mm512_add_ps(va, vb));
    }
}
