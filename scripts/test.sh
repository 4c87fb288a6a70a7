#!/usr/bin/env bash
# Installs everything the tests need (hipcc included, to compile printed HIP), then runs the whole suite.
set -uo pipefail
cd "$(dirname "$0")/.."
XPILER_WITH_HIPCC=1 bash scripts/setup.sh test || exit 1
export XPILER_CACHE_DIR="${XPILER_CACHE_DIR:-$(mktemp -d)}"  # a clean build cache: nothing is reused from earlier runs
# one test process per core (pytest-xdist): most tests wait on g++ or a sandboxed kernel, one core each
python3 -m pytest -q -p no:cacheprovider -n "${XPILER_TEST_WORKERS:-$(nproc)}" --durations=25 "$@"
status=$?
if [ $status -eq 5 ]; then
    echo "test.sh: pytest collected no tests; that checks nothing, so it counts as a failure" >&2
    exit 1
fi
exit $status
