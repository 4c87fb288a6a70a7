"""expand: a variable private to a parallel loop's iteration becomes an array slot per iteration; same results."""
from __future__ import annotations

import numpy as np
import pytest

from kernel_ir.dialects import print_module
from kernel_ir.executor import execute
from kernel_ir.ir import ArrayType, Decl, For, ForKind, walk
from kernel_ir.parse import parse
from passes.base import PassRefused
from passes.expand import ExpandOptions, expand
from passes.recover_loops import recover_loops

SOURCE = """
extern "C" void run(const float* x, float* y, int n) {
#pragma omp parallel for
    for (int i = 0; i < n; ++i) {
        float acc = x[i] * 2.0f;
        int pair[2] = {1, 3};
        float grid[2][3] = {{0.5f, 0.0f, 2.0f}, {1.5f}};
        for (int k = 0; k < 2; ++k) acc += pair[k] * x[(i + k) % n] + grid[k][0] + grid[k][2];
        y[i] = acc;
    }
}
"""


def loop_module():
    return recover_loops(parse(SOURCE, "cpp"))


def run(text: str, n: int = 37) -> np.ndarray:
    x = np.random.default_rng(1).uniform(-1, 1, n).astype(np.float32)
    return execute(text, "cpp", "run", [("x", x), ("y", np.zeros(n, np.float32)), ("n", np.int32(n))])["y"]


@pytest.mark.parametrize("variable", ["acc", "pair", "grid"])
def test_expanded_variable_keeps_results(variable):
    module = loop_module()
    expanded = expand(module, ExpandOptions(variable=variable))
    body = expanded.function("run").body.body
    promoted = [s for s in body if isinstance(s, Decl) and s.name == variable]
    assert promoted and isinstance(promoted[0].type, ArrayType)
    loop = next(s for s in body if isinstance(s, For))
    assert loop.kind == ForKind.parallel
    assert not any(isinstance(n, Decl) and n.name == variable for n in walk(loop))
    np.testing.assert_array_equal(run(print_module(expanded, "cpp")), run(print_module(module, "cpp")))


def test_expand_needs_a_parallel_loop():
    with pytest.raises(PassRefused):
        expand(loop_module(), ExpandOptions(variable="nothing_here"))
