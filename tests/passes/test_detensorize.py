"""detensorize: every intrinsic becomes loops, and the program computes the same (run before and after)."""
from __future__ import annotations

import numpy as np
import pytest

from kernel_ir.dialects import print_module
from kernel_ir.executor import execute
from kernel_ir.ir import Call, Module, walk
from kernel_ir.parse import parse
from passes.base import PassRefused
from passes.detensorize import detensorize, table_for
from tests.corpus import corpus_files
from tests.corpus.specs import SPECS, expected_outputs, make_args


def lowered(source: str, dialect: str) -> str:
    """detensorize `source`, check that no intrinsic is left, and print it in the same dialect."""
    module = detensorize(parse(source, dialect))
    assert_no_intrinsics(module)
    return print_module(module)


def assert_no_intrinsics(module: Module) -> None:
    table = table_for(module.dialect)
    left = {n.name for n in walk(module) if isinstance(n, Call) and (n.name in table.entries or table.is_intrinsic(n.name))}
    assert not left, f"intrinsics left: {sorted(left)}"


def assert_same(got: dict[str, np.ndarray], want: dict[str, np.ndarray], rtol: float, atol: float) -> None:
    for name, value in want.items():
        if np.issubdtype(value.dtype, np.integer):
            np.testing.assert_array_equal(got[name], value, err_msg=name)
        else:
            np.testing.assert_allclose(got[name].astype(np.float64), value.astype(np.float64), rtol=rtol, atol=atol,
                                       err_msg=name)


CORPUS = [pytest.param(d, op, path, id=f"{d}-{op}") for d in ("cpp", "bang") for _, op, path in corpus_files(d)]
CORPUS += [pytest.param("cuda", "gemm_fp16", next(p for _, op, p in corpus_files("cuda") if op == "gemm_fp16"),
                        id="cuda-gemm_fp16")]
CORPUS += [pytest.param("hip", op, path, id=f"hip-{op}") for _, op, path in corpus_files("hip")
           if op in ("gemm", "gemm_fp16")]  # MFMA: lanes exchange their operands through __shfl


@pytest.mark.parametrize("dialect, op, path", CORPUS)
def test_corpus_kernel_runs_the_same_after_detensorize(dialect: str, op: str, path) -> None:
    spec = SPECS[op]
    args = make_args(spec, spec.sizes[0])
    source = path.read_text()
    after = execute(lowered(source, dialect), dialect, op, args)
    before = execute(source, dialect, op, args)
    assert_same(after, before, rtol=1e-5, atol=1e-5)
    assert_same(after, expected_outputs(spec, args), spec.rtol, spec.atol)


# ---------------------------------------------------------------- tricky lowerings (cpp) --------------------

def run_both(source: str, dialect: str, entry: str, args: list) -> dict[str, np.ndarray]:
    """Outputs after detensorize, asserted equal to the outputs before."""
    after = execute(lowered(source, dialect), dialect, entry, args)
    before = execute(source, dialect, entry, args)
    assert_same(after, before, 0, 0)
    return after


DPBUSDS = """
#include <immintrin.h>
#include <cstdint>
extern "C" void dots(const uint8_t* a, const int8_t* b, const int32_t* acc, int32_t* sat, int32_t* wrap) {
    const __m512i s = _mm512_loadu_si512(acc);
    const __m512i x = _mm512_loadu_si512(a);
    const __m512i y = _mm512_loadu_si512(b);
    _mm512_storeu_si512(sat, _mm512_dpbusds_epi32(s, x, y));
    _mm512_storeu_si512(wrap, _mm512_dpbusd_epi32(s, x, y));
}
"""


def test_dpbusds_saturates_and_dpbusd_wraps() -> None:
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, 64).astype(np.uint8)
    b = rng.integers(-128, 128, 64).astype(np.int8)
    a[:8], b[:8] = 255, 127  # lanes 0, 1: large positive sums
    a[8:16], b[8:16] = 255, -128  # lanes 2, 3: large negative sums
    acc = rng.integers(-1000, 1000, 16).astype(np.int32)
    acc[:2] = np.iinfo(np.int32).max - 10
    acc[2:4] = np.iinfo(np.int32).min + 10
    out = run_both(DPBUSDS, "cpp", "dots", [("a", a), ("b", b), ("acc", acc), ("sat", np.zeros(16, np.int32)),
                                            ("wrap", np.zeros(16, np.int32))])
    sums = acc.astype(np.int64) + (a.astype(np.int64) * b.astype(np.int64)).reshape(16, 4).sum(axis=1)
    info = np.iinfo(np.int32)
    np.testing.assert_array_equal(out["sat"], np.clip(sums, info.min, info.max).astype(np.int32))
    np.testing.assert_array_equal(out["wrap"], sums.astype(np.uint64).astype(np.uint32).view(np.int32))
    assert out["sat"][0] == info.max and out["sat"][2] == info.min


MASKED_TAIL = """
#include <immintrin.h>
extern "C" void tail(const float* x, float* y, int n) {
    const __mmask16 m = _cvtu32_mask16((1u << n) - 1u);
    const __m512 v = _mm512_maskz_loadu_ps(m, x);
    const __m512 w = _mm512_mask_loadu_ps(_mm512_set1_ps(-1.0f), m, x);
    _mm512_mask_storeu_ps(y, m, _mm512_add_ps(_mm512_mul_ps(v, v), w));
    y[16] = _mm512_reduce_add_ps(v);
    y[17] = _mm512_reduce_max_ps(w);
}
"""


