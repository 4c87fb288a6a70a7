// Portable x86 intrinsics, part 4: loads and stores (aligned, unaligned, masked, streaming, expand / compress,
// gathers and scatters), set / setr / set1 / setzero, casts, and moving 128/256-bit parts and single elements.
// Masked loads and stores touch only the selected lanes (the hardware suppresses faults on the others), and the
// aligned forms stop with a diagnosis on a misaligned address, where the instruction would fault.
#pragma once
#pragma GCC system_header
#include "xp_intrin_float.h"
#include "xp_intrin_int.h"

// ---- loads, stores and set for one vector and lane type --------------------------------------------------------
#define XP_X86_MEMORY(P, V, S, T)                                                                                   \
    inline V P##_load_##S(const void* p) { return xp_x86::load_aligned<V>(p, __func__); }                           \
    inline V P##_loadu_##S(const void* p) { return xp_x86::load<V>(p); }                                            \
    inline void P##_store_##S(void* p, V a) { xp_x86::store_aligned(p, a, __func__); }                              \
    inline void P##_storeu_##S(void* p, V a) { xp_x86::store(p, a); }                                               \
    inline V P##_mask_load_##S(V src, xp_x86::Mask<T, V> k, const void* p) {                                        \
        xp_x86::require_aligned(p, sizeof(V), __func__);                                                            \
        return xp_x86::masked_load<T>(src, k, p);                                                                   \
    }                                                                                                               \
    inline V P##_maskz_load_##S(xp_x86::Mask<T, V> k, const void* p) {                                              \
        xp_x86::require_aligned(p, sizeof(V), __func__);                                                            \
        return xp_x86::masked_load<T>(V{}, k, p);                                                                   \
    }                                                                                                               \
    inline V P##_mask_loadu_##S(V src, xp_x86::Mask<T, V> k, const void* p) {                                       \
        return xp_x86::masked_load<T>(src, k, p);                                                                   \
    }                                                                                                               \
    inline V P##_maskz_loadu_##S(xp_x86::Mask<T, V> k, const void* p) { return xp_x86::masked_load<T>(V{}, k, p); } \
    inline void P##_mask_store_##S(void* p, xp_x86::Mask<T, V> k, V a) {                                            \
        xp_x86::require_aligned(p, sizeof(V), __func__);                                                            \
        xp_x86::masked_store<T>(p, k, a);                                                                           \
    }                                                                                                               \
    inline void P##_mask_storeu_##S(void* p, xp_x86::Mask<T, V> k, V a) { xp_x86::masked_store<T>(p, k, a); }       \
    /* expand: consecutive memory elements go to the selected lanes; compress: the reverse */                       \
    inline V P##_mask_expandloadu_##S(V src, xp_x86::Mask<T, V> k, const void* p) {                                 \
        return xp_x86::expand<T>(src, k, xp_x86::lanes<T>(xp_x86::load_prefix<T, V>(p, k)));                        \
    }                                                                                                               \
    inline V P##_maskz_expandloadu_##S(xp_x86::Mask<T, V> k, const void* p) {                                       \
        return P##_mask_expandloadu_##S(V{}, k, p);                                                                 \
    }                                                                                                               \
    inline V P##_mask_expand_##S(V src, xp_x86::Mask<T, V> k, V a) {                                                \
        return xp_x86::expand<T>(src, k, xp_x86::lanes<T>(a));                                                      \
    }                                                                                                               \
    inline V P##_maskz_expand_##S(xp_x86::Mask<T, V> k, V a) {                                                      \
        return xp_x86::expand<T>(V{}, k, xp_x86::lanes<T>(a));                                                      \
    }                                                                                                               \
    inline void P##_mask_compressstoreu_##S(void* p, xp_x86::Mask<T, V> k, V a) {                                   \
        const auto x = xp_x86::lanes<T>(a);                                                                         \
        auto* out = static_cast<unsigned char*>(p);                                                                 \
        for (int i = 0; i < xp_x86::kLanes<T, V>; ++i)                                                              \
            if (xp_x86::bit(k, i)) {                                                                                \
                __builtin_memcpy(out, &x[i], sizeof(T));                                                            \
                out += sizeof(T);                                                                                   \
            }                                                                                                       \
    }                                                                                                               \
    inline V P##_mask_compress_##S(V src, xp_x86::Mask<T, V> k, V a) { return xp_x86::compress<T>(src, k, a); }     \
    inline V P##_maskz_compress_##S(xp_x86::Mask<T, V> k, V a) { return xp_x86::compress<T>(V{}, k, a); }           \
    template <class... A>                                                                                           \
    inline V P##_set_##S(A... e) { return xp_x86::set_highest_first<V, T>(e...); }                                  \
    template <class... A>                                                                                           \
    inline V P##_setr_##S(A... e) { return xp_x86::set_lowest_first<V, T>(e...); }

