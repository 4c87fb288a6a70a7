"""`bind`: the back half that turns the loop form (docs/translation.md) into a target dialect.

Preconditions (checked; a `PassRefused` says which one failed): the module is the loop form (`dialect == "cpp"`,
no barriers, launches or hardware index variables); parallel loops have the canonical shape
`for (T v = start; v < end; v += step)` with a positive constant step; returns (without a value) only in code
run once, never inside a parallel loop.

First, for every target, scratch buffers that only mirror a parameter (a SIMT source's device copies) become
that parameter (`_alias_device_copies`). Then, for the device targets, calls (in code run once) of helpers that
hold parallel loops are inlined, so those loops are placed like the entry's own (`_parallel_helpers_inlined`),
and host `std::vector<T> v(n[, x])` buffers become malloc'ed scratch set by a parallel loop (`_vectors_as_scratch`).
A call of a helper that touches memory through a pointer argument counts as touching that memory.

What it produces, per target (later passes, `cache` and `tensorize`, make it fast; this one makes it right):
- cpp: each outermost parallel loop gets `#pragma omp parallel for` (`collapse(2)` over two perfectly nested
  rectangular parallel loops); parallel loops inside it become plain loops the compiler can vectorize.
- cuda / hip: each parallel loop nest met by the host code becomes a `__global__` kernel whose perfectly nested
  parallel loops are flattened onto `blockIdx.x * blockDim.x + threadIdx.x` (innermost loop fastest, so
  neighbouring threads touch neighbouring elements) with a bounds guard; the rest of the nest runs inside the
  thread. The entry becomes the host launcher: device copies of every pointer parameter (sized by
  `kernel_ir.extents` and `BindOptions.buffer_elements`), copies in, a call of the host code (a static function
  `<entry>_on_device` taking the device pointers, with its launches in program order), copies of every writable
  parameter back, frees. Scratch `malloc`/`free`/`memcpy`/`memset` become their device runtime calls; arrays
  filled by parallel loops become device buffers; constant arrays the loop form hoisted are recomputed in the
  kernels that read them, and `const int` values known at translation time become literals there; initialized
  tables of const elements that kernels read become `__constant__` data. Host statements that touch device
  memory outside a parallel loop run as one-thread kernels; one that assigns a host variable declared in its
  block (a serial reduction into a scalar) runs in one such kernel with that declaration and every later
  statement of the block reading what they declare. Code a kernel runs calls `xp_min`/`xp_max`/`xp_copy_n`/
  `xp_fill_n`... for `std::min`/`std::max`/`std::copy_n`/`std::fill_n`... (host functions to nvcc).
- bang: the entry becomes `__mlu_global__`; each outermost parallel loop is split cyclically over tasks
  (`v = start + taskId * step; v += taskDim * step`); other statements that write memory run on task 0; a
  `__sync_all()` separates a write from the next statement that touches memory. A `__mlu_global__` function
  cannot allocate, so scratch buffers become fixed arrays (`_scratch_as_arrays`): `__mlu_device__` GDRAM arrays
  for buffers allocated in code every task runs (of the exact size when it is known at translation time, else of
  a capacity checked at run time), `__nram__` arrays of a checked capacity for buffers allocated inside a
  parallel loop; `memset(p, 0, n * sizeof(T))` and `memcpy` between `T*` buffers become element loops (split
  over tasks on GDRAM); arrays of a constant size filled by parallel loops become `__mlu_device__` arrays too
  (`_shared_arrays_in_gdram`). Initialized tables of const elements become `__mlu_const__` data.
"""
from __future__ import annotations

import dataclasses
from collections import Counter
import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, Iterable, Mapping

import sympy as sp

from kernel_ir.dialects import get_printer
from kernel_ir.entry import entry_candidates
from kernel_ir.ir import (
    ArrayType, Assign, Barrier, BarrierKind, BinOp, Block, Break, BuiltinVar, Call, Cast, Const, Construct,
    Continue, Decl, DoWhile, DType, Expr, ExprStmt, For, ForKind, FuncQual, Function, GlobalVar, If, Index,
    KernelLaunch, LaunchConfig, Member, MemScope, MethodCall, Module, NamedType, Node, Param, PointerType, RawExpr,
    Return, ScalarType, Select, SizeOf, Stmt, StringLit, Type, UnaryOp, Var, VarQual, VectorType, Verbatim, While,
    children, transform, walk,
)
from kernel_ir.parse_clang import type_from_text
from passes.base import PassRefused
from passes.bind_blocks import BlockKernel, block_kernel
from passes.bind_probe import extent_probe, touch_helper
from passes.inline import Namer, inline_body
from passes.loops import ASSIGN_OPS, store_targets, variable_set
from passes.recover_loops import ATOMIC_HELPERS, GPU_SPELLINGS_ERASED

TARGETS = ("cpp", "cuda", "hip", "bang")
_LONG = ScalarType(DType.int64)
_SIZE_T = NamedType("size_t")
_VOID_PTR_PTR = PointerType(PointerType(ScalarType(DType.void)))
_SCRATCH_CALLS = frozenset({"malloc", "free", "memcpy", "memset"})


@dataclass(frozen=True)
class BindOptions:
    """block_size: CUDA/HIP threads per block of every kernel (the grid is computed from the loop extents).
    buffer_elements: (pointer parameter, element count as a SymPy expression of the integer parameters) known
    from elsewhere, e.g. the source's host launcher; a host launcher copies the smaller of it and what the loop
    form's indices reach (both bound the accesses; index analysis alone can overshoot masked tails).
    bang_gdram_scratch_bytes / bang_nram_scratch_bytes: the capacity of each BANG scratch array whose size is only
    known at run time, in GDRAM (allocated in code every task runs) or NRAM (allocated per parallel iteration);
    the kernel checks it and reports a larger request instead of running."""

    block_size: int = 256
    buffer_elements: tuple[tuple[str, sp.Expr], ...] = ()
    bang_gdram_scratch_bytes: int = 64 << 20
    bang_nram_scratch_bytes: int = 64 << 10


@dataclass(frozen=True)
class _Loop:
    """A canonical loop `for (T var = start; var < end; var += step)` (`<=` is turned into `< end + 1`)."""

    var: str
    type: Type
    start: Expr
    end: Expr
    step: int

    def count(self) -> Expr:
        """Number of iterations (<= 0 when the loop does not run)."""
        if self.step == 1:
            return self.end if _is_zero(self.start) else BinOp("-", self.end, self.start)
        span = self.end if _is_zero(self.start) else BinOp("-", self.end, self.start)
        return BinOp("/", BinOp("+", span, Const(self.step - 1, DType.int32)), Const(self.step, DType.int32))

    def value_at(self, iteration: Expr) -> Expr:
        """The loop variable in iteration number `iteration`."""
        scaled = iteration if self.step == 1 else BinOp("*", iteration, Const(self.step, DType.int32))
        return scaled if _is_zero(self.start) else BinOp("+", self.start, scaled)


def bind(module: Module, target: str, options: BindOptions | None = None) -> Module:
    """The loop-form `module` in `target` ("cpp", "cuda", "hip" or "bang"); see the module docstring."""
    options = options or BindOptions()
    if target not in TARGETS:
        raise PassRefused("XP520", f"bind: unknown target {target!r}", hint=f"use one of {', '.join(TARGETS)}")
    if options.block_size < 1 or options.block_size > 1024:
        raise PassRefused("XP520", f"bind: block_size {options.block_size} is outside 1..1024")
    _check_loop_form(module)
    _check_simt_only_calls(module, target)
    entries = {f.name for f in entry_candidates(module)}
    if not entries:
        raise PassRefused("XP520", "bind: the loop form has no extern \"C\" entry function")
    module = module.map_functions(lambda f: _alias_device_copies(f) if f.name in entries and f.body else f)
    if target != "cpp":  # a device target needs the host's buffers and helper loops in forms it can place
        module = module.map_functions(lambda f: _plain_allocations(_allocating_helpers_inlined(f, module))
                                      if f.name in entries and f.body else f)
        for fn in module.functions:
            if fn.name in entries and fn.body is not None:
                _check_helper_allocations(fn, module, target)
        module = module.map_functions(lambda f: _vectors_as_scratch(_parallel_helpers_inlined(f, module))
                                      if f.name in entries and f.body else f)
    if target == "cpp":
        bound = module.map_functions(_bind_cpp_function)
        return _simt_calls_spelled(dataclasses.replace(bound, includes=_cpp_includes(module)), target)
    if target == "bang":
        return _simt_calls_spelled(_native_atomics(_bind_bang(module, entries, options), target), target)
    return _native_atomics(_bind_simt(module, entries, target, options), target)


_BANG_ATOMIC_REDUCE = {"xp_atomic_add": "__bang_atomic_reduce_add", "xp_atomic_max": "__bang_atomic_reduce_max",
                       "xp_atomic_min": "__bang_atomic_reduce_min", "xp_atomic_exch": "__bang_atomic_reduce_exch",
                       "xp_atomic_and": "__bang_atomic_reduce_and", "xp_atomic_or": "__bang_atomic_reduce_or",
                       "xp_atomic_xor": "__bang_atomic_reduce_xor"}


def _native_atomics(module: Module, target: str) -> Module:
    """The loop form's `xp_atomic_*` helpers (OpenMP critical sections: host code) as the target's own atomics:
    CUDA/HIP `atomicAdd`... (same arguments, same returned old value), BANG `__bang_atomic_reduce_*` on one
    element where the old value is not used; the helpers' definitions go once nothing calls them."""
    native = {helper: name for name, helper in ATOMIC_HELPERS.items()}

    def replace(n: Node) -> Node | None:
        if target != "bang":
            return dataclasses.replace(n, name=native[n.name]) if isinstance(n, Call) and n.name in native else None
        call = n.expr if isinstance(n, ExprStmt) and isinstance(n.expr, Call) else None
        if call is not None and call.name in _BANG_ATOMIC_REDUCE and len(call.args) == 2:
            return ExprStmt(Call(_BANG_ATOMIC_REDUCE[call.name], (*call.args, Const(1, DType.int32))))
        if call is not None and call.name == "xp_atomic_sub" and len(call.args) == 2:
            return ExprStmt(Call("__bang_atomic_reduce_add", (call.args[0], UnaryOp("-", call.args[1]),
                                                              Const(1, DType.int32))))
        if isinstance(n, Call) and n.name in native:
            raise PassRefused("XP526", f"bind: {native[n.name]} whose old value is used has no BANG translation yet",
                              hint="use the atomic as a statement (its old value unused)")
        return None

    items = tuple(transform(item, replace, top_down=True) if isinstance(item, Function) else item
                  for item in module.items)
    still_called = any(isinstance(n, Call) and n.name in native for item in items for n in walk(item))
    items = tuple(item for item in items if still_called or not (
        isinstance(item, Verbatim) and all(f"{helper}(" in item.text for helper in native)))
    return dataclasses.replace(module, items=items)


# ------------------------------------------------------------------------------------------------ checks ------

# CUDA/HIP device functions the loop form keeps as calls (the SIMT targets have them), spelled for cpp and BANG:
# bit casts by helpers (a union: C's type pun, which g++ and clang-based compilers define), bit counts by GCC/Clang
# builtins (__clz of 0 is the width, where __builtin_clz is undefined), compare-and-swap on cpp by GCC's __atomic
# builtin (the loop form's parallel loops are OpenMP threads). The rest is refused, with a code, rather than handed
# to a compiler that does not know it.
_BIT_CASTS = {"__float_as_int": ("float", "int"), "__int_as_float": ("int", "float"),
              "__float_as_uint": ("float", "unsigned int"), "__uint_as_float": ("unsigned int", "float"),
              "__double_as_longlong": ("double", "long long"), "__longlong_as_double": ("long long", "double")}
_BIT_COUNTS = {"__popc": "__builtin_popcount", "__popcll": "__builtin_popcountll", "__ffs": "__builtin_ffs",
               "__ffsll": "__builtin_ffsll"}
_LEADING_ZEROS = {"__clz": ("int", "unsigned int", 32, "__builtin_clz"),
                  "__clzll": ("long long", "unsigned long long", 64, "__builtin_clzll")}
_HELPER_QUALIFIERS = {"cpp": "static inline", "bang": "__mlu_func__"}
_COMPARE_AND_SWAP = """template <class T, class E, class D>
static inline T xp_atomic_cas(T* address, E expected, D desired) {  // CUDA's atomicCAS: returns the old value
    T old = (T)expected;
    __atomic_compare_exchange_n(address, &old, (T)desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return old;
}"""
_SIMT_ONLY_CALLS = frozenset({*_BIT_CASTS, *_BIT_COUNTS, *_LEADING_ZEROS, "atomicCAS", "atomicInc", "atomicDec"})


def _spelling(name: str, target: str) -> tuple[str, str | None] | None:
    """(name on the cpp/BANG target, the helper defining it or None) of a SIMT-only call; None where it has none."""
    qualifier = _HELPER_QUALIFIERS[target]
    if name in _BIT_CASTS:
        source, result = _BIT_CASTS[name]
        return f"xp{name[1:]}", (f"{qualifier} {result} xp{name[1:]}({source} x) {{ union {{ {source} from; "
                                 f"{result} to; }} bits; bits.from = x; return bits.to; }}")
    if name in _BIT_COUNTS:
        return _BIT_COUNTS[name], None
    if name in _LEADING_ZEROS:
        argument, unsigned, bits, builtin = _LEADING_ZEROS[name]
        return f"xp{name[1:]}", (f"{qualifier} int xp{name[1:]}({argument} x) {{ return x ? {builtin}(({unsigned})x) "
                                 f": {bits}; }}")
    if name == "atomicCAS" and target == "cpp":
        return "xp_atomic_cas", _COMPARE_AND_SWAP
    return None


