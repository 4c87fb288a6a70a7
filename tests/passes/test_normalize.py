"""normalize: every flattened nest runs and matches the original loop form; nests it cannot prove stay as written."""
from __future__ import annotations

import numpy as np
import pytest
import sympy

from kernel_ir.ir import For, ForKind, Select, Var, walk
from kernel_ir.parse import parse
from passes.normalize import cdiv, normalize, normalize_and_report, prove_nonneg
from passes.recover_loops import recover_loops
from tests.passes.loop_programs import assert_same, cuda_loop_form, smallest_args

LAUNCH = """
extern "C" void {name}(const float* x, float* y, int n) {{
    float* d_x; float* d_y;
    cudaMalloc(&d_x, n * sizeof(float));
    cudaMalloc(&d_y, n * sizeof(float));
    cudaMemcpy(d_x, x, n * sizeof(float), cudaMemcpyHostToDevice);
    cudaMemcpy(d_y, y, n * sizeof(float), cudaMemcpyHostToDevice);
    {grid}
    k<<<grid, 64>>>(d_x, d_y, n);
    cudaMemcpy(y, d_y, n * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(d_x); cudaFree(d_y);
}}
"""

GUARDED = """
__global__ void k(const float* x, float* y, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = 2.0f * x[i] + 1.0f;
}
"""

EARLY_EXIT = """
__global__ void k(const float* x, float* y, int n) {
    int i = threadIdx.x + blockDim.x * blockIdx.x;
    if (i >= n) return;
    float v = x[i];
    y[i] = v > 0.0f ? v : 0.5f * v;
}
"""

GRID_STRIDE = """
__global__ void k(const float* x, float* y, int n) {
    const int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) y[i] = x[i] * x[i];
}
"""

ITEMS = """
__global__ void k(const float* x, float* y, int n) {
    const int base = blockIdx.x * 64 * 4 + threadIdx.x;
    for (int k = 0; k < 4; ++k) {
        const int i = base + k * 64;
        if (i < n) y[i] = x[i] - 3.0f;
    }
}
"""

CEIL_GRID = "int grid = (n + 63) / 64;"
CLAMPED_GRID = "int grid = (n + 63) / 64; if (grid > 3) grid = 3;"
ITEMS_GRID = "int grid = (n + 255) / 256;"

# refusals: the work uses the thread index itself; a block-shared reduction; a serial item loop whose elements
# depend on each other; an index that skips elements
USES_THREAD = """
__global__ void k(const float* x, float* y, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = x[i] + (float)threadIdx.x;
}
"""

SHARED_SUM = """
__global__ void k(const float* x, float* y, int n) {
    __shared__ float s[64];
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    s[threadIdx.x] = i < n ? x[i] : 0.0f;
    __syncthreads();
    if (threadIdx.x == 0) {
        float t = 0.0f;
        for (int j = 0; j < 64; j++) t += s[j];
        y[blockIdx.x] = t;
    }
}
"""

CHAINED_ITEMS = """
__global__ void k(const float* x, float* y, int n) {
    const int base = blockIdx.x * 64 * 4 + threadIdx.x;
    for (int k = 0; k < 4; ++k) {
        const int i = base + k * 64;
        if (i < n) y[i] = (i % 256 >= 64 ? y[i - 64] : 0.0f) + x[i];
    }
}
"""

GAPS = """
__global__ void k(const float* x, float* y, int n) {
    const int i = blockIdx.x * blockDim.x * 2 + threadIdx.x;
    if (i < n) y[i] = x[i] + 1.0f;
}
"""

GRID_2D = """
__global__ void k2(const float* x, float* y, int rows, int cols) {
    const int r = blockIdx.y * blockDim.y + threadIdx.y;
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (r < rows && c < cols) y[r * cols + c] = x[r * cols + c] * 0.5f + (float)r;
}
extern "C" void scale2d(const float* x, float* y, int rows, int cols) {
    float* d_x; float* d_y;
    cudaMalloc(&d_x, rows * cols * sizeof(float));
    cudaMalloc(&d_y, rows * cols * sizeof(float));
    cudaMemcpy(d_x, x, rows * cols * sizeof(float), cudaMemcpyHostToDevice);
    dim3 block(8, 4);
    dim3 grid((cols + 7) / 8, (rows + 3) / 4);
    k2<<<grid, block>>>(d_x, d_y, rows, cols);
    cudaMemcpy(y, d_y, rows * cols * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(d_x); cudaFree(d_y);
}
"""

