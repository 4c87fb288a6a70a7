"""Meta-prompts, card retrieval and code extraction (no model, no network)."""
from __future__ import annotations

from synthesis.prompts import card_sections, extract_code, pass_messages, retrieve


def test_every_platform_has_a_card_with_sections() -> None:
    for dialect in ("cuda", "hip", "bang", "cpp"):
        assert len(card_sections(dialect)) >= 4


def test_retrieval_prefers_the_sections_the_region_talks_about() -> None:
    titles = [s.title for s in retrieve("bang", "__memcpy(buf, x, n * sizeof(float), GDRAM2NRAM); __nram__", 1)]
    assert titles == ["Memory spaces and copies"]
    titles = [s.title for s in retrieve("cuda", "__syncthreads(); __shared__ float tile[256];", 1)]
    assert titles == ["Shared memory and barriers"]


def test_the_prompt_states_the_goal_the_card_and_the_region() -> None:
    region = 'extern "C" void relu(const float* x, float* y, int n) { for (int i = 0; i < n; i += 1) {} }'
    system, user = pass_messages("bind", region, "cuda", "bang", "relu")
    assert "one fenced code block" in system["content"]
    assert "Cambricon BANG C" in user["content"] and "`relu`" in user["content"] and region in user["content"]
    assert "taskId" in user["content"]  # the card's entry section came along


def test_code_is_extracted_and_bad_answers_are_told_apart() -> None:
    assert extract_code("text\n```cpp\nint a;\n```\nmore\n```\nint longer_one;\n```\n") == ("int longer_one;", "")
    assert extract_code("Just swap the loops.")[1] == "the answer holds no code block (prose)"
    assert "truncated" in extract_code("```cpp\nvoid f() {\n  for (")[1]
    assert extract_code("   ")[1] == "the answer is empty"
    assert extract_code("```\n\n```")[1] == "the answer holds no code block (prose)"
