"""`tensorize`: scalar loops over on-chip tiles become the target's vector intrinsics.

One rule per target (table `_RULES`): BANG below; cpp (AVX-512 VNNI, `omp simd`) and CUDA/HIP (wmma / MFMA on
half tiles) in their sections at the end. BANG preconditions, checked per loop: `for (int j = 0; j < count; j += 1)`
with a straight-line body (declarations of float scalars and assignments) in which every memory access is
`a[j]` on a float `__nram__` array of constant size, every other value is loop-invariant and of type float or
int, and every operation has an exact `__bang_*` counterpart in the table below (the shape `cache` produces).
Such a loop becomes, statement by statement, whole-tile calls on the first `count / 32 * 32` elements (element
counts of `__bang_*` are multiples of 128 bytes) and the original scalar loop on the remaining < 32 elements:

    const int n_vec = count / 32 * 32;
    if (n_vec > 0) { __bang_mul_scalar(t0, x_nram, alpha, n_vec); __bang_add(y_nram, t0, b_nram, n_vec); }
    for (int j = n_vec; j < count; j += 1) { y_nram[j] = x_nram[j] * alpha + b_nram[j]; }

Every statement touches element j of each array only, so running it on all elements before the next statement
keeps the meaning; scalars declared in the body become NRAM temporaries. Arithmetic (+ - * /, negation, min, max,
relu, sqrt, reciprocal 1/x) is exact in float like the scalar code; exp, log, tanh, sin and cos are computed by
the activation unit (the emulation: in double, rounded once), so they agree with libm's float functions to an
ulp, inside the verifier's float tolerance, not bit for bit. A loop with any other operation keeps its scalar
form (it is still tiled); a module where no loop can be tensorized is refused (XP545).

A statement of the tile loop that reduces into a float scalar from outside (`acc += e`, `acc = fmaxf(acc, e)`,
fminf, `acc = e > acc ? e : acc` and mirrored forms: what `cache` stages a row reduction into) computes e over
the whole vectors, reduces them with `__bang_sum` (the emulation adds in double: a reassociated sum, within the
verifier's float tolerance) or `__bang_max` / `__bang_min` (the first extreme, NaNs skipped: exact for inputs
without NaN), then runs the statement itself with that value in place of e; the scalar tail adds the rest.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from kernel_ir.diagnostics import XpilerError
from kernel_ir.ir import (
    ArrayType, Assign, Barrier, BinOp, Block, Break, BuiltinVar, Call, Cast, Const, Construct, Continue, Decl,
    DoWhile, DType, Expr, ExprStmt, For, ForKind, FuncQual, Function, If, Index, MemScope, Module, NamedType, Node,
    Return, ScalarType, Select, SizeOf, Stmt, UnaryOp, Var, Verbatim, While, transform, walk,
)
from passes.base import PassRefused
from passes.loops import (
    PURE_CALLS, LoopMatch, analyze, canonical, conflicting_pairs, declared_names, enclosing_vars, fresh_name,
    is_reduction_only, loop_var, loops_with_ancestors, names_in, names_taken, splice, substitute, varying_levels,
    written_names,
)
from passes.patterns import (
    NRAM_BYTES, Contraction, coefficient, contraction, fill_statements, fresh_name_in, inline_helpers, instantiate,
    launch_blocks, nram_bytes, pointer_elements, pure_helpers, run_target_rule, shared_steps, upper_bound,
    vector_count,
)

NOT_APPLICABLE = "XP545"  # no loop has the shape (or only operations without an exact intrinsic)
F32 = ScalarType(DType.float32)
CONST_INT32 = ScalarType(DType.int32, const=True)

# operator -> (intrinsic on two vectors, intrinsic on a vector and a scalar or None)
_BINARY = {"+": ("__bang_add", "__bang_add_scalar"), "-": ("__bang_sub", "__bang_sub_scalar"),
           "*": ("__bang_mul", "__bang_mul_scalar"), "/": ("__bang_div", None),
           "fmaxf": ("__bang_maximum", "__bang_maximum_scalar"), "fminf": ("__bang_minimum", "__bang_minimum_scalar")}
_COMMUTATIVE = frozenset({"+", "*", "fmaxf", "fminf"})
_UNARY = {"expf": "__bang_active_exp", "logf": "__bang_active_log", "tanhf": "__bang_active_tanh",
          "sinf": "__bang_active_sin", "cosf": "__bang_active_cos", "sqrtf": "__bang_sqrt", "fabsf": "__bang_abs"}


@dataclass(frozen=True)
class TensorizeOptions:
    """nram_limit: bytes of NRAM all arrays of a kernel may take, temporaries included."""

    nram_limit: int = NRAM_BYTES


class _Unsupported(Exception):
    """The body has an operation without an exact vector counterpart: the loop stays scalar."""


def tensorize(module: Module, options: TensorizeOptions | None = None) -> Module:
    """`module` (a bound target program) with its tile loops turned into vector intrinsics."""
    options = options or TensorizeOptions()
    return run_target_rule("tensorize", _RULES, module, options, NOT_APPLICABLE)


def _tensorize_bang(module: Module, options: TensorizeOptions) -> Module:
    helpers = pure_helpers(module)
    changed = module.map_functions(lambda fn: _tensorize_function(module, fn, helpers, options))
    if changed == module:
        raise PassRefused(NOT_APPLICABLE, "tensorize: no loop over __nram__ tiles has only operations with an "
                                          "exact __bang_* counterpart")
    return changed


def _tensorize_function(module: Module, fn: Function, helpers: dict, options: TensorizeOptions) -> Function:
    if fn.body is None or FuncQual.mlu_global not in fn.qualifiers:
        return fn
    arrays = {n.name: n for n in walk(fn.body) if isinstance(n, Decl) and n.scope == MemScope.nram
              and isinstance(n.type, ArrayType) and n.type.element == F32 and isinstance(n.type.size, Const)}
    types = {p.name: p.type for p in fn.params} | {n.name: n.type for n in walk(fn.body) if isinstance(n, Decl)}
    taken = names_taken(module, fn)
    temps: list[Decl] = []
    budget = [options.nram_limit - nram_bytes(fn)]

    def visit(node: Node) -> Node | None:
        if not isinstance(node, For):
            return None
        loop = _tile_loop(node, arrays)
        if loop is None:
            return None
        lowering = _Lowering(loop[0], {n: arrays[n] for n in loop[1]}, types, helpers, taken)
        try:
            vector = lowering.run(node.body.body)
        except _Unsupported:
            return None
        if lowering.temp_bytes() > budget[0]:
            return None
        budget[0] -= lowering.temp_bytes()
        temps.extend(lowering.temps)
        return _split(node, loop[0], loop[2], vector, taken)

    body = transform(fn.body, visit)
    if body == fn.body:
        return fn
    return dataclasses.replace(fn, body=Block(tuple(temps) + body.body))


def _tile_loop(loop: For, arrays: dict[str, Decl]) -> tuple[str, set[str], Expr] | None:
    """(lane variable, arrays used, count) of `for (int j = 0; j < count; j += 1)` over NRAM arrays, else None."""
    if len(loop.init) != 1 or not isinstance(loop.init[0], Decl) or loop.init[0].init != Const(0, DType.int32):
        return None
    j = loop.init[0].name
    if loop.step not in (Assign(Var(j), Const(1, DType.int32), "+"),) or not isinstance(loop.cond, BinOp) \
            or loop.cond.op != "<" or loop.cond.lhs != Var(j):
        return None
    count = loop.cond.rhs
    if not all(isinstance(n, (Var, Const)) for n in walk(count)) or j in names_in(count):
        return None
    used = {n.base.name for n in walk(loop.body) if isinstance(n, Index) and isinstance(n.base, Var)}
    if not used or not used <= set(arrays) or names_in(count) & {n.name for n in walk(loop.body)
                                                                  if isinstance(n, Decl)}:
        return None
    return j, used, count


def _split(loop: For, lane: str, count: Expr, vector: list[Stmt], taken: set[str]) -> Block:
    """Whole 128-byte vectors through the intrinsics, the last partial vector through the scalar loop."""
    n_vec = fresh_name(f"{lane}_vec", taken)
    taken.add(n_vec)
    width = Const(vector_count(DType.float32), DType.int32)
    vector = [transform(s, lambda n: Var(n_vec) if n == _COUNT else None) for s in vector]
    rest = dataclasses.replace(loop, init=(dataclasses.replace(loop.init[0], init=Var(n_vec)),))
    return Block((Decl(n_vec, CONST_INT32, BinOp("*", BinOp("/", count, width), width)),
                  If(BinOp(">", Var(n_vec), Const(0, DType.int32)), Block(tuple(vector))), rest))


_COUNT = Var("__xp_vector_count__")  # placeholder for the element count, named once the loop is split


class _Lowering:
    """Statement by statement, the body as intrinsic calls on whole NRAM arrays."""

    def __init__(self, lane: str, arrays: dict[str, Decl], types: dict, helpers: dict, taken: set[str]):
        self.lane, self.arrays, self.types, self.helpers, self.taken = lane, arrays, types, helpers, taken
        self.size = min(int(d.type.size.value) for d in arrays.values())
        self.temps: list[Decl] = []
        self.free: list[str] = []  # temporaries no statement holds any more
        self.scratch: list[str] = []  # temporaries holding the current statement's intermediate values
        self.locals: dict[str, str] = {}  # body scalar -> its NRAM array
        self.out: list[Stmt] = []

    def temp_bytes(self) -> int:
        return len(self.temps) * self.size * 4

    def run(self, stmts: tuple[Stmt, ...]) -> list[Stmt]:
        for s in stmts:
            if isinstance(s, Decl):
                if s.type not in (F32, dataclasses.replace(F32, const=True)) or s.name in self.locals:
                    raise _Unsupported
                self.locals[s.name] = self.alloc(scratch=False)
                if s.init is not None:
                    self.compute(s.init, self.locals[s.name])
            elif isinstance(s, Assign) and isinstance(s.target, Var) and s.target.name not in self.locals:
                self.reduce(s)
            elif isinstance(s, Assign):
                target = self.operand_of_target(s.target)
                value = s.value if not s.op else BinOp(s.op, s.target, s.value)
                self.compute(value, target)
            else:
                raise _Unsupported
            self.free += self.scratch
            self.scratch = []
        return self.out

    def reduce(self, s: Assign) -> None:
        """`acc += e`, `acc = fmaxf(acc, e)` (fminf, and the `e > acc ? e : acc` forms) on a float scalar from
        outside the loop: e over the whole tile, one reduction intrinsic, then the statement itself with the
        tile's sum (or extreme) in place of e. The scalar loop that follows adds the remaining elements."""
        found = _reduction(s, self.types)
        if found is None:
            raise _Unsupported
        kind, element = found
        source = self.operand(element)
        if kind == "+":
            combined: Expr = Call("__bang_sum", (Var(source), _COUNT))
        else:
            extreme = self.alloc()
            self.call("__bang_max" if kind == "max" else "__bang_min", Var(extreme), Var(source), _COUNT)
            combined = Index(Var(extreme), Const(0, DType.int32))
        self.out.append(transform(s, lambda n: combined if n == element else None))

    def operand_of_target(self, target: Expr) -> str:
        if isinstance(target, Var) and target.name in self.locals:
            return self.locals[target.name]
        if isinstance(target, Index) and target.index == Var(self.lane) and isinstance(target.base, Var) \
                and target.base.name in self.arrays:
            return target.base.name
        raise _Unsupported

    def alloc(self, scratch: bool = True) -> str:
        if self.free:
            name = self.free.pop()
        else:
            name = fresh_name("xp_vtmp", self.taken)
            self.taken.add(name)
            self.temps.append(Decl(name, ArrayType(F32, Const(self.size, DType.int32)), scope=MemScope.nram))
        if scratch:
            self.scratch.append(name)
        return name

    def call(self, name: str, *args: Expr) -> None:
        self.out.append(ExprStmt(Call(name, args)))

    # -- expressions --
    def vector(self, e: Expr) -> str | None:
        """The NRAM array holding e when e is an array element or a body scalar, else None."""
        e = _strip_float_casts(e)
        if isinstance(e, Index) and isinstance(e.base, Var) and e.base.name in self.arrays:
            if e.index != Var(self.lane):
                raise _Unsupported
            return e.base.name
        if isinstance(e, Var) and e.name in self.locals:
            return self.locals[e.name]
        return None

    def varies(self, e: Expr) -> bool:
        return any(isinstance(n, Index) or isinstance(n, Var) and (n.name in self.locals or n.name == self.lane)
                   for n in walk(e))

    def scalar(self, e: Expr) -> Expr:
        """A loop-invariant value as the float the scalar code would compute with (only float/int are exact)."""
        dtype = _dtype(e, self.types)
        if dtype not in (DType.float32, DType.int32, DType.int16, DType.int8, DType.uint8):
            raise _Unsupported
        e = _strip_float_casts(e)
        return e if dtype == DType.float32 and isinstance(e, (Const, Var)) else Cast(F32, e)

    def operand(self, e: Expr) -> str:
        """e in an NRAM array (a temporary when it is computed)."""
        found = self.vector(e)
        if found is not None:
            return found
        dst = self.alloc()
        self.compute(e, dst)
        return dst

    def compute(self, e: Expr, dst: str) -> None:
        """Store e, element by element, into array dst."""
        e = inline_helpers(_strip_float_casts(e), self.helpers)
        e = _strip_float_casts(e)
        if not self.varies(e):
            self.call("__bang_write_value", Var(dst), _COUNT, self.scalar(e))
            return
        found = self.vector(e)
        if found is not None:
            if found != dst:
                self.call("__memcpy", Var(dst), Var(found), BinOp("*", _COUNT, SizeOf(F32)), Var("NRAM2NRAM"))
            return
        if isinstance(e, UnaryOp) and e.op == "-":
            self.call("__bang_neg", Var(dst), Var(self.operand(e.operand)), _COUNT)
        elif isinstance(e, Call) and e.name in _UNARY and len(e.args) == 1:
            self.call(_UNARY[e.name], Var(dst), Var(self.operand(e.args[0])), _COUNT)
        elif isinstance(e, BinOp) and e.op in _BINARY:
            self.binary(e.op, e.lhs, e.rhs, dst)
        elif isinstance(e, Call) and e.name in _BINARY and len(e.args) == 2:
            self.binary(e.name, e.args[0], e.args[1], dst)
        elif isinstance(e, Select) and _is_relu(e):
            self.call("__bang_active_relu", Var(dst), Var(self.operand(e.then)), _COUNT)
        else:
            raise _Unsupported

    def binary(self, op: str, lhs: Expr, rhs: Expr, dst: str) -> None:
        vector_op, scalar_op = _BINARY[op]
        if self.varies(lhs) and self.varies(rhs):
            self.call(vector_op, Var(dst), Var(self.operand(lhs)), Var(self.operand(rhs)), _COUNT)
        elif self.varies(lhs):
            value = self.scalar(rhs)
            if op == "fmaxf" and _is_zero(value):
                self.call("__bang_active_relu", Var(dst), Var(self.operand(lhs)), _COUNT)
            elif scalar_op is None:
                raise _Unsupported  # x / s: multiplying by 1/s would round twice
            else:
                self.call(scalar_op, Var(dst), Var(self.operand(lhs)), value, _COUNT)
        elif op in _COMMUTATIVE:  # exact in IEEE arithmetic
            self.binary(op, rhs, lhs, dst)
        elif op == "-":  # s - x == -(x - s) exactly (rounding is symmetric)
            self.call("__bang_sub_scalar", Var(dst), Var(self.operand(rhs)), self.scalar(lhs), _COUNT)
            self.call("__bang_neg", Var(dst), Var(dst), _COUNT)
        elif op == "/" and _is_one(self.scalar(lhs)):
            self.call("__bang_recip", Var(dst), Var(self.operand(rhs)), _COUNT)
        else:
            raise _Unsupported