namespace xp_x86 {
// The first popcount(mask) elements at p, read element by element (nothing past them is touched).
template <class T, class V>
inline V load_prefix(const void* p, uint64_t mask) {
    Lanes<T, V> r{};
    const int count = std::popcount(mask & (kLanes<T, V> == 64 ? ~0ull : (1ull << kLanes<T, V>) - 1));
    __builtin_memcpy(r.data(), p, count * sizeof(T));
    return vec<V>(r);
}
template <class T, class V>
inline V expand(V src, uint64_t mask, const Lanes<T, V>& packed) {
    auto r = lanes<T>(src);
    for (int i = 0, next = 0; i < kLanes<T, V>; ++i)
        if (bit(mask, i)) r[i] = packed[next++];
    return vec<V>(r);
}
template <class T, class V>
inline V compress(V src, uint64_t mask, V a) {
    auto r = lanes<T>(src);
    const auto x = lanes<T>(a);
    int next = 0;
    for (int i = 0; i < kLanes<T, V>; ++i)
        if (bit(mask, i)) r[next++] = x[i];
    return vec<V>(r);
}
}  // namespace xp_x86

#define XP_X86_FLOAT_MEMORY(P, V, S, T)                                                 \
    XP_X86_MEMORY(P, V, S, T)                                                           \
    inline void P##_stream_##S(void* p, V a) { xp_x86::store_aligned(p, a, __func__); } \
    inline V P##_set1_##S(T x) { return xp_x86::broadcast<T, V>(x); }                   \
    inline V P##_setzero_##S() { return V{}; }                                          \
    inline V P##_undefined_##S() { return V{}; }
XP_X86_FLOAT_VECTORS(XP_X86_FLOAT_MEMORY)
#undef XP_X86_FLOAT_MEMORY

#define XP_X86_INT_MEMORY(P, V, SI)                                                               \
    XP_X86_SIGNED_LANES(XP_X86_MEMORY, P, V)                                                      \
    inline V P##_load_##SI(const void* p) { return xp_x86::load_aligned<V>(p, __func__); }        \
    inline V P##_loadu_##SI(const void* p) { return P##_loadu_epi64(p); }                         \
    inline V P##_lddqu_##SI(const void* p) { return P##_loadu_epi64(p); }                         \
    inline V P##_stream_load_##SI(const void* p) { return xp_x86::load_aligned<V>(p, __func__); } \
    inline void P##_store_##SI(void* p, V a) { xp_x86::store_aligned(p, a, __func__); }           \
    inline void P##_storeu_##SI(void* p, V a) { P##_storeu_epi64(p, a); }                         \
    inline void P##_stream_##SI(void* p, V a) { xp_x86::store_aligned(p, a, __func__); }          \
    inline V P##_setzero_##SI() { return V{}; }                                                   \
    inline V P##_undefined_##SI() { return V{}; }                                                 \
    inline V P##_set1_epi64x(long long x) { return P##_set1_epi64(x); }                           \
    template <class... A>                                                                         \
    inline V P##_set_epi64x(A... e) { return P##_set_epi64(e...); }                               \
    template <class... A>                                                                         \
    inline V P##_setr_epi64x(A... e) { return P##_setr_epi64(e...); }
XP_X86_INT_VECTORS(XP_X86_INT_MEMORY)
#undef XP_X86_INT_MEMORY
#undef XP_X86_MEMORY

