// counts[b] += number of x[i] in bin b of [lo, lo + nbins * width); values outside go to the end bins.
// Threads split the input by hand (omp_get_thread_num) and add into the shared counts atomically.
#include <omp.h>

extern "C" void omp_histogram(const float* x, int* counts, float lo, float width, int n, int nbins) {
#pragma omp parallel
  {
    const int tid = omp_get_thread_num();
    const int nt = omp_get_num_threads();
    const int chunk = (n + nt - 1) / nt;
    const int begin = tid * chunk;
    const int end = begin + chunk < n ? begin + chunk : n;
    for (int i = begin; i < end; ++i) {
      int b = (int)((x[i] - lo) / width);
      if (b < 0) b = 0;
      if (b >= nbins) b = nbins - 1;
#pragma omp atomic
      counts[b] += 1;
    }
  }
}
