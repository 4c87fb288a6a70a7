"""Re-record notebooks/llm_cache/, the model answers 04_llm_assisted.ipynb replays offline.

    python notebooks/record_llm_cache.py

Run it when the notebook's `%%xpile --llm` cell changes, or when a change to the passes or the prompts changes
what the model is asked (the cache is keyed by the exact messages, so the notebook's check that its answer was
replayed then fails). It runs that cell's translation against the loopback fake chat server of the tests
(tests/synthesis/fake_llm.py), which answers with the symbolic translation carrying one injected off-by-one, so
the notebook shows a faulty model answer localized and repaired by Z3. No network, no real model, no real key.
"""
from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import nbformat
from IPython.core import magic_arguments

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from passes.translate import translate  # noqa: E402
from tests.synthesis.fake_llm import FakeChatServer, Reply  # noqa: E402
from xpiler_magic.assist import translate_with_llm  # noqa: E402
from xpiler_magic.magics import XpilerMagics, parse_sizes  # noqa: E402

NOTEBOOK = ROOT / "notebooks" / "04_llm_assisted.ipynb"
CACHE = ROOT / "notebooks" / "llm_cache"
READ = re.compile(r"(\w+)\[([^\[\]]+)\];")  # the last array read of a statement: `... = 2.0f * x[i * n + j];`


def llm_cell(notebook: Path) -> tuple[str, str]:
    """(the magic's option line, the kernel) of the notebook's one `%%xpile ... --llm` cell."""
    for cell in nbformat.read(notebook, as_version=4).cells:
        line, _, body = cell.source.partition("\n")
        if cell.cell_type == "code" and line.startswith("%%xpile ") and "--llm" in line:
            return line.removeprefix("%%xpile "), body
    raise SystemExit(f"{notebook}: no %%xpile --llm cell")


def off_by_one(code: str) -> str:
    """`code` with the last array read of its last matching statement shifted by one element: the last copy is
    the one that runs at every size (a cpp result may also hold a version for whole tiles only, which the
    notebook's small sizes never reach)."""
    match = ([None] + list(READ.finditer(code)))[-1]
    if match is None:
        raise SystemExit("no array read to perturb in the symbolic translation")
    return code[:match.start()] + f"{match.group(1)}[{match.group(2)} + 1];" + code[match.end():]


def main() -> int:
    line, kernel = llm_cell(NOTEBOOK)
    args = magic_arguments.parse_argstring(XpilerMagics.xpile, line)
    symbolic = translate(kernel, args.target, args.source, args.entry, native_compile=False).code
    answer = f"Here is the program.\n\n```cpp\n{off_by_one(symbolic)}```\n"
    shutil.rmtree(CACHE, ignore_errors=True)
    with FakeChatServer([Reply(answer)]) as server:
        result = translate_with_llm(kernel, args.target, args.source, args.entry, args.llm, server.base_url,
                                    "local-recording-key", CACHE, parse_sizes(args.sizes))
    outcomes = {p["pass"]: p["outcome"] for p in result.llm_passes}
    print(f"recorded {len(list(CACHE.glob('??/*.json')))} answer(s) in {CACHE}: {outcomes}, "
          f"status {result.checked.status}")
    return 0 if outcomes.get("bind") == "llm+repaired" and result.checked.status == "verified" else 1


if __name__ == "__main__":
    sys.exit(main())
