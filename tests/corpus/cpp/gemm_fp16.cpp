// gemm_fp16: C[M,N] (fp32) = A[M,K] @ B[K,N] with A, B in IEEE half (uint16_t bits).
// Both operands are widened once with F16C (vcvtph2ps): A to a row-major fp32 copy, B to 16-wide fp32
// panels. The product then runs as an fp32 gemm with 8x16 register tiles (fp32 accumulation).
#include <immintrin.h>
#include <cstdint>
#include <cstdlib>

#define ROWS_PER_TILE 8
#define PANEL 16

static inline __mmask16 first_n(int n) {
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

static float* alloc_floats(size_t count) {
    const size_t bytes = (count * sizeof(float) + 63) / 64 * 64;
    return static_cast<float*>(std::aligned_alloc(64, bytes > 0 ? bytes : 64));
}

// A (half) -> fp32, 16 elements per vcvtph2ps, masked for the last chunk of the matrix.
static void widen_a(const uint16_t* __restrict__ A, float* __restrict__ Af, size_t count) {
    const long chunks = (long)((count + 15) / 16);
#pragma omp parallel for schedule(static)
    for (long c = 0; c < chunks; ++c) {
        const size_t i = (size_t)c * 16;
        const __mmask16 m = first_n((int)(count - i < 16 ? count - i : 16));
        const __m256i h = _mm256_maskz_loadu_epi16(m, A + i);
        _mm512_mask_storeu_ps(Af + i, m, _mm512_cvtph_ps(h));
    }
}

// Bp[p][k][0..16) = float(B[k][16p + 0..16)), zero past N.
static void widen_pack_b(const uint16_t* __restrict__ B, float* __restrict__ Bp, int N, int K) {
    const int panels = (N + PANEL - 1) / PANEL;
#pragma omp parallel for collapse(2) schedule(static)
    for (int p = 0; p < panels; ++p) {
        for (int k = 0; k < K; ++k) {
            const __mmask16 m = first_n(N - p * PANEL);
            const __m256i h = _mm256_maskz_loadu_epi16(m, B + (size_t)k * N + p * PANEL);
            _mm512_store_ps(Bp + ((size_t)p * K + k) * PANEL, _mm512_cvtph_ps(h));
        }
    }
}

extern "C" void gemm_fp16(const uint16_t* A, const uint16_t* B, float* C, int M, int N, int K) {
    const int panels = (N + PANEL - 1) / PANEL;
    const int tiles_m = (M + ROWS_PER_TILE - 1) / ROWS_PER_TILE;
    float* Af = alloc_floats((size_t)M * K);
    float* Bp = alloc_floats((size_t)panels * K * PANEL);
    widen_a(A, Af, (size_t)M * K);
    widen_pack_b(B, Bp, N, K);

#pragma omp parallel for collapse(2) schedule(static)
    for (int p = 0; p < panels; ++p) {
        for (int t = 0; t < tiles_m; ++t) {
            const int i0 = t * ROWS_PER_TILE;
            const int rows = M - i0 < ROWS_PER_TILE ? M - i0 : ROWS_PER_TILE;
            const float* a = Af + (size_t)i0 * K;
            const float* panel = Bp + (size_t)p * K * PANEL;
            __m512 acc[ROWS_PER_TILE];
            for (int r = 0; r < ROWS_PER_TILE; ++r) acc[r] = _mm512_setzero_ps();

            if (rows == ROWS_PER_TILE) {
                for (int k = 0; k < K; ++k) {
                    const __m512 b = _mm512_load_ps(panel + (size_t)k * PANEL);
                    for (int r = 0; r < ROWS_PER_TILE; ++r) {
                        acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[(size_t)r * K + k]), b, acc[r]);
                    }
                }
            } else {
                for (int k = 0; k < K; ++k) {
                    const __m512 b = _mm512_load_ps(panel + (size_t)k * PANEL);
                    for (int r = 0; r < rows; ++r) {
                        acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[(size_t)r * K + k]), b, acc[r]);
                    }
                }
            }

            const __mmask16 m = first_n(N - p * PANEL);
            for (int r = 0; r < rows; ++r) {
                _mm512_mask_storeu_ps(C + (size_t)(i0 + r) * N + p * PANEL, m, acc[r]);
            }
        }
    }
    std::free(Af);
    std::free(Bp);
}
