"""jam: a parallel loop, or a serial loop around SIMD loops, unrolled with its copies jammed computes the same (a
serial loop's bit for bit), shares what its iterations share, and refuses what it cannot interleave."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from autotune.space import build_spaces
from kernel_ir.parse import parse
from passes.base import PassRefused
from passes.simdize import simdize
from kernel_ir.executor import execute
from passes.jam import JamOptions, jam, lane_updates_saved, shared_lane_reads
from passes.lane_tables import lane_tables
from passes.translate import TranslateOptions, front_half, translate, translate_checked
from tests.corpus.specs import SPECS, make_args

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "cuda"

# rows of blocks along y that differ in a block-uniform branch (a name declared outside it, set inside it), with
# lanes that leave early; jammed along y, the branch and the stores run once per copy, the rest once
SCALED_ROWS = """
__global__ void scaled_rows(const float* x, float* y, int cols) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= cols) return;
    float scale = 1.0f;
    if (blockIdx.y % 2 == 1) scale = 2.0f;
    const float v = x[c] * 3.0f;
    y[blockIdx.y * cols + c] = v * scale + blockIdx.y;
}

extern "C" void rows(const float* x, float* y, int n_rows, int cols) {
    scaled_rows<<<dim3((cols + 63) / 64, n_rows), 64>>>(x, y, cols);
}
"""


@pytest.mark.parametrize("factor", [2, 3])
def test_jammed_block_rows_verify_with_a_remainder(factor: int) -> None:
    checked = translate_checked(SCALED_ROWS, "cpp", "cuda", sizes={"n_rows": 7, "cols": 100},
                                options=TranslateOptions(jam_loop="xp_by", jam_factor=factor))
    assert checked.status == "verified", checked.verification.reason
    code = checked.translation.code
    assert f"xp_by += {factor}" in code and "scale_1" in code
    assert any(r.name == "jam" for r in checked.translation.passes)


def test_conv2d_filters_share_each_input_load() -> None:
    """Two filters' sums are updated in the same SIMD loop, from the same input element."""
    source = (CORPUS / "conv2d_nchw.cu").read_text()
    checked = translate_checked(source, "cpp", "cuda", options=TranslateOptions(jam_loop="xp_by@0"))
    assert checked.status == "verified", checked.verification.reason
    lines = checked.translation.code.splitlines()
    updates = [k for k, line in enumerate(lines) if "acc[xp_tx] = " in line and "xc[" in line]
    jammed = updates[:2]  # the jammed branch's two versions of the update come first; the remainder's follow
    assert len(updates) > 2 and all("acc_1[xp_tx] = " in lines[k + 1] for k in jammed)


def test_gemm_stages_b_once_for_both_row_blocks() -> None:
    """B's tile depends on the column block only: jammed along rows, the full tiles fill it once per step."""
    source = (CORPUS / "gemm.cu").read_text()
    checked = translate_checked(source, "cpp", "cuda", options=TranslateOptions(jam_loop="xp_by"))
    assert checked.status == "verified", checked.verification.reason
    jammed = checked.translation.code.split("[[likely]]")[2]  # the branch where both row blocks are full
    assert "Bs_1" not in jammed.split("} else {")[0] and "acc_1" in jammed


def test_refusals() -> None:
    module, _ = front_half(parse(SCALED_ROWS, "cuda"))
    cases = [(JamOptions("rows", "xp_by", 1), "XP534"), (JamOptions("rows", "xp_q", 2), "XP530")]
    for options, code in cases:
        with pytest.raises(PassRefused) as refused:
            jam(module, options)
        assert refused.value.code == code, options


def test_a_serial_loop_carrying_a_value_through_memory_is_refused() -> None:
    source = "extern \"C\" void f(float* a, int n) { for (int i = 1; i < n; i++) a[i] += a[i - 1]; }"
    with pytest.raises(PassRefused) as refused:
        jam(parse(source, "cpp"), JamOptions("f", "i", 2))
    assert refused.value.code == "XP532" and "pointer may reach" in refused.value.message


def taps_kernel(update: str) -> str:
    """A 1-D filter over 64 lanes whose tap loop runs `update` (SIMD loops on the lanes' sums) per tap."""
    return f"""
extern "C" void taps(const float* x, const float* w, float* y, int taps) {{
    float acc[64];
    for (int t = 0; t < 64; ++t) acc[t] = 0.0f;
    for (int k = 0; k < taps; ++k) {{
        const float wk = w[k];
        {update}
    }}
    for (int t = 0; t < 64; ++t) y[t] = acc[t];
}}
"""


TAPS = taps_kernel("""#pragma omp simd
        for (int t = 0; t < 64; ++t) acc[t] += x[t + k] * wk;""")


