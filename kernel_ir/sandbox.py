"""Run a built kernel in a child process with wall-clock, CPU, memory and file-size limits.

A kernel is untrusted code: it may crash, hang, write out of bounds or eat memory. Running it in a child keeps
the user's Jupyter kernel alive whatever happens, and the exit status tells us what did happen.
"""
from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .diagnostics import XpilerError

RUNTIME_ERROR_EXIT = 86  # the emulation headers exit with this after printing a diagnosis

# OpenMP threads that wait by spinning (libgomp's default when OMP_WAIT_POLICY is unset: 300,000 spins, some
# milliseconds, after every parallel region and at every barrier) keep their core busy while they wait. Where
# other processes share the cores, the scheduler runs those in between and the thread a barrier waits for is back
# only whole scheduler ticks later: a 2-thread region of microseconds measured 4-24 ms on a loaded 2-core machine
# (bench/openmp_wait.py). Not spinning at all (OMP_WAIT_POLICY=passive) cures that but costs every region a
# wake-up, 0.1 ms on an idle virtual machine (a 0.09 ms kernel measured 0.21 ms). A few thousand spins (tens to
# hundreds of microseconds) keep the team awake between back-to-back calls and are short against a 4 ms tick.
# libgomp's knob, as the kernels are built with g++ -fopenmp. Defaults only: a caller's own settings are kept.
OPENMP_WAIT_DEFAULTS = {"GOMP_SPINCOUNT": "3000"}
OPENMP_WAIT_SETTINGS = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME")


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 120.0
    memory_bytes: int | None = 8 << 30  # None: AddressSanitizer reserves terabytes of shadow address space
    file_bytes: int = 1 << 30


def child_environment(env: dict[str, str] | None) -> dict[str, str]:
    """The child's environment: ours, `env` over it, and the OpenMP wait defaults unless either sets a wait."""
    merged = {**os.environ, **(env or {})}
    if any(name in merged for name in OPENMP_WAIT_SETTINGS):
        return merged
    return {**OPENMP_WAIT_DEFAULTS, **merged}


