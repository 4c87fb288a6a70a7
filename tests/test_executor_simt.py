"""CUDA/HIP semantics of the CPU executor, each checked against numpy on kernels written for the purpose."""
from __future__ import annotations

import numpy as np
import pytest

from kernel_ir.diagnostics import XpilerError
from kernel_ir.executor import execute

RNG = np.random.default_rng(7)


def f32(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


BLOCK_REVERSE = r"""
__global__ void reverse_blocks(const float* in, float* out, int n) {
    __shared__ float tile[128];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) tile[threadIdx.x] = in[i];
    __syncthreads();                       // every thread must see the whole tile
    int j = blockIdx.x * blockDim.x + (blockDim.x - 1 - threadIdx.x);
    if (j < n) out[i] = tile[blockDim.x - 1 - threadIdx.x];
}
"""


def test_shared_memory_and_barrier_reverse_each_block() -> None:
    x = f32(512)
    out = execute(BLOCK_REVERSE, "cuda", "reverse_blocks", [("in", x), ("out", np.zeros_like(x)), ("n", np.int32(512))],
                  launch={"grid": 4, "block": 128})["out"]
    np.testing.assert_array_equal(out, x.reshape(4, 128)[:, ::-1].reshape(-1))


WARP_SUM = r"""
#include <cuda_runtime.h>
__device__ __forceinline__ float warp_sum(float v) {
    #pragma unroll
    for (int offset = warpSize / 2; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffff, v, offset);
    return v;
}
__global__ void row_sums(const float* x, float* y, int cols) {
    __shared__ float partial[32];
    float acc = 0.f;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) acc += x[blockIdx.x * cols + c];
    acc = warp_sum(acc);
    if (threadIdx.x % warpSize == 0) partial[threadIdx.x / warpSize] = acc;
    __syncthreads();
    if (threadIdx.x < warpSize) {
        float v = threadIdx.x < blockDim.x / warpSize ? partial[threadIdx.x] : 0.f;
        v = warp_sum(v);
        if (threadIdx.x == 0) y[blockIdx.x] = v;
    }
}
extern "C" void row_sums_host(const float* x, float* y, int rows, int cols) {
    float *dx, *dy;
    cudaMalloc(&dx, rows * cols * sizeof(float));
    cudaMalloc(&dy, rows * sizeof(float));
    cudaMemcpy(dx, x, rows * cols * sizeof(float), cudaMemcpyHostToDevice);
    row_sums<<<rows, 256>>>(dx, dy, cols);
    cudaMemcpy(y, dy, rows * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dx); cudaFree(dy);
}
"""


def test_warp_shuffle_reduction_through_host_launcher() -> None:
    x = f32(9, 1000)
    y = execute(WARP_SUM, "cuda", "row_sums_host", [("x", x), ("y", np.zeros(9, np.float32)),
                                                   ("rows", np.int32(9)), ("cols", np.int32(1000))])["y"]
    np.testing.assert_allclose(y, x.sum(axis=1), rtol=1e-5, atol=1e-4)


HIP_WAVE_SUM = r"""
#include <hip/hip_runtime.h>
__global__ void wave_ids(int* lane_sum, int* width) {
    int v = __shfl_xor(int(threadIdx.x), 1);   // neighbour's id inside a 64-wide wavefront
    lane_sum[threadIdx.x] = v;
    if (threadIdx.x == 0) width[0] = warpSize;
}
extern "C" void run(int* lane_sum, int* width) {
    int *d_sum, *d_width;
    hipMalloc(&d_sum, 128 * sizeof(int));
    hipMalloc(&d_width, sizeof(int));
    hipLaunchKernelGGL(wave_ids, dim3(1), dim3(128), 0, 0, d_sum, d_width);
    hipMemcpy(lane_sum, d_sum, 128 * sizeof(int), hipMemcpyDeviceToHost);
    hipMemcpy(width, d_width, sizeof(int), hipMemcpyDeviceToHost);
}
"""


def test_hip_wavefront_is_64_wide() -> None:
    out = execute(HIP_WAVE_SUM, "hip", "run", [("lane_sum", np.zeros(128, np.int32)), ("width", np.zeros(1, np.int32))])
    np.testing.assert_array_equal(out["lane_sum"], np.arange(128) ^ 1)
    assert out["width"][0] == 64


DYNAMIC_SHARED_TEMPLATE = r"""
template <int BLOCK>
__global__ void scale_via_smem(const float* __restrict__ x, float* __restrict__ y, int n, float alpha) {
    extern __shared__ float buffer[];
    for (int i = blockIdx.x * BLOCK + threadIdx.x; i < n; i += gridDim.x * BLOCK) {   // grid-stride loop
        buffer[threadIdx.x] = x[i];
        __syncthreads();
        y[i] = alpha * buffer[threadIdx.x];
        __syncthreads();
    }
}
__constant__ float c_alpha[1];
extern "C" void scale(const float* x, float* y, int n) {
    float alpha = 3.0f, *dx, *dy;
    cudaMemcpyToSymbol(c_alpha, &alpha, sizeof(float));
    cudaMalloc((void**)&dx, n * sizeof(float));
    cudaMalloc((void**)&dy, n * sizeof(float));
    cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice);
    for (int pass = 0; pass < 2; ++pass)
        scale_via_smem<64><<<dim3(3), dim3(64), 64 * sizeof(float)>>>(pass ? dy : dx, dy, n, pass ? 0.5f : alpha);
    cudaMemcpy(y, dy, n * sizeof(float), cudaMemcpyDeviceToHost);
}
"""


def test_dynamic_shared_templates_constant_memory_and_launch_loops() -> None:
    x = f32(1000)
    y = execute(DYNAMIC_SHARED_TEMPLATE, "cuda", "scale", [("x", x), ("y", np.zeros_like(x)), ("n", np.int32(1000))])["y"]
    np.testing.assert_allclose(y, x * 1.5, rtol=1e-6)


WMMA = r"""
#include <mma.h>
using namespace nvcuda;
__global__ void tile_gemm(const half* a, const half* b, float* c) {
    wmma::fragment<wmma::matrix_a, 16, 16, 16, half, wmma::row_major> fa;
    wmma::fragment<wmma::matrix_b, 16, 16, 16, half, wmma::col_major> fb;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
    wmma::fill_fragment(acc, 0.0f);
    wmma::load_matrix_sync(fa, a, 16);
    wmma::load_matrix_sync(fb, b, 16);
    wmma::mma_sync(acc, fa, fb, acc);
    for (int i = 0; i < acc.num_elements; ++i) acc.x[i] *= 2.0f;
    wmma::store_matrix_sync(c, acc, 16, wmma::mem_row_major);
}
"""


def test_wmma_fragments_multiply_with_fp32_accumulation() -> None:
    a = f32(16, 16).astype(np.float16)
    b_col_major = f32(16, 16).astype(np.float16)  # element (k, n) at n * 16 + k
    c = execute(WMMA, "cuda", "tile_gemm", [("a", a), ("b", b_col_major), ("c", np.zeros((16, 16), np.float32))],
                launch={"grid": 1, "block": 32})["c"]
    np.testing.assert_allclose(c, 2 * a.astype(np.float64) @ b_col_major.T.astype(np.float64), rtol=1e-5, atol=1e-4)


MFMA = r"""
#include <hip/hip_runtime.h>
typedef float floatx4 __attribute__((ext_vector_type(4)));
__global__ void mfma_tile(const float* a, const float* b, float* c) {
    int lane = threadIdx.x;
    floatx4 acc = {0, 0, 0, 0};
    for (int k0 = 0; k0 < 16; k0 += 4) {
        float av = a[(lane % 16) * 16 + k0 + lane / 16];     // A[i][k]: lane i + 16 k
        float bv = b[(k0 + lane / 16) * 16 + lane % 16];     // B[k][j]: lane j + 16 k
        acc = __builtin_amdgcn_mfma_f32_16x16x4f32(av, bv, acc, 0, 0, 0);
    }
    for (int r = 0; r < 4; ++r) c[(4 * (lane / 16) + r) * 16 + lane % 16] = acc[r];
}
"""


def test_mfma_16x16x4_follows_the_documented_lane_layout() -> None:
    a, b = f32(16, 16), f32(16, 16)
    c = execute(MFMA, "hip", "mfma_tile", [("a", a), ("b", b), ("c", np.zeros((16, 16), np.float32))],
                launch={"grid": 1, "block": 64})["c"]
    np.testing.assert_allclose(c, a.astype(np.float64) @ b, rtol=1e-5, atol=1e-4)


COOPERATIVE = r"""
#include <cooperative_groups.h>
namespace cg = cooperative_groups;
__global__ void tile_max(const float* x, float* out) {
    cg::thread_block block = cg::this_thread_block();
    cg::thread_block_tile<16> tile = cg::tiled_partition<16>(block);
    float v = x[block.thread_rank()];
    for (int offset = tile.size() / 2; offset > 0; offset /= 2) v = fmaxf(v, tile.shfl_down(v, offset));
    block.sync();
    if (tile.thread_rank() == 0) out[tile.meta_group_rank()] = v;
}
"""


def test_cooperative_group_tiles() -> None:
    x = f32(64)
    out = execute(COOPERATIVE, "cuda", "tile_max", [("x", x), ("out", np.zeros(4, np.float32))],
                  launch={"grid": 1, "block": 64})["out"]
    np.testing.assert_array_equal(out, x.reshape(4, 16).max(axis=1))


FLOAT4_EARLY_RETURN = r"""
#define IDX(b, t) ((b) * blockDim.x + (t))
__global__ void double_vec4(const float4* in, float4* out, int n4) {
    int i = IDX(blockIdx.x, threadIdx.x);
    if (i >= n4) return;
    float4 v = in[i];
    out[i] = make_float4(2 * v.x, 2 * v.y, 2 * v.z, 2 * v.w);
}
"""


def test_float4_macros_and_early_return() -> None:
    x = f32(40)
    y = execute(FLOAT4_EARLY_RETURN, "cuda", "double_vec4", [("in", x), ("out", np.zeros_like(x)), ("n4", np.int32(10))],
                launch={"grid": 2, "block": 8})["out"]
    np.testing.assert_array_equal(y, 2 * x)


DIVERGENT_BARRIER = r"""
__global__ void bad(float* x) {
    if (threadIdx.x < 16) __syncthreads();   // warp 0 splits between two barriers neither half can pass
    else __syncwarp();
}
"""


def test_a_deadlocked_barrier_is_diagnosed_not_hung() -> None:
    with pytest.raises(XpilerError) as err:
        execute(DIVERGENT_BARRIER, "cuda", "bad", [("x", np.zeros(4, np.float32))], launch={"grid": 1, "block": 64},
                timeout_s=30)
    assert err.value.code == "XP303" and "deadlock" in err.value.message


def test_an_endless_kernel_is_killed_at_the_time_limit() -> None:
    src = "__global__ void spin(int* x) { for (;;) x[0] += 1; }"
    with pytest.raises(XpilerError) as err:
        execute(src, "cuda", "spin", [("x", np.zeros(1, np.int32))], launch={"grid": 1, "block": 1}, timeout_s=3)
    assert err.value.code == "XP302"


def test_atomics_accumulate_across_blocks() -> None:
    src = r"""
    __global__ void histogram(const int* v, int* bins, int n) {
        int i = blockIdx.x * blockDim.x + threadIdx.x;
        if (i < n) atomicAdd(&bins[v[i]], 1);
    }"""
    v = RNG.integers(0, 8, size=1000).astype(np.int32)
    bins = execute(src, "cuda", "histogram", [("v", v), ("bins", np.zeros(8, np.int32)), ("n", np.int32(1000))],
                   launch={"grid": 8, "block": 128})["bins"]
    np.testing.assert_array_equal(bins, np.bincount(v, minlength=8))


def test_compile_errors_point_at_the_users_line() -> None:
    src = "__global__ void k(float* x) {\n    x[threadIdx.x] = undefined_name;\n}\n"
    with pytest.raises(XpilerError) as err:
        execute(src, "cuda", "k", [("x", np.zeros(4, np.float32))], launch={"grid": 1, "block": 4})
    assert err.value.code == "XP201" and err.value.diagnostic.line == 2


def test_out_of_bounds_write_is_reported_in_bounds_checked_mode() -> None:
    src = "__global__ void k(float* x, int n) { x[threadIdx.x + n] = 1.0f; }"
    with pytest.raises(XpilerError) as err:
        execute(src, "cuda", "k", [("x", np.zeros(4, np.float32)), ("n", np.int32(2))],
                launch={"grid": 1, "block": 4}, bounds_check=True)
    assert err.value.code == "XP304"
    message = err.value.diagnostic.message
    assert "write of 4 bytes reaching x[4] (x has 4 elements)" in message
    assert "kernel.cu:1" in message and "thread (2,0,0) of block (0,0,0)" in message


def test_bounds_checked_bang_names_the_task() -> None:
    src = """
    __mlu_global__ void k(float* x, int n) {
        __nram__ float buf[64];
        __memcpy(buf, x + taskId * 4, 64 * sizeof(float), GDRAM2NRAM);
    }"""
    with pytest.raises(XpilerError) as err:
        execute(src, "bang", "k", [("x", np.zeros(64, np.float32)), ("n", np.int32(64))], bounds_check=True)
    message = err.value.diagnostic.message
    assert err.value.code == "XP304" and "reaching x[64] (x has 64 elements)" in message
    assert "kernel.mlu:4" in message and "by task " in message


def test_ir_executes_through_its_own_dialect() -> None:
    from kernel_ir.executor import execute_module
    from kernel_ir.parse import parse

    module = parse(BLOCK_REVERSE, "cuda")
    x = f32(256)
    out = execute_module(module, "reverse_blocks", [("in", x), ("out", np.zeros_like(x)), ("n", np.int32(256))],
                         launch={"grid": 2, "block": 128})["out"]
    np.testing.assert_array_equal(out, x.reshape(2, 128)[:, ::-1].reshape(-1))


def test_launch_configuration_may_hold_comparisons() -> None:
    src = r"""
    __global__ void fill(int* out, int n) { int i = blockIdx.x * blockDim.x + threadIdx.x; if (i < n) out[i] = i; }
    extern "C" void run(int* out, int n) {
        int* d; cudaMalloc(&d, n * sizeof(int));
        fill<<<(n < 64 ? 1 : (n + 63) / 64), (n < 64 ? n : 64)>>>(d, n);
        cudaMemcpy(out, d, n * sizeof(int), cudaMemcpyDeviceToHost);
    }"""
    out = execute(src, "cuda", "run", [("out", np.zeros(100, np.int32)), ("n", np.int32(100))])["out"]
    np.testing.assert_array_equal(out, np.arange(100))


COPY_KINDS = """
__global__ void twice(float* y, int n) { int i = blockIdx.x * blockDim.x + threadIdx.x; if (i < n) y[i] *= 2.0f; }
extern "C" void run(const float* x, float* y, int n) {
    float* d;
    cudaMalloc(&d, n * sizeof(float));
    cudaMemcpy(d, x, n * sizeof(float), KIND);
    twice<<<(n + 63) / 64, 64>>>(d, n);
    cudaMemcpy(y, d, n * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(d);
}
"""


@pytest.mark.parametrize("kind,fails", [("cudaMemcpyHostToDevice", False), ("cudaMemcpyDefault", False),
                                        ("cudaMemcpyDeviceToDevice", True), ("cudaMemcpyDeviceToHost", True)])
def test_a_copy_whose_kind_does_not_match_its_pointers_fails_as_on_a_gpu(kind, fails):
    """A GPU rejects a host array copied "device to device" (invalid argument): so does the executor."""
    args = [("x", np.arange(5, dtype=np.float32)), ("y", np.zeros(5, np.float32)), ("n", np.int32(5))]
    source = COPY_KINDS.replace("KIND", kind)
    if not fails:
        np.testing.assert_array_equal(execute(source, "cuda", "run", args)["y"], 2 * args[0][1])
        return
    with pytest.raises(XpilerError) as err:
        execute(source, "cuda", "run", args)
    assert err.value.code == "XP303" and "the source is host memory" in err.value.message


def test_reading_past_the_end_of_an_argument_faults_without_bounds_checking():
    """Every argument ends at a guard page: a launcher or kernel reading one element too many is caught."""
    source = 'extern "C" void twice(const float* x, float* y, int n) { for (int i = 0; i < n; i++) y[i % 16] = 2 * x[i]; }'
    args = [("x", np.ones(16, np.float32)), ("y", np.zeros(16, np.float32)), ("n", np.int32(16))]
    np.testing.assert_array_equal(execute(source, "cpp", "twice", args)["y"], np.full(16, 2, np.float32))
    with pytest.raises(XpilerError) as err:
        execute(source, "cpp", "twice", args[:2] + [("n", np.int32(17))])
    assert err.value.code == "XP301"