@pytest.mark.parametrize("factor", [2, 3])
def test_jammed_taps_add_each_lanes_terms_in_order(factor: int) -> None:
    """7 taps in steps of 2 or 3 (a remainder either way): one SIMD loop updates each lane's sum `factor` times,
    held in a local between one load and one store, and the result is the source's bit for bit."""
    options = TranslateOptions(serial_jam_loop="k", serial_jam_factor=factor)
    checked = translate_checked(TAPS, "cpp", "cpp", sizes={"taps": 7}, options=options)
    assert checked.status == "verified", checked.verification.reason
    code = checked.translation.code
    assert f"k += {factor}" in code and "float xp_acc_lane = acc[t];" in code and "acc[t] = xp_acc_lane;" in code
    rng = np.random.default_rng(1)
    args = [("x", rng.standard_normal(70, dtype=np.float32)), ("w", rng.standard_normal(7, dtype=np.float32)),
            ("y", np.zeros(64, np.float32)), ("taps", np.int32(7))]
    assert np.array_equal(execute(TAPS, "cpp", "taps", args)["y"], execute(code, "cpp", "taps", args)["y"])


@pytest.mark.parametrize("update,why", [
    # the second loop's update of one tap would run after the first loop's update of the next
    ("""#pragma omp simd
        for (int t = 0; t < 64; ++t) acc[t] *= 0.5f;
        #pragma omp simd
        for (int t = 0; t < 64; ++t) acc[t] += x[t + k] * wk;""", "would run before"),
    # a lane's sum read by every lane: one tap's update would see the next one's
    ("""const float first = acc[0];
        #pragma omp simd
        for (int t = 0; t < 64; ++t) acc[t] += first * wk;""", "one element per SIMD lane"),
    # a lane reads its neighbour's sum
    ("""#pragma omp simd
        for (int t = 1; t < 64; ++t) acc[t] += acc[t - 1] * wk;""", "one element per SIMD lane"),
    # a sum reached through its address: what stores through it is not seen as a store to the sums
    ("""#pragma omp simd
        for (int t = 0; t < 64; ++t) *(&acc[t]) += wk;""", "pointer expression"),
    # an effect the pass cannot see into, which the jam would reorder between taps
    ("""printf("%f", wk);
        #pragma omp simd
        for (int t = 0; t < 64; ++t) acc[t] += wk;""", "may have effects"),
])
def test_a_serial_jam_that_could_reorder_a_sums_updates_is_refused(update: str, why: str) -> None:
    with pytest.raises(PassRefused) as refused:
        jam(parse(taps_kernel(update), "cpp"), JamOptions("taps", "k", 2))
    assert refused.value.code == "XP532" and why in refused.value.message


def test_conv2d_taps_and_filters_jammed_compute_the_same_bit_for_bit() -> None:
    """conv2d's tap loop (on the form lane_tables prints) jammed by 3 and its filters by 2: one SIMD loop updates
    both filters' sums for three taps in registers, and the output is the unjammed translation's exactly."""
    source = (CORPUS / "conv2d_nchw.cu").read_text()
    jammed = TranslateOptions(serial_jam_loop="kw@1", serial_jam_factor=3, jam_loop="xp_by@0")
    checked = translate_checked(source, "cpp", "cuda", options=jammed)
    assert checked.status == "verified", checked.verification.reason
    code = checked.translation.code
    assert "float xp_acc_lane = acc[xp_tx];" in code and "float xp_acc_lane_1 = acc_1[xp_tx];" in code
    plain = translate(source, "cpp", "cuda", native_compile=False).code
    spec = SPECS["conv2d_nchw"]
    for sizes in spec.sizes[:2]:
        args = make_args(spec, sizes)
        assert np.array_equal(execute(plain, "cpp", "conv2d_nchw", args)["y"],
                              execute(code, "cpp", "conv2d_nchw", args)["y"]), sizes


# a 1-D filter over tiles staged in shared memory: after simdize, each tap runs a SIMD loop over the block's sums
TILE_TAPS = """
__global__ void tile_taps(const float* x, const float* w, float* y, int n, int taps) {
    __shared__ float tile[64 + 16];
    const int base = blockIdx.x * 64;
    for (int e = threadIdx.x; e < 64 + taps - 1; e += 64) tile[e] = base + e < n + taps - 1 ? x[base + e] : 0.0f;
    __syncthreads();
    const int i = base + threadIdx.x;
    if (i >= n) return;
    float acc = 0.0f;
    for (int k = 0; k < taps; ++k) acc += tile[threadIdx.x + k] * w[k];
    y[i] = acc;
}

extern "C" void filter(const float* x, const float* w, float* y, int n, int taps) {
    tile_taps<<<(n + 63) / 64, 64>>>(x, w, y, n, taps);
}
"""


