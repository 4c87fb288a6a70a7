"""LocalGPU: CUDA or HIP results built with nvcc/hipcc into a shared library and timed on this machine's GPU.

The library holds the translation, the executor's `__xp_entry` wrapper, which calls the entry: the host
launcher (device allocation, copies in, launches, copies back), and a small timing harness (`event_harness`):
`__xp_event_timed_entry` records a CUDA/HIP event on the default stream before and after one `__xp_entry` call,
waits for the second and returns the seconds between them. Calls are timed with those events (the device's
clock, not Python's), and what they time is the launcher end to end, transfers included.
Where the compiler or the GPU is missing, `available` is False, `reason` says which, and `measure` refuses
with XP005 instead of pretending.
"""
from __future__ import annotations

import functools
import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

from devices.base import MEASUREMENT, Device, MeasureJob, Measurement
from devices.timing import EVENT_TIMED_ENTRY, EVENTS, time_library
from kernel_ir.diagnostics import XpilerError
from kernel_ir.executor import RUNTIME_DIR, cache_dir
from kernel_ir.lower_cpu import entry_wrapper
from kernel_ir.store import atomic_write_bytes

# dialect -> (compiler, its flags for a shared library, command listing the GPUs, what a GPU line contains)
GPU_TOOLCHAINS = {
    "cuda": ("nvcc", ["-O3", "-std=c++17", "-shared", "-Xcompiler", "-fPIC", "-arch=native", "-x", "cu"],
             ["nvidia-smi", "-L"], "GPU "),
    "hip": ("hipcc", ["-O3", "-std=c++17", "-shared", "-fPIC", "-x", "hip"], ["rocminfo"], "gfx"),
}
EVENT_APIS = {"cuda": ("cuda", "<cuda_runtime.h>"), "hip": ("hip", "<hip/hip_runtime.h>")}  # prefix, header


def event_harness(dialect: str) -> str:
    """C++ that times one `__xp_entry` call with the runtime's events (returns < 0 when the runtime fails)."""
    api, header = EVENT_APIS[dialect]
    return f"""
#include {header}
extern "C" void __xp_entry(void** args);
extern "C" double {EVENT_TIMED_ENTRY}(void** args) {{
    {api}Event_t start, stop;
    if ({api}EventCreate(&start) != {api}Success) return -1.0;
    if ({api}EventCreate(&stop) != {api}Success) {{ {api}EventDestroy(start); return -1.0; }}
    float milliseconds = -1.0f;
    {api}Error_t status = {api}EventRecord(start, 0);
    __xp_entry(args);
    if (status == {api}Success) status = {api}EventRecord(stop, 0);
    if (status == {api}Success) status = {api}EventSynchronize(stop);
    if (status == {api}Success) status = {api}EventElapsedTime(&milliseconds, start, stop);
    {api}EventDestroy(start);
    {api}EventDestroy(stop);
    return status == {api}Success ? milliseconds * 1e-3 : -1.0;
}}
"""


def library_source(job: MeasureJob) -> str:
    """What LocalGPU compiles into the shared library: the translation, the entry wrapper, the event harness."""
    wrapper = entry_wrapper(job.code, job.dialect, job.entry, job.args, None)
    return f"{job.code}\n{wrapper}\n{event_harness(job.dialect)}"


@functools.cache
def _probe(dialect: str) -> tuple[str | None, str]:
    """(name of the first GPU, why not) for `dialect`'s toolchain and driver."""
    compiler, _, lister, marker = GPU_TOOLCHAINS[dialect]
    if shutil.which(compiler) is None:
        return None, f"{compiler} is not installed"
    if shutil.which(lister[0]) is None:
        return None, f"{lister[0]} is not installed, so no {dialect} GPU can be found"
    try:
        listing = subprocess.run(lister, capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired) as err:
        return None, f"{lister[0]} failed: {err}"
    gpus = [line.strip() for line in listing.splitlines() if marker in line]
    return (gpus[0], "available") if gpus else (None, f"{lister[0]} lists no GPU")


class LocalGPU(Device):
    kind = MEASUREMENT

    def __init__(self, dialect: str = "cuda"):
        if dialect not in GPU_TOOLCHAINS:
            raise XpilerError("XP002", f"no GPU runs {dialect}", hint="LocalGPU takes cuda or hip")
        self.dialects = (dialect,)
        gpu, self._reason = _probe(dialect)
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
        library = self._build(job)
        times = time_library(library, job.args, job.repeats, job.timeout_s, clock=EVENTS)
        return Measurement.of(self.name, MEASUREMENT, times,
                              f"{dialect} events around the host launcher: transfers included")

    def _build(self, job: MeasureJob) -> Path:
        compiler, flags, _, _ = GPU_TOOLCHAINS[job.dialect]
        source = library_source(job)
        key = hashlib.sha256("\0".join([self.name, source, *flags]).encode()).hexdigest()[:32]
        library = cache_dir() / f"gpu-{key}.so"
        if library.exists():
            return library
        with tempfile.TemporaryDirectory(prefix="xpiler-gpu-build-") as tmp:
            src = Path(tmp) / "kernel"
            src.write_text(source)
            proc = subprocess.run([shutil.which(compiler), *flags, "-I", str(RUNTIME_DIR), str(src), "-o",
                                   str(Path(tmp) / "kernel.so")], capture_output=True, text=True)
            if proc.returncode != 0:
                raise XpilerError("XP201", f"{compiler} could not build the candidate", detail=proc.stderr[-4000:])
            atomic_write_bytes(library, (Path(tmp) / "kernel.so").read_bytes())
        return library