RNG = np.random.default_rng(11)


def program(kernel: str, grid: str, name: str = "ew") -> str:
    return kernel + LAUNCH.format(name=name, grid=grid)


def loop_form(source: str):
    return recover_loops(parse(source, "cuda"))


def args(n: int) -> list:
    return [("x", RNG.standard_normal(n).astype(np.float32)), ("y", RNG.standard_normal(n).astype(np.float32)),
            ("n", np.int32(n))]


def parallel_loops(module) -> list[For]:
    return [n for n in walk(module) if isinstance(n, For) and n.kind == ForKind.parallel]


def assert_flat(source: str, entry: str, sizes: tuple[int, ...], axis: str = "blockIdx.x") -> object:
    before = loop_form(source)
    after, notes = normalize_and_report(before)
    assert notes and notes[0].startswith("flattened"), notes
    loops = parallel_loops(after)
    assert [loop.axis for loop in loops] == [axis]
    assert not any(l.axis.startswith("threadIdx") for l in loops)
    for n in sizes:
        assert_same(print_cpp(before), after, entry, args(n))
    return after


def print_cpp(module) -> str:
    from kernel_ir.dialects import print_module
    return print_module(module, "cpp")


@pytest.mark.parametrize("kernel,grid", [(GUARDED, CEIL_GRID), (EARLY_EXIT, CEIL_GRID), (GRID_STRIDE, CEIL_GRID),
                                         (GRID_STRIDE, CLAMPED_GRID), (ITEMS, ITEMS_GRID)])
def test_simt_spaces_become_one_loop_over_n(kernel: str, grid: str) -> None:
    after = assert_flat(program(kernel, grid), "ew", (0, 500))
    (loop,) = parallel_loops(after)
    assert loop.cond.rhs == Var("n"), "the bound should be proven to be n"
    assert "d_x[i]" in print_cpp(after) and "x_1" not in print_cpp(after), "aliases are forwarded"


def test_guard_with_unproven_coverage_keeps_the_exact_bound() -> None:
    # the grid is clamped to 3 blocks of 64: only the first 192 elements are written, before and after
    after = assert_flat(program(GUARDED, CLAMPED_GRID), "ew", (10, 192, 500))
    (loop,) = parallel_loops(after)
    assert isinstance(loop.cond.rhs, Select)


def test_2d_grid_becomes_a_2_deep_nest() -> None:
    before = loop_form(GRID_2D)
    after = normalize(before)
    loops = parallel_loops(after)
    assert [loop.axis for loop in loops] == ["blockIdx.y", "blockIdx.x"]
    assert loops[1] in list(walk(loops[0].body))
    for rows, cols in ((1, 1), (13, 9)):
        a = [("x", RNG.standard_normal(rows * cols).astype(np.float32)), ("y", np.zeros(rows * cols, np.float32)),
             ("rows", np.int32(rows)), ("cols", np.int32(cols))]
        assert_same(print_cpp(before), after, "scale2d", a)


@pytest.mark.parametrize("kernel,grid,why", [
    (USES_THREAD, CEIL_GRID, "besides its element numbers"),
    (SHARED_SUM, CEIL_GRID, "one thread loop nest"),
    (CHAINED_ITEMS, ITEMS_GRID, "two offsets"),
    (GAPS, CEIL_GRID, "without gaps"),
])
def test_unprovable_nests_are_kept(kernel: str, grid: str, why: str) -> None:
    before = loop_form(program(kernel, grid))
    after, notes = normalize_and_report(before)
    assert notes and notes[0].startswith("kept") and why in notes[0], notes
    assert any(l.axis.startswith("threadIdx") for l in parallel_loops(after))
    assert_same(print_cpp(before), after, "ew", args(300))


@pytest.mark.parametrize("op", ["relu", "sigmoid", "sine", "concat"])
def test_corpus_kernels_flatten_and_run_the_same(op: str) -> None:
    before = cuda_loop_form(op)
    after, notes = normalize_and_report(before)
    assert any(n.startswith("flattened") for n in notes), notes
    assert not any(l.axis.startswith("threadIdx") for l in parallel_loops(after))
    assert_same(print_cpp(before), after, op, smallest_args(op))


