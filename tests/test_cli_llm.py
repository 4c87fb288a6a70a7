"""`xpile translate --llm`: the per-pass LLM outcomes in the printout and the JSON report; usage errors coded."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.synthesis.fake_llm import FakeChatServer, Reply
from tests.test_magic import SCALE_ADD
from xpiler_magic.cli import main


@pytest.mark.parametrize("flags, words", [
    (["--llm", "m", "--no-verify"], "--llm needs verification"),
    (["--llm-base-url", "http://127.0.0.1:9/v1"], "--llm-base-url says where --llm asks"),
])
def test_llm_usage_errors(tmp_path: Path, capsys, flags, words) -> None:
    source = tmp_path / "k.cu"
    source.write_text(SCALE_ADD)
    assert main(["translate", str(source), "--target", "cpp", "-o", str(tmp_path / "k.cpp"), *flags]) == 2
    assert words in capsys.readouterr().err


def test_an_answer_without_code_falls_back_and_the_report_says_why(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("XPILER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-cli-test-key")
    source, report = tmp_path / "k.cu", tmp_path / "k.json"
    source.write_text(SCALE_ADD)
    with FakeChatServer([Reply("I would rather not.")]) as server:
        rc = main(["translate", str(source), "--target", "cpp", "--llm", "fake-coder", "--llm-base-url",
                   server.base_url, "--size", "n=37", "-o", str(tmp_path / "k.cpp"), "--report", str(report)])
    assert rc == 0
    passes = json.loads(report.read_text())["llm"]
    assert [(p["pass"], p["outcome"]) for p in passes] == [("recover_loops", "symbolic"), ("bind", "fallback")]
    assert passes[1]["cached"] is False and passes[1]["attempts"] == 1
    out = capsys.readouterr().out
    assert "llm: bind: fallback: " in out and "verification: verified" in out
    assert list((tmp_path / "cache" / "llm").rglob("*.json"))  # the answer is cached for a replay
