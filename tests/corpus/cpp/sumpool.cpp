// sumpool (NHWC, KxK window, no padding). The channel loop is unit stride in x and y, so a plain loop with
// `omp simd` vectorises as well as intrinsics would; taps accumulate straight into the output row.
#include <cstddef>

extern "C" void sumpool(const float* __restrict__ x, float* __restrict__ y, int N, int H, int W, int C, int K,
                        int stride) {
    const int OH = (H - K) / stride + 1;
    const int OW = (W - K) / stride + 1;

#pragma omp parallel for collapse(2) schedule(static)
    for (int n = 0; n < N; ++n) {
        for (int oh = 0; oh < OH; ++oh) {
            for (int ow = 0; ow < OW; ++ow) {
                float* __restrict__ out = y + (((size_t)n * OH + oh) * OW + ow) * C;
#pragma omp simd
                for (int c = 0; c < C; ++c) out[c] = 0.0f;
                for (int kh = 0; kh < K; ++kh) {
                    for (int kw = 0; kw < K; ++kw) {
                        const float* __restrict__ in =
                            x + (((size_t)n * H + (size_t)oh * stride + kh) * W + (size_t)ow * stride + kw) * C;
#pragma omp simd
                        for (int c = 0; c < C; ++c) out[c] += in[c];
                    }
                }
            }
        }
    }
}
