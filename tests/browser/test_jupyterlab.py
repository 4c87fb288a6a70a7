"""A real JupyterLab in a real browser: what a person sees when they run an Xpiler notebook.

The test starts `jupyter lab` on loopback (a token, a free port, a temporary root holding one notebook), opens the
notebook in Debian's chromium driven by Playwright (never a downloaded browser), runs every cell from the Run
menu, and checks the page: the green "verified" badge, the diff against the source, and a real `%%xpile --tune`
cell (each trial translated, verified and timed on this CPU) whose progress widget reaches its end, with the
convergence plot and the tuning summary under it. Screenshots (the translation, the finished tuning) go to $XPILER_ARTIFACTS (default tests/artifacts/).

Skipped only when chromium or playwright is missing; `scripts/test.sh` installs both.
"""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("XPILER_ARTIFACTS") or ROOT / "tests" / "artifacts")
SERVER_START_S = 60
CELL_WAIT_MS = 90_000
TRIALS = 3

KERNEL = """\
__global__ void axpy_kernel(const float* x, float* y, float a, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}

extern "C" void axpy(const float* x, float* y, float a, int n) {
    float *dx, *dy;
    cudaMalloc(&dx, n * sizeof(float));
    cudaMalloc(&dy, n * sizeof(float));
    cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice);
    cudaMemcpy(dy, y, n * sizeof(float), cudaMemcpyHostToDevice);
    axpy_kernel<<<(n + 127) / 128, 128>>>(dx, dy, a, n);
    cudaMemcpy(y, dy, n * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(dy);
}"""

# A real tuning run of the same kernel, small enough for the test: each trial is translated, verified by running
# it, then timed on this CPU.
TUNING_CELL = f"%%xpile --target cpp --tune {TRIALS} --tune-sizes n=4096 --strategy random --as tuned\n{KERNEL}"


def browser_check_notebook() -> nbformat.NotebookNode:
    return new_notebook(cells=[
        new_markdown_cell("# Browser check\nA translation with its evidence, then a tuning progress widget."),
        new_code_cell("%load_ext xpiler_magic"),
        new_code_cell(f"%%xpile --target cpp --show diff --as port\n{KERNEL}"),
        new_code_cell(TUNING_CELL),
        new_code_cell('print("all cells ran:", port.status, len(tuned.tuning.trials), "trials")'),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("Debian's chromium is not installed (scripts/setup.sh test installs it)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[test])")
    return path


@pytest.fixture
def jupyter_lab(tmp_path):
    """A JupyterLab server on loopback serving a folder with the check notebook; yields (base url, token)."""
    root = tmp_path / "lab"
    root.mkdir()
    nbformat.write(browser_check_notebook(), root / "check.ipynb")
    settings = tmp_path / "settings"  # start the kernel without asking, render every cell, no news pop-up
    for extension, values in (("notebook-extension/tracker",
                               '{"autoStartDefaultKernel": true, "windowingMode": "none"}'),
                              ("apputils-extension/notification", '{"fetchNews": "false"}')):
        path = settings / "@jupyterlab" / f"{extension}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(values)
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "ws"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0",
               "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--LabApp.extension_manager=readonly", f"--LabApp.user_settings_dir={settings}"]  # nothing reaches for the network
    if os.geteuid() == 0:  # CI containers run as root
        command.append("--allow-root")
    log = (tmp_path / "jupyter.log").open("w")
    server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"jupyter lab did not start:\n{(tmp_path / 'jupyter.log').read_text()[-3000:]}")
            time.sleep(0.3)
        yield base, token
    finally:
        try:  # the server shuts its kernels down too
            request = urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST")
            urllib.request.urlopen(request, timeout=10).close()
            server.wait(timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            server.terminate()
            server.wait(timeout=20)
        log.close()


def test_notebook_in_jupyterlab_shows_badge_diff_and_progress(chromium_path, jupyter_lab):
    from playwright.sync_api import expect, sync_playwright

    base, token = jupyter_lab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=["--no-sandbox"], headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        try:
            page.goto(f"{base}/lab/tree/check.ipynb?token={token}", wait_until="domcontentloaded")
            kernel = page.locator(".jp-Toolbar-kernelName", has_text="Python 3")
            expect(kernel).to_be_visible(timeout=CELL_WAIT_MS)  # the notebook has its kernel
            idle = page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
            expect(idle).to_be_visible(timeout=CELL_WAIT_MS)

            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-item", has_text="Run All Cells").first.click()

            last_output = page.locator(".jp-OutputArea-output", has_text=f"all cells ran: verified {TRIALS} trials")
            expect(last_output).to_be_visible(timeout=CELL_WAIT_MS)
            expect(idle).to_be_visible(timeout=CELL_WAIT_MS)

            outputs = page.locator(".jp-Notebook .jp-OutputArea-output")
            badge = outputs.locator("span", has_text="verified").first
            expect(badge).to_have_text("verified")
            assert badge.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(26, 127, 55)"  # green
            expect(outputs.get_by_text("max error").first).to_be_visible()
            diff = outputs.locator("details[open]", has_text="Diff against the source")
            expect(diff).to_be_visible()
            expect(diff.get_by_text("cudaMalloc(&dx, n * sizeof(float));").first).to_be_visible()

            page.screenshot(path=str(ARTIFACTS / "jupyterlab_translation.png"))

            tuning_cell = page.locator(".jp-CodeCell", has_text=f"--tune {TRIALS}")
            tuning_cell.scroll_into_view_if_needed()
            bar = tuning_cell.locator(".widget-hprogress .progress-bar")
            expect(bar).to_have_count(1)
            expect(bar).to_have_class("progress-bar progress-bar-success", timeout=CELL_WAIT_MS)
            width = bar.evaluate("e => e.getBoundingClientRect().width / e.parentElement.getBoundingClientRect().width")
            assert width == pytest.approx(1.0, abs=0.01)
            expect(tuning_cell.get_by_text(f"tuning axpy (cpp): {TRIALS}/{TRIALS} trials", exact=False)).to_be_visible()
            expect(tuning_cell.get_by_text("; done", exact=False)).to_be_visible()
            plot = tuning_cell.locator(".jp-RenderedSVG, .jp-RenderedImage").first
            expect(plot).to_be_visible()
            summary = tuning_cell.locator("details[open]", has_text="Tuning")  # the result under the progress
            expect(summary.get_by_text("untuned time").first).to_be_visible()
            expect(tuning_cell.locator("span", has_text="verified").first).to_be_visible()
            assert "Traceback" not in page.locator(".jp-Notebook").inner_text()
        finally:
            page.screenshot(path=str(ARTIFACTS / "jupyterlab_tuning.png"))
            browser.close()
