"""Pattern matching shared by the target optimizations (cache, tensorize, pipeline): recognizing loops by their
structure and bodies by the shape of their expressions, never by the names of kernels or buffers.

- a BANG **task loop** is what `bind` makes of a parallel loop: `for (int v = a + taskId; v < b; v += taskDim)`;
  its iterations are independent (they were the iterations of a parallel loop);
- a **map body** is scalar code (declarations of scalars, assignments, `if`s) in which every memory access
  is `p[v + offset]` with one loop-invariant offset per buffer (or a read of an array private to the task) and
  every call is pure (libm, or a helper proven by `pure_functions` to touch nothing but its own locals):
  iteration v touches element v of each buffer and nothing else, so the iterations may be regrouped into tiles
  freely.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from kernel_ir.ir import (
    ArrayType, Assign, Barrier, BarrierKind, BinOp, Block, BuiltinVar, Call, Cast, Const, Decl, DType, Expr,
    ExprStmt, For, Function, GlobalVar, If, Index, KernelLaunch, MemScope, MethodCall, Module, Node, PointerType,
    RawExpr, RawStmt, Return, ScalarType, Select, Stmt, UnaryOp, Var, VarQual, transform, walk,
)
from passes.loops import PURE_CALLS, declared_names, names_in, strip_casts, written_names

NRAM_BYTES = 512 * 1024  # __MLU_NRAM_SIZE__ of the emulated MLU370 core
VECTOR_ALIGN_BYTES = 128  # __bang_* element counts: multiples of 128 bytes (the strictest generation's rule)


@dataclass(frozen=True)
class TaskLoop:
    """`for (int var = start + taskId; var < stop; var += taskDim)`: a parallel loop split cyclically over tasks."""

    loop: For
    var: str
    type: ScalarType
    start: Expr
    stop: Expr


def task_loop(loop: For) -> TaskLoop | None:
    """The task-loop view of `loop`, or None when it is not a unit-step loop split over taskId/taskDim."""
    if len(loop.init) != 1 or not isinstance(loop.init[0], Decl) or loop.init[0].init is None:
        return None
    decl = loop.init[0]
    var, init = decl.name, decl.init
    if init == BuiltinVar("taskId"):
        start: Expr = Const(0, DType.int32)
    elif isinstance(init, BinOp) and init.op == "+" and init.rhs == BuiltinVar("taskId"):
        start = init.lhs
    else:
        return None
    cond = loop.cond
    if not (isinstance(cond, BinOp) and cond.op == "<" and cond.lhs == Var(var)):
        return None
    steps = (Assign(Var(var), BuiltinVar("taskDim"), "+"), ExprStmt(BinOp("+=", Var(var), BuiltinVar("taskDim"))))
    if loop.step not in steps or not isinstance(decl.type, ScalarType) or not decl.type.dtype.is_int:
        return None
    if var in names_in(cond.rhs) | names_in(start) or var in written_names(loop.body):
        return None
    if (names_in(cond.rhs) | names_in(start)) & written_names(loop.body):
        return None
    return TaskLoop(loop, var, decl.type, start, cond.rhs)


def offset_of(index: Expr, var: str) -> Expr | None:
    """`off` when index is `var + off` (or `off + var`, or `var`) with off free of var; else None."""
    if index == Var(var):
        return Const(0, DType.int32)
    if isinstance(index, BinOp) and index.op == "+":
        if index.lhs == Var(var) and var not in names_in(index.rhs):
            return index.rhs
        if index.rhs == Var(var) and var not in names_in(index.lhs):
            return index.lhs
    return None


def pointer_elements(fn: Function) -> dict[str, ScalarType]:
    """Element type of every pointer (parameter or local) and array declared once in fn, by name."""
    types: dict[str, list] = {}
    for p in fn.params:
        types.setdefault(p.name, []).append(p.type)
    for n in walk(fn.body):
        if isinstance(n, Decl):
            types.setdefault(n.name, []).append(n.type)
    out = {}
    for name, found in types.items():
        if len(found) != 1:
            continue
        t = found[0]
        element = t.pointee if isinstance(t, PointerType) else t.element if isinstance(t, ArrayType) else None
        if isinstance(element, ScalarType) and element.dtype != DType.void:
            out[name] = element
    return out


def pure_helpers(module: Module) -> dict[str, Function]:
    """Module functions of scalars that return one expression after scalar constants: `T f(T a, ...) {
    const T k = ...; return e; }`, with no memory access (they can be inlined into vector code)."""
    out = {}
    for fn in module.functions:
        if fn.body is None or not fn.body.body or not isinstance(fn.body.body[-1], Return):
            continue
        if not all(isinstance(p.type, ScalarType) for p in fn.params) or not isinstance(fn.return_type, ScalarType):
            continue
        head, ret = fn.body.body[:-1], fn.body.body[-1]
        if ret.value is None or not all(isinstance(s, Decl) and isinstance(s.type, ScalarType) and s.init is not None
                                        for s in head):
            continue
        if any(isinstance(n, (Index, Assign)) or isinstance(n, UnaryOp) and n.op in ("*", "&", "++", "--")
               or isinstance(n, Call) and n.name not in PURE_CALLS for n in walk(fn.body)):
            continue
        out[fn.name] = fn
    return out


def inline_helpers(e: Expr, helpers: dict[str, Function]) -> Expr:
    """e with every call of a pure helper replaced by its expression (arguments substituted)."""
    def visit(n: Node) -> Node | None:
        if not (isinstance(n, Call) and n.name in helpers):
            return None
        fn = helpers[n.name]
        env = {p.name: Cast(p.type, a) for p, a in zip(fn.params, n.args)}
        for s in fn.body.body[:-1]:
            env[s.name] = Cast(s.type, _bind(s.init, env))
        return inline_helpers(Cast(fn.return_type, _bind(fn.body.body[-1].value, env)), helpers)

    return transform(e, visit)


def _bind(e: Expr, env: dict[str, Expr]) -> Expr:
    return transform(e, lambda n: env[n.name] if isinstance(n, Var) and n.name in env else None)


@dataclass(frozen=True)
class MapBody:
    """A map body's buffers: offset of each (index = var + offset), which are read and which are written."""

    offsets: dict[str, Expr]
    reads: frozenset[str]
    writes: frozenset[str]


