"""simdize: a block's thread loops move innermost (distributed over the statements, interchanged past loops with
the same header in every thread), per-thread values get the thread dimension last, and the program runs the same;
what may not move (warp-synchronous code, while loops) stays whole."""
from __future__ import annotations

import numpy as np
import pytest

from kernel_ir.ir import ArrayType, Decl, For, ForKind, Module, While, walk
from kernel_ir.parse import parse
from passes.simdize import SimdizeOptions, simdize, simdize_and_report
from passes.translate import TranslateOptions, front_half, translate
from tests.passes.loop_programs import assert_same, smallest_args

# a 2-D block (8 x 4 threads) with a helper, an early return, a grid-stride loop and a loop over a tile
BLOCK_STATS = """
#include <cuda_runtime.h>
__device__ float square(float v) { return v * v; }
__global__ void block_stats_kernel(const float* x, float* out, int rows, int cols) {
    __shared__ float tile[4][8];
    const int r = blockIdx.x * 4 + threadIdx.y;
    float acc[3];
    for (int i = 0; i < 3; i++) acc[i] = 0.0f;
    if (r < rows) {
        for (int c = threadIdx.x; c < cols; c += 8) {
            acc[0] += x[r * cols + c];
            acc[1] += square(x[r * cols + c]);
        }
    }
    tile[threadIdx.y][threadIdx.x] = acc[0];
    __syncthreads();
    if (r >= rows) return;
    for (int k = 0; k < 8; k++) acc[2] += tile[threadIdx.y][k] * (k + 1);
    out[(r * 8 + threadIdx.x) * 3 + 0] = acc[0];
    out[(r * 8 + threadIdx.x) * 3 + 1] = acc[1];
    out[(r * 8 + threadIdx.x) * 3 + 2] = acc[2];
}
extern "C" void block_stats(const float* x, float* out, int rows, int cols) {
    float *dx, *dout;
    cudaMalloc(&dx, rows * cols * sizeof(float));
    cudaMalloc(&dout, rows * 24 * sizeof(float));
    cudaMemcpy(dx, x, rows * cols * sizeof(float), cudaMemcpyHostToDevice);
    block_stats_kernel<<<(rows + 3) / 4, dim3(8, 4)>>>(dx, dout, rows, cols);
    cudaMemcpy(out, dout, rows * 24 * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(dout);
}
"""

# warp-synchronous tree reduction (no barrier between the steps) and a while loop: both stay whole
WARP_SUM = """
#include <cuda_runtime.h>
__global__ void warp_sum_kernel(const float* x, float* out, int n) {
    volatile __shared__ float s[32];
    s[threadIdx.x] = threadIdx.x < n ? x[blockIdx.x * 32 + threadIdx.x] : 0.0f;
    __syncthreads();
    if (threadIdx.x < 16) {
        s[threadIdx.x] += s[threadIdx.x + 16];
        s[threadIdx.x] += s[threadIdx.x + 8];
        s[threadIdx.x] += s[threadIdx.x + 4];
        s[threadIdx.x] += s[threadIdx.x + 2];
        s[threadIdx.x] += s[threadIdx.x + 1];
    }
    __syncthreads();
    int steps = 0;
    float v = s[0];
    while (v > 1.0f) { v *= 0.5f; steps++; }
    out[blockIdx.x * 32 + threadIdx.x] = v + steps;
}
extern "C" void warp_sum(const float* x, float* out, int blocks) {
    float *dx, *dout;
    cudaMalloc(&dx, blocks * 32 * sizeof(float));
    cudaMalloc(&dout, blocks * 32 * sizeof(float));
    cudaMemcpy(dx, x, blocks * 32 * sizeof(float), cudaMemcpyHostToDevice);
    warp_sum_kernel<<<blocks, 32>>>(dx, dout, 32);
    cudaMemcpy(out, dout, blocks * 32 * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(dout);
}
"""


def loop_form(source: str) -> Module:
    return front_half(parse(source, "cuda"))[0]


def thread_loops(module: Module) -> list[For]:
    return [n for n in walk(module) if isinstance(n, For) and (n.axis or "").startswith("threadIdx")]


def simd_loops(module: Module) -> list[For]:
    return [n for n in walk(module) if isinstance(n, For) and n.kind == ForKind.vectorized]


