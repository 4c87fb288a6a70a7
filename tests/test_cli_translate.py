"""`xpile translate`: writes the code and a JSON report, verifies by default, exits non-zero without a translation."""
from __future__ import annotations

import json
from pathlib import Path

from tests.corpus import corpus_files
from xpiler_magic.cli import main


def corpus_path(dialect: str, op: str) -> Path:
    return next(path for d, name, path in corpus_files(dialect) if name == op)


def test_translate_writes_code_and_a_verified_report(tmp_path: Path, capsys) -> None:
    out, report = tmp_path / "relu.mlu", tmp_path / "report.json"
    rc = main(["translate", str(corpus_path("cuda", "relu")), "--target", "bang", "-o", str(out),
               "--report", str(report), "--size", "n=50"])
    assert rc == 0, capsys.readouterr()
    assert "__mlu_global__ void relu" in out.read_text()
    data = json.loads(report.read_text())
    assert data["source_dialect"] == "cuda" and data["target_dialect"] == "bang"
    assert [p["name"] for p in data["passes"]] == ["parse", "detensorize", "recover_loops", "normalize", "parallelize",
                                                   "bind", "cache", "tensorize", "pipeline"]
    assert data["verification"]["status"] == "verified"
    assert data["verification"]["sizes"] == {"n": 50}
    assert "verified" in capsys.readouterr().out


def test_no_verify_skips_the_runs(tmp_path: Path, capsys) -> None:
    out, report = tmp_path / "relu.cpp", tmp_path / "report.json"
    rc = main(["translate", str(corpus_path("hip", "relu")), "--target", "cpp", "-o", str(out),
               "--report", str(report), "--no-verify"])
    assert rc == 0
    assert json.loads(report.read_text())["verification"]["status"] == "skipped"
    assert "skipped" in capsys.readouterr().out


def test_no_translation_exits_non_zero_with_a_diagnostic(tmp_path: Path, capsys) -> None:
    source = tmp_path / "bad.cpp"
    source.write_text('extern "C" void f(float* y) { y[0] = undefined_name; }\n')
    out = tmp_path / "out.cu"
    rc = main(["translate", str(source), "--target", "cuda", "-o", str(out)])
    assert rc != 0 and not out.exists()
    err = capsys.readouterr().err
    assert "XP1" in err and "Traceback" not in err


def test_a_refusal_still_writes_the_report(tmp_path: Path, capsys) -> None:
    source = tmp_path / "bits.cu"
    source.write_text("""
__global__ void k(const float* x, int* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) atomicCAS(y, 0, __float_as_int(x[i]) >> 23);
}
extern "C" void bits(const float* x, int* y, int n) {
    float* dx; int* dy;
    cudaMalloc(&dx, n * sizeof(float)); cudaMalloc(&dy, n * sizeof(int));
    cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice);
    k<<<(n + 127) / 128, 128>>>(dx, dy, n);
    cudaMemcpy(y, dy, n * sizeof(int), cudaMemcpyDeviceToHost);
    cudaFree(dx); cudaFree(dy);
}
""")
    report = tmp_path / "report.json"
    rc = main(["translate", str(source), "--target", "bang", "-o", str(tmp_path / "out.mlu"), "--report", str(report)])
    assert rc != 0 and "XP527" in capsys.readouterr().err
    written = json.loads(report.read_text())
    assert written["status"] == "refused" and written["code"] == "XP527" and "atomicCAS" in written["message"]
