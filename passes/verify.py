"""Check a translation by running it: source and result execute on the same generated inputs and must agree.

A translation is called "verified" only when both programs executed and every output agreed within the stated
tolerance; anything less says what was missing ("unverified": no inputs could be made, the source itself did not
run, its outputs were all NaN/inf, or its result depends on the order of its threads; "failed": the result did not
compile or run; "mismatch": both ran and disagreed). The evidence (sizes, inputs' shapes and dtypes, seed, errors,
where each side ran) is kept for reports. A CUDA/HIP result runs on the CPU executor and, where this machine has a
GPU for it, natively too: it is verified only if both agree.

Inputs come from the entry's parameters: integer scalars are sizes (defaults below, overridable), float scalars
distinct values (DEFAULT_FLOAT_SCALARS), and every buffer is sized by `kernel_ir.extents` from what the source touches (the result's extents only for
the buffers the source cannot size: a result that reads beyond what the source needs ends at a guard page and
fails). Values avoid overflow: floats in [-1, 1], int8 in [-8, 8], uint8 in [0, 15]; integer inputs of 16 bits or
more may be indices, so they lie in [0, smallest size) and are distinct where possible (scatter-like kernels need
that). Generated inputs are a guess, so a few are tried before giving up:
* when the source does not run on the default sizes (sizes that break a precondition such as "q_heads is a
  multiple of kv_heads" make it fault), other generic sizes are tried in turn (FALLBACK_SIZES; never when the
  caller gave sizes); the first the source runs on is the one the result is judged on;
* when the source's outputs are not all finite on floats in [-1, 1] (a square root of a negative variance), the
  floats are drawn from [0.1, 1] once, and the run with fewer NaN/inf outputs is kept (its range is recorded);
* when the result disagrees, the source is run again with its threads in the opposite order: if the source
  itself changes, these inputs make it race (two threads writing one place), so the disagreement proves
  nothing and the next sizes are tried. A source that is order independent keeps the mismatch;
* a CUDA/HIP source that still disagrees runs once more with its fresh device allocations filled with other bytes
  (the executor zeroes them; a GPU leaves them undefined): output elements that change are ones the source copies
  back from device memory it never wrote (sizes that break its precondition do that). They are not compared; the
  result is judged on the rest, the report counts them (`outputs[name]["undefined"]`), and other sizes are tried
  in case some define every element.
"""
from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from kernel_ir.diagnostics import XpilerError
from kernel_ir.entry import NUMPY_DTYPE, find_entry
from kernel_ir.executor import execute
from kernel_ir.ir import Const, DType, Function, PointerType, ScalarType
from kernel_ir.lower_cpu import DEFAULT_BANG_LAUNCH
from kernel_ir.native_gpu import find_gpu
from kernel_ir.parse import parse
from passes.reach import covering_sizes, fast_versions, reached

if TYPE_CHECKING:
    from passes.translate import Translation

DEFAULT_SIZES = (37, 19, 13, 7, 5, 3, 3, 2, 1, 1)  # not multiples of tile sizes; later parameters are usually small
# tried in turn when the source cannot run on DEFAULT_SIZES: equal sizes meet "a multiple of b" preconditions
FALLBACK_SIZES = ((16,) * len(DEFAULT_SIZES), (8,) * len(DEFAULT_SIZES), tuple(sorted(DEFAULT_SIZES)))
# float scalars in parameter order: distinct (a clamp's lo and hi both 0.5 make its output a constant, a check of
# nothing), positive (an eps, a scale), the first two increasing (lo < hi as usually written); cycled past six
DEFAULT_FLOAT_SCALARS = (0.5, 1.25, 0.75, 1.5, 0.25, 2.0)
FLOAT_RANGE = (-1.0, 1.0)
NONNEGATIVE_FLOAT_RANGE = (0.1, 1.0)  # for math defined on non-negative data only (sqrt of a variance, log)
MAX_ELEMENTS = 1 << 24  # per buffer: more is a sign the default sizes do not fit this kernel
REORDERABLE_DIALECTS = ("cuda", "hip", "cpp")  # the executor can run their threads in another order
DEVICE_MEMORY_DIALECTS = ("cuda", "hip")  # the executor can fill their fresh device allocations with other bytes
OTHER_FRESH_BYTE = 0xA5  # fresh device memory of the second run: -2.9e-16 as float, -1515870811 as int32


