// gemm_int8: C[M,N] (int32) = A[M,K] (uint8) @ B[K,N] (int8) with AVX-512 VNNI.
// vpdpbusd multiplies 4 consecutive u8 of one operand with 4 s8 of the other and adds the four products
// to one int32 lane. So A rows are copied with K padded to Kp (a multiple of 4, zero filled) and one row's
// k-group [k, k+4) is broadcast as an int32; B is packed so that lane j of a zmm holds B[k..k+3][j]:
//   Bp[panel][k/4][32 columns][4 bytes], zero padded in K and N.
// Micro tile: 4 rows x 32 columns = 8 int32 accumulators.
#include <immintrin.h>
#include <cstdint>
#include <cstring>
#include <vector>

namespace {

constexpr int MR = 4;
constexpr int NR = 32;

inline int32_t load_group(const uint8_t* p) {
    int32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

inline __mmask16 col_mask(int cols) {
    if (cols <= 0) return 0;
    return cols >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cols) - 1u);
}

void pack_a(const uint8_t* __restrict__ A, uint8_t* __restrict__ Ap, int M, int K, int Kp) {
#pragma omp parallel for schedule(static)
    for (int i = 0; i < M; ++i) {
        std::memcpy(Ap + (size_t)i * Kp, A + (size_t)i * K, (size_t)K);
        std::memset(Ap + (size_t)i * Kp + K, 0, (size_t)(Kp - K));
    }
}

void pack_b(const int8_t* __restrict__ B, int8_t* __restrict__ Bp, int N, int K, int Kp) {
    const int panels = (N + NR - 1) / NR;
    const int groups = Kp / 4;
#pragma omp parallel for collapse(2) schedule(static)
    for (int p = 0; p < panels; ++p) {
        for (int g = 0; g < groups; ++g) {
            int8_t* dst = Bp + ((size_t)p * groups + g) * NR * 4;
            for (int j = 0; j < NR; ++j) {
                const int col = p * NR + j;
                for (int t = 0; t < 4; ++t) {
                    const int k = g * 4 + t;
                    dst[j * 4 + t] = (col < N && k < K) ? B[(size_t)k * N + col] : (int8_t)0;
                }
            }
        }
    }
}

template <int R>
void micro_tile(const uint8_t* __restrict__ Ap, int Kp, const int8_t* __restrict__ panel, int32_t* __restrict__ C,
                int ldc, __mmask16 m0, __mmask16 m1) {
    __m512i c0[R], c1[R];
    for (int r = 0; r < R; ++r) {
        c0[r] = _mm512_setzero_si512();
        c1[r] = _mm512_setzero_si512();
    }
    const int groups = Kp / 4;
    for (int g = 0; g < groups; ++g) {
        const __m512i b0 = _mm512_loadu_si512(panel + (size_t)g * NR * 4);
        const __m512i b1 = _mm512_loadu_si512(panel + (size_t)g * NR * 4 + 64);
        for (int r = 0; r < R; ++r) {
            const __m512i a = _mm512_set1_epi32(load_group(Ap + (size_t)r * Kp + g * 4));
            c0[r] = _mm512_dpbusd_epi32(c0[r], a, b0);
            c1[r] = _mm512_dpbusd_epi32(c1[r], a, b1);
        }
    }
    for (int r = 0; r < R; ++r) {
        _mm512_mask_storeu_epi32(C + (size_t)r * ldc, m0, c0[r]);
        _mm512_mask_storeu_epi32(C + (size_t)r * ldc + 16, m1, c1[r]);
    }
}

}  // namespace

extern "C" void gemm_int8(const uint8_t* A, const int8_t* B, int32_t* C, int M, int N, int K) {
    const int Kp = (K + 3) & ~3;
    const int panels = (N + NR - 1) / NR;
    const int tiles = (M + MR - 1) / MR;
    std::vector<uint8_t> Ap((size_t)M * Kp);
    std::vector<int8_t> Bp((size_t)panels * Kp * NR);
    pack_a(A, Ap.data(), M, K, Kp);
    pack_b(B, Bp.data(), N, K, Kp);

#pragma omp parallel for collapse(2) schedule(static)
    for (int t = 0; t < tiles; ++t) {
        for (int p = 0; p < panels; ++p) {
            const int i0 = t * MR, j0 = p * NR;
            const uint8_t* a = Ap.data() + (size_t)i0 * Kp;
            const int8_t* panel = Bp.data() + (size_t)p * Kp * NR;
            int32_t* c = C + (size_t)i0 * N + j0;
            const __mmask16 m0 = col_mask(N - j0), m1 = col_mask(N - j0 - 16);
            switch (M - i0 < MR ? M - i0 : MR) {
                case 4: micro_tile<4>(a, Kp, panel, c, N, m0, m1); break;
                case 3: micro_tile<3>(a, Kp, panel, c, N, m0, m1); break;
                case 2: micro_tile<2>(a, Kp, panel, c, N, m0, m1); break;
                default: micro_tile<1>(a, Kp, panel, c, N, m0, m1); break;
            }
        }
    }
}
