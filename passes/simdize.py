"""simdize: the thread loops of a CUDA/HIP block, as the loop form keeps them, become innermost SIMD loops (cpp).

Why: recover_loops turns a thread block into `for blocks { phase; phase; ... }`, each phase a thread loop nest
`for ty { for tx { BODY } }` whose body is what one GPU thread runs. On a CPU the thread loops are then the
OUTER loops, so each "thread" runs the long serial loops (k, i, j) alone, with scalar, strided accesses, and
nothing vectorizes (translated gemm ran at 1/50 of numpy). CPU back ends of CUDA lower SIMT to SIMD the other
way round, and so does this pass, phase by phase:
- within one phase the iterations of the thread loops are independent (CUDA: a value one thread writes and
  another reads in the same phase is a data race; atomics commute), so the innermost thread loop (tx: the SIMD
  lanes; ty and tz stay around the phase) is distributed over the statements of its body and moved inward past
  serial loops whose headers are the same for every thread: `for t { for k { S1; S2 } }` ->
  `for k { for t { S1 } for t { S2 } }`, recursively, until it wraps runs of straight-line statements;
- thread counts known at translation time (`const int xp_block_x = (int)block_x;`, `block_x = TX`) and integer
  globals (`constexpr int THREADS = TX * TY;`) are written as literals in the block, so the compiler sees fixed
  trip counts and array sizes;
- a grid-stride loop `for (c = t + a; c < n; c += s)` becomes `for (c0 = a; c0 < n; c0 += s)` with the thread's
  `c = c0 + t` guarded by `c < n`; where c0 is provably a non-negative multiple of the lane count L (a, s) the
  lanes' `c / d` and `c % d` (d a multiple of L) become `c0 / d` and `c0 % d + t` (a tile load is contiguous,
  not a gather), and where n is a multiple of L too the guard goes; a thread-dependent `if (..) { ..; continue; }`
  or an `if` around loops becomes a per-thread predicate (`bool xp_active = ...`; kept per lane as an int array)
  guarding what follows, so the loops inside still sink; a declaration under it whose value is arithmetic that
  cannot trap, on values every lane has, is computed on every lane (on_every_lane);
- a variable declared in the body and used by two of the new thread loops gets one element per thread (scalar
  expansion) with the thread dimension LAST, declared before the nest; so do the block's per-thread arrays
  (`acc[thread][i][j]` -> `acc[i][j][thread]`), so the innermost thread loop walks contiguous memory; a
  per-thread array holding a function of the thread indices only (`tx[t] = xp_tx`) is recomputed where read;
  a variable every lane sets to the same values (`a_frag[i] = As[k][ty + 16 * i]`) stays one variable, set
  once outside the lane loop and read by the lanes as a broadcast;
- a register tile accumulated over a serial loop k (`for k { a[i] = ..; b[j] = ..; for i, j: acc[i][j] +=
  a[i] * b[j] }`, the lane loop innermost) gets k inside its tile loops, the fragments' values substituted for
  their reads, when that is provably exact (_accumulators_in_registers); a tile of constant size that fits the
  vector registers moves into the lane loop whole, one scalar sum per element and lane around k (a vector
  register each: 16 sums of 16 lanes take 16 of AVX-512's registers, and each operand loaded serves a row or
  a column of them); a bigger tile keeps its loops, and a k the source unrolls is written out inside the lane
  loop, summing into one scalar per lane;
- a loop body whose SIMD loops test bounds (`gr < M && gk < K ? A[..] : 0`) runs in a version without the tests
  where they provably hold for the whole body (`m0 + 63 < M`), found by enumerating the constant loops
  (_bounds_versioned): the interior tiles load without masks;
- an on-chip tile the lanes read only as a broadcast (gemm's transposed A slab) is read where its fill read
  it, and the fill, a scatter, goes (_broadcast_tiles_read_at_source);
- the innermost thread loop around straight-line statements is marked `vectorized` (the cpp printer writes
  `#pragma omp simd`).
What cannot sink stays whole in one thread loop (thread-dependent loops, while loops, calls with effects); a
phase with a barrier, an early `return` or `break`, a warp intrinsic, or a block variable it both writes and
reads other than in the thread's own slot (warp-synchronous code) is left as it was: the pass never refuses.
Works on the loop form (before bind), for the cpp target.
"""
from __future__ import annotations

import dataclasses
import functools
import itertools
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import sympy

from kernel_ir.ir import (ArrayType, Assign, Barrier, BinOp, Block, Break, Call, Case, Cast, Const, Continue, Decl,
                          DoWhile, DType, Expr, For, ForKind, Function, If, Index, InitList, KernelLaunch, MemScope,
                          MethodCall, Module, Node, PointerType, Pragma, RawExpr, RawStmt, Return, ScalarType, Select, Stmt, Switch,
                          UnaryOp, Var,
                          VectorType, Verbatim, While, children, transform, walk)
from passes.inline import fold
from passes.loops import (ASSIGN_OPS, PURE_CALLS, canonical, exits_at_level, fresh_name, from_sympy, names_in,
                          int_value, simplify_int, store_targets, stored_names, stores_stay_private, substitute,
                          symbol, to_sympy, types_and_private_arrays, without_effects, written_names)

_BOOL = ScalarType(DType.bool)
_INT = ScalarType(DType.int32)
_WARP_CALLS = ("__shfl", "__ballot", "__any", "__all", "__activemask", "__syncwarp", "__match", "__reduce")
_NOT_STRAIGHT = (For, While, DoWhile, Switch, Case, Break, Continue, Return, Pragma, RawStmt, RawExpr, MethodCall,
                 Barrier, KernelLaunch)
_SAFE_EXPR = (Var, Const, BinOp, UnaryOp, Cast, ScalarType, PointerType)
_VALUE_TYPES = (ScalarType, PointerType, VectorType)  # declared now, assigned later: what scalar expansion can split
_MAX_UNROLLED = 64  # steps of an unrolled accumulation written out one by one


@dataclass(frozen=True)
class SimdizeOptions:
    mark_simd: bool = True  # mark the innermost thread loops `vectorized` (False: only reorder the loops)
    # bytes of vector registers a register tile's sums may take (the rest hold the operands): 16 of AVX-512's 32
    # zmm by default; 8 of AVX2's 16 ymm is 256 (a tuning knob, translate's `sum_registers`)
    register_bytes: int = 16 * 64
    # bytes of one vector register: a register tile whose lanes fill several runs them in chunks of one register,
    # so that each sum takes one register (otherwise 16 float lanes take 2 ymm per sum, 64 take 4 zmm)
    vector_bytes: int = 64


def simdize(module: Module, options: SimdizeOptions = SimdizeOptions()) -> Module:
    return simdize_and_report(module, options)[0]


def simdize_and_report(module: Module, options: SimdizeOptions = SimdizeOptions()) -> tuple[Module, list[str]]:
    """The module with its block loops' thread nests reordered, and one note per function that changed."""
    notes: list[str] = []

    def rewrite(fn: Function) -> Function:
        if fn.body is None:
            return fn
        taken = names_in(fn) | {n.name for n in walk(fn) if isinstance(n, Decl)} | {p.name for p in fn.params}
        known = _known_constants(module, fn)
        counts = [0]

        def block_loop(node: Node) -> Node | None:
            if not (_is_axis_loop(node, "blockIdx") and not _is_axis_loop(_only(node.body), "blockIdx")):
                return None
            body, changed = _Block(_with_constants(node.body, known), taken, options).run()
            counts[0] += changed
            return dataclasses.replace(node, body=body) if changed else node

        body = transform(fn.body, block_loop, top_down=True)
        if counts[0]:
            notes.append(f"{fn.name}: {counts[0]} thread loop nest(s) made innermost")
        return dataclasses.replace(fn, body=body) if counts[0] else fn

    rewritten = module.map_functions(rewrite)
    if rewritten is not module:
        rewritten = rewritten.map_functions(lambda f: f if f.body is None else _guarded_updates_as_selects(
            _unit_stride_versions(_invariant_loads_hoisted(dataclasses.replace(f, body=transform(transform(transform(
                transform(transform(f.body, _full_tile_version), _butterfly_as_tree), _bounds_versioned,
                top_down=True), _broadcast_tiles_read_at_source), _thread_strided_loops_collapsed))))))
    return _vector_math_declared(_min_max_as_selects(rewritten)), notes


def _full_tile_version(node: Node) -> Node | None:
    """A SIMD loop over L lanes whose lanes guard their work by a grid-stride tail test (`int c = c0 + t;
    bool a = c < n;`) runs in two versions: when the whole tile is inside (c0 + L <= n) the guard is `true`, so
    g++ neither masks the loads and stores nor gives up on calls that only have unmasked vector versions (expf);
    the last, partial tile keeps the guard. Same statements, so the same results."""
    shape = canonical(node) if isinstance(node, For) and node.kind == ForKind.vectorized else None
    if shape is None or shape.start != Const(0, DType.int32) or shape.step != 1 or not isinstance(shape.stop, Const):
        return None
    body = node.body.body
    index = next((d for d in body if isinstance(d, Decl) and isinstance(d.init, BinOp) and d.init.op == "+"
                  and d.init.rhs == Var(shape.var)), None)
    guard = next((d for d in body if isinstance(d, Decl) and index is not None and isinstance(d.init, BinOp)
                  and d.init.op == "<" and d.init.lhs == Var(index.name)), None)
    if guard is None:
        return None
    written = written_names(node.body) | {d.name for d in walk(node.body) if isinstance(d, Decl)}
    first, end = index.init.lhs, guard.init.rhs
    if (names_in(first) | names_in(end)) & written or shape.var in names_in(first) | names_in(end):
        return None
    full = BinOp("<=", BinOp("+", first, shape.stop), end)
    unguarded = dataclasses.replace(node, body=Block(tuple(
        dataclasses.replace(d, init=Const(True, DType.bool)) if d is guard else d for d in body)))
    return If(full, Block((unguarded,)), Block((node,)), likely=True)


_COMPARISONS = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}  # operator -> its negation
_MAX_POINTS = 1 << 14  # iterations enumerated to bound a test over a nest


def _bounds_versioned(node: Node) -> Node | None:
    """The body of a loop around SIMD loops whose bounds tests (`gr < M && gk < K ? A[..] : 0`, `if (c < N)`,
    `if (ih < 0 || ih >= H) continue;`) have one outcome over the whole body when a test of values the body
    does not change holds (`m0 + 63 < M`) runs in two versions: a fast one without those tests, where that test
    holds (the interior tiles of a padded tile load: no masks, contiguous loads and stores), and the body as it
    was. The fast version is versioned again inside (the next loop's tests); a loop whose body is just another
    loop is left to that loop (a perfect nest stays perfect, for `collapse`).

    A test's two sides are split into terms; the terms with the loop variables of the body (its constant locals
    written out) must be free of everything else, and their extreme over the body's iterations is found by
    enumerating them (constant bounds, at most _MAX_POINTS). Tests in `&&` chains of a select's or `if`'s
    condition must hold; in `||` chains of an `if` that only leaves (continue, break, return) must fail."""
    if not (isinstance(node, For) and node.kind != ForKind.vectorized and canonical(node) is not None
            and not isinstance(_only(node.body), For)
            and any(isinstance(n, For) and n.kind == ForKind.vectorized for n in walk(node.body))):
        return None
    region = node.body
    written = written_names(region) | {d.name for d in walk(region) if isinstance(d, Decl)}
    locals_ = _constant_locals(region)
    settled: dict[int, bool] = {}  # id of a test -> its outcome over the whole body
    unsettled: set[int] = set()  # a test (the same node may sit in two places) with a place it is not settled
    holds: dict[tuple, int] = {}  # (p, q) -> the largest c of the tests `sum(p) - sum(q) + c < 0` needed
    for test, wanted, loops in _bounds_tests(region, []):
        found = _settled_by(test, wanted, loops, locals_, written)
        if found is None or not (found[0] or found[1]) and found[2] >= 0 \
                or settled.get(id(test), wanted) != wanted:
            unsettled.add(id(test))  # unknown, or a test of the loop variables alone that can fail
            continue
        settled[id(test)] = wanted
        p, q, c = found
        if p or q:
            holds[p, q] = max(c, holds.get((p, q), c))
    settled = {k: v for k, v in settled.items() if k not in unsettled}
    if not settled:
        return None
    fast = transform(fold(transform(transform(region, lambda n: _without_settled(n, settled), top_down=True),
                                    _simplified_logic)), _bounds_versioned, top_down=True)
    if not holds:  # every settled test holds whatever the invariants are
        return dataclasses.replace(node, body=fast)
    tests = [BinOp("<", _sum(list(p), max(c, 0)), _sum(list(q), max(-c, 0))) for (p, q), c in holds.items()]
    full = tests[0]
    for t in tests[1:]:
        full = BinOp("&&", full, t)
    return dataclasses.replace(node, body=Block((If(full, fast, region, likely=True),)))


def _constant_locals(region: Node) -> dict[str, Expr]:
    """The locals of region declared with an initial value of arithmetic only and never assigned again, each
    name declared the same way wherever it is (a name declared two ways in two scopes is not one value)."""
    inits: dict[str, set[Expr | None]] = {}
    for d in walk(region):
        if isinstance(d, Decl):
            inits.setdefault(d.name, set()).add(d.init)
    again = written_names(region)
    return {name: init for name, (init,) in ((n, i) for n, i in inits.items() if len(i) == 1)
            if init is not None and _is_safe(init) and name not in again}


