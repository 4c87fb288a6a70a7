"""How long the front end takes on a 190-statement CUDA kernel, against libclang's own parse of the same text in
the same process (the floor: our parse is libclang plus the conversion to the IR). Prints both and the ratio.

    python bench/parse_speed.py
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.executor_speed import best_of  # noqa: E402
from kernel_ir.parse import parse  # noqa: E402
from kernel_ir.parse import _translation_unit as translation_unit  # noqa: E402  (libclang alone)


def kernel(statements: int = 190) -> str:
    lines = ["__global__ void big(float* x, int n) {", "    int i = blockIdx.x * blockDim.x + threadIdx.x;"]
    lines += [f"    if (i + {k} < n) x[i + {k}] = x[i + {k}] * {k}.5f + sqrtf((float){k});" for k in range(statements)]
    return "\n".join(lines + ["}"])


def main() -> None:
    source = kernel()
    parse(source, "cuda")  # warm-up: the first libclang use loads the library
    ours = best_of(lambda: parse(source, "cuda"), repeats=5)
    clang = best_of(lambda: translation_unit(source, "cuda"), repeats=5)
    print(f"parse (libclang + IR): {ours * 1e3:8.1f} ms")
    print(f"libclang alone:        {clang * 1e3:8.1f} ms")
    print(f"ratio:                 {ours / clang:8.2f}x")


if __name__ == "__main__":
    main()
