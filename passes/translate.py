"""The translation driver: one canonical pass order for all 12 directions, written once (docs/translation.md).

    parse -> detensorize -> recover_loops -> normalize -> parallelize -> schedule (split/reorder/fuse/contract) -> bind(target) -> print

Every intermediate program is executable, so a failing direction can be localized by running the `module`s
of the pass records' steps; each step raises a coded XpilerError (PassRefused for a pass) instead of returning a
program it is not sure about. The result is compiled with the target's real toolchain where it is installed
(g++ for cpp, nvcc for cuda, hipcc for hip) and always built by the CPU executor (the only BANG "compiler" here).
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kernel_ir.detect import detect_dialect
from kernel_ir.diagnostics import XpilerError
from kernel_ir.dialects import print_module
from kernel_ir.entry import NUMPY_DTYPE, find_entry
from kernel_ir.ir import Function, Module, PointerType, ScalarType, Verbatim
from kernel_ir.parse import parse
from passes.base import PassRecord

DIALECTS = ("cuda", "hip", "bang", "cpp")
COMPILE_TIMEOUT_S = 300


@dataclass(frozen=True)
class CompileResult:
    """One compiler run on the translated code: ok None means the tool is not installed (nothing was tried)."""

    tool: str
    command: str
    ok: bool | None
    output: str = ""

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Translation:
    code: str
    source_dialect: str
    target_dialect: str
    entry: str
    module: Module
    passes: tuple[PassRecord, ...]
    compile_results: tuple[CompileResult, ...]
    elapsed_s: float

    def to_json(self) -> dict:
        return {"source_dialect": self.source_dialect, "target_dialect": self.target_dialect, "entry": self.entry,
                "passes": [dataclasses.asdict(p) for p in self.passes],
                "compile": [c.to_json() for c in self.compile_results], "elapsed_s": round(self.elapsed_s, 3)}


@dataclass(frozen=True)
class ScheduleStep:
    """One loop-form transformation applied between recover_loops and bind: `pass_name` is a key of
    SCHEDULE_PASSES, `options` that pass's options without `function` (always the entry)."""

    pass_name: str
    options: tuple[tuple[str, object], ...] = ()

    def to_json(self) -> dict:
        return {"pass": self.pass_name, **dict(self.options)}


@dataclass(frozen=True)
class TranslateOptions:
    """The knobs of a translation (what autotune searches): every field has a sensible default.

    block_size: CUDA/HIP threads per block; schedule: loop-form transformations (split, reorder, fuse,
    contract) applied in order before bind. omp_threads / omp_schedule (cpp only): `num_threads(n)` and
    `schedule(kind)` clauses on every OpenMP loop bind emits (None: the OpenMP runtime's defaults). vector_width
    (cpp only): the SIMD width in bits g++ prefers for the file's loops (`#pragma GCC target`; None: 512 where
    simdize made SIMD loops of thread blocks, elsewhere the compiler's choice for -march=native, 256 bits on many
    AVX-512 CPUs). sum_registers (cpp, thread-block kernels): how many vector registers of that width a register
    tile's sums may take in the SIMD loops simdize makes (16 suits AVX-512's 32 registers, 8 at 256 bits suits
    AVX2's 16). cpu_tune (cpp only): the CPU whose cost model g++ schedules and allocates registers by
    (`#pragma GCC target("tune=...")`; "native": -march=native's own). The models differ in what they take a
    load folded into an arithmetic instruction to cost: on an AMD Zen host g++'s own model folds an operand that
    several FMAs read into each of them, one load per FMA (gemm's register tile: 8 loads per 8 FMAs, at the load
    ports' limit), where its Skylake model keeps it in a register (bench/results/cpp_vs_numpy.md). lane_tables
    (cpp, after simdize): what its SIMD loops compute the same in every iteration of a
    serial loop is computed once, into tables (not a tuning knob: it does not make a loop slower; off, for
    comparison). jam_loop (cpp): a parallel loop, "var" or "var@occurrence" (a CUDA block axis such as "xp_by"),
    unrolled jam_factor times with its copies jammed (passes/jam.py: neighbouring blocks share what they compute
    alike; conv2d's filters share each input load); None: no jam. serial_jam_loop (cpp): a serial loop around
    SIMD loops, named the same way on the form simdize and lane_tables print, unrolled serial_jam_factor times with
    its copies jammed, so the SIMD loops' sums stay in registers across its iterations (conv2d's filter taps `kw`);
    applied before jam_loop. constants: the source's tile-size constants (`#define BK 16`, `constexpr int BM = 64;`)
    set to these values before anything else (passes/retile.py: a deeper k slab keeps a register tile's sums in
    registers longer); the translation is still verified against the source as written. task_dim (BANG sources): the tasks (taskDim)
    the translation runs the kernel on, a multiple of the 4 cores of a cluster. A BANG program leaves that number to its caller, and 16 tasks become 16 GPU
    threads; verification runs the source on 16 and checks that the translation computes the same.
    """

    block_size: int = 256
    schedule: tuple[ScheduleStep, ...] = ()
    omp_threads: int | None = None
    omp_schedule: str | None = None
    vector_width: int | None = None
    sum_registers: int = 16
    cpu_tune: str = "native"
    task_dim: int = 16
    constants: tuple[tuple[str, int], ...] = ()
    # target optimizations after bind (each skipped, with its reason recorded, when it does not apply):
    # cache: stage tiles of `tile` iterations on chip; tensorize: vector/matrix intrinsics on them;
    # pipeline: double-buffer the tiles' loads
    cache: bool = True
    tile: int = 2048
    simdize: bool = True  # cpp: thread loops of block kernels innermost (passes/simdize.py)
    lane_tables: bool = True  # cpp: what simdize's loops compute the same in every step, once (passes/lane_tables.py)
    jam_loop: str | None = None  # cpp: this parallel loop ("var" or "var@occurrence") unrolled and jammed
    jam_factor: int = 2  # ... by this many iterations (passes/jam.py)
    serial_jam_loop: str | None = None  # cpp: this serial loop around SIMD loops unrolled and jammed (before jam_loop)
    serial_jam_factor: int = 3  # ... by this many iterations
    tensorize: bool = True
    pipeline: bool = True


