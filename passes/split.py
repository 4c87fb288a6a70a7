"""split: strip-mine one loop into an outer loop over blocks of `factor` iterations and an inner loop over a block.

    for (int i = a; i < b; i += s) body(i)
 -> for (int i_o = 0; i_o < (T + f - 1) / f; i_o += 1)
        for (int i_i = 0; i_i < f; i_i += 1)
            if (a + (i_o * f + i_i) * s < b) body(a + (i_o * f + i_i) * s)        (tail="guard")
    with T the trip count; tail="peel" runs T / f full blocks without a guard, then the original loop from
    a + (T / f) * f * s for the remainder. Iterations run in the same order, so the split is always legal;
    only the loop's shape is checked. A parallel loop gives a parallel outer loop (which keeps its axis and
    pragmas) and a parallel inner loop; a serial loop's kind (unrolled, vectorized) goes to the inner loop.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from kernel_ir.ir import BinOp, Block, Break, Const, Decl, DType, Expr, For, ForKind, If, Module, Var
from passes.loops import (
    BAD_OPTION, INT32, NOT_CANONICAL, check_context, declared_names, exits_at_level, find_loop, fresh_name,
    function_of, int_variables, names_taken, replace_in_function, require_canonical, simplify_indices, simplify_int, substitute,
    unit_step,
)
from passes.base import PassRefused


@dataclass(frozen=True)
class SplitOptions:
    """Which loop to split and how.

    function: the function holding the loop. loop: its variable name; occurrence: which loop over that
    name (pre-order, from 0) when several exist. factor: iterations per block (>= 1; a tuning parameter).
    tail: "guard" wraps the body in a bounds check (one loop nest), "peel" runs whole blocks unguarded and
    the remainder in a separate loop. outer_name / inner_name: the new loop variables (default `<v>_o`,
    `<v>_i`, made unique).
    """

    function: str
    loop: str
    factor: int
    tail: Literal["guard", "peel"] = "guard"
    occurrence: int = 0
    outer_name: str | None = None
    inner_name: str | None = None


def split(module: Module, options: SplitOptions) -> Module:
    """Split `options.loop` by `options.factor`. Refuses (XP53x) when the loop is missing or not canonical
    (`for (int v = a; v < b; v += s)`), or when its body breaks out of it (a break would only leave the block)."""
    if options.factor < 1:
        raise PassRefused(BAD_OPTION, f"split factor must be >= 1, got {options.factor}")
    if options.tail not in ("guard", "peel"):
        raise PassRefused(BAD_OPTION, f"split tail must be 'guard' or 'peel', got {options.tail!r}")
    fn = function_of(module, options.function)
    match = find_loop(fn, options.loop, options.occurrence)
    check_context(match)
    view = require_canonical(match.loop)
    body = match.loop.body
    if exits_at_level(body.body, (Break,)):
        raise PassRefused(NOT_CANONICAL, f"loop over {view.var!r} has a break: after splitting it would only "
                          "leave the inner loop")
    if view.var in declared_names(body):
        raise PassRefused(NOT_CANONICAL, f"the body of loop {view.var!r} redeclares {view.var!r}")
    taken = names_taken(module, fn)
    outer = options.outer_name or fresh_name(f"{view.var}_o", taken)
    inner = options.inner_name or fresh_name(f"{view.var}_i", taken | {outer})
    if outer in taken or inner in taken or outer == inner:
        raise PassRefused(BAD_OPTION, f"loop names {outer!r}/{inner!r} clash with names already in use")
    f = options.factor
    ints = int_variables(fn) | {outer, inner}
    position = BinOp("+", BinOp("*", Var(outer), Const(f, DType.int32)), Var(inner))
    value = view.value_at(position, ints)
    new_body = simplify_indices(substitute(body, view.var, value), ints, {outer, inner})
    trip = view.trip_count(ints)
    divides = isinstance(trip, Const) and trip.value % f == 0
    if options.tail == "guard" and not divides:
        guard = If(BinOp("<", value, view.stop), new_body)
        new_body = Block((guard,))
        blocks = _ceil_div(trip, f)
    else:
        blocks = _floor_div(trip, f)
    inner_loop = _loop(inner, Const(f, DType.int32), new_body, match.loop, inner=True)
    outer_loop = _loop(outer, blocks, Block((inner_loop,)), match.loop, inner=False)
    replacement: tuple = (outer_loop,)
    if options.tail == "peel" and not divides:
        rest_start = view.value_at(BinOp("*", blocks, Const(f, DType.int32)), ints)
        init = dataclasses.replace(match.loop.init[0], init=simplify_int(rest_start, ints))
        replacement += (dataclasses.replace(match.loop, init=(init,)),)
    return replace_in_function(module, fn, match.loop, replacement)


def _loop(var: str, extent: Expr, body: Block, original: For, inner: bool) -> For:
    """`for (int var = 0; var < extent; var += 1)` carrying the original loop's kind as the docstring says."""
    if original.kind == ForKind.parallel:
        kind, axis, pragmas = ForKind.parallel, (None if inner else original.axis), (() if inner else original.pragmas)
    elif inner:
        kind, axis, pragmas = original.kind, original.axis, original.pragmas
    else:
        kind, axis, pragmas = ForKind.serial, None, ()
    return For(init=(Decl(var, INT32, Const(0, DType.int32)),), cond=BinOp("<", Var(var), extent),
               step=unit_step(var), body=body, kind=kind, axis=axis, pragmas=pragmas)


def _ceil_div(trip: Expr, f: int) -> Expr:
    if isinstance(trip, Const):
        return Const(max(0, -(-trip.value // f)), DType.int32)
    if f == 1:
        return trip
    return BinOp("/", simplify_int(BinOp("+", trip, Const(f - 1, DType.int32))), Const(f, DType.int32))


def _floor_div(trip: Expr, f: int) -> Expr:
    if isinstance(trip, Const):
        return Const(max(0, trip.value // f), DType.int32)
    if f == 1:
        return trip
    return BinOp("/", trip, Const(f, DType.int32))


__all__ = ["SplitOptions", "split"]
