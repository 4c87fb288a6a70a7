// rmsnorm: y = x / sqrt(mean(x^2) + eps) * gamma, per row. Sum of squares with fma (two accumulators),
// then a scaled multiply by gamma.
#include <immintrin.h>
#include <cmath>

static inline __mmask16 tail16(int n) { return (__mmask16)((1u << n) - 1u); }

extern "C" void rmsnorm(const float* __restrict__ x, const float* __restrict__ gamma, float* __restrict__ y, int rows,
                        int cols, float eps) {
    const int full = cols & ~15;
    const int rem = cols - full;

#pragma omp parallel for schedule(static)
    for (int r = 0; r < rows; ++r) {
        const float* xr = x + (size_t)r * cols;
        float* yr = y + (size_t)r * cols;

        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
        int c = 0;
        for (; c + 32 <= full; c += 32) {
            const __m512 v0 = _mm512_loadu_ps(xr + c), v1 = _mm512_loadu_ps(xr + c + 16);
            a0 = _mm512_fmadd_ps(v0, v0, a0);
            a1 = _mm512_fmadd_ps(v1, v1, a1);
        }
        for (; c < full; c += 16) {
            const __m512 v = _mm512_loadu_ps(xr + c);
            a0 = _mm512_fmadd_ps(v, v, a0);
        }
        if (rem) {
            const __m512 v = _mm512_maskz_loadu_ps(tail16(rem), xr + full);
            a1 = _mm512_fmadd_ps(v, v, a1);
        }
        const float inv_rms = 1.0f / std::sqrt(_mm512_reduce_add_ps(_mm512_add_ps(a0, a1)) / (float)cols + eps);
        const __m512 s = _mm512_set1_ps(inv_rms);

        for (c = 0; c < full; c += 16) {
            _mm512_storeu_ps(yr + c, _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(xr + c), s), _mm512_loadu_ps(gamma + c)));
        }
        if (rem) {
            const __mmask16 m = tail16(rem);
            const __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, xr + full), s);
            _mm512_mask_storeu_ps(yr + full, m, _mm512_mul_ps(v, _mm512_maskz_loadu_ps(m, gamma + full)));
        }
    }
}
