// pos[r] = first column c with x[r, c] > thr, or -1 (cols when none, as -1). Early exit with break.
extern "C" void first_above(const float* x, int* pos, float thr, int rows, int cols) {
#pragma omp parallel for
  for (int r = 0; r < rows; ++r) {
    int found = -1;
    for (int c = 0; c < cols; ++c) {
      if (x[(long)r * cols + c] > thr) {
        found = c;
        break;
      }
    }
    pos[r] = found;
  }
}
