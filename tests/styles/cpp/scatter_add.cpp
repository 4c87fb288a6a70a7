// acc[idx[i]] += w[i] * x[i] for i < n (indices may repeat); plain serial loop, no pragma.
#include <cstdint>

extern "C" void scatter_add(const float* x, const float* w, const int32_t* idx, float* acc, int n, int m) {
  for (int i = 0; i < n; ++i) {
    acc[idx[i]] += w[i] * x[i];
  }
}
