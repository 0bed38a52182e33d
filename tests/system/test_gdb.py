"""The gdb stub with a real client: Debian's gdb-multiarch in batch mode
against the purpose-built bare-metal guest (tests/guests/riscv/gdb_guest.c),
found through its ELF symbols.

  rv64: break at a function, continue, registers and memory (read and
        write), 40 stepi whose PCs must equal the ones QEMU's gdb stub
        reports for the same guest (the reference forward trace), a write
        watchpoint, info registers (FP included), detach (the guest then
        runs to its PASS);
  rv64 kill: kill ends the emulator;
  rv32: the 32-bit register file and target description;
  replay: a recorded run replayed under gdb with breakpoints and a
        watchpoint still replays to the end (stops do not perturb it), and
        writes are refused.

usage: test_gdb.py GUEST64.elf GUEST32.elf"""
import os
import re
import shutil
import subprocess
import sys

from gdbtest import GdbRun
from tandemtest import BUILD, binary, fail

elf64, elf32 = sys.argv[1], sys.argv[2]
for e in (elf64, elf32):
    if not os.path.exists(e):
        fail(f"{e} was not built")
run = GdbRun("tandem-gdb-")
tmp = run.tmp
free_port, start, output, finish = run.free_port, run.start, run.output, run.finish


def tandem(elf, xlen, port, extra=(), name="tandem"):
    return start([binary("riscv" + str(xlen)), "-M", "virt", "-m", "128M", "-nographic",
                  "-serial", "stdio", "-monitor", "none", "-bios", elf,
                  "-gdb", f"tcp:127.0.0.1:{port}", "-S"] + list(extra), name)


def gdb(xlen, elf, port, commands):
    return run.gdb(f"riscv:rv{xlen}", elf, port, commands)


def want(out, pattern, what):
    m = re.search(pattern, out, re.M)
    if not m:
        fail(f"{what}: no match for {pattern!r} in gdb's output:\n{out[-4000:]}")
    return m


STEPS = 40
STEP_CMDS = f"""
set $i = 0
while $i < {STEPS}
  stepi
  printf "STEP %d 0x%lx\\n", $i, $pc
  set $i = $i + 1
end
"""


def steps(out):
    return re.findall(r"^STEP (\d+) (0x[0-9a-f]+)$", out, re.M)


# ---- rv64: the tour ----
port = free_port()
t = tandem(elf64, 64, port)
out = gdb(64, elf64, port, """
break gdb_add
continue
info registers a0 a1
continue
printf "COUNTER %d\\n", gdb_counter
x/2xw &gdb_counter
set var gdb_result = 0x1234
printf "RESULT 0x%x\\n", gdb_result
set $old_t6 = $t6
set $t6 = 0x5a5a
printf "T6 0x%lx\\n", $t6
set $t6 = $old_t6
printf "BP 0x%lx 0x%lx\\n", $pc, &gdb_add
""" + STEP_CMDS + """
delete
watch gdb_counter
continue
printf "WATCHPC 0x%lx\\n", $pc
delete
info registers
info registers fcsr fflags frm
p $ft0
info target
detach
""")
want(out, r"Breakpoint 1, gdb_add \(a=(a@entry=)?0, b=(b@entry=)?1\)", "first stop at gdb_add")
want(out, r"^a0\s+0x0\s", "a0 at the first gdb_add")
want(out, r"^a1\s+0x1\s", "a1 at the first gdb_add")
want(out, r"Breakpoint 1, gdb_add \(a=(a@entry=)?1, b=(b@entry=)?2\)", "second stop at gdb_add")
want(out, r"^COUNTER 1$", "gdb_counter after one tick")
want(out, r"<gdb_counter>:\s+0x00000001\s+0x00000000", "x/2xw of gdb_counter")
want(out, r"^RESULT 0x1234$", "memory write")
want(out, r"^T6 0x5a5a$", "register write")
m = want(out, r"^BP (0x[0-9a-f]+) (0x[0-9a-f]+)$", "pc at the breakpoint")
if m.group(1) != m.group(2):
    fail(f"stopped at {m.group(1)}, not at gdb_add ({m.group(2)})")
trace = steps(out)
if len(trace) != STEPS:
    fail(f"{len(trace)} stepi reported, expected {STEPS}")
m = want(out, r"Hardware watchpoint 2: gdb_counter\s+Old value = (\d+)\s+New value = (\d+)",
         "write watchpoint on gdb_counter")
if int(m.group(2)) <= int(m.group(1)):
    fail(f"watchpoint values {m.group(1)} -> {m.group(2)}: gdb_counter only grows")
want(out, r"^WATCHPC 0x[0-9a-f]+$", "pc after the watchpoint")
for reg in ("ra", "sp", "gp", "t6", "pc", "fcsr", "fflags", "frm"):
    want(out, rf"^{reg}\s+0x[0-9a-f]+", f"info registers shows {reg}")
want(out, r"\{float = 0, double = 0\}", "ft0 as the FP union")
want(out, r"Detaching|detached", "detach")
if finish(t, "tandem") != 0 or "TEST gdb_guest: PASS" not in output("tandem"):
    fail(f"after detach the guest must run to PASS and exit 0:\n{output('tandem')[-3000:]}")
print("PASS rv64 tour")

# The reference trace: QEMU's stub, same guest, same commands.
qemu = shutil.which("qemu-system-riscv64")
if not qemu:
    fail("qemu-system-riscv64 is missing (./setup.sh installs it): it gives the reference trace")
