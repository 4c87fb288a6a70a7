// out[0] = max |x[i]|, out[1] = sum |x[i]| over n elements: two reduction clauses on one loop, size_t index.
#include <cmath>
#include <cstddef>

extern "C" void omp_norms(const float* x, float* out, int n) {
  float linf = 0.0f;
  double l1 = 0.0;
#pragma omp parallel for reduction(max : linf) reduction(+ : l1)
  for (size_t i = 0; i < (size_t)n; ++i) {
    const float a = std::fabs(x[i]);
    linf = a > linf ? a : linf;
    l1 += a;
  }
  out[0] = linf;
  out[1] = (float)l1;
}
