"""libclang cursor -> IR conversion for statements and variable declarations.

Pragmas: OpenMP directives are parsed without -fopenmp (libclang hides the loop inside an OpenMP captured
statement), so every `#pragma` line of the source is read from the text and attached to the statement that
follows it: loop pragmas go to `For.pragmas` (and set `For.kind`), others wrap the statement in `Pragma`.
"""

from __future__ import annotations

import re

import clang.cindex as ci

from kernel_ir.ir import (
    Assign, Barrier, BarrierKind, BinOp, Block, Break, Call, Case, Cast, Const, Construct, Continue, Decl, DoWhile,
    Expr,
    ExprStmt, For, ForKind, FuncQual, Function, If, InitList, KernelLaunch, LaunchConfig, MemScope, NamedType, Param,
    Pragma, RawStmt, Return, Stmt, Switch, Type, VarQual, While,
)
from kernel_ir.parse_clang import (
    K, T, ConversionError, convert_type, expr_children, from_decl_headers, initializer, kind_of, same_extent,
)
from kernel_ir.parse_expr import TOKEN, ExprConverter, unwrap

_BARRIER_CALLS = {"__syncthreads": BarrierKind.syncthreads, "__syncwarp": BarrierKind.syncwarp,
                  "__sync_all": BarrierKind.sync_all, "__sync_cluster": BarrierKind.sync_cluster,
                  "__sync_compute": BarrierKind.sync_compute}
_GROUP_BARRIERS = {"cooperative_groups::thread_block": BarrierKind.syncthreads,
                   "cooperative_groups::grid_group": BarrierKind.sync_grid}
_PUSH_CONFIG = {"__cudaPushCallConfiguration", "__hipPushCallConfiguration"}
_SCOPE_ATTRS = {K.CUDASHARED_ATTR: MemScope.shared, K.CUDACONSTANT_ATTR: MemScope.constant,
                K.CUDADEVICE_ATTR: MemScope.global_}
_SCOPE_ANNOTATIONS = {"xp_nram": MemScope.nram, "xp_wram": MemScope.wram, "xp_ldram": MemScope.ldram,
                      "xp_mlu_shared": MemScope.mlu_shared, "xp_constant": MemScope.constant}
_FILE_SCOPES = {K.TRANSLATION_UNIT, K.NAMESPACE, K.LINKAGE_SPEC}
_DEVICE_QUALIFIERS = {FuncQual.global_: FuncQual.device, FuncQual.device: FuncQual.device, FuncQual.host: FuncQual.host,
                      FuncQual.mlu_global: FuncQual.mlu_func, FuncQual.mlu_func: FuncQual.mlu_func}
