// y[N,F,Lout] = conv1d(x[N,C,L], w[F,C,KW]), stride 1, no padding, Lout = L - KW + 1.
// Grid: (output-position tiles, F, N). Every work-item of a group shares (n, f), so the weight reads are
// wavefront-uniform (the compiler turns them into scalar loads); x reads are contiguous along the tile.
#include <hip/hip_runtime.h>

constexpr int kBlock = 128;

__global__ void __launch_bounds__(kBlock)
conv1d_kernel(const float* __restrict__ x, const float* __restrict__ w, float* __restrict__ y,
              int C, int L, int F, int KW) {
    const int l_out = L - KW + 1;
    const int pos = blockIdx.x * kBlock + threadIdx.x;
    const int f = blockIdx.y;
    const int n = blockIdx.z;
    if (pos >= l_out) return;

    const float* x_n = x + static_cast<size_t>(n) * C * L;
    const float* w_f = w + static_cast<size_t>(f) * C * KW;
    float acc = 0.0f;
    for (int c = 0; c < C; ++c) {
        const float* xc = x_n + static_cast<size_t>(c) * L + pos;
        const float* wc = w_f + c * KW;
        for (int k = 0; k < KW; ++k) acc += xc[k] * wc[k];
    }
    y[(static_cast<size_t>(n) * F + f) * l_out + pos] = acc;
}

extern "C" void conv1d(const float* x, const float* w, float* y, int N, int C, int L, int F, int KW) {
    const int l_out = L - KW + 1;
    const size_t x_bytes = sizeof(float) * static_cast<size_t>(N) * C * L;
    const size_t w_bytes = sizeof(float) * static_cast<size_t>(F) * C * KW;
    const size_t y_bytes = sizeof(float) * static_cast<size_t>(N) * F * l_out;
    float *d_x, *d_w, *d_y;
    hipMalloc(&d_x, x_bytes);
    hipMalloc(&d_w, w_bytes);
    hipMalloc(&d_y, y_bytes);
    hipMemcpy(d_x, x, x_bytes, hipMemcpyHostToDevice);
    hipMemcpy(d_w, w, w_bytes, hipMemcpyHostToDevice);

    const dim3 grid((l_out + kBlock - 1) / kBlock, F, N);
    hipLaunchKernelGGL(conv1d_kernel, grid, dim3(kBlock), 0, 0, d_x, d_w, d_y, C, L, F, KW);

    hipMemcpy(y, d_y, y_bytes, hipMemcpyDeviceToHost);
    hipFree(d_x);
    hipFree(d_w);
    hipFree(d_y);
}
