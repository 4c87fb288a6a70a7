// Portable x86 intrinsics, part 3: integer arithmetic, comparisons, shifts, dot products (SSE/AVX2 madd,
// AVX-512 VNNI and AVX-VNNI), saturating packs and horizontal operations.
// Integer lanes wrap modulo 2^bits unless the intrinsic saturates (computed exactly, then clamped).
#pragma once
#pragma GCC system_header
#include "xp_intrin_base.h"

// (prefix, vector, 128/256/512-bit bitwise suffix) of every integer vector.
#define XP_X86_INT_VECTORS(X) X(_mm, __m128i, si128) X(_mm256, __m256i, si256) X(_mm512, __m512i, si512)
// (prefix, vector, suffix, lane) of the lane types.
#define XP_X86_SIGNED_LANES(X, P, V) \
    X(P, V, epi8, int8_t) X(P, V, epi16, int16_t) X(P, V, epi32, int32_t) X(P, V, epi64, int64_t)
#define XP_X86_UNSIGNED_LANES(X, P, V) \
    X(P, V, epu8, uint8_t) X(P, V, epu16, uint16_t) X(P, V, epu32, uint32_t) X(P, V, epu64, uint64_t)

// ---- lane-wise arithmetic and comparisons ----------------------------------------------------------------------
#define XP_X86_INT_NAMED_COMPARE(P, V, S, T, NAME, PREDICATE)                                                      \
    inline xp_x86::Mask<T, V> P##_cmp##NAME##_##S##_mask(V a, V b) { return P##_cmp_##S##_mask(a, b, PREDICATE); } \
    inline xp_x86::Mask<T, V> P##_mask_cmp##NAME##_##S##_mask(xp_x86::Mask<T, V> k, V a, V b) {                    \
        return k & P##_cmp_##S##_mask(a, b, PREDICATE);                                                            \
    }
// What signed and unsigned lanes share: max/min and the comparisons of their own signedness.
#define XP_X86_INT_ORDERED_OPS(P, V, S, T)                                                                           \
    XP_X86_MASKABLE_2(P, V, T, max_##S, x > y ? x : y)                                                               \
    XP_X86_MASKABLE_2(P, V, T, min_##S, x < y ? x : y)                                                               \
    inline xp_x86::Mask<T, V> P##_cmp_##S##_mask(V a, V b, int predicate) {                                          \
        return xp_x86::mask_of<T>(a, b, [predicate](T x, T y) { return xp_x86::compare_int(x, y, predicate); });     \
    }                                                                                                                \
    inline xp_x86::Mask<T, V> P##_mask_cmp_##S##_mask(xp_x86::Mask<T, V> k, V a, V b, int predicate) {               \
        return k & P##_cmp_##S##_mask(a, b, predicate);                                                              \
    }                                                                                                                \
    XP_X86_INT_NAMED_COMPARE(P, V, S, T, eq, _MM_CMPINT_EQ) XP_X86_INT_NAMED_COMPARE(P, V, S, T, neq, _MM_CMPINT_NE) \
    XP_X86_INT_NAMED_COMPARE(P, V, S, T, lt, _MM_CMPINT_LT) XP_X86_INT_NAMED_COMPARE(P, V, S, T, le, _MM_CMPINT_LE)  \
    XP_X86_INT_NAMED_COMPARE(P, V, S, T, gt, _MM_CMPINT_GT) XP_X86_INT_NAMED_COMPARE(P, V, S, T, ge, _MM_CMPINT_GE)
