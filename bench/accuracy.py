"""Translation accuracy over the corpus: every direction (source x target over cuda, hip, bang, cpp) on every
operator, at the spec's smallest sizes, checked by execution against the source on the spec's inputs (or, with
--inputs generated, on the sizes and data passes/verify chooses itself, as for a kernel it has never seen).

Each kernel runs in its own subprocess with a timeout, so one hang or crash costs one row. Statuses:
  verified   translated, compiled, and the result agreed with the source within the spec's tolerance
  compiled   translated and compiled, but not checked by execution (the source could not run here)
  failed     translated, but the result did not compile or did not run
  MISMATCH   translated, ran, and disagreed with the source: a wrong result (the one thing never allowed)
  refused    a coded XpilerError (a pass said why it cannot translate this kernel)
  timeout / crash   the subprocess ran out of time / died without a coded answer

    python bench/accuracy.py [--directions cuda-bang,hip-cpp] [--ops relu,gemm] [--jobs 2] [--json out.json]
                             [--native] [--timeout 300] [--inputs spec|generated] [--markdown bench/results/accuracy.md]
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from passes.translate import DIALECTS  # noqa: E402
from tests.corpus import corpus_files  # noqa: E402
from tests.corpus.specs import SPECS  # noqa: E402
from tests.styles import specs as styles  # noqa: E402

# --kernels: the corpus (one kernel per operator and dialect) or tests/styles (kernels in varied styles)
KERNEL_SETS = {"corpus": (corpus_files, SPECS), "styles": (lambda dialect: styles.style_kernels(dialect), styles.SPECS)}

COMPILED = ("verified", "compiled", "MISMATCH")  # statuses whose translation compiled


@dataclass(frozen=True)
class Row:
    source: str
    target: str
    op: str
    status: str
    code: str = ""  # the XpilerError code of a refusal or failure
    detail: str = ""
    translate_s: float | None = None  # translation time (passes + compile checks), verification excluded


def smallest_sizes(spec) -> dict:
    return min(spec.sizes, key=lambda s: math.prod(v for v in s.values() if isinstance(v, int)))


def run_one(source_dialect: str, target: str, op: str, native: bool, kernels: str = "corpus",
            inputs: str = "spec") -> Row:
    """One translation and its check, in this process (the parent runs this in a subprocess).

    inputs: "spec" checks on the spec's arguments at its smallest sizes; "generated" lets verify choose sizes and
    data itself, as `xpile translate` does when the user gives none (what a kernel never seen before gets)."""
    from kernel_ir.diagnostics import XpilerError
    from passes.translate import translate
    from passes.verify import verify_translation
    from tests.corpus.specs import make_args

    files, specs = KERNEL_SETS[kernels]
    found = [p for d, name, p in files(source_dialect) if name == op]
    if not found:
        return Row(source_dialect, target, op, "absent", "", f"no {source_dialect} kernel {op}")
    source = found[0].read_text()
    spec = specs[op]
    try:
        translation = translate(source, target, source_dialect, native_compile=native)
    except XpilerError as err:
        return Row(source_dialect, target, op, "refused", err.code, str(err.diagnostic)[:300])
    elapsed = round(translation.elapsed_s, 3)
    broken = [c for c in translation.compile_results if c.ok is False]
    if broken:
        return Row(source_dialect, target, op, "failed", "XP201", f"{broken[0].tool}: {broken[0].output[-300:]}",
                   elapsed)
    given = make_args(spec, smallest_sizes(spec)) if inputs == "spec" else None
    check = verify_translation(source, source_dialect, translation, args=given, rtol=spec.rtol, atol=spec.atol)
    status = {"verified": "verified", "mismatch": "MISMATCH", "failed": "failed"}.get(check.status, "compiled")
    return Row(source_dialect, target, op, status, "", "" if status == "verified" else check.reason[:300], elapsed)


def run_isolated(source_dialect: str, target: str, op: str, native: bool, timeout_s: float, kernels: str,
                 inputs: str) -> Row:
    command = [sys.executable, __file__, "--one", source_dialect, target, op, "--kernels", kernels,
               "--inputs", inputs] + (["--native"] if native else [])
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return Row(source_dialect, target, op, "timeout", "", f"no answer within {timeout_s:g} s")
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return Row(source_dialect, target, op, "crash", "", (proc.stderr or proc.stdout)[-300:])
    return Row(**json.loads(lines[-1]))


def table(rows: list[Row]) -> str:
    lines = ["| direction | kernels | compiled % | verified % | refused | failed | wrong | median s | max s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    directions = sorted({(r.source, r.target) for r in rows}, key=lambda d: (DIALECTS.index(d[0]),
                                                                            DIALECTS.index(d[1])))
    for source, target in directions + [("all", "all")]:
        group = [r for r in rows if (source == "all" or (r.source, r.target) == (source, target))]
        times = [r.translate_s for r in group if r.translate_s is not None]
        count = len(group)
        compiled = sum(r.status in COMPILED for r in group)
        verified = sum(r.status == "verified" for r in group)
        name = "all directions" if source == "all" else f"{source} -> {target}"
        lines.append(f"| {name} | {count} | {100 * compiled / count:.0f} | {100 * verified / count:.0f} "
                     f"| {sum(r.status == 'refused' for r in group)} "
                     f"| {sum(r.status in ('failed', 'timeout', 'crash') for r in group)} "
                     f"| {sum(r.status == 'MISMATCH' for r in group)} "
                     f"| {statistics.median(times) if times else float('nan'):.2f} "
                     f"| {max(times) if times else float('nan'):.2f} |")
    return "\n".join(lines)


def failures(rows: list[Row]) -> str:
    bad = [r for r in rows if r.status != "verified"]
    return "\n".join(f"- {r.source} -> {r.target} {r.op}: {r.status} {r.code} {r.detail}".replace("\n", " ")
                     for r in bad) or "(none)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--directions", help="comma-separated source-target pairs (default: all 12)")
    parser.add_argument("--ops", help="comma-separated operators (default: the whole corpus)")
    parser.add_argument("--kernels", choices=sorted(KERNEL_SETS), default="corpus")
    parser.add_argument("--inputs", choices=("spec", "generated"), default="spec",
                        help="check on the spec's arguments, or on inputs verify generates (as the CLI without --size)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per kernel")
    parser.add_argument("--native", action="store_true", help="also compile with nvcc/hipcc/g++ when installed")
    parser.add_argument("--json", type=Path, help="write every row here (appended as they finish)")
    parser.add_argument("--resume", type=Path, help="rows of an earlier --json file to keep instead of rerunning")
    parser.add_argument("--no-run", action="store_true", help="only tabulate the --resume rows (an interrupted sweep)")
    parser.add_argument("--markdown", type=Path, help="write the table and failures here")
    parser.add_argument("--one", nargs=3, metavar=("SOURCE", "TARGET", "OP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(asdict(run_one(*args.one, native=args.native, kernels=args.kernels, inputs=args.inputs))))
        return
    directions = ([tuple(d.split("-")) for d in args.directions.split(",")] if args.directions
                  else [(s, t) for s in DIALECTS for t in DIALECTS if s != t])
    files, specs = KERNEL_SETS[args.kernels]
    ops = args.ops.split(",") if args.ops else sorted(specs)
    # operator-major, so that an interrupted sweep still covers every direction
    present = {(d, name) for d in DIALECTS for _, name, _ in files(d)}
    wanted = [(s, t, op) for op in ops for s, t in directions if (s, op) in present]
    kept = [Row(**r) for r in json.loads(args.resume.read_text())] if args.resume else []
    rows = [r for r in kept if (r.source, r.target, r.op) in set(wanted)]
    done = {(r.source, r.target, r.op) for r in rows}
    jobs = [] if args.no_run else [job for job in wanted if job not in done]
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for row in pool.map(lambda job: run_isolated(*job, args.native, args.timeout, args.kernels, args.inputs), jobs):
            rows.append(row)
            if args.json:
                args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1))
            print(f"{row.source:>4} -> {row.target:<4} {row.op:<18} {row.status:<9} {row.code:<6} "
                  f"{row.translate_s if row.translate_s is not None else '':>7} {row.detail[:120]}".rstrip(), flush=True)
    report = (f"{table(rows)}\n\nNot verified:\n{failures(rows)}\n\n"
              f"{len(rows)} translations ({len(jobs)} run now) in {time.perf_counter() - start:.0f} s wall, {args.jobs} jobs, "
              f"{'with' if args.native else 'without'} native toolchain compiles.")
    print(report)
    if args.markdown:
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(f"# Translation accuracy ({stamp})\n\nCommand: `python bench/accuracy.py "
                                 f"{' '.join(sys.argv[1:])}`\n\n{report}\n")


if __name__ == "__main__":
    main()
