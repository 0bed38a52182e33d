"""The gdb stub on the x86 interpreter with a real client: Debian's
gdb-multiarch in batch mode against tests/guests/x86/x86_gdb.c (found
through its ELF symbols) on the pc board.

  x86_64 (lm64 guest, i386:x86-64 description): break at a label, known
        values in general, segment, x87 (st0/st1 as ST(i)), SSE (xmm0 as
        dwords, xmm1 as doubles) and MXCSR registers; register writes
        (GPR, x87, SSE); memory read and write; 30 stepi whose RIPs and RCX
        values equal those QEMU's gdb stub reports for the same guest (a
        REP STOSB steps one iteration at a time, as on hardware); a write
        watchpoint reported after the store (gdb's x86 port expects that)
        at the same RIP as QEMU; detach (the guest then runs to PASS);
  kill: kill ends the emulator;
  i386 (pm32 guest on tandem-system-i386, i386 description): 32-bit
        registers, x87/SSE, stepi against qemu-system-i386, a watchpoint,
        continue to the end;
  target.xml: served and well formed, its register sizes add up to the
        'g' reply (gdb never says "Remote 'g' packet reply is too long");
  -gdb under -accel kvm is refused.

usage: test_gdb_x86.py LM64.elf LM64.bin PM32.elf PM32.bin"""
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

from gdbtest import GdbRun
from tandemtest import REPO, binary, fail

elf64, bin64, elf32, bin32 = sys.argv[1:5]
for e in (elf64, bin64, elf32, bin32):
    if not os.path.exists(e):
        fail(f"{e} was not built")
run = GdbRun("tandem-gdb-x86-")
tmp = run.tmp
free_port, start, output, finish = run.free_port, run.start, run.output, run.finish
RUN_QEMU = os.path.join(REPO, "tests", "guests", "x86", "run_qemu.sh")


def tandem(arch, img, port, extra=(), name="tandem"):
    return start([binary(arch), "-M", "pc", "-m", "128M", "-nographic", "-serial", "stdio",
                  "-monitor", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                  "-bios", img, "-gdb", f"tcp:127.0.0.1:{port}", "-S"] + list(extra), name)


def qemu(arch, img, port, name):
    """The reference: QEMU TCG with the CPU model of run_qemu.sh."""
    exe = shutil.which("qemu-system-" + arch)
    if not exe:
        fail(f"qemu-system-{arch} is missing (./setup.sh installs it): it gives the reference trace")
    env = dict(os.environ, QEMU=exe, TIMEOUT="120")
    return start([RUN_QEMU, img, "-gdb", f"tcp:127.0.0.1:{port}", "-S"], name, env)


def gdb(arch, elf, port, commands):
    out = run.gdb(arch, elf, port, commands)
    if "reply is too long" in out or "Truncated register" in out:
        fail(f"gdb rejected the register layout:\n{out[-3000:]}")
    return out


def want(out, pattern, what):
    m = re.search(pattern, out, re.M)
    if not m:
        fail(f"{what}: no match for {pattern!r} in gdb's output:\n{out[-4000:]}")
    return m


def sym(elf, name):
    r = subprocess.run(["nm", elf], capture_output=True, text=True, check=True)
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) == 3 and f[2] == name:
            return int(f[0], 16)
    fail(f"{name} not in {elf}")


STEPS = 30


def step_cmds(reg):
    return f"""
set $i = 0
while $i < {STEPS}
  stepi
  printf "STEP %d 0x%lx 0x%lx\\n", $i, $pc, ${reg}
  set $i = $i + 1
end
"""


def steps(out):
    return re.findall(r"^STEP (\d+) (0x[0-9a-f]+) (0x[0-9a-f]+)$", out, re.M)


def compare(trace, qtrace, what):
    if len(trace) != STEPS:
        fail(f"{what}: {len(trace)} stepi reported, expected {STEPS}")
    if qtrace != trace:
        diff = [f"step {a[0]}: tandem {a[1]} {a[2]}, qemu {b[1]} {b[2]}"
                for a, b in zip(trace, qtrace) if a != b]
        fail(f"{what}: stepi (pc, counter) differ from QEMU's:\n" + "\n".join(diff[:10]) +
             f"\n(tandem {len(trace)} steps, qemu {len(qtrace)})")


