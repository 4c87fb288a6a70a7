"""Extent probes: host code that measures how far a kernel reaches into a buffer by running its index arithmetic.

A host launcher copies each buffer to the device, so it needs the buffer's size. `kernel_ir.extents` derives it
from the index expressions; when they hold values loaded from memory (a gather's `table[idx[i] * cols + c]`) or
grow past what the solver handles, there is no formula. The launcher runs on the host with the caller's arrays
in hand, though, so it can measure, the way an inspector-executor scheme does. `extent_probe` builds a host
function from the loop form that runs its control flow and index arithmetic serially. Every access to the
buffer becomes a note of the elements it touches, and the function returns one past the highest.

Stores go, and so does every value the host cannot know before the kernels run (what they write, scratch,
the buffer's own contents). The probe is refused (None) when such a value would steer one of these: an index of
the buffer, a branch or loop around an access, an early exit, or a read of the caller's memory. So it never
guesses, and it reads only what the loop form reads, where it reads it.
"""
from __future__ import annotations

import dataclasses
import typing
from collections import Counter

from kernel_ir.ir import (
    ArrayType, Assign, BinOp, Block, Break, Call, Case, Cast, Const, Continue, Decl, DoWhile, DType, Expr, ExprStmt,
    For, ForKind, FuncQual, Function, If, Index, Member, Module, NamedType, Node, Param, PointerType, ReferenceType,
    Return, ScalarType, Select, SizeOf, Stmt, Switch, Type, UnaryOp, Var, While, transform, walk,
)
from passes.base import PassRefused
from passes.inline import Namer, inline_body
from passes.loops import ASSIGN_OPS, PURE_CALLS, variable_set
from passes.recover_loops import ATOMIC_HELPERS

TOUCH = "xp_touch"
_UNKNOWN = "xp_unknown"  # a value the host cannot know before the kernels run (0 in the finished probe)
_LONG = ScalarType(DType.int64)
_SIZE_T = NamedType("size_t")
_EXTENT = "xp_extent"
_ATOMICS = frozenset(ATOMIC_HELPERS.values())
_SELF = "<self>"
_HEAP = "<heap>"  # the root of pointers to allocations: scratch, which no local variable aliases
_ALLOCATORS = frozenset({"malloc", "calloc", "aligned_alloc"})
_TYPES = typing.get_args(Type)


def touch_helper() -> Function:
    """`xp_touch(extent, first, count)`: elements [first, first + count) are touched; 0 stands for a read's value."""
    extent, first, count = Var("extent"), Var("first"), Var("count")
    end = BinOp("+", first, count)
    grows = BinOp("&&", BinOp(">", count, Const(0, DType.int32)), BinOp(">", end, Cast(_LONG, UnaryOp("*", extent))))
    body = Block((If(grows, Block((Assign(UnaryOp("*", extent), Cast(_SIZE_T, end)),))), Return(Const(0, DType.int32))))
    params = (Param("extent", PointerType(_SIZE_T)), Param("first", _LONG), Param("count", _LONG))
    return Function(TOUCH, _LONG, params, body, frozenset({FuncQual.static, FuncQual.inline}))


def extent_probe(fn: Function, module: Module, buffer: str, name: str) -> Function | None:
    """A host function of `fn`'s parameters returning how many elements of `buffer` the loop-form entry `fn` of
    `module` touches (one past the highest), or None when that needs values only the kernels produce."""
    try:
        fn = _helpers_inlined(fn, module)
        pointer_helpers = frozenset(f.name for f in module.functions if f.body is None or any(
            isinstance(q.type, (PointerType, ReferenceType, ArrayType)) for q in f.params))
        return _Probe(fn, buffer, pointer_helpers).function(name)
    except (_Unprobeable, PassRefused):
        return None