def _check_simt_only_calls(module: Module, target: str) -> None:
    if target in ("cuda", "hip"):
        return
    for fn in module.functions:
        name = next((n.name for n in walk(fn) if isinstance(n, Call) and n.name in _SIMT_ONLY_CALLS
                     and _spelling(n.name, target) is None), None)
        if name is not None:
            raise PassRefused("XP527", f"bind: {fn.name} calls {name}, which has no {target} translation yet",
                              hint="use an atomic update (atomicAdd, atomicMax...) where one does the job; cpp "
                                   "results support compare-and-swap loops")


def _simt_calls_spelled(module: Module, target: str) -> Module:
    """The module with its SIMT-only calls spelled for `target`, and the helpers they need defined once."""
    used = sorted({n.name for item in module.functions for n in walk(item) if isinstance(n, Call)
                   and n.name in _SIMT_ONLY_CALLS})
    if not used:
        return module
    spelled = {name: _spelling(name, target) for name in used}
    module = module.map_functions(lambda f: transform(f, lambda n: dataclasses.replace(n, name=spelled[n.name][0])
                                                      if isinstance(n, Call) and n.name in spelled else None))
    helpers = [helper for _, helper in spelled.values() if helper is not None]
    return module.with_definitions(Verbatim("\n".join(helpers))) if helpers else module


def _check_loop_form(module: Module) -> None:
    if module.dialect != "cpp":
        raise PassRefused("XP520", f"bind takes the loop form (a cpp module), got a {module.dialect} module",
                          hint="run detensorize and recover_loops first")
    for fn in module.functions:
        for node in walk(fn):
            if isinstance(node, (Barrier, KernelLaunch, BuiltinVar)):
                raise PassRefused("XP520", f"bind: {fn.name} is not in loop form ({type(node).__name__} found)",
                                  hint="recover_loops turns launches, barriers and hardware indices into loops")
            if isinstance(node, For) and node.kind == ForKind.parallel and _canonical(node) is None:
                raise PassRefused("XP520", f"bind: a parallel loop in {fn.name} is not `for (T v = a; v < b; v += c)`")


def _canonical(loop: For) -> _Loop | None:
    if len(loop.init) != 1 or not isinstance(loop.init[0], Decl) or loop.init[0].init is None:
        return None
    decl = loop.init[0]
    var, cond, step = decl.name, loop.cond, _step_of(loop.step, decl.name)
    if step is None or step <= 0 or not isinstance(cond, BinOp):
        return None
    if cond.op in ("<", "<=") and cond.lhs == Var(var):
        end = cond.rhs
    elif cond.op in (">", ">=") and cond.rhs == Var(var):
        end = cond.lhs
    else:
        return None
    if var in _used(end) or _assigns(loop.body, var):
        return None
    if cond.op in ("<=", ">="):
        end = BinOp("+", end, Const(1, DType.int32))
    return _Loop(var, decl.type, decl.init, end, step)


def _step_of(step: Stmt | None, var: str) -> int | None:
    if isinstance(step, ExprStmt) and isinstance(step.expr, UnaryOp) and step.expr.op == "++" \
            and step.expr.operand == Var(var):
        return 1
    if isinstance(step, Assign) and step.target == Var(var):
        if step.op == "+" and isinstance(step.value, Const) and isinstance(step.value.value, int):
            return step.value.value
        value = step.value
        if step.op == "" and isinstance(value, BinOp) and value.op == "+" and value.lhs == Var(var) \
                and isinstance(value.rhs, Const) and isinstance(value.rhs.value, int):
            return value.rhs.value
    if isinstance(step, ExprStmt) and isinstance(step.expr, BinOp) and step.expr.op == "+=" \
            and step.expr.lhs == Var(var) and isinstance(step.expr.rhs, Const):
        return int(step.expr.rhs.value)
    return None


# ------------------------------------------------------------------------------------------------ analysis ----

def _is_positive_literal(e: Expr) -> bool:
    return isinstance(e, Const) and isinstance(e.value, int) and e.value > 0


def _is_zero(e: Expr) -> bool:
    return isinstance(e, Const) and e.value == 0


def _used(node: Node) -> set[str]:
    return {n.name for n in walk(node) if isinstance(n, Var)}


def _declared(node: Node) -> set[str]:
    return {n.name for n in walk(node) if isinstance(n, Decl)}


def _assigned_vars(node: Node) -> set[str]:
    """Plain variables a statement assigns (`x = ...`, `x += ...`, `x++`), not memory through pointers."""
    names = set()
    for n in walk(node):
        if isinstance(n, Assign) and isinstance(n.target, Var):
            names.add(n.target.name)
        elif isinstance(n, BinOp) and n.op in ASSIGN_OPS and isinstance(n.lhs, Var):
            names.add(n.lhs.name)
        elif isinstance(n, UnaryOp) and n.op in ("++", "--") and isinstance(n.operand, Var):
            names.add(n.operand.name)
    return names


def _assigns(node: Node, var: str) -> bool:
    return var in _assigned_vars(node)


def _array_ranks(decls: Iterable[Node]) -> dict[str, int]:
    """Index levels that stay inside each declared array: its rank for an array of pointers (a further index
    reads through a stored pointer), unlimited otherwise."""
    ranks = {}
    for d in decls:
        if isinstance(d, Decl) and not isinstance(d.type, PointerType):
            rank, element = 0, d.type
            while isinstance(element, ArrayType):
                rank, element = rank + 1, element.element
            ranks[d.name] = rank if isinstance(element, PointerType) else 1 << 30
    return ranks


def _own_array_access(target: Expr, arrays: Mapping[str, int]) -> bool:
    """Whether an index (or member) chain stays inside one of `arrays` instead of reaching memory through a pointer."""
    depth = 0
    while isinstance(target, (Index, Member)):
        depth += isinstance(target, Index)
        if isinstance(target, Member) and target.arrow:
            return False
        target = target.base
    return isinstance(target, Var) and target.name in arrays and depth <= arrays[target.name]


def _touches_memory(node: Node, host_arrays: Mapping[str, int] = MappingProxyType({})) -> bool:
    """Whether a statement reads or writes through a pointer (arrays it declares, or `host_arrays` (ranks by
    `_array_ranks`), do not count)."""
    arrays = {**host_arrays, **_array_ranks(n for n in walk(node) if isinstance(n, Decl)
                                            and isinstance(n.type, ArrayType))}
    for n in walk(node):
        if isinstance(n, Index) and not _own_array_access(n, arrays):
            return True
        if isinstance(n, UnaryOp) and n.op == "*" or isinstance(n, Member) and n.arrow:
            return True
        if isinstance(n, Call) and n.name in _SCRATCH_CALLS:
            return True
    return False


def _root(target: Expr) -> str | None:
    while isinstance(target, (Index, Member)):
        target = target.base
    return target.name if isinstance(target, Var) else None


def _writes_memory(node: Node, host_arrays: Mapping[str, int] = MappingProxyType({})) -> bool:
    """Whether a statement stores through a pointer (or calls memcpy/memset); its own arrays (and
    `host_arrays`, ranks by `_array_ranks`) do not count."""
    arrays = {**host_arrays, **_array_ranks(n for n in walk(node) if isinstance(n, Decl)
                                            and isinstance(n.type, ArrayType))}
    for target in store_targets(node):
        through_pointer = isinstance(target, (Index, Member)) or isinstance(target, UnaryOp) and target.op == "*"
        if through_pointer and not _own_array_access(target, arrays):
            return True
    return any(isinstance(n, Call) and n.name in ("memcpy", "memset") for n in walk(node))


def _host_level(node: Node) -> list[Node]:
    """Nodes of `node` outside every parallel loop (the code run once, not per iteration)."""
    found, stack = [], [node]
    while stack:
        current = stack.pop()
        if isinstance(current, For) and current.kind == ForKind.parallel:
            continue
        found.append(current)
        stack.extend(children(current))
    return found


def _shared_arrays(body: Block, with_loaded: bool = True) -> set[str]:
    """Arrays declared outside the parallel loops whose contents come from parallel iterations (or, with
    `with_loaded`, from memory).

    Filled by parallel iterations, every thread or task must see one copy: on a GPU they become device buffers,
    BANG refuses them. Loaded from memory outside the loops, a GPU host cannot read them (device buffers too),
    while every BANG task loads its own copy.
    """
    outside = _host_level(body)
    names = {n.name for n in outside if isinstance(n, Decl) and isinstance(n.type, ArrayType)}
    # host pointers into those arrays (`float* t = table + 4;`): a store through one is a store to its array
    pointing = {n.name: _used(n.init) & names for n in outside
                if isinstance(n, Decl) and isinstance(n.type, PointerType) and n.init is not None}
    pointing |= {n.target.name: pointing.get(n.target.name, set()) | (_used(n.value) & names) for n in outside
                 if isinstance(n, Assign) and isinstance(n.target, Var) and n.target.name in pointing}
    shared = set()
    for node in walk(body):
        if isinstance(node, For) and node.kind == ForKind.parallel:
            roots = {_root(t) for t in store_targets(node)} - _declared(node)
            shared |= roots & names
            shared |= {array for root in roots for array in pointing.get(root, ())}
    for node in outside if with_loaded else ():
        if isinstance(node, Assign) and _root(node.target) in names \
                and _touches_memory(ExprStmt(node.value), _array_ranks(n for n in outside if isinstance(n, Decl)
                                                                        and n.name in names)):
            shared.add(_root(node.target))
    return shared


def _has_parallel(node: Node) -> bool:
    return any(isinstance(n, For) and n.kind == ForKind.parallel for n in walk(node))


def _is_container(s: Stmt) -> bool:
    return isinstance(s, (Block, If, For, While))


def _serial(loop: For) -> For:
    return dataclasses.replace(loop, kind=ForKind.serial, axis=None, pragmas=_kept_pragmas(loop))


def _kept_pragmas(loop: For) -> tuple[str, ...]:
    """Source pragmas that still mean something in the target (OpenMP ones are decided here, not kept)."""
    return tuple(p for p in loop.pragmas if not p.startswith("omp"))


def _serialize_inner(node: Node) -> Node:
    """Every parallel loop below `node` becomes a plain loop (it runs inside one thread / task / OpenMP iteration)."""
    return transform(node, lambda n: _serial(n) if isinstance(n, For) and n.kind == ForKind.parallel else None)


def _malloc_size(init: Expr | None) -> Expr | None:
    while isinstance(init, Cast):
        init = init.expr
    if isinstance(init, Call) and init.name == "malloc" and len(init.args) == 1:
        return init.args[0]
    return None


def _call_name(s: Stmt) -> str | None:
    return s.expr.name if isinstance(s, ExprStmt) and isinstance(s.expr, Call) else None


def _check_returns(fn: Function) -> None:
    """Returns leave the entry (no value) from code run once, never from inside a parallel loop."""
    for node in walk(fn.body):
        if isinstance(node, Return) and node.value is not None:
            raise PassRefused("XP520", f"bind: entry {fn.name} returns a value; entries return void")
        if isinstance(node, For) and node.kind == ForKind.parallel and any(isinstance(n, Return) for n in walk(node)):
            raise PassRefused("XP520", f"bind: a parallel loop of {fn.name} returns from the entry",
                              hint="in the loop form a thread's early return is a `continue` of its loop")


def _alias_device_copies(fn: Function) -> Function:
    """Scratch buffers that only mirror a parameter become that parameter (what a SIMT source's device copies
    look like in the loop form): `T* d = malloc(S); memcpy(d, p, S); ...; memcpy(p, d, S); free(d)` -> `T* d = p`.

    Sound when S is the same expression everywhere (d is exactly as large as what is copied), p is used by
    nothing but these copies, copies in come before every other use of d and copies out after every one.
    A buffer allocated `S > 0 ? S : c` (the guard against zero-sized allocations) is exactly S whenever anything
    is copied; when nothing is, its contents are uninitialized, so it is aliased only when it is copied in and
    never stored to (through d or any pointer derived from it) and never copied out.
    """
    stmts = list(fn.body.body)
    for d, pointer_type in [(s.name, s.type) for s in stmts if isinstance(s, Decl) and isinstance(s.type, PointerType)]:
        alloc = [i for i, s in enumerate(stmts) if _malloc_size(s.init if isinstance(s, Decl) and s.name == d else
                 s.value if isinstance(s, Assign) and s.target == Var(d) and s.op == "" else None) is not None]
        copies = [i for i, s in enumerate(stmts) if _call_name(s) == "memcpy" and Var(d) in s.expr.args[:2]]
        frees = [i for i, s in enumerate(stmts) if _call_name(s) == "free" and s.expr.args == (Var(d),)]
        if len(alloc) != 1 or not copies:
            continue
        size = _malloc_size(stmts[alloc[0]].init if isinstance(stmts[alloc[0]], Decl) else stmts[alloc[0]].value)
        ends = {stmts[i].expr.args[1] if stmts[i].expr.args[0] == Var(d) else stmts[i].expr.args[0] for i in copies}
        copied = {stmts[i].expr.args[2] for i in copies}
        if len(ends) != 1 or len(copied) != 1:
            continue
        source = next(iter(ends))
        if not isinstance(source, Var) or source.name not in {p.name for p in fn.params}:
            continue
        handled = set(alloc + copies + frees)
        others = [i for i, s in enumerate(stmts) if i not in handled and not (isinstance(s, Decl) and s.name == d)]
        if any(source.name in _used(stmts[i]) for i in others) or any(d in _assigned_vars(stmts[i]) for i in others):
            continue
        if size != next(iter(copied)) and not (
                _guarded_size(size, next(iter(copied))) and all(stmts[i].expr.args[0] == Var(d) for i in copies)
                and not _stored_through(Block(tuple(stmts[i] for i in others)), d)):
            continue
        uses = [i for i in others if d in _used(stmts[i])]
        copies_in = [i for i in copies if stmts[i].expr.args[0] == Var(d)]
        copies_out = [i for i in copies if stmts[i].expr.args[1] == Var(d)]
        if uses and (any(i > min(uses) for i in copies_in) or any(i < max(uses) for i in copies_out)):
            continue
        alias = Decl(d, pointer_type, Cast(pointer_type, source))
        declared = next(i for i, s in enumerate(stmts) if isinstance(s, Decl) and s.name == d)
        stmts[declared] = alias
        stmts = [s for i, s in enumerate(stmts) if i not in handled or i == declared]
    return dataclasses.replace(fn, body=Block(tuple(stmts)))


