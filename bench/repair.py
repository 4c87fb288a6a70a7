"""Repair benchmark: inject one fault into a correct program, then localize and repair it.

    python bench/repair.py [--ops relu,transpose,...] [--faults-per-program 3] [--execution-only 10] [-o FILE]
                           [--save-faults F.pkl | --load-faults F.pkl] [--rerun-failed bench/results/repair.md]

Programs: symbolic translations of corpus operators that verify against their source (cuda->cpp, cpp->cuda,
cuda->bang), plus the corpus's own BANG kernels for intrinsic lengths. Faults (deterministic seed): one integer
literal of an index, a loop bound or an intrinsic argument moved by 1 or 2, or +1 added where the expression
has no literal. A fault that does not change the outputs (an equivalent mutant) is skipped and counted.

Counted per fault: localized to the injected statement, repaired to a program verified against the source
(passes.verify), and the wall time. Two modes: `aligned` (the faulty program is compared with the correct
one, examples for Z3 come from the aligned statement) and `execution-only` (no statement is aligned; Z3
proposes changes and execution refutes them), the latter on a subset because each proposal is a build.

A full run takes about half an hour on a loaded 2-core machine, so two options make partial runs honest and
cheap: `--save-faults FILE` keeps the generated programs and faults (a pickle) and `--load-faults FILE` replays
them without translating and mutating again; `--rerun-failed REPORT` repairs only the faults a previous
report (this script's markdown) lists as not repaired, matched by mode, program, kind and fault.
"""
from __future__ import annotations

import argparse
import collections
import dataclasses
import math
import pickle
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import z3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kernel_ir.dialects import print_module  # noqa: E402
from kernel_ir.store import atomic_write_bytes  # noqa: E402
from kernel_ir.parse import parse  # noqa: E402
from passes.translate import translate  # noqa: E402
from passes.verify import verify  # noqa: E402
from synthesis.localize import replace_at  # noqa: E402
from synthesis.repair import RepairOptions, repair, sketch_sites  # noqa: E402
from synthesis.sketch import Sketch  # noqa: E402
from tests.corpus import corpus_files  # noqa: E402
from tests.corpus.specs import SPECS, make_args  # noqa: E402

OPS = ("relu", "add", "sigmoid", "transpose", "reduce_sum", "softmax", "gemv", "gemm", "concat", "layernorm")
DIRECTIONS = (("cuda", "cpp"), ("cpp", "cuda"), ("cuda", "bang"))
BANG_INTRINSIC_OPS = ("relu", "add", "sigmoid", "reduce_sum")
FAULT_KINDS = ("index", "loop_bound", "intrinsic")  # what the issue names: indices, bounds, lengths


@dataclasses.dataclass(frozen=True)
class Program:
    name: str
    source: str
    source_dialect: str
    code: str
    dialect: str
    entry: str
    args: list
    rtol: float
    atol: float


@dataclasses.dataclass(frozen=True)
class Fault:
    program: Program
    code: str
    function: str
    path: tuple
    kind: str
    description: str


def smallest(op: str) -> dict:
    return min(SPECS[op].sizes, key=lambda s: math.prod(v for v in s.values() if isinstance(v, int)))


def source_of(dialect: str, op: str) -> str:
    return next(path for d, name, path in corpus_files(dialect) if name == op).read_text()


def programs(ops: tuple[str, ...]) -> tuple[list[Program], list[str]]:
    """Correct programs to break: verified translations, and the corpus's BANG kernels (intrinsics)."""
    found, skipped = [], []
    for op in ops:
        spec, args = SPECS[op], make_args(SPECS[op], smallest(op))
        for source_dialect, target in DIRECTIONS:
            source = source_of(source_dialect, op)
            try:
                code = translate(source, target, source_dialect, native_compile=False).code
            except Exception as err:  # noqa: BLE001 - a refusal just leaves this direction out
                skipped.append(f"{op} {source_dialect}->{target}: {getattr(err, 'code', type(err).__name__)}")
                continue
            try:  # faults are injected into the parsed program and printed again: that must round-trip
                code = print_module(parse(code, target), target)
                parse(code, target)
            except Exception as err:  # noqa: BLE001
                skipped.append(f"{op} {source_dialect}->{target}: print(parse(translation)) does not parse "
                               f"({getattr(err, 'code', type(err).__name__)})")
                continue
            check = verify(source, source_dialect, code, target, op, args=args, rtol=spec.rtol, atol=spec.atol)
            if not check.verified:  # the translation, or its print(parse()) round trip, is not verified
                skipped.append(f"{op} {source_dialect}->{target}: {check.status}: {check.reason[:80]}")
                continue
            found.append(Program(f"{op} {source_dialect}->{target}", source, source_dialect, code, target, op, args,
                                 spec.rtol, spec.atol))
            print(f"program: {found[-1].name}", flush=True)
        if op in BANG_INTRINSIC_OPS:
            kernel = source_of("bang", op)
            found.append(Program(f"{op} bang kernel", kernel, "bang", print_module(parse(kernel, "bang"), "bang"),
                                 "bang", op, args, spec.rtol, spec.atol))
    return found, skipped


