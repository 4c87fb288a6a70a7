"""BANG C printer: __mlu_global__/__mlu_func__ functions, NRAM/WRAM/SRAM buffers, task builtins, __sync_*."""

from __future__ import annotations

from kernel_ir.dialects.base import CPrinter
from kernel_ir.ir import BarrierKind, DType, FuncQual, MemScope


class BangPrinter(CPrinter):
    dialect = "bang"
    default_includes = ("<bang.h>",)
    dtype_names = {**CPrinter.dtype_names, DType.float16: "half", DType.bfloat16: "bfloat16_t"}
    function_qualifiers = {
        **CPrinter.function_qualifiers, FuncQual.mlu_global: "__mlu_global__", FuncQual.mlu_func: "__mlu_func__",
        FuncQual.mlu_device: "__mlu_device__",
    }
    scope_qualifiers = {**CPrinter.scope_qualifiers, MemScope.nram: "__nram__", MemScope.wram: "__wram__",
                        MemScope.ldram: "__ldram__", MemScope.mlu_shared: "__mlu_shared__",
                        MemScope.constant: "__mlu_const__", MemScope.global_: "__mlu_device__"}
    builtin_vars = frozenset({"taskId", "taskIdX", "taskIdY", "taskIdZ", "taskDim", "taskDimX", "taskDimY",
                              "taskDimZ", "coreId", "coreDim", "clusterId", "clusterDim"})
    barriers = {BarrierKind.sync_all: "__sync_all", BarrierKind.sync_cluster: "__sync_cluster",
                BarrierKind.sync_compute: "__sync_compute"}
