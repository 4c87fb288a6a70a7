// out[r] = sum_k a[r, k] * w[k] with a uint8 and w int8, int32 result; 64 products per _mm512_dpbusd_epi32,
// a scalar loop for the tail of each row.
#include <immintrin.h>
#include <cstdint>

extern "C" void vnni_gemv(const uint8_t* a, const int8_t* w, int32_t* out, int rows, int k) {
  for (int r = 0; r < rows; ++r) {
    const uint8_t* row = a + (long)r * k;
    __m512i acc = _mm512_setzero_si512();
    int j = 0;
    for (; j + 64 <= k; j += 64) {
      __m512i va = _mm512_loadu_si512((const void*)(row + j));
      __m512i vw = _mm512_loadu_si512((const void*)(w + j));
      acc = _mm512_dpbusd_epi32(acc, va, vw);
    }
    int32_t total = _mm512_reduce_add_epi32(acc);
    for (; j < k; ++j) total += (int32_t)row[j] * (int32_t)w[j];
    out[r] = total;
  }
}