def _bounds_tests(node: Node, loops: list[For]):
    """(test, wanted outcome, enclosing loops) of each comparison in a position _bounds_versioned settles (in a
    SIMD loop: elsewhere a test costs a branch, not a mask)."""
    if isinstance(node, For):
        loops = [*loops, node]
    conds: list[tuple[Expr, bool]] = []
    if not any(lp.kind == ForKind.vectorized for lp in loops):
        pass
    elif isinstance(node, Select):
        conds.append((node.cond, True))
    elif isinstance(node, If):
        leaves = node.otherwise is None and len(node.then.body) == 1 \
            and isinstance(node.then.body[0], (Continue, Break, Return))
        conds.append((node.cond, not leaves))
    elif isinstance(node, (Decl, Assign)):  # a lane's predicate: `a = b && !(ih < 0 || ih >= H)`
        value = node.init if isinstance(node, Decl) else node.value
        if isinstance(value, BinOp) and value.op == "&&" or isinstance(value, UnaryOp) and value.op == "!":
            conds.append((value, True))
    for cond, wanted in conds:
        for term, outcome in _tests_for(cond, wanted):
            yield term, outcome, loops
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        for child in (value if isinstance(value, tuple) else (value,)):
            if isinstance(child, Node):
                yield from _bounds_tests(child, loops)


def _tests_for(e: Expr, wanted: bool):
    """(comparison, outcome) pairs that, all met, give e the outcome `wanted`: through `&&` for true, `||` for
    false, and `!`."""
    if isinstance(e, BinOp) and e.op == ("&&" if wanted else "||"):
        yield from _tests_for(e.lhs, wanted)
        yield from _tests_for(e.rhs, wanted)
    elif isinstance(e, UnaryOp) and e.op == "!":
        yield from _tests_for(e.operand, not wanted)
    elif isinstance(e, BinOp) and e.op in _COMPARISONS:
        yield e, wanted


def _settled_by(test: BinOp, wanted: bool, loops: list[For], locals_: dict[str, Expr], written: set[str]) \
        -> tuple[tuple[Expr, ...], tuple[Expr, ...], int] | None:
    """(p, q, c) such that `sum(p) - sum(q) + c < 0`, a test of values the loops do not change, makes `test`
    `wanted` at every iteration of `loops`; None when there is no such test."""
    op = test.op if wanted else _COMPARISONS[test.op]
    loops = [lp for lp in loops if canonical(lp) is not None]  # another loop's variables are among `written`
    loop_vars = {canonical(lp).var for lp in loops}
    varying, fixed, constant = [], [], 0
    for sign, term in [*_signed_terms(test.lhs, 1, locals_), *_signed_terms(test.rhs, -1, locals_)]:
        names = names_in(term)
        if names and names <= loop_vars:
            varying.append((sign, term))
        elif names & (written | loop_vars) or not _is_safe(term):
            return None
        elif (value := int_value(term, {})) is not None:
            constant += sign * value
        else:
            fixed.append((sign, term))
    if not varying:
        return None
    needed = set().union(*(names_in(t) for _, t in varying))
    for lp in reversed(loops):  # the loops the terms' values depend on, through the bounds of inner ones too
        view = canonical(lp)
        if view.var in needed:
            needed |= names_in(view.start) | names_in(view.stop)
    points = list(_points([lp for lp in loops if canonical(lp).var in needed], [t for _, t in varying]))
    if not points or None in points:
        return None
    values = [sum(sign * v for (sign, _), v in zip(varying, point)) for point in points]
    # lhs - rhs = varying + p - q + constant: `<`/`<=` must hold at the largest varying part, `>`/`>=` at the
    # smallest; as `p - q + c < 0` (ints: `x <= 0` is `x - 1 < 0`, `x > 0` is `-x < 0`)
    p = tuple(t for sign, t in fixed if sign > 0)
    q = tuple(t for sign, t in fixed if sign < 0)
    if op in ("<", "<="):
        return p, q, max(values) + constant - (op == "<=")
    return q, p, -(min(values) + constant) - (op == ">=")


def _signed_terms(e: Expr, sign: int, locals_: dict[str, Expr], depth: int = 0) -> list[tuple[int, Expr]]:
    """e as a signed sum of terms, through + and - and the constant locals it names (written out)."""
    if isinstance(e, BinOp) and e.op in ("+", "-"):
        return [*_signed_terms(e.lhs, sign, locals_, depth),
                *_signed_terms(e.rhs, sign if e.op == "+" else -sign, locals_, depth)]
    if isinstance(e, Var) and e.name in locals_ and depth < 16:
        return _signed_terms(locals_[e.name], sign, locals_, depth + 1)
    if depth < 16 and names_in(e) & set(locals_):
        return [(sign, _expanded(e, locals_))]
    return [(sign, e)]


def _expanded(e: Expr, locals_: dict[str, Expr], depth: int = 0) -> Expr:
    if depth >= 16:
        return e
    return transform(e, lambda n: _expanded(locals_[n.name], locals_, depth + 1)
                     if isinstance(n, Var) and n.name in locals_ else None)


def _points(loops: list[For], terms: list[Expr]):
    """Each term's value at each iteration of the nest `loops` (constant bounds), or one None when unknown."""
    views = [canonical(lp) for lp in loops]
    count = [0]

    def walk_levels(level: int, env: dict[str, int]):
        if level == len(views):
            count[0] += 1
            yield [int_value(t, env) for t in terms]
            return
        view = views[level]
        first, stop = int_value(view.start, env), int_value(view.stop, env)
        if first is None or stop is None or view.step <= 0 or count[0] > _MAX_POINTS:
            yield [None]
            return
        for v in range(first, stop, view.step):
            yield from walk_levels(level + 1, {**env, view.var: v})

    for point in walk_levels(0, {}):
        if None in point or count[0] > _MAX_POINTS:
            yield None
            return
        yield point


def _sum(terms: list[Expr], constant: int) -> Expr:
    out: Expr | None = None
    for t in [*terms, *([Const(constant, DType.int32)] if constant or not terms else [])]:
        out = t if out is None else BinOp("+", out, t)
    return out


def _without_settled(n: Node, settled: dict[int, bool]) -> Node | None:
    """n with each settled test its outcome (bottom-up: the logic around it simplified)."""
    if isinstance(n, BinOp) and id(n) in settled:
        return Const(settled[id(n)], DType.bool)
    return None


def _simplified_logic(n: Node) -> Node | None:
    """`true && x` -> x, `false || x` -> x, `!true` -> false and the like (the operands are tests: no effects)."""
    if isinstance(n, UnaryOp) and n.op == "!" and isinstance(n.operand, Const) and isinstance(n.operand.value, bool):
        return Const(not n.operand.value, DType.bool)
    if isinstance(n, BinOp) and n.op in ("&&", "||"):
        neutral = n.op == "&&"
        for own, other in ((n.lhs, n.rhs), (n.rhs, n.lhs)):
            if isinstance(own, Const) and own.value is neutral:
                return other
            if isinstance(own, Const) and own.value is (not neutral):
                return Const(not neutral, DType.bool)
    return None


def _thread_strided_loops_collapsed(node: Node) -> Node | None:
    """In a block, a thread loop whose body is only block-strided loops, `for (ty = 0; ty < T; ty++) for (e =
    ty * L; e < n; e += T * L) S(e)` (a tile load shared out over the block's threads, each SIMD lane loop
    covering L elements), becomes `for (e = 0; e < n; e += L) S(e)`: the same iterations, those of each thread
    still in their order; only the threads interleave, which a phase allows (no thread reads what another
    writes in it).

    Why: g++ turns each 16-lane copy of gemm's tile load into its own loop nest with a division and a
    multiplication per row; one loop over the whole tile copies it in half the time (gemm: 1.0 -> 0.65 ms of
    the tile loads, AVX2 EPYC, session 17). Only where S names neither the thread index nor an exit."""
    if not isinstance(node, Block) or not any(_strided_over_threads(s) for s in node.body):
        return None
    return Block(tuple(itertools.chain.from_iterable(_strided_over_threads(s) or (s,) for s in node.body)))


def _strided_over_threads(node: Stmt) -> tuple[For, ...] | None:
    """The loops of a thread loop made only of block-strided loops, each over the whole range (None: not one)."""
    if not (isinstance(node, For) and node.kind == ForKind.parallel and (node.axis or "").startswith("threadIdx")):
        return None
    thread = canonical(node)
    threads = int_value(thread.stop, {}) if thread is not None and thread.step == 1 \
        and thread.start == Const(0, DType.int32) else None
    if not threads or not node.body.body:
        return None
    collapsed = []
    for loop in node.body.body:
        view = canonical(loop) if isinstance(loop, For) else None
        start = view.start if view is not None else None
        lanes = next((int_value(side, {}) for side, other in ((start.lhs, start.rhs), (start.rhs, start.lhs))
                      if other == Var(thread.var)), None) \
            if isinstance(start, BinOp) and start.op == "*" else None
        if not lanes or lanes <= 0 or view.step != threads * lanes or thread.var in names_in(loop.body) \
                or thread.var in names_in(view.stop) \
                or any(isinstance(n, (Break, Continue, Return)) for n in walk(loop.body)):
            return None
        collapsed.append(dataclasses.replace(
            loop, init=(dataclasses.replace(loop.init[0], init=Const(0, DType.int32)),),
            step=Assign(Var(view.var), Const(lanes, DType.int32), "+"), kind=ForKind.serial, pragmas=()))
    return tuple(collapsed)


def _broadcast_tiles_read_at_source(node: Node) -> Node | None:
    """A block declaring an on-chip tile (`float As[16][64];`) that a later statement fills from memory
    (`As[k][r] = A[(m0 + r) * K + k0 + k]`, every element, in a nest of constant bounds) and that the statements
    after the fill read only as lane-invariant elements (`As[k][ty + 16]`, a broadcast to the SIMD lanes) reads
    those elements where the fill read them, and the fill and the tile go.

    Why: on a CPU the tile is a copy in the cache the hardware already manages. A broadcast read costs the same
    from either place, but the copy does not: the fill is a transposition (scattered stores), which cost gemm
    as much time as its arithmetic. Tiles read per lane (`Bs[k][tx]`) stay: contiguous vectors of a packed
    copy read faster than strided rows of the source.

    The same values: the fill writes every element of the tile with a value of the element's indices and of
    values nothing in the block writes (its sources included), so a read of element (a, b) after it is that
    value at (a, b); and the fill evaluated it there itself, so no new address is read. A value under a test
    (`gr < M ? A[..] : 0`, the edge tiles _bounds_versioned leaves) stays in its tile: a select in the lanes' loop
    kept g++ 12 from vectorizing it at all."""
    if not isinstance(node, Block):
        return None
    out = node
    for decl in node.body:
        if isinstance(decl, Decl) and isinstance(decl.type, ArrayType) and decl.init is None:
            out = _tile_read_at_source(out, decl) or out
    return out if out is not node else None


def _tile_read_at_source(scope: Block, decl: Decl) -> Block | None:
    """scope with the fills of tile `decl` whose reads are all lane-invariant removed (those reads made reads of
    the fill's source), when every use of the tile in scope is in a region: a block where one statement fills
    every element and only later statements of the block read it. None when nothing changes."""
    tile = decl.name
    dims = []
    t = decl.type
    while isinstance(t, ArrayType):
        if not isinstance(t.size, Const):
            return None
        dims.append(t.size.value)
        t = t.element
    if not isinstance(t, ScalarType) or t.volatile:
        return None  # volatile: threads exchange values through it as they run (warp-synchronous code)

    def uses(node: Node) -> int:
        return sum(1 for n in walk(node) if n == Var(tile))

    fills = [(b, k) for b in walk(scope) if isinstance(b, Block) for k, st in enumerate(b.body)
             if uses(st) == 1 and any(_chain(t)[0] == Var(tile) for t in store_targets(st))
             and not any(uses(before) for before in b.body[:k])]
    inner = {id(n) for b, k in fills for n in walk(b.body[k]) if isinstance(n, Block)}
    regions = [(b, k) for b, k in fills if id(b) not in inner]  # the outermost block around each fill
    if sum(1 + sum(uses(after) for after in b.body[k + 1:]) for b, k in regions) != uses(scope):
        return None
    rewritten: dict[int, Block] = {}
    for block, at in regions:
        fill = _tile_fill(block.body[at], tile, dims, block, scope)
        if fill is None:
            return None  # a fill that may leave elements to an earlier one: no fill may go
        read_at_source = None if fill[1] is None else _lane_invariant_reads(block.body[at + 1:], tile, len(dims),
                                                                             *fill)
        if read_at_source is not None:
            rewritten[id(block)] = Block((*block.body[:at], *read_at_source))
    if not rewritten:
        return None
    out = transform(scope, lambda n: rewritten.get(id(n)), top_down=True)
    return Block(tuple(s for s in out.body if not (s is decl and not uses(out))))


def _tile_fill(statement: Stmt, tile: str, dims: list[int], region: Block, scope: Block) \
        -> tuple[list[str], Expr | None, Stmt | None] | None:
    """When `statement` stores to every element of the tile, unconditionally, in loops of constant bounds: the
    store's index variables, the stored value as a function of them (None unless it is one of the element's
    indices, of values the region does not change and of memory scope does not write, without a test) and the
    statement without the store; else None."""
    [store] = [n for n in walk(statement) if isinstance(n, Assign) and _chain(n.target)[0] == Var(tile)] or [None]
    path = _path_to(statement, store) if store is not None and not store.op else None
    indices = _chain(store.target)[1] if path else []
    if not path or len(indices) != len(dims) or not all(isinstance(i, Var) for i in indices):
        return None
    loops = [n for n in path if isinstance(n, For)]
    if any(not isinstance(n, (For, Block)) for n in path[:-1]) or any(canonical(lp) is None for lp in loops) \
            or any(isinstance(n, (Break, Continue, Return)) for n in walk(statement)):
        return None  # under a condition, or in a loop of unknown iterations
    written = written_names(region) | {d.name for d in walk(region) if isinstance(d, Decl)}
    coordinates = [i.name for i in indices]
    defined = {name: init for name, init in _constant_locals(statement).items()
               if name not in written_names(region)}
    points = list(_points(loops, [_expanded(i, defined) for i in indices]))
    if not points or None in points or {tuple(p) for p in points} != set(itertools.product(*map(range, dims))):
        return None
    value = _expanded(store.value, {k: v for k, v in defined.items() if k not in coordinates})
    sources = {_chain(n)[0].name for n in walk(value) if isinstance(n, Index) and isinstance(_chain(n)[0], Var)}
    if not _is_pure(value) or any(isinstance(n, Select) for n in walk(value)) \
            or names_in(value) & (written - set(coordinates)) \
            or sources & (stored_names(scope) | {tile}) \
            or any(isinstance(n, Call) and names_in(n) & sources and n.name not in PURE_CALLS for n in walk(scope)):
        return coordinates, None, statement  # every element written, with a value to keep in the tile
    return coordinates, value, _dead_code_removed(transform(statement, lambda n: Block(()) if n is store else None))


