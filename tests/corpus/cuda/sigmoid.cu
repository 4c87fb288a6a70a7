#include <cuda_runtime.h>
#include <cstdio>

#define CUDA_CHECK(call)                                                                   \
    do {                                                                                   \
        cudaError_t err_ = (call);                                                         \
        if (err_ != cudaSuccess) {                                                         \
            fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(err_), __FILE__, \
                    __LINE__);                                                             \
        }                                                                                  \
    } while (0)

// Logistic function; expf (not __expf) keeps full single precision for large |x|.
__device__ __forceinline__ float logistic(float v) { return 1.0f / (1.0f + expf(-v)); }

__global__ void sigmoid_kernel(const float* __restrict__ x, float* __restrict__ y, const int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        y[i] = logistic(x[i]);
    }
}

extern "C" void sigmoid(const float* x, float* y, int n) {
    if (n <= 0) return;
    const size_t bytes = sizeof(float) * n;
    float *d_x, *d_y;
    CUDA_CHECK(cudaMalloc(&d_x, bytes));
    CUDA_CHECK(cudaMalloc(&d_y, bytes));
    CUDA_CHECK(cudaMemcpy(d_x, x, bytes, cudaMemcpyHostToDevice));
    const dim3 block(512);
    const dim3 grid((n + block.x - 1) / block.x);
    sigmoid_kernel<<<grid, block>>>(d_x, d_y, n);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaMemcpy(y, d_y, bytes, cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaFree(d_x));
    CUDA_CHECK(cudaFree(d_y));
}
