"""reorder: legal permutations run bit-identically; dependence-breaking ones are refused, and float reductions
are only reordered with allow_reassociation (then results agree within tolerance)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from kernel_ir.dialects import print_module
from kernel_ir.ir import For, walk
from kernel_ir.parse import parse
from passes.base import PassRefused
from passes.loops import loop_var, loops_with_ancestors, single_for
from passes.reorder import ReorderOptions, reorder
from tests.corpus import corpus_files
from tests.passes.loop_programs import cuda_loop_form, run, smallest_args

GEMM = """
extern "C" void gemm(const float* A, const float* B, float* C, int M, int N, int K) {
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            C[i * N + j] = 0.0f;
        }
    }
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            for (int k = 0; k < K; k++) {
                C[i * N + j] += A[i * K + k] * B[k * N + j];
            }
        }
    }
}
"""

CONV1D = """
extern "C" void conv1d(const float* x, const float* w, float* y, int N, int C, int L, int F, int KW) {
    int OL = L - KW + 1;
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

REDUCE = """
extern "C" void total(const float* x, float* s, const int* v, int* t, int n, int m) {
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < m; j++) {
            s[0] += x[i * m + j] * 1.5f;
        }
    }
    for (int p = 0; p < n; p++) {
        for (int q = 0; q < m; q++) {
            t[0] += v[p * m + q] * (p + 1) + q;
        }
    }
}
"""

# a[i][j] reads a[i-1][j+1]: the dependence has direction (<, >), so interchanging i and j is illegal
WAVEFRONT = """
extern "C" void wave(float* a, const float* b, int n, int m) {
    for (int i = 1; i < n; i++) {
        for (int j = 0; j < m - 1; j++) {
            a[i * m + j] = a[(i - 1) * m + j + 1] * 0.5f + b[i * m + j];
        }
    }
}
"""

# an iteration-private scratch array in the body, and a helper that writes through a pointer
PRIVATE = """
static inline float twice(float v) { return 2.0f * v; }
static void bump(float* p) { p[0] += 1.0f; }
extern "C" void priv(const float* x, float* y, int n, int m) {
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < m; j++) {
            float tmp[3];
            for (int k = 0; k < 3; k++) {
                tmp[k] = x[i * m + j] * (float)k;
            }
            y[i * m + j] = twice(tmp[0] + tmp[1] * tmp[2]);
        }
    }
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < m; j++) {
            bump(&y[i * m + j]);
        }
    }
}
"""

RNG = np.random.default_rng(5)


def rand(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def compare(source: str, module, entry: str, args: list, rtol: float = 0.0) -> None:
    want, got = run(source, entry, args), run(module, entry, args)
    for name in want:
        if rtol:
            np.testing.assert_allclose(got[name], want[name], rtol=rtol, atol=rtol)
        else:
            np.testing.assert_array_equal(got[name], want[name], err_msg=f"{name} differs\n{print_module(module)}")


def loop_vars(module) -> list[str]:
    return [n.init[0].name for n in walk(module) if isinstance(n, For)]


@pytest.mark.parametrize("order", list(itertools.permutations("ijk")))
def test_gemm_every_order_is_exact(order: tuple[str, ...]) -> None:
    module = reorder(parse(GEMM, "cpp"), ReorderOptions("gemm", order, occurrence=1))
    assert loop_vars(module)[2:] == list(order)
    m, n, k = 7, 9, 11
    compare(GEMM, module, "gemm", [("A", rand(m, k)), ("B", rand(k, n)), ("C", rand(m, n)), ("M", np.int32(m)),
                                   ("N", np.int32(n)), ("K", np.int32(k))])


@pytest.mark.parametrize("order", [("l", "f", "n"), ("f", "n", "l"), ("n", "l", "f")])
def test_conv1d_output_loops(order: tuple[str, ...]) -> None:
    module = reorder(parse(CONV1D, "cpp"), ReorderOptions("conv1d", order))
    n, c, length, f, kw = 2, 3, 12, 5, 4
    compare(CONV1D, module, "conv1d", [("x", rand(n, c, length)), ("w", rand(f, c, kw)),
                                       ("y", np.zeros((n, f, length - kw + 1), np.float32)), ("N", np.int32(n)),
                                       ("C", np.int32(c)), ("L", np.int32(length)), ("F", np.int32(f)),
                                       ("KW", np.int32(kw))])


def reduce_args(n: int, m: int) -> list:
    return [("x", rand(n, m)), ("s", np.zeros(1, np.float32)),
            ("v", RNG.integers(-1000, 1000, (n, m)).astype(np.int32)), ("t", np.zeros(m, np.int32)),
            ("n", np.int32(n)), ("m", np.int32(m))]


def test_float_reduction_needs_reassociation() -> None:
    module = parse(REDUCE, "cpp")
    with pytest.raises(PassRefused) as err:
        reorder(module, ReorderOptions("total", ("j", "i")))
    assert err.value.code == "XP533"
    swapped = reorder(module, ReorderOptions("total", ("j", "i"), allow_reassociation=True))
    assert loop_vars(swapped)[:2] == ["j", "i"]
    compare(REDUCE, swapped, "total", reduce_args(33, 17), rtol=1e-4)


def test_integer_reduction_reorders_exactly() -> None:
    module = reorder(parse(REDUCE, "cpp"), ReorderOptions("total", ("q", "p")))
    assert loop_vars(module)[2:] == ["q", "p"]
    compare(REDUCE, module, "total", reduce_args(13, 8))


def test_dependent_interchange_is_refused() -> None:
    with pytest.raises(PassRefused) as err:
        reorder(parse(WAVEFRONT, "cpp"), ReorderOptions("wave", ("j", "i")))
    assert err.value.code == "XP532"
    same = reorder(parse(WAVEFRONT, "cpp"), ReorderOptions("wave", ("i", "j")))
    compare(WAVEFRONT, same, "wave", [("a", rand(6, 5)), ("b", rand(6, 5)), ("n", np.int32(6)), ("m", np.int32(5))])


def test_refusals_for_shape_and_names() -> None:
    conv = parse(CONV1D, "cpp")
    with pytest.raises(PassRefused) as err:
        reorder(conv, ReorderOptions("conv1d", ("c", "l")))  # l's body is not just the c loop
    assert err.value.code == "XP531"
    with pytest.raises(PassRefused) as err:
        reorder(conv, ReorderOptions("conv1d", ("zz", "n")))
    assert err.value.code == "XP530"
    with pytest.raises(PassRefused) as err:
        reorder(conv, ReorderOptions("conv1d", ("n", "n")))
    assert err.value.code == "XP534"
    triangular = """
extern "C" void tri(float* a, int n) {
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < i; j++) {
            a[i * n + j] = 1.0f;
        }
    }
}
"""
    with pytest.raises(PassRefused) as err:
        reorder(parse(triangular, "cpp"), ReorderOptions("tri", ("j", "i")))
    assert err.value.code == "XP531"


def test_private_scratch_and_helpers() -> None:
    module = reorder(parse(PRIVATE, "cpp"), ReorderOptions("priv", ("j", "i")))
    compare(PRIVATE, module, "priv", [("x", rand(5, 6)), ("y", np.zeros((5, 6), np.float32)), ("n", np.int32(5)),
                                      ("m", np.int32(6))])
    with pytest.raises(PassRefused) as err:
        reorder(parse(PRIVATE, "cpp"), ReorderOptions("priv", ("j", "i"), occurrence=1))
    assert err.value.code == "XP535"


def test_corpus_kernels_reorder_or_refuse() -> None:
    """On real kernels every swap of a perfect pair either happens or is refused with a code, never crashes."""
    for _, op, path in corpus_files("cpp"):
        module = parse(path.read_text(), "cpp")
        for fn in module.functions:
            if fn.body is None:
                continue
            for match in loops_with_ancestors(fn.body, ()):
                inner = single_for(match.loop.body)
                if inner is None or loop_var(inner) is None or loop_var(match.loop) is None:
                    continue
                try:
                    reorder(module, ReorderOptions(fn.name, (loop_var(inner), loop_var(match.loop))))
                except PassRefused as err:
                    assert err.code.startswith("XP53"), (op, err)


@pytest.mark.parametrize("op", ["gemm", "self_attention", "gated_mlp"])
def test_cuda_loop_forms_swap_a_pair(op: str) -> None:
    """Swap the first perfect pair of the loop form that the dependence test accepts; it must run the same."""
    base = cuda_loop_form(op)
    matches = loops_with_ancestors(base.function(op).body, ())
    pairs = [(loop_var(single_for(m.loop.body)), loop_var(m.loop)) for m in matches if single_for(m.loop.body)]
    for order in pairs:
        try:
            module = reorder(base, ReorderOptions(op, order))
            break
        except PassRefused:
            continue
    else:
        pytest.fail(f"no pair of {op} could be swapped")
    compare(print_module(base, "cpp"), module, op, smallest_args(op))


def random_index(rng: np.random.Generator, loops: str) -> str:
    """An affine index over the loops: mostly a row-major layout of the loops in a random order (injective),
    otherwise coefficients among 0, 1, 2 and m; plus a small offset (which creates loop-carried dependences)."""
    offset = int(rng.choice([0, 0, 0, 1, -1, 2])) + 8
    if rng.random() < 0.7:
        layout = ""
        for v in rng.permutation(list(loops)):
            extent = "m" if v == "j" else "n"
            layout = f"({layout}) * {extent} + {v}" if layout else str(v)
        return f"{layout} + {offset}"
    return " + ".join(f"{rng.choice(['0', '1', '2', 'm'])} * {v}" for v in loops) + f" + {offset}"


def random_nests(seed: int, count: int) -> str:
    """`count` perfect 2- or 3-level nests, each with one or two statements over the shared arrays."""
    rng = np.random.default_rng(seed)
    nests = []
    for _ in range(count):
        loops = "ijk"[: int(rng.integers(2, 4))]
        header = "".join(f"for (int {v} = 0; {v} < {'n' if v != 'j' else 'm'}; {v}++) " for v in loops)
        body = []
        for _ in range(int(rng.integers(1, 3))):
            kind = int(rng.integers(0, 3))
            if kind == 0:
                body.append(f"A[{random_index(rng, loops)}] = A[{random_index(rng, loops)}] * 0.5f + "
                            f"B[{random_index(rng, loops)}];")
            elif kind == 1:
                body.append(f"A[{random_index(rng, loops)}] += B[{random_index(rng, loops)}];")
            else:
                body.append(f"A[{random_index(rng, loops)}] = B[{random_index(rng, loops)}] - 1.0f;")
        nests.append(header + "{ " + " ".join(body) + " }")
    return 'extern "C" void nests(float* A, const float* B, int n, int m) {\n' + "\n".join(nests) + "\n}\n"


@pytest.mark.parametrize("seed", [1, 3, 5, 7, 10, 11])
def test_random_nests_accepted_reorders_are_exact(seed: int) -> None:
    """Soundness sweep: random affine nests, random permutations; whatever reorder accepts must run the same."""
    source = random_nests(seed, 8)
    module = parse(source, "cpp")
    rng = np.random.default_rng(seed)
    roots = [m for m in loops_with_ancestors(module.function("nests").body, ()) if not m.ancestors[1:]]
    accepted = 0
    for occurrence in reversed(range(len(roots))):  # later nests first: earlier occurrences stay valid
        names = [loop_var(m.loop) for m in loops_with_ancestors(roots[occurrence].loop, ())]
        order = tuple(names[1:] + names[:1]) if rng.random() < 0.5 else tuple(reversed(names))
        try:
            module = reorder(module, ReorderOptions("nests", order, occurrence=occurrence))
            accepted += 1
        except PassRefused as err:
            assert err.code in ("XP532", "XP533")
    assert accepted > 0
    n, m = 5, 4
    compare(source, module, "nests", [("A", rand(1024)), ("B", rand(1024)), ("n", np.int32(n)), ("m", np.int32(m))])
