"""The symbolic interpretation of one entry point: it runs the entry once over symbolic values, collects
every access of its pointer parameters with the path condition under which it happens, and bounds them."""

from __future__ import annotations

import dataclasses

import sympy as sp

from kernel_ir.extents.bounder import Bounder, Unbounded
from kernel_ir.extents.calls import CallRules
from kernel_ir.extents.conditions import FALSE, TRUE, Atom, Cond, compare, cond_not
from kernel_ir.extents.expressions import ExpressionRules
from kernel_ir.extents.extent import Extent
from kernel_ir.extents.intrinsics import IntrinsicRules
from kernel_ir.extents.launch import LaunchRules
from kernel_ir.extents.memory import MemoryRules
from kernel_ir.extents.prover import assuming, ceildiv, fact_forms, nonneg, reset, work_done
from kernel_ir.extents.statements import StatementRules
from kernel_ir.extents.symbols import THREAD_DIMS, Max, Min, Sel, launch_values, param_symbol, to_sympy
from kernel_ir.extents.tidy import TIDY_PROOFS, TIDY_WORK, Budget, finish
from kernel_ir.extents.values import (
    Access, BoolV, DimV, Frame, IntV, Loop, PtrV, RefV, Value, is_buffer, is_int_type, pointee_of, type_size,
)
from kernel_ir.ir import (
    ArrayType, DType, Function, Module, NamedType, Param, PointerType, ReferenceType, ScalarType, Type, VectorType,
)


def infer_extents(module: Module, entry: str, scalars: dict[str, int] | None = None,
                  launch: dict | None = None) -> dict[str, Extent]:
    """Extent of every pointer parameter of `entry`, by parameter name.

    scalars: known values of integer parameters (substituted before the analysis);
    launch: {"grid": (gx, gy, gz), "block": (bx, by, bz)} for a CUDA/HIP kernel, {"task_dim": (x, y, z),
    "cores_per_cluster": c} for BANG, or launch symbol names (gridDim_x, taskDim...) mapped to ints.
    """
    function = module.function(entry)
    reset()  # the same answer whatever the process analysed before
    analysis = Analysis(module, scalars or {}, launch or {})
    analysis.run(function)
    return {p.name: analysis.extent_of(p) for p in function.params if is_buffer(p.type)}