def serial_loops_around_threads(module: Module) -> set[str]:
    """Loop variables of the serial loops that hold a thread loop."""
    return {n.init[0].name for n in walk(module) if isinstance(n, For) and n.kind in (ForKind.serial, ForKind.unrolled)
            and any(m in thread_loops(module) or m.kind == ForKind.vectorized for m in walk(n.body)
                    if isinstance(m, For))}


def stats_args(rows: int = 11, cols: int = 21) -> list:
    x = np.random.default_rng(0).uniform(-1, 1, rows * cols).astype(np.float32)
    return [("x", x), ("out", np.zeros(rows * 24, np.float32)), ("rows", np.int32(rows)), ("cols", np.int32(cols))]


def test_thread_loops_move_inside_the_loops_of_a_block_and_it_runs_the_same():
    before = loop_form(BLOCK_STATS)
    after, notes = simdize_and_report(before)
    assert notes and "block_stats" in notes[0]
    # the tile loop (k), the grid-stride loop (now over c0) and the acc loop (i) hold the thread loops
    assert {"k", "c0", "i"} <= serial_loops_around_threads(after)
    assert simd_loops(after)
    assert_same(print_cuda_loop_form(before), after, "block_stats", stats_args())
    assert_same(print_cuda_loop_form(before), after, "block_stats", stats_args(rows=4, cols=3))


def print_cuda_loop_form(module: Module) -> str:
    from kernel_ir.dialects import print_module
    return print_module(module, "cpp")


def test_per_thread_arrays_get_the_thread_dimension_last():
    after = simdize(loop_form((_corpus("gemm"))))
    acc = next(n for n in walk(after) if isinstance(n, Decl) and n.name == "acc")
    assert isinstance(acc.type.element, ArrayType) and acc.type.size.value == 4  # acc[4][4][threads]
    # a_frag holds the same values in every thread of a row (no lane index): one copy, set outside the lane loop;
    # b_frag differs per lane: one element per lane, lane last
    frags = {n.name: n.type for n in walk(after) if isinstance(n, Decl) and n.name in ("a_frag", "b_frag")}
    assert frags["a_frag"] == ArrayType(frags["a_frag"].element, frags["a_frag"].size) and \
        not isinstance(frags["a_frag"].element, ArrayType)
    assert isinstance(frags["b_frag"].element, ArrayType) and frags["b_frag"].element.size.value == 16
    # tx/ty/tid were functions of the thread indices: recomputed where read, their arrays gone
    assert not [n for n in walk(after) if isinstance(n, Decl) and n.name in ("tx", "ty", "tid")]


@pytest.mark.parametrize("op", ["gemm", "conv2d_nchw", "softmax"])
def test_corpus_block_kernels_run_the_same_after_simdize(op):
    before = loop_form(_corpus(op))
    after = simdize(before)
    assert after != before and simd_loops(after)
    assert_same(print_cuda_loop_form(before), after, op, smallest_args(op))


def test_warp_synchronous_code_and_while_loops_stay_whole():
    before = loop_form(WARP_SUM)
    after = simdize(before)
    kept = [lp for lp in thread_loops(before) if lp in thread_loops(after)]
    # the unsynchronized reduction reads other threads' slots, the last phase holds a while loop: both as they were
    assert len(kept) == 2 and any(isinstance(n, While) for n in walk(kept[1]))
    assert len(simd_loops(after)) == 1  # the first phase: one plain store per thread
    args = [("x", np.random.default_rng(2).uniform(0, 3, 96).astype(np.float32)), ("out", np.zeros(96, np.float32)),
            ("blocks", np.int32(3))]
    assert_same(print_cuda_loop_form(before), after, "warp_sum", args)


def test_the_translation_records_the_pass_and_the_knob_turns_it_off():
    source = _corpus("gemm")
    on = translate(source, "cpp", native_compile=False)
    assert [p.name for p in on.passes].count("simdize") == 1 and "#pragma omp simd" in on.code
    off = translate(source, "cpp", native_compile=False, options=TranslateOptions(simdize=False))
    assert "simdize" not in [p.name for p in off.passes]
    assert simdize(loop_form(source), SimdizeOptions(mark_simd=False)) != loop_form(source)


def _corpus(op: str) -> str:
    from pathlib import Path
    return (Path(__file__).resolve().parent.parent / "corpus" / "cuda" / f"{op}.cu").read_text()
