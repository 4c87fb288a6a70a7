// Per-column exponential moving average down the rows: y[0, c] = x[0, c];
// y[r, c] = a * y[r-1, c] + (1 - a) * x[r, c]. The row loop carries a dependence, the column loop does not.
extern "C" void decay_scan(const float* x, float* y, float a, int rows, int cols) {
  for (int c = 0; c < cols; ++c) y[c] = x[c];
  for (int r = 1; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      y[r * cols + c] = a * y[(r - 1) * cols + c] + (1.0f - a) * x[r * cols + c];
    }
  }
}