inline __m512i _mm512_setzero_epi32() { return __m512i{}; }
inline __m512i _mm512_undefined_epi32() { return __m512i{}; }
inline __m512 _mm512_setzero() { return __m512{}; }
inline __m512 _mm512_undefined() { return __m512{}; }

// ---- single elements -------------------------------------------------------------------------------------------
inline float _mm_cvtss_f32(__m128 a) { return a[0]; }
inline float _mm256_cvtss_f32(__m256 a) { return a[0]; }
inline float _mm512_cvtss_f32(__m512 a) { return a[0]; }
inline double _mm_cvtsd_f64(__m128d a) { return a[0]; }
inline double _mm256_cvtsd_f64(__m256d a) { return a[0]; }
inline double _mm512_cvtsd_f64(__m512d a) { return a[0]; }
inline int _mm_cvtsi128_si32(__m128i a) { return xp_x86::lanes<int32_t>(a)[0]; }
inline int _mm256_cvtsi256_si32(__m256i a) { return xp_x86::lanes<int32_t>(a)[0]; }
inline int _mm512_cvtsi512_si32(__m512i a) { return xp_x86::lanes<int32_t>(a)[0]; }
inline long long _mm_cvtsi128_si64(__m128i a) { return a[0]; }
inline long long _mm_cvtsi128_si64x(__m128i a) { return a[0]; }
inline __m128i _mm_cvtsi32_si128(int x) { return xp_x86::resize<__m128i>(x); }
inline __m128i _mm_cvtsi64_si128(long long x) { return xp_x86::resize<__m128i>(x); }
inline __m128i _mm_cvtsi64x_si128(long long x) { return xp_x86::resize<__m128i>(x); }
inline __m128 _mm_set_ss(float x) { return xp_x86::resize<__m128>(x); }
inline __m128d _mm_set_sd(double x) { return xp_x86::resize<__m128d>(x); }
inline __m128 _mm_load_ss(const float* p) { return _mm_set_ss(*p); }
inline __m128d _mm_load_sd(const double* p) { return _mm_set_sd(*p); }
inline void _mm_store_ss(float* p, __m128 a) { *p = a[0]; }
inline void _mm_store_sd(double* p, __m128d a) { *p = a[0]; }
inline __m128 _mm_load1_ps(const float* p) { return _mm_set1_ps(*p); }
inline __m128 _mm_load_ps1(const float* p) { return _mm_set1_ps(*p); }
inline __m128d _mm_load1_pd(const double* p) { return _mm_set1_pd(*p); }
inline __m128d _mm_loaddup_pd(const double* p) { return _mm_set1_pd(*p); }
inline void _mm_store1_ps(float* p, __m128 a) { _mm_storeu_ps(p, _mm_set1_ps(a[0])); }
inline __m128i _mm_loadl_epi64(const void* p) { return xp_x86::resize<__m128i>(xp_x86::load<long long>(p)); }
inline void _mm_storel_epi64(void* p, __m128i a) { xp_x86::store(p, a[0]); }
inline __m128i _mm_loadu_si64(const void* p) { return _mm_loadl_epi64(p); }
inline __m128i _mm_loadu_si32(const void* p) { return xp_x86::resize<__m128i>(xp_x86::load<int>(p)); }
inline __m128i _mm_loadu_si16(const void* p) { return xp_x86::resize<__m128i>(xp_x86::load<short>(p)); }
inline void _mm_storeu_si64(void* p, __m128i a) { _mm_storel_epi64(p, a); }
inline void _mm_storeu_si32(void* p, __m128i a) { xp_x86::store(p, xp_x86::lanes<int>(a)[0]); }
inline void _mm_storeu_si16(void* p, __m128i a) { xp_x86::store(p, xp_x86::lanes<short>(a)[0]); }