_VECTOR = re.compile(r"^std::vector<\s*(.+?)\s*>$")


def _vectors_as_scratch(fn: Function) -> Function:
    """Every `std::vector<T> v(n)` / `v(n, x)` of the entry's code run once, used only as `v[i]`, `v.data()` and
    `v.size()`, as the scratch buffer bind already places: `T* v = (T*)malloc(n * sizeof(T))`, its elements set
    to x (or T(0), as the vector does) by a parallel loop, `free(v)` where the vector's scope ends and before each
    return in it. A device cannot hold a std::vector: on a GPU the buffer becomes device memory the kernels take
    as a pointer, on BANG a GDRAM array (`_scratch_as_arrays`)."""
    taken = _used(fn.body) | _declared(fn.body) | {p.name for p in fn.params}

    def fresh(base: str) -> str:
        name = next(f"{base}{k or ''}" for k in range(len(taken) + 1) if f"{base}{k or ''}" not in taken)
        taken.add(name)
        return name

    def block(stmts: tuple[Stmt, ...], outermost: bool) -> tuple[Stmt, ...]:
        out: list[Stmt] = []
        for i, s in enumerate(stmts):
            rest = stmts[i + 1:]
            rewritten = as_scratch(s, rest, outermost)
            if rewritten is not None:
                return tuple(out) + rewritten
            out.append(container(s))
        return tuple(out)

    def container(s: Stmt) -> Stmt:
        if isinstance(s, For) and s.kind == ForKind.parallel:  # a vector declared there is private to an iteration
            return s
        if isinstance(s, Block):
            return Block(block(s.body, False))
        if isinstance(s, If):
            return dataclasses.replace(s, then=Block(block(s.then.body, False)),
                                       otherwise=Block(block(s.otherwise.body, False)) if s.otherwise else None)
        if isinstance(s, (For, While, DoWhile)):
            return dataclasses.replace(s, body=Block(block(s.body.body, False)))
        return s

    def as_scratch(s: Stmt, rest: tuple[Stmt, ...], outermost: bool) -> tuple[Stmt, ...] | None:
        match = _VECTOR.match(s.type.name) if isinstance(s, Decl) and isinstance(s.type, NamedType) else None
        element = type_from_text(match.group(1)) if match else None
        if not isinstance(element, ScalarType) or not element.dtype.bits:
            return None
        if isinstance(s.init, Cast) and s.init.type == s.type:
            args = (s.init.expr,)
        elif isinstance(s.init, Construct) and not s.init.braced and s.init.type == s.type:
            args = s.init.args
        else:
            return None
        v, later = s.name, Block(rest)
        uses = sum(1 for n in walk(later) if n == Var(v))
        allowed = sum(1 for n in walk(later) if isinstance(n, Index) and n.base == Var(v)
                      or isinstance(n, MethodCall) and n.obj == Var(v) and n.method in ("data", "size") and not n.args)
        jumps = any(isinstance(n, (Break, Continue)) for n in walk(later))
        if len(args) not in (1, 2) or uses != allowed or v in _declared(later) or jumps and not outermost:
            return None
        element = dataclasses.replace(element, const=False)
        count = args[0]
        size = fresh(f"{v}_size") if any(isinstance(n, MethodCall) and n.method == "size" and n.obj == Var(v)
                                         for n in walk(later)) else None
        pointer = PointerType(element)
        index = fresh(f"{v}_i")
        value = Cast(element, args[1] if len(args) == 2 else Const(0, DType.int32))
        fill = For((Decl(index, _LONG, Const(0, DType.int32)),), BinOp("<", Var(index), count),
                   Assign(Var(index), Const(1, DType.int32), "+"), Block((Assign(Index(Var(v), Var(index)), value),)),
                   ForKind.parallel, "omp")
        release = ExprStmt(Call("free", (Var(v),)))

        def rewrite(n: Node) -> Node | None:
            if isinstance(n, MethodCall) and n.obj == Var(v):
                return Var(v) if n.method == "data" else Var(size)
            if isinstance(n, Return):
                return Block((release, n))
            return None

        head = [Decl(v, pointer, Cast(pointer, Call("malloc", (BinOp("*", count, SizeOf(element)),))))]
        count_type = ScalarType(DType.uint64, spelling="size_t")  # passable to a kernel, unlike NamedType size_t
        head += [Decl(size, count_type, Cast(count_type, count))] if size else []
        tail = block(transform(later, rewrite).body, outermost)
        last = tail[-1] if tail else None
        while isinstance(last, Block) and last.body:  # a return rewritten above, maybe inside a later vector's
            last = last.body[-1]
        return tuple(head) + (fill,) + tail + (() if isinstance(last, Return) else (release,))

    return dataclasses.replace(fn, body=Block(block(fn.body.body, True)))


def _parallel_helpers_inlined(fn: Function, module: Module) -> Function:
    """Calls, in the entry's code run once, of helpers that hold parallel loops (`pack(B, packed, n)`), replaced
    by the helper's body: its loops then become kernels / task loops like the entry's own, where the call would
    have run the whole helper on the host of a GPU (on device pointers) or on every BANG task."""
    helpers = {f.name: f for f in module.functions if f.body is not None and f.name != fn.name}
    namer = Namer(_used(fn.body) | _declared(fn.body) | {p.name for p in fn.params} | set(helpers))
    inlining: list[str] = []  # the helpers being pasted, so a recursive one is left as a call

    def paste(s: Stmt) -> Stmt | None:
        call = s.expr if isinstance(s, ExprStmt) and isinstance(s.expr, Call) else None
        callee = helpers.get(call.name) if call is not None else None
        if callee is None or callee.name in inlining or not _has_parallel(callee.body):
            return None
        inlining.append(callee.name)
        (pasted,) = inline_body(callee, call, None, namer)
        pasted = _map_host_statements(pasted, paste)
        inlining.pop()
        return pasted

    return dataclasses.replace(fn, body=_map_host_statements(fn.body, paste))


def _allocating_helpers_inlined(fn: Function, module: Module) -> Function:
    """`T* p = helper(args);` (or `p = helper(args);`) in the entry's code run once, where the helper allocates
    (`alloc_floats(n)` rounding a size up for an aligned_alloc), replaced by the helper's body computing p: the
    allocation is then the entry's own scratch, which bind places on the device."""
    allocating = _helpers_where(module, _allocates)
    helpers = {f.name: f for f in module.functions if f.body is not None and f.name in allocating}
    namer = Namer(_used(fn.body) | _declared(fn.body) | {p.name for p in fn.params} | set(helpers))

    def paste(s: Stmt) -> Stmt | None:
        target, value = variable_set(s)
        callee = helpers.get(value.name) if isinstance(value, Call) else None
        if callee is None or callee.name == fn.name or not isinstance(callee.return_type, PointerType):
            return None
        pasted = inline_body(callee, value, target, namer)
        return Block(((dataclasses.replace(s, init=None),) if isinstance(s, Decl) else ()) + pasted)

    def splice(n: Node) -> Node | None:  # the declaration stays in its scope: `T* p; { ...; p = ...; }`
        if not isinstance(n, Block):
            return None
        pasted = [(x, paste(x)) for x in n.body]
        if all(p is None for _, p in pasted):
            return None
        return Block(tuple(y for x, p in pasted for y in ((x,) if p is None else p.body)))

    return dataclasses.replace(fn, body=transform(fn.body, splice))


def _plain_allocations(fn: Function) -> Function:
    """`std::malloc`/`std::free`/... spelled plainly, and `aligned_alloc(a, n)` as `malloc(n)`: the scratch calls
    bind places (device allocations are aligned more strictly than any `a` a host kernel asks)."""
    def plain(n: Node) -> Node | None:
        if not isinstance(n, Call):
            return None
        name = n.name.removeprefix("std::")
        if name == "aligned_alloc" and len(n.args) == 2:
            return Call("malloc", (n.args[1],))
        return dataclasses.replace(n, name=name) if name in _SCRATCH_CALLS and name != n.name else None

    return dataclasses.replace(fn, body=transform(fn.body, plain))


def _map_host_statements(s: Stmt, leaf: Callable[[Stmt], Stmt | None]) -> Stmt:
    """`s` with each statement of the code run once (blocks, ifs and serial loops entered, parallel loops not)
    replaced by `leaf`'s answer where it has one; a replaced statement is not entered."""
    replaced = leaf(s)
    if replaced is not None:
        return replaced
    if isinstance(s, Block):
        return Block(tuple(_map_host_statements(x, leaf) for x in s.body))
    if isinstance(s, If):
        return dataclasses.replace(s, then=_map_host_statements(s.then, leaf),
                                   otherwise=_map_host_statements(s.otherwise, leaf) if s.otherwise else None)
    if isinstance(s, (For, While, DoWhile)) and not (isinstance(s, For) and s.kind == ForKind.parallel):
        return dataclasses.replace(s, body=_map_host_statements(s.body, leaf))
    return s


def _helpers_where(module: Module, test: Callable[[Node], bool]) -> frozenset[str]:
    """Helpers whose body passes `test`, themselves or through the helpers they call."""
    bodies = {f.name: f.body for f in module.functions if f.body is not None}
    found = {name for name, body in bodies.items() if test(body)}
    grown = True
    while grown:
        before = len(found)
        found |= {name for name, body in bodies.items()
                  if any(isinstance(n, Call) and n.name in found for n in walk(body))}
        grown = len(found) > before
    return frozenset(found)


def _memory_helpers(module: Module, writing: bool = False) -> frozenset[str]:
    """Helpers that read or write (`writing`: write) memory through pointers."""
    return _helpers_where(module, _writes_memory if writing else _touches_memory)


_ALLOCATOR = re.compile(r"^(std::)?(malloc|calloc|realloc|aligned_alloc|posix_memalign|_mm_malloc)$")


def _allocates(node: Node) -> bool:
    return any(isinstance(n, Call) and _ALLOCATOR.match(n.name) or isinstance(n, RawExpr)
               and re.match(r"\s*new\b", n.text) for n in walk(node))


def _check_helper_allocations(fn: Function, module: Module, target: str) -> None:
    """A buffer a helper allocates is host memory on a GPU and a task's own memory on BANG (where device code
    cannot allocate at all), never the device memory every thread or task shares: refused, not guessed."""
    allocating = _helpers_where(module, _allocates)
    called = sorted({n.name for n in walk(fn.body) if isinstance(n, Call) and n.name in allocating})
    if called:
        raise PassRefused("XP521" if target == "bang" else "XP523",
                          f"bind: {fn.name} gets memory from {', '.join(called)}, which allocates it on the host",
                          hint="allocate scratch with malloc (or a std::vector) in the entry itself")


def _passes_pointer_to(s: Node, helpers: frozenset[str], pointers: set[str]) -> bool:
    """Whether `s` calls one of `helpers` (memory helpers) with an argument made of a pointer variable: the
    helper may read or write the memory behind it, which a plain scan of `s` does not see."""
    return any(isinstance(n, Call) and n.name in helpers and any(_used(a) & pointers for a in n.args)
               for n in walk(s))


def _guarded_size(alloc: Expr, copied: Expr) -> bool:
    """`alloc` is `copied` whenever `copied` is positive: `S > 0 ? S : c`, `S ? S : c`, `(n > 0 ? n : c) * r`."""
    if isinstance(alloc, BinOp) and alloc.op == "*" and isinstance(copied, BinOp) and copied.op == "*" \
            and alloc.rhs == copied.rhs:
        alloc, copied = alloc.lhs, copied.lhs
    if not (isinstance(alloc, Select) and alloc.then == copied):
        return False
    cond, counts = alloc.cond, {copied}
    if isinstance(copied, BinOp) and copied.op == "*":  # `n > 0 ? n * sizeof(T) : c`
        counts |= {a for a, b in ((copied.lhs, copied.rhs), (copied.rhs, copied.lhs)) if isinstance(b, SizeOf)}
    return cond in counts or isinstance(cond, BinOp) and cond.lhs in counts and (
        cond.op in (">", "!=") and _is_zero(cond.rhs) or cond.op == ">=" and cond.rhs == Const(1, DType.int32))


def _stored_through(body: Block, pointer: str) -> bool:
    """Whether anything may store through `pointer` or a pointer derived from it (conservative: passing one to
    a call other than as memcpy's source counts as a store)."""
    derived, grown = {pointer}, True
    while grown:
        before = len(derived)
        for n in walk(body):
            if isinstance(n, Decl) and n.init is not None and _used(n.init) & derived:
                derived.add(n.name)
            elif isinstance(n, Assign) and isinstance(n.target, Var) and _used(n.value) & derived:
                derived.add(n.target.name)
        grown = len(derived) > before
    for n in walk(body):
        if isinstance(n, Call) and n.name != "free":
            args = n.args[:1] + n.args[2:] if n.name == "memcpy" else n.args
            if any(_used(a) & derived for a in args):
                return True
    for target in store_targets(body):
        if isinstance(target, UnaryOp) and _used(target.operand) & derived or _root(target) in derived \
                and not isinstance(target, Var):
            return True
    return False