def map_body(stmts: tuple[Stmt, ...], var: str, elements: dict[str, ScalarType],
             pure: frozenset[str], accumulate: bool = False, private: frozenset[str] = frozenset()) -> MapBody | str:
    """The buffers of a map body over `var`, or the reason the statements are not one. accumulate: scalars
    declared outside may also be assigned (a reduction's accumulator: the iterations then run in order).
    private: arrays of the task's own (declared in the kernel) that the loop only reads: read at an invariant
    index, they stay where they are. `if` statements are part of the body (each iteration decides for itself), and a
    bit view of a scalar (`*(int*)&t = ...`) is an access to the variable t, not to memory."""
    stmts = tuple(bit_views_as_vars(s) for s in stmts)
    local = declared_names(Block(stmts))
    offsets: dict[str, Expr] = {}
    reads, writes = set(), set()

    def check(e: Expr) -> str | None:
        for n in walk(e):
            if isinstance(n, Index):
                base = strip_casts(n.base)
                if isinstance(base, Var) and base.name in private and not names_in(n.index) & (local | {var}):
                    continue  # the same element of a task's own array in every iteration
                if not isinstance(n.base, Var) or not _record(offsets, n.base.name, n.index, var, local, elements):
                    return "reads memory at an index that is not the loop variable plus an invariant"
                reads.add(n.base.name)
            elif isinstance(n, Call) and n.name not in pure:
                return f"calls {n.name}, which is not known to be pure"
            elif isinstance(n, UnaryOp) and n.op in ("*", "&", "++", "--") or isinstance(n, BinOp) and n.op in (
                    "=", "+=", "-=", "*=", "/=", ","):
                return "has side effects or pointer arithmetic inside an expression"
        return None

    def scan(block: tuple[Stmt, ...]) -> str | None:
        for s in block:
            if isinstance(s, If):
                why = check(s.cond) or scan(s.then.body) or scan(s.otherwise.body if s.otherwise else ())
                if why:
                    return why
                continue
            if isinstance(s, Decl):
                if not isinstance(s.type, ScalarType) or s.scope != MemScope.local:
                    return f"declares {s.name!r}, which is not a scalar"
                exprs = [s.init] if s.init is not None else []
            elif isinstance(s, Assign):
                exprs = [s.value]
                target = s.target
                if isinstance(target, Var):
                    if target.name not in local and not accumulate:
                        return f"assigns {target.name!r}, declared outside the loop"
                elif isinstance(target, Index) and isinstance(target.base, Var) and target.base.name not in private:
                    if s.op:
                        exprs.append(target)  # a compound assignment also reads the element
                    name = target.base.name
                    writes.add(name)
                    exprs.append(target.index)
                    if not _record(offsets, name, target.index, var, local, elements):
                        return f"writes {name!r} at an index that is not {var} + (an invariant)"
                else:
                    return "assigns through something other than p[index]"
            else:
                return f"has a {type(s).__name__}, not straight-line scalar code"
            why = next((w for w in map(check, exprs) if w), None)
            if why:
                return why
        return None

    why = scan(stmts)
    if why:
        return why
    if any(names_in(off) & local for off in offsets.values()):
        return "indexes with a value computed inside the loop"
    return MapBody(offsets, frozenset(reads), frozenset(writes))


