"""Check a translation by running it: source and result execute on the same generated inputs and must agree.

A translation is called "verified" only when both programs executed and every output agreed within the stated
tolerance; anything less says what was missing ("unverified": no inputs could be made or the source itself did not
run; "failed": the result did not compile or run; "mismatch": both ran and disagreed). The evidence (sizes,
inputs' shapes and dtypes, seed, errors, where each side ran) is kept for reports. A CUDA/HIP result runs on
the CPU executor and, where this machine has a GPU for it, natively too: it is verified only if both agree.

Inputs come from the entry's parameters: integer scalars are sizes (defaults below, overridable), float scalars
0.5, and every buffer is sized by `kernel_ir.extents` (the larger of what the source and the result touch).
Values avoid overflow: floats in [-1, 1], int8 in [-8, 8], uint8 in [0, 15]; integer inputs of 16 bits or more
may be indices, so they lie in [0, smallest size) and are distinct where possible (scatter-like kernels need that).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from kernel_ir.diagnostics import XpilerError
from kernel_ir.entry import NUMPY_DTYPE, find_entry
from kernel_ir.executor import execute
from kernel_ir.ir import DType, Function, PointerType, ScalarType
from kernel_ir.lower_cpu import DEFAULT_BANG_LAUNCH
from kernel_ir.native_gpu import find_gpu
from kernel_ir.parse import parse

DEFAULT_SIZES = (37, 19, 13, 7, 5, 3, 3, 2, 1, 1)  # not multiples of tile sizes; later parameters are usually small
DEFAULT_FLOAT_SCALAR = 0.5
MAX_ELEMENTS = 1 << 24  # per buffer: more is a sign the default sizes do not fit this kernel


@dataclass(frozen=True)
class Verification:
    """Outcome and evidence of one differential run (see the module docstring for the statuses)."""

    status: str
    reason: str
    sizes: dict = field(default_factory=dict)
    inputs: dict = field(default_factory=dict)  # name -> {"shape": [...], "dtype": "..."} or {"value": ...}
    seed: int = 0
    rtol: float = 0.0
    atol: float = 0.0
    max_abs_error: float | None = None
    max_rel_error: float | None = None
    outputs: dict = field(default_factory=dict)  # name -> {"max_abs_error", "max_rel_error", "agree"}
    ran_on: dict = field(default_factory=dict)  # "source" / "result" -> where it executed

    @property
    def verified(self) -> bool:
        return self.status == "verified"

    def to_json(self) -> dict:
        return {"status": self.status, "reason": self.reason, "sizes": self.sizes, "inputs": self.inputs,
                "seed": self.seed, "rtol": self.rtol, "atol": self.atol, "max_abs_error": self.max_abs_error,
                "max_rel_error": self.max_rel_error, "outputs": self.outputs, "ran_on": self.ran_on}


def verify(source: str, source_dialect: str, result: str, target_dialect: str, entry: str,
           sizes: dict | None = None, seed: int = 0, rtol: float = 1e-4, atol: float = 1e-4,
           args: list[tuple[str, object]] | None = None) -> Verification:
    """Execute `source` and `result` on the same inputs and compare every pointer argument afterwards.

    sizes: values of scalar parameters (others take the defaults); args: complete (name, value) arguments
    instead of generated ones (e.g. a spec's inputs, when the kernel needs valid indices).
    """
    common = {"seed": seed, "rtol": rtol, "atol": atol}
    try:
        source_entry = find_entry(parse(source, source_dialect), entry)
    except XpilerError as err:
        return Verification("unverified", f"the source does not parse: {err.diagnostic}", **common)
    if args is None:
        try:
            args, chosen = make_inputs(source, source_dialect, result, target_dialect, source_entry, sizes, seed)
        except XpilerError as err:
            return Verification("unverified", err.message, **common)
    else:
        chosen = {name: value.item() for name, value in args if not isinstance(value, np.ndarray)}
    evidence = {"sizes": chosen, "inputs": describe(args), **common}
    try:
        expected = execute(source, source_dialect, entry, args, launch=_launch(source_dialect))
    except XpilerError as err:
        return Verification("unverified", f"the source did not run: {err.diagnostic}", **evidence,
                            ran_on={"source": "CPU executor"})
    try:
        runs = run_result(result, target_dialect, entry, args)
    except XpilerError as err:
        return Verification("failed", f"the translation did not run: {err.diagnostic}", **evidence,
                            ran_on={"source": "CPU executor"})
    checks = [compare(expected, got, evidence, {"source": "CPU executor", "result": place}) for place, got in runs]
    worst = next((check for check in checks if not check.verified), None)
    if worst is not None:
        where = f" ({worst.ran_on['result']})" if len(checks) > 1 else ""
        return dataclasses.replace(worst, reason=worst.reason + where)
    places = " and ".join(place for place, _ in runs)
    largest_error = max(checks, key=lambda check: check.max_abs_error)  # the report states the loosest agreement
    return dataclasses.replace(largest_error, ran_on={"source": "CPU executor", "result": places})


def run_result(code: str, dialect: str, entry: str, args: list) -> list[tuple[str, dict]]:
    """(where, outputs) for every place the result runs here: cpp natively (g++ -march=native) when this CPU has
    what it uses, else on the CPU executor; CUDA/HIP on the CPU executor and also natively where a GPU is present.
    A native GPU run that fails is a failed translation like any other."""
    if dialect == "cpp":
        try:
            return [("native gcc", execute(code, dialect, entry, args, native=True))]
        except XpilerError as err:
            if err.code not in ("XP201", "XP202"):
                raise
    runs = [("CPU executor", execute(code, dialect, entry, args, launch=_launch(dialect)))]
    gpu, _ = find_gpu(dialect)
    if gpu is not None:
        runs.append((f"natively on {gpu}", execute(code, dialect, entry, args, native=True)))
    return runs


def _launch(dialect: str) -> dict | None:
    return dict(DEFAULT_BANG_LAUNCH) if dialect == "bang" else None


def make_inputs(source: str, source_dialect: str, result: str, target_dialect: str, entry: Function,
                sizes: dict | None, seed: int) -> tuple[list[tuple[str, object]], dict]:
    """Arguments for `entry` and the scalar values chosen; XpilerError when a buffer cannot be sized."""
    from kernel_ir.extents import infer_extents

    sizes = dict(sizes or {})
    scalars: dict[str, int | float] = {}
    defaults = iter(DEFAULT_SIZES)
    for p in entry.params:
        if isinstance(p.type, PointerType):
            continue
        dtype = p.type.dtype if isinstance(p.type, ScalarType) else None
        if p.name in sizes:
            scalars[p.name] = sizes.pop(p.name)
        elif dtype is not None and dtype.is_float:
            scalars[p.name] = DEFAULT_FLOAT_SCALAR
        elif dtype is not None and dtype.is_int:
            scalars[p.name] = next(defaults, 1)
        else:
            raise XpilerError("XP410", f"cannot choose a value for parameter {p.name!r} of type {p.type}")
    if sizes:
        raise XpilerError("XP409", f"{entry.name} has no scalar parameter named {', '.join(sorted(sizes))}")
    int_sizes = {k: int(v) for k, v in scalars.items() if float(v).is_integer()}
    elements: dict[str, int] = {}
    for code, dialect in ((source, source_dialect), (result, target_dialect)):
        try:
            module = parse(code, dialect)
        except XpilerError:
            if code is source:
                raise
            continue  # a result that does not parse is reported when it fails to run
        extents = infer_extents(module, entry.name, scalars=int_sizes, launch=_launch(dialect))
        for name, extent in extents.items():
            if extent.elements is None:
                raise XpilerError("XP411", f"cannot size buffer {name!r} ({dialect}): {extent.reason}",
                                  hint="give the sizes with `sizes=` / --size, or the arguments themselves")
            count = extent.evaluate(int_sizes, _launch(dialect))
            elements[name] = max(elements.get(name, 0), count)
    rng = np.random.default_rng(seed)
    smallest = min([v for v in int_sizes.values() if v > 0], default=1)
    args: list[tuple[str, object]] = []
    for p in entry.params:
        if not isinstance(p.type, PointerType):
            dtype = NUMPY_DTYPE[p.type.dtype]
            args.append((p.name, np.dtype(dtype).type(scalars[p.name])))
            continue
        count = elements.get(p.name, 0)
        if count < 0 or count > MAX_ELEMENTS:
            raise XpilerError("XP411", f"buffer {p.name!r} would hold {count} elements with sizes {scalars}",
                              hint="choose sizes that fit this kernel with `sizes=` / --size")
        pointee = p.type.pointee
        dtype = pointee.dtype if isinstance(pointee, ScalarType) else None
        if dtype is None:
            raise XpilerError("XP410", f"cannot make data for parameter {p.name!r} of type {p.type}")
        args.append((p.name, random_buffer(rng, count, dtype, smallest)))
    return args, scalars


def random_buffer(rng: np.random.Generator, count: int, dtype: DType, smallest: int) -> np.ndarray:
    numpy_dtype = np.dtype(NUMPY_DTYPE[dtype])
    if dtype.is_float:
        values = rng.uniform(-1.0, 1.0, count)
        if dtype == DType.bfloat16:  # stored as uint16 bits: the top half of a float32
            return (values.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
        return values.astype(numpy_dtype)
    if dtype == DType.bool:
        return rng.integers(0, 2, count).astype(numpy_dtype)
    if dtype.bits == 8:
        low, high = (-8, 8) if dtype.is_signed else (0, 15)
        return rng.integers(low, high + 1, count).astype(numpy_dtype)
    if count <= smallest:  # possible indices: in range of every dimension, and distinct
        return rng.permutation(smallest)[:count].astype(numpy_dtype)
    return rng.integers(0, smallest, count).astype(numpy_dtype)


def describe(args: list[tuple[str, object]]) -> dict:
    return {name: ({"shape": list(v.shape), "dtype": v.dtype.name} if isinstance(v, np.ndarray)
                   else {"value": np.asarray(v).item(), "dtype": np.asarray(v).dtype.name}) for name, v in args}


def compare(expected: dict, got: dict, evidence: dict, ran_on: dict) -> Verification:
    rtol, atol = evidence["rtol"], evidence["atol"]
    outputs, worst_abs, worst_rel, bad = {}, 0.0, 0.0, []
    for name, want in expected.items():
        have = got.get(name)
        if have is None or have.shape != want.shape:
            bad.append(name)
            outputs[name] = {"agree": False, "note": "missing or of another shape"}
            continue
        a, b = have.astype(np.float64), want.astype(np.float64)
        both_nan = np.isnan(a) & np.isnan(b)
        diff = np.where(both_nan, 0.0, np.abs(a - b))
        diff = np.where(np.isnan(diff), np.inf, diff)
        rel = diff / np.maximum(np.abs(b), np.finfo(np.float64).tiny)
        exact = want.dtype.kind in "iub"  # integers must match exactly
        agree = bool(np.all(diff == 0)) if exact else bool(np.all(diff <= atol + rtol * np.abs(b)))
        max_abs = float(diff.max(initial=0.0))
        max_rel = float(np.where(diff == 0, 0.0, rel).max(initial=0.0))
        outputs[name] = {"agree": agree, "max_abs_error": max_abs, "max_rel_error": max_rel}
        worst_abs, worst_rel = max(worst_abs, max_abs), max(worst_rel, max_rel)
        if not agree:
            bad.append(name)
    if bad:
        reason = f"outputs differ: {', '.join(bad)} (max abs error {worst_abs:.3g}, rtol {rtol:g}, atol {atol:g})"
        return Verification("mismatch", reason, **evidence, max_abs_error=worst_abs, max_rel_error=worst_rel,
                            outputs=outputs, ran_on=ran_on)
    reason = f"{len(outputs)} buffers agree within rtol {rtol:g}, atol {atol:g} (max abs error {worst_abs:.3g})"
    return Verification("verified", reason, **evidence, max_abs_error=worst_abs, max_rel_error=worst_rel,
                        outputs=outputs, ran_on=ran_on)
