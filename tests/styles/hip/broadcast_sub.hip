// z[r, c] = 2 a[r, c] - b[c] on 16x16 thread tiles, the column vector broadcast over rows.
#include <hip/hip_runtime.h>

__global__ void broadcast_sub_kernel(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ z,
                                     int rows, int cols) {
    int col = blockIdx.x * blockDim.x + threadIdx.x;
    int row = blockIdx.y * blockDim.y + threadIdx.y;
    if (row < rows && col < cols) {
        size_t at = static_cast<size_t>(row) * cols + col;
        z[at] = 2.0f * a[at] - b[col];
    }
}

extern "C" void broadcast_sub(const float* a, const float* b, float* z, int rows, int cols) {
    const size_t mat = static_cast<size_t>(rows) * cols * sizeof(float);
    const size_t vec = static_cast<size_t>(cols) * sizeof(float);
    float *da, *db, *dz;
    hipMalloc(&da, mat);
    hipMalloc(&db, vec);
    hipMalloc(&dz, mat);
    hipMemcpy(da, a, mat, hipMemcpyHostToDevice);
    hipMemcpy(db, b, vec, hipMemcpyHostToDevice);
    dim3 threads(16, 16);
    dim3 blocks((cols + 15) / 16, (rows + 15) / 16);
    hipLaunchKernelGGL(broadcast_sub_kernel, blocks, threads, 0, 0, da, db, dz, rows, cols);
    hipDeviceSynchronize();
    hipMemcpy(z, dz, mat, hipMemcpyDeviceToHost);
    hipFree(da);
    hipFree(db);
    hipFree(dz);
}
