"""Tuning a checked translation from the magic and the CLI: pick the device, run autotune with live progress,
and turn the outcome into the report both show.

The trials go to `<cache root>/trials/trials.jsonl` (the `.xpiler/trials/` folder next to a notebook): a re-run
replays every finished trial from there instead of timing it again, so it ends with the same best code, offline.
"""
from __future__ import annotations

from pathlib import Path

from kernel_ir.diagnostics import XpilerError

from .progress import TuningProgress

STRATEGIES = ("bayes", "random", "grid")
DEVICE_WORDS = ("local", "gpu")  # or a Dask scheduler address, tcp://host:port


def trials_path(cache_root: Path | str) -> Path:
    return Path(cache_root) / "trials" / "trials.jsonl"


def open_device(spec: str | None, target: str):
    """The Device a user named for timing `target`: "local" (default: this machine's device for the target, or
    the labelled emulation estimate where it has none), "gpu" (this machine's CUDA/HIP GPU, nothing else), or a
    Dask scheduler address. One that cannot time `target` is refused here, before any trial, with XP005."""
    from devices import GPU_TOOLCHAINS, LocalGPU, as_device

    spec = spec or "local"
    if spec == "gpu":
        if target not in GPU_TOOLCHAINS:
            raise XpilerError("XP005", f"--device gpu times cuda or hip code, and the target is {target}",
                              hint="use --device local for cpp (this CPU) or bang (estimates)")
        device = LocalGPU(target)
    elif spec in DEVICE_WORDS or "://" in spec:
        device = as_device(spec, target)
    else:
        raise XpilerError("XP002", f"unknown device {spec!r}", hint="use local, gpu or a Dask scheduler address "
                                                                     "tcp://host:port")
    if not device.available:
        close_device(device)
        raise XpilerError("XP005", f"the device {spec!r} cannot time {target} code: {device.reason}",
                          hint="use --device local, or the address of a Dask scheduler whose worker has the device")
    return device


def close_device(device) -> None:
    """A remote device holds a Dask client: close it so the cell leaves no connection behind."""
    close = getattr(device, "close", None)
    if close is not None:
        close()


def run_tuning(source: str, translation, budget: int, device: str | None, strategy: str, trials_file: Path,
               sizes: dict | None = None, verify_sizes: dict | None = None, widgets: bool | None = None):
    """Tune the translation of `source` (`translation`: passes.translate.Translation, which gives the direction
    and the entry), showing a TuningProgress (`widgets`: its view; default widgets in a kernel, else the text line
    on stderr); returns autotune's TuneResult. Bad options are refused before the progress view opens. Ctrl-C
    during the trials ends the run with the finished ones (autotune keeps them in the store); Ctrl-C outside the
    trials is a diagnostic, with nothing lost."""
    from autotune import tune

    if budget < 1:
        raise XpilerError("XP002", f"the tuning budget must be at least 1 trial, got {budget}")
    if strategy not in STRATEGIES:
        raise XpilerError("XP002", f"unknown strategy {strategy!r}", hint=f"use one of {', '.join(STRATEGIES)}")
    measuring = open_device(device, translation.target_dialect)
    try:
        with TuningProgress(budget, f"tuning {translation.entry} ({translation.target_dialect})", widgets) as progress:
            result = tune(source, translation.target_dialect, translation.source_dialect, device=measuring,
                          budget=budget, strategy=strategy, trials_path=trials_file, progress=progress,
                          entry=translation.entry, sizes=sizes, verify_sizes=verify_sizes)
            progress.finish(result.trials, result.interrupted)
    except KeyboardInterrupt:  # autotune stops cleanly inside its trials; this is Ctrl-C before or after them
        raise XpilerError("XP007", "tuning was interrupted outside a trial: no finished trial was lost",
                          hint=f"the finished trials are in {trials_file}; run again to resume from them") from None
    finally:
        close_device(measuring)
    return result


def tuning_report(result, budget: int, strategy: str) -> dict:
    """TuneResult.to_json() with what the views need besides: the budget, the strategy, the speedup, and which
    trials were replayed from the store rather than timed in this run."""
    report = result.to_json()
    for record, trial in zip(report["trials"], result.trials):
        record["replayed"] = trial.resumed
    return {**report, "budget": budget, "strategy": strategy, "speedup": result.speedup, "measured": result.measured}
