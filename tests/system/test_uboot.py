"""OpenSBI + U-Boot on the virt board, driven on the serial console."""
import re
import sys

from tandemtest import OPENSBI, UBOOT_M, UBOOT_S, expect, fail, need, spawn, wait_exit


def stop_autoboot(c):
    expect(c, r"Hit any key to stop autoboot", "autoboot prompt")
    c.send(" ")
    expect(c, r"=> ", "U-Boot prompt")


def session(c, expect_reboot):
    c.sendline("version")
    expect(c, r"U-Boot 20\d\d\.\d\d", "version output")
    expect(c, r"=> ", "prompt after version")
    c.sendline("mw.l 0x84000000 0xdeadbeef 2; mw.l 0x84000008 0x01234567")
    expect(c, r"=> ", "prompt after mw")
    c.sendline("md.l 0x84000000 4")
    expect(c, r"84000000: deadbeef deadbeef 01234567", "md output")
    expect(c, r"=> ", "prompt after md")
    c.sendline("setenv tandem_var hello-from-the-test")
    expect(c, r"=> ", "prompt after setenv")
    c.sendline("printenv tandem_var")
    expect(c, r"tandem_var=hello-from-the-test", "printenv output")
    expect(c, r"=> ", "prompt after printenv")
    c.sendline("reset")
    expect(c, r"resetting", "reset message")


def boot(args, name, banner):
    c = spawn(["-M", "virt", "-nographic"] + args, logname=name)
    if banner:
        expect(c, r"OpenSBI v\d+\.\d+", "OpenSBI banner")
        expect(c, r"Platform Name\s*: riscv-virtio,qemu", "OpenSBI platform line")
    expect(c, r"U-Boot 20\d\d", "U-Boot banner")
    stop_autoboot(c)
    return c


def case_smode(fw, name):
    c = boot(["-no-reboot", "-bios", need(f"{OPENSBI}/{fw}"), "-kernel", need(UBOOT_S)], name, True)
    session(c, False)
    st = wait_exit(c)
    if st != 0:
        fail(f"{name}: exit status {st} after reset with -no-reboot")


def case_mmode():
    c = boot(["-bios", need(UBOOT_M)], "uboot-mmode", False)
    session(c, True)
    # Without -no-reboot the machine resets and U-Boot starts again.
    expect(c, r"U-Boot 20\d\d", "U-Boot banner after reset")
    stop_autoboot(c)
    c.sendline("printenv tandem_var")
    expect(c, r"Error: \"tandem_var\" not defined", "environment gone after reset")
    c.send("\x01x")
    st = wait_exit(c)
    if st != 0:
        fail(f"M-mode U-Boot: exit status {st} after C-a x")


if __name__ == "__main__":
    which = sys.argv[1]
    if which == "fw_jump":
        case_smode("fw_jump.elf", "uboot-fw_jump")
    elif which == "fw_dynamic":
        case_smode("fw_dynamic.bin", "uboot-fw_dynamic")
    elif which == "mmode":
        case_mmode()
    else:
        fail("unknown case " + which)
    print("PASS")
