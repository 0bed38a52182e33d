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

# meson test over one build, in two runs side by side where there are two
# cores or more: the nested-KVM tests (suite kvm: each boots an emulated
# host, run one at a time, as two of them side by side starve each other
# past their timeouts) on one core, everything else on the rest.  Run one
# after the other, the kvm tests' is_parallel:false left a core idle for a
# third of the suite.  On two cores the kvm run also takes the suites named
# in $2 (space-separated), to end about when the other does.  The kvm
# run's output follows the other's.
run_tests() {
  local b=$1 extra=$2; shift 2
  local n st=0 kvm_pid= s
  local with=(--suite kvm) without=(--no-suite kvm) names=kvm
  n=$(nproc)
  if [ "$n" -eq 2 ]; then
    for s in $extra; do with+=(--suite "$s"); without+=(--no-suite "$s"); names+=" $s"; done
  fi
  if [ "$n" -gt 1 ] && meson test -C "$b" --no-rebuild --list --suite kvm "$@" >/dev/null 2>&1; then
    meson test -C "$b" --no-rebuild --print-errorlogs --num-processes 1 \
      "${with[@]}" --logbase kvmlog "$@" >"$b/meson-logs/kvm-run.txt" 2>&1 &
    kvm_pid=$!
    meson test -C "$b" --no-rebuild --print-errorlogs --num-processes $((n - 1)) \
      "${without[@]}" "$@" || st=1
    wait "$kvm_pid" || st=1
    echo "run-all: the run of suites $names (beside the others):"
    cat "$b/meson-logs/kvm-run.txt"
    logs+=("$b/meson-logs/testlog.json" "$b/meson-logs/kvmlog.json")
  else
    meson test -C "$b" --no-rebuild --print-errorlogs --num-processes "$n" "$@" || st=1
    logs+=("$b/meson-logs/testlog.json")
  fi
  return $st
}

ninja -C "$builddir" || status=1
# (Suite times on the 2-core CI machine, session 12, normal build: kvm 415 s
# + kvm+slow 237 (the nested Linux boots run two to three times longer
# beside the other run than alone), system 105 + system+slow 35, unit 69,
# and the rest 663 s; so the kvm run takes the system suites: 792 s against
# 732.  ASan, without slow: kvm 517, unit 78, the rest 599.)
run_tests "$builddir" "system" || status=1

if [ "${TANDEM_SKIP_SANITIZERS:-0}" != 1 ]; then
  san=${builddir}-asan
  if [ ! -f "$san/build.ninja" ]; then
    meson setup "$san" -Db_sanitize=address,undefined -Db_lundef=false \
      -Dbuildtype=debugoptimized || status=1
  fi
  if ninja -C "$san"; then
    TANDEM_RR_REPLAYS=2 ASAN_OPTIONS=detect_leaks=1 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      run_tests "$san" "unit" --timeout-multiplier 3 --no-suite slow || status=1
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
failed = []
fuzz = int(sys.argv[1])
for path in sys.argv[2:]:
    try:
        lines = open(path).readlines()
    except OSError:
        f += 1
        failed.append(f"{path} (no test log)")
        continue
    build = path.split("/meson-logs/")[0]
    for line in lines:
        t = json.loads(line)
        res = t.get("result")
        if res in ("OK", "EXPECTEDFAIL"):
            p += 1
        elif res == "SKIP":
            s += 1
        else:
            f += 1
            failed.append(f"{build}: {t.get('name')} ({res}, "
                          f"{t.get('duration', 0):.0f} s)")
if fuzz == 1:
    p += 1
elif fuzz == 0:
    f += 1
    failed.append("the fuzzers")
# The failures again at the very end, where a log's tail shows them.
for name in failed:
    print(f"run-all: FAILED {name}")
print(f"tests: {p} passed, {f} failed" + (f", {s} skipped" if s else ""))
PY
exit $status
