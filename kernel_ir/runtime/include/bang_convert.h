// BANG C vector type conversions on the CPU executor.
//
// Float to float: __bang_float2half_<mode> and __bang_half2float (exact), each with the strided form
// (dst_stride, src_stride in bytes, segnum + 1 blocks). Float to integer: __bang_<float|half>2<int8|int16|
// int32|uint8>[_<mode>](dst, src, count, fix_position) stores round(src / 2^fix_position) saturated to the
// integer range; without a mode suffix it rounds toward zero. Integer to float: __bang_<int8|int16|int32|
// uint8>2<float|half>(dst, src, count, fix_position) stores src * 2^fix_position; __bang_uchar2float has no
// position. Modes are those of bang_half.h.
#pragma once
#include <cmath>
#include <cstdint>

#include "bang_half.h"
#include "bang_runtime.h"

namespace xp_bang {

inline void check_conversion(const char* fn, long long count, int fix_position = 0) {
    XP_BANG_REQUIRE(count > 0 && count < (1LL << 31), "%s: count must be > 0 (got %lld)", fn, count);
    XP_BANG_REQUIRE(fix_position >= -127 && fix_position <= 127, "%s: fix_position must be in [-127, 127] (got %d)",
                    fn, fix_position);
}

template <class D, class S, class F>
inline void convert(const char* fn, D* dst, const S* src, unsigned int count, int fix_position, F f) {
    check_conversion(fn, (int)count, fix_position);
    for (long long i = 0; i < (int)count; ++i) dst[i] = f(src[i]);
}

// segnum + 1 blocks: block j converts `count` elements at src + j * src_stride into dst + j * dst_stride
// (a zero src_stride converts the first block every time).
template <class D, class S, class F>
inline void convert_strided(const char* fn, D* dst, const S* src, unsigned int count, unsigned int dst_stride,
                            unsigned int src_stride, unsigned int segnum, F f) {
    check_conversion(fn, (int)count);
    XP_BANG_REQUIRE(dst_stride >= count * sizeof(D) && dst_stride % sizeof(D) == 0,
                    "%s: dst_stride = %u bytes must be >= count * sizeof(dst type) = %zu and a multiple of %zu", fn,
                    dst_stride, count * sizeof(D), sizeof(D));
    XP_BANG_REQUIRE(src_stride % sizeof(S) == 0 && (src_stride == 0 || src_stride >= count * sizeof(S)),
                    "%s: src_stride = %u bytes must be 0 or >= count * sizeof(src type) = %zu and a multiple of %zu",
                    fn, src_stride, count * sizeof(S), sizeof(S));
    for (unsigned j = 0; j <= segnum; ++j) {
        D* d = reinterpret_cast<D*>(reinterpret_cast<char*>(dst) + size_t(j) * dst_stride);
        const S* s = reinterpret_cast<const S*>(reinterpret_cast<const char*>(src) + size_t(j) * src_stride);
        for (unsigned i = 0; i < count; ++i) d[i] = f(s[i]);
    }
}

}  // namespace xp_bang

inline void __bang_half2float(float* dst, const half* src, unsigned int count) {
    xp_bang::convert("__bang_half2float", dst, src, count, 0, [](half x) { return float(x); });
}
inline void __bang_half2float(float* dst, const half* src, unsigned int count, unsigned int dst_stride,
                              unsigned int src_stride, unsigned int segnum) {
    xp_bang::convert_strided("__bang_half2float", dst, src, count, dst_stride, src_stride, segnum,
                             [](half x) { return float(x); });
}

#define XP_BANG_FLOAT2HALF(mode)                                                                                  \
    inline void __bang_float2half_##mode(half* dst, const float* src, unsigned int count) {                       \
        xp_bang::convert("__bang_float2half_" #mode, dst, src, count, 0,                                          \
                         [](float x) { return xp_bang::to_half(x, xp_bang::Round::mode); });                      \
    }                                                                                                             \
    inline void __bang_float2half_##mode(half* dst, const float* src, unsigned int count, unsigned int dst_stride, \
                                         unsigned int src_stride, unsigned int segnum) {                          \
        xp_bang::convert_strided("__bang_float2half_" #mode, dst, src, count, dst_stride, src_stride, segnum,     \
                                 [](float x) { return xp_bang::to_half(x, xp_bang::Round::mode); });              \
    }
