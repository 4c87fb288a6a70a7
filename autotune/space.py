"""Search spaces: the knobs of a translation (passes.translate.TranslateOptions) for one kernel and target.

Built from what the kernel's loop form (passes.translate.front_half of the source) actually contains, never from
its name: canonical loops can be split (factor, tail handling), perfect nests reordered (every permutation but
the identity), perfectly nested pairs fused, serial loops unrolled (factor); the target adds its own knobs (cpp: OpenMP threads and schedule,
and for a thread-block kernel (CUDA/HIP) whether passes/simdize.py moves its thread loops innermost, which
usually vectorizes it and sometimes does not pay, and the SIMD width g++ prefers for it, 256 or 512 bits, and
which block loop passes/jam.py jams and by how much, among the loops whose jam shares vector loads between the
copies by the pass's own estimate, and which serial loop around SIMD loops it jams, among those whose jam keeps
the SIMD loops' sums in registers (the jams in the space without a schedule only: they are named on that form);
cuda/hip: threads per block; from a BANG source, how many tasks the program runs on). For every target, in the
space without a schedule: the source's tile-size constants (passes/retile.py, at most 3: half, the same, 2x, 4x),
constrained to arrays of at most TILE_BYTES in all (or the source's own, if larger).

One space per pass sequence ("untuned" = TranslateOptions() untouched, "no-schedule" = target knobs only, then
split, reorder, fuse, reorder+split, unroll),
each a product of discrete knobs. The target optimizations after bind are knobs too (TranslateOptions.cache, tile,
tensorize, pipeline), where the target has them: cpp only tensorize; cuda/hip cache, tensorize, pipeline (their
shared tiles are a fixed 16 x 16, so `tile` changes nothing there); bang all four.
Constraints prune points that cannot be right or are duplicates before anything is built (a split factor above a
known trip count, a peeled tail where the factor divides, tensorize/pipeline/tile without the tiles cache makes,
an NRAM tile the cache pass would shrink to a smaller one anyway); what only a pass can decide (dependences) is
decided by the pass, and its refusal is recorded as a refused trial.
"""
from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from kernel_ir.detect import detect_dialect
from kernel_ir.entry import find_entry
from kernel_ir.ir import Const, For, ForKind, Function, PointerType, ScalarType
from kernel_ir.parse import parse
from passes.jam import JamOptions, lane_updated, lane_updates_saved, shared_lane_reads
from passes.loops import canonical, int_variables, loop_var, loops_with_ancestors, single_for
from passes.retile import TileConstants, tile_constants
from passes.translate import CPU_TUNES, OMP_SCHEDULES, ScheduleStep, TranslateOptions

SPLIT_FACTORS = (4, 8, 16, 32, 64)
UNROLL_FACTORS = (2, 4, 8, 16)
NRAM_TILES = (512, 1024, 2048, 4096, 8192)  # cache's tile on BANG: multiples of 128 elements
BLOCK_SIZES = (64, 128, 256, 512, 1024)
MAX_SPLIT_SITES = 4
MAX_NEST_DEPTH = 3
SEQUENCES = ((), ("split",), ("reorder",), ("fuse",), ("reorder", "split"), ("unroll",))
UNTUNED = "untuned"  # the name of the space holding only TranslateOptions() (always tried first)


@dataclass(frozen=True)
class Knob:
    """One discrete parameter. ordinal: values are ordered numbers (the Bayesian surrogate may interpolate).
    default: the value the untuned translation has, where TranslateOptions has no field of the knob's name."""

    name: str
    values: tuple
    ordinal: bool = False
    default: object = None


@dataclass(frozen=True)
class LoopSite:
    """A canonical loop of the loop form: its variable, which loop over that name (pre-order), trip count
    when it is a constant, and whether it is innermost / parallel."""

    var: str
    occurrence: int
    trip: int | None
    innermost: bool
    parallel: bool

    @property
    def label(self) -> str:
        return f"{self.var}@{self.occurrence}"


@dataclass(frozen=True)
class Nest:
    """A perfect nest (at most MAX_NEST_DEPTH deep): its variables outermost first, the root's occurrence among
    loops over its name (what fuse counts) and among nests over these names (what reorder counts)."""

    names: tuple[str, ...]
    root_occurrence: int
    occurrence: int


