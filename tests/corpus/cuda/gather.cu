#include <cuda_runtime.h>

// Row gather out[i, :] = table[idx[i], :]. One block per gathered row: the index is loaded once and is
// block-uniform, and the row copy is a coalesced strided loop. Out-of-range indices leave the row as zeros
// instead of reading outside the table.
__global__ void gather_rows_kernel(const float* __restrict__ table, const int* __restrict__ idx,
                                   float* __restrict__ out, int rows, int cols) {
    const int i = blockIdx.x;
    const int src = idx[i];
    float* __restrict__ dst = out + (size_t)i * cols;
    if (src < 0 || src >= rows) {
        for (int c = threadIdx.x; c < cols; c += blockDim.x) dst[c] = 0.0f;
        return;
    }
    const float* __restrict__ row = table + (size_t)src * cols;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) dst[c] = row[c];
}

extern "C" void gather(const float* table, const int* idx, float* out, int rows, int cols, int n_idx) {
    if (n_idx <= 0 || cols <= 0) return;
    float *d_table, *d_out;
    int* d_idx;
    const size_t table_bytes = (size_t)rows * cols * sizeof(float);
    const size_t out_bytes = (size_t)n_idx * cols * sizeof(float);
    cudaMalloc(&d_table, table_bytes > 0 ? table_bytes : sizeof(float));
    cudaMalloc(&d_idx, n_idx * sizeof(int));
    cudaMalloc(&d_out, out_bytes);
    cudaMemcpy(d_table, table, table_bytes, cudaMemcpyHostToDevice);
    cudaMemcpy(d_idx, idx, n_idx * sizeof(int), cudaMemcpyHostToDevice);

    const int threads = cols >= 128 ? 128 : 32;
    gather_rows_kernel<<<n_idx, threads>>>(d_table, d_idx, d_out, rows, cols);

    cudaMemcpy(out, d_out, out_bytes, cudaMemcpyDeviceToHost);
    cudaFree(d_table);
    cudaFree(d_idx);
    cudaFree(d_out);
}
