// instancenorm: each (n, c) plane of x[N,C,HW] is normalised over HW (biased variance), then scaled by
// gamma[c] and shifted by beta[c]. One plane per work item: a fused sum / sum-of-squares pass around a
// shift (the plane's first value, which keeps the one-pass variance well conditioned), then one fma pass.
#include <immintrin.h>
#include <cmath>

#define LANE_MASK(n) ((n) >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n)) - 1u))

extern "C" void instancenorm(const float* __restrict__ x, const float* __restrict__ gamma,
                             const float* __restrict__ beta, float* __restrict__ y, int N, int C, int HW, float eps) {
    const int planes = N * C;

#pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; ++p) {
        const int c = p % C;
        const float* xp = x + (size_t)p * HW;
        float* yp = y + (size_t)p * HW;
        const float shift = xp[0];
        const __m512 vshift = _mm512_set1_ps(shift);

        __m512 s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps();
        for (int i = 0; i < HW; i += 16) {
            const __mmask16 m = LANE_MASK(HW - i);
            const __m512 d = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, xp + i), vshift);
            s1 = _mm512_add_ps(s1, d);
            s2 = _mm512_fmadd_ps(d, d, s2);
        }
        const float mean_d = _mm512_reduce_add_ps(s1) / (float)HW;
        const float var = _mm512_reduce_add_ps(s2) / (float)HW - mean_d * mean_d;
        const float scale = gamma[c] / std::sqrt((var > 0.0f ? var : 0.0f) + eps);
        const float offset = beta[c] - (shift + mean_d) * scale;

        const __m512 vs = _mm512_set1_ps(scale), vo = _mm512_set1_ps(offset);
        for (int i = 0; i < HW; i += 16) {
            const __mmask16 m = LANE_MASK(HW - i);
            _mm512_mask_storeu_ps(yp + i, m, _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, xp + i), vs, vo));
        }
    }
}
