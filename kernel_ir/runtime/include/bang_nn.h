// BANG C matrix and neural-network functions on the CPU executor: pooling, transpose and friends, matmul,
// mlp and conv. Layouts follow the Cambricon BANG C manual (v4.x):
// - pooling: src [height][width][channel] (HWC), window kernel_height x kernel_width moved by stride_width
//   along W and stride_height along H (the stride arguments come W first); out = (in - kernel) / stride + 1,
//   leftover rows and columns are discarded; without strides the stride equals the kernel;
// - __bang_matmul(dst[M][N], src0[M][K] row-major, src1, M, K, N): src1 is the [K][N] matrix stored
//   column-major, i.e. element (k, n) at src1[n * K + k], as the manual states (hardware also wants the WRAM
//   copy rearranged by __bang_reshape_filter, which is not emulated: the plain column-major layout is read);
// - __bang_mlp(dst[height], src[width], filter[height][width] row-major, height, width);
// - __bang_conv(dst[ho][wo][co], src[h][w][ci], kernel[co][kh][kw][ci], ci, h, w, kh, kw, stride_width,
//   stride_height, co);
// - integer forms take fix_position: the result is the integer sum of products times 2^fix_position.
// Sums of products are accumulated in double (integers in int64), then rounded once to the destination type.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <type_traits>
#include <utility>
#include <vector>

#include "bang_half.h"
#include "bang_runtime.h"
#include "bang_vector.h"

