"""Repair: turn the localized fault into a sketch with holes, solve it with Z3, re-verify by execution.

Two ways to get the spec a solution must meet, both bounded (solver timeouts, an execution budget, a deadline)
so that a repair out of reach is reported as such instead of hanging:

- **Examples from the reference** (`z3-examples`): the aligned reference statement gives the access pattern.
  Each example is a point (values of the variables and atoms, small values first) and the index the reference
  computes there; Z3 finds the hole values with the fewest changes that reproduce every example, more examples
  with larger values are checked and any counterexample is added (CEGIS), and SymPy then proves the repaired
  expression and the reference's equal as polynomials (affine maps included). A hole in a nonlinear place
  (divisor, modulus, shift amount, a factor times another hole) ranges over a bounded candidate set instead
  (synthesis.sketch), so Z3 never faces nonlinear integer arithmetic; the proof says how many were enumerated.
- **Examples from execution** (`z3-cegis`): when the candidate has no aligned counterpart (an LLM wrote it
  another way), the holes are the literals and offsets of the integer expressions of the divergent stage
  (intrinsic lengths first, then loop bounds, indices, conditions); Z3 proposes single-hole changes of growing
  size, each proposal is executed against the reference's buffers, and a refuted one is blocked.

Candidate runs get a short timeout (RepairOptions.run_timeout_s): a fault that makes a loop endless is a
failed run after seconds, not a two-minute hang per run that eats the budget.

A repair is reported only after `passes.verify.verify` ran the repaired program against the source (or the
reference) and they agreed; the change is shown as a unified diff with the reason.
"""
from __future__ import annotations

import dataclasses
import difflib
import time
from dataclasses import dataclass, field

import numpy as np
import z3

from kernel_ir.diagnostics import XpilerError
from kernel_ir.dialects import print_module
from kernel_ir.ir import BinOp, Call, Const, Decl, Expr, For, If, Index, Module, Node, ScalarType, Var, walk
from kernel_ir.parse import parse
from passes.verify import Verification, verify
from synthesis.localize import (
    CANDIDATE_TIMEOUT_S, Difference, Localization, Path, agree, is_intrinsic, localize, node_at, replace_at,
    run_outputs, stages,
)
from synthesis.sketch import Sketch, evaluate, is_integer_arithmetic, names, normal_form, proved_equal

SOLVER_TIMEOUT_MS = 5000
SMALL_VALUES = (1, 9)  # example values first drawn from here ("small shapes first")
LARGE_VALUES = (1, 1000)
MAX_ALIGNED_DIFFERENCES = 4  # more differences than this: another program, not a faulty copy
REPAIRABLE = ("index", "loop_bound", "condition", "intrinsic", "integer", "other")


@dataclass(frozen=True)
class RepairOptions:
    """Bounds on the work: rounds of localize+solve, executions of the CEGIS search, and a deadline."""

    max_rounds: int = 3
    max_runs: int = 24
    deadline_s: float = 120.0
    max_delta: int = 4  # largest change of one literal the execution search tries
    seed: int = 0
    use_alignment: bool = True  # False: examples from execution only (measures the CEGIS path alone)
    run_timeout_s: float = CANDIDATE_TIMEOUT_S  # per candidate run: longer is a hang, not a slow kernel


@dataclass(frozen=True)
class Fix:
    """One hole-filling: which expression, from what to what, and why it is right."""

    function: str
    path: Path
    kind: str
    statement: str
    before: str
    after: str
    method: str  # z3-examples | z3-cegis
    proof: str

    def to_json(self) -> dict:
        return {**self.__dict__, "path": [list(step) for step in self.path]}


@dataclass(frozen=True)
class Repair:
    """status: repaired (verified by execution) | agrees (nothing to repair) | out_of_reach (reason says why)."""

    status: str
    reason: str
    code: str | None = None
    diff: str = ""
    fixes: tuple[Fix, ...] = ()
    localization: Localization | None = None
    verification: Verification | None = None
    elapsed_s: float = 0.0
    runs: int = 0
    solver_calls: int = 0

    @property
    def verified(self) -> bool:
        return self.verification is not None and self.verification.verified

    def to_json(self) -> dict:
        return {"status": self.status, "reason": self.reason, "diff": self.diff,
                "fixes": [f.to_json() for f in self.fixes],
                "localization": self.localization.to_json() if self.localization else None,
                "verification": self.verification.to_json() if self.verification else None,
                "elapsed_s": round(self.elapsed_s, 3), "runs": self.runs, "solver_calls": self.solver_calls}