// extract / insert one element; the index is taken modulo the lane count, as the instructions do.
#define XP_X86_ELEMENT(P, V, S, T, R)                                                   \
    inline R P##_extract_##S(V a, int index) {                                          \
        return static_cast<R>(xp_x86::lanes<T>(a)[index & (xp_x86::kLanes<T, V> - 1)]); \
    }                                                                                   \
    inline V P##_insert_##S(V a, long long x, int index) {                              \
        auto r = xp_x86::lanes<T>(a);                                                   \
        r[index & (xp_x86::kLanes<T, V> - 1)] = static_cast<T>(x);                      \
        return xp_x86::vec<V>(r);                                                       \
    }
// 8- and 16-bit elements are returned zero-extended.
#define XP_X86_ELEMENTS(P, V, SI)                                                       \
    XP_X86_ELEMENT(P, V, epi8, uint8_t, int) XP_X86_ELEMENT(P, V, epi16, uint16_t, int) \
    XP_X86_ELEMENT(P, V, epi32, int32_t, int) XP_X86_ELEMENT(P, V, epi64, int64_t, long long)
XP_X86_ELEMENTS(_mm, __m128i, si128)
XP_X86_ELEMENTS(_mm256, __m256i, si256)
#undef XP_X86_ELEMENTS
#undef XP_X86_ELEMENT
inline int _mm_extract_ps(__m128 a, int index) { return xp_x86::lanes<int32_t>(a)[index & 3]; }  // the bits

// ---- AVX masked loads and stores: the sign bit of each lane of the mask vector selects ---------------------------
#define XP_X86_AVX_MASKLOAD(P, V, S, T, VM)                                \
    inline V P##_maskload_##S(const void* p, VM mask) {                    \
        return xp_x86::masked_load<T>(V{}, xp_x86::sign_bits<T>(mask), p); \
    }                                                                      \
    inline void P##_maskstore_##S(void* p, VM mask, V a) { xp_x86::masked_store<T>(p, xp_x86::sign_bits<T>(mask), a); }
XP_X86_AVX_MASKLOAD(_mm, __m128, ps, float, __m128i)
XP_X86_AVX_MASKLOAD(_mm256, __m256, ps, float, __m256i)
XP_X86_AVX_MASKLOAD(_mm, __m128d, pd, double, __m128i)
XP_X86_AVX_MASKLOAD(_mm256, __m256d, pd, double, __m256i)
XP_X86_AVX_MASKLOAD(_mm, __m128i, epi32, int32_t, __m128i)
XP_X86_AVX_MASKLOAD(_mm256, __m256i, epi32, int32_t, __m256i)
XP_X86_AVX_MASKLOAD(_mm, __m128i, epi64, int64_t, __m128i)
XP_X86_AVX_MASKLOAD(_mm256, __m256i, epi64, int64_t, __m256i)
#undef XP_X86_AVX_MASKLOAD

// ---- gathers and scatters: element i at base + index[i] * scale (bytes) -----------------------------------------
namespace xp_x86 {
template <class T, class V, class I, class VI>
inline V gather(V src, uint64_t mask, VI index, const void* base, int scale) {
    auto r = lanes<T>(src);
    const auto idx = lanes<I>(index);
    const auto* bytes = static_cast<const unsigned char*>(base);
    constexpr int n = kLanes<T, V> < kLanes<I, VI> ? kLanes<T, V> : kLanes<I, VI>;
    for (int i = 0; i < kLanes<T, V>; ++i) {
        if (i >= n) r[i] = T(0);  // lanes without an index (e.g. _mm_i64gather_ps) are zeroed
        else if (bit(mask, i)) __builtin_memcpy(&r[i], bytes + int64_t(idx[i]) * scale, sizeof(T));
    }
    return vec<V>(r);
}
// Lanes are written in order, so a later lane wins where indices repeat, as documented.
template <class T, class V, class I, class VI>
inline void scatter(void* base, uint64_t mask, VI index, V v, int scale) {
    const auto x = lanes<T>(v);
    const auto idx = lanes<I>(index);
    auto* bytes = static_cast<unsigned char*>(base);
    constexpr int n = kLanes<T, V> < kLanes<I, VI> ? kLanes<T, V> : kLanes<I, VI>;
    for (int i = 0; i < n; ++i)
        if (bit(mask, i)) __builtin_memcpy(bytes + int64_t(idx[i]) * scale, &x[i], sizeof(T));
}
}  // namespace xp_x86

