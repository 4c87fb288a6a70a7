"""Expand: promote a variable private to each iteration of a parallel loop to an array indexed by the iteration.

Splitting a thread loop at a barrier (loop fission) is only valid if what one thread computed before the barrier
is still there after it; a private scalar `float acc` becomes `float acc[extent]` declared outside the loops and
every use `acc` becomes `acc[i]`. Warp shuffles read a neighbour's slot: inside a loop body the call
`__xp_at(name, j)` (see `AT`) stands for "the value of `name` in iteration j" and becomes `name[j]`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from kernel_ir.ir import (
    ArrayType, Assign, BinOp, Block, Call, Const, Construct, Decl, DType, Expr, ExprStmt, For, ForKind, Function, Index,
    InitList, Module, NamedType, SizeOf, UnaryOp,
    Node, ReferenceType, ScalarType, Stmt, Type, Var, VectorType, walk,
)
from passes.base import PassRefused

AT = "__xp_at"  # __xp_at(var, index): `var` as seen by another iteration of the expanded loop


@dataclass(frozen=True)
class ExpandOptions:
    """function: where the variable is declared (default: every function); variable: the Decl to promote."""

    variable: str
    function: str | None = None


def promoted_type(t: Type, extent: Expr) -> Type:
    """`T name` -> `T name[extent]` (outermost dimension first), constness dropped since slots are assigned."""
    if isinstance(t, ReferenceType):
        raise PassRefused("XP515", "cannot expand a reference variable across a barrier",
                          hint="use a pointer or a copy instead")
    return ArrayType(_drop_const(t), extent)


def _drop_const(t: Type) -> Type:
    if isinstance(t, ArrayType):
        return dataclasses.replace(t, element=_drop_const(t.element))
    if isinstance(t, (ScalarType, VectorType, NamedType)) and t.const:
        return dataclasses.replace(t, const=False)
    return t


def rewrite_uses(node: Node, names: set[str], index: Expr) -> Node:
    """`x` -> `x[index]` and `__xp_at(x, j)` -> `x[j]` for x in names; a Decl of x becomes its initialization."""
    if isinstance(node, Call) and node.name == AT and isinstance(node.args[0], Var) and node.args[0].name in names:
        return Index(node.args[0], rewrite_uses(node.args[1], names, index))
    if isinstance(node, Var):
        return Index(node, index) if node.name in names else node
    if isinstance(node, Decl) and node.name in names:
        if node.init is None:
            return Block(())
        slot = Index(Var(node.name), index)
        if isinstance(node.init, InitList):
            return Block(_init_list_stores(node, slot))
        return Assign(slot, rewrite_uses(node.init, names, index))
    changes = {}
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        if isinstance(value, Node):
            new = rewrite_uses(value, names, index)
            if new is not value:
                changes[f.name] = new
        elif isinstance(value, tuple) and any(isinstance(v, Node) for v in value):
            items = tuple(rewrite_uses(v, names, index) if isinstance(v, Node) else v for v in value)
            if any(a is not b for a, b in zip(items, value)):
                changes[f.name] = items
    return dataclasses.replace(node, **changes) if changes else node


def _init_list_stores(decl: Decl, slot: Expr) -> tuple[Stmt, ...]:
    """`T a[n][m] = {{x, y}, ...}` as stores into the thread's slot: zero it all, then the listed non-zero
    elements (braces nest per dimension; C zero-fills what a list leaves out)."""
    items = decl.init.items  # type: ignore[union-attr]
    if not isinstance(decl.type, ArrayType):  # struct or scalar: a braced temporary of the same type
        return (Assign(slot, Construct(_drop_const(decl.type), items, braced=True)),)
    zero = ExprStmt(Call("memset", (UnaryOp("&", slot), Const(0, DType.int32), SizeOf(slot))))
    return (zero,) + tuple(_listed_stores(slot, items))


def _listed_stores(slot: Expr, items: tuple[Expr, ...]) -> list[Stmt]:
    stores: list[Stmt] = []
    for k, item in enumerate(items):
        element = Index(slot, Const(k, DType.int32))
        if isinstance(item, InitList):
            stores += _listed_stores(element, item.items)
        elif not (isinstance(item, Const) and item.value == 0):
            stores.append(Assign(element, item))
    return stores


def parallel_nest_extent(loops: list[For]) -> tuple[Expr, Expr]:
    """(extent, linear index) of a nest of normalized parallel loops, outermost first."""
    extent: Expr | None = None
    index: Expr | None = None
    for loop in loops:
        var, bound = loop_var_and_extent(loop)
        extent = bound if extent is None else BinOp("*", extent, bound)
        index = Var(var) if index is None else BinOp("+", BinOp("*", index, bound), Var(var))
    assert extent is not None and index is not None
    return extent, index


def loop_var_and_extent(loop: For) -> tuple[str, Expr]:
    """The variable and extent of `for (int v = 0; v < extent; v += 1)`; refuses other shapes."""
    if len(loop.init) == 1 and isinstance(loop.init[0], Decl) and isinstance(loop.cond, BinOp) \
            and loop.cond.op == "<" and isinstance(loop.cond.lhs, Var) and loop.cond.lhs.name == loop.init[0].name:
        return loop.init[0].name, loop.cond.rhs
    raise PassRefused("XP515", "the parallel loop is not in the normalized shape for (int v = 0; v < n; v += 1)")


def expand(module: Module, options: ExpandOptions) -> Module:
    """Promote the Decl `options.variable` to an array over its enclosing nest of parallel loops.

    Precondition: the variable is declared (once) inside the body of a parallel loop (directly or nested in
    serial code) and the loops are normalized. The result is equivalent: each iteration keeps its own slot.
    """
    found: list[bool] = []

    def in_function(fn: Function) -> Function:
        if fn.body is None or options.function not in (None, fn.name):
            return fn
        body = _expand_in(fn.body, options.variable, found)
        return dataclasses.replace(fn, body=body)

    result = module.map_functions(in_function)
    if not found:
        raise PassRefused("XP515", f"no declaration of {options.variable} inside a parallel loop")
    return result


def _expand_in(block: Block, name: str, found: list[bool]) -> Block:
    """Replace the outermost parallel loop whose body declares `name` by [promoted Decl, rewritten loop]."""
    out: list[Stmt] = []
    for s in block.body:
        if isinstance(s, For) and s.kind == ForKind.parallel and _declares_in_body(s, name):
            loops = [s]
            while len(loops[-1].body.body) == 1 and isinstance(loops[-1].body.body[0], For) \
                    and loops[-1].body.body[0].kind == ForKind.parallel:
                loops.append(loops[-1].body.body[0])
            decl = next(d for d in _decls(s.body) if d.name == name)
            extent, index = parallel_nest_extent(loops)
            out += [Decl(name, promoted_type(decl.type, extent)), rewrite_uses(s, {name}, index)]
            found.append(True)
        elif isinstance(s, (For, Block)) and _declares_in_body(s, name):
            body = _expand_in(s.body if isinstance(s, For) else s, name, found)
            out.append(dataclasses.replace(s, body=body) if isinstance(s, For) else body)
        else:
            out.append(s)
    return Block(tuple(out))


def _decls(node: Node) -> list[Decl]:
    return [n for n in walk(node) if isinstance(n, Decl)]


def _declares_in_body(loop: For | Block, name: str) -> bool:
    return any(d.name == name for d in _decls(loop.body if isinstance(loop, For) else loop))