@dataclass
class _Budget:
    options: RepairOptions
    start: float = field(default_factory=time.perf_counter)
    runs: int = 0
    solver_calls: int = 0

    def expired(self) -> bool:
        return time.perf_counter() - self.start > self.options.deadline_s or self.runs >= self.options.max_runs


def repair(candidate: str, reference: str, dialect: str, entry: str, args: list,
           spec: tuple[str, str] | None = None, rtol: float = 1e-4, atol: float = 1e-4,
           options: RepairOptions | None = None) -> Repair:
    """Repair `candidate` toward `reference` (same dialect) and verify the result against `spec`.

    spec: (source code, source dialect) the repaired program must agree with (default: the reference itself).
    args: the inputs every execution uses (localization, CEGIS and the final verification).
    """
    options = options or RepairOptions()
    budget = _Budget(options)
    try:
        module = parse(candidate, dialect)
    except XpilerError as err:
        return Repair("out_of_reach", f"the candidate does not parse: {err.diagnostic}")
    original = print_module(module, dialect)
    ref_module = parse(reference, dialect)
    fixes: list[Fix] = []
    first: Localization | None = None
    for _ in range(options.max_rounds):
        if budget.expired():
            return _out_of_reach("the repair budget ran out", first, fixes, budget)
        found = localize(module, ref_module, dialect, entry, args, rtol, atol, options.run_timeout_s)
        budget.runs += found.runs
        first = first or found
        if found.status == "agrees":
            break
        if found.status != "localized":
            return _out_of_reach(found.reason, first, fixes, budget)
        fixed = _fix_statement(module, ref_module, found, options, budget) if options.use_alignment else None
        if fixed is None:
            fixed = _search_by_execution(module, ref_module, found, dialect, entry, args, rtol, atol, budget)
        if fixed is None:
            return _out_of_reach(f"{found.reason}: no hole values reproduce the reference "
                                 f"({'budget spent' if budget.expired() else 'outside the sketch'})",
                                 first, fixes, budget)
        module, new_fixes = fixed
        fixes.extend(new_fixes)
    else:
        return _out_of_reach(f"still diverging after {options.max_rounds} rounds", first, fixes, budget)
    if not fixes:
        return Repair("agrees", "the candidate already agrees with the reference", localization=first,
                      elapsed_s=time.perf_counter() - budget.start, runs=budget.runs)
    code = print_module(module, dialect)
    source, source_dialect = spec or (reference, dialect)
    check = verify(source, source_dialect, code, dialect, entry, args=args, rtol=rtol, atol=atol)
    budget.runs += 2
    diff = "".join(difflib.unified_diff(original.splitlines(True), code.splitlines(True), "candidate", "repaired",
                                        n=1))
    reason = "; ".join(f"{f.kind} in `{f.statement}`: `{f.before}` -> `{f.after}` ({f.proof})" for f in fixes)
    status = "repaired" if check.verified else "out_of_reach"
    if not check.verified:
        reason = f"the repaired program is not verified ({check.status}: {check.reason}); tried: {reason}"
    return Repair(status, reason, code if check.verified else None, diff, tuple(fixes), first, check,
                  time.perf_counter() - budget.start, budget.runs, budget.solver_calls)


def _out_of_reach(reason: str, found: Localization | None, fixes: list[Fix], budget: _Budget) -> Repair:
    return Repair("out_of_reach", reason, None, "", tuple(fixes), found, None, time.perf_counter() - budget.start,
                  budget.runs, budget.solver_calls)


# ------------------------------------------------------------------------------- examples from the reference ---

