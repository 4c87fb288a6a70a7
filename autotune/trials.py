"""Trials and their append-only store.

A Trial is one evaluated candidate: its config, what happened (status), and the Measurement when it ran.
Statuses: "ok" (verified, then timed), "wrong" (it ran and disagreed with the source, or did not run),
"unverified" (verification could not be done), "refused" (a pass refused the config: an invalid point, never
built), "failed" (it could not be translated or timed for another coded reason). Only "ok" trials have a time
and only they can win; the objective of every other status is 0, the worst (see `objective`).

The store is a kernel_ir.store.AppendLog (JSON Lines, fsynced per trial): a run killed at any moment keeps every
finished trial, and a resumed run reads them back instead of measuring again. Each record carries the problem key
(kernel source, source dialect, entry, target, sizes) and the device's name, so trials of another kernel, size or
device are never mixed in.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from devices import Measurement
from kernel_ir.store import AppendLog, content_key, default_root

OK = "ok"


@dataclass(frozen=True)
class Trial:
    number: int
    config: dict
    status: str
    reason: str = ""
    measurement: Measurement | None = None
    elapsed_s: float = 0.0  # wall time of translate + verify + measure
    resumed: bool = False  # read back from the store, not evaluated in this run
    extra: dict = field(default_factory=dict)  # verification evidence summary

    @property
    def ok(self) -> bool:
        return self.status == OK and self.measurement is not None

    @property
    def time_s(self) -> float | None:
        return self.measurement.median_s if self.ok else None

    @property
    def objective(self) -> float:
        """What the strategies minimize: minus the throughput (calls per second); 0 when the candidate did not
        produce a verified timing, so a wrong candidate can never look better than a right one."""
        return -1.0 / self.measurement.median_s if self.ok else 0.0

    def to_json(self) -> dict:
        return {"number": self.number, "config": self.config, "status": self.status, "reason": self.reason,
                "measurement": self.measurement.to_json() if self.measurement else None,
                "elapsed_s": round(self.elapsed_s, 3), "extra": self.extra}

    @classmethod
    def from_json(cls, data: dict, resumed: bool = True) -> Trial:
        measurement = Measurement.from_json(data["measurement"]) if data.get("measurement") else None
        return cls(data["number"], data["config"], data["status"], data.get("reason", ""), measurement,
                   data.get("elapsed_s", 0.0), resumed, data.get("extra", {}))


def default_trials_path() -> Path:
    return default_root() / "tuning" / "trials.jsonl"


class TrialStore:
    """The trials of one (problem, device) in an AppendLog shared with every other problem and device."""

    def __init__(self, path: Path | str | None, problem: str, device: str):
        self.log = AppendLog(path or default_trials_path())
        self.problem = problem
        self.device = device

    def key(self, config: dict) -> str:
        return content_key(self.problem, self.device, config)

    def load(self) -> list[Trial]:
        """Finished trials of this problem on this device, first record per config."""
        trials: dict[str, Trial] = {}
        for record in self.log.records():
            if record.get("problem") != self.problem or record.get("device") != self.device:
                continue
            try:
                trial = Trial.from_json(record["trial"])
            except (KeyError, TypeError, ValueError):
                continue  # a record of an older layout: measured again rather than misread
            trials.setdefault(record.get("key", ""), trial)
        return sorted(trials.values(), key=lambda t: t.number)

    def append(self, trial: Trial) -> None:
        self.log.append({"key": self.key(trial.config), "problem": self.problem, "device": self.device,
                         "trial": trial.to_json()})
