// gated_mlp: y = silu(x @ Wg) * (x @ Wu), x[M,K], Wg/Wu[K,N]. Fused: one pass over K accumulates the gate
// and the up projection of a 4x16 output tile together (x broadcast reused for both), then the epilogue
// applies silu(g) = g / (1 + exp(-g)) and the product before the single store.
#include <immintrin.h>

namespace {

constexpr int TM = 4;

inline __m512 vexp(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.0f)), _mm512_set1_ps(88.0f));
    const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504089f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.0f / 720.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, k);
}

inline __m512 silu_times(__m512 g, __m512 u) {
    const __m512 denom = _mm512_add_ps(_mm512_set1_ps(1.0f), vexp(_mm512_sub_ps(_mm512_setzero_ps(), g)));
    return _mm512_mul_ps(_mm512_div_ps(g, denom), u);
}

}  // namespace

extern "C" void gated_mlp(const float* x, const float* Wg, const float* Wu, float* y, int M, int N, int K) {
    const int row_tiles = (M + TM - 1) / TM;
    const int col_tiles = (N + 15) / 16;

#pragma omp parallel for collapse(2) schedule(static)
    for (int t = 0; t < row_tiles; ++t) {
        for (int ct = 0; ct < col_tiles; ++ct) {
            const int i0 = t * TM, j0 = ct * 16;
            const int rows = M - i0 < TM ? M - i0 : TM;
            const __mmask16 m = N - j0 >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (N - j0)) - 1u);
            __m512 g[TM], u[TM];
            for (int r = 0; r < TM; ++r) g[r] = u[r] = _mm512_setzero_ps();

            for (int k = 0; k < K; ++k) {
                const __m512 wg = _mm512_maskz_loadu_ps(m, Wg + (size_t)k * N + j0);
                const __m512 wu = _mm512_maskz_loadu_ps(m, Wu + (size_t)k * N + j0);
                for (int r = 0; r < rows; ++r) {
                    const __m512 xv = _mm512_set1_ps(x[(size_t)(i0 + r) * K + k]);
                    g[r] = _mm512_fmadd_ps(xv, wg, g[r]);
                    u[r] = _mm512_fmadd_ps(xv, wu, u[r]);
                }
            }
            for (int r = 0; r < rows; ++r) {
                _mm512_mask_storeu_ps(y + (size_t)(i0 + r) * N + j0, m, silu_times(g[r], u[r]));
            }
        }
    }
}
