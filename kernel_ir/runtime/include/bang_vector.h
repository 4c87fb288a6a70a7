// BANG C stream (vector) functions on the CPU executor: element-wise arithmetic, activations, comparisons,
// logic, the scalar and cycle (broadcast) forms, and the reductions. Argument orders and units follow the
// Cambricon BANG C manual (v4.x): counts are in elements, strides in bytes.
//
// Results are the exact operation rounded once to the element type (float arithmetic for half, double for
// transcendental functions): the hardware's activation tables are approximations (the manual quotes average
// relative errors up to 1e-2), so results agree with hardware to that accuracy, not bit for bit. GELU is the
// tanh form 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); the manual does not say which form its table fits.
#pragma once
#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <type_traits>
#include <vector>

#include "bang_half.h"
#include "bang_runtime.h"

namespace xp_bang {

// Element type -> type the operation is computed in: half is computed in float and rounded back.
template <class T>
using calc_t = std::conditional_t<std::is_same_v<T, half>, float, T>;

template <class T>
inline constexpr bool is_floating = std::is_floating_point_v<T> || std::is_same_v<T, half>;

inline void check_vector(const char* fn, long long count, size_t elem_bytes, std::initializer_list<const void*> operands) {
    XP_BANG_REQUIRE(count > 0 && count < (1LL << 31), "%s: elem_count must be > 0 (got %lld)", fn, count);
    XP_BANG_REQUIRE_2XX(count * elem_bytes % 128 == 0,
                        "%s: elem_count * sizeof(type) = %lld bytes must be a multiple of 128 on (m)tp_2xx", fn,
                        count * (long long)elem_bytes);
    for (const void* p : operands)
        XP_BANG_REQUIRE_2XX(aligned64(p), "%s: operand address %p must be 64-byte aligned on (m)tp_2xx", fn, p);
}

template <class T, class F>
inline void unary(const char* fn, T* dst, const T* src, unsigned int n, F f) {
    check_vector(fn, (int)n, sizeof(T), {dst, src});
    for (long long i = 0; i < (int)n; ++i) dst[i] = T(f(calc_t<T>(src[i])));
}

template <class T, class F>
inline void binary(const char* fn, T* dst, const T* a, const T* b, unsigned int n, F f) {
    check_vector(fn, (int)n, sizeof(T), {dst, a, b});
    for (long long i = 0; i < (int)n; ++i) dst[i] = T(f(calc_t<T>(a[i]), calc_t<T>(b[i])));
}

template <class T, class F>
inline void with_scalar(const char* fn, T* dst, const T* src, T value, unsigned int n, F f) {
    check_vector(fn, (int)n, sizeof(T), {dst, src});
    const calc_t<T> v = value;
    for (long long i = 0; i < (int)n; ++i) dst[i] = T(f(calc_t<T>(src[i]), v));
}

// src is cut into src_n / seg_n parts; element i of every part meets seg[i].
template <class T, class F>
inline void cycle(const char* fn, T* dst, const T* src, const T* seg, unsigned int src_n, unsigned int seg_n, F f) {
    check_vector(fn, (int)src_n, sizeof(T), {dst, src, seg});
    XP_BANG_REQUIRE((int)seg_n > 0, "%s: seg_elem_count must be > 0 (got %d)", fn, (int)seg_n);
    XP_BANG_REQUIRE(src_n % seg_n == 0, "%s: src_elem_count %u must be divisible by seg_elem_count %u", fn, src_n,
                    seg_n);
    XP_BANG_REQUIRE_2XX(seg_n * sizeof(T) % 128 == 0,
                        "%s: seg_elem_count * sizeof(type) = %zu bytes must be a multiple of 128 on (m)tp_2xx", fn,
                        seg_n * sizeof(T));
    for (long long i = 0; i < (int)src_n; ++i) dst[i] = T(f(calc_t<T>(src[i]), calc_t<T>(seg[i % seg_n])));
}

// max/min that return the non-NaN operand (the 5xx __bang_maximum family); maxequal/minequal keep src0.
template <class C>
inline C maximum(C a, C b) {
    if constexpr (std::is_floating_point_v<C>) return std::fmax(a, b);
    else return a > b ? a : b;
}
template <class C>
inline C minimum(C a, C b) {
    if constexpr (std::is_floating_point_v<C>) return std::fmin(a, b);
    else return a < b ? a : b;
}

inline double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
inline double gelu(double x) { return 0.5 * x * (1.0 + std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))); }
inline double softplus(double x) { return x > 30.0 ? x : std::log1p(std::exp(x)); }

}  // namespace xp_bang