def _helpers_inlined(fn: Function, module: Module, rounds: int = 8) -> Function:
    """fn with the helpers it calls as statements (`copy_row(dst, src, n);`, `float s = dot(a, b, n);`)
    pasted in, so the probe follows the memory they reach through their pointer arguments."""
    helpers = {f.name: f for f in module.functions if f.body is not None and f.name != fn.name}
    namer = Namer({n.name for n in walk(fn) if isinstance(n, (Var, Decl))} | set(helpers))

    def paste(s: Stmt) -> tuple[Stmt, ...] | None:
        target, call = variable_set(s) if isinstance(s, (Decl, Assign)) else (None, s.expr) \
            if isinstance(s, ExprStmt) else (None, None)
        if not isinstance(call, Call) or call.name not in helpers:
            return None
        pasted = inline_body(helpers[call.name], call, target, namer)
        declared = _uninitialized(s) if isinstance(s, Decl) else None  # set by the pasted body
        return ((declared,) if declared is not None else ()) + pasted

    def splice(n: Node) -> Node | None:  # a declaration stays in its block's scope
        if not isinstance(n, Block):
            return None
        pasted = [(x, paste(x)) for x in n.body]
        if all(p is None for _, p in pasted):
            return None
        return Block(tuple(y for x, p in pasted for y in ((x,) if p is None else p)))

    for _ in range(rounds):
        body = transform(fn.body, splice)
        if body == fn.body:
            return fn
        fn = dataclasses.replace(fn, body=body)
    raise _Unprobeable  # recursion


class _Unprobeable(Exception):
    pass