# ------------------------------------------------------------------------------------------------ cpp ---------

def _bind_cpp_function(fn: Function) -> Function:
    if fn.body is None:
        return fn
    return dataclasses.replace(fn, body=_cpp_block(fn.body))


def _cpp_block(block: Block) -> Block:
    return Block(tuple(_cpp_stmt(s) for s in block.body))


def _cpp_stmt(s: Stmt) -> Stmt:
    """Outermost parallel loops get their OpenMP pragma; what they contain runs in one OpenMP iteration."""
    if isinstance(s, For) and s.kind == ForKind.parallel:
        inner = s.body.body[0] if len(s.body.body) == 1 else None
        collapse = isinstance(inner, For) and inner.kind == ForKind.parallel and _rectangular(s, inner)
        pragma = "omp parallel for collapse(2)" if collapse else "omp parallel for"
        body = _serialize_inner(s.body)
        return dataclasses.replace(s, body=body, axis=None, pragmas=(pragma, *_kept_pragmas(s)))
    if isinstance(s, For):
        return dataclasses.replace(s, body=_cpp_block(s.body), pragmas=_kept_pragmas(s))
    if isinstance(s, Block):
        return _cpp_block(s)
    if isinstance(s, If):
        return dataclasses.replace(s, then=_cpp_block(s.then),
                                   otherwise=_cpp_block(s.otherwise) if s.otherwise is not None else None)
    if isinstance(s, (While, DoWhile)):
        return dataclasses.replace(s, body=_cpp_block(s.body))
    return s


def _rectangular(outer: For, inner: For) -> bool:
    """Two perfectly nested loops OpenMP may collapse: the inner bounds do not depend on the outer variable."""
    a, b = _canonical(outer), _canonical(inner)
    return a is not None and b is not None and a.var not in _used(b.start) | _used(b.end)


# ------------------------------------------------------------------------------------------------ bang --------

def _bind_bang(module: Module, entries: set[str], options: BindOptions) -> Module:
    arrays: list[GlobalVar] = []

    def convert(fn: Function) -> Function:
        if fn.body is None:
            return fn
        if fn.name in entries:
            body, found = _scratch_as_arrays(fn, options)
            arrays.extend(found)
            fn = dataclasses.replace(fn, body=body)
            fn = dataclasses.replace(fn, body=_byte_calls_as_loops(fn))
            body, found = _shared_arrays_in_gdram(fn)
            arrays.extend(found)
            fn = dataclasses.replace(fn, body=body)
            shared = _shared_arrays(fn.body, with_loaded=False)
            if shared:
                raise PassRefused("XP521", f"bind: arrays {', '.join(sorted(shared))} of {fn.name} are shared by "
                                           "parallel iterations, which BANG tasks cannot share outside GDRAM",
                                  hint="pass the buffer as a GDRAM parameter")
            _check_returns(fn)
            body = _BangBody(fn, module).run(fn.body.body)
            return dataclasses.replace(fn, body=body, qualifiers=frozenset({FuncQual.mlu_global}))
        inline = {FuncQual.static, FuncQual.inline, FuncQual.forceinline}  # __mlu_func__ is already inline
        return dataclasses.replace(fn, qualifiers=(fn.qualifiers - inline) | {FuncQual.mlu_func},
                                   body=_serialize_inner(fn.body))

    bound = module.map_functions(convert)
    # every function is device code here: const tables become __mlu_const__ data (a host global is out of reach)
    bound = _in_constant_memory(bound, {g.name for g in module.globals if _const_table(g)})
    return _drop_spellings(dataclasses.replace(bound.with_definitions(*arrays), dialect="bang",
                                               includes=_target_includes(module, "bang")))


def _constant_bytes(e: Expr) -> int | None:
    """The value of a byte count made of integer literals, sizeof(scalar), + and * (else None)."""
    if isinstance(e, Const) and isinstance(e.value, int) and not isinstance(e.value, bool):
        return e.value
    if isinstance(e, SizeOf) and isinstance(e.arg, ScalarType) and e.arg.dtype.bits:
        return e.arg.dtype.bits // 8
    if isinstance(e, Cast):
        return _constant_bytes(e.expr)
    if isinstance(e, BinOp) and e.op in ("*", "+"):
        a, b = _constant_bytes(e.lhs), _constant_bytes(e.rhs)
        return None if a is None or b is None else a * b if e.op == "*" else a + b
    return None