def _fix_statement(module: Module, reference: Module, found: Localization, options: RepairOptions,
                   budget: _Budget) -> tuple[Module, list[Fix]] | None:
    """Solve every integer difference of the localized statement from the reference's examples."""
    target = found.difference
    far_apart = len(found.differences) > MAX_ALIGNED_DIFFERENCES or any(d.kind == "structure"
                                                                         for d in found.differences)
    if target.kind not in REPAIRABLE or far_apart:  # the trees are not one program with a fault
        return None
    roots: dict[Path, Difference] = {}
    for d in found.differences:
        if d.function == target.function and d.statement_path == target.statement_path:
            roots.setdefault(d.root_path, d)
    fixes = []
    for root_path, d in roots.items():
        cand_expr = node_at(module.function(d.function), root_path)
        ref_expr = node_at(reference.function(d.function), d.reference_root_path)
        if not (is_integer_arithmetic(cand_expr) and is_integer_arithmetic(ref_expr)):
            return None
        in_scope = {n.name for n in walk(module.function(d.function)) if isinstance(n, Var)}
        solved, proof = solve_expression(cand_expr, ref_expr, options.seed, budget, in_scope)
        if solved is None:
            return None
        module = module.map_functions(lambda f, p=root_path, e=solved, name=d.function:
                                      replace_at(f, p, e) if f.name == name else f)
        fixes.append(Fix(d.function, root_path, d.kind, found.statement, normal_form(cand_expr), normal_form(solved),
                         "z3-examples", proof))
    return module, fixes


def solve_expression(candidate: Expr, reference: Expr, seed: int, budget: _Budget,
                     in_scope: set[str] | None = None, rounds: int = 4) -> tuple[Expr | None, str]:
    """Hole values for `candidate` that make it compute `reference`'s values (fewest changes), and the proof.

    in_scope: names the candidate's code knows (a variable hole never takes a name the candidate lacks).
    """
    known = {n.name for n in walk(candidate) if isinstance(n, Var)}
    wanted = {n.name for n in walk(reference) if isinstance(n, Var)}
    variables = tuple(sorted(known | (wanted & in_scope if in_scope is not None else wanted)))
    constants = tuple(int(n.value) for n in walk(reference) if isinstance(n, Const) and is_integer_arithmetic(n))
    sketch = Sketch(candidate, variables, constants)
    enumerated = f"; {sketch.describe_enumerated()}" if sketch.enumerated else ""
    needed = sorted(names(candidate) | names(reference))
    rng = np.random.default_rng(seed)
    holes = len(sketch.literals) + len(sketch.occurrences) + 1
    examples = [_point(rng, needed, SMALL_VALUES) for _ in range(holes + 4)]
    for _ in range(rounds):
        optimizer = z3.Optimize()
        optimizer.set(timeout=SOLVER_TIMEOUT_MS)
        optimizer.add(*sketch.domain())
        for point in examples:
            optimizer.add(sketch.evaluate(point) == evaluate(reference, point))
        for change in sketch.changes()[:-1]:
            optimizer.add_soft(z3.Not(change), weight=4)
        optimizer.add_soft(sketch.offset == 0, weight=8)  # change a written literal before inventing an offset
        for hole in sketch.enumerated_holes():  # among equal changes, a value the reference writes
            optimizer.add_soft(z3.Or(*[hole == v for v in constants]) if constants else z3.BoolVal(False))
        budget.solver_calls += 1
        verdict = optimizer.check()
        if verdict != z3.sat:
            return None, ("the solver timed out" if verdict == z3.unknown else "no hole values fit the examples") \
                + enumerated
        repaired = sketch.rebuild(optimizer.model())
        if proved_equal(repaired, reference):
            return repaired, f"SymPy proves it equal to the reference's `{normal_form(reference)}`{enumerated}"
        checks = [_point(rng, needed, LARGE_VALUES) for _ in range(64)]
        counter = [p for p in checks if evaluate(repaired, p) != evaluate(reference, p)]
        if not counter:
            return repaired, f"agrees with the reference's `{normal_form(reference)}` on {len(examples) + 64} " \
                             f"examples (not provable by SymPy: division or modulo){enumerated}"
        examples.extend(counter[:4])
    return None, f"no hole values fit the examples{enumerated}"


def _point(rng: np.random.Generator, needed: list[str], bounds: tuple[int, int]) -> dict[str, int]:
    return {name: int(rng.integers(*bounds)) for name in needed}


# ------------------------------------------------------------------------------- examples from execution ------

RANK = {"intrinsic": 0, "loop_bound": 1, "index": 2, "condition": 3, "integer": 4}


