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
)}


def style_kernels(dialect: str | None = None) -> list[tuple[str, str, Path]]:
    """(dialect, kernel name, path) of every kernel in tests/styles/ (of one dialect if given), sorted."""
    return [(name, path.stem, path) for name, suffix in SUFFIX.items() if dialect in (None, name)
            for path in sorted((STYLES_DIR / name).glob(f"*{suffix}"))]
