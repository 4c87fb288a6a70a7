"""`xpile run` end to end, as a script would call it: real processes, real files, exit codes and messages."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SAXPY = r"""
__global__ void saxpy_kernel(int n, float a, const float* x, float* y) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}
extern "C" void saxpy(int n, float a, const float* x, float* y) {
    float *dx, *dy;
    cudaMalloc(&dx, n * sizeof(float)); cudaMalloc(&dy, n * sizeof(float));
    cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice);
    cudaMemcpy(dy, y, n * sizeof(float), cudaMemcpyHostToDevice);
    saxpy_kernel<<<(n + 127) / 128, 128>>>(n, a, dx, dy);
    cudaMemcpy(y, dy, n * sizeof(float), cudaMemcpyDeviceToHost);
}
"""


def xpile(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xpiler_magic.cli", *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture
def saxpy_files(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    x = np.linspace(-1, 1, 300, dtype=np.float32)
    y = np.ones(300, np.float32)
    (tmp_path / "saxpy.cu").write_text(SAXPY)
    np.savez(tmp_path / "in.npz", n=300, a=2.5, x=x, y=y)  # n and a arrive as int64/float64 and are converted
    return tmp_path, x, y


def test_run_writes_every_pointer_argument(saxpy_files) -> None:
    tmp, x, y = saxpy_files
    proc = xpile("run", "saxpy.cu", "--args", "in.npz", "-o", "out.npz", cwd=tmp)
    assert proc.returncode == 0, proc.stderr
    with np.load(tmp / "out.npz") as out:
        np.testing.assert_allclose(out["y"], 2.5 * x + y, rtol=1e-6)
        np.testing.assert_array_equal(out["x"], x)


def test_run_positional_names_and_an_explicit_kernel_entry(saxpy_files) -> None:
    tmp, x, y = saxpy_files
    np.savez(tmp / "pos.npz", arg0=np.int32(300), arg1=np.float32(-1.0), arg2=x, arg3=y)
    proc = xpile("run", "saxpy.cu", "--args", "pos.npz", "-o", "out.npz", "--entry", "saxpy_kernel",
                 "--launch", "grid=3", "block=128", cwd=tmp)
    assert proc.returncode == 0, proc.stderr
    with np.load(tmp / "out.npz") as out:
        np.testing.assert_allclose(out["y"], -x + y, rtol=1e-6)


@pytest.mark.parametrize("extra, code", [
    (["--entry", "nope"], "XP404"),
    (["--launch", "grid=0"], "XP002"),
    (["--timeout", "-3"], "XP002"),
])
def test_bad_options_exit_2_with_a_coded_diagnostic(saxpy_files, extra, code) -> None:
    tmp, _, _ = saxpy_files
    proc = xpile("run", "saxpy.cu", "--args", "in.npz", "-o", "out.npz", *extra, cwd=tmp)
    assert proc.returncode == 2 and code in proc.stderr and "Traceback" not in proc.stderr


def test_missing_and_mistyped_arguments_are_named(saxpy_files) -> None:
    tmp, x, _ = saxpy_files
    np.savez(tmp / "missing.npz", n=300, a=1.0, x=x)
    proc = xpile("run", "saxpy.cu", "--args", "missing.npz", "-o", "out.npz", cwd=tmp)
    assert proc.returncode == 2 and "XP406" in proc.stderr and "'y'" in proc.stderr
    np.savez(tmp / "typed.npz", n=300, a=1.0, x=x.astype(np.float64), y=x)
    proc = xpile("run", "saxpy.cu", "--args", "typed.npz", "-o", "out.npz", cwd=tmp)
    assert proc.returncode == 2 and "XP408" in proc.stderr and "float32" in proc.stderr


def test_a_crashing_kernel_exits_1_and_says_why(tmp_path: Path) -> None:
    (tmp_path / "crash.cu").write_text(
        '__global__ void k(float* p) { p[threadIdx.x] = 1.0f; }\n'
        'extern "C" void run(float* out) { k<<<1, 32>>>((float*)0); out[0] = 1.0f; }\n')
    np.savez(tmp_path / "in.npz", out=np.zeros(1, np.float32))
    proc = xpile("run", "crash.cu", "--args", "in.npz", "-o", "out.npz", cwd=tmp_path)
    assert proc.returncode == 1 and "XP301" in proc.stderr and "segmentation fault" in proc.stderr


def test_a_syntax_error_points_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "broken.cu").write_text('extern "C" void run(float* out) {\n    out[0] = ;\n}\n')
    proc = xpile("run", "broken.cu", "-o", "out.npz", cwd=tmp_path)
    assert proc.returncode != 0 and "broken.cu:2:" in proc.stderr and "XP1" in proc.stderr


def test_demo_translates_the_example_to_every_other_dialect_and_verifies_each(tmp_path: Path) -> None:
    done = xpile("demo", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "result   : MATCHES numpy" in lines
    evidence = {}
    for target in ("hip", "bang", "cpp"):
        at = next(i for i, line in enumerate(lines) if line.startswith(f"cuda -> {target:<4}:"))
        assert ": VERIFIED in " in lines[at] and "buffers agree within rtol 1e-05" in lines[at]
        evidence[target] = lines[at + 1]
        assert "ran: source CPU executor" in evidence[target]
    # the cpp result runs natively (g++ -march=native builds it on any x86 CPU)
    assert "result native gcc" in evidence["cpp"] and "g++ ok" in evidence["cpp"]
