"""The API key never leaves the HTTP request: not in a notebook's outputs, the answer cache, the reports, the CLI's
output, nor any error text, on the happy path and on the error paths (a faulty answer, HTTP 500, HTTP 401).

End to end with real parts: `%%xpile --llm` cells in a real Jupyter kernel (nbclient, every output captured) and
`xpile translate --llm` in a subprocess, both asking a loopback chat server with $OPENAI_API_KEY set. The server
sees the key in its Authorization header (so the test is not vacuous); nothing written or shown contains it.
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from passes.translate import translate
from tests.synthesis.fake_llm import FakeChatServer, Reply
from tests.synthesis.kernels import fenced
from tests.test_magic import SCALE_ADD

ROOT = Path(__file__).resolve().parent.parent
READ, FAULTY_READ = "alpha * dx[i] + dy[i];", "alpha * dx[i] + dy[i + 1];"


@pytest.fixture(scope="module")
def key() -> str:
    return f"sk-test-SECRET-{secrets.token_hex(12)}"


@pytest.fixture(scope="module")
def faulty_answer() -> str:
    symbolic = translate(SCALE_ADD, "cpp", "cuda", native_compile=False).code
    assert READ in symbolic
    return fenced(symbolic.replace(READ, FAULTY_READ))


def renamed(name: str) -> str:
    """SCALE_ADD under another entry name: a different question, so no cached answer is reused."""
    return SCALE_ADD.replace("scale_add", name)


def assert_key_absent(key: str, texts: dict[str, str], folders: list[Path]) -> None:
    for where, text in texts.items():
        assert key not in text, f"the key leaked into {where}"
    files = [p for folder in folders for p in folder.rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert key.encode() not in path.read_bytes(), f"the key leaked into {path}"


def assert_key_was_sent(key: str, server: FakeChatServer) -> None:
    assert server.requests
    assert all(r["headers"].get("authorization") == f"Bearer {key}" for r in server.requests)


def test_no_key_in_notebook_outputs_or_cache(key, faulty_answer, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.delenv("XPILER_CACHE_DIR", raising=False)
    script = [Reply(faulty_answer), Reply(status=500), Reply("no code in this answer"), Reply(status=401)]
    with FakeChatServer(script) as server:
        flags = f"--target cpp --llm fake-coder --llm-base-url {server.base_url} --sizes n=37"
        cells = ["%load_ext xpiler_magic",
                 "%xpile_config llm_model=fake-coder",
                 f"%%xpile {flags}\n{SCALE_ADD}",                        # faulty answer: repaired
                 f"%%xpile {flags} --show passes\n{renamed('first')}",   # 500, retried: no code block, fallback
                 f"%%xpile {flags}\n{renamed('second')}",                # 401: fallback with the server's refusal
                 "import json; print(json.dumps(_xpile.report, default=str)); print(repr(_xpile))",
                 "raise RuntimeError(f'an error after the runs: {_xpile!r}')",
                 f"%%xpile {flags}\n__global__ void broken(float* x) {{ x[0] = ; }}",  # a diagnostic
                 "print(_xpile_error); print(repr(_xpile_error))"]
        notebook = new_notebook(cells=[new_code_cell(c) for c in cells])
        client = NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": str(tmp_path)}})
        client.execute()
    assert_key_was_sent(key, server)
    assert len(server.requests) == 4  # faulty; 500 then the retry's answer; 401 (not retried)
    outputs = [o for cell in notebook.cells for o in cell.outputs]
    assert [o["ename"] for o in outputs if o["output_type"] == "error"] == ["RuntimeError"]  # only the last cell
    text = json.dumps(outputs)
    assert "llm: bind: llm+repaired" in text and "HTTP 401" in text and "no code" in text.lower()
    assert "XP1" in text and "RuntimeError" in text  # the diagnostic and the exception were shown
    nbformat.write(notebook, tmp_path / "run.ipynb")
    assert_key_absent(key, {"cell outputs": text}, [tmp_path])


def test_no_key_in_cli_output_reports_or_cache(key, faulty_answer, tmp_path):
    env = {**os.environ, "OPENAI_API_KEY": key, "XPILER_CACHE_DIR": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    outputs: dict[str, str] = {}
    with FakeChatServer([Reply(faulty_answer), Reply(status=500), Reply(status=401)]) as server:
        for name, kernel in (("repaired", SCALE_ADD), ("refused", renamed("third"))):
            source = tmp_path / f"{name}.cu"
            source.write_text(kernel)
            run = subprocess.run([sys.executable, "-m", "xpiler_magic.cli", "translate", str(source), "--target", "cpp",
                                  "--llm", "fake-coder", "--llm-base-url", server.base_url, "--size", "n=37",
                                  "-o", str(tmp_path / f"{name}.cpp"), "--report", str(tmp_path / f"{name}.json"),
                                  "--html", str(tmp_path / f"{name}.html")],
                                 capture_output=True, text=True, env=env, timeout=300)
            assert run.returncode == 0, run.stderr
            outputs[f"{name} stdout"], outputs[f"{name} stderr"] = run.stdout, run.stderr
    assert_key_was_sent(key, server)
    repaired = json.loads((tmp_path / "repaired.json").read_text())["llm"]
    refused = json.loads((tmp_path / "refused.json").read_text())["llm"]
    assert repaired[-1]["outcome"] == "llm+repaired" and refused[-1]["outcome"] == "fallback"
    assert "HTTP 401" in refused[-1]["reason"] and "llm: bind: fallback" in outputs["refused stdout"]
    assert "LLM passes" in (tmp_path / "repaired.html").read_text()
    assert_key_absent(key, outputs, [tmp_path])
