#!/usr/bin/env bash
# The GPU checks, as run on a lent CUDA machine (results in bench/results/gpu_native.md): the GPU tests; the timed
# parts of bench/gpu_native.py (translated vs hand-written CUDA, tuning on the GPU) next to the corpus sweep of
# bench/accuracy.py, whose CUDA results are verified on the CPU executor and natively; then, if asked
# (PARTS=fidelity), the executor against native runs of every CUDA kernel. Reports go to ${OUT:-/tmp/gpu-out}.
# Python packages the machine lacks may sit as wheels in .whl/ (installed into /tmp/site).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT"
if ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD
else
    export PYTHONPATH=$PWD
fi
export XPILER_CACHE_DIR=/tmp/xpiler-cache PYTHONUNBUFFERED=1
nvidia-smi -L; nvcc --version | tail -2; g++ --version | head -1; nproc
python3 -c "import numpy, sympy, clang.cindex, skopt; print('numpy', numpy.__version__, 'sympy', sympy.__version__)" || exit 1
timeout 120 python3 -m pytest -q -p no:cacheprovider tests/devices/test_devices.py -k "gpu and not remote" 2>&1 | tail -4
timeout "${TIMED_S:-280}" python3 bench/gpu_native.py --parts speed,tune --jobs 3 --budget "${BUDGET:-6}" \
    --out "$OUT/gpu_timed.md" > "$OUT/gpu_timed.log" 2>&1 &
directions=${DIRECTIONS:+--directions $DIRECTIONS}
timeout "${ACCURACY_S:-280}" python3 bench/accuracy.py $directions --jobs "${JOBS:-12}" --timeout 200 \
    --json "$OUT/accuracy.json" --markdown "$OUT/accuracy.md" > "$OUT/accuracy.log" 2>&1
tail -22 "$OUT/accuracy.md"
wait
tail -40 "$OUT/gpu_timed.log"
if [[ "${PARTS:-}" == *fidelity* ]]; then
    timeout "${FIDELITY_S:-200}" python3 bench/gpu_native.py --parts fidelity --jobs 12 --out "$OUT/gpu_fidelity.md" 2>&1 | tail -8
fi
