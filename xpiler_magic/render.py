"""HTML and plain-text views of translations, diagnostics and the session config.

HTML uses inline styles only: untrusted notebooks strip <style> blocks, and nbconvert exports keep the look.
Every piece of user or compiler text is escaped. Code is highlighted with pygments when it is installed.
"""
from __future__ import annotations

import difflib
import html
from typing import TYPE_CHECKING

from kernel_ir.diagnostics import Diagnostic

if TYPE_CHECKING:
    from .result import Stage, XpileResult

GREEN, AMBER, RED = "#1a7f37", "#9a6700", "#cf222e"
BADGE_COLOR = {"verified": GREEN, "compiled": AMBER, "unverified": AMBER}  # anything else is a failure: red
BOX = "border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;margin:4px 0;font-family:system-ui,sans-serif"
PRE = "margin:0;padding:6px;background:#f6f8fa;overflow-x:auto;font-size:12px;line-height:1.35"
CELL = "padding:2px 10px 2px 0;text-align:left;vertical-align:top"
LEXERS = {"cuda": "cuda", "hip": "cuda", "bang": "cuda", "cpp": "cpp"}  # BANG C reads best as CUDA-like C++


def esc(value: object) -> str:
    return html.escape(str(value))


def badge(status: str) -> str:
    color = BADGE_COLOR.get(status, RED)
    return (f'<span style="background:{color};color:white;border-radius:10px;padding:1px 9px;font-weight:600;'
            f'font-size:12px">{esc(status)}</span>')


def code_html(code: str, dialect: str) -> str:
    """Highlighted code (pygments, inline styles) or escaped <pre> when pygments is missing."""
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import get_lexer_by_name
    except ImportError:
        return f'<pre style="{PRE}">{esc(code)}</pre>'
    formatter = HtmlFormatter(noclasses=True, nobackground=True, cssstyles=PRE)
    return highlight(code, get_lexer_by_name(LEXERS.get(dialect, "cpp")), formatter)


def diff_html(diff: str) -> str:
    colors = {"+": "#dafbe1", "-": "#ffebe9", "@": "#ddf4ff"}
    rows = []
    for line in diff.splitlines():
        color = colors.get(line[:1], "transparent") if not line.startswith(("+++", "---")) else "transparent"
        rows.append(f'<span style="display:block;background:{color}">{esc(line) or " "}</span>')
    return f'<pre style="{PRE}">{"".join(rows) or "(identical)"}</pre>'


def table(header: list[str], rows: list[list[str]]) -> str:
    """An HTML table; cells are already-escaped HTML."""
    head = "".join(f'<th style="{CELL}">{esc(h)}</th>' for h in header)
    body = "".join("<tr>" + "".join(f'<td style="{CELL}">{cell}</td>' for cell in row) + "</tr>" for row in rows)
    return f'<table style="border-collapse:collapse;font-size:12px"><tr>{head}</tr>{body}</table>'


def section(title: str, content: str, is_open: bool) -> str:
    return (f'<details{" open" if is_open else ""} style="margin-top:6px"><summary style="cursor:pointer">'
            f'{esc(title)}</summary>{content}</details>')


def number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


def describe_input(spec: dict) -> str:
    if "shape" in spec:
        return f"{spec['dtype']}[{'x'.join(str(d) for d in spec['shape'])}]"
    return f"{spec['dtype']} = {spec['value']}"


def options_text(options: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in options.items()) or "-"


def knobs_text(config: dict) -> str:
    """A tuning config, sequence first and the knobs sorted: the same text whether the trial was just timed or
    replayed from the store (which keeps keys sorted)."""
    return options_text(dict(sorted(config.items(), key=lambda item: (item[0] != "sequence", item[0]))))


def compile_verdict(ok: bool | None) -> str:
    return {True: "ok", False: "FAILED", None: "not run (tool not installed)"}[ok]


