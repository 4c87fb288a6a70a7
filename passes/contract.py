"""contract: shrink a buffer to the part one iteration of an enclosing loop uses (the inverse of `expand`).

A buffer declared once (a local array, or a pointer from malloc/calloc/aligned_alloc) whose every access lies in
the body of loop `v` and touches a region of its own per iteration becomes a buffer declared at the top of that
body, holding one region:

- an array `T t[E][...]` accessed as `t[v + c][...]` (the same c everywhere) drops its first dimension
  (`T t[E]` accessed as `t[v]` becomes a scalar);
- a pointer accessed as `t[S * v + r]` with r provably in [0, S) for every access becomes `T t[S]` indexed by r
  (S == 1 and r == 0: a scalar; S not a constant: malloc'd and freed in the body).

Regions of different iterations are disjoint, so no value flows between iterations through the buffer, and
the buffer is not used outside the loop: each iteration may have its own copy (private in a parallel loop).
No loop may lie between the declaration and `v` (a value could flow between iterations of that loop).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import sympy

from kernel_ir.ir import (
    ArrayType, BinOp, Block, Break, Call, Cast, Const, Continue, Decl, DType, Expr, ExprStmt, For, Function, Index,
    Module, Node, PointerType, Return, ScalarType, SizeOf, Type, UnaryOp, Var, While, DoWhile, children,
    walk,
)
from passes.base import PassRefused
from passes.loops import (
    ILLEGAL, NOT_FOUND, UNSUPPORTED, AccessCollector, LoopMatch, check_context, enclosing_vars, exits_at_level,
    find_loop, from_sympy, function_of, loops_with_ancestors, positive_symbols,
    require_canonical, symbol, to_sympy, interval_of, is_nonneg, strip_casts, splice, canonical,
)


@dataclass(frozen=True)
class ContractOptions:
    """Which buffer of `function` to contract, and over which loop.

    buffer: the name of the buffer; declaration: which declaration of that name (pre-order, from 0) when
    several blocks declare one. loop: the variable of the loop whose one iteration covers the buffer's live
    range (occurrence: which loop over that name, pre-order from 0); None picks the innermost loop that
    contains every access of the buffer.
    """

    function: str
    buffer: str
    loop: str | None = None
    occurrence: int = 0
    declaration: int = 0


def contract(module: Module, options: ContractOptions) -> Module:
    """Contract the buffer; refuses (XP53x) when it is not declared once, is used other than by element
    accesses and `free`, is used outside the loop, or when the accesses of one iteration are not a region of
    their own."""
    fn = function_of(module, options.function)
    name = options.buffer
    decls = [n for n in walk(fn.body) if isinstance(n, Decl) and n.name == name]  # type: ignore[arg-type]
    if not 0 <= options.declaration < len(decls) or any(p.name == name for p in fn.params):
        raise PassRefused(NOT_FOUND, f"{fn.name!r} has {len(decls)} declaration(s) of a buffer {name!r}; "
                          f"declaration {options.declaration} does not exist")
    decl = decls[options.declaration]
    element, dims = _buffer_shape(decl)
    scope = _scope_after(fn, decl)
    if any(isinstance(n, Decl) and n.name == name for s in scope for n in walk(s)):
        raise PassRefused(UNSUPPORTED, f"{name!r} is redeclared in its own scope")
    frees = [n for s in scope for n in walk(s) if isinstance(n, ExprStmt) and _is_free_of(n.expr, name)]
    accesses = _element_accesses(scope, name, dims, frees)
    match = _pick_loop(fn, options, accesses)
    check_context(match)
    view = require_canonical(match.loop)
    inside = {id(n) for n in walk(match.loop.body)}
    if any(id(a) not in inside for a in accesses):
        raise PassRefused(ILLEGAL, f"{name!r} is used outside the loop over {view.var!r}")
    if id(decl) in inside:
        raise PassRefused(ILLEGAL, f"{name!r} is already declared inside the loop over {view.var!r}")
    _check_no_loop_between(fn, decl, match)
    collector = AccessCollector(module, fn, {view.var}, enclosing_vars(match))
    positive = positive_symbols(fn)
    if dims > 1:
        rewrite, new_type = _contract_rows(accesses, view.var, collector, decl.type)
        prologue, epilogue = (Decl(name, new_type, align=decl.align),), ()
    else:
        rewrite, size = _contract_linear(accesses, view.var, collector, positive, match)
        if size == 1:
            rewrite = {k: Var(name) for k in rewrite}
            prologue, epilogue = (Decl(name, element),), ()
        elif isinstance(size, int):
            prologue, epilogue = (Decl(name, ArrayType(element, Const(size, DType.int32))),), ()
        else:
            if exits_at_level(match.loop.body.body, (Break, Continue, Return)):
                raise PassRefused(UNSUPPORTED, f"the loop over {view.var!r} can leave an iteration early: the "
                                  f"per-iteration {name!r} could not be freed")
            size_expr = from_sympy(size)
            nbytes = BinOp("*", size_expr, SizeOf(element))
            prologue = (Decl(name, PointerType(element), Cast(PointerType(element), Call("malloc", (nbytes,)))),)
            epilogue = (ExprStmt(Call("free", (Var(name),))),)
    new_body = _rewrite(match.loop.body, rewrite)
    loop = dataclasses.replace(match.loop, body=Block(prologue + new_body.body + epilogue))
    body = splice(fn.body, match.loop, (loop,))
    for stmt in [decl, *frees]:
        body = splice(body, stmt, ())
    return module.map_functions(lambda f: dataclasses.replace(f, body=body) if f is fn else f)


def _buffer_shape(decl: Decl) -> tuple[Type, int]:
    """(element type, number of subscripts an element access takes)."""
    t, dims = decl.type, 0
    if isinstance(t, ArrayType):
        while isinstance(t, ArrayType):
            t, dims = t.element, dims + 1
        return _unconst(t), dims
    init = decl.init
    while isinstance(init, Cast):
        init = init.expr
    if isinstance(t, PointerType) and isinstance(init, Call) and init.name in ("malloc", "calloc", "aligned_alloc"):
        if init.name == "calloc":
            raise PassRefused(UNSUPPORTED, f"{decl.name!r} is zero-filled by calloc: its contents are live "
                              "before the loop")
        return _unconst(t.pointee), 1
    raise PassRefused(UNSUPPORTED, f"{decl.name!r} is neither a local array nor a malloc'd buffer")


def _unconst(t: Type) -> Type:
    return dataclasses.replace(t, const=False) if isinstance(t, ScalarType) else t


def _is_free_of(e: Expr, name: str) -> bool:
    return isinstance(e, Call) and e.name in ("free", "std::free") and len(e.args) == 1 \
        and strip_casts(e.args[0]) == Var(name)


def _scope_after(fn: Function, decl: Decl) -> tuple:
    """The statements that follow the declaration in its block: where the name refers to this buffer."""
    for node in walk(fn.body):  # type: ignore[arg-type]
        if isinstance(node, Block):
            for k, stmt in enumerate(node.body):
                if stmt is decl:
                    return node.body[k + 1:]
    raise PassRefused(UNSUPPORTED, f"{decl.name!r} is not declared by a statement of a block")


def _element_accesses(scope: tuple, name: str, dims: int, frees: list[ExprStmt]) -> list[Index]:
    """Every full element access `name[...]...[...]`; refuses any other use of the name (pointer escapes)."""
    found: list[Index] = []
    skip = {id(f) for f in frees}

    def visit(node: Node, address_taken: bool, inside_access: bool) -> None:
        if id(node) in skip:
            return
        if isinstance(node, Index):
            chain, base = [], node
            while isinstance(base, Index):
                chain.append(base)
                base = base.base
            if base == Var(name):
                if len(chain) != dims or address_taken:
                    raise PassRefused(UNSUPPORTED, f"{name!r} is used as a pointer (a partial subscript or an address)")
                if inside_access:
                    raise PassRefused(UNSUPPORTED, f"{name!r} is indexed by its own elements")
                found.append(node)
                for part in chain:
                    visit(part.index, False, True)
                return
        if isinstance(node, Var) and node.name == name:
            raise PassRefused(UNSUPPORTED, f"{name!r} is used other than by element accesses and free()",
                              hint="contract only applies to buffers whose pointer does not escape")
        for child in children(node):
            visit(child, isinstance(node, UnaryOp) and node.op == "&", inside_access)

    for stmt in scope:
        visit(stmt, False, False)
    if not found:
        raise PassRefused(NOT_FOUND, f"{name!r} is never accessed")
    return found


def _pick_loop(fn: Function, options: ContractOptions, accesses: list[Index]) -> LoopMatch:
    if options.loop is not None:
        return find_loop(fn, options.loop, options.occurrence)
    targets = {id(a) for a in accesses}
    enclosing = [m for m in loops_with_ancestors(fn.body, ())  # type: ignore[arg-type]
                 if targets <= {id(n) for n in walk(m.loop.body)}]
    if not enclosing:
        raise PassRefused(NOT_FOUND, f"no loop contains every access of {options.buffer!r}")
    return max(enclosing, key=lambda m: len(m.ancestors))


def _check_no_loop_between(fn: Function, decl: Decl, match: LoopMatch) -> None:
    for k, node in enumerate(match.ancestors):
        if isinstance(node, Block) and any(s is decl for s in node.body):
            between = match.ancestors[k + 1:]
            if any(isinstance(n, (For, While, DoWhile)) for n in between):
                raise PassRefused(ILLEGAL, f"a loop lies between the declaration of {decl.name!r} and the loop "
                                  "to contract over: values could flow between its iterations")
            return
    raise PassRefused(ILLEGAL, f"the declaration of {decl.name!r} does not enclose the loop")


def _contract_rows(accesses: list[Index], var: str, collector: AccessCollector,
                   decl_type: Type) -> tuple[dict[int, Expr], Type]:
    """Arrays: the first subscript must be `var + c` with the same invariant c everywhere; drop it."""
    offsets = set()
    rewrite: dict[int, Expr] = {}
    v = symbol(var)
    for access in accesses:
        chain = []
        node: Expr = access
        while isinstance(node, Index):
            chain.append(node)
            node = node.base
        first = chain[-1]  # the subscript applied to the array itself
        s = collector.affine(first.index)
        if s is None or sympy.expand(s).coeff(v) != 1 or (s.free_symbols - {v}) & _changing(collector):
            raise PassRefused(ILLEGAL, f"the first subscript of an access to the buffer is not `{var} + c`")
        offset = sympy.expand(s - v)
        if offset.free_symbols & ({v} | _changing(collector)):
            raise PassRefused(ILLEGAL, "the buffer's first subscript varies within one iteration")
        offsets.add(offset)
        rebuilt: Expr = node  # the base variable
        for part in reversed(chain[:-1]):
            rebuilt = Index(rebuilt, part.index)
        rewrite[id(access)] = rebuilt
    if len(offsets) != 1:
        raise PassRefused(ILLEGAL, "the accesses of one iteration touch different rows of the buffer")
    assert isinstance(decl_type, ArrayType)
    return rewrite, decl_type.element


def _changing(collector: AccessCollector) -> set[sympy.Symbol]:
    """Names whose value may change during the loop (the enclosing loops' variables do not)."""
    return {symbol(n) for n in collector.assigned - collector.outer}


def _contract_linear(accesses: list[Index], var: str, collector: AccessCollector, positive: dict,
                     match: LoopMatch) -> tuple[dict[int, Expr], int | sympy.Expr]:
    """Pointers: every index is `S * var + r` with one invariant S > 0 and r in [0, S); the new index is r."""
    v = symbol(var)
    strides = set()
    parts: list[tuple[Index, sympy.Expr, list]] = []
    for access in accesses:
        loops = _inner_loops(match.loop, access, collector)
        s = collector.affine(access.index, tuple(loops))
        if s is None:
            raise PassRefused(ILLEGAL, "an index of the buffer is not affine in the loop variables")
        s = sympy.expand(s)
        stride = s.coeff(v)
        if stride.free_symbols & ({v} | {symbol(n) for n, _, _ in loops}):
            raise PassRefused(ILLEGAL, "the buffer's stride per iteration is not invariant")
        strides.add(stride)
        parts.append((access, sympy.expand(s - stride * v), loops))
    if len(strides) != 1:
        raise PassRefused(ILLEGAL, "the accesses use different strides per iteration")
    stride = strides.pop()
    if not is_nonneg(stride - 1, positive):
        raise PassRefused(ILLEGAL, "the buffer's stride per iteration is not provably positive")
    rewrite: dict[int, Expr] = {}
    for access, rest, loops in parts:
        terms = []
        remaining = rest
        for lv, lo, hi in loops:
            c = remaining.coeff(symbol(lv))
            if c != 0:
                if lo is None or hi is None:
                    raise PassRefused(ILLEGAL, "an inner loop bounding an index of the buffer is not canonical")
                terms.append((lv, c, lo, hi - 1))
                remaining = sympy.expand(remaining - c * symbol(lv))
        if remaining.free_symbols & _changing(collector):
            raise PassRefused(ILLEGAL, "an index of the buffer depends on a value that changes in the loop")
        terms.append((None, remaining, sympy.Integer(1), sympy.Integer(1)))
        interval = interval_of(terms, positive)
        if interval is None or not is_nonneg(interval[0], positive) \
                or not is_nonneg(stride - 1 - interval[1], positive):
            raise PassRefused(ILLEGAL, f"an access of the buffer may fall outside its iteration's region "
                              f"[{var} * {stride}, ({var} + 1) * {stride})")
        direct = to_sympy(access.index)
        keeps_names = direct is not None and sympy.expand(direct).coeff(v) == stride \
            and not any(isinstance(n, Cast) for n in walk(access.index))
        new_index = from_sympy(direct - stride * v) if keeps_names else from_sympy(rest)  # type: ignore[operator]
        rewrite[id(access)] = Index(access.base, new_index)
    size = int(stride) if stride.is_Integer else stride
    return rewrite, size


def _inner_loops(loop: For, access: Index, collector: AccessCollector) -> list:
    """The canonical loops between `loop` and the access, as (var, lo, hi) with affine bounds."""
    found: list = []

    def search(node: Node, chain: list) -> bool:
        if node is access:
            found.extend(chain)
            return True
        extra = chain
        if isinstance(node, For) and node is not loop:
            view = canonical(node)
            entry = (view.var, collector.affine(view.start), collector.affine(view.stop)) if view else ("", None, None)
            extra = chain + [entry]
        return any(search(child, extra) for child in children(node))

    search(loop.body, [])
    return found


def _rewrite(body: Block, rewrite: dict[int, Expr]) -> Block:
    def rebuild(node: Node) -> Node:
        if id(node) in rewrite:
            return rewrite[id(node)]
        changes = {}
        for field in dataclasses.fields(node):  # type: ignore[arg-type]
            value = getattr(node, field.name)
            if isinstance(value, Node):
                new = rebuild(value)
                if new is not value:
                    changes[field.name] = new
            elif isinstance(value, tuple) and any(isinstance(v, Node) for v in value):
                items = tuple(rebuild(v) if isinstance(v, Node) else v for v in value)
                if any(a is not b for a, b in zip(items, value)):
                    changes[field.name] = items
        return dataclasses.replace(node, **changes) if changes else node  # type: ignore[type-var]
    return rebuild(body)  # type: ignore[return-value]


__all__ = ["ContractOptions", "contract"]
