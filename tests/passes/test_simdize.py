"""simdize: a block's thread loops move innermost (distributed over the statements, interchanged past loops with
the same header in every thread), per-thread values get the thread dimension last, and the program runs the same;
what may not move (warp-synchronous code, while loops) stays whole."""
from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from kernel_ir.dialects import print_module
from kernel_ir.ir import (ArrayType, Assign, Block, Decl, DType, For, ForKind, If, Module, ScalarType, Var, While,
                          transform, walk)
from kernel_ir.parse import parse
from passes import simdize as simdize_module
from passes.simdize import SimdizeOptions, simdize, simdize_and_report
from passes.translate import TranslateOptions, front_half, translate
from tests.corpus.specs import SPECS, make_args
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

# a register tile per thread (acc[2][2]), fragments set per step of k from shared tiles, tiles loaded by
# grid-stride loops whose trip counts are multiples of the block; two blocks (one block has no block loop)
TILE_DOT = """
#include <cuda_runtime.h>
__global__ void tile_dot_kernel(const float* a, const float* b, float* out, int n) {
    __shared__ float as[8][2];
    __shared__ float bs[8][16];
    const int t = threadIdx.x;
    float acc[2][2];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) acc[i][j] = 0.0f;
    for (int k0 = 0; k0 < n; k0 += 8) {
        for (int e = t; e < 16; e += 16) as[e / 2][e % 2] = a[k0 * 2 + e];
        for (int e = t; e < 128; e += 16) bs[e / 16][e % 16] = b[(blockIdx.x * n + k0) * 16 + e];
        __syncthreads();
        for (int k = 0; k < 8; k++) {
            float af[2];
            float bf[2];
            for (int i = 0; i < 2; i++) af[i] = as[k][i];
            for (int j = 0; j < 2; j++) bf[j] = bs[k][t] * (j + 1);
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++) acc[i][j] += af[i] * bf[j];
        }
        __syncthreads();
    }
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) out[blockIdx.x * 64 + (i * 2 + j) * 16 + t] = acc[i][j];
}
extern "C" void tile_dot(const float* a, const float* b, float* out, int n) {
    float *da, *db, *dout;
    cudaMalloc(&da, n * 2 * sizeof(float));
    cudaMalloc(&db, n * 32 * sizeof(float));
    cudaMalloc(&dout, 128 * sizeof(float));
    cudaMemcpy(da, a, n * 2 * sizeof(float), cudaMemcpyHostToDevice);
    cudaMemcpy(db, b, n * 32 * sizeof(float), cudaMemcpyHostToDevice);
    tile_dot_kernel<<<2, 16>>>(da, db, dout, n);
    cudaMemcpy(out, dout, 128 * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(da);
    cudaFree(db);
    cudaFree(dout);
}
"""
# the same with a second use of a fragment after the tile loops: k must stay outside them
TILE_DOT_KEPT = TILE_DOT.replace("acc[i][j] += af[i] * bf[j];\n",
                                 "acc[i][j] += af[i] * bf[j];\n            acc[0][0] -= bf[1];\n")


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
    # a condition kept per lane is an int array (gcc 12 vectorizes masked loads under int masks, not bool ones)
    kept = [n.type for n in walk(after) if isinstance(n, Decl) and n.name.startswith("xp_active")
            and isinstance(n.type, ArrayType)]
    assert kept and all(t.element == ScalarType(DType.int32) for t in kept)
    assert_same(print_cuda_loop_form(before), after, "block_stats", stats_args())
    assert_same(print_cuda_loop_form(before), after, "block_stats", stats_args(rows=4, cols=3))


def print_cuda_loop_form(module: Module) -> str:
    from kernel_ir.dialects import print_module
    return print_module(module, "cpp")


def tile_args(steps: int) -> list:
    rng = np.random.default_rng(3)
    return [("a", rng.uniform(-1, 1, steps * 16).astype(np.float32)),
            ("b", rng.uniform(-1, 1, steps * 256).astype(np.float32)), ("out", np.zeros(128, np.float32)),
            ("n", np.int32(steps * 8))]


def accumulating_loops(module: Module) -> list[str]:
    """The variable of the loop right around each lane loop that updates an element in place."""
    return [n.init[0].name for n in walk(module) if isinstance(n, For) and len(n.body.body) == 1
            and isinstance(lane := n.body.body[0], For) and lane.kind == ForKind.vectorized
            and any(isinstance(s, Assign) and s.op for s in lane.body.body)]


def test_per_thread_arrays_get_the_thread_dimension_last():
    after = simdize(loop_form((_corpus("gemm"))))
    acc = next(n for n in walk(after) if isinstance(n, Decl) and n.name == "acc")
    assert isinstance(acc.type.element, ArrayType) and acc.type.size.value == 4  # acc[4][4][threads]
    # tx/ty/tid were functions of the thread indices: recomputed where read, their arrays gone
    assert not [n for n in walk(after) if isinstance(n, Decl) and n.name in ("tx", "ty", "tid")]


def register_tiles(module: Module) -> list[tuple[int, For]]:
    """(sums declared, k loop) of each lane loop holding a register tile: scalar sums, a k loop, stores."""
    found = []
    for lane in simd_loops(module):
        sums = [s for s in lane.body.body if isinstance(s, Decl) and s.name.startswith("xp_sum")]
        loops = [s for s in lane.body.body if isinstance(s, For)]
        if sums and len(loops) == 1:
            found.append((len(sums), loops[0]))
    return found


