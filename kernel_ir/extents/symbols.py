"""The SymPy vocabulary of the analysis: parameter and launch symbols, and the functions Sel (a C `?:`), Min,
Max (cheap to rebuild) and When (a value valid under conditions) that bounds are written in."""

from __future__ import annotations

import sympy as sp

LAUNCH_NAMES = ("gridDim_x", "gridDim_y", "gridDim_z", "blockDim_x", "blockDim_y", "blockDim_z",
                 "taskDim", "taskDimX", "taskDimY", "taskDimZ", "coreDim", "clusterDim")


def param_symbol(name: str) -> sp.Symbol:
    return sp.Symbol(name, integer=True, nonnegative=True)


def launch_symbol(name: str) -> sp.Symbol:
    return sp.Symbol(name, integer=True, positive=True)


def _dims(value: object) -> tuple[int, int, int]:
    dims = (value,) if isinstance(value, int) else tuple(value)  # type: ignore[arg-type]
    return tuple(int(d) for d in (dims + (1, 1, 1))[:3])  # type: ignore[return-value]


def launch_values(launch: dict) -> dict[sp.Symbol, sp.Integer]:
    """Launch dict (executor form or symbol names) -> values of the launch symbols it fixes."""
    values: dict[str, int] = {}
    if "grid" in launch:
        values.update(zip(("gridDim_x", "gridDim_y", "gridDim_z"), _dims(launch["grid"])))
    if "block" in launch:
        values.update(zip(("blockDim_x", "blockDim_y", "blockDim_z"), _dims(launch["block"])))
    if "task_dim" in launch:
        x, y, z = _dims(launch["task_dim"])
        values.update(taskDimX=x, taskDimY=y, taskDimZ=z, taskDim=x * y * z)
    if "cores_per_cluster" in launch:
        values["coreDim"] = int(launch["cores_per_cluster"])
        if "taskDim" in values:
            values["clusterDim"] = max(1, values["taskDim"] // values["coreDim"])
    values.update({k: int(v) for k, v in launch.items() if k in LAUNCH_NAMES})
    return {launch_symbol(k): sp.Integer(v) for k, v in values.items()}


THREAD_DIMS = frozenset(launch_symbol(n) for n in LAUNCH_NAMES[:6])


class Sel(sp.Function):
    """Sel(k, a, b): `a` where condition number k of the analysis holds, else `b` (a C `?:` on integers)."""

    nargs = 3

    @classmethod
    def eval(cls, k, a, b):  # noqa: ANN001 - SymPy protocol
        if a == b:
            return a
        return None

    def _eval_is_integer(self):  # noqa: ANN202 - SymPy protocol
        return True if self.args[1].is_integer and self.args[2].is_integer else None


class _Extremum(sp.Function):
    """Min/Max whose construction only flattens, dedupes and folds numbers: SymPy's own Min/Max compare their
    arguments symbolically on every rebuild, which dominates the run time of the analysis."""

    pick = min

    @classmethod
    def eval(cls, *args):  # noqa: ANN001, ANN206 - SymPy protocol
        flat: list[sp.Expr] = []
        for a in args:
            flat.extend(a.args if isinstance(a, cls) else (a,))
        numbers = [a for a in flat if a.is_Number]
        if len(numbers) > 1:
            best = cls.pick(numbers)
            flat = [a for a in flat if not a.is_Number] + [best]
        unique = list(dict.fromkeys(flat))
        if len(unique) == 1:
            return unique[0]
        if len(unique) != len(args) or any(isinstance(a, cls) for a in args):
            return cls(*unique)
        return None

    def _eval_is_integer(self):  # noqa: ANN202 - SymPy protocol
        return True if all(a.is_integer for a in self.args) else None


class Min(_Extremum):
    pick = min

    def _eval_is_nonnegative(self):  # noqa: ANN202 - SymPy protocol
        return True if all(a.is_nonnegative for a in self.args) else None


class Max(_Extremum):
    pick = max

    def _eval_is_nonnegative(self):  # noqa: ANN202 - SymPy protocol
        return True if any(a.is_nonnegative for a in self.args) else None


class When(sp.Function):
    """When(value, a1, a2, ...): value where every a_i <= 0, else -oo. The bound of one case of an access is
    valid only for the parameters that make the case possible (a Max ignores the impossible ones)."""

    @classmethod
    def eval(cls, value, *atoms):  # noqa: ANN001, ANN206 - SymPy protocol
        if any(a.is_Number and a > 0 for a in atoms):
            return sp.S.NegativeInfinity
        pending = [a for a in atoms if not a.is_Number]
        if not pending:
            return value
        if len(pending) != len(atoms):
            return cls(value, *pending)
        return None


def to_sympy(e: sp.Expr) -> sp.Expr:
    """e with our Min/Max/When turned into SymPy's Min/Max/Piecewise (unevaluated), for callers."""
    if isinstance(e, (Min, Max)):
        target = sp.Min if isinstance(e, Min) else sp.Max
        return target(*[to_sympy(a) for a in e.args], evaluate=False)
    if isinstance(e, When):
        condition = sp.And(*[sp.Le(to_sympy(a), 0) for a in e.args[1:]])
        return sp.Piecewise((to_sympy(e.args[0]), condition), (sp.S.NegativeInfinity, True))
    if not e.args or not e.has(Min, Max, When):
        return e
    return e.func(*[to_sympy(a) for a in e.args])