def passed(proc, name):
    # isa-debug-exit: the guest writes 0 (PASS), the emulator exits 1.
    st = finish(proc, name)
    if st != 1 or "TEST x86_gdb: PASS" not in output(name):
        fail(f"{name}: the guest must run to PASS (status {st}):\n{output(name)[-3000:]}")


here64 = sym(elf64, "gdb_regs_here")
buf64 = sym(elf64, "gdb_buf")
REP64 = here64 + 2           # mov $0x5a, %al is 2 bytes; then rep stosb

# ---- x86_64: the tour ----
TOUR64_STOP = """
break *gdb_regs_here
continue
"""
WATCH = """
delete
watch gdb_counter
continue
printf "WATCHPC 0x%lx\\n", $pc
continue
delete
"""
port = free_port()
t = tandem("x86_64", bin64, port)
out = gdb("i386:x86-64", elf64, port, TOUR64_STOP + """
printf "PC 0x%lx 0x%lx\\n", $pc, &gdb_regs_here
info registers rax rbx rcx rdx rsi rdi r8 r12 rip eflags cs ss ds
printf "RSP 0x%lx\\n", $rsp
p $st0
p $st1
p sizeof($st0)
info registers xmm0
p $xmm1.v2_double
info registers mxcsr fctrl fstat ftag
set $old_r9 = $r9
set $r9 = 0x5a5a5a5a5a5a5a5a
printf "R9 0x%lx\\n", $r9
set $r9 = $old_r9
set $xmm2.v4_int32[1] = 0x12345678
printf "XMM2 0x%x\\n", $xmm2.v4_int32[1]
set $st3 = 2.5
p $st3
set var gdb_result = 0x1234
printf "RESULT 0x%lx\\n", gdb_result
""" + step_cmds("rcx") + """
x/4xb &gdb_buf
""" + WATCH + """
info registers
info registers fs_base gs_base k_gs_base
detach
""")
m = want(out, r"^PC (0x[0-9a-f]+) (0x[0-9a-f]+)$", "rip at the breakpoint")
if m.group(1) != m.group(2) or int(m.group(1), 16) != here64:
    fail(f"stopped at {m.group(1)}, not at gdb_regs_here ({here64:#x})")
for reg, val in (("rax", "0x1111111111111111"), ("rbx", "0x2222222222222222"),
                 ("rcx", "0x3"), ("rdx", "0x3333333333333333"), ("rsi", "0x4444444444444444"),
                 ("rdi", hex(buf64)), ("r8", "0x5555555555555555"),
                 ("r12", "0x6666666666666666"), ("rip", hex(here64)), ("cs", "0x18"),
                 ("ss", "0x10"), ("ds", "0x10")):
    want(out, rf"^{reg}\s+{val}\s", f"{reg} at gdb_regs_here")
want(out, r"^eflags\s+0x[0-9a-f]+\s+\[", "eflags as flags")
want(out, r"^RSP 0x1[0-9a-f]{5}$", "rsp in the guest's stack (RAM at 1 MiB)")
want(out, r"^\$1 = 3\.14159265358979323", "st0 = pi (fldpi last)")
want(out, r"^\$2 = 1$", "st1 = 1 (fld1 first)")
want(out, r"^\$3 = 10$", "st0 is 10 bytes")
want(out, r"v4_int32 = \{0x11223344, 0x55667788, 0x99aabbcc, 0xddeeff00\}", "xmm0 dwords")
want(out, r"^\$4 = \{1\.5, -2\.25\}$", "xmm1 doubles")
want(out, r"^mxcsr\s+0x1f80\s+\[ IM DM ZM OM UM PM \]", "mxcsr")
want(out, r"^fctrl\s+0x37f\s", "fctrl after FNINIT")
want(out, r"^fstat\s+0x3000\s", "fstat: TOP = 6 after two loads")
want(out, r"^ftag\s+0xfff\s", "ftag: R6 and R7 valid, the rest empty")
want(out, r"^R9 0x5a5a5a5a5a5a5a5a$", "register write (r9)")
want(out, r"^XMM2 0x12345678$", "register write (xmm2)")
want(out, r"^\$5 = 2\.5$", "register write (st3)")
want(out, r"^RESULT 0x1234$", "memory write")
trace = steps(out)
if len(trace) != STEPS:
    fail(f"{len(trace)} stepi reported, expected {STEPS}")
