"""`pipeline`: double buffering, so that the copy of the next tile overlaps the computation on this one.

One rule per target (table `_RULES`): BANG here, CUDA/HIP (double-buffered `__shared__` tiles) in its section at
the end; cpp has none. BANG preconditions, checked per loop: a tile loop `for (int t = a; t < b;
t += stride)` (stride loop-invariant) whose body is: constant declarations that read no memory (the tile's
count), then the loads `__memcpy(x_nram, src, bytes, GDRAM2NRAM)` into `__nram__` arrays used nowhere outside
the loop, then the rest (computation and stores). That is the shape `cache` produces. It becomes a ping-pong:

    __nram__ float x_nram[T], x_nram_pong[T];
    int parity = 0;
    if (a < b) { <count at a>; __memcpy_async(x_nram, src at a, ..., GDRAM2NRAM); }      // the first load
    for (int t = a; t < b; t += stride) {
        const int count = ...;
        float* x_cur = parity ? x_nram_pong : x_nram;  float* x_next = parity ? x_nram : x_nram_pong;
        __sync_io();                                  // this tile's loads (issued one iteration earlier) are done
        if (t + stride < b) { <count at t + stride>; __memcpy_async(x_next, src at t + stride, ...); }
        <computation and stores on x_cur>
        parity = 1 - parity;
    }

The load into the other buffer only overwrites what the previous iteration's (synchronous) computation and
stores have finished with; stores stay synchronous, so a buffer the body writes is free when the loop moves on.
The executor runs `__memcpy_async` synchronously and `__sync_io` as a no-op, so tests check that the schedule
computes the same values, not the overlap itself. A module with no such loop is refused (XP550); a loop whose
doubled buffers would not fit NRAM is left as it is.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from kernel_ir.ir import (
    ArrayType, Assign, Barrier, BarrierKind, BinOp, Block, Call, Const, Decl, DType, Expr, ExprStmt, For, FuncQual,
    Function, If, Index, MemScope, Module, Node, PointerType, ScalarType, Select, Stmt, UnaryOp, Var, transform, walk,
)
from passes.base import PassRefused
from passes.cache import copy
from passes.loops import canonical, fresh_name, names_in, names_taken, splice, substitute, written_names
from passes.patterns import NRAM_BYTES, SharedStep, array_base, nram_bytes, run_target_rule, shared_steps

NOT_APPLICABLE = "XP550"
INT32 = ScalarType(DType.int32)


@dataclass(frozen=True)
class PipelineOptions:
    """nram_limit (BANG): bytes of NRAM all arrays of a kernel may take once the loaded buffers are doubled;
    shared_limit (CUDA/HIP): bytes of static __shared__ memory a kernel may take once its tiles are doubled."""

    nram_limit: int = NRAM_BYTES
    shared_limit: int = 48 * 1024


@dataclass(frozen=True)
class _TileLoop:
    var: str
    start: Expr
    stop: Expr
    stride: Expr
    prefix: tuple[Decl, ...]  # the tile's constants (its count)
    loads: tuple[ExprStmt, ...]  # __memcpy(x_nram, ..., GDRAM2NRAM)
    rest: tuple[Stmt, ...]


def pipeline(module: Module, options: PipelineOptions | None = None) -> Module:
    """`module` with the loads of its tile loops double-buffered."""
    return run_target_rule("pipeline", _RULES, module, options or PipelineOptions(), NOT_APPLICABLE)


def _pipeline_bang(module: Module, options: PipelineOptions) -> Module:
    changed = module.map_functions(lambda fn: _pipeline_function(module, fn, options))
    if changed == module:
        raise PassRefused(NOT_APPLICABLE, "pipeline: no tile loop loads __nram__ buffers with __memcpy first")
    return changed


def _pipeline_function(module: Module, fn: Function, options: PipelineOptions) -> Function:
    if fn.body is None or FuncQual.mlu_global not in fn.qualifiers:
        return fn
    arrays = {n.name: n for n in walk(fn.body) if isinstance(n, Decl) and n.scope == MemScope.nram
              and isinstance(n.type, ArrayType) and isinstance(n.type.size, Const)}
    taken = names_taken(module, fn)
    room = [options.nram_limit - nram_bytes(fn)]
    pongs: list[Decl] = []

    def visit(node: Node) -> Node | None:
        if not isinstance(node, For):
            return None
        shape = _tile_loop(node, arrays)
        if shape is None or any(_uses_outside(fn.body, node, _loaded(s)) for s in shape.loads):
            return None
        doubled = [arrays[_loaded(s)] for s in shape.loads]
        extra = sum(_bytes(d) for d in doubled)
        if extra > room[0]:
            return None
        room[0] -= extra
        new_pongs = [dataclasses.replace(d, name=_fresh(f"{d.name}_pong", taken)) for d in doubled]
        pongs.extend(new_pongs)
        return _double_buffer(node, shape, doubled, new_pongs, taken)

    body = transform(fn.body, visit)
    if not pongs:
        return fn
    stmts = list(body.body)
    at = max((i for i, s in enumerate(stmts) if isinstance(s, Decl) and s.scope == MemScope.nram), default=-1) + 1
    stmts[at:at] = pongs
    return dataclasses.replace(fn, body=Block(tuple(stmts)))


def _fresh(base: str, taken: set[str]) -> str:
    name = fresh_name(base, taken)
    taken.add(name)
    return name


def _bytes(d: Decl) -> int:
    return int(d.type.size.value) * (d.type.element.dtype.bits // 8)


def _loaded(s: ExprStmt) -> str:
    return s.expr.args[0].name


def _tile_loop(loop: For, arrays: dict[str, Decl]) -> _TileLoop | None:
    if len(loop.init) != 1 or not isinstance(loop.init[0], Decl) or loop.init[0].init is None:
        return None
    var = loop.init[0].name
    cond, step = loop.cond, loop.step
    if not (isinstance(cond, BinOp) and cond.op == "<" and cond.lhs == Var(var)):
        return None
    if not (isinstance(step, Assign) and step.target == Var(var) and step.op == "+"):
        return None
    invariant = names_in(cond.rhs) | names_in(step.value)
    if var in invariant or invariant & written_names(loop.body):
        return None
    stmts = loop.body.body
    prefix = []
    while stmts and isinstance(stmts[0], Decl) and stmts[0].init is not None and isinstance(stmts[0].type, ScalarType) \
            and stmts[0].type.const and not _reads_memory(stmts[0].init):
        prefix.append(stmts[0])
        stmts = stmts[1:]
    loads = []
    while stmts and _is_load(stmts[0], arrays):
        loads.append(stmts[0])
        stmts = stmts[1:]
    if not loads or len({_loaded(s) for s in loads}) != len(loads):
        return None
    known = {var} | {d.name for d in prefix}
    varying = written_names(loop.body) | _declared(tuple(stmts))
    for s in loads:  # the next tile's loads are issued before its iteration: only t and the prefix may vary
        if (names_in(s) - known - {_loaded(s)}) & varying:
            return None
    return _TileLoop(var, loop.init[0].init, cond.rhs, step.value, tuple(prefix), tuple(loads), tuple(stmts))


def _declared(stmts: tuple[Stmt, ...]) -> set[str]:
    return {n.name for n in walk(Block(stmts)) if isinstance(n, Decl)}


def _reads_memory(e: Expr) -> bool:
    return any(isinstance(n, (Index, Call)) or isinstance(n, UnaryOp) and n.op == "*" for n in walk(e))


def _is_load(s: Stmt, arrays: dict[str, Decl]) -> bool:
    return isinstance(s, ExprStmt) and isinstance(s.expr, Call) and s.expr.name == "__memcpy" \
        and len(s.expr.args) == 4 and s.expr.args[3] == Var("GDRAM2NRAM") and isinstance(s.expr.args[0], Var) \
        and s.expr.args[0].name in arrays


def _uses_outside(body: Block, loop: For, name: str) -> bool:
    """Whether array `name` is used anywhere but in `loop` (its declaration aside)."""
    outside = transform(body, lambda n: Block(()) if n is loop or n == loop else None)
    return name in names_in(outside)


def _double_buffer(loop: For, shape: _TileLoop, pings: list[Decl], pongs: list[Decl], taken: set[str]) -> Block:
    parity, upcoming = _fresh(f"{shape.var}_parity", taken), _fresh(f"{shape.var}_next", taken)
    current = {p.name: _fresh(f"{p.name}_cur", taken) for p in pings}
    following = {p.name: _fresh(f"{p.name}_next", taken) for p in pings}

    def issue(at: Expr, into: dict[str, str] | None) -> list[Stmt]:
        """The prefix and the loads of the tile starting at `at`, asynchronous, into `into` (or the pings)."""
        renames = {d.name: _fresh(f"{d.name}_ahead", taken) for d in shape.prefix}
        stmts: list[Stmt] = []
        for d in shape.prefix:
            init = substitute(d.init, shape.var, at)
            for old, new in renames.items():
                init = substitute(init, old, Var(new))
            stmts.append(dataclasses.replace(d, name=renames[d.name], init=init))
        for load in shape.loads:
            dst, src, size, direction = load.expr.args
            src, size = substitute(src, shape.var, at), substitute(size, shape.var, at)
            for old, new in renames.items():
                src, size = substitute(src, old, Var(new)), substitute(size, old, Var(new))
            target = Var(into[dst.name]) if into is not None else dst
            stmts.append(copy(target, src, size, "GDRAM2NRAM", call="__memcpy_async"))
        return stmts

    element_ptr = {p.name: PointerType(p.type.element) for p in pings}
    views: list[Stmt] = []
    for ping, pong in zip(pings, pongs):
        views.append(Decl(current[ping.name], element_ptr[ping.name],
                          Select(Var(parity), Var(pong.name), Var(ping.name))))
        views.append(Decl(following[ping.name], element_ptr[ping.name],
                          Select(Var(parity), Var(ping.name), Var(pong.name))))
    rest = Block(shape.rest)
    for ping in pings:
        rest = substitute(rest, ping.name, Var(current[ping.name]))
    next_start = BinOp("+", Var(shape.var), shape.stride)
    body = (*shape.prefix, *views, ExprStmt(Call("__sync_io", ())),
            Decl(upcoming, ScalarType(DType.int32, const=True), next_start),
            If(BinOp("<", Var(upcoming), shape.stop), Block(tuple(issue(Var(upcoming), following)))),
            *rest.body, Assign(Var(parity), BinOp("-", Const(1, DType.int32), Var(parity))))
    prologue = If(BinOp("<", shape.start, shape.stop), Block(tuple(issue(shape.start, None))))
    return Block((Decl(parity, INT32, Const(0, DType.int32)), prologue, dataclasses.replace(loop, body=Block(body))))


# ---------------------------------------------------------------- CUDA / HIP: double-buffered shared tiles ---
#
# Preconditions, checked per kernel: a shared-tile step loop (patterns.shared_steps: `for (k0) { <loads>;
# __syncthreads(); <compute>; __syncthreads(); }` at the kernel's top level) whose tiles are used nowhere else,
# whose loads read nothing the compute writes (the next step's loads move before this step's compute) and
# declare nothing the compute uses, and whose doubled tiles fit `shared_limit` bytes. It becomes
#
#     __shared__ T tile[2][...];
#     int parity = 0;
#     if (a < b) { <loads of step a into tile[0]> }
#     __syncthreads();
#     for (int k0 = a; k0 < b; k0 += s) {
#         if (k0 + s < b) { <loads of step k0 + s into tile[1 - parity]> }   // overlaps the compute below
#         <compute on tile[parity]>
#         __syncthreads();     // everyone is done with tile[parity] and the next tiles are stored
#         parity = 1 - parity;
#     }
#
# Step k0's compute reads only tile[parity], which nobody writes during that step, and the loads of step k0 + s
# write only tile[1 - parity], last read by step k0 - s, which ended with a barrier: one barrier per step
# instead of two, and the same arithmetic in the same order, so results are bit for bit the same.


def _pipeline_simt(module: Module, options: PipelineOptions) -> Module:
    reasons: list[str] = []
    changed = module.map_functions(lambda fn: _double_buffer_shared(module, fn, options, reasons)
                                   if fn.body is not None and FuncQual.global_ in fn.qualifiers else fn)
    if changed == module:
        raise PassRefused(NOT_APPLICABLE, "pipeline: no k-loop stages __shared__ tiles that can be double-buffered"
                                          + (f" ({'; '.join(reasons)})" if reasons else ""))
    return changed


def _double_buffer_shared(module: Module, fn: Function, options: PipelineOptions, reasons: list[str]) -> Function:
    for step in shared_steps(fn):
        why = _why_not_double(fn, step, options)
        if why is not None:
            reasons.append(f"{fn.name}: {why}")
            continue
        return _double_shared_step(module, fn, step)
    return fn


def _why_not_double(fn: Function, step: SharedStep, options: PipelineOptions) -> str | None:
    outside = Block(tuple(s for s in fn.body.body if s is not step.loop
                          and not (isinstance(s, Decl) and s.name in step.tiles)))
    if names_in(outside) & step.tiles:
        return "a tile is used outside its k-loop"
    compute = Block(step.compute)
    loads_read = names_in(Block(step.loads)) - step.tiles
    if loads_read & (written_names(compute) | _stored_arrays(compute)):
        return "the loads read what the compute writes"
    if {d.name for d in step.loads if isinstance(d, Decl)} & names_in(compute):
        return "the compute uses a value the loads declare"
    tiles = [s for s in fn.body.body if isinstance(s, Decl) and s.name in step.tiles]
    if sum(_array_bytes(d.type) for d in tiles) + _shared_bytes(fn) > options.shared_limit:
        return f"the doubled tiles do not fit {options.shared_limit} bytes of shared memory"
    return None


def _stored_arrays(node: Node) -> set[str]:
    return {array_base(n.target) for n in walk(node) if isinstance(n, Assign) and isinstance(n.target, Index)}


def _array_bytes(t) -> int:
    if isinstance(t, ArrayType) and isinstance(t.size, Const):
        return int(t.size.value) * _array_bytes(t.element)
    return t.dtype.bits // 8 if isinstance(t, ScalarType) else 0


def _shared_bytes(fn: Function) -> int:
    return sum(_array_bytes(n.type) for n in walk(fn.body) if isinstance(n, Decl) and n.scope == MemScope.shared)


def _double_shared_step(module: Module, fn: Function, step: SharedStep) -> Function:
    view = canonical(step.loop)
    taken = names_taken(module, fn)
    parity = _fresh(f"{view.var}_parity", taken)

    def on_buffer(stmts: tuple[Stmt, ...], which: Expr, at: Expr | None) -> tuple[Stmt, ...]:
        block = transform(Block(stmts), lambda n: Index(n, which) if isinstance(n, Var) and n.name in step.tiles
                          else None)
        return (substitute(block, view.var, at) if at is not None else block).body

    following = BinOp("+", Var(view.var), Const(view.step, DType.int32))
    body = (If(BinOp("<", following, view.stop), Block(on_buffer(step.loads, BinOp("-", Const(1, DType.int32),
                                                                                          Var(parity)), following))),
            *on_buffer(step.compute, Var(parity), None), Barrier(BarrierKind.syncthreads),
            Assign(Var(parity), BinOp("-", Const(1, DType.int32), Var(parity))))
    prologue = (Decl(parity, INT32, Const(0, DType.int32)),
                If(BinOp("<", view.start, view.stop), Block(on_buffer(step.loads, Const(0, DType.int32), view.start))),
                Barrier(BarrierKind.syncthreads), dataclasses.replace(step.loop, body=Block(body)))
    doubled = splice(fn.body, step.loop, prologue)
    stmts = tuple(dataclasses.replace(s, type=ArrayType(s.type, Const(2, DType.int32)))
                  if isinstance(s, Decl) and s.name in step.tiles else s for s in doubled.body)
    return dataclasses.replace(fn, body=Block(stmts))


_RULES = {"bang": _pipeline_bang, "cuda": _pipeline_simt, "hip": _pipeline_simt}  # dialect -> its rule
