"""The kernel corpus: one kernel per operator and dialect (see CONTRACT.md) with numpy references (specs.py)."""
from __future__ import annotations

from pathlib import Path

CORPUS_DIR = Path(__file__).parent
DIALECT_SUFFIX = {"cuda": ".cu", "hip": ".hip", "bang": ".mlu", "cpp": ".cpp"}


def corpus_files(dialect: str | None = None) -> list[tuple[str, str, Path]]:
    """(dialect, operator, path) for every corpus kernel, sorted."""
    found = []
    for name, suffix in DIALECT_SUFFIX.items():
        if dialect in (None, name):
            found += [(name, p.stem, p) for p in sorted((CORPUS_DIR / name).glob(f"*{suffix}"))]
    return found
