"""`normalize`: rewrite the loop form a front half produced into the flat scalar loops a back half optimizes.

A CUDA/HIP kernel reaches the loop form as a grid loop over blocks around a block loop over threads, each
thread computing its element number (`i = bx * B + tx`, guarded by `i < N`), or walking a grid-stride loop
(`for (i = bx * B + tx; i < N; i += G * B)`), or a few items each (`for k < K: i = bx * B * K + k * B + tx`).
Written that way, the loop says how the source spread the work over hardware, not which elements it covers;
`cache`/`tensorize` need the latter: one parallel loop `for (i = 0; i < N; i += 1) body(i)`.

What is rewritten, each only when proven to keep the meaning (anything else is left as it is, never refused):

1. *Aliases*: `const float* x_1 = d_x;` (a parameter copy recover_loops made for the inlined kernel) inside a
   block loop is forwarded: uses read `d_x`, when neither name is reassigned and the types agree.
2. *SIMT iteration spaces*: a nest of parallel block/thread loops (plus serial item loops with a constant
   extent, plus at most one grid-stride loop) whose innermost body uses the loop variables only through index
   variables `i_j` (affine in them, guarded by `i_j < N_j`) becomes one parallel loop per index. The map from
   loop variables to an index must be a bijection onto [0, P): sorted by coefficient, the first is 1 and each
   next one is the previous coefficient times the previous extent (checked with SymPy; a grid-stride loop is
   the last, unbounded, digit). The new bound is N when P >= N is proven (or the space is unbounded), else
   `N < P ? N : P`, which is exact anyway. The iterations of the result are independent: the block and thread
   loops were parallel, and a serial item or grid-stride loop is accepted only when every buffer its body
   writes is accessed at `i + c` only (one c per buffer), so different elements touch different places.
3. *Pointer arithmetic*: `*(p + e)` and `(p + a)[b]` become `p[e]` and `p[a + b]` (the same in C); anywhere in a
   function, `*&x` becomes `x` (how the loop form writes the results of runtime queries such as
   cudaGetDevice(&d): a host variable assigned, not memory written).
4. *Vector loops with a scalar tail*: a thread's grid-stride loop over float4 chunks (`c4[i] = make_float4(f(a4[i].x),
   ...)`) followed by a scalar tail from 4 * n_vec doing f element by element becomes one scalar grid-stride loop
   over the elements (`_merge_vector_tail`), which 2. then flattens.

Proofs assume, as passes/loops.py does, that `int` parameters are sizes (positive) and C division of sizes is
floor division.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import sympy

from kernel_ir.diagnostics import XpilerError
from kernel_ir.dialects import get_printer
from kernel_ir.ir import (
    ArrayType, Assign, BinOp, Block, Break, Call, Cast, Const, Construct, Continue, Decl, DType, Expr, ExprStmt, For,
    ForKind, FuncQual, Function, GlobalVar, If, Index, Member, Module, NamedType, Namespace, Node, PointerType, Return,
    ScalarType, Select, Stmt, UnaryOp, Var, VarQual, VectorType, Verbatim, walk, transform,
)
from kernel_ir.parse import parse
from passes.loops import (
    PURE_CALLS, declared_names, exits_at_level, fresh_name, names_in, substitute, unit_step, written_names,
)


@dataclass(frozen=True)
class NormalizeOptions:
    """flatten_simt: rewrite block/thread loop nests into flat parallel loops (aliases and pointer
    arithmetic inside them are tidied first)."""

    flatten_simt: bool = True


def normalize(module: Module, options: NormalizeOptions | None = None) -> Module:
    """`module` (the loop form) with the SIMT iteration spaces it can prove flattened; never refuses."""
    return normalize_and_report(module, options)[0]


def normalize_and_report(module: Module, options: NormalizeOptions | None = None) -> tuple[Module, tuple[str, ...]]:
    """normalize(), plus one line per nest saying what became of it (for the translation's pass record)."""
    options = options or NormalizeOptions()
    notes: list[str] = []
    if not options.flatten_simt:
        return module, ()
    module = _scalarize_lanes(_inline_functors(module, notes).map_functions(_counted_chunk_loops), notes)
    constants = _global_constants(module)
    changed = module.map_functions(lambda fn: _normalize_function(fn, constants, notes))
    return changed, tuple(notes)


# ------------------------------------------------------------------------------------------------ symbols -----

class cdiv(sympy.Function):
    """C division of nonnegative integers (floor division), kept unevaluated unless both are numbers or p is
    q * k + r with 0 <= r < q (then it is k)."""

    @classmethod
    def eval(cls, p, q):
        if p.is_Integer and q.is_Integer and q > 0 and p >= 0:
            return sympy.Integer(p // q)
        if q.is_Integer and q > 0 and isinstance(p, sympy.Add):
            rest = p.func(*(t for t in p.args if not t.is_Integer))
            r = p - rest
            if 0 <= r < q and all(t.as_coeff_Mul()[0] % q == 0 for t in sympy.Add.make_args(rest)):
                return sympy.expand(rest / q)
        return None


class cmod(sympy.Function):
    """C remainder, opaque to the proofs."""


_SYMBOLS: dict[str, sympy.Symbol] = {}


def _symbol(name: str, positive: bool = False) -> sympy.Symbol:
    key = ("+" if positive else "") + name
    if key not in _SYMBOLS:
        _SYMBOLS[key] = sympy.Symbol(name, integer=True, positive=True) if positive \
            else sympy.Symbol(name, integer=True)
    return _SYMBOLS[key]


Env = dict[str, sympy.Expr]


def _sym(e: Expr, env: Env) -> sympy.Expr | None:
    """e as a SymPy integer expression (names through env, others as symbols), or None."""
    if isinstance(e, Const):
        return sympy.Integer(e.value) if isinstance(e.value, int) and not isinstance(e.value, bool) else None
    if isinstance(e, Var):
        return env.get(e.name, _symbol(e.name))
    if isinstance(e, Cast):
        widening = isinstance(e.type, ScalarType) and e.type.dtype.is_int and e.type.dtype.bits >= 32 \
            or isinstance(e.type, NamedType) and e.type.name == "size_t"
        return _sym(e.expr, env) if widening else None
    if isinstance(e, UnaryOp) and e.op == "-" and not e.postfix:
        inner = _sym(e.operand, env)
        return None if inner is None else -inner
    if isinstance(e, BinOp) and e.op == "&" and isinstance(e.rhs, UnaryOp) and e.rhs.op == "~" \
            and isinstance(e.rhs.operand, Const) and isinstance(e.rhs.operand.value, int) \
            and e.rhs.operand.value > 0 and e.rhs.operand.value & (e.rhs.operand.value + 1) == 0:
        a = _sym(e.lhs, env)  # a & ~(2^k - 1) rounds a down to a multiple of 2^k
        return None if a is None else cdiv(a, e.rhs.operand.value + 1) * (e.rhs.operand.value + 1)
    if isinstance(e, BinOp) and e.op in ("+", "-", "*", "/", "%", "<<", ">>"):
        a, b = _sym(e.lhs, env), _sym(e.rhs, env)
        if a is None or b is None:
            return None
        if e.op in ("<<", ">>"):
            if not (b.is_Integer and 0 <= b < 63):
                return None
            return a * 2 ** int(b) if e.op == "<<" else cdiv(a, sympy.Integer(2 ** int(b)))
        if e.op == "%" and b.is_Integer and b > 0:
            return a - b * cdiv(a, b)
        return {"+": a + b, "-": a - b, "*": a * b, "/": cdiv(a, b), "%": cmod(a, b)}[e.op]
    if isinstance(e, Select):
        return _min_max(e, env)
    return None


def _min_max(e: Select, env: Env) -> sympy.Expr | None:
    """`a > c ? a : b` with b in {c, c + 1} is Max(a, b) (integers), and the like for >=, <, <= and swapped
    branches; anything else is None."""
    if not (isinstance(e.cond, BinOp) and e.cond.op in _NEGATED):
        return None
    op, lhs, rhs = e.cond.op, _strip_casts(e.cond.lhs), _strip_casts(e.cond.rhs)
    then, otherwise = _strip_casts(e.then), _strip_casts(e.otherwise)
    if rhs in (then, otherwise) and lhs not in (then, otherwise):
        op, lhs, rhs = _MIRRORED[op], rhs, lhs
    if lhs == otherwise:
        op, then, otherwise = _NEGATED[op], otherwise, then
    if lhs != then:
        return None
    a, b, c = _sym(then, env), _sym(otherwise, env), _sym(rhs, env)
    if a is None or b is None or c is None:
        return None
    shifts = {">": (0, 1), ">=": (-1, 0), "<": (-1, 0), "<=": (0, 1)}[op]
    if all(sympy.expand(b - c - k) != 0 for k in shifts):
        return None
    return sympy.Max(a, b) if op in (">", ">=") else sympy.Min(a, b)


def _strip_casts(e: Expr) -> Expr:
    while isinstance(e, Cast):
        e = e.expr
    return e


_MIRRORED = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}


def _global_constants(module: Module) -> Env:
    """Values of `constexpr`/`const` integer globals with a constant initializer."""
    env: Env = {}
    for g in module.globals:
        if isinstance(g, GlobalVar) and isinstance(g.type, ScalarType) and g.type.dtype.is_int and g.init is not None \
                and (g.type.const or VarQual.constexpr in g.qualifiers):
            value = _sym(g.init, env)
            if value is not None and value.is_Integer:
                env[g.name] = value
    return env


# ------------------------------------------------------------------------------------------------ proofs ------

def prove_nonneg(e: sympy.Expr) -> bool:
    """True when the integer expression e is >= 0 for all values (positive symbols >= 1, others unknown).

    Min/Max/cdiv atoms are eliminated one by one according to the sign of e's derivative in them:
    cdiv(p, q) >= (p - q + 1) / q and <= p / q for a positive constant q; then e, a lower bound of an integer,
    is >= 0 when the bound is > -1 (a polynomial with nonnegative coefficients is least at its symbols' least).
    """
    e = sympy.expand(e)
    atom = next((a for a in sympy.preorder_traversal(e) if isinstance(a, (sympy.Min, sympy.Max, cdiv, cmod))), None)
    if atom is None:
        return _least_value(e) is not None and _least_value(e) > -1
    t = sympy.Dummy("t")
    replaced = e.xreplace({atom: t})
    slope = sympy.diff(replaced, t)
    increasing = _least_value(slope) is not None and _least_value(slope) >= 0
    decreasing = _least_value(-slope) is not None and _least_value(-slope) >= 0
    if not (increasing or decreasing):
        return False
    if isinstance(atom, (sympy.Min, sympy.Max)):
        cases = [replaced.subs(t, arg) for arg in atom.args]
        every = isinstance(atom, sympy.Min) == increasing
        return all(map(prove_nonneg, cases)) if every else any(map(prove_nonneg, cases))
    if isinstance(atom, cdiv) and atom.args[1].is_Integer and atom.args[1] > 0:
        p, q = atom.args  # and cdiv(p, q) >= 0 when p >= 0
        return prove_nonneg(replaced.subs(t, (p - q + 1) / q if increasing else p / q)) \
            or increasing and prove_nonneg(p) and prove_nonneg(replaced.subs(t, 0))
    return False


def _least_value(e: sympy.Expr) -> sympy.Rational | None:
    """The least value of polynomial e over its symbols' ranges, when every non-constant coefficient is >= 0."""
    if not e.free_symbols:
        return e if e.is_Rational else None
    symbols = sorted(e.free_symbols, key=str)
    if not all(s.is_positive for s in symbols) or not e.is_polynomial(*symbols):
        return None
    poly = sympy.Poly(e, *symbols)
    if any(c < 0 for monomial, c in poly.terms() if any(monomial)):
        return None
    return e.subs({s: 1 for s in symbols})


# ------------------------------------------------------------------------------------------------ the pass ----

def _normalize_function(fn: Function, constants: Env, notes: list[str]) -> Function:
    if fn.body is None:
        return fn
    params = {p.name: _symbol(p.name, positive=True) for p in fn.params
              if isinstance(p.type, ScalarType) and p.type.dtype.is_int}
    context = _Context(fn, {**constants, **params}, notes)
    body = transform(fn.body, lambda n: n.operand.operand if isinstance(n, UnaryOp) and n.op == "*" and not n.postfix
                     and isinstance(n.operand, UnaryOp) and n.operand.op == "&" else None)
    return dataclasses.replace(fn, body=context.block(body, dict(context.env)))


def _is_block_loop(s: Node) -> bool:
    return isinstance(s, For) and s.kind == ForKind.parallel and (s.axis or "").startswith("blockIdx")


def _is_thread_loop(s: Node) -> bool:
    return isinstance(s, For) and s.kind == ForKind.parallel and (s.axis or "").startswith("threadIdx")


@dataclass
class _Context:
    """One function being normalized: its text (for name checks) and the integer values known so far."""

    fn: Function
    env: Env
    notes: list[str]

    def block(self, block: Block, env: Env) -> Block:
        """block with its nests rewritten; env follows the values of integer scalars statement by statement."""
        out: list[Stmt] = []
        for s in block.body:
            if _is_block_loop(s):
                out.extend(self.nest(s, env))
            elif isinstance(s, Block):
                out.append(self.block(s, dict(env)))
            else:
                out.append(s)
            _follow(s, env)
        return Block(tuple(out))

    def nest(self, loop: For, env: Env) -> tuple[Stmt, ...]:
        loop = _tidy_pointers(_forward_aliases(loop, self.fn))
        result = _flatten(loop, env, lambda name: _type_of(self.fn, name))
        if isinstance(result, str):
            self.notes.append(f"kept the {loop.axis} nest: {result}")
            return (loop,)
        self.notes.append(f"flattened the {loop.axis} nest into {result[1]}")
        return result[0]


def _follow(s: Stmt, env: Env) -> None:
    """Update env with what s does to integer scalars: declarations, assignments, min/max clamps; any other
    write (or an address taken) makes the value unknown (a bare symbol)."""
    if isinstance(s, Decl):
        value = _sym(s.init, env) if s.init is not None and isinstance(s.type, ScalarType) \
            and s.type.dtype.is_int else None
        env[s.name] = value if value is not None else _symbol(s.name)
        return
    target, value = _assignment(s)
    if target is not None:
        computed = _sym(value, env) if value is not None else None
        env[target] = computed if computed is not None else _symbol(target)
        return
    clamp = _clamp(s, env)
    if clamp is not None:
        env[clamp[0]] = clamp[1]
        return
    touched = written_names(s) | {n.operand.name for n in walk(s)
                                  if isinstance(n, UnaryOp) and n.op == "&" and isinstance(n.operand, Var)}
    for name in touched:
        env[name] = _symbol(name)


def _assignment(s: Stmt) -> tuple[str | None, Expr | None]:
    """(x, value) for `x = value` or `*&x = value`; (x, None) for `x op= ...`; (None, None) otherwise."""
    if not isinstance(s, Assign):
        return None, None
    target = s.target
    if isinstance(target, UnaryOp) and target.op == "*" and isinstance(target.operand, UnaryOp) \
            and target.operand.op == "&":
        target = target.operand.operand
    if not isinstance(target, Var):
        return None, None
    return target.name, s.value if not s.op else None


def _clamp(s: Stmt, env: Env) -> tuple[str, sympy.Expr] | None:
    """`if (x > c) x = c;` is x = Min(x, c); `if (x < c) x = c;` (or `x <= c - 1`) is Max(x, c)."""
    if not (isinstance(s, If) and s.otherwise is None and len(s.then.body) == 1 and isinstance(s.cond, BinOp)):
        return None
    name, value = _assignment(s.then.body[0])
    cond = s.cond
    if name is None or value is None or cond.lhs != Var(name) or cond.op not in ("<", "<=", ">", ">="):
        return None
    old, bound, new = env.get(name, _symbol(name)), _sym(cond.rhs, env), _sym(value, env)
    if bound is None or new is None:
        return None
    shift = {"<": 0, "<=": 1, ">": 0, ">=": -1}[cond.op]
    if sympy.expand(new - bound - shift) != 0:
        return None
    return name, sympy.Max(old, new) if cond.op in ("<", "<=") else sympy.Min(old, new)


# ------------------------------------------------------------------------------------------------ aliases -----

def _forward_aliases(loop: For, fn: Function) -> For:
    """The block loop nest with `T a = b;` copies in its innermost block body forwarded (uses of a read b), when
    neither is reassigned inside the nest, nothing there redeclares b, a is declared once and the element
    types agree."""
    if len(loop.body.body) == 1 and _is_block_loop(loop.body.body[0]):
        return dataclasses.replace(loop, body=Block((_forward_aliases(loop.body.body[0], fn),)))
    declared_once = _declared_once(fn)
    written = written_names(loop) | _address_taken(loop)
    body = list(loop.body.body)
    kept: list[Stmt] = []
    while body:
        s = body.pop(0)
        if isinstance(s, Decl) and isinstance(s.init, Var) and s.name in declared_once and s.name not in written \
                and s.init.name not in written and s.init.name not in declared_names(Block(tuple(body))) \
                and _same_element(s.type, _type_of(fn, s.init.name)):
            body = [substitute(t, s.name, s.init) for t in body]
            continue
        kept.append(s)
    return dataclasses.replace(loop, body=Block(tuple(kept)))


def _declared_once(fn: Function) -> set[str]:
    counts: dict[str, int] = {}
    for n in walk(fn):
        if isinstance(n, Decl):
            counts[n.name] = counts.get(n.name, 0) + 1
    return {name for name, k in counts.items() if k == 1 and name not in {p.name for p in fn.params}}


def _address_taken(node: Node) -> set[str]:
    return {n.operand.name for n in walk(node) if isinstance(n, UnaryOp) and n.op == "&" and isinstance(n.operand, Var)}


def _type_of(fn: Function, name: str):
    found = [p.type for p in fn.params if p.name == name] + [n.type for n in walk(fn) if isinstance(n, Decl)
                                                              and n.name == name]
    return found[0] if len(found) == 1 else None


def _same_element(a, b) -> bool:
    """Forwarding b for a reads the same values: both pointers to one scalar type, or one scalar type."""
    if isinstance(a, PointerType) and isinstance(b, PointerType):
        a, b = a.pointee, b.pointee
    return isinstance(a, ScalarType) and isinstance(b, ScalarType) and a.dtype == b.dtype


def _tidy_pointers(node: Node) -> Node:
    """`*(p + e)` -> `p[e]`, `(p + a)[b]` -> `p[a + b]` (the same access in C; p a pointer)."""
    def visit(n: Node) -> Node | None:
        if isinstance(n, UnaryOp) and n.op == "*" and not n.postfix and isinstance(n.operand, BinOp) \
                and n.operand.op == "+" and isinstance(n.operand.lhs, Var):
            return Index(n.operand.lhs, n.operand.rhs)
        if isinstance(n, Index) and isinstance(n.base, BinOp) and n.base.op == "+" and isinstance(n.base.lhs, Var):
            return Index(n.base.lhs, BinOp("+", n.base.rhs, n.index))
        return None
    return transform(node, visit)


# ------------------------------------------------------------------------------------------------ flattening --

@dataclass(frozen=True)
class _Term:
    """One digit of an iteration space: a loop variable and its extent (None: unbounded, a grid stride)."""

    var: str
    extent: Expr | None  # the C expression (None for the grid-stride counter)
    size: sympy.Expr | None
    axis: str | None  # the hardware axis of a block/thread loop, None for serial loops


@dataclass(frozen=True)
class _Index:
    """An element number the body uses: `name` of `type`, value affine in the terms, guarded by < bound."""

    name: str
    type: ScalarType | NamedType
    value: sympy.Expr
    bound: Expr


@dataclass(frozen=True)
class _Space:
    indices: tuple[_Index, ...]
    body: tuple[Stmt, ...]
    serial: bool  # some term is a serial loop: the body's independence must be shown


def _flatten(loop: For, env: Env, type_of=lambda name: None) -> tuple[tuple[Stmt, ...], str] | str:
    """(statements replacing the nest, a description) or the reason it is kept. type_of: the type of a variable
    of the function (None when not declared exactly once)."""
    env = dict(env)
    terms: list[_Term] = []
    current: Stmt = loop
    prefix: list[Stmt] = []
    while _is_block_loop(current) or _is_thread_loop(current):
        term = _parallel_term(current, env)
        if term is None:
            return f"the loop over {current.init[0].name if current.init else '?'} is not `for (v = 0; v < E; v++)`"
        terms.append(term)
        env[term.var] = _loop_symbol(term.var)
        stmts = list(current.body.body)
        if _is_block_loop(current) and not (len(stmts) == 1 and _is_block_loop(stmts[0])):
            while stmts and not _is_thread_loop(stmts[0]):
                prefix.append(stmts.pop(0))
            if len(stmts) != 1:
                return "the block body is not invariant declarations followed by one thread loop nest"
            for s in prefix:
                problem = _prefix_problem(s, loop)
                if problem:
                    return problem
                _follow(s, env)
        if len(stmts) == 1 and (_is_block_loop(stmts[0]) or _is_thread_loop(stmts[0])):
            current = stmts[0]
            continue
        space = _enumerate(stmts, terms, env, views=_vector_views(prefix, type_of))
        break
    else:
        return "no thread loop"
    if isinstance(space, str):
        return space
    return _build(space, terms, prefix, loop, env)


def _parallel_term(loop: For, env: Env) -> _Term | None:
    if not (len(loop.init) == 1 and isinstance(loop.init[0], Decl) and loop.init[0].init == Const(0, DType.int32)):
        return None
    var = loop.init[0].name
    if not (isinstance(loop.cond, BinOp) and loop.cond.op == "<" and loop.cond.lhs == Var(var)) \
            or loop.step not in (unit_step(var), ExprStmt(UnaryOp("++", Var(var))),
                                 ExprStmt(UnaryOp("++", Var(var), postfix=True))):
        return None
    size = _sym(loop.cond.rhs, env)
    if size is None or var in written_names(loop.body):
        return None
    return _Term(var, loop.cond.rhs, size, loop.axis)


def _loop_symbol(name: str) -> sympy.Symbol:
    return sympy.Symbol(name, integer=True, nonnegative=True)


def _prefix_problem(s: Stmt, nest: For) -> str | None:
    """Why a statement before the thread loops cannot be shared by all threads' iterations (None if it can):
    it must declare a scalar or a value object computed from invariants, never written inside the nest."""
    if not isinstance(s, Decl):
        return f"the block body holds a {type(s).__name__} before its thread loops"
    if isinstance(s.type, ArrayType) or s.scope.value not in ("local", "register"):
        return f"the block declares the array {s.name!r} (block-shared memory)"
    if s.name in written_names(nest) | _address_taken(nest):
        return f"{s.name!r}, declared by the block, is written inside it"
    if s.init is not None and any(isinstance(n, Index) or isinstance(n, UnaryOp) and n.op in ("*", "++", "--")
                                  for n in walk(s.init)):
        return f"{s.name!r}, declared by the block, reads memory"
    return None


def _enumerate(stmts: list[Stmt], terms: list[_Term], env: Env, serial: bool = False,
               views: dict[str, tuple[str, int]] | None = None) -> _Space | str:
    """The iteration space of a thread body: index definitions, then one guard, item loop or grid-stride loop.
    views: the block's vector views of scalar buffers (see `_merge_vector_tail`)."""
    stmts = _guard_early_exit(stmts)
    defs: list[Decl] = []
    while len(stmts) > 1 or stmts and isinstance(stmts[0], Decl):
        merged = _merge_vector_tail(stmts, terms, env, views or {})
        if merged is not None:
            stmts = merged
            continue
        s = stmts.pop(0)
        if not (isinstance(s, Decl) and isinstance(s.type, ScalarType) and s.type.dtype.is_int and s.init is not None):
            return f"the thread body computes more than its element numbers before the work ({type(s).__name__})"
        value = _sym(s.init, env)
        if value is None:
            return f"{s.name!r} is not an affine function of the thread's coordinates"
        grid_stride = stmts and isinstance(stmts[0], For) and not stmts[0].init
        if s.name in written_names(Block(tuple(stmts))) and not grid_stride:
            return f"{s.name!r} changes inside the thread body"
        env[s.name] = value
        defs.append(s)
    if not stmts:
        return "the thread body does no work"
    last = stmts[0]
    if isinstance(last, If) and last.otherwise is None:
        guards = _guards(last.cond, defs)
        if isinstance(guards, str):
            return guards
        return _Space(tuple(_Index(d.name, d.type, env[d.name], bound) for d, bound in guards),
                      last.then.body, serial)
    if isinstance(last, For):
        item = _parallel_term(dataclasses.replace(last, axis=None), env)
        if item is not None and item.size.is_Integer:
            env[item.var] = _loop_symbol(item.var)
            terms.append(item)
            return _enumerate(list(last.body.body), terms, env, serial=True)
        return _grid_stride(last, defs, terms, env)
    return f"the thread body ends with a {type(last).__name__}, not a guard or a loop over elements"


def _vector_views(prefix: list[Stmt], type_of) -> dict[str, tuple[str, int]]:
    """{view: (buffer, lanes)} for the block's `const float4* a4 = (const float4*)a;` over a `float*` a (views
    declared by the block are never written in the nest: `_prefix_problem` checked)."""
    views = {}
    for s in prefix:
        if isinstance(s, Decl) and isinstance(s.type, PointerType) and isinstance(s.type.pointee, VectorType) \
                and s.init is not None and isinstance(_strip_casts(s.init), Var):
            base = _strip_casts(s.init).name
            scalar = type_of(base)
            if isinstance(scalar, PointerType) and isinstance(scalar.pointee, ScalarType) \
                    and scalar.pointee.dtype == s.type.pointee.dtype:
                views[s.name] = (base, s.type.pointee.lanes)
    return views


def _merge_vector_tail(stmts: list[Stmt], terms: list[_Term], env: Env,
                       views: dict[str, tuple[str, int]]) -> list[Stmt] | None:
    """`for (i = s; i < NV; i += S) { float4 va = a4[i]; ... c4[i] = make_float4(f(va.x, ...), ...); }` followed by
    a scalar tail from W * NV (`t = W * NV + s; if (t < N) c[t] = f(a[t], ...);` or the same as a loop stepping
    by S) -> `for (t = s; t < N; t += S) c[t] = f(a[t], ...);`, when lane l of every vector statement is the
    tail's statement at element W * i + l. Thread by thread the elements differ, but the grid covers the same
    ones: [0, W * NV) by vectors and [W * NV, N) by the tail, proven with SymPy (W * NV <= N; for the one-shot
    tail, the T threads reach N: W * NV + T >= N), and S = T is proven when the result is flattened (else the
    nest is kept as it was). None when the statements do not have this shape."""
    if len(stmts) < 2 or not isinstance(stmts[0], For) or len(stmts[0].init) != 1:
        return None
    loop, rest = stmts[0], stmts[1:]
    i, start = loop.init[0].name, loop.init[0].init
    step = _stride_of(loop, i)
    if start is None or step is None or not (isinstance(loop.cond, BinOp) and loop.cond.op == "<"
                                             and loop.cond.lhs == Var(i)):
        return None
    lanes = _lane_statements(loop.body.body, i, views)
    tail = _scalar_tail(rest, step)
    if lanes is None or tail is None:
        return None
    t, t_decl, t_start, bound, body, one_shot = tail
    width = len(lanes)
    for lane, lane_stmts in enumerate(lanes):
        element = BinOp("+", BinOp("*", Const(width, DType.int32), Var(i)), Const(lane, DType.int32))
        if tuple(substitute(x, t, element) for x in body) != lane_stmts:
            return None
    values = [_sym(e, env) for e in (start, t_start, loop.cond.rhs, bound)]
    if any(v is None for v in values):
        return None
    s_value, t_value, vectors, n = values
    threads = sympy.Mul(*(term.size for term in terms))
    if sympy.simplify(t_value - s_value - width * vectors) != 0 or not prove_nonneg(n - width * vectors) \
            or one_shot and (any(term.size is None for term in terms) or not prove_nonneg(threads - (width - 1))
                             or not prove_nonneg(width * vectors + width - 1 - n)):  # W*NV + T >= N, in two steps
        return None
    merged = For((dataclasses.replace(t_decl, init=start),), BinOp("<", Var(t), bound), Assign(Var(t), step, "+"),
                 Block(body), pragmas=loop.pragmas)
    return [merged]


def _stride_of(loop: For, var: str) -> Expr | None:
    """S of a loop stepping `var += S` (a statement or an expression), else None."""
    if isinstance(loop.step, Assign) and loop.step.target == Var(var) and loop.step.op == "+":
        return loop.step.value
    if isinstance(loop.step, ExprStmt) and isinstance(loop.step.expr, BinOp) and loop.step.expr.op == "+=" \
            and loop.step.expr.lhs == Var(var):
        return loop.step.expr.rhs
    return None


def _lane_statements(body: tuple[Stmt, ...], i: str, views: dict[str, tuple[str, int]]) \
        -> list[tuple[Stmt, ...]] | None:
    """Per lane l, the scalar statements of a vector body (`T4 v = p4[i];` loads, then `q4[i] = make_T4(e_x,
    ...)` stores) at element W * i + l, or None when a lane reads another lane or anything is not of this shape."""
    loads: dict[str, str] = {}
    stores: list[tuple[str, tuple[Expr, ...]]] = []
    width = None
    for s in body:
        if isinstance(s, Decl) and isinstance(s.type, VectorType) and isinstance(s.init, Index) \
                and isinstance(s.init.base, Var) and s.init.base.name in views and s.init.index == Var(i) and not stores:
            buffer, width_here = views[s.init.base.name]
            loads[s.name] = buffer
        elif isinstance(s, Assign) and not s.op and isinstance(s.target, Index) and isinstance(s.target.base, Var) \
                and s.target.base.name in views and s.target.index == Var(i) and isinstance(s.value, Call) \
                and s.value.name.startswith("make_"):
            buffer, width_here = views[s.target.base.name]
            if len(s.value.args) != width_here:
                return None
            stores.append((buffer, s.value.args))
        else:
            return None
        if width not in (None, width_here) or width_here > len(_LANE_FIELDS):
            return None
        width = width_here
    if not stores:
        return None
    out = []
    for lane in range(width):
        element = BinOp("+", BinOp("*", Const(width, DType.int32), Var(i)), Const(lane, DType.int32))

        def scalar(n: Node) -> Node | None:
            if isinstance(n, Member) and isinstance(n.base, Var) and n.base.name in loads and not n.arrow:
                return Index(Var(loads[n.base.name]), element) if n.field == _LANE_FIELDS[lane] else Var("")
            return None
        stmts = tuple(Assign(Index(Var(buffer), element), transform(args[lane], scalar)) for buffer, args in stores)
        if Var("") in [n for x in stmts for n in walk(x)] or names_in(Block(stmts)) & set(loads):
            return None  # a lane reads another lane, or a whole vector
        out.append(stmts)
    return out


_LANE_FIELDS = ("x", "y", "z", "w")


def _scalar_tail(rest: list[Stmt], step: Expr) -> tuple[str, Decl, Expr, Expr, tuple[Stmt, ...], bool] | None:
    """(element variable, its declaration, start, bound, body, one element per thread?) of a scalar tail:
    `T t = start; if (t < N) body` or `for (T t = start; t < N; t += step) body`."""
    if len(rest) == 2 and isinstance(rest[0], Decl) and isinstance(rest[1], If) and rest[1].otherwise is None:
        decl, guard = rest
        if decl.init is None or not (isinstance(guard.cond, BinOp) and guard.cond.op == "<"
                                     and guard.cond.lhs == Var(decl.name)):
            return None
        body, one_shot = guard.then.body, True
        start, bound = decl.init, guard.cond.rhs
    elif len(rest) == 1 and isinstance(rest[0], For) and len(rest[0].init) == 1 \
            and isinstance(rest[0].init[0], Decl) and rest[0].init[0].init is not None:
        loop = rest[0]
        decl = loop.init[0]
        if _stride_of(loop, decl.name) != step or not (isinstance(loop.cond, BinOp) and loop.cond.op == "<"
                                                        and loop.cond.lhs == Var(decl.name)):
            return None
        body, one_shot = loop.body.body, False
        start, bound = decl.init, loop.cond.rhs
    else:
        return None
    if not isinstance(decl.type, ScalarType) or decl.name in written_names(Block(body)) | names_in(bound):
        return None
    return decl.name, dataclasses.replace(decl, type=dataclasses.replace(decl.type, const=False)), start, bound, \
        body, one_shot


def _guard_early_exit(stmts: list[Stmt]) -> list[Stmt]:
    """`flag = ...; if (c) { flag = true; continue; } rest` -> `if (!c) { rest }` (c a comparison), when the
    flag is only ever assigned constants, at the top of the body or in such an exit, and never read."""
    exits = [s for s in stmts if isinstance(s, If) and s.otherwise is None and s.then.body
             and s.then.body[-1] == Continue()]
    places = stmts + [t for s in exits for t in s.then.body]
    dead = set()
    for s in stmts:
        if isinstance(s, Decl) and isinstance(s.type, ScalarType) and (s.init is None or isinstance(s.init, Const)):
            sets = [t for t in places if isinstance(t, Assign) and t.target == Var(s.name) and not t.op
                    and isinstance(t.value, Const)]
            uses = sum(1 for t in stmts for n in walk(t) if n == Var(s.name))
            if uses == len(sets):
                dead.add(s.name)

    def live(block_stmts):
        return [t for t in block_stmts if not (isinstance(t, Decl) and t.name in dead or isinstance(t, Assign)
                                               and isinstance(t.target, Var) and t.target.name in dead)]
    stmts = live(stmts)
    for k, s in enumerate(stmts):
        if isinstance(s, If) and s.otherwise is None and live(s.then.body) == [Continue()] \
                and isinstance(s.cond, BinOp) and s.cond.op in _NEGATED:
            negated = BinOp(_NEGATED[s.cond.op], s.cond.lhs, s.cond.rhs)
            return stmts[:k] + [If(negated, Block(tuple(stmts[k + 1:])))]
    return stmts


_NEGATED = {"<": ">=", ">=": "<", ">": "<=", "<=": ">"}


def _guards(cond: Expr, defs: list[Decl]) -> list[tuple[Decl, Expr]] | str:
    """`i < N && j < M` over index definitions, as (definition, bound) pairs."""
    if isinstance(cond, BinOp) and cond.op == "&&":
        a, b = _guards(cond.lhs, defs), _guards(cond.rhs, defs)
        return a if isinstance(a, str) else b if isinstance(b, str) else a + b
    if isinstance(cond, BinOp) and cond.op in ("<", ">"):
        var, bound = (cond.lhs, cond.rhs) if cond.op == "<" else (cond.rhs, cond.lhs)
        var = var.expr if isinstance(var, Cast) and _sym(var, {}) is not None else var
        found = [d for d in defs if Var(d.name) == var]
        if found:
            return [(found[0], bound)]
    return "the guard is not a conjunction of `index < bound`"


def _grid_stride(loop: For, defs: list[Decl], terms: list[_Term], env: Env) -> _Space | str:
    """`for (i = start; i < N; i += S)` with start affine in the thread's coordinates and S invariant."""
    if len(loop.init) == 1 and isinstance(loop.init[0], Decl) and loop.init[0].init is not None:
        decl = loop.init[0]
        start = _sym(decl.init, env)
    elif not loop.init and defs:
        decl = defs[-1]
        start = env[decl.name]
    else:
        return "the thread body's loop has neither a constant extent nor a grid-stride shape"
    name = decl.name
    if start is None or not (isinstance(loop.cond, BinOp) and loop.cond.op == "<" and loop.cond.lhs == Var(name)):
        return f"the loop over {name!r} is not `for ({name} = start; {name} < N; {name} += stride)`"
    stride = _stride_of(loop, name)
    stride_value = _sym(stride, env) if stride is not None else None
    if stride_value is None or name in written_names(loop.body) or not isinstance(decl.type, ScalarType):
        return f"the loop over {name!r} does not step by an invariant stride"
    counter = _Term(f"{name}_stride", None, None, None)
    terms.append(counter)
    value = start + _loop_symbol(counter.var) * stride_value
    return _Space((_Index(name, decl.type, value, loop.cond.rhs),), loop.body.body, True)


def _build(space: _Space, terms: list[_Term], prefix: list[Stmt], nest: For, env: Env) \
        -> tuple[tuple[Stmt, ...], str] | str:
    """The flat loops of a proven space, or why the space is not a bijection onto its ranges."""
    body = Block(space.body)
    loop_vars = {t.var for t in terms}
    index_names = {i.name for i in space.indices}
    helpers = declared_names(nest) - index_names - declared_names(body)
    leaked = _used_names(body) & (loop_vars | helpers) - {s.name for s in prefix}
    if leaked:
        return f"the work uses {sorted(leaked)} besides its element numbers (e.g. the thread index itself)"
    if exits_at_level(space.body, (Break, Return)):
        return "the work leaves its loop early (break/return)"
    owner: dict[str, _Index] = {}
    chains: list[tuple[_Index, list[_Term]]] = []
    for index in space.indices:
        chain = _digits(index, terms)
        if isinstance(chain, str):
            return chain
        for t in chain:
            if t.var in owner:
                return f"{t.var} feeds two element numbers"
            owner[t.var] = index
        chains.append((index, chain))
    if set(owner) != loop_vars:
        return f"{sorted(loop_vars - set(owner))} do not reach an element number: iterations would repeat"
    inside = declared_names(nest) - {s.name for s in prefix if _hoistable(s)}
    for index, chain in chains:
        if names_in(index.bound) & (inside | index_names) or names_in(index.bound) & written_names(nest):
            return f"the bound of {index.name!r} is not invariant"
    if space.serial:
        problem = _dependence_problem(space, index_names)
        if problem:
            return problem
    needed = _used_names(body) | _names_of_bounds(space)
    for s in reversed(prefix):
        if s.name in needed and s.init is not None:
            needed |= _used_names(s.init)
    hoisted = [s for s in prefix if _hoistable(s) and s.name in needed]
    private = [s for s in prefix if not _hoistable(s) and s.name in needed]
    if any(names_in(s) & (index_names | inside - {s.name for s in hoisted}) for s in hoisted if s.init is not None) \
            or any(s.name in names_in(i.bound) for s in private for i in space.indices):
        return "the block's declarations depend on one another in a way that cannot be hoisted"
    chains.sort(key=lambda pair: min(terms.index(t) for t in pair[1]))
    stmts: tuple[Stmt, ...] = tuple(private) + space.body
    described = []
    for index, chain in reversed(chains):
        bound = _bound(index, chain, env)
        axis = next((t.axis for t in reversed(chain) if t.axis), nest.axis)
        loop_type = dataclasses.replace(index.type, const=False)
        stmts = (For((Decl(index.name, loop_type, Const(0, DType.int32)),), BinOp("<", Var(index.name), bound),
                     unit_step(index.name), Block(stmts), ForKind.parallel, axis, nest.pragmas),)
        described.insert(0, f"`for {index.name} < {_text(bound)}` ({axis})")
    return tuple(hoisted) + stmts, ", ".join(described)


def _used_names(node: Node) -> set[str]:
    """Variables node reads, including function objects it calls (`op(x)` with `SinOp op;`)."""
    return names_in(node) | {n.name for n in walk(node) if isinstance(n, Call)}


def _names_of_bounds(space: _Space) -> set[str]:
    return set().union(*(names_in(i.bound) for i in space.indices))


def _hoistable(s: Stmt) -> bool:
    """A block-level declaration computed once before the flat loop instead of per block: an integer scalar."""
    return isinstance(s, Decl) and isinstance(s.type, ScalarType) and s.type.dtype.is_int and s.init is not None


def _digits(index: _Index, terms: list[_Term]) -> list[_Term] | str:
    """The terms of an index in mixed-radix order (coefficient 1, then each the previous times its extent)."""
    value = sympy.expand(index.value)
    by_var = {_loop_symbol(t.var): t for t in terms}
    used = [by_var[s] for s in value.free_symbols if s in by_var]
    if not used:
        return f"{index.name!r} does not depend on the loop variables"
    coefficients = {}
    for t in used:
        c = value.coeff(_loop_symbol(t.var))
        if c == 0 or c.free_symbols & set(by_var):
            return f"{index.name!r} is not affine in {t.var}"
        coefficients[t.var] = c
    if sympy.expand(value - sum(coefficients[t.var] * _loop_symbol(t.var) for t in used)) != 0:
        return f"{index.name!r} does not start at 0"
    chain, expected = [], sympy.Integer(1)
    remaining = list(used)
    while remaining:
        nxt = next((t for t in remaining if sympy.expand(coefficients[t.var] - expected) == 0), None)
        if nxt is None:
            return f"{index.name!r} = {value} does not enumerate its loops without gaps or repeats"
        if nxt.size is None and len(remaining) > 1:
            return f"{index.name!r}: the grid stride is not the outermost digit"
        chain.append(nxt)
        remaining.remove(nxt)
        expected = expected * nxt.size if nxt.size is not None else None
    return chain


def _bound(index: _Index, chain: list[_Term], env: Env) -> Expr:
    """N, or the exact `N < P ? N : P` when P (the space's size) >= N is not proven; a grid stride covers
    every element once the space is non-empty (`P > 0 ? N : 0` when that is not proven)."""
    bounded = [t for t in chain if t.size is not None]
    size = sympy.Mul(*(t.size for t in bounded))
    product = _product([t.extent for t in bounded])
    if chain[-1].size is None:
        if prove_nonneg(size - 1):
            return index.bound
        return Select(BinOp(">", product, Const(0, DType.int32)), index.bound, Const(0, DType.int32))
    need = _sym(index.bound, env)
    if need is not None and prove_nonneg(size - need):
        return index.bound
    return Select(BinOp("<", index.bound, product), index.bound, product)


def _product(factors: list[Expr]) -> Expr:
    out = factors[0]
    for f in factors[1:]:
        out = BinOp("*", out, f)
    return out


def _dependence_problem(space: _Space, index_names: set[str]) -> str | None:
    """Why the work of different elements might interact (None when it cannot): it may write only its own
    locals, and each buffer it writes only at `index + c` (one c per buffer), through that buffer's name."""
    body = Block(space.body)
    local = declared_names(body)
    outside_writes = written_names(body) - local
    if outside_writes:
        return f"an item loop writes {sorted(outside_writes)}, declared outside it"
    written = {n.target.base.name for n in walk(body) if isinstance(n, Assign) and isinstance(n.target, Index)
               and isinstance(n.target.base, Var)} - local
    if any(isinstance(n, Assign) and not isinstance(n.target, (Var, Index)) for n in walk(body)):
        return "an item loop writes through a pointer expression"
    for name in written:
        offsets = set()
        for n in walk(body):
            if isinstance(n, Index) and n.base == Var(name):
                offset = _sym(BinOp("-", n.index, Var(next(iter(index_names)))), {}) if len(index_names) == 1 \
                    else None
                if offset is None or offset.free_symbols & {_symbol(v) for v in index_names | local}:
                    return f"an item loop accesses {name!r} at an index that is not the element number plus a constant"
                offsets.add(sympy.expand(offset))
        uses = sum(1 for n in walk(body) if n == Var(name))
        if len(offsets) != 1 or uses != sum(1 for n in walk(body) if isinstance(n, Index) and n.base == Var(name)):
            return f"an item loop reaches {name!r} at two offsets or through a pointer"
    return None


def _text(e: Expr) -> str:
    try:
        return get_printer("cpp").expr(e)
    except Exception:  # noqa: BLE001 - a note only
        return "..."


# ------------------------------------------------------------------------------------------------ functors ----

_STRUCT = re.compile(r"\s*struct\s+(\w+)\s*\{(.*)\}\s*;?\s*", re.S)
_CALL_OPERATOR = re.compile(r"([\w\s:]*?)\boperator\s*\(\s*\)\s*\(([^()]*)\)\s*(?:const\s*)?(?:noexcept\s*)?\{")
_METHOD_QUALIFIERS = {"__device__", "__host__", "__forceinline__", "inline", "static", "constexpr", "__mlu_func__"}


def _inline_functors(module: Module, notes: list[str]) -> Module:
    """`Op op = Op{}; ... op(x) ...` -> `... Op_apply(x) ...` with `static inline T Op_apply(T v)` the struct's
    operator(), for structs with no data members whose operator() is pure scalar code (no memory, no globals,
    only libm calls): the object carries nothing, so calling the operator is calling a plain function."""
    helpers: dict[str, Function] = {}
    taken = {f.name for f in module.functions} | {g.name for g in module.globals}
    for item in walk(module):
        if isinstance(item, Verbatim):
            helper = _functor_helper(item.text, taken)
            if helper is not None:
                helpers[helper[0]] = helper[1]
                taken.add(helper[1].name)
    if not helpers:
        return module
    changed = module.map_functions(lambda fn: _call_functors(fn, helpers, notes))
    if changed == module:
        return module
    used = {n.name for n in walk(changed) if isinstance(n, Call)}
    return dataclasses.replace(changed, items=_with_helpers(changed.items, helpers, used))


def _functor_helper(text: str, taken: set[str]) -> tuple[str, Function] | None:
    """(struct name, its operator() as a static helper) when the struct is only a pure scalar operator()."""
    struct = _STRUCT.fullmatch(text)
    if struct is None:
        return None
    members = struct.group(2)
    head = _CALL_OPERATOR.search(members)
    if head is None:
        return None
    depth, end = 1, head.end()
    while depth and end < len(members):
        depth += {"{": 1, "}": -1}.get(members[end], 0)
        end += 1
    if depth or (members[:head.start()] + members[end:]).strip(" \t\n;"):
        return None  # data members or other methods: the object may carry state
    result = " ".join(w for w in head.group(1).split() if w not in _METHOD_QUALIFIERS)
    name = fresh_name(f"{struct.group(1)}_apply", taken)
    try:
        parsed = parse(f"static inline {result} {name}({head.group(2)}) {{{members[head.end():end - 1]}}}", "cpp")
    except XpilerError:
        return None
    (fn,) = parsed.functions
    if not (isinstance(fn.return_type, ScalarType) and all(isinstance(p.type, ScalarType) for p in fn.params)):
        return None
    local = declared_names(fn.body) | {p.name for p in fn.params}
    impure = any(isinstance(n, (Index, Member)) or isinstance(n, UnaryOp) and n.op in ("*", "&")
                 or isinstance(n, Call) and n.name not in PURE_CALLS
                 or isinstance(n, Var) and n.name not in local for n in walk(fn.body))
    return None if impure else (struct.group(1), fn)


def _call_functors(fn: Function, helpers: dict[str, Function], notes: list[str]) -> Function:
    """fn with the calls of never-written, member-less functor locals replaced by calls of their helpers."""
    if fn.body is None:
        return fn
    once = _declared_once(fn)
    objects = {n.name: helpers[n.type.name] for n in walk(fn.body) if isinstance(n, Decl) and n.name in once
               and isinstance(n.type, NamedType) and n.type.name in helpers
               and (n.init is None or isinstance(n.init, Construct) and not n.init.args
                    and isinstance(n.init.type, NamedType) and n.init.type.name == n.type.name)}
    objects = {name: helper for name, helper in objects.items() if name not in names_in(fn.body)}
    if not objects:
        return fn

    def visit(n: Node) -> Node | None:
        if isinstance(n, Call) and n.name in objects:
            return Call(objects[n.name].name, tuple(transform(a, visit) for a in n.args))
        if isinstance(n, Block):
            return Block(tuple(transform(s, visit) for s in n.body
                               if not (isinstance(s, Decl) and s.name in objects)))
        return None
    notes.extend(f"called {objects[name].name} for the functor {name!r}" for name in sorted(objects))
    return dataclasses.replace(fn, body=transform(fn.body, visit))


def _with_helpers(items: tuple, helpers: dict[str, Function], used: set[str]) -> tuple:
    """items with each used helper placed right after its struct's definition."""
    out = []
    for item in items:
        if isinstance(item, Namespace):
            item = dataclasses.replace(item, items=_with_helpers(item.items, helpers, used))
        out.append(item)
        struct = _STRUCT.fullmatch(item.text) if isinstance(item, Verbatim) else None
        if struct and struct.group(1) in helpers and helpers[struct.group(1)].name in used:
            out.append(helpers[struct.group(1)])
    return tuple(out)


# ------------------------------------------------------------------------------------------------ lanes -------
# An AVX-512 source reaches the loop form (detensorize) as chunk loops over 16-lane arrays: `for (it < C) {
# int b = it * 16; float v[16]; for (l < 16) v[l] = (x + b)[l]; ...; for (l < 16) if ((m >> l) & 1) (y + b)[l] =
# t[l]; }`, often followed by a masked or scalar tail. When every lane loop touches lane l only (arrays at [l],
# memory at `(p + b + c)[l]`, masks through `(m >> l) & 1`), lane l computes a scalar function of element b + l,
# and the chunk loop is `for (e = 0; e < E; e++) body(e)` over the elements it stores.


class _NotLaneWise(Exception):
    """Why a chunk of lane loops is not one scalar computation per element (the loop is then kept)."""


@dataclass
class _Lanes:
    """What is known while rewriting lane code into the code of one lane."""

    width: int
    broadcast: dict[str, Expr | None]  # arrays holding one invariant value in every lane (None: read lane 0)
    helpers: dict[str, tuple[Function, int]]  # vector helper -> (its one-lane version, the output's position)
    env: Env
    base: sympy.Expr | None = None  # the chunk's first element (None inside a helper: no memory access)
    element: str = ""
    arrays: set[str] = dataclasses.field(default_factory=set)
    bits: set[str] = dataclasses.field(default_factory=set)  # comparison masks: each lane's bit kept at bit 0
    masks: set[str] = dataclasses.field(default_factory=set)  # prefix masks: lane < count, i.e. element < bound
    bound: sympy.Expr | None = None
    dropped: set[str] = dataclasses.field(default_factory=set)  # chunk-level integers, used only symbolically
    stores: set[bool] = dataclasses.field(default_factory=set)  # whether each store was under a mask


def _lane_loop_var(s: Stmt, width: int) -> str | None:
    if isinstance(s, For) and len(s.init) == 1 and isinstance(s.init[0], Decl) \
            and s.init[0].init == Const(0, DType.int32) and s.step == unit_step(s.init[0].name) \
            and s.cond == BinOp("<", Var(s.init[0].name), Const(width, DType.int32)):
        return s.init[0].name
    return None


def _lane_array(s: Stmt, width: int) -> bool:
    return isinstance(s, Decl) and isinstance(s.type, ArrayType) and s.type.size == Const(width, DType.int32) \
        and isinstance(s.type.element, ScalarType) and s.init is None and s.scope.value == "local"


def _is_int_type(t) -> bool:
    return isinstance(t, ScalarType) and t.dtype.is_int or isinstance(t, NamedType) and t.name.startswith("__mmask")


def _lane_code(stmts: tuple[Stmt, ...], lanes: _Lanes) -> list[Stmt]:
    """The statements of one lane (raises _NotLaneWise)."""
    lanes.bits |= _bit_masks(stmts, lanes.width)
    out: list[Stmt] = []
    for s in stmts:
        lane = _lane_loop_var(s, lanes.width)
        if _lane_array(s, lanes.width):
            lanes.arrays.add(s.name)
            out.append(Decl(s.name, s.type.element))
        elif lane is not None:
            out.extend(_one_lane(t, lane, lanes, False) for t in s.body.body)
        elif isinstance(s, (Decl, Assign)) and _mask_statement(s, lanes):
            continue
        elif isinstance(s, ExprStmt) and isinstance(s.expr, Call) and s.expr.name in lanes.helpers:
            out.append(_helper_call(s.expr, lanes))
        elif isinstance(s, Decl) and lanes.base is not None and isinstance(s.type, ScalarType) and s.type.dtype.is_int \
                and s.init is not None and s.name not in lanes.bits:
            _follow(s, lanes.env)
            lanes.dropped.add(s.name)
        elif isinstance(s, For) and not (names_in(Block(s.init)) | names_in(s.cond)) & _lane_names(lanes):
            out.append(dataclasses.replace(s, body=Block(tuple(_lane_code(s.body.body, lanes)))))
        elif isinstance(s, Return) and s.value is None and s is stmts[-1] and lanes.base is None:
            continue
        elif names_in(s) & _lane_names(lanes) - lanes.bits or any(isinstance(n, Call) and n.name in lanes.helpers
                                                                  for n in walk(s)):
            raise _NotLaneWise(f"a {type(s).__name__} mixes lanes outside a lane loop")
        else:
            out.append(s)
    out = [s for s in out if not (isinstance(s, Decl) and s.name in lanes.masks)]
    leaked = names_in(Block(tuple(out))) & (lanes.dropped | lanes.masks)
    if leaked:
        raise _NotLaneWise(f"{sorted(leaked)} are used per lane")
    return out


def _lane_names(lanes: _Lanes) -> set[str]:
    return lanes.arrays | lanes.bits | lanes.masks | set(lanes.broadcast)


def _bit_masks(stmts: tuple[Stmt, ...], width: int) -> set[str]:
    """Integers built lane by lane (`m |= 1 << l` in a lane loop) and their copies."""
    bits = set()
    for s in stmts:
        lane = _lane_loop_var(s, width)
        for n in walk(s) if lane else ():
            if isinstance(n, Assign) and n.op == "|" and isinstance(n.target, Var) and isinstance(n.value, BinOp) \
                    and n.value.op == "<<" and n.value.rhs == Var(lane):
                bits.add(n.target.name)
    grown = True
    while grown:
        grown = False
        for s in stmts:
            target, value = (s.name, s.init) if isinstance(s, Decl) else _assignment(s)
            if target and target not in bits and value is not None and _strip_casts(value) in {Var(b) for b in bits}:
                bits.add(target)
                grown = True
    return bits


def _mask_statement(s: Decl | Assign, lanes: _Lanes) -> bool:
    """Record `m = <prefix mask of count r>` (or a copy of one); False when s is no such statement."""
    target, value = (s.name, s.init) if isinstance(s, Decl) else _assignment(s)
    if target is None or value is None or isinstance(s, Decl) and not _is_int_type(s.type) or target in lanes.bits:
        return False
    value = _strip_casts(value)
    if isinstance(value, Var) and value.name in lanes.masks:
        lanes.masks.add(target)
        return True
    count = _prefix_count(value, lanes)
    if count is None or lanes.base is None:
        return False
    bound = sympy.expand(lanes.base + count)
    if lanes.bound is not None and sympy.expand(bound - lanes.bound) != 0 \
            or _loop_symbol(lanes.element) in bound.free_symbols:
        raise _NotLaneWise("two masks stop at different elements")
    lanes.bound = bound
    lanes.masks.add(target)
    return True


def _prefix_count(e: Expr, lanes: _Lanes) -> sympy.Expr | None:
    """r for `(1u << r) - 1u` (r <= 31 proven) or `r >= W ? <all ones> : (1u << r) - 1u` (either way round):
    the masks whose lane l is set exactly when l < r."""
    e = _strip_casts(e)
    if isinstance(e, Select) and isinstance(e.cond, BinOp) and e.cond.op in (">=", "<"):
        full, partial = (e.then, e.otherwise) if e.cond.op == ">=" else (e.otherwise, e.then)
        count = _shifted_ones(_strip_casts(partial))
        if _int_value(full) == 2 ** lanes.width - 1 and count is not None \
                and _int_value(e.cond.rhs) == lanes.width \
                and _sym(e.cond.lhs, lanes.env) is not None and _sym(count, lanes.env) is not None \
                and sympy.expand(_sym(e.cond.lhs, lanes.env) - _sym(count, lanes.env)) == 0:
            return _sym(count, lanes.env)
        return None
    count = _shifted_ones(e)
    value = _sym(count, lanes.env) if count is not None else None
    return value if value is not None and prove_nonneg(31 - value) else None


def _shifted_ones(e: Expr) -> Expr | None:
    if isinstance(e, BinOp) and e.op == "-" and isinstance(e.lhs, BinOp) and e.lhs.op == "<<" \
            and _int_value(e.lhs.lhs) == 1 and _int_value(e.rhs) == 1:
        return e.lhs.rhs
    return None


def _int_value(e: Expr) -> int | None:
    e = _strip_casts(e)
    return e.value if isinstance(e, Const) and isinstance(e.value, int) and not isinstance(e.value, bool) else None


def _helper_call(call: Call, lanes: _Lanes) -> Stmt:
    helper, output = lanes.helpers[call.name]
    if not all(isinstance(a, Var) and a.name in lanes.arrays for a in call.args) or len(call.args) != len(helper.params) + 1:
        raise _NotLaneWise(f"{call.name} is called on something other than lane arrays")
    inputs = tuple(a for k, a in enumerate(call.args) if k != output)
    return Assign(call.args[output], Call(helper.name, inputs))


def _one_lane(s: Stmt, lane: str, lanes: _Lanes, masked: bool) -> Stmt:
    """A statement of a lane loop's body, for lane `lane` alone."""
    if isinstance(s, If) and s.otherwise is None and _is_lane_test(s.cond, lane, lanes.masks):
        if len(s.then.body) != 1:
            raise _NotLaneWise("a masked block holds more than one statement")
        return _one_lane(s.then.body[0], lane, lanes, True)
    if isinstance(s, Assign) and isinstance(s.target, Var) and s.target.name in lanes.bits and s.op == "|" \
            and isinstance(s.value, BinOp) and s.value.op == "<<" and s.value.rhs == Var(lane):
        return Assign(s.target, _lane_expr(s.value.lhs, lane, lanes), "|")
    if isinstance(s, If) and s.otherwise is None:
        return If(_lane_expr(s.cond, lane, lanes), Block(tuple(_one_lane(t, lane, lanes, masked) for t in s.then.body)))
    if not isinstance(s, Assign):
        raise _NotLaneWise(f"a lane loop holds a {type(s).__name__}")
    target = _lane_expr(s.target, lane, lanes)
    if isinstance(target, Index):
        lanes.stores.add(masked)
    return Assign(target, _lane_expr(s.value, lane, lanes), s.op)


def _is_lane_test(e: Expr, lane: str, masks: set[str]) -> bool:
    """`(m >> l) & 1` or `((m >> l) & 1) != 0` for a prefix mask m."""
    if isinstance(e, BinOp) and e.op == "!=" and _int_value(e.rhs) == 0:
        e = e.lhs
    return isinstance(e, BinOp) and e.op == "&" and _int_value(e.rhs) == 1 and isinstance(e.lhs, BinOp) \
        and e.lhs.op == ">>" and e.lhs.rhs == Var(lane) and isinstance(e.lhs.lhs, Var) and e.lhs.lhs.name in masks


def _lane_expr(e: Expr, lane: str, lanes: _Lanes) -> Expr:
    """e for one lane: lane arrays are scalars, memory is read at the element, a prefix mask's test is true (the
    rewritten loop visits only the elements below the masks' bound), a bit mask is its lane's bit."""
    def visit(n: Node) -> Node | None:
        if isinstance(n, Select) and _is_lane_test(n.cond, lane, lanes.masks):
            return _top_down(n.then, visit)
        if isinstance(n, BinOp) and n.op == ">>" and n.rhs == Var(lane) and isinstance(n.lhs, Var) \
                and n.lhs.name in lanes.bits:
            return n.lhs
        if isinstance(n, Index) and n.index == Var(lane):
            return _lane_element(n.base, lanes)
        if n == Var(lane):
            raise _NotLaneWise("a lane computes with its lane number")
        return None
    return _top_down(e, visit)


def _top_down(node: Node, fn) -> Node:
    """Rewrite from the root: fn(node) replaces node (its children untouched) or, when None, node's children are
    rewritten in turn (lane patterns must be matched before their lane variable is seen alone)."""
    replaced = fn(node)
    if replaced is not None:
        return replaced
    changes = {}
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        if isinstance(value, Node):
            changes[f.name] = _top_down(value, fn)
        elif isinstance(value, tuple) and any(isinstance(v, Node) for v in value):
            changes[f.name] = tuple(_top_down(v, fn) if isinstance(v, Node) else v for v in value)
    return dataclasses.replace(node, **changes) if changes else node


def _lane_element(base: Expr, lanes: _Lanes) -> Expr:
    cast = base.type if isinstance(base, Cast) and isinstance(base.type, PointerType) else None
    inner = base.expr if cast else base
    if isinstance(inner, Var) and inner.name in lanes.arrays:
        return UnaryOp("*", Cast(cast, UnaryOp("&", inner))) if cast else inner
    if isinstance(inner, Var) and inner.name in lanes.broadcast:
        value = lanes.broadcast[inner.name]
        return value if value is not None and not cast else Index(base, Const(0, DType.int32))
    terms: list[Expr] = []
    while isinstance(inner, BinOp) and inner.op == "+":
        terms.insert(0, inner.rhs)
        inner = inner.lhs
    if cast or lanes.base is None or not isinstance(inner, Var) or inner.name in _lane_names(lanes) or not terms:
        raise _NotLaneWise("a lane loop reaches memory other than `(p + first element)[lane]`")
    offset = _sym(_product_sum(terms), lanes.env)
    offset = None if offset is None else sympy.expand(offset - lanes.base)
    if offset is None or not offset.is_Integer:
        raise _NotLaneWise("a lane loop reads memory away from its chunk's elements")
    element = Var(lanes.element) if offset == 0 else BinOp("+", Var(lanes.element), Const(int(offset), DType.int32))
    return Index(inner, element)


def _product_sum(terms: list[Expr]) -> Expr:
    out = terms[0]
    for t in terms[1:]:
        out = BinOp("+", out, t)
    return out


def _vector_helpers(module: Module, width: int) -> dict[str, tuple[Function, int]]:
    """Module functions `void f(const T* a, ..., T* out)` whose body is lane code over `width` lanes, each with
    its one-lane version `static inline T f_lane(T a, ...)` (helpers may call earlier ones)."""
    helpers: dict[str, tuple[Function, int]] = {}
    taken = {f.name for f in module.functions}
    for fn in module.functions:
        pointers = [p for p in fn.params if isinstance(p.type, PointerType) and isinstance(p.type.pointee, ScalarType)]
        outputs = [k for k, p in enumerate(fn.params) if not p.type.pointee.const] if len(pointers) == len(fn.params) \
            else []
        if fn.body is None or fn.return_type != ScalarType(DType.void) or len(outputs) != 1:
            continue
        output = fn.params[outputs[0]]
        lanes = _Lanes(width, {}, helpers, {}, arrays={p.name for p in fn.params})
        try:
            body = _lane_code(fn.body.body, lanes)
        except _NotLaneWise:
            continue
        element = output.type.pointee
        name = fresh_name(f"{fn.name}_lane", taken)
        taken.add(name)
        params = tuple(dataclasses.replace(p, type=dataclasses.replace(p.type.pointee, const=False))
                       for p in fn.params if p is not output)
        lane_fn = Function(name, dataclasses.replace(element, const=False), params,
                           Block((Decl(output.name, dataclasses.replace(element, const=False)), *body,
                                  Return(Var(output.name)))), frozenset({FuncQual.static, FuncQual.inline}))
        helpers[fn.name] = (lane_fn, outputs[0])
    return helpers


def _broadcasts(stmts: tuple[Stmt, ...], width: int) -> dict[str, Expr | None]:
    """`T a[W]; for (l < W) a[l] = v;` with v invariant, a written nowhere else: a holds v in every lane (v is
    inlined where it is a constant)."""
    out: dict[str, Expr | None] = {}
    for decl, fill in zip(stmts, stmts[1:]):
        lane = _lane_loop_var(fill, width)
        if not (_lane_array(decl, width) and lane and len(fill.body.body) == 1):
            continue
        s = fill.body.body[0]
        if not (isinstance(s, Assign) and not s.op and s.target == Index(Var(decl.name), Var(lane))) \
                or names_in(s.value) or any(isinstance(n, (Index, Call)) for n in walk(s.value)):
            continue
        writes = [n for t in stmts for n in walk(t) if isinstance(n, Assign) and isinstance(n.target, Index)
                  and _strip_casts(n.target.base) == Var(decl.name)]
        if len(writes) == 1 and _address_taken(Block(stmts)).isdisjoint({decl.name}):
            out[decl.name] = s.value if isinstance(s.value, Cast) and s.value.type == decl.type.element \
                else Cast(decl.type.element, s.value)
    return out


def _chunk(loop: For, lanes: _Lanes) -> tuple[str, sympy.Expr, tuple[Stmt, ...]]:
    """(element variable, number of chunks * width, body of one element) of `for (it = 0; it < C; it++) {
    int b = it * W; <lane code> }` (raises _NotLaneWise)."""
    it = loop.init[0].name
    body = loop.body.body
    if not (loop.init[0].init == Const(0, DType.int32) and loop.cond == BinOp("<", Var(it), loop.cond.rhs)
            and loop.step == unit_step(it) and it not in written_names(loop.body) and _is_int_type(body[0].type)):
        raise _NotLaneWise("not `for (it = 0; it < C; it++) { int b = it * W; ... }`")
    first = _sym(body[0].init, {**lanes.env, it: _loop_symbol(it)})
    if first is None or sympy.expand(first - lanes.width * _loop_symbol(it)) != 0 \
            or body[0].name in written_names(loop.body):
        raise _NotLaneWise("its chunks do not start at it * width")
    chunks = _chunk_count(loop.cond.rhs, lanes)
    lanes.base, lanes.element = _loop_symbol(body[0].name), body[0].name
    lanes.env = {**lanes.env, body[0].name: lanes.base}
    return body[0].name, lanes.width * chunks, tuple(_lane_code(body[1:], lanes))


def _chunk_count(e: Expr, lanes: _Lanes) -> sympy.Expr:
    """The value of a chunk count; `0 < F ? (F - 0 + (W - 1)) / W : 0` (what detensorize writes) is the C division
    alone when F >= 0 is proven."""
    if isinstance(e, Select) and e.otherwise == Const(0, DType.int32) and isinstance(e.cond, BinOp) \
            and e.cond.op == "<" and e.cond.lhs == Const(0, DType.int32):
        first = _sym(e.cond.rhs, lanes.env)
        if first is not None and prove_nonneg(first):
            e = e.then
    value = _sym(e, lanes.env)
    if value is None:
        raise _NotLaneWise("its chunk count is not an integer expression")
    return value


def _covered(stored: sympy.Expr, lanes: _Lanes) -> sympy.Expr:
    """The end of the elements a chunk loop stores: all its chunks', or the masks' bound when the chunks reach it
    (every store must then be masked)."""
    if lanes.stores != ({True} if lanes.masks else {False}):
        raise _NotLaneWise("some stores are masked and some are not")
    if lanes.bound is None:
        return stored
    if not prove_nonneg(stored - lanes.bound):
        raise _NotLaneWise("its chunks may stop before the masks' bound")
    return lanes.bound


def _counted_chunk_loops(fn: Function) -> Function:
    """`int i = 0; for (; i + W <= N; i += W) {lane code at i} <uses of i>` (the index outlives the vector loop,
    so its tail can start where it stopped) as `for (int it = 0; it < N / W; it += 1) { int i = it * W; ... }`
    with i's final value N / W * W put into the statements after it: the chunk loop _scalarize_lanes reads.
    Left as written when a later statement writes i (other than a scalar tail loop `for (; i < M; ++i)` that
    ends the uses), or the loop may leave early."""
    if fn.body is None:
        return fn
    taken = names_in(fn.body) | {p.name for p in fn.params}
    sizes = {p.name: _symbol(p.name, positive=True) for p in fn.params
             if isinstance(p.type, ScalarType) and p.type.dtype.is_int}

    def visit(n: Node) -> Node | None:
        if not isinstance(n, Block):
            return None
        stmts, k, changed = list(n.body), 0, False
        while k < len(stmts) - 1:
            rewritten = _counted_chunk_loop(stmts[k], stmts[k + 1], stmts[k + 2:], taken, sizes)
            if rewritten is not None:
                stmts[k:], changed = rewritten, True
            k += 1
        return Block(tuple(stmts)) if changed else None

    return dataclasses.replace(fn, body=transform(fn.body, visit))


def _counted_chunk_loop(decl: Stmt, loop: Stmt, rest: list[Stmt], taken: set[str],
                        sizes: Env) -> tuple[Stmt, ...] | None:
    if not (isinstance(decl, Decl) and decl.type == ScalarType(DType.int32) and decl.init == Const(0, DType.int32)
            and isinstance(loop, For) and loop.init == () and isinstance(loop.step, Assign)
            and loop.step.target == Var(decl.name) and loop.step.op == "+" and isinstance(loop.step.value, Const)):
        return None
    i, width = decl.name, loop.step.value.value
    cond = loop.cond
    if not (isinstance(width, int) and width >= 2 and isinstance(cond, BinOp) and cond.op == "<="
            and cond.lhs == BinOp("+", Var(i), Const(width, DType.int32)) and i not in names_in(cond.rhs)
            and i not in written_names(loop.body) and not exits_at_level(loop.body.body, (Break, Return))
            and any(_lane_array(d, width) for d in walk(loop.body))):
        return None
    end, w = cond.rhs, Const(width, DType.int32)
    if names_in(end) & (written_names(loop.body) | set().union(*(written_names(s) for s in rest))):
        return None  # N / W is read after the loop: N must keep its value
    value = _sym(end, sizes)
    if value is None or not prove_nonneg(value):  # else N / W * W is not where a negative N leaves i (at 0)
        return None
    after: list[Stmt] = []
    final = BinOp("*", BinOp("/", end, w), w)
    for k, s in enumerate(rest):
        if i not in names_in(s):
            after.append(s)
        elif i not in written_names(s) and i not in declared_names(s):
            after.append(substitute(s, i, final))
        elif _scalar_tail_of(s, i) and all(i not in names_in(t) for t in rest[k + 1:]):
            start = Decl(i, ScalarType(DType.int32), final)
            after += [dataclasses.replace(s, init=(start,), step=unit_step(i))] + rest[k + 1:]
            break
        else:
            return None
    chunk = fresh_name(f"{i}_chunk", taken)
    taken.add(chunk)
    body = Block((Decl(i, ScalarType(DType.int32), BinOp("*", Var(chunk), w)),) + loop.body.body)
    counted = For((Decl(chunk, ScalarType(DType.int32), Const(0, DType.int32)),),
                  BinOp("<", Var(chunk), BinOp("/", end, w)), unit_step(chunk), body, loop.kind, loop.axis,
                  loop.pragmas)
    return (counted,) + tuple(after)


def _scalar_tail_of(s: Stmt, i: str) -> bool:
    """`for (; i < M; ++i | i++ | i += 1) body` with body leaving i alone."""
    return isinstance(s, For) and s.init == () and isinstance(s.cond, BinOp) and s.cond.op == "<" \
        and s.cond.lhs == Var(i) and i not in names_in(s.cond.rhs) and i not in written_names(s.body) \
        and s.step in (unit_step(i), ExprStmt(UnaryOp("++", Var(i))), ExprStmt(UnaryOp("++", Var(i), postfix=True)))


def _scalarize_lanes(module: Module, notes: list[str]) -> Module:
    """Every chunk loop of lane code (with its masked or scalar tail, when that computes the same) rewritten as one
    loop over elements; vector helpers it calls get one-lane versions next to them."""
    helpers_by_width: dict[int, dict[str, tuple[Function, int]]] = {}
    changed = module.map_functions(lambda fn: _lanes_function(module, fn, helpers_by_width, notes))
    if changed == module:
        return module
    lane_versions = {name: lane_fn for helpers in helpers_by_width.values() for name, (lane_fn, _) in helpers.items()}
    used: set[str] = set()
    calls = {n.name for n in walk(changed) if isinstance(n, Call)}
    while calls - used:  # one-lane helpers call the one-lane versions of the helpers they called
        used |= calls
        calls = {n.name for f in lane_versions.values() if f.name in used for n in walk(f) if isinstance(n, Call)}

    def place(items: tuple) -> tuple:
        out = []
        for item in items:
            if isinstance(item, Namespace):
                item = dataclasses.replace(item, items=place(item.items))
            if isinstance(item, Function) and item.name in lane_versions:
                if lane_versions[item.name].name in used:
                    out.append(lane_versions[item.name])
                if item.name not in used:
                    continue
            out.append(item)
        return tuple(out)
    return dataclasses.replace(changed, items=place(changed.items))


def _lanes_function(module: Module, fn: Function, helpers_by_width: dict, notes: list[str]) -> Function:
    if fn.body is None:
        return fn
    params = {p.name: _symbol(p.name, positive=True) for p in fn.params
              if isinstance(p.type, ScalarType) and p.type.dtype.is_int}
    env = {**_global_constants(module), **params}
    stmts = list(fn.body.body)
    out: list[Stmt] = []
    k = 0
    while k < len(stmts):
        s = stmts[k]
        width = _chunk_width(s, env)
        if width is None:
            out.append(s)
            _follow(s, env)
            k += 1
            continue
        helpers = helpers_by_width.setdefault(width, _vector_helpers(module, width))
        lanes = _Lanes(width, _broadcasts(fn.body.body, width), helpers, dict(env))
        try:
            var, stored, body = _chunk(s, lanes)
            end = _covered(stored, lanes)
        except _NotLaneWise as why:
            notes.append(f"kept the lane loop over {s.init[0].name}: {why}")
            out.append(s)
            _follow(s, env)
            k += 1
            continue
        tail = _tail(stmts[k + 1] if k + 1 < len(stmts) else None, var, end, body, width, lanes, env)
        if tail is not None:
            end = tail
            k += 1
        bound = _named(end, env, fn) or (BinOp("*", Const(width, DType.int32), s.cond.rhs)
                                         if tail is None and lanes.bound is None else None)
        if bound is None:
            notes.append(f"kept the lane loop over {s.init[0].name}: no variable holds its end")
            out.append(s)
            k += 1
            continue
        loop = For((Decl(var, ScalarType(DType.int32), Const(0, DType.int32)),), BinOp("<", Var(var), bound),
                   unit_step(var), Block(body), s.kind, s.axis, s.pragmas)
        notes.append(f"scalarized the {width}-lane loop over {s.init[0].name} into `for {var} < {_text(bound)}`"
                     + (" (its tail included)" if tail is not None else ""))
        out.append(loop)
        k += 1
    if out == stmts:
        return fn
    for width in helpers_by_width:
        unused = {name for name in _broadcasts(tuple(out), width)
                  if sum(1 for n in walk(Block(tuple(out))) if n == Var(name)) == 1}
        out = [s for s in out if not (isinstance(s, Decl) and s.name in unused or _lane_loop_var(s, width)
                                      and names_in(s) & unused)]
    return dataclasses.replace(fn, body=Block(tuple(out)))


def _chunk_width(s: Stmt, env: Env) -> int | None:
    """W for `for (it = 0; it < C; it++) { int b = it * W; ... }` with a W-lane array inside, else None."""
    if not (isinstance(s, For) and len(s.init) == 1 and isinstance(s.init[0], Decl) and s.body.body
            and isinstance(s.body.body[0], Decl) and s.body.body[0].init is not None):
        return None
    it = _loop_symbol(s.init[0].name)
    first = _sym(s.body.body[0].init, {**env, s.init[0].name: it})
    width = first.coeff(it) if first is not None else None
    if width is None or not width.is_Integer or width < 2 or sympy.expand(first - width * it) != 0:
        return None
    return int(width) if any(_lane_array(n, int(width)) for n in walk(s.body)) else None


def _tail(s: Stmt | None, var: str, start: sympy.Expr, body: tuple[Stmt, ...], width: int, main: _Lanes,
          env: Env) -> sympy.Expr | None:
    """The end of the elements after `start` that s (the statement after a chunk loop) stores with the same
    per-element body: a masked chunk `if (F < N) {...}` or a scalar loop `for (j = F; j < N; j++)` with F the
    chunk loop's end; None when s is not such a tail."""
    if isinstance(s, If) and s.otherwise is None and isinstance(s.cond, BinOp) and s.cond.op in ("<", "!="):
        first, last = _sym(s.cond.lhs, env), _sym(s.cond.rhs, env)
        lanes = _Lanes(width, main.broadcast, main.helpers, dict(env), base=first, element=var)
        try:
            tail_body = _lane_code(s.then.body, lanes) if first is not None else None
            if tail_body is None or lanes.bound is None or lanes.stores != {True}:
                return None
        except _NotLaneWise:
            return None
        ok = sympy.expand(first - start) == 0 and last is not None and sympy.expand(last - lanes.bound) == 0 \
            and prove_nonneg(last - first) and prove_nonneg(width - (last - first))
        return last if ok and _same_code(tuple(tail_body), body) else None
    if isinstance(s, For) and len(s.init) == 1 and isinstance(s.init[0], Decl) and s.init[0].init is not None \
            and isinstance(s.cond, BinOp) and s.cond.op == "<" and s.cond.lhs == Var(s.init[0].name) \
            and s.step in (unit_step(s.init[0].name), ExprStmt(UnaryOp("++", Var(s.init[0].name))),
                           ExprStmt(UnaryOp("++", Var(s.init[0].name), postfix=True))):
        first, last = _sym(s.init[0].init, env), _sym(s.cond.rhs, env)
        tail_body = substitute(s.body, s.init[0].name, Var(var)).body
        ok = first is not None and last is not None and sympy.expand(first - start) == 0 \
            and prove_nonneg(last - first) and s.init[0].name not in written_names(s.body)
        return last if ok and _same_code(tail_body, body) else None
    return None


def _same_code(a: tuple[Stmt, ...], b: tuple[Stmt, ...]) -> bool:
    """a and b are the same statements up to the names of the variables they declare."""
    return _canonical(a) == _canonical(b)


def _canonical(stmts: tuple[Stmt, ...]) -> Block:
    block = Block(stmts)
    names = {}
    for n in walk(block):
        if isinstance(n, Decl) and n.name not in names:
            names[n.name] = f"_v{len(names)}"

    def visit(n: Node) -> Node | None:
        if isinstance(n, Var) and n.name in names:
            return Var(names[n.name])
        if isinstance(n, Decl) and n.name in names:
            return dataclasses.replace(n, name=names[n.name])
        return None
    return transform(block, visit)


def _named(value: sympy.Expr, env: Env, fn: Function) -> Expr | None:
    """A variable of fn holding value all along (an integer parameter, or a constant of the function), or None."""
    written = written_names(fn.body)
    for name, known in env.items():
        if name not in written and sympy.expand(known - value) == 0 and \
                (name in {p.name for p in fn.params} or name in declared_names(fn.body)):
            return Var(name)
    return None
