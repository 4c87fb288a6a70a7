"""Search spaces come from the loop form, and constraints prune points before anything is built."""
from __future__ import annotations

import dataclasses

import pytest

from autotune.space import NRAM_TILES, SEQUENCES, build_spaces, loop_form, untuned_space
from passes.translate import ScheduleStep, TranslateOptions, translate
from tests.autotune.kernels import FIXED_TILE, SCALE_ROWS


def by_name(spaces):
    return {space.name: space for space in spaces}


def test_spaces_follow_the_loop_form():
    form, entry = loop_form(SCALE_ROWS, "cpp")
    assert entry == "scale_rows"
    assert [s.label for s in form.sites] == ["r@0", "c@0"]
    assert [n.names for n in form.nests] == [("r", "c")]
    spaces = by_name(build_spaces(SCALE_ROWS, "cpp", "cpp"))
    assert set(spaces) == {"no-schedule", "split", "reorder", "fuse", "reorder+split", "unroll"}
    knobs = {k.name: k.values for k in spaces["reorder+split"].knobs}
    assert knobs["reorder"] == ("c,r@0",) and knobs["split_loop"] == ("r@0", "c@0")
    assert knobs["omp_schedule"] == ("static", "dynamic", "guided")
    unrolled = {k.name: k.values for k in spaces["unroll"].knobs}
    assert unrolled["unroll_loop"] == ("c@0",)  # r is parallel: its iterations go to threads
    assert spaces["unroll"].options(spaces["unroll"].config({**{k: v[0] for k, v in unrolled.items()},
                                                             "unroll_factor": 8})).schedule == (
        ScheduleStep("unroll", (("loop", "c"), ("factor", 8), ("occurrence", 0))),)


def test_target_knobs_differ_by_target():
    cpp = by_name(build_spaces(SCALE_ROWS, "cpp", "cpp", sequences=((),)))["no-schedule"]
    assert [k.name for k in cpp.knobs] == ["omp_threads", "omp_schedule", "cpu_tune", "tensorize"]
    cuda = by_name(build_spaces(SCALE_ROWS, "cuda", "cpp", sequences=((),)))["no-schedule"]
    assert [k.name for k in cuda.knobs] == ["block_size", "cache", "tensorize", "pipeline"]
    bang = build_spaces(SCALE_ROWS, "bang", "cpp", sequences=((),))[0]
    assert [k.name for k in bang.knobs] == ["cache", "tile", "tensorize", "pipeline"]
    config = bang.config({"cache": True, "tile": 1024, "tensorize": False, "pipeline": True})
    assert bang.options(config) == TranslateOptions(cache=True, tile=1024, tensorize=False, pipeline=True)


# A CUDA block kernel with a barrier: its loop form keeps the thread loops (simdize's work on the way to cpp).
# An elementwise kernel would not do: its grid of threads becomes one flat loop.
ROW_SUM = """
#include <cuda_runtime.h>
__global__ void row_sum_kernel(const float* x, float* y, int rows, int cols) {
    __shared__ float part[64];
    float acc = 0.0f;
    for (int c = threadIdx.x; c < cols; c += 64) acc += x[blockIdx.x * cols + c];
    part[threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.x == 0) {
        float total = 0.0f;
        for (int t = 0; t < 64; t++) total += part[t];
        y[blockIdx.x] = total;
    }
}
extern "C" void row_sum(const float* x, float* y, int rows, int cols) {
    float *dx, *dy;
    cudaMalloc(&dx, rows * cols * sizeof(float));
    cudaMalloc(&dy, rows * sizeof(float));
    cudaMemcpy(dx, x, rows * cols * sizeof(float), cudaMemcpyHostToDevice);
    row_sum_kernel<<<rows, 64>>>(dx, dy, rows, cols);
    cudaMemcpy(y, dy, rows * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(dy);
}
"""


