"""recover_loops: the front half that turns a SIMT, BANG or OpenMP program into the loop form (docs/translation.md).

- cuda/hip: every `KernelLaunch` in the host code becomes a grid loop nest (parallel, axis blockIdx.z/y/x) whose
  body holds the block's `__shared__` storage and the kernel body run by thread loop nests (parallel, axis
  threadIdx.z/y/x). Barriers split the thread loops into consecutive phases (loop fission); values a thread keeps
  across a barrier become arrays indexed by the linear thread id (passes.expand). Loops and ifs containing barriers
  are hoisted above the thread loops when their conditions are uniform across the block; an if whose condition
  varies is kept per thread as a predicate recorded before the split (CUDA requires such a condition to agree
  across the block anyway). A counted loop holding only warp splits, whose bounds are proven the same for the
  lanes of a warp though not across warps (a wavefront's own rows), becomes a block-level loop up to the largest
  trip count of any warp, its body predicated per thread (_Splitter.split_warp_loop). Warp shuffles become a
  phase split plus a read of a neighbour's slot. `return` ends the thread: it skips the rest of its phase and a
  per-thread flag skips its later phases. Cooperative-groups thread blocks and warp tiles become thread indices,
  shuffles and barriers (_cooperative_groups). Device memory calls become malloc/memcpy/memset/free; error checks
  of those calls (CUDA_CHECK-style macros) fold away, and 1-D `__constant__` arrays become zeroed scratch buffers
  filled where the host called cudaMemcpyToSymbol (initialized ones that no host copy writes, const tables).
  Dynamic shared memory whose launch size is a compile-time constant is a fixed block array, else a malloc.
- bang: the `__mlu_global__` entry becomes an `extern "C"` function whose body is a parallel loop over taskId,
  split at `__sync_all`/`__sync_cluster` the same way; `__mlu_shared__` buffers are one array slot per cluster.
- cpp: `#pragma omp parallel for` loops become `ForKind.parallel` loops (axis "omp"); a `#pragma omp parallel`
  region of declarations and `#pragma omp for` loops becomes those loops, its thread-private scratch declared per
  iteration (_region_loops); a `std::vector` declared per iteration becomes a slice of one hoisted vector.

Atomics inside parallel loops become calls of the module's `xp_atomic_*` helpers (ATOMIC_HELPERS); a back half
must keep every loop that calls one of them atomic (the helpers use OpenMP critical sections meanwhile).
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from kernel_ir.parse_clang import type_from_text
from kernel_ir.ir import (
    ArrayType, Assign, Barrier, BarrierKind, BinOp, Block, Break, BuiltinVar, Call, Cast, Const, Construct,
    Continue, Decl, DoWhile, DType, Expr, ExprStmt, For, ForKind, FuncQual, Function, GlobalVar, If, Index,
    KernelLaunch, Member, MemScope, MethodCall, Module, NamedType, Namespace, Node, Param, PointerType, Pragma,
    RawExpr, RawStmt, ReferenceType, Return, ScalarType, Select, SizeOf, Stmt, StringLit, Switch, Type, UnaryOp,
    Var, VarQual, VectorType, Verbatim, While, transform, walk,
)
from passes.base import PassRefused
from passes.expand import AT, promoted_type, rewrite_uses
from passes.inline import (
    Namer, declared_names, fold, hoist_calls, inline_body, instantiate, names_in, replace_nodes, substitute,
    uniquify,
)

# Kept GPU code (verbatim functors and helpers) in the plain C++ loop form compiles with these; a GPU target's
# bind removes them again, since there `__device__` must mean what it says.
GPU_SPELLINGS_ERASED = ("#define __device__", "#define __host__", "#define __forceinline__ inline")


@dataclass(frozen=True)
class RecoverOptions:
    """task_dim: BANG tasks launched (taskDim); cores_per_cluster: BANG cores per cluster;
    warp_size: SIMT warp width (default 32 for cuda, 64 for hip)."""

    task_dim: int = 16
    cores_per_cluster: int = 4
    warp_size: int | None = None


ATOMIC_HELPERS = {"atomicAdd": "xp_atomic_add", "atomicSub": "xp_atomic_sub", "atomicMax": "xp_atomic_max",
                  "atomicMin": "xp_atomic_min", "atomicExch": "xp_atomic_exch", "atomicAnd": "xp_atomic_and",
                  "atomicOr": "xp_atomic_or", "atomicXor": "xp_atomic_xor"}
_ATOMIC_UPDATES = {"xp_atomic_add": "old + v", "xp_atomic_sub": "old - v", "xp_atomic_max": "old < v ? v : old",
                   "xp_atomic_min": "v < old ? v : old", "xp_atomic_exch": "v", "xp_atomic_and": "old & v",
                   "xp_atomic_or": "old | v", "xp_atomic_xor": "old ^ v"}
_SHUFFLES = {"__shfl_sync": "idx", "__shfl_xor_sync": "xor", "__shfl_down_sync": "down", "__shfl_up_sync": "up",
             "__shfl": "idx", "__shfl_xor": "xor", "__shfl_down": "down", "__shfl_up": "up"}
_WARP_BARRIERS = {"__syncwarp", "__builtin_amdgcn_wave_barrier"}
_VOTES = {"__ballot_sync": "ballot", "__ballot": "ballot", "__any_sync": "any", "__any": "any", "__all_sync": "all",
          "__all": "all"}
_UNSUPPORTED_WARP = {"__activemask",
                     "__match_any_sync", "__match_all_sync", "__reduce_add_sync", "__reduce_min_sync",
                     "__reduce_max_sync", "__syncthreads_count", "__syncthreads_and", "__syncthreads_or",
                     "tiled_partition", "this_thread_block"}
_SPLITTING_BARRIERS = {BarrierKind.syncthreads, BarrierKind.syncwarp, BarrierKind.sync_all,
                       BarrierKind.sync_cluster}
_PURE_MATH = {"expf", "logf", "sqrtf", "fabsf", "fmaxf", "fminf", "sinf", "cosf", "tanhf", "powf", "floorf", "ceilf",
              "exp", "log", "sqrt", "fabs", "fmax", "fmin", "abs", "min", "max", "std::min", "std::max", "fmaf",
              "roundf", "truncf", "rsqrtf"}
_RENAMED_MATH = {"__expf": "expf", "__logf": "logf", "__sinf": "sinf", "__cosf": "cosf", "__powf": "powf",
                 "__tanf": "tanf", "__fsqrt_rn": "sqrtf", "__exp10f": "exp10f", "__log2f": "log2f"}
_DIALECT_NAMESPACE = re.compile(r"(using\s+namespace|namespace\s+\w+\s*=)\s*"
                                r"(nvcuda|nvcuda::wmma|cooperative_groups|rocwmma|cg)\s*;")
_DIALECT_HEADERS = ("cuda", "hip/", "hip_", "bang", "mlu", "mma.h", "cooperative_groups", "cnrt", "device_")
_C_SPELLINGS = {"size_t", "ptrdiff_t", "int8_t", "uint8_t", "int16_t", "uint16_t", "int32_t", "uint32_t", "int64_t",
                "uint64_t", "char", "signed char", "unsigned char", "short", "unsigned short", "int", "unsigned",
                "unsigned int", "long", "unsigned long", "long long", "unsigned long long", "float", "double", "bool"}
_INT = ScalarType(DType.int32)
_BOOL = ScalarType(DType.bool)


def recover_loops(module: Module, options: RecoverOptions | None = None) -> Module:
    """The loop form of `module` (a cpp-dialect Module with the same entry name and parameters).

    Preconditions: cuda/hip kernels are launched from host code with `<<<>>>`/hipLaunchKernelGGL; BANG
    intrinsics were already lowered (passes.detensorize). Refuses (PassRefused, XP51x) what it cannot prove
    equivalent: barriers under loops whose bounds vary across threads, or across the lanes of a warp for warp
    shuffles (XP511), templates it cannot instantiate
    (XP512), helpers it cannot inline (XP513), unknown runtime calls (XP514), values it cannot expand (XP515),
    warp votes and cooperative groups (XP516).
    """
    options = options or RecoverOptions()
    if module.dialect in ("cuda", "hip"):
        return _SimtRecovery(module, options).run()
    if module.dialect == "bang":
        return _BangRecovery(module, options).run()
    if module.dialect == "cpp":
        recovered = module.map_functions(_recover_omp)
        extra = tuple(i for i in ("<cstdlib>", "<cstring>") if i not in module.includes)
        if any(isinstance(n, Call) and n.name in _ATOMIC_UPDATES for n in walk(recovered)):
            recovered = recovered.with_definitions(Verbatim(_atomic_helpers_text()))
        return dataclasses.replace(recovered, includes=module.includes + extra)
    raise PassRefused("XP510", f"recover_loops does not know dialect {module.dialect!r}")


# ================================================================ shared machinery ============================



def _is_split(node: Node) -> bool:
    return isinstance(node, Barrier) and node.kind in _SPLITTING_BARRIERS


def _contains_split(node: Node) -> bool:
    return any(_is_split(n) for n in walk(node))


def _assigned_names(node: Node) -> set[str]:
    """Variables written anywhere in `node` (assignments, ++/--, address taken) — they may vary over time."""
    out: set[str] = set()

    def root(e: Node) -> str | None:
        while isinstance(e, (Index, Member)):
            e = e.base
        return e.name if isinstance(e, Var) else None

    for n in walk(node):
        if isinstance(n, Assign) and isinstance(n.target, Var):
            out.add(n.target.name)
        elif isinstance(n, BinOp) and n.op.endswith("=") and n.op not in ("==", "!=", "<=", ">=") \
                and isinstance(n.lhs, Var):
            out.add(n.lhs.name)
        elif isinstance(n, UnaryOp) and n.op in ("++", "--", "&"):
            name = root(n.operand)
            if name is not None:
                out.add(name)
    return out


def _and_all(preds: tuple[Expr, ...]) -> Expr:
    cond = preds[0]
    for p in preds[1:]:
        cond = BinOp("&&", cond, p)
    return cond


_LINEAR, _WARP, _UNIFORM = "linear", "warp", "uniform"


def _combined(*kinds: str | None) -> str | None:
    """The kind (see _Splitter.warp_kind) of an expression of parts of these kinds."""
    if any(k is None or k == _LINEAR for k in kinds):
        return None
    return _UNIFORM if all(k == _UNIFORM for k in kinds) else _WARP


def _counted_loop(s: For) -> tuple[Decl, Expr, bool, Expr] | None:
    """(variable's declaration, bound, bound inclusive?, step) of `for (int i = a; i < b; i += s)` (also `<=`,
    `b > i`, `++i`, `i = i + s`); None for any other shape. An unsigned variable needs a positive constant step
    (an unsigned `i += s` may wrap around)."""
    if len(s.init) != 1 or not isinstance(s.init[0], Decl) or s.init[0].init is None:
        return None
    decl = s.init[0]
    if not (isinstance(decl.type, ScalarType) and decl.type.dtype.is_int):
        return None
    i, cond = Var(decl.name), s.cond
    mirrored = {">": "<", ">=": "<="}
    if isinstance(cond, BinOp) and cond.op in mirrored and cond.rhs == i:
        cond = BinOp(mirrored[cond.op], cond.rhs, cond.lhs)
    if not (isinstance(cond, BinOp) and cond.op in ("<", "<=") and cond.lhs == i):
        return None
    step: Expr | None = None
    if isinstance(s.step, ExprStmt) and isinstance(s.step.expr, UnaryOp) and s.step.expr.op == "++" \
            and s.step.expr.operand == i:
        step = Const(1, DType.int32)
    elif isinstance(s.step, Assign) and s.step.target == i and s.step.op == "+":
        step = s.step.value
    elif isinstance(s.step, Assign) and s.step.target == i and s.step.op == "" \
            and isinstance(s.step.value, BinOp) and s.step.value.op == "+" and s.step.value.lhs == i:
        step = s.step.value.rhs
    if step is None or not decl.type.dtype.is_signed and not (isinstance(step, Const) and step.value > 0):
        return None
    return decl, cond.rhs, cond.op == "<=", step


def _definitions(body: Block, assigned: set[str]) -> dict[str, Expr]:
    """Initial values of the local scalars and pointers declared once and never reassigned: a uniformity proof
    may unfold a name into its value (names are unique once passes.inline.uniquify ran)."""
    decls = [d for d in walk(body) if isinstance(d, Decl)]
    once = {name for name in {d.name for d in decls} if sum(d.name == name for d in decls) == 1}
    return {d.name: d.init for d in decls if d.name in once and d.init is not None and d.name not in assigned
            and isinstance(d.type, (ScalarType, PointerType)) and d.scope in (MemScope.local, MemScope.register)}


@dataclass
class _Phase:
    """Thread-level statements between two barriers, each with the predicates it runs under."""

    entries: list[tuple[tuple[Expr, ...], Stmt]]
    first: bool


@dataclass
class _Slot:
    """Where a thread-private declaration's array goes if it turns out to live across phases."""

    decl: Decl


@dataclass
class _ThreadSpace:
    """The parallel loops a kernel body runs under: (variable, extent, axis) outermost first."""

    loops: list[tuple[str, Expr, str]]

    @property
    def extent(self) -> Expr:
        total: Expr | None = None
        for _, ext, _ in self.loops:
            total = ext if total is None else BinOp("*", total, ext)
        return total if total is not None else Const(1, DType.int32)

    @property
    def linear(self) -> Expr:
        index: Expr | None = None
        for var, ext, _ in self.loops:
            index = Var(var) if index is None else BinOp("+", BinOp("*", index, ext), Var(var))
        return index if index is not None else Const(0, DType.int32)

    def nest(self, body: Block) -> Stmt:
        for var, ext, axis in reversed(self.loops):
            body = Block((For((Decl(var, _INT, Const(0, DType.int32)),), BinOp("<", Var(var), ext),
                              Assign(Var(var), Const(1, DType.int32), "+"), body, ForKind.parallel, axis),))
        return body.body[0] if len(body.body) == 1 else body


