"""C++ (AVX-512 / OpenMP) printer: plain C++ plus OpenMP pragmas for parallel loops set by passes."""

from __future__ import annotations

from kernel_ir.dialects.base import CPrinter
from kernel_ir.ir import BarrierKind, For, ForKind


UNROLL_DEFAULT = 16  # `#pragma unroll` without a count: short constant loops unroll completely, as with nvcc


class CppPrinter(CPrinter):
    dialect = "cpp"
    default_includes = ("<immintrin.h>", "<omp.h>", "<cmath>", "<cstdint>")
    barriers = {}

    def source_pragmas(self, pragmas: tuple[str, ...]) -> list[str]:
        """CUDA's `unroll [N]` is `GCC unroll N` to g++ (which ignores the former); g++ allows no second pragma
        beside an OpenMP one on the same loop, so there the OpenMP pragma wins."""
        openmp = any(text.split()[0] == "omp" for text in pragmas)
        spelled = []
        for text in pragmas:
            words = text.split()
            if words[0] == "unroll":
                if not openmp:
                    spelled.append(f"GCC unroll {words[1] if len(words) > 1 else UNROLL_DEFAULT}")
            else:
                spelled.append(text)
        return spelled

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
