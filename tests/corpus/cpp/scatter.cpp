// scatter: out[idx[i], :] = src[i, :]; the indices are distinct, so rows can be written in parallel with no
// ordering concern, and rows of `out` that no index names are left untouched. AVX-512 row copy with a
// masked tail.
#include <immintrin.h>

static inline void copy_row(float* __restrict__ dst, const float* __restrict__ src, int n) {
    int j = 0;
    for (; j + 16 <= n; j += 16) _mm512_storeu_ps(dst + j, _mm512_loadu_ps(src + j));
    if (j < n) {
        const __mmask16 m = (__mmask16)((1u << (n - j)) - 1u);
        _mm512_mask_storeu_ps(dst + j, m, _mm512_maskz_loadu_ps(m, src + j));
    }
}

extern "C" void scatter(const float* __restrict__ src, const int* __restrict__ idx, float* __restrict__ out, int n_idx,
                        int cols, int rows) {
    (void)rows;  // indices are in [0, rows) by contract
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n_idx; ++i) {
        copy_row(out + (size_t)idx[i] * cols, src + (size_t)i * cols, cols);
    }
}
