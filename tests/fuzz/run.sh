#!/usr/bin/env bash
# Builds the fuzzers (libFuzzer, ASan, UBSan) and runs them one after the
# other, sharing the time:
#
#   tests/fuzz/run.sh [SECONDS [FUZZER...]]    default 60, log and qcow2
#
#   log     the record/replay log reader (fuzz_log.c, seeds from gen_seeds)
#   qcow2   the qcow2 driver (fuzz_qcow2.c, seeds made by qemu-img here)
#
# Builds into $FUZZ_OUT (default build-fuzz/ at the top of the tree), keeps
# each fuzzer's grown corpus there between runs (corpus/, corpus-qcow2/),
# and exits non-zero on any crash, leak, hang or sanitizer report (the
# reproducer lands in $FUZZ_OUT/artifacts/).
set -euo pipefail

secs=${1:-60}
shift || true
fuzzers=("$@")
[ ${#fuzzers[@]} -gt 0 ] || fuzzers=(log qcow2)
for f in "${fuzzers[@]}"; do
  case $f in
    log|qcow2) ;;
    *) echo "run.sh: unknown fuzzer '$f' (log or qcow2)" >&2; exit 2 ;;
  esac
done
each=$(( secs / ${#fuzzers[@]} ))
[ "$each" -gt 0 ] || each=1

root=$(cd "$(dirname "$0")/../.." && pwd)
out=${FUZZ_OUT:-$root/build-fuzz}
cc=${CC:-clang}

mkdir -p "$out/artifacts"
cflags=(-std=gnu11 -g -O1 -D_GNU_SOURCE -I"$root"
        -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)
san=(-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all)
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

fuzz_log() {
  mkdir -p "$out/corpus" "$out/seeds"
  local pkgcflags pkglibs
  read -r -a pkgcflags <<< "$(pkg-config --cflags glib-2.0 libzstd)"
  read -r -a pkglibs <<< "$(pkg-config --libs glib-2.0 libzstd)"
  local srcs=("$root"/rr/log*.c "$root/rr/crc32c.c" "$root/vmm/options.c"
              "$root/vmm/gdbstub_spec.c" "$root/block/drive_spec.c" "$root/net/net_spec.c"
              "$root/audio/audio_spec.c")
  "$cc" "${cflags[@]}" "${pkgcflags[@]}" "${san[@]}" -o "$out/fuzz_log" \
      "$root/tests/fuzz/fuzz_log.c" "${srcs[@]}" "${pkglibs[@]}"
  "$cc" "${cflags[@]}" "${pkgcflags[@]}" -o "$out/gen_seeds" \
      "$root/tests/fuzz/gen_seeds.c" "${srcs[@]}" "${pkglibs[@]}"
  "$out/gen_seeds" "$out/seeds"
  "$out/fuzz_log" -max_len=65536 -max_total_time="$each" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$out/artifacts/" "$out/corpus" "$out/seeds"
}

# One seed: flags, the length of a (32-bit little-endian), a, then b.
pack() {
  python3 - "$@" <<'PY'
import struct, sys
out, flags, a = sys.argv[1], int(sys.argv[2]), open(sys.argv[3], "rb").read()
b = open(sys.argv[4], "rb").read() if len(sys.argv) > 4 else b""
open(out, "wb").write(bytes([flags]) + struct.pack("<I", len(a)) + a + b)
PY
}

# Valid images made by qemu-img and qemu-io, small clusters mostly (the
# fuzzer mutates every byte of its input): v2 and v3, zero clusters,
# compressed clusters, internal snapshots, backing chains, loops.
qcow2_seeds() {
  local s=$1 w=$1/work
  if ! command -v qemu-img >/dev/null || ! command -v qemu-io >/dev/null; then
    echo "run.sh: the qcow2 seeds need qemu-img and qemu-io (Debian: qemu-utils)" >&2
    return 1
  fi
  rm -rf "$w" && mkdir -p "$w"
  (
    cd "$w"
    q() { qemu-io -f qcow2 "$@" >/dev/null; }
    head -c 65536 /dev/urandom > r.raw
    for compat in 0.10 1.1; do
      for cs in 512 4096; do
        n=v$compat-$cs.qcow2
        qemu-img create -q -f qcow2 -o compat=$compat,cluster_size=$cs "$n" 64k
        q -c 'write -P 0x5a 0 3k' -c 'write -P 0x11 40k 1k' "$n"
      done
    done
    qemu-img create -q -f qcow2 -o cluster_size=512,refcount_bits=1 rc1.qcow2 32k
    q -c 'write -P 7 1k 2k' rc1.qcow2
    qemu-img create -q -f qcow2 -o cluster_size=512 z.qcow2 64k
    q -c 'write -P 3 0 8k' -c 'write -z 1k 2k' -c 'write -z -u 4k 1k' z.qcow2
    qemu-img convert -q -c -f raw -O qcow2 -o cluster_size=4096 r.raw c.qcow2
    qemu-img create -q -f qcow2 -o cluster_size=512 s.qcow2 32k
    q -c 'write -P 1 0 2k' s.qcow2
    qemu-img snapshot -c one s.qcow2
    q -c 'write -P 2 1k 2k' s.qcow2
    qemu-img snapshot -c two s.qcow2
    qemu-img create -q -f qcow2 -o cluster_size=512 base.qcow2 64k
    q -c 'write -P 9 0 6k' base.qcow2
    cp base.qcow2 b
    qemu-img create -q -f qcow2 -o cluster_size=512 -b b -F qcow2 top.qcow2 64k
    q -c 'write -P 8 2k 3k' top.qcow2
    qemu-img create -q -f qcow2 -o cluster_size=512 -b b -F raw topraw.qcow2 64k
    qemu-img create -q -f qcow2 -o cluster_size=512 -b a -F qcow2 -u self.qcow2 64k
    qemu-img create -q -f qcow2 -o cluster_size=512 -b b -F qcow2 -u loop-a.qcow2 64k
    qemu-img create -q -f qcow2 -o cluster_size=512 -b a -F qcow2 -u loop-b.qcow2 64k
    qemu-img create -q -f qcow2 -o cluster_size=512 -b b -F qcow2 -u mid.qcow2 64k
  )
  local f flags
  for f in v0.10-512 v0.10-4096 v1.1-512 v1.1-4096 rc1 z c s; do
    for flags in 0 2 10 6 18; do
      pack "$s/$f.$flags" $flags "$w/$f.qcow2"
    done
  done
  for flags in 3 11 7; do
    pack "$s/top.$flags" $flags "$w/top.qcow2" "$w/base.qcow2"
    pack "$s/topraw.$flags" $flags "$w/topraw.qcow2" "$w/r.raw"
    pack "$s/loop.$flags" $flags "$w/loop-a.qcow2" "$w/loop-b.qcow2"
    pack "$s/probe-loop.$flags" $flags "$w/mid.qcow2" "$w/top.qcow2"
  done
  pack "$s/self.2" 2 "$w/self.qcow2"
  pack "$s/raw.2" 2 "$w/r.raw"
  rm -rf "$w"
}

fuzz_qcow2() {
  mkdir -p "$out/corpus-qcow2" "$out/seeds-qcow2"
  local pkgcflags pkglibs
  read -r -a pkgcflags <<< "$(pkg-config --cflags glib-2.0 zlib)"
  read -r -a pkglibs <<< "$(pkg-config --libs glib-2.0 zlib)"
  local srcs=("$root"/block/block.c "$root"/block/raw.c "$root"/block/qcow2*.c)
  "$cc" "${cflags[@]}" "${pkgcflags[@]}" "${san[@]}" -Wl,--wrap=blk_fd_pwrite \
      -o "$out/fuzz_qcow2" "$root/tests/fuzz/fuzz_qcow2.c" "${srcs[@]}" "${pkglibs[@]}"
  qcow2_seeds "$out/seeds-qcow2"
  "$out/fuzz_qcow2" -max_len=262144 -max_total_time="$each" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$out/artifacts/" "$out/corpus-qcow2" "$out/seeds-qcow2"
}

# Each in its own process, where set -e holds (it does not in "f || ...").
status=0
for f in "${fuzzers[@]}"; do
  "fuzz_$f" &
  wait $! || status=1
done
exit $status
