// sum over the last axis: two independent accumulators per row hide the add latency; masked tail.
#include <immintrin.h>

extern "C" void reduce_sum(const float* __restrict__ x, float* __restrict__ y, int rows, int cols) {
    const int full32 = cols & ~31;

#pragma omp parallel for schedule(static)
    for (int r = 0; r < rows; ++r) {
        const float* row = x + (long)r * cols;
        __m512 acc0 = _mm512_setzero_ps();
        __m512 acc1 = _mm512_setzero_ps();
        int c = 0;
        for (; c < full32; c += 32) {
            acc0 = _mm512_add_ps(acc0, _mm512_loadu_ps(row + c));
            acc1 = _mm512_add_ps(acc1, _mm512_loadu_ps(row + c + 16));
        }
        for (; c < cols; c += 16) {
            const int rem = cols - c;
            const __mmask16 m = rem >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << rem) - 1u);
            acc0 = _mm512_add_ps(acc0, _mm512_maskz_loadu_ps(m, row + c));
        }
        y[r] = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
    }
}
