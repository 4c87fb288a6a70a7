// y = log(1 + exp(x)), computed stably, one OpenMP loop over the elements.
#include <cmath>

static inline float softplus_one(float v) {
    return v > 0.0f ? v + logf(1.0f + expf(-v)) : logf(1.0f + expf(v));
}

extern "C" void softplus_omp(const float* x, float* y, int n) {
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; ++i) {
        y[i] = softplus_one(x[i]);
    }
}
