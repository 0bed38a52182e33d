"""VM snapshots (checkpoint/vmsnap.c): QEMU's savevm/loadvm/delvm/info
snapshots, -loadvm, -icount rrsnapshot=, and the replay commands
(info replay, replay_break, replay_seek).

usage: test_snapshots.py savevm | rr | errors | blkreplay

savevm     U-Boot on riscv64 virt with QEMU's "orphan" drive: savevm s1 in the
           middle of an interactive session, more commands, loadvm s1, the
           same commands again: the output after loadvm equals the output
           after savevm (and the state did go back).  qemu-img sees s1 with
           its VM state; info snapshots prints QEMU's table, equal to
           qemu-img's lines; -loadvm s1 starts there; delvm removes it.
rr         QEMU's documented diskless command line (rrsnapshot=init, -net
           none, -drive file=empty.qcow2,if=none,id=rr): record, replay
           matches; init is in the image.  A second recording takes savevm
           mid while recording (loadvm refused there); its replay, driven
           by the monitor, goes back with loadvm, breaks and seeks, and
           still finishes matching the recording.
errors     no drive, raw image, read-only image, unknown names, another
           machine configuration, corrupt VM state, partial snapshots,
           rrsnapshot mismatches: clear errors, the machine keeps running.
blkreplay  (x86 pc) QEMU's blkreplay command line over a writable qcow2 image
           with rrsnapshot: the guest writes the disk while recording; the
           replay starts from init's disk and matches."""
import os
import re
import subprocess
import sys
import time
import tempfile

import pexpect

from tandemtest import BUILD, OPENSBI, UBOOT_S, binary, expect, fail, need, wait_exit

UBOOT = ["-M", "virt", "-bios", need(f"{OPENSBI}/fw_jump.elf"), "-kernel", need(UBOOT_S)]
TLOG = os.path.join(BUILD, "tools", "tandem-log")
MON = rb"\(tandem\) "


def spawn(args, name, arch="riscv64", timeout=120):
    log = os.path.join(BUILD, "meson-logs", f"snapshots-{name}.log")
    c = pexpect.spawn(binary(arch), args, timeout=timeout,
                      logfile=open(log, "wb") if os.path.isdir(os.path.dirname(log)) else None)
    return c


def qemu_img(*args):
    r = subprocess.run(["qemu-img"] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"qemu-img {' '.join(args)}: {r.stderr}{r.stdout}")
    return r.stdout


def img_snapshots(path):
    """qemu-img snapshot -l: {tag: (line, vm size text, icount text)}."""
    out = qemu_img("snapshot", "-l", path)
    snaps = {}
    for line in out.splitlines()[2:]:
        m = re.match(r"(\S+)\s+(\S+)\s+(\S+ \S*B) (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+"
                     r"(\d\d:\d\d:\d\d\.\d{3})\s*(\d*)$", line)
        if not m:
            fail(f"cannot read qemu-img's snapshot line {line!r}:\n{out}")
        snaps[m.group(2)] = (line, m.group(3), m.group(6))
    return out, snaps


def check_image(path):
    r = subprocess.run(["qemu-img", "check", path], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"qemu-img check {path}:\n{r.stdout}{r.stderr}")


# ---- the monitor ----

def mon_mux(c, cmd):
    """-nographic: C-a c to the monitor, run cmd, C-a c back; returns its output."""
    c.send("\x01c")
    expect(c, MON, "monitor prompt")
    return mon_cmd(c, cmd, back=True)


def mon_cmd(c, cmd, back=False):
    c.send(cmd + "\r")
    expect(c, re.escape(cmd.encode()) + rb"\r*\n", f"echo of {cmd}")
    expect(c, MON, f"monitor prompt after {cmd}")
    out = c.before.decode(errors="replace").replace("\r", "")
    if back:
        c.send("\x01c")
    return out


def no_error(cmd, out):
    if "Error" in out or "unknown command" in out:
        fail(f"monitor {cmd!r}: {out}")


# ---- U-Boot ----

