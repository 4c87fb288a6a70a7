"""SSE/AVX2/AVX-512 intrinsics whose lane loops were added to kernel_ir/dialects/cpp_intrinsics.py: each kernel
runs before and after `detensorize` and the outputs must be bit-identical (signed zeros, ties of max, lanes a
mask leaves alone); an AVX2 row max/sum using several of them translates to CUDA and verifies."""
from __future__ import annotations

import numpy as np
import pytest

from kernel_ir.executor import execute
from passes.translate import translate
from passes.verify import verify
from tests.passes.test_detensorize import lowered

SIGNATURE = ('#include <immintrin.h>\n#include <cstdint>\n'
             'extern "C" void k(const float* x, const int32_t* idx, float* y, int32_t* z, int8_t* b) {\n')

# One kernel per intrinsic; where a result may overwrite an operand (`a = op(a, a)`) that form is used too.
KERNELS = {
    "_mm256_castps256_ps128": "_mm_storeu_ps(y, _mm256_castps256_ps128(_mm256_loadu_ps(x + 3)));",
    "_mm256_extractf128_ps": """
        const __m256 v = _mm256_loadu_ps(x);
        _mm_storeu_ps(y, _mm256_extractf128_ps(v, 1));
        _mm_storeu_ps(y + 4, _mm256_extractf128_ps(v, 0));
        _mm_storeu_ps(y + 8, _mm256_extractf128_ps(v, 3));  // the index is taken modulo 2""",
    "_mm_movehl_ps": """
        __m128 a = _mm_loadu_ps(x), c = _mm_loadu_ps(x + 4);
        _mm_storeu_ps(y, _mm_movehl_ps(a, c));
        c = _mm_movehl_ps(a, c);
        a = _mm_movehl_ps(a, a);
        _mm_storeu_ps(y + 4, a);
        _mm_storeu_ps(y + 8, c);""",
    "_mm_max_ss": """
        __m128 a = _mm_loadu_ps(x), c = _mm_loadu_ps(x + 4), d = _mm_loadu_ps(x + 8);
        _mm_storeu_ps(y, _mm_max_ss(a, c));  // x[0] = +0, x[4] = -0: a tie returns the second operand
        _mm_storeu_ps(y + 4, _mm_max_ss(c, a));
        d = _mm_max_ss(a, d);
        _mm_storeu_ps(y + 8, d);""",
    "_mm_shuffle_ps": """
        __m128 a = _mm_loadu_ps(x), c = _mm_loadu_ps(x + 4);
        _mm_storeu_ps(y, _mm_shuffle_ps(a, c, _MM_SHUFFLE(1, 3, 0, 2)));
        a = _mm_shuffle_ps(a, a, 0x1B);
        _mm_storeu_ps(y + 4, a);""",
    "_mm_hadd_ps": """
        __m128 a = _mm_loadu_ps(x), c = _mm_loadu_ps(x + 4);
        _mm_storeu_ps(y, _mm_hadd_ps(a, c));
        a = _mm_hadd_ps(a, a);
        a = _mm_hadd_ps(a, a);
        _mm_storeu_ps(y + 4, a);""",
    "_mm256_hadd_ps": """
        __m256 a = _mm256_loadu_ps(x), c = _mm256_loadu_ps(x + 8);
        _mm256_storeu_ps(y, _mm256_hadd_ps(a, c));
        c = _mm256_hadd_ps(a, c);
        _mm256_storeu_ps(y + 8, _mm256_hadd_ps(c, c));""",
    "_mm_cvtss_f32": "y[0] = _mm_cvtss_f32(_mm_loadu_ps(x + 2)); y[1] = _mm_cvtss_f32(_mm_loadu_ps(x + 4));",
    "_mm256_setr_epi32": """
        _mm256_storeu_si256((__m256i*)z,
                            _mm256_setr_epi32(idx[0], -1, 2, idx[3], idx[4] + 1, -2147483647 - 1, 7, idx[7]));""",
    "_mm256_maskload_ps": """
        const __m256i m = _mm256_loadu_si256((const __m256i*)idx);  // lanes with a negative idx are selected
        _mm256_storeu_ps(y, _mm256_maskload_ps(x + 56, m));""",
    "_mm256_maskstore_ps": """
        const __m256i m = _mm256_loadu_si256((const __m256i*)idx);
        _mm256_maskstore_ps(y + 1, m, _mm256_loadu_ps(x));""",
    "_mm256_cmpgt_epi32": """
        const __m256i a = _mm256_loadu_si256((const __m256i*)idx), c = _mm256_loadu_si256((const __m256i*)(idx + 8));
        _mm256_storeu_si256((__m256i*)z, _mm256_cmpgt_epi32(a, c));
        _mm256_storeu_si256((__m256i*)(z + 8), _mm256_cmpgt_epi32(c, a));""",
    "_mm256_blendv_ps": """
        const __m256 a = _mm256_loadu_ps(x + 16), c = _mm256_loadu_ps(x + 24);
        _mm256_storeu_ps(y, _mm256_blendv_ps(a, c, _mm256_loadu_ps(x)));  // -0.0 has its sign bit set
        const __m256 signs = _mm256_castsi256_ps(_mm256_loadu_si256((const __m256i*)idx));
        _mm256_storeu_ps(y + 8, _mm256_blendv_ps(a, c, signs));""",
    "_mm512_i32gather_ps": """
        const __m512i at = _mm512_loadu_si512(idx + 16);  // in [0, 32)
        _mm512_storeu_ps(y, _mm512_i32gather_ps(at, x, 4));
        _mm512_storeu_ps(y + 16, _mm512_i32gather_ps(at, (const void*)x, 8));
        _mm512_storeu_ps(z, _mm512_mask_i32gather_ps(_mm512_set1_ps(-3.0f), (__mmask16)0x5A3C, at, x, 4));""",
    "_mm512_mask_cvtsepi32_storeu_epi8": """
        _mm512_mask_cvtsepi32_storeu_epi8(b, (__mmask16)0xA5F3, _mm512_loadu_si512(idx));
        _mm512_mask_cvtsepi32_storeu_epi8(b + 16, (__mmask16)0xFFFF, _mm512_loadu_si512(idx + 16));""",
    "_mm512_mask_cvtepi32_storeu_epi8": """
        _mm512_mask_cvtepi32_storeu_epi8(b, (__mmask16)0xA5F3, _mm512_loadu_si512(idx));""",
    # siblings registered by the same generators
    "_mm512_mask_cvtusepi32_storeu_epi8": """
        _mm512_mask_cvtusepi32_storeu_epi8(b, (__mmask16)0x7FFE, _mm512_loadu_si512(idx));""",
    "_mm256_maskload_pd": """
        const __m256i m = _mm256_loadu_si256((const __m256i*)idx);  // 64-bit lanes: the sign of the odd int32s
        _mm256_storeu_pd((double*)y, _mm256_maskload_pd((const double*)x, m));
        _mm256_storeu_si256((__m256i*)z, _mm256_maskload_epi64((const long long*)idx, m));
        _mm256_maskstore_epi32(z + 8, m, _mm256_loadu_si256((const __m256i*)(idx + 16)));""",
    "_mm256_hsub_pd": """
        const __m256d a = _mm256_loadu_pd((const double*)x), c = _mm256_loadu_pd((const double*)(x + 8));
        _mm256_storeu_pd((double*)y, _mm256_hsub_pd(a, c));
        const __m256d signs = _mm256_castsi256_pd(_mm256_loadu_si256((const __m256i*)idx));
        _mm256_storeu_pd((double*)(y + 8), _mm256_blendv_pd(a, c, signs));
        const __m128d d = _mm_loadu_pd((const double*)(x + 16)), e = _mm_loadu_pd((const double*)(x + 20));
        _mm_storeu_pd((double*)(y + 16), _mm_hadd_pd(d, e));
        _mm_storeu_pd((double*)(y + 20), _mm_max_sd(d, e));
        y[24] = (float)_mm_cvtsd_f64(d);""",
    "_mm256_blendv_epi8": """
        const __m256i a = _mm256_loadu_si256((const __m256i*)idx), c = _mm256_loadu_si256((const __m256i*)(idx + 8));
        _mm256_storeu_si256((__m256i*)z, _mm256_blendv_epi8(a, c, _mm256_loadu_si256((const __m256i*)(idx + 4))));
        _mm256_storeu_si256((__m256i*)(z + 8), _mm256_cmpeq_epi8(a, c));
        _mm256_storeu_si256((__m256i*)(z + 16), _mm256_cmpgt_epi16(a, c));
        z[24] = _mm256_cvtsi256_si32(c);""",
    "_mm512_i32gather_pd": """
        _mm512_storeu_pd((double*)y, _mm512_i32gather_pd(_mm256_loadu_si256((const __m256i*)(idx + 16)), x, 8));
        _mm512_storeu_si512(z, _mm512_mask_i32gather_epi32(_mm512_set1_epi32(-3), (__mmask16)0xC3A5,
                                                            _mm512_loadu_si512(idx + 16), idx, 4));
        _mm512_mask_cvtsepi32_storeu_epi16(b, (__mmask16)0xF0F7, _mm512_loadu_si512(idx));""",
    "_mm512_cvtsepi32_epi8": """
        const __m512i v = _mm512_loadu_si512(idx);
        _mm_storeu_si128((__m128i*)b, _mm512_cvtsepi32_epi8(v));
        _mm_storeu_si128((__m128i*)(b + 16), _mm512_cvtusepi32_epi8(v));
        _mm_storeu_si128((__m128i*)(b + 32), _mm256_cvtepi32_epi8(_mm256_loadu_si256((const __m256i*)idx)));
        _mm256_storeu_si256((__m256i*)z, _mm512_cvtsepi32_epi16(v));
        _mm_storeu_si128((__m128i*)(z + 8), _mm_cvtsepi32_epi16(_mm_loadu_si128((const __m128i*)(idx + 4))));""",
    "_mm256_castps128_ps256": """
        _mm256_storeu_ps(y, _mm256_castps128_ps256(_mm_loadu_ps(x + 1)));
        _mm_storeu_ps(y + 8, _mm_movelh_ps(_mm_loadu_ps(x), _mm_loadu_ps(x + 4)));
        _mm_storeu_ps(y + 12, _mm_sub_ss(_mm_loadu_ps(x), _mm_loadu_ps(x + 4)));""",
}