def _lane_invariant_reads(after: tuple[Stmt, ...], tile: str, rank: int, coordinates: list[str], value: Expr,
                          rest: Stmt | None) -> list[Stmt] | None:
    """The fill's remains and the statements after it reading the fill's value in place of each element, when
    every use of the tile there is an element read no SIMD lane index reaches; else None."""
    reads = [chain for s in after for chain in _chains(s, tile)]
    lanes = {canonical(n).var for s in after for n in walk(s) if isinstance(n, For) and n.kind == ForKind.vectorized}
    if any(_chain(t)[0] == Var(tile) for s in after for t in store_targets(s)):
        return None
    if not reads or len(reads) != sum(1 for s in after for n in walk(s) if n == Var(tile)) \
            or any(len(_chain(r)[1]) != rank or names_in(r) & lanes for r in reads):
        return None

    def at_source(n: Node) -> Node | None:
        if isinstance(n, Index) and _chain(n)[0] == Var(tile):
            mapping = dict(zip(coordinates, _chain(n)[1]))
            return transform(value, lambda m: mapping.get(m.name) if isinstance(m, Var) else None)
        return None

    return [*([] if rest is None else [rest]), *(transform(s, at_source, top_down=True) for s in after)]


def _path_to(root: Node, target: Node) -> list[Node] | None:
    """The nodes from root down to target (both included), or None when target is not under root."""
    if root is target:
        return [root]
    for f in dataclasses.fields(root):
        value = getattr(root, f.name)
        for child in (value if isinstance(value, tuple) else (value,)):
            if isinstance(child, Node):
                found = _path_to(child, target)
                if found is not None:
                    return [root, *found]
    return None


def _dead_code_removed(node: Stmt) -> Stmt | None:
    """node without the declarations of values nothing reads and the loops left with nothing to do; None when
    nothing is left."""
    while True:
        used = Counter(n.name for n in walk(node) if isinstance(n, Var))

        def visit(n: Node) -> Node | None:
            if isinstance(n, Block):
                kept = tuple(s for s in n.body if not (
                    isinstance(s, Decl) and not used[s.name] and (s.init is None or _is_pure(s.init))
                    or isinstance(s, For) and canonical(s) is not None and not s.body.body
                    or isinstance(s, Block) and not s.body))
                return Block(kept) if len(kept) != len(n.body) else None
            return None

        out = transform(node, visit)
        if out == node:
            break
        node = out
    if isinstance(node, For) and canonical(node) is not None and not node.body.body or \
            isinstance(node, Block) and not node.body:
        return None
    return node


_COMMUTATIVE_CALLS = frozenset({"fmaxf", "fminf", "fmax", "fmin", "max", "min", "std::max", "std::min"})


def _butterfly_as_tree(node: Node) -> Node | None:
    """Xor butterflies over L lanes (the loop form of warp all-reduces, `for (m = M; m > 0; m >>= 1) v = op(v,
    __shfl_xor_sync(~0, v, m))`, after recover_loops: copy v, then `v[t] = op(v[t], copy[t ^ m])`, several
    variables' steps possibly sharing lane loops) become, per group of 2M lanes, the same trees on the group's
    lower half, `v[g + l] = op(v[g + l], v[g + l + m])` for l < m (plain contiguous SIMD), and lane g's total
    copied to the group. Exact for a commutative op: in a butterfly lanes l and l ^ m compute op(a, b) and
    op(b, a), so every lane ends with lane g's value, which the tree computes in the same order; M + M/2 + ... + 1
    operations per group instead of 2M per step, and no gathers."""
    if not (isinstance(node, For) and len(node.init) == 1 and isinstance(node.init[0], Decl)):
        return None
    m, start = node.init[0].name, fold(node.init[0].init) if node.init[0].init is not None else None
    if not (isinstance(start, Const) and isinstance(start.value, int) and start.value >= 1
            and start.value & (start.value - 1) == 0 and node.cond in (BinOp(">", Var(m), Const(0, DType.int32)),
                                                                      BinOp(">=", Var(m), Const(1, DType.int32)))
            and node.step in (Assign(Var(m), Const(1, DType.int32), ">>"), Assign(Var(m), Const(2, DType.int32), "/"))
            and m not in written_names(node.body)):
        return None
    copies: list[str] = []
    steps: list[Assign] = []
    shapes = set()
    for item in node.body.body:
        for loop in (item.body if isinstance(item, Block) else (item,)):
            if isinstance(loop, Decl) and isinstance(loop.type, ArrayType) and loop.init is None:
                copies.append(loop.name)
                continue
            shape = canonical(loop) if isinstance(loop, For) and loop.kind == ForKind.vectorized else None
            if shape is None or not all(isinstance(a, Assign) for a in loop.body.body):
                return None
            shapes.add((shape.var, shape.start, shape.stop, shape.step))
            steps.extend(loop.body.body)
    if len(shapes) != 1 or len(steps) != 2 * len(copies):
        return None
    lane_var, first, stop, step = shapes.pop()
    if first != Const(0, DType.int32) or step != 1 or not isinstance(stop, Const) or stop.value % (2 * start.value):
        return None
    t, group = Var(lane_var), 2 * start.value
    trees = []
    for copy in copies:  # each copy array: `copy[t] = v[t]`, then an update of v reading copy[t ^ m]
        stored = [a for a in steps if a.target == Index(Var(copy), t)]
        own = stored[0].value if len(stored) == 1 and stored[0].op == "" else None
        updates = [a for a in steps if a.target == own]
        if not (isinstance(own, Index) and isinstance(own.base, Var) and own.index == t and len(updates) == 1
                and steps.index(stored[0]) < steps.index(updates[0])):
            return None
        partner = Index(Var(copy), BinOp("^", t, Var(m)))
        # the read recover_loops writes for a whole-warp xor shuffle: always the partner here, as 2M divides the
        # lanes and M < the warp's width W
        width = _warp_width(updates[0].value)
        read = None if width is None or width.value <= start.value else Select(
            BinOp("&&", BinOp("&&", BinOp("<=", Const(0, DType.int32), Var(m)), BinOp("<", Var(m), width)),
                  BinOp("<", BinOp("^", t, Var(m)), stop)), partner, Index(Var(copy), t))
        combined = _commutative_update(updates[0], own, read)
        if combined is None or any(n == Var(copy) for n in walk(own)):
            return None
        trees.append((own.base, combined))
    if len({base for base, _ in trees}) != len(trees):
        return None
    taken = names_in(node)
    g, lane = Var(fresh_name("xp_group", taken)), Var(fresh_name("xp_lane", taken))
    body = []
    for base, combined in trees:
        low, high = Index(base, BinOp("+", g, lane)), Index(base, BinOp("+", BinOp("+", g, lane), Var(m)))
        body.append(dataclasses.replace(node, body=Block((_lane_loop(lane.name, Const(0, DType.int32), Var(m),
                                                                     Assign(low, combined(low, high))),))))
        body.append(_lane_loop(lane.name, Const(1, DType.int32), Const(group, DType.int32),
                               Assign(low, Index(base, g))))
    return For((Decl(g.name, _INT, Const(0, DType.int32)),), BinOp("<", g, stop),
               Assign(g, Const(group, DType.int32), "+"), Block(tuple(body)))


def _warp_width(update: Expr) -> Const | None:
    """W in the `m < W` test of a whole-warp xor read inside `update`."""
    return next((n.rhs for n in walk(update) if isinstance(n, BinOp) and n.op == "<" and isinstance(n.rhs, Const)
                 and isinstance(n.lhs, Var) and isinstance(n.rhs.value, int)), None)


def _commutative_update(update: Assign, own: Index, read: Expr | None) -> Callable[[Expr, Expr], Expr] | None:
    """op, when `update` is `own = op(own, read)` (or `own op= read`) for a commutative op."""
    if read is None:
        return None
    if update.op in ("+", "*") and update.value == read:
        return lambda a, b: BinOp(update.op, a, b)
    v = update.value
    if update.op == "" and isinstance(v, BinOp) and v.op in ("+", "*") and v.lhs == own and v.rhs == read:
        return lambda a, b: BinOp(v.op, a, b)
    if update.op == "" and isinstance(v, Call) and v.name in _COMMUTATIVE_CALLS and v.args == (own, read):
        return lambda a, b: dataclasses.replace(v, args=(a, b))
    return None


def _guarded_updates_as_selects(fn: Function) -> Function:
    """In SIMD loops, `if (m) { a[t] += e; }` on a lane's own element of a local per-lane array becomes
    `a[t] = m ? a[t] + e : a[t];` (the arrays it writes zero-initialized, so every lane's element is defined),
    one select per statement of the `if`, so with several only where m reads none of the arrays they write.

    Why: g++ vectorizes the guarded form with masked stores, which AVX2 CPUs execute slowly (a microcoded
    `vmaskmovps` that also stalls the next step's load of the same sums: conv2d 38 -> 26 ms on a Zen 3), and the
    select form with a blend and a plain store. The same program: a lane whose guard fails stores back its own
    value, which no other lane reads (element t of an array indexed by the lane, within its bounds), and e is
    still evaluated only where m holds (the select's arm)."""
    lanes_of = _per_lane_arrays(fn)
    selected: set[str] = set()

    def lane_loop(node: Node) -> Node | None:
        if not (isinstance(node, For) and node.kind == ForKind.vectorized and (view := canonical(node)) is not None
                and simplify_int(view.start) == Const(0, DType.int32)
                and not any(isinstance(n, For) for n in walk(node.body))):
            return None
        count = simplify_int(view.stop)
        own = {name for name, size in lanes_of.items() if size == count}

        def as_selects(s: Stmt) -> tuple[Stmt, ...]:
            if not (isinstance(s, If) and s.otherwise is None and s.then.body and _is_pure(s.cond)
                    and all(_own_update(u, own, view.var) for u in s.then.body)):
                return (s,)
            if len(s.then.body) > 1 and names_in(s.cond) & {u.target.base.name for u in s.then.body}:
                return (s,)  # each select tests the condition again: after the first, on what it changed
            selected.update(u.target.base.name for u in s.then.body)
            return tuple(Assign(u.target, Select(s.cond, BinOp(u.op, u.target, u.value) if u.op else u.value,
                                                 u.target)) for u in s.then.body)

        return dataclasses.replace(node, body=transform(node.body, lambda n: Block(tuple(
            out for s in n.body for out in as_selects(s))) if isinstance(n, Block) else None))

    body = transform(fn.body, lane_loop)
    if not selected:
        return fn
    return dataclasses.replace(fn, body=transform(body, lambda n: dataclasses.replace(n, init=InitList())
                                                  if isinstance(n, Decl) and n.name in selected and n.init is None
                                                  else None))


def _per_lane_arrays(fn: Function) -> dict[str, Expr]:
    """name -> element count of the local one-dimensional arrays of constant size (every declaration of the
    name: the fast and slow versions of a body declare theirs twice), none of them a parameter's name."""
    sizes: dict[str, set] = {}
    for d in walk(fn.body):
        if isinstance(d, Decl):
            t = d.type
            size = simplify_int(t.size) if isinstance(t, ArrayType) and isinstance(t.element, ScalarType) \
                and t.size is not None and d.scope == MemScope.local else None
            sizes.setdefault(d.name, set()).add(size if isinstance(size, Const) else None)
    params = {p.name for p in fn.params}
    return {name: next(iter(found)) for name, found in sizes.items()
            if len(found) == 1 and None not in found and name not in params}


def _own_update(s: Stmt, own: set[str], lane: str) -> bool:
    """`a[lane] op= value` on a per-lane array, value without effects."""
    return isinstance(s, Assign) and isinstance(s.target, Index) and isinstance(s.target.base, Var) \
        and s.target.base.name in own and s.target.index == Var(lane) and _is_pure(s.value)


def _lane_loop(var: str, start: Expr, stop: Expr, body: Stmt) -> For:
    return For((Decl(var, _INT, start),), BinOp("<", Var(var), stop), Assign(Var(var), Const(1, DType.int32), "+"),
               Block((body,)), kind=ForKind.vectorized)


