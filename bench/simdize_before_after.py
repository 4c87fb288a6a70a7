"""cuda -> cpp translations timed with and without simdize's full-tile versions and libmvec declarations, next
to numpy, in one process: process CPU time, best of 7 calls, g++ -O3 -march=native -fopenmp, the operator sizes
and numpy references of bench/cpp_vs_numpy.py.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PYTHONPATH=. python bench/simdize_before_after.py softmax gemm
"""
from __future__ import annotations

import ctypes
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import numpy as np

import passes.simdize as simdize
from passes.translate import translate
from tests.corpus.specs import SPECS, make_args

sys.path.insert(0, str(Path(__file__).parent))
from cpp_vs_numpy import CASES  # noqa: E402


def build(op: str, with_change: bool, out: Path) -> ctypes.CDLL:
    """The translation of the corpus's CUDA `op`, built as a shared library."""
    source = Path(f"tests/corpus/cuda/{op}.cu").read_text()
    if with_change:
        code = translate(source, "cpp", "cuda", native_compile=False).code
    else:
        with mock.patch.object(simdize, "_full_tile_version", lambda node: None), \
                mock.patch.object(simdize, "_vector_math_declared", lambda module: module):
            code = translate(source, "cpp", "cuda", native_compile=False).code
    path = out / f"{op}_{'after' if with_change else 'before'}"
    path.with_suffix(".cpp").write_text(code)
    subprocess.run(["g++", "-O3", "-march=native", "-fopenmp", "-shared", "-fPIC", str(path.with_suffix(".cpp")),
                    "-o", str(path.with_suffix(".so"))], check=True)
    return ctypes.CDLL(str(path.with_suffix(".so")))


def best_ms(run: Callable[[], object], calls: int = 7, clock: Callable[[], float] = time.process_time) -> float:
    """The fastest of `calls` runs in ms, by `clock` (process CPU time by default: one thread's work)."""
    times = []
    for _ in range(calls):
        start = clock()
        run()
        times.append(clock() - start)
    return min(times) * 1e3


def entry_call(library: ctypes.CDLL, op: str, args: list) -> Callable[[], object]:
    values = [v.ctypes.data_as(ctypes.c_void_p) if isinstance(v, np.ndarray) else
              ctypes.c_float(v) if np.issubdtype(type(v), np.floating) else ctypes.c_int(int(v)) for _, v in args]
    return lambda: getattr(library, op)(*values)


def main() -> None:
    out = Path(tempfile.mkdtemp(prefix="xpile-simdize-"))
    for op in sys.argv[1:]:
        sizes, reference = CASES[op]
        args = make_args(SPECS[op], sizes)
        numpy_ms = best_ms(lambda: reference(**dict(args)))
        before, after = (best_ms(entry_call(build(op, change, out), op, args)) for change in (False, True))
        print(f"{op}: numpy {numpy_ms:.2f} ms; before {before:.2f} ms ({numpy_ms / before:.2f}x); "
              f"after {after:.2f} ms ({numpy_ms / after:.2f}x)")


if __name__ == "__main__":
    main()
