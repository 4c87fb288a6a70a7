"""LLM-assisted translation: the model proposes a pass's output, execution judges it, Z3 repairs it.

    translate_assisted(source, target, provider=LLMProvider(LLMConfig("model", base_url=...)), ...)

The symbolic pipeline (passes.translate) always runs first: its programs are the references for localization
and the fallback. For each pass in `llm_passes` (in pipeline order):

- recover_loops: the model writes the loop form (plain C++) from the source;
- bind: the model writes the target program from the loop form (the symbolic one, or the model's own when
  recover_loops was accepted).

An answer's code block is extracted, parsed, and run against the source on the same inputs. A mismatch is
localized against the symbolic program of that stage and repaired (synthesis.repair); whatever cannot be made
to agree falls back to the symbolic output, and the report says so. Nothing is called verified unless
passes.verify ran it against the source and they agreed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from kernel_ir.detect import detect_dialect
from kernel_ir.diagnostics import XpilerError
from kernel_ir.entry import find_entry
from kernel_ir.parse import parse
from passes.translate import TranslateOptions, Translation, translate
from passes.verify import Verification, make_inputs, verify
from synthesis.llm import LLMError, LLMProvider, scrub
from synthesis.prompts import extract_code, pass_messages
from synthesis.repair import Repair, RepairOptions, repair

LLM_PASSES = ("recover_loops", "bind")  # the passes a model may propose, in pipeline order


@dataclass(frozen=True)
class PassReport:
    """What one pass used. outcome: symbolic | llm | llm+repaired | fallback."""

    name: str
    outcome: str
    reason: str
    diff: str = ""
    cached: bool | None = None
    attempts: int = 0
    repair: dict | None = None

    def to_json(self) -> dict:
        return {"pass": self.name, "outcome": self.outcome, "reason": self.reason, "diff": self.diff,
                "cached": self.cached, "attempts": self.attempts, "repair": self.repair}


@dataclass(frozen=True)
class AssistedTranslation:
    code: str
    source_dialect: str
    target_dialect: str
    entry: str
    verification: Verification | None
    passes: tuple[PassReport, ...]
    symbolic: Translation = field(repr=False)

    @property
    def status(self) -> str:
        return self.verification.status if self.verification is not None else "not verified (skipped)"

    @property
    def used_llm(self) -> bool:
        return any(p.outcome.startswith("llm") for p in self.passes)

    def summary(self) -> str:
        """One line per pass (what used the model, what was repaired, what fell back) and the verdict."""
        lines = [f"{p.name}: {p.outcome}" + ("" if p.outcome == "symbolic" else f" ({p.reason})")
                 for p in self.passes]
        return "\n".join([*lines, f"status: {self.status}"])

    def to_json(self) -> dict:
        return {"source_dialect": self.source_dialect, "target_dialect": self.target_dialect, "entry": self.entry,
                "status": self.status, "passes": [p.to_json() for p in self.passes],
                "verification": self.verification.to_json() if self.verification else None}


def translate_assisted(source: str, target: str, source_dialect: str | None = None, entry: str | None = None,
                       provider: LLMProvider | None = None, llm_passes: tuple[str, ...] = ("bind",),
                       sizes: dict | None = None, args: list | None = None, rtol: float = 1e-4,
                       atol: float = 1e-4, options: TranslateOptions | None = None,
                       repair_options: RepairOptions | None = None,
                       native_compile: bool = True) -> AssistedTranslation:
    """`source` in `target`, with the model proposing `llm_passes` when a provider is given (see the module).

    sizes/args: the inputs of every check (default: generated from the source's extents, as verify does).
    Raises XpilerError only where the symbolic translation itself refuses.
    """
    unknown = set(llm_passes) - set(LLM_PASSES)
    if unknown:
        raise XpilerError("XP002", f"the LLM cannot propose {', '.join(sorted(unknown))}",
                          hint=f"choose among {', '.join(LLM_PASSES)}")
    dialect = source_dialect or detect_dialect(source)
    symbolic = translate(source, target, dialect, entry, native_compile=native_compile, options=options)
    entry_name = symbolic.entry
    if args is None:
        args = _inputs(source, dialect, symbolic.code, target, entry_name, sizes)
    context = _Context(source, dialect, target, entry_name, args, rtol, atol, options, repair_options)
    reports: list[PassReport] = []
    code, loop_form = symbolic.code, None
    for name in LLM_PASSES:
        if provider is None or name not in llm_passes:
            reports.append(PassReport(name, "symbolic", "the symbolic pass"))
            continue
        if name == "recover_loops":
            reference = translate(source, "cpp", dialect, entry_name, native_compile=False, options=options).code
            report, accepted = _propose(provider, name, source, reference, "cpp", context)
            if accepted is not None:
                loop_form = accepted
                code, note = _bind_symbolically(accepted, symbolic.code, context)
                report = _with_note(report, note)
        else:
            region = loop_form or translate(source, "cpp", dialect, entry_name, native_compile=False,
                                            options=options).code
            report, accepted = _propose(provider, name, region, code, target, context)
            code = accepted if accepted is not None else code
        reports.append(report)
    check = context.check(code, target)
    if check.status != "verified" and code != symbolic.code:  # never hand back an unverified model program
        code, check = symbolic.code, context.check(symbolic.code, target)
        reports.append(PassReport("final", "fallback", "the assembled program did not verify; symbolic result"))
    return AssistedTranslation(code, dialect, target, entry_name, check, tuple(reports), symbolic)


@dataclass(frozen=True)
class _Context:
    source: str
    dialect: str
    target: str
    entry: str
    args: list | None
    rtol: float
    atol: float
    options: TranslateOptions | None
    repair_options: RepairOptions | None

    def check(self, code: str, dialect: str) -> Verification:
        if self.args is None:
            return Verification("unverified", "no inputs could be made for this kernel; give sizes or args")
        return verify(self.source, self.dialect, code, dialect, self.entry, args=self.args, rtol=self.rtol,
                      atol=self.atol)


def _inputs(source: str, dialect: str, result: str, target: str, entry: str, sizes: dict | None) -> list | None:
    """verify's generated inputs, sized by source and result, else by the source alone; None when neither."""
    function = find_entry(parse(source, dialect), entry)
    for other, other_dialect in ((result, target), (source, dialect)):
        try:
            return make_inputs(source, dialect, other, other_dialect, function, sizes, 0)[0]
        except XpilerError:
            continue
    return None


def _propose(provider: LLMProvider, name: str, region: str, reference: str, dialect: str,
             context: _Context) -> tuple[PassReport, str | None]:
    """Ask, extract, parse, verify, repair; (report, accepted code or None for the symbolic fallback)."""
    messages = pass_messages(name, region, context.dialect, context.target, context.entry)
    secret = getattr(provider, "_secret", None)
    try:
        answer = provider.complete(messages)
    except LLMError as err:
        return PassReport(name, "fallback", f"no answer: {err.message}"), None
    cached, attempts = answer.cached, answer.attempts
    code, problem = extract_code(answer.text)
    if code is None:
        return PassReport(name, "fallback", problem, cached=cached, attempts=attempts), None
    try:
        find_entry(parse(code, dialect), context.entry)
    except XpilerError as err:
        return PassReport(name, "fallback", f"the answer is not a usable {dialect} program: "
                          f"{scrub(err.diagnostic.message, secret)}", cached=cached, attempts=attempts), None
    check = context.check(code, dialect)
    if check.verified:
        return PassReport(name, "llm", f"verified: {check.reason}", cached=cached, attempts=attempts), code
    if context.args is None:
        return PassReport(name, "fallback", check.reason, cached=cached, attempts=attempts), None
    try:
        fixed = repair(code, reference, dialect, context.entry, context.args, spec=(context.source, context.dialect),
                       rtol=context.rtol, atol=context.atol, options=context.repair_options)
    except XpilerError as err:
        fixed = Repair("out_of_reach", f"the repair could not run: {err.diagnostic.message}")
    if fixed.status == "repaired" and fixed.verified:
        return PassReport(name, "llm+repaired", f"{check.status}: {check.reason}; repaired: {fixed.reason}",
                          fixed.diff, cached, attempts, fixed.to_json()), fixed.code
    return PassReport(name, "fallback", f"{check.status}: {check.reason}; not repaired: {fixed.reason}",
                      fixed.diff, cached, attempts, fixed.to_json()), None


def _bind_symbolically(loop_form: str, fallback: str, context: _Context) -> tuple[str, str]:
    """The target program from the model's loop form by the symbolic back half (or the symbolic result)."""
    if context.target == "cpp":
        return loop_form, ""
    try:
        bound = translate(loop_form, context.target, "cpp", context.entry, native_compile=False,
                          options=context.options).code
    except XpilerError as err:
        return fallback, f"; bind refused the model's loop form ({err.code}), so the symbolic program is kept"
    if not context.check(bound, context.target).verified:
        return fallback, "; the model's loop form did not bind to a verified program, so the symbolic one is kept"
    return bound, ""


def _with_note(report: PassReport, note: str) -> PassReport:
    return report if not note else PassReport(report.name, report.outcome, report.reason + note, report.diff,
                                              report.cached, report.attempts, report.repair)