def _invariant_loads_hoisted(fn: Function) -> Function:
    """A SIMD loop whose lanes read lane-invariant elements under their guard (a CUDA block's threads reading
    the same weight, `if (inside) acc[t] += x[...] * w[k]`) reads each once before the loop, and only if some
    lane's guard holds (what the lanes would have read, nothing more): g++ 12 vectorizes no masked load of an
    invariant address, so such a loop stayed scalar. A first SIMD loop recomputes the guard (the statements before
    it that the guard reads, which write only their own locals) and ORs it over the lanes; the loop itself then
    uses the values read. One such loop serves every statement under the same guard (a thread computing several
    outputs, `if (inside) { acc0[t] += x * w0[k]; } if (inside) { acc1[t] += x * w1[k]; }`), as long as nothing
    between them changes what the guard reads."""
    types, private = types_and_private_arrays(fn)
    taken = names_in(fn) | set(types)

    def hoist(node: Node) -> Node | None:
        if not (isinstance(node, For) and node.kind == ForKind.vectorized and canonical(node) is not None):
            return None
        lane, body = canonical(node).var, node.body.body
        local = {d.name for d in walk(node.body) if isinstance(d, Decl)}
        varying = local | written_names(node.body) | {lane}
        stores = store_targets(node.body)
        if not stores_stay_private(stores, local, private):
            return None  # a store that may alias the element read
        varying |= {t.base.name for t in stores if isinstance(t, Index)}  # arrays the loop writes change in it

        def invariant_loads(guarded: If) -> list[tuple[Node, DType]]:
            return [(n, t) for n in walk(guarded.then) if (t := _invariant_load(n, varying, types)) is not None]

        for k, guarded in enumerate(body):
            if not (_is_guard(guarded) and (first_loads := invariant_loads(guarded))):
                continue
            prefix = tuple(body[i] for i in _slice_positions(body[:k], names_in(guarded.cond)))
            if not _replayable(prefix):
                continue
            read = names_in(guarded.cond) | {n for s in prefix for n in names_in(s)}
            loads: dict[Node, DType] = dict(first_loads)
            for later in body[k:]:
                if later is not guarded and _is_guard(later) and later.cond == guarded.cond:
                    loads.update((n, t) for n, t in invariant_loads(later) if n not in loads)
                if (written_names(later) | stored_names(later)) & read:
                    break  # what the guard reads changes: later statements test another condition
            any_name = fresh_name("xp_any", taken)
            taken.add(any_name)
            values: dict[Node, str] = {}
            for n in loads:
                values[n] = fresh_name("xp_uniform", taken)
                taken.add(values[n])
            guards = dataclasses.replace(node, body=Block(prefix + (Assign(Var(any_name), guarded.cond, "|"),)),
                                         pragmas=(f"omp simd reduction(|:{any_name})",))
            replaced = transform(node, lambda n: Var(values[n]) if n in values else None)
            return Block((Decl(any_name, _INT, Const(0, DType.int32)), guards,
                          *(Decl(values[n], ScalarType(dtype, const=True), Select(Var(any_name), n, Const(0, dtype)))
                            for n, dtype in loads.items()),
                          replaced))
        return None

    body = fn.body
    for _ in range(8):  # one guard per round: a loop reading invariant elements under several hoists each
        hoisted = transform(body, hoist)
        if hoisted == body:
            break
        body = hoisted
    return fn if body is fn.body else dataclasses.replace(fn, body=body)


def _is_guard(s: Stmt) -> bool:
    """`if (cond) { .. }` with no else and a condition a copy of the loop may evaluate again."""
    return isinstance(s, If) and s.otherwise is None and without_effects(s.cond)


_U32 = ScalarType(DType.uint32)
_U32_MAX = Const(0xFFFFFFFF, DType.uint32)
_INT_MAX = 0x7FFFFFFF


def _unit_stride_versions(fn: Function) -> Function:
    """A SIMD loop whose lanes read `p[i]` with an int index i computed per lane (`x[ih[t] * W + iw]`, the pixel
    of a thread recomposed from its row and column) gets a version that reads `p[first + t]`, taken when the run
    finds every reading lane's i - t equal: a first SIMD loop recomputes the guards and indices (the statements
    before each read that they depend on, as the hoisted loads do) and reduces i - t, in unsigned arithmetic, to
    its minimum and maximum. One such loop checks the reads of every statement (a thread computing several
    outputs reads several rows), each where its statement runs, until a statement the checks would need to run
    again writes more than its own locals.

    Why: g++ reads such an index with a gather, which took 3/4 of conv2d's time, though for common sizes (stride
    1, as many output columns as input columns) the lanes read consecutive elements. The same program: where
    the minimum equals the maximum d, every reading lane's i is d + t modulo 2^32, which is d + t itself when
    d + (lanes - 1) stays an int (the other test), so each lane reads the element it read, under the same guard,
    and no lane reads anything more. A read is replaced only in the statement it was checked in, whose own
    writes leave its index alone."""
    types, private = types_and_private_arrays(fn)
    taken = names_in(fn) | set(types)

    def version(node: Node) -> Node | None:
        if not (isinstance(node, For) and node.kind == ForKind.vectorized and (view := canonical(node)) is not None
                and simplify_int(view.start) == Const(0, DType.int32)
                and isinstance(count := simplify_int(view.stop), Const) and 1 < count.value <= 1 << 16):
            return None
        lane, body = view.var, node.body.body
        local = {d.name for d in walk(node.body) if isinstance(d, Decl)}
        stores = store_targets(node.body)
        if not stores_stay_private(stores, local, private):
            return None  # a store that may alias what the lanes read
        written = written_names(node.body) | {t.base.name for t in stores if isinstance(t, Index)}
        varying = local | written | {lane}
        checked: dict[int, list[Index]] = {}  # statement position -> the reads checked there
        replay: tuple[int, ...] = ()  # positions of the statements the check loop runs again
        needs: set[str] = set()
        for k, statement in enumerate(body):
            guarded = _is_guard(statement)
            where = statement.then if guarded else statement
            inner = {d.name for d in walk(where) if isinstance(d, Decl)}
            # locals declared once before it (`int c = c0 + t;`): an index through them may be affine after all
            defined = {d.name: d.init for d in body[:k] if isinstance(d, Decl) and d.init is not None
                       and d.name not in written}
            # only reads the statement makes whenever it runs (under its guard): the first loop evaluates their
            # indices there, and an index read under a further condition may not be defined elsewhere
            changed = written_names(statement) | stored_names(statement)
            reads = list(dict.fromkeys(
                n for n in _always_evaluated(where) if isinstance(n, Index) and isinstance(n.base, Var)
                and n.base.name not in varying and isinstance(types.get(n.base.name), PointerType)
                and names_in(n.index) & varying and not names_in(n.index) & (inner | changed)
                and _int_valued(n.index, types, lane) and _gathered(_inlined(n.index, defined), varying - {lane})))
            if not reads:
                continue
            wanted = needs | (names_in(statement.cond) if guarded else set()) | \
                {name for r in reads for name in names_in(r.index)}
            kept = _slice_positions(body[:k], wanted)
            if not _replayable(tuple(body[i] for i in kept)):
                break  # the checks from here on would need a statement that writes more than its locals
            checked[k], replay, needs = reads, kept, wanted
        if not checked:
            return None
        names: dict[tuple[int, Index], tuple[str, ...]] = {}
        uniform: dict[tuple[int, Index], Expr | None] = {}  # the lane-uniform part of each index, kept out
        parts: dict[tuple[int, Index], Expr] = {}  # what the check loop reduces
        for k, reads in checked.items():
            for read in reads:
                names[k, read] = tuple(fresh_name(stem, taken) for stem in ("xp_lo", "xp_hi", "xp_first", "xp_at"))
                taken.update(names[k, read])
                uniform[k, read], parts[k, read] = _uniform_split(read.index, varying)
        check: list[Stmt] = []
        fast_body = list(body)
        for k in range(max(checked) + 1):
            if k in checked:
                offsets = [s for read in checked[k] for s in _offset_check(parts[k, read], lane, names[k, read])]
                check += [If(body[k].cond, Block(tuple(offsets)))] if _is_guard(body[k]) else offsets
                for read in checked[k]:
                    first = names[k, read][2]
                    fast_body[k] = transform(fast_body[k], lambda n, read=read, first=first: dataclasses.replace(
                        n, index=BinOp("+", Var(first), Var(lane))) if n == read else None)
            if k in replay:
                check.append(body[k])
        reduce = dataclasses.replace(node, body=Block(tuple(check)), pragmas=(
            " ".join(["omp simd", *(f"reduction(min:{lo}) reduction(max:{hi})" for lo, hi, _, _ in names.values())]),))
        offset = {key: Var(lo) if uniform[key] is None else BinOp("+", uniform[key], Var(lo))
                  for key, (lo, _, _, _) in names.items()}  # i - t for every lane, modulo 2^32
        tests = [test for key, (lo, hi, _, _) in names.items() for test in (
            BinOp("==", Var(lo), Var(hi)),
            BinOp("<=", Cast(_INT, offset[key]), Const(_INT_MAX - (count.value - 1), DType.int32)))]
        return Block((*(Decl(name, _U32, init) for lo, hi, _, _ in names.values()
                        for name, init in ((lo, _U32_MAX), (hi, Const(0, DType.uint32)))),
                      reduce,
                      If(functools.reduce(lambda a, b: BinOp("&&", a, b), tests),
                         Block((*(Decl(first, ScalarType(DType.int64, const=True), Cast(_INT, offset[key]))
                                  for key, (_, _, first, _) in names.items()),
                                dataclasses.replace(node, body=Block(tuple(fast_body))))),
                         Block((node,)))))

    body = transform(fn.body, version)
    return fn if body is fn.body else dataclasses.replace(fn, body=body)


def _offset_check(index: Expr, lane: str, names: tuple[str, ...]) -> list[Stmt]:
    """`at = (unsigned)i - (unsigned)t; lo = min(lo, at); hi = max(hi, at)` for the index i."""
    lo, hi, _, at = names
    return [Decl(at, ScalarType(DType.uint32, const=True), BinOp("-", Cast(_U32, index), Cast(_U32, Var(lane)))),
            Assign(Var(lo), Select(BinOp("<", Var(at), Var(lo)), Var(at), Var(lo))),
            Assign(Var(hi), Select(BinOp(">", Var(at), Var(hi)), Var(at), Var(hi)))]


_MAX_TERMS = 16


def _uniform_split(index: Expr, varying: set[str]) -> tuple[Expr | None, Expr]:
    """(u, v) with index == u + v modulo 2^32, u the terms of the expanded index that are the same for every
    lane and read no memory (`c * h * w` of `(c * h + row[t]) * w + col`), both in unsigned arithmetic; (None,
    index) when there is no such term. Why: the check loop then reduces only what differs between lanes, which
    a loop around it (the channels of a convolution) does not change, so passes/lane_tables.py can run it once;
    and unsigned arithmetic wraps where a term alone would overflow an int."""
    terms = _expanded_terms(index)
    if terms is None:
        return None, index
    fixed = [t for t in terms if not any(names_in(f) & varying or not _arithmetic(f) for f in t[1])]
    if not fixed or len(fixed) == len(terms):
        return None, index

    def unsigned_sum(chosen: list[tuple[int, list[Expr]]]) -> Expr:
        total: Expr | None = None
        for sign, factors in chosen:
            product = functools.reduce(lambda a, b: BinOp("*", a, b), [Cast(_U32, f) for f in factors]) \
                if factors else Const(1, DType.uint32)
            total = product if total is None and sign > 0 else \
                BinOp("-", Const(0, DType.uint32) if total is None else total, product) if sign < 0 else \
                BinOp("+", total, product)
        return total

    return unsigned_sum(fixed), unsigned_sum([t for t in terms if t not in fixed])


def _expanded_terms(e: Expr) -> list[tuple[int, list[Expr]]] | None:
    """e as a sum of signed products of factors (+, - and * distributed; anything else one factor), or None
    when that takes more than _MAX_TERMS terms."""
    if isinstance(e, BinOp) and e.op in ("+", "-"):
        left, right = _expanded_terms(e.lhs), _expanded_terms(e.rhs)
        if left is None or right is None:
            return None
        terms = left + [(-sign if e.op == "-" else sign, factors) for sign, factors in right]
    elif isinstance(e, BinOp) and e.op == "*":
        left, right = _expanded_terms(e.lhs), _expanded_terms(e.rhs)
        if left is None or right is None:
            return None
        terms = [(a * b, fa + fb) for a, fa in left for b, fb in right]
    elif isinstance(e, UnaryOp) and e.op == "-":
        inner = _expanded_terms(e.operand)
        terms = None if inner is None else [(-sign, factors) for sign, factors in inner]
    else:
        terms = [(1, [e])]
    return terms if terms is not None and len(terms) <= _MAX_TERMS else None


def _arithmetic(e: Expr) -> bool:
    """Variables, constants and arithmetic only: evaluated anywhere, it reads no memory and cannot trap."""
    return all(isinstance(n, (Var, Const, BinOp, UnaryOp, Cast, ScalarType)) for n in walk(e)) \
        and not any(isinstance(n, BinOp) and n.op in ("/", "%") or isinstance(n, UnaryOp) and n.op in ("*", "&")
                    for n in walk(e))


def _slice_positions(prefix: tuple[Stmt, ...], needs: set[str]) -> tuple[int, ...]:
    """Positions in `prefix` of the statements that what reads `needs` after it depends on (a backward slice: a
    statement is kept when it declares or writes a name read after it by `needs` or a statement kept)."""
    kept: list[int] = []
    needs = set(needs)
    for i in range(len(prefix) - 1, -1, -1):
        s = prefix[i]
        if (written_names(s) | stored_names(s) | {d.name for d in walk(s) if isinstance(d, Decl)}) & needs:
            kept.append(i)
            needs |= names_in(s)
    return tuple(reversed(kept))


def _always_evaluated(node: Node) -> Iterator[Node]:
    """The nodes under node that C evaluates whenever node runs: not in the body of an `if` or a loop, nor in a
    ?: branch or right of && and ||."""
    yield node
    if isinstance(node, (For, While, DoWhile, Switch)):
        return
    if isinstance(node, (If, Select)):
        kids: tuple[Node, ...] = (node.cond,)
    elif isinstance(node, BinOp) and node.op in ("&&", "||"):
        kids = (node.lhs,)
    else:
        kids = tuple(children(node))
    for kid in kids:
        yield from _always_evaluated(kid)