def _schedule_passes() -> dict:
    from passes.contract import ContractOptions, contract
    from passes.fuse import FuseOptions, fuse
    from passes.reorder import ReorderOptions, reorder
    from passes.split import SplitOptions, split
    from passes.unroll import UnrollOptions, unroll
    return {"split": (split, SplitOptions), "reorder": (reorder, ReorderOptions), "fuse": (fuse, FuseOptions),
            "contract": (contract, ContractOptions), "unroll": (unroll, UnrollOptions)}


def apply_schedule(module: Module, entry: str, schedule: tuple[ScheduleStep, ...]) -> Module:
    """The loop form after each step of `schedule` (a PassRefused from a step names that step)."""
    passes = _schedule_passes()
    for step in schedule:
        if step.pass_name not in passes:
            raise XpilerError("XP002", f"unknown schedule pass {step.pass_name!r}",
                              hint=f"use one of {', '.join(passes)}")
        run, options_type = passes[step.pass_name]
        module = run(module, options_type(function=entry, **dict(step.options)))
    return module


def front_half(module: Module, task_dim: int = TranslateOptions.task_dim) -> tuple[Module, list[PassRecord]]:
    """The source module as the loop form every direction meets at (steps 1-2b of translate), with the records.
    Also what autotune reads to build its search space, so the loops it names are the loops the schedule sees.
    task_dim: the tasks a BANG source's task loop runs (TranslateOptions.task_dim)."""
    records: list[PassRecord] = []
    # 1. Intrinsics (wmma/MFMA, __bang_*, __memcpy, AVX-512/VNNI) become loops first: recover_loops and bind
    #    only reason about scalar code, and a BANG program's __memcpy must be a loop before its task loop forms.
    from passes.detensorize import detensorize
    module = detensorize(module)
    records.append(PassRecord("detensorize", {}, "intrinsics -> scalar loops"))

    # 2. Launches, hardware indices and barriers become parallel loop nests: the loop form every direction
    #    meets at (a cpp module), where the entry keeps its name and parameters.
    from passes.recover_loops import RecoverOptions, recover_loops
    recover_options = RecoverOptions(task_dim=task_dim)
    module = recover_loops(module, recover_options)
    records.append(PassRecord("recover_loops", dataclasses.asdict(recover_options), "-> loop form"))

    # 2b. SIMT iteration spaces (block x thread loops, grid-stride loops) become flat parallel loops where that
    #     provably means the same: the shape schedule, bind and the target optimizations work on. Never refuses.
    from passes.normalize import NormalizeOptions, normalize_and_report
    normalize_options = NormalizeOptions()
    module, normalized = normalize_and_report(module, normalize_options)
    records.append(PassRecord("normalize", dataclasses.asdict(normalize_options),
                              "; ".join(normalized) or "no block loop nest"))

    # 2c. Loops the source left serial but whose iterations are provably independent (plain C) become parallel,
    #     so that bind spreads them instead of running them on one thread. Never refuses.
    from passes.parallelize import ParallelizeOptions, parallelize_and_report
    parallelize_options = ParallelizeOptions()
    module, parallelized = parallelize_and_report(module, parallelize_options)
    records.append(PassRecord("parallelize", dataclasses.asdict(parallelize_options),
                              "; ".join(parallelized) or "no serial loop found independent"))
    return module, records


