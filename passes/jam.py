"""jam: unroll a parallel loop by `factor` and jam the copies of its body together (cpp, after simdize).

    for (int f = 0; f < F; f += 1) body(f)
 -> for (int f = 0; f < F; f += 2)
        if (f + 1 < F) jammed(body(f), body(f + 1))
        else for (int f_1 = f; f_1 < F; f_1 += 1) body(f_1)

Why: a CUDA block loop's iterations often share most of their work. conv2d's blocks along the filter axis read
the same inputs, masks and tables and differ only in their filter taps and output row; jammed by 2, each input
vector loaded feeds two filters' sums and the lane tables are built once for both: 1.3x on conv2d on an AVX2 EPYC
(bench/results/cpp_vs_numpy.md, session 15). It is what CUDA programmers call thread-block coarsening.

How the copies are jammed, statement by statement (every copy has the same shape; copy j reads the loop variable
plus j steps and has its own copy of each local that depends on the iteration, or that a statement run per copy
declares or stores to):
- a statement the same in every copy that stores only to the body's local values (not through its pointers or
  references) and calls only pure functions (the math library's, and the module's helpers that store only to
  their own locals) runs once, for every copy; a local array a pointer or reference may reach is per copy;
- loops and `if`s whose headers are the same in every copy run once, with their bodies jammed, except a SIMD
  loop with a loop inside (a register tile: its sums fill the registers, and copies side by side would spill
  them), or a loop left by a `break` or `continue` of its own (one copy's exit would skip the others' work): its
  copies run one after the other;
- `if`s whose conditions differ (simdize's full-tile versions, on each block's own bounds) run their `then`
  branches jammed under the conjunction of the conditions, and one copy after another otherwise;
- anything else (stores to memory, statements on the iteration's own values) runs once per copy, in order.

Legal because the loop is parallel: no iteration reads what another writes, so the order between the copies'
statements does not matter, and a statement that is the same in every copy and writes only the body's locals
computes the same in each. A body with an exit (`return`, `break`/`continue` of the loop, `goto`) or a barrier,
or one that assigns a variable declared outside it, is refused (XP532); a tuning knob, verified like any other.
"""
from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from kernel_ir.ir import (ArrayType, Assign, Barrier, BinOp, Block, Break, Call, Const, Continue, Decl, DoWhile,
                          DType, ExprStmt, For, ForKind, If, Index, KernelLaunch, MethodCall, Module, Node,
                          PointerType, RawExpr, RawStmt, ReferenceType, Return, ScalarType, Stmt, Switch, Var,
                          Verbatim, While, children, transform, walk)
from passes.base import PassRefused
from passes.loops import (ILLEGAL, PURE_CALLS, LoopFactor, declared_names, factor_loop, find_loop, fresh_name,
                          function_of, loop_var, names_in, names_taken, replace_in_function, root_name,
                          store_targets, stored_names, types_and_private_arrays, without_effects, written_names)


@dataclass(frozen=True)
class JamOptions(LoopFactor):
    """The parallel loop to jam, and how many of its iterations each jammed step runs."""


def jam(module: Module, options: JamOptions) -> Module:
    """`options.loop` unrolled `options.factor` times with the copies jammed. Refuses (XP53x) when the loop is
    missing, not canonical or not parallel, when the factor is below 2, or when its body exits or writes an
    outer variable."""
    fn, match, view = factor_loop(module, options, "jam")
    loop = match.loop
    if loop.kind != ForKind.parallel:
        raise PassRefused(ILLEGAL, f"loop over {view.var!r} is {loop.kind.value}: only a parallel loop's "
                          "iterations are independent enough to interleave")
    local = declared_names(loop.body)
    if any(isinstance(n, (Return, Barrier, KernelLaunch, RawStmt, Verbatim)) for n in walk(loop.body)) \
            or _leaves(loop.body):
        raise PassRefused(ILLEGAL, f"the body of the loop over {view.var!r} exits or synchronizes: its copies "
                          "cannot run side by side")
    if written_names(loop.body) - local - {view.var}:
        raise PassRefused(ILLEGAL, f"the body of the loop over {view.var!r} assigns "
                          f"{', '.join(sorted(written_names(loop.body) - local))}, declared outside it")
    pure = PURE_CALLS | _pure_functions(module)
    decls = [d for d in walk(loop.body) if isinstance(d, Decl)]
    # memory a pointer or reference declared in the body may reach: each copy has its own
    handles = {d.name for d in decls if isinstance(d.type, (PointerType, ReferenceType))}
    reached = {d.name for d in decls if isinstance(d.type, ArrayType)} - types_and_private_arrays(fn)[1] \
        | {root_name(d.init) for d in decls if isinstance(d.type, ReferenceType) and d.init is not None}

    def once(s: Stmt) -> bool:
        return _runs_once(s, local - handles, pure)

    # what a statement that runs per copy declares or stores to is the copy's own
    per_copy = set().union(*(declared_names(s) | stored_names(s) for s in walk(loop.body)
                             if isinstance(s, (Decl, Assign, ExprStmt)) and not once(s))) & local
    varying = _varying(loop.body, {view.var} | per_copy | (reached & local))
    taken = names_taken(module, fn)
    copies = [loop.body, *(_copy(loop.body, view.var, BinOp("+", Var(view.var), Const(j * view.step, DType.int32)),
                                 {name: fresh_name(f"{name}_{j}", taken) for name in sorted(varying & local)}, taken)
                           for j in range(1, options.factor))]
    last = BinOp("+", Var(view.var), Const((options.factor - 1) * view.step, DType.int32))
    rest_var = fresh_name(f"{view.var}_1", taken)
    rest = For((Decl(rest_var, _loop_type(loop), Var(view.var)),), BinOp("<", Var(rest_var), view.stop),
               Assign(Var(rest_var), Const(view.step, DType.int32), "+"),
               _copy(loop.body, view.var, Var(rest_var), {}, taken))
    body = Block((If(BinOp("<", last, view.stop), Block(_jammed(copies, once)), Block((rest,)),
                     likely=True),))
    jammed = dataclasses.replace(loop, step=Assign(Var(view.var), Const(view.step * options.factor, DType.int32), "+"),
                                 body=body)
    return replace_in_function(module, fn, loop, (jammed,))


