"""`%%xpile` / `%xpile_config` driven through a real IPython shell, the way a notebook runs them.

Every translation here is checked by executing it (the verification's evidence and `.run()` against numpy);
bad cells must end in a coded diagnostic, never a traceback.
"""
from __future__ import annotations

import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

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
    ("--target cpp --tune 8", "XP006", "--tune is not available yet"),
    ("--target cpp --device mlu0", "XP006", "--device is not available yet"),
    ("--target cpp --llm some-model", "XP006", "--llm is not available yet"),
    ("--target cpp --llm-base-url http://localhost:1", "XP006", "--llm-base-url is not available yet"),
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
