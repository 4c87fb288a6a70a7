"""Semantics of the BANG C intrinsics as loops, for `detensorize`.

The executable spec is the emulation runtime (`kernel_ir/runtime/include/bang_*.h`): every lowering computes
what its function there computes. Counts are in elements, sizes and strides in bytes; the element type is the
one of the destination pointer (deduced from declarations). half operands are computed in float and rounded
once to half; sums of products and reductions accumulate in double (int64 for integers), like the runtime.
Transcendental activations use the float libm functions (the runtime uses double, so results may differ in the
last bit; the hardware's tables are far less exact than either).

Copies (`__memcpy` in every direction, strided 2-D and 3-D forms) become element loops when the byte counts are
visibly multiples of the element size (`n * sizeof(float)`), else byte loops; the direction does not matter on
one memory. Functions whose output is produced through a temporary in the runtime (pooling, transpose, matmul)
are refused when dst and a source are the same buffer (XP503), since the loops write in place.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

from kernel_ir.ir import (
    ArrayType, NamedType, Assign, BinOp, Block, Call, Cast, Const, Decl, DType, Expr, ExprStmt, If, Index, PointerType, ScalarType, Select,
    SizeOf, Stmt, Type, UnaryOp, Var,
)
from passes.base import PassRefused
from passes.detensorize import IntrinsicTable, LowerContext, add, cast, const, element_type, loop, mul, view

F16, F32, F64, I64, U8, U32, I32 = DType.float16, DType.float32, DType.float64, DType.int64, DType.uint8, DType.uint32, DType.int32

_RUNTIME_CALLS = ("__memcpy", "__memcpy_async", "__memset_nram", "__memset_nram_async", "__nramset",
                  "__nramset_async", "__gdramset", "__sramset", "__ldramset")


def _is_intrinsic(name: str) -> bool:
    return name.startswith("__bang_") or name in _RUNTIME_CALLS


TABLE = IntrinsicTable("bang", _is_intrinsic, includes=("<cmath>", "<cstring>"))


# ---------------------------------------------------------------- helpers ------------------------------------

def elem(ctx: LowerContext, call: Call, position: int) -> Type:
    """Element type of pointer argument `position`: a scalar type, or a template parameter's named type."""
    t = element_type(ctx.type_of(call.args[position]))
    while isinstance(t, ArrayType):
        t = t.element
    if not isinstance(t, (ScalarType, NamedType)):
        raise PassRefused("XP503", f"{call.name}: the element type of argument {position + 1} is not known",
                          hint="cast the pointer to its element type")
    return dataclasses.replace(t, const=False)


def is_half(t: Type) -> bool:
    return isinstance(t, ScalarType) and t.dtype in (F16, DType.bfloat16)


def load(e: Expr, i: Expr, t: Type) -> Expr:
    """Element i of e as its computation type: half is computed in float, everything else in itself."""
    return cast(F32, Index(e, i)) if is_half(t) else Index(e, i)


def store(t: Type, value: Expr) -> Expr:
    return Cast(t, value)


