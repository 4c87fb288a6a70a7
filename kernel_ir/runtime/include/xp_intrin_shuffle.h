// Portable x86 intrinsics, part 5: shuffles, permutes, unpacks, alignr, byte shifts, broadcasts and blends.
// Most SSE/AVX shuffles work inside each 128-bit block ("in-lane"); the helpers take a per-block rule.
#pragma once
#pragma GCC system_header
#include "xp_intrin_memory.h"

namespace xp_x86 {
// r[block][j] = rule(x_block, y_block, j) for each 128-bit block, where x/y are the block's lanes of a and b.
template <class T, class V, class Rule>
inline V per_block(V a, V b, Rule rule) {
    constexpr int n = 16 / sizeof(T);
    const auto x = lanes<T>(a), y = lanes<T>(b);
    Lanes<T, V> r;
    for (int base = 0; base < kLanes<T, V>; base += n)
        for (int j = 0; j < n; ++j) r[base + j] = rule(&x[base], &y[base], j);
    return vec<V>(r);
}
// r[i] = table[idx[i] mod 2n] over the 2n lanes of a then b (permutexvar uses a alone: b = a).
template <class T, class V, class VI>
inline V permute_two(V a, VI index, V b) {
    constexpr int n = kLanes<T, V>;
    const auto x = lanes<T>(a), y = lanes<T>(b);
    const auto idx = lanes<UInt<T>>(index);
    Lanes<T, V> r;
    for (int i = 0; i < n; ++i) {
        const int k = int(idx[i] & (2 * n - 1));
        r[i] = k < n ? x[k] : y[k - n];
    }
    return vec<V>(r);
}
// 128-bit blocks picked from a (first half of the result) and b (second half) by 2-bit (512) or 1-bit (256)
// fields of imm, as shuffle_f32x4 and friends do.
template <class V>
inline V shuffle_blocks(V a, V b, int imm) {
    constexpr int blocks = sizeof(V) / 16;
    constexpr int bits = blocks == 4 ? 2 : 1;
    V r;
    for (int i = 0; i < blocks; ++i) {
        const int pick = (imm >> (bits * i)) & (blocks - 1);
        const V& from = i < blocks / 2 ? a : b;
        __builtin_memcpy(reinterpret_cast<unsigned char*>(&r) + 16 * i,
                    reinterpret_cast<const unsigned char*>(&from) + 16 * pick, 16);
    }
    return r;
}
// The vector filled with copies of `part`.
template <class V, class Part>
inline V repeat(Part part) {
    V r;
    for (std::size_t i = 0; i < sizeof(V) / sizeof(Part); ++i)
        __builtin_memcpy(reinterpret_cast<unsigned char*>(&r) + i * sizeof(Part), &part, sizeof(Part));
    return r;
}
// Per 128-bit block: bytes [a:b] (a high) shifted right by `count` bytes, low 16 kept (alignr_epi8).
template <class V>
inline V align_bytes(V a, V b, unsigned count) {
    return per_block<uint8_t>(a, b, [count](const uint8_t* x, const uint8_t* y, int j) -> uint8_t {
        const unsigned k = j + count;
        return k < 16 ? y[k] : k < 32 ? x[k - 16] : 0;
    });
}
}  // namespace xp_x86

// ---- float shuffles ---------------------------------------------------------------------------------------------
#define XP_X86_PS_SHUFFLES(P, V, VI)                                                                          \
    inline V P##_shuffle_ps(V a, V b, int imm) {                                                              \
        return xp_x86::per_block<float>(a, b, [imm](const float* x, const float* y, int j) {                  \
            return (j < 2 ? x : y)[(imm >> (2 * j)) & 3];                                                     \
        });                                                                                                   \
    }                                                                                                         \
    inline V P##_permute_ps(V a, int imm) {                                                                   \
        return xp_x86::per_block<float>(a, a, [imm](const float* x, const float*, int j) {                    \
            return x[(imm >> (2 * j)) & 3];                                                                   \
        });                                                                                                   \
    }                                                                                                         \
    inline V P##_permutevar_ps(V a, VI control) {                                                             \
        const auto c = xp_x86::lanes<uint32_t>(control);                                                      \
        auto r = xp_x86::lanes<float>(a);                                                                     \
        const auto x = r;                                                                                     \
        for (int i = 0; i < xp_x86::kLanes<float, V>; ++i) r[i] = x[(i & ~3) + (c[i] & 3)];                   \
        return xp_x86::vec<V>(r);                                                                             \
    }                                                                                                         \
    inline V P##_moveldup_ps(V a) {                                                                           \
        return xp_x86::per_block<float>(a, a, [](const float* x, const float*, int j) { return x[j & ~1]; }); \
    }                                                                                                         \
    inline V P##_movehdup_ps(V a) {                                                                           \
        return xp_x86::per_block<float>(a, a, [](const float* x, const float*, int j) { return x[j | 1]; });  \
    }
