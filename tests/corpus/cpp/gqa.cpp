// gqa: grouped-query attention. Q,O [b, q_heads, s, d]; K,V [b, kv_heads, s, d]; query head h reads kv
// head h / (q_heads / kv_heads). Work items are blocks of 4 query rows of one query head: every K row and
// V row loaded is used by the 4 queries. Scores live in a per-thread 4 x seq buffer; softmax is vectorised.
#include <immintrin.h>
#include <cmath>
#include <vector>

#define QB 4

static inline __mmask16 n_lanes(int n) { return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u); }

static inline __m512 v_exp(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
    const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504089f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(-2.12194440e-4f),
                                      _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), x));
    __m512 p = _mm512_set1_ps(1.0f / 720.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, k);
}

// In place: row <- exp(row - max) / sum; masked lanes past n are neither read nor written.
static void softmax_row(float* row, int n) {
    const __m512 neg_inf = _mm512_set1_ps(-__builtin_inff());
    __m512 vmax = neg_inf;
    for (int j = 0; j < n; j += 16) vmax = _mm512_max_ps(vmax, _mm512_mask_loadu_ps(neg_inf, n_lanes(n - j), row + j));
    const __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
    __m512 vsum = _mm512_setzero_ps();
    for (int j = 0; j < n; j += 16) {
        const __mmask16 m = n_lanes(n - j);
        const __m512 e = v_exp(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, row + j), mx));
        vsum = _mm512_mask_add_ps(vsum, m, vsum, e);
        _mm512_mask_storeu_ps(row + j, m, e);
    }
    const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(vsum));
    for (int j = 0; j < n; j += 16) {
        const __mmask16 m = n_lanes(n - j);
        _mm512_mask_storeu_ps(row + j, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, row + j), inv));
    }
}

extern "C" void gqa(const float* Q, const float* K, const float* V, float* O, int batch, int q_heads, int kv_heads,
                    int seq, int d) {
    const int group = q_heads / kv_heads;
    const float scale = 1.0f / std::sqrt((float)d);
    const int qblocks = (seq + QB - 1) / QB;

#pragma omp parallel
    {
        std::vector<float> scores((size_t)QB * seq);

#pragma omp for collapse(3) schedule(static)
        for (int b = 0; b < batch; ++b) {
            for (int h = 0; h < q_heads; ++h) {
                for (int qb = 0; qb < qblocks; ++qb) {
                    const int i0 = qb * QB;
                    const int nq = seq - i0 < QB ? seq - i0 : QB;
                    const float* q = Q + (((size_t)b * q_heads + h) * seq + i0) * d;
                    const size_t kv_off = ((size_t)b * kv_heads + h / group) * seq * d;
                    const float* k = K + kv_off;
                    const float* v = V + kv_off;
                    float* o = O + (((size_t)b * q_heads + h) * seq + i0) * d;

                    for (int j = 0; j < seq; ++j) {
                        __m512 acc[QB];
                        for (int r = 0; r < QB; ++r) acc[r] = _mm512_setzero_ps();
                        for (int f = 0; f < d; f += 16) {
                            const __mmask16 m = n_lanes(d - f);
                            const __m512 kv = _mm512_maskz_loadu_ps(m, k + (size_t)j * d + f);
                            for (int r = 0; r < nq; ++r) {
                                acc[r] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + (size_t)r * d + f), kv, acc[r]);
                            }
                        }
                        for (int r = 0; r < nq; ++r) scores[(size_t)r * seq + j] = _mm512_reduce_add_ps(acc[r]) * scale;
                    }
                    for (int r = 0; r < nq; ++r) softmax_row(&scores[(size_t)r * seq], seq);

                    for (int f = 0; f < d; f += 16) {
                        const __mmask16 m = n_lanes(d - f);
                        __m512 acc[QB];
                        for (int r = 0; r < QB; ++r) acc[r] = _mm512_setzero_ps();
                        for (int j = 0; j < seq; ++j) {
                            const __m512 vv = _mm512_maskz_loadu_ps(m, v + (size_t)j * d + f);
                            for (int r = 0; r < nq; ++r) {
                                acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(scores[(size_t)r * seq + j]), vv, acc[r]);
                            }
                        }
                        for (int r = 0; r < nq; ++r) _mm512_mask_storeu_ps(o + (size_t)r * d + f, m, acc[r]);
                    }
                }
            }
        }
    }
}
