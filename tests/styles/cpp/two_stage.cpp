// Stage 1: tmp[i] = x[i] * x[i]; stage 2: y[i] = tmp[i-1] + tmp[i] + tmp[i+1] (zero outside). Two parallel loops.
extern "C" void two_stage(const float* x, float* tmp, float* y, int n) {
#pragma omp parallel for
  for (int i = 0; i < n; ++i) tmp[i] = x[i] * x[i];
#pragma omp parallel for
  for (int i = 0; i < n; ++i) {
    const float l = i > 0 ? tmp[i - 1] : 0.0f;
    const float r = i + 1 < n ? tmp[i + 1] : 0.0f;
    y[i] = l + tmp[i] + r;
  }
}
