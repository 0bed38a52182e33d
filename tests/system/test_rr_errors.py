"""A replay that cannot be faithful says exactly why: another machine
configuration, a changed firmware, a truncated, corrupt or foreign log, and
a register perturbed during replay (caught at the next event)."""
import os
import re
import shutil
import struct
import subprocess
import tempfile

from tandemtest import BUILD, OPENSBI, UBOOT_S, binary, fail, need
from test_rr import record, uboot_script

TLOG = os.path.join(BUILD, "tools", "tandem-log")


def replay(args, log, extra=()):
    r = subprocess.run([binary()] + args + ["-serial", "null", "-monitor", "none",
                        "-icount", f"shift=auto,rr=replay,rrfile={log}"] + list(extra),
                       capture_output=True, timeout=600, stdin=subprocess.DEVNULL)
    return r.returncode, r.stderr.decode(errors="replace")


def expect(cond, what, detail):
    if not cond:
        fail(f"{what}:\n{detail}")


def events(log):
    out = subprocess.run([TLOG, "dump", log], capture_output=True, text=True, check=True).stdout
    return [l for l in out.splitlines() if re.match(r"\d+ ", l)]


with tempfile.TemporaryDirectory() as tmp:
    fw = os.path.join(tmp, "fw_jump.elf")
    shutil.copy(need(f"{OPENSBI}/fw_jump.elf"), fw)
    args = ["-M", "virt", "-nographic", "-no-reboot", "-net", "none",
            "-bios", fw, "-kernel", need(UBOOT_S)]
    log = os.path.join(tmp, "rec.bin")
    record(args, log, uboot_script, 300)
    st, err = replay(args, log)
    expect(st == 0, "a faithful replay must succeed", err)

    # Another machine configuration, detected before the guest runs.
    st, err = replay(args + ["-m", "256"], log)
    expect(st == 1 and "recorded ram=134217728, this machine has 268435456" in err,
           "replay with another -m", err)
    # A changed firmware file (same name, one byte different).
    with open(fw, "r+b") as f:
        f.seek(0x2000)
        b = f.read(1)
        f.seek(0x2000)
        f.write(bytes([b[0] ^ 0xff]))
    st, err = replay(args, log)
    expect(st == 1 and "recorded bios=" in err and "another machine configuration" in err,
           "replay with a changed bios", err)
    shutil.copy(need(f"{OPENSBI}/fw_jump.elf"), fw)

    # A register perturbed in the middle of the replay: caught at the next event.
    evs = events(log)
    mid = evs[len(evs) // 2]
    at = int(re.search(r"icount=(\d+)", mid).group(1)) - 5
    st, err = replay(args, log, ["-rr-perturb", f"{at},3"])
    expect(st == 1 and re.search(r"replay diverged at event \d+ \(\S+\)", err) and
           "first register that differs: x3 (gp)" in err,
           "perturbed gp must be reported at the next event", err)

    data = open(log, "rb").read()
    # A recording cut short: replayed to its last complete frame, then a clear stop.
    cut = os.path.join(tmp, "cut.bin")
    open(cut, "wb").write(data[: len(data) * 2 // 3])
    st, err = replay(args, cut)
    expect(st == 3 and "cut short" in err, "truncated log replay", err)
    r = subprocess.run([TLOG, "verify", cut], capture_output=True, text=True)
    expect(r.returncode == 2, "tandem-log verify of a truncated log", r.stdout + r.stderr)

    # A corrupt frame is refused, naming it.
    bad = bytearray(data)
    pos = data.find(b"TRFM", 100) + 40
    bad[pos] ^= 0x55
    badf = os.path.join(tmp, "bad.bin")
    open(badf, "wb").write(bad)
    st, err = replay(args, badf)
    expect(st == 1 and re.search(r"frame \d+ at offset 0x[0-9a-f]+", err), "corrupt frame", err)
    r = subprocess.run([TLOG, "verify", badf], capture_output=True, text=True)
    expect(r.returncode == 1 and "frame" in (r.stdout + r.stderr), "verify corrupt", r.stdout + r.stderr)

    # Another format version.
    ver = bytearray(data)
    struct.pack_into("<I", ver, 8, 99)
    verf = os.path.join(tmp, "ver.bin")
    open(verf, "wb").write(ver)
    st, err = replay(args, verf)
    expect(st == 1 and "version 99" in err, "wrong version", err)

    # Not a log at all.
    st, err = replay(args, fw)
    expect(st == 1 and "not a Tandem record/replay log" in err, "foreign file", err)
    r = subprocess.run([TLOG, "verify", log], capture_output=True, text=True)
    expect(r.returncode == 0 and r.stdout.startswith("ok:"), "verify good log", r.stdout + r.stderr)
print("PASS")