@dataclass
class _Splitter:
    """Cuts a kernel body at its barriers into block-level statements and thread phases (see module doc)."""

    space: _ThreadSpace
    uniform_names: set[str]  # names whose value is the same for every thread (block-level)
    varying_roots: set[str]  # thread loop variables
    assigned: set[str]
    exit_flag: str | None
    namer: Namer
    where: str
    warp_size: int | None = None  # SIMT only: loops the lanes of a warp run alike may hold warp splits
    definitions: dict[str, Expr] = field(default_factory=dict)  # never-reassigned locals: name -> initial value
    shared: list[Decl] = field(default_factory=list)
    out: list = field(default_factory=list)
    phase: list | None = None
    phase_count: int = 0

    # ---- uniformity ----------------------------------------------------------------------------------------
    def uniform(self, e: Node) -> bool:
        """True when `e` has the same value in every thread: block-level names, constants, pure math only."""
        for n in walk(e):
            if isinstance(n, Var) and (n.name not in self.uniform_names or n.name in self.varying_roots):
                return False
            if isinstance(n, (Index, MethodCall, BuiltinVar, RawExpr)) or isinstance(n, Member) and n.arrow:
                return False
            if isinstance(n, UnaryOp) and n.op in ("*", "++", "--", "&"):
                return False
            if isinstance(n, Call) and n.name not in _PURE_MATH:
                return False
            if isinstance(n, BinOp) and n.op.endswith("=") and n.op not in ("==", "!=", "<=", ">="):
                return False
        return True

    # ---- splitting -----------------------------------------------------------------------------------------
    def emit(self, preds: tuple[Expr, ...], s: Stmt) -> None:
        if self.phase is None:
            self.phase = []
        self.phase.append((preds, s))

    def close(self) -> None:
        if self.phase is not None:
            self.out.append(_Phase(self.phase, self.phase_count == 0))
            self.phase_count += 1
            self.phase = None

    def split_block(self, stmts: tuple[Stmt, ...], preds: tuple[Expr, ...]) -> list:
        """Block-level items of a hoisted body (its phases closed at both ends)."""
        self.close()
        saved, self.out = self.out, []
        self.stmts(stmts, preds)
        self.close()
        items, self.out = self.out, saved
        return items

    def stmts(self, stmts: tuple[Stmt, ...], preds: tuple[Expr, ...]) -> None:
        for s in stmts:
            self.stmt(s, preds)

    def stmt(self, s: Stmt, preds: tuple[Expr, ...]) -> None:
        if _is_split(s):
            self.close()
            return
        if isinstance(s, Decl):
            self.decl(s, preds)
            return
        if isinstance(s, Block) and _contains_split(s):
            self.stmts(s.body, preds)
            return
        if not _contains_split(s):
            self.emit(preds, s)
            return
        if isinstance(s, If):
            self.split_if(s, preds)
        elif isinstance(s, For):
            self.split_for(s, preds)
        elif isinstance(s, (While, DoWhile)):
            if not self.uniform(s.cond) or s.cond is None:
                raise PassRefused("XP511", f"a barrier in {self.where} sits in a while loop whose condition may "
                                           "differ between threads", hint="make the loop condition uniform")
            self.close()
            body = Block(tuple(self.split_block(s.body.body, preds)))
            self.out.append(dataclasses.replace(s, body=body))
        else:
            raise PassRefused("XP511", f"a barrier in {self.where} sits inside a {type(s).__name__.lower()}",
                              hint="move the barrier out of it")

    def decl(self, d: Decl, preds: tuple[Expr, ...]) -> None:
        if d.scope in (MemScope.shared, MemScope.mlu_shared):
            self.shared.append(d)
            return
        hoistable = (d.init is not None and d.name not in self.assigned and not isinstance(d.type, (
            ArrayType, ReferenceType, NamedType)) and d.scope in (MemScope.local, MemScope.register)
            and self.uniform(d.init) and self.uniform(d.type))
        if hoistable:
            self.out.append(d)
            self.uniform_names.add(d.name)
            return
        if d.scope in (MemScope.nram, MemScope.wram, MemScope.ldram):
            d = dataclasses.replace(d, scope=MemScope.local)
        self.out.append(_Slot(d))
        self.emit(preds, d)

    def split_if(self, s: If, preds: tuple[Expr, ...]) -> None:
        if self.uniform(s.cond):
            self.close()
            then = Block(tuple(self.split_block(s.then.body, preds)))
            other = Block(tuple(self.split_block(s.otherwise.body, preds))) if s.otherwise else None
            self.out.append(dataclasses.replace(s, then=then, otherwise=other))
            return
        flag = self.namer.fresh("xp_cond")
        self.decl(Decl(flag, _BOOL, s.cond), preds)
        self.stmts(s.then.body, preds + (Var(flag),))
        if s.otherwise is not None:
            self.stmts(s.otherwise.body, preds + (UnaryOp("!", Var(flag)),))

    def split_for(self, s: For, preds: tuple[Expr, ...]) -> None:
        refuse = PassRefused("XP511", f"a barrier in {self.where} sits in a loop whose bounds may differ between "
                                      "threads", hint="make the loop's start, condition and step the same for every "
                                                      "thread of the block")
        loop_vars = [d.name for d in s.init if isinstance(d, Decl)]
        if len(loop_vars) != len(s.init) or any(v in _assigned_names(s.body) for v in loop_vars):
            raise refuse
        if not self.uniform_header(s, loop_vars):
            if self.warp_size is None or any(_is_split(n) and n.kind != BarrierKind.syncwarp for n in walk(s)):
                raise refuse
            self.split_warp_loop(s, preds)
            return
        self.uniform_names.update(loop_vars)
        self.close()
        body = Block(tuple(self.split_block(s.body.body, preds)))
        self.out.append(dataclasses.replace(s, body=body, kind=ForKind.serial, pragmas=()))

    def uniform_header(self, s: For, loop_vars: list[str]) -> bool:
        """The loop's start, condition and step are the same in every thread (its own variables count as such)."""
        if not all(self.uniform(d.init) for d in s.init if d.init is not None):
            return False
        known = self.uniform_names
        self.uniform_names = known | set(loop_vars)
        try:
            step_ok = s.step is None or (
                (isinstance(s.step, Assign) and isinstance(s.step.target, Var) and s.step.target.name in loop_vars
                 and self.uniform(s.step.value))
                or (isinstance(s.step, ExprStmt) and isinstance(s.step.expr, UnaryOp)
                    and s.step.expr.op in ("++", "--") and isinstance(s.step.expr.operand, Var)
                    and s.step.expr.operand.name in loop_vars))
            return step_ok and (s.cond is None or self.uniform(s.cond))
        finally:
            self.uniform_names = known

    # ---- loops the lanes of a warp run alike ---------------------------------------------------------------
    def split_warp_loop(self, s: For, preds: tuple[Expr, ...]) -> None:
        """A counted loop holding warp splits (shuffles, __syncwarp) whose bounds differ between warps but not
        between the lanes of one warp (`for (row = first_row(warp); row < rows; row += stride)`).

        Every lane of a warp runs the same iterations, so the warp's splits meet at the same iteration in all of
        its lanes, and a shuffle reads lanes of its own warp only. The loop therefore becomes a block-level loop
        over iteration numbers up to the largest trip count of any warp (computed at block level from the first
        lane of each warp), whose body each thread runs under the predicate `its own iteration exists`; the
        splits inside are then split as under any predicate. Proven, not assumed: start, bound and step must be
        functions of the warp index, block-level values and parameters (warp_kind). Counts are exact whenever
        the source loop terminates (a step <= 0 with start < bound never does; such a warp counts no trips)."""
        counted = _counted_loop(s)
        if counted is None:
            raise PassRefused("XP511", f"a warp shuffle or warp barrier in {self.where} sits in a loop that is not "
                                       "a counted loop with bounds the same for all lanes of a warp",
                              hint="write it as `for (int i = start; i < bound; i += step)`")
        decl, bound, inclusive, step = counted
        for part, e in (("start", decl.init), ("bound", bound), ("step", step)):
            if decl.name in names_in(e) or self.warp_kind(e, frozenset()) is None:
                raise PassRefused(
                    "XP511", f"a warp shuffle or warp barrier in {self.where} sits in a loop whose {part} may differ "
                             "between the lanes of a warp (it depends on the lane, on data or on variables that "
                             "change)", hint="make the loop's start, bound and step depend only on the warp index, "
                                             "block-level values and kernel parameters")
        vtype = _non_const(decl.type)
        zero, one = Const(0, DType.int32), Const(1, DType.int32)
        trips, warp, iteration = (self.namer.fresh(n) for n in ("xp_trips", "xp_warp", "xp_iter"))
        first, last, stride = (self.namer.fresh(f"xp_{decl.name}_{n}") for n in ("start", "bound", "step"))
        count = BinOp("+", BinOp("/", BinOp("-", BinOp("-", Var(last), Var(first)), zero if inclusive else one),
                                 Var(stride)), one)
        runs = _and_all((BinOp("<=" if inclusive else "<", Var(first), Var(last)), BinOp(">", Var(stride), zero),
                         BinOp(">", count, Var(trips))))
        warps = BinOp("/", BinOp("+", self.space.extent, Const(self.warp_size - 1, DType.int32)),
                      Const(self.warp_size, DType.int32))
        per_warp = Block((Decl(first, vtype, self.first_lane_value(decl.init, Var(warp))),
                          Decl(last, vtype, self.first_lane_value(bound, Var(warp))),
                          Decl(stride, vtype, self.first_lane_value(step, Var(warp))),
                          If(runs, Block((Assign(Var(trips), count),)))))
        self.close()
        self.out.append(Decl(trips, vtype, zero))
        self.out.append(For((Decl(warp, _INT, zero),), BinOp("<", Var(warp), warps), Assign(Var(warp), one, "+"),
                            per_warp))
        self.uniform_names |= {trips, iteration}
        value = BinOp("+", decl.init, BinOp("*", Var(iteration), step))
        self.definitions[decl.name] = value
        body = (Decl(decl.name, vtype, value), If(BinOp("<=" if inclusive else "<", Var(decl.name), bound), s.body))
        self.out.append(For((Decl(iteration, vtype, zero),), BinOp("<", Var(iteration), Var(trips)),
                            Assign(Var(iteration), one, "+"), Block(tuple(self.split_block(body, preds)))))

    def warp_kind(self, e: Node, seen: frozenset[str]) -> str | None:
        """How `e` varies over a block's threads: _UNIFORM (alike in all), _WARP (a function of the warp index
        alone), _LINEAR (the linear thread id itself), or None (varies within a warp, or not proven).
        Never-reassigned locals are unfolded into their initial values (`seen` guards against cycles)."""
        if self.space.loops and e == self.space.linear:
            return _LINEAR
        if isinstance(e, Const):
            return _UNIFORM
        if isinstance(e, Var):
            if e.name in self.varying_roots or e.name in seen:
                return None
            if e.name in self.uniform_names:
                return _UNIFORM
            init = self.definitions.get(e.name)
            return self.warp_kind(init, seen | {e.name}) if init is not None else None
        if isinstance(e, Cast):
            inner = self.warp_kind(e.expr, seen)
            wide_int = isinstance(e.type, ScalarType) and e.type.dtype.is_int and e.type.dtype.bits >= 32
            return inner if inner != _LINEAR or wide_int else None
        if isinstance(e, BinOp):
            if e.op.endswith("=") and e.op not in ("==", "!=", "<=", ">="):
                return None
            lhs = self.warp_kind(e.lhs, seen)
            k = e.rhs.value if isinstance(e.rhs, Const) and isinstance(e.rhs.value, int) else None
            if lhs == _LINEAR and k is not None and (
                    e.op == "/" and k > 0 and k % self.warp_size == 0
                    or e.op == ">>" and 0 <= k < 32 and (1 << k) % self.warp_size == 0):
                return _WARP  # floor(t / (m * warp)) is floor(floor(t / warp) / m): one value per warp
            return _combined(lhs, self.warp_kind(e.rhs, seen))
        if isinstance(e, UnaryOp) and e.op in ("-", "+", "!", "~"):
            return _combined(self.warp_kind(e.operand, seen))
        if isinstance(e, Select):
            return _combined(*(self.warp_kind(x, seen) for x in (e.cond, e.then, e.otherwise)))
        if isinstance(e, Call) and e.name in _PURE_MATH:
            return _combined(*(self.warp_kind(a, seen) for a in e.args))
        return None

    def first_lane_value(self, e: Expr, warp: Expr) -> Expr:
        """`e` (proven by warp_kind) as the first thread of warp `warp` computes it, written for block level."""
        rest: Expr = BinOp("*", warp, Const(self.warp_size, DType.int32))
        lane_of: dict[str, Expr] = {}
        for depth, (var, ext, _) in reversed(list(enumerate(self.space.loops))):
            lane_of[var] = rest if depth == 0 else BinOp("%", rest, ext)
            rest = BinOp("/", rest, ext)

        def visit(n: Node) -> Node | None:
            if isinstance(n, Var) and n.name in lane_of:
                return lane_of[n.name]
            if isinstance(n, Var) and n.name not in self.uniform_names and n.name in self.definitions:
                return self.first_lane_value(self.definitions[n.name], warp)
            return None

        return transform(e, visit)

    # ---- assembling ----------------------------------------------------------------------------------------
    def assemble(self, items: list) -> tuple[Stmt, ...]:
        """Resolve phases into thread loop nests and slots into arrays where values cross phases."""
        phases: list[_Phase] = []
        slots: list[_Slot] = []
        self._collect(items, phases, slots)
        users: dict[str, int] = {}
        for phase in phases:
            mentioned: set[str] = set()
            if self.exit_flag is not None and not phase.first:
                mentioned.add(self.exit_flag)  # the guard thread_loops puts around later phases
            for preds, s in phase.entries:
                mentioned |= names_in(s) | declared_names(s) | set().union(*(names_in(p) for p in preds))
            for name in mentioned:
                users[name] = users.get(name, 0) + 1
        expanded = {slot.decl.name for slot in slots if users.get(slot.decl.name, 0) > 1}
        return self._resolve(items, expanded)

    def _collect(self, items: list, phases: list, slots: list) -> None:
        for item in items:
            if isinstance(item, _Phase):
                phases.append(item)
            elif isinstance(item, _Slot):
                slots.append(item)
            elif isinstance(item, (For, While, DoWhile)):
                self._collect(list(item.body.body), phases, slots)
            elif isinstance(item, If):
                self._collect(list(item.then.body), phases, slots)
                if item.otherwise is not None:
                    self._collect(list(item.otherwise.body), phases, slots)

    def _resolve(self, items: list, expanded: set[str]) -> tuple[Stmt, ...]:
        out: list[Stmt] = []
        for item in items:
            if isinstance(item, _Phase):
                out.append(self.thread_loops(item, expanded))
            elif isinstance(item, _Slot):
                if item.decl.name in expanded:
                    out.append(Decl(item.decl.name, promoted_type(item.decl.type, self.space.extent),
                                    align=item.decl.align))
            elif isinstance(item, (For, While, DoWhile)):
                out.append(dataclasses.replace(item, body=Block(self._resolve(list(item.body.body), expanded))))
            elif isinstance(item, If):
                other = Block(self._resolve(list(item.otherwise.body), expanded)) if item.otherwise else None
                out.append(dataclasses.replace(item, then=Block(self._resolve(list(item.then.body), expanded)),
                                               otherwise=other))
            else:
                out.append(item)
        return tuple(out)

    def thread_loops(self, phase: _Phase, expanded: set[str]) -> Stmt:
        body = _group_predicates(phase.entries)
        _refuse_stray_jumps(body, self.where)
        if self.exit_flag is not None:
            body = _lower_returns(body, self.exit_flag, 0)
            if not phase.first:
                body = (If(UnaryOp("!", Var(self.exit_flag)), Block(body)),)
        block = rewrite_uses(Block(body), expanded, self.space.linear)
        return self.space.nest(block)


