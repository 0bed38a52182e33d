"""Recordings made on the interpreter replay on KVM (issue: hybrid replay,
acceptance 1, the single-step counter alone): each x86 test guest is
recorded here with -icount shift=auto,rr=record (clock-shift and RDTSC
events in the log), then replayed inside the nested-KVM harness
(tests/kvm/nested.py) with -accel kvm, where KVM single-steps every
instruction the step plan clears (targets/x86/kvm_step.c) and the
interpreter runs the rest.  The replay checks every event's position and
register digest and, at the end, the RAM and CPU state hashes against the
log and fails loudly on any difference; here it must also reproduce the
recorded serial output and exit status, and have run at least
MIN_KVM_INSNS instructions on KVM (so it cannot pass without KVM).

Guests using x87 transcendentals are left out: the interpreter computes
those with the host's x87, so their results depend on the host (the
harness's CPU is QEMU TCG's), which is a known gap of the x86 target.

usage: test_rr_kvm_x86.py [--timeout S] [--workdir DIR] IMAGE..."""
import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tandemtest import BUILD, REPO, binary, fail  # noqa: E402
from test_guest_x86 import tandem_args  # noqa: E402
from test_kvm_guests_x86 import run_nested  # noqa: E402

NESTED = os.path.join(REPO, "tests", "kvm", "nested.py")
MIN_KVM_INSNS = 1000
REPORT = re.compile(r"^tandem: KVM replay: (\d+) instructions on KVM \(single-stepped, "
                    r"(\d+) stretches\), (\d+) on the interpreter")


def args(img, icount, accel=None):
    """test_guest_x86's command line for img, with -icount icount."""
    a = tandem_args(os.path.abspath(img), accel) + ["-icount", icount]
    a[0] = os.path.normpath(a[0])
    return a


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--workdir")
    ap.add_argument("--nested", default=NESTED)
    ap.add_argument("images", nargs="+")
    a = ap.parse_args()
    tool = os.path.join(BUILD, "tools", "tandem-log")
    with tempfile.TemporaryDirectory() as tmp:
        cmds, recorded, files = [], {}, [binary("x86_64")]
        for img in a.images:
            name = os.path.basename(img)[:-4]
            log = os.path.join(tmp, name + ".rr")
            r = subprocess.run(args(img, f"shift=auto,rr=record,rrfile={log}"),
                               capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
            out = r.stdout.decode(errors="replace")
            if r.returncode != 1 or "PASS" not in out:
                fail(f"{name}: the recording failed (status {r.returncode}):\n{out}\n"
                     f"{r.stderr.decode(errors='replace')}")
            dump = subprocess.run([tool, "dump", log], capture_output=True, text=True).stdout
            recorded[name] = (r.returncode, out)
            files += [img, log]
            line = " ".join(shlex.quote(x) for x in
                            args(img, f"shift=auto,rr=replay,rrfile={log}", "kvm"))
            cmds.append(line)
            print(f"{name}: recorded ({len(dump.splitlines())} log lines); replay: {line}")
        res = run_nested(a.nested, cmds, a.timeout, a.workdir, files, no_arg_files=True)
    bad, total = [], 0
    for n, name in enumerate(recorded, 1):
        if n not in res:
            bad.append(f"{name}: no result (the replay did not finish)")
            continue
        st, lines = res[n]
        est, eout = recorded[name]
        serial = "\n".join(x for x in lines if not x.startswith("tandem: "))
        msgs = [x for x in lines if x.startswith("tandem: ")]
        m = next((REPORT.match(x) for x in msgs if REPORT.match(x)), None)
        problems = []
        if st != est:
            problems.append(f"exit status {st}, recorded {est}")
        if serial.replace("\r\n", "\n").strip() != eout.replace("\r\n", "\n").strip():
            problems.append("serial output differs from the recording's")
        if not m:
            problems.append("no KVM replay report (did the replay run on KVM?)")
        elif int(m.group(1)) < MIN_KVM_INSNS:
            problems.append(f"only {m.group(1)} instructions on KVM")
        else:
            total += int(m.group(1))
        others = [x for x in msgs if not REPORT.match(x) and "handed to the" not in x and
                  "final state matches the recording" not in x]
        if not any("final state matches the recording" in x for x in msgs):
            problems.append("the replay did not confirm the final state")
        if others:
            problems.append("emulator messages:\n" + "\n".join(others))
        if problems:
            bad.append(f"{name}:\n  " + "\n  ".join(problems))
        else:
            print(f"PASS {name}: {m.group(0)[len('tandem: KVM replay: '):]}")
    if bad:
        fail("\n\n".join(bad))
    print(f"PASS: {len(recorded)} x86 recordings replay on KVM exactly ({total} instructions "
          f"single-stepped on KVM)")


if __name__ == "__main__":
    main()
