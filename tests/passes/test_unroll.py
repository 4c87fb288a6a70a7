"""unroll: the loop carries one unroll request in each target's spelling, and the program computes the same."""
from __future__ import annotations

from pathlib import Path

import pytest

from autotune.space import build_spaces
from kernel_ir.dialects import print_module
from kernel_ir.ir import For, ForKind
from kernel_ir.parse import parse
from passes.base import PassRefused
from passes.loops import find_loop
from passes.translate import ScheduleStep, TranslateOptions, translate_checked
from passes.unroll import UnrollOptions, unroll
from tests.passes.loop_programs import assert_same
from tests.passes.test_split import GEMM, gemm_args

# a CUDA block kernel whose column loop is a grid-stride loop over the block's threads (simdize rebuilds it)
ROW_SCALE = """
__global__ void row_scale(const float* x, float* y, int cols) {
    const float* row = x + blockIdx.x * cols;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        y[blockIdx.x * cols + c] = row[c] * 2.0f + 1.0f;
    }
}

extern "C" void scale_rows(const float* x, float* y, int rows, int cols) {
    row_scale<<<rows, 64>>>(x, y, cols);
}
"""


def loop_over(module, var: str) -> For:
    return find_loop(module.function("gemm"), var).loop


def test_the_loop_is_marked_and_computes_the_same() -> None:
    module = unroll(parse(GEMM, "cpp"), UnrollOptions("gemm", "k", 4))
    k = loop_over(module, "k")
    assert k.kind == ForKind.unrolled and k.pragmas == ("unroll 4",)
    assert "#pragma GCC unroll 4" in print_module(module, "cpp")
    assert_same(GEMM, module, "gemm", gemm_args(7, 5, 9))


def test_a_new_request_replaces_the_loops_own() -> None:
    source = GEMM.replace("for (int k = 0;", "#pragma GCC unroll 8\n            for (int k = 0;")
    module = unroll(unroll(parse(source, "cpp"), UnrollOptions("gemm", "k", 2)), UnrollOptions("gemm", "k", 16))
    assert loop_over(module, "k").pragmas == ("unroll 16",)
    printed = print_module(module, "cpp")
    assert printed.count("unroll") == 1 and "#pragma GCC unroll 16" in printed


def test_refusals() -> None:
    module = parse(GEMM, "cpp")
    cases = [(UnrollOptions("gemm", "k", 1), "XP534"), (UnrollOptions("gemm", "i", 4), "XP532"),
             (UnrollOptions("gemm", "q", 4), "XP530")]
    for options, code in cases:
        with pytest.raises(PassRefused) as refused:
            unroll(module, options)
        assert refused.value.code == code, options


@pytest.mark.parametrize("target,spelling", [("cpp", "#pragma GCC unroll 4"), ("cuda", "#pragma unroll 4"),
                                             ("hip", "#pragma unroll 4"), ("bang", "#pragma unroll 4")])
def test_every_target_spells_the_request_and_verifies(target: str, spelling: str) -> None:
    """Through translate as the tuner runs it: on the grid-stride loop, which simdize (cpp) rebuilds around its
    lanes and must keep the request on."""
    options = TranslateOptions(schedule=(ScheduleStep("unroll", (("loop", "c"), ("factor", 4))),))
    checked = translate_checked(ROW_SCALE, target, "cuda", options=options)
    assert checked.status == "verified", checked.verification.reason
    assert spelling in checked.translation.code
    assert any(r.name == "unroll" for r in checked.translation.passes)


def test_the_search_space_unrolls_serial_loops_only() -> None:
    source = (Path(__file__).resolve().parents[1] / "corpus" / "cuda" / "conv2d_nchw.cu").read_text()
    space = next(s for s in build_spaces(source, "cpp", "cuda") if s.name == "unroll")
    loops = space.knob("unroll_loop").values
    assert loops and all(not site.parallel for site in space.form.sites if site.label in loops)
    config = space.config({**{k.name: k.values[0] for k in space.knobs}, "unroll_factor": 2})
    step = space.options(config).schedule[0]
    assert step.pass_name == "unroll" and dict(step.options)["factor"] == 2
    checked = translate_checked(source, "cpp", "cuda", options=space.options(config))
    assert "#pragma GCC unroll 2" in checked.translation.code
    assert checked.status == "verified", checked.verification.reason
