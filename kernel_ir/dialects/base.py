"""C-family printer shared by every dialect. Subclasses mostly fill tables (qualifier spellings, builtin
variables, barriers, launch syntax, default includes).

Output: 4-space indentation, K&R braces, parentheses only where precedence needs them (plus around `&&`
inside `||` and arithmetic inside bit operations, which compilers warn about). Source spellings stored in
the IR (int32_t, half, __m512i...) are used when printing back into the module's own dialect.
"""

from __future__ import annotations

import dataclasses
import math
import re
import struct
from decimal import Decimal

from kernel_ir.diagnostics import XpilerError
from kernel_ir.ir import (
    ArrayType, Assign, Barrier, BarrierKind, BinOp, Block, Break, BuiltinVar, Call, Case, Cast, Const, Construct,
    Continue, Decl, DoWhile, DType, Expr, ExprStmt, For, ForKind, FuncQual, Function, GlobalVar, If, Index,
    InitList, KernelLaunch, Member, MemScope, MethodCall, Module, NamedType, Namespace, Node, Param, PointerType,
    Pragma, RawExpr, RawStmt, ReferenceType, Return, ScalarType, Select, SizeOf, Stmt, StringLit, Switch,
    TemplateParam, Type, UnaryOp, Var, VarQual, Verbatim, VectorType, While,
)


class PrintError(XpilerError):
    """The IR uses something the target dialect cannot express (e.g. __nram__ in CUDA)."""

    def __init__(self, message: str):
        super().__init__("XP120", message, hint="a translation pass must rewrite it for the target dialect first")


# C++ precedence, higher binds tighter.
_BINARY_PRECEDENCE = {
    "*": 13, "/": 13, "%": 13, "+": 12, "-": 12, "<<": 11, ">>": 11, "<": 9, "<=": 9, ">": 9, ">=": 9,
    "==": 8, "!=": 8, "&": 7, "^": 6, "|": 5, "&&": 4, "||": 3, ",": 1,
    "=": 2, "+=": 2, "-=": 2, "*=": 2, "/=": 2, "%=": 2, "<<=": 2, ">>=": 2, "&=": 2, "^=": 2, "|=": 2,
}
_PRIMARY, _POSTFIX, _UNARY, _ASSIGN = 17, 16, 15, 2
_BITWISE = {"&", "^", "|"}
_ARITHMETIC = {"*", "/", "%", "+", "-", "<<", ">>", "<", "<=", ">", ">=", "==", "!="}

_QUALIFIER_ORDER = (FuncQual.extern_c, FuncQual.static, FuncQual.global_, FuncQual.mlu_global, FuncQual.mlu_func,
                    FuncQual.mlu_device, FuncQual.host, FuncQual.device, FuncQual.forceinline, FuncQual.noinline,
                    FuncQual.inline, FuncQual.constexpr)
_VAR_QUALIFIER_ORDER = (VarQual.extern, VarQual.static, VarQual.constexpr)


