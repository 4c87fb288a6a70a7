"""libclang glue for the front end: C API functions cindex.py does not wrap, cursor helpers, and the
conversion of clang types to IR types (expressions: parse_expr.py, statements: parse_stmt.py)."""

from __future__ import annotations

import ctypes
import dataclasses
import os
import re

import clang.cindex as ci

from kernel_ir.ir import (
    ArrayType, Const, DType, Expr, NamedType, PointerType, RawExpr, ReferenceType, ScalarType, Type, VectorType,
)

K = ci.CursorKind
T = ci.TypeKind


def _register_type_kinds() -> None:
    """CXTypeKind values libclang 18 produces but this cindex.py does not name (it raises on them)."""
    for value, name in ((32, "FLOAT16"), (39, "BFLOAT16"), (163, "ATTRIBUTED"), (178, "BTFTAGATTRIBUTED")):
        known = T._kinds[value] if value < len(T._kinds) else None
        setattr(T, name, known if known is not None else T(value))


_register_type_kinds()

DECL_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runtime", "decl")


class ConversionError(Exception):
    """A construct the converter cannot represent; parse() turns it into a ParseError diagnostic."""

    def __init__(self, message: str, cursor: ci.Cursor | None = None):
        super().__init__(message)
        self.message = message
        located = cursor is not None and cursor.location.file is not None
        self.line = cursor.location.line if located else None
        self.column = cursor.location.column if located else None


# ---------------------------------------------------------------- libclang C API not wrapped by cindex -------

_lib = ci.conf.lib


def _bind(name: str, argtypes: list, restype, errcheck=None) -> None:
    fn = getattr(_lib, name)
    fn.argtypes = argtypes
    fn.restype = restype
    if errcheck is not None:
        fn.errcheck = errcheck


_bind("clang_getCursorBinaryOperatorKind", [ci.Cursor], ctypes.c_int)
_bind("clang_getBinaryOperatorKindSpelling", [ctypes.c_int], ci._CXString, ci._CXString.from_result)
_bind("clang_getCursorUnaryOperatorKind", [ci.Cursor], ctypes.c_int)
_bind("clang_getUnaryOperatorKindSpelling", [ctypes.c_int], ci._CXString, ci._CXString.from_result)
_bind("clang_Cursor_getVarDeclInitializer", [ci.Cursor], ci.Cursor, ci.Cursor.from_result)
_bind("clang_Cursor_isFunctionInlined", [ci.Cursor], ctypes.c_uint)
_bind("clang_Location_isFromMainFile", [ci.SourceLocation], ctypes.c_int)
_bind("clang_Cursor_Evaluate", [ci.Cursor], ctypes.c_void_p)
_bind("clang_EvalResult_getKind", [ctypes.c_void_p], ctypes.c_int)
_bind("clang_EvalResult_isUnsignedInt", [ctypes.c_void_p], ctypes.c_uint)
_bind("clang_EvalResult_getAsUnsigned", [ctypes.c_void_p], ctypes.c_ulonglong)
_bind("clang_EvalResult_getAsLongLong", [ctypes.c_void_p], ctypes.c_longlong)
_bind("clang_EvalResult_getAsDouble", [ctypes.c_void_p], ctypes.c_double)
_bind("clang_EvalResult_dispose", [ctypes.c_void_p], None)


def _operator_table(kind_spelling, last: int) -> dict[int, str]:
    """Operator spellings by libclang enum value (1..last; spelling an unknown value crashes libclang)."""
    return {code: kind_spelling(code) for code in range(1, last + 1)}


_BINARY_OPS = _operator_table(_lib.clang_getBinaryOperatorKindSpelling, 33)  # CXBinaryOperator_Comma
_UNARY_OPS = _operator_table(_lib.clang_getUnaryOperatorKindSpelling, 14)  # CXUnaryOperator_Coawait
_POSTFIX_UNARY = {1, 2}  # CXUnaryOperator_PostInc, CXUnaryOperator_PostDec
_EVAL_INT, _EVAL_FLOAT = 1, 2


def binary_operator(cursor: ci.Cursor) -> str:
    return _BINARY_OPS[_lib.clang_getCursorBinaryOperatorKind(cursor)]


def unary_operator(cursor: ci.Cursor) -> tuple[str | None, bool]:
    """(operator spelling, is postfix) of a unary operator cursor; spelling None if unknown."""
    code = _lib.clang_getCursorUnaryOperatorKind(cursor)
    return _UNARY_OPS.get(code), code in _POSTFIX_UNARY


def initializer(cursor: ci.Cursor) -> ci.Cursor | None:
    result = _lib.clang_Cursor_getVarDeclInitializer(cursor)
    return result if result is not None and not result.kind.is_invalid() else None


def is_inlined(cursor: ci.Cursor) -> bool:
    return bool(_lib.clang_Cursor_isFunctionInlined(cursor))