@dataclass(frozen=True)
class LoopForm:
    """What a space is built from: the loops worth splitting and the perfect nests (reorder, fuse)."""

    sites: tuple[LoopSite, ...]
    nests: tuple[Nest, ...]
    element_bytes: tuple[int, ...] = ()  # bytes per element of each pointer parameter (what on-chip tiles hold)
    thread_blocks: bool = False  # it has thread loops of a SIMT block (what simdize reorders)
    tasks: bool = False  # it has the task loop of a BANG program (how many tasks is the caller's choice)
    jam_sites: tuple[str, ...] = ()  # parallel loops whose jam shares vector loads between copies, most first
    # serial loops (labels on the form simdize and lane_tables print) whose jam keeps SIMD loops' sums in
    # registers, most saved accesses first
    serial_jam_sites: tuple[str, ...] = ()
    serial_jam_sums: int = 0  # the arrays of sums the first serial site updates lane by lane (each a register jammed)
    tiles: TileConstants = TileConstants((), ())  # the source's tile-size constants (passes/retile.py)


@dataclass(frozen=True)
class SearchSpace:
    """The knobs of one pass sequence for one target; a config is {knob name: value} plus "sequence"."""

    sequence: tuple[str, ...]
    knobs: tuple[Knob, ...]
    target: str
    form: LoopForm

    @property
    def name(self) -> str:
        return "+".join(self.sequence) or ("no-schedule" if self.knobs else UNTUNED)

    def points(self) -> Iterator[dict]:
        """Every valid config, in grid (lexicographic) order."""
        for values in itertools.product(*(k.values for k in self.knobs)):
            config = self.config(dict(zip((k.name for k in self.knobs), values)))
            if self.invalid(config) is None:
                yield config

    def config(self, values: dict) -> dict:
        return {"sequence": self.name, **values}

    def size(self) -> int:
        return sum(1 for _ in self.points())

    def restrict(self, **values: tuple) -> SearchSpace:
        """The same space with fewer values for the named knobs (e.g. a smaller space for a benchmark)."""
        unknown = set(values) - {k.name for k in self.knobs}
        if unknown:
            raise KeyError(f"no knob named {', '.join(sorted(unknown))} in space {self.name}")
        return replace(self, knobs=tuple(replace(k, values=tuple(values.get(k.name, k.values))) for k in self.knobs))

    def knob(self, name: str) -> Knob | None:
        return next((k for k in self.knobs if k.name == name), None)

    def invalid(self, config: dict) -> str | None:
        """Why `config` is pruned before it is built (None: worth building)."""
        return next((why for check in CONSTRAINTS if (why := check(self, config)) is not None), None)

    def options(self, config: dict) -> TranslateOptions:
        steps = tuple(STEP_BUILDERS[name](config) for name in self.sequence)
        target_knobs = {k: config[k] for k in TARGET_OPTIONS if k in config}
        constants = tuple((c.name, value) for c in self.form.tiles.constants
                          if (value := config.get(CONSTANT + c.name, c.value)) != c.value)
        return TranslateOptions(schedule=steps, constants=constants, **target_knobs)


# ---------------------------------------------------------------------------------------------- loop form ---

def loop_form(source: str, source_dialect: str | None = None, entry: str | None = None,
              jams: bool = True) -> tuple[LoopForm, str]:
    """The candidates of the entry's loop form, and the entry's name; jams: also the loops worth jamming (a cpp
    target's knob: they are counted on the form simdize and lane_tables print with their default options, which
    takes a run of each; a register tile sized otherwise may print other serial loops, and a site that is not
    there is refused like any other)."""
    from passes.lane_tables import lane_tables
    from passes.simdize import simdize_and_report
    from passes.translate import front_half

    dialect = source_dialect or detect_dialect(source)
    module = parse(source, dialect)
    name = find_entry(module, entry).name
    module, _ = front_half(module)
    form = replace(analyze_loops(module.function(name)), tiles=tile_constants(source, dialect))
    if not (jams and form.thread_blocks):
        return form, name
    simdized, moved = simdize_and_report(module)  # the form jam works on in a cpp translation
    if moved:
        simdized = lane_tables(simdized)
    shares = {site.label: shared_lane_reads(simdized, JamOptions(name, site.var, 2, site.occurrence))
              for site in form.sites if site.parallel}
    saved = {label: lane_updates_saved(simdized, JamOptions(name, var, 2, occurrence))
             for label, var, occurrence in _serial_loops(simdized.function(name))}
    serial = _most_first(saved)
    var, occurrence = _at(serial[0]) if serial else ("", 0)
    sums = len(lane_updated(simdized, JamOptions(name, var, 2, occurrence))) if serial else 0
    return replace(form, jam_sites=_most_first(shares), serial_jam_sites=serial, serial_jam_sums=sums), name


