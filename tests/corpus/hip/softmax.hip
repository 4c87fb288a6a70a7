// Row softmax of x[rows, cols]: one work-group per row, three sweeps over the row (max, sum of exp, write).
// Block reductions: butterfly (__shfl_xor) inside each 64-wide wavefront, then one LDS slot per wavefront.
#include <hip/hip_runtime.h>
#include <cfloat>

constexpr int kBlock = 256;
constexpr int kWave = 64;
constexpr int kWaves = kBlock / kWave;

__device__ __forceinline__ float wave_max(float v) {
    for (int offset = kWave / 2; offset > 0; offset >>= 1) {
        v = fmaxf(v, __shfl_xor(v, offset));
    }
    return v;
}

__device__ __forceinline__ float wave_sum(float v) {
    for (int offset = kWave / 2; offset > 0; offset >>= 1) {
        v += __shfl_xor(v, offset);
    }
    return v;
}

// Every work-item returns the block-wide result. `scratch` must hold kWaves floats; the trailing barrier
// lets the caller reuse it immediately.
template <bool IsMax>
__device__ float block_reduce(float v, float* scratch) {
    const int lane = threadIdx.x % kWave;
    const int wave = threadIdx.x / kWave;
    v = IsMax ? wave_max(v) : wave_sum(v);
    if (lane == 0) scratch[wave] = v;
    __syncthreads();
    float r = scratch[0];
#pragma unroll
    for (int w = 1; w < kWaves; ++w) {
        r = IsMax ? fmaxf(r, scratch[w]) : r + scratch[w];
    }
    __syncthreads();
    return r;
}

__global__ void __launch_bounds__(kBlock) softmax_rows(const float* __restrict__ x, float* __restrict__ y, int cols) {
    __shared__ float scratch[kWaves];
    const float* row_in = x + static_cast<size_t>(blockIdx.x) * cols;
    float* row_out = y + static_cast<size_t>(blockIdx.x) * cols;

    float local_max = -FLT_MAX;
    for (int c = threadIdx.x; c < cols; c += kBlock) local_max = fmaxf(local_max, row_in[c]);
    const float row_max = block_reduce<true>(local_max, scratch);

    float local_sum = 0.0f;
    for (int c = threadIdx.x; c < cols; c += kBlock) local_sum += expf(row_in[c] - row_max);
    const float inv_sum = 1.0f / block_reduce<false>(local_sum, scratch);

    for (int c = threadIdx.x; c < cols; c += kBlock) row_out[c] = expf(row_in[c] - row_max) * inv_sum;
}

extern "C" void softmax(const float* x, float* y, int rows, int cols) {
    const size_t bytes = static_cast<size_t>(rows) * cols * sizeof(float);
    float *d_x, *d_y;
    hipMalloc(&d_x, bytes);
    hipMalloc(&d_y, bytes);
    hipMemcpy(d_x, x, bytes, hipMemcpyHostToDevice);
    hipLaunchKernelGGL(softmax_rows, dim3(rows), dim3(kBlock), 0, 0, d_x, d_y, cols);
    hipMemcpy(y, d_y, bytes, hipMemcpyDeviceToHost);
    hipFree(d_x);
    hipFree(d_y);
}
