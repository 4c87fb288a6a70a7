// counts[b] += number of x[i] in bin b of [lo, lo + nbins * width), clamped to the end bins; atomic adds.
extern "C" void omp_histogram_for(const float* x, int* counts, float lo, float width, int n, int nbins) {
#pragma omp parallel for
  for (int i = 0; i < n; ++i) {
    int b = (int)((x[i] - lo) / width);
    b = b < 0 ? 0 : (b >= nbins ? nbins - 1 : b);
#pragma omp atomic
    counts[b] += 1;
  }
}
