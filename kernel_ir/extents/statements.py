"""Statements: both branches of an `if` under their conditions (merged into choices after), loop bodies once
with the counter a range variable, and what a loop leaves behind (exit values, induction variables)."""

from __future__ import annotations

import dataclasses

import sympy as sp

from kernel_ir.extents.conditions import FALSE, TRUE, Atom, Cond, compare, cond_not, cond_or
from kernel_ir.extents.monotone import is_linear
from kernel_ir.extents.prover import floordiv, nonneg
from kernel_ir.extents.symbols import Max, Min
from kernel_ir.extents.values import IntV, Loop, PtrV, Value
from kernel_ir.ir import (
    Assign, BinOp, Block, Break, Call, Case, Continue, Decl, DoWhile, Expr, ExprStmt, For, If, Index, InitList,
    KernelLaunch, Node, Pragma, Return, Stmt, Switch, Type, UnaryOp, Var, While, walk,
)


class StatementRules:
    """Control flow (a part of Analysis)."""

    def exec_block(self, block: Block, path: tuple[Cond, ...]) -> tuple[Cond, ...] | None:
        """Run a block; the path after it, or None when it always leaves (return/break/continue)."""
        declared: dict[str, tuple[bool, Value, Type | None]] = {}
        env, types = self.frame.env, self.frame.types
        result: tuple[Cond, ...] | None = path
        for stmt in block.body:
            if isinstance(stmt, Decl) and stmt.name not in declared:
                declared[stmt.name] = (stmt.name in env, env.get(stmt.name), types.get(stmt.name))
            result = self.exec(stmt, result)
            if result is None:
                break
        for name, (existed, value, t) in declared.items():
            if existed:
                env[name] = value
                if t is not None:
                    types[name] = t
            else:
                env.pop(name, None)
                types.pop(name, None)
        return result

    def exec(self, s: Stmt, path: tuple[Cond, ...]) -> tuple[Cond, ...] | None:
        """Run a statement; the path after it, or None when it always leaves."""
        if isinstance(s, Decl):
            self.frame.types[s.name] = s.type
            if s.init is not None and not isinstance(s.init, InitList):
                value = self.ev(s.init, path)
            else:
                if isinstance(s.init, InitList):
                    for item in s.init.items:
                        self.ev(item, path)
                value = None
            self.frame.env[s.name] = self.retype(value, s.type, s.name)
            self.frame.tables.pop(s.name, None)
            return path
        if isinstance(s, Assign):
            self.assign(s.target, s.value, s.op, path)
            return path
        if isinstance(s, ExprStmt):
            self.ev(s.expr, path)
            return path
        if isinstance(s, Block):
            return self.exec_block(s, path)
        if isinstance(s, If):
            return self.exec_if(s, path)
        if isinstance(s, For):
            return self.exec_for(s, path)
        if isinstance(s, (While, DoWhile)):
            return self.exec_while(s, path)
        if isinstance(s, Switch):
            return self.exec_switch(s, path)
        if isinstance(s, Return):
            value = self.ev(s.value, path) if s.value is not None else None
            self.frame.returns.append((path[self.frame.path_base:], value))
            return None
        if isinstance(s, Break):
            if self.loops:
                self.loops[-1].broke = True
            return None
        if isinstance(s, Continue):
            return None
        if isinstance(s, KernelLaunch):
            self.launch_kernel(s, path)
            return path
        if isinstance(s, Pragma):
            return self.exec(s.body, path) if s.body is not None else path
        return path  # Barrier, Case labels outside a switch, RawStmt

    def exec_if(self, s: If, path: tuple[Cond, ...]) -> tuple[Cond, ...] | None:
        """Both branches under their conditions; a branch that always leaves guards what follows."""
        cond = self.cond(s.cond, path)
        negated = cond_not(cond)
        before = [dict(f.env) for f in self.frames]  # every frame: a helper may assign its caller's variables
        then_path = self.exec_block(s.then, path + (cond,))
        then_envs = [f.env for f in self.frames]
        for f, env in zip(self.frames, before):
            f.env = dict(env)
        else_path = self.exec_block(s.otherwise, path + (negated,)) if s.otherwise else path + (negated,)
        else_envs = [f.env for f in self.frames]
        if then_path is None and else_path is None:
            return None
        if then_path is None:
            return else_path
        if else_path is None:
            for f, env in zip(self.frames, then_envs):
                f.env = env
            return then_path
        for f, a, b in zip(self.frames, then_envs, else_envs):
            f.env = self.merge(cond, a, b)
        return path

    def merge(self, cond: Cond, then_env: dict[str, Value], else_env: dict[str, Value]) -> dict[str, Value]:
        """Variables after an if/else: equal values stay, integers and offsets become choices on cond."""
        merged = {}
        for name in then_env.keys() & else_env.keys():
            a, b = then_env[name], else_env[name]
            if a is b or a == b:
                merged[name] = a
            elif isinstance(a, IntV) and isinstance(b, IntV):
                merged[name] = IntV(self.sel(cond, a.expr, b.expr))
            elif isinstance(a, PtrV) and isinstance(b, PtrV) and a.param == b.param and a.param is not None \
                    and a.offset is not None and b.offset is not None:
                merged[name] = dataclasses.replace(a, offset=self.sel(cond, a.offset, b.offset))
            elif isinstance(a, PtrV) and isinstance(b, PtrV) and a.param is None and b.param is None:
                merged[name] = a
            else:
                merged[name] = None
        return merged

    def exec_switch(self, s: Switch, path: tuple[Cond, ...]) -> tuple[Cond, ...] | None:
        """Each case under `value == label` (default and fallthrough under weaker guards)."""
        value = self.ev(s.value, path)
        before = dict(self.frame.env)
        assigned = _assigned_names(s.body)
        guard: Cond = FALSE
        live = False  # a case label was reached and no break since (fallthrough keeps the environment)
        for stmt in s.body.body:
            if isinstance(stmt, Case):
                if stmt.value is None or not isinstance(value, IntV):
                    label: Cond = TRUE
                else:
                    label_value = self.ev(stmt.value, path)
                    label = compare("==", value.expr, label_value.expr) if isinstance(label_value, IntV) else None
                if not live:
                    self.frame.env = dict(before)
                guard = cond_or(guard, label) if live else label
                live = True
                continue
            if live and self.exec(stmt, path + (guard,)) is None:
                live = False
        self.frame.env = before
        self.havoc(assigned, "is assigned in a switch")
        return path

    def exec_while(self, s: While | DoWhile, path: tuple[Cond, ...]) -> tuple[Cond, ...]:
        assigned = _assigned_names(s.body)
        self.havoc(assigned, "changes inside a loop")
        cond = self.cond(s.cond, path)
        body_path = path + (cond,) if isinstance(s, While) else path
        self.loops.append(Loop())
        self.exec_block(s.body, body_path)
        self.loops.pop()
        self.havoc(assigned, "changes inside a loop")
        return path

    def exec_for(self, s: For, path: tuple[Cond, ...]) -> tuple[Cond, ...] | None:
        """The body once, with the counter a range variable bounded by its start and the condition."""
        declared = [st.name for st in s.init if isinstance(st, Decl)]
        saved = {name: (self.frame.env.get(name), self.frame.types.get(name)) for name in declared}
        for st in s.init:
            path = self.exec(st, path) or path
        updates = _loop_updates(s.step)
        counter = _pick_counter(updates, s.cond)
        body_assigned = _assigned_names(s.body)
        # other variables the step moves by a fixed amount (`++kh, p += pitch`) follow the counter
        inductions = [u for u in updates if u is not counter and u[1] in ("add", "sub") and u[0] not in body_assigned
                      and not (_names(u[2]) & body_assigned)]
        assigned = body_assigned | (_assigned_names(s.step) if s.step is not None else set())
        followed = {u[0] for u in inductions} | ({counter[0]} if counter else set())
        self.havoc(assigned - followed, "changes inside a loop")
        body_path, exit_value, iteration, iterations = path, None, None, None
        start = self.lookup(counter[0]) if counter else None
        entry_values = {u[0]: self.lookup(u[0]) for u in inductions}
        if counter and isinstance(start, IntV):
            name, kind, step_node = counter
            step = self.ev(step_node, path) if step_node is not None else IntV(sp.Integer(1))
            value, atoms, rep = self.counter_range(name, kind, start.expr, step, path)
            self.set_var(name, IntV(value))
            cond = self.cond(s.cond, path) if s.cond is not None else TRUE
            body_path = path + ((tuple(atoms),), cond)
            exit_value = self.exit_value(kind, start.expr, step, rep, cond)
            iteration = _iteration(kind, start.expr, step, rep, value)
            if exit_value is not None and iteration is not None:
                iterations = _iteration(kind, start.expr, step, rep, exit_value, after=True)
        elif counter:
            self.havoc({counter[0]}, "changes inside a loop")
            body_path = path + (self.cond(s.cond, path),) if s.cond is not None else path
        self.step_inductions(inductions, entry_values, iteration, path)
        loop = Loop()
        self.loops.append(loop)
        self.exec_block(s.body, body_path)
        self.loops.pop()
        self.havoc(assigned - followed, "changes inside a loop")
        if counter:
            if exit_value is not None and not loop.broke:
                self.set_var(counter[0], IntV(exit_value))
            else:
                self.havoc({counter[0]}, "is the counter of a loop left early")
        self.step_inductions(inductions, entry_values, None if loop.broke else iterations, path)
        for name, (value, t) in saved.items():
            if t is None:
                self.frame.env.pop(name, None)
                self.frame.types.pop(name, None)
            else:
                self.frame.env[name], self.frame.types[name] = value, t
        return path

    def step_inductions(self, inductions: list[tuple[str, str, Expr | None]], entry: dict[str, Value],
                        count: sp.Expr | None, path: tuple[Cond, ...]) -> None:
        """Set each induction variable to its entry value moved `count` steps (havoc when count is None)."""
        for name, kind, node in inductions:
            step = self.ev(node, path) if node is not None else IntV(sp.Integer(1))
            start = entry[name]
            if count is None or not isinstance(step, IntV):
                self.set_var(name, start)
                self.havoc({name}, "changes inside a loop")
                continue
            moved = step.expr * count * (1 if kind == "add" else -1)
            if isinstance(start, IntV):
                self.set_var(name, IntV(start.expr + moved))
            elif isinstance(start, PtrV):
                self.set_var(name, self.advance(start, moved))
            else:
                self.havoc({name}, "changes inside a loop")

    def counter_range(self, name: str, kind: str, start: sp.Expr, step: Value, path: tuple[Cond, ...] = ()
                      ) -> tuple[sp.Expr, list[Atom], tuple[sp.Symbol, sp.Expr] | None]:
        """The counter's value in the body, the atoms bounding it, and (variable, stride) for constant
        strides > 1 where the counter is start + stride * variable (unless the start covers every residue
        of the stride, as a grid-stride loop's does: then the counter's values, over all starts, are one
        contiguous range, and a plain range variable bounds the index exactly where floors of
        start + stride * t would be relaxed)."""
        origin = f"loop counter {name}"
        if kind in ("mul", "div"):
            i = self.fresh(name, origin)
            return i, ([start - i] if kind == "mul" else [i - start]), None
        s = step.expr if isinstance(step, IntV) else None
        if kind == "sub" and s is not None:
            s = -s
        if s is None:
            i = self.fresh(name, origin)
            return i, [], None
        if s.is_Integer and abs(int(s)) > 1 and not (s > 0 and self.covers_residues(start, s, path)):
            t = self.fresh(f"{name}_step", f"the iteration number of loop counter {name}")
            return start + s * t, [-t], (t, s)
        i = self.fresh(name, origin)
        if nonneg(-s - 1) or (kind == "sub" and not nonneg(s - 1)):
            return i, [i - start], None
        # `i += s` (or `i -= s` with a negative s) in a loop that terminates moves i upwards
        return i, [start - i], None

    def covers_residues(self, start: sp.Expr, stride: sp.Expr, path: tuple[Cond, ...]) -> bool:
        """start is v + c with c free of range variables and v a range variable taking at least `stride`
        consecutive values (taskId in [0, taskDim - 1] with taskDim = stride)."""
        variables = [v for v in start.free_symbols if v in self.order]
        if len(variables) != 1 or not is_linear(start, variables[0]) or sp.expand(start).coeff(variables[0]) != 1:
            return False
        v = variables[0]
        atoms = [atom for cond in (*self.builtin_atom_conds(), *path) if cond is not None and len(cond) == 1
                 for atom in cond[0]]
        highs, lows = self.bounder.bounds(v, atoms)
        return bool(highs and lows) and all(nonneg(high - low + 1 - stride) for high in highs for low in lows)

    def exit_value(self, kind: str, start: sp.Expr, step: Value, rep: tuple[sp.Symbol, sp.Expr] | None,
                   cond: Cond) -> sp.Expr | None:
        """The counter's value after the loop (first value failing a one-sided condition), when known."""
        if cond is None or len(cond) != 1 or not isinstance(step, IntV) or kind not in ("add", "sub"):
            return None
        s = step.expr if kind == "add" else -step.expr
        if rep is not None:
            t, stride = rep
            highs, _ = self.bounder.bounds(t, list(cond[0]))
            if not highs:
                return None
            return start + stride * Max(0, Min(*highs) + 1)
        symbols = [v for atom in cond[0] for v in atom.free_symbols if v in self.order]
        counter = max(symbols, key=self.order.__getitem__, default=None)
        if counter is None:
            return None
        highs, lows = self.bounder.bounds(counter, list(cond[0]))
        if s == 1 and highs:
            return Max(start, Min(*highs) + 1)
        if s == -1 and lows:
            return Min(start, Max(*lows) - 1)
        return None