def _reduction(s: Assign, types: dict) -> tuple[str, Expr] | None:
    """("+", e) for `acc += e` / `acc = acc + e`, ("max" or "min", e) for `acc = fmaxf(acc, e)` / `acc = e > acc ?
    e : acc` and their mirrored and fminf forms, where acc is a float and e does not use it; else None."""
    acc = s.target
    if not isinstance(acc, Var) or types.get(acc.name) not in (F32, dataclasses.replace(F32, const=False)):
        return None
    v = s.value
    if s.op == "+":
        found = ("+", v)
    elif s.op:
        return None
    elif isinstance(v, BinOp) and v.op == "+" and acc in (v.lhs, v.rhs):
        found = ("+", v.rhs if v.lhs == acc else v.lhs)
    elif isinstance(v, Call) and v.name in ("fmaxf", "fminf") and len(v.args) == 2 and acc in v.args:
        found = ("max" if v.name == "fmaxf" else "min", v.args[1] if v.args[0] == acc else v.args[0])
    elif isinstance(v, Select) and isinstance(v.cond, BinOp) and v.cond.op in ("<", ">") \
            and {v.cond.lhs, v.cond.rhs} == {v.then, v.otherwise} and acc in (v.then, v.otherwise):
        picks_larger = (v.cond.op == ">") == (v.cond.lhs == v.then)
        found = ("max" if picks_larger else "min", v.otherwise if v.then == acc else v.then)
    else:
        return None
    return None if acc.name in names_in(found[1]) else found