// AVX-512 forms (index, base, scale), with a mask register; also the AVX-512VL 128/256-bit scatters.
#define XP_X86_GATHER_512(P, V, T, S, VI, I, W)                                                              \
    inline V P##_##W##gather_##S(VI index, const void* base, int scale) {                                    \
        return xp_x86::gather<T, V, I>(V{}, ~0ull, index, base, scale);                                      \
    }                                                                                                        \
    inline V P##_mask_##W##gather_##S(V src, xp_x86::Mask<T, V> k, VI index, const void* base, int scale) {  \
        return xp_x86::gather<T, V, I>(src, k, index, base, scale);                                          \
    }                                                                                                        \
    inline V P##_mmask_##W##gather_##S(V src, xp_x86::Mask<T, V> k, VI index, const void* base, int scale) { \
        return xp_x86::gather<T, V, I>(src, k, index, base, scale);                                          \
    }                                                                                                        \
    inline void P##_##W##scatter_##S(void* base, VI index, V a, int scale) {                                 \
        xp_x86::scatter<T, V, I>(base, ~0ull, index, a, scale);                                              \
    }                                                                                                        \
    inline void P##_mask_##W##scatter_##S(void* base, xp_x86::Mask<T, V> k, VI index, V a, int scale) {      \
        xp_x86::scatter<T, V, I>(base, k, index, a, scale);                                                  \
    }
XP_X86_GATHER_512(_mm512, __m512, float, ps, __m512i, int32_t, i32)
XP_X86_GATHER_512(_mm512, __m512i, int32_t, epi32, __m512i, int32_t, i32)
XP_X86_GATHER_512(_mm512, __m512d, double, pd, __m256i, int32_t, i32)
XP_X86_GATHER_512(_mm512, __m512i, int64_t, epi64, __m256i, int32_t, i32)
XP_X86_GATHER_512(_mm512, __m256, float, ps, __m512i, int64_t, i64)
XP_X86_GATHER_512(_mm512, __m256i, int32_t, epi32, __m512i, int64_t, i64)
XP_X86_GATHER_512(_mm512, __m512d, double, pd, __m512i, int64_t, i64)
XP_X86_GATHER_512(_mm512, __m512i, int64_t, epi64, __m512i, int64_t, i64)
#undef XP_X86_GATHER_512

// AVX2 forms (base, index, scale); the masked form takes a vector whose lane sign bits select.
#define XP_X86_GATHER_AVX2(P, V, T, S, VI, I, W)                                                             \
    inline V P##_##W##gather_##S(const void* base, VI index, int scale) {                                    \
        return xp_x86::gather<T, V, I>(V{}, ~0ull, index, base, scale);                                      \
    }                                                                                                        \
    inline V P##_mask_##W##gather_##S(V src, const void* base, VI index, V mask, int scale) {                \
        return xp_x86::gather<T, V, I>(src, xp_x86::sign_bits<T>(mask), index, base, scale);                 \
    }                                                                                                        \
    inline void P##_##W##scatter_##S(void* base, VI index, V a, int scale) {                                 \
        xp_x86::scatter<T, V, I>(base, ~0ull, index, a, scale);                                              \
    }                                                                                                        \
    inline void P##_mask_##W##scatter_##S(void* base, xp_x86::Mask<T, V> k, VI index, V a, int scale) {      \
        xp_x86::scatter<T, V, I>(base, k, index, a, scale);                                                  \
    }                                                                                                        \
    inline V P##_mmask_##W##gather_##S(V src, xp_x86::Mask<T, V> k, VI index, const void* base, int scale) { \
        return xp_x86::gather<T, V, I>(src, k, index, base, scale);                                          \
    }
