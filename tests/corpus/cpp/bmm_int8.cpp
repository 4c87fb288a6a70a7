// bmm_int8: C[b] (int32) = A[b] (uint8, MxK) @ B[b] (int8, KxN) with AVX-512 VNNI.
// Every batch's B is re-laid out for vpdpbusd: Bv[b][n/16][k/4][16 lanes][4 bytes] (zero padded), so one
// 64-byte load gives, for 16 columns, the 4 consecutive k values each int32 lane multiplies. A is read in
// place: a full k-group of a row is broadcast as one int32, the last partial group is assembled with zeros.
// Micro tile: 8 rows x 16 columns; work items are (batch, row tile, column panel).
#include <immintrin.h>
#include <cstdint>
#include <cstring>
#include <vector>

namespace {

constexpr int kRows = 8;
constexpr int kLanes = 16;

inline int32_t a_group(const uint8_t* row, int k, int K) {
    uint32_t v = 0;
    const int n = K - k < 4 ? K - k : 4;
    std::memcpy(&v, row + k, (size_t)n);
    return (int32_t)v;
}

}  // namespace

extern "C" void bmm_int8(const uint8_t* A, const int8_t* B, int32_t* C, int batch, int M, int N, int K) {
    const int groups = (K + 3) / 4;
    const int panels = (N + kLanes - 1) / kLanes;
    const size_t panel_bytes = (size_t)groups * kLanes * 4;
    const size_t batch_bytes = panel_bytes * panels;
    std::vector<int8_t> Bv(batch_bytes * batch);

#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < batch; ++b) {
        for (int p = 0; p < panels; ++p) {
            const int8_t* src = B + (size_t)b * K * N;
            int8_t* dst = Bv.data() + b * batch_bytes + p * panel_bytes;
            for (int g = 0; g < groups; ++g) {
                for (int j = 0; j < kLanes; ++j) {
                    for (int t = 0; t < 4; ++t) {
                        const int k = 4 * g + t, n = p * kLanes + j;
                        *dst++ = (k < K && n < N) ? src[(size_t)k * N + n] : (int8_t)0;
                    }
                }
            }
        }
    }

    const int row_tiles = (M + kRows - 1) / kRows;
#pragma omp parallel for collapse(3) schedule(static)
    for (int b = 0; b < batch; ++b) {
        for (int t = 0; t < row_tiles; ++t) {
            for (int p = 0; p < panels; ++p) {
                const int i0 = t * kRows;
                const int rows = M - i0 < kRows ? M - i0 : kRows;
                const uint8_t* a = A + ((size_t)b * M + i0) * K;
                const int8_t* panel = Bv.data() + b * batch_bytes + p * panel_bytes;

                __m512i acc[kRows];
                for (int r = 0; r < kRows; ++r) acc[r] = _mm512_setzero_si512();
                for (int g = 0; g < groups; ++g) {
                    const __m512i bv = _mm512_loadu_si512(panel + (size_t)g * kLanes * 4);
                    for (int r = 0; r < rows; ++r) {
                        const __m512i av = _mm512_set1_epi32(a_group(a + (size_t)r * K, 4 * g, K));
                        acc[r] = _mm512_dpbusd_epi32(acc[r], av, bv);
                    }
                }

                const int cols = N - p * kLanes;
                const __mmask16 m = cols >= kLanes ? (__mmask16)0xFFFF : (__mmask16)((1u << cols) - 1u);
                int32_t* c = C + ((size_t)b * M + i0) * N + p * kLanes;
                for (int r = 0; r < rows; ++r) _mm512_mask_storeu_epi32(c + (size_t)r * N, m, acc[r]);
            }
        }
    }
}
