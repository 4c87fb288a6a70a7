"""Signature, one small size set and the numpy reference of every kernel in tests/styles/ (see tests/corpus/specs.py
for the record types). The sizes are not multiples of any tile or block size, so tails are exercised."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.corpus.specs import OpSpec, Param, f32, f32_in, f32_out, f64, mat, size, vec

STYLES_DIR = Path(__file__).parent
SUFFIX = {"cuda": ".cu", "hip": ".hip", "bang": ".mlu", "cpp": ".cpp"}


def _vector(name: str, fn, n: int = 1000, low: float = -4.0, high: float = 4.0) -> OpSpec:
    return OpSpec(name, (f32_in("x", vec("n"), low, high), f32_out("y", vec("n")), size("n")), ({"n": n},),
                  lambda x, **_: {"y": f32(fn(f64(x)))})


def _rows(name: str, fn, rows: int = 7, cols: int = 45) -> OpSpec:
    return OpSpec(name, (f32_in("x", mat("rows", "cols")), f32_out("y", vec("rows")), size("rows"), size("cols")),
                  ({"rows": rows, "cols": cols},), lambda x, **_: {"y": f32(fn(f64(x)))}, rtol=1e-5, atol=1e-5)


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _layernorm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    centered = x - x.mean(axis=1, keepdims=True)
    return centered / np.sqrt((centered ** 2).mean(axis=1, keepdims=True) + eps) * gamma + beta


def _maxpool_hwc(x: np.ndarray, K: int, stride: int, **_) -> dict[str, np.ndarray]:
    n, h, w, c = x.shape
    oh, ow = (h - K) // stride + 1, (w - K) // stride + 1
    windows = [x[:, i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride, :]
               for i in range(K) for j in range(K)]
    return {"y": np.max(windows, axis=0)}


def _pooled(s: dict) -> tuple[int, ...]:
    return (int(s["N"]), (int(s["H"]) - int(s["K"])) // int(s["stride"]) + 1,
            (int(s["W"]) - int(s["K"])) // int(s["stride"]) + 1, int(s["C"]))


SPECS: dict[str, OpSpec] = {spec.name: spec for spec in (
    OpSpec("saxpy_gridstride",
           (f32_in("x", vec("n")), Param("y", "float32", "inout", vec("n")), Param("a", "float32", "scalar"),
            size("n")),
           ({"n": 1500, "a": 0.75},), lambda x, y, a, **_: {"y": f32(a * f64(x) + f64(y))}),
    OpSpec("row_scale_2d",
           (f32_in("x", mat("rows", "cols")), f32_in("s", vec("rows")), f32_out("y", mat("rows", "cols")),
            size("rows"), size("cols")),
           ({"rows": 19, "cols": 37},), lambda x, s, **_: {"y": f32(f64(x) * f64(s)[:, None])}),
    _vector("constant_taps", lambda x: x * np.resize([0.25, 0.5, 0.25], x.shape), n=101),
    _vector("clamp_unrolled", lambda x: np.clip(x, -0.5, 0.5), n=777, low=-1.0, high=1.0),
    _rows("row_sum_shared", lambda x: x.sum(axis=1), rows=5, cols=300),
    _vector("leaky_relu", lambda x: np.where(x > 0, x, 0.1 * x), n=600),
    OpSpec("broadcast_sub",
           (f32_in("a", mat("rows", "cols")), f32_in("b", vec("cols")), f32_out("z", mat("rows", "cols")),
            size("rows"), size("cols")),
           ({"rows": 21, "cols": 35},), lambda a, b, **_: {"z": f32(2.0 * f64(a) - f64(b)[None, :])}),
    OpSpec("row_dot",
           (f32_in("A", mat("rows", "cols")), f32_in("x", vec("cols")), f32_out("y", vec("rows")), size("rows"),
            size("cols")),
           ({"rows": 70, "cols": 13},), lambda A, x, **_: {"y": f32(f64(A) @ f64(x))}, rtol=1e-5, atol=1e-5),
    _vector("scale_shift", lambda x: 2.0 * x + 1.0, n=1100),
    _rows("row_max", lambda x: x.max(axis=1), rows=23, cols=9),
    _vector("square_plain", lambda x: x * x, n=10),
    _vector("softplus_omp", lambda x: np.logaddexp(0.0, x), n=333),
    OpSpec("add_avx512", (f32_in("a", vec("n")), f32_in("b", vec("n")), f32_out("c", vec("n")), size("n")),
           ({"n": 45},), lambda a, b, **_: {"c": f32(f64(a) + f64(b))}),
    OpSpec("col_sum_omp", (f32_in("x", mat("rows", "cols")), f32_out("y", vec("cols")), size("rows"), size("cols")),
           ({"rows": 11, "cols": 29},), lambda x, **_: {"y": f32(f64(x).sum(axis=0))}, rtol=1e-5, atol=1e-5),
    OpSpec("matmul_plain",
           (f32_in("A", mat("M", "K")), f32_in("B", mat("K", "N")), f32_out("C", mat("M", "N")), size("M"), size("N"),
            size("K")),
           ({"M": 19, "N": 23, "K": 13},), lambda A, B, **_: {"C": f32(f64(A) @ f64(B))}, rtol=1e-5, atol=1e-5),
    OpSpec("layernorm_welford",
           (f32_in("x", mat("rows", "cols")), f32_in("gamma", vec("cols")), f32_in("beta", vec("cols")),
            f32_out("y", mat("rows", "cols")), size("rows"), size("cols"), Param("eps", "float32", "scalar")),
           ({"rows": 10, "cols": 77, "eps": 1e-5},),
           lambda x, gamma, beta, eps, **_: {"y": f32(_layernorm(f64(x), f64(gamma), f64(beta), eps))}),
    OpSpec("transpose_tiled", (f32_in("x", mat("rows", "cols")), f32_out("y", mat("cols", "rows")), size("rows"),
                               size("cols")),
           ({"rows": 37, "cols": 50},), lambda x, **_: {"y": np.ascontiguousarray(x.T)}),
    OpSpec("softmax_two_pass", (f32_in("x", mat("rows", "cols"), -4.0, 4.0), f32_out("y", mat("rows", "cols")),
                                size("rows"), size("cols")),
           ({"rows": 6, "cols": 300},), lambda x, **_: {"y": f32(_softmax(f64(x)))}, rtol=1e-5, atol=1e-6),
    _vector("gelu_vec4", lambda x: 0.5 * x * (1.0 + np.tanh(0.7978845608 * (x + 0.044715 * x ** 3))), n=1003),
    OpSpec("concat_cols",
           (f32_in("a", mat("rows", "ca")), f32_in("b", mat("rows", "cb")),
            f32_out("z", lambda s: (int(s["rows"]), int(s["ca"]) + int(s["cb"]))), size("rows"), size("ca"),
            size("cb")),
           ({"rows": 9, "ca": 70, "cb": 75},), lambda a, b, **_: {"z": np.concatenate([a, b], axis=1)}),
    OpSpec("rmsnorm_dynamic",
           (f32_in("x", mat("rows", "cols")), f32_in("gamma", vec("cols")), f32_out("y", mat("rows", "cols")),
            size("rows"), size("cols"), Param("eps", "float32", "scalar")),
           ({"rows": 5, "cols": 150, "eps": 1e-5},),
           lambda x, gamma, eps, **_: {"y": f32(f64(x) / np.sqrt((f64(x) ** 2).mean(axis=1, keepdims=True) + eps)
                                            * f64(gamma))}),
    _vector("silu_remainder", lambda x: x / (1.0 + np.exp(-x)), n=9001),
    _vector("center_sync", lambda x: x - x.mean(), n=1000),
    OpSpec("maxpool_hwc",
           (f32_in("x", mat("N", "H", "W", "C")), f32_out("y", _pooled), size("N"), size("H"), size("W"), size("C"),
            size("K"), size("stride")),
           ({"N": 3, "H": 9, "W": 11, "C": 5, "K": 3, "stride": 2},), _maxpool_hwc),
    OpSpec("affine_collapse",
           (f32_in("x", mat("rows", "cols")), f32_in("scale", vec("cols")), f32_in("shift", vec("cols")),
            f32_out("y", mat("rows", "cols")), size("rows"), size("cols")),
           ({"rows": 13, "cols": 29},),
           lambda x, scale, shift, **_: {"y": f32(f64(x) * f64(scale) + f64(shift))}),
    OpSpec("axpby_avx512",
           (f32_in("x", vec("n")), f32_in("y", vec("n")), f32_out("z", vec("n")), Param("a", "float32", "scalar"),
            Param("b", "float32", "scalar"), size("n")),
           ({"n": 45, "a": 1.5, "b": -0.25},), lambda x, y, a, b, **_: {"z": f32(a * f64(x) + b * f64(y))}),
    OpSpec("softmax_avx2", (f32_in("x", mat("rows", "cols"), -4.0, 4.0), f32_out("y", mat("rows", "cols")),
                            size("rows"), size("cols")),
           ({"rows": 7, "cols": 21},), lambda x, **_: {"y": f32(_softmax(f64(x)))}, rtol=1e-5, atol=1e-6),
    OpSpec("sum_multipass", (f32_in("x", vec("n")), f32_out("y", lambda s: (1,)), size("n")), ({"n": 5000},),
           lambda x, **_: {"y": f32(np.array([f64(x).sum()]))}, rtol=1e-4, atol=1e-4),
    OpSpec("argmax_stream", (f32_in("x", mat("rows", "cols")), Param("y", "int32", "out", vec("rows")), size("rows"),
                             size("cols")),
           ({"rows": 9, "cols": 150},), lambda x, **_: {"y": np.argmax(x, axis=1).astype(np.int32)}),
    OpSpec("l2norm_rows", (f32_in("x", mat("rows", "cols")), f32_out("y", mat("rows", "cols")), size("rows"),
                           size("cols")),
           ({"rows": 37, "cols": 70},),
           lambda x, **_: {"y": f32(f64(x) / np.maximum(np.linalg.norm(f64(x), axis=1, keepdims=True), 1e-6))}),
    OpSpec("dot_reduction_omp", (f32_in("a", vec("n")), f32_in("b", vec("n")), f32_out("out", lambda s: (1,)),
                                 size("n")),
           ({"n": 1001},), lambda a, b, **_: {"out": f32(np.array([f64(a) @ f64(b)]))}, rtol=1e-5, atol=1e-5),
)}


def style_kernels(dialect: str | None = None) -> list[tuple[str, str, Path]]:
    """(dialect, kernel name, path) of every kernel in tests/styles/ (of one dialect if given), sorted."""
    return [(name, path.stem, path) for name, suffix in SUFFIX.items() if dialect in (None, name)
            for path in sorted((STYLES_DIR / name).glob(f"*{suffix}"))]