def test_simdize_is_a_cpp_knob_only_for_thread_block_kernels():
    block = build_spaces(ROW_SUM, "cpp", "cuda", sequences=((),))[0]
    assert block.form.thread_blocks and block.knob("simdize").values == (True, False)
    assert block.knob("vector_width").values == (256, 512)
    config = block.config({"omp_threads": 1, "omp_schedule": "static", "simdize": False, "tensorize": False})
    assert block.options(config) == TranslateOptions(omp_threads=1, omp_schedule="static", simdize=False,
                                                    tensorize=False)
    assert build_spaces(ROW_SUM, "cuda", "cuda", sequences=((),))[0].knob("simdize") is None
    assert build_spaces(SCALE_ROWS, "cpp", "cpp", sequences=((),))[0].knob("simdize") is None  # no thread loops
    wide = block.config({"omp_threads": 1, "omp_schedule": "static", "simdize": True, "vector_width": 512})
    assert block.options(wide).vector_width == 512


def test_sum_registers_sizes_simdize_register_tiles_and_means_nothing_without_simdize():
    block = build_spaces(ROW_SUM, "cpp", "cuda", sequences=((),))[0]
    assert block.knob("sum_registers").values == (8, 16)
    narrow = block.config({"omp_threads": 1, "omp_schedule": "static", "simdize": True, "vector_width": 256,
                           "sum_registers": 8, "tensorize": True})
    assert block.invalid(narrow) is None and block.options(narrow).sum_registers == 8
    assert "without simdize" in block.invalid({**narrow, "simdize": False})
    assert block.invalid({**narrow, "simdize": False, "sum_registers": 16}) is None
    # 8 registers of 256 bits: 256 bytes for the sums, what simdize is given
    record = next(p for p in translate(ROW_SUM, "cpp", "cuda", options=block.options(narrow),
                                       native_compile=False).passes if p.name == "simdize")
    assert record.options["register_bytes"] == 256 and record.options["vector_bytes"] == 32

def test_optimizations_without_cache_tiles_are_pruned_as_duplicates():
    cuda = build_spaces(SCALE_ROWS, "cuda", "cpp", sequences=((),))[0].restrict(block_size=(256,))
    off = [p for p in cuda.points() if not p["cache"]]
    assert off == [cuda.config({"block_size": 256, "cache": False, "tensorize": False, "pipeline": False})]
    assert cuda.size() == 4 + 1
    assert "without cache" in cuda.invalid(cuda.config({"block_size": 256, "cache": False, "tensorize": True,
                                                        "pipeline": False}))
    bang = build_spaces(SCALE_ROWS, "bang", "cpp", sequences=((),))[0]
    assert "tile 4096 without cache" in bang.invalid(bang.config({"cache": False, "tile": 4096, "tensorize": False,
                                                                   "pipeline": False}))
    cpp = build_spaces(SCALE_ROWS, "cpp", "cpp", sequences=((),))[0]
    assert {p["tensorize"] for p in cpp.points()} == {True, False}  # cpp's tensorize needs no cache


def test_nram_tiles_that_cache_would_shrink_are_pruned():
    bang = build_spaces(SCALE_ROWS, "bang", "cpp", sequences=((),))[0]
    assert bang.form.element_bytes == (4, 4)  # x and y: 8 bytes per tile element, 8192 x 8 fits 128 KiB
    assert {p["tile"] for p in bang.points() if p["cache"]} == set(NRAM_TILES)
    wide = dataclasses.replace(bang, form=dataclasses.replace(bang.form, element_bytes=(4,) * 8))  # 32 bytes
    tiles = {p["tile"] for p in wide.points() if p["cache"]}
    assert tiles == {512, 1024, 2048, 4096}  # 4096 x 32 = 128 KiB: the budget; 8192 would be halved to 4096
    assert "exceeds" in wide.invalid(wide.config({"cache": True, "tile": 8192, "tensorize": True, "pipeline": True}))


