"""CUDA on a real GPU: the CPU executor's answers against native runs, and translated kernels' speed.

Needs nvcc and an NVIDIA GPU (`kernel_ir.native_gpu.find_gpu`); where there is none it says so and exits 2.
Three parts, each printed as a Markdown table:

  fidelity  every corpus CUDA kernel (and every style kernel written in CUDA) on its spec's inputs, run by the CPU
            executor and natively on the GPU: both must agree within the spec's tolerance. This is what the
            executor's "verified" rests on when no GPU is present.
  speed     per operator, at the sizes of bench/cpp_vs_numpy.py: the hand-written corpus CUDA kernel (an expert's
            port) and untuned translations of the corpus hip, cpp and bang kernels to CUDA, each timed with CUDA events
            around the host launcher (transfers included: what a caller of the entry pays). Ratio = expert time /
            translation time (> 1: the translation is faster).
  tasks     BANG sources translated to CUDA on each of autotune's task counts (TranslateOptions.task_dim): a BANG
            program leaves the number of tasks to its caller, and each task becomes one GPU thread.
  tune      autotune.tune to CUDA on the GPU (LocalGPU), `--budget` trials each, untuned vs best: a plain C gemm
            (three loops, as a port starts) and the corpus BANG softmax (whose task count is a knob).

    python bench/gpu_native.py [--parts fidelity,speed,tasks,tune] [--jobs 12] [--budget 8] [--out results.md]
"""
from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.accuracy import smallest_sizes  # noqa: E402
from bench.cpp_vs_numpy import CASES  # noqa: E402
from kernel_ir.native_gpu import find_gpu  # noqa: E402
from tests.corpus import corpus_files  # noqa: E402
from tests.corpus.specs import SPECS, make_args  # noqa: E402
from tests.styles import specs as styles  # noqa: E402

SPEED_SOURCES = ("hip", "cpp", "bang")  # translated to CUDA and raced against the corpus CUDA kernel
PLAIN_GEMM = styles.STYLES_DIR / "cpp" / "matmul_plain.cpp"  # three loops of plain C, as a port starts


def oneline(text: str, width: int) -> str:
    return " ".join(text.split())[:width]


def fidelity_one(kind: str, op: str, path: str) -> str:
    """One table row: the kernel on the CPU executor and on the GPU, same inputs."""
    from kernel_ir.diagnostics import XpilerError
    from kernel_ir.entry import find_entry
    from kernel_ir.executor import execute
    from kernel_ir.parse import parse
    from passes.verify import compare

    spec = (SPECS if kind == "corpus" else styles.SPECS)[op]
    code = Path(path).read_text()
    args = make_args(spec, smallest_sizes(spec))
    try:
        entry = find_entry(parse(code, "cuda"), None).name
        emulated = execute(code, "cuda", entry, args)
    except XpilerError as err:
        return f"| {kind} | {op} | executor failed | {err.code}: {oneline(err.message, 80)} |"
    try:
        native = execute(code, "cuda", entry, args, native=True)
    except XpilerError as err:
        return f"| {kind} | {op} | GPU failed | {err.code}: {oneline(err.message, 80)} |"
    check = compare(emulated, native, {"rtol": spec.rtol, "atol": spec.atol}, {})  # verify's own comparison
    verdict = "agree" if check.verified else "DISAGREE"
    return f"| {kind} | {op} | {verdict} | max abs difference {check.max_abs_error:.3g} |"


def fidelity(jobs: int) -> str:
    work = [("corpus", name, str(path)) for _, name, path in corpus_files("cuda")]
    work += [("styles", name, str(path)) for _, name, path in styles.style_kernels("cuda")]
    with ProcessPoolExecutor(jobs) as pool:
        rows = list(pool.map(fidelity_one, *zip(*work)))
    agreeing = sum("| agree |" in row for row in rows)
    return ("| kernels | operator | CPU executor vs GPU | detail |\n|---|---|---|---|\n" + "\n".join(rows)
            + f"\n\n{agreeing} of {len(rows)} kernels agree.")


def translated_ms(source: str, dialect: str, op: str, options=None) -> float | str:
    """Median ms on the GPU of `source` translated to CUDA (TranslateOptions `options`) at the bench sizes, after
    verifying it on the spec's smallest sizes; or why there is no time."""
    from devices import LocalGPU, MeasureJob, Repeats
    from kernel_ir.diagnostics import XpilerError
    from passes.translate import translate
    from passes.verify import verify

    spec = SPECS[op]
    try:
        code = translate(source, "cuda", dialect, options=options, native_compile=False).code
        check = verify(source, dialect, code, "cuda", op, args=make_args(spec, smallest_sizes(spec)),
                       rtol=spec.rtol, atol=spec.atol)
        if not check.verified:
            return f"not verified: {oneline(check.reason, 60)}"
        job = MeasureJob(code, "cuda", op, make_args(spec, CASES[op][0]), Repeats(repeats=15, min_time_s=0.1))
        return LocalGPU("cuda").measure(job).median_s * 1e3
    except XpilerError as err:
        return f"{err.code}: {oneline(err.message, 60)}"


