"""Upper bounds of index expressions over the domain their path conditions describe, by eliminating range
variables innermost first (Fourier-Motzkin style)."""

from __future__ import annotations

import sympy as sp

from kernel_ir.extents.conditions import FALSE, TRUE, Atom, Cond, cond_not, contradictory
from kernel_ir.extents.monotone import is_linear, monotonicity, relax_floors
from kernel_ir.extents.prover import (
    assuming, ceildiv, charge, current_facts, fact_forms, floordiv, lift, nonneg, too_big, work_done,
)
from kernel_ir.extents.symbols import Max, Min, Sel, When


class Unbounded(Exception):
    """An index has no finite bound over its domain; the message says why."""


class OutOfBudget(Unbounded):
    """Bounding an extent took more work than it is allowed (counted in steps, never in seconds, so that
    the same program gets the same answer on every run, however loaded the machine)."""


_CASE_LIMIT = 256
_PATH_CASE_LIMIT = 64
_FM_LIMIT = 24
_ENUMERATION_LIMIT = 16  # values of a variable tried one by one when nothing else bounds an index
_NESTING_LIMIT = 48  # Min/Max parts bounded inside one another (well within Python's recursion limit)
_WORK_LIMIT = 4000  # elimination steps per extent
_BOUND_WORK = 100_000  # work units per extent (prover.work_done: steps and node counts)


