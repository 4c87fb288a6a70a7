// BANG C `half` and the rounding modes of its conversion functions, on the CPU executor.
//
// `half` is g++'s _Float16: IEEE binary16 storage (the layout of numpy's float16), conversions from float and
// double that round to nearest even, and arithmetic done in float and rounded back per operation.
// The manual's rounding suffixes: rn = nearest, ties to even; tz = toward zero; oz = away from zero;
// up = toward +inf; dn = toward -inf; rd = nearest, ties away from zero; rm = nearest, ties toward +inf.
#pragma once
#include <cmath>
#include <math.h>  // before the half overloads below: its `using std::fmax;` would clash with them if a kernel included it later
#include <cstdint>
#include <cstring>
#include <limits>

typedef _Float16 half;

namespace xp_bang {

enum class Round { rn, tz, oz, up, dn, rd, rm };

inline uint16_t half_bits(half h) {
    uint16_t bits;
    std::memcpy(&bits, &h, sizeof bits);
    return bits;
}
inline half half_from_bits(uint16_t bits) {
    half h;
    std::memcpy(&h, &bits, sizeof h);
    return h;
}

// The neighbour of a non-NaN half toward +inf (`up`) or -inf; zero steps to the smallest subnormal.
inline half half_step(half h, bool up) {
    const uint16_t bits = half_bits(h);
    if ((bits & 0x7fff) == 0) return half_from_bits(up ? 0x0001 : 0x8001);
    const bool away_from_zero = up != bool(bits & 0x8000);
    return half_from_bits(away_from_zero ? bits + 1 : bits - 1);
}

// x rounded to half in mode r; x (a float or an integer) is exact in double, so the choice is exact too.
inline half to_half(double x, Round r) {
    if (std::isnan(x)) return half_from_bits(0x7e00);
    const half nearest = half(x);  // round to nearest even, overflowing to inf at |x| >= 65520
    if (double(nearest) == x || r == Round::rn) return nearest;
    const bool below = double(nearest) < x;
    const half lo = below ? nearest : half_step(nearest, false);
    const half hi = below ? half_step(nearest, true) : nearest;
    switch (r) {
        case Round::up: return hi;
        case Round::dn: return lo;
        case Round::tz: return x > 0 ? lo : hi;
        case Round::oz: return x > 0 ? hi : lo;
        default: break;
    }
    // Nearest with a tie rule; an infinite neighbour stands for 2^16, the next step beyond the largest half.
    const double lo_value = std::isinf(double(lo)) ? -65536.0 : double(lo);
    const double hi_value = std::isinf(double(hi)) ? 65536.0 : double(hi);
    const double to_lo = x - lo_value, to_hi = hi_value - x;
    if (to_lo != to_hi) return to_lo < to_hi ? lo : hi;
    if (r == Round::rd) return x > 0 ? hi : lo;
    return hi;  // rm
}

inline double round_integer(double x, Round r) {
    switch (r) {
        case Round::rn: return std::nearbyint(x);
        case Round::tz: return std::trunc(x);
        case Round::oz: return x < 0 ? std::floor(x) : std::ceil(x);
        case Round::up: return std::ceil(x);
        case Round::dn: return std::floor(x);
        case Round::rd: return std::round(x);
        case Round::rm: return std::floor(x + 0.5);
    }
    return x;
}

// x rounded to an integer in mode r and saturated to I's range (NaN gives 0).
template <class I>
inline I to_integer(double x, Round r) {
    if (std::isnan(x)) return 0;
    const double v = round_integer(x, r);
    if (v <= double(std::numeric_limits<I>::min())) return std::numeric_limits<I>::min();
    if (v >= double(std::numeric_limits<I>::max())) return std::numeric_limits<I>::max();
    return I(v);
}

}  // namespace xp_bang

// ---- scalar conversions of the scalar unit ---------------------------------------------------------------
inline float __half2float(half x) { return float(x); }
inline half __float2half(float x) { return half(x); }
#define XP_BANG_SCALAR_ROUNDING(mode)                                                                    \
    inline half __float2half_##mode(float x) { return xp_bang::to_half(x, xp_bang::Round::mode); }        \
    inline int __float2int_##mode(float x) { return xp_bang::to_integer<int>(x, xp_bang::Round::mode); } \
    inline int __half2int_##mode(half x) { return xp_bang::to_integer<int>(float(x), xp_bang::Round::mode); }
XP_BANG_SCALAR_ROUNDING(rn)
XP_BANG_SCALAR_ROUNDING(tz)
XP_BANG_SCALAR_ROUNDING(oz)
XP_BANG_SCALAR_ROUNDING(up)
XP_BANG_SCALAR_ROUNDING(dn)
XP_BANG_SCALAR_ROUNDING(rd)
XP_BANG_SCALAR_ROUNDING(rm)
#undef XP_BANG_SCALAR_ROUNDING

// ---- math on half scalars: <cmath> has no _Float16 overloads, so exp(h) would be ambiguous -----------------
#define XP_BANG_HALF_MATH1(fn) \
    inline half fn(half x) { return half(std::fn(float(x))); }
#define XP_BANG_HALF_MATH2(fn) \
    inline half fn(half x, half y) { return half(std::fn(float(x), float(y))); }
#define XP_BANG_HALF_MATH(X1, X2)                                                                          \
    X1(abs) X1(fabs) X1(sqrt) X1(exp) X1(exp2) X1(log) X1(log2) X1(sin) X1(cos) X1(tanh) X1(floor) X1(ceil) \
    X1(trunc) X1(round) X2(pow) X2(fmax) X2(fmin)
XP_BANG_HALF_MATH(XP_BANG_HALF_MATH1, XP_BANG_HALF_MATH2)
namespace std {
XP_BANG_HALF_MATH(XP_BANG_HALF_MATH1, XP_BANG_HALF_MATH2)
}
#undef XP_BANG_HALF_MATH
#undef XP_BANG_HALF_MATH1
#undef XP_BANG_HALF_MATH2