def size_of(t: Type) -> Expr:
    return const(t.dtype.bits // 8) if isinstance(t, ScalarType) else SizeOf(t)


def element_count(ctx: LowerContext, size: Expr, elem_bytes: int) -> Expr | None:
    """`size` bytes as a count of elements of `elem_bytes`, when that is visibly exact; else None."""
    value = ctx.int_value(size)
    if value is not None:
        return const(value // elem_bytes) if value % elem_bytes == 0 else None
    if isinstance(size, Cast):
        return element_count(ctx, size.expr, elem_bytes)
    if isinstance(size, SizeOf):
        t = size.arg
        return const(1) if isinstance(t, ScalarType) and t.dtype.bits // 8 == elem_bytes else None
    if isinstance(size, BinOp) and size.op == "*":
        for a, b in ((size.lhs, size.rhs), (size.rhs, size.lhs)):
            count = element_count(ctx, b, elem_bytes)
            if count is not None:
                return a if count == const(1) else mul(a, count)
    return None


def same_buffer(a: Expr, b: Expr) -> bool:
    """Both pointers are offsets of the same variable (their base names are equal)."""
    def base(e: Expr) -> str | None:
        while True:
            if isinstance(e, Var):
                return e.name
            if isinstance(e, BinOp) and e.op in ("+", "-"):
                e = e.lhs
            elif isinstance(e, (Cast,)):
                e = e.expr
            elif isinstance(e, UnaryOp) and e.op == "&":
                e = e.operand
            elif isinstance(e, Index):
                e = e.base
            else:
                return None
    x, y = base(a), base(b)
    return x is not None and x == y


def refuse_alias(call: Call, dst: int, *sources: int) -> None:
    for s in sources:
        if same_buffer(call.args[dst], call.args[s]):
            raise PassRefused("XP503", f"{call.name} with the destination in the same buffer as an operand",
                              hint="the runtime computes it through a temporary; use a separate destination buffer")


def each(ctx: LowerContext, count: Expr, body: Callable[[Expr], list[Stmt]], name: str = "i") -> list[Stmt]:
    v = ctx.fresh(name)
    return [loop(v, count, body(Var(v)))]


def f32_math(name: str) -> Callable[[Expr], Expr]:
    return lambda x: Call(name, (x,))


# ---------------------------------------------------------------- data movement ------------------------------

def _copy_segment(ctx: LowerContext, dst: Expr, src: Expr, size: Expr) -> tuple[Expr, Expr, Expr, int]:
    """(dst, src, count, element bytes) for copying `size` bytes: typed when exact, bytes otherwise."""
    dt, st = ctx.element_dtype(dst), ctx.element_dtype(src)
    if dt is not None and dt == st:
        count = element_count(ctx, size, dt.bits // 8)
        if count is not None:
            return dst, src, count, dt.bits // 8
    return view(dst, U8), view(src, U8, const_=True), size, 1


def _offset(ptr: Expr, byte_offset: Expr, elem_bytes: int, ctx: LowerContext) -> Expr:
    """ptr advanced by `byte_offset` bytes (in elements when that is exact, else through a byte view)."""
    if elem_bytes > 1:
        count = element_count(ctx, byte_offset, elem_bytes)
        if count is not None:
            return add(ptr, count)
    return add(view(ptr, U8), byte_offset)


@TABLE.impl("__memcpy", "__memcpy_async")
def memcpy(ctx: LowerContext, call: Call, dst_: Expr | None) -> list[Stmt]:
    """1-D (4 args, or 5 with a cluster id), 2-D (7: dst_stride, src_stride, segnum) and 3-D (12) copies."""
    args = call.args
    dst, src, size = args[0], args[1], args[2]
    n = len(args)
    if n in (4, 5):
        if n == 5 and "SRAM2SRAM" in str(args[3]):
            raise PassRefused("XP501", "no semantics for __memcpy to another cluster's SRAM")
        d, s, count, _ = _copy_segment(ctx, dst, src, size)
        return each(ctx, count, lambda i: [Assign(Index(d, i), Index(s, i))])
    if n in (7, 8):  # segnum + 1 segments, strides in bytes
        dst_stride, src_stride, segnum = args[4], args[5], args[6]
        return _segments(ctx, dst, src, size, [(dst_stride, src_stride, add(segnum, 1))])
    if n in (12, 13):
        ds0, dn1, ds1, dn2, ss0, sn1, ss1, sn2 = args[4:12]
        if ctx.int_value(BinOp("-", dn1, sn1)) == 0 and ctx.int_value(BinOp("-", dn2, sn2)) == 0 or (
                dn1 == sn1 and dn2 == sn2):
            return _segments(ctx, dst, src, size, [(ds1, ss1, add(dn2, 1)), (ds0, ss0, add(dn1, 1))])
        raise PassRefused("XP501", "no semantics for a 3-D __memcpy whose source and destination segment "
                          "shapes differ", hint="use equal segnum1/segnum2 on both sides")
    raise PassRefused("XP501", f"no semantics for __memcpy with {n} arguments")


def _segments(ctx: LowerContext, dst: Expr, src: Expr, size: Expr,
              dims: list[tuple[Expr, Expr, Expr]]) -> list[Stmt]:
    """Nested loops over segment indices (outermost first): segment (j...) at sum(j * stride) on each side."""
    dst_bytes = ctx.element_dtype(dst)
    src_bytes = ctx.element_dtype(src)
    same = dst_bytes is not None and dst_bytes == src_bytes
    eb = dst_bytes.bits // 8 if same else 1
    names = [ctx.fresh("seg") for _ in dims]
    d, s = dst, src
    exact = same
    for name, (ds, ss, _) in zip(names, dims):
        dc, sc = element_count(ctx, ds, eb), element_count(ctx, ss, eb)
        exact = exact and dc is not None and sc is not None
    count = element_count(ctx, size, eb) if exact else None
    if count is None:  # bytes throughout
        d, s = view(dst, U8), view(src, U8, const_=True)
        for name, (ds, ss, _) in zip(names, dims):
            d, s = add(d, mul(Var(name), ds)), add(s, mul(Var(name), ss))
        count = size
    else:
        for name, (ds, ss, _) in zip(names, dims):
            d = add(d, mul(Var(name), element_count(ctx, ds, eb)))
            s = add(s, mul(Var(name), element_count(ctx, ss, eb)))
    i = ctx.fresh("i")
    body: list[Stmt] = [loop(i, count, [Assign(Index(d, Var(i)), Index(s, Var(i)))])]
    for name, (_, _, extent) in reversed(list(zip(names, dims))):
        body = [loop(name, extent, body)]
    return body


def _fill(value_position: int, zero: bool = False):
    def lower(ctx: LowerContext, call: Call, dst_: Expr | None) -> list[Stmt]:
        dst, count = call.args[0], call.args[1]
        dt = elem(ctx, call, 0)
        if zero:
            return each(ctx, count, lambda i: [Assign(Index(dst, i), store(dt, const(0)))])
        value = call.args[value_position]
        vt = ctx.type_of(value)
        # the runtime overloads on the value's type: it writes elements of the value's own size
        vdt = dataclasses.replace(vt, const=False) if isinstance(vt, ScalarType) else dt
        target = dst if vdt == dt else Cast(PointerType(vdt), dst)
        if len(call.args) > 3:
            raise PassRefused("XP501", f"no semantics for the strided form of {call.name}")
        return each(ctx, count, lambda i: [Assign(Index(target, i), store(vdt, value))])
    return lower


TABLE.add("__bang_write_zero", _fill(0, zero=True))
for _name in ("__bang_write_value", "__memset_nram", "__memset_nram_async", "__nramset", "__nramset_async",
              "__gdramset", "__sramset", "__ldramset"):
    TABLE.add(_name, _fill(2))


# ---------------------------------------------------------------- element-wise -------------------------------

def _binary(fn: Callable[[Expr, Expr], Expr]):
    def lower(ctx: LowerContext, call: Call, dst_: Expr | None) -> list[Stmt]:
        dst, a, b, n = call.args
        dt = elem(ctx, call, 0)
        return each(ctx, n, lambda i: [Assign(Index(dst, i), store(dt, fn(load(a, i, dt), load(b, i, dt))))])
    return lower


def _scalar(fn: Callable[[Expr, Expr], Expr]):
    def lower(ctx: LowerContext, call: Call, dst_: Expr | None) -> list[Stmt]:
        dst, a, value, n = call.args
        dt = elem(ctx, call, 0)
        v = ctx.fresh("v")
        calc = ScalarType(F32) if is_half(dt) else dt
        return [Decl(v, dataclasses.replace(calc, const=True), Cast(calc, store(dt, value)))] + each(
            ctx, n, lambda i: [Assign(Index(dst, i), store(dt, fn(load(a, i, dt), Var(v))))])
    return lower


def _cycle(fn: Callable[[Expr, Expr], Expr]):
    def lower(ctx: LowerContext, call: Call, dst_: Expr | None) -> list[Stmt]:
        dst, a, seg, n, seg_n = call.args
        dt = elem(ctx, call, 0)
        return each(ctx, n, lambda i: [Assign(Index(dst, i), store(dt, fn(
            load(a, i, dt), load(seg, BinOp("%", i, seg_n), dt))))])
    return lower


def _unary(fn: Callable[[Expr], Expr]):
    def lower(ctx: LowerContext, call: Call, dst_: Expr | None) -> list[Stmt]:
        dst, a, n = call.args[0], call.args[1], call.args[-1]
        dt = elem(ctx, call, 0)
        return each(ctx, n, lambda i: [Assign(Index(dst, i), store(dt, fn(load(a, i, dt))))])
    return lower


def _flag(op: str) -> Callable[[Expr, Expr], Expr]:
    return lambda a, b: Select(BinOp(op, a, b), const(1), const(0))


def _logic(op: str) -> Callable[[Expr, Expr], Expr]:
    if op == "xor":
        return lambda a, b: Select(BinOp("!=", BinOp("!=", a, const(0)), BinOp("!=", b, const(0))), const(1), const(0))
    c_op = "&&" if op == "and" else "||"
    return lambda a, b: Select(BinOp(c_op, BinOp("!=", a, const(0)), BinOp("!=", b, const(0))), const(1), const(0))


BINARY: dict[str, Callable[[Expr, Expr], Expr]] = {
    "add": lambda a, b: BinOp("+", a, b), "sub": lambda a, b: BinOp("-", a, b), "mul": lambda a, b: BinOp("*", a, b),
    "maxequal": lambda a, b: Select(BinOp(">", b, a), b, a), "minequal": lambda a, b: Select(BinOp("<", b, a), b, a),
    "eq": _flag("=="), "ne": _flag("!="), "gt": _flag(">"), "ge": _flag(">="), "lt": _flag("<"), "le": _flag("<="),
    "and": _logic("and"), "or": _logic("or"), "xor": _logic("xor"),
}
for _op, _fn in {**BINARY, "div": lambda a, b: BinOp("/", a, b),
                 "band": lambda a, b: BinOp("&", a, b), "bor": lambda a, b: BinOp("|", a, b),
                 "bxor": lambda a, b: BinOp("^", a, b), "maximum": lambda a, b: Call("fmaxf", (a, b)),
                 "minimum": lambda a, b: Call("fminf", (a, b))}.items():
    TABLE.add(f"__bang_{_op}", _binary(_fn))
    TABLE.add(f"__bang_cycle_{_op}", _cycle(_fn))
for _op, _fn in {**BINARY, "maxeq": BINARY["maxequal"], "mineq": BINARY["minequal"]}.items():
    if _op not in ("maxequal", "minequal"):
        TABLE.add(f"__bang_{_op}_scalar", _scalar(_fn))
for _op in ("add", "sub", "mul"):
    TABLE.add(f"__bang_{_op}_const", _scalar(BINARY[_op]))


def _sigmoid(x: Expr) -> Expr:
    return BinOp("/", Const(1.0, F32), BinOp("+", Const(1.0, F32), Call("expf", (UnaryOp("-", x),))))


def _gelu(x: Expr) -> Expr:
    cube = BinOp("*", BinOp("*", x, x), x)
    inner = BinOp("*", Const(0.7978845608028654, F32), BinOp("+", x, BinOp("*", Const(0.044715, F32), cube)))
    return BinOp("*", BinOp("*", Const(0.5, F32), x), BinOp("+", Const(1.0, F32), Call("tanhf", (inner,))))


def _recip(x: Expr) -> Expr:
    return BinOp("/", Const(1.0, F32), x)


UNARY: dict[str, Callable[[Expr], Expr]] = {
    "abs": lambda x: Select(BinOp("<", x, const(0)), UnaryOp("-", x), x), "neg": lambda x: UnaryOp("-", x),
    "relu": lambda x: Select(BinOp(">", x, const(0)), x, const(0)),
    "not": lambda x: Select(BinOp("==", x, const(0)), const(1), const(0)), "bnot": lambda x: UnaryOp("~", x),
    "recip": _recip, "sqrt": f32_math("sqrtf"), "rsqrt": lambda x: _recip(Call("sqrtf", (x,))),
    "sin": f32_math("sinf"), "cos": f32_math("cosf"), "log": f32_math("log2f"), "pow2": f32_math("exp2f"),
    "floor": f32_math("floorf"), "round": f32_math("roundf"), "nearbyint": f32_math("nearbyintf"),
}
ACTIVE: dict[str, Callable[[Expr], Expr]] = {
    "abs": UNARY["abs"], "relu": UNARY["relu"],
    "sign": lambda x: Select(BinOp(">=", x, const(0)), const(1), const(-1)),
    "exp": f32_math("expf"), "exphp": f32_math("expf"), "exp_less_0": f32_math("expf"),
    "log": f32_math("logf"), "loghp": f32_math("logf"), "pow2": f32_math("exp2f"),
    "recip": _recip, "reciphp": _recip, "recip_greater_1": _recip,
    "sqrt": f32_math("sqrtf"), "sqrthp": f32_math("sqrtf"),
    "rsqrt": UNARY["rsqrt"], "rsqrthp": UNARY["rsqrt"], "sigmoid": _sigmoid, "tanh": f32_math("tanhf"),
    "gelu": _gelu, "gelup": _gelu, "sin": f32_math("sinf"), "cos": f32_math("cosf"),
}
for _op, _fn in UNARY.items():
    TABLE.add(f"__bang_{_op}", _unary(_fn))
for _op, _fn in ACTIVE.items():
    TABLE.add(f"__bang_active_{_op}", _unary(_fn))


@TABLE.impl("__bang_square")
def square(ctx: LowerContext, call: Call, dst_: Expr | None) -> list[Stmt]:
    dst, src, n = call.args
    dt, st = elem(ctx, call, 0), elem(ctx, call, 1)
    return each(ctx, n, lambda i: [Assign(Index(dst, i), store(dt, BinOp("*", load(src, i, st), load(src, i, st))))])


# ---------------------------------------------------------------- reductions ---------------------------------

@TABLE.impl("__bang_reduce_sum")
def reduce_sum(ctx: LowerContext, call: Call, dst_: Expr | None) -> list[Stmt]:
    """Each 128-byte block of src summed (in double) into the first element of the same block of dst."""
    dst, src, n = call.args
    dt = elem(ctx, call, 0)
    block = BinOp("/", const(128), size_of(dt))
    k, i, s = ctx.fresh("blk"), ctx.fresh("i"), ctx.fresh("sum")
    at = BinOp("+", BinOp("*", Var(k), block), Var(i))
    body = [Decl(s, ScalarType(F64), Const(0.0, F64)),
            loop(i, block, [If(BinOp("<", at, n), Block((Assign(Var(s), cast(F64, Index(src, at)), "+"),)))]),
            Assign(Index(dst, BinOp("*", Var(k), block)), store(dt, Var(s)))]
    return [loop(k, BinOp("/", BinOp("-", BinOp("+", n, block), const(1)), block), body)]


@TABLE.impl("__bang_sum", result=lambda ctx, call: elem(ctx, call, 0))
def total(ctx: LowerContext, call: Call, dst: Expr | None) -> list[Stmt]:
    src, n = call.args
    dt = elem(ctx, call, 0)
    s = ctx.fresh("sum")
    out = [Decl(s, ScalarType(F64), Const(0.0, F64))] + each(
        ctx, n, lambda i: [Assign(Var(s), cast(F64, Index(src, i)), "+")])
    return out + ([Assign(dst, store(dt, Var(s)))] if dst is not None else [])


def _extreme(larger: bool, index_dtype: DType | None):
    """dst[0] = first max (min) ignoring NaN (index 0 if all are NaN), its index stored right after it."""
    def lower(ctx: LowerContext, call: Call, dst_: Expr | None) -> list[Stmt]:
        dst, src, n = call.args
        dt = elem(ctx, call, 0)
        if index_dtype is None and not isinstance(dt, ScalarType):
            raise PassRefused("XP503", f"{call.name}: the element type must be known (its index width follows it)")
        idt = index_dtype or {1: U8, 2: DType.uint16, 4: U32}[dt.dtype.bits // 8]
        best, value, idx = ctx.fresh("best"), ctx.fresh("value"), ctx.fresh("index")
        i = ctx.fresh("i")
        better = BinOp(">" if larger else "<", Index(src, Var(i)), Index(src, Var(best)))
        take = BinOp("&&", BinOp("==", Index(src, Var(i)), Index(src, Var(i))),
                     BinOp("||", BinOp("==", Var(best), n), better))
        return [
            Decl(best, ScalarType(U32), cast(U32, n)),
            loop(i, n, [If(take, Block((Assign(Var(best), cast(U32, Var(i))),)))]),
            If(BinOp("==", Var(best), n), Block((Assign(Var(best), const(0)),))),
            Decl(value, dataclasses.replace(dt, const=True), Index(src, Var(best))),
            Decl(idx, ScalarType(idt, const=True), cast(idt, Var(best))),
            Assign(Index(dst, const(0)), Var(value)),
            ExprStmt(Call("memcpy", (BinOp("+", view(dst, DType.int8), size_of(dt)), UnaryOp("&", Var(idx)),
                                     SizeOf(ScalarType(idt))))),
        ]
    return lower


TABLE.add("__bang_argmax", _extreme(True, U32))
TABLE.add("__bang_argmin", _extreme(False, U32))
TABLE.add("__bang_max", _extreme(True, None))
TABLE.add("__bang_min", _extreme(False, None))


# ---------------------------------------------------------------- pooling, transpose, matmul -----------------

def _pool(kind: str):
    """HWC pooling; window kernel_h x kernel_w moved by stride_w along W and stride_h along H."""
    def lower(ctx: LowerContext, call: Call, dst_: Expr | None) -> list[Stmt]:
        refuse_alias(call, 0, 1)
        dst, src, channel, height, width, kh, kw = call.args[:7]
        sw, sh = (call.args[7], call.args[8]) if len(call.args) == 9 else (kw, kh)
        dt = elem(ctx, call, 0)
        oh, ow, c, y, x, acc = (ctx.fresh(n) for n in ("oh", "ow", "c", "kh", "kw", "acc"))
        out_h = add(BinOp("/", BinOp("-", height, kh), sh), 1)
        out_w = add(BinOp("/", BinOp("-", width, kw), sw), 1)
        row = add(mul(Var(oh), sh), Var(y))
        col = add(mul(Var(ow), sw), Var(x))
        v = cast(F64, Index(src, add(mul(add(mul(row, width), col), channel), Var(c))))
        first = BinOp("&&", BinOp("==", Var(y), const(0)), BinOp("==", Var(x), const(0)))
        if kind in ("sum", "avg"):
            update: Stmt = Assign(Var(acc), v, "+")
        else:
            better = BinOp(">" if kind == "max" else "<", v, Var(acc))
            update = If(BinOp("||", first, better), Block((Assign(Var(acc), v),)))
        result: Expr = Var(acc)
        if kind == "avg":
            result = BinOp("/", Var(acc), BinOp("*", cast(F64, kh), cast(F64, kw)))
        out = Index(dst, add(mul(add(mul(Var(oh), out_w), Var(ow)), channel), Var(c)))
        body = [Decl(acc, ScalarType(F64), Const(0.0, F64)),
                loop(y, kh, [loop(x, kw, [update])]),
                Assign(out, store(dt, result))]
        return [loop(oh, out_h, [loop(ow, out_w, [loop(c, channel, body)])])]
    return lower


for _kind in ("sum", "avg", "max", "min"):
    TABLE.add(f"__bang_{_kind}pool", _pool(_kind))


@TABLE.impl("__bang_transpose")
def transpose(ctx: LowerContext, call: Call, dst_: Expr | None) -> list[Stmt]:
    """src [height][width] -> dst [width][height]."""
    refuse_alias(call, 0, 1)
    dst, src, h, w = call.args
    a, b = ctx.fresh("h"), ctx.fresh("w")
    return [loop(a, h, [loop(b, w, [Assign(Index(dst, add(mul(Var(b), h), Var(a))),
                                           Index(src, add(mul(Var(a), w), Var(b))))])])]


def _dot_into(ctx: LowerContext, call: Call, out: Expr, a_row: Expr, b_row: Expr, k: Expr,
              fix: Expr | None, bias: Expr | None) -> list[Stmt]:
    """out = sum_k a_row[k] * b_row[k] (double, or int64 scaled by 2^fix for integers) (+ bias), rounded once."""
    at, bt, dt = ctx.element_dtype(a_row), ctx.element_dtype(b_row), ctx.element_dtype(out)
    integer = at is not None and at.is_int and bt is not None and bt.is_int
    acc_t = I64 if integer else F64
    s, j = ctx.fresh("acc"), ctx.fresh("k")
    product = BinOp("*", cast(acc_t, Index(a_row, Var(j))), cast(acc_t, Index(b_row, Var(j))))
    value: Expr = Var(s)
    if integer:
        if dt is None or dt.is_int:
            raise PassRefused("XP501", f"no semantics for {call.name} with an integer destination",
                              hint="accumulate into a float or half destination")
        value = Call("ldexp", (cast(F64, Var(s)), fix if fix is not None else const(0)))
    if bias is not None:
        value = BinOp("+", value, cast(F64, bias))
    return [Decl(s, ScalarType(acc_t), Const(0, acc_t) if integer else Const(0.0, F64)),
            loop(j, k, [Assign(Var(s), product, "+")]),
            Assign(Index(out, const(0)), store(elem_of(ctx, out), value))]


def elem_of(ctx: LowerContext, pointer: Expr) -> Type:
    return elem(ctx, Call("__bang_matmul", (pointer,)), 0)


@TABLE.impl("__bang_matmul")
def matmul(ctx: LowerContext, call: Call, dst_: Expr | None) -> list[Stmt]:
    """dst[M][N] = src0[M][K] (row-major) x src1 (K x N column-major: (k, n) at src1[n*K + k]) [+ src2][m][n]."""
    refuse_alias(call, 0, 1, 2)
    args = call.args
    if len(args) == 8:
        dst, a, b, bias_m, m, k, n, fix = args
    else:
        dst, a, b, m, k, n = args[:6]
        fix = args[6] if len(args) == 7 else None
        bias_m = None
    i, j = ctx.fresh("m"), ctx.fresh("n")
    out = add(dst, add(mul(Var(i), n), Var(j)))
    bias = Index(bias_m, add(mul(Var(i), n), Var(j))) if bias_m is not None else None
    body = _dot_into(ctx, call, out, add(a, mul(Var(i), k)), add(b, mul(Var(j), k)), k, fix, bias)
    return [loop(i, m, [loop(j, n, body)])]


@TABLE.impl("__bang_mlp")
def mlp(ctx: LowerContext, call: Call, dst_: Expr | None) -> list[Stmt]:
    """dst[height] = filter[height][width] (row-major) . src[width] [+ bias[height]]."""
    refuse_alias(call, 0, 1)
    args = call.args
    if len(args) == 7:
        dst, src, bias_v, filt, h, w, fix = args
    else:
        dst, src, filt, h, w = args[:5]
        fix = args[5] if len(args) == 6 else None
        bias_v = None
    o = ctx.fresh("o")
    bias = Index(bias_v, Var(o)) if bias_v is not None else None
    return [loop(o, h, _dot_into(ctx, call, add(dst, Var(o)), src, add(filt, mul(Var(o), w)), w, fix, bias))]


# ---------------------------------------------------------------- conversions --------------------------------

def _convert(fn: Callable[[Expr, Expr | None], Expr], fixed: bool):
    def lower(ctx: LowerContext, call: Call, dst_: Expr | None) -> list[Stmt]:
        dst, src, n = call.args[:3]
        if len(call.args) > (4 if fixed else 3):
            raise PassRefused("XP501", f"no semantics for the strided form of {call.name}")
        dt = elem(ctx, call, 0)
        fix = call.args[3] if fixed else None
        return each(ctx, n, lambda i: [Assign(Index(dst, i), store(dt, fn(Index(src, i), fix)))])
    return lower


TABLE.add("__bang_half2float", _convert(lambda x, fix: cast(F32, x), False))
TABLE.add("__bang_float2half_rn", _convert(lambda x, fix: x, False))
TABLE.add("__bang_uchar2float", _convert(lambda x, fix: cast(F32, x), False))
TABLE.add("__bang_uchar2half", _convert(lambda x, fix: cast(F32, x), False))
for _src in ("int8", "int16", "int32", "uint8"):
    for _dst in ("float", "half"):
        TABLE.add(f"__bang_{_src}2{_dst}", _convert(
            lambda x, fix: Call("ldexp", (cast(F64, x), fix)), True))
