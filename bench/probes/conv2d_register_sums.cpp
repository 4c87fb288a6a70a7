// Hand-written probe, not product output: the code simdize would have to print for the corpus's CUDA conv2d
// (one output pixel per thread, 128-thread blocks) for its sums to stay in vector registers. bench/
// register_sums_probe.py times it against numpy and the translation. AVX2 + FMA.
//
// Per block of 128 lanes, per chunk of 8 * XP_VECTORS lanes: the chunk's sums for XP_FILTERS filters (CUDA
// blocks along y, run together) are XP_VECTORS * XP_FILTERS ymm registers for the whole reduction, each input
// vector loaded once for all the filters; the lanes' bounds masks are computed once per (kh, kw); that the lanes
// read consecutive inputs is checked once per block (the translation checks at every (c, kh, kw) step); lanes
// in the padding are masked loads. Each sum adds its terms in the source's order.
#include <immintrin.h>
#include <cstddef>

namespace {

constexpr int kLanes = 128;
#ifndef XP_VECTORS
#define XP_VECTORS 4
#endif
constexpr int kVectors = XP_VECTORS;  // sums held at once, 8 lanes each
constexpr int kChunk = 8 * kVectors;
#ifndef XP_FILTERS
#define XP_FILTERS 1
#endif
constexpr int kFilters = XP_FILTERS;  // filters (CUDA blocks along y) whose sums share each input load
constexpr int kMaxTaps = 16;  // KH * KW whose masks are kept per chunk

__m256i in_bounds(__m256i row, __m256i col, int H, int W, __m256i active) {
    const __m256i zero = _mm256_setzero_si256();
    const __m256i below = _mm256_and_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(H), row),
                                           _mm256_cmpgt_epi32(_mm256_set1_epi32(W), col));
    const __m256i negative = _mm256_or_si256(_mm256_cmpgt_epi32(zero, row), _mm256_cmpgt_epi32(zero, col));
    return _mm256_and_si256(_mm256_andnot_si256(negative, below), active);
}

template <int G>
void chunk_sums(const float* x, const float* w, float* sums, const int* row0, const int* col0, const int* active,
                long long first, int C, int H, int W, int KH, int KW) {
    __m256 s[G][kVectors];
    for (int g = 0; g < G; ++g)
        for (int v = 0; v < kVectors; ++v) s[g][v] = _mm256_setzero_ps();
    __m256i mask[kMaxTaps][kVectors];
    for (int kh = 0; kh < KH; ++kh)
        for (int kw = 0; kw < KW; ++kw)
            for (int v = 0; v < kVectors; ++v)
                mask[kh * KW + kw][v] = in_bounds(
                    _mm256_add_epi32(_mm256_loadu_si256((const __m256i*)(row0 + 8 * v)), _mm256_set1_epi32(kh)),
                    _mm256_add_epi32(_mm256_loadu_si256((const __m256i*)(col0 + 8 * v)), _mm256_set1_epi32(kw)),
                    H, W, _mm256_cmpgt_epi32(_mm256_loadu_si256((const __m256i*)(active + 8 * v)),
                                             _mm256_setzero_si256()));
    const size_t plane = (size_t)H * W, taps = (size_t)KH * KW, filter = C * taps;
    for (int c = 0; c < C; ++c)  // the source's order: each sum adds its terms as the CUDA thread does
        for (int kh = 0; kh < KH; ++kh)
            for (int kw = 0; kw < KW; ++kw) {
                const float* in = x + c * plane + first + kh * W + kw;
                __m256 tap[G];
                for (int g = 0; g < G; ++g) tap[g] = _mm256_broadcast_ss(w + g * filter + c * taps + kh * KW + kw);
                for (int v = 0; v < kVectors; ++v) {
                    const __m256 value = _mm256_maskload_ps(in + 8 * v, mask[kh * KW + kw][v]);
                    for (int g = 0; g < G; ++g) s[g][v] = _mm256_fmadd_ps(value, tap[g], s[g][v]);
                }
            }
    for (int g = 0; g < G; ++g)
        for (int v = 0; v < kVectors; ++v) _mm256_storeu_ps(sums + g * kLanes + 8 * v, s[g][v]);
}

}  // namespace

extern "C" void conv2d_nchw(const float* x, const float* w, float* y, int N, int C, int H, int W, int F, int KH,
                            int KW, int stride, int pad) {
    const int OH = (H + 2 * pad - KH) / stride + 1, OW = (W + 2 * pad - KW) / stride + 1;
    const int blocks = (OH * OW + kLanes - 1) / kLanes, groups = (F + kFilters - 1) / kFilters;
    #pragma omp parallel for collapse(2)
    for (int n = 0; n < N; ++n)
        for (int group = 0; group < groups; ++group)
            for (int b = 0; b < blocks; ++b) {
                int row0[kLanes], col0[kLanes], active[kLanes];
                unsigned lo = 0xffffffffu, hi = 0;
                for (int t = 0; t < kLanes; ++t) {
                    const int pixel = b * kLanes + t;
                    active[t] = pixel < OH * OW;
                    row0[t] = active[t] ? pixel / OW * stride - pad : 0;
                    col0[t] = active[t] ? pixel % OW * stride - pad : 0;
                    const unsigned at = (unsigned)(row0[t] * W + col0[t]) - (unsigned)t;
                    if (active[t]) { lo = at < lo ? at : lo; hi = at > hi ? at : hi; }
                }
                const int f0 = group * kFilters, count = F - f0 < kFilters ? F - f0 : kFilters;
                const float* xn = x + (size_t)n * C * H * W;
                float sums[kFilters * kLanes];
                if (lo == hi && stride == 1 && KH * KW <= kMaxTaps) {  // lane t reads (lo + t) + kh * W + kw
                    for (int t0 = 0; t0 < kLanes; t0 += kChunk) {
                        const long long first = (long long)(int)lo + t0;
                        if (count == kFilters) {
                            chunk_sums<kFilters>(xn, w + (size_t)f0 * C * KH * KW, sums + t0, row0 + t0, col0 + t0,
                                                 active + t0, first, C, H, W, KH, KW);
                        } else {
                            for (int g = 0; g < count; ++g)
                                chunk_sums<1>(xn, w + (size_t)(f0 + g) * C * KH * KW, sums + g * kLanes + t0,
                                              row0 + t0, col0 + t0, active + t0, first, C, H, W, KH, KW);
                        }
                    }
                } else {
                    for (int g = 0; g < count; ++g)
                        for (int t = 0; t < kLanes; ++t) {
                            const float* wf = w + (size_t)(f0 + g) * C * KH * KW;
                            float s = 0.0f;
                            for (int c = 0; c < C && active[t]; ++c)
                                for (int kh = 0; kh < KH; ++kh)
                                    for (int kw = 0; kw < KW; ++kw) {
                                        const int r = row0[t] + kh, q = col0[t] + kw;
                                        if (r >= 0 && r < H && q >= 0 && q < W)
                                            s += xn[c * (size_t)H * W + r * W + q] * wf[(c * KH + kh) * KW + kw];
                                    }
                            sums[g * kLanes + t] = s;
                        }
                }
                for (int g = 0; g < count; ++g)
                    for (int t = 0; t < kLanes; ++t)
                        if (active[t]) y[((size_t)n * F + f0 + g) * OH * OW + b * kLanes + t] = sums[g * kLanes + t];
            }
}