def test_the_space_offers_the_tap_loops_of_a_kernel_it_has_not_seen() -> None:
    """Both versions of the tap loop (the full block's, the last block's) are offered; jammed by 3 over 7 taps,
    one SIMD loop adds three taps to each lane's sum in a register, and the rest run as before."""
    space = build_spaces(TILE_TAPS, "cpp", "cuda")[0]
    assert space.knob("serial_jam_loop").values == (None, "k@0", "k@1") and space.knob("jam_loop") is None
    checked = translate_checked(TILE_TAPS, "cpp", "cuda", sizes={"n": 200, "taps": 7},
                                options=TranslateOptions(serial_jam_loop="k@0"))
    assert checked.status == "verified", checked.verification.reason
    assert checked.translation.code.count("xp_acc_lane + tile[") == 3


def test_lane_updates_saved_counts_the_sums_a_serial_jam_keeps_in_registers() -> None:
    """On the form jam works on: conv2d's tap loop (both its versions: with lane tables and without) saves the
    unit-stride update's two loads and a store per copy beyond the first, less the one load and store left; the
    channel loop around the taps saves nothing (its copies' tap loops run one after another)."""
    module = lane_tables(simdize(front_half(parse((CORPUS / "conv2d_nchw.cu").read_text(), "cuda"))[0]))
    saved = {label: lane_updates_saved(module, JamOptions("conv2d_nchw", label[0], 2, label[1]))
             for label in [("kw", 1), ("kw", 2), ("c", 1), ("xp_by", 0)]}
    assert saved == {("kw", 1): 4, ("kw", 2): 4, ("c", 1): 0, ("xp_by", 0): 0}


def test_the_search_space_jams_block_loops() -> None:
    source = (CORPUS / "conv2d_nchw.cu").read_text()
    space = build_spaces(source, "cpp", "cuda")[0]
    assert space.knob("jam_loop").values == (None, "xp_by@0")  # the filters share inputs; pixels and images do not
    config = space.config({**{k.name: k.values[0] for k in space.knobs}, "jam_loop": "xp_by@0", "jam_factor": 2})
    assert space.options(config).jam_loop == "xp_by@0"
    off = {**config, "jam_loop": None, "jam_factor": 4}
    assert space.invalid(off) is not None
    assert space.knob("serial_jam_loop").values == (None, "kw@1", "kw@2")  # the tap loops of both versions
    taps = {**config, "serial_jam_loop": "kw@1", "serial_jam_factor": 3}
    assert space.options(space.config(taps)).serial_jam_loop == "kw@1"
    assert space.invalid({**taps, "serial_jam_loop": None}) is not None


# a helper that stores through a pointer: its call runs once per copy, and what it returns is the copy's own
MARKED_ROWS = """
__device__ int mark_row(int* seen, int row) {
    seen[row] += 1;
    return row * 2;
}

__global__ void marked_rows(const float* x, float* y, int* seen, int cols) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    const int twice = mark_row(seen, blockIdx.y * cols + c);
    if (c < cols) y[blockIdx.y * cols + c] = x[c] + twice;
}

extern "C" void rows(const float* x, float* y, int* seen, int n_rows, int cols) {
    marked_rows<<<dim3((cols + 31) / 32, n_rows), 32>>>(x, y, seen, cols);
}
"""


def test_an_impure_helper_runs_once_per_copy() -> None:
    checked = translate_checked(MARKED_ROWS, "cpp", "cuda", sizes={"n_rows": 5, "cols": 32},
                                options=TranslateOptions(jam_loop="xp_by", simdize=False))
    assert checked.status == "verified", checked.verification.reason
    assert checked.translation.code.count("mark_row(") == 1 + 3  # the helper, two copies, the remainder


@pytest.mark.parametrize("kernel,loop,shared", [("conv2d_nchw", "xp_by", 2), ("conv2d_nchw", "xp_bx", 0),
                                                ("conv2d_nchw", "xp_bz", 0), ("gemv_int8", "xp_bx", 2)])
def test_shared_lane_reads_estimates_what_a_jam_saves(kernel: str, loop: str, shared: int) -> None:
    """On the form jam works on: conv2d's filters share the input's loads (both versions of the update); its
    pixel blocks and images share none (the filter taps they share are one broadcast per step, not lane loads);
    gemv's rows share the vector's."""
    module = simdize(front_half(parse((CORPUS / f"{kernel}.cu").read_text(), "cuda"))[0])
    assert shared_lane_reads(module, JamOptions(kernel, loop, 2)) == shared  # each entry is named as its file


@pytest.mark.parametrize("style,loop", [
    ("cuda/conv1d_four_filters.cu", "xp_bx"),  # inner loops left by `continue`: their copies run one after another
    ("cuda/conv2d_same_tile.cu", "xp_by"),  # `reduction(|:xp_any)` names a per-copy variable: renamed there too
    ("hip/rmsnorm_dynamic.hip", "xp_bx"),  # dynamic shared memory, reached through a pointer: one buffer per copy
])
def test_styles_that_broke_an_earlier_jam_verify(style: str, loop: str) -> None:
    source = (CORPUS.parents[1] / "styles" / style).read_text()
    checked = translate_checked(source, "cpp", options=TranslateOptions(jam_loop=loop))
    assert checked.status == "verified", checked.verification.reason
