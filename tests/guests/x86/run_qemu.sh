#!/bin/sh
# Run one Tandem x86 test guest (a 128 KiB BIOS image) on QEMU, the reference.
#   run_qemu.sh <image.bin> [extra qemu args...]
# Prints the guest's COM1 output and exits with the guest's code: the guest
# writes n to the isa-debug-exit port (0xf4) and QEMU exits with (n << 1) | 1;
# this script turns that back into n (0 = PASS).  Other outcomes: 124 =
# timeout (TIMEOUT seconds, default 20), 125 = QEMU stopped without the
# exit port (e.g. a triple fault: -no-reboot), 126 = QEMU error.  QEMU's own
# start-up failure (status 1) reads as code 0: callers also require the
# guest's PASS line.
# QEMU=... overrides the binary; X86_CPU=... the -cpu model.
#
# The CPU model is the one Tandem's x86 CPU reports (docs/x86-cpu.md,
# "QEMU equivalent"); keep the two in step.
set -u
if [ $# -lt 1 ]; then
    echo "usage: $0 <image.bin> [qemu args...]" >&2
    exit 2
fi
img=$1
shift
if [ ! -f "$img" ]; then
    echo "$0: $img: no such file" >&2
    exit 2
fi
QEMU=${QEMU:-qemu-system-x86_64}
TIMEOUT=${TIMEOUT:-20}
CPU=${X86_CPU:-qemu64,vendor=GenuineIntel,family=6,model=15,stepping=11,model-id=Tandem Virtual CPU,xlevel=0x80000008,+ssse3,+sse4.1,+sse4.2,+popcnt,+cx16,+movbe,+xsave,+bmi1,+bmi2,+abm,+rdtscp,+pdpe1gb,-svm,-mce,-mca,-hypervisor}
timeout --foreground -k 2 "$TIMEOUT" "$QEMU" -M pc -accel tcg -cpu "$CPU" -m 128M \
    -display none -vga none -nic none -monitor none -serial stdio -no-reboot \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 -bios "$img" "$@"
st=$?
case $st in
    124) exit 124 ;;
    0) exit 125 ;;
esac
if [ $((st & 1)) -eq 1 ]; then
    exit $((st >> 1))
fi
exit 126