@pytest.mark.parametrize("unrolled", [False, True])
def test_a_register_tile_sums_in_one_scalar_per_element_and_lane_and_runs_the_same(unrolled: bool):
    source = TILE_DOT.replace("        for (int k = 0; k < 8; k++) {",
                              "#pragma unroll\n        for (int k = 0; k < 8; k++) {") if unrolled else TILE_DOT
    before = loop_form(source)
    after = simdize(before)
    # af and bf were set once per k and read only by the tile: their values replace the reads, the arrays go
    assert not [n for n in walk(after) if isinstance(n, Decl) and n.name in ("af", "bf")]
    # the 2 x 2 tile moves into the lane loop: four sums per lane (four vectors, in registers) and k a loop
    # around their updates, as the source wrote it or not (g++ keeps the sums in registers across a loop; written
    # out, it hoisted the operands of all the steps and spilled them)
    [(sums, k_loop)] = register_tiles(after)
    assert sums == 4 and k_loop.init[0].name == "k" and k_loop.kind == ForKind.serial and not k_loop.pragmas
    assert sum(1 for s in k_loop.body.body if isinstance(s, Assign) and s.op == "+") == 4
    # tiles loaded by grid-stride loops over multiples of the 16 lanes: no per-lane guard, the lanes' quotient
    # is the first lane's and their remainders consecutive
    code = print_cuda_loop_form(after)
    assert re.search(r"bs\[(\w+) / 16\]\[\1 % 16 \+ xp_tx\]", code) and "xp_active" not in code
    for steps in (1, 3):
        assert_same(print_cuda_loop_form(before), after, "tile_dot", tile_args(steps))


def test_a_tile_too_big_for_the_registers_keeps_its_loops_around_the_lanes():
    no_registers = SimdizeOptions(register_bytes=0)
    before = loop_form(TILE_DOT)
    after = simdize(before, no_registers)
    # k moves inside the tile loops (i, j) so each element's vector stays in a register across k
    assert not register_tiles(after) and accumulating_loops(after) == ["k"]
    assert_same(print_cuda_loop_form(before), after, "tile_dot", tile_args(2))
    # a k the source unrolls is written out inside the lane loop, into a scalar per lane
    before = loop_form(TILE_DOT.replace("        for (int k = 0; k < 8; k++) {",
                                        "#pragma unroll\n        for (int k = 0; k < 8; k++) {"))
    after = simdize(before, no_registers)
    sums = [n for n in walk(after) if isinstance(n, Decl) and n.name.startswith("xp_sum")]
    assert len(sums) == 1 and not [n for n in walk(after) if isinstance(n, For) and n.init[0].name == "k"]
    lane = next(n for n in simd_loops(after) if any(s is sums[0] for s in n.body.body))
    assert sum(1 for s in lane.body.body if isinstance(s, Assign) and s.op == "+") == 8
    assert_same(print_cuda_loop_form(before), after, "tile_dot", tile_args(2))


def test_a_tile_row_that_fits_the_registers_is_held_while_the_rows_stay_a_loop():
    # room for the sums of one row (2 elements x 16 lanes of float), not of the whole 2 x 2 tile: the row loop i
    # stays around the lane loop, and each lane holds its row's two sums across k
    row = SimdizeOptions(register_bytes=2 * 16 * 4)
    before = loop_form(TILE_DOT)
    after = simdize(before, row)
    [(sums, k_loop)] = register_tiles(after)
    assert sums == 2 and k_loop.init[0].name == "k"
    lane = next(n for n in simd_loops(after) if any(s is k_loop for s in n.body.body))
    [row_loop] = [n for n in walk(after) if isinstance(n, For) and lane in walk(n.body) and n is not lane
                  and n.init[0].name.startswith("i")]
    assert row_loop.body.body == (lane,)
    for steps in (1, 3):
        assert_same(print_cuda_loop_form(before), after, "tile_dot", tile_args(steps))


def chunked_lane_loops(module: Module) -> list[For]:
    """The lane loops that run one chunk of the lanes, from a chunk variable (`xp_tx = xp_chunk; ..`)."""
    return [lane for lane in simd_loops(module) if isinstance(lane.init[0].init, Var)
            and lane.init[0].init.name.startswith("xp_chunk")]


def test_lanes_wider_than_a_vector_register_hold_their_sums_in_chunks_of_one_register():
    # 16 float lanes are two registers of 32 bytes: room for 4 sums of 8 lanes holds the whole 2 x 2 tile, the
    # lanes running as two chunks of 8 (counted per 16 lanes, only one row would have fit)
    narrow = SimdizeOptions(register_bytes=4 * 32, vector_bytes=32)
    before = loop_form(TILE_DOT)
    after = simdize(before, narrow)
    [(sums, _)] = register_tiles(after)
    [lane] = chunked_lane_loops(after)
    assert sums == 4 and "xp_tx < xp_chunk + 8" in print_cuda_loop_form(after)
    assert register_tiles(simdize(before, dataclasses.replace(narrow, vector_bytes=64)))[0][0] == 2
    # 16 float lanes in a 128-byte register: each sum still takes a whole one, so room for 2 holds one row
    assert register_tiles(simdize(before, SimdizeOptions(register_bytes=2 * 128, vector_bytes=128)))[0][0] == 2
    for steps in (1, 3):
        assert_same(print_cuda_loop_form(before), after, "tile_dot", tile_args(steps))


def test_a_tile_loop_partly_in_registers_steps_by_the_values_that_fit():
    # gemm's 4 x 4 tile per thread, 8 sums of 8 lanes (AVX2's 8 of 16 ymm): the row loop holds 2 of its 4 rows
    # per step (`i += 2`, sums of rows i and i + 1), and the 16 lanes run as 2 chunks of 8
    before = loop_form(_corpus("gemm"))
    after = simdize(before, SimdizeOptions(register_bytes=8 * 32, vector_bytes=32))
    tiles = register_tiles(after)
    assert tiles and {sums for sums, _ in tiles} == {8} and chunked_lane_loops(after)
    assert re.search(r"for \(int (i\w*) = 0; \1 < 4; \1 \+= 2\)", print_cuda_loop_form(after))
    spec = SPECS["gemm"]
    for sizes in ({"M": 64, "N": 64, "K": 32}, {"M": 70, "N": 65, "K": 19}):
        assert_same(print_cuda_loop_form(before), after, "gemm", make_args(spec, sizes))