def _strip_float_casts(e: Expr) -> Expr:
    while isinstance(e, Cast) and isinstance(e.type, ScalarType) and e.type.dtype == DType.float32:
        e = e.expr
    return e


def _is_zero(e: Expr) -> bool:
    e = _strip_float_casts(e)
    return isinstance(e, Const) and e.value == 0


def _is_one(e: Expr) -> bool:
    e = _strip_float_casts(e)
    return isinstance(e, Const) and e.value == 1


def _is_relu(e: Select) -> bool:
    """`x > 0 ? x : 0` (or `0 < x ? x : 0`): exactly the activation unit's relu."""
    c = e.cond
    positive = isinstance(c, BinOp) and (c.op == ">" and c.lhs == e.then and _is_zero(c.rhs)
                                         or c.op == "<" and c.rhs == e.then and _is_zero(c.lhs))
    return positive and _is_zero(e.otherwise)


def _dtype(e: Expr, types: dict) -> DType | None:
    """The C type of a loop-invariant scalar expression (None when unknown)."""
    if isinstance(e, Const):
        return e.dtype if not isinstance(e.value, bool) else None
    if isinstance(e, Var):
        t = types.get(e.name)
        return t.dtype if isinstance(t, ScalarType) else None
    if isinstance(e, Cast):
        return e.type.dtype if isinstance(e.type, ScalarType) else None
    if isinstance(e, UnaryOp) and e.op == "-":
        return _dtype(e.operand, types)
    if isinstance(e, BinOp) and e.op in ("+", "-", "*", "/"):
        a, b = _dtype(e.lhs, types), _dtype(e.rhs, types)
        if a is None or b is None:
            return None
        return max(a, b, key=lambda d: (d.is_float, d.bits))
    return None


