"""parallelize: serial loops whose iterations are provably independent become parallel loops.

Why: a kernel written as plain C (no `#pragma omp parallel for`) states no parallelism, and bind spreads only
parallel loops over threads, tasks or OpenMP threads: without this pass a three-loop gemm becomes a one-thread
kernel. A loop is marked only when
- it is canonical (`for (int v = a; v < b; v += s)`, the shape bind needs) and nothing in it leaves the loop
  early (break at its level, return); and it is not a short loop of constant bounds (`min_trips`: a vector's
  lanes or a filter window are not worth a kernel launch or an OpenMP team);
- passes.loops' dependence test proves that no two different iterations touch the same element of a buffer
  with at least one of them writing. Scalars declared outside the loop and assigned in it count as one element,
  so a reduction into a scalar stays serial; a call whose effects are unknown keeps the loop serial.
What is marked: each outermost such loop of an entry (a function no other function calls) outside any parallel
loop, and below it the loops perfectly nested in it that are independent too, up to `depth` levels (bind
flattens such a nest onto the grid, or collapses it for OpenMP). Loops already parallel are left as they are,
and so is everything the test cannot prove. Works on the loop form (after recover_loops / normalize).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from kernel_ir.ir import (Block, Break, Call, Const, DoWhile, For, ForKind, Function, If, Module, Return, Stmt,
                          While, walk)
from passes.base import PassRefused
from passes.loops import (analyze, canonical, conflicting_pairs, exits_at_level, loop_var, single_for,
                          varying_levels)


@dataclass(frozen=True)
class ParallelizeOptions:
    depth: int = 2  # perfectly nested loops marked per nest, outermost first (0 turns the pass off)
    min_trips: int = 64  # a loop of fewer iterations, known at translation time, is not worth a kernel or a team


def parallelize(module: Module, options: ParallelizeOptions = ParallelizeOptions()) -> Module:
    return parallelize_and_report(module, options)[0]


def parallelize_and_report(module: Module, options: ParallelizeOptions = ParallelizeOptions()
                           ) -> tuple[Module, list[str]]:
    """The module with independent loops marked parallel, and one note per function that changed."""
    called = {n.name for fn in module.functions if fn.body is not None for n in walk(fn.body) if isinstance(n, Call)}
    notes: list[str] = []

    def mark(fn: Function) -> Function:
        if fn.body is None or fn.name in called or options.depth < 1:
            return fn
        marker = _Marker(module, fn, options)
        body = marker.block(fn.body, frozenset())
        if not marker.marked:
            return fn
        notes.append(f"{fn.name}: loops over {', '.join(marker.marked)} are independent")
        return dataclasses.replace(fn, body=body)

    return module.map_functions(mark), notes


class _Marker:
    def __init__(self, module: Module, fn: Function, options: ParallelizeOptions):
        self.module, self.fn, self.depth, self.min_trips = module, fn, options.depth, options.min_trips
        self.marked: list[str] = []

    def block(self, block: Block, outer: frozenset[str]) -> Block:
        return dataclasses.replace(block, body=tuple(self.stmt(s, outer) for s in block.body))

    def stmt(self, s: Stmt, outer: frozenset[str]) -> Stmt:
        if isinstance(s, For):
            if s.kind == ForKind.parallel:
                return s  # a parallel region as the source wrote it
            if s.kind == ForKind.serial and self.independent(s, outer):
                return self.nest(s, outer, self.depth)
            var = loop_var(s)
            return dataclasses.replace(s, body=self.block(s.body, outer | {var} if var else outer))
        if isinstance(s, Block):
            return self.block(s, outer)
        if isinstance(s, If):
            otherwise = self.block(s.otherwise, outer) if s.otherwise is not None else None
            return dataclasses.replace(s, then=self.block(s.then, outer), otherwise=otherwise)
        if isinstance(s, (While, DoWhile)):
            return dataclasses.replace(s, body=self.block(s.body, outer))
        return s

    def nest(self, loop: For, outer: frozenset[str], levels: int) -> For:
        """`loop` (independent) marked parallel, and the loops perfectly nested in it while they are too."""
        var = loop_var(loop)
        self.marked.append(var)
        inner = single_for(loop.body)
        body = loop.body
        if levels > 1 and inner is not None and inner.kind == ForKind.serial \
                and self.independent(inner, outer | {var}):
            body = dataclasses.replace(body, body=(self.nest(inner, outer | {var}, levels - 1),))
        return dataclasses.replace(loop, kind=ForKind.parallel, body=body)

    def few_trips(self, view) -> bool:
        """Fewer than `min_trips` iterations, by constant bounds (a vector's lanes, a 3x3 window)."""
        start, stop = view.start, view.stop
        if not (isinstance(start, Const) and isinstance(stop, Const)):
            return False
        return (stop.value - start.value + view.step - 1) // view.step < self.min_trips

    def independent(self, loop: For, outer: frozenset[str]) -> bool:
        """No dependence joins two different iterations of `loop` (outer: variables constant while it runs)."""
        view = canonical(loop)
        if view is None or exits_at_level(loop.body.body, (Break,)) \
                or any(isinstance(n, Return) for n in walk(loop.body)) or self.few_trips(view):
            return False
        try:
            levels, accesses = analyze(self.module, self.fn, [view], loop.body.body, set(outer), parallel=False)
        except PassRefused:
            return False  # something the dependence test does not model: keep the loop as written
        return all(view.var not in varying_levels(a, b, levels, self.fn) for a, b in conflicting_pairs(accesses))


__all__ = ["ParallelizeOptions", "parallelize", "parallelize_and_report"]