def test_fragments_used_elsewhere_stay_one_copy_or_one_per_lane(monkeypatch):
    before = loop_form(TILE_DOT_KEPT)
    after = simdize(before)
    assert accumulating_loops(after) != ["k"]
    # bf differs per lane: one element per lane, lane last
    frags = {n.name: n.type for n in walk(after) if isinstance(n, Decl) and n.name in ("af", "bf")}
    assert isinstance(frags["bf"].element, ArrayType) and frags["bf"].element.size.value == 16
    # af holds the same values in every thread (no lane index), copied from the tile `as` nothing in its block
    # writes: the lanes read as[k][i] where af was read, and af goes
    assert "af" not in frags and re.search(r"as\[k\]\[i_\d\] \* bf", print_cuda_loop_form(after))
    assert_same(print_cuda_loop_form(before), after, "tile_dot", tile_args(2))
    # kept, it would be one copy, set outside the lane loop
    monkeypatch.setattr(simdize_module, "_broadcast_tiles_read_at_source", lambda node: None)
    frags = {n.name: n.type for n in walk(simdize(before)) if isinstance(n, Decl) and n.name in ("af", "bf")}
    assert frags["af"] == ArrayType(frags["af"].element, frags["af"].size) and \
        not isinstance(frags["af"].element, ArrayType)


@pytest.mark.parametrize("op", ["gemm", "conv2d_nchw", "softmax", "dense"])
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


# a grid-stride loop over a row with a tail (cols not a multiple of the 64 lanes) calling expf
ROW_EXP = """
#include <cuda_runtime.h>
__global__ void row_exp_kernel(const float* x, float* y, int cols) {
    const float* in = x + blockIdx.x * cols;
    for (int c = threadIdx.x; c < cols; c += 64) {
        y[blockIdx.x * cols + c] = expf(in[c]);
    }
}
extern "C" void row_exp(const float* x, float* y, int rows, int cols) {
    float *dx, *dy;
    cudaMalloc(&dx, rows * cols * sizeof(float));
    cudaMalloc(&dy, rows * cols * sizeof(float));
    cudaMemcpy(dx, x, rows * cols * sizeof(float), cudaMemcpyHostToDevice);
    row_exp_kernel<<<rows, 64>>>(dx, dy, cols);
    cudaMemcpy(y, dy, rows * cols * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(dy);
}
"""


def test_full_tiles_drop_the_lane_guard_and_vector_math_is_declared():
    """A whole tile runs without the tail's lane guard (so g++ may call libmvec's unmasked expf), the last tile
    keeps it, and expf is declared `simd` for glibc's vector versions: same results either way."""
    before = loop_form(ROW_EXP)
    module = simdize(before)
    code = print_module(module)
    assert re.search(r"if \(\w+ \+ 64 <= cols\w*\)", code), code
    assert 'expf(float) throw() __attribute__((__simd__("notinbranch")))' in code
    rng = np.random.default_rng(3)
    args = [("x", rng.standard_normal(3 * 150).astype(np.float32)), ("y", np.zeros(3 * 150, np.float32)),
            ("rows", np.int32(3)), ("cols", np.int32(150))]
    assert_same(print_cuda_loop_form(before), module, "row_exp", args)


def test_fmax_and_fmin_in_simd_loops_become_selects_with_the_same_nan_rule():
    """libm's fmaxf/fminf would be called once per lane; as selects g++ vectorizes them. A NaN operand still loses
    to a number, on either side."""
    source = ROW_EXP.replace("expf(in[c])", "fmaxf(fminf(in[c], 0.5f), -0.5f) + fminf(0.25f, in[c])")
    before = loop_form(source)
    module = simdize(before)
    code = print_module(module)
    assert "static inline float xp_fmaxf(float a, float b)" in code and "xp_fminf(0.25f, in" in code, code
    x = np.random.default_rng(4).standard_normal(3 * 150).astype(np.float32)
    x[::7] = np.nan
    args = [("x", x), ("y", np.zeros(3 * 150, np.float32)), ("rows", np.int32(3)), ("cols", np.int32(150))]
    assert_same(print_cuda_loop_form(before), module, "row_exp", args)


# a helper taking the block's shared array: inlined, its pointer parameter becomes one per thread
SHARED_HELPER = """
#include <cuda_runtime.h>
__device__ float block_sum(float v, float* scratch) {
    scratch[threadIdx.x] = v;
    __syncthreads();
    float total = 0.0f;
    for (int k = 0; k < 32; k++) total += scratch[k];
    __syncthreads();
    return total;
}
__global__ void centered_kernel(const float* x, float* y, int n) {
    __shared__ float scratch[32];
    const int i = blockIdx.x * 32 + threadIdx.x;
    const float v = i < n ? x[i] : 0.0f;
    const float mean = block_sum(v, scratch) / 32.0f;
    if (i < n) y[i] = v - mean;
}
extern "C" void centered(const float* x, float* y, int n) {
    float *dx, *dy;
    cudaMalloc(&dx, n * sizeof(float));
    cudaMalloc(&dy, n * sizeof(float));
    cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice);
    centered_kernel<<<(n + 31) / 32, 32>>>(dx, dy, n);
    cudaMemcpy(y, dy, n * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(dy);
}
"""


def test_a_pointer_every_thread_holds_alike_is_the_shared_array_again():
    """The inlined helper's `float* scratch[T]` (the same shared array in every slot) is recomputed where read:
    stores and loads go to the shared array directly, not through a gathered pointer per lane."""
    before = loop_form(SHARED_HELPER)
    assert re.search(r"float\s*\*\s*\w+\[32\]", print_module(before))
    after = simdize(before)
    code = print_module(after)
    assert not re.search(r"float\s*\*\s*\w+\[32\]", code), code
    x = np.random.default_rng(5).uniform(-1, 1, 70).astype(np.float32)
    assert_same(print_cuda_loop_form(before), after, "centered",
                [("x", x), ("y", np.zeros(70, np.float32)), ("n", np.int32(70))])