# ---------------------------------------------------------------- cpp: AVX-512 VNNI and omp simd ------------
#
# Preconditions of the VNNI rule, checked per nest: a contraction (patterns.contraction) of one uint8 and one
# int8 buffer into an int32 scalar. Two shapes, tried in this order:
# - panel (gemm, bmm): `for (j) { int32 acc = c; for (k) acc += X[x] * Y[y]; <rest using acc> }` with x
#   contiguous in k and free of j, y any index of (j, k) and invariants, inside a loop (over rows) that Y does
#   not depend on. Y is packed once, before the outermost enclosing loop it does not depend on, into 16-column panels of 4-k groups (zero padded in j and k, so the
#   tails add nothing), X's 4-k groups are broadcast, `_mm512_dpbusd_epi32` accumulates 16 columns at a time,
#   and <rest> runs per column on the lane's sum (masked by the loop bound, so N % 16 is handled);
# - dot (gemv, dense with both operands contiguous in k): 64 k per `_mm512_dpbusd_epi32`, a horizontal sum,
#   and the scalar loop on the K % 64 remainder.
# Integer sums are exact in any order (int32 wraps the same way), so the results are bit for bit the scalar ones.
# Other innermost loops without a dependence between iterations get `#pragma omp simd`, with
# `reduction(+:acc)` for scalar sums (float sums are then reassociated: within the verifier's float tolerance).

_PANEL = """
void XP_REST();
void xp_panel(int JS, int JSTOP, int KS, int KSTOP, const uint8_t* XROW, const int8_t* packed, int groups,
              int ACC0) {{
    for (int j0 = JS; j0 < JSTOP; j0 += 16) {{
        const int8_t* panel = packed + (size_t)((j0 - JS) / 16) * groups * 64;
        const int full = (KSTOP - KS) / 4;
        __m512i sums = _mm512_setzero_si512();
        for (int g = 0; g < full; g += 1) {{
            int32_t quad;
            memcpy(&quad, XROW + g * 4, 4);
            sums = _mm512_dpbusd_epi32(sums, {u}, {s});
        }}
        if ((KSTOP - KS) % 4 > 0) {{
            const int g = full;
            int32_t quad = 0;
            memcpy(&quad, XROW + g * 4, (KSTOP - KS) % 4);
            sums = _mm512_dpbusd_epi32(sums, {u}, {s});
        }}
        int32_t lanes[16];
        _mm512_storeu_si512(lanes, sums);
        const int width = JSTOP - j0 < 16 ? JSTOP - j0 : 16;
        for (int l = 0; l < width; l += 1) {{
            const int j = j0 + l;
            int32_t acc = ACC0 + lanes[l];
            XP_REST();
        }}
    }}
}}
"""
_PANEL_OPERANDS = {True: ("_mm512_set1_epi32(quad)", "_mm512_loadu_si512(panel + g * 64)"),  # X is the uint8 one
                   False: ("_mm512_loadu_si512(panel + g * 64)", "_mm512_set1_epi32(quad)")}

_PACK = """
void xp_pack(int JS, int JSTOP, int KS, int KSTOP, int8_t YV) {
    const int panels = JSTOP - JS > 0 ? (JSTOP - JS + 15) / 16 : 0;
    const int groups = KSTOP - KS > 0 ? (KSTOP - KS + 3) / 4 : 0;
    int8_t* packed = (int8_t*)malloc((size_t)panels * groups * 64 + 64);
    for (int pb = 0; pb < panels; pb += 1) {
        for (int g = 0; g < groups; g += 1) {
            for (int l = 0; l < 16; l += 1) {
                for (int t = 0; t < 4; t += 1) {
                    const int jj = JS + pb * 16 + l;
                    const int kk = KS + g * 4 + t;
                    packed[((pb * groups + g) * 16 + l) * 4 + t] = jj < JSTOP && kk < KSTOP ? (int8_t)YV : (int8_t)0;
                }
            }
        }
    }
}
"""

