"""Kernel IR: one small, typed, immutable vocabulary shared by the parser, the passes and the printers.

Every node is a frozen dataclass; children are nodes or tuples of nodes, so modules compare and hash
structurally and a pass changes a node with `dataclasses.replace`. Nothing here records source locations:
two parses of equivalent code give equal modules. `walk` and `transform` visit any node generically.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Callable, Iterator, Union


class Node:
    """Base of every IR node (types, expressions, statements, top-level items)."""

    __slots__ = ()


# ---------------------------------------------------------------- enums --------------------------------------


class DType(enum.Enum):
    """Scalar element types (C spellings differ per dialect and live in the printers)."""

    void = "void"
    bool = "bool"
    int8 = "int8"
    uint8 = "uint8"
    int16 = "int16"
    uint16 = "uint16"
    int32 = "int32"
    uint32 = "uint32"
    int64 = "int64"
    uint64 = "uint64"
    float16 = "float16"
    bfloat16 = "bfloat16"
    float32 = "float32"
    float64 = "float64"

    @property
    def is_float(self) -> bool:
        return self in (DType.float16, DType.bfloat16, DType.float32, DType.float64)

    @property
    def is_int(self) -> bool:
        return self.value.startswith(("int", "uint"))

    @property
    def is_signed(self) -> bool:
        return self.is_float or self.value.startswith("int")

    @property
    def bits(self) -> int:
        special = {"void": 0, "bool": 8}
        if self.value in special:
            return special[self.value]
        return int("".join(c for c in self.value if c.isdigit()))


class MemScope(enum.Enum):
    """Where a variable lives. `local` = automatic thread/task-private variable; `host` = plain C global."""

    global_ = "global"
    shared = "shared"
    nram = "nram"
    wram = "wram"
    ldram = "ldram"
    mlu_shared = "mlu_shared"
    constant = "constant"
    local = "local"
    register = "register"
    host = "host"


class ForKind(enum.Enum):
    """How a loop is executed; `bound` loops carry the hardware axis name in `For.axis`."""

    serial = "serial"
    parallel = "parallel"
    bound = "bound"
    vectorized = "vectorized"
    unrolled = "unrolled"


class BarrierKind(enum.Enum):
    syncthreads = "syncthreads"
    syncwarp = "syncwarp"
    sync_grid = "sync_grid"
    sync_all = "sync_all"
    sync_cluster = "sync_cluster"
    sync_compute = "sync_compute"


class FuncQual(enum.Enum):
    global_ = "global"
    device = "device"
    host = "host"
    mlu_global = "mlu_global"
    mlu_func = "mlu_func"
    mlu_device = "mlu_device"
    extern_c = "extern_c"
    static = "static"
    inline = "inline"
    forceinline = "forceinline"
    noinline = "noinline"
    constexpr = "constexpr"


class VarQual(enum.Enum):
    extern = "extern"
    static = "static"
    constexpr = "constexpr"


# ---------------------------------------------------------------- types --------------------------------------


@dataclass(frozen=True, slots=True)
class ScalarType(Node):
    """A scalar; `spelling` remembers the source name (int32_t, size_t, half) and is ignored by ==."""

    dtype: DType
    const: bool = False
    volatile: bool = False
    spelling: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class VectorType(Node):
    """Short vector struct such as float4 / half2 / int4 (fields x, y, z, w)."""

    dtype: DType
    lanes: int
    const: bool = False
    spelling: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class PointerType(Node):
    pointee: Type
    const: bool = False
    restrict: bool = False
    volatile: bool = False


@dataclass(frozen=True, slots=True)
class ReferenceType(Node):
    referee: Type


@dataclass(frozen=True, slots=True)
class ArrayType(Node):
    """Fixed array; size None for `extern __shared__ float s[]`, an Expr when it depends on a template."""

    element: Type
    size: Expr | None


@dataclass(frozen=True, slots=True)
class NamedType(Node):
    """Opaque type kept as text: dim3, __m512i, wmma::fragment<...>, a template parameter T, `auto`."""

    name: str
    const: bool = False
    volatile: bool = False


Type = Union[ScalarType, VectorType, PointerType, ReferenceType, ArrayType, NamedType]


# ---------------------------------------------------------------- expressions --------------------------------


@dataclass(frozen=True, slots=True)
class Var(Node):
    name: str


@dataclass(frozen=True, slots=True)
class Const(Node):
    """Literal. value None means nullptr; bool/int/float otherwise (a float is the exact value of the literal)."""

    value: bool | int | float | None
    dtype: DType


@dataclass(frozen=True, slots=True)
class StringLit(Node):
    text: str  # spelled with quotes and escapes


@dataclass(frozen=True, slots=True)
class BinOp(Node):
    """Binary operator incl. `,` and, in expression position, assignments (`=`, `+=`)."""

    op: str
    lhs: Expr
    rhs: Expr


@dataclass(frozen=True, slots=True)
class UnaryOp(Node):
    """`-x`, `!x`, `~x`, `*p`, `&x`, `++i` / `i++` (postfix=True)."""

    op: str
    operand: Expr
    postfix: bool = False


@dataclass(frozen=True, slots=True)
class Call(Node):
    """Call of a function or intrinsic by (possibly qualified) name: expf, __bang_add, std::max, wmma::mma_sync."""

    name: str
    args: tuple[Expr, ...] = ()
    template_args: tuple[TemplateArg, ...] = ()  # as written (and printed)
    # every template argument, those clang deduced from the arguments included (`warp_sum(v)`): what inlining
    # instantiates a helper with; never printed, since a builtin may be a template only in our declarations
    deduced_template_args: tuple[TemplateArg, ...] = ()


@dataclass(frozen=True, slots=True)
class MethodCall(Node):
    obj: Expr
    method: str
    args: tuple[Expr, ...] = ()
    arrow: bool = False


@dataclass(frozen=True, slots=True)
class Index(Node):
    base: Expr
    index: Expr


@dataclass(frozen=True, slots=True)
class Member(Node):
    base: Expr
    field: str
    arrow: bool = False


@dataclass(frozen=True, slots=True)
class Cast(Node):
    type: Type
    expr: Expr


@dataclass(frozen=True, slots=True)
class Construct(Node):
    """Object construction: dim3(a, b), int(), or with braces (braced=True) float4{x, y, z, w}."""

    type: Type
    args: tuple[Expr, ...] = ()
    braced: bool = False


@dataclass(frozen=True, slots=True)
class Select(Node):
    cond: Expr
    then: Expr
    otherwise: Expr


@dataclass(frozen=True, slots=True)
class SizeOf(Node):
    arg: Type | Expr


@dataclass(frozen=True, slots=True)
class BuiltinVar(Node):
    """Hardware index variable: threadIdx/blockIdx/blockDim/gridDim (+axis), warpSize, taskId, taskDim, coreId..."""

    name: str
    axis: str | None = None


@dataclass(frozen=True, slots=True)
class InitList(Node):
    items: tuple[Expr, ...] = ()


@dataclass(frozen=True, slots=True)
class RawExpr(Node):
    """Construct the IR does not model (lambda, new-expression...), kept as printable C++ text."""

    text: str


@dataclass(frozen=True, slots=True)
class LaunchConfig(Node):
    grid: Expr
    block: Expr
    shared: Expr | None = None
    stream: Expr | None = None


Expr = Union[Var, Const, StringLit, BinOp, UnaryOp, Call, MethodCall, Index, Member, Cast, Construct, Select,
             SizeOf, BuiltinVar, InitList, RawExpr]
TemplateArg = Union[Type, Expr]


# ---------------------------------------------------------------- statements ---------------------------------


@dataclass(frozen=True, slots=True)
class Decl(Node):
    name: str
    type: Type
    init: Expr | None = None
    scope: MemScope = MemScope.local
    qualifiers: frozenset[VarQual] = frozenset()
    align: int | None = None


@dataclass(frozen=True, slots=True)
class Assign(Node):
    """target op= value; op "" is plain assignment."""

    target: Expr
    value: Expr
    op: str = ""


@dataclass(frozen=True, slots=True)
class ExprStmt(Node):
    expr: Expr


@dataclass(frozen=True, slots=True)
class Block(Node):
    body: tuple[Stmt, ...] = ()


@dataclass(frozen=True, slots=True)
class For(Node):
    """C for loop kept general (init may hold several Decls); `pragmas` holds the source pragma texts."""

    init: tuple[Stmt, ...]
    cond: Expr | None
    step: Stmt | None
    body: Block
    kind: ForKind = ForKind.serial
    axis: str | None = None
    pragmas: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class While(Node):
    cond: Expr
    body: Block


@dataclass(frozen=True, slots=True)
class DoWhile(Node):
    body: Block
    cond: Expr


@dataclass(frozen=True, slots=True)
class If(Node):
    cond: Expr
    then: Block
    otherwise: Block | None = None
    constexpr: bool = False  # `if constexpr`: the untaken branch of a template is never instantiated
    likely: bool = False  # `if (c) [[likely]]`: simdize's fast version of a loop body, or the source's own hint


@dataclass(frozen=True, slots=True)
class Switch(Node):
    value: Expr
    body: Block


@dataclass(frozen=True, slots=True)
class Case(Node):
    """`case value:` label inside a Switch body; value None is `default:`."""

    value: Expr | None


@dataclass(frozen=True, slots=True)
class Return(Node):
    value: Expr | None = None


@dataclass(frozen=True, slots=True)
class Break(Node):
    pass


@dataclass(frozen=True, slots=True)
class Continue(Node):
    pass


@dataclass(frozen=True, slots=True)
class Barrier(Node):
    kind: BarrierKind
    args: tuple[Expr, ...] = ()


@dataclass(frozen=True, slots=True)
class KernelLaunch(Node):
    """`k<<<grid, block, shared, stream>>>(args)` / `hipLaunchKernelGGL(k, grid, block, shared, stream, args)`."""

    kernel: str
    config: LaunchConfig
    args: tuple[Expr, ...] = ()
    template_args: tuple[TemplateArg, ...] = ()


@dataclass(frozen=True, slots=True)
class Pragma(Node):
    """A pragma that is not a loop annotation; `body` is the statement it governs (None if standalone)."""

    text: str
    body: Stmt | None = None


@dataclass(frozen=True, slots=True)
class RawStmt(Node):
    """Statement the IR does not model (static_assert, local struct...), kept as printable C++ text."""

    text: str


Stmt = Union[Decl, Assign, ExprStmt, Block, For, While, DoWhile, If, Switch, Case, Return, Break, Continue,
             Barrier, KernelLaunch, Pragma, RawStmt]


# ---------------------------------------------------------------- top level ----------------------------------


@dataclass(frozen=True, slots=True)
class Param(Node):
    name: str
    type: Type
    default: Expr | None = None


@dataclass(frozen=True, slots=True)
class TemplateParam(Node):
    """`typename T` (type None) or `int BLOCK` (type given); default kept as C++ text."""

    name: str
    type: Type | None = None
    default: str | None = None


@dataclass(frozen=True, slots=True)
class Function(Node):
    name: str
    return_type: Type
    params: tuple[Param, ...]
    body: Block | None
    qualifiers: frozenset[FuncQual] = frozenset()
    template_params: tuple[TemplateParam, ...] = ()
    attributes: tuple[str, ...] = ()  # e.g. "launch_bounds(256)"


@dataclass(frozen=True, slots=True)
class GlobalVar(Node):
    name: str
    type: Type
    scope: MemScope = MemScope.host
    init: Expr | None = None
    qualifiers: frozenset[VarQual] = frozenset()
    align: int | None = None


@dataclass(frozen=True, slots=True)
class Verbatim(Node):
    """Top-level text kept as written: struct/enum/typedef/using definitions, static_assert, pragmas."""

    text: str


@dataclass(frozen=True, slots=True)
class Namespace(Node):
    """`namespace name { ... }`; name "" is an anonymous namespace."""

    name: str
    items: tuple[TopLevel, ...]


TopLevel = Union[Function, GlobalVar, Verbatim, Namespace]


@dataclass(frozen=True, slots=True)
class Module(Node):
    """A translation unit. `items` keeps source order (C needs declaration before use)."""

    dialect: str
    includes: tuple[str, ...] = ()  # "<cuda_runtime.h>", '"util.h"'
    macros: tuple[str, ...] = ()  # verbatim "#define ..." lines
    items: tuple[TopLevel, ...] = ()
    # verbatim "#pragma ..." lines before the includes: options every function of the file must share, the
    # headers' inline functions included (g++ does not inline across `#pragma GCC optimize` settings)
    preamble: tuple[str, ...] = ()

    @property
    def functions(self) -> tuple[Function, ...]:
        return tuple(n for n in _flatten_items(self.items) if isinstance(n, Function))

    @property
    def globals(self) -> tuple[GlobalVar, ...]:
        return tuple(n for n in _flatten_items(self.items) if isinstance(n, GlobalVar))

    def function(self, name: str) -> Function:
        """The definition (preferred over a prototype) of function `name`; KeyError if absent."""
        found = [f for f in self.functions if f.name == name]
        if not found:
            raise KeyError(name)
        return next((f for f in found if f.body is not None), found[0])

    def map_functions(self, fn: Callable[[Function], Function]) -> Module:
        """A copy with fn applied to every function (inside namespaces too), order kept."""
        return dataclasses.replace(self, items=_map_items(self.items, fn))

    def with_definitions(self, *items: TopLevel) -> Module:
        """A copy with `items` (helpers, declarations the functions use) placed before the first function."""
        first = next((i for i, item in enumerate(self.items) if isinstance(item, Function)), len(self.items))
        return dataclasses.replace(self, items=self.items[:first] + items + self.items[first:])


def _flatten_items(items: tuple[TopLevel, ...]) -> Iterator[TopLevel]:
    for item in items:
        if isinstance(item, Namespace):
            yield from _flatten_items(item.items)
        else:
            yield item


def _map_items(items: tuple[TopLevel, ...], fn: Callable[[Function], Function]) -> tuple[TopLevel, ...]:
    out: list[TopLevel] = []
    for item in items:
        if isinstance(item, Namespace):
            out.append(dataclasses.replace(item, items=_map_items(item.items, fn)))
        elif isinstance(item, Function):
            out.append(fn(item))
        else:
            out.append(item)
    return tuple(out)


# ---------------------------------------------------------------- traversal ----------------------------------


def children(node: Node) -> Iterator[Node]:
    """Direct child nodes in field order (through tuples; frozensets hold enums only)."""
    for f in dataclasses.fields(node):  # type: ignore[arg-type]
        value = getattr(node, f.name)
        if isinstance(value, Node):
            yield value
        elif isinstance(value, tuple):
            for item in value:
                if isinstance(item, Node):
                    yield item


def walk(node: Node) -> Iterator[Node]:
    """Pre-order traversal of node and everything below it (types included)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(children(current))))


def transform(node: Node, fn: Callable[[Node], Node | None], top_down: bool = False) -> Node:
    """Bottom-up rewrite: children first, then fn(rebuilt node); fn returns a replacement or None to keep it.

    top_down: fn sees each node before its children; a replacement is kept as is (its children not visited).
    """
    if top_down:
        replaced = fn(node)
        if replaced is not None:
            return replaced
    changes = {}
    for f in dataclasses.fields(node):  # type: ignore[arg-type]
        value = getattr(node, f.name)
        if isinstance(value, Node):
            new = transform(value, fn, top_down)
            if new is not value:
                changes[f.name] = new
        elif isinstance(value, tuple) and any(isinstance(v, Node) for v in value):
            items = tuple(transform(v, fn, top_down) if isinstance(v, Node) else v for v in value)
            if any(a is not b for a, b in zip(items, value)):
                changes[f.name] = items
    rebuilt = dataclasses.replace(node, **changes) if changes else node  # type: ignore[type-var]
    if top_down:
        return rebuilt
    replaced = fn(rebuilt)
    return rebuilt if replaced is None else replaced