def _scratch_as_arrays(fn: Function, options: BindOptions) -> tuple[Block, list[GlobalVar]]:
    """Scratch buffers as the fixed arrays a BANG programmer declares for a workspace (a `__mlu_global__`
    function cannot allocate):
    - allocated in the code every task runs: a `__mlu_device__` GDRAM array, of the malloc's size when that is
      known at translation time, else of `options.bang_gdram_scratch_bytes`;
    - allocated inside a parallel loop (a CUDA block's dynamic shared memory, a per-row vector), so private to
      an iteration and hence to the task running it: an `__nram__` array of `options.bang_nram_scratch_bytes`.
    A capacity is checked where the size is known, before the parallel loop for the second kind. Every task
    evaluates the same condition, prints the shortfall with `__bang_printf` and returns before touching the
    buffer, the way a CUDA launch that asks for more shared memory than there is fails without running. GDRAM
    arrays are shared by concurrent launches, like a SIMT source's `__device__` arrays. (Pointers to them may be
    swapped, as ping-pong buffers are.) Buffers allocated more than once, and per-iteration buffers whose size
    changes with the iteration, are left for the scratch check to refuse (XP521)."""
    arrays: list[GlobalVar] = []
    replaced: set[str] = set()
    taken = _used(fn.body) | _declared(fn.body) | {p.name for p in fn.params}
    types = {d.name: d.type for d in walk(fn.body) if isinstance(d, Decl)}
    allocations = Counter(n.name if isinstance(n, Decl) else n.target.name for n in walk(fn.body)
                          if isinstance(n, Decl) and _malloc_size(n.init) is not None
                          or isinstance(n, Assign) and isinstance(n.target, Var) and _malloc_size(n.value) is not None)

    def allocation(s: Stmt) -> tuple[str, Expr, ScalarType] | None:
        """(buffer, bytes, element type) when `s` is `T* p = (T*)malloc(bytes)` or `p = (T*)malloc(bytes)`."""
        target, value = variable_set(s)
        size, pointer = _malloc_size(value), types.get(target)
        if size is None or not isinstance(pointer, PointerType) or not isinstance(pointer.pointee, ScalarType) \
                or not pointer.pointee.dtype.bits or allocations[target] > 1:
            return None
        return target, size, dataclasses.replace(pointer.pointee, const=False)

    def place(s: Stmt, buffer: str, element: ScalarType, elements: int, scope: MemScope) -> Stmt:
        name = _gdram_name(buffer, taken) if scope == MemScope.global_ else _gdram_name(buffer, taken, "xp_nram_")
        arrays.append(GlobalVar(name, ArrayType(element, Const(elements, DType.int32)), scope))
        replaced.add(buffer)
        return dataclasses.replace(s, init=Var(name)) if isinstance(s, Decl) \
            else dataclasses.replace(s, value=Var(name))

    def check(buffer: str, size: Expr, capacity: int, memory: str) -> If:
        message = StringLit(f'"xpile: {fn.name} needs %llu bytes of {memory} for {buffer}, more than the {capacity} '
                            f'this translation reserves\\n"')
        wanted = Cast(ScalarType(DType.uint64), size)
        return If(BinOp(">", wanted, Const(capacity, DType.int64)),
                  Block((ExprStmt(Call("__bang_printf", (message, wanted))), Return())))

    def in_gdram(s: Stmt, buffer: str, size: Expr, element: ScalarType) -> list[Stmt]:
        width = element.dtype.bits // 8
        count = _constant_bytes(size)
        if count is not None and count % width == 0:
            return [place(s, buffer, element, count // width, MemScope.global_)]
        capacity = options.bang_gdram_scratch_bytes
        return [check(buffer, size, capacity, "GDRAM scratch"),
                place(s, buffer, element, capacity // width, MemScope.global_)]

    def per_iteration(loop: For) -> list[Stmt]:
        """The loop with its own buffers in NRAM, after their capacity checks."""
        inside = _declared(loop) | _assigned_vars(loop)
        checks: list[Stmt] = []

        def in_nram(n: Node) -> Node | None:
            found = allocation(n) if isinstance(n, (Decl, Assign)) else None
            if found is None or found[0] not in _declared(loop) or _used(found[1]) & inside:
                return None
            buffer, size, element = found
            capacity = options.bang_nram_scratch_bytes
            checks.append(check(buffer, size, capacity, "NRAM"))
            return place(n, buffer, element, capacity // (element.dtype.bits // 8), MemScope.nram)

        placed = transform(loop, in_nram)
        return checks + [placed]

    def host_block(stmts: tuple[Stmt, ...]) -> tuple[Stmt, ...]:
        out: list[Stmt] = []
        for s in stmts:
            found = allocation(s)
            out += in_gdram(s, *found) if found is not None else per_iteration(s) \
                if isinstance(s, For) and s.kind == ForKind.parallel else [host_statement(s)]
        return tuple(out)

    def host_statement(s: Stmt) -> Stmt:
        if isinstance(s, Block):
            return Block(host_block(s.body))
        if isinstance(s, If):
            return dataclasses.replace(s, then=Block(host_block(s.then.body)), otherwise=Block(
                host_block(s.otherwise.body)) if s.otherwise is not None else None)
        if isinstance(s, (For, While, DoWhile)):
            return dataclasses.replace(s, body=Block(host_block(s.body.body)))
        return s

    body = Block(host_block(fn.body.body))

    def drop_free(n: Node) -> Node | None:
        if isinstance(n, ExprStmt) and isinstance(n.expr, Call) and n.expr.name == "free" \
                and len(n.expr.args) == 1 and isinstance(n.expr.args[0], Var) and n.expr.args[0].name in replaced:
            return Block(())
        return None

    return _without_empty_blocks(transform(body, drop_free)), arrays


def _gdram_name(buffer: str, taken: set[str], prefix: str = "xp_gdram_") -> str:
    name = next(f"{prefix}{buffer}{k or ''}" for k in range(len(taken) + 1)
                if f"{prefix}{buffer}{k or ''}" not in taken)
    taken.add(name)
    return name


def _shared_arrays_in_gdram(fn: Function) -> tuple[Block, list[GlobalVar]]:
    """Arrays of a constant size, declared without an initializer outside the parallel loops and filled by them,
    become `__mlu_device__` GDRAM arrays: every task must read the one copy all tasks filled, while an array
    declared in the entry is each task's own. (Shared by concurrent launches, like `_scratch_as_arrays`'s.)"""
    taken = _used(fn.body) | _declared(fn.body) | {p.name for p in fn.params}
    declarations = Counter(n.name for n in walk(fn.body) if isinstance(n, Decl))
    arrays: list[GlobalVar] = []
    renamed: dict[str, str] = {}
    shared = _shared_arrays(fn.body, with_loaded=False)
    for decl in (n for n in _host_level(fn.body) if isinstance(n, Decl) and isinstance(n.type, ArrayType)):
        element, constant = decl.type, True
        while isinstance(element, ArrayType):
            constant = constant and isinstance(element.size, Const)
            element = element.element
        if decl.init is None and constant and isinstance(element, ScalarType) and declarations[decl.name] == 1 \
                and decl.name in shared:
            renamed[decl.name] = _gdram_name(decl.name, taken)
            arrays.append(GlobalVar(renamed[decl.name], decl.type, MemScope.global_))

    def rename(n: Node) -> Node | None:
        if isinstance(n, Decl) and n.name in renamed:
            return Block(())
        return Var(renamed[n.name]) if isinstance(n, Var) and n.name in renamed else None

    return _without_empty_blocks(transform(fn.body, rename)), arrays


def _without_empty_blocks(body: Block) -> Block:
    """`body` without the empty blocks left where statements were dropped."""
    return transform(body, lambda n: Block(tuple(x for x in n.body if x != Block(())))
                     if isinstance(n, Block) and Block(()) in n.body else None)


def _byte_calls_as_loops(fn: Function) -> Block:
    """`memset(p, 0, n * sizeof(T))` and `memcpy(d, s, n * sizeof(T))` as element loops (BANG device code has no
    byte calls on GDRAM), on `T*` pointers (`p`, `p + k`, `&a[i]`; a byte count is an element count for 1-byte T).
    Outside the parallel loops a loop filling GDRAM is parallel, so it splits over tasks; one filling a task's own
    array, or inside a parallel loop, is serial. A call on exactly one element (`memset(&x, 0, sizeof(x))`) is an
    assignment. Other byte calls are left for the scratch check to refuse."""
    types = {p.name: p.type for p in fn.params} | {d.name: d.type for d in walk(fn.body) if isinstance(d, Decl)}
    taken = _used(fn.body) | _declared(fn.body) | set(types)

    def element(e: Expr) -> DType | None:
        t = types.get(e.name) if isinstance(e, Var) else None
        inner = t.pointee if isinstance(t, PointerType) else t.element if isinstance(t, ArrayType) else None
        return inner.dtype if isinstance(inner, ScalarType) else None

    assigned = _assigned_vars(fn.body)
    values = {d.name: d.init for d in walk(fn.body) if isinstance(d, Decl) and d.init is not None
              and d.name not in assigned and not _used(d.init) & assigned and isinstance(d.type, ScalarType)
              and d.type.dtype.is_int}

    def factors(e: Expr) -> list[Expr]:
        if isinstance(e, Var) and e.name in values:  # `const size_t bytes = n * sizeof(float);`
            return factors(values[e.name])
        return factors(e.lhs) + factors(e.rhs) if isinstance(e, BinOp) and e.op == "*" else [e]

    def count(size: Expr, dtype: DType) -> Expr | None:
        """`size` / sizeof(T) when `size` is sizeof(T) or a product with one sizeof(T) factor, or sizeof of a
        `T[n]` array."""
        whole = types.get(size.arg.name) if isinstance(size, SizeOf) and isinstance(size.arg, Var) else None
        if isinstance(whole, ArrayType) and isinstance(whole.element, ScalarType) and whole.element.dtype == dtype:
            return whole.size
        parts = factors(size)
        units = [i for i, f in enumerate(parts) if isinstance(f, SizeOf) and isinstance(f.arg, ScalarType)]
        if len(units) != 1 or parts[units[0]].arg.dtype != dtype:
            return None
        rest = [f for i, f in enumerate(parts) if i != units[0]]
        n = rest[0] if rest else Const(1, DType.int32)
        for f in rest[1:]:
            n = BinOp("*", n, f)
        return n

    def object_type(e: Expr) -> Type | None:
        if isinstance(e, Index):
            t = object_type(e.base)
            return t.pointee if isinstance(t, PointerType) else t.element if isinstance(t, ArrayType) else None
        return types.get(e.name) if isinstance(e, Var) else None

    def pointee(e: Expr) -> DType | None:
        if isinstance(e, UnaryOp) and e.op == "&":
            t = object_type(e.operand)
            while isinstance(t, ArrayType):
                t = t.element
            return t.dtype if isinstance(t, ScalarType) else None
        return element(e) if isinstance(e, Var) else pointee(e.lhs) if isinstance(e, BinOp) and e.op in "+-" else None

    def whole_object(dst: Expr, src: Expr | None) -> Stmt | None:
        """`dst = 0` (or `= *src`), element by element through serial loops when dst is an array."""
        t = object_type(dst)
        if isinstance(t, ScalarType):
            return Assign(dst, Cast(ScalarType(t.dtype), Const(0, DType.int32)) if src is None else UnaryOp("*", src))
        if not isinstance(t, ArrayType) or t.size is None or src is not None and not (
                isinstance(src, UnaryOp) and src.op == "&" and object_type(src.operand) == t):
            return None
        var = next(f"xp_e{k}" for k in range(len(taken) + 1) if f"xp_e{k}" not in taken)
        taken.add(var)
        inner = whole_object(Index(dst, Var(var)), None if src is None else UnaryOp("&", Index(src.operand, Var(var))))
        return None if inner is None else For((Decl(var, _LONG, Const(0, DType.int32)),), BinOp("<", Var(var), t.size),
                                              Assign(Var(var), Const(1, DType.int32), "+"), Block((inner,)),
                                              ForKind.serial, None)

    def as_loop(s: Stmt, kind: ForKind) -> Stmt | None:
        call = s.expr if isinstance(s, ExprStmt) and isinstance(s.expr, Call) else None
        if call is None or call.name not in ("memset", "memcpy") or len(call.args) != 3:
            return None
        dst, src, size = call.args
        dtype = pointee(dst)
        one = isinstance(dst, UnaryOp) and dst.op == "&" and size == SizeOf(dst.operand)
        n = None if dtype is None else Const(1, DType.int32) if one else count(size, dtype) or (
            size if dtype.bits == 8 and not any(isinstance(f, SizeOf) for f in factors(size)) else None)
        if n is None or call.name == "memset" and not _is_zero(src) or call.name == "memcpy" and pointee(src) != dtype:
            return None
        if one:
            return whole_object(dst.operand, src if call.name == "memcpy" else None)
        var = next(f"xp_e{k}" for k in range(len(taken) + 1) if f"xp_e{k}" not in taken)
        taken.add(var)
        value = Cast(ScalarType(dtype), Const(0, DType.int32)) if call.name == "memset" else Index(src, Var(var))
        if not isinstance(types.get(_root_var(dst)), PointerType):
            kind = ForKind.serial  # a task's own array: every task fills its copy
        return For((Decl(var, _LONG, Const(0, DType.int32)),), BinOp("<", Var(var), n),
                   Assign(Var(var), Const(1, DType.int32), "+"), Block((Assign(Index(dst, Var(var)), value),)),
                   kind, call.name)

    outside = _map_host_statements(fn.body, lambda s: as_loop(s, ForKind.parallel))
    return transform(outside, lambda n: as_loop(n, ForKind.serial) if isinstance(n, ExprStmt) else None)


def _root_var(e: Expr) -> str | None:
    """The variable a pointer expression (`p`, `p + k`, `&a[i]`) is based on."""
    while isinstance(e, (UnaryOp, BinOp, Index)):
        e = e.operand if isinstance(e, UnaryOp) else e.lhs if isinstance(e, BinOp) else e.base
    return e.name if isinstance(e, Var) else None


def _with_runs(stmts: tuple[Stmt, ...], run_end: Callable[[tuple[Stmt, ...], int], int | None],
               one: Callable[[Stmt], list[Stmt]], run: Callable[[tuple[Stmt, ...]], list[Stmt]]) -> list[Stmt]:
    """stmts mapped one by one, except the runs `run_end` finds (the end of a run starting at a statement, or
    None), which are mapped whole: a BANG task-0 run, a SIMT one-thread kernel."""
    out: list[Stmt] = []
    start = 0
    while start < len(stmts):
        end = run_end(stmts, start)
        out += one(stmts[start]) if end is None else run(stmts[start:end])
        start = start + 1 if end is None else end
    return out


class _BangBody:
    """The entry body run by every task: parallel loops split over tasks, writes elsewhere done by task 0."""

    def __init__(self, fn: Function, module: Module):
        self.fn = fn
        self.dirty = False  # memory written since the last __sync_all
        # arrays declared outside the parallel loops: each task has its own copy and sets it up itself
        # (and any other object that is not a pointer into memory)
        self.private = _array_ranks(_host_level(fn.body))
        self.pointers = {p.name for p in fn.params if isinstance(p.type, PointerType)} | {
            n.name for n in walk(fn.body) if isinstance(n, Decl) and isinstance(n.type, PointerType)}
        self.reading_helpers, self.writing_helpers = _memory_helpers(module), _memory_helpers(module, writing=True)

    def run(self, stmts: tuple[Stmt, ...]) -> Block:
        return Block(tuple(self.block(stmts)))

    def block(self, stmts: tuple[Stmt, ...]) -> list[Stmt]:
        return _with_runs(stmts, self.task0_run, self.stmt, self.on_task0)

    def on_task0(self, stmts: tuple[Stmt, ...]) -> list[Stmt]:
        run = Block(tuple(_serialize_inner(x) for x in stmts))
        out = self.sync_before(run) + [If(BinOp("==", BuiltinVar("taskId"), Const(0, DType.int32)), run)]
        self.dirty = True
        return out

    def outer_scalars(self, s: Stmt) -> set[str]:
        """Variables declared before `s` that it sets (its own task's copies)."""
        return (_assigned_vars(s) | {_root(t) for t in store_targets(s)} & self.private.keys()) - _declared(s)

    def task0_run(self, stmts: tuple[Stmt, ...], start: int) -> int | None:
        """The end of a run of statements task 0 makes alone, from stmts[start] on, when that statement writes
        memory and sets variables of this block (a serial scan's running sum, then `last[0] = run;`): every later
        statement of the block that uses what the run sets joins it, so no task needs values only task 0 has."""
        first = stmts[start]
        if not self.writes(first) or _has_parallel(first) or isinstance(first, Decl):
            return None
        live = self.outer_scalars(first)
        declared_here = {x.name for x in stmts[:start] if isinstance(x, Decl)}
        if not live or not live <= declared_here:
            return None  # nothing to carry, or a variable of an enclosing block (used who knows where after it)
        end = start + 1
        for k in range(start + 1, len(stmts)):
            if (_used(stmts[k]) | _assigned_vars(stmts[k])) & live:
                end = k + 1
                live |= self.outer_scalars(stmts[k]) | _declared(stmts[k])
        run = stmts[start:end]
        set_in_run = {name for x in run for name in self.outer_scalars(x) | _declared(x)}
        if any(_has_parallel(x) or any(isinstance(n, Return) for n in walk(x)) for x in run) or any(
                _used(x) & set_in_run for x in stmts[end:]):
            return None  # a statement between them sets what later statements (on every task) need
        return end

    def writes(self, s: Stmt) -> bool:
        return _writes_memory(s, self.private) or _passes_pointer_to(s, self.writing_helpers, self.pointers)

    def sync_before(self, s: Stmt) -> list[Stmt]:
        if self.dirty and (_touches_memory(s, self.private)
                           or _passes_pointer_to(s, self.reading_helpers, self.pointers)):
            self.dirty = False
            return [Barrier(BarrierKind.sync_all)]
        return []

    def stmt(self, s: Stmt) -> list[Stmt]:
        if any(isinstance(n, Call) and n.name in _SCRATCH_CALLS for n in walk(s)):
            allocated = sorted({n.name if isinstance(n, Decl) else _root(n.target) for n in walk(s)
                                if isinstance(n, Decl) and _malloc_size(n.init) is not None
                                or isinstance(n, Assign) and _malloc_size(n.value) is not None})
            what = f"scratch buffer {', '.join(allocated)} sized at run time" if allocated else \
                "a scratch buffer or memcpy/memset"
            raise PassRefused("XP521", f"bind: {self.fn.name} uses {what}, "
                                       "which BANG device code cannot allocate or call",
                              hint="BANG kernels get all GDRAM from the host; pass the buffer as a parameter")
        if isinstance(s, For) and s.kind == ForKind.parallel:
            out = self.sync_before(s) + [self.split(s)]
            self.dirty = self.dirty or _writes_memory(s, self.private)
            return out
        if _is_container(s) and _has_parallel(s):
            return self.container(s)
        out = self.sync_before(s)
        if not self.writes(s):
            return out + [s]  # every task computes the same private values
        outer_scalars = self.outer_scalars(s)
        if any(isinstance(n, Return) for n in walk(s)):
            raise PassRefused("XP522", f"bind: {self.fn.name} returns from code that writes memory outside the "
                                       "parallel loops (task 0 would leave the others waiting at __sync_all)")
        if outer_scalars or isinstance(s, Decl):
            raise PassRefused("XP522", f"bind: a statement of {self.fn.name} outside any parallel loop writes memory "
                                       f"and the variables {', '.join(sorted(outer_scalars)) or s.name} every task needs",
                              hint="make the loop parallel, or compute the values in a separate statement")
        self.dirty = True
        return out + [If(BinOp("==", BuiltinVar("taskId"), Const(0, DType.int32)), Block((_serialize_inner(s),)))]

    def container(self, s: Stmt) -> list[Stmt]:
        """A serial loop, if or block around parallel loops: every task runs its (uniform) control flow."""
        if isinstance(s, Block):
            return [Block(tuple(self.block(s.body)))]
        header_reads = _touches_memory(s.cond, self.private) if isinstance(s, (If, While)) and s.cond is not None \
            else False
        out = self.sync_before(Block((ExprStmt(s.cond),))) if header_reads else []
        if isinstance(s, If):
            entry_dirty = self.dirty
            then = Block(tuple(self.block(s.then.body)))
            then_dirty, self.dirty = self.dirty, entry_dirty
            otherwise = Block(tuple(self.block(s.otherwise.body))) if s.otherwise is not None else None
            self.dirty = self.dirty or then_dirty
            return out + [dataclasses.replace(s, then=then, otherwise=otherwise)]
        if self.dirty:  # the body's first statement may be reached from before the loop or from its last one
            out.append(Barrier(BarrierKind.sync_all))
            self.dirty = False
        body = self.block(s.body.body)
        if self.dirty:
            body.append(Barrier(BarrierKind.sync_all))
            self.dirty = False
        loop = dataclasses.replace(s, body=Block(tuple(body)))
        return out + [_serial(loop) if isinstance(loop, For) else loop]

    def split(self, loop: For) -> For:
        shape = _canonical(loop)
        assert shape is not None  # checked by _check_loop_form
        step = Const(shape.step, DType.int32)
        first = BinOp("*", BuiltinVar("taskId"), step) if shape.step != 1 else BuiltinVar("taskId")
        start = first if _is_zero(shape.start) else BinOp("+", shape.start, first)
        stride = BinOp("*", BuiltinVar("taskDim"), step) if shape.step != 1 else BuiltinVar("taskDim")
        return dataclasses.replace(
            loop, init=(dataclasses.replace(loop.init[0], init=start),),
            step=Assign(Var(shape.var), stride, "+"), body=_serialize_inner(loop.body), kind=ForKind.serial,
            axis=None, pragmas=_kept_pragmas(loop))


# ------------------------------------------------------------------------------------------------ cuda / hip --

_RUNTIME = {
    "cuda": {"malloc": "cudaMalloc", "free": "cudaFree", "memcpy": "cudaMemcpy", "memset": "cudaMemset",
             "h2d": "cudaMemcpyHostToDevice", "d2h": "cudaMemcpyDeviceToHost", "any": "cudaMemcpyDefault"},
    "hip": {"malloc": "hipMalloc", "free": "hipFree", "memcpy": "hipMemcpy", "memset": "hipMemset",
            "h2d": "hipMemcpyHostToDevice", "d2h": "hipMemcpyDeviceToHost", "any": "hipMemcpyDefault"},
}


def _bind_simt(module: Module, entries: set[str], target: str, options: BindOptions) -> Module:
    from kernel_ir.extents import infer_extents

    def helper(fn: Function) -> Function:  # callable from kernels and from the launcher
        if fn.body is None or fn.name in entries:
            return fn
        return dataclasses.replace(fn, qualifiers=fn.qualifiers | {FuncQual.host, FuncQual.device},
                                   body=_serialize_inner(fn.body))

    items: list = []
    for item in _without_builtin_vectors(module.map_functions(helper), target).items:
        if isinstance(item, Function) and item.body is not None and item.name in entries:
            extents = infer_extents(module, item.name)
            binder = _SimtLauncher(module, item, target, options, extents)
            host_and_launcher = binder.run()
            items += binder.kernels + host_and_launcher
        else:
            items.append(item)
    items = [_device_std(item) if isinstance(item, Function) else item for item in items]
    items = _device_tables(items, module)
    if any(isinstance(n, Call) and n.name == FLOOR_DIV for item in items for n in walk(item)):
        first_function = next(i for i, item in enumerate(items) if isinstance(item, Function))
        items.insert(first_function, _floor_div_helper())
    called = {n.name for item in items for n in walk(item) if isinstance(n, Call)}
    helpers = [source for name, _, source in _DEVICE_STD.values() if name in called]
    if helpers:
        first_function = next(i for i, item in enumerate(items) if isinstance(item, Function))
        items.insert(first_function, Verbatim("\n".join(helpers)))
    includes = _target_includes(module, target) + ("<algorithm>",)  # std::min/max in buffer sizes
    macros = tuple(m for m in module.macros if m not in GPU_SPELLINGS_ERASED)
    bound = dataclasses.replace(module, dialect=target, includes=tuple(dict.fromkeys(includes)), macros=macros,
                                items=tuple(items))
    return _drop_spellings(bound)


_HD = "template <typename T> static __host__ __device__ inline"
_DEVICE_STD = {  # std function -> (device helper, arguments, its definition): the std ones are host functions to
    # nvcc and hipcc; these have their exact meaning (min/max: `b < a ? b : a`, one type, each argument once)
    "std::min": ("xp_min", 2, f"{_HD} T xp_min(T a, T b) {{ return b < a ? b : a; }}"),
    "std::max": ("xp_max", 2, f"{_HD} T xp_max(T a, T b) {{ return a < b ? b : a; }}"),
    "std::copy_n": ("xp_copy_n", 3, "template <typename S, typename N, typename D> static __host__ __device__ inline "
                                    "D xp_copy_n(S s, N n, D d) { for (N i = 0; i < n; ++i) *d++ = *s++; return d; }"),
    "std::copy": ("xp_copy", 3, "template <typename S, typename D> static __host__ __device__ inline "
                                "D xp_copy(S s, S e, D d) { while (s != e) *d++ = *s++; return d; }"),
    "std::fill_n": ("xp_fill_n", 3, "template <typename D, typename N, typename V> static __host__ __device__ inline "
                                    "D xp_fill_n(D d, N n, const V& v) { for (N i = 0; i < n; ++i) *d++ = v; return d; }"),
    "std::fill": ("xp_fill", 3, "template <typename D, typename V> static __host__ __device__ inline "
                                "void xp_fill(D d, D e, const V& v) { while (d != e) *d++ = v; }"),
}


def _const_table(g: GlobalVar) -> bool:
    """An initialized array of const elements: what an initialized `__constant__` table is in the loop form."""
    element = g.type
    while isinstance(element, ArrayType):
        element = element.element
    return isinstance(g.type, ArrayType) and g.init is not None and isinstance(element, ScalarType) and element.const


def _table_read_indices(node: Node, tables: frozenset[str]) -> Node | None:
    """`table[i][j]` of a const table as a call of its indices (what `_touches_memory` then sees): reading the
    host's own table is no device access, while its indices may be."""
    indices, base = [], node
    while isinstance(base, Index):
        indices.append(base.index)
        base = base.base
    if indices and isinstance(base, Var) and base.name in tables:
        return Call("table_read", tuple(reversed(indices)))
    return None


def _device_tables(items: list, module: Module) -> list:
    """The const tables device code reads (kernels, __device__ helpers) as `__constant__` data, which the kernels
    read directly; a host global cannot be read there. A table the host code reads too would need two copies."""
    tables = {g.name for g in module.globals if _const_table(g)}
    functions = [item for item in items if isinstance(item, Function) and item.body is not None]
    device = tables & {name for f in functions if f.qualifiers & {FuncQual.global_, FuncQual.device}
                       for name in _used(f.body)}
    host = device & {name for f in functions if not f.qualifiers & {FuncQual.global_, FuncQual.device}
                     for name in _used(f.body)}
    if host:
        raise PassRefused("XP523", f"bind: const tables {', '.join(sorted(host))} are read by both host code and "
                                   "kernels", hint="read the table only in parallel loops")
    return [_in_constant_memory(item, device) for item in items]


def _in_constant_memory(node: Node, tables: set[str]) -> Node:
    """`node` with the globals `tables` in the target's constant memory (`__constant__`, `__mlu_const__`)."""
    return transform(node, lambda n: dataclasses.replace(n, scope=MemScope.constant)
                     if isinstance(n, GlobalVar) and n.name in tables else None)


def _device_std(fn: Function) -> Function:
    """Calls of the std functions above in code a kernel runs, as their device helpers."""
    if not fn.qualifiers & {FuncQual.global_, FuncQual.device} or fn.body is None:
        return fn
    return transform(fn, lambda n: dataclasses.replace(n, name=_DEVICE_STD[n.name][0])
                     if isinstance(n, Call) and n.name in _DEVICE_STD and len(n.args) == _DEVICE_STD[n.name][1]
                     else None)


class _SimtLauncher:
    """Builds the host launcher of one entry and collects the kernels it launches."""

    def __init__(self, module: Module, fn: Function, target: str, options: BindOptions, extents: dict):
        self.module, self.fn, self.target, self.options, self.extents = module, fn, target, options, extents
        self.api = _RUNTIME[target]
        self.kernels: list[Function] = []
        self.scope: dict[str, Type] = {p.name: p.type for p in fn.params}  # host variables, in declaration order
        self.taken = {f.name for f in module.functions} | _used(fn) | _declared(fn) | {p.name for p in fn.params}
        self.globals = {g.name for g in module.globals}
        # compile-time constants are usable in device code; other host globals are not
        # (and so are initialized tables of const elements: _bind_simt makes the ones kernels read device constants)
        self.tables = frozenset(g.name for g in module.globals if _const_table(g))
        self.host_globals = {g.name for g in module.globals if g.name not in self.tables and not (
            g.init is not None and (VarQual.constexpr in g.qualifiers or getattr(g.type, "const", False)))}
        self.constants: dict[str, int] = {}  # host `const` integers known at translation time
        # a variable assigned after its declaration varies (also through its address), and one declared twice
        # is two variables
        declarations = Counter(n.name for n in walk(fn.body) if isinstance(n, Decl))
        addressed = {n.operand.name for n in walk(fn.body)
                     if isinstance(n, UnaryOp) and n.op == "&" and isinstance(n.operand, Var)}
        self.reassigned = frozenset(_assigned_vars(fn.body)) | addressed | {
            name for name, k in declarations.items() if k > 1}
        for g in module.globals:  # constexpr / const int globals first: host constants may be made of them
            if g.name not in self.host_globals and isinstance(g.type, ScalarType):
                value = _constant_int(Decl(g.name, dataclasses.replace(g.type, const=True), g.init), self.constants)
                if value is not None:
                    self.constants[g.name] = value
        self.structs = {m.group(1) for item in module.items if isinstance(item, Verbatim)
                        for m in [_STRUCT_NAME.match(item.text)] if m}
        # host arrays (constants the loop form hoisted, e.g. a vector of zeros) -> the statements that set them,
        # in order: a kernel that reads one recomputes it, since arrays cannot be kernel arguments
        self.host_arrays: dict[str, list[Stmt]] = {}
        self.shared_arrays = _shared_arrays(fn.body)
        self.scratch: list[str] = []  # device buffers made from shared arrays, freed at the end
        self.memory_helpers = _memory_helpers(module)
        self.probes: list[Function] = []  # host functions measuring buffers (bind_probe)

    def fresh(self, base: str) -> str:
        name, n = base, 1
        while name in self.taken:
            n += 1
            name = f"{base}{n}"
        self.taken.add(name)
        return name

    def run(self) -> list[Function]:
        """[the host code on device data, the launcher]: the launcher copies every buffer to the device, calls
        the host code with the device pointers (so its own returns and copies keep their meaning) and copies
        the writable buffers back."""
        _check_returns(self.fn)
        body = self.block(self.fn.body.body) + [self.call("free", Var(name)) for name in self.scratch]
        host = Function(self.fresh(f"{self.fn.name}_on_device"), ScalarType(DType.void), self.fn.params,
                         Block(tuple(body)), frozenset({FuncQual.static}))
        pointers = [p for p in self.fn.params if isinstance(p.type, PointerType)]
        device = {p.name: self.fresh(f"d_{p.name}") for p in pointers}
        setup, teardown = [], []
        for p in pointers:
            d, pointee = device[p.name], dataclasses.replace(p.type.pointee, const=False)
            size = Var(self.fresh(f"{p.name}_bytes"))
            setup += [Decl(size.name, _SIZE_T, self.bytes_of(p)), Decl(d, PointerType(pointee), Const(None, DType.void)),
                      self.call("malloc", Cast(_VOID_PTR_PTR, UnaryOp("&", Var(d))), size),
                      self.call("memcpy", Var(d), Var(p.name), size, Var(self.api["h2d"]))]
            if not getattr(p.type.pointee, "const", False):
                teardown.append(self.call("memcpy", Var(p.name), Var(d), size, Var(self.api["d2h"])))
        teardown += [self.call("free", Var(device[p.name])) for p in pointers]
        run = ExprStmt(Call(host.name, tuple(Var(device.get(p.name, p.name)) for p in self.fn.params)))
        launcher = dataclasses.replace(self.fn, body=Block(tuple(setup + [run] + teardown)),
                                       qualifiers=self.fn.qualifiers | {FuncQual.extern_c})
        return ([touch_helper()] if self.probes else []) + self.probes + [host, launcher]

    def call(self, what: str, *args: Expr) -> ExprStmt:
        return ExprStmt(Call(self.api[what], tuple(args)))

    def bytes_of(self, p: Param) -> Expr:
        """The bytes of p's device copy: the smaller of the counts we can write in C (the source's, from
        BindOptions.buffer_elements, and the loop form's extent), each of which bounds the accesses. A count
        known to reach past what the kernel touches (Extent.overcount) is never copied from the caller alone."""
        extent = self.extents.get(p.name)
        counts = [(c, known) for c, known in ((dict(self.options.buffer_elements).get(p.name), True),
                                              (extent.elements if extent is not None else None, False))
                  if c is not None]
        if len(counts) > 1 and any(c == 0 for c, _ in counts):
            # "never touched" in the loop form can mean "reached another way"
            counts = [(c, known) for c, known in counts if c != 0]
        written, unwritten, measured = [], [], None
        for count, known in counts:
            try:
                written.append((_size_to_expr(count, p.name), known))
            except PassRefused as refusal:
                unwritten.append(refusal.message.removeprefix("bind: "))
        overcount_only = extent is not None and extent.overcount and not any(known for _, known in written)
        if not written or overcount_only:
            # no formula, or only one reaching past what the kernel touches (copying it would read past the
            # caller's array): the launcher measures the extent by running the index arithmetic (bind_probe)
            measured = self.measured_count(p)
        if not written and measured is None:
            reason = extent.reason if extent is not None and extent.reason else \
                (unwritten[0] if unwritten else "its size has no C form")
            raise PassRefused("XP524", f"bind: cannot size the device copy of {p.name!r}: {reason}",
                              hint="index the buffer with expressions of the size parameters")
        if overcount_only and measured is None:
            raise PassRefused("XP524", f"bind: cannot size the device copy of {p.name!r}: its size is only bounded, "
                                       f"not known ({extent.overcount})",
                              hint="write the kernel with explicit sizes (masks of (1 << n) - 1 lanes, indices in the "
                                   "size parameters), or give it a host launcher that copies the buffers")
        count = measured
        if count is None:
            # the smaller of the bounds, even beside an extent marked exact: each bound is sound on its own, and the
            # source's own size is the truth about the caller's array (an exactness flag can be wrong, a minimum not)
            written = [count for count, _ in written]
            count = written[0] if len(written) == 1 else Call("std::min", tuple(written), (_LONG,))
        pointee = p.type.pointee
        element = dataclasses.replace(pointee, const=False) if hasattr(pointee, "const") else pointee
        count = Call("std::max", (count, Const(0, DType.int64)), (_LONG,))
        return BinOp("*", Cast(_SIZE_T, count), SizeOf(element))

    def measured_count(self, p: Param) -> Expr | None:
        """A call of a host function measuring how many elements of p the entry touches (None: not measurable
        without values only the kernels produce)."""
        probe = extent_probe(self.fn, self.module, p.name, self.fresh(f"{self.fn.name}_extent_of_{p.name}"))
        if probe is None:
            return None
        self.probes.append(probe)
        return Call(probe.name, tuple(Var(q.name) for q in self.fn.params))

    # -- host statements --
    def block(self, stmts: tuple[Stmt, ...]) -> list[Stmt]:
        return _with_runs(stmts, self.device_scalar_run, self.stmt, lambda run: self.launch(
            self.kernel(_serialize_inner(Block(run))), Const(1, DType.int32), Const(1, DType.int32)))

    def device_scalar_run(self, stmts: tuple[Stmt, ...], start: int) -> int | None:
        """The end of the statements from `stmts[start]` on that run as one one-thread kernel, or None: when a
        host variable declared there is assigned by a later statement that touches device memory (a serial
        reduction `s += a[i]` that OpenMP split), the host cannot hold it, so the declaration, that statement
        and every later one of the block using a variable the run declares become one kernel with the variables
        inside. Only code run once qualifies (no parallel loops, allocations, copies, returns or stores to the
        host's arrays, which the kernel would only change in its own copy)."""
        first = stmts[start]
        if not isinstance(first, Decl) or first.name in self.shared_arrays or _malloc_size(first.init) is not None \
                or not any(first.name in _assigned_vars(s) and self.touches_device(s) for s in stmts[start + 1:]):
            return None
        end = start + 1
        while True:
            declared = _declared(Block(stmts[start:end]))
            last = max((k for k in range(end, len(stmts)) if _used(stmts[k]) & declared), default=end - 1)
            if last < end:
                break
            end = last + 1
        run = Block(stmts[start:end])
        host_arrays_written = {_root(t) for t in store_targets(run)} & set(self.host_arrays) - _declared(run)
        if _has_parallel(run) or host_arrays_written or any(
                isinstance(n, Return) or isinstance(n, Call) and n.name in _SCRATCH_CALLS for n in walk(run)):
            return None
        return end

    def stmt(self, s: Stmt) -> list[Stmt]:
        if isinstance(s, For) and s.kind == ForKind.parallel:
            return self.parallel_kernel(s)
        if isinstance(s, Decl) and s.name in self.shared_arrays:
            if s.init is not None:
                raise PassRefused("XP523", f"bind: array {s.name!r} of {self.fn.name} is initialized on the host "
                                           "but written by parallel code")
            self.scope[s.name] = PointerType(s.type.element)
            self.scratch.append(s.name)
            return [Decl(s.name, PointerType(s.type.element), Const(None, DType.void)),
                    self.call("malloc", Cast(_VOID_PTR_PTR, UnaryOp("&", Var(s.name))), SizeOf(s.type))]
        if isinstance(s, Decl) and _malloc_size(s.init) is not None:
            self.scope[s.name] = s.type
            return [Decl(s.name, s.type, Const(None, DType.void)),
                    self.call("malloc", Cast(_VOID_PTR_PTR, UnaryOp("&", Var(s.name))), _malloc_size(s.init))]
        if isinstance(s, Assign) and s.op == "" and isinstance(s.target, Var) and _malloc_size(s.value) is not None:
            return [self.call("malloc", Cast(_VOID_PTR_PTR, UnaryOp("&", s.target)), _malloc_size(s.value))]
        name = _call_name(s)
        if name == "free":
            return [self.call("free", *s.expr.args)]
        if name == "memset":
            return [self.call("memset", *s.expr.args)]
        if name == "memcpy":
            # either side may be a host array of the launcher or device memory: the runtime tells them apart
            return [self.call("memcpy", *s.expr.args, Var(self.api["any"]))]
        if _is_container(s) and (_has_parallel(s) or any(isinstance(n, Call) and n.name in _SCRATCH_CALLS
                                                          for n in walk(s))):
            return [self.container(s)]
        if not self.touches_device(s):
            if isinstance(s, Decl):
                self.scope[s.name] = s.type
                value = _constant_int(s, self.constants, self.reassigned)
                if value is not None:
                    self.constants[s.name] = value
            if isinstance(s, Decl) and isinstance(s.type, ArrayType):
                self.host_arrays[s.name] = [s]
            for name in {_root(t) for t in store_targets(s)} & set(self.host_arrays) - _declared(s):
                self.host_arrays[name].append(s)
            return [s]
        if isinstance(s, Decl):
            raise PassRefused("XP522", f"bind: host variable {s.name!r} of {self.fn.name} is read from device memory",
                              hint="compute it inside the parallel loop that needs it")
        if any(isinstance(n, Return) for n in walk(s)):
            raise PassRefused("XP522", f"bind: {self.fn.name} returns depending on device memory")
        return self.launch(self.kernel(_serialize_inner(s)), Const(1, DType.int32), Const(1, DType.int32))

    def touches_device(self, node: Node) -> bool:
        """Whether host code `node` reads or writes device memory (itself, or through a helper it passes a pointer)."""
        pointers = {name for name, t in self.scope.items() if isinstance(t, PointerType)}
        node = transform(node, lambda n: _table_read_indices(n, self.tables), top_down=True)
        return _touches_memory(node, _array_ranks(stmts[0] for stmts in self.host_arrays.values())) \
            or _passes_pointer_to(node, self.memory_helpers, pointers)

    def container(self, s: Stmt) -> Stmt:
        header = [e for e in (getattr(s, "cond", None),) if e is not None]
        if isinstance(s, For):
            header += list(s.init) + ([s.step] if s.step is not None else [])
        if any(self.touches_device(h) for h in header):
            raise PassRefused("XP522", f"bind: control flow around kernels in {self.fn.name} reads device memory")
        if isinstance(s, Block):
            return Block(tuple(self.block(s.body)))
        if isinstance(s, If):
            return dataclasses.replace(s, then=Block(tuple(self.block(s.then.body))),
                                       otherwise=Block(tuple(self.block(s.otherwise.body))) if s.otherwise else None)
        saved = dict(self.scope)
        for d in getattr(s, "init", ()):
            if isinstance(d, Decl):
                self.scope[d.name] = d.type
        body = Block(tuple(self.block(s.body.body)))
        self.scope = saved
        result = dataclasses.replace(s, body=body)
        return _serial(result) if isinstance(result, For) else result

    # -- kernels --
    def parallel_kernel(self, loop: For) -> list[Stmt]:
        blocked = block_kernel(loop, _canonical, self.constant_value)
        if blocked is not None and not any(_touches_memory(ExprStmt(c)) for c in blocked.grid.values()):
            return self.block_launch(blocked)
        chain = [loop]
        while len(chain[-1].body.body) == 1:
            inner = chain[-1].body.body[0]
            shape = _canonical(inner) if isinstance(inner, For) and inner.kind == ForKind.parallel else None
            outer_vars = {_canonical(c).var for c in chain}
            if shape is None or (_used(shape.start) | _used(shape.end)) & outer_vars:
                break
            chain.append(inner)
        shapes = [_canonical(c) for c in chain]
        counts = [s.count() for s in shapes]
        if any(self.touches_device(ExprStmt(c)) for c in counts):  # the grid must be known on the host
            return self.launch(self.kernel(_serialize_inner(loop)), Const(1, DType.int32), Const(1, DType.int32))
        body = _continue_to_return(chain[-1].body, self.fn.name)
        if len(shapes) == 1 and _is_zero(shapes[0].start) and shapes[0].step == 1:
            flat, total = shapes[0].var, counts[0]  # the thread index is the loop variable itself
            prologue = [Decl(flat, shapes[0].type, _thread_index(wide=False))]
        else:  # innermost loop varies fastest, so neighbouring threads touch neighbouring elements
            zero = Const(0, DType.int32)  # an empty loop empties the nest (two negative counts must not multiply)
            counts = [c if _is_positive_literal(c) else Select(BinOp(">", c, zero), c, zero) for c in counts]
            flat, total = self.fresh("flat"), _product([Cast(_LONG, counts[0])] + counts[1:])
            prologue = [Decl(flat, _LONG, _thread_index(wide=True))]
            stride: Expr | None = None
            for shape, count in reversed(list(zip(shapes, counts))):
                position = Var(flat) if stride is None else BinOp("/", Var(flat), stride)
                if shape is not shapes[0]:
                    position = BinOp("%", position, count)
                prologue.insert(1, Decl(shape.var, shape.type, shape.value_at(Cast(shape.type, position))))
                stride = count if stride is None else BinOp("*", stride, count)
        guard = If(BinOp("<", Var(flat), total), Block(tuple(prologue[1:]) + body.body))
        kernel = self.kernel(Block((prologue[0], guard)))
        threads = self.fresh(f"{kernel.name}_threads")  # one per iteration; a named value keeps the launch simple
        block = self.options.block_size
        grid = BinOp("/", BinOp("+", Var(threads), Const(block - 1, DType.int32)), Const(block, DType.int32))
        launch = self.launch(kernel, Cast(NamedType("unsigned int"), grid), Const(block, DType.int32))
        return [Decl(threads, _LONG, total), If(BinOp(">", Var(threads), Const(0, DType.int32)), Block(tuple(launch)))]

    def constant_value(self, e: Expr) -> int | None:
        """The value of an int expression of literals and host constants known here, else None."""
        return _constant_int(Decl("_", ScalarType(DType.int32, const=True), e), self.constants)

    def block_launch(self, blocked: BlockKernel) -> list[Stmt]:
        """A thread-block kernel (passes.bind_blocks) launched over its grid, skipped when the grid is empty."""
        kernel = self.kernel(blocked.body)
        dim3, unsigned = NamedType("dim3"), NamedType("unsigned int")
        one = Const(1, DType.int32)
        grid = tuple(Cast(unsigned, blocked.grid[a]) if a in blocked.grid else one for a in ("x", "y", "z"))
        block = tuple(Const(blocked.threads.get(a, 1), DType.int32) for a in ("x", "y", "z"))
        shared = None if blocked.shared_bytes is None else Cast(_SIZE_T, blocked.shared_bytes)
        launch = KernelLaunch(kernel.name, LaunchConfig(Construct(dim3, grid), Construct(dim3, block), shared),
                              tuple(Var(p.name) for p in kernel.params))
        runs = [BinOp(">", count, Const(0, DType.int32)) for count in blocked.grid.values()]
        return [If(_conjunction(runs), Block((launch,)))]

    def kernel(self, body: Stmt) -> Function:
        body = body if isinstance(body, Block) else Block((body,))
        # constants become literals: array sizes stay static (device code has no variable-length arrays)
        known = {name: value for name, value in self.constants.items() if name not in _declared(body)}
        body = transform(body, lambda n: Const(known[n.name], DType.int32)
                         if isinstance(n, Var) and n.name in known else None)
        for decl in (n for n in walk(body) if isinstance(n, Decl) and isinstance(n.type, ArrayType)):
            if decl.type.size is not None and not isinstance(decl.type.size, Const):
                raise PassRefused("XP525", f"bind: kernel code of {self.fn.name} needs array {decl.name!r} sized at "
                                           "run time, and device code has no variable-length arrays",
                                  hint="make its size (often the source's block size) a compile-time constant")
        host_globals = sorted(_used(body) & self.host_globals)
        if host_globals:
            raise PassRefused("XP523", f"bind: kernel code of {self.fn.name} uses host globals "
                                       f"{', '.join(host_globals)}", hint="pass the data as a buffer parameter")
        needed = [name for name in self.host_arrays if name in _used(body) - _declared(body)]
        if needed:
            setters = list({id(s): s for name in needed for s in self.host_arrays[name]}.values())
            body = Block(tuple(setters) + body.body)  # arrays in declaration order, each set as the host did
        # a qualified name (MaxOp::identity) is a member of a namespace or class, never a host local
        free = {name for name in _used(body) - _declared(body) - self.globals if "::" not in name}
        unknown = free - set(self.scope)
        if unknown:
            raise PassRefused("XP523", f"bind: kernel code of {self.fn.name} uses {', '.join(sorted(unknown))}, "
                                       "which the host does not have")
        written = _assigned_vars(body) & free
        if written:
            raise PassRefused("XP523", f"bind: kernel code of {self.fn.name} assigns host variables "
                                       f"{', '.join(sorted(written))}",
                              hint="parallel iterations must not write shared scalars; use an array of partials")
        params = []
        for name, type_ in self.scope.items():
            if name in free:
                if not _passable(type_) and not (isinstance(type_, NamedType) and type_.name in self.structs):
                    raise PassRefused("XP523", f"bind: kernel code of {self.fn.name} uses host variable {name!r} "
                                               "whose type a kernel cannot take by value",
                                      hint="kernels take scalars, short vectors and pointers to them")
                params.append(Param(name, type_))
        kernel = Function(self.fresh(f"{self.fn.name}_kernel"), ScalarType(DType.void), tuple(params), body,
                          frozenset({FuncQual.global_}))
        self.kernels.append(kernel)
        return kernel

    def launch(self, kernel: Function, grid: Expr, block: Expr) -> list[Stmt]:
        dim3 = NamedType("dim3")
        config = LaunchConfig(Construct(dim3, (grid,)), Construct(dim3, (block,)))
        return [KernelLaunch(kernel.name, config, tuple(Var(p.name) for p in kernel.params))]


_STRUCT_NAME = re.compile(r"^\s*struct\s+(?:alignas\s*\(\s*\d+\s*\)\s+)?(\w+)\s*\{")


def _without_builtin_vectors(module: Module, target: str) -> Module:
    """The loop form spells CUDA-style short vectors (float4, make_float4) as its own struct and helper; the
    target already has them (same fields and alignment), and a second definition would not compile."""
    printer = get_printer(target, "cpp")
    builtin = {f"{prefix}{lanes}" for prefix in printer.vector_prefixes.values() for lanes in (1, 2, 3, 4)}

    def keep(item: Node) -> bool:
        if isinstance(item, Verbatim):
            match = _STRUCT_NAME.match(item.text)
            return not (match and match.group(1) in builtin)
        if isinstance(item, Function):
            return not (item.name.startswith("make_") and item.name[len("make_"):] in builtin)
        return True

    return dataclasses.replace(module, items=tuple(item for item in module.items if keep(item)))


def _passable(t: Type) -> bool:
    """Types a kernel parameter can have: scalars, short vectors, pointers to them (or to arrays of them)."""
    if isinstance(t, PointerType):
        pointee = t.pointee
        while isinstance(pointee, ArrayType):
            pointee = pointee.element
        return isinstance(pointee, (ScalarType, VectorType))
    return isinstance(t, (ScalarType, VectorType))


def _constant_int(decl: Decl, known: dict[str, int], assigned: frozenset[str] = frozenset()) -> int | None:
    """The value of `[const] int name = <integer expression of literals and known constants>` when the variable
    is const or never assigned again (not in `assigned`), else None."""
    t = decl.type
    if not (isinstance(t, ScalarType) and t.dtype.is_int and t.dtype.bits in (32, 64)) or decl.init is None \
            or not (t.const or decl.name not in assigned):
        return None

    def value(e: Expr) -> int | None:
        if isinstance(e, Const) and isinstance(e.value, int) and not isinstance(e.value, bool):
            return e.value
        if isinstance(e, Var):
            return known.get(e.name)
        if isinstance(e, Cast) and isinstance(e.type, ScalarType) and e.type.dtype in (DType.int32, DType.int64):
            return value(e.expr)
        if isinstance(e, BinOp) and e.op in ("+", "-", "*", "/", "%"):
            a, b = value(e.lhs), value(e.rhs)
            if a is None or b is None or e.op in ("/", "%") and b == 0:
                return None
            if e.op in ("/", "%"):  # C truncates toward zero
                q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)
                return q if e.op == "/" else a - b * q
            return a + b if e.op == "+" else a - b if e.op == "-" else a * b
        return None

    result = value(decl.init)
    return result if result is not None and -2**31 <= result < 2**31 else None


def _thread_index(wide: bool) -> Expr:
    """`blockIdx.x * blockDim.x + threadIdx.x`, in long long when it numbers the iterations of several loops."""
    block = BuiltinVar("blockIdx", "x")
    return BinOp("+", BinOp("*", Cast(_LONG, block) if wide else block, BuiltinVar("blockDim", "x")),
                 BuiltinVar("threadIdx", "x"))


def _conjunction(tests: list[Expr]) -> Expr:
    result = tests[0]
    for test in tests[1:]:
        result = BinOp("&&", result, test)
    return result


def _product(exprs: list[Expr]) -> Expr:
    result = exprs[0]
    for e in exprs[1:]:
        result = BinOp("*", result, e)
    return result


def _continue_to_return(body: Block, fn_name: str) -> Block:
    """A `continue` of the bound loop ends the thread's only iteration: it becomes `return`."""
    def visit(s: Stmt) -> Stmt:
        if isinstance(s, Continue):
            return Return()
        if isinstance(s, Break):
            raise PassRefused("XP520", f"bind: a parallel loop of {fn_name} breaks; parallel iterations are independent")
        if isinstance(s, If):
            return dataclasses.replace(s, then=Block(tuple(visit(x) for x in s.then.body)),
                                       otherwise=Block(tuple(visit(x) for x in s.otherwise.body)) if s.otherwise else None)
        if isinstance(s, Block):
            return Block(tuple(visit(x) for x in s.body))
        return s  # loops own the continues and breaks inside them

    return Block(tuple(visit(s) for s in body.body))


FLOOR_DIV = "xp_floor_div"
_FLOOR_DIV_SOURCE = f"""static inline long long {FLOOR_DIV}(long long a, long long b) {{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}}
"""


def _floor_div_helper() -> Function:
    """Floor division for buffer sizes whose numerator may be negative (C's `/` truncates toward zero)."""
    from kernel_ir.parse import parse

    return parse(_FLOOR_DIV_SOURCE, "cpp").function(FLOOR_DIV)


def _size_to_expr(count: sp.Expr, what: str) -> Expr:
    """The C form of an element count, 0 where a divisor in it is zero: SymPy's count is undefined there (zoo),
    and such divisors are trip counts of loops (tiles per row, ...) that then run no iteration."""
    if _too_large(sp.preorder_traversal(count)):
        raise PassRefused("XP524", f"bind: the size of {what!r} is too large an expression to write in C")
    count = count.replace(_is_case_bound, lambda x: x.args[0].expr if len(x.args) == 2 else sp.Max(
        *[piece.expr for piece in x.args[:-1]], evaluate=False))
    result = _sympy_to_expr(count, what)
    if _too_large(walk(result)):  # writing each case of a Piecewise out may multiply it
        raise PassRefused("XP524", f"bind: the size of {what!r} is too large an expression to write in C")
    divisors = sorted({p.base for p in count.atoms(sp.Pow) if p.exp.is_negative and not p.base.is_nonzero}
                      | {m.args[1] for m in count.atoms(sp.Mod) if not m.args[1].is_nonzero}, key=sp.default_sort_key)
    if not divisors:
        return result
    nonzero = [BinOp("!=", _sympy_to_expr(d, what), Const(0, DType.int64)) for d in divisors]
    condition = nonzero[0]
    for more in nonzero[1:]:
        condition = BinOp("&&", condition, more)
    return Select(condition, result, Const(0, DType.int64))


def _floor_inside(numer: sp.Expr, denom: sp.Expr) -> sp.Expr | None:
    """floor(numer / denom) with the floor moved inside a Min, Max or Piecewise numerator (floor is monotone, so
    floor(min(a, b) / q) = min(floor(a / q), floor(b / q)) for q > 0); None when that does not apply."""
    if isinstance(numer, sp.Mul) and len(numer.args) == 2 and numer.args[0] == -1 \
            and isinstance(numer.args[1], (sp.Min, sp.Max)):  # -min(a, b) = max(-a, -b)
        flipped = sp.Max if isinstance(numer.args[1], sp.Min) else sp.Min
        numer = flipped(*[-a for a in numer.args[1].args], evaluate=False)
    if not denom.is_positive:
        return None
    if isinstance(numer, (sp.Min, sp.Max)):
        return numer.func(*[sp.floor(a / denom, evaluate=False) for a in numer.args], evaluate=False)
    if isinstance(numer, sp.Piecewise):
        return sp.Piecewise(*[(sp.floor(piece.expr / denom), piece.cond) for piece in numer.args])
    return None


_SIZE_NODES = 20_000  # a size larger than this (SymPy or C nodes) would swamp the launcher and its compile


def _too_large(nodes) -> bool:  # noqa: ANN001 - any iterator of SymPy or IR nodes
    return any(i > _SIZE_NODES for i, _ in enumerate(nodes))


def _is_case_bound(e: sp.Expr) -> bool:
    """Piecewise((bound, condition), ..., (-oo, True)): the bound of the accesses that happen where their
    conditions hold (-oo: none elsewhere). It only occurs where a larger value gives a larger size, so it is
    written as the largest of its bounds: never smaller, and free of conditions and their fractions."""
    return isinstance(e, sp.Piecewise) and e.args[-1].expr == -sp.oo and len(e.args) > 1


def _fractional_case(e: sp.Expr) -> sp.Piecewise | None:
    """The first Piecewise in e (outside nested floors) with a fraction in a case: floor(e) has no C form
    before that Piecewise is taken out of it."""
    def fractional(x: sp.Expr) -> bool:
        if isinstance(x, (sp.floor, sp.ceiling)):
            return False
        if (x.is_Pow and x.exp.is_negative) or (x.is_Rational and not x.is_Integer):
            return True
        return any(fractional(a) for a in x.args)

    def search(x: sp.Expr) -> sp.Piecewise | None:
        if isinstance(x, (sp.floor, sp.ceiling)):
            return None
        if isinstance(x, sp.Piecewise) and any(fractional(piece.expr) for piece in x.args):
            return x
        return next((found for a in x.args if (found := search(a)) is not None), None)

    return search(e)


_COMPARISONS = {sp.Lt: "<", sp.Le: "<=", sp.Gt: ">", sp.Ge: ">=", sp.Eq: "==", sp.Ne: "!="}


def _condition_to_expr(c: sp.Basic, what: str) -> Expr:
    """A C condition for one case of a Piecewise size."""
    if c == sp.true:
        return Const(1, DType.int32)
    if type(c) in _COMPARISONS:
        return BinOp(_COMPARISONS[type(c)], _sympy_to_expr(c.lhs, what), _sympy_to_expr(c.rhs, what))
    if isinstance(c, (sp.And, sp.Or)):
        parts = [_condition_to_expr(a, what) for a in c.args]
        result = parts[0]
        for part in parts[1:]:
            result = BinOp("&&" if isinstance(c, sp.And) else "||", result, part)
        return result
    if isinstance(c, sp.Not):
        return UnaryOp("!", _condition_to_expr(c.args[0], what))
    if isinstance(c, sp.ITE):  # a Piecewise's condition that depends on another condition
        return Select(*[_condition_to_expr(a, what) for a in c.args])
    if c == sp.false:
        return Const(0, DType.int32)
    raise PassRefused("XP524", f"bind: cannot write the condition {c} in the size of {what!r} in C")


def _sympy_to_expr(e: sp.Expr, what: str) -> Expr:
    """A C expression for an extent, in long long (products of int sizes do not overflow, differences may be
    negative on the way); floors of quotients that may be negative call FLOOR_DIV."""
    if isinstance(e, sp.Integer):
        return Const(int(e), DType.int64)
    if isinstance(e, sp.Symbol):
        return Cast(_LONG, Var(e.name))
    if isinstance(e, sp.Add):
        terms = sorted(e.args, key=lambda t: t.could_extract_minus_sign())
        result = _sympy_to_expr(terms[0], what)
        for t in terms[1:]:
            result = BinOp("-", result, _sympy_to_expr(-t, what)) if t.could_extract_minus_sign() \
                else BinOp("+", result, _sympy_to_expr(t, what))
        return result
    if isinstance(e, sp.Mul):
        if any(isinstance(a, sp.Rational) and not a.is_Integer for a in e.args):
            raise PassRefused("XP524", f"bind: the size of {what!r} ({e}) is not an integer expression")
        if e.args[0] == -1:
            return UnaryOp("-", _sympy_to_expr(-e, what))
        return _product([_sympy_to_expr(a, what) for a in e.args])
    if isinstance(e, sp.Pow) and e.exp.is_Integer and int(e.exp) > 0:
        return _product([_sympy_to_expr(e.base, what)] * int(e.exp))
    if isinstance(e, (sp.floor, sp.ceiling)) and _fractional_case(e.args[0]) is not None:
        # SymPy pushes arithmetic into a Piecewise (1/Piecewise((a, c), (b, True)) is Piecewise((1/a, c), ...)):
        # the floor is taken in each case, where the quotient has a form again
        chosen = _fractional_case(e.args[0])
        return _sympy_to_expr(sp.Piecewise(*[(e.func(e.args[0].xreplace({chosen: piece.expr})), piece.cond)
                                             for piece in chosen.args], evaluate=False), what)
    if isinstance(e, (sp.floor, sp.ceiling)):
        numer, denom = sp.fraction(sp.together(e.args[0]))
        if isinstance(e, sp.ceiling):  # ceil(p / q) = -floor(-p / q)
            return UnaryOp("-", _sympy_to_expr(sp.floor(-numer / denom, evaluate=False), what))
        inside = _floor_inside(numer, denom)
        if inside is not None:
            return _sympy_to_expr(inside, what)
        if denom == 1:
            return _sympy_to_expr(numer, what)
        p, q = _sympy_to_expr(numer, what), _sympy_to_expr(denom, what)
        if numer.is_nonnegative and denom.is_positive:
            return BinOp("/", p, q)
        return Call(FLOOR_DIV, (p, q))
    if isinstance(e, (sp.Min, sp.Max)):  # std::min/max evaluate each argument once (a ?: would repeat them)
        name = "std::min" if isinstance(e, sp.Min) else "std::max"
        result = _sympy_to_expr(e.args[0], what)
        for a in e.args[1:]:
            result = Call(name, (result, _sympy_to_expr(a, what)), (_LONG,))
        return result
    if isinstance(e, sp.Piecewise) and not any(piece.expr.has(sp.oo, -sp.oo, sp.zoo) for piece in e.args):
        # a chain of C ?: whose last case holds always
        result = _sympy_to_expr(e.args[-1].expr, what)
        if e.args[-1].cond != sp.true:
            raise PassRefused("XP524", f"bind: the size of {what!r} ({e}) is not defined in every case")
        for piece in reversed(e.args[:-1]):
            result = Select(_condition_to_expr(piece.cond, what), _sympy_to_expr(piece.expr, what), result)
        return result
    if isinstance(e, sp.Mod) and e.args[0].is_nonnegative and e.args[1].is_positive:
        return BinOp("%", _sympy_to_expr(e.args[0], what), _sympy_to_expr(e.args[1], what))
    if isinstance(e, sp.Mod):  # a mod b = a - b * floor(a / b)
        return _sympy_to_expr(e.args[0] - e.args[1] * sp.floor(e.args[0] / e.args[1], evaluate=False), what)
    raise PassRefused("XP524", f"bind: cannot write the size of {what!r} ({e}) in C")


def _target_includes(module: Module, target: str) -> tuple[str, ...]:
    """The target's runtime headers plus the source's dialect-neutral ones (<cmath>, <cstdint>...)."""
    return tuple(get_printer(target, "cpp").includes(module))


def _drop_spellings(module: Module) -> Module:
    """Type spellings of the loop form's C++ (`int32_t`, `_Float16`) are not the target's: print its own names."""
    return transform(module, lambda n: dataclasses.replace(n, spelling=None)
                     if isinstance(n, ScalarType) and n.spelling is not None else None)


def _cpp_includes(module: Module) -> tuple[str, ...]:
    """The loop form's headers plus what the bound code needs: OpenMP, libm, malloc and memcpy."""
    wanted = ("<omp.h>", "<cmath>", "<cstdint>", "<cstdlib>", "<cstring>")
    return tuple(module.includes) + tuple(h for h in wanted if h not in module.includes)
