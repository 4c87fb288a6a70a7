"""What `%%xpile` leaves in the notebook: a translation with its evidence, or a diagnostic instead of a traceback.

Both objects display themselves (`_repr_html_` for Jupyter, `__repr__` for terminals and logs) so a cell only
has to put them on screen; the rendering lives in `render.py`.
"""
from __future__ import annotations

import difflib
from pathlib import Path

import numpy as np

from kernel_ir.diagnostics import Diagnostic
from passes.translate import CheckedTranslation

from . import render

SHOW_CHOICES = ("code", "passes", "diff", "ir")


class XpileResult:
    """A checked translation of one cell: the code, the JSON report, and ways to run, save and compare it."""

    def __init__(self, source: str, checked: CheckedTranslation, show: str = "code"):
        if show not in SHOW_CHOICES:
            raise ValueError(f"show must be one of {SHOW_CHOICES}, not {show!r}")
        self.source = source
        self.checked = checked
        self.show = show

    @property
    def translation(self):
        return self.checked.translation

    @property
    def verification(self):
        """passes.verify.Verification, or None when verification was turned off."""
        return self.checked.verification

    @property
    def code(self) -> str:
        return self.translation.code

    @property
    def entry(self) -> str:
        return self.translation.entry

    @property
    def report(self) -> dict:
        return self.checked.to_json()

    @property
    def status(self) -> str:
        """The verification's status; without verification "compiled" if every build succeeded, else "failed"."""
        if self.verification is not None:
            return self.verification.status
        builds = [c.ok for c in self.translation.compile_results]
        return "failed" if False in builds else "compiled"

    def run(self, *arrays, **named) -> dict[str, np.ndarray]:
        """Execute the translated code on the CPU executor; returns every pointer argument's final contents.

        Positional values bind to the entry's parameters in order, keyword values by parameter name; numpy
        scalars or Python numbers for scalar parameters (converted to the declared type).
        """
        from kernel_ir.entry import bind_arguments, find_entry
        from kernel_ir.executor import execute
        from kernel_ir.lower_cpu import DEFAULT_BANG_LAUNCH

        entry = find_entry(self.translation.module, self.entry)
        values = {f"arg{i}": value for i, value in enumerate(arrays)}
        values.update(named)
        bound = bind_arguments(entry, values)
        dialect = self.translation.target_dialect
        launch = dict(DEFAULT_BANG_LAUNCH) if dialect == "bang" else None
        return execute(self.code, dialect, self.entry, bound, launch=launch)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.code)
        return path

    def diff(self) -> str:
        """Unified diff from the cell's source to the translated code."""
        t = self.translation
        lines = difflib.unified_diff(self.source.splitlines(keepends=True), self.code.splitlines(keepends=True),
                                     fromfile=f"source ({t.source_dialect})", tofile=f"{t.entry} ({t.target_dialect})")
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)

    def loop_form(self) -> str:
        """The loop form this direction met at (docs/translation.md), printed as cpp: what `--show ir` displays.

        Re-derived from the source with the recorded recover_loops options, because the translation keeps only
        its final module.
        """
        from kernel_ir.dialects import print_module
        from kernel_ir.parse import parse
        from passes.detensorize import detensorize
        from passes.recover_loops import RecoverOptions, recover_loops

        recorded = {p.name: p.options for p in self.translation.passes}
        options = RecoverOptions(**recorded.get("recover_loops", {}))
        module = recover_loops(detensorize(parse(self.source, self.translation.source_dialect)), options)
        return print_module(module, "cpp")

    def _repr_html_(self) -> str:
        return render.result_html(self)

    def __repr__(self) -> str:
        return render.result_text(self)


class XpileDiagnostic:
    """A cell that could not be translated: the coded diagnostic, shown with the offending line of the cell."""

    def __init__(self, diagnostic: Diagnostic, source: str = ""):
        self.diagnostic = diagnostic
        self.source = source

    @property
    def code(self) -> str:
        return self.diagnostic.code

    @property
    def message(self) -> str:
        return self.diagnostic.message

    def _repr_html_(self) -> str:
        return render.diagnostic_html(self.diagnostic, self.source)

    def __repr__(self) -> str:
        return render.diagnostic_text(self.diagnostic, self.source)
