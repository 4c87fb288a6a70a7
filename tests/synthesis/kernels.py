"""Small kernels and scripted model answers for the synthesis tests (written for these tests)."""
from __future__ import annotations

SOURCE = """#include <cuda_runtime.h>

__global__ void scaled_transpose_kernel(const float* x, float* y, int rows, int cols) {
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    int i = blockIdx.y;
    if (j < cols) {
        y[j * rows + i] = 2.0f * x[i * cols + j];
    }
}

extern "C" void scaled_transpose(const float* x, float* y, int rows, int cols) {
    float *dx, *dy;
    cudaMalloc(&dx, rows * cols * sizeof(float));
    cudaMalloc(&dy, rows * cols * sizeof(float));
    cudaMemcpy(dx, x, rows * cols * sizeof(float), cudaMemcpyHostToDevice);
    scaled_transpose_kernel<<<dim3((cols + 63) / 64, rows), 64>>>(dx, dy, rows, cols);
    cudaMemcpy(y, dy, rows * cols * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(dy);
}
"""
SIZES = {"rows": 7, "cols": 5}  # rows > cols: a transposed read stays inside x

HANDWRITTEN_CPP = """extern "C" void scaled_transpose(const float* x, float* y, int rows, int cols) {
    #pragma omp parallel for
    for (int i = 0; i < rows; i += 1) {
        for (int j = 0; j < cols; j += 1) {
            y[j * rows + i] = 2.0f * x[i * cols + j];
        }
    }
}
"""

HANDWRITTEN_BANG = """__mlu_global__ void scaled_transpose(const float* x, float* y, int rows, int cols) {
    __nram__ float row[256];
    for (int i = taskId; i < rows; i += taskDim) {
        __memcpy(row, x + i * cols, cols * sizeof(float), GDRAM2NRAM);
        __bang_mul_scalar(row, row, 2.0f, cols - 1);
        for (int j = 0; j < cols; j += 1) {
            y[j * rows + i] = row[j];
        }
    }
}
"""


def fenced(code: str, language: str = "cpp") -> str:
    return f"Here is the program.\n\n```{language}\n{code}```\n"
