"""Timing shared by every device: warm-up, repeats until a minimum time, median and spread.

A library is timed in a sandboxed child (`devices.timing_child`) with the executor's limits, so a candidate that
crashes or hangs ends in a coded diagnostic instead of taking the tuner (or the notebook) down with it.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kernel_ir.diagnostics import XpilerError
from kernel_ir.sandbox import Limits, _apply_limits, _diagnose

REPO_ROOT = Path(__file__).resolve().parent.parent


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


def time_calls(call: Callable[[], object], repeats: Repeats) -> list[float]:
    """Seconds per call of `call` (also used for the numpy baselines of bench/, so both are timed alike)."""
    spent = 0.0
    for _ in range(repeats.warmup):
        spent += _timed(call)
        if spent >= repeats.max_time_s:
            break
    times: list[float] = []
    while not times or spent < repeats.max_time_s:
        times.append(_timed(call))
        spent += times[-1]
        if len(times) >= repeats.max_repeats or (len(times) >= repeats.repeats and sum(times) >= repeats.min_time_s):
            break
    return times


def _timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def summarize(times: list[float] | tuple[float, ...]) -> tuple[float, float]:
    """(median, spread): spread is the interquartile range, robust to the odd descheduled repeat."""
    if len(times) < 2:
        return (times[0] if times else float("nan")), 0.0
    quartiles = statistics.quantiles(times, n=4, method="inclusive")
    return statistics.median(times), quartiles[2] - quartiles[0]


def time_library(library: Path, args: list[tuple[str, object]], repeats: Repeats, timeout_s: float) -> list[float]:
    """Seconds per call of the library's `__xp_entry` on `args`, measured in a sandboxed child process."""
    with tempfile.TemporaryDirectory(prefix="xpiler-time-") as tmp:
        work = Path(tmp)
        arrays = {f"a{i}": v for i, (_, v) in enumerate(args) if isinstance(v, np.ndarray)}
        scalars = {f"a{i}": [np.asarray(v).dtype.name, np.asarray(v).item()]
                   for i, (_, v) in enumerate(args) if not isinstance(v, np.ndarray)}
        np.savez(work / "in.npz", **arrays)
        spec = {"library": str(library), "count": len(args), "scalars": scalars, "warmup": repeats.warmup,
                "repeats": repeats.repeats, "min_time_s": repeats.min_time_s, "max_time_s": repeats.max_time_s,
                "max_repeats": repeats.max_repeats}
        (work / "spec.json").write_text(json.dumps(spec))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
        limits = Limits(timeout_s=timeout_s)
        try:
            proc = subprocess.run([sys.executable, "-m", "devices.timing_child", str(work)], capture_output=True,
                                  text=True, timeout=timeout_s, preexec_fn=lambda: _apply_limits(limits), env=env,
                                  cwd=tmp)
        except subprocess.TimeoutExpired:
            raise XpilerError("XP302", f"timing did not finish within {timeout_s:g} s (killed)",
                              hint="the candidate is far too slow, or it hangs") from None
        if proc.returncode != 0:
            raise _diagnose(proc.returncode, proc.stderr + proc.stdout, {})
        return json.loads((work / "times.json").read_text())
