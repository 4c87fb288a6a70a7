// Row max of x[rows, cols]. A reduction template parameterized by the combine operator; one wavefront per
// row, grid-stride over rows so any row count works with a bounded grid.
#include <hip/hip_runtime.h>
#include <cfloat>

struct MaxOp {
    static constexpr float identity = -FLT_MAX;
    __device__ static float apply(float a, float b) { return fmaxf(a, b); }
};

template <typename Op>
__device__ float wave_reduce(float v) {
    for (int offset = warpSize >> 1; offset > 0; offset >>= 1) v = Op::apply(v, __shfl_xor(v, offset));
    return v;
}

template <typename Op, int WAVES_PER_BLOCK>
__global__ void __launch_bounds__(WAVES_PER_BLOCK * 64)
row_reduce_kernel(const float* __restrict__ x, float* __restrict__ y, int rows, int cols) {
    const int lane = threadIdx.x & 63;
    const int wave = threadIdx.x >> 6;
    for (int row = blockIdx.x * WAVES_PER_BLOCK + wave; row < rows; row += gridDim.x * WAVES_PER_BLOCK) {
        const float* p = x + static_cast<size_t>(row) * cols;
        float v = Op::identity;
        for (int c = lane; c < cols; c += 64) v = Op::apply(v, p[c]);
        v = wave_reduce<Op>(v);
        if (lane == 0) y[row] = v;
    }
}

extern "C" void reduce_max(const float* x, float* y, int rows, int cols) {
    constexpr int kWaves = 4;
    float *d_x, *d_y;
    hipMalloc(&d_x, sizeof(float) * static_cast<size_t>(rows) * cols);
    hipMalloc(&d_y, sizeof(float) * static_cast<size_t>(rows));
    hipMemcpy(d_x, x, sizeof(float) * static_cast<size_t>(rows) * cols, hipMemcpyHostToDevice);

    int grid = (rows + kWaves - 1) / kWaves;
    if (grid > 1024) grid = 1024;
    hipLaunchKernelGGL((row_reduce_kernel<MaxOp, kWaves>), dim3(grid), dim3(kWaves * 64), 0, 0, d_x, d_y, rows, cols);

    hipMemcpy(y, d_y, sizeof(float) * static_cast<size_t>(rows), hipMemcpyDeviceToHost);
    hipFree(d_x);
    hipFree(d_y);
}
