"""Tuned cpp kernels against numpy on the same inputs, in the same run, timed the same way (devices.timing).

Per operator: the corpus CUDA kernel translated to cpp, untuned and tuned (autotune.tune, `--budget` trials on
this CPU, this run's trials only), and the hand-written corpus cpp kernel (OpenMP + AVX-512) as a further
contender; all are then timed again on the spec's inputs next to numpy (float32; int8 gemm as numpy must do it,
in int32). Ratio = numpy time / kernel time (> 1: the kernel is faster). Targets from the issue: >= 1.0x on
gemm/conv, >= 0.9x on elementwise and reductions.

On a machine other processes share, a burst of their work during one contender's turn would decide its ratio:
numpy and the kernels are timed in `--rounds` interleaved rounds and each keeps its best round's median. Both
sides are also timed on one thread (numpy's BLAS limited to one, the kernels with OMP_NUM_THREADS=1) and keep the
faster: a loaded machine rarely gives a process two cores at once, and numpy's single-threaded calls would
otherwise be compared with kernels that wait for a second core (OpenBLAS's own threads busy-wait too: its 2-thread
gemm measured 30x slower than its 1-thread one under load). The load average (what `uptime` prints) is recorded
before and after, as the context every number needs.

    python bench/cpp_vs_numpy.py [--budget 4] [--rounds 3] [--out bench/results/cpp_vs_numpy.md]
"""
from __future__ import annotations

import argparse
import os
import sys
from contextlib import contextmanager
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits  # installed with scikit-learn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autotune import tune  # noqa: E402
from devices import LocalCPU, MeasureJob, Repeats  # noqa: E402
from devices.timing import summarize, time_calls  # noqa: E402
from kernel_ir.diagnostics import XpilerError  # noqa: E402
from kernel_ir.executor import build  # noqa: E402
from passes.translate import translate  # noqa: E402
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


def load() -> str:
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


@contextmanager
def openmp_threads(threads: int | None) -> Iterator[None]:
    """OMP_NUM_THREADS for the kernels' timing children (None: as it is)."""
    before = os.environ.get("OMP_NUM_THREADS")
    if threads is not None:
        os.environ["OMP_NUM_THREADS"] = str(threads)
    try:
        yield
    finally:
        os.environ.pop("OMP_NUM_THREADS", None)
        if before is not None:
            os.environ["OMP_NUM_THREADS"] = before


def best_round_medians(contenders: list[Callable[[], float]], rounds: int) -> list[float]:
    """Each contender (returning its median seconds per call) timed once per round, in turn; the lowest of its
    round medians."""
    best = [float("inf")] * len(contenders)
    for _ in range(rounds):
        for i, contender in enumerate(contenders):
            best[i] = min(best[i], contender())
    return best


def compare(op: str, device: LocalCPU, budget: int, rounds: int, trials: Path) -> str:
    """The table row of one operator: tune, then time numpy and every distinct kernel in interleaved rounds."""
    sizes, reference = CASES[op]
    args = make_args(SPECS[op], sizes)
    named = {name: value for name, value in args}
    source = (CORPUS / "cuda" / f"{op}.cu").read_text()
    start = time.perf_counter()
    tuned = tune(source, target="cpp", source="cuda", budget=budget, args=args, trials_path=trials)
    tuning_s = time.perf_counter() - start
    codes = [translate(source, "cpp", "cuda", native_compile=False).code, tuned.best_code,
             (CORPUS / "cpp" / f"{op}.cpp").read_text()]
    codes = [code if code is None or builds_here(code, op, args) else None for code in codes]
    distinct = list(dict.fromkeys(code for code in codes if code is not None))  # tuned may be the untuned

    def numpy(threads: int | None) -> Callable[[], float]:
        def timed() -> float:
            with threadpool_limits(threads):
                return summarize(time_calls(lambda: reference(**named), REPEATS))[0]
        return timed

    def kernel(code: str, threads: int | None) -> Callable[[], float]:
        def timed() -> float:
            with openmp_threads(threads):
                return device.measure(MeasureJob(code, "cpp", op, args, REPEATS, timeout_s=600)).median_s
        return timed

    ways = (None, 1)  # default threads, one thread
    contenders = [numpy(threads) for threads in ways] + [kernel(code, threads) for code in distinct for threads in ways]
    measured = best_round_medians(contenders, rounds)
    (numpy_s, numpy_way), *distinct_best = [fastest(measured[i:i + 2]) for i in range(0, len(measured), 2)]
    cells = []
    for code in codes:
        if code is None:
            cells.append("n/a | -")
        else:
            seconds, way = distinct_best[distinct.index(code)]
            cells.append(f"{seconds * 1e3:.3f} ({way}) | {numpy_s / seconds:.2f}x")
    return f"| {op} | {numpy_s * 1e3:.3f} ({numpy_way}) | {' | '.join(cells)} | {tuning_s:.0f} | {tuned.best_config} |"


def builds_here(code: str, op: str, args: list) -> bool:
    """Whether g++ -march=native builds the file on this CPU (the corpus's AVX-512 kernels do not on an AVX2
    one: their cells read n/a)."""
    try:
        build(code, "cpp", op, args, native=True, as_user=True)
    except XpilerError as err:
        print(f"{op}: not timed here ({err.diagnostic.message[:120]})", file=sys.stderr)
        return False
    return True


def fastest(default_and_one: list[float]) -> tuple[float, str]:
    """The faster of a contender's default-threads and one-thread times, and which it was."""
    default_s, one_s = default_and_one
    return (one_s, "1") if one_s < default_s else (default_s, "default")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--ops", nargs="*", default=list(CASES))
    options = parser.parse_args()
    device = LocalCPU()
    load_before = load()
    header = ["| operator | numpy ms (threads) | untuned cuda->cpp ms (threads) | ratio | tuned cuda->cpp ms (threads) "
              "| ratio | corpus cpp ms (threads) | ratio | tuning s | best config |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    rows = []
    # a trial store of this run's own: trials resumed from earlier runs were timed under other conditions
    with tempfile.TemporaryDirectory(prefix="xpiler-bench-") as tmp:
        for op in options.ops:
            rows.append(compare(op, device, options.budget, options.rounds, Path(tmp) / "trials.jsonl"))
            print(rows[-1], flush=True)
    text = "\n".join([f"device: {device.name}; ratio = numpy time / kernel time (higher is better); each time is "
                      f"the best of {options.rounds} interleaved rounds' medians, on the default threads or one "
                      f"thread (which, in parentheses), whichever was faster; tuning budget {options.budget} "
                      f"trials; load average (1/5/15 min) {load_before} before, {load()} after", "",
                      *header, *rows])
    print(text)
    if options.out:
        options.out.write_text("# Tuned cpp kernels vs numpy\n\n`python bench/cpp_vs_numpy.py --out "
                               "bench/results/cpp_vs_numpy.md`\n\n" + text + "\n")


if __name__ == "__main__":
    main()