def evaluate(cursor: ci.Cursor) -> int | float | None:
    result = _lib.clang_Cursor_Evaluate(cursor)
    if not result:
        return None
    try:
        kind = _lib.clang_EvalResult_getKind(result)
        if kind == _EVAL_INT:
            if _lib.clang_EvalResult_isUnsignedInt(result):
                return int(_lib.clang_EvalResult_getAsUnsigned(result))
            return int(_lib.clang_EvalResult_getAsLongLong(result))
        if kind == _EVAL_FLOAT:
            return float(_lib.clang_EvalResult_getAsDouble(result))
        return None
    finally:
        _lib.clang_EvalResult_dispose(result)


def in_main_file(cursor: ci.Cursor) -> bool:
    return bool(_lib.clang_Location_isFromMainFile(cursor.location))


def kind_of(cursor: ci.Cursor) -> ci.CursorKind | None:
    """Cursor kind, or None for kinds this cindex version does not name."""
    try:
        return cursor.kind
    except ValueError:
        return None


def from_decl_headers(cursor: ci.Cursor | None) -> bool:
    """True when a declaration comes from our own front-end headers (runtime/decl)."""
    if cursor is None:
        return False
    location = cursor.location
    return location.file is not None and location.file.name.startswith(DECL_DIR)


def is_default_argument(cursor: ci.Cursor) -> bool:
    """Implicit CXXDefaultArgExpr (and similar compiler-made nodes) have no source extent."""
    return cursor.extent.start.file is None


def same_extent(a: ci.Cursor, b: ci.Cursor) -> bool:
    return a.extent.start.offset == b.extent.start.offset and a.extent.end.offset == b.extent.end.offset


_REF_KINDS = {K.TYPE_REF, K.TEMPLATE_REF, K.NAMESPACE_REF, K.MEMBER_REF, K.OVERLOADED_DECL_REF,
              K.VARIABLE_REF, K.LABEL_REF}


def expr_children(cursor: ci.Cursor) -> list[ci.Cursor]:
    """Children that are expressions (references and implicit default arguments removed)."""
    out = []
    for child in cursor.get_children():
        kind = kind_of(child)
        if kind in _REF_KINDS or (kind is not None and kind.is_attribute()) or is_default_argument(child):
            continue
        out.append(child)
    return out


# ---------------------------------------------------------------- types --------------------------------------

_BUILTIN_DTYPES = {
    T.VOID: DType.void, T.BOOL: DType.bool, T.CHAR_S: DType.int8, T.SCHAR: DType.int8, T.CHAR_U: DType.uint8,
    T.UCHAR: DType.uint8, T.SHORT: DType.int16, T.USHORT: DType.uint16, T.INT: DType.int32, T.UINT: DType.uint32,
    T.LONG: DType.int64, T.LONGLONG: DType.int64, T.ULONG: DType.uint64, T.ULONGLONG: DType.uint64,
    T.FLOAT: DType.float32, T.DOUBLE: DType.float64, T.LONGDOUBLE: DType.float64, T.FLOAT16: DType.float16,
    T.HALF: DType.float16, T.BFLOAT16: DType.bfloat16,
}
# Builtin spellings that differ from the printers' default spelling of the dtype.
_BUILTIN_SPELLINGS = {T.CHAR_S: "char", T.CHAR_U: "char", T.LONG: "long", T.ULONG: "unsigned long",
                      T.LONGDOUBLE: "long double"}

_VECTOR_BASES = {"float": DType.float32, "double": DType.float64, "int": DType.int32, "uint": DType.uint32,
                 "short": DType.int16, "ushort": DType.uint16, "char": DType.int8, "uchar": DType.uint8,
                 "longlong": DType.int64, "ulonglong": DType.uint64, "long": DType.int64, "ulong": DType.uint64}
VECTOR_TYPES: dict[str, tuple[DType, int]] = {
    f"{base}{lanes}": (dtype, lanes) for base, dtype in _VECTOR_BASES.items() for lanes in (1, 2, 3, 4)
}
VECTOR_TYPES.update({"__half2": (DType.float16, 2), "half2": (DType.float16, 2),
                     "__nv_bfloat162": (DType.bfloat16, 2), "nv_bfloat162": (DType.bfloat16, 2)})

# Scalar spellings accepted in type text (sizeof(...), template arguments).
SCALAR_NAMES: dict[str, DType] = {
    "void": DType.void, "bool": DType.bool, "char": DType.int8, "signed char": DType.int8,
    "unsigned char": DType.uint8, "short": DType.int16, "unsigned short": DType.uint16, "int": DType.int32,
    "unsigned int": DType.uint32, "unsigned": DType.uint32, "long": DType.int64, "unsigned long": DType.uint64,
    "long long": DType.int64, "unsigned long long": DType.uint64, "float": DType.float32, "double": DType.float64,
    "int8_t": DType.int8, "uint8_t": DType.uint8, "int16_t": DType.int16, "uint16_t": DType.uint16,
    "int32_t": DType.int32, "uint32_t": DType.uint32, "int64_t": DType.int64, "uint64_t": DType.uint64,
    "size_t": DType.uint64, "ptrdiff_t": DType.int64, "half": DType.float16, "__half": DType.float16,
    "_Float16": DType.float16, "__bf16": DType.bfloat16, "__nv_bfloat16": DType.bfloat16,
    "nv_bfloat16": DType.bfloat16, "bfloat16_t": DType.bfloat16, "hip_bfloat16": DType.bfloat16,
    "__hip_bfloat16": DType.bfloat16,
}

