"""C++ (AVX-512 / OpenMP) printer: plain C++ plus OpenMP pragmas for parallel loops set by passes."""

from __future__ import annotations

from kernel_ir.dialects.base import CPrinter
from kernel_ir.ir import BarrierKind, For, ForKind


class CppPrinter(CPrinter):
    dialect = "cpp"
    default_includes = ("<immintrin.h>", "<omp.h>", "<cmath>", "<cstdint>")
    barriers = {}

    def loop_pragmas(self, s: For) -> list[str]:
        if s.kind == ForKind.parallel:
            return ["omp parallel for"]
        if s.kind == ForKind.vectorized:
            return ["omp simd"]
        if s.kind == ForKind.unrolled:
            return ["GCC unroll 8"]
        return []

    def barrier(self, s) -> str:
        if s.kind == BarrierKind.syncthreads:
            return "_Pragma(\"omp barrier\")"
        return super().barrier(s)