def _serial_loops(fn: Function) -> Iterator[tuple[str, str, int]]:
    """(label "var@occurrence", var, occurrence) of each serial loop of fn, occurrences counted as find_loop does."""
    seen: dict[str, int] = {}
    for match in loops_with_ancestors(fn.body, ()):
        var = loop_var(match.loop)
        if var is None:
            continue
        occurrence = seen[var] = seen.get(var, -1) + 1
        if match.loop.kind == ForKind.serial:
            yield f"{var}@{occurrence}", var, occurrence


def _most_first(gains: dict[str, int]) -> tuple[str, ...]:
    """The labels with a positive gain, the largest first."""
    return tuple(sorted((label for label in gains if gains[label] > 0), key=lambda label: -gains[label]))


def analyze_loops(fn: Function) -> LoopForm:
    ints = int_variables(fn)
    matches = list(loops_with_ancestors(fn.body, ()))
    seen: dict[str, int] = {}
    sites, nests, in_nests = [], [], set()
    for match in matches:
        var = loop_var(match.loop)
        occurrence = seen.get(var, 0)
        seen[var] = occurrence + 1
        view = canonical(match.loop)
        if view is None:
            continue
        trip = view.trip_count(ints)
        innermost = next(loops_with_ancestors(match.loop.body, ()), None) is None
        sites.append(LoopSite(view.var, occurrence, trip.value if isinstance(trip, Const) else None, innermost,
                              match.loop.kind == ForKind.parallel))
        chain = [match.loop]
        while len(chain) < MAX_NEST_DEPTH and (inner := single_for(chain[-1].body)) is not None and canonical(inner):
            chain.append(inner)
        parent = match.ancestors[-2] if len(match.ancestors) >= 2 else None
        nested_in_chain = isinstance(parent, For) and single_for(parent.body) is match.loop and canonical(parent)
        if len(chain) >= 2 and not nested_in_chain:
            names = tuple(loop_var(loop) for loop in chain)
            nests.append(Nest(names, occurrence, _nest_occurrence(matches, match.loop, set(names))))
            in_nests |= set(names)
    element_bytes = tuple(p.type.pointee.dtype.bits // 8 for p in fn.params
                          if isinstance(p.type, PointerType) and isinstance(p.type.pointee, ScalarType))
    thread_blocks = any(m.loop.kind == ForKind.parallel and (m.loop.axis or "").startswith("threadIdx")
                        for m in matches)
    tasks = any(m.loop.axis == "taskId" for m in matches)
    return LoopForm(tuple(_split_sites(sites, in_nests)), tuple(nests), element_bytes, thread_blocks, tasks)


def _nest_occurrence(matches: list, root: For, names: set[str]) -> int:
    """Which nest over `names` `root` is, counted as passes.reorder counts them: loops over one of the names
    with no enclosing loop over one of the names, in pre-order."""
    roots = [m.loop for m in matches if loop_var(m.loop) in names
             and not any(isinstance(a, For) and loop_var(a) in names for a in m.ancestors)]
    return next(k for k, loop in enumerate(roots) if loop is root)