def _int_valued(e: Expr, types: dict, lane: str) -> bool:
    """e is int arithmetic on int variables, int array elements and int constants (so i - t fits 32 bits)."""
    def int_typed(t) -> bool:
        while isinstance(t, ArrayType):
            t = t.element
        return isinstance(t, ScalarType) and t.dtype == DType.int32

    if isinstance(e, Const):
        return e.dtype == DType.int32
    if isinstance(e, Var):
        return e.name == lane or int_typed(types.get(e.name))
    if isinstance(e, Index):
        return isinstance(e.base, Var) and isinstance(types.get(e.base.name), ArrayType) \
            and int_typed(types.get(e.base.name)) and _int_valued(e.index, types, lane)
    if isinstance(e, BinOp):
        return e.op in ("+", "-", "*", "/", "%") and _int_valued(e.lhs, types, lane) \
            and _int_valued(e.rhs, types, lane)
    if isinstance(e, UnaryOp):
        return e.op == "-" and _int_valued(e.operand, types, lane)
    return False


def _inlined(e: Expr, defined: dict[str, Expr]) -> Expr:
    for _ in range(4):  # a chain of definitions
        e = transform(e, lambda n: defined[n.name] if isinstance(n, Var) and n.name in defined else None)
    return e


def _gathered(index: Expr, per_lane: set[str]) -> bool:
    """g++ reads index with a gather: it holds per-lane values (a lane's local or array element) or divides,
    where an affine index of the lane alone (`t * n + c`) is read with a known stride and left alone."""
    return bool(names_in(index) & per_lane) or any(
        isinstance(n, Index) or isinstance(n, BinOp) and n.op in ("/", "%") for n in walk(index))


def _recomputable(s: Stmt, own: set[str]) -> bool:
    """Running s again, in a copy of its loop under the same conditions, changes nothing but the locals `own`."""
    if isinstance(s, Decl):
        return s.init is None or without_effects(s.init)
    if isinstance(s, Assign):
        return isinstance(s.target, Var) and s.target.name in own and without_effects(s.value)
    if isinstance(s, If):
        return without_effects(s.cond) and all(_recomputable(t, own) for b in (s.then, s.otherwise) if b
                                                for t in b.body)
    if isinstance(s, Block):
        return all(_recomputable(t, own) for t in s.body)
    return False


def _replayable(statements: tuple[Stmt, ...]) -> bool:
    """A copy of the loop may run `statements` again: they change nothing but the locals they declare."""
    own = {d.name for s in statements for d in walk(s) if isinstance(d, Decl)}
    return all(_recomputable(s, own) for s in statements)


def _invariant_load(n: Node, varying: set[str], types: dict) -> DType | None:
    """The scalar type of `n` if it reads one element of memory at an address no lane changes (`w[k]`, `*(p + k)`),
    else None."""
    if isinstance(n, Index):
        root, depth = n, 0
        while isinstance(root, Index):
            root, depth = root.base, depth + 1
    elif isinstance(n, UnaryOp) and n.op == "*":
        root, depth = n.operand, 1
        while isinstance(root, BinOp) and root.op in "+-":
            root = root.lhs
    else:
        return None
    if not isinstance(root, Var) or names_in(n) & varying or any(isinstance(c, Call) for c in walk(n)):
        return None
    t = types.get(root.name)
    for _ in range(depth):
        t = t.pointee if isinstance(t, PointerType) else t.element if isinstance(t, ArrayType) else None
    return t.dtype if isinstance(t, ScalarType) else None


# glibc's libmvec (x86-64, glibc >= 2.22) has vector versions of these, without a mask ("notinbranch"); declared
# `simd`, g++ calls them from vectorized loops instead of calling the scalar function once per lane, as glibc's
# own <math.h> arranges under -ffast-math. Accuracy: within 4 ulp, as the scalar functions.
_VECTOR_MATH = ("expf", "logf", "sinf", "cosf", "powf", "exp", "log", "sin", "cos", "pow")


# C's fmax/fmin (a NaN operand loses to a number) have no single x86 instruction, so g++ calls libm once per lane
# from a SIMD loop; the same function as a select it compiles to a compare and a blend.
_MIN_MAX_SELECTS = {
    "fmaxf": "static inline float xp_fmaxf(float a, float b) { return a >= b || b != b ? a : b; }",
    "fminf": "static inline float xp_fminf(float a, float b) { return a <= b || b != b ? a : b; }",
    "fmax": "static inline double xp_fmax(double a, double b) { return a >= b || b != b ? a : b; }",
    "fmin": "static inline double xp_fmin(double a, double b) { return a <= b || b != b ? a : b; }",
}


def _min_max_as_selects(module: Module) -> Module:
    """The module with its SIMD loops' fmax/fmin calls (float and double) calling the select versions above."""
    used: set[str] = set()

    def in_simd_loop(node: Node) -> Node | None:
        if not (isinstance(node, For) and node.kind == ForKind.vectorized):
            return None

        def renamed(call: Node) -> Node | None:
            if isinstance(call, Call) and call.name in _MIN_MAX_SELECTS and len(call.args) == 2:
                used.add(call.name)
                return dataclasses.replace(call, name=f"xp_{call.name}")
            return None

        return transform(node, renamed)

    rewritten = module.map_functions(lambda f: f if f.body is None else dataclasses.replace(
        f, body=transform(f.body, in_simd_loop, top_down=True)))
    if not used:
        return module
    return rewritten.with_definitions(Verbatim("\n".join(_MIN_MAX_SELECTS[name] for name in sorted(used))))


def _vector_math_declared(module: Module) -> Module:
    """The module with libmvec's functions declared `simd` when its SIMD loops call them."""
    called = sorted({n.name for f in module.functions for loop in walk(f)
                     if isinstance(loop, For) and loop.kind == ForKind.vectorized
                     for n in walk(loop) if isinstance(n, Call) and n.name in _VECTOR_MATH})
    if not called:
        return module
    lines = ["#if defined(__x86_64__) && defined(__GLIBC__) && !defined(__FAST_MATH__)"]
    for name in called:
        kind = "float" if name.endswith("f") else "double"
        arguments = ", ".join([kind] * (2 if name.startswith("pow") else 1))
        lines.append(f'extern "C" {kind} {name}({arguments}) throw() __attribute__((__simd__("notinbranch")));')
    lines.append("#endif")
    return module.with_definitions(Verbatim("\n".join(lines)))


def _known_constants(module: Module, fn: Function) -> dict[str, int]:
    """Local variables of fn that are declared once, never assigned, and initialized with a value known now (the
    loop form's `const int xp_block_x = (int)block_x;` with `unsigned block_x = TX;`): the thread counts, which
    the compiler must see as constants to size the per-thread arrays and vectorize without a remainder; and the
    const integer globals fn does not redeclare (`constexpr int THREADS = TX * TY;`), so that a grid-stride
    loop's step is a number (what a canonical loop needs)."""
    decls = [n for n in walk(fn.body) if isinstance(n, Decl)]
    written = written_names(fn.body)
    globals_ = {g.name: g.init for g in module.globals if g.init is not None and not written & {g.name}}
    shadowing = {d.name for d in decls} | {p.name for p in fn.params}
    global_ints = {g.name for g in module.globals if g.name in globals_ and isinstance(g.type, ScalarType)
                   and g.type.dtype.is_int and g.type.const and g.name not in shadowing}
    inits = {d.name: d.init for d in decls if d.init is not None and isinstance(d.type, ScalarType)
             and d.type.dtype.is_int and d.name not in written and sum(1 for e in decls if e.name == d.name) == 1}
    known: dict[str, int] = {}

    def value(e: Expr, depth: int = 0) -> int | None:
        if depth > 16:
            return None
        if isinstance(e, Const) and isinstance(e.value, int) and not isinstance(e.value, bool):
            return e.value
        if isinstance(e, Cast) and isinstance(e.type, ScalarType) and e.type.dtype.is_int:
            return value(e.expr, depth + 1)
        if isinstance(e, Var):
            init = inits.get(e.name, globals_.get(e.name))
            return None if init is None else value(init, depth + 1)
        if isinstance(e, BinOp) and e.op in ("+", "-", "*", "/"):
            a, b = value(e.lhs, depth + 1), value(e.rhs, depth + 1)
            if a is None or b is None or e.op == "/" and not (a >= 0 and b > 0):
                return None  # C's division truncates: the same as floor division for these only
            return a + b if e.op == "+" else a - b if e.op == "-" else a * b if e.op == "*" else a // b
        return None

    for name, init in [*inits.items(), *((name, globals_[name]) for name in sorted(global_ints))]:
        v = value(init)
        if v is not None and 0 < v < 1 << 16:
            known[name] = v
    return known


def _with_constants(body: Block, known: dict[str, int]) -> Block:
    """body with the known constants (not redeclared in it) written as literals."""
    inner = {n.name for n in walk(body) if isinstance(n, Decl)}
    values = {name: Const(v, DType.int32) for name, v in known.items() if name not in inner}
    if not values:
        return body
    return transform(body, lambda n: values.get(n.name) if isinstance(n, Var) else None)


def _is_axis_loop(node: Node | None, prefix: str) -> bool:
    return isinstance(node, For) and node.kind == ForKind.parallel and (node.axis or "").startswith(prefix)


def _only(body: Block) -> Stmt | None:
    return body.body[0] if len(body.body) == 1 else None


class _CannotSink(Exception):
    """A precondition does not hold for one statement list: the caller keeps it whole."""


@dataclass(frozen=True)
class _Nest:
    """A perfectly nested chain of thread loops `for (int v = 0; v < end; v += 1)`, outermost first."""

    loops: tuple[For, ...]
    vars: tuple[str, ...]
    ends: tuple[Expr, ...]
    axes: tuple[str, ...]

    @staticmethod
    def of(loop: For) -> _Nest | None:
        loops = [loop]
        while _is_axis_loop(_only(loops[-1].body), "threadIdx"):
            loops.append(_only(loops[-1].body))
        views = [canonical(lp) for lp in loops]
        if any(v is None or v.step != 1 or v.start != Const(0, DType.int32) for v in views):
            return None
        names = {v.var for v in views}
        if any(names_in(v.stop) & names or not _is_safe(v.stop) for v in views):
            return None
        return _Nest(tuple(loops), tuple(v.var for v in views), tuple(v.stop for v in views),
                     tuple(lp.axis for lp in loops))

    @property
    def body(self) -> tuple[Stmt, ...]:
        return self.loops[-1].body.body

    @property
    def linear(self) -> Expr:
        """The thread's number in the block, `ty * end_x + tx` (the loop form's own spelling)."""
        out: Expr = Var(self.vars[0])
        for var, end in zip(self.vars[1:], self.ends[1:]):
            out = BinOp("+", BinOp("*", out, end), Var(var))
        return out

    @property
    def count(self) -> Expr:
        out = self.ends[0]
        for end in self.ends[1:]:
            out = BinOp("*", out, end)
        return out


def _is_safe(e: Node) -> bool:
    """Arithmetic on variables and constants only: evaluating it cannot trap or write (no memory, no calls)."""
    for n in walk(e):
        if not isinstance(n, _SAFE_EXPR):
            return False
        if isinstance(n, UnaryOp) and n.op in ("++", "--", "*", "&"):
            return False
        if isinstance(n, BinOp) and (n.op in (*ASSIGN_OPS, ",")
                                     or n.op in ("/", "%") and not (isinstance(n.rhs, Const) and n.rhs.value)):
            return False
    return True


def _sym_equal(a: Expr, b: Expr) -> bool:
    sa, sb = to_sympy(a), to_sympy(b)
    return sa is not None and sb is not None and sympy.expand(sa - sb) == 0


def _chain(e: Expr) -> tuple[Expr, list[Expr]]:
    """`a[i][j]` -> (a, [i, j])."""
    indices: list[Expr] = []
    while isinstance(e, Index):
        indices.insert(0, e.index)
        e = e.base
    return e, indices


def _rank(t) -> int:
    return 1 + _rank(t.element) if isinstance(t, ArrayType) else 0


def _rebuild(base: Expr, indices: list[Expr]) -> Expr:
    for index in indices:
        base = Index(base, index)
    return base