def faults(program: Program, count: int, rng: np.random.Generator) -> tuple[list[Fault], int]:
    """Up to `count` single faults that change the outputs, and how many equivalent mutants were skipped."""
    module = parse(program.code, program.dialect)
    kinds = ("intrinsic",) if program.name.endswith("bang kernel") else FAULT_KINDS
    sites = [s for s in sketch_sites(module, program.entry, None) if s[2] in kinds]
    made, equivalent = [], 0
    for index in rng.permutation(len(sites)):
        if len(made) >= count:
            break
        function, path, kind, expr = sites[index]
        mutated, description = mutate(expr, rng)
        broken = module.map_functions(lambda f: replace_at(f, path, mutated) if f.name == function else f)
        code = print_module(broken, program.dialect)
        check = verify(program.source, program.source_dialect, code, program.dialect, program.entry,
                       args=program.args, rtol=program.rtol, atol=program.atol)
        if check.verified:
            equivalent += 1
            continue
        made.append(Fault(program, code, function, path, kind, description))
    return made, equivalent


def mutate(expr, rng: np.random.Generator):
    """Move one literal by +-1 or +-2, or add +1 where there is no literal (a sketch with its holes pinned)."""
    sketch = Sketch(expr, ())
    pinned = z3.Solver()
    if not sketch.literals:
        pinned.add(sketch.offset == 1, *[h == v for h, (_, v) in zip(sketch.literal_holes, sketch.literals)])
        description = "+1 added"
    else:
        chosen = int(rng.integers(len(sketch.literals)))
        delta = int(rng.choice([-2, -1, 1, 2]))
        pinned.add(sketch.offset == 0, *[h == v + (delta if k == chosen else 0)
                                         for k, (h, (_, v)) in enumerate(zip(sketch.literal_holes, sketch.literals))])
        value = sketch.literals[chosen][1]
        description = f"literal {value} -> {value + delta}"
    pinned.check()
    return sketch.rebuild(pinned.model()), description


def run(fault: Fault, options: RepairOptions) -> dict:
    p = fault.program
    start = time.perf_counter()
    try:
        result = repair(fault.code, p.code, p.dialect, p.entry, p.args, spec=(p.source, p.source_dialect),
                        rtol=p.rtol, atol=p.atol, options=options)
    except Exception as err:  # noqa: BLE001 - a crash counts as a failure, with its message
        return {"program": p.name, "kind": fault.kind, "fault": fault.description, "localized": False,
                "repaired": False, "seconds": time.perf_counter() - start, "reason": f"crashed: {err!r}"}
    elapsed = time.perf_counter() - start
    if options.use_alignment:
        found = result.localization.difference if result.localization else None
        localized = found is not None and found.function == fault.function and \
            fault.path[:len(found.statement_path)] == found.statement_path
    else:
        localized = any(f.function == fault.function and f.path == fault.path for f in result.fixes)
    return {"program": p.name, "kind": fault.kind, "fault": fault.description, "localized": localized,
            "repaired": result.status == "repaired" and result.verified, "seconds": elapsed,
            "reason": result.reason[:160]}


def table(rows: list[dict]) -> str:
    lines = ["| mode | faults | localized | repaired (verified) | median s | max s |", "|---|---|---|---|---|---|"]
    for mode in sorted({r["mode"] for r in rows}):
        chosen = [r for r in rows if r["mode"] == mode]
        n = len(chosen)
        loc, rep = sum(r["localized"] for r in chosen), sum(r["repaired"] for r in chosen)
        times = [r["seconds"] for r in chosen]
        lines.append(f"| {mode} | {n} | {loc} ({100 * loc / n:.0f} %) | {rep} ({100 * rep / n:.0f} %) | "
                     f"{statistics.median(times):.1f} | {max(times):.1f} |")
    return "\n".join(lines)