def _loop_updates(step: Stmt | None) -> list[tuple[str, str, Expr | None]]:
    """(variable, kind, step expression) for each update of a for step: kind add/sub (step node; None = 1)
    or mul/div; `++i, p += n` gives two."""
    if isinstance(step, ExprStmt):
        expr = step.expr
        if isinstance(expr, BinOp) and expr.op == ",":
            return _loop_updates(ExprStmt(expr.lhs)) + _loop_updates(ExprStmt(expr.rhs))
        if isinstance(expr, UnaryOp) and expr.op in ("++", "--") and isinstance(expr.operand, Var):
            return [(expr.operand.name, "add" if expr.op == "++" else "sub", None)]
        if isinstance(expr, BinOp) and isinstance(expr.lhs, Var) and expr.op in ("=", "+=", "-=", "<<=", ">>=",
                                                                                  "*=", "/="):
            return _loop_updates(Assign(expr.lhs, expr.rhs, expr.op[:-1]))
        return []
    if isinstance(step, Assign) and isinstance(step.target, Var):
        name = step.target.name
        kinds = {"+": "add", "-": "sub", "<<": "mul", "*": "mul", ">>": "div", "/": "div"}
        if step.op in kinds:
            return [(name, kinds[step.op], step.value if step.op in "+-" else None)]
        value = step.value
        if step.op == "" and isinstance(value, BinOp) and value.op in ("+", "-") and value.lhs == Var(name):
            return [(name, "add" if value.op == "+" else "sub", value.rhs)]
        if step.op == "" and isinstance(value, BinOp) and value.op == "+" and value.rhs == Var(name):
            return [(name, "add", value.lhs)]
    return []