_DOT = """
void XP_TAIL();
void xp_dot(int KS, int KSTOP, const uint8_t* UROW, const int8_t* SROW, int acc) {
    const int vector_end = KS + (KSTOP - KS) / 64 * 64;
    __m512i sums = _mm512_setzero_si512();
    for (int k0 = KS; k0 < vector_end; k0 += 64) {
        sums = _mm512_dpbusd_epi32(sums, _mm512_loadu_si512(UROW + (k0 - KS)), _mm512_loadu_si512(SROW + (k0 - KS)));
    }
    acc += _mm512_reduce_add_epi32(sums);
    XP_TAIL();
}
"""
_INT8_PAIR = frozenset({DType.uint8, DType.int8})


def _tensorize_cpp(module: Module, options: TensorizeOptions) -> Module:
    vnni = module.map_functions(lambda fn: _vnni(module, fn) if fn.body is not None else fn)
    if vnni != module:
        vnni = _with_includes(vnni, ("<immintrin.h>", "<cstring>", "<cstdlib>"))
    changed = vnni.map_functions(lambda fn: _omp_simd(vnni, fn) if fn.body is not None else fn)
    if changed == module:
        raise PassRefused(NOT_APPLICABLE, "tensorize: no uint8 x int8 contraction for AVX-512 VNNI and no innermost "
                                          "loop free of dependences for `omp simd`")
    return changed


def _with_includes(module: Module, headers: tuple[str, ...]) -> Module:
    return dataclasses.replace(module, includes=module.includes + tuple(h for h in headers
                                                                        if h not in module.includes))


def _vnni(module: Module, fn: Function) -> Function:
    """fn with each uint8 x int8 contraction rewritten to `_mm512_dpbusd_epi32` (panel shape first, then dot)."""
    taken = names_taken(module, fn)
    done: set[For] = set()  # loops this rewrite made (a dot form's scalar remainder is itself a contraction)
    while True:
        elements = pointer_elements(fn)
        types = {n.name: n.type for n in walk(fn.body) if isinstance(n, Decl)}
        rewrite = None
        for match in loops_with_ancestors(fn.body, ()):
            if match.loop in done:
                continue
            rewrite = _panel(match, elements, types, taken, done) or _dot(match, elements, types, taken, done)
            if rewrite is not None:
                break
        if rewrite is None:
            return fn
        fn = dataclasses.replace(fn, body=rewrite(fn.body))


def _int8_contraction(loop: For, elements: dict, types: dict) -> Contraction | None:
    found = contraction(loop, elements)
    if found is None or {found.lhs.dtype, found.rhs.dtype} != _INT8_PAIR:
        return None
    acc_type = types.get(found.acc)
    return found if isinstance(acc_type, ScalarType) and acc_type.dtype == DType.int32 else None


def _panel(match: LoopMatch, elements: dict, types: dict, taken: set[str], done: set[For]):
    """The rewrite of a j-loop of the panel shape, or None."""
    jl = canonical(match.loop)
    body = match.loop.body.body
    if jl is None or jl.step != 1 or len(body) < 2 or not isinstance(body[0], Decl) or not isinstance(body[1], For):
        return None
    acc_decl, found = body[0], _int8_contraction(body[1], elements, types)
    if found is None or found.acc != acc_decl.name or acc_decl.init is None or types.get(acc_decl.name) is None:
        return None
    if _reads(acc_decl.init) or jl.var in names_in(acc_decl.init):
        return None
    rest = body[2:]
    j, k = jl.var, found.k
    for x, y in ((found.lhs, found.rhs), (found.rhs, found.lhs)):
        if coefficient(x.index, j) == 0 and coefficient(x.index, k) == 1:
            break
    else:
        return None
    bounds = (jl.start, jl.stop, found.start, found.stop)
    deps = (names_in(y.index) | set().union(*(names_in(b) for b in bounds))) - {j, k}
    if k in set().union(*(names_in(b) for b in bounds)) or deps & (declared_names(match.loop) | {j}):
        return None
    if {x.name, y.name} & _stored(match.loop) or any(isinstance(n, (Break, Continue, Return)) for n in walk(Block(rest))):
        return None
    outer = _pack_site(match, deps, y.name)
    if outer is match.loop:
        return None  # packing pays only when an enclosing loop reuses the panels (else: the dot shape)
    jj, kk = fresh_name_in("xp_j", taken), fresh_name_in("xp_k", taken)
    packed_value = substitute(substitute(y.index, j, Var(jj)), k, Var(kk))
    limits = {"JS": jl.start, "JSTOP": jl.stop, "KS": found.start, "KSTOP": found.stop}
    pack = instantiate(_PACK, "cpp", {**limits, "YV": Index(Var(y.name), packed_value)},
                       {"jj": jj, "kk": kk}, taken)
    packed, groups = pack[2].name, pack[1].name
    above = match.ancestors[:next(i for i, a in enumerate(match.ancestors) if a is outer)]
    if not any(isinstance(a, For) and _is_parallel(a) for a in above):  # outside any parallel region
        pack = pack[:3] + (dataclasses.replace(pack[3], pragmas=("omp parallel for",)),)
    x_row = UnaryOp("&", Index(Var(x.name), substitute(x.index, k, found.start)))
    u, s = _PANEL_OPERANDS[x.dtype == DType.uint8]
    loop = instantiate(_PANEL.format(u=u, s=s), "cpp",
                       {**limits, "XROW": x_row, "packed": Var(packed), "groups": Var(groups), "ACC0": acc_decl.init},
                       {"j": j, "acc": acc_decl.name}, taken)[0]
    loop = fill_statements(loop, "XP_REST", rest)
    done.update(n for n in walk(loop) if isinstance(n, For))
    release = ExprStmt(Call("free", (Var(packed),)))

    def rewrite(fn_body: Block) -> Block:
        return splice(fn_body, outer, (Block(pack + (splice(outer, match.loop, (loop,)), release)),))
    return rewrite


