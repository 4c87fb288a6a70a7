// Depthwise NHWC convolution: x[N,H,W,C], w[KH,KW,C] -> y[N,OH,OW,C], zero padding.
// One work-item per output element with the channel fastest, so a wavefront reads 64 consecutive channels
// of the same pixel (coalesced) and the matching 64 filter taps. Grid-stride over all outputs.
#include <hip/hip_runtime.h>

__global__ void depthwise_nhwc_kernel(const float* __restrict__ x, const float* __restrict__ w, float* __restrict__ y,
                                      int N, int H, int W, int C, int KH, int KW, int stride, int pad,
                                      int OH, int OW) {
    const long total = static_cast<long>(N) * OH * OW * C;
    for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < total;
         i += static_cast<long>(blockDim.x) * gridDim.x) {
        const int c = static_cast<int>(i % C);
        long rest = i / C;
        const int ow = static_cast<int>(rest % OW);
        rest /= OW;
        const int oh = static_cast<int>(rest % OH);
        const int n = static_cast<int>(rest / OH);

        float acc = 0.0f;
        for (int kh = 0; kh < KH; ++kh) {
            const int ih = oh * stride - pad + kh;
            if (ih < 0 || ih >= H) continue;
            for (int kw = 0; kw < KW; ++kw) {
                const int iw = ow * stride - pad + kw;
                if (iw < 0 || iw >= W) continue;
                acc += x[((static_cast<long>(n) * H + ih) * W + iw) * C + c] * w[(kh * KW + kw) * C + c];
            }
        }
        y[i] = acc;
    }
}

extern "C" void depthwise_conv2d(const float* x, const float* w, float* y, int N, int H, int W, int C,
                                 int KH, int KW, int stride, int pad) {
    const int OH = (H + 2 * pad - KH) / stride + 1;
    const int OW = (W + 2 * pad - KW) / stride + 1;
    const size_t x_n = static_cast<size_t>(N) * H * W * C;
    const size_t w_n = static_cast<size_t>(KH) * KW * C;
    const size_t y_n = static_cast<size_t>(N) * OH * OW * C;
    float* d_x;
    float* d_w;
    float* d_y;
    hipMalloc(&d_x, x_n * sizeof(float));
    hipMalloc(&d_w, w_n * sizeof(float));
    hipMalloc(&d_y, y_n * sizeof(float));
    hipMemcpy(d_x, x, x_n * sizeof(float), hipMemcpyHostToDevice);
    hipMemcpy(d_w, w, w_n * sizeof(float), hipMemcpyHostToDevice);

    const int block = 256;
    size_t blocks = (y_n + block - 1) / block;
    if (blocks > 2048) blocks = 2048;
    depthwise_nhwc_kernel<<<dim3(static_cast<unsigned>(blocks)), dim3(block)>>>(d_x, d_w, d_y, N, H, W, C, KH, KW,
                                                                             stride, pad, OH, OW);

    hipMemcpy(y, d_y, y_n * sizeof(float), hipMemcpyDeviceToHost);
    hipFree(d_x);
    hipFree(d_w);
    hipFree(d_y);
}
