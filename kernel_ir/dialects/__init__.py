"""Per-dialect printers of the kernel IR: `print_module(module, dialect=None) -> str`."""

from __future__ import annotations

from kernel_ir.dialects.bang import BangPrinter
from kernel_ir.dialects.base import CPrinter, PrintError
from kernel_ir.dialects.cpp import CppPrinter
from kernel_ir.dialects.cuda import CudaPrinter
from kernel_ir.dialects.hip import HipPrinter
from kernel_ir.ir import Module

PRINTERS: dict[str, type[CPrinter]] = {"cuda": CudaPrinter, "hip": HipPrinter, "bang": BangPrinter,
                                       "cpp": CppPrinter}


def get_printer(dialect: str, module_dialect: str | None = None) -> CPrinter:
    if dialect not in PRINTERS:
        raise ValueError(f"unknown dialect {dialect!r}; expected one of {sorted(PRINTERS)}")
    return PRINTERS[dialect](module_dialect)


def print_module(module: Module, dialect: str | None = None) -> str:
    """C source of `module` in `dialect` (default: the module's own). Raises PrintError if inexpressible."""
    target = dialect or module.dialect
    return get_printer(target, module.dialect).module(module)


__all__ = ["PRINTERS", "CPrinter", "PrintError", "get_printer", "print_module"]
