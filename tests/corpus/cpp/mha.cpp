// mha: per (batch, head), O = softmax(Q K^T / sqrt(d)) V with layout [batch, heads, seq, d].
// Streaming (online) softmax per query row: keys are taken 16 at a time; the block's scores form one zmm,
// the running max / denominator are rescaled by exp(old_max - new_max) and the output accumulator (d
// floats, per-thread buffer) is rescaled the same way. No seq-long score buffer is needed.
#include <immintrin.h>
#include <cmath>
#include <vector>

namespace {

constexpr int KB = 16;  // keys per block

inline __mmask16 first(int n) { return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u); }

inline __m512 exp_ps(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
    const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504089f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.0f / 720.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, k);
}

// One query row against all keys of its head; acc is scratch of d floats.
void attend_row(const float* __restrict__ q, const float* __restrict__ Kh, const float* __restrict__ Vh,
                float* __restrict__ o, float* __restrict__ acc, int seq, int d, float scale) {
    for (int f = 0; f < d; ++f) acc[f] = 0.0f;
    float run_max = -__builtin_inff();
    float run_sum = 0.0f;
    alignas(64) float s[KB];
    alignas(64) float pr[KB];

    for (int j0 = 0; j0 < seq; j0 += KB) {
        const int nk = seq - j0 < KB ? seq - j0 : KB;
        for (int j = 0; j < nk; ++j) {
            const float* k = Kh + (size_t)(j0 + j) * d;
            __m512 dp = _mm512_setzero_ps();
            for (int f = 0; f < d; f += 16) {
                const __mmask16 m = first(d - f);
                dp = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + f), _mm512_maskz_loadu_ps(m, k + f), dp);
            }
            s[j] = _mm512_reduce_add_ps(dp) * scale;
        }
        const __mmask16 km = first(nk);
        const __m512 scores = _mm512_mask_loadu_ps(_mm512_set1_ps(-__builtin_inff()), km, s);
        const float new_max = std::fmax(run_max, _mm512_reduce_max_ps(scores));
        const float correction = std::exp(run_max - new_max);
        const __m512 p = _mm512_maskz_mov_ps(km, exp_ps(_mm512_sub_ps(scores, _mm512_set1_ps(new_max))));
        run_sum = run_sum * correction + _mm512_reduce_add_ps(p);
        run_max = new_max;
        _mm512_store_ps(pr, p);

        const __m512 corr = _mm512_set1_ps(correction);
        for (int f = 0; f < d; f += 16) {
            const __mmask16 m = first(d - f);
            __m512 a = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, acc + f), corr);
            for (int j = 0; j < nk; ++j) {
                a = _mm512_fmadd_ps(_mm512_set1_ps(pr[j]), _mm512_maskz_loadu_ps(m, Vh + (size_t)(j0 + j) * d + f), a);
            }
            _mm512_mask_storeu_ps(acc + f, m, a);
        }
    }

    const __m512 inv = _mm512_set1_ps(1.0f / run_sum);
    for (int f = 0; f < d; f += 16) {
        const __mmask16 m = first(d - f);
        _mm512_mask_storeu_ps(o + f, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, acc + f), inv));
    }
}

}  // namespace

extern "C" void mha(const float* Q, const float* K, const float* V, float* O, int batch, int heads, int seq, int d) {
    const float scale = 1.0f / std::sqrt((float)d);
    const int bh = batch * heads;

#pragma omp parallel
    {
        std::vector<float> acc(d);
#pragma omp for collapse(2) schedule(static)
        for (int h = 0; h < bh; ++h) {
            for (int i = 0; i < seq; ++i) {
                const size_t head = (size_t)h * seq * d;
                attend_row(Q + head + (size_t)i * d, K + head, V + head, O + head + (size_t)i * d, acc.data(), seq, d,
                           scale);
            }
        }
    }
}
