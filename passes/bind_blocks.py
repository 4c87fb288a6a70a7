"""Block kernels for CUDA/HIP: a loop-form block loop whose body runs phases of thread loops becomes one thread
block again (blockIdx / threadIdx, `__shared__` arrays, `__syncthreads()` between phases).

recover_loops turns a kernel with barriers into `for blocks (parallel, axis blockIdx.*) { arrays; phase; phase;
... }`, each phase a thread loop (parallel, axis threadIdx.*) and the barriers the boundaries between phases.
Bound naively (one thread per block iteration), a block's work would run serially in one thread and its
per-block arrays would be per-thread locals. `block_kernel` maps it back:
- the block loops become `blockIdx` (their recorded axes), the grid is their trip counts;
- each thread loop becomes `threadIdx` (block size: the loops' trip counts, which must be the same compile-time
  constant per axis in every phase), and is followed by a barrier; a `continue` of a thread loop leaves that
  phase only (`do { ... } while (false)`);
- arrays declared in the block's body become `__shared__` (one copy per block, as the loop form meant), and so
  do other variables declared there that a phase stores into (a struct of tiles, say); an array every access of
  which takes the accessing thread's own element (a per-thread value the loop form kept across barriers) is a
  per-thread variable again;
- the loop form's buffer for `extern __shared__` arrays becomes dynamic shared memory again, its size given at
  the launch;
- other block-level statements run in every thread (same values everywhere), except stores to memory, which
  thread 0 makes, followed by a barrier.
It applies only when every part of the body fits these rules (uniform control flow around the phases, constant
sizes, no early exit from the block); otherwise it returns None and bind binds the loop as usual.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import sympy

from kernel_ir.ir import (ArrayType, Barrier, BarrierKind, BinOp, Block, Break, BuiltinVar, Call, Cast, Const, Continue,
                          Decl, DoWhile, DType, Expr, ExprStmt, For, ForKind, If, Index, Member, MemScope, PointerType,
                          Return, ScalarType, Stmt, Var, VarQual, transform, walk)
from passes.loops import PURE_CALLS, store_targets, symbol, to_sympy

_AXES = ("x", "y", "z")


@dataclass(frozen=True)
class BlockKernel:
    """The kernel body, and per axis the grid's trip counts (host expressions) and the block's thread counts."""

    body: Block
    grid: dict[str, Expr]
    threads: dict[str, int]
    shared_bytes: Expr | None = None  # dynamic shared memory per block (the source's `extern __shared__`)


def block_kernel(loop: For, canonical, constant) -> BlockKernel | None:
    """`loop` (parallel, axis blockIdx.*) as a thread-block kernel, or None when the rules above do not hold.

    canonical(loop) -> bind's canonical view (var, type, start, end, step, count()) or None;
    constant(expr) -> its integer value when known at translation time, else None."""
    chain = [loop]
    while len(chain[-1].body.body) == 1 and _axis(chain[-1].body.body[0], "blockIdx") is not None:
        chain.append(chain[-1].body.body[0])
    grid: dict[str, Expr] = {}
    prologue: list[Stmt] = []
    for block_loop in chain:
        view, axis = canonical(block_loop), _axis(block_loop, "blockIdx")
        if view is None or axis is None or axis in grid or view.step != 1 or not _is_zero(view.start):
            return None
        grid[axis] = view.count()
        prologue.append(Decl(view.var, dataclasses.replace(view.type, const=True), BuiltinVar("blockIdx", axis)))
    block_body = chain[-1].body.body
    if _continues(block_body) or _breaks(block_body):
        return None
    threads: dict[str, int] = {}
    phases = _Phases(canonical, constant, threads, _shared_variables(block_body))
    body = phases.stmts(block_body)
    if body is None or not phases.count:
        return None
    if isinstance(body[-1], Barrier):
        body = body[:-1]  # nothing runs after the last phase
    kernel_body = _per_thread_arrays(Block(tuple(prologue) + body), phases.thread_vars, threads, constant)
    return BlockKernel(kernel_body, grid, threads, phases.shared_bytes)


def _per_thread_arrays(body: Block, thread_vars: dict[str, str], threads: dict[str, int], constant) -> Block:
    """Block arrays that every access indexes by the accessing thread's own number (the loop form's expansion of
    a per-thread variable kept across barriers) become that thread's variable again: registers, not __shared__."""
    if set(thread_vars) != set(threads):
        return body  # phases named their threads differently: leave the arrays shared
    linear, stride = sympy.Integer(0), 1
    for axis in _AXES:
        if axis in threads:
            linear += symbol(thread_vars[axis]) * stride
            stride *= threads[axis]
    total = stride

    def thread_number(index: Expr) -> bool:
        value = to_sympy(index)
        if value is None:
            return False
        known = {sym: constant(Var(sym.name)) for sym in value.free_symbols}
        value = value.subs({sym: v for sym, v in known.items() if v is not None})
        return sympy.expand(value - linear) == 0

    arrays = {d.name for d in walk(body) if isinstance(d, Decl) and d.scope == MemScope.shared
              and isinstance(d.type, ArrayType) and d.type.size == Const(total, DType.int32)}
    for name in sorted(arrays):
        uses = sum(1 for n in walk(body) if n == Var(name))
        own = sum(1 for n in walk(body) if isinstance(n, Index) and n.base == Var(name) and thread_number(n.index))
        if uses != own or not uses:
            arrays.discard(name)
    if not arrays:
        return body

    def rewrite(n):  # top down: in `a[t][k]` only the inner `a[t]` is the thread's slot
        if isinstance(n, Index) and isinstance(n.base, Var) and n.base.name in arrays and thread_number(n.index):
            return n.base
        if isinstance(n, Decl) and n.name in arrays:
            return dataclasses.replace(n, type=n.type.element, scope=MemScope.local)
        return None

    return transform(body, rewrite, top_down=True)