#define XP_X86_SIGNED_OPS(P, V, S, T)                                                                                \
    XP_X86_INT_ORDERED_OPS(P, V, S, T)                                                                               \
    XP_X86_MASKABLE_2(P, V, T, add_##S, xp_x86::wrap_add(x, y))                                                      \
    XP_X86_MASKABLE_2(P, V, T, sub_##S, xp_x86::wrap_sub(x, y))                                                      \
    XP_X86_MASKABLE_2(P, V, T, mullo_##S, xp_x86::wrap_mul(x, y))                                                    \
    XP_X86_MASKABLE_1(P, V, T, abs_##S, x < 0 ? xp_x86::wrap_sub(T(0), x) : x)                                       \
    XP_X86_MASKABLE_2(P, V, T, and_##S, x & y)                                                                       \
    XP_X86_MASKABLE_2(P, V, T, or_##S, x | y)                                                                        \
    XP_X86_MASKABLE_2(P, V, T, xor_##S, x ^ y)                                                                       \
    XP_X86_MASKABLE_2(P, V, T, andnot_##S, ~x & y)                                                                   \
    /* AVX2 / SSE comparisons: all-ones lanes */                                                                     \
    inline V P##_cmpeq_##S(V a, V b) { return xp_x86::lanes_from_mask<T, V>(P##_cmpeq_##S##_mask(a, b)); }           \
    inline V P##_cmpgt_##S(V a, V b) { return xp_x86::lanes_from_mask<T, V>(P##_cmpgt_##S##_mask(a, b)); }           \
    inline V P##_cmplt_##S(V a, V b) { return xp_x86::lanes_from_mask<T, V>(P##_cmplt_##S##_mask(a, b)); }           \
    inline xp_x86::Mask<T, V> P##_test_##S##_mask(V a, V b) {                                                        \
        return xp_x86::mask_of<T>(a, b, [](T x, T y) { return (x & y) != 0; });                                      \
    }                                                                                                                \
    inline xp_x86::Mask<T, V> P##_testn_##S##_mask(V a, V b) {                                                       \
        return xp_x86::mask_of<T>(a, b, [](T x, T y) { return (x & y) == 0; });                                      \
    }                                                                                                                \
    inline xp_x86::Mask<T, V> P##_mov##S##_mask(V a) { return xp_x86::Mask<T, V>(xp_x86::sign_bits<T>(a)); }         \
    inline V P##_movm_##S(xp_x86::Mask<T, V> k) { return xp_x86::lanes_from_mask<T, V>(k); }                         \
    inline V P##_mask_blend_##S(xp_x86::Mask<T, V> k, V a, V b) { return xp_x86::blend<T>(k, a, b); }                \
    inline V P##_mask_mov_##S(V src, xp_x86::Mask<T, V> k, V a) { return xp_x86::blend<T>(k, src, a); }              \
    inline V P##_maskz_mov_##S(xp_x86::Mask<T, V> k, V a) { return xp_x86::blend<T>(k, V{}, a); }                    \
    inline V P##_set1_##S(T x) { return xp_x86::broadcast<T, V>(x); }                                                \
    inline V P##_mask_set1_##S(V src, xp_x86::Mask<T, V> k, T x) { return xp_x86::blend<T>(k, src, P##_set1_##S(x)); } \
    inline V P##_maskz_set1_##S(xp_x86::Mask<T, V> k, T x) { return xp_x86::blend<T>(k, V{}, P##_set1_##S(x)); }
#define XP_X86_INT_LANE_OPS(P, V, SI)                                     \
    XP_X86_SIGNED_LANES(XP_X86_SIGNED_OPS, P, V)                          \
    XP_X86_UNSIGNED_LANES(XP_X86_INT_ORDERED_OPS, P, V)                   \
    inline V P##_and_##SI(V a, V b) { return P##_and_epi64(a, b); }       \
    inline V P##_or_##SI(V a, V b) { return P##_or_epi64(a, b); }         \
    inline V P##_xor_##SI(V a, V b) { return P##_xor_epi64(a, b); }       \
    inline V P##_andnot_##SI(V a, V b) { return P##_andnot_epi64(a, b); } \
    inline int P##_movemask_epi8(V a) { return int(xp_x86::sign_bits<int8_t>(a)); }
XP_X86_INT_VECTORS(XP_X86_INT_LANE_OPS)
#undef XP_X86_INT_LANE_OPS
#undef XP_X86_SIGNED_OPS
#undef XP_X86_INT_ORDERED_OPS
#undef XP_X86_INT_NAMED_COMPARE

// Saturating add / subtract, rounding average and high-half multiplies of 8- and 16-bit lanes.
#define XP_X86_SATURATING(P, V, S, T)                                                  \
    XP_X86_MASKABLE_2(P, V, T, adds_##S, xp_x86::saturate<T>(int32_t(x) + int32_t(y))) \
    XP_X86_MASKABLE_2(P, V, T, subs_##S, xp_x86::saturate<T>(int32_t(x) - int32_t(y)))
#define XP_X86_NARROW_LANE_OPS(P, V, SI)                                                \
    XP_X86_SATURATING(P, V, epi8, int8_t) XP_X86_SATURATING(P, V, epi16, int16_t)       \
    XP_X86_SATURATING(P, V, epu8, uint8_t) XP_X86_SATURATING(P, V, epu16, uint16_t)     \
    XP_X86_MASKABLE_2(P, V, uint8_t, avg_epu8, (x + y + 1) >> 1)                        \
    XP_X86_MASKABLE_2(P, V, uint16_t, avg_epu16, (uint32_t(x) + y + 1) >> 1)            \
    XP_X86_MASKABLE_2(P, V, int16_t, mulhi_epi16, (int32_t(x) * y) >> 16)               \
    XP_X86_MASKABLE_2(P, V, uint16_t, mulhi_epu16, (uint32_t(x) * y) >> 16)             \
    XP_X86_MASKABLE_2(P, V, int16_t, mulhrs_epi16, (((int32_t(x) * y) >> 14) + 1) >> 1) \
    /* mul_epi32 / mul_epu32: the even 32-bit lanes multiplied into 64-bit lanes */     \
    XP_X86_MASKABLE_2(P, V, int64_t, mul_epi32, int64_t(int32_t(x)) * int32_t(y))       \
    XP_X86_MASKABLE_2(P, V, uint64_t, mul_epu32, uint64_t(uint32_t(x)) * uint32_t(y))
XP_X86_INT_VECTORS(XP_X86_NARROW_LANE_OPS)
#undef XP_X86_NARROW_LANE_OPS
#undef XP_X86_SATURATING

// ---- shifts ---------------------------------------------------------------------------------------------------
// Counts of the lane width or more give 0 (logical) or the sign fill (arithmetic); counts are unsigned.
namespace xp_x86 {
template <class T> inline T shift_left(T x, uint64_t n) { return n >= 8 * sizeof(T) ? T(0) : T(UInt<T>(x) << n); }
template <class T> inline T shift_right_logical(T x, uint64_t n) {
    return n >= 8 * sizeof(T) ? T(0) : T(UInt<T>(x) >> n);
}
template <class T> inline T shift_right_arithmetic(T x, uint64_t n) {
    return T(std::make_signed_t<T>(x) >> (n >= 8 * sizeof(T) ? 8 * sizeof(T) - 1 : n));
}
}  // namespace xp_x86

// NAME i (immediate count), NAME (count in the low 64 bits of an __m128i), NAME v (a count per lane).
#define XP_X86_SHIFT(P, V, S, T, NAME, FN)                                                \
    inline V P##_##NAME##i_##S(V a, unsigned int n) { return xp_x86::map<T>(a, [n](T x) { \
        return xp_x86::FN(x, n); });                                                      \
    }                                                                                     \
    inline V P##_mask_##NAME##i_##S(V src, xp_x86::Mask<T, V> k, V a, unsigned int n) {   \
        return xp_x86::blend<T>(k, src, P##_##NAME##i_##S(a, n));                         \
    }                                                                                     \
    inline V P##_maskz_##NAME##i_##S(xp_x86::Mask<T, V> k, V a, unsigned int n) {         \
        return xp_x86::blend<T>(k, V{}, P##_##NAME##i_##S(a, n));                         \
    }                                                                                     \
    inline V P##_##NAME##_##S(V a, __m128i count) {                                       \
        const uint64_t n = xp_x86::lanes<uint64_t>(count)[0];                             \
        return xp_x86::map<T>(a, [n](T x) { return xp_x86::FN(x, n); });                  \
    }                                                                                     \
    XP_X86_MASKABLE_2(P, V, xp_x86::UInt<T>, NAME##v_##S, xp_x86::FN(T(x), y))
#define XP_X86_SHIFTS(P, V, S, T)                      \
    XP_X86_SHIFT(P, V, S, T, sll, shift_left)          \
    XP_X86_SHIFT(P, V, S, T, srl, shift_right_logical) \
    XP_X86_SHIFT(P, V, S, T, sra, shift_right_arithmetic)
#define XP_X86_SHIFT_WIDTH(P, V, SI) \
    XP_X86_SHIFTS(P, V, epi16, int16_t) XP_X86_SHIFTS(P, V, epi32, int32_t) XP_X86_SHIFTS(P, V, epi64, int64_t)
XP_X86_INT_VECTORS(XP_X86_SHIFT_WIDTH)
#undef XP_X86_SHIFT_WIDTH
#undef XP_X86_SHIFTS
#undef XP_X86_SHIFT

// ---- dot products ---------------------------------------------------------------------------------------------
namespace xp_x86 {
// Lane j of the result: the sum of the products of the `group` narrow lanes of a and b inside it, exact in 64 bits.
template <class TA, class TB, class TO, class V>
inline std::array<int64_t, kLanes<TO, V>> group_dots(V a, V b) {
    const auto x = lanes<TA>(a);
    const auto y = lanes<TB>(b);
    constexpr int group = sizeof(TO) / sizeof(TA);
    std::array<int64_t, kLanes<TO, V>> r{};
    for (int j = 0; j < kLanes<TO, V>; ++j)
        for (int k = 0; k < group; ++k) r[j] += int64_t(x[group * j + k]) * int64_t(y[group * j + k]);
    return r;
}
// dst = src + dot, per 32-bit lane: wrapped modulo 2^32, or saturated to int32 (the "s" forms).
template <class TA, class TB, bool saturating, class V>
inline V accumulate_dots(V src, V a, V b) {
    const auto dots = group_dots<TA, TB, int32_t>(a, b);
    auto acc = lanes<int32_t>(src);
    for (int j = 0; j < kLanes<int32_t, V>; ++j) {
        const int64_t sum = int64_t(acc[j]) + dots[j];
        acc[j] = saturating ? saturate<int32_t>(sum) : int32_t(uint32_t(uint64_t(sum)));
    }
    return vec<V>(acc);
}
template <class TA, class TB, class TO, bool saturating, class V>
inline V pair_dots(V a, V b) {
    const auto dots = group_dots<TA, TB, TO>(a, b);
    Lanes<TO, V> r;
    for (int j = 0; j < kLanes<TO, V>; ++j) r[j] = saturating ? saturate<TO>(dots[j]) : TO(UInt<TO>(uint64_t(dots[j])));
    return vec<V>(r);
}
}  // namespace xp_x86

// VNNI: dpbusd = u8 (a) x s8 (b), four products per 32-bit lane; dpwssd = s16 x s16, two per lane.
#define XP_X86_DOT_ACCUMULATE(P, V, NAME, TA, TB, SATURATING)                                                       \
    inline V P##_##NAME##_epi32(V src, V a, V b) { return xp_x86::accumulate_dots<TA, TB, SATURATING>(src, a, b); } \
    inline V P##_mask_##NAME##_epi32(V src, xp_x86::Mask<int32_t, V> k, V a, V b) {                                 \
        return xp_x86::blend<int32_t>(k, src, P##_##NAME##_epi32(src, a, b));                                       \
    }                                                                                                               \
    inline V P##_maskz_##NAME##_epi32(xp_x86::Mask<int32_t, V> k, V src, V a, V b) {                                \
        return xp_x86::blend<int32_t>(k, V{}, P##_##NAME##_epi32(src, a, b));                                       \
    }
#define XP_X86_DOT_PRODUCTS(P, V, SI)                                                                              \
    XP_X86_DOT_ACCUMULATE(P, V, dpbusd, uint8_t, int8_t, false)                                                    \
    XP_X86_DOT_ACCUMULATE(P, V, dpbusds, uint8_t, int8_t, true)                                                    \
    XP_X86_DOT_ACCUMULATE(P, V, dpwssd, int16_t, int16_t, false)                                                   \
    XP_X86_DOT_ACCUMULATE(P, V, dpwssds, int16_t, int16_t, true)                                                   \
    /* madd_epi16: s16 x s16 pairs summed into s32 (wraps only for 2 x (-32768)^2); maddubs: u8 x s8, saturated */ \
    inline V P##_madd_epi16(V a, V b) { return xp_x86::pair_dots<int16_t, int16_t, int32_t, false>(a, b); }        \
    inline V P##_maddubs_epi16(V a, V b) { return xp_x86::pair_dots<uint8_t, int8_t, int16_t, true>(a, b); }       \
    /* sad_epu8: per 64-bit lane, the sum of the 8 absolute byte differences */                                    \
    inline V P##_sad_epu8(V a, V b) {                                                                              \
        const auto x = xp_x86::lanes<uint8_t>(a), y = xp_x86::lanes<uint8_t>(b);                                   \
        xp_x86::Lanes<uint64_t, V> r{};                                                                            \
        for (int i = 0; i < xp_x86::kLanes<uint8_t, V>; ++i) r[i / 8] += x[i] > y[i] ? x[i] - y[i] : y[i] - x[i];  \
        return xp_x86::vec<V>(r);                                                                                  \
    }
XP_X86_INT_VECTORS(XP_X86_DOT_PRODUCTS)
#undef XP_X86_DOT_PRODUCTS
#undef XP_X86_DOT_ACCUMULATE

// AVX-VNNI (VEX-encoded) spellings of the same operations.
#define XP_X86_AVX_VNNI(P, V, NAME) \
    inline V P##_##NAME##_avx_epi32(V src, V a, V b) { return P##_##NAME##_epi32(src, a, b); }
#define XP_X86_AVX_VNNI_WIDTH(P, V)                                                            \
    XP_X86_AVX_VNNI(P, V, dpbusd) XP_X86_AVX_VNNI(P, V, dpbusds) XP_X86_AVX_VNNI(P, V, dpwssd) \
    XP_X86_AVX_VNNI(P, V, dpwssds)
XP_X86_AVX_VNNI_WIDTH(_mm, __m128i)
XP_X86_AVX_VNNI_WIDTH(_mm256, __m256i)
#undef XP_X86_AVX_VNNI_WIDTH
#undef XP_X86_AVX_VNNI

// Horizontal add / subtract of adjacent pairs (xp_x86::horizontal_pairs).
#define XP_X86_INT_HORIZONTAL(P, V, SI)                                                                              \
    inline V P##_hadd_epi32(V a, V b) { return xp_x86::horizontal_pairs<int32_t>(a, b, xp_x86::wrap_add<int32_t>); } \
    inline V P##_hsub_epi32(V a, V b) { return xp_x86::horizontal_pairs<int32_t>(a, b, xp_x86::wrap_sub<int32_t>); } \
    inline V P##_hadd_epi16(V a, V b) { return xp_x86::horizontal_pairs<int16_t>(a, b, xp_x86::wrap_add<int16_t>); } \
    inline V P##_hsub_epi16(V a, V b) { return xp_x86::horizontal_pairs<int16_t>(a, b, xp_x86::wrap_sub<int16_t>); } \
    inline V P##_hadds_epi16(V a, V b) {                                                                             \
        return xp_x86::horizontal_pairs<int16_t>(a, b, [](int x, int y) { return xp_x86::saturate<int16_t>(x + y); }); \
    }
XP_X86_INT_VECTORS(XP_X86_INT_HORIZONTAL)
#undef XP_X86_INT_HORIZONTAL

// AVX-512 integer reductions (exact for add/mul modulo 2^bits, so the order does not matter).
#define XP_X86_INT_REDUCE(S, T, R, NAME, IDENTITY, ...)                                                             \
    inline R _mm512_reduce_##NAME##_##S(__m512i a) {                                                                \
        return static_cast<R>(xp_x86::reduce_tree(xp_x86::lanes<T>(a), [](T x, T y) -> T { return __VA_ARGS__; })); \
    }                                                                                                               \
    inline R _mm512_mask_reduce_##NAME##_##S(xp_x86::Mask<T, __m512i> k, __m512i a) {                               \
        return _mm512_reduce_##NAME##_##S(xp_x86::blend<T>(k, xp_x86::broadcast<T, __m512i>(IDENTITY), a));         \
    }
#define XP_X86_INT_REDUCTIONS(BITS, R, UR)                                                                        \
    XP_X86_INT_REDUCE(epi##BITS, int##BITS##_t, R, add, 0, xp_x86::wrap_add(x, y))                                \
    XP_X86_INT_REDUCE(epi##BITS, int##BITS##_t, R, mul, 1, xp_x86::wrap_mul(x, y))                                \
    XP_X86_INT_REDUCE(epi##BITS, int##BITS##_t, R, and, -1, x & y)                                                \
    XP_X86_INT_REDUCE(epi##BITS, int##BITS##_t, R, or, 0, x | y)                                                  \
    XP_X86_INT_REDUCE(epi##BITS, int##BITS##_t, R, max, std::numeric_limits<int##BITS##_t>::min(), x > y ? x : y) \
    XP_X86_INT_REDUCE(epi##BITS, int##BITS##_t, R, min, std::numeric_limits<int##BITS##_t>::max(), x < y ? x : y) \
    XP_X86_INT_REDUCE(epu##BITS, uint##BITS##_t, UR, max, 0, x > y ? x : y)                                       \
    XP_X86_INT_REDUCE(epu##BITS, uint##BITS##_t, UR, min, std::numeric_limits<uint##BITS##_t>::max(), x < y ? x : y)
XP_X86_INT_REDUCTIONS(32, int, unsigned int)
XP_X86_INT_REDUCTIONS(64, long long, unsigned long long)
#undef XP_X86_INT_REDUCTIONS
#undef XP_X86_INT_REDUCE

// ---- packs: per 128-bit block, the saturated lanes of a, then those of b ---------------------------------------
namespace xp_x86 {
template <class TO, class TI, class V>
inline V pack_saturate(V a, V b) {
    const auto x = lanes<TI>(a), y = lanes<TI>(b);
    constexpr int per_block = 16 / sizeof(TI);
    Lanes<TO, V> r;
    for (int block = 0; block < kLanes<TI, V> / per_block; ++block)
        for (int j = 0; j < per_block; ++j) {
            r[2 * per_block * block + j] = saturate<TO>(x[per_block * block + j]);
            r[2 * per_block * block + per_block + j] = saturate<TO>(y[per_block * block + j]);
        }
    return vec<V>(r);
}
}  // namespace xp_x86
#define XP_X86_PACKS(P, V, SI)                                                                     \
    inline V P##_packs_epi32(V a, V b) { return xp_x86::pack_saturate<int16_t, int32_t>(a, b); }   \
    inline V P##_packus_epi32(V a, V b) { return xp_x86::pack_saturate<uint16_t, int32_t>(a, b); } \
    inline V P##_packs_epi16(V a, V b) { return xp_x86::pack_saturate<int8_t, int16_t>(a, b); }    \
    inline V P##_packus_epi16(V a, V b) { return xp_x86::pack_saturate<uint8_t, int16_t>(a, b); }
XP_X86_INT_VECTORS(XP_X86_PACKS)
#undef XP_X86_PACKS
