"""Block kernels (passes.bind_blocks): a SIMT kernel with barriers goes through the loop form and comes back as a
thread block (blockIdx/threadIdx, __shared__ arrays, __syncthreads between phases), and runs like the source."""
from __future__ import annotations

import numpy as np
import pytest

from kernel_ir.diagnostics import XpilerError
from kernel_ir.executor import execute
from passes.translate import translate

ROW_MAX = """
#include <hip/hip_runtime.h>
#include <cfloat>
#define THREADS 64
__global__ void row_max_kernel(const float* x, float* out, int cols) {
    __shared__ float partial[THREADS];
    const float* row = x + (size_t)blockIdx.x * cols;
    float best = -FLT_MAX;
    for (int c = threadIdx.x; c < cols; c += THREADS) best = fmaxf(best, row[c]);
    partial[threadIdx.x] = best;
    __syncthreads();
    for (int half = THREADS / 2; half > 0; half /= 2) {
        if (threadIdx.x < half) partial[threadIdx.x] = fmaxf(partial[threadIdx.x], partial[threadIdx.x + half]);
        __syncthreads();
    }
    if (threadIdx.x == 0) out[blockIdx.x] = partial[0];
}
extern "C" void row_max(const float* x, float* out, int rows, int cols) {
    float *dx, *dout;
    hipMalloc(&dx, (size_t)rows * cols * sizeof(float));
    hipMalloc(&dout, rows * sizeof(float));
    hipMemcpy(dx, x, (size_t)rows * cols * sizeof(float), hipMemcpyHostToDevice);
    hipLaunchKernelGGL(row_max_kernel, dim3(rows), dim3(THREADS), 0, 0, dx, dout, cols);
    hipMemcpy(out, dout, rows * sizeof(float), hipMemcpyDeviceToHost);
    hipFree(dx);
    hipFree(dout);
}
"""

TILE_SUMS = """
#include <cuda_runtime.h>
__global__ void tile_sums_kernel(const float* x, float* out, int n) {
    __shared__ float tile[8][8];
    int r = blockIdx.y * 8 + threadIdx.y, c = blockIdx.x * 8 + threadIdx.x;
    tile[threadIdx.y][threadIdx.x] = (r < n && c < n) ? x[r * n + c] : 0.0f;
    __syncthreads();
    if (threadIdx.x == 0) {
        float s = 0.0f;
        for (int k = 0; k < 8; k++) s += tile[threadIdx.y][k];
        if (r < n) out[(blockIdx.x) * n + r] = s;
    }
}
extern "C" void tile_sums(const float* x, float* out, int n) {
    float *dx, *dout;
    int tiles = (n + 7) / 8;
    cudaMalloc(&dx, n * n * sizeof(float));
    cudaMalloc(&dout, tiles * n * sizeof(float));
    cudaMemcpy(dx, x, n * n * sizeof(float), cudaMemcpyHostToDevice);
    tile_sums_kernel<<<dim3(tiles, tiles), dim3(8, 8)>>>(dx, dout, n);
    cudaMemcpy(out, dout, tiles * n * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(dout);
}
"""


def run_both(source: str, source_dialect: str, target: str, entry: str, args: list) -> str:
    code = translate(source, target, source_dialect, native_compile=False).code
    want = execute(source, source_dialect, entry, args)
    got = execute(code, target, entry, args)
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=code)
    return code


@pytest.mark.parametrize("target", ["cuda", "hip"])
def test_a_block_reduction_comes_back_as_a_thread_block(target):
    rng = np.random.default_rng(0)
    rows, cols = 5, 203
    args = [("x", rng.uniform(-1, 1, rows * cols).astype(np.float32)), ("out", np.zeros(rows, np.float32)),
            ("rows", np.int32(rows)), ("cols", np.int32(cols))]
    code = run_both(ROW_MAX, "hip", target, "row_max", args)
    assert "__shared__ float partial[64];" in code and "threadIdx.x" in code
    assert code.count("__syncthreads()") >= 2 and "dim3(64, 1, 1)" in code


def test_two_dimensional_blocks_keep_their_axes():
    rng = np.random.default_rng(1)
    n = 19
    tiles = (n + 7) // 8
    args = [("x", rng.uniform(-1, 1, n * n).astype(np.float32)), ("out", np.zeros(tiles * n, np.float32)),
            ("n", np.int32(n))]
    code = run_both(TILE_SUMS, "cuda", "hip", "tile_sums", args)
    assert "__shared__ float tile[8][8];" in code and "dim3(8, 8, 1)" in code
    assert "blockIdx.y" in code and "threadIdx.y" in code


def run_time_block_size(source: str) -> str:
    source = source.replace("#define THREADS 64", "").replace("partial[THREADS]", "partial[1024]")
    source = source.replace("c += THREADS", "c += blockDim.x").replace("THREADS / 2", "blockDim.x / 2")
    return source.replace("dim3(THREADS)", "dim3(cols < 64 ? 32 : 64)")


def test_a_block_size_known_only_at_run_time_falls_back_to_a_thread_per_block():
    code = translate(run_time_block_size(ROW_MAX), "cuda", "hip", native_compile=False).code
    assert "__syncthreads" not in code and "float partial[1024];" in code


def test_per_thread_values_kept_across_barriers_need_a_constant_block_size():
    """They become arrays over the block's threads: sized at run time, which device code cannot declare."""
    source = run_time_block_size(ROW_MAX).replace("float best = -FLT_MAX;", "float best = -FLT_MAX; int me = threadIdx.x;")
    source = source.replace("if (threadIdx.x == 0) out", "if (me == 0) out")
    with pytest.raises(XpilerError) as err:
        translate(source, "cuda", "hip", native_compile=False)
    assert err.value.code == "XP525"
