// Row scatter: out[idx[i], :] = src[i, :]; indices are distinct, rows of out not named by idx keep their
// values (out is copied in first). 2D grid: y = source row, x = column tiles.
#include <hip/hip_runtime.h>

__global__ void scatter_rows(const float* __restrict__ src, const int* __restrict__ idx, float* __restrict__ out,
                             int n_idx, int cols, int rows) {
    const int i = blockIdx.y;
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n_idx || c >= cols) return;
    const int dst_row = idx[i];
    if (dst_row < 0 || dst_row >= rows) return;
    out[static_cast<size_t>(dst_row) * cols + c] = src[static_cast<size_t>(i) * cols + c];
}

extern "C" void scatter(const float* src, const int* idx, float* out, int n_idx, int cols, int rows) {
    const size_t src_bytes = sizeof(float) * static_cast<size_t>(n_idx) * cols;
    const size_t out_bytes = sizeof(float) * static_cast<size_t>(rows) * cols;
    float* d_src;
    int* d_idx;
    float* d_out;
    hipMalloc(&d_src, src_bytes);
    hipMalloc(&d_idx, sizeof(int) * n_idx);
    hipMalloc(&d_out, out_bytes);
    hipMemcpy(d_src, src, src_bytes, hipMemcpyHostToDevice);
    hipMemcpy(d_idx, idx, sizeof(int) * n_idx, hipMemcpyHostToDevice);
    hipMemcpy(d_out, out, out_bytes, hipMemcpyHostToDevice);

    const int threads = 128;
    const dim3 grid((cols + threads - 1) / threads, n_idx);
    scatter_rows<<<grid, threads>>>(d_src, d_idx, d_out, n_idx, cols, rows);

    hipMemcpy(out, d_out, out_bytes, hipMemcpyDeviceToHost);
    hipFree(d_src);
    hipFree(d_idx);
    hipFree(d_out);
}
