#include <cuda_runtime.h>

// Average pooling in NHWC, KxK window, no padding. grid = (channel blocks, OW, N * OH): each block covers a
// run of channels of one output pixel, so the loads of every window tap are contiguous across the block.
#define POOL_THREADS 64

__global__ void avgpool_nhwc_kernel(const float* __restrict__ x, float* __restrict__ y, int H, int W, int C,
                                    int K, int stride, int OH, int OW)
{
    const int c = blockIdx.x * POOL_THREADS + threadIdx.x;
    if (c >= C) return;
    const int ow = blockIdx.y;
    const int oh = blockIdx.z % OH;
    const int n = blockIdx.z / OH;
    const int h0 = oh * stride, w0 = ow * stride;

    float s = 0.0f;
    for (int kh = 0; kh < K; ++kh)
        for (int kw = 0; kw < K; ++kw)
            s += x[(((size_t)n * H + h0 + kh) * W + w0 + kw) * C + c];
    y[(((size_t)n * OH + oh) * OW + ow) * C + c] = s / (float)(K * K);
}

extern "C" void avgpool(const float* x, float* y, int N, int H, int W, int C, int K, int stride)
{
    const int OH = (H - K) / stride + 1, OW = (W - K) / stride + 1;
    if (N <= 0 || C <= 0 || OH <= 0 || OW <= 0) return;
    const size_t nx = (size_t)N * H * W * C, ny = (size_t)N * OH * OW * C;
    float *d_x, *d_y;
    cudaMalloc((void**)&d_x, nx * sizeof(float));
    cudaMalloc((void**)&d_y, ny * sizeof(float));
    cudaMemcpy(d_x, x, nx * sizeof(float), cudaMemcpyHostToDevice);

    dim3 grid((C + POOL_THREADS - 1) / POOL_THREADS, OW, N * OH);
    avgpool_nhwc_kernel<<<grid, POOL_THREADS>>>(d_x, d_y, H, W, C, K, stride, OH, OW);

    cudaMemcpy(y, d_y, ny * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(d_x);
    cudaFree(d_y);
}
