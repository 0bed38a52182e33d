"""Debian's U-Boot for x86_64 (a 1 MiB ROM, as -bios) on the pc board:
SPL hands over to 64-bit U-Boot, which finds the i440FX machine, stops at
its prompt when a key is pressed, and answers commands."""
import pexpect

from tandemtest import binary, expect, fail, need, wait_exit

ROM = need("/usr/lib/u-boot/qemu-x86_64/u-boot.rom")

c = pexpect.spawn(binary("x86_64"), ["-M", "pc", "-m", "128M", "-nographic", "-bios", ROM],
                  timeout=120)
expect(c, "U-Boot SPL", "the SPL banner")
expect(c, "Model: QEMU x86 \\(I440FX\\)", "U-Boot's model line")
expect(c, "Hit any key to stop autoboot", "the autoboot prompt")
c.send(" ")
expect(c, "=> ", "the U-Boot prompt")
c.send("version\r")
expect(c, "U-Boot 2023", "the version command's answer")
expect(c, "=> ", "the prompt after version")
c.send("setenv tandem x86-works; printenv tandem\r")
expect(c, "tandem=x86-works", "printenv of the variable just set")
expect(c, "=> ", "the prompt after printenv")
c.send("\x01x")
st = wait_exit(c)
if st != 0:
    fail(f"exit status {st} after C-a x")
print("PASS")