class _Probe:
    def __init__(self, fn: Function, buffer: str, pointer_helpers: frozenset[str]):
        self.fn, self.buffer, self.pointer_helpers = fn, buffer, pointer_helpers
        decls = [d for d in walk(fn.body) if isinstance(d, Decl)]
        self.types = {p.name: p.type for p in fn.params} | {d.name: d.type for d in decls}
        if any(len({str(d.type) for d in decls if d.name == n}) > 1 for n, k in Counter(d.name for d in decls).items()
               if k > 1):
            raise _Unprobeable  # one name, two types in different scopes
        # pointer variables -> the values they are given (their roots decide what a read through them is)
        self.definitions: dict[str, list[Expr]] = {}
        for n in walk(fn.body):
            target, value = variable_set(n) if isinstance(n, (Decl, Assign)) else (None, None)
            if isinstance(n, Assign) and isinstance(n.target, Var) and n.op:
                target, value = n.target.name, BinOp(n.op, n.target, n.value)  # `p += k`: still where p was
            if target is not None and isinstance(self.types.get(target), PointerType):
                self.definitions.setdefault(target, []).append(value)
        written = {self.root(t) for t in _stored_pointers(fn.body)}
        element = self.types[buffer].pointee if isinstance(self.types.get(buffer), PointerType) else None
        if element is None:
            raise _Unprobeable
        self.element_bytes = _bytes(element)
        if self.element_bytes is None or buffer in self.definitions:
            raise _Unprobeable  # elements of no known size, or the parameter itself moved
        self.readable = {p.name for p in fn.params if isinstance(p.type, PointerType)} - written - {buffer}
        taken = {n.name for n in walk(fn) if isinstance(n, (Var, Decl))}
        self.offsets = {v: _fresh(f"{v}_xpoff", taken) for v in self.definitions if self.root(Var(v)) == buffer}
        self.extent = _fresh(_EXTENT, taken)
        self.unknown_arrays: set[str] = set()  # local objects filled from memory the probe cannot read
        self.aliasable = {d.name for d in decls if isinstance(d.type, ArrayType)} | {
            n.operand.name for n in walk(fn.body)
            if isinstance(n, UnaryOp) and n.op == "&" and isinstance(n.operand, Var)}

    # -- what a pointer expression points into --
    def root(self, e: Expr | None, seen: frozenset[str] = frozenset()) -> str | None:
        """The parameter or local variable a pointer expression points into, `_HEAP` for an allocation; None when
        unknown (pointers loaded from memory, a variable given pointers into different objects)."""
        while isinstance(e, (Cast, BinOp, UnaryOp)):
            if isinstance(e, Cast):
                e = e.expr
            elif isinstance(e, BinOp) and e.op in ("+", "-"):
                e = e.lhs if self.is_pointer(e.lhs) else e.rhs
            elif isinstance(e, UnaryOp) and e.op == "&" and isinstance(e.operand, (Index, Var)):
                e = e.operand.base if isinstance(e.operand, Index) else e.operand
            else:
                return None
        if isinstance(e, Call) and e.name.removeprefix("std::") in _ALLOCATORS:
            return _HEAP
        if not isinstance(e, Var):
            return None
        if e.name in self.definitions and e.name not in {p.name for p in self.fn.params}:
            if e.name in seen:
                return _SELF  # `p += k`: p keeps pointing where it did
            roots = {self.root(v, seen | {e.name}) for v in self.definitions[e.name]
                     if v is not None and v != Const(None, DType.void)} - {_SELF}
            return roots.pop() if len(roots) == 1 else None
        return e.name

    def is_pointer(self, e: Expr) -> bool:
        if isinstance(e, Var):
            return isinstance(self.types.get(e.name), (PointerType, ArrayType))
        if isinstance(e, Cast):
            return isinstance(e.type, PointerType)
        if isinstance(e, BinOp) and e.op in ("+", "-"):
            return self.is_pointer(e.lhs) or e.op == "+" and self.is_pointer(e.rhs)
        return isinstance(e, UnaryOp) and e.op == "&"

    def offset(self, e: Expr) -> Expr:
        """The element offset into the buffer of a pointer expression rooted there."""
        if isinstance(e, Var):
            return Const(0, DType.int32) if e.name == self.buffer else Var(self.offsets[e.name])
        if isinstance(e, Cast):
            if not isinstance(e.type, PointerType) or _bytes(e.type.pointee) != self.element_bytes:
                raise _Unprobeable  # a reinterpreting cast changes the unit of the offsets
            return self.offset(e.expr)
        if isinstance(e, BinOp) and e.op in ("+", "-"):
            pointer, count = (e.lhs, e.rhs) if self.is_pointer(e.lhs) else (e.rhs, e.lhs)
            return BinOp(e.op, self.offset(pointer), self.expr(count))
        if isinstance(e, UnaryOp) and e.op == "&" and isinstance(e.operand, Index):
            return BinOp("+", self.offset(e.operand.base), self.expr(e.operand.index))
        raise _Unprobeable(type(s).__name__)

    def touch(self, first: Expr, count: Expr) -> Call:
        return Call(TOUCH, (UnaryOp("&", Var(self.extent)), Cast(_LONG, first), Cast(_LONG, count)))

    def read_kind(self, base: Expr) -> str:
        """"buffer", "readable" (the caller's memory, unchanged by the kernels), "local" or "unknown"."""
        depth, b = 1, base
        while isinstance(b, Index):
            depth, b = depth + 1, b.base
        if isinstance(b, Var) and isinstance(self.types.get(b.name), ArrayType):
            rank, t = 0, self.types[b.name]
            while isinstance(t, ArrayType):
                rank, t = rank + 1, t.element
            return "local" if depth <= rank else "unknown"  # deeper: through a pointer the array holds
        root = self.root(base) if self.is_pointer(base) else None
        if root == self.buffer:
            return "buffer"
        if root in self.readable:
            return "readable"
        local = root in self.types and root not in {p.name for p in self.fn.params} and \
            not isinstance(self.types[root], PointerType)  # a local array, or a scalar whose address was taken
        return "local" if local else "unknown"

    # -- expressions --
    def expr(self, e: Expr) -> Expr:
        if isinstance(e, SizeOf):
            return e
        if isinstance(e, Var) and (e.name in self.offsets or e.name == self.buffer):
            # a pointer into the buffer used as a value (stored, compared, passed on, mixed with other pointers):
            # where it goes, the probe cannot follow its accesses
            raise _Unprobeable
        if isinstance(e, UnaryOp) and e.op in ("++", "--") and isinstance(e.operand, Var) \
                and e.operand.name in self.offsets:
            return dataclasses.replace(e, operand=Var(self.offsets[e.operand.name]))
        if isinstance(e, UnaryOp) and e.op == "&" and isinstance(e.operand, Index):
            return dataclasses.replace(e, operand=dataclasses.replace(e.operand, index=self.expr(e.operand.index)))
        if isinstance(e, UnaryOp) and e.op == "*":
            return self.read(e.operand, Const(0, DType.int32))
        if isinstance(e, Index):
            return self.read(e.base, e.index)
        if isinstance(e, Member) and e.arrow:
            return Var(_UNKNOWN)
        if isinstance(e, Call) and e.name in _ATOMICS and len(e.args) == 2:
            return self.atomic(*e.args)
        if isinstance(e, Call) and (e.name in self.pointer_helpers or e.name not in PURE_CALLS and any(
                isinstance(n, UnaryOp) and n.op == "&" or isinstance(n, Var) and isinstance(
                    self.types.get(n.name), (PointerType, ArrayType)) for a in e.args for n in walk(a))):
            raise _Unprobeable  # a call that may write memory the probe cannot follow (or the caller's)
        if isinstance(e, BinOp) and e.op in ASSIGN_OPS or isinstance(e, UnaryOp) and e.op in ("++", "--"):
            target = e.lhs if isinstance(e, BinOp) else e.operand
            if not isinstance(target, Var):
                raise _Unprobeable  # a store inside an expression
        return _map_children(e, self.expr)

    def read(self, base: Expr, index: Expr) -> Expr:
        kind = self.read_kind(base)
        if kind == "buffer":
            first = BinOp("+", self.offset(base), self.expr(index))
            return Call(TOUCH + "_read", (self.touch(first, Const(1, DType.int32)),))
        if kind == "unknown":
            self.check_dropped(base, index)
            return Var(_UNKNOWN)
        return Index(self.expr(base), self.expr(index))

    def atomic(self, target: Expr, value: Expr) -> Expr:
        """The loop form's atomic update of *target: a store (noted when into the buffer, never made on the
        caller's memory); its old value is unknown."""
        parts = [self.expr(value)]
        if self.is_pointer(target) and self.root(target) == self.buffer:
            parts.append(self.touch(self.offset(target), Const(1, DType.int32)))
        else:
            self.check_dropped(target)
            if self.root(target) is None:
                self.unknown_arrays |= self.aliasable
        return _sequence(parts + [Var(_UNKNOWN)])

    def check_dropped(self, *parts: Expr) -> None:
        """An access the probe drops (memory it cannot read, a store) must not hide one of the buffer (`*p++`
        with p into it) or a side effect (`a[i++]`) that later indices depend on."""
        for n in (n for part in parts for n in walk(part)):
            if isinstance(n, Var) and (n.name in self.offsets or n.name == self.buffer) or \
                    isinstance(n, UnaryOp) and n.op in ("++", "--") or isinstance(n, BinOp) and n.op in ASSIGN_OPS:
                raise _Unprobeable

    # -- statements --
    def block(self, stmts: tuple[Stmt, ...]) -> Block:
        return Block(tuple(x for s in stmts for x in self.stmt(s)))

    def stmt(self, s: Stmt) -> list[Stmt]:
        if isinstance(s, Decl):
            if s.name in self.offsets:
                return [Decl(self.offsets[s.name], _LONG, self.offset(s.init) if s.init is not None else None)]
            if isinstance(s.type, PointerType):
                init = self.expr(s.init) if s.init is not None else None
                unknown = self.root(Var(s.name)) in (None, _HEAP)  # and no allocation on the host
                return [_uninitialized(s) if unknown else dataclasses.replace(s, init=init)]
            return [dataclasses.replace(s, init=self.expr(s.init) if s.init is not None else None)]
        if isinstance(s, Assign):
            return self.assign(s)
        if isinstance(s, ExprStmt):
            if isinstance(s.expr, Call) and s.expr.name.removeprefix("std::") in ("memcpy", "memset", "memmove"):
                return self.byte_call(s.expr)
            if isinstance(s.expr, Call) and s.expr.name.removeprefix("std::") == "free":
                return []
            if isinstance(s.expr, (BinOp, UnaryOp)) and _stores_through_pointer(s.expr):
                raise _Unprobeable
            return [ExprStmt(self.expr(s.expr))]
        if isinstance(s, Block):
            return [self.block(s.body)]
        if isinstance(s, If):
            return [dataclasses.replace(s, cond=self.expr(s.cond), then=self.block(s.then.body),
                                        otherwise=self.block(s.otherwise.body) if s.otherwise is not None else None)]
        if isinstance(s, For):
            init = tuple(x for i in s.init for x in self.stmt(i))
            step = self.stmt(s.step) if s.step is not None else []
            if len(step) > 1:
                raise _Unprobeable
            return [For(init, self.expr(s.cond) if s.cond is not None else None, step[0] if step else None,
                        self.block(s.body.body), ForKind.serial)]
        if isinstance(s, While):
            return [While(self.expr(s.cond), self.block(s.body.body))]
        if isinstance(s, DoWhile):
            return [DoWhile(self.block(s.body.body), self.expr(s.cond))]
        if isinstance(s, Switch):
            return [Switch(self.expr(s.value), self.block(s.body.body))]
        if isinstance(s, Return):
            return [Return(Var(self.extent))]
        if isinstance(s, (Break, Continue, Case)):
            return [s]
        raise _Unprobeable(type(s).__name__)

    def assign(self, s: Assign) -> list[Stmt]:
        if isinstance(s.target, Var):
            if s.target.name in self.offsets:
                value = self.offset(s.value) if s.op == "" else self.expr(s.value)
                return [Assign(Var(self.offsets[s.target.name]), value, s.op)]
            value = self.expr(s.value)
            if isinstance(self.types.get(s.target.name), PointerType) and self.root(s.target) in (None, _HEAP):
                return []  # an unknown pointer stays unknown, and nothing is allocated
            return [Assign(s.target, value, s.op)]
        base, index = (s.target.base, s.target.index) if isinstance(s.target, Index) else (
            s.target.operand, Const(0, DType.int32)) if isinstance(s.target, UnaryOp) and s.target.op == "*" \
            else (None, None)
        if base is None:
            raise _Unprobeable
        kind = self.read_kind(base)
        if kind != "local" and kind != "buffer":
            self.check_dropped(base, index)
        if kind == "unknown" and self.root(base) is None:
            self.unknown_arrays |= self.aliasable  # a store to who knows where: any local object may change
        if kind == "local":
            value = s.value if s.op == "" else BinOp(s.op, s.target, s.value)
            return [Assign(Index(self.expr(base), self.expr(index)), self.expr(value))]
        value = self.expr(s.value)
        out = [ExprStmt(value)] if any(isinstance(n, Call) and n.name == TOUCH for n in walk(value)) else []
        if kind == "buffer":
            out.append(ExprStmt(self.touch(BinOp("+", self.offset(base), self.expr(index)), Const(1, DType.int32))))
        return out

    def byte_call(self, call: Call) -> list[Stmt]:
        """Touches of the buffer's elements a memcpy/memset covers. Into a local array it is done for real
        when its source is known (the caller's memory, a local array), else the array holds unknown values."""
        if len(call.args) != 3:
            raise _Unprobeable
        dst, src, size = call.args
        count = BinOp("/", BinOp("+", Cast(_LONG, self.expr(size)), Const(self.element_bytes - 1, DType.int32)),
                      Const(self.element_bytes, DType.int32))
        memset = call.name.removeprefix("std::") == "memset"
        pointers = (dst,) if memset else (dst, src)
        touched = [ExprStmt(self.touch(self.offset(p), count)) for p in pointers
                   if self.is_pointer(p) and self.root(p) == self.buffer]
        self.check_dropped(*(p for p in pointers if not (self.is_pointer(p) and self.root(p) == self.buffer)))
        if self.read_kind(dst) == "local":
            if memset or self.read_kind(src) in ("local", "readable"):
                return touched + [ExprStmt(_map_children(call, self.expr))]
            self.unknown_arrays.add(self.root(dst))
        elif self.root(dst) is None:
            self.unknown_arrays |= self.aliasable
        return touched

    # -- the function --
    def function(self, name: str) -> Function:
        body = self.block(self.fn.body.body)
        body = _Steering(self).check_and_prune(body)
        body = transform(body, lambda n: Const(0, DType.int32) if n == Var(_UNKNOWN) else
                         n.args[0] if isinstance(n, Call) and n.name == TOUCH + "_read" else None)
        stmts = (Decl(self.extent, _SIZE_T, Const(0, DType.int32)),) + body.body + (Return(Var(self.extent)),)
        return Function(name, _SIZE_T, self.fn.params, Block(stmts), frozenset({FuncQual.static}))


