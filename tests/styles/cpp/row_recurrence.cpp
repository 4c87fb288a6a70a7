// In-place smoothing along each row: x[r, c] = 0.5 * x[r, c] + 0.25 * (x[r, c-1] + x[r, c+1]) for
// c = 1 .. cols-2, left to right (each step sees the already-updated left neighbour). Rows run in parallel.
extern "C" void row_recurrence(float* x, int rows, int cols) {
#pragma omp parallel for
  for (int r = 0; r < rows; ++r) {
    float* p = x + (long)r * cols;
    for (int c = 1; c + 1 < cols; ++c) {
      p[c] = 0.5f * p[c] + 0.25f * (p[c - 1] + p[c + 1]);
    }
  }
}
