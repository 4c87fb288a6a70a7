"""The sound algebra under the bounds. Everything here is conservative: `nonneg` answers True only with a proof,
`lift` and `floordiv` are exact rewrites (floordiv assumes a positive divisor)."""

from __future__ import annotations

import contextlib
import functools
import zlib
from collections.abc import Iterable, Iterator

import sympy as sp

from kernel_ir.extents.conditions import contradictory
from kernel_ir.extents.symbols import Max, Min, Sel, When

_LIFT_LIMIT = 24
_PROOF_DEPTH = 8
_SIZE_LIMIT = 400  # nodes: a larger expression is too big to work on
_SLACK = sp.Dummy("slack", integer=True, nonnegative=True)
_FACTS_USED = 12  # the prover tries at most this many facts
_facts: list[tuple[sp.Expr, ...]] = [()]
_nesting = [0]  # calls of nonneg in progress
_steps = [0]  # prover steps taken by the outermost call in progress
_work = [0]  # prover work since the last reset, the clock the analysis' budgets count on (see work_done)
_PROOF_STEPS = 400


def reset() -> None:
    """Forget every cached proof and restart the work count. A proof's outcome depends on the step budget
    left when it was cached and on the facts assumed then, so the analysis of one entry starts from empty
    caches: its result then never depends on what the process analysed before."""
    for cached in (_nonneg_given, _nonneg_cached, canon, _unwrap_fact):
        cached.cache_clear()
    _lifted.clear()
    _facts[:] = [()]
    _nesting[0] = _steps[0] = _work[0] = 0


def work_done() -> int:
    """Prover work since the last reset: one unit per step plus the size (in nodes) of every expression a step
    really works on (a cached answer costs nothing), as SymPy's rewriting takes time in proportion. Unlike
    seconds, the count is the same on every run, machine and load."""
    return _work[0]


def charge(e: sp.Expr, times: int = 1) -> None:
    """Count work on e (its size in nodes, `times` over) against the budgets."""
    _work[0] += times * sum(1 for _ in sp.preorder_traversal(e))


@contextlib.contextmanager
def assuming(facts: tuple[sp.Expr, ...]) -> Iterator[None]:
    """Within the block, nonneg may also use these parameter facts (each known to be >= 0), e.g. that the
    bound of a loop whose body runs is at least 1."""
    _facts.append(facts)
    try:
        yield
    finally:
        _facts.pop()


def current_facts() -> tuple[sp.Expr, ...]:
    """The parameter facts assumed by the innermost `assuming` block."""
    return _facts[-1]


def nonneg(expr: sp.Expr) -> bool:
    """True when expr >= 0 is proven for all nonnegative parameters and positive launch dimensions (and the
    facts currently assumed)."""
    if _nesting[0] > _PROOF_DEPTH:  # lift and the prover call each other: keep that finite
        return False
    if _nesting[0] == 0:
        _steps[0] = 0
    e = sp.sympify(expr)
    _nesting[0] += 1
    try:
        return _nonneg(e, 0) or (bool(_facts[-1]) and _nonneg_given(e, _facts[-1]))
    finally:
        _nesting[0] -= 1


