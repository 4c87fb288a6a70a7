"""Shared helpers of the loop transformations (split, fuse, reorder, contract).

- finding a loop by its variable name (plus an occurrence index) and splicing statements in its place;
- recognizing a canonical loop `for (int v = a; v < b; v += s)` (s a positive integer constant);
- substituting a variable and simplifying the affine index expressions that result (SymPy, exact for `int`
  arithmetic under -fwrapv since + - * distribute in modular arithmetic);
- a conservative dependence test on affine array indices: for two accesses to the same buffer it proves,
  level by level, that the two iterations must be equal; whatever it cannot prove is assumed to differ.

Assumptions the test makes (stated once here, relied on by every pass): distinct pointer parameters and
distinct local buffers do not alias (the corpus contract passes distinct arrays); `int` scalar parameters are
positive when they scale an index (they are sizes); iterations of a `ForKind.parallel` loop are independent
(docs/translation.md), so a dependence never links two different iterations of a parallel loop.
"""
from __future__ import annotations

import dataclasses
import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterator

import sympy

from kernel_ir.ir import (
    ArrayType, Assign, BinOp, Block, Break, Call, Cast, Const, Continue, Decl, DType, Expr, ExprStmt, For, ForKind,
    Function, If, Index, MethodCall, Module, Node, Param, PointerType, Pragma, RawExpr, ReferenceType, Return,
    ScalarType, Select, SizeOf, Stmt, UnaryOp, Var, While, DoWhile, Switch, children, walk, transform,
)
from passes.base import PassRefused

# Refusal codes shared by the four passes.
NOT_FOUND = "XP530"  # the named loop or buffer does not exist
NOT_CANONICAL = "XP531"  # not `for (int v = a; v < b; v += s)`, or the nest is not of the required shape
ILLEGAL = "XP532"  # a dependence (or a use) forbids the transformation
REASSOCIATES = "XP533"  # legal only by reassociating a floating-point reduction
BAD_OPTION = "XP534"  # an option value is out of range
UNSUPPORTED = "XP535"  # a construct the passes do not model (unknown call, pragma clause, pointer alias)

INT32 = ScalarType(DType.int32)
_PLAIN_LOOP_PRAGMA = re.compile(r"^\s*(omp\s+parallel\s+for|omp\s+simd|GCC\s+unroll\s+\d+|unroll(\s*\d+)?)"
                                r"(\s+schedule\s*\([^)]*\))*\s*$")