class _Steering:
    """Which variables hold values the host cannot know (taint), whether any of them steers what the probe must
    get right, and the probe without the statements that only compute such values."""

    def __init__(self, probe: _Probe):
        self.probe = probe
        self.tainted: set[str] = set(probe.unknown_arrays)

    def unknown(self, e: Node | None) -> bool:
        return e is not None and any(isinstance(n, Var) and (n.name == _UNKNOWN or n.name in self.tainted) or
                                     isinstance(n, Call) and n.name == TOUCH + "_read" for n in walk(e))

    def check_and_prune(self, body: Block) -> Block:
        grown = True
        while grown:
            before = len(self.tainted)
            self.taint(body, False)
            grown = len(self.tainted) > before
        self.check(body, ())
        return self.prune(body)

    def taint(self, node: Node, steered: bool) -> None:
        """Variables defined from unknown values, or under a branch or loop an unknown value steers."""
        steered = steered or self.unknown(_condition(node))
        if isinstance(node, Decl):
            if steered or self.unknown(node.init):
                self.tainted.add(node.name)
            return
        if isinstance(node, Assign):
            root = _root_name(node.target)
            if root is not None and (steered or self.unknown(node.value) or self.unknown(node.target)):
                self.tainted.add(root)
            return
        if isinstance(node, ExprStmt):
            for n in walk(node.expr):
                if isinstance(n, UnaryOp) and n.op in ("++", "--") and isinstance(n.operand, Var) and steered or \
                        isinstance(n, BinOp) and n.op in ASSIGN_OPS and isinstance(n.lhs, Var) and (
                            steered or self.unknown(n.rhs)):
                    self.tainted.add(n.operand.name if isinstance(n, UnaryOp) else n.lhs.name)
            return
        for child in _statements(node):
            self.taint(child, steered)

    def check(self, node: Node, conditions: tuple[Expr, ...]) -> None:
        """Unknown values must not steer an access of the buffer, a read of the caller's memory or an exit."""
        if _condition(node) is not None:
            self.check_expr(_condition(node), conditions)
            conditions = conditions + (_condition(node),)
        if isinstance(node, (Return, Break, Continue)) and any(self.unknown(c) for c in conditions):
            raise _Unprobeable
        if isinstance(node, (Decl, Assign, ExprStmt)):
            for e in _expressions(node):
                self.check_expr(e, conditions)
            return
        for child in _statements(node):
            self.check(child, conditions)

    def check_expr(self, e: Expr, conditions: tuple[Expr, ...]) -> None:
        if isinstance(e, Select):
            self.check_expr(e.cond, conditions)
            for branch in (e.then, e.otherwise):
                self.check_expr(branch, conditions + (e.cond,))
            return
        if isinstance(e, BinOp) and e.op in ("&&", "||"):
            self.check_expr(e.lhs, conditions)
            self.check_expr(e.rhs, conditions + (e.lhs,))
            return
        steered = any(self.unknown(c) for c in conditions)
        if isinstance(e, Call) and e.name == TOUCH:
            if steered or any(self.unknown(a) for a in e.args[1:]):
                raise _Unprobeable
        if isinstance(e, Index) and self.probe.read_kind(e.base) == "readable":
            if steered or self.unknown(e.index) or self.unknown(e.base):
                raise _Unprobeable
        for child in _expressions(e):
            self.check_expr(child, conditions)

    def prune(self, block: Block) -> Block:
        """Definitions of unknown values go (keeping the accesses they note); branches and loops left empty go."""
        out: list[Stmt] = []
        for s in block.body:
            touches = [ExprStmt(t) for e in _expressions(s) if (t := _touches_only(e)) is not None] \
                if isinstance(s, (Decl, Assign, ExprStmt)) else []
            if isinstance(s, Decl) and s.name in self.tainted:
                out += [_uninitialized(s)] + touches
            elif isinstance(s, Assign) and _root_name(s.target) in self.tainted or \
                    isinstance(s, ExprStmt) and self.unknown(s.expr):
                out += touches
            elif isinstance(s, Block):
                out.append(self.prune(s))
            elif isinstance(s, (If, For, While, DoWhile, Switch)) and not self.unknown(_condition(s)):
                # a branch or loop an unknown value steers holds nothing the probe needs (check made sure)
                kept = _map_blocks(s, self.prune)
                if any(not isinstance(x, (Decl, Block)) for b in _blocks(kept) for x in walk(b)):
                    out.append(kept)
            else:
                out.append(s)
        return Block(tuple(out))


