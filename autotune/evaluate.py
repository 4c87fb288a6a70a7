"""One candidate, start to finish: translate with its options, verify by execution, and only then measure.

A refused or failed translation is never built further; a translation that does not verify is never timed; so
nothing wrong can carry a time, and only timed trials can win (trials.Trial.objective).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from autotune.space import SearchSpace
from autotune.trials import OK, Trial
from devices import Device, MeasureJob, Repeats
from kernel_ir.diagnostics import XpilerError
from kernel_ir.store import content_key
from passes.base import PassRefused
from passes.translate import translate
from passes.verify import verify_translation


@dataclass(frozen=True)
class Problem:
    """What is tuned: the kernel, the direction, the inputs timed (`args`, made once from `sizes`) and the inputs
    verification runs on (`verify_args`, made from `verify_sizes`; None: passes.verify's defaults, which are not
    multiples of tile sizes)."""

    source: str
    source_dialect: str
    target: str
    entry: str
    sizes: dict | None
    verify_sizes: dict | None
    args: list
    verify_args: list
    repeats: Repeats = Repeats()
    timeout_s: float = 60.0  # per measurement: a candidate slower than this is a failed trial

    @property
    def key(self) -> str:
        return content_key("xpiler-tune-1", self.source, self.source_dialect, self.target, self.entry, self.sizes,
                           self.verify_sizes)


def evaluate(problem: Problem, space: SearchSpace, config: dict, device: Device, number: int) -> Trial:
    start = time.perf_counter()

    def trial(status: str, reason: str, measurement=None, **extra) -> Trial:
        return Trial(number, config, status, reason, measurement, time.perf_counter() - start, extra=extra)

    try:
        translation = translate(problem.source, problem.target, problem.source_dialect, problem.entry,
                                native_compile=False, options=space.options(config))
    except PassRefused as err:
        return trial("refused", str(err.diagnostic))
    except XpilerError as err:
        return trial("failed", f"translation failed: {err.diagnostic}")
    verification = verify_translation(problem.source, problem.source_dialect, translation, args=problem.verify_args)
    if not verification.verified:
        status = "unverified" if verification.status == "unverified" else "wrong"
        return trial(status, verification.reason, verification=verification.status)
    try:
        measurement = device.measure(MeasureJob(translation.code, problem.target, problem.entry, problem.args,
                                                problem.repeats, problem.timeout_s))
    except XpilerError as err:
        return trial("failed", f"measurement failed: {err.diagnostic}", verification=verification.status)
    return trial(OK, verification.reason, measurement, verification=verification.status)
