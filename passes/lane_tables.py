"""lane_tables: what the SIMD loops of a serial loop compute the same in every iteration is computed once, before
it, into tables indexed by the iteration of the loops inside (cpp, after simdize).

Why: simdize turns a CUDA thread's `for c { for kh { if (row out) continue; for kw { if (col out) continue;
acc += x[..] * w[..]; } } }` into SIMD loops over the block's lanes that, at every (c, kh, kw) step, recompute
each lane's bounds mask, OR it over the lanes (to read the filter tap only if some lane needs it) and reduce the
lanes' indices to check that they read consecutive inputs, before the one loop that does the arithmetic. None of
that depends on c. Done once per block into tables, per (kh, kw) for the scalars and per kh and lane for the
masks, conv2d ran 3-4x faster on an AVX2 EPYC (bench/results/cpp_vs_numpy.md, session 12). Every sum still adds
its terms in the source's order.

What moves: a SIMD loop (`vectorized`, lanes 0..L) inside the serial loop C, under loops whose headers C's body
does not change (the "tap" loops; their iterations index the tables) and `if`s whose conditions it does not
change, when every iteration of C would compute the same in it:
- it reads only names C's body does not write, the tap loops' variables, its own locals, and what an earlier
  moved loop wrote on every path before it (under the same tap loops and `if` branches); memory through
  pointers only when C's body stores nowhere but in locals and private arrays and calls nothing with effects;
- it writes its own locals, scalars it reduces into (declared before it in the same statement list, written
  nowhere else), and its lane's element of private per-lane arrays C's body writes nowhere else, either
  outright or as `a[t] = p ? e : a[t]` where p is the same in the whole of C (a lane with p false keeps what it
  had before C); it reads such an element only after writing it.
A SIMD loop that does not move whole may lose its head: the longest run of its first statements that would move
alone, writing only its locals, where the rest reads some of them (each declared with a value) and no more of them
than the head reads lanes' elements of arrays (so a table read replaces at least as many reads, and the head's
arithmetic goes). Those locals become per-lane tables (a mask as int: g++ vectorizes no loads of bool), read by
the rest as `name[lane]`: conv2d's update loop reads each tap's column mask instead of recomputing it from the
row's mask and the lane's column, 16 % faster again. The `if`s C descends into may also test what a moved loop
reduced into on every path to them (simdize's unit-stride version test), read from its table.
Tap loops are canonical, unit-step and rectangular; a C with exits, raw code or method calls stays as it was.
The moved loops run once, in C's first iteration's order, before C (only if C runs), and store each written
scalar after the loop and each written array element at the end of the lane's iteration into a table; in C they
are gone, and the other statements read the tables. A read of a moved loop's result before that loop would have
run in the iteration, or outside its tap loops, leaves C as it was. The tables live on the stack: each tap depth
gets at most _TABLE_BYTES, and a version test on the tap loops' trip counts runs C as it was when they exceed it.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from kernel_ir.ir import (ArrayType, Assign, BinOp, Block, Break, Call, Cast, Const, Continue, Decl, DoWhile, DType,
                          Expr, For, ForKind, Function, If, Index, MethodCall, Module, Node, RawExpr, RawStmt, Return,
                          ScalarType, Select, Stmt, Switch, UnaryOp, Var, Verbatim, While, transform, walk)
from passes.loops import (PURE_CALLS, CanonicalLoop, canonical, fresh_name, names_in, root_name, simplify_int,
                          store_targets, stored_names, stores_stay_private, types_and_private_arrays,
                          without_effects, written_names)

_TABLE_BYTES = 32 * 1024  # per tap depth: a 3x3 filter's per-row masks of 128 lanes take 3 KiB
_MAX_ENTRIES = 4096
_LONG = ScalarType(DType.int64)
_INT = ScalarType(DType.int32)


def lane_tables(module: Module) -> Module:
    return lane_tables_and_report(module)[0]


def lane_tables_and_report(module: Module) -> tuple[Module, list[str]]:
    """The module with the invariant SIMD loops of its serial loops moved into tables, and one note per loop."""
    notes: list[str] = []

    def rewrite(fn: Function) -> Function:
        if fn.body is None:
            return fn
        taken = names_in(fn) | {d.name for d in walk(fn) if isinstance(d, Decl)} | {p.name for p in fn.params}
        private = _private_arrays(fn)

        def visit(node: Node) -> Node | None:
            if not isinstance(node, For) or node.kind == ForKind.vectorized:
                return node if isinstance(node, For) else None  # no loop of C inside a SIMD loop
            if node.kind != ForKind.serial or node.axis is not None:
                return None
            rewritten = _Loop(node, private, taken).run()
            if rewritten is None:
                return None
            notes.append(f"{fn.name}: {rewritten[1]} SIMD loop(s) in the loop over {canonical(node).var} "
                         "computed once, into tables")
            return rewritten[0]

        body = transform(fn.body, visit, top_down=True)
        return fn if body is fn.body else dataclasses.replace(fn, body=body)

    return module.map_functions(rewrite), notes


def _private_arrays(fn: Function) -> dict[str, ArrayType]:
    """The private arrays (passes.loops.types_and_private_arrays) that are one-dimensional arrays of scalars of a
    constant size: what a SIMD loop's lanes own one element each of."""
    types, private = types_and_private_arrays(fn)
    return {name: types[name] for name in private if isinstance(types[name].element, ScalarType)
            and isinstance(simplify_int(types[name].size), Const)}