class _Block:
    """One block loop's body: its per-thread arrays laid out thread-last, then each thread nest reordered."""

    def __init__(self, body: Block, taken: set[str], options: SimdizeOptions):
        self.body, self.taken, self.options = body, taken, options

    def run(self) -> tuple[Block, int]:
        nests = [n for n in self._nests(self.body)]
        if not nests:
            return self.body, 0
        body = self._thread_last_arrays(self.body, nests)
        body = self._recomputed_thread_values(body)
        changed = [0]

        def phase(node: Node) -> Node | None:
            if not _is_axis_loop(node, "threadIdx"):
                return None
            nest = _Nest.of(node)
            if nest is None:
                return node
            try:
                out = _Sinker(nest, body, node, self.taken, self.options).run()
            except _CannotSink:
                return node
            changed[0] += 1
            return out

        body = transform(body, phase, top_down=True)
        return body, changed[0]

    @staticmethod
    def _nests(body: Node) -> list[_Nest]:
        found: list[_Nest] = []

        def visit(node: Node) -> Node | None:
            if _is_axis_loop(node, "threadIdx"):
                nest = _Nest.of(node)
                if nest is not None:
                    found.append(nest)
                return node
            return None

        transform(body, visit, top_down=True)
        return found

    def _thread_last_arrays(self, body: Block, nests: list[_Nest]) -> Block:
        """`float acc[T][4][4]` accessed only as `acc[thread][i][j]` -> `float acc[4][4][T]`, `acc[i][j][thread]`."""
        first = nests[0]
        if any(n.vars != first.vars or n.ends != first.ends for n in nests):
            return body
        linear = first.linear
        arrays = {s.name: s for s in body.body if isinstance(s, Decl) and isinstance(s.type, ArrayType)
                  and s.init is None and _rank(s.type) > 1 and s.type.size is not None
                  and _sym_equal(s.type.size, first.count)}
        for name in list(arrays):
            rank = _rank(arrays[name].type)
            uses = [n for n in walk(body) if n == Var(name)]
            full = [n for n in walk(body) if isinstance(n, Index) and _chain(n)[0] == Var(name)
                    and len(_chain(n)[1]) == rank and _sym_equal(_chain(n)[1][0], linear)]
            if len(uses) != len(full) or not uses:
                del arrays[name]
        if not arrays:
            return body

        def rewrite(n: Node) -> Node | None:
            if isinstance(n, Decl) and n.name in arrays and n is arrays[n.name]:
                return dataclasses.replace(n, type=_thread_last(n.type, n.type.size))
            if isinstance(n, Index):
                base, indices = _chain(n)
                if isinstance(base, Var) and base.name in arrays and len(indices) == _rank(arrays[base.name].type):
                    inner = [transform(i, rewrite, top_down=True) for i in indices]
                    return _rebuild(base, inner[1:] + inner[:1])
            return None

        return transform(body, rewrite, top_down=True)

    def _recomputed_thread_values(self, body: Block) -> Block:
        """A per-thread array `int tx[T]` stored once, in a phase of the block body, with a function of the thread
        indices and of variables nothing in the block assigns (`tx[t] = xp_tx`), is recomputed where it is read: a
        gather from memory becomes arithmetic the vectorizer sees through. Pointers too: an inlined helper's
        `float* s[T]` holding the block's shared array in every slot becomes that array, not a gather of pointers."""
        assigned = written_names(body)
        arrays = sum(1 for s in body.body if isinstance(s, Decl) and isinstance(s.type, ArrayType))
        for _ in range(arrays):  # one array per round: `tid[t] = ty[t] * TX + tx[t]` once ty and tx are gone
            changed = False
            for position, stmt in enumerate(body.body):
                nest = _Nest.of(stmt) if _is_axis_loop(stmt, "threadIdx") else None
                if nest is None:
                    continue
                for k, s in enumerate(nest.body):
                    name = self._recomputable(s, nest, body, assigned)
                    if name is None:
                        continue
                    before = body.body[:position] + (Block(nest.body[:k]),)
                    if any(n == Var(name) for b in before for n in walk(b)):
                        continue
                    body = _replace_reads(body, name, s.value, nest)
                    changed = True
                    break
                if changed:
                    break
            if not changed:
                return body
        return body

    @staticmethod
    def _recomputable(s: Stmt, nest: _Nest, body: Block, assigned: set[str]) -> str | None:
        if not (isinstance(s, Assign) and s.op == "" and isinstance(s.target, Index)
                and isinstance(s.target.base, Var) and _sym_equal(s.target.index, nest.linear)):
            return None
        name = s.target.base.name
        decl = next((d for d in body.body if isinstance(d, Decl) and d.name == name), None)
        if decl is None or not isinstance(decl.type, ArrayType) \
                or not isinstance(decl.type.element, (ScalarType, PointerType)) \
                or not _sym_equal(decl.type.size, nest.count):
            return None
        inner = {d.name for d in walk(nest.loops[0]) if isinstance(d, Decl)}
        if not _is_safe(s.value) or names_in(s.value) & ((assigned | inner) - set(nest.vars)):
            return None
        stores = [t for t in store_targets(body) if _chain(t)[0] == Var(name) and len(_chain(t)[1]) == 1]
        reads = [n for n in walk(body) if isinstance(n, Index) and n.base == Var(name)]
        uses = [n for n in walk(body) if n == Var(name)]
        if len(stores) != 1 or len(uses) != len(reads):
            return None
        return name


def _thread_last(t: ArrayType, threads: Expr):
    """`T a[threads][d1][d2]` -> `T a[d1][d2][threads]` (as a type: the outermost size moves innermost)."""
    def rebuild(inner):
        if isinstance(inner, ArrayType):
            return ArrayType(rebuild(inner.element), inner.size)
        return ArrayType(inner, threads)
    return rebuild(t.element)


def _replace_reads(body: Block, name: str, value: Expr, nest: _Nest) -> Block:
    """Every read `name[thread]` of a phase becomes `value` in that phase's thread indices; the store goes."""
    def is_store(s: Stmt) -> bool:
        return isinstance(s, Assign) and isinstance(s.target, Index) and s.target.base == Var(name)

    def in_nest(loop: For) -> For:
        reader = _Nest.of(loop)
        if reader is None or not set(nest.axes) <= set(reader.axes):
            raise _CannotSink(name)
        renamed = dict(zip(nest.axes, nest.vars))
        mapping = {renamed[a]: Var(v) for a, v in zip(reader.axes, reader.vars) if a in renamed}
        local = transform(value, lambda n: mapping.get(n.name) if isinstance(n, Var) else None)

        def read(n: Node) -> Node | None:
            if isinstance(n, Block):
                return Block(tuple(transform(s, read, top_down=True) for s in n.body if not is_store(s)))
            if isinstance(n, Index) and n.base == Var(name):
                if not _sym_equal(n.index, reader.linear):
                    raise _CannotSink(name)
                return local
            return None

        return transform(loop, read, top_down=True)

    def visit(n: Node) -> Node | None:
        return in_nest(n) if _is_axis_loop(n, "threadIdx") else None

    try:
        out = transform(body, visit, top_down=True)
    except _CannotSink:
        return body
    if any(n == Var(name) for s in out.body if not (isinstance(s, Decl) and s.name == name) for n in walk(s)):
        return body  # a read outside the phases: keep the array
    return Block(tuple(s for s in out.body if not (isinstance(s, Decl) and s.name == name)))


# ------------------------------------------------------------------------------------------------ one phase ---

@dataclass(frozen=True)
class _Leaf:
    """A statement that runs whole in a thread loop, under `guard` (a per-thread bool variable, or None)."""

    stmt: Stmt
    guard: Expr | None


@dataclass(frozen=True)
class _Uniform:
    """A statement with the same effect in every thread, run once outside the thread loop: a declaration (safe to
    compute early, before the thread loop being built) or a store (`ordered`: after the thread loop before it)."""

    decl: Stmt
    ordered: bool = False


@dataclass(frozen=True)
class _Loop:
    """A serial loop with the same header in every thread, the thread loops moved into its body."""

    loop: For
    items: tuple