# depthwise: every thread of a block (one channel) reads the same tap w[c * k + j], under its own padding guard
PADDED_CONV = """
#include <cuda_runtime.h>
__global__ void dwconv_kernel(const float* x, const float* w, float* y, int n, int k) {
    const int c = blockIdx.y;
    const int i = blockIdx.x * 64 + threadIdx.x;
    if (i >= n) return;
    const float* row = x + c * n;
    float acc = 0.0f;
    for (int j = 0; j < k; j++) {
        const int at = i + j - k / 2;
        if (at < 0 || at >= n) continue;
        acc += row[at] * w[c * k + j];
    }
    y[c * n + i] = acc;
}
extern "C" void dwconv(const float* x, const float* w, float* y, int channels, int n, int k) {
    float *dx, *dw, *dy;
    cudaMalloc(&dx, channels * n * sizeof(float));
    cudaMalloc(&dw, channels * k * sizeof(float));
    cudaMalloc(&dy, channels * n * sizeof(float));
    cudaMemcpy(dx, x, channels * n * sizeof(float), cudaMemcpyHostToDevice);
    cudaMemcpy(dw, w, channels * k * sizeof(float), cudaMemcpyHostToDevice);
    dwconv_kernel<<<dim3((n + 63) / 64, channels), 64>>>(dx, dw, dy, n, k);
    cudaMemcpy(y, dy, channels * n * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(dw);
    cudaFree(dy);
}
"""


def conv_args(n: int, k: int, channels: int = 3) -> list:
    rng = np.random.default_rng(6)
    return [("x", rng.uniform(-1, 1, channels * n).astype(np.float32)),
            ("w", rng.uniform(-1, 1, channels * k).astype(np.float32)), ("y", np.zeros(channels * n, np.float32)),
            ("channels", np.int32(channels)), ("n", np.int32(n)), ("k", np.int32(k))]


def test_a_tap_every_lane_reads_under_its_guard_is_read_once_if_any_lane_needs_it():
    before = loop_form(PADDED_CONV)
    module = simdize(before)
    code = print_module(module)
    assert re.search(r"#pragma omp simd reduction\(\|:(\w+)\)", code), code
    assert re.search(r"const float (\w+) = \w+ \? \w+\[\w+ \* k \+ j\] : 0\.0f;", code), code
    # w ends at a guard page: a read past its k taps, or of a tap no lane needs, would fault
    for n, k in ((150, 5), (3, 7), (64, 1)):
        assert_same(print_cuda_loop_form(before), module, "dwconv", conv_args(n, k))


# each thread computes two channels' outputs: two taps every lane reads under the same padding guard
PAIRED_CONV = PADDED_CONV.replace("""    const int c = blockIdx.y;""", """    const int c = 2 * blockIdx.y;""").replace(
    """    float acc = 0.0f;""", """    float acc = 0.0f, other = 0.0f;""").replace(
    """        acc += row[at] * w[c * k + j];""", """        acc += row[at] * w[c * k + j];
        other += row[n + at] * w[(c + 1) * k + j];""").replace(
    """    y[c * n + i] = acc;""", """    y[c * n + i] = acc;
    y[(c + 1) * n + i] = other;""").replace("dim3((n + 63) / 64, channels)", "dim3((n + 63) / 64, channels / 2)")


def test_one_guard_loop_serves_every_tap_read_under_the_same_guard():
    """A thread computing several outputs reads several taps under one guard: each is read once before the SIMD
    loop, all behind one OR of the guard over the lanes, and every update becomes a select (a tap left in the
    loop is a masked load of an invariant address, which g++ 12 does not vectorize)."""
    before = loop_form(PAIRED_CONV)
    module = simdize(before)
    code = print_module(module)
    guard_loops = re.findall(r"#pragma omp simd reduction\(\|:\w+\)", code)  # one per version of the block
    assert guard_loops and len(re.findall(r"const float \w+ = \w+ \? \w+\[.*\] : 0\.0f;", code)) \
        == 2 * len(guard_loops), code
    assert not re.search(r"if \(\w+\) \{\s*\w+\[xp_tx\] \+=", code), code
    # both rows are read as vectors where the lanes read consecutive elements: one check loop tests both
    assert re.search(r"row\[xp_first\w* \+ xp_tx\] \* \w+ : acc\[xp_tx\];\s*"
                     r"other\[xp_tx\] = \w+ \? other\[xp_tx\] \+ row\[xp_first\w* \+ xp_tx\]", code), code
    for n, k in ((150, 5), (3, 7), (64, 1)):  # w ends at a guard page
        assert_same(print_cuda_loop_form(before), module, "dwconv", conv_args(n, k, channels=4))


# the same read written twice, with its index moved between: each is checked and replaced where it runs
MOVED_READ = PAIRED_CONV.replace("""        const int at = i + j - k / 2;""", """        int at = i + j - k / 2;""").replace(
    """        other += row[n + at] * w[(c + 1) * k + j];""", """        if (at + 1 < n) at = at + 1;
        other += row[at] * w[(c + 1) * k + j];""")


def test_a_read_whose_index_moves_between_statements_is_checked_at_each():
    before = loop_form(MOVED_READ)
    module = simdize(before)
    code = print_module(module)
    assert len(set(re.findall(r"row\[(xp_first\w*) \+ xp_tx\]", code))) >= 2, code  # one version per read
    for n, k in ((150, 5), (3, 7), (64, 1), (65, 3)):
        assert_same(print_cuda_loop_form(before), module, "dwconv", conv_args(n, k, channels=4))


