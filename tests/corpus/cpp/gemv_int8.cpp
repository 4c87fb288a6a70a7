// gemv_int8: y[M] (int32) = A[M,K] (uint8) @ x[K] (int8). Row-major A and x are both contiguous along K,
// so 64 bytes of a row and 64 bytes of x feed one vpdpbusd directly (no packing); four rows share each
// x load. The K tail uses byte-masked zero-filling loads.
#include <immintrin.h>
#include <cstdint>

static inline __mmask64 byte_mask(int remaining) {
    return remaining >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << remaining) - 1);
}

extern "C" void gemv_int8(const uint8_t* __restrict__ A, const int8_t* __restrict__ x, int32_t* __restrict__ y,
                          int M, int K) {
    const int groups = (M + 3) / 4;

#pragma omp parallel for schedule(static)
    for (int g = 0; g < groups; ++g) {
        const int i0 = g * 4;
        const int rows = M - i0 < 4 ? M - i0 : 4;
        __m512i acc[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(),
                          _mm512_setzero_si512()};
        for (int k = 0; k < K; k += 64) {
            const __mmask64 m = byte_mask(K - k);
            const __m512i xv = _mm512_maskz_loadu_epi8(m, x + k);
            for (int r = 0; r < rows; ++r) {
                const __m512i av = _mm512_maskz_loadu_epi8(m, A + (size_t)(i0 + r) * K + k);
                acc[r] = _mm512_dpbusd_epi32(acc[r], av, xv);
            }
        }
        for (int r = 0; r < rows; ++r) y[i0 + r] = _mm512_reduce_add_epi32(acc[r]);
    }
}
