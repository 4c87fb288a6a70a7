// sub: c = a - b. Each OpenMP chunk is 64 floats (four zmm); the last chunk uses per-vector tail masks.
#include <immintrin.h>

static inline __mmask16 tail_mask(int remaining) {
    if (remaining >= 16) return (__mmask16)0xFFFF;
    if (remaining <= 0) return (__mmask16)0;
    return (__mmask16)((1u << remaining) - 1u);
}

extern "C" void sub(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ c, int n) {
    constexpr int kChunk = 64;
    const int chunks = (n + kChunk - 1) / kChunk;

#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < chunks; ++ch) {
        const int base = ch * kChunk;
        if (base + kChunk <= n) {
            for (int v = 0; v < kChunk; v += 16) {
                _mm512_storeu_ps(c + base + v,
                                 _mm512_sub_ps(_mm512_loadu_ps(a + base + v), _mm512_loadu_ps(b + base + v)));
            }
        } else {
            for (int v = base; v < n; v += 16) {
                const __mmask16 m = tail_mask(n - v);
                _mm512_mask_storeu_ps(c + v, m,
                                      _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + v), _mm512_maskz_loadu_ps(m, b + v)));
            }
        }
    }
}
