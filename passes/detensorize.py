"""detensorize: replace every intrinsic call of a module's dialect by plain loops with the same semantics.

The pass is table-driven: `kernel_ir/dialects/<dialect>_intrinsics.py` holds an `IntrinsicTable` mapping each
intrinsic name to a lowering function, so adding an intrinsic never touches this file. The pass only

1. lowers the types the table names (`__m512` -> `float[16]`, a wmma fragment -> a per-thread array; a function
   taking such a value by value gets a pointer plus a private copy, one returning it an extra out-pointer);
2. walks every statement, hoisting nested intrinsic calls into temporaries (innermost first, in evaluation
   order) so that each call is lowered with plain operands, and asks the table for the statements of each call;
3. turns copies between lowered values (`acc = x`) into element loops.

Preconditions (else `PassRefused`): every call named like an intrinsic of the dialect has a table entry
(XP501); no intrinsic call sits where hoisting would change evaluation (a loop condition or step, the right of
`&&`/`||`/`?:`; XP503); lowered values are only declared, copied, passed and returned (XP503).
The module keeps its dialect: the result prints and runs as the same dialect without the intrinsics.
"""
from __future__ import annotations

import dataclasses
import importlib
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable

from kernel_ir.ir import (
    ArrayType, Assign, BinOp, Block, Call, Cast, Const, Construct, Decl, DoWhile, DType, Expr, ExprStmt, For, Function, If,
    Index, InitList, Module, NamedType, Node, Param, PointerType, Pragma, ReferenceType, Return, ScalarType, Select, Stmt,
    Switch, Type, UnaryOp, Var, Verbatim, While, transform, walk,
)
from passes.base import PassRefused
from passes.loops import int_value

# ---------------------------------------------------------------- IR building helpers (shared by the tables) --


def const(value: int | float, dtype: DType = DType.int32) -> Const:
    return Const(value, dtype)


def index(base: Expr, *indices: Expr | int) -> Expr:
    """base[i][j]... with int indices turned into constants."""
    for i in indices:
        base = Index(base, const(i) if isinstance(i, int) else i)
    return base


def add(a: Expr, b: Expr | int) -> Expr:
    if isinstance(b, int):
        if b == 0:
            return a
        b = const(b)
    return BinOp("+", a, b)


def mul(a: Expr, b: Expr | int) -> Expr:
    if isinstance(b, int):
        if b == 1:
            return a
        b = const(b)
    return BinOp("*", a, b)


def loop(var: str, extent: Expr | int, body: Iterable[Stmt], start: Expr | int = 0) -> For:
    """for (int var = start; var < extent; var += 1) { body } — the canonical loop shape of the loop form."""
    extent = const(extent) if isinstance(extent, int) else extent
    start = const(start) if isinstance(start, int) else start
    return For((Decl(var, ScalarType(DType.int32), start),), BinOp("<", Var(var), extent),
               Assign(Var(var), const(1), "+"), Block(tuple(body)))


def cast(dtype: DType, e: Expr) -> Cast:
    return Cast(ScalarType(dtype), e)


def view(base: Expr, dtype: DType, const_: bool = False) -> Expr:
    """`base` read as an array of `dtype` (a pointer cast; bytes of any object may be read so in C++). A cast of the
    address to a vector pointer (`(__m128i*)(q + i)`) goes: the same address, a type the other dialects lack."""
    while isinstance(base, Cast) and isinstance(base.type, PointerType) and not isinstance(base.type.pointee,
                                                                                           ScalarType):
        base = base.expr
    return Cast(PointerType(ScalarType(dtype, const=const_)), base)


# ---------------------------------------------------------------- the table ----------------------------------

LowerFn = Callable[["LowerContext", Call, "Expr | None"], list[Stmt]]
ResultFn = Callable[["LowerContext", Call], "Type | None"]


@dataclass(frozen=True)
class Entry:
    """One intrinsic: how to lower it, its result type (None: void) and whether dst may alias an operand."""

    lower: LowerFn
    result: Type | ResultFn | None
    in_place: bool = True