def _search_by_execution(module: Module, reference: Module, found: Localization, dialect: str, entry: str,
                         args: list, rtol: float, atol: float,
                         budget: _Budget) -> tuple[Module, list[Fix]] | None:
    """CEGIS over single-hole changes in the divergent stage, each proposal checked by running it.

    Breadth first: every site's literal changes of size 1, then its offsets of size 1, then size 2, ... so a
    deep site costs no more than a shallow one; Z3 enumerates the proposals of one size and site, and a
    proposal refuted by execution is blocked.
    """
    expected = run_outputs(reference, dialect, entry, args)
    sites = sketch_sites(module, entry, found.stage)
    phases = [(delta, offset) for delta in range(1, budget.options.max_delta + 1) for offset in (False, True)]
    for delta, offset in phases:  # a written literal is changed before a new offset is invented
        for function, path, kind, expr in sites:
            sketch = Sketch(expr, ())
            holes = [*sketch.literal_holes, sketch.offset]
            originals = [v for _, v in sketch.literals] + [0]
            moved = [z3.Or(h - v == delta, v - h == delta) for h, v in zip(holes, originals)]
            solver = z3.Solver()
            solver.set(timeout=SOLVER_TIMEOUT_MS)
            solver.add(z3.Sum([z3.If(c, 1, 0) for c in sketch.changes()]) == 1)
            solver.add(moved[-1] if offset else z3.Or(False, *moved[:-1]))
            while not budget.expired():
                budget.solver_calls += 1
                if solver.check() != z3.sat:
                    break
                model = solver.model()
                solver.add(z3.Or(*[h != model.eval(h, model_completion=True) for h in holes]))
                repaired = sketch.rebuild(model)
                trial = module.map_functions(lambda f: replace_at(f, path, repaired) if f.name == function else f)
                budget.runs += 1
                try:
                    outputs = run_outputs(trial, dialect, entry, args, budget.options.run_timeout_s)
                except XpilerError:
                    continue
                if agree(expected, outputs, rtol, atol):
                    proof = f"its buffers agree with the reference's (run {budget.runs} of the search)"
                    return trial, [Fix(function, path, kind, kind, normal_form(expr), normal_form(repaired), "z3-cegis",
                                       proof)]
            if budget.expired():
                return None
    return None


def sketch_sites(module: Module, entry: str, stage: int | None) -> list[tuple[str, Path, str, Expr]]:
    """Integer expressions of the divergent stage (all stages when unknown), most suspicious kind first."""
    all_stages = stages(module, entry)
    chosen = all_stages[stage - 1:stage] if stage else all_stages
    sites: list[tuple[int, str, Path, str, Expr]] = []
    for s in chosen:
        roots = [(s.function, s.path)] + [(name, ()) for name in sorted(s.functions)]
        for function, path in roots:
            _collect(node_at(module.function(function), path), function, path, sites)
    sites.sort(key=lambda site: site[0])
    return [site[1:] for site in sites]


def _collect(node, function: str, path: Path, sites: list) -> None:
    """Integer-expression roots under `node` with their kind (a small walk that keeps the paths)."""

    def add(kind: str, expr: Expr, where: Path) -> None:
        if is_integer_arithmetic(expr) and not (kind != "loop_bound" and isinstance(expr, Var)):
            sites.append((RANK[kind], function, where, kind, expr))

    def visit(n, where: Path) -> None:
        if isinstance(n, Call) and is_intrinsic(n.name):
            for i, a in enumerate(n.args):
                add("intrinsic", a, where + (("args", i),))
        if isinstance(n, Index):
            add("index", n.index, where + (("index", None),))
        if isinstance(n, For) and isinstance(n.cond, BinOp):
            add("loop_bound", n.cond.rhs, where + (("cond", None), ("rhs", None)))
        if isinstance(n, If) and isinstance(n.cond, BinOp):
            add("condition", n.cond.rhs, where + (("cond", None), ("rhs", None)))
        if isinstance(n, Decl) and isinstance(n.type, ScalarType) and n.type.dtype.is_int and n.init is not None:
            add("integer", n.init, where + (("init", None),))
        if not isinstance(n, Node):
            return
        for f in dataclasses.fields(n):
            value = getattr(n, f.name)
            if isinstance(value, tuple):
                for i, v in enumerate(value):
                    if isinstance(v, Node):
                        visit(v, where + ((f.name, i),))
            elif isinstance(value, Node):
                visit(value, where + ((f.name, None),))

    visit(node, path)
