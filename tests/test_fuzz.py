"""Fuzzing the front end and the executor with 1000 damaged corpus kernels (issue 8's bad-input guarantee):
no uncaught exception, no hang, and every failure carries a diagnostic code."""
from __future__ import annotations

import numpy as np
import pytest

from kernel_ir.diagnostics import XpilerError
from kernel_ir.executor import execute
from kernel_ir.parse import ParseError, parse
from tests.corpus import corpus_files
from tests.corpus.specs import SPECS, make_args
from tests.fuzz import mutants

MUTANTS = 1000
EXECUTED = 40  # of the mutants that still parse, this many are also built and run (each costs a compile)


@pytest.fixture(scope="module")
def fuzz_results() -> dict:
    files = corpus_files()
    corpus = [(f"{d}/{op}", p.read_text()) for d, op, p in files]
    results = {"parsed": [], "rejected": 0, "uncoded": [], "crashed": []}
    for m in mutants(corpus, MUTANTS, seed=2026):
        dialect = m.origin.split("/")[0]
        try:
            parse(m.source, dialect)
            results["parsed"].append(m)
        except ParseError as err:
            results["rejected"] += 1
            if not err.diagnostics or not all(d.code.startswith("XP") and d.message for d in err.diagnostics):
                results["uncoded"].append(m)
        except Exception as err:  # noqa: BLE001 - the point of the test is that nothing else escapes
            results["crashed"].append((m, repr(err)))
    return results


def test_every_mutant_is_parsed_or_rejected_with_a_code(fuzz_results) -> None:
    assert fuzz_results["rejected"] + len(fuzz_results["parsed"]) == MUTANTS
    assert not fuzz_results["crashed"], fuzz_results["crashed"][:5]
    assert not fuzz_results["uncoded"]
    assert fuzz_results["rejected"] > MUTANTS // 4, "the mutations should break many kernels; did they mutate?"


def test_mutants_that_parse_run_or_fail_with_a_code(fuzz_results) -> None:
    sample = fuzz_results["parsed"][:: max(1, len(fuzz_results["parsed"]) // EXECUTED)][:EXECUTED]
    outcomes = {"ran": 0, "diagnosed": 0}
    for m in sample:
        dialect, op = m.origin.split("/")
        args = make_args(SPECS[op], SPECS[op].sizes[0])
        try:
            execute(m.source, dialect, op, args, timeout_s=20)
            outcomes["ran"] += 1
        except XpilerError as err:
            assert err.code.startswith("XP") and err.diagnostic.message, m
            outcomes["diagnosed"] += 1
    assert sum(outcomes.values()) == len(sample) >= EXECUTED // 2