class Bounder:
    """Upper bounds of integer expressions over the domain described by path conditions.

    conditions: the condition table `Sel` terms refer to; order: creation rank of every range variable
    (a larger rank is a more inner variable, eliminated first); origins: what each range variable stands for.
    `relaxed` says whether the bounds found since `start_extent` may exceed the largest value: set where a
    step gives up exactness (a floor replaced by its rational bound, a constraint or case dropped, a remainder
    decoupled from its dividend, a Min bounded argument by argument); eliminating a monotone expression at
    its variable's bound, splitting cases and trying values one by one keep the bound exact.
    """

    def __init__(self, conditions: list[Cond], order: dict[sp.Symbol, int], origins: dict[sp.Symbol, str]):
        self.conditions = conditions
        self.order = order
        self.origins = origins
        self._fresh = 0
        self.work = 0  # elimination steps of the current extent
        self._work_limit = 0  # the prover's work count at which the current extent runs out of budget
        self._memo: dict[tuple, sp.Expr | None | Unbounded] = {}
        self._pending: set[tuple] = set()  # eliminations in progress, to stop one that comes back to itself
        self._bounds_cache: dict[tuple, tuple[list[sp.Expr], list[sp.Expr]]] = {}
        self._facts_cache: dict[tuple, tuple[sp.Expr, ...] | None] = {}
        self._relaxed_keys: set[tuple] = set()  # memoized eliminations whose bound was relaxed
        self.relaxed = False

    def start_extent(self) -> None:
        """Give the next extent a fresh work budget."""
        self.work = 0
        self._work_limit = work_done() + _BOUND_WORK
        self.relaxed = False

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
                self.relaxed = True
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
                        if not contradictory(case):
                            work.append((e.xreplace(choice), case))
                continue
            shared = self._shared_extremum(e, atoms)
            if shared is not None:
                # a Min/Max met more than once: split it so that all its occurrences take the same argument
                for i, chosen in enumerate(shared.args):
                    order = [(chosen - other) if isinstance(shared, Min) else (other - chosen)
                             for other in shared.args[:i] + shared.args[i + 1:]]
                    case = [x.xreplace({shared: chosen}) for x in atoms] + order
                    if not contradictory(case):
                        work.append((e.xreplace({shared: chosen}), case))
                continue
            normals, complete = _normalize(atoms)
            self.relaxed |= not complete
            for normal in normals:
                if not contradictory(normal):
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
        if key in self._pending:
            # bounding a part of a Min/Max led back to the whole: no progress (a Min's other parts may do)
            raise Unbounded("bounding an index leads back to the same bound")
        if len(self._pending) >= _NESTING_LIMIT:
            raise Unbounded("the index expressions nest too deeply to bound")
        if key not in self._memo:
            self._pending.add(key)
            outer, self.relaxed = self.relaxed, False
            try:
                self._memo[key] = self._eliminate_uncached(e, atoms)
            except OutOfBudget:
                raise  # not a property of (e, atoms): the next extent, with a budget of its own, may bound it
            except Unbounded as err:
                self._memo[key] = err
            finally:
                self._pending.discard(key)
                if self.relaxed:
                    self._relaxed_keys.add(key)
                self.relaxed = outer
        self.relaxed |= key in self._relaxed_keys
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
            if too_big(e):
                pulled = _pull_common_terms(e)
                e = _fewer_choices(pulled)  # both only shrink e, never lower it
                self.relaxed |= e != pulled
                if too_big(e):
                    raise Unbounded("the index expressions grow too complex to bound")
            charge(e)
            if self.work > _WORK_LIMIT or work_done() > self._work_limit:
                raise OutOfBudget(f"bounding needs more than {_WORK_LIMIT} elimination steps or "
                                  f"{_BOUND_WORK} units of work")
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
                highs, lows = self.bounds(w, atoms)
                atoms = self._drop(w, atoms, highs, lows)
                if atoms is None:
                    return None
                continue
            facts = loop_facts + fact_forms(-a for a in atoms if not a.free_symbols & self.order.keys())
            with assuming(facts):
                direction = monotonicity(e, v)
                if direction is None:
                    expanded = sp.expand(e)  # terms in v may cancel: (b*M + 4*t)*K + (M - 4*t)*K
                    direction = monotonicity(expanded, v)
                    e = expanded if direction is not None else e
                if direction == 0:  # v cancelled out of e: only its constraints on the others remain
                    highs, lows = self.bounds(v, atoms)
                    atoms = self._drop(v, atoms, highs, lows)
                    if atoms is None:
                        return None
                    continue
                if direction is None and is_linear(e, v):
                    # a linear function of unknown slope peaks at one end of the range
                    highs, lows = self.bounds(v, atoms)
                    if highs and lows:
                        e = Max(e.xreplace({v: Min(*highs)}), e.xreplace({v: Max(*lows)}))
                        atoms = self._drop(v, atoms, highs, lows)
                        if atoms is None:
                            return None
                        continue
                if direction is None:
                    lifted = lift(e)
                    if not isinstance(lifted, (Min, Max)):
                        lifted = _distribute(e)  # lift gives up on long sums; one Min/Max term is enough here
                    if isinstance(lifted, (Min, Max)):
                        return self._eliminate_parts(lifted, atoms)
                    relaxed = relax_floors(e, v)
                    if relaxed is None or monotonicity(relaxed, v) is None:
                        e, atoms = self._enumerate(e, v, atoms)
                        if atoms is None:
                            return None
                        continue
                    e = relaxed
                    self.relaxed = True
                    continue
                highs, lows = self.bounds(v, atoms)
            chosen = highs if direction > 0 else lows
            if not chosen:
                raise Unbounded(f"nothing bounds {self.describe(v)} from {'above' if direction > 0 else 'below'}")
            bound = Min(*chosen) if direction > 0 else Max(*chosen)
            atoms = self._drop(v, atoms, highs, lows)
            if atoms is None:
                return None  # the variable's range is empty: this case never happens
            e = e.xreplace({v: bound})
        raise Unbounded("index expression too complex")

    def _enumerate(self, e: sp.Expr, v: sp.Symbol, atoms: list[Atom]) -> tuple[sp.Expr, list[Atom] | None]:
        """e at every value of v, when constant bounds leave v only a few (sizes given as numbers make many
        ranges short): the largest of those is exact, however e varies with v."""
        highs, lows = self.bounds(v, atoms)
        highs = [h for h in highs if h.is_Integer]
        lows = [low for low in lows if low.is_Integer]
        if not highs or not lows or min(highs) - max(lows) >= _ENUMERATION_LIMIT:
            raise Unbounded(f"cannot tell how an index varies with {self.describe(v)}")
        low, high = int(max(lows)), int(min(highs))
        remaining = self._drop(v, atoms, highs, lows)
        if low > high or remaining is None:
            return e, None
        return Max(*[e.xreplace({v: sp.Integer(value)}) for value in range(low, high + 1)]), remaining

    def _drop(self, v: sp.Symbol, atoms: list[Atom], highs: list[sp.Expr], lows: list[sp.Expr]) -> list[Atom] | None:
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
                else:
                    self.relaxed = True
        # a constraint on v that is not linear in it took no part in v's bounds: it is dropped
        self.relaxed |= any(a.has(v) and _linear_form(sp.expand(a), v) is None for a in atoms)
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
        variables = sorted({s for a in atoms for s in a.free_symbols if s in self.order}, key=self.order.__getitem__)
        for v in variables:
            highs, lows = self.bounds(v, atoms)
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
        return fact_forms(facts)

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
        if isinstance(lifted, Min):  # the largest Min is the Min of its arguments' largest values only when
            # they peak together: arguments over different variables do, a failed or a shared one need not
            varying = [arg.free_symbols & self.order.keys() for arg in lifted.args]
            self.relaxed |= failure is not None or any(
                a & b for i, a in enumerate(varying) for b in varying[i + 1:])
        return type(lifted)(*parts)

    def bounds(self, v: sp.Symbol, atoms: list[Atom]) -> tuple[list[sp.Expr], list[sp.Expr]]:
        """Upper and lower bounds of v implied by the atoms that are linear in v."""
        key = (v, tuple(a for a in atoms if a.has(v)), current_facts())
        if key not in self._bounds_cache:
            self._bounds_cache[key] = self._compute_bounds(v, list(key[1]))
        highs, lows = self._bounds_cache[key]
        return list(highs), list(lows)

    def _compute_bounds(self, v: sp.Symbol, atoms: list[Atom]) -> tuple[list[sp.Expr], list[sp.Expr]]:
        highs, lows = [], []
        for atom in atoms:
            if not atom.has(v):
                continue
            expanded = _linear_form(sp.expand(atom), v)
            if expanded is None:
                continue
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
        self.relaxed |= bool(mods)  # the remainder's range, taken apart from its dividend's
        for m in sorted(mods, key=sp.default_sort_key):
            r = self._new_variable("rem", f"the remainder {m}")
            mapping[m] = r
            extra += [-r, r - m.args[1] + 1]
        if mapping:
            e, atoms = e.xreplace(mapping), [a.xreplace(mapping) for a in atoms]
        quotients = {}
        for atom in atoms:
            for f in sorted(atom.atoms(sp.floor), key=sp.default_sort_key):
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


