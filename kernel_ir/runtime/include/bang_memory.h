// BANG C data movement on the CPU executor: __memcpy in its 1-, 2- and 3-dimensional forms, the set functions
// and the atomics. All memory spaces are host memory here, so a copy in any direction is a byte copy; the
// direction only matters for SRAM2SRAM to another cluster. Asynchronous forms complete before they return.
#pragma once
#include <mutex>
#include <type_traits>

#include "bang_half.h"
#include "bang_runtime.h"

enum mluMemcpyDirection_t {
    GDRAM2NRAM, NRAM2GDRAM, GDRAM2WRAM, WRAM2GDRAM, NRAM2WRAM, WRAM2NRAM, NRAM2NRAM, GDRAM2GDRAM,
    GDRAM2SRAM, SRAM2GDRAM, SRAM2NRAM, NRAM2SRAM, SRAM2WRAM, WRAM2SRAM, SRAM2SRAM,
    GDRAM2LDRAM, LDRAM2GDRAM, LDRAM2NRAM, NRAM2LDRAM, LDRAM2WRAM, WRAM2LDRAM, LDRAM2SRAM, SRAM2LDRAM, LDRAM2LDRAM,
};

namespace xp_bang {

inline void check_size(const char* fn, long long size) {
    XP_BANG_REQUIRE(size > 0 && size < (1LL << 31), "%s: size must be in [1, 2^31) bytes (got %lld)", fn, size);
}

// One segment of a copy; `cluster` >= 0 sends an SRAM2SRAM copy to that cluster's SRAM.
inline void copy_segment(char* dst, const char* src, size_t bytes, mluMemcpyDirection_t dir, int cluster) {
    if (dir == SRAM2SRAM && cluster >= 0)
        current_launch("__memcpy").copy_to_cluster_sram(cluster, dst, src, bytes);
    else
        std::memmove(dst, src, bytes);
}

// The 3-dimensional copy: segment (j1, j2) of a side sits at j2 * stride1 + j1 * stride0, j1 <= segnum1,
// j2 <= segnum2; the k-th source segment goes to the k-th destination segment.
inline void copy_3d(const char* fn, void* dst, const void* src, long long size, mluMemcpyDirection_t dir,
                    long long dst_stride0, long long dst_segnum1, long long dst_stride1, long long dst_segnum2,
                    long long src_stride0, long long src_segnum1, long long src_stride1, long long src_segnum2,
                    int cluster = -1) {
    check_size(fn, size);
    XP_BANG_REQUIRE(dst_segnum1 >= 0 && dst_segnum2 >= 0 && src_segnum1 >= 0 && src_segnum2 >= 0 &&
                        dst_segnum1 <= 65535 && src_segnum1 <= 65535 && dst_segnum2 <= 65535 && src_segnum2 <= 65535,
                    "%s: segment numbers must be in [0, 65535] (got dst %lld, %lld; src %lld, %lld)", fn,
                    dst_segnum1, dst_segnum2, src_segnum1, src_segnum2);
    const long long segments = (dst_segnum1 + 1) * (dst_segnum2 + 1);
    XP_BANG_REQUIRE(segments == (src_segnum1 + 1) * (src_segnum2 + 1),
                    "%s: (dst_segnum1 + 1) * (dst_segnum2 + 1) = %lld must equal (src_segnum1 + 1) * "
                    "(src_segnum2 + 1) = %lld",
                    fn, segments, (src_segnum1 + 1) * (src_segnum2 + 1));
    XP_BANG_REQUIRE(dst_segnum1 == 0 || std::llabs(dst_stride0) >= size,
                    "%s: |dst_stride0| = %lld must be >= size = %lld", fn, std::llabs(dst_stride0), size);
    XP_BANG_REQUIRE(dst_segnum2 == 0 || std::llabs(dst_stride1) >= size,
                    "%s: |dst_stride1| = %lld must be >= size = %lld", fn, std::llabs(dst_stride1), size);
    for (long long k = 0; k < segments; ++k) {
        const long long d = (k / (dst_segnum1 + 1)) * dst_stride1 + (k % (dst_segnum1 + 1)) * dst_stride0;
        const long long s = (k / (src_segnum1 + 1)) * src_stride1 + (k % (src_segnum1 + 1)) * src_stride0;
        copy_segment(static_cast<char*>(dst) + d, static_cast<const char*>(src) + s, size_t(size), dir, cluster);
    }
}

// The 2-dimensional copy: segnum + 1 segments of `size` bytes, `dst_stride`/`src_stride` bytes apart.
inline void copy_2d(const char* fn, void* dst, const void* src, long long size, mluMemcpyDirection_t dir,
                    long long dst_stride, long long src_stride, long long segnum, int cluster = -1) {
    XP_BANG_REQUIRE(segnum >= 0 && segnum <= 65535, "%s: segnum must be in [0, 65535] (got %lld)", fn, segnum);
    XP_BANG_REQUIRE(segnum == 0 || dst_stride >= size, "%s: dst_stride = %lld must be >= size = %lld", fn,
                    dst_stride, size);
    copy_3d(fn, dst, src, size, dir, dst_stride, segnum, 0, 0, src_stride, segnum, 0, 0, cluster);
}

}  // namespace xp_bang

