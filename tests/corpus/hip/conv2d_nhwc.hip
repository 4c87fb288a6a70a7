// NHWC convolution as an implicit GEMM: x[N,H,W,C], w[KH,KW,C,F] -> y[N,OH,OW,F].
// With P = N*OH*OW output pixels and R = KH*KW*C taps, y[P,F] = X_col[P,R] @ w[R,F], where w is already a
// row-major R x F matrix and X_col is gathered on the fly (zero outside the padded image). 32x32 tiles of
// y, 16x16 work-items with 2x2 micro-tiles, R in slabs of 16 through LDS.
#include <hip/hip_runtime.h>

namespace {
constexpr int kTile = 32;
constexpr int kSlab = 16;
}

__global__ void __launch_bounds__(256)
conv2d_nhwc_igemm(const float* __restrict__ x, const float* __restrict__ w, float* __restrict__ y,
                  int N, int C, int H, int W, int F, int KH, int KW, int stride, int pad, int OH, int OW) {
    __shared__ float xs[kTile][kSlab + 1];
    __shared__ float ws[kSlab][kTile + 1];

    const int P = N * OH * OW;
    const int R = KH * KW * C;
    const int tid = threadIdx.y * 16 + threadIdx.x;
    const int p0 = blockIdx.y * kTile;
    const int f0 = blockIdx.x * kTile;

    float acc[2][2] = {{0.0f, 0.0f}, {0.0f, 0.0f}};

    for (int r0 = 0; r0 < R; r0 += kSlab) {
        // Gather a 32x16 slab of X_col: row = output pixel, column = (kh, kw, c) tap.
        for (int e = tid; e < kTile * kSlab; e += 256) {
            const int pi = e / kSlab, ri = e % kSlab;
            const int p = p0 + pi, r = r0 + ri;
            float v = 0.0f;
            if (p < P && r < R) {
                const int ow = p % OW;
                const int oh = (p / OW) % OH;
                const int n = p / (OW * OH);
                const int c = r % C;
                const int kw = (r / C) % KW;
                const int kh = r / (C * KW);
                const int ih = oh * stride - pad + kh;
                const int iw = ow * stride - pad + kw;
                if (ih >= 0 && ih < H && iw >= 0 && iw < W)
                    v = x[((static_cast<size_t>(n) * H + ih) * W + iw) * C + c];
            }
            xs[pi][ri] = v;
        }
        for (int e = tid; e < kSlab * kTile; e += 256) {
            const int ri = e / kTile, fi = e % kTile;
            const int r = r0 + ri, f = f0 + fi;
            ws[ri][fi] = (r < R && f < F) ? w[static_cast<size_t>(r) * F + f] : 0.0f;
        }
        __syncthreads();

#pragma unroll
        for (int k = 0; k < kSlab; ++k) {
            const float a0 = xs[threadIdx.y][k], a1 = xs[threadIdx.y + 16][k];
            const float b0 = ws[k][threadIdx.x], b1 = ws[k][threadIdx.x + 16];
            acc[0][0] += a0 * b0;
            acc[0][1] += a0 * b1;
            acc[1][0] += a1 * b0;
            acc[1][1] += a1 * b1;
        }
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < 2; ++i) {
        const int p = p0 + threadIdx.y + 16 * i;
        if (p >= P) continue;
#pragma unroll
        for (int j = 0; j < 2; ++j) {
            const int f = f0 + threadIdx.x + 16 * j;
            if (f < F) y[static_cast<size_t>(p) * F + f] = acc[i][j];  // y[n,oh,ow,f] is row p of y[P,F]
        }
    }
}

extern "C" void conv2d_nhwc(const float* x, const float* w, float* y, int N, int C, int H, int W, int F,
                            int KH, int KW, int stride, int pad) {
    const int OH = (H + 2 * pad - KH) / stride + 1;
    const int OW = (W + 2 * pad - KW) / stride + 1;
    const size_t x_bytes = sizeof(float) * static_cast<size_t>(N) * H * W * C;
    const size_t w_bytes = sizeof(float) * static_cast<size_t>(KH) * KW * C * F;
    const size_t y_bytes = sizeof(float) * static_cast<size_t>(N) * OH * OW * F;
    float *d_x, *d_w, *d_y;
    hipMalloc(&d_x, x_bytes);
    hipMalloc(&d_w, w_bytes);
    hipMalloc(&d_y, y_bytes);
    hipMemcpy(d_x, x, x_bytes, hipMemcpyHostToDevice);
    hipMemcpy(d_w, w, w_bytes, hipMemcpyHostToDevice);

    const int P = N * OH * OW;
    const dim3 grid((F + kTile - 1) / kTile, (P + kTile - 1) / kTile);
    hipLaunchKernelGGL(conv2d_nhwc_igemm, grid, dim3(16, 16), 0, 0, d_x, d_w, d_y,
                       N, C, H, W, F, KH, KW, stride, pad, OH, OW);

    hipMemcpy(y, d_y, y_bytes, hipMemcpyDeviceToHost);
    hipFree(d_x);
    hipFree(d_w);
    hipFree(d_y);
}
