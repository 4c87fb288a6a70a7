// Row softmax of x[rows, cols] into y, with a helper for the row maximum and a per-row std::vector scratch.
#include <cmath>
#include <vector>
#include <omp.h>

static float row_max(const float* row, int cols) {
  float m = row[0];
  for (int c = 1; c < cols; ++c) m = row[c] > m ? row[c] : m;
  return m;
}

extern "C" void softmax_scratch(const float* x, float* y, int rows, int cols) {
#pragma omp parallel for
  for (int r = 0; r < rows; ++r) {
    const float* row = x + (long)r * cols;
    std::vector<float> e(cols);
    const float m = row_max(row, cols);
    float sum = 0.0f;
    for (int c = 0; c < cols; ++c) {
      e[c] = std::exp(row[c] - m);
      sum += e[c];
    }
    const float inv = 1.0f / sum;
    for (int c = 0; c < cols; ++c) y[(long)r * cols + c] = e[c] * inv;
  }
}
