"""Buffer extents: how many elements of each pointer parameter an entry point touches, as SymPy expressions.

To run a kernel (and later to generate inputs for checking its translations) every buffer needs a size. The
host launcher of a CUDA/HIP entry says it outright: `cudaMemcpy(d, host_param, bytes, ...)` copies `bytes` of
`host_param`. A bare kernel, a BANG task or a cpp function only says it implicitly, through its index
expressions, so the entry is interpreted symbolically:

* integer values become SymPy expressions over the entry's integer parameters (nonnegative symbols), the
  launch dimensions (blockDim_x, gridDim_x, taskDim... positive symbols unless `launch` gives them), and
  *range variables*: loop counters, thread/block/task indices, values loaded from memory. A size computed
  from parameters only (OH, tiles, per_task) becomes a symbol of its own, defined by its expression and put
  back at the end, which keeps bounds small;
* every access to a parameter's memory is recorded as the exclusive end (in bytes) of what it touches, with
  the path condition under which it runs: loop bounds, `if` guards, earlier early returns, the branch of a
  `?:` or of a helper's `if (...) return`. Conditions are disjunctions of conjunctions of atoms `e <= 0`
  (integers, so `a < b` is `a - b + 1 <= 0`); value-level choices are `Sel(k, a, b)` terms on condition k
  (or Min/Max when the condition compares a and b), split into cases only when an access is bounded;
* the extent is the largest end over that domain, found by eliminating range variables innermost first
  (Fourier-Motzkin style): an expression increasing in `v` takes v's least upper bound among the constraints
  linear in v, a decreasing one its greatest lower bound, a linear one of unknown slope the larger value at
  either end; Min/Max are lifted over + and nonnegative factors, `x % d` and `x / d` get names of their own,
  and floor terms are relaxed (`c*floor(x/c) <= x`) when that makes the expression monotone. Each case keeps
  the parameter conditions under which it can happen (`When`, -oo otherwise), so impossible cases drop out.

Every step over-approximates (a dropped constraint only widens the domain), so an extent is never too small,
assuming, as index arithmetic does, that indices are nonnegative (integer division is floor division), that
the sizes a kernel divides by are positive, and that loops end (`i += s` with s of unknown sign counts
upwards). When a variable has no bound (an index loaded from memory, a pointer handed to an unknown
function) or bounding takes too long, the extent is reported as unknown with the reason, never guessed.
Guards that cap a thread index (`if (i < n)`) give `Min(n, gridDim_x*blockDim_x)`; when the launch is not
given it is assumed to cover the guarded range and the result is `n`. A case condition that every positive
size meets (`cols >= 1` for a loop over cols) is dropped at the end: that only enlarges the bound, at sizes 0. Results are tidied by a small sound
prover (floor/Mod bounds, polynomial positivity over nonnegative symbols, facts such as "a loop that runs has
a bound >= 1"); what it cannot prove stays as Min/Max/Piecewise, which still evaluates exactly.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import re
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import sympy as sp

from kernel_ir.ir import (
    ArrayType, Assign, BinOp, Block, Break, BuiltinVar, Call, Case, Cast, Const, Construct, Continue, Decl,
    DoWhile, DType, Expr, ExprStmt, For, Function, If, Index, InitList, KernelLaunch,
    Member, MethodCall, Module, NamedType, Node, Param, PointerType, Pragma, ReferenceType, Return, ScalarType,
    Select, SizeOf, Stmt, Switch, Type, UnaryOp, Var, VectorType, While, walk,
)

__all__ = ["Extent", "infer_extents"]


# =============================================================================================== public API ==


@dataclass(frozen=True)
class Extent:
    """How much of pointer parameter `param` the entry touches.

    `elements` is a SymPy expression in the entry's integer scalar parameters (and launch dimensions when they
    were not given), or None with `reason` when it cannot be bounded. `source` is "allocation" when the host
    launcher's copies size the buffer, "indices" when it was inferred from index expressions.
    """

    param: str
    elements: sp.Expr | None
    reads: bool
    writes: bool
    source: str
    reason: str | None = None
    dtype: DType | None = None

    def evaluate(self, scalars: dict[str, int] | None = None, launch: dict | None = None) -> int:
        """The extent for concrete sizes (and launch dimensions, when the expression mentions them)."""
        if self.elements is None:
            raise ValueError(f"extent of {self.param!r} is unknown: {self.reason}")
        values = {_param_symbol(k): sp.Integer(int(v)) for k, v in (scalars or {}).items()}
        values.update(_launch_values(launch or {}))
        result = self.elements.xreplace(values)
        if result.free_symbols:
            missing = ", ".join(sorted(str(s) for s in result.free_symbols))
            raise ValueError(f"extent of {self.param!r} needs values for {missing}")
        if not result.is_finite:
            return 0  # a size that divides is zero: the kernel touches nothing
        return max(0, int(result))


def infer_extents(module: Module, entry: str, scalars: dict[str, int] | None = None,
                  launch: dict | None = None) -> dict[str, Extent]:
    """Extent of every pointer parameter of `entry`, by parameter name.

    scalars: known values of integer parameters (substituted before the analysis);
    launch: {"grid": (gx, gy, gz), "block": (bx, by, bz)} for a CUDA/HIP kernel, {"task_dim": (x, y, z),
    "cores_per_cluster": c} for BANG, or launch symbol names (gridDim_x, taskDim...) mapped to ints.
    """
    function = module.function(entry)
    analysis = _Analysis(module, scalars or {}, launch or {})
    analysis.run(function)
    return {p.name: analysis.extent_of(p) for p in function.params if _is_buffer(p.type)}


# =================================================================================================== symbols ==

_LAUNCH_NAMES = ("gridDim_x", "gridDim_y", "gridDim_z", "blockDim_x", "blockDim_y", "blockDim_z",
                 "taskDim", "taskDimX", "taskDimY", "taskDimZ", "coreDim", "clusterDim")


def _param_symbol(name: str) -> sp.Symbol:
    return sp.Symbol(name, integer=True, nonnegative=True)


def _launch_symbol(name: str) -> sp.Symbol:
    return sp.Symbol(name, integer=True, positive=True)


def _dims(value: object) -> tuple[int, int, int]:
    dims = (value,) if isinstance(value, int) else tuple(value)  # type: ignore[arg-type]
    return tuple(int(d) for d in (dims + (1, 1, 1))[:3])  # type: ignore[return-value]


def _launch_values(launch: dict) -> dict[sp.Symbol, sp.Integer]:
    """Launch dict (executor form or symbol names) -> values of the launch symbols it fixes."""
    values: dict[str, int] = {}
    if "grid" in launch:
        values.update(zip(("gridDim_x", "gridDim_y", "gridDim_z"), _dims(launch["grid"])))
    if "block" in launch:
        values.update(zip(("blockDim_x", "blockDim_y", "blockDim_z"), _dims(launch["block"])))
    if "task_dim" in launch:
        x, y, z = _dims(launch["task_dim"])
        values.update(taskDimX=x, taskDimY=y, taskDimZ=z, taskDim=x * y * z)
    if "cores_per_cluster" in launch:
        values["coreDim"] = int(launch["cores_per_cluster"])
        if "taskDim" in values:
            values["clusterDim"] = max(1, values["taskDim"] // values["coreDim"])
    values.update({k: int(v) for k, v in launch.items() if k in _LAUNCH_NAMES})
    return {_launch_symbol(k): sp.Integer(v) for k, v in values.items()}


class Sel(sp.Function):
    """Sel(k, a, b): `a` where condition number k of the analysis holds, else `b` (a C `?:` on integers)."""

    nargs = 3

    @classmethod
    def eval(cls, k, a, b):  # noqa: ANN001 - SymPy protocol
        if a == b:
            return a
        return None

    def _eval_is_integer(self):  # noqa: ANN202 - SymPy protocol
        return True if self.args[1].is_integer and self.args[2].is_integer else None


class _Extremum(sp.Function):
    """Min/Max whose construction only flattens, dedupes and folds numbers: SymPy's own Min/Max compare their
    arguments symbolically on every rebuild, which dominates the run time of the analysis."""

    pick = min

    @classmethod
    def eval(cls, *args):  # noqa: ANN001, ANN206 - SymPy protocol
        flat: list[sp.Expr] = []
        for a in args:
            flat.extend(a.args if isinstance(a, cls) else (a,))
        numbers = [a for a in flat if a.is_Number]
        if len(numbers) > 1:
            best = cls.pick(numbers)
            flat = [a for a in flat if not a.is_Number] + [best]
        unique = list(dict.fromkeys(flat))
        if len(unique) == 1:
            return unique[0]
        if len(unique) != len(args) or any(isinstance(a, cls) for a in args):
            return cls(*unique)
        return None

    def _eval_is_integer(self):  # noqa: ANN202 - SymPy protocol
        return True if all(a.is_integer for a in self.args) else None


class Min(_Extremum):
    pick = min

    def _eval_is_nonnegative(self):  # noqa: ANN202 - SymPy protocol
        return True if all(a.is_nonnegative for a in self.args) else None


class Max(_Extremum):
    pick = max

    def _eval_is_nonnegative(self):  # noqa: ANN202 - SymPy protocol
        return True if any(a.is_nonnegative for a in self.args) else None


class When(sp.Function):
    """When(value, a1, a2, ...): value where every a_i <= 0, else -oo. The bound of one case of an access is
    valid only for the parameters that make the case possible (a Max ignores the impossible ones)."""

    @classmethod
    def eval(cls, value, *atoms):  # noqa: ANN001, ANN206 - SymPy protocol
        if any(a.is_Number and a > 0 for a in atoms):
            return sp.S.NegativeInfinity
        pending = [a for a in atoms if not a.is_Number]
        if not pending:
            return value
        if len(pending) != len(atoms):
            return cls(value, *pending)
        return None


def to_sympy(e: sp.Expr) -> sp.Expr:
    """e with our Min/Max/When turned into SymPy's Min/Max/Piecewise (unevaluated), for callers."""
    if isinstance(e, (Min, Max)):
        target = sp.Min if isinstance(e, Min) else sp.Max
        return target(*[to_sympy(a) for a in e.args], evaluate=False)
    if isinstance(e, When):
        condition = sp.And(*[sp.Le(a, 0) for a in e.args[1:]])
        return sp.Piecewise((to_sympy(e.args[0]), condition), (sp.S.NegativeInfinity, True))
    if not e.args or not e.has(Min, Max, When):
        return e
    return e.func(*[to_sympy(a) for a in e.args])


# =========================================================================================== sound algebra ==
# Everything here is conservative: `nonneg` answers True only with a proof, `lift` and `floordiv` are exact
# rewrites (floordiv assumes a positive divisor).

_LIFT_LIMIT = 24
_PROOF_DEPTH = 8
_TIDY_PROOFS = 200
_TIDY_TIME_S = 4.0  # per extent


_SLACK = sp.Dummy("slack", integer=True, nonnegative=True)
_FACTS_USED = 12  # the prover tries at most this many facts
_facts: list[tuple[sp.Expr, ...]] = [()]
_nesting = [0]  # calls of nonneg in progress
_steps = [0]  # prover steps taken by the outermost call in progress
_PROOF_STEPS = 400


@contextlib.contextmanager
def assuming(facts: tuple[sp.Expr, ...]) -> Iterator[None]:
    """Within the block, nonneg may also use these parameter facts (each known to be >= 0), e.g. that the
    bound of a loop whose body runs is at least 1."""
    _facts.append(facts)
    try:
        yield
    finally:
        _facts.pop()


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
    if _contradictory([-f for f in facts]):
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
    if _steps[0] > _PROOF_STEPS:  # a proof this long is not worth having: give up (not proven)
        return False
    return _nonneg_cached(e, depth)


@functools.lru_cache(maxsize=16384)
def _nonneg_cached(e: sp.Expr, depth: int) -> bool:
    """Case analysis of the proof: Min/Max, division by a positive denominator, floor/Mod bounds, then
    polynomial positivity."""
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
        low, high = _atom_bounds(atom)
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