def _sites(stmts: tuple[Stmt, ...]):
    """The statements of a body that set variables, a SIMD loop counting as one, containers opened."""
    for s in stmts:
        if isinstance(s, Block):
            yield from _sites(s.body)
        elif isinstance(s, For) and s.kind != ForKind.vectorized:
            yield from s.init
            if s.step is not None:
                yield s.step
            yield from _sites(s.body.body)
        elif isinstance(s, If):
            yield from _sites(s.then.body)
            if s.otherwise is not None:
                yield from _sites(s.otherwise.body)
        else:
            yield s


def _sets(s: Stmt, name: str) -> bool:
    return isinstance(s, Decl) and s.name == name or name in written_names(s) | stored_names(s)


@dataclass
class _Moved:
    """One SIMD loop computed before C, where it sits (tap loops and `if` branches), the declarations of the
    scalars it reduces into (they move with it), what it writes."""
    loop: For
    taps: tuple[CanonicalLoop, ...]
    context: tuple[int, ...]  # ids of the tap loops and `if` branches around it, outermost first
    decls: tuple[Decl, ...]
    arrays: tuple[str, ...]  # private per-lane arrays it writes (element [lane])
    scalars: tuple[str, ...]  # scalars it reduces into
    at: For | None = None  # the SIMD loop of C it stands for (itself, or the loop it is the head of)
    lane_locals: tuple[Decl, ...] = ()  # a head's locals the rest of its loop reads: one table entry per lane
    rest: For | None = None  # a head's loop without the head, reading those locals as `name[lane]`

    @property
    def names(self) -> tuple[str, ...]:
        """What it computes into tables."""
        return self.arrays + self.scalars + tuple(d.name for d in self.lane_locals)


