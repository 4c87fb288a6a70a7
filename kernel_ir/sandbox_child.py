"""Child side of the sandbox: load the built library, call its entry on the arguments, save the pointers back.

Every array is copied into a buffer of its own. Under AddressSanitizer (a bounds-checked build) the buffers come
from the C allocator, which it watches to the byte. Otherwise each buffer ends where an inaccessible guard page
begins (its start 64-byte aligned for vector loads), so that reading or writing past the end of an argument,
as a host launcher copying more than the caller passed would, faults here instead of passing unnoticed.
"""
from __future__ import annotations

import ctypes
import json
import mmap
import os
import sys
from pathlib import Path

import numpy as np


ALIGNMENT = 64


def guarded_allocator():
    """`allocate(nbytes) -> address` of a buffer whose end touches a PROT_NONE page (or malloc under ASan)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if "ASAN_OPTIONS" in os.environ:
        libc.malloc.restype = ctypes.c_void_p
        libc.malloc.argtypes = [ctypes.c_size_t]
        return lambda nbytes: libc.malloc(max(nbytes, 1))
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    page = mmap.PAGESIZE

    def allocate(nbytes: int) -> int:
        span = -(-max(nbytes, 1) // ALIGNMENT) * ALIGNMENT
        pages = -(-span // page) + 1
        base = libc.mmap(None, pages * page, mmap.PROT_READ | mmap.PROT_WRITE,
                         mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
        if base in (None, ctypes.c_void_p(-1).value):
            raise MemoryError(f"cannot map {pages} pages for an argument")
        guard = base + (pages - 1) * page
        libc.mprotect(guard, page, 0)  # PROT_NONE
        return guard - span

    return allocate


def main(work: Path) -> None:
    spec = json.loads((work / "spec.json").read_text())
    allocate = guarded_allocator()
    library = ctypes.CDLL(spec["library"])
    pointers = (ctypes.c_void_p * max(spec["count"], 1))()
    buffers: dict[str, tuple[int, np.ndarray]] = {}
    keep_alive = []
    with np.load(work / "in.npz") as arrays:
        for key in arrays.files:
            array = np.ascontiguousarray(arrays[key])
            address = allocate(array.nbytes)
            ctypes.memmove(address, array.ctypes.data, array.nbytes)
            buffers[key] = (address, array)
            pointers[int(key[1:])] = address
    for key, (dtype, value) in spec["scalars"].items():
        cell = np.array([value], dtype=dtype)
        keep_alive.append(cell)
        pointers[int(key[1:])] = cell.ctypes.data
    (work / "buffers.json").write_text(json.dumps(
        {key: [address, array.nbytes, array.itemsize] for key, (address, array) in buffers.items()}))
    library.__xp_entry(pointers)
    results = {}
    for key, (address, array) in buffers.items():
        out = np.empty_like(array)
        ctypes.memmove(out.ctypes.data, address, array.nbytes)
        results[key] = out
    np.savez(work / "out.npz", **results)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