@dataclass
class IntrinsicTable:
    """Semantics of one dialect's intrinsics. `is_intrinsic` says which names must have an entry;
    `lower_type` maps a value type the intrinsics use (a vector, a fragment) to a plain array type."""

    dialect: str
    is_intrinsic: Callable[[str], bool]
    lower_type: Callable[[Type, "LowerContext"], Type | None] = lambda t, ctx: None
    macros: dict[str, int] = field(default_factory=dict)  # integer macros of the dialect's headers
    includes: tuple[str, ...] = ()  # headers the lowered code needs (libm)
    entries: dict[str, Entry] = field(default_factory=dict)

    def impl(self, *names: str, result: Type | ResultFn | None = None, in_place: bool = True):
        """Decorator registering `fn(ctx, call, dst) -> statements` for every name (like xDSL's @impl)."""
        def register(fn: LowerFn) -> LowerFn:
            for name in names:
                self.entries[name] = Entry(fn, result, in_place)
            return fn
        return register

    def add(self, name: str, fn: LowerFn, result: Type | ResultFn | None = None, in_place: bool = True) -> None:
        self.entries[name] = Entry(fn, result, in_place)


_TABLE_MODULES = {"cpp": "kernel_ir.dialects.cpp_intrinsics", "bang": "kernel_ir.dialects.bang_intrinsics",
                  "cuda": "kernel_ir.dialects.simt_intrinsics", "hip": "kernel_ir.dialects.simt_intrinsics"}


def table_for(dialect: str) -> IntrinsicTable:
    """The intrinsic table of `dialect` (imported lazily: the tables import this module's helpers)."""
    module = importlib.import_module(_TABLE_MODULES[dialect])
    return module.TABLES[dialect] if hasattr(module, "TABLES") else module.TABLE


# ---------------------------------------------------------------- lowering context ---------------------------


@dataclass
class LowerContext:
    """What a lowering function may ask: fresh names, expression types, constant values."""

    table: IntrinsicTable
    types: dict[str, Type]  # variables in scope of the function being lowered (params, locals, globals)
    constants: dict[str, int]  # integer constants known by name (constexpr globals, #defines, table macros)
    declared: dict[str, Type] = field(default_factory=dict)  # source types of the function's variables
    counter: list[int] = field(default_factory=lambda: [0])
    vectors: dict[str, Type] = field(default_factory=dict)  # ext_vector_type typedefs, as plain arrays

    def fresh(self, prefix: str) -> str:
        self.counter[0] += 1
        return f"{prefix}_{self.counter[0]}"

    def type_of(self, e: Expr) -> Type | None:
        """Static type of `e` where it follows from declarations (pointer arithmetic, indexing, casts)."""
        if isinstance(e, Var):
            return self.types.get(e.name)
        if isinstance(e, Cast):
            return e.type
        if isinstance(e, Const):
            return ScalarType(e.dtype)
        if isinstance(e, Index):
            return element_type(self.type_of(e.base))
        if isinstance(e, UnaryOp):
            inner = self.type_of(e.operand)
            if e.op == "&":
                return PointerType(inner) if inner is not None else None
            if e.op == "*":
                return element_type(inner)
            return inner
        if isinstance(e, BinOp) and e.op in ("+", "-"):
            for side in (e.lhs, e.rhs):
                t = self.type_of(side)
                if isinstance(t, (PointerType, ArrayType)):
                    return PointerType(element_type(t))
            return self.type_of(e.lhs)
        if isinstance(e, Select):
            return self.type_of(e.then)
        return None

    def declared_type(self, e: Expr) -> Type | None:
        """Source type (before lowering) of a variable or an element of an array variable."""
        if isinstance(e, Var):
            return self.declared.get(e.name)
        if isinstance(e, Index):
            return element_type(self.declared_type(e.base))
        return None

    def element_dtype(self, e: Expr) -> DType | None:
        """Scalar type of the elements `e` points to (None if unknown, e.g. a template parameter)."""
        t = element_type(self.type_of(e))
        while isinstance(t, ArrayType):
            t = t.element
        return t.dtype if isinstance(t, ScalarType) else None

    def int_value(self, e: Expr) -> int | None:
        """Value of an integer constant expression (named constants included), None if it is not one."""
        return int_value(e, self.constants)

    def require_int(self, call: Call, position: int, what: str) -> int:
        value = self.int_value(call.args[position])
        if value is None:
            raise PassRefused("XP503", f"{call.name}: the {what} (argument {position + 1}) must be a constant",
                              hint="write it as a literal or a constexpr/#define integer")
        return value