XP_BANG_FLOAT2HALF(rn)
XP_BANG_FLOAT2HALF(tz)
XP_BANG_FLOAT2HALF(oz)
XP_BANG_FLOAT2HALF(up)
XP_BANG_FLOAT2HALF(dn)
XP_BANG_FLOAT2HALF(rd)
XP_BANG_FLOAT2HALF(rm)
#undef XP_BANG_FLOAT2HALF

// Floating point to fixed point: dst = round(src * 2^-fix_position), saturated.
#define XP_BANG_TO_INT(name, S, D, mode)                                                                    \
    inline void name(D* dst, const S* src, unsigned int count, int fix_position) {                          \
        xp_bang::convert(#name, dst, src, count, fix_position, [fix_position](S x) {                        \
            return xp_bang::to_integer<D>(std::ldexp(double(x), -fix_position), xp_bang::Round::mode);      \
        });                                                                                                 \
    }
#define XP_BANG_TO_INT_MODES(src_name, S, dst_name, D)                                \
    XP_BANG_TO_INT(__bang_##src_name##2##dst_name, S, D, tz)                          \
    XP_BANG_TO_INT(__bang_##src_name##2##dst_name##_rn, S, D, rn)                     \
    XP_BANG_TO_INT(__bang_##src_name##2##dst_name##_tz, S, D, tz)                     \
    XP_BANG_TO_INT(__bang_##src_name##2##dst_name##_oz, S, D, oz)                     \
    XP_BANG_TO_INT(__bang_##src_name##2##dst_name##_up, S, D, up)                     \
    XP_BANG_TO_INT(__bang_##src_name##2##dst_name##_dn, S, D, dn)                     \
    XP_BANG_TO_INT(__bang_##src_name##2##dst_name##_rd, S, D, rd)                     \
    XP_BANG_TO_INT(__bang_##src_name##2##dst_name##_rm, S, D, rm)
XP_BANG_TO_INT_MODES(float, float, int8, int8_t)
XP_BANG_TO_INT_MODES(float, float, int16, int16_t)
XP_BANG_TO_INT_MODES(float, float, int32, int32_t)
XP_BANG_TO_INT_MODES(float, float, uint8, uint8_t)
XP_BANG_TO_INT_MODES(half, half, int8, int8_t)
XP_BANG_TO_INT_MODES(half, half, int16, int16_t)
XP_BANG_TO_INT_MODES(half, half, int32, int32_t)
#undef XP_BANG_TO_INT_MODES
#undef XP_BANG_TO_INT

// Fixed point to floating point: dst = src * 2^fix_position, rounded to nearest.
#define XP_BANG_FROM_INT(name, S, D)                                                                              \
    inline void name(D* dst, const S* src, unsigned int count, int fix_position) {                                \
        xp_bang::convert(#name, dst, src, count, fix_position,                                                    \
                         [fix_position](S x) { return D(std::ldexp(double(x), fix_position)); });                 \
    }
XP_BANG_FROM_INT(__bang_int82float, int8_t, float)
XP_BANG_FROM_INT(__bang_int162float, int16_t, float)
XP_BANG_FROM_INT(__bang_int322float, int32_t, float)
XP_BANG_FROM_INT(__bang_uint82float, uint8_t, float)
XP_BANG_FROM_INT(__bang_int82half, int8_t, half)
XP_BANG_FROM_INT(__bang_int162half, int16_t, half)
XP_BANG_FROM_INT(__bang_int322half, int32_t, half)
#undef XP_BANG_FROM_INT

inline void __bang_uchar2float(float* dst, const unsigned char* src, unsigned int count) {
    xp_bang::convert("__bang_uchar2float", dst, src, count, 0, [](unsigned char x) { return float(x); });
}
