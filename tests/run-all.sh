#!/usr/bin/env bash
# The whole suite:
#   1. unit, guest, system and record/replay tests on the normal build;
#   2. the same suite once more on an ASan+UBSan build (fewer replays),
#      without the 'slow' suite (Linux guests that take minutes there);
#   3. the fuzzers (log reader, qcow2 driver) for a bounded time, shared
#      between them (TANDEM_FUZZ_SECONDS, 60).
# Prints one closing line "tests: N passed, N failed" over all of them.
set -uo pipefail
builddir=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
status=0
logs=()

meson test -C "$builddir" --print-errorlogs --num-processes "$(nproc)" || status=1
logs+=("$builddir/meson-logs/testlog.json")

if [ "${TANDEM_SKIP_SANITIZERS:-0}" != 1 ]; then
  san=${builddir}-asan
  if [ ! -f "$san/build.ninja" ]; then
    meson setup "$san" -Db_sanitize=address,undefined -Db_lundef=false \
      -Dbuildtype=debugoptimized || status=1
  fi
  if ninja -C "$san"; then
    TANDEM_RR_REPLAYS=2 ASAN_OPTIONS=detect_leaks=1 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      meson test -C "$san" --print-errorlogs --num-processes "$(nproc)" \
      --timeout-multiplier 3 --no-suite slow || status=1
    logs+=("$san/meson-logs/testlog.json")
  else
    echo "run-all: the ASan+UBSan build failed"; status=1
  fi
fi

fuzz_ok=-1
if [ "${TANDEM_FUZZ_SECONDS:-60}" != 0 ]; then
  if FUZZ_OUT="$builddir-fuzz" tests/fuzz/run.sh "${TANDEM_FUZZ_SECONDS:-60}"; then
    fuzz_ok=1
  else
    fuzz_ok=0; status=1
  fi
fi

python3 - "$fuzz_ok" "${logs[@]}" <<'PY'
import json, sys
p = f = s = 0
fuzz = int(sys.argv[1])
for path in sys.argv[2:]:
    try:
        lines = open(path).readlines()
    except OSError:
        f += 1
        continue
    for line in lines:
        res = json.loads(line).get("result")
        if res in ("OK", "EXPECTEDFAIL"):
            p += 1
        elif res == "SKIP":
            s += 1
        else:
            f += 1
if fuzz == 1:
    p += 1
elif fuzz == 0:
    f += 1
print(f"tests: {p} passed, {f} failed" + (f", {s} skipped" if s else ""))
PY
exit $status
