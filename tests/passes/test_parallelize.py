"""parallelize: independent serial loops become parallel (and run the same, now under OpenMP); every loop with a
dependence, an early exit or an unknown call stays serial."""
from __future__ import annotations

import numpy as np
import pytest

from kernel_ir.ir import For, ForKind, walk
from kernel_ir.parse import parse
from passes.loops import loop_var
from passes.parallelize import ParallelizeOptions, parallelize, parallelize_and_report
from passes.translate import translate
from tests.passes.loop_programs import assert_same
from tests.styles.specs import STYLES_DIR

GEMM = (STYLES_DIR / "cpp" / "matmul_plain.cpp").read_text()  # plain C: loops without pragmas
STEPS = """
extern "C" void relax(const float* x, float* y, int n, int steps) {
    for (int t = 0; t < steps; t++)
        for (int i = 0; i < n; i++) y[i] = 0.5f * y[i] + x[i];
}
"""
SERIAL = {  # each keeps a dependence between iterations (or something the test cannot see through)
    "prefix sum": "for (int i = 1; i < n; i++) y[i] = y[i - 1] + x[i];",
    "scalar reduction": "float s = 0.0f; for (int i = 0; i < n; i++) s += x[i]; y[0] = s;",
    "shift in place": "for (int i = 0; i < n - 1; i++) y[i] = y[i + 1] + x[i];",
    "scatter": "for (int i = 0; i < n; i++) y[idx[i]] += x[i];",
    "early exit": "for (int i = 0; i < n; i++) { if (x[i] < 0.0f) break; y[i] = x[i]; }",
    "unknown call": "for (int i = 0; i < n; i++) y[i] = x[i] + (float)rand();",
    "counter": "int k = 0; for (int i = 0; i < n; i++) { if (x[i] > 0.0f) { y[k] = x[i]; k++; } }",
}


def loop_kinds(module, function: str) -> dict[str, ForKind]:
    return {loop_var(n): n.kind for n in walk(module.function(function).body) if isinstance(n, For)}


def args_for(n: int = 23, m: int = 7, k: int = 5) -> list:
    rng = np.random.default_rng(0)
    return [("A", rng.uniform(-1, 1, n * k).astype(np.float32)), ("B", rng.uniform(-1, 1, k * m).astype(np.float32)),
            ("C", np.zeros(n * m, np.float32)), ("M", np.int32(n)), ("N", np.int32(m)), ("K", np.int32(k))]


def test_the_independent_loops_of_a_plain_gemm_become_parallel_and_run_the_same():
    module, notes = parallelize_and_report(parse(GEMM, "cpp"))
    assert loop_kinds(module, "matmul_plain") == {"row": ForKind.parallel, "col": ForKind.parallel, "k": ForKind.serial}
    assert notes == ["matmul_plain: loops over row, col are independent"]
    assert_same(GEMM, module, "matmul_plain", args_for())


def test_depth_limits_how_many_nested_loops_are_marked():
    one = parallelize(parse(GEMM, "cpp"), ParallelizeOptions(depth=1))
    assert loop_kinds(one, "matmul_plain") == {"row": ForKind.parallel, "col": ForKind.serial, "k": ForKind.serial}
    assert parallelize(parse(GEMM, "cpp"), ParallelizeOptions(depth=0)) == parse(GEMM, "cpp")


def test_a_loop_carrying_a_dependence_stays_serial_and_the_one_inside_it_is_marked():
    module = parallelize(parse(STEPS, "cpp"))
    assert loop_kinds(module, "relax") == {"t": ForKind.serial, "i": ForKind.parallel}
    rng = np.random.default_rng(1)
    assert_same(STEPS, module, "relax", [("x", rng.uniform(-1, 1, 31).astype(np.float32)),
                                         ("y", rng.uniform(-1, 1, 31).astype(np.float32)),
                                         ("n", np.int32(31)), ("steps", np.int32(4))])


@pytest.mark.parametrize("case", sorted(SERIAL))
def test_loops_with_a_dependence_or_an_unknown_effect_stay_serial(case):
    source = ("#include <cstdlib>\nextern \"C\" void f(const float* x, float* y, const int* idx, int n) { "
              + SERIAL[case] + " }")
    module, notes = parallelize_and_report(parse(source, "cpp"))
    assert all(kind == ForKind.serial for kind in loop_kinds(module, "f").values()) and notes == []


def test_helpers_called_by_the_entry_are_left_alone():
    source = """
static void fill(float* y, int n) { for (int i = 0; i < n; i++) y[i] = 1.0f; }
extern "C" void f(float* y, int n) { fill(y, n); }
"""
    module = parallelize(parse(source, "cpp"))
    assert loop_kinds(module, "fill") == {"i": ForKind.serial}


def test_plain_c_gemm_becomes_a_grid_of_threads_not_one_thread():
    code = translate(GEMM, "cuda", "cpp", native_compile=False).code
    assert "<<<dim3(1), dim3(1)>>>" not in code and "blockIdx" in code


def test_short_loops_of_constant_bounds_are_left_serial():
    """A vector's 16 lanes are not worth a kernel launch: only the loop over n is marked."""
    source = """
extern "C" void f(const float* x, float* y, int n) {
    for (int i = 0; i < n; i++) {
        float lanes[16];
        for (int l = 0; l < 16; l++) lanes[l] = x[i] * (float)l;
        float s = 0.0f;
        for (int l = 0; l < 16; l++) s += lanes[l];
        y[i] = s;
    }
}
"""
    module = parallelize(parse(source, "cpp"))
    assert [n.kind for n in walk(module.function("f").body) if isinstance(n, For)] == [
        ForKind.parallel, ForKind.serial, ForKind.serial]
    lanes = 'extern "C" void g(const float* x, float* y) { for (int l = 0; l < 16; l++) y[l] = 2.0f * x[l]; }'
    assert loop_kinds(parallelize(parse(lanes, "cpp")), "g") == {"l": ForKind.serial}
    assert loop_kinds(parallelize(parse(lanes, "cpp"), ParallelizeOptions(min_trips=8)), "g") == {"l": ForKind.parallel}
