#!/usr/bin/env bash
# Builds the log-reader fuzzer (libFuzzer, ASan, UBSan) and runs it.
#
#   tests/fuzz/run.sh [SECONDS]      default 60
#
# Builds into $FUZZ_OUT (default build-fuzz/ at the top of the tree), seeds
# the corpus with valid logs from gen_seeds, keeps the grown corpus there
# between runs, and exits non-zero on any crash, leak, hang or sanitizer
# report (the reproducer lands in $FUZZ_OUT/artifacts/).
set -euo pipefail

secs=${1:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${FUZZ_OUT:-$root/build-fuzz}
cc=${CC:-clang}

mkdir -p "$out/corpus" "$out/seeds" "$out/artifacts"
cflags=(-std=gnu11 -g -O1 -D_GNU_SOURCE -I"$root"
        -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)
read -r -a pkgcflags <<< "$(pkg-config --cflags glib-2.0 libzstd)"
read -r -a pkglibs <<< "$(pkg-config --libs glib-2.0 libzstd)"
srcs=("$root"/rr/log*.c "$root/rr/crc32c.c" "$root/vmm/options.c" "$root/vmm/gdbstub_spec.c"
      "$root/block/drive_spec.c" "$root/net/net_spec.c")
san=(-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all)

"$cc" "${cflags[@]}" "${pkgcflags[@]}" "${san[@]}" -o "$out/fuzz_log" \
    "$root/tests/fuzz/fuzz_log.c" "${srcs[@]}" "${pkglibs[@]}"
"$cc" "${cflags[@]}" "${pkgcflags[@]}" -o "$out/gen_seeds" \
    "$root/tests/fuzz/gen_seeds.c" "${srcs[@]}" "${pkglibs[@]}"
"$out/gen_seeds" "$out/seeds"

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
exec "$out/fuzz_log" -max_len=65536 -max_total_time="$secs" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/" "$out/corpus" "$out/seeds"
