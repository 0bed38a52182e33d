"""A Linux boot with typed input, recorded on the interpreter, replays on KVM
(issue: hybrid replay, acceptance 1): Debian's x86_64 kernel boots a busybox
initramfs to a shell, commands are typed at random host-time gaps
(test_rr.py's linux-x86 session), and the recording is replayed inside the
nested-KVM harness (tests/kvm/nested.py) with -accel kvm (landing=auto:
breakpoints there, where QEMU TCG has no PMU).

What makes this replay possible in the harness at all (docs/record-replay.md,
"Replaying on KVM"):
- lazy timers: the PIT ticks the decompressor and early boot run through with
  interrupts off are logged as lazy checkpoints and fire at the next device
  access, so billions of instructions run in a few free runs;
- events closer than 256 instructions (most of the kernel's millions of TSC
  reads) are interpreted to;
- a breakpoint passed more than 32 times without a match (a timer tick inside
  a hot loop) is landed on by the interpreter;
- without a PMU, a timer checkpoint can land on an earlier pass of its pc
  with the same registers (Linux's allocator called again and again while
  the initramfs is unpacked): asynchronous events closer than 100,000
  instructions are interpreted to, and what still lands wrong is found by
  an interpreted stretch or a memory and state check (log formats 9 and
  10: RAM, the CPU's whole state, each device's) and replayed again on the
  interpreter from a snapshot.
The replay must write the recorded serial bytes (compared by hash), end with
the recording's final state (checked by the replay itself), run most
instructions in free runs, fire lazy events in them, pass memory checks, and
print nothing unexpected (fall-backs are counted, at most MAX_FALLBACKS).

usage: test_rr_kvm_linux.py [--timeout S] [--workdir DIR] [--nested PATH]"""
import argparse
import glob
import hashlib
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tandemtest import REPO, binary, fail, x86_linux_guest  # noqa: E402
from test_kvm_guests_x86 import run_nested  # noqa: E402
from test_rr import linux_x86_script, record, serial_of  # noqa: E402
from test_rr_kvm_seabios import check_ending  # noqa: E402
from test_rr_kvm_x86 import LANDINGS, REPORT  # noqa: E402

NESTED = os.path.join(REPO, "tests", "kvm", "nested.py")
SEABIOS = "/usr/share/seabios"
MIN_FREE_SHARE = 0.5        # of all instructions, in free runs on KVM
# Fall-backs after landings on the wrong pass of a loop (see above): 5 in
# the runs of this session's notes.
MAX_FALLBACKS = 12
MEM_CHECK_NS = 1000000000   # recording's memory checks (see main)
MEM_CHECKS = re.compile(r"^tandem: KVM replay: (\d+) memory checks? passed$")
LAZY = re.compile(r"; (\d+) lazy events fired in them")
HASH = re.compile(r"^([0-9a-f]{32})  /")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=int, default=560)
    ap.add_argument("--workdir")
    ap.add_argument("--nested", default=NESTED)
    a = ap.parse_args()
    exe = os.path.normpath(binary("x86_64"))
    with tempfile.TemporaryDirectory() as tmp:
        kernel, initrd = x86_linux_guest(tmp)
        log = os.path.join(tmp, "linux.rr")
        args = ["-M", "pc", "-m", "256", "-nographic", "-net", "none", "-kernel", kernel,
                "-initrd", initrd, "-append", "console=ttyS0"]
        # Memory checks every second of recording time instead of every
        # three: in the harness a free run can leave memory off the
        # recording's unseen (QEMU TCG's nested SVM), and a divergence found
        # late goes back to the snapshot after the last check that passed.
        # With the default spacing, one found in the event-dense stretch at
        # 4.7e9 went back to the start and ran past the time limit.
        os.environ["TANDEM_RR_MEM_CHECK_NS"] = str(MEM_CHECK_NS)
        try:
            rec_out, rec_icount = record(args, log, linux_x86_script, 900, arch="x86_64")
        finally:
            del os.environ["TANDEM_RR_MEM_CHECK_NS"]
        want = serial_of(rec_out)
        out = os.path.join(tmp, "replay.out")
        line = " ".join([exe, "-accel", "kvm"] + args +
                        ["-serial", f"file:{out}", "-monitor", "none",
                         "-icount", f"shift=auto,rr=replay,rrfile={log}"])
        # (busybox md5sum: the serial bytes leave the harness as a hash.)
        cmd = f"sh -c '{line}; st=$?; md5sum {out}; exit $st'"
        print(f"recorded a Linux boot with typed input ({rec_icount} instructions, "
              f"{len(want)} bytes of serial output); replay: {line}")
        files = [exe, kernel, initrd, log] + glob.glob(os.path.join(SEABIOS, "*.bin"))
        res = run_nested(a.nested, [cmd], a.timeout, a.workdir, files, no_arg_files=True)
    if 1 not in res:
        fail("the replay did not finish in the harness")
    st, lines = res[1]
    msgs = [x for x in lines if x.startswith("tandem: ")]
    problems = []
    if st != 0:
        problems.append(f"exit status {st}, recorded 0")
    digest = next((HASH.match(x).group(1) for x in lines if HASH.match(x)), None)
    if digest != hashlib.md5(want).hexdigest():
        problems.append(f"serial output differs from the recording's (md5 {digest}, "
                        f"recorded {hashlib.md5(want).hexdigest()})")
    m = next((REPORT.match(x) for x in msgs if REPORT.match(x)), None)
    free = int(m.group(2) or 0) if m else 0
    if not m:
        problems.append("no KVM replay report")
    elif free < MIN_FREE_SHARE * rec_icount:
        problems.append(f"only {free} of {rec_icount} instructions in free runs")
    land = next((x for x in msgs if LANDINGS.match(x)), "")
    lazy = LAZY.search(land)
    if not lazy or int(lazy.group(1)) == 0:
        problems.append(f"no lazy events fired in free runs: {land}")
    checks = next((MEM_CHECKS.match(x) for x in msgs if MEM_CHECKS.match(x)), None)
    if not checks:
        problems.append("no memory check passed")
    nfall = check_ending(msgs, MAX_FALLBACKS, problems)
    if problems:
        fail("Linux replay on KVM:\n  " + "\n  ".join(problems))
    print(f"PASS: a Linux boot with typed input replayed on KVM: "
          f"{m.group(0)[len('tandem: KVM replay: '):]}; {100.0 * free / rec_icount:.1f}% in "
          f"free runs; {lazy.group(1)} lazy events fired; {checks.group(1)} memory checks "
          f"passed; {nfall} free runs fell back")


if __name__ == "__main__":
    main()
