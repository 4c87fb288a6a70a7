"""Guess a kernel source's dialect from its text (no parsing), so parse() works without being told."""

from __future__ import annotations

import re

_BANG = re.compile(r"__mlu_global__|__mlu_func__|__mlu_entry__|__nram__|__wram__|__mlu_shared__|\b__bang_\w+|"
                   r"#\s*include\s*[<\"](?:bang|mlu)\.h[>\"]|\b(?:GDRAM2NRAM|NRAM2GDRAM)\b")
_HIP = re.compile(r"\bhipLaunchKernelGGL\b|\bhip[A-Z]\w*\s*\(|#\s*include\s*[<\"]hip/|\b__builtin_amdgcn_\w+|"
                  r"\bhipThreadIdx_[xyz]\b|\bhipStream_t\b")
_CUDA = re.compile(r"__global__|__device__|__shared__|\bthreadIdx\b|\bblockIdx\b|<<<|#\s*include\s*[<\"]cuda|"
                   r"\bcuda[A-Z]\w*\s*\(")


def detect_dialect(source: str) -> str:
    """'bang', 'hip', 'cuda' or 'cpp' (the most specific dialect whose markers appear wins)."""
    text = _without_comments(source)
    if _BANG.search(text):
        return "bang"
    if _HIP.search(text):
        return "hip"
    if _CUDA.search(text):
        return "cuda"
    return "cpp"


def _without_comments(source: str) -> str:
    return re.sub(r"//[^\n]*|/\*.*?\*/", " ", source, flags=re.S)
