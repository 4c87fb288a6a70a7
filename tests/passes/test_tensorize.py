"""`tensorize`, executed before and after on the same inputs.

BANG programs tiled by `cache`: bit for bit for arithmetic and for row max/min (`__bang_max`/`__bang_min`),
within 1e-6 relative where the activation unit computes exp, and within 1e-5 for row sums (`__bang_sum` adds in
another order). CUDA/HIP matmul kernels tiled by `cache` with half tiles: wmma / MFMA, bit for bit in the
executor's emulation (which adds the exact fp32 products in k order), and compiled by nvcc / hipcc when
installed. cpp programs: uint8 x int8 contractions become AVX-512 VNNI (`_mm512_dpbusd_epi32`, bit for bit:
integer sums do not depend on the order), other innermost independent loops get `#pragma omp simd`; run in the
executor's emulation of the intrinsics and natively (gcc -O3 -march=native) when this CPU has AVX-512 VNNI."""
from __future__ import annotations

import numpy as np
import pytest

from devices.local_cpu import cpu_flags
from kernel_ir.dialects import print_module
from kernel_ir.executor import execute
from passes.base import PassRefused
from passes.cache import CacheOptions, cache
from passes.tensorize import tensorize
from tests.passes.target_programs import assert_executes_like, bound, floats
from passes.translate import toolchain_compile
from tests.passes.test_bind import ROW_REDUCTION as ROW_MAX
from tests.passes.test_cache import AXPB, MATMUL, axpb_args


def elementwise(expression: str) -> str:
    return f"""
extern "C" void map(const float* x, const float* z, float* y, int n, float alpha) {{
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {{
        y[i] = {expression};
    }}
}}
"""


def map_args(n: int) -> list:
    return [("x", floats(n)), ("z", floats(n) + 3.0), ("y", np.zeros(n, np.float32)), ("n", np.int32(n)),
            ("alpha", np.float32(0.75))]


EXACT = {  # expression -> intrinsics it must use
    "x[i] > 0.0f ? x[i] : 0.0f": ["__bang_active_relu"],
    "fmaxf(x[i], 0.0f)": ["__bang_active_relu"],
    "fminf(x[i], z[i]) - alpha": ["__bang_minimum", "__bang_sub_scalar"],
    "alpha - x[i] * z[i]": ["__bang_mul", "__bang_sub_scalar", "__bang_neg"],
    "1.0f / z[i] + x[i] / z[i]": ["__bang_recip", "__bang_div", "__bang_add"],
    "sqrtf(fabsf(x[i])) * 2": ["__bang_abs", "__bang_sqrt", "__bang_mul_scalar"],
}


@pytest.mark.parametrize("expression", sorted(EXACT))
def test_exact_operations_become_intrinsics(expression: str) -> None:
    before = cache(bound(elementwise(expression)), CacheOptions(tile=128))
    after = tensorize(before)
    code = assert_executes_like(before, after, "map", map_args(16 * 128 + 77))
    for intrinsic in EXACT[expression]:
        assert f"{intrinsic}(" in code


def test_activation_within_float_tolerance_and_helpers_inlined() -> None:
    before = cache(bound(elementwise("1.0f / (1.0f + expf(-x[i]))")), CacheOptions(tile=128))
    code = assert_executes_like(before, tensorize(before), "map", map_args(1000), rtol=1e-6)
    assert "__bang_active_exp(" in code and "__bang_recip(" in code


def test_helper_and_scalar_locals_with_a_scalar_tail() -> None:
    before = cache(bound(AXPB), CacheOptions(tile=128))
    code = assert_executes_like(before, tensorize(before), "axpb", axpb_args(16 * 128 + 45))
    assert "__bang_mul_scalar(" in code and "__bang_add(" in code
    assert "i_count / 32 * 32" in code  # whole 128-byte vectors; the < 32 remaining elements stay scalar


def test_alignment_rules_of_the_strictest_generation(monkeypatch) -> None:
    """XP_BANG_STRICT=2: 64-byte addresses, counts that are multiples of 128 bytes (the emulation checks)."""
    monkeypatch.setenv("XP_BANG_STRICT", "2")
    before = cache(bound(AXPB), CacheOptions(tile=128))
    assert_executes_like(before, tensorize(before), "axpb", axpb_args(16 * 128 + 45))