def _touches_only(e: Expr) -> Expr | None:
    """An expression making the touches `e` makes, under the same conditions (`c ? a : b`, `&&`, `||`) and in the
    same order, and computing nothing else; None when `e` touches nothing."""
    if isinstance(e, Call) and e.name == TOUCH:
        return e
    zero = Const(0, DType.int32)
    if isinstance(e, Select):
        then, otherwise = _touches_only(e.then), _touches_only(e.otherwise)
        if then is None and otherwise is None:
            return _touches_only(e.cond)
        return _sequence([_touches_only(e.cond), Select(e.cond, then or zero, otherwise or zero)])
    if isinstance(e, BinOp) and e.op in ("&&", "||"):
        right = _touches_only(e.rhs)
        if right is None:
            return _touches_only(e.lhs)
        return BinOp(e.op, e.lhs, BinOp(",", right, Const(e.op == "||", DType.int32)))  # lhs: known (checked)
    return _sequence([_touches_only(c) for c in _expressions(e)])


def _sequence(parts: list[Expr | None]) -> Expr | None:
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    out = parts[0]
    for p in parts[1:]:
        out = BinOp(",", out, p)
    return out


def _uninitialized(d: Decl) -> Decl:
    """The declaration without its value (set later, or never needed), so no longer const."""
    mutable = dataclasses.replace(d.type, const=False) if hasattr(d.type, "const") else d.type
    return dataclasses.replace(d, init=None, type=mutable)