def test_prover() -> None:
    n, s = sympy.Symbol("n", integer=True, positive=True), sympy.Symbol("s", integer=True)
    assert prove_nonneg(cdiv(n + 255, 256) * 256 - n)  # a ceil-divided grid covers n
    assert not prove_nonneg(cdiv(n + 254, 256) * 256 - n)
    assert not prove_nonneg(sympy.Min(cdiv(n + 255, 256), 8) * 256 - n)  # clamped: it does not
    assert prove_nonneg(sympy.Min(cdiv(n + 255, 256), 8) * 256 - 1)  # but it is not empty
    assert prove_nonneg(sympy.Max(s, 1) - 1) and not prove_nonneg(s)


def test_translation_to_bang_stages_the_flattened_loop() -> None:
    from passes.translate import translate
    from tests.corpus import corpus_files

    (path,) = [p for _, name, p in corpus_files("cuda") if name == "sigmoid"]
    notes = {p.name: p.note for p in translate(path.read_text(), "bang", "cuda", native_compile=False).passes}
    assert notes["normalize"].startswith("flattened") and notes["cache"] == "applied", notes


# ------------------------------------------------------------------------------------------------ functors ----

FUNCTOR = """
struct Halve {
    __device__ float operator()(float v) const { return 0.5f * v + fabsf(v); }
};
template <typename Op>
__global__ void k(const float* x, float* y, int n, Op op) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = op(x[i]);
}
extern "C" void ew(const float* x, float* y, int n) {
    float* d_x; float* d_y;
    cudaMalloc(&d_x, n * sizeof(float));
    cudaMalloc(&d_y, n * sizeof(float));
    cudaMemcpy(d_x, x, n * sizeof(float), cudaMemcpyHostToDevice);
    k<<<(n + 63) / 64, 64>>>(d_x, d_y, n, Halve{});
    cudaMemcpy(y, d_y, n * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(d_x); cudaFree(d_y);
}
"""


def test_functor_calls_become_helper_calls() -> None:
    before = loop_form(FUNCTOR)
    after, notes = normalize_and_report(before)
    assert any(n.startswith("called Halve_apply") for n in notes), notes
    text = print_cpp(after)
    assert "Halve_apply(d_x[i])" in text and "Halve op" not in text
    for n in (0, 1, 130):
        assert_same(print_cpp(before), after, "ew", args(n))


def test_functor_parameter_of_a_hip_template_kernel_runs_on_bang() -> None:
    """Regression: the functor parameter `f` of a template kernel launched by hipLaunchKernelGGL was dropped
    while a call of it remained (g++: `f` was not declared); the BANG translation must run and agree."""
    from passes.translate import translate_checked
    from tests.corpus import corpus_files

    (path,) = [p for _, name, p in corpus_files("hip") if name == "sigmoid"]
    checked = translate_checked(path.read_text(), "bang", "hip")
    assert checked.status == "verified", checked.verification.reason
    assert "Sigmoid_apply(" in checked.translation.code


@pytest.mark.parametrize("struct", [
    "struct Halve { float s = 0.5f; __device__ float operator()(float v) const { return s * v; } };",  # state
    "__device__ float g; struct Halve { __device__ float operator()(float v) const { return v * g; } };",  # global
])
def test_functors_with_state_are_kept(struct: str) -> None:
    source = FUNCTOR.replace(FUNCTOR[:FUNCTOR.index("template")], struct + "\n")
    before = loop_form(source)
    after, notes = normalize_and_report(before)
    assert not any(n.startswith("called") for n in notes), notes
    assert "Halve_apply" not in print_cpp(after)


# ------------------------------------------------------------------------------------------------ lanes -------

def cpp_loop_form(source: str):
    from passes.detensorize import detensorize
    return recover_loops(detensorize(parse(source, "cpp")))


MASKED_MAIN = """
#include <immintrin.h>
extern "C" void ew(const float* x, float* y, int n) {
    const __m512 half = _mm512_set1_ps(0.5f);
#pragma omp parallel for
    for (int i = 0; i < n; i += 16) {
        const int rem = n - i;
        const __mmask16 m = rem >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << rem) - 1u);
        const __m512 v = _mm512_maskz_loadu_ps(m, x + i);
        _mm512_mask_storeu_ps(y + i, m, _mm512_max_ps(_mm512_mul_ps(v, half), v));
    }
}
"""

