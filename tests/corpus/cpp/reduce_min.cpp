// min over the last axis: +inf-filled masked loads, four accumulators for long rows.
#include <immintrin.h>

#define TAIL_MASK(rem) ((rem) >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (rem)) - 1u))

extern "C" void reduce_min(const float* __restrict__ x, float* __restrict__ y, int rows, int cols) {
    const __m512 pos_inf = _mm512_set1_ps(__builtin_inff());

#pragma omp parallel for schedule(static)
    for (int r = 0; r < rows; ++r) {
        const float* row = x + (size_t)r * cols;
        __m512 a0 = pos_inf, a1 = pos_inf, a2 = pos_inf, a3 = pos_inf;
        int c = 0;
        for (; c + 64 <= cols; c += 64) {
            a0 = _mm512_min_ps(a0, _mm512_loadu_ps(row + c));
            a1 = _mm512_min_ps(a1, _mm512_loadu_ps(row + c + 16));
            a2 = _mm512_min_ps(a2, _mm512_loadu_ps(row + c + 32));
            a3 = _mm512_min_ps(a3, _mm512_loadu_ps(row + c + 48));
        }
        for (; c < cols; c += 16) {
            a0 = _mm512_min_ps(a0, _mm512_mask_loadu_ps(pos_inf, TAIL_MASK(cols - c), row + c));
        }
        y[r] = _mm512_reduce_min_ps(_mm512_min_ps(_mm512_min_ps(a0, a1), _mm512_min_ps(a2, a3)));
    }
}
