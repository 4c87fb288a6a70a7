// Portable x86 intrinsics, part 1: the vector and mask types, the constants, and the lane helpers every other
// part is written with. The vector types are GNU vectors with the real sizes and alignments (and may_alias, like
// GCC's own), so `*(__m512*)p`, arrays, `v[i]`, `a + b` and `(__m512i)v` casts behave as with GCC's header;
// the intrinsics themselves are plain scalar loops over lanes, so no instruction set beyond x86-64 is needed.
#pragma once
#pragma GCC system_header  // 64-byte vectors passed by value without AVX-512: GCC's ABI notes are irrelevant here

#include <mm_malloc.h>  // plain C (posix_memalign): _mm_malloc / _mm_free exactly as GCC provides them

// Deliberately not <cmath> or <cstring>: their global names (sin, exp, floor, ...) would clash with kernels that
// name an entry like a libm function, which compiles against the real <immintrin.h>. Math goes through builtins.
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <type_traits>

#define XP_INTRIN_EMULATED 1  // lets tests check that this header, not the compiler's, was used

// ---- types ----------------------------------------------------------------------------------------------------
#define XP_X86_VECTOR(lane, name, bytes) \
    typedef lane name __attribute__((__vector_size__(bytes), __may_alias__, __aligned__(bytes)));
#define XP_X86_UNALIGNED(lane, name, bytes) \
    typedef lane name __attribute__((__vector_size__(bytes), __may_alias__, __aligned__(1)));

XP_X86_VECTOR(float, __m128, 16)
XP_X86_VECTOR(double, __m128d, 16)
XP_X86_VECTOR(long long, __m128i, 16)
XP_X86_VECTOR(float, __m256, 32)
XP_X86_VECTOR(double, __m256d, 32)
XP_X86_VECTOR(long long, __m256i, 32)
XP_X86_VECTOR(float, __m512, 64)
XP_X86_VECTOR(double, __m512d, 64)
XP_X86_VECTOR(long long, __m512i, 64)
XP_X86_VECTOR(short, __m128bh, 16)  // bfloat16 bit patterns, as GCC 12 spells them
XP_X86_VECTOR(short, __m256bh, 32)
XP_X86_VECTOR(short, __m512bh, 64)
XP_X86_UNALIGNED(float, __m128_u, 16)
XP_X86_UNALIGNED(double, __m128d_u, 16)
XP_X86_UNALIGNED(long long, __m128i_u, 16)
XP_X86_UNALIGNED(float, __m256_u, 32)
XP_X86_UNALIGNED(double, __m256d_u, 32)
XP_X86_UNALIGNED(long long, __m256i_u, 32)
XP_X86_UNALIGNED(float, __m512_u, 64)
XP_X86_UNALIGNED(double, __m512d_u, 64)
XP_X86_UNALIGNED(long long, __m512i_u, 64)

// GCC's lane-typed vector names, which code written against GCC's header sometimes casts to.
#define XP_X86_LANE_TYPES(bytes, f, d, q, uq, s, us, h, uh, c, sc, uc)                                           \
    XP_X86_VECTOR(float, f, bytes) XP_X86_VECTOR(double, d, bytes) XP_X86_VECTOR(long long, q, bytes)            \
    XP_X86_VECTOR(unsigned long long, uq, bytes) XP_X86_VECTOR(int, s, bytes) XP_X86_VECTOR(unsigned, us, bytes) \
    XP_X86_VECTOR(short, h, bytes) XP_X86_VECTOR(unsigned short, uh, bytes) XP_X86_VECTOR(char, c, bytes)        \
    XP_X86_VECTOR(signed char, sc, bytes) XP_X86_VECTOR(unsigned char, uc, bytes)
XP_X86_LANE_TYPES(16, __v4sf, __v2df, __v2di, __v2du, __v4si, __v4su, __v8hi, __v8hu, __v16qi, __v16qs, __v16qu)
XP_X86_LANE_TYPES(32, __v8sf, __v4df, __v4di, __v4du, __v8si, __v8su, __v16hi, __v16hu, __v32qi, __v32qs, __v32qu)
XP_X86_LANE_TYPES(64, __v16sf, __v8df, __v8di, __v8du, __v16si, __v16su, __v32hi, __v32hu, __v64qi, __v64qs,
                  __v64qu)