rep = [(pc, rcx) for _, pc, rcx in trace[:4]]
if rep != [(hex(REP64), "0x3"), (hex(REP64), "0x2"), (hex(REP64), "0x1"),
           (hex(REP64 + 2), "0x0")]:
    fail(f"stepi through REP STOSB (3 iterations, one per step): {rep}")
want(out, r"<gdb_buf>:\s+0x5a\s+0x5a\s+0x5a\s+0x00", "x/4xb of gdb_buf after REP STOSB")
want(out, r"Hardware watchpoint 2: gdb_counter\s+Old value = 0\s+New value = 1\b",
     "write watchpoint on gdb_counter (first write)")
want(out, r"Old value = 1\s+New value = 3\b", "write watchpoint (second write)")
watch_pc = want(out, r"^WATCHPC (0x[0-9a-f]+)$", "rip after the watchpoint").group(1)
for reg in ("rax", "r15", "rip", "eflags", "gs", "fs_base", "gs_base", "k_gs_base"):
    want(out, rf"^{reg}\s+0x[0-9a-f]+", f"info registers shows {reg}")
want(out, r"Detaching|detached", "detach")
passed(t, "tandem")
print("PASS x86_64 tour")

# The reference: QEMU's stub, same guest, same commands.
port = free_port()
q = qemu("x86_64", bin64, port, "qemu")
qout = gdb("i386:x86-64", elf64, port, TOUR64_STOP + step_cmds("rcx") + WATCH + "kill\n")
finish(q, "qemu")
compare(trace, steps(qout), "x86_64")
qwatch = want(qout, r"^WATCHPC (0x[0-9a-f]+)$", "QEMU: rip after the watchpoint").group(1)
if qwatch != watch_pc:
    fail(f"watchpoint stop at {watch_pc}, QEMU stops at {qwatch}")
print(f"PASS {STEPS} stepi and the watchpoint stop match QEMU")

# ---- kill ----
port = free_port()
t = tandem("x86_64", bin64, port, name="kill")
out = gdb("i386:x86-64", elf64, port, "break gdb_tick\ncontinue\nkill\n")
want(out, r"Breakpoint 1, gdb_tick \(i=(i@entry=)?1\)", "stop at gdb_tick")
finish(t, "kill", timeout=30)
if "PASS" in output("kill"):
    fail("the guest ran on after kill")
print("PASS kill")

# ---- i386 ----
here32 = sym(elf32, "gdb_regs_here")
TOUR32_STOP = "break *gdb_regs_here\ncontinue\n"
port = free_port()
t = tandem("i386", bin32, port, name="i386")
out = gdb("i386", elf32, port, TOUR32_STOP + """
printf "PC32 0x%x 0x%x\\n", $pc, &gdb_regs_here
p sizeof($pc)
info registers eax ebx ecx edx esi cs
p $st0
info registers xmm0
p $xmm1.v2_double
""" + step_cmds("ecx") + WATCH + """
continue
""")
m = want(out, r"^PC32 (0x[0-9a-f]+) (0x[0-9a-f]+)$", "i386 eip")
if m.group(1) != m.group(2) or int(m.group(1), 16) != here32:
    fail("i386: not stopped at gdb_regs_here")
want(out, r"^\$1 = 4$", "i386: pc is 4 bytes")
for reg, val in (("eax", "0x11111111"), ("ebx", "0x22222222"), ("ecx", "0x3"),
                 ("edx", "0x33333333"), ("esi", "0x44444444"), ("cs", "0x8")):
    want(out, rf"^{reg}\s+{val}\s", f"i386: {reg} at gdb_regs_here")
want(out, r"^\$2 = 3\.14159265358979323", "i386: st0")
want(out, r"v4_int32 = \{0x11223344, 0x55667788, 0x99aabbcc, 0xddeeff00\}", "i386: xmm0")
want(out, r"^\$3 = \{1\.5, -2\.25\}$", "i386: xmm1 doubles")
want(out, r"Old value = 0\s+New value = 1\b", "i386: watchpoint")
trace32 = steps(out)
watch32 = want(out, r"^WATCHPC (0x[0-9a-f]+)$", "i386: eip after the watchpoint").group(1)
want(out, r"exited with code 01|exited normally|Remote connection closed|W01",
     "i386: the guest ran to its end")