_STANDALONE_OMP = re.compile(r"^omp\s+(barrier|flush|taskwait|taskyield|cancel|cancellation)\b")
_ASSIGN_OPS = {"=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "|=", "^="}
_RAW_DECL_KINDS = {K.TYPEDEF_DECL, K.TYPE_ALIAS_DECL, K.STRUCT_DECL, K.CLASS_DECL, K.UNION_DECL, K.ENUM_DECL,
                   K.STATIC_ASSERT, K.NAMESPACE_ALIAS, K.USING_DIRECTIVE, K.USING_DECLARATION}


def loop_kind(pragmas: tuple[str, ...]) -> ForKind:
    """Loop kind implied by its pragmas (first recognised pragma wins)."""
    for text in pragmas:
        if re.match(r"^omp\b.*\bfor\b", text):
            return ForKind.parallel
        if re.match(r"^omp\s+simd\b", text) or re.match(r"^(GCC\s+ivdep|clang\s+loop\s+vectorize)", text):
            return ForKind.vectorized
        if re.match(r"^(unroll|GCC\s+unroll|clang\s+loop\s+unroll)\b", text):
            return ForKind.unrolled
    return ForKind.serial


def is_loop_pragma(text: str) -> bool:
    return loop_kind((text,)) != ForKind.serial or text.startswith(("nounroll", "GCC ", "clang loop"))


class StmtConverter(ExprConverter):
    """Statement conversion; `pragmas` maps source line -> pragma text (without `#pragma`)."""

    def __init__(self, source: bytes, filename: str, pragmas: dict[int, str], macro_values: dict[str, int]):
        super().__init__(source, filename)
        self._pending = sorted(pragmas.items())
        self._macro_values = macro_values
        self.hoisted: list[Function] = []  # capture-free lambdas of the function being converted, as helpers
        self.taken_names: set[str] = set()  # top-level names a hoisted lambda must not shadow
        self.enclosing: frozenset[FuncQual] = frozenset()  # qualifiers of the function being converted

    # ---- pragmas
    def _take_pragmas(self, before_line: int) -> list[str]:
        taken = []
        while self._pending and self._pending[0][0] < before_line:
            taken.append(self._pending.pop(0)[1])
        return taken

    def skip_pragmas(self, before_line: int) -> None:
        """Drop pragmas that precede a function body (they were handled at top level)."""
        self._take_pragmas(before_line)

    # ---- blocks
    def block(self, c: ci.Cursor) -> Block:
        body: list[Stmt] = []
        for child in c.get_children():
            body.extend(self.stmts(child))
        body.extend(Pragma(text) for text in self._take_pragmas(c.extent.end.line))
        return Block(tuple(body))

    def body(self, c: ci.Cursor) -> Block:
        """Loop / branch body, always a Block (a single statement is wrapped)."""
        if kind_of(c) == K.COMPOUND_STMT:
            return self.block(c)
        return Block(tuple(self.stmts(c)))

    def stmts(self, c: ci.Cursor) -> list[Stmt]:
        pragmas = self._take_pragmas(c.extent.start.line)
        standalone = [Pragma(p) for p in pragmas if _STANDALONE_OMP.match(p)]
        pragmas = [p for p in pragmas if not _STANDALONE_OMP.match(p)]
        kind = kind_of(c)
        if kind == K.UNEXPOSED_STMT and len(list(c.get_children())) == 1:  # AttributedStmt (#pragma unroll)
            inner = next(iter(c.get_children()))
            converted = self.stmts(inner)
        elif kind == K.FOR_STMT:
            loop_pragmas = tuple(p for p in pragmas if is_loop_pragma(p))
            pragmas = [p for p in pragmas if not is_loop_pragma(p)]
            converted = [self._for(c, loop_pragmas)]
        else:
            converted = self._stmt(c)
        for text in reversed(pragmas):
            converted = [Pragma(text, converted[0] if len(converted) == 1 else Block(tuple(converted)))]
        return standalone + converted

    def _stmt(self, c: ci.Cursor) -> list[Stmt]:
        kind = kind_of(c)
        if kind == K.COMPOUND_STMT:
            return [self.block(c)]
        if kind == K.DECL_STMT:
            return self._decl_stmt(c)
        if kind == K.IF_STMT:
            return [self._if(c)]
        if kind == K.WHILE_STMT:
            kids = list(c.get_children())
            if len(kids) != 2:
                return [self._raw_stmt(c)]
            return [While(self.expr(kids[0]), self.body(kids[1]))]
        if kind == K.DO_STMT:
            kids = list(c.get_children())
            return [DoWhile(self.body(kids[0]), self.expr(kids[1]))]
        if kind == K.RETURN_STMT:
            kids = expr_children(c)
            return [Return(self.expr(kids[0]) if kids else None)]
        if kind == K.BREAK_STMT:
            return [Break()]
        if kind == K.CONTINUE_STMT:
            return [Continue()]
        if kind == K.NULL_STMT:
            return []
        if kind == K.SWITCH_STMT:
            kids = list(c.get_children())
            return [Switch(self.expr(kids[0]), self.body(kids[-1]))]
        if kind == K.CASE_STMT:
            kids = list(c.get_children())
            return [Case(self.expr(kids[0]))] + self._stmt(kids[1])
        if kind == K.DEFAULT_STMT:
            kids = list(c.get_children())
            return [Case(None)] + self._stmt(kids[0])
        if kind in _RAW_DECL_KINDS or kind in (K.CXX_FOR_RANGE_STMT, K.LABEL_STMT, K.GOTO_STMT, K.ASM_STMT,
                                                K.CXX_TRY_STMT):
            return [self._raw_stmt(c)]
        if kind is not None and kind.is_expression():
            return [self._expr_stmt(c)]
        if kind == K.UNEXPOSED_STMT:
            return [self._raw_stmt(c)]
        raise ConversionError(f"unsupported statement {kind.name if kind else c._kind_id}", c)

    def _raw_stmt(self, c: ci.Cursor) -> RawStmt:
        text = self.source_text(c).strip()
        return RawStmt(text if text.endswith((";", "}")) else text + ";")

    # ---- declarations
    def _decl_stmt(self, c: ci.Cursor) -> list[Stmt]:
        decls = list(c.get_children())
        if all(kind_of(d) == K.VAR_DECL for d in decls):
            helpers = [self._hoisted_lambda(d) for d in decls]
            self.hoisted += [h for h in helpers if h is not None]
            return [self.decl(d) for d, h in zip(decls, helpers) if h is None]
        return [self._raw_stmt(c)]

    def _hoisted_lambda(self, v: ci.Cursor) -> Function | None:
        """`auto f = [](params) { body };` that uses nothing of the enclosing function as a helper function `f`
        (calls of the closure already read as calls of `f`), so later passes see plain code instead of raw text."""
        init = initializer(v)
        lam = unwrap(init) if init is not None else None
        if lam is None or kind_of(lam) != K.LAMBDA_EXPR or v.spelling in self.taken_names:
            return None
        body = [k for k in lam.get_children() if kind_of(k) == K.COMPOUND_STMT]
        call = [m for m in lam.type.get_declaration().get_children() if m.spelling == "operator()"]
        if len(body) != 1 or len(call) != 1 or self.captures(lam):
            return None
        params = tuple(Param(k.spelling, convert_type(k.type)) for k in lam.get_children() if kind_of(k) == K.PARM_DECL)
        qualifiers = {_DEVICE_QUALIFIERS[q] for q in self.enclosing if q in _DEVICE_QUALIFIERS}
        qualifiers |= {FuncQual.static, FuncQual.inline} if not qualifiers else {FuncQual.inline}
        self.taken_names.add(v.spelling)
        result = call[0].result_type
        result = result.get_canonical() if result.kind == T.AUTO else result  # deduced from the returns
        return Function(v.spelling, convert_type(result), params, self.block(body[0]), frozenset(qualifiers))

    @staticmethod
    def captures(lam: ci.Cursor) -> bool:
        """The lambda reads a variable of the enclosing function (declared outside the lambda, not at file scope)."""
        start, end = lam.extent.start.offset, lam.extent.end.offset
        for n in lam.walk_preorder():
            ref = n.referenced if n.kind == K.DECL_REF_EXPR else None
            if ref is not None and ref.kind in (K.VAR_DECL, K.PARM_DECL) \
                    and not start <= ref.extent.start.offset < end and ref.semantic_parent.kind not in _FILE_SCOPES:
                return True
        return False

    def decl(self, v: ci.Cursor) -> Decl:
        name, type_, init, scope, qualifiers, align = self.variable(v)
        return Decl(name, type_, init, scope or MemScope.local, qualifiers, align)

    def variable(self, v: ci.Cursor):
        """Parts shared by local Decl and GlobalVar: name, type, init, scope, qualifiers, alignment."""
        init_cursor = initializer(v)
        sizes = None
        if _has_dependent_array(v.type):
            sizes = [self.expr(k) for k in expr_children(v)
                     if init_cursor is None or not same_extent(k, init_cursor)]
        type_ = self._declared_type(v, sizes)
        init = self._initializer(v, init_cursor, type_) if init_cursor is not None else None
        scope = None
        align = None
        qualifiers = set()
        for child in v.get_children():
            kind = kind_of(child)
            if kind in _SCOPE_ATTRS:
                scope = _SCOPE_ATTRS[kind]
            elif kind == K.ANNOTATE_ATTR and child.spelling in _SCOPE_ANNOTATIONS:
                scope = _SCOPE_ANNOTATIONS[child.spelling]
            elif kind == K.ALIGNED_ATTR:
                align = self._alignment(v, child)
        for qualifier in VarQual:  # from tokens: clang marks every __shared__ local static
            if self.has_keyword_before_name(v, qualifier.value):
                qualifiers.add(qualifier)
        return v.spelling, type_, init, scope, frozenset(qualifiers), align

    def _declared_type(self, v: ci.Cursor, sizes: list[Expr] | None) -> Type:
        type_ = convert_type(v.type, sizes)
        if isinstance(type_, NamedType) or not self.has_keyword_before_name(v, "auto"):
            return type_
        return NamedType("auto", const=getattr(type_, "const", False))  # deduced type: keep `auto`

    def _initializer(self, v: ci.Cursor, init: ci.Cursor, type_: Type) -> Expr | None:
        target = unwrap(init)
        if kind_of(target) == K.CALL_EXPR and target.referenced is not None \
                and target.referenced.kind == K.CONSTRUCTOR and not expr_children(target):
            return InitList(()) if self._braced(target) else None
        dependent = v.type.get_canonical().kind in (T.UNEXPOSED, T.DEPENDENT)
        if dependent and kind_of(init) == K.UNEXPOSED_EXPR and self._direct_initialized(v):
            # `T x(a, b)` with a dependent T: a parenthesised initializer list constructs T
            args = tuple(self.expr(k) for k in expr_children(init))
            return Cast(type_, args[0]) if len(args) == 1 else Construct(type_, args)
        return self.expr(init)

    def _direct_initialized(self, v: ci.Cursor) -> bool:
        """`T x(a)` rather than `T x = a`: the declared name is followed by a parenthesis."""
        tokens = self.token_texts(v)
        return any(a == v.spelling and b == "(" for a, b in zip(tokens, tokens[1:]))

    def _alignment(self, v: ci.Cursor, attr: ci.Cursor) -> int | None:
        """alignas(N) / __align__(N) / aligned(N): the first number or integer macro after the attribute."""
        if attr.extent.start.file is None or attr.extent.start.file.name != self._filename:
            return None
        text = self._source[attr.extent.start.offset:v.extent.end.offset].decode()
        for match in TOKEN.finditer(text):
            token = match.group()
            if re.fullmatch(r"\d+", token):
                return int(token)
            if token in self._macro_values:
                return self._macro_values[token]
        return None

    # ---- control flow
    def _if(self, c: ci.Cursor) -> Stmt:
        kids = list(c.get_children())
        if len(kids) not in (2, 3) or kind_of(kids[0]) in (K.DECL_STMT, K.VAR_DECL):
            return self._raw_stmt(c)
        constexpr = self.token_texts(c)[:2] == ["if", "constexpr"]
        then_cursor, likely = kids[1], False
        if kind_of(then_cursor) == K.UNEXPOSED_STMT and self.token_texts(then_cursor)[:3] == ["[", "[", "likely"]:
            then_cursor, likely = next(iter(then_cursor.get_children())), True  # AttributedStmt: `[[likely]] {...}`
        cond, then = self.expr(kids[0]), self.body(then_cursor)  # in source order: pragmas go to the first statement
        otherwise = self.body(kids[2]) if len(kids) == 3 else None  # after them, so `else` cannot take `then`'s
        return If(cond, then, otherwise, constexpr, likely)

    def _for(self, c: ci.Cursor, pragmas: tuple[str, ...]) -> Stmt:
        kids = list(c.get_children())
        header, body_cursor = kids[:-1], kids[-1]
        slots = _for_slots(self.tokens(c), header)
        init: tuple[Stmt, ...] = ()
        cond = None
        step = None
        for slot, cursor in zip(slots, header):
            if slot == "init":
                init = tuple(self._decl_stmt(cursor)) if kind_of(cursor) == K.DECL_STMT \
                    else (self._expr_stmt(cursor),)
            elif slot == "cond":
                cond = self.expr(cursor)
            else:
                step = self._expr_stmt(cursor)
        body = self.body(body_cursor)
        return For(init, cond, step, body, loop_kind(pragmas), None, pragmas)

    # ---- expression statements
    def _expr_stmt(self, c: ci.Cursor) -> Stmt:
        target = unwrap(c)
        if kind_of(target) == K.CALL_EXPR:
            special = self._special_call(target)
            if special is not None:
                return special
        expr = self.expr(c)
        if isinstance(expr, BinOp) and expr.op in _ASSIGN_OPS:
            return Assign(expr.lhs, expr.rhs, expr.op[:-1])
        return _statement_of(expr)

    def _special_call(self, c: ci.Cursor) -> Stmt | None:
        """Barriers and kernel launches, recognised on the cursor where types are still known."""
        kids = expr_children(c)
        for child in kids:
            if kind_of(child) == K.CALL_EXPR and child.spelling in _PUSH_CONFIG:
                return self._launch(c, kids, child)
        ref = c.referenced
        if ref is not None and from_decl_headers(ref):
            if ref.spelling in _BARRIER_CALLS:
                return Barrier(_BARRIER_CALLS[ref.spelling], tuple(self.expr(k) for k in kids[1:]))
            if ref.spelling == "hipLaunchKernelGGL":
                return self._hip_launch(c, kids)
            if ref.spelling in ("sync", "cooperative_groups::sync"):
                return self._group_sync(c, kids)
        return None

    def _group_sync(self, c: ci.Cursor, kids: list[ci.Cursor]) -> Stmt | None:
        callee = unwrap(kids[0])
        if kind_of(callee) == K.MEMBER_REF_EXPR:
            objects = expr_children(callee)
        else:
            objects = kids[1:]
        if len(objects) != 1:
            return None
        group = unwrap(objects[0]).type.get_canonical().spelling
        group = re.sub(r"^const\s+", "", group)
        kind = _GROUP_BARRIERS.get(group)
        return Barrier(kind) if kind is not None else None

    def _launch(self, c: ci.Cursor, kids: list[ci.Cursor], config: ci.Cursor) -> Stmt:
        callee = unwrap(kids[0])
        config_args = [self.expr(k) for k in expr_children(config)[1:]]
        args = tuple(self.expr(k) for k in kids if k is not kids[0] and k is not config)
        return KernelLaunch(self.ref_name(callee), _launch_config(config_args), args,
                            self.template_args(callee))

    def _hip_launch(self, c: ci.Cursor, kids: list[ci.Cursor]) -> Stmt:
        values = kids[1:]
        if len(values) < 5:
            raise ConversionError("hipLaunchKernelGGL needs kernel, grid, block, shared bytes and stream", c)
        kernel = unwrap(values[0])
        while kind_of(kernel) in (K.UNARY_OPERATOR, K.PAREN_EXPR):  # &kernel, (kernel<A, B>)
            kernel = unwrap(expr_children(kernel)[0])
        config = [self.expr(k) for k in values[1:5]]
        args = tuple(self.expr(k) for k in values[5:])
        return KernelLaunch(self.ref_name(kernel), _launch_config(config), args, self.template_args(kernel))


def _launch_config(values: list[Expr]) -> LaunchConfig:
    """Normalise `<<<g, b, 0, 0>>>`, `dim3(g)` and nullptr streams so both launch syntaxes agree."""
    grid, block = (_strip_dim3(v) for v in values[:2])
    shared = values[2] if len(values) > 2 else None
    stream = values[3] if len(values) > 3 else None
    if isinstance(shared, Const) and shared.value == 0:
        shared = None
    if isinstance(stream, Const) and stream.value in (0, None):
        stream = None
    return LaunchConfig(grid, block, shared, stream)


def _strip_dim3(value: Expr) -> Expr:
    if isinstance(value, Cast) and isinstance(value.type, NamedType) and value.type.name == "dim3":
        return value.expr
    return value


def _statement_of(expr: Expr) -> Stmt:
    if isinstance(expr, Call) and expr.name in _BARRIER_CALLS:
        return Barrier(_BARRIER_CALLS[expr.name], expr.args)
    return ExprStmt(expr)


def _has_dependent_array(t: ci.Type) -> bool:
    while t.kind in (T.CONSTANTARRAY, T.DEPENDENTSIZEDARRAY, T.INCOMPLETEARRAY):
        if t.kind == T.DEPENDENTSIZEDARRAY:
            return True
        t = t.element_type
    return False


def _for_slots(tokens: list[tuple[str, int]], header: list[ci.Cursor]) -> list[str]:
    """Which of init / cond / step each header child of a for statement is (libclang omits empty ones)."""
    semicolons: list[int] = []
    if len(tokens) > 2 and tokens[0][0] == "for" and tokens[1][0] == "(":
        depth = 0
        for text, offset in tokens[2:]:
            if text in ("(", "[", "{"):
                depth += 1
            elif text in (")", "]", "}"):
                if depth == 0:
                    break
                depth -= 1
            elif text == ";" and depth == 0:
                semicolons.append(offset)
    if len(semicolons) == 2:
        slots = []
        for cursor in header:
            offset = cursor.extent.start.offset
            slots.append("init" if offset < semicolons[0] else "cond" if offset < semicolons[1] else "step")
        return slots
    return {3: ["init", "cond", "step"], 2: ["init", "cond"], 1: ["cond"], 0: []}[len(header)]