def inputs() -> list[tuple[str, np.ndarray]]:
    """Signed zeros, ties, negative and positive values, int32 extremes and in-range gather indices."""
    rng = np.random.default_rng(7)
    x = rng.uniform(-4, 4, 64).astype(np.float32)
    x[0], x[4], x[8] = 0.0, -0.0, 0.0
    x[1] = x[5] = x[9] = 2.5  # ties for max
    x[2], x[6] = -1.5, -1.5
    x[3] = -0.0  # blendv: a selector of -0.0 picks the second operand
    idx = np.array([-5, 300, -300, 127, -128, 128, -129, 2147483647, -2147483648, 0, 255, 256, -1, 1, 42, -42],
                   np.int32)
    idx = np.concatenate([idx, rng.integers(0, 32, 16).astype(np.int32)])
    idx[8:16] = idx[:8]  # ties for cmpgt
    idx[10], idx[13] = 5, -7
    return [("x", x), ("idx", idx), ("y", np.full(32, 7.0, np.float32)), ("z", np.full(32, -7, np.int32)),
            ("b", np.full(64, 99, np.int8))]


@pytest.mark.parametrize("intrinsic", KERNELS)
def test_intrinsic_runs_bit_identically_after_detensorize(intrinsic: str) -> None:
    source = SIGNATURE + KERNELS[intrinsic] + "\n}\n"
    assert intrinsic in source
    after = execute(lowered(source, "cpp"), "cpp", "k", inputs())
    before = execute(source, "cpp", "k", inputs())
    for name, value in before.items():
        np.testing.assert_array_equal(after[name].view(np.uint8), value.view(np.uint8), err_msg=name)
    untouched = {name: value for name, value in inputs()}
    assert any(not np.array_equal(before[n].view(np.uint8), untouched[n].view(np.uint8)) for n in ("y", "z", "b"))