def _dot(match: LoopMatch, elements: dict, types: dict, taken: set[str], done: set[For]):
    """The rewrite of a contraction loop whose operands are both contiguous in k, or None."""
    found = _int8_contraction(match.loop, elements, types)
    if found is None or coefficient(found.lhs.index, found.k) != 1 or coefficient(found.rhs.index, found.k) != 1:
        return None
    u, s = (found.lhs, found.rhs) if found.lhs.dtype == DType.uint8 else (found.rhs, found.lhs)
    row = {name: UnaryOp("&", Index(Var(o.name), substitute(o.index, found.k, found.start)))
           for name, o in (("UROW", u), ("SROW", s))}
    stmts = instantiate(_DOT, "cpp", {"KS": found.start, "KSTOP": found.stop, **row, "acc": Var(found.acc)}, {},
                        taken)
    tail = dataclasses.replace(match.loop, init=(dataclasses.replace(match.loop.init[0], init=Var(stmts[0].name)),))
    done.add(tail)
    stmts = fill_statements(Block(stmts), "XP_TAIL", (tail,)).body
    done.update(n for n in walk(Block(stmts)) if isinstance(n, For))
    return lambda fn_body: splice(fn_body, match.loop, stmts)


def _pack_site(match: LoopMatch, deps: set[str], packed: str) -> For:
    """The outermost loop around (or at) the j-loop over which the packed operand and its bounds do not change."""
    site = match.loop
    for node in reversed(match.ancestors):
        if not isinstance(node, For):
            continue
        var = loop_var(node)
        if var is None or deps & (declared_names(node) | written_names(node) | {var}) or packed in _stored(node):
            break
        site = node
    return site


def _stored(node: Node) -> set[str]:
    """Buffers written through an index (or by a call that takes their address) under node."""
    out = {n.target.base.name for n in walk(node) if isinstance(n, Assign) and isinstance(n.target, Index)
           and isinstance(n.target.base, Var)}
    return out | {a.name for n in walk(node) if isinstance(n, Call) and n.name not in PURE_CALLS
                  for a in n.args if isinstance(a, Var)}


def _reads(e: Expr) -> bool:
    return any(isinstance(n, (Index, Call)) or isinstance(n, UnaryOp) and n.op == "*" for n in walk(e))


def _is_parallel(loop: For) -> bool:
    return loop.kind == ForKind.parallel or any(p.startswith("omp parallel") for p in loop.pragmas)


def _omp_simd(module: Module, fn: Function) -> Function:
    """fn with `#pragma omp simd` on each innermost loop whose iterations are independent (scalar sums get a
    reduction clause)."""
    matches = [m for m in loops_with_ancestors(fn.body, ()) if not any(isinstance(n, (For, While, DoWhile))
                                                                         for n in walk(m.loop.body))]
    for match in matches:
        clause = _simd_clause(module, fn, match)
        if clause is None:
            continue
        current = match.loop.pragmas or (("omp parallel for",) if match.loop.kind == ForKind.parallel else ())
        pragmas = tuple(p + " simd" if p == "omp parallel for" else p for p in current)
        if pragmas == current:
            pragmas += (clause,)
        fn = dataclasses.replace(fn, body=splice(fn.body, match.loop,
                                                 (dataclasses.replace(match.loop, pragmas=pragmas),)))
    return fn


def _simd_clause(module: Module, fn: Function, match: LoopMatch) -> str | None:
    view = canonical(match.loop)
    if view is None or match.loop.kind == ForKind.vectorized or any("simd" in p for p in match.loop.pragmas) \
            or not _vector_body(match.loop.body) or _collapsed_into_parent(match) or _inside_simd(match):
        return None
    try:
        levels, accesses = analyze(module, fn, [view], match.loop.body.body, enclosing_vars(match), parallel=False)
    except XpilerError:
        return None
    sums = set()
    for a, b in conflicting_pairs(accesses):
        if not (view.var in varying_levels(a, b, levels, fn)):
            continue
        if a.indices == () and is_reduction_only(a.base, accesses) and {a.reduction, b.reduction} <= {"+", "-"}:
            sums.add(a.base)
            continue
        return None
    return "omp simd" + (f" reduction(+:{', '.join(sorted(sums))})" if sums else "")


def _inside_simd(match: LoopMatch) -> bool:
    """An enclosing loop is a SIMD loop already (simdize's lanes around a register tile's k loop): OpenMP allows
    no `simd` inside `simd`, and the lanes are the vector dimension."""
    return any(isinstance(n, For) and (n.kind == ForKind.vectorized or any("simd" in p for p in n.pragmas))
               for n in match.ancestors)


def _collapsed_into_parent(match: LoopMatch) -> bool:
    """The loop is the inner level of its parent's `collapse(2)`: a pragma between the two would break the
    perfect nesting OpenMP requires (g++ rejects it)."""
    parent = next((n for n in reversed(match.ancestors) if isinstance(n, For)), None)
    return parent is not None and any("collapse(" in p for p in parent.pragmas)


def _vector_body(body: Block) -> bool:
    """Straight-line arithmetic on array elements and scalars: what gcc's vectorizer takes."""
    return any(isinstance(n, Index) for n in walk(body)) and not any(
        isinstance(n, (Break, Continue, Return, Barrier)) or isinstance(n, Call) and n.name not in PURE_CALLS
        or isinstance(n, UnaryOp) and n.op in ("&", "++", "--") for n in walk(body))


