"""`cache`: stage the data a bound kernel streams through the target's on-chip memory.

One rule per target (table `_RULES`): BANG below; CUDA/HIP matmul kernels through `__shared__` tiles (section
at the end); cpp has none (the caches are the hardware's). BANG preconditions, checked per loop: a task loop made by `bind`
(`for (int v = a + taskId; v < b; v += taskDim)`, independent iterations) whose body is a map body
(passes/patterns.py: scalar code in which every access is `p[v + offset]`, one invariant offset per
buffer, only pure calls: libm, or helpers proven to touch only their own locals, which stay scalar calls).
Such a loop becomes tiles of `tile` consecutive iterations dealt to the tasks in turn:

    __nram__ float x_nram[tile];                                  // one buffer per GDRAM buffer touched
    for (int t = a + taskId * tile; t < b; t += taskDim * tile) {
        const int count = b - t < tile ? b - t : tile;            // the last tile may be partial
        __memcpy(x_nram, x + off + t, count * sizeof(float), GDRAM2NRAM);   // buffers the body reads
        for (int j = 0; j < count; j += 1) { <body on x_nram[j], ...> }    // `tensorize` turns this into __bang_*
        __memcpy(y + off + t, y_nram, count * sizeof(float), NRAM2GDRAM);   // buffers the body writes
    }

Iteration v only touches element v + offset of each buffer, so regrouping iterations into tiles and running the
body on copies keeps the meaning (distinct buffers are assumed not to alias, as in passes/loops.py). The tile
is shrunk (by halves, to a multiple of 128 elements) until the buffers fit `nram_budget` bytes (and all tiles of
a kernel half of NRAM).

Reductions: a serial unit-step loop (`for (int k = a; k < b; k += 1)`, e.g. over a row inside a task loop) whose
body is a map body over k that writes no memory, only scalars (an accumulator declared outside), and reads
global buffers only (pointer parameters, or local pointers computed from them) is tiled the same way, but its
tiles run in order in the same task (`t += tile`) and nothing is stored back: the accumulator sees the same
elements in the same order, so the results are bit for bit the same. `tensorize` then reduces each tile with
`__bang_sum` / `__bang_max` / `__bang_min`.

A module with no such loop is refused (XP540): the driver then keeps the bound program.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from kernel_ir.ir import (
    ArrayType, Assign, BinOp, Block, BuiltinVar, Call, Cast, Const, Construct, Decl, DType, Expr, ExprStmt, For,
    FuncQual, Function, If, Index, KernelLaunch, MemScope, Module, NamedType, Node, PointerType, ScalarType, Select,
    SizeOf, Stmt, UnaryOp, Var, transform, walk,
)
from passes.base import PassRefused
from passes.loops import (
    canonical, declared_names, fresh_name, names_in, names_taken, strip_casts, substitute, unit_step,
    written_names,
)
from passes.patterns import (
    LIBM_PURE, NRAM_BYTES, TaskLoop, bit_views_as_vars, contraction, fill_statements, fresh_name_in, instantiate,
    map_body, pointer_elements, pure_functions, run_target_rule, stored_arrays, task_loop,
)

NOT_APPLICABLE = "XP540"  # nothing in the module has the shape the pass optimizes
BAD_OPTION = "XP541"  # an option is out of range
INT32 = ScalarType(DType.int32)
CONST_INT32 = ScalarType(DType.int32, const=True)


@dataclass(frozen=True)
class CacheOptions:
    """tile: iterations per tile (a multiple of 128, so every element type fills whole 128-byte vectors);
    nram_budget: bytes of NRAM the tiles may take (the rest is left to tensorize's temporaries and pipeline's
    second buffers)."""

    tile: int = 2048
    nram_budget: int = NRAM_BYTES // 4


def cache(module: Module, options: CacheOptions | None = None) -> Module:
    """`module` (a bound target program) with its streaming loops tiled through on-chip memory."""
    options = options or CacheOptions()
    if options.tile < 128 or options.tile % 128:
        raise PassRefused(BAD_OPTION, f"cache: tile {options.tile} is not a positive multiple of 128")
    return run_target_rule("cache", _RULES, module, options, NOT_APPLICABLE)


def _cache_bang(module: Module, options: CacheOptions) -> Module:
    reasons: list[str] = []
    pure = LIBM_PURE | pure_functions(module)
    changed = module.map_functions(lambda fn: _cache_bang_function(module, fn, options, pure, reasons))
    if changed == module:
        raise PassRefused(NOT_APPLICABLE, "cache: no task loop streams its buffers element by element"
                                          + (f" ({'; '.join(reasons)})" if reasons else ""))
    return changed


def _cache_bang_function(module: Module, fn: Function, options: CacheOptions, pure: frozenset[str],
                         reasons: list[str]) -> Function:
    if fn.body is None or FuncQual.mlu_global not in fn.qualifiers:
        return fn
    taken = names_taken(module, fn)
    elements = pointer_elements(fn)
    buffers: list[Decl] = []

    streams = _streamed_pointers(fn)
    arrays = {n.name for n in walk(fn.body) if isinstance(n, Decl) and isinstance(n.type, ArrayType)
              and n.scope == MemScope.local}
    room = [NRAM_BYTES // 2]  # all tiles of the kernel together: the rest is tensorize's and pipeline's

    def visit(node: Node) -> Node | None:
        if not isinstance(node, For):
            return None
        shape = task_loop(node)
        spread = shape is not None
        private = frozenset(arrays - stored_arrays(node.body))
        if shape is None:
            shape = _read_loop(node)
            if shape is None:
                return None
            body = map_body(node.body.body, shape.var, elements, pure, accumulate=True, private=private)
            if isinstance(body, str) or body.writes or not body.reads <= streams:
                return None
        else:
            body = map_body(node.body.body, shape.var, elements, pure, private=private)
            if isinstance(body, str):
                reasons.append(f"the task loop over {shape.var} {body}")
                return None
        tiled, declared = _tile(shape, body, elements, options, taken, spread, room[0])
        if tiled is None:
            reasons.append(f"the buffers of the loop over {shape.var} do not fit {options.nram_budget} bytes")
            return None
        room[0] -= sum(_decl_bytes(d) for d in declared)
        buffers.extend(declared)
        return tiled

    body = transform(fn.body, visit)
    if not buffers:
        return fn
    return dataclasses.replace(fn, body=Block(tuple(buffers) + body.body))


def _read_loop(loop: For) -> TaskLoop | None:
    """The view of a serial unit-step loop (`for (int k = a; k < b; k += 1)`), or None."""
    view = canonical(loop)
    if view is None or view.step != 1 or not isinstance(loop.init[0].type, ScalarType) \
            or not loop.init[0].type.dtype.is_int or (names_in(view.start) | names_in(view.stop)) & written_names(bit_views_as_vars(loop.body)):
        return None
    return TaskLoop(loop, view.var, loop.init[0].type, view.start, view.stop)


def _streamed_pointers(fn: Function) -> set[str]:
    """Pointers into global memory: pointer parameters, and local pointers computed from them only."""
    params = {p.name for p in fn.params if isinstance(p.type, PointerType)}
    locals_ = {n.name for n in walk(fn.body) if isinstance(n, Decl) and isinstance(n.type, PointerType)
               and n.init is not None and names_in(n.init) & params and not any(
                   isinstance(m, (Call, Index)) or isinstance(m, UnaryOp) and m.op == "&" for m in walk(n.init))}
    return params | {name for name in locals_ if sum(isinstance(n, Decl) and n.name == name for n in walk(fn.body)) == 1
                     and name not in written_names(fn.body)}


def _decl_bytes(d: Decl) -> int:
    return int(d.type.size.value) * (d.type.element.dtype.bits // 8)


def _tile(shape: TaskLoop, body, elements: dict[str, ScalarType], options: CacheOptions,
          taken: set[str], spread: bool, room: int) -> tuple[For | None, list[Decl]]:
    """The loop regrouped into tiles staged in NRAM: dealt to the tasks in turn when `spread` (a task loop), run
    in order otherwise (a reduction's loop: its accumulator sees the elements in the same order)."""
    names = sorted(body.offsets)
    row_bytes = sum(elements[n].dtype.bits // 8 for n in names)
    budget = min(options.nram_budget, room)
    tile = options.tile
    while tile * row_bytes > budget and tile > 128:
        tile = max(128, tile // 2 // 128 * 128)
    if tile * row_bytes > budget:
        return None, []

    def fresh(base: str) -> str:
        name = fresh_name(base, taken)
        taken.add(name)
        return name

    nram = {n: fresh(f"{n}_nram") for n in names}
    t, j, count = fresh(f"{shape.var}_tile"), fresh(f"{shape.var}_lane"), fresh(f"{shape.var}_count")
    declared = [Decl(nram[n], ArrayType(dataclasses.replace(elements[n], const=False), Const(tile, DType.int32)),
                     scope=MemScope.nram) for n in names]
    size = Const(tile, DType.int32)
    remaining = BinOp("-", shape.stop, Var(t))
    stmts: list[Stmt] = [Decl(count, CONST_INT32, Select(BinOp("<", remaining, size), remaining, size))]

    def gdram(n: str) -> Expr:
        off = body.offsets[n]
        at = Var(t) if off == Const(0, DType.int32) else BinOp("+", off, Var(t))
        return BinOp("+", Var(n), at)

    def nbytes(n: str) -> Expr:
        return BinOp("*", Var(count), SizeOf(dataclasses.replace(elements[n], const=False)))

    stmts += [copy(Var(nram[n]), gdram(n), nbytes(n), "GDRAM2NRAM") for n in names if n in body.reads]
    stmts.append(For((Decl(j, INT32, Const(0, DType.int32)),), BinOp("<", Var(j), Var(count)), unit_step(j),
                     Block(_lane_body(shape, nram, Var(t), j))))
    stmts += [copy(gdram(n), Var(nram[n]), nbytes(n), "NRAM2GDRAM") for n in names if n in body.writes]
    if spread:
        first = BinOp("*", BuiltinVar("taskId"), size)
        start = first if shape.start == Const(0, DType.int32) else BinOp("+", shape.start, first)
        stride: Expr = BinOp("*", BuiltinVar("taskDim"), size)
    else:
        start, stride = shape.start, size
    loop = For((Decl(t, shape.type, start),), BinOp("<", Var(t), shape.stop), Assign(Var(t), stride, "+"),
               Block(tuple(stmts)), pragmas=shape.loop.pragmas)
    return loop, declared


def _lane_body(shape: TaskLoop, nram: dict[str, str], tile_start: Expr, lane: str) -> tuple[Stmt, ...]:
    """The loop body on the tile's NRAM copies: p[v + off] -> p_nram[lane]; v itself -> tile start + lane."""
    def visit(node: Node) -> Node | None:
        if isinstance(node, Index) and isinstance(node.base, Var) and node.base.name in nram:
            return Index(Var(nram[node.base.name]), Var(lane))
        return None

    stmts = tuple(transform(s, visit) for s in shape.loop.body.body)
    if shape.var in names_in(Block(stmts)):  # the body also uses the element number as a value
        stmts = (Decl(shape.var, shape.type, BinOp("+", tile_start, Var(lane))),) + stmts
    return stmts


def copy(dst: Expr, src: Expr, size: Expr, direction: str, call: str = "__memcpy") -> ExprStmt:
    """`__memcpy(dst, src, bytes, DIRECTION)` (BANG's one copy primitive for every memory pair)."""
    return ExprStmt(Call(call, (dst, src, size, Var(direction))))


# ---------------------------------------------------------------- CUDA / HIP: shared-memory tiles ------------
#
# Preconditions, checked per kernel: the body is what `bind` makes of two nested parallel loops, one thread per
# (i, j) (`flat = blockIdx.x * blockDim.x + threadIdx.x; if (flat < P * Q) { int i = flat / Q; int j = flat % Q;
# ... }`), and the thread's work is `<declarations that read no memory>; T acc = c; for (k) acc += f(X[x]) *
# g(Y[y]); <rest>` where x does not use j and y does not use i (a matmul row and column operand). The kernel
# becomes 16 x 16 thread blocks; each step of k stages a 16 x 16 tile of X and one of Y in __shared__ memory
# (every thread loads one element of each, zero past the edges), `__syncthreads()`, then every thread runs the
# original statement on the tiles for the k of that step (fewer on the last: K % 16 is handled), and <rest> runs
# for threads inside P x Q. Products are summed in the same order as before, so results are bit for bit equal.
# Every launch of the kernel gets the 2-D grid.

SHARED_TILE = 16
_SHARED = """
__device__ void XP_PREFIX();
__device__ void XP_BODY();
__device__ void XP_REST();
__device__ void xp_tiled(int P, int Q, int KS, int KSTOP, {a} AV, {b} BV) {{
    __shared__ {a} tile_a[16][16];
    __shared__ {b} tile_b[16][16];
    const int ty = threadIdx.y;
    const int tx = threadIdx.x;
    int i = blockIdx.y * 16 + ty;
    int j = blockIdx.x * 16 + tx;
    XP_PREFIX();
    for (int k0 = KS; k0 < KSTOP; k0 += 16) {{
        const int ka = k0 + tx;
        const int kb = k0 + ty;
        tile_a[ty][tx] = i < P && ka < KSTOP ? AV : ({a})0;
        tile_b[ty][tx] = kb < KSTOP && j < Q ? BV : ({b})0;
        __syncthreads();
        const int kc = KSTOP - k0 < 16 ? KSTOP - k0 : 16;
        for (int kk = 0; kk < kc; kk += 1) {{
            XP_BODY();
        }}
        __syncthreads();
    }}
    if (i < P && j < Q) {{
        XP_REST();
    }}
}}
"""
_C_TYPES = {DType.uint8: "unsigned char", DType.int8: "signed char", DType.int16: "short", DType.int32: "int",
            DType.float16: "__half", DType.float32: "float", DType.float64: "double"}


def _cache_simt(module: Module, options: CacheOptions) -> Module:
    reasons: list[str] = []
    tiled: dict[str, tuple[Function, Expr, Expr]] = {}
    for fn in module.functions:
        if fn.body is not None and FuncQual.global_ in fn.qualifiers:
            found = _shared_tiles(module, fn)
            if isinstance(found, str):
                reasons.append(f"{fn.name}: {found}")
            else:
                tiled[fn.name] = found
    if not tiled:
        raise PassRefused(NOT_APPLICABLE, "cache: no kernel computes one matmul element per thread"
                                          + (f" ({'; '.join(reasons)})" if reasons else ""))
    changed = module.map_functions(lambda fn: tiled[fn.name][0] if fn.name in tiled and fn.body is not None
                                   and FuncQual.global_ in fn.qualifiers else _relaunch(fn, module, tiled))
    return changed


def _shared_tiles(module: Module, fn: Function) -> tuple[Function, Expr, Expr] | str:
    """(the tiled kernel, rows P, columns Q) or why the kernel has not the one-thread-per-element matmul shape."""
    body = fn.body.body
    if len(body) != 2 or not isinstance(body[0], Decl) or not isinstance(body[1], If) or body[1].otherwise:
        return "not one guarded thread per element"
    flat, guard = body[0].name, body[1]
    extent = strip_casts(guard.cond.rhs) if isinstance(guard.cond, BinOp) and guard.cond.op == "<" \
        and guard.cond.lhs == Var(flat) else None
    stmts = guard.then.body
    if not isinstance(extent, BinOp) or extent.op != "*" or len(stmts) < 4:
        return "not one guarded thread per element"
    rows, cols = strip_casts(extent.lhs), strip_casts(extent.rhs)
    i_decl, j_decl = stmts[0], stmts[1]
    if not (isinstance(i_decl, Decl) and isinstance(j_decl, Decl) and i_decl.init is not None
            and j_decl.init is not None
            and strip_casts(i_decl.init) == BinOp("/", Var(flat), cols)
            and strip_casts(j_decl.init) == BinOp("%", Var(flat), cols)):
        return "its threads are not (row, column) pairs"
    at = next((n for n, s in enumerate(stmts) if isinstance(s, For)), None)
    if at is None or at < 3 or not isinstance(stmts[at - 1], Decl):
        return "no reduction loop"
    prefix, acc_decl, loop, rest = stmts[2:at - 1], stmts[at - 1], stmts[at], stmts[at + 1:]
    found = contraction(loop, pointer_elements(fn))
    if found is None or found.acc != acc_decl.name or acc_decl.init is None:
        return "the loop is not a sum of products of two buffers"
    if any(_reads(d) for d in prefix + (acc_decl,)) or not all(isinstance(d, Decl) for d in prefix):
        return "statements before the reduction read memory"
    i, j, k = i_decl.name, j_decl.name, found.k
    local = declared_names(Block(prefix))
    by_role = {}
    for operand in (found.lhs, found.rhs):
        used = names_in(operand.index)
        if used & local or operand.dtype not in _C_TYPES:
            return "an operand is indexed by a value computed in the thread"
        if j not in used:
            by_role.setdefault("row", operand)
        elif i not in used:
            by_role.setdefault("col", operand)
    if len(by_role) != 2 or k in names_in(found.start) | names_in(found.stop):
        return "the operands are not a row of one matrix and a column of the other"
    row, col = by_role["row"], by_role["col"]
    taken = names_taken(module, fn)
    names = {name: fresh_name_in(f"{name}", taken) for name in ("tile_a", "tile_b", "ty", "tx", "k0", "ka", "kb",
                                                                "kk")}
    names.update(i=i, j=j)
    template = _SHARED.format(a=_C_TYPES[row.dtype], b=_C_TYPES[col.dtype])
    values = {"P": rows, "Q": cols, "KS": found.start, "KSTOP": found.stop,
              "AV": Index(Var(row.name), substitute(row.index, k, Var(names["ka"]))),
              "BV": Index(Var(col.name), substitute(col.index, k, Var(names["kb"])))}
    kernel = Block(instantiate(template, module.dialect, values, names, taken))
    on_tiles = {Index(Var(row.name), row.index): Index(Index(Var(names["tile_a"]), Var(names["ty"])),
                                                       Var(names["kk"])),
                Index(Var(col.name), col.index): Index(Index(Var(names["tile_b"]), Var(names["kk"])),
                                                       Var(names["tx"]))}
    step = transform(loop.body, lambda n: on_tiles.get(n))
    step = substitute(step, k, BinOp("+", Var(names["k0"]), Var(names["kk"])))
    for placeholder, stmts_in in (("XP_PREFIX", prefix + (acc_decl,)), ("XP_BODY", step.body), ("XP_REST", rest)):
        kernel = fill_statements(kernel, placeholder, stmts_in)
    return dataclasses.replace(fn, body=kernel), rows, cols


def _relaunch(fn: Function, module: Module, tiled: dict) -> Function:
    """fn with every launch of a tiled kernel given 16 x 16 blocks over (columns, rows)."""
    if fn.body is None:
        return fn

    def visit(node: Node) -> Node | None:
        if not isinstance(node, KernelLaunch) or node.kernel not in tiled:
            return None
        kernel, rows, cols = tiled[node.kernel]
        env = {p.name: a for p, a in zip(kernel.params, node.args)}
        tile = Const(SHARED_TILE, DType.int32)

        def blocks(extent: Expr) -> Expr:
            bound = transform(extent, lambda n: env.get(n.name) if isinstance(n, Var) else None)
            return Cast(ScalarType(DType.uint32), BinOp("/", BinOp("+", bound, Const(SHARED_TILE - 1, DType.int32)),
                                                        tile))
        dim3 = NamedType("dim3")
        config = dataclasses.replace(node.config, grid=Construct(dim3, (blocks(cols), blocks(rows))),
                                     block=Construct(dim3, (tile, tile)))
        return dataclasses.replace(node, config=config)

    return dataclasses.replace(fn, body=transform(fn.body, visit))


def _reads(d: Decl) -> bool:
    return d.init is not None and any(isinstance(n, (Index, Call)) or isinstance(n, UnaryOp) and n.op == "*"
                                      for n in walk(d.init))


_RULES = {"bang": _cache_bang, "cuda": _cache_simt, "hip": _cache_simt}  # dialect -> its rule
