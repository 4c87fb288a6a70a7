"""`xpile tune` as a script or CI calls it: real processes, real builds and timings on this CPU, real Ctrl-C."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

ROW_SCALE = """\
extern "C" void row_scale(const float* x, float* y, int rows, int cols) {
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            y[r * cols + c] = 3.0f * x[r * cols + c] + 1.0f;
}
"""


def xpile(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xpiler_magic.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env=environment(cwd))


def environment(folder: Path) -> dict[str, str]:
    """This checkout first, and the caches (builds, trials) in the test's folder."""
    return {**os.environ, "XPILER_CACHE_DIR": str(folder / "cache"),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


@pytest.fixture
def kernel(tmp_path: Path) -> Path:
    path = tmp_path / "row_scale.cpp"
    path.write_text(ROW_SCALE)
    return path


def test_tune_writes_the_best_code_reports_and_replays_on_a_rerun(tmp_path: Path, kernel: Path) -> None:
    args = ["tune", kernel.name, "--target", "cpp", "--budget", "3", "--strategy", "random", "--tune-size", "rows=32",
            "cols=32", "-o", "best.cpp", "--report", "tune.json", "--html", "tune.html"]
    done = xpile(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "tuning row_scale (cpp): 3/3 trials [" in done.stderr and done.stderr.rstrip().endswith("; done")
    assert "tuning: best time" in done.stdout and "tuning: untuned time" in done.stdout
    report = json.loads((tmp_path / "tune.json").read_text())
    tuning = report["tuning"]
    assert report["verification"]["status"] == "verified" and len(tuning["trials"]) == 3
    assert tuning["device"].startswith("local-cpu:") and tuning["kind"] == "measurement"
    assert tuning["best_code"] == (tmp_path / "best.cpp").read_text() and 'extern "C" void row_scale' in tuning["best_code"]
    assert tuning["untuned_time"]["median_s"] >= tuning["best_time"]["median_s"] > 0
    page = (tmp_path / "tune.html").read_text()
    assert "Tuned code (cpp)" in page and "untuned time" in page and "time (median ± IQR)" in page
    store = tmp_path / "cache" / "trials" / "trials.jsonl"
    assert len(store.read_text().splitlines()) == 3

    again = xpile(*args, cwd=tmp_path)  # replayed from the store: nothing timed, the same best code
    assert again.returncode == 0, again.stderr
    assert "3 replayed from the trials cache" in again.stderr
    assert json.loads((tmp_path / "tune.json").read_text())["tuning"]["best_code"] == tuning["best_code"]
    assert json.loads((tmp_path / "tune.json").read_text())["tuning"]["measured"] == 0
    assert len(store.read_text().splitlines()) == 3

    rendered = xpile("report", "tune.json", "-o", "again.html", cwd=tmp_path)  # `xpile report` shows the tuning too
    assert rendered.returncode == 0, rendered.stderr
    assert "untuned time" in (tmp_path / "again.html").read_text()


@pytest.mark.parametrize("args, code, rc", [
    (["--budget", "0"], "XP002", 2),
    (["--device", "gpu"], "XP005", 2),
    (["--device", "somewhere"], "XP002", 2),
])
def test_bad_tuning_options_exit_with_a_diagnostic(tmp_path: Path, kernel: Path, args, code, rc) -> None:
    done = xpile("tune", kernel.name, "--target", "cpp", "-o", "best.cpp", *args, cwd=tmp_path)
    assert done.returncode == rc and f"xpile: {code}" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "best.cpp").exists()


def ctrl_c_as_in_a_terminal() -> None:
    """A shell starts background jobs with SIGINT ignored, and an ignored signal stays ignored across exec (Python
    then installs no KeyboardInterrupt handler): where the tests run in the background, Ctrl-C would be lost."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_keeps_the_finished_trials_and_writes_the_best_so_far(tmp_path: Path, kernel: Path) -> None:
    store = tmp_path / "cache" / "trials" / "trials.jsonl"
    child = subprocess.Popen([sys.executable, "-m", "xpiler_magic.cli", "tune", kernel.name, "--target", "cpp",
                              "--budget", "40", "--strategy", "random", "--tune-size", "rows=16", "cols=16", "-o",
                              "best.cpp"], cwd=tmp_path, env=environment(tmp_path), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, preexec_fn=ctrl_c_as_in_a_terminal)
    deadline = time.monotonic() + 120
    while not store.exists() or len(store.read_text().splitlines()) < 2:
        assert child.poll() is None and time.monotonic() < deadline, "tuning ended before it could be interrupted"
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert "Traceback" not in err and "interrupted: the finished trials are kept" in err
    kept = len(store.read_text().splitlines())
    assert 2 <= kept < 40 and f"{kept} of a budget of 40" in out
    assert 'extern "C" void row_scale' in (tmp_path / "best.cpp").read_text()
