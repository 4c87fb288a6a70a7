"""`xpile demo`: the main job on the embedded default kernel, end to end, with the evidence printed.

The embedded CUDA softmax runs on the CPU executor against numpy. It is then translated to HIP, BANG C and C,
and each translation is verified: source and result execute on the same inputs and must agree. The cpp result
runs natively (g++) where this CPU has what it uses, and the target's compiler (hipcc) builds the HIP result
where it is installed.
"""
from __future__ import annotations

import time
from importlib import resources

import numpy as np

from kernel_ir.diagnostics import XpilerError
from kernel_ir.entry import bind_arguments, find_entry
from kernel_ir.executor import execute
from kernel_ir.parse import parse
from passes.translate import translate
from passes.verify import verify

from .render import compile_verdict

TOLERANCE = {"rtol": 1e-5, "atol": 1e-6}
TARGETS = ("hip", "bang", "cpp")


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
    return all([ok, *(translated(source, entry.name, args, target) for target in TARGETS)])


def translated(source: str, entry: str, args: list, target: str) -> bool:
    """Translate the example to `target`, verify it on the demo's inputs, print the evidence; True if verified."""
    start = time.perf_counter()
    try:
        port = translate(source, target, "cuda", entry)
    except XpilerError as err:
        print(f"cuda -> {target:<4}: NOT TRANSLATED: {err.diagnostic}")
        return False
    check = verify(source, "cuda", port.code, target, entry, args=args, **TOLERANCE)
    where = ", ".join(f"{side} {place}" for side, place in check.ran_on.items())
    tools = ", ".join(f"{c.tool} {compile_verdict(c.ok)}" for c in port.compile_results)
    print(f"cuda -> {target:<4}: {check.status.upper()} in {time.perf_counter() - start:.1f} s: {check.reason}")
    print(f"{'':<13}ran: {where}; built: {tools}; {len(port.passes)} passes, {len(port.code.splitlines())} lines")
    return check.verified
