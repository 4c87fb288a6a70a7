"""The BANG C emulation (kernel_ir/runtime/xp_bang.h) against numpy: intrinsics, rounding, memory, tasks.

Each kernel here exercises many intrinsics at once (one compile per program keeps the suite fast); its
outputs are checked against independent numpy formulas and a few hand-computed values. Expected semantics are
the Cambricon BANG C manual's: counts in elements, strides in bytes, HWC pooling, column-major matmul src1.
"""
from __future__ import annotations

import functools
from typing import Callable

import numpy as np
import pytest

from kernel_ir.executor import ExecutionError, execute

N = 1000  # vector length: not a multiple of the 32/64-element vector widths
SEG = 40  # cycle segment: divides N
RNG_SEED = 7


def run(source: str, entry: str, args: list[tuple[str, np.ndarray | np.generic]],
        task_dim: tuple[int, int, int] = (16, 1, 1), cores_per_cluster: int = 4) -> dict[str, np.ndarray]:
    launch = {"task_dim": task_dim, "cores_per_cluster": cores_per_cluster}
    return execute(source, "bang", entry, args, launch=launch, timeout_s=60)


# ---- stream functions: element-wise, activations, scalar and cycle forms -------------------------------------

def _round_half_away(v: np.ndarray) -> np.ndarray:
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def _gelu_tanh(v: np.ndarray) -> np.ndarray:
    return 0.5 * v * (1 + np.tanh(0.7978845608028654 * (v + 0.044715 * v**3)))


Op = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]
# (BANG statement writing t, numpy reference of x, y, p (positive), s (the cycle segment tiled to N)).
STREAM_OPS: list[tuple[str, Op]] = [
    ("__bang_add(t, x, y, n);", lambda x, y, p, s: x + y),
    ("__bang_sub(t, x, y, n);", lambda x, y, p, s: x - y),
    ("__bang_mul(t, x, y, n);", lambda x, y, p, s: x * y),
    ("__bang_div(t, x, p, n);", lambda x, y, p, s: x / p),
    ("__bang_div(t, x, p, aux, 1024);", lambda x, y, p, s: x / p),  # deprecated form: 128-byte multiple
    ("__bang_maxequal(t, x, y, n);", lambda x, y, p, s: np.maximum(x, y)),
    ("__bang_minequal(t, x, y, n);", lambda x, y, p, s: np.minimum(x, y)),
    ("__bang_maximum(t, x, y, n);", lambda x, y, p, s: np.maximum(x, y)),
    ("__bang_minimum(t, x, y, n);", lambda x, y, p, s: np.minimum(x, y)),
    ("__bang_eq(t, x, y, n);", lambda x, y, p, s: x == y),
    ("__bang_ne(t, x, y, n);", lambda x, y, p, s: x != y),
    ("__bang_gt(t, x, y, n);", lambda x, y, p, s: x > y),
    ("__bang_ge(t, x, y, n);", lambda x, y, p, s: x >= y),
    ("__bang_lt(t, x, y, n);", lambda x, y, p, s: x < y),
    ("__bang_le(t, x, y, n);", lambda x, y, p, s: x <= y),
    ("__bang_and(t, x, y, n);", lambda x, y, p, s: (x != 0) & (y != 0)),
    ("__bang_or(t, x, y, n);", lambda x, y, p, s: (x != 0) | (y != 0)),
    ("__bang_xor(t, x, y, n);", lambda x, y, p, s: (x != 0) ^ (y != 0)),
    ("__bang_not(t, x, n);", lambda x, y, p, s: x == 0),
    ("__bang_abs(t, x, n);", lambda x, y, p, s: np.abs(x)),
    ("__bang_relu(t, x, n);", lambda x, y, p, s: np.maximum(x, 0)),
    ("__bang_relun(t, x, n, 1.5f);", lambda x, y, p, s: np.clip(x, 0, 1.5)),
    ("__bang_square(t, x, n);", lambda x, y, p, s: x * x),
    ("__bang_recip(t, p, n);", lambda x, y, p, s: 1 / p),
    ("__bang_sqrt(t, p, n);", lambda x, y, p, s: np.sqrt(p)),
    ("__bang_rsqrt(t, p, n);", lambda x, y, p, s: 1 / np.sqrt(p)),
    ("__bang_sin(t, x, n);", lambda x, y, p, s: np.sin(x)),
    ("__bang_cos(t, x, n);", lambda x, y, p, s: np.cos(x)),
    ("__bang_log(t, p, n);", lambda x, y, p, s: np.log2(p)),  # binary logarithm
    ("__bang_pow2(t, x, n);", lambda x, y, p, s: np.exp2(x)),
    ("__bang_floor(t, x, n);", lambda x, y, p, s: np.floor(x)),
    ("__bang_round(t, x, n);", lambda x, y, p, s: _round_half_away(x)),
    ("__bang_active_exp(t, x, n);", lambda x, y, p, s: np.exp(x)),
    ("__bang_active_exphp(t, x, n);", lambda x, y, p, s: np.exp(x)),
    ("__bang_active_relu(t, x, n);", lambda x, y, p, s: np.maximum(x, 0)),
    ("__bang_active_sigmoid(t, x, n);", lambda x, y, p, s: 1 / (1 + np.exp(-x))),
    ("__bang_active_gelu(t, x, n);", lambda x, y, p, s: _gelu_tanh(x)),
    ("__bang_active_tanh(t, x, n);", lambda x, y, p, s: np.tanh(x)),
    ("__bang_active_sign(t, x, n);", lambda x, y, p, s: np.where(x >= 0, 1.0, -1.0)),  # sign(0) = 1
    ("__bang_active_recip(t, p, n);", lambda x, y, p, s: 1 / p),
    ("__bang_active_abs(t, x, n);", lambda x, y, p, s: np.abs(x)),
    ("__bang_active_sqrt(t, p, n);", lambda x, y, p, s: np.sqrt(p)),
    ("__bang_active_rsqrt(t, p, n);", lambda x, y, p, s: 1 / np.sqrt(p)),
    ("__bang_active_log(t, p, n);", lambda x, y, p, s: np.log(p)),  # natural logarithm
    ("__bang_active_sin(t, x, n);", lambda x, y, p, s: np.sin(x)),
    ("__bang_active_cos(t, x, n);", lambda x, y, p, s: np.cos(x)),
    ("__bang_taylor4_sigmoid(t, x, aux, aux2, n);", lambda x, y, p, s: 1 / (1 + np.exp(-x))),
    ("__bang_add_scalar(t, x, 0.75f, n);", lambda x, y, p, s: x + 0.75),
    ("__bang_sub_scalar(t, x, 0.75f, n);", lambda x, y, p, s: x - 0.75),
    ("__bang_mul_scalar(t, x, 0.75f, n);", lambda x, y, p, s: x * 0.75),
    ("__bang_mul_const(t, x, -2, n);", lambda x, y, p, s: x * -2),
    ("__bang_maxeq_scalar(t, x, 0.75f, n);", lambda x, y, p, s: np.maximum(x, 0.75)),
    ("__bang_mineq_scalar(t, x, 0.75f, n);", lambda x, y, p, s: np.minimum(x, 0.75)),
    ("__bang_ge_scalar(t, x, 0.75f, n);", lambda x, y, p, s: x >= 0.75),
    ("__bang_ne_scalar(t, x, 0.0f, n);", lambda x, y, p, s: x != 0),
    ("__bang_cycle_add(t, x, seg, n, seg_n);", lambda x, y, p, s: x + s),
    ("__bang_cycle_sub(t, x, seg, n, seg_n);", lambda x, y, p, s: x - s),
    ("__bang_cycle_mul(t, x, seg, n, seg_n);", lambda x, y, p, s: x * s),
    ("__bang_cycle_maxequal(t, x, seg, n, seg_n);", lambda x, y, p, s: np.maximum(x, s)),
    ("__bang_cycle_minequal(t, x, seg, n, seg_n);", lambda x, y, p, s: np.minimum(x, s)),
    ("__bang_cycle_gt(t, x, seg, n, seg_n);", lambda x, y, p, s: x > s),
    ("__bang_cycle_eq(t, x, seg, n, seg_n);", lambda x, y, p, s: x == s),
    ("__bang_write_value(t, n, 2.5f);", lambda x, y, p, s: np.full_like(x, 2.5)),
    ("__bang_write_zero(t, n);", lambda x, y, p, s: np.zeros_like(x)),
    ("__memset_nram(t, n, -1.25f);", lambda x, y, p, s: np.full_like(x, -1.25)),
]

