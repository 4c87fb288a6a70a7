// For each row of x[rows, cols]: stats[2r] = max, stats[2r+1] = sum, with AVX2. The tail is loaded with
// _mm256_maskload_ps; for the max the masked-off lanes are replaced by -inf through a blend.
#include <immintrin.h>
#include <cmath>

static inline float hmax8(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v);
  __m128 hi = _mm256_extractf128_ps(v, 1);
  __m128 m = _mm_max_ps(lo, hi);
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 0x55));
  return _mm_cvtss_f32(m);
}

static inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_hadd_ps(s, s);
  s = _mm_hadd_ps(s, s);
  return _mm_cvtss_f32(s);
}

extern "C" void avx2_row_stats(const float* x, float* stats, int rows, int cols) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256 neg_inf = _mm256_set1_ps(-INFINITY);
#pragma omp parallel for schedule(dynamic, 4)
  for (int r = 0; r < rows; ++r) {
    const float* p = x + (long)r * cols;
    __m256 vmax = neg_inf;
    __m256 vsum = _mm256_setzero_ps();
    int c = 0;
    for (; c + 8 <= cols; c += 8) {
      __m256 v = _mm256_loadu_ps(p + c);
      vmax = _mm256_max_ps(vmax, v);
      vsum = _mm256_add_ps(vsum, v);
    }
    if (c < cols) {
      __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(cols - c), lane);
      __m256 v = _mm256_maskload_ps(p + c, mask);
      vsum = _mm256_add_ps(vsum, v);
      vmax = _mm256_max_ps(vmax, _mm256_blendv_ps(neg_inf, v, _mm256_castsi256_ps(mask)));
    }
    stats[2 * r] = hmax8(vmax);
    stats[2 * r + 1] = hsum8(vsum);
  }
}
