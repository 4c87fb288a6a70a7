// layernorm: per row, mean and biased variance (two vector passes for accuracy), then
// y = (x - mean) * rstd * gamma + beta. One row per OpenMP iteration; masked tails.
#include <immintrin.h>
#include <cmath>

namespace {

inline __mmask16 valid(int remaining) {
    return remaining >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << remaining) - 1u);
}

}  // namespace

extern "C" void layernorm(const float* __restrict__ x, const float* __restrict__ gamma, const float* __restrict__ beta,
                          float* __restrict__ y, int rows, int cols, float eps) {
#pragma omp parallel for schedule(static)
    for (int r = 0; r < rows; ++r) {
        const float* xr = x + (size_t)r * cols;
        float* yr = y + (size_t)r * cols;

        __m512 s = _mm512_setzero_ps();
        for (int c = 0; c < cols; c += 16) s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(valid(cols - c), xr + c));
        const float mu = _mm512_reduce_add_ps(s) / (float)cols;
        const __m512 vmu = _mm512_set1_ps(mu);

        __m512 ss = _mm512_setzero_ps();
        for (int c = 0; c < cols; c += 16) {
            const __mmask16 m = valid(cols - c);
            const __m512 d = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, xr + c), vmu);
            ss = _mm512_fmadd_ps(d, d, ss);
        }
        const float rstd = 1.0f / std::sqrt(_mm512_reduce_add_ps(ss) / (float)cols + eps);
        const __m512 vr = _mm512_set1_ps(rstd);

        for (int c = 0; c < cols; c += 16) {
            const __mmask16 m = valid(cols - c);
            const __m512 norm = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, xr + c), vmu), vr);
            const __m512 out = _mm512_fmadd_ps(norm, _mm512_maskz_loadu_ps(m, gamma + c), _mm512_maskz_loadu_ps(m, beta + c));
            _mm512_mask_storeu_ps(yr + c, m, out);
        }
    }
}
