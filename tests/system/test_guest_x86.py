"""Run one x86 bare-metal test guest (a 128 KiB BIOS image) on Tandem: it
must report PASS through isa-debug-exit (status 1).  Then run it on QEMU
(Debian's qemu-system-x86_64, TCG, the CPU model of docs/x86-cpu.md: see
tests/guests/x86/run_qemu.sh) and require the same serial output (the
guest's final register dump included) and the same exit code: the
differential test.

With "kvm" (a host with a usable /dev/kvm) the guest runs on the
interpreter and under -accel kvm instead, and the outputs are compared
(kvm_differences() says what may differ); tests/system/test_kvm_guests_x86.py
does that for every guest in one nested-KVM boot.

usage: test_guest_x86.py IMAGE [differential|tandem-only|kvm]"""
import difflib
import os
import subprocess
import sys

from tandemtest import REPO, binary, fail

RUN_QEMU = os.path.join(REPO, "tests", "guests", "x86", "run_qemu.sh")


def tandem_args(img, accel=None):
    return [binary("x86_64"), "-M", "pc", "-m", "128M", "-nographic", "-net", "none",
            "-serial", "stdio", "-monitor", "none",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"] + \
        (["-accel", accel] if accel else []) + ["-bios", img]


# Guests whose serial output legitimately differs between the interpreter
# and KVM, and why: only the lines matching the pattern are left out of the
# comparison (the DUMP lines, PASS and the exit code always count).
KVM_DIFFERENCES = {
}


def kvm_differences(name):
    """Line patterns (regular expressions) that may differ on KVM for guest
    `name` (image base name without .bin)."""
    return [p for p, _why in KVM_DIFFERENCES.get(name, [])]


def compare_kvm(name, interp_out, kvm_out):
    """None when the KVM run's output matches the interpreter's, else a diff."""
    import re
    pats = [re.compile(p) for p in kvm_differences(name)]

    def keep(s):
        return [ln for ln in norm(s).splitlines()
                if ln.startswith("DUMP") or not any(p.search(ln) for p in pats)]
    a, b = keep(interp_out), keep(kvm_out)
    if a == b:
        return None
    return "\n".join(difflib.unified_diff(a, b, "interpreter", "kvm", lineterm=""))


def guest_code(status):
    """isa-debug-exit: the guest writes n, the emulator exits (n << 1) | 1."""
    return status >> 1 if status > 0 and status & 1 else None


def run_tandem(img, timeout=300, accel=None):
    try:
        r = subprocess.run(tandem_args(img, accel), capture_output=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        return None, (e.stdout or b"").decode(errors="replace"), "timeout"
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def run_qemu(img, timeout=300):
    r = subprocess.run(["sh", RUN_QEMU, img], capture_output=True, timeout=timeout,
                       stdin=subprocess.DEVNULL, env=dict(os.environ, TIMEOUT=str(timeout - 10)))
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def norm(s):
    return s.replace("\r\n", "\n").strip()


def main():
    image = sys.argv[1]
    mode = sys.argv[2] if len(sys.argv) > 2 else "differential"
    name = os.path.basename(image)
    if not os.path.exists(image):
        fail(f"{image} was not built")
    st, out, err = run_tandem(image)
    print(out)
    if st is None or guest_code(st) != 0 or "PASS" not in out:
        fail(f"{name} on tandem-system-x86_64: exit status {st}\nstderr:\n{err}")
    if mode == "kvm":
        kst, kout, kerr = run_tandem(image, accel="kvm")
        print(kout)
        if kst is None or guest_code(kst) != 0 or "PASS" not in kout:
            fail(f"{name} under -accel kvm: exit status {kst}\nstderr:\n{kerr}")
        d = compare_kvm(name[:-4] if name.endswith(".bin") else name, out, kout)
        if d:
            fail(f"{name}: serial output under -accel kvm differs from the interpreter's:\n{d}")
        print(f"PASS {name}: same output and exit code on KVM as on the interpreter")
        return
    # The code generator (targets/x86/jit.c) must not change anything:
    # off, and compiling every block at its first entry.
    for accel in ("tcg,jit=off", "tcg,jit-threshold=1"):
        jst, jout, jerr = run_tandem(image, accel=accel)
        if jst != st or norm(jout) != norm(out):
            diff = "\n".join(difflib.unified_diff(norm(out).splitlines(), norm(jout).splitlines(),
                                                  "default", accel, lineterm=""))
            fail(f"{name}: -accel {accel} changes the run (exit {st} vs {jst}):\n{diff}\n"
                 f"stderr:\n{jerr}")
    print(f"{name}: same output with -accel tcg,jit=off and jit-threshold=1")
    if mode == "tandem-only":
        print(f"PASS {name} (Tandem-specific checks, no QEMU comparison)")
        return
    qcode, qout, qerr = run_qemu(image)
    if qcode != 0 or "PASS" not in qout:
        fail(f"{name} fails on QEMU too (code {qcode}); the reference must pass:\n{qout}\n{qerr}")
    if norm(out) != norm(qout):
        diff = "\n".join(difflib.unified_diff(norm(qout).splitlines(), norm(out).splitlines(),
                                              "qemu", "tandem", lineterm=""))
        fail(f"{name}: serial output differs from QEMU:\n{diff}")
    print(f"PASS {name}: same output and exit code as QEMU")


if __name__ == "__main__":
    main()