@dataclass(frozen=True)
class Verification:
    """Outcome and evidence of one differential run (see the module docstring for the statuses)."""

    status: str
    reason: str
    sizes: dict = field(default_factory=dict)
    inputs: dict = field(default_factory=dict)  # name -> {"shape", "dtype"[, "range" when not FLOAT_RANGE]}
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


@dataclass(frozen=True)
class _Attempt:
    """One try on one set of inputs: its verdict, and whether other generated sizes might do better."""

    verification: Verification
    try_other_sizes: bool = False


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
    if args is not None:
        chosen = {name: value.item() for name, value in args if not isinstance(value, np.ndarray)}
        return _check(source, source_dialect, result, target_dialect, entry, lambda _: args, chosen, common,
                      set()).verification
    first: _Attempt | None = None
    choices = [DEFAULT_SIZES] if sizes else [DEFAULT_SIZES, *FALLBACK_SIZES]
    for defaults in choices:
        attempt = _check_generated(source, source_dialect, result, target_dialect, source_entry, sizes, defaults,
                                   common)
        if not attempt.try_other_sizes:
            if first is None:
                return attempt.verification
            outcome = attempt.verification
            return dataclasses.replace(outcome, reason=f"{outcome.reason}; on the first sizes tried "
                                                       f"{first.verification.sizes}: {first.verification.reason}")
        first = first or attempt
    unverified = first.verification
    others = f"; {len(choices) - 1} other choices of sizes did not help" if len(choices) > 1 else ""
    return dataclasses.replace(unverified, reason=unverified.reason + others)


def verify_translation(source: str, source_dialect: str, translation: Translation, sizes: dict | None = None,
                       args: list[tuple[str, object]] | None = None, rtol: float = 1e-4,
                       atol: float = 1e-4) -> Verification:
    """verify() the translation, and where its result has `[[likely]]` branches (simdize's fast versions, which
    drop bounds tests, and the source's own) that the sizes it ran on never take, verify it again on sizes that
    take them (passes.reach): a result is verified where it ran, and the reason says how many of them ran."""
    first = verify(source, source_dialect, translation.code, translation.target_dialect, translation.entry,
                   sizes=sizes, rtol=rtol, atol=atol, args=args)
    function = translation.module.function(translation.entry)
    versions = len(fast_versions(function)) if first.verified else 0
    if not versions:
        return first
    covered = reached(translation.module, function, first.sizes)
    agreed, max_abs, max_rel = [], first.max_abs_error, first.max_rel_error
    for grown in covering_sizes(translation.module, translation.entry, first.sizes):
        again = verify(source, source_dialect, translation.code, translation.target_dialect, translation.entry,
                       sizes=grown, rtol=rtol, atol=atol)
        if again.status in ("mismatch", "failed"):
            return dataclasses.replace(again, reason=f"on sizes that run its [[likely]] branches, {again.reason}")
        if not again.verified:
            return dataclasses.replace(first, reason=f"{first.reason}; {_agreed_too(agreed)}"
                                                     f"{_likely_branches_ran(len(covered), versions)}; on sizes that "
                                                     f"take more ({_sizes_text(grown)}): {again.reason}",
                                       max_abs_error=max_abs, max_rel_error=max_rel)
        covered |= reached(translation.module, function, grown)
        agreed.append(_sizes_text(grown))
        max_abs, max_rel = _larger(max_abs, again.max_abs_error), _larger(max_rel, again.max_rel_error)
    return dataclasses.replace(first, reason=f"{first.reason}; {_agreed_too(agreed)}"
                                             f"{_likely_branches_ran(len(covered), versions)}",
                               max_abs_error=max_abs, max_rel_error=max_rel)


