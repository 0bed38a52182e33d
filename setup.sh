#!/usr/bin/env bash
# Tandem's two set-up commands (see README.md):
#   ./setup.sh demo   install dependencies, build, run the main job on a bundled guest
#   ./setup.sh test   install dependencies, build, run the whole test suite
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
  build-essential meson ninja-build pkg-config python3 python3-pexpect
  libglib2.0-dev libzstd-dev libslirp-dev libcap-dev libfdt-dev linux-libc-dev
  libcriterion-dev device-tree-compiler clang
  gcc-riscv64-linux-gnu binutils-riscv64-linux-gnu
  opensbi u-boot-qemu seabios qemu-system-misc qemu-system-x86 qemu-utils
)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

install_deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

build() {
  if [ ! -f build/build.ninja ]; then
    meson setup build
  fi
  ninja -C build
}

case "${1:-}" in
  demo)
    install_deps
    build
    exec tests/system/demo.sh build
    ;;
  test)
    install_deps
    build
    exec tests/run-all.sh build
    ;;
  *)
    echo "usage: $0 demo|test" >&2
    exit 2
    ;;
esac