# --------------------------------------------------------------------------------------------- results ---
# A translation is rendered from its JSON report (`xpile translate --report`, `XpileResult.report`) plus the
# source and code texts, so the notebook cell, the CLI and `xpile report` show exactly the same thing.

def report_status(report: dict) -> str:
    """The verification's status; without verification "compiled" if every build succeeded, else "failed"."""
    verification = report["verification"]["status"]
    if verification != "skipped":
        return verification
    return "failed" if any(c["ok"] is False for c in report["compile"]) else "compiled"


def unified_diff(report: dict, source: str, code: str) -> str:
    """Unified diff from the source to the translated code."""
    lines = difflib.unified_diff(source.splitlines(keepends=True), code.splitlines(keepends=True),
                                 fromfile=f"source ({report['source_dialect']})",
                                 tofile=f"{report['entry']} ({report['target_dialect']})")
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def translation_html(report: dict, source: str, code: str, show: str = "code", extra: str = "") -> str:
    """The badge, the evidence, then code, diff, compile results and passes as sections (`show` opens one);
    `extra` (more sections: the magic's stage programs or loop form) goes last, inside the box."""
    v = report["verification"]
    head = (f'{badge(report_status(report))} <b>{esc(report["entry"])}</b>: {esc(report["source_dialect"])} '
            f'&rarr; {esc(report["target_dialect"])} <span style="color:#57606a">in {report["elapsed_s"]:.2f} s</span>')
    parts = [f"<div>{head}</div>"]
    if v["status"] == "skipped":
        parts.append('<div style="color:#57606a">verification was turned off: nothing was run</div>')
    else:
        parts.append(f'<div style="color:#57606a">{esc(v["reason"])}</div>')
        parts.append(evidence_html(v))
    tuned = bool(report.get("tuning", {}).get("best_code"))
    code_title = "Tuned code" if tuned else "Translated code"
    parts.append(section(f"{code_title} ({report['target_dialect']})", code_html(code, report["target_dialect"]),
                         show == "code"))
    parts.append(section("Diff against the source", diff_html(unified_diff(report, source, code)), show == "diff"))
    compile_rows = [[esc(c["tool"]), esc(compile_verdict(c["ok"])), f"<code>{esc(c['command'])}</code>",
                     f'<pre style="{PRE}">{esc(c["output"].strip())}</pre>' if c["output"].strip() else ""]
                    for c in report["compile"]]
    parts.append(section("Compile results", table(["tool", "verdict", "command", "output"], compile_rows),
                         any(c["ok"] is False for c in report["compile"])))
    pass_rows = [[esc(p["name"]), esc(options_text(p["options"])), esc(p["note"])] for p in report["passes"]]
    parts.append(section("Passes", table(["pass", "options", "note"], pass_rows), show == "passes"))
    if "llm" in report:
        parts.append(section("LLM passes", llm_html(report["llm"]), True))
    if "tuning" in report:
        parts.append(section("Tuning", tuning_html(report["tuning"]), True))
    return f'<div style="{BOX}">{"".join(parts)}{extra}</div>'


def result_html(result: XpileResult) -> str:
    extra = ""
    if result.show == "passes":  # each stage's program (replayed: only when asked for, it costs a re-run)
        stages = "".join(section(f"after {s.name} ({s.dialect})", stage_html(s), False) for s in result.stages)
        extra = section("Program after each pass", stages, True)
    elif result.show == "ir":
        extra = section("Loop form (IR, printed as cpp)", code_html(result.loop_form(), "cpp"), True)
    return translation_html(result.report, result.source, result.code, result.show, extra)


def report_page(report: dict, source: str, code: str) -> str:
    """A standalone HTML file (`xpile report`, `xpile translate --html`): the notebook view, every section open."""
    title = f"xpile: {report['entry']} {report['source_dialect']} -> {report['target_dialect']}"
    files = "".join(f"<div>{esc(what)}: <code>{esc(report[key])}</code></div>"
                    for what, key in (("source", "source"), ("translation", "output")) if report.get(key))
    body = translation_html(report, source, code).replace("<details ", "<details open ")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title></head>'
            f'<body style="max-width:1100px;margin:16px auto;font-family:system-ui,sans-serif">'
            f'<h2 style="font-weight:600">{esc(title)}</h2>{files}{body}</body></html>\n')


