"""Child side of `devices.timing.time_library`: load the library, call `__xp_entry` warm-up + repeat times, save
the seconds of every timed call. Buffers are reused across calls: only the time is kept, never the results."""
from __future__ import annotations

import ctypes
import json
import sys
from pathlib import Path

import numpy as np

from devices.timing import Repeats, time_calls


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
    repeats = Repeats(spec["warmup"], spec["repeats"], spec["min_time_s"], spec["max_time_s"], spec["max_repeats"])
    times = time_calls(lambda: library.__xp_entry(pointers), repeats)
    (work / "times.json").write_text(json.dumps(times))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
