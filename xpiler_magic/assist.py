"""LLM-assisted translation for the magic and the CLI: one call, shaped like translate_checked's result.

Both front ends show a translation from its CheckedTranslation and JSON report; the model's part is the per-pass
record (`llm_passes`: symbolic, llm, llm+repaired with the repair's diff, or fallback with the reason) that
goes into the report under "llm", so the notebook, the CLI and `xpile report` render it the same way.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from kernel_ir.diagnostics import XpilerError
from passes.translate import CheckedTranslation


@dataclasses.dataclass(frozen=True)
class AssistedResult:
    """The checked translation (its code is the assisted one) and the per-pass LLM outcomes, as JSON."""

    checked: CheckedTranslation
    llm_passes: list[dict]


def check_llm_options(llm: str | None, base_url: str | None, verify: bool) -> None:
    """The option combinations both front ends refuse: an endpoint without --llm, and --llm without running."""
    if llm is None and base_url:
        raise XpilerError("XP002", "--llm-base-url says where --llm asks", hint="add --llm MODEL")
    if llm is not None and not verify:
        raise XpilerError("XP002", "--llm needs verification: a model's program is judged by running it",
                          hint="remove --no-verify")


def translate_with_llm(source: str, target: str, source_dialect: str | None, entry: str | None, model: str,
                       base_url: str | None, api_key: str | None, cache_dir: Path | str | None,
                       sizes: dict | None) -> AssistedResult:
    """synthesis.assisted.translate_assisted with an OpenAI-compatible model; answers cached in `cache_dir`.

    The key may be None: the provider then reads $OPENAI_API_KEY, and only when an answer is not cached.
    The compile results and pass records stay the symbolic translation's (the model's program is judged by
    execution, which the verification shows).
    """
    from synthesis.assisted import translate_assisted
    from synthesis.llm import LLMConfig, LLMProvider

    if not model:
        raise XpilerError("XP002", "--llm needs a model name",
                          hint="write --llm MODEL, or set a default with %xpile_config llm_model=MODEL")
    provider = LLMProvider(LLMConfig(model, base_url=base_url or None, api_key=api_key or None), cache_dir=cache_dir)
    assisted = translate_assisted(source, target, source_dialect, entry, provider=provider, sizes=sizes)
    translation = dataclasses.replace(assisted.symbolic, code=assisted.code)
    return AssistedResult(CheckedTranslation(translation, assisted.verification),
                          [p.to_json() for p in assisted.passes])
