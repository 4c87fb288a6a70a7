// gemv: y[M] = A[M,K] @ x[K], fp32. Four rows per step share each x vector; masked K tail.
#include <immintrin.h>

extern "C" void gemv(const float* __restrict__ A, const float* __restrict__ x, float* __restrict__ y, int M, int K) {
    const int quads = M / 4;

#pragma omp parallel for schedule(static)
    for (int q = 0; q < quads; ++q) {
        const float* a0 = A + (size_t)(4 * q) * K;
        const float* a1 = a0 + K;
        const float* a2 = a1 + K;
        const float* a3 = a2 + K;
        __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
        for (int k = 0; k < K; k += 16) {
            const __mmask16 m = K - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (K - k)) - 1u);
            const __m512 xv = _mm512_maskz_loadu_ps(m, x + k);
            s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a0 + k), xv, s0);
            s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a1 + k), xv, s1);
            s2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a2 + k), xv, s2);
            s3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a3 + k), xv, s3);
        }
        y[4 * q] = _mm512_reduce_add_ps(s0);
        y[4 * q + 1] = _mm512_reduce_add_ps(s1);
        y[4 * q + 2] = _mm512_reduce_add_ps(s2);
        y[4 * q + 3] = _mm512_reduce_add_ps(s3);
    }

    for (int i = quads * 4; i < M; ++i) {
        const float* a = A + (size_t)i * K;
        __m512 s = _mm512_setzero_ps();
        for (int k = 0; k < K; k += 16) {
            const __mmask16 m = K - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (K - k)) - 1u);
            s = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + k), _mm512_maskz_loadu_ps(m, x + k), s);
        }
        y[i] = _mm512_reduce_add_ps(s);
    }
}
