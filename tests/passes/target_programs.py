"""Helpers shared by the tests of the target optimizations (cache, tensorize, pipeline): small loop-form
programs bound to a target, and a check that a pass's output executes like its input on the same inputs."""
from __future__ import annotations

import numpy as np

from kernel_ir.dialects import print_module
from kernel_ir.executor import execute
from kernel_ir.ir import Module
from passes.bind import bind
from tests.passes.test_bind import loop_form

rng = np.random.default_rng(7)


def bound(source: str, target: str = "bang") -> Module:
    return bind(loop_form(source), target)


def floats(n: int) -> np.ndarray:
    return rng.standard_normal(n).astype(np.float32)


def assert_executes_like(before: Module, after: Module, entry: str, args: list, rtol: float = 0.0,
                         env_strict: bool = False) -> str:
    """Run both programs on `args` (BANG: 16 tasks); outputs equal (within rtol when the pass says so).
    Returns the code of `after`."""
    code = print_module(after)
    want = execute(print_module(before), before.dialect, entry, args)
    got = execute(code, after.dialect, entry, args)
    for name, expected in want.items():
        if rtol:
            np.testing.assert_allclose(got[name], expected, rtol=rtol, atol=rtol, err_msg=f"{name}\n{code}")
        else:
            np.testing.assert_array_equal(got[name], expected, err_msg=f"{name}\n{code}")
    return code