def shared_lane_reads(module: Module, options: JamOptions) -> int:
    """How many of the memory reads that differ between a thread loop's lanes (vector loads) one jammed step no
    longer repeats: read once for all copies by what runs once, or alike by several copies' statements side by
    side. 0 when the loop does not jam. A static estimate of what a jam gains, which the tuner tries first."""
    try:
        jammed = jam(module, options)
    except PassRefused:
        return 0
    fn = function_of(module, options.function)
    original = find_loop(fn, options.loop, options.occurrence).loop.body
    step = find_loop(function_of(jammed, options.function), options.loop, options.occurrence).loop.body.body[0]
    assert isinstance(step, If)
    pointers = {p.name for p in fn.params if isinstance(p.type, PointerType)} | {
        d.name for d in walk(fn) if isinstance(d, Decl) and isinstance(d.type, PointerType)}
    return options.factor * _lane_reads(original, pointers) - _lane_reads(step.then, pointers)


def _lane_reads(body: Block, pointers: set[str]) -> int:
    """Reads through a pointer whose index varies with the lanes of a thread (or SIMD) loop, each read that
    statements side by side in one list make alike counted once."""
    def lane_loop(n: Node) -> bool:
        return isinstance(n, For) and n.kind in (ForKind.parallel, ForKind.vectorized) and loop_var(n) is not None

    innermost = [n for n in walk(body) if lane_loop(n) and not any(lane_loop(m) for m in walk(n.body))]
    lanes = set().union(*(_varying(n.body, {loop_var(n)}) for n in innermost))

    pointers = pointers | {d.name for d in walk(body) if isinstance(d, Decl) and isinstance(d.type, PointerType)}

    def count(block: Block) -> int:
        alike: set[Node] = set()
        total = 0
        for s in block.body:
            if isinstance(s, If) and _versioned(s):  # the jammed branch, and each copy's own other branch
                total += count(s.then) + sum(count(t.otherwise) for t in s.otherwise.body if t.otherwise)
            elif isinstance(s, If):
                total += count(s.then) + (count(s.otherwise) if s.otherwise else 0)
            elif isinstance(s, (Block, For)):
                total += count(s if isinstance(s, Block) else s.body)
            else:
                stores = {id(t) for t in store_targets(s)}
                alike.update(n for n in walk(s) if isinstance(n, Index) and id(n) not in stores
                             and root_name(n) in pointers and names_in(n.index) & lanes)
        return total + len(alike)

    return count(body)


def _versioned(s: If) -> bool:
    """An `if` the jam made of copies' `if`s whose conditions differ: their conjunction, the copies otherwise."""
    if s.otherwise is None or not all(isinstance(t, If) for t in s.otherwise.body):
        return False
    conditions = [t.cond for t in s.otherwise.body]
    return len(conditions) > 1 and s.cond == functools.reduce(lambda a, b: BinOp("&&", a, b), conditions)


def _leaves(node: Node) -> bool:
    """A `break` or `continue` under node that is not inside a loop or switch of its own."""
    if isinstance(node, (Break, Continue)):
        return True
    if isinstance(node, (For, While, DoWhile, Switch)):
        return False
    return any(_leaves(child) for child in children(node))


def _loop_type(loop: For):
    decl = loop.init[0]
    assert isinstance(decl, Decl)
    return decl.type