def test_unsupported_operation_keeps_the_scalar_loop() -> None:
    before = cache(bound(elementwise("x[i] / alpha")))  # multiplying by 1/alpha would round twice
    with pytest.raises(PassRefused) as err:
        tensorize(before)
    assert err.value.code == "XP545"


def test_double_arithmetic_is_not_vectorized_in_float() -> None:
    with pytest.raises(PassRefused):
        tensorize(cache(bound(elementwise("(float)(x[i] * 0.1)"))))


def test_refuses_untiled_programs_and_other_targets() -> None:
    for module in (bound(AXPB), bound(AXPB, "cuda")):
        with pytest.raises(PassRefused) as err:
            tensorize(module)
        assert err.value.code == "XP545"
    assert "__bang" not in print_module(bound(AXPB))


HAS_VNNI = "avx512_vnni" in cpu_flags()
rng = np.random.default_rng(11)

GEMM = """
#include <cstdint>
extern "C" void mm(const uint8_t* A, const int8_t* B, int32_t* C, int M, int N, int K) {
    #pragma omp parallel for
    for (int i = 0; i < M; i += 1) {
        for (int j = 0; j < N; j += 1) {
            int32_t acc = 0;
            for (int k = 0; k < K; k += 1) {
                acc += (int32_t)A[i * K + k] * (int32_t)B[%s];
            }
            C[i * N + j] = acc * 3 - 1;
        }
    }
}
"""
BMM = """
#include <cstdint>
extern "C" void bmm(const int8_t* A, const uint8_t* B, int32_t* C, int batch, int M, int N, int K) {
    #pragma omp parallel for
    for (int b = 0; b < batch; b += 1) {
        for (int i = 0; i < M; i += 1) {
            for (int j = 0; j < N; j += 1) {
                int32_t acc = 0;
                for (int k = 0; k < K; k += 1) {
                    acc += (int32_t)A[(b * M + i) * K + k] * (int32_t)B[(b * K + k) * N + j];
                }
                C[(b * M + i) * N + j] = acc;
            }
        }
    }
}
"""
GEMV = """
#include <cstdint>
extern "C" void mv(const uint8_t* A, const int8_t* x, int32_t* y, int M, int K) {
    #pragma omp parallel for
    for (int i = 0; i < M; i += 1) {
        int32_t acc = 0;
        for (int k = 0; k < K; k += 1) {
            acc += (int32_t)A[i * K + k] * (int32_t)x[k];
        }
        y[i] = acc;
    }
}
"""
ROW_SUMS = """
extern "C" void rows(const float* x, float* y, float* z, int M, int K) {
    #pragma omp parallel for
    for (int i = 0; i < M; i += 1) {
        float acc = 0.0f;
        for (int k = 0; k < K; k += 1) {
            acc += x[i * K + k];
        }
        y[i] = acc;
        for (int k = 0; k < K; k += 1) {
            z[i * K + k] = x[i * K + k] * 2.0f + 1.0f;
        }
    }
}
"""
SCAN = """
extern "C" void scan(float* x, int n) {
    for (int i = 1; i < n; i += 1) {
        x[i] = x[i] + x[i - 1];
    }
}
"""


def u8(n: int) -> np.ndarray:
    return rng.integers(0, 256, n).astype(np.uint8)


def s8(n: int) -> np.ndarray:
    return rng.integers(-128, 128, n).astype(np.int8)


def run_both(before, after, entry: str, args: list) -> str:
    """Executor (emulated intrinsics) equality, then the native build on this CPU when it has VNNI."""
    code = assert_executes_like(before, after, entry, args)
    if HAS_VNNI:
        want = execute(print_module(before), "cpp", entry, args, native=True)
        got = execute(code, "cpp", entry, args, native=True)
        for name, expected in want.items():
            np.testing.assert_array_equal(got[name], expected, err_msg=name)
    return code


@pytest.mark.parametrize("m, n, k", [(5, 37, 23), (3, 16, 64), (2, 1, 1), (4, 70, 130)])  # tails of N and K
def test_gemm_packs_b_once_and_uses_dpbusd(m: int, n: int, k: int) -> None:
    before = bound(GEMM % "k * N + j", "cpp")
    after = tensorize(before)
    code = run_both(before, after, "mm", [("A", u8(m * k)), ("B", s8(k * n)), ("C", np.zeros(m * n, np.int32)),
                                          ("M", np.int32(m)), ("N", np.int32(n)), ("K", np.int32(k))])
    assert code.count("_mm512_dpbusd_epi32(") == 2  # whole 4-k groups, then the K % 4 group
    assert code.index("xp_packed[") < code.index("for (int i = 0; i < M")  # packed before the row loop
    assert code.count("#pragma omp parallel for") == 2 and "free(xp_packed)" in code
    assert "C[i * N + j] = acc * 3 - 1;" in code  # the epilogue runs per column on the lane's sum


