"""virtio-blk disks on the riscv64 virt board (devices/virtio_blk.c).

Linux 6.1 from ../shared/guests/riscv64 boots to a static /init
(tests/guests/linux/vblk_init.c: Debian ships no riscv64 busybox here)
that reports what virtio_blk found on /dev/vda and /dev/vdb (size,
read-only flag, serial through GET_ID, a hash of the first 4 MiB), writes
a pattern to vda with fsync (a FLUSH request), reads it back past the page
cache, tries to write the read-only vdb, and powers off.

1. Two `-device virtio-blk-device,drive=ID` disks (raw, the second
   readonly=on): the first -device is vda, as on QEMU; every line the guest
   prints equals qemu-system-riscv64's, the hashes are the host's and the
   write reaches the image.
2. `-drive file=X.qcow2,if=virtio`: the same on a qcow2 image.
3. QEMU's record/replay command line (snapshot=on image, blkreplay drive,
   -device virtio-blk-device) under -icount shift=auto,rr=record then
   rr=replay: the same serial output, the replay ends matching, block
   requests are in the log, the images are unchanged; a replay against a
   changed disk stops at the first request that differs.

usage: test_virtio_blk.py"""
import gzip
import hashlib
import os
import random
import re
import subprocess
import sys
import tempfile

from tandemtest import OPENSBI, REPO, binary, fail, need, riscv_linux_guest

sys.path.insert(0, os.path.join(REPO, "tests", "guests", "linux"))
from mkinitramfs import Cpio  # noqa: E402

SPAN = 4 << 20
WRITE_OFF, WRITE_LEN = 100 * 512, 8192
SERIAL = "tandem-vblk"


