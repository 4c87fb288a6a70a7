"""`tune`: the one public entry point (in the spirit of Kernel Tuner's `tune_kernel`).

    result = tune(source, target="cpp", budget=20, strategy="bayes")
    result.best_config, result.best_code, result.best_time, result.trials

The untuned translation (TranslateOptions()) is always the first trial, so the result is never slower than not
tuning. The second is the device's preference (`Device.preferred`: the local CPU's cores, scheduling, vector
width and g++ cost model), where the spaces hold it, so that a small budget does not miss what the hardware is
known to suit. The third adds what the passes' estimates suggest (`suggested`: the block loop whose jam shares the
most vector loads, the serial loop whose jam keeps the most sums in registers, with both the block loop jammed as
far as its copies' sums fit in half the register budget, and the source's slab constants as deep as their staged
tiles fit the device's L1 data cache), where there is such a loop or constant. Then, until `budget` trials
exist for this problem and device (resumed trials count), the sequence search (autotune.sequences) picks a pass
sequence and its strategy a config; each candidate is translated, verified and only then measured
(autotune.evaluate), appended to the trial store, and reported to `progress`.
Ctrl-C (KeyboardInterrupt) stops after the finished trials: the result holds them and the store kept them; the
trial in flight is dropped, never stored half-done.
"""
from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from autotune.evaluate import Problem, evaluate
from autotune.sequences import SequenceSearch
from autotune.space import CONSTANT, JAM_FACTORS, SEQUENCES, SearchSpace, build_spaces, untuned_space
from autotune.strategies import load_strategy
from autotune.trials import Trial, TrialStore
from devices import ESTIMATE, Device, Measurement, Repeats, as_device
from kernel_ir.detect import detect_dialect
from kernel_ir.diagnostics import XpilerError
from kernel_ir.entry import find_entry
from kernel_ir.parse import parse
from passes.translate import TranslateOptions, translate
from passes.verify import make_inputs


@dataclass
class TuneResult:
    """The best verified candidate (None when no candidate verified) and the whole history."""

    best_config: dict | None
    best_options: TranslateOptions | None
    best_code: str | None
    best_time: Measurement | None
    untuned_time: Measurement | None
    trials: list[Trial]
    device: str
    kind: str  # "measurement", or "estimate" when the device only estimates (labelled as such everywhere)
    interrupted: bool = False
    spaces: dict = field(default_factory=dict)  # sequence name -> number of valid points

    @property
    def measured(self) -> int:
        """Trials timed in this run (resumed trials were not timed again)."""
        return sum(1 for t in self.trials if t.ok and not t.resumed)

    @property
    def speedup(self) -> float | None:
        if self.best_time is None or self.untuned_time is None:
            return None
        return self.untuned_time.median_s / self.best_time.median_s

    def summary(self) -> str:
        statuses: dict[str, int] = {}
        for t in self.trials:
            statuses[t.status] = statuses.get(t.status, 0) + 1
        counts = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
        label = " (ESTIMATES: no device here runs this dialect)" if self.kind == ESTIMATE else ""
        lines = [f"{len(self.trials)} trials on {self.device}{label}: {counts}"
                 + (" - interrupted" if self.interrupted else "")]
        if self.best_time is None:
            lines.append("no candidate verified: nothing to recommend")
        else:
            lines.append(f"best: {self.best_config} at {self.best_time}")
            if self.speedup is not None:
                lines.append(f"untuned: {self.untuned_time}; speedup {self.speedup:.2f}x")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"best_config": self.best_config, "best_code": self.best_code, "device": self.device,
                "kind": self.kind, "best_time": self.best_time.to_json() if self.best_time else None,
                "untuned_time": self.untuned_time.to_json() if self.untuned_time else None,
                "interrupted": self.interrupted, "spaces": self.spaces, "trials": [t.to_json() for t in self.trials]}