def element_type(t: Type | None) -> Type | None:
    if isinstance(t, PointerType):
        return t.pointee
    if isinstance(t, ArrayType):
        return t.element
    if isinstance(t, ReferenceType):
        return element_type(t.referee)
    return None


def strip_const(t: Type) -> Type:
    if isinstance(t, ArrayType):
        return dataclasses.replace(t, element=strip_const(t.element))
    if isinstance(t, (ScalarType, NamedType)):
        return dataclasses.replace(t, const=False)
    return t


# ---------------------------------------------------------------- the pass -----------------------------------


@dataclass(frozen=True)
class DetensorizeOptions:
    """No options yet; kept so the signature matches every other pass."""


def detensorize(module: Module, options: DetensorizeOptions | None = None) -> Module:
    """`module` with every intrinsic call of its dialect replaced by loops; same dialect, same results."""
    table = table_for(module.dialect)
    constants = {**table.macros, **_module_constants(module)}
    globals_ = {g.name: g.type for g in module.globals}
    ctx_counter = [0]
    vectors = _vector_typedefs(module)
    probe = LowerContext(table, {}, constants, vectors=vectors)
    vector_functions: dict[str, Function] = {f.name: f for f in module.functions if _has_value_types(f, table, probe)}

    def lower_function(f: Function) -> Function:
        ctx = LowerContext(table, dict(globals_), constants, dict(globals_), ctx_counter, vectors)
        return _FunctionLowering(ctx, vector_functions).run(f)

    out = _without_unused_typedefs(module.map_functions(lower_function), vectors)
    _check_no_intrinsics(out, table)
    missing = tuple(h for h in table.includes if h not in out.includes)
    return dataclasses.replace(out, includes=out.includes + missing) if missing else out


_EXT_VECTOR_TYPEDEF = re.compile(
    r"^\s*typedef\s+(?P<element>[\w\s]+?)\s+(?P<name>\w+)\s+__attribute__\s*\(\(\s*ext_vector_type\s*\(\s*(?P<n>\d+)\s*\)\s*\)\)\s*;\s*$")
_VECTOR_ELEMENTS = {"float": DType.float32, "_Float16": DType.float16, "__fp16": DType.float16, "double": DType.float64,
                    "int": DType.int32, "short": DType.int16}


def _vector_typedefs(module: Module) -> dict[str, Type]:
    """clang `typedef T name __attribute__((ext_vector_type(N)))` (HIP MFMA operands) -> T[N]."""
    vectors: dict[str, Type] = {}
    for item in module.items:
        m = _EXT_VECTOR_TYPEDEF.match(item.text) if isinstance(item, Verbatim) else None
        if m and " ".join(m["element"].split()) in _VECTOR_ELEMENTS:
            element = ScalarType(_VECTOR_ELEMENTS[" ".join(m["element"].split())])
            vectors[m["name"]] = ArrayType(element, const(int(m["n"])))
    return vectors


def _without_unused_typedefs(module: Module, vectors: dict[str, Type]) -> Module:
    """The vector typedefs nothing names any more (their values became arrays): other compilers reject them."""
    used = {n.name for n in walk(module) if isinstance(n, NamedType)}
    gone = {name for name in vectors if name not in used}

    def keep(item: Node) -> bool:
        m = _EXT_VECTOR_TYPEDEF.match(item.text) if isinstance(item, Verbatim) else None
        return not (m and m["name"] in gone)

    return dataclasses.replace(module, items=tuple(item for item in module.items if keep(item)))