def test_transposed_b_is_packed_by_its_index() -> None:
    m, n, k = 3, 21, 10
    before = bound(GEMM % "j * K + k", "cpp")
    code = run_both(before, tensorize(before), "mm", [("A", u8(m * k)), ("B", s8(k * n)),
                                                      ("C", np.zeros(m * n, np.int32)), ("M", np.int32(m)),
                                                      ("N", np.int32(n)), ("K", np.int32(k))])
    assert "(int8_t)B[xp_j * K + xp_k]" in code


def test_batched_packs_inside_the_batch_loop_with_signed_rows() -> None:
    batch, m, n, k = 3, 4, 18, 9
    before = bound(BMM, "cpp")
    code = run_both(before, tensorize(before), "bmm",
                    [("A", s8(batch * m * k)), ("B", u8(batch * k * n)), ("C", np.zeros(batch * m * n, np.int32)),
                     ("batch", np.int32(batch)), ("M", np.int32(m)), ("N", np.int32(n)), ("K", np.int32(k))])
    assert code.index("for (int b = 0;") < code.index("xp_packed[")  # B depends on the batch
    assert "_mm512_dpbusd_epi32(xp_sums, _mm512_loadu_si512(xp_panel" in code  # B (uint8) is the unsigned side
    assert code.count("omp parallel for") == 1  # packing inside the parallel loop is not parallel again


@pytest.mark.parametrize("k", [200, 64, 7])
def test_gemv_uses_64_wide_dot_products_and_a_scalar_remainder(k: int) -> None:
    m = 6
    before = bound(GEMV, "cpp")
    code = run_both(before, tensorize(before), "mv", [("A", u8(m * k)), ("x", s8(k)), ("y", np.zeros(m, np.int32)),
                                                      ("M", np.int32(m)), ("K", np.int32(k))])
    assert "_mm512_reduce_add_epi32(" in code and "k0 += 64" in code


def test_independent_and_sum_loops_get_omp_simd() -> None:
    m, k = 7, 45
    before = bound(ROW_SUMS, "cpp")
    after = tensorize(before)
    args = [("x", floats(m * k)), ("y", np.zeros(m, np.float32)), ("z", np.zeros(m * k, np.float32)),
            ("M", np.int32(m)), ("K", np.int32(k))]
    code = assert_executes_like(before, after, "rows", args, rtol=1e-5)  # the sum may be reassociated
    assert "#pragma omp simd reduction(+:acc)" in code and code.count("#pragma omp simd") == 2
    want = execute(print_module(before), "cpp", "rows", args, native=True)
    got = execute(code, "cpp", "rows", args, native=True)
    np.testing.assert_array_equal(got["z"], want["z"])  # the independent loop is exact
    np.testing.assert_allclose(got["y"], want["y"], rtol=1e-5, atol=1e-5)


def test_refuses_loops_with_dependences() -> None:
    with pytest.raises(PassRefused) as err:
        tensorize(bound(SCAN, "cpp"))
    assert err.value.code == "XP545" and "VNNI" in err.value.message


ROW_STATISTICS = """
extern "C" void stats(const float* x, float* y, int rows, int cols) {
    #pragma omp parallel for
    for (int r = 0; r < rows; r += 1) {
        const float* row = x + r * cols;
        float m = -INFINITY;
        for (int c = 0; c < cols; c += 1) {
            m = row[c] > m ? row[c] : m;
        }
        float s = 0.0f;
        for (int c = 0; c < cols; c += 1) {
            s += expf(row[c] - m);
        }
        float lo = 0.0f;
        for (int c = 0; c < cols; c += 1) {
            lo = fminf(lo, row[c] * 2.0f);
        }
        y[r] = s + lo;
    }
}
"""


@pytest.mark.parametrize("cols", [31, 200])  # all in the scalar tail; whole vectors, a tile boundary and a tail
def test_row_max_is_exact(cols: int) -> None:
    rows = 21
    before = cache(bound(ROW_MAX), CacheOptions(tile=128))
    code = assert_executes_like(before, tensorize(before), "row_max",
                                [("x", floats(rows * cols)), ("y", np.zeros(rows, np.float32)),
                                 ("rows", np.int32(rows)), ("cols", np.int32(cols))])
    assert "__bang_max(xp_vtmp, x_nram, c_lane_vec);" in code and "best = fmaxf(best, xp_vtmp[0]);" in code


