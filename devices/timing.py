"""Timing shared by every device: warm-up, repeats until a minimum time, median and spread.

A library is timed in a sandboxed child (`devices.timing_child`, started by kernel_ir.sandbox.sandboxed_call with
the executor's limits), so a candidate that crashes or hangs ends in a coded diagnostic instead of taking the tuner
(or the notebook) down with it. Each call is timed by a clock: the wall clock around `__xp_entry` (CPU code), or
the device's own events (`EVENTS`: the library's EVENT_TIMED_ENTRY records events around `__xp_entry` and returns
the seconds between them; see kernel_ir.native_gpu).
"""
from __future__ import annotations

import dataclasses
import json
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kernel_ir.native_gpu import gpu_limits
from kernel_ir.sandbox import Limits, sandboxed_call

REPO_ROOT = Path(__file__).resolve().parent.parent
WALL = "wall"
EVENTS = "events"


@dataclass(frozen=True)
class Repeats:
    """How a kernel is timed: `warmup` untimed calls, then at least `repeats` timed calls and, while the timed
    calls add up to less than `min_time_s`, more of them (at most `max_repeats`). A slow candidate stops early:
    once the calls (warm-up included) add up to `max_time_s`, the ones timed so far are its measurement."""

    warmup: int = 2
    repeats: int = 7
    min_time_s: float = 0.05
    max_time_s: float = 2.0
    max_repeats: int = 200


def wall_clock(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def reported_clock(call: Callable[[], float]) -> float:
    """For a call that times itself (device events) and returns its seconds."""
    return call()


def time_calls(call: Callable[[], object], repeats: Repeats,
               clock: Callable[[Callable[[], object]], float] = wall_clock) -> list[float]:
    """Seconds per call of `call` as `clock` measures them (also used for the numpy baselines of bench/, so both
    are timed alike)."""
    spent = 0.0
    for _ in range(repeats.warmup):
        spent += clock(call)
        if spent >= repeats.max_time_s:
            break
    times: list[float] = []
    while not times or spent < repeats.max_time_s:
        times.append(clock(call))
        spent += times[-1]
        if len(times) >= repeats.max_repeats or (len(times) >= repeats.repeats and sum(times) >= repeats.min_time_s):
            break
    return times


def summarize(times: list[float] | tuple[float, ...]) -> tuple[float, float]:
    """(median, spread): spread is the interquartile range, robust to the odd descheduled repeat."""
    if len(times) < 2:
        return (times[0] if times else float("nan")), 0.0
    quartiles = statistics.quantiles(times, n=4, method="inclusive")
    return statistics.median(times), quartiles[2] - quartiles[0]


def time_library(library: Path, args: list[tuple[str, object]], repeats: Repeats, timeout_s: float,
                 clock: str = WALL) -> list[float]:
    """Seconds per call of the library's `__xp_entry` on `args` (clock WALL), or of its EVENT_TIMED_ENTRY's own
    event timing (clock EVENTS), measured in a sandboxed child process."""
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    settings = {"repeats": dataclasses.asdict(repeats), "clock": clock}
    limits = gpu_limits(timeout_s) if clock == EVENTS else Limits(timeout_s=timeout_s)
    with sandboxed_call("devices.timing_child", library, args, limits, env, settings) as work:
        return json.loads((work / "times.json").read_text())