XP_X86_PS_SHUFFLES(_mm, __m128, __m128i)
XP_X86_PS_SHUFFLES(_mm256, __m256, __m256i)
XP_X86_PS_SHUFFLES(_mm512, __m512, __m512i)
#undef XP_X86_PS_SHUFFLES

// pd: each bit of imm picks the low or high double of its block (bit i for lane i).
#define XP_X86_PD_SHUFFLES(P, V)                                                \
    inline V P##_shuffle_pd(V a, V b, int imm) {                                \
        auto r = xp_x86::lanes<double>(a);                                      \
        const auto x = r, y = xp_x86::lanes<double>(b);                         \
        for (int i = 0; i < xp_x86::kLanes<double, V>; ++i)                     \
            r[i] = ((i & 1) ? y : x)[(i & ~1) + ((imm >> i) & 1)];              \
        return xp_x86::vec<V>(r);                                               \
    }                                                                           \
    inline V P##_permute_pd(V a, int imm) { return P##_shuffle_pd(a, a, imm); } \
    inline V P##_movedup_pd(V a) { return P##_shuffle_pd(a, a, 0); }
XP_X86_PD_SHUFFLES(_mm, __m128d)
XP_X86_PD_SHUFFLES(_mm256, __m256d)
XP_X86_PD_SHUFFLES(_mm512, __m512d)
#undef XP_X86_PD_SHUFFLES

inline __m128 _mm_movehl_ps(__m128 a, __m128 b) { return __m128{b[2], b[3], a[2], a[3]}; }
inline __m128 _mm_movelh_ps(__m128 a, __m128 b) { return __m128{a[0], a[1], b[0], b[1]}; }

// ---- unpack: per 128-bit block, interleave the low (or high) halves of a and b ----------------------------------
#define XP_X86_UNPACK(P, V, S, T)                                                                                \
    inline V P##_unpacklo_##S(V a, V b) {                                                                        \
        return xp_x86::per_block<T>(a, b, [](const T* x, const T* y, int j) { return (j & 1 ? y : x)[j / 2]; }); \
    }                                                                                                            \
    inline V P##_unpackhi_##S(V a, V b) {                                                                        \
        constexpr int half = 8 / sizeof(T);                                                                      \
        return xp_x86::per_block<T>(a, b, [](const T* x, const T* y, int j) {                                    \
            return (j & 1 ? y : x)[half + j / 2];                                                                \
        });                                                                                                      \
    }                                                                                                            \
    inline V P##_mask_unpacklo_##S(V src, xp_x86::Mask<T, V> k, V a, V b) {                                      \
        return xp_x86::blend<T>(k, src, P##_unpacklo_##S(a, b));                                                 \
    }                                                                                                            \
    inline V P##_mask_unpackhi_##S(V src, xp_x86::Mask<T, V> k, V a, V b) {                                      \
        return xp_x86::blend<T>(k, src, P##_unpackhi_##S(a, b));                                                 \
    }
#define XP_X86_INT_UNPACKS(P, V, SI) XP_X86_SIGNED_LANES(XP_X86_UNPACK, P, V)
XP_X86_INT_VECTORS(XP_X86_INT_UNPACKS)
XP_X86_FLOAT_VECTORS(XP_X86_UNPACK)
#undef XP_X86_INT_UNPACKS
#undef XP_X86_UNPACK

// ---- full-width permutes ------------------------------------------------------------------------------------------
#define XP_X86_PERMUTEXVAR(P, V, S, T, VI)                                                      \
    inline V P##_permutexvar_##S(VI index, V a) { return xp_x86::permute_two<T>(a, index, a); } \
    inline V P##_mask_permutexvar_##S(V src, xp_x86::Mask<T, V> k, VI index, V a) {             \
        return xp_x86::blend<T>(k, src, P##_permutexvar_##S(index, a));                         \
    }                                                                                           \
    inline V P##_maskz_permutexvar_##S(xp_x86::Mask<T, V> k, VI index, V a) {                   \
        return xp_x86::blend<T>(k, V{}, P##_permutexvar_##S(index, a));                         \
    }                                                                                           \
    inline V P##_permutex2var_##S(V a, VI index, V b) { return xp_x86::permute_two<T>(a, index, b); }
