// relu: y = max(x, 0), fp32, AVX-512.
#include <immintrin.h>

extern "C" void relu(const float* __restrict__ x, float* __restrict__ y, int n) {
    const __m512 zero = _mm512_setzero_ps();

#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i += 16) {
        const int rem = n - i;
        const __mmask16 m = rem >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << rem) - 1u);
        const __m512 v = _mm512_maskz_loadu_ps(m, x + i);
        _mm512_mask_storeu_ps(y + i, m, _mm512_max_ps(v, zero));
    }
}
