"""jam: unroll a loop by `factor` and jam the copies of its body together (cpp, after simdize).

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

Legal for a parallel loop: no iteration reads what another writes, so the order between the copies'
statements does not matter, and a statement that is the same in every copy and writes only the body's locals
computes the same in each. A body with an exit (`return`, `break`/`continue` of the loop, `goto`) or a barrier,
or one that assigns a variable declared outside it, is refused (XP532); a tuning knob, verified like any other.

A serial loop jams too, when what its iterations carry from one to the next is lane-wise: the sums of SIMD loops.
conv2d's loop over a filter row's taps (`kw`) runs a SIMD loop per tap that loads, updates and stores each lane's
sum; jammed by 3, one SIMD loop updates each lane's sum three times between one load and one store, so g++ keeps
it in a register (1.4x on conv2d, session 16). Each lane's sum still adds its terms in the source's order, so the
result is bit for bit the same. What makes it legal, checked (else XP532):
- every array the body stores to is a local array only ever indexed (no pointer reaches it), declared outside
  the body, and read or written only inside SIMD loops, at `[lane]` of the innermost one, behind subscripts the
  iteration does not choose: one element per lane; nothing else has an effect (no store through a pointer
  expression, no call of a function that may have one);
- the copies' SIMD loops with the same header are fused (each lane's element is touched by that lane alone);
  any other loop or `if` that touches those arrays, or whose header reads them, keeps its copies apart, and
  statements that touch one array are never moved past each other (the jammed order keeps each array's
  updates in the source's order);
- a statement that runs once for every copy reads none of those arrays.
"""
from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from kernel_ir.ir import (ArrayType, Assign, Barrier, BinOp, Block, Break, Call, Const, Continue, Decl, DoWhile,
                          DType, ExprStmt, For, ForKind, Function, If, Index, KernelLaunch, MethodCall, Module, Node,
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
    if loop.kind not in (ForKind.parallel, ForKind.serial):
        raise PassRefused(ILLEGAL, f"loop over {view.var!r} is {loop.kind.value}: only a parallel loop, or a "
                          "serial one around SIMD loops, is jammed")
    local = declared_names(loop.body)
    if any(isinstance(n, (Return, Barrier, KernelLaunch, RawStmt, Verbatim)) for n in walk(loop.body)) \
            or _leaves(loop.body):
        raise PassRefused(ILLEGAL, f"the body of the loop over {view.var!r} exits or synchronizes: its copies "
                          "cannot run side by side")
    if written_names(loop.body) - local - {view.var}:
        raise PassRefused(ILLEGAL, f"the body of the loop over {view.var!r} assigns "
                          f"{', '.join(sorted(written_names(loop.body) - local))}, declared outside it")
    pure = PURE_CALLS | _pure_functions(module)
    # the arrays a serial loop's iterations update lane by lane (a parallel loop's copies conflict nowhere)
    updated = frozenset() if loop.kind == ForKind.parallel else _lane_updates(fn, loop.body, view.var, local, pure)
    decls = [d for d in walk(loop.body) if isinstance(d, Decl)]
    # memory a pointer or reference declared in the body may reach: each copy has its own
    handles = {d.name for d in decls if isinstance(d.type, (PointerType, ReferenceType))}
    reached = {d.name for d in decls if isinstance(d.type, ArrayType)} - types_and_private_arrays(fn)[1] \
        | {root_name(d.init) for d in decls if isinstance(d.type, ReferenceType) and d.init is not None}

    def once(s: Stmt) -> bool:
        return _runs_once(s, local - handles, pure) and not names_in(s) & updated

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
    step = Block(_jammed(copies, once, updated))
    if updated:
        types = types_and_private_arrays(fn)[0]
        step = transform(step, lambda n: _sums_in_registers(n, updated, types, taken)
                         if isinstance(n, For) and n.kind == ForKind.vectorized else None)
    body = Block((If(BinOp("<", last, view.stop), step, Block((rest,)), likely=True),))
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


def lane_updates_saved(module: Module, options: JamOptions) -> int:
    """How many accesses to the sums a serial loop's SIMD loops update lane by lane one jammed step no longer
    makes (the copies' updates fused, their sums kept in registers between one load and one store). 0 when the
    loop does not jam, or is parallel. A static estimate of what a serial jam gains, which the tuner tries first."""
    fn = function_of(module, options.function)
    original = find_loop(fn, options.loop, options.occurrence).loop
    if original.kind != ForKind.serial:
        return 0
    try:
        jammed = jam(module, options)
    except PassRefused:
        return 0
    updated = lane_updated(module, options)
    step = find_loop(function_of(jammed, options.function), options.loop, options.occurrence).loop.body.body[0]
    assert isinstance(step, If)
    count = _counter(lambda simple: sum(1 for s in simple for n in walk(s)
                                        if isinstance(n, Index) and root_name(n) in updated and _outermost(n, s)))
    return options.factor * count(original.body) - count(step.then)


def lane_updated(module: Module, options: JamOptions) -> frozenset[str]:
    """The arrays of sums a serial loop's iterations update lane by lane (empty when it does not jam)."""
    fn = function_of(module, options.function)
    loop = find_loop(fn, options.loop, options.occurrence).loop
    try:
        return _lane_updates(fn, loop.body, options.loop, declared_names(loop.body),
                             PURE_CALLS | _pure_functions(module)) if loop.kind == ForKind.serial else frozenset()
    except PassRefused:
        return frozenset()


def _outermost(index: Index, statement: Stmt) -> bool:
    """index is not the base of another index of statement (a[i] in a[i][j])."""
    return not any(isinstance(n, Index) and n.base is index for n in walk(statement))


def _counter(simple: Callable[[list[Stmt]], int]) -> Callable[[Block], int]:
    """A count over a block: `simple` of each statement list's simple statements, plus the count of each block,
    loop body and `if` branch in it; a jammed versioned `if` counts its jammed branch and each copy's other branch
    (what runs when the copies' conditions agree)."""
    def count(block: Block) -> int:
        total = 0
        for s in block.body:
            if isinstance(s, If) and _versioned(s):
                total += count(s.then) + sum(count(t.otherwise) for t in s.otherwise.body if t.otherwise)
            elif isinstance(s, If):
                total += count(s.then) + (count(s.otherwise) if s.otherwise else 0)
            elif isinstance(s, (Block, For)):
                total += count(s if isinstance(s, Block) else s.body)
        return total + simple([s for s in block.body if not isinstance(s, (If, Block, For))])
    return count


def _lane_reads(body: Block, pointers: set[str]) -> int:
    """Reads through a pointer whose index varies with the lanes of a thread (or SIMD) loop, each read that
    statements side by side in one list make alike counted once."""
    def lane_loop(n: Node) -> bool:
        return isinstance(n, For) and n.kind in (ForKind.parallel, ForKind.vectorized) and loop_var(n) is not None

    innermost = [n for n in walk(body) if lane_loop(n) and not any(lane_loop(m) for m in walk(n.body))]
    lanes = set().union(*(_varying(n.body, {loop_var(n)}) for n in innermost))

    pointers = pointers | {d.name for d in walk(body) if isinstance(d, Decl) and isinstance(d.type, PointerType)}

    def alike(simple: list[Stmt]) -> int:
        reads: set[Node] = set()
        for s in simple:
            stores = {id(t) for t in store_targets(s)}
            reads.update(n for n in walk(s) if isinstance(n, Index) and id(n) not in stores
                         and root_name(n) in pointers and names_in(n.index) & lanes)
        return len(reads)

    return _counter(alike)(body)


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


def _jammed(copies: list[Block], once: Callable[[Stmt], bool], updated: frozenset[str]) -> tuple[Stmt, ...]:
    """The copies' statements side by side. updated: the arrays a serial loop's iterations update lane by lane,
    whose accesses keep their order (empty for a parallel loop)."""
    _keep_order(copies[0].body, updated)
    out: list[Stmt] = []
    for statements in zip(*(c.body for c in copies)):
        first = statements[0]

        def jammed(blocks: list[Block]) -> Block:
            return Block(_jammed(blocks, once, updated))

        # a header read once for all copies must not read what the copies update; only a SIMD loop's copies
        # touch each element of those arrays in the same order fused as one after another
        header = (*first.init, first.cond, first.step) if isinstance(first, For) else \
            (first.cond,) if isinstance(first, If) else ()
        apart = any(updated & names_in(n) for n in header if n is not None)
        fusable = isinstance(first, For) and (first.kind == ForKind.vectorized or not updated & names_in(first))
        if all(s == first for s in statements) and once(first):
            out.append(first)
        elif all(isinstance(s, Block) for s in statements):
            out.append(jammed(list(statements)))
        elif all(isinstance(s, For) and _header(s) == _header(first) for s in statements) and not _leaves(first.body) \
                and not (first.kind == ForKind.vectorized and any(isinstance(n, For) for n in walk(first.body))) \
                and fusable and not apart:
            out.append(dataclasses.replace(first, body=jammed([s.body for s in statements])))
        elif all(isinstance(s, If) and s.cond == first.cond and (s.otherwise is None) == (first.otherwise is None)
                 for s in statements) and not apart:
            otherwise = None if first.otherwise is None else jammed([s.otherwise for s in statements])
            out.append(dataclasses.replace(first, then=jammed([s.then for s in statements]), otherwise=otherwise))
        elif all(isinstance(s, If) for s in statements) and all(without_effects(s.cond) for s in statements) \
                and not any(updated & names_in(s.cond) for s in statements):
            both = functools.reduce(lambda a, b: BinOp("&&", a, b), (s.cond for s in statements))
            out.append(If(both, jammed([s.then for s in statements]), Block(statements), likely=first.likely))
        else:
            out.extend(statements)
    return tuple(out)


def _sums_in_registers(loop: For, updated: frozenset[str], types: dict[str, Node], taken: set[str]) -> For | None:
    """A fused SIMD loop whose statements update one lane's element of an updated array one after another: the
    element read into a local before them and stored after them. g++ keeps such a local in a vector register,
    where it loads, blends and stores the element itself statement by statement. Only where the first statement
    touching the element stores to it (so it exists in every iteration) and nothing leaves the body early."""
    statements = loop.body.body
    if _leaves(loop.body):
        return None
    elements: dict[str, Node] = {}
    for n in walk(loop.body):
        if isinstance(n, Index) and root_name(n) in updated:
            elements.setdefault(root_name(n), n)  # type: ignore[arg-type]
    before: list[Stmt] = []
    after: list[Stmt] = []
    body = loop.body
    for name, element in elements.items():
        users = [s for s in statements if name in names_in(s)]
        first = users[0]
        element_type = types.get(name)
        chain = element
        while isinstance(chain, Index):  # one array dimension per subscript of the element's own chain
            element_type = element_type.element if isinstance(element_type, ArrayType) else None
            chain = chain.base
        if len(users) < 2 or not (isinstance(first, Assign) and first.target == element) \
                or not isinstance(element_type, ScalarType):
            continue
        local = fresh_name(f"xp_{name}_lane", taken)
        taken.add(local)
        body = transform(body, lambda n, e=element, v=Var(local): v if n == e else None)
        before.append(Decl(local, element_type, element))
        after.append(Assign(element, Var(local)))  # type: ignore[arg-type]
    if not before:
        return None
    return dataclasses.replace(loop, body=Block((*before, *body.body, *after)))


def _keep_order(statements: tuple[Stmt, ...], updated: frozenset[str]) -> None:
    """Side by side, a later copy's statement runs before an earlier copy's later statements: refuses (XP532)
    when two statements of one list touch one of the updated arrays and one of them writes it."""
    touched = [names_in(s) & updated for s in statements]
    written = [stored_names(s) & updated for s in statements]
    for later in range(len(statements)):
        for earlier in range(later):
            clash = touched[earlier] & written[later] | written[earlier] & touched[later]
            if clash:
                raise PassRefused(ILLEGAL, f"jammed, the updates of {', '.join(sorted(clash))} by one iteration "
                                  "would run before those of the iteration before it")


def _lane_updates(fn: Function, body: Block, var: str, local: set[str], pure: set[str] | frozenset[str]
                  ) -> frozenset[str]:
    """The arrays a serial loop's body updates, when they are updated lane by lane: local arrays only ever
    indexed (nothing else reaches them), declared outside the body, read and written only inside SIMD loops, at
    `[lane]` of the innermost one behind subscripts the iteration does not choose; and nothing else has an effect
    (no store through a pointer expression, no call of an impure function). Refuses (XP532) otherwise: jammed,
    the iterations' effects could then happen in another order."""
    def refuse(why: str) -> PassRefused:
        return PassRefused(ILLEGAL, f"the loop over {var!r} is serial and {why}: its iterations' copies cannot "
                           "be jammed")

    if any(isinstance(d.type, (ArrayType, PointerType, ReferenceType)) for d in walk(body) if isinstance(d, Decl)):
        raise refuse("its body declares arrays, pointers or references")
    if any(root_name(t) is None for t in store_targets(body)):
        raise refuse("stores through a pointer expression")
    if _calls_impure(body, pure):
        raise refuse("calls a function that may have effects")
    updated = frozenset(stored_names(body) - local)
    private = types_and_private_arrays(fn)[1]
    if updated - private:
        raise refuse(f"stores to {', '.join(sorted(updated - private))}, which a pointer may reach")
    chosen = written_names(body) | {var}  # what the iteration chooses
    element: dict[str, Node] = {}

    def visit(node: Node, lane: str | None) -> None:
        if isinstance(node, Index) and root_name(node) in updated:
            name = root_name(node)
            assert name is not None
            if lane is None or node.index != Var(lane) or (names_in(node.base) - {name}) & (chosen | updated) \
                    or element.setdefault(name, node) != node:
                raise refuse(f"reads or writes {name} elsewhere than at one element per SIMD lane")
            return
        if isinstance(node, Var) and node.name in updated:
            raise refuse(f"uses {node.name} as a whole")
        inner = loop_var(node) if isinstance(node, For) and node.kind == ForKind.vectorized else None
        for child in children(node):
            visit(child, inner if inner is not None and child is node.body else lane)

    visit(body, None)
    return updated


def _header(loop: For) -> tuple:
    return loop.init, loop.cond, loop.step, loop.kind, loop.axis, loop.pragmas


def _runs_once(s: Stmt, local: set[str], pure: frozenset[str] | set[str]) -> bool:
    """A statement the same in every copy runs once when it stores only to the body's locals and calls only pure
    functions (a store to memory or another call may be an update each iteration makes)."""
    return all(root_name(t) in local for t in store_targets(s)) and not _calls_impure(s, pure)


def _calls_impure(node: Node, pure: frozenset[str] | set[str]) -> bool:
    """node calls a function outside `pure`, a method, or code kept as text (any of which may have effects)."""
    return any(isinstance(n, Call) and n.name not in pure or isinstance(n, (MethodCall, RawExpr, RawStmt, Verbatim))
               for n in walk(node))


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


__all__ = ["JamOptions", "jam", "lane_updated", "lane_updates_saved", "shared_lane_reads"]
