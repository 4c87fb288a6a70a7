"""Child side of the sandbox: load the built library, call its entry on the arguments, save the pointers back.

Arrays are copied into buffers from the C allocator so that a bounds-checked (AddressSanitizer) build sees the
exact extent of every argument.
"""
from __future__ import annotations

import ctypes
import json
import sys
from pathlib import Path

import numpy as np


def main(work: Path) -> None:
    spec = json.loads((work / "spec.json").read_text())
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    library = ctypes.CDLL(spec["library"])
    pointers = (ctypes.c_void_p * max(spec["count"], 1))()
    buffers: dict[str, tuple[int, np.ndarray]] = {}
    keep_alive = []
    with np.load(work / "in.npz") as arrays:
        for key in arrays.files:
            array = np.ascontiguousarray(arrays[key])
            address = libc.malloc(max(array.nbytes, 1))
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