def evidence_html(v: dict) -> str:
    """The evidence a verdict rests on: inputs, seed, tolerance, errors, where each side ran."""
    inputs = ", ".join(f"<code>{esc(name)}</code>: {esc(describe_input(spec))}" for name, spec in v["inputs"].items())
    ran_on = ", ".join(f"{esc(side)}: {esc(place)}" for side, place in v["ran_on"].items())
    rows = [["inputs", inputs or "-"], ["seed", esc(v["seed"])], ["tolerance", f"rtol {v['rtol']:g}, atol {v['atol']:g}"],
            ["max error", f"abs {number(v['max_abs_error'])}, rel {number(v['max_rel_error'])}"],
            ["ran on", ran_on or "-"]]
    return table(["evidence", ""], rows)


def result_text(result: XpileResult) -> str:
    report = result.report
    v = report["verification"]
    lines = [f"xpile: {report['entry']} {report['source_dialect']} -> {report['target_dialect']} "
             f"[{report_status(report).upper()}] in {report['elapsed_s']:.2f} s"]
    if v["status"] == "skipped":
        lines.append("  verification: turned off (nothing was run)")
    else:
        lines.append(f"  verification: {v['reason']}")
        inputs = ", ".join(f"{name} {describe_input(spec)}" for name, spec in v["inputs"].items())
        lines.append(f"  inputs: {inputs or '-'}; seed {v['seed']}")
        lines.append(f"  tolerance: rtol {v['rtol']:g}, atol {v['atol']:g}; max abs error {number(v['max_abs_error'])}, "
                     f"max rel error {number(v['max_rel_error'])}")
        lines.append("  ran on: " + (", ".join(f"{side} {place}" for side, place in v["ran_on"].items()) or "-"))
    lines.append("  compile: " + "; ".join(f"{c['tool']} {compile_verdict(c['ok'])}" for c in report["compile"]))
    lines.append("  passes: " + " -> ".join(f"{p['name']}({options_text(p['options'])})" for p in report["passes"]))
    if "llm" in report:
        lines += ["  " + line for line in llm_text(report["llm"])]
    if "tuning" in report:
        lines += ["  " + line for line in tuning_text(report["tuning"])]
    body = {"code": lambda: result.code, "diff": result.diff, "ir": result.loop_form,
            "passes": lambda: "\n".join(stage_text(s) for s in result.stages)}[result.show]()
    if body:
        lines += [f"--- {result.show} ---", body.rstrip("\n")]
    return "\n".join(lines)


def stage_html(stage: Stage) -> str:
    """One intermediate program: what it is made of, then its code."""
    return (f'<div style="color:#57606a;font-size:12px;white-space:pre-wrap">{esc(stage.summary())}</div>'
            + code_html(stage.code, stage.dialect))


def stage_text(stage: Stage) -> str:
    return (f"=== after {stage.name}({options_text(stage.options)}) [{stage.dialect}] ===\n{stage.summary()}\n"
            f"{stage.code.rstrip()}")


# --------------------------------------------------------------------------------------------- LLM passes ---
# What each pass of an LLM-assisted translation used (synthesis.assisted.PassReport.to_json): the symbolic pass,
# the model's program as it came (llm), the model's program after a Z3 repair (llm+repaired, with the repair's
# diff), or the symbolic output because the model's could not be made to agree (fallback, with the reason).

OUTCOME_COLOR = {"llm": GREEN, "llm+repaired": GREEN, "symbolic": "#57606a"}  # fallback: amber


def answer_origin(entry: dict) -> str:
    """Where the model's answer came from: the cache (replayed offline), the server (with its attempts), or -."""
    if entry["cached"] is None:
        return "-"
    return "replayed from the cache" if entry["cached"] else f"asked ({entry['attempts']} attempt(s))"