def bit_views_as_vars(node: Node) -> Node:
    """node with every bit view `*(T*)&v` of a variable replaced by v: reading or writing a variable's bits as
    another type touches that variable only, not memory (what the analyses need to know)."""
    def visit(n: Node) -> Node | None:
        if isinstance(n, UnaryOp) and n.op == "*":
            inner = strip_casts(n.operand)
            if isinstance(inner, UnaryOp) and inner.op == "&" and isinstance(inner.operand, Var):
                return inner.operand
        return None
    return transform(node, visit)


def stored_arrays(node: Node) -> set[str]:
    """Arrays (or pointers) stored through anywhere under node: `a[i] = ...`, `a[i] += ...`, `a[i]++`."""
    targets = [n.target for n in walk(node) if isinstance(n, Assign)]
    targets += [n.lhs for n in walk(node) if isinstance(n, BinOp) and n.op.endswith("=") and n.op not in _COMPARE]
    targets += [n.operand for n in walk(node) if isinstance(n, UnaryOp) and n.op in ("++", "--")]
    return {array_base(t) for t in targets if isinstance(t, Index)} - {None}


_COMPARE = frozenset({"==", "!=", "<=", ">="})

# libm functions that have no effect but their result, besides those the loop passes know (PURE_CALLS)
LIBM_PURE = PURE_CALLS | frozenset({"ldexpf", "ldexp", "scalbnf", "fmodf", "cbrtf", "log10f", "exp2", "sinhf",
                                    "coshf", "erfcf", "hypotf"})


def pure_functions(module: Module) -> frozenset[str]:
    """Module functions proven to have no effect but their result: scalar parameters and result, and a body
    that reads and writes only its parameters and its own locals (bit views `*(T*)&t` of them included; loops,
    branches and local arrays allowed), reads no global but scalar constants, and calls only libm and other
    such functions. Calling one per element keeps a map body a map, whatever it computes inside."""
    defined: dict[str, list[Function]] = {}
    for fn in module.functions:
        if fn.body is not None:
            defined.setdefault(fn.name, []).append(fn)
    globals_ = {n.name for n in walk(module) if isinstance(n, GlobalVar)}
    constants = {n.name for n in walk(module) if isinstance(n, GlobalVar) and isinstance(n.type, ScalarType)
                 and (n.type.const or VarQual.constexpr in n.qualifiers)}
    pure = {name for name, fns in defined.items() if all(_scalar_signature(fn) for fn in fns)}
    while True:  # the largest set whose members call only libm and members (helpers calling helpers)
        kept = {name for name in pure if all(_touches_only_locals(fn, LIBM_PURE | pure, globals_, constants)
                                             for fn in defined[name])}
        if kept == pure:
            return frozenset(pure)
        pure = kept