class _Phases:
    def __init__(self, canonical, constant, threads: dict[str, int], shared: set[str]):
        self.canonical, self.constant, self.threads, self.shared = canonical, constant, threads, shared
        self.count = 0  # thread loops found
        self.shared_bytes: Expr | None = None
        self.dynamic: str | None = None  # the loop form's buffer standing for `extern __shared__` storage
        self.thread_vars: dict[str, str] = {}  # axis -> the loop form's thread variable (the same in every phase)
        self.locals: dict[str, int] = {}  # block-level integer constants and their values

    def stmts(self, stmts: tuple[Stmt, ...]) -> tuple[Stmt, ...] | None:
        out: list[Stmt] = []
        for s in stmts:
            converted = self.stmt(s)
            if converted is None:
                return None
            out += converted
        return tuple(out)

    def stmt(self, s: Stmt) -> list[Stmt] | None:
        """One block-level statement as what every thread of the block runs."""
        if isinstance(s, For) and _axis(s, "threadIdx") is not None:
            return self.phase(s)
        if any(isinstance(n, For) and _axis(n, "blockIdx") for n in walk(s)) or \
                any(isinstance(n, Return) for n in walk(s)):
            return None
        if isinstance(s, Decl) and isinstance(s.type, ArrayType):
            shared = self.fixed_size(s.type)
            if s.init is not None or shared is None:
                return None
            return [dataclasses.replace(s, type=shared, scope=MemScope.shared)]
        if isinstance(s, Decl) and isinstance(s.type, ScalarType) and s.type.dtype.is_int and s.init is not None \
                and (s.type.const or VarQual.constexpr in s.qualifiers) and s.name not in self.shared:
            value = self.constant(self.with_locals(s.init))
            if value is not None:
                self.locals[s.name] = value  # a block constant (constexpr int kMicro = 2): sizes may use it
        if isinstance(s, Decl) and s.name in self.shared:
            return None if s.init is not None else [dataclasses.replace(s, scope=MemScope.shared)]
        dynamic = _dynamic_shared_bytes(s)
        if dynamic is not None and self.dynamic is None:
            self.dynamic, self.shared_bytes = s.name, dynamic
            storage = ArrayType(ScalarType(DType.uint8), None)
            return [Decl(s.name, storage, None, MemScope.shared, frozenset({VarQual.extern}), align=16)]
        if isinstance(s, ExprStmt) and s.expr == Call("free", (Var(self.dynamic),)):
            return []  # the block's shared storage is not freed
        has_phase = any(isinstance(n, For) and _axis(n, "threadIdx") for n in walk(s))
        if has_phase:  # uniform control flow around phases: every thread takes the same path
            if isinstance(s, For):
                body = self.stmts(s.body.body)
                return None if body is None else [dataclasses.replace(s, kind=ForKind.serial, axis=None,
                                                                      body=Block(body))]
            if isinstance(s, If):
                then = self.stmts(s.then.body)
                otherwise = self.stmts(s.otherwise.body) if s.otherwise is not None else ()
                if then is None or otherwise is None:
                    return None
                return [dataclasses.replace(s, then=Block(then),
                                            otherwise=Block(otherwise) if s.otherwise is not None else None)]
            if isinstance(s, Block):
                body = self.stmts(s.body)
                return None if body is None else [Block(body)]
            return None  # while loops and the rest: the trip count could differ between threads
        if _stores_to_memory(s):
            return [If(_FIRST_THREAD, Block((s,))), Barrier(BarrierKind.syncthreads)]
        return [s]

    def with_locals(self, e: Expr) -> Expr:
        return transform(e, lambda n: Const(self.locals[n.name], DType.int32)
                         if isinstance(n, Var) and n.name in self.locals else None)

    def fixed_size(self, t: ArrayType) -> ArrayType | None:
        """`t` with every dimension a literal, or None when one is not known at translation time."""
        size = self.constant(self.with_locals(t.size)) if t.size is not None else None
        if size is None or size <= 0:
            return None
        element = self.fixed_size(t.element) if isinstance(t.element, ArrayType) else t.element
        return None if element is None else ArrayType(element, Const(size, DType.int32))

    def phase(self, loop: For) -> list[Stmt] | None:
        """A thread loop nest: each level becomes its threadIdx axis, then the block waits for every thread."""
        decls: list[Stmt] = []
        current: Stmt = loop
        while isinstance(current, For) and _axis(current, "threadIdx") is not None:
            view, axis = self.canonical(current), _axis(current, "threadIdx")
            count = self.constant(view.count()) if view is not None else None
            if view is None or view.step != 1 or not _is_zero(view.start) or count is None or count <= 0 \
                    or self.threads.setdefault(axis, count) != count or any(d.name == view.var for d in decls):
                return None
            if self.thread_vars.setdefault(axis, view.var) != view.var:
                self.thread_vars[axis] = ""  # not one name in every phase
            decls.append(Decl(view.var, dataclasses.replace(view.type, const=True), BuiltinVar("threadIdx", axis)))
            inner = current.body.body
            if len(inner) == 1 and isinstance(inner[0], For) and _axis(inner[0], "threadIdx") is not None:
                current = inner[0]
                continue
            body = inner
            break
        if any(isinstance(n, (Return, Barrier)) for s in body for n in walk(s)) or _breaks(body):
            return None
        self.count += 1
        shadowed = {n.name for s in body for n in walk(s) if isinstance(n, Decl)}
        if not shadowed & set(self.locals):  # block constants as literals: the phase's own arrays get fixed sizes
            body = tuple(self.with_locals(s) for s in body)
        code: tuple[Stmt, ...] = tuple(decls) + tuple(_serialize(s) for s in body)
        if _continues(body):  # `continue` ends this thread's part of the phase, not the kernel
            code = tuple(decls) + (DoWhile(Block(tuple(_serialize(s) for s in body)), Const(False, DType.bool)),)
        return [Block(code), Barrier(BarrierKind.syncthreads)]


