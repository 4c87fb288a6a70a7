"""HIP printer: CUDA's tables with HIP headers, bfloat16 spelling and hipLaunchKernelGGL launches."""

from __future__ import annotations

from kernel_ir.dialects.cuda import CudaPrinter
from kernel_ir.ir import Const, DType, KernelLaunch


class HipPrinter(CudaPrinter):
    dialect = "hip"
    default_includes = ("<hip/hip_runtime.h>", "<hip/hip_fp16.h>")
    dtype_names = {**CudaPrinter.dtype_names, DType.bfloat16: "__hip_bfloat16"}

    def launch(self, s: KernelLaunch) -> str:
        name = self.kernel_name(s)
        if len(s.template_args) > 1:  # hipLaunchKernelGGL is a macro: protect the comma
            name = f"({name})"
        zero = Const(0, DType.int32)
        config = (s.config.grid, s.config.block, s.config.shared or zero, s.config.stream or zero)
        return f"hipLaunchKernelGGL({', '.join([name, self.args(config)] + ([self.args(s.args)] if s.args else []))})"
