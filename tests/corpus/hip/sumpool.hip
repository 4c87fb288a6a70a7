// NHWC sum pooling, KxK window, no padding. Written as a generic pooling kernel over a reducer type
// (identity + combine), instantiated with a sum. 2D grid: x covers channels, y covers output pixels.
#include <hip/hip_runtime.h>

struct SumReducer {
    __device__ static constexpr float init() { return 0.0f; }
    __device__ static float combine(float acc, float v) { return acc + v; }
};

template <class Reducer>
__global__ void pool_nhwc(const float* __restrict__ x, float* __restrict__ y, int H, int W, int C, int K, int stride,
                          int OH, int OW, int pixels) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    // Grid-stride over output pixels (n, oh, ow) along y so large batches need no huge grid.
    for (int p = blockIdx.y * blockDim.y + threadIdx.y; p < pixels; p += gridDim.y * blockDim.y) {
        const int ow = p % OW;
        const int oh = (p / OW) % OH;
        const int n = p / (OW * OH);
        const float* base = x + ((static_cast<size_t>(n) * H + oh * stride) * W + ow * stride) * C + c;
        float acc = Reducer::init();
        for (int kh = 0; kh < K; ++kh) {
#pragma unroll 4
            for (int kw = 0; kw < K; ++kw) acc = Reducer::combine(acc, base[(kh * W + kw) * C]);
        }
        y[static_cast<size_t>(p) * C + c] = acc;
    }
}

extern "C" void sumpool(const float* x, float* y, int N, int H, int W, int C, int K, int stride) {
    const int OH = (H - K) / stride + 1;
    const int OW = (W - K) / stride + 1;
    const int pixels = N * OH * OW;
    const size_t x_bytes = sizeof(float) * static_cast<size_t>(N) * H * W * C;
    const size_t y_bytes = sizeof(float) * static_cast<size_t>(pixels) * C;
    float *d_x, *d_y;
    hipMalloc(&d_x, x_bytes);
    hipMalloc(&d_y, y_bytes);
    hipMemcpy(d_x, x, x_bytes, hipMemcpyHostToDevice);

    const dim3 block(64, 4);
    const int grid_y = (pixels + block.y - 1) / block.y;
    const dim3 grid((C + block.x - 1) / block.x, grid_y < 16384 ? grid_y : 16384);
    hipLaunchKernelGGL(pool_nhwc<SumReducer>, grid, block, 0, 0, d_x, d_y, H, W, C, K, stride, OH, OW, pixels);

    hipMemcpy(y, d_y, y_bytes, hipMemcpyDeviceToHost);
    hipFree(d_x);
    hipFree(d_y);
}
