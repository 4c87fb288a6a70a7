"""retile: the source's own tile-size constants set to other values (a tuning knob, before parsing).

    #define BK 16                 ->  #define BK 64
    constexpr int BM = 64;        ->  constexpr int BM = 128;

Why: a hand-tiled kernel fixes its tile sizes for the machine its author had in mind (gemm's 16-deep k slab
suits a GPU's shared memory and occupancy). Translated to a CPU, the best slab is another one: the register
tile's sums round-trip through memory once per slab, so a deeper slab keeps them in registers longer (gemm on an
AVX2 EPYC: BK 16 -> 64, 1.2x; bench/results/cpp_vs_numpy.md, session 17). Kernel Tuner tunes such constants the
same way, by editing where the source defines them; here the tuner finds them itself.

A tile constant is a `#define NAME <integer>` or a `const`/`constexpr` integer declared with an integer literal,
defined once, whose value sizes an array a function of the source declares (a `__shared__` tile, an NRAM
buffer, a per-thread register tile): found by parsing the source with the constant doubled and comparing the
arrays' bytes. Nothing proves that another value means the same computation (a histogram's bin count also sizes
an array): every retiled translation is verified against the source as written, like every candidate, and a
value that changes the result fails verification instead of winning.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from kernel_ir.diagnostics import XpilerError
from kernel_ir.ir import ArrayType, Decl, DType, MemScope, Module, ScalarType, walk
from kernel_ir.parse import parse
from passes.base import PassRefused
from passes.loops import BAD_OPTION, NOT_FOUND, int_value

_INT_TYPE = r"(?:(?:unsigned|signed|long|short)\s+)*(?:int|long|short|unsigned|size_t|int32_t|int64_t|uint32_t)"
_VALUE = r"(?P<value>\d+)[uUlL]*"
_ON_CHIP = (MemScope.shared, MemScope.nram, MemScope.wram, MemScope.mlu_shared)


def _definitions(source: str, name: str) -> list[re.Match]:
    """Where `name` is defined as an integer literal: a `#define` line, or a const/constexpr declaration."""
    name = re.escape(name)
    macro = re.compile(rf"^[ \t]*#[ \t]*define[ \t]+{name}[ \t]+\(?[ \t]*{_VALUE}[ \t]*\)?[ \t]*(?://.*|/\*.*)?$",
                       re.MULTILINE)
    declared = re.compile(rf"\b(?:static\s+)?(?:constexpr|const)\s+(?:static\s+)?{_INT_TYPE}\s+(?:const\s+)?"
                          rf"{name}\s*=\s*{_VALUE}\s*;")
    return [*macro.finditer(source), *declared.finditer(source)]


def retile(source: str, values: Mapping[str, int]) -> str:
    """`source` with each named constant's literal replaced by its new value. Refuses (XP530) a name that is not
    defined exactly once as an integer literal, (XP534) a value below 1."""
    for name, value in sorted(values.items()):
        if not isinstance(value, int) or value < 1:
            raise PassRefused(BAD_OPTION, f"tile constant {name} must be a positive integer, got {value!r}")
        found = _definitions(source, name)
        if len(found) != 1:
            raise PassRefused(NOT_FOUND, f"{name!r} is not defined exactly once as an integer literal "
                              f"(`#define {name} 16` or `constexpr int {name} = 16;`): found {len(found)}")
        at = found[0].span("value")
        source = source[:at[0]] + str(value) + source[at[1]:]
    return source


@dataclass(frozen=True)
class TileConstant:
    """A constant that sizes arrays: its name, its value in the source, and how the arrays' bytes grow with it
    (`growth[i]`: the exponent of array i's bytes in this constant, 1 for a dimension, 2 for two...)."""

    name: str
    value: int
    growth: tuple[float, ...]


@dataclass(frozen=True)
class TileConstants:
    """The source's tile constants and the bytes of the arrays they size, as the source has them; on_chip[i]:
    array i is a block's staged tile (`__shared__`, `__nram__`, `__wram__`), not a thread's own."""

    constants: tuple[TileConstant, ...]
    array_bytes: tuple[int, ...]
    on_chip: tuple[bool, ...] = ()

    def bytes_at(self, values: Mapping[str, int], on_chip_only: bool = False) -> int:
        """The arrays' bytes with the constants at `values` (the others as in the source): exact where each
        array's size is a product of powers of the constants, an estimate otherwise (a padded `BK + 1`)."""
        total = 0.0
        for i, size in enumerate(self.array_bytes):
            if on_chip_only and not self.on_chip[i]:
                continue
            scale = 1.0
            for c in self.constants:
                scale *= (values.get(c.name, c.value) / c.value) ** c.growth[i]
            total += size * scale
        return round(total)

    def slabs(self) -> tuple[TileConstant, ...]:
        """The constants that size only staged tiles (gemm's k slab depth BK), not what each thread holds (BM
        sizes its register tile too): deeper, the same threads do the same work in fewer, longer steps."""
        return tuple(c for c in self.constants if any(g for g, chip in zip(c.growth, self.on_chip) if chip)
                     and not any(g for g, chip in zip(c.growth, self.on_chip) if not chip))


def _candidates(source: str) -> Iterator[tuple[str, int]]:
    """Names defined once as an integer literal of at least 2 (a tile of 1 is no tile)."""
    names = re.findall(r"^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]", source, re.MULTILINE) \
        + re.findall(rf"\b(?:constexpr|const)\s+(?:static\s+)?{_INT_TYPE}\s+(?:const\s+)?(\w+)\s*=\s*\d", source)
    for name in dict.fromkeys(names):
        found = _definitions(source, name)
        if len(found) == 1 and int(found[0]["value"]) >= 2:
            yield name, int(found[0]["value"])


def _arrays(module: Module) -> tuple[tuple[str, int, bool], ...]:
    """(name, bytes, on chip) of each array of constant size the module's functions declare, in source order."""
    env: dict[str, int] = {}
    for g in module.globals:  # integer constants, in order (one may be defined by the ones before it)
        if isinstance(g.type, ScalarType) and g.type.dtype.is_int and g.type.const and g.init is not None:
            value = int_value(g.init, env)
            if value is not None:
                env[g.name] = value
    arrays = []
    for fn in module.functions:
        for decl in (n for n in walk(fn) if isinstance(n, Decl) and isinstance(n.type, ArrayType)):
            count, element = 1, decl.type
            while isinstance(element, ArrayType):
                size = None if element.size is None else int_value(element.size, env)
                if size is None:
                    break
                count, element = count * size, element.element
            if isinstance(element, ScalarType) and element.dtype != DType.void:
                arrays.append((f"{fn.name}.{decl.name}", count * max(element.dtype.bits // 8, 1),
                               decl.scope in _ON_CHIP))
    return tuple(arrays)


def tile_constants(source: str, dialect: str, most: int = 3) -> TileConstants:
    """The `most` constants of `source` that size the most bytes of arrays (each found by parsing the source
    with it doubled: one parse per integer constant), with what the constraint on their sizes needs."""
    arrays = _arrays(parse(source, dialect))
    if not arrays:
        return TileConstants((), ())
    names = [name for name, *_ in arrays]
    found = []
    for name, value in _candidates(source):
        try:
            doubled = _arrays(parse(retile(source, {name: 2 * value}), dialect))
        except XpilerError:  # a value the source cannot take: not a tile constant
            continue
        if [n for n, *_ in doubled] != names:
            continue  # the arrays themselves changed (a constant an #if tests): not a size
        pairs = [(size, twice) for (_, size, _), (_, twice, _) in zip(arrays, doubled)]
        growth = tuple(math.log2(twice / size) if size and twice else 0.0 for size, twice in pairs)
        grown = sum(twice - size for size, twice in pairs)
        if grown > 0:
            found.append((grown, TileConstant(name, value, growth)))
    chosen = sorted(found, key=lambda item: -item[0])[:most]
    return TileConstants(tuple(c for _, c in sorted(chosen, key=lambda item: _defined_at(source, item[1].name))),
                         tuple(size for _, size, _ in arrays), tuple(chip for *_, chip in arrays))


def _defined_at(source: str, name: str) -> int:
    """Where `name` is defined in the source (so that knobs come in the source's order)."""
    return _definitions(source, name)[0].start()
