"""The main job on a bundled guest: record an interactive OpenSBI + U-Boot
session on the RISC-V virt board (typed commands, a host clock read through
the RTC), inspect the log, then replay it and show that the replay is
identical."""
import os
import subprocess
import sys

from tandemtest import BUILD, OPENSBI, UBOOT_S, binary, need
from test_rr import record, replay, serial_of, uboot_script

outdir = os.path.join(BUILD, "demo")
os.makedirs(outdir, exist_ok=True)
log = os.path.join(outdir, "replay.bin")
args = ["-M", "virt", "-nographic", "-no-reboot", "-net", "none",
        "-bios", need(f"{OPENSBI}/fw_jump.elf"), "-kernel", need(UBOOT_S)]
print("demo: recording: " + " ".join([os.path.basename(binary())] + args +
      ["-icount", f"shift=auto,rr=record,rrfile={log}"]))
rec_out, icount = record(args, log, uboot_script, 300)
sys.stdout.write(serial_of(rec_out).decode(errors="replace"))
print("\ndemo: the log:")
subprocess.run([os.path.join(BUILD, "tools", "tandem-log"), "info", log], check=True)
rep = os.path.join(outdir, "replay.out")
print("demo: replaying with -serial file:" + rep)
n, digest = replay(args, log, rep)
same = open(rep, "rb").read() == serial_of(rec_out)
print(f"demo: replay: {n} instructions (recorded {icount}), final state digest {digest}, "
      f"serial output {'identical' if same else 'DIFFERENT'}")
sys.exit(0 if same and n == icount else 1)
