"""The CPU executor: run a kernel of any dialect on numpy arrays with its platform's semantics.

The kernel is lowered to C++ (`lower_cpu`), compiled by g++ against the dialect's emulation header
(`runtime/xp_<dialect>.h`) into a shared library, and called in a sandboxed child process (`sandbox`).
Builds are cached by the hash of everything that goes into them, so re-running a kernel costs one process start.
"""
from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

import numpy as np

from .diagnostics import XpilerError
from .dialects import print_module
from .ir import Module
from .lower_cpu import RUNTIME_DIR, RUNTIME_HEADER, lower
from .native_gpu import GPU_TOOLCHAINS, build_gpu_library, gpu_limits
from .sandbox import Limits, run_library

INCLUDE_DIR = RUNTIME_DIR / "include"
BASE_FLAGS = ("-std=c++20", "-O2", "-fPIC", "-shared", "-pthread", "-fopenmp", "-fwrapv",
              "-ffp-contract=off", "-fno-strict-aliasing", "-w", "-Wno-psabi")
BOUNDS_FLAGS = ("-fsanitize=address", "-fno-omit-frame-pointer", "-g", "-O1")
NATIVE_FLAGS = ("-O3", "-march=native")  # cpp only: the real intrinsics on this CPU, with the emulation's exact flags
# cpp timed as a user builds the file: BASE_FLAGS' -fwrapv, -ffp-contract=off and -fno-strict-aliasing pin down
# what a source means when it is verified; a user's `g++ -O3` has none of them, and -fwrapv alone made g++ 12 give
# up on the vector indices of simdize's loops (gemm 2.2 -> 26 ms)
USER_FLAGS = ("-std=gnu++20", "-O3", "-march=native", "-fopenmp", "-fPIC", "-shared", "-pthread", "-w", "-Wno-psabi")

ExecutionError = XpilerError  # the name callers catch; every failure carries a code and a message


def cache_dir() -> Path:
    root = os.environ.get("XPILER_CACHE_DIR") or Path.home() / ".cache" / "xpiler"
    path = Path(root) / "builds"
    path.mkdir(parents=True, exist_ok=True)
    return path


