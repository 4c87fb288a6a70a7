// dst[c, r] = src[r, c] for src[rows, cols], in TB x TB tiles spread over threads with collapse(2).
#include <omp.h>

#define TB 16
#define MIN(a, b) ((a) < (b) ? (a) : (b))

extern "C" void tiled_transpose(const float* __restrict__ src, float* __restrict__ dst, int rows, int cols) {
#pragma omp parallel for collapse(2)
  for (int r0 = 0; r0 < rows; r0 += TB) {
    for (int c0 = 0; c0 < cols; c0 += TB) {
      const int r1 = MIN(r0 + TB, rows);
      const int c1 = MIN(c0 + TB, cols);
      for (int r = r0; r < r1; ++r)
        for (int c = c0; c < c1; ++c)
          dst[c * rows + r] = src[r * cols + c];
    }
  }
}
