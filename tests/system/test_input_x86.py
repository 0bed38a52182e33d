"""The monitor's keyboard and mouse commands under record/replay
(RR_EV_INPUT): x86_kbd polls the 8042 and prints every byte it reads.

Record (-monitor stdio): sendkey a, sendkey shift-b 50, mouse_move,
mouse_button, errors for an unknown key name and a bad hold time, then
sendkey q, after which the guest exits.  The serial output must hold the
set-1 scan codes and mouse packets of those commands, and the log their
input events.  Replay without a monitor gives the same serial output byte
for byte and matches the final state; a replay with the monitor refuses
sendkey ("replaying: input comes from the recording").

usage: test_input_x86.py X86_KBD_IMAGE"""
import os
import re
import subprocess
import sys
import tempfile
import time

from tandemtest import BUILD, binary, expect, fail, need, spawn, wait_exit

MON = rb"\(tandem\) "
TLOG = os.path.join(BUILD, "tools", "tandem-log")


def args(img, mode, log, out, monitor):
    return ["-M", "pc", "-m", "32M", "-display", "none", "-serial", f"file:{out}",
            "-monitor", monitor, "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-icount", f"shift=auto,rr={mode},rrfile={log}", "-bios", img]


def wait_serial(path, text, what, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path) and text in open(path, errors="replace").read():
            return
        time.sleep(0.05)
    got = open(path, errors="replace").read() if os.path.exists(path) else "(no file)"
    fail(f"timed out waiting for {what} ({text!r} on the serial port); it has:\n{got}")


def mon(c, cmd):
    c.send(cmd + "\r")
    expect(c, re.escape(cmd.encode()) + rb"\r*\n", f"echo of {cmd}")
    expect(c, MON, f"monitor prompt after {cmd}")
    return c.before.decode(errors="replace").replace("\r", "")


def main():
    img = need(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "input.rr")
        rec_out = os.path.join(tmp, "record.out")
        c = spawn(args(img, "record", log, rec_out, "stdio"), arch="x86_64", timeout=120,
                  logname="input-x86-record")
        expect(c, MON, "monitor prompt")
        wait_serial(rec_out, "ready\n", "the guest")
        steps = [("sendkey a", "k 9e\n"), ("sendkey shift-b 50", "k aa\n"),
                 ("mouse_move 5 -3", "m 03\n"), ("mouse_button 1", "m 09\n")]
        for cmd, want in steps:
            out = mon(c, cmd)
            if out.strip():
                fail(f"monitor {cmd!r} answered:\n{out}")
            wait_serial(rec_out, want, f"the guest reading what {cmd!r} sent")
        for cmd, want in (("sendkey ctrl-alt-foo", "Error: unknown key: 'foo'"),
                          ("sendkey a 0", "Error: hold time 0 ms is out of range"),
                          ("mouse_move 1", "usage: mouse_move DX DY [DZ]"),
                          ("mouse_button 9", "Error: mouse_button: state 9")):
            out = mon(c, cmd)
            if want not in out:
                fail(f"monitor {cmd!r}: expected {want!r}, got:\n{out}")
        c.send("sendkey q\r")
        st = wait_exit(c, timeout=120)
        rec = open(rec_out, "rb").read()
        if st != 1 or b"PASS" not in rec:
            fail(f"record: status {st}, serial output:\n{rec.decode(errors='replace')}")
        body = rec.decode().split("ready\n", 1)[1].split("TEST")[0]
        codes = [l for l in body.splitlines() if l[:2] in ("k ", "m ")]
        want_k = ["k 1e", "k 9e", "k 2a", "k 30", "k b0", "k aa", "k 10", "k 90"]
        if [l for l in codes if l[0] == "k"] != want_k:
            fail(f"keyboard bytes {codes}, expected {want_k} (set 1, as translated)")
        if [l for l in codes if l[0] == "m"] != ["m 08", "m 05", "m 03", "m 09", "m 00", "m 00"]:
            fail(f"mouse bytes {codes}: expected the packets of (5, 3 up) and the left button")
        dump = subprocess.run([TLOG, "dump", log], capture_output=True, text=True).stdout
        inputs = [l for l in dump.splitlines() if " input " in l]
        if len(inputs) != 10 or "device=keyboard keycode=30 down=1" not in inputs[0] \
                or "device=mouse dx=5 dy=-3 dz=0 buttons=0" not in dump:
            fail(f"the log's input events ({len(inputs)}, expected 10):\n" + "\n".join(inputs))

        rep_out = os.path.join(tmp, "replay.out")
        r = subprocess.run([binary("x86_64")] + args(img, "replay", log, rep_out, "none"),
                           capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
        if r.returncode != 1 or "final state matches the recording" not in r.stderr:
            fail(f"replay: status {r.returncode}:\n{r.stderr}")
        if open(rep_out, "rb").read() != rec:
            fail("the replay's serial output differs from the recording's:\n"
                 + open(rep_out, errors="replace").read())
        print(f"PASS record/replay: {len(inputs)} input events, identical output")

        # A replay with a monitor: input commands are refused, the replay goes on.
        rep2 = os.path.join(tmp, "replay2.out")
        c = spawn(args(img, "replay", log, rep2, "stdio") + ["-S"], arch="x86_64",
                  timeout=120, logname="input-x86-replay")
        expect(c, MON, "monitor prompt")
        for cmd in ("sendkey a", "mouse_move 1 1", "mouse_button 1"):
            out = mon(c, cmd)
            if "Error: replaying: input comes from the recording" not in out:
                fail(f"monitor {cmd!r} in replay: {out}")
        c.send("cont\r")
        st = wait_exit(c, timeout=120)
        if st != 1 or open(rep2, "rb").read() != rec:
            fail(f"replay with the monitor: status {st}, output differs or is missing")
        print("PASS input commands refused in replay")


if __name__ == "__main__":
    main()
