#include <cuda_runtime.h>

// Sum pooling in NHWC, KxK window, no padding. One block per output row (n, oh); its threads walk the
// row's OW*C outputs in order, so consecutive threads read and write consecutive addresses.
__global__ void sumpool_row_kernel(const float* __restrict__ x, float* __restrict__ y, const int H, const int W,
                                   const int C, const int K, const int stride, const int OH, const int OW) {
    const int n = blockIdx.x / OH;
    const int oh = blockIdx.x % OH;
    const size_t in_row = (size_t)W * C;
    const float* __restrict__ top = x + ((size_t)n * H + (size_t)oh * stride) * in_row;
    float* __restrict__ out = y + (size_t)blockIdx.x * OW * C;
    const int row_len = OW * C;

    for (int j = threadIdx.x; j < row_len; j += blockDim.x) {
        const int ow = j / C;
        const int c = j - ow * C;
        const float* __restrict__ corner = top + (size_t)ow * stride * C + c;
        float acc = 0.0f;
        for (int kh = 0; kh < K; ++kh) {
            const float* __restrict__ r = corner + kh * in_row;
            for (int kw = 0; kw < K; ++kw) acc += r[(size_t)kw * C];
        }
        out[j] = acc;
    }
}

extern "C" void sumpool(const float* x, float* y, int N, int H, int W, int C, int K, int stride) {
    const int OH = (H - K) / stride + 1;
    const int OW = (W - K) / stride + 1;
    if (N <= 0 || C <= 0 || OH <= 0 || OW <= 0) return;
    const size_t in_bytes = sizeof(float) * N * H * W * C;
    const size_t out_bytes = sizeof(float) * N * OH * OW * C;
    float* d_x = nullptr;
    float* d_y = nullptr;
    cudaMalloc(&d_x, in_bytes);
    cudaMalloc(&d_y, out_bytes);
    cudaMemcpy(d_x, x, in_bytes, cudaMemcpyHostToDevice);

    const int row_len = OW * C;
    const int threads = row_len >= 256 ? 256 : ((row_len + 31) / 32) * 32;
    sumpool_row_kernel<<<N * OH, threads>>>(d_x, d_y, H, W, C, K, stride, OH, OW);

    cudaMemcpy(y, d_y, out_bytes, cudaMemcpyDeviceToHost);
    cudaFree(d_x);
    cudaFree(d_y);
}
