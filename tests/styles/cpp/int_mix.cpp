// Integer arithmetic with signs: out[i] = (a[i] / d) + (a[i] % d) * 3 + (a[i] >> 2) - (int)((unsigned)a[i] >> 28),
// a[i] = v[i] - offset (may be negative), d a positive divisor; int64_t sizes.
#include <cstdint>

extern "C" void int_mix(const int32_t* v, int32_t* out, int32_t offset, int32_t d, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const int32_t a = v[i] - offset;
    out[i] = (a / d) + (a % d) * 3 + (a >> 2) - (int32_t)((uint32_t)a >> 28);
  }
}