def _module_constants(module: Module) -> dict[str, int]:
    """Integer constants by name: `#define N 64` lines and const/constexpr integer globals with literal inits."""
    constants: dict[str, int] = {}
    for line in module.macros:
        m = re.match(r"\s*#\s*define\s+(\w+)\s+\(?\s*(-?(?:0x[0-9a-fA-F]+|\d+))[uUlL]*\s*\)?\s*$", line)
        if m:
            constants[m.group(1)] = int(m.group(2), 0)
    probe = LowerContext(IntrinsicTable("", lambda n: False), {}, constants)
    for g in module.globals:
        if g.init is not None and isinstance(g.type, ScalarType) and g.type.dtype.is_int:
            value = probe.int_value(g.init)
            if value is not None:
                constants[g.name] = value
    return constants


def _has_value_types(f: Function, table: IntrinsicTable, ctx: LowerContext) -> bool:
    return any(table.lower_type(t, ctx) is not None for t in [f.return_type, *(p.type for p in f.params)])


def _lowered(t: Type, table: IntrinsicTable, ctx: LowerContext) -> Type | None:
    """Lowered form of a value type, through arrays of it (`__m512 acc[4]` -> float[4][16]); None if plain."""
    if isinstance(t, ArrayType):
        inner = _lowered(t.element, table, ctx)
        return None if inner is None else ArrayType(inner, t.size)
    return table.lower_type(t, ctx)


def _copy(dst: Expr, src: Expr, t: Type, ctx: LowerContext) -> list[Stmt]:
    """Element loops copying a lowered value (an array type with constant sizes)."""
    if not isinstance(t, ArrayType):
        return [Assign(dst, src)]
    i = ctx.fresh("e")
    return [loop(i, t.size, _copy(Index(dst, Var(i)), Index(src, Var(i)), t.element, ctx))]


_RET = "xp_ret"


