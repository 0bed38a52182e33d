#!/bin/sh
# Hybrid-replay checks on a host with its own /dev/kvm (and perhaps a PMU).
#
#   tests/kvm/host-check.sh [--quick]
#
# Reads the build from $TANDEM_BUILD (default ./build).  Prints what the
# host offers (CPU, virtualisation flags, /dev/kvm, perf events), runs
# tandem-pmu-probe (the PMU counting rules of interp/icount.md, checked on
# this CPU), and where /dev/kvm opens runs the KVM tests directly on this
# host instead of in the nested harness (tests/kvm/direct.py): the KVM unit
# test, every x86 test guest under -accel kvm against the interpreter, the
# interpreter<->KVM switch test, interpreted recordings replayed on KVM, and
# the cpu-bound guest's time on KVM against the interpreter's, and where
# the PMU counter works bench/kvm-pmu-replay (hybrid replay's speed).  --quick
# leaves out the switch test.
#
# Exit status: 0 every check that could run passed; 1 a check failed;
# 2 this host has no usable /dev/kvm (only the probe ran).
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
B=${TANDEM_BUILD:-$repo/build}
export TANDEM_BUILD="$B"
quick=0
[ "${1:-}" = "--quick" ] && quick=1
py=${PYTHON:-python3}
status=0
step() { printf '\n== %s\n' "$*"; }
result() {  # name status
    if [ "$2" -eq 0 ]; then echo "host-check: $1: passed"
    else echo "host-check: $1: FAILED (status $2)"; status=1; fi
}

step "host"
uname -srm
grep -m1 '^model name' /proc/cpuinfo
printf 'cpu flags of note:'
for f in vmx svm hypervisor arch_perfmon pdcm; do
    grep -m1 '^flags' /proc/cpuinfo | grep -qw "$f" && printf ' %s' "$f"
done
echo
echo "perf_event_paranoid: $(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo 'absent')"
echo "perf event sources: $(ls /sys/bus/event_source/devices 2>/dev/null | tr '\n' ' ')"
ls -l /dev/kvm 2>&1

step "tandem-pmu-probe"
"$B/kvm/tandem-pmu-probe"
probe=$?
echo "host-check: tandem-pmu-probe exit $probe (0 rules confirmed, 1 a rule disagrees, 2 no PMU event)"
[ "$probe" -eq 1 ] && status=1

if ! $py -c 'import os; os.close(os.open("/dev/kvm", os.O_RDWR))' 2>/dev/null; then
    echo "host-check: /dev/kvm cannot be opened here: no KVM checks on this host"
    [ "$status" -eq 0 ] && status=2
    exit $status
fi

if [ -d /sys/module/kvm_pvm ] && ! [ -d /sys/module/kvm_intel ] && ! [ -d /sys/module/kvm_amd ]; then
    echo "host-check: /dev/kvm is PVM (kvm_pvm), which runs only PVM guest kernels: no KVM checks on this host"
    [ "$status" -eq 0 ] && status=2
    exit $status
fi

imgs=$(ls "$B"/tests/guests/x86/*.bin)
rr_imgs=""
for g in x86_boot-lm64 x86_cpuid-lm64 x86_paging-pm32 x86_priv-pm32; do
    rr_imgs="$rr_imgs $B/tests/guests/x86/$g.bin"
done
# Free runs on hardware: every guest without x87 code (the harness keeps
# those that fault or far-jump out, tests/system/test_rr_kvm_x86.py), with
# breakpoints and, where the probe found the counter, with the PMU.
for g in x86_alu-pm32 x86_alu-lm64 x86_boot-lm64 x86_cpuid-lm64 x86_paging-pm32 \
         x86_paging-lm64 x86_priv-pm32 x86_smc-lm64 x86_sse-pm32 x86_sse-lm64 x86_land-lm64; do
    rr_imgs="$rr_imgs $B/tests/guests/x86/$g.bin:land"
    [ "$probe" -ne 2 ] && rr_imgs="$rr_imgs $B/tests/guests/x86/$g.bin:pmu"
done
rr_imgs="$rr_imgs $B/tests/guests/x86/x86_land-lm64.bin:fault"
strict=""
grep -m1 '^vendor_id' /proc/cpuinfo | grep -q GenuineIntel && strict="--strict"

step "kvm_smoke"
"$B/tests/kvm/kvm_smoke"; result kvm_smoke $?
step "test_kvm_x86 (unit)"
"$B/tests/unit/test_kvm_x86" --verbose=0; result test_kvm_x86 $?
step "every test guest on KVM against the interpreter"
# shellcheck disable=SC2086
$py "$repo/tests/system/test_kvm_guests_x86.py" --nested "$here/direct.py" $strict \
    --timeout 240 $imgs; result kvm-guests-x86 $?
if [ $quick -eq 0 ]; then
    step "interpreter <-> KVM switch test"
    # shellcheck disable=SC2086
    $py "$repo/tests/system/test_kvm_switch_x86.py" --nested "$here/direct.py" $strict \
        --timeout 300 $imgs; result kvm-switch-x86 $?
fi
step "interpreted recordings replayed on KVM"
# shellcheck disable=SC2086
$py "$repo/tests/system/test_rr_kvm_x86.py" --nested "$here/direct.py" \
    --timeout 600 $rr_imgs; result rr-kvm-x86 $?

if [ "$probe" -ne 2 ]; then
    step "hybrid replay with the PMU counter against interpreted replay and native KVM"
    $py "$repo/bench/kvm-pmu-replay" --build "$B" --runs 3; result kvm-pmu-replay $?
fi

step "cpu-bound guest: KVM against the interpreter"
for accel in kvm tcg; do
    $py - "$B/tandem-system-x86_64" "$B/bench/cpu_loop-x86_64.bin" "$accel" <<'EOF'
import re, subprocess, sys, time
exe, img, accel = sys.argv[1:]
t0 = time.monotonic()
r = subprocess.run([exe, "-M", "pc", "-m", "128M", "-nographic", "-monitor", "none",
                    "-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                    "-accel", accel, "-bios", img], capture_output=True, text=True)
m = re.search(r"checksum ([0-9a-f]+)", r.stdout)
print(f"cpu_loop -accel {accel}: {time.monotonic() - t0:.2f} s, status {r.returncode}, "
      f"checksum {m.group(1) if m else 'missing'}")
EOF
done
exit $status