def _atom_bounds(atom: sp.Expr) -> tuple[sp.Expr | None, sp.Expr | None]:
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
                if len(a.args) > _LIFT_LIMIT or _too_big(coeff):
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
        return a
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
        low, high = _atom_bounds(atom)
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


_THREAD_DIMS = frozenset(_launch_symbol(n) for n in _LAUNCH_NAMES[:6])


def _grows_with_launch(e: sp.Expr) -> bool:
    """e depends on the CUDA/HIP grid or block size and never decreases when they grow."""
    if isinstance(e, When):  # its conditions only get easier to meet as the launch grows
        e = e.args[0]
    dims = e.free_symbols & _THREAD_DIMS
    return bool(dims) and all(monotonicity(e, d) in (0, 1) for d in dims)


@dataclass
class _Budget:
    """How many more dominance proofs a tidy-up may attempt, and until when (tidying is cosmetic: the values
    do not change, so it stops rather than hold the analysis up)."""

    proofs: int
    deadline: float = math.inf

    def spend(self, count: int = 1) -> bool:
        """Take `count` proofs from the budget; False when it is exhausted."""
        if self.proofs < count or time.monotonic() > self.deadline:
            self.proofs = 0
            return False
        self.proofs -= count
        return True


def tidy(e: sp.Expr, launch_free: bool, budget: _Budget | None = None, strip: bool = True) -> sp.Expr:
    """Drop provably dominated Min/Max arguments and provable case conditions; with launch_free, drop the Min
    arguments that grow with the grid/block size when others do not (the launch is assumed to cover the
    range a guard allows). strip: also drop case conditions whose failure leaves a value <= 0 (extents
    are clamped at 0); not done inside a Min/Max, where the conditions still help to compare arguments."""
    budget = budget or _Budget(_TIDY_PROOFS)
    if not e.args or not e.has(Min, Max, When):
        return e
    inner = not isinstance(e, (Min, Max))
    args = [tidy(a, launch_free, budget, strip and inner) for a in e.args]
    if isinstance(e, When):
        value, pending = args[0], []
        for atom in args[1:]:
            if launch_free and atom.free_symbols & _THREAD_DIMS and all(
                    monotonicity(atom, d) in (0, -1) for d in atom.free_symbols & _THREAD_DIMS):
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


def _strip(value: sp.Expr, conditions: list[sp.Expr], budget: _Budget) -> sp.Expr:
    """When(value, conditions) without the conditions that every positive size meets (dropping one only
    makes the bound larger, and sizes of 0 are degenerate), or value alone where every failing condition
    leaves value <= 0."""
    pending = []
    for atom in conditions:
        sizes = tuple(s - 1 for s in atom.free_symbols if s.is_nonnegative)
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
    with assuming(_facts[-1] + _fact_forms([atom - 1])):
        return nonneg(-value)


def _finish(e: sp.Expr, launch_free: bool, budget: _Budget) -> sp.Expr:
    """tidy(canon(e)), except that a very large bound is left as it is (apart from the launch rule): it
    evaluates all the same, and tidying it would take long."""
    if _too_big(e):
        return tidy(e, launch_free, _Budget(0))
    return tidy(canon(e), launch_free, budget)


def _prune(args: list[sp.Expr], is_max: bool, budget: _Budget) -> sp.Expr:
    """Max (is_max) or Min of args without the arguments another one provably dominates. Sample values
    order the candidates and skip comparisons a sample already contradicts."""
    if budget.proofs <= 0 or time.monotonic() > budget.deadline:
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
        with assuming(_fact_forms(-atom for atom in low_conditions + high_conditions)):
            if not provably_le(low_value, high_value):
                return False
        with assuming(_fact_forms(-atom for atom in low_conditions)):
            return all(_nonpositive_unless(low_value, atom) for atom in high_conditions)

    kept: list[tuple] = []
    for item in valued:
        if any(dominated(item, k) for k in kept):
            continue
        kept = [k for k in kept if not dominated(k, item)]
        kept.append(item)
    result = [a for a, _ in kept]
    return result[0] if len(result) == 1 else (Max if is_max else Min)(*result)


# ================================================================================================ conditions ==
# A condition is in disjunctive normal form: a tuple of conjunctions, each a tuple of atoms `e <= 0` over
# integers. None is an unknown condition (it constrains nothing, on either side of a branch).

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
        result = _strict_and(result, negated)
        if result is None:
            return None
    return result


def _strict_and(a: Cond, b: Cond) -> Cond:
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


# =================================================================================================== bounds ==


class Unbounded(Exception):
    """An index has no finite bound over its domain; the message says why."""


_CASE_LIMIT = 256
_PATH_CASE_LIMIT = 64
_FM_LIMIT = 24
_WORK_LIMIT = 4000
_SIZE_LIMIT = 400
_TIME_LIMIT_S = 20.0  # per extent: a bound that takes longer is reported as unknown


def _too_big(e: sp.Expr) -> bool:
    """More than _SIZE_LIMIT nodes (counted with an early exit)."""
    count = 0
    for _ in sp.preorder_traversal(e):
        count += 1
        if count > _SIZE_LIMIT:
            return True
    return False


class Bounder:
    """Upper bounds of integer expressions over the domain described by path conditions.

    conditions: the condition table `Sel` terms refer to; order: creation rank of every range variable
    (a larger rank is a more inner variable, eliminated first); origins: what each range variable stands for.
    """

    def __init__(self, conditions: list[Cond], order: dict[sp.Symbol, int], origins: dict[sp.Symbol, str]):
        self.conditions = conditions
        self.order = order
        self.origins = origins
        self._fresh = 0
        self.work = 0  # elimination steps so far; reset per extent by the caller
        self.deadline = math.inf  # time.monotonic() limit; set per extent by the caller
        self._memo: dict[tuple, sp.Expr | None | Unbounded] = {}
        self._bounds_cache: dict[tuple, tuple[list[sp.Expr], list[sp.Expr]]] = {}
        self._facts_cache: dict[tuple, tuple[sp.Expr, ...] | None] = {}

    def maximum(self, expr: sp.Expr, path: tuple[Cond, ...]) -> sp.Expr | None:
        """Least upper bound we can prove of expr where the path holds (None: no feasible case)."""
        results = []
        for atoms in self._path_cases(path):
            for e, case_atoms in self._cases(expr, atoms):
                bound = self._eliminate(e, case_atoms)
                if bound is not None:
                    results.append(bound)
        return Max(*results) if results else None

    def describe(self, v: sp.Symbol) -> str:
        return self.origins.get(v, str(v))

    # ------------------------------------------------------------------------------------------ cases --

    def _path_cases(self, path: tuple[Cond, ...]) -> list[list[Atom]]:
        conds = [c for c in path if c is not None]
        if any(c == FALSE for c in conds):
            return []
        conds.sort(key=len)
        cases: list[list[Atom]] = [[]]
        for c in conds:
            if len(cases) * len(c) > _PATH_CASE_LIMIT:
                continue  # dropping a disjunction only widens the domain
            cases = [case + list(conj) for case in cases for conj in c]
        return cases

    def _cases(self, expr: sp.Expr, atoms: list[Atom]) -> list[tuple[sp.Expr, list[Atom]]]:
        """Split Sel terms (in expr and atoms) and Min/Max inside atoms into separate cases."""
        work = [(expr, atoms)]
        done = []
        while work:
            if len(work) + len(done) > _CASE_LIMIT:
                raise Unbounded("too many cases to enumerate")
            e, atoms = work.pop()
            sel = self._some_sel(e, atoms)
            if sel is not None:
                k = sel.args[0]
                cond = self.conditions[int(k)]
                same = {x for y in (e, *atoms) for x in y.atoms(Sel) if x.args[0] == k}
                for side, branch in ((1, cond), (2, cond_not(cond))):
                    # every choice on condition k takes the same side
                    choice = {x: x.args[side] for x in same}
                    while any(v.has(*same) for v in choice.values()):
                        choice = {x: v.xreplace(choice) for x, v in choice.items()}
                    for conj in (branch if branch is not None else TRUE):
                        case = [x.xreplace(choice) for x in atoms] + list(conj)
                        if not _contradictory(case):
                            work.append((e.xreplace(choice), case))
                continue
            shared = self._shared_extremum(e, atoms)
            if shared is not None:
                # a Min/Max met more than once: split it so that all its occurrences take the same argument
                for i, chosen in enumerate(shared.args):
                    order = [(chosen - other) if isinstance(shared, Min) else (other - chosen)
                             for other in shared.args[:i] + shared.args[i + 1:]]
                    case = [x.xreplace({shared: chosen}) for x in atoms] + order
                    if not _contradictory(case):
                        work.append((e.xreplace({shared: chosen}), case))
                continue
            for normal in _normalize(atoms):
                if not _contradictory(normal):
                    done.append((e, normal))
        return done

    def _shared_extremum(self, e: sp.Expr, atoms: list[Atom]) -> sp.Expr | None:
        """The smallest Min/Max over range variables that occurs more than once in e and the atoms."""
        counts: dict[sp.Expr, int] = {}
        for x in (e, *atoms):
            for node in sp.preorder_traversal(x):
                if isinstance(node, (Min, Max)) and node.free_symbols & self.order.keys():
                    counts[node] = counts.get(node, 0) + 1
        shared = [m for m, c in counts.items() if c > 1]
        return min(shared, key=lambda m: (sp.count_ops(m), sp.default_sort_key(m))) if shared else None

    @staticmethod
    def _some_sel(e: sp.Expr, atoms: list[Atom]) -> sp.Expr | None:
        for x in (e, *atoms):
            sels = x.atoms(Sel)
            if sels:
                return min(sels, key=sp.default_sort_key)
        return None

    # ---------------------------------------------------------------------------------------- elimination --

    def _eliminate(self, e: sp.Expr, atoms: list[Atom]) -> sp.Expr | None:
        key = (e, tuple(atoms))
        if key not in self._memo:
            try:
                self._memo[key] = self._eliminate_uncached(e, atoms)
            except Unbounded as err:
                self._memo[key] = err
        result = self._memo[key]
        if isinstance(result, Unbounded):
            raise result
        return result

    def _eliminate_uncached(self, e: sp.Expr, atoms: list[Atom]) -> sp.Expr | None:
        """Upper bound of e over one conjunction of atoms, or None when the atoms cannot hold together."""
        e, atoms = self._name_remainders(e, atoms)
        loop_facts = self._range_facts(atoms)
        if loop_facts is None:
            return None
        for _ in range(200):
            self.work += 1
            if self.work > _WORK_LIMIT or _too_big(e):
                raise Unbounded("the index expressions grow too complex to bound")
            if time.monotonic() > self.deadline:
                raise Unbounded(f"bounding took longer than {_TIME_LIMIT_S:g} s")
            variables = [s for s in e.free_symbols if s in self.order]
            if not variables:
                conditions = [a for a in atoms if not a.free_symbols & self.order.keys()]
                return When(e, *conditions) if conditions else e
            v = max(variables, key=self.order.__getitem__)
            # a more inner variable that only constrains others goes first (Fourier-Motzkin), so that
            # what it implies about them is not lost when they go
            inner = [s for a in atoms for s in a.free_symbols if s in self.order and self.order[s] > self.order[v]]
            if inner:
                w = max(inner, key=self.order.__getitem__)
                highs, lows = self._bounds(w, atoms)
                atoms = self._drop(w, atoms, highs, lows)
                if atoms is None:
                    return None
                continue
            facts = loop_facts + _fact_forms(-a for a in atoms if not a.free_symbols & self.order.keys())
            with assuming(facts):
                direction = monotonicity(e, v)
                if direction is None:
                    expanded = sp.expand(e)  # terms in v may cancel: (b*M + 4*t)*K + (M - 4*t)*K
                    direction = monotonicity(expanded, v)
                    e = expanded if direction is not None else e
                if direction == 0:  # v cancelled out of e: only its constraints on the others remain
                    highs, lows = self._bounds(v, atoms)
                    atoms = self._drop(v, atoms, highs, lows)
                    if atoms is None:
                        return None
                    continue
                if direction is None and _is_linear(e, v):
                    # a linear function of unknown slope peaks at one end of the range
                    highs, lows = self._bounds(v, atoms)
                    if highs and lows:
                        e = Max(e.xreplace({v: Min(*highs)}), e.xreplace({v: Max(*lows)}))
                        atoms = self._drop(v, atoms, highs, lows)
                        if atoms is None:
                            return None
                        continue
                if direction is None:
                    lifted = lift(e)
                    if isinstance(lifted, (Min, Max)):
                        return self._eliminate_parts(lifted, atoms)
                    relaxed = relax_floors(e, v)
                    if relaxed is None or monotonicity(relaxed, v) is None:
                        raise Unbounded(f"cannot tell how an index varies with {self.describe(v)}")
                    e = relaxed
                    continue
                highs, lows = self._bounds(v, atoms)
            chosen = highs if direction > 0 else lows
            if not chosen:
                raise Unbounded(f"nothing bounds {self.describe(v)} from {'above' if direction > 0 else 'below'}")
            bound = Min(*chosen) if direction > 0 else Max(*chosen)
            atoms = self._drop(v, atoms, highs, lows)
            if atoms is None:
                return None  # the variable's range is empty: this case never happens
            e = e.xreplace({v: bound})
        raise Unbounded("index expression too complex")

    @staticmethod
    def _drop(v: sp.Symbol, atoms: list[Atom], highs: list[sp.Expr], lows: list[sp.Expr]) -> list[Atom] | None:
        """The atoms without v plus what v's bounds imply about the rest (low <= high); None if infeasible."""
        remaining = []
        for a in atoms:
            if a.has(v):
                a = sp.expand(a)  # v may cancel out: (W - k*v) + k*v
            if not a.has(v):
                remaining.append(a)
        for low in lows:
            for high in highs:
                gap = sp.expand(low - high)
                if gap.is_Number:
                    if gap > 0:
                        return None
                elif len(remaining) < len(atoms) + _FM_LIMIT:
                    remaining.append(gap)
        return remaining

    def _range_facts(self, atoms: list[Atom]) -> tuple[sp.Expr, ...] | None:
        """Parameter facts implied by nonempty variable ranges (a loop whose body runs has lower <= upper);
        None when some range is provably empty."""
        key = tuple(atoms)
        if key not in self._facts_cache:
            self._facts_cache[key] = self._compute_range_facts(atoms)
        return self._facts_cache[key]

    def _compute_range_facts(self, atoms: list[Atom]) -> tuple[sp.Expr, ...] | None:
        facts = []
        variables = {s for a in atoms for s in a.free_symbols if s in self.order}
        for v in variables:
            highs, lows = self._bounds(v, atoms)
            for low in lows:
                for high in highs:
                    gap = sp.expand(high - low)
                    if gap.free_symbols & self.order.keys():
                        continue
                    if gap.is_Number:
                        if gap < 0:
                            return None
                        continue
                    facts.append(gap)
        return _fact_forms(facts)

    def _eliminate_parts(self, lifted: sp.Expr, atoms: list[Atom]) -> sp.Expr | None:
        """Bound each argument of a lifted Min/Max separately."""
        parts, failure = [], None
        for arg in lifted.args:
            try:
                bound = self._eliminate(arg, atoms)
            except Unbounded as err:
                if isinstance(lifted, Max):
                    raise
                failure = err  # a Min is below each of its arguments: one bounded argument is enough
                continue
            if bound is None:
                return None
            parts.append(bound)
        if not parts:
            raise failure or Unbounded("index expression too complex")
        return type(lifted)(*parts)

    def _bounds(self, v: sp.Symbol, atoms: list[Atom]) -> tuple[list[sp.Expr], list[sp.Expr]]:
        """Upper and lower bounds of v implied by the atoms that are linear in v."""
        key = (v, tuple(a for a in atoms if a.has(v)), _facts[-1])
        if key not in self._bounds_cache:
            self._bounds_cache[key] = self._compute_bounds(v, list(key[1]))
        highs, lows = self._bounds_cache[key]
        return list(highs), list(lows)

    def _compute_bounds(self, v: sp.Symbol, atoms: list[Atom]) -> tuple[list[sp.Expr], list[sp.Expr]]:
        highs, lows = [], []
        for atom in atoms:
            if not atom.has(v):
                continue
            expanded = sp.expand(atom)
            rest, part = expanded.as_independent(v, as_Add=True)
            coeff = sp.expand(part / v)
            if coeff.has(v) or coeff == 0:
                continue
            if nonneg(coeff):
                highs.append(floordiv(-rest, coeff))
            elif nonneg(-coeff):
                lows.append(ceildiv(rest, -coeff))
        return list(dict.fromkeys(highs)), list(dict.fromkeys(lows))

    def _name_remainders(self, e: sp.Expr, atoms: list[Atom]) -> tuple[sp.Expr, list[Atom]]:
        """Give names to divisions of range variables: each `x % d` becomes a fresh innermost variable in
        [0, d - 1] (indices are nonnegative, so is the remainder), and each floor(x / d) that a constraint
        mentions a fresh q with d*q <= x <= d*q + d - 1, so that the constraint becomes linear."""
        variables = self.order.keys()
        mods = set()
        for x in (e, *atoms):
            mods |= {m for m in x.atoms(sp.Mod) if m.args[0].free_symbols & variables}
        mapping, extra = {}, []
        for m in sorted(mods, key=sp.default_sort_key):
            r = self._new_variable("rem", f"the remainder {m}")
            mapping[m] = r
            extra += [-r, r - m.args[1] + 1]
        if mapping:
            e, atoms = e.xreplace(mapping), [a.xreplace(mapping) for a in atoms]
        quotients = {}
        for atom in atoms:
            for f in atom.atoms(sp.floor):
                num, den = sp.fraction(sp.together(f.args[0]))
                if num.free_symbols & variables and not den.free_symbols & variables and f not in quotients:
                    q = self._new_variable("quo", f"the quotient {f}")
                    quotients[f] = q
                    extra += [den * q - num, num - den * q - den + 1]
        if quotients:
            e, atoms = e.xreplace(quotients), [a.xreplace(quotients) for a in atoms]
        return e, atoms + extra

    def _new_variable(self, name: str, origin: str) -> sp.Symbol:
        self._fresh += 1
        v = sp.Symbol(f"{name}{self._fresh}", integer=True)
        self.order[v] = max(self.order.values(), default=0) + 1
        self.origins[v] = origin
        return v


