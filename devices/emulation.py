"""EmulationEstimate: for a dialect no device here can run (BANG always; CUDA/HIP without a GPU), the time of the
CPU executor's emulation of the program. It is labelled `kind="estimate"` everywhere: it ranks candidates only
roughly (the emulation runs threads as fibers and tasks as OS threads on this CPU) and is never a measurement."""
from __future__ import annotations

from devices.base import ESTIMATE, Device, MeasureJob, Measurement
from devices.local_cpu import cpu_name
from devices.timing import time_library
from kernel_ir.executor import build
from kernel_ir.lower_cpu import DEFAULT_BANG_LAUNCH


class EmulationEstimate(Device):
    kind = ESTIMATE

    def __init__(self, dialect: str, why: str):
        self.dialects = (dialect,)
        self.why = why
        self.name = f"emulated-{dialect}:{cpu_name()}"

    @property
    def reason(self) -> str:
        return f"estimate only: {self.why}"

    def measure(self, job: MeasureJob) -> Measurement:
        launch = dict(DEFAULT_BANG_LAUNCH) if job.dialect == "bang" else None
        library = build(job.code, job.dialect, job.entry, job.args, launch)
        times = time_library(library, job.args, job.repeats, job.timeout_s)
        return Measurement.of(self.name, ESTIMATE, times,
                              f"CPU emulation time, not a {job.dialect} device measurement ({self.why})")
