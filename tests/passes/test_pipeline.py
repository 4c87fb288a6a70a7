"""`pipeline` on BANG programs tiled by `cache` (and tensorized): executed before and after on the same inputs,
with several tiles per task so the ping-pong buffers alternate; and the translate driver's handling of the
optional passes (applied, skipped with the reason, turned off)."""
from __future__ import annotations

import numpy as np
import pytest

from kernel_ir.dialects import print_module
from passes.base import PassRefused
from passes.cache import CacheOptions, cache
from passes.pipeline import PipelineOptions, pipeline
from passes.tensorize import tensorize
from passes.translate import TranslateOptions, translate
from tests.passes.target_programs import assert_executes_like, bound, floats
from tests.passes.test_cache import AXPB, IN_PLACE_WITH_OFFSETS, MATMUL, STENCIL, axpb_args, matmul_args


@pytest.mark.parametrize("n", [50, 16 * 128 * 5 + 3])
def test_double_buffered_loads(n: int) -> None:
    before = tensorize(cache(bound(AXPB), CacheOptions(tile=128)))
    code = assert_executes_like(before, pipeline(before), "axpb", axpb_args(n))
    assert code.count("__memcpy_async(") == 4  # the first tile's two loads, then the next tile's
    assert "__sync_io();" in code and "x_nram_pong[128]" in code and "b_nram_pong[128]" in code
    assert "y_nram_pong" not in code  # stores are synchronous: written buffers are not doubled


def test_in_place_buffer() -> None:
    n = 16 * 128 * 2 + 9
    before = cache(bound(IN_PLACE_WITH_OFFSETS), CacheOptions(tile=128))
    assert_executes_like(before, pipeline(before), "shifted",
                         [("x", floats(n + 1)), ("y", floats(n + 3)), ("n", np.int32(n))])


def test_leaves_loops_whose_second_buffers_do_not_fit() -> None:
    before = cache(bound(AXPB), CacheOptions(tile=128))
    with pytest.raises(PassRefused) as err:
        pipeline(before, PipelineOptions(nram_limit=4 * 128 * 4))
    assert err.value.code == "XP550"


def test_refuses_programs_without_tile_loops() -> None:
    with pytest.raises(PassRefused) as err:
        pipeline(bound(AXPB))
    assert err.value.code == "XP550"


def test_translate_records_each_optimization() -> None:
    source = "#include <cmath>\n" + AXPB
    applied = translate(source, "bang", "cpp", native_compile=False)
    notes = {p.name: p.note for p in applied.passes}
    assert notes["cache"] == notes["tensorize"] == notes["pipeline"] == "applied"
    assert "__bang_add(" in applied.code and "__memcpy_async(" in applied.code
    plain = translate(source, "bang", "cpp", native_compile=False,
                      options=TranslateOptions(cache=False, tensorize=False, pipeline=False))
    assert "__nram__" not in plain.code and not {"cache", "tensorize", "pipeline"} & {p.name for p in plain.passes}
    skipped = {p.name: p.note for p in translate("#include <cmath>\n" + STENCIL, "bang", "cpp",
                                                 native_compile=False).passes}
    assert skipped["cache"].startswith("skipped: ") and "XP" not in skipped["cache"][:9]
    assert print_module(bound(AXPB))  # the bound program itself still prints


@pytest.mark.parametrize("target", ["cuda", "hip"])
@pytest.mark.parametrize("m, n, k", [(19, 37, 23), (5, 3, 16), (2, 2, 1)])  # several steps with a tail; one; one short
def test_shared_tiles_double_buffered_bit_for_bit(target: str, m: int, n: int, k: int) -> None:
    before = cache(bound(MATMUL % {"a": "float", "b": "float", "c": "float", "b_index": "k * N + j"}, target))
    code = assert_executes_like(before, pipeline(before), "mm", matmul_args(m, n, k))
    assert "__shared__ float tile_a[2][16][16];" in code and code.count("__syncthreads();") == 2  # one per step
    assert "tile_a[1 - k0_parity][ty][tx] = " in code and "tile_a[k0_parity][ty][kk]" in code


def test_shared_tiles_refused_when_they_do_not_fit() -> None:
    before = cache(bound(MATMUL % {"a": "float", "b": "float", "c": "float", "b_index": "k * N + j"}, "cuda"))
    with pytest.raises(PassRefused) as err:
        pipeline(before, PipelineOptions(shared_limit=3 * 1024))
    assert err.value.code == "XP550" and "do not fit 3072 bytes" in err.value.message