def _axis(s: Stmt, builtin: str) -> str | None:
    if isinstance(s, For) and s.kind == ForKind.parallel and s.axis and s.axis.startswith(builtin + "."):
        axis = s.axis.split(".", 1)[1]
        return axis if axis in _AXES else None
    return None


def _is_zero(e: Expr) -> bool:
    return isinstance(e, Const) and e.value == 0


def _serialize(s: Stmt) -> Stmt:
    return transform(s, lambda n: dataclasses.replace(n, kind=ForKind.serial, axis=None)
                     if isinstance(n, For) and n.kind == ForKind.parallel else None)


def _level_statements(stmts: tuple[Stmt, ...]):
    """Statements whose break/continue act on the loop holding `stmts` (not on a loop nested inside)."""
    for s in stmts:
        yield s
        if isinstance(s, If):
            yield from _level_statements(s.then.body)
            if s.otherwise is not None:
                yield from _level_statements(s.otherwise.body)
        elif isinstance(s, Block):
            yield from _level_statements(s.body)


def _continues(stmts: tuple[Stmt, ...]) -> bool:
    return any(isinstance(s, Continue) for s in _level_statements(stmts))


def _breaks(stmts: tuple[Stmt, ...]) -> bool:
    return any(isinstance(s, Break) for s in _level_statements(stmts))