@functools.lru_cache(maxsize=8192)
def _nonneg_given(e: sp.Expr, facts: tuple[sp.Expr, ...]) -> bool:
    """Use one fact f >= 0: e - f >= 0; or, writing f = X + r (r a number), e with X = slack - r; or, when f is
    linear with unit coefficient in a parameter s, e with s solved from f = slack. Facts that bound a single
    floor term (OH - 1 >= 0 with OH = floor(...) + 1) are also used all at once."""
    facts = facts[:_FACTS_USED]
    charge(e, len(facts))
    if contradictory([-f for f in facts]):
        return True  # the facts cannot hold together: nothing to prove
    atom_bounds: dict[sp.Expr, sp.Expr] = {}
    for i, f in enumerate(facts):
        r, known = f.as_coeff_Add()
        if (known.is_Symbol or isinstance(known, (sp.floor, sp.ceiling))) and known not in atom_bounds:
            atom_bounds[known] = sp.Dummy(f"slack{i}", integer=True, nonnegative=True) - r
    if atom_bounds and _nonneg(sp.expand(e.xreplace(atom_bounds)), 0):
        return True
    expanded_e = sp.expand(e)
    for f in facts:
        if _nonneg(sp.expand(e - f), 0):
            return True
        expanded_f = sp.expand(f)
        for s in sorted(expanded_f.free_symbols & expanded_e.free_symbols, key=str)[:1]:
            ratio = expanded_e.coeff(s) / expanded_f.coeff(s) if expanded_f.coeff(s) != 0 else sp.Integer(0)
            if ratio.is_Number and ratio > 0 and ratio != 1 and _nonneg(sp.expand(e - ratio * f), 0):
                return True
        r = f.as_coeff_Add()[0]
        known = f - r
        replaced = e.subs(known, _SLACK - r)
        if replaced != e and not replaced.has(*known.free_symbols - e.free_symbols) and _nonneg(replaced, 0):
            return True
        expanded = sp.expand(f)
        for s in sorted(expanded.free_symbols & e.free_symbols, key=str):
            rest, part = expanded.as_independent(s, as_Add=True)
            coeff = part / s
            if coeff in (1, -1) and _nonneg(sp.expand(e.xreplace({s: (_SLACK - rest) / coeff})), 0):
                return True
    return False


def _sample_value(symbol: sp.Symbol, point: int) -> int:
    """A deterministic, unremarkable value for a symbol at sample point `point` (sizes in the tens)."""
    return 17 + (zlib.crc32(f"{symbol.name}/{point}".encode()) % 61)


def samples(e: sp.Expr) -> tuple[float, ...] | None:
    """e at a few sample points of its symbols (None where it does not evaluate): used only to skip proofs
    that are bound to fail, never to conclude anything."""
    values = []
    for point in range(3):
        try:
            value = e.xreplace({s: sp.Integer(_sample_value(s, point)) for s in e.free_symbols})
            if value == sp.S.NegativeInfinity:
                values.append(float("-inf"))
                continue
            if not value.is_Number or not value.is_finite:
                return None
            values.append(float(value))
        except (TypeError, ValueError, ZeroDivisionError):
            return None
    return tuple(values)


def _nonneg(e: sp.Expr, depth: int) -> bool:
    _steps[0] += 1
    _work[0] += 1
    if _steps[0] > _PROOF_STEPS:  # a proof this long is not worth having: give up (not proven)
        return False
    return _nonneg_cached(e, depth)


@functools.lru_cache(maxsize=16384)
def _nonneg_cached(e: sp.Expr, depth: int) -> bool:
    """Case analysis of the proof: Min/Max, division by a positive denominator, floor/Mod bounds, then
    polynomial positivity."""
    charge(e)
    if depth > _PROOF_DEPTH or e.has(Sel, When, sp.Piecewise) or e.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        return False
    if e.is_Number:
        return bool(e >= 0)
    if e.is_nonnegative:
        return True
    if depth == 0:
        values = samples(e)
        if values is not None and min(values) < 0:
            return False  # a counterexample
    if isinstance(e, Min):
        return all(_nonneg(a, depth + 1) for a in e.args)
    if isinstance(e, Max):
        return any(_nonneg(a, depth + 1) for a in e.args)
    if e.has(Min, Max):
        lifted = lift(e)
        if isinstance(lifted, (Min, Max)):
            return _nonneg(lifted, depth + 1)
    numerator, denominator = sp.fraction(sp.cancel(sp.together(canon(e))))
    if denominator != 1:
        # denominators come from the program's divisors (or from coefficients proven positive): they are
        # taken to be positive, as index arithmetic only divides by positive sizes
        if denominator.is_Number and denominator < 0:
            return _nonneg(-numerator, depth + 1)
        return _nonneg(numerator, depth + 1)
    e = sp.expand(numerator)
    factors = _integer_factors(e)
    for atom in factors[:2]:
        rest, part = e.as_independent(atom, as_Add=True)
        coeff = sp.cancel(part / atom)
        if coeff.has(atom):
            continue
        low, high = rational_bounds(atom)
        if _nonneg(coeff, depth + 1):
            if _nonneg(rest + coeff * low, depth + 1):
                return True
            # floor(p/q) >= 0 when p >= 0, which the bound (p - q + 1)/q misses
            return isinstance(atom, sp.floor) and _nonneg(atom.args[0], depth + 1) and _nonneg(rest, depth + 1)
        if _nonneg(sp.expand(-coeff), depth + 1):
            return _nonneg(rest + coeff * high, depth + 1)
    return not factors and _poly_nonneg(e)


