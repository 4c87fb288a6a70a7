"""How long the CPU executor takes on the issue's yardsticks: a 512x512x512 gemm and a 112x112x64 conv2d (NHWC,
3x3, 64 filters), for every dialect's corpus kernel. Prints seconds (build excluded: warmed first) and the ratio
to numpy on the same inputs in the same run; also checks each result, so a fast wrong answer shows as WRONG.

    python bench/executor_speed.py
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kernel_ir.executor import execute  # noqa: E402
from tests.corpus import corpus_files  # noqa: E402
from tests.corpus.specs import SPECS, expected_outputs, make_args  # noqa: E402

CASES = {
    "gemm": {"M": 512, "N": 512, "K": 512},
    "conv2d_nhwc": {"N": 1, "C": 64, "H": 112, "W": 112, "F": 64, "KH": 3, "KW": 3, "stride": 1, "pad": 1},
}


def best_of(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    print(f"{'operator':<12} {'dialect':<6} {'executor s':>10} {'numpy s':>9} {'ratio':>7}  check")
    for op, sizes in CASES.items():
        spec = SPECS[op]
        args = make_args(spec, sizes)
        want = expected_outputs(spec, args)
        numpy_s = best_of(lambda: expected_outputs(spec, args))
        for dialect, name, path in corpus_files():
            if name != op:
                continue
            source = path.read_text()
            out = execute(source, dialect, op, args)  # builds (cached) and checks
            ok = all(np.allclose(out[k], v, rtol=spec.rtol, atol=spec.atol) for k, v in want.items())
            seconds = best_of(lambda: execute(source, dialect, op, args), repeats=2)
            print(f"{op:<12} {dialect:<6} {seconds:>10.2f} {numpy_s:>9.3f} {seconds / numpy_s:>6.1f}x  "
                  f"{'ok' if ok else 'WRONG'}")


if __name__ == "__main__":
    main()