STREAM_KERNEL = r"""
#include <bang.h>
#define CAP 1024
__nram__ float x[CAP], y[CAP], p[CAP], seg[CAP], t[CAP], aux[CAP], aux2[CAP];
__nram__ half hx[CAP], hm[CAP];

__mlu_global__ void stream(const float* a, const float* b, const float* pos, float* out, float* red, int* idx,
                           float* mem, int n, int seg_n) {
  if (taskId != 0) return;
  __bang_write_value(p, CAP, 1.0f);  // lanes past n stay valid divisors for the 1024-element division
  __memcpy(x, a, n * sizeof(float), GDRAM2NRAM);
  __memcpy(y, b, n * sizeof(float), GDRAM2NRAM);
  __memcpy(p, pos, n * sizeof(float), GDRAM2NRAM);
  __memcpy(seg, b, seg_n * sizeof(float), GDRAM2NRAM);
  float* o = out;
#define EMIT __memcpy(o, t, n * sizeof(float), NRAM2GDRAM); o += n;
  OPS
  // reductions
  __bang_write_value(t, 96, 7.0f);
  __bang_reduce_sum(t, x, 96);
  __memcpy(red, t, 96 * sizeof(float), NRAM2GDRAM);
  red[96] = __bang_sum(x, n);
  __bang_argmax(t, x, n); red[97] = t[0]; idx[0] = ((int*)t)[1];
  __bang_argmin(t, x, n); red[98] = t[0]; idx[1] = ((int*)t)[1];
  __bang_max(t, x, n); red[99] = t[0]; idx[2] = ((unsigned int*)t)[1];
  __bang_float2half_rn(hx, x, n);
  __bang_max(hm, hx, n); red[100] = __half2float(hm[0]); idx[3] = ((unsigned short*)hm)[1];
  __bang_min(hm, hx, n); red[101] = __half2float(hm[0]); idx[4] = ((unsigned short*)hm)[1];
  __bang_count((unsigned int*)t, x, n); idx[5] = ((unsigned int*)t)[0];
  __bang_findfirst1((unsigned int*)t, x, n); idx[6] = ((unsigned int*)t)[0];
  __bang_findlast1((unsigned int*)t, x, n); idx[7] = ((unsigned int*)t)[0];
  idx[8] = __bang_filter(t, y, x, n);
  __memcpy(red + 102, t, idx[8] * sizeof(float), NRAM2GDRAM);
  // data movement (offsets into mem, in floats, mirrored by the test)
  __bang_write_zero(t, 64);
  __memcpy(t, a, 3 * 4, GDRAM2NRAM, 4 * 4, 7 * 4, 4);          // 5 rows of 3, src stride 7, dst stride 4
  __memcpy(mem, t, 20 * 4, NRAM2GDRAM);
  __memcpy(t, a, 5 * 4, GDRAM2NRAM, 5 * 4, 0, 3);              // src stride 0: the same 5 floats 4 times
  __memcpy(mem + 20, t, 20 * 4, NRAM2GDRAM);
  __bang_write_zero(t, 64);
  __memcpy(t, a, 2 * 4, GDRAM2NRAM, 8 * 4, 2, 32 * 4, 1, 2 * 4, 5, 0, 0);  // 3-D: dst 3 x 2 segments
  __memcpy(mem + 40, t, 64 * 4, NRAM2GDRAM);
  __memcpy(t, a + 20, 5 * 4, GDRAM2NRAM, 5 * 4, -5 * 4, 4);    // negative src stride: rows reversed
  __memcpy(mem + 104, t, 25 * 4, NRAM2GDRAM);
  __memcpy(mem + 129, a, 2 * 4, GDRAM2GDRAM, 2 * 4, 10 * 4, 2); // strided GDRAM to GDRAM
  __bang_write_zero(t, 16);
  __bang_write_value(t, 2, 9.0f, 3 * 4, 1, 8 * 4, 1);          // 3-D fill: 2 x 2 segments of 2 floats
  __memcpy(mem + 135, t, 16 * 4, NRAM2GDRAM);
  __bang_move(aux, x, 2 * 4, 3 * 4, 5 * 4, 3);                 // NRAM strided move
  __memcpy(mem + 151, aux, 12 * 4, NRAM2GDRAM);
  __memcpy_async(t, a + 100, 10 * 4, GDRAM2NRAM);
  __sync_io();
  __memcpy(mem + 163, t, 10 * 4, NRAM2GDRAM);
}
"""
MEM_FLOATS = 173


