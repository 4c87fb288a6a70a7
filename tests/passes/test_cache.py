"""`cache` on BANG programs bound from small loop forms: each cached program is executed and compared with the
bound program on the same inputs (exactly: the arithmetic is unchanged, only where the data sits)."""
from __future__ import annotations

import numpy as np
import pytest

from kernel_ir.dialects import print_module
from kernel_ir.parse import parse
from passes.base import PassRefused
from passes.cache import CacheOptions, cache
from tests.passes.target_programs import assert_executes_like, bound, floats
from tests.passes.test_bind import ELEMENTWISE as AXPB  # y = scale(x, alpha) + b through a helper
from tests.passes.test_bind import ROW_REDUCTION as ROW_MAX

IN_PLACE_WITH_OFFSETS = """
extern "C" void shifted(const float* x, float* y, int n) {
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        float t = x[i + 1] * 0.5f;
        y[i + 3] = y[i + 3] - t + (float)i;
    }
}
"""

STENCIL = """
extern "C" void diff(const float* x, float* y, int n) {
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        y[i] = x[i + 1] - x[i];
    }
}
"""


def axpb_args(n: int) -> list:
    return [("x", floats(n)), ("b", floats(n)), ("y", np.zeros(n, np.float32)), ("n", np.int32(n)),
            ("alpha", np.float32(1.5))]


@pytest.mark.parametrize("n", [1, 101, 16 * 128 * 3 + 37])  # under one tile; tail; several tiles per task
def test_elementwise_tiles_through_nram(n: int) -> None:
    before = bound(AXPB)
    after = cache(before, CacheOptions(tile=128))
    code = assert_executes_like(before, after, "axpb", axpb_args(n))
    assert "__nram__ float x_nram[128]" in code
    assert code.count("GDRAM2NRAM") == 2 and code.count("NRAM2GDRAM") == 1  # y is only written
    assert "taskDim * 128" in code


def test_in_place_buffer_with_offsets_and_the_index_as_a_value() -> None:
    n = 300
    before = bound(IN_PLACE_WITH_OFFSETS)
    after = cache(before, CacheOptions(tile=128))
    code = assert_executes_like(before, after, "shifted",
                                [("x", floats(n + 1)), ("y", floats(n + 3)), ("n", np.int32(n))])
    assert "__memcpy(y_nram, y + (3 + i_tile), i_count * sizeof(float), GDRAM2NRAM);" in code  # read and written
    assert "__memcpy(y + (3 + i_tile), y_nram, i_count * sizeof(float), NRAM2GDRAM);" in code
    assert "int i = i_tile + i_lane;" in code


def test_tile_shrinks_to_fit_the_nram_budget() -> None:
    after = cache(bound(AXPB), CacheOptions(tile=4096, nram_budget=3 * 4 * 1024))
    assert "[1024]" in print_module(after)


def test_refuses_loops_that_are_not_maps() -> None:
    with pytest.raises(PassRefused) as err:
        cache(bound(STENCIL))
    assert err.value.code == "XP540" and "not the loop variable" in err.value.message


@pytest.mark.parametrize("cols", [2, 129, 300])  # one partial tile; a tile and one element; several tiles
def test_row_reduction_streams_each_row_through_nram_in_order(cols: int) -> None:
    rows = 37
    before = bound(ROW_MAX)
    after = cache(before, CacheOptions(tile=128))
    code = assert_executes_like(before, after, "row_max", [("x", floats(rows * cols)), ("y", np.zeros(rows, np.float32)),
                                                          ("rows", np.int32(rows)), ("cols", np.int32(cols))])
    assert "for (int c_tile = 1; c_tile < cols; c_tile += 128)" in code  # the row's tiles in order, in one task
    assert "__memcpy(x_nram, x + (r * cols + c_tile), c_count * sizeof(float), GDRAM2NRAM);" in code
    assert "best = fmaxf(best, x_nram[c_lane]);" in code and "NRAM2GDRAM" not in code


def test_refuses_other_targets_and_bad_tiles() -> None:
    for target in ("cuda", "cpp"):  # not a matmul kernel; no rule for cpp
        with pytest.raises(PassRefused) as err:
            cache(bound(AXPB, target))
        assert err.value.code == "XP540"
    with pytest.raises(PassRefused) as err:
        cache(bound(AXPB), CacheOptions(tile=100))
    assert err.value.code == "XP541"


MATMUL = """
extern "C" void mm(const %(a)s* A, const %(b)s* B, %(c)s* C, int M, int N, int K) {
    #pragma omp parallel for
    for (int i = 0; i < M; i += 1) {
        #pragma omp parallel for
        for (int j = 0; j < N; j += 1) {
            %(c)s acc = 1;
            for (int k = 0; k < K; k += 1) {
                acc += (%(c)s)A[i * K + k] * (%(c)s)B[%(b_index)s];
            }
            C[i * N + j] = acc * 2;
        }
    }
}
"""


def matmul_args(m: int, n: int, k: int, dtype=np.float32) -> list:
    rng = np.random.default_rng(3)
    a, b = (rng.integers(-9, 9, size).astype(dtype) for size in (m * k, k * n))
    return [("A", a), ("B", b), ("C", np.zeros(m * n, np.int32 if dtype == np.int8 else np.float32)),
            ("M", np.int32(m)), ("N", np.int32(n)), ("K", np.int32(k))]


