"""Semantics of the x86 intrinsics (AVX-512 F/BW/DQ/VNNI, AVX2, SSE, F16C) as lane loops, for `detensorize`.

Representation: a vector value becomes an array of its *natural* lanes — `__m512`/`__m256`/`__m128` float[16/8/4],
`__m512d`... double, `__m512i`/`__m256i`/`__m128i` int32_t[16/8/4] — and a mask (`__mmask16`...) stays an unsigned
integer. An intrinsic that reads or writes other lanes of the same bytes (dpbusd reads the bytes of an `__m512i`
loaded as int32, cvtph_ps reads its halves, loadu_epi8 writes bytes) goes through a pointer view
`((int8_t*)v)[i]` of the array. Typed lanes keep the common case (float lanes, int32 lanes) plain and analysable
by later passes; the views make reinterpretation exact: byte views are always well defined in C++, and the
16/64-bit views rely on `-fno-strict-aliasing`, which the executor passes (a view is also what GCC's own header
does with its may_alias vector types).

Every result is the one of `kernel_ir/runtime/include/xp_intrin_*.h` (the executable spec): fused multiply-add
with one rounding (fmaf), maxps returning the second operand unless a > b, reductions in GCC's tree order,
round-to-nearest-even conversions with the integer indefinite value out of range, wrapping integer arithmetic
(done in unsigned or 64-bit, then converted: modular in C++20), VNNI sums saturated for the `s` forms, AVX
maskload/maskstore/blendv selecting by the sign bit of a lane, shuffles and parts reading other lanes (computed
through a temporary when the result is also an operand).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from kernel_ir.ir import (
    ArrayType, Assign, BinOp, Block, Call, Const, Decl, DType, Expr, If, Index, NamedType, ScalarType, Select,
    Stmt, Type, UnaryOp, Var,
)
from passes.base import PassRefused
from passes.detensorize import (
    IntrinsicTable, LowerContext, add, cast, const, index, loop, mul, view,
)

F32, F64, I32, I64, I16, I8, U8, U16, U32, U64, F16 = (
    DType.float32, DType.float64, DType.int32, DType.int64, DType.int16, DType.int8, DType.uint8, DType.uint16,
    DType.uint32, DType.uint64, DType.float16)


@dataclass(frozen=True)
class Vec:
    """A vector type: its storage lane type and count (bytes = lanes * lane size)."""

    name: str
    dtype: DType
    lanes: int

    @property
    def bytes(self) -> int:
        return self.lanes * self.dtype.bits // 8

    def count(self, dtype: DType) -> int:
        return self.bytes * 8 // dtype.bits


VECTORS = {v.name: v for v in (
    Vec("__m512", F32, 16), Vec("__m512d", F64, 8), Vec("__m512i", I32, 16),
    Vec("__m256", F32, 8), Vec("__m256d", F64, 4), Vec("__m256i", I32, 8),
    Vec("__m128", F32, 4), Vec("__m128d", F64, 2), Vec("__m128i", I32, 4))}
MASKS = {"__mmask8": U8, "__mmask16": U16, "__mmask32": U32, "__mmask64": U64}
SIGNED = {8: I8, 16: I16, 32: I32, 64: I64}  # the signed integer of each lane width (sign-bit selection)

# Macro values from the Intel intrinsics guide (immediates the lowering needs as numbers).
MACROS = {
    "_MM_FROUND_TO_NEAREST_INT": 0, "_MM_FROUND_TO_NEG_INF": 1, "_MM_FROUND_TO_POS_INF": 2, "_MM_FROUND_TO_ZERO": 3,
    "_MM_FROUND_CUR_DIRECTION": 4, "_MM_FROUND_RAISE_EXC": 0, "_MM_FROUND_NO_EXC": 8, "_MM_FROUND_NINT": 0,
    "_MM_FROUND_FLOOR": 9, "_MM_FROUND_CEIL": 10, "_MM_FROUND_TRUNC": 11, "_MM_FROUND_RINT": 4,
    "_MM_FROUND_NEARBYINT": 12,
    **{f"_CMP_{name}": value for value, name in enumerate(
        "EQ_OQ LT_OS LE_OS UNORD_Q NEQ_UQ NLT_US NLE_US ORD_Q EQ_UQ NGE_US NGT_US FALSE_OQ NEQ_OQ GE_OS GT_OS "
        "TRUE_UQ EQ_OS LT_OQ LE_OQ UNORD_S NEQ_US NLT_UQ NLE_UQ ORD_S EQ_US NGE_UQ NGT_UQ FALSE_OS NEQ_OS GE_OQ "
        "GT_OQ TRUE_US".split())},
}

PREFIXES = {"_mm512": 64, "_mm256": 32, "_mm": 16}


def _is_intrinsic(name: str) -> bool:
    return name.startswith(("_mm_", "_mm256_", "_mm512_", "_cvt", "_kand", "_kor", "_knot", "_kxor"))


def _lower_type(t: Type, ctx: LowerContext) -> Type | None:
    if isinstance(t, NamedType):
        name = t.name.removesuffix("_u")
        if name in VECTORS:
            v = VECTORS[name]
            return ArrayType(ScalarType(v.dtype), const(v.lanes))
        if name in MASKS:
            return None  # masks stay integers; the printer spells __mmask16 as the runtime's typedef
    return None


TABLE = IntrinsicTable("cpp", _is_intrinsic, _lower_type, MACROS, ("<cmath>",))


# ---------------------------------------------------------------- lane helpers -------------------------------

def lane(e: Expr, vec: Vec, dtype: DType, i: Expr) -> Expr:
    """Lane i of vector value `e` read as `dtype` (a pointer view when it is not the storage type)."""
    return Index(e, i) if dtype == vec.dtype else Index(view(e, dtype), i)


def mask_bit(k: Expr, i: Expr) -> Expr:
    return BinOp("&", BinOp(">>", k, i), const(1))


def mem(ctx: LowerContext, p: Expr, dtype: DType, i: Expr, writable: bool = False) -> Expr:
    """Element i of memory at `p` read as `dtype` (no cast when p already points to dtype)."""
    if ctx.element_dtype(p) == dtype:
        return Index(p, i)
    return Index(view(p, dtype, const_=not writable), i)


def vec_of(name: str) -> Vec:
    return VECTORS[name]


def lanes_loop(ctx: LowerContext, n: int, body: Callable[[Expr], list[Stmt]]) -> list[Stmt]:
    v = ctx.fresh("l")
    return [loop(v, n, body(Var(v)))]


def named(name: str) -> NamedType:
    return NamedType(name)


def float_min_max(op: str, a: Expr, b: Expr) -> Expr:
    """x86 MAXPS/MINPS: the first operand if it compares greater (less), else the second (NaN, ties, zeros)."""
    return Select(BinOp(op, a, b), a, b)


# ---------------------------------------------------------------- registration helpers -----------------------

def lanewise(name: str, out: Vec, dtype: DType, fn: Callable[[LowerContext, Call, Expr], Expr],
             in_place: bool = False) -> None:
    """Register `name(args) -> out` computing lane i (of `dtype`) as fn(ctx, call, i).

    fn may read any lane of the operands (shuffles, horizontal sums, parts), so by default the result goes
    through a temporary when it is also an operand; in_place=True where lane i reads only lanes i."""
    def lower(ctx: LowerContext, call: Call, dst: Expr | None) -> list[Stmt]:
        return lanes_loop(ctx, out.count(dtype), lambda i: [Assign(lane(dst, out, dtype, i), fn(ctx, call, i))])

    TABLE.add(name, lower, named(out.name), in_place)


def elementwise(name: str, out: Vec, dtype: DType, inputs: list[Vec | tuple[Vec, DType] | None],
                fn: Callable[..., Expr], mask: str | None = None) -> None:
    """Register `name(args) -> out` computing lane i (of `dtype`) as fn(lanes of the vector args, scalar args).

    inputs: per argument, its vector type (read as `dtype`), (vector type, lane type), or None for a scalar.
    mask: None (no mask), "mask" (args: src, k, ...; unselected lanes keep src) or "maskz" (args: k, ...;
    unselected lanes are zero)."""
    def value(ctx: LowerContext, call: Call, i: Expr) -> Expr:
        args = list(call.args)
        src = k = None
        if mask == "mask":
            src, k, args = args[0], args[1], args[2:]
        elif mask == "maskz":
            k, args = args[0], args[1:]
        values = [a if v is None else lane(a, v, dtype, i) if isinstance(v, Vec) else lane(a, v[0], v[1], i)
                  for a, v in zip(args, inputs)]
        result = fn(*values)
        if mask is None:
            return result
        otherwise = lane(src, out, dtype, i) if mask == "mask" else cast(dtype, const(0))
        return Select(mask_bit(k, i), result, otherwise)

    lanewise(name, out, dtype, value, in_place=True)


FLOAT_BINARY = {
    "add": lambda a, b: BinOp("+", a, b), "sub": lambda a, b: BinOp("-", a, b),
    "mul": lambda a, b: BinOp("*", a, b), "div": lambda a, b: BinOp("/", a, b),
    "max": lambda a, b: float_min_max(">", a, b), "min": lambda a, b: float_min_max("<", a, b),
}


def arithmetic_families() -> None:
    """add/sub/mul/div/max/min/fma/logic over every width, plain and masked, float and double."""
    for prefix, width in PREFIXES.items():
        ps = {16: "__m128", 32: "__m256", 64: "__m512"}[width]
        pd = ps + "d"
        si = ps + "i"
        for suffix, vname, dt in (("ps", ps, F32), ("pd", pd, F64)):
            v = vec_of(vname)
            fma = "fmaf" if dt == F32 else "fma"
            for op, fn in FLOAT_BINARY.items():
                elementwise(f"{prefix}_{op}_{suffix}", v, dt, [v, v], fn)
                if width == 64:
                    elementwise(f"{prefix}_mask_{op}_{suffix}", v, dt, [v, v], fn, "mask")
                    elementwise(f"{prefix}_maskz_{op}_{suffix}", v, dt, [v, v], fn, "maskz")
            ternary = {
                "fmadd": lambda a, b, c, fma=fma: Call(fma, (a, b, c)),
                "fmsub": lambda a, b, c, fma=fma: Call(fma, (a, b, UnaryOp("-", c))),
                "fnmadd": lambda a, b, c, fma=fma: Call(fma, (UnaryOp("-", a), b, c)),
                "fnmsub": lambda a, b, c, fma=fma: Call(fma, (UnaryOp("-", a), b, UnaryOp("-", c))),
            }
            for op, fn in ternary.items():
                elementwise(f"{prefix}_{op}_{suffix}", v, dt, [v, v, v], fn)
            idt = I32 if dt == F32 else I64
            for op, c_op in (("and", "&"), ("or", "|"), ("xor", "^")):
                elementwise(f"{prefix}_{op}_{suffix}", v, idt, [v, v], lambda a, b, c_op=c_op: BinOp(c_op, a, b))
            elementwise(f"{prefix}_andnot_{suffix}", v, idt, [v, v], lambda a, b: BinOp("&", UnaryOp("~", a), b))
            elementwise(f"{prefix}_sqrt_{suffix}", v, dt, [v], lambda a, dt=dt: Call("sqrtf" if dt == F32 else "sqrt", (a,)))
            elementwise(f"{prefix}_set1_{suffix}", v, dt, [None], lambda a, dt=dt: cast(dt, a))
            elementwise(f"{prefix}_setzero_{suffix}", v, dt, [], lambda dt=dt: cast(dt, const(0)))
            if width == 64:
                elementwise(f"{prefix}_mask_mov_{suffix}", v, dt, [v], lambda a: a, "mask")
                elementwise(f"{prefix}_maskz_mov_{suffix}", v, dt, [v], lambda a: a, "maskz")
                elementwise(f"{prefix}_rcp14_{suffix}", v, dt, [v], lambda a, dt=dt: BinOp("/", cast(dt, const(1)), a))
                elementwise(f"{prefix}_rsqrt14_{suffix}", v, dt, [v], lambda a, dt=dt: BinOp(
                    "/", cast(dt, const(1)), Call("sqrtf" if dt == F32 else "sqrt", (a,))))
                elementwise(f"{prefix}_abs_{suffix}", v, dt, [v], lambda a, dt=dt: Call("fabsf" if dt == F32 else "fabs", (a,)))
                elementwise(f"{prefix}_scalef_{suffix}", v, dt, [v, v], lambda a, b, dt=dt: scalef(a, b, dt))
        # int32 lanes
        vi = vec_of(si)
        wrap = {"add_epi32": "+", "sub_epi32": "-", "mullo_epi32": "*"}
        for op, c_op in wrap.items():
            elementwise(f"{prefix}_{op}", vi, I32, [vi, vi], lambda a, b, c_op=c_op: cast(
                I32, BinOp(c_op, cast(U32, a), cast(U32, b))))
        for op, c_op in (("max_epi32", ">"), ("min_epi32", "<")):
            elementwise(f"{prefix}_{op}", vi, I32, [vi, vi], lambda a, b, c_op=c_op: Select(BinOp(c_op, a, b), a, b))
        for op, c_op in (("and", "&"), ("or", "|"), ("xor", "^")):
            spelled = f"{prefix}_{op}_si{width * 8}" if width > 16 else f"{prefix}_{op}_si128"
            elementwise(spelled, vi, I32, [vi, vi], lambda a, b, c_op=c_op: BinOp(c_op, a, b))
            elementwise(f"{prefix}_{op}_epi32", vi, I32, [vi, vi], lambda a, b, c_op=c_op: BinOp(c_op, a, b))
        elementwise(f"{prefix}_set1_epi32", vi, I32, [None], lambda a: cast(I32, a))
        elementwise(f"{prefix}_set1_epi8", vi, I8, [None], lambda a: cast(I8, a))
        elementwise(f"{prefix}_set1_epi16", vi, I16, [None], lambda a: cast(I16, a))
        elementwise(f"{prefix}_setzero_si{width * 8}", vi, I32, [], lambda: const(0))
        elementwise(f"{prefix}_abs_epi32", vi, I32, [vi], lambda a: cast(I32, Select(
            BinOp("<", a, const(0)), UnaryOp("-", cast(U32, a)), cast(U32, a))))
        elementwise(f"{prefix}_slli_epi32", vi, I32, [vi, None], lambda a, s: Select(
            BinOp("<", cast(U32, s), const(32)), cast(I32, BinOp("<<", cast(U32, a), s)), const(0)))
        elementwise(f"{prefix}_srli_epi32", vi, I32, [vi, None], lambda a, s: Select(
            BinOp("<", cast(U32, s), const(32)), cast(I32, BinOp(">>", cast(U32, a), s)), const(0)))
        elementwise(f"{prefix}_srai_epi32", vi, I32, [vi, None], lambda a, s: BinOp(">>", a, Select(
            BinOp("<", cast(U32, s), const(32)), s, const(31))))
        # conversions between float and int32 lanes of the same width
        v = vec_of(ps)
        elementwise(f"{prefix}_cvtepi32_ps", v, F32, [(vi, I32)], lambda a: cast(F32, a))
        elementwise(f"{prefix}_cvtps_epi32", vi, I32, [(v, F32)], lambda a: float_to_int(a, "nearbyintf"))
        elementwise(f"{prefix}_cvttps_epi32", vi, I32, [(v, F32)], lambda a: float_to_int(a, "truncf"))
        # casts: same bytes, other lane type
        for src_name, dst_name, tag in ((ps, si, f"castps_si{width * 8}"), (si, ps, f"castsi{width * 8}_ps"),
                                        (pd, si, f"castpd_si{width * 8}"), (si, pd, f"castsi{width * 8}_pd"),
                                        (ps, pd, "castps_pd"), (pd, ps, "castpd_ps")):
            elementwise(f"{prefix}_{tag}", vec_of(dst_name), I32, [vec_of(src_name)], lambda a: a)


def permute_families() -> None:
    """Lanes computed from other lanes: shuffles, horizontal pairs, 128/256-bit parts, the scalar _ss/_sd forms,
    blendv and the AVX2/SSE vector compares (all-ones lanes), as xp_intrin_{shuffle,float,int,memory}.h do."""
    for prefix, width in PREFIXES.items():
        ps = {16: "__m128", 32: "__m256", 64: "__m512"}[width]
        vi = vec_of(ps + "i")
        for tag, vname, dt in (("ps", ps, F32), ("pd", ps + "d", F64)):
            v = vec_of(vname)
            for op, c_op in (("hadd", "+"), ("hsub", "-")):
                lanewise(f"{prefix}_{op}_{tag}", v, dt,
                         lambda ctx, call, i, v=v, dt=dt, c_op=c_op: horizontal_pair(call, v, dt, i, c_op))
            elementwise(f"{prefix}_blendv_{tag}", v, dt, [v, v, (v, SIGNED[dt.bits])], pick_by_sign)
            mask_blend(f"{prefix}_mask_blend_{tag}", v, dt)
        lanewise(f"{prefix}_shuffle_ps", vec_of(ps), F32, shuffle_ps)
        elementwise(f"{prefix}_blendv_epi8", vi, I8, [vi, vi, vi], pick_by_sign)
        for tag, dt in (("epi8", I8), ("epi16", I16), ("epi32", I32), ("epi64", I64)):
            mask_blend(f"{prefix}_mask_blend_{tag}", vi, dt)
            for op, c_op in (("eq", "=="), ("gt", ">"), ("lt", "<")):
                elementwise(f"{prefix}_cmp{op}_{tag}", vi, dt, [vi, vi], lambda a, b, dt=dt, c_op=c_op: cast(
                    dt, Select(BinOp(c_op, a, b), const(-1), const(0))))
    m128 = vec_of("__m128")
    lanewise("_mm_movehl_ps", m128, F32, lambda ctx, call, i: Select(
        BinOp("<", i, const(2)), Index(call.args[1], add(i, 2)), Index(call.args[0], i)))
    lanewise("_mm_movelh_ps", m128, F32, lambda ctx, call, i: Select(
        BinOp("<", i, const(2)), Index(call.args[0], i), Index(call.args[1], BinOp("-", i, const(2)))))
    # _ss / _sd: lane 0 is op(a[0], b[0]), the other lanes are a's (lane 0 is written first: safe in place)
    for tag, vname, dt in (("ss", "__m128", F32), ("sd", "__m128d", F64)):
        for op, fn in {**FLOAT_BINARY, "move": lambda a, b: b}.items():
            lanewise(f"_mm_{op}_{tag}", vec_of(vname), dt, lambda ctx, call, i, fn=fn: Select(
                BinOp("==", i, const(0)), fn(index(call.args[0], 0), index(call.args[1], 0)), Index(call.args[0], i)),
                in_place=True)
    parts_family()


def mask_blend(name: str, v: Vec, dt: DType) -> None:
    """mask_blend(k, a, b): b's lane where k's bit is set, else a's."""
    lanewise(name, v, dt, lambda ctx, call, i: Select(mask_bit(call.args[0], i), lane(call.args[2], v, dt, i),
                                                      lane(call.args[1], v, dt, i)), in_place=True)


