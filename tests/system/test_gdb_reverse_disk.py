"""Reverse execution over disk writes (issue 8): the replay timeline keeps
what each disk write overwrites and writes it back when it goes back.

A boot sector (SeaBIOS, IDE through QEMU's blkreplay command line with
snapshot=on) reads sector 2, increments its first byte, writes it back and
prints it, six times.  The recording is replayed under the gdb stub: continue
to the end of the loop, reverse-continue to the start of the log, continue to
the end.  The second pass must read the disk as the first did (blkreplay
checks every request's data against the log), print nothing twice, end
matching the recording, and leave the image untouched.

usage: test_gdb_reverse_disk.py"""
import hashlib
import os
import subprocess

from gdbtest import GdbRun, RawClient
from tandemtest import binary, fail, need

need("/usr/share/seabios/bios.bin")
# .code16 at 0x7c00: cli; ds = es = ss = 0; sp = 0x7c00; di = 6
# 1: INT 13h AH=02 (read CHS 0/0/2 to 0:7e00); inc byte [0x7e00];
#    INT 13h AH=03 (write it back); out 0x3f8, [0x7e00]; dec di; jnz 1b
#    out 0x3f8, '\n'; out 0x501, 0x2a (isa-debug-exit); 2: hlt; jmp 2b
MBR = bytes.fromhex(
    "fa31c08ed88ec08ed0bc007cbf0600b80102b90200ba8000bb007ecd13fe0600"
    "7eb80103b90200ba8000bb007ecd13a0007ebaf803ee4f75d6b00aeeba0105b0"
    "2aeef4ebfd")
AFTER_LOOP = 0x7c37          # mov $10, %al

run = GdbRun("tandem-gdbrevdisk-")
disk = os.path.join(run.tmp, "disk.raw")
img = bytearray(1 << 20)
img[:len(MBR)] = MBR
img[510:512] = b"\x55\xaa"
img[512] = ord("A")
with open(disk, "wb") as f:
    f.write(img)
before = hashlib.md5(open(disk, "rb").read()).hexdigest()
m = [binary("x86_64"), "-M", "pc", "-m", "128M", "-nographic", "-monitor", "none",
     "-device", "isa-debug-exit",
     "-drive", f"file={disk},if=none,snapshot=on,id=img-direct",
     "-drive", "driver=blkreplay,if=none,image=img-direct,id=img-blkreplay",
     "-device", "ide-hd,drive=img-blkreplay"]
log = os.path.join(run.tmp, "disk.rr")
rec = subprocess.run(m + ["-icount", f"shift=auto,rr=record,rrfile={log}"],
                     capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
# SeaBIOS prints between the first two characters.
if rec.returncode != 85 or b"B" not in rec.stdout or b"CDEFG\n" not in rec.stdout:
    fail(f"recording: status {rec.returncode}, output {rec.stdout[-500:]!r}\n"
         f"{rec.stderr.decode(errors='replace')[-2000:]}")

port = run.free_port()
t = run.start(m + ["-icount", f"shift=auto,rr=replay,rrfile={log}",
                   "-gdb", f"tcp:127.0.0.1:{port}", "-S"], "replay")
c = RawClient(port, t, lambda: run.output("replay"))
if c.ask(f"Z0,{AFTER_LOOP:x},1") != "OK":
    fail("cannot set the breakpoint")
r = c.ask("c")
if not r.startswith("T05"):
    fail(f"continue to the end of the loop: {r}\n{run.output('replay')[-2000:]}")
c.ask(f"z0,{AFTER_LOOP:x},1")
r = c.ask("bc")
if "replaylog:begin" not in r:
    fail(f"reverse-continue to the start: {r}\n{run.output('replay')[-2000:]}")
r = c.ask("c")
if not r.startswith("W"):
    fail(f"continue to the end: {r}\n{run.output('replay')[-3000:]}")
st = run.finish(t, "replay", timeout=120)
out = run.output("replay")
if "final state matches the recording" not in out or st != 85:
    fail(f"the replay did not end matching after going back over the disk writes "
         f"(status {st}):\n{out[-3000:]}")
if out.count("CDEFG") != 1 or out.count("Booting from Hard Disk") != 1:
    fail(f"the guest's output was not shown exactly once:\n{out[-2000:]}")
if hashlib.md5(open(disk, "rb").read()).hexdigest() != before:
    fail("the image changed")
disk_line = [l for l in out.splitlines() if "reverse execution:" in l]
print(f"PASS: six disk writes undone and replayed again; {disk_line[-1] if disk_line else ''}")
