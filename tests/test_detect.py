"""Dialect detection from source text."""

from __future__ import annotations

import pathlib

import pytest

from kernel_ir.detect import detect_dialect

CORPUS = pathlib.Path(__file__).parent / "corpus"
CORPUS_DIALECTS = {".cu": "cuda", ".hip": "hip", ".mlu": "bang", ".cpp": "cpp"}


@pytest.mark.parametrize("source, expected", [
    ("__mlu_global__ void k(float* x) {}", "bang"),
    ("__nram__ float buf[64];", "bang"),
    ("void f(float* a) { __bang_add(a, a, a, 64); }", "bang"),
    ("#include <bang.h>\nvoid f() {}", "bang"),
    ('#include "hip/hip_runtime.h"\n__global__ void k() {}', "hip"),
    ("__global__ void k() {}\nvoid h() { hipLaunchKernelGGL(k, 1, 1, 0, 0); }", "hip"),
    ("void h(float** p) { hipMalloc(p, 4); }", "hip"),
    ("__global__ void k(float* x) { x[0] = __builtin_amdgcn_readfirstlane(1); }", "hip"),
    ("__global__ void k(float* x) { x[threadIdx.x] = 0; }", "cuda"),
    ("void h() { k<<<1, 32>>>(); }", "cuda"),
    ("#include <cuda_runtime.h>\nvoid f() {}", "cuda"),
    ("void h(float** p) { cudaMalloc(p, 4); }", "cuda"),
    ('#include <immintrin.h>\nextern "C" void f(float* x) { _mm512_storeu_ps(x, _mm512_setzero_ps()); }', "cpp"),
    ("int add(int a, int b) { return a + b; }", "cpp"),
])
def test_detect_dialect(source: str, expected: str) -> None:
    assert detect_dialect(source) == expected


def test_comments_do_not_count() -> None:
    source = "// unlike the __global__ CUDA version, and unlike hipMalloc(...)\nvoid f() {}\n/* __nram__ */"
    assert detect_dialect(source) == "cpp"


@pytest.mark.parametrize("path", sorted(p for p in CORPUS.glob("*/*") if p.suffix in CORPUS_DIALECTS),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_dialects_detected(path: pathlib.Path) -> None:
    assert detect_dialect(path.read_text()) == CORPUS_DIALECTS[path.suffix]