def _fact_forms(facts: Iterable[sp.Expr]) -> tuple[sp.Expr, ...]:
    """Each fact as written and unwrapped (see _unwrap_fact): the prover substitutes either form."""
    forms = []
    for fact in facts:
        forms += [canon(fact), _unwrap_fact(fact)]
    return tuple(dict.fromkeys(forms))


def _is_linear(e: sp.Expr, v: sp.Symbol) -> bool:
    rest, part = sp.expand(e).as_independent(v, as_Add=True)
    return not sp.cancel(part / v).has(v)


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


def _contradictory(atoms: list[Atom]) -> bool:
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


def _normalize(atoms: list[Atom]) -> list[list[Atom]]:
    """Atoms with Min/Max split: Max(a, b) <= 0 is a conjunction, Min(a, b) <= 0 a disjunction (cases)."""
    cases: list[list[Atom]] = [[]]
    for atom in atoms:
        options = _atom_options(atom)
        if not options:
            return []
        if len(cases) * len(options) > _CASE_LIMIT:
            continue
        cases = [case + option for case in cases for option in options]
    return cases


def _atom_options(atom: Atom) -> list[list[Atom]]:
    if atom.is_Number:
        return [] if atom > 0 else [[]]
    if not atom.has(Min, Max):
        return [[atom]]
    lifted = lift(atom)
    if isinstance(lifted, Max):
        return _normalize(list(lifted.args))
    if isinstance(lifted, Min):
        return [option for arg in lifted.args for option in _atom_options(arg)]
    return [[lifted]]


# =================================================================================================== values ==


@dataclass(frozen=True)
class IntV:
    expr: sp.Expr


@dataclass(frozen=True)
class BoolV:
    cond: Cond


@dataclass(frozen=True)
class PtrV:
    """A pointer into parameter `param` (None: memory that is no parameter: NRAM, shared, a local vector,
    a device buffer), `offset` bytes from its start (None: unknown, `why` says why)."""

    param: str | None
    offset: sp.Expr | None
    pointee: Type | None
    why: str = ""

    @property
    def elem(self) -> int | None:
        return _type_size(self.pointee) if self.pointee is not None else None


@dataclass(frozen=True)
class DimV:
    dims: tuple[sp.Expr, sp.Expr, sp.Expr]


@dataclass(frozen=True, eq=False)
class RefV:
    """A caller's scalar variable seen from a helper: `&x` passed for an out-parameter (read and written
    through `*p`), or x bound to a reference parameter (auto: the parameter reads and assigns x)."""

    frame: "_Frame"
    name: str
    auto: bool = False

    def get(self) -> "Value":
        return self.frame.env.get(self.name)


Value = IntV | BoolV | PtrV | DimV | RefV | None  # None: a value not followed (floats, structs...)


@dataclass(frozen=True)
class Access:
    """Bytes [.., end) of `param` touched where `path` holds; end None when unbounded (`why`)."""

    param: str
    end: sp.Expr | None
    path: tuple[Cond, ...]
    read: bool
    write: bool
    copy: bool = False  # a host <-> device copy in a CUDA/HIP launcher
    why: str = ""


_NAMED_SIZES = {
    "__m512": 64, "__m512i": 64, "__m512d": 64, "__m512h": 64, "__m256": 32, "__m256i": 32, "__m256d": 32,
    "__m256h": 32, "__m128": 16, "__m128i": 16, "__m128d": 16, "__m128h": 16, "__half": 2, "half": 2,
    "__nv_bfloat16": 2, "__hip_bfloat16": 2, "bfloat16_t": 2, "__half2": 4, "half2": 4, "dim3": 12,
    "__mmask8": 1, "__mmask16": 2, "__mmask32": 4, "__mmask64": 8, "size_t": 8,
}
_MASK_TYPES = {"__mmask8", "__mmask16", "__mmask32", "__mmask64"}