class _FunctionLowering:
    """Lowers one function: its signature, then its body statement by statement."""

    def __init__(self, ctx: LowerContext, vector_functions: dict[str, Function]):
        self.ctx = ctx
        self.table = ctx.table
        self.vector_functions = vector_functions
        self.value_types: dict[str, Type] = {}  # lowered variables -> their lowered type
        self.return_type: Type | None = None

    # ---- signature
    def run(self, f: Function) -> Function:
        for node in walk(f):
            if isinstance(node, Decl):
                self.ctx.types[node.name] = node.type
                self.ctx.declared[node.name] = node.type
        for p in f.params:
            self.ctx.declared[p.name] = p.type
        params: list[Param] = []
        prologue: list[Stmt] = []
        for p in f.params:
            self.ctx.types[p.name] = p.type
            low = _lowered(p.type, self.table, self.ctx)
            if low is None:
                params.append(p)
                continue
            if isinstance(low, ArrayType) and isinstance(low.element, ArrayType):
                raise PassRefused("XP503", f"{f.name}: arrays of vector values cannot be passed by value")
            # by value: the callee gets a pointer to the caller's value and works on a private copy
            arg = f"{p.name}_arg"
            params.append(Param(arg, PointerType(_innermost(low, const_=True))))
            prologue += [Decl(p.name, low)] + _copy(Var(p.name), Var(arg), low, self.ctx)
            self.value_types[p.name] = low
            self.ctx.types[p.name] = low
        return_type = f.return_type
        low_ret = _lowered(f.return_type, self.table, self.ctx)
        if low_ret is not None:
            params.append(Param(_RET, PointerType(_innermost(low_ret))))
            return_type = ScalarType(DType.void)
            self.return_type = low_ret
        if f.body is None:
            return dataclasses.replace(f, params=tuple(params), return_type=return_type)
        body = Block(tuple(prologue) + self.block(f.body).body)
        return dataclasses.replace(f, params=tuple(params), return_type=return_type, body=body)

    # ---- statements
    def block(self, b: Block) -> Block:
        out: list[Stmt] = []
        for s in b.body:
            out += self.stmt(s)
        return Block(tuple(out))

    def stmt(self, s: Stmt) -> list[Stmt]:
        if isinstance(s, Block):
            return [self.block(s)]
        if isinstance(s, Decl):
            return self.decl(s)
        if isinstance(s, Assign):
            return self.assign(s)
        if isinstance(s, ExprStmt):
            if isinstance(s.expr, Call) and self.is_lowered_call(s.expr.name):
                pre, args = self.flatten_args(s.expr)
                return pre + self.lower_call(dataclasses.replace(s.expr, args=args), None)
            pre, e = self.flatten(s.expr)
            return pre + [ExprStmt(e)]
        if isinstance(s, Return):
            return self.ret(s)
        if isinstance(s, If):
            pre, cond = self.flatten(s.cond)
            otherwise = self.block(s.otherwise) if s.otherwise is not None else None
            return pre + [dataclasses.replace(s, cond=cond, then=self.block(s.then), otherwise=otherwise)]
        if isinstance(s, For):
            self.refuse_inside(s.cond, "a loop condition")
            self.refuse_inside(s.step, "a loop step")
            init: list[Stmt] = []
            for i in s.init:
                init += self.stmt(i)
            body = self.block(s.body)
            if init == list(s.init):
                return [dataclasses.replace(s, body=body)]
            # the init needed statements of its own: run them before the loop, in a block keeping their scope
            return [Block(tuple(init) + (dataclasses.replace(s, init=(), body=body),))]
        if isinstance(s, (While, DoWhile)):
            self.refuse_inside(s.cond, "a loop condition")
            return [dataclasses.replace(s, body=self.block(s.body))]
        if isinstance(s, Switch):
            pre, value = self.flatten(s.value)
            return pre + [dataclasses.replace(s, value=value, body=self.block(s.body))]
        if isinstance(s, Pragma) and s.body is not None:
            body = self.stmt(s.body)
            return [dataclasses.replace(s, body=body[0] if len(body) == 1 else Block(tuple(body)))]
        self.refuse_inside(s, "this statement")
        return [s]

    def decl(self, s: Decl) -> list[Stmt]:
        low = _lowered(s.type, self.table, self.ctx)
        if low is None:
            if s.init is None:
                return [s]
            pre, init = self.flatten(s.init)
            return pre + [dataclasses.replace(s, init=init)]
        low = strip_const(low)
        self.value_types[s.name] = low
        self.ctx.types[s.name] = low
        out: list[Stmt] = [dataclasses.replace(s, type=low, init=None)]
        if s.init is not None:
            out += self.store_value(Var(s.name), s.init, low)
        return out

    def assign(self, s: Assign) -> list[Stmt]:
        low = self.value_type(s.target)
        if low is None:
            pre, value = self.flatten(s.value)
            pre_t, target = self.flatten(s.target)
            return pre_t + pre + [dataclasses.replace(s, target=target, value=value)]
        if s.op:
            raise PassRefused("XP503", f"compound assignment {s.op}= of a vector value",
                              hint="write it with the intrinsic of the operation")
        return self.store_value(s.target, s.value, low)

    def ret(self, s: Return) -> list[Stmt]:
        if self.return_type is None or s.value is None:
            if s.value is None:
                return [s]
            pre, value = self.flatten(s.value)
            return pre + [Return(value)]
        return self.store_value(Var(_RET), s.value, self.return_type) + [Return()]

    def store_value(self, dst: Expr, value: Expr, low: Type) -> list[Stmt]:
        """Statements giving the lowered value `dst` (of type `low`) the value of `value`."""
        if isinstance(value, Call) and self.is_lowered_call(value.name):
            pre, args = self.flatten_args(value)
            call = dataclasses.replace(value, args=args)
            entry = self.table.entries.get(call.name)
            reads_dst = any(n == dst or (isinstance(n, Var) and n == _base(dst)) for a in args for n in walk(a))
            if entry is not None and not entry.in_place and reads_dst:
                tmp = self.ctx.fresh("xp_t")
                return pre + [Decl(tmp, low)] + self.lower_call(call, Var(tmp)) + _copy(dst, Var(tmp), low, self.ctx)
            return pre + self.lower_call(call, dst)
        if isinstance(value, (Var, Index)) and self.value_type(value) is not None:
            return _copy(dst, value, low, self.ctx)
        if isinstance(value, BinOp) and value.op == "=" and self.value_type(value.lhs) is not None:
            return self.store_value(value.lhs, value.rhs, low) + _copy(dst, value.lhs, low, self.ctx)
        if isinstance(value, Construct) and value.braced and isinstance(value.type, NamedType) \
                and value.type.name in self.ctx.vectors:  # `floatx4{0.0f, 0.0f, 0.0f, 0.0f}`
            value = InitList(value.args)
        vector_load = self.vector_load(value, low)
        if vector_load is not None:  # `*(const half4*)p`: the elements that start at p
            pre, pointer = self.flatten(vector_load)
            return pre + _copy(dst, pointer, low, self.ctx)
        if isinstance(value, InitList) and isinstance(low, ArrayType):
            out = _zero(dst, low, self.ctx) if len(value.items) < _count(low.size) else []  # C zero-fills the rest
            for j, item in enumerate(value.items):
                if isinstance(low.element, ArrayType):
                    out += self.store_value(Index(dst, const(j)), item, low.element)
                else:
                    pre, item = self.flatten(item)
                    out += pre + [Assign(Index(dst, const(j)), item)]
            return out
        raise PassRefused("XP503", f"cannot lower this vector-valued expression ({type(value).__name__})",
                          hint="vector values may only be produced by intrinsics, copied, passed and returned")

    def vector_load(self, value: Expr, low: Type) -> Expr | None:
        """For `*(V*)p` with V a vector typedef lowered to `low` (T[n]): p as a `T*`, else None."""
        if not (isinstance(value, UnaryOp) and value.op == "*" and isinstance(value.operand, Cast)):
            return None
        pointer = value.operand
        pointee = pointer.type.pointee if isinstance(pointer.type, PointerType) else None
        if not (isinstance(pointee, NamedType) and self.ctx.vectors.get(pointee.name) == strip_const(low)):
            return None
        element = low.element if isinstance(low, ArrayType) else low
        return Cast(PointerType(dataclasses.replace(element, const=True)), pointer.expr)

    # ---- expressions
    def value_type(self, e: Expr) -> Type | None:
        """Lowered type of `e` if it denotes a lowered value (a variable, or an element of an array of them)."""
        if isinstance(e, Var):
            return self.value_types.get(e.name)
        if isinstance(e, Index):
            outer = self.value_type(e.base)
            return outer.element if isinstance(outer, ArrayType) and isinstance(outer.element, ArrayType) else None
        return None

    def is_lowered_call(self, name: str) -> bool:
        return name in self.table.entries or name in self.vector_functions or self.table.is_intrinsic(name)

    def flatten_args(self, call: Call) -> tuple[list[Stmt], tuple[Expr, ...]]:
        pre: list[Stmt] = []
        args = []
        for a in call.args:
            stmts, a2 = self.flatten(a)
            pre += stmts
            args.append(a2)
        return pre, tuple(args)

    def flatten(self, e: Node) -> tuple[list[Stmt], Expr]:
        """Hoist every intrinsic call inside `e` into a temporary (evaluation order kept); returns (stmts, e')."""
        pre: list[Stmt] = []
        self.refuse_conditional(e)

        def hoist(node: Node) -> Node | None:
            if not (isinstance(node, Call) and self.is_lowered_call(node.name)):
                return None
            result = self.result_type(node)
            if result is None:
                raise PassRefused("XP503", f"{node.name} returns nothing but is used as a value")
            tmp = self.ctx.fresh("xp_t")
            low = _lowered(result, self.table, self.ctx)
            if low is not None:
                self.value_types[tmp] = low
                self.ctx.types[tmp] = low
                pre.append(Decl(tmp, low))
            else:
                self.ctx.types[tmp] = strip_const(result)
                pre.append(Decl(tmp, strip_const(result)))
            pre.extend(self.lower_call(node, Var(tmp)))
            return Var(tmp)

        out = transform(e, hoist)
        return pre, out  # type: ignore[return-value]

    def result_type(self, call: Call) -> Type | None:
        if call.name in self.vector_functions:
            return self.vector_functions[call.name].return_type
        entry = self.table.entries.get(call.name)
        if entry is None:
            raise _unknown(call.name)
        return entry.result(self.ctx, call) if callable(entry.result) else entry.result

    def lower_call(self, call: Call, dst: Expr | None) -> list[Stmt]:
        if call.name in self.vector_functions:
            args = list(call.args)
            callee = self.vector_functions[call.name]
            if _lowered(callee.return_type, self.table, self.ctx) is not None:
                if dst is None:  # result unused: still needs somewhere to go
                    low = _lowered(callee.return_type, self.table, self.ctx)
                    tmp = self.ctx.fresh("xp_t")
                    return [Decl(tmp, low), ExprStmt(Call(call.name, tuple(args) + (Var(tmp),), call.template_args))]
                args.append(dst)
                return [ExprStmt(Call(call.name, tuple(args), call.template_args))]
            if dst is None:
                return [ExprStmt(call)]
            return [Assign(dst, call)]
        entry = self.table.entries.get(call.name)
        if entry is None:
            raise _unknown(call.name)
        return entry.lower(self.ctx, call, dst)

    def refuse_inside(self, node: Node | None, where: str) -> None:
        if node is None:
            return
        for n in walk(node):
            if isinstance(n, Call) and self.is_lowered_call(n.name):
                raise PassRefused("XP503", f"intrinsic {n.name} in {where} cannot be hoisted",
                                  hint="compute it into a variable before the loop or statement")

    def refuse_conditional(self, e: Node) -> None:
        for n in walk(e):
            if isinstance(n, BinOp) and n.op in ("&&", "||"):
                self.refuse_inside(n.rhs, f"the right operand of {n.op}")
            elif isinstance(n, Select):
                self.refuse_inside(n.then, "a branch of ?:")
                self.refuse_inside(n.otherwise, "a branch of ?:")


