"""Meta-prompts for one pass, reference cards retrieved by relevance, and code taken out of an answer.

A prompt says the pass's goal, shows the region's code, and adds the sections of the target platform's
reference card (`synthesis/cards/<dialect>.md`, written for Xpiler) that share the most identifiers with the
region: a small, auditable stand-in for retrieval. Answers must hold one fenced code block; prose, a block
left open (a truncated answer) or an empty block are told apart so the report can say why it fell back.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

CARDS_DIR = Path(__file__).parent / "cards"
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
FENCE = re.compile(r"^```[ \t]*([A-Za-z+]*)[ \t]*$", re.MULTILINE)

DIALECT_NAMES = {"cuda": "CUDA C", "hip": "HIP", "bang": "Cambricon BANG C",
                 "cpp": "C++ (OpenMP, AVX-512/VNNI intrinsics where they help)"}

GOALS = {
    "recover_loops": "Rewrite the {source} program below as plain sequential C++ with explicit loops (the "
                     "'loop form'): the same extern \"C\" entry `{entry}` with the same parameters, every kernel "
                     "launch, thread index, task index or intrinsic replaced by loops over its iteration "
                     "space, no intrinsics, no vector types.",
    "bind": "Translate the loop-form C++ program below into {target}. Keep the entry `{entry}` with exactly the "
            "same parameters and semantics (see the card for the entry's form on {target}); map the parallel "
            "loops to the platform's threads or tasks.",
}


@dataclass(frozen=True)
class Section:
    dialect: str
    title: str
    text: str


def card_sections(dialect: str) -> list[Section]:
    text = (CARDS_DIR / f"{dialect}.md").read_text()
    sections = []
    for block in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        title, _, body = block.partition("\n")
        sections.append(Section(dialect, title.strip(), body.strip()))
    return sections


def retrieve(dialect: str, region: str, count: int = 3) -> list[Section]:
    """The `count` card sections sharing the most identifiers with `region` (card order breaks ties)."""
    wanted = {w.lower() for w in WORD.findall(region)}
    sections = card_sections(dialect)
    scored = sorted(enumerate(sections),
                    key=lambda item: (-len(wanted & {w.lower() for w in WORD.findall(item[1].text)}), item[0]))
    return [section for _, section in sorted(scored[:count])]


def pass_messages(pass_name: str, region: str, source: str, target: str, entry: str) -> list[dict]:
    """Chat messages asking for one pass's output; the card is the answer's platform."""
    answer_dialect = "cpp" if pass_name == "recover_loops" else target
    goal = GOALS[pass_name].format(source=DIALECT_NAMES[source], target=DIALECT_NAMES[target], entry=entry)
    card = "\n\n".join(f"### {s.title}\n{s.text}" for s in retrieve(answer_dialect, region))
    system = ("You are one pass of a source-to-source compiler for tensor kernels. Answer with exactly one "
              "fenced code block holding the complete program, and nothing else.")
    user = (f"Goal: {goal}\n\nReference card ({DIALECT_NAMES[answer_dialect]}):\n{card}\n\n"
            f"Program:\n```\n{region.strip()}\n```")
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def extract_code(answer: str) -> tuple[str | None, str]:
    """(code, "") from the answer's longest fenced block, or (None, why there is no usable code)."""
    fences = list(FENCE.finditer(answer))
    blocks, problem = [], ""
    index = 0
    while index < len(fences):
        start = fences[index]
        if index + 1 >= len(fences):
            problem = "the answer's code block is not closed (truncated answer)"
            break
        blocks.append(answer[start.end():fences[index + 1].start()].strip("\n"))
        index += 2
    blocks = [b for b in blocks if b.strip()]
    if blocks:
        return max(blocks, key=len), ""
    if problem:
        return None, problem
    return None, "the answer holds no code block (prose)" if answer.strip() else "the answer is empty"
