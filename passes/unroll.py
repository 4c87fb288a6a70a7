"""unroll: ask the target's compiler to unroll one serial loop by `factor`.

    for (int k = a; k < b; k += s) body(k)
 -> #pragma unroll 4
    for (int k = a; k < b; k += s) body(k)

Each dialect's printer spells the request its compiler's way (`#pragma unroll 4` for nvcc, hipcc and cncc,
`#pragma GCC unroll 4` for g++), as it does for a source's own `#pragma unroll`; the loop becomes
ForKind.unrolled, as parsing such a source makes it, so the passes after it see what they would see in that
source (simdize writes out a short unrolled k inside its lane loops). The iterations, their order and the body
are unchanged, so the request is always legal; a tuning knob (how far to unroll which loop) with no result of
its own to check. Only a serial loop takes it: a parallel loop's iterations go to threads or lanes, and bind
gives the loop its own pragma, which an unroll pragma would displace.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from kernel_ir.ir import ForKind, Module
from passes.base import PassRefused
from passes.loops import ILLEGAL, LoopFactor, factor_loop, replace_in_function

_UNROLL_PRAGMA = re.compile(r"^\s*(GCC\s+|clang\s+loop\s+)?unroll")  # a request the new one replaces


@dataclass(frozen=True)
class UnrollOptions(LoopFactor):
    """The loop to unroll, and by how many iterations per step."""


def unroll(module: Module, options: UnrollOptions) -> Module:
    """`options.loop` marked to be unrolled `options.factor` times. Refuses (XP53x) when the loop is missing, not
    canonical, or not serial, or when the factor is below 2."""
    fn, match, view = factor_loop(module, options, "unroll")
    if match.loop.kind not in (ForKind.serial, ForKind.unrolled):
        raise PassRefused(ILLEGAL, f"loop over {view.var!r} is {match.loop.kind.value}: only a serial loop is "
                          "unrolled (a parallel loop's iterations go to threads or lanes)")
    pragmas = tuple(p for p in match.loop.pragmas if not _UNROLL_PRAGMA.match(p)) + (f"unroll {options.factor}",)
    marked = dataclasses.replace(match.loop, kind=ForKind.unrolled, pragmas=pragmas)
    return replace_in_function(module, fn, match.loop, (marked,))


__all__ = ["UnrollOptions", "unroll"]
