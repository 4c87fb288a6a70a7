"""Signature, one small size set and the numpy reference of every kernel in tests/styles/ (see tests/corpus/specs.py
for the record types). The sizes are not multiples of any tile or block size, so tails are exercised."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from kernel_ir.lower_cpu import DEFAULT_BANG_LAUNCH
from tests.corpus.specs import OpSpec, Param, f32, f32_in, f32_out, f64, mat, size, vec

STYLES_DIR = Path(__file__).parent
SUFFIX = {"cuda": ".cu", "hip": ".hip", "bang": ".mlu", "cpp": ".cpp"}
BANG_TASKS = DEFAULT_BANG_LAUNCH["task_dim"][0]  # BANG kernels with a partial[taskDim] scratch buffer size it by this


def _vector(name: str, fn, n: int = 1000, low: float = -4.0, high: float = 4.0) -> OpSpec:
    return OpSpec(name, (f32_in("x", vec("n"), low, high), f32_out("y", vec("n")), size("n")), ({"n": n},),
                  lambda x, **_: {"y": f32(fn(f64(x)))})


def _rows(name: str, fn, rows: int = 7, cols: int = 45, out: str = "y") -> OpSpec:
    """One value per row of x[rows, cols]."""
    return OpSpec(name, (f32_in("x", mat("rows", "cols")), f32_out(out, vec("rows")), size("rows"), size("cols")),
                  ({"rows": rows, "cols": cols},), lambda x, **_: {out: f32(fn(f64(x)))}, rtol=1e-5, atol=1e-5)


def _matrix(name: str, fn, rows: int, cols: int, src: str = "x", dst: str = "y", low: float = -1.0,
            high: float = 1.0, rtol: float = 1e-4, atol: float = 1e-4) -> OpSpec:
    """dst[rows, cols] = fn(src[rows, cols]), row-wise operations included."""
    return OpSpec(name, (f32_in(src, mat("rows", "cols"), low, high), f32_out(dst, mat("rows", "cols")),
                         size("rows"), size("cols")),
                  ({"rows": rows, "cols": cols},), lambda **a: {dst: f32(fn(f64(a[src])))}, rtol=rtol, atol=atol)


def _transpose(name: str, rows: int, cols: int, src: str = "x", dst: str = "y") -> OpSpec:
    return OpSpec(name, (f32_in(src, mat("rows", "cols")), f32_out(dst, mat("cols", "rows")), size("rows"),
                         size("cols")),
                  ({"rows": rows, "cols": cols},), lambda **a: {dst: np.ascontiguousarray(a[src].T)})


def _axpy(name: str, scalar: str, n: int, scalar_first: bool) -> OpSpec:
    """y = scalar * x + y; the kernels differ in the order of the scalar and n."""
    tail = (Param(scalar, "float32", "scalar"), size("n"))
    return OpSpec(name, (f32_in("x", vec("n")), Param("y", "float32", "inout", vec("n")),
                         *(tail if scalar_first else tail[::-1])),
                  ({"n": n, scalar: 0.75},), lambda x, y, **s: {"y": f32(s[scalar] * f64(x) + f64(y))})


def _row_argmax(name: str, out: str, rows: int, cols: int) -> OpSpec:
    return OpSpec(name, (f32_in("x", mat("rows", "cols")), Param(out, "int32", "out", vec("rows")), size("rows"),
                         size("cols")),
                  ({"rows": rows, "cols": cols},), lambda x, **_: {out: np.argmax(x, axis=1).astype(np.int32)})


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _layernorm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    centered = x - x.mean(axis=1, keepdims=True)
    return centered / np.sqrt((centered ** 2).mean(axis=1, keepdims=True) + eps) * gamma + beta


def _layernorm_spec(name: str, rows: int, cols: int) -> OpSpec:
    return OpSpec(name,
                  (f32_in("x", mat("rows", "cols")), f32_in("gamma", vec("cols")), f32_in("beta", vec("cols")),
                   f32_out("y", mat("rows", "cols")), size("rows"), size("cols"), Param("eps", "float32", "scalar")),
                  ({"rows": rows, "cols": cols, "eps": 1e-5},),
                  lambda x, gamma, beta, eps, **_: {"y": f32(_layernorm(f64(x), f64(gamma), f64(beta), eps))})


def _rmsnorm(name: str, weight: str, rows: int, cols: int) -> OpSpec:
    return OpSpec(name,
                  (f32_in("x", mat("rows", "cols")), f32_in(weight, vec("cols")), f32_out("y", mat("rows", "cols")),
                   size("rows"), size("cols"), Param("eps", "float32", "scalar")),
                  ({"rows": rows, "cols": cols, "eps": 1e-5},),
                  lambda x, eps, **a: {"y": f32(f64(x) / np.sqrt((f64(x) ** 2).mean(axis=1, keepdims=True) + eps)
                                               * f64(a[weight]))})


def _histogram(name: str) -> OpSpec:
    """counts[b] = how many x fall in bin b of [lo, lo + nbins * width), the outside ones in the end bins. The bin
    is computed in float32 like the kernels do, so a value next to a bin edge lands where theirs does."""
    def reference(x, lo, width, nbins, **_):
        bins = np.clip(((x - np.float32(lo)) / np.float32(width)).astype(np.int64), 0, nbins - 1)
        return {"counts": np.bincount(bins, minlength=nbins).astype(np.int32)}
    return OpSpec(name, (f32_in("x", vec("n"), -1.5, 1.5), Param("counts", "int32", "out", vec("nbins")),
                         Param("lo", "float32", "scalar"), Param("width", "float32", "scalar"), size("n"),
                         size("nbins")),
                  ({"n": 1001, "nbins": 8, "lo": -1.0, "width": 0.25},), reference)


def _smoothed(x: np.ndarray, iters: int) -> np.ndarray:
    """iters steps of the 3-point (1/4, 1/2, 1/4) smoothing with the end points held."""
    for _ in range(iters):
        x = np.concatenate([x[:1], 0.25 * x[:-2] + 0.5 * x[1:-1] + 0.25 * x[2:], x[-1:]])
    return x


def _left_to_right(x: np.ndarray) -> np.ndarray:
    """x[:, c] = 0.5 x[:, c] + 0.25 (x[:, c-1] + x[:, c+1]) for c = 1 .. cols-2 in order, in place."""
    for c in range(1, x.shape[1] - 1):
        x[:, c] = 0.5 * x[:, c] + 0.25 * (x[:, c - 1] + x[:, c + 1])
    return x


def _decay(x: np.ndarray, a: float) -> np.ndarray:
    y = x.copy()
    for r in range(1, len(y)):
        y[r] = a * y[r - 1] + (1.0 - a) * x[r]
    return y


def _int_mix(v: np.ndarray, offset: int, d: int, **_) -> dict[str, np.ndarray]:
    """C semantics in int64: division truncates toward zero, >> of a negative int is arithmetic, the unsigned
    shift sees the two's complement bits."""
    a = v.astype(np.int64) - offset
    quotient = np.sign(a) * (np.abs(a) // d)
    return {"out": (quotient + (a - quotient * d) * 3 + (a >> 2) - ((a & 0xFFFFFFFF) >> 28)).astype(np.int32)}


def _with_ties(s: dict, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Every 5th value an odd integer, so x * 0.5 is a tie (k + 0.5) that rounding to even must resolve."""
    x = rng.uniform(-300.0, 300.0, size=int(s["n"])).astype(np.float32)
    x[::5] = 2 * rng.integers(-150, 150, size=x[::5].shape) + 1
    return {"x": x}


def _quantize(name: str) -> OpSpec:
    """q = int8(clamp(round_half_even(x * inv_scale))); |x| * 0.5 reaches 150, so both ends saturate."""
    return OpSpec(name, (f32_in("x", vec("n")), Param("q", "int8", "out", vec("n")),
                         Param("inv_scale", "float32", "scalar"), size("n")),
                  ({"n": 77, "inv_scale": 0.5},),
                  lambda x, inv_scale, **_: {"q": np.clip(np.rint(f64(x) * inv_scale), -128, 127).astype(np.int8)},
                  make_inputs=_with_ties)


def _same_conv1d(x: np.ndarray, w: np.ndarray, K: int) -> np.ndarray:
    """y[f, i] = sum_c sum_j x[c, i + j - K // 2] * w[f, c, j], zero outside x."""
    padded = np.pad(x, ((0, 0), (K // 2, K - 1 - K // 2)))
    windows = np.stack([padded[:, j:j + x.shape[1]] for j in range(K)], axis=-1)  # [C, L, K]
    return np.einsum("clk,fck->fl", windows, w)


def _same_conv2d(x: np.ndarray, w: np.ndarray, K: int) -> np.ndarray:
    """y[n, f, r, q] = sum over c, i, j of x[n, c, r + i - K // 2, q + j - K // 2] * w[f, c, i, j], zero outside x."""
    h, wd = x.shape[2:]
    padded = np.pad(x, ((0, 0), (0, 0), (K // 2, K // 2), (K // 2, K // 2)))
    windows = np.stack([padded[:, :, i:i + h, j:j + wd] for i in range(K) for j in range(K)], axis=-1)
    return np.einsum("nchwk,fck->nfhw", windows, w.reshape(w.shape[0], w.shape[1], K * K))


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
    _axpy("saxpy_gridstride", "a", n=1500, scalar_first=True),
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
    _layernorm_spec("layernorm_welford", rows=10, cols=77),
    _transpose("transpose_tiled", rows=37, cols=50),
    _matrix("softmax_two_pass", _softmax, rows=6, cols=300, low=-4.0, high=4.0, rtol=1e-5, atol=1e-6),
    _vector("gelu_vec4", lambda x: 0.5 * x * (1.0 + np.tanh(0.7978845608 * (x + 0.044715 * x ** 3))), n=1003),
    OpSpec("concat_cols",
           (f32_in("a", mat("rows", "ca")), f32_in("b", mat("rows", "cb")),
            f32_out("z", lambda s: (int(s["rows"]), int(s["ca"]) + int(s["cb"]))), size("rows"), size("ca"),
            size("cb")),
           ({"rows": 9, "ca": 70, "cb": 75},), lambda a, b, **_: {"z": np.concatenate([a, b], axis=1)}),
    _rmsnorm("rmsnorm_dynamic", "gamma", rows=5, cols=150),
    _vector("silu_remainder", lambda x: x / (1.0 + np.exp(-x)), n=9001),
    _vector("center_sync", lambda x: x - x.mean(), n=1000),
    OpSpec("conv1d_four_filters",
           (f32_in("x", mat("C", "L")), f32_in("w", mat("F", "C", "K")), f32_out("y", mat("F", "L")), size("C"),
            size("L"), size("F"), size("K")),
           ({"C": 3, "L": 70, "F": 6, "K": 5},), lambda x, w, K, **_: {"y": f32(_same_conv1d(f64(x), f64(w), K))},
           rtol=1e-5, atol=1e-5),
    OpSpec("conv2d_same_tile",
           (f32_in("x", mat("N", "C", "H", "W")), f32_in("w", mat("F", "C", "K", "K")),
            f32_out("y", mat("N", "F", "H", "W")), size("N"), size("C"), size("H"), size("W"), size("F"), size("K")),
           ({"N": 2, "C": 3, "H": 11, "W": 21, "F": 2, "K": 3},),
           lambda x, w, K, **_: {"y": f32(_same_conv2d(f64(x), f64(w), K))}, rtol=1e-5, atol=1e-5),
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
    _matrix("softmax_avx2", _softmax, rows=7, cols=21, low=-4.0, high=4.0, rtol=1e-5, atol=1e-6),
    OpSpec("sum_multipass", (f32_in("x", vec("n")), f32_out("y", lambda s: (1,)), size("n")), ({"n": 5000},),
           lambda x, **_: {"y": f32(np.array([f64(x).sum()]))}, rtol=1e-4, atol=1e-4),
    _row_argmax("argmax_stream", "y", rows=9, cols=150),
    _matrix("l2norm_rows", lambda x: x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-6), rows=37, cols=70),
    OpSpec("dot_reduction_omp", (f32_in("a", vec("n")), f32_in("b", vec("n")), f32_out("out", lambda s: (1,)),
                                 size("n")),
           ({"n": 1001},), lambda a, b, **_: {"out": f32(np.array([f64(a) @ f64(b)]))}, rtol=1e-5, atol=1e-5),
    # cuda
    OpSpec("positives_ballot", (f32_in("x", mat("rows", "cols")), Param("counts", "int32", "out", vec("rows")),
                                size("rows"), size("cols")),
           ({"rows": 7, "cols": 77},), lambda x, **_: {"counts": (x > 0).sum(axis=1).astype(np.int32)}),
    OpSpec("clamp_functor",
           (f32_in("x", vec("n")), f32_out("y", vec("n")), size("n"), Param("lo", "float32", "scalar"),
            Param("hi", "float32", "scalar"), Param("scale", "float32", "scalar")),
           ({"n": 9001, "lo": -0.5, "hi": 0.7, "scale": 1.75},),  # more than the 64 x 128 threads it launches
           lambda x, lo, hi, scale, **_: {"y": f32(np.clip(f64(x) * scale, lo, hi))}),
    OpSpec("histogram_dyn",
           (Param("values", "int32", "in", vec("n"), -2, 20), Param("bins", "int32", "out", vec("nbins")), size("n"),
            size("nbins")),
           ({"n": 9001, "nbins": 19},),  # values outside [0, nbins) are skipped; n beyond the 32 x 256 threads
           lambda values, nbins, **_: {"bins": np.bincount(values[(values >= 0) & (values < nbins)],
                                                           minlength=nbins).astype(np.int32)}),
    OpSpec("rownorm_shfl",
           (f32_in("x", mat("rows", "cols")), f32_out("norms", vec("rows")), size("rows"), size("cols"),
            Param("eps", "float32", "scalar")),
           ({"rows": 37, "cols": 45, "eps": 1e-6},),
           lambda x, eps, **_: {"norms": f32(np.sqrt((f64(x) ** 2).sum(axis=1) + eps))}, rtol=1e-5, atol=1e-5),
    OpSpec("smooth_iter", (f32_in("x", vec("n")), f32_out("y", vec("n")), size("n"), size("iters")),
           ({"n": 150, "iters": 7},), lambda x, iters, **_: {"y": f32(_smoothed(f64(x), iters))}),
    # hip
    _row_argmax("argmax_rows", "out", rows=9, cols=150),
    _axpy("axpy_vec4", "alpha", n=1003, scalar_first=False),
    _matrix("center_softplus", lambda x: np.logaddexp(0.0, x - x.mean(axis=1, keepdims=True)), rows=13, cols=45,
            low=-4.0, high=4.0),
    _rows("logsumexp_xor", lambda x: np.log(np.exp(x).sum(axis=1)), rows=5, cols=300, out="out"),
    OpSpec("matmul_relu",
           (f32_in("A", mat("M", "K")), f32_in("B", mat("K", "N")), f32_in("bias", vec("N")),
            f32_out("C", mat("M", "N")), size("M"), size("N"), size("K")),
           ({"M": 19, "N": 37, "K": 21},),
           lambda A, B, bias, **_: {"C": f32(np.maximum(f64(A) @ f64(B) + f64(bias), 0.0))}, rtol=1e-5, atol=1e-5),
    # bang
    _axpy("axpy_split", "alpha", n=5000, scalar_first=True),
    _transpose("block_transpose_out", rows=37, cols=29, src="in", dst="out"),
    OpSpec("col_max_two_phase",
           (f32_in("x", mat("rows", "cols")), f32_out("partial", lambda s: (BANG_TASKS * int(s["cols"]),)),
            f32_out("out", vec("cols")), size("rows"), size("cols")),
           ({"rows": 45, "cols": 37},), lambda x, **_: {"out": x.max(axis=0)}),
    OpSpec("even_rows_crop",
           (f32_in("in", mat("rows", "cols")), f32_out("out", lambda s: (int(s["rows"]) // 2, int(s["width"]))),
            size("rows"), size("cols"), size("width")),
           ({"rows": 37, "cols": 20, "width": 13},),
           lambda rows, width, **a: {"out": f32(2.0 * f64(a["in"])[0:rows - 1:2, :width])}),
    _matrix("gdram_copy_xy", lambda x: -x, rows=21, cols=45, src="in", dst="out"),
    OpSpec("half_scale",
           (Param("x", "float16", "in", vec("n")), Param("y", "float16", "out", vec("n")),
            Param("scale", "float32", "scalar"), size("n")),
           ({"n": 1000, "scale": 1.5},),  # half rounding: the reference rounds once, the kernel may differ by 1 ulp
           lambda x, scale, **_: {"y": (f64(x) * scale + 1.0).astype(np.float16)}, rtol=2e-3, atol=2e-3),
    _vector("hard_swish", lambda x: x * np.clip(x + 3.0, 0.0, 6.0) / 6.0, n=1000),
    _rows("helper_sigmoid_sum", lambda x: (1.0 / (1.0 + np.exp(-x))).sum(axis=1), rows=21, cols=45, out="rowsum"),
    _rmsnorm("rms_cycle", "w", rows=11, cols=29),
    _layernorm_spec("row_layernorm", rows=7, cols=37),
    OpSpec("shift_diff", (f32_in("x", vec("n")), f32_out("d", lambda s: (int(s["n"]) - 1,)), size("n")),
           ({"n": 1500},), lambda x, **_: {"d": f32(np.diff(f64(x)))}),
    OpSpec("sram_bias",
           (f32_in("x", mat("rows", "cols")), f32_in("bias", vec("cols")), f32_out("y", mat("rows", "cols")),
            size("rows"), size("cols")),
           ({"rows": 37, "cols": 50},), lambda x, bias, **_: {"y": f32(f64(x) + f64(bias))}),
    OpSpec("sumsq_two_phase",
           (f32_in("x", vec("n")), f32_out("partial", lambda s: (BANG_TASKS,)), f32_out("result", lambda s: (1,)),
            size("n")),
           ({"n": 3001},), lambda x, **_: {"result": f32(np.array([(f64(x) ** 2).sum()]))}, rtol=1e-5, atol=1e-5),
    # cpp
    OpSpec("avx2_row_stats",
           (f32_in("x", mat("rows", "cols")), f32_out("stats", lambda s: (2 * int(s["rows"]),)), size("rows"),
            size("cols")),
           ({"rows": 9, "cols": 29},),
           lambda x, **_: {"stats": f32(np.stack([f64(x).max(axis=1), f64(x).sum(axis=1)], axis=1).ravel())},
           rtol=1e-5, atol=1e-5),
    OpSpec("decay_scan",
           (f32_in("x", mat("rows", "cols")), f32_out("y", mat("rows", "cols")), Param("a", "float32", "scalar"),
            size("rows"), size("cols")),
           ({"rows": 30, "cols": 17, "a": 0.7},), lambda x, a, **_: {"y": f32(_decay(f64(x), a))}),
    OpSpec("first_above",
           (f32_in("x", mat("rows", "cols")), Param("pos", "int32", "out", vec("rows")),
            Param("thr", "float32", "scalar"), size("rows"), size("cols")),
           ({"rows": 20, "cols": 30, "thr": 0.9},),  # about a fifth of the rows have no value above thr
           lambda x, thr, **_: {"pos": np.where((x > thr).any(axis=1), (x > thr).argmax(axis=1), -1).astype(np.int32)}),
    OpSpec("gather_relu",
           (f32_in("table", vec("table_size")), Param("idx", "int32", "in", vec("n"), 0, 49), f32_out("y", vec("n")),
            Param("gain", "float32", "scalar"), size("n"), size("table_size")),
           ({"n": 77, "table_size": 50, "gain": 1.5},),  # idx's range ends at table_size - 1
           lambda table, idx, gain, **_: {"y": f32(np.maximum(f64(table)[idx], 0.0) * gain)}),
    OpSpec("int_mix",
           (Param("v", "int32", "in", vec("n"), 0, 1000), Param("out", "int32", "out", vec("n")), size("offset"),
            size("d"), size("n")),
           ({"offset": 500, "d": 7, "n": 200},), _int_mix),  # v - offset takes both signs
    _histogram("omp_histogram"),
    _histogram("omp_histogram_for"),
    OpSpec("omp_norms", (f32_in("x", vec("n")), f32_out("out", lambda s: (2,)), size("n")), ({"n": 1001},),
           lambda x, **_: {"out": f32(np.array([np.abs(f64(x)).max(), np.abs(f64(x)).sum()]))}, rtol=1e-5, atol=1e-5),
    _quantize("quantize_rne"),
    _quantize("quantize_s8"),
    OpSpec("row_recurrence", (Param("x", "float32", "inout", mat("rows", "cols")), size("rows"), size("cols")),
           ({"rows": 6, "cols": 25},), lambda x, **_: {"x": f32(_left_to_right(f64(x)))}),
    OpSpec("scatter_add",
           (f32_in("x", vec("n")), f32_in("w", vec("n")), Param("idx", "int32", "in", vec("n"), 0, 6),
            Param("acc", "float32", "inout", vec("m")), size("n"), size("m")),
           ({"n": 500, "m": 7},),  # idx's range ends at m - 1: every slot receives many adds
           lambda x, w, idx, acc, **_: {"acc": f32(f64(acc) + np.bincount(idx, f64(w) * f64(x), minlength=len(acc)))},
           rtol=1e-5, atol=1e-5),
    _matrix("softmax_scratch", _softmax, rows=9, cols=23, low=-4.0, high=4.0, rtol=1e-5, atol=1e-6),
    _transpose("tiled_transpose", rows=35, cols=19, src="src", dst="dst"),
    OpSpec("two_stage", (f32_in("x", vec("n")), f32_out("tmp", vec("n")), f32_out("y", vec("n")), size("n")),
           ({"n": 101},),
           lambda x, **_: {"tmp": f32(f64(x) ** 2),
                           "y": f32(np.convolve(f64(x) ** 2, [1.0, 1.0, 1.0], mode="same"))}),
    OpSpec("vnni_gemv",
           (Param("a", "uint8", "in", mat("rows", "k"), 0, 255), Param("w", "int8", "in", vec("k"), -128, 127),
            Param("out", "int32", "out", vec("rows")), size("rows"), size("k")),
           ({"rows": 5, "k": 150},),  # |sum| <= 150 * 255 * 128: no int32 overflow
           lambda a, w, **_: {"out": (a.astype(np.int64) @ w.astype(np.int64)).astype(np.int32)}),
    OpSpec("walk_scan",
           (f32_in("x", vec("n")), f32_out("y", vec("n")), f32_out("last", lambda s: (1,)), size("n")), ({"n": 101},),
           lambda x, **_: {"y": f32(np.cumsum(f64(x))), "last": f32(np.cumsum(f64(x))[-1:])}, rtol=1e-5, atol=1e-5),
)}


def style_kernels(dialect: str | None = None) -> list[tuple[str, str, Path]]:
    """(dialect, kernel name, path) of every kernel in tests/styles/ (of one dialect if given), sorted."""
    return [(name, path.stem, path) for name, suffix in SUFFIX.items() if dialect in (None, name)
            for path in sorted((STYLES_DIR / name).glob(f"*{suffix}"))]