#define XP_X86_PERMUTES(P, F, D, I)                                                       \
    XP_X86_PERMUTEXVAR(P, F, ps, float, I) XP_X86_PERMUTEXVAR(P, D, pd, double, I)        \
    XP_X86_PERMUTEXVAR(P, I, epi8, int8_t, I) XP_X86_PERMUTEXVAR(P, I, epi16, int16_t, I) \
    XP_X86_PERMUTEXVAR(P, I, epi32, int32_t, I) XP_X86_PERMUTEXVAR(P, I, epi64, int64_t, I)
XP_X86_PERMUTES(_mm256, __m256, __m256d, __m256i)
XP_X86_PERMUTES(_mm512, __m512, __m512d, __m512i)
#undef XP_X86_PERMUTES
#undef XP_X86_PERMUTEXVAR
inline __m256 _mm256_permutevar8x32_ps(__m256 a, __m256i index) { return _mm256_permutexvar_ps(index, a); }
inline __m256i _mm256_permutevar8x32_epi32(__m256i a, __m256i index) { return _mm256_permutexvar_epi32(index, a); }

// 64-bit lanes chosen by 2-bit fields of imm, within each 256-bit half.
#define XP_X86_PERMUTE4X64(NAME, V, T)                                                                    \
    inline V NAME(V a, int imm) {                                                                         \
        auto r = xp_x86::lanes<T>(a);                                                                     \
        const auto x = r;                                                                                 \
        for (int i = 0; i < xp_x86::kLanes<T, V>; ++i) r[i] = x[(i & ~3) + ((imm >> (2 * (i & 3))) & 3)]; \
        return xp_x86::vec<V>(r);                                                                         \
    }
XP_X86_PERMUTE4X64(_mm256_permute4x64_epi64, __m256i, int64_t)
XP_X86_PERMUTE4X64(_mm256_permute4x64_pd, __m256d, double)
XP_X86_PERMUTE4X64(_mm512_permutex_epi64, __m512i, int64_t)
XP_X86_PERMUTE4X64(_mm512_permutex_pd, __m512d, double)
#undef XP_X86_PERMUTE4X64

// permute2f128: each 128-bit half of the result is a's or b's low or high half (imm nibble), or zero (bit 3).
#define XP_X86_PERMUTE2X128(NAME, V)                                                             \
    inline V NAME(V a, V b, int imm) {                                                           \
        V r{};                                                                                   \
        for (int half = 0; half < 2; ++half) {                                                   \
            const int control = (imm >> (4 * half)) & 15;                                        \
            if (control & 8) continue;                                                           \
            const V& from = control & 2 ? b : a;                                                 \
            __builtin_memcpy(reinterpret_cast<unsigned char*>(&r) + 16 * half,                   \
                        reinterpret_cast<const unsigned char*>(&from) + 16 * (control & 1), 16); \
        }                                                                                        \
        return r;                                                                                \
    }
XP_X86_PERMUTE2X128(_mm256_permute2f128_ps, __m256)
XP_X86_PERMUTE2X128(_mm256_permute2f128_pd, __m256d)
XP_X86_PERMUTE2X128(_mm256_permute2f128_si256, __m256i)
XP_X86_PERMUTE2X128(_mm256_permute2x128_si256, __m256i)
#undef XP_X86_PERMUTE2X128

#define XP_X86_SHUFFLE_BLOCKS(P, F, D, I)                                                       \
    inline F P##_shuffle_f32x4(F a, F b, int imm) { return xp_x86::shuffle_blocks(a, b, imm); } \
    inline D P##_shuffle_f64x2(D a, D b, int imm) { return xp_x86::shuffle_blocks(a, b, imm); } \
    inline I P##_shuffle_i32x4(I a, I b, int imm) { return xp_x86::shuffle_blocks(a, b, imm); } \
    inline I P##_shuffle_i64x2(I a, I b, int imm) { return xp_x86::shuffle_blocks(a, b, imm); }
XP_X86_SHUFFLE_BLOCKS(_mm256, __m256, __m256d, __m256i)
XP_X86_SHUFFLE_BLOCKS(_mm512, __m512, __m512d, __m512i)
#undef XP_X86_SHUFFLE_BLOCKS

