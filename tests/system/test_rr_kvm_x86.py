"""Recordings made on the interpreter replay on KVM (issue: hybrid replay,
acceptance 1): each x86 test guest is recorded here with -icount
shift=auto,rr=record (clock-shift, RDTSC and checkpoint events in the log),
then replayed inside the nested-KVM harness (tests/kvm/nested.py) with
-accel kvm, in one of two ways, IMAGE:MODE on the command line:

- step: -accel kvm,landing=step, the single-step counter alone: KVM
  single-steps every instruction the step plan clears
  (targets/x86/kvm_step.c) and the interpreter runs the rest;
- land: -accel kvm (breakpoint landing, the default): the guest runs free
  on KVM between events and the replay lands on each with a breakpoint at
  its PC or by counting device accesses (targets/x86/kvm_switch.c).  In
  the harness hardware breakpoints do not fire (QEMU TCG's nested SVM),
  so the replay patches a HLT over the event's instruction in ring-0
  code.  Such a replay must have run at least MIN_FREE_INSNS instructions
  in free runs;
- fault: land, with -rr-perturb flipping bit 0 of RBX (the x86_land
  guest's running value there) inside the free run between the 4th and
  5th events: the replay must notice at the next landing, say so in one
  warning, go back to its last snapshot, single-step through, and still
  end with the recorded output and final state;
- memfault: land, recorded with a memory check at every TSC event
  (TANDEM_RR_MEM_CHECK_NS=0), with -rr-perturb flipping a RAM byte the
  guest never touches inside the same free run: no register shows it; the
  next TSC event's memory check must, on the interpreter, and the replay
  must go back to its snapshot, say so in one warning and end as recorded;
- pmu: -accel kvm,landing=pmu, free runs stopped near each event by the
  host PMU's conditional-branch counter.  Where the host has no usable
  counter (the harness: QEMU TCG has no PMU) the replay must refuse at
  once, naming the counter and why; where it has one (tests/kvm/direct.py
  on hardware), it must pass as land does and report the counter's
  overflows and the landings it checked.

The replay checks every event's position and register digest and, at the
end, the RAM and CPU state hashes against the log and fails loudly on any
difference; here it must also reproduce the recorded serial output and
exit status, and have run at least MIN_KVM_INSNS instructions on KVM (so
it cannot pass without KVM).

Guests using x87 instructions stay out of the land mode: where x87
instructions leave the last-instruction pointers is host-specific
(FXSAVE shows them), which is why the step plan keeps them on the
interpreter; so do guests whose free runs meet what QEMU TCG, the
harness's CPU, does differently from the hardware: those that take
faults inside free runs (x86_alu's #DE, x86_paging's #PF, x86_sse's
exceptions) end with other bytes in their stacks' dead area, most likely
the RF flag that the SDM has faults push and QEMU 7.2 does not (the
replay names the differing range); x86_boot: descriptor accessed bits on
far jumps.  (The busy 32-bit TSS QEMU 7.2 aborted on is now handed to it
as available: kvm/kvm_int.h, tcg_host.)

usage: test_rr_kvm_x86.py [--timeout S] [--workdir DIR]
                         IMAGE[:step|:land|:fault|:memfault|:pmu]..."""
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
MIN_FREE_INSNS = 10000
REPORT = re.compile(r"^tandem: KVM replay: (\d+) instructions on KVM \((?:single-stepped|"
                    r"(\d+) in free runs, \d+ single-stepped;) ?,? ?(\d+) stretches\), (\d+) on "
                    r"the interpreter")
LANDINGS = re.compile(r"^tandem: KVM replay: \d+ free runs \(\d+ instructions\) landed: ")
BP_NOTE = re.compile(r"^tandem: KVM: hardware breakpoints do not fire on this host|"
                     r"^tandem: KVM replay: no PMU counter \(.*\); free runs land with "
                     r"breakpoints alone$")
PMU_REPORT = re.compile(r"^tandem: KVM replay: PMU counter .*: (\d+) overflows, (\d+) landings "
                        r"matched its branch count$")
PMU_REFUSED = re.compile(r"-accel kvm,landing=pmu: KVM replay: (no retired-conditional-branch "
                         r"event is known for this host CPU|the PMU event .* cannot be opened|"
                         r"the PMU counter .*)")
FAULT = re.compile(r"^tandem: (perturbed rbx at icount \d+ \(KVM replay|warning: KVM replay "
                   r"diverged .* replaying again from event \d+|KVM replay: 1 diverged free run "
                   r"replayed again)")
UNTOUCHED = 0x4000000        # a RAM byte the test guests never touch (of 128 MiB)
MEMFAULT = re.compile(r"^tandem: (perturbed the RAM byte at 0x4000000 at icount \d+ \(KVM "
                      r"replay|warning: KVM replay diverged after free runs \(found on the "
                      r"interpreter: replay diverged at event \d+ \(tsc, icount \d+\): the "
                      r"guest's memory differs from the recording's there \(RAM hash .*\)\); "
                      r"replaying again from event \d+, on the interpreter through event \d+$|"
                      r"KVM replay: 1 diverged free run replayed again)")