def _group_predicates(entries: list[tuple[tuple[Expr, ...], Stmt]]) -> tuple[Stmt, ...]:
    """Nest statements under `if (pred)` blocks, sharing blocks between consecutive statements with a common prefix."""
    root: list[Stmt] = []
    stack: list[tuple[tuple[Expr, ...], list[Stmt]]] = [((), root)]

    def pop() -> None:
        preds, body = stack.pop()
        stack[-1][1].append(If(preds[-1], Block(tuple(body))))

    for preds, s in entries:
        while preds[:len(stack[-1][0])] != stack[-1][0]:
            pop()
        while len(stack[-1][0]) < len(preds):
            stack.append((preds[:len(stack[-1][0]) + 1], []))
        stack[-1][1].append(s)
    while len(stack) > 1:
        pop()
    return tuple(root)


def _refuse_stray_jumps(stmts: tuple[Stmt, ...], where: str) -> None:
    """break/continue that would leave a loop hoisted above the thread loops cannot be kept per thread."""

    def visit(node: Node, in_loop: bool) -> None:
        if isinstance(node, (Break, Continue)) and not in_loop:
            raise PassRefused("XP511", f"a {type(node).__name__.lower()} in {where} leaves a loop that contains a "
                                       "barrier", hint="restructure the loop so every thread runs the same iterations")
        for child in _stmt_children(node):
            inner = in_loop or isinstance(node, (For, While, DoWhile)) or isinstance(node, Switch) and isinstance(
                child, Block)
            visit(child, inner)

    for s in stmts:
        visit(s, False)


def _stmt_children(node: Node) -> list[Node]:
    if isinstance(node, Block):
        return list(node.body)
    if isinstance(node, (For, While, DoWhile, Switch)):
        return [node.body]
    if isinstance(node, If):
        return [node.then] + ([node.otherwise] if node.otherwise else [])
    if isinstance(node, Pragma) and node.body is not None:
        return [node.body]
    return []


def _lower_returns(stmts: tuple[Stmt, ...], flag: str, depth: int) -> tuple[Stmt, ...]:
    """`return` -> set the thread's exit flag and leave its phase (continue the thread loop, via breaks if nested)."""
    out: list[Stmt] = []
    for s in stmts:
        if not any(isinstance(n, Return) for n in walk(s)):
            out.append(s)
            continue
        if isinstance(s, Return):
            out += [Assign(Var(flag), Const(True, DType.bool)), Continue() if depth == 0 else Break()]
        elif isinstance(s, Block):
            out.append(Block(_lower_returns(s.body, flag, depth)))
        elif isinstance(s, If):
            other = Block(_lower_returns(s.otherwise.body, flag, depth)) if s.otherwise else None
            out.append(dataclasses.replace(s, then=Block(_lower_returns(s.then.body, flag, depth)), otherwise=other))
        elif isinstance(s, (For, While, DoWhile, Switch)):
            out.append(dataclasses.replace(s, body=Block(_lower_returns(s.body.body, flag, depth + 1))))
            out.append(If(Var(flag), Block((Continue() if depth == 0 else Break(),))))
        else:
            raise PassRefused("XP511", "cannot lower a return inside a " + type(s).__name__)
    return tuple(out)


# ================================================================ types (for shuffle temporaries) ==============


_FIELD_TYPES = {"float": DType.float32, "double": DType.float64, "int": DType.int32, "unsigned": DType.uint32,
                "unsigned int": DType.uint32, "long long": DType.int64, "int32_t": DType.int32,
                "uint32_t": DType.uint32, "int64_t": DType.int64}


def _struct_fields(module: Module) -> dict[tuple[str, str], Type]:
    """Scalar fields of the plain structs the module defines (kept as text), for typing shuffled members."""
    fields: dict[tuple[str, str], Type] = {}
    for item in walk(module):
        if not isinstance(item, Verbatim):
            continue
        for struct, body in re.findall(r"\b(?:struct|class)\s+(\w+)\s*\{([^{}]*)\}", item.text):
            for member in body.split(";"):
                match = re.fullmatch(r"\s*(?:const\s+)?([a-z_0-9 ]+?)\s+([\w\s,]+)", member)
                if match is None:
                    continue
                type_text, names = match.groups()
                if type_text.strip() in _FIELD_TYPES:
                    for name in names.split(","):
                        fields[(struct, name.strip())] = ScalarType(_FIELD_TYPES[type_text.strip()])
    return fields


def _expr_type(e: Expr, env: dict[str, Type], structs: dict | None = None) -> Type | None:
    structs = structs or {}
    def rec(x: Expr) -> Type | None:
        return _expr_type(x, env, structs)

    if isinstance(e, Var):
        return env.get(e.name)
    if isinstance(e, Const):
        return ScalarType(e.dtype)
    if isinstance(e, Cast):
        return e.type
    if isinstance(e, Index):
        base = rec(e.base)
        if isinstance(base, ArrayType):
            return base.element
        if isinstance(base, PointerType):
            return base.pointee
        return None
    if isinstance(e, UnaryOp):
        inner = rec(e.operand)
        if e.op == "*":
            return inner.pointee if isinstance(inner, PointerType) else None
        if e.op == "!":
            return _BOOL
        return inner
    if isinstance(e, Member):
        base = rec(e.base)
        if isinstance(base, PointerType) and e.arrow:
            base = base.pointee
        if isinstance(base, NamedType):
            return structs.get((base.name, e.field))
        return ScalarType(base.dtype) if isinstance(base, VectorType) else None
    if isinstance(e, Select):
        return rec(e.then)
    if isinstance(e, BinOp):
        if e.op in ("<", "<=", ">", ">=", "==", "!=", "&&", "||"):
            return _BOOL
        a, b = rec(e.lhs), rec(e.rhs)
        if isinstance(a, ScalarType) and isinstance(b, ScalarType):
            if a.dtype.is_float or b.dtype.is_float:
                order = [DType.float16, DType.bfloat16, DType.float32, DType.float64]
                fa = order.index(a.dtype) if a.dtype in order else -1
                fb = order.index(b.dtype) if b.dtype in order else -1
                return ScalarType(order[max(fa, fb, 2 if min(fa, fb) < 0 else 0)])
            return ScalarType(a.dtype if a.dtype.bits >= b.dtype.bits else b.dtype)
        return a if isinstance(a, PointerType) else b if isinstance(b, PointerType) else a
    if isinstance(e, Call) and (e.name.endswith("f") and e.name in _PURE_MATH):
        return ScalarType(DType.float32)
    return None


def _non_const(t: Type) -> Type:
    if isinstance(t, (ScalarType, VectorType, NamedType, PointerType)) and getattr(t, "const", False):
        return dataclasses.replace(t, const=False)
    return t


# ================================================================ SIMT (cuda / hip) ===========================