def _stores_to_memory(s: Stmt) -> bool:
    """Whether a block-level statement writes anything but plain variables (array elements, through pointers,
    or calls that may write): such a statement must run once per block, not once per thread."""
    if any(isinstance(n, Call) and n.name not in PURE_CALLS for n in walk(s)):
        return True  # memcpy, atomics, printf...: once per block
    return any(not isinstance(target, Var) for target in store_targets(s))


def _shared_variables(stmts: tuple[Stmt, ...]) -> set[str]:
    """Variables declared at block level (not arrays) that a phase stores into: in the loop form one variable
    the threads share, so in the kernel `__shared__` rather than a copy per thread. A store through a pointer
    writes memory, not the pointer, and does not count."""
    decls = {s.name: s for s in stmts if isinstance(s, Decl) and not isinstance(s.type, ArrayType)}
    phases = [n for s in stmts for n in walk(s) if isinstance(n, For) and _axis(n, "threadIdx")]
    stored = set()
    for phase in phases:
        for target in store_targets(phase):
            whole = isinstance(target, Var)
            while isinstance(target, (Index, Member)) and not (isinstance(target, Member) and target.arrow):
                target = target.base
            if isinstance(target, Var) and target.name in decls \
                    and (whole or not isinstance(decls[target.name].type, PointerType)):
                stored.add(target.name)
    return stored


def _dynamic_shared_bytes(s: Stmt) -> Expr | None:
    """`bytes` of the loop form's `unsigned char* xp_smem = (unsigned char*)malloc((size_t)bytes + 16);`."""
    if not (isinstance(s, Decl) and isinstance(s.type, PointerType) and s.type.pointee == ScalarType(DType.uint8)):
        return None
    call = s.init.expr if isinstance(s.init, Cast) else s.init
    if isinstance(call, Call) and call.name == "malloc" and len(call.args) == 1 and isinstance(call.args[0], BinOp) \
            and call.args[0].op == "+" and call.args[0].rhs == Const(16, DType.int32):
        size = call.args[0].lhs
        return size.expr if isinstance(size, Cast) else size
    return None


_FIRST_THREAD = BinOp("&&", BinOp("&&", BinOp("==", BuiltinVar("threadIdx", "x"), Const(0, DType.int32)),
                                  BinOp("==", BuiltinVar("threadIdx", "y"), Const(0, DType.int32))),
                      BinOp("==", BuiltinVar("threadIdx", "z"), Const(0, DType.int32)))


__all__ = ["BlockKernel", "block_kernel"]
