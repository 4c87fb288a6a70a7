"""contract: buffers whose live range is one iteration shrink to one iteration's region (or a scalar) and the
program computes exactly the same; buffers that carry values between iterations or escape are refused."""
from __future__ import annotations

import numpy as np
import pytest

from kernel_ir.dialects import print_module
from kernel_ir.ir import ArrayType, Decl, ScalarType, walk
from kernel_ir.parse import parse
from passes.base import PassRefused
from passes.contract import ContractOptions, contract
from passes.fuse import FuseOptions, fuse
from tests.corpus import corpus_files
from tests.passes.loop_programs import assert_same, cuda_loop_form, smallest_args

# a row scratch t[rows][cols] (malloc'd, symbolic region), a fixed 2-D array, and a full-size temporary
SCRATCH = """
#include <stdlib.h>
extern "C" void rows_op(const float* x, float* y, float* z, int rows, int cols) {
    float* t = (float*)malloc(rows * cols * sizeof(float));
    float u[16][8];
    float* w = (float*)malloc(rows * sizeof(float));
#pragma omp parallel for
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
            t[r * cols + c] = x[r * cols + c] * 2.0f;
        }
        float s = 0.0f;
        for (int c = 0; c < cols; c++) {
            s += t[r * cols + cols - 1 - c] * (float)(c + 1);
        }
        y[r] = s;
    }
    for (int i = 0; i < 16; i++) {
        for (int j = 0; j < 8; j++) {
            u[i][j] = x[i * 8 + j] + 1.0f;
        }
        for (int j = 0; j < 8; j++) {
            z[i * 8 + j] = u[i][7 - j] * u[i][j];
        }
    }
    for (int i = 0; i < rows; i++) {
        w[i] = x[i] * x[i];
        y[i] = y[i] + w[i] * 0.5f;
    }
    free(t);
    free(w);
}
"""

# a constant stride per iteration (blocks of 4) and a producer/consumer pair to fuse first
BLOCKS = """
#include <stdlib.h>
extern "C" void blocks(const float* x, float* y, int n) {
    float* b = (float*)malloc(n * 4 * sizeof(float));
    float* t = (float*)malloc(n * sizeof(float));
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < 4; k++) {
            b[4 * i + k] = x[i] + (float)k;
        }
        y[i] = b[4 * i] * b[4 * i + 3];
    }
    for (int i = 0; i < n; i++) {
        t[i] = x[i] * 3.0f;
    }
    for (int i = 0; i < n; i++) {
        y[i] += t[i];
    }
    free(b);
    free(t);
}
"""

REFUSED = """
#include <stdlib.h>
#include <string.h>
extern "C" void refused(const float* x, float* y, int n, int m) {
    float* after = (float*)malloc(n * sizeof(float));
    float* overlap = (float*)malloc(n * m + 1);
    float* escaped = (float*)malloc(n * sizeof(float));
    float carried[8];
    for (int i = 0; i < n; i++) {
        after[i] = x[i];
        for (int j = 0; j <= m; j++) {
            overlap[i * m + j] = x[i];
        }
        escaped[i] = 1.0f;
    }
    memset(escaped, 0, n * sizeof(float));
    y[0] = after[n - 1];
    for (int b = 0; b < 3; b++) {
        for (int i = 0; i < 8; i++) {
            carried[i] = carried[i] + x[i];
        }
    }
    free(after);
    free(overlap);
    free(escaped);
}
"""

RNG = np.random.default_rng(3)


