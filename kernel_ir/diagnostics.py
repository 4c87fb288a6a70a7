"""Diagnostics: every failure a user can cause carries a stable code, a message, a place and a hint.

Codes by family: XP0xx usage, options and services (XP005: no device for this dialect, XP006: an option of a later
release, XP007: tuning interrupted outside a trial, XP010-XP012: the LLM provider: no key and nothing cached,
retries exhausted, request refused), XP1xx parsing, XP2xx compiling, XP3xx running (XP307: a remote device
unreachable), XP4xx arguments and entry points, XP5xx passes (XP54x-XP55x: optional optimizations, skipped rather
than failed), XP900 an internal error (a bug: please report it).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    line: int | None = None
    column: int | None = None
    hint: str | None = None
    detail: str | None = None  # compiler output or stderr, shown on demand

    def __str__(self) -> str:
        where = f"{self.line}:{self.column}: " if self.line is not None else ""
        text = f"{where}{self.code}: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class XpilerError(Exception):
    """An error with a diagnostic; the CLI and the magic render it instead of a traceback."""

    def __init__(self, code: str, message: str, line: int | None = None, column: int | None = None,
                 hint: str | None = None, detail: str | None = None):
        self.diagnostic = Diagnostic(code, message, line, column, hint, detail)
        super().__init__(str(self.diagnostic))

    @property
    def code(self) -> str:
        return self.diagnostic.code

    @property
    def message(self) -> str:
        d = self.diagnostic
        return d.message + (f"\n{d.detail}" if d.detail else "")