def _normalize(atoms: list[Atom]) -> tuple[list[list[Atom]], bool]:
    """Atoms with Min/Max split: Max(a, b) <= 0 is a conjunction, Min(a, b) <= 0 a disjunction (cases); and
    whether every atom was kept (one that would make too many cases is dropped, which widens the domain)."""
    cases: list[list[Atom]] = [[]]
    complete = True
    for atom in atoms:
        options = _atom_options(atom)
        if not options:
            return [], True
        if len(cases) * len(options) > _CASE_LIMIT:
            complete = False
            continue
        cases = [case + option for case in cases for option in options]
    return cases, complete


def _atom_options(atom: Atom) -> list[list[Atom]]:
    if atom.is_Number:
        return [] if atom > 0 else [[]]
    if not atom.has(Min, Max):
        return [[atom]]
    lifted = lift(atom)
    if isinstance(lifted, Max):
        return _normalize(list(lifted.args))[0]
    if isinstance(lifted, Min):
        return [option for arg in lifted.args for option in _atom_options(arg)]
    return [[lifted]]


def _linear_form(atom: Atom, v: sp.Symbol) -> Atom | None:
    """An atom implied by `atom <= 0` that is linear in v: atom itself, or, where v occurs inside floor terms,
    atom with each of them replaced by its rational bound on the side that makes the atom no larger, over
    the (positive) common denominator. None when neither can be had."""
    if not _integer_atoms_in(atom, v):
        return atom
    relaxed = relax_floors(-atom, v)
    if relaxed is None:
        return None
    numerator, denominator = sp.fraction(sp.together(-relaxed))
    if not nonneg(denominator):
        return None
    numerator = sp.expand(numerator)
    return numerator if is_linear(numerator, v) else None


def _integer_atoms_in(e: sp.Expr, v: sp.Symbol) -> bool:
    return any(isinstance(x, (sp.floor, sp.ceiling)) and x.has(v) for x in sp.preorder_traversal(e))


def _pull_common_terms(e: sp.Expr) -> sp.Expr:
    """e with the terms shared by all the arguments of each Min/Max taken out of it: Min(a + x, a + y) is
    a + Min(x, y), the same value in fewer nodes."""
    def pull(x: sp.Expr) -> sp.Expr:
        if not isinstance(x, (Min, Max)):
            return x
        terms = [sp.Add.make_args(sp.expand(a)) for a in x.args]
        common = [t for t in dict.fromkeys(terms[0]) if all(t in other for other in terms[1:])]
        if not common:
            return x
        shared = sp.Add(*common)
        return shared + type(x)(*[sp.expand(a) - shared for a in x.args])

    return e.replace(lambda x: isinstance(x, (Min, Max)), pull)


def _fewer_choices(e: sp.Expr) -> sp.Expr:
    """e, when too big, with its terms Min(a1, a2, ...) (positive coefficient) cut down to their smallest
    arguments: a Min of fewer arguments is no smaller, so the result is still an upper bound of e."""
    terms = list(sp.Add.make_args(e))
    for i, term in enumerate(terms):
        coeff, extremum = term.as_coeff_Mul()
        if not too_big(sp.Add(*terms)):
            break
        if isinstance(extremum, Min) and coeff > 0:
            by_size = sorted(extremum.args, key=lambda a: (sp.count_ops(a), sp.default_sort_key(a)))
            while len(by_size) > 1 and too_big(sp.Add(*terms[:i], coeff * Min(*by_size), *terms[i + 1:])):
                by_size.pop()
            terms[i] = coeff * Min(*by_size)
    return sp.Add(*terms)


def _distribute(e: sp.Expr) -> sp.Expr:
    """rest + c*Min(a, b) as Min(rest + c*a, rest + c*b) (Max for c < 0; c a number), for the first such
    term of e; e itself when it has none."""
    terms = sp.Add.make_args(e)
    for i, term in enumerate(terms):
        coeff, extremum = term.as_coeff_Mul()
        if isinstance(extremum, (Min, Max)) and coeff != 0:
            rest = sp.Add(*terms[:i], *terms[i + 1:])
            kind = type(extremum) if coeff > 0 else (Max if isinstance(extremum, Min) else Min)
            return kind(*[rest + coeff * a for a in extremum.args])
    return e
