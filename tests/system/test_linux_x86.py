"""Debian's x86_64 (or, with argument i386, i686) Linux kernel boots on the pc board (-kernel bzImage
-initrd -append, direct boot) to a busybox shell in its initramfs, answers
commands typed on the serial console, and `poweroff -f` powers the machine
off through ACPI: the emulator exits with status 0."""
import sys
import tempfile

from tandemtest import expect, fail, spawn, wait_exit, x86_linux_guest

arch = sys.argv[1] if len(sys.argv) > 1 else "x86_64"
# Optional -accel value (e.g. tcg,jit-threshold=1: every block compiled).
accel = ["-accel", sys.argv[2]] if len(sys.argv) > 2 else []
flavour, machine = ("amd64", "x86_64") if arch == "x86_64" else ("686", "i686")
with tempfile.TemporaryDirectory() as tmp:
    kernel, initrd = x86_linux_guest(tmp, arch)
    c = spawn(["-M", "pc", "-m", "256", "-nographic", "-kernel", kernel, "-initrd", initrd,
               "-append", "console=ttyS0"] + accel, arch=arch, timeout=900,
              logname="linux-" + arch + ("-" + sys.argv[2] if accel else ""))
    expect(c, r"Linux version \d+\.\d+\.\d+-\d+-" + flavour, "kernel banner")
    expect(c, r"ACPI: Using IOAPIC for interrupt routing", "ACPI and the I/O APIC")
    expect(c, r"tandem-linux: init reached", "the initramfs /init")
    expect(c, r"guest# ", "shell prompt")
    c.sendline("uname -sm")
    expect(c, r"Linux " + machine, "uname answer")
    expect(c, r"guest# ", "prompt")
    c.sendline("cat /proc/cpuinfo | grep -c ^processor")
    expect(c, r"\n1\r", "one CPU")
    expect(c, r"guest# ", "prompt")
    c.sendline("echo $((6 * 7))")
    expect(c, r"\n42\r", "shell arithmetic")
    expect(c, r"guest# ", "prompt")
    c.sendline("poweroff -f")
    expect(c, r"reboot: Power down", "power-down message")
    st = wait_exit(c, timeout=60)
    if st != 0:
        fail(f"exit status {st} after poweroff")
print("PASS")
