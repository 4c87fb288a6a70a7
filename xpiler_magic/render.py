"""HTML and plain-text views of translations, diagnostics and the session config.

HTML uses inline styles only: untrusted notebooks strip <style> blocks, and nbconvert exports keep the look.
Every piece of user or compiler text is escaped. Code is highlighted with pygments when it is installed.
"""
from __future__ import annotations

import html
from typing import TYPE_CHECKING

from kernel_ir.diagnostics import Diagnostic

if TYPE_CHECKING:
    from .result import XpileResult

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


def compile_verdict(ok: bool | None) -> str:
    return {True: "ok", False: "FAILED", None: "not run (tool not installed)"}[ok]


# --------------------------------------------------------------------------------------------- results ---

def result_html(result: XpileResult) -> str:
    t, v = result.translation, result.verification
    head = (f'{badge(result.status)} <b>{esc(t.entry)}</b>: {esc(t.source_dialect)} &rarr; '
            f'{esc(t.target_dialect)} <span style="color:#57606a">in {t.elapsed_s:.2f} s</span>')
    parts = [f"<div>{head}</div>"]
    if v is None:
        parts.append('<div style="color:#57606a">verification was turned off: nothing was run</div>')
    else:
        parts.append(f'<div style="color:#57606a">{esc(v.reason)}</div>')
        parts.append(evidence_html(v))
    parts.append(section(f"Translated code ({t.target_dialect})", code_html(t.code, t.target_dialect),
                         result.show == "code"))
    parts.append(section("Diff against the source", diff_html(result.diff()), result.show == "diff"))
    compile_rows = [[esc(c.tool), esc(compile_verdict(c.ok)), f"<code>{esc(c.command)}</code>",
                     f'<pre style="{PRE}">{esc(c.output.strip())}</pre>' if c.output.strip() else ""]
                    for c in t.compile_results]
    parts.append(section("Compile results", table(["tool", "verdict", "command", "output"], compile_rows),
                         any(c.ok is False for c in t.compile_results)))
    pass_rows = [[esc(p.name), esc(options_text(p.options)), esc(p.note)] for p in t.passes]
    parts.append(section("Passes", table(["pass", "options", "note"], pass_rows), result.show == "passes"))
    if result.show == "ir":
        parts.append(section("Loop form (IR, printed as cpp)", code_html(result.loop_form(), "cpp"), True))
    return f'<div style="{BOX}">{"".join(parts)}</div>'


def evidence_html(v) -> str:
    """The evidence a verdict rests on: inputs, seed, tolerance, errors, where each side ran."""
    inputs = ", ".join(f"<code>{esc(name)}</code>: {esc(describe_input(spec))}" for name, spec in v.inputs.items())
    ran_on = ", ".join(f"{esc(side)}: {esc(place)}" for side, place in v.ran_on.items())
    rows = [["inputs", inputs or "-"], ["seed", esc(v.seed)], ["tolerance", f"rtol {v.rtol:g}, atol {v.atol:g}"],
            ["max error", f"abs {number(v.max_abs_error)}, rel {number(v.max_rel_error)}"],
            ["ran on", ran_on or "-"]]
    return table(["evidence", ""], rows)


def result_text(result: XpileResult) -> str:
    t, v = result.translation, result.verification
    lines = [f"xpile: {t.entry} {t.source_dialect} -> {t.target_dialect} [{result.status.upper()}] "
             f"in {t.elapsed_s:.2f} s"]
    if v is None:
        lines.append("  verification: turned off (nothing was run)")
    else:
        lines.append(f"  verification: {v.reason}")
        inputs = ", ".join(f"{name} {describe_input(spec)}" for name, spec in v.inputs.items())
        lines.append(f"  inputs: {inputs or '-'}; seed {v.seed}")
        lines.append(f"  tolerance: rtol {v.rtol:g}, atol {v.atol:g}; max abs error {number(v.max_abs_error)}, "
                     f"max rel error {number(v.max_rel_error)}")
        lines.append("  ran on: " + (", ".join(f"{side} {place}" for side, place in v.ran_on.items()) or "-"))
    lines.append("  compile: " + "; ".join(f"{c.tool} {compile_verdict(c.ok)}" for c in t.compile_results))
    lines.append("  passes: " + " -> ".join(f"{p.name}({options_text(p.options)})" for p in t.passes))
    body = {"code": t.code, "diff": result.diff(), "ir": result.loop_form() if result.show == "ir" else "",
            "passes": ""}[result.show]
    if body:
        lines += [f"--- {result.show} ---", body.rstrip("\n")]
    return "\n".join(lines)


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
