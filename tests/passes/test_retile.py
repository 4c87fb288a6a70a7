"""retile: the source's tile-size constants found (what sizes its arrays), set to other values where the source
defines them, translated and verified against the source as written; the tuner offers them and suggests a
deeper slab."""
from __future__ import annotations

from pathlib import Path

import pytest

from autotune.space import CONSTANT, build_spaces
from autotune.tuner import suggested
from passes.base import PassRefused
from passes.retile import retile, tile_constants
from passes.translate import TranslateOptions, translate_checked

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "cuda"

# a tiled transpose: TILE sizes the shared tile (padded by one column) and each thread's staged values; ROWS is
# the block's height, and only shrinks what a thread stages
TRANSPOSE = """
#include <cuda_runtime.h>
#define TILE 32
constexpr int ROWS = 8;  // threads along y: each moves TILE / ROWS elements

__global__ void transpose_tiled(const float* in, float* out, int rows, int cols) {
    __shared__ float tile[TILE][TILE + 1];
    float staged[TILE / ROWS];
    const int c = blockIdx.x * TILE + threadIdx.x;
    for (int i = 0; i < TILE / ROWS; ++i) {
        const int r = blockIdx.y * TILE + threadIdx.y + i * ROWS;
        staged[i] = (r < rows && c < cols) ? in[r * cols + c] : 0.0f;
        tile[threadIdx.y + i * ROWS][threadIdx.x] = staged[i];
    }
    __syncthreads();
    const int out_c = blockIdx.y * TILE + threadIdx.x;
    for (int i = 0; i < TILE / ROWS; ++i) {
        const int out_r = blockIdx.x * TILE + threadIdx.y + i * ROWS;
        if (out_r < cols && out_c < rows) out[out_r * rows + out_c] = tile[threadIdx.x][threadIdx.y + i * ROWS];
    }
}

extern "C" void transpose(const float* in, float* out, int rows, int cols) {
    const dim3 grid((cols + TILE - 1) / TILE, (rows + TILE - 1) / TILE);
    transpose_tiled<<<grid, dim3(TILE, ROWS)>>>(in, out, rows, cols);
}
"""


def test_retile_edits_a_define_and_a_constexpr_where_they_are_defined() -> None:
    edited = retile(TRANSPOSE, {"TILE": 16, "ROWS": 4})
    assert "#define TILE 16\n" in edited and "constexpr int ROWS = 4;" in edited
    assert edited.count("\n") == TRANSPOSE.count("\n")  # diagnostics keep their lines


@pytest.mark.parametrize("values, code", [({"COLS": 8}, "XP530"), ({"TILE": 0}, "XP534")])
def test_retile_refuses_what_it_cannot_set(values: dict, code: str) -> None:
    with pytest.raises(PassRefused) as refused:
        retile(TRANSPOSE, values)
    assert refused.value.code == code


def test_a_constant_defined_twice_is_not_retiled() -> None:
    twice = TRANSPOSE.replace("#define TILE 32", "#ifdef SMALL\n#define TILE 16\n#else\n#define TILE 32\n#endif")
    with pytest.raises(PassRefused, match="exactly once"):
        retile(twice, {"TILE": 64})


def test_tile_constants_are_those_that_grow_the_arrays() -> None:
    tiles = tile_constants(TRANSPOSE, "cuda")
    assert [c.name for c in tiles.constants] == ["TILE"]  # ROWS only shrinks what each thread stages
    assert tiles.array_bytes == (32 * 33 * 4, 4 * 4) and tiles.on_chip == (True, False)
    tile_growth, staged_growth = tiles.constants[0].growth
    assert 1.9 < tile_growth < 2.0 and staged_growth == 1.0  # TILE x (TILE + 1): about squared
    assert tiles.slabs() == ()  # TILE also sizes what each thread holds
    assert tiles.bytes_at({"TILE": 64}) == pytest.approx(64 * 65 * 4 + 8 * 4, rel=0.02)


@pytest.mark.parametrize("tile", [16, 64])
def test_a_retiled_transpose_verifies_against_the_source_as_written(tile: int) -> None:
    checked = translate_checked(TRANSPOSE, "cpp", "cuda", sizes={"rows": 70, "cols": 45},
                                options=TranslateOptions(constants=(("TILE", tile),)))
    assert checked.status == "verified", checked.verification.reason
    assert checked.translation.passes[0].name == "retile"
    assert f"float tile[{tile}][{tile + 1}];" in checked.translation.code  # the tile the translation runs with


def test_gemm_with_a_deeper_slab_verifies_with_a_partial_slab() -> None:
    source = (CORPUS / "gemm.cu").read_text()
    tiles = tile_constants(source, "cuda")
    assert [c.name for c in tiles.constants] == ["BM", "BN", "BK"]
    assert [c.name for c in tiles.slabs()] == ["BK"]  # BM and BN size each thread's register tile too
    checked = translate_checked(source, "cpp", "cuda", sizes={"M": 70, "N": 50, "K": 100},
                                options=TranslateOptions(constants=(("BK", 64),)))
    assert checked.status == "verified", checked.verification.reason
    assert "k0 += 64" in checked.translation.code


@pytest.fixture(scope="module")
def gemm_spaces() -> list:
    return build_spaces((CORPUS / "gemm.cu").read_text(), "cpp", "cuda")


def test_the_space_without_a_schedule_offers_the_tile_constants(gemm_spaces: list) -> None:
    plain, *scheduled = gemm_spaces
    assert plain.knob(CONSTANT + "BK").values == (8, 16, 32, 64) and plain.knob(CONSTANT + "BK").default == 16
    assert all(s.knob(CONSTANT + "BK") is None for s in scheduled)
    point = {**next(plain.points()), CONSTANT + "BM": 64, CONSTANT + "BN": 64, CONSTANT + "BK": 16}
    assert plain.options(point).constants == ()  # the source's own values: nothing to retile
    deeper = {**point, CONSTANT + "BK": 64}
    assert plain.options(deeper).constants == (("BK", 64),)
    assert plain.invalid(deeper) is None
    assert "exceed" in plain.invalid({**deeper, CONSTANT + "BM": 256})  # 64 KiB of tiles at most


@pytest.mark.parametrize("cache, depth", [(32 * 1024, 64), (16 * 1024, 32), (None, None)])
def test_the_suggestion_deepens_the_slab_as_far_as_the_cache_holds(gemm_spaces: list, cache, depth) -> None:
    preference = {"sum_registers": 8} | ({"l1d_bytes": cache} if cache else {})
    assert suggested(gemm_spaces, preference).get(CONSTANT + "BK") == depth
