#!/usr/bin/env bash
# The main job: install, then run the embedded example end to end and print the evidence.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
xpile demo
