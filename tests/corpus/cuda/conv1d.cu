#include <cuda_runtime.h>

// 1-D convolution (cross-correlation), stride 1, no padding: x[N,C,L], w[F,C,KW] -> y[N,F,L-KW+1].
// grid = (output chunks, F, N): a block owns one (n, f), so its filter is uniform across threads. The
// filter is staged into dynamic shared memory a group of channels at a time (the group is sized on the
// host to fit the shared budget), and then read as broadcasts in the inner loop.
#define CONV1D_THREADS 256
#define CONV1D_SMEM_BUDGET (32 * 1024)

__global__ void conv1d_kernel(const float* __restrict__ x, const float* __restrict__ w, float* __restrict__ y,
                              int C, int L, int F, int KW, int channel_group)
{
    extern __shared__ float w_group[];  // channel_group * KW floats
    const int n = blockIdx.z;
    const int f = blockIdx.y;
    const int OL = L - KW + 1;
    const int ol = blockIdx.x * CONV1D_THREADS + threadIdx.x;
    const bool active = ol < OL;  // inactive threads still help stage and reach every barrier

    const float* __restrict__ xn = x + (size_t)n * C * L;
    const float* __restrict__ wf = w + (size_t)f * C * KW;
    float acc = 0.0f;

    for (int c0 = 0; c0 < C; c0 += channel_group) {
        const int cg = (C - c0 < channel_group) ? C - c0 : channel_group;
        for (int i = threadIdx.x; i < cg * KW; i += CONV1D_THREADS)
            w_group[i] = wf[(size_t)c0 * KW + i];
        __syncthreads();
        if (active) {
            for (int c = 0; c < cg; ++c) {
                const float* __restrict__ xc = xn + (size_t)(c0 + c) * L + ol;
                const float* wc = w_group + c * KW;
#pragma unroll 4
                for (int k = 0; k < KW; ++k)
                    acc += xc[k] * wc[k];
            }
        }
        __syncthreads();
    }
    if (active)
        y[((size_t)n * F + f) * OL + ol] = acc;
}

extern "C" void conv1d(const float* x, const float* w, float* y, int N, int C, int L, int F, int KW)
{
    const int OL = L - KW + 1;
    if (N <= 0 || F <= 0 || OL <= 0) return;
    const size_t x_elems = (size_t)N * C * L;
    const size_t w_elems = (size_t)F * C * KW;
    const size_t y_elems = (size_t)N * F * OL;
    float *d_x, *d_w, *d_y;
    cudaMalloc(&d_x, x_elems * sizeof(float));
    cudaMalloc(&d_w, w_elems * sizeof(float));
    cudaMalloc(&d_y, y_elems * sizeof(float));
    cudaMemcpy(d_x, x, x_elems * sizeof(float), cudaMemcpyHostToDevice);
    cudaMemcpy(d_w, w, w_elems * sizeof(float), cudaMemcpyHostToDevice);

    int channel_group = CONV1D_SMEM_BUDGET / (int)(KW * sizeof(float));
    if (channel_group < 1) channel_group = 1;
    if (channel_group > C) channel_group = C;
    const size_t smem = (size_t)channel_group * KW * sizeof(float);

    dim3 grid((OL + CONV1D_THREADS - 1) / CONV1D_THREADS, F, N);
    conv1d_kernel<<<grid, CONV1D_THREADS, smem>>>(d_x, d_w, d_y, C, L, F, KW, channel_group);

    cudaMemcpy(y, d_y, y_elems * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(d_x);
    cudaFree(d_w);
    cudaFree(d_y);
}
