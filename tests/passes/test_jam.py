"""jam: a parallel loop unrolled with its copies jammed computes the same, shares what its iterations share, and
refuses what it cannot interleave."""
from __future__ import annotations

from pathlib import Path

import pytest

from autotune.space import build_spaces
from kernel_ir.parse import parse
from passes.base import PassRefused
from passes.simdize import simdize
from passes.jam import JamOptions, jam, shared_lane_reads
from passes.translate import TranslateOptions, front_half, translate_checked

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


def test_a_serial_loop_is_refused() -> None:
    source = "extern \"C\" void f(float* a, int n) { for (int i = 1; i < n; i++) a[i] += a[i - 1]; }"
    with pytest.raises(PassRefused) as refused:
        jam(parse(source, "cpp"), JamOptions("f", "i", 2))
    assert refused.value.code == "XP532"


def test_the_search_space_jams_block_loops() -> None:
    source = (CORPUS / "conv2d_nchw.cu").read_text()
    space = build_spaces(source, "cpp", "cuda")[0]
    assert space.knob("jam_loop").values == (None, "xp_by@0")  # the filters share inputs; pixels and images do not
    config = space.config({**{k.name: k.values[0] for k in space.knobs}, "jam_loop": "xp_by@0", "jam_factor": 2})
    assert space.options(config).jam_loop == "xp_by@0"
    off = {**config, "jam_loop": None, "jam_factor": 4}
    assert space.invalid(off) is not None


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
