"""What `%%xpile` leaves in the notebook: a translation with its evidence, or a diagnostic instead of a traceback.

Both objects display themselves (`_repr_html_` for Jupyter, `__repr__` for terminals and logs) so a cell only
has to put them on screen; the rendering lives in `render.py`.
"""
from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kernel_ir.diagnostics import Diagnostic, XpilerError
from kernel_ir.ir import Barrier, For, KernelLaunch, Module, walk
from passes.translate import CheckedTranslation

from . import render

SHOW_CHOICES = ("code", "passes", "diff", "ir")


class XpileResult:
    """A checked translation of one cell: the code, the JSON report, and ways to run, save and compare it.

    After `--tune`, `tuning` is autotune's TuneResult and `code` is its best candidate (verified by execution in
    its trial before it was timed); `untuned_code` stays the plain translation.

    After `--llm`, `llm_passes` holds what each pass used (synthesis.assisted.PassReport as JSON: outcome
    symbolic | llm | llm+repaired | fallback, reason, repair diff, cached) and `code` is the assisted program.
    """

    def __init__(self, source: str, checked: CheckedTranslation, show: str = "code", tuning=None,
                 tuning_report: dict | None = None, llm_passes: list[dict] | None = None):
        if show not in SHOW_CHOICES:
            raise ValueError(f"show must be one of {SHOW_CHOICES}, not {show!r}")
        self.source = source
        self.checked = checked
        self.show = show
        self.tuning = tuning
        self._tuning_report = tuning_report
        self.llm_passes = llm_passes

    @property
    def translation(self):
        return self.checked.translation

    @property
    def verification(self):
        """passes.verify.Verification, or None when verification was turned off."""
        return self.checked.verification

    @property
    def code(self) -> str:
        """The tuned code when tuning found a verified candidate, else the translation's."""
        if self.tuning is not None and self.tuning.best_code is not None:
            return self.tuning.best_code
        return self.translation.code

    @property
    def untuned_code(self) -> str:
        return self.translation.code

    @property
    def entry(self) -> str:
        return self.translation.entry

    @property
    def report(self) -> dict:
        report = self.checked.to_json()
        if self._tuning_report is not None:
            report["tuning"] = self._tuning_report
        if self.llm_passes is not None:
            report["llm"] = self.llm_passes
        return report

    @property
    def status(self) -> str:
        """The verification's status; without verification "compiled" if every build succeeded, else "failed"."""
        return render.report_status(self.report)

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
        return render.unified_diff(self.report, self.source, self.code)

    def loop_form(self) -> str:
        """The loop form this direction met at (docs/translation.md), printed as cpp: what `--show ir` displays."""
        return next(stage.code for stage in self.stages if stage.name == "recover_loops")

    @functools.cached_property
    def stages(self) -> tuple[Stage, ...]:
        """The program after each applied pass, in order: parse, detensorize, recover_loops, schedule steps, bind.

        Replayed from the source and the pass records (the translation keeps only its final module), so every
        intermediate program can be printed and executed; the last stage prints to `.code`.
        """
        return replay_passes(self.source, self.translation)

    def _repr_html_(self) -> str:
        return render.result_html(self)

    def __repr__(self) -> str:
        return render.result_text(self)


