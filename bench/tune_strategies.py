"""Bayesian vs random vs grid search with the same budget on the same space.

The objective of every point of one small space (a naive matmul nest of our own, cpp -> cpp, loop order x split
x OpenMP threads) is measured once on this machine (translate, verify, time: autotune.evaluate), then every
strategy replays that table over many seeds: how many evaluations until the best found is within 5 % of the best
of the whole table. Replaying one table gives every strategy the same (noisy) numbers, so the comparison is about
the search, not about the noise. Target from the issue: Bayesian needs at most half of random's evaluations.

    python bench/tune_strategies.py [--seeds 30] [--budget 40] [--out bench/results/tune_strategies.md]
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
from kernel_ir.store import default_root  # noqa: E402
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
    return full.restrict(split_factor=(4, 16, 64), split_tail=("guard",), omp_schedule=("static",))


def measure_table(path: Path) -> dict:
    """{config key: seconds or None (wrong/refused/failed)}, measured once and kept in `path`."""
    table = json.loads(path.read_text()) if path.exists() else {}
    target = space()
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
        table[key] = trial.time_s
        path.write_text(json.dumps(table))
        print(f"{number:3d} {trial.status:8s} {trial.time_s or 0:.5f} s  {config}", flush=True)
    return table


def evaluations_to_target(name: str, table: dict, seed: int, budget: int) -> int | None:
    target = space()
    best = min(t for t in table.values() if t is not None)
    strategy = load_strategy(name)(target, seed)
    for n in range(1, budget + 1):
        config = strategy.ask()
        if config is None:
            return None
        seconds = table[json.dumps(config_key(config))]
        if seconds is not None and seconds <= WITHIN * best:
            return n
        strategy.tell(config, -1.0 / seconds if seconds else 0.0)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--budget", type=int, default=40)
    parser.add_argument("--table", type=Path, default=default_root() / "bench" / "tune_strategies_table.json")
    parser.add_argument("--out", type=Path, default=None)
    options = parser.parse_args()
    options.table.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    table = measure_table(options.table)
    measured_s = time.perf_counter() - start
    valid = [t for t in table.values() if t is not None]
    rows = []
    for name in ("bayes", "random", "grid"):
        start = time.perf_counter()
        counts = [evaluations_to_target(name, table, seed, options.budget) for seed in range(options.seeds)]
        reached = [c for c in counts if c is not None]
        rows.append((name, reached, len(counts), time.perf_counter() - start))
    lines = [f"space: {len(table)} points ({len(valid)} verified and timed; best {min(valid) * 1e3:.3f} ms, "
             f"worst {max(valid) * 1e3:.3f} ms), measured in {measured_s:.0f} s on {LocalCPU().name}",
             f"budget {options.budget} evaluations, {options.seeds} seeds, target: within 5 % of the best of the table",
             "", "| strategy | reached | mean evaluations | median | replay time |", "|---|---|---|---|---|"]
    for name, reached, total, seconds in rows:
        mean = f"{statistics.mean(reached):.1f}" if reached else "-"
        median = f"{statistics.median(reached):.0f}" if reached else "-"
        lines.append(f"| {name} | {len(reached)}/{total} | {mean} | {median} | {seconds:.0f} s |")
    means = {name: statistics.mean(reached) if reached else float("inf") for name, reached, _, _ in rows}
    lines += ["", f"bayes / random = {means['bayes'] / means['random']:.2f} (target <= 0.5); "
              "seeds that did not reach the target within the budget are left out of the means"]
    print("\n".join(lines))
    if options.out:
        options.out.write_text("# Tuning strategies: evaluations to reach within 5 % of the best\n\n"
                               "`python bench/tune_strategies.py --out bench/results/tune_strategies.md`\n\n"
                               + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