def _agreed_too(sizes: list[str]) -> str:
    return f"agreed too on {' and on '.join(sizes)}; " if sizes else ""


def _likely_branches_ran(ran: int, versions: int) -> str:
    """'its 2 [[likely]] branches ran', '1 of its 3 [[likely]] branches ran', 'its [[likely]] branch never ran'."""
    if versions == 1:
        return "its [[likely]] branch ran" if ran else "its [[likely]] branch never ran"
    share = "its" if ran == versions else f"{ran or 'none'} of its"
    return f"{share} {versions} [[likely]] branches ran"


def _sizes_text(sizes: dict) -> str:
    return ", ".join(f"{name}={value}" for name, value in sizes.items() if isinstance(value, int))


def _larger(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def _check_generated(source: str, source_dialect: str, result: str, target_dialect: str, entry: Function,
                     sizes: dict | None, defaults: Sequence[int], common: dict) -> _Attempt:
    """One attempt on inputs generated with `defaults` for the sizes the caller did not give."""
    try:
        scalars, elements, unsized = _plan(source, source_dialect, result, target_dialect, entry, sizes, defaults)
        measured = measure_buffers(source, source_dialect, entry.name,
                                   fill_inputs(entry, scalars, elements, common["seed"]), unsized) if unsized else {}
        _check_counts(measured, scalars)

        def fill(float_range: tuple[float, float]) -> list:
            """The inputs; measured buffers (empty while they were measured, so the other buffers' data is what
            the measurement saw) drawn from a stream of their own."""
            args = fill_inputs(entry, scalars, elements, common["seed"], float_range)
            if not measured:
                return args
            rng = np.random.default_rng([common["seed"], 1])
            smallest = smallest_size(scalars)
            dtypes = {p.name: p.type.pointee.dtype for p in entry.params if isinstance(p.type, PointerType)}
            return [(name, random_buffer(rng, measured[name], dtypes[name], smallest, float_range)
                     if name in measured else value) for name, value in args]

        first = fill(FLOAT_RANGE)
    except XpilerError as err:
        return _Attempt(Verification("unverified", err.message, **common), try_other_sizes=True)
    floats = {p.name for p in entry.params if isinstance(p.type, PointerType)
              and isinstance(p.type.pointee, ScalarType) and p.type.pointee.dtype.is_float}

    def inputs(float_range: tuple[float, float]) -> list:  # the non-negative redraw only when a run needs it
        return first if float_range == FLOAT_RANGE else fill(float_range)

    return _check(source, source_dialect, result, target_dialect, entry.name, inputs, scalars, common, floats)


def _check(source: str, source_dialect: str, result: str, target_dialect: str, entry: str,
           inputs: Callable[[tuple[float, float]], list], chosen: dict, common: dict, floats: set[str]) -> _Attempt:
    """Run the source on `inputs(FLOAT_RANGE)` (and on non-negative floats when that gives NaN/inf and `floats`
    names float buffers to redraw), then judge the result on the same arguments."""
    source_ran = {"source": "CPU executor"}
    args = inputs(FLOAT_RANGE)
    evidence = {"sizes": chosen, "inputs": describe(args), **common}
    try:
        expected = execute(source, source_dialect, entry, args, launch=_launch(source_dialect))
    except XpilerError as err:  # a run that fails (XP3xx) may fail only at these sizes; a compile error never
        return _Attempt(Verification("unverified", f"the source did not run: {err.diagnostic}", **evidence,
                                     ran_on=source_ran), try_other_sizes=err.code.startswith("XP3"))
    bad, written = non_finite(args, expected)
    if bad and floats:
        other_args = inputs(NONNEGATIVE_FLOAT_RANGE)
        try:
            other = execute(source, source_dialect, entry, other_args, launch=_launch(source_dialect))
        except XpilerError:
            other = None
        if other is not None and non_finite(other_args, other)[0] < bad:
            args, expected = other_args, other
            bad, written = non_finite(args, expected)
            ranged = {name: list(NONNEGATIVE_FLOAT_RANGE) for name in floats}
            evidence["inputs"] = describe(args, ranged)
    if written and bad == written:
        return _Attempt(Verification("unverified", f"every output of the source is NaN or infinite on these inputs "
                                     f"({bad} elements): comparing them proves nothing", **evidence,
                                     ran_on=source_ran), try_other_sizes=True)
    try:
        runs = run_result(result, target_dialect, entry, args)
    except XpilerError as err:
        return _Attempt(Verification("failed", f"the translation did not run: {err.diagnostic}", **evidence,
                                     ran_on=source_ran))
    checks = [compare(expected, got, evidence, {"source": "CPU executor", "result": place}) for place, got in runs]
    worst = next((check for check in checks if not check.verified), None)
    undefined = {}
    if worst is not None:
        racing = order_dependence(source, source_dialect, entry, args, expected, evidence)
        if racing:
            return _Attempt(Verification("unverified", f"the source's result depends on the order of its threads "
                                         f"on these inputs ({racing}), so the translation's disagreement proves "
                                         "nothing", **evidence, ran_on=source_ran), try_other_sizes=True)
        undefined = undefined_elements(source, source_dialect, entry, args, expected)
        if undefined and all(mask.all() for mask in undefined.values()) and set(undefined) >= changed(args, expected):
            return _Attempt(Verification("unverified", "every output element of the source is copied from device "
                                         "memory it never wrote on these inputs: comparing them proves nothing",
                                         **evidence, ran_on=source_ran), try_other_sizes=True)
        if undefined:
            checks = [compare(expected, got, evidence, {"source": "CPU executor", "result": place}, undefined)
                      for place, got in runs]
            worst = next((check for check in checks if not check.verified), None)
    if worst is not None:
        where = f" ({worst.ran_on['result']})" if len(checks) > 1 else ""
        return _Attempt(dataclasses.replace(worst, reason=worst.reason + where))
    places = " and ".join(place for place, _ in runs)
    largest_error = max(checks, key=lambda check: check.max_abs_error)  # the report states the loosest agreement
    return _Attempt(dataclasses.replace(largest_error, ran_on={"source": "CPU executor", "result": places}),
                    try_other_sizes=bool(undefined))


def order_dependence(source: str, dialect: str, entry: str, args: list, expected: dict, evidence: dict) -> str:
    """What changes when the source runs with its threads in another order (CUDA/HIP threads reversed, OpenMP
    loops on one thread; "" when nothing does, or when the executor cannot reorder this dialect): threads racing
    to write one place make the outcome undefined."""
    if dialect not in REORDERABLE_DIALECTS:
        return ""
    try:
        reordered = execute(source, dialect, entry, args, launch=_launch(dialect), reverse_order=True)
    except XpilerError as err:
        return f"in another thread order it did not run: {err.message}"
    check = compare(expected, reordered, evidence, {})
    if check.verified:
        return ""
    changed = ", ".join(name for name, output in check.outputs.items() if not output["agree"])
    return f"{changed} changes by up to {check.max_abs_error:.3g} in another thread order"


def undefined_elements(source: str, dialect: str, entry: str, args: list, expected: dict) -> dict[str, np.ndarray]:
    """Masks of the output elements that change when the source's fresh device allocations start from other bytes
    (outputs with none left out; {} for dialects without device memory or a rerun that fails)."""
    if dialect not in DEVICE_MEMORY_DIALECTS:
        return {}
    try:
        refilled = execute(source, dialect, entry, args, launch=_launch(dialect), fresh_memory=OTHER_FRESH_BYTE)
    except XpilerError:
        return {}
    masks = {name: ~((out == refilled[name]) | (np.isnan(out) & np.isnan(refilled[name]))
                     if out.dtype.kind == "f" else out == refilled[name])
             for name, out in expected.items() if name in refilled and refilled[name].shape == out.shape}
    return {name: mask for name, mask in masks.items() if mask.any()}


def changed(args: list[tuple[str, object]], outputs: dict) -> set[str]:
    """The buffers a run wrote: those whose contents changed."""
    given = {name: value for name, value in args if isinstance(value, np.ndarray)}
    return {name for name, out in outputs.items()
            if name in given and not np.array_equal(given[name], out, equal_nan=out.dtype.kind == "f")}


def non_finite(args: list[tuple[str, object]], outputs: dict) -> tuple[int, int]:
    """(NaN/inf elements, elements) over the float buffers the run wrote."""
    bad = total = 0
    for name in changed(args, outputs):
        out = outputs[name]
        if out.dtype.kind != "f":
            continue
        bad += int(np.count_nonzero(~np.isfinite(out)))
        total += out.size
    return bad, total


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
                sizes: dict | None, seed: int, defaults: Sequence[int] = DEFAULT_SIZES,
                float_range: tuple[float, float] = FLOAT_RANGE) -> tuple[list[tuple[str, object]], dict]:
    """Arguments for `entry` and the scalar values chosen; XpilerError when a buffer cannot be sized."""
    scalars, elements = plan_inputs(source, source_dialect, result, target_dialect, entry, sizes, defaults)
    return fill_inputs(entry, scalars, elements, seed, float_range), scalars


