"""libclang cursor -> IR conversion for expressions (types: parse_clang.py, statements: parse_stmt.py).

The AST is post-preprocessing, so conversions work from AST nodes (kinds, referenced declarations, types,
evaluated literal values). Where libclang exposes nothing else (explicit template arguments, names in
dependent code, sizeof(type)) the cursor's source text is tokenized; inside a macro expansion that text is the
macro invocation, which stays valid because modules keep their #defines.
"""

from __future__ import annotations

import re
import struct

import clang.cindex as ci

from kernel_ir.ir import (
    BinOp, BuiltinVar, Call, Cast, Const, Construct, DType, Expr, Index, InitList, Member, MethodCall, NamedType,
    RawExpr, ScalarType, Select, SizeOf, StringLit, TemplateArg, UnaryOp, Var,
)
from kernel_ir.parse_clang import (
    K, T, ConversionError, binary_operator, convert_type, evaluate, expr_children, from_decl_headers, kind_of,
    same_extent, strip_cv, type_from_text, unary_operator,
)


BUILTIN_DIM3 = {"threadIdx", "blockIdx", "blockDim", "gridDim"}
BUILTIN_SCALARS = {"warpSize", "taskId", "taskIdX", "taskIdY", "taskIdZ", "taskDim", "taskDimX", "taskDimY",
                   "taskDimZ", "coreId", "coreDim", "clusterId", "clusterDim"}

_CAST_KINDS = {K.CSTYLE_CAST_EXPR, K.CXX_STATIC_CAST_EXPR, K.CXX_REINTERPRET_CAST_EXPR, K.CXX_CONST_CAST_EXPR,
               K.CXX_FUNCTIONAL_CAST_EXPR, K.CXX_DYNAMIC_CAST_EXPR}
_RAW_KINDS = {K.LAMBDA_EXPR, K.CXX_NEW_EXPR, K.CXX_DELETE_EXPR, K.PACK_EXPANSION_EXPR, K.CXX_THROW_EXPR,
              K.CXX_TYPEID_EXPR, K.SIZE_OF_PACK_EXPR}
TOKEN = re.compile(r"//[^\n]*|/\*.*?\*/|\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|[A-Za-z_]\w*|"
                    r"\.?\d(?:[\w.]|[eEpP][+-])*|<<=|>>=|->|<<|>>|\+\+|--|&&|\|\||[<>=!+\-*/%&|^]=|::|\.\.\.|\S",
                    re.S)
_OPERATOR_NAME = re.compile(r"^operator\s*(\S+)$")