# ---------------------------------------------------------------- CUDA / HIP: tensor cores -----------------
#
# Preconditions, checked per kernel (the shape `cache` gives a matmul kernel): every launch has 16 x 16 thread
# blocks; a shared-tile step loop (patterns.shared_steps) at the kernel's top level whose compute part holds
#     for (int kk = 0; kk < kc; kk += 1) acc += (float)SA[ty][kk] * (float)SB[kk][tx];
# with SA, SB distinct `__shared__ half [16][16]` tiles, ty/tx the thread's threadIdx.y/x, acc a float declared at
# the kernel's top level and used nowhere else in the loop, and kc at most 16 and the same for every thread (it
# depends on the step and the parameters only). The step then runs on the matrix cores of one warp (CUDA:
# `wmma` 16x16x16, half inputs, float accumulator) or one wavefront (HIP: `__builtin_amdgcn_mfma_f32_16x16x16f16`
# in the lane layout documented in kernel_ir/runtime/xp_hip.h): every thread's acc goes into a float tile, the
# accumulator fragment is loaded once, each step multiplies the two tiles (a last step with kc < 16 first
# zeroes SA's columns and SB's rows past kc, so the padding adds exact zeros), and after the loop every thread
# reads its acc back. Products of halves are exact in float and the executor's emulation adds them in k order,
# so its results equal the scalar loop's bit for bit (a zero added to -0.0 gives +0.0); real tensor cores
# may add in another order: within the verifier's float tolerance.

_WMMA = """
__device__ void XP_STEPS();
__device__ void xp_wmma(float ACC, int TY, int TX) {
    __shared__ __align__(32) float tile_c[16][16];
    nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, 16, float> c_frag;
    const bool lead = threadIdx.y * blockDim.x + threadIdx.x < 32;
    tile_c[TY][TX] = ACC;
    __syncthreads();
    if (lead) {
        nvcuda::wmma::load_matrix_sync(c_frag, &tile_c[0][0], 16, nvcuda::wmma::mem_row_major);
    }
    XP_STEPS();
    if (lead) {
        nvcuda::wmma::store_matrix_sync(&tile_c[0][0], c_frag, 16, nvcuda::wmma::mem_row_major);
    }
    __syncthreads();
    ACC = tile_c[TY][TX];
}
"""
_WMMA_STEP = """
__device__ void xp_wmma_step({a} SA[16][16], {a} SB[16][16],
                             nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, 16, float>& c_frag) {{
    nvcuda::wmma::fragment<nvcuda::wmma::matrix_a, 16, 16, 16, {a}, nvcuda::wmma::row_major> a_frag;
    nvcuda::wmma::fragment<nvcuda::wmma::matrix_b, 16, 16, 16, {a}, nvcuda::wmma::row_major> b_frag;
    nvcuda::wmma::load_matrix_sync(a_frag, &SA[0][0], 16);
    nvcuda::wmma::load_matrix_sync(b_frag, &SB[0][0], 16);
    nvcuda::wmma::mma_sync(c_frag, a_frag, b_frag, c_frag);
}}
"""
_MFMA_TYPES = ("typedef _Float16 xp_half4 __attribute__((ext_vector_type(4)));",
               "typedef float xp_float4 __attribute__((ext_vector_type(4)));")
_MFMA = "\n".join(_MFMA_TYPES) + """
__device__ void XP_STEPS();
__device__ void xp_mfma(float ACC, int TY, int TX) {
    __shared__ float tile_c[16][16];
    const int lane = threadIdx.y * blockDim.x + threadIdx.x;
    const bool lead = lane < 64;
    tile_c[TY][TX] = ACC;
    __syncthreads();
    xp_float4 c_frag;
    if (lead) {
        for (int r = 0; r < 4; r += 1) {
            c_frag[r] = tile_c[4 * (lane / 16) + r][lane % 16];
        }
    }
    XP_STEPS();
    if (lead) {
        for (int r = 0; r < 4; r += 1) {
            tile_c[4 * (lane / 16) + r][lane % 16] = c_frag[r];
        }
    }
    __syncthreads();
    ACC = tile_c[TY][TX];
}
"""
_MFMA_STEP = "\n".join(_MFMA_TYPES) + """
__device__ void xp_mfma_step({a} SA[16][16], {a} SB[16][16], int lane, xp_float4& c_frag) {{
    xp_half4 a_frag;
    xp_half4 b_frag;
    for (int t = 0; t < 4; t += 1) {{
        a_frag[t] = (_Float16)(float)SA[lane % 16][4 * (lane / 16) + t];
        b_frag[t] = (_Float16)(float)SB[4 * (lane / 16) + t][lane % 16];
    }}
    c_frag = __builtin_amdgcn_mfma_f32_16x16x16f16(a_frag, b_frag, c_frag, 0, 0, 0);
}}
"""
_ZERO_PADDING = """
__device__ void xp_zero_padding({a} SA[16][16], {a} SB[16][16], int TY, int TX, int KC) {{
    if (KC < 16) {{
        if (TX >= KC) {{
            SA[TY][TX] = ({a})0;
        }}
        if (TY >= KC) {{
            SB[TY][TX] = ({a})0;
        }}
        __syncthreads();
    }}
}}
"""
_MATRIX_CORES = {"cuda": (_WMMA, _WMMA_STEP, "wmma 16x16x16"), "hip": (_MFMA, _MFMA_STEP, "MFMA 16x16x16f16")}
_HALF = ScalarType(DType.float16)


@dataclass(frozen=True)
class _TileProduct:
    step: object  # patterns.SharedStep
    inner: For
    acc: Decl
    a: str
    b: str
    ty: str
    tx: str
    kc: Expr


def _tensorize_simt(module: Module, options: TensorizeOptions) -> Module:
    reasons: list[str] = []
    changed = module.map_functions(lambda fn: _matrix_cores(module, fn, reasons)
                                   if fn.body is not None and FuncQual.global_ in fn.qualifiers else fn)
    if changed == module:
        raise PassRefused(NOT_APPLICABLE, "tensorize: no kernel multiplies 16 x 16 half __shared__ tiles into a "
                                          "float accumulator" + (f" ({'; '.join(reasons)})" if reasons else ""))
    if module.dialect == "cuda":
        return _with_includes(changed, ("<mma.h>",))
    present = {item.text for item in changed.items if isinstance(item, Verbatim)}
    typedefs = tuple(Verbatim(t) for t in _MFMA_TYPES if t not in present)  # the MFMA operand vectors
    return dataclasses.replace(changed, items=typedefs + changed.items)


