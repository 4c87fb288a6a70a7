"""Bayesian vs random vs grid search with the same budget on the same space.

The objective of every point of one space (a naive matmul nest of our own, cpp -> cpp: loop order x split loop x
split factor x OpenMP threads, 150 points) is measured once on this machine (translate, verify, time:
autotune.evaluate) and kept in bench/results/tune_strategies_table.json, so a rerun replays it without measuring;
then every strategy replays that table over the same seeds: how many evaluations until the best found is within
5 % of the best of the whole table. Each point keeps the median and the minimum of its timed calls; the replay is
reported for both (`--statistic`): on a loaded machine the median of a 2-thread OpenMP point swings by 50x with the
other jobs, the minimum (the call that had both cores) much less. Replaying one table gives every strategy the same (noisy) numbers, so the
comparison is about the search, not about the noise. Target from the issue: Bayesian needs at most half of
random's evaluations.

    python bench/tune_strategies.py [--seeds 30] [--budget 60] [--strategies "bayes (GP),random"]
                                    [--out bench/results/tune_strategies.md]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autotune.evaluate import Problem, evaluate  # noqa: E402
from autotune.space import build_spaces  # noqa: E402
from autotune.strategies import config_key, load_strategy  # noqa: E402
from devices import LocalCPU, Repeats  # noqa: E402
from kernel_ir.entry import find_entry  # noqa: E402
from kernel_ir.parse import parse  # noqa: E402
from kernel_ir.store import atomic_write_json  # noqa: E402
from passes.verify import make_inputs  # noqa: E402

MATMUL = """
extern "C" void matmul(const float* A, const float* B, float* C, int M, int N, int K) {
    #pragma omp parallel for
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++)
            for (int k = 0; k < K; k++)
                C[i * N + j] += A[i * K + k] * B[k * N + j];
}
"""
SIZES = {"M": 128, "N": 128, "K": 128}
WITHIN = 1.05


def space():
    full = next(s for s in build_spaces(MATMUL, "cpp", "cpp", sequences=(("reorder", "split"),)))
    return full.restrict(split_tail=("guard",), omp_schedule=("static",), tensorize=(True,))


def measure_table(path: Path) -> dict:
    """{config key: {"median_s", "min_s"} or None (wrong/refused/failed)}, measured once and kept in `path`."""
    target = space()
    keys = {json.dumps(config_key(config)) for config in target.points()}
    table = {key: times for key, times in json.loads(path.read_text()).items()
             if key in keys and (times is None or isinstance(times, dict))} \
        if path.exists() else {}  # only this space's points: a table of another version of it is measured again
    module = parse(MATMUL, "cpp")
    entry = find_entry(module, "matmul")
    args, _ = make_inputs(MATMUL, "cpp", MATMUL, "cpp", entry, SIZES, seed=0)
    verify_args, _ = make_inputs(MATMUL, "cpp", MATMUL, "cpp", entry, None, seed=0)
    problem = Problem(MATMUL, "cpp", "cpp", "matmul", SIZES, None, args, verify_args, Repeats(warmup=1, repeats=5))
    device = LocalCPU()
    for number, config in enumerate(target.points()):
        key = json.dumps(config_key(config))
        if key in table:
            continue
        trial = evaluate(problem, target, config, device, number)
        table[key] = {"median_s": trial.time_s, "min_s": min(trial.measurement.times_s)} if trial.ok else None
        atomic_write_json(path, table)
        print(f"{number:3d} {trial.status:8s} {trial.time_s or 0:.5f} s  {config}", flush=True)
    atomic_write_json(path, table)
    return table


def seconds_by_point(table: dict, statistic: str) -> dict:
    return {key: times[statistic] if times else None for key, times in table.items()}


def evaluations_to_target(name: str, table: dict, seed: int, budget: int, **options) -> int | None:
    """table: {config key: seconds or None}."""
    target = space()
    best = min(t for t in table.values() if t is not None)
    strategy = load_strategy(name)(target, seed, **options)
    for n in range(1, budget + 1):
        config = strategy.ask()
        if config is None:
            return None
        seconds = table[json.dumps(config_key(config))]
        if seconds is not None and seconds <= WITHIN * best:
            return n
        strategy.tell(config, -1.0 / seconds if seconds else 0.0)
    return None


STRATEGIES = (("bayes (GP)", "bayes", {"surrogate": "GP"}), ("bayes (RF)", "bayes", {"surrogate": "RF"}),
              ("random", "random", {}), ("grid", "grid", {}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--budget", type=int, default=60)
    parser.add_argument("--table", type=Path, default=Path(__file__).resolve().parent / "results"
                        / "tune_strategies_table.json")
    parser.add_argument("--statistic", choices=("median_s", "min_s"), default="median_s")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--strategies", default=",".join(name for name, _, _ in STRATEGIES),
                        help="comma-separated labels of the strategies to replay (random is always replayed: the "
                             "ratios are to it)")
    options = parser.parse_args()
    start = time.perf_counter()
    table = seconds_by_point(measure_table(options.table), options.statistic)
    measured_s = time.perf_counter() - start
    valid = [t for t in table.values() if t is not None]
    good = sum(t <= WITHIN * min(valid) for t in valid)
    chosen = set(options.strategies.split(",")) | {"random"}
    unknown = chosen - {label for label, _, _ in STRATEGIES}
    if unknown:
        parser.error(f"unknown strategies {', '.join(sorted(unknown))}")
    rows = []
    for label, name, strategy_options in (s for s in STRATEGIES if s[0] in chosen):
        start = time.perf_counter()
        counts = [evaluations_to_target(name, table, seed, options.budget, **strategy_options)
                  for seed in range(options.seeds)]
        rows.append((label, counts, time.perf_counter() - start))
    lines = [f"space: {len(table)} points ({len(valid)} verified and timed; best {min(valid) * 1e3:.3f} ms, "
             f"worst {max(valid) * 1e3:.3f} ms; {good} within 5 % of the best), each point's "
             f"{options.statistic.replace('_s', '')} of its timed calls; table replayed "
             f"(measuring took {measured_s:.0f} s this run) on {LocalCPU().name}",
             f"budget {options.budget} evaluations, seeds 0..{options.seeds - 1} for every strategy; random search's "
             f"expected evaluations with {good} target points among {len(table)}: "
             f"{(len(table) + 1) / (good + 1):.1f}",
             "", "| strategy | reached | mean (reached) | mean (miss = budget + 1) | median | replay time |",
             "|---|---|---|---|---|---|"]
    means = {}
    for label, counts, seconds in rows:
        reached = [c for c in counts if c is not None]
        censored = [c if c is not None else options.budget + 1 for c in counts]
        means[label] = statistics.mean(censored)
        mean = f"{statistics.mean(reached):.1f}" if reached else "-"
        lines.append(f"| {label} | {len(reached)}/{len(counts)} | {mean} | {means[label]:.1f} | "
                     f"{statistics.median(censored):.0f} | {seconds:.0f} s |")
    ratios = [f"{label} {means[label] / means['random']:.2f}" for label, _, _ in rows if label.startswith("bayes")]
    if ratios:
        lines += ["", f"bayes / random (mean, misses counted as budget + 1): {', '.join(ratios)} (target <= 0.5)"]
    print("\n".join(lines))
    if options.out:
        options.out.write_text("# Tuning strategies: evaluations to reach within 5 % of the best\n\n"
                               "`python bench/tune_strategies.py --out bench/results/tune_strategies.md`\n\n"
                               + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
