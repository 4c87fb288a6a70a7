"""Small kernels of our own for the tuning tests (plain loops: every schedule pass has something to work on)."""

SCALE_ROWS = """
extern "C" void scale_rows(const float* x, float* y, int rows, int cols) {
    #pragma omp parallel for
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            y[r * cols + c] = 2.0f * x[r * cols + c];
}
"""

# A row-wise running sum: reordering r and c would change the order of the writes to y's rows (refused).
ROW_PREFIX = """
extern "C" void row_prefix(const float* x, float* y, int rows, int cols) {
    for (int r = 1; r < rows; r++)
        for (int c = 0; c < cols; c++)
            y[r * cols + c] = y[(r - 1) * cols + c] + x[r * cols + c];
}
"""

# A loop with a constant trip count: the space knows how many iterations it has.
FIXED_TILE = """
extern "C" void fixed_tile(const float* x, float* y, int rows) {
    #pragma omp parallel for
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < 16; c++)
            y[r * 16 + c] = x[r * 16 + c] + 1.0f;
}
"""