#define XP_X86_GATHERS_AVX2(P, V4, V8, VD)                                                                           \
    XP_X86_GATHER_AVX2(P, V4, float, ps, V8, int32_t, i32) XP_X86_GATHER_AVX2(P, V8, int32_t, epi32, V8, int32_t, i32) \
    XP_X86_GATHER_AVX2(P, VD, double, pd, __m128i, int32_t, i32)                                                     \
    XP_X86_GATHER_AVX2(P, V8, int64_t, epi64, __m128i, int32_t, i32)                                                 \
    XP_X86_GATHER_AVX2(P, __m128, float, ps, V8, int64_t, i64)                                                       \
    XP_X86_GATHER_AVX2(P, __m128i, int32_t, epi32, V8, int64_t, i64)                                                 \
    XP_X86_GATHER_AVX2(P, VD, double, pd, V8, int64_t, i64) XP_X86_GATHER_AVX2(P, V8, int64_t, epi64, V8, int64_t, i64)
XP_X86_GATHERS_AVX2(_mm256, __m256, __m256i, __m256d)
#undef XP_X86_GATHERS_AVX2
XP_X86_GATHER_AVX2(_mm, __m128, float, ps, __m128i, int32_t, i32)
XP_X86_GATHER_AVX2(_mm, __m128i, int32_t, epi32, __m128i, int32_t, i32)
XP_X86_GATHER_AVX2(_mm, __m128d, double, pd, __m128i, int32_t, i32)
XP_X86_GATHER_AVX2(_mm, __m128i, int64_t, epi64, __m128i, int32_t, i32)
XP_X86_GATHER_AVX2(_mm, __m128d, double, pd, __m128i, int64_t, i64)
#undef XP_X86_GATHER_AVX2

// ---- casts: reinterpret the bits; to a wider vector the upper part is zero (the hardware leaves it undefined) --
#define XP_X86_CAST(NAME, FROM, TO) \
    inline TO NAME(FROM a) { return xp_x86::resize<TO>(a); }
