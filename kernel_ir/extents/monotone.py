"""How an expression varies with one variable: the direction of its growth, and an upper bound with the floor
terms in that variable relaxed so that the direction can be told."""

from __future__ import annotations

import sympy as sp

from kernel_ir.extents.prover import nonneg, rational_bounds
from kernel_ir.extents.symbols import Max, Min


def monotonicity(e: sp.Expr, v: sp.Symbol) -> int | None:
    """+1 / -1 when e is (weakly) increasing / decreasing in v, 0 when independent, None when unknown."""
    if not e.has(v):
        return 0
    if e == v:
        return 1
    if e.is_Add or isinstance(e, (Min, Max)):
        return _combine(monotonicity(a, v) for a in e.args)
    if e.is_Mul:
        dependent = [f for f in e.args if f.has(v)]
        if len(dependent) != 1:
            return None
        inner = monotonicity(dependent[0], v)
        if not inner:
            return inner
        coeff = sp.Mul(*[f for f in e.args if not f.has(v)])
        if nonneg(coeff):
            return inner
        if nonneg(-coeff):
            return -inner
        return None
    if isinstance(e, (sp.floor, sp.ceiling)):
        return monotonicity(e.args[0], v)
    if e.is_Pow:
        base, exp = e.args
        if not base.has(v) and base.is_Number and base > 1:
            return monotonicity(exp, v)
        if not exp.has(v) and exp.is_Integer and exp > 0 and nonneg(base):
            return monotonicity(base, v)
        return None
    return None


def _combine(signs) -> int | None:  # noqa: ANN001 - any iterable of signs
    seen = set()
    for s in signs:
        if s is None:
            return None
        seen.add(s)
    seen.discard(0)
    if len(seen) > 1:
        return None
    return seen.pop() if seen else 0


def relax_floors(e: sp.Expr, v: sp.Symbol) -> sp.Expr | None:
    """An upper bound of e with the floor/ceiling terms that depend on v replaced by rational bounds."""
    e = sp.expand(e)
    changed = False
    for _ in range(4):
        atom = next((t for t in _integer_atoms(e) if t.has(v)), None)
        if atom is None:
            break
        rest, part = e.as_independent(atom, as_Add=True)
        coeff = sp.expand(part / atom)
        if coeff.has(atom):
            return None
        low, high = rational_bounds(atom)
        if nonneg(coeff) and high is not None:
            e = sp.expand(rest + coeff * high)
        elif nonneg(-coeff) and low is not None:
            e = sp.expand(rest + coeff * low)
        else:
            return None
        changed = True
    return e if changed else None


def _integer_atoms(e: sp.Expr) -> list[sp.Expr]:
    return [factor for term in sp.Add.make_args(e) for factor in sp.Mul.make_args(term)
            if isinstance(factor, (sp.floor, sp.ceiling))]


def is_linear(e: sp.Expr, v: sp.Symbol) -> bool:
    rest, part = sp.expand(e).as_independent(v, as_Add=True)
    return not sp.cancel(part / v).has(v)
