#!/usr/bin/env bash
# Tandem's two set-up commands (see README.md):
#   ./setup.sh demo   install dependencies, build, run the main job on a bundled guest
#   ./setup.sh test   install dependencies, build, run the whole test suite
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
  build-essential meson ninja-build pkg-config python3 python3-pexpect
  libglib2.0-dev libzstd-dev zlib1g-dev libslirp-dev libcap-dev libfdt-dev linux-libc-dev
  libpulse-dev
  libcriterion-dev device-tree-compiler clang
  gcc-riscv64-linux-gnu binutils-riscv64-linux-gnu libc6-dev-riscv64-cross
  opensbi u-boot-qemu seabios qemu-system-misc qemu-system-x86 qemu-utils
  linux-image-amd64 busybox-static gdb-multiarch e2fsprogs
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

# The 32-bit Linux guest: Debian's i686 kernel and busybox-static for i386,
# unpacked (not installed) into .deps/i386/root with a private package list.
fetch_i386_linux() {
  local dir=.deps/i386
  [ -f "$dir/done" ] && return 0
  rm -rf "$dir" && mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/deb" "$dir/root"
  local o=(-o APT::Architecture=i386 -o APT::Architectures=i386
           -o "Dir::State::Lists=$PWD/$dir/lists" -o "Dir::Cache=$PWD/$dir/cache"
           -o Debug::NoLocking=1)
  echo "setup: fetching Debian's i686 kernel and busybox-static (i386) into $dir"
  # A mirror caught mid-sync can fail one index (security, say); the
  # download below says whether what we need was found.
  apt-get "${o[@]}" update -q >"$dir/update.log" 2>&1 || true
  local kpkg
  kpkg=$(apt-cache "${o[@]}" depends linux-image-686 2>/dev/null |
         awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
  if [ -z "$kpkg" ]; then
    echo "setup: cannot resolve linux-image-686 for i386 (see $dir/update.log)" >&2
    return 1
  fi
  (cd "$dir/deb" && apt-get "${o[@]}" download "$kpkg" busybox-static) >"$dir/download.log" 2>&1 || {
    echo "setup: apt-get download $kpkg busybox-static failed (see $dir/download.log)" >&2
    return 1
  }
  for f in "$dir"/deb/*.deb; do dpkg-deb -x "$f" "$dir/root"; done
  # Only the kernel image and busybox are used.
  rm -rf "$dir/root/lib/modules" "$dir/root/usr/lib/modules" "$dir/deb" "$dir/cache"
  touch "$dir/done"
}

# Userland for the riscv64 virt Linux tests: Debian's busybox-static for
# riscv64, unpacked (not installed) into .deps/riscv64/root the same way.
# riscv64 is a release architecture from Debian 13 (trixie) on, so this
# one list is trixie's whatever the host runs.
fetch_riscv64_busybox() {
  local dir=.deps/riscv64
  [ -f "$dir/done" ] && return 0
  rm -rf "$dir" && mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/deb" \
    "$dir/root" "$dir/sources.d"
  echo "deb http://deb.debian.org/debian trixie main" >"$dir/sources.list"
  local o=(-o APT::Architecture=riscv64 -o APT::Architectures=riscv64
           -o "Dir::State::Lists=$PWD/$dir/lists" -o "Dir::Cache=$PWD/$dir/cache"
           -o "Dir::Etc::SourceList=$PWD/$dir/sources.list"
           -o "Dir::Etc::SourceParts=$PWD/$dir/sources.d" -o Debug::NoLocking=1)
  echo "setup: fetching Debian's busybox-static (riscv64) into $dir"
  apt-get "${o[@]}" update -q >"$dir/update.log" 2>&1 || true
  (cd "$dir/deb" && apt-get "${o[@]}" download busybox-static) >"$dir/download.log" 2>&1 || {
    echo "setup: apt-get download busybox-static (riscv64) failed (see $dir/download.log)" >&2
    return 1
  }
  for f in "$dir"/deb/*.deb; do dpkg-deb -x "$f" "$dir/root"; done
  rm -rf "$dir/deb" "$dir/cache"
  touch "$dir/done"
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
    fetch_i386_linux
    fetch_riscv64_busybox
    build
    exec tests/run-all.sh build
    ;;
  *)
    echo "usage: $0 demo|test" >&2
    exit 2
    ;;
esac