_CV_PREFIX = re.compile(r"^(?:(?:const|volatile|struct|class|union|enum|typename)\s+)+")


def strip_cv(spelling: str) -> str:
    """Type name without leading cv/elaboration keywords or `(anonymous namespace)::` qualifiers."""
    return _CV_PREFIX.sub("", spelling).replace("(anonymous namespace)::", "").strip()


def _with_cv(t: Type, const: bool, volatile: bool) -> Type:
    if isinstance(t, (ScalarType, NamedType, PointerType)):
        return dataclasses.replace(t, const=t.const or const, volatile=t.volatile or volatile)
    if isinstance(t, VectorType):
        return dataclasses.replace(t, const=t.const or const)
    return t


def type_from_text(text: str) -> Type:
    """Type from C++ type text (sizeof operands, template arguments): scalars, vectors, `*`, else NamedType."""
    text = text.strip()
    if text.endswith("*"):
        return PointerType(type_from_text(text[:-1]))
    if text.endswith("const") and not text.endswith("_const"):
        return _with_cv(type_from_text(text[: -len("const")]), True, False)
    const = bool(re.match(r"^const\s", text))
    base = strip_cv(text)
    if base in SCALAR_NAMES:
        return ScalarType(SCALAR_NAMES[base], const=const, spelling=base)
    if base in VECTOR_TYPES:
        dtype, lanes = VECTOR_TYPES[base]
        return VectorType(dtype, lanes, const=const, spelling=base)
    return NamedType(base, const=const)


def convert_type(t: ci.Type, dependent_sizes: list[Expr] | None = None) -> Type:
    """IR type of a clang type as written; `dependent_sizes` holds the array bound expressions of a declaration
    in libclang's child order (innermost dimension first)."""
    const, volatile = t.is_const_qualified(), t.is_volatile_qualified()
    kind = t.kind
    if kind == T.ELABORATED:
        inner = convert_type(t.get_named_type(), dependent_sizes)
        if isinstance(inner, NamedType):
            inner = dataclasses.replace(inner, name=strip_cv(t.spelling))
        return _with_cv(inner, const, volatile)
    if kind == T.TYPEDEF:
        return _with_cv(_typedef_type(t), const, volatile)
    if kind == T.POINTER:
        return PointerType(convert_type(t.get_pointee(), dependent_sizes), const=const,
                           restrict=t.is_restrict_qualified(), volatile=volatile)
    if kind in (T.LVALUEREFERENCE, T.RVALUEREFERENCE):
        return ReferenceType(convert_type(t.get_pointee(), dependent_sizes))
    if kind == T.CONSTANTARRAY:
        if dependent_sizes:
            dependent_sizes.pop()  # this dimension's expression; the evaluated count is used instead
        return ArrayType(convert_type(t.element_type, dependent_sizes), Const(t.element_count, DType.int32))
    if kind == T.INCOMPLETEARRAY:
        return ArrayType(convert_type(t.element_type, dependent_sizes), None)
    if kind == T.DEPENDENTSIZEDARRAY:
        size = dependent_sizes.pop() if dependent_sizes else RawExpr(_array_bound_text(t.spelling))
        return ArrayType(convert_type(t.element_type, dependent_sizes), size)
    if kind in _BUILTIN_DTYPES:
        return ScalarType(_BUILTIN_DTYPES[kind], const, volatile, _BUILTIN_SPELLINGS.get(kind))
    if kind == T.AUTO:
        return NamedType("auto", const, volatile)
    if kind == T.RECORD:
        decl = t.get_declaration()
        if from_decl_headers(decl) and decl.spelling in VECTOR_TYPES:
            dtype, lanes = VECTOR_TYPES[decl.spelling]
            return VectorType(dtype, lanes, const, spelling=decl.spelling)
    return NamedType(strip_cv(t.spelling), const, volatile)


def _typedef_type(t: ci.Type) -> Type:
    """Typedefs keep their name: scalars as the spelling of a ScalarType, everything else as NamedType."""
    decl = t.get_declaration()
    name = decl.spelling
    canonical = t.get_canonical()
    if canonical.kind in _BUILTIN_DTYPES:
        return ScalarType(_BUILTIN_DTYPES[canonical.kind], spelling=name)
    if from_decl_headers(decl) and name in VECTOR_TYPES:
        dtype, lanes = VECTOR_TYPES[name]
        return VectorType(dtype, lanes, spelling=name)
    if canonical.kind == T.RECORD and from_decl_headers(canonical.get_declaration()):
        record = canonical.get_declaration().spelling
        if record in VECTOR_TYPES:
            dtype, lanes = VECTOR_TYPES[record]
            return VectorType(dtype, lanes, spelling=name)
    if canonical.kind == T.POINTER and not from_decl_headers(decl):
        return convert_type(canonical)
    return NamedType(name)


def _array_bound_text(spelling: str) -> str:
    match = re.search(r"\[(.*)\]", spelling)
    return match.group(1) if match else spelling
