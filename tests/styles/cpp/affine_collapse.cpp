// y[r, c] = x[r, c] * scale[c] + shift[c]: both loops shared by OpenMP threads through collapse(2).
template <typename T>
static inline T affine(T v, T s, T b) {
    return v * s + b;
}

extern "C" void affine_collapse(const float* __restrict x, const float* __restrict scale, const float* __restrict shift,
                                float* __restrict y, int rows, int cols) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int r = 0; r < rows; ++r) {
        for (int c = 0; c < cols; ++c) {
            const long at = static_cast<long>(r) * cols + c;
            y[at] = affine(x[at], scale[c], shift[c]);
        }
    }
}
