"""The result of the extent analysis: how much of one pointer parameter an entry touches."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from kernel_ir.extents.symbols import launch_values, param_symbol
from kernel_ir.ir import DType


@dataclass(frozen=True)
class Extent:
    """How much of pointer parameter `param` the entry touches.

    `elements` is a SymPy expression in the entry's integer scalar parameters (and launch dimensions when they
    were not given), or None with `reason` when it cannot be bounded. `source` is "allocation" when the host
    launcher's copies size the buffer, "indices" when it was inferred from index expressions. `exact` is True
    when `elements` is the largest extent the entry can touch, found without relaxing any step (see
    `Bounder.relaxed`); False when it is only an upper bound, which may exceed what the caller allocated.
    `overcount` says why, when an access itself was counted larger than what it touches (all the lanes of a
    masked load whose mask is not a lane count we follow): then the bound is known to reach past the data.
    """

    param: str
    elements: sp.Expr | None
    reads: bool
    writes: bool
    source: str
    reason: str | None = None
    dtype: DType | None = None
    exact: bool = False
    overcount: str | None = None

    def evaluate(self, scalars: dict[str, int] | None = None, launch: dict | None = None) -> int:
        """The extent for concrete sizes (and launch dimensions, when the expression mentions them)."""
        if self.elements is None:
            raise ValueError(f"extent of {self.param!r} is unknown: {self.reason}")
        values = {param_symbol(k): sp.Integer(int(v)) for k, v in (scalars or {}).items()}
        values.update(launch_values(launch or {}))
        result = self.elements.xreplace(values)
        if result.free_symbols:
            missing = ", ".join(sorted(str(s) for s in result.free_symbols))
            raise ValueError(f"extent of {self.param!r} needs values for {missing}")
        if not result.is_finite:
            return 0  # a size that divides is zero: the kernel touches nothing
        return max(0, int(result))
