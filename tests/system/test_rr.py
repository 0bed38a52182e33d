"""Record an interactive session (typing at random host-time gaps, host
clock reads through the goldfish RTC), then replay it many times with the
serial input backend gone: every replay must reproduce the recorded serial
output byte for byte, the final instruction count and the final state
digest (RAM included)."""
import os
import random
import re
import subprocess
import sys
import tempfile
import time

import pexpect

from tandemtest import (BUILD, OPENSBI, UBOOT_S, binary, expect, fail, need,
                        riscv_linux_guest, wait_exit, x86_linux_guest)

RTC = 0x101000


def typed(c, text):
    """Type like a person: random gaps between keys."""
    for ch in text:
        c.send(ch)
        time.sleep(random.uniform(0.0, 0.02))


def record(args, log, script, timeout, arch="riscv64"):
    out = os.path.join(os.path.dirname(log), "record.out")
    with open(out, "wb") as f:
        c = pexpect.spawn(binary(arch), args + ["-serial", "stdio", "-monitor", "none",
                                            "-icount", f"shift=auto,rr=record,rrfile={log}"],
                          timeout=timeout)
        c.logfile_read = f
        script(c)
        st = wait_exit(c, timeout=timeout)
    if st != 0:
        fail(f"recording exited with status {st}")
    m = re.search(rb"recorded (\d+) events, (\d+) instructions", open(out, "rb").read())
    if not m:
        fail("the recording did not report its end")
    return out, int(m.group(2))


def serial_of(path):
    data = open(path, "rb").read()
    # pexpect's pty turns \n into \r\n; the file backend gets the raw bytes.
    data = data.replace(b"\r\n", b"\n")
    return re.sub(rb"tandem: recorded .*\n", b"", data)


def replay(args, log, outfile, serial="file", arch="riscv64"):
    sargs = ["-serial", f"file:{outfile}"] if serial == "file" else ["-serial", "null"]
    r = subprocess.run([binary(arch)] + args + sargs + ["-monitor", "none", "-icount",
                        f"shift=auto,rr=replay,rrfile={log}"],
                       capture_output=True, timeout=900, stdin=subprocess.DEVNULL)
    err = r.stderr.decode(errors="replace")
    if r.returncode != 0:
        fail(f"replay exited with status {r.returncode}:\n{err}")
    m = re.search(r"replay finished: (\d+) events, (\d+) instructions; final state matches "
                  r"the recording \(digest ([0-9a-f]+)\)", err)
    if not m:
        fail(f"replay did not confirm the final state:\n{err}")
    return int(m.group(2)), m.group(3)


def uboot_script(c):
    expect(c, r"Hit any key to stop autoboot", "autoboot prompt")
    time.sleep(random.uniform(0, 0.3))
    c.send(" ")
    expect(c, r"=> ", "U-Boot prompt")
    for i in range(4):
        time.sleep(random.uniform(0.0, 0.15))
        typed(c, "md.l 0x%x 2\r" % RTC)          # the host clock, through the RTC
        expect(c, r"%08x: [0-9a-f]{8} [0-9a-f]{8}" % RTC, "RTC read")
        expect(c, r"=> ", "prompt")
        typed(c, f"setenv v{i} typed-{random.randint(0, 1 << 30)}\r")
        expect(c, r"=> ", "prompt")
    typed(c, "printenv\r")
    expect(c, r"=> ", "prompt")
    typed(c, "reset\r")


def linux_script(c):
    expect(c, r"guest\$ ", "guest prompt")
    for line in ("uname", "date", "hello replay", "sum 20000", "date"):
        time.sleep(random.uniform(0.0, 0.15))
        typed(c, line + "\r")
        expect(c, r"guest\$ ", "prompt")
    typed(c, "poweroff\r")


def linux_x86_script(c):
    expect(c, r"guest# ", "shell prompt")
    for line in ("uname -a", "cat /proc/uptime", "echo hello replay",
                 "dd if=/dev/urandom bs=64 count=1 2>/dev/null | md5sum", "date"):
        time.sleep(random.uniform(0.0, 0.15))
        typed(c, line + "\r")
        expect(c, r"guest# ", "prompt")
    typed(c, "poweroff -f\r")


def main():
    which = sys.argv[1]
    runs = int(os.environ.get("TANDEM_RR_REPLAYS", sys.argv[2]))
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "replay.bin")
        arch = "x86_64" if which == "linux-x86" else "riscv64"
        if which == "uboot":
            args = ["-M", "virt", "-nographic", "-no-reboot", "-net", "none",
                    "-bios", need(f"{OPENSBI}/fw_jump.elf"), "-kernel", need(UBOOT_S)]
            rec_out, rec_icount = record(args, log, uboot_script, 300)
        elif which == "linux-x86":
            kernel, initrd = x86_linux_guest(tmp)
            args = ["-M", "pc", "-m", "256", "-nographic", "-net", "none", "-kernel", kernel,
                    "-initrd", initrd, "-append", "console=ttyS0"]
            rec_out, rec_icount = record(args, log, linux_x86_script, 900, arch="x86_64")
        else:
            image, initrd = riscv_linux_guest(tmp)
            args = ["-M", "virt", "-m", "256", "-nographic", "-net", "none",
                    "-bios", need(f"{OPENSBI}/fw_jump.elf"), "-kernel", image,
                    "-initrd", initrd, "-append", "console=ttyS0"]
            rec_out, rec_icount = record(args, log, linux_script, 900)
        want = serial_of(rec_out)
        digests = set()
        for i in range(runs):
            out = os.path.join(tmp, f"replay{i}.out")
            n, digest = replay(args, log, out, arch=arch)
            got = open(out, "rb").read()
            if got != want:
                fail(f"replay {i}: serial output differs from the recording "
                     f"({len(got)} vs {len(want)} bytes)")
            if n != rec_icount:
                fail(f"replay {i}: {n} instructions, the recording had {rec_icount}")
            digests.add(digest)
        # Input comes from the log: a replay without any serial backend runs too.
        n, digest = replay(args, log, None, serial="null", arch=arch)
        digests.add(digest)
        if len(digests) != 1:
            fail(f"replays ended with different state digests: {digests}")
        print(f"PASS: {runs + 1} replays of {which}: {rec_icount} instructions, "
              f"{len(want)} bytes of serial output, digest {digests.pop()}")


if __name__ == "__main__":
    main()
