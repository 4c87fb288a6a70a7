// sign(x): +1, -1, or 0 at zero. One thread per element, early return past the end.
// (No explicit include: nvcc pre-includes the CUDA runtime for .cu files.)

#define THREADS_PER_BLOCK 128
#define GLOBAL_THREAD_ID() (blockIdx.x * blockDim.x + threadIdx.x)

__global__ void sign_kernel(const float* x, float* y, int n) {
    int i = GLOBAL_THREAD_ID();
    if (i >= n) return;
    float v = x[i];
    y[i] = (float)((v > 0.0f) - (v < 0.0f));
}

extern "C" void sign(const float* x, float* y, int n) {
    if (n <= 0) return;
    float *dx, *dy;
    cudaMalloc(&dx, n * sizeof(float));
    cudaMalloc(&dy, n * sizeof(float));
    cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice);
    sign_kernel<<<(n + THREADS_PER_BLOCK - 1) / THREADS_PER_BLOCK, THREADS_PER_BLOCK>>>(dx, dy, n);
    cudaMemcpy(y, dy, n * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(dy);
}