def _type_size(t: Type | None) -> int | None:
    if isinstance(t, ScalarType):
        return 1 if t.dtype == DType.bool else (t.dtype.bits // 8 or None)
    if isinstance(t, VectorType):
        return t.lanes * t.dtype.bits // 8
    if isinstance(t, PointerType):
        return 8
    if isinstance(t, ReferenceType):
        return _type_size(t.referee)
    if isinstance(t, ArrayType):
        inner = _type_size(t.element)
        if inner is not None and isinstance(t.size, Const) and isinstance(t.size.value, int):
            return inner * t.size.value
        return None
    if isinstance(t, NamedType):
        return _NAMED_SIZES.get(t.name)
    return None


def _is_int_type(t: Type | None) -> bool:
    if isinstance(t, ScalarType):
        return t.dtype.is_int or t.dtype == DType.bool
    if isinstance(t, ReferenceType):
        return _is_int_type(t.referee)
    return isinstance(t, NamedType) and t.name in _MASK_TYPES | {"size_t"}


def _is_buffer(t: Type) -> bool:
    return isinstance(t, (PointerType, ArrayType))


def _pointee(t: Type) -> Type | None:
    if isinstance(t, PointerType):
        return t.pointee
    if isinstance(t, ArrayType):
        return t.element
    return None


def _show(e: Node) -> str:
    """Short C-like text of an expression, for reasons."""
    if isinstance(e, Var):
        return e.name
    if isinstance(e, Const):
        return str(e.value)
    if isinstance(e, BuiltinVar):
        return f"{e.name}.{e.axis}" if e.axis else e.name
    if isinstance(e, BinOp):
        return f"{_show(e.lhs)} {e.op} {_show(e.rhs)}"
    if isinstance(e, UnaryOp):
        return f"{_show(e.operand)}{e.op}" if e.postfix else f"{e.op}{_show(e.operand)}"
    if isinstance(e, Index):
        return f"{_show(e.base)}[{_show(e.index)}]"
    if isinstance(e, Call):
        return f"{e.name}(...)"
    if isinstance(e, Cast):
        return _show(e.expr)
    if isinstance(e, Member):
        return f"{_show(e.base)}.{e.field}"
    return type(e).__name__


# ============================================================================================== intrinsics ==
# x86 loads/stores are recognised by name: _mm{512,256,}_[mask_|maskz_]{load,loadu,store,storeu,stream}_<type>.

_X86_MEMORY = re.compile(r"^_mm(512|256)?_(mask_|maskz_)?(load|loadu|store|storeu|stream|lddqu)_"
                         r"(ps|pd|ph|ss|sd|si512|si256|si128|epi8|epi16|epi32|epi64)$")
_X86_LANE_BYTES = {"ps": 4, "pd": 8, "ph": 2, "epi8": 1, "epi16": 2, "epi32": 4, "epi64": 8}
_MIN_NAMES = {"min", "std::min", "::min", "imin", "umin", "llmin", "__min"}
_MAX_NAMES = {"max", "std::max", "::max", "imax", "umax", "llmax", "__max"}
_PASS_THROUGH = {"_cvtu32_mask16", "_cvtu32_mask8", "_cvtu64_mask64", "_cvtu32_mask32", "_load_mask16",
                 "std::move"}
_HOST_COPIES = {"cudaMemcpy", "cudaMemcpyAsync", "hipMemcpy", "hipMemcpyAsync", "hipMemcpyHtoD", "hipMemcpyDtoH",
                "hipMemcpyHtoDAsync", "hipMemcpyDtoHAsync", "cudaMemcpyToSymbol", "hipMemcpyToSymbol"}
_BYTE_COPIES = {"memcpy", "std::memcpy", "memmove", "std::memmove", "__builtin_memcpy"}
_BYTE_SETS = {"memset", "std::memset", "__builtin_memset", "cudaMemset", "hipMemset"}
_ALLOCATORS = {"cudaMalloc", "hipMalloc", "cudaMallocManaged", "hipMallocManaged", "cudaMallocHost",
               "hipHostMalloc", "posix_memalign"}
# Functions that take a pointer without touching what it points to (or only NRAM/device memory).
_NO_TOUCH = {"cudaFree", "hipFree", "free", "std::free", "cudaFreeHost", "hipHostFree", "_mm_prefetch",
             "__builtin_prefetch", "printf", "std::printf", "assert"}
_FLOAT_MIN_MAX = {"fminf", "fmaxf", "fmin", "fmax", "std::fmin", "std::fmax"}


# ================================================================================================== walker ==


@dataclass
class _Frame:
    """One function activation: variable values and declared types; `returns` collects (path suffix, value)."""

    env: dict[str, Value]
    types: dict[str, Type]
    path_base: int
    returns: list[tuple[tuple[Cond, ...], Value]] = field(default_factory=list)
    # local arrays filled as arr[i] = f(i) (i a loop counter): name -> (i, f(i)); None once filled otherwise
    tables: dict[str, tuple[sp.Symbol, Value] | None] = field(default_factory=dict)


@dataclass
class _Loop:
    broke: bool = False


_CALL_DEPTH = 12
_TYPE_NODES = (ScalarType, VectorType, PointerType, ArrayType, NamedType, ReferenceType)


class _Analysis:
    """Symbolic interpretation of one entry point, collecting the accesses of its pointer parameters."""

    def __init__(self, module: Module, scalars: dict[str, int], launch: dict):
        self.module = module
        self.dialect = module.dialect
        self.functions: dict[str, list[Function]] = {}
        for f in module.functions:
            if f.body is not None:
                self.functions.setdefault(f.name, []).append(f)
        self.scalars = {k: sp.Integer(int(v)) for k, v in scalars.items()}
        self.launch_given = bool(launch)
        self.launch = _launch_values(launch)
        self.conditions: list[Cond] = []
        self.condition_ids: dict[Cond, int] = {}
        self.abstractions: dict[sp.Expr, sp.Symbol] = {}
        self.definitions: dict[sp.Symbol, sp.Expr] = {}
        self.order: dict[sp.Symbol, int] = {}
        self.origins: dict[sp.Symbol, str] = {}
        self.builtin_atoms: list[Atom] = []
        self.builtins: dict[str, sp.Expr] = {}
        self.accesses: list[Access] = []
        self.frames: list[_Frame] = []
        self.loops: list[_Loop] = []
        self.globals: dict[str, Value] = {}
        self.global_types: dict[str, Type] = {}
        self.bounder = Bounder(self.conditions, self.order, self.origins)
        self._counter = 0
        self._builtin_rank = -10_000

    # ------------------------------------------------------------------------------------------ driver --

    def run(self, entry: Function) -> None:
        self.frames.append(_Frame({}, {}, 0))
        for g in self.module.globals:
            self.global_types[g.name] = g.type
            value = self.ev(g.init, ()) if g.init is not None else None
            self.globals[g.name] = self.retype(value, g.type, g.name)
        env: dict[str, Value] = {}
        for p in entry.params:
            if _is_buffer(p.type):
                env[p.name] = PtrV(p.name, sp.Integer(0), _pointee(p.type))
            elif _is_int_type(p.type):
                env[p.name] = IntV(self.scalars.get(p.name, _param_symbol(p.name)))
            else:
                env[p.name] = None
        self.frames[-1] = _Frame(env, {p.name: p.type for p in entry.params}, 0)
        if entry.body is not None:
            self.exec_block(entry.body, ())

    def extent_of(self, param: Param) -> Extent:
        """Bound every access of param; host copies, when there are any, are what sizes a host buffer."""
        accesses = [a for a in self.accesses if a.param == param.name]
        pointee = _pointee(param.type)
        dtype = pointee.dtype if isinstance(pointee, (ScalarType, VectorType)) else None
        reads = any(a.read for a in accesses)
        writes = any(a.write for a in accesses)
        copies = [a for a in accesses if a.copy]
        used = copies or accesses
        source = "allocation" if copies else "indices"
        if not accesses:
            return Extent(param.name, sp.Integer(0), False, False, source, "the entry never touches it", dtype)
        elem = (_type_size(pointee) if pointee is not None else None) or 1
        self.bounder.work = 0
        self.bounder.deadline = time.monotonic() + _TIME_LIMIT_S
        ends = []
        for access in used:
            if access.end is None:
                return Extent(param.name, None, reads, writes, source, access.why, dtype)
            try:
                bound = self.bounder.maximum(access.end, tuple(self.builtin_atom_conds()) + access.path)
            except Unbounded as err:
                return Extent(param.name, None, reads, writes, source, str(err), dtype)
            if bound is not None:
                ends.append(bound)
        if not ends:
            return Extent(param.name, sp.Integer(0), reads, writes, source, "no access can happen", dtype)
        launch_free = not self.launch_given
        deadline = time.monotonic() + _TIDY_TIME_S
        total = Max(*[_finish(e, launch_free, _Budget(_TIDY_PROOFS // 4, deadline)) for e in ends])
        total = _finish(total, launch_free, _Budget(_TIDY_PROOFS, deadline))
        total = _finish(self.expand_definitions(total), launch_free, _Budget(_TIDY_PROOFS, deadline))
        elements = _finish(ceildiv(sp.floor(total), elem), launch_free, _Budget(_TIDY_PROOFS // 4, deadline))
        return Extent(param.name, to_sympy(elements), reads, writes, source, None, dtype)

    def builtin_atom_conds(self) -> list[Cond]:
        return [((atom,),) for atom in self.builtin_atoms]

    # ---------------------------------------------------------------------------------------- symbols --

    def fresh(self, name: str, origin: str, rank: int | None = None) -> sp.Symbol:
        self._counter += 1
        symbol = sp.Symbol(f"{name}_{self._counter}", integer=True)
        self.order[symbol] = self._counter if rank is None else rank
        self.origins[symbol] = origin
        return symbol

    def opaque(self, origin: str) -> IntV:
        return IntV(self.fresh("u", origin))

    def sel(self, cond: Cond, a: sp.Expr, b: sp.Expr) -> sp.Expr:
        """The integer `cond ? a : b`."""
        if cond == TRUE:
            return a
        if cond == FALSE:
            return b
        if cond is not None and len(cond) == 1 and len(cond[0]) == 1:
            # `a < b ? a : b` and the like are Min/Max, which bound without splitting cases
            atom = sp.expand(cond[0][0])
            difference = sp.expand(a - b)
            if atom in (difference, difference + 1):
                return Min(a, b)
            if atom in (-difference, 1 - difference):
                return Max(a, b)
        if cond not in self.condition_ids:
            self.condition_ids[cond] = len(self.conditions)
            self.conditions.append(cond)
        return Sel(sp.Integer(self.condition_ids[cond]), a, b)

    def launch_dim(self, name: str) -> sp.Expr:
        symbol = _launch_symbol(name)
        return self.launch.get(symbol, symbol)

    def builtin(self, node: BuiltinVar) -> Value:
        """threadIdx/blockIdx/taskId... are range variables in [0, dim - 1]; the dimensions are launch symbols."""
        name = node.name
        axis = node.axis or ""
        dims = {"threadIdx": "blockDim", "blockIdx": "gridDim"}
        if name in ("blockDim", "gridDim"):
            return IntV(self.launch_dim(f"{name}_{axis}"))
        if name in ("taskDim", "taskDimX", "taskDimY", "taskDimZ", "coreDim", "clusterDim"):
            return IntV(self.launch_dim(name))
        if name == "warpSize":
            return IntV(sp.Integer(64 if self.dialect == "hip" else 32))
        bounds = {"threadIdx": f"blockDim_{axis}", "blockIdx": f"gridDim_{axis}", "taskId": "taskDim",
                  "taskIdX": "taskDimX", "taskIdY": "taskDimY", "taskIdZ": "taskDimZ", "coreId": "coreDim",
                  "clusterId": "clusterDim"}
        if name not in bounds and name not in dims:
            return None
        key = f"{name}_{axis}" if axis else name
        if key not in self.builtins:
            self._builtin_rank += 1
            symbol = self.fresh(key, f"{name}.{axis}" if axis else name, rank=self._builtin_rank)
            self.builtins[key] = symbol
            self.builtin_atoms += [-symbol, symbol - self.launch_dim(bounds[name]) + 1]
        return IntV(self.builtins[key])

    # --------------------------------------------------------------------------------------- recording --

    def record(self, pointer: Value, length: sp.Expr | None, path: tuple[Cond, ...], read: bool, write: bool,
               copy: bool = False, what: str = "") -> None:
        """An access of `length` bytes at `pointer` (nothing is recorded for non-parameter memory)."""
        if not isinstance(pointer, PtrV) or pointer.param is None:
            return
        if pointer.offset is None or length is None:
            why = pointer.why or f"the size of {what or 'an access'} is not an integer expression we follow"
            self.accesses.append(Access(pointer.param, None, path, read, write, copy, why))
            return
        nonempty = compare(">=", length, sp.Integer(1))
        self.accesses.append(Access(pointer.param, pointer.offset + length, path + (nonempty,), read, write, copy))

    def escape(self, pointer: Value, path: tuple[Cond, ...], why: str) -> None:
        if isinstance(pointer, PtrV) and pointer.param is not None:
            self.accesses.append(Access(pointer.param, None, path, True, True, False, why))

    # ------------------------------------------------------------------------------------- environment --

    @property
    def frame(self) -> _Frame:
        return self.frames[-1]

    def lookup(self, name: str) -> Value:
        value = self.frame.env[name] if name in self.frame.env else self.globals.get(name)
        if isinstance(value, RefV) and value.auto:
            return value.get()
        return value

    def type_of(self, name: str) -> Type | None:
        return self.frame.types.get(name, self.global_types.get(name))

    def set_var(self, name: str, value: Value) -> None:
        current = self.frame.env.get(name)
        if isinstance(current, RefV) and current.auto:
            self.write_ref(current, value)
        elif name in self.frame.env or name not in self.globals:
            self.frame.env[name] = self.retype(value, self.type_of(name), name)
        else:
            self.globals[name] = self.retype(value, self.global_types.get(name), name)

    def write_ref(self, ref: RefV, value: Value) -> None:
        ref.frame.env[ref.name] = self.retype(value, ref.frame.types.get(ref.name), ref.name)

    def retype(self, value: Value, t: Type | None, name: str = "") -> Value:
        """A value as stored in a variable of type t (pointers take the variable's pointee)."""
        if isinstance(value, RefV):
            return value
        if isinstance(t, ReferenceType):
            t = t.referee
        if isinstance(t, ArrayType):
            return value if isinstance(value, PtrV) else PtrV(None, None, t.element)
        if isinstance(t, PointerType):
            if isinstance(value, PtrV):
                return dataclasses.replace(value, pointee=t.pointee)
            return PtrV(None, None, t.pointee) if value is None or isinstance(value, IntV) else None
        if _is_int_type(t):
            if isinstance(value, BoolV):
                value = IntV(self.sel(value.cond, sp.Integer(1), sp.Integer(0)))
            if isinstance(t, ScalarType) and t.dtype == DType.bool and isinstance(value, IntV):
                return BoolV(compare("!=", value.expr, sp.Integer(0)))
            if isinstance(value, IntV) and name:
                return IntV(self.abstract(name, value.expr))
            return value if isinstance(value, IntV) else None
        if isinstance(t, NamedType) and t.name == "dim3":
            return value if isinstance(value, DimV) else None
        if isinstance(t, (ScalarType, VectorType)):
            return None  # floating point
        return value

    def abstract(self, name: str, expr: sp.Expr) -> sp.Expr:
        """A size computed from the parameters (OH, tiles, per_task...) becomes a symbol of its own, defined
        by the expression: bounds stay small and keep their correlations; definitions are put back at the end."""
        if expr.is_Number or expr.is_Symbol or self.symbols_of(expr) & (self.order.keys() | _THREAD_DIMS):
            return expr
        if any(p.base == 2 for p in expr.atoms(sp.Pow)):
            return expr  # a lane mask (1 << k) - 1: its form tells how many lanes it enables
        if expr not in self.abstractions:
            self._counter += 1
            known = {"positive": True} if self.holds_nonneg(expr - 1) else (
                {"nonnegative": True} if self.holds_nonneg(expr) else {})
            symbol = sp.Symbol(f"{name}_{self._counter}", integer=True, **known)
            self.abstractions[expr] = symbol
            self.definitions[symbol] = expr
        return self.abstractions[expr]

    def symbols_of(self, expr: sp.Expr) -> set[sp.Symbol]:
        """The free symbols of expr and of the conditions of its Sel terms."""
        symbols = set(expr.free_symbols)
        for sel in expr.atoms(Sel):
            cond = self.conditions[int(sel.args[0])]
            for conj in cond or ():
                for atom in conj:
                    symbols |= self.symbols_of(atom)
        return symbols

    def holds_nonneg(self, e: sp.Expr, facts: tuple[sp.Expr, ...] = (), depth: int = 0) -> bool:
        """nonneg(e), with each choice Sel(k, a, b) checked on both sides under the condition of that side."""
        sels = e.atoms(Sel)
        if not sels:
            with assuming(facts):
                return nonneg(e)
        if depth > 4:
            return False
        sel = min(sels, key=sp.default_sort_key)
        k, a, b = sel.args
        cond = self.conditions[int(k)]
        for value, branch in ((a, cond), (b, cond_not(cond))):
            for conj in (branch if branch is not None else TRUE):
                side_facts = facts + _fact_forms(-atom for atom in conj)
                if not self.holds_nonneg(e.xreplace({sel: value}), side_facts, depth + 1):
                    return False
        return True

    def expand_definitions(self, e: sp.Expr) -> sp.Expr:
        """e in the entry's parameters: derived sizes replaced by their definitions, choices by Piecewise."""
        for _ in range(len(self.definitions) + len(self.conditions) + 1):
            if not e.free_symbols & self.definitions.keys() and not e.has(Sel):
                break
            e = self.sels_to_piecewise(e.xreplace(self.definitions))
        return e

    def sels_to_piecewise(self, e: sp.Expr) -> sp.Expr:
        def convert(sel: sp.Expr) -> sp.Expr:
            k, a, b = sel.args
            cond = self.conditions[int(k)]
            if cond is None:
                return Max(a, b)
            holds = sp.Or(*[sp.And(*[sp.Le(atom, 0) for atom in conj]) for conj in cond])
            return sp.Piecewise((a, holds), (b, True))

        return e.replace(lambda x: isinstance(x, Sel), convert) if e.has(Sel) else e

    def havoc(self, names: set[str], why: str) -> None:
        for name in sorted(names):
            if name.startswith("*"):  # written through a pointer: a caller's variable, if it is one
                ref = self.lookup(name[1:])
                if isinstance(ref, RefV):
                    self.write_ref(ref, self.opaque(f"{ref.name}, which {why}") if isinstance(ref.get(), IntV)
                                   else None)
                continue
            value = self.lookup(name)
            if isinstance(value, IntV):
                self.set_var(name, self.opaque(f"{name}, which {why}"))
            elif isinstance(value, PtrV) and value.param is not None:
                self.set_var(name, PtrV(value.param, None, value.pointee, f"pointer {name} {why}"))
            elif isinstance(value, BoolV):
                self.set_var(name, BoolV(None))

    # ---------------------------------------------------------------------------------------- statements --

    def exec_block(self, block: Block, path: tuple[Cond, ...]) -> tuple[Cond, ...] | None:
        """Run a block; the path after it, or None when it always leaves (return/break/continue)."""
        declared: dict[str, tuple[bool, Value, Type | None]] = {}
        env, types = self.frame.env, self.frame.types
        result: tuple[Cond, ...] | None = path
        for stmt in block.body:
            if isinstance(stmt, Decl) and stmt.name not in declared:
                declared[stmt.name] = (stmt.name in env, env.get(stmt.name), types.get(stmt.name))
            result = self.exec(stmt, result)
            if result is None:
                break
        for name, (existed, value, t) in declared.items():
            if existed:
                env[name] = value
                if t is not None:
                    types[name] = t
            else:
                env.pop(name, None)
                types.pop(name, None)
        return result

    def exec(self, s: Stmt, path: tuple[Cond, ...]) -> tuple[Cond, ...] | None:
        """Run a statement; the path after it, or None when it always leaves."""
        if isinstance(s, Decl):
            self.frame.types[s.name] = s.type
            if s.init is not None and not isinstance(s.init, InitList):
                value = self.ev(s.init, path)
            else:
                if isinstance(s.init, InitList):
                    for item in s.init.items:
                        self.ev(item, path)
                value = None
            self.frame.env[s.name] = self.retype(value, s.type, s.name)
            self.frame.tables.pop(s.name, None)
            return path
        if isinstance(s, Assign):
            self.assign(s.target, s.value, s.op, path)
            return path
        if isinstance(s, ExprStmt):
            self.ev(s.expr, path)
            return path
        if isinstance(s, Block):
            return self.exec_block(s, path)
        if isinstance(s, If):
            return self.exec_if(s, path)
        if isinstance(s, For):
            return self.exec_for(s, path)
        if isinstance(s, (While, DoWhile)):
            return self.exec_while(s, path)
        if isinstance(s, Switch):
            return self.exec_switch(s, path)
        if isinstance(s, Return):
            value = self.ev(s.value, path) if s.value is not None else None
            self.frame.returns.append((path[self.frame.path_base:], value))
            return None
        if isinstance(s, Break):
            if self.loops:
                self.loops[-1].broke = True
            return None
        if isinstance(s, Continue):
            return None
        if isinstance(s, KernelLaunch):
            self.launch_kernel(s, path)
            return path
        if isinstance(s, Pragma):
            return self.exec(s.body, path) if s.body is not None else path
        return path  # Barrier, Case labels outside a switch, RawStmt

    def exec_if(self, s: If, path: tuple[Cond, ...]) -> tuple[Cond, ...] | None:
        """Both branches under their conditions; a branch that always leaves guards what follows."""
        cond = self.cond(s.cond, path)
        negated = cond_not(cond)
        before = [dict(f.env) for f in self.frames]  # every frame: a helper may assign its caller's variables
        then_path = self.exec_block(s.then, path + (cond,))
        then_envs = [f.env for f in self.frames]
        for f, env in zip(self.frames, before):
            f.env = dict(env)
        else_path = self.exec_block(s.otherwise, path + (negated,)) if s.otherwise else path + (negated,)
        else_envs = [f.env for f in self.frames]
        if then_path is None and else_path is None:
            return None
        if then_path is None:
            return else_path
        if else_path is None:
            for f, env in zip(self.frames, then_envs):
                f.env = env
            return then_path
        for f, a, b in zip(self.frames, then_envs, else_envs):
            f.env = self.merge(cond, a, b)
        return path

    def merge(self, cond: Cond, then_env: dict[str, Value], else_env: dict[str, Value]) -> dict[str, Value]:
        """Variables after an if/else: equal values stay, integers and offsets become choices on cond."""
        merged = {}
        for name in then_env.keys() & else_env.keys():
            a, b = then_env[name], else_env[name]
            if a is b or a == b:
                merged[name] = a
            elif isinstance(a, IntV) and isinstance(b, IntV):
                merged[name] = IntV(self.sel(cond, a.expr, b.expr))
            elif isinstance(a, PtrV) and isinstance(b, PtrV) and a.param == b.param and a.param is not None \
                    and a.offset is not None and b.offset is not None:
                merged[name] = dataclasses.replace(a, offset=self.sel(cond, a.offset, b.offset))
            elif isinstance(a, PtrV) and isinstance(b, PtrV) and a.param is None and b.param is None:
                merged[name] = a
            else:
                merged[name] = None
        return merged

    def exec_switch(self, s: Switch, path: tuple[Cond, ...]) -> tuple[Cond, ...] | None:
        """Each case under `value == label` (default and fallthrough under weaker guards)."""
        value = self.ev(s.value, path)
        before = dict(self.frame.env)
        assigned = _assigned_names(s.body)
        guard: Cond = FALSE
        live = False  # a case label was reached and no break since (fallthrough keeps the environment)
        for stmt in s.body.body:
            if isinstance(stmt, Case):
                if stmt.value is None or not isinstance(value, IntV):
                    label: Cond = TRUE
                else:
                    label_value = self.ev(stmt.value, path)
                    label = compare("==", value.expr, label_value.expr) if isinstance(label_value, IntV) else None
                if not live:
                    self.frame.env = dict(before)
                guard = cond_or(guard, label) if live else label
                live = True
                continue
            if live and self.exec(stmt, path + (guard,)) is None:
                live = False
        self.frame.env = before
        self.havoc(assigned, "is assigned in a switch")
        return path

    def exec_while(self, s: While | DoWhile, path: tuple[Cond, ...]) -> tuple[Cond, ...]:
        assigned = _assigned_names(s.body)
        self.havoc(assigned, "changes inside a loop")
        cond = self.cond(s.cond, path)
        body_path = path + (cond,) if isinstance(s, While) else path
        self.loops.append(_Loop())
        self.exec_block(s.body, body_path)
        self.loops.pop()
        self.havoc(assigned, "changes inside a loop")
        return path

    def exec_for(self, s: For, path: tuple[Cond, ...]) -> tuple[Cond, ...] | None:
        """The body once, with the counter a range variable bounded by its start and the condition."""
        declared = [st.name for st in s.init if isinstance(st, Decl)]
        saved = {name: (self.frame.env.get(name), self.frame.types.get(name)) for name in declared}
        for st in s.init:
            path = self.exec(st, path) or path
        updates = _loop_updates(s.step)
        counter = _pick_counter(updates, s.cond)
        body_assigned = _assigned_names(s.body)
        # other variables the step moves by a fixed amount (`++kh, p += pitch`) follow the counter
        inductions = [u for u in updates if u is not counter and u[1] in ("add", "sub") and u[0] not in body_assigned
                      and not (_names(u[2]) & body_assigned)]
        assigned = body_assigned | (_assigned_names(s.step) if s.step is not None else set())
        followed = {u[0] for u in inductions} | ({counter[0]} if counter else set())
        self.havoc(assigned - followed, "changes inside a loop")
        body_path, exit_value, iteration, iterations = path, None, None, None
        start = self.lookup(counter[0]) if counter else None
        entry_values = {u[0]: self.lookup(u[0]) for u in inductions}
        if counter and isinstance(start, IntV):
            name, kind, step_node = counter
            step = self.ev(step_node, path) if step_node is not None else IntV(sp.Integer(1))
            value, atoms, rep = self.counter_range(name, kind, start.expr, step)
            self.set_var(name, IntV(value))
            cond = self.cond(s.cond, path) if s.cond is not None else TRUE
            body_path = path + ((tuple(atoms),), cond)
            exit_value = self.exit_value(kind, start.expr, step, rep, cond)
            iteration = _iteration(kind, start.expr, step, rep, value)
            if exit_value is not None and iteration is not None:
                iterations = _iteration(kind, start.expr, step, rep, exit_value, after=True)
        elif counter:
            self.havoc({counter[0]}, "changes inside a loop")
            body_path = path + (self.cond(s.cond, path),) if s.cond is not None else path
        self.step_inductions(inductions, entry_values, iteration, path)
        loop = _Loop()
        self.loops.append(loop)
        self.exec_block(s.body, body_path)
        self.loops.pop()
        self.havoc(assigned - followed, "changes inside a loop")
        if counter:
            if exit_value is not None and not loop.broke:
                self.set_var(counter[0], IntV(exit_value))
            else:
                self.havoc({counter[0]}, "is the counter of a loop left early")
        self.step_inductions(inductions, entry_values, None if loop.broke else iterations, path)
        for name, (value, t) in saved.items():
            if t is None:
                self.frame.env.pop(name, None)
                self.frame.types.pop(name, None)
            else:
                self.frame.env[name], self.frame.types[name] = value, t
        return path

    def step_inductions(self, inductions: list[tuple[str, str, Expr | None]], entry: dict[str, Value],
                        count: sp.Expr | None, path: tuple[Cond, ...]) -> None:
        """Set each induction variable to its entry value moved `count` steps (havoc when count is None)."""
        for name, kind, node in inductions:
            step = self.ev(node, path) if node is not None else IntV(sp.Integer(1))
            start = entry[name]
            if count is None or not isinstance(step, IntV):
                self.set_var(name, start)
                self.havoc({name}, "changes inside a loop")
                continue
            moved = step.expr * count * (1 if kind == "add" else -1)
            if isinstance(start, IntV):
                self.set_var(name, IntV(start.expr + moved))
            elif isinstance(start, PtrV):
                self.set_var(name, self.advance(start, moved))
            else:
                self.havoc({name}, "changes inside a loop")

    def counter_range(self, name: str, kind: str, start: sp.Expr, step: Value
                      ) -> tuple[sp.Expr, list[Atom], tuple[sp.Symbol, sp.Expr] | None]:
        """The counter's value in the body, the atoms bounding it, and (variable, stride) for constant
        strides > 1 where the counter is start + stride * variable."""
        origin = f"loop counter {name}"
        if kind in ("mul", "div"):
            i = self.fresh(name, origin)
            return i, ([start - i] if kind == "mul" else [i - start]), None
        s = step.expr if isinstance(step, IntV) else None
        if kind == "sub" and s is not None:
            s = -s
        if s is None:
            i = self.fresh(name, origin)
            return i, [], None
        if s.is_Integer and abs(int(s)) > 1:
            t = self.fresh(f"{name}_step", f"the iteration number of loop counter {name}")
            return start + s * t, [-t], (t, s)
        i = self.fresh(name, origin)
        if nonneg(-s - 1) or (kind == "sub" and not nonneg(s - 1)):
            return i, [i - start], None
        # `i += s` (or `i -= s` with a negative s) in a loop that terminates moves i upwards
        return i, [start - i], None

    def exit_value(self, kind: str, start: sp.Expr, step: Value, rep: tuple[sp.Symbol, sp.Expr] | None,
                   cond: Cond) -> sp.Expr | None:
        """The counter's value after the loop (first value failing a one-sided condition), when known."""
        if cond is None or len(cond) != 1 or not isinstance(step, IntV) or kind not in ("add", "sub"):
            return None
        s = step.expr if kind == "add" else -step.expr
        if rep is not None:
            t, stride = rep
            highs, _ = self.bounder._bounds(t, list(cond[0]))
            if not highs:
                return None
            return start + stride * Max(0, Min(*highs) + 1)
        symbols = [v for atom in cond[0] for v in atom.free_symbols if v in self.order]
        counter = max(symbols, key=self.order.__getitem__, default=None)
        if counter is None:
            return None
        highs, lows = self.bounder._bounds(counter, list(cond[0]))
        if s == 1 and highs:
            return Max(start, Min(*highs) + 1)
        if s == -1 and lows:
            return Min(start, Max(*lows) - 1)
        return None

    # ----------------------------------------------------------------------------------------- launches --

    def launch_kernel(self, s: KernelLaunch, path: tuple[Cond, ...]) -> None:
        """Follow a launch from host code only when a parameter's own memory reaches the kernel."""
        args = [self.ev(a, path) for a in s.args]
        if not any(isinstance(a, PtrV) and a.param is not None for a in args):
            return
        kernel = self.functions.get(s.kernel)
        if not kernel:
            for a in args:
                self.escape(a, path, f"it is passed to kernel {s.kernel}, whose body is not in the module")
            return
        grid, block = self.ev(s.config.grid, path), self.ev(s.config.block, path)
        saved = (self.launch, self.builtins, self.launch_given)
        launch = dict(self.launch)
        for name, value in (("gridDim", grid), ("blockDim", block)):
            dims = value.dims if isinstance(value, DimV) else (
                (value.expr, sp.Integer(1), sp.Integer(1)) if isinstance(value, IntV) else None)
            for axis, d in zip("xyz", dims or ()):
                launch[_launch_symbol(f"{name}_{axis}")] = d
        self.launch, self.builtins, self.launch_given = launch, {}, True
        self.inline(kernel[0], args, (), path)
        self.launch, self.builtins, self.launch_given = saved

    # ----------------------------------------------------------------------------------------- expressions --

    def ev(self, e: Expr | None, path: tuple[Cond, ...]) -> Value:
        """The value of an expression; reads of parameter memory in it are recorded under path."""
        if e is None:
            return None
        if isinstance(e, Const):
            if e.value is None:
                return PtrV(None, None, None)
            if isinstance(e.value, bool) or e.dtype == DType.bool:
                return IntV(sp.Integer(int(e.value)))
            if isinstance(e.value, int):
                return IntV(sp.Integer(e.value))
            return None
        if isinstance(e, Var):
            return self.lookup(e.name)
        if isinstance(e, BuiltinVar):
            return self.builtin(e)
        if isinstance(e, BinOp):
            return self.ev_binop(e, path)
        if isinstance(e, UnaryOp):
            return self.ev_unary(e, path)
        if isinstance(e, Call):
            return self.call(e, path)
        if isinstance(e, MethodCall):
            self.ev(e.obj, path)
            for a in e.args:
                self.ev(a, path)
            return PtrV(None, None, None) if e.method == "data" else None
        if isinstance(e, Index):
            return self.element(e, path, read=True, write=False)
        if isinstance(e, Member):
            if isinstance(e.base, Var) and not e.arrow:
                return self.lookup(f"{e.base.name}.{e.field}")
            self.ev(e.base, path)
            return None
        if isinstance(e, Cast):
            return self.retype(self.ev(e.expr, path), e.type)
        if isinstance(e, Construct):
            values = [self.ev(a, path) for a in e.args]
            if isinstance(e.type, NamedType) and e.type.name == "dim3":
                dims = [v.expr if isinstance(v, IntV) else None for v in values] + [sp.Integer(1)] * 3
                return DimV(tuple(dims[:3])) if None not in dims[:3] else None
            if len(values) == 1:
                return self.retype(values[0], e.type)
            return None
        if isinstance(e, Select):
            cond = self.cond(e.cond, path)
            a = self.ev(e.then, path + (cond,))
            b = self.ev(e.otherwise, path + (cond_not(cond),))
            return self.choose(cond, a, b)
        if isinstance(e, SizeOf):
            size = _type_size(self.type_of(e.arg.name)) if isinstance(e.arg, Var) else (
                _type_size(e.arg) if isinstance(e.arg, _TYPE_NODES) else None)
            return IntV(sp.Integer(size)) if size else None
        if isinstance(e, InitList):
            for item in e.items:
                self.ev(item, path)
            return None
        return None

    def choose(self, cond: Cond, a: Value, b: Value) -> Value:
        if isinstance(a, BoolV) and isinstance(b, BoolV):
            return BoolV(cond_or(cond_and(cond, a.cond), cond_and(cond_not(cond), b.cond)))
        if isinstance(a, BoolV):
            a = IntV(self.sel(a.cond, sp.Integer(1), sp.Integer(0)))
        if isinstance(b, BoolV):
            b = IntV(self.sel(b.cond, sp.Integer(1), sp.Integer(0)))
        if isinstance(a, IntV) and isinstance(b, IntV):
            return IntV(self.sel(cond, a.expr, b.expr))
        if isinstance(a, PtrV) and isinstance(b, PtrV) and a.param == b.param:
            if a.param is None:
                return a
            if a.offset is not None and b.offset is not None:
                return dataclasses.replace(a, offset=self.sel(cond, a.offset, b.offset))
        return None

    def ev_binop(self, e: BinOp, path: tuple[Cond, ...]) -> Value:
        op = e.op
        if op == "=" or (op.endswith("=") and op not in ("==", "!=", "<=", ">=")):
            return self.assign(e.lhs, e.rhs, op[:-1], path)
        if op == ",":
            self.ev(e.lhs, path)
            return self.ev(e.rhs, path)
        if op in ("&&", "||", "<", "<=", ">", ">=", "==", "!="):
            return BoolV(self.cond(e, path))
        return self.arith(op, self.ev(e.lhs, path), self.ev(e.rhs, path))

    def arith(self, op: str, a: Value, b: Value) -> Value:
        """Integer arithmetic and pointer offsets (C `/` on indices is floor division)."""
        if isinstance(a, BoolV):
            a = IntV(self.sel(a.cond, sp.Integer(1), sp.Integer(0)))
        if isinstance(b, BoolV):
            b = IntV(self.sel(b.cond, sp.Integer(1), sp.Integer(0)))
        if isinstance(a, PtrV) and isinstance(b, IntV) and op in "+-":
            return self.advance(a, b.expr if op == "+" else -b.expr)
        if isinstance(a, IntV) and isinstance(b, PtrV) and op == "+":
            return self.advance(b, a.expr)
        if isinstance(a, PtrV) and isinstance(b, PtrV) and op == "-":
            if a.param == b.param and a.param is not None and None not in (a.offset, b.offset) and a.elem:
                return IntV(floordiv(a.offset - b.offset, a.elem))
            return None
        if not (isinstance(a, IntV) and isinstance(b, IntV)):
            return None
        x, y = a.expr, b.expr
        if op == "+":
            return IntV(x + y)
        if op == "-":
            return IntV(x - y)
        if op == "*":
            return IntV(x * y)
        if op == "/":
            return IntV(floordiv(x, y)) if y != 0 else None
        if op == "%":
            if y.is_Integer and x.is_Integer and y != 0:
                return IntV(sp.Integer(int(x) % int(y)))
            return IntV(sp.Mod(x, y)) if y != 0 else None
        if op == "<<":
            return IntV(x * sp.Integer(2) ** y)
        if op == ">>":
            return IntV(floordiv(x, sp.Integer(2) ** y)) if y.is_Integer else None
        if op == "&":
            return self.bit_and(x, y)
        if op in ("|", "^") and x.is_Integer and y.is_Integer:
            return IntV(sp.Integer(int(x) | int(y) if op == "|" else int(x) ^ int(y)))
        return None

    def bit_and(self, x: sp.Expr, y: sp.Expr) -> Value:
        if x.is_Integer and y.is_Integer:
            return IntV(sp.Integer(int(x) & int(y)))
        if x.is_Integer:
            x, y = y, x
        if not y.is_Integer:
            return None
        c = int(y)
        if c < 0 and (-c) & (-c - 1) == 0:  # ~(2^k - 1): round down to a multiple of 2^k
            return IntV(-c * floordiv(x, -c))
        if c >= 0 and (c + 1) & c == 0:  # 2^k - 1: the low k bits
            return IntV(sp.Mod(x, c + 1))
        return None

    def advance(self, p: PtrV, count: sp.Expr) -> PtrV:
        if p.param is None:
            return p
        if p.offset is None:
            return p
        if p.elem is None:
            return PtrV(p.param, None, p.pointee, f"arithmetic on a pointer of unknown element size into {p.param}")
        return dataclasses.replace(p, offset=p.offset + count * p.elem)

    def ev_unary(self, e: UnaryOp, path: tuple[Cond, ...]) -> Value:
        op = e.op
        if op in ("++", "--"):
            target = e.operand
            old = self.ev(target, path) if not isinstance(target, Var) else self.lookup(target.name)
            one = IntV(sp.Integer(1))
            if isinstance(target, Var):
                new = self.arith("+" if op == "++" else "-", old, one)
                self.set_var(target.name, new)
                return old if e.postfix else new
            self.write_target(target, path, read=True)
            return None
        if op == "*":
            return self.deref(e.operand, path, read=True, write=False)
        if op == "&":
            return self.address_of(e.operand, path)
        if op == "!":
            return BoolV(self.cond(e, path))
        value = self.ev(e.operand, path)
        if isinstance(value, BoolV):
            value = IntV(self.sel(value.cond, sp.Integer(1), sp.Integer(0)))
        if not isinstance(value, IntV):
            return None
        if op == "-":
            return IntV(-value.expr)
        if op == "~":
            return IntV(-value.expr - 1)
        return value

    def address_of(self, target: Expr, path: tuple[Cond, ...]) -> Value:
        if isinstance(target, Index):
            base = self.ev(target.base, path)
            index = self.ev(target.index, path)
            if isinstance(base, PtrV) and isinstance(index, IntV):
                return self.advance(base, index.expr)
            if isinstance(base, PtrV):
                return PtrV(base.param, None, base.pointee, f"index {_show(target.index)} is not followed")
            return None
        if isinstance(target, UnaryOp) and target.op == "*":
            return self.ev(target.operand, path)
        if isinstance(target, Var) and target.name in self.frame.env \
                and not isinstance(self.type_of(target.name), ArrayType):
            current = self.frame.env[target.name]
            if isinstance(current, RefV) and current.auto:
                return dataclasses.replace(current, auto=False)
            return RefV(self.frame, target.name)
        return PtrV(None, None, None)

    # --------------------------------------------------------------------------------- memory accesses --

    def element(self, e: Index, path: tuple[Cond, ...], read: bool, write: bool) -> Value:
        """p[i]: records the access when p points into a parameter; the loaded value (unknown integers)."""
        base = self.ev(e.base, path)
        index = self.ev(e.index, path)
        if isinstance(base, RefV):
            return base.get() if read else None
        if not isinstance(base, PtrV):
            return None
        if read and not write and base.param is None and isinstance(e.base, Var) and isinstance(index, IntV):
            entry = self.frame.tables.get(e.base.name)
            if entry is not None:
                counter, value = entry
                return self.substitute(value, counter, index.expr)
        pointee = base.pointee
        if isinstance(pointee, ArrayType):  # row of a multi-dimensional array
            return PtrV(None, None, pointee.element) if base.param is None else PtrV(
                base.param, None, pointee.element, "multi-dimensional array parameters are not followed")
        if base.param is not None:
            if isinstance(index, IntV):
                self.record(self.advance(base, index.expr), sp.Integer(base.elem) if base.elem else None,
                            path, read, write, what=_show(e))
            else:
                self.record(PtrV(base.param, None, pointee, f"index {_show(e.index)} of {_show(e.base)} is not an "
                                 "integer expression we follow"), None, path, read, write)
        return self.loaded(pointee, _show(e)) if read else None

    def deref(self, target: Expr, path: tuple[Cond, ...], read: bool, write: bool) -> Value:
        pointer = self.ev(target, path)
        if isinstance(pointer, RefV):
            return pointer.get() if read else None
        if isinstance(pointer, PtrV) and pointer.param is not None:
            self.record(pointer, sp.Integer(pointer.elem) if pointer.elem else None, path, read, write,
                        what=f"*{_show(target)}")
        return self.loaded(pointer.pointee if isinstance(pointer, PtrV) else None, f"*{_show(target)}") \
            if read else None

    def loaded(self, pointee: Type | None, text: str) -> Value:
        """A value read from memory: integers are unknown values (they bound nothing)."""
        if _is_int_type(pointee):
            return self.opaque(f"the value of {text}, loaded from memory")
        if isinstance(pointee, PointerType):
            return PtrV(None, None, pointee.pointee)
        return None

    def write_target(self, target: Expr, path: tuple[Cond, ...], read: bool) -> None:
        if isinstance(target, Index):
            self.element(target, path, read=read, write=True)
        elif isinstance(target, UnaryOp) and target.op == "*":
            self.deref(target.operand, path, read=read, write=True)
        elif isinstance(target, Member) and not isinstance(target.base, Var):
            self.write_target(target.base, path, read=True)  # a field of an element: the element is rewritten
        elif not isinstance(target, Member):
            self.ev(target, path)

    def assign(self, target: Expr, value_node: Expr, op: str, path: tuple[Cond, ...]) -> Value:
        """target op= value: variables (and out-parameters) take the value; memory targets are writes."""
        value = self.ev(value_node, path)
        if isinstance(target, Member) and isinstance(target.base, Var) and not target.arrow:
            target = Var(f"{target.base.name}.{target.field}")  # a field of a local struct: its own variable
        if isinstance(target, Var):
            if op:
                value = self.arith(op, self.lookup(target.name), value)
            self.set_var(target.name, value)
            return self.lookup(target.name)
        pointer_node = target.operand if isinstance(target, UnaryOp) and target.op == "*" else (
            target.base if isinstance(target, Index) else None)
        if isinstance(pointer_node, Var) and isinstance(self.lookup(pointer_node.name), RefV):
            ref = self.lookup(pointer_node.name)  # *out = value in a helper: the caller's variable
            if op:
                value = self.arith(op, ref.get(), value)
            self.write_ref(ref, value)
            return value
        if isinstance(target, Index) and isinstance(target.base, Var):
            self.fill_table(target.base.name, target.index, value if not op else None, path)
        self.write_target(target, path, read=bool(op))
        return value

    def substitute(self, value: Value, symbol: sp.Symbol, replacement: sp.Expr) -> Value:
        """value with symbol replaced, inside the conditions of its Sel terms too."""
        def rewrite(e: sp.Expr) -> sp.Expr:
            e = e.replace(lambda x: isinstance(x, Sel), lambda x: self.sel(
                self.substitute_cond(self.conditions[int(x.args[0])], symbol, replacement), x.args[1], x.args[2]))
            return e.xreplace({symbol: replacement})

        if isinstance(value, IntV):
            return IntV(rewrite(value.expr))
        if isinstance(value, PtrV) and value.offset is not None:
            return dataclasses.replace(value, offset=rewrite(value.offset))
        return value

    @staticmethod
    def substitute_cond(cond: Cond, symbol: sp.Symbol, replacement: sp.Expr) -> Cond:
        if cond is None:
            return None
        return tuple(tuple(a.xreplace({symbol: replacement}) for a in conj) for conj in cond)

    def fill_table(self, name: str, index_node: Expr, value: Value, path: tuple[Cond, ...]) -> None:
        """Remember `arr[i] = f(i)` for a local array filled by a loop over i (masks, row pointers)."""
        if not isinstance(self.lookup(name), PtrV) or self.lookup(name).param is not None:
            return
        index = self.ev(index_node, path)
        tables = self.frame.tables
        usable = isinstance(index, IntV) and index.expr in self.order and isinstance(value, (IntV, PtrV))
        if usable and name not in tables:
            tables[name] = (index.expr, value)
        elif tables.get(name) != ((index.expr, value) if usable else None):
            tables[name] = None

    # --------------------------------------------------------------------------------------- conditions --

    def cond(self, e: Expr, path: tuple[Cond, ...]) -> Cond:
        """A C condition as DNF atoms (None when it is not about integers we follow)."""
        if isinstance(e, BinOp) and e.op == "&&":
            a = self.cond(e.lhs, path)
            return cond_and(a, self.cond(e.rhs, path + (a,)))
        if isinstance(e, BinOp) and e.op == "||":
            a = self.cond(e.lhs, path)
            return cond_or(a, self.cond(e.rhs, path + (cond_not(a),)))
        if isinstance(e, UnaryOp) and e.op == "!":
            return cond_not(self.cond(e.operand, path))
        if isinstance(e, BinOp) and e.op in ("<", "<=", ">", ">=", "==", "!="):
            a, b = self.ev(e.lhs, path), self.ev(e.rhs, path)
            a = IntV(self.sel(a.cond, sp.Integer(1), sp.Integer(0))) if isinstance(a, BoolV) else a
            b = IntV(self.sel(b.cond, sp.Integer(1), sp.Integer(0))) if isinstance(b, BoolV) else b
            if isinstance(a, IntV) and isinstance(b, IntV):
                return compare(e.op, a.expr, b.expr)
            return None
        value = self.ev(e, path)
        if isinstance(value, BoolV):
            return value.cond
        if isinstance(value, IntV):
            return compare("!=", value.expr, sp.Integer(0))
        return None

    # -------------------------------------------------------------------------------------------- calls --

    def call(self, e: Call, path: tuple[Cond, ...]) -> Value:
        """Helpers of the module are interpreted; memory intrinsics record accesses; others are opaque."""
        name = e.name
        if name in self.functions:
            candidates = [f for f in self.functions[name] if len(f.params) >= len(e.args)] or self.functions[name]
            callee = candidates[0]
            args = []
            for i, node in enumerate(e.args):
                param_type = callee.params[i].type if i < len(callee.params) else None
                if isinstance(param_type, ReferenceType) and isinstance(node, Var) and node.name in self.frame.env:
                    current = self.frame.env[node.name]
                    args.append(current if isinstance(current, RefV) and current.auto
                                else RefV(self.frame, node.name, auto=True))
                else:
                    args.append(self.ev(node, path))
            return self.inline(callee, args, e.template_args, path)
        if name in _MIN_NAMES | _MAX_NAMES and len(e.args) == 2:
            a, b = (self.ev(x, path) for x in e.args)
            if isinstance(a, IntV) and isinstance(b, IntV):
                return IntV((Min if name in _MIN_NAMES else Max)(a.expr, b.expr))
            return None
        if name in _PASS_THROUGH and e.args:
            return self.ev(e.args[0], path)
        match = _X86_MEMORY.match(name)
        if match:
            return self.x86_memory(match, e, path)
        if name in ("__memcpy", "__memcpy_async"):
            return self.bang_copy(e, path)
        if name in _HOST_COPIES or name in _BYTE_COPIES:
            return self.byte_copy(e, path, host=name in _HOST_COPIES)
        if name in _BYTE_SETS and len(e.args) >= 3:
            dst, _, size = (self.ev(a, path) for a in e.args[:3])
            self.record(dst, size.expr if isinstance(size, IntV) else None, path, False, True, what=name)
            return None
        if name in ("std::fill", "std::fill_n", "std::copy", "std::copy_n") and len(e.args) == 3:
            return self.std_algorithm(name, e, path)
        if name in _ALLOCATORS and e.args:
            self.allocate(e.args[0], path)
            for a in e.args[1:]:
                self.ev(a, path)
            return None
        if name.startswith(("atomic", "__ldg", "__stcg", "__ldcg")) and e.args:
            pointer = self.ev(e.args[0], path)
            for a in e.args[1:]:
                self.ev(a, path)
            if isinstance(pointer, PtrV):
                write = not name.startswith(("__ldg", "__ldcg"))
                self.record(pointer, sp.Integer(pointer.elem) if pointer.elem else None, path, True, write,
                            what=name)
                return self.loaded(pointer.pointee, name) if not write or name.startswith("atomic") else None
            return None
        return self.unknown_call(e, path)

    def unknown_call(self, e: Call, path: tuple[Cond, ...]) -> Value:
        for a in e.args:
            if isinstance(a, UnaryOp) and a.op == "&" and isinstance(a.operand, Var):
                self.havoc({a.operand.name}, f"is written by {e.name}")
                continue
            value = self.ev(a, path)
            if e.name not in _NO_TOUCH and not e.name.startswith("__bang_"):
                self.escape(value, path, f"it is passed to {e.name}, which the analysis does not model")
        return None

    def allocate(self, target: Expr, path: tuple[Cond, ...]) -> None:
        while isinstance(target, Cast):
            target = target.expr
        if isinstance(target, UnaryOp) and target.op == "&" and isinstance(target.operand, Var):
            name = target.operand.name
            self.set_var(name, PtrV(None, None, _pointee(self.type_of(name) or NamedType("void"))))

    def inline(self, f: Function, args: list[Value], template_args: tuple, path: tuple[Cond, ...]) -> Value:
        """Interpret a call of a function defined in the module with its arguments bound."""
        if len(self.frames) > _CALL_DEPTH or f.body is None:
            for a in args:
                self.escape(a, path, f"calls nest too deeply at {f.name}")
            return None
        env: dict[str, Value] = {}
        types: dict[str, Type] = {}
        for i, p in enumerate(f.params):
            value = args[i] if i < len(args) else (self.ev(p.default, path) if p.default is not None else None)
            types[p.name] = p.type
            env[p.name] = value
        for tp, targ in zip(f.template_params, template_args):
            if tp.type is not None and not isinstance(targ, _TYPE_NODES):
                env[tp.name] = self.ev(targ, path)
                types[tp.name] = tp.type
        frame = _Frame({}, types, len(path))
        self.frames.append(frame)
        frame.env = {name: self.retype(value, types.get(name)) for name, value in env.items()}
        saved_loops, self.loops = self.loops, []
        try:
            self.exec_block(f.body, path)
        finally:
            self.frames.pop()
            self.loops = saved_loops
        return self.returned(frame.returns)

    def returned(self, returns: list[tuple[tuple[Cond, ...], Value]]) -> Value:
        """The value of a call: the returns folded into nested choices on the conditions that reach them."""
        if not returns:
            return None
        result = returns[-1][1]
        for conds, value in reversed(returns[:-1]):
            reach: Cond = TRUE
            for c in conds:
                reach = _strict_and(reach, c) if c is not None else reach
            result = self.choose(reach, value, result)
        return result

    # ------------------------------------------------------------------------------------ copy intrinsics --

    def byte_copy(self, e: Call, path: tuple[Cond, ...], host: bool) -> Value:
        """memcpy(dst, src, bytes) and the CUDA/HIP host copies; a host copy sizes the host buffer."""
        values = [self.ev(a, path) for a in e.args]
        if e.name in ("cudaMemcpyToSymbol", "hipMemcpyToSymbol"):
            src, size = values[1], values[2] if len(values) > 2 else None
            self.record(src, size.expr if isinstance(size, IntV) else None, path, True, False, copy=True,
                        what=e.name)
            return None
        if len(values) < 3:
            return None
        dst, src, size = values[:3]
        length = size.expr if isinstance(size, IntV) else None
        self.record(dst, length, path, False, True, copy=host, what=e.name)
        self.record(src, length, path, True, False, copy=host, what=e.name)
        return None

    def bang_copy(self, e: Call, path: tuple[Cond, ...]) -> Value:
        """__memcpy(dst, src, size, dir[, dst_stride, src_stride, segnum | 3-D form][, cluster])."""
        values = [self.ev(a, path) for a in e.args]
        ints = [v.expr if isinstance(v, IntV) else None for v in values]
        dst, src, size = values[0], values[1], ints[2]
        if len(values) in (4, 5):
            spans = (size, size)
        elif len(values) in (7, 8):
            dst_stride, src_stride, segnum = ints[4], ints[5], ints[6]
            spans = (_span(size, (dst_stride, segnum)), _span(size, (src_stride, segnum)))
        elif len(values) in (12, 13):
            spans = (_span(size, (ints[4], ints[5]), (ints[6], ints[7])),
                     _span(size, (ints[8], ints[9]), (ints[10], ints[11])))
        else:
            spans = (None, None)
        self.record(dst, spans[0], path, False, True, what="__memcpy")
        self.record(src, spans[1], path, True, False, what="__memcpy")
        return None

    def x86_memory(self, match: re.Match, e: Call, path: tuple[Cond, ...]) -> Value:
        """An AVX/AVX-512 load or store: the full vector, or the lanes its mask can enable."""
        width_bits, masking, action, kind = match.groups()
        width = {"512": 64, "256": 32}.get(width_bits or "", 16)
        if kind in ("ss", "sd"):
            width = 4 if kind == "ss" else 8
        values = [self.ev(a, path) for a in e.args]
        store = action.startswith(("store", "stream"))
        if store:
            pointer, mask = values[0], (values[1] if masking else None)
        else:
            pointer = values[-1]
            mask = values[0] if masking == "maskz_" else (values[1] if masking == "mask_" else None)
        length: sp.Expr | None = sp.Integer(width)
        if masking and kind in _X86_LANE_BYTES:
            lanes = width // _X86_LANE_BYTES[kind]
            count = _mask_lanes(mask.expr, lanes) if isinstance(mask, IntV) else sp.Integer(lanes)
            length = count * _X86_LANE_BYTES[kind]
        self.record(pointer, length, path, not store, store, what=e.name)
        return None

    def std_algorithm(self, name: str, e: Call, path: tuple[Cond, ...]) -> Value:
        """std::fill/copy(_n) over pointer ranges."""
        first, second, third = (self.ev(a, path) for a in e.args)
        if name in ("std::fill_n", "std::copy_n"):
            count = second.expr if isinstance(second, IntV) else None
            elem = first.elem if isinstance(first, PtrV) else None
            length = count * elem if count is not None and elem else None
            target = third if name == "std::copy_n" else first
            if name == "std::copy_n":
                self.record(first, length, path, True, False, what=name)
            self.record(target, length, path, False, True, what=name)
            return None
        length = None
        if isinstance(first, PtrV) and isinstance(second, PtrV) and None not in (first.offset, second.offset):
            length = second.offset - first.offset
        if name == "std::copy":
            self.record(first, length, path, True, False, what=name)
            self.record(third, length, path, False, True, what=name)
        else:
            self.record(first, length, path, False, True, what=name)
        return None


def _span(size: sp.Expr | None, *strides: tuple[sp.Expr | None, sp.Expr | None]) -> sp.Expr | None:
    """Bytes spanned by a strided copy: size + sum(stride_i * segnum_i)."""
    if size is None or any(s is None or n is None for s, n in strides):
        return None
    return size + sum((s * n for s, n in strides), sp.Integer(0))


def _mask_lanes(mask: sp.Expr, lanes: int) -> sp.Expr:
    """How many leading lanes a mask value can enable: 2^k - 1 enables k, a constant up to its highest bit,
    a choice either side's count, anything else all of them."""
    if mask.is_Integer:
        return sp.Integer(min(lanes, (int(mask) & ((1 << lanes) - 1)).bit_length()))
    if isinstance(mask, Sel):
        k, a, b = mask.args
        return Sel(k, _mask_lanes(a, lanes), _mask_lanes(b, lanes))
    plus_one = mask + 1
    if plus_one.is_Pow and plus_one.base == 2:
        return Min(plus_one.exp, lanes)
    return sp.Integer(lanes)


def _loop_updates(step: Stmt | None) -> list[tuple[str, str, Expr | None]]:
    """(variable, kind, step expression) for each update of a for step: kind add/sub (step node; None = 1)
    or mul/div; `++i, p += n` gives two."""
    if isinstance(step, ExprStmt):
        expr = step.expr
        if isinstance(expr, BinOp) and expr.op == ",":
            return _loop_updates(ExprStmt(expr.lhs)) + _loop_updates(ExprStmt(expr.rhs))
        if isinstance(expr, UnaryOp) and expr.op in ("++", "--") and isinstance(expr.operand, Var):
            return [(expr.operand.name, "add" if expr.op == "++" else "sub", None)]
        if isinstance(expr, BinOp) and isinstance(expr.lhs, Var) and expr.op in ("=", "+=", "-=", "<<=", ">>=",
                                                                                  "*=", "/="):
            return _loop_updates(Assign(expr.lhs, expr.rhs, expr.op[:-1]))
        return []
    if isinstance(step, Assign) and isinstance(step.target, Var):
        name = step.target.name
        kinds = {"+": "add", "-": "sub", "<<": "mul", "*": "mul", ">>": "div", "/": "div"}
        if step.op in kinds:
            return [(name, kinds[step.op], step.value if step.op in "+-" else None)]
        value = step.value
        if step.op == "" and isinstance(value, BinOp) and value.op in ("+", "-") and value.lhs == Var(name):
            return [(name, "add" if value.op == "+" else "sub", value.rhs)]
        if step.op == "" and isinstance(value, BinOp) and value.op == "+" and value.rhs == Var(name):
            return [(name, "add", value.lhs)]
    return []


def _pick_counter(updates: list[tuple[str, str, Expr | None]], cond: Expr | None
                  ) -> tuple[str, str, Expr | None] | None:
    """The update of the variable the condition tests (else the first one)."""
    tested = _names(cond)
    return next((u for u in updates if u[0] in tested), updates[0] if updates else None)


def _names(node: Node | None) -> set[str]:
    return {n.name for n in walk(node) if isinstance(n, Var)} if node is not None else set()


def _iteration(kind: str, start: sp.Expr, step: Value, rep: tuple[sp.Symbol, sp.Expr] | None,
               value: sp.Expr, after: bool = False) -> sp.Expr | None:
    """How many steps the counter took to reach value (for the exit value: how many iterations ran)."""
    if rep is not None:
        return floordiv(value - start, rep[1]) if after else rep[0]
    if kind not in ("add", "sub") or not isinstance(step, IntV) or step.expr not in (1, -1):
        return None
    return (value - start) * (1 if (kind == "add") == (step.expr == 1) else -1)


def _assigned_names(node: Node | None) -> set[str]:
    """Variables a statement may assign (targets of =, op=, ++, --, and &x handed to calls)."""
    names: set[str] = set()
    if node is None:
        return names
    for n in walk(node):
        if isinstance(n, Assign) and isinstance(n.target, Var):
            names.add(n.target.name)
        elif isinstance(n, Assign) and isinstance(n.target, (UnaryOp, Index)):
            pointer = n.target.operand if isinstance(n.target, UnaryOp) else n.target.base
            if isinstance(pointer, Var):
                names.add("*" + pointer.name)
        elif isinstance(n, BinOp) and n.op.endswith("=") and n.op not in ("==", "!=", "<=", ">=") \
                and isinstance(n.lhs, Var):
            names.add(n.lhs.name)
        elif isinstance(n, UnaryOp) and n.op in ("++", "--") and isinstance(n.operand, Var):
            names.add(n.operand.name)
        elif isinstance(n, Call):
            for a in n.args:
                if isinstance(a, UnaryOp) and a.op == "&" and isinstance(a.operand, Var):
                    names.add(a.operand.name)
    return names
