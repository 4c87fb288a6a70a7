// dense: y[M,N] = x[M,K] @ W[N,K]^T + bias[N]. Both operands are contiguous along K, so each output is a
// dot product: a 4x4 block of outputs keeps 16 zmm accumulators over K (masked tail) and is reduced at the
// end. Row/column indices past the edge are clamped to the last valid one (computed, never stored).
#include <immintrin.h>

#define BI 4
#define BJ 4

static inline int clamp_index(int i, int n) { return i < n ? i : n - 1; }

extern "C" void dense(const float* __restrict__ x, const float* __restrict__ W, const float* __restrict__ bias,
                      float* __restrict__ y, int M, int N, int K) {
    const int bm = (M + BI - 1) / BI, bn = (N + BJ - 1) / BJ;

#pragma omp parallel for collapse(2) schedule(static)
    for (int ib = 0; ib < bm; ++ib) {
        for (int jb = 0; jb < bn; ++jb) {
            const float* xr[BI];
            const float* wr[BJ];
            for (int r = 0; r < BI; ++r) xr[r] = x + (size_t)clamp_index(ib * BI + r, M) * K;
            for (int c = 0; c < BJ; ++c) wr[c] = W + (size_t)clamp_index(jb * BJ + c, N) * K;

            __m512 acc[BI][BJ];
            for (int r = 0; r < BI; ++r)
                for (int c = 0; c < BJ; ++c) acc[r][c] = _mm512_setzero_ps();

            for (int k = 0; k < K; k += 16) {
                const __mmask16 m = K - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (K - k)) - 1u);
                __m512 wv[BJ];
                for (int c = 0; c < BJ; ++c) wv[c] = _mm512_maskz_loadu_ps(m, wr[c] + k);
                for (int r = 0; r < BI; ++r) {
                    const __m512 xv = _mm512_maskz_loadu_ps(m, xr[r] + k);
                    for (int c = 0; c < BJ; ++c) acc[r][c] = _mm512_fmadd_ps(xv, wv[c], acc[r][c]);
                }
            }

            for (int r = 0; r < BI && ib * BI + r < M; ++r) {
                for (int c = 0; c < BJ && jb * BJ + c < N; ++c) {
                    const int i = ib * BI + r, j = jb * BJ + c;
                    y[(size_t)i * N + j] = _mm512_reduce_add_ps(acc[r][c]) + bias[j];
                }
            }
        }
    }
}
