#!/usr/bin/env bash
# The GPU checks, as run on a lent CUDA machine (results in bench/results/gpu_native.md): first, alone, the timed
# parts of bench/gpu_native.py (TIMED_PARTS, default speed,tasks: translated vs hand-written CUDA, BANG sources on
# each task count; add tune for tuning on the GPU; at most TIMED_S seconds), then side by side (each at most
# PART_S seconds): the GPU tests, the executor against native runs of every CUDA kernel (fidelity), and the sweeps
# of bench/accuracy.py into CUDA (corpus and styles), whose results are verified on the CPU executor and natively
# on the GPU.
# Reports go to ${OUT:-/tmp/gpu-out} (the Markdown reports, the logs and JSON in logs.tgz). Python packages the machine lacks may travel in .whl/: wheels (installed into
# /tmp/site) or site.tar.xz (an unpacked site folder, smaller: the device call carries at most 64 MiB).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT"
export PYTHONPATH=$PWD
if [ -f .whl/site.tar.xz ]; then
    mkdir -p /tmp/site && tar xJf .whl/site.tar.xz -C /tmp/site || exit 1
    PYTHONPATH=/tmp/site:$PYTHONPATH
elif ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
    PYTHONPATH=/tmp/site:$PYTHONPATH
fi
export XPILER_CACHE_DIR=/tmp/xpiler-cache PYTHONUNBUFFERED=1
nvidia-smi -L; nvcc --version | tail -2; g++ --version | head -1; nproc
python3 -c "import numpy, sympy, z3, clang.cindex, skopt; print('numpy', numpy.__version__, 'sympy', sympy.__version__)" || exit 1
# The timed parts run alone, so nothing else shares the GPU while they measure; the checks then run side by side.
timeout "${TIMED_S:-200}" python3 bench/gpu_native.py --parts "${TIMED_PARTS:-speed,tasks}" --jobs 3 \
    --budget "${BUDGET:-6}" --out "$OUT/gpu_timed.md" > "$OUT/gpu_timed.log" 2>&1
seconds=${PART_S:-300}
directions=${DIRECTIONS:-hip-cuda,bang-cuda,cpp-cuda}
timeout "$seconds" python3 -m pytest -q -p no:cacheprovider tests/devices/test_devices.py -k "gpu and not remote" \
    > "$OUT/gpu_tests.log" 2>&1 &
timeout "$seconds" python3 bench/gpu_native.py --parts fidelity --jobs 3 --out "$OUT/gpu_fidelity.md" > "$OUT/gpu_fidelity.log" 2>&1 &
timeout "$seconds" python3 bench/accuracy.py --kernels styles --directions "$directions" --jobs 2 --timeout 200 \
    --json "$OUT/styles.json" --markdown "$OUT/styles.md" > /dev/null 2>&1 &
timeout "$seconds" python3 bench/accuracy.py --directions "$directions" --jobs "${JOBS:-8}" --timeout 200 \
    --json "$OUT/accuracy.json" --markdown "$OUT/accuracy.md" > "$OUT/accuracy.log" 2>&1
wait
for sweep in accuracy styles; do  # a sweep cut off by its timeout left its rows in JSON, not its table
    [ -f "$OUT/$sweep.md" ] || [ ! -f "$OUT/$sweep.json" ] || python3 bench/accuracy.py --resume "$OUT/$sweep.json" \
        --no-run --directions "$directions" $([ $sweep = styles ] && echo --kernels styles) --markdown "$OUT/$sweep.md" > /dev/null
done
tail -4 "$OUT/gpu_tests.log"
for report in accuracy styles gpu_fidelity gpu_timed; do echo "== $report"; tail -25 "$OUT/$report.md"; done
# At most 8 files come back from a device call: the logs and JSON travel as one archive.
(cd "$OUT" && files=$(ls ./*.log ./*.json 2>/dev/null); [ -n "$files" ] && tar czf logs.tgz $files && rm -f $files)
