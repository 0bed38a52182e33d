#!/usr/bin/env python3
"""Run KVM tests on a host that has /dev/kvm itself, in place of nested.py.

The KVM system tests (test_kvm_guests_x86.py, test_kvm_switch_x86.py,
test_rr_kvm_x86.py, test_linux_kvm_x86.py) take `--nested PATH`: the
program that runs their command lines where /dev/kvm exists.  nested.py
boots a Linux guest with a nested /dev/kvm for that; this program runs the
commands directly on this host (a real x86 machine or a VM with nested
virtualisation), so the same tests run against real hardware:

    tests/system/test_kvm_guests_x86.py --nested tests/kvm/direct.py IMAGE...

It speaks nested.py's protocol: `@@nested-kvm-ready`, then for command n
`@@nested-run n: CMD`, its output, `@@nested-exit n STATUS`, and finally
`@@nested-done`; its exit status is 0 when every command exited 0, else the
first failing command's status; 99 with a `nested: FAILED: ...` line when
/dev/kvm cannot be opened or the time limit ran out.

nested.py's options that shape the nested guest (--cpu, --mem, --kernel,
--modules-dir, --busybox, --qemu, --compress, --workdir, --file,
--no-arg-files) describe a machine this program does not build: the host's
own CPU, memory and files are what the commands see.  They are accepted so
that a test's command line works unchanged, and this program prints one
line saying which of them it did not apply."""
import argparse
import os
import shlex
import subprocess
import sys
import time

NOT_APPLIED = ("cpu", "mem", "kernel", "modules_dir", "busybox", "qemu", "compress",
               "workdir", "file", "no_arg_files")


def main(argv):
    cmd = []
    if "--" in argv:
        i = argv.index("--")
        argv, cmd = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--commands", metavar="FILE", help="command lines, one a line")
    ap.add_argument("--timeout", type=float, default=300, help="whole run, seconds")
    ap.add_argument("--env", action="append", default=[], metavar="K[=V]")
    ap.add_argument("--cwd")
    for o in ("--cpu", "--mem", "--kernel", "--modules-dir", "--busybox", "--qemu",
              "--workdir"):
        ap.add_argument(o)
    ap.add_argument("--compress", type=int)
    ap.add_argument("--file", action="append", default=[])
    ap.add_argument("--no-arg-files", action="store_true")
    a = ap.parse_args(argv)
    if bool(cmd) == bool(a.commands):
        ap.error("give either -- CMD [ARGS...] or --commands FILE")
    cmds = [cmd] if cmd else []
    if a.commands:
        with open(a.commands) as f:
            cmds += [shlex.split(ln) for ln in (x.strip() for x in f)
                     if ln and not ln.startswith("#")]
    given = [o for o in NOT_APPLIED if getattr(a, o) not in (None, [], False)]
    if given:
        print("direct: running on this host itself; not applied: "
              + ", ".join("--" + o.replace("_", "-") for o in given), flush=True)
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
    except OSError as e:
        print(f"nested: FAILED: /dev/kvm cannot be opened on this host: {e.strerror}",
              flush=True)
        return 99
    env = dict(os.environ)
    for kv in a.env:
        k, sep, v = kv.partition("=")
        if sep:
            env[k] = v
    print("@@nested-kvm-ready", flush=True)
    deadline = time.monotonic() + a.timeout
    first_bad = 0
    for n, c in enumerate(cmds, 1):
        shown = " ".join(shlex.quote(x) for x in c)
        print(f"@@nested-run {n}: {shown}", flush=True)
        left = deadline - time.monotonic()
        try:
            r = subprocess.run(c, stdin=subprocess.DEVNULL, stdout=sys.stdout,
                               stderr=subprocess.STDOUT, cwd=a.cwd, env=env,
                               timeout=max(left, 1))
            st = r.returncode if r.returncode >= 0 else 128 - r.returncode
        except subprocess.TimeoutExpired:
            print(f"nested: FAILED: timed out after {a.timeout:.0f} s in command {n}: "
                  f"{shown}", flush=True)
            return 99
        except OSError as e:
            print(f"@@nested-error command {n}: {e}", flush=True)
            st = 127
        sys.stdout.flush()
        print(f"@@nested-exit {n} {st}", flush=True)
        if st and not first_bad:
            first_bad = st
    print("@@nested-done", flush=True)
    return first_bad


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