HELPER_AND_MASKED_TAIL = """
#include <immintrin.h>
static inline __m512 twice_plus_one(__m512 v) {
    return _mm512_add_ps(_mm512_add_ps(v, v), _mm512_set1_ps(1.0f));
}
extern "C" void ew(const float* x, float* y, int n) {
    const int full = n & ~15;
#pragma omp parallel for
    for (int i = 0; i < full; i += 16) {
        _mm512_storeu_ps(y + i, twice_plus_one(_mm512_loadu_ps(x + i)));
    }
    if (full < n) {
        const __mmask16 m = (__mmask16)((1u << (n - full)) - 1u);
        _mm512_mask_storeu_ps(y + full, m, twice_plus_one(_mm512_maskz_loadu_ps(m, x + full)));
    }
}
"""

OTHER_SCALAR_TAIL = """
#include <immintrin.h>
extern "C" void ew(const float* x, float* y, int n) {
    const int full = n / 16 * 16;
#pragma omp parallel for
    for (int i = 0; i < full; i += 16) {
        _mm512_storeu_ps(y + i, _mm512_sub_ps(_mm512_loadu_ps(x + i), _mm512_set1_ps(2.0f)));
    }
    for (int i = full; i < n; ++i) y[i] = x[i] - 3.0f;
}
"""

# The vector loop's index declared before it, so the tail starts where it stopped (masked or scalar tail).
OUTER_INDEX_MASKED_TAIL = """
#include <immintrin.h>
extern "C" void ew(const float* x, float* y, int n) {
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 v = _mm512_loadu_ps(x + i);
        _mm512_storeu_ps(y + i, _mm512_mul_ps(v, v));
    }
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        const __m512 v = _mm512_maskz_loadu_ps(m, x + i);
        _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(v, v));
    }
}
"""

OUTER_INDEX_SCALAR_TAIL = """
#include <immintrin.h>
extern "C" void ew(const float* x, float* y, int n) {
    int i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_add_ps(_mm512_loadu_ps(x + i), _mm512_set1_ps(1.0f)));
    for (; i < n; ++i) y[i] = x[i] + 1.0f;
}
"""

CROSS_LANE = """
#include <immintrin.h>
extern "C" void ew(const float* x, float* y, int n) {
#pragma omp parallel for
    for (int i = 0; i < n / 16 * 16; i += 16) {
        const __m512 v = _mm512_loadu_ps(x + i);
        _mm512_storeu_ps(y + i, _mm512_add_ps(v, _mm512_set1_ps(_mm512_reduce_add_ps(v))));
    }
}
"""


@pytest.mark.parametrize("source,merged", [(MASKED_MAIN, True), (HELPER_AND_MASKED_TAIL, True),
                                           (OUTER_INDEX_MASKED_TAIL, True)])
def test_lane_loops_become_one_loop_over_the_elements(source: str, merged: bool) -> None:
    before = cpp_loop_form(source)
    after, notes = normalize_and_report(before)
    assert any(n.startswith("scalarized the 16-lane loop") and n.count("< n`") for n in notes), notes
    text = print_cpp(after)
    assert "[16]" not in text and "mask" not in text.split("extern")[1], text
    (loop,) = [n for n in walk(after) if isinstance(n, For) and n.cond.rhs == Var("n")]
    for n in (0, 1, 15, 16, 17, 40):
        assert_same(print_cpp(before), after, "ew", args(n))


def test_a_tail_computing_something_else_stays_after_the_scalar_main_loop() -> None:
    before = cpp_loop_form(OTHER_SCALAR_TAIL)
    after, notes = normalize_and_report(before)
    assert notes == ("scalarized the 16-lane loop over i_it into `for i < full`",), notes
    assert "x[i] - 3.0f" in print_cpp(after)
    for n in (0, 5, 16, 37):
        assert_same(print_cpp(before), after, "ew", args(n))


def test_a_scalar_tail_from_the_outer_index_starts_where_the_vector_loop_stopped() -> None:
    before = cpp_loop_form(OUTER_INDEX_SCALAR_TAIL)
    after, notes = normalize_and_report(before)
    assert notes == ("scalarized the 16-lane loop over i_chunk into `for i < 16 * (n / 16)`",), notes
    assert "for (int i = n / 16 * 16; i < n; i += 1)" in print_cpp(after), print_cpp(after)
    for n in (0, 5, 16, 37):
        assert_same(print_cpp(before), after, "ew", args(n))


