"""Printed code is real code: every corpus kernel, parsed and printed back, compiles with its platform's compiler
and computes the same as numpy on the executor."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from kernel_ir.dialects import print_module
from kernel_ir.executor import execute
from kernel_ir.parse import parse
from tests.corpus import DIALECT_SUFFIX, corpus_files
from tests.corpus.specs import SPECS, expected_outputs, make_args
from tests.test_corpus import assert_matches

X86_FLAGS = ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mavx512vnni", "-mavx2", "-mfma", "-mf16c"]
COMPILERS = {  # compile only: no GPU is needed to compile, and these flags do not require this CPU to run
    "cuda": ("nvcc", lambda src, out: ["nvcc", "-c", "-arch=sm_80", "-o", out, src], {}),
    "hip": ("hipcc", lambda src, out: ["hipcc", "--offload-arch=gfx90a", "-c", "-o", out, src], {"HIP_PLATFORM": "amd"}),
    "cpp": ("g++", lambda src, out: ["g++", "-std=c++17", "-O1", "-fopenmp", *X86_FLAGS, "-c", "-o", out, src], {}),
}


def printed(path, dialect: str) -> str:
    return print_module(parse(path.read_text(), dialect))


@pytest.mark.parametrize("dialect, op, path", [pytest.param(d, op, p, id=f"{d}-{op}")
                                               for d, op, p in corpus_files() if d in COMPILERS])
def test_printed_kernel_compiles_with_the_platform_compiler(dialect, op, path, tmp_path) -> None:
    tool, command, env = COMPILERS[dialect]
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed")
    src = tmp_path / f"printed{DIALECT_SUFFIX[dialect]}"
    src.write_text(printed(path, dialect))
    proc = subprocess.run(command(str(src), str(tmp_path / "printed.o")), capture_output=True, text=True,
                          env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.mark.parametrize("dialect, op, path", [pytest.param(d, op, p, id=f"{d}-{op}") for d, op, p in corpus_files()])
def test_printed_kernel_executes_like_the_reference(dialect, op, path) -> None:
    spec = SPECS[op]
    args = make_args(spec, spec.sizes[1])  # the size set with tails
    outputs = execute(printed(path, dialect), dialect, op, args)
    assert_matches(outputs, expected_outputs(spec, args), spec.rtol, spec.atol)