def _condition(node: Node) -> Expr | None:
    """What decides whether (or how often, or where) a statement's body runs."""
    return node.value if isinstance(node, Switch) else node.cond if isinstance(node, (If, While, DoWhile, For)) \
        else None


def _root_name(target: Expr) -> str | None:
    while isinstance(target, (Index, Member)) or isinstance(target, UnaryOp) and target.op == "*":
        target = target.operand if isinstance(target, UnaryOp) else target.base
    return target.name if isinstance(target, Var) else None


def _statements(node: Node) -> list[Stmt]:
    if isinstance(node, Block):
        return list(node.body)
    if isinstance(node, If):
        return [node.then] + ([node.otherwise] if node.otherwise is not None else [])
    if isinstance(node, For):
        return list(node.init) + ([node.step] if node.step is not None else []) + [node.body]
    if isinstance(node, (While, DoWhile, Switch)):
        return [node.body]
    return []


def _blocks(node: Node) -> list[Block]:
    return [b for b in _statements(node) if isinstance(b, Block)]


def _map_blocks(node: Stmt, fn) -> Stmt:
    if isinstance(node, Block):
        return fn(node)
    if isinstance(node, If):
        return dataclasses.replace(node, then=fn(node.then),
                                   otherwise=fn(node.otherwise) if node.otherwise is not None else None)
    return dataclasses.replace(node, body=fn(node.body))


