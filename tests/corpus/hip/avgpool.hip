// NHWC average pooling, KxK window, no padding. Grid: x = channel tiles of 64, y = output column,
// z = (n, output row); each wavefront averages one window for 64 consecutive channels.
#include <hip/hip_runtime.h>

constexpr int kChannels = 64;

__global__ void __launch_bounds__(kChannels)
avgpool_nhwc(const float* __restrict__ x, float* __restrict__ y, int H, int W, int C, int K, int stride, int OH,
             int OW) {
    const int c = blockIdx.x * kChannels + threadIdx.x;
    if (c >= C) return;
    const int ow = blockIdx.y;
    const int n = blockIdx.z / OH;
    const int oh = blockIdx.z % OH;

    const int h0 = oh * stride;
    const int w0 = ow * stride;
    float acc = 0.0f;
    for (int h = h0; h < h0 + K; ++h) {
        const float* row = x + (static_cast<size_t>(n) * H + h) * W * C;
        for (int w = w0; w < w0 + K; ++w) acc += row[static_cast<size_t>(w) * C + c];
    }
    y[((static_cast<size_t>(n) * OH + oh) * OW + ow) * C + c] = acc / static_cast<float>(K * K);
}

extern "C" void avgpool(const float* x, float* y, int N, int H, int W, int C, int K, int stride) {
    const int OH = (H - K) / stride + 1;
    const int OW = (W - K) / stride + 1;
    const size_t x_elems = static_cast<size_t>(N) * H * W * C;
    const size_t y_elems = static_cast<size_t>(N) * OH * OW * C;
    float* d_x;
    float* d_y;
    hipMalloc(&d_x, x_elems * sizeof(float));
    hipMalloc(&d_y, y_elems * sizeof(float));
    hipMemcpy(d_x, x, x_elems * sizeof(float), hipMemcpyHostToDevice);

    const dim3 grid((C + kChannels - 1) / kChannels, OW, N * OH);
    hipLaunchKernelGGL(avgpool_nhwc, grid, dim3(kChannels), 0, 0, d_x, d_y, H, W, C, K, stride, OH, OW);

    hipMemcpy(y, d_y, y_elems * sizeof(float), hipMemcpyDeviceToHost);
    hipFree(d_x);
    hipFree(d_y);
}
