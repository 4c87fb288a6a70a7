"""`%%xpile` / `%xpile_config` driven through a real IPython shell, the way a notebook runs them.

Every translation here is checked by executing it (the verification's evidence and `.run()` against numpy);
bad cells must end in a coded diagnostic, never a traceback.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from autotune import Trial
from devices import Measurement
from xpiler_magic.magics import XpileConfig
from xpiler_magic.progress import TuningProgress

SCALE_ADD = """\
__global__ void scale_add_kernel(const float* x, const float* y, float* out, float alpha, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        out[i] = alpha * x[i] + y[i];
    }
}

extern "C" void scale_add(const float* x, const float* y, float* out, float alpha, int n) {
    float *dx, *dy, *dout;
    cudaMalloc(&dx, n * sizeof(float));
    cudaMalloc(&dy, n * sizeof(float));
    cudaMalloc(&dout, n * sizeof(float));
    cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice);
    cudaMemcpy(dy, y, n * sizeof(float), cudaMemcpyHostToDevice);
    int threads = 64;
    scale_add_kernel<<<(n + threads - 1) / threads, threads>>>(dx, dy, dout, alpha, n);
    cudaMemcpy(out, dout, n * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(dy);
    cudaFree(dout);
}
"""

BROKEN = """\
__global__ void k(float* x, int n) {
    int i = threadIdx.x;
    if (i < n) x[i] = x[i] +;
}
"""


@pytest.fixture(scope="module")
def shell():
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "xpiler_magic")
    return ip


def run_cell(shell, text: str):
    """Run a cell as the notebook does; returns (IPython's ExecutionResult, captured output)."""
    with capture_output() as captured:
        outcome = shell.run_cell(text, store_history=False)
    return outcome, captured


def displayed(captured) -> tuple[str, str]:
    """(plain text, html) of everything the cell displayed."""
    texts = [o.data.get("text/plain", "") for o in captured.outputs]
    htmls = [o.data.get("text/html", "") for o in captured.outputs]
    return "\n".join(texts), "\n".join(htmls)


def assert_no_traceback(outcome, captured) -> None:
    assert outcome.success, outcome.error_in_exec
    text, html = displayed(captured)
    for out in (captured.stdout, captured.stderr, text, html):
        assert "Traceback" not in out


def scale_add_inputs(n: int = 50):
    rng = np.random.default_rng(1)
    return (rng.uniform(-1, 1, n).astype(np.float32), rng.uniform(-1, 1, n).astype(np.float32),
            np.zeros(n, np.float32), np.float32(1.5), np.int32(n))


@pytest.mark.parametrize("target", ["cpp", "hip", "bang"])
def test_translate_verifies_and_runs(shell, target):
    outcome, captured = run_cell(shell, f"%%xpile --target {target} --as r_{target}\n{SCALE_ADD}")
    assert_no_traceback(outcome, captured)
    result = shell.user_ns[f"r_{target}"]
    assert shell.user_ns["_xpile_error"] is None

    # "verified" only with the evidence of a real run of both sides
    v = result.verification
    assert result.status == "verified"
    assert v.max_abs_error is not None and v.max_abs_error <= v.atol
    assert set(v.ran_on) == {"source", "result"}
    assert v.inputs["x"] == {"shape": [37], "dtype": "float32"}
    assert result.report["verification"]["status"] == "verified"
    assert result.report["target_dialect"] == target

    text, html = displayed(captured)
    assert "[VERIFIED]" in text and "scale_add" in text
    assert ">verified</span>" in html and "#1a7f37" in html  # the green badge
    assert "max error" in html and "ran on" in html and "rtol" in html
    assert "Translated code" in html and "Diff against the source" in html and "Passes" in html
    assert "[VERIFIED]" in repr(result)

    x, y, out, alpha, n = scale_add_inputs()
    outputs = result.run(x, y, out, alpha, n)
    np.testing.assert_allclose(outputs["out"], alpha * x + y, rtol=1e-6, atol=1e-6)
    by_name = result.run(x=x, y=y, out=out, alpha=2.0, n=n)  # keywords, and a Python float for `float alpha`
    np.testing.assert_allclose(by_name["out"], 2.0 * x + y, rtol=1e-6, atol=1e-6)


def test_no_verify_is_amber_and_says_nothing_ran(shell):
    outcome, captured = run_cell(shell, f"%%xpile --target cpp --no-verify\n{SCALE_ADD}")
    assert_no_traceback(outcome, captured)
    result = shell.user_ns["_xpile"]
    assert result.verification is None
    assert result.status == "compiled"
    assert result.report["verification"]["status"] == "skipped"
    text, html = displayed(captured)
    assert "#9a6700" in html and ">compiled</span>" in html and "verified</span>" not in html
    assert "nothing was run" in text


def test_sizes_output_file_and_show(shell, tmp_path):
    target_file = tmp_path / "scale_add.cpp"
    outcome, captured = run_cell(shell, f"%%xpile -t cpp --sizes n=50,alpha=2 -o {target_file} --show diff\n{SCALE_ADD}")
    assert_no_traceback(outcome, captured)
    result = shell.user_ns["_xpile"]
    assert result.verification.sizes == {"alpha": 2, "n": 50}
    assert result.verification.inputs["x"]["shape"] == [50]
    assert target_file.read_text() == result.code
    _, html = displayed(captured)
    assert "<details open" in html.split("Diff against the source")[0][-200:]
    diff = result.diff()
    assert diff.startswith("--- source (cuda)")
    assert any(line.startswith("-") and "cudaMalloc" in line for line in diff.splitlines())
    saved = result.save(tmp_path / "again.cpp")
    assert saved.read_text() == result.code


def test_show_ir_displays_the_loop_form(shell):
    outcome, captured = run_cell(shell, f"%%xpile -t bang --no-verify --show ir\n{SCALE_ADD}")
    assert_no_traceback(outcome, captured)
    text, html = displayed(captured)
    assert "Loop form" in html and "--- ir ---" in text
    assert "#pragma omp parallel for" in shell.user_ns["_xpile"].loop_form()


def test_broken_cell_gives_coded_diagnostic(shell):
    run_cell(shell, f"%%xpile --target cpp --as stale\n{SCALE_ADD}")
    outcome, captured = run_cell(shell, f"%%xpile --target cpp --as stale\n{BROKEN}")
    assert_no_traceback(outcome, captured)
    error = shell.user_ns["_xpile_error"]
    assert error.code == "XP106" and error.diagnostic.line == 3
    assert "stale" not in shell.user_ns  # no earlier result left behind under the name
    text, html = displayed(captured)
    assert "3:" in text and "XP106" in text and "x[i] = x[i] +;" in text and "^" in text
    assert "XP106" in html and "#cf222e" in html


@pytest.mark.parametrize("line, code, words", [
    ("--target cpp --bogus", "XP002", "unrecognized arguments"),
    ("--target fortran", "XP002", "invalid choice"),
    ("--target cpp --as 1x", "XP002", "not a Python variable name"),
    ("--target cpp --sizes n=abc", "XP002", "bad --sizes item"),
    ("--target cpp --tune 0", "XP002", "budget must be at least 1"),
    ("--target cpp --tune 2 --device mlu0", "XP002", "unknown device 'mlu0'"),
    ("--target cpp --device local", "XP002", "choose how --tune works"),
    ("--target cpp --strategy grid", "XP002", "choose how --tune works"),
    ("--target cpp --tune 2 --device gpu", "XP005", "--device gpu times cuda or hip code"),
    ("--target cpp --tune 2 --strategy annealing", "XP002", "invalid choice"),
    ("--target cpp --no-verify --llm some-model", "XP002", "--llm needs verification"),
    ("--target cpp --llm-base-url http://localhost:1", "XP002", "--llm-base-url says where --llm asks"),
    ("--target cpp --entry nope", "XP404", "no function named 'nope'"),
])
def test_bad_options_are_diagnosed(shell, line, code, words):
    outcome, captured = run_cell(shell, f"%%xpile {line}\n{SCALE_ADD}")
    assert_no_traceback(outcome, captured)
    assert shell.user_ns["_xpile_error"].code == code
    text, _ = displayed(captured)
    assert code in text and words in text


def test_internal_error_is_a_diagnostic_with_the_traceback_on_demand(shell, monkeypatch):
    import passes.translate

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(passes.translate, "translate_checked", broken)
    outcome, captured = run_cell(shell, f"%%xpile --target cpp\n{SCALE_ADD}")
    assert outcome.success
    error = shell.user_ns["_xpile_error"]
    assert error.code == "XP900" and "boom" in error.message
    text, html = displayed(captured)
    assert "Traceback" not in text
    assert "<details" in html and "RuntimeError" in html


def test_config_defaults_and_masked_secrets(shell):
    secret = "sk-do-not-show-1234"
    outcome, captured = run_cell(shell, f"%xpile_config target=bang verify=off llm_model=m1 llm_api_key={secret}")
    assert_no_traceback(outcome, captured)
    text, html = displayed(captured)
    assert secret not in text and secret not in html
    assert "***" in text and "***" in html and "m1" in text and "bang" in text

    try:  # the defaults apply to a cell without --target / --verify
        outcome, captured = run_cell(shell, f"%%xpile\n{SCALE_ADD}")
        assert_no_traceback(outcome, captured)
        result = shell.user_ns["_xpile"]
        assert result.translation.target_dialect == "bang" and result.verification is None
    finally:
        run_cell(shell, "%xpile_config target=cpp verify=on")

    outcome, captured = run_cell(shell, "%xpile_config colour=red")
    assert_no_traceback(outcome, captured)
    assert "XP002" in displayed(captured)[0] and "unknown setting" in displayed(captured)[0]


def test_missing_target_is_diagnosed(shell, monkeypatch):
    magics = shell.magics_manager.registry["XpilerMagics"]
    monkeypatch.setitem(magics.config_values, "target", None)
    outcome, captured = run_cell(shell, f"%%xpile\n{SCALE_ADD}")
    assert_no_traceback(outcome, captured)
    assert shell.user_ns["_xpile_error"].code == "XP001"
    assert "%xpile_config target=" in displayed(captured)[0]


def test_unwritable_output_file_keeps_the_result(shell, tmp_path):
    outcome, captured = run_cell(shell, f"%%xpile -t cpp --no-verify -o {tmp_path}/missing/dir/k.cpp\n{SCALE_ADD}")
    assert_no_traceback(outcome, captured)
    assert shell.user_ns["_xpile"].status == "compiled"
    assert shell.user_ns["_xpile_error"].code == "XP003"


def test_disagreeing_results_get_a_red_badge(shell):
    import dataclasses

    from passes.translate import CheckedTranslation
    from xpiler_magic.result import XpileResult

    run_cell(shell, f"%%xpile -t cpp --as good\n{SCALE_ADD}")
    good = shell.user_ns["good"]
    bad = dataclasses.replace(good.verification, status="mismatch", reason="outputs differ: out")
    result = XpileResult(good.source, CheckedTranslation(good.translation, bad))
    assert result.status == "mismatch"
    assert ">mismatch</span>" in result._repr_html_() and "#cf222e" in result._repr_html_()
    assert "[MISMATCH]" in repr(result) and "outputs differ: out" in repr(result)


@pytest.mark.parametrize("op", ["softmax", "conv2d_nchw"])
def test_the_stages_of_a_simdized_cpp_translation_replay_to_its_code(op):
    """simdize's cpp results end with two file-wide steps (no float traps, the vector width) and have lane_tables
    after simdize (which changes conv2d, not softmax): replayed too."""
    from kernel_ir.dialects import print_module
    from passes.translate import translate
    from xpiler_magic.result import replay_passes

    source = (Path(__file__).parent / "corpus" / "cuda" / f"{op}.cu").read_text()
    translation = translate(source, "cpp", "cuda", native_compile=False)
    stages = replay_passes(source, translation)
    assert [s.name for s in stages][-2:] == ["speculated_float_arithmetic", "vector_width"]
    assert [s.name for s in stages][5:7] == ["simdize", "lane_tables"]
    assert print_module(stages[-1].module, "cpp") == translation.code


@pytest.mark.parametrize("target", ["cpp", "bang"])
def test_show_passes_shows_every_stage_and_each_one_runs(shell, target):
    outcome, captured = run_cell(shell, f"%%xpile -t {target} --no-verify --show passes --as staged\n{SCALE_ADD}")
    assert_no_traceback(outcome, captured)
    result = shell.user_ns["staged"]
    stages = result.stages
    assert [s.name for s in stages] == [p.name for p in result.translation.passes]
    assert [s.name for s in stages[:3]] == ["parse", "detensorize", "recover_loops"]
    assert stages[0].dialect == "cuda" and stages[2].dialect == "cpp" and stages[-1].dialect == target
    assert stages[-1].code == result.code  # the replay ends exactly where the translation ended
    assert "KernelLaunch" in stages[0].summary() and "parallel loop over blockIdx.x" in stages[2].summary()
    text, html = displayed(captured)
    assert "Program after each pass" in html and "after recover_loops (cpp)" in html
    assert "=== after bind(" in text

    from kernel_ir.executor import execute_module
    from kernel_ir.lower_cpu import DEFAULT_BANG_LAUNCH

    x, y, out, alpha, n = scale_add_inputs()
    args = [("x", x), ("y", y), ("out", out), ("alpha", alpha), ("n", n)]
    for stage in stages:  # every intermediate program computes the same thing
        launch = dict(DEFAULT_BANG_LAUNCH) if stage.dialect == "bang" else None
        got = execute_module(stage.module, result.entry, args, launch=launch)["out"]
        np.testing.assert_allclose(got, alpha * x + y, rtol=1e-6, atol=1e-6, err_msg=stage.name)


# ------------------------------------------------------------------------------------- caches next to the notebook ---

def test_cache_dir_choice():
    from xpiler_magic.magics import CACHE_FOLDER, session_cache_dir

    cwd = Path("/somewhere/notebooks")
    assert session_cache_dir({"XPILER_CACHE_DIR": "/x/c"}, True, cwd) == (Path("/x/c"), "from $XPILER_CACHE_DIR")
    assert session_cache_dir({}, True, cwd) == (cwd / CACHE_FOLDER, "next to the notebook")
    assert session_cache_dir({}, False, cwd) == (None, "library default")


def test_cache_dir_follows_the_notebook_jupyter_names(tmp_path):
    from xpiler_magic.magics import session_cache_dir

    notebook = tmp_path / "work" / "port.ipynb"
    notebook.parent.mkdir()
    notebook.write_text("{}")
    chosen, _ = session_cache_dir({"JPY_SESSION_NAME": str(notebook)}, True, tmp_path)
    assert chosen == notebook.parent / ".xpiler"


def test_loading_in_a_kernel_puts_the_caches_next_to_the_notebook(shell, tmp_path, monkeypatch):
    from xpiler_magic.magics import XpilerMagics

    monkeypatch.setenv("XPILER_CACHE_DIR", "restored-after-the-test")
    monkeypatch.delenv("XPILER_CACHE_DIR")
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(shell, "kernel", object(), raising=False)  # what a Jupyter kernel's shell has
    magics = XpilerMagics(shell)
    root = tmp_path / ".xpiler"
    assert os.environ["XPILER_CACHE_DIR"] == str(root)
    assert sorted(p.name for p in root.iterdir()) == ["builds", "llm", "trials"]
    from kernel_ir.store import default_root

    assert default_root() == root
    rows = dict((k, v) for k, v, _ in XpileConfig(magics.config_values, magics.cache_origin).rows())
    assert rows["cache_dir"] == f"{root} (next to the notebook)"


def test_config_cache_dir_moves_the_caches(shell, tmp_path, monkeypatch):
    monkeypatch.setenv("XPILER_CACHE_DIR", os.environ.get("XPILER_CACHE_DIR", str(tmp_path / "before")))
    outcome, captured = run_cell(shell, f"%xpile_config cache_dir={tmp_path}/mine")
    assert_no_traceback(outcome, captured)
    assert os.environ["XPILER_CACHE_DIR"] == str(tmp_path / "mine")
    assert (tmp_path / "mine" / "trials").is_dir()
    text, html = displayed(captured)
    assert f"{tmp_path}/mine (set by %xpile_config)" in text and "builds/, llm/, trials/" in html

    blocked = tmp_path / "file"
    blocked.write_text("")
    outcome, captured = run_cell(shell, f"%xpile_config cache_dir={blocked}/sub")
    assert_no_traceback(outcome, captured)
    assert "XP003" in displayed(captured)[0] and "cannot create the cache folder" in displayed(captured)[0]
    assert os.environ["XPILER_CACHE_DIR"] == str(tmp_path / "mine")


# ------------------------------------------------------------------------------------- tuning progress ---

def fake_trials(statuses_and_times):
    """autotune Trials (timed by no device) as the tuner reports them, with the best timed one so far."""
    best = None
    for number, (status, time_s) in enumerate(statuses_and_times):
        measurement = Measurement.of("test", "measurement", [time_s]) if time_s is not None else None
        trial = Trial(number, {"sequence": "split", "split_factor": 2 << number}, status, measurement=measurement)
        if trial.ok and (best is None or time_s < best.time_s):
            best = trial
        yield trial, best


RUN = [("ok", 4e-3), ("wrong", None), ("ok", 2e-3), ("refused", None), ("ok", 3e-3)]


def test_progress_text_line_without_widgets():
    stream = io.StringIO()
    progress = TuningProgress(budget=5, stream=stream)
    assert not progress.use_widgets  # no kernel here: the text line
    for trial, best in fake_trials(RUN):
        progress(trial, best)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 6  # one per trial, then the final line
    assert lines[0].startswith("tuning: 1/5 trials [####----")
    assert "best 2 ms (trial 3: sequence=split, split_factor=8)" in lines[2] and lines[2].endswith("1 wrong")
    assert lines[-1].endswith("1 refused, 1 wrong; done") and "[" + "#" * 20 + "]" in lines[-1]


def test_progress_rewrites_one_line_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    with TuningProgress(budget=None, title="tune", stream=stream) as progress:
        for trial, best in fake_trials(RUN[:2]):
            progress(trial, best)
    assert stream.getvalue().count("\r\033[K") == 3 and stream.getvalue().endswith("; done\n")
    assert "tune: 2/? trials" in stream.getvalue()


def test_progress_widgets_and_plot_update_in_place(shell):
    import xml.etree.ElementTree as ET

    with capture_output() as captured:
        progress = TuningProgress(budget=5, widgets=True)
        for trial, best in fake_trials(RUN):
            progress(trial, best)
        progress.close()
    first, plot, *updates = captured.outputs
    assert "application/vnd.jupyter.widget-view+json" in first.data and first.data["text/plain"].startswith("tuning: 0/5")
    assert "image/svg+xml" in plot.data
    assert all(u.update for u in updates) and len(updates) == len(RUN) + 2  # the plot per trial + the close
    assert progress._bar.value == progress._bar.max == 5 and progress._bar.bar_style == "success"
    assert "best 2 ms" in progress._label.value
    final_text = [u.data["text/plain"] for u in updates if "application/vnd.jupyter.widget-view+json" in u.data]
    assert final_text and final_text[-1].endswith("; done")  # what a frontend without widget state shows

    svg = ET.fromstring(updates[-2].data["image/svg+xml"])
    ns = "{http://www.w3.org/2000/svg}"
    assert len(svg.findall(f"{ns}circle")) == 3  # the verified trials
    assert len(svg.findall(f"{ns}line")) == 2  # the failed and the refused one, as ticks
    steps = [tuple(map(float, p.split(","))) for p in svg.find(f"{ns}polyline").get("points").split()]
    assert len(steps) == 6  # best so far, one point per trial plus the corner where trial 3 improved it
    assert steps[2][0] == steps[3][0] and steps[3][1] > steps[2][1]  # the drop, at trial 3
    assert [y for _, y in steps] == sorted(y for _, y in steps)  # it only goes down (SVG y grows downwards)


def test_progress_interrupted_keeps_the_finished_trials():
    stream = io.StringIO()
    with pytest.raises(KeyboardInterrupt):
        with TuningProgress(budget=10, stream=stream) as progress:
            for trial, best in fake_trials(RUN[:3]):
                progress(trial, best)
            raise KeyboardInterrupt
    assert progress.state == "interrupted" and progress.done == 3
    assert stream.getvalue().splitlines()[-1].endswith("interrupted: the 3 finished trials are kept")


def test_convergence_plot_before_any_verified_trial():
    import xml.etree.ElementTree as ET

    progress = TuningProgress(budget=3, stream=io.StringIO())
    progress(Trial(0, {"sequence": "untuned"}, "failed", "XP201: g++ failed"), None)
    svg = progress.svg()
    assert "no verified trial yet" in svg and "no verified trial yet" in progress.line()
    ET.fromstring(svg)


# ------------------------------------------------------------------------------------- %%xpile --tune ---

ROW_SCALE = """\
extern "C" void row_scale(const float* x, float* y, int rows, int cols) {
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            y[r * cols + c] = 3.0f * x[r * cols + c] + 1.0f;
}
"""
TUNE = "%%xpile --target cpp --tune 3 --tune-sizes rows=32,cols=32 --strategy random"


@pytest.fixture
def tuning_cache(shell, tmp_path):
    """A cache folder of this test's own, so its trials start empty; the session's folder is restored after."""
    before = shell.magics_manager.registry["XpilerMagics"].config_values["cache_dir"]
    run_cell(shell, f"%xpile_config cache_dir={tmp_path}")
    yield tmp_path
    run_cell(shell, f"%xpile_config cache_dir={before}")


def test_tune_shows_tuned_code_summary_and_replays_from_the_trials_cache(shell, tuning_cache):
    outcome, captured = run_cell(shell, f"{TUNE}\n{ROW_SCALE}")
    assert_no_traceback(outcome, captured)
    result = shell.user_ns["_xpile"]
    tuning = result.tuning
    assert len(tuning.trials) == 3 and tuning.measured == sum(t.ok for t in tuning.trials) >= 1
    assert tuning.trials[0].config == {"sequence": "untuned"} and tuning.untuned_time is not None
    assert result.code == tuning.best_code and result.untuned_code == result.translation.code
    x = np.arange(12, dtype=np.float32)
    assert np.allclose(result.run(x, np.zeros(12, np.float32), 3, 4)["y"], 3 * x + 1)  # the tuned code runs right
    text, html = displayed(captured)
    for view in (text, html):
        assert "best time" in view and "untuned time" in view and "local-cpu:" in view
    assert "Tuning" in html and "time (median ± IQR)" in html and "Tuned code (cpp)" in html
    assert "±" in text and "trial   3" in text
    store = tuning_cache / "trials" / "trials.jsonl"
    assert len(store.read_text().splitlines()) == 3

    outcome, captured = run_cell(shell, f"{TUNE}\n{ROW_SCALE}")  # the re-run: replayed, nothing timed again
    assert_no_traceback(outcome, captured)
    again = shell.user_ns["_xpile"]
    assert again.tuning.measured == 0 and all(t.resumed for t in again.tuning.trials)
    assert again.code == result.code and again.tuning.best_config == tuning.best_config
    assert "3 replayed from the trials cache" in displayed(captured)[0]
    assert len(store.read_text().splitlines()) == 3


def test_ctrl_c_during_tuning_keeps_the_finished_trials(shell, tuning_cache, monkeypatch):
    """Ctrl-C lands while the third candidate is timed: the cell ends with the two finished trials, no traceback."""
    from devices import LocalCPU

    class InterruptedCPU(LocalCPU):
        calls = 0

        def measure(self, job):
            InterruptedCPU.calls += 1
            if InterruptedCPU.calls == 3:
                raise KeyboardInterrupt
            return super().measure(job)

    monkeypatch.setattr("devices.as_device", lambda spec, dialect: InterruptedCPU())
    outcome, captured = run_cell(shell, f"%%xpile --target cpp --tune 6 --tune-sizes rows=8,cols=8\n{ROW_SCALE}")
    assert_no_traceback(outcome, captured)
    tuning = shell.user_ns["_xpile"].tuning
    assert tuning.interrupted and len(tuning.trials) == 2 and tuning.best_code is not None
    assert len((tuning_cache / "trials" / "trials.jsonl").read_text().splitlines()) == 2
    text, _ = displayed(captured)
    assert "interrupted: the finished trials are kept" in text
    assert "interrupted: the 2 finished trials are kept" in captured.stderr  # the progress line's last word


def test_session_device_is_used_by_tune(shell):
    run_cell(shell, "%xpile_config device=gpu")
    try:
        outcome, captured = run_cell(shell, f"%%xpile --target hip --tune 2\n{SCALE_ADD}")
    finally:
        shell.magics_manager.registry["XpilerMagics"].config_values.pop("device")
    assert_no_traceback(outcome, captured)
    assert shell.user_ns["_xpile_error"].code == "XP005"  # no HIP GPU here: said before any trial, plainly
    assert "cannot time hip code" in displayed(captured)[0]


def test_tune_for_a_target_without_a_device_labels_estimates(shell, tuning_cache):
    outcome, captured = run_cell(shell, f"%%xpile --target bang --tune 1 --tune-sizes rows=4,cols=8\n{ROW_SCALE}")
    assert_no_traceback(outcome, captured)
    assert shell.user_ns["_xpile"].tuning.kind == "estimate"
    text, html = displayed(captured)
    assert "ESTIMATES" in text and "(estimate)" in text
    assert "estimates, not measurements" in html


# ------------------------------------------------------------------------------------------- --llm ---

def test_llm_cell_shows_a_repaired_answer_then_replays_it(shell, tmp_path):
    """A model answer with an off-by-one read is repaired by Z3: the cell says llm+repaired with the diff (text
    and HTML) and verified; the same cell again replays the answer from the cache without asking."""
    from passes.translate import translate
    from tests.synthesis.fake_llm import FakeChatServer, Reply
    from tests.synthesis.kernels import fenced

    symbolic = translate(SCALE_ADD, "cpp", "cuda", native_compile=False).code
    assert "alpha * dx[i] + dy[i];" in symbolic
    answer = fenced(symbolic.replace("alpha * dx[i] + dy[i];", "alpha * dx[i] + dy[i + 1];"))
    run_cell(shell, f"%xpile_config llm_cache_dir={tmp_path} llm_api_key=sk-magic-test-key")
    try:
        with FakeChatServer([Reply(answer)]) as server:
            line = f"%%xpile --target cpp --llm fake-coder --llm-base-url {server.base_url} --sizes n=37 --as r\n"
            outcome, captured = run_cell(shell, line + SCALE_ADD)
            assert_no_traceback(outcome, captured)
            text, html = displayed(captured)
            assert "llm: bind: llm+repaired" in text and "asked (1 attempt(s))" in text and "[VERIFIED]" in text
            assert "LLM passes" in html and "the repair&#x27;s diff" in html and "dy[i + 1]" in html
            result = shell.user_ns["r"]
            assert [p["outcome"] for p in result.llm_passes] == ["symbolic", "llm+repaired"]
            assert result.report["llm"] == result.llm_passes and "dy[i + 1]" not in result.code
            n = 37
            x, y = np.arange(n, dtype=np.float32), np.ones(n, dtype=np.float32)
            assert np.allclose(result.run(x, y, np.zeros(n, np.float32), np.float32(2.0), n)["out"], 2 * x + y)
            outcome, captured = run_cell(shell, line + SCALE_ADD)
            assert len(server.requests) == 1  # replayed
        text, _ = displayed(captured)
        assert "llm: bind: llm+repaired" in text and "[replayed from the cache]" in text
    finally:
        shell.run_line_magic("xpile_config", f"llm_cache_dir={tmp_path / 'unused'}")


def test_llm_cell_falls_back_with_the_reason_when_the_server_refuses(shell, tmp_path):
    from tests.synthesis.fake_llm import FakeChatServer, Reply

    run_cell(shell, f"%xpile_config llm_cache_dir={tmp_path} llm_api_key=sk-magic-test-key")
    with FakeChatServer([Reply(status=401)]) as server:
        outcome, captured = run_cell(shell, f"%%xpile --target cpp --llm fake-coder --llm-base-url {server.base_url} "
                                            f"--sizes n=37\n{SCALE_ADD}")
    assert_no_traceback(outcome, captured)
    text, html = displayed(captured)
    assert "llm: bind: fallback: no answer: fake-coder: the server refused the request (HTTP 401)" in text
    assert "[VERIFIED]" in text and "fallback" in html and "sk-magic-test-key" not in text + html
