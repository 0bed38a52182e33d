"""Reverse debugging with a real client: Debian's gdb-multiarch in batch mode
against RISC-V replays (issue 8, acceptance 1).

For each guest: record it, replay it under gdb with snapshots every 1000
instructions (so every reverse step crosses snapshot restores), then

  - break at a function, continue to its n-th hit;
  - stepi N times, printing each PC (the forward trace);
  - reverse-stepi N times: each PC must equal the forward trace's, in
    reverse, ending where the forward trace began;
  - reverse-continue: stops at the previous hit of the breakpoint;
  - a watchpoint found in reverse (gdb_guest: the write that set the
    counter, with the old and new values);
  - reverse-continue with no breakpoints: "No more reverse-execution
    history" at the first instruction of the log;
  - continue: the replay then runs to its end and still matches the
    recording, and the guest's output appears once (output already shown
    is not shown again after going back).

gdb_guest has no interrupts; rv_interrupts takes timer and software
interrupts and waits in WFI, so its traces cross interrupt entries, MRET
and idle waits.

usage: test_gdb_reverse.py GDB_GUEST64.elf INTERRUPTS64.elf"""
import os
import re
import subprocess
import sys

from gdbtest import GdbRun, RawClient
from tandemtest import binary, fail

gdb_elf, irq_elf = sys.argv[1], sys.argv[2]
for e in (gdb_elf, irq_elf):
    if not os.path.exists(e):
        fail(f"{e} was not built")
run = GdbRun("tandem-gdbrev-")
tmp = run.tmp


def want(out, pattern, what):
    m = re.search(pattern, out, re.M)
    if not m:
        fail(f"{what}: no match for {pattern!r} in gdb's output:\n{out[-4000:]}")
    return m


def machine(elf):
    return [binary("riscv64"), "-M", "virt", "-m", "128M", "-nographic", "-serial", "stdio",
            "-monitor", "none", "-bios", elf]


