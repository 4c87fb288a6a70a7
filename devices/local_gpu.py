"""LocalGPU: CUDA or HIP results built with nvcc/hipcc into a shared library and timed on this machine's GPU.

The build is kernel_ir.native_gpu's (the translation, the executor's `__xp_entry` wrapper calling the host launcher,
and an event harness). Calls are timed with the runtime's events (the device's clock, not Python's) around one
`__xp_entry` call: the launcher end to end, transfers included.
Where the compiler or the GPU is missing, `available` is False, `reason` says which, and `measure` refuses
with XP005 instead of pretending.
"""
from __future__ import annotations

from devices.base import MEASUREMENT, Device, MeasureJob, Measurement
from devices.timing import EVENTS, time_library
from kernel_ir.diagnostics import XpilerError
from kernel_ir.executor import cache_dir
from kernel_ir.native_gpu import GPU_TOOLCHAINS, build_gpu_library, find_gpu


class LocalGPU(Device):
    kind = MEASUREMENT

    def __init__(self, dialect: str = "cuda"):
        if dialect not in GPU_TOOLCHAINS:
            raise XpilerError("XP002", f"no GPU runs {dialect}", hint="LocalGPU takes cuda or hip")
        self.dialects = (dialect,)
        gpu, self._reason = find_gpu(dialect)
        self.name = f"local-gpu:{gpu}" if gpu else f"local-gpu:none ({dialect})"

    @property
    def available(self) -> bool:
        return self._reason == "available"

    @property
    def reason(self) -> str:
        return self._reason

    def measure(self, job: MeasureJob) -> Measurement:
        dialect = self.dialects[0]
        if not self.available:
            raise XpilerError("XP005", f"no {dialect} GPU on this machine: {self.reason}",
                              hint="measure on a machine with one through devices.remote('tcp://host:8786')")
        if job.dialect != dialect:
            raise XpilerError("XP005", f"this GPU runs {dialect}, not {job.dialect}")
        library = build_gpu_library(job.code, dialect, job.entry, job.args, cache_dir())
        times = time_library(library, job.args, job.repeats, job.timeout_s, clock=EVENTS)
        return Measurement.of(self.name, MEASUREMENT, times,
                              f"{dialect} events around the host launcher: transfers included")