def stream_inputs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(RNG_SEED)
    x = rng.uniform(-3, 3, N).astype(np.float32)
    y = rng.uniform(-3, 3, N).astype(np.float32)
    y[::7] = x[::7]  # equal pairs for the comparisons
    x[::11] = 0  # zeros for the logic functions, count and findfirst1
    x[5] = 2.5  # exact halves for __bang_round
    x[6] = -2.5
    p = rng.uniform(0.1, 4, N).astype(np.float32)
    return x, y, p


@functools.cache
def stream_outputs() -> dict[str, np.ndarray]:
    x, y, p = stream_inputs()
    ops = "\n  ".join(f"{stmt} EMIT" for stmt, _ in STREAM_OPS)
    source = STREAM_KERNEL.replace("OPS", ops)
    return run(source, "stream", [
        ("a", x), ("b", y), ("pos", p), ("out", np.zeros(len(STREAM_OPS) * N, np.float32)),
        ("red", np.zeros(102 + N, np.float32)), ("idx", np.zeros(9, np.int32)),
        ("mem", np.zeros(MEM_FLOATS, np.float32)), ("n", np.int32(N)), ("seg_n", np.int32(SEG)),
    ])


@pytest.mark.parametrize("index", range(len(STREAM_OPS)), ids=[s.split("(")[0] for s, _ in STREAM_OPS])
def test_stream_function_matches_numpy(index: int) -> None:
    x, y, p = (v.astype(np.float64) for v in stream_inputs())
    s = np.tile(y[:SEG], N // SEG)
    want = np.asarray(STREAM_OPS[index][1](x, y, p, s), dtype=np.float64).astype(np.float32)
    got = stream_outputs()["out"][index * N:(index + 1) * N]
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-7, err_msg=STREAM_OPS[index][0])


def test_reductions() -> None:
    x, y, _ = stream_inputs()
    red, idx = stream_outputs()["red"], stream_outputs()["idx"]
    block_sums = np.full(96, 7.0, np.float32)  # only the first element of each 128-byte block is written
    block_sums[::32] = x[:96].astype(np.float64).reshape(3, 32).sum(axis=1)
    np.testing.assert_allclose(red[:96], block_sums, rtol=1e-6)
    np.testing.assert_allclose(red[96], x.astype(np.float64).sum(), rtol=1e-5)
    assert (red[97], idx[0]) == (x.max(), np.argmax(x))
    assert (red[98], idx[1]) == (x.min(), np.argmin(x))
    assert (red[99], idx[2]) == (x.max(), np.argmax(x))  # __bang_max: float index as uint32
    xh = x.astype(np.float16)
    assert (red[100], idx[3]) == (xh.max(), np.argmax(xh))  # half index as uint16 after the value
    assert (red[101], idx[4]) == (xh.min(), np.argmin(xh))
    assert idx[5] == np.count_nonzero(x)
    assert idx[6] == np.flatnonzero(x)[0] and idx[7] == np.flatnonzero(x)[-1]
    assert idx[8] == np.count_nonzero(x)
    np.testing.assert_array_equal(red[102:102 + idx[8]], y[x != 0])


