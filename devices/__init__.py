"""Devices: where a candidate is built and timed. Imports only kernel_ir (see STYLE.md's import rules).

- `LocalCPU`: cpp, native g++ build, timed in a sandboxed child (median and spread of repeats).
- `LocalGPU`: cuda/hip when nvcc/hipcc and a GPU are present; otherwise `available` is False and it says why.
- `Remote` / `remote(address)`: the same build-and-measure on a Dask distributed worker.
- `EmulationEstimate`: a dialect nothing here can run (BANG; CUDA/HIP without a GPU) gets the CPU emulation's
  time, labelled `kind="estimate"`, never a measurement.
"""
from __future__ import annotations

from devices.base import ESTIMATE, MEASUREMENT, Device, MeasureJob, Measurement
from devices.emulation import EmulationEstimate
from devices.local_cpu import LocalCPU
from devices.local_gpu import LocalGPU
from devices.dask_remote import Remote
from devices.timing import Repeats
from kernel_ir.diagnostics import XpilerError
from kernel_ir.native_gpu import GPU_TOOLCHAINS


def local_device(dialect: str) -> Device:
    """The device on this machine that runs `dialect`, or the emulation estimate where none does."""
    if dialect == "cpp":
        return LocalCPU()
    if dialect in GPU_TOOLCHAINS:
        gpu = LocalGPU(dialect)
        return gpu if gpu.available else EmulationEstimate(dialect, f"no {dialect} GPU here: {gpu.reason}")
    if dialect == "bang":
        return EmulationEstimate("bang", "no Cambricon MLU or BANG toolchain here")
    raise XpilerError("XP001", f"unknown dialect {dialect!r}", hint="use one of cuda, hip, bang, cpp")


def remote(address: str, dialect: str = "cpp") -> Remote:
    """A device on another machine, reached through the Dask scheduler at `address` ("tcp://host:8786")."""
    return Remote(address, dialect)


def as_device(spec: str | Device | None, dialect: str) -> Device:
    """A Device from what a user may pass: None or "local", a scheduler address, or a Device."""
    if isinstance(spec, Device):
        return spec
    if spec in (None, "local"):
        return local_device(dialect)
    if isinstance(spec, str) and "://" in spec:
        return remote(spec, dialect)
    raise XpilerError("XP002", f"unknown device {spec!r}", hint='use "local", "tcp://host:8786" or a Device')


__all__ = ["Device", "EmulationEstimate", "ESTIMATE", "LocalCPU", "LocalGPU", "MEASUREMENT", "MeasureJob",
           "Measurement", "Remote", "Repeats", "as_device", "local_device", "remote"]
