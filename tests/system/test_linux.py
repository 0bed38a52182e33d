"""Linux 6.1 from ../shared/guests/riscv64 boots to its initramfs program and
answers serial input; poweroff ends the emulator with status 0."""
import tempfile
import time

from tandemtest import OPENSBI, expect, fail, need, riscv_linux_guest, spawn, wait_exit



def expected_sum(n):
    s, x = 0, 1
    m = (1 << 64) - 1
    for _ in range(n):
        x = (x * 6364136223846793005 + 1442695040888963407) & m
        s = (s + (x >> 33)) & m
    return s


with tempfile.TemporaryDirectory() as tmp:
    image, initrd = riscv_linux_guest(tmp)
    c = spawn(["-M", "virt", "-m", "512", "-nographic",
               "-bios", need(f"{OPENSBI}/fw_jump.elf"),
               "-kernel", image, "-initrd", initrd, "-append", "console=ttyS0"],
              timeout=600, logname="linux")
    expect(c, r"OpenSBI v", "OpenSBI banner")
    expect(c, r"Linux version 6\.1", "kernel banner")
    expect(c, r"tandem-guest: ready", "initramfs program")
    expect(c, r"guest\$ ", "guest prompt")
    c.sendline("uname")
    expect(c, r"Linux 6\.1\.\d+ riscv64", "uname answer")
    expect(c, r"guest\$ ", "prompt")
    c.sendline("hello tandem")
    expect(c, r"echo: hello tandem", "echo answer")
    expect(c, r"guest\$ ", "prompt")
    c.sendline("date")
    expect(c, r"time (\d+)\.\d{6}", "date answer")
    # The guest's clock comes from the goldfish RTC, i.e. the host clock.
    t = int(c.match.group(1))
    if abs(t - time.time()) > 600:
        fail(f"guest time {t} is far from host time {time.time():.0f}")
    expect(c, r"guest\$ ", "prompt")
    c.sendline("sum 100000")
    expect(c, r"sum %d\r" % expected_sum(100000), "sum answer")
    expect(c, r"guest\$ ", "prompt")
    c.sendline("poweroff")
    st = wait_exit(c, timeout=120)
    if st != 0:
        fail(f"exit status {st} after poweroff")
print("PASS")
