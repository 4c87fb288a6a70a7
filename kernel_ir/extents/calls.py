"""Calls: helpers of the module are interpreted inline with their arguments bound; min/max become Min/Max;
memory intrinsics record accesses; any other function a parameter's pointer reaches makes its extent unknown."""

from __future__ import annotations

import sympy as sp

from kernel_ir.extents.conditions import TRUE, Cond, strict_and
from kernel_ir.extents.intrinsics import X86_MEMORY
from kernel_ir.extents.symbols import Max, Min
from kernel_ir.extents.values import TYPE_NODES, Frame, IntV, PtrV, RefV, Value
from kernel_ir.ir import Call, Function, ReferenceType, Type, UnaryOp, Var

_MIN_NAMES = {"min", "std::min", "::min", "imin", "umin", "llmin", "__min"}
_MAX_NAMES = {"max", "std::max", "::max", "imax", "umax", "llmax", "__max"}
_PASS_THROUGH = {"_cvtu32_mask16", "_cvtu32_mask8", "_cvtu64_mask64", "_cvtu32_mask32", "_load_mask16",
                 "std::move"}
_HOST_COPIES = {"cudaMemcpy", "cudaMemcpyAsync", "hipMemcpy", "hipMemcpyAsync", "hipMemcpyHtoD", "hipMemcpyDtoH",
                "hipMemcpyHtoDAsync", "hipMemcpyDtoHAsync", "cudaMemcpyToSymbol", "hipMemcpyToSymbol"}
_BYTE_COPIES = {"memcpy", "std::memcpy", "memmove", "std::memmove", "__builtin_memcpy"}
_BYTE_SETS = {"memset", "std::memset", "__builtin_memset", "cudaMemset", "hipMemset"}
_ALLOCATORS = {"cudaMalloc", "hipMalloc", "cudaMallocManaged", "hipMallocManaged", "cudaMallocHost",
               "hipHostMalloc", "posix_memalign"}
# Functions that take a pointer without touching what it points to (or only NRAM/device memory).
_NO_TOUCH = {"cudaFree", "hipFree", "free", "std::free", "cudaFreeHost", "hipHostFree", "_mm_prefetch",
             "__builtin_prefetch", "printf", "std::printf", "assert"}

_CALL_DEPTH = 12


class CallRules:
    """Function calls (a part of Analysis)."""

    def call(self, e: Call, path: tuple[Cond, ...]) -> Value:
        """Helpers of the module are interpreted; memory intrinsics record accesses; others are opaque."""
        name = e.name
        if name in self.functions:
            candidates = [f for f in self.functions[name] if len(f.params) >= len(e.args)] or self.functions[name]
            callee = candidates[0]
            args = []
            for i, node in enumerate(e.args):
                param_type = callee.params[i].type if i < len(callee.params) else None
                if isinstance(param_type, ReferenceType) and isinstance(node, Var) and node.name in self.frame.env:
                    current = self.frame.env[node.name]
                    args.append(current if isinstance(current, RefV) and current.auto
                                else RefV(self.frame, node.name, auto=True))
                else:
                    args.append(self.ev(node, path))
            return self.inline(callee, args, e.template_args, path)
        if name in _MIN_NAMES | _MAX_NAMES and len(e.args) == 2:
            a, b = (self.ev(x, path) for x in e.args)
            if isinstance(a, IntV) and isinstance(b, IntV):
                return IntV((Min if name in _MIN_NAMES else Max)(a.expr, b.expr))
            return None
        if name in _PASS_THROUGH and e.args:
            return self.ev(e.args[0], path)
        match = X86_MEMORY.match(name)
        if match:
            return self.x86_memory(match, e, path)
        if name in ("__memcpy", "__memcpy_async"):
            return self.bang_copy(e, path)
        if name in _HOST_COPIES or name in _BYTE_COPIES:
            return self.byte_copy(e, path, host=name in _HOST_COPIES)
        if name in _BYTE_SETS and len(e.args) >= 3:
            dst, _, size = (self.ev(a, path) for a in e.args[:3])
            self.record(dst, size.expr if isinstance(size, IntV) else None, path, False, True, what=name)
            return None
        if name in ("std::fill", "std::fill_n", "std::copy", "std::copy_n") and len(e.args) == 3:
            return self.std_algorithm(name, e, path)
        if name in _ALLOCATORS and e.args:
            self.allocate(e.args[0], path)
            for a in e.args[1:]:
                self.ev(a, path)
            return None
        if name.startswith(("atomic", "__ldg", "__stcg", "__ldcg")) and e.args:
            pointer = self.ev(e.args[0], path)
            for a in e.args[1:]:
                self.ev(a, path)
            if isinstance(pointer, PtrV):
                write = not name.startswith(("__ldg", "__ldcg"))
                self.record(pointer, sp.Integer(pointer.elem) if pointer.elem else None, path, True, write,
                            what=name)
                return self.loaded(pointer.pointee, name) if not write or name.startswith("atomic") else None
            return None
        return self.unknown_call(e, path)

    def unknown_call(self, e: Call, path: tuple[Cond, ...]) -> Value:
        for a in e.args:
            if isinstance(a, UnaryOp) and a.op == "&" and isinstance(a.operand, Var):
                self.havoc({a.operand.name}, f"is written by {e.name}")
                continue
            value = self.ev(a, path)
            if e.name not in _NO_TOUCH and not e.name.startswith("__bang_"):
                self.escape(value, path, f"it is passed to {e.name}, which the analysis does not model")
        return None

    def inline(self, f: Function, args: list[Value], template_args: tuple, path: tuple[Cond, ...]) -> Value:
        """Interpret a call of a function defined in the module with its arguments bound."""
        if len(self.frames) > _CALL_DEPTH or f.body is None:
            for a in args:
                self.escape(a, path, f"calls nest too deeply at {f.name}")
            return None
        env: dict[str, Value] = {}
        types: dict[str, Type] = {}
        for i, p in enumerate(f.params):
            value = args[i] if i < len(args) else (self.ev(p.default, path) if p.default is not None else None)
            types[p.name] = p.type
            env[p.name] = value
        for tp, targ in zip(f.template_params, template_args):
            if tp.type is not None and not isinstance(targ, TYPE_NODES):
                env[tp.name] = self.ev(targ, path)
                types[tp.name] = tp.type
        frame = Frame({}, types, len(path))
        self.frames.append(frame)
        frame.env = {name: self.retype(value, types.get(name)) for name, value in env.items()}
        saved_loops, self.loops = self.loops, []
        try:
            self.exec_block(f.body, path)
        finally:
            self.frames.pop()
            self.loops = saved_loops
        return self.returned(frame.returns)

    def returned(self, returns: list[tuple[tuple[Cond, ...], Value]]) -> Value:
        """The value of a call: the returns folded into nested choices on the conditions that reach them."""
        if not returns:
            return None
        result = returns[-1][1]
        for conds, value in reversed(returns[:-1]):
            reach: Cond = TRUE
            for c in conds:
                reach = strict_and(reach, c) if c is not None else reach
            result = self.choose(reach, value, result)
        return result