def _matrix_cores(module: Module, fn: Function, reasons: list[str]) -> Function:
    """fn with its half-tile k-steps on the matrix cores, or fn when it has none (the reason in `reasons`)."""
    square = Construct(NamedType("dim3"), (Const(16, DType.int32), Const(16, DType.int32)))
    blocks = launch_blocks(module, fn.name)
    if not blocks or blocks != {square}:
        reasons.append(f"{fn.name}: not launched with 16 x 16 thread blocks")
        return fn
    for step in shared_steps(fn):
        found = _tile_product(fn, step)
        if isinstance(found, str):
            reasons.append(f"{fn.name}: {found}")
            continue
        return _on_matrix_cores(module, fn, found)
    reasons.append(f"{fn.name}: no k-step over __shared__ tiles")
    return fn


def _tile_product(fn: Function, step) -> _TileProduct | str:
    """The tile product of a shared step's compute part, or why it has none."""
    top = {s.name: s for s in fn.body.body if isinstance(s, Decl)}
    threads = {name: d.init.axis for name, d in top.items() if d.type == ScalarType(DType.int32, const=True)
               and d.init is not None and isinstance(d.init, BuiltinVar) and d.init.name == "threadIdx"}
    inner = [s for s in step.compute if isinstance(s, For)]
    if len(inner) != 1 or len(inner[0].body.body) != 1:
        return "the step does not run one reduction loop"
    loop = inner[0]
    view = canonical(loop)
    s = loop.body.body[0]
    if isinstance(s, ExprStmt) and isinstance(s.expr, BinOp) and s.expr.op == "+=":
        s = Assign(s.expr.lhs, s.expr.rhs, "+")
    if view is None or view.step != 1 or view.start != Const(0, DType.int32) or not isinstance(s, Assign) \
            or s.op != "+" or not isinstance(s.target, Var):
        return "the step's loop is not `acc += ...` from 0"
    acc = top.get(s.target.name)
    product = s.value
    if acc is None or acc.type != F32 or not isinstance(product, BinOp) or product.op != "*" \
            or not all(isinstance(f, Cast) and f.type == F32 for f in (product.lhs, product.rhs)):
        return "the step does not add float products of two values to a float declared in the kernel"
    kk = view.var
    reads = [f.expr for f in (product.lhs, product.rhs)]
    shapes = {}
    for read in reads:
        if not (isinstance(read, Index) and isinstance(read.base, Index) and isinstance(read.base.base, Var)):
            return "a factor is not an element of a 2-D tile"
        row, col = read.base.index, read.index
        if col == Var(kk) and isinstance(row, Var) and threads.get(row.name) == "y":
            shapes["a"] = (read.base.base.name, row.name)
        elif row == Var(kk) and isinstance(col, Var) and threads.get(col.name) == "x":
            shapes["b"] = (read.base.base.name, col.name)
    if len(shapes) != 2 or shapes["a"][0] == shapes["b"][0]:
        return "the factors are not SA[threadIdx.y][kk] and SB[kk][threadIdx.x] of two tiles"
    tile_type = ArrayType(ArrayType(_HALF, Const(16, DType.int32)), Const(16, DType.int32))
    for name in (shapes["a"][0], shapes["b"][0]):
        d = top.get(name)
        if d is None or d.scope != MemScope.shared or dataclasses.replace(d.type, element=dataclasses.replace(
                d.type.element, element=dataclasses.replace(d.type.element.element, spelling=None))) != tile_type:
            return f"{name} is not a __shared__ half [16][16] tile"
    uniform = {p.name for p in fn.params} | {loop_var(step.loop)}
    local = {d.name: d for d in step.compute if isinstance(d, Decl)}
    kc = local[view.stop.name].init if isinstance(view.stop, Var) and view.stop.name in local else view.stop
    if upper_bound(view.stop, {n: d.init for n, d in local.items() if d.init is not None}) is None \
            or upper_bound(view.stop, {n: d.init for n, d in local.items() if d.init is not None}) > 16 \
            or not names_in(kc) <= uniform:
        return "the step's length is not at most 16 and the same for every thread"
    outside = transform(step.loop, lambda n: Block(()) if n is loop else None)
    if acc.name in names_in(outside):
        return f"{acc.name} is used elsewhere in the k-loop"
    return _TileProduct(step, loop, acc, shapes["a"][0], shapes["b"][0], shapes["a"][1], shapes["b"][1], view.stop)


def _on_matrix_cores(module: Module, fn: Function, found: _TileProduct) -> Function:
    frame, step_text, _ = _MATRIX_CORES[module.dialect]
    taken = names_taken(module, fn)
    names = {n: fresh_name_in(f"xp_{n}", taken) for n in ("tile_c", "c_frag", "lead", "lane", "a_frag", "b_frag")}
    tiles = {"SA": Var(found.a), "SB": Var(found.b), "TY": Var(found.ty), "TX": Var(found.tx), "KC": found.kc,
             "ACC": Var(found.acc.name), "lane": Var(names["lane"])}
    around = instantiate(frame, module.dialect, tiles, names, taken)
    padding = instantiate(_ZERO_PADDING.format(a="__half"), module.dialect, tiles, names, taken) \
        if found.kc != Const(16, DType.int32) else ()
    multiply = instantiate(step_text.format(a="__half"), module.dialect, tiles, names, taken)
    multiply = (If(Var(names["lead"]), Block(multiply)),)
    steps = splice(found.step.loop, found.inner, padding + multiply)
    body = splice(fn.body, found.step.loop, tuple(fill_statements(Block(around), "XP_STEPS", (steps,)).body))
    aligned = {found.a, found.b}
    body = Block(tuple(dataclasses.replace(s, align=32) if isinstance(s, Decl) and s.name in aligned else s
                       for s in body.body))
    return dataclasses.replace(fn, body=body)


_RULES = {"bang": _tensorize_bang, "cpp": _tensorize_cpp, "cuda": _tensorize_simt, "hip": _tensorize_simt}
