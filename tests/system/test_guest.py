"""Run one bare-metal test guest on Tandem: it must report PASS through the
finisher.  Then run it on QEMU (Debian's qemu-system-riscv*, the reference)
and require the same serial output (the guest's final register dump
included) and the same exit status: the differential test."""
import os
import subprocess
import sys

from tandemtest import REPO, binary, fail

elf, xlen = sys.argv[1], sys.argv[2]
mode = sys.argv[3] if len(sys.argv) > 3 else "differential"
name = os.path.basename(elf)
arch = "riscv" + xlen

if not os.path.exists(elf):
    fail(f"{elf} was not built")


def run_tandem():
    r = subprocess.run([binary(arch), "-M", "virt", "-m", "128M", "-nographic",
                        "-serial", "stdio", "-monitor", "none", "-bios", elf],
                       capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def run_qemu():
    script = os.path.join(REPO, "tests", "guests", "riscv", "run_qemu.sh")
    r = subprocess.run(["sh", script, elf, xlen], capture_output=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


st, out, err = run_tandem()
print(out)
if st != 0 or "PASS" not in out:
    fail(f"{name} on tandem-system-{arch}: exit status {st}\nstderr:\n{err}")

if mode == "tandem-only":
    print(f"PASS {name} rv{xlen} (Tandem-specific checks, no QEMU comparison)")
    sys.exit(0)

qst, qout, qerr = run_qemu()
if qst != 0:
    fail(f"{name} fails on QEMU too (status {qst}); the reference must pass:\n{qout}\n{qerr}")
norm = lambda s: s.replace("\r\n", "\n").strip()
if norm(out) != norm(qout):
    import difflib
    diff = "\n".join(difflib.unified_diff(norm(qout).splitlines(), norm(out).splitlines(),
                                          "qemu", "tandem", lineterm=""))
    fail(f"{name}: serial output differs from QEMU:\n{diff}")
print(f"PASS {name} rv{xlen}: same output and status as QEMU")