def tune(kernel: str, target: str, source: str | None = None, device: str | Device | None = "local",
         budget: int = 20, strategy: str = "bayes", trials_path: Path | str | None = None,
         progress: Callable[[Trial, Trial | None], None] | None = None, seed: int = 0, entry: str | None = None,
         sizes: dict | None = None, verify_sizes: dict | None = None,
         sequences: tuple[tuple[str, ...], ...] = SEQUENCES, spaces: list[SearchSpace] | None = None,
         surrogate: str = "GP", repeats: Repeats = Repeats(), args: list | None = None) -> TuneResult:
    """Tune the translation of `kernel` (source text) to `target`.

    source: the kernel's dialect (detected when None). device: "local" (this machine's device for the target,
    or the emulation estimate where it has none), a Dask scheduler address "tcp://host:8786", or a Device.
    budget: trials in all for this problem and device, resumed ones included. strategy: "bayes" (surrogate
    "GP" or "RF"), "random" or "grid". trials_path: the JSONL trial store (default under $XPILER_CACHE_DIR).
    progress(trial, best_trial): called after each new trial. sizes: the integer sizes of the timed inputs;
    verify_sizes: those verification runs with; args: the timed inputs themselves ((name, array or numpy scalar)
    in parameter order) instead of inputs generated from `sizes`. sequences/spaces: which pass sequences to search, or the
    spaces themselves (e.g. `space.restrict(...)` for a smaller search).
    """
    if budget < 1:
        raise XpilerError("XP002", f"the tuning budget must be at least 1 trial, got {budget}")
    strategy_type = load_strategy(strategy)
    dialect = source or detect_dialect(kernel)
    entry_function = find_entry(parse(kernel, dialect), entry)
    entry_name = entry_function.name
    # Inputs are sized from the source alone: it is the reference, and every candidate gets the same ones.
    if args is None:
        args, _ = make_inputs(kernel, dialect, kernel, dialect, entry_function, sizes, seed=0)
    else:
        sizes = {name: np.asarray(value).item() for name, value in args if not isinstance(value, np.ndarray)}
    verify_args, _ = make_inputs(kernel, dialect, kernel, dialect, entry_function, verify_sizes, seed=0)
    problem = Problem(kernel, dialect, target, entry_name, sizes, verify_sizes, args, verify_args, repeats)
    measuring = as_device(device, target)
    if spaces is None:
        spaces = build_spaces(kernel, target, dialect, entry_name, sequences)
    search = SequenceSearch(spaces, strategy_type, seed, surrogate=surrogate) if strategy == "bayes" \
        else SequenceSearch(spaces, strategy_type, seed)
    store = TrialStore(trials_path, problem.key, measuring.identity)
    trials = store.load()
    for trial in trials:
        search.tell(trial)
    untuned_point = untuned_space(target)
    interrupted = False
    try:
        with _ctrl_c_remembered() as ctrl_c:
            if not any(t.config == untuned_point.config({}) for t in trials):
                _run(problem, untuned_point, untuned_point.config({}), measuring, trials, store, search, progress,
                     ctrl_c)
            preference = measuring.preferred(target)
            for wanted in (preference, {**preference, **suggested(spaces, preference)}):
                point = preferred_point(spaces, wanted)
                if point is not None and len(trials) < budget and not any(t.config == point[1] for t in trials):
                    _run(problem, *point, measuring, trials, store, search, progress, ctrl_c)
            while len(trials) < budget:
                proposal = search.ask()
                if proposal is None:
                    break  # every valid point was tried
                _run(problem, *proposal, measuring, trials, store, search, progress, ctrl_c)
    except KeyboardInterrupt:
        interrupted = True
        # a trial stored but not yet listed when the interrupt came is still finished work: the store is the truth
        trials = store.load()
    return _result(problem, spaces, untuned_point, trials, measuring, interrupted)


def suggested(spaces: list[SearchSpace], preference: dict) -> dict:
    """What the passes' own estimates suggest: the block loop whose jam shares the most vector loads, the serial
    loop whose jam keeps the most sums in registers (none: {}). With both, the block loop is jammed as far as its
    copies' sums fit in half the register tile's budget (the preference's `sum_registers`; the other half holds
    the loads they share): jammed, each copy keeps its own sums in registers. And the source's slab constants
    (the tile sizes that size only a block's staged tiles, gemm's BK) as deep as those tiles fit the
    preference's `l1d_bytes`: on a CPU one core runs a block's steps one after another, so a deeper slab does
    the same work in fewer steps, each reloading the register tile's sums once (gemm: BK 16 -> 64)."""
    space = next((s for s in spaces if not s.sequence), None)
    if space is None:
        return {}
    form = space.form
    wanted = {knob: sites[0] for knob, sites in (("jam_loop", form.jam_sites),
                                                 ("serial_jam_loop", form.serial_jam_sites)) if sites}
    if len(wanted) == 2:
        budget = preference.get("sum_registers", TranslateOptions.sum_registers) // 2
        wanted["jam_factor"] = max((f for f in JAM_FACTORS if f * form.serial_jam_sums <= budget),
                                   default=JAM_FACTORS[0])
    return {**wanted, **_deeper_slabs(space, preference.get("l1d_bytes"))}