class _SimtRecovery:
    def __init__(self, module: Module, options: RecoverOptions):
        self.module = module
        self.warp = options.warp_size or (64 if module.dialect == "hip" else 32)
        self.namer = Namer(_taken_names(module))
        self.functions = {f.name: f for f in module.functions if f.body is not None}
        self._needs_inline: dict[str, bool] = {}
        self.uses_atomics = False
        self.globals = {g.name: g for g in module.globals}
        # 1-D `__constant__` arrays: host code fills them (cudaMemcpyToSymbol), so they become scratch buffers
        self.constants = {g.name: g for g in module.globals if g.scope == MemScope.constant and g.init is None
                          and isinstance(g.type, ArrayType) and isinstance(g.type.size, Const)
                          and not isinstance(g.type.element, ArrayType)}
        self.structs = _struct_fields(module)
        self.host_constants: dict[str, Expr] = {}  # integer constants of the host function being recovered

    # ---- helpers that must be inlined ----------------------------------------------------------------------
    def needs_inline(self, name: str) -> bool:
        """A helper is inlined when it (or what it calls) uses thread indices, barriers, warp ops or __shared__."""
        if name not in self.functions:
            return False
        if name in self._needs_inline:
            return self._needs_inline[name]
        self._needs_inline[name] = False  # recursion guard
        fn = self.functions[name]
        found = False
        for n in walk(fn.body):
            if isinstance(n, (BuiltinVar, Barrier)) or isinstance(n, Decl) and n.scope == MemScope.shared:
                found = True
            elif isinstance(n, Call) and (n.name in _SHUFFLES or n.name in _WARP_BARRIERS or self.needs_inline(n.name)):
                found = True
            elif isinstance(n, Var) and (n.name in self.constants or n.name in self.globals
                                         and self.globals[n.name].scope == MemScope.shared):
                found = True
        self._needs_inline[name] = found
        return found

    # ---- module --------------------------------------------------------------------------------------------
    def run(self) -> Module:
        items = self._items(self.module.items)
        helpers = []
        if self.uses_atomics:
            helpers.append(Verbatim(_atomic_helpers_text()))
        includes = tuple(i for i in self.module.includes if not any(h in i for h in _DIALECT_HEADERS))
        includes += tuple(i for i in ("<cstdlib>", "<cstring>", "<cstdio>", "<cmath>", "<cfloat>") if i not in includes)
        macros = self.module.macros
        if any(isinstance(n, Verbatim) and re.search(r"__(device|host|forceinline)__", n.text) for n in walk(self.module)):
            macros += GPU_SPELLINGS_ERASED
        result = Module("cpp", includes, macros, tuple(helpers) + items)
        result = dataclasses.replace(result, items=_vector_structs(result) + result.items)
        return _to_plain_cpp(result)

    def _items(self, items: tuple) -> tuple:
        out = []
        for item in items:
            if isinstance(item, Namespace):
                out.append(dataclasses.replace(item, items=self._items(item.items)))
            elif isinstance(item, Function):
                converted = self._function(item)
                if converted is not None:
                    out.append(converted)
            elif isinstance(item, GlobalVar):
                if item.name in self.constants:
                    continue  # scratch of the host functions that use it (_constants_as_scratch)
                if item.scope == MemScope.shared:
                    continue  # file-scope extern __shared__: each launch gives it block storage
                out.append(self._table_or_global(item))
            elif not (isinstance(item, Verbatim) and _DIALECT_NAMESPACE.fullmatch(item.text.strip())):
                out.append(item)
        return tuple(out)

    def _table_or_global(self, g: GlobalVar) -> GlobalVar:
        """A host global; an initialized `__constant__` array no host copy writes is a read-only table, so its
        elements become `const` (a back half may then give it to device code as constant data)."""
        written = any(isinstance(n, Call) and n.name in ("cudaMemcpyToSymbol", "hipMemcpyToSymbol")
                      and g.name in names_in(n) for n in walk(self.module))
        if g.scope == MemScope.constant and g.init is not None and isinstance(g.type, ArrayType) \
                and isinstance(g.type.element, ScalarType) and not written:
            return dataclasses.replace(g, scope=MemScope.host, type=dataclasses.replace(
                g.type, element=dataclasses.replace(g.type.element, const=True)))
        return dataclasses.replace(g, scope=MemScope.host)

    def _function(self, fn: Function) -> Function | None:
        if FuncQual.global_ in fn.qualifiers:
            return None
        if fn.body is None:
            return None if {FuncQual.device} & fn.qualifiers else fn
        is_device = FuncQual.device in fn.qualifiers and FuncQual.host not in fn.qualifiers
        if is_device and self.needs_inline(fn.name):
            return None
        if is_device or FuncQual.device in fn.qualifiers:
            quals = frozenset({FuncQual.static, FuncQual.inline})
            return dataclasses.replace(fn, qualifiers=quals, body=self.device_intrinsics(fn.body), attributes=())
        if not any(isinstance(n, KernelLaunch) or isinstance(n, Call) and _is_runtime_call(n.name)
                   for n in walk(fn.body)):
            return fn
        body = self._constants_as_scratch(_drop_status_checks(self.host_body(fn)))
        return dataclasses.replace(fn, body=_min_max(body))

    def _constants_as_scratch(self, body: Block) -> Block:
        """`__constant__ T c[N]` used by this host function becomes `T* c = malloc(N * sizeof(T))`, zeroed like
        constant memory, freed before every return: a scratch buffer, which each back half knows how to give
        its kernels (a device buffer, a GDRAM array, host memory)."""
        used = [g for name, g in self.constants.items() if name in names_in(body)]
        if not used:
            return body
        setup: list[Stmt] = []
        release: list[Stmt] = []
        for g in used:
            element = _non_const(g.type.element)
            bytes_ = BinOp("*", g.type.size, SizeOf(element))
            setup += [Decl(g.name, PointerType(element), Cast(PointerType(element), Call("malloc", (bytes_,)))),
                      ExprStmt(Call("memset", (Var(g.name), Const(0, DType.int32), bytes_)))]
            release.append(ExprStmt(Call("free", (Var(g.name),))))

        def before_returns(n: Node) -> Node | None:
            return Block(tuple(release) + (n,)) if isinstance(n, Return) else None

        return Block(tuple(setup) + transform(body, before_returns).body + tuple(release))

    # ---- host code -----------------------------------------------------------------------------------------
    def host_body(self, fn: Function) -> Block:
        env: dict[str, Type] = {p.name: p.type for p in fn.params}
        env.update({d.name: d.type for d in walk(fn.body) if isinstance(d, Decl)})
        env.update({g.name: g.type for g in self.module.globals})
        dims: dict[str, tuple[Expr, Expr, Expr]] = {}
        ones: set[str] = set()
        assigned = _assigned_names(fn.body)
        self.host_constants = {d.name: d.init for d in walk(fn.body)
                               if isinstance(d, Decl) and d.name not in assigned and isinstance(d.type, ScalarType)
                               and (d.type.const or VarQual.constexpr in d.qualifiers)
                               and _integer(d.init, {}) is not None}

        def dim3_decl(d: Decl) -> list[Stmt]:
            parts = self.dim3_parts(d.init, dims) if d.init is not None else (Const(1, DType.int32),) * 3
            names = tuple(self.namer.fresh(f"{d.name}_{a}") for a in "xyz")
            dims[d.name] = tuple(Var(n) for n in names)  # type: ignore[assignment]
            for n, part in zip(names, parts):
                if isinstance(part, Const) and part.value == 1 or isinstance(part, Var) and part.name in ones:
                    ones.add(n)
            return [Decl(n, ScalarType(DType.uint32), p) for n, p in zip(names, parts)]

        queues = {d.name for d in walk(fn.body) if isinstance(d, Decl) and _queue_type(d.type)}

        def stmt(s: Stmt) -> list[Stmt]:
            if isinstance(s, Decl) and isinstance(s.type, NamedType) and s.type.name == "dim3":
                return dim3_decl(s)
            if isinstance(s, Decl) and s.name in queues:
                return []  # the loop form runs all work in order: streams and events order nothing more
            if isinstance(s, KernelLaunch):
                return [self.launch(s, dims, ones - assigned, env)]
            if isinstance(s, ExprStmt) and isinstance(s.expr, Call) and _is_runtime_call(s.expr.name):
                return self.runtime_call(s.expr, env)
            if isinstance(s, Decl) and isinstance(s.init, Call) and _is_runtime_call(s.init.name) \
                    and s.init.name not in _STATUS_CALLS:
                return self.runtime_call(s.init, env) + [dataclasses.replace(s, init=Const(0, DType.int32))]
            if isinstance(s, Assign) and isinstance(s.value, Call) and _is_runtime_call(s.value.name) \
                    and s.value.name not in _STATUS_CALLS:
                return self.runtime_call(s.value, env) + [dataclasses.replace(s, value=Const(0, DType.int32))]
            if isinstance(s, Block):
                return [Block(tuple(x for i in s.body for x in stmt(i)))]
            if isinstance(s, If):
                return [dataclasses.replace(s, then=block(s.then), otherwise=block(s.otherwise) if s.otherwise else None)]
            if isinstance(s, (For, While, DoWhile, Switch)):
                return [dataclasses.replace(s, body=block(s.body))]
            return [s]

        def block(b: Block) -> Block:
            return Block(tuple(x for s in b.body for x in stmt(s)))

        body = block(fn.body)

        def members(n: Node) -> Node | None:
            if isinstance(n, Member) and isinstance(n.base, Var) and n.base.name in dims and n.field in "xyz":
                return dims[n.base.name]["xyz".index(n.field)]
            if isinstance(n, Var) and n.name in ("cudaSuccess", "hipSuccess"):
                return Const(0, DType.int32)
            if isinstance(n, Call) and n.name in _STATUS_CALLS:
                return Const(0, DType.int32)
            if isinstance(n, Call) and n.name in ("cudaGetErrorString", "hipGetErrorString"):
                return StringLit('"no error"')
            if isinstance(n, Call) and _is_runtime_call(n.name):
                raise PassRefused("XP514", f"{n.name} is used inside an expression; only statement calls of the "
                                           "device memory API are understood",
                                  hint="call it as a statement of its own")
            return None

        body = transform(body, members)
        left = sorted(queues & names_in(body))
        if left:
            raise PassRefused("XP514", f"stream or event {', '.join(left)} is used other than to create, order, wait "
                                       "for and destroy work", hint="only in-order use of streams is translated")
        return body

    def dim3_parts(self, e: Expr, dims: dict) -> tuple[Expr, Expr, Expr]:
        one = Const(1, DType.int32)
        if isinstance(e, Construct) and isinstance(e.type, NamedType) and e.type.name == "dim3":
            args = tuple(e.args) + (one,) * (3 - len(e.args))
            return args[0], args[1], args[2]
        if isinstance(e, Cast) and isinstance(e.type, NamedType) and e.type.name == "dim3":
            return self.dim3_parts(e.expr, dims)
        if isinstance(e, Var) and e.name in dims:
            return dims[e.name]
        return e, one, one

    def runtime_call(self, call: Call, env: dict[str, Type]) -> list[Stmt]:
        name = call.name.replace("hip", "cuda", 1) if call.name.startswith("hip") else call.name
        args = call.args
        if name == "cudaMalloc":
            target = args[0].expr if isinstance(args[0], Cast) else args[0]
            if not (isinstance(target, UnaryOp) and target.op == "&" and isinstance(target.operand, Var)
                    and target.operand.name in env):
                raise PassRefused("XP514", f"{call.name} must be given the address of a pointer variable")
            var = target.operand
            return [Assign(var, Cast(_non_const(env[var.name]), Call("malloc", (args[1],))))]
        if name in ("cudaMemcpy", "cudaMemcpyAsync"):
            return [ExprStmt(Call("memcpy", args[:3]))]
        if name in ("cudaMemset", "cudaMemsetAsync"):
            return [ExprStmt(Call("memset", args[:3]))]
        if name == "cudaFree":
            return [ExprStmt(Call("free", args[:1]))]
        if name in ("cudaMemcpyToSymbol", "cudaMemcpyFromSymbol"):
            symbol = args[0] if name == "cudaMemcpyToSymbol" else args[1]
            if isinstance(symbol, Call) and symbol.name == "HIP_SYMBOL":
                symbol = symbol.args[0]
            offset = args[3] if len(args) > 3 else Const(0, DType.int32)
            if isinstance(symbol, Var) and symbol.name in self.constants and offset == Const(0, DType.int32):
                place = symbol  # a scratch pointer now (_constants_as_scratch)
            elif isinstance(symbol, Var) and symbol.name in self.constants:
                place = BinOp("+", Cast(PointerType(ScalarType(DType.uint8)), symbol), offset)
            else:
                place = BinOp("+", Cast(PointerType(ScalarType(DType.uint8)), UnaryOp("&", symbol)), offset)
            pair = (place, args[1]) if name == "cudaMemcpyToSymbol" else (args[0], place)
            return [ExprStmt(Call("memcpy", pair + (args[2],)))]
        if name in ("cudaDeviceSynchronize", "cudaStreamSynchronize", "cudaFuncSetAttribute", "cudaGetLastError",
                    "cudaPeekAtLastError", "cudaSetDevice", "cudaThreadSynchronize") or name in _QUEUE_CALLS:
            return []
        if name == "cudaGetDevice":
            return [Assign(UnaryOp("*", args[0]), Const(0, DType.int32))]
        if name == "cudaDeviceGetAttribute" and isinstance(args[1], Var) and "MultiProcessorCount" in args[1].name:
            return [Assign(UnaryOp("*", args[0]), Const(108, DType.int32))]
        raise PassRefused("XP514", f"{call.name} is not understood by recover_loops",
                          hint="only device allocation, copies, memset, free and synchronization are translated")

    # ---- one launch ----------------------------------------------------------------------------------------
    def deduce_template_args(self, kernel: Function, launch: KernelLaunch, env: dict[str, Type]) -> tuple:
        """The launch's template arguments, completed from the argument types for `typename` parameters."""
        given = list(launch.template_args)
        for tp in kernel.template_params[len(given):]:
            deduced = None
            for param, arg in zip(kernel.params, launch.args):
                t, pointer = param.type, False
                if isinstance(t, PointerType):
                    t, pointer = t.pointee, True
                if isinstance(t, NamedType) and t.name == tp.name and tp.type is None:
                    arg_type = arg.type if isinstance(arg, (Construct, Cast)) else (
                        env.get(arg.name) if isinstance(arg, Var) else None)
                    if pointer and isinstance(arg_type, PointerType):
                        arg_type = arg_type.pointee
                    if arg_type is not None and not isinstance(arg_type, PointerType) or not pointer:
                        deduced = _non_const(arg_type) if arg_type is not None else None
                if deduced is not None:
                    break
            if deduced is None:
                if tp.default is not None:
                    raise PassRefused("XP512", f"template parameter {tp.name} of {kernel.name} takes its default "
                                               f"({tp.default}); give it explicitly at the launch")
                raise PassRefused("XP512", f"cannot deduce template parameter {tp.name} of {kernel.name}",
                                  hint="give the template arguments explicitly at the launch")
            given.append(deduced)
        return tuple(given)

    def launch(self, launch: KernelLaunch, dims: dict, ones: set[str], env: dict[str, Type]) -> Stmt:
        if launch.kernel not in self.functions:
            raise PassRefused("XP513", f"kernel {launch.kernel} has no definition in this module")
        where = f"kernel {launch.kernel}"
        _refuse_tensor_cores(self.functions[launch.kernel], self.functions, where)
        template_args = self.deduce_template_args(self.functions[launch.kernel], launch, env)
        kernel = instantiate(self.functions[launch.kernel], template_args)
        body = kernel.body
        shared_globals = [g for g in self.module.globals if g.scope == MemScope.shared and g.name in names_in(body)]
        body = Block(tuple(Decl(g.name, g.type, None, MemScope.shared, g.qualifiers, g.align)
                           for g in shared_globals) + body.body)
        body = _inline_helpers(fold(body), self.functions, self.needs_inline, self.namer, where)
        body = _drop_static_asserts(_private_params(kernel.params, body))
        params, body = uniquify(kernel.params, body, self.namer)
        body = fold(self.device_intrinsics(_cooperative_groups(body, self.warp, where)))

        grid = self.dim3_parts(launch.config.grid, dims)
        block = self.dim3_parts(launch.config.block, dims)

        def is_one(e: Expr) -> bool:
            return isinstance(e, Const) and e.value == 1 or isinstance(e, Var) and e.name in ones

        prelude: list[Stmt] = []
        bound = {}
        for kind, parts in (("grid", grid), ("block", block)):
            for axis, part in zip("xyz", parts):
                name = self.namer.fresh(f"xp_{kind}_{axis}")
                prelude.append(Decl(name, ScalarType(DType.int32, const=True), Cast(_INT, part)
                                    if not isinstance(part, Const) else part))
                bound[(kind, axis)] = (Var(name), is_one(part))
        thread_vars = {a: self.namer.fresh(f"xp_t{a}") for a in "xyz"}
        block_vars = {a: self.namer.fresh(f"xp_b{a}") for a in "xyz"}
        threads = _ThreadSpace([(thread_vars[a], bound[("block", a)][0], f"threadIdx.{a}") for a in "zyx"
                                if not bound[("block", a)][1]])
        blocks = _ThreadSpace([(block_vars[a], bound[("grid", a)][0], f"blockIdx.{a}") for a in "zyx"
                               if not bound[("grid", a)][1]])

        def builtin(n: Node) -> Node | None:
            if not isinstance(n, BuiltinVar):
                return None
            if n.name == "warpSize":
                return Const(self.warp, DType.int32)
            table = {"threadIdx": ("block", thread_vars), "blockIdx": ("grid", block_vars)}
            if n.name in table and n.axis in "xyz":
                kind, names = table[n.name]
                return Const(0, DType.int32) if bound[(kind, n.axis)][1] else Var(names[n.axis])
            if n.name in ("blockDim", "gridDim") and n.axis in "xyz":
                return bound[("block" if n.name == "blockDim" else "grid", n.axis)][0]
            raise PassRefused("XP511", f"builtin {n.name} is not understood in {where}")

        body = transform(body, builtin)
        types = {p.name: p.type for p in params}
        types.update({d.name: d.type for d in walk(body) if isinstance(d, Decl)})
        body = self.warp_ops(body, types, threads, where)

        exit_flag = None
        if any(isinstance(n, Return) for n in walk(body)):
            exit_flag = self.namer.fresh("xp_exited")
            body = Block((Decl(exit_flag, _BOOL, Const(False, DType.bool)),) + body.body)

        uniform_names = {p.name for p in params} | {v.name for v, _ in bound.values()} | set(block_vars.values())
        uniform_names |= {n for n in names_in(body) if n not in {d.name for d in walk(body) if isinstance(d, Decl)}
                          and not (n in self.globals and self._mutable_global(n))}
        assigned = _assigned_names(body) | {exit_flag}
        splitter = _Splitter(threads, uniform_names, set(thread_vars.values()), assigned, exit_flag, self.namer, where,
                             warp_size=self.warp, definitions=_definitions(body, assigned))
        items = splitter.split_block(body.body, ())
        block_body: list[Stmt] = [Decl(p.name, _drop_restrict(p.type), arg) for p, arg in zip(params, launch.args)]
        block_body += self.shared_storage(splitter.shared, launch, where)
        block_body += list(splitter.assemble(items))
        block_body += [ExprStmt(Call("free", (Var(d.name),))) for d in splitter.shared if d.name.startswith("xp_smem")]
        grid_nest = blocks.nest(Block(tuple(block_body)))
        return Block(tuple(prelude) + (grid_nest,))

    def _mutable_global(self, name: str) -> bool:
        g = self.globals[name]
        return not (VarQual.constexpr in g.qualifiers or getattr(g.type, "const", False))

    def shared_storage(self, decls: list[Decl], launch: KernelLaunch, where: str) -> list[Stmt]:
        """Block-level storage for __shared__ arrays; `extern __shared__` arrays view one malloc'ed buffer."""
        out: list[Stmt] = []
        dynamic = [d for d in decls if isinstance(d.type, ArrayType) and d.type.size is None]
        buffer = None
        bytes_known = None
        if dynamic:
            buffer = self.namer.fresh("xp_smem")
            given = launch.config.shared if launch.config.shared is not None else Const(0, DType.int32)
            bytes_known = _integer(given, self.host_constants)
            if bytes_known is not None:  # a fixed block array, which every back half can place (NRAM on BANG)
                out.append(Decl(buffer, ArrayType(ScalarType(DType.uint8), Const(max(bytes_known, 1), DType.int32)),
                                align=16))
            else:
                size = BinOp("+", Cast(ScalarType(DType.uint64, spelling="size_t"), given), Const(16, DType.int32))
                out.append(Decl(buffer, PointerType(ScalarType(DType.uint8)),
                                Cast(PointerType(ScalarType(DType.uint8)), Call("malloc", (size,)))))
        for d in decls:
            if d in dynamic:
                pointer = PointerType(_non_const(d.type.element))
                out.append(Decl(d.name, pointer, Cast(pointer, Var(buffer))))
            else:
                out.append(dataclasses.replace(d, scope=MemScope.local, qualifiers=d.qualifiers - {VarQual.extern}))
        if buffer is not None and bytes_known is None:
            decls.append(Decl(buffer, PointerType(ScalarType(DType.uint8))))  # freed at the end of the block
        return out

    # ---- device code rewrites ------------------------------------------------------------------------------
    def device_intrinsics(self, body: Node) -> Node:
        """Device-only math, loads and atomics -> plain C (libm, casts, the module's atomic helpers)."""

        def visit(n: Node) -> Node | None:
            if not isinstance(n, Call):
                return None
            if n.name in _RENAMED_MATH:
                return dataclasses.replace(n, name=_RENAMED_MATH[n.name])
            if n.name == "__ldg" and len(n.args) == 1:
                return UnaryOp("*", n.args[0])
            if n.name == "rsqrtf":
                return BinOp("/", Const(1.0, DType.float32), Call("sqrtf", n.args))
            if n.name == "__fdividef":
                return BinOp("/", n.args[0], n.args[1])
            if n.name == "__saturatef":
                return Call("fminf", (Call("fmaxf", (n.args[0], Const(0.0, DType.float32))), Const(1.0, DType.float32)))
            if n.name in ("__float2half", "__float2half_rn", "__half2float", "__int2float_rn", "__float2int_rz"):
                target = {"__float2half": DType.float16, "__float2half_rn": DType.float16,
                          "__half2float": DType.float32, "__int2float_rn": DType.float32,
                          "__float2int_rz": DType.int32}[n.name]
                return Cast(ScalarType(target), n.args[0])
            if n.name in ATOMIC_HELPERS:
                self.uses_atomics = True
                return dataclasses.replace(n, name=ATOMIC_HELPERS[n.name])
            if n.name in _UNSUPPORTED_WARP or n.name.startswith("cooperative_groups") or n.name.startswith("cg::"):
                raise PassRefused("XP516", f"{n.name} (warp vote / cooperative groups) is not supported yet",
                                  hint="use shuffles or shared memory")
            return None

        def drop_fences(n: Node) -> Node | None:
            if isinstance(n, Block):
                kept = tuple(s for s in n.body if not (isinstance(s, ExprStmt) and isinstance(s.expr, Call)
                                                       and s.expr.name.startswith("__threadfence")))
                return Block(kept) if len(kept) != len(n.body) else None
            return None

        return _min_max(transform(transform(body, visit), drop_fences))

    def warp_ops(self, body: Block, env: dict[str, Type], threads: _ThreadSpace, where: str) -> Block:
        """`s[shfl(v, ...)]` -> `tmp = v; <warp split>; s[tmp as seen by the source lane]`."""

        def shuffles(e: Node) -> list[Call]:  # and votes: every call that reads other lanes' values
            return [n for n in walk(e) if isinstance(n, Call) and (n.name in _SHUFFLES or n.name in _VOTES)]

        if any(n.name in _VOTES for n in shuffles(body)) and any(isinstance(n, Return) for n in walk(body)):
            raise PassRefused("XP516", f"a warp vote in {where}, whose threads may return early",
                              hint="let every thread reach the vote (no return before it)")

        def rewrite(s: Stmt) -> list[Stmt]:
            if isinstance(s, ExprStmt) and isinstance(s.expr, Call) and s.expr.name in _WARP_BARRIERS:
                return [Barrier(BarrierKind.syncwarp)]
            if isinstance(s, Block):
                return [Block(tuple(x for i in s.body for x in rewrite(i)))]
            if isinstance(s, If):
                pre, cond = lift(s.cond)
                if any(n.name in _VOTES for b in (s.then, s.otherwise) if b for n in shuffles(b)):
                    raise PassRefused("XP516", f"a warp vote inside an if in {where}: the lanes that skip it "
                                               "would not vote", hint="vote in code every lane of the warp runs")
                other = Block(tuple(x for i in s.otherwise.body for x in rewrite(i))) if s.otherwise else None
                return pre + [dataclasses.replace(s, cond=cond, then=Block(tuple(x for i in s.then.body
                                                                                 for x in rewrite(i))),
                                                  otherwise=other)]
            if isinstance(s, (For, While, DoWhile)):
                heads = [s.cond] + (list(s.init) + [s.step] if isinstance(s, For) else [])
                if any(h is not None and shuffles(h) for h in heads):
                    raise PassRefused("XP516", f"a warp shuffle in a loop header in {where}",
                                      hint="shuffle in the loop body")
                return [dataclasses.replace(s, body=Block(tuple(x for i in s.body.body for x in rewrite(i))))]
            if isinstance(s, Switch):
                if shuffles(s):
                    raise PassRefused("XP516", f"a warp shuffle inside a switch in {where}")
                return [s]
            if isinstance(s, (ExprStmt, Assign, Decl, Return)) and shuffles(s):
                pre, new = lift(s)
                return pre + [new]
            return [s]

        def lift(node: Node) -> tuple[list[Stmt], Node]:
            calls = shuffles(node)
            if not calls:
                return [], node
            if any(n.name in _VOTES for n in _conditionally_evaluated(node)):
                raise PassRefused("XP516", f"a warp vote evaluated only by some lanes (after ?:, && or ||) in "
                                           f"{where}", hint="vote in code every lane of the warp runs")
            pre: list[Stmt] = []
            counted: list[Stmt] = []  # votes: the count over the lanes, after the warp's values are written
            replaced: dict[int, Node] = {}
            for call in calls:
                if any(shuffles(a) for a in call.args):
                    raise PassRefused("XP516", f"nested warp shuffles in {where}")
                args = call.args[1:] if call.name.endswith("_sync") else call.args
                if call.name in _VOTES:
                    tmp = self.namer.fresh("xp_vote")
                    env[tmp] = _INT
                    pre.append(Decl(tmp, _INT, Select(args[0], Const(1, DType.int32), Const(0, DType.int32))))
                    statements, replaced[id(call)] = self.vote(_VOTES[call.name], tmp, threads)
                    counted += statements
                    continue
                kind = _SHUFFLES[call.name]
                value, operand = args[0], args[1]
                width = args[2] if len(args) > 2 else Const(self.warp, DType.int32)
                vtype = _expr_type(value, env, self.structs)
                if vtype is None or isinstance(vtype, (ArrayType, ReferenceType)):
                    raise PassRefused("XP516", f"cannot tell the type of the value shuffled in {where}",
                                      hint="shuffle a variable")
                tmp = self.namer.fresh("xp_shfl")
                env[tmp] = vtype
                pre.append(Decl(tmp, _non_const(vtype), value))
                replaced[id(call)] = self.shuffle_read(kind, tmp, operand, width, threads)
            pre.append(Barrier(BarrierKind.syncwarp))
            return pre + counted, replace_nodes(node, replaced)

        return Block(tuple(x for s in body.body for x in rewrite(s)))

    def vote(self, kind: str, tmp: str, threads: _ThreadSpace) -> tuple[list[Stmt], Expr]:
        """Statements counting the warp's votes (`tmp` of each lane, 1 or 0) into a ballot of the lanes that exist,
        and the vote's value: the ballot, whether any bit is set, or whether every existing lane's is."""
        t = threads.linear
        bits = ScalarType(DType.uint64 if self.warp > 32 else DType.uint32)
        ballot, present, l = (self.namer.fresh(name) for name in ("xp_ballot", "xp_lanes", "xp_l"))
        source = BinOp("+", BinOp("-", t, BinOp("%", t, Const(self.warp, DType.int32))), Var(l))
        bit = BinOp("<<", Cast(bits, Const(1, DType.int32)), Var(l))
        count = For((Decl(l, _INT, Const(0, DType.int32)),), BinOp("<", Var(l), Const(self.warp, DType.int32)),
                    Assign(Var(l), Const(1, DType.int32), "+"), Block((If(BinOp("<", source, threads.extent), Block((
                        Assign(Var(present), bit, "|"),
                        If(Call(AT, (Var(tmp), source)), Block((Assign(Var(ballot), bit, "|"),))))),),)))
        statements = [Decl(ballot, bits, Cast(bits, Const(0, DType.int32))),
                      Decl(present, bits, Cast(bits, Const(0, DType.int32))), count]
        value = {"ballot": Var(ballot),
                 "any": Cast(_INT, BinOp("!=", Var(ballot), Cast(bits, Const(0, DType.int32)))),
                 "all": Cast(_INT, BinOp("==", Var(ballot), Var(present)))}[kind]
        return statements, value

    def shuffle_read(self, kind: str, tmp: str, operand: Expr, width: Expr, threads: _ThreadSpace) -> Expr:
        """The shuffled value: the source lane's slot of `tmp`, or the thread's own where CUDA returns its own."""
        t = threads.linear
        lane = BinOp("%", t, Const(self.warp, DType.int32))
        base = BinOp("-", t, lane)
        whole_warp = width == Const(self.warp, DType.int32)
        # the first lane of the thread's width-wide segment, relative to its warp's (0 for whole-warp shuffles)
        seg = Const(0, DType.int32) if whole_warp else BinOp("*", BinOp("/", lane, width), width)
        if kind == "xor" and whole_warp:  # 0 <= m < warp (a power of two) flips lane bits only: the lane t ^ m
            source = BinOp("^", t, operand)
            valid = BinOp("&&", BinOp("&&", BinOp("<=", Const(0, DType.int32), operand),
                                      BinOp("<", operand, width)), BinOp("<", source, threads.extent))
            return Select(valid, Call(AT, (Var(tmp), source)), Call(AT, (Var(tmp), t)))
        if kind == "idx":
            src = BinOp("+", seg, BinOp("&", operand, BinOp("-", width, Const(1, DType.int32))))
            valid: Expr = Const(True, DType.bool)
        elif kind == "xor":
            src = BinOp("^", lane, operand)
            valid = BinOp("<", src, BinOp("+", seg, width))
        elif kind == "down":
            src = BinOp("+", lane, operand)
            valid = BinOp("<", BinOp("+", BinOp("%", lane, width), operand), width)
        else:
            src = BinOp("-", lane, operand)
            valid = BinOp(">=", BinOp("%", lane, width), operand)
        source = BinOp("+", base, src)
        valid = BinOp("&&", valid, BinOp("<", source, threads.extent))
        return Select(valid, Call(AT, (Var(tmp), source)), Call(AT, (Var(tmp), t)))


