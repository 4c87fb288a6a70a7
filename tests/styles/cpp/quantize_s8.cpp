// q[i] = saturate_int8(round_to_nearest_even(x[i] * inv_scale)) with AVX-512; tail through a mask.
#include <immintrin.h>
#include <cstdint>

extern "C" void quantize_s8(const float* x, int8_t* q, float inv_scale, int n) {
  const __m512 s = _mm512_set1_ps(inv_scale);
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512i v = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + i), s));
    _mm_storeu_si128((__m128i*)(q + i), _mm512_cvtsepi32_epi8(v));
  }
  if (i < n) {
    const __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
    __m512i v = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), s));
    _mm512_mask_cvtsepi32_storeu_epi8(q + i, m, v);
  }
}