passed(t, "i386")
port = free_port()
q = qemu("i386", bin32, port, "qemu32")
qout = gdb("i386", elf32, port, TOUR32_STOP + step_cmds("ecx") + WATCH + "kill\n")
finish(q, "qemu32")
compare(trace32, steps(qout), "i386")
qwatch = want(qout, r"^WATCHPC (0x[0-9a-f]+)$", "QEMU i386: eip after the watchpoint").group(1)
if qwatch != watch32:
    fail(f"i386: watchpoint stop at {watch32}, QEMU stops at {qwatch}")
print("PASS i386")


# ---- target.xml and 'g' through the raw protocol ----
def raw_session(arch, img):
    port = free_port()
    p = tandem(arch, img, port, name="raw-" + arch)
    for _ in range(100):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            break
        except OSError:
            time.sleep(0.05)
    else:
        fail("the stub did not accept a connection")
    buf = b""

    def cmd(pkt):
        nonlocal buf
        cs = sum(pkt.encode()) & 0xff
        s.sendall(f"${pkt}#{cs:02x}".encode())
        while True:
            m = re.search(rb"\$([^#]*)#[0-9a-f]{2}", buf)
            if m:
                buf = buf[m.end():]
                s.sendall(b"+")
                return m.group(1).decode()
            data = s.recv(65536)
            if not data:
                fail("the stub closed the connection")
            buf += data

    xml = ""
    while True:
        r = cmd(f"qXfer:features:read:target.xml:{len(xml):x},800")
        if r[0] not in "ml":
            fail(f"qXfer target.xml: {r!r}")
        xml += re.sub(r"\}(.)", lambda m: chr(ord(m.group(1)) ^ 0x20), r[1:])
        if r[0] == "l":
            break
    g = cmd("g")
    cmd("k")
    s.close()
    finish(p, "raw-" + arch, timeout=30)
    return xml, g


for arch, want_arch, nregs, pc_bits in (("x86_64", "i386:x86-64", 60, 64),
                                        ("i386", "i386", 41, 32)):
    xml, g = raw_session(arch, bin64 if arch == "x86_64" else bin32)
    root = ET.fromstring(xml)
    if root.findtext("architecture") != want_arch:
        fail(f"{arch}: architecture {root.findtext('architecture')!r}, expected {want_arch}")
    feats = [f.get("name") for f in root.findall("feature")]
    if feats[:2] != ["org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse"]:
        fail(f"{arch}: features {feats}")
    regs = root.findall("feature/reg")
    nums = [int(r.get("regnum")) for r in regs]
    if nums != list(range(nregs)):
        fail(f"{arch}: register numbers {nums}")
    bits = {r.get("name"): int(r.get("bitsize")) for r in regs}
    if bits.get("st0") != 80 or bits.get("xmm0") != 128 or bits.get("eflags") != 32 or \
            bits.get("rip" if pc_bits == 64 else "eip") != pc_bits:
        fail(f"{arch}: register sizes {bits}")
    if len(g) * 4 != sum(bits.values()):
        fail(f"{arch}: 'g' has {len(g) // 2} bytes, target.xml describes {sum(bits.values()) // 8}")
    # At reset: RIP 0xfff0, EDX the CPUID signature, CS F000.
    if g[16 * (pc_bits // 4) if pc_bits == 64 else 8 * 8:][:8] != "f0ff0000":
        fail(f"{arch}: reset rip in 'g': {g[:300]}")
print("PASS target.xml and 'g'")

# ---- -gdb under KVM: refused ----
r = subprocess.run([binary("x86_64"), "-M", "pc", "-accel", "kvm", "-nographic", "-monitor",
                    "none", "-bios", bin64, "-gdb", f"tcp:127.0.0.1:{free_port()}"],
                   capture_output=True, timeout=20, stdin=subprocess.DEVNULL)
err = r.stderr.decode(errors="replace")
if r.returncode == 0 or not ("no debugger support" in err or "kvm" in err.lower()):
    fail(f"-gdb with -accel kvm: expected a refusal, got {r.returncode}: {err!r}")
print("PASS -gdb refused under kvm" if "no debugger support" in err else
      "PASS -accel kvm unavailable here (" + err.strip()[:80] + ")")
shutil.rmtree(tmp, ignore_errors=True)
print("PASS test_gdb_x86")
