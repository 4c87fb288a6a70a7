"""Semantics of the CUDA/HIP matrix intrinsics as per-thread loops, for `detensorize`.

wmma (CUDA): a fragment becomes a per-thread array of rows x cols elements (row-major), exactly as the executor's
runtime models it (`kernel_ir/runtime/xp_cuda.h`: every thread holds the whole tile, so element-wise fragment
code gives the same answer). Loads, stores and mma_sync synchronise the warp first (a `syncwarp` barrier), as
the runtime does, since they read what other lanes wrote; mma_sync multiplies and sums in float.

MFMA (HIP `__builtin_amdgcn_mfma_*`) is wavefront-collective: each lane's result needs the other lanes'
operands. The float and half shapes lower to per-lane loops that fetch those operands with `__shfl` (which
recover_loops turns into an exchange between the threads' phases), in the register layout the executor's
runtime models (AMD's matrix instruction calculator; `kernel_ir/runtime/xp_hip.h`): for 16x16 shapes lane l holds
A row l%16 and B column l%16 at k-group l/16 and D rows 4*(l/16)+r of column l%16; for 32x32, A row l%32, B
column l%32 at k-group l/32, D row 8*(r/4) + 4*(l/32) + r%4. The operands' ext_vector_type values are plain
arrays here (detensorize lowers them). Integer and bf16 shapes stay refused (XP502).
"""
from __future__ import annotations

import re

from kernel_ir.ir import (
    ArrayType, Assign, Barrier, BarrierKind, BinOp, BuiltinVar, Call, Cast, Decl, DType, Expr, Index, NamedType,
    ScalarType, Select, Stmt, Type, Var,
)
from passes.base import PassRefused
from passes.detensorize import IntrinsicTable, LowerContext, add, const, element_type, loop, mul

_FRAGMENT = re.compile(r"^(?:nvcuda::)?wmma::fragment\s*<(.*)>$")
_ELEMENTS = {"half": DType.float16, "__half": DType.float16, "float": DType.float32, "double": DType.float64,
             "signed char": DType.int8, "unsigned char": DType.uint8, "int": DType.int32,
             "__nv_bfloat16": DType.bfloat16, "precision::tf32": DType.float32, "wmma::precision::tf32": DType.float32}


def fragment_shape(t: Type | None, ctx: LowerContext) -> tuple[str, int, int, int, DType, str] | None:
    """(use, rows, cols, K, element, layout) of a wmma fragment type; None if `t` is not one."""
    if not isinstance(t, NamedType):
        return None
    m = _FRAGMENT.match(t.name.strip())
    if not m:
        return None
    parts = [p.strip() for p in m.group(1).split(",")]
    use = parts[0].split("::")[-1]
    dims = []
    for text in parts[1:4]:
        value = int(text) if text.isdigit() else ctx.constants.get(text)
        if value is None:
            raise PassRefused("XP503", f"wmma fragment dimension {text} is not a known constant")
        dims.append(value)
    m_, n_, k_ = dims
    element = _ELEMENTS.get(parts[4])
    if element is None:
        raise PassRefused("XP501", f"no semantics for wmma fragments of {parts[4]}")
    layout = parts[5].split("::")[-1] if len(parts) > 5 else ""
    rows, cols = {"matrix_a": (m_, k_), "matrix_b": (k_, n_), "accumulator": (m_, n_)}[use]
    return use, rows, cols, k_, element, layout


def _lower_type(t: Type, ctx: LowerContext) -> Type | None:
    if isinstance(t, NamedType) and t.name in ctx.vectors:
        return ctx.vectors[t.name]
    shape = fragment_shape(t, ctx)
    if shape is None:
        return None
    _, rows, cols, _, element, _ = shape
    return ArrayType(ScalarType(element), const(rows * cols))


def _is_wmma(name: str) -> bool:
    return name.startswith(("wmma::", "nvcuda::wmma::"))


def _is_mfma(name: str) -> bool:
    return name.startswith("__builtin_amdgcn_mfma")


CUDA = IntrinsicTable("cuda", _is_wmma, _lower_type)
HIP = IntrinsicTable("hip", lambda name: _is_wmma(name) or _is_mfma(name), _lower_type)
TABLES = {"cuda": CUDA, "hip": HIP}