class CPrinter:
    """Plain C++ printer; the tables below are what dialect subclasses override."""

    dialect = "cpp"
    indent = "    "
    default_includes: tuple[str, ...] = ()
    dtype_names = {
        DType.void: "void", DType.bool: "bool", DType.int8: "signed char", DType.uint8: "unsigned char",
        DType.int16: "short", DType.uint16: "unsigned short", DType.int32: "int", DType.uint32: "unsigned int",
        DType.int64: "long long", DType.uint64: "unsigned long long", DType.float16: "_Float16",
        DType.bfloat16: "__bf16", DType.float32: "float", DType.float64: "double",
    }
    vector_prefixes = {
        DType.float32: "float", DType.float64: "double", DType.int32: "int", DType.uint32: "uint",
        DType.int16: "short", DType.uint16: "ushort", DType.int8: "char", DType.uint8: "uchar",
        DType.int64: "longlong", DType.uint64: "ulonglong", DType.float16: "half", DType.bfloat16: "nv_bfloat16",
    }
    function_qualifiers = {
        FuncQual.extern_c: 'extern "C"', FuncQual.static: "static", FuncQual.inline: "inline",
        FuncQual.forceinline: "inline __attribute__((always_inline))", FuncQual.noinline: "__attribute__((noinline))",
        FuncQual.constexpr: "constexpr",
    }
    scope_qualifiers = {MemScope.local: "", MemScope.register: "", MemScope.host: "", MemScope.global_: ""}
    builtin_vars: frozenset[str] = frozenset()
    barriers: dict[BarrierKind, str] = {}
    restrict = "__restrict__"
    attribute_spellings: dict[str, str] = {}  # Function.attributes name -> spelling prefix

    def __init__(self, module_dialect: str | None = None):
        self.same_dialect = module_dialect in (None, self.dialect)

    # ---------------------------------------------------------------- module ---------------------------------
    def module(self, module: Module) -> str:
        self.same_dialect = module.dialect == self.dialect
        sections = ["\n".join(module.preamble)] if module.preamble else []
        includes = self.includes(module)
        if includes:
            sections.append("\n".join(f"#include {name}" for name in includes))
        if module.macros:
            sections.append("\n".join(module.macros))
        for item in module.items:
            sections.append("\n".join(self.top_level(item)))
        return "\n\n".join(sections) + "\n"

    def includes(self, module: Module) -> list[str]:
        if self.same_dialect:
            return list(module.includes)
        neutral = [name for name in module.includes if not _DIALECT_HEADER.search(name)]
        return list(self.default_includes) + [name for name in neutral if name not in self.default_includes]

    def top_level(self, item: Node) -> list[str]:
        if isinstance(item, Function):
            return self.function(item)
        if isinstance(item, GlobalVar):
            return [self.global_var(item)]
        if isinstance(item, Verbatim):
            return [item.text]
        if isinstance(item, Namespace):
            lines = [f"namespace {item.name} {{" if item.name else "namespace {"]
            for inner in item.items:
                lines += [""] + self.top_level(inner)
            return lines + ["", f"}}  // namespace {item.name}".rstrip()]
        raise PrintError(f"cannot print top-level {type(item).__name__}")

    # ---------------------------------------------------------------- functions ------------------------------
    def function(self, fn: Function) -> list[str]:
        lines = []
        if fn.template_params:
            lines.append(f"template <{', '.join(self.template_param(p) for p in fn.template_params)}>")
        words = [self.function_qualifier(q) for q in _QUALIFIER_ORDER if q in fn.qualifiers
                 and not (q == FuncQual.inline and FuncQual.forceinline in fn.qualifiers)]
        params = ", ".join(self.param(p) for p in fn.params)
        name = " ".join([self.attribute(a) for a in fn.attributes] + [f"{fn.name}({params})"])
        words.append(self.declare(fn.return_type, name))
        header = " ".join(w for w in words if w)
        if fn.body is None:
            return lines + [header + ";"]
        return lines + [header + " {"] + self.block_lines(fn.body, 1) + ["}"]

    def function_qualifier(self, qualifier: FuncQual) -> str:
        if qualifier not in self.function_qualifiers:
            raise PrintError(f"{self.dialect} has no {qualifier.value} functions")
        return self.function_qualifiers[qualifier]

    def attribute(self, attribute: str) -> str:
        name = attribute.split("(", 1)[0]
        if name not in self.attribute_spellings:
            raise PrintError(f"{self.dialect} has no {name} attribute")
        return self.attribute_spellings[name] + attribute[len(name):]

    def template_param(self, p: TemplateParam) -> str:
        text = f"typename {p.name}" if p.type is None else self.declare(p.type, p.name)
        return f"{text} = {p.default}" if p.default is not None else text

    def param(self, p: Param) -> str:
        text = self.declare(p.type, p.name)
        return f"{text} = {self.expr(p.default, _ASSIGN)}" if p.default is not None else text

    def global_var(self, g: GlobalVar) -> str:
        return self.variable(g.name, g.type, g.init, g.scope, g.qualifiers, g.align) + ";"

    # ---------------------------------------------------------------- types ----------------------------------
    def declare(self, t: Type, inner: str = "") -> str:
        """A C declarator: the type wrapped around `inner` (a name, or '' for an abstract type)."""
        if isinstance(t, PointerType):
            quals = " ".join(q for q, on in (("const", t.const), ("volatile", t.volatile),
                                              (self.restrict, t.restrict)) if on)
            text = "*" + (" " + quals if quals else "")
            if inner:
                text += inner if inner.startswith("*") and not quals else " " + inner
            if isinstance(t.pointee, ArrayType):
                text = f"({text})"
            return self.declare(t.pointee, text)
        if isinstance(t, ReferenceType):
            text = "&" + (" " + inner if inner else "")
            if isinstance(t.referee, ArrayType):
                text = f"({text})"
            return self.declare(t.referee, text)
        if isinstance(t, ArrayType):
            size = "" if t.size is None else self.array_size(t.size)
            return self.declare(t.element, f"{inner}[{size}]")
        base = self.type_name(t)
        if not inner:
            return base
        return base + (inner if inner.startswith(("*", "&")) else " " + inner)

    def array_size(self, size: Expr) -> str:
        if isinstance(size, Const) and isinstance(size.value, int):
            return str(size.value)
        return self.expr(size)

    def type_name(self, t: Type) -> str:
        """Spelling of a non-declarator type (scalar, vector, named) with its cv-qualifiers."""
        if isinstance(t, ScalarType):
            name = t.spelling if t.spelling and self.same_dialect else self.dtype_names[t.dtype]
            prefix = ("const " if t.const else "") + ("volatile " if t.volatile else "")
            return prefix + name
        if isinstance(t, VectorType):
            name = t.spelling if t.spelling and self.same_dialect else f"{self.vector_prefixes[t.dtype]}{t.lanes}"
            return ("const " if t.const else "") + name
        if isinstance(t, NamedType):
            return ("const " if t.const else "") + ("volatile " if t.volatile else "") + t.name
        return self.declare(t)

    # ---------------------------------------------------------------- statements -----------------------------
    def block_lines(self, block: Block, depth: int) -> list[str]:
        lines = []
        for stmt in block.body:
            lines += self.stmt(stmt, depth)
        return lines

    def stmt(self, s: Stmt, depth: int) -> list[str]:
        pad = self.indent * depth
        if isinstance(s, Decl):
            return [pad + self.variable(s.name, s.type, s.init, s.scope, s.qualifiers, s.align) + ";"]
        if isinstance(s, (Assign, ExprStmt)):
            return [pad + self.simple(s) + ";"]
        if isinstance(s, Block):
            return [pad + "{"] + self.block_lines(s, depth + 1) + [pad + "}"]
        if isinstance(s, For):
            return self.for_loop(s, depth)
        if isinstance(s, While):
            return [f"{pad}while ({self.expr(s.cond)}) {{"] + self.block_lines(s.body, depth + 1) + [pad + "}"]
        if isinstance(s, DoWhile):
            return [pad + "do {"] + self.block_lines(s.body, depth + 1) + [f"{pad}}} while ({self.expr(s.cond)});"]
        if isinstance(s, If):
            return self.if_chain(s, depth)
        if isinstance(s, Switch):
            lines = [f"{pad}switch ({self.expr(s.value)}) {{"]
            for inner in s.body.body:
                lines += self.stmt(inner, depth + 1 if isinstance(inner, Case) else depth + 2)
            return lines + [pad + "}"]
        if isinstance(s, Case):
            return [pad + ("default:" if s.value is None else f"case {self.expr(s.value)}:")]
        if isinstance(s, Return):
            return [pad + ("return;" if s.value is None else f"return {self.expr(s.value)};")]
        if isinstance(s, Break):
            return [pad + "break;"]
        if isinstance(s, Continue):
            return [pad + "continue;"]
        if isinstance(s, Barrier):
            return [pad + self.barrier(s) + ";"]
        if isinstance(s, KernelLaunch):
            return [pad + self.launch(s) + ";"]
        if isinstance(s, Pragma):
            return [f"{pad}#pragma {s.text}"] + (self.stmt(s.body, depth) if s.body is not None else [])
        if isinstance(s, RawStmt):
            return [pad + s.text]
        raise PrintError(f"cannot print statement {type(s).__name__}")

    def simple(self, s: Stmt) -> str:
        """Statement text without the semicolon (for loop headers and statement lines)."""
        if isinstance(s, Assign):
            return f"{self.expr(s.target, _UNARY)} {s.op}= {self.expr(s.value, _ASSIGN)}"
        if isinstance(s, ExprStmt):
            return self.expr(s.expr)
        if isinstance(s, Decl):
            return self.variable(s.name, s.type, s.init, s.scope, s.qualifiers, s.align)
        raise PrintError(f"{type(s).__name__} cannot appear in a for header")

    def for_loop(self, s: For, depth: int) -> list[str]:
        pad = self.indent * depth
        pragmas = self.source_pragmas(s.pragmas) or self.loop_pragmas(s)
        init = self.for_init(s.init)
        cond = self.expr(s.cond) if s.cond is not None else ""
        step = self.simple(s.step) if s.step is not None else ""
        header = f"{pad}for ({init};{' ' + cond if cond else ''};{' ' + step if step else ''}) {{"
        return [f"{pad}#pragma {p}" for p in pragmas] + [header] + self.block_lines(s.body, depth + 1) + [pad + "}"]

    def source_pragmas(self, pragmas: tuple[str, ...]) -> list[str]:
        """The source's own loop pragmas, in this dialect's spelling."""
        return list(pragmas)

    def loop_pragmas(self, s: For) -> list[str]:
        """Pragmas printed for a loop kind set by a pass (loops from source keep their own pragmas)."""
        if s.kind == ForKind.unrolled:
            return ["unroll"]
        return []

    def for_init(self, init: tuple[Stmt, ...]) -> str:
        if not init:
            return ""
        first = self.simple(init[0])
        if len(init) == 1:
            return first
        if not all(isinstance(d, Decl) for d in init):
            raise PrintError("a for header initialises either declarations or one expression")
        rest = []
        for decl in init[1:]:
            rest.append(self.declarator_only(decl))
        return ", ".join([first] + rest)

    def declarator_only(self, decl: Decl) -> str:
        """`*p = x` part of `int a = 0, *p = x` (the shared base type is printed once)."""
        full = self.declare(decl.type, decl.name)
        base = self.type_name(_base_type(decl.type))
        text = full[len(base):].strip() if full.startswith(base) else full
        return text + self.initializer(decl.type, decl.init)

    def if_chain(self, s: If, depth: int) -> list[str]:
        pad = self.indent * depth
        lines = [f"{pad}{_if_keyword(s)} ({self.expr(s.cond)}){_likely(s)} {{"] + self.block_lines(s.then, depth + 1)
        otherwise = s.otherwise
        while otherwise is not None:
            if len(otherwise.body) == 1 and isinstance(otherwise.body[0], If):
                nested = otherwise.body[0]
                lines += [f"{pad}}} else {_if_keyword(nested)} ({self.expr(nested.cond)}){_likely(nested)} {{"]
                lines += self.block_lines(nested.then, depth + 1)
                otherwise = nested.otherwise
            else:
                lines += [pad + "} else {"] + self.block_lines(otherwise, depth + 1)
                otherwise = None
        return lines + [pad + "}"]

    def variable(self, name: str, t: Type, init: Expr | None, scope: MemScope, qualifiers: frozenset[VarQual],
                 align: int | None) -> str:
        words = [f"alignas({align})"] if align is not None else []
        words += [q.value for q in _VAR_QUALIFIER_ORDER if q in qualifiers]
        words.append(self.scope(scope))
        if VarQual.constexpr in qualifiers and getattr(t, "const", False):
            t = dataclasses.replace(t, const=False)  # constexpr implies const
        words.append(self.declare(t, name) + self.initializer(t, init))
        return " ".join(w for w in words if w)

    def scope(self, scope: MemScope) -> str:
        if scope not in self.scope_qualifiers:
            raise PrintError(f"{self.dialect} has no {scope.value} memory")
        return self.scope_qualifiers[scope]

    def initializer(self, t: Type, init: Expr | None) -> str:
        if init is None:
            return ""
        if _is_direct_init(t, init):
            args = init.args if isinstance(init, Construct) else (init.expr,)
            return "(" + ", ".join(self.expr(a, _ASSIGN) for a in args) + ")"
        return " = " + self.expr(init, _ASSIGN)

    def barrier(self, s: Barrier) -> str:
        if s.kind not in self.barriers:
            raise PrintError(f"{self.dialect} has no {s.kind.value} barrier")
        return f"{self.barriers[s.kind]}({', '.join(self.expr(a, _ASSIGN) for a in s.args)})"

    def launch(self, s: KernelLaunch) -> str:
        raise PrintError(f"{self.dialect} cannot launch kernels")

    def kernel_name(self, s: KernelLaunch) -> str:
        return s.kernel + self.template_args(s.template_args)

    # ---------------------------------------------------------------- expressions ----------------------------
    def expr(self, e: Expr, min_precedence: int = 0) -> str:
        text, precedence = self._expr(e)
        return f"({text})" if precedence < min_precedence else text

    def _expr(self, e: Expr) -> tuple[str, int]:
        if isinstance(e, Var):
            return e.name, _PRIMARY
        if isinstance(e, Const):
            return self.constant(e)
        if isinstance(e, BuiltinVar):
            return self.builtin_var(e), _POSTFIX
        if isinstance(e, BinOp):
            return self.binary(e)
        if isinstance(e, UnaryOp):
            return self.unary(e)
        if isinstance(e, Index):
            return f"{self.expr(e.base, _POSTFIX)}[{self.expr(e.index)}]", _POSTFIX
        if isinstance(e, Member):
            return f"{self.expr(e.base, _POSTFIX)}{'->' if e.arrow else '.'}{e.field}", _POSTFIX
        if isinstance(e, Call):
            return f"{e.name}{self.template_args(e.template_args)}({self.args(e.args)})", _POSTFIX
        if isinstance(e, MethodCall):
            return f"{self.expr(e.obj, _POSTFIX)}{'->' if e.arrow else '.'}{e.method}({self.args(e.args)})", _POSTFIX
        if isinstance(e, Cast):
            return self.cast(e)
        if isinstance(e, Construct):
            open_, close = ("{", "}") if e.braced else ("(", ")")
            return f"{self.declare(e.type)}{open_}{self.args(e.args)}{close}", _POSTFIX
        if isinstance(e, Select):
            return (f"{self.expr(e.cond, _ASSIGN + 1)} ? {self.expr(e.then, _ASSIGN + 1)} : "
                    f"{self.expr(e.otherwise, _ASSIGN)}"), _ASSIGN
        if isinstance(e, SizeOf):
            arg = self.expr(e.arg) if not _is_type(e.arg) else self.declare(e.arg)
            return f"sizeof({arg})", _UNARY
        if isinstance(e, InitList):
            return "{" + self.args(e.items) + "}", _PRIMARY
        if isinstance(e, StringLit):
            return e.text, _PRIMARY
        if isinstance(e, RawExpr):
            return e.text, _ASSIGN
        raise PrintError(f"cannot print expression {type(e).__name__}")

    def args(self, args: tuple[Expr, ...]) -> str:
        return ", ".join(self.expr(a, _ASSIGN) for a in args)

    def template_args(self, args: tuple) -> str:
        if not args:
            return ""
        texts = [self.declare(a) if _is_type(a) else self.expr(a, _ASSIGN) for a in args]
        return "<" + ", ".join(texts) + ">"

    def binary(self, e: BinOp) -> tuple[str, int]:
        precedence = _BINARY_PRECEDENCE[e.op]
        if precedence == _ASSIGN:  # right-associative
            return f"{self.expr(e.lhs, _UNARY)} {e.op} {self.expr(e.rhs, _ASSIGN)}", precedence
        lhs = self.expr(e.lhs, self._operand_precedence(e.op, e.lhs, precedence))
        rhs = self.expr(e.rhs, self._operand_precedence(e.op, e.rhs, precedence + 1))
        separator = ", " if e.op == "," else f" {e.op} "
        return lhs.rstrip() + separator + rhs, precedence

    def _operand_precedence(self, op: str, operand: Expr, minimum: int) -> int:
        """Extra parentheses where compilers warn: `a && b || c`, `a + b << c`, `a == b & c`."""
        if isinstance(operand, BinOp) and operand.op != op:
            if op == "||" and operand.op == "&&":
                return _PRIMARY
            if op in _BITWISE and (operand.op in _ARITHMETIC or operand.op in _BITWISE):
                return _PRIMARY
            if op in ("<<", ">>") and operand.op in ("+", "-"):
                return _PRIMARY
        return minimum

    def unary(self, e: UnaryOp) -> tuple[str, int]:
        if e.postfix:
            return f"{self.expr(e.operand, _POSTFIX)}{e.op}", _POSTFIX
        operand = self.expr(e.operand, _UNARY)
        if operand[:1] in ("-", "+", "&", "*") and operand[:1] == e.op[:1]:
            operand = f"({operand})"
        return f"{e.op}{operand}", _UNARY

    def cast(self, e: Cast) -> tuple[str, int]:
        target = e.type
        if isinstance(target, (NamedType, VectorType)) and re.fullmatch(r"[\w:<>, ]*[\w>]", self.declare(target)) \
                and " " not in self.declare(target).split("<")[0] and self.declare(target) != "auto":
            return f"{self.declare(target)}({self.expr(e.expr, _ASSIGN)})", _POSTFIX
        return f"({self.declare(target)}){self.expr(e.expr, _UNARY)}", _UNARY

    def builtin_var(self, e: BuiltinVar) -> str:
        if e.name not in self.builtin_vars:
            raise PrintError(f"{self.dialect} has no builtin variable {e.name}")
        return e.name if e.axis is None else f"{e.name}.{e.axis}"

    def constant(self, e: Const) -> tuple[str, int]:
        value = e.value
        if value is None:
            return "nullptr", _PRIMARY
        if e.dtype == DType.bool or isinstance(value, bool):
            return ("true" if value else "false"), _PRIMARY
        if e.dtype.is_float:
            return self.float_constant(float(value), e.dtype)
        value = int(value)
        if value < 0:
            text, _ = self.constant(Const(-value, e.dtype))
            return "-" + text, _UNARY
        if e.dtype == DType.int8:
            return f"'{_char_text(value)}'", _PRIMARY
        suffix = {DType.uint32: "u", DType.int64: "LL", DType.uint64: "ULL"}.get(e.dtype)
        if suffix is None and e.dtype != DType.int32:
            return f"({self.dtype_names[e.dtype]}){value}", _UNARY
        unsigned = e.dtype in (DType.uint32, DType.uint64)
        text = hex(value) if unsigned and value >= 0x10000 else str(value)
        return text + (suffix or ""), _PRIMARY

    def float_constant(self, value: float, dtype: DType) -> tuple[str, int]:
        single = dtype != DType.float64
        if math.isnan(value):
            return ('__builtin_nanf("")' if single else '__builtin_nan("")'), _POSTFIX
        if value < 0 or (value == 0 and math.copysign(1.0, value) < 0):
            text, _ = self.float_constant(-value, dtype)
            return "-" + text, _UNARY
        if math.isinf(value):
            return ("__builtin_huge_valf()" if single else "__builtin_huge_val()"), _POSTFIX
        text = _shortest_float32(value) + "f" if single else _shortest_float64(value)
        if dtype in (DType.float16, DType.bfloat16):
            return f"({self.dtype_names[dtype]}){text}", _UNARY
        return text, _PRIMARY