def plan_inputs(source: str, source_dialect: str, result: str, target_dialect: str, entry: Function,
                sizes: dict | None, defaults: Sequence[int] = DEFAULT_SIZES) -> tuple[dict, dict[str, int]]:
    """(scalar values, elements of every buffer). Buffers are sized by what the source touches: it defines what
    the caller must pass. The result's extents only size a buffer the source cannot (an index the analysis does
    not follow); a result that reads more than the source faults at the argument's guard page, as it should."""
    scalars, elements, unsized = _plan(source, source_dialect, result, target_dialect, entry, sizes, defaults)
    for name, why in unsized.items():
        raise XpilerError("XP411", f"cannot size buffer {name!r} {why}",
                          hint="give the sizes with `sizes=` / --size, or the arguments themselves")
    return scalars, elements


def _plan(source: str, source_dialect: str, result: str, target_dialect: str, entry: Function,
          sizes: dict | None, defaults: Sequence[int]) -> tuple[dict, dict[str, int], dict[str, str]]:
    """plan_inputs, with the buffers no extent sizes (name -> why) returned instead of refused."""
    from kernel_ir.extents import infer_extents

    scalars = choose_scalars(entry, sizes, defaults)
    int_sizes = {k: int(v) for k, v in scalars.items() if float(v).is_integer()}
    elements: dict[str, int] = {}
    unsized: dict[str, str] = {}  # name -> why the source's extent is unknown
    for code, dialect, is_source in ((source, source_dialect, True), (result, target_dialect, False)):
        if not is_source and (not unsized or (result, target_dialect) == (source, source_dialect)):
            break
        try:
            module = parse(code, dialect)
        except XpilerError:
            if is_source:
                raise
            break  # a result that does not parse is reported when it fails to run
        extents = infer_extents(module, entry.name, scalars=int_sizes, launch=_launch(dialect))
        for name, extent in extents.items():
            if name in elements:
                continue
            if extent.elements is None:
                unsized.setdefault(name, f"({dialect}): {extent.reason}")
                continue
            elements[name] = extent.evaluate(int_sizes, _launch(dialect))
            unsized.pop(name, None)
    _check_counts(elements, scalars)
    return scalars, elements, unsized