def record(elf, name):
    log = os.path.join(tmp, name + ".rr")
    rec = subprocess.run(machine(elf) + ["-icount", f"shift=0,rr=record,rrfile={log}"],
                         capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    if rec.returncode != 0 or b"PASS" not in rec.stdout:
        fail(f"{name}: recording failed ({rec.returncode}):\n{rec.stdout[-2000:]}\n"
             f"{rec.stderr[-2000:]}")
    return log, rec.stdout.decode(errors="replace")


def trace_cmds(n):
    return f"""
set $i = 0
while $i < {n}
  stepi
  printf "F %d 0x%lx\\n", $i, $pc
  set $i = $i + 1
end
set $i = 0
while $i < {n}
  reverse-stepi
  printf "R %d 0x%lx\\n", $i, $pc
  set $i = $i + 1
end
"""


def check_trace(out, n, start_pc, name):
    fwd = re.findall(r"^F (\d+) (0x[0-9a-f]+)$", out, re.M)
    rev = re.findall(r"^R (\d+) (0x[0-9a-f]+)$", out, re.M)
    if len(fwd) != n or len(rev) != n:
        fail(f"{name}: {len(fwd)} forward and {len(rev)} reverse steps, {n} expected:\n"
             f"{out[-3000:]}")
    # Before forward step i the PC was fwd[i-1] (start_pc for i = 0);
    # reverse step j goes back to before forward step n-1-j.
    before = [start_pc] + [pc for _, pc in fwd[:-1]]
    for j, (_, pc) in enumerate(rev):
        exp = before[n - 1 - j]
        if int(pc, 16) != int(exp, 16):
            fail(f"{name}: reverse-stepi {j} stopped at {pc}, the forward trace had {exp} "
                 f"(forward step {n - 1 - j})")
    distinct = len({pc for _, pc in fwd})
    print(f"{name}: {n} reverse-stepi equal to the forward trace ({distinct} distinct PCs)")
    return fwd


def replay_under_gdb(elf, log, name, commands):
    port = run.free_port()
    t = run.start(machine(elf) + ["-icount", f"shift=0,rr=replay,rrfile={log}",
                                  "-rr-snapshot-interval", "1000",
                                  "-gdb", f"tcp:127.0.0.1:{port}", "-S"], name)
    out = run.gdb("riscv:rv64", elf, port, commands)
    st = run.finish(t, name, timeout=120)
    return out, st, run.output(name)


def check_end(st, rout, rec_out, name):
    if st != 0 or "final state matches the recording" not in rout:
        fail(f"{name}: the replay did not finish matching the recording after reverse "
             f"execution (status {st}):\n{rout[-3000:]}")
    if rout.count("PASS") != rec_out.count("PASS"):
        fail(f"{name}: the guest's output differs from the recording's (output shown "
             f"twice after going back?):\n{rout[-3000:]}")


# ---- gdb_guest: breakpoints, the trace, a watchpoint in reverse ----
N = 1000
log, rec_out = record(gdb_elf, "gdb_guest")
out, st, rout = replay_under_gdb(gdb_elf, log, "gdb_guest", """
break gdb_tick
continue
continue
continue
printf "BP 0x%lx %d\\n", $pc, gdb_counter
""" + trace_cmds(N) + """
printf "BACK 0x%lx %d\\n", $pc, gdb_counter
reverse-continue
printf "RC 0x%lx %d %d\\n", $pc, gdb_counter, i
delete
watch gdb_counter
reverse-continue
printf "RW 0x%lx %d\\n", $pc, gdb_counter
delete
reverse-continue
printf "BEGIN 0x%lx\\n", $pc
continue
""")
bp = want(out, r"^BP (0x[0-9a-f]+) 3$", "third gdb_tick with the counter at 3")
start_pc = bp.group(1)
check_trace(out, N, start_pc, "gdb_guest")
want(out, rf"^BACK {start_pc} 3$", "back at the breakpoint after the reverse steps")
# The breakpoint's previous hit: gdb_tick(2), the counter at 1 (0 + 1).
want(out, rf"^RC {start_pc} 1 2$", "reverse-continue to the previous breakpoint hit")
# In reverse, the write that changed the counter last: 0 -> 1 in gdb_tick(1).
want(out, r"Old value = 1\s+New value = 0", "the watchpoint found in reverse")
rw = want(out, r"^RW (0x[0-9a-f]+) 0$", "stopped before the write")
syms = subprocess.run(["gdb-multiarch", "-nx", "-batch", "-ex", "info address gdb_tick",
                       gdb_elf], capture_output=True, text=True).stdout
m = re.search(r"at address (0x[0-9a-f]+)", syms)
if not m or not 0 <= int(rw.group(1), 16) - int(m.group(1), 16) < 0x40:
    fail(f"the reverse watchpoint stopped at {rw.group(1)}, not in gdb_tick ({syms.strip()})")
want(out, r"No more reverse-execution history", "reverse-continue to the start of the log")
want(out, r"^BEGIN 0x0*1000$", "the start of the log is the reset vector")
check_end(st, rout, rec_out, "gdb_guest")
print("PASS gdb_guest reverse session")

# ---- rv_interrupts: hardware steps across interrupts, MRET and WFI ----
# gdb steps RISC-V in software (a breakpoint at the next PC it computes,
# then continue), so its stepi runs whole trap handlers and cannot cross an
# MRET; the stub's own single step ('s') retires exactly one instruction
# and follows traps.  A raw client drives 's' and 'bs' here.
N = 3000
log, rec_out = record(irq_elf, "rv_interrupts")
port = run.free_port()
t = run.start(machine(irq_elf) + ["-icount", f"shift=0,rr=replay,rrfile={log}",
                                  "-rr-snapshot-interval", "1000",
                                  "-gdb", f"tcp:127.0.0.1:{port}", "-S"], "raw")
c = RawClient(port, t, lambda: run.output('raw'))
syms = subprocess.run(["gdb-multiarch", "-nx", "-batch", "-ex", "info address rt_mtrap_entry",
                       "-ex", "info address rt_mtrap_c", irq_elf],
                      capture_output=True, text=True).stdout
addrs = [int(a, 16) for a in re.findall(r"(?:at address|is at) (0x[0-9a-f]+)", syms)]
if len(addrs) != 2:
    fail(f"rv_interrupts: symbols not found: {syms}")
entry, handler = addrs
# To the fourth trap handler (where the timer tests start), then trace.
r = c.ask(f"Z0,{handler:x},2")
for _ in range(4):
    r = c.ask("c")
    if not r.startswith("T05"):
        fail(f"rv_interrupts: continue to rt_mtrap_c: {r}")
c.ask(f"z0,{handler:x},2")
start = c.reg(0x20)
fwd = []
for i in range(N):
    r = c.ask("s")
    if not r.startswith("T05"):
        fail(f"rv_interrupts: forward step {i}: {r}")
    fwd.append(c.reg(0x20))
before = [start] + fwd[:-1]
for j in range(N):
    r = c.ask("bs")
    if not r.startswith("T05"):
        fail(f"rv_interrupts: reverse step {j}: {r}")
    pc = c.reg(0x20)
    if pc != before[N - 1 - j]:
        fail(f"rv_interrupts: reverse step {j} stopped at {pc:#x}, the forward trace had "
             f"{before[N - 1 - j]:#x} (forward step {N - 1 - j})")
# A step that takes a trap stops after the handler's first instruction.
entries = sum(1 for a, b in zip(before, fwd) if not entry <= a < entry + 8 and
              entry <= b < entry + 8)
if entries < 3:
    fail(f"rv_interrupts: the forward trace enters the trap handler {entries} times; the "
         f"test wants traces that cross traps")
print(f"rv_interrupts: {N} reverse steps equal to the forward trace, across {entries} trap "
      f"entries ({len(set(fwd))} distinct PCs)")
# Back to the start of the log, then forward to its end.
r = c.ask("bc")
if "replaylog:begin" not in r or c.reg(0x20) != 0x1000:
    fail(f"rv_interrupts: reverse-continue without breakpoints: {r}, pc {c.reg(0x20):#x}")
r = c.ask("c")
if not r.startswith("W"):
    fail(f"rv_interrupts: continue to the end: {r}")
st = run.finish(t, "raw", timeout=120)
check_end(st, run.output("raw"), rec_out, "rv_interrupts")
print("PASS rv_interrupts reverse steps")
