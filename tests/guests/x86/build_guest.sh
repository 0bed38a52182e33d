#!/bin/sh
# Build one x86 test guest into a 128 KiB BIOS image.
#   build_guest.sh <rm16|pm32|lm64> <out.elf> <out.bin> <source...> [-- cflags...]
# The runtime (common/) is added here.  CC (default gcc) and OBJCOPY
# (default objcopy) may be overridden.
set -eu
if [ $# -lt 4 ]; then
    echo "usage: $0 <rm16|pm32|lm64> <out.elf> <out.bin> <source...> [-- cflags...]" >&2
    exit 2
fi
mode=$1 elf=$2 bin=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
common=$here/common
CC=${CC:-gcc}
OBJCOPY=${OBJCOPY:-objcopy}
srcs=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    srcs="$srcs $1"
    shift
done
[ $# -gt 0 ] && shift
case "$mode" in
    pm32) mflags="-m32 -mgeneral-regs-only"
          rt="$common/start.S $common/trap.S $common/regs.S $common/rt.c"
          ld="$common/link.ld" ;;
    lm64) mflags="-m64 -mno-red-zone -mgeneral-regs-only -mcmodel=small"
          rt="$common/start.S $common/trap.S $common/regs.S $common/rt.c"
          ld="$common/link.ld" ;;
    rm16) mflags="-m16 -mgeneral-regs-only -DRT_RM16"
          rt="$common/start.S $common/regs.S $common/rt.c"
          ld="$common/link_rm16.ld" ;;
    *) echo "$0: unknown mode $mode" >&2; exit 2 ;;
esac
# shellcheck disable=SC2086
"$CC" $mflags -DRT_MODE_NAME="\"$mode\"" -O2 -g -Wall -Wextra -Werror \
    -ffreestanding -fno-builtin -fno-pic -fno-pie -no-pie -fno-stack-protector \
    -fno-asynchronous-unwind-tables -fno-tree-loop-distribute-patterns \
    -fno-jump-tables --param=min-pagesize=0 -nostdlib -nostartfiles -static \
    -Wl,--build-id=none -Wl,--no-warn-rwx-segments -Wl,-T,"$ld" \
    -I"$common" -I"$here" "$@" -o "$elf" $rt $srcs
"$OBJCOPY" -O binary "$elf" "$bin"
size=$(wc -c < "$bin")
if [ "$size" -ne 131072 ]; then
    echo "$0: $bin is $size bytes, not 128 KiB" >&2
    rm -f "$bin"
    exit 1
fi