def llm_html(passes: list[dict]) -> str:
    rows = [[f'<b>{esc(p["pass"])}</b>',
             f'<span style="color:{OUTCOME_COLOR.get(p["outcome"], AMBER)};font-weight:600">{esc(p["outcome"])}</span>',
             esc(p["reason"]), esc(answer_origin(p))] for p in passes]
    diffs = "".join(section(f"{p['pass']}: the repair's diff", diff_html(p["diff"]), True)
                    for p in passes if p["diff"])
    return table(["pass", "used", "why", "answer"], rows) + diffs


def llm_text(passes: list[dict]) -> list[str]:
    lines = []
    for p in passes:
        origin = answer_origin(p)
        lines.append(f"llm: {p['pass']}: {p['outcome']}: {p['reason']}" + ("" if origin == "-" else f" [{origin}]"))
        lines += [f"  | {line}" for line in p["diff"].splitlines()]
    return lines


# --------------------------------------------------------------------------------------------- diagnostics ---

def source_excerpt(diagnostic: Diagnostic, source: str) -> str | None:
    """The cell line the diagnostic points at, with a caret under its column."""
    lines = source.splitlines()
    if diagnostic.line is None or not 1 <= diagnostic.line <= len(lines):
        return None
    text = lines[diagnostic.line - 1]
    caret = " " * max((diagnostic.column or 1) - 1, 0) + "^"
    return f"{diagnostic.line:4d} | {text}\n     | {caret}"


def diagnostic_text(diagnostic: Diagnostic, source: str = "") -> str:
    text = f"xpile: {diagnostic}"
    excerpt = source_excerpt(diagnostic, source)
    return text + (f"\n{excerpt}" if excerpt else "")


def diagnostic_html(diagnostic: Diagnostic, source: str = "") -> str:
    where = f" at line {diagnostic.line}:{diagnostic.column}" if diagnostic.line is not None else ""
    parts = [f'<div>{badge("error")} <b>{esc(diagnostic.code)}</b>{esc(where)}: {esc(diagnostic.message)}</div>']
    excerpt = source_excerpt(diagnostic, source)
    if excerpt:
        parts.append(f'<pre style="{PRE}">{esc(excerpt)}</pre>')
    if diagnostic.hint:
        parts.append(f'<div><i>hint:</i> {esc(diagnostic.hint)}</div>')
    if diagnostic.detail:
        parts.append(section("details", f'<pre style="{PRE}">{esc(diagnostic.detail)}</pre>', False))
    return f'<div style="{BOX};border-color:{RED}">{"".join(parts)}</div>'


# --------------------------------------------------------------------------------------------- config ---

def config_html(rows: list[tuple[str, str, str]]) -> str:
    """rows: (key, displayed value, what uses it)."""
    return f'<div style="{BOX}">' + table(["setting", "value", "used by"],
                                           [[f"<code>{esc(k)}</code>", esc(v), esc(u)] for k, v, u in rows]) + "</div>"


def config_text(rows: list[tuple[str, str, str]]) -> str:
    width = max((len(k) for k, _, _ in rows), default=0)
    return "\n".join(f"{k:<{width}}  {v}  ({u})" for k, v, u in rows)


# --------------------------------------------------------------------------------------------- tuning progress ---

def seconds(value: float | None) -> str:
    """A duration in the unit that reads best: 1.23 s, 4.56 ms, 7.8 us."""
    if value is None:
        return "n/a"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value * 1e9:.3g} ns"