ASSIGN_OPS = frozenset({"=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "^=", "|="})
PURE_CALLS = frozenset({
    "expf", "exp", "exp2f", "logf", "log", "log2f", "sqrtf", "sqrt", "rsqrtf", "fabsf", "fabs", "fmaxf", "fminf",
    "fmax", "fmin", "tanhf", "tanh", "sinf", "sin", "cosf", "cos", "powf", "pow", "floorf", "ceilf", "roundf",
    "erff", "erf", "abs", "min", "max", "std::min", "std::max", "std::abs", "std::exp", "std::sqrt", "fmaf",
    "truncf", "rintf", "nearbyintf", "copysignf", "expm1f", "log1pf", "atanf", "atan2f", "asinf", "acosf",
    "__float_as_int", "__int_as_float", "__float_as_uint", "__uint_as_float", "__double_as_longlong",
    "__longlong_as_double", "__popc", "__popcll", "__ffs", "__ffsll", "__clz", "__clzll",
})


# ---------------------------------------------------------------- finding loops ------------------------------


@dataclass(frozen=True)
class LoopMatch:
    """A loop found in a function, with the chain of nodes above it (function body first)."""

    loop: For
    ancestors: tuple[Node, ...]


def function_of(module: Module, name: str) -> Function:
    try:
        fn = module.function(name)
    except KeyError:
        raise PassRefused(NOT_FOUND, f"no function named {name!r}") from None
    if fn.body is None:
        raise PassRefused(NOT_FOUND, f"function {name!r} has no body")
    return fn


def loop_var(loop: For) -> str | None:
    if len(loop.init) == 1 and isinstance(loop.init[0], Decl):
        return loop.init[0].name
    if len(loop.init) == 1 and isinstance(loop.init[0], ExprStmt):
        e = loop.init[0].expr
        if isinstance(e, BinOp) and e.op == "=" and isinstance(e.lhs, Var):
            return e.lhs.name
    return None


def loops_with_ancestors(node: Node, ancestors: tuple[Node, ...]) -> Iterator[LoopMatch]:
    """Pre-order: every For below node (node included) with its ancestors."""
    if isinstance(node, For):
        yield LoopMatch(node, ancestors)
    for child in children(node):
        yield from loops_with_ancestors(child, ancestors + (node,))


def find_loop(fn: Function, var: str, occurrence: int = 0) -> LoopMatch:
    """The `occurrence`-th loop (pre-order, counting from 0) of `fn` whose variable is `var`."""
    assert fn.body is not None
    matches = [m for m in loops_with_ancestors(fn.body, ()) if loop_var(m.loop) == var]
    if occurrence < 0 or occurrence >= len(matches):
        raise PassRefused(NOT_FOUND, f"function {fn.name!r} has {len(matches)} loop(s) over {var!r}; "
                          f"occurrence {occurrence} does not exist",
                          hint="name the loop by its variable; use the occurrence index when it repeats")
    return matches[occurrence]


def splice(node: Node, target: Stmt, replacement: tuple[Stmt, ...]) -> Node:
    """A copy of node where the statement that IS `target` is replaced by `replacement` (spliced into its block)."""
    def rebuild(current: Node) -> Node:
        changes = {}
        for field in dataclasses.fields(current):  # type: ignore[arg-type]
            value = getattr(current, field.name)
            if isinstance(current, Block) and field.name == "body":
                items: list[Node] = []
                for stmt in value:
                    if stmt is target:
                        items.extend(replacement)
                    else:
                        items.append(rebuild(stmt))
                if any(a is not b for a, b in zip(items, value)) or len(items) != len(value):
                    changes["body"] = tuple(items)
            elif value is target:
                changes[field.name] = replacement[0] if len(replacement) == 1 else Block(replacement)
            elif isinstance(value, (Block, For, If, While, DoWhile, Switch, Pragma)):
                new = rebuild(value)
                if new is not value:
                    changes[field.name] = new
        return dataclasses.replace(current, **changes) if changes else current  # type: ignore[type-var]
    return rebuild(node)


def replace_in_function(module: Module, fn: Function, target: Stmt, replacement: tuple[Stmt, ...]) -> Module:
    new_body = splice(fn.body, target, replacement)  # type: ignore[arg-type]
    return module.map_functions(lambda f: dataclasses.replace(f, body=new_body) if f is fn else f)


# ---------------------------------------------------------------- canonical loops ----------------------------


@dataclass(frozen=True)
class CanonicalLoop:
    """`for (int var = start; var < stop; var += step)` with a positive constant step."""

    loop: For
    var: str
    start: Expr
    stop: Expr
    step: int

    def trip_count(self, ints: set[str]) -> Expr:
        """Number of iterations as a C expression (<= 0 when the loop does not run)."""
        span = simplify_int(BinOp("-", self.stop, self.start), ints)
        if self.step == 1:
            return span
        return BinOp("/", simplify_int(BinOp("+", span, Const(self.step - 1, DType.int32)), ints),
                     Const(self.step, DType.int32))

    def value_at(self, t: Expr, ints: set[str]) -> Expr:
        """The loop variable's value at normalized iteration t, start + t * step, as an `int` expression."""
        start = self.start if to_sympy(self.start, ints) is not None else Cast(INT32, self.start)
        scaled = t if self.step == 1 else BinOp("*", t, Const(self.step, DType.int32))
        if start == Const(0, DType.int32):
            return simplify_int(scaled, ints)
        return simplify_int(BinOp("+", start, scaled), ints)


def unit_step(var: str) -> Assign:
    """The step `var += 1` of the loops the passes create."""
    return Assign(Var(var), Const(1, DType.int32), "+")


def _step_of(step: Stmt | None, var: str) -> int | None:
    if isinstance(step, ExprStmt):
        e = step.expr
        if isinstance(e, UnaryOp) and e.op == "++" and e.operand == Var(var):
            return 1
        if isinstance(e, BinOp) and e.op == "+=" and e.lhs == Var(var):
            return _positive_int(e.rhs)
        if isinstance(e, BinOp) and e.op == "=" and e.lhs == Var(var) and isinstance(e.rhs, BinOp) \
                and e.rhs.op == "+" and e.rhs.lhs == Var(var):
            return _positive_int(e.rhs.rhs)
    if isinstance(step, Assign) and step.target == Var(var):
        if step.op == "+":
            return _positive_int(step.value)
        if step.op == "" and isinstance(step.value, BinOp) and step.value.op == "+" and step.value.lhs == Var(var):
            return _positive_int(step.value.rhs)
    return None


def _positive_int(e: Expr) -> int | None:
    if isinstance(e, Const) and isinstance(e.value, int) and not isinstance(e.value, bool) and e.value > 0:
        return e.value
    return None


def canonical(loop: For) -> CanonicalLoop | None:
    """The canonical view of loop, or None when it is not `for (int v = a; v < b; v += s)` with v unmodified."""
    if len(loop.init) != 1 or not isinstance(loop.init[0], Decl):
        return None
    decl = loop.init[0]
    if decl.type != INT32 and not (isinstance(decl.type, ScalarType) and decl.type.dtype == DType.int32):
        return None
    if decl.init is None or not isinstance(loop.cond, BinOp):
        return None
    cond, var = loop.cond, decl.name
    if cond.op == "<" and cond.lhs == Var(var):
        stop = cond.rhs
    elif cond.op == ">" and cond.rhs == Var(var):
        stop = cond.lhs
    elif cond.op == "<=" and cond.lhs == Var(var):
        stop = BinOp("+", cond.rhs, Const(1, DType.int32))
    else:
        return None
    step = _step_of(loop.step, var)
    if step is None or var in names_in(stop) or var in names_in(decl.init):
        return None
    if not _simple_bound(stop) or ({var} | names_in(stop)) & written_names(loop.body):
        return None  # the bound is re-evaluated every iteration: it must not change
    return CanonicalLoop(loop, var, decl.init, stop, step)


def _simple_bound(e: Expr) -> bool:
    """Made of variables, constants and arithmetic only (no reads of memory, no calls)."""
    return all(isinstance(n, (Var, Const, BinOp, UnaryOp, Cast, ScalarType)) for n in walk(e)) \
        and not any(isinstance(n, UnaryOp) and n.op in ("++", "--", "*", "&") for n in walk(e)) \
        and not any(isinstance(n, BinOp) and n.op in ASSIGN_OPS for n in walk(e))


def require_canonical(loop: For) -> CanonicalLoop:
    view = canonical(loop)
    if view is None:
        raise PassRefused(NOT_CANONICAL, f"loop over {loop_var(loop)!r} is not canonical",
                          hint="expected `for (int v = a; v < b; v += s)` with a positive constant step, "
                               "a bound that does not depend on v, and v not assigned in the body")
    return view


def check_pragmas(loop: For) -> None:
    """Refuse loops whose pragmas carry clauses (collapse, reduction, private...) a rewrite could invalidate."""
    for text in loop.pragmas:
        if not _PLAIN_LOOP_PRAGMA.match(text):
            raise PassRefused(UNSUPPORTED, f"loop over {loop_var(loop)!r} carries `#pragma {text}`, "
                              "whose clauses the loop transformations do not model",
                              hint="run recover_loops first so that the loop form holds parallel loops without clauses")


def check_context(match: LoopMatch) -> None:
    """Refuse loops inside an enclosing loop whose pragma (collapse) ties it to the loops below."""
    check_pragmas(match.loop)
    for node in match.ancestors:
        if isinstance(node, For):
            for text in node.pragmas:
                if "collapse" in text or "ordered" in text:
                    raise PassRefused(UNSUPPORTED, f"loop over {loop_var(match.loop)!r} lies under "
                                      f"`#pragma {text}`, which binds the shape of the nest")


@dataclass(frozen=True)
class LoopFactor:
    """The options of a pass that takes one loop by a factor (unroll, jam). function: the function holding the
    loop. loop: its variable name; occurrence: which loop over that name (pre-order, from 0). factor: iterations
    per step (>= 2; a tuning parameter)."""

    function: str
    loop: str
    factor: int
    occurrence: int = 0


def factor_loop(module: Module, options: LoopFactor, pass_name: str) -> tuple[Function, LoopMatch, CanonicalLoop]:
    """The function, the loop and its canonical view that `options` names; refuses (XP53x) a factor below 2, a
    missing loop, one under a nest-binding pragma, and one that is not canonical."""
    if options.factor < 2:
        raise PassRefused(BAD_OPTION, f"{pass_name} factor must be >= 2, got {options.factor}")
    fn = function_of(module, options.function)
    match = find_loop(fn, options.loop, options.occurrence)
    check_context(match)
    return fn, match, require_canonical(match.loop)


def single_for(body: Block) -> For | None:
    """The loop a block consists of, if it holds exactly one statement that is a loop."""
    if len(body.body) == 1 and isinstance(body.body[0], For):
        return body.body[0]
    return None


def exits_at_level(stmts: tuple[Stmt, ...], kinds: tuple[type, ...]) -> bool:
    """True when one of `kinds` (Break, Continue, Return) acts on the loop holding stmts: break/continue
    nested in an inner loop act on that loop instead; a return anywhere leaves every loop."""
    return any(isinstance(n, kinds) for s in stmts for n in _walk_same_loop(s))


def _walk_same_loop(node: Node) -> Iterator[Node]:
    """Nodes under node, not descending into nested loops except to find Return."""
    yield node
    if isinstance(node, (For, While, DoWhile)):
        yield from (n for n in walk(node.body) if isinstance(n, Return))
        return
    for child in children(node):
        yield from _walk_same_loop(child)


def visible_names(fn: Function, match: LoopMatch) -> set[str]:
    """Names that may be visible at the loop: parameters, and declarations of the blocks and loops above it."""
    names = {p.name for p in fn.params}
    for node in match.ancestors:
        if isinstance(node, Block):
            names |= {s.name for s in node.body if isinstance(s, Decl)}
        elif isinstance(node, For):
            names |= {s.name for s in node.init if isinstance(s, Decl)}
    return names


def check_no_shadowing(fn: Function, match: LoopMatch, region: Node) -> None:
    """Refuse when the region redeclares a visible name: the dependence test tracks variables by name."""
    clash = declared_names(region) & (visible_names(fn, match) - {loop_var(match.loop)})
    if clash:
        raise PassRefused(UNSUPPORTED, f"the loop body redeclares {sorted(clash)}, which shadow outer variables",
                          hint="rename the inner declarations")


# ---------------------------------------------------------------- names and substitution ---------------------


def names_in(node: Node) -> set[str]:
    return {n.name for n in walk(node) if isinstance(n, Var)}


def declared_names(node: Node) -> set[str]:
    return {n.name for n in walk(node) if isinstance(n, Decl)}


def variable_set(s: Stmt) -> tuple[str | None, Expr | None]:
    """(variable, value) when `s` is `T v = value;` or `v = value;`."""
    if isinstance(s, Decl):
        return s.name, s.init
    if isinstance(s, Assign) and isinstance(s.target, Var) and s.op == "":
        return s.target.name, s.value
    return None, None


def store_targets(node: Node) -> list[Expr]:
    """Every lvalue under node that is stored to (assignments, compound assignments, ++/--)."""
    targets = []
    for n in walk(node):
        if isinstance(n, Assign):
            targets.append(n.target)
        elif isinstance(n, BinOp) and n.op in ASSIGN_OPS:
            targets.append(n.lhs)
        elif isinstance(n, UnaryOp) and n.op in ("++", "--"):
            targets.append(n.operand)
    return targets


def written_names(node: Node) -> set[str]:
    """Names of variables assigned (as a whole, not through an index) anywhere under node."""
    out: set[str] = set()
    for n in walk(node):
        target = None
        if isinstance(n, Assign):
            target = n.target
        elif isinstance(n, BinOp) and n.op in ASSIGN_OPS:
            target = n.lhs
        elif isinstance(n, UnaryOp) and n.op in ("++", "--"):
            target = n.operand
        if isinstance(target, Var):
            out.add(target.name)
    return out


def root_name(e: Expr) -> str | None:
    """The variable an element chain `a[i][j]` starts from (None: a pointer expression, a member...)."""
    while isinstance(e, Index):
        e = e.base
    return e.name if isinstance(e, Var) else None


def stored_names(node: Node) -> set[str]:
    """Names of the variables stored to under node, as a whole or through their elements."""
    return {name for name in map(root_name, store_targets(node)) if name is not None}


def without_effects(e: Node) -> bool:
    """Evaluating e writes nothing (it may read memory and trap, as where it was first evaluated)."""
    return not any(isinstance(n, Call) and n.name not in PURE_CALLS or isinstance(n, (MethodCall, RawExpr))
                   or isinstance(n, UnaryOp) and n.op in ("++", "--") or isinstance(n, BinOp) and n.op in ASSIGN_OPS
                   for n in walk(e))


def types_and_private_arrays(fn: Function) -> tuple[dict[str, Node], set[str]]:
    """(name -> type, for the names whose declarations all agree; the local arrays only ever indexed, never
    decayed to a pointer: nothing but their own indexing reaches their elements)."""
    declared = [(p.name, p.type) for p in fn.params] + [(d.name, d.type) for d in walk(fn.body) if isinstance(d, Decl)]
    types = {name: t for name, t in declared if all(u == t for other, u in declared if other == name)}
    uses = Counter(n.name for n in walk(fn.body) if isinstance(n, Var))
    indexed = Counter(n.base.name for n in walk(fn.body) if isinstance(n, Index) and isinstance(n.base, Var))
    params = {p.name for p in fn.params}
    return types, {name for name, t in types.items() if isinstance(t, ArrayType) and name not in params
                   and uses[name] == indexed[name]}


def stores_stay_private(stores: list[Expr], local: set[str], private: set[str]) -> bool:
    """Every store is to a local in `local` or an element of a private array: none reaches a pointer's memory."""
    return all(isinstance(t, Var) and t.name in local or isinstance(t, Index) and isinstance(t.base, Var)
               and t.base.name in private for t in stores)


def names_taken(module: Module, fn: Function) -> set[str]:
    """Every name a new variable of fn must avoid: its variables, the module's functions and globals."""
    return names_in(fn) | declared_names(fn) | {p.name for p in fn.params} \
        | {f.name for f in module.functions} | {g.name for g in module.globals}


def fresh_name(base: str, taken: set[str]) -> str:
    name, k = base, 1
    while name in taken:
        name, k = f"{base}{k}", k + 1
    return name


def substitute(node: Node, name: str, value: Expr) -> Node:
    """Replace every use of variable `name` by `value` (the caller ensures nothing redeclares `name`)."""
    return transform(node, lambda n: value if isinstance(n, Var) and n.name == name else None)


def int_variables(fn: Function) -> set[str]:
    """Names that are `int` everywhere in fn (params and declarations): safe to simplify over with SymPy."""
    kinds: dict[str, set[bool]] = {}
    for p in fn.params:
        kinds.setdefault(p.name, set()).add(_is_int32(p.type))
    for n in walk(fn.body):  # type: ignore[arg-type]
        if isinstance(n, Decl):
            kinds.setdefault(n.name, set()).add(_is_int32(n.type))
    return {name for name, k in kinds.items() if k == {True}}


def _is_int32(t: Node) -> bool:
    return isinstance(t, ScalarType) and t.dtype == DType.int32


# ---------------------------------------------------------------- SymPy bridge -------------------------------

_SYMBOLS: dict[str, sympy.Symbol] = {}


def symbol(name: str) -> sympy.Symbol:
    if name not in _SYMBOLS:
        _SYMBOLS[name] = sympy.Symbol(name, integer=True)
    return _SYMBOLS[name]


def to_sympy(e: Expr, ints: set[str] | None = None) -> sympy.Expr | None:
    """e as a SymPy polynomial over integer symbols, or None when it is not + - * of ints (ints: allowed names)."""
    if isinstance(e, Const) and isinstance(e.value, int) and not isinstance(e.value, bool):
        return sympy.Integer(e.value)
    if isinstance(e, Var):
        return symbol(e.name) if ints is None or e.name in ints else None
    if isinstance(e, Cast) and isinstance(e.type, ScalarType) and e.type.dtype.bits >= 32 and e.type.dtype.is_int \
            and ints is None:
        return to_sympy(e.expr, ints)  # analysis only: a widening cast does not change an in-range index
    if isinstance(e, UnaryOp) and e.op in ("-", "+") and not e.postfix:
        inner = to_sympy(e.operand, ints)
        return None if inner is None else (-inner if e.op == "-" else inner)
    if isinstance(e, BinOp) and e.op in ("+", "-", "*"):
        lhs, rhs = to_sympy(e.lhs, ints), to_sympy(e.rhs, ints)
        if lhs is None or rhs is None:
            return None
        return lhs + rhs if e.op == "+" else lhs - rhs if e.op == "-" else lhs * rhs
    return None


def from_sympy(s: sympy.Expr) -> Expr:
    """A C int expression for a SymPy polynomial: terms in SymPy's order, `a - b` for negative terms."""
    s = sympy.expand(s)
    terms = sorted(sympy.Add.make_args(s), key=lambda t: (t.is_number, t.could_extract_minus_sign(),
                                                          -sympy.Poly(t).total_degree() if t.free_symbols else 0,
                                                          str(t)))
    out: Expr | None = None
    for term in terms:
        coeff, rest = term.as_coeff_Mul()
        negative = coeff < 0
        magnitude = _product(abs(int(coeff)), rest)
        if out is None:
            out = UnaryOp("-", magnitude) if negative else magnitude
        else:
            out = BinOp("-" if negative else "+", out, magnitude)
    return out if out is not None else Const(0, DType.int32)


def _product(coeff: int, rest: sympy.Expr) -> Expr:
    factors: list[Expr] = []
    if rest != 1:
        for base, exp in (f.as_base_exp() for f in sympy.Mul.make_args(rest)):
            factors.extend([Var(str(base))] * int(exp))
    if coeff != 1 or not factors:
        factors.append(Const(coeff, DType.int32))
    out = factors[0]
    for f in factors[1:]:
        out = BinOp("*", out, f)
    return out


def int_value(e: Expr, env: dict[str, int]) -> int | None:
    """e's value as C computes it on integers (division truncates toward zero, a comparison or a logical operator
    gives 0 or 1), the names taking their values in env; None when a part that matters is unknown (a name not in
    env, a float, a call) or divides by zero."""
    if isinstance(e, Const) and isinstance(e.value, (int, bool)):
        return int(e.value)
    if isinstance(e, Var):
        return env.get(e.name)
    if isinstance(e, Cast) and isinstance(e.type, ScalarType) and (e.type.dtype.is_int or e.type.dtype == DType.bool):
        return int_value(e.expr, env)
    if isinstance(e, UnaryOp) and not e.postfix and e.op in ("-", "+", "~", "!"):
        v = int_value(e.operand, env)
        return None if v is None else -v if e.op == "-" else ~v if e.op == "~" else int(v == 0) if e.op == "!" else v
    if isinstance(e, BinOp) and e.op in ("&&", "||"):
        decisive = int(e.op == "||")  # the truth of one side that decides (C conditions here have no side effects)
        sides = [None if (v := int_value(side, env)) is None else int(v != 0) for side in (e.lhs, e.rhs)]
        return decisive if decisive in sides else None if None in sides else 1 - decisive
    if isinstance(e, SizeOf) and isinstance(e.arg, ScalarType) and e.arg.dtype.bits >= 8:
        return e.arg.dtype.bits // 8
    if isinstance(e, Select):
        test, when_true, when_false = (int_value(part, env) for part in (e.cond, e.then, e.otherwise))
        if test is None:
            return when_true if when_true == when_false else None
        return when_true if test else when_false
    if isinstance(e, BinOp) and e.op in _INT_BINARY:
        a, b = int_value(e.lhs, env), int_value(e.rhs, env)
        if a is None or b is None or e.op in ("/", "%") and b == 0 or e.op in ("<<", ">>") and b < 0:
            return None
        return _INT_BINARY[e.op](a, b)
    return None


def _truncated_quotient(a: int, b: int) -> int:
    return abs(a) // abs(b) * (1 if (a >= 0) == (b > 0) else -1)


_INT_BINARY = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
               "/": _truncated_quotient, "%": lambda a, b: a - _truncated_quotient(a, b) * b,
               "|": lambda a, b: a | b, "&": lambda a, b: a & b, "^": lambda a, b: a ^ b,
               "<<": lambda a, b: a << b, ">>": lambda a, b: a >> b,
               "<": lambda a, b: int(a < b), "<=": lambda a, b: int(a <= b), ">": lambda a, b: int(a > b),
               ">=": lambda a, b: int(a >= b), "==": lambda a, b: int(a == b), "!=": lambda a, b: int(a != b)}


def simplify_int(e: Expr, ints: set[str] | None = None) -> Expr:
    """e simplified when it is a polynomial over int names (all names when ints is None), else e unchanged."""
    s = to_sympy(e, ints)
    if s is None or (ints is None and any(isinstance(n, Cast) for n in walk(e))):
        return e
    return from_sympy(s)


def simplify_indices(node: Node, ints: set[str], mentioning: set[str]) -> Node:
    """Simplify the array indices that use a name in `mentioning` and are polynomials over `int` names
    (exact under -fwrapv); other indices keep their text."""
    def visit(n: Node) -> Node | None:
        if isinstance(n, Index) and names_in(n.index) & mentioning:
            simpler = simplify_int(n.index, ints)
            return dataclasses.replace(n, index=simpler) if simpler is not n.index else None
        return None
    return transform(node, visit)


# ---------------------------------------------------------------- dependences --------------------------------


@dataclass(frozen=True)
class Access:
    """One read or write of a buffer element (indices () for a scalar variable).

    `indices` hold SymPy expressions over loop variables and invariants, or None where not affine.
    `loops` are the loops between the analyzed nest and the access (their variables are per-access free
    variables with the given [lo, hi) ranges). `reduction` is the compound operator of an update `x op= e`.
    """

    base: str
    indices: tuple[sympy.Expr | None, ...]
    write: bool
    reduction: str | None
    loops: tuple[tuple[str, sympy.Expr | None, sympy.Expr | None], ...]


@dataclass(frozen=True)
class Level:
    """A loop level of the analyzed nest: variable, [lo, hi) as SymPy (None when unknown), parallel or not."""

    var: str
    lo: sympy.Expr | None
    hi: sympy.Expr | None
    parallel: bool


class AccessCollector:
    """Collects the accesses of statements inside a nest, resolving pointer aliases and private scalars."""

    def __init__(self, module: Module, fn: Function, nest_vars: set[str], outer: set[str] = frozenset()):
        self.module = module
        self.nest_vars = set(nest_vars)  # variables of the analyzed loop levels
        self.outer = set(outer)  # variables of the loops enclosing the region: constant while it runs
        self.fn = fn
        self.private: set[str] = set()  # names declared inside the analyzed region: per-iteration, no dependence
        self.private_buffers: set[str] = set()  # arrays and allocations declared inside the region
        self.pointers = {p.name for p in fn.params if isinstance(p.type, PointerType)}
        self.arrays: set[str] = set()
        self.aliases: dict[str, tuple[str, Expr]] = {}
        self.assigned = written_names(fn.body)  # type: ignore[arg-type]
        self.inits: dict[str, Expr] = {}
        decl_counts: dict[str, int] = {}
        for n in walk(fn.body):  # type: ignore[arg-type]
            if isinstance(n, Decl):
                decl_counts[n.name] = decl_counts.get(n.name, 0) + 1
        for n in walk(fn.body):  # type: ignore[arg-type]
            if not isinstance(n, Decl) or decl_counts[n.name] != 1 or n.name in self.assigned:
                continue
            if isinstance(n.type, ArrayType):
                self.arrays.add(n.name)
            elif isinstance(n.type, PointerType) and n.init is not None:
                alias = self._pointer_alias(n.init)
                if alias is not None:
                    self.aliases[n.name] = alias
                elif _is_allocation(n.init):
                    self.arrays.add(n.name)
            elif _is_int32(n.type) and n.init is not None:
                self.inits[n.name] = n.init
        self.accesses: list[Access] = []

    def _pointer_alias(self, init: Expr) -> tuple[str, Expr] | None:
        while isinstance(init, Cast) and isinstance(init.type, PointerType):
            init = init.expr
        if isinstance(init, Var):
            return (init.name, Const(0, DType.int32))
        if isinstance(init, BinOp) and init.op == "+" and isinstance(init.lhs, Var):
            return (init.lhs.name, init.rhs)
        if isinstance(init, UnaryOp) and init.op == "&" and isinstance(init.operand, Index) \
                and isinstance(init.operand.base, Var):
            return (init.operand.base.name, init.operand.index)
        return None

    def collect(self, stmts: tuple[Stmt, ...], loops: tuple = ()) -> list[Access]:
        for s in stmts:
            self._stmt(s, loops)
        return self.accesses

    def _stmt(self, s: Stmt, loops: tuple) -> None:
        if isinstance(s, Decl):
            self.private.add(s.name)
            allocation = s.init is not None and _is_allocation(s.init)
            if isinstance(s.type, ArrayType) or allocation:
                self.private_buffers.add(s.name)
            if allocation:
                for arg in strip_casts(s.init).args:  # type: ignore[union-attr]
                    self._expr(arg, loops)
            elif s.init is not None:
                self._expr(s.init, loops)
            if isinstance(s.type, ArrayType) and s.type.size is not None:
                self._expr(s.type.size, loops)
        elif isinstance(s, Assign):
            self._expr(s.value, loops)
            self._target(s.target, loops, reduction=s.op or None)
        elif isinstance(s, ExprStmt) and _is_free_of_private(s.expr, self.private_buffers):
            pass  # releasing an iteration's own buffer
        elif isinstance(s, ExprStmt):
            self._expr(s.expr, loops)
        elif isinstance(s, Block):
            self.collect(s.body, loops)
        elif isinstance(s, If):
            self._expr(s.cond, loops)
            self.collect(s.then.body, loops)
            if s.otherwise is not None:
                self.collect(s.otherwise.body, loops)
        elif isinstance(s, For):
            view = canonical(s)
            for init in s.init:
                self._stmt(init, loops)
            inner = loops
            if view is not None:
                lo, hi = self.affine(view.start, loops), self.affine(view.stop, loops)
                inner = loops + ((view.var, lo, hi),)
            else:  # its variable changes unpredictably: every index using it is unknown
                inner = loops + ((loop_var(s) or "", None, None),)
            if s.cond is not None:
                self._expr(s.cond, inner)
            if s.step is not None and view is None:
                self._stmt(s.step, inner)
            self.collect(s.body.body, inner)
        elif isinstance(s, While):
            inner = loops + (("", None, None),)  # an unknown trip: indices using what it changes are unknown
            self._expr(s.cond, inner)
            self.collect(s.body.body, inner)
        elif isinstance(s, (Break, Continue)):
            pass  # the passes check early exits from the loops they move
        else:
            raise PassRefused(UNSUPPORTED, f"statement {type(s).__name__} inside the loops is not modelled "
                              "by the dependence test")

    def _expr(self, e: Expr, loops: tuple) -> None:
        """Record the reads (and embedded writes) of expression e."""
        if isinstance(e, Index):
            self._access(e, loops, write=False, reduction=None)
            self._subscripts(e, loops)
        elif isinstance(e, Var):
            self._scalar(e.name, loops, write=False, reduction=None)
        elif isinstance(e, UnaryOp) and e.op in ("++", "--"):
            self._target(e.operand, loops, reduction=None)
        elif isinstance(e, UnaryOp) and e.op == "*":
            self._access(Index(e.operand, Const(0, DType.int32)), loops, write=False, reduction=None)
            self._expr(e.operand, loops)
        elif isinstance(e, UnaryOp) and e.op == "&" and isinstance(e.operand, Index):
            self._subscripts(e.operand, loops)  # an address, not an access
        elif isinstance(e, UnaryOp):
            self._expr(e.operand, loops)
        elif isinstance(e, BinOp) and e.op in ASSIGN_OPS:
            self._expr(e.rhs, loops)
            self._target(e.lhs, loops, reduction=None)
        elif isinstance(e, BinOp):
            self._expr(e.lhs, loops)
            self._expr(e.rhs, loops)
        elif isinstance(e, Call):
            self._call(e)
            for arg in e.args:
                self._expr(arg, loops)
        elif isinstance(e, Cast):
            self._expr(e.expr, loops)
        elif isinstance(e, Select):
            for part in (e.cond, e.then, e.otherwise):
                self._expr(part, loops)
        elif not isinstance(e, (Const, SizeOf)):
            raise PassRefused(UNSUPPORTED, f"expression {type(e).__name__} inside the loops is not "
                              "modelled by the dependence test")

    def _subscripts(self, e: Index, loops: tuple) -> None:
        """Reads inside the subscripts (and a computed base) of an access chain."""
        node: Expr = e
        while isinstance(node, Index):
            self._expr(node.index, loops)
            node = node.base
        if not isinstance(node, Var):
            self._expr(node, loops)

    def _call(self, call: Call) -> None:
        if call.name in PURE_CALLS:
            return
        helpers = [f for f in self.module.functions if f.name == call.name]
        if helpers and all(not isinstance(p.type, PointerType) and not _is_reference(p) for p in helpers[0].params):
            return  # a module helper on scalars: plain scalar C per the loop form
        raise PassRefused(UNSUPPORTED, f"call of {call.name!r} inside the loops: its effects are unknown",
                          hint="the loop transformations only move code that calls libm or scalar helpers")

    def _target(self, t: Expr, loops: tuple, reduction: str | None) -> None:
        if isinstance(t, Var):
            self._scalar(t.name, loops, write=True, reduction=reduction)
        elif isinstance(t, Index):
            self._access(t, loops, write=True, reduction=reduction)
            self._subscripts(t, loops)
        elif isinstance(t, UnaryOp) and t.op == "*":
            self._access(Index(t.operand, Const(0, DType.int32)), loops, write=True, reduction=None)
            self._expr(t.operand, loops)
        else:
            raise PassRefused(UNSUPPORTED, f"assignment to {type(t).__name__} is not modelled by the dependence test")

    def _scalar(self, name: str, loops: tuple, write: bool, reduction: str | None) -> None:
        if name in self.private or name in self.nest_vars or name in self.outer or any(name == v for v, _, _ in loops):
            return
        if name in self.pointers or name in self.arrays or name in self.aliases:
            return  # the pointer value itself, read only (assignments to it are excluded by the alias scan)
        if not write and name not in self.assigned:
            return
        self.accesses.append(Access(name, (), write, reduction if write else None, loops))

    def _access(self, e: Index, loops: tuple, write: bool, reduction: str | None) -> None:
        indices: list[Expr] = []
        node: Expr = e
        while isinstance(node, Index):
            indices.append(node.index)
            node = node.base
        indices.reverse()
        base = node
        offset: Expr = Const(0, DType.int32)
        if isinstance(base, BinOp) and base.op == "+" and isinstance(base.lhs, Var):
            base, offset = base.lhs, base.rhs
        if not isinstance(base, Var):
            raise PassRefused(UNSUPPORTED, "an access through a computed pointer is not modelled by the "
                              "dependence test")
        name = base.name
        while name in self.aliases:
            name, extra = self.aliases[name]
            offset = BinOp("+", extra, offset)
        if name in self.private_buffers:
            return  # a fresh buffer in every iteration
        if name in self.private or (name not in self.pointers and name not in self.arrays):
            raise PassRefused(UNSUPPORTED, f"buffer {base.name!r} is neither a parameter nor a local array "
                              "declared once: the dependence test cannot tell what it aliases")
        if offset != Const(0, DType.int32):
            indices[0] = BinOp("+", offset, indices[0])
        self.accesses.append(Access(name, tuple(self.affine(i, loops) for i in indices), write, reduction, loops))

    def affine(self, e: Expr, loops: tuple = ()) -> sympy.Expr | None:
        """e as a polynomial over the nest's variables, the given inner loops' variables and invariants
        (int locals assigned once are replaced by their initializers), or None when it is not one."""
        e = self._inline(e, depth=0)
        if e is None:
            return None
        s = to_sympy(e)
        if s is None:
            return None
        loop_vars = {v for v, _, _ in loops}
        for sym in s.free_symbols:
            name = sym.name
            if name in loop_vars or name in self.nest_vars or name in self.outer:
                continue
            if name in self.assigned or name in self.private:
                return None  # changes during the nest (or per iteration, but not inlined): unknown
        return s

    def _inline(self, e: Expr, depth: int) -> Expr | None:
        """Replace single-assignment int locals by their initializers (bounded depth)."""
        if depth > 8:
            return None
        names = {n.name for n in walk(e) if isinstance(n, Var) and n.name in self.inits}
        for name in names:
            e = substitute(e, name, self._inline(self.inits[name], depth + 1) or Var(name))  # type: ignore[assignment]
        return e


def _is_reference(p: Param) -> bool:
    return isinstance(p.type, ReferenceType)


def strip_casts(e: Expr) -> Expr:
    while isinstance(e, Cast):
        e = e.expr
    return e


def _is_allocation(init: Expr) -> bool:
    """`malloc(bytes)` and friends (possibly cast): a buffer of its own."""
    init = strip_casts(init)
    return isinstance(init, Call) and init.name in ("malloc", "calloc", "aligned_alloc", "std::malloc")


def _is_free_of_private(e: Expr, buffers: set[str]) -> bool:
    if not (isinstance(e, Call) and e.name in ("free", "std::free") and len(e.args) == 1):
        return False
    pointer = strip_casts(e.args[0])
    return isinstance(pointer, Var) and pointer.name in buffers


def positive_symbols(fn: Function) -> dict[sympy.Symbol, sympy.Symbol]:
    """Substitution making `int` parameters positive integers (they are sizes) for inequality proofs."""
    return {symbol(p.name): sympy.Symbol(p.name, integer=True, positive=True)
            for p in fn.params if _is_int32(p.type)}


def is_nonneg(e: sympy.Expr, positive: dict) -> bool:
    """Provably >= 0 when every `int` parameter is >= 1: substitute p = q + 1 (q >= 0) and check coefficients."""
    value = sympy.expand(e.subs(positive))
    if value.is_nonnegative:
        return True
    shifted = sympy.expand(value.subs({s: sympy.Symbol(s.name + "_1", integer=True, nonnegative=True) + 1
                                       for s in value.free_symbols if s.is_positive}))
    if not all(s.is_nonnegative for s in shifted.free_symbols):
        return False
    return all(term.as_coeff_Mul()[0] >= 0 for term in sympy.Add.make_args(shifted))


def forced_equal(a: Access, b: Access, levels: list[Level], positive: dict) -> set[str]:
    """Levels at which two accesses to the same buffer can only conflict in the same iteration.

    Each index dimension gives an equation f(I, J) = g(I', J') (I: nest levels, J: the accesses' own inner
    loops). Terms are peeled from the largest coefficient down: a level whose coefficient exceeds the whole
    range of the remaining terms must have I_k = I'_k (delinearization of row-major indices).
    Parallel levels are always equal (their iterations are independent by the loop form's contract).
    """
    equal = {lv.var for lv in levels if lv.parallel}
    if len(a.indices) != len(b.indices) or not a.indices:
        return equal
    subs = _running_extents([(lv.lo, lv.hi) for lv in levels] + [(lo, hi) for _, lo, hi in a.loops + b.loops],
                            positive)
    level_by_var = {lv.var: dataclasses.replace(lv, lo=_subs(lv.lo, subs), hi=_subs(lv.hi, subs)) for lv in levels}
    loops_a = tuple((v, _subs(lo, subs), _subs(hi, subs)) for v, lo, hi in a.loops)
    loops_b = tuple((v, _subs(lo, subs), _subs(hi, subs)) for v, lo, hi in b.loops)
    for fa, fb in zip(a.indices, b.indices):
        if fa is not None and fb is not None:
            equal |= _equal_levels(fa.subs(subs), fb.subs(subs), level_by_var, loops_a, loops_b, positive)
    return equal


def _subs(e: sympy.Expr | None, subs: dict) -> sympy.Expr | None:
    return None if e is None else sympy.expand(e.subs(subs))


def _running_extents(ranges: list, positive: dict) -> dict:
    """Two conflicting accesses exist only if their loops run, so every extent hi - lo is >= 1. An extent
    such as `L - KW + 1` becomes a fresh positive symbol E by rewriting a parameter: L = E + KW - 1."""
    subs: dict = {}
    for k, (lo, hi) in enumerate(ranges):
        if lo is None or hi is None:
            continue
        extent = sympy.expand((hi - lo).subs(subs))
        if is_nonneg(extent - 1, positive):
            continue
        for sym in sorted(extent.free_symbols & set(positive), key=str):
            rest = sympy.expand(extent - sym)
            if extent.coeff(sym) == 1 and not rest.has(sym):
                fresh = sympy.Symbol(f"extent{k}", integer=True, positive=True)
                subs = {key: sympy.expand(value.subs(sym, fresh - rest)) for key, value in subs.items()}
                subs[sym] = fresh - rest
                break
    return subs


def _equal_levels(fa: sympy.Expr, fb: sympy.Expr, levels: dict[str, Level], loops_a: tuple, loops_b: tuple,
                  positive: dict) -> set[str]:
    """Levels k with I_k = I'_k forced by fa(I, J) = fb(I', J') (J, J': each side's own inner loops)."""
    renamed = {symbol(v): sympy.Symbol(v + "'", integer=True) for v in list(levels) + [v for v, _, _ in loops_b]}
    diff = sympy.expand(fa - fb.subs(renamed))
    loop_symbols = set(renamed) | set(renamed.values())
    # each term: (level or None, coefficient, lo, hi) with the variable in [lo, hi]
    terms: list[tuple[str | None, sympy.Expr, sympy.Expr, sympy.Expr]] = []
    rest = diff
    for var, lv in levels.items():
        s, s2 = symbol(var), renamed[symbol(var)]
        ca, cb = diff.coeff(s), -diff.coeff(s2)
        if ca.free_symbols & loop_symbols or cb.free_symbols & loop_symbols or sympy.expand(ca - cb) != 0:
            return set()  # not the same linear function of this level on both sides
        if ca == 0:
            continue
        if lv.lo is None or lv.hi is None or (lv.lo.free_symbols | lv.hi.free_symbols) & loop_symbols:
            return set()
        span = lv.hi - lv.lo - 1
        terms.append((var, ca, -span, span))
        rest = sympy.expand(rest - ca * s + ca * s2)
    own = [(symbol(v), lo, hi) for v, lo, hi in loops_a] + [(renamed[symbol(v)], lo, hi) for v, lo, hi in loops_b]
    for sym, lo, hi in own:
        c = rest.coeff(sym)
        if c == 0:
            continue
        if lo is None or hi is None or c.free_symbols & loop_symbols \
                or (lo.free_symbols | hi.free_symbols) & (loop_symbols | {symbol(v) for v, _, _ in loops_a}):
            return set()
        terms.append((None, c, lo, hi - 1))
        rest = sympy.expand(rest - c * sym)
    if rest != 0:
        return set()  # a constant offset or a nonlinear term between the two accesses: no claim
    equal: set[str] = set()
    remaining = list(terms)
    progress = True
    while progress:
        progress = False
        for i, (var, c, _, _) in enumerate(remaining):
            if var is None:
                continue
            interval = interval_of(remaining[:i] + remaining[i + 1:], positive)
            c_abs = _abs_coeff(c, positive)
            if interval is None or c_abs is None:
                continue
            low, high = interval
            if is_nonneg(c_abs - high - 1, positive) and is_nonneg(c_abs + low - 1, positive):
                equal.add(var)  # |c_k * d_k| >= |c_k| > |rest| unless d_k = 0
                remaining.pop(i)
                progress = True
                break
    return equal


def _abs_coeff(c: sympy.Expr, positive: dict) -> sympy.Expr | None:
    if is_nonneg(c, positive):
        return c
    if is_nonneg(-c, positive):
        return -c
    return None


def interval_of(terms: list, positive: dict) -> tuple[sympy.Expr, sympy.Expr] | None:
    """[min, max] of sum c * x over x in [lo, hi] (interval arithmetic; None when a sign is unknown)."""
    low, high = sympy.Integer(0), sympy.Integer(0)
    for _, c, lo, hi in terms:
        if is_nonneg(c, positive):
            low, high = low + c * lo, high + c * hi
        elif is_nonneg(-c, positive):
            low, high = low + c * hi, high + c * lo
        else:
            return None
    return sympy.expand(low), sympy.expand(high)


def is_float_base(fn: Function, base: str) -> bool:
    """Whether `base` (a parameter, declaration or scalar) holds floating-point values (unknown counts as float)."""
    types = [p.type for p in fn.params if p.name == base]
    types += [n.type for n in walk(fn.body) if isinstance(n, Decl) and n.name == base]  # type: ignore[arg-type]
    for t in types:
        while isinstance(t, (PointerType, ArrayType)):
            t = t.pointee if isinstance(t, PointerType) else t.element
        return not (isinstance(t, ScalarType) and (t.dtype.is_int or t.dtype == DType.bool))
    return True


def enclosing_vars(match: LoopMatch) -> set[str]:
    """Variables of the loops around a loop: constant while it runs (their bodies never assign them)."""
    return {v for v in (loop_var(a) for a in match.ancestors if isinstance(a, For)) if v is not None}


def analyze(module: Module, fn: Function, nest: list[CanonicalLoop], body: tuple[Stmt, ...], outer: set[str],
            parallel: bool = True) -> tuple[list[Level], list[Access]]:
    """Levels of a nest (outermost first) and the accesses of its body (parallel=False: ignore parallel marks).
    outer: variables of the enclosing loops (invariants)."""
    collector = AccessCollector(module, fn, {view.var for view in nest}, outer)
    levels = [Level(view.var, collector.affine(view.start), collector.affine(view.stop),
                    parallel and view.loop.kind == ForKind.parallel) for view in nest]
    return levels, collector.collect(body)


def varying_levels(a: Access, b: Access, levels: list[Level], fn: Function) -> set[str]:
    """Levels at which a dependence between a and b may join two different iterations."""
    return {lv.var for lv in levels} - forced_equal(a, b, levels, positive_symbols(fn))


def conflicting_pairs(accesses: list[Access]) -> Iterator[tuple[Access, Access]]:
    """Every pair of accesses to the same buffer with at least one write (an access pairs with itself)."""
    for i, a in enumerate(accesses):
        for b in accesses[i:]:
            if a.base == b.base and (a.write or b.write):
                yield a, b


def is_reduction_only(base: str, accesses: list[Access]) -> bool:
    """Whether every access of `base` is the same commutative update: all `x += e` / `x -= e`, or all `x *= e`."""
    ops = {{"-": "+"}.get(a.reduction, a.reduction) if a.write else None for a in accesses if a.base == base}
    return ops in ({"+"}, {"*"})