namespace xp_bang {

enum class Pool { sum, avg, max, min, max_index, min_index };

inline void check_positive(const char* fn, std::initializer_list<std::pair<const char*, long long>> values) {
    for (auto [name, value] : values)
        XP_BANG_REQUIRE(value > 0 && value < (1LL << 31), "%s: %s must be > 0 (got %lld)", fn, name, value);
}

template <class D, class S>
inline void pool(const char* fn, Pool kind, D* dst, const S* src, unsigned channel, unsigned height, unsigned width,
                 unsigned kernel_height, unsigned kernel_width, unsigned stride_width, unsigned stride_height) {
    check_positive(fn, {{"channel", (int)channel}, {"height", (int)height}, {"width", (int)width},
                        {"kernel_height", (int)kernel_height}, {"kernel_width", (int)kernel_width},
                        {"stride_width", (int)stride_width}, {"stride_height", (int)stride_height}});
    XP_BANG_REQUIRE(kernel_height <= height && kernel_width <= width,
                    "%s: the window %ux%u does not fit the %ux%u input", fn, kernel_height, kernel_width, height,
                    width);
    XP_BANG_REQUIRE((long long)kernel_height * kernel_width <= 65536,
                    "%s: kernel_height * kernel_width must be <= 65536", fn);
    XP_BANG_REQUIRE_2XX(aligned64(dst) && aligned64(src) && channel * sizeof(S) % 128 == 0,
                        "%s: on (m)tp_2xx src and dst must be 64-byte aligned and channel * sizeof(type) (%zu bytes) "
                        "a multiple of 128", fn, channel * sizeof(S));
    const unsigned out_h = (height - kernel_height) / stride_height + 1;
    const unsigned out_w = (width - kernel_width) / stride_width + 1;
    std::vector<D> out(size_t(out_h) * out_w * channel);
    for (unsigned oh = 0; oh < out_h; ++oh)
        for (unsigned ow = 0; ow < out_w; ++ow)
            for (unsigned c = 0; c < channel; ++c) {
                double acc = 0;
                unsigned best = 0;
                for (unsigned kh = 0; kh < kernel_height; ++kh)
                    for (unsigned kw = 0; kw < kernel_width; ++kw) {
                        const double v =
                            double(src[(size_t(oh * stride_height + kh) * width + ow * stride_width + kw) * channel + c]);
                        const unsigned k = kh * kernel_width + kw;
                        const bool first = k == 0;
                        if (kind == Pool::sum || kind == Pool::avg) acc += v;
                        else if (first || ((kind == Pool::max || kind == Pool::max_index) ? v > acc : v < acc))
                            acc = v, best = k;
                    }
                if (kind == Pool::avg) acc /= double(kernel_height) * kernel_width;
                const bool index = kind == Pool::max_index || kind == Pool::min_index;
                out[(size_t(oh) * out_w + ow) * channel + c] = index ? D(best) : D(acc);
            }
    std::copy(out.begin(), out.end(), dst);
}

template <class T>
inline void check_matrix(const char* fn, const T* dst, const T* src, unsigned height, unsigned width) {
    check_positive(fn, {{"height", (int)height}, {"width", (int)width}});
    XP_BANG_REQUIRE_2XX(aligned64(dst) && aligned64(src), "%s: src and dst must be 64-byte aligned on (m)tp_2xx", fn);
}

// dst[i] for the i of `dst_index(h, w)` = src[h][w], through a copy so that overlap cannot corrupt the input.
template <class T, class Index>
inline void permute(T* dst, const T* src, unsigned height, unsigned width, Index dst_index) {
    std::vector<T> in(src, src + size_t(height) * width);
    for (unsigned h = 0; h < height; ++h)
        for (unsigned w = 0; w < width; ++w) dst[dst_index(h, w)] = in[size_t(h) * width + w];
}

// Sum of products of a K-long row of `a` and a K-long row of `b`, exact for integers (int64).
template <class A, class B>
inline auto dot(const A* a, const B* b, unsigned k) {
    if constexpr (std::is_integral_v<A> && std::is_integral_v<B>) {
        int64_t sum = 0;
        for (unsigned i = 0; i < k; ++i) sum += int64_t(a[i]) * int64_t(b[i]);
        return sum;
    } else {
        double sum = 0;
        for (unsigned i = 0; i < k; ++i) sum += double(a[i]) * double(b[i]);
        return sum;
    }
}

template <class D>
inline D fixed_point_result(int64_t sum, int fix_position, double bias) {
    const double value = std::ldexp(double(sum), fix_position) + bias;
    if constexpr (std::is_integral_v<D>) return to_integer<D>(value, Round::rn);
    else return D(value);
}

// dst[m][n] = sum_k src0[m][k] * src1[n][k] (+ bias(m, n)), see the layout note at the top.
template <class D, class A, class B, class Bias>
inline void matmul(const char* fn, D* dst, const A* src0, const B* src1, unsigned M, unsigned K, unsigned N,
                   int fix_position, Bias bias) {
    check_positive(fn, {{"M", (int)M}, {"K", (int)K}, {"N", (int)N}});
    XP_BANG_REQUIRE(fix_position >= -127 && fix_position <= 127, "%s: fix_position must be in [-127, 127] (got %d)",
                    fn, fix_position);
    std::vector<D> out(size_t(M) * N);
    for (unsigned m = 0; m < M; ++m)
        for (unsigned n = 0; n < N; ++n) {
            const auto sum = dot(src0 + size_t(m) * K, src1 + size_t(n) * K, K);
            if constexpr (std::is_integral_v<decltype(sum)>)
                out[size_t(m) * N + n] = fixed_point_result<D>(sum, fix_position, bias(m, n));
            else
                out[size_t(m) * N + n] = D(sum + bias(m, n));
        }
    std::copy(out.begin(), out.end(), dst);
}

inline double no_bias(unsigned, unsigned) { return 0.0; }

// dst[oh][ow][co] = sum over (kh, kw, ci) of src[oh*sh + kh][ow*sw + kw][ci] * kernel[co][kh][kw][ci] (+ bias[co]).
template <class D, class S, class K, class Bias>
inline void conv(const char* fn, D* dst, const S* src, const K* kernel, unsigned ci, unsigned height, unsigned width,
                 unsigned kernel_height, unsigned kernel_width, unsigned stride_width, unsigned stride_height,
                 unsigned co, int fix_position, Bias bias) {
    check_positive(fn, {{"channel_input", (int)ci}, {"height", (int)height}, {"width", (int)width},
                        {"kernel_height", (int)kernel_height}, {"kernel_width", (int)kernel_width},
                        {"stride_width", (int)stride_width}, {"stride_height", (int)stride_height},
                        {"channel_output", (int)co}});
    XP_BANG_REQUIRE(stride_width <= 1023 && stride_height <= 1023, "%s: strides must be in [1, 1023]", fn);
    XP_BANG_REQUIRE(kernel_height <= height && kernel_width <= width,
                    "%s: the %ux%u kernel does not fit the %ux%u input", fn, kernel_height, kernel_width, height,
                    width);
    XP_BANG_REQUIRE(fix_position >= -127 && fix_position <= 127, "%s: fix_position must be in [-127, 127] (got %d)",
                    fn, fix_position);
    const unsigned out_h = (height - kernel_height) / stride_height + 1;
    const unsigned out_w = (width - kernel_width) / stride_width + 1;
    const size_t window = size_t(kernel_width) * ci;
    for (unsigned oh = 0; oh < out_h; ++oh)
        for (unsigned ow = 0; ow < out_w; ++ow)
            for (unsigned o = 0; o < co; ++o) {
                decltype(dot(src, kernel, 0)) sum = 0;
                for (unsigned kh = 0; kh < kernel_height; ++kh)
                    sum += dot(src + (size_t(oh * stride_height + kh) * width + ow * stride_width) * ci,
                               kernel + (size_t(o) * kernel_height + kh) * window, unsigned(window));
                D& out = dst[(size_t(oh) * out_w + ow) * co + o];
                if constexpr (std::is_integral_v<decltype(sum)>) out = fixed_point_result<D>(sum, fix_position, bias(o));
                else out = D(sum + bias(o));
            }
}

}  // namespace xp_bang