def _split_sites(sites: list[LoopSite], in_nests: set[str]) -> list[LoopSite]:
    """At most MAX_SPLIT_SITES loops whose trip count is not tiny, in program order, chosen by what a split can
    do for them: innermost loops first (vectorization, locality), then loops of perfect nests (innermost after
    a reorder), then parallel loops (work per thread)."""
    def rank(site: LoopSite) -> int:
        return 0 if site.innermost else 1 if site.var in in_nests else 2 if site.parallel else 3

    useful = [s for s in sites if rank(s) < 3 and (s.trip is None or s.trip > min(SPLIT_FACTORS))]
    chosen = sorted(useful, key=rank)[:MAX_SPLIT_SITES]
    return [s for s in sites if s in chosen]


# ---------------------------------------------------------------------------------------------- knobs ---------

ON_OFF = (True, False)
JAM_FACTORS = (2, 3, 4)  # loop iterations jammed together (passes/jam.py), when a loop is named
SUM_REGISTERS = (8, 16)  # vector registers a register tile's sums may take: half of AVX2's or of AVX-512's
TASK_DIMS = (16, 64, 256, 1024, 4096)  # tasks a BANG source runs on (multiples of a cluster's 4 cores)
CONSTANT = "constant:"  # knob name prefix of a tile constant: "constant:BK" (values: half, same, 2x, 4x)
TILE_BYTES = 64 * 1024  # what retiled arrays may take in all (tiles_fit_on_chip), unless the source's take more
# target -> the optimizations after bind that it has (passes/translate.py `optimize`), as knobs
OPTIMIZATION_KNOBS = {
    "cpp": (Knob("tensorize", ON_OFF),),
    "cuda": (Knob("cache", ON_OFF), Knob("tensorize", ON_OFF), Knob("pipeline", ON_OFF)),
    "hip": (Knob("cache", ON_OFF), Knob("tensorize", ON_OFF), Knob("pipeline", ON_OFF)),
    "bang": (Knob("cache", ON_OFF), Knob("tile", NRAM_TILES, ordinal=True), Knob("tensorize", ON_OFF),
             Knob("pipeline", ON_OFF)),
}
TARGET_OPTIONS = ("block_size", "omp_threads", "omp_schedule", "simdize", "vector_width", "sum_registers",
                  "cpu_tune", "jam_loop", "jam_factor", "serial_jam_loop", "serial_jam_factor", "task_dim", "cache",
                  "tile", "tensorize", "pipeline")
NEEDS_CACHE_TILES = ("bang", "cuda", "hip")  # targets whose tensorize and pipeline work on the tiles cache makes


