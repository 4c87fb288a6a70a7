"""fuse: nested pairs (div/mod recovery) and adjacent siblings run exactly like the original; illegal fusions
are refused."""
from __future__ import annotations

import numpy as np
import pytest

from kernel_ir.dialects import print_module
from kernel_ir.ir import For, ForKind, walk
from kernel_ir.parse import parse
from passes.base import PassRefused
from passes.fuse import FuseOptions, fuse
from passes.loops import loop_var, loops_with_ancestors, single_for
from tests.corpus import corpus_files
from tests.passes.loop_programs import assert_same, cuda_loop_form, smallest_args

SCALE2D = """
extern "C" void scale2d(const float* a, float* b, int n, int m) {
#pragma omp parallel for
    for (int i = 0; i < n; i++) {
#pragma omp parallel for
        for (int j = 0; j < m; j++) {
            b[i * m + j] = a[i * m + j] * 2.0f + (float)j;
        }
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

# strided loops with non-zero starts, a constant extent, and a serial recurrence in the inner loop
STRIDED = """
extern "C" void strided(const float* x, float* y, int n, int m) {
    for (int i = 2; i < n; i += 2) {
        for (int j = 1; j < m; j += 3) {
            y[i * m + j] = x[i * m + j] + y[i * m + j - 1];
        }
    }
    for (int p = 0; p < 4; p++) {
        for (int q = 0; q < 6; q++) {
            y[p * 6 + q] += 1.0f;
        }
    }
}
"""

# producer / consumer siblings at the top level and inside a row loop; the others must be refused
SIBLINGS = """
extern "C" void sib(const float* x, float* t, float* y, float* z, int rows, int cols) {
    for (int i = 0; i < rows; i++) {
        float v = x[i * cols] * 2.0f;
        t[i] = v;
    }
    for (int q = 0; q < rows; q++) {
        float v = t[q] + 1.0f;
        y[q] = v;
    }
#pragma omp parallel for
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
            z[r * cols + c] = x[r * cols + c] * 3.0f;
        }
        for (int c = 0; c < cols; c++) {
            z[r * cols + c] = z[r * cols + c] + t[r];
        }
    }
}
"""

ILLEGAL = """
extern "C" void bad(const float* x, float* t, float* y, float* s, int n) {
    for (int i = 0; i < n; i++) {
        t[i] = x[i] * 2.0f;
    }
    for (int i = 0; i < n; i++) {
        y[i] = t[n - 1 - i];
    }
    for (int i = 0; i < n; i++) {
        t[i] = x[i] + 1.0f;
    }
    for (int i = 0; i < n; i++) {
        y[i] = t[i + 1];
    }
    for (int i = 0; i < n; i++) {
        s[0] += x[i];
    }
    for (int i = 0; i < n; i++) {
        y[i] = x[i] / s[0];
    }
    for (int i = 0; i < n; i++) {
        y[i] = 0.0f;
    }
    for (int i = 0; i < n - 1; i++) {
        y[i] = 1.0f;
    }
}
"""

RNG = np.random.default_rng(11)


def rand(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def loops_of(module) -> list[For]:
    return [n for n in walk(module) if isinstance(n, For)]


@pytest.mark.parametrize("n,m", [(0, 5), (5, 0), (7, 13), (16, 16), (1, 1)])
def test_nested_parallel_pair(n: int, m: int) -> None:
    module = fuse(parse(SCALE2D, "cpp"), FuseOptions("scale2d", "i", "j"))
    (loop,) = loops_of(module)
    assert loop.kind == ForKind.parallel
    assert_same(SCALE2D, module, "scale2d", [("a", rand(n, m)), ("b", np.zeros((n, m), np.float32)),
                                             ("n", np.int32(n)), ("m", np.int32(m))])


def test_nested_gemm_rows_and_columns() -> None:
    module = fuse(parse(GEMM, "cpp"), FuseOptions("gemm", "i", "j", name="ij"))
    assert loops_of(module)[0].kind == ForKind.serial  # the column loop was serial
    m, n, k = 9, 7, 5
    assert_same(GEMM, module, "gemm", [("A", rand(m, k)), ("B", rand(k, n)), ("C", np.zeros((m, n), np.float32)),
                                       ("M", np.int32(m)), ("N", np.int32(n)), ("K", np.int32(k))])


@pytest.mark.parametrize("outer,inner", [("i", "j"), ("p", "q")])
@pytest.mark.parametrize("n,m", [(11, 10), (2, 3), (3, 8)])
def test_nested_strided_and_constant(outer: str, inner: str, n: int, m: int) -> None:
    module = fuse(parse(STRIDED, "cpp"), FuseOptions("strided", outer, inner))
    size = max(n * m, 24)
    assert_same(STRIDED, module, "strided", [("x", rand(size)), ("y", rand(size)), ("n", np.int32(n)),
                                             ("m", np.int32(m))])


def test_siblings_top_level_and_inside_rows() -> None:
    module = fuse(parse(SIBLINGS, "cpp"), FuseOptions("sib", "i", "q"))
    module = fuse(module, FuseOptions("sib", "c", "c"))
    assert len(loops_of(module)) == 3
    rows, cols = 9, 6
    args = [("x", rand(rows, cols)), ("t", np.zeros(rows, np.float32)), ("y", np.zeros(rows, np.float32)),
            ("z", np.zeros((rows, cols), np.float32)), ("rows", np.int32(rows)), ("cols", np.int32(cols))]
    assert_same(SIBLINGS, module, "sib", args)
    assert loops_of(module)[1].kind == ForKind.parallel


@pytest.mark.parametrize("occurrence,code", [(0, "XP532"), (2, "XP532"), (4, "XP532"), (6, "XP531")])
def test_illegal_siblings_are_refused(occurrence: int, code: str) -> None:
    with pytest.raises(PassRefused) as err:
        fuse(parse(ILLEGAL, "cpp"), FuseOptions("bad", "i", "i", occurrence=occurrence))
    assert err.value.code == code


def test_unknown_or_unrelated_loops_are_refused() -> None:
    module = parse(SIBLINGS, "cpp")
    with pytest.raises(PassRefused) as err:
        fuse(module, FuseOptions("sib", "i", "zz"))
    assert err.value.code == "XP530"
    with pytest.raises(PassRefused) as err:
        fuse(module, FuseOptions("sib", "r", "c"))  # the row loop's body is two loops, not one
    assert err.value.code == "XP530"
    with pytest.raises(PassRefused) as err:
        fuse(module, FuseOptions("nope", "i", "q"))
    assert err.value.code == "XP530"


def test_corpus_kernels_fuse_or_refuse() -> None:
    """On real kernels (intrinsics, pragmas with clauses) every attempt either fuses or refuses with a code."""
    for _, op, path in corpus_files("cpp"):
        module = parse(path.read_text(), "cpp")
        for fn in module.functions:
            if fn.body is None:
                continue
            seen: dict[str, int] = {}
            for match in loops_with_ancestors(fn.body, ()):
                var = loop_var(match.loop)
                occurrence = seen.get(var, 0)
                seen[var] = occurrence + 1
                parent = match.ancestors[-1] if match.ancestors else None
                followers = [s for s in getattr(parent, "body", ()) if isinstance(s, For)]
                partners = [single_for(match.loop.body)] + followers
                for partner in partners:
                    if partner is None or partner is match.loop:
                        continue
                    try:
                        fuse(module, FuseOptions(fn.name, var, loop_var(partner), occurrence=occurrence))
                    except PassRefused as err:
                        assert err.code.startswith("XP53"), (op, err)


def fuse_everywhere(module, entry: str):
    """Fuse every nested pair fuse accepts, last in pre-order first so earlier occurrences stay valid."""
    fn = module.function(entry)
    seen: dict[str, int] = {}
    sites = []
    for match in loops_with_ancestors(fn.body, ()):
        var = loop_var(match.loop)
        inner = single_for(match.loop.body)
        if inner is not None:
            sites.append((var, loop_var(inner), seen.get(var, 0)))
        seen[var] = seen.get(var, 0) + 1
    count = 0
    for outer, inner, occurrence in reversed(sites):
        try:
            module = fuse(module, FuseOptions(entry, outer, inner, occurrence=occurrence))
            count += 1
        except PassRefused:
            pass
    return module, count


@pytest.mark.parametrize("op", ["gemm", "transpose", "self_attention", "minpool"])
def test_cuda_loop_forms_fuse_nested_pairs(op: str) -> None:
    base = cuda_loop_form(op)
    module, count = fuse_everywhere(base, op)
    assert count > 0
    assert_same(print_module(base, "cpp"), module, op, smallest_args(op))


def random_access(rng: np.random.Generator, array: str) -> str:
    """`array[...]` over i (and the inner j): mostly i * m + j or i, sometimes shifted or scaled."""
    shift = int(rng.choice([0, 0, 0, 1, -1])) + 8
    form = int(rng.integers(0, 4))
    index = ["i * m + j", "i", "2 * i + j", "m * j + i"][form]
    return f"{array}[{index} + {shift}]"


def random_siblings(seed: int, count: int) -> str:
    """`count` pairs of adjacent loops over i in [0, n) with an optional inner loop over j in [0, m)."""
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(count):
        loops = []
        for _ in range(2):
            target = random_access(rng, str(rng.choice(["A", "C"])))
            source = random_access(rng, str(rng.choice(["A", "B", "C"])))
            stmt = f"{target} = {source} * 0.5f + 1.0f;"
            if rng.random() < 0.5:
                stmt = f"for (int j = 0; j < m; j++) {{ {stmt} }}"
            else:
                stmt = "{ const int j = 0; " + stmt + " }"
            loops.append(f"for (int i = 0; i < n; i++) {{ {stmt} }}")
        pairs.append("\n".join(loops))
    body = "\n{\n".join(pairs) + "\n}" * (count - 1)
    return 'extern "C" void sib(float* A, const float* B, float* C, int n, int m) {\n' + body + "\n}\n"


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_siblings_accepted_fusions_are_exact(seed: int) -> None:
    """Soundness sweep: whatever sibling fusion the dependence test accepts must run the same."""
    source = random_siblings(seed, 6)
    module = parse(source, "cpp")
    accepted = 0
    for occurrence in reversed(range(6)):  # the first loop of pair p is the 2p-th loop over i
        try:
            module = fuse(module, FuseOptions("sib", "i", "i", occurrence=2 * occurrence))
            accepted += 1
        except PassRefused as err:
            assert err.code == "XP532", str(err)
    args = [("A", rand(1024)), ("B", rand(1024)), ("C", rand(1024)), ("n", np.int32(6)), ("m", np.int32(5))]
    assert_same(source, module, "sib", args)