// ---- pooling ------------------------------------------------------------------------------------------------
#define XP_BANG_POOL(name, kind, D)                                                                              \
    template <class T>                                                                                           \
    inline void name(D* dst, const T* src, unsigned int channel, unsigned int height, unsigned int width,        \
                     unsigned int kernel_height, unsigned int kernel_width, unsigned int stride_width,           \
                     unsigned int stride_height) {                                                               \
        xp_bang::pool(#name, xp_bang::Pool::kind, dst, src, channel, height, width, kernel_height, kernel_width, \
                      stride_width, stride_height);                                                              \
    }                                                                                                            \
    template <class T>                                                                                           \
    inline void name(D* dst, const T* src, unsigned int channel, unsigned int height, unsigned int width,        \
                     unsigned int kernel_height, unsigned int kernel_width) {                                    \
        xp_bang::pool(#name, xp_bang::Pool::kind, dst, src, channel, height, width, kernel_height, kernel_width, \
                      kernel_width, kernel_height);                                                              \
    }
XP_BANG_POOL(__bang_sumpool, sum, T)
XP_BANG_POOL(__bang_avgpool, avg, T)
XP_BANG_POOL(__bang_maxpool, max, T)
XP_BANG_POOL(__bang_minpool, min, T)
// The index forms store the position inside the window (kh * kernel_width + kw): uint16 for half, uint32 for float.
XP_BANG_POOL(__bang_maxpool_index, max_index, typename xp_bang::unsigned_of<sizeof(T)>::type)
XP_BANG_POOL(__bang_minpool_index, min_index, typename xp_bang::unsigned_of<sizeof(T)>::type)
#undef XP_BANG_POOL

// ---- matrix rearrangement: src is [height][width] -------------------------------------------------------
template <class T>
inline void __bang_transpose(T* dst, const T* src, unsigned int height, unsigned int width) {
    xp_bang::check_matrix("__bang_transpose", dst, src, height, width);
    xp_bang::permute(dst, src, height, width, [&](unsigned h, unsigned w) { return size_t(w) * height + h; });
}
template <class T>
inline void __bang_mirror(T* dst, const T* src, unsigned int height, unsigned int width) {
    xp_bang::check_matrix("__bang_mirror", dst, src, height, width);
    xp_bang::permute(dst, src, height, width, [&](unsigned h, unsigned w) { return size_t(h) * width + (width - 1 - w); });
}
// Clockwise rotations; 90 and 270 give a [width][height] matrix.
template <class T>
inline void __bang_rotate90(T* dst, const T* src, unsigned int height, unsigned int width) {
    xp_bang::check_matrix("__bang_rotate90", dst, src, height, width);
    xp_bang::permute(dst, src, height, width, [&](unsigned h, unsigned w) { return size_t(w) * height + (height - 1 - h); });
}
template <class T>
inline void __bang_rotate180(T* dst, const T* src, unsigned int height, unsigned int width) {
    xp_bang::check_matrix("__bang_rotate180", dst, src, height, width);
    xp_bang::permute(dst, src, height, width,
                     [&](unsigned h, unsigned w) { return size_t(height - 1 - h) * width + (width - 1 - w); });
}
template <class T>
inline void __bang_rotate270(T* dst, const T* src, unsigned int height, unsigned int width) {
    xp_bang::check_matrix("__bang_rotate270", dst, src, height, width);
    xp_bang::permute(dst, src, height, width, [&](unsigned h, unsigned w) { return size_t(width - 1 - w) * height + h; });
}

