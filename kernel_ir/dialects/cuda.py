"""CUDA printer: __global__/__device__ qualifiers, threadIdx-style builtins, `<<<>>>` launches."""

from __future__ import annotations

from kernel_ir.dialects.base import CPrinter
from kernel_ir.ir import BarrierKind, Const, DType, FuncQual, KernelLaunch, MemScope


class CudaPrinter(CPrinter):
    dialect = "cuda"
    default_includes = ("<cuda_runtime.h>", "<cuda_fp16.h>")
    dtype_names = {**CPrinter.dtype_names, DType.float16: "half", DType.bfloat16: "__nv_bfloat16"}
    function_qualifiers = {
        **CPrinter.function_qualifiers, FuncQual.global_: "__global__", FuncQual.device: "__device__",
        FuncQual.host: "__host__", FuncQual.forceinline: "__forceinline__", FuncQual.noinline: "__noinline__",
    }
    scope_qualifiers = {**CPrinter.scope_qualifiers, MemScope.global_: "__device__", MemScope.shared: "__shared__",
                        MemScope.constant: "__constant__"}
    builtin_vars = frozenset({"threadIdx", "blockIdx", "blockDim", "gridDim", "warpSize"})
    barriers = {BarrierKind.syncthreads: "__syncthreads", BarrierKind.syncwarp: "__syncwarp",
                BarrierKind.sync_grid: "cooperative_groups::this_grid().sync"}
    attribute_spellings = {"launch_bounds": "__launch_bounds__"}

    def launch(self, s: KernelLaunch) -> str:
        config = [s.config.grid, s.config.block]
        if s.config.shared is not None or s.config.stream is not None:
            config.append(s.config.shared if s.config.shared is not None else Const(0, DType.int32))
        if s.config.stream is not None:
            config.append(s.config.stream)
        return f"{self.kernel_name(s)}<<<{self.args(tuple(config))}>>>({self.args(s.args)})"

