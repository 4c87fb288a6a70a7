// sin: y = sin(x), fp32. Cody-Waite reduction by pi (x = k*pi + r, |r| <= pi/2), an odd polynomial
// for sin(r), and the sign of (-1)^k applied with an xor on the float sign bit.
#include <immintrin.h>

namespace {

constexpr float kInvPi = 0.318309886183790671f;
constexpr float kPiHi = 3.140625f;                 // few mantissa bits: k * kPiHi is exact
constexpr float kPiMid = 9.67502593994140625e-4f;
constexpr float kPiLo = 1.509957990978376432e-7f;

// Taylor coefficients of sin up to r^11: max error ~6e-8 on [-pi/2, pi/2].
inline __m512 sin_poly(__m512 r) {
    const __m512 r2 = _mm512_mul_ps(r, r);
    __m512 p = _mm512_set1_ps(-2.5052108385e-8f);
    p = _mm512_fmadd_ps(p, r2, _mm512_set1_ps(2.7557319224e-6f));
    p = _mm512_fmadd_ps(p, r2, _mm512_set1_ps(-1.9841269841e-4f));
    p = _mm512_fmadd_ps(p, r2, _mm512_set1_ps(8.3333333333e-3f));
    p = _mm512_fmadd_ps(p, r2, _mm512_set1_ps(-1.6666666667e-1f));
    p = _mm512_mul_ps(p, r2);
    return _mm512_fmadd_ps(p, r, r);
}

inline __m512 sin_ps(__m512 x) {
    const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kInvPi)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(kPiHi), x);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(kPiMid), r);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(kPiLo), r);
    // odd k flips the sign: move bit 0 of k into the float sign bit
    const __m512i odd = _mm512_slli_epi32(_mm512_cvtps_epi32(k), 31);
    return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(sin_poly(r)), odd));
}

}  // namespace

extern "C" void sine(const float* __restrict__ x, float* __restrict__ y, int n) {
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i += 16) {
        const int rem = n - i;
        const __mmask16 m = rem < 16 ? (__mmask16)((1u << rem) - 1u) : (__mmask16)0xFFFF;
        _mm512_mask_storeu_ps(y + i, m, sin_ps(_mm512_maskz_loadu_ps(m, x + i)));
    }
}