MEM_CHECKS = re.compile(r"^tandem: KVM replay: \d+ memory checks? passed$")
SNAPS = re.compile(r"^tandem: KVM replay: \d+ snapshots? \([0-9.]+ ms each on average\), \d+ "
                   r"instructions undone by fall-backs$")


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
        for spec in a.images:
            img, _, mode = spec.partition(":")
            mode = mode or "step"
            if mode not in ("step", "land", "fault", "memfault", "pmu"):
                fail(f"{spec}: the mode is step, land, fault, memfault or pmu, not {mode!r}")
            name = f"{os.path.basename(img)[:-4]}:{mode}"
            log = os.path.join(tmp, name.replace(":", "-") + ".rr")
            env = dict(os.environ)
            if mode == "memfault":
                env["TANDEM_RR_MEM_CHECK_NS"] = "0"
            r = subprocess.run(args(img, f"shift=auto,rr=record,rrfile={log}"),
                               capture_output=True, timeout=300, stdin=subprocess.DEVNULL,
                               env=env)
            out = r.stdout.decode(errors="replace")
            if r.returncode != 1 or "PASS" not in out:
                fail(f"{name}: the recording failed (status {r.returncode}):\n{out}\n"
                     f"{r.stderr.decode(errors='replace')}")
            dump = subprocess.run([tool, "dump", log], capture_output=True, text=True).stdout
            recorded[name] = (r.returncode, out, mode)
            files += [img, log]
            accel = {"step": "kvm,landing=step", "pmu": "kvm,landing=pmu"}.get(mode, "kvm")
            extra = []
            if mode == "fault":
                ics = [int(x) for x in re.findall(r" icount=(\d+)", dump)]
                if len(ics) < 6:
                    fail(f"{name}: too few events in the recording for the fault test")
                extra = ["-rr-perturb", f"{(ics[3] + ics[4]) // 2},4"]
            if mode == "memfault":
                tsc = [int(x) for x in re.findall(r" tsc icount=(\d+) .* ram_hash=", dump)]
                if len(tsc) < 6:
                    fail(f"{name}: too few memory checks in the recording for the test")
                extra = ["-rr-perturb", f"{(tsc[3] + tsc[4]) // 2},ram:{UNTOUCHED:#x}"]
            line = " ".join(shlex.quote(x) for x in
                            args(img, f"shift=auto,rr=replay,rrfile={log}", accel) + extra)
            cmds.append(line)
            print(f"{name}: recorded ({len(dump.splitlines())} log lines); replay: {line}")
        res = run_nested(a.nested, cmds, a.timeout, a.workdir, files, no_arg_files=True)
    bad, total, free = [], 0, 0
    for n, name in enumerate(recorded, 1):
        if n not in res:
            bad.append(f"{name}: no result (the replay did not finish)")
            continue
        st, lines = res[n]
        est, eout, mode = recorded[name]
        serial = "\n".join(x for x in lines if not x.startswith("tandem: "))
        msgs = [x for x in lines if x.startswith("tandem: ")]
        m = next((REPORT.match(x) for x in msgs if REPORT.match(x)), None)
        refused = next((x for x in lines if PMU_REFUSED.search(x)), None)
        if mode == "pmu" and refused and not m:
            # No usable counter on this host: refused at once, saying why.
            if st == 0 or serial.strip():
                bad.append(f"{name}: refused the PMU but status {st}, output:\n{serial}")
            else:
                print(f"PASS {name}: no PMU counter here, refused: {refused}")
            continue
        problems = []
        if st != est:
            problems.append(f"exit status {st}, recorded {est}")
        if serial.replace("\r\n", "\n").strip() != eout.replace("\r\n", "\n").strip():
            problems.append("serial output differs from the recording's")
        if not m:
            problems.append("no KVM replay report (did the replay run on KVM?)")
        elif int(m.group(1)) < MIN_KVM_INSNS:
            problems.append(f"only {m.group(1)} instructions on KVM")
        elif mode != "step" and int(m.group(2) or 0) < MIN_FREE_INSNS:
            problems.append(f"only {m.group(2) or 0} instructions in free runs on KVM")
        else:
            total += int(m.group(1))
            free += int(m.group(2) or 0)
        pmu = next((PMU_REPORT.match(x) for x in msgs if PMU_REPORT.match(x)), None)
        if mode == "pmu" and not pmu:
            problems.append("no PMU counter report")
        fault = [x for x in msgs if FAULT.match(x)]
        if mode == "fault" and len(fault) != 3:
            problems.append("expected the perturbation, one divergence warning and one "
                            f"fall-back, got: {fault}")
        memfault = [x for x in msgs if MEMFAULT.match(x)]
        if mode == "memfault" and len(memfault) != 3:
            problems.append("expected the RAM perturbation, one failed memory check and one "
                            f"fall-back, got: {memfault}")
        others = [x for x in msgs if not REPORT.match(x) and "handed to the" not in x and
                  "final state matches the recording" not in x and not LANDINGS.match(x) and
                  not BP_NOTE.match(x) and not (mode == "fault" and FAULT.match(x)) and
                  not (mode == "memfault" and MEMFAULT.match(x)) and
                  not PMU_REPORT.match(x) and not MEM_CHECKS.match(x) and
                  not SNAPS.match(x)]
        if not any("final state matches the recording" in x for x in msgs):
            problems.append("the replay did not confirm the final state")
        if others:
            problems.append("emulator messages:\n" + "\n".join(others))
        if problems:
            bad.append(f"{name}:\n  " + "\n  ".join(problems))
        else:
            land = next((x for x in msgs if LANDINGS.match(x)), "")
            print(f"PASS {name}: {m.group(0)[len('tandem: KVM replay: '):]}"
                  + (f"\n  {land[len('tandem: KVM replay: '):]}" if land else ""))
    if bad:
        fail("\n\n".join(bad))
    print(f"PASS: {len(recorded)} x86 recordings replay on KVM exactly ({total} instructions "
          f"on KVM, {free} of them in free runs)")


if __name__ == "__main__":
    main()
