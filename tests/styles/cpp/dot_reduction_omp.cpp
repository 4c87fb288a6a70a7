// out[0] = sum of a[i] * b[i] in double, split over OpenMP threads with a reduction clause, rounded once to float.
#include <cstddef>

extern "C" void dot_reduction_omp(const float* __restrict a, const float* __restrict b, float* __restrict out, int n) {
    double sum = 0.0;
#pragma omp parallel for reduction(+ : sum) schedule(static)
    for (std::ptrdiff_t i = 0; i < n; ++i) {
        sum += static_cast<double>(a[i]) * b[i];
    }
    out[0] = static_cast<float>(sum);
}
