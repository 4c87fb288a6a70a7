"""The executor's builds read the emulation header precompiled, and build the same library when that fails."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from kernel_ir import executor
from kernel_ir.executor import compile_flags, execute

SCALE = r"""
__global__ void scale(const float* x, float* y, float a, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i];
}
"""


def scale_args(n: int = 300) -> list:
    x = np.arange(n, dtype=np.float32)
    return [("x", x), ("y", np.zeros_like(x)), ("a", np.float32(1.5)), ("n", np.int32(n))]


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty build cache and an empty home (whose ~/.cache/xpiler/pch the headers go to)."""
    monkeypatch.setenv("XPILER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


def test_g_plus_plus_reads_the_precompiled_header(fresh_cache, tmp_path):
    compiler = shutil.which("g++")
    flags = compile_flags("cuda", bounds_check=False)
    built = executor._with_precompiled_header(compiler, flags)
    stub = built[built.index("-include") + 1]
    assert stub != flags[flags.index("-include") + 1] and executor.precompiled_header_dir().exists()
    source = tmp_path / "k.cpp"
    source.write_text("int k() { return 0; }\n")
    # -H names every header g++ opens; "!" marks a precompiled one it used
    proc = subprocess.run([compiler, *built, "-H", "-o", str(tmp_path / "k.so"), str(source)],
                          capture_output=True, text=True, check=True)
    assert f"! {stub}.gch" in proc.stderr
    # the same flags again: the precompiled header is reused, not rebuilt
    gch = next(executor.precompiled_header_dir().rglob("*.gch"))
    stamp = gch.stat().st_mtime_ns
    assert executor._with_precompiled_header(compiler, flags) == built and gch.stat().st_mtime_ns == stamp


def test_a_damaged_precompiled_header_still_builds_the_same_kernel(fresh_cache):
    args = scale_args()
    first = execute(SCALE, "cuda", "scale", args, launch={"grid": 3, "block": 128})["y"]
    np.testing.assert_array_equal(first, 1.5 * args[0][1])
    [gch] = executor.precompiled_header_dir().rglob("*.gch")
    gch.write_bytes(b"not a precompiled header")
    for library in (fresh_cache / "cache" / "builds").glob("*.so"):
        library.unlink()  # built again, now against the damaged header
    again = execute(SCALE, "cuda", "scale", args, launch={"grid": 3, "block": 128})["y"]
    np.testing.assert_array_equal(again, first)
    assert gch.read_bytes() == b"not a precompiled header"  # g++ read the header's text instead


def test_flags_without_a_forced_header_or_a_place_for_it_are_left_alone(fresh_cache, monkeypatch):
    compiler = shutil.which("g++")
    native = compile_flags("cpp", bounds_check=False, native=True)
    assert executor._with_precompiled_header(compiler, native) == native
    assert not executor.precompiled_header_dir().exists()
    (fresh_cache / "a_file").write_text("")
    monkeypatch.setenv("HOME", str(fresh_cache / "a_file"))  # ~/.cache cannot be made: the header's text is read
    emulated = compile_flags("cuda", bounds_check=False)
    assert executor._with_precompiled_header(compiler, emulated) == emulated
    args = scale_args()
    y = execute(SCALE, "cuda", "scale", args, launch={"grid": 3, "block": 128})["y"]
    np.testing.assert_array_equal(y, 1.5 * args[0][1])
