"""Operator specifications for the corpus: signature, sizes, input generation and numpy reference.

One `OpSpec` per operator of CONTRACT.md. Kernels of every dialect share the signature, so the same
arguments run any of them and the same reference checks them.

References compute in float64 (integer references in int64) and cast to the output dtype, so the
tolerance of a spec only has to absorb the kernel's own rounding and accumulation order.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

Sizes = dict[str, int | float]
Reference = Callable[..., dict[str, np.ndarray]]
InputMaker = Callable[[Sizes, np.random.Generator], dict[str, np.ndarray]]


@dataclass(frozen=True)
class Param:
    """One entry parameter. `shape` maps the size dict to the array shape (None for scalars)."""

    name: str
    dtype: str  # numpy dtype name: float32, float16, int32, int8, uint8
    role: str  # "in", "out", "inout", "size" (an int taken from the sizes), "scalar" (a float from the sizes)
    shape: Callable[[Sizes], tuple[int, ...]] | None = None
    low: float = -1.0  # input range for generated data
    high: float = 1.0


@dataclass(frozen=True)
class OpSpec:
    name: str
    params: tuple[Param, ...]
    sizes: tuple[Sizes, ...]
    reference: Reference  # keyword inputs (arrays and scalars) -> {output name: array}
    rtol: float = 1e-4
    atol: float = 1e-4
    make_inputs: InputMaker | None = None  # custom generation
    tags: frozenset[str] = field(default_factory=frozenset)


def make_args(spec: OpSpec, sizes: Sizes, seed: int = 0) -> list[tuple[str, np.ndarray | np.generic]]:
    """Ordered (name, value) arguments for `kernel_ir.executor.execute`: arrays for pointers, numpy scalars else."""
    rng = np.random.default_rng(seed)
    custom = spec.make_inputs(sizes, rng) if spec.make_inputs else {}
    args: list[tuple[str, np.ndarray | np.generic]] = []
    for p in spec.params:
        if p.role == "size":
            args.append((p.name, np.int32(sizes[p.name])))
        elif p.role == "scalar":
            args.append((p.name, np.float32(sizes[p.name])))
        elif p.name in custom:
            args.append((p.name, np.ascontiguousarray(custom[p.name], dtype=p.dtype)))
        elif p.role == "out":
            args.append((p.name, np.zeros(p.shape(sizes), dtype=p.dtype)))
        else:
            args.append((p.name, random_array(rng, p.shape(sizes), p.dtype, p.low, p.high)))
    return args


def random_array(rng: np.random.Generator, shape: tuple[int, ...], dtype: str, low: float, high: float) -> np.ndarray:
    if np.issubdtype(np.dtype(dtype), np.integer):
        return rng.integers(int(low), int(high) + 1, size=shape).astype(dtype)
    return rng.uniform(low, high, size=shape).astype(dtype)


def expected_outputs(spec: OpSpec, args: list[tuple[str, np.ndarray | np.generic]]) -> dict[str, np.ndarray]:
    inputs = {name: (value.copy() if isinstance(value, np.ndarray) else value.item()) for name, value in args}
    return spec.reference(**inputs)


def size_id(sizes: Sizes) -> str:
    return "-".join(f"{k}{v}" for k, v in sizes.items())


# ---------------------------------------------------------------------------------------------------------------
# Shape and parameter helpers

def vec(n: str) -> Callable[[Sizes], tuple[int, ...]]:
    return lambda s: (int(s[n]),)


def mat(*dims: str) -> Callable[[Sizes], tuple[int, ...]]:
    return lambda s: tuple(int(s[d]) for d in dims)


def size(name: str) -> Param:
    return Param(name, "int32", "size")


def sizes_of(*names: str) -> tuple[Param, ...]:
    return tuple(size(n) for n in names)


def f32_in(name: str, shape: Callable[[Sizes], tuple[int, ...]], low: float = -1.0, high: float = 1.0) -> Param:
    return Param(name, "float32", "in", shape, low, high)


def f32_out(name: str, shape: Callable[[Sizes], tuple[int, ...]]) -> Param:
    return Param(name, "float32", "out", shape)


def f64(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float64)


def f32(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float32)


def out_dim(extent: int, window: int, stride: int = 1, pad: int = 0) -> int:
    """Output extent of a sliding window (floor division, as every kernel computes it)."""
    return (extent + 2 * pad - window) // stride + 1


# ---------------------------------------------------------------------------------------------------------------
# Elementwise family

ELEMENTWISE_SIZES: tuple[Sizes, ...] = ({"n": 1024}, {"n": 1000}, {"n": 4099}, {"n": 65536})


def unary(name: str, fn: Callable[[np.ndarray], np.ndarray], low: float = -4.0, high: float = 4.0,
          make_inputs: InputMaker | None = None, rtol: float = 1e-4, atol: float = 1e-4) -> OpSpec:
    return OpSpec(
        name,
        (f32_in("x", vec("n"), low, high), f32_out("y", vec("n")), size("n")),
        ELEMENTWISE_SIZES,
        lambda x, **_: {"y": f32(fn(f64(x)))},
        rtol=rtol, atol=atol, make_inputs=make_inputs,
        tags=frozenset({"elementwise"}),
    )


def binary(name: str, fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> OpSpec:
    return OpSpec(
        name,
        (f32_in("a", vec("n")), f32_in("b", vec("n")), f32_out("c", vec("n")), size("n")),
        ELEMENTWISE_SIZES,
        lambda a, b, **_: {"c": f32(fn(f64(a), f64(b)))},
        rtol=1e-6, atol=1e-6,
        tags=frozenset({"elementwise"}),
    )


def with_zeros(s: Sizes, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Inputs for sign: uniform values with every 7th one exactly zero, so sign(0) = 0 is exercised."""
    x = rng.uniform(-4.0, 4.0, size=int(s["n"])).astype(np.float32)
    x[::7] = 0.0
    return {"x": x}