class ExprConverter:
    """Converts expression cursors; subclassed by the statement converter."""

    def __init__(self, source: bytes, filename: str):
        self._source = source
        self._filename = filename

    def tokens(self, c: ci.Cursor) -> list[tuple[str, int]]:
        """(token, file offset) pairs of a cursor's source text; [] outside the source file.

        Source text rather than libclang tokens: libclang tokenizes a macro-expanded cursor's spelling range,
        which may start inside a header.
        """
        start = c.extent.start
        if start.file is None or start.file.name != self._filename:
            return []
        text = self._source[start.offset:c.extent.end.offset].decode()
        return [(m.group(), start.offset + m.start()) for m in TOKEN.finditer(text) if not m.group().startswith("/")
                or m.group() in ("/", "/=")]

    def token_texts(self, c: ci.Cursor) -> list[str]:
        return [text for text, _ in self.tokens(c)]

    def has_keyword_before_name(self, c: ci.Cursor, keyword: str) -> bool:
        """Whether a declaration's source has `keyword` before the declared name (static, extern, constexpr...)."""
        for text in self.token_texts(c):
            if text == c.spelling or text in ("(", "="):
                return False
            if text == keyword:
                return True
        return False

    def source_text(self, c: ci.Cursor) -> str:
        """The source text of a cursor. Inside a macro expansion this is the macro invocation, which stays valid
        code because modules keep their #defines."""
        start, end = c.extent.start, c.extent.end
        if start.file is None or start.file.name != self._filename:
            raise ConversionError("construct outside the source file", c)
        return self._source[start.offset:end.offset].decode()

    # ---- entry
    def expr(self, c: ci.Cursor) -> Expr:
        kind = kind_of(c)
        handler = self._HANDLERS.get(kind)
        if handler is not None:
            return handler(self, c)
        if kind in _CAST_KINDS:
            return self._cast(c)
        if kind in _RAW_KINDS:
            return RawExpr(self.source_text(c))
        raise ConversionError(f"unsupported expression {kind.name if kind else c._kind_id}", c)

    # ---- transparent and fallback nodes
    def _unexposed(self, c: ci.Cursor) -> Expr:
        kids = expr_children(c)
        if len(kids) == 1:
            child = kids[0]
            if same_extent(c, child) or kind_of(c) == K.PAREN_EXPR:
                return self.expr(child)
            element = self._vector_element(c, child)
            if element is not None:
                return element
            return self.expr(child)
        if not kids and c.type.kind != T.DEPENDENT:
            converted = convert_type(c.type)
            if isinstance(converted, ScalarType) and self.source_text(c).replace(" ", "").endswith("()"):
                return Construct(converted, ())
        return RawExpr(self.source_text(c))

    def _vector_element(self, c: ci.Cursor, base: ci.Cursor) -> Expr | None:
        """GNU/clang ext_vector `v.x` (an unexposed ExtVectorElementExpr)."""
        if base.type.get_canonical().kind not in (T.VECTOR, T.EXTVECTOR):
            return None
        tokens = self.token_texts(c)
        if len(tokens) >= 3 and tokens[-2] in (".", "->") and re.fullmatch(r"[A-Za-z_]\w*", tokens[-1]):
            return Member(self.expr(base), tokens[-1], tokens[-2] == "->")
        return None

    # ---- names
    def _decl_ref(self, c: ci.Cursor) -> Expr:
        ref = c.referenced
        name = self.ref_name(c)
        if ref is not None and ref.kind == K.VAR_DECL and from_decl_headers(ref):
            if ref.spelling in BUILTIN_SCALARS or ref.spelling in BUILTIN_DIM3:
                return BuiltinVar(ref.spelling)
        return Var(name)

    def ref_name(self, c: ci.Cursor) -> str:
        """Name as written, with its namespace/class qualifiers (`std::max`, `cg::this_thread_block`)."""
        name = c.spelling
        qualifiers = []
        name_offset = c.location.offset
        for child in c.get_children():
            kind = kind_of(child)
            if kind == K.OVERLOADED_DECL_REF and not name:
                name = child.spelling
            elif kind in (K.NAMESPACE_REF, K.TYPE_REF, K.TEMPLATE_REF) and child.location.offset < name_offset:
                qualifiers.append(self._qualifier_text(c, child))
            elif kind in (K.NAMESPACE_REF, K.TYPE_REF, K.TEMPLATE_REF) and not name:
                qualifiers.append(self._qualifier_text(c, child))
        if not name:  # dependent `T::f`: libclang gives no spelling, the source text is the name
            tokens = self.token_texts(c)
            if not tokens:
                raise ConversionError("reference without a name", c)
            return join_tokens(tokens)
        return "::".join(qualifiers + [name])

    def _qualifier_text(self, ref: ci.Cursor, qualifier: ci.Cursor) -> str:
        if qualifier.kind == K.TYPE_REF:
            return strip_cv(qualifier.type.spelling) if qualifier.type.spelling else qualifier.spelling
        if qualifier.kind == K.TEMPLATE_REF and ref.referenced is not None:
            parent = ref.referenced.semantic_parent
            if parent is not None and parent.spelling == qualifier.spelling and "<" in parent.displayname:
                return parent.displayname
        return qualifier.spelling

    # ---- members and calls
    def member_name(self, c: ci.Cursor) -> str:
        """Member spelling; for dependent members (`t.x` with t of a template type) read from the source."""
        if c.spelling:
            return c.spelling
        tokens = self.token_texts(c)
        separators = [i for i, t in enumerate(tokens) if t in (".", "->")]
        if not separators:
            raise ConversionError("member without a name", c)
        return join_tokens(tokens[separators[-1] + 1:])

    def _member(self, c: ci.Cursor) -> Expr:
        kids = expr_children(c)
        if not kids:
            return Var(self.member_name(c))
        base = kids[0]
        ref = base.referenced if kind_of(base) == K.DECL_REF_EXPR else None
        if ref is not None and from_decl_headers(ref) and ref.spelling in BUILTIN_DIM3:
            return BuiltinVar(ref.spelling, c.spelling)
        return Member(self.expr(base), self.member_name(c), self._is_arrow(c, base))

    def _is_arrow(self, member: ci.Cursor, base: ci.Cursor) -> bool:
        base_type = base.type.get_canonical()
        if base_type.kind == T.POINTER:
            return True
        if base_type.kind in (T.RECORD, T.ELABORATED, T.TYPEDEF, T.VECTOR, T.EXTVECTOR, T.LVALUEREFERENCE):
            return False
        tokens = self.token_texts(member)
        separators = [t for t in tokens if t in (".", "->")]
        return bool(separators) and separators[-1] == "->"

    def _call(self, c: ci.Cursor) -> Expr:
        ref = c.referenced
        if ref is not None and ref.kind == K.CONSTRUCTOR:
            return self._construct(c)
        kids = expr_children(c)
        callee_index = next((i for i, k in enumerate(kids) if self._operator_of(k)), None)
        if callee_index is not None:
            return self._operator_call(c, kids, callee_index)
        type_refs = [k for k in c.get_children()
                     if kind_of(k) == K.TYPE_REF and k.extent.start.offset == c.extent.start.offset]
        if type_refs:  # T(x) / T{} in a template: an unresolved functional cast or construction
            target = convert_type(c.type) if c.type.kind != T.DEPENDENT else NamedType(type_refs[0].spelling)
            braced = self._braced(c)
            if braced and len(kids) == 1 and kind_of(kids[0]) == K.INIT_LIST_EXPR:
                kids = expr_children(kids[0])
            args = tuple(self.expr(k) for k in kids)
            return Cast(target, args[0]) if len(args) == 1 and not braced else Construct(target, args, braced)
        if not kids:
            raise ConversionError("call without callee", c)
        callee = unwrap(kids[0])
        args = tuple(self.expr(k) for k in kids[1:])
        callee_kind = kind_of(callee)
        if callee_kind == K.MEMBER_REF_EXPR:
            members = expr_children(callee)
            if not members:
                return Call(self.member_name(callee), args)
            return MethodCall(self.expr(members[0]), self.member_name(callee), args,
                              self._is_arrow(callee, members[0]))
        if callee_kind in (K.DECL_REF_EXPR, K.OVERLOADED_DECL_REF):
            written = self.template_args(callee)
            return Call(self.ref_name(callee) if callee_kind == K.DECL_REF_EXPR else callee.spelling, args,
                        written, self.deduced_template_args(callee, written))
        raise ConversionError("call through an expression is not supported", c)

    def _operator_of(self, cursor: ci.Cursor) -> str | None:
        cursor = unwrap(cursor)
        if kind_of(cursor) != K.DECL_REF_EXPR:
            return None
        name = cursor.spelling
        if not name:
            overloaded = [k for k in cursor.get_children() if kind_of(k) == K.OVERLOADED_DECL_REF]
            name = overloaded[0].spelling if overloaded else ""
        match = _OPERATOR_NAME.match(name)
        return match.group(1) if match else None

    def _operator_call(self, c: ci.Cursor, kids: list[ci.Cursor], callee_index: int) -> Expr:
        op = self._operator_of(kids[callee_index])
        operands = [self.expr(k) for i, k in enumerate(kids) if i != callee_index]
        if op == "[]" and len(operands) == 2:
            return Index(operands[0], operands[1])
        if op == "()":
            target = operands[0]
            if isinstance(target, Var):
                return Call(target.name, tuple(operands[1:]))
            return MethodCall(target, "operator()", tuple(operands[1:]))
        if len(operands) == 2:
            if op in ("++", "--"):
                return UnaryOp(op, operands[0], postfix=True)
            return BinOp(op, operands[0], operands[1])
        if len(operands) == 1:
            return UnaryOp(op, operands[0], postfix=False)
        raise ConversionError(f"operator{op} call with {len(operands)} operands", c)

    def _construct(self, c: ci.Cursor) -> Expr:
        """Constructor call: implicit conversions/copies vanish, explicit ones become Cast/Construct."""
        kids = expr_children(c)
        if len(kids) == 1:
            arg = kids[0]
            if same_extent(c, arg) or unwrap(arg).type.get_canonical() == c.type.get_canonical():
                return self.expr(arg)
        target = convert_type(c.type)
        args = tuple(self.expr(k) for k in kids)
        braced = self._braced(c)
        if len(args) == 1 and not braced:
            return Cast(target, args[0])
        return Construct(target, args, braced)

    def _braced(self, c: ci.Cursor) -> bool:
        for token in self.token_texts(c):
            if token in ("(", "{"):
                return token == "{"
        return False

    def template_args(self, ref: ci.Cursor) -> tuple[TemplateArg, ...]:
        """Explicit template arguments written after a function name (`k<float, 256>`), else ()."""
        tokens = self.token_texts(ref)
        name = ref.spelling or next((k.spelling for k in ref.get_children()
                                     if kind_of(k) == K.OVERLOADED_DECL_REF), "")
        if name not in tokens:
            return ()
        start = tokens.index(name) + 1
        if start >= len(tokens) or tokens[start] != "<":
            return ()
        texts, depth, current = [], 0, []
        for token in tokens[start + 1:]:
            if token in ("<", "(", "[", "{"):
                depth += 1
            elif token in (">", ")", "]", "}") and depth > 0:
                depth -= 1
            elif token == ">" or token == ">>":
                break
            elif token == "," and depth == 0:
                texts.append(" ".join(current))
                current = []
                continue
            current.append(token)
        texts.append(" ".join(current))
        specialization = ref.referenced
        semantic = []
        if specialization is not None and specialization.kind == K.FUNCTION_DECL:
            count = specialization.get_num_template_arguments()
            for i in range(min(count, len(texts))):
                semantic.append(self._semantic_template_arg(specialization, i, texts[i]))
        return tuple(semantic) if len(semantic) == len(texts) else tuple(_template_arg_from_text(t) for t in texts)

    def deduced_template_args(self, ref: ci.Cursor, written: tuple[TemplateArg, ...]) -> tuple[TemplateArg, ...]:
        """All template arguments of the function a call resolved to, when clang deduced some of them (types,
        and integers such as an array's extent), else (); written ones come first, as `template_args` has them."""
        specialization = ref.referenced
        if specialization is None or specialization.kind != K.FUNCTION_DECL:
            return ()
        count = specialization.get_num_template_arguments()
        deduced = []
        for index in range(len(written), max(count, 0)):
            try:
                kind = specialization.get_template_argument_kind(index)
            except ValueError:  # a kind the Python binding does not name (a parameter pack)
                return ()
            if kind == ci.TemplateArgumentKind.TYPE:
                deduced.append(convert_type(specialization.get_template_argument_type(index)))
            elif kind == ci.TemplateArgumentKind.INTEGRAL:
                deduced.append(Const(specialization.get_template_argument_value(index), DType.int32))
            else:
                return ()
        return (*written, *deduced) if deduced else ()

    def _semantic_template_arg(self, specialization: ci.Cursor, index: int, text: str) -> TemplateArg:
        kind = specialization.get_template_argument_kind(index)
        if kind == ci.TemplateArgumentKind.TYPE:
            return convert_type(specialization.get_template_argument_type(index))
        return _template_arg_from_text(text)  # values as written: `kTile`, `ReduceOp::kMax`, `2 * B`

    # ---- operators
    def _binary(self, c: ci.Cursor) -> Expr:
        kids = expr_children(c)
        if len(kids) != 2:
            raise ConversionError("binary operator without two operands", c)
        return BinOp(binary_operator(c), self.expr(kids[0]), self.expr(kids[1]))

    def _unary(self, c: ci.Cursor) -> Expr:
        kids = expr_children(c)
        op, postfix = unary_operator(c)
        if op is None or len(kids) != 1:
            return RawExpr(self.source_text(c))
        if op == "__extension__":
            return self.expr(kids[0])
        return UnaryOp(op, self.expr(kids[0]), postfix)

    def _conditional(self, c: ci.Cursor) -> Expr:
        kids = expr_children(c)
        if len(kids) != 3:
            raise ConversionError("conditional operator without three operands", c)
        return Select(self.expr(kids[0]), self.expr(kids[1]), self.expr(kids[2]))

    def _index(self, c: ci.Cursor) -> Expr:
        kids = expr_children(c)
        return Index(self.expr(kids[0]), self.expr(kids[1]))

    def _cast(self, c: ci.Cursor) -> Expr:
        kids = expr_children(c)
        if not kids:
            raise ConversionError("cast without operand", c)
        target = convert_type(c.type)
        operand = unwrap(kids[-1])
        if kind_of(operand) == K.INIT_LIST_EXPR:
            return Construct(target, tuple(self.expr(k) for k in expr_children(operand)), braced=True)
        if kind_of(operand) == K.CALL_EXPR and operand.referenced is not None \
                and operand.referenced.kind == K.CONSTRUCTOR and same_extent(operand, kids[-1]) \
                and len(expr_children(operand)) == 1 and not self._braced(operand):
            operand = expr_children(operand)[0]  # (dim3)n: the converting constructor is implicit
        return Cast(target, self.expr(operand))

    def _compound_literal(self, c: ci.Cursor) -> Expr:
        kids = [k for k in expr_children(c) if kind_of(k) == K.INIT_LIST_EXPR]
        items = tuple(self.expr(k) for k in expr_children(kids[0])) if kids else ()
        return Construct(convert_type(c.type), items, braced=True)

    def _init_list(self, c: ci.Cursor) -> Expr:
        return InitList(tuple(self.expr(k) for k in expr_children(c)))

    def _sizeof(self, c: ci.Cursor) -> Expr:
        kids = expr_children(c)
        text = self.source_text(c)
        match = re.match(r"^(sizeof|alignof|__alignof|_Alignof)\s*\((.*)\)$", text, re.S)
        if match is not None and match.group(1) != "sizeof":
            return RawExpr(text)
        if kids:
            return SizeOf(self.expr(kids[0]))
        if match is not None:
            return SizeOf(type_from_text(match.group(2)))
        value = evaluate(c)  # sizeof(type) written inside a macro: keep its value
        if value is None:
            raise ConversionError("sizeof inside a macro expansion", c)
        return Const(int(value), DType.uint64)

    # ---- literals
    def _integer(self, c: ci.Cursor) -> Expr:
        value = evaluate(c)
        dtype = convert_type(c.type)
        if value is None or not isinstance(dtype, ScalarType):
            raise ConversionError("integer literal without a value", c)
        return Const(int(value), dtype.dtype)

    def _floating(self, c: ci.Cursor) -> Expr:
        value = evaluate(c)
        dtype = convert_type(c.type)
        if value is None or not isinstance(dtype, ScalarType):
            raise ConversionError("floating literal without a value", c)
        if dtype.dtype == DType.float32:
            value = struct.unpack("f", struct.pack("f", value))[0]
        return Const(float(value), dtype.dtype)

    def _bool(self, c: ci.Cursor) -> Expr:
        return Const(bool(evaluate(c)), DType.bool)

    def _char(self, c: ci.Cursor) -> Expr:
        value = evaluate(c)
        return Const(int(value or 0), DType.int8)

    def _string(self, c: ci.Cursor) -> Expr:
        return StringLit(c.spelling)

    def _null(self, c: ci.Cursor) -> Expr:
        return Const(None, DType.void)

    def _this(self, c: ci.Cursor) -> Expr:
        return Var("this")

    _HANDLERS = {
        K.UNEXPOSED_EXPR: _unexposed, K.PAREN_EXPR: _unexposed, K.DECL_REF_EXPR: _decl_ref,
        K.MEMBER_REF_EXPR: _member, K.CALL_EXPR: _call, K.BINARY_OPERATOR: _binary,
        K.COMPOUND_ASSIGNMENT_OPERATOR: _binary, K.UNARY_OPERATOR: _unary, K.CONDITIONAL_OPERATOR: _conditional,
        K.ARRAY_SUBSCRIPT_EXPR: _index, K.INIT_LIST_EXPR: _init_list, K.CXX_UNARY_EXPR: _sizeof,
        K.INTEGER_LITERAL: _integer, K.FLOATING_LITERAL: _floating, K.CXX_BOOL_LITERAL_EXPR: _bool,
        K.CHARACTER_LITERAL: _char, K.STRING_LITERAL: _string, K.CXX_NULL_PTR_LITERAL_EXPR: _null,
        K.GNU_NULL_EXPR: _null, K.CXX_THIS_EXPR: _this, K.COMPOUND_LITERAL_EXPR: _compound_literal,
        K.OVERLOADED_DECL_REF: lambda self, c: Var(c.spelling),
    }


def join_tokens(tokens: list[str]) -> str:
    """Source tokens back to text, with a space only between two word tokens (`unsigned int`, `Op::apply`)."""
    text = ""
    for token in tokens:
        if text and (text[-1].isalnum() or text[-1] == "_") and (token[0].isalnum() or token[0] == "_"):
            text += " "
        text += token
    return text


def unwrap(c: ci.Cursor) -> ci.Cursor:
    """Skip implicit wrappers (casts, temporaries) that share the child's extent."""
    while kind_of(c) == K.UNEXPOSED_EXPR:
        kids = expr_children(c)
        if len(kids) != 1 or not same_extent(c, kids[0]):
            break
        c = kids[0]
    return c


def _template_arg_from_text(text: str) -> TemplateArg:
    text = text.strip()
    if text in ("true", "false"):
        return Const(text == "true", DType.bool)
    if re.fullmatch(r"\d+", text):
        return Const(int(text), DType.int32)
    parsed = type_from_text(text)
    if isinstance(parsed, NamedType) and re.fullmatch(r"[A-Za-z_][\w:]*", text):
        return Var(text)
    if isinstance(parsed, NamedType):
        return RawExpr(text)
    return parsed