def test_a_guarded_update_of_a_lanes_own_sum_is_a_select_and_the_sums_start_defined():
    """`if (m) acc[t] += e` compiles to masked stores, slow on AVX2 CPUs; `acc[t] = m ? acc[t] + e : acc[t]` to a
    blend and a plain store: every lane stores, an inactive one its own value, so every element is defined."""
    before = loop_form(PADDED_CONV)
    module = simdize(before)
    code = print_module(module)
    assert re.search(r"(acc\w*)\[xp_tx\] = (\w+) \? \1\[xp_tx\] \+ \w+\[\w+\] \* \w+ : \1\[xp_tx\];", code), code
    assert re.search(r"float acc\w*\[64\] = \{\};", code), code
    # only in SIMD loops and only on the per-lane arrays: the output store keeps its guard
    assert re.search(r"if \(xp_active\[xp_tx\]\) \{\s*dy\[", code), code
    for n, k in ((150, 5), (3, 7), (64, 1)):
        assert_same(print_cuda_loop_form(before), module, "dwconv", conv_args(n, k))


# one thread per output pixel, its row and column recomposed into the input index: a gather per lane, though
# for "same" sizes (stride 1, 2 * pad = k - 1) neighbouring lanes read neighbouring elements
PIXEL_BLUR = """
#include <cuda_runtime.h>
__global__ void blur_kernel(const float* x, float* y, int h, int w, int k, int stride, int pad) {
    const int oh_count = (h + 2 * pad - k) / stride + 1;
    const int ow_count = (w + 2 * pad - k) / stride + 1;
    const int pix = blockIdx.x * 32 + threadIdx.x;
    if (pix >= oh_count * ow_count) return;
    const int channel = blockIdx.y;
    const float* plane = x + channel * h * w;
    const int oh = pix / ow_count;
    const int ow = pix % ow_count;
    float acc = 0.0f;
    for (int kh = 0; kh < k; kh++) {
        for (int kw = 0; kw < k; kw++) {
            const int ih = oh * stride - pad + kh;
            const int iw = ow * stride - pad + kw;
            if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
            acc += plane[ih * w + iw] * (kh + 1);
        }
    }
    y[channel * oh_count * ow_count + pix] = acc;
}
extern "C" void blur(const float* x, float* y, int channels, int h, int w, int k, int stride, int pad) {
    const int pixels = ((h + 2 * pad - k) / stride + 1) * ((w + 2 * pad - k) / stride + 1);
    float *dx, *dy;
    cudaMalloc(&dx, channels * h * w * sizeof(float));
    cudaMalloc(&dy, channels * pixels * sizeof(float));
    cudaMemcpy(dx, x, channels * h * w * sizeof(float), cudaMemcpyHostToDevice);
    blur_kernel<<<dim3((pixels + 31) / 32, channels), 32>>>(dx, dy, h, w, k, stride, pad);
    cudaMemcpy(y, dy, channels * pixels * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(dy);
}
"""


