"""LocalCPU: cpp results built natively as a user builds them (g++ -O3 -march=native -fopenmp: not the exact
arithmetic flags the executor verifies with, see kernel_ir.executor.USER_FLAGS) and timed on this machine's
cores."""
from __future__ import annotations

import functools
import os
import platform

from devices.base import MEASUREMENT, Device, MeasureJob, Measurement
from devices.timing import time_library
from kernel_ir.diagnostics import XpilerError
from kernel_ir.executor import USER_FLAGS, build


@functools.cache
def _cpuinfo(key: str) -> str | None:
    """The value of the first `key` line of /proc/cpuinfo (None where there is none or it cannot be read)."""
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.split(":", 1)[0].strip() == key), None)
    except OSError:
        return None


def cpu_flags() -> frozenset[str]:
    """The instruction set extensions /proc/cpuinfo lists (empty where it cannot be read)."""
    return frozenset((_cpuinfo("flags") or "").split())


def cpu_vendor() -> str | None:
    """/proc/cpuinfo's vendor_id (GenuineIntel, AuthenticAMD; None where it cannot be read)."""
    return _cpuinfo("vendor_id")


def vector_preference(flags: frozenset[str]) -> dict:
    """simdize's sizes for a CPU: its vector width and half its vector registers for a register tile's sums
    (AVX-512: 512 bits, 16 of 32 zmm; AVX2: 256 bits, 8 of 16 ymm, where the default tile of 16 zmm-sized sums
    spills: gemm ran 6.6 ms with it against 5.0 ms on an AVX2 EPYC)."""
    if "avx512f" in flags:
        return {"vector_width": 512, "sum_registers": 16}
    if "avx2" in flags:
        return {"vector_width": 256, "sum_registers": 8}
    return {}


def cost_model_preference(vendor: str | None) -> dict:
    """The g++ cost model for a CPU's vendor (TranslateOptions.cpu_tune): on AMD Zen, g++'s own model folds an
    operand load into every FMA that reads it, one load per FMA; its Skylake model keeps the operand in a register
    (bench/side_by_side.py on an AVX2 EPYC: gemm and conv2d 13-20 % faster). It also leaves guarded SIMD loops
    scalar, pricing AVX2's masked loads high (softmax 3-4x slower, layernorm up to 1.5x), which is why the tuner's
    untuned first trial and its search keep the choice open. Elsewhere g++'s own."""
    return {"cpu_tune": "skylake"} if vendor == "AuthenticAMD" else {}


@functools.cache
def l1d_bytes() -> int | None:
    """The level-1 data cache of one core, as sysfs describes cpu0's caches (None where it does not)."""
    root = "/sys/devices/system/cpu/cpu0/cache"

    def read(index: str, name: str) -> str:
        with open(os.path.join(root, index, name)) as f:
            return f.read().strip()

    try:
        for index in sorted(os.listdir(root)):
            if read(index, "level") == "1" and read(index, "type") in ("Data", "Unified"):
                size = read(index, "size")
                return int(size.rstrip("KM")) * {"K": 1024, "M": 1024 * 1024}.get(size[-1:], 1)
    except (OSError, ValueError):
        return None
    return None


def cpu_name() -> str:
    """'<model> x<cores>': trials measured on another CPU model or core count are another device's."""
    return f"{_cpuinfo('model name') or platform.processor() or platform.machine()} x{os.cpu_count()}"


class LocalCPU(Device):
    kind = MEASUREMENT
    dialects = ("cpp",)

    def __init__(self):
        self.name = f"local-cpu:{cpu_name()}"
        self.build = " ".join(("g++", *USER_FLAGS))

    def preferred(self, target: str) -> dict:
        """All its cores, shared out `guided` (chunks shrink as the work runs out, so a core another process slows
        holds the others up less: the tuner chose it for 3 of the 5 multi-threaded operators of
        bench/cpp_vs_numpy.py on a 2-core EPYC VM, and gemm ran 2.5-2.9 ms with it against 3.1-3.5 static), and
        simdize's sizes for its vector registers (vector_preference) and g++'s cost model for its vendor's cores
        (cost_model_preference). Not a knob: `l1d_bytes`, one core's data cache, which a block's staged tiles
        may fill (autotune.tuner.suggested deepens a slab that far)."""
        if target != "cpp":
            return {}
        cache = {"l1d_bytes": size} if (size := l1d_bytes()) else {}
        return {"omp_threads": os.cpu_count() or 1, "omp_schedule": "guided", **vector_preference(cpu_flags()),
                **cost_model_preference(cpu_vendor()), **cache}

    def measure(self, job: MeasureJob) -> Measurement:
        if job.dialect != "cpp":
            raise XpilerError("XP005", f"the local CPU runs cpp, not {job.dialect}",
                              hint="use devices.local_device(dialect) to get the device for that dialect")
        library = build(job.code, "cpp", job.entry, job.args, native=True, as_user=True)
        return Measurement.of(self.name, MEASUREMENT, time_library(library, job.args, job.repeats, job.timeout_s),
                              self.build)
