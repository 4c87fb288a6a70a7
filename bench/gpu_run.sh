#!/usr/bin/env bash
# The GPU checks, as run on a lent CUDA machine (results in bench/results/gpu_native.md):
# the GPU tests, the executor against native runs (bench/gpu_native.py), translations into CUDA verified on the
# CPU executor and natively (bench/accuracy.py), then the timed parts. Writes its reports to ${OUT:-/tmp/gpu-out}.
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
timeout "${ACCURACY_S:-300}" python3 bench/accuracy.py --directions cpp-cuda,hip-cuda,bang-cuda --jobs 8 --timeout 240 \
    --json "$OUT/accuracy_cuda.json" --markdown "$OUT/accuracy_cuda.md" > "$OUT/accuracy_cuda.log" 2>&1 &
timeout "${FIDELITY_S:-200}" python3 bench/gpu_native.py --parts fidelity --jobs 8 --out "$OUT/gpu_fidelity.md" 2>&1 | tail -70
wait
tail -25 "$OUT/accuracy_cuda.log"
timeout "${TIMED_S:-220}" python3 bench/gpu_native.py --parts speed,tune --jobs 6 --budget "${BUDGET:-6}" \
    --out "$OUT/gpu_timed.md" 2>&1 | tail -40