// ---- __memcpy / __memcpy_async ----------------------------------------------------------------------------
inline void __memcpy(void* dst, const void* src, unsigned int size, mluMemcpyDirection_t dir) {
    xp_bang::check_size("__memcpy", (int)size);
    xp_bang::copy_segment(static_cast<char*>(dst), static_cast<const char*>(src), size, dir, -1);
}
inline void __memcpy(void* dst, const void* src, unsigned int size, mluMemcpyDirection_t dir,
                     unsigned int id_dst_cluster) {
    xp_bang::check_size("__memcpy", (int)size);
    xp_bang::copy_segment(static_cast<char*>(dst), static_cast<const char*>(src), size, dir, int(id_dst_cluster));
}
inline void __memcpy(void* dst, const void* src, unsigned int size, mluMemcpyDirection_t dir, int dst_stride,
                     int src_stride, int segnum) {
    xp_bang::copy_2d("__memcpy", dst, src, (int)size, dir, dst_stride, src_stride, segnum);
}
inline void __memcpy(void* dst, const void* src, unsigned int size, mluMemcpyDirection_t dir, int dst_stride,
                     int src_stride, int segnum, unsigned int id_dst_cluster) {
    xp_bang::copy_2d("__memcpy", dst, src, (int)size, dir, dst_stride, src_stride, segnum, int(id_dst_cluster));
}
inline void __memcpy(void* dst, const void* src, unsigned int size, mluMemcpyDirection_t dir, int dst_stride0,
                     int dst_segnum1, int dst_stride1, int dst_segnum2, int src_stride0, int src_segnum1,
                     int src_stride1, int src_segnum2) {
    xp_bang::copy_3d("__memcpy", dst, src, (int)size, dir, dst_stride0, dst_segnum1, dst_stride1, dst_segnum2,
                     src_stride0, src_segnum1, src_stride1, src_segnum2);
}
inline void __memcpy(void* dst, const void* src, unsigned int size, mluMemcpyDirection_t dir, int dst_stride0,
                     int dst_segnum1, int dst_stride1, int dst_segnum2, int src_stride0, int src_segnum1,
                     int src_stride1, int src_segnum2, unsigned int id_dst_cluster) {
    xp_bang::copy_3d("__memcpy", dst, src, (int)size, dir, dst_stride0, dst_segnum1, dst_stride1, dst_segnum2,
                     src_stride0, src_segnum1, src_stride1, src_segnum2, int(id_dst_cluster));
}
template <class... Args>
inline void __memcpy_async(void* dst, const void* src, Args... args) {
    __memcpy(dst, src, args...);
}

// __bang_move: NRAM to NRAM, plain, strided (dst_stride, src_stride, segnum) or 3-dimensional.
inline void __bang_move(void* dst, const void* src, unsigned int size) {
    xp_bang::check_size("__bang_move", (int)size);
    std::memmove(dst, src, size);
}
inline void __bang_move(void* dst, const void* src, unsigned int size, unsigned int dst_stride,
                        unsigned int src_stride, unsigned int segnum) {
    xp_bang::copy_2d("__bang_move", dst, src, (int)size, NRAM2NRAM, (int)dst_stride, (int)src_stride, (int)segnum);
}
inline void __bang_move(void* dst, const void* src, unsigned int size, unsigned int dst_stride0,
                        unsigned int dst_segnum1, unsigned int dst_stride1, unsigned int dst_segnum2,
                        unsigned int src_stride0, unsigned int src_segnum1, unsigned int src_stride1,
                        unsigned int src_segnum2) {
    xp_bang::copy_3d("__bang_move", dst, src, (int)size, NRAM2NRAM, (int)dst_stride0, (int)dst_segnum1,
                     (int)dst_stride1, (int)dst_segnum2, (int)src_stride0, (int)src_segnum1, (int)src_stride1,
                     (int)src_segnum2);
}