def translate(source: str, target: str, source_dialect: str | None = None, entry: str | None = None,
              native_compile: bool = True, options: TranslateOptions | None = None) -> Translation:
    """`source` ported to `target`; raises XpilerError (a PassRefused names the pass and why) when it cannot.

    native_compile: also compile with the target's own toolchain when installed (slow: nvcc takes seconds).
    options: the translation's knobs (defaults: TranslateOptions()).
    """
    options = options or TranslateOptions()
    start = time.perf_counter()
    if target not in DIALECTS:
        raise XpilerError("XP001", f"unknown target dialect {target!r}", hint=f"use one of {', '.join(DIALECTS)}")
    dialect = source_dialect or detect_dialect(source)
    if dialect not in DIALECTS:
        raise XpilerError("XP001", f"unknown source dialect {dialect!r}", hint=f"use one of {', '.join(DIALECTS)}")
    records: list[PassRecord] = []
    if options.constants:
        from passes.retile import retile
        source = retile(source, dict(options.constants))
        records.append(PassRecord("retile", dict(options.constants)))
    module = parse(source, dialect)
    entry_name = find_entry(module, entry).name
    records.append(PassRecord("parse", {"dialect": dialect}, f"entry {entry_name}"))

    module, front_records = front_half(module, options.task_dim)
    records.extend(front_records)

    # 3. Schedule: loop-form rewrites chosen by the user or the tuner; each one is dependence-checked.
    module = apply_schedule(module, entry_name, options.schedule)
    records.extend(PassRecord(step.pass_name, step.to_json()) for step in options.schedule)

    # 3b. cpp: the thread loops of CUDA/HIP blocks move innermost, around straight-line code, so that gcc
    #     vectorizes across threads (SIMT -> SIMD). Before bind, which still sees the thread axes. Never refuses.
    simdized: list[str] = []
    if target == "cpp" and options.simdize:
        from passes.simdize import SimdizeOptions, simdize_and_report
        bits = options.vector_width or SIMT_VECTOR_WIDTH
        simdize_options = SimdizeOptions(register_bytes=options.sum_registers * bits // 8, vector_bytes=bits // 8)
        module, simdized = simdize_and_report(module, simdize_options)
        records.append(PassRecord("simdize", dataclasses.asdict(simdize_options),
                                  "; ".join(simdized) or "no thread loop nest moved"))
        if options.lane_tables and simdized:
            from passes.lane_tables import lane_tables_and_report
            module, tabulated = lane_tables_and_report(module)
            records.append(PassRecord("lane_tables", {}, "; ".join(tabulated) or "no SIMD loop computed once"))
    for loop, factor in ((options.serial_jam_loop, options.serial_jam_factor), (options.jam_loop, options.jam_factor)):
        if target == "cpp" and loop is not None:
            from passes.jam import JamOptions, jam
            var, _, occurrence = loop.partition("@")
            jam_options = JamOptions(entry_name, var, factor, int(occurrence or 0))
            module = jam(module, jam_options)
            records.append(PassRecord("jam", dataclasses.asdict(jam_options)))

    # 4. The loop form becomes the target's program model (kernels + launcher, tasks, OpenMP). It comes last
    #    because it is the only step that knows the target.
    from passes.bind import BindOptions, bind
    bind_options = BindOptions(block_size=options.block_size,
                               buffer_elements=source_buffer_elements(parse(source, dialect), entry_name))
    module = bind(module, target, bind_options)
    bind_record = {"target": target, "block_size": bind_options.block_size,
                   "buffer_elements": {name: str(count) for name, count in bind_options.buffer_elements}}
    records.append(PassRecord("bind", bind_record))

    # 5. What a platform expert adds, in this order: cache makes the on-chip tiles, tensorize works on the loops
    #    over those tiles, pipeline double-buffers the loads cache made (and the buffers tensorize reads).
    module, optimized = optimize(module, options)
    records.extend(optimized)

    # 6. OpenMP clauses (cpp): last, on the final pragmas (tensorize may have merged `omp simd` into them).
    if target == "cpp" and (options.omp_threads is not None or options.omp_schedule is not None):
        module = openmp_clauses(module, options.omp_threads, options.omp_schedule)
        records.append(PassRecord("openmp_clauses", {"num_threads": options.omp_threads,
                                                     "schedule": options.omp_schedule}))
    vector_width = options.vector_width
    if vector_width is None and target == "cpp" and options.simdize and simdized:
        vector_width = SIMT_VECTOR_WIDTH
    if target == "cpp" and simdized:
        module = speculated_float_arithmetic(module)
        records.append(PassRecord("speculated_float_arithmetic", {"pragma": NO_TRAPPING_MATH}))
    if target == "cpp" and vector_width is not None:
        module = preferred_vector_width(module, vector_width)
        records.append(PassRecord("vector_width", {"bits": vector_width}))
    if target == "cpp" and options.cpu_tune != "native":
        module = cost_model(module, options.cpu_tune)
        records.append(PassRecord("cpu_tune", {"cpu": options.cpu_tune}))

    code = print_module(module, target)
    compiled = compile_checks(code, target, module.function(entry_name), native_compile)
    return Translation(code, dialect, target, entry_name, module, tuple(records), compiled,
                       time.perf_counter() - start)


OMP_SCHEDULES = ("static", "dynamic", "guided")
VECTOR_WIDTHS = (128, 256, 512)
# the width for SIMD loops simdize made of thread blocks when the options name none: with 256 (g++'s choice for
# -march=native on many AVX-512 CPUs) a register tile of 16 lanes takes two registers per sum and spills; 512 was
# faster on gemm, conv2d and softmax, slower on layernorm (bench/results/cpp_vs_numpy.md); a tuning knob too
SIMT_VECTOR_WIDTH = 512


def preferred_vector_width(module: Module, bits: int) -> Module:
    """The module asking g++ for `bits`-wide SIMD in its functions (a tuning knob: the same operations in wider
    registers, so the same results; compilers other than g++ ignore the pragma)."""
    if bits not in VECTOR_WIDTHS:
        raise XpilerError("XP002", f"vector_width must be one of {', '.join(map(str, VECTOR_WIDTHS))}, got {bits}")
    return module.with_definitions(Verbatim(f'#pragma GCC target("prefer-vector-width={bits}")'))


# g++ -mtune values, "native" first: the host's model and models of both vendors' cores, which differ in how
# they weigh memory operands against registers (TranslateOptions.cpu_tune)
CPU_TUNES = ("native", "skylake", "znver3")


def cost_model(module: Module, cpu: str) -> Module:
    """The module asking g++ to tune its functions for `cpu` (a tuning knob: the same operations, scheduled and
    given registers by another CPU's costs, so the same results; compilers other than g++ ignore the pragma)."""
    if cpu not in CPU_TUNES[1:]:
        raise XpilerError("XP002", f"cpu_tune must be one of {', '.join(CPU_TUNES)}, got {cpu!r}")
    return module.with_definitions(Verbatim(f'#pragma GCC target("tune={cpu}")'))


NO_TRAPPING_MATH = '#pragma GCC optimize("no-trapping-math")'


def speculated_float_arithmetic(module: Module) -> Module:
    """The module compiled as if float operations raised no trap (g++'s -fno-trapping-math), first in the file
    so that every function, the headers' inline ones too, has the same setting (g++ does not inline a function
    into one compiled with another).

    Why: simdize's SIMD loops guard each lane's work (`if (active) acc[t] += x[i] * w;`). To vectorize such a loop
    g++ must run the guarded float operations on every lane, which it does only where it may assume they do not
    trap, or where it can mask them (AVX-512): on an AVX2 CPU those loops stayed scalar. What it computes is
    unchanged: the option speaks only of floating-point exceptions, which no kernel here observes (the same
    values, bit for bit: the executor's own native run of the result is built with it too)."""
    if NO_TRAPPING_MATH in module.preamble:
        return module
    return dataclasses.replace(module, preamble=(*module.preamble, NO_TRAPPING_MATH))


def openmp_clauses(module: Module, threads: int | None, schedule: str | None) -> Module:
    """Add `num_threads`/`schedule` clauses to the `omp parallel for` pragmas bind put on cpp loops (tuning knobs:
    they change how iterations are distributed, never which iterations run, so the result stays the same)."""
    from kernel_ir.ir import For, transform

    if threads is not None and threads < 1:
        raise XpilerError("XP002", f"omp_threads must be >= 1, got {threads}")
    if schedule is not None and schedule not in OMP_SCHEDULES:
        raise XpilerError("XP002", f"unknown omp_schedule {schedule!r}", hint=f"use one of {', '.join(OMP_SCHEDULES)}")
    clauses = (f" num_threads({threads})" if threads is not None else "") + \
              (f" schedule({schedule})" if schedule is not None else "")

    def add_clauses(node):
        if not isinstance(node, For):
            return None
        pragmas = list(node.pragmas)
        at = next((k for k, p in enumerate(pragmas) if p.startswith("omp parallel for")), None)
        if at is None:
            return None
        if pragmas[at + 1:at + 2] == ["omp simd"]:  # one directive: a clause must not end up between the two
            pragmas[at:at + 2] = [pragmas[at].replace("omp parallel for", "omp parallel for simd", 1)]
        pragmas[at] += clauses
        return dataclasses.replace(node, pragmas=tuple(pragmas))

    return transform(module, add_clauses)


def optimize(module: Module, options: TranslateOptions) -> tuple[Module, list[PassRecord]]:
    """The bound program after the optional target optimizations that apply; a refusal keeps the program as it
    was (still correct) and is recorded as "skipped: <reason>"."""
    from passes.base import PassRefused
    from passes.cache import CacheOptions, cache
    from passes.pipeline import PipelineOptions, pipeline
    from passes.tensorize import TensorizeOptions, tensorize

    steps = [("cache", options.cache, cache, CacheOptions(tile=options.tile)),
             ("tensorize", options.tensorize, tensorize, TensorizeOptions()),
             ("pipeline", options.pipeline, pipeline, PipelineOptions())]
    records = []
    for name, enabled, run, pass_options in steps:
        if not enabled:
            continue
        try:
            module, note = run(module, pass_options), "applied"
        except PassRefused as refusal:
            note = f"skipped: {refusal.message}"
        records.append(PassRecord(name, dataclasses.asdict(pass_options), note))
    return module, records


def source_buffer_elements(module: Module, entry: str) -> tuple:
    """Element counts of the entry's buffers as the source states them (a CUDA/HIP launcher's copies are exact).

    Only counts in the integer parameters are kept; an analysis failure just means no hint.
    """
    from kernel_ir.extents import infer_extents
    from kernel_ir.lower_cpu import DEFAULT_BANG_LAUNCH

    try:
        extents = infer_extents(module, entry, launch=DEFAULT_BANG_LAUNCH if module.dialect == "bang" else None)
    except Exception:  # noqa: BLE001 - a hint only: bind sizes buffers from the loop form without it
        return ()
    integer_params = {p.name for p in module.function(entry).params
                      if isinstance(p.type, ScalarType) and p.type.dtype.is_int}
    return tuple((name, e.elements) for name, e in extents.items()
                 if e.elements is not None and {s.name for s in e.elements.free_symbols} <= integer_params)


# ------------------------------------------------------------------------------------------------ compiling ---

_TOOLCHAINS = {
    "cpp": ("g++", ["-std=c++17", "-O2", "-fopenmp", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512vnni",
                    "-mf16c", "-mfma", "-c", "-x", "c++"], {}),
    "cuda": ("nvcc", ["-arch=sm_80", "-c", "-x", "cu"], {}),
    "hip": ("hipcc", ["--offload-arch=gfx90a", "-c", "-x", "hip"], {"HIP_PLATFORM": "amd"}),
}


def compile_checks(code: str, dialect: str, entry: Function, native: bool = True) -> tuple[CompileResult, ...]:
    """The target toolchain's verdict (when installed and asked for) and the CPU executor's build (always)."""
    results = []
    if native and dialect in _TOOLCHAINS:
        results.append(toolchain_compile(code, dialect))
    results.append(executor_build(code, dialect, entry))
    return tuple(results)


def toolchain_compile(code: str, dialect: str) -> CompileResult:
    tool, flags, env = _TOOLCHAINS[dialect]
    path = shutil.which(tool)
    command = " ".join([*(f"{k}={v}" for k, v in env.items()), tool, *flags, "kernel", "-o", "kernel.o"])
    if path is None:
        return CompileResult(tool, command, None, f"{tool} is not installed: not compiled")
    with tempfile.TemporaryDirectory(prefix="xpiler-compile-") as tmp:
        src = Path(tmp) / "kernel"
        src.write_text(code)
        try:
            proc = subprocess.run([path, *flags, str(src), "-o", str(Path(tmp) / "kernel.o")], capture_output=True,
                                  text=True, timeout=COMPILE_TIMEOUT_S, env={**os.environ, **env}, cwd=tmp)
        except subprocess.TimeoutExpired:
            return CompileResult(tool, command, False, f"timed out after {COMPILE_TIMEOUT_S} s")
    return CompileResult(tool, command, proc.returncode == 0, (proc.stderr + proc.stdout)[-4000:])


def executor_build(code: str, dialect: str, entry: Function) -> CompileResult:
    from kernel_ir.executor import build

    command = f"CPU executor build ({dialect} emulation)"
    try:
        build(code, dialect, entry.name, placeholder_args(entry))
    except XpilerError as err:
        return CompileResult("executor", command, False, err.message[-4000:])
    return CompileResult("executor", command, True)


def placeholder_args(entry: Function) -> list[tuple[str, object]]:
    """Arguments with the entry's types (the build only needs the types)."""
    args: list[tuple[str, object]] = []
    for p in entry.params:
        t = p.type.pointee if isinstance(p.type, PointerType) else p.type
        dtype = np.dtype(NUMPY_DTYPE[t.dtype]) if isinstance(t, ScalarType) else np.dtype("float32")
        args.append((p.name, np.zeros(1, dtype) if isinstance(p.type, PointerType) else dtype.type(0)))
    return args


# ------------------------------------------------------------------------------------------------ reports -----

@dataclass(frozen=True)
class CheckedTranslation:
    """A translation with the evidence that it means the same (None when verification was not asked for)."""

    translation: Translation
    verification: object | None  # passes.verify.Verification

    @property
    def status(self) -> str:
        return self.verification.status if self.verification is not None else "not verified (skipped)"

    def to_json(self) -> dict:
        verification = self.verification.to_json() if self.verification is not None \
            else {"status": "skipped", "reason": "verification was turned off"}
        return {**self.translation.to_json(), "verification": verification}


def translate_checked(source: str, target: str, source_dialect: str | None = None, entry: str | None = None,
                      verify_result: bool = True, sizes: dict | None = None,
                      options: TranslateOptions | None = None) -> CheckedTranslation:
    """translate(), then (unless turned off) run source and result on the same inputs (passes.verify), also on
    sizes that run the result's fast versions."""
    from passes.verify import verify_translation

    translation = translate(source, target, source_dialect, entry, options=options)
    if not verify_result:
        return CheckedTranslation(translation, None)
    verification = verify_translation(source, translation.source_dialect, translation, sizes=sizes)
    rejected = [c for c in translation.compile_results if c.ok is False]
    if rejected and verification.status == "verified":
        # agreement on the executor does not make code the target's own compiler rejects a translation
        first = next((line for line in rejected[0].output.splitlines() if "error" in line), rejected[0].output[:200])
        verification = dataclasses.replace(verification, status="failed", reason=f"{rejected[0].tool} rejects the "
                                           f"result ({first.strip()}); on the CPU executor: {verification.reason}")
    return CheckedTranslation(translation, verification)