// ---- element-wise: dst[i] = src0[i] op src1[i] -----------------------------------------------------------
#define XP_BANG_BINARY(name, expr)                                                                        \
    template <class T>                                                                                    \
    inline void name(T* dst, const T* src0, const T* src1, unsigned int elem_count) {                     \
        xp_bang::binary(#name, dst, src0, src1, elem_count, [](auto a, auto b) { return expr; });         \
    }
XP_BANG_BINARY(__bang_add, a + b)
XP_BANG_BINARY(__bang_sub, a - b)
XP_BANG_BINARY(__bang_mul, a* b)
XP_BANG_BINARY(__bang_div, a / b)
XP_BANG_BINARY(__bang_maxequal, b > a ? b : a)
XP_BANG_BINARY(__bang_minequal, b < a ? b : a)
XP_BANG_BINARY(__bang_maximum, xp_bang::maximum(a, b))
XP_BANG_BINARY(__bang_minimum, xp_bang::minimum(a, b))
XP_BANG_BINARY(__bang_eq, a == b ? 1 : 0)
XP_BANG_BINARY(__bang_ne, a != b ? 1 : 0)
XP_BANG_BINARY(__bang_gt, a > b ? 1 : 0)
XP_BANG_BINARY(__bang_ge, a >= b ? 1 : 0)
XP_BANG_BINARY(__bang_lt, a < b ? 1 : 0)
XP_BANG_BINARY(__bang_le, a <= b ? 1 : 0)
XP_BANG_BINARY(__bang_and, a != 0 && b != 0 ? 1 : 0)
XP_BANG_BINARY(__bang_or, a != 0 || b != 0 ? 1 : 0)
XP_BANG_BINARY(__bang_xor, (a != 0) != (b != 0) ? 1 : 0)
XP_BANG_BINARY(__bang_band, a& b)
XP_BANG_BINARY(__bang_bor, a | b)
XP_BANG_BINARY(__bang_bxor, a ^ b)
#undef XP_BANG_BINARY

// The deprecated division with an auxiliary buffer (same size as the operands; its content is not used here).
template <class T>
inline void __bang_div(T* dst, const T* src0, const T* src1, T* src_addition, unsigned int elem_count) {
    XP_BANG_REQUIRE(elem_count * sizeof(T) % 128 == 0,
                    "__bang_div (with src_addition): elem_count * sizeof(type) = %zu bytes must be a multiple of 128",
                    elem_count * sizeof(T));
    xp_bang::check_vector("__bang_div", (int)elem_count, sizeof(T), {src_addition});
    __bang_div(dst, src0, src1, elem_count);
}

// ---- with a scalar: dst[i] = src[i] op value --------------------------------------------------------------
#define XP_BANG_SCALAR(name, expr)                                                                         \
    template <class T>                                                                                     \
    inline void name(T* dst, const T* src, std::type_identity_t<T> value, unsigned int elem_count) {       \
        xp_bang::with_scalar(#name, dst, src, value, elem_count, [](auto a, auto b) { return expr; });     \
    }
XP_BANG_SCALAR(__bang_add_scalar, a + b)
XP_BANG_SCALAR(__bang_sub_scalar, a - b)
XP_BANG_SCALAR(__bang_mul_scalar, a* b)
XP_BANG_SCALAR(__bang_add_const, a + b)
XP_BANG_SCALAR(__bang_sub_const, a - b)
XP_BANG_SCALAR(__bang_mul_const, a* b)
XP_BANG_SCALAR(__bang_maxeq_scalar, b > a ? b : a)
XP_BANG_SCALAR(__bang_mineq_scalar, b < a ? b : a)
XP_BANG_SCALAR(__bang_maximum_scalar, xp_bang::maximum(a, b))
XP_BANG_SCALAR(__bang_minimum_scalar, xp_bang::minimum(a, b))
XP_BANG_SCALAR(__bang_eq_scalar, a == b ? 1 : 0)
XP_BANG_SCALAR(__bang_ne_scalar, a != b ? 1 : 0)
XP_BANG_SCALAR(__bang_gt_scalar, a > b ? 1 : 0)
XP_BANG_SCALAR(__bang_ge_scalar, a >= b ? 1 : 0)
XP_BANG_SCALAR(__bang_lt_scalar, a < b ? 1 : 0)
XP_BANG_SCALAR(__bang_le_scalar, a <= b ? 1 : 0)
XP_BANG_SCALAR(__bang_and_scalar, a != 0 && b != 0 ? 1 : 0)
XP_BANG_SCALAR(__bang_or_scalar, a != 0 || b != 0 ? 1 : 0)
XP_BANG_SCALAR(__bang_xor_scalar, (a != 0) != (b != 0) ? 1 : 0)
#undef XP_BANG_SCALAR

// ---- cycle: dst[i] = src[i] op seg[i % seg_elem_count] ----------------------------------------------------
#define XP_BANG_CYCLE(name, expr)                                                                              \
    template <class T>                                                                                         \
    inline void name(T* dst, const T* src, const T* seg, unsigned int src_elem_count, unsigned int seg_elem_count) { \
        xp_bang::cycle(#name, dst, src, seg, src_elem_count, seg_elem_count, [](auto a, auto b) { return expr; }); \
    }
XP_BANG_CYCLE(__bang_cycle_add, a + b)
XP_BANG_CYCLE(__bang_cycle_sub, a - b)
XP_BANG_CYCLE(__bang_cycle_mul, a* b)
XP_BANG_CYCLE(__bang_cycle_maxequal, b > a ? b : a)
XP_BANG_CYCLE(__bang_cycle_minequal, b < a ? b : a)
XP_BANG_CYCLE(__bang_cycle_maximum, xp_bang::maximum(a, b))
XP_BANG_CYCLE(__bang_cycle_minimum, xp_bang::minimum(a, b))
XP_BANG_CYCLE(__bang_cycle_eq, a == b ? 1 : 0)
XP_BANG_CYCLE(__bang_cycle_ne, a != b ? 1 : 0)
XP_BANG_CYCLE(__bang_cycle_gt, a > b ? 1 : 0)
XP_BANG_CYCLE(__bang_cycle_ge, a >= b ? 1 : 0)
XP_BANG_CYCLE(__bang_cycle_lt, a < b ? 1 : 0)
XP_BANG_CYCLE(__bang_cycle_le, a <= b ? 1 : 0)
XP_BANG_CYCLE(__bang_cycle_and, a != 0 && b != 0 ? 1 : 0)
XP_BANG_CYCLE(__bang_cycle_or, a != 0 || b != 0 ? 1 : 0)
XP_BANG_CYCLE(__bang_cycle_xor, (a != 0) != (b != 0) ? 1 : 0)
XP_BANG_CYCLE(__bang_cycle_band, a& b)
XP_BANG_CYCLE(__bang_cycle_bor, a | b)
XP_BANG_CYCLE(__bang_cycle_bxor, a ^ b)
#undef XP_BANG_CYCLE

// ---- unary: dst[i] = f(src[i]) ----------------------------------------------------------------------------
#define XP_BANG_UNARY(name, expr)                                                                           \
    template <class T>                                                                                      \
    inline void name(T* dst, const T* src, unsigned int elem_count) {                                       \
        xp_bang::unary(#name, dst, src, elem_count, [](auto x) { return expr; });                           \
    }
XP_BANG_UNARY(__bang_abs, x < 0 ? -x : x)
XP_BANG_UNARY(__bang_neg, -x)
XP_BANG_UNARY(__bang_relu, x > 0 ? x : 0)
XP_BANG_UNARY(__bang_not, x == 0 ? 1 : 0)
XP_BANG_UNARY(__bang_bnot, ~x)
XP_BANG_UNARY(__bang_recip, 1 / x)
XP_BANG_UNARY(__bang_sqrt, std::sqrt(x))
XP_BANG_UNARY(__bang_rsqrt, 1.0 / std::sqrt(double(x)))
XP_BANG_UNARY(__bang_sin, std::sin(double(x)))
XP_BANG_UNARY(__bang_cos, std::cos(double(x)))
XP_BANG_UNARY(__bang_log, std::log2(double(x)))  // the manual: "the binary logarithm"
XP_BANG_UNARY(__bang_pow2, std::exp2(double(x)))
XP_BANG_UNARY(__bang_floor, std::floor(x))
XP_BANG_UNARY(__bang_round, std::round(x))  // ties away from zero
XP_BANG_UNARY(__bang_nearbyint, std::nearbyint(x))
// The activation unit (half and float).
XP_BANG_UNARY(__bang_active_abs, x < 0 ? -x : x)
XP_BANG_UNARY(__bang_active_relu, x > 0 ? x : 0)
XP_BANG_UNARY(__bang_active_sign, x >= 0 ? 1 : -1)  // the manual: +0 and -0 give 1
XP_BANG_UNARY(__bang_active_exp, std::exp(double(x)))
XP_BANG_UNARY(__bang_active_exphp, std::exp(double(x)))
XP_BANG_UNARY(__bang_active_exp_less_0, std::exp(double(x)))
XP_BANG_UNARY(__bang_active_log, std::log(double(x)))  // natural logarithm
XP_BANG_UNARY(__bang_active_loghp, std::log(double(x)))
XP_BANG_UNARY(__bang_active_pow2, std::exp2(double(x)))
XP_BANG_UNARY(__bang_active_recip, 1.0 / double(x))
XP_BANG_UNARY(__bang_active_reciphp, 1.0 / double(x))
XP_BANG_UNARY(__bang_active_recip_greater_1, 1.0 / double(x))
XP_BANG_UNARY(__bang_active_sqrt, std::sqrt(double(x)))
XP_BANG_UNARY(__bang_active_sqrthp, std::sqrt(double(x)))
XP_BANG_UNARY(__bang_active_rsqrt, 1.0 / std::sqrt(double(x)))
XP_BANG_UNARY(__bang_active_rsqrthp, 1.0 / std::sqrt(double(x)))
XP_BANG_UNARY(__bang_active_sigmoid, xp_bang::sigmoid(double(x)))
XP_BANG_UNARY(__bang_active_tanh, std::tanh(double(x)))
XP_BANG_UNARY(__bang_active_gelu, xp_bang::gelu(double(x)))
XP_BANG_UNARY(__bang_active_gelup, xp_bang::gelu(double(x)))
XP_BANG_UNARY(__bang_active_sin, std::sin(double(x)))
XP_BANG_UNARY(__bang_active_cos, std::cos(double(x)))
#undef XP_BANG_UNARY

// dst[i] = src[i]^2; the integer forms widen (char -> short, short -> int), so dst may have another type.
template <class D, class S>
inline void __bang_square(D* dst, const S* src, unsigned int elem_count) {
    xp_bang::check_vector("__bang_square", (int)elem_count, sizeof(S), {dst, src});
    for (long long i = 0; i < (int)elem_count; ++i) {
        const auto x = xp_bang::calc_t<S>(src[i]);
        dst[i] = D(x * x);
    }
}

// relu clipped at nvalue: 0 below 0, nvalue above it.
template <class T>
inline void __bang_relun(T* dst, const T* src, unsigned int elem_count, std::type_identity_t<T> nvalue) {
    const xp_bang::calc_t<T> n = nvalue;
    xp_bang::unary("__bang_relun", dst, src, elem_count, [n](auto x) { return x < 0 ? 0 : (x > n ? n : x); });
}

// Shifts by shift_bits: logical left, arithmetic right, logical right (unsigned types).
#define XP_BANG_SHIFT(name, expr)                                                                                \
    template <class T>                                                                                           \
    inline void name(T* dst, const T* src, unsigned int shift_bits, unsigned int elem_count) {                   \
        xp_bang::unary(#name, dst, src, elem_count, [shift_bits](auto x) { return expr; });                      \
    }
XP_BANG_SHIFT(__bang_sll, std::make_unsigned_t<T>(x) << shift_bits)
XP_BANG_SHIFT(__bang_sra, x >> shift_bits)
XP_BANG_SHIFT(__bang_srl, std::make_unsigned_t<T>(x) >> shift_bits)
#undef XP_BANG_SHIFT

// The Taylor-series activations take two auxiliary buffers of the operand's size; their content is not used.
#define XP_BANG_TAYLOR(name, expr)                                                                            \
    template <class T>                                                                                        \
    inline void name(T* dst, const T* src, const T* aux1, const T* aux2, unsigned int elem_count) {           \
        xp_bang::check_vector(#name, (int)elem_count, sizeof(T), {aux1, aux2});                               \
        xp_bang::unary(#name, dst, src, elem_count, [](auto x) { return expr; });                             \
    }
XP_BANG_TAYLOR(__bang_taylor3_sin, std::sin(double(x)))
XP_BANG_TAYLOR(__bang_taylor4_sin, std::sin(double(x)))
XP_BANG_TAYLOR(__bang_taylor3_cos, std::cos(double(x)))
XP_BANG_TAYLOR(__bang_taylor4_cos, std::cos(double(x)))
XP_BANG_TAYLOR(__bang_taylor3_tanh, std::tanh(double(x)))
XP_BANG_TAYLOR(__bang_taylor4_tanh, std::tanh(double(x)))
XP_BANG_TAYLOR(__bang_taylor3_sigmoid, xp_bang::sigmoid(double(x)))
XP_BANG_TAYLOR(__bang_taylor4_sigmoid, xp_bang::sigmoid(double(x)))
XP_BANG_TAYLOR(__bang_taylor3_softplus, xp_bang::softplus(double(x)))
XP_BANG_TAYLOR(__bang_taylor4_softplus, xp_bang::softplus(double(x)))
#undef XP_BANG_TAYLOR

// ---- reductions -------------------------------------------------------------------------------------------

// Each 128-byte block of src is summed into the first element of the same block of dst (32 floats or
// 64 halves per block); the other elements of dst are left unchanged (as on 3xx).
template <class T>
inline void __bang_reduce_sum(T* dst, const T* src, unsigned int elem_count) {
    xp_bang::check_vector("__bang_reduce_sum", (int)elem_count, sizeof(T), {dst, src});
    XP_BANG_REQUIRE(elem_count * sizeof(T) % 128 == 0,
                    "__bang_reduce_sum: elem_count * sizeof(type) = %zu bytes must be a multiple of 128",
                    elem_count * sizeof(T));
    const unsigned block = 128 / sizeof(T);
    std::vector<double> sums((elem_count + block - 1) / block, 0.0);
    for (unsigned i = 0; i < elem_count; ++i) sums[i / block] += double(src[i]);
    for (size_t k = 0; k < sums.size(); ++k) dst[k * block] = T(sums[k]);
}

template <class T>
inline T __bang_sum(const T* src, unsigned int elem_count) {
    xp_bang::check_vector("__bang_sum", (int)elem_count, sizeof(T), {src});
    double sum = 0;
    for (unsigned i = 0; i < elem_count; ++i) sum += double(src[i]);
    return T(sum);
}

namespace xp_bang {

// Index of the first extreme element (`larger` picks max or min), NaNs skipped; 0 if all are NaN.
template <class T>
inline unsigned extreme_index(const T* src, unsigned n, bool larger) {
    unsigned best = n;
    for (unsigned i = 0; i < n; ++i) {
        if (src[i] != src[i]) continue;
        if (best == n || (larger ? src[i] > src[best] : src[i] < src[best])) best = i;
    }
    return best == n ? 0 : best;
}

// dst = [value, index]: the index is stored right after the value, as an unsigned integer of `IndexBytes`.
template <class Index, class T>
inline void store_value_index(T* dst, const T* src, unsigned n, bool larger) {
    const unsigned i = extreme_index(src, n, larger);
    const T value = src[i];
    const Index index = Index(i);
    dst[0] = value;
    std::memcpy(reinterpret_cast<char*>(dst) + sizeof(T), &index, sizeof(Index));
}

template <size_t Bytes>
struct unsigned_of;
template <> struct unsigned_of<1> { using type = uint8_t; };
template <> struct unsigned_of<2> { using type = uint16_t; };
template <> struct unsigned_of<4> { using type = uint32_t; };

}  // namespace xp_bang

// The deprecated extreme-value search: dst[0] = the first maximum (minimum), followed by its index as an
// unsigned integer of the element's width (uint16 for half, uint32 for float).
template <class T>
inline void __bang_max(T* dst, const T* src, unsigned int elem_count) {
    xp_bang::check_vector("__bang_max", (int)elem_count, sizeof(T), {dst, src});
    xp_bang::store_value_index<typename xp_bang::unsigned_of<sizeof(T)>::type>(dst, src, elem_count, true);
}
template <class T>
inline void __bang_min(T* dst, const T* src, unsigned int elem_count) {
    xp_bang::check_vector("__bang_min", (int)elem_count, sizeof(T), {dst, src});
    xp_bang::store_value_index<typename xp_bang::unsigned_of<sizeof(T)>::type>(dst, src, elem_count, false);
}
// dst[0] = the first maximum (minimum) apart from NaN, followed by its index as an unsigned int.
template <class T>
inline void __bang_argmax(T* dst, const T* src, unsigned int elem_count) {
    xp_bang::check_vector("__bang_argmax", (int)elem_count, sizeof(T), {dst, src});
    xp_bang::store_value_index<uint32_t>(dst, src, elem_count, true);
}
template <class T>
inline void __bang_argmin(T* dst, const T* src, unsigned int elem_count) {
    xp_bang::check_vector("__bang_argmin", (int)elem_count, sizeof(T), {dst, src});
    xp_bang::store_value_index<uint32_t>(dst, src, elem_count, false);
}

// dst[0] = the number of non-zero elements.
template <class T>
inline void __bang_count(unsigned int* dst, const T* src, unsigned int elem_count) {
    xp_bang::check_vector("__bang_count", (int)elem_count, sizeof(T), {dst, src});
    unsigned count = 0;
    for (unsigned i = 0; i < elem_count; ++i) count += src[i] != 0;
    dst[0] = count;
}

// dst[0] = index of the first (last) non-zero element, 0xffffffff if there is none.
template <class T>
inline void __bang_findfirst1(unsigned int* dst, const T* src, unsigned int elem_count) {
    xp_bang::check_vector("__bang_findfirst1", (int)elem_count, sizeof(T), {dst, src});
    unsigned found = 0xffffffffu;
    for (unsigned i = 0; i < elem_count && found == 0xffffffffu; ++i)
        if (src[i] != 0) found = i;
    dst[0] = found;
}
template <class T>
inline void __bang_findlast1(unsigned int* dst, const T* src, unsigned int elem_count) {
    xp_bang::check_vector("__bang_findlast1", (int)elem_count, sizeof(T), {dst, src});
    unsigned found = 0xffffffffu;
    for (unsigned i = 0; i < elem_count; ++i)
        if (src[i] != 0) found = i;
    dst[0] = found;
}

// Copies the elements of src whose index entry is non-zero to the front of dst; returns how many.
template <class T>
inline unsigned int __bang_filter(T* dst, const T* src, const T* index, unsigned int elem_count) {
    xp_bang::check_vector("__bang_filter", (int)elem_count, sizeof(T), {dst, src, index});
    unsigned selected = 0;
    for (unsigned i = 0; i < elem_count; ++i)
        if (index[i] != 0) dst[selected++] = src[i];
    return selected;
}
