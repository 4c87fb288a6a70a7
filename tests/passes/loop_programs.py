"""Helpers shared by the loop-transformation tests: run a loop-form program before and after a pass and compare."""
from __future__ import annotations

import numpy as np
import pytest

from kernel_ir.diagnostics import XpilerError
from kernel_ir.dialects import print_module
from kernel_ir.executor import execute
from kernel_ir.parse import parse
from passes.recover_loops import recover_loops
from tests.corpus import corpus_files
from tests.corpus.specs import SPECS, make_args


def run(program, entry: str, args: list) -> dict[str, np.ndarray]:
    source = program if isinstance(program, str) else print_module(program, "cpp")
    return execute(source, "cpp", entry, args)


def assert_same(source: str, module, entry: str, args: list) -> None:
    want, got = run(source, entry, args), run(module, entry, args)
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=f"{name} differs\n{print_module(module)}")


def cuda_loop_form(op: str):
    """The loop form of the cuda corpus kernel `op` (front half: recover_loops), or a skip if it refuses."""
    (path,) = [p for _, name, p in corpus_files("cuda") if name == op]
    try:
        return recover_loops(parse(path.read_text(), "cuda"))
    except XpilerError as err:
        pytest.skip(f"recover_loops does not handle {op} yet: {err.code}")


def smallest_args(op: str) -> list:
    spec = SPECS[op]
    return make_args(spec, min(spec.sizes, key=lambda s: np.prod([v for v in s.values() if isinstance(v, int)])))