def failed_rows(report: Path) -> collections.Counter:
    """(mode, program, kind, fault) of every row a previous report marks not repaired, with multiplicity."""
    failed: collections.Counter = collections.Counter()
    for line in report.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 8 and cells[5] == "False" and cells[0] in ("aligned", "execution-only"):
            failed[tuple(cells[:4])] += 1
    return failed


def chosen(mode: str, candidates: list[Fault], failed: collections.Counter | None) -> list[Fault]:
    """`candidates`, or only those `failed` lists for this mode (each listed row matches one fault)."""
    if failed is None:
        return candidates
    picked = []
    for fault in candidates:
        key = (mode, fault.program.name, fault.kind, fault.description)
        if failed[key] > 0:
            failed[key] -= 1
            picked.append(fault)
    return picked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", default=",".join(OPS))
    parser.add_argument("--faults-per-program", type=int, default=2)
    parser.add_argument("--execution-only", type=int, default=8, help="faults also repaired without alignment")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save-faults", type=Path, help="keep the generated programs and faults here (pickle)")
    parser.add_argument("--load-faults", type=Path, help="replay the programs and faults saved by --save-faults")
    parser.add_argument("--rerun-failed", type=Path, help="repair only the faults this report lists as failed")
    parser.add_argument("-o", "--output", type=Path)
    options = parser.parse_args()
    rng = np.random.default_rng(options.seed)
    start = time.perf_counter()
    if options.load_faults:
        found, skipped, all_faults, equivalent = pickle.loads(options.load_faults.read_bytes())
    else:
        found, skipped = programs(tuple(options.ops.split(",")))
        all_faults, equivalent = [], 0
        for program in found:
            made, same = faults(program, options.faults_per_program, rng)
            all_faults += made
            equivalent += same
        if options.save_faults:
            atomic_write_bytes(options.save_faults, pickle.dumps((found, skipped, all_faults, equivalent)))
    print(f"{len(found)} programs, {len(all_faults)} faults, {equivalent} equivalent mutants skipped", flush=True)
    failed = failed_rows(options.rerun_failed) if options.rerun_failed else None
    subset = all_faults[::max(1, len(all_faults) // max(1, options.execution_only))][:options.execution_only]
    rows = []
    for fault in chosen("aligned", all_faults, failed):
        rows.append({"mode": "aligned", **run(fault, RepairOptions())})
        print(rows[-1], flush=True)
    for fault in chosen("execution-only", subset, failed):
        rows.append({"mode": "execution-only", **run(fault, RepairOptions(use_alignment=False))})
        print(rows[-1], flush=True)
    if not rows:
        print("no faults chosen")
        return
    report = ["# Repair benchmark\n", f"`python bench/repair.py --ops {options.ops} --faults-per-program "
              f"{options.faults_per_program} --execution-only {options.execution_only} --seed {options.seed}"
              f"{f' --load-faults {options.load_faults}' if options.load_faults else ''}"
              f"{f' --rerun-failed {options.rerun_failed}' if options.rerun_failed else ''}` "
              f"({time.perf_counter() - start:.0f} s in all, CPU executor)\n",
              f"{len(found)} correct programs, {len(all_faults)} single faults that change the outputs "
              f"({equivalent} equivalent mutants skipped). Target: >= 90 % repaired, median < 30 s.\n",
              table(rows), "\n## Faults\n", "| mode | program | kind | fault | localized | repaired | s | note |",
              "|---|---|---|---|---|---|---|---|"]
    report += [f"| {r['mode']} | {r['program']} | {r['kind']} | {r['fault']} | {r['localized']} | {r['repaired']} | "
               f"{r['seconds']:.1f} | {r['reason'].replace('|', '/').replace(chr(10), ' ')[:100]} |" for r in rows]
    if skipped:
        report += ["\n## Programs left out\n", *[f"- {s}" for s in skipped]]
    text = "\n".join(report) + "\n"
    print(text)
    if options.output:
        options.output.write_text(text)


if __name__ == "__main__":
    main()
