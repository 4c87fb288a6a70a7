"""Inlining of device helpers, and the name and constant utilities the loop-recovery passes share.

Kernels are turned into loop nests by pasting their bodies (and the bodies of the helpers that use thread
indices, barriers or warp operations) into the host function. This module does the pasting safely:
`instantiate` binds template parameters, `inline_calls` replaces calls by the callee's body, `uniquify` gives
every declared name a fresh spelling so hoisting a declaration can never capture another, and `fold` removes the
branches that template arguments made constant.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Callable

from kernel_ir.ir import (
    ArrayType, Assign, BinOp, Block, Call, Const, Decl, DoWhile, DType, Expr, ExprStmt, For, Function, If,
    NamedType, Node, PointerType, RawExpr, ReferenceType, Return, ScalarType, Select, Stmt, Switch, Type, UnaryOp, Var,
    VectorType, While, transform, walk,
)
from passes.base import PassRefused

TYPE_NODES = (ScalarType, VectorType, PointerType, ReferenceType, ArrayType, NamedType)


class Namer:
    """Fresh names that collide with nothing already taken (the caller seeds `taken`)."""

    def __init__(self, taken: set[str]):
        self.taken = set(taken)

    def fresh(self, base: str) -> str:
        name, n = base, 0
        while name in self.taken:
            n += 1
            name = f"{base}_{n}"
        self.taken.add(name)
        return name


def names_in(node: Node) -> set[str]:
    """Every variable name read or written in `node` (declarations excluded)."""
    return {n.name for n in walk(node) if isinstance(n, Var)}


def declared_names(node: Node) -> set[str]:
    return {n.name for n in walk(node) if isinstance(n, Decl)}


def substitute(node: Node, values: dict[str, Expr], types: dict[str, Type] | None = None) -> Node:
    """Replace variables by expressions and named types (template parameters) by types, everywhere."""
    types = types or {}
    spelled = {name: str(v.value).lower() if isinstance(v.value, bool) else str(v.value)
               for name, v in values.items() if isinstance(v, Const) and v.value is not None}
    spelled.update({name: v.name for name, v in values.items() if isinstance(v, Var)})
    spelled.update({name: t.name for name, t in types.items() if isinstance(t, NamedType)})
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, spelled)) + r")\b") if spelled else None

    def visit(n: Node) -> Node | None:
        if isinstance(n, Var) and n.name in values:
            return values[n.name]
        if isinstance(n, (Call, Var)) and isinstance(types.get(n.name.partition("::")[0]), NamedType):
            owner, sep, member = n.name.partition("::")  # T::apply(...), T::identity, or T itself
            return dataclasses.replace(n, name=types[owner].name + sep + member)
        if isinstance(n, NamedType) and "<" in n.name and pattern is not None:
            return dataclasses.replace(n, name=pattern.sub(lambda m: spelled[m.group(1)], n.name))
        if isinstance(n, NamedType) and n.name in types:
            replacement = types[n.name]
            if n.const and hasattr(replacement, "const"):
                replacement = dataclasses.replace(replacement, const=True)
            return replacement
        return None

    return transform(node, visit)


def instantiate(fn: Function, template_args: tuple) -> Function:
    """`fn` with its template parameters replaced by `template_args` (types or constant expressions)."""
    if not fn.template_params:
        return fn
    if len(template_args) != len(fn.template_params):
        raise PassRefused("XP512", f"cannot instantiate template {fn.name}: {len(template_args)} template arguments "
                                   f"given for {len(fn.template_params)} parameters",
                          hint="pass every template argument explicitly at the launch or call")
    values: dict[str, Expr] = {}
    types: dict[str, Type] = {}
    for param, arg in zip(fn.template_params, template_args):
        if param.type is None:
            if isinstance(arg, (Var, RawExpr)):  # a class name the parser read as an expression
                arg = NamedType(arg.name if isinstance(arg, Var) else arg.text.replace(" ", ""))
            if not isinstance(arg, TYPE_NODES):
                raise PassRefused("XP512", f"template parameter {param.name} of {fn.name} needs a type")
            types[param.name] = arg
        else:
            if isinstance(arg, TYPE_NODES):
                raise PassRefused("XP512", f"template parameter {param.name} of {fn.name} needs a value")
            values[param.name] = arg
    body = substitute(fn.body, values, types) if fn.body is not None else None
    params = tuple(substitute(p, values, types) for p in fn.params)
    ret = substitute(fn.return_type, values, types)
    return dataclasses.replace(fn, body=body, params=params, return_type=ret, template_params=())


# ---------------------------------------------------------------- constant folding --------------------------

_INT_OPS: dict[str, Callable[[int, int], int | bool]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "&": lambda a, b: a & b, "|": lambda a, b: a | b,
    "^": lambda a, b: a ^ b, "<<": lambda a, b: a << b, ">>": lambda a, b: a >> b,
}


def _const_value(e: Node) -> bool | int | None:
    if isinstance(e, Const) and isinstance(e.value, (bool, int)) and not e.dtype.is_float:
        return e.value
    return None


def fold(node: Node) -> Node:
    """Fold integer/boolean constant expressions and drop branches whose condition became constant."""

    def visit(n: Node) -> Node | None:
        if isinstance(n, BinOp):
            a, b = _const_value(n.lhs), _const_value(n.rhs)
            if n.op == "&&" and (a is False or a == 0):
                return Const(False, DType.bool)
            if n.op == "||" and a not in (None, False, 0):
                return Const(True, DType.bool)
            if a is None or b is None:
                return None
            if n.op in ("&&", "||"):
                return Const(bool(a) and bool(b) if n.op == "&&" else bool(a) or bool(b), DType.bool)
            if n.op in ("/", "%") and b != 0 and a >= 0 and b > 0:
                return Const(a // b if n.op == "/" else a % b, DType.int32)
            if n.op in _INT_OPS and not (n.op in ("<<", ">>") and not 0 <= b < 32):
                value = _INT_OPS[n.op](int(a), int(b))
                if isinstance(value, bool):
                    return Const(value, DType.bool)
                if -2**31 <= value < 2**31:
                    return Const(value, DType.int32)
            return None
        if isinstance(n, UnaryOp) and n.op == "!" and _const_value(n.operand) is not None:
            return Const(not _const_value(n.operand), DType.bool)
        if isinstance(n, Select) and _const_value(n.cond) is not None:
            return n.then if _const_value(n.cond) else n.otherwise
        if isinstance(n, If) and _const_value(n.cond) is not None:
            return n.then if _const_value(n.cond) else (n.otherwise or Block(()))
        return None

    return transform(node, visit)


# ---------------------------------------------------------------- unique names -------------------------------


def uniquify(params: tuple, body: Block, namer: Namer) -> tuple[tuple, Block]:
    """Rename every parameter and local declaration to a fresh name (scope-aware), so declarations can be moved."""
    scope: list[dict[str, str]] = [{}]

    def lookup(name: str) -> str | None:
        for frame in reversed(scope):
            if name in frame:
                return frame[name]
        return None

    def rename(n: Node) -> Node | None:
        if isinstance(n, Var) and lookup(n.name):
            return Var(lookup(n.name))
        if isinstance(n, Call) and lookup(n.name):  # a local functor object called like a function
            return dataclasses.replace(n, name=lookup(n.name))
        return None

    def rename_expr(e: Node) -> Node:
        return transform(e, rename)

    def declare(d: Decl) -> Decl:
        new_type = rename_expr(d.type)
        init = rename_expr(d.init) if d.init is not None else None
        name = namer.fresh(d.name)
        scope[-1][d.name] = name
        return dataclasses.replace(d, name=name, type=new_type, init=init)

    def block(b: Block) -> Block:
        scope.append({})
        out = Block(tuple(stmt(s) for s in b.body))
        scope.pop()
        return out

    def stmt(s: Stmt) -> Stmt:
        if isinstance(s, Decl):
            return declare(s)
        if isinstance(s, Block):
            return block(s)
        if isinstance(s, For):
            scope.append({})
            init = tuple(stmt(i) for i in s.init)
            cond = rename_expr(s.cond) if s.cond is not None else None
            step = stmt(s.step) if s.step is not None else None
            body = block(s.body)
            scope.pop()
            return dataclasses.replace(s, init=init, cond=cond, step=step, body=body)
        if isinstance(s, If):
            return dataclasses.replace(s, cond=rename_expr(s.cond), then=block(s.then),
                                       otherwise=block(s.otherwise) if s.otherwise is not None else None)
        if isinstance(s, (While, DoWhile)):
            return dataclasses.replace(s, cond=rename_expr(s.cond), body=block(s.body))
        if isinstance(s, Switch):
            return dataclasses.replace(s, value=rename_expr(s.value), body=block(s.body))
        return rename_expr(s)

    new_params = []
    for p in params:
        name = namer.fresh(p.name)
        scope[0][p.name] = name
        new_params.append(dataclasses.replace(p, name=name))
    return tuple(new_params), block(body)


# ---------------------------------------------------------------- inlining -----------------------------------


def _always_returns(stmts: tuple[Stmt, ...]) -> bool:
    for s in stmts:
        if isinstance(s, Return):
            return True
        if isinstance(s, If) and s.otherwise is not None and _always_returns(s.then.body) \
                and _always_returns(s.otherwise.body):
            return True
        if isinstance(s, Block) and _always_returns(s.body):
            return True
    return False


def _contains_return(node: Node) -> bool:
    return any(isinstance(n, Return) for n in walk(node))


def structure_returns(stmts: tuple[Stmt, ...], result: str | None, where: str) -> tuple[Stmt, ...]:
    """Replace `return e` by `result = e` by moving the code after a conditional return into an else branch."""
    out: list[Stmt] = []
    for i, s in enumerate(stmts):
        rest = stmts[i + 1:]
        if isinstance(s, Return):
            if s.value is not None and result is not None:
                out.append(Assign(Var(result), s.value))
            return tuple(out)
        if isinstance(s, Block) and _contains_return(s):
            return tuple(out) + structure_returns(s.body + rest, result, where)
        if isinstance(s, If) and _contains_return(s):
            then = s.then.body + (() if _always_returns(s.then.body) else rest)
            other = (s.otherwise.body if s.otherwise else ()) + (
                () if s.otherwise and _always_returns(s.otherwise.body) else rest)
            out.append(dataclasses.replace(s, then=Block(structure_returns(then, result, where)),
                                           otherwise=Block(structure_returns(other, result, where))))
            return tuple(out)
        if _contains_return(s):
            raise PassRefused("XP513", f"cannot inline {where}: it returns from inside a loop or switch",
                              hint="restructure the helper so it returns at the end")
        out.append(s)
    return tuple(out)


def _lvalue_without_effects(e: Expr) -> bool:
    return all(not (isinstance(n, (Call,)) or isinstance(n, UnaryOp) and n.op in ("++", "--")
                    or isinstance(n, BinOp) and n.op.endswith("=") and n.op not in ("==", "<=", ">=", "!="))
               for n in walk(e))


def inline_body(fn: Function, call: Call, result: str | None, namer: Namer) -> tuple[Stmt, ...]:
    """Statements computing `call` (into variable `result` unless void); the callee is instantiated first."""
    fn = fold(instantiate(fn, call.deduced_template_args or call.template_args))
    if len(call.args) > len(fn.params) or any(p.default is None for p in fn.params[len(call.args):]):
        raise PassRefused("XP513", f"cannot inline {fn.name}: wrong number of arguments")
    args = list(call.args) + [p.default for p in fn.params[len(call.args):]]
    params, body = uniquify(fn.params, fn.body, namer)
    bindings: list[Stmt] = []
    aliases: dict[str, Expr] = {}
    for p, arg in zip(params, args):
        if isinstance(p.type, ReferenceType):
            if not _lvalue_without_effects(arg):
                raise PassRefused("XP513", f"cannot inline {fn.name}: reference argument {p.name} has side effects")
            aliases[p.name] = arg
        else:
            bindings.append(Decl(p.name, p.type, arg))
    body = substitute(body, aliases)
    stmts = structure_returns(body.body, result, fn.name)
    return (Block(tuple(bindings) + stmts),)


def _unconditional_calls(e: Expr, wanted: Callable[[Call], bool], where: str) -> list[Call]:
    """Calls in `e` that `wanted` selects, innermost first; refuses those evaluated only conditionally."""
    found: list[Call] = []

    def visit(n: Node, conditional: bool) -> None:
        if isinstance(n, Call) and wanted(n):
            if conditional:
                raise PassRefused("XP513", f"{n.name} is called conditionally inside an expression in {where}",
                                  hint="call it in a statement of its own")
            for a in n.args:
                visit(a, conditional)
            found.append(n)
            return
        if isinstance(n, Select):
            visit(n.cond, conditional)
            visit(n.then, True)
            visit(n.otherwise, True)
            return
        if isinstance(n, BinOp) and n.op in ("&&", "||"):
            visit(n.lhs, conditional)
            visit(n.rhs, True)
            return
        for f in dataclasses.fields(n):
            value = getattr(n, f.name)
            for child in (value if isinstance(value, tuple) else (value,)):
                if isinstance(child, Node) and not isinstance(child, TYPE_NODES):
                    visit(child, conditional)

    visit(e, False)
    return found


def hoist_calls(body: Block, wanted: Callable[[Call], bool], expand_call: Callable[[Call, str | None], tuple],
                namer: Namer, result_type: Callable[[Call], Type], where: str) -> Block:
    """Move every selected call out of its expression: `pre-statements; stmt[call := result]`.

    `expand_call(call, result_name)` gives the statements computing the call. Calls in loop conditions or steps,
    which run more than once, are refused.
    """

    def lift(e: Expr) -> tuple[list[Stmt], Expr]:
        pre: list[Stmt] = []
        calls = _unconditional_calls(e, wanted, where)
        replaced: dict[int, Expr] = {}
        for call in calls:
            call_now = dataclasses.replace(call, args=tuple(replace_nodes(a, replaced) for a in call.args))
            rtype = result_type(call)
            is_void = isinstance(rtype, ScalarType) and rtype.dtype == DType.void
            name = None if is_void else namer.fresh("xp_ret")
            if name is not None:
                pre.append(Decl(name, _non_const(rtype)))
            pre.extend(expand_call(call_now, name))
            replaced[id(call)] = Var(name) if name else Const(0, DType.int32)
        if not calls:
            return pre, e
        return pre, replace_nodes(e, replaced)

    def block(b: Block) -> Block:
        out: list[Stmt] = []
        for s in b.body:
            out.extend(stmt(s))
        return Block(tuple(out))

    def branches_calling(e: Expr | None) -> bool:
        return isinstance(e, Select) and any(isinstance(n, Call) and wanted(n)
                                             for part in (e.then, e.otherwise) for n in walk(part))

    def stmt(s: Stmt) -> list[Stmt]:
        # `x = c ? f(...) : e` (f to be inlined): `if (c) x = f(...); else x = e;`, then each branch on its own
        if isinstance(s, Decl) and branches_calling(s.init):
            return [dataclasses.replace(s, type=_non_const(s.type), init=None)] + stmt(Assign(Var(s.name), s.init))
        if isinstance(s, Assign) and not s.op and branches_calling(s.value):
            choice = s.value
            return stmt(If(choice.cond, Block((Assign(s.target, choice.then),)),
                           Block((Assign(s.target, choice.otherwise),))))
        if isinstance(s, Decl) and s.init is not None:
            pre, init = lift(s.init)
            return pre + [dataclasses.replace(s, init=init)]
        if isinstance(s, Assign):
            pre, value = lift(s.value)
            pre2, target = lift(s.target)
            return pre + pre2 + [dataclasses.replace(s, value=value, target=target)]
        if isinstance(s, ExprStmt):
            if isinstance(s.expr, Call) and wanted(s.expr):
                pre, _ = lift(s.expr)
                return pre
            pre, e = lift(s.expr)
            return pre + [ExprStmt(e)]
        if isinstance(s, Return) and s.value is not None:
            pre, value = lift(s.value)
            return pre + [Return(value)]
        if isinstance(s, If):
            pre, cond = lift(s.cond)
            return pre + [dataclasses.replace(s, cond=cond, then=block(s.then),
                                              otherwise=block(s.otherwise) if s.otherwise else None)]
        if isinstance(s, Block):
            return [block(s)]
        if isinstance(s, For):
            for part in (s.cond, s.step):
                if part is not None and _unconditional_calls(part, wanted, where):
                    raise PassRefused("XP513", f"a loop condition or step in {where} calls a helper that must be "
                                               "inlined", hint="compute it in the loop body")
            pre: list[Stmt] = []
            init: list[Stmt] = []
            for i in s.init:
                lifted = stmt(i)
                pre += lifted[:-1]
                init.append(lifted[-1])
            loop = dataclasses.replace(s, init=tuple(init), body=block(s.body))
            return [Block(tuple(pre) + (loop,))] if pre else [loop]
        if isinstance(s, (While, DoWhile)):
            if _unconditional_calls(s.cond, wanted, where):
                raise PassRefused("XP513", f"a loop condition in {where} calls a helper that must be inlined")
            return [dataclasses.replace(s, body=block(s.body))]
        if isinstance(s, Switch):
            pre, value = lift(s.value)
            return pre + [dataclasses.replace(s, value=value, body=block(s.body))]
        return [s]

    return block(body)


def replace_nodes(node: Node, replaced: dict[int, Node]) -> Node:
    """Top-down replacement of the very nodes (by identity) listed in `replaced`."""
    return transform(node, lambda n: replaced.get(id(n)), top_down=True)


def _non_const(t: Type) -> Type:
    if isinstance(t, (ScalarType, VectorType, NamedType)) and t.const:
        return dataclasses.replace(t, const=False)
    return t
