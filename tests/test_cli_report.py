"""`xpile translate --html` and `xpile report`: the notebook's view of a translation as a standalone HTML file."""
from __future__ import annotations

import json
import shutil

from xpiler_magic.cli import main

SCALE = """\
__global__ void scale_kernel(float* x, float a, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = a * x[i];
}

extern "C" void scale(float* x, float a, int n) {
    float* dx;
    cudaMalloc(&dx, n * sizeof(float));
    cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice);
    scale_kernel<<<(n + 63) / 64, 64>>>(dx, a, n);
    cudaMemcpy(x, dx, n * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dx);
}
"""


def test_translate_html_and_report_write_the_same_page(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scale.cu").write_text(SCALE)
    assert main(["translate", "scale.cu", "--target", "cpp", "-o", "scale.cpp", "--report", "r.json",
                 "--html", "direct.html"]) == 0
    page = (tmp_path / "direct.html").read_text()
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["verification"]["status"] == "verified"
    assert page.startswith("<!DOCTYPE html>") and "<title>xpile: scale cuda -&gt; cpp</title>" in page
    assert ">verified</span>" in page and "#1a7f37" in page  # the green badge, with its evidence
    assert "max error" in page and "rtol" in page and "ran on" in page
    assert "Diff against the source" in page and "cudaMalloc" in page  # the diff shows what was removed
    assert "Compile results" in page and "Passes" in page and "recover_loops" in page
    assert "<details open" in page and "<details " not in page.replace("<details open", "")

    assert main(["report", "r.json", "-o", "again.html"]) == 0
    assert (tmp_path / "again.html").read_text() == page
    assert "wrote again.html: scale (cuda -> cpp), verified" in capsys.readouterr().out

    elsewhere = tmp_path / "elsewhere"  # the files beside the report are found when run from another folder
    elsewhere.mkdir()
    for name in ("r.json", "scale.cu", "scale.cpp"):
        shutil.copy(tmp_path / name, elsewhere / name)
    (tmp_path / "scale.cu").unlink()
    assert main(["report", "elsewhere/r.json", "-o", "moved.html"]) == 0
    assert (tmp_path / "moved.html").read_text() == page


def test_report_errors_are_diagnosed(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["report", "missing.json", "-o", "x.html"]) == 2
    assert "XP003" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("{not json")
    assert main(["report", "bad.json", "-o", "x.html"]) == 2
    assert "is not JSON" in capsys.readouterr().err
    (tmp_path / "other.json").write_text('{"status": "ok"}')
    assert main(["report", "other.json", "-o", "x.html"]) == 2
    assert "not a report of xpile translate" in capsys.readouterr().err
    report = {k: None for k in ("entry", "source_dialect", "target_dialect", "passes", "compile", "verification",
                                "elapsed_s")}
    (tmp_path / "r.json").write_text(json.dumps({**report, "source": "gone.cu", "output": "gone.cpp"}))
    assert main(["report", "r.json", "-o", "x.html"]) == 2
    err = capsys.readouterr().err
    assert "the source file 'gone.cu' named in r.json does not exist" in err and "Traceback" not in err
    assert not (tmp_path / "x.html").exists()
