"""A multiboot (v1) kernel given with -kernel, -append and -initrd on the pc
board: it must report PASS through isa-debug-exit and print the same lines
as on qemu-system-x86_64 (QEMU boots it through SeaBIOS first, so only the
kernel's output is compared).

usage: test_multiboot.py KERNEL.elf"""
import os
import subprocess
import sys
import tempfile

from tandemtest import binary, fail


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    out = r.stdout.decode(errors="replace").replace("\r", "")
    i = out.find("multiboot test kernel")
    return r.returncode, out[i:] if i >= 0 else out, r.stderr.decode(errors="replace")


kernel = sys.argv[1]
with tempfile.TemporaryDirectory() as tmp:
    mod = os.path.join(tmp, "module.txt")
    with open(mod, "w") as f:
        f.write("line one\nline two\n")
    args = ["-M", "pc", "-m", "128M", "-nographic", "-monitor", "none",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-kernel", kernel, "-append", "hello world", "-initrd", mod]
    st, out, err = run([binary("x86_64")] + args)
    print(out)
    if st != 1 or "PASS" not in out:
        fail(f"multiboot kernel on Tandem: status {st}\n{out}\n{err}")
    qst, qout, qerr = run(["qemu-system-x86_64", "-accel", "tcg", "-nic", "none"] + args)
    if qst != 1 or qout != out:
        fail(f"QEMU differs (status {qst}):\n--- qemu ---\n{qout}\n{qerr}\n--- tandem ---\n{out}")
    # The loaded images are part of the recorded configuration: a replay
    # runs the same kernel to the same end.
    log = os.path.join(tmp, "mb.rr")
    rst, rout, rerr = run([binary("x86_64")] + args + ["-icount", f"shift=auto,rr=record,rrfile={log}"])
    pst, pout, perr = run([binary("x86_64")] + args + ["-icount", f"shift=auto,rr=replay,rrfile={log}"])
    if (rst, rout) != (st, out) or (pst, pout) != (st, out) or "final state matches" not in perr:
        fail(f"record/replay of the multiboot kernel differs: {rst} {pst}\n{rerr}\n{perr}\n{pout}")
print("PASS: the multiboot kernel sees the same on Tandem and QEMU")
