// y[i] = max(table[idx[i]], 0) * gain with AVX-512 gathers and a compare mask; scalar tail.
#include <immintrin.h>
#include <cstdint>

extern "C" void gather_relu(const float* table, const int32_t* idx, float* y, float gain, int n, int table_size) {
  const __m512 zero = _mm512_setzero_ps();
  const __m512 g = _mm512_set1_ps(gain);
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512i vi = _mm512_loadu_si512((const void*)(idx + i));
    __m512 v = _mm512_i32gather_ps(vi, table, 4);
    __mmask16 pos = _mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ);
    v = _mm512_mask_blend_ps(pos, zero, v);
    _mm512_storeu_ps(y + i, _mm512_mul_ps(v, g));
  }
  for (; i < n; ++i) {
    const float t = table[idx[i]];
    y[i] = (t > 0.0f ? t : 0.0f) * gain;
  }
}
