#include <hip/hip_runtime.h>

// Index of the largest element of each row (first one on ties); one block per row, shared-memory tree.
template <int BLOCK>
__global__ void argmax_kernel(const float* __restrict__ x, int* __restrict__ out, int rows, int cols) {
    __shared__ float best_val[BLOCK];
    __shared__ int best_idx[BLOCK];
    const int row = blockIdx.x;
    const int t = threadIdx.x;
    const float* r = x + (size_t)row * cols;
    float v = -3.402823466e38f;
    int idx = 0x7fffffff;
    for (int c = t; c < cols; c += BLOCK) {
        float e = r[c];
        if (e > v) { v = e; idx = c; }
    }
    best_val[t] = v;
    best_idx[t] = idx;
    __syncthreads();
    for (int s = BLOCK / 2; s > 0; s >>= 1) {
        if (t < s) {
            float ov = best_val[t + s];
            int oi = best_idx[t + s];
            if (ov > best_val[t] || (ov == best_val[t] && oi < best_idx[t])) {
                best_val[t] = ov;
                best_idx[t] = oi;
            }
        }
        __syncthreads();
    }
    if (t == 0) out[row] = best_idx[0];
}

extern "C" void argmax_rows(const float* x, int* out, int rows, int cols) {
    float* dx;
    int* dout;
    hipMalloc(&dx, sizeof(float) * rows * cols);
    hipMalloc(&dout, sizeof(int) * rows);
    hipMemcpy(dx, x, sizeof(float) * rows * cols, hipMemcpyHostToDevice);
    hipLaunchKernelGGL(argmax_kernel<128>, dim3(rows), dim3(128), 0, 0, dx, dout, rows, cols);
    hipMemcpy(out, dout, sizeof(int) * rows, hipMemcpyDeviceToHost);
    hipFree(dx);
    hipFree(dout);
}
