"""Native GPU execution of CUDA and HIP kernels, where this machine has the compiler and a GPU.

A kernel is built with nvcc/hipcc into a shared library that holds the kernel, the executor's `__xp_entry`
wrapper (which calls the entry: the host launcher, with its device allocations, copies and launches) and a small
event harness (`__xp_event_timed_entry`, used by devices.LocalGPU to time one call with the runtime's events).
The library is called through the same sandbox as the CPU executor's builds, so a kernel that crashes the GPU
runtime or hangs ends in a coded diagnostic. Where the compiler or the GPU is missing, `find_gpu` says which and
nothing pretends to have run.
"""
from __future__ import annotations

import functools
import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

from .diagnostics import XpilerError
from .lower_cpu import RUNTIME_DIR, entry_wrapper
from .sandbox import RUNTIME_ERROR_EXIT, Limits
from .store import atomic_write_bytes

EVENT_TIMED_ENTRY = "__xp_event_timed_entry"  # double f(void** args): seconds of one __xp_entry call, < 0 on error

# dialect -> (compiler, its flags for a shared library, command listing the GPUs, what a GPU line contains)
GPU_TOOLCHAINS = {
    "cuda": ("nvcc", ["-O3", "-std=c++17", "-shared", "-Xcompiler", "-fPIC", "-arch=native", "-x", "cu"],
             ["nvidia-smi", "-L"], "GPU "),
    "hip": ("hipcc", ["-O3", "-std=c++17", "-shared", "-fPIC", "-x", "hip"], ["rocminfo"], "gfx"),
}
EVENT_APIS = {"cuda": ("cuda", "<cuda_runtime.h>"), "hip": ("hip", "<hip/hip_runtime.h>")}  # prefix, header


def gpu_limits(timeout_s: float) -> Limits:
    """The sandbox's limits for a GPU library: the runtime maps device memory into the process, so a host data
    limit would only break it; the time limit stays."""
    return Limits(timeout_s=timeout_s, memory_bytes=None)


@functools.cache
def find_gpu(dialect: str) -> tuple[str | None, str]:
    """(name of the first GPU that runs `dialect`, "available") or (None, why there is none)."""
    if dialect not in GPU_TOOLCHAINS:
        return None, f"no GPU runs {dialect}"
    compiler, _, lister, marker = GPU_TOOLCHAINS[dialect]
    if shutil.which(compiler) is None:
        return None, f"{compiler} is not installed"
    if shutil.which(lister[0]) is None:
        return None, f"{lister[0]} is not installed, so no {dialect} GPU can be found"
    try:
        listing = subprocess.run(lister, capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired) as err:
        return None, f"{lister[0]} failed: {err}"
    gpus = [line.split(" (UUID")[0].strip() for line in listing.splitlines() if marker in line]
    return (gpus[0], "available") if gpus else (None, f"{lister[0]} lists no GPU")


def event_harness(dialect: str) -> str:
    """C++ for the library's `__xp_entry`: the entry wrapper (`__xp_launch_entry`), then a check that the runtime
    reported no error (an illegal address, a failed launch or allocation ends the run with a diagnosis, instead
    of leaving the outputs silently untouched); and the event timer of one `__xp_entry` call (< 0 on error)."""
    api, header = EVENT_APIS[dialect]
    return f"""
#include {header}
#include <cstdio>
#include <cstdlib>
extern "C" void __xp_launch_entry(void** args);
extern "C" void __xp_entry(void** args) {{
    __xp_launch_entry(args);
    {api}Error_t status = {api}DeviceSynchronize();
    if (status == {api}Success) status = {api}GetLastError();
    if (status != {api}Success) {{
        std::fprintf(stderr, "xpiler runtime error: the {api} runtime reported %s\\n", {api}GetErrorString(status));
        std::fflush(stderr);
        std::_Exit({RUNTIME_ERROR_EXIT});
    }}
}}
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


def library_source(code: str, dialect: str, entry: str, args: list[tuple[str, object]]) -> str:
    """What is compiled into the GPU library: the kernel, the entry wrapper, the event harness."""
    wrapper = entry_wrapper(code, dialect, entry, args, None, name="__xp_launch_entry")
    return f"{code}\n{wrapper}\n{event_harness(dialect)}"


def build_gpu_library(code: str, dialect: str, entry: str, args: list[tuple[str, object]], cache: Path) -> Path:
    """Compile `code` for this machine's GPU into a shared library under `cache` (reused when unchanged)."""
    gpu, reason = find_gpu(dialect)
    if gpu is None:
        raise XpilerError("XP005", f"no {dialect} GPU on this machine: {reason}",
                          hint="the CPU executor runs it without one; devices.remote reaches a machine with one")
    compiler, flags, _, _ = GPU_TOOLCHAINS[dialect]
    source = library_source(code, dialect, entry, args)
    key = hashlib.sha256("\0".join([gpu, source, *flags]).encode()).hexdigest()[:32]
    library = cache / f"gpu-{key}.so"
    if library.exists():
        return library
    with tempfile.TemporaryDirectory(prefix="xpiler-gpu-build-") as tmp:
        src = Path(tmp) / "kernel"
        src.write_text(source)
        proc = subprocess.run([shutil.which(compiler), *flags, "-I", str(RUNTIME_DIR), str(src), "-o",
                               str(Path(tmp) / "kernel.so")], capture_output=True, text=True)
        if proc.returncode != 0:
            raise XpilerError("XP201", f"{compiler} could not build the kernel", detail=proc.stderr[-4000:])
        atomic_write_bytes(library, (Path(tmp) / "kernel.so").read_bytes())
    return library