def apply_limits(limits: Limits) -> None:
    """Runs in the child before exec: the resource limits, and a session of its own (a kill reaches it all)."""
    # OpenMP may keep every core busy for the whole time limit; the wall clock is the real bound
    cpu = int(limits.timeout_s * (os.cpu_count() or 1)) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    if limits.memory_bytes is not None:
        resource.setrlimit(resource.RLIMIT_DATA, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.setsid()


@contextmanager
def sandboxed_call(child: str, library: Path, args: list[tuple[str, object]], limits: Limits = Limits(),
                   env: dict[str, str] | None = None, settings: dict | None = None) -> Iterator[Path]:
    """Run `python -m <child> <work>` on `library` and `args` in a sandboxed child; yields the work folder, which
    holds what the child wrote (and is deleted afterwards). The child finds in work/: in.npz (arrays "a<i>", i the
    parameter position) and spec.json ({"library", "count", "scalars": {"a<i>": [dtype, value]}, **settings}).
    Every child (running the kernel, timing it) shares this setup, the limits and the diagnosis of its failure."""
    with tempfile.TemporaryDirectory(prefix="xpiler-run-") as tmp:
        work = Path(tmp)
        arrays = {f"a{i}": v for i, (_, v) in enumerate(args) if isinstance(v, np.ndarray)}
        scalars = {f"a{i}": [np.asarray(v).dtype.name, np.asarray(v).item()]
                   for i, (_, v) in enumerate(args) if not isinstance(v, np.ndarray)}
        np.savez(work / "in.npz", **arrays)
        spec = {"library": str(library), "count": len(args), "scalars": scalars, **(settings or {})}
        (work / "spec.json").write_text(json.dumps(spec))
        try:
            proc = subprocess.run(
                [sys.executable, "-m", child, str(work)],
                capture_output=True, text=True, timeout=limits.timeout_s,
                preexec_fn=lambda: apply_limits(limits), env=child_environment(env),
                cwd=tmp,
            )
        except subprocess.TimeoutExpired:
            raise XpilerError("XP302", f"the kernel did not finish within {limits.timeout_s:g} s (killed)",
                              hint="an infinite loop, a deadlock, or a problem too large for the CPU executor") from None
        if proc.returncode != 0:
            buffers_file = work / "buffers.json"
            buffers = {args[int(k[1:])][0]: v for k, v in json.loads(buffers_file.read_text()).items()} \
                if buffers_file.exists() else {}
            raise diagnose(proc.returncode, proc.stderr + proc.stdout, buffers)
        yield work


def run_library(library: Path, args: list[tuple[str, object]], limits: Limits = Limits(),
                env: dict[str, str] | None = None) -> dict[str, np.ndarray]:
    """Call `__xp_entry` of `library` on `args` in a sandboxed child; returns the final pointer arguments."""
    with sandboxed_call("kernel_ir.sandbox_child", library, args, limits, env) as work, \
            np.load(work / "out.npz") as out:
        return {args[int(k[1:])][0]: out[k] for k in out.files}


_ASAN_ACCESS = re.compile(r"(READ|WRITE) of size (\d+) at (0x[0-9a-f]+)")
_ASAN_REGION = re.compile(r"(\d+) bytes to the (left|right) of (\d+)-byte region \[(0x[0-9a-f]+),")
_ASAN_KIND = re.compile(r"AddressSanitizer: ([\w-]+)")
_USER_FRAME = re.compile(r"#\d+ 0x[0-9a-f]+ in (.+?) \S*?(kernel\.\w+:\d+)")


def describe_out_of_bounds(output: str, buffers: dict[str, list[int]]) -> str:
    """One sentence from an AddressSanitizer report: what was accessed, which buffer and index, where, by whom."""
    kind = _ASAN_KIND.search(output)
    parts = [kind.group(1) if kind else "invalid access"]
    access = _ASAN_ACCESS.search(output)
    if access:
        op, size, address = access.group(1).lower(), int(access.group(2)), int(access.group(3), 16)
        parts.append(f"{op} of {size} bytes")
        owner = next(((name, start, nbytes, item) for name, (start, nbytes, item) in buffers.items()
                      if start - 64 <= address < start + nbytes + 64), None)
        if owner:
            name, start, nbytes, item = owner
            parts.append(f"reaching {name}[{(address - start) // item}] ({name} has {nbytes // item} elements)")
        else:
            region = _ASAN_REGION.search(output)
            if region:
                parts.append(f"{region.group(1)} bytes {region.group(2)} of a {region.group(3)}-byte buffer "
                             "allocated by the kernel's own code")
    frame = _USER_FRAME.search(output)
    if frame:
        parts.append(f"in {frame.group(1)} at {frame.group(2)}")
    thread = re.search(r"xpiler thread: (.+)", output)
    if thread:
        parts.append(f"by {thread.group(1).strip()}")
    return ", ".join(parts[:2]) + (" " + " ".join(parts[2:]) if len(parts) > 2 else "")


def diagnose(returncode: int, output: str, buffers: dict[str, list[int]]) -> XpilerError:
    """The coded error for a child that failed, from its exit status and output (buffers: name -> [address,
    bytes, item size], to name the buffer an out-of-bounds access reached)."""
    tail = output.strip()[-4000:]
    if "AddressSanitizer" in output:
        return XpilerError("XP304", f"out-of-bounds memory access: {describe_out_of_bounds(output, buffers)}",
                           detail=tail, hint="fix the index or the bound that reaches outside the buffer")
    if returncode == RUNTIME_ERROR_EXIT:
        reason = next((ln.split("xpiler runtime error:", 1)[1].strip() for ln in output.splitlines()
                       if "xpiler runtime error:" in ln), tail)
        return XpilerError("XP303", reason, detail=tail)
    if returncode < 0:
        sig = signal.Signals(-returncode).name
        what = {"SIGSEGV": "segmentation fault (invalid memory access)", "SIGBUS": "bus error (misaligned or invalid access)",
                "SIGFPE": "arithmetic exception (integer division by zero?)", "SIGABRT": "the kernel aborted",
                "SIGXCPU": "CPU time limit exceeded", "SIGKILL": "killed (memory limit?)",
                "SIGXFSZ": "file size limit exceeded"}.get(sig, sig)
        return XpilerError("XP301", f"the kernel crashed: {what}", detail=tail,
                           hint="run with bounds checking to locate an out-of-bounds access")
    if "MemoryError" in output or "std::bad_alloc" in output:
        return XpilerError("XP305", "the kernel ran out of memory", detail=tail)
    return XpilerError("XP303", f"the kernel run failed (exit status {returncode})", detail=tail)
