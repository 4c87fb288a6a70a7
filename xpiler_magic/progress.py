"""Live progress of a tuning run: the `progress(trial, best_trial)` callback that autotune calls after each trial.

In a Jupyter kernel it shows an ipywidgets progress bar with the best-so-far, and a convergence plot (best time
against trial, an inline SVG) that is redrawn in place through a display handle. Every display also carries a
`text/plain` line, so a frontend without widget state (nbconvert, a saved notebook on GitHub) still reads
"7/20 trials, best ...". Without a kernel (the CLI, a script, a terminal IPython) it writes that line to a stream:
rewritten in place on a terminal, one line per trial in a log.

Trials are autotune.Trial (duck-typed: `number`, 0-based over the whole history, `config`, `status`, "ok" when
verified and timed, `time_s`, None unless timed); `best_trial` may be None until a trial has verified. Trials
replayed from the trial store are not reported while the run goes (autotune times nothing for them): the first new
trial's number shows how many came before it, and `finish(trials)` draws the whole history at the end.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TextIO

from . import render


@dataclass(frozen=True)
class TrialPoint:
    """What the plot and the line keep of one trial (the trial object itself may be large or mutable)."""

    number: int  # 1-based position in the tuning history (replayed trials included)
    status: str
    time_s: float | None
    best_time_s: float | None
    replayed: bool = False


def widgets_can_render() -> bool:
    """Widgets need a Jupyter kernel (only a frontend connected to one can draw them) and ipywidgets."""
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class TuningProgress:
    """Pass an instance as autotune's `progress=` callback; call `close()` (or use `with`) when the run ends.

    budget: the number of trials planned (None: unknown, the bar grows with the trials). widgets: force the
    widget view (True) or the text line (False); default: widgets when a kernel can show them.
    """

    def __init__(self, budget: int | None = None, title: str = "tuning", widgets: bool | None = None,
                 stream: TextIO | None = None):
        self.budget = budget
        self.title = title
        self.points: list[TrialPoint] = []
        self.best_trial = None
        self.state = "running"  # then "done" or "interrupted"
        self.stream = stream or sys.stderr
        self.use_widgets = widgets_can_render() if widgets is None else widgets
        self._bar = self._label = self._box = self._box_handle = self._plot_handle = None
        if self.use_widgets:
            self._open_widgets()

    # ------------------------------------------------------------------------------------------ callback ---

    def __call__(self, trial, best_trial) -> None:
        self.best_trial = best_trial
        best_time = getattr(best_trial, "time_s", None) if best_trial is not None else None
        self.points.append(TrialPoint(trial.number + 1, trial.status, trial.time_s, best_time))
        self._refresh()

    def finish(self, trials: list, interrupted: bool = False) -> None:
        """The run ended with this history (autotune's TuneResult.trials, replayed ones first): redraw it whole."""
        points, best = [], None
        for trial in trials:
            if trial.time_s is not None and (best is None or trial.time_s < best.time_s):
                best = trial
            points.append(TrialPoint(trial.number + 1, trial.status, trial.time_s, best and best.time_s,
                                     getattr(trial, "resumed", False)))
        self.points, self.best_trial = points, best
        self.close(interrupted)

    def close(self, interrupted: bool = False) -> None:
        """The run ended (or was interrupted: the finished trials stay shown and counted)."""
        if self.state != "running":
            return
        self.state = "interrupted" if interrupted else "done"
        self._refresh()
        if not self.use_widgets and self.stream.isatty():
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self) -> TuningProgress:
        return self

    def __exit__(self, kind, error, tb) -> None:
        self.close(interrupted=kind is not None)  # Ctrl-C or an error: the run stopped with what it finished

    # ------------------------------------------------------------------------------------------ views ---

    @property
    def done(self) -> int:
        """Trials finished, replayed ones included (numbers are positions in the history, so gaps count too)."""
        return max((p.number for p in self.points), default=0)

    @property
    def total(self) -> int:
        return max(self.budget or 0, self.done, 1)

    def line(self) -> str:
        """The one-line summary every view shows (also the text/plain of the widget display)."""
        return render.progress_line(self.title, self.done, self.budget, self.points, self.best_trial, self.state)

    def svg(self) -> str:
        return render.convergence_svg(self.points, self.budget)

    def _open_widgets(self) -> None:
        import ipywidgets
        from IPython.display import display

        self._bar = ipywidgets.IntProgress(value=0, min=0, max=self.total, description=self.title,
                                           bar_style="info", layout=ipywidgets.Layout(width="520px"),
                                           style={"description_width": "initial"})  # the whole title, not "tun..."
        self._label = ipywidgets.HTML(value=render.progress_label_html(self.line()))
        self._box = ipywidgets.VBox([self._bar, self._label])
        self._box_handle = display(self._box_bundle(), raw=True, display_id=True)
        self._plot_handle = display(self._plot_bundle(), raw=True, display_id=True)

    def _box_bundle(self) -> dict:
        """The widget view, with the text line for frontends that hold no widget state."""
        return {**self._box._repr_mimebundle_(), "text/plain": self.line()}

    def _plot_bundle(self) -> dict:
        return {"image/svg+xml": self.svg(), "text/plain": f"convergence plot ({self.line()})"}

    def _refresh(self) -> None:
        if self.use_widgets:
            self._bar.max = self.total
            self._bar.value = self.done
            self._bar.bar_style = {"running": "info", "done": "success", "interrupted": "warning"}[self.state]
            self._label.value = render.progress_label_html(self.line())
            self._plot_handle.update(self._plot_bundle(), raw=True)
            if self.state != "running":  # the widget redraws itself; the text fallback needs the final line
                self._box_handle.update(self._box_bundle(), raw=True)
            return
        if self.stream.isatty():
            self.stream.write("\r\033[K" + self.line())
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()
