"""Translations of one operator side by side: each operator's corpus CUDA kernel translated to cpp with this
CPU's preferred options (LocalCPU.preferred: its cores, schedule and vector sizes), varied in one knob, timed next
to numpy in interleaved rounds in one process, on bench/cpp_vs_numpy.py's cases and timing (each contender's best
round median, default threads). Ratio = numpy time / kernel time.

- `--vary cpu_tune` (the default): under each g++ cost model (TranslateOptions.cpu_tune).
- `--vary jam`: without a jam, then with the block loop the passes suggest (autotune LoopForm.jam_sites, the one
  whose copies share the most vector loads) jammed by each factor (TranslateOptions.jam_loop, jam_factor), then
  the serial loop they suggest (LoopForm.serial_jam_sites, the one whose jam keeps the most sums in registers)
  jammed by each factor alone and, by 3, with the block loop jammed by each factor (serial_jam_loop,
  serial_jam_factor); an operator without such loops shows only the first.

    python bench/side_by_side.py [--vary cpu_tune|jam] [--ops gemm conv2d_nchw] [--rounds 5]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpp_vs_numpy import CASES, CORPUS, REPEATS, best_round_medians, load  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from threadpoolctl import threadpool_limits  # noqa: E402

from autotune.space import JAM_FACTORS, loop_form  # noqa: E402
from devices import LocalCPU, MeasureJob  # noqa: E402
from devices.timing import summarize, time_calls  # noqa: E402
from passes.translate import CPU_TUNES, TranslateOptions, translate  # noqa: E402
from tests.corpus.specs import SPECS, make_args  # noqa: E402


def variants(knob: str, source: str, preferred: dict) -> dict[str, TranslateOptions]:
    """Column label -> the options of that column."""
    if knob == "cpu_tune":
        return {cpu: TranslateOptions(**preferred, cpu_tune=cpu) for cpu in CPU_TUNES}
    form = loop_form(source, "cuda")[0]
    blocks = {f"jam {site} x{factor}": {"jam_loop": site, "jam_factor": factor}
              for site in form.jam_sites[:1] for factor in JAM_FACTORS}
    serial = {f"jam {site} x{factor}": {"serial_jam_loop": site, "serial_jam_factor": factor}
              for site in form.serial_jam_sites[:1] for factor in JAM_FACTORS}
    both = {f"{s} + {b}": {**serial[s], **blocks[b]} for s in serial if s.endswith("x3") for b in blocks}
    return {"no jam": TranslateOptions(**preferred),
            **{label: TranslateOptions(**preferred, **jams) for label, jams in {**blocks, **serial, **both}.items()}}


def row(op: str, device: LocalCPU, knob: str, preferred: dict, rounds: int) -> str:
    sizes, reference = CASES[op]
    args = make_args(SPECS[op], sizes)
    named = dict(args)
    source = (CORPUS / "cuda" / f"{op}.cu").read_text()
    columns = variants(knob, source, preferred)
    codes = [translate(source, "cpp", "cuda", native_compile=False, options=options).code
             for options in columns.values()]

    def numpy() -> float:
        with threadpool_limits(None):
            return summarize(time_calls(lambda: reference(**named), REPEATS))[0]

    def kernel(code: str):
        return lambda: device.measure(MeasureJob(code, "cpp", op, args, REPEATS, timeout_s=600)).median_s

    numpy_s, *kernels_s = best_round_medians([numpy, *map(kernel, codes)], rounds)
    cells = " | ".join(f"{label}: {s * 1e3:.3f} | {numpy_s / s:.2f}x" for label, s in zip(columns, kernels_s))
    return f"| {op} | {numpy_s * 1e3:.3f} | {cells} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vary", choices=("cpu_tune", "jam"), default="cpu_tune")
    parser.add_argument("--ops", nargs="*", default=list(CASES))
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    device = LocalCPU()
    preferred = device.preferred("cpp")
    if options.vary == "cpu_tune":
        preferred.pop("cpu_tune", None)
    print(f"device: {device.name}; options {preferred}, {options.vary} varied; best of {options.rounds} "
          f"interleaved rounds' medians; load average {load()} before\n")
    print("| operator | numpy ms | each variant: ms, ratio |")
    print("|---|---:|---|")
    for op in options.ops:
        print(row(op, device, options.vary, preferred, options.rounds), flush=True)
    print(f"\nload average {load()} after")


if __name__ == "__main__":
    main()
