#!/usr/bin/env bash
# Runs the whole suite (unit, guest, system tests) through meson and prints
# one closing line "N passed, N failed".
set -uo pipefail
builddir=${1:-build}
meson test -C "$builddir" --print-errorlogs --num-processes "$(nproc)"
rc=$?
python3 - "$builddir/meson-logs/testlog.json" <<'PY'
import json, sys
p = f = s = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    res = r.get("result")
    if res in ("OK", "EXPECTEDFAIL"):
        p += 1
    elif res == "SKIP":
        s += 1
    else:
        f += 1
print(f"tests: {p} passed, {f} failed" + (f", {s} skipped" if s else ""))
PY
exit $rc
