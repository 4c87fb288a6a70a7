"""`xpile demo`: the main job on the embedded default kernel, end to end, with the evidence printed.

For now: execute a CUDA softmax on the CPU executor and compare it with numpy on the same generated inputs.
"""
from __future__ import annotations

import time
from importlib import resources

import numpy as np

from kernel_ir.entry import bind_arguments, find_entry
from kernel_ir.executor import execute
from kernel_ir.parse import parse

TOLERANCE = {"rtol": 1e-5, "atol": 1e-6}


def softmax_reference(x: np.ndarray) -> np.ndarray:
    z = np.exp(x.astype(np.float64) - x.max(axis=1, keepdims=True))
    return (z / z.sum(axis=1, keepdims=True)).astype(np.float32)


def run_demo(rows: int = 64, cols: int = 1000, seed: int = 0) -> bool:
    source = resources.files("xpiler_magic.examples").joinpath("softmax.cu").read_text()
    x = np.random.default_rng(seed).uniform(-4, 4, size=(rows, cols)).astype(np.float32)
    entry = find_entry(parse(source, "cuda"))
    args = bind_arguments(entry, {"x": x, "y": np.zeros_like(x), "rows": rows, "cols": cols})
    start = time.perf_counter()
    y = execute(source, "cuda", entry.name, args)["y"]
    elapsed = time.perf_counter() - start
    want = softmax_reference(x)
    err = np.abs(y.astype(np.float64) - want)
    ok = bool(np.allclose(y, want, **TOLERANCE))
    print(f"kernel   : {entry.name} (CUDA, embedded example softmax.cu), {rows}x{cols} float32, seed {seed}")
    print(f"executed : CPU executor (fiber SIMT emulation, g++), {elapsed:.2f} s including the build")
    print(f"checked  : against numpy, rtol={TOLERANCE['rtol']:g} atol={TOLERANCE['atol']:g}; "
          f"max abs error {err.max():.3g}")
    print(f"result   : {'MATCHES numpy' if ok else 'DOES NOT MATCH numpy'}")
    return ok
