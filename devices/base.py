"""What every device does: take a measurement job (code, dialect, entry, inputs) and return a Measurement.

A Measurement says what it is: `kind="measurement"` when the code ran on the device it was written for,
`kind="estimate"` when no such device exists here and the number is a stand-in (the CPU emulation's time);
an estimate is never shown or stored as a measurement.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from devices.timing import Repeats, summarize

MEASUREMENT = "measurement"
ESTIMATE = "estimate"


@dataclass(frozen=True)
class MeasureJob:
    """One build-and-time request. args: (name, ndarray or numpy scalar) in parameter order, the same inputs
    for every candidate of a tuning run."""

    code: str
    dialect: str
    entry: str
    args: list
    repeats: Repeats = field(default_factory=Repeats)
    timeout_s: float = 120.0


@dataclass(frozen=True)
class Measurement:
    """Seconds per call: the median of the timed repeats and their spread (interquartile range)."""

    device: str
    kind: str  # MEASUREMENT or ESTIMATE
    median_s: float
    spread_s: float
    times_s: tuple[float, ...]
    note: str = ""

    @classmethod
    def of(cls, device: str, kind: str, times: list[float], note: str = "") -> Measurement:
        median, spread = summarize(times)
        return cls(device, kind, median, spread, tuple(times), note)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Measurement:
        return cls(**{**data, "times_s": tuple(data["times_s"])})

    def __str__(self) -> str:
        label = "" if self.kind == MEASUREMENT else f" ({self.kind}: {self.note})"
        return f"{self.median_s * 1e3:.4g} ms ± {self.spread_s * 1e3:.2g} ms on {self.device}{label}"


class Device:
    """Base class: `name` identifies the hardware (it is part of every stored trial's key), `kind` says whether
    its numbers are measurements or estimates, `available`/`reason` say whether it can run anything here."""

    name: str = "device"
    kind: str = MEASUREMENT
    dialects: tuple[str, ...] = ()
    build: str = ""  # how it builds candidates (compiler, flags): times of another build are other trials

    @property
    def identity(self) -> str:
        """The device in stored trials' keys: trials timed on other hardware, or built another way, are not
        resumed (the same code built without -fwrapv ran 10x faster)."""
        return f"{self.name} [{self.build}]" if self.build else self.name

    @property
    def available(self) -> bool:
        return True

    @property
    def reason(self) -> str:
        return "available"

    def measure(self, job: MeasureJob) -> Measurement:
        raise NotImplementedError

    def preferred(self, target: str) -> dict:
        """Knob values this device is known to suit (its vector width, its cores): tune() times them right after
        the untuned translation, so that a small budget does not miss them. None known: {}."""
        return {}

    def describe(self) -> dict:
        return {"name": self.name, "kind": self.kind, "dialects": list(self.dialects), "available": self.available,
                "reason": self.reason, "build": self.build,
                "preferred": {dialect: self.preferred(dialect) for dialect in self.dialects}}
