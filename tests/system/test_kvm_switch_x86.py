"""The switch test (issue: KVM backend, acceptance 2): every x86 test guest
runs with the CPU moving interpreter -> KVM -> interpreter at random
instruction counts (-accel kvm,switch-test=SEED: targets/x86/kvm_switch.c),
in one nested-KVM boot (tests/kvm/nested.py), and must end exactly as a
pure-interpreter run of the same image on this host: the same serial
output, exit status, instruction and branch counts, CPU state hash, RAM
hash and register dump (-exit-state).

Every run must also have executed a real share of its instructions on KVM
(at least MIN_KVM_INSNS and one KVM stretch), so the test cannot pass
without testing anything.

The interpreter's stretches are 1..1000000 instructions long (1..icount/4
for guests under 4 million instructions, so that every guest switches).  KVM
single-steps every instruction, which costs tens of microseconds in the
emulated harness, so KVM's stretches are capped per guest to aim at about
KVM_STEPS_PER_GUEST steps (the big ALU guests get short KVM stretches, the
small guests the full range).

Seeds: SEED (--seed, or the TANDEM_SWITCH_SEED environment variable) plus
the guest's position; each run prints its command line, so a failure is
reproduced by running it again inside the harness.

usage: test_kvm_switch_x86.py [--timeout S] [--workdir DIR] [--seed N] IMAGE..."""
import argparse
import difflib
import os
import re
import shlex
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tandemtest import REPO, fail  # noqa: E402
from test_guest_x86 import guest_code, norm, tandem_args  # noqa: E402
from test_kvm_guests_x86 import HOST_CPU_DIFFERS, run_nested  # noqa: E402

NESTED = os.path.join(REPO, "tests", "kvm", "nested.py")
INTERP_MAX = 1000000
KVM_STEPS_PER_GUEST = 40000
MIN_KVM_INSNS = 200
DEFAULT_SEED = 20261126
REPORT = re.compile(r"^tandem: KVM switch test: (\d+) instructions on KVM "
                    r"\(single-stepped, (\d+) stretches\), (\d+) on the interpreter")


def kvm_max_for(icount, imax):
    """KVM's stretch cap so that about KVM_STEPS_PER_GUEST of icount run there
    (stretches average about cap/21 with kvm_switch.c's draw, the
    interpreter's about imax/21)."""
    f = min(0.5, KVM_STEPS_PER_GUEST / max(icount, 1))
    return max(100, min(imax, int(imax * f / (1 - f))))


