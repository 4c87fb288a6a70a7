"""reorder: permute the loops of a perfect, rectangular nest.

Legality: for every pair of conflicting accesses (same buffer, at least one write) the dependence test gives
the levels at which the two iterations may differ. If two or more levels may differ, the permutation must
keep their relative order, otherwise some pair of iterations would swap and the accesses with them. This
keeps every dependence, including the order of accumulation into the same location, so results are
bit-identical. Exception: a buffer only ever updated by one commutative operator (`+=`/`-=`, or `*=`) may be
reordered across freely when it holds integers (exact, wrapping arithmetic) or, for floating point, only
with `allow_reassociation=True`, which changes the rounding of the sums (results agree within tolerance).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from kernel_ir.ir import Block, Break, For, Module, Return
from passes.base import PassRefused
from passes.loops import (
    BAD_OPTION, ILLEGAL, NOT_CANONICAL, NOT_FOUND, REASSOCIATES, LoopMatch, analyze, check_context,
    check_no_shadowing, check_pragmas, conflicting_pairs, enclosing_vars, exits_at_level, function_of, is_float_base,
    is_reduction_only, loop_var, names_in, replace_in_function, require_canonical, single_for, varying_levels,
    loops_with_ancestors,
)


@dataclass(frozen=True)
class ReorderOptions:
    """Which nest of `function` to permute and into which order.

    loops: the nest's loop variables in the NEW order, outermost first (a tuning parameter); the nest is the
    `occurrence`-th (pre-order, from 0) loop over any of these names, with the others perfectly nested below
    it. allow_reassociation: also allow orders that change the order in which a floating-point reduction
    (`x += ...`, `x *= ...`) accumulates into one location; this changes rounding, so results only agree
    within a tolerance.
    """

    function: str
    loops: tuple[str, ...]
    occurrence: int = 0
    allow_reassociation: bool = False


def reorder(module: Module, options: ReorderOptions) -> Module:
    """Permute the nest; refuses (XP53x) when the loops are missing, not a perfect rectangular nest of canonical
    loops, or when the new order would change the program (XP533: only by reassociating a float reduction)."""
    order = tuple(options.loops)
    if len(set(order)) != len(order) or not order:
        raise PassRefused(BAD_OPTION, f"reorder needs distinct loop names, got {order}")
    fn = function_of(module, options.function)
    match = _nest_root(fn, set(order), options.occurrence)
    check_context(match)
    nest = [match.loop]
    while len(nest) < len(order):
        inner = single_for(nest[-1].body)
        if inner is None:
            raise PassRefused(NOT_CANONICAL, f"loops {order} are not a perfect nest below {loop_var(match.loop)!r}",
                              hint="only a perfect nest (each loop's body is exactly the next loop) can be permuted")
        nest.append(inner)
    found = tuple(loop_var(loop) for loop in nest)
    if set(found) != set(order):
        raise PassRefused(NOT_FOUND, f"the nest below {found[0]!r} is {found}, not a permutation of {order}")
    views = [require_canonical(loop) for loop in nest]
    for loop in nest:
        check_pragmas(loop)
    for view in views:
        depends = (names_in(view.start) | names_in(view.stop)) & set(found)
        if depends:
            raise PassRefused(NOT_CANONICAL, f"the bounds of loop {view.var!r} depend on {sorted(depends)}: "
                              "the nest is not rectangular")
    if order == found:
        return module
    body = nest[-1].body
    if exits_at_level(body.body, (Break, Return)):
        raise PassRefused(ILLEGAL, "the innermost body breaks out of or returns from the nest")
    check_no_shadowing(fn, match, body)
    _check_legal(module, fn, views, body, order, options.allow_reassociation, enclosing_vars(match))
    by_var = dict(zip(found, nest))
    rebuilt: For | Block = body
    for var in reversed(order):
        rebuilt = dataclasses.replace(by_var[var], body=rebuilt if isinstance(rebuilt, Block) else Block((rebuilt,)))
    return replace_in_function(module, fn, match.loop, (rebuilt,))


def _nest_root(fn, names: set[str], occurrence: int) -> LoopMatch:
    assert fn.body is not None
    matches = [m for m in loops_with_ancestors(fn.body, ()) if loop_var(m.loop) in names]
    roots = [m for m in matches if not any(loop_var(a) in names for a in m.ancestors if isinstance(a, For))]
    if occurrence < 0 or occurrence >= len(roots):
        raise PassRefused(NOT_FOUND, f"function {fn.name!r} has {len(roots)} nest(s) over {sorted(names)}; "
                          f"occurrence {occurrence} does not exist")
    return roots[occurrence]


def _check_legal(module: Module, fn, views, body: Block, order: tuple[str, ...], allow_reassociation: bool,
                 outer: set[str]) -> None:
    levels, accesses = analyze(module, fn, views, body.body, outer)
    new_position = {var: k for k, var in enumerate(order)}
    for a, b in conflicting_pairs(accesses):
        varying = [lv.var for lv in levels if lv.var in varying_levels(a, b, levels, fn)]  # original order
        new = sorted(varying, key=new_position.__getitem__)
        if new == varying:
            continue
        if is_reduction_only(a.base, accesses):
            if not is_float_base(fn, a.base) or allow_reassociation:
                continue
            raise PassRefused(REASSOCIATES, f"the order {order} changes the order in which the reduction into "
                              f"{a.base!r} accumulates over loops {varying}: floating-point results would change",
                              hint="pass allow_reassociation=True to accept results that differ in rounding")
        raise PassRefused(ILLEGAL, f"the order {order} reverses a dependence on {a.base!r} carried by loops "
                          f"{varying}", hint="keep the relative order of these loops")


__all__ = ["ReorderOptions", "reorder"]