#undef XP_X86_LANE_TYPES
#undef XP_X86_VECTOR
#undef XP_X86_UNALIGNED

typedef unsigned char __mmask8;
typedef unsigned short __mmask16;
typedef unsigned int __mmask32;
typedef unsigned long long __mmask64;

// ---- constants --------------------------------------------------------------------------------------------------
// Floating-point comparison predicates (the low 4 bits choose the relation; bit 4 only changes exception signalling).
#define _CMP_EQ_OQ 0x00
#define _CMP_LT_OS 0x01
#define _CMP_LE_OS 0x02
#define _CMP_UNORD_Q 0x03
#define _CMP_NEQ_UQ 0x04
#define _CMP_NLT_US 0x05
#define _CMP_NLE_US 0x06
#define _CMP_ORD_Q 0x07
#define _CMP_EQ_UQ 0x08
#define _CMP_NGE_US 0x09
#define _CMP_NGT_US 0x0a
#define _CMP_FALSE_OQ 0x0b
#define _CMP_NEQ_OQ 0x0c
#define _CMP_GE_OS 0x0d
#define _CMP_GT_OS 0x0e
#define _CMP_TRUE_UQ 0x0f
#define _CMP_EQ_OS 0x10
#define _CMP_LT_OQ 0x11
#define _CMP_LE_OQ 0x12
#define _CMP_UNORD_S 0x13
#define _CMP_NEQ_US 0x14
#define _CMP_NLT_UQ 0x15
#define _CMP_NLE_UQ 0x16
#define _CMP_ORD_S 0x17
#define _CMP_EQ_US 0x18
#define _CMP_NGE_UQ 0x19
#define _CMP_NGT_UQ 0x1a
#define _CMP_FALSE_OS 0x1b
#define _CMP_NEQ_OS 0x1c
#define _CMP_GE_OQ 0x1d
#define _CMP_GT_OQ 0x1e
#define _CMP_TRUE_US 0x1f

// Integer comparison predicates of the AVX-512 _cmp_ep{i,u}*_mask intrinsics.
typedef enum {
    _MM_CMPINT_EQ = 0, _MM_CMPINT_LT = 1, _MM_CMPINT_LE = 2, _MM_CMPINT_UNUSED = 3,
    _MM_CMPINT_NE = 4, _MM_CMPINT_NLT = 5, _MM_CMPINT_NLE = 6
} _MM_CMPINT_ENUM;
#define _MM_CMPINT_GE _MM_CMPINT_NLT
#define _MM_CMPINT_GT _MM_CMPINT_NLE

// Rounding control of round/roundscale/cvt_round* (bits 1:0 the mode, bit 2 "use MXCSR", bit 3 no exceptions).
#define _MM_FROUND_TO_NEAREST_INT 0x00
#define _MM_FROUND_TO_NEG_INF 0x01
#define _MM_FROUND_TO_POS_INF 0x02
#define _MM_FROUND_TO_ZERO 0x03
#define _MM_FROUND_CUR_DIRECTION 0x04
#define _MM_FROUND_RAISE_EXC 0x00
#define _MM_FROUND_NO_EXC 0x08
#define _MM_FROUND_NINT (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_RAISE_EXC)
#define _MM_FROUND_FLOOR (_MM_FROUND_TO_NEG_INF | _MM_FROUND_RAISE_EXC)
#define _MM_FROUND_CEIL (_MM_FROUND_TO_POS_INF | _MM_FROUND_RAISE_EXC)
#define _MM_FROUND_TRUNC (_MM_FROUND_TO_ZERO | _MM_FROUND_RAISE_EXC)
#define _MM_FROUND_RINT (_MM_FROUND_CUR_DIRECTION | _MM_FROUND_RAISE_EXC)
#define _MM_FROUND_NEARBYINT (_MM_FROUND_CUR_DIRECTION | _MM_FROUND_NO_EXC)

enum _mm_hint { _MM_HINT_IT0 = 19, _MM_HINT_IT1 = 18, _MM_HINT_ET0 = 7, _MM_HINT_ET1 = 6, _MM_HINT_T0 = 3,
                _MM_HINT_T1 = 2, _MM_HINT_T2 = 1, _MM_HINT_NTA = 0 };

