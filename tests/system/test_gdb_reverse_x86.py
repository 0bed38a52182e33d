"""Reverse stepping on x86 replays (issue 8): for each guest, record it, replay
it under the gdb stub with snapshots every 1000 instructions, take N single
steps (the stub's: one per REP iteration, traps followed) and N reverse
steps, and require each reverse step to stop where the forward trace had
stopped, RIP and RCX (the REP count) alike; then reverse-continue to the
start of the log and continue to the end, where the replay must still
match its recording.

usage: test_gdb_reverse_x86.py STEPS IMAGE..."""
import os
import subprocess
import sys

from gdbtest import GdbRun, RawClient
from tandemtest import binary, fail

RIP, RCX = 16, 2     # x86_64 target description: rax rbx rcx ... rip
n_steps = int(sys.argv[1])
run = GdbRun("tandem-gdbrev86-")
for img in sys.argv[2:]:
    name = os.path.basename(img)
    m = [binary("x86_64"), "-M", "pc", "-m", "128M", "-nographic", "-serial", "stdio",
         "-monitor", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-bios", img]
    log = os.path.join(run.tmp, name + ".rr")
    rec = subprocess.run(m + ["-icount", f"shift=auto,rr=record,rrfile={log}"],
                         capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
    if rec.returncode != 1 or b"PASS" not in rec.stdout:
        fail(f"{name}: recording failed ({rec.returncode}):\n{rec.stdout[-2000:]}")
    port = run.free_port()
    t = run.start(m + ["-icount", f"shift=auto,rr=replay,rrfile={log}",
                       "-rr-snapshot-interval", "1000", "-gdb", f"tcp:127.0.0.1:{port}", "-S"],
                  name)
    c = RawClient(port, t, lambda: run.output(name))

    def where():
        return (c.reg(RIP), c.reg(RCX))

    # From test_main on (the boot code before it is mostly REP STOS).
    elf = img[:-4] + ".elf"
    syms = subprocess.run(["nm", elf], capture_output=True, text=True).stdout
    main = [int(l.split()[0], 16) for l in syms.splitlines() if l.endswith(" test_main")]
    if not main:
        fail(f"{name}: no test_main in {elf}")
    if c.ask(f"Z0,{main[0]:x},1") != "OK" or not c.ask("c").startswith("T05"):
        fail(f"{name}: could not stop at test_main")
    c.ask(f"z0,{main[0]:x},1")
    start = where()
    fwd = []
    for i in range(n_steps):
        r = c.ask("s")
        if not r.startswith("T05"):
            fail(f"{name}: forward step {i}: {r}")
        fwd.append(where())
    before = [start] + fwd[:-1]
    for j in range(n_steps):
        r = c.ask("bs")
        if not r.startswith("T05"):
            fail(f"{name}: reverse step {j}: {r}")
        got, exp = where(), before[n_steps - 1 - j]
        if got != exp:
            fail(f"{name}: reverse step {j} stopped at rip {got[0]:#x} rcx {got[1]:#x}, the "
                 f"forward trace had rip {exp[0]:#x} rcx {exp[1]:#x} (forward step "
                 f"{n_steps - 1 - j})")
    partial = sum(1 for a, b in zip(before, fwd) if a[0] == b[0])
    r = c.ask("bc")
    if "replaylog:begin" not in r:
        fail(f"{name}: reverse-continue without breakpoints: {r}")
    r = c.ask("c")
    if not r.startswith("W"):
        fail(f"{name}: continue to the end: {r}")
    st = run.finish(t, name, timeout=300)
    out = run.output(name)
    if "final state matches the recording" not in out:
        fail(f"{name}: the replay did not end matching its recording (status {st}):\n"
             f"{out[-3000:]}")
    print(f"PASS {name}: {n_steps} steps and reverse steps equal ({partial} steps stayed on "
          f"their instruction: REP iterations), replay still matches")
