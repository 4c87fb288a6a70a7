"""Which function a run calls, and how named host data binds to its parameters.

The default entry is what a caller links against: the `extern "C"` host launcher for CUDA/HIP, the
`__mlu_global__` kernel for BANG, the exported function for cpp. Arguments are matched by parameter name
(or arg0, arg1, ...) and converted to the parameter's type, so a float64 scalar from numpy becomes the `float eps`
the kernel declares.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .diagnostics import XpilerError
from .ir import DType, FuncQual, Function, Module, NamedType, PointerType, ScalarType, Type, VectorType

NUMPY_DTYPE = {
    DType.bool: "bool", DType.int8: "int8", DType.uint8: "uint8", DType.int16: "int16", DType.uint16: "uint16",
    DType.int32: "int32", DType.uint32: "uint32", DType.int64: "int64", DType.uint64: "uint64",
    DType.float16: "float16", DType.bfloat16: "uint16", DType.float32: "float32", DType.float64: "float64",
}


def _is_defined(f: Function) -> bool:
    return f.body is not None


def entry_candidates(module: Module) -> list[Function]:
    """Functions that could be the default entry, best kind first."""
    functions = [f for f in module.functions if _is_defined(f)]
    if module.dialect == "bang":
        return [f for f in functions if FuncQual.mlu_global in f.qualifiers]
    exported = [f for f in functions if FuncQual.extern_c in f.qualifiers
                and not {FuncQual.global_, FuncQual.device} & f.qualifiers]
    if exported or module.dialect == "cpp":
        return exported or [f for f in functions if FuncQual.static not in f.qualifiers and f.name != "main"]
    return [f for f in functions if FuncQual.global_ in f.qualifiers]


def find_entry(module: Module, name: str | None = None) -> Function:
    if name is not None:
        try:
            return module.function(name)
        except KeyError:
            known = ", ".join(f.name for f in module.functions if _is_defined(f)) or "none"
            raise XpilerError("XP404", f"no function named {name!r}", hint=f"functions defined: {known}") from None
    candidates = entry_candidates(module)
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise XpilerError("XP404", "no entry point found",
                          hint='define an extern "C" host function (CUDA/HIP/cpp) or a __mlu_global__ kernel (BANG), '
                               "or name one with --entry")
    names = ", ".join(f.name for f in candidates)
    raise XpilerError("XP405", f"several possible entry points: {names}", hint="choose one with --entry NAME")


def element_dtype(t: Type) -> str | None:
    """numpy dtype of what a pointer parameter points to (None when opaque, e.g. a template parameter)."""
    if isinstance(t, PointerType):
        t = t.pointee
    if isinstance(t, (ScalarType, VectorType)):
        return NUMPY_DTYPE.get(t.dtype)
    return None


def bind_arguments(entry: Function, values: Mapping[str, object]) -> list[tuple[str, object]]:
    """Order `values` (by parameter name, or arg0, arg1, ...) as the entry's parameters, with their types."""
    bound = []
    for i, param in enumerate(entry.params):
        key = param.name if param.name in values else f"arg{i}"
        if key not in values:
            raise XpilerError("XP406", f"no value for parameter {param.name!r} of {entry.name}",
                              hint=f"provide an array or scalar named {param.name!r} (or arg{i})")
        value = np.asarray(values[key])
        want = element_dtype(param.type)
        if isinstance(param.type, PointerType):
            if value.ndim == 0:
                raise XpilerError("XP407", f"parameter {param.name!r} is a pointer but was given a scalar")
            if want and value.dtype != np.dtype(want):
                raise XpilerError("XP408", f"parameter {param.name!r} points to {want} but the array is {value.dtype}",
                                  hint=f"convert it with .astype(np.{want})")
            bound.append((param.name, np.ascontiguousarray(value)))
        else:
            if value.ndim != 0 and value.size != 1:
                raise XpilerError("XP407", f"parameter {param.name!r} is a scalar but was given an array of shape {value.shape}")
            if isinstance(param.type, NamedType) or want is None:
                bound.append((param.name, value.reshape(())[()]))
            else:
                bound.append((param.name, np.dtype(want).type(value.reshape(())[()])))
    extra = set(values) - {p.name for p in entry.params} - {f"arg{i}" for i in range(len(entry.params))}
    if extra:
        raise XpilerError("XP409", f"{entry.name} has no parameter named {', '.join(sorted(extra))}",
                          hint="parameters: " + ", ".join(p.name for p in entry.params))
    return bound
