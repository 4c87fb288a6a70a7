// gemm: C[M,N] = A[M,K] @ B[K,N], fp32.
// B is packed once into NR-wide column panels (zero padded), so the micro kernel loads it without masks.
// Work is split over (column panel, row block); inside, K is blocked by KC so a KC x NR slice of the panel
// stays in L1 while every MR-row micro tile of the row block streams over it. Micro tile: MR x 32 in
// 2*MR zmm accumulators, A broadcast, _mm512_fmadd_ps.
#include <immintrin.h>
#include <algorithm>
#include <vector>

namespace {

constexpr int MR = 6;
constexpr int NR = 32;
constexpr int KC = 128;
constexpr int MB = 48;  // rows per parallel work item (8 micro tiles)

inline __mmask16 mask_for(int cols) {
    if (cols >= 16) return (__mmask16)0xFFFF;
    if (cols <= 0) return (__mmask16)0;
    return (__mmask16)((1u << cols) - 1u);
}

// packed[p][k][0..NR) = B[k][p*NR + 0..NR), zero beyond N
void pack_b(const float* __restrict__ B, float* __restrict__ packed, int N, int K) {
    const int panels = (N + NR - 1) / NR;
#pragma omp parallel for schedule(static)
    for (int p = 0; p < panels; ++p) {
        const int j0 = p * NR;
        const __mmask16 m0 = mask_for(N - j0), m1 = mask_for(N - j0 - 16);
        float* dst = packed + (size_t)p * K * NR;
        for (int k = 0; k < K; ++k) {
            const float* src = B + (size_t)k * N + j0;
            _mm512_storeu_ps(dst + k * NR, _mm512_maskz_loadu_ps(m0, src));
            _mm512_storeu_ps(dst + k * NR + 16, _mm512_maskz_loadu_ps(m1, src + 16));
        }
    }
}

// C[0:R, 0:32] (+)= A[0:R, k0:k0+kc] @ panel[k0:k0+kc, 0:32]; m0/m1 mask the valid columns of C.
template <int R>
void micro_tile(const float* __restrict__ A, int lda, const float* __restrict__ panel, float* __restrict__ C, int ldc,
                int kc, __mmask16 m0, __mmask16 m1, bool accumulate) {
    __m512 c0[R], c1[R];
    for (int r = 0; r < R; ++r) {
        if (accumulate) {
            c0[r] = _mm512_maskz_loadu_ps(m0, C + r * ldc);
            c1[r] = _mm512_maskz_loadu_ps(m1, C + r * ldc + 16);
        } else {
            c0[r] = _mm512_setzero_ps();
            c1[r] = _mm512_setzero_ps();
        }
    }
    for (int k = 0; k < kc; ++k) {
        const __m512 b0 = _mm512_loadu_ps(panel + k * NR);
        const __m512 b1 = _mm512_loadu_ps(panel + k * NR + 16);
        for (int r = 0; r < R; ++r) {
            const __m512 a = _mm512_set1_ps(A[r * lda + k]);
            c0[r] = _mm512_fmadd_ps(a, b0, c0[r]);
            c1[r] = _mm512_fmadd_ps(a, b1, c1[r]);
        }
    }
    for (int r = 0; r < R; ++r) {
        _mm512_mask_storeu_ps(C + r * ldc, m0, c0[r]);
        _mm512_mask_storeu_ps(C + r * ldc + 16, m1, c1[r]);
    }
}

void tile_dispatch(int rows, const float* A, int lda, const float* panel, float* C, int ldc, int kc, __mmask16 m0,
                   __mmask16 m1, bool accumulate) {
    switch (rows) {
        case 6: micro_tile<6>(A, lda, panel, C, ldc, kc, m0, m1, accumulate); break;
        case 5: micro_tile<5>(A, lda, panel, C, ldc, kc, m0, m1, accumulate); break;
        case 4: micro_tile<4>(A, lda, panel, C, ldc, kc, m0, m1, accumulate); break;
        case 3: micro_tile<3>(A, lda, panel, C, ldc, kc, m0, m1, accumulate); break;
        case 2: micro_tile<2>(A, lda, panel, C, ldc, kc, m0, m1, accumulate); break;
        default: micro_tile<1>(A, lda, panel, C, ldc, kc, m0, m1, accumulate); break;
    }
}

}  // namespace

extern "C" void gemm(const float* A, const float* B, float* C, int M, int N, int K) {
    const int panels = (N + NR - 1) / NR;
    const int row_blocks = (M + MB - 1) / MB;
    std::vector<float> packed((size_t)panels * K * NR);
    pack_b(B, packed.data(), N, K);

#pragma omp parallel for collapse(2) schedule(static)
    for (int p = 0; p < panels; ++p) {
        for (int rb = 0; rb < row_blocks; ++rb) {
            const int j0 = p * NR;
            const __mmask16 m0 = mask_for(N - j0), m1 = mask_for(N - j0 - 16);
            const float* panel = packed.data() + (size_t)p * K * NR;
            const int i_end = std::min(M, (rb + 1) * MB);
            for (int k0 = 0; k0 < K; k0 += KC) {
                const int kc = std::min(KC, K - k0);
                for (int i = rb * MB; i < i_end; i += MR) {
                    tile_dispatch(std::min(MR, i_end - i), A + (size_t)i * K + k0, K, panel + (size_t)k0 * NR,
                                  C + (size_t)i * N + j0, N, kc, m0, m1, k0 > 0);
                }
            }
        }
    }
}