def _check_counts(elements: dict[str, int], scalars: dict) -> None:
    for name, count in elements.items():
        if count < 0 or count > MAX_ELEMENTS:
            raise XpilerError("XP411", f"buffer {name!r} would hold {count} elements with sizes {scalars}",
                              hint="choose sizes that fit this kernel with `sizes=` / --size")


def measure_buffers(source: str, source_dialect: str, entry: str, args: list[tuple[str, object]],
                    unsized: dict[str, str]) -> dict[str, int]:
    """Elements of the `unsized` buffers (name -> why no extent sizes them) the source touches on `args`
    (where those buffers are empty): its index arithmetic run on the CPU executor (passes/bind_probe), as a
    host launcher measures a gather's table. XpilerError when a probe would need values only the kernels make."""
    from kernel_ir.dialects import print_module
    from kernel_ir.ir import Assign, Block, Call, FuncQual, Index, Param, Var
    from passes.bind_probe import extent_probe, touch_helper
    from passes.translate import front_half

    module, _ = front_half(parse(source, source_dialect))
    fn = find_entry(module, entry)
    names = list(unsized)
    probes = [extent_probe(fn, module, name, f"xp_extent_of_{name}") for name in names]
    for name, probe in zip(names, probes):
        if probe is None:
            raise XpilerError("XP411", f"cannot size buffer {name!r} {unsized[name]}",
                              hint="give the sizes with `sizes=` / --size, or the arguments themselves")
    out = Param("xp_extents", PointerType(ScalarType(DType.int64)))
    calls = tuple(Assign(Index(Var(out.name), Const(i, DType.int32)), Call(p.name, tuple(Var(q.name) for q in fn.params)))
                  for i, p in enumerate(probes))
    wrapper = Function("xp_measure", ScalarType(DType.void), fn.params + (out,), Block(calls),
                       frozenset({FuncQual.extern_c}))
    code = print_module(dataclasses.replace(module, items=module.items + (touch_helper(), *probes, wrapper)))
    measured = execute(code, "cpp", "xp_measure", list(args) + [(out.name, np.zeros(len(names), np.int64))])
    return {name: int(measured[out.name][i]) for i, name in enumerate(names)}