def _conditionally_evaluated(node: Node) -> list[Call]:
    """The calls under node that C evaluates only on some condition: in a ?: branch, or right of && and ||."""
    found: list[Call] = []

    def visit(n: Node) -> Node | None:
        if isinstance(n, Select):
            found.extend(c for branch in (n.then, n.otherwise) for c in walk(branch) if isinstance(c, Call))
        elif isinstance(n, BinOp) and n.op in ("&&", "||"):
            found.extend(c for c in walk(n.rhs) if isinstance(c, Call))
        return None

    transform(node, visit)
    return found


def _integer(e: Expr | None, constants: dict[str, Expr]) -> int | None:
    """The value of an integer expression of literals, `sizeof` of scalars and the given constant locals."""
    def visit(n: Node) -> Node | None:
        if isinstance(n, SizeOf) and isinstance(n.arg, ScalarType):
            return Const(n.arg.dtype.bits // 8, DType.int32)
        if isinstance(n, Cast) and isinstance(n.type, ScalarType) and not n.type.dtype.is_float:
            return n.expr
        return None

    if e is None or any(isinstance(n, Var) and n.name not in constants for n in walk(e)):
        return None
    folded = fold(transform(substitute(e, dict(constants)), visit))
    value = folded.value if isinstance(folded, Const) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


_SHUFFLE_METHODS = {"shfl": "__shfl_sync", "shfl_xor": "__shfl_xor_sync", "shfl_down": "__shfl_down_sync",
                    "shfl_up": "__shfl_up_sync"}


def _group_kind(t: Type, init: Expr | None, warp: int, where: str) -> int | None:
    """0 for a cooperative-groups thread block, N for a tile of N threads, None for anything else."""
    name = t.name.rsplit("::", 1)[-1] if isinstance(t, NamedType) else ""
    call = init.name.rsplit("::", 1)[-1] if isinstance(init, Call) else ""
    if name == "thread_block" or name == "auto" and call == "this_thread_block":
        return 0
    tile = re.fullmatch(r"thread_block_tile<\s*(\d+)\s*>", name)
    if tile is None and not (name == "auto" and call == "tiled_partition"):
        return None
    size = int(tile.group(1)) if tile else None
    if size is None and len(init.template_args) == 1 and isinstance(init.template_args[0], Const):
        size = init.template_args[0].value
    if not (isinstance(size, int) and 1 <= size <= warp and size & (size - 1) == 0):
        raise PassRefused("XP516", f"a thread_block_tile in {where} whose size is not a power of two up to the "
                                   f"warp size {warp}", hint="use a tile of 1 to warp-size threads")
    return size


def _cooperative_groups(body: Block, warp: int, where: str) -> Block:
    """Thread blocks and warp tiles of cooperative groups as the plain CUDA they stand for: ranks and sizes from
    the thread indices, tile shuffles as width-limited `__shfl_*_sync`, syncs as barriers. A group used any other
    way (passed to a helper, voted on, reduced) is refused (XP516)."""
    groups = {d.name: kind for d in walk(body) if isinstance(d, Decl)
              for kind in [_group_kind(d.type, d.init, warp, where)] if kind is not None}
    if not groups:
        return body
    idx = {a: BuiltinVar("threadIdx", a) for a in "xyz"}
    dim = {a: BuiltinVar("blockDim", a) for a in "xyz"}
    threads = BinOp("*", BinOp("*", dim["x"], dim["y"]), dim["z"])
    rank = BinOp("+", idx["x"], BinOp("*", dim["x"], BinOp("+", idx["y"], BinOp("*", dim["y"], idx["z"]))))
    full = Const(0xFFFFFFFF, DType.uint32)

    def method(n: MethodCall, size: int) -> Node | None:
        width = Const(size or warp, DType.int32)
        if n.method == "thread_rank":
            return BinOp("%", rank, width) if size else rank
        if n.method in ("size", "num_threads"):
            return width if size else threads
        if size and n.method == "meta_group_rank":
            return BinOp("/", rank, width)
        if size and n.method == "meta_group_size":
            return BinOp("/", BinOp("+", threads, Const(size - 1, DType.int32)), width)
        if size and n.method in _SHUFFLE_METHODS and len(n.args) == 2:
            return Call(_SHUFFLE_METHODS[n.method], (full,) + n.args + (width,))
        return None

    def visit(n: Node) -> Node | None:
        if isinstance(n, Decl) and n.name in groups:
            return Block(())
        if isinstance(n, ExprStmt) and isinstance(n.expr, MethodCall) and n.expr.method == "sync" \
                and isinstance(n.expr.obj, Var) and n.expr.obj.name in groups:
            return Barrier(BarrierKind.syncwarp if groups[n.expr.obj.name] else BarrierKind.syncthreads)
        if isinstance(n, MethodCall) and isinstance(n.obj, Var) and n.obj.name in groups:
            args = tuple(transform(a, visit, top_down=True) for a in n.args)
            lowered = method(dataclasses.replace(n, args=args), groups[n.obj.name])
            if lowered is None:
                raise PassRefused("XP516", f"cooperative groups method {n.method}() in {where} is not supported",
                                  hint="use thread_rank, size, shfl*, sync, or plain shuffles")
            return lowered
        if isinstance(n, Var) and n.name in groups:
            raise PassRefused("XP516", f"the cooperative group {n.name} in {where} is passed on or used as a value",
                              hint="call its methods directly in the kernel")
        return None

    return transform(body, visit, top_down=True)


def _inline_helpers(body: Block, functions: dict[str, Function], needs_inline, namer: Namer, where: str) -> Block:
    """Inline every call of a helper `needs_inline` selects, repeatedly (helpers calling helpers)."""

    def result_type(c: Call) -> Type:
        return instantiate(functions[c.name], c.deduced_template_args or c.template_args).return_type

    def expand_call(c: Call, result: str | None) -> tuple:
        return inline_body(functions[c.name], c, result, namer)

    def wanted(c: Call) -> bool:
        return needs_inline(c.name)

    for _ in range(32):
        if not any(isinstance(n, Call) and wanted(n) for n in walk(body)):
            return body
        body = fold(hoist_calls(body, wanted, expand_call, namer, result_type, where))
    raise PassRefused("XP513", f"helpers called from {where} recurse", hint="recursion cannot be inlined")


def _taken_names(module: Module) -> set[str]:
    """Names a renamed kernel local must avoid: everything in host code, globals, functions, undeclared names."""
    kernel_quals = {FuncQual.global_, FuncQual.device, FuncQual.mlu_func, FuncQual.mlu_device}
    taken = {f.name for f in module.functions} | {g.name for g in module.globals}
    declared: set[str] = set()
    for fn in module.functions:
        names = {n.name for n in walk(fn) if isinstance(n, (Var, Decl, Param))}
        if kernel_quals & fn.qualifiers and FuncQual.host not in fn.qualifiers:
            declared |= {n.name for n in walk(fn) if isinstance(n, (Decl, Param))}
        else:
            taken |= names
    taken |= {n.name for n in walk(module) if isinstance(n, Var)} - declared
    return taken


_STATUS_TYPES = {NamedType(name) for name in ("cudaError_t", "hipError_t", "cudaError", "hipError")}
# Streams and events only order work, and the loop form runs it all in program order (no timing is kept).
_QUEUE_TYPES = {"cudaStream_t", "hipStream_t", "cudaEvent_t", "hipEvent_t"}
_QUEUE_CALLS = {"cudaStreamCreate", "cudaStreamCreateWithFlags", "cudaStreamCreateWithPriority", "cudaStreamDestroy",
                "cudaStreamWaitEvent", "cudaStreamQuery", "cudaEventCreate", "cudaEventCreateWithFlags",
                "cudaEventRecord", "cudaEventSynchronize", "cudaEventQuery", "cudaEventDestroy"}
_STATUS_CALLS = {"cudaGetLastError", "cudaPeekAtLastError", "cudaDeviceSynchronize", "hipGetLastError",
                 "hipPeekAtLastError", "hipDeviceSynchronize"}


def _drop_status_checks(block: Block) -> Block:
    """Host code whose error checks became dead once the runtime calls they checked were replaced (the
    CUDA_CHECK macro style: `do { d = malloc(n); int err = 0; if (err != 0) {...} } while (0)`) without them:
    constant status variables are folded into their uses, dead branches and `do ... while (0)` wrappers go,
    and blocks that declare nothing their neighbours mention are flattened, so the device copies sit at the
    entry's top level where bind can see what they mirror."""
    stmts = [_drop_status_checks_in(s) for s in block.body]
    out: list[Stmt] = []
    for i, s in enumerate(stmts):
        rest = Block(tuple(stmts[i + 1:]))
        status = isinstance(s, Decl) and isinstance(s.init, Const) and s.init.dtype == DType.int32 and (
            s.type in _STATUS_TYPES or isinstance(s.type, ScalarType) and s.type.dtype == DType.int32)
        if status and s.name not in _assigned_names(rest) \
                and s.name not in declared_names(rest):
            stmts[i + 1:] = fold(substitute(rest, {s.name: s.init})).body
            if s.name not in names_in(Block(tuple(stmts[i + 1:]))):
                continue
        out.append(s)
    flat: list[Stmt] = []
    for i, s in enumerate(out):
        if isinstance(s, Block):
            neighbours = Block(tuple(out[:i] + out[i + 1:]))
            inner = {d.name for d in s.body if isinstance(d, Decl)}
            if not inner & (names_in(neighbours) | declared_names(neighbours)):
                flat += s.body
                continue
        flat.append(s)
    return Block(tuple(flat))


def _drop_status_checks_in(s: Stmt) -> Stmt:
    if isinstance(s, Block):
        return _drop_status_checks(s)
    if isinstance(s, DoWhile) and isinstance(s.cond, Const) and not s.cond.value \
            and not any(isinstance(n, (Break, Continue)) for n in walk(s.body)):
        return _drop_status_checks(s.body)
    if isinstance(s, If):
        other = _drop_status_checks(s.otherwise) if s.otherwise is not None else None
        return dataclasses.replace(s, then=_drop_status_checks(s.then), otherwise=other)
    if isinstance(s, (For, While, DoWhile, Switch)):
        return dataclasses.replace(s, body=_drop_status_checks(s.body))
    return s


def _min_max(body: Node) -> Node:
    """CUDA's overloaded min/max (device and host) as conditional expressions."""

    def visit(n: Node) -> Node | None:
        if isinstance(n, Call) and n.name in ("min", "max", "::min", "::max") and len(n.args) == 2:
            a, b = n.args
            return Select(BinOp("<" if n.name.endswith("min") else ">", a, b), a, b)
        return None

    return transform(body, visit)


def _vector_structs(module: Module) -> tuple[Verbatim, ...]:
    """Definitions of the CUDA short vector types (float4...) the module still uses, with their make_ functions."""
    from kernel_ir.dialects.base import CPrinter
    used = sorted({(n.dtype, n.lanes) for n in walk(module) if isinstance(n, VectorType)}, key=str)
    out = []
    for dtype, lanes in used:
        scalar = CPrinter.dtype_names[dtype]
        name = f"{CPrinter.vector_prefixes[dtype]}{lanes}"
        fields = "xyzw"[:lanes]
        params = ", ".join(f"{scalar} {f}" for f in fields)
        align = min(16, lanes * dtype.bits // 8)
        out.append(Verbatim(f"struct alignas({align}) {name} {{\n    {scalar} {', '.join(fields)};\n}};\n"
                            f"static inline {name} make_{name}({params}) {{ return {name}{{{', '.join(fields)}}}; }}"))
    return tuple(out)


def _queue_type(t: Type) -> bool:
    """A stream or event handle, or an array of them."""
    while isinstance(t, ArrayType):
        t = t.element
    return isinstance(t, NamedType) and t.name in _QUEUE_TYPES


def _is_runtime_call(name: str) -> bool:
    return name.startswith(("cuda", "hip")) and not name.startswith(("hipLaunch",))


def _refuse_tensor_cores(kernel: Function, functions: dict[str, Function], where: str) -> None:
    """wmma fragments and MFMA builtins are matrix instructions: passes.detensorize lowers them first."""
    seen: set[str] = set()
    pending = [kernel]
    while pending:
        fn = pending.pop()
        for n in walk(fn):
            if isinstance(n, NamedType) and "wmma" in n.name or isinstance(n, Call) and (
                    "wmma::" in n.name or n.name.startswith("__builtin_amdgcn_mfma")):
                raise PassRefused("XP518", f"{where} uses tensor-core matrix operations ({getattr(n, 'name', '')})",
                                  hint="run passes.detensorize before recover_loops")
            if isinstance(n, Call) and n.name in functions and n.name not in seen:
                seen.add(n.name)
                pending.append(functions[n.name])


def _private_params(params: tuple[Param, ...], body: Block) -> Block:
    """Each thread (task) owns a copy of its parameters: one it modifies becomes a local initialized from it."""
    written = _assigned_names(body)
    copies = tuple(Decl(p.name, _drop_restrict(p.type), Var(p.name)) for p in params if p.name in written)
    return Block(copies + body.body) if copies else body


def _drop_static_asserts(body: Block) -> Block:
    def visit(n: Node) -> Node | None:
        if isinstance(n, Block) and any(isinstance(s, RawStmt) and s.text.startswith("static_assert") for s in n.body):
            return Block(tuple(s for s in n.body if not (isinstance(s, RawStmt) and s.text.startswith("static_assert"))))
        return None

    return transform(body, visit)


def _drop_restrict(t: Type) -> Type:
    return dataclasses.replace(t, restrict=False) if isinstance(t, PointerType) else t


def _atomic_helpers_text() -> str:
    lines = ["// Atomic read-modify-write on memory shared by parallel iterations; returns the old value."]
    for name, update in _ATOMIC_UPDATES.items():
        lines.append(f"template <typename T, typename U> static inline T {name}(T* p, U value) {{\n"
                     f"    T old;\n    T v = (T)value;\n#pragma omp critical(xp_atomic)\n"
                     f"    {{\n        old = *p;\n        *p = {update};\n    }}\n    return old;\n}}")
    return "\n\n".join(lines)


def _to_plain_cpp(module: Module) -> Module:
    """Spellings and types the cpp printer cannot use from another dialect (half, cudaError_t)."""

    def visit(n: Node) -> Node | None:
        if isinstance(n, ScalarType) and n.spelling is not None and n.spelling not in _C_SPELLINGS:
            return dataclasses.replace(n, spelling=None)
        if isinstance(n, NamedType) and n.name in ("cudaError_t", "hipError_t", "cudaError"):
            return ScalarType(DType.int32, const=n.const)
        if isinstance(n, Decl) and n.scope not in (MemScope.local, MemScope.host, MemScope.global_):
            return dataclasses.replace(n, scope=MemScope.local)
        return None

    return transform(module, visit)


# ================================================================ BANG =========================================


class _BangRecovery:
    def __init__(self, module: Module, options: RecoverOptions):
        self.module = module
        self.options = options
        self.namer = Namer(_taken_names(module))
        self.functions = {f.name: f for f in module.functions if f.body is not None}
        self._needs_inline: dict[str, bool] = {}
        self.globals = {g.name: g for g in module.globals}
        # 1-D `__constant__` arrays: host code fills them (cudaMemcpyToSymbol), so they become scratch buffers
        self.constants = {g.name: g for g in module.globals if g.scope == MemScope.constant and g.init is None
                          and isinstance(g.type, ArrayType) and isinstance(g.type.size, Const)
                          and not isinstance(g.type.element, ArrayType)}

    def needs_inline(self, name: str) -> bool:
        if name not in self.functions:
            return False
        if name in self._needs_inline:
            return self._needs_inline[name]
        self._needs_inline[name] = False
        fn = self.functions[name]
        found = any(isinstance(n, (BuiltinVar, Barrier)) or isinstance(n, Call) and self.needs_inline(n.name)
                    or isinstance(n, Var) and n.name in self.globals
                    and self.globals[n.name].scope in (MemScope.nram, MemScope.wram, MemScope.mlu_shared)
                    for n in walk(fn.body))
        self._needs_inline[name] = found
        return found

    def run(self) -> Module:
        entries = [f for f in self.module.functions if FuncQual.mlu_global in f.qualifiers and f.body is not None]
        if not entries:
            raise PassRefused("XP510", "no __mlu_global__ entry in this BANG module")
        items = self._items(self.module.items)
        includes = tuple(i for i in self.module.includes if not any(h in i for h in _DIALECT_HEADERS))
        includes += tuple(i for i in ("<cstdlib>", "<cstring>", "<cmath>", "<cfloat>") if i not in includes)
        return _to_plain_cpp(Module("cpp", includes, self.module.macros, items))

    def _items(self, items: tuple) -> tuple:
        out = []
        for item in items:
            if isinstance(item, Namespace):
                out.append(dataclasses.replace(item, items=self._items(item.items)))
            elif isinstance(item, Function):
                if item.body is None:
                    continue
                if FuncQual.mlu_global in item.qualifiers:
                    out.append(self.entry(item))
                elif not self.needs_inline(item.name):
                    out.append(dataclasses.replace(item, qualifiers=frozenset({FuncQual.static, FuncQual.inline})))
            elif isinstance(item, GlobalVar):
                if item.scope in (MemScope.nram, MemScope.wram, MemScope.ldram, MemScope.mlu_shared):
                    continue  # moved into the entry: per task (nram/wram) or per cluster (mlu_shared)
                out.append(dataclasses.replace(item, scope=MemScope.host))
            else:
                out.append(item)
        return tuple(out)

    def entry(self, fn: Function) -> Function:
        where = f"kernel {fn.name}"
        td, cpc = self.options.task_dim, self.options.cores_per_cluster
        if td % cpc:
            raise PassRefused("XP510", f"task_dim {td} is not a multiple of cores_per_cluster {cpc}")
        on_chip = [g for g in self.module.globals if g.scope in (MemScope.nram, MemScope.wram, MemScope.ldram,
                                                                   MemScope.mlu_shared)]
        body = Block(tuple(Decl(g.name, g.type, g.init, g.scope, g.qualifiers - {VarQual.extern}, g.align)
                           for g in on_chip) + fn.body.body)
        body = _inline_helpers(fold(body), self.functions, self.needs_inline, self.namer, where)
        _, body = uniquify((), _private_params(fn.params, body), self.namer)
        task = self.namer.fresh("xp_task")
        t = Var(task)
        c = Const
        table = {"taskId": t, "taskIdX": t, "taskIdY": c(0, DType.int32), "taskIdZ": c(0, DType.int32),
                 "taskDim": c(td, DType.int32), "taskDimX": c(td, DType.int32), "taskDimY": c(1, DType.int32),
                 "taskDimZ": c(1, DType.int32), "coreId": BinOp("%", t, c(cpc, DType.int32)),
                 "clusterId": BinOp("/", t, c(cpc, DType.int32)), "coreDim": c(cpc, DType.int32),
                 "clusterDim": c(td // cpc, DType.int32)}

        def builtin(n: Node) -> Node | None:
            if isinstance(n, BuiltinVar):
                if n.name not in table:
                    raise PassRefused("XP511", f"builtin {n.name} is not understood in {where}")
                return table[n.name]
            if isinstance(n, Barrier) and n.kind not in _SPLITTING_BARRIERS:
                return ExprStmt(Const(0, DType.int32)) if n.kind == BarrierKind.sync_compute else None
            return None

        body = _drop_queue_syncs(transform(body, builtin))
        exit_flag = None
        if any(isinstance(n, Return) for n in walk(body)):
            exit_flag = self.namer.fresh("xp_exited")
            body = Block((Decl(exit_flag, _BOOL, Const(False, DType.bool)),) + body.body)
        tasks = _ThreadSpace([(task, c(td, DType.int32), "taskId")])
        declared = {d.name for d in walk(body) if isinstance(d, Decl)}
        uniform = {p.name for p in fn.params} | {n for n in names_in(body) if n not in declared and not (
            n in self.globals and not getattr(self.globals[n].type, "const", False))}
        splitter = _Splitter(tasks, uniform, {task}, _assigned_names(body) | {exit_flag}, exit_flag, self.namer, where)
        items = splitter.split_block(body.body, ())
        assembled = splitter.assemble(items)
        cluster_shared = {d.name for d in splitter.shared}
        clusters = c(td // cpc, DType.int32)
        storage = [Decl(d.name, promoted_type(d.type, clusters), align=d.align) for d in splitter.shared]
        cluster_index = BinOp("/", t, c(cpc, DType.int32))
        assembled = tuple(_rewrite_in_task_loops(s, cluster_shared, cluster_index, task) for s in assembled)
        quals = frozenset({FuncQual.extern_c})
        return dataclasses.replace(fn, qualifiers=quals, body=Block(tuple(storage) + assembled), attributes=())


def _drop_queue_syncs(body: Block) -> Block:
    """`__sync_io()`/`__sync_compute()`... order a core's own IO and compute queues: nothing to do in loop form."""

    def is_queue_sync(s: Stmt) -> bool:
        return isinstance(s, ExprStmt) and isinstance(s.expr, Call) and s.expr.name.startswith("__sync_") \
            and not s.expr.args

    def visit(n: Node) -> Node | None:
        if isinstance(n, Block) and any(is_queue_sync(s) for s in n.body):
            return Block(tuple(s for s in n.body if not is_queue_sync(s)))
        return None

    return transform(body, visit)


def _rewrite_in_task_loops(s: Stmt, names: set[str], index: Expr, task: str) -> Stmt:
    """Per-cluster arrays are indexed by the cluster of the task, inside the task loops only."""
    if not names:
        return s
    if isinstance(s, For) and s.axis == "taskId":
        return rewrite_uses(s, names, index)
    if isinstance(s, (For, While, DoWhile)):
        return dataclasses.replace(s, body=Block(tuple(_rewrite_in_task_loops(x, names, index, task)
                                                       for x in s.body.body)))
    if isinstance(s, If):
        other = Block(tuple(_rewrite_in_task_loops(x, names, index, task) for x in s.otherwise.body)) \
            if s.otherwise else None
        return dataclasses.replace(s, then=Block(tuple(_rewrite_in_task_loops(x, names, index, task)
                                                       for x in s.then.body)), otherwise=other)
    return s


# ================================================================ cpp (OpenMP) =================================


def _recover_omp(fn: Function) -> Function:
    """`#pragma omp parallel for [collapse(n)]` loops -> ForKind.parallel (axis "omp"); reductions stay serial.
    `#pragma omp parallel` regions of `#pragma omp for` loops become those loops first (_region_loops)."""
    if fn.body is None:
        return fn
    body = transform(fn.body, lambda n: _region_loops(n) if _is_region(n) else None, top_down=True)
    taken = names_in(fn.body) | declared_names(fn.body) | {p.name for p in fn.params}

    def loop(s: For, depth: int) -> Stmt:
        pragma = next((p for p in s.pragmas if p.startswith("omp") and " for" in f" {p}"), None)
        if pragma is None:
            return s
        words = pragma.replace("(", " ( ").split()
        if "reduction" in words or "ordered" in words or "lastprivate" in words:
            return dataclasses.replace(s, kind=ForKind.serial, pragmas=())
        collapse = 1
        if "collapse" in words:
            collapse = int(pragma.split("collapse(", 1)[1].split(")", 1)[0])
        return _vectors_per_iteration(_parallel_nest(s, collapse), collapse, taken)

    def visit(n: Node) -> Node | None:
        if isinstance(n, For) and n.pragmas:
            return loop(n, 0)
        if isinstance(n, Pragma) and n.text.startswith("omp"):
            if n.text.split()[:2] in (["omp", "simd"],) and n.body is not None:
                return n.body
            if n.text.split() in (["omp", "atomic"], ["omp", "atomic", "update"]) and n.body is not None:
                atomic = _omp_atomic_update(n.body)
                if atomic is not None:
                    return atomic
            raise PassRefused("XP517", f"OpenMP construct '#pragma {n.text}' is not translated",
                              hint="only '#pragma omp parallel for' loops are recovered")
        return None

    return dataclasses.replace(fn, body=transform(body, visit))


_OMP_ATOMIC_OPS = {"+": "xp_atomic_add", "-": "xp_atomic_sub", "&": "xp_atomic_and", "|": "xp_atomic_or",
                   "^": "xp_atomic_xor"}


def _omp_atomic_update(s: Stmt) -> Stmt | None:
    """`#pragma omp atomic [update]` over `x op= v`, `x = x op v`, `x++`/`++x`/`x--`/`--x` as the loop form's
    atomic helper call (what a CUDA atomic becomes), which each back half spells as its own atomic."""
    target, op, value = None, None, None
    if isinstance(s, Assign) and s.op in _OMP_ATOMIC_OPS:
        target, op, value = s.target, s.op, s.value
    elif isinstance(s, Assign) and s.op == "" and isinstance(s.value, BinOp) and s.value.lhs == s.target \
            and s.value.op in _OMP_ATOMIC_OPS:
        target, op, value = s.target, s.value.op, s.value.rhs
    elif isinstance(s, ExprStmt) and isinstance(s.expr, UnaryOp) and s.expr.op in ("++", "--"):
        target, op, value = s.expr.operand, "+" if s.expr.op == "++" else "-", Const(1, DType.int32)
    if target is None:
        return None
    return ExprStmt(Call(_OMP_ATOMIC_OPS[op], (UnaryOp("&", target), value)))


# `#pragma omp parallel` clauses that leave what a team-size-independent region computes unchanged.
_NEUTRAL_REGION_CLAUSES = {"num_threads", "default", "shared", "proc_bind", "if"}
_OMP_CLAUSE = re.compile(r"(\w+)\s*(?:\(([^()]*)\))?")
_PURE_METHODS = {"data", "size"}


def _omp_clauses(text: str, directive: str) -> list[tuple[str, str]]:
    """(name, argument text) of each clause after `directive` in a pragma's text."""
    return [(m.group(1), m.group(2) or "") for m in _OMP_CLAUSE.finditer(text[len(directive):])]


def _is_region(n: Node) -> bool:
    return isinstance(n, Pragma) and n.body is not None and n.text.split()[:2] == ["omp", "parallel"] \
        and all(name in _NEUTRAL_REGION_CLAUSES | {"private", "firstprivate", "reduction", "copyin"}
                for name, _ in _omp_clauses(n.text, "omp parallel"))


def _is_worksharing(s: Stmt) -> bool:
    return isinstance(s, For) and any(p.split()[:2] == ["omp", "for"] for p in s.pragmas)


def _region_loops(region: Pragma) -> Block:
    """A `#pragma omp parallel { decls; #pragma omp for loops; barriers }` region -> its loops, each still marked
    `omp for` (recovered next), with the region's declarations moved where the loop form needs them.

    Declarations whose value never changes (unassigned scalars and pointers) stay where they are. Scratch (arrays,
    vectors, variables written) moves into the body of the one loop using it: one private copy per iteration where
    OpenMP gives one per thread. That is the run OpenMP itself may choose when the team has as many threads as the
    loop has iterations (each thread then runs at most one iteration on freshly declared scratch), so a region whose
    results do not depend on the team size computes the same. It holds only when the scratch is not read before
    the loop (the region holds nothing but declarations before it, re-evaluable: XP517 otherwise), is not carried
    from one loop to another, and no schedule hands a thread several consecutive iterations (a chunk above 1).
    """
    for name, _ in _omp_clauses(region.text, "omp parallel"):
        if name not in _NEUTRAL_REGION_CLAUSES:
            raise PassRefused("XP517", f"clause {name}() of '#pragma {region.text}' is not translated",
                              hint="declare thread-private scratch inside the parallel region instead")
    stmts = region.body.body if isinstance(region.body, Block) else (region.body,)
    if any(isinstance(n, Call) and n.name.startswith("omp_") for n in walk(region.body)):
        return _team_loop(region)
    assigned = _assigned_names(region.body)
    scratch: dict[str, Decl] = {}  # declared so far: a loop sees only those (a later one may shadow its names)
    owned: set[str] = set()
    kept: list[Stmt] = []
    for s in stmts:
        if isinstance(s, Decl):
            _check_reevaluable(s, assigned, set(scratch))
            is_value = isinstance(s.type, (ScalarType, PointerType)) and s.init is not None \
                and s.name not in assigned and not names_in(s.init) & set(scratch)
            if is_value:
                kept.append(s)
            else:
                scratch[s.name] = s
        elif _is_worksharing(s):
            kept.append(_with_scratch(s, scratch, owned))
        elif isinstance(s, Pragma) and s.body is None and s.text.split()[:2] == ["omp", "barrier"]:
            continue  # the loop form runs the loops one after another: every barrier between them holds
        else:
            what = f"'#pragma {s.text}'" if isinstance(s, Pragma) else f"a statement ({type(s).__name__})"
            raise PassRefused("XP517", f"{what} in a '#pragma omp parallel' region is not translated",
                              hint="a parallel region may hold declarations, '#pragma omp for' loops and "
                                   "barriers; every other statement runs once per thread")
    return Block(tuple(kept))


_TEAM_CALLS = ("omp_get_thread_num", "omp_get_num_threads")
DEFAULT_TEAM = 64  # threads of a region that splits its work by hand, where no num_threads(k) gives a constant


def _team_loop(region: Pragma) -> Block:
    """A region that splits its work by hand (`t = omp_get_thread_num()` of `omp_get_num_threads()` threads) -> a
    parallel loop over the threads of a team, each iteration running the region's body as one thread. A region
    whose result depended on the team's size would be wrong under OpenMP already, so one size is chosen:
    num_threads(k) where k is a constant, else DEFAULT_TEAM (verification runs the source with its own team).
    Threads that wait for each other (barrier, single, omp for) are refused: the iterations run independently."""
    for n in walk(region.body):
        if isinstance(n, Call) and n.name.startswith("omp_") and n.name not in _TEAM_CALLS:
            raise PassRefused("XP517", f"{n.name}() in a '#pragma omp parallel' region is not translated",
                              hint="a region may split its work by omp_get_thread_num() and omp_get_num_threads()")
        if isinstance(n, Pragma) and n.text.split() not in (["omp", "atomic"], ["omp", "atomic", "update"]) \
                or isinstance(n, For) and any(p.startswith("omp") for p in n.pragmas):
            what = n.text if isinstance(n, Pragma) else next(p for p in n.pragmas if p.startswith("omp"))
            raise PassRefused("XP517", f"'#pragma {what}' in a region that splits its work by "
                                       "omp_get_thread_num() is not translated",
                              hint="split the work by hand or by '#pragma omp for', not both")
    count = dict(_omp_clauses(region.text, "omp parallel")).get("num_threads", "").strip()
    team = Const(int(count) if count.isdigit() and int(count) > 0 else DEFAULT_TEAM, DType.int32)
    thread = Namer(names_in(region.body) | declared_names(region.body)).fresh("xp_thread")
    body = transform(region.body if isinstance(region.body, Block) else Block((region.body,)), lambda n: (
        Var(thread) if n.name == "omp_get_thread_num" else team) if isinstance(n, Call) and n.name in _TEAM_CALLS
        and not n.args else None)
    return Block((For((Decl(thread, ScalarType(DType.int32), Const(0, DType.int32)),), BinOp("<", Var(thread), team),
                      Assign(Var(thread), Const(1, DType.int32), "+"), body, kind=ForKind.parallel, axis="omp"),))


def _check_reevaluable(d: Decl, assigned: set[str], scratch: set[str]) -> None:
    """A declaration moved into a loop runs once per iteration: its initializer must give the same value there,
    so it may call nothing but pure math, read no memory, and read no variable the region writes."""
    if d.init is None:
        return
    for n in walk(d.init):
        impure = (isinstance(n, Call) and n.name.removeprefix("std::") not in _PURE_MATH) \
            or (isinstance(n, MethodCall) and n.method not in _PURE_METHODS) \
            or (isinstance(n, UnaryOp) and n.op in ("++", "--", "*")) or isinstance(n, (Index, RawExpr)) \
            or (isinstance(n, Member) and n.arrow) \
            or (isinstance(n, BinOp) and n.op.endswith("=") and n.op not in ("==", "!=", "<=", ">="))
        if impure:
            raise PassRefused("XP517", f"the initializer of {d.name} in a '#pragma omp parallel' region has "
                                       "effects or reads memory", hint="only plain declarations of per-thread "
                                                                       "scratch are moved into the loops")
    written = (names_in(d.init) - scratch) & assigned
    if written:
        raise PassRefused("XP517", f"the initializer of {d.name} reads {', '.join(sorted(written))}, which the "
                                   "'#pragma omp parallel' region writes")


def _with_scratch(loop: For, scratch: dict[str, Decl], owned: set[str]) -> For:
    """`loop` with the scratch declarations it uses (and those their initializers use) first in its body,
    inside the loops its collapse() clause merges; `owned` collects the scratch given to earlier loops."""
    needed = names_in(loop)
    wanted: list[Decl] = []
    for d in reversed(scratch.values()):
        if d.name in needed:
            wanted.insert(0, d)
            needed |= names_in(d)
    if not wanted:
        return loop
    pragma = next(p for p in loop.pragmas if p.split()[:2] == ["omp", "for"])
    clauses = dict(_omp_clauses(pragma, "omp for"))
    chunk = clauses.get("schedule", "").partition(",")[2].strip()
    if chunk not in ("", "1"):
        raise PassRefused("XP517", f"'#pragma {pragma}' gives a thread {chunk} consecutive iterations that share "
                                   "its private scratch", hint="drop the chunk size of the schedule")
    collapse = int(clauses.get("collapse") or 1)
    headers: list[For] = [loop]
    while len(headers) < collapse and len(headers[-1].body.body) == 1 and isinstance(headers[-1].body.body[0], For):
        headers.append(headers[-1].body.body[0])
    for d in wanted:
        if d.name in owned:
            raise PassRefused("XP517", f"{d.name} carries values from one '#pragma omp for' loop to another",
                              hint="declare separate scratch for each loop")
        owned.add(d.name)
        in_header = [h for h in headers if d.name in names_in(Block(h.init)) | names_in(h.cond or Block())
                     | names_in(h.step or Block()) | declared_names(Block(h.init))]
        if in_header:
            raise PassRefused("XP517", f"{d.name} is used by the header of a '#pragma omp for' loop")
    innermost = headers[-1]
    nest: For = dataclasses.replace(innermost, body=Block(tuple(wanted) + innermost.body.body))
    for outer in reversed(headers[:-1]):
        nest = dataclasses.replace(outer, body=Block((nest,)))
    return nest


def _parallel_nest(s: For, collapse: int) -> For:
    inner = s.body
    if collapse > 1:
        if len(s.body.body) != 1 or not isinstance(s.body.body[0], For):
            raise PassRefused("XP517", "collapse() over loops that are not perfectly nested")
        inner = Block((_parallel_nest(dataclasses.replace(s.body.body[0], pragmas=()), collapse - 1),))
    return _normalize(dataclasses.replace(s, body=inner, kind=ForKind.parallel, axis="omp", pragmas=()))


def _normalize(s: For) -> For:
    """`for (int i = a; i < b; i += c)` -> `for (int v = 0; v < trip; v += 1) { int i = a + v * c; ... }`."""
    if len(s.init) != 1 or not isinstance(s.init[0], Decl) or s.init[0].init is None:
        raise PassRefused("XP517", "an OpenMP loop must declare its variable in the for header")
    var = s.init[0]
    cond = s.cond
    if not (isinstance(cond, BinOp) and cond.op in ("<", "<=") and isinstance(cond.lhs, Var)
            and cond.lhs.name == var.name):
        raise PassRefused("XP517", f"OpenMP loop over {var.name} has an unsupported condition")
    step: Expr | None = None
    if isinstance(s.step, ExprStmt) and isinstance(s.step.expr, UnaryOp) and s.step.expr.op == "++":
        step = Const(1, DType.int32)
    elif isinstance(s.step, Assign) and s.step.op == "+" and isinstance(s.step.target, Var):
        step = s.step.value
    if step is None:
        raise PassRefused("XP517", f"OpenMP loop over {var.name} has an unsupported step")
    start, limit = var.init, cond.rhs
    if cond.op == "<=":
        limit = BinOp("+", limit, Const(1, DType.int32))
    if isinstance(start, Const) and start.value == 0 and isinstance(step, Const) and step.value == 1 \
            and cond.op == "<":
        return dataclasses.replace(s, step=Assign(Var(var.name), Const(1, DType.int32), "+"))
    v = var.name + "_it"
    span = BinOp("-", limit, start)
    trip: Expr = span if isinstance(step, Const) and step.value == 1 else BinOp(
        "/", BinOp("+", span, BinOp("-", step, Const(1, DType.int32))), step)
    trip = Select(BinOp("<", start, limit), trip, Const(0, DType.int32))
    first = Decl(var.name, var.type, BinOp("+", start, BinOp("*", Var(v), step)))
    return dataclasses.replace(s, init=(Decl(v, var.type, Const(0, DType.int32)),), cond=BinOp("<", Var(v), trip),
                               step=Assign(Var(v), Const(1, DType.int32), "+"), body=Block((first,) + s.body.body))


_STD_VECTOR = re.compile(r"^std::vector<\s*(.+?)\s*>$")
_SIZE_T = ScalarType(DType.uint64, spelling="size_t")


def _vectors_per_iteration(nest: For, levels: int, taken: set[str]) -> Stmt:
    """`std::vector<T> v(n[, x])` declared in the body of a parallel loop nest (`levels` loops, each counting from 0
    by 1 after _normalize) -> one hoisted `std::vector<T> v_slices(iterations * n[, x])` and, per iteration,
    `T* v = v_slices.data() + iteration * n`. Each iteration still gets n fresh elements, but the storage is an
    array the back halves already place (a device cannot construct a std::vector inside a kernel). Costs
    iterations * n elements where OpenMP used threads * n; kept as is when n varies inside the nest or v is used
    other than as `v[i]`, `v.data()`, `v.size()`."""
    headers = [nest]
    while len(headers) < levels:
        headers.append(next(s for s in reversed(headers[-1].body.body) if isinstance(s, For)))
    counters = [h.init[0].name for h in headers]
    trips = [h.cond.rhs for h in headers]
    varying = set(counters) | declared_names(nest) | _assigned_names(nest)
    if any(names_in(t) & varying for t in trips):
        return nest
    zero = Const(0, DType.int32)
    counts = [Cast(_SIZE_T, t if isinstance(t, Select) else Select(BinOp(">", t, zero), t, zero)) for t in trips]
    iteration: Expr = Cast(_SIZE_T, Var(counters[0]))
    iterations: Expr = counts[0]
    for counter, count in zip(counters[1:], counts[1:]):
        iteration = BinOp("+", BinOp("*", iteration, count), Var(counter))
        iterations = BinOp("*", iterations, count)
    inner = headers[-1]
    stmts = list(inner.body.body)
    hoisted: list[Stmt] = []
    for i, s in enumerate(stmts):
        parts = _vector_parts(s)
        if parts is None or any(names_in(a) & varying for a in parts[1]) or not _slice_uses_only(s.name, stmts[i + 1:]):
            continue
        element, (count, *fill) = parts
        slices = next(f"{s.name}_slices{k or ''}" for k in range(len(taken) + 1)
                      if f"{s.name}_slices{k or ''}" not in taken)
        taken.add(slices)
        hoisted.append(Decl(slices, s.type, Construct(s.type, (BinOp("*", iterations, Cast(_SIZE_T, count)),
                                                               *fill))))
        pointer = PointerType(element)
        stmts[i] = Decl(s.name, pointer, BinOp("+", MethodCall(Var(slices), "data"),
                                                BinOp("*", iteration, Cast(_SIZE_T, count))))
        size = Cast(_SIZE_T, count)
        stmts[i + 1:] = [transform(x, lambda n, v=s.name, sz=size: (Var(v) if n.method == "data" else sz)
                                   if isinstance(n, MethodCall) and n.obj == Var(v) else None)
                         for x in stmts[i + 1:]]
    if not hoisted:
        return nest
    rebuilt: Stmt = dataclasses.replace(inner, body=Block(tuple(stmts)))
    for outer in reversed(headers[:-1]):
        rebuilt = dataclasses.replace(outer, body=Block(tuple(rebuilt if isinstance(x, For) else x
                                                              for x in outer.body.body)))
    return Block(tuple(hoisted) + (rebuilt,))


def _vector_parts(s: Stmt) -> tuple[ScalarType, tuple[Expr, ...]] | None:
    """(element type, constructor arguments) of a `std::vector<T> v(n)` / `v(n, x)` declaration, else None."""
    match = _STD_VECTOR.match(s.type.name) if isinstance(s, Decl) and isinstance(s.type, NamedType) else None
    element = type_from_text(match.group(1)) if match else None
    if not isinstance(element, ScalarType) or not element.dtype.bits:
        return None
    if isinstance(s.init, Cast) and s.init.type == s.type:
        args: tuple[Expr, ...] = (s.init.expr,)
    elif isinstance(s.init, Construct) and not s.init.braced and s.init.type == s.type:
        args = s.init.args
    else:
        return None
    return (dataclasses.replace(element, const=False), args) if len(args) in (1, 2) else None


def _slice_uses_only(name: str, rest: list[Stmt]) -> bool:
    """`name` is used in `rest` only as `name[i]`, `name.data()` and `name.size()`, and not declared again."""
    later = Block(tuple(rest))
    uses = sum(1 for n in walk(later) if n == Var(name))
    allowed = sum(1 for n in walk(later) if isinstance(n, Index) and n.base == Var(name)
                  or isinstance(n, MethodCall) and n.obj == Var(name) and n.method in _PURE_METHODS and not n.args)
    return uses == allowed and name not in declared_names(later)