// ---- set functions: the value's type is the element type -------------------------------------------------
// The manual lists char, short, int, half and float values; the signed/unsigned byte, unsigned short and
// unsigned int overloads are added so that an int8_t or uint32_t value fills elements of its own size instead
// of being promoted to int.
namespace xp_bang {

// Writes `count` copies of `value` at `dst`, then repeats that for the segments of a 3-dimensional pattern.
template <class V>
inline void fill(const char* fn, void* dst, long long count, V value, long long stride0 = 0, long long segnum1 = 0,
                 long long stride1 = 0, long long segnum2 = 0) {
    XP_BANG_REQUIRE(count > 0 && count < (1LL << 31), "%s: elem_count must be > 0 (got %lld)", fn, count);
    XP_BANG_REQUIRE(segnum1 == 0 || stride0 >= count * (long long)sizeof(V),
                    "%s: stride0 = %lld bytes must be >= elem_count * sizeof(type) = %lld", fn, stride0,
                    count * (long long)sizeof(V));
    XP_BANG_REQUIRE(segnum2 == 0 || stride1 >= stride0 * (segnum1 + 1),
                    "%s: stride1 = %lld must be >= stride0 * (segnum1 + 1) = %lld", fn, stride1,
                    stride0 * (segnum1 + 1));
    for (long long j2 = 0; j2 <= segnum2; ++j2)
        for (long long j1 = 0; j1 <= segnum1; ++j1) {
            char* segment = static_cast<char*>(dst) + j2 * stride1 + j1 * stride0;
            for (long long i = 0; i < count; ++i) std::memcpy(segment + i * sizeof(V), &value, sizeof(V));
        }
}

}  // namespace xp_bang

