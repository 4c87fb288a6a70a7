"""Launch geometry: CUDA/HIP thread and block indices and BANG task/core/cluster indices as range variables
bounded by the launch dimensions, and host code that allocates device buffers and launches a kernel."""

from __future__ import annotations

import sympy as sp

from kernel_ir.extents.conditions import Cond
from kernel_ir.extents.symbols import launch_symbol
from kernel_ir.extents.values import DimV, IntV, PtrV, Value, pointee_of
from kernel_ir.ir import BuiltinVar, Cast, Expr, KernelLaunch, NamedType, UnaryOp, Var


class LaunchRules:
    """Builtin index variables, kernel launches and allocations (a part of Analysis)."""

    def launch_dim(self, name: str) -> sp.Expr:
        symbol = launch_symbol(name)
        return self.launch.get(symbol, symbol)

    def builtin(self, node: BuiltinVar) -> Value:
        """threadIdx/blockIdx/taskId... are range variables in [0, dim - 1]; the dimensions are launch symbols."""
        name = node.name
        axis = node.axis or ""
        dims = {"threadIdx": "blockDim", "blockIdx": "gridDim"}
        if name in ("blockDim", "gridDim"):
            return IntV(self.launch_dim(f"{name}_{axis}"))
        if name in ("taskDim", "taskDimX", "taskDimY", "taskDimZ", "coreDim", "clusterDim"):
            return IntV(self.launch_dim(name))
        if name == "warpSize":
            return IntV(sp.Integer(64 if self.dialect == "hip" else 32))
        bounds = {"threadIdx": f"blockDim_{axis}", "blockIdx": f"gridDim_{axis}", "taskId": "taskDim",
                  "taskIdX": "taskDimX", "taskIdY": "taskDimY", "taskIdZ": "taskDimZ", "coreId": "coreDim",
                  "clusterId": "clusterDim"}
        if name not in bounds and name not in dims:
            return None
        key = f"{name}_{axis}" if axis else name
        if key not in self.builtins:
            self._builtin_rank += 1
            symbol = self.fresh(key, f"{name}.{axis}" if axis else name, rank=self._builtin_rank)
            self.builtins[key] = symbol
            self.builtin_atoms += [-symbol, symbol - self.launch_dim(bounds[name]) + 1]
        return IntV(self.builtins[key])

    def builtin_atom_conds(self) -> list[Cond]:
        return [((atom,),) for atom in self.builtin_atoms]

    def launch_kernel(self, s: KernelLaunch, path: tuple[Cond, ...]) -> None:
        """Follow a launch from host code only when a parameter's own memory reaches the kernel."""
        args = [self.ev(a, path) for a in s.args]
        if not any(isinstance(a, PtrV) and a.param is not None for a in args):
            return
        kernel = self.functions.get(s.kernel)
        if not kernel:
            for a in args:
                self.escape(a, path, f"it is passed to kernel {s.kernel}, whose body is not in the module")
            return
        grid, block = self.ev(s.config.grid, path), self.ev(s.config.block, path)
        saved = (self.launch, self.builtins, self.launch_given)
        launch = dict(self.launch)
        for name, value in (("gridDim", grid), ("blockDim", block)):
            dims = value.dims if isinstance(value, DimV) else (
                (value.expr, sp.Integer(1), sp.Integer(1)) if isinstance(value, IntV) else None)
            for axis, d in zip("xyz", dims or ()):
                launch[launch_symbol(f"{name}_{axis}")] = d
        self.launch, self.builtins, self.launch_given = launch, {}, True
        self.inline(kernel[0], args, (), path)
        self.launch, self.builtins, self.launch_given = saved

    def allocate(self, target: Expr, path: tuple[Cond, ...]) -> None:
        while isinstance(target, Cast):
            target = target.expr
        if isinstance(target, UnaryOp) and target.op == "&" and isinstance(target.operand, Var):
            name = target.operand.name
            self.set_var(name, PtrV(None, None, pointee_of(self.type_of(name) or NamedType("void"))))