def progress_line(title: str, done: int, budget: int | None, points: list, best_trial, state: str) -> str:
    """`tuning: 7/20 trials [#######-------] best 1.2 ms (trial 5: split_factor=8), 2 refused`: the text view.

    points: TrialPoints (`status`, `replayed`); best_trial: duck-typed (`number`, `config`, `time_s`) or None.
    Trials before the first point were replayed from the trial store: they count as done and are said so.
    """
    total = max(budget or 0, done, 1)
    filled = round(20 * done / total)
    parts = [f"{title}: {done}/{budget if budget else '?'} trials [{'#' * filled}{'-' * (20 - filled)}]"]
    replayed = done - sum(1 for p in points if not p.replayed)
    if replayed:
        parts.append(f"{replayed} replayed from the trials cache")
    if best_trial is not None and getattr(best_trial, "time_s", None) is not None:
        config = knobs_text(getattr(best_trial, "config", None) or {})
        parts.append(f"best {seconds(best_trial.time_s)} (trial {best_trial.number + 1}: {config})")
    else:
        parts.append("no verified trial yet")
    not_timed: dict[str, int] = {}
    for p in points:
        if p.time_s is None:
            not_timed[p.status] = not_timed.get(p.status, 0) + 1
    parts += [f"{n} {status}" for status, n in sorted(not_timed.items())]
    line = ", ".join(parts)
    if state == "interrupted":
        line += f"; interrupted: the {done} finished trials are kept"
    elif state == "done":
        line += "; done"
    return line


def progress_label_html(line: str) -> str:
    return f'<span style="font-family:ui-monospace,monospace;font-size:12px">{esc(line)}</span>'


def convergence_svg(points: list, budget: int | None, width: int = 420, height: int = 150) -> str:
    """Best time so far against trial number (a step line), every timed (verified) trial's time (dots: grey, blue
    when replayed from the trial store), and trials that were not timed (red ticks on the axis, their status as
    tooltip). points: objects with `number`, `status`, `time_s`, `best_time_s`, `replayed`."""
    left, right, top, bottom = 56, 10, 10, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    total = max(budget or 0, len(points), 1)
    times = [p.time_s for p in points if p.time_s is not None]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="10" role="img" aria-label="convergence plot">',
             f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="white" stroke="#d0d7de"/>',
             f'<text x="{left + plot_w / 2}" y="{height - 4}" text-anchor="middle" fill="#57606a">trial</text>',
             f'<text x="{left}" y="{height - 14}" text-anchor="middle" fill="#57606a">1</text>',
             f'<text x="{left + plot_w}" y="{height - 14}" text-anchor="middle" fill="#57606a">{total}</text>']

    def x_of(number: int) -> float:
        return left + plot_w * ((number - 1) / max(total - 1, 1))

    for p in points:
        if p.time_s is None:
            x = x_of(p.number)
            parts.append(f'<line x1="{x:.1f}" y1="{top + plot_h}" x2="{x:.1f}" y2="{top + plot_h - 6}" '
                         f'stroke="{RED}" stroke-width="1.5"><title>trial {p.number}: {esc(p.status)}</title></line>')
    if not times:
        parts.append(f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle" fill="#57606a">'
                     f'no verified trial yet</text></svg>')
        return "".join(parts)
    low, high = min(times), max(times)
    span = (high - low) or high or 1.0

    def y_of(value: float) -> float:
        return top + plot_h - 6 - (plot_h - 12) * (value - low) / span

    parts.append(f'<text x="{left - 4}" y="{y_of(high) + 3:.1f}" text-anchor="end" fill="#57606a">'
                 f'{esc(seconds(high))}</text>')
    parts.append(f'<text x="{left - 4}" y="{y_of(low) + 3:.1f}" text-anchor="end" fill="#57606a">'
                 f'{esc(seconds(low))}</text>')
    for p in points:
        if p.time_s is not None:
            color, how = ("#0969da", " (replayed)") if p.replayed else ("#8c959f", "")
            parts.append(f'<circle cx="{x_of(p.number):.1f}" cy="{y_of(p.time_s):.1f}" r="2.5" fill="{color}">'
                         f'<title>trial {p.number}: {esc(seconds(p.time_s))}{how}</title></circle>')
    steps, previous = [], None
    for p in points:
        if p.best_time_s is None:
            continue
        x, y = x_of(p.number), y_of(p.best_time_s)
        if previous is not None and y != previous:  # a new best: the line drops at this trial
            steps.append(f"{x:.1f},{previous:.1f}")
        steps.append(f"{x:.1f},{y:.1f}")
        previous = y
    parts.append(f'<polyline points="{" ".join(steps)}" fill="none" stroke="{GREEN}" stroke-width="2"/>')
    parts.append("</svg>")
    return "".join(parts)