#define XP_BANG_FILL_1D(name, V) \
    inline void name(void* dst, unsigned int elem_count, V value) { xp_bang::fill(#name, dst, (int)elem_count, value); }
#define XP_BANG_FILL_2D(name, V)                                                                      \
    inline void name(void* dst, unsigned int elem_count, V value, unsigned int stride, unsigned int segnum) { \
        xp_bang::fill(#name, dst, (int)elem_count, value, (int)stride, (int)segnum);                   \
    }
#define XP_BANG_FILL_3D(name, V)                                                                           \
    inline void name(void* dst, unsigned int elem_count, V value, unsigned int stride0, unsigned int segnum1, \
                     unsigned int stride1, unsigned int segnum2) {                                         \
        xp_bang::fill(#name, dst, (int)elem_count, value, (int)stride0, (int)segnum1, (int)stride1, (int)segnum2); \
    }
#define XP_BANG_FILL_TYPES(form, name)                                                                 \
    form(name, char) form(name, signed char) form(name, unsigned char) form(name, short)                 \
    form(name, unsigned short) form(name, int) form(name, unsigned int) form(name, half) form(name, float)
XP_BANG_FILL_TYPES(XP_BANG_FILL_1D, __bang_write_value)
XP_BANG_FILL_TYPES(XP_BANG_FILL_3D, __bang_write_value)
XP_BANG_FILL_TYPES(XP_BANG_FILL_1D, __memset_nram)
XP_BANG_FILL_TYPES(XP_BANG_FILL_1D, __memset_nram_async)
XP_BANG_FILL_TYPES(XP_BANG_FILL_1D, __nramset)
XP_BANG_FILL_TYPES(XP_BANG_FILL_1D, __nramset_async)
XP_BANG_FILL_TYPES(XP_BANG_FILL_1D, __gdramset)
XP_BANG_FILL_TYPES(XP_BANG_FILL_2D, __gdramset)
XP_BANG_FILL_TYPES(XP_BANG_FILL_1D, __ldramset)
XP_BANG_FILL_TYPES(XP_BANG_FILL_2D, __ldramset)
XP_BANG_FILL_TYPES(XP_BANG_FILL_1D, __sramset)
XP_BANG_FILL_TYPES(XP_BANG_FILL_1D, __sramset_async)
#undef XP_BANG_FILL_TYPES
#undef XP_BANG_FILL_1D
#undef XP_BANG_FILL_2D
#undef XP_BANG_FILL_3D

template <class T>
inline void __bang_write_zero(T* dst, unsigned int elem_count) {
    xp_bang::fill("__bang_write_zero", dst, (int)elem_count, T(0));
    XP_BANG_REQUIRE_2XX(xp_bang::aligned64(dst) && elem_count * sizeof(T) % 128 == 0,
                        "__bang_write_zero: on (m)tp_2xx dst must be 64-byte aligned and elem_count * sizeof(type) "
                        "(%zu bytes) a multiple of 128",
                        elem_count * sizeof(T));
}

// ---- atomics on GDRAM: one process-wide lock makes every read-modify-write indivisible --------------------
namespace xp_bang {

inline std::mutex atomic_mutex;

// For i < size: old[i] = target[i]; target[i] = op(target[i], operand(i)). `old` may be null (reduce forms).
template <class T, class Operand, class Op>
inline void atomic_update(const char* fn, T* old, T* target, Operand operand, long long size, Op op) {
    XP_BANG_REQUIRE(size > 0, "%s: size must be > 0 (got %lld)", fn, size);
    std::lock_guard lock(atomic_mutex);
    for (long long i = 0; i < size; ++i) {
        const T previous = target[i];
        target[i] = T(op(previous, operand(i)));
        if (old) old[i] = previous;
    }
}

}  // namespace xp_bang

#define XP_BANG_ATOMIC(name, reduce_name, expr)                                                              \
    template <class T>                                                                                        \
    inline void name(T* dst, T* src1, std::type_identity_t<T> src2, unsigned int size = 1) {                  \
        xp_bang::atomic_update(#name, dst, src1, [&](long long) { return src2; }, (int)size,                  \
                               [](T a, T b) { return expr; });                                                \
    }                                                                                                         \
    template <class T>                                                                                        \
    inline void name(T* dst, T* src1, const T* src2, unsigned int size) {                                     \
        xp_bang::atomic_update(#name, dst, src1, [&](long long i) { return src2[i]; }, (int)size,             \
                               [](T a, T b) { return expr; });                                                \
    }                                                                                                         \
    template <class T>                                                                                        \
    inline void reduce_name(T* dst, std::type_identity_t<T> src1, unsigned int size = 1) {                    \
        xp_bang::atomic_update<T>(#reduce_name, nullptr, dst, [&](long long) { return src1; }, (int)size,     \
                                  [](T a, T b) { return expr; });                                             \
    }                                                                                                         \
    template <class T>                                                                                        \
    inline void reduce_name(T* dst, const T* src1, unsigned int size) {                                       \
        xp_bang::atomic_update<T>(#reduce_name, nullptr, dst, [&](long long i) { return src1[i]; }, (int)size, \
                                  [](T a, T b) { return expr; });                                             \
    }
XP_BANG_ATOMIC(__bang_atomic_add, __bang_atomic_reduce_add, a + b)
XP_BANG_ATOMIC(__bang_atomic_max, __bang_atomic_reduce_max, a > b ? a : b)
XP_BANG_ATOMIC(__bang_atomic_min, __bang_atomic_reduce_min, a < b ? a : b)
XP_BANG_ATOMIC(__bang_atomic_exch, __bang_atomic_reduce_exch, b)
XP_BANG_ATOMIC(__bang_atomic_and, __bang_atomic_reduce_and, a & b)
XP_BANG_ATOMIC(__bang_atomic_or, __bang_atomic_reduce_or, a | b)
XP_BANG_ATOMIC(__bang_atomic_xor, __bang_atomic_reduce_xor, a ^ b)
#undef XP_BANG_ATOMIC

// *dst = *src1; *src1 = (*src1 == src2) ? src3 : *src1, indivisibly.
template <class T>
inline void __bang_atomic_cas(T* dst, T* src1, std::type_identity_t<T> src2, std::type_identity_t<T> src3) {
    xp_bang::atomic_update("__bang_atomic_cas", dst, src1, [&](long long) { return src3; }, 1,
                           [&](T a, T b) { return a == src2 ? b : a; });
}