def _deeper_slabs(space: SearchSpace, cache_bytes: int | None) -> dict:
    """The slab constants scaled by the largest factor their knobs offer whose staged tiles fit `cache_bytes`."""
    slabs = space.form.tiles.slabs()
    if not slabs or not cache_bytes:
        return {}
    for scale in (4, 2):
        values = {c.name: c.value * scale for c in slabs}
        offered = all((knob := space.knob(CONSTANT + name)) is not None and value in knob.values
                      for name, value in values.items())
        if offered and space.form.tiles.bytes_at(values, on_chip_only=True) <= cache_bytes:
            return {CONSTANT + name: value for name, value in values.items()}
    return {}


def preferred_point(spaces: list[SearchSpace], preferred: dict) -> tuple[SearchSpace, dict] | None:
    """The point of the unscheduled space with the preferred values of the knobs it has, the others as untuned as
    its knobs allow (ties: the first in grid order); None where it has none of them."""
    space = next((s for s in spaces if not s.sequence and s.knobs), None)
    if space is None:
        return None
    wanted = {name: value for name, value in preferred.items()
              if (knob := space.knob(name)) is not None and value in knob.values}
    if not wanted:
        return None
    untuned = {**{k.name: k.default for k in space.knobs if k.default is not None}, **asdict(TranslateOptions())}
    points = [p for p in space.points() if all(p[name] == value for name, value in wanted.items())]
    if not points:
        return None
    return space, max(points, key=lambda p: sum(untuned.get(name) == value for name, value in p.items()))


def _run(problem: Problem, space: SearchSpace, config: dict, device: Device, trials: list[Trial],
         store: TrialStore, search: SequenceSearch, progress, ctrl_c: threading.Event) -> None:
    trial = evaluate(problem, space, config, device, number=len(trials))
    if ctrl_c.is_set():
        raise KeyboardInterrupt  # it came during the trial but was swallowed: the trial may have seen it, drop it
    store.append(trial)  # durable before anyone hears of it: a kill after this line loses nothing
    trials.append(trial)
    search.tell(trial)
    if progress is not None:
        progress(trial, best_trial(trials))


@contextmanager
def _ctrl_c_remembered() -> Iterator[threading.Event]:
    """Ctrl-C raises KeyboardInterrupt wherever Python runs, also inside a ctypes callback (libclang walks the
    kernel's syntax tree through them), and there ctypes prints it and drops it. So remember each Ctrl-C: the trial
    in flight then stops as if it had propagated, and the dropped exception is not printed as a traceback."""
    pressed = threading.Event()
    previous = signal.getsignal(signal.SIGINT) if threading.current_thread() is threading.main_thread() else None
    if not callable(previous):  # not the main thread, or SIGINT ignored or left to the OS: nothing to remember
        yield pressed
        return

    def remember(signum, frame):
        pressed.set()
        previous(signum, frame)

    unraisable_hook = sys.unraisablehook

    def quiet_when_remembered(unraisable):
        if not (pressed.is_set() and isinstance(unraisable.exc_value, KeyboardInterrupt)):
            unraisable_hook(unraisable)

    signal.signal(signal.SIGINT, remember)
    sys.unraisablehook = quiet_when_remembered
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)
        sys.unraisablehook = unraisable_hook


def best_trial(trials: list[Trial]) -> Trial | None:
    timed = [t for t in trials if t.ok]
    return min(timed, key=lambda t: t.measurement.median_s) if timed else None


def _result(problem: Problem, spaces: list[SearchSpace], untuned_point: SearchSpace, trials: list[Trial], device: Device, interrupted: bool) -> TuneResult:
    best = best_trial(trials)
    untuned = next((t for t in trials if t.config == untuned_point.config({})), None)
    by_name = {space.name: space for space in [untuned_point, *spaces]}
    options = code = None
    if best is not None:
        options = by_name[best.config["sequence"]].options(best.config)
        code = translate(problem.source, problem.target, problem.source_dialect, problem.entry, native_compile=False,
            options=options).code
    return TuneResult(best.config if best else None, options, code, best.measurement if best else None,
                      untuned.measurement if untuned and untuned.ok else None, trials, device.name, device.kind,
                      interrupted, {space.name: space.size() for space in spaces})
