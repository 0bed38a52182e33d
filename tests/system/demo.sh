#!/usr/bin/env bash
# The main job on a bundled guest: record and replay an interactive
# OpenSBI + U-Boot session on tandem-system-riscv64 -M virt.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/../.."
export TANDEM_BUILD=$(cd "$build" && pwd)
export PYTHONPATH=tests/system
exec python3 tests/system/demo.py
