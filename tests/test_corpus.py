"""Every corpus kernel executes on the CPU executor and matches its numpy reference on every size set."""
from __future__ import annotations

import numpy as np
import pytest

from kernel_ir.diagnostics import XpilerError
from kernel_ir.executor import execute
from tests.corpus import corpus_files
from tests.corpus.specs import SPECS, expected_outputs, make_args, size_id


def corpus_cases() -> list:
    cases = []
    for dialect, op, path in corpus_files():
        spec = SPECS.get(op)
        sizes_list = spec.sizes if spec else ({},)
        for sizes in sizes_list:
            cases.append(pytest.param(dialect, op, path, sizes, id=f"{dialect}-{op}-{size_id(sizes)}"))
    return cases


def assert_matches(outputs: dict[str, np.ndarray], expected: dict[str, np.ndarray], rtol: float, atol: float) -> None:
    assert expected, "the reference produced no outputs: nothing would be checked"
    for name, want in expected.items():
        got = outputs[name]
        assert got.shape == want.shape and got.dtype == want.dtype, f"{name}: {got.shape}/{got.dtype} vs {want.shape}/{want.dtype}"
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=rtol, atol=atol, err_msg=name)


@pytest.mark.parametrize("dialect, op, path, sizes", corpus_cases())
def test_corpus_kernel_matches_reference(dialect: str, op: str, path, sizes) -> None:
    assert op in SPECS, f"{path.name} has no operator spec in tests/corpus/specs.py"
    spec = SPECS[op]
    args = make_args(spec, sizes)
    expected = expected_outputs(spec, args)
    outputs = execute(path.read_text(), dialect, op, args)
    assert_matches(outputs, expected, spec.rtol, spec.atol)


def test_corpus_covers_every_operator_in_every_dialect() -> None:
    have = {(d, op) for d, op, _ in corpus_files()}
    missing = sorted(f"{d}/{op}" for d in ("cuda", "hip", "bang", "cpp") for op in SPECS if (d, op) not in have)
    assert not missing, f"corpus kernels missing: {missing}"


def cpp_cases() -> list:
    return [pytest.param(op, path, SPECS[op].sizes[i], id=f"{op}-{size_id(SPECS[op].sizes[i])}")
            for _, op, path in corpus_files("cpp") if op in SPECS for i in (0, 1) if i < len(SPECS[op].sizes)]


@pytest.mark.parametrize("op, path, sizes", cpp_cases())
def test_cpp_kernel_natively_agrees_with_the_executor(op: str, path, sizes) -> None:
    """The same source built with the real intrinsics for this CPU (-march=native) and run natively."""
    spec = SPECS[op]
    args = make_args(spec, sizes)
    source = path.read_text()
    try:
        native = execute(source, "cpp", op, args, native=True)
    except XpilerError as err:
        if "target specific option mismatch" in err.message or "inlining failed" in err.message:
            pytest.skip(f"this CPU lacks an instruction set {op}.cpp uses")
        raise
    emulated = execute(source, "cpp", op, args)
    exact = all(np.issubdtype(v.dtype, np.integer) for v in native.values())
    for name in native:
        if exact:
            np.testing.assert_array_equal(emulated[name], native[name], err_msg=name)
        else:
            np.testing.assert_allclose(emulated[name], native[name], rtol=1e-5, atol=1e-6, err_msg=name)
    assert_matches(native, expected_outputs(spec, args), spec.rtol, spec.atol)