def blur_args(h: int, w: int, k: int, stride: int, pad: int, channels: int = 2) -> list:
    pixels = ((h + 2 * pad - k) // stride + 1) * ((w + 2 * pad - k) // stride + 1)
    x = np.random.default_rng(8).uniform(-1, 1, channels * h * w).astype(np.float32)
    return [("x", x), ("y", np.zeros(channels * pixels, np.float32)), ("channels", np.int32(channels)),
            ("h", np.int32(h)), ("w", np.int32(w)),
            ("k", np.int32(k)), ("stride", np.int32(stride)), ("pad", np.int32(pad))]


@pytest.mark.parametrize("sizes,taken", [((9, 40, 3, 1, 1), "unit stride"), ((9, 40, 3, 2, 1), "gather"),
                                         ((7, 5, 3, 1, 0), "gather")])
def test_lanes_reading_consecutive_elements_at_run_time_read_them_as_a_vector(sizes, taken: str):
    before = loop_form(PIXEL_BLUR)
    module = simdize(before)
    code = print_module(module)
    assert re.search(r"#pragma omp simd reduction\(min:(\w+)\) reduction\(max:(\w+)\)", code), code
    assert re.search(r"plane\[xp_first\w* \+ xp_tx\]", code) and re.search(r"plane\[ih\w*(\[xp_tx\])? \* w \+", code), code
    assert_same(print_cuda_loop_form(before), module, "blur", blur_args(*sizes))
    # the other version poisoned (its reads of x moved far out): the results come from the version named
    versions = [n for n in walk(module) if isinstance(n, If)
                and any(isinstance(d, Decl) and d.name.startswith("xp_first") for d in n.then.body)]
    assert versions
    poison = (lambda n: dataclasses.replace(n, otherwise=Block(()))) if taken == "unit stride" else \
        (lambda n: dataclasses.replace(n, then=Block(())))
    poisoned = transform(module, lambda n: poison(n) if any(n is v for v in versions) else None)
    assert_same(print_cuda_loop_form(before), poisoned, "blur", blur_args(*sizes))
    other = (lambda n: dataclasses.replace(n, then=Block(()))) if taken == "unit stride" else \
        (lambda n: dataclasses.replace(n, otherwise=Block(())))
    with pytest.raises(AssertionError):  # and without it, nothing is computed: the version named ran
        assert_same(print_cuda_loop_form(before), transform(module, lambda n: other(n) if any(
            n is v for v in versions) else None), "blur", blur_args(*sizes))


# each thread keeps the largest element of its columns and where it was: an `if` whose condition reads the
# sum its first statement changes
RUNNING_ARGMAX = """
#include <cuda_runtime.h>
__global__ void running_argmax_kernel(const float* x, float* best, int* at, int cols) {
    const int t = threadIdx.x;
    const float* r = x + blockIdx.x * cols;
    float v = -1e30f;
    int idx = -1;
    for (int c = t; c < cols; c += 32) {
        const float e = r[c];
        if (e > v) { v = e; idx = c; }
    }
    __shared__ float vs[32];
    __shared__ int idxs[32];
    vs[t] = v;
    idxs[t] = idx;
    __syncthreads();
    best[blockIdx.x * 32 + t] = vs[31 - t];
    at[blockIdx.x * 32 + t] = idxs[31 - t];
}
extern "C" void running_argmax(const float* x, float* best, int* at, int rows, int cols) {
    float *dx, *db;
    int* da;
    cudaMalloc(&dx, rows * cols * sizeof(float));
    cudaMalloc(&db, rows * 32 * sizeof(float));
    cudaMalloc(&da, rows * 32 * sizeof(int));
    cudaMemcpy(dx, x, rows * cols * sizeof(float), cudaMemcpyHostToDevice);
    running_argmax_kernel<<<rows, 32>>>(dx, db, da, cols);
    cudaMemcpy(best, db, rows * 32 * sizeof(float), cudaMemcpyDeviceToHost);
    cudaMemcpy(at, da, rows * 32 * sizeof(int), cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(db);
    cudaFree(da);
}
"""


def test_a_guarded_pair_of_updates_whose_test_reads_what_they_change_stays_an_if():
    before = loop_form(RUNNING_ARGMAX)
    module = simdize(before)
    code = print_module(module)
    # two selects would test e > v[t] again after the first changed v[t]: the pair keeps its `if`
    assert re.search(r"if \(e\w* > v\w*\[xp_tx\]\) \{", code), code
    rng = np.random.default_rng(9)
    for rows, cols in ((3, 100), (2, 7)):
        x = rng.integers(-3, 3, rows * cols).astype(np.float32)  # ties: the first stays
        assert_same(print_cuda_loop_form(before), module, "running_argmax",
                    [("x", x), ("best", np.zeros(rows * 32, np.float32)), ("at", np.zeros(rows * 32, np.int32)),
                     ("rows", np.int32(rows)), ("cols", np.int32(cols))])


def test_a_read_made_only_on_a_further_condition_gets_no_unit_stride_version():
    """The first loop evaluates the index wherever the statement runs: one read only in a ?: branch (or right of
    &&) might not be defined there, so it is left as it was."""
    source = PIXEL_BLUR.replace("acc += plane[ih * w + iw] * (kh + 1);",
                                "acc += iw % 2 == 0 ? plane[ih * w + iw] : 1.0f;")
    before = loop_form(source)
    module = simdize(before)
    assert "xp_first" not in print_module(module)
    assert_same(print_cuda_loop_form(before), module, "blur", blur_args(9, 40, 3, 1, 1))


def test_a_loop_that_stores_to_memory_keeps_its_guarded_reads():
    """y may alias w: reading w once before the loop could miss a store of an earlier lane."""
    source = PADDED_CONV.replace("acc += row[at] * w[c * k + j];", "acc += row[at] * w[c * k + j];\n"
                                                                     "        y[c * n + i] = acc;")
    module = simdize(loop_form(source))
    assert simd_loops(module) and "reduction(|:" not in print_module(module)
    assert_same(print_cuda_loop_form(loop_form(source)), module, "dwconv", conv_args(150, 5))


# warp all-reduces by xor butterflies (a sum and a maximum), one warp per row of a two-warp block
XOR_ROWS = """
#include <cuda_runtime.h>
__global__ void xor_rows_kernel(const float* x, float* sums, float* maxes, int rows, int cols) {
    const int row = blockIdx.x * 2 + threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    float s = 0.0f, m = -1e30f;
    if (row < rows) {
        for (int c = lane; c < cols; c += 32) { s += x[row * cols + c]; m = fmaxf(m, x[row * cols + c]); }
    }
    for (int k = 16; k > 0; k >>= 1) {
        s += __shfl_xor_sync(0xffffffffu, s, k);
        m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, k));
    }
    if (row < rows) { sums[row * 32 + lane] = s; maxes[row * 32 + lane] = m; }
}
extern "C" void xor_rows(const float* x, float* sums, float* maxes, int rows, int cols) {
    float *dx, *ds, *dm;
    cudaMalloc(&dx, rows * cols * sizeof(float));
    cudaMalloc(&ds, rows * 32 * sizeof(float));
    cudaMalloc(&dm, rows * 32 * sizeof(float));
    cudaMemcpy(dx, x, rows * cols * sizeof(float), cudaMemcpyHostToDevice);
    xor_rows_kernel<<<(rows + 1) / 2, 64>>>(dx, ds, dm, rows, cols);
    cudaMemcpy(sums, ds, rows * 32 * sizeof(float), cudaMemcpyDeviceToHost);
    cudaMemcpy(maxes, dm, rows * 32 * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(ds);
    cudaFree(dm);
}
"""


def xor_rows_args(rows: int, cols: int) -> list:
    x = np.random.default_rng(7).standard_normal(rows * cols).astype(np.float32)
    return [("x", x), ("sums", np.zeros(rows * 32, np.float32)), ("maxes", np.zeros(rows * 32, np.float32)),
            ("rows", np.int32(rows)), ("cols", np.int32(cols))]


@pytest.mark.parametrize("first_offset", ["16", "32 / 2"])
def test_xor_butterflies_become_trees_on_each_warps_lower_half_with_the_same_bits(first_offset: str):
    """The two butterflies (a sum and a maximum sharing their lane loops) become, per warp, halving steps and a
    copy of lane 0's total; every lane's values are bit-identical to the butterflies' (assert_same is exact)."""
    before = loop_form(XOR_ROWS.replace("int k = 16;", f"int k = {first_offset};"))
    module = simdize(before)
    code = print_module(module)
    # one group loop around the two trees (in each version of the block: all rows in bounds, or not)
    assert 2 * code.count("xp_group += 32") == code.count("xp_lane < 32") >= 2 and "^" not in code, code
    for rows, cols in ((5, 77), (2, 32), (1, 3)):
        assert_same(print_cuda_loop_form(before), module, "xor_rows", xor_rows_args(rows, cols))


def test_a_butterfly_over_lanes_that_are_not_whole_groups_stays():
    """48 threads: the last warp is partial, so a lane's partner may not exist; the butterfly is kept."""
    source = XOR_ROWS.replace("<<<(rows + 1) / 2, 64>>>", "<<<(rows + 1) / 2, 48>>>")
    module = simdize(loop_form(source))
    assert "xp_group" not in print_module(module)


# thread 0 stores a block-uniform element of x into a block array: the store's target is not a load to hoist
FIRST_OF_BLOCK = """
#include <cuda_runtime.h>
__global__ void first_kernel(const float* x, float* y, int n) {
    __shared__ float head[1];
    const int i = blockIdx.x * 64 + threadIdx.x;
    if (threadIdx.x == 0) head[0] = x[blockIdx.x * 64];
    __syncthreads();
    if (i < n) y[i] = x[i] - head[0];
}
extern "C" void minus_first(const float* x, float* y, int n) {
    float *dx, *dy;
    cudaMalloc(&dx, n * sizeof(float));
    cudaMalloc(&dy, n * sizeof(float));
    cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice);
    first_kernel<<<(n + 63) / 64, 64>>>(dx, dy, n);
    cudaMemcpy(y, dy, n * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(dy);
}
"""


def test_an_element_the_loop_stores_is_not_hoisted_as_a_load():
    before = loop_form(FIRST_OF_BLOCK)
    module = simdize(before)
    code = print_module(module)
    assert "head[0] = xp_uniform;" in code, code  # x's element is hoisted; head, which the loop writes, is not
    x = np.random.default_rng(8).uniform(-1, 1, 150).astype(np.float32)
    assert_same(print_cuda_loop_form(before), module, "minus_first",
                [("x", x), ("y", np.zeros(150, np.float32)), ("n", np.int32(150))])


def gemm_args(m: int, n: int, k: int) -> list:
    rng = np.random.default_rng(11)
    return [("A", rng.uniform(-1, 1, m * k).astype(np.float32)), ("B", rng.uniform(-1, 1, k * n).astype(np.float32)),
            ("C", np.zeros(m * n, np.float32)), ("M", np.int32(m)), ("N", np.int32(n)), ("K", np.int32(k))]


def test_tile_loads_run_without_bounds_tests_where_the_whole_tile_is_inside():
    """gemm's padded tile loads (`gr < M && gk < K ? A[..] : 0`): the block body runs in a version without the
    tests of rows and columns where its 64 x 64 tile is inside (m0 + 63 < M, n0 + 63 < N), and in it each
    k step in a version without the test of k (k0 + 15 < K); the other versions keep the tests."""
    before = loop_form(_corpus("gemm"))
    after = simdize(before)
    code = print_cuda_loop_form(after)
    assert "if (xp_by * 64 + 63 < M && xp_bx * 64 + 63 < N) [[likely]] {" in code and "if (k0 + 15 < K) [[likely]] {" in code
    assert code.count("gk_1 < K && gc < N ? dB") == 1  # edge blocks
    assert code.count("= gk_1 < K ? dB") == 1  # the last k step of an interior block, if partial
    assert "Bs[k_1][c] = dB[(size_t)gk_1 * N + gc];" in code
    # interior blocks and edges in all three dimensions, and a matrix of edges only
    for sizes in ((80, 144, 72), (64, 64, 16), (5, 7, 3)):
        assert_same(print_cuda_loop_form(before), after, "gemm", gemm_args(*sizes))


# a 16 x 4 block stages 256 floats shared out over its threads, then each row of threads scales by its own row
STAGED_ROWS = """
#include <cuda_runtime.h>
__global__ void staged_rows_kernel(const float* x, float* y) {
    __shared__ float tile[256];
    const float* block = x + blockIdx.x * 256;
    for (int e = threadIdx.y * 16; e < 256; e += 64) tile[e + threadIdx.x] = block[e + threadIdx.x] * 2.0f;
    __syncthreads();
    for (int e = threadIdx.y * 16; e < 256; e += 64)
        y[blockIdx.x * 256 + e + threadIdx.x] = tile[255 - e - threadIdx.x] * (threadIdx.y + 1);
}
extern "C" void staged_rows(const float* x, float* y, int blocks) {
    staged_rows_kernel<<<blocks, dim3(16, 4)>>>(x, y);
}
"""


def test_a_tile_load_shared_out_over_the_threads_runs_as_one_loop_over_the_tile():
    """`for (e = ty * 16; e < 256; e += 64)` in each of 4 thread rows of 16 lanes: one loop over the tile in steps
    of the lanes, each thread's own steps still in order; the loop whose body reads the thread row stays."""
    before = loop_form(STAGED_ROWS)
    after = simdize(before)
    code = print_cuda_loop_form(after)
    assert "for (int e = 0; e < 256; e += 16) {" in code
    assert "e_1 = xp_ty * 16; e_1 < 256; e_1 += 64" in code
    x = np.random.default_rng(5).uniform(-1, 1, 3 * 256).astype(np.float32)
    assert_same(print_cuda_loop_form(before), after, "staged_rows",
                [("x", x), ("y", np.zeros_like(x)), ("blocks", np.int32(3))])
    gemm = print_cuda_loop_form(simdize(loop_form(_corpus("gemm"))))
    assert "for (int e_10 = 0; e_10 < 1024; e_10 += 16) {" in gemm and "xp_ty * 16;" not in gemm


def test_arithmetic_under_a_lane_condition_is_computed_on_every_lane_so_its_bounds_test_settles():
    """gemm's stores, `if (r >= M) continue;` then `c = n0 + tx + 16 * j; if (c < N) C[..] = ..`: c is computed on
    every lane (it cannot trap), so in the interior blocks `c < N` is settled and the stores are plain, not
    masked (the masked stores took 0.6 ms of gemm's 4.4 on an AVX2 EPYC); the edge blocks keep the test."""
    before = loop_form(_corpus("gemm"))
    after = simdize(before)
    code = print_cuda_loop_form(after)
    assert code.count("const int c_1 = n0 + xp_tx + j_3 * 16;") == 2 and code.count("if (c_1 < N) {") == 1
    assert_same(print_cuda_loop_form(before), after, "gemm", gemm_args(80, 72, 40))


def test_a_tile_read_only_as_a_broadcast_is_read_where_it_was_filled_from():
    """As (A's slab, transposed) is read by the lanes at As[k][ty + 16 * i], the same element for all lanes: where
    it is filled without a bounds test (the interior versions), its fill, a scatter, goes and the lanes read A;
    Bs, read per lane as contiguous vectors, stays a tile, and so does As where its fill tests bounds."""
    code = print_cuda_loop_form(simdize(loop_form(_corpus("gemm"))))
    interior = code.split("if (k0 + 15 < K) [[likely]] {")[1].split("} else {")[0]
    assert "As" not in interior and "Bs[k_1][c] = dB[(size_t)gk_1 * N + gc];" in interior
    assert "+= dA[(size_t)(m0 + (xp_ty + 16)) * K + (k0 + k_2)] * Bs[k_2][xp_tx];" in interior
    edges = code.replace(interior, "")
    assert "As[k][r] = gr < M && gk < K ? dA" in edges and "+= As[k_2][xp_ty + 16] * Bs[k_2][xp_tx];" in edges
    # the translation to cpp: no `omp simd` inside the lane loop around the register tile's k loop
    translated = translate(_corpus("gemm"), "cpp", native_compile=False).code
    assert "reduction(+:xp_sum" not in translated


# a 5-tap stencil over rows padded with zeros, one element per thread, blocks of 64
STENCIL = """
#include <cuda_runtime.h>
__global__ void stencil_kernel(const float* x, float* y, int n) {
    const int base = blockIdx.x * 64;
    float s = 0.0f;
    for (int d = -2; d < 3; d++) {
        const int i = base + (int)threadIdx.x + d;
        TAP
    }
    if (base + threadIdx.x < n) y[base + threadIdx.x] = s;
}
extern "C" void stencil(const float* x, float* y, int n) {
    float *dx, *dy;
    cudaMalloc(&dx, n * sizeof(float));
    cudaMalloc(&dy, n * sizeof(float));
    cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice);
    stencil_kernel<<<(n + 63) / 64, 64>>>(dx, dy, n);
    cudaMemcpy(y, dy, n * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(dy);
}
"""


@pytest.mark.parametrize("tap", ["if (i < 0 || i >= n) continue;\n        s += x[i] * (d + 3);",
                                 "if (i <= -1 || i > n - 1) continue;\n        s += x[i] * (d + 3);",
                                 "if (i >= 0 && i < n) s += x[i] * (d + 3);",
                                 "s += !(i < 0 || n <= i) ? x[i] * (d + 3) : 0.0f;"])
def test_bounds_tests_settled_for_a_whole_block_are_left_out_of_its_fast_version(tap: str):
    """Each way of writing the padding test gives the same version: a block whose taps are all inside
    (xp_bx * 64 - 2 >= 0 and xp_bx * 64 + 63 + 2 < n) runs without the tests; the result is the same for rows
    that end inside, at and just past a block, and shorter than the stencil."""
    before = loop_form(STENCIL.replace("TAP", tap))
    after = simdize(before)
    code = print_cuda_loop_form(after)
    assert "if (1 < xp_bx * 64 && xp_bx * 64 + 65 < n) [[likely]] {" in code, code
    fast = code.split("if (1 < xp_bx * 64")[1].split("} else {")[0]
    assert "< 0" not in fast and "-1" not in fast and "? dx" not in fast
    for n in (1, 3, 63, 64, 65, 66, 67, 130, 200):
        x = np.random.default_rng(n).uniform(-1, 1, n).astype(np.float32)
        assert_same(print_cuda_loop_form(before), after, "stencil",
                    [("x", x), ("y", np.zeros(n, np.float32)), ("n", np.int32(n))])


@pytest.mark.parametrize("filled", [16, 8])
def test_a_tile_is_read_at_its_source_only_where_its_fill_covers_it(filled: int):
    """`as` filled through named indices (as gemm's As): read at its source when the fill writes all 16
    elements; when it writes 8 (the others keep what an earlier step left there) the reads stay reads of it."""
    source = TILE_DOT_KEPT.replace(
        "for (int e = t; e < 16; e += 16) as[e / 2][e % 2] = a[k0 * 2 + e];",
        f"for (int e = t; e < {filled}; e += 16) {{ const int r = e / 2; const int c = e % 2; "
        "as[r][c] = a[k0 * 2 + r * 2 + c]; }")
    before = loop_form(source)
    after = simdize(before)
    kept = [n for n in walk(after) if isinstance(n, Decl) and n.name == "as"]
    assert bool(kept) == (filled < 16)
    assert bool(re.search(r"as\[k\]\[i_\d\]", print_cuda_loop_form(after))) == (filled < 16)
    if filled == 16:  # (a half-filled tile is read uninitialized: no result to compare)
        assert_same(print_cuda_loop_form(before), after, "tile_dot", tile_args(2))


def test_a_value_of_the_thread_index_used_by_several_thread_loops_is_computed_again_in_each():
    """`const int t = threadIdx.x;` read by the tap loop's lanes and by the store's: each SIMD loop computes it
    again (`base + xp_tx + d`, contiguous), instead of reading it from an array of one element per thread (a
    gather g++ cannot see through)."""
    source = STENCIL.replace("    const int base = blockIdx.x * 64;\n",
                             "    const int t = threadIdx.x;\n    const int base = blockIdx.x * 64;\n") \
        .replace("base + (int)threadIdx.x + d", "base + t + d").replace("base + threadIdx.x", "base + t") \
        .replace("TAP", "if (i < 0 || i >= n) continue;\n        s += x[i] * (d + 3);")
    before = loop_form(source)
    after = simdize(before)
    code = print_cuda_loop_form(after)
    assert not [n for n in walk(after) if isinstance(n, Decl) and n.name == "t"]
    assert "const int i = base + xp_tx + d;" in code and "if (1 < xp_bx * 64 && xp_bx * 64 + 65 < n) [[likely]] {" in code
    for n in (5, 64, 130):
        x = np.random.default_rng(n).uniform(-1, 1, n).astype(np.float32)
        assert_same(print_cuda_loop_form(before), after, "stencil",
                    [("x", x), ("y", np.zeros(n, np.float32)), ("n", np.int32(n))])
