// batchnorm (inference): y = (x - mean[c]) / sqrt(var[c] + eps) * gamma[c] + beta[c] on x[N,C,HW].
// Folded into one fma per element: scale = gamma * rsqrt(var + eps), shift = beta - mean * scale.
#include <immintrin.h>
#include <cmath>
#include <vector>

extern "C" void batchnorm(const float* __restrict__ x, const float* __restrict__ mean, const float* __restrict__ var,
                          const float* __restrict__ gamma, const float* __restrict__ beta, float* __restrict__ y,
                          int N, int C, int HW, float eps) {
    std::vector<float> scale(C), shift(C);
    for (int c = 0; c < C; ++c) {
        scale[c] = gamma[c] / std::sqrt(var[c] + eps);
        shift[c] = beta[c] - mean[c] * scale[c];
    }

#pragma omp parallel for collapse(2) schedule(static)
    for (int n = 0; n < N; ++n) {
        for (int c = 0; c < C; ++c) {
            const size_t base = ((size_t)n * C + c) * HW;
            const __m512 s = _mm512_set1_ps(scale[c]);
            const __m512 t = _mm512_set1_ps(shift[c]);
            int i = 0;
            for (; i + 16 <= HW; i += 16) {
                _mm512_storeu_ps(y + base + i, _mm512_fmadd_ps(_mm512_loadu_ps(x + base + i), s, t));
            }
            if (i < HW) {
                const __mmask16 m = (__mmask16)((1u << (HW - i)) - 1u);
                _mm512_mask_storeu_ps(y + base + i, m, _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + base + i), s, t));
            }
        }
    }
}
