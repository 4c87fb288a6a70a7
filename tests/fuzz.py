"""Deterministic mutations of corpus kernels, the kind of damage real input has: lost tokens, swapped tokens,
truncation, invented intrinsics, changed types. Used by the fuzz test and by `bench/fuzz_report.py`."""
from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

TOKEN = re.compile(r"[A-Za-z_]\w*|\d+\.?\d*[fF]?|<<<|>>>|->|::|[-+*/%<>=!&|^]=?|[{}()\[\];,.?:~]")
TYPES = ("float", "int", "half", "double", "int8_t", "uint8_t", "char", "void", "unsigned")


@dataclass(frozen=True)
class Mutant:
    origin: str  # corpus file the mutant came from
    kind: str
    source: str


def _tokens(source: str) -> list[re.Match]:
    return list(TOKEN.finditer(source))


def delete_token(source: str, rng: random.Random) -> str:
    tokens = _tokens(source)
    t = rng.choice(tokens)
    return source[: t.start()] + source[t.end():]


def swap_tokens(source: str, rng: random.Random) -> str:
    tokens = _tokens(source)
    i = rng.randrange(len(tokens) - 1)
    a, b = tokens[i], tokens[i + 1]
    return source[: a.start()] + b.group() + source[a.end(): b.start()] + a.group() + source[b.end():]


def truncate(source: str, rng: random.Random) -> str:
    return source[: rng.randrange(1, len(source))]


def invent_intrinsic(source: str, rng: random.Random) -> str:
    calls = [m for m in re.finditer(r"\b(__\w+|_mm\w+|\w+f)\s*\(", source)]
    if not calls:
        return delete_token(source, rng)
    m = rng.choice(calls)
    return source[: m.start(1)] + m.group(1) + "_bogus" + rng.choice("xyz") + source[m.end(1):]


def change_type(source: str, rng: random.Random) -> str:
    spots = [m for m in re.finditer(r"\b(" + "|".join(TYPES) + r")\b", source)]
    if not spots:
        return delete_token(source, rng)
    m = rng.choice(spots)
    return source[: m.start()] + rng.choice([t for t in TYPES if t != m.group()]) + source[m.end():]


def change_number(source: str, rng: random.Random) -> str:
    numbers = [m for m in re.finditer(r"\b\d+\b", source)]
    if not numbers:
        return delete_token(source, rng)
    m = rng.choice(numbers)
    value = rng.choice(["0", "-1", "1", str(int(m.group()) * 1000 + 7), "2147483647"])
    return source[: m.start()] + value + source[m.end():]


MUTATIONS = {f.__name__: f for f in (delete_token, swap_tokens, truncate, invent_intrinsic, change_type, change_number)}


def mutants(corpus: list[tuple[str, str]], count: int, seed: int = 0) -> Iterator[Mutant]:
    """`count` mutants of (name, source) pairs, cycling through files and mutation kinds."""
    rng = random.Random(seed)
    kinds = sorted(MUTATIONS)
    for i in range(count):
        name, source = corpus[i % len(corpus)]
        kind = kinds[(i // len(corpus) + i) % len(kinds)]
        yield Mutant(name, kind, MUTATIONS[kind](source, rng))