@functools.cache
def _runtime_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted(RUNTIME_DIR.rglob("*.h")):
        digest.update(str(path.relative_to(RUNTIME_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def compile_flags(dialect: str, bounds_check: bool, native: bool = False, as_user: bool = False) -> list[str]:
    """as_user (native cpp only): the flags a user builds the file with, for timing (USER_FLAGS)."""
    if native:
        if dialect != "cpp":
            raise XpilerError("XP005", f"g++ cannot run {dialect} natively: it needs its device",
                              hint="native_gpu builds CUDA/HIP for a GPU; the CPU executor emulates them")
        own = USER_FLAGS if as_user else (*BASE_FLAGS, *NATIVE_FLAGS)
        return [*own, *(BOUNDS_FLAGS if bounds_check else ()), "-I", str(RUNTIME_DIR)]
    flags = [*BASE_FLAGS, *(BOUNDS_FLAGS if bounds_check else ()), "-I", str(INCLUDE_DIR), "-I", str(RUNTIME_DIR)]
    return flags + ["-include", str(RUNTIME_DIR / RUNTIME_HEADER[dialect])]


def build(source: str, dialect: str, entry: str, args: list[tuple[str, object]], launch: dict | None = None,
          bounds_check: bool = False, native: bool = False, as_user: bool = False) -> Path:
    """Compile the lowered kernel into a shared library (cached) and return its path."""
    lowered = lower(source, dialect, entry, args, launch)
    flags = compile_flags(dialect, bounds_check, native, as_user)
    key = hashlib.sha256("\0".join([_runtime_fingerprint(), lowered.source, *flags]).encode()).hexdigest()[:32]
    library = cache_dir() / f"{key}.so"
    if _usable_cached_library(library):
        return library
    compiler = shutil.which("g++")
    if compiler is None:
        raise XpilerError("XP201", "g++ is not installed", hint="install it (apt-get install g++)")
    with tempfile.TemporaryDirectory(prefix="xpiler-build-") as tmp:
        src = Path(tmp) / "lowered.cpp"
        src.write_text(lowered.source)
        out = Path(tmp) / "kernel.so"
        proc = subprocess.run([compiler, *_with_precompiled_header(compiler, flags), "-o", str(out), str(src)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise compile_error(proc.stderr, lowered.filename)
        staged = library.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(out, staged)
        os.replace(staged, library)  # atomic: a concurrent run sees the whole library or none
    return library


def precompiled_header_dir() -> Path:
    """The user's cache of precompiled emulation headers (~/.cache/xpiler/pch), shared by every build cache: at
    40-80 MB each they do not belong in the `.xpiler/` next to a notebook, and they depend only on their key."""
    return Path.home() / ".cache" / "xpiler" / "pch"


def _with_precompiled_header(compiler: str, flags: list[str]) -> list[str]:
    """flags with the emulation header they force-include (`-include xp_cuda.h`) replaced by a stub beside its
    precompiled form, built once per compiler, flags and runtime (`precompiled_header_dir`).

    Why: parsing the emulation headers took about 1 s of every 1.5 s build, and verifying one translation builds
    several kernels. g++ reads the stub's text instead when the precompiled header does not fit, and the stub
    includes the real header, so the library built is the same either way. Flags without a forced header, or a
    precompiled header that cannot be built or stored, are returned as they are."""
    if "-include" not in flags:
        return flags
    at = flags.index("-include") + 1
    header = flags[at]
    own = [f for i, f in enumerate(flags) if f != "-shared" and i not in (at - 1, at)]
    key = hashlib.sha256("\0".join([_runtime_fingerprint(), compiler, header, *own]).encode()).hexdigest()[:32]
    folder = precompiled_header_dir() / key
    stub = folder / Path(header).name
    compiled = folder / f"{stub.name}.gch"
    if not compiled.exists():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(suffix=".tmp", dir=folder)  # one name per builder, threads too
            os.close(handle)
            staged = Path(name)
            staged.write_text(f'#include "{header}"\n')
            os.replace(staged, stub)  # atomic, like the gch: a concurrent build sees a whole file or none
            proc = subprocess.run([compiler, *own, "-x", "c++-header", str(stub), "-o", str(staged)],
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                staged.unlink(missing_ok=True)
                return flags
            os.replace(staged, compiled)
        except OSError:  # no room, or no home to write to: build from the header's text
            return flags
    return [*flags[:at], str(stub), *flags[at + 1:]]


def _usable_cached_library(library: Path) -> bool:
    """A cached build is used only if it is a whole shared object; anything else (truncated by a full disk,
    overwritten by another tool) is reported and rebuilt, never fatal."""
    try:
        with open(library, "rb") as f:
            magic = f.read(4)
    except FileNotFoundError:
        return False
    if magic == b"\x7fELF" and library.stat().st_size > 64:
        return True
    warnings.warn(f"{library}: not a usable build (corrupt or foreign); rebuilding it", stacklevel=3)
    return False


def compile_error(stderr: str, filename: str) -> XpilerError:
    """The first compiler error, placed at the user's line and column."""
    for line in stderr.splitlines():
        parts = line.split(":", 4)
        if len(parts) == 5 and parts[3].strip() in ("error", "fatal error") and parts[1].isdigit():
            where = parts[0]
            message = parts[4].strip()
            if where.endswith(filename):
                return XpilerError("XP201", f"does not compile: {message}", int(parts[1]), int(parts[2]),
                                   hint="the CPU executor compiles the kernel with g++ against an emulation of the platform",
                                   detail=stderr[-4000:])
            return XpilerError("XP202", f"the executor cannot compile this kernel: {message} ({where})",
                               hint="a construct the emulation does not support yet", detail=stderr[-4000:])
    return XpilerError("XP201", "does not compile", detail=stderr[-4000:])


def execute(source: str, dialect: str, entry: str, args: list[tuple[str, object]], launch: dict | None = None,
            bounds_check: bool = False, timeout_s: float = 120.0, native: bool = False,
            reverse_order: bool = False, fresh_memory: int = 0) -> dict[str, np.ndarray]:
    """Run `entry` of `source` on `args` ((name, array or numpy scalar) in parameter order).

    Returns the final contents of every pointer argument by name. The input arrays are not modified.
    `native=True` runs the kernel for real: cpp built with the real intrinsics for this CPU instead of the
    portable emulation, CUDA/HIP built by nvcc/hipcc and run on this machine's GPU (XP005 where there is none).
    `reverse_order=True` runs the blocks and threads of every CUDA/HIP launch in the opposite order (emulation only),
    and the OpenMP loops of cpp code on one thread: in their written order, where a parallel run interleaves them.
    `fresh_memory` (a byte, emulation only) fills new CUDA/HIP device allocations with it instead of zeros.
    """
    if not timeout_s > 0:
        raise XpilerError("XP002", f"the time limit must be a positive number of seconds, got {timeout_s}")
    args = [(name, value if isinstance(value, np.ndarray) else np.asarray(value)[()]) for name, value in args]
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parent.parent), os.environ.get("PYTHONPATH")]))}
    if reverse_order:
        env["XP_THREAD_ORDER"] = "reverse"
        env["OMP_NUM_THREADS"] = "1"
    if fresh_memory:
        env["XP_FRESH_MEMORY"] = str(fresh_memory)
    if native and dialect in GPU_TOOLCHAINS:
        library = build_gpu_library(source, dialect, entry, args, cache_dir())
        return run_library(library, args, gpu_limits(timeout_s), env)
    library = build(source, dialect, entry, args, launch, bounds_check, native)
    limits = Limits(timeout_s=timeout_s)
    if bounds_check:
        env.update(asan_environment())
        limits = Limits(timeout_s=timeout_s, memory_bytes=None)
    return run_library(library, args, limits, env)


def execute_module(module: Module, entry: str, args: list[tuple[str, object]], **options) -> dict[str, np.ndarray]:
    """Run IR: print it in its own dialect and execute that (the printer is the lowering's first step)."""
    return execute(print_module(module), module.dialect, entry, args, **options)


@functools.cache
def asan_environment() -> dict[str, str]:
    runtime = subprocess.run(["g++", "-print-file-name=libasan.so"], capture_output=True, text=True).stdout.strip()
    if not runtime or not Path(runtime).exists():
        raise XpilerError("XP204", "bounds checking needs AddressSanitizer's runtime (libasan)",
                          hint="install it with apt-get install libasan8 (or the one matching your g++)")
    return {"LD_PRELOAD": runtime, "ASAN_OPTIONS": "detect_leaks=0:halt_on_error=1:allocator_may_return_null=1"}
