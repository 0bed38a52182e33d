#!/usr/bin/env bash
# The main job on a bundled guest: Debian's OpenSBI and U-Boot on the RISC-V
# virt board, driven on the serial console.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/../.."
export TANDEM_BUILD=$(cd "$build" && pwd)
export PYTHONPATH=tests/system
echo "demo: booting OpenSBI + U-Boot (S-mode) on tandem-system-riscv64 -M virt"
python3 tests/system/test_uboot.py fw_jump
echo "demo: done (the U-Boot session log is in $build/meson-logs/uboot-fw_jump.serial.log)"
