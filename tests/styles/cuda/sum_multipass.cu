// y[0] = sum of x[n]: a block-reduction kernel launched repeatedly by the host, each pass shrinking the partial sums
// by a factor of the block size until one value is left (ping-pong device buffers).
#include <cuda_runtime.h>

template <int BLOCK>
__global__ void block_sum(const float* in, float* out, int n) {
    __shared__ float tile[BLOCK];
    const int i = blockIdx.x * BLOCK + threadIdx.x;
    tile[threadIdx.x] = i < n ? in[i] : 0.0f;
    __syncthreads();
    for (int stride = BLOCK / 2; stride > 0; stride >>= 1) {
        if (threadIdx.x < stride) tile[threadIdx.x] += tile[threadIdx.x + stride];
        __syncthreads();
    }
    if (threadIdx.x == 0) out[blockIdx.x] = tile[0];
}

extern "C" void sum_multipass(const float* x, float* y, int n) {
    constexpr int kBlock = 64;
    float *a, *b;
    cudaMalloc(&a, n * sizeof(float));
    cudaMalloc(&b, n * sizeof(float));
    cudaMemcpy(a, x, n * sizeof(float), cudaMemcpyHostToDevice);
    int remaining = n;
    while (remaining > 1) {
        const int blocks = (remaining + kBlock - 1) / kBlock;
        block_sum<kBlock><<<blocks, kBlock>>>(a, b, remaining);
        float* t = a;
        a = b;
        b = t;
        remaining = blocks;
    }
    cudaMemcpy(y, a, sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(a);
    cudaFree(b);
}