# --------------------------------------------------------------------------------------------- tuning summary ---
# Rendered from the tuning report (xpiler_magic.tuning.tuning_report: autotune's TuneResult.to_json() with the
# budget, strategy and which trials were replayed), so the cell, `xpile tune` and `xpile report` agree.

def timing(measurement: dict | None) -> str:
    """`1.2 ms ± 0.05 ms`, labelled when it is an estimate rather than a measurement."""
    if measurement is None:
        return "n/a"
    text = f"{seconds(measurement['median_s'])} ± {seconds(measurement['spread_s'])}"
    return text + (" (estimate)" if measurement["kind"] == "estimate" else "")


def tuning_facts(tuning: dict) -> list[tuple[str, str]]:
    """(what, value) rows of the summary, plain text: shared by the HTML and the text views."""
    trials = tuning["trials"]
    statuses: dict[str, int] = {}
    for t in trials:
        statuses[t["status"]] = statuses.get(t["status"], 0) + 1
    replayed = sum(1 for t in trials if t.get("replayed"))
    count = f"{len(trials)} of a budget of {tuning['budget']} ({tuning['strategy']} search)"
    count += f", {replayed} replayed from the trials cache" if replayed else ""
    count += "; " + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
    count += "; interrupted: the finished trials are kept" if tuning["interrupted"] else ""
    device = tuning["device"]
    if tuning["kind"] == "estimate":
        device += " (ESTIMATES: no device here runs this dialect; times are the CPU emulation's)"
    rows = [("device", device), ("trials", count)]
    if tuning["best_config"] is None:
        return rows + [("best", "no candidate verified: nothing to recommend; the code is the untuned translation")]
    best = next(t for t in trials if t["config"] == tuning["best_config"])
    rows += [("best", f"trial {best['number'] + 1}: {knobs_text(tuning['best_config'])}"),
             ("best time", timing(tuning["best_time"])), ("untuned time", timing(tuning["untuned_time"]))]
    if tuning.get("speedup") is not None:
        rows.append(("speedup", f"{tuning['speedup']:.2f}x (median against median)"))
    return rows


def trial_rows(tuning: dict) -> list[list[str]]:
    """One row per trial, plain text: number, config, status, time, note."""
    rows = []
    for t in tuning["trials"]:
        why = t["reason"].splitlines()[0][:120] if t["status"] != "ok" and t["reason"] else ""
        note = ", ".join(filter(None, ["best" if t["config"] == tuning["best_config"] else "",
                                       "replayed" if t.get("replayed") else "", why]))
        rows.append([str(t["number"] + 1), knobs_text(t["config"]), t["status"], timing(t["measurement"]), note])
    return rows


def tuning_html(tuning: dict) -> str:
    facts = table(["tuning", ""], [[esc(k), esc(v)] for k, v in tuning_facts(tuning)])
    warning = ""
    if tuning["kind"] == "estimate":
        warning = (f'<div style="color:{AMBER};font-weight:600">estimates, not measurements: '
                   f'no device here runs the target</div>')
    trials = table(["#", "config", "status", "time (median ± IQR)", "note"],
                   [[esc(cell) for cell in row] for row in trial_rows(tuning)])
    return warning + facts + section(f"Trials ({len(tuning['trials'])})", trials, False)


def tuning_text(tuning: dict) -> list[str]:
    lines = [f"tuning: {k}: {v}" for k, v in tuning_facts(tuning)]
    return lines + [f"  trial {n:>3}  {status:<10} {time:<26} {config}" + (f"  [{note}]" if note else "")
                    for n, config, status, time, note in trial_rows(tuning)]
