// z[r, :] = [a[r, :], b[r, :]] for a[rows, ca] and b[rows, cb]: one block row per matrix row, threads stride columns.
#include <hip/hip_runtime.h>

__global__ void concat_kernel(const float* a, const float* b, float* z, int rows, int ca, int cb) {
    const int r = hipBlockIdx_y;
    const int width = ca + cb;
    for (int c = hipBlockIdx_x * hipBlockDim_x + hipThreadIdx_x; c < width; c += hipBlockDim_x * hipGridDim_x) {
        z[static_cast<size_t>(r) * width + c] =
            c < ca ? a[static_cast<size_t>(r) * ca + c] : b[static_cast<size_t>(r) * cb + (c - ca)];
    }
}

extern "C" void concat_cols(const float* a, const float* b, float* z, int rows, int ca, int cb) {
    float *da = nullptr, *db = nullptr, *dz = nullptr;
    hipMalloc(reinterpret_cast<void**>(&da), sizeof(float) * rows * ca);
    hipMalloc(reinterpret_cast<void**>(&db), sizeof(float) * rows * cb);
    hipMalloc(reinterpret_cast<void**>(&dz), sizeof(float) * rows * (ca + cb));
    hipMemcpy(da, a, sizeof(float) * rows * ca, hipMemcpyHostToDevice);
    hipMemcpy(db, b, sizeof(float) * rows * cb, hipMemcpyHostToDevice);
    hipLaunchKernelGGL(concat_kernel, dim3(2, rows), dim3(64), 0, 0, da, db, dz, rows, ca, cb);
    hipMemcpy(z, dz, sizeof(float) * rows * (ca + cb), hipMemcpyDeviceToHost);
    hipFree(da);
    hipFree(db);
    hipFree(dz);
}
