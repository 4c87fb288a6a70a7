// Portable x86 intrinsics, part 2: floating-point arithmetic, comparisons, rounding and reductions (_ps / _pd at
// 128, 256 and 512 bits, with the AVX-512 mask / maskz forms). Each operation is one lane expression in a table
// below; the macros turn it into the plain, masked and zero-masked intrinsics of every width.
#pragma once
#pragma GCC system_header
#include "xp_intrin_base.h"

namespace xp_x86 {

template <class T>
inline T quiet(T x) { return x + x; }  // a NaN comes back quiet with its payload, as the instructions return it

// The "QNaN indefinite" the instructions produce for invalid operations (0 * inf, ...): a negative quiet NaN.
template <class T>
inline T indefinite() { return -std::numeric_limits<T>::quiet_NaN(); }

// Fused multiply-add with the signs of the product and the addend flipped as asked. The instructions negate
// inside the operation, so a NaN operand comes back with its own sign, not flipped.
template <class T>
inline T fused(T x, T y, T z, bool negate_product, bool negate_addend) {
    if (isnan(x) || isnan(y) || isnan(z)) return fma(x, y, z);
    return fma(negate_product ? -x : x, y, negate_addend ? -z : z);
}

template <class T>
inline T reciprocal_sqrt(T x) { return static_cast<T>(1.0L / __builtin_sqrtl(static_cast<long double>(x))); }

// VRNDSCALE: round to M = imm[7:4] fraction bits with rounding mode imm[2:0].
template <class T>
inline T roundscale(T x, int imm) {
    const int fraction_bits = (imm >> 4) & 15;
    if (isnan(x)) return quiet(x);
    // |x| >= 2^(digits-1-M): no bits below 2^-M, already exact (this also covers the infinities)
    if (!(fabs(x) < ldexp(T(1), std::numeric_limits<T>::digits - 1 - fraction_bits))) return x;
    return ldexp(round_integral(ldexp(x, fraction_bits), imm & 7), -fraction_bits);
}

// VSCALEF: a * 2^floor(b), rounded once.
template <class T>
inline T scalef(T a, T b) {
    if (isnan(a)) return quiet(a);
    if (isnan(b)) return quiet(b);
    if (isinf(b)) {
        if (b > 0) return a == 0 ? indefinite<T>() : copysign(std::numeric_limits<T>::infinity(), a);
        return isinf(a) ? indefinite<T>() : copysign(T(0), a);
    }
    const T exponent = floor(b);
    const int limit = 4 * std::numeric_limits<T>::max_exponent;  // far enough to overflow or underflow anything
    const int e = exponent > limit ? limit : exponent < -limit ? -limit : int(exponent);
    return ldexp(a, e);
}

// VGETEXP: floor(log2(|x|)) as a float, denormals normalised.
template <class T>
inline T getexp(T x) {
    if (isnan(x)) return quiet(x);
    if (isinf(x)) return std::numeric_limits<T>::infinity();
    if (x == 0) return -std::numeric_limits<T>::infinity();
    return T(ilogb(x));
}

// VGETMANT: the significand normalised into the interval imm[1:0], with the sign control imm[3:2]
// (bit 2: force the sign positive; bit 3: a negative source gives QNaN indefinite). Zeros and infinities give 1.
template <class T>
inline T getmant(T x, int imm) {
    const int interval = imm & 3, sign_control = (imm >> 2) & 3;
    if (isnan(x)) return quiet(x);
    const T sign = (sign_control & 1) || !signbit(x) ? T(1) : T(-1);
    if (x == 0) return sign;
    if ((sign_control & 2) && signbit(x)) return indefinite<T>();
    if (isinf(x)) return sign;
    const int e = ilogb(x);
    T m = ldexp(fabs(x), -e);  // [1, 2)
    switch (interval) {
        case _MM_MANT_NORM_1_2: break;
        case _MM_MANT_NORM_p5_2: m = (e & 1) ? m / 2 : m; break;
        case _MM_MANT_NORM_p5_1: m = m / 2; break;
        default: m = m >= T(1.5) ? m / 2 : m; break;
    }
    return sign * m;
}

}  // namespace xp_x86

