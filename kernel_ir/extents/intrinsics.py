"""Memory intrinsics and their footprints: memcpy and the CUDA/HIP host copies (which size a host buffer),
BANG `__memcpy` (strided 2-D and 3-D forms), AVX/AVX-512 loads and stores (masked ones count the lanes their
mask can enable), and std::fill/copy."""

from __future__ import annotations

import re

import sympy as sp

from kernel_ir.extents.conditions import Cond
from kernel_ir.extents.symbols import Min, Sel
from kernel_ir.extents.values import IntV, PtrV, Value
from kernel_ir.ir import Call

# x86 loads/stores are recognised by name: _mm{512,256,}_[mask_|maskz_]{load,loadu,store,storeu,stream}_<type>.
X86_MEMORY = re.compile(r"^_mm(512|256)?_(mask_|maskz_)?(load|loadu|store|storeu|stream|lddqu)_"
                        r"(ps|pd|ph|ss|sd|si512|si256|si128|epi8|epi16|epi32|epi64)$")
_X86_LANE_BYTES = {"ps": 4, "pd": 8, "ph": 2, "epi8": 1, "epi16": 2, "epi32": 4, "epi64": 8}


class IntrinsicRules:
    """Accesses of the memory intrinsics (a part of Analysis)."""

    def byte_copy(self, e: Call, path: tuple[Cond, ...], host: bool) -> Value:
        """memcpy(dst, src, bytes) and the CUDA/HIP host copies; a host copy sizes the host buffer."""
        values = [self.ev(a, path) for a in e.args]
        if e.name in ("cudaMemcpyToSymbol", "hipMemcpyToSymbol"):
            src, size = values[1], values[2] if len(values) > 2 else None
            self.record(src, size.expr if isinstance(size, IntV) else None, path, True, False, copy=True,
                        what=e.name)
            return None
        if len(values) < 3:
            return None
        dst, src, size = values[:3]
        length = size.expr if isinstance(size, IntV) else None
        self.record(dst, length, path, False, True, copy=host, what=e.name)
        self.record(src, length, path, True, False, copy=host, what=e.name)
        return None

    def bang_copy(self, e: Call, path: tuple[Cond, ...]) -> Value:
        """__memcpy(dst, src, size, dir[, dst_stride, src_stride, segnum | 3-D form][, cluster])."""
        values = [self.ev(a, path) for a in e.args]
        ints = [v.expr if isinstance(v, IntV) else None for v in values]
        dst, src, size = values[0], values[1], ints[2]
        if len(values) in (4, 5):
            spans = (size, size)
        elif len(values) in (7, 8):
            dst_stride, src_stride, segnum = ints[4], ints[5], ints[6]
            spans = (_span(size, (dst_stride, segnum)), _span(size, (src_stride, segnum)))
        elif len(values) in (12, 13):
            spans = (_span(size, (ints[4], ints[5]), (ints[6], ints[7])),
                     _span(size, (ints[8], ints[9]), (ints[10], ints[11])))
        else:
            spans = (None, None)
        self.record(dst, spans[0], path, False, True, what="__memcpy")
        self.record(src, spans[1], path, True, False, what="__memcpy")
        return None

    def x86_memory(self, match: re.Match, e: Call, path: tuple[Cond, ...]) -> Value:
        """An AVX/AVX-512 load or store: the full vector, or the lanes its mask can enable."""
        width_bits, masking, action, kind = match.groups()
        width = {"512": 64, "256": 32}.get(width_bits or "", 16)
        if kind in ("ss", "sd"):
            width = 4 if kind == "ss" else 8
        values = [self.ev(a, path) for a in e.args]
        store = action.startswith(("store", "stream"))
        if store:
            pointer, mask = values[0], (values[1] if masking else None)
        else:
            pointer = values[-1]
            mask = values[0] if masking == "maskz_" else (values[1] if masking == "mask_" else None)
        length: sp.Expr | None = sp.Integer(width)
        exact = True
        if masking and kind in _X86_LANE_BYTES:
            lanes = width // _X86_LANE_BYTES[kind]
            count = _mask_lanes(mask.expr, lanes) if isinstance(mask, IntV) else None
            exact = count is not None
            length = (count if exact else sp.Integer(lanes)) * _X86_LANE_BYTES[kind]
        self.record(pointer, length, path, not store, store, what=e.name, exact=exact)
        return None

    def std_algorithm(self, name: str, e: Call, path: tuple[Cond, ...]) -> Value:
        """std::fill/copy(_n) over pointer ranges."""
        first, second, third = (self.ev(a, path) for a in e.args)
        if name in ("std::fill_n", "std::copy_n"):
            count = second.expr if isinstance(second, IntV) else None
            elem = first.elem if isinstance(first, PtrV) else None
            length = count * elem if count is not None and elem else None
            target = third if name == "std::copy_n" else first
            if name == "std::copy_n":
                self.record(first, length, path, True, False, what=name)
            self.record(target, length, path, False, True, what=name)
            return None
        length = None
        if isinstance(first, PtrV) and isinstance(second, PtrV) and None not in (first.offset, second.offset):
            length = second.offset - first.offset
        if name == "std::copy":
            self.record(first, length, path, True, False, what=name)
            self.record(third, length, path, False, True, what=name)
        else:
            self.record(first, length, path, False, True, what=name)
        return None


def _span(size: sp.Expr | None, *strides: tuple[sp.Expr | None, sp.Expr | None]) -> sp.Expr | None:
    """Bytes spanned by a strided copy: size + sum(stride_i * segnum_i)."""
    if size is None or any(s is None or n is None for s, n in strides):
        return None
    return size + sum((s * n for s, n in strides), sp.Integer(0))


def _mask_lanes(mask: sp.Expr, lanes: int) -> sp.Expr | None:
    """How many leading lanes a mask value can enable: 2^k - 1 enables k, a constant up to its highest bit,
    a choice either side's count; None for any other mask (all lanes bound it, not exactly: the lanes it
    enables may have gaps, or end before the last)."""
    if mask.is_Integer:
        return sp.Integer(min(lanes, (int(mask) & ((1 << lanes) - 1)).bit_length()))
    if isinstance(mask, Sel):
        k, a, b = mask.args
        sides = (_mask_lanes(a, lanes), _mask_lanes(b, lanes))
        return None if None in sides else Sel(k, *sides)
    plus_one = mask + 1
    if plus_one.is_Pow and plus_one.base == 2:
        return Min(plus_one.exp, lanes)
    return None