def test_a_config_becomes_translate_options():
    space = by_name(build_spaces(SCALE_ROWS, "cpp", "cpp"))["reorder+split"]
    config = space.config({"reorder": "c,r@0", "split_loop": "c@0", "split_factor": 8, "split_tail": "guard",
                           "omp_threads": 1, "omp_schedule": "dynamic", "tensorize": True})
    assert space.options(config) == TranslateOptions(
        schedule=(ScheduleStep("reorder", (("loops", ("c", "r")), ("occurrence", 0))),
                  ScheduleStep("split", (("loop", "c"), ("factor", 8), ("tail", "guard"), ("occurrence", 0)))),
        omp_threads=1, omp_schedule="dynamic")
    assert untuned_space("cpp").options(untuned_space("cpp").config({})) == TranslateOptions()


def test_an_unroll_factor_above_the_trip_count_is_pruned():
    source = FIXED_TILE.replace("c < 16", "c < 6").replace("r * 16 + c", "r * 6 + c")
    space = by_name(build_spaces(source, "cpp", "cpp", sequences=(("unroll",),)))["unroll"]
    base = {"unroll_loop": "c@0", "omp_threads": 1, "omp_schedule": "static", "cpu_tune": "native",
            "tensorize": True}
    assert "exceeds the 6 iterations" in space.invalid(space.config({**base, "unroll_factor": 8}))
    assert space.invalid(space.config({**base, "unroll_factor": 4})) is None


def test_constraints_prune_before_building():
    space = by_name(build_spaces(FIXED_TILE, "cpp", "cpp", sequences=(("split",),)))["split"]
    site = next(s for s in space.form.sites if s.var == "c")
    assert site.trip == 16
    base = {"split_loop": "c@0", "omp_threads": 1, "omp_schedule": "static", "tensorize": True}
    assert "exceeds" in space.invalid(space.config({**base, "split_factor": 32, "split_tail": "guard"}))
    assert "no tail" in space.invalid(space.config({**base, "split_factor": 8, "split_tail": "peel"}))
    assert space.invalid(space.config({**base, "split_factor": 8, "split_tail": "guard"})) is None
    points = list(space.points())
    assert all(space.invalid(p) is None for p in points)
    on_c = {(p["split_factor"], p["split_tail"]) for p in points if p["split_loop"] == "c@0"}
    assert on_c == {(4, "guard"), (8, "guard"), (16, "guard")}


def test_restrict_narrows_a_knob():
    space = by_name(build_spaces(SCALE_ROWS, "cpp", "cpp", sequences=SEQUENCES))["no-schedule"]
    small = space.restrict(omp_schedule=("static",))
    assert small.size() * 3 == space.size()
    with pytest.raises(KeyError):
        space.restrict(unroll=(1,))


TASK_SCALE = r"""
#include <bang.h>
__mlu_global__ void scale_tasks(const float* x, float* y, float a, int n) {
  for (int i = taskId; i < n; i += taskDim) {
    y[i] = a * x[i];
  }
}
"""


def test_a_bang_source_gets_a_task_count_knob_that_its_translation_runs_on():
    from passes.verify import verify

    space = build_spaces(TASK_SCALE, "cuda", "bang", sequences=((),))[0]
    assert space.knob("task_dim").values == (16, 64, 256, 1024, 4096)
    assert all(k.name != "task_dim" for k in build_spaces(SCALE_ROWS, "cuda", "cuda", sequences=((),))[0].knobs)
    options = space.options(space.config({"block_size": 256, "task_dim": 1024, "cache": False, "tensorize": False,
                                          "pipeline": False}))
    assert options.task_dim == 1024
    for target in ("cuda", "cpp"):
        result = translate(TASK_SCALE, target, "bang", options=options, native_compile=False)
        assert next(p for p in result.passes if p.name == "recover_loops").options["task_dim"] == 1024
        assert "1024" in result.code
        check = verify(TASK_SCALE, "bang", result.code, target, "scale_tasks", sizes={"n": 3000})
        assert check.verified, check.reason