def test_row_max_sum_of_exp_and_min_as_reductions() -> None:
    rows, cols = 19, 300
    before = cache(bound(ROW_STATISTICS), CacheOptions(tile=128))
    code = assert_executes_like(before, tensorize(before), "stats",
                                [("x", floats(rows * cols)), ("y", np.zeros(rows, np.float32)),
                                 ("rows", np.int32(rows)), ("cols", np.int32(cols))], rtol=1e-5)
    assert "m = xp_vtmp[0] > m ? xp_vtmp[0] : m;" in code  # the statement itself combines the tile's maximum
    assert "__bang_active_exp(" in code and "s += __bang_sum(" in code and "__bang_min(" in code


def half_matmul(target: str, b_index: str = "k * N + j"):
    return cache(bound(MATMUL % {"a": "_Float16", "b": "_Float16", "c": "float", "b_index": b_index}, target))


def half_args(m: int, n: int, k: int) -> list:
    return [("A", rng.standard_normal(m * k).astype(np.float16)), ("B", rng.standard_normal(k * n).astype(np.float16)),
            ("C", np.zeros(m * n, np.float32)), ("M", np.int32(m)), ("N", np.int32(n)), ("K", np.int32(k))]


@pytest.mark.parametrize("m, n, k", [(19, 37, 23), (16, 16, 48), (1, 2, 1)])  # tails in M, N, K; whole tiles
def test_half_matmul_on_wmma(m: int, n: int, k: int) -> None:
    before = half_matmul("cuda")
    code = assert_executes_like(before, tensorize(before), "mm", half_args(m, n, k))
    assert "#include <mma.h>" in code
    assert "nvcuda::wmma::mma_sync(xp_c_frag, xp_a_frag, xp_b_frag, xp_c_frag);" in code
    assert "if (tx >= xp_kc) {" in code  # the last step's columns past K are zeroed
    assert "alignas(32) __shared__ __half tile_a[16][16];" in code  # wmma loads want 256-bit aligned tiles


@pytest.mark.parametrize("m, n, k", [(19, 37, 23), (16, 16, 48)])
def test_half_matmul_on_mfma(m: int, n: int, k: int) -> None:
    before = half_matmul("hip", "j * K + k")  # B transposed: the tiles are the same
    code = assert_executes_like(before, tensorize(before), "mm", half_args(m, n, k))
    assert "typedef _Float16 xp_half4 __attribute__((ext_vector_type(4)));" in code
    assert "xp_c_frag = __builtin_amdgcn_mfma_f32_16x16x16f16(xp_a_frag, xp_b_frag, xp_c_frag, 0, 0, 0);" in code
    assert "xp_a_frag[xp_t] = (half)(float)tile_a[xp_lane % 16][4 * (xp_lane / 16) + xp_t];" in code


@pytest.mark.parametrize("target", ["cuda", "hip"])
def test_matrix_core_code_compiles_with_the_real_toolchain(target: str) -> None:
    result = toolchain_compile(print_module(tensorize(half_matmul(target))), target)
    if result.ok is None:
        pytest.skip(result.output)
    assert result.ok, result.output


def test_float_tiles_stay_on_the_cuda_cores() -> None:
    """fp32 would need tf32 on the tensor cores, which rounds the inputs: not the same results."""
    before = cache(bound(MATMUL % {"a": "float", "b": "float", "c": "float", "b_index": "k * N + j"}, "cuda"))
    with pytest.raises(PassRefused) as err:
        tensorize(before)
    assert err.value.code == "XP545" and "is not a __shared__ half [16][16] tile" in err.value.message


def test_omp_simd_keeps_a_collapsed_nest_perfect():
    """An inner loop of `collapse(2)` gets no `omp simd` of its own: g++ rejects a pragma between the levels."""
    from passes.translate import translate_checked

    source = """
extern "C" void scale2d(const float* A, float* C, int M, int N) {
  #pragma omp parallel for collapse(2)
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++)
      C[i*N+j] = A[i*N+j] * 2.0f;
}
"""
    checked = translate_checked(source, "cpp", "cpp")
    assert "collapse(2)" in checked.translation.code
    assert checked.status == "verified", checked.verification