def test_memcpy_forms_and_fills() -> None:
    a = stream_inputs()[0]
    mem = stream_outputs()["mem"]
    strided = np.zeros((5, 4), np.float32)
    strided[:, :3] = a[:35].reshape(5, 7)[:, :3]
    np.testing.assert_array_equal(mem[:20], strided.ravel())
    np.testing.assert_array_equal(mem[20:40], np.tile(a[:5], 4))
    three_d = np.zeros(64, np.float32)
    for k in range(6):  # source segment k (2 floats, 2 apart) -> destination (j1, j2) = (k % 3, k // 3)
        start = (k // 3) * 32 + (k % 3) * 8
        three_d[start:start + 2] = a[2 * k:2 * k + 2]
    np.testing.assert_array_equal(mem[40:104], three_d)
    np.testing.assert_array_equal(mem[104:129], a[:25].reshape(5, 5)[::-1].ravel())
    np.testing.assert_array_equal(mem[129:135], np.concatenate([a[0:2], a[10:12], a[20:22]]))
    fill = np.zeros(16, np.float32)
    for j2 in range(2):
        for j1 in range(2):
            fill[j2 * 8 + j1 * 3:j2 * 8 + j1 * 3 + 2] = 9.0
    np.testing.assert_array_equal(mem[135:151], fill)
    move = np.zeros(12, np.float32)
    for j in range(4):
        move[3 * j:3 * j + 2] = a[5 * j:5 * j + 2]
    np.testing.assert_array_equal(mem[151:163], move)
    np.testing.assert_array_equal(mem[163:173], a[100:110])


# ---- half rounding and type conversions -------------------------------------------------------------------

MODES = ("rn", "tz", "oz", "up", "dn", "rd", "rm")


def reference_half(value: float, mode: str) -> np.float16:
    """`value` (a float32) rounded to binary16 in a BANG rounding mode; numpy gives round-to-nearest-even."""
    with np.errstate(over="ignore"):
        nearest = np.float16(np.float32(value))
        if float(nearest) == value or mode == "rn":
            return nearest
        if float(nearest) < value:
            lo, hi = nearest, np.nextafter(nearest, np.float16(np.inf))
        else:
            lo, hi = np.nextafter(nearest, np.float16(-np.inf)), nearest
    if mode in ("up", "dn", "tz", "oz"):
        toward_hi = {"up": True, "dn": False, "tz": value < 0, "oz": value > 0}[mode]
        return hi if toward_hi else lo
    lo_v = -65536.0 if np.isinf(lo) else float(lo)
    hi_v = 65536.0 if np.isinf(hi) else float(hi)
    if value - lo_v != hi_v - value:
        return lo if value - lo_v < hi_v - value else hi
    return (hi if value > 0 else lo) if mode == "rd" else hi


def reference_integer(value: float, mode: str, lo: int, hi: int) -> int:
    rounded = {
        "rn": np.rint(value), "tz": np.trunc(value), "oz": np.sign(value) * np.ceil(abs(value)),
        "up": np.ceil(value), "dn": np.floor(value), "rd": np.sign(value) * np.floor(abs(value) + 0.5),
        "rm": np.floor(value + 0.5),
    }[mode]
    return int(min(max(rounded, lo), hi))


CONVERT_KERNEL = r"""
#include "mlu.h"
#define CAP 512
__nram__ float f[CAP], g[CAP];
__nram__ half h[CAP], h2[CAP];
__nram__ int8_t i8[CAP];
__nram__ int32_t i32[CAP];

__mlu_global__ void convert(const float* src, const half* hb, const float* ints, half* rounded, half* arith,
                            float* widened, int8_t* q8, int32_t* q32, float* back, half* scalar, int n, int k) {
  if (taskId != 0) return;
  __memcpy(f, src, n * sizeof(float), GDRAM2NRAM);
  __bang_float2half_rn(h, f, n); __memcpy(rounded + 0 * n, h, n * 2, NRAM2GDRAM);
  __bang_float2half_tz(h, f, n); __memcpy(rounded + 1 * n, h, n * 2, NRAM2GDRAM);
  __bang_float2half_oz(h, f, n); __memcpy(rounded + 2 * n, h, n * 2, NRAM2GDRAM);
  __bang_float2half_up(h, f, n); __memcpy(rounded + 3 * n, h, n * 2, NRAM2GDRAM);
  __bang_float2half_dn(h, f, n); __memcpy(rounded + 4 * n, h, n * 2, NRAM2GDRAM);
  __bang_float2half_rd(h, f, n); __memcpy(rounded + 5 * n, h, n * 2, NRAM2GDRAM);
  __bang_float2half_rm(h, f, n); __memcpy(rounded + 6 * n, h, n * 2, NRAM2GDRAM);
  __bang_float2half_rn(h, f, n);
  __memcpy(h2, hb, n * sizeof(half), GDRAM2NRAM);
  __bang_add(h2, h, h2, n); __memcpy(arith, h2, n * 2, NRAM2GDRAM);
  __memcpy(h2, hb, n * sizeof(half), GDRAM2NRAM);
  __bang_mul(h2, h, h2, n); __memcpy(arith + n, h2, n * 2, NRAM2GDRAM);
  __memcpy(h2, hb, n * sizeof(half), GDRAM2NRAM);
  __bang_active_exp(h2, h2, n); __memcpy(arith + 2 * n, h2, n * 2, NRAM2GDRAM);
  __memcpy(h2, hb, n * sizeof(half), GDRAM2NRAM);
  __bang_half2float(g, h2, n); __memcpy(widened, g, n * 4, NRAM2GDRAM);
  __bang_write_zero(g, 24);
  __bang_half2float(g, h2, 3, 8 * 4, 5 * 2, 2);  // strided: 3 rows of 3, src stride 5 halves, dst 8 floats
  __memcpy(widened + n, g, 24 * 4, NRAM2GDRAM);
  for (int i = 0; i < n; ++i) scalar[i] = __float2half_rd(src[i]);
  __memcpy(g, ints, k * sizeof(float), GDRAM2NRAM);
  __bang_float2int8_rn(i8, g, k, -1); __memcpy(q8 + 0 * k, i8, k, NRAM2GDRAM);
  __bang_float2int8_tz(i8, g, k, -1); __memcpy(q8 + 1 * k, i8, k, NRAM2GDRAM);
  __bang_float2int8_oz(i8, g, k, -1); __memcpy(q8 + 2 * k, i8, k, NRAM2GDRAM);
  __bang_float2int8_up(i8, g, k, -1); __memcpy(q8 + 3 * k, i8, k, NRAM2GDRAM);
  __bang_float2int8_dn(i8, g, k, -1); __memcpy(q8 + 4 * k, i8, k, NRAM2GDRAM);
  __bang_float2int8_rd(i8, g, k, -1); __memcpy(q8 + 5 * k, i8, k, NRAM2GDRAM);
  __bang_float2int8_rm(i8, g, k, -1); __memcpy(q8 + 6 * k, i8, k, NRAM2GDRAM);
  __bang_float2int32(i32, g, k, 0); __memcpy(q32, i32, k * 4, NRAM2GDRAM);
  __bang_float2int8_rn(i8, g, k, 0);
  __bang_int82float(f, i8, k, 2); __memcpy(back, f, k * 4, NRAM2GDRAM);
}
"""


def conversion_inputs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(RNG_SEED)
    ties = np.array([1 + 2**-11, -(1 + 2**-11), 1 + 3 * 2**-11, 2048 + 1, -(2048 + 3), 2**-24 * 1.5,
                     -(2**-25), 65504 + 8, 65504 + 16, 65520 + 1, -70000, 0.0, 1e-9], np.float32)
    random = np.concatenate([rng.uniform(-3, 3, 200), rng.uniform(-7e4, 7e4, 100),
                             rng.uniform(-1e-5, 1e-5, 87)]).astype(np.float32)
    src = np.concatenate([ties, random])
    other = rng.uniform(-4, 4, len(src)).astype(np.float16)
    ints = np.array([1.25, -1.25, 0.75, -0.75, 1.75, -1.75, 1.9, -1.9, 0.2, -0.2, 100.0, -100.0, 3.0, 0.5],
                    np.float32)
    return src, other, ints


@functools.cache
def conversion_outputs() -> dict[str, np.ndarray]:
    src, other, ints = conversion_inputs()
    n, k = len(src), len(ints)
    return run(CONVERT_KERNEL, "convert", [
        ("src", src), ("hb", other), ("ints", ints), ("rounded", np.zeros(7 * n, np.float16)),
        ("arith", np.zeros(3 * n, np.float16)), ("widened", np.zeros(n + 24, np.float32)),
        ("q8", np.zeros(7 * k, np.int8)), ("q32", np.zeros(k, np.int32)), ("back", np.zeros(k, np.float32)),
        ("scalar", np.zeros(n, np.float16)), ("n", np.int32(n)), ("k", np.int32(k)),
    ])


def test_half_rounding_modes_hand_values() -> None:
    src = conversion_inputs()[0]
    rounded = conversion_outputs()["rounded"].reshape(7, -1)
    tie = 1 + 2**-11  # halfway between 1 and the next half, 1 + 2^-10
    up = 1 + 2**-10
    want = {"rn": 1.0, "tz": 1.0, "oz": up, "up": up, "dn": 1.0, "rd": up, "rm": up}
    assert src[0] == np.float32(tie)
    for m, mode in enumerate(MODES):
        assert rounded[m, 0] == want[mode], mode
        assert rounded[m, 1] == {"rn": -1.0, "tz": -1.0, "oz": -up, "up": -1.0, "dn": -up, "rd": -up, "rm": -1.0}[mode]
    assert rounded[0, 2] == np.float16(1 + 4 * 2**-11)  # 1 + 3 ulp/2 ties to the even neighbour
    assert rounded[0, 3] == 2048 and rounded[0, 4] == -2052  # spacing 2 above 2048: ties to even
    assert np.isinf(rounded[0, 9]) and rounded[1, 9] == 65504 and rounded[3, 9] == np.inf  # overflow
    assert rounded[0, 7] == 65504 and rounded[2, 7] == np.inf


def test_half_rounding_modes_match_reference() -> None:
    src = conversion_inputs()[0]
    rounded = conversion_outputs()["rounded"].reshape(7, -1)
    for m, mode in enumerate(MODES):
        want = np.array([reference_half(float(v), mode) for v in src], np.float16)
        np.testing.assert_array_equal(rounded[m].view(np.uint16), want.view(np.uint16), err_msg=mode)
    scalar_rd = np.array([reference_half(float(v), "rd") for v in src], np.float16)
    np.testing.assert_array_equal(conversion_outputs()["scalar"].view(np.uint16), scalar_rd.view(np.uint16))


def test_half_arithmetic_rounds_like_numpy_float16() -> None:
    src, other, _ = conversion_inputs()
    arith = conversion_outputs()["arith"].reshape(3, -1)
    with np.errstate(over="ignore"):
        h = src.astype(np.float16)
        np.testing.assert_array_equal(arith[0], h + other)
        np.testing.assert_array_equal(arith[1], h * other)
    np.testing.assert_array_equal(arith[2], np.exp(other.astype(np.float64)).astype(np.float16))
    widened = conversion_outputs()["widened"]
    np.testing.assert_array_equal(widened[:len(src)], other.astype(np.float32))
    rows = np.zeros((3, 8), np.float32)
    rows[:, :3] = other[:15].reshape(3, 5)[:, :3]
    np.testing.assert_array_equal(widened[len(src):], rows.ravel())


def test_float_to_fixed_point_and_back() -> None:
    ints = conversion_inputs()[2]
    q8 = conversion_outputs()["q8"].reshape(7, -1)
    for m, mode in enumerate(MODES):
        want = [reference_integer(float(v) * 2, mode, -128, 127) for v in ints]  # fix_position -1: times 2
        np.testing.assert_array_equal(q8[m], want, err_msg=mode)
    assert list(q8[0, :4]) == [2, -2, 2, -2] and list(q8[5, :4]) == [3, -3, 2, -2] and q8[6, 1] == -2
    np.testing.assert_array_equal(conversion_outputs()["q32"], np.trunc(ints).astype(np.int32))
    back = np.rint(ints).clip(-128, 127) * 4  # fix_position 2: times 4
    np.testing.assert_array_equal(conversion_outputs()["back"], back.astype(np.float32))


# ---- pooling, matrix functions, matmul, mlp, conv -----------------------------------------------------------

NN_KERNEL = r"""
#include <bang.h>
#define CAP 2048
__nram__ float img[CAP], t[CAP], m0[CAP], vin[CAP], bias[CAP];
__nram__ half h0[CAP];
__wram__ float w[CAP];
__wram__ half hw[CAP];
__nram__ int8_t a8[CAP], s8[CAP];
__wram__ int8_t w8[CAP];
__nram__ unsigned int pidx[CAP];

__mlu_global__ void nn(const float* image, const float* A, const float* Bcm, const float* vec, const float* filt,
                       const float* csrc, const float* ckern, const int8_t* A8, const int8_t* B8cm,
                       const float* bias2, const int8_t* c8src, const int8_t* c8kern, const float* c8bias,
                       float* out, unsigned int* iout) {
  if (taskId != 0) return;
  float* o = out;
#define STORE(len) __memcpy(o, t, (len) * 4, NRAM2GDRAM); o += (len);
  __memcpy(img, image, 7 * 9 * 5 * 4, GDRAM2NRAM);
  __bang_sumpool(t, img, 5, 7, 9, 3, 2, 2, 3); STORE(2 * 4 * 5)     // kernel 3x2, stride w 2, stride h 3
  __bang_avgpool(t, img, 5, 7, 9, 2, 3); STORE(3 * 3 * 5)           // no stride: stride = kernel
  __bang_maxpool(t, img, 5, 7, 9, 3, 2, 2, 3); STORE(2 * 4 * 5)
  __bang_minpool(t, img, 5, 7, 9, 3, 2, 2, 3); STORE(2 * 4 * 5)
  __bang_maxpool_index(pidx, img, 5, 7, 9, 3, 2, 2, 3);
  __memcpy(iout, pidx, 2 * 4 * 5 * 4, NRAM2GDRAM);
  __memcpy(m0, A, 5 * 7 * 4, GDRAM2NRAM);
  __bang_transpose(t, m0, 5, 7); STORE(35)
  __bang_mirror(t, m0, 5, 7); STORE(35)
  __bang_rotate90(t, m0, 5, 7); STORE(35)
  __bang_rotate180(t, m0, 5, 7); STORE(35)
  __bang_rotate270(t, m0, 5, 7); STORE(35)
  __memcpy(w, Bcm, 3 * 7 * 4, GDRAM2WRAM);
  __bang_matmul(t, m0, w, 5, 7, 3); STORE(15)                       // [5,7] @ [7,3]
  __bang_float2half_rn(h0, m0, 35);
  __memcpy(vin, Bcm, 3 * 7 * 4, GDRAM2NRAM);
  __bang_float2half_rn((half*)bias, vin, 21);
  __memcpy(hw, bias, 21 * 2, NRAM2WRAM);
  __bang_matmul(t, h0, hw, 5, 7, 3); STORE(15)                      // half x half -> float
  __memcpy(vin, vec, 7 * 4, GDRAM2NRAM);
  __memcpy(w, filt, 3 * 7 * 4, GDRAM2WRAM);
  __bang_mlp(t, vin, w, 3, 7); STORE(3)                             // filter [3][7]
  __memcpy(img, csrc, 6 * 5 * 3 * 4, GDRAM2NRAM);
  __memcpy(w, ckern, 4 * 3 * 2 * 3 * 4, GDRAM2WRAM);
  __bang_conv(t, img, w, 3, 6, 5, 3, 2, 1, 2, 4); STORE(2 * 4 * 4)  // stride w 1, stride h 2
  __memcpy(a8, A8, 5 * 8, GDRAM2NRAM);
  __memcpy(w8, B8cm, 3 * 8, GDRAM2WRAM);
  __memcpy(bias, bias2, 15 * 4, GDRAM2NRAM);
  __bang_matmul(t, a8, w8, bias, 5, 8, 3, -2); STORE(15)            // int8, product * 2^-2 + bias
  __bang_mlp(t, a8, bias, w8, 3, 8, 1); STORE(3)                    // first row of A8, bias[3], * 2^1
  __memcpy(s8, c8src, 6 * 5 * 4, GDRAM2NRAM);
  __memcpy(w8, c8kern, 2 * 3 * 2 * 4, GDRAM2WRAM);
  __memcpy(bias, c8bias, 2 * 4, GDRAM2NRAM);
  __bang_conv(t, s8, w8, bias, 4, 6, 5, 3, 2, 2, 1, 2, 0); STORE(4 * 2 * 2)  // stride w 2, stride h 1
}
"""


def _pool(x: np.ndarray, kh: int, kw: int, sw: int, sh: int, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """HWC pooling: `fn` folds the [kh * kw, c] window (row-major over the window) to [c]."""
    h, w, c = x.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    out = np.zeros((oh, ow, c), np.float64)
    for i in range(oh):
        for j in range(ow):
            out[i, j] = fn(x[i * sh:i * sh + kh, j * sw:j * sw + kw].reshape(kh * kw, c))
    return out


def _conv(src: np.ndarray, kern: np.ndarray, sw: int, sh: int) -> np.ndarray:
    """src [h, w, ci], kern [co, kh, kw, ci] -> [oh, ow, co], no padding."""
    h, w, _ = src.shape
    co, kh, kw, _ = kern.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    out = np.zeros((oh, ow, co))
    for i in range(oh):
        for j in range(ow):
            out[i, j] = np.tensordot(kern, src[i * sh:i * sh + kh, j * sw:j * sw + kw], axes=3)
    return out


@functools.cache
def nn_case() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    rng = np.random.default_rng(RNG_SEED)
    ins = {
        "image": rng.normal(size=(7, 9, 5)).astype(np.float32),
        "A": rng.normal(size=(5, 7)).astype(np.float32),
        "Bcm": rng.normal(size=(3, 7)).astype(np.float32),  # the [7, 3] matrix, column-major
        "vec": rng.normal(size=7).astype(np.float32),
        "filt": rng.normal(size=(3, 7)).astype(np.float32),
        "csrc": rng.normal(size=(6, 5, 3)).astype(np.float32),
        "ckern": rng.normal(size=(4, 3, 2, 3)).astype(np.float32),
        "A8": rng.integers(-128, 128, size=(5, 8)).astype(np.int8),
        "B8cm": rng.integers(-128, 128, size=(3, 8)).astype(np.int8),
        "bias2": rng.normal(size=(5, 3)).astype(np.float32),
        "c8src": rng.integers(-128, 128, size=(6, 5, 4)).astype(np.int8),
        "c8kern": rng.integers(-128, 128, size=(2, 3, 2, 4)).astype(np.int8),
        "c8bias": rng.normal(size=2).astype(np.float32),
    }
    args = [(k, v.ravel()) for k, v in ins.items()]
    args += [("out", np.zeros(2048, np.float32)), ("iout", np.zeros(40, np.uint32))]
    return ins, run(NN_KERNEL, "nn", args)


def test_pooling_hwc_with_strides() -> None:
    ins, outs = nn_case()
    x = ins["image"].astype(np.float64)
    got = outs["out"]
    np.testing.assert_allclose(got[0:40], _pool(x, 3, 2, 2, 3, lambda w: w.sum(0)).ravel(), rtol=1e-6)
    np.testing.assert_allclose(got[40:85], _pool(x, 2, 3, 3, 2, lambda w: w.mean(0)).ravel(), rtol=1e-6)
    np.testing.assert_array_equal(got[85:125], _pool(x, 3, 2, 2, 3, lambda w: w.max(0)).ravel().astype(np.float32))
    np.testing.assert_array_equal(got[125:165], _pool(x, 3, 2, 2, 3, lambda w: w.min(0)).ravel().astype(np.float32))
    np.testing.assert_array_equal(outs["iout"], _pool(x, 3, 2, 2, 3, lambda w: w.argmax(0)).ravel())


def test_transpose_mirror_rotate() -> None:
    ins, outs = nn_case()
    a, got = ins["A"], outs["out"][165:]
    for k, want in enumerate([a.T, a[:, ::-1], np.rot90(a, -1), np.rot90(a, 2), np.rot90(a, 1)]):
        np.testing.assert_array_equal(got[35 * k:35 * (k + 1)], want.ravel())


def test_matmul_mlp_conv() -> None:
    ins, outs = nn_case()
    got = outs["out"][340:]
    a, b = ins["A"].astype(np.float64), ins["Bcm"].astype(np.float64).T  # src1 is column-major [K, N]
    np.testing.assert_allclose(got[0:15], (a @ b).ravel(), rtol=1e-5, atol=1e-6)
    ah, bh = ins["A"].astype(np.float16).astype(np.float64), ins["Bcm"].astype(np.float16).astype(np.float64).T
    np.testing.assert_allclose(got[15:30], (ah @ bh).ravel(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[30:33], ins["filt"].astype(np.float64) @ ins["vec"], rtol=1e-5, atol=1e-6)
    conv = _conv(ins["csrc"].astype(np.float64), ins["ckern"].astype(np.float64), sw=1, sh=2)
    np.testing.assert_allclose(got[33:65], conv.ravel(), rtol=1e-5, atol=1e-6)
    a8, b8 = ins["A8"].astype(np.int64), ins["B8cm"].astype(np.int64).T
    np.testing.assert_allclose(got[65:80], ((a8 @ b8) * 0.25 + ins["bias2"]).ravel(), rtol=1e-6)
    mlp = (ins["B8cm"].astype(np.int64) @ a8[0]) * 2 + ins["bias2"].ravel()[:3]
    np.testing.assert_allclose(got[80:83], mlp, rtol=1e-6)
    conv8 = _conv(ins["c8src"].astype(np.float64), ins["c8kern"].astype(np.float64), sw=2, sh=1) + ins["c8bias"]
    np.testing.assert_allclose(got[83:99], conv8.ravel(), rtol=1e-6)


# ---- tasks: built-in variables, barriers, private NRAM, per-cluster SRAM --------------------------------------

BARRIER_KERNEL = r"""
__nram__ int mine[16];

__mlu_global__ void tasks(int* builtins, int* ids, int* seen, int* cluster_seen, int* own, int* arrivals, int drop) {
  int* b = builtins + taskId * 12;
  b[0] = taskId; b[1] = taskIdX; b[2] = taskIdY; b[3] = taskIdZ; b[4] = taskDim; b[5] = taskDimX;
  b[6] = taskDimY; b[7] = taskDimZ; b[8] = coreId; b[9] = coreDim; b[10] = clusterId; b[11] = clusterDim;
  __bang_write_value(mine, 16, taskId);
  if (drop > 0 && taskId % drop == 1) return;  // early return: the others' barriers must still complete
  if (taskId % 2 == 0) for (volatile int spin = 0; spin < 200000; spin = spin + 1) {}  // make a missing barrier visible
  ids[taskId] = taskId + 100;
  __sync_all();
  seen[taskId] = ids[(taskId + 5) % taskDim];
  __sync_all();
  if (coreId == 0) for (volatile int spin = 0; spin < 200000; spin = spin + 1) {}
  ids[taskId] = taskId + 200;
  __sync_cluster();
  cluster_seen[taskId] = ids[clusterId * coreDim + (coreId + 1) % coreDim];
  __sync_cluster();
  own[taskId] = mine[taskId % 16];
  __bang_atomic_reduce_add(arrivals, 1);
}
"""


def tasks_case(task_dim: tuple[int, int, int], cores: int, drop: int) -> tuple[dict[str, np.ndarray], int]:
    tasks = int(np.prod(task_dim))
    outs = run(BARRIER_KERNEL, "tasks", [
        ("builtins", np.zeros(12 * tasks, np.int32)), ("ids", np.zeros(tasks, np.int32)),
        ("seen", np.full(tasks, -1, np.int32)), ("cluster_seen", np.full(tasks, -1, np.int32)),
        ("own", np.full(tasks, -1, np.int32)), ("arrivals", np.zeros(1, np.int32)), ("drop", np.int32(drop)),
    ], task_dim=task_dim, cores_per_cluster=cores)
    return outs, tasks


@pytest.mark.parametrize("task_dim, cores", [((4, 2, 2), 4), ((16, 1, 1), 1)], ids=["union1", "block"])
def test_builtins_barriers_and_private_nram(task_dim: tuple[int, int, int], cores: int) -> None:
    outs, tasks = tasks_case(task_dim, cores, drop=0)
    t = np.arange(tasks)
    dx, dy, dz = task_dim
    want = np.stack([t, t % dx, t // dx % dy, t // (dx * dy), np.full(tasks, tasks), np.full(tasks, dx),
                     np.full(tasks, dy), np.full(tasks, dz), t % cores, np.full(tasks, cores), t // cores,
                     np.full(tasks, tasks // cores)], axis=1)
    np.testing.assert_array_equal(outs["builtins"].reshape(tasks, 12), want)
    np.testing.assert_array_equal(outs["seen"], (t + 5) % tasks + 100)
    np.testing.assert_array_equal(outs["cluster_seen"], (t // cores) * cores + (t % cores + 1) % cores + 200)
    np.testing.assert_array_equal(outs["own"], t)  # file-scope __nram__ is per task
    assert outs["arrivals"][0] == tasks


def test_tasks_returning_early_leave_the_barriers() -> None:
    outs, tasks = tasks_case((16, 1, 1), 4, drop=3)
    t = np.arange(tasks)
    live = t % 3 != 1
    assert outs["arrivals"][0] == live.sum()
    np.testing.assert_array_equal(outs["ids"][live], t[live] + 200)
    partner = (t + 5) % tasks
    expected_seen = np.where(live[partner], partner + 100, 0)
    np.testing.assert_array_equal(outs["seen"][live], expected_seen[live])


SRAM_KERNEL = r"""
#include <bang.h>
__mlu_global__ void sram(const float* src, float* out, float* passed) {
  __mlu_shared__ float shared[256];
  __nram__ float local[64];
  if (coreId == 0) __memcpy(shared, src + clusterId * 64, 64 * sizeof(float), GDRAM2SRAM);
  __sync_cluster();
  __memcpy(local, shared + coreId * 16, 16 * sizeof(float), SRAM2NRAM);
  __bang_add_scalar(local, local, (float)coreId, 16);
  __memcpy(out + taskId * 16, local, 16 * sizeof(float), NRAM2GDRAM);
  __sync_all();
  if (coreId == 0) __memcpy(shared + 128, shared, 16 * sizeof(float), SRAM2SRAM, (clusterId + 1) % clusterDim);
  __sync_all();
  if (coreId == 1) __memcpy(passed + clusterId * 16, shared + 128, 16 * sizeof(float), SRAM2GDRAM);
}
"""


def test_mlu_shared_is_per_cluster() -> None:
    src = np.arange(4 * 64, dtype=np.float32)
    outs = run(SRAM_KERNEL, "sram", [("src", src), ("out", np.zeros(16 * 16, np.float32)),
                                     ("passed", np.zeros(4 * 16, np.float32))])
    t = np.arange(16)
    want = src.reshape(4, 4, 16)[t // 4, t % 4] + (t % 4)[:, None]
    np.testing.assert_array_equal(outs["out"].reshape(16, 16), want)
    previous = (np.arange(4) - 1) % 4  # cluster c received the first 16 floats of cluster c - 1
    np.testing.assert_array_equal(outs["passed"].reshape(4, 16), src.reshape(4, 64)[previous, :16])


# ---- misuse is diagnosed ----------------------------------------------------------------------------------

MISUSE_KERNEL = r"""
__nram__ float buf[256];
__mlu_global__ void misuse(float* g, int which) {
  if (which == 0 && taskId == 0) __bang_reduce_sum(buf, buf, 10);
  if (which == 1 && taskId == 0) __memcpy(buf, g, 0, GDRAM2NRAM);
  if (which == 2 && taskId == 0) __bang_cycle_add(buf, buf, buf, 10, 3);
  if (which == 3 && taskId == 0) __bang_add(buf, buf, buf, 0);
  if (which == 4 && taskId == 0) __memcpy(buf, g, 64, GDRAM2NRAM, 32, 64, 1);
  if (which == 5) { if (coreId == 0) __sync_cluster(); else __sync_all(); }
  if (which == 6 && taskId == 0) __bang_add(buf, buf, buf, 10);  // 40 bytes: fine except on (m)tp_2xx
}
"""


@pytest.mark.parametrize("which, message", [
    (0, "__bang_reduce_sum: elem_count * sizeof(type) = 40 bytes must be a multiple of 128"),
    (1, "__memcpy: size must be"),
    (2, "__bang_cycle_add: src_elem_count 10 must be divisible by seg_elem_count 3"),
    (3, "__bang_add: elem_count must be > 0"),
    (4, "__memcpy: dst_stride = 32 must be >= size = 64"),
    (5, "deadlock"),
])
def test_misuse_is_reported(which: int, message: str) -> None:
    with pytest.raises(ExecutionError) as err:
        run(MISUSE_KERNEL, "misuse", [("g", np.zeros(256, np.float32)), ("which", np.int32(which))])
    assert err.value.code == "XP303" and message in err.value.message


def test_2xx_alignment_rules_are_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    args = [("g", np.zeros(256, np.float32)), ("which", np.int32(6))]
    run(MISUSE_KERNEL, "misuse", args)
    monkeypatch.setenv("XP_BANG_STRICT", "2")
    with pytest.raises(ExecutionError) as err:
        run(MISUSE_KERNEL, "misuse", args)
    assert "__bang_add: elem_count * sizeof(type) = 40 bytes must be a multiple of 128 on (m)tp_2xx" in err.value.message


def test_launch_must_fill_whole_clusters() -> None:
    with pytest.raises(ExecutionError) as err:
        run(MISUSE_KERNEL, "misuse", [("g", np.zeros(256, np.float32)), ("which", np.int32(9))], task_dim=(6, 1, 1))
    assert "not a multiple of the 4 cores" in err.value.message