class _Sinker:
    """One thread nest distributed over its statements and moved inward (the module docstring's rules)."""

    def __init__(self, nest: _Nest, block_body: Block, loop: For, taken: set[str], options: SimdizeOptions):
        self.nest, self.taken, self.options, self.block_body = nest, taken, options, block_body
        self.body = Block(nest.body)
        # the outer thread loops (ty, tz) stay around the phase: only the innermost one (tx, the SIMD lanes) moves
        self.lane, self.lanes = nest.vars[-1], nest.ends[-1]
        self.thread_vars = {self.lane}
        self.decls = [n for n in walk(self.body) if isinstance(n, Decl)]
        self.statement_decls = {s.name: s for n in walk(self.body) if isinstance(n, Block)
                                for s in n.body if isinstance(s, Decl)}
        self.uniform: set[str] = set()
        self.guards: set[str] = set()  # the per-thread conditions this pass makes (`xp_active`)
        self.maybe_unset: set[str] = set()  # declared without a value on every lane (under a condition, or none)
        self.written = written_names(transform(self.body, lambda n: dataclasses.replace(n, step=None)
                                               if isinstance(n, For) else None))
        self._check(block_body, loop)

    def _check(self, block_body: Block, loop: For) -> None:
        body = self.body
        if any(isinstance(n, (Barrier, Return)) or isinstance(n, Call) and n.name.startswith(_WARP_CALLS)
               for n in walk(body)) or exits_at_level(body.body, (Break,)):
            raise _CannotSink("barrier, return, break or warp intrinsic")
        names = [d.name for d in self.decls]
        if any(names.count(n) > 1 for n in self.statement_decls):
            raise _CannotSink("a name declared twice")
        outside = names_in(transform(block_body, lambda n: Block(()) if n is loop else None, top_down=True))
        if set(self.statement_decls) & outside:
            raise _CannotSink("a name of the phase is used outside it")
        declared = set(names) | set(self.nest.vars)
        linear = self.nest.linear
        stores = store_targets(body)
        for name in sorted(names_in(body) - declared):
            written = [t for t in stores if _chain(t)[0] == Var(name)]
            if not written:
                continue
            occurrences = sum(1 for n in walk(body) if n == Var(name))
            own = [n for n in _chains(body, name) if _sym_equal(_chain(n)[1][0], linear)
                   or _sym_equal(_chain(n)[1][-1], linear)]
            plain = sum(1 for n in walk(body) if isinstance(n, Assign) and n.op == "" and _chain(n.target)[0] == Var(name)
                        and not any(m == Var(name) for i in _chain(n.target)[1] for m in walk(i)))
            if occurrences != len(own) and occurrences != plain:
                raise _CannotSink(f"{name} is written and read by different threads of the phase")

    def run(self) -> Stmt:
        items = self.level(self.nest.body, None, loop_level=True)
        if all(isinstance(item, _Leaf) and item.guard is None for item in items) \
                and not (self.options.mark_simd and all(_straight(item.stmt) for item in items)):
            raise _CannotSink("nothing to move and nothing to vectorize")
        items = self.uniform_stores(items)
        candidates = set(self.statement_decls) - self.uniform
        groups: list[Stmt] = []
        self.render(items, frozenset(), groups)
        expand = frozenset(name for name in candidates
                           if sum(1 for g in groups if name in names_in(g) | {d.name for d in walk(g)
                                                                               if isinstance(d, Decl)}) > 1)
        recomputed = self.recomputed(expand)
        expand -= set(recomputed)
        hoisted = tuple(self.expanded_decl(self.statement_decls[name]) for name in sorted(expand))
        out = self.render(items, expand, [])
        for name in sorted(expand):
            out = [self.expand_refs(s, name, _rank(self.statement_decls[name].type)) for s in out]
        if recomputed:
            out = [transform(s, lambda n: _without_decls(n, set(recomputed))) for s in out]
            out = [transform(s, lambda n: recomputed.get(n.name) if isinstance(n, Var) else None) for s in out]
        phase: Stmt = _accumulators_in_registers(Block(hoisted + tuple(out)), self.block_body, self.fresh,
                                                  self.options)
        for loop in reversed(self.nest.loops[:-1]):
            phase = dataclasses.replace(loop, body=phase if isinstance(phase, Block) else Block((phase,)))
        return phase

    def recomputed(self, shared: frozenset[str]) -> dict[str, Expr]:
        """The values of the variables among `shared` (used by several thread loops) that are arithmetic on the
        thread indices and on values the phase does not change (`const int t = threadIdx.x;`, `const int i = base
        + t;`), written out in terms of those: each thread loop computes them again instead of reading them back
        from an array of one element per thread (which g++ reads as a gather, and whose indices it cannot see
        through)."""
        varying = (set(self.statement_decls) | self.written) - set(self.nest.vars)
        out: dict[str, Expr] = {}
        while True:
            found = {name: d.init for name in shared if name not in out
                     and (d := self.statement_decls[name]).init is not None and isinstance(d.type, ScalarType)
                     and not d.qualifiers and name not in self.written and _is_safe(d.init)
                     and not names_in(d.init) & (varying - set(out))}
            if not found:
                break
            out.update(found)
        for name in out:  # in terms of the thread indices and invariants only
            for _ in out:
                out[name] = transform(out[name], lambda n: out.get(n.name) if isinstance(n, Var) else None)
        return out

    def uniform_stores(self, items: list) -> list:
        """Per-thread variables that every thread sets to the same values (`a_frag[i] = As[k][ty + 16 * i]`: no
        lane index, no per-thread condition) become one variable, set once outside the thread loop: the lanes read
        it as a broadcast instead of each keeping a copy."""
        if not (isinstance(self.lanes, Const) and isinstance(self.lanes.value, int) and self.lanes.value > 0):
            return items  # a store made once must be made by at least one thread
        leaves = [item for item in _all_items(items) if isinstance(item, _Leaf)]
        shared = {name for name, d in self.statement_decls.items() if name not in self.uniform
                  and (isinstance(d.type, _VALUE_TYPES) or isinstance(d.type, ArrayType)) and not d.qualifiers}
        while True:
            lane_bound = {self.lane} | (set(self.statement_decls) - self.uniform - shared) | (self.written - shared)
            kept = {name for name in shared if all(_sets_uniformly(leaf, name, lane_bound) for leaf in leaves)}
            if kept == shared:
                break
            shared = kept
        if not shared:
            return items
        self.uniform |= shared

        def convert(item):
            if isinstance(item, _Loop):
                return _Loop(item.loop, tuple(convert(i) for i in item.items))
            if isinstance(item, _Leaf) and isinstance(item.stmt, Decl) and item.stmt.name in shared:
                return _Uniform(item.stmt)
            if isinstance(item, _Leaf) and stored_names(item.stmt) & shared:
                return _Uniform(item.stmt, ordered=True)
            return item

        return [convert(item) for item in items]

    def lane_loop(self, stmts: tuple[Stmt, ...], simd: bool) -> For:
        loop = dataclasses.replace(self.nest.loops[-1], body=Block(stmts))
        return dataclasses.replace(loop, kind=ForKind.vectorized, axis=None, pragmas=()) if simd else loop

    # ------------------------------------------------------------------ distributing statements --------------

    def fresh(self, base: str) -> str:
        name = fresh_name(base, self.taken)
        self.taken.add(name)
        return name

    def private(self, base: str) -> str:
        """A new per-thread condition, expanded like the body's own variables."""
        name = self.fresh(base)
        self.statement_decls[name] = Decl(name, _BOOL)
        self.guards.add(name)
        return name

    def level(self, stmts: tuple[Stmt, ...], guard: Expr | None, loop_level: bool = False) -> list:
        """Items for `stmts` run under `guard`; loop_level: they are the body of the loop a `continue` at their level
        leaves (the thread loop, or a loop moved outside it)."""
        items: list = []
        for k, s in enumerate(stmts):
            last = k == len(stmts) - 1
            if loop_level and _continue_pattern(s):
                active = self.private("xp_active")
                items.append(_Leaf(Decl(active, _BOOL, _and(guard, UnaryOp("!", s.cond))), None))
                then = s.then.body[:-1]
                if then:
                    if exits_at_level(then, (Break, Continue, Return)):
                        raise _CannotSink("continue")
                    items.append(_Leaf(If(_and(guard, UnaryOp("!", Var(active))), Block(then)), None))
                guard = Var(active)
                continue
            exits = exits_at_level((s,), (Break, Continue, Return))
            if exits and not (loop_level and last and not exits_at_level((s,), (Break, Return))):
                raise _CannotSink("an exit from the loop")  # a `continue` in the last statement skips nothing more
            if isinstance(s, Decl) and self.is_uniform(s):
                self.uniform.add(s.name)
                items.append(_Uniform(s))
            elif isinstance(s, For):
                items.extend(self.loop(s, guard))
            elif isinstance(s, If) and any(isinstance(n, For) for n in walk(s)):
                items.extend(self.branch(s, guard, loop_level and last))
            else:
                items.append(_Leaf(s, guard))
        return items

    def varying(self) -> set[str]:
        return self.thread_vars | (set(self.statement_decls) - self.uniform) | self.written

    def is_uniform(self, d: Decl) -> bool:
        return isinstance(d.type, (ScalarType, PointerType)) and d.init is not None and _is_safe(d.init) \
            and not d.qualifiers and not names_in(d.init) & self.varying() and d.name not in self.written

    def loop(self, s: For, guard: Expr | None) -> list:
        view = canonical(s)
        if view is None or s.kind not in (ForKind.serial, ForKind.unrolled) or not _is_safe(view.start) \
                or not _is_safe(view.stop) or names_in(view.stop) & self.varying():
            return [_Leaf(s, guard)]
        try:
            if not names_in(view.start) & self.varying():
                return [_Loop(s, tuple(self.level(s.body.body, guard, loop_level=True)))]
            return [self.grid_stride(s, view, guard)]
        except _CannotSink:
            return [_Leaf(s, guard)]

    def grid_stride(self, s: For, view, guard: Expr | None) -> _Loop:
        """`for (c = t + a; c < n; c += s)` -> `for (c0 = a; c0 < n; c0 += s) { c = c0 + t; if (c < n) ... }`."""
        start = to_sympy(view.start)
        if start is None or exits_at_level(s.body.body, (Break, Continue)) \
                or sum(1 for d in self.decls if d.name == view.var) > 1:
            raise _CannotSink("not a grid-stride loop")
        # the thread's part of the start: its number in the block or one of its indices (never negative)
        offset = sympy.expand(start - symbol(self.lane))  # the lane's part of the start (never negative)
        if {sym.name for sym in offset.free_symbols} & self.varying():
            raise _CannotSink("not a grid-stride loop")
        part = Var(self.lane)
        first = self.fresh(f"{view.var}0")
        header = For((Decl(first, _INT, from_sympy(offset)),), BinOp("<", Var(first), view.stop),
                     Assign(Var(first), Const(view.step, DType.int32), "+"), Block(()), kind=s.kind,
                     pragmas=s.pragmas)  # an unroll request stays with the loop
        stmts = s.body.body
        lanes = self.lanes.value if isinstance(self.lanes, Const) and isinstance(self.lanes.value, int) else 0
        # the first lane's index c0 a multiple of the lane count, never negative: c = c0 + t keeps c0's quotient
        aligned = lanes > 0 and view.step % lanes == 0 and _multiple(offset, lanes, set(self.nest.vars))
        if aligned:
            stmts = _lane_quotients(stmts, view.var, first, self.lane, lanes)
        # c0 < n and both multiples of the lane count: every lane's c = c0 + t < n, no guard
        guarded = not (aligned and _multiple(to_sympy(view.stop), lanes))
        body, inner_guard = [], guard
        if guarded or any(n == Var(view.var) for st in stmts for n in walk(st)):
            self.statement_decls[view.var] = Decl(view.var, _INT)
            body.append(_Leaf(Decl(view.var, _INT, BinOp("+", Var(first), part)), None))
        if guarded:
            active = self.private("xp_active")
            body.append(_Leaf(Decl(active, _BOOL, _and(guard, BinOp("<", Var(view.var), view.stop))), None))
            inner_guard = Var(active)
        body.extend(self.level(stmts, inner_guard))
        return _Loop(header, tuple(body))

    def branch(self, s: If, guard: Expr | None, loop_level: bool) -> list:
        then = self.private("xp_active")
        items = [_Leaf(Decl(then, _BOOL, _and(guard, s.cond)), None)]
        try:
            items.extend(self.level(s.then.body, Var(then), loop_level))
            if s.otherwise is not None:
                other = self.private("xp_active")
                items.append(_Leaf(Decl(other, _BOOL, _and(guard, UnaryOp("!", Var(then)))), None))
                items.extend(self.level(s.otherwise.body, Var(other), loop_level))
        except _CannotSink:
            return [_Leaf(s, guard)]
        return items

    # ------------------------------------------------------------------ printing the new loops ---------------

    def render(self, items, expand: frozenset[str], groups: list[Stmt]) -> list[Stmt]:
        out: list[Stmt] = []
        run: list[Stmt] = []

        def flush() -> None:
            if run:
                simd = self.options.mark_simd and all(_straight(s) for s in run)
                groups.append(self.lane_loop(tuple(run), simd))
                out.append(groups[-1])
                run.clear()

        for item in items:
            if isinstance(item, _Leaf):
                run.extend(self.leaf(item, expand))
            elif isinstance(item, _Uniform):
                if item.ordered:
                    flush()
                out.append(item.decl)  # same value in every thread: computed once, outside the threads' loop
            else:
                flush()
                out.append(dataclasses.replace(item.loop, body=Block(tuple(self.render(item.items, expand, groups)))))
        flush()
        return out

    def leaf(self, item: _Leaf, expand: frozenset[str]) -> list[Stmt]:
        s, guard = item.stmt, item.guard
        if isinstance(s, Decl):
            if s.init is None or guard is not None and (s.name in expand or not self.on_every_lane(s)):
                self.maybe_unset.add(s.name)
            if s.name in expand:
                if s.init is None:
                    return []
                s = Assign(Var(s.name), s.init)
            elif guard is not None:
                if s.init is None or self.on_every_lane(s):
                    return [s]
                if not isinstance(s.type, _VALUE_TYPES):
                    raise _CannotSink(f"{s.name}: declared with a value under a per-thread condition")
                return [Decl(s.name, _mutable(s.type)), If(guard, Block((Assign(Var(s.name), s.init),)))]
            else:
                return [s]
        return [s] if guard is None else [If(guard, Block((s,)))]

    def on_every_lane(self, d: Decl) -> bool:
        """A declaration under a per-thread condition computed on every lane all the same: arithmetic that cannot
        trap, on values every lane has. Its value is then a plain local, so a bounds test of it can be settled
        for a whole tile (_bounds_versioned): gemm's `if (c < N)` on its stores was a masked store per lane."""
        return d.init is not None and isinstance(d.type, _VALUE_TYPES) and _is_safe(d.init) \
            and not names_in(d.init) & self.maybe_unset

    def expanded_decl(self, d: Decl) -> Decl:
        if d.qualifiers or not isinstance(d.type, (*_VALUE_TYPES, ArrayType)) \
                or isinstance(d.type, ArrayType) and d.init is not None:
            raise _CannotSink(f"{d.name} cannot be expanded")
        count = self.lanes
        if isinstance(d.type, ArrayType):
            return Decl(d.name, _thread_last(ArrayType(d.type, count), count))
        # a condition kept per lane as int, not bool: gcc 12 does not vectorize a masked load (`if (c[t]) acc[t]
        # += x[i]`) whose mask comes from a bool array (bytes against floats); the values are 0 and 1 either way
        return Decl(d.name, ArrayType(_INT if d.name in self.guards else _mutable(d.type), count))

    def expand_refs(self, node: Stmt, name: str, rank: int) -> Stmt:
        linear = Var(self.lane)

        def visit(n: Node) -> Node | None:
            if isinstance(n, Index):
                base, indices = _chain(n)
                if base == Var(name) and len(indices) == rank:
                    return Index(_rebuild(base, [transform(i, visit, top_down=True) for i in indices]), linear)
                return None
            if n == Var(name):
                if rank:
                    raise _CannotSink(f"{name} is used as a whole array")
                return Index(n, linear)
            return None

        return transform(node, visit, top_down=True)


def _multiple(e: sympy.Expr | None, factor: int, nonnegative: set[str] | None = None) -> bool:
    """e is a polynomial with integer coefficients that are all multiples of factor (so e is one for integer
    symbols); with `nonnegative` (names never negative), also e >= 0: its symbols among them, no coefficient < 0."""
    if e is None:
        return False
    names = {sym.name for sym in e.free_symbols}
    if nonnegative is not None and not names <= nonnegative:
        return False
    terms = sympy.Poly(e, *sorted(e.free_symbols, key=str)).coeffs() if names else [e]
    return all(c.is_integer and int(c) % factor == 0 and (nonnegative is None or c >= 0) for c in terms)


def _lane_quotients(stmts: tuple[Stmt, ...], var: str, first: str, lane: str, lanes: int) -> tuple[Stmt, ...]:
    """With var = first + lane, first >= 0 a multiple of `lanes` and 0 <= lane < lanes, for a divisor d that is a
    multiple of `lanes`: var / d == first / d and var % d == first % d + lane. The quotient is the same in every
    lane and the remainder is consecutive, so tile loads indexed by them are contiguous, not gathers."""
    def visit(n: Node) -> Node | None:
        if isinstance(n, BinOp) and n.op in ("/", "%") and n.lhs == Var(var) and isinstance(n.rhs, Const) \
                and isinstance(n.rhs.value, int) and n.rhs.value > 0 and n.rhs.value % lanes == 0:
            whole = BinOp(n.op, Var(first), n.rhs)
            return whole if n.op == "/" else BinOp("+", whole, Var(lane))
        return None

    return tuple(transform(st, visit) for st in stmts)


# ------------------------------------------------------------------------------------- register tiles ---

@dataclass(frozen=True)
class _Fragment:
    """`for u1 .. { for un { frag[u1]..[un] = value } }`: every element of frag set once per serial iteration."""

    name: str
    loops: tuple[For, ...]
    value: Expr


def _accumulators_in_registers(phase: Block, block_body: Block, fresh: Callable[[str], str],
                               options: SimdizeOptions) -> Block:
    """`for k { a[i] = f(i, k) ..; for i { for j { lanes: acc[i][j][t] += g(a[i], b[j][t]) } } }` ->
    `for i { for j { for k { lanes: acc[i][j][t] += g(f(i, k), ..) } } }`, or, where k is to be unrolled (CUDA's
    `#pragma unroll`) and runs a known number of times, the lanes index distinct elements and k does not index
    them, `for i { for j { lanes: { s = acc[i][j][t]; s += g(f(i, 0), ..); s += g(f(i, 1), ..); ..
    acc[i][j][t] = s; } } }`.

    Why: a register tile (CUDA's `acc[4][4]` per thread, now one vector per element) is loaded and stored on every
    step of the serial loop k when k is outside the tile loops; with k inside, the vector of one element stays in
    a register across k. Legal (and exact: each element still sums in k order) when, in k's body,
    - the fragments (a, b) are set from values nothing in the body writes, over ranges that cover every index
      the accumulation reads them at, and are used nowhere else: their reads become the values themselves;
    - what remains is one perfect nest of loops whose bounds do not change in k, around one lane loop around one
      compound assignment to an element indexed by each loop variable of the nest, as a whole index (distinct
      iterations of the nest, distinct elements; the lane loop stays innermost), whose value reads nothing the
      body writes.
    The second form keeps the sum in a scalar the compiler holds in a register (gcc 12 still stores a vector
    accumulated in memory after each step of an unrolled k); it is unrolled here, since a loop left in the lane
    loop would be marked `omp simd` itself by tensorize (an inner reduction), which undoes the lanes.
    Where the tile loops have constant bounds, the sums of the innermost tile loops that fit
    `options.register_bytes` are held at once, the outer tile loops staying loops around them (see
    _register_tile)."""
    moved: set[str] = set()
    elements = {d.name: d.type for d in (*walk(block_body), *walk(phase)) if isinstance(d, Decl)}

    def visit(n: Node) -> Node | None:
        if isinstance(n, For) and n.kind in (ForKind.serial, ForKind.unrolled) and canonical(n) is not None:
            out = _interchanged(n, phase, elements, fresh, options)
            if out is not None:
                moved.update(out[1])
                return out[0]
        return None

    out = transform(phase, visit, top_down=True)
    if not moved:
        return phase
    rest = Block(tuple(s for s in out.body if not (isinstance(s, Decl) and s.name in moved)))
    gone = moved - names_in(rest)  # a fragment declared for the whole phase (expanded per lane): now unused
    return Block(tuple(s for s in out.body if not (isinstance(s, Decl) and s.name in gone)))


