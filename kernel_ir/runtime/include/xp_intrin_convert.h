// Portable x86 intrinsics, part 6: conversions. int <-> int widening (sign / zero extension) and narrowing
// (truncating or saturating VPMOV*), int <-> float (CVT* with the "integer indefinite" result for NaN and out of
// range), float <-> double, F16C half floats with every rounding mode, and AVX512-BF16.
#pragma once
#pragma GCC system_header
#include <cfenv>

#include "xp_intrin_memory.h"

// ---- integer widening and narrowing -------------------------------------------------------------------------------
// cvt<from>_<to>: each lane of the narrow operand (the low lanes of an __m128i or __m256i) extended.
#define XP_X86_NARROW_OPERAND(TI, TO_T, V) xp_x86::IntVector<TI, xp_x86::kLanes<TO_T, V>>
#define XP_X86_WIDEN(P, V, FROM, TI, TO, TO_T)                                                                 \
    inline V P##_cvt##FROM##_##TO(XP_X86_NARROW_OPERAND(TI, TO_T, V) a) {                                      \
        return xp_x86::convert<TO_T, V, TI>(a, [](TI x) { return x; });                                        \
    }                                                                                                          \
    inline V P##_mask_cvt##FROM##_##TO(V src, xp_x86::Mask<TO_T, V> k, XP_X86_NARROW_OPERAND(TI, TO_T, V) a) { \
        return xp_x86::blend<TO_T>(k, src, P##_cvt##FROM##_##TO(a));                                           \
    }                                                                                                          \
    inline V P##_maskz_cvt##FROM##_##TO(xp_x86::Mask<TO_T, V> k, XP_X86_NARROW_OPERAND(TI, TO_T, V) a) {       \
        return xp_x86::blend<TO_T>(k, V{}, P##_cvt##FROM##_##TO(a));                                           \
    }
#define XP_X86_WIDENINGS(P, V, SI)                                                                          \
    XP_X86_WIDEN(P, V, epi8, int8_t, epi16, int16_t) XP_X86_WIDEN(P, V, epi8, int8_t, epi32, int32_t)       \
    XP_X86_WIDEN(P, V, epi8, int8_t, epi64, int64_t) XP_X86_WIDEN(P, V, epu8, uint8_t, epi16, int16_t)      \
    XP_X86_WIDEN(P, V, epu8, uint8_t, epi32, int32_t) XP_X86_WIDEN(P, V, epu8, uint8_t, epi64, int64_t)     \
    XP_X86_WIDEN(P, V, epi16, int16_t, epi32, int32_t) XP_X86_WIDEN(P, V, epi16, int16_t, epi64, int64_t)   \
    XP_X86_WIDEN(P, V, epu16, uint16_t, epi32, int32_t) XP_X86_WIDEN(P, V, epu16, uint16_t, epi64, int64_t) \
    XP_X86_WIDEN(P, V, epi32, int32_t, epi64, int64_t) XP_X86_WIDEN(P, V, epu32, uint32_t, epi64, int64_t)
XP_X86_INT_VECTORS(XP_X86_WIDENINGS)
#undef XP_X86_WIDENINGS
#undef XP_X86_WIDEN
#undef XP_X86_NARROW_OPERAND