def choose_scalars(entry: Function, sizes: dict | None, defaults: Sequence[int]) -> dict[str, int | float]:
    """Values of the scalar parameters: the caller's, else DEFAULT_FLOAT_SCALARS in turn for floats and `defaults`
    in turn for integers."""
    sizes = dict(sizes or {})
    scalars: dict[str, int | float] = {}
    remaining, floats = iter(defaults), itertools.cycle(DEFAULT_FLOAT_SCALARS)
    for p in entry.params:
        if isinstance(p.type, PointerType):
            continue
        dtype = p.type.dtype if isinstance(p.type, ScalarType) else None
        if p.name in sizes:
            scalars[p.name] = sizes.pop(p.name)
        elif dtype is not None and dtype.is_float:
            scalars[p.name] = next(floats)
        elif dtype is not None and dtype.is_int:
            scalars[p.name] = next(remaining, 1)
        else:
            raise XpilerError("XP410", f"cannot choose a value for parameter {p.name!r} of type {p.type}")
    if sizes:
        raise XpilerError("XP409", f"{entry.name} has no scalar parameter named {', '.join(sorted(sizes))}")
    return scalars


def fill_inputs(entry: Function, scalars: dict, elements: dict[str, int], seed: int,
                float_range: tuple[float, float] = FLOAT_RANGE) -> list[tuple[str, object]]:
    """The arguments, in parameter order: the scalars, and random buffers of the planned sizes."""
    rng = np.random.default_rng(seed)
    smallest = smallest_size(scalars)
    args: list[tuple[str, object]] = []
    for p in entry.params:
        if not isinstance(p.type, PointerType):
            dtype = NUMPY_DTYPE[p.type.dtype]
            args.append((p.name, np.dtype(dtype).type(scalars[p.name])))
            continue
        pointee = p.type.pointee
        dtype = pointee.dtype if isinstance(pointee, ScalarType) else None
        if dtype is None:
            raise XpilerError("XP410", f"cannot make data for parameter {p.name!r} of type {p.type}")
        args.append((p.name, random_buffer(rng, elements.get(p.name, 0), dtype, smallest, float_range)))
    return args


def smallest_size(scalars: dict) -> int:
    """The smallest positive integer scalar: generated index buffers hold values below it (in range of every
    dimension)."""
    return min([int(v) for v in scalars.values() if float(v).is_integer() and v > 0], default=1)