def test_saturating_narrow_store_clamps_and_skips_unselected_lanes() -> None:
    source = SIGNATURE + KERNELS["_mm512_mask_cvtsepi32_storeu_epi8"] + "\n}\n"
    out = execute(lowered(source, "cpp"), "cpp", "k", inputs())["b"]
    idx = inputs()[1][1]
    mask = np.array([(0xA5F3 >> i) & 1 for i in range(16)], bool)
    want = np.where(mask, np.clip(idx[:16], -128, 127), 99).astype(np.int8)
    np.testing.assert_array_equal(out[:16], want)
    np.testing.assert_array_equal(out[16:32], idx[16:32].astype(np.int8))
    np.testing.assert_array_equal(out[32:], 99)


def test_saturating_narrowing_into_a_vector_clamps_and_zeroes_the_upper_lanes() -> None:
    source = SIGNATURE + KERNELS["_mm512_cvtsepi32_epi8"] + "\n}\n"
    out = execute(lowered(source, "cpp"), "cpp", "k", inputs())
    idx = inputs()[1][1]
    np.testing.assert_array_equal(out["b"][:16], np.clip(idx[:16], -128, 127).astype(np.int8))
    np.testing.assert_array_equal(out["b"][16:32], np.where(idx[:16] < 0, 255, np.clip(idx[:16], 0, 255))
                                  .astype(np.uint8).view(np.int8))
    np.testing.assert_array_equal(out["b"][32:40], idx[:8].astype(np.int8))
    np.testing.assert_array_equal(out["b"][40:48], 0)  # the 256-bit form fills the upper half with zeros
    np.testing.assert_array_equal(out["z"][8:10].view(np.int16), np.clip(idx[4:8], -32768, 32767).astype(np.int16))
    np.testing.assert_array_equal(out["z"][10:12], 0)