def target_knobs(target: str, form: LoopForm) -> tuple[Knob, ...]:
    if target == "cpp":
        cores = os.cpu_count() or 1
        threads = tuple(sorted({min(2 ** k, cores) for k in range(cores.bit_length() + 1)}))
        # simdize changes nothing elsewhere; the SIMD loops it makes are where a wider vector may pay
        simdize = (Knob("simdize", ON_OFF), Knob("vector_width", (256, 512), ordinal=True),
                   Knob("sum_registers", SUM_REGISTERS, ordinal=True)) if form.thread_blocks else ()
        jam = (Knob("jam_loop", (None, *form.jam_sites)), Knob("jam_factor", JAM_FACTORS, ordinal=True)) \
            if form.jam_sites else ()
        jam += (Knob("serial_jam_loop", (None, *form.serial_jam_sites)),
                Knob("serial_jam_factor", JAM_FACTORS, ordinal=True)) if form.serial_jam_sites else ()
        launch = (Knob("omp_threads", threads, ordinal=True), Knob("omp_schedule", OMP_SCHEDULES), *simdize,
                  Knob("cpu_tune", CPU_TUNES), *jam)
    elif target in ("cuda", "hip"):
        launch = (Knob("block_size", BLOCK_SIZES, ordinal=True),)
    else:
        launch = ()
    tasks = (Knob("task_dim", TASK_DIMS, ordinal=True),) if form.tasks else ()
    tiles = tuple(Knob(CONSTANT + c.name, tuple(sorted({max(c.value // 2, 1), c.value, 2 * c.value, 4 * c.value})),
                       ordinal=True, default=c.value) for c in form.tiles.constants)
    return launch + tasks + tiles + OPTIMIZATION_KNOBS.get(target, ())


def step_knobs(step: str, form: LoopForm) -> tuple[Knob, ...]:
    if step == "split":
        if not form.sites:
            return ()
        return (Knob("split_loop", tuple(s.label for s in form.sites)),
                Knob("split_factor", SPLIT_FACTORS, ordinal=True), Knob("split_tail", ("guard", "peel")))
    if step == "reorder":
        orders = tuple(f"{','.join(p)}@{nest.occurrence}" for nest in form.nests
                       for p in itertools.permutations(nest.names) if p != nest.names)
        return (Knob("reorder", orders),) if orders else ()
    if step == "unroll":
        serial = tuple(s.label for s in form.sites if not s.parallel and (s.trip is None or s.trip > 1))
        return (Knob("unroll_loop", serial), Knob("unroll_factor", UNROLL_FACTORS, ordinal=True)) if serial else ()
    if step == "fuse":
        pairs = tuple(f"{nest.names[0]}+{nest.names[1]}@{nest.root_occurrence}" for nest in form.nests)
        return (Knob("fuse", pairs),) if pairs else ()
    raise ValueError(f"unknown schedule step {step!r}")


def build_spaces(source: str, target: str, source_dialect: str | None = None, entry: str | None = None,
                 sequences: tuple[tuple[str, ...], ...] = SEQUENCES) -> list[SearchSpace]:
    """One space per pass sequence the loop form supports (the default sequence () always)."""
    form, _ = loop_form(source, source_dialect, entry, jams=target == "cpp")
    spaces = []
    for sequence in sequences:
        knobs = [step_knobs(step, form) for step in sequence]
        if all(knobs):
            # the jam sites are named on the unscheduled form: a schedule moves or renames them
            all_knobs = (*itertools.chain(*knobs), *target_knobs(target, form if not sequence else replace(
                form, jam_sites=(), serial_jam_sites=(), tiles=TileConstants((), ()))))
            spaces.append(SearchSpace(tuple(sequence), all_knobs, target, form))
    return spaces


# ---------------------------------------------------------------------------------------------- configs -> steps

def _at(value: str) -> tuple[str, int]:
    what, occurrence = value.rsplit("@", 1)
    return what, int(occurrence)


def _split_step(config: dict) -> ScheduleStep:
    var, occurrence = _at(config["split_loop"])
    return ScheduleStep("split", (("loop", var), ("factor", config["split_factor"]), ("tail", config["split_tail"]),
                                  ("occurrence", occurrence)))


def _reorder_step(config: dict) -> ScheduleStep:
    order, occurrence = _at(config["reorder"])
    return ScheduleStep("reorder", (("loops", tuple(order.split(","))), ("occurrence", occurrence)))


def _fuse_step(config: dict) -> ScheduleStep:
    pair, occurrence = _at(config["fuse"])
    outer, inner = pair.split("+")
    return ScheduleStep("fuse", (("outer", outer), ("inner", inner), ("occurrence", occurrence)))


def _unroll_step(config: dict) -> ScheduleStep:
    var, occurrence = _at(config["unroll_loop"])
    return ScheduleStep("unroll", (("loop", var), ("factor", config["unroll_factor"]), ("occurrence", occurrence)))


STEP_BUILDERS: dict[str, Callable[[dict], ScheduleStep]] = {"split": _split_step, "reorder": _reorder_step,
                                                             "fuse": _fuse_step, "unroll": _unroll_step}


# ---------------------------------------------------------------------------------------------- constraints ---

def _site(space: SearchSpace, config: dict, knob: str = "split_loop") -> LoopSite | None:
    return next((s for s in space.form.sites if s.label == config.get(knob)), None)


def unroll_within_trip(space: SearchSpace, config: dict) -> str | None:
    """An unroll factor above a constant trip count asks for more copies than the loop has iterations."""
    site = _site(space, config, "unroll_loop")
    if site and site.trip is not None and config["unroll_factor"] > site.trip:
        return f"unroll factor {config['unroll_factor']} exceeds the {site.trip} iterations of {site.var}"
    return None


def jam_factor_needs_loop(space: SearchSpace, config: dict) -> str | None:
    """Without a loop to jam, every jam factor is the same program: only the first is kept."""
    for loop, factor in (("jam_loop", "jam_factor"), ("serial_jam_loop", "serial_jam_factor")):
        if loop in config and config[loop] is None and config[factor] != JAM_FACTORS[0]:
            return f"no loop is jammed: {factor} changes nothing"
    return None


def factor_within_trip(space: SearchSpace, config: dict) -> str | None:
    """A factor above a constant trip count gives one partial block: the same as a smaller factor, slower."""
    site = _site(space, config)
    if site and site.trip is not None and config["split_factor"] > site.trip:
        return f"split factor {config['split_factor']} exceeds the {site.trip} iterations of {site.var}"
    return None


def peel_needs_tail(space: SearchSpace, config: dict) -> str | None:
    """Where the factor divides a constant trip count there is no tail: peel and guard are the same program."""
    site = _site(space, config)
    if site and site.trip is not None and config.get("split_tail") == "peel" and site.trip % config["split_factor"] == 0:
        return f"no tail to peel: {config['split_factor']} divides the {site.trip} iterations of {site.var}"
    return None


def optimizations_need_cache(space: SearchSpace, config: dict) -> str | None:
    """Without cache's tiles, tensorize and pipeline (bang, cuda, hip) find nothing to work on and a tile size
    means nothing: those points are the same program as the one with them off (and the first tile)."""
    if space.target not in NEEDS_CACHE_TILES or config.get("cache", True):
        return None
    useless = [name for name in ("tensorize", "pipeline") if config.get(name)]
    tile = space.knob("tile")
    if tile is not None and config["tile"] != tile.values[0]:
        useless.append(f"tile {config['tile']}")
    return f"{' and '.join(useless)} without cache: nothing to work on" if useless else None


def tile_fits_nram(space: SearchSpace, config: dict) -> str | None:
    """cache halves a tile until one element of every buffer, times the tile, fits its NRAM budget (pipeline's
    doubled buffers then fit NRAM, which is 4 budgets): a larger tile is the same program as the smaller one it
    becomes, so only the smallest tile of the knob is kept among those that do not fit. Every pointer parameter
    is counted, as in the map kernels whose loops stream them all."""
    from passes.cache import CacheOptions

    tile = space.knob("tile")
    if tile is None or not config.get("cache", True) or config["tile"] == min(tile.values):
        return None
    budget, row_bytes = CacheOptions().nram_budget, sum(space.form.element_bytes)
    if config["tile"] * row_bytes > budget:
        return f"tile {config['tile']} x {row_bytes} bytes per element exceeds the {budget} bytes cache may use"
    return None


def register_tile_needs_simdize(space: SearchSpace, config: dict) -> str | None:
    """Only simdize makes register tiles: without it every sum_registers is the same program as the default."""
    registers = config.get("sum_registers", TranslateOptions.sum_registers)
    if config.get("simdize", True) or registers == TranslateOptions.sum_registers:
        return None
    return f"sum_registers {registers} without simdize: no register tile to size"


def tiles_fit_on_chip(space: SearchSpace, config: dict) -> str | None:
    """Retiled arrays must fit where the source's own did: a GPU block's shared memory or an NRAM buffer holds
    at most tens of KiB, and on a CPU the block's tiles are meant for the L1/L2 caches. The bound is
    TILE_BYTES or the source's own bytes, whichever is larger."""
    tiles = space.form.tiles
    values = {c.name: config[CONSTANT + c.name] for c in tiles.constants if CONSTANT + c.name in config}
    if not values:
        return None
    limit = max(TILE_BYTES, tiles.bytes_at({}))
    if (size := tiles.bytes_at(values)) > limit:
        return f"tiles of {size} bytes with {values} exceed the {limit} bytes the source's tiles may grow to"
    return None


CONSTRAINTS: tuple[Callable[[SearchSpace, dict], str | None], ...] = (
    factor_within_trip, peel_needs_tail, unroll_within_trip, jam_factor_needs_loop, optimizations_need_cache,
    tile_fits_nram, register_tile_needs_simdize, tiles_fit_on_chip)


def untuned_space(target: str) -> SearchSpace:
    """The untuned translation: no knob, one point."""
    return SearchSpace((), (), target, LoopForm((), ()))


__all__ = ["UNTUNED", "Knob", "LoopForm", "LoopSite", "SearchSpace", "build_spaces", "loop_form", "untuned_space"]
