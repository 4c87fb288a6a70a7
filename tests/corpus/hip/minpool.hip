// NHWC min pooling, KxK window, no padding: one work-item per output element, channel fastest.
#include <hip/hip_runtime.h>
#include <cfloat>

__global__ void minpool_kernel(const float* x, float* y, int N, int H, int W, int C, int K, int stride, int OH,
                               int OW) {
    const int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= N * OH * OW * C) return;

    const int c = idx % C;
    int t = idx / C;
    const int ow = t % OW;
    t /= OW;
    const int oh = t % OH;
    const int n = t / OH;

    float m = FLT_MAX;
    for (int i = 0; i < K; ++i) {
        const int h = oh * stride + i;
        for (int j = 0; j < K; ++j) {
            const int w = ow * stride + j;
            m = fminf(m, x[((n * H + h) * W + w) * C + c]);
        }
    }
    y[idx] = m;
}

extern "C" void minpool(const float* x, float* y, int N, int H, int W, int C, int K, int stride) {
    const int OH = (H - K) / stride + 1;
    const int OW = (W - K) / stride + 1;
    const int in_count = N * H * W * C;
    const int out_count = N * OH * OW * C;
    float *dx, *dy;
    hipMalloc(&dx, in_count * sizeof(float));
    hipMalloc(&dy, out_count * sizeof(float));
    hipMemcpy(dx, x, in_count * sizeof(float), hipMemcpyHostToDevice);

    const int threads = 256;
    minpool_kernel<<<(out_count + threads - 1) / threads, threads>>>(dx, dy, N, H, W, C, K, stride, OH, OW);

    hipMemcpy(y, dy, out_count * sizeof(float), hipMemcpyDeviceToHost);
    hipFree(dx);
    hipFree(dy);
}