def stop_autoboot(c):
    expect(c, r"Hit any key to stop autoboot", "autoboot prompt")
    c.send(" ")
    expect(c, r"=> ", "U-Boot prompt")


def uboot(c, cmd):
    """One U-Boot command; returns everything it wrote, up to its next prompt."""
    c.send(cmd + "\r")
    expect(c, r"=> ", f"U-Boot prompt after {cmd!r}")
    return c.before + c.after


# printenv after comes first: after loadvm it must be undefined again.
SEQ = ["printenv after", "setenv after set-after-savevm", "printenv before",
       "md.l 0x84000000 2", "mw.l 0x84000000 0x22222222 1", "md.l 0x84000000 2",
       "printenv after", "echo end-of-sequence"]


def run_seq(c):
    return b"".join(uboot(c, cmd) for cmd in SEQ)


def case_savevm(tmp):
    img = os.path.join(tmp, "snaps.qcow2")
    qemu_img("create", "-f", "qcow2", img, "1M")
    args = UBOOT + ["-nographic", "-net", "none", "-drive", f"file={img},if=none,id=snaps"]
    c = spawn(args, "savevm")
    stop_autoboot(c)
    uboot(c, "setenv before set-before-savevm")
    uboot(c, "mw.l 0x84000000 0x11111111 2")
    no_error("savevm s1", mon_mux(c, "savevm s1"))
    first = run_seq(c)
    if b"set-after-savevm" not in first or b"22222222 11111111" not in first:
        fail(f"the session after savevm did not run as expected:\n{first.decode()}")
    no_error("loadvm s1", mon_mux(c, "loadvm s1"))
    second = run_seq(c)
    if second != first:
        fail("the output after loadvm differs from the output after savevm:\n--- after "
             f"savevm\n{first.decode(errors='replace')}\n--- after loadvm\n"
             f"{second.decode(errors='replace')}")
    if not re.search(rb'## Error: "after" not defined', second):
        fail(f"after loadvm the variable set after savevm is still there:\n{second.decode()}")
    print(f"loadvm s1: the {len(SEQ)} commands typed again print the same "
          f"{len(second)} bytes as after savevm s1")
    # info snapshots: QEMU's table; auto-named savevm.
    no_error("savevm", mon_mux(c, "savevm"))
    info = mon_mux(c, "info snapshots")
    c.send("\x01x")
    st = wait_exit(c)
    if st != 0:
        fail(f"exit status {st} after C-a x")
    check_image(img)
    out, snaps = img_snapshots(img)
    if "s1" not in snaps or snaps["s1"][1] in ("0 B", ""):
        fail(f"qemu-img snapshot -l shows no s1 with VM state:\n{out}")
    auto = [t for t in snaps if re.fullmatch(r"vm-\d{14}", t)]
    if len(auto) != 1:
        fail(f"savevm without a name: no vm-YYYYMMDDHHMMSS snapshot:\n{out}")
    lines = info.strip("\n").split("\n")
    want_header = out.splitlines()[1]
    if lines[0] != "List of snapshots present on all disks:" or lines[1] != want_header:
        fail(f"info snapshots: QEMU's header expected ({want_header!r}):\n{info}")
    # Each line is qemu-img's with the id replaced by "--" (QEMU's HMP does that).
    for tag in ("s1", auto[0]):
        qline = snaps[tag][0]
        mine = [l for l in lines[2:] if l.split()[1] == tag]
        if len(mine) != 1 or mine[0] != "--" + " " * 8 + qline[10:]:
            fail(f"info snapshots line for {tag}:\n{mine}\nqemu-img's:\n{qline!r}")
    print(f"info snapshots equals qemu-img's table:\n{info}")

    # -loadvm: a new process starts at s1, U-Boot's prompt waiting.
    c = spawn(args + ["-loadvm", "s1"], "loadvm")
    third = run_seq(c)
    if third != first:
        fail(f"-loadvm s1: other output than after savevm:\n{third.decode(errors='replace')}")
    no_error("delvm s1", mon_mux(c, "delvm s1"))
    info = mon_mux(c, "info snapshots")
    if re.search(r"\bs1\b", info):
        fail(f"delvm s1: still listed:\n{info}")
    c.send("\x01x")
    wait_exit(c)
    check_image(img)
    out, snaps = img_snapshots(img)
    if "s1" in snaps:
        fail(f"delvm s1: qemu-img still lists it:\n{out}")
    print("-loadvm s1 starts from the snapshot; delvm removes it")


