// y[c] = sum over rows of x[rows, cols]: columns split across OpenMP threads, rows summed in order.
extern "C" void col_sum_omp(const float* x, float* y, int rows, int cols) {
    #pragma omp parallel for
    for (int c = 0; c < cols; c++) {
        float total = 0.0f;
        for (int r = 0; r < rows; r++) {
            total += x[(long)r * cols + c];
        }
        y[c] = total;
    }
}
