#include <hip/hip_runtime.h>
#include <math.h>

// Row log-sum-exp: block max then block sum of exp, each as a wavefront xor-butterfly (any warpSize)
// followed by a pass over the per-wave partials kept in shared memory.
#define BLOCK 256

__device__ float wave_max(float v) {
    for (int m = warpSize / 2; m > 0; m >>= 1) v = fmaxf(v, __shfl_xor(v, m));
    return v;
}
__device__ float wave_sum(float v) {
    for (int m = warpSize / 2; m > 0; m >>= 1) v += __shfl_xor(v, m);
    return v;
}

__global__ void lse_kernel(const float* __restrict__ x, float* __restrict__ out, int cols) {
    __shared__ float partial[BLOCK / 32];
    __shared__ float shared_max;
    const float* r = x + (size_t)blockIdx.x * cols;
    int lane = threadIdx.x % warpSize, wave = threadIdx.x / warpSize;
    int nwaves = BLOCK / warpSize;

    float m = -INFINITY;
    for (int c = threadIdx.x; c < cols; c += BLOCK) m = fmaxf(m, r[c]);
    m = wave_max(m);
    if (lane == 0) partial[wave] = m;
    __syncthreads();
    if (threadIdx.x == 0) {
        float mm = partial[0];
        for (int w = 1; w < nwaves; ++w) mm = fmaxf(mm, partial[w]);
        shared_max = mm;
    }
    __syncthreads();
    float mx = shared_max;

    float s = 0.0f;
    for (int c = threadIdx.x; c < cols; c += BLOCK) s += expf(r[c] - mx);
    s = wave_sum(s);
    __syncthreads();
    if (lane == 0) partial[wave] = s;
    __syncthreads();
    if (threadIdx.x == 0) {
        float tot = 0.0f;
        for (int w = 0; w < nwaves; ++w) tot += partial[w];
        out[blockIdx.x] = mx + logf(tot);
    }
}

extern "C" void logsumexp_xor(const float* x, float* out, int rows, int cols) {
    float *dx, *dout;
    hipMalloc(&dx, (size_t)rows * cols * sizeof(float));
    hipMalloc(&dout, rows * sizeof(float));
    hipMemcpy(dx, x, (size_t)rows * cols * sizeof(float), hipMemcpyHostToDevice);
    lse_kernel<<<rows, BLOCK>>>(dx, dout, cols);
    hipMemcpy(out, dout, rows * sizeof(float), hipMemcpyDeviceToHost);
    hipFree(dx);
    hipFree(dout);
}