def _shape_of(ctx: LowerContext, call: Call, position: int):
    shape = fragment_shape(ctx.declared_type(call.args[position]), ctx)
    if shape is None:
        raise PassRefused("XP503", f"{call.name}: argument {position + 1} is not a declared wmma fragment")
    return shape


def _sync() -> Barrier:
    return Barrier(BarrierKind.syncwarp)


def _tile_loops(ctx: LowerContext, rows: int, cols: int, body) -> list[Stmt]:
    r, c = ctx.fresh("r"), ctx.fresh("c")
    return [loop(r, rows, [loop(c, cols, body(Var(r), Var(c)))])]


def _col_major(layout: Expr) -> Expr:
    """The runtime's layout_t: mem_row_major = 0, mem_col_major = 1."""
    if isinstance(layout, Var):
        return const(1 if layout.name.endswith("mem_col_major") else 0)
    return BinOp("==", layout, const(1))


def load_matrix(ctx: LowerContext, call: Call, dst: Expr | None) -> list[Stmt]:
    f, p, ldm = call.args[:3]
    use, rows, cols, _, element, layout = _shape_of(ctx, call, 0)
    col_major: Expr = _col_major(call.args[3]) if use == "accumulator" else const(1 if layout == "col_major" else 0)

    def body(r: Expr, c: Expr) -> list[Stmt]:
        at = Select(col_major, add(mul(c, ldm), r), add(mul(r, ldm), c))
        return [Assign(_at(f, add(mul(r, cols), c)), Cast(ScalarType(element), _at(p, at)))]
    return [_sync()] + _tile_loops(ctx, rows, cols, body)


def store_matrix(ctx: LowerContext, call: Call, dst: Expr | None) -> list[Stmt]:
    p, f, ldm, layout = call.args
    _, rows, cols, _, _, _ = _shape_of(ctx, call, 1)
    pointee = element_type(ctx.type_of(p))
    col_major = _col_major(layout)

    def body(r: Expr, c: Expr) -> list[Stmt]:
        at = Select(col_major, add(mul(c, ldm), r), add(mul(r, ldm), c))
        value = _at(f, add(mul(r, cols), c))
        return [Assign(_at(p, at), Cast(pointee, value) if pointee is not None else value)]
    return [_sync()] + _tile_loops(ctx, rows, cols, body)


def fill_fragment(ctx: LowerContext, call: Call, dst: Expr | None) -> list[Stmt]:
    f, v = call.args
    _, rows, cols, _, element, _ = _shape_of(ctx, call, 0)
    i = ctx.fresh("e")
    return [loop(i, rows * cols, [Assign(_at(f, Var(i)), Cast(ScalarType(element), v))])]


def mma(ctx: LowerContext, call: Call, dst: Expr | None) -> list[Stmt]:
    """D = A B + C, products and sums in float, through a temporary (D is usually C)."""
    d, a, b, c = call.args[:4]
    _, m, k, _, _, _ = _shape_of(ctx, call, 1)
    _, _, n, _, out_element, _ = _shape_of(ctx, call, 0)
    out, acc, kk = ctx.fresh("mma"), ctx.fresh("acc"), ctx.fresh("k")
    f32 = ScalarType(DType.float32)

    def body(i: Expr, j: Expr) -> list[Stmt]:
        product = BinOp("*", Cast(f32, _at(a, add(mul(i, k), Var(kk)))), Cast(f32, _at(b, add(mul(Var(kk), n), j))))
        return [Decl(acc, f32, Cast(f32, _at(c, add(mul(i, n), j)))),
                loop(kk, k, [Assign(Var(acc), product, "+")]),
                Assign(_at(Var(out), add(mul(i, n), j)), Var(acc))]
    e = ctx.fresh("e")
    return ([_sync(), Decl(out, ArrayType(f32, const(m * n)))] + _tile_loops(ctx, m, n, body)
            + [loop(e, m * n, [Assign(_at(d, Var(e)), Cast(ScalarType(out_element), _at(Var(out), Var(e))))])])


