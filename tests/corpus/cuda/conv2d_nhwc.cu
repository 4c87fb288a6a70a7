#include <cuda_runtime.h>

// 2-D convolution in NHWC: x[N,H,W,C], w[KH,KW,C,F] -> y[N,OH,OW,F], any stride, zero padding.
// The output channel f is the fastest thread index, so a warp writes contiguous outputs and reads
// contiguous filter rows w[kh,kw,c,:], while the input value x[n,ih,iw,c] is a warp-wide broadcast.
// Grid-stride over all outputs with 64-bit indices.
#define IDX4(a, b, c, d, B, C, D) ((((size_t)(a) * (B) + (b)) * (C) + (c)) * (D) + (d))

__global__ void conv2d_nhwc_kernel(const float* __restrict__ x, const float* __restrict__ w, float* __restrict__ y,
                                   int N, int C, int H, int W, int F, int KH, int KW, int stride, int pad, int OH,
                                   int OW)
{
    const size_t total = (size_t)N * OH * OW * F;
    for (size_t o = (size_t)blockIdx.x * blockDim.x + threadIdx.x; o < total; o += (size_t)gridDim.x * blockDim.x) {
        const int f = (int)(o % F);
        size_t rest = o / F;
        const int ow = (int)(rest % OW);
        rest /= OW;
        const int oh = (int)(rest % OH);
        const int n = (int)(rest / OH);

        float acc = 0.0f;
        for (int kh = 0; kh < KH; ++kh) {
            const int ih = oh * stride - pad + kh;
            if (ih < 0 || ih >= H) continue;
            for (int kw = 0; kw < KW; ++kw) {
                const int iw = ow * stride - pad + kw;
                if (iw < 0 || iw >= W) continue;
                const float* __restrict__ xp = x + IDX4(n, ih, iw, 0, H, W, C);
                const float* __restrict__ wp = w + IDX4(kh, kw, 0, f, KW, C, F);
                for (int c = 0; c < C; ++c)
                    acc += xp[c] * wp[(size_t)c * F];
            }
        }
        y[o] = acc;
    }
}

extern "C" void conv2d_nhwc(const float* x, const float* w, float* y, int N, int C, int H, int W, int F, int KH,
                            int KW, int stride, int pad)
{
    const int OH = (H + 2 * pad - KH) / stride + 1;
    const int OW = (W + 2 * pad - KW) / stride + 1;
    if (N <= 0 || F <= 0 || OH <= 0 || OW <= 0) return;
    const size_t nx = (size_t)N * H * W * C, nw = (size_t)KH * KW * C * F, ny = (size_t)N * OH * OW * F;
    float *d_x, *d_w, *d_y;
    cudaMalloc(&d_x, nx * sizeof(float));
    cudaMalloc(&d_w, nw * sizeof(float));
    cudaMalloc(&d_y, ny * sizeof(float));
    cudaMemcpy(d_x, x, nx * sizeof(float), cudaMemcpyHostToDevice);
    cudaMemcpy(d_w, w, nw * sizeof(float), cudaMemcpyHostToDevice);

    const int block = 256;
    size_t blocks = (ny + block - 1) / block;
    if (blocks > 65535) blocks = 65535;
    conv2d_nhwc_kernel<<<(unsigned)blocks, block>>>(d_x, d_w, d_y, N, C, H, W, F, KH, KW, stride, pad, OH, OW);

    cudaMemcpy(y, d_y, ny * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(d_x);
    cudaFree(d_w);
    cudaFree(d_y);
}
