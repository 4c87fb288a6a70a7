#include <cuda_runtime.h>

/* c = a - b with a grid-stride loop (size_t indices so the stride arithmetic cannot overflow). */
__global__ void sub_kernel(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ c,
                           int n)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (size_t)n;
         i += (size_t)blockDim.x * gridDim.x)
    {
        c[i] = a[i] - b[i];
    }
}

extern "C" void sub(const float* a, const float* b, float* c, int n)
{
    if (n <= 0) return;
    size_t bytes = sizeof(float) * (size_t)n;
    float* dev_a = nullptr;
    float* dev_b = nullptr;
    float* dev_c = nullptr;
    cudaMalloc((void**)&dev_a, bytes);
    cudaMalloc((void**)&dev_b, bytes);
    cudaMalloc((void**)&dev_c, bytes);
    cudaMemcpy(dev_a, a, bytes, cudaMemcpyHostToDevice);
    cudaMemcpy(dev_b, b, bytes, cudaMemcpyHostToDevice);

    int device = 0, sm_count = 0;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&sm_count, cudaDevAttrMultiProcessorCount, device);
    if (sm_count <= 0) sm_count = 1;
    const int block = 256;
    int grid = (n + block - 1) / block;
    if (grid > sm_count * 8) grid = sm_count * 8;  // a few waves; the loop strides over the rest
    sub_kernel<<<grid, block>>>(dev_a, dev_b, dev_c, n);

    cudaMemcpy(c, dev_c, bytes, cudaMemcpyDeviceToHost);
    cudaFree(dev_a);
    cudaFree(dev_b);
    cudaFree(dev_c);
}
