// q[i] = clamp(round_half_even(x[i] * inv_scale), -128, 127) as int8: AVX-512 body (_mm512_cvtps_epi32 rounds
// to nearest even) and a scalar tail with nearbyintf (same rounding in the default mode).
#include <immintrin.h>
#include <cmath>
#include <cstdint>

extern "C" void quantize_rne(const float* x, int8_t* q, float inv_scale, int n) {
  const __m512 s = _mm512_set1_ps(inv_scale);
  const __m512i lo = _mm512_set1_epi32(-128);
  const __m512i hi = _mm512_set1_epi32(127);
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512i v = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + i), s));
    v = _mm512_min_epi32(_mm512_max_epi32(v, lo), hi);
    alignas(64) int32_t lanes[16];
    _mm512_store_si512((void*)lanes, v);
    for (int l = 0; l < 16; ++l) q[i + l] = (int8_t)lanes[l];
  }
  for (; i < n; ++i) {
    float r = nearbyintf(x[i] * inv_scale);
    r = r < -128.0f ? -128.0f : (r > 127.0f ? 127.0f : r);
    q[i] = (int8_t)r;
  }
}
