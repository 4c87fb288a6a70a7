"""Memory accesses: element and pointer reads and writes of parameters, assignments, and local arrays filled by
a loop (`arr[i] = f(i)`), whose reads are looked up rather than lost."""

from __future__ import annotations

import dataclasses

import sympy as sp

from kernel_ir.extents.conditions import Cond
from kernel_ir.extents.symbols import Sel
from kernel_ir.extents.values import IntV, PtrV, RefV, Value, is_int_type, show_expr
from kernel_ir.ir import ArrayType, Expr, Index, Member, PointerType, Type, UnaryOp, Var


class MemoryRules:
    """Reads and writes through pointers (a part of Analysis)."""

    def element(self, e: Index, path: tuple[Cond, ...], read: bool, write: bool) -> Value:
        """p[i]: records the access when p points into a parameter; the loaded value (unknown integers)."""
        base = self.ev(e.base, path)
        index = self.ev(e.index, path)
        if isinstance(base, RefV):
            return base.get() if read else None
        if not isinstance(base, PtrV):
            return None
        if read and not write and base.param is None and isinstance(e.base, Var) and isinstance(index, IntV):
            entry = self.frame.tables.get(e.base.name)
            if entry is not None:
                counter, value = entry
                return self.substitute(value, counter, index.expr)
        pointee = base.pointee
        if isinstance(pointee, ArrayType):  # row of a multi-dimensional array
            return PtrV(None, None, pointee.element) if base.param is None else PtrV(
                base.param, None, pointee.element, "multi-dimensional array parameters are not followed")
        if base.param is not None:
            if isinstance(index, IntV):
                self.record(self.advance(base, index.expr), sp.Integer(base.elem) if base.elem else None,
                            path, read, write, what=show_expr(e))
            else:
                why = f"index {show_expr(e.index)} of {show_expr(e.base)} is not an integer expression we follow"
                self.record(PtrV(base.param, None, pointee, why), None, path, read, write)
        return self.loaded(pointee, show_expr(e)) if read else None

    def deref(self, target: Expr, path: tuple[Cond, ...], read: bool, write: bool) -> Value:
        pointer = self.ev(target, path)
        if isinstance(pointer, RefV):
            return pointer.get() if read else None
        if isinstance(pointer, PtrV) and pointer.param is not None:
            self.record(pointer, sp.Integer(pointer.elem) if pointer.elem else None, path, read, write,
                        what=f"*{show_expr(target)}")
        return self.loaded(pointer.pointee if isinstance(pointer, PtrV) else None, f"*{show_expr(target)}") \
            if read else None

    def loaded(self, pointee: Type | None, text: str) -> Value:
        """A value read from memory: integers are unknown values (they bound nothing)."""
        if is_int_type(pointee):
            return self.opaque(f"the value of {text}, loaded from memory")
        if isinstance(pointee, PointerType):
            return PtrV(None, None, pointee.pointee)
        return None

    def write_target(self, target: Expr, path: tuple[Cond, ...], read: bool) -> None:
        if isinstance(target, Index):
            self.element(target, path, read=read, write=True)
        elif isinstance(target, UnaryOp) and target.op == "*":
            self.deref(target.operand, path, read=read, write=True)
        elif isinstance(target, Member) and not isinstance(target.base, Var):
            self.write_target(target.base, path, read=True)  # a field of an element: the element is rewritten
        elif not isinstance(target, Member):
            self.ev(target, path)

    def assign(self, target: Expr, value_node: Expr, op: str, path: tuple[Cond, ...]) -> Value:
        """target op= value: variables (and out-parameters) take the value; memory targets are writes."""
        value = self.ev(value_node, path)
        if isinstance(target, Member) and isinstance(target.base, Var) and not target.arrow:
            target = Var(f"{target.base.name}.{target.field}")  # a field of a local struct: its own variable
        if isinstance(target, Var):
            if op:
                value = self.arith(op, self.lookup(target.name), value)
            self.set_var(target.name, value)
            return self.lookup(target.name)
        pointer_node = target.operand if isinstance(target, UnaryOp) and target.op == "*" else (
            target.base if isinstance(target, Index) else None)
        if isinstance(pointer_node, Var) and isinstance(self.lookup(pointer_node.name), RefV):
            ref = self.lookup(pointer_node.name)  # *out = value in a helper: the caller's variable
            if op:
                value = self.arith(op, ref.get(), value)
            self.write_ref(ref, value)
            return value
        if isinstance(target, Index) and isinstance(target.base, Var):
            self.fill_table(target.base.name, target.index, value if not op else None, path)
        self.write_target(target, path, read=bool(op))
        return value

    def substitute(self, value: Value, symbol: sp.Symbol, replacement: sp.Expr) -> Value:
        """value with symbol replaced, inside the conditions of its Sel terms too."""
        def rewrite(e: sp.Expr) -> sp.Expr:
            e = e.replace(lambda x: isinstance(x, Sel), lambda x: self.sel(
                self.substitute_cond(self.conditions[int(x.args[0])], symbol, replacement), x.args[1], x.args[2]))
            return e.xreplace({symbol: replacement})

        if isinstance(value, IntV):
            return IntV(rewrite(value.expr))
        if isinstance(value, PtrV) and value.offset is not None:
            return dataclasses.replace(value, offset=rewrite(value.offset))
        return value

    @staticmethod
    def substitute_cond(cond: Cond, symbol: sp.Symbol, replacement: sp.Expr) -> Cond:
        if cond is None:
            return None
        return tuple(tuple(a.xreplace({symbol: replacement}) for a in conj) for conj in cond)

    def fill_table(self, name: str, index_node: Expr, value: Value, path: tuple[Cond, ...]) -> None:
        """Remember `arr[i] = f(i)` for a local array filled by a loop over i (masks, row pointers)."""
        if not isinstance(self.lookup(name), PtrV) or self.lookup(name).param is not None:
            return
        index = self.ev(index_node, path)
        tables = self.frame.tables
        usable = isinstance(index, IntV) and index.expr in self.order and isinstance(value, (IntV, PtrV))
        if usable and name not in tables:
            tables[name] = (index.expr, value)
        elif tables.get(name) != ((index.expr, value) if usable else None):
            tables[name] = None
