"""The abstract values of the interpretation (integers, conditions, pointers into parameters), the accesses it
records, its activation frames, and the C type facts (sizes, integer-ness) it needs."""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from kernel_ir.extents.conditions import Cond
from kernel_ir.ir import (
    ArrayType, BinOp, BuiltinVar, Call, Cast, Const, DType, Index, Member, NamedType, Node, PointerType,
    ReferenceType, ScalarType, Type, UnaryOp, Var, VectorType,
)


@dataclass(frozen=True)
class IntV:
    expr: sp.Expr


@dataclass(frozen=True)
class BoolV:
    cond: Cond


@dataclass(frozen=True)
class PtrV:
    """A pointer into parameter `param` (None: memory that is no parameter: NRAM, shared, a local vector,
    a device buffer), `offset` bytes from its start (None: unknown, `why` says why)."""

    param: str | None
    offset: sp.Expr | None
    pointee: Type | None
    why: str = ""

    @property
    def elem(self) -> int | None:
        return type_size(self.pointee) if self.pointee is not None else None


@dataclass(frozen=True)
class DimV:
    dims: tuple[sp.Expr, sp.Expr, sp.Expr]


@dataclass(frozen=True, eq=False)
class RefV:
    """A caller's scalar variable seen from a helper: `&x` passed for an out-parameter (read and written
    through `*p`), or x bound to a reference parameter (auto: the parameter reads and assigns x)."""

    frame: "Frame"
    name: str
    auto: bool = False

    def get(self) -> "Value":
        return self.frame.env.get(self.name)


Value = IntV | BoolV | PtrV | DimV | RefV | None  # None: a value not followed (floats, structs...)


@dataclass(frozen=True)
class Access:
    """Bytes [.., end) of `param` touched where `path` holds; end None when unbounded (`why`)."""

    param: str
    end: sp.Expr | None
    path: tuple[Cond, ...]
    read: bool
    write: bool
    copy: bool = False  # a host <-> device copy in a CUDA/HIP launcher
    why: str = ""
    exact: bool = True  # False when `end` may lie past the bytes touched (a mask whose lanes are not followed)


_NAMED_SIZES = {
    "__m512": 64, "__m512i": 64, "__m512d": 64, "__m512h": 64, "__m256": 32, "__m256i": 32, "__m256d": 32,
    "__m256h": 32, "__m128": 16, "__m128i": 16, "__m128d": 16, "__m128h": 16, "__half": 2, "half": 2,
    "__nv_bfloat16": 2, "__hip_bfloat16": 2, "bfloat16_t": 2, "__half2": 4, "half2": 4, "dim3": 12,
    "__mmask8": 1, "__mmask16": 2, "__mmask32": 4, "__mmask64": 8, "size_t": 8,
}
_MASK_TYPES = {"__mmask8", "__mmask16", "__mmask32", "__mmask64"}


def type_size(t: Type | None) -> int | None:
    if isinstance(t, ScalarType):
        return 1 if t.dtype == DType.bool else (t.dtype.bits // 8 or None)
    if isinstance(t, VectorType):
        return t.lanes * t.dtype.bits // 8
    if isinstance(t, PointerType):
        return 8
    if isinstance(t, ReferenceType):
        return type_size(t.referee)
    if isinstance(t, ArrayType):
        inner = type_size(t.element)
        if inner is not None and isinstance(t.size, Const) and isinstance(t.size.value, int):
            return inner * t.size.value
        return None
    if isinstance(t, NamedType):
        return _NAMED_SIZES.get(t.name)
    return None


def is_int_type(t: Type | None) -> bool:
    if isinstance(t, ScalarType):
        return t.dtype.is_int or t.dtype == DType.bool
    if isinstance(t, ReferenceType):
        return is_int_type(t.referee)
    return isinstance(t, NamedType) and t.name in _MASK_TYPES | {"size_t"}


def is_buffer(t: Type) -> bool:
    return isinstance(t, (PointerType, ArrayType))


def pointee_of(t: Type) -> Type | None:
    if isinstance(t, PointerType):
        return t.pointee
    if isinstance(t, ArrayType):
        return t.element
    return None


def show_expr(e: Node) -> str:
    """Short C-like text of an expression, for reasons."""
    if isinstance(e, Var):
        return e.name
    if isinstance(e, Const):
        return str(e.value)
    if isinstance(e, BuiltinVar):
        return f"{e.name}.{e.axis}" if e.axis else e.name
    if isinstance(e, BinOp):
        return f"{show_expr(e.lhs)} {e.op} {show_expr(e.rhs)}"
    if isinstance(e, UnaryOp):
        return f"{show_expr(e.operand)}{e.op}" if e.postfix else f"{e.op}{show_expr(e.operand)}"
    if isinstance(e, Index):
        return f"{show_expr(e.base)}[{show_expr(e.index)}]"
    if isinstance(e, Call):
        return f"{e.name}(...)"
    if isinstance(e, Cast):
        return show_expr(e.expr)
    if isinstance(e, Member):
        return f"{show_expr(e.base)}.{e.field}"
    return type(e).__name__


# IR nodes that are types (a sizeof or template argument may be a type or an expression)
TYPE_NODES = (ScalarType, VectorType, PointerType, ArrayType, NamedType, ReferenceType)


@dataclass
class Frame:
    """One function activation: variable values and declared types; `returns` collects (path suffix, value)."""

    env: dict[str, Value]
    types: dict[str, Type]
    path_base: int
    returns: list[tuple[tuple[Cond, ...], Value]] = field(default_factory=list)
    # local arrays filled as arr[i] = f(i) (i a loop counter): name -> (i, f(i)); None once filled otherwise
    tables: dict[str, tuple[sp.Symbol, Value] | None] = field(default_factory=dict)


@dataclass
class Loop:
    """A loop being interpreted: whether its body can leave it by `break`."""

    broke: bool = False