def _integer_factors(e: sp.Expr) -> list[sp.Expr]:
    """The floor/ceiling/Mod factors of e's terms, the most nested first (bounding an outer one first keeps
    its coefficient simple)."""
    found = []
    for term in sp.Add.make_args(e):
        for factor in sp.Mul.make_args(term):
            base = factor.base if factor.is_Pow and factor.exp.is_Integer and factor.exp > 0 else factor
            if isinstance(base, (sp.floor, sp.ceiling, sp.Mod)) and base not in found:
                found.append(base)
    return sorted(found, key=sp.count_ops, reverse=True)


def rational_bounds(atom: sp.Expr) -> tuple[sp.Expr | None, sp.Expr | None]:
    """Rational bounds of floor(p/q), ceiling(p/q) (p integer, q positive integer) and Mod(x, d)."""
    if isinstance(atom, sp.Mod):
        return sp.Integer(0), atom.args[1] - 1
    num, den = sp.fraction(sp.together(atom.args[0]))
    exact = atom.args[0]
    if isinstance(atom, sp.floor):
        return (num - den + 1) / den, exact
    return exact, (num + den - 1) / den


def _shifted(p: sp.Expr) -> sp.Expr | None:
    """p with each positive symbol s written as 1 + s (all symbols then range over >= 0); None if some symbol
    is not known to be nonnegative."""
    subs = {}
    for s in p.free_symbols:
        if s.is_positive:
            subs[s] = s + 1
        elif not s.is_nonnegative:
            return None
    return sp.expand(p.xreplace(subs))


def _poly_nonneg(p: sp.Expr) -> bool:
    shifted = _shifted(p)
    if shifted is None:
        return False
    for term in sp.Add.make_args(shifted):
        coeff = term.as_coeff_Mul()[0]
        if not coeff.is_Number or coeff < 0 or term.has(sp.floor, sp.ceiling, sp.Mod, Min, Max):
            return False
    return True


def provably_le(a: sp.Expr, b: sp.Expr) -> bool:
    return nonneg(b - a)


def lift(e: sp.Expr) -> sp.Expr:
    """e with Min/Max pulled outwards over +, nonnegative (or nonpositive) factors and floor; e unchanged when
    a factor's sign is unknown or the result would grow past _LIFT_LIMIT arguments."""
    if not e.has(Min, Max):
        return e
    key = (e, _facts[-1])
    if key not in _lifted:
        if len(_lifted) > 20000:
            _lifted.clear()
        _lifted[key] = _lift(e)
    return _lifted[key]


_lifted: dict[tuple, sp.Expr] = {}


def _lift(e: sp.Expr) -> sp.Expr:
    """lift without the cache."""
    if isinstance(e, (Min, Max)):
        return type(e)(*[lift(a) for a in e.args])
    if e.is_Add:
        args = [lift(a) for a in e.args]
        for i, a in enumerate(args):
            if isinstance(a, (Min, Max)):
                rest = sp.Add(*(args[:i] + args[i + 1:]))
                if len(a.args) * max(1, len(rest.args)) > _LIFT_LIMIT:
                    return e
                return type(a)(*[lift(rest + x) for x in a.args])
        return sp.Add(*args)
    if e.is_Mul:
        args = [lift(a) for a in e.args]
        for i, a in enumerate(args):
            if isinstance(a, (Min, Max)):
                coeff = sp.Mul(*(args[:i] + args[i + 1:]))
                if len(a.args) > _LIFT_LIMIT or too_big(coeff):
                    return e
                if nonneg(coeff):
                    return type(a)(*[lift(coeff * x) for x in a.args])
                if nonneg(-coeff):
                    flipped = Max if isinstance(a, Min) else Min
                    return flipped(*[lift(coeff * x) for x in a.args])
        return sp.Mul(*args)
    if isinstance(e, (sp.floor, sp.ceiling)):
        inner = lift(e.args[0])
        if isinstance(inner, (Min, Max)):
            return type(inner)(*[type(e)(x) for x in inner.args])
        return e
    return e


