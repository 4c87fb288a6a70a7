#include <cuda_runtime.h>

// c = a + b. The bulk is processed as float4 (16-byte loads/stores, cudaMalloc pointers are 256-byte
// aligned), with a grid-stride loop so any grid size covers any n; the last n % 4 elements are scalar.
__global__ void add_f32x4_kernel(const float* __restrict__ a, const float* __restrict__ b,
                                 float* __restrict__ c, int n) {
    const int n_vec = n >> 2;
    const float4* __restrict__ a4 = reinterpret_cast<const float4*>(a);
    const float4* __restrict__ b4 = reinterpret_cast<const float4*>(b);
    float4* __restrict__ c4 = reinterpret_cast<float4*>(c);
    const int tid = blockIdx.x * blockDim.x + threadIdx.x;
    const int stride = gridDim.x * blockDim.x;

    for (int i = tid; i < n_vec; i += stride) {
        const float4 va = a4[i];
        const float4 vb = b4[i];
        c4[i] = make_float4(va.x + vb.x, va.y + vb.y, va.z + vb.z, va.w + vb.w);
    }

    const int tail = (n_vec << 2) + tid;
    if (tail < n) {
        c[tail] = a[tail] + b[tail];
    }
}

extern "C" void add(const float* a, const float* b, float* c, int n) {
    if (n <= 0) return;
    const size_t bytes = (size_t)n * sizeof(float);
    float *d_a, *d_b, *d_c;
    cudaMalloc(&d_a, bytes);
    cudaMalloc(&d_b, bytes);
    cudaMalloc(&d_c, bytes);
    cudaMemcpy(d_a, a, bytes, cudaMemcpyHostToDevice);
    cudaMemcpy(d_b, b, bytes, cudaMemcpyHostToDevice);

    const int threads = 256;
    int blocks = ((n >> 2) + threads - 1) / threads;
    if (blocks < 1) blocks = 1;
    if (blocks > 1024) blocks = 1024;
    add_f32x4_kernel<<<blocks, threads>>>(d_a, d_b, d_c, n);

    cudaMemcpy(c, d_c, bytes, cudaMemcpyDeviceToHost);
    cudaFree(d_a);
    cudaFree(d_b);
    cudaFree(d_c);
}