def gelu_tanh(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(0.7978845608 * (x + 0.044715 * x ** 3)))


# ---------------------------------------------------------------------------------------------------------------
# Row-wise family: x[rows, cols] -> y[rows] (reductions) or y[rows, cols] (softmax)

ROW_SIZES: tuple[Sizes, ...] = (
    {"rows": 64, "cols": 128}, {"rows": 37, "cols": 1000}, {"rows": 5, "cols": 3}, {"rows": 256, "cols": 1024},
)


def row_reduction(name: str, fn: Callable[[np.ndarray], np.ndarray], rtol: float = 1e-5,
                  atol: float = 1e-5) -> OpSpec:
    return OpSpec(
        name,
        (f32_in("x", mat("rows", "cols")), f32_out("y", vec("rows")), *sizes_of("rows", "cols")),
        ROW_SIZES,
        lambda x, **_: {"y": f32(fn(f64(x)))},
        rtol=rtol, atol=atol,
        tags=frozenset({"reduction"}),
    )


def softmax_rows(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# ---------------------------------------------------------------------------------------------------------------
# Matrix family

GEMM_SIZES: tuple[Sizes, ...] = (
    {"M": 64, "N": 64, "K": 64}, {"M": 100, "N": 37, "K": 70}, {"M": 33, "N": 129, "K": 255},
    {"M": 128, "N": 256, "K": 96},
)
BMM_SIZES: tuple[Sizes, ...] = (
    {"batch": 2, "M": 32, "N": 32, "K": 32}, {"batch": 3, "M": 17, "N": 45, "K": 33},
    {"batch": 4, "M": 64, "N": 128, "K": 64},
)
GEMV_SIZES: tuple[Sizes, ...] = ({"M": 64, "K": 64}, {"M": 100, "K": 70}, {"M": 37, "K": 1027}, {"M": 512, "K": 1024})

U8 = (0, 255)
S8 = (-128, 127)


def matmul_f64(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return f64(a) @ f64(b)


def matmul_i32(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a.astype(np.int64) @ b.astype(np.int64)).astype(np.int32)


def gemm_spec(name: str, a_dtype: str, b_dtype: str, c_dtype: str, ranges: tuple[tuple[float, float], ...],
              product: Callable[[np.ndarray, np.ndarray], np.ndarray], rtol: float, atol: float,
              tags: frozenset[str]) -> OpSpec:
    (alo, ahi), (blo, bhi) = ranges
    return OpSpec(
        name,
        (Param("A", a_dtype, "in", mat("M", "K"), alo, ahi), Param("B", b_dtype, "in", mat("K", "N"), blo, bhi),
         Param("C", c_dtype, "out", mat("M", "N")), *sizes_of("M", "N", "K")),
        GEMM_SIZES,
        lambda A, B, **_: {"C": product(A, B).astype(c_dtype)},
        rtol=rtol, atol=atol, tags=tags | {"gemm"},
    )


def gemv_spec(name: str, a_dtype: str, x_dtype: str, y_dtype: str, ranges: tuple[tuple[float, float], ...],
              product: Callable[[np.ndarray, np.ndarray], np.ndarray], rtol: float, atol: float,
              tags: frozenset[str]) -> OpSpec:
    (alo, ahi), (xlo, xhi) = ranges
    return OpSpec(
        name,
        (Param("A", a_dtype, "in", mat("M", "K"), alo, ahi), Param("x", x_dtype, "in", vec("K"), xlo, xhi),
         Param("y", y_dtype, "out", vec("M")), *sizes_of("M", "K")),
        GEMV_SIZES,
        lambda A, x, **_: {"y": product(A, x).astype(y_dtype)},
        rtol=rtol, atol=atol, tags=tags | {"gemv"},
    )


def bmm_spec(name: str, a_dtype: str, b_dtype: str, c_dtype: str, ranges: tuple[tuple[float, float], ...],
             product: Callable[[np.ndarray, np.ndarray], np.ndarray], rtol: float, atol: float,
             tags: frozenset[str]) -> OpSpec:
    (alo, ahi), (blo, bhi) = ranges
    return OpSpec(
        name,
        (Param("A", a_dtype, "in", mat("batch", "M", "K"), alo, ahi),
         Param("B", b_dtype, "in", mat("batch", "K", "N"), blo, bhi),
         Param("C", c_dtype, "out", mat("batch", "M", "N")), *sizes_of("batch", "M", "N", "K")),
        BMM_SIZES,
        lambda A, B, **_: {"C": product(A, B).astype(c_dtype)},
        rtol=rtol, atol=atol, tags=tags | {"gemm", "batched"},
    )


def silu(z: np.ndarray) -> np.ndarray:
    return z / (1.0 + np.exp(-z))


# ---------------------------------------------------------------------------------------------------------------
# Convolutions (float64 references built from shifted window slices)

def window(xp: np.ndarray, axis_h: int, kh: int, kw: int, oh: int, ow: int, stride: int) -> np.ndarray:
    """Slice of padded input `xp` seen by kernel tap (kh, kw) for every output pixel; H at axis_h, W next."""
    index = [slice(None)] * xp.ndim
    index[axis_h] = slice(kh, kh + stride * (oh - 1) + 1, stride)
    index[axis_h + 1] = slice(kw, kw + stride * (ow - 1) + 1, stride)
    return xp[tuple(index)]


def conv2d_nchw_ref(x: np.ndarray, w: np.ndarray, stride: int, pad: int) -> np.ndarray:
    xp = np.pad(f64(x), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    f, _, kh_n, kw_n = w.shape
    oh, ow = out_dim(x.shape[2], kh_n, stride, pad), out_dim(x.shape[3], kw_n, stride, pad)
    y = np.zeros((x.shape[0], f, oh, ow))
    for kh in range(kh_n):
        for kw in range(kw_n):
            y += np.einsum("nchw,fc->nfhw", window(xp, 2, kh, kw, oh, ow, stride), f64(w[:, :, kh, kw]))
    return y


def conv2d_nhwc_ref(x: np.ndarray, w: np.ndarray, stride: int, pad: int) -> np.ndarray:
    y = conv2d_nchw_ref(x.transpose(0, 3, 1, 2), w.transpose(3, 2, 0, 1), stride, pad)
    return y.transpose(0, 2, 3, 1)


def depthwise_ref(x: np.ndarray, w: np.ndarray, stride: int, pad: int) -> np.ndarray:
    xp = np.pad(f64(x), ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    kh_n, kw_n, _ = w.shape
    oh, ow = out_dim(x.shape[1], kh_n, stride, pad), out_dim(x.shape[2], kw_n, stride, pad)
    y = np.zeros((x.shape[0], oh, ow, x.shape[3]))
    for kh in range(kh_n):
        for kw in range(kw_n):
            y += window(xp, 1, kh, kw, oh, ow, stride) * f64(w[kh, kw])
    return y


def conv1d_ref(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    kw_n = w.shape[2]
    length = x.shape[2] - kw_n + 1
    y = np.zeros((x.shape[0], w.shape[0], length))
    for k in range(kw_n):
        y += np.einsum("ncl,fc->nfl", f64(x[:, :, k:k + length]), f64(w[:, :, k]))
    return y


CONV2D_SIZES: tuple[Sizes, ...] = (
    {"N": 1, "C": 3, "H": 8, "W": 8, "F": 4, "KH": 3, "KW": 3, "stride": 1, "pad": 1},
    {"N": 2, "C": 3, "H": 13, "W": 11, "F": 5, "KH": 3, "KW": 3, "stride": 2, "pad": 1},
    {"N": 1, "C": 5, "H": 9, "W": 10, "F": 7, "KH": 2, "KW": 3, "stride": 1, "pad": 0},
    {"N": 1, "C": 16, "H": 32, "W": 32, "F": 16, "KH": 3, "KW": 3, "stride": 1, "pad": 1},
)
CONV2D_PARAM_NAMES = ("N", "C", "H", "W", "F", "KH", "KW", "stride", "pad")


def conv2d_spec(name: str, x_dims: tuple[str, ...], w_dims: tuple[str, ...], nhwc: bool) -> OpSpec:
    def y_shape(s: Sizes) -> tuple[int, ...]:
        oh = out_dim(int(s["H"]), int(s["KH"]), int(s["stride"]), int(s["pad"]))
        ow = out_dim(int(s["W"]), int(s["KW"]), int(s["stride"]), int(s["pad"]))
        n, f = int(s["N"]), int(s["F"])
        return (n, oh, ow, f) if nhwc else (n, f, oh, ow)

    ref = conv2d_nhwc_ref if nhwc else conv2d_nchw_ref
    return OpSpec(
        name,
        (f32_in("x", mat(*x_dims)), f32_in("w", mat(*w_dims)), f32_out("y", y_shape), *sizes_of(*CONV2D_PARAM_NAMES)),
        CONV2D_SIZES,
        lambda x, w, stride, pad, **_: {"y": f32(ref(x, w, stride, pad))},
        rtol=1e-4, atol=1e-4, tags=frozenset({"conv"}),
    )


def depthwise_out_shape(s: Sizes) -> tuple[int, ...]:
    return (int(s["N"]), out_dim(int(s["H"]), int(s["KH"]), int(s["stride"]), int(s["pad"])),
            out_dim(int(s["W"]), int(s["KW"]), int(s["stride"]), int(s["pad"])), int(s["C"]))


# ---------------------------------------------------------------------------------------------------------------
# Normalisations

NCHW_NORM_SIZES: tuple[Sizes, ...] = (
    {"N": 2, "C": 16, "HW": 64, "eps": 1e-5}, {"N": 3, "C": 5, "HW": 37, "eps": 1e-5},
    {"N": 4, "C": 32, "HW": 256, "eps": 1e-3},
)
ROW_NORM_SIZES: tuple[Sizes, ...] = (
    {"rows": 64, "cols": 128, "eps": 1e-5}, {"rows": 37, "cols": 1000, "eps": 1e-5},
    {"rows": 3, "cols": 5, "eps": 1e-5}, {"rows": 256, "cols": 1024, "eps": 1e-6},
)


def standardize(x: np.ndarray, axis: int, eps: float) -> np.ndarray:
    """(x - mean) / sqrt(biased var + eps) along `axis`, in float64."""
    x = f64(x)
    mu = x.mean(axis=axis, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axis, keepdims=True)
    return (x - mu) / np.sqrt(var + eps)


def batchnorm_ref(x, mean, var, gamma, beta, eps, **_) -> dict[str, np.ndarray]:
    per_c = lambda v: f64(v)[None, :, None]  # noqa: E731
    y = (f64(x) - per_c(mean)) / np.sqrt(per_c(var) + eps) * per_c(gamma) + per_c(beta)
    return {"y": f32(y)}


def rmsnorm_ref(x, gamma, eps, **_) -> dict[str, np.ndarray]:
    x = f64(x)
    return {"y": f32(x / np.sqrt((x ** 2).mean(axis=-1, keepdims=True) + eps) * f64(gamma))}


# ---------------------------------------------------------------------------------------------------------------
# Pooling (NHWC, KxK window, no padding)

POOL_SIZES: tuple[Sizes, ...] = (
    {"N": 1, "H": 8, "W": 8, "C": 16, "K": 2, "stride": 2}, {"N": 2, "H": 13, "W": 11, "C": 5, "K": 3, "stride": 2},
    {"N": 1, "H": 9, "W": 7, "C": 35, "K": 2, "stride": 1}, {"N": 2, "H": 32, "W": 32, "C": 16, "K": 3, "stride": 1},
)


def pool_windows(x: np.ndarray, k: int, stride: int) -> np.ndarray:
    """All K*K taps stacked on a new leading axis: [K*K, N, OH, OW, C]."""
    oh, ow = out_dim(x.shape[1], k, stride), out_dim(x.shape[2], k, stride)
    return np.stack([window(f64(x), 1, kh, kw, oh, ow, stride) for kh in range(k) for kw in range(k)])


def pool_spec(name: str, reduce: Callable[[np.ndarray], np.ndarray]) -> OpSpec:
    def y_shape(s: Sizes) -> tuple[int, ...]:
        k, st = int(s["K"]), int(s["stride"])
        return (int(s["N"]), out_dim(int(s["H"]), k, st), out_dim(int(s["W"]), k, st), int(s["C"]))

    return OpSpec(
        name,
        (f32_in("x", mat("N", "H", "W", "C")), f32_out("y", y_shape), *sizes_of("N", "H", "W", "C", "K", "stride")),
        POOL_SIZES,
        lambda x, K, stride, **_: {"y": f32(reduce(pool_windows(x, K, stride)))},
        rtol=1e-5, atol=1e-5, tags=frozenset({"pool"}),
    )


# ---------------------------------------------------------------------------------------------------------------
# Data movement

def gather_inputs(s: Sizes, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"idx": rng.integers(0, int(s["rows"]), size=int(s["n_idx"])).astype(np.int32)}


def scatter_inputs(s: Sizes, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Distinct destination rows (so the result is order independent) and a random prior `out`."""
    rows, cols, n_idx = int(s["rows"]), int(s["cols"]), int(s["n_idx"])
    return {
        "idx": rng.permutation(rows)[:n_idx].astype(np.int32),
        "out": rng.uniform(-1.0, 1.0, size=(rows, cols)).astype(np.float32),
    }


def scatter_ref(src, idx, out, **_) -> dict[str, np.ndarray]:
    out[idx] = src
    return {"out": out}


# ---------------------------------------------------------------------------------------------------------------
# Attention

def attention_f64(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
    """softmax(q k^T / sqrt(d)) v over the last two axes, batched over leading axes."""
    d = q.shape[-1]
    scores = f64(q) @ np.swapaxes(f64(k), -1, -2) / np.sqrt(d)
    return softmax_rows(scores) @ f64(v)


def gqa_ref(Q, K, V, q_heads, kv_heads, **_) -> dict[str, np.ndarray]:
    group = q_heads // kv_heads
    return {"O": f32(attention_f64(Q, np.repeat(K, group, axis=1), np.repeat(V, group, axis=1)))}


ATTENTION_TOL = {"rtol": 1e-3, "atol": 1e-4}


# ---------------------------------------------------------------------------------------------------------------

SPECS: dict[str, OpSpec] = {}


def register(*specs: OpSpec) -> None:
    for s in specs:
        SPECS[s.name] = s


FP32_GEMM_TOL = {"rtol": 1e-4, "atol": 1e-3}  # K up to 255 summed in float32 in any order
EXACT = {"rtol": 0.0, "atol": 0.0}
F32 = ((-1.0, 1.0), (-1.0, 1.0))
INT8 = (U8, S8)

register(
    # elementwise
    binary("add", np.add),
    binary("sub", np.subtract),
    unary("sign", np.sign, make_inputs=with_zeros, rtol=0.0, atol=0.0),
    unary("sine", np.sin),
    unary("relu", lambda x: np.maximum(x, 0), rtol=0.0, atol=0.0),
    unary("gelu", gelu_tanh),
    unary("sigmoid", lambda x: 1.0 / (1.0 + np.exp(-x)), low=-8.0, high=8.0),
    # row-wise
    OpSpec(
        "softmax",
        (f32_in("x", mat("rows", "cols"), -3.0, 3.0), f32_out("y", mat("rows", "cols")), *sizes_of("rows", "cols")),
        ROW_SIZES,
        lambda x, **_: {"y": f32(softmax_rows(f64(x)))},
        rtol=1e-3, atol=1e-6, tags=frozenset({"softmax"}),
    ),
    row_reduction("reduce_sum", lambda x: x.sum(axis=-1), rtol=1e-4, atol=1e-4),
    row_reduction("reduce_mean", lambda x: x.mean(axis=-1), rtol=1e-4, atol=1e-6),
    row_reduction("reduce_max", lambda x: x.max(axis=-1), rtol=0.0, atol=0.0),
    row_reduction("reduce_min", lambda x: x.min(axis=-1), rtol=0.0, atol=0.0),
    # matrix products
    gemm_spec("gemm", "float32", "float32", "float32", F32, matmul_f64, tags=frozenset(), **FP32_GEMM_TOL),
    gemm_spec("gemm_fp16", "float16", "float16", "float32", F32, matmul_f64, rtol=1e-2, atol=1e-2,
              tags=frozenset({"fp16"})),
    gemm_spec("gemm_int8", "uint8", "int8", "int32", INT8, matmul_i32, tags=frozenset({"int8"}), **EXACT),
    gemv_spec("gemv", "float32", "float32", "float32", F32, matmul_f64, tags=frozenset(), **FP32_GEMM_TOL),
    gemv_spec("gemv_int8", "uint8", "int8", "int32", INT8, matmul_i32, tags=frozenset({"int8"}), **EXACT),
    bmm_spec("bmm", "float32", "float32", "float32", F32, matmul_f64, tags=frozenset(), **FP32_GEMM_TOL),
    bmm_spec("bmm_int8", "uint8", "int8", "int32", INT8, matmul_i32, tags=frozenset({"int8"}), **EXACT),
    OpSpec(
        "dense",
        (f32_in("x", mat("M", "K")), f32_in("W", mat("N", "K")), f32_in("bias", vec("N")), f32_out("y", mat("M", "N")),
         *sizes_of("M", "N", "K")),
        GEMM_SIZES,
        lambda x, W, bias, **_: {"y": f32(f64(x) @ f64(W).T + f64(bias))},
        tags=frozenset({"gemm"}), **FP32_GEMM_TOL,
    ),
    OpSpec(
        "gated_mlp",
        (f32_in("x", mat("M", "K")), f32_in("Wg", mat("K", "N")), f32_in("Wu", mat("K", "N")),
         f32_out("y", mat("M", "N")), *sizes_of("M", "N", "K")),
        GEMM_SIZES,
        lambda x, Wg, Wu, **_: {"y": f32(silu(matmul_f64(x, Wg)) * matmul_f64(x, Wu))},
        rtol=1e-3, atol=1e-3, tags=frozenset({"gemm", "fused"}),
    ),
    # convolutions
    OpSpec(
        "conv1d",
        (f32_in("x", mat("N", "C", "L")), f32_in("w", mat("F", "C", "KW")),
         f32_out("y", lambda s: (int(s["N"]), int(s["F"]), int(s["L"]) - int(s["KW"]) + 1)),
         *sizes_of("N", "C", "L", "F", "KW")),
        ({"N": 1, "C": 4, "L": 32, "F": 8, "KW": 3}, {"N": 2, "C": 3, "L": 37, "F": 5, "KW": 5},
         {"N": 2, "C": 16, "L": 130, "F": 32, "KW": 7}),
        lambda x, w, **_: {"y": f32(conv1d_ref(x, w))},
        rtol=1e-4, atol=1e-4, tags=frozenset({"conv"}),
    ),
    conv2d_spec("conv2d_nchw", ("N", "C", "H", "W"), ("F", "C", "KH", "KW"), nhwc=False),
    conv2d_spec("conv2d_nhwc", ("N", "H", "W", "C"), ("KH", "KW", "C", "F"), nhwc=True),
    OpSpec(
        "depthwise_conv2d",
        (f32_in("x", mat("N", "H", "W", "C")), f32_in("w", mat("KH", "KW", "C")), f32_out("y", depthwise_out_shape),
         *sizes_of("N", "H", "W", "C", "KH", "KW", "stride", "pad")),
        ({"N": 1, "H": 8, "W": 8, "C": 16, "KH": 3, "KW": 3, "stride": 1, "pad": 1},
         {"N": 2, "H": 13, "W": 11, "C": 19, "KH": 3, "KW": 3, "stride": 2, "pad": 1},
         {"N": 1, "H": 9, "W": 10, "C": 5, "KH": 2, "KW": 3, "stride": 1, "pad": 0},
         {"N": 1, "H": 32, "W": 32, "C": 32, "KH": 5, "KW": 5, "stride": 1, "pad": 2}),
        lambda x, w, stride, pad, **_: {"y": f32(depthwise_ref(x, w, stride, pad))},
        rtol=1e-5, atol=1e-5, tags=frozenset({"conv"}),
    ),
    # normalisations
    OpSpec(
        "batchnorm",
        (f32_in("x", mat("N", "C", "HW")), f32_in("mean", vec("C"), -0.5, 0.5), f32_in("var", vec("C"), 0.1, 2.0),
         f32_in("gamma", vec("C"), 0.5, 1.5), f32_in("beta", vec("C"), -0.5, 0.5), f32_out("y", mat("N", "C", "HW")),
         *sizes_of("N", "C", "HW"), Param("eps", "float32", "scalar")),
        NCHW_NORM_SIZES,
        batchnorm_ref,
        rtol=1e-5, atol=1e-5, tags=frozenset({"norm"}),
    ),
    OpSpec(
        "layernorm",
        (f32_in("x", mat("rows", "cols")), f32_in("gamma", vec("cols"), 0.5, 1.5), f32_in("beta", vec("cols"), -0.5, 0.5),
         f32_out("y", mat("rows", "cols")), *sizes_of("rows", "cols"), Param("eps", "float32", "scalar")),
        ROW_NORM_SIZES,
        lambda x, gamma, beta, eps, **_: {"y": f32(standardize(x, -1, eps) * f64(gamma) + f64(beta))},
        rtol=1e-3, atol=1e-4, tags=frozenset({"norm"}),
    ),
    OpSpec(
        "rmsnorm",
        (f32_in("x", mat("rows", "cols")), f32_in("gamma", vec("cols"), 0.5, 1.5), f32_out("y", mat("rows", "cols")),
         *sizes_of("rows", "cols"), Param("eps", "float32", "scalar")),
        ROW_NORM_SIZES,
        rmsnorm_ref,
        rtol=1e-3, atol=1e-4, tags=frozenset({"norm"}),
    ),
    OpSpec(
        "instancenorm",
        (f32_in("x", mat("N", "C", "HW")), f32_in("gamma", vec("C"), 0.5, 1.5), f32_in("beta", vec("C"), -0.5, 0.5),
         f32_out("y", mat("N", "C", "HW")), *sizes_of("N", "C", "HW"), Param("eps", "float32", "scalar")),
        NCHW_NORM_SIZES,
        lambda x, gamma, beta, eps, **_: {
            "y": f32(standardize(x, -1, eps) * f64(gamma)[None, :, None] + f64(beta)[None, :, None])},
        rtol=1e-3, atol=1e-4, tags=frozenset({"norm"}),
    ),
    # pooling
    pool_spec("maxpool", lambda t: t.max(axis=0)),
    pool_spec("avgpool", lambda t: t.mean(axis=0)),
    pool_spec("minpool", lambda t: t.min(axis=0)),
    pool_spec("sumpool", lambda t: t.sum(axis=0)),
    # data movement
    OpSpec(
        "gather",
        (f32_in("table", mat("rows", "cols")), Param("idx", "int32", "in", vec("n_idx")),
         f32_out("out", mat("n_idx", "cols")), *sizes_of("rows", "cols", "n_idx")),
        ({"rows": 64, "cols": 32, "n_idx": 16}, {"rows": 100, "cols": 37, "n_idx": 53},
         {"rows": 1000, "cols": 256, "n_idx": 512}),
        lambda table, idx, **_: {"out": table[idx]},
        make_inputs=gather_inputs, tags=frozenset({"memory"}), **EXACT,
    ),
    OpSpec(
        "scatter",
        (f32_in("src", mat("n_idx", "cols")), Param("idx", "int32", "in", vec("n_idx")),
         Param("out", "float32", "inout", mat("rows", "cols")), *sizes_of("n_idx", "cols", "rows")),
        ({"n_idx": 16, "cols": 32, "rows": 64}, {"n_idx": 53, "cols": 37, "rows": 100},
         {"n_idx": 512, "cols": 256, "rows": 1000}),
        scatter_ref,
        make_inputs=scatter_inputs, tags=frozenset({"memory"}), **EXACT,
    ),
    OpSpec(
        "transpose",
        (f32_in("x", mat("rows", "cols")), f32_out("y", mat("cols", "rows")), *sizes_of("rows", "cols")),
        ({"rows": 64, "cols": 64}, {"rows": 37, "cols": 100}, {"rows": 1, "cols": 17}, {"rows": 256, "cols": 513}),
        lambda x, **_: {"y": np.ascontiguousarray(x.T)},
        tags=frozenset({"memory"}), **EXACT,
    ),
    OpSpec(
        "concat",
        (f32_in("a", mat("rows", "ca")), f32_in("b", mat("rows", "cb")),
         f32_out("y", lambda s: (int(s["rows"]), int(s["ca"]) + int(s["cb"]))), *sizes_of("rows", "ca", "cb")),
        ({"rows": 64, "ca": 32, "cb": 32}, {"rows": 37, "ca": 13, "cb": 21}, {"rows": 256, "ca": 100, "cb": 300}),
        lambda a, b, **_: {"y": np.concatenate([a, b], axis=1)},
        tags=frozenset({"memory"}), **EXACT,
    ),
    # attention and fused MLP
    OpSpec(
        "self_attention",
        (f32_in("Q", mat("seq", "d")), f32_in("K", mat("seq", "d")), f32_in("V", mat("seq", "d")),
         f32_out("O", mat("seq", "d")), *sizes_of("seq", "d")),
        ({"seq": 64, "d": 32}, {"seq": 37, "d": 20}, {"seq": 128, "d": 64}),
        lambda Q, K, V, **_: {"O": f32(attention_f64(Q, K, V))},
        tags=frozenset({"attention"}), **ATTENTION_TOL,
    ),
    OpSpec(
        "mha",
        (f32_in("Q", mat("batch", "heads", "seq", "d")), f32_in("K", mat("batch", "heads", "seq", "d")),
         f32_in("V", mat("batch", "heads", "seq", "d")), f32_out("O", mat("batch", "heads", "seq", "d")),
         *sizes_of("batch", "heads", "seq", "d")),
        ({"batch": 1, "heads": 2, "seq": 32, "d": 16}, {"batch": 2, "heads": 3, "seq": 19, "d": 24},
         {"batch": 2, "heads": 4, "seq": 64, "d": 64}),
        lambda Q, K, V, **_: {"O": f32(attention_f64(Q, K, V))},
        tags=frozenset({"attention"}), **ATTENTION_TOL,
    ),
    OpSpec(
        "gqa",
        (f32_in("Q", mat("batch", "q_heads", "seq", "d")), f32_in("K", mat("batch", "kv_heads", "seq", "d")),
         f32_in("V", mat("batch", "kv_heads", "seq", "d")), f32_out("O", mat("batch", "q_heads", "seq", "d")),
         *sizes_of("batch", "q_heads", "kv_heads", "seq", "d")),
        ({"batch": 1, "q_heads": 4, "kv_heads": 2, "seq": 32, "d": 16},
         {"batch": 2, "q_heads": 6, "kv_heads": 2, "seq": 19, "d": 24},
         {"batch": 1, "q_heads": 8, "kv_heads": 2, "seq": 64, "d": 64}),
        gqa_ref,
        tags=frozenset({"attention"}), **ATTENTION_TOL,
    ),
)