// ---- integer shuffles -------------------------------------------------------------------------------------------
#define XP_X86_INT_SHUFFLES(P, V, SI)                                                                               \
    inline V P##_shuffle_epi32(V a, int imm) { return P##_castps_##SI(P##_permute_ps(P##_cast##SI##_ps(a), imm)); } \
    inline V P##_shufflelo_epi16(V a, int imm) {                                                                    \
        return xp_x86::per_block<int16_t>(a, a, [imm](const int16_t* x, const int16_t*, int j) {                    \
            return j < 4 ? x[(imm >> (2 * j)) & 3] : x[j];                                                          \
        });                                                                                                         \
    }                                                                                                               \
    inline V P##_shufflehi_epi16(V a, int imm) {                                                                    \
        return xp_x86::per_block<int16_t>(a, a, [imm](const int16_t* x, const int16_t*, int j) {                    \
            return j < 4 ? x[j] : x[4 + ((imm >> (2 * (j - 4))) & 3)];                                              \
        });                                                                                                         \
    }                                                                                                               \
    /* shuffle_epi8: per block, byte j = a[b[j] & 15], or 0 where b[j] has its top bit set */                       \
    inline V P##_shuffle_epi8(V a, V b) {                                                                           \
        return xp_x86::per_block<uint8_t>(a, b, [](const uint8_t* x, const uint8_t* y, int j) -> uint8_t {          \
            return (y[j] & 0x80) ? 0 : x[y[j] & 15];                                                                \
        });                                                                                                         \
    }                                                                                                               \
    inline V P##_alignr_epi8(V a, V b, int count) { return xp_x86::align_bytes(a, b, unsigned(count)); }            \
    inline V P##_bsrli_epi128(V a, int count) { return xp_x86::align_bytes(V{}, a, unsigned(count)); }              \
    inline V P##_bslli_epi128(V a, int count) {                                                                     \
        const unsigned n = unsigned(count) > 16 ? 16 : unsigned(count);                                             \
        return xp_x86::align_bytes(a, V{}, 16 - n);                                                                 \
    }                                                                                                               \
    inline V P##_blend_epi16(V a, V b, int imm) {                                                                   \
        return xp_x86::blend<int16_t>(0x0101010101010101ull * uint8_t(imm), a, b);                                  \
    }                                                                                                               \
    inline V P##_blend_epi32(V a, V b, int imm) { return xp_x86::blend<int32_t>(uint64_t(uint8_t(imm)), a, b); }    \
    inline V P##_blendv_epi8(V a, V b, V selector) {                                                                \
        return xp_x86::blend<int8_t>(xp_x86::sign_bits<int8_t>(selector), a, b);                                    \
    }
XP_X86_INT_VECTORS(XP_X86_INT_SHUFFLES)
#undef XP_X86_INT_SHUFFLES
inline __m128i _mm_srli_si128(__m128i a, int count) { return _mm_bsrli_epi128(a, count); }
inline __m128i _mm_slli_si128(__m128i a, int count) { return _mm_bslli_epi128(a, count); }
inline __m128i _mm_bsrli_si128(__m128i a, int count) { return _mm_bsrli_epi128(a, count); }
inline __m128i _mm_bslli_si128(__m128i a, int count) { return _mm_bslli_epi128(a, count); }
inline __m256i _mm256_srli_si256(__m256i a, int count) { return _mm256_bsrli_epi128(a, count); }
inline __m256i _mm256_slli_si256(__m256i a, int count) { return _mm256_bslli_epi128(a, count); }

// valignd / valignq: [a:b] (a high) shifted right by `count` whole lanes, the low half kept.
#define XP_X86_ALIGNR_LANES(P, V, S, T)                                                     \
    inline V P##_alignr_##S(V a, V b, int count) {                                          \
        constexpr int n = xp_x86::kLanes<T, V>;                                             \
        const auto x = xp_x86::lanes<T>(a), y = xp_x86::lanes<T>(b);                        \
        xp_x86::Lanes<T, V> r;                                                              \
        const int shift = count & (n - 1);                                                  \
        for (int i = 0; i < n; ++i) r[i] = i + shift < n ? y[i + shift] : x[i + shift - n]; \
        return xp_x86::vec<V>(r);                                                           \
    }
XP_X86_ALIGNR_LANES(_mm, __m128i, epi32, int32_t)
XP_X86_ALIGNR_LANES(_mm256, __m256i, epi32, int32_t)
XP_X86_ALIGNR_LANES(_mm512, __m512i, epi32, int32_t)
XP_X86_ALIGNR_LANES(_mm, __m128i, epi64, int64_t)
XP_X86_ALIGNR_LANES(_mm256, __m256i, epi64, int64_t)
XP_X86_ALIGNR_LANES(_mm512, __m512i, epi64, int64_t)
#undef XP_X86_ALIGNR_LANES