class Analysis(StatementRules, ExpressionRules, MemoryRules, CallRules, IntrinsicRules, LaunchRules):
    """Symbolic interpretation of one entry point, collecting the accesses of its pointer parameters."""

    def __init__(self, module: Module, scalars: dict[str, int], launch: dict):
        self.module = module
        self.dialect = module.dialect
        self.functions: dict[str, list[Function]] = {}
        for f in module.functions:
            if f.body is not None:
                self.functions.setdefault(f.name, []).append(f)
        self.scalars = {k: sp.Integer(int(v)) for k, v in scalars.items()}
        self.launch_given = bool(launch)
        self.launch = launch_values(launch)
        self.conditions: list[Cond] = []
        self.condition_ids: dict[Cond, int] = {}
        self.abstractions: dict[sp.Expr, sp.Symbol] = {}
        self.definitions: dict[sp.Symbol, sp.Expr] = {}
        self.order: dict[sp.Symbol, int] = {}
        self.origins: dict[sp.Symbol, str] = {}
        self.builtin_atoms: list[Atom] = []
        self.builtins: dict[str, sp.Expr] = {}
        self.accesses: list[Access] = []
        self.untracked_lanes: set[sp.Symbol] = set()  # stand-ins for lane bits of masks we do not follow
        self.frames: list[Frame] = []
        self.loops: list[Loop] = []
        self.globals: dict[str, Value] = {}
        self.global_types: dict[str, Type] = {}
        self.bounder = Bounder(self.conditions, self.order, self.origins)
        self._counter = 0
        self._builtin_rank = -10_000

    # ------------------------------------------------------------------------------------------ driver --

    def run(self, entry: Function) -> None:
        self.frames.append(Frame({}, {}, 0))
        for g in self.module.globals:
            self.global_types[g.name] = g.type
            value = self.ev(g.init, ()) if g.init is not None else None
            self.globals[g.name] = self.retype(value, g.type, g.name)
        env: dict[str, Value] = {}
        for p in entry.params:
            if is_buffer(p.type):
                env[p.name] = PtrV(p.name, sp.Integer(0), pointee_of(p.type))
            elif is_int_type(p.type):
                env[p.name] = IntV(self.scalars.get(p.name, param_symbol(p.name)))
            else:
                env[p.name] = None
        self.frames[-1] = Frame(env, {p.name: p.type for p in entry.params}, 0)
        if entry.body is not None:
            self.exec_block(entry.body, ())

    def extent_of(self, param: Param) -> Extent:
        """Bound every access of param; host copies, when there are any, are what sizes a host buffer."""
        accesses = [a for a in self.accesses if a.param == param.name]
        pointee = pointee_of(param.type)
        dtype = pointee.dtype if isinstance(pointee, (ScalarType, VectorType)) else None
        reads = any(a.read for a in accesses)
        writes = any(a.write for a in accesses)
        copies = [a for a in accesses if a.copy]
        used = copies or accesses
        source = "allocation" if copies else "indices"
        if not accesses:
            return Extent(param.name, sp.Integer(0), False, False, source, "the entry never touches it", dtype,
                          exact=True)
        try:
            return self.bound_accesses(param.name, used, pointee, (reads, writes, source, dtype))
        except RecursionError:  # SymPy recurses on deeply nested expressions: no bound, said plainly
            return Extent(param.name, None, reads, writes, source, "the index expressions nest too deeply to bound",
                          dtype)

    def bound_accesses(self, name: str, used: list[Access], pointee: Type | None, about: tuple) -> Extent:
        """The extent of one parameter from the accesses that size it (about: reads, writes, source, dtype)."""
        reads, writes, source, dtype = about
        elem = (type_size(pointee) if pointee is not None else None) or 1
        self.bounder.start_extent()
        ends = []
        for access in used:
            if access.end is None:
                return Extent(name, None, reads, writes, source, access.why, dtype)
            try:
                bound = self.bounder.maximum(access.end, tuple(self.builtin_atom_conds()) + access.path)
            except Unbounded as err:
                return Extent(name, None, reads, writes, source, str(err), dtype)
            if bound is not None:
                ends.append(bound)
        overcount = None if all(access.exact for access in used) else \
            "it counts every lane of a masked access whose mask's lanes are not followed"
        exact = not self.bounder.relaxed and overcount is None
        if not ends:
            return Extent(name, sp.Integer(0), reads, writes, source, "no access can happen", dtype, exact,
                          overcount)
        launch_free = not self.launch_given
        work_limit = work_done() + TIDY_WORK
        total = Max(*[finish(e, launch_free, Budget(TIDY_PROOFS // 4, work_limit)) for e in ends])
        total = finish(total, launch_free, Budget(TIDY_PROOFS, work_limit))
        total = finish(self.expand_definitions(total), launch_free, Budget(TIDY_PROOFS, work_limit))
        elements = finish(ceildiv(sp.floor(total), elem), launch_free, Budget(TIDY_PROOFS // 4, work_limit))
        return Extent(name, to_sympy(elements), reads, writes, source, None, dtype, exact, overcount)

    # ---------------------------------------------------------------------------------------- symbols --

    def fresh(self, name: str, origin: str, rank: int | None = None) -> sp.Symbol:
        self._counter += 1
        symbol = sp.Symbol(f"{name}_{self._counter}", integer=True)
        self.order[symbol] = self._counter if rank is None else rank
        self.origins[symbol] = origin
        return symbol

    def opaque(self, origin: str) -> IntV:
        return IntV(self.fresh("u", origin))

    def sel(self, cond: Cond, a: sp.Expr, b: sp.Expr) -> sp.Expr:
        """The integer `cond ? a : b`."""
        if cond == TRUE:
            return a
        if cond == FALSE:
            return b
        if cond is not None and len(cond) == 1 and len(cond[0]) == 1:
            # `a < b ? a : b` and the like are Min/Max, which bound without splitting cases
            atom = sp.expand(cond[0][0])
            difference = sp.expand(a - b)
            if atom in (difference, difference + 1):
                return Min(a, b)
            if atom in (-difference, 1 - difference):
                return Max(a, b)
        if cond not in self.condition_ids:
            self.condition_ids[cond] = len(self.conditions)
            self.conditions.append(cond)
        return Sel(sp.Integer(self.condition_ids[cond]), a, b)

    def as_int(self, value: Value) -> Value:
        """A condition used as an integer is the choice `cond ? 1 : 0`; other values are unchanged."""
        if isinstance(value, BoolV):
            return IntV(self.sel(value.cond, sp.Integer(1), sp.Integer(0)))
        return value

    # --------------------------------------------------------------------------------------- recording --

    def record(self, pointer: Value, length: sp.Expr | None, path: tuple[Cond, ...], read: bool, write: bool,
               copy: bool = False, what: str = "", exact: bool = True) -> None:
        """An access of `length` bytes at `pointer` (nothing is recorded for non-parameter memory); exact is
        False when `length` only bounds what it touches."""
        if not isinstance(pointer, PtrV) or pointer.param is None:
            return
        if pointer.offset is None or length is None:
            why = pointer.why or f"the size of {what or 'an access'} is not an integer expression we follow"
            self.accesses.append(Access(pointer.param, None, path, read, write, copy, why))
            return
        nonempty = compare(">=", length, sp.Integer(1))
        exact = exact and not any(self.symbols_of(atom) & self.untracked_lanes
                                  for cond in path if cond is not None for conj in cond for atom in conj)
        self.accesses.append(Access(pointer.param, pointer.offset + length, path + (nonempty,), read, write, copy,
                                    exact=exact))

    def escape(self, pointer: Value, path: tuple[Cond, ...], why: str) -> None:
        if isinstance(pointer, PtrV) and pointer.param is not None:
            self.accesses.append(Access(pointer.param, None, path, True, True, False, why))

    # ------------------------------------------------------------------------------------- environment --

    @property
    def frame(self) -> Frame:
        return self.frames[-1]

    def lookup(self, name: str) -> Value:
        value = self.frame.env[name] if name in self.frame.env else self.globals.get(name)
        if isinstance(value, RefV) and value.auto:
            return value.get()
        return value

    def type_of(self, name: str) -> Type | None:
        return self.frame.types.get(name, self.global_types.get(name))

    def set_var(self, name: str, value: Value) -> None:
        current = self.frame.env.get(name)
        if isinstance(current, RefV) and current.auto:
            self.write_ref(current, value)
        elif name in self.frame.env or name not in self.globals:
            self.frame.env[name] = self.retype(value, self.type_of(name), name)
        else:
            self.globals[name] = self.retype(value, self.global_types.get(name), name)

    def write_ref(self, ref: RefV, value: Value) -> None:
        ref.frame.env[ref.name] = self.retype(value, ref.frame.types.get(ref.name), ref.name)

    def retype(self, value: Value, t: Type | None, name: str = "") -> Value:
        """A value as stored in a variable of type t (pointers take the variable's pointee)."""
        if isinstance(value, RefV):
            return value
        if isinstance(t, ReferenceType):
            t = t.referee
        if isinstance(t, ArrayType):
            return value if isinstance(value, PtrV) else PtrV(None, None, t.element)
        if isinstance(t, PointerType):
            if isinstance(value, PtrV):
                return dataclasses.replace(value, pointee=t.pointee)
            return PtrV(None, None, t.pointee) if value is None or isinstance(value, IntV) else None
        if is_int_type(t):
            value = self.as_int(value)
            if isinstance(t, ScalarType) and t.dtype == DType.bool and isinstance(value, IntV):
                return BoolV(compare("!=", value.expr, sp.Integer(0)))
            if isinstance(value, IntV) and name:
                return IntV(self.abstract(name, value.expr))
            return value if isinstance(value, IntV) else None
        if isinstance(t, NamedType) and t.name == "dim3":
            return value if isinstance(value, DimV) else None
        if isinstance(t, (ScalarType, VectorType)):
            return None  # floating point
        return value

    def abstract(self, name: str, expr: sp.Expr) -> sp.Expr:
        """A size computed from the parameters (OH, tiles, per_task...) becomes a symbol of its own, defined
        by the expression: bounds stay small and keep their correlations; definitions are put back at the end."""
        if expr.is_Number or expr.is_Symbol or self.symbols_of(expr) & (self.order.keys() | THREAD_DIMS):
            return expr
        if any(p.base == 2 for p in expr.atoms(sp.Pow)):
            return expr  # a lane mask (1 << k) - 1: its form tells how many lanes it enables
        if expr not in self.abstractions:
            self._counter += 1
            known = {"positive": True} if self.holds_nonneg(expr - 1) else (
                {"nonnegative": True} if self.holds_nonneg(expr) else {})
            symbol = sp.Symbol(f"{name}_{self._counter}", integer=True, **known)
            self.abstractions[expr] = symbol
            self.definitions[symbol] = expr
        return self.abstractions[expr]

    def symbols_of(self, expr: sp.Expr) -> set[sp.Symbol]:
        """The free symbols of expr and of the conditions of its Sel terms."""
        symbols = set(expr.free_symbols)
        for sel in expr.atoms(Sel):
            cond = self.conditions[int(sel.args[0])]
            for conj in cond or ():
                for atom in conj:
                    symbols |= self.symbols_of(atom)
        return symbols

    def holds_nonneg(self, e: sp.Expr, facts: tuple[sp.Expr, ...] = (), depth: int = 0) -> bool:
        """nonneg(e), with each choice Sel(k, a, b) checked on both sides under the condition of that side."""
        sels = e.atoms(Sel)
        if not sels:
            with assuming(facts):
                return nonneg(e)
        if depth > 4:
            return False
        sel = min(sels, key=sp.default_sort_key)
        k, a, b = sel.args
        cond = self.conditions[int(k)]
        for value, branch in ((a, cond), (b, cond_not(cond))):
            for conj in (branch if branch is not None else TRUE):
                side_facts = facts + fact_forms(-atom for atom in conj)
                if not self.holds_nonneg(e.xreplace({sel: value}), side_facts, depth + 1):
                    return False
        return True

    def expand_definitions(self, e: sp.Expr) -> sp.Expr:
        """e in the entry's parameters: derived sizes replaced by their definitions, choices by Piecewise."""
        for _ in range(len(self.definitions) + len(self.conditions) + 1):
            if not e.free_symbols & self.definitions.keys() and not e.has(Sel):
                break
            e = self.sels_to_piecewise(e.xreplace(self.definitions))
        return e

    def sels_to_piecewise(self, e: sp.Expr) -> sp.Expr:
        def convert(sel: sp.Expr) -> sp.Expr:
            k, a, b = sel.args
            cond = self.conditions[int(k)]
            if cond is None:
                return Max(a, b)
            holds = sp.Or(*[sp.And(*[sp.Le(atom, 0) for atom in conj]) for conj in cond])
            return sp.Piecewise((a, holds), (b, True))

        return e.replace(lambda x: isinstance(x, Sel), convert) if e.has(Sel) else e

    def havoc(self, names: set[str], why: str) -> None:
        for name in sorted(names):
            if name.startswith("*"):  # written through a pointer: a caller's variable, if it is one
                ref = self.lookup(name[1:])
                if isinstance(ref, RefV):
                    self.write_ref(ref, self.opaque(f"{ref.name}, which {why}") if isinstance(ref.get(), IntV)
                                   else None)
                continue
            value = self.lookup(name)
            if isinstance(value, IntV):
                self.set_var(name, self.opaque(f"{name}, which {why}"))
            elif isinstance(value, PtrV) and value.param is not None:
                self.set_var(name, PtrV(value.param, None, value.pointee, f"pointer {name} {why}"))
            elif isinstance(value, BoolV):
                self.set_var(name, BoolV(None))