def _expressions(node: Node) -> list[Expr]:
    """The direct sub-expressions of a simple statement or an expression."""
    out = []
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        for v in value if isinstance(value, tuple) else (value,):
            if _is_expr(v) and not isinstance(v, (Block, SizeOf)):
                out.append(v)
    return out


def _map_children(e: Expr, fn) -> Expr:
    changes = {}
    for f in dataclasses.fields(e):
        value = getattr(e, f.name)
        if isinstance(value, tuple) and any(isinstance(v, Node) for v in value):
            changes[f.name] = tuple(fn(v) if _is_expr(v) else v for v in value)
        elif _is_expr(value):
            changes[f.name] = fn(value)
    return dataclasses.replace(e, **changes) if changes else e


def _is_expr(v: object) -> bool:
    return isinstance(v, Node) and not isinstance(v, _TYPES)


def _stores_through_pointer(e: Expr) -> bool:
    return any(isinstance(n, BinOp) and n.op in ASSIGN_OPS and not isinstance(n.lhs, Var) or
               isinstance(n, UnaryOp) and n.op in ("++", "--") and not isinstance(n.operand, Var) for n in walk(e))


def _stored_pointers(body: Block) -> list[Expr]:
    """Pointer expressions the body stores through (targets' bases, memcpy/memset destinations)."""
    out: list[Expr] = []
    for n in walk(body):
        target = n.target if isinstance(n, Assign) else n.lhs if isinstance(n, BinOp) and n.op in ASSIGN_OPS else \
            n.operand if isinstance(n, UnaryOp) and n.op in ("++", "--") else None
        if isinstance(target, Index):
            out.append(target.base)
        elif isinstance(target, UnaryOp) and target.op == "*":
            out.append(target.operand)
        elif isinstance(target, Member) and target.arrow:
            out.append(target.base)
        if isinstance(n, Call) and n.name.removeprefix("std::") in ("memcpy", "memset", "memmove") and n.args:
            out.append(n.args[0])
    return out


def _bytes(t) -> int | None:
    return t.dtype.bits // 8 if isinstance(t, ScalarType) and t.dtype.bits else None


def _fresh(base: str, taken: set[str]) -> str:
    name = next(f"{base}{k or ''}" for k in range(len(taken) + 1) if f"{base}{k or ''}" not in taken)
    taken.add(name)
    return name
