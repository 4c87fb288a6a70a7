"""translate_assisted against a scripted model on loopback: accepted, repaired by Z3, or rejected with a fallback.

The faulty answers are the symbolic program with one fault (what a model that copies closely gets wrong) or a
hand-written program with a wrong intrinsic length; every outcome is checked against the verification, so
nothing reads "verified" unless it ran and agreed with the source.
"""
from __future__ import annotations

import json
import re

import pytest

from passes.translate import translate
from synthesis.assisted import translate_assisted
from synthesis.llm import LLMConfig, LLMProvider
from synthesis.repair import RepairOptions
from tests.synthesis.fake_llm import FakeChatServer, Reply
from tests.synthesis.kernels import HANDWRITTEN_BANG, HANDWRITTEN_CPP, SIZES, SOURCE, fenced

KEY = "sk-test-SECRET123"


@pytest.fixture(scope="module")
def symbolic_cpp() -> str:
    return translate(SOURCE, "cpp", "cuda", native_compile=False).code


def run(server: FakeChatServer, cache, target: str = "cpp", stream: bool = False,
        repair_options: RepairOptions | None = None, **config):
    settings = {"base_url": server.base_url, "api_key": KEY, "timeout_s": 10.0, "max_retries": 1,
                "backoff_s": 0.01, "stream": stream, **config}
    provider = LLMProvider(LLMConfig("fake-coder", **settings), cache_dir=cache)
    return translate_assisted(SOURCE, target, "cuda", provider=provider, sizes=SIZES, native_compile=False,
                              repair_options=repair_options)


def faulty(code: str, pattern: str, replacement: str, which: int = 0) -> tuple[str, str, str]:
    """(code with match number `which` of `pattern` replaced, the correct text, the faulty text).

    Patterns, not fixed strings: the symbolic program's variable names may change as the passes improve. A cpp
    result may hold a version for whole 64-wide tiles first, which SIZES never reach: a fault in its statements
    goes in the last copy (-1), the one that runs at every size.
    """
    matches = list(re.finditer(pattern, code))
    assert matches, pattern
    match = matches[which]
    wrong = match.expand(replacement)
    return code[:match.start()] + wrong + code[match.end():], match.group(0), wrong


def assert_honest(result, tmp_path) -> None:
    """The report, the code and the cache hold no key; the status is the verification's own verdict."""
    report = json.dumps(result.to_json())
    assert KEY not in report and KEY not in result.code
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY not in path.read_text(errors="replace")
    assert result.status == result.verification.status


def test_a_correct_answer_is_used_and_verified(tmp_path) -> None:
    with FakeChatServer([Reply(fenced(HANDWRITTEN_CPP))]) as server:
        result = run(server, tmp_path)
    bind = result.passes[-1]
    assert bind.name == "bind" and bind.outcome == "llm", bind.reason
    assert result.status == "verified" and "for (int i = 0; i < rows; i += 1)" in result.code
    assert result.passes[0].outcome == "symbolic"
    assert_honest(result, tmp_path)


