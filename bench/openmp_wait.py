"""How OpenMP's wait policy meets a shared machine: a standalone C program (no Python, no sandbox) times a 2-thread
`omp parallel for` add in-process, back to back, under each wait setting, and prints min / median / p90 ms.

libgomp's default (OMP_WAIT_POLICY unset) spins about 300,000 times after each region and at each barrier; where
other processes want the cores, the spinning threads burn their share and the thread a barrier waits for is back
only scheduler ticks later (4 ms at HZ=250), so a region of microseconds takes 4-24 ms. Passive waiting sleeps
at once, and pays a wake-up per region; kernel_ir.sandbox gives the children that run and time kernels a short
spin (OPENMP_WAIT_DEFAULTS). `--realtime` adds a control run under `chrt -f` (root only; seconds of SCHED_FIFO),
where no other process can take the cores: what the same program does on an idle machine.

    python bench/openmp_wait.py [--realtime]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kernel_ir.sandbox import OPENMP_WAIT_DEFAULTS, OPENMP_WAIT_SETTINGS  # noqa: E402

PROBE = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int by_value(const void* a, const void* b) {
    const double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}
int main(int argc, char** argv) {
    const int n = atoi(argv[1]), calls = 200;
    float *a = malloc(sizeof(float) * n), *b = malloc(sizeof(float) * n), *c = malloc(sizeof(float) * n);
    for (int i = 0; i < n; ++i) { a[i] = i; b[i] = 1; c[i] = 0; }
    double t[200];
    for (int r = 0; r < calls; ++r) {
        const double start = now();
        #pragma omp parallel for schedule(static)
        for (int i = 0; i < n; ++i) c[i] = a[i] + b[i];
        t[r] = now() - start;
    }
    qsort(t, calls, sizeof(double), by_value);
    printf("%.4f %.4f %.4f\n", t[0] * 1e3, t[calls / 2] * 1e3, t[calls * 9 / 10] * 1e3);
    return 0;
}
"""
SETTINGS = {"libgomp default (300,000 spins)": {},
            "the sandbox's: " + " ".join(f"{k}={v}" for k, v in OPENMP_WAIT_DEFAULTS.items()): OPENMP_WAIT_DEFAULTS,
            "OMP_WAIT_POLICY=passive (no spin)": {"OMP_WAIT_POLICY": "passive"}, "one thread": {"OMP_NUM_THREADS": "1"}}
SIZES = (4096, 1 << 22)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realtime", action="store_true", help="also run each under chrt -f 10 (root)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="xpiler-omp-wait-") as tmp:
        binary = Path(tmp) / "probe"
        (Path(tmp) / "probe.c").write_text(PROBE)
        subprocess.run(["gcc", "-O3", "-march=native", "-fopenmp", "-o", str(binary), str(Path(tmp) / "probe.c")],
                       check=True)
        base = {k: v for k, v in os.environ.items() if k not in (*OPENMP_WAIT_SETTINGS, "OMP_NUM_THREADS")}
        schedulers = [("shared", [])] + ([("SCHED_FIFO", [shutil.which("chrt") or "chrt", "-f", "10"])]
                                         if options.realtime else [])
        print(f"load average {'/'.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} cores")
        print("| scheduling | floats added | wait setting | min ms | median ms | p90 ms |\n|---|---|---|---|---|---|")
        for label, prefix in schedulers:
            for n in SIZES:
                for name, extra in SETTINGS.items():
                    out = subprocess.run([*prefix, str(binary), str(n)], env={**base, **extra}, check=True,
                                         capture_output=True, text=True).stdout.split()
                    print(f"| {label} | {n} | {name} | {' | '.join(out)} |", flush=True)


if __name__ == "__main__":
    main()