def pick_by_sign(a: Expr, b: Expr, selector: Expr) -> Expr:
    """blendv: b's lane where the selector lane's sign bit is set, else a's."""
    return Select(BinOp("<", selector, const(0)), b, a)


def horizontal_pair(call: Call, v: Vec, dt: DType, i: Expr, c_op: str) -> Expr:
    """hadd/hsub: per 128-bit block, the first half of the lanes are a's adjacent pairs, the second half b's."""
    block = 16 * 8 // dt.bits
    j = BinOp("&", i, const(block - 1))
    first = add(BinOp("&", i, const(-block)), mul(BinOp("&", j, const(block // 2 - 1)), 2))

    def pair(x: Expr) -> Expr:
        return BinOp(c_op, lane(x, v, dt, first), lane(x, v, dt, add(first, 1)))
    return Select(BinOp("<", j, const(block // 2)), pair(call.args[0]), pair(call.args[1]))


def shuffle_ps(ctx: LowerContext, call: Call, i: Expr) -> Expr:
    """Per 128-bit block, lanes 0-1 from a and 2-3 from b, each picked by a 2-bit field of imm."""
    imm = immediate(ctx, call, 2, "shuffle immediate")
    j = BinOp("&", i, const(3))
    at = add(BinOp("&", i, const(-4)), BinOp("&", BinOp(">>", const(imm), mul(j, 2)), const(3)))
    return Select(BinOp("<", j, const(2)), Index(call.args[0], at), Index(call.args[1], at))


def immediate(ctx: LowerContext, call: Call, position: int, what: str) -> int:
    """A constant argument, also when spelled `_MM_SHUFFLE(z, y, x, w)` (a macro of the real headers)."""
    arg = call.args[position]
    if isinstance(arg, Call) and arg.name == "_MM_SHUFFLE" and len(arg.args) == 4:
        z, y, x, w = (ctx.require_int(arg, k, "_MM_SHUFFLE field") for k in range(4))
        return (z << 6) | (y << 4) | (x << 2) | w
    return ctx.require_int(call, position, what)


def parts_family() -> None:
    """128/256-bit parts: extract (the index taken modulo the part count) and the resizing casts (narrowing keeps
    the low lanes; widening and zext put zeros above, which is what the spec makes of "undefined")."""
    extracts = {
        ("__m256", "__m128"): ("_mm256_extractf128_ps", "_mm256_extractf32x4_ps"),
        ("__m256d", "__m128d"): ("_mm256_extractf128_pd", "_mm256_extractf64x2_pd"),
        ("__m256i", "__m128i"): ("_mm256_extractf128_si256", "_mm256_extracti128_si256", "_mm256_extracti32x4_epi32",
                                 "_mm256_extracti64x2_epi64"),
        ("__m512", "__m128"): ("_mm512_extractf32x4_ps",), ("__m512", "__m256"): ("_mm512_extractf32x8_ps",),
        ("__m512d", "__m128d"): ("_mm512_extractf64x2_pd",), ("__m512d", "__m256d"): ("_mm512_extractf64x4_pd",),
        ("__m512i", "__m128i"): ("_mm512_extracti32x4_epi32", "_mm512_extracti64x2_epi64"),
        ("__m512i", "__m256i"): ("_mm512_extracti32x8_epi32", "_mm512_extracti64x4_epi64"),
    }
    for (wide_name, part_name), names in extracts.items():
        wide, part = vec_of(wide_name), vec_of(part_name)

        def extract(ctx: LowerContext, call: Call, i: Expr, wide: Vec = wide, part: Vec = part) -> Expr:
            which = immediate(ctx, call, 1, "part index") & (wide.bytes // part.bytes - 1)
            return lane(call.args[0], wide, part.dtype, add(i, which * part.lanes))
        for name in names:
            lanewise(name, part, part.dtype, extract)
    for prefix, narrow_bits, wide_bits in (("_mm256", 128, 256), ("_mm512", 128, 512), ("_mm512", 256, 512)):
        for kind, suffix in (("ps", ""), ("pd", "d"), ("si", "i")):
            narrow, wide = vec_of(f"__m{narrow_bits}{suffix}"), vec_of(f"__m{wide_bits}{suffix}")
            elementwise(f"{prefix}_cast{kind}{wide_bits}_{kind}{narrow_bits}", narrow, narrow.dtype, [wide],
                        lambda a: a)
            for cast_kind in ("cast", "zext"):
                lanewise(f"{prefix}_{cast_kind}{kind}{narrow_bits}_{kind}{wide_bits}", wide, wide.dtype,
                         lambda ctx, call, i, narrow=narrow, dt=wide.dtype: Select(
                             BinOp("<", i, const(narrow.lanes)), Index(call.args[0], i), cast(dt, const(0))))


def scalef(a: Expr, b: Expr, dt: DType) -> Expr:
    """VSCALEF: a * 2^floor(b) rounded once (ldexp is exact); NaNs propagate; the exponent is clamped."""
    suffix = "f" if dt == F32 else ""
    clamped = Call(f"fmax{suffix}", (Call(f"fmin{suffix}", (Call(f"floor{suffix}", (b,)), cast(dt, const(4096)))),
                                     cast(dt, const(-4096))))
    scaled = Call(f"ldexp{suffix}", (a, cast(I32, clamped)))
    nan = BinOp("||", BinOp("!=", a, a), BinOp("!=", b, b))
    return Select(nan, BinOp("+", a, b), scaled)


def float_to_int(x: Expr, rounding: str) -> Expr:
    """CVTPS2DQ: rounded (current mode: nearest even) to int32; NaN and out of range give INT_MIN."""
    in_range = BinOp("&&", BinOp(">=", x, Const(-2147483648.0, F32)), BinOp("<", x, Const(2147483648.0, F32)))
    return Select(in_range, cast(I32, Call(rounding, (x,))), cast(I32, Const(-2147483648, I64)))


def round_scale(ctx: LowerContext, x: Expr, imm: int) -> Expr:
    """VRNDSCALE with M = imm[7:4] fraction bits and mode imm[2:0] (4 = current mode: nearest even)."""
    fraction = (imm >> 4) & 15
    fn = {0: "nearbyintf", 1: "floorf", 2: "ceilf", 3: "truncf"}.get(imm & 7, "nearbyintf")
    if fraction == 0:
        rounded = Call(fn, (x,))
    else:
        rounded = Call("ldexpf", (Call(fn, (Call("ldexpf", (x, const(fraction))),)), const(-fraction)))
    small = BinOp("<", Call("fabsf", (x,)), Const(float(2 ** (23 - fraction)), F32))
    return Select(small, rounded, x)


def memory_families() -> None:
    """Loads and stores, plain, masked and zero-masked, float/double/int32/bytes/words."""
    for prefix, width in PREFIXES.items():
        ps = {16: "__m128", 32: "__m256", 64: "__m512"}[width]
        for vname, dt, names in ((ps, F32, ("ps",)), (ps + "d", F64, ("pd",)),
                                 (ps + "i", I32, ("epi32", f"si{width * 8}"))):
            v = vec_of(vname)
            n = v.count(dt)
            for tag in names:
                for kind in ("load", "loadu"):
                    name = f"{prefix}_{kind}_{tag}"
                    TABLE.add(name, _load(v, dt, n, None), named(vname))
                    TABLE.add(f"{prefix}_mask_{kind}_{tag}", _load(v, dt, n, "mask"), named(vname))
                    TABLE.add(f"{prefix}_maskz_{kind}_{tag}", _load(v, dt, n, "maskz"), named(vname))
                for kind in ("store", "storeu", "stream"):
                    TABLE.add(f"{prefix}_{kind}_{tag}", _store(v, dt, n, None))
                    TABLE.add(f"{prefix}_mask_{kind}_{tag}", _store(v, dt, n, "mask"))
        vi = vec_of(ps + "i")
        for tag, dt in (("epi8", I8), ("epi16", I16), ("epi64", I64)):
            n = vi.count(dt)
            TABLE.add(f"{prefix}_mask_loadu_{tag}", _load(vi, dt, n, "mask"), named(vi.name))
            TABLE.add(f"{prefix}_maskz_loadu_{tag}", _load(vi, dt, n, "maskz"), named(vi.name))
            TABLE.add(f"{prefix}_mask_storeu_{tag}", _store(vi, dt, n, "mask"))
        for vname, dt, tag in ((ps, F32, "ps"), (ps + "d", F64, "pd"), (ps + "i", I32, "epi32"),
                               (ps + "i", I64, "epi64")):
            v = vec_of(vname)
            if width < 64:  # AVX maskload / maskstore: the sign bit of each lane of a vector selects
                TABLE.add(f"{prefix}_maskload_{tag}", _load(v, dt, v.count(dt), "sign"), named(vname))
                TABLE.add(f"{prefix}_maskstore_{tag}", _store(v, dt, v.count(dt), "sign"))
            TABLE.add(f"{prefix}_set_{tag}", _set_lanes(v, dt, highest_first=True), named(vname), in_place=False)
            TABLE.add(f"{prefix}_setr_{tag}", _set_lanes(v, dt, highest_first=False), named(vname), in_place=False)
        for tag, dt in (("ss_f32", F32), ("sd_f64", F64), (f"si{width * 8}_si32", I32)):
            v = vec_of({F32: ps, F64: ps + "d", I32: ps + "i"}[dt])
            TABLE.add(f"{prefix}_cvt{tag}", _first_lane(v, dt), ScalarType(dt))
        # narrowing of int32 lanes, stored or into a smaller vector: truncated, saturated as signed or as unsigned
        for to in (I8, I16):
            top = (1 << to.bits) - 1
            narrow = vec_of("__m256i" if width == 64 and to == I16 else "__m128i")
            for cvt, convert in (("cvt", lambda x, to=to: cast(to, x)), ("cvts", lambda x, to=to: _saturate(x, to)),
                                 ("cvtus", lambda x, to=to, top=top: cast(to, Select(
                                     BinOp(">", cast(U32, x), Const(top, U32)), Const(top, U32), cast(U32, x))))):
                TABLE.add(f"{prefix}_mask_{cvt}epi32_storeu_epi{to.bits}",
                          _store(vi, I32, vi.count(I32), "mask", to, convert))
                TABLE.add(f"{prefix}_{cvt}epi32_epi{to.bits}", _narrowed(vi, narrow, to, convert), named(narrow.name))
    for vname, dt, tag, index_name in (("__m512", F32, "ps", "__m512i"), ("__m512i", I32, "epi32", "__m512i"),
                                       ("__m512d", F64, "pd", "__m256i"), ("__m512i", I64, "epi64", "__m256i")):
        v, vi = vec_of(vname), vec_of(index_name)
        TABLE.add(f"_mm512_i32gather_{tag}", _gather(v, dt, vi, False), named(vname))
        TABLE.add(f"_mm512_mask_i32gather_{tag}", _gather(v, dt, vi, True), named(vname))


def _narrowed(vi: Vec, narrow: Vec, to: DType, convert):
    """cvt[s|us]epi32_epi8/16: every int32 lane converted into the low lanes of a smaller vector, the rest zero."""
    def lower(ctx: LowerContext, call: Call, dst: Expr | None) -> list[Stmt]:
        n = vi.count(I32)
        out = lanes_loop(ctx, n, lambda i: [Assign(lane(dst, narrow, to, i), convert(lane(call.args[0], vi, I32, i)))])
        if narrow.count(to) > n:
            out += lanes_loop(ctx, narrow.count(to), lambda i: [If(BinOp(">=", i, const(n)), Block((
                Assign(lane(dst, narrow, to, i), cast(to, const(0))),)))])
        return out
    return lower


def _set_lanes(v: Vec, dt: DType, highest_first: bool):
    """_set (the first argument is the highest lane) and _setr (the lowest): one assignment per lane."""
    def lower(ctx: LowerContext, call: Call, dst: Expr | None) -> list[Stmt]:
        args = call.args[::-1] if highest_first else call.args
        return [Assign(lane(dst, v, dt, const(j)), cast(dt, a)) for j, a in enumerate(args)]
    return lower


def _first_lane(v: Vec, dt: DType):
    """cvtss_f32 and friends: lane 0 as a scalar."""
    def lower(ctx: LowerContext, call: Call, dst: Expr | None) -> list[Stmt]:
        return [Assign(dst, lane(call.args[0], v, dt, const(0)))] if dst is not None else []
    return lower


def _gather(v: Vec, dt: DType, vi: Vec, masked: bool):
    """AVX-512 gathers (index, base, scale): lane i from base + index[i] * scale bytes; masked (src, k, ...)
    reads only the selected lanes. A scale that is a multiple of the element size indexes `base` directly."""
    def lower(ctx: LowerContext, call: Call, dst: Expr | None) -> list[Stmt]:
        src, k = (call.args[0], call.args[1]) if masked else (None, None)
        index_vec, base, _ = call.args[2:] if masked else call.args
        scale = ctx.require_int(call, len(call.args) - 1, "scale")
        size = dt.bits // 8

        def body(i: Expr) -> list[Stmt]:
            offset = cast(I64, lane(index_vec, vi, I32, i))
            if scale % size == 0 and ctx.element_dtype(base) == dt:
                value: Expr = Index(base, mul(offset, scale // size))
            else:
                address = BinOp("+", view(base, I8, const_=True), mul(offset, scale))
                value = Index(view(address, dt, const_=True), const(0))
            if masked:
                value = Select(mask_bit(k, i), value, lane(src, v, dt, i))
            return [Assign(lane(dst, v, dt, i), value)]
        return lanes_loop(ctx, v.count(dt), body)
    return lower


def selected(kind: str, k: Expr, vec: Vec, dtype: DType, i: Expr) -> Expr:
    """Whether lane i of a `vec` operation is selected: bit i of a mask register (AVX-512), or the sign bit of lane
    i, read with `dtype`'s width, of an integer vector (AVX maskload / maskstore)."""
    if kind == "sign":  # the mask is the integer vector of vec's width
        mask_vec = vec_of(vec.name.removesuffix("d").removesuffix("i") + "i")
        return BinOp("<", lane(k, mask_vec, SIGNED[dtype.bits], i), const(0))
    return BinOp("!=", mask_bit(k, i), const(0))


def _load(v: Vec, dt: DType, n: int, mask: str | None):
    """mask: None, "mask" (src, k, p), "maskz" (k, p) or "sign" (p, vector mask; unselected lanes zero)."""
    def lower(ctx: LowerContext, call: Call, dst: Expr | None) -> list[Stmt]:
        args = call.args
        src = k = None
        if mask == "mask":
            src, k, p = args
        elif mask == "maskz":
            k, p = args
        elif mask == "sign":
            p, k = args
        else:
            (p,) = args

        def body(i: Expr) -> list[Stmt]:
            value = mem(ctx, p, dt, i)
            if mask is not None:  # ?: reads memory only for selected lanes, like the masked load
                otherwise = lane(src, v, dt, i) if mask == "mask" else cast(dt, const(0))
                value = Select(selected(mask, k, v, dt, i), value, otherwise)
            return [Assign(lane(dst, v, dt, i), value)]
        return lanes_loop(ctx, n, body)
    return lower


def _store(v: Vec, dt: DType, n: int, mask: str | None, to: DType | None = None,
           convert: Callable[[Expr], Expr] = lambda x: x):
    """mask: None (p, a), "mask" (p, k, a) or "sign" (p, vector mask, a). Lane i (of `dt`) is stored as
    convert(lane) into element i of type `to` (the narrowing stores), by default unchanged."""
    def lower(ctx: LowerContext, call: Call, dst: Expr | None) -> list[Stmt]:
        if mask is None:
            p, a = call.args
        else:
            p, k, a = call.args

        def body(i: Expr) -> list[Stmt]:
            store = Assign(mem(ctx, p, to or dt, i, writable=True), convert(lane(a, v, dt, i)))
            return [If(selected(mask, k, v, dt, i), Block((store,)))] if mask else [store]
        return lanes_loop(ctx, n, body)
    return lower


def reduction_families() -> None:
    """_mm512_reduce_{add,mul,max,min}_{ps,pd,epi32}: GCC's tree order (halves >= 16 bytes: hi op lo)."""
    ops = {"add": lambda a, b: BinOp("+", a, b), "mul": lambda a, b: BinOp("*", a, b),
           "max": lambda a, b: Select(BinOp(">", a, b), a, b), "min": lambda a, b: Select(BinOp("<", a, b), a, b)}
    for tag, vname, dt in (("ps", "__m512", F32), ("pd", "__m512d", F64), ("epi32", "__m512i", I32)):
        v = vec_of(vname)
        for op, fn in ops.items():
            if dt == I32 and op in ("add", "mul"):
                def fn(a, b, c_op="+" if op == "add" else "*"):
                    return cast(I32, BinOp(c_op, cast(U32, a), cast(U32, b)))
            TABLE.add(f"_mm512_reduce_{op}_{tag}", _reduce(v, dt, fn), ScalarType(dt))


def _reduce(v: Vec, dt: DType, fn: Callable[[Expr, Expr], Expr]):
    def lower(ctx: LowerContext, call: Call, dst: Expr | None) -> list[Stmt]:
        (a,) = call.args
        n = v.count(dt)
        t = ctx.fresh("xp_r")
        out: list[Stmt] = [Decl(t, ArrayType(ScalarType(dt), const(n)))]
        out += lanes_loop(ctx, n, lambda i: [Assign(Index(Var(t), i), lane(a, v, dt, i))])
        half = n // 2
        while half >= 1:
            hi_first = half * dt.bits // 8 >= 16

            def step(j: Expr, half: int = half, hi_first: bool = hi_first) -> list[Stmt]:
                lo, hi = Index(Var(t), j), Index(Var(t), add(j, half))
                return [Assign(Index(Var(t), j), fn(hi, lo) if hi_first else fn(lo, hi))]
            out += lanes_loop(ctx, half, step)
            half //= 2
        if dst is not None:
            out.append(Assign(dst, index(Var(t), 0)))
        return out
    return lower


def compare_family() -> None:
    """_mm*_cmp_ps_mask(a, b, imm) -> mask with bit i = predicate imm on lane i."""
    for prefix, width in PREFIXES.items():
        ps = {16: "__m128", 32: "__m256", 64: "__m512"}[width]
        for tag, vname, dt in (("ps", ps, F32), ("pd", ps + "d", F64)):
            v = vec_of(vname)
            mask_dtype = U16 if v.count(dt) > 8 else U8
            TABLE.add(f"{prefix}_cmp_{tag}_mask", _compare(v, dt, False), ScalarType(mask_dtype))
            TABLE.add(f"{prefix}_mask_cmp_{tag}_mask", _compare(v, dt, True), ScalarType(mask_dtype))


def _predicate(imm: int, a: Expr, b: Expr) -> Expr:
    unordered = BinOp("||", BinOp("!=", a, a), BinOp("!=", b, b))
    ordered = UnaryOp("!", unordered)
    relation = {
        0: BinOp("==", a, b), 1: BinOp("<", a, b), 2: BinOp("<=", a, b), 3: unordered,
        4: UnaryOp("!", BinOp("==", a, b)), 5: UnaryOp("!", BinOp("<", a, b)), 6: UnaryOp("!", BinOp("<=", a, b)),
        7: ordered, 8: BinOp("||", BinOp("==", a, b), unordered), 9: UnaryOp("!", BinOp(">=", a, b)),
        10: UnaryOp("!", BinOp(">", a, b)), 11: const(0), 12: BinOp("&&", BinOp("!=", a, b), ordered),
        13: BinOp(">=", a, b), 14: BinOp(">", a, b), 15: const(1),
    }
    return relation[imm & 15]


def _compare(v: Vec, dt: DType, masked: bool):
    def lower(ctx: LowerContext, call: Call, dst: Expr | None) -> list[Stmt]:
        args = call.args[1:] if masked else call.args
        a, b = args[0], args[1]
        imm = ctx.require_int(call, len(call.args) - 1, "predicate")
        acc = ctx.fresh("xp_m")
        out: list[Stmt] = [Decl(acc, ScalarType(U64), const(0))]

        def body(i: Expr) -> list[Stmt]:
            hit = _predicate(imm, lane(a, v, dt, i), lane(b, v, dt, i))
            if masked:
                hit = BinOp("&&", BinOp("!=", mask_bit(call.args[0], i), const(0)), hit)
            bit = BinOp("<<", Const(1, U64), i)
            return [If(hit, Block((Assign(Var(acc), bit, "|"),)))]
        out += lanes_loop(ctx, v.count(dt), body)
        if dst is not None:
            out.append(Assign(dst, Var(acc)))
        return out
    return lower


def round_family() -> None:
    for prefix, width in PREFIXES.items():
        ps = {16: "__m128", 32: "__m256", 64: "__m512"}[width]
        v = vec_of(ps)

        def lower(ctx: LowerContext, call: Call, dst: Expr | None, v: Vec = v) -> list[Stmt]:
            a = call.args[0]
            imm = ctx.require_int(call, 1, "rounding immediate")
            return lanes_loop(ctx, v.lanes, lambda i: [Assign(Index(dst, i), round_scale(ctx, Index(a, i), imm))])
        name = f"{prefix}_roundscale_ps" if width == 64 else f"{prefix}_round_ps"
        TABLE.add(name, lower, named(ps))
        for fn, imm in (("floor", 1), ("ceil", 2)):
            def fixed(ctx: LowerContext, call: Call, dst: Expr | None, v: Vec = v, imm: int = imm) -> list[Stmt]:
                return lanes_loop(ctx, v.lanes, lambda i: [Assign(Index(dst, i), round_scale(ctx, Index(call.args[0], i), imm))])
            TABLE.add(f"{prefix}_{fn}_ps", fixed, named(ps))


def dot_families() -> None:
    """VNNI: dpbusd(s) = u8 (a) x s8 (b), 4 per int32 lane; dpwssd(s) = s16 x s16, 2 per lane; s = saturate."""
    for prefix, width in PREFIXES.items():
        vi = vec_of({16: "__m128i", 32: "__m256i", 64: "__m512i"}[width])
        for name, ta, tb, per, saturate in (("dpbusd", U8, I8, 4, False), ("dpbusds", U8, I8, 4, True),
                                            ("dpwssd", I16, I16, 2, False), ("dpwssds", I16, I16, 2, True)):
            for suffix in ("_epi32", "_avx_epi32"):
                TABLE.add(f"{prefix}_{name}{suffix}", _dot(vi, ta, tb, per, saturate, None), named(vi.name))
            TABLE.add(f"{prefix}_mask_{name}_epi32", _dot(vi, ta, tb, per, saturate, "mask"), named(vi.name))
            TABLE.add(f"{prefix}_maskz_{name}_epi32", _dot(vi, ta, tb, per, saturate, "maskz"), named(vi.name))
        # madd_epi16: s16 pairs summed into int32 (wraps); maddubs_epi16: u8 x s8 pairs, saturated to int16
        TABLE.add(f"{prefix}_madd_epi16", _pairs(vi, I16, I16, I32, False), named(vi.name))
        TABLE.add(f"{prefix}_maddubs_epi16", _pairs(vi, U8, I8, I16, True), named(vi.name))


def _saturate(value: Expr, dtype: DType) -> Expr:
    lo, hi = -(1 << (dtype.bits - 1)), (1 << (dtype.bits - 1)) - 1
    return cast(dtype, Select(BinOp("<", value, Const(lo, I64)), Const(lo, I64),
                              Select(BinOp(">", value, Const(hi, I64)), Const(hi, I64), value)))


def _dot(vi: Vec, ta: DType, tb: DType, per: int, saturate: bool, mask: str | None):
    def lower(ctx: LowerContext, call: Call, dst: Expr | None) -> list[Stmt]:
        args = call.args
        k = None
        if mask == "mask":
            src, k, a, b = args
        elif mask == "maskz":
            k, src, a, b = args
        else:
            src, a, b = args

        def body(i: Expr) -> list[Stmt]:
            total: Expr = cast(I64, lane(src, vi, I32, i))
            for j in range(per):
                at = add(mul(i, per), j)
                total = BinOp("+", total, BinOp("*", cast(I64, lane(a, vi, ta, at)), cast(I64, lane(b, vi, tb, at))))
            value = _saturate(total, I32) if saturate else cast(I32, total)
            if mask is not None:
                keep = lane(src, vi, I32, i) if mask == "mask" else const(0)
                value = Select(mask_bit(k, i), value, keep)
            return [Assign(lane(dst, vi, I32, i), value)]
        return lanes_loop(ctx, vi.count(I32), body)
    return lower


def _pairs(vi: Vec, ta: DType, tb: DType, out: DType, saturate: bool):
    def lower(ctx: LowerContext, call: Call, dst: Expr | None) -> list[Stmt]:
        a, b = call.args
        n = vi.count(out)

        def body(i: Expr) -> list[Stmt]:
            terms = [BinOp("*", cast(I64, lane(a, vi, ta, add(mul(i, 2), j))), cast(I64, lane(b, vi, tb, add(mul(i, 2), j))))
                     for j in range(2)]
            total = BinOp("+", terms[0], terms[1])
            return [Assign(lane(dst, vi, out, i), _saturate(total, out) if saturate else cast(out, total))]
        return lanes_loop(ctx, n, body)
    return lower


def half_families() -> None:
    """F16C: cvtph_ps widens halves (exact); cvtps_ph rounds to nearest even (imm 0/4/8/12) — other modes refused."""
    for ps, hi in (("__m512", "__m256i"), ("__m256", "__m128i"), ("__m128", "__m128i")):
        prefix = {"__m512": "_mm512", "__m256": "_mm256", "__m128": "_mm"}[ps]
        v, h = vec_of(ps), vec_of(hi)

        def widen(ctx: LowerContext, call: Call, dst: Expr | None, v: Vec = v, h: Vec = h) -> list[Stmt]:
            return lanes_loop(ctx, v.lanes, lambda i: [Assign(Index(dst, i), cast(F32, lane(call.args[0], h, F16, i)))])
        TABLE.add(f"{prefix}_cvtph_ps", widen, named(ps))

        def narrow(ctx: LowerContext, call: Call, dst: Expr | None, v: Vec = v, h: Vec = h) -> list[Stmt]:
            imm = ctx.require_int(call, 1, "rounding immediate")
            if imm & 3 and not imm & 4:
                raise PassRefused("XP501", f"{call.name} with a directed rounding mode has no semantics yet",
                                  hint="use _MM_FROUND_TO_NEAREST_INT or _MM_FROUND_CUR_DIRECTION")
            out = lanes_loop(ctx, v.lanes, lambda i: [Assign(lane(dst, h, F16, i), cast(F16, Index(call.args[0], i)))])
            if h.count(F16) > v.lanes:  # the upper halves of a 128-bit result are zero
                out += lanes_loop(ctx, h.count(F16), lambda i: [If(BinOp(">=", i, const(v.lanes)), Block((
                    Assign(lane(dst, h, F16, i), cast(F16, const(0))),)))])
            return out
        TABLE.add(f"{prefix}_cvtps_ph", narrow, named(hi))


def mask_family() -> None:
    """Mask conversions and logic: masks are plain unsigned integers, so these are integer expressions."""
    for bits, dt in ((8, U8), (16, U16), (32, U32), (64, U64)):
        wide = "u64" if bits == 64 else "u32"
        for name, fn in ((f"_cvt{wide}_mask{bits}", lambda a: a), (f"_cvtmask{bits}_{wide}", lambda a: a),
                         (f"_knot_mask{bits}", lambda a: UnaryOp("~", a))):
            TABLE.add(name, _mask_op(dt, fn), ScalarType(dt))
        for op, c_op in (("and", "&"), ("or", "|"), ("xor", "^")):
            TABLE.add(f"_k{op}_mask{bits}", _mask_op(dt, lambda a, b, c_op=c_op: BinOp(c_op, a, b)), ScalarType(dt))
        TABLE.add(f"_kandn_mask{bits}", _mask_op(dt, lambda a, b: BinOp("&", UnaryOp("~", a), b)), ScalarType(dt))


def _mask_op(dt: DType, fn: Callable[..., Expr]):
    def lower(ctx: LowerContext, call: Call, dst: Expr | None) -> list[Stmt]:
        return [Assign(dst, cast(dt, fn(*call.args)))] if dst is not None else []
    return lower


arithmetic_families()
permute_families()
mask_family()
memory_families()
reduction_families()
compare_family()
round_family()
dot_families()
half_families()
