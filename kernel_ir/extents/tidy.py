"""Tidying a bound for people: provably dominated Min/Max arguments and provable case conditions dropped. The
value never changes (apart from the covering-launch rule), so tidying stops when its budget runs out. The budget
counts proofs and prover work, never seconds: a loaded machine tidies exactly as much as an idle one."""

from __future__ import annotations

import math
from dataclasses import dataclass

import sympy as sp

from kernel_ir.extents.monotone import monotonicity
from kernel_ir.extents.prover import (
    assuming, canon, current_facts, fact_forms, nonneg, provably_le, samples, too_big, work_done,
)
from kernel_ir.extents.symbols import THREAD_DIMS, Max, Min, When

TIDY_PROOFS = 200
TIDY_WORK = 100_000  # units of prover work per extent (5 to 8 s of SymPy for the costliest corpus extents)


def _grows_with_launch(e: sp.Expr) -> bool:
    """e depends on the CUDA/HIP grid or block size and never decreases when they grow."""
    if isinstance(e, When):  # its conditions only get easier to meet as the launch grows
        e = e.args[0]
    dims = e.free_symbols & THREAD_DIMS
    return bool(dims) and all(monotonicity(e, d) in (0, 1) for d in dims)


@dataclass
class Budget:
    """How many more dominance proofs a tidy-up may attempt, and the prover's work count at which it stops
    (tidying is cosmetic: the values do not change, so it stops rather than hold the analysis up)."""

    proofs: int
    work_limit: float = math.inf

    def spend(self, count: int = 1) -> bool:
        """Take `count` proofs from the budget; False when it is exhausted."""
        if self.proofs < count or work_done() > self.work_limit:
            self.proofs = 0
            return False
        self.proofs -= count
        return True


def tidy(e: sp.Expr, launch_free: bool, budget: Budget | None = None, strip: bool = True) -> sp.Expr:
    """Drop provably dominated Min/Max arguments and provable case conditions; with launch_free, drop the Min
    arguments that grow with the grid/block size when others do not (the launch is assumed to cover the
    range a guard allows). strip: also drop case conditions whose failure leaves a value <= 0 (extents
    are clamped at 0); not done inside a Min/Max, where the conditions still help to compare arguments."""
    budget = budget or Budget(TIDY_PROOFS)
    if not e.args or not e.has(Min, Max, When):
        return e
    inner = not isinstance(e, (Min, Max))
    args = [tidy(a, launch_free, budget, strip and inner) for a in e.args]
    if isinstance(e, When):
        value, pending = args[0], []
        for atom in args[1:]:
            if launch_free and atom.free_symbols & THREAD_DIMS and all(
                    monotonicity(atom, d) in (0, -1) for d in atom.free_symbols & THREAD_DIMS):
                continue  # holds once the launch is large enough, which a covering launch is
            if not budget.spend() or not nonneg(-atom):
                pending.append(atom)
        return _strip(value, pending, budget) if strip else (When(value, *pending) if pending else value)
    if isinstance(e, (Min, Max)):
        flat: list[sp.Expr] = []
        for a in args:
            flat.extend(a.args if type(a) is type(e) else [a])
        if launch_free and isinstance(e, Min):
            free = [a for a in flat if not _grows_with_launch(a)]
            flat = free or flat
        pruned = _prune(flat, isinstance(e, Max), budget)
        if strip and isinstance(pruned, When):
            return _strip(pruned.args[0], list(pruned.args[1:]), budget)
        if strip and isinstance(pruned, (Min, Max)):
            return type(pruned)(*[_strip(a.args[0], list(a.args[1:]), budget) if isinstance(a, When) else a
                                  for a in pruned.args])
        return pruned
    return e.func(*args)


def _strip(value: sp.Expr, conditions: list[sp.Expr], budget: Budget) -> sp.Expr:
    """When(value, conditions) without the conditions that every positive size meets (dropping one only
    makes the bound larger, and sizes of 0 are degenerate), or value alone where every failing condition
    leaves value <= 0."""
    pending = []
    for atom in conditions:
        sizes = tuple(s - 1 for s in sorted(atom.free_symbols, key=sp.default_sort_key) if s.is_nonnegative)
        with assuming(sizes):
            if not budget.spend() or not nonneg(-atom):
                pending.append(atom)
    if not pending:
        return value
    if budget.spend(len(pending)) and all(_nonpositive_unless(value, atom) for atom in pending):
        return value
    return When(value, *pending)


def _nonpositive_unless(value: sp.Expr, atom: sp.Expr) -> bool:
    """value <= 0 wherever atom <= 0 fails (atom >= 1), on top of the facts already assumed."""
    with assuming(current_facts() + fact_forms([atom - 1])):
        return nonneg(-value)


def finish(e: sp.Expr, launch_free: bool, budget: Budget) -> sp.Expr:
    """tidy(canon(e)), except that a very large bound is left as it is (apart from the launch rule): it
    evaluates all the same, and tidying it would take long."""
    if too_big(e):
        return tidy(e, launch_free, Budget(0))
    return tidy(canon(e), launch_free, budget)


def _prune(args: list[sp.Expr], is_max: bool, budget: Budget) -> sp.Expr:
    """Max (is_max) or Min of args without the arguments another one provably dominates. Sample values
    order the candidates and skip comparisons a sample already contradicts."""
    if budget.proofs <= 0 or work_done() > budget.work_limit:
        unique = list(dict.fromkeys(args))
        return unique[0] if len(unique) == 1 else (Max if is_max else Min)(*unique)
    sign = 1 if is_max else -1
    valued = [(a, samples(a)) for a in args]
    valued.sort(key=lambda item: -sign * max(item[1]) if item[1] else 0.0)

    def dominated(a: tuple, by: tuple) -> bool:
        """a may go: a <= by in a Max, by <= a in a Min (as far as extents clamped at 0 can tell)."""
        if a[1] is not None and by[1] is not None and any(sign * (x - y) > 0 for x, y in zip(a[1], by[1])):
            return False
        low, high = (a[0], by[0]) if is_max else (by[0], a[0])
        # When(v, c) is v where c holds and -oo elsewhere: low <= high needs, where low's conditions hold,
        # low <= high's value under high's conditions and low <= 0 where one of those fails
        low_value, low_conditions = (low.args[0], low.args[1:]) if isinstance(low, When) else (low, ())
        high_value, high_conditions = (high.args[0], high.args[1:]) if isinstance(high, When) else (high, ())
        if low_value == high_value and not high_conditions:
            return True
        if not budget.spend(1 + len(high_conditions)):
            return False
        with assuming(fact_forms(-atom for atom in low_conditions + high_conditions)):
            if not provably_le(low_value, high_value):
                return False
        with assuming(fact_forms(-atom for atom in low_conditions)):
            return all(_nonpositive_unless(low_value, atom) for atom in high_conditions)

    kept: list[tuple] = []
    for item in valued:
        if any(dominated(item, k) for k in kept):
            continue
        kept = [k for k in kept if not dominated(k, item)]
        kept.append(item)
    result = [a for a, _ in kept]
    return result[0] if len(result) == 1 else (Max if is_max else Min)(*result)
