"""What every pass shares: its refusal error, and the record of what it did (for reports and the magic)."""
from __future__ import annotations

from dataclasses import dataclass, field

from kernel_ir.diagnostics import XpilerError


class PassRefused(XpilerError):
    """A pass's precondition does not hold; the message says which and what to do (codes XP5xx)."""


@dataclass(frozen=True)
class PassRecord:
    """One applied pass: its name, the options it ran with, and a short note of what it changed."""

    name: str
    options: dict = field(default_factory=dict)
    note: str = ""