_DIALECT_HEADER = re.compile(r"cuda|hip/|bang|mlu|immintrin|intrin|omp\.h|mma\.h|cooperative_groups")


def _if_keyword(s: If) -> str:
    return "if constexpr" if s.constexpr else "if"


def _likely(s: If) -> str:
    return " [[likely]]" if s.likely else ""


def _is_type(node: Node) -> bool:
    return isinstance(node, (ScalarType, VectorType, PointerType, ReferenceType, ArrayType, NamedType))


def _base_type(t: Type) -> Type:
    while isinstance(t, (PointerType, ArrayType, ReferenceType)):
        t = t.pointee if isinstance(t, PointerType) else t.element if isinstance(t, ArrayType) else t.referee
    return t


def _is_direct_init(t: Type, init: Expr) -> bool:
    """`dim3 grid(a, b)` rather than `dim3 grid = dim3(a, b)` for class-typed variables."""
    if not isinstance(t, (NamedType, VectorType)) or isinstance(t, NamedType) and t.name == "auto":
        return False
    if isinstance(init, Construct):
        return not init.braced and bool(init.args) and _same_class(t, init.type)
    return isinstance(init, Cast) and _same_class(t, init.type)


def _same_class(a: Type, b: Type) -> bool:
    if isinstance(a, NamedType) and isinstance(b, NamedType):
        return a.name == b.name
    return isinstance(a, VectorType) and isinstance(b, VectorType) and (a.dtype, a.lanes) == (b.dtype, b.lanes)


def _shortest_float32(value: float) -> str:
    """Shortest decimal that reads back as the same float32."""
    for digits in range(1, 18):
        text = f"{value:.{digits}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == value:
            return _float_text(text, value)
    return _float_text(repr(value), value)


def _shortest_float64(value: float) -> str:
    return _float_text(repr(value), value)


def _float_text(text: str, value: float) -> str:
    """Positional notation for ordinary magnitudes (720.0, not 7.2e+02), always with a '.' or an exponent."""
    if value == 0 or 1e-4 <= value < 1e16:
        text = format(Decimal(text), "f")
    return text if any(c in text for c in ".e") else text + ".0"


def _char_text(value: int) -> str:
    byte = value & 0xFF
    if 32 <= byte < 127 and chr(byte) not in "'\\":
        return chr(byte)
    return f"\\x{byte:02x}"
