"""Child side of `devices.timing.time_library`: load the library, call it warm-up + repeat times, save the seconds
of every timed call. Buffers are reused across calls: only the time is kept, never the results."""
from __future__ import annotations

import ctypes
import json
import sys
from pathlib import Path

import numpy as np

from devices.timing import EVENTS, Repeats, reported_clock, time_calls, wall_clock
from kernel_ir.native_gpu import EVENT_TIMED_ENTRY
from kernel_ir.sandbox import RUNTIME_ERROR_EXIT


def main(work: Path) -> None:
    spec = json.loads((work / "spec.json").read_text())
    library = ctypes.CDLL(spec["library"])
    pointers = (ctypes.c_void_p * max(spec["count"], 1))()
    keep_alive = []
    with np.load(work / "in.npz") as arrays:
        for key in arrays.files:
            keep_alive.append(np.ascontiguousarray(arrays[key]))
            pointers[int(key[1:])] = keep_alive[-1].ctypes.data
    for key, (dtype, value) in spec["scalars"].items():
        keep_alive.append(np.array([value], dtype=dtype))
        pointers[int(key[1:])] = keep_alive[-1].ctypes.data
    repeats = Repeats(**spec["repeats"])
    if spec["clock"] == EVENTS:
        timed_entry = getattr(library, EVENT_TIMED_ENTRY)
        timed_entry.restype = ctypes.c_double
        times = time_calls(lambda: event_seconds(timed_entry, pointers), repeats, reported_clock)
    else:
        times = time_calls(lambda: library.__xp_entry(pointers), repeats, wall_clock)
    (work / "times.json").write_text(json.dumps(times))


def event_seconds(timed_entry, pointers) -> float:
    seconds = timed_entry(pointers)
    if seconds < 0:
        print("xpiler runtime error: the GPU runtime reported an error while timing with events", flush=True)
        sys.exit(RUNTIME_ERROR_EXIT)
    return seconds


if __name__ == "__main__":
    main(Path(sys.argv[1]))