#define XP_X86_SAME_WIDTH_CASTS(P, F, D, I, SI)                                                                \
    XP_X86_CAST(P##_castps_##SI, F, I) XP_X86_CAST(P##_cast##SI##_ps, I, F) XP_X86_CAST(P##_castpd_##SI, D, I) \
    XP_X86_CAST(P##_cast##SI##_pd, I, D) XP_X86_CAST(P##_castps_pd, F, D) XP_X86_CAST(P##_castpd_ps, D, F)
XP_X86_SAME_WIDTH_CASTS(_mm, __m128, __m128d, __m128i, si128)
XP_X86_SAME_WIDTH_CASTS(_mm256, __m256, __m256d, __m256i, si256)
XP_X86_SAME_WIDTH_CASTS(_mm512, __m512, __m512d, __m512i, si512)
#undef XP_X86_SAME_WIDTH_CASTS
// (prefix, narrow bits, wide bits, narrow ps / pd / int vectors, wide ps / pd / int vectors)
#define XP_X86_RESIZE_CASTS(P, N, W, NF, ND, NI, WF, WD, WI)                              \
    XP_X86_CAST(P##_castps##W##_ps##N, WF, NF) XP_X86_CAST(P##_castpd##W##_pd##N, WD, ND) \
    XP_X86_CAST(P##_castsi##W##_si##N, WI, NI) XP_X86_CAST(P##_castps##N##_ps##W, NF, WF) \
    XP_X86_CAST(P##_castpd##N##_pd##W, ND, WD) XP_X86_CAST(P##_castsi##N##_si##W, NI, WI) \
    XP_X86_CAST(P##_zextps##N##_ps##W, NF, WF) XP_X86_CAST(P##_zextpd##N##_pd##W, ND, WD) \
    XP_X86_CAST(P##_zextsi##N##_si##W, NI, WI)
XP_X86_RESIZE_CASTS(_mm256, 128, 256, __m128, __m128d, __m128i, __m256, __m256d, __m256i)
XP_X86_RESIZE_CASTS(_mm512, 128, 512, __m128, __m128d, __m128i, __m512, __m512d, __m512i)
XP_X86_RESIZE_CASTS(_mm512, 256, 512, __m256, __m256d, __m256i, __m512, __m512d, __m512i)
#undef XP_X86_RESIZE_CASTS
#undef XP_X86_CAST

// ---- 128- and 256-bit parts: extract, insert, combine ----------------------------------------------------------
namespace xp_x86 {
template <class Part, class V>
inline Part extract_part(V a, int index) {
    constexpr int parts = sizeof(V) / sizeof(Part);
    Part r;
    const auto* bytes = reinterpret_cast<const unsigned char*>(&a);
    __builtin_memcpy(&r, bytes + (index & (parts - 1)) * sizeof(Part), sizeof(Part));
    return r;
}
template <class V, class Part>
inline V insert_part(V a, Part b, int index) {
    constexpr int parts = sizeof(V) / sizeof(Part);
    __builtin_memcpy(reinterpret_cast<unsigned char*>(&a) + (index & (parts - 1)) * sizeof(Part), &b, sizeof(Part));
    return a;
}
}  // namespace xp_x86
#define XP_X86_PART(EXTRACT, INSERT, V, PART)                                            \
    inline PART EXTRACT(V a, int index) { return xp_x86::extract_part<PART>(a, index); } \
    inline V INSERT(V a, PART b, int index) { return xp_x86::insert_part(a, b, index); }
XP_X86_PART(_mm256_extractf128_ps, _mm256_insertf128_ps, __m256, __m128)
XP_X86_PART(_mm256_extractf128_pd, _mm256_insertf128_pd, __m256d, __m128d)
XP_X86_PART(_mm256_extractf128_si256, _mm256_insertf128_si256, __m256i, __m128i)
XP_X86_PART(_mm256_extracti128_si256, _mm256_inserti128_si256, __m256i, __m128i)
XP_X86_PART(_mm256_extractf32x4_ps, _mm256_insertf32x4, __m256, __m128)
XP_X86_PART(_mm256_extractf64x2_pd, _mm256_insertf64x2, __m256d, __m128d)
XP_X86_PART(_mm256_extracti32x4_epi32, _mm256_inserti32x4, __m256i, __m128i)
XP_X86_PART(_mm256_extracti64x2_epi64, _mm256_inserti64x2, __m256i, __m128i)
XP_X86_PART(_mm512_extractf32x4_ps, _mm512_insertf32x4, __m512, __m128)
XP_X86_PART(_mm512_extractf32x8_ps, _mm512_insertf32x8, __m512, __m256)
XP_X86_PART(_mm512_extractf64x2_pd, _mm512_insertf64x2, __m512d, __m128d)
XP_X86_PART(_mm512_extractf64x4_pd, _mm512_insertf64x4, __m512d, __m256d)
XP_X86_PART(_mm512_extracti32x4_epi32, _mm512_inserti32x4, __m512i, __m128i)
XP_X86_PART(_mm512_extracti32x8_epi32, _mm512_inserti32x8, __m512i, __m256i)
XP_X86_PART(_mm512_extracti64x2_epi64, _mm512_inserti64x2, __m512i, __m128i)
XP_X86_PART(_mm512_extracti64x4_epi64, _mm512_inserti64x4, __m512i, __m256i)
#undef XP_X86_PART

#define XP_X86_COMBINE(S, V, PART)                                                                                \
    inline V _mm256_set_##S(PART high, PART low) { return xp_x86::insert_part(xp_x86::resize<V>(low), high, 1); } \
    inline V _mm256_setr_##S(PART low, PART high) { return _mm256_set_##S(high, low); }                           \
    inline V _mm256_loadu2_##S(const void* high, const void* low) {                                               \
        return _mm256_set_##S(xp_x86::load<PART>(high), xp_x86::load<PART>(low));                                 \
    }                                                                                                             \
    inline void _mm256_storeu2_##S(void* high, void* low, V a) {                                                  \
        xp_x86::store(low, xp_x86::extract_part<PART>(a, 0));                                                     \
        xp_x86::store(high, xp_x86::extract_part<PART>(a, 1));                                                    \
    }
XP_X86_COMBINE(m128, __m256, __m128)
XP_X86_COMBINE(m128d, __m256d, __m128d)
XP_X86_COMBINE(m128i, __m256i, __m128i)
#undef XP_X86_COMBINE
