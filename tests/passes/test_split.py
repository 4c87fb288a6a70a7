"""split: every variant runs and matches the original program exactly (same iterations, same order)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from kernel_ir.dialects import print_module
from kernel_ir.ir import For, ForKind, walk
from kernel_ir.parse import parse
from passes.base import PassRefused
from passes.loops import loop_var, loops_with_ancestors
from passes.split import SplitOptions, split
from tests.corpus import corpus_files
from tests.passes.loop_programs import assert_same, cuda_loop_form, smallest_args

ELEMENTWISE = """
extern "C" void ew(const float* a, const float* b, float* c, int n) {
#pragma omp parallel for
    for (int i = 0; i < n; i++) {
        c[i] = a[i] * b[i] + 1.0f;
    }
}
"""

GEMM = """
extern "C" void gemm(const float* A, const float* B, float* C, int M, int N, int K) {
#pragma omp parallel for
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; ++j) {
            float acc = 0.0f;
            for (int k = 0; k < K; k += 1) {
                acc += A[i * K + k] * B[k * N + j];
            }
            C[i * N + j] = acc;
        }
    }
}
"""

# a serial recurrence (order matters), a constant extent and a strided loop with a non-zero start
RECURRENCE = """
extern "C" void scan(const float* x, float* y, float* z, int n) {
    y[0] = x[0];
    for (int i = 1; i < n; i++) {
        y[i] = y[i - 1] * 0.5f + x[i];
    }
    for (int i = 0; i < 48; i++) {
        z[i] = x[i] * 3.0f;
    }
    for (int i = 3; i < n; i += 3) {
        z[i] = z[i] + y[i - 1];
        if (x[i] > 0.5f) continue;
        z[i] += 1.0f;
    }
}
"""

CONV1D = """
extern "C" void conv1d(const float* x, const float* w, float* y, int N, int C, int L, int F, int KW) {
    int OL = L - KW + 1;
#pragma omp parallel for
    for (int n = 0; n < N; n++) {
        for (int f = 0; f < F; f++) {
            for (int l = 0; l < OL; l++) {
                float acc = 0.0f;
                for (int c = 0; c < C; c++) {
                    for (int k = 0; k < KW; k++) {
                        acc += x[(n * C + c) * L + l + k] * w[(f * C + c) * KW + k];
                    }
                }
                y[(n * F + f) * OL + l] = acc;
            }
        }
    }
}
"""

RNG = np.random.default_rng(7)


def rand(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def ew_args(n: int) -> list:
    return [("a", rand(n)), ("b", rand(n)), ("c", np.zeros(n, np.float32)), ("n", np.int32(n))]


def gemm_args(m: int, n: int, k: int) -> list:
    return [("A", rand(m, k)), ("B", rand(k, n)), ("C", np.zeros((m, n), np.float32)),
            ("M", np.int32(m)), ("N", np.int32(n)), ("K", np.int32(k))]


def scan_args(n: int) -> list:
    return [("x", rand(max(n, 48))), ("y", np.zeros(n, np.float32)), ("z", np.zeros(max(n, 48), np.float32)),
            ("n", np.int32(n))]


@pytest.mark.parametrize("factor,tail", [(1, "guard"), (4, "guard"), (7, "peel"), (16, "peel")])
def test_elementwise(factor: int, tail: str) -> None:
    module = split(parse(ELEMENTWISE, "cpp"), SplitOptions("ew", "i", factor, tail))
    loops = [n for n in walk(module) if isinstance(n, For)]
    assert loops[0].kind == ForKind.parallel and loops[1].kind == ForKind.parallel
    for n in (0, 64, 37):
        assert_same(ELEMENTWISE, module, "ew", ew_args(n))


@pytest.mark.parametrize("loop,factor,tail", [("i", 3, "guard"), ("j", 4, "peel"), ("k", 5, "guard"),
                                              ("k", 8, "peel"), ("j", 2, "guard")])
def test_gemm(loop: str, factor: int, tail: str) -> None:
    module = split(parse(GEMM, "cpp"), SplitOptions("gemm", loop, factor, tail))
    assert_same(GEMM, module, "gemm", gemm_args(13, 10, 17))


def test_gemm_split_twice_same_loop() -> None:
    module = split(parse(GEMM, "cpp"), SplitOptions("gemm", "k", 8, "peel"))
    module = split(module, SplitOptions("gemm", "k_i", 2, "guard"))
    assert_same(GEMM, module, "gemm", gemm_args(5, 6, 21))


@pytest.mark.parametrize("occurrence,factor,tail", [(0, 4, "guard"), (0, 5, "peel"), (1, 4, "guard"),
                                                    (1, 5, "peel"), (1, 6, "guard"), (2, 2, "guard"),
                                                    (2, 4, "peel")])
def test_serial_order_and_constant_and_strided_extents(occurrence: int, factor: int, tail: str) -> None:
    module = split(parse(RECURRENCE, "cpp"), SplitOptions("scan", "i", factor, tail, occurrence=occurrence))
    for n in (1, 50, 61):
        assert_same(RECURRENCE, module, "scan", scan_args(n))


def test_constant_extent_dividing_needs_no_guard() -> None:
    module = split(parse(RECURRENCE, "cpp"), SplitOptions("scan", "i", 6, "guard", occurrence=1))
    text = print_module(module)
    assert "i_o < 8" in text and "< 48" not in text


SYMBOLIC_START = """
extern "C" void window(const float* x, float* y, int lo, int hi) {
    for (int i = lo; i < hi; i += 2) {
        y[i] = x[i] + x[i + 1];
    }
}
"""


@pytest.mark.parametrize("factor,tail", [(3, "guard"), (3, "peel"), (4, "peel")])
@pytest.mark.parametrize("lo,hi", [(1, 20), (5, 5), (7, 4), (0, 13)])
def test_symbolic_start_and_stop(factor: int, tail: str, lo: int, hi: int) -> None:
    module = split(parse(SYMBOLIC_START, "cpp"), SplitOptions("window", "i", factor, tail))
    assert_same(SYMBOLIC_START, module, "window", [("x", rand(24)), ("y", np.zeros(24, np.float32)),
                                                   ("lo", np.int32(lo)), ("hi", np.int32(hi))])


def test_conv1d_split_inner_window() -> None:
    module = split(parse(CONV1D, "cpp"), SplitOptions("conv1d", "l", 4, "guard"))
    module = split(module, SplitOptions("conv1d", "c", 2, "peel"))
    n, c, length, f, kw = 2, 3, 11, 4, 3
    args = [("x", rand(n, c, length)), ("w", rand(f, c, kw)), ("y", np.zeros((n, f, length - kw + 1), np.float32)),
            ("N", np.int32(n)), ("C", np.int32(c)), ("L", np.int32(length)), ("F", np.int32(f)), ("KW", np.int32(kw))]
    assert_same(CONV1D, module, "conv1d", args)


@settings(max_examples=8, deadline=None)
@given(factor=st.integers(1, 12), tail=st.sampled_from(["guard", "peel"]), n=st.integers(0, 40))
def test_random_factors_on_the_recurrence(factor: int, tail: str, n: int) -> None:
    module = split(parse(RECURRENCE, "cpp"), SplitOptions("scan", "i", factor, tail))
    assert_same(RECURRENCE, module, "scan", scan_args(max(n, 1)))


def test_refusals() -> None:
    module = parse(RECURRENCE, "cpp")
    with pytest.raises(PassRefused) as err:
        split(module, SplitOptions("scan", "q", 4))
    assert err.value.code == "XP530"
    with pytest.raises(PassRefused) as err:
        split(module, SplitOptions("scan", "i", 4, occurrence=3))
    assert err.value.code == "XP530"
    with pytest.raises(PassRefused) as err:
        split(module, SplitOptions("scan", "i", 0))
    assert err.value.code == "XP534"
    non_canonical = """
