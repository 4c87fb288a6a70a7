// Row softmax of x[rows, cols]: scalar max and exponentials into a std::vector, AVX2 sum and scale, scalar tails.
#include <immintrin.h>
#include <cmath>
#include <vector>

extern "C" void softmax_avx2(const float* __restrict x, float* __restrict y, int rows, int cols) {
    std::vector<float> e(cols);
    auto horizontal_sum = [](__m256 v) {
        float lanes[8];
        _mm256_storeu_ps(lanes, v);
        float s = 0.0f;
        for (int k = 0; k < 8; ++k) s += lanes[k];
        return s;
    };
    for (int r = 0; r < rows; ++r) {
        const float* in = x + static_cast<size_t>(r) * cols;
        float* out = y + static_cast<size_t>(r) * cols;
        float best = in[0];
        for (int c = 1; c < cols; ++c) best = std::fmax(best, in[c]);
        for (int c = 0; c < cols; ++c) e[c] = std::exp(in[c] - best);
        __m256 acc = _mm256_setzero_ps();
        int c = 0;
        for (; c + 8 <= cols; c += 8) acc = _mm256_add_ps(acc, _mm256_loadu_ps(&e[c]));
        float total = horizontal_sum(acc);
        for (; c < cols; ++c) total += e[c];
        const __m256 inv = _mm256_set1_ps(1.0f / total);
        for (c = 0; c + 8 <= cols; c += 8) _mm256_storeu_ps(out + c, _mm256_mul_ps(_mm256_loadu_ps(&e[c]), inv));
        for (; c < cols; ++c) out[c] = e[c] * (1.0f / total);
    }
}