# ---- record/replay ----

def rr_args(img, mode, log, snap="init", extra=(), shift="auto"):
    icount = f"shift={shift},rr={mode},rrfile={log}" + (f",rrsnapshot={snap}" if snap else "")
    return UBOOT + ["-no-reboot", "-icount", icount, "-net", "none",
                    "-drive", f"file={img},if=none,id=rr"] + list(extra)


def recorded(c, what):
    st = wait_exit(c, timeout=120)
    text = c.before.decode(errors="replace") if c.before else ""
    return st, text


def replay_run(args, timeout=120):
    r = subprocess.run([binary()] + args, capture_output=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    return r.returncode, r.stderr.decode(errors="replace")


def finished(err):
    m = re.search(r"replay finished: (\d+) events, (\d+) instructions; final state matches",
                  err)
    return int(m.group(2)) if m else None


def case_rr(tmp):
    # (b) QEMU's documented diskless command line.
    img = os.path.join(tmp, "empty.qcow2")
    qemu_img("create", "-f", "qcow2", img, "1M")
    log = os.path.join(tmp, "record.bin")
    out = os.path.join(tmp, "record.out")
    with open(out, "wb") as f:
        c = spawn(rr_args(img, "record", log, extra=["-display", "none", "-serial", "stdio",
                                                     "-monitor", "none"]),
                  "rr-record")
        c.logfile_read = f
        stop_autoboot(c)
        for cmd in ("setenv x recorded", "printenv x", "md.l 0x101000 2", "reset"):
            c.send(cmd + "\r")
            if cmd != "reset":
                expect(c, r"=> ", "prompt")
        st = wait_exit(c, timeout=120)
    rec = open(out, "rb").read()
    m = re.search(rb"recorded (\d+) events, (\d+) instructions", rec)
    if st != 0 or not m:
        fail(f"recording with rrsnapshot=init: status {st}\n{rec[-2000:].decode()}")
    total = int(m.group(2))
    snaps_out, snaps = img_snapshots(img)
    if "init" not in snaps or snaps["init"][2] != "0" or snaps["init"][1] in ("0 B", ""):
        fail(f"no snapshot init at icount 0 with VM state in empty.qcow2:\n{snaps_out}")
    info = subprocess.run([TLOG, "info", log], capture_output=True, text=True).stdout
    if not re.search(r"snapshot:\s+init", info):
        fail(f"the log header does not name the snapshot:\n{info}")
    sout = os.path.join(tmp, "replay.out")
    st, err = replay_run(rr_args(img, "replay", log, extra=["-display", "none", "-serial",
                                                             f"file:{sout}", "-monitor",
                                                             "none"]))
    want = re.sub(rb"tandem: recorded .*\n", b"", rec.replace(b"\r\n", b"\n"))
    if st != 0 or finished(err) != total:
        fail(f"replay with rrsnapshot=init: status {st}, expected {total} instructions:\n{err}")
    if open(sout, "rb").read() != want:
        fail("the replay's serial output differs from the recording's")
    print(f"rrsnapshot=init: recorded {total} instructions, replay matches; qemu-img:\n"
          f"{snaps_out}")
    # The replay needs its snapshot: without it, or under another name, it says so.
    base = ["-display", "none", "-serial", "null", "-monitor", "none"]
    for snap, pat in ((None, r"recorded with rrsnapshot=init: .*add rrsnapshot=init"),
                      ("other", r"recorded with rrsnapshot=init, not rrsnapshot=other")):
        st, err = replay_run(rr_args(img, "replay", log, snap=snap, extra=base))
        if st == 0 or not re.search(pat, err):
            fail(f"replay with rrsnapshot={snap}: status {st}, expected /{pat}/:\n{err}")
    gone = os.path.join(tmp, "gone.qcow2")
    qemu_img("create", "-f", "qcow2", gone, "1M")
    st, err = replay_run(rr_args(gone, "replay", log, extra=base))
    if st == 0 or "there is no snapshot 'init'" not in err:
        fail(f"replay with an image without init: status {st}:\n{err}")
    print("replay without the snapshot, or naming another, is refused with the reason")

    # (c) savevm while recording; loadvm refused there.
    img2 = os.path.join(tmp, "mid.qcow2")
    qemu_img("create", "-f", "qcow2", img2, "1M")
    log2 = os.path.join(tmp, "record2.bin")
    c = spawn(rr_args(img2, "record", log2, extra=["-nographic"]), "rr-record2")
    stop_autoboot(c)
    uboot(c, "setenv y before-mid")
    no_error("savevm mid", mon_mux(c, "savevm mid"))
    o = mon_mux(c, "loadvm mid")
    if "Error: loadvm: not while recording" not in o:
        fail(f"loadvm while recording: expected a refusal, got:\n{o}")
    o = mon_mux(c, "info replay")
    if not re.search(r"Recording execution '.*record2\.bin': instruction count = \d+", o):
        fail(f"info replay while recording:\n{o}")
    for cmd in ("setenv y after-mid", "printenv y", "md.l 0x101000 2"):
        uboot(c, cmd)
    c.send("reset\r")
    st = wait_exit(c, timeout=120)
    m = re.search(rb"recorded (\d+) events, (\d+) instructions", c.before or b"")
    if st != 0 or not m:
        fail(f"recording with savevm mid: status {st}")
    total = int(m.group(2))
    out, snaps = img_snapshots(img2)
    if "mid" not in snaps or not snaps["mid"][2]:
        fail(f"no snapshot mid with an icount:\n{out}")
    mid = int(snaps["mid"][2])
    if not 0 < mid < total:
        fail(f"snapshot mid at icount {mid}, the recording has {total}")

    # The replay, driven by the monitor: started paused (-S).
    c = spawn(rr_args(img2, "replay", log2, extra=["-display", "none", "-serial", "null",
                                                   "-monitor", "stdio", "-S"]), "rr-replay2",
              timeout=300)
    expect(c, MON, "monitor prompt")

    def at(what):
        o = mon_cmd(c, "info replay")
        m = re.search(r"Replaying execution '.*record2\.bin': instruction count = (\d+)", o)
        if not m:
            fail(f"info replay ({what}):\n{o}")
        return int(m.group(1))

    def paused_at(n, what):
        expect(c, rb"replay paused at icount (\d+)", f"the replay pausing ({what})")
        got = int(c.match.group(1))     # the prompt came before, after the command
        if got != n or at(what) != n:
            fail(f"{what}: paused at icount {got}, expected {n}")

    if at("start") != 0:
        fail("the replay does not start at icount 0")
    info = mon_cmd(c, "info snapshots")
    if not re.search(r"--\s+init\s", info) or not re.search(rf"--\s+mid\s.*\s{mid}\n", info):
        fail(f"info snapshots in replay:\n{info}")
    brk = (mid + total) // 2
    no_error("replay_break", mon_cmd(c, f"replay_break {brk}"))
    c.send("cont\r")
    paused_at(brk, "replay_break")
    o = mon_cmd(c, "replay_break 5")
    if "Error: replay_break: icount 5 is in the past" not in o:
        fail(f"replay_break in the past: {o}")
    o = mon_cmd(c, "loadvm nope")
    if "Error: loadvm: there is no snapshot 'nope'" not in o:
        fail(f"loadvm of an unknown snapshot in replay: {o}")
    no_error("loadvm mid", mon_cmd(c, "loadvm mid"))
    if at("after loadvm mid") != mid:
        fail("loadvm mid in replay did not move the replay to the snapshot")
    no_error("loadvm init", mon_cmd(c, "loadvm init"))
    if at("after loadvm init") != 0:
        fail("loadvm init in replay did not move the replay to the start")
    # Seeks: forward past mid (restores mid, runs on), then back before it.
    t1 = (mid + brk) // 2
    no_error("replay_seek", mon_cmd(c, f"replay_seek {t1}"))
    paused_at(t1, "replay_seek forward")
    t2 = mid // 2
    no_error("replay_seek", mon_cmd(c, f"replay_seek {t2}"))
    paused_at(t2, "replay_seek back")
    no_error("replay_seek", mon_cmd(c, f"replay_seek {mid}"))
    paused_at(mid, "replay_seek to the snapshot")
    c.send("cont\r")
    st = wait_exit(c, timeout=300)
    text = (c.before or b"").decode(errors="replace")
    if st != 0 or finished(text) != total:
        fail(f"the replay after loadvm/seeks: status {st}, expected a match at {total} "
             f"instructions:\n{text[-3000:]}")
    print(f"replay of a recording with savevm mid (icount {mid}): break at {brk}, loadvm mid, "
          f"loadvm init, seeks to {t1}, {t2}, {mid}; it still finishes matching ({total} "
          "instructions)")

    # A snapshot of another recording: a short one (started paused, a
    # moment of U-Boot, quit; a fixed shift, so no shift events) has two
    # events, quit and end, and mid comes after at least two (the key that
    # stopped autoboot, the first command).
    log3 = os.path.join(tmp, "record3.bin")
    mon = ["-display", "none", "-serial", "null", "-monitor", "stdio", "-S"]
    c = spawn(rr_args(img2, "record", log3, snap=None, extra=mon, shift="3"), "rr-record3")
    expect(c, MON, "monitor prompt")
    c.send("cont\r")
    expect(c, MON, "monitor prompt")
    time.sleep(0.5)
    c.send("quit\r")
    if wait_exit(c) != 0:
        fail("the short recording did not end cleanly")
    c = spawn(rr_args(img2, "replay", log3, snap=None, extra=mon, shift="3"), "rr-replay3")
    expect(c, MON, "monitor prompt")
    o = mon_cmd(c, "loadvm mid")
    # Either its events run out before mid's count, or one of them lies on
    # the wrong side of mid's icount.
    if not re.search(r"Error: loadvm: snapshot 'mid': it (comes after|stands at) .*record3"
                     r"\.bin .*: it is not a snapshot of this recording", o):
        fail(f"loadvm of another recording's snapshot in a replay:\n{o}")
    if not re.search(r"instruction count = 0\n", mon_cmd(c, "info replay")):
        fail("the refused loadvm moved the replay")
    c.send("cont\r")
    st = wait_exit(c, timeout=120)
    if st != 0 or "final state matches" not in (c.before or b"").decode(errors="replace"):
        fail(f"the replay after a refused loadvm: status {st}")
    print("a snapshot of another recording is refused in a replay, which goes on matching")


# ---- errors ----

def paused(args, name, arch="riscv64"):
    """A machine that never starts (-S): only the monitor."""
    c = spawn(args + ["-S", "-display", "none", "-serial", "null", "-monitor", "stdio"], name,
              arch=arch)
    expect(c, MON, "monitor prompt")
    return c


def want(c, cmd, pat):
    o = mon_cmd(c, cmd)
    if not re.search(pat, o):
        fail(f"{cmd}: expected /{pat}/, got:\n{o}")
    return o


def quit_ok(c, what):
    c.send("quit\r")
    st = wait_exit(c)
    if st != 0:
        fail(f"{what}: exit status {st} after quit")


def case_errors(tmp):
    # No drive at all.
    c = paused(UBOOT, "err-nodrive")
    want(c, "savevm x", r"Error: savevm: no writable qcow2 drive to hold snapshots; add -drive "
                        r"file=X\.qcow2,if=none,id=")
    want(c, "loadvm x", r"Error: loadvm: no writable qcow2 drive")
    want(c, "info snapshots", r"No available block device supports snapshots")
    want(c, "info status", r"VM status: paused")
    quit_ok(c, "no drive")
    # A raw image cannot hold them; a read-only qcow2 is left out.
    raw = os.path.join(tmp, "d.raw")
    with open(raw, "wb") as f:
        f.truncate(1 << 20)
    ro = os.path.join(tmp, "ro.qcow2")
    qemu_img("create", "-f", "qcow2", ro, "1M")
    c = paused(UBOOT + ["-drive", f"file={raw},format=raw,if=none,id=rawd"], "err-raw")
    want(c, "savevm x", r"Error: savevm: drive rawd \(.*d\.raw\) is writable but cannot hold "
                        r"snapshots: raw images cannot hold snapshots")
    quit_ok(c, "raw")
    c = paused(UBOOT + ["-drive", f"file={ro},if=none,id=ro,readonly=on"], "err-ro")
    want(c, "savevm x", r"Error: savevm: no writable qcow2 drive")
    quit_ok(c, "read-only")
    # An if=ide drive on a board without a disk controller.
    r = subprocess.run([binary()] + UBOOT + ["-drive", f"file={ro}"], capture_output=True,
                       text=True, timeout=60)
    if r.returncode == 0 or "no disk controller" not in r.stderr:
        fail(f"if=ide on virt: {r.returncode} {r.stderr}")

    # Unknown names, another configuration, damaged VM state, partial snapshots.
    a = os.path.join(tmp, "a.qcow2")
    b = os.path.join(tmp, "b.qcow2")
    for p in (a, b):
        qemu_img("create", "-f", "qcow2", p, "1M")
    drives = ["-drive", f"file={a},if=none,id=da", "-drive", f"file={b},if=none,id=db"]
    c = paused(UBOOT + drives, "err-names")
    for cmd in ("savevm s1", "savevm s2", "savevm s3", "savevm s4"):
        no_error(cmd, mon_cmd(c, cmd))
    want(c, "loadvm nope", r"Error: loadvm: there is no snapshot 'nope'")
    want(c, "delvm nope", r"Error: delvm: there is no snapshot 'nope'")
    want(c, "loadvm", r"Error: loadvm: give a snapshot name")
    want(c, "replay_break 10", r"Error: replay_break: .*only in replay")
    want(c, "replay_seek 10", r"Error: replay_seek: replay must be enabled")
    want(c, "info replay", r"Record/replay is not active")
    no_error("loadvm 1", mon_cmd(c, "loadvm 1"))     # by id
    quit_ok(c, "names")
    qemu_img("snapshot", "-d", "s2", b)
    # Damage s3's VM state in a.qcow2 (it holds the VM state: the first drive).
    data = bytearray(open(a, "rb").read())
    pos = [m.start() for m in re.finditer(rb"TNDMVMSV", data)]
    if len(pos) != 4:
        fail(f"expected 4 VM states in a.qcow2, found {len(pos)}")
    data[pos[2] + 20:pos[2] + 28] = b"XXXXXXXX"     # the machine state's magic
    # s4: the compressed RAM's frame header (after the state and two sizes).
    slen = int.from_bytes(data[pos[3] + 12:pos[3] + 20], "little")
    zat = pos[3] + 20 + slen + 16
    if data[zat:zat + 4] != b"\x28\xb5\x2f\xfd":
        fail("s4's VM state: no zstd frame where the RAM should start")
    data[zat:zat + 4] = b"\0\0\0\0"
    open(a, "wb").write(data)
    c = paused(UBOOT + drives, "err-load")
    info = want(c, "info snapshots", r"List of snapshots present on all disks:")
    if not re.search(r"List of partial \(non-loadable\) snapshots on 'da':\n.*\n\d+\s+s2\s",
                     info):
        fail(f"info snapshots: s2 (deleted from db) should be listed as partial:\n{info}")
    want(c, "loadvm s2", r"Error: loadvm: snapshot 's2' is not on drive db")
    want(c, "loadvm s3", r"Error: loadvm: snapshot 's3': .*not a Tandem machine state")
    want(c, "loadvm s4", r"Error: loadvm: snapshot 's4': the compressed RAM is damaged")
    want(c, "info status", r"VM status: paused")
    no_error("loadvm s1", mon_cmd(c, "loadvm s1"))
    quit_ok(c, "load errors")
    c = paused(UBOOT + drives + ["-m", "256"], "err-config")
    want(c, "loadvm s1", r"Error: loadvm: snapshot 's1': .*RAM of 134217728 bytes, this "
                         r"machine has 268435456")
    quit_ok(c, "another RAM size")
    c = paused(["-M", "virt", "-bios", "none"] + drives, "err-arch", arch="riscv32")
    want(c, "loadvm s1", r"Error: loadvm: snapshot 's1': .*taken on another machine "
                         r"configuration:\n  snapshot: riscv64/virt .*\n  this machine: "
                         r"riscv32/virt")
    quit_ok(c, "another architecture")
    r = subprocess.run([binary()] + UBOOT + drives + ["-display", "none", "-serial", "null",
                                                      "-monitor", "none", "-loadvm", "nope"],
                       capture_output=True, text=True, timeout=60)
    if r.returncode == 0 or "-loadvm=nope: loadvm: there is no snapshot 'nope'" not in r.stderr:
        fail(f"-loadvm nope: status {r.returncode}:\n{r.stderr}")
    # A snapshot taken outside record/replay is not part of a recording;
    # savevm and loadvm in a replay are.
    plain = os.path.join(tmp, "plain.qcow2")
    qemu_img("create", "-f", "qcow2", plain, "1M")
    pdrive = ["-drive", f"file={plain},if=none,id=rr"]
    c = paused(UBOOT + pdrive, "err-plain")
    no_error("savevm plain", mon_cmd(c, "savevm plain"))
    quit_ok(c, "plain savevm")
    log = os.path.join(tmp, "r.bin")
    c = paused(UBOOT + pdrive + ["-icount", f"shift=auto,rr=record,rrfile={log}"], "err-rec")
    c.send("cont\r")
    expect(c, MON, "monitor prompt")
    time.sleep(1)
    quit_ok(c, "a short recording")
    c = paused(UBOOT + pdrive + ["-icount", f"shift=auto,rr=replay,rrfile={log}"], "err-rep")
    want(c, "loadvm plain", r"Error: loadvm: snapshot 'plain' was taken outside "
                            r"record/replay: it is not part of the recording")
    no_error("savevm inreplay", mon_cmd(c, "savevm inreplay"))
    no_error("loadvm inreplay", mon_cmd(c, "loadvm inreplay"))
    c.send("cont\r")
    st = wait_exit(c, timeout=120)
    text = (c.before or b"").decode(errors="replace")
    if st != 0 or "final state matches" not in text:
        fail(f"the replay after a refused loadvm: status {st}:\n{text}")
    # rrsnapshot needs a drive that outlives the run, and rr.
    for extra, pat in (
            ([], r"rrsnapshot=init: savevm: no writable qcow2 drive to hold snapshots"),
            (["-drive", f"file={a},if=none,id=t,snapshot=on"],
             r"drive t has snapshot=on: snapshot init would go into its temporary overlay")):
        r = subprocess.run([binary()] + UBOOT + extra + [
            "-display", "none", "-serial", "null", "-monitor", "none", "-icount",
            f"shift=auto,rr=record,rrfile={log},rrsnapshot=init"], capture_output=True,
            text=True, timeout=60, stdin=subprocess.DEVNULL)
        if r.returncode == 0 or not re.search(pat, r.stderr):
            fail(f"rrsnapshot {extra}: status {r.returncode}, expected /{pat}/:\n{r.stderr}")
    r = subprocess.run([binary()] + UBOOT + ["-icount", "shift=auto,rrsnapshot=init"],
                       capture_output=True, text=True, timeout=60)
    if r.returncode == 0 or "rrsnapshot=init goes with rr=record or rr=replay" not in r.stderr:
        fail(f"rrsnapshot without rr: {r.returncode} {r.stderr}")
    print("errors: no drive, raw, read-only, unknown names, partial snapshots, damaged VM "
          "state, another RAM size and architecture, rrsnapshot without a lasting drive")


# ---- blkreplay over a writable image (x86 pc) ----

# SeaBIOS boots it: INT 13h reads sector 2 to 0:7e00, increments its first
# byte, writes it back, prints the string there on COM1, leaves through
# isa-debug-exit.  Each boot prints the next digit.
MBR = bytes([0xFA, 0x31, 0xC0, 0x8E, 0xD8, 0x8E, 0xC0,
             0xB8, 0x01, 0x02, 0xB9, 0x02, 0x00, 0xB6, 0x00, 0xBB, 0x00, 0x7E, 0xCD, 0x13,
             0xFE, 0x06, 0x00, 0x7E,
             0xB8, 0x01, 0x03, 0xB9, 0x02, 0x00, 0xB6, 0x00, 0xBB, 0x00, 0x7E, 0xCD, 0x13,
             0xBE, 0x00, 0x7E, 0xBA, 0xF8, 0x03, 0xAC, 0x84, 0xC0, 0x74, 0x03, 0xEE, 0xEB,
             0xF8, 0xBA, 0x01, 0x05, 0xB0, 0x2A, 0xEE, 0xF4, 0xEB, 0xFD])
MSG = b"0 boots of the tandem snapshot disk\r\n\0"


def case_blkreplay(tmp):
    need("/usr/share/seabios/bios.bin")
    raw = os.path.join(tmp, "boot.raw")
    img = bytearray(1 << 20)
    img[:len(MBR)] = MBR
    img[510:512] = b"\x55\xaa"
    img[512:512 + len(MSG)] = MSG
    open(raw, "wb").write(img)
    disk = os.path.join(tmp, "disk.qcow2")
    qemu_img("convert", "-f", "raw", "-O", "qcow2", raw, disk)
    base = ["-M", "pc", "-m", "128M", "-nographic", "-monitor", "none",
            "-device", "isa-debug-exit",
            "-drive", f"file={disk},if=none,id=img-direct",
            "-drive", "driver=blkreplay,if=none,image=img-direct,id=img-blkreplay",
            "-device", "ide-hd,drive=img-blkreplay"]
    log = os.path.join(tmp, "disk.rr")

    def run(mode, snap="init"):
        icount = f"shift=auto,rr={mode},rrfile={log}" + (f",rrsnapshot={snap}" if snap else "")
        r = subprocess.run([binary("x86_64")] + base + ["-icount", icount],
                           capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
        return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")

    st, out, err = run("record", snap=None)
    if st == 0 or "or give -icount rrsnapshot=NAME" not in err:
        fail(f"a writable blkreplay image without rrsnapshot: status {st}:\n{err}")
    st, out, err = run("record")
    if st != 85 or "1 boots of the tandem snapshot disk" not in out:
        fail(f"record: status {st}\n{out}\n{err}")
    st2, out2, err2 = run("replay")
    if st2 != 85 or out2 != out or "final state matches" not in err2:
        fail(f"replay from init's disk: status {st2}\n{out2}\n{err2}")
    check_image(disk)
    snaps_out, snaps = img_snapshots(disk)
    if "init" not in snaps or snaps["init"][2] != "0":
        fail(f"no init at icount 0 in the disk image:\n{snaps_out}")
    # The replay went back to init's disk ('0') and wrote '1' again; without
    # going back it would have read '1' (and diverged at that read).
    flat = os.path.join(tmp, "flat.raw")
    qemu_img("convert", "-O", "raw", disk, flat)
    if open(flat, "rb").read()[512:513] != b"1":
        fail("the image's sector 2 should hold the replay's write ('1')")
    print(f"blkreplay over a writable qcow2 with rrsnapshot=init: recorded and replayed "
          f"({out.strip()!r})")


if __name__ == "__main__":
    which = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        {"savevm": case_savevm, "rr": case_rr, "errors": case_errors,
         "blkreplay": case_blkreplay}[which](tmp)
    print("PASS")