def _scalar_signature(fn: Function) -> bool:
    return isinstance(fn.return_type, ScalarType) and all(isinstance(p.type, ScalarType) for p in fn.params)


def _touches_only_locals(fn: Function, calls: frozenset[str], globals_: set[str], constants: set[str]) -> bool:
    """Whether fn reads and writes its parameters and locals only (and reads global scalar constants, which
    no one can write)."""
    body = bit_views_as_vars(fn.body)
    scope = {p.name for p in fn.params} | constants
    for n in walk(body):
        if isinstance(n, Decl):
            if not isinstance(n.type, (ScalarType, ArrayType)) or n.scope != MemScope.local or n.name in globals_ \
                    or VarQual.static in n.qualifiers and not _read_only(n.type):
                return False  # a pointer could reach memory; a static is state kept between calls
            scope.add(n.name)
    return not any(isinstance(n, Var) and n.name not in scope or isinstance(n, Call) and n.name not in calls
                   or isinstance(n, UnaryOp) and n.op in ("*", "&")
                   or isinstance(n, (BuiltinVar, MethodCall, RawExpr, RawStmt, Barrier, KernelLaunch))
                   for n in walk(body))


def _read_only(t: ScalarType | ArrayType) -> bool:
    return (t.element if isinstance(t, ArrayType) else t).const


def _record(offsets: dict[str, Expr], name: str, index: Expr, var: str, local: set[str],
            elements: dict[str, ScalarType]) -> bool:
    off = offset_of(index, var)
    if off is None or name not in elements or name in local or names_in(off) & local:
        return False
    if offsets.setdefault(name, off) != off:
        return False  # two offsets into one buffer: iterations could meet
    return True


def upper_bound(e: Expr, constants: dict[str, Expr]) -> int | None:
    """A constant no value of e exceeds (through `c ? a : b`, `a < b ? a : b` and variables declared with such an
    initializer)."""
    if isinstance(e, Const) and isinstance(e.value, int) and not isinstance(e.value, bool):
        return e.value
    if isinstance(e, Var) and e.name in constants:
        return upper_bound(constants[e.name], constants)
    if isinstance(e, Select):
        a, b = upper_bound(e.then, constants), upper_bound(e.otherwise, constants)
        if isinstance(e.cond, BinOp) and e.cond.op in ("<", "<=") and (e.cond.lhs, e.cond.rhs) == (e.then, e.otherwise):
            return min((x for x in (a, b) if x is not None), default=None)  # the smaller of the two
        return None if a is None or b is None else max(a, b)
    return None


def vector_count(dtype: DType) -> int:
    """Elements in one 128-byte vector unit of `dtype` (the granularity of a __bang_* element count)."""
    return VECTOR_ALIGN_BYTES // (dtype.bits // 8)


