"""lane_tables: the SIMD loops of a serial loop that compute the same in each of its iterations run once, before
it, into tables its other statements read; everything else (and every loop whose result could differ) stays, and
each program below runs the same, bit for bit, before and after."""
from __future__ import annotations

import re

import numpy as np
import pytest

from kernel_ir.dialects import print_module
from kernel_ir.parse import parse
from passes.lane_tables import lane_tables_and_report
from passes.simdize import simdize
from passes.translate import TranslateOptions, front_half, translate
from tests.passes.loop_programs import assert_same

# a multi-channel 2-D filter with zero padding, two output channels, one output pixel per thread: the lanes' row and column masks
# and the checks simdize adds (which lanes need a tap, whether they read consecutive inputs) depend on the tap
# (i, j), not on the channel
CHANNEL_FILTER = """
#include <cuda_runtime.h>
__global__ void channel_filter_kernel(const float* x, const float* f, float* y, int ch, int h, int w, int r) {
    const int p = blockIdx.x * 64 + threadIdx.x;
    const int o = blockIdx.y;
    if (p >= h * w) return;
    const int row = p / w, col = p % w;
    float sum = 0.0f;
    for (int c = 0; c < ch; ++c) {
        for (int i = -r; i <= r; ++i) {
            const int yy = row + i;
            if (yy < 0 || yy >= h) continue;
            for (int j = -r; j <= r; ++j) {
                const int xx = col + j;
                if (xx < 0 || xx >= w) continue;
                sum += x[(c * h + yy) * w + xx] * f[((o * ch + c) * (2 * r + 1) + i + r) * (2 * r + 1) + j + r];
            }
        }
    }
    y[o * h * w + p] = sum;
}
extern "C" void channel_filter(const float* x, const float* f, float* y, int ch, int h, int w, int r) {
    channel_filter_kernel<<<dim3((h * w + 63) / 64, 2), 64>>>(x, f, y, ch, h, w, r);
}
"""


def filter_args(ch: int, h: int, w: int, r: int) -> list:
    rng = np.random.default_rng(12)
    taps = (2 * r + 1) ** 2
    return [("x", rng.uniform(-1, 1, max(ch * h * w, 1)).astype(np.float32)),
            ("f", rng.uniform(-1, 1, max(2 * ch * taps, 1)).astype(np.float32)),
            ("y", np.zeros(2 * h * w, np.float32)), ("ch", np.int32(ch)), ("h", np.int32(h)), ("w", np.int32(w)),
            ("r", np.int32(r))]


def channel_loop(code: str) -> str:
    """The text of the tabulated version's loop over c (from its header to the `else` of the version test)."""
    start = code.index("for (int c = 0; c < ch; ++c)")
    return code[start:code.index("} else {", start)]


def test_a_filters_masks_and_checks_are_computed_once_per_tap_not_per_channel():
    before = simdize(front_half(parse(CHANNEL_FILTER, "cuda"))[0])
    after, notes = lane_tables_and_report(before)
    code = print_module(after, "cpp")
    assert notes and "loop over c" in notes[0], notes
    loop = channel_loop(code)
    assert "reduction(" not in loop, loop  # neither the OR of the masks nor the unit-stride check runs per channel
    assert re.search(r"xp_table_\w+\[", loop), loop
    assert re.search(r"if \(0 < ch\) \{", code), code  # the tables are filled only if the loop runs
    # sizes ending at the edges, a filter too big for the tables (the version as it was), no channel at all
    for ch, h, w, r in ((3, 9, 7, 1), (2, 5, 16, 2), (1, 3, 3, 3), (2, 4, 5, 40), (0, 6, 6, 1)):
        assert_same(print_module(before, "cpp"), after, "channel_filter", filter_args(ch, h, w, r))


