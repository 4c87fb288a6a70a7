#include <cuda_runtime.h>
#include <float.h>

// Min pooling in NHWC, KxK window, no padding. 2-D blocks: x covers channels (coalesced), y covers output
// pixels of the flattened (n, oh, ow) index; the window is unrolled for the common 2x2 and 3x3 sizes.
#define NHWC(n, h, w, c, H, W, C) ((((size_t)(n) * (H) + (h)) * (W) + (w)) * (C) + (c))

// KFIXED > 0: window size known at compile time, so both loops fully unroll; KFIXED == 0: runtime K.
template <int KFIXED>
__device__ __forceinline__ float window_min(const float* __restrict__ corner, int row_stride, int C, int K)
{
    const int k = KFIXED > 0 ? KFIXED : K;
    float m = FLT_MAX;
#pragma unroll
    for (int kh = 0; kh < k; ++kh)
#pragma unroll
        for (int kw = 0; kw < k; ++kw)
            m = fminf(m, corner[(size_t)kh * row_stride + (size_t)kw * C]);
    return m;
}

__global__ void minpool_nhwc_kernel(const float* __restrict__ x, float* __restrict__ y, int N, int H, int W,
                                    int C, int K, int stride, int OH, int OW)
{
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    const int pix = blockIdx.y * blockDim.y + threadIdx.y;
    if (c >= C || pix >= N * OH * OW) return;
    const int ow = pix % OW;
    const int oh = (pix / OW) % OH;
    const int n = pix / (OW * OH);
    const int h0 = oh * stride, w0 = ow * stride;

    const float* __restrict__ corner = x + NHWC(n, h0, w0, c, H, W, C);
    const int row_stride = W * C;
    float m;
    if (K == 2)
        m = window_min<2>(corner, row_stride, C, K);
    else if (K == 3)
        m = window_min<3>(corner, row_stride, C, K);
    else
        m = window_min<0>(corner, row_stride, C, K);
    y[NHWC(n, oh, ow, c, OH, OW, C)] = m;
}

extern "C" void minpool(const float* x, float* y, int N, int H, int W, int C, int K, int stride)
{
    const int OH = (H - K) / stride + 1;
    const int OW = (W - K) / stride + 1;
    if (N <= 0 || C <= 0 || OH <= 0 || OW <= 0) return;
    const size_t in_n = (size_t)N * H * W * C;
    const size_t out_n = (size_t)N * OH * OW * C;
    float *d_in, *d_out;
    cudaMalloc(&d_in, in_n * sizeof(float));
    cudaMalloc(&d_out, out_n * sizeof(float));
    cudaMemcpy(d_in, x, in_n * sizeof(float), cudaMemcpyHostToDevice);

    const dim3 block(32, 8);
    const int pixels = N * OH * OW;
    const dim3 grid((C + block.x - 1) / block.x, (pixels + block.y - 1) / block.y);
    minpool_nhwc_kernel<<<grid, block>>>(d_in, d_out, N, H, W, C, K, stride, OH, OW);

    cudaMemcpy(y, d_out, out_n * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(d_in);
    cudaFree(d_out);
}