def floordiv(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """floor(a / b) for a positive divisor, with the exact quotient split off where it is visible."""
    a, b = sp.sympify(a), sp.sympify(b)
    if b == 1:
        return a if a.is_integer else sp.floor(a)  # a bound may be a fraction (a floor relaxed to p/q)
    if a.is_Integer and b.is_Integer:
        return sp.Integer(int(a) // int(b))
    a = sp.expand(a)
    if b.is_Integer:
        k = int(b)
        quotient, remainder = sp.Integer(0), sp.Integer(0)
        for term in sp.Add.make_args(a):
            coeff, rest = term.as_coeff_Mul()
            if coeff.is_Integer:
                q = abs(int(coeff)) // k * (1 if coeff > 0 else -1)  # toward zero: L - KW stays together
                r = int(coeff) - q * k
                quotient += q * rest
                remainder += r * rest
            else:
                remainder += term
        if remainder.is_Integer:
            return quotient + int(remainder) // k
        return quotient + sp.floor(sp.expand(remainder / k))
    quotient, remainder = sp.Integer(0), sp.Integer(0)
    for term in sp.Add.make_args(a):
        ratio = sp.cancel(term / b)
        if sp.fraction(ratio)[1] == 1:
            quotient += ratio
        else:
            remainder += term
    if remainder == 0:
        return quotient
    if remainder.is_Integer and quotient != 0:
        r = int(remainder)
        if r < 0 and nonneg(b + r):
            return quotient - 1
        if r >= 0 and nonneg(b - r - 1):
            return quotient
    return quotient + sp.floor(sp.expand(remainder / b))


def ceildiv(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    return -floordiv(-a, b)


@functools.lru_cache(maxsize=16384)
def canon(e: sp.Expr) -> sp.Expr:
    """e with every floor/ceiling rewritten by floordiv, so that equal quotients are spelled alike (SymPy
    keeps floor((n + t - 1)/t) and 1 + floor(n/t - 1/t) apart)."""
    if not e.has(sp.floor, sp.ceiling):
        return e

    def rebuild(x: sp.Expr) -> sp.Expr:
        num, den = sp.fraction(sp.together(x.args[0]))
        if not den.is_positive and not _poly_nonneg(den):  # a nonnegative divisor is taken to be nonzero
            return x
        return floordiv(num, den) if isinstance(x, sp.floor) else ceildiv(num, den)

    return e.replace(lambda x: isinstance(x, (sp.floor, sp.ceiling)), rebuild)


def too_big(e: sp.Expr) -> bool:
    """More than _SIZE_LIMIT nodes (counted with an early exit)."""
    count = 0
    for _ in sp.preorder_traversal(e):
        count += 1
        if count > _SIZE_LIMIT:
            return True
    return False


def fact_forms(facts: Iterable[sp.Expr]) -> tuple[sp.Expr, ...]:
    """Each fact as written and unwrapped (see _unwrap_fact): the prover substitutes either form."""
    forms = []
    for fact in facts:
        forms += [canon(fact), _unwrap_fact(fact)]
    return tuple(dict.fromkeys(forms))


@functools.lru_cache(maxsize=4096)
def _unwrap_fact(fact: sp.Expr) -> sp.Expr:
    """c*floor(p/q) + r >= 0 (c > 0, r numbers) is p - k*q >= 0 with k = ceil(-r/c): the form in which the
    prover can use it."""
    fact = canon(fact)
    r, rest = fact.as_coeff_Add()
    c, atom = rest.as_coeff_Mul()
    if isinstance(atom, sp.floor) and c > 0:  # floor(y) >= k  <=>  num >= k * den
        num, den = sp.fraction(sp.together(atom.args[0]))
        k = sp.ceiling(-r / c)
        return sp.expand(num - k * den)
    if isinstance(atom, sp.floor) and c < 0:  # floor(y) <= k  <=>  num <= (k + 1) * den - 1
        num, den = sp.fraction(sp.together(atom.args[0]))
        k = sp.floor(r / -c)
        return sp.expand((k + 1) * den - 1 - num)
    return fact