def test_the_channel_filter_still_runs_the_same_through_translate():
    translation = translate(CHANNEL_FILTER, "cpp", "cuda", native_compile=False)
    assert any(r.name == "lane_tables" and "computed once" in r.note for r in translation.passes)
    plain = translate(CHANNEL_FILTER, "cpp", "cuda", native_compile=False, options=TranslateOptions(lane_tables=False))
    assert "xp_table_" not in plain.code
    assert_same(plain.code, translation.module, "channel_filter", filter_args(3, 7, 9, 1))


# hand-written SIMD loops, so that each rule meets exactly the case it is for. `keep` is a per-lane mask set
# before the loop over c; the loop over k is the tap loop.
LANES = r"""
extern "C" void lanes(const float* x, float* y, int C, int K) {
    int keep[8];
    int mask[8] = {};
    float acc[8] = {};
    for (int t = 0; t < 8; t += 1) keep[t] = t % 3 != 0;
    for (int c = 0; c < C; ++c) {
        BODY
    }
    for (int t = 0; t < 8; t += 1) y[t] = acc[t] + mask[t];
}
"""
SET_MASK = """
            #pragma omp simd
            for (int t = 0; t < 8; t += 1) mask[t] = MASK;"""
USE_MASK = """
            #pragma omp simd
            for (int t = 0; t < 8; t += 1) acc[t] = mask[t] ? acc[t] + x[c * K + k] : acc[t];"""


def lanes_program(body: str) -> str:
    return LANES.replace("BODY", body)


def lanes_args(c: int, k: int) -> list:
    rng = np.random.default_rng(5)
    return [("x", rng.uniform(-1, 1, max(c * k, 1)).astype(np.float32)), ("y", np.zeros(8, np.float32)),
            ("C", np.int32(c)), ("K", np.int32(k))]


def tabulated(body: str) -> tuple[bool, str]:
    """Whether the pass moved a loop out of the loop over c, the code; and the program runs the same for
    several sizes (a loop it leaves in c may still move out of the loop over k, where it is the same)."""
    source = lanes_program(body)
    after, notes = lane_tables_and_report(parse(source, "cpp"))
    for c, k in ((3, 5), (1, 9), (0, 4), (2, 0), (2, 2000)):  # 2000 taps: more than the tables hold
        assert_same(source, after, "lanes", lanes_args(c, k))
    return any("loop over c " in note for note in notes), print_module(after, "cpp")


def loop_over_k(statements: str) -> str:
    return "for (int k = 0; k < K; ++k) {" + statements + "\n        }"


@pytest.mark.parametrize("mask", ["k + t < K", "keep[t] ? k + t < K : mask[t]"])
def test_a_mask_of_the_tap_and_the_lane_moves(mask: str):
    changed, code = tabulated(loop_over_k(SET_MASK.replace("MASK", mask) + USE_MASK))
    assert changed and re.search(r"xp_table_mask\[1024\]\[8\]", code), code
    assert re.search(r"acc\[t\] = xp_table_mask\[k\]\[t\] \?", code), code


@pytest.mark.parametrize("mask, why", [
    ("c + t < K", "it reads the loop's own variable"),
    ("(k & 1) ? t < K : mask[t]", "a lane that keeps its mask at one tap keeps the last tap's: the previous "
                                  "channel's, unless the condition is the same in the whole loop"),
    ("mask[t] ^ (k + t < K)", "it reads what it had before"),
])
def test_a_mask_that_may_differ_between_iterations_stays(mask: str, why: str):
    changed, code = tabulated(loop_over_k(SET_MASK.replace("MASK", mask) + USE_MASK))
    assert not changed, f"{why}\n{code}"


def test_a_read_before_the_mask_is_set_in_the_iteration_leaves_the_loop_as_it_was():
    changed, code = tabulated(loop_over_k(USE_MASK + SET_MASK.replace("MASK", "k + t < K")))
    assert not changed, code


def test_a_read_after_the_tap_loop_leaves_the_loop_as_it_was():
    body = loop_over_k(SET_MASK.replace("MASK", "k + t < K")) + """
        #pragma omp simd
        for (int t = 0; t < 8; t += 1) acc[t] += mask[t];"""
    changed, code = tabulated(body)
    assert not changed, code


