#include <cuda_runtime.h>

// Per-block privatized histogram in dynamic shared memory, merged into the global bins with atomics.
__global__ void hist_kernel(const int* __restrict__ values, int* __restrict__ bins, int n, int nbins) {
    extern __shared__ int local_bins[];
    for (int b = threadIdx.x; b < nbins; b += blockDim.x) local_bins[b] = 0;
    __syncthreads();
    int stride = blockDim.x * gridDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        int v = values[i];
        if (v >= 0 && v < nbins) atomicAdd(&local_bins[v], 1);
    }
    __syncthreads();
    for (int b = threadIdx.x; b < nbins; b += blockDim.x)
        if (local_bins[b]) atomicAdd(&bins[b], local_bins[b]);
}

extern "C" void histogram_dyn(const int* values, int* bins, int n, int nbins) {
    int *d_values, *d_bins;
    cudaMalloc(&d_values, sizeof(int) * n);
    cudaMalloc(&d_bins, sizeof(int) * nbins);
    cudaMemcpy(d_values, values, sizeof(int) * n, cudaMemcpyHostToDevice);
    cudaMemset(d_bins, 0, sizeof(int) * nbins);
    const int block = 256;
    int grid = (n + block - 1) / block;
    if (grid > 32) grid = 32;
    if (grid < 1) grid = 1;
    hist_kernel<<<grid, block, nbins * sizeof(int)>>>(d_values, d_bins, n, nbins);
    cudaMemcpy(bins, d_bins, sizeof(int) * nbins, cudaMemcpyDeviceToHost);
    cudaFree(d_values);
    cudaFree(d_bins);
}