def fnv1a(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return "%016x" % h


def pattern():
    p = bytearray((i * 31 + 7) & 0xff for i in range(WRITE_LEN))
    p[:17] = b"tandem-vblk-write"
    return bytes(p)


def build_initrd(tmp):
    cc = "riscv64-linux-gnu-gcc"
    exe = os.path.join(tmp, "init")
    src = os.path.join(REPO, "tests", "guests", "linux", "vblk_init.c")
    try:
        subprocess.run([cc, "-static", "-O2", "-Wall", "-o", exe, src], check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        fail(f"cannot build the guest's /init with {cc} (./setup.sh installs it): {e}")
    c = Cpio()
    for d in ("dev", "proc", "sys"):
        c.dir(d)
    c.chardev("dev/console", 5, 1)
    with open(exe, "rb") as f:
        c.file("init", f.read())
    initrd = os.path.join(tmp, "initramfs.cpio.gz")
    with open(initrd, "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as g:
            g.write(c.finish())
    return initrd


def md5(path):
    with open(path, "rb") as f:
        return hashlib.md5(f.read()).hexdigest()


def run(cmd, timeout=300):
    r = subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout.decode(errors="replace").replace("\r", ""), \
        r.stderr.decode(errors="replace")


def vblk_lines(out):
    return [l for l in out.split("\n") if l.startswith("vblk: ")]


def check_guest(out, err, disk_a, disk_b, what):
    """The guest's report against the host's images."""
    lines = vblk_lines(out)
    log = "\n".join(out.split("\n")[-60:]) + "\n" + err
    want = [f"vblk: vda size [{len(disk_a) // 512}]", "vblk: vda ro [0]",
            f"vblk: vda serial [{SERIAL}]", f"vblk: vda hash4m {fnv1a(disk_a[:SPAN])}",
            f"vblk: vda written, readback {fnv1a(pattern())} want {fnv1a(pattern())}",
            "vblk: done"]
    if disk_b is not None:
        want += [f"vblk: vdb size [{len(disk_b) // 512}]", "vblk: vdb ro [1]",
                 "vblk: vdb serial []", f"vblk: vdb hash4m {fnv1a(disk_b[:SPAN])}",
                 "vblk: vdb write: Operation not permitted"]
    for w in want:
        if w not in lines:
            fail(f"{what}: the guest did not print {w!r}:\n{log}")
    if not re.search(r"virtio_blk virtio\d+: \[vda\] %d 512-byte logical blocks"
                     % (len(disk_a) // 512), out):
        fail(f"{what}: virtio_blk did not announce vda:\n{log}")


def main():
    need(binary())
    fw = need(f"{OPENSBI}/fw_jump.elf")
    with tempfile.TemporaryDirectory() as tmp:
        image, _ = riscv_linux_guest(tmp)
        initrd = build_initrd(tmp)
        base = ["-M", "virt", "-m", "256", "-nographic", "-monitor", "none", "-bios", fw,
                "-kernel", image, "-initrd", initrd, "-append", "console=ttyS0"]
        rnd = random.Random(1)
        data_a = rnd.randbytes(8 << 20)
        data_b = rnd.randbytes(5 << 20)
        a = os.path.join(tmp, "a.raw")
        b = os.path.join(tmp, "b.raw")
        with open(b, "wb") as f:
            f.write(data_b)

        def fresh_a(path=a):
            with open(path, "wb") as f:
                f.write(data_a)

        # 1. Two -device disks, against QEMU.
        disks = ["-drive", f"file={a},format=raw,if=none,id=d0",
                 "-device", f"virtio-blk-device,drive=d0,serial={SERIAL}",
                 "-drive", f"file={b},format=raw,if=none,id=d1,readonly=on",
                 "-device", "virtio-blk-device,drive=d1"]
        fresh_a()
        s, out, err = run([binary()] + base + disks)
        check_guest(out, err, data_a, data_b, "two -device disks")
        if s != 0:
            fail(f"exit status {s} after poweroff:\n{err}")
        with open(a, "rb") as f:
            got = f.read()
        if got[WRITE_OFF:WRITE_OFF + WRITE_LEN] != pattern() or \
                got[:WRITE_OFF] != data_a[:WRITE_OFF] or \
                got[WRITE_OFF + WRITE_LEN:] != data_a[WRITE_OFF + WRITE_LEN:]:
            fail("the guest's write did not reach the image as written")
        if md5(b) != hashlib.md5(data_b).hexdigest():
            fail("the read-only image changed")
        tandem_lines = vblk_lines(out)
        fresh_a()
        qs, qout, qerr = run(["qemu-system-riscv64"] + base + disks)
        if qs != 0 or vblk_lines(qout) != tandem_lines:
            fail("the guest's report differs from QEMU's (status %d):\n--- tandem\n%s\n"
                 "--- qemu\n%s\n%s" % (qs, "\n".join(tandem_lines),
                                       "\n".join(vblk_lines(qout)), qerr))
        print("two virtio-blk-device disks: vda/vdb, serial, read-only, reads, write, "
              "flush as on QEMU")

        # 2. -drive if=virtio on a qcow2 image.
        fresh_a()
        q = os.path.join(tmp, "a.qcow2")
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", a, q], check=True)
        s, out, err = run([binary()] + base + ["-drive", f"file={q},if=virtio"])
        # No serial on the shorthand: QEMU's default, empty.
        out = out.replace("vblk: vda serial []", f"vblk: vda serial [{SERIAL}]")
        check_guest(out, err, data_a, None, "-drive if=virtio (qcow2)")
        if s != 0:
            fail(f"if=virtio: exit status {s}:\n{err}")
        back = os.path.join(tmp, "back.raw")
        subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", q, back], check=True)
        with open(back, "rb") as f:
            if f.read()[WRITE_OFF:WRITE_OFF + WRITE_LEN] != pattern():
                fail("if=virtio: the guest's write did not reach the qcow2 image")
        chk = subprocess.run(["qemu-img", "check", q], capture_output=True, text=True)
        if chk.returncode != 0:
            fail(f"qemu-img check after the guest's write:\n{chk.stdout}{chk.stderr}")
        print("-drive if=virtio: qcow2 image read and written, qemu-img check clean")

        # 3. Record/replay with QEMU's blkreplay command line.
        fresh_a()
        before = (md5(a), md5(b))
        ref = ["-drive", f"file={a},format=raw,if=none,snapshot=on,id=img-direct",
               "-drive", "driver=blkreplay,if=none,image=img-direct,id=img-blkreplay",
               "-device", f"virtio-blk-device,drive=img-blkreplay,serial={SERIAL}",
               "-drive", f"file={b},format=raw,if=none,readonly=on,id=ro-direct",
               "-drive", "driver=blkreplay,if=none,image=ro-direct,id=ro-blkreplay",
               "-device", "virtio-blk-device,drive=ro-blkreplay"]
        log = os.path.join(tmp, "vblk.rr")
        rs, rout, rerr = run([binary()] + base + ref +
                             ["-icount", f"shift=auto,rr=record,rrfile={log}"])
        check_guest(rout, rerr, data_a, data_b, "record")
        ps, pout, perr = run([binary()] + base + ref +
                             ["-icount", f"shift=auto,rr=replay,rrfile={log}"])
        if rs != 0 or ps != 0 or rout != pout or "final state matches" not in perr:
            fail(f"record/replay: status {rs}/{ps}, output {'equal' if rout == pout else 'differs'}"
                 f"\n{rerr}\n{perr}")
        if (md5(a), md5(b)) != before:
            fail("record/replay through blkreplay changed an image")
        tool = os.path.join(os.path.dirname(binary()), "tools", "tandem-log")
        dump = subprocess.run([tool, "dump", log], capture_output=True, text=True).stdout
        blocks = [l for l in dump.splitlines() if " block " in l]
        if not any("op=read" in l for l in blocks) or not any("op=write" in l for l in blocks) \
                or not any("op=flush" in l for l in blocks):
            fail(f"the recording lacks block reads, writes or flushes:\n{dump[:3000]}")
        # Replay against another disk: stops at the first request that differs.
        other = os.path.join(tmp, "other.raw")
        changed = bytearray(data_a)
        changed[3 << 20] ^= 0xff
        with open(other, "wb") as f:
            f.write(changed)
        oref = [x.replace(f"file={a},", f"file={other},") for x in ref]
        s, out, err = run([binary()] + base + oref +
                          ["-icount", f"shift=auto,rr=replay,rrfile={log}"])
        if s == 0 or "other data than in the recording" not in err:
            fail(f"replay against a changed disk: status {s}, expected the divergence "
                 f"named:\n{err}")
        print(f"record/replay: {len(blocks)} block requests logged, replay identical and "
              f"matching, images unchanged; a changed disk is caught")
    print("PASS")


if __name__ == "__main__":
    main()
