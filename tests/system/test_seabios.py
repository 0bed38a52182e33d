"""Debian's SeaBIOS on the pc board: it prints its banner and its boot
attempts on the serial console (-nographic), the same lines as on
qemu-system-x86_64; and the boot records and replays with byte-identical
serial output (the replay also checks the final RAM and CPU state).

usage: test_seabios.py REPLAYS"""
import io
import os
import signal
import subprocess
import sys
import tempfile

import pexpect

from tandemtest import BUILD, binary, fail, need

BIOS = need("/usr/share/seabios/bios.bin")
LINES = ["SeaBIOS (version", "Booting from Floppy...", "Booting from Hard Disk...",
         "No bootable device"]


def boot(cmd, args, log=None):
    """Run until SeaBIOS gives up booting; return the serial text."""
    c = pexpect.spawn(cmd, args, timeout=60, logfile=log)
    try:
        c.expect("No bootable device")
    except (pexpect.TIMEOUT, pexpect.EOF):
        fail(f"{cmd} {' '.join(args)}: no 'No bootable device' line; output:\n"
             f"{(c.before or b'').decode(errors='replace')[-3000:]}")
    text = (c.before + c.after).decode(errors="replace")
    c.terminate(force=True)
    c.close()
    return text


def lines_of(text):
    return [l.strip() for l in text.replace("\r", "\n").split("\n")
            if any(l.strip().startswith(k) or k in l for k in LINES)]


def main():
    replays = int(os.environ.get("TANDEM_RR_REPLAYS", sys.argv[1] if len(sys.argv) > 1 else "5"))
    base = ["-M", "pc", "-m", "128M", "-nographic", "-monitor", "none"]
    t = boot(binary("x86_64"), base + ["-net", "none"])
    q = boot("qemu-system-x86_64", base + ["-nic", "none", "-accel", "tcg"])
    tl, ql = lines_of(t), lines_of(q)
    for k in LINES:
        if not any(k in l for l in tl):
            fail(f"SeaBIOS on Tandem did not print {k!r}:\n{t}")
    # Without any disk the order of the boot attempts still differs (QEMU
    # tries the hard disk first; Tandem's SeaBIOS the floppy): the CMOS boot
    # order is the same on both (0x38/0x3d), QEMU's pc has a floppy drive
    # in CMOS 0x10 and Tandem has no floppy controller, so SeaBIOS builds
    # its list from its fallbacks.  Compared as a set; with a disk the
    # whole output matches QEMU's (test_ide.py).
    if sorted(tl) != sorted(ql):
        fail(f"SeaBIOS lines differ:\n  tandem: {tl}\n  qemu:   {ql}")
    print("SeaBIOS boots like on QEMU:", tl)

    # Record the boot up to SeaBIOS giving up, then replay it.
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "seabios.rr")
        rec = [binary("x86_64"), "-M", "pc", "-m", "128M", "-nographic", "-monitor", "none",
               "-net", "none", "-icount", f"shift=auto,rr=record,rrfile={log}"]
        c = pexpect.spawn(rec[0], rec[1:], timeout=60)
        whole = io.BytesIO()
        c.logfile_read = whole
        try:
            c.expect("No bootable device")
        except (pexpect.TIMEOUT, pexpect.EOF):
            fail(f"recording: SeaBIOS did not get to 'No bootable device':\n{c.before!r}")
        # SIGTERM ends a recording cleanly (a QUIT event, then END).
        c.kill(signal.SIGTERM)
        c.expect(pexpect.EOF, timeout=60)
        recorded = whole.getvalue().decode(errors="replace")
        recorded = recorded[:recorded.find("tandem:")] if "tandem:" in recorded else recorded
        c.close()
        for i in range(replays):
            r = subprocess.run([binary("x86_64"), "-M", "pc", "-m", "128M", "-nographic",
                                "-monitor", "none", "-net", "none", "-icount",
                                f"shift=auto,rr=replay,rrfile={log}"],
                               capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
            out = r.stdout.decode(errors="replace")
            err = r.stderr.decode(errors="replace")
            if "final state matches" not in err or out.replace("\r", "") != recorded.replace("\r", ""):
                fail(f"replay {i + 1}: status {r.returncode}\n{err}\n--- replayed ---\n{out}\n"
                     f"--- recorded ---\n{recorded}")
        info = subprocess.run([os.path.join(BUILD, "tools", "tandem-log"), "info", log],
                              capture_output=True, text=True).stdout
    print(f"PASS: SeaBIOS boot recorded and replayed {replays} times\n{info}")


if __name__ == "__main__":
    main()
