// self_attention: O = softmax(Q K^T / sqrt(d)) V for one head, Q/K/V/O [seq, d].
// One query row per work item: scores via masked dot products over d, a vectorised softmax on the score
// row (per-thread buffer), then O[i] = sum_j p_j V[j] accumulated 16 features at a time.
#include <immintrin.h>
#include <cmath>
#include <vector>

namespace {

inline __mmask16 prefix(int n) { return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u); }

inline __m512 exp_nonpositive(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
    const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504089f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(1.0f / 720.0f), r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, k);
}

float dot(const float* __restrict__ a, const float* __restrict__ b, int n) {
    __m512 acc = _mm512_setzero_ps();
    for (int i = 0; i < n; i += 16) {
        const __mmask16 m = prefix(n - i);
        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), acc);
    }
    return _mm512_reduce_add_ps(acc);
}

}  // namespace

extern "C" void self_attention(const float* Q, const float* K, const float* V, float* O, int seq, int d) {
    const float scale = 1.0f / std::sqrt((float)d);

#pragma omp parallel
    {
        std::vector<float> p(seq);

#pragma omp for schedule(static)
        for (int i = 0; i < seq; ++i) {
            const float* q = Q + (size_t)i * d;
            for (int j = 0; j < seq; ++j) p[j] = dot(q, K + (size_t)j * d, d) * scale;

            const __m512 neg_inf = _mm512_set1_ps(-__builtin_inff());
            __m512 vmax = neg_inf;
            for (int j = 0; j < seq; j += 16) vmax = _mm512_max_ps(vmax, _mm512_mask_loadu_ps(neg_inf, prefix(seq - j), &p[j]));
            const __m512 row_max = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
            __m512 vsum = _mm512_setzero_ps();
            for (int j = 0; j < seq; j += 16) {
                const __mmask16 m = prefix(seq - j);
                const __m512 e = _mm512_maskz_mov_ps(m, exp_nonpositive(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, &p[j]), row_max)));
                vsum = _mm512_add_ps(vsum, e);
                _mm512_mask_storeu_ps(&p[j], m, e);
            }
            const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(vsum));

            float* o = O + (size_t)i * d;
            for (int f = 0; f < d; f += 16) {
                const __mmask16 m = prefix(d - f);
                __m512 acc = _mm512_setzero_ps();
                for (int j = 0; j < seq; ++j) {
                    acc = _mm512_fmadd_ps(_mm512_set1_ps(p[j]), _mm512_maskz_loadu_ps(m, V + (size_t)j * d + f), acc);
                }
                _mm512_mask_storeu_ps(o + f, m, _mm512_mul_ps(acc, inv));
            }
        }
    }
}
