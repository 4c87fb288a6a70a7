"""Every notebook in notebooks/ runs top to bottom in a real python3 kernel without an error.

The notebooks carry their own checks (asserts against numpy), so running them is the test. Each runs from a copy
in a temporary folder, as a user's notebook would: the kernel starts in the notebook's folder, the extension keeps
its caches in `.xpiler/` next to it, and a second run finds them there. The kernel imports this checkout
(PYTHONPATH), not whatever copy of Xpiler happens to be installed.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def kernel_env():
    """The kernel's environment: this checkout first, and no $XPILER_CACHE_DIR (the notebook's folder decides)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        patch.delenv("XPILER_CACHE_DIR", raising=False)
        yield


@pytest.fixture(scope="module")
def first_runs(kernel_env, tmp_path_factory) -> dict[Path, tuple[Path, nbformat.NotebookNode]]:
    """Each notebook run once, in its own folder (the rerun test runs the tour a second time there)."""
    runs = {}
    for path in NOTEBOOKS:
        folder = tmp_path_factory.mktemp(path.stem)
        runs[path] = folder, execute_copy(path, folder)
    return runs


def execute_copy(source: Path, folder: Path) -> nbformat.NotebookNode:
    """Run the notebook at `folder`/its name (copied there on the first call), as Jupyter would; return it run."""
    path = folder / source.name
    if not path.exists():
        shutil.copy(source, path)
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}})
    client.execute()  # raises CellExecutionError on the first cell that fails
    return notebook


def outputs_of(notebook) -> list[dict]:
    return [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]


def test_there_are_notebooks():
    assert {p.name for p in NOTEBOOKS} >= {"01_tour.ipynb", "02_step_by_step.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path, first_runs):
    folder, notebook = first_runs[path]
    outputs = outputs_of(notebook)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert not any("Traceback" in str(o) for o in outputs)
    if any("%load_ext xpiler_magic" in cell.source for cell in notebook.cells):
        assert any((folder / ".xpiler" / "builds").iterdir()), "the builds should be cached next to the notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_committed_notebooks_are_stripped(path: Path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name}: strip the outputs"


def translated_code(notebook) -> list[str]:
    """The code each %%xpile cell displayed (its text view, without the timing that varies between runs)."""
    texts = [o["data"]["text/plain"] for o in outputs_of(notebook)
             if o.get("output_type") in ("display_data", "execute_result") and "text/plain" in o.get("data", {})]
    return [re.sub(r" in [0-9.]+ s", "", text) for text in texts if text.startswith("xpile: ")]


def test_rerun_reuses_the_cache_next_to_the_notebook(first_runs):
    """A second run of the tour builds nothing new (every build is found in .xpiler/builds) and shows the same
    translations, verdicts and evidence."""
    folder, notebook = first_runs[ROOT / "notebooks" / "01_tour.ipynb"]
    first = translated_code(notebook)
    builds = folder / ".xpiler" / "builds"
    cached = {p.name for p in builds.iterdir()}
    assert first and cached
    second = translated_code(execute_copy(ROOT / "notebooks" / "01_tour.ipynb", folder))
    assert second == first
    assert {p.name for p in builds.iterdir()} == cached
    assert sorted(p.name for p in (folder / ".xpiler").iterdir()) == ["builds", "llm", "trials"]
