// Row gather: out[i, :] = table[idx[i], :] for table[rows, cols].
// One wavefront per gathered row (index read once, broadcast by the hardware), lanes copy the row.
#include <hip/hip_runtime.h>

__global__ void __launch_bounds__(256)
gather_rows(const float* __restrict__ table, const int* __restrict__ idx, float* __restrict__ out, int rows, int cols,
            int n_idx) {
    const int lane = threadIdx.x % warpSize;
    const int waves_per_block = blockDim.x / warpSize;
    const int first = blockIdx.x * waves_per_block + threadIdx.x / warpSize;
    for (int i = first; i < n_idx; i += gridDim.x * waves_per_block) {
        const int src_row = idx[i];
        if (src_row < 0 || src_row >= rows) continue;  // out-of-range index: leave the row untouched
        const float* src = table + static_cast<size_t>(src_row) * cols;
        float* dst = out + static_cast<size_t>(i) * cols;
        for (int c = lane; c < cols; c += warpSize) dst[c] = src[c];
    }
}

extern "C" void gather(const float* table, const int* idx, float* out, int rows, int cols, int n_idx) {
    const size_t table_bytes = sizeof(float) * static_cast<size_t>(rows) * cols;
    const size_t out_bytes = sizeof(float) * static_cast<size_t>(n_idx) * cols;
    float *d_table, *d_out;
    int* d_idx;
    hipMalloc(&d_table, table_bytes);
    hipMalloc(&d_idx, sizeof(int) * n_idx);
    hipMalloc(&d_out, out_bytes);
    hipMemcpy(d_table, table, table_bytes, hipMemcpyHostToDevice);
    hipMemcpy(d_idx, idx, sizeof(int) * n_idx, hipMemcpyHostToDevice);
    hipMemset(d_out, 0, out_bytes);

    const int waves_per_block = 4;
    int grid = (n_idx + waves_per_block - 1) / waves_per_block;
    if (grid > 1024) grid = 1024;
    hipLaunchKernelGGL(gather_rows, dim3(grid), dim3(waves_per_block * 64), 0, 0, d_table, d_idx, d_out, rows, cols,
                       n_idx);

    hipMemcpy(out, d_out, out_bytes, hipMemcpyDeviceToHost);
    hipFree(d_table);
    hipFree(d_idx);
    hipFree(d_out);
}
