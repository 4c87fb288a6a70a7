"""fuse: merge two loops into one.

Nested form (the inner loop is the whole body of the outer one, with bounds that do not depend on it):

    for (int i = a; i < b; i += s) for (int j = c; j < d; j += t) body(i, j)
 -> for (int i_j = 0; i_j < Ti * Tj; i_j += 1) { int i = a + i_j / Tj * s; int j = c + i_j % Tj * t; body }

which runs the same iterations in the same order (always legal). The fused loop is parallel only when both
were. Sibling form (the second loop is the statement right after the first, with the same bounds):

    for (i...) body1(i); for (j...) body2(j)  ->  for (i...) { body1(i); body2(i) }

legal when no dependence links body1 in iteration i to body2 in an earlier iteration; the test proves that
every conflicting pair of accesses can only meet in the same iteration and refuses otherwise.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from kernel_ir.ir import (
    BinOp, Block, Break, Const, Continue, Decl, DType, Expr, For, ForKind, Module, Return, Select, Var,
)
from passes.base import PassRefused
from passes.loops import (
    ILLEGAL, INT32, NOT_CANONICAL, NOT_FOUND, analyze, check_context, check_no_shadowing, check_pragmas,
    declared_names, enclosing_vars, exits_at_level, find_loop, fresh_name, function_of, int_variables, loop_var, names_taken,
    names_in, replace_in_function, require_canonical, single_for, substitute, unit_step, varying_levels,
    written_names,
)


@dataclass(frozen=True)
class FuseOptions:
    """Which two loops of `function` to fuse.

    outer: the variable of the first loop (occurrence: which loop over that name, pre-order from 0).
    inner: the variable of the second loop: either the loop that is the whole body of `outer` (nested form,
    one loop over the product with div/mod recovery) or the loop that directly follows `outer` in the same
    block (sibling form; the fused loop keeps the name `outer`). name: the nested form's new variable
    (default `<outer>_<inner>`, made unique).
    """

    function: str
    outer: str
    inner: str
    occurrence: int = 0
    name: str | None = None


def fuse(module: Module, options: FuseOptions) -> Module:
    """Fuse the two loops; refuses (XP53x) when either is missing or not canonical, when they are neither
    perfectly nested nor adjacent with equal bounds, or when a dependence forbids the sibling fusion."""
    fn = function_of(module, options.function)
    match = find_loop(fn, options.outer, options.occurrence)
    check_context(match)
    nested = single_for(match.loop.body)
    if nested is not None and loop_var(nested) == options.inner:
        return _fuse_nested(module, fn, match.loop, nested, options)
    parent = match.ancestors[-1] if match.ancestors else None
    if isinstance(parent, Block):
        position = next(k for k, s in enumerate(parent.body) if s is match.loop)
        follower = parent.body[position + 1] if position + 1 < len(parent.body) else None
        if isinstance(follower, For) and loop_var(follower) == options.inner:
            return _fuse_siblings(module, fn, match, follower)
    raise PassRefused(NOT_FOUND, f"loop {options.inner!r} is neither the whole body of loop {options.outer!r} "
                      "nor the statement right after it", hint="fuse applies to a perfect pair or to adjacent loops")


def _fuse_nested(module: Module, fn, outer: For, inner: For, options: FuseOptions) -> Module:
    outer_view, inner_view = require_canonical(outer), require_canonical(inner)
    check_pragmas(inner)
    if outer_view.var in names_in(inner_view.start) | names_in(inner_view.stop):
        raise PassRefused(NOT_CANONICAL, f"the bounds of loop {inner_view.var!r} depend on {outer_view.var!r}: "
                          "the nest is not rectangular")
    if {outer_view.var, inner_view.var} & declared_names(inner.body):
        raise PassRefused(NOT_CANONICAL, "the inner body redeclares a loop variable of the pair")
    if exits_at_level(inner.body.body, (Break,)):
        raise PassRefused(NOT_CANONICAL, f"loop {inner_view.var!r} has a break: fused, it would leave both loops")
    ints = int_variables(fn)
    taken = names_taken(module, fn)
    name = options.name or fresh_name(f"{outer_view.var}_{inner_view.var}", taken)
    if name in taken:
        raise PassRefused(NOT_FOUND, f"loop name {name!r} is already in use")
    n_outer, n_inner = outer_view.trip_count(ints), inner_view.trip_count(ints)
    t = Var(name)
    recover = (
        Decl(outer_view.var, INT32, outer_view.value_at(BinOp("/", t, n_inner), ints)),
        Decl(inner_view.var, INT32, inner_view.value_at(BinOp("%", t, n_inner), ints)),
    )
    both_parallel = outer.kind == ForKind.parallel and inner.kind == ForKind.parallel
    fused = For(init=(Decl(name, INT32, Const(0, DType.int32)),), cond=BinOp("<", t, _product(n_outer, n_inner)),
                step=unit_step(name), body=Block(recover + inner.body.body),
                kind=ForKind.parallel if both_parallel else ForKind.serial,
                axis=outer.axis if both_parallel else None, pragmas=outer.pragmas if both_parallel else ())
    return replace_in_function(module, fn, outer, (fused,))


def _product(n_outer: Expr, n_inner: Expr) -> Expr:
    """n_outer * n_inner iterations, 0 when the inner loop runs no iteration (two negative counts)."""
    if isinstance(n_outer, Const) and isinstance(n_inner, Const):
        return Const(max(0, n_outer.value) * max(0, n_inner.value), DType.int32)
    product = BinOp("*", n_outer, n_inner)
    if isinstance(n_inner, Const) and n_inner.value > 0:
        return product
    if isinstance(n_outer, Const) and n_outer.value >= 0:
        return product  # the product's sign is the inner count's, and a negative product runs nothing
    return Select(BinOp(">", n_inner, Const(0, DType.int32)), product, Const(0, DType.int32))


def _fuse_siblings(module: Module, fn, match, second: For) -> Module:
    first = match.loop
    first_view, second_view = require_canonical(first), require_canonical(second)
    check_pragmas(second)
    if (first_view.start, first_view.stop, first_view.step) != (second_view.start, second_view.stop, second_view.step):
        raise PassRefused(NOT_CANONICAL, f"loops {first_view.var!r} and {second_view.var!r} have different bounds")
    if written_names(first.body) & (names_in(second_view.start) | names_in(second_view.stop)):
        raise PassRefused(ILLEGAL, f"the body of loop {first_view.var!r} changes the bounds of the next loop")
    if exits_at_level(first.body.body, (Break, Continue, Return)) or exits_at_level(second.body.body, (Break, Return)):
        raise PassRefused(ILLEGAL, "a break, continue or return in the loops would skip part of the fused body")
    var = first_view.var
    body2 = second.body
    if second_view.var != var:
        if var in names_in(body2) or var in declared_names(body2):
            raise PassRefused(ILLEGAL, f"the second loop's body already uses the name {var!r}")
        body2 = substitute(body2, second_view.var, Var(var))
    check_no_shadowing(fn, match, first.body)
    check_no_shadowing(fn, match, body2)
    _check_sibling_dependences(module, fn, first_view, first.body, body2, enclosing_vars(match))
    stmts1 = first.body.body
    if any(isinstance(s, Decl) for s in stmts1):
        stmts1 = (Block(stmts1),)  # keep body1's declarations out of body2's scope
    both_parallel = first.kind == ForKind.parallel and second.kind == ForKind.parallel
    fused = dataclasses.replace(first, body=Block(stmts1 + body2.body),
                                kind=ForKind.parallel if both_parallel else ForKind.serial,
                                axis=first.axis if both_parallel else None,
                                pragmas=first.pragmas if both_parallel else ())
    module = replace_in_function(module, fn, first, (fused,))
    return replace_in_function(module, module.function(fn.name), second, ())  # `second` kept its identity


def _check_sibling_dependences(module: Module, fn, view, body1: Block, body2: Block, outer: set[str]) -> None:
    """Every conflict between body1 and body2 must join the same iteration (then body1 still runs first)."""
    levels, accesses1 = analyze(module, fn, [view], body1.body, outer, parallel=False)
    _, accesses2 = analyze(module, fn, [view], body2.body, outer, parallel=False)
    for a in accesses1:
        for b in accesses2:
            if a.base != b.base or not (a.write or b.write) or not varying_levels(a, b, levels, fn):
                continue
            raise PassRefused(ILLEGAL, f"fusing would reorder accesses to {a.base!r}: the second loop may touch "
                              f"in one iteration of {view.var!r} what the first loop touches in a later one",
                              hint="only loops whose conflicting accesses meet in the same iteration can be fused")


__all__ = ["FuseOptions", "fuse"]
