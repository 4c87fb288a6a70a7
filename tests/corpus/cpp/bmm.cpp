// bmm: C[b] = A[b] @ B[b], fp32, batch x [M,K] x [K,N]. No packing (the per-batch matrices are small):
// each work item is (batch, 4-row tile); it sweeps the columns 16 at a time with masked B loads and
// keeps a 4x16 tile of C in registers over the whole K.
#include <immintrin.h>

static inline __mmask16 cols_mask(int n) {
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

extern "C" void bmm(const float* A, const float* B, float* C, int batch, int M, int N, int K) {
    const int tiles = (M + 3) / 4;

#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < batch; ++b) {
        for (int t = 0; t < tiles; ++t) {
            const float* __restrict__ a = A + ((size_t)b * M + 4 * t) * K;
            const float* __restrict__ bb = B + (size_t)b * K * N;
            float* __restrict__ c = C + ((size_t)b * M + 4 * t) * N;
            const int rows = M - 4 * t < 4 ? M - 4 * t : 4;

            for (int j = 0; j < N; j += 16) {
                const __mmask16 m = cols_mask(N - j);
                __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
                for (int k = 0; k < K; ++k) {
                    const __m512 bv = _mm512_maskz_loadu_ps(m, bb + (size_t)k * N + j);
                    for (int r = 0; r < rows; ++r) {
                        acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[(size_t)r * K + k]), bv, acc[r]);
                    }
                }
                for (int r = 0; r < rows; ++r) _mm512_mask_storeu_ps(c + (size_t)r * N + j, m, acc[r]);
            }
        }
    }
}