def _pick_counter(updates: list[tuple[str, str, Expr | None]], cond: Expr | None
                  ) -> tuple[str, str, Expr | None] | None:
    """The update of the variable the condition tests (else the first one)."""
    tested = _names(cond)
    return next((u for u in updates if u[0] in tested), updates[0] if updates else None)


def _names(node: Node | None) -> set[str]:
    return {n.name for n in walk(node) if isinstance(n, Var)} if node is not None else set()


def _iteration(kind: str, start: sp.Expr, step: Value, rep: tuple[sp.Symbol, sp.Expr] | None,
               value: sp.Expr, after: bool = False) -> sp.Expr | None:
    """How many steps the counter took to reach value (for the exit value: how many iterations ran)."""
    if rep is not None:
        return floordiv(value - start, rep[1]) if after else rep[0]
    if kind not in ("add", "sub") or not isinstance(step, IntV) or step.expr not in (1, -1):
        return None
    return (value - start) * (1 if (kind == "add") == (step.expr == 1) else -1)


def _assigned_names(node: Node | None) -> set[str]:
    """Variables a statement may assign (targets of =, op=, ++, --, and &x handed to calls)."""
    names: set[str] = set()
    if node is None:
        return names
    for n in walk(node):
        if isinstance(n, Assign) and isinstance(n.target, Var):
            names.add(n.target.name)
        elif isinstance(n, Assign) and isinstance(n.target, (UnaryOp, Index)):
            pointer = n.target.operand if isinstance(n.target, UnaryOp) else n.target.base
            if isinstance(pointer, Var):
                names.add("*" + pointer.name)
        elif isinstance(n, BinOp) and n.op.endswith("=") and n.op not in ("==", "!=", "<=", ">=") \
                and isinstance(n.lhs, Var):
            names.add(n.lhs.name)
        elif isinstance(n, UnaryOp) and n.op in ("++", "--") and isinstance(n.operand, Var):
            names.add(n.operand.name)
        elif isinstance(n, Call):
            for a in n.args:
                if isinstance(a, UnaryOp) and a.op == "&" and isinstance(a.operand, Var):
                    names.add(a.operand.name)
    return names