def test_masked_tail_reads_and_writes_only_selected_lanes() -> None:
    x = np.arange(1, 6, dtype=np.float32)  # only 5 elements: a lane loop reading 16 would run past it
    y = np.full(18, 7.0, np.float32)
    out = run_both(MASKED_TAIL, "cpp", "tail", [("x", x), ("y", y), ("n", np.int32(5))])
    np.testing.assert_array_equal(out["y"][:5], x * x + x)
    np.testing.assert_array_equal(out["y"][5:16], 7.0)
    assert out["y"][16] == x.sum() and out["y"][17] == 5.0


HALVES = """
#include <immintrin.h>
#include <cstdint>
extern "C" void halves(const float* x, uint16_t* h, float* back) {
    const __m512 v = _mm512_loadu_ps(x);
    const __m256i packed = _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm256_storeu_si256((__m256i*)h, packed);
    _mm512_storeu_ps(back, _mm512_cvtph_ps(packed));
}
"""


def test_half_conversion_rounds_to_nearest_even() -> None:
    ulp = np.float32(2.0 ** -10)  # half spacing in [1, 2)
    x = np.array([1 + ulp / 2, 1 + 3 * ulp / 2, 1 + ulp / 4, -(1 + 3 * ulp / 2), 65504.0, 1e-8, 0.1, 3.14159,
                  -2.5, 1000.3, 0.0, -0.0, 7.0, 1 + ulp * 0.75, 2.0 ** -24, 123.456], np.float32)
    out = run_both(HALVES, "cpp", "halves", [("x", x), ("h", np.zeros(16, np.uint16)), ("back", np.zeros(16, np.float32))])
    want = x.astype(np.float16)
    np.testing.assert_array_equal(out["h"], want.view(np.uint16))
    np.testing.assert_array_equal(out["back"], want.astype(np.float32))


# ---------------------------------------------------------------- tricky lowerings (bang) -------------------

STRIDED = """
#include <bang.h>
__mlu_global__ void strided(const float* x, float* y, int rows, int cols, int ld) {
    __nram__ float tile[256];
    __nram__ float sums[64];
    if (taskId == 0) {
        __memcpy(tile, x + 1, cols * sizeof(float), GDRAM2NRAM, cols * sizeof(float), ld * sizeof(float), rows - 1);
        __bang_mul_scalar(tile, tile, 2.0f, rows * cols);
        __memcpy(y, tile, cols * sizeof(float), NRAM2GDRAM, ld * sizeof(float), cols * sizeof(float), rows - 1);
        __bang_write_zero(sums, 64);
        __bang_reduce_sum(sums, tile, 64);
        __memcpy(y + rows * ld, sums, 64 * sizeof(float), NRAM2GDRAM);
    }
}
"""


def test_strided_memcpy_and_block_reduce_sum() -> None:
    rows, cols, ld = 4, 16, 20
    x = np.arange(rows * ld + 1, dtype=np.float32)
    y = np.full(rows * ld + 64, -1.0, np.float32)
    out = run_both(STRIDED, "bang", "strided", [("x", x), ("y", y), ("rows", np.int32(rows)), ("cols", np.int32(cols)),
                                               ("ld", np.int32(ld))])["y"]
    tile = 2 * x[1:].reshape(rows, ld)[:, :cols]
    np.testing.assert_array_equal(out[:rows * ld].reshape(rows, ld)[:, :cols], tile)
    np.testing.assert_array_equal(out[:rows * ld].reshape(rows, ld)[:, cols:], -1.0)  # the gaps are not written
    sums = out[rows * ld:]
    np.testing.assert_allclose(sums[[0, 32]], tile.reshape(2, 32).sum(axis=1))  # each 128-byte block's sum ...
    np.testing.assert_array_equal(np.delete(sums, [0, 32]), 0.0)  # ... in its first element only


# ---------------------------------------------------------------- refusals ----------------------------------

def test_unknown_intrinsic_is_refused() -> None:
    source = '#include <immintrin.h>\nextern "C" void f(float* x) { _mm512_storeu_ps(x, _mm512_getexp_ps(_mm512_loadu_ps(x))); }\n'
    with pytest.raises(PassRefused) as err:
        detensorize(parse(source, "cpp"))
    assert err.value.code == "XP501" and "_mm512_getexp_ps" in err.value.message


def test_integer_mfma_is_refused_with_xp502() -> None:
    source = """
#include <hip/hip_runtime.h>
typedef int intx4 __attribute__((ext_vector_type(4)));
__global__ void k(const int* a, const int* b, int* c) {
    intx4 acc = {0, 0, 0, 0};
    acc = __builtin_amdgcn_mfma_i32_16x16x16i8(a[threadIdx.x], b[threadIdx.x], acc, 0, 0, 0);
    c[threadIdx.x] = acc[0];
}
"""
    with pytest.raises(PassRefused) as err:
        detensorize(parse(source, "hip"))
    assert err.value.code == "XP502"