def test_max_ss_tie_returns_the_second_operand() -> None:
    source = SIGNATURE + KERNELS["_mm_max_ss"] + "\n}\n"
    y = execute(lowered(source, "cpp"), "cpp", "k", inputs())["y"]
    x = inputs()[0][1]
    assert np.signbit(y[0]) and not np.signbit(y[4])  # max(+0, -0) = -0, max(-0, +0) = +0
    np.testing.assert_array_equal(y[1:4], x[1:4])


ROW_STATS = """
#include <immintrin.h>
extern "C" void row_stats(const float* x, float* row_max, float* row_sum, int rows, int cols) {
    for (int r = 0; r < rows; ++r) {
        const float* p = x + r * cols;
        __m256 vmax = _mm256_set1_ps(-3.0e38f);
        __m256 vsum = _mm256_setzero_ps();
        int c = 0;
        for (; c + 8 <= cols; c += 8) {
            const __m256 v = _mm256_loadu_ps(p + c);
            vmax = _mm256_max_ps(vmax, v);
            vsum = _mm256_add_ps(vsum, v);
        }
        if (c < cols) {
            const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
            const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32(cols - c), lanes);
            const __m256 v = _mm256_maskload_ps(p + c, tail);
            vmax = _mm256_max_ps(vmax, _mm256_blendv_ps(_mm256_set1_ps(-3.0e38f), v, _mm256_castsi256_ps(tail)));
            vsum = _mm256_add_ps(vsum, v);
        }
        __m128 m = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
        m = _mm_max_ps(m, _mm_movehl_ps(m, m));
        m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
        row_max[r] = _mm_cvtss_f32(m);
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(vsum), _mm256_extractf128_ps(vsum, 1));
        s = _mm_hadd_ps(s, s);
        s = _mm_hadd_ps(s, s);
        row_sum[r] = _mm_cvtss_f32(s);
    }
}
"""


def test_avx2_row_stats_translate_to_cuda_and_verify() -> None:
    result = translate(ROW_STATS, "cuda", "cpp", native_compile=False)
    assert "_mm" not in result.code
    check = verify(ROW_STATS, "cpp", result.code, "cuda", "row_stats", sizes={"rows": 6, "cols": 19})  # 3-lane tail
    assert check.status == "verified", check


MASK_BLEND = """
#include <immintrin.h>
extern "C" void k(const float* a, const float* b, const int* c, float* y, int* z, int mask) {
    __m512 r = _mm512_mask_blend_ps((__mmask16)mask, _mm512_loadu_ps(a), _mm512_loadu_ps(b));
    _mm512_storeu_ps(y, r);
    __m512i q = _mm512_mask_blend_epi32((__mmask16)(mask >> 3), _mm512_loadu_si512(c), _mm512_set1_epi32(7));
    _mm512_storeu_si512(z, q);
}
"""


def test_mask_blend_picks_b_where_the_mask_bit_is_set() -> None:
    rng = np.random.default_rng(5)
    args = [("a", rng.standard_normal(16).astype(np.float32)), ("b", rng.standard_normal(16).astype(np.float32)),
            ("c", rng.integers(-9, 9, 16).astype(np.int32)), ("y", np.zeros(16, np.float32)),
            ("z", np.zeros(16, np.int32)), ("mask", np.int32(0b1010011100101101))]
    after = execute(lowered(MASK_BLEND, "cpp"), "cpp", "k", args)
    before = execute(MASK_BLEND, "cpp", "k", args)
    bits = np.array([(0b1010011100101101 >> i) & 1 for i in range(16)], bool)
    np.testing.assert_array_equal(before["y"], np.where(bits, args[1][1], args[0][1]))
    for name in ("y", "z"):
        np.testing.assert_array_equal(after[name], before[name])