STORE = r"\* (\w+)\[(\w+) \* (\w+) \+ (\w+)\]"  # the read of x in `y[..] = 2.0f * x[i * cols + j]`
FAULTS = {  # pattern, replacement, kind of fault, which match (the outer loop: the first; a statement: the last)
    "off_by_one": (STORE, r"* \1[\2 * \3 + \4 + 1]", "index", -1),
    "transposed": (STORE, r"* \1[\4 * \3 + \2]", "index", -1),
    "loop_bound": (r"for \(int (\w+) = 0; \1 < (\w+);", r"for (int \1 = 0; \1 < \2 - 1;", "loop_bound", 0),
    "condition": (r"if \((\w+) < (\w+)\)", r"if (\1 < \2 - 1)", "condition", -1),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_faulty_answer_is_localized_and_repaired_by_z3(tmp_path, symbolic_cpp: str, fault: str) -> None:
    pattern, replacement, kind, which = FAULTS[fault]
    answer, old, new = faulty(symbolic_cpp, pattern, replacement, which)
    with FakeChatServer([Reply(fenced(answer))]) as server:
        result = run(server, tmp_path, stream=fault == "transposed")
    bind = result.passes[-1]
    assert bind.outcome == "llm+repaired", bind.reason
    fix = bind.repair["fixes"][0]
    assert fix["kind"] == kind and fix["method"] == "z3-examples" and "SymPy proves" in fix["proof"]
    assert bind.repair["localization"]["kind"] == kind
    removed = [line for line in bind.diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    assert len(removed) == 1 and new in removed[0]  # a minimal diff: the faulty line and nothing else
    assert result.status == "verified" and old in result.code and new not in result.code
    assert "bind: llm+repaired" in result.summary() and result.summary().endswith("status: verified")
    assert_honest(result, tmp_path)


def test_a_wrong_intrinsic_length_is_repaired_by_execution_guided_z3(tmp_path) -> None:
    with FakeChatServer([Reply(fenced(HANDWRITTEN_BANG, "c"))]) as server:
        result = run(server, tmp_path, target="bang")
    bind = result.passes[-1]
    assert bind.outcome == "llm+repaired", bind.reason
    fix = bind.repair["fixes"][0]
    assert fix["kind"] == "intrinsic" and fix["method"] == "z3-cegis"
    assert "__bang_mul_scalar(row, row, 2.0f, cols);" in result.code
    assert result.status == "verified"
    assert_honest(result, tmp_path)


@pytest.mark.parametrize("reply,expected", [
    (Reply("To transpose, swap the loops and scale each element by two."), "prose"),
    (Reply("```cpp\nextern \"C\" void scaled_transpose(const float* x, float* y, int rows, int cols) {\n    for ("),
     "truncated"),
    (Reply(fenced("extern \"C\" void scaled_transpose(const float* x, float* y, int rows, int cols) {\n")),
     "not a usable"),
    (Reply(status=500), "HTTP 500"),
    (Reply(fenced(HANDWRITTEN_CPP), delay_s=3.0), "no answer within"),
], ids=["prose", "truncated", "unparseable", "server-error", "timeout"])
def test_unusable_answers_fall_back_to_the_symbolic_pass(tmp_path, symbolic_cpp: str, reply: Reply,
                                                         expected: str) -> None:
    with FakeChatServer([reply]) as server:
        result = run(server, tmp_path, timeout_s=0.5)
    bind = result.passes[-1]
    assert bind.outcome == "fallback" and expected in bind.reason, bind.reason
    assert result.code == symbolic_cpp and result.status == "verified"
    assert_honest(result, tmp_path)


def test_an_answer_beyond_repair_falls_back_and_is_not_called_verified(tmp_path, symbolic_cpp: str) -> None:
    wrong = faulty(symbolic_cpp, r"2\.0f \*", "3.0f *", -1)[0]  # a float constant: outside the sketch language
    with FakeChatServer([Reply(fenced(wrong))]) as server:
        result = run(server, tmp_path, repair_options=RepairOptions(max_runs=3))  # bounded: reported, not hung
    bind = result.passes[-1]
    assert bind.outcome == "fallback" and "mismatch" in bind.reason and "not repaired" in bind.reason
    assert "3.0f" not in result.code and result.status == "verified"


def test_a_rate_limit_is_retried_and_a_rerun_replays_offline(tmp_path) -> None:
    script = [Reply(status=429, headers={"retry-after-ms": "5"}), Reply(fenced(HANDWRITTEN_CPP))]
    with FakeChatServer(script) as server:
        first = run(server, tmp_path, stream=True)
        url = server.base_url
    assert first.passes[-1].outcome == "llm" and first.passes[-1].attempts == 2
    provider = LLMProvider(LLMConfig("fake-coder", base_url=url), cache_dir=tmp_path)  # server gone, no key
    again = translate_assisted(SOURCE, "cpp", "cuda", provider=provider, sizes=SIZES, native_compile=False)
    assert again.passes[-1].cached and again.code == first.code and again.status == "verified"
    assert_honest(again, tmp_path)


def test_without_a_provider_every_pass_is_symbolic(symbolic_cpp: str) -> None:
    result = translate_assisted(SOURCE, "cpp", "cuda", sizes=SIZES, native_compile=False)
    assert [p.outcome for p in result.passes] == ["symbolic", "symbolic"] and not result.used_llm
    assert result.code == symbolic_cpp and result.status == "verified"
