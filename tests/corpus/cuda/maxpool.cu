#include <cuda_runtime.h>
#include <cfloat>

// Max pooling in NHWC, KxK window, no padding, OH = (H - K) / stride + 1. One thread per output element
// with the channel fastest, so every window tap is a coalesced read of C consecutive floats.
// Grid-stride loop over the flattened output.
__global__ void maxpool_nhwc_kernel(const float* __restrict__ x, float* __restrict__ y, int N, int H, int W,
                                    int C, int K, int stride, int OH, int OW) {
    const long long total = (long long)N * OH * OW * C;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
         i += (long long)gridDim.x * blockDim.x) {
        const int c = (int)(i % C);
        const int ow = (int)((i / C) % OW);
        const int oh = (int)((i / ((long long)C * OW)) % OH);
        const int n = (int)(i / ((long long)C * OW * OH));

        const float* __restrict__ base = x + (((long long)n * H + oh * stride) * W + ow * stride) * C + c;
        float best = -FLT_MAX;
        for (int kh = 0; kh < K; ++kh) {
            const float* __restrict__ row = base + (long long)kh * W * C;
            for (int kw = 0; kw < K; ++kw) best = fmaxf(best, row[(long long)kw * C]);
        }
        y[i] = best;
    }
}

extern "C" void maxpool(const float* x, float* y, int N, int H, int W, int C, int K, int stride) {
    const int OH = (H - K) / stride + 1;
    const int OW = (W - K) / stride + 1;
    if (N <= 0 || C <= 0 || OH <= 0 || OW <= 0) return;
    const size_t in_bytes = (size_t)N * H * W * C * sizeof(float);
    const size_t out_count = (size_t)N * OH * OW * C;
    float *dx, *dy;
    cudaMalloc(&dx, in_bytes);
    cudaMalloc(&dy, out_count * sizeof(float));
    cudaMemcpy(dx, x, in_bytes, cudaMemcpyHostToDevice);

    const int threads = 256;
    size_t blocks = (out_count + threads - 1) / threads;
    if (blocks > 8192) blocks = 8192;
    maxpool_nhwc_kernel<<<(unsigned)blocks, threads>>>(dx, dy, N, H, W, C, K, stride, OH, OW);

    cudaMemcpy(y, dy, out_count * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(dy);
}