port = free_port()
q = start([qemu, "-M", "virt", "-m", "128M", "-nographic", "-serial", "stdio",
           "-monitor", "none", "-bios", elf64, "-gdb", f"tcp:127.0.0.1:{port}", "-S"], "qemu")
qout = gdb(64, elf64, port, "break gdb_add\ncontinue\ncontinue\n" + STEP_CMDS + "kill\n")
finish(q, "qemu")
qtrace = steps(qout)
if qtrace != trace:
    diff = [f"step {a[0]}: tandem {a[1]} qemu {b[1]}" for a, b in zip(trace, qtrace) if a != b]
    fail("stepi PCs differ from QEMU's:\n" + "\n".join(diff[:10]) +
         f"\n(tandem {len(trace)} steps, qemu {len(qtrace)})")
print(f"PASS {STEPS} stepi match QEMU's trace")

# ---- rv64: kill ----
port = free_port()
t = tandem(elf64, 64, port, name="kill")
out = gdb(64, elf64, port, "break gdb_tick\ncontinue\nkill\n")
want(out, r"Breakpoint 1, gdb_tick \(i=(i@entry=)?1\)", "stop at gdb_tick")
finish(t, "kill", timeout=30)
if "PASS" in output("kill"):
    fail("the guest ran on after kill")
print("PASS kill")

# ---- rv32 ----
port = free_port()
t = tandem(elf32, 32, port, name="rv32")
out = gdb(32, elf32, port, """
break gdb_tick
continue
continue
printf "ARG %d\\n", $a0
printf "PC32 0x%x 0x%x\\n", $pc, &gdb_tick
stepi
stepi
info registers sp pc
p sizeof($pc)
p $fa0
delete
continue
""")
want(out, r"^ARG 2$", "rv32 a0 at the second gdb_tick")
m = want(out, r"^PC32 (0x[0-9a-f]+) (0x[0-9a-f]+)$", "rv32 pc")
if m.group(1) != m.group(2):
    fail("rv32: not stopped at gdb_tick")
want(out, r"^\$\d+ = 4$", "rv32 pc is 4 bytes")
want(out, r"exited normally", "rv32 guest ran to its end")
if finish(t, "rv32") != 0 or "TEST gdb_guest: PASS" not in output("rv32"):
    fail(f"rv32 guest did not pass:\n{output('rv32')[-3000:]}")
print("PASS rv32")

# ---- replay under gdb ----
log = os.path.join(tmp, "gdb.rr")
rec = subprocess.run([binary("riscv64"), "-M", "virt", "-m", "128M", "-nographic",
                      "-serial", "stdio", "-monitor", "none", "-bios", elf64,
                      "-icount", f"shift=0,rr=record,rrfile={log}"],
                     capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
if rec.returncode != 0 or b"PASS" not in rec.stdout:
    fail(f"recording failed: {rec.returncode}\n{rec.stdout[-2000:]}\n{rec.stderr[-2000:]}")
port = free_port()
t = tandem(elf64, 64, port, ["-icount", f"shift=0,rr=replay,rrfile={log}"], name="replay")
out = gdb(64, elf64, port, """
break gdb_tick
continue
continue
continue
printf "RCOUNTER %d\\n", gdb_counter
delete
watch gdb_counter
continue
delete
""" + STEP_CMDS.replace(str(STEPS), "5") + """
printf "RSTEPS\\n"
set var gdb_counter = 99
""")
# The refused write ends gdb's script (an error); gdb then detaches and
# the replay runs on to its end.
want(out, r"^RCOUNTER 3$", "gdb_counter at the third gdb_tick under replay")
want(out, r"Old value = 3\s+New value = 6", "watchpoint under replay")
want(out, r"^RSTEPS$", "stepi under replay")
want(out, r"Could not write|Cannot access memory|E01", "writes refused under replay")
st = finish(t, "replay")
rout = output("replay")
if st != 0 or "PASS" not in rout or re.search(r"diverg", rout, re.I):
    fail(f"replay under gdb did not replay cleanly (status {st}):\n{rout[-3000:]}")
print("PASS replay under gdb")
# ---- -S without gdb: the monitor's cont starts the CPU; options ----
import pexpect
import time
c = pexpect.spawn(binary("riscv64"), ["-M", "virt", "-m", "128M", "-nographic", "-S",
                                      "-bios", elf64], timeout=20)
try:
    c.expect("PASS", timeout=1)
    fail("-S: the guest ran before cont")
except pexpect.TIMEOUT:
    pass
c.send("\x01c")
time.sleep(0.2)
c.send("cont\r")
try:
    c.expect("TEST gdb_guest: PASS")
    c.expect(pexpect.EOF)
except (pexpect.TIMEOUT, pexpect.EOF):
    fail("-S: the monitor's cont did not start the guest")
print("PASS -S with the monitor")
for args, msg in ((["-S", "-monitor", "none"], "neither"),
                  (["-gdb", "udp::5"], "expected tcp::PORT"),
                  (["-gdb", "tcp::70000"], "from 1 to 65535"),
                  (["-s", "-gdb", "tcp::1235"], "only one gdb stub")):
    r = subprocess.run([binary("riscv64"), "-M", "virt", "-nographic", "-bios", elf64] + args,
                       capture_output=True, timeout=20, stdin=subprocess.DEVNULL)
    if r.returncode == 0 or msg not in r.stderr.decode():
        fail(f"{args}: expected an error with {msg!r}, got {r.returncode}: {r.stderr!r}")
print("PASS option errors")
shutil.rmtree(tmp, ignore_errors=True)
print("PASS test_gdb")
