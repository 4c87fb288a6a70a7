"""Sketch solving, alignment, classification and stage search on small programs."""
from __future__ import annotations

import numpy as np

from kernel_ir.parse import parse
from synthesis.localize import align, localize, stages
from synthesis.repair import RepairOptions, _Budget, repair, solve_expression
from synthesis.sketch import normal_form, proved_equal
from kernel_ir.ir import Index, walk


def index_of(code: str, buffer: str):
    module = parse(code, "cpp")
    return next(n.index for n in walk(module) if isinstance(n, Index) and getattr(n.base, "name", "") == buffer)


def program(body: str) -> str:
    return f'extern "C" void k(const float* x, float* y, int rows, int cols) {{\n{body}\n}}\n'


def solve(candidate: str, reference: str):
    cand = index_of(program(f"for (int i = 0; i < rows; i += 1) for (int j = 0; j < cols; j += 1) "
                            f"y[{candidate}] = x[0];"), "y")
    ref = index_of(program(f"for (int i = 0; i < rows; i += 1) for (int j = 0; j < cols; j += 1) "
                           f"y[{reference}] = x[0];"), "y")
    return solve_expression(cand, ref, 0, _Budget(RepairOptions())), ref


def test_z3_fixes_a_constant_a_coefficient_and_a_transposition() -> None:
    for candidate, reference in (("i * cols + j + 1", "i * cols + j"), ("i * 3 + j", "i * 4 + j"),
                                 ("j * cols + i", "i * cols + j"), ("(i + 1) * cols + j", "i * cols + j")):
        (solved, proof), ref = solve(candidate, reference)
        assert solved is not None and proved_equal(solved, ref), (candidate, proof)
        assert "SymPy proves" in proof


def test_the_repair_keeps_the_candidates_shape() -> None:
    (solved, _), _ = solve("(long)i * cols + j + 1", "i * cols + j")
    assert normal_form(solved) == "cols*i + j"
    assert "long" in str(solved)  # the cast the candidate wrote survives


def test_an_index_outside_the_sketch_is_out_of_reach() -> None:
    (solved, proof), _ = solve("i", "i * cols + j")  # the candidate lacks a term: no hole can create it
    assert solved is None and "no hole values" in proof


TWO_STAGES = program("""
    for (int i = 0; i < rows * cols; i += 1) { y[i] = x[i] * 2.0f; }
    for (int i = 0; i < rows; i += 1) { y[i * cols] = y[i * cols] + 1.0f; }""")


def args() -> list:
    rng = np.random.default_rng(0)
    return [("x", rng.uniform(-1, 1, 35).astype(np.float32)), ("y", np.zeros(35, np.float32)),
            ("rows", np.int32(7)), ("cols", np.int32(5))]


def test_binary_search_finds_the_faulty_stage_and_alignment_the_statement() -> None:
    faulty = TWO_STAGES.replace("y[i * cols] = y[i * cols]", "y[i * cols + 1] = y[i * cols]")
    assert len(stages(parse(faulty, "cpp"), "k")) == 2
    found = localize(faulty, TWO_STAGES, "cpp", "k", args())
    assert found.status == "localized" and found.stage == 2 and found.kind == "index"
    assert "y[i * cols + 1]" in found.statement and found.runs >= 4


def test_a_missing_statement_is_structure_and_a_type_is_dtype() -> None:
    missing = TWO_STAGES.replace("{ y[i] = x[i] * 2.0f; }", "{ }")
    assert {d.kind for d in align(parse(missing, "cpp"), parse(TWO_STAGES, "cpp"))} == {"structure"}
    retyped = TWO_STAGES.replace("for (int i = 0; i < rows; i += 1)", "for (short i = 0; i < rows; i += 1)")
    assert [d.kind for d in align(parse(retyped, "cpp"), parse(TWO_STAGES, "cpp"))] == ["dtype"]


def test_repair_reports_a_diff_and_verifies() -> None:
    faulty = TWO_STAGES.replace("i < rows * cols", "i < rows * cols - 1")
    result = repair(faulty, TWO_STAGES, "cpp", "k", args())
    assert result.status == "repaired" and result.verified and result.fixes[0].kind == "loop_bound"
    assert "-    for (int i = 0; i < rows * cols - 1; i += 1) {" in result.diff
    assert "+    for (int i = 0; i < rows * cols; i += 1) {" in result.diff


def test_a_candidate_that_agrees_needs_no_repair() -> None:
    assert repair(TWO_STAGES, TWO_STAGES, "cpp", "k", args()).status == "agrees"
