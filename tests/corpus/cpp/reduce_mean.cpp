// mean over the last axis: vector sum with a masked tail, scaled by 1/cols.
#include <immintrin.h>

static inline float row_sum(const float* __restrict__ p, int n) {
    __m512 acc = _mm512_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) acc = _mm512_add_ps(acc, _mm512_loadu_ps(p + i));
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(m, p + i));
    }
    return _mm512_reduce_add_ps(acc);
}

extern "C" void reduce_mean(const float* __restrict__ x, float* __restrict__ y, int rows, int cols) {
    const float inv_cols = 1.0f / (float)cols;
#pragma omp parallel for
    for (int r = 0; r < rows; ++r) {
        y[r] = row_sum(x + (size_t)r * cols, cols) * inv_cols;
    }
}
