#!/usr/bin/env bash
# Installs everything Xpiler needs on a fresh Debian machine; safe to run again (it skips what is there).
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=()
command -v g++ >/dev/null 2>&1 || apt_packages+=(g++)
if command -v g++ >/dev/null 2>&1; then
    asan=$(g++ -print-file-name=libasan.so)
    [ -e "$asan" ] || apt_packages+=(libasan8)
fi
if [ "${XPILER_WITH_HIPCC:-0}" = 1 ] && ! command -v hipcc >/dev/null 2>&1; then
    apt_packages+=(hipcc)
fi
if [ "${1:-}" = test ] && ! command -v chromium >/dev/null 2>&1; then
    apt_packages+=(chromium)  # Debian's browser for the JupyterLab test (Playwright drives it; it downloads none)
fi
if [ ${#apt_packages[@]} -gt 0 ]; then
    echo "setup: installing ${apt_packages[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_packages[@]}"
fi

extras=${1:-}
python3 -m pip install -q --disable-pip-version-check -e ".${extras:+[$extras]}"