@dataclass(frozen=True)
class Stage:
    """One intermediate program of a translation: the pass that produced it, its options, and the module."""

    name: str
    options: dict
    module: Module

    @property
    def dialect(self) -> str:
        """The module's dialect: the source's until recover_loops, the loop form's (cpp), then the target's."""
        return self.module.dialect

    @property
    def code(self) -> str:
        from kernel_ir.dialects import print_module

        return print_module(self.module, self.dialect)

    def summary(self) -> str:
        """What the program is made of: its functions, and how many launches, barriers and loops of each kind."""
        lines = []
        for fn in self.module.functions:
            if fn.body is None:
                continue
            qualifiers = " ".join(sorted(q.value for q in fn.qualifiers))
            params = ", ".join(p.name for p in fn.params)
            counts: Counter[str] = Counter()
            for node in walk(fn.body):
                if isinstance(node, For):
                    counts[f"{node.kind.name} loop" + (f" over {node.axis}" if node.axis else "")] += 1
                elif isinstance(node, (KernelLaunch, Barrier)):
                    counts[type(node).__name__] += 1
            body = ", ".join(f"{n} {what}" for what, n in sorted(counts.items())) or "straight-line code"
            lines.append(f"{qualifiers + ' ' if qualifiers else ''}{fn.name}({params}): {body}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return render.stage_html(self)

    def __repr__(self) -> str:
        return render.stage_text(self)


def replay_passes(source: str, translation) -> tuple[Stage, ...]:
    """Re-run a translation's recorded passes with their recorded options, keeping every intermediate module.

    A pass recorded as skipped (its precondition did not hold) leaves the module as it was. A record this table
    does not know is an internal error: the driver gained a pass that needs a line here.
    """
    from kernel_ir.parse import parse
    from passes.bind import BindOptions, bind
    from passes.cache import CacheOptions, cache
    from passes.detensorize import detensorize
    from passes.jam import JamOptions, jam
    from passes.lane_tables import lane_tables
    from passes.normalize import NormalizeOptions, normalize
    from passes.parallelize import ParallelizeOptions, parallelize
    from passes.pipeline import PipelineOptions, pipeline
    from passes.recover_loops import RecoverOptions, recover_loops
    from passes.simdize import SimdizeOptions, simdize
    from passes.tensorize import TensorizeOptions, tensorize
    from passes.translate import (ScheduleStep, apply_schedule, cost_model, openmp_clauses, preferred_vector_width,
                                  source_buffer_elements, speculated_float_arithmetic)

    entry = translation.entry

    def bind_step(module: Module, options: dict) -> Module:
        elements = source_buffer_elements(parse(source, translation.source_dialect), entry)
        return bind(module, options["target"], BindOptions(options["block_size"], elements))

    def schedule_step(module: Module, options: dict) -> Module:
        step_options = tuple((k, v) for k, v in options.items() if k != "pass")
        return apply_schedule(module, entry, (ScheduleStep(options["pass"], step_options),))

    replay = {"parse": lambda _, options: parse(source, options["dialect"]),
              "detensorize": lambda module, _: detensorize(module),
              "recover_loops": lambda module, options: recover_loops(module, RecoverOptions(**options)),
              "normalize": lambda module, options: normalize(module, NormalizeOptions(**options)),
              "parallelize": lambda module, options: parallelize(module, ParallelizeOptions(**options)),
              **dict.fromkeys(("split", "reorder", "fuse", "contract", "unroll"), schedule_step),
              "simdize": lambda module, options: simdize(module, SimdizeOptions(**options)),
              "lane_tables": lambda module, _: lane_tables(module),
              "jam": lambda module, options: jam(module, JamOptions(**options)),
              "bind": bind_step,
              "openmp_clauses": lambda module, options: openmp_clauses(module, options["num_threads"],
                                                                       options["schedule"]),
              "speculated_float_arithmetic": lambda module, _: speculated_float_arithmetic(module),
              "vector_width": lambda module, options: preferred_vector_width(module, options["bits"]),
              "cpu_tune": lambda module, options: cost_model(module, options["cpu"]),
              "cache": lambda module, options: cache(module, CacheOptions(**options)),
              "tensorize": lambda module, options: tensorize(module, TensorizeOptions(**options)),
              "pipeline": lambda module, options: pipeline(module, PipelineOptions(**options))}
    stages, module = [], None
    for record in translation.passes:
        if record.name not in replay:
            raise XpilerError("XP900", f"cannot show the stages: no replay for the pass {record.name!r}",
                              hint="this is a bug in Xpiler (xpiler_magic.result.replay_passes needs a line)")
        if not record.note.startswith("skipped"):
            module = replay[record.name](module, record.options)
        stages.append(Stage(record.name, record.options, module))
    return tuple(stages)


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