extern "C" void f(float* y, int n) {
    for (int i = 0; i < n; i++) {
        y[i] = 1.0f;
        i += 1;
    }
    for (int j = 0; j < n; j++) {
        if (y[j] > 2.0f) break;
        y[j] = 2.0f;
    }
}
"""
    with pytest.raises(PassRefused) as err:
        split(parse(non_canonical, "cpp"), SplitOptions("f", "i", 2))
    assert err.value.code == "XP531"
    with pytest.raises(PassRefused) as err:
        split(parse(non_canonical, "cpp"), SplitOptions("f", "j", 2))
    assert err.value.code == "XP531"


CORPUS_SUBSET = ("add", "softmax", "layernorm", "gemv", "gemm", "self_attention", "gemv_int8", "minpool", "concat",
                 "instancenorm")


def split_everywhere(module, factor: int):
    """Split every loop split accepts (innermost-last in pre-order first, so earlier positions stay valid)."""
    sites = []
    for fn in module.functions:
        if fn.body is None:
            continue
        seen: dict[str, int] = {}
        for match in loops_with_ancestors(fn.body, ()):
            var = loop_var(match.loop)
            sites.append((fn.name, var, seen.get(var, 0)))
            seen[var] = seen.get(var, 0) + 1
    count = 0
    for position, (function, var, occurrence) in reversed(list(enumerate(sites))):
        try:
            module = split(module, SplitOptions(function, var, factor, "peel" if position % 2 else "guard",
                                                occurrence=occurrence))
            count += 1
        except PassRefused:
            pass  # pragma clauses (collapse, reduction) or non-canonical loops: refused, not changed
    return module, count


@pytest.mark.parametrize("op", CORPUS_SUBSET)
def test_corpus_kernels_split_at_every_loop(op: str) -> None:
    (path,) = [p for _, name, p in corpus_files("cpp") if name == op]
    source = path.read_text()
    module, count = split_everywhere(parse(source, "cpp"), 3)
    assert count > 0
    assert_same(source, module, op, smallest_args(op))


@pytest.mark.parametrize("op", ["softmax", "conv1d", "transpose", "layernorm", "gather"])
def test_cuda_loop_forms_split_at_every_loop(op: str) -> None:
    """Real loop forms (grid/block loops, expanded thread arrays, unrolled loops) from the SIMT front half."""
    base = cuda_loop_form(op)
    module, count = split_everywhere(base, 3)
    assert count > 0
    assert_same(print_module(base, "cpp"), module, op, smallest_args(op))