def test_a_mask_set_under_a_condition_is_not_read_after_it():
    body = loop_over_k("""
            if (K > 3) {""" + SET_MASK.replace("MASK", "k + t < K") + """
            }""" + USE_MASK)
    changed, code = tabulated(body)
    assert not changed, code


def test_a_loop_over_c_that_stores_to_memory_keeps_the_loops_that_read_memory():
    body = loop_over_k(SET_MASK.replace("MASK", "x[k] > 0.0f") + USE_MASK) + """
        y[c % 8] = 1.0f;"""
    changed, code = tabulated(body)
    assert not changed, code


def test_a_tap_loop_whose_bounds_depend_on_another_is_not_a_tap_loop():
    """Its trip count differs between iterations of the loop around it: no one size for its tables."""
    body = """for (int k = 0; k < K; ++k) {
            for (int j = 0; j < k; ++j) {""" + SET_MASK.replace("MASK", "j + t < k") + USE_MASK + """
            }
        }"""
    changed, code = tabulated(body)
    assert not changed, code


# a loop whose head computes a lane's mask of the tap from per-lane arrays and whose rest accumulates with it
HEAD_MASK = """
            #pragma omp simd
            for (int t = 0; t < 8; t += 1) {
                bool m = HEAD;
                REST
            }"""
REST = "acc[t] = m ? acc[t] + x[c * K + k] : acc[t];"


def test_the_head_of_a_loop_that_stays_moves_and_its_mask_becomes_a_table_of_ints():
    changed, code = tabulated(loop_over_k(HEAD_MASK.replace("HEAD", "keep[t] && k + t < K").replace("REST", REST)))
    assert changed and re.search(r"int (xp_table_m\w*)\[1024\]\[8\]", code), code
    table = re.search(r"int (xp_table_m\w*)\[1024\]\[8\]", code).group(1)
    assert f"acc[t] = {table}[k][t] ?" in code and "keep[t] &&" not in channel_part(code), code


def channel_part(code: str) -> str:
    start = code.index("for (int c = 0; c < C; ++c)")
    return code[start:code.index("} else {", start)]


@pytest.mark.parametrize("head, rest, why", [
    ("k + t < K", REST, "the head reads no lane's element: a table read would replace one addition and compare"),
    ("keep[t] && k + t < K", "m = m && c > 0; " + REST, "the rest changes the mask"),
    ("keep[t] && c + t < K", REST, "the head reads the loop's own variable"),
])
def test_a_head_that_would_not_pay_or_differs_between_iterations_stays(head: str, rest: str, why: str):
    changed, code = tabulated(loop_over_k(HEAD_MASK.replace("HEAD", head).replace("REST", rest)))
    assert not changed, f"{why}\n{code}"


def test_a_version_test_on_a_moved_reduction_is_read_from_its_table_and_what_it_guards_moves_too():
    body = loop_over_k("""
            int any = 0;
            #pragma omp simd reduction(|:any)
            for (int t = 0; t < 8; t += 1) any |= keep[t] && k + t < K;
            if (any) {""" + HEAD_MASK.replace("HEAD", "keep[t] && k + t < K").replace("REST", REST) + """
            }""")
    changed, code = tabulated(body)
    assert changed and "if (xp_table_any[k]) {" in channel_part(code), code
    assert "reduction(" not in channel_part(code) and "keep[t] &&" not in channel_part(code), code


def test_a_rest_that_reads_a_mask_before_it_is_set_in_the_iteration_leaves_the_loop_as_it_was():
    rest = "acc[t] = m && mask[t] ? acc[t] + x[c * K + k] : acc[t];"
    body = loop_over_k(HEAD_MASK.replace("HEAD", "keep[t] && k + t < K").replace("REST", rest)
                       + SET_MASK.replace("MASK", "k + t < K"))
    changed, code = tabulated(body)
    assert not changed, code
