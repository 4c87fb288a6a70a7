"""Holes in nonlinear places (divisor, modulus, shift amount, a factor times a hole) and hanging candidates."""
from __future__ import annotations

import time

import numpy as np

from kernel_ir.ir import BinOp, Const, DType, Var
from synthesis.repair import RepairOptions, repair
from synthesis.sketch import ENUMERATED_LIMIT, Sketch, candidate_values, expr_text
from tests.synthesis.test_repair import solve


def test_a_modulus_a_shift_and_a_divisor_are_solved_without_nonlinear_arithmetic() -> None:
    for candidate, reference in (("i - i % 34 + (i % 32 + j)", "i - i % 32 + (i % 32 + j)"),
                                 ("i % 32 % 30 + j", "i % 32 % 32 + j"),
                                 ("(i >> 3) * cols + j", "(i >> 2) * cols + j"),
                                 ("i / 7 * cols + j % 16", "i / 8 * cols + j % 16"),
                                 ("(i + 2) % 32 + j", "(i + 1) % 32 + j")):
        (solved, proof), ref = solve(candidate, reference)
        assert solved is not None, (candidate, proof)
        assert expr_text(solved) == expr_text(ref), (candidate, expr_text(solved))  # the reference's own value
        assert "enumerated over" in proof


def test_a_product_of_two_holes_keeps_the_candidates_shape() -> None:
    (solved, proof), _ = solve("(i + 1) * 3 + j", "(i + 1) * 4 + j")
    assert expr_text(solved) == "(i + 1) * 4 + j" and "SymPy proves" in proof


def test_the_candidate_sets_are_bounded_and_safe() -> None:
    modulus = candidate_values(34, "%", (32, 0))
    assert 32 in modulus and 34 in modulus and 0 not in modulus and len(modulus) <= ENUMERATED_LIMIT
    assert modulus[0] == 34  # nearest to the written value first
    assert all(0 <= v <= 31 for v in candidate_values(3, ">>", (1000,)))
    x = BinOp("%", Var("i"), Const(34, DType.int32))
    sketch = Sketch(BinOp("+", x, Const(1, DType.int32)), ("i",), (32,))
    assert list(sketch.enumerated) == [1]  # the modulus is enumerated, the added constant stays Z3's
    assert "1 hole(s) in nonlinear places" in sketch.describe_enumerated()


def program(body: str) -> str:
    return f'extern "C" void k(const float* x, float* y, int n) {{\n{body}\n}}\n'


def args() -> list:
    return [("x", np.arange(32, dtype=np.float32)), ("y", np.zeros(32, np.float32)), ("n", np.int32(32))]


def test_a_wrong_modulus_in_a_program_is_repaired_and_verified() -> None:
    reference = program("for (int i = 0; i < n; i += 1) { y[i] = x[i / 4 * 4 + (3 - i % 4)]; }")
    faulty = reference.replace("i % 4", "i % 5")
    result = repair(faulty, reference, "cpp", "k", args())
    assert result.status == "repaired" and result.verified, result.reason
    assert "+    for" not in result.diff and "i % 4" in result.code and "enumerated" in result.fixes[0].proof


def test_a_bound_that_makes_a_loop_endless_costs_seconds() -> None:
    reference = program("for (int m = 16; m > 0; m >>= 1) { y[m] = x[m]; }")
    faulty = reference.replace("m > 0", "m > -1")  # m stays 0 forever
    start = time.perf_counter()
    result = repair(faulty, reference, "cpp", "k", args(), options=RepairOptions(run_timeout_s=1.0))
    assert result.status == "repaired" and result.verified and "m > 0" in result.code, result.reason
    assert time.perf_counter() - start < 60
