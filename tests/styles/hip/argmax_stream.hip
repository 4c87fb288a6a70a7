// y[r] = index of the largest element of row r (the first one on ties): one 64-wide wavefront per row reduces
// (value, index) pairs with __shfl_xor; the work is queued on a stream the host creates and waits for.
#include <hip/hip_runtime.h>

__global__ void __launch_bounds__(64) argmax_kernel(const float* x, int* y, int cols) {
    const float* row = x + (size_t)hipBlockIdx_x * cols;
    float best = -3.0e38f;
    int where = cols;
    for (int c = hipThreadIdx_x; c < cols; c += 64) {
        if (row[c] > best) {
            best = row[c];
            where = c;
        }
    }
    for (int mask = 32; mask > 0; mask >>= 1) {
        const float other = __shfl_xor(best, mask);
        const int other_at = __shfl_xor(where, mask);
        if (other > best || (other == best && other_at < where)) {
            best = other;
            where = other_at;
        }
    }
    if (hipThreadIdx_x == 0) y[hipBlockIdx_x] = where;
}

extern "C" void argmax_stream(const float* x, int* y, int rows, int cols) {
    hipStream_t stream;
    hipStreamCreate(&stream);
    float* dx;
    int* dy;
    hipMalloc(&dx, sizeof(float) * rows * cols);
    hipMalloc(&dy, sizeof(int) * rows);
    hipMemcpyAsync(dx, x, sizeof(float) * rows * cols, hipMemcpyHostToDevice, stream);
    hipLaunchKernelGGL(argmax_kernel, dim3(rows), dim3(64), 0, stream, dx, dy, cols);
    hipMemcpyAsync(y, dy, sizeof(int) * rows, hipMemcpyDeviceToHost, stream);
    hipStreamSynchronize(stream);
    hipStreamDestroy(stream);
    hipFree(dx);
    hipFree(dy);
}