// ---- matmul, mlp, conv --------------------------------------------------------------------------------------
template <class D, class A, class B>
inline void __bang_matmul(D* dst, const A* src0, const B* src1, unsigned int M, unsigned int K, unsigned int N) {
    static_assert(!std::is_integral_v<A> && !std::is_integral_v<B>, "__bang_matmul: integer operands take fix_position");
    xp_bang::matmul("__bang_matmul", dst, src0, src1, M, K, N, 0, xp_bang::no_bias);
}
template <class D, class A, class B>
inline void __bang_matmul(D* dst, const A* src0, const B* src1, unsigned int M, unsigned int K, unsigned int N,
                          int fix_position) {
    static_assert(std::is_integral_v<A> && std::is_integral_v<B>, "__bang_matmul: fix_position is for integer operands");
    xp_bang::matmul("__bang_matmul", dst, src0, src1, M, K, N, fix_position, xp_bang::no_bias);
}
// With src2[M][N] added to the product.
template <class D, class A, class B>
inline void __bang_matmul(D* dst, const A* src0, const B* src1, const D* src2, unsigned int M, unsigned int K,
                          unsigned int N, int fix_position) {
    static_assert(std::is_integral_v<A> && std::is_integral_v<B>, "__bang_matmul: fix_position is for integer operands");
    xp_bang::matmul("__bang_matmul", dst, src0, src1, M, K, N, fix_position,
                    [&](unsigned m, unsigned n) { return double(src2[size_t(m) * N + n]); });
}

template <class D, class S, class F>
inline void __bang_mlp(D* dst, const S* src, const F* filter, int height, int width) {
    static_assert(!std::is_integral_v<S> && !std::is_integral_v<F>, "__bang_mlp: integer operands take fix_position");
    xp_bang::matmul("__bang_mlp", dst, src, filter, 1, width, height, 0, xp_bang::no_bias);
}
template <class D, class S, class F>
inline void __bang_mlp(D* dst, const S* src, const F* filter, unsigned int height, unsigned int width, int fix_position) {
    static_assert(std::is_integral_v<S> && std::is_integral_v<F>, "__bang_mlp: fix_position is for integer operands");
    xp_bang::matmul("__bang_mlp", dst, src, filter, 1, width, height, fix_position, xp_bang::no_bias);
}
// With bias[height] added (note the order: bias comes before filter).
template <class D, class S, class F>
inline void __bang_mlp(D* dst, const S* src, const D* bias, const F* filter, unsigned int height, unsigned int width,
                       int fix_position) {
    static_assert(std::is_integral_v<S> && std::is_integral_v<F>, "__bang_mlp: fix_position is for integer operands");
    xp_bang::matmul("__bang_mlp", dst, src, filter, 1, width, height, fix_position,
                    [&](unsigned, unsigned n) { return double(bias[n]); });
}

template <class D, class S, class K>
inline void __bang_conv(D* dst, const S* src, const K* kernel, unsigned int channel_input, unsigned int height,
                        unsigned int width, unsigned int kernel_height, unsigned int kernel_width,
                        unsigned int stride_width, unsigned int stride_height, unsigned int channel_output) {
    static_assert(!std::is_integral_v<S> && !std::is_integral_v<K>, "__bang_conv: integer operands take fix_position");
    xp_bang::conv("__bang_conv", dst, src, kernel, channel_input, height, width, kernel_height, kernel_width,
                  stride_width, stride_height, channel_output, 0, [](unsigned) { return 0.0; });
}
template <class D, class S, class K>
inline void __bang_conv(D* dst, const S* src, const K* kernel, unsigned int channel_input, unsigned int height,
                        unsigned int width, unsigned int kernel_height, unsigned int kernel_width,
                        unsigned int stride_width, unsigned int stride_height, unsigned int channel_output,
                        int fix_position) {
    static_assert(std::is_integral_v<S> && std::is_integral_v<K>, "__bang_conv: fix_position is for integer operands");
    xp_bang::conv("__bang_conv", dst, src, kernel, channel_input, height, width, kernel_height, kernel_width,
                  stride_width, stride_height, channel_output, fix_position, [](unsigned) { return 0.0; });
}
// With bias[channel_output] added.
template <class D, class S, class K>
inline void __bang_conv(D* dst, const S* src, const K* kernel, const D* bias, unsigned int channel_input,
                        unsigned int height, unsigned int width, unsigned int kernel_height, unsigned int kernel_width,
                        unsigned int stride_width, unsigned int stride_height, unsigned int channel_output,
                        int fix_position) {
    static_assert(std::is_integral_v<S> && std::is_integral_v<K>, "__bang_conv: fix_position is for integer operands");
    xp_bang::conv("__bang_conv", dst, src, kernel, channel_input, height, width, kernel_height, kernel_width,
                  stride_width, stride_height, channel_output, fix_position,
                  [&](unsigned o) { return double(bias[o]); });
}
