"""A device that times nothing: it logs every measure call (to count measurements across processes) and reports
a time that depends on the code, so tests control who would win."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from devices import MEASUREMENT, Device, MeasureJob, Measurement


class FakeDevice(Device):
    kind = MEASUREMENT
    dialects = ("cpp",)

    def __init__(self, log: Path, fast_marker: str = "num_threads(1)"):
        self.name = "fake-device"
        self.log = Path(log)
        self.fast_marker = fast_marker

    def measure(self, job: MeasureJob) -> Measurement:
        with open(self.log, "a") as f:
            f.write(hashlib.sha256(job.code.encode()).hexdigest() + "\n")
            f.flush()
            os.fsync(f.fileno())
        seconds = 1e-6 if self.fast_marker in job.code else 1e-3 + 1e-6 * (len(job.code) % 97)
        return Measurement.of(self.name, MEASUREMENT, [seconds] * 3)
