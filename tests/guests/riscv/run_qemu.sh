#!/bin/sh
# Run one Tandem RISC-V test guest on QEMU (the reference).
#   run_qemu.sh <elf> <xlen 32|64> [extra qemu args...]
# Prints the guest's UART output and exits with the guest's exit status
# (SiFive test finisher: 0 = pass, n = fail code); 124 on timeout
# (TIMEOUT seconds, default 10).  QEMU=... overrides the binary.
#
# The CPU is trimmed to what Tandem implements: RV{32,64}IMAFDC, Zicsr,
# Zifencei, Zihintpause, M/S/U, Sv32/Sv39/Sv48, 16 PMP entries, priv 1.12.
# Off: H, Sstc, Zba/Zbb/Zbc/Zbs, debug triggers (Sdtrig), HPM counters,
# Svinval/Svnapot/Svpbmt, Zfh, V (the last ones are off by default in 7.2
# already; named so that a newer QEMU does not bring them back).
#
# -smp 2: with a single vCPU QEMU expands AMOs into a plain load + store and
# reports a misaligned AMO as a *load* misaligned exception (cause 4); with
# two vCPUs (MTTCG) it uses real atomics and reports the architectural
# store/AMO misaligned (cause 6).  The guests park every hart but hart 0
# in crt0, so the second hart changes nothing else.
set -u
if [ $# -lt 2 ]; then
    echo "usage: $0 <elf> <32|64> [qemu args...]" >&2
    exit 2
fi
elf=$1
xlen=$2
shift 2
case "$xlen" in
    32|64) ;;
    *) echo "$0: xlen must be 32 or 64" >&2; exit 2 ;;
esac
if [ ! -f "$elf" ]; then
    echo "$0: $elf: no such file" >&2
    exit 2
fi
QEMU=${QEMU:-qemu-system-riscv$xlen}
TIMEOUT=${TIMEOUT:-10}
CPU="rv$xlen,priv_spec=v1.12.0,h=false,sstc=false,zba=false,zbb=false,zbc=false,zbs=false"
CPU="$CPU,debug=false,pmu-num=0,svinval=false,svnapot=false,svpbmt=false"
CPU="$CPU,Zfh=false,Zfhmin=false,v=false"
exec timeout --foreground -k 2 "$TIMEOUT" "$QEMU" -M virt -smp 2 -m 128M \
    -cpu "$CPU" -nographic -monitor none -serial stdio -nic none \
    -bios "$elf" "$@"