// ---- broadcasts ---------------------------------------------------------------------------------------------------
// Element 0 of a 128-bit vector to every lane.
#define XP_X86_BROADCAST_ELEMENT(P, V, NAME, T, FROM) \
    inline V P##_##NAME(FROM a) { return xp_x86::broadcast<T, V>(xp_x86::lanes<T>(a)[0]); }
#define XP_X86_BROADCAST_ELEMENTS(P, F, D, I)                          \
    XP_X86_BROADCAST_ELEMENT(P, F, broadcastss_ps, float, __m128)      \
    XP_X86_BROADCAST_ELEMENT(P, D, broadcastsd_pd, double, __m128d)    \
    XP_X86_BROADCAST_ELEMENT(P, I, broadcastb_epi8, int8_t, __m128i)   \
    XP_X86_BROADCAST_ELEMENT(P, I, broadcastw_epi16, int16_t, __m128i) \
    XP_X86_BROADCAST_ELEMENT(P, I, broadcastd_epi32, int32_t, __m128i) \
    XP_X86_BROADCAST_ELEMENT(P, I, broadcastq_epi64, int64_t, __m128i)
XP_X86_BROADCAST_ELEMENTS(_mm, __m128, __m128d, __m128i)
XP_X86_BROADCAST_ELEMENTS(_mm256, __m256, __m256d, __m256i)
XP_X86_BROADCAST_ELEMENTS(_mm512, __m512, __m512d, __m512i)
#undef XP_X86_BROADCAST_ELEMENTS
#undef XP_X86_BROADCAST_ELEMENT

// A 128- or 256-bit part repeated.
#define XP_X86_BROADCAST_PART(NAME, V, PART) \
    inline V NAME(PART a) { return xp_x86::repeat<V>(a); }
XP_X86_BROADCAST_PART(_mm512_broadcast_f32x4, __m512, __m128)
XP_X86_BROADCAST_PART(_mm512_broadcast_f32x8, __m512, __m256)
XP_X86_BROADCAST_PART(_mm512_broadcast_f64x2, __m512d, __m128d)
XP_X86_BROADCAST_PART(_mm512_broadcast_f64x4, __m512d, __m256d)
XP_X86_BROADCAST_PART(_mm512_broadcast_i32x4, __m512i, __m128i)
XP_X86_BROADCAST_PART(_mm512_broadcast_i32x8, __m512i, __m256i)
XP_X86_BROADCAST_PART(_mm512_broadcast_i64x2, __m512i, __m128i)
XP_X86_BROADCAST_PART(_mm512_broadcast_i64x4, __m512i, __m256i)
XP_X86_BROADCAST_PART(_mm256_broadcast_f32x4, __m256, __m128)
XP_X86_BROADCAST_PART(_mm256_broadcast_f64x2, __m256d, __m128d)
XP_X86_BROADCAST_PART(_mm256_broadcast_i32x4, __m256i, __m128i)
XP_X86_BROADCAST_PART(_mm256_broadcast_i64x2, __m256i, __m128i)
XP_X86_BROADCAST_PART(_mm256_broadcastsi128_si256, __m256i, __m128i)
XP_X86_BROADCAST_PART(_mm_broadcastsi128_si256, __m256i, __m128i)
#undef XP_X86_BROADCAST_PART
inline __m256 _mm256_broadcast_ps(const __m128* p) { return xp_x86::repeat<__m256>(xp_x86::load<__m128>(p)); }
inline __m256d _mm256_broadcast_pd(const __m128d* p) { return xp_x86::repeat<__m256d>(xp_x86::load<__m128d>(p)); }
inline __m128 _mm_broadcast_ss(const float* p) { return _mm_set1_ps(*p); }
inline __m256 _mm256_broadcast_ss(const float* p) { return _mm256_set1_ps(*p); }
inline __m256d _mm256_broadcast_sd(const double* p) { return _mm256_set1_pd(*p); }

// set4: the four values repeated in every 128-bit block (highest first; setr4: lowest first).
inline __m512 _mm512_set4_ps(float d, float c, float b, float a) { return _mm512_broadcast_f32x4(_mm_set_ps(d, c, b, a)); }
inline __m512 _mm512_setr4_ps(float a, float b, float c, float d) { return _mm512_set4_ps(d, c, b, a); }
inline __m512i _mm512_set4_epi32(int d, int c, int b, int a) { return _mm512_broadcast_i32x4(_mm_set_epi32(d, c, b, a)); }
inline __m512i _mm512_setr4_epi32(int a, int b, int c, int d) { return _mm512_set4_epi32(d, c, b, a); }