// ---- tables --------------------------------------------------------------------------------------------------
// (prefix, vector, suffix, lane) of every floating-point vector.
#define XP_X86_FLOAT_VECTORS(X)                                                         \
    X(_mm, __m128, ps, float) X(_mm256, __m256, ps, float) X(_mm512, __m512, ps, float) \
    X(_mm, __m128d, pd, double) X(_mm256, __m256d, pd, double) X(_mm512, __m512d, pd, double)

// Arithmetic: every rounding is the IEEE one of the instruction (fused forms round once).
// rcp14 / rsqrt14 return the correctly rounded value; the hardware approximations are within 2^-14 of it.
#define XP_X86_FLOAT_ARITHMETIC(P, V, S, T)                                                             \
    XP_X86_MASKABLE_2(P, V, T, add_##S, x + y)                                                          \
    XP_X86_MASKABLE_2(P, V, T, sub_##S, x - y)                                                          \
    XP_X86_MASKABLE_2(P, V, T, mul_##S, x * y)                                                          \
    XP_X86_MASKABLE_2(P, V, T, div_##S, x / y)                                                          \
    XP_X86_MASKABLE_2(P, V, T, max_##S, x > y ? x : y) /* NaN or equal: the second operand */           \
    XP_X86_MASKABLE_2(P, V, T, min_##S, x < y ? x : y)                                                  \
    XP_X86_MASKABLE_2(P, V, T, scalef_##S, xp_x86::scalef(x, y))                                        \
    XP_X86_MASKABLE_1(P, V, T, sqrt_##S, xp_x86::sqrt(x))                                               \
    XP_X86_MASKABLE_1(P, V, T, abs_##S, xp_x86::fabs(x))                                                \
    XP_X86_MASKABLE_1(P, V, T, rcp14_##S, T(1) / x)                                                     \
    XP_X86_MASKABLE_1(P, V, T, rsqrt14_##S, xp_x86::reciprocal_sqrt(x))                                 \
    XP_X86_MASKABLE_1(P, V, T, getexp_##S, xp_x86::getexp(x))                                           \
    XP_X86_MASKABLE_3(P, V, T, fmadd_##S, xp_x86::fma(x, y, z))                                         \
    XP_X86_MASKABLE_3(P, V, T, fmsub_##S, xp_x86::fused(x, y, z, false, true))                          \
    XP_X86_MASKABLE_3(P, V, T, fnmadd_##S, xp_x86::fused(x, y, z, true, false))                         \
    XP_X86_MASKABLE_3(P, V, T, fnmsub_##S, xp_x86::fused(x, y, z, true, true))                          \
    XP_X86_MASKABLE_IMM(P, V, T, roundscale_##S, xp_x86::roundscale(x, imm))                            \
    XP_X86_MASKABLE_2(P, V, xp_x86::UInt<T>, and_##S, x & y)                                            \
    XP_X86_MASKABLE_2(P, V, xp_x86::UInt<T>, or_##S, x | y)                                             \
    XP_X86_MASKABLE_2(P, V, xp_x86::UInt<T>, xor_##S, x ^ y)                                            \
    XP_X86_MASKABLE_2(P, V, xp_x86::UInt<T>, andnot_##S, ~x & y)                                        \
    inline V P##_getmant_##S(V a, int interval, int sign_control) {                                     \
        const int imm = (sign_control << 2) | interval;                                                 \
        return xp_x86::map<T>(a, [imm](T x) { return xp_x86::getmant(x, imm); });                       \
    }                                                                                                   \
    inline V P##_round_##S(V a, int mode) { return P##_roundscale_##S(a, mode & 15); }                  \
    inline V P##_floor_##S(V a) { return P##_roundscale_##S(a, _MM_FROUND_FLOOR); }                     \
    inline V P##_ceil_##S(V a) { return P##_roundscale_##S(a, _MM_FROUND_CEIL); }                       \
    /* even lanes subtract, odd lanes add (and the reverse for fmsubadd) */                             \
    inline V P##_fmaddsub_##S(V a, V b, V c) {                                                          \
        return xp_x86::blend<T>(0xAAAAAAAAAAAAAAAAull, P##_fmsub_##S(a, b, c), P##_fmadd_##S(a, b, c)); \
    }                                                                                                   \
    inline V P##_fmsubadd_##S(V a, V b, V c) {                                                          \
        return xp_x86::blend<T>(0xAAAAAAAAAAAAAAAAull, P##_fmadd_##S(a, b, c), P##_fmsub_##S(a, b, c)); \
    }                                                                                                   \
    inline V P##_addsub_##S(V a, V b) {                                                                 \
        return xp_x86::blend<T>(0xAAAAAAAAAAAAAAAAull, P##_sub_##S(a, b), P##_add_##S(a, b));           \
    }
XP_X86_FLOAT_VECTORS(XP_X86_FLOAT_ARITHMETIC)
#undef XP_X86_FLOAT_ARITHMETIC

// The SSE / AVX approximations (relative error <= 1.5 * 2^-12), computed exactly like rcp14; unlike rcp14 they
// read subnormal inputs as zeros and flush subnormal results to zero.
inline __m128 _mm_rcp_ps(__m128 a) { return xp_x86::map<float>(a, [](float x) {
    return xp_x86::flush_subnormal(1.0f / xp_x86::flush_subnormal(x)); });
}
inline __m256 _mm256_rcp_ps(__m256 a) { return xp_x86::map<float>(a, [](float x) {
    return xp_x86::flush_subnormal(1.0f / xp_x86::flush_subnormal(x)); });
}
inline __m128 _mm_rsqrt_ps(__m128 a) { return xp_x86::map<float>(a, [](float x) {
    return xp_x86::reciprocal_sqrt(xp_x86::flush_subnormal(x)); });
}
inline __m256 _mm256_rsqrt_ps(__m256 a) { return xp_x86::map<float>(a, [](float x) {
    return xp_x86::reciprocal_sqrt(xp_x86::flush_subnormal(x)); });
}

// ---- comparisons ---------------------------------------------------------------------------------------------
// AVX-512: a mask with one bit per lane; AVX / SSE: a vector of all-ones / all-zeros lanes.
#define XP_X86_FLOAT_NAMED_COMPARE(P, V, S, T, NAME, PREDICATE)                                                    \
    inline xp_x86::Mask<T, V> P##_cmp##NAME##_##S##_mask(V a, V b) { return P##_cmp_##S##_mask(a, b, PREDICATE); } \
    inline xp_x86::Mask<T, V> P##_mask_cmp##NAME##_##S##_mask(xp_x86::Mask<T, V> k, V a, V b) {                    \
        return k & P##_cmp_##S##_mask(a, b, PREDICATE);                                                            \
    }
#define XP_X86_FLOAT_COMPARE(P, V, S, T)                                                                             \
    inline xp_x86::Mask<T, V> P##_cmp_##S##_mask(V a, V b, int predicate) {                                          \
        return xp_x86::mask_of<T>(a, b, [predicate](T x, T y) { return xp_x86::compare(x, y, predicate); });         \
    }                                                                                                                \
    inline xp_x86::Mask<T, V> P##_mask_cmp_##S##_mask(xp_x86::Mask<T, V> k, V a, V b, int predicate) {               \
        return k & P##_cmp_##S##_mask(a, b, predicate);                                                              \
    }                                                                                                                \
    inline V P##_cmp_##S(V a, V b, int predicate) {                                                                  \
        return xp_x86::lanes_from_mask<T, V>(P##_cmp_##S##_mask(a, b, predicate));                                   \
    }                                                                                                                \
    XP_X86_FLOAT_NAMED_COMPARE(P, V, S, T, eq, _CMP_EQ_OQ)                                                           \
    XP_X86_FLOAT_NAMED_COMPARE(P, V, S, T, lt, _CMP_LT_OS)                                                           \
    XP_X86_FLOAT_NAMED_COMPARE(P, V, S, T, le, _CMP_LE_OS)                                                           \
    XP_X86_FLOAT_NAMED_COMPARE(P, V, S, T, unord, _CMP_UNORD_Q)                                                      \
    XP_X86_FLOAT_NAMED_COMPARE(P, V, S, T, neq, _CMP_NEQ_UQ)                                                         \
    XP_X86_FLOAT_NAMED_COMPARE(P, V, S, T, nlt, _CMP_NLT_US)                                                         \
    XP_X86_FLOAT_NAMED_COMPARE(P, V, S, T, nle, _CMP_NLE_US)                                                         \
    XP_X86_FLOAT_NAMED_COMPARE(P, V, S, T, ord, _CMP_ORD_Q)                                                          \
    /* blendv: the sign bit of each lane of the selector picks b */                                                  \
    inline V P##_blendv_##S(V a, V b, V selector) { return xp_x86::blend<T>(xp_x86::sign_bits<T>(selector), a, b); } \
    inline V P##_blend_##S(V a, V b, int imm) { return xp_x86::blend<T>(uint64_t(imm), a, b); }                      \
    inline V P##_mask_blend_##S(xp_x86::Mask<T, V> k, V a, V b) { return xp_x86::blend<T>(k, a, b); }                \
    inline V P##_mask_mov_##S(V src, xp_x86::Mask<T, V> k, V a) { return xp_x86::blend<T>(k, src, a); }              \
    inline V P##_maskz_mov_##S(xp_x86::Mask<T, V> k, V a) { return xp_x86::blend<T>(k, V{}, a); }                    \
    inline int P##_movemask_##S(V a) { return int(xp_x86::sign_bits<T>(a)); }
XP_X86_FLOAT_VECTORS(XP_X86_FLOAT_COMPARE)
#undef XP_X86_FLOAT_COMPARE
#undef XP_X86_FLOAT_NAMED_COMPARE

// SSE spellings of the vector comparisons.
#define XP_X86_SSE_COMPARE(V, S, NAME, PREDICATE) \
    inline V _mm_cmp##NAME##_##S(V a, V b) { return _mm_cmp_##S(a, b, PREDICATE); }
#define XP_X86_SSE_COMPARES(V, S)                                                         \
    XP_X86_SSE_COMPARE(V, S, eq, _CMP_EQ_OQ) XP_X86_SSE_COMPARE(V, S, lt, _CMP_LT_OS)     \
    XP_X86_SSE_COMPARE(V, S, le, _CMP_LE_OS) XP_X86_SSE_COMPARE(V, S, gt, _CMP_GT_OS)     \
    XP_X86_SSE_COMPARE(V, S, ge, _CMP_GE_OS) XP_X86_SSE_COMPARE(V, S, neq, _CMP_NEQ_UQ)   \
    XP_X86_SSE_COMPARE(V, S, nlt, _CMP_NLT_US) XP_X86_SSE_COMPARE(V, S, nle, _CMP_NLE_US) \
    XP_X86_SSE_COMPARE(V, S, ngt, _CMP_NGT_US) XP_X86_SSE_COMPARE(V, S, nge, _CMP_NGE_US) \
    XP_X86_SSE_COMPARE(V, S, ord, _CMP_ORD_Q) XP_X86_SSE_COMPARE(V, S, unord, _CMP_UNORD_Q)
XP_X86_SSE_COMPARES(__m128, ps)
XP_X86_SSE_COMPARES(__m128d, pd)
#undef XP_X86_SSE_COMPARES
#undef XP_X86_SSE_COMPARE

// ---- horizontal operations ------------------------------------------------------------------------------------
#define XP_X86_FLOAT_HORIZONTAL(P, V, S, T)                                                                       \
    inline V P##_hadd_##S(V a, V b) { return xp_x86::horizontal_pairs<T>(a, b, [](T x, T y) { return x + y; }); } \
    inline V P##_hsub_##S(V a, V b) { return xp_x86::horizontal_pairs<T>(a, b, [](T x, T y) { return x - y; }); }
XP_X86_FLOAT_VECTORS(XP_X86_FLOAT_HORIZONTAL)
#undef XP_X86_FLOAT_HORIZONTAL

// dp (SSE4.1 / AVX): per 128-bit block, the products selected by imm[7:4] summed as (p3 + p2) + (p1 + p0),
// stored in the lanes selected by imm[3:0], zero elsewhere.
#define XP_X86_DOT(P, V)                                                                       \
    inline V P##_dp_ps(V a, V b, int imm) {                                                    \
        const auto x = xp_x86::lanes<float>(a), y = xp_x86::lanes<float>(b);                   \
        xp_x86::Lanes<float, V> r;                                                             \
        for (int base = 0; base < xp_x86::kLanes<float, V>; base += 4) {                       \
            float p[4];                                                                        \
            for (int j = 0; j < 4; ++j) p[j] = (imm >> (4 + j)) & 1 ? x[base + j] * y[base + j] : 0.0f; \
            const float sum = (p[3] + p[2]) + (p[1] + p[0]);                                   \
            for (int j = 0; j < 4; ++j) r[base + j] = (imm >> j) & 1 ? sum : 0.0f;             \
        }                                                                                      \
        return xp_x86::vec<V>(r);                                                              \
    }
XP_X86_DOT(_mm, __m128)
XP_X86_DOT(_mm256, __m256)
#undef XP_X86_DOT
inline __m128d _mm_dp_pd(__m128d a, __m128d b, int imm) {
    const double p0 = (imm >> 4) & 1 ? a[0] * b[0] : 0.0, p1 = (imm >> 5) & 1 ? a[1] * b[1] : 0.0;
    const double sum = p1 + p0;
    return __m128d{imm & 1 ? sum : 0.0, (imm >> 1) & 1 ? sum : 0.0};
}

// AVX-512 reductions, in GCC's order (see xp_x86::reduce_tree); the masked forms fill unselected lanes with the
// operation's identity first, as GCC does.
#define XP_X86_FLOAT_REDUCE(V, S, T, NAME, IDENTITY, ...)                                             \
    inline T _mm512_reduce_##NAME##_##S(V a) {                                                        \
        return xp_x86::reduce_tree(xp_x86::lanes<T>(a), [](T x, T y) { return __VA_ARGS__; });        \
    }                                                                                                 \
    inline T _mm512_mask_reduce_##NAME##_##S(xp_x86::Mask<T, V> k, V a) {                             \
        return _mm512_reduce_##NAME##_##S(xp_x86::blend<T>(k, xp_x86::broadcast<T, V>(IDENTITY), a)); \
    }
#define XP_X86_FLOAT_REDUCTIONS(V, S, T)                                                  \
    XP_X86_FLOAT_REDUCE(V, S, T, add, T(0), x + y)                                        \
    XP_X86_FLOAT_REDUCE(V, S, T, mul, T(1), x * y)                                        \
    XP_X86_FLOAT_REDUCE(V, S, T, max, -std::numeric_limits<T>::infinity(), x > y ? x : y) \
    XP_X86_FLOAT_REDUCE(V, S, T, min, std::numeric_limits<T>::infinity(), x < y ? x : y)
XP_X86_FLOAT_REDUCTIONS(__m512, ps, float)
XP_X86_FLOAT_REDUCTIONS(__m512d, pd, double)
#undef XP_X86_FLOAT_REDUCTIONS
#undef XP_X86_FLOAT_REDUCE

// ---- scalar (_ss / _sd) forms: lane 0 computed, the other lanes from a ----------------------------------------
#define XP_X86_SCALAR_2(V, S, T, NAME, ...)                                        \
    inline V _mm_##NAME##_##S(V a, V b) {                                          \
        auto r = xp_x86::lanes<T>(a);                                              \
        r[0] = [](T x, T y) { return __VA_ARGS__; }(r[0], xp_x86::lanes<T>(b)[0]); \
        return xp_x86::vec<V>(r);                                                  \
    }
#define XP_X86_SCALAR_OPS(V, S, T)                                                            \
    XP_X86_SCALAR_2(V, S, T, add, x + y) XP_X86_SCALAR_2(V, S, T, sub, x - y)                 \
    XP_X86_SCALAR_2(V, S, T, mul, x * y) XP_X86_SCALAR_2(V, S, T, div, x / y)                 \
    XP_X86_SCALAR_2(V, S, T, max, x > y ? x : y) XP_X86_SCALAR_2(V, S, T, min, x < y ? x : y) \
    XP_X86_SCALAR_2(V, S, T, move, y)                                                         \
    inline V _mm_fmadd_##S(V a, V b, V c) {                                                   \
        auto x = xp_x86::lanes<T>(a);                                                         \
        x[0] = xp_x86::fma(x[0], xp_x86::lanes<T>(b)[0], xp_x86::lanes<T>(c)[0]);             \
        return xp_x86::vec<V>(x);                                                             \
    }
XP_X86_SCALAR_OPS(__m128, ss, float)
XP_X86_SCALAR_OPS(__m128d, sd, double)
#undef XP_X86_SCALAR_OPS
#undef XP_X86_SCALAR_2

inline __m128 _mm_sqrt_ss(__m128 a) { return _mm_move_ss(a, _mm_sqrt_ps(a)); }
inline __m128 _mm_rcp_ss(__m128 a) { return _mm_move_ss(a, _mm_rcp_ps(a)); }
inline __m128 _mm_rsqrt_ss(__m128 a) { return _mm_move_ss(a, _mm_rsqrt_ps(a)); }
inline __m128d _mm_sqrt_sd(__m128d a, __m128d b) { return _mm_move_sd(a, _mm_sqrt_pd(b)); }