def random_buffer(rng: np.random.Generator, count: int, dtype: DType, smallest: int,
                  float_range: tuple[float, float] = FLOAT_RANGE) -> np.ndarray:
    numpy_dtype = np.dtype(NUMPY_DTYPE[dtype])
    if dtype.is_float:
        values = rng.uniform(*float_range, count)
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


def describe(args: list[tuple[str, object]], ranges: dict[str, list[float]] | None = None) -> dict:
    """Shape and dtype of every buffer (with the range of its values where `ranges` names one), value of every
    scalar."""
    ranges = ranges or {}
    return {name: ({"shape": list(v.shape), "dtype": v.dtype.name} | ({"range": ranges[name]} if name in ranges else {})
                   if isinstance(v, np.ndarray)
                   else {"value": np.asarray(v).item(), "dtype": np.asarray(v).dtype.name}) for name, v in args}


def compare(expected: dict, got: dict, evidence: dict, ran_on: dict,
            undefined: dict[str, np.ndarray] | None = None) -> Verification:
    """Every output of `got` against `expected`, except the elements `undefined` masks (the source left them
    undefined: any value agrees)."""
    rtol, atol = evidence["rtol"], evidence["atol"]
    undefined = undefined or {}
    outputs, worst_abs, worst_rel, bad = {}, 0.0, 0.0, []
    for name, want in expected.items():
        have = got.get(name)
        if have is None or have.shape != want.shape:
            bad.append(name)
            outputs[name] = {"agree": False, "note": "missing or of another shape"}
            continue
        a, b = have.astype(np.float64), want.astype(np.float64)
        # equal values (infinities of one sign included) and NaN in both agree; any other difference must be
        # finite (inf against -inf or a number is infinitely wrong) and within the tolerance
        same = (a == b) | (np.isnan(a) & np.isnan(b)) | undefined.get(name, False)
        with np.errstate(all="ignore"):
            diff = np.where(same, 0.0, np.abs(a - b))
            diff = np.where(np.isnan(diff), np.inf, diff)
            rel = np.where(np.isfinite(b), diff / np.maximum(np.abs(b), np.finfo(np.float64).tiny), np.inf)
        exact = want.dtype.kind in "iub"  # integers must match exactly
        within = np.isfinite(diff) & (diff <= atol + rtol * np.where(np.isfinite(b), np.abs(b), 0.0))
        agree = bool(np.all(diff == 0)) if exact else bool(np.all(same | within))
        max_abs = float(diff.max(initial=0.0))
        max_rel = float(np.where(diff == 0, 0.0, rel).max(initial=0.0))
        outputs[name] = {"agree": agree, "max_abs_error": max_abs, "max_rel_error": max_rel}
        if name in undefined:
            outputs[name]["undefined"] = int(np.count_nonzero(undefined[name]))
        worst_abs, worst_rel = max(worst_abs, max_abs), max(worst_rel, max_rel)
        if not agree:
            bad.append(name)
    if bad:
        reason = f"outputs differ: {', '.join(bad)} (max abs error {worst_abs:.3g}, rtol {rtol:g}, atol {atol:g})"
        return Verification("mismatch", reason, **evidence, max_abs_error=worst_abs, max_rel_error=worst_rel,
                            outputs=outputs, ran_on=ran_on)
    reason = f"{len(outputs)} buffers agree within rtol {rtol:g}, atol {atol:g} (max abs error {worst_abs:.3g})"
    if undefined:
        left = ", ".join(f"{np.count_nonzero(mask)} of {mask.size} in {name}" for name, mask in undefined.items())
        reason += (f"; not compared: elements the source leaves undefined ({left}: copied from device memory it "
                   "never wrote, they change with that memory's initial bytes)")
    return Verification("verified", reason, **evidence, max_abs_error=worst_abs, max_rel_error=worst_rel,
                        outputs=outputs, ran_on=ran_on)
