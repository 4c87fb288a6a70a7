"""Path conditions in disjunctive normal form: a tuple of conjunctions, each a tuple of atoms `e <= 0` over
integers. None is an unknown condition (it constrains nothing, on either side of a branch)."""

from __future__ import annotations

import sympy as sp

Atom = sp.Expr
Conj = tuple[Atom, ...]
Cond = tuple[Conj, ...] | None
TRUE: Cond = ((),)
FALSE: Cond = ()
_COND_LIMIT = 16


def _clean(conj: Conj) -> Conj | None:
    """Drop atoms that are numerically true; None when one is numerically false."""
    kept = []
    for atom in conj:
        if atom.is_Number:
            if atom > 0:
                return None
            continue
        if atom not in kept:
            kept.append(atom)
    return tuple(kept)


def _dnf(conjs: list[Conj]) -> Cond:
    cleaned = [c for c in (_clean(c) for c in conjs) if c is not None]
    if any(not c for c in cleaned):
        return TRUE
    unique = list(dict.fromkeys(cleaned))
    return None if len(unique) > _COND_LIMIT else tuple(unique)


def cond_and(a: Cond, b: Cond) -> Cond:
    if a is None:
        return b
    if b is None:
        return a
    if len(a) * len(b) > _COND_LIMIT:
        return a if len(a) <= len(b) else b  # keep the smaller side: still implied by the conjunction
    return _dnf([x + y for x in a for y in b])


def cond_or(a: Cond, b: Cond) -> Cond:
    if a is None or b is None:
        return None
    return _dnf(list(a) + list(b))


def cond_not(c: Cond) -> Cond:
    if c is None:
        return None
    result: Cond = TRUE
    for conj in c:
        negated = _dnf([(1 - atom,) for atom in conj]) if conj else FALSE
        result = strict_and(result, negated)
        if result is None:
            return None
    return result


def strict_and(a: Cond, b: Cond) -> Cond:
    """Conjunction that gives up (None) rather than weaken, for negations."""
    if a is None or b is None or len(a) * len(b) > _COND_LIMIT:
        return None
    return _dnf([x + y for x in a for y in b])


def compare(op: str, a: sp.Expr, b: sp.Expr) -> Cond:
    if op == "<":
        return _dnf([(a - b + 1,)])
    if op == "<=":
        return _dnf([(a - b,)])
    if op == ">":
        return _dnf([(b - a + 1,)])
    if op == ">=":
        return _dnf([(b - a,)])
    if op == "==":
        return _dnf([(a - b, b - a)])
    return _dnf([(a - b + 1,), (b - a + 1,)])  # !=


def contradictory(atoms: list[Atom]) -> bool:
    """Atoms that cannot all hold: one is a positive number, or two sum to one (1 - ca <= 0, ca <= 0), up
    to a positive factor (c - 16*f - 16 >= 0 against 4*c - 64*f <= 0)."""
    for i, a in enumerate(atoms):
        if a.is_Number and a > 0:
            return True
        for b in atoms[i + 1:]:
            total = a + b
            if total.is_Number:
                if total > 0:
                    return True
                continue
            ratio = _scale(a, b)
            if ratio is not None and (a + ratio * b).is_Number and a + ratio * b > 0:
                return True
    return False


def _scale(a: sp.Expr, b: sp.Expr) -> sp.Expr | None:
    """A positive number k with a + k*b free of a's first symbol, if there is one."""
    symbols = sorted(a.free_symbols & b.free_symbols, key=str)
    if not symbols:
        return None
    ca, cb = sp.expand(a).coeff(symbols[0]), sp.expand(b).coeff(symbols[0])
    if ca.is_Number and cb.is_Number and cb != 0 and -ca / cb > 0:
        return -ca / cb
    return None