// cvt[s|us]<from>_<to>: truncate, saturate as signed, or saturate as unsigned (the source read as unsigned).
// The result is the narrow vector (an __m128i with zeroed upper lanes where it is smaller).
#define XP_X86_NARROW_RESULT(TO, TI, V) xp_x86::IntVector<TO, xp_x86::kLanes<TI, V>>
#define XP_X86_NARROW_ONE(P, V, CVT, FROM, TO_S, TI, TO, ...)                                                        \
    inline xp_x86::IntVector<TO, xp_x86::kLanes<TI, V>> P##_##CVT##FROM##_##TO_S(V a) {                              \
        return xp_x86::convert<TO, XP_X86_NARROW_RESULT(TO, TI, V), TI>(a, [](TI x) { return __VA_ARGS__; });        \
    }                                                                                                                \
    inline xp_x86::IntVector<TO, xp_x86::kLanes<TI, V>> P##_mask_##CVT##FROM##_##TO_S(                               \
        xp_x86::IntVector<TO, xp_x86::kLanes<TI, V>> src, xp_x86::Mask<TI, V> k, V a) {                              \
        return xp_x86::blend<TO>(k, src, P##_##CVT##FROM##_##TO_S(a));                                               \
    }                                                                                                                \
    inline xp_x86::IntVector<TO, xp_x86::kLanes<TI, V>> P##_maskz_##CVT##FROM##_##TO_S(xp_x86::Mask<TI, V> k, V a) { \
        return xp_x86::blend<TO>(k, xp_x86::IntVector<TO, xp_x86::kLanes<TI, V>>{}, P##_##CVT##FROM##_##TO_S(a));    \
    }                                                                                                                \
    inline void P##_mask_##CVT##FROM##_storeu_##TO_S(void* p, xp_x86::Mask<TI, V> k, V a) {                          \
        xp_x86::masked_store<TO>(p, k, P##_##CVT##FROM##_##TO_S(a));                                                 \
    }
#define XP_X86_NARROW(P, V, FROM, TI, UI, TO_S, TO)                            \
    XP_X86_NARROW_ONE(P, V, cvt, FROM, TO_S, TI, TO, TO(x))                    \
    XP_X86_NARROW_ONE(P, V, cvts, FROM, TO_S, TI, TO, xp_x86::saturate<TO>(x)) \
    XP_X86_NARROW_ONE(P, V, cvtus, FROM, TO_S, TI, TO, TO(xp_x86::saturate<std::make_unsigned_t<TO>>(UI(x))))
#define XP_X86_NARROWINGS(P, V, SI)                               \
    XP_X86_NARROW(P, V, epi16, int16_t, uint16_t, epi8, int8_t)   \
    XP_X86_NARROW(P, V, epi32, int32_t, uint32_t, epi8, int8_t)   \
    XP_X86_NARROW(P, V, epi32, int32_t, uint32_t, epi16, int16_t) \
    XP_X86_NARROW(P, V, epi64, int64_t, uint64_t, epi8, int8_t)   \
    XP_X86_NARROW(P, V, epi64, int64_t, uint64_t, epi16, int16_t) \
    XP_X86_NARROW(P, V, epi64, int64_t, uint64_t, epi32, int32_t)
XP_X86_INT_VECTORS(XP_X86_NARROWINGS)
#undef XP_X86_NARROWINGS
#undef XP_X86_NARROW
#undef XP_X86_NARROW_ONE
#undef XP_X86_NARROW_RESULT

// ---- int <-> float ------------------------------------------------------------------------------------------------
namespace xp_x86 {
// The rounding mode that "current direction" (MXCSR) means: the C floating-point environment's.
inline int current_rounding() {
    switch (std::fegetround()) {
        case FE_DOWNWARD: return _MM_FROUND_TO_NEG_INF;
        case FE_UPWARD: return _MM_FROUND_TO_POS_INF;
        case FE_TOWARDZERO: return _MM_FROUND_TO_ZERO;
        default: return _MM_FROUND_TO_NEAREST_INT;
    }
}
}  // namespace xp_x86

#define XP_X86_CURRENT _MM_FROUND_CUR_DIRECTION  // (short names for the tables below)
#define XP_X86_TRUNCATE _MM_FROUND_TO_ZERO
// (name, result vector, result lane, operand vector, operand lane, lane expression in x)
#define XP_X86_CONVERT(NAME, VO, TO, VI, TI, ...) \
    inline VO NAME(VI a) { return xp_x86::convert<TO, VO, TI>(a, [](TI x) { return __VA_ARGS__; }); }
// int32 <-> float at one width; float -> int rounds with the current mode (nearest even by default).
#define XP_X86_INT_FLOAT(P, F, I)                                                                               \
    XP_X86_CONVERT(P##_cvtepi32_ps, F, float, I, int32_t, float(x))                                             \
    XP_X86_CONVERT(P##_cvtepu32_ps, F, float, I, uint32_t, float(x))                                            \
    XP_X86_CONVERT(P##_cvtps_epi32, I, int32_t, F, float, xp_x86::float_to_int<int32_t>(x, XP_X86_CURRENT))     \
    XP_X86_CONVERT(P##_cvttps_epi32, I, int32_t, F, float, xp_x86::float_to_int<int32_t>(x, XP_X86_TRUNCATE))   \
    XP_X86_CONVERT(P##_cvtps_epu32, I, uint32_t, F, float, xp_x86::float_to_int<uint32_t>(x, XP_X86_CURRENT))   \
    XP_X86_CONVERT(P##_cvttps_epu32, I, uint32_t, F, float, xp_x86::float_to_int<uint32_t>(x, XP_X86_TRUNCATE)) \
    inline I P##_cvt_roundps_epi32(F a, int rounding) {                                                         \
        return xp_x86::convert<int32_t, I, float>(                                                              \
            a, [rounding](float x) { return xp_x86::float_to_int<int32_t>(x, rounding & 7); });                 \
    }                                                                                                           \
    inline F P##_mask_cvtepi32_ps(F src, xp_x86::Mask<float, F> k, I a) {                                       \
        return xp_x86::blend<float>(k, src, P##_cvtepi32_ps(a));                                                \
    }                                                                                                           \
    inline F P##_maskz_cvtepi32_ps(xp_x86::Mask<float, F> k, I a) {                                             \
        return xp_x86::blend<float>(k, F{}, P##_cvtepi32_ps(a));                                                \
    }                                                                                                           \
    inline I P##_mask_cvtps_epi32(I src, xp_x86::Mask<float, F> k, F a) {                                       \
        return xp_x86::blend<int32_t>(k, src, P##_cvtps_epi32(a));                                              \
    }                                                                                                           \
    inline I P##_maskz_cvtps_epi32(xp_x86::Mask<float, F> k, F a) {                                             \
        return xp_x86::blend<int32_t>(k, I{}, P##_cvtps_epi32(a));                                              \
    }
XP_X86_INT_FLOAT(_mm, __m128, __m128i)
XP_X86_INT_FLOAT(_mm256, __m256, __m256i)
XP_X86_INT_FLOAT(_mm512, __m512, __m512i)
#undef XP_X86_INT_FLOAT

// float <-> double and int32 <-> double: the double vector is the wider one.
#define XP_X86_DOUBLE_CONVERSIONS(P, D, NF, NI)                                                               \
    XP_X86_CONVERT(P##_cvtps_pd, D, double, NF, float, double(x))                                             \
    XP_X86_CONVERT(P##_cvtpd_ps, NF, float, D, double, float(x))                                              \
    XP_X86_CONVERT(P##_cvtepi32_pd, D, double, NI, int32_t, double(x))                                        \
    XP_X86_CONVERT(P##_cvtepu32_pd, D, double, NI, uint32_t, double(x))                                       \
    XP_X86_CONVERT(P##_cvtpd_epi32, NI, int32_t, D, double, xp_x86::float_to_int<int32_t>(x, XP_X86_CURRENT)) \
    XP_X86_CONVERT(P##_cvttpd_epi32, NI, int32_t, D, double, xp_x86::float_to_int<int32_t>(x, XP_X86_TRUNCATE))
XP_X86_DOUBLE_CONVERSIONS(_mm, __m128d, __m128, __m128i)
XP_X86_DOUBLE_CONVERSIONS(_mm256, __m256d, __m128, __m128i)
XP_X86_DOUBLE_CONVERSIONS(_mm512, __m512d, __m256, __m256i)
#undef XP_X86_DOUBLE_CONVERSIONS
XP_X86_CONVERT(_mm512_cvtepi64_pd, __m512d, double, __m512i, int64_t, double(x))
XP_X86_CONVERT(_mm512_cvtepi64_ps, __m256, float, __m512i, int64_t, float(x))
XP_X86_CONVERT(_mm512_cvtpd_epi64, __m512i, int64_t, __m512d, double, xp_x86::float_to_int<int64_t>(x, XP_X86_CURRENT))
XP_X86_CONVERT(_mm512_cvttpd_epi64, __m512i, int64_t, __m512d, double, xp_x86::float_to_int<int64_t>(x, XP_X86_TRUNCATE))

// Scalar conversions of lane 0.
inline int _mm_cvtss_si32(__m128 a) { return xp_x86::float_to_int<int32_t>(a[0], _MM_FROUND_CUR_DIRECTION); }
inline int _mm_cvt_ss2si(__m128 a) { return _mm_cvtss_si32(a); }
inline int _mm_cvttss_si32(__m128 a) { return xp_x86::float_to_int<int32_t>(a[0], _MM_FROUND_TO_ZERO); }
inline int _mm_cvtt_ss2si(__m128 a) { return _mm_cvttss_si32(a); }
inline long long _mm_cvtss_si64(__m128 a) { return xp_x86::float_to_int<int64_t>(a[0], _MM_FROUND_CUR_DIRECTION); }
inline long long _mm_cvttss_si64(__m128 a) { return xp_x86::float_to_int<int64_t>(a[0], _MM_FROUND_TO_ZERO); }
inline int _mm_cvtsd_si32(__m128d a) { return xp_x86::float_to_int<int32_t>(a[0], _MM_FROUND_CUR_DIRECTION); }
inline int _mm_cvttsd_si32(__m128d a) { return xp_x86::float_to_int<int32_t>(a[0], _MM_FROUND_TO_ZERO); }
inline __m128 _mm_cvtsi32_ss(__m128 a, int x) { a[0] = float(x); return a; }
inline __m128d _mm_cvtsi32_sd(__m128d a, int x) { a[0] = double(x); return a; }
inline __m128 _mm_cvtsd_ss(__m128 a, __m128d b) { a[0] = float(b[0]); return a; }
inline __m128d _mm_cvtss_sd(__m128d a, __m128 b) { a[0] = double(b[0]); return a; }

// ---- F16C: IEEE binary16 <-> float ---------------------------------------------------------------------------------
namespace xp_x86 {
// Exact; NaNs keep their payload and come back quiet, as VCVTPH2PS returns them.
inline float half_to_float(uint16_t h) {
    const uint32_t sign = uint32_t(h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 31u, mantissa = h & 0x3FFu;
    if (exponent == 31) {
        const uint32_t nan_bits = mantissa ? 0x400000u | (mantissa << 13) : 0u;
        return std::bit_cast<float>(sign | 0x7F800000u | nan_bits);
    }
    if (exponent == 0) {
        const float tiny = xp_x86::ldexp(float(mantissa), -24);  // zero or a subnormal half: exact in float
        return sign ? -tiny : tiny;
    }
    return std::bit_cast<float>(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

// Rounded with `mode` (_MM_FROUND_TO_* or _MM_FROUND_CUR_DIRECTION), subnormal halves included; overflow gives
// infinity or the largest finite half as the rounding direction decides; NaNs become quiet, payload truncated.
inline uint16_t float_to_half(float f, int mode) {
    if (mode & _MM_FROUND_CUR_DIRECTION) mode = current_rounding();
    mode &= 3;
    const uint32_t bits = std::bit_cast<uint32_t>(f);
    const uint16_t sign = uint16_t((bits >> 16) & 0x8000u);
    const uint32_t magnitude = bits & 0x7FFFFFFFu;
    if (magnitude > 0x7F800000u) return uint16_t(sign | 0x7E00u | ((magnitude >> 13) & 0x3FFu));
    if (magnitude == 0x7F800000u) return uint16_t(sign | 0x7C00u);
    const bool negative = sign != 0;
    const uint16_t overflow = (mode == _MM_FROUND_TO_ZERO || (mode == _MM_FROUND_TO_NEG_INF && !negative) ||
                               (mode == _MM_FROUND_TO_POS_INF && negative)) ? 0x7BFFu : 0x7C00u;
    int exponent = int(magnitude >> 23) - 127;
    uint32_t significand = magnitude & 0x7FFFFFu;
    if (magnitude >= 0x800000u) significand |= 0x800000u;  // normal: the implicit bit
    else exponent = -126;                                  // subnormal float
    if (exponent > 15) return uint16_t(sign | overflow);
    // Keep 11 bits for a normal half (exponent >= -14), fewer for a subnormal one.
    const int shift = exponent >= -14 ? 13 : -1 - exponent > 26 ? 26 : -1 - exponent;  // 13 + (-14 - exponent)
    uint32_t kept = significand >> shift;
    const uint32_t rest = significand & ((1u << shift) - 1u), halfway = 1u << (shift - 1);
    bool up = false;
    switch (mode) {
        case _MM_FROUND_TO_NEAREST_INT: up = rest > halfway || (rest == halfway && (kept & 1u)); break;
        case _MM_FROUND_TO_NEG_INF: up = negative && rest != 0; break;
        case _MM_FROUND_TO_POS_INF: up = !negative && rest != 0; break;
        default: break;
    }
    kept += up;
    // For normal halves `kept` holds the implicit bit, which adds the 1 missing from (exponent + 14); a carry out
    // of the significand moves into the exponent field by itself.
    const uint32_t half = exponent >= -14 ? (uint32_t(exponent + 14) << 10) + kept : kept;
    return half >= 0x7C00u ? uint16_t(sign | overflow) : uint16_t(sign | half);
}
}  // namespace xp_x86

inline float _cvtsh_ss(unsigned short h) { return xp_x86::half_to_float(h); }
inline unsigned short _cvtss_sh(float f, int rounding) { return xp_x86::float_to_half(f, rounding); }
#define XP_X86_HALF(P, F, H)                                                                             \
    inline F P##_cvtph_ps(H a) { return xp_x86::convert<float, F, uint16_t>(a, xp_x86::half_to_float); } \
    inline F P##_mask_cvtph_ps(F src, xp_x86::Mask<float, F> k, H a) {                                   \
        return xp_x86::blend<float>(k, src, P##_cvtph_ps(a));                                            \
    }                                                                                                    \
    inline F P##_maskz_cvtph_ps(xp_x86::Mask<float, F> k, H a) {                                         \
        return xp_x86::blend<float>(k, F{}, P##_cvtph_ps(a));                                            \
    }                                                                                                    \
    inline F P##_cvt_roundph_ps(H a, int) { return P##_cvtph_ps(a); }                                    \
    inline H P##_cvtps_ph(F a, int rounding) {                                                           \
        return xp_x86::convert<uint16_t, H, float>(                                                      \
            a, [rounding](float x) { return xp_x86::float_to_half(x, rounding); });                      \
    }                                                                                                    \
    inline H P##_cvt_roundps_ph(F a, int rounding) { return P##_cvtps_ph(a, rounding); }                 \
    inline H P##_maskz_cvtps_ph(xp_x86::Mask<float, F> k, F a, int rounding) {                           \
        return xp_x86::blend<uint16_t>(k, H{}, P##_cvtps_ph(a, rounding));                               \
    }
XP_X86_HALF(_mm, __m128, __m128i)
XP_X86_HALF(_mm256, __m256, __m128i)
XP_X86_HALF(_mm512, __m512, __m256i)
#undef XP_X86_HALF

// ---- AVX512-BF16 ----------------------------------------------------------------------------------------------------
namespace xp_x86 {
inline bool is_subnormal_or_zero(uint32_t bits) { return (bits & 0x7F800000u) == 0; }
inline float bf16_to_float(uint16_t b) { return std::bit_cast<float>(uint32_t(b) << 16); }
// VCVTNEPS2BF16: round to nearest even; subnormals become signed zeros; NaNs become quiet.
inline uint16_t float_to_bf16(float f) {
    const uint32_t bits = std::bit_cast<uint32_t>(f);
    if (is_subnormal_or_zero(bits)) return uint16_t((bits >> 16) & 0x8000u);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return uint16_t((bits >> 16) | 0x40u);
    return uint16_t((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);  // infinities pass through unchanged
}
// acc + a[2j+1]*b[2j+1] + a[2j]*b[2j], each step rounded once (the bf16 products are exact in float);
// subnormal inputs and results are zeros (DAZ and FTZ are always on for VDPBF16PS).
template <class V, class B>
inline V dot_bf16(V src, B a, B b) {
    auto acc = lanes<float>(src);
    const auto x = lanes<uint16_t>(a), y = lanes<uint16_t>(b);
    for (int j = 0; j < kLanes<float, V>; ++j) {
        float sum = flush_subnormal(acc[j]);
        for (int k : {1, 0}) {
            const float product_a = flush_subnormal(bf16_to_float(x[2 * j + k]));
            const float product_b = flush_subnormal(bf16_to_float(y[2 * j + k]));
            sum = flush_subnormal(fma(product_a, product_b, sum));
        }
        acc[j] = sum;
    }
    return vec<V>(acc);
}
}  // namespace xp_x86

// (prefix, float vector, bf16 vector of the same width, bf16 vector of half the width)
#define XP_X86_BF16(P, F, B, HB)                                                                              \
    inline HB P##_cvtneps_pbh(F a) { return xp_x86::convert<uint16_t, HB, float>(a, xp_x86::float_to_bf16); } \
    inline B P##_cvtne2ps_pbh(F a, F b) { /* the low half from b, the high half from a */                     \
        return xp_x86::insert_part(xp_x86::resize<B>(P##_cvtneps_pbh(b)), P##_cvtneps_pbh(a), 1);             \
    }                                                                                                         \
    inline F P##_cvtpbh_ps(HB a) { return xp_x86::convert<float, F, uint16_t>(a, xp_x86::bf16_to_float); }    \
    inline F P##_dpbf16_ps(F src, B a, B b) { return xp_x86::dot_bf16(src, a, b); }                           \
    inline F P##_mask_dpbf16_ps(F src, xp_x86::Mask<float, F> k, B a, B b) {                                  \
        return xp_x86::blend<float>(k, src, P##_dpbf16_ps(src, a, b));                                        \
    }                                                                                                         \
    inline F P##_maskz_dpbf16_ps(xp_x86::Mask<float, F> k, F src, B a, B b) {                                 \
        return xp_x86::blend<float>(k, F{}, P##_dpbf16_ps(src, a, b));                                        \
    }
XP_X86_BF16(_mm256, __m256, __m256bh, __m128bh)
XP_X86_BF16(_mm512, __m512, __m512bh, __m256bh)
#undef XP_X86_BF16
#undef XP_X86_CONVERT
#undef XP_X86_CURRENT
#undef XP_X86_TRUNCATE