def nram_bytes(fn: Function) -> int:
    """Bytes of __nram__ arrays fn declares (sizes must be constant: what a BANG compiler places)."""
    total = 0
    for n in walk(fn.body):
        if isinstance(n, Decl) and n.scope == MemScope.nram and isinstance(n.type, ArrayType):
            size, element = n.type.size, n.type.element
            if isinstance(size, Const) and isinstance(element, ScalarType):
                total += int(size.value) * (element.dtype.bits // 8)
    return total


# ---------------------------------------------------------------- contractions (matmul-like nests) -----------

@dataclass(frozen=True)
class Operand:
    """One factor of a contraction's product: buffer `name` read at `index`, elements of `dtype`."""

    name: str
    index: Expr
    dtype: DType


@dataclass(frozen=True)
class Contraction:
    """`for (int k = start; k < stop; k += 1) acc += f(X[x]) * g(Y[y]);` (also `acc = acc + ...` and
    `acc = fmaf(f(X[x]), g(Y[y]), acc)`): the reduction loop of a matmul, gemv, bmm or dense nest."""

    loop: For
    k: str
    start: Expr
    stop: Expr
    acc: str
    lhs: Operand
    rhs: Operand


def contraction(loop: For, elements: dict[str, ScalarType]) -> Contraction | None:
    """The contraction view of `loop` (one statement adding a product of two buffer elements into a scalar)."""
    from passes.loops import canonical

    view = canonical(loop)
    if view is None or view.step != 1 or len(loop.body.body) != 1:
        return None
    s = loop.body.body[0]
    if isinstance(s, ExprStmt) and isinstance(s.expr, BinOp) and s.expr.op == "+=":
        s = Assign(s.expr.lhs, s.expr.rhs, "+")
    if not isinstance(s, Assign) or not isinstance(s.target, Var):
        return None
    acc = s.target.name
    if s.op == "+":
        factors = _product_factors(s.value)
    elif s.op == "" and isinstance(s.value, BinOp) and s.value.op == "+" and s.value.lhs == s.target:
        factors = _product_factors(s.value.rhs)
    elif s.op == "" and isinstance(s.value, Call) and s.value.name == "fmaf" and len(s.value.args) == 3 \
            and s.value.args[2] == s.target:
        factors = s.value.args[:2]
    else:
        return None
    if factors is None:
        return None
    operands = []
    for factor in factors:
        read = strip_casts(factor)
        if not (isinstance(read, Index) and isinstance(read.base, Var) and read.base.name in elements):
            return None
        if acc in names_in(read.index) or any(isinstance(n, (Index, Call)) for n in walk(read.index)):
            return None
        operands.append(Operand(read.base.name, read.index, elements[read.base.name].dtype))
    return Contraction(loop, view.var, view.start, view.stop, acc, operands[0], operands[1])


def _product_factors(e: Expr) -> tuple[Expr, Expr] | None:
    e = strip_casts(e) if isinstance(e, Cast) and isinstance(strip_casts(e), BinOp) else e
    return (e.lhs, e.rhs) if isinstance(e, BinOp) and e.op == "*" else None


def coefficient(index: Expr, var: str) -> int | None:
    """The constant step of `index` per unit of `var` (0 when index does not use var), or None when index is
    not affine in var with a constant coefficient (then nothing is assumed about its layout)."""
    import sympy

    from passes.loops import symbol, to_sympy

    if var not in names_in(index):
        return 0
    poly = to_sympy(index)
    if poly is None:
        return None
    step = sympy.expand(sympy.diff(poly, symbol(var)))
    return int(step) if step.is_Integer else None


def instantiate(template: str, dialect: str, values: dict[str, Expr], names: dict[str, str],
                taken: set[str]) -> tuple[Stmt, ...]:
    """The statements of `template` (C text: one function whose parameters are placeholders) with each
    parameter replaced by `values[name]` and each variable it declares renamed: to `names[var]` when given,
    else to a fresh name. Rewrites are written as the code an expert would write, then filled in."""
    fn = _parsed_template(template, dialect)
    renames = dict(names)
    for n in walk(fn.body):
        if isinstance(n, Decl) and n.name not in renames:
            renames[n.name] = fresh_name_in(f"xp_{n.name}", taken)

    def fill(node: Node) -> Node | None:
        if isinstance(node, Var):
            if node.name in values:
                return values[node.name]
            return Var(renames[node.name]) if node.name in renames else None
        if isinstance(node, Decl) and node.name in renames:  # bottom-up: its initializer is filled already
            return dataclasses.replace(node, name=renames[node.name])
        return None

    return tuple(transform(s, fill) for s in fn.body.body)


def fresh_name_in(base: str, taken: set[str]) -> str:
    """A name not in `taken`, which it joins."""
    from passes.loops import fresh_name

    name = fresh_name(base, taken)
    taken.add(name)
    return name


_TEMPLATE_INCLUDES = {"cpp": "#include <immintrin.h>\n#include <cstring>\n#include <cstdlib>\n#include <cstdint>\n",
                      "cuda": "#include <cuda_runtime.h>\n#include <cuda_fp16.h>\n#include <mma.h>\n#include <cstdint>\n",
                      "hip": "#include <hip/hip_runtime.h>\n#include <hip/hip_fp16.h>\n#include <cstdint>\n"}
_TEMPLATES: dict[tuple[str, str], Function] = {}


def _parsed_template(template: str, dialect: str) -> Function:
    from kernel_ir.parse import parse

    key = (template, dialect)
    if key not in _TEMPLATES:
        _TEMPLATES[key] = parse(_TEMPLATE_INCLUDES[dialect] + template, dialect).functions[-1]
    return _TEMPLATES[key]


def fill_statements(node: Node, placeholder: str, stmts: tuple[Stmt, ...]) -> Node:
    """node with each statement `placeholder();` (a template's hole) replaced by stmts, spliced into its block."""
    def is_hole(s: Stmt) -> bool:
        return isinstance(s, ExprStmt) and isinstance(s.expr, Call) and s.expr.name == placeholder

    def visit(n: Node) -> Node | None:
        if isinstance(n, Block) and any(is_hole(s) for s in n.body):
            return Block(tuple(x for s in n.body for x in (stmts if is_hole(s) else (s,))))
        return None
    return transform(node, visit)


def run_target_rule(pass_name: str, rules: dict, module: Module, options: object, code: str) -> Module:
    """A target optimization's one entry: the rule for the module's dialect (table `rules`), or a refusal
    (`code`) naming the dialect that has none, so the driver keeps the bound program."""
    from passes.base import PassRefused

    rule = rules.get(module.dialect)
    if rule is None:
        raise PassRefused(code, f"{pass_name}: no rule for {module.dialect} yet", hint="the program is kept as it is")
    return rule(module, options)


# ---------------------------------------------------------------- CUDA / HIP: k-steps over __shared__ tiles ---

@dataclass(frozen=True)
class SharedStep:
    """A loop at a kernel's top level (so every thread runs it the same number of times) whose body is
    `<loads>; __syncthreads(); <compute>; __syncthreads();`, where the loads are scalar declarations and
    stores into `__shared__` arrays (the tiles of this step) and the compute reads them: the k-loop `cache`
    makes of a matmul kernel."""

    loop: For
    loads: tuple[Stmt, ...]
    compute: tuple[Stmt, ...]
    tiles: frozenset[str]


def shared_steps(fn: Function) -> list[SharedStep]:
    """The shared-tile step loops of kernel fn, in order."""
    from passes.loops import canonical

    shared = {s.name for s in fn.body.body if isinstance(s, Decl) and s.scope == MemScope.shared
              and isinstance(s.type, ArrayType)}
    out = []
    for s in fn.body.body:
        if not isinstance(s, For) or canonical(s) is None:
            continue
        body = s.body.body
        syncs = [i for i, x in enumerate(body) if isinstance(x, Barrier) and x.kind == BarrierKind.syncthreads]
        if len(syncs) != 2 or syncs[1] != len(body) - 1:
            continue
        loads, compute = body[:syncs[0]], body[syncs[0] + 1:syncs[1]]
        stored = {array_base(x.target) for x in loads if isinstance(x, Assign) and isinstance(x.target, Index)}
        if not stored or not stored <= shared or not all(
                isinstance(x, Decl) and isinstance(x.type, ScalarType) or isinstance(x, Assign)
                and isinstance(x.target, Index) and not x.op for x in loads):
            continue
        out.append(SharedStep(s, loads, compute, frozenset(stored)))
    return out


def array_base(e: Expr) -> str | None:
    """The array variable under `a[i][j]...`, or None."""
    while isinstance(e, Index):
        e = e.base
    return e.name if isinstance(e, Var) else None


def launch_blocks(module: Module, kernel: str) -> set[Expr]:
    """The block-dimension expressions of every launch of `kernel` in the module."""
    from kernel_ir.ir import KernelLaunch

    return {n.config.block for fn in module.functions if fn.body is not None for n in walk(fn.body)
            if isinstance(n, KernelLaunch) and n.kernel == kernel}