def diff(a, b):
    return "\n".join(difflib.unified_diff(norm(a).splitlines(), norm(b).splitlines(),
                                          "interpreter", "switching", lineterm=""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--workdir")
    ap.add_argument("--nested", default=NESTED)
    ap.add_argument("--seed", type=int,
                    default=int(os.environ.get("TANDEM_SWITCH_SEED", DEFAULT_SEED)))
    ap.add_argument("--strict", action="store_true",
                    help="test_kvm_guests_x86.HOST_CPU_DIFFERS guests must match too")
    ap.add_argument("images", nargs="+")
    a = ap.parse_args()
    names = [os.path.basename(i)[:-4] if i.endswith(".bin") else os.path.basename(i)
             for i in a.images]

    with tempfile.TemporaryDirectory() as tmp:
        cmds = []
        for n, (name, img) in enumerate(zip(names, a.images), 1):
            if not os.path.exists(img):
                fail(f"{img} was not built")
            es = os.path.join(tmp, f"{name}.interp")
            r = subprocess.run(tandem_args(os.path.abspath(img)) + ["-exit-state", es],
                               capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
            out = r.stdout.decode(errors="replace")
            if guest_code(r.returncode) != 0 or "PASS" not in out:
                fail(f"{name} fails on the interpreter (status {r.returncode}):\n{out}\n"
                     f"{r.stderr.decode(errors='replace')}")
            with open(es) as f:
                state = f.read()
            icount = int(re.search(r"^icount (\d+)", state, re.M).group(1))
            seed = a.seed + n
            # A stretch longer than the whole run switches nothing: small
            # guests draw from 1..icount/4.
            imax = min(INTERP_MAX, max(1000, icount // 4))
            kmax = kvm_max_for(icount, imax)
            # The reference runs in the harness too: the interpreter uses the
            # host's x87 for the transcendentals, and the harness's host
            # CPU is QEMU TCG's.
            for kind, accel in (("ref", None),
                                ("switch", f"kvm,switch-test={seed},switch-max={imax},"
                                           f"switch-kvm-max={kmax}")):
                argv = tandem_args(os.path.abspath(img), accel) + \
                    ["-exit-state", f"/tmp/{name}.{kind}"]
                argv[0] = os.path.normpath(os.path.abspath(argv[0]))
                line = " ".join(shlex.quote(x) for x in argv)
                # One command a run: the run, then its exit state on the console.
                cmds.append("sh -c " + shlex.quote(
                    f"{line}; s=$?; echo @@state-begin; cat /tmp/{name}.{kind}; "
                    f"echo @@state-end; exit $s"))
            print(f"{name}: icount {icount}, seed {seed}, KVM stretches 1..{kmax}: {line}")
        res = run_nested(a.nested, cmds, a.timeout, a.workdir,
                         [tandem_args("x")[0]] + a.images, no_arg_files=True)

    bad, known, total_kvm = [], [], 0
    def split(lines):
        serial, state, report, in_state = [], [], [], False
        for ln in lines:
            if ln == "@@state-begin":
                in_state = True
            elif ln == "@@state-end":
                in_state = False
            elif in_state:
                state.append(ln)
            elif ln.startswith("tandem: "):
                report.append(ln)
            else:
                serial.append(ln)
        return "\n".join(serial), "\n".join(state), report

    for n, name in enumerate(names, 1):
        if 2 * n - 1 not in res or 2 * n not in res:
            bad.append(f"{name}: no result (the run did not finish)")
            continue
        est, ref_lines = res[2 * n - 1]
        st, lines = res[2 * n]
        eout, estate, _ = split(ref_lines)
        sout, sstate, report = split(lines)
        if guest_code(est) != 0 or "PASS" not in eout:
            why = f"the interpreter's run in the harness fails (status {est}):\n{eout}"
            if name in HOST_CPU_DIFFERS and not a.strict:
                known.append(name)
                print(f"KNOWN DIFFERENCE {name} ({HOST_CPU_DIFFERS[name]}): {why}\n")
            else:
                bad.append(f"{name}: {why}")
            continue
        problems = []
        if st != est:
            problems.append(f"exit status {st}, the interpreter's {est}")
        if norm(sout) != norm(eout):
            problems.append("serial output differs:\n" + diff(eout, sout))
        if norm(sstate) != norm(estate):
            problems.append("exit state differs:\n" + diff(estate, sstate))
        m = next((REPORT.match(x) for x in report if REPORT.match(x)), None)
        if not m:
            problems.append("no switch report (did it run on the switching CPU?)")
        else:
            kvm, stretches = int(m.group(1)), int(m.group(2))
            total_kvm += kvm
            if kvm < MIN_KVM_INSNS or stretches < 1:
                problems.append(f"only {kvm} instructions in {stretches} stretches on KVM "
                                f"(at least {MIN_KVM_INSNS} wanted)")
        others = [x for x in report if not REPORT.match(x) and "handed to the" not in x]
        if others:
            problems.append("emulator messages:\n" + "\n".join(others))
        too_few = not m or int(m.group(1)) < MIN_KVM_INSNS
        if problems and name in HOST_CPU_DIFFERS and not too_few and not others and \
                not a.strict and guest_code(st) is not None:
            # What KVM ran, the host CPU computed (QEMU TCG's in the harness).
            known.append(name)
            print(f"KNOWN DIFFERENCE {name} ({HOST_CPU_DIFFERS[name]}):\n  " +
                  "\n  ".join(problems) + "\n")
        elif problems:
            bad.append(f"{name}:\n  " + "\n  ".join(problems))
        else:
            print(f"PASS {name}: {m.group(0)[len('tandem: KVM switch test: '):]}")
    if bad:
        fail("\n\n".join(bad))
    print(f"PASS: {len(names) - len(known)} x86 guests switching between the interpreter and "
          f"KVM end exactly as on the interpreter ({total_kvm} instructions on KVM in all); "
          f"known host-CPU differences: {', '.join(known) or 'none'}")


if __name__ == "__main__":
    main()
