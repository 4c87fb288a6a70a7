"""Kernels written in varied styles (tests/styles/) run like numpy on the executor and translate, verified by
execution, to every other dialect. A direction that cannot translate a kernel must refuse with the coded reason
listed in KNOWN_REFUSALS (the honest list of what is not supported yet); anything else is a failure."""
from __future__ import annotations

import numpy as np
import pytest

from kernel_ir.diagnostics import XpilerError
from kernel_ir.executor import execute
from passes.translate import DIALECTS, translate
from passes.verify import verify
from tests.corpus.specs import expected_outputs, make_args
from tests.styles.specs import SPECS, style_kernels

KERNELS = style_kernels()
# (source dialect, kernel, target) -> (code, why): constructs the translator refuses today, each for a stated reason.
KNOWN_REFUSALS: dict[tuple[str, str, str], tuple[str, str]] = {
    **{("cpp", "walk_scan", target): ("XP524", "a pointer walked by ++ inside the loop: the device copy of the "
                                      "buffer behind it cannot be sized")
       for target in ("cuda", "hip")},
}


@pytest.mark.parametrize("dialect,name,path", KERNELS, ids=[f"{d}-{n}" for d, n, _ in KERNELS])
def test_style_kernel_matches_numpy(dialect: str, name: str, path) -> None:
    spec = SPECS[name]
    args = make_args(spec, spec.sizes[0])
    got = execute(path.read_text(), dialect, name, args)
    for output, want in expected_outputs(spec, args).items():
        np.testing.assert_allclose(got[output], want, rtol=spec.rtol, atol=spec.atol)


CASES = [(d, n, p, t) for d, n, p in KERNELS for t in DIALECTS if t != d]


@pytest.mark.parametrize("dialect,name,path,target", CASES, ids=[f"{d}-{t}-{n}" for d, n, _, t in CASES])
def test_style_kernel_translates_verified(dialect: str, name: str, path, target: str) -> None:
    source = path.read_text()
    known = KNOWN_REFUSALS.get((dialect, name, target))
    if known is not None:
        with pytest.raises(XpilerError) as refused:
            translate(source, target, dialect, native_compile=False)
        assert refused.value.code == known[0], refused.value.diagnostic
        return
    result = translate(source, target, dialect, native_compile=False)
    assert result.entry == name and all(c.ok is not False for c in result.compile_results), result.compile_results
    spec = SPECS[name]
    check = verify(source, dialect, result.code, target, name, args=make_args(spec, spec.sizes[0]),
                   rtol=spec.rtol, atol=spec.atol)
    assert check.status == "verified", f"{check.reason}\n{result.code}"