def test_an_outer_index_written_after_the_vector_loop_keeps_the_loop() -> None:
    source = """
#include <immintrin.h>
extern "C" void ew(const float* x, float* y, int n) {
    int i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_loadu_ps(x + i));
    y[0] = (float)i;
    i = 3;
    y[1] = (float)i;
}
"""
    before = cpp_loop_form(source)
    after, _ = normalize_and_report(before)
    assert "i + 16 <= n" in print_cpp(after)
    assert_same(print_cpp(before), after, "ew", args(37))


def test_lane_loops_mixing_lanes_are_kept() -> None:
    before = cpp_loop_form(CROSS_LANE)
    after, notes = normalize_and_report(before)
    assert notes and notes[0].startswith("kept the lane loop"), notes
    assert "[16]" in print_cpp(after)
    assert_same(print_cpp(before), after, "ew", args(40))


@pytest.mark.parametrize("op", ["add", "relu", "gelu", "sigmoid", "sine"])
def test_corpus_avx512_kernels_scalarize_and_run_the_same(op: str) -> None:
    from passes.detensorize import detensorize
    from tests.corpus import corpus_files
    from tests.corpus.specs import SPECS, make_args

    (path,) = [p for _, name, p in corpus_files("cpp") if name == op]
    before = recover_loops(detensorize(parse(path.read_text(), "cpp")))
    after, notes = normalize_and_report(before)
    assert any(n.startswith("scalarized") for n in notes), notes
    for n in (0, 1, 33):
        assert_same(print_cpp(before), after, op, make_args(SPECS[op], {"n": n}))


VECTOR_MAIN = """
__global__ void k(const float* x, float* y, int n) {
    const int nv = n >> 2;
    const float4* x4 = reinterpret_cast<const float4*>(x);
    float4* y4 = reinterpret_cast<float4*>(y);
    const int tid = blockIdx.x * blockDim.x + threadIdx.x;
    for (int i = tid; i < nv; i += gridDim.x * blockDim.x) {
        const float4 v = x4[i];
        y4[i] = make_float4(v.x * 2.0f - 1.0f, v.y * 2.0f - 1.0f, v.z * 2.0f - 1.0f, %(w)s);
    }
%(tail)s
}
"""
ONE_SHOT_TAIL = """    const int t = (nv << 2) + tid;
    if (t < n) y[t] = x[t] * 2.0f - 1.0f;"""
LOOP_TAIL = """    for (int t = nv * 4 + tid; t < n; t += gridDim.x * blockDim.x) y[t] = x[t] * 2.0f - 1.0f;"""
VECTOR_GRID = "int grid = ((n >> 2) + 63) / 64; if (grid < 1) grid = 1;"


@pytest.mark.parametrize("tail", [ONE_SHOT_TAIL, LOOP_TAIL])
def test_vector_loop_and_scalar_tail_merge_into_one_loop(tail: str) -> None:
    kernel = VECTOR_MAIN % {"w": "v.w * 2.0f - 1.0f", "tail": tail}
    after = assert_flat(program(kernel, VECTOR_GRID), "ew", (1, 3, 4, 517, 1000))  # tails of 1 and 3; none
    (loop,) = parallel_loops(after)
    assert loop.cond.rhs == Var("n") and "float4" not in print_cpp(after).split("void ew")[1]


@pytest.mark.parametrize("w,tail,why", [
    ("v.x * 2.0f - 1.0f", ONE_SHOT_TAIL, "more than its element numbers"),  # lane w reads lane x
    ("v.w * 2.0f - 1.0f", ONE_SHOT_TAIL.replace("2.0f", "3.0f"), "more than its element numbers"),  # another op
    ("v.w * 2.0f - 1.0f", ONE_SHOT_TAIL.replace("(nv << 2)", "(nv << 1)"), "more than its element numbers"),
])
def test_vector_loops_whose_tail_is_not_the_same_map_are_kept(w: str, tail: str, why: str) -> None:
    before = loop_form(program(VECTOR_MAIN % {"w": w, "tail": tail}, VECTOR_GRID))
    after, notes = normalize_and_report(before)
    assert notes and notes[0].startswith("kept") and why in notes[0], notes
    assert_same(print_cpp(before), after, "ew", args(517))