def rand(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def decl_of(module, name: str) -> Decl:
    (decl,) = [n for n in walk(module) if isinstance(n, Decl) and n.name == name]
    return decl


def scratch_args(rows: int, cols: int) -> list:
    return [("x", rand(max(rows * cols, 128))), ("y", np.zeros(max(rows, 1), np.float32)),
            ("z", np.zeros(128, np.float32)), ("rows", np.int32(rows)), ("cols", np.int32(cols))]


@pytest.mark.parametrize("buffers", [("t",), ("u",), ("w",), ("t", "u", "w")])
def test_scratch_buffers(buffers: tuple[str, ...]) -> None:
    module = parse(SCRATCH, "cpp")
    for name in buffers:
        module = contract(module, ContractOptions("rows_op", name))
    text = print_module(module)
    if "u" in buffers:
        assert decl_of(module, "u").type == ArrayType(ScalarType(decl_of(module, "u").type.element.dtype),
                                                      decl_of(module, "u").type.size)
        assert "u[7 - j]" in text
    if "w" in buffers:
        assert isinstance(decl_of(module, "w").type, ScalarType)
    if "t" in buffers:
        assert "malloc(cols * sizeof(float))" in text and "free(t)" in text
    for rows, cols in ((5, 7), (16, 8), (1, 1)):
        assert_same(SCRATCH, module, "rows_op", scratch_args(rows, cols))


def test_constant_stride_and_fuse_then_contract() -> None:
    module = contract(parse(BLOCKS, "cpp"), ContractOptions("blocks", "b", loop="i"))
    assert decl_of(module, "b").type.size.value == 4
    with pytest.raises(PassRefused):  # t lives across two loops: no single iteration covers it
        contract(module, ContractOptions("blocks", "t"))
    module = fuse(module, FuseOptions("blocks", "i", "i", occurrence=1))
    module = contract(module, ContractOptions("blocks", "t"))
    assert isinstance(decl_of(module, "t").type, ScalarType)
    for n in (0, 1, 9):
        assert_same(BLOCKS, module, "blocks", [("x", rand(max(n, 1))), ("y", np.zeros(max(n, 1), np.float32)),
                                               ("n", np.int32(n))])


@pytest.mark.parametrize("buffer,loop,code", [
    ("after", "i", "XP532"),  # read after the loop
    ("overlap", "i", "XP532"),  # j <= m reaches the next iteration's region
    ("escaped", None, "XP535"),  # passed to memset
    ("carried", "i", "XP532"),  # a loop (b) between the declaration and i carries values
    ("missing", None, "XP530"),
])
def test_refusals(buffer: str, loop: str | None, code: str) -> None:
    with pytest.raises(PassRefused) as err:
        contract(parse(REFUSED, "cpp"), ContractOptions("refused", buffer, loop=loop))
    assert err.value.code == code, str(err.value)


def test_corpus_kernels_contract_or_refuse() -> None:
    """On real kernels every declared buffer either contracts or is refused with a code, never crashes."""
    for _, op, path in corpus_files("cpp"):
        module = parse(path.read_text(), "cpp")
        for fn in module.functions:
            if fn.body is None:
                continue
            names = [n.name for n in walk(fn.body) if isinstance(n, Decl)]
            for name in sorted(set(names)):
                for declaration in range(names.count(name)):
                    try:
                        contract(module, ContractOptions(fn.name, name, declaration=declaration))
                    except PassRefused as err:
                        assert err.code.startswith("XP53"), (op, err)


@pytest.mark.parametrize("op", ["softmax", "layernorm", "reduce_sum", "gqa"])
def test_cuda_loop_forms_contract_expanded_buffers(op: str) -> None:
    """Contract every buffer of the loop form that contract accepts (e.g. per-thread values expanded into
    arrays by the front half); the program must compute exactly the same."""
    base = cuda_loop_form(op)
    module, count = base, 0
    names = [n.name for n in walk(base.function(op).body) if isinstance(n, Decl)]
    for name in sorted(set(names)):
        for declaration in reversed(range(names.count(name))):  # later ones first: earlier indices stay valid
            try:
                module = contract(module, ContractOptions(op, name, declaration=declaration))
                count += 1
            except PassRefused:
                pass
    assert count > 0
    assert_same(print_module(base, "cpp"), module, op, smallest_args(op))
