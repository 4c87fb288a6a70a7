"""g++'s cost models side by side (TranslateOptions.cpu_tune): each operator's corpus CUDA kernel translated to
cpp with this CPU's preferred options (LocalCPU.preferred: its cores, schedule and vector sizes) under each model
g++ can tune for, timed next to numpy in interleaved rounds in one process, on bench/cpp_vs_numpy.py's cases and
timing (each contender's best round median, default threads). Ratio = numpy time / kernel time.

    python bench/cost_models.py [--ops gemm conv2d_nchw] [--rounds 5]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpp_vs_numpy import CASES, CORPUS, REPEATS, best_round_medians, load  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from threadpoolctl import threadpool_limits  # noqa: E402

from devices import LocalCPU, MeasureJob  # noqa: E402
from devices.timing import summarize, time_calls  # noqa: E402
from passes.translate import CPU_TUNES, TranslateOptions, translate  # noqa: E402
from tests.corpus.specs import SPECS, make_args  # noqa: E402


def row(op: str, device: LocalCPU, preferred: dict, rounds: int) -> str:
    sizes, reference = CASES[op]
    args = make_args(SPECS[op], sizes)
    named = dict(args)
    source = (CORPUS / "cuda" / f"{op}.cu").read_text()
    codes = [translate(source, "cpp", "cuda", native_compile=False,
                       options=TranslateOptions(**preferred, cpu_tune=cpu)).code for cpu in CPU_TUNES]

    def numpy() -> float:
        with threadpool_limits(None):
            return summarize(time_calls(lambda: reference(**named), REPEATS))[0]

    def kernel(code: str):
        return lambda: device.measure(MeasureJob(code, "cpp", op, args, REPEATS, timeout_s=600)).median_s

    numpy_s, *kernels_s = best_round_medians([numpy, *map(kernel, codes)], rounds)
    cells = " | ".join(f"{s * 1e3:.3f} | {numpy_s / s:.2f}x" for s in kernels_s)
    return f"| {op} | {numpy_s * 1e3:.3f} | {cells} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", nargs="*", default=list(CASES))
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    device = LocalCPU()
    preferred = {name: value for name, value in device.preferred("cpp").items() if name != "cpu_tune"}
    print(f"device: {device.name}; options {preferred}; best of {options.rounds} interleaved rounds' medians; "
          f"load average {load()} before\n")
    print("| operator | numpy ms | " + " | ".join(f"{cpu} ms | ratio" for cpu in CPU_TUNES) + " |")
    print("|---|---:|" + "---:|---:|" * len(CPU_TUNES))
    for op in options.ops:
        print(row(op, device, preferred, options.rounds), flush=True)
    print(f"\nload average {load()} after")


if __name__ == "__main__":
    main()