typedef enum { _MM_MANT_NORM_1_2, _MM_MANT_NORM_p5_2, _MM_MANT_NORM_p5_1, _MM_MANT_NORM_p75_1p5 }
    _MM_MANTISSA_NORM_ENUM;
typedef enum { _MM_MANT_SIGN_src, _MM_MANT_SIGN_zero, _MM_MANT_SIGN_nan } _MM_MANTISSA_SIGN_ENUM;

#define _MM_SHUFFLE(z, y, x, w) (((z) << 6) | ((y) << 4) | ((x) << 2) | (w))

// _MM_PERM_ENUM: four letters A..D (= lane 0..3), the first letter selects the highest lane.
#define XP_X86_PERM_4(p, v) p##A = (v) * 4, p##B = (v) * 4 + 1, p##C = (v) * 4 + 2, p##D = (v) * 4 + 3,
#define XP_X86_PERM_3(p, v) XP_X86_PERM_4(p##A, (v) * 4) XP_X86_PERM_4(p##B, (v) * 4 + 1) \
    XP_X86_PERM_4(p##C, (v) * 4 + 2) XP_X86_PERM_4(p##D, (v) * 4 + 3)
#define XP_X86_PERM_2(p, v) XP_X86_PERM_3(p##A, (v) * 4) XP_X86_PERM_3(p##B, (v) * 4 + 1) \
    XP_X86_PERM_3(p##C, (v) * 4 + 2) XP_X86_PERM_3(p##D, (v) * 4 + 3)
typedef enum {
    XP_X86_PERM_2(_MM_PERM_A, 0) XP_X86_PERM_2(_MM_PERM_B, 1) XP_X86_PERM_2(_MM_PERM_C, 2)
    XP_X86_PERM_2(_MM_PERM_D, 3) _MM_PERM_NONE = 0x100
} _MM_PERM_ENUM;
#undef XP_X86_PERM_2
#undef XP_X86_PERM_3
#undef XP_X86_PERM_4

// ---- lane helpers -----------------------------------------------------------------------------------------------
namespace xp_x86 {

// The libm functions the lanes need, for float and double, as GCC builtins (see the note on <cmath> above).
#define XP_X86_MATH_1(name)                                       \
    inline float name(float x) { return __builtin_##name##f(x); } \
    inline double name(double x) { return __builtin_##name(x); }
XP_X86_MATH_1(sqrt)
XP_X86_MATH_1(fabs)
XP_X86_MATH_1(floor)
XP_X86_MATH_1(ceil)
XP_X86_MATH_1(trunc)
XP_X86_MATH_1(nearbyint)
XP_X86_MATH_1(roundeven)
#undef XP_X86_MATH_1
inline float fma(float x, float y, float z) { return __builtin_fmaf(x, y, z); }
inline double fma(double x, double y, double z) { return __builtin_fma(x, y, z); }
inline float copysign(float x, float y) { return __builtin_copysignf(x, y); }
inline double copysign(double x, double y) { return __builtin_copysign(x, y); }
inline float ldexp(float x, int e) { return __builtin_ldexpf(x, e); }
inline double ldexp(double x, int e) { return __builtin_ldexp(x, e); }
inline int ilogb(float x) { return __builtin_ilogbf(x); }
inline int ilogb(double x) { return __builtin_ilogb(x); }
template <class T> inline bool isnan(T x) { return __builtin_isnan(x); }
template <class T> inline bool isinf(T x) { return __builtin_isinf(x); }
template <class T> inline bool signbit(T x) { return __builtin_signbit(x); }

template <class T, class V>
inline constexpr int kLanes = int(sizeof(V) / sizeof(T));
template <class T, class V>
using Lanes = std::array<T, sizeof(V) / sizeof(T)>;

// The mask type that has one bit per lane (AVX-512 uses __mmask8 for 2, 4 and 8 lanes).
template <int N>
using MaskOf = std::conditional_t<(N <= 8), __mmask8, std::conditional_t<(N == 16), __mmask16,
                                  std::conditional_t<(N == 32), __mmask32, __mmask64>>>;
template <class T, class V>
using Mask = MaskOf<kLanes<T, V>>;

// The integer vector of `lanes` lanes of T, or of 16 bytes at least (the operand of widening conversions, the result
// of narrowing ones).
template <class T, int lanes>
using IntVector = std::conditional_t<(sizeof(T) * lanes <= 16), __m128i,
                                     std::conditional_t<(sizeof(T) * lanes == 32), __m256i, __m512i>>;

template <class T> using Unsigned = std::make_unsigned_t<T>;
template <class T>  // the unsigned integer of T's size: the bit pattern of a lane
using UInt = std::conditional_t<sizeof(T) == 1, uint8_t, std::conditional_t<sizeof(T) == 2, uint16_t,
                                std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>>;

template <class T, class V>
inline Lanes<T, V> lanes(V v) { return std::bit_cast<Lanes<T, V>>(v); }
template <class V, class T, std::size_t N>
inline V vec(const std::array<T, N>& a) { return std::bit_cast<V>(a); }

// Reinterpret or resize: the low bytes of `from`, zeros above (the zero is what "undefined" upper bits become).
template <class To, class From>
inline To resize(From from) {
    if constexpr (sizeof(To) == sizeof(From)) {
        return std::bit_cast<To>(from);
    } else {
        To to{};
        __builtin_memcpy(&to, &from, sizeof(To) < sizeof(From) ? sizeof(To) : sizeof(From));
        return to;
    }
}

template <class T, class V, class F>
inline V map(V a, F f) {
    const auto x = lanes<T>(a);
    Lanes<T, V> r;
    for (int i = 0; i < kLanes<T, V>; ++i) r[i] = static_cast<T>(f(x[i]));
    return vec<V>(r);
}
template <class T, class V, class F>
inline V map(V a, V b, F f) {
    const auto x = lanes<T>(a), y = lanes<T>(b);
    Lanes<T, V> r;
    for (int i = 0; i < kLanes<T, V>; ++i) r[i] = static_cast<T>(f(x[i], y[i]));
    return vec<V>(r);
}
template <class T, class V, class F>
inline V map(V a, V b, V c, F f) {
    const auto x = lanes<T>(a), y = lanes<T>(b), z = lanes<T>(c);
    Lanes<T, V> r;
    for (int i = 0; i < kLanes<T, V>; ++i) r[i] = static_cast<T>(f(x[i], y[i], z[i]));
    return vec<V>(r);
}

// Lane i of the result is f(lane i of a) for the lanes both vectors have; result lanes beyond a's are zero.
template <class TO, class VO, class TI, class VI, class F>
inline VO convert(VI a, F f) {
    const auto x = lanes<TI>(a);
    Lanes<TO, VO> r{};
    constexpr int n = kLanes<TO, VO> < kLanes<TI, VI> ? kLanes<TO, VO> : kLanes<TI, VI>;
    for (int i = 0; i < n; ++i) r[i] = static_cast<TO>(f(x[i]));
    return vec<VO>(r);
}

inline bool bit(uint64_t mask, int i) { return (mask >> i) & 1u; }

// Per-lane select: lane i is from `if_set` where mask bit i is 1, else from `if_clear`.
template <class T, class V>
inline V blend(uint64_t mask, V if_clear, V if_set) {
    auto r = lanes<T>(if_clear);
    const auto s = lanes<T>(if_set);
    for (int i = 0; i < kLanes<T, V>; ++i)
        if (bit(mask, i)) r[i] = s[i];
    return vec<V>(r);
}

template <class T, class V, class F>
inline Mask<T, V> mask_of(V a, V b, F f) {
    const auto x = lanes<T>(a), y = lanes<T>(b);
    uint64_t m = 0;
    for (int i = 0; i < kLanes<T, V>; ++i) m |= uint64_t(bool(f(x[i], y[i]))) << i;
    return static_cast<Mask<T, V>>(m);
}

// All-ones lanes where the mask bit is set (AVX/SSE comparisons return vectors, not masks).
template <class T, class V>
inline V lanes_from_mask(uint64_t mask) {
    Lanes<UInt<T>, V> r;
    for (int i = 0; i < kLanes<T, V>; ++i) r[i] = bit(mask, i) ? UInt<T>(~UInt<T>(0)) : UInt<T>(0);
    return vec<V>(r);
}

// Bit i = the sign (top) bit of lane i.
template <class T, class V>
inline uint64_t sign_bits(V a) {
    const auto x = lanes<UInt<T>>(a);
    uint64_t m = 0;
    for (int i = 0; i < kLanes<T, V>; ++i) m |= uint64_t(x[i] >> (8 * sizeof(T) - 1)) << i;
    return m;
}

// hadd / hsub: per 128-bit block, op over the adjacent pairs of a, then over those of b.
template <class T, class V, class F>
inline V horizontal_pairs(V a, V b, F op) {
    const auto x = lanes<T>(a), y = lanes<T>(b);
    constexpr int block = 16 / sizeof(T), half = block / 2;
    Lanes<T, V> r;
    for (int base = 0; base < kLanes<T, V>; base += block)
        for (int j = 0; j < half; ++j) {
            r[base + j] = static_cast<T>(op(x[base + 2 * j], x[base + 2 * j + 1]));
            r[base + half + j] = static_cast<T>(op(y[base + 2 * j], y[base + 2 * j + 1]));
        }
    return vec<V>(r);
}

// Subnormals become zeros of their sign: the instructions that flush inputs or results (rcp_ps, dpbf16_ps) do so.
template <class T>
inline T flush_subnormal(T x) { return fabs(x) < std::numeric_limits<T>::min() ? copysign(T(0), x) : x; }

// The reduction order of GCC's _mm512_reduce_*: halve the vector; halves that are 128-bit blocks or larger
// combine as op(high, low), smaller ones (shuffles inside a block) as op(low, high). The order decides the rounding
// of sums and which NaN or signed zero max/min return.
template <class T, std::size_t N, class F>
inline T reduce_tree(std::array<T, N> x, F op) {
    for (std::size_t half = N / 2; half >= 1; half /= 2)
        for (std::size_t j = 0; j < half; ++j)
            x[j] = half * sizeof(T) >= 16 ? op(x[j + half], x[j]) : op(x[j], x[j + half]);
    return x[0];
}

template <class To, class From>
inline To saturate(From v) {
    using L = std::numeric_limits<To>;
    if constexpr (std::is_signed_v<From>) {
        if (v < From(0) && (std::is_unsigned_v<To> || int64_t(v) < int64_t(L::min()))) return L::min();
    }
    if (v > From(0) && uint64_t(v) > uint64_t(L::max())) return L::max();
    return static_cast<To>(v);
}

template <class T> inline T wrap_add(T a, T b) { return T(Unsigned<T>(a) + Unsigned<T>(b)); }
template <class T> inline T wrap_sub(T a, T b) { return T(Unsigned<T>(a) - Unsigned<T>(b)); }
template <class T> inline T wrap_mul(T a, T b) { return T(Unsigned<T>(uint64_t(a) * uint64_t(b))); }

// Round to an integral value: mode bits 1:0 (nearest even, down, up, toward zero), bit 2 = the current mode.
template <class T>
inline T round_integral(T x, int mode) {
    if (mode & _MM_FROUND_CUR_DIRECTION) return nearbyint(x);
    switch (mode & 3) {
        case _MM_FROUND_TO_NEAREST_INT: return roundeven(x);
        case _MM_FROUND_TO_NEG_INF: return floor(x);
        case _MM_FROUND_TO_POS_INF: return ceil(x);
        default: return trunc(x);
    }
}

// Float to int32/uint32/int64 as CVT* instructions do: out of range and NaN give the "integer indefinite" value
// (the minimum for signed, all ones for unsigned results).
template <class I, class T>
inline I float_to_int(T x, int mode) {
    const T r = round_integral(x, mode);
    constexpr T limit = T(std::numeric_limits<I>::max()) + T(1);  // 2^31, 2^32 or 2^63: exactly representable
    constexpr T low = std::is_signed_v<I> ? -limit : T(0);
    if (r >= low && r < limit) return static_cast<I>(r);
    return std::is_signed_v<I> ? std::numeric_limits<I>::min() : std::numeric_limits<I>::max();
}

// Comparison of two floats under one of the 32 _CMP_* predicates.
template <class T>
inline bool compare(T a, T b, int predicate) {
    const bool unordered = isnan(a) || isnan(b);
    switch (predicate & 15) {
        case _CMP_EQ_OQ: return !unordered && a == b;
        case _CMP_LT_OS: return a < b;
        case _CMP_LE_OS: return a <= b;
        case _CMP_UNORD_Q: return unordered;
        case _CMP_NEQ_UQ: return unordered || a != b;
        case _CMP_NLT_US: return !(a < b);
        case _CMP_NLE_US: return !(a <= b);
        case _CMP_ORD_Q: return !unordered;
        case _CMP_EQ_UQ: return unordered || a == b;
        case _CMP_NGE_US: return !(a >= b);
        case _CMP_NGT_US: return !(a > b);
        case _CMP_FALSE_OQ: return false;
        case _CMP_NEQ_OQ: return !unordered && a != b;
        case _CMP_GE_OS: return a >= b;
        case _CMP_GT_OS: return a > b;
        default: return true;
    }
}

// Comparison of two integers under one of the _MM_CMPINT_* predicates.
template <class T>
inline bool compare_int(T a, T b, int predicate) {
    switch (predicate & 7) {
        case _MM_CMPINT_EQ: return a == b;
        case _MM_CMPINT_LT: return a < b;
        case _MM_CMPINT_LE: return a <= b;
        case _MM_CMPINT_UNUSED: return false;
        case _MM_CMPINT_NE: return a != b;
        case _MM_CMPINT_NLT: return a >= b;
        case _MM_CMPINT_NLE: return a > b;
        default: return true;
    }
}

// The real instructions fault on a misaligned address; report it in the executor's format instead of guessing.
inline void require_aligned(const void* p, std::size_t alignment, const char* intrinsic) {
    if (reinterpret_cast<uintptr_t>(p) % alignment != 0) {
        std::fprintf(stderr, "xpiler runtime error: %s needs a %zu-byte aligned address, got %p "
                     "(the instruction raises a general-protection fault); use the loadu/storeu form\n",
                     intrinsic, alignment, p);
        std::fflush(stderr);
        std::_Exit(86);
    }
}

template <class V>
inline V load(const void* p) {
    V v;
    __builtin_memcpy(&v, p, sizeof(V));
    return v;
}
template <class V>
inline void store(void* p, V v) { __builtin_memcpy(p, &v, sizeof(V)); }
// The aligned forms (load_ps, store_si512, stream_ps, ...): `intrinsic` names the caller in the diagnosis.
template <class V>
inline V load_aligned(const void* p, const char* intrinsic) {
    require_aligned(p, sizeof(V), intrinsic);
    return load<V>(p);
}
template <class V>
inline void store_aligned(void* p, V v, const char* intrinsic) {
    require_aligned(p, sizeof(V), intrinsic);
    store(p, v);
}

// Masked load / store: only the selected lanes are touched, so masked-off lanes may lie outside the buffer.
template <class T, class V>
inline V masked_load(V src, uint64_t mask, const void* p) {
    auto r = lanes<T>(src);
    const auto* bytes = static_cast<const unsigned char*>(p);
    for (int i = 0; i < kLanes<T, V>; ++i)
        if (bit(mask, i)) __builtin_memcpy(&r[i], bytes + i * sizeof(T), sizeof(T));
    return vec<V>(r);
}
template <class T, class V>
inline void masked_store(void* p, uint64_t mask, V v) {
    const auto x = lanes<T>(v);
    auto* bytes = static_cast<unsigned char*>(p);
    for (int i = 0; i < kLanes<T, V>; ++i)
        if (bit(mask, i)) __builtin_memcpy(bytes + i * sizeof(T), &x[i], sizeof(T));
}

template <class T, class V>
inline V broadcast(T x) {
    Lanes<T, V> r;
    r.fill(x);
    return vec<V>(r);
}

// _set (highest lane first) and _setr (lowest lane first) from any number of scalars, checked against the lane count.
template <class V, class T, class... A>
inline V set_lowest_first(A... e) {
    static_assert(sizeof...(A) == kLanes<T, V>, "wrong number of elements for this vector");
    return vec<V>(Lanes<T, V>{static_cast<T>(e)...});
}
template <class V, class T, class... A>
inline V set_highest_first(A... e) {
    static_assert(sizeof...(A) == kLanes<T, V>, "wrong number of elements for this vector");
    const Lanes<T, V> given{static_cast<T>(e)...};
    Lanes<T, V> r;
    for (int i = 0; i < kLanes<T, V>; ++i) r[i] = given[kLanes<T, V> - 1 - i];
    return vec<V>(r);
}

}  // namespace xp_x86

// ---- definition macros ------------------------------------------------------------------------------------------
// The other parts list operations as (intrinsic prefix, vector, lane type, name, lane expression) and these macros
// produce the plain, write-masked and zero-masked intrinsics (the AVX-512 forms exist at 128 and 256 bits too).
// name(a), mask_name(src, k, a), maskz_name(k, a) for lane expression f(x).
#define XP_X86_MASKABLE_1(P, V, T, NAME, ...)                                                                      \
    inline V P##_##NAME(V a) { return xp_x86::map<T>(a, [](T x) { return __VA_ARGS__; }); }                        \
    inline V P##_mask_##NAME(V src, xp_x86::Mask<T, V> k, V a) { return xp_x86::blend<T>(k, src, P##_##NAME(a)); } \
    inline V P##_maskz_##NAME(xp_x86::Mask<T, V> k, V a) { return xp_x86::blend<T>(k, V{}, P##_##NAME(a)); }
// name(a, b), mask_name(src, k, a, b), maskz_name(k, a, b) for lane expression f(x, y).
#define XP_X86_MASKABLE_2(P, V, T, NAME, ...)                                                            \
    inline V P##_##NAME(V a, V b) { return xp_x86::map<T>(a, b, [](T x, T y) { return __VA_ARGS__; }); } \
    inline V P##_mask_##NAME(V src, xp_x86::Mask<T, V> k, V a, V b) {                                    \
        return xp_x86::blend<T>(k, src, P##_##NAME(a, b));                                               \
    }                                                                                                    \
    inline V P##_maskz_##NAME(xp_x86::Mask<T, V> k, V a, V b) { return xp_x86::blend<T>(k, V{}, P##_##NAME(a, b)); }
// name(a, b, c) and the masked forms of fused multiply-adds: mask keeps a, mask3 keeps c, maskz zeroes.
#define XP_X86_MASKABLE_3(P, V, T, NAME, ...)                                                                        \
    inline V P##_##NAME(V a, V b, V c) { return xp_x86::map<T>(a, b, c, [](T x, T y, T z) { return __VA_ARGS__; }); } \
    inline V P##_mask_##NAME(V a, xp_x86::Mask<T, V> k, V b, V c) {                                                  \
        return xp_x86::blend<T>(k, a, P##_##NAME(a, b, c));                                                          \
    }                                                                                                                \
    inline V P##_mask3_##NAME(V a, V b, V c, xp_x86::Mask<T, V> k) {                                                 \
        return xp_x86::blend<T>(k, c, P##_##NAME(a, b, c));                                                          \
    }                                                                                                                \
    inline V P##_maskz_##NAME(xp_x86::Mask<T, V> k, V a, V b, V c) {                                                 \
        return xp_x86::blend<T>(k, V{}, P##_##NAME(a, b, c));                                                        \
    }
// name(a, imm) and its masked forms, for operations with an immediate (any int is accepted).
#define XP_X86_MASKABLE_IMM(P, V, T, NAME, ...)                                                         \
    inline V P##_##NAME(V a, int imm) { return xp_x86::map<T>(a, [imm](T x) { return __VA_ARGS__; }); } \
    inline V P##_mask_##NAME(V src, xp_x86::Mask<T, V> k, V a, int imm) {                               \
        return xp_x86::blend<T>(k, src, P##_##NAME(a, imm));                                            \
    }                                                                                                   \
    inline V P##_maskz_##NAME(xp_x86::Mask<T, V> k, V a, int imm) {                                     \
        return xp_x86::blend<T>(k, V{}, P##_##NAME(a, imm));                                            \
    }