def _at(base: Expr, i: Expr) -> Expr:
    return Index(base, i)


# name -> (output rows = cols, reduction depth K, k values of A and B each lane holds)
MFMA_SHAPES = {"__builtin_amdgcn_mfma_f32_16x16x4f32": (16, 4, 1), "__builtin_amdgcn_mfma_f32_16x16x16f16": (16, 16, 4),
               "__builtin_amdgcn_mfma_f32_32x32x2f32": (32, 2, 1), "__builtin_amdgcn_mfma_f32_32x32x8f16": (32, 8, 4)}
_WAVEFRONT = 64


def mfma(ctx: LowerContext, call: Call, dst: Expr | None) -> list[Stmt]:
    """D = A B + C for one wavefront: each lane computes its D registers from the operands of the lanes that
    hold its row of A and its column of B, fetched with `__shfl` (sums in float, k in order, as the runtime)."""
    if call.name not in MFMA_SHAPES or dst is None:
        raise PassRefused("XP502", f"{call.name} has no per-lane lowering (integer and bf16 shapes)",
                          hint="translate this kernel from its loop form instead, or use a wmma/loop formulation")
    rows, depth, per_lane = MFMA_SHAPES[call.name]
    a, b, c = call.args[:3]
    f32 = ScalarType(DType.float32)
    lane, r, k, acc, out = ctx.fresh("lane"), ctx.fresh("r"), ctx.fresh("k"), ctx.fresh("acc"), ctx.fresh("mfma")
    thread = add(mul(add(mul(BuiltinVar("threadIdx", "z"), BuiltinVar("blockDim", "y")), BuiltinVar("threadIdx", "y")),
                     BuiltinVar("blockDim", "x")), BuiltinVar("threadIdx", "x"))
    column = BinOp("%", Var(lane), const(rows))
    if rows == 16:
        row = add(mul(BinOp("/", Var(lane), const(16)), 4), Var(r))
    else:
        row = add(add(mul(BinOp("/", Var(r), const(4)), 8), mul(BinOp("/", Var(lane), const(32)), 4)),
                  BinOp("%", Var(r), const(4)))
    group = BinOp("/", Var(k), const(per_lane))

    def fetch(operand: Expr, source: Expr) -> Expr:  # lane `source`'s k-th value of its A or B fragment
        value = operand if per_lane == 1 else Index(operand, BinOp("%", Var(k), const(per_lane)))
        return Call("__shfl", (Cast(f32, value), add(source, mul(group, rows)), const(_WAVEFRONT)))

    registers = rows * rows // _WAVEFRONT
    body = [Decl(acc, f32, Cast(f32, Index(c, Var(r)))),
            loop(k, depth, [Assign(Var(acc), BinOp("*", fetch(a, row), fetch(b, column)), "+")]),
            Assign(Index(Var(out), Var(r)), Var(acc))]
    e = ctx.fresh("e")
    return [Decl(lane, ScalarType(DType.int32), BinOp("%", thread, const(_WAVEFRONT))),
            Decl(out, ArrayType(f32, const(registers))),
            loop(r, registers, body),
            loop(e, registers, [Assign(Index(dst, Var(e)), Index(Var(out), Var(e)))])]


for _table in (CUDA, HIP):
    for _prefix in ("wmma::", "nvcuda::wmma::"):
        _table.add(_prefix + "load_matrix_sync", load_matrix)
        _table.add(_prefix + "store_matrix_sync", store_matrix)
        _table.add(_prefix + "fill_fragment", fill_fragment)
        _table.add(_prefix + "mma_sync", mma)
for _name in ("__builtin_amdgcn_mfma_f32_16x16x4f32", "__builtin_amdgcn_mfma_f32_16x16x16f16",
              "__builtin_amdgcn_mfma_f32_32x32x2f32", "__builtin_amdgcn_mfma_f32_32x32x8f16",
              "__builtin_amdgcn_mfma_i32_16x16x16i8", "__builtin_amdgcn_mfma_i32_16x16x32_i8",
              "__builtin_amdgcn_mfma_f32_16x16x16bf16_1k"):
    HIP.add(_name, mfma, result=NamedType("float4"))
