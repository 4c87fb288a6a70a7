// max over the last axis: the masked tail keeps the accumulator's lanes (mask_max), so no
// sentinel value has to be loaded.
#include <immintrin.h>

extern "C" void reduce_max(const float* __restrict__ x, float* __restrict__ y, int rows, int cols) {
#pragma omp parallel for schedule(static)
    for (int r = 0; r < rows; ++r) {
        const float* row = x + (size_t)r * cols;
        __m512 acc = _mm512_set1_ps(row[0]);
        int c = 0;
        for (; c + 16 <= cols; c += 16) {
            acc = _mm512_max_ps(acc, _mm512_loadu_ps(row + c));
        }
        if (c < cols) {
            const __mmask16 m = (__mmask16)((1u << (cols - c)) - 1u);
            acc = _mm512_mask_max_ps(acc, m, acc, _mm512_maskz_loadu_ps(m, row + c));
        }
        y[r] = _mm512_reduce_max_ps(acc);
    }
}