def _interchanged(k_loop: For, phase: Block, types: dict[str, Node], fresh: Callable[[str], str],
                  options: SimdizeOptions) -> tuple[For, set[str]] | None:
    """k_loop with the tile loops outside it and its fragments substituted (and their names), or None."""
    *defs, nest = k_loop.body.body or (None,)
    loops: list[For] = []
    node = nest
    while isinstance(node, For) and node.kind in (ForKind.serial, ForKind.unrolled) and canonical(node) is not None:
        loops.append(node)
        node = _only(node.body)
    lane = node
    if not loops or not (isinstance(lane, For) and lane.kind == ForKind.vectorized and canonical(lane) is not None):
        return None
    update = _only(lane.body)
    if not (isinstance(update, Assign) and update.op and _is_pure(update.value) and _is_pure(update.target)):
        return None
    fragments = _fragments(defs, phase, k_loop)
    if fragments is None:
        return None
    ranges = {canonical(lp).var: canonical(lp) for lp in (*loops, lane)}
    value = update.value
    for fragment in fragments:
        value = _substituted(value, fragment, ranges)
        if value is None:
            return None
    loop_vars = set(ranges) | {canonical(lp).var for f in fragments for lp in f.loops}
    written = (written_names(k_loop.body) | stored_names(k_loop.body)) - loop_vars
    base, indices = _chain(update.target)
    whole = {i.name for i in indices if isinstance(i, Var)}
    if not isinstance(base, Var) or not {canonical(lp).var for lp in loops} <= whole \
            or names_in(value) & (written | {base.name}) or any(names_in(i) & written for i in indices) \
            or any(names_in(canonical(lp).stop) & (written | {canonical(k_loop).var}) for lp in (*loops, lane)):
        return None
    element = types.get(base.name)
    while isinstance(element, ArrayType):
        element = element.element
    k_view, t = canonical(k_loop), symbol(canonical(lane).var)
    first, stop = to_sympy(k_view.start), to_sympy(k_view.stop)
    steps = range(int(first), int(stop), k_view.step) if isinstance(first, sympy.Integer) \
        and isinstance(stop, sympy.Integer) else range(0)
    lanes_apart = isinstance(element, ScalarType) and k_view.var not in names_in(update.target) \
        and any((d := sympy.diff(i, t)).is_number and d != 0 for i in map(to_sympy, indices) if i is not None)
    tile = _register_tile(loops, lane, element, options) if lanes_apart else None
    if tile is not None:
        # the tile's inner loops in registers: one scalar per element and lane, k a loop inside the lane loop
        sums = [(fresh("xp_sum"), point) for point in tile.points]
        at = lambda e, point: fold(_with_values(e, point))  # noqa: E731
        step = dataclasses.replace(k_loop, kind=ForKind.serial, pragmas=(), body=Block(tuple(
            Assign(Var(total), at(value, point), update.op) for total, point in sums)))
        inner = _in_chunks(dataclasses.replace(lane, body=Block((
            *(Decl(total, _mutable(element), at(update.target, point)) for total, point in sums), step,
            *(Assign(at(update.target, point), Var(total)) for total, point in sums)))), tile.chunk, fresh)
        for loop in reversed(tile.around):
            inner = dataclasses.replace(loop, body=Block((inner,)))
        return inner, {f.name for f in fragments}
    if k_loop.kind == ForKind.unrolled and 0 < len(steps) <= _MAX_UNROLLED and lanes_apart:
        # distinct lanes, distinct elements: each lane sums over k on its own, k unrolled as the source asked
        total = fresh("xp_sum")
        inner = dataclasses.replace(lane, body=Block((
            Decl(total, _mutable(element), update.target),
            *(Assign(Var(total), substitute(value, k_view.var, Const(k, DType.int32)), update.op) for k in steps),
            Assign(update.target, Var(total)))))
    else:
        inner = dataclasses.replace(k_loop, body=Block((dataclasses.replace(lane, body=Block((
            dataclasses.replace(update, value=value),))),)))
    for loop in reversed(loops):
        inner = dataclasses.replace(loop, body=Block((inner,)))
    return inner, {f.name for f in fragments}


def _without_decls(n: Node, names: set[str]) -> Node | None:
    """A block without the declarations and settings of `names` (and the `if`s left with nothing to do)."""
    def gone(s: Stmt) -> bool:
        return isinstance(s, Decl) and s.name in names or isinstance(s, Assign) and s.op == "" \
            and isinstance(s.target, Var) and s.target.name in names \
            or isinstance(s, If) and not s.then.body and (s.otherwise is None or not s.otherwise.body) \
            and _is_pure(s.cond)

    if isinstance(n, Block) and any(gone(s) for s in n.body):
        return Block(tuple(s for s in n.body if not gone(s)))
    return None


@dataclass(frozen=True)
class _Tile:
    """The loops that stay around a register tile's lane loop (the outermost held one, where only some of its
    values fit, strided by as many), the values of the held loops' variables at each sum, and the lanes per
    chunk the lane loop runs in (all of them: one chunk)."""
    around: tuple[For, ...]
    points: tuple[dict[str, Expr], ...]
    chunk: int


def _register_tile(loops: list[For], lane: For, element: ScalarType, options: SimdizeOptions) -> _Tile | None:
    """The register tile with the most sums (more than one) that fit `options.register_bytes`, each sum one
    vector register of a chunk of the lanes: the innermost tile loops held whole, and the next one held for as
    many of its values as fit, where that is more than one and divides its trip count (`for i < 4` holding 2
    rows: `for (i = 0; i < 4; i += 2)` around the sums of rows i and i + 1). None where no such tile exists (or
    a bound of the held loops or the lane count is not a constant). Lanes run in chunks of one vector register
    where they fill several evenly."""
    lanes = canonical(lane)
    count = to_sympy(lanes.stop) - to_sympy(lanes.start)
    if not isinstance(count, sympy.Integer) or element.dtype.bits < 8:
        return None
    per_vector = options.vector_bytes * 8 // element.dtype.bits
    chunk = per_vector if lanes.step == 1 and 0 < per_vector < count and count % per_vector == 0 else int(count)
    # a sum narrower than a register still takes one
    capacity = options.register_bytes // max(chunk * element.dtype.bits // 8, options.vector_bytes)
    points: list[dict[str, Expr]] = [{}]
    best = None
    for held, loop in enumerate(reversed(loops), 1):
        view = canonical(loop)
        first, stop = to_sympy(view.start), to_sympy(view.stop)
        if not (isinstance(first, sympy.Integer) and isinstance(stop, sympy.Integer)):
            break
        values = range(int(first), int(stop), view.step)
        around = loops[:len(loops) - held]
        if len(points) * len(values) <= capacity:
            points = [{view.var: Const(v, DType.int32), **p} for v in values for p in points]
            if len(points) > 1:
                best = _Tile(tuple(around), tuple(points), chunk)
            continue
        some = capacity // len(points)
        if some > 1 and len(values) % some == 0 and some * len(points) > len(best.points if best else ()):
            strided = dataclasses.replace(loop, step=Assign(Var(view.var), Const(view.step * some, DType.int32),
                                                            "+"))
            offsets = [Var(view.var) if d == 0 else BinOp("+", Var(view.var), Const(d * view.step, DType.int32))
                       for d in range(some)]
            best = _Tile((*around, strided), tuple({view.var: o, **p} for o in offsets for p in points), chunk)
        break
    return best


def _in_chunks(lane: For, chunk: int, fresh: Callable[[str], str]) -> For:
    """The lane loop run in chunks of `chunk` lanes, one after the other (lanes are independent: any order of
    whole chunks is one of the orders `omp simd` allows); itself where chunk covers it."""
    view = canonical(lane)
    count = to_sympy(view.stop) - to_sympy(view.start)
    if chunk >= count:
        return lane
    first = fresh("xp_chunk")
    inner = dataclasses.replace(lane, init=(dataclasses.replace(lane.init[0], init=Var(first)),),
                                cond=BinOp("<", Var(view.var), BinOp("+", Var(first), Const(chunk, DType.int32))))
    return For((Decl(first, _INT, view.start),), BinOp("<", Var(first), view.stop),
               Assign(Var(first), Const(chunk, DType.int32), "+"), Block((inner,)))


def _with_values(e: Expr, values: dict[str, Expr]) -> Expr:
    """e with the variables in `values` replaced by their values, its indices simplified (`xp_tx + 0 * 16` ->
    `xp_tx`)."""
    def visit(n: Node) -> Node | None:
        if isinstance(n, Var) and n.name in values:
            return values[n.name]
        if isinstance(n, Index) and names_in(n.index) & set(values):
            return dataclasses.replace(n, base=_with_values(n.base, values),
                                       index=simplify_int(fold(_with_values(n.index, values))))
        return None

    return transform(e, visit, top_down=True)


def _fragments(defs: list[Stmt], phase: Block, k_loop: For) -> list[_Fragment] | None:
    """The definitions before the tile nest, each a fragment's declaration or its one setting nest; None when
    something else is there or a fragment is used outside k_loop."""
    declared = {s.name for s in defs if isinstance(s, Decl)}
    outer = {s.name for s in phase.body if isinstance(s, Decl) and isinstance(s.type, ArrayType) and s.init is None}
    fragments: list[_Fragment] = []
    for s in defs:
        if isinstance(s, Decl):
            if not (isinstance(s.type, ArrayType) and s.init is None):
                return None
            continue
        loops: list[For] = []
        node: Stmt | None = s
        while isinstance(node, For) and canonical(node) is not None and canonical(node).step == 1 \
                and canonical(node).start == Const(0, DType.int32):
            loops.append(node)
            node = _only(node.body)
        if not (loops and isinstance(node, Assign) and node.op == "" and _is_pure(node.value)):
            return None
        base, indices = _chain(node.target)
        if not (isinstance(base, Var) and indices == [Var(canonical(lp).var) for lp in loops]) \
                or base.name not in declared | outer or names_in(node.value) & {base.name}:
            return None
        fragments.append(_Fragment(base.name, tuple(loops), node.value))
    names = [f.name for f in fragments]
    if len(set(names)) != len(names) or not declared <= set(names):
        return None  # set twice (the second setting would win), or a declaration that stays in use
    for f in fragments:
        inside = sum(1 for n in walk(k_loop.body) if n == Var(f.name))
        if sum(1 for n in walk(phase) if n == Var(f.name)) != inside:
            return None  # used outside k_loop
        if any(names_in(f.value) & {g.name for g in fragments} for g in fragments):
            return None
    return fragments


def _substituted(value: Expr, fragment: _Fragment, ranges: dict) -> Expr | None:
    """value with its reads of fragment replaced by what was stored there: each read index a loop variable of
    the tile nest over the same range as the setting loop at that position (so the element was set)."""
    failed = []

    def visit(n: Node) -> Node | None:
        if isinstance(n, Index):
            base, indices = _chain(n)
            if base != Var(fragment.name):
                return None
            if len(indices) != len(fragment.loops):
                failed.append(n)
                return n
            mapping = {}
            for index, loop in zip(indices, fragment.loops):
                view, use = canonical(loop), ranges.get(index.name) if isinstance(index, Var) else None
                if use is None or use.step != 1 or use.start != view.start or not _sym_equal(use.stop, view.stop):
                    failed.append(n)
                    return n
                mapping[view.var] = index
            return transform(fragment.value, lambda m: mapping.get(m.name) if isinstance(m, Var) else None)
        if n == Var(fragment.name):
            failed.append(n)
        return None

    out = transform(value, visit, top_down=True)
    return None if failed else out


def _is_pure(e: Node) -> bool:
    """_is_safe, also reading memory (under a select too): evaluating it again, where it was evaluated before,
    changes nothing."""
    return _is_safe(transform(e, lambda n: Var("xp_element") if isinstance(n, Index) and _is_pure(n.base)
                              and _is_pure(n.index) or isinstance(n, Select) and _is_pure(n.cond)
                              and _is_pure(n.then) and _is_pure(n.otherwise) else None, top_down=True))


def _all_items(items) -> list:
    out: list = []
    for item in items:
        out.append(item)
        if isinstance(item, _Loop):
            out.extend(_all_items(item.items))
    return out


def _sets_uniformly(leaf: _Leaf, name: str, lane_bound: set[str]) -> bool:
    """The leaf does not touch `name`, or declares or sets it the same way in every thread: without a per-thread
    condition, from values no thread computes differently, with nothing but pure calls."""
    s = leaf.stmt
    declares = isinstance(s, Decl) and s.name == name
    if not declares and name not in stored_names(s):
        return True
    if leaf.guard is not None or not (declares or isinstance(s, Assign) and _chain(s.target)[0] == Var(name)):
        return False
    parts = [s.init] if declares else [s.value, *_chain(s.target)[1]]
    return all(p is None or not names_in(p) & lane_bound and _straight(p) and not store_targets(p) for p in parts)


def _chains(node: Node, name: str) -> list[Index]:
    """The outermost index chains rooted at variable `name`."""
    found: list[Index] = []

    def visit(n: Node) -> Node | None:
        if isinstance(n, Index) and _chain(n)[0] == Var(name):
            found.append(n)
            for i in _chain(n)[1]:
                transform(i, visit, top_down=True)
            return n
        return None

    transform(node, visit, top_down=True)
    return found


def _continue_pattern(s: Stmt) -> bool:
    """`if (c) { ...; continue; }` with no other way out: the rest of the body runs where `!c`."""
    return isinstance(s, If) and s.otherwise is None and not s.constexpr and bool(s.then.body) \
        and isinstance(s.then.body[-1], Continue) and not any(isinstance(n, For) for n in walk(s.then))


def _and(guard: Expr | None, cond: Expr) -> Expr:
    return cond if guard is None else BinOp("&&", guard, cond)


def _mutable(t):
    return dataclasses.replace(t, const=False) if isinstance(t, _VALUE_TYPES) else t


def _straight(s: Stmt) -> bool:
    """Straight-line code `omp simd` can vectorize: no loops, no exits, only calls known to be pure."""
    return not any(isinstance(n, _NOT_STRAIGHT) or isinstance(n, Call) and n.name not in PURE_CALLS
                   for n in walk(s))