def speed_one(op: str) -> str:
    """Expert CUDA kernel vs translations of the cpp and bang kernels, timed on the GPU (median of repeats)."""
    from devices import LocalGPU, MeasureJob, Repeats
    from kernel_ir.diagnostics import XpilerError

    sizes, _ = CASES[op]
    sources = {dialect: path.read_text() for dialect, name, path in
               [f for d in ("cuda", *SPEED_SOURCES) for f in corpus_files(d)] if name == op}
    try:
        expert = LocalGPU("cuda").measure(MeasureJob(sources["cuda"], "cuda", op, make_args(SPECS[op], sizes),
                                                     Repeats(repeats=15, min_time_s=0.1)))
    except XpilerError as err:
        return f"| {op} | corpus kernel failed on the GPU: {err.code}: {oneline(err.message, 80)} |"
    expert_ms = expert.median_s * 1e3
    cells = [f"{expert_ms:.3f} ms"]
    for dialect in SPEED_SOURCES:
        ms = translated_ms(sources[dialect], dialect, op) if dialect in sources else "(no kernel)"
        cells.append(f"{ms:.3f} ms ({expert_ms / ms:.2f}x)" if isinstance(ms, float) else ms)
    return f"| {op} | {', '.join(f'{k}={v}' for k, v in sizes.items())} | " + " | ".join(cells) + " |"


def speed(jobs: int) -> str:
    with ProcessPoolExecutor(jobs) as pool:
        rows = list(pool.map(speed_one, CASES))
    header = " | ".join(f"{d} -> cuda (ratio)" for d in SPEED_SOURCES)
    return (f"| operator | sizes | corpus CUDA | {header} |\n|---|---|---:|" + "---:|" * len(SPEED_SOURCES)
            + "\n" + "\n".join(rows))


def tasks_one(op: str) -> str:
    """One row: the BANG kernel translated to CUDA on each task count, verified, then timed on the GPU."""
    from autotune.space import TASK_DIMS
    from passes.translate import TranslateOptions

    [source] = [path.read_text() for _, name, path in corpus_files("bang") if name == op]
    times = [translated_ms(source, "bang", op, TranslateOptions(task_dim=tasks)) for tasks in TASK_DIMS]
    return f"| {op} | " + " | ".join(f"{ms:.3f} ms" if isinstance(ms, float) else ms for ms in times) + " |"


def tasks(jobs: int) -> str:
    from autotune.space import TASK_DIMS
    with ProcessPoolExecutor(jobs) as pool:
        rows = list(pool.map(tasks_one, CASES))
    return (f"| operator | {' | '.join(f'{t} tasks' for t in TASK_DIMS)} |\n|---|" + "---:|" * len(TASK_DIMS)
            + "\n" + "\n".join(rows))


def tuning_one(label: str, source: str, dialect: str, budget: int, **inputs) -> list[str]:
    """Report lines of one `tune(...)` run to CUDA on the GPU (LocalGPU): untuned vs best, every trial.
    inputs: tune's `sizes` or `args`."""
    from autotune import tune
    from devices import LocalGPU

    start = time.perf_counter()
    result = tune(source, "cuda", dialect, device=LocalGPU("cuda"), budget=budget, strategy="bayes", **inputs,
                  trials_path=Path(f"/tmp/xpiler-gpu-trials-{dialect}.jsonl"))
    lines = [f"{label} -> cuda, {budget} trials (bayes) in {time.perf_counter() - start:.0f} s on "
             f"{result.device} ({result.kind}):",
             f"- untuned translation: {result.untuned_time}",
             f"- best ({result.best_config}): {result.best_time}",
             f"- trials: {len(result.trials)}, not verified or failed: {sum(not t.ok for t in result.trials)}"]
    return lines + [f"  - {t.number}: {t.status} {t.config} {t.time_s * 1e3 if t.ok else t.reason[:80]}"
                    for t in result.trials]


def tuning(budget: int) -> str:
    """The plain C gemm (M=N=K=512) and the corpus BANG softmax (bench sizes), each tuned to CUDA."""
    [bang_softmax] = [path.read_text() for _, name, path in corpus_files("bang") if name == "softmax"]
    sizes = CASES["softmax"][0]
    runs = [tuning_one("plain C gemm, M=N=K=512", PLAIN_GEMM.read_text(), "cpp", budget,
                       sizes={"M": 512, "N": 512, "K": 512}),
            tuning_one("corpus BANG softmax, " + ", ".join(f"{k}={v}" for k, v in sizes.items()), bang_softmax,
                       "bang", budget, args=make_args(SPECS["softmax"], sizes))]
    return "\n\n".join("\n".join(lines) for lines in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="fidelity,speed,tune")
    parser.add_argument("--jobs", type=int, default=12)
    parser.add_argument("--budget", type=int, default=8)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    gpu, reason = find_gpu("cuda")
    if gpu is None:
        print(f"no CUDA GPU here: {reason}")
        sys.exit(2)
    sections = [f"# CUDA on {gpu}\n"]
    parts = {"fidelity": lambda: fidelity(args.jobs), "speed": lambda: speed(args.jobs),
             "tasks": lambda: tasks(args.jobs), "tune": lambda: tuning(args.budget)}
    for part in args.parts.split(","):
        start = time.perf_counter()
        text = parts[part]()
        sections.append(f"## {part} ({time.perf_counter() - start:.0f} s)\n\n{text}\n")
        print(sections[-1], flush=True)
        if args.out:
            args.out.write_text("\n".join(sections))


if __name__ == "__main__":
    main()