def _varying(body: Block, seeds: set[str]) -> set[str]:
    """The seeds (the loop variable...) and every name whose value may differ between iterations: declared or
    stored to by a statement that reads such a name, or stored to under a loop header or condition that reads one
    while declared outside that loop or `if` (a name declared inside is the copy's own wherever the headers
    differ: those statements run once per copy)."""
    varying = set(seeds)
    changed = True

    def mark(names: set[str]) -> None:
        nonlocal changed
        if names - varying:
            varying.update(names)
            changed = True

    def visit(node: Node) -> None:
        if isinstance(node, (Block, For, If)):
            header = set() if isinstance(node, Block) else \
                names_in(node.cond) if isinstance(node, If) else \
                set().union(*map(names_in, node.init), *(names_in(n) for n in (node.cond, node.step) if n))
            if header & varying:
                mark(stored_names(node) - declared_names(node) | (set().union(*map(declared_names, node.init))
                                                             if isinstance(node, For) else set()))
            for child in children(node):
                if isinstance(child, (Block, For, If)) or isinstance(node, Block):
                    visit(child)
                elif isinstance(node, For) and child in node.init:
                    visit(child)
        else:  # a simple statement, or one whose insides are taken as a whole (while, switch)
            if (names_in(node) | declared_names(node)) & varying:
                mark(declared_names(node) | stored_names(node))

    while changed:
        changed = False
        visit(body)
    return varying


def _copy(body: Block, var: str, value, renames: dict[str, str], taken: set[str]) -> Block:
    """The body with the loop variable read as `value` and each renamed local under its new name."""
    taken.update(renames.values())
    word = re.compile(r"\b[A-Za-z_]\w*\b")

    def rename(node: Node) -> Node | None:
        if isinstance(node, Var):
            if node.name == var:
                return value
            return Var(renames[node.name]) if node.name in renames else None
        if isinstance(node, Decl) and node.name in renames:
            return dataclasses.replace(node, name=renames[node.name])
        if isinstance(node, For) and renames and node.pragmas:  # `reduction(+:sum)` names a variable too
            return dataclasses.replace(node, pragmas=tuple(word.sub(lambda m: renames.get(m[0], m[0]), text)
                                                           for text in node.pragmas))
        return None

    return transform(body, rename)


def _jammed(copies: list[Block], once: Callable[[Stmt], bool]) -> tuple[Stmt, ...]:
    out: list[Stmt] = []
    for statements in zip(*(c.body for c in copies)):
        first = statements[0]
        if all(s == first for s in statements) and once(first):
            out.append(first)
        elif all(isinstance(s, Block) for s in statements):
            out.append(Block(_jammed(list(statements), once)))
        elif all(isinstance(s, For) and _header(s) == _header(first) for s in statements) and not _leaves(first.body) \
                and not (first.kind == ForKind.vectorized and any(isinstance(n, For) for n in walk(first.body))):
            out.append(dataclasses.replace(first, body=Block(_jammed([s.body for s in statements], once))))
        elif all(isinstance(s, If) and s.cond == first.cond and (s.otherwise is None) == (first.otherwise is None)
                 for s in statements):
            otherwise = None if first.otherwise is None else \
                Block(_jammed([s.otherwise for s in statements], once))
            out.append(dataclasses.replace(first, then=Block(_jammed([s.then for s in statements], once)),
                                           otherwise=otherwise))
        elif all(isinstance(s, If) for s in statements) and all(without_effects(s.cond) for s in statements):
            both = functools.reduce(lambda a, b: BinOp("&&", a, b), (s.cond for s in statements))
            out.append(If(both, Block(_jammed([s.then for s in statements], once)), Block(statements),
                          likely=first.likely))
        else:
            out.extend(statements)
    return tuple(out)


def _header(loop: For) -> tuple:
    return loop.init, loop.cond, loop.step, loop.kind, loop.axis, loop.pragmas


def _runs_once(s: Stmt, local: set[str], pure: frozenset[str] | set[str]) -> bool:
    """A statement the same in every copy runs once when it stores only to the body's locals and calls only pure
    functions (a store to memory or another call may be an update each iteration makes)."""
    return all(root_name(t) in local for t in store_targets(s)) and not any(
        isinstance(n, Call) and n.name not in pure or isinstance(n, (MethodCall, RawExpr, RawStmt, Verbatim))
        for n in walk(s))


def _pure_functions(module: Module) -> set[str]:
    """The module's functions that store only to their own locals and call only pure functions (helpers such as
    `out_dim(in, k, stride, pad)`): a call of one gives the same value for the same arguments."""
    pure = {f.name for f in module.functions if f.body is not None}
    changed = True
    while changed:
        changed = False
        for f in module.functions:
            if f.name in pure and not _runs_once(f.body, declared_names(f.body) | {
                    p.name for p in f.params if isinstance(p.type, ScalarType)}, PURE_CALLS | pure):
                pure.discard(f.name)
                changed = True
    return pure


__all__ = ["JamOptions", "jam", "shared_lane_reads"]