def _zero(dst: Expr, t: Type, ctx: LowerContext) -> list[Stmt]:
    if not isinstance(t, ArrayType):
        return [Assign(dst, const(0))]
    i = ctx.fresh("e")
    return [loop(i, t.size, _zero(Index(dst, Var(i)), t.element, ctx))]


def _base(e: Expr) -> Expr:
    while isinstance(e, Index):
        e = e.base
    return e


def _count(size: Expr | None) -> int:
    """A constant array size (unknown sizes count as unbounded: never zero-filled by an initializer)."""
    return size.value if isinstance(size, Const) and isinstance(size.value, int) else 1 << 62


def _innermost(t: Type, const_: bool = False) -> Type:
    while isinstance(t, ArrayType):
        t = t.element
    return dataclasses.replace(t, const=const_) if isinstance(t, (ScalarType, NamedType)) else t


def _unknown(name: str) -> PassRefused:
    return PassRefused("XP501", f"no semantics for intrinsic {name}",
                       hint="add a lowering for it to the dialect's table in kernel_ir/dialects/*_intrinsics.py")


def _check_no_intrinsics(module: Module, table: IntrinsicTable) -> None:
    for node in walk(module):
        if isinstance(node, Call) and (node.name in table.entries or table.is_intrinsic(node.name)):
            raise _unknown(node.name)
