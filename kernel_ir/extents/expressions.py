"""Expressions: integers become SymPy expressions (C `/` on indices is floor division), pointers offsets into
their parameter, comparisons path conditions."""

from __future__ import annotations

import dataclasses

import sympy as sp

from kernel_ir.extents.conditions import Cond, compare, cond_and, cond_not, cond_or
from kernel_ir.extents.prover import floordiv
from kernel_ir.extents.symbols import Sel
from kernel_ir.extents.values import TYPE_NODES, BoolV, DimV, IntV, PtrV, RefV, Value, show_expr, type_size
from kernel_ir.ir import (
    ArrayType, BinOp, BuiltinVar, Call, Cast, Const, Construct, DType, Expr, Index, InitList, Member, MethodCall,
    NamedType, Select, SizeOf, UnaryOp, Var,
)


class ExpressionRules:
    """Values of expressions and conditions (a part of Analysis)."""

    def ev(self, e: Expr | None, path: tuple[Cond, ...]) -> Value:
        """The value of an expression; reads of parameter memory in it are recorded under path."""
        if e is None:
            return None
        if isinstance(e, Const):
            if e.value is None:
                return PtrV(None, None, None)
            if isinstance(e.value, bool) or e.dtype == DType.bool:
                return IntV(sp.Integer(int(e.value)))
            if isinstance(e.value, int):
                return IntV(sp.Integer(e.value))
            return None
        if isinstance(e, Var):
            return self.lookup(e.name)
        if isinstance(e, BuiltinVar):
            return self.builtin(e)
        if isinstance(e, BinOp):
            return self.ev_binop(e, path)
        if isinstance(e, UnaryOp):
            return self.ev_unary(e, path)
        if isinstance(e, Call):
            return self.call(e, path)
        if isinstance(e, MethodCall):
            self.ev(e.obj, path)
            for a in e.args:
                self.ev(a, path)
            return PtrV(None, None, None) if e.method == "data" else None
        if isinstance(e, Index):
            return self.element(e, path, read=True, write=False)
        if isinstance(e, Member):
            if isinstance(e.base, Var) and not e.arrow:
                return self.lookup(f"{e.base.name}.{e.field}")
            self.ev(e.base, path)
            return None
        if isinstance(e, Cast):
            return self.retype(self.ev(e.expr, path), e.type)
        if isinstance(e, Construct):
            values = [self.ev(a, path) for a in e.args]
            if isinstance(e.type, NamedType) and e.type.name == "dim3":
                dims = [v.expr if isinstance(v, IntV) else None for v in values] + [sp.Integer(1)] * 3
                return DimV(tuple(dims[:3])) if None not in dims[:3] else None
            if len(values) == 1:
                return self.retype(values[0], e.type)
            return None
        if isinstance(e, Select):
            cond = self.cond(e.cond, path)
            a = self.ev(e.then, path + (cond,))
            b = self.ev(e.otherwise, path + (cond_not(cond),))
            return self.choose(cond, a, b)
        if isinstance(e, SizeOf):
            size = type_size(self.type_of(e.arg.name)) if isinstance(e.arg, Var) else (
                type_size(e.arg) if isinstance(e.arg, TYPE_NODES) else None)
            return IntV(sp.Integer(size)) if size else None
        if isinstance(e, InitList):
            for item in e.items:
                self.ev(item, path)
            return None
        return None

    def choose(self, cond: Cond, a: Value, b: Value) -> Value:
        if isinstance(a, BoolV) and isinstance(b, BoolV):
            return BoolV(cond_or(cond_and(cond, a.cond), cond_and(cond_not(cond), b.cond)))
        a, b = self.as_int(a), self.as_int(b)
        if isinstance(a, IntV) and isinstance(b, IntV):
            return IntV(self.sel(cond, a.expr, b.expr))
        if isinstance(a, PtrV) and isinstance(b, PtrV) and a.param == b.param:
            if a.param is None:
                return a
            if a.offset is not None and b.offset is not None:
                return dataclasses.replace(a, offset=self.sel(cond, a.offset, b.offset))
        return None

    def ev_binop(self, e: BinOp, path: tuple[Cond, ...]) -> Value:
        op = e.op
        if op == "=" or (op.endswith("=") and op not in ("==", "!=", "<=", ">=")):
            return self.assign(e.lhs, e.rhs, op[:-1], path)
        if op == ",":
            self.ev(e.lhs, path)
            return self.ev(e.rhs, path)
        if op in ("&&", "||", "<", "<=", ">", ">=", "==", "!="):
            return BoolV(self.cond(e, path))
        if op == "&" and (_is_one(e.lhs) or _is_one(e.rhs)):
            shifted = e.rhs if _is_one(e.lhs) else e.lhs
            if isinstance(shifted, BinOp) and shifted.op == ">>":
                bit = self.lane_bit(self.as_int(self.ev(shifted.lhs, path)), self.as_int(self.ev(shifted.rhs, path)))
                if bit is not None:
                    return bit
                # a bit we cannot tell: either lane may run, and the accesses under it are marked as counted
                # in full (Extent.overcount)
                lane = self.fresh("lane", f"bit {show_expr(shifted.rhs)} of mask {show_expr(shifted.lhs)}")
                self.untracked_lanes.add(lane)
                return IntV(self.sel(compare("<=", lane, sp.Integer(0)), sp.Integer(1), sp.Integer(0)))
        return self.arith(op, self.ev(e.lhs, path), self.ev(e.rhs, path))

    def lane_bit(self, mask: Value, lane: Value) -> Value:
        """`(mask >> lane) & 1` for a lane mask (2^k - 1, a constant, or a choice of those): 1 exactly when
        lane < k, so the lanes a mask disables stay out of the bounds (a masked vector loop touches the enabled
        ones only)."""
        if not (isinstance(mask, IntV) and isinstance(lane, IntV)):
            return None
        m, lane_index = mask.expr, lane.expr
        if isinstance(m, Sel):
            k, a, b = m.args
            sides = [self.lane_bit(IntV(side), lane) for side in (a, b)]
            if not all(isinstance(side, IntV) for side in sides):
                return None
            return IntV(Sel(k, sides[0].expr, sides[1].expr))
        if m.is_Integer and lane_index.is_Integer:
            return IntV(sp.Integer((int(m) >> int(lane_index)) & 1)) if lane_index >= 0 else None
        plus_one = m + 1
        if plus_one.is_Integer and int(plus_one) > 0 and int(plus_one) & int(m) == 0:
            count = sp.Integer(int(plus_one).bit_length() - 1)
        elif plus_one.is_Pow and plus_one.base == 2:
            count = plus_one.exp
        else:
            return None
        return IntV(self.sel(compare("<", lane_index, count), sp.Integer(1), sp.Integer(0)))

    def arith(self, op: str, a: Value, b: Value) -> Value:
        """Integer arithmetic and pointer offsets (C `/` on indices is floor division)."""
        a, b = self.as_int(a), self.as_int(b)
        if isinstance(a, PtrV) and isinstance(b, IntV) and op in "+-":
            return self.advance(a, b.expr if op == "+" else -b.expr)
        if isinstance(a, IntV) and isinstance(b, PtrV) and op == "+":
            return self.advance(b, a.expr)
        if isinstance(a, PtrV) and isinstance(b, PtrV) and op == "-":
            if a.param == b.param and a.param is not None and None not in (a.offset, b.offset) and a.elem:
                return IntV(floordiv(a.offset - b.offset, a.elem))
            return None
        if not (isinstance(a, IntV) and isinstance(b, IntV)):
            return None
        x, y = a.expr, b.expr
        if op == "+":
            return IntV(x + y)
        if op == "-":
            return IntV(x - y)
        if op == "*":
            return IntV(x * y)
        if op == "/":
            return IntV(floordiv(x, y)) if y != 0 else None
        if op == "%":
            if y.is_Integer and x.is_Integer and y != 0:
                return IntV(sp.Integer(int(x) % int(y)))
            return IntV(sp.Mod(x, y)) if y != 0 else None
        if op == "<<":
            return IntV(x * sp.Integer(2) ** y)
        if op == ">>":
            return IntV(floordiv(x, sp.Integer(2) ** y)) if y.is_Integer else None
        if op == "&":
            return self.bit_and(x, y)
        if op in ("|", "^") and x.is_Integer and y.is_Integer:
            return IntV(sp.Integer(int(x) | int(y) if op == "|" else int(x) ^ int(y)))
        return None

    def bit_and(self, x: sp.Expr, y: sp.Expr) -> Value:
        if x.is_Integer and y.is_Integer:
            return IntV(sp.Integer(int(x) & int(y)))
        if x.is_Integer:
            x, y = y, x
        if not y.is_Integer:
            return None
        c = int(y)
        if c < 0 and (-c) & (-c - 1) == 0:  # ~(2^k - 1): round down to a multiple of 2^k
            return IntV(-c * floordiv(x, -c))
        if c >= 0 and (c + 1) & c == 0:  # 2^k - 1: the low k bits
            return IntV(sp.Mod(x, c + 1))
        return None

    def advance(self, p: PtrV, count: sp.Expr) -> PtrV:
        if p.param is None:
            return p
        if p.offset is None:
            return p
        if p.elem is None:
            return PtrV(p.param, None, p.pointee, f"arithmetic on a pointer of unknown element size into {p.param}")
        return dataclasses.replace(p, offset=p.offset + count * p.elem)

    def ev_unary(self, e: UnaryOp, path: tuple[Cond, ...]) -> Value:
        op = e.op
        if op in ("++", "--"):
            target = e.operand
            old = self.ev(target, path) if not isinstance(target, Var) else self.lookup(target.name)
            one = IntV(sp.Integer(1))
            if isinstance(target, Var):
                new = self.arith("+" if op == "++" else "-", old, one)
                self.set_var(target.name, new)
                return old if e.postfix else new
            self.write_target(target, path, read=True)
            return None
        if op == "*":
            return self.deref(e.operand, path, read=True, write=False)
        if op == "&":
            return self.address_of(e.operand, path)
        if op == "!":
            return BoolV(self.cond(e, path))
        value = self.ev(e.operand, path)
        value = self.as_int(value)
        if not isinstance(value, IntV):
            return None
        if op == "-":
            return IntV(-value.expr)
        if op == "~":
            return IntV(-value.expr - 1)
        return value

    def address_of(self, target: Expr, path: tuple[Cond, ...]) -> Value:
        if isinstance(target, Index):
            base = self.ev(target.base, path)
            index = self.ev(target.index, path)
            if isinstance(base, PtrV) and isinstance(index, IntV):
                return self.advance(base, index.expr)
            if isinstance(base, PtrV):
                return PtrV(base.param, None, base.pointee, f"index {show_expr(target.index)} is not followed")
            return None
        if isinstance(target, UnaryOp) and target.op == "*":
            return self.ev(target.operand, path)
        if isinstance(target, Var) and target.name in self.frame.env \
                and not isinstance(self.type_of(target.name), ArrayType):
            current = self.frame.env[target.name]
            if isinstance(current, RefV) and current.auto:
                return dataclasses.replace(current, auto=False)
            return RefV(self.frame, target.name)
        return PtrV(None, None, None)

    def cond(self, e: Expr, path: tuple[Cond, ...]) -> Cond:
        """A C condition as DNF atoms (None when it is not about integers we follow)."""
        if isinstance(e, BinOp) and e.op == "&&":
            a = self.cond(e.lhs, path)
            return cond_and(a, self.cond(e.rhs, path + (a,)))
        if isinstance(e, BinOp) and e.op == "||":
            a = self.cond(e.lhs, path)
            return cond_or(a, self.cond(e.rhs, path + (cond_not(a),)))
        if isinstance(e, UnaryOp) and e.op == "!":
            return cond_not(self.cond(e.operand, path))
        if isinstance(e, BinOp) and e.op in ("<", "<=", ">", ">=", "==", "!="):
            a, b = self.ev(e.lhs, path), self.ev(e.rhs, path)
            a, b = self.as_int(a), self.as_int(b)
            if isinstance(a, IntV) and isinstance(b, IntV):
                return compare(e.op, a.expr, b.expr)
            return None
        value = self.ev(e, path)
        if isinstance(value, BoolV):
            return value.cond
        if isinstance(value, IntV):
            return compare("!=", value.expr, sp.Integer(0))
        return None


def _is_one(e: Expr) -> bool:
    return isinstance(e, Const) and e.value == 1 and not isinstance(e.value, bool)
