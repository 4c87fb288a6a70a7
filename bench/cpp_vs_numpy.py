"""Tuned cpp kernels against numpy on the same inputs, in the same run, timed the same way (devices.timing).

Per operator: the corpus CUDA kernel translated to cpp and tuned (autotune.tune, `--budget` trials on this CPU),
and the hand-written corpus cpp kernel (OpenMP + AVX-512) as a second contender; both are then timed again on the
spec's inputs next to numpy (float32; int8 gemm as numpy must do it, in int32). Ratio = numpy time / kernel time
(> 1: the kernel is faster). Targets from the issue: >= 1.0x on gemm/conv, >= 0.9x on elementwise and reductions.

    python bench/cpp_vs_numpy.py [--budget 4] [--out bench/results/cpp_vs_numpy.md]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autotune import tune  # noqa: E402
from devices import LocalCPU, MeasureJob, Repeats  # noqa: E402
from devices.timing import summarize, time_calls  # noqa: E402
from tests.corpus.specs import SPECS, make_args  # noqa: E402

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus"
REPEATS = Repeats(warmup=2, repeats=11, min_time_s=0.2)


def conv2d_nchw(x, w, stride, pad, **_):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, w.shape[2:], axis=(2, 3))[:, :, ::stride, ::stride]
    return np.einsum("nchwij,fcij->nfhw", windows, w, optimize=True)


def softmax(x, **_):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def layernorm(x, gamma, beta, eps, **_):
    mean = x.mean(axis=1, keepdims=True)
    return (x - mean) / np.sqrt(x.var(axis=1, keepdims=True) + eps) * gamma + beta


CASES = {  # operator: (sizes, numpy on the kernel's named arguments)
    "gemm": ({"M": 512, "N": 512, "K": 512}, lambda A, B, **_: A @ B),
    "gemm_int8": ({"M": 256, "N": 256, "K": 256}, lambda A, B, **_: A.astype(np.int32) @ B.astype(np.int32)),
    "conv2d_nchw": ({"N": 1, "C": 32, "H": 56, "W": 56, "F": 32, "KH": 3, "KW": 3, "stride": 1, "pad": 1},
                    conv2d_nchw),
    "softmax": ({"rows": 512, "cols": 1024}, softmax),
    "layernorm": ({"rows": 512, "cols": 1024, "eps": 1e-5}, layernorm),
    "add": ({"n": 1 << 22}, lambda a, b, c, **_: np.add(a, b, out=c)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=4)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--ops", nargs="*", default=list(CASES))
    options = parser.parse_args()
    device = LocalCPU()
    header = ["| operator | numpy ms | tuned cuda->cpp ms | ratio | corpus cpp ms | ratio | tuning s | best config |",
              "|---|---|---|---|---|---|---|---|"]
    rows = []
    for op in options.ops:
        sizes, reference = CASES[op]
        spec = SPECS[op]
        args = make_args(spec, sizes)
        start = time.perf_counter()
        tuned = tune((CORPUS / "cuda" / f"{op}.cu").read_text(), target="cpp", source="cuda", budget=options.budget,
                     args=args)
        tuning_s = time.perf_counter() - start
        named = {name: value for name, value in args}
        numpy_s, _ = summarize(time_calls(lambda: reference(**named), REPEATS))
        contenders = []
        for code in (tuned.best_code, (CORPUS / "cpp" / f"{op}.cpp").read_text()):
            if code is None:
                contenders.append(None)
                continue
            contenders.append(device.measure(MeasureJob(code, "cpp", op, args, REPEATS, timeout_s=600)).median_s)
        cells = [f"{t * 1e3:.3f}" if t else "n/a" for t in contenders]
        ratios = [f"{numpy_s / t:.2f}x" if t else "-" for t in contenders]
        rows.append(f"| {op} | {numpy_s * 1e3:.3f} | {cells[0]} | {ratios[0]} | {cells[1]} | {ratios[1]} | "
                    f"{tuning_s:.0f} | {tuned.best_config} |")
        print(rows[-1], flush=True)
    text = "\n".join([f"device: {device.name}; ratio = numpy time / kernel time (higher is better)", "",
                      *header, *rows])
    print(text)
    if options.out:
        options.out.write_text("# Tuned cpp kernels vs numpy\n\n`python bench/cpp_vs_numpy.py --out "
                               "bench/results/cpp_vs_numpy.md`\n\n" + text + "\n")


if __name__ == "__main__":
    main()