@pytest.mark.parametrize("target", ["cuda", "hip"])
@pytest.mark.parametrize("m, n, k", [(19, 37, 23), (16, 32, 48), (1, 1, 1)])  # tails in every dimension
def test_matmul_kernel_stages_tiles_in_shared_memory(target: str, m: int, n: int, k: int) -> None:
    before = bound(MATMUL % {"a": "float", "b": "float", "c": "float", "b_index": "k * N + j"}, target)
    after = cache(before)
    code = assert_executes_like(before, after, "mm", matmul_args(m, n, k))  # same sums in the same order
    assert "__shared__ float tile_a[16][16];" in code and code.count("__syncthreads();") == 2
    assert "dim3(16, 16)" in code and "tile_a[ty][kk] * (float)tile_b[kk][tx];" in code


def test_transposed_int8_operands() -> None:
    before = bound(MATMUL % {"a": "int8_t", "b": "int8_t", "c": "int32_t", "b_index": "j * K + k"}, "cuda")
    code = assert_executes_like(before, cache(before), "mm", matmul_args(9, 20, 33, np.int8))
    assert "__shared__ signed char tile_b[16][16];" in code and "B[j * K + kb]" in code


def test_refuses_kernels_that_are_not_one_matmul_element_per_thread() -> None:
    one_row_per_thread = MATMUL.replace("        #pragma omp parallel for\n        for (int j", "        for (int j")
    with pytest.raises(PassRefused) as err:
        cache(bound(one_row_per_thread % {"a": "float", "b": "float", "c": "float", "b_index": "k * N + j"}, "cuda"))
    assert err.value.code == "XP540" and "one guarded thread per element" not in err.value.message[:20]


# A task loop calling helpers that are pure by analysis, not by shape: a loop, a local array, a branch, libm
# calls outside the loop passes' list (ldexpf), a bit view of a local, a global constant, a helper calling a
# helper. Beside it: the task's own read-only array read through a cast, and a comparison mask built by `if`s.
PURE_HELPERS = """
#include <bang.h>
#include <cmath>
constexpr float kScale = 0.75f;
__mlu_func__ float poly(float r) {
    float c[4];
    for (int i = 0; i < 4; i += 1) { c[i] = 1.0f / (float)(i + 1); }
    float p = c[3];
    for (int i = 2; i >= 0; --i) { p = fmaf(p, r, c[i]); }
    return p;
}
__mlu_func__ float squash(float x) {
    float k = nearbyintf(x * kScale);
    float t = poly(x - k);
    if (k > 4.0f) { k = 4.0f; }
    float flipped;
    *(int*)&flipped = *(int*)&t ^ (int)0x80000000;
    return ldexpf(flipped, (int)k);
}
__mlu_global__ void apply(const float* x, float* y, int n) {
    float sign_bit[4];
    for (int l = 0; l < 4; l += 1) { sign_bit[l] = -0.0f; }
    for (int i = taskId; i < n; i += taskDim) {
        float v = x[i];
        float w;
        *(int*)&w = *(int*)&v ^ ((int*)sign_bit)[0];
        unsigned long long mask = 0;
        if (w > 0.0f) { mask |= 1ULL; }
        y[i] = (mask & 1 ? squash(w) : 0.5f) + (float)i;
    }
}
"""


def test_pure_functions_are_proven_by_analysis() -> None:
    from passes.patterns import pure_functions

    impure = {"through_pointer": "__mlu_func__ float f(float* p) { *p = 1.0f; return 0.0f; }",
              "reads_global": "float g = 1.0f;\n__mlu_func__ float f(float a) { return a + g; }",
              "keeps_state": "__mlu_func__ float f(float a) { static float s = 0.0f; s += a; return s; }",
              "calls_unknown": "__mlu_func__ float f(float a) { return frexpf(a, 0); }",
              "address_escapes": "__mlu_func__ float f(float a) { float* q = &a; return *q; }"}
    module = parse(PURE_HELPERS, "bang")
    assert pure_functions(module) == {"poly", "squash"}
    for why, source in impure.items():
        assert "f" not in pure_functions(parse("#include <bang.h>\n#include <cmath>\n" + source, "bang")), why


@pytest.mark.parametrize("n", [1, 300, 16 * 128 * 2 + 37])  # under one tile; tail; several tiles per task
def test_task_loop_calling_pure_helpers_tiles_and_keeps_the_calls_scalar(n: int) -> None:
    before = parse(PURE_HELPERS, "bang")
    after = cache(before, CacheOptions(tile=128))
    code = assert_executes_like(before, after, "apply", [("x", floats(n) * 4), ("y", np.zeros(n, np.float32)),
                                                          ("n", np.int32(n))])
    assert "__memcpy(x_nram, x + i_tile, i_count * sizeof(float), GDRAM2NRAM);" in code
    assert "squash(w)" in code and "((int*)sign_bit)[0]" in code  # the call and the private array stay scalar


def test_refuses_a_task_loop_calling_an_impure_helper() -> None:
    source = PURE_HELPERS.replace("float p = c[3];", "float p = c[3] + kept;").replace(
        "constexpr float kScale = 0.75f;", "constexpr float kScale = 0.75f;\nfloat kept = 0.0f;")
    with pytest.raises(PassRefused) as err:
        cache(parse(source, "bang"))
    assert err.value.code == "XP540" and "calls squash, which is not known to be pure" in err.value.message
