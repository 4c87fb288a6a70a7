"""How fast the cuda -> cpp conv2d would run if its sums stayed in vector registers: the translation, the
hand-written probe bench/probes/conv2d_register_sums.cpp (three register blockings, each sum in the source's
order) and numpy, on bench/cpp_vs_numpy.py's conv2d case, in one process, each checked against numpy before it
is timed. Times are wall-clock, best of 15 calls, in 3 interleaved rounds (the best round counts), on the
threads the environment gives numpy and OpenMP; run it once on one thread to compare code, once on the default
threads:

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PYTHONPATH=. python bench/register_sums_probe.py
    PYTHONPATH=. python bench/register_sums_probe.py
"""
from __future__ import annotations

import ctypes
import functools
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from cpp_revisions import library  # noqa: E402
from cpp_vs_numpy import CASES  # noqa: E402
from simdize_before_after import best_ms, entry_call  # noqa: E402

from passes.translate import translate  # noqa: E402
from tests.corpus.specs import SPECS, make_args  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OP = "conv2d_nchw"
PROBE = ROOT / "bench" / "probes" / "conv2d_register_sums.cpp"
VARIANTS = {"probe: 32 lanes x 1 filter (4 sums)": ["-DXP_VECTORS=4", "-DXP_FILTERS=1"],
            "probe: 64 lanes x 1 filter (8 sums)": ["-DXP_VECTORS=8", "-DXP_FILTERS=1"],
            "probe: 16 lanes x 4 filters (8 sums)": ["-DXP_VECTORS=2", "-DXP_FILTERS=4"]}


def probe(out: Path, defines: list[str]) -> ctypes.CDLL:
    path = out / f"probe{''.join(defines)}.so"
    subprocess.run(["g++", "-O3", "-march=native", "-fopenmp", "-shared", "-fPIC", *defines, str(PROBE), "-o",
                    str(path)], check=True)
    return ctypes.CDLL(str(path))


def main() -> None:
    out = Path(tempfile.mkdtemp(prefix="xpile-probe-"))
    sizes, reference = CASES[OP]
    args = make_args(SPECS[OP], sizes)
    expected = reference(**dict(args))
    source = (ROOT / "tests" / "corpus" / "cuda" / f"{OP}.cu").read_text()
    libraries = {"translation (untuned)": library(translate(source, "cpp", "cuda", native_compile=False).code,
                                                  out / "translation"),
                 **{name: probe(out, defines) for name, defines in VARIANTS.items()}}
    output = next(name for name, _ in args if name == "y")
    runs, errors = {}, {}
    for name, lib in libraries.items():
        runs[name] = entry_call(lib, OP, args)
        runs[name]()
        got = dict(args)[output]
        errors[name] = float(np.max(np.abs(got - expected)))
        if not np.allclose(got, expected, rtol=1e-4, atol=1e-4):
            sys.exit(f"{name} disagrees with numpy: max abs error {errors[name]:.3g}")
    wall = functools.partial(best_ms, calls=15, clock=time.perf_counter)
    rounds = [{"numpy": wall(lambda: reference(**dict(args))), **{name: wall(run) for name, run in runs.items()}}
              for _ in range(3)]
    best = {name: min(r[name] for r in rounds) for name in rounds[0]}
    print(f"{OP} {sizes}; ratio = numpy time / kernel time\n")
    print("| kernel | ms | ratio | max abs error vs numpy |\n|---|---:|---:|---:|")
    print(f"| numpy | {best['numpy']:.3f} | 1.00x | - |")
    for name in libraries:
        print(f"| {name} | {best[name]:.3f} | {best['numpy'] / best[name]:.2f}x | {errors[name]:.2g} |")


if __name__ == "__main__":
    main()