@dataclass
class _Loop:
    """The analysis and rewrite of one serial loop C."""
    loop: For
    private: dict[str, ArrayType]
    taken: set[str]
    moved: list[_Moved] = field(default_factory=list)
    owner: dict[str, _Moved] = field(default_factory=dict)  # name a moved loop writes -> that loop

    def run(self) -> tuple[Stmt, int] | None:
        self.view = canonical(self.loop)
        body = self.loop.body
        if self.view is None or any(isinstance(n, (Return, Break, Continue, While, DoWhile, Switch, RawStmt, RawExpr,
                                                   Verbatim, MethodCall)) for n in walk(body)):
            return None  # exits, or code whose effects the analysis cannot see
        local = {d.name for d in walk(body) if isinstance(d, Decl)}
        self.changed = written_names(body) | stored_names(body) | local | {self.view.var}
        self.memory_stable = stores_stay_private(store_targets(body), local, set(self.private)) \
            and not any(isinstance(n, Call) and n.name not in PURE_CALLS for n in walk(body))
        self._scan(body.body, (), ())
        if not self.moved:
            return None
        self.deepest = max(self.moved, key=lambda m: len(m.taps)).taps
        if any(tuple(map(id, m.taps)) != tuple(map(id, self.deepest[:len(m.taps)])) for m in self.moved):
            return None  # under different tap loops: no one index for the tables
        self.trips = []
        for _ in self.deepest:
            self.trips.append(fresh_name("xp_trips", self.taken))
            self.taken.add(self.trips[-1])
        self.tables = {}
        for name in self.owner:
            self.tables[name] = fresh_name(f"xp_table_{name.removeprefix('xp_')}", self.taken)
            self.taken.add(self.tables[name])
        self.moved_at = {id(m.at): m for m in self.moved}
        self.moved_decls = {id(d) for m in self.moved for d in m.decls}
        main = self._main(body.body, (), set())
        if main is None:
            return None
        return self._assembled(Block(tuple(main))), len(self.moved)

    # ---------------------------------------------------------------- which SIMD loops move
    def _tap(self, s: Stmt, taps: tuple[CanonicalLoop, ...]) -> CanonicalLoop | None:
        view = canonical(s) if isinstance(s, For) and s.kind == ForKind.serial and s.axis is None else None
        if view is None or view.step != 1:
            return None
        # rectangular: its trip count, computed before C, is the same under every iteration of the loops around
        return view if self._constant(view.start, ()) and self._constant(view.stop, ()) else None

    def _constant(self, e: Expr, taps: tuple[CanonicalLoop, ...]) -> bool:
        """e is the same in every iteration of C (given the tap loops' variables) and has no effects."""
        return not names_in(e) & (self.changed - {t.var for t in taps}) and without_effects(e)

    def _stable(self, e: Expr, taps: tuple[CanonicalLoop, ...], context: tuple[int, ...]) -> bool:
        """e is the same in every iteration of C given the tap loops' variables, also where it reads what a moved
        loop computed on every path to it (a version test on a moved loop's reduction)."""
        return without_effects(e) and all(
            (m := self.owner.get(name)) is not None and context[:len(m.context)] == m.context and name in m.scalars
            for name in names_in(e) & (self.changed - {t.var for t in taps}))

    def _scan(self, stmts: tuple[Stmt, ...], taps: tuple[CanonicalLoop, ...], context: tuple[int, ...]) -> None:
        for k, s in enumerate(stmts):
            if isinstance(s, Block):
                self._scan(s.body, taps, context)
            elif (tap := self._tap(s, taps)) is not None:
                self._scan(s.body.body, taps + (tap,), context + (id(s),))
            elif isinstance(s, If) and self._stable(s.cond, taps, context):
                self._scan(s.then.body, taps, context + (id(s.then),))
                if s.otherwise is not None:
                    self._scan(s.otherwise.body, taps, context + (id(s.otherwise),))
            elif isinstance(s, For) and s.kind == ForKind.vectorized:
                moved = self._movable(s, stmts[:k], taps, context) or self._head(s, stmts[:k], taps, context)
                if moved is not None:
                    self.moved.append(dataclasses.replace(moved, at=moved.at or s))
                    self.owner.update({name: self.moved[-1] for name in moved.names})

    def _movable(self, lane_loop: For, before: tuple[Stmt, ...], taps: tuple[CanonicalLoop, ...],
                 context: tuple[int, ...]) -> _Moved | None:
        view = canonical(lane_loop)
        lanes = simplify_int(view.stop) if view is not None else None
        if view is None or simplify_int(view.start) != Const(0, DType.int32) or not isinstance(lanes, Const) \
                or not all(_straight(s) for s in lane_loop.body.body) or not without_effects(lane_loop.body):
            return None
        lane = view.var
        own = {d.name for d in walk(lane_loop.body) if isinstance(d, Decl)} | {lane}
        arrays: list[str] = []
        scalars: list[str] = []
        for target in store_targets(lane_loop.body):
            if isinstance(target, Var) and target.name in own:
                continue
            if isinstance(target, Var):
                scalars.append(target.name)
            elif isinstance(target, Index) and isinstance(target.base, Var) and target.index == Var(lane) \
                    and target.base.name in self.private \
                    and simplify_int(self.private[target.base.name].size) == lanes:
                arrays.append(target.base.name)
            else:
                return None
        arrays, scalars = list(dict.fromkeys(arrays)), list(dict.fromkeys(scalars))
        decls = []
        for name in scalars:  # declared before the loop in the same list, set nowhere else in C
            decl = next((d for d in before if isinstance(d, Decl) and d.name == name), None)
            if decl is None or not isinstance(decl.type, ScalarType) or decl.init is None \
                    or not self._constant(decl.init, ()) or self._setters(name) != 2:
                return None
            decls.append(decl)
        if any(self._setters(name) != 1 or not self._own_lane_writes(lane_loop, name, lane, taps) for name in arrays):
            return None
        for name in names_in(lane_loop.body) - own - set(arrays) - set(scalars) - {t.var for t in taps}:
            earlier = self.owner.get(name)
            if name in self.changed and (earlier is None or context[:len(earlier.context)] != earlier.context):
                return None  # changed by C otherwise, or set on a path that may not have run
        if not self.memory_stable and any(isinstance(n, UnaryOp) and n.op == "*" or isinstance(n, Index)
                                          and root_name(n) not in self.private for n in walk(lane_loop.body)):
            return None  # C stores through pointers: what the loop reads from memory may change
        return _Moved(lane_loop, taps, context, tuple(decls), tuple(arrays), tuple(scalars))

    def _head(self, lane_loop: For, before: tuple[Stmt, ...], taps: tuple[CanonicalLoop, ...],
              context: tuple[int, ...]) -> _Moved | None:
        """The longest head of a SIMD loop that does not move whole that would move alone, writing only its
        locals, where the rest reads some of them, each declared with a value, and no more of them than the head
        reads elements of per-lane arrays (a table read then replaces at least as many reads, and the head's
        arithmetic goes: a conv tap's column mask from the row's mask and the lane's column). The locals the
        rest reads become per-lane tables; the rest reads them as `name[lane]`."""
        view = canonical(lane_loop)
        if view is None:
            return None
        lane = view.var
        body = lane_loop.body.body
        for cut in range(len(body) - 1, 0, -1):
            head, rest = body[:cut], body[cut:]
            declared = {d.name: d for d in head if isinstance(d, Decl)}
            read = names_in(Block(rest)) & set(declared)
            exported = tuple(declared[name] for name in declared if name in read)
            element_reads = {n for n in walk(Block(head)) if isinstance(n, Index) and n.index == Var(lane)}
            if not exported or any(d.init is None or not isinstance(d.type, ScalarType) for d in exported) \
                    or len(exported) > len(element_reads) or read & written_names(Block(rest)) \
                    or any(isinstance(n, Decl) and n.name in declared for n in walk(Block(rest))):
                continue
            moved = self._movable(dataclasses.replace(lane_loop, body=Block(head)), before, taps, context)
            if moved is None or moved.arrays or moved.scalars:
                continue
            # fresh names: another loop of C may declare a local of the same name, and the tables go by name
            fresh = {}
            for name in read:
                fresh[name] = fresh_name(name, self.taken)
                self.taken.add(fresh[name])
            renamed = lambda n: dataclasses.replace(n, name=fresh[n.name]) \
                if isinstance(n, (Var, Decl)) and n.name in fresh else None  # noqa: E731
            head_loop = dataclasses.replace(moved.loop, body=transform(moved.loop.body, renamed))
            as_lanes = Block(tuple(transform(r, lambda n: Index(Var(fresh[n.name]), Var(lane)) if isinstance(n, Var)
                                             and n.name in fresh else None) for r in rest))
            return dataclasses.replace(moved, loop=head_loop, at=lane_loop,
                                       lane_locals=tuple(dataclasses.replace(d, name=fresh[d.name])
                                                         for d in exported),
                                       rest=dataclasses.replace(lane_loop, body=as_lanes))
        return None

    def _setters(self, name: str) -> int:
        return sum(_sets(s, name) for s in _sites(self.loop.body.body))

    def _own_lane_writes(self, lane_loop: For, name: str, lane: str, taps: tuple[CanonicalLoop, ...]) -> bool:
        """The loop writes `name` only as `name[lane] = e` or `name[lane] = p ? e : name[lane]`, top-level, e
        without `name` and p the same in all of C (a lane where p fails keeps its value from before C), and
        reads it elsewhere only as name[lane], after such a write."""
        element = Index(Var(name), Var(lane))
        fixed = self.changed | {t.var for t in taps}
        written = False
        for s in lane_loop.body.body:
            reads = [n for n in walk(s) if isinstance(n, Index) and n.base == Var(name)]
            if any(root_name(t) == name for t in store_targets(s)):
                if not (isinstance(s, Assign) and s.op == "" and s.target == element):
                    return False
                value = s.value
                if isinstance(value, Select) and value.otherwise == element:
                    if name in names_in(value.cond) | names_in(value.then) or names_in(value.cond) - {lane} & fixed:
                        return False
                elif name in names_in(value):
                    return False
                written = True
            elif reads and not written:
                return False
            if any(n != element for n in reads) or {n.name for n in walk(s) if isinstance(n, Var)} & {name} \
                    and not reads:
                return False
        return written

    # ---------------------------------------------------------------- the rewrite
    def _index(self, taps: tuple[CanonicalLoop, ...]) -> Expr:
        """The position of the current tap iteration: (v1 - s1) * n2 + (v2 - s2) ..., 0 under no tap loop."""
        index: Expr = Const(0, DType.int32)
        for depth, tap in enumerate(taps):
            offset = Var(tap.var) if tap.start == Const(0, DType.int32) else BinOp("-", Var(tap.var), tap.start)
            index = offset if depth == 0 else BinOp("+", BinOp("*", index, Cast(_INT, Var(self.trips[depth]))),
                                                    offset)
        return simplify_int(index)

    def _table(self, name: str, taps: tuple[CanonicalLoop, ...]) -> Expr:
        return Index(Var(self.tables[name]), self._index(taps[:len(self.owner[name].taps)]))

    def _main(self, stmts: tuple[Stmt, ...], taps: tuple[CanonicalLoop, ...], live: set[str]) -> list[Stmt] | None:
        """C's body without the moved loops, reading their tables; None where something would read a table
        before its loop ran in the iteration (`live`: the names the moved loops have set so far, on every path)."""
        out: list[Stmt] = []
        for s in stmts:
            if id(s) in self.moved_decls:
                continue
            if (m := self.moved_at.get(id(s))) is not None:
                live |= set(m.names)
                if m.rest is not None:
                    if names_in(m.rest) & (set(self.tables) - live):
                        return None
                    out.append(self._reading_tables(m.rest, taps))
                continue
            if isinstance(s, Block):
                inner = self._main(s.body, taps, live)
                if inner is None:
                    return None
                if inner:
                    out.append(Block(tuple(inner)))
            elif (tap := self._tap(s, taps)) is not None:
                inner = self._main(s.body.body, taps + (tap,), set(live))
                if inner is None:
                    return None
                out.append(dataclasses.replace(s, body=Block(tuple(inner))))
            elif isinstance(s, If) and self._tabulated(s.cond, taps):
                then = self._main(s.then.body, taps, set(live))
                otherwise = None if s.otherwise is None else self._main(s.otherwise.body, taps, set(live))
                if then is None or s.otherwise is not None and otherwise is None \
                        or names_in(s.cond) & (set(self.tables) - live):
                    return None
                out.append(dataclasses.replace(s, cond=self._reading_tables(s.cond, taps), then=Block(tuple(then)),
                                               otherwise=None if otherwise is None else Block(tuple(otherwise))))
            elif {n.name for n in walk(s) if isinstance(n, Var)} & (set(self.tables) - live):
                return None
            else:
                out.append(self._reading_tables(s, taps))
        return out

    def _tabulated(self, e: Expr, taps: tuple[CanonicalLoop, ...]) -> bool:
        """e is the same in every iteration of C given the tap loops' variables and the tables (_stable held
        where the scan saw it: the rewrite sees the same conditions)."""
        return without_effects(e) and not names_in(e) & (self.changed - {t.var for t in taps}) - set(self.tables)

    def _reading_tables(self, s: Stmt, taps: tuple[CanonicalLoop, ...]) -> Stmt:
        def visit(n: Node) -> Node | None:
            if isinstance(n, Var) and n.name in self.tables:
                return self._table(n.name, taps)  # a scalar, or an array indexed around it
            return None
        return transform(s, visit, top_down=True)

    def _pre(self, stmts: tuple[Stmt, ...], taps: tuple[CanonicalLoop, ...]) -> list[Stmt]:
        """The moved loops under their tap loops and `if`s, each storing what it computed into the tables."""
        out: list[Stmt] = []
        for s in stmts:
            if (m := self.moved_at.get(id(s))) is not None:
                lane = Var(canonical(m.loop).var)
                stores = tuple(Assign(Index(self._table(a, taps), lane), Index(Var(a), lane)) for a in m.arrays) \
                    + tuple(Assign(Index(self._table(d.name, taps), lane), Var(d.name)) for d in m.lane_locals)
                out += [*m.decls, dataclasses.replace(m.loop, body=Block(m.loop.body.body + stores)),
                        *(Assign(self._table(name, taps), Var(name)) for name in m.scalars)]
            elif isinstance(s, Block):
                if inner := self._pre(s.body, taps):
                    out.append(Block(tuple(inner)))
            elif (tap := self._tap(s, taps)) is not None:
                if inner := self._pre(s.body.body, taps + (tap,)):
                    out.append(dataclasses.replace(s, body=Block(tuple(inner))))
            elif isinstance(s, If) and self._tabulated(s.cond, taps):
                then = self._pre(s.then.body, taps)
                otherwise = self._pre(s.otherwise.body, taps) if s.otherwise is not None else []
                if then or otherwise:
                    out.append(dataclasses.replace(s, cond=self._reading_tables(s.cond, taps), then=Block(tuple(then)),
                                                   otherwise=Block(tuple(otherwise)) if otherwise else None))
        return out

    def _assembled(self, main: Block) -> Stmt:
        """{ trips; if (the tables fit) { tables; if (C runs) { moved loops } C reading the tables } else C }"""
        per_tap: dict[int, int] = {}  # tap depth -> bytes of one entry of its tables
        shapes: dict[str, tuple[ScalarType, int | None]] = {}
        for m in self.moved:
            lanes = simplify_int(canonical(m.loop).stop).value
            for name in m.arrays:
                shapes[name] = (dataclasses.replace(self.private[name].element, const=False), lanes)
            for decl in m.decls:
                shapes[decl.name] = (dataclasses.replace(decl.type, const=False), None)
            for decl in m.lane_locals:  # a mask as int, as simdize's per-lane masks: g++ vectorizes no bool loads
                shapes[decl.name] = (_INT if decl.type.dtype == DType.bool else
                                     dataclasses.replace(decl.type, const=False), lanes)
            for name in m.names:
                element, count = shapes[name]
                per_tap[len(m.taps)] = per_tap.get(len(m.taps), 0) + (count or 1) * (element.dtype.bits // 8)
        capacity = {depth: max(1, min(_MAX_ENTRIES, _TABLE_BYTES // size)) if depth else 1
                    for depth, size in per_tap.items()}
        tables = []
        for name, (element, lanes) in shapes.items():
            entry = ArrayType(element, Const(lanes, DType.int32)) if lanes else element
            tables.append(Decl(self.tables[name], ArrayType(entry, Const(capacity[len(self.owner[name].taps)],
                                                                          DType.int32))))
        trips: list[Stmt] = []
        tests: list[Expr] = []
        count: Expr | None = None
        for depth, tap in enumerate(self.deepest, start=1):
            trip = Var(self.trips[depth - 1])
            trips.append(Decl(trip.name, dataclasses.replace(_LONG, const=True),
                              Cast(_LONG, tap.stop) if tap.start == Const(0, DType.int32)
                              else BinOp("-", Cast(_LONG, tap.stop), Cast(_LONG, tap.start))))
            count = trip if count is None else BinOp("*", count, trip)
            # in order, so that no product overflows: every factor is at least 0 and the product so far small
            tests += [BinOp(">=", trip, Const(0, DType.int64)),
                      BinOp("<=", count, Const(capacity.get(depth, _MAX_ENTRIES), DType.int64))]
        pre = Block(tuple(self._pre(self.loop.body.body, ())))
        start, stop = simplify_int(self.view.start), simplify_int(self.view.stop)
        if isinstance(start, Const) and isinstance(stop, Const):  # C runs, or not, whatever the sizes
            runs = (pre,) if start.value < stop.value else ()
        else:
            runs = (If(BinOp("<", self.view.start, self.view.stop), pre),)
        tabulated = Block((*tables, *runs, dataclasses.replace(self.loop, body=main)))
        if not tests:
            return tabulated
        fits = tests[0]
        for test in tests[1:]:
            fits = BinOp("&&", fits, test)
        return Block((*trips, If(fits, tabulated, Block((self.loop,)))))


def _straight(s: Stmt) -> bool:
    if isinstance(s, (Decl, Assign)):
        return True
    if isinstance(s, If):
        return all(_straight(t) for b in (s.then, s.otherwise) if b is not None for t in b.body)
    if isinstance(s, Block):
        return all(_straight(t) for t in s.body)
    return False
