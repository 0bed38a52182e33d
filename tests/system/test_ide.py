"""IDE disks on the pc board (devices/ide.c, devices/piix_ide.c).

1. SeaBIOS boots a raw disk whose MBR reads sector 2 through INT 13h and
   prints it on COM1, then leaves through isa-debug-exit: the serial output
   and the exit status equal qemu-system-x86_64's.
2. That boot records and replays (-icount rr=record/replay).
3. The reference command line (docs: qemu-record-replay.rst) with
   snapshot + blkreplay is accepted and leaves the image unchanged; under
   record/replay it logs every request with a hash of its data, replays
   exactly, and a replay against a changed disk stops at the first request
   that differs.
4. Debian's x86_64 kernel (direct boot) with -drive file=disk.raw,
   format=raw,if=ide: ata_piix finds the disk, and the busybox shell reads
   it (md5 equal to the host's) and writes it (the image changes).

usage: test_ide.py"""
import hashlib
import os
import random
import re
import subprocess
import sys
import tempfile
import time

from tandemtest import REPO, append_modules, binary, fail, kernel_modules, need, x86_linux_guest

need("/usr/share/seabios/bios.bin")
MSG = b"tandem-ide: hello from sector 2\r\n\0"
# cli; ds = es = 0; INT 13h AH=02 (1 sector, CHS 0/0/2 to 0:7e00); print the
# NUL-terminated string there on port 0x3f8; out 0x2a to isa-debug-exit.
MBR = bytes([0xFA, 0x31, 0xC0, 0x8E, 0xD8, 0x8E, 0xC0, 0xB8, 0x01, 0x02, 0xB9, 0x02, 0x00,
             0xB6, 0x00, 0xBB, 0x00, 0x7E, 0xCD, 0x13, 0xBE, 0x00, 0x7E, 0xBA, 0xF8, 0x03,
             0xAC, 0x84, 0xC0, 0x74, 0x03, 0xEE, 0xEB, 0xF8, 0xBA, 0x01, 0x05, 0xB0, 0x2A,
             0xEE, 0xF4, 0xEB, 0xFD])
BASE = ["-M", "pc", "-m", "128M", "-nographic", "-monitor", "none",
        "-device", "isa-debug-exit"]


def boot_disk(path):
    img = bytearray(1 << 20)
    img[:len(MBR)] = MBR
    img[510:512] = b"\x55\xaa"
    img[512:512 + len(MSG)] = MSG
    with open(path, "wb") as f:
        f.write(img)


def clean(out):
    text = out.decode(errors="replace").replace("\r", "")
    return "\n".join(l for l in text.split("\n") if not l.startswith(("qemu-system", "tandem:")))


def run(cmd, timeout=120):
    r = subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout, r.stderr.decode(errors="replace")


def seabios(tmp):
    disk = os.path.join(tmp, "boot.raw")
    boot_disk(disk)
    drive = ["-drive", f"file={disk},format=raw"]
    ts, tout, terr = run([binary("x86_64")] + BASE + drive)
    qs, qout, _ = run(["qemu-system-x86_64"] + BASE + drive + ["-nic", "none", "-accel", "tcg"])
    if ts != 85 or "hello from sector 2" not in clean(tout):
        fail(f"SeaBIOS disk boot on Tandem: status {ts}\n{clean(tout)}\n{terr}")
    # SeaBIOS's serial console copies its text screen out on timer ticks:
    # how much of "Booting from Hard Disk...\n" leaves before the boot
    # sector takes the port over follows host time here (no -icount), on
    # both sides.  The dots and that line end are left out of the comparison.
    def same_text(out):
        return re.sub(r"Disk\.*\n?", "Disk", clean(out))
    if same_text(tout) != same_text(qout) or ts != qs:
        fail(f"SeaBIOS disk boot differs from QEMU (status {ts} vs {qs}):\n--- tandem\n"
             f"{clean(tout)}\n--- qemu\n{clean(qout)}")
    print("SeaBIOS boots the IDE disk like QEMU:", [l for l in clean(tout).split("\n") if "hello" in l])

    log = os.path.join(tmp, "boot.rr")
    rs, rout, rerr = run([binary("x86_64")] + BASE + drive +
                         ["-icount", f"shift=auto,rr=record,rrfile={log}"])
    ps, pout, perr = run([binary("x86_64")] + BASE + drive +
                         ["-icount", f"shift=auto,rr=replay,rrfile={log}"])
    if rs != 85 or ps != 85 or rout != pout or "final state matches" not in perr:
        fail(f"disk boot record/replay: status {rs}/{ps}\n{rerr}\n{perr}")
    print("disk boot recorded and replayed")

    # The reference command line: snapshot under blkreplay.
    before = hashlib.md5(open(disk, "rb").read()).hexdigest()
    ref = ["-drive", f"file={disk},if=none,snapshot,id=img-direct",
           "-drive", "driver=blkreplay,if=none,image=img-direct,id=img-blkreplay",
           "-device", "ide-hd,drive=img-blkreplay"]
    s, out, err = run([binary("x86_64")] + BASE + ref)
    if s != 85 or "hello from sector 2" not in clean(out):
        fail(f"blkreplay drive: status {s}\n{clean(out)}\n{err}")
    if hashlib.md5(open(disk, "rb").read()).hexdigest() != before:
        fail("snapshot=on changed the image")
    # QEMU's documented record/replay command line: every request is logged
    # with a hash of its data, and checked in replay.
    blog = os.path.join(tmp, "blk.rr")
    rs, rout, rerr = run([binary("x86_64")] + BASE + ref +
                         ["-icount", f"shift=auto,rr=record,rrfile={blog}"])
    ps, pout, perr = run([binary("x86_64")] + BASE + ref +
                         ["-icount", f"shift=auto,rr=replay,rrfile={blog}"])
    if rs != 85 or ps != 85 or rout != pout or "final state matches" not in perr:
        fail(f"blkreplay record/replay: status {rs}/{ps}\n{rerr}\n{perr}")
    if hashlib.md5(open(disk, "rb").read()).hexdigest() != before:
        fail("record/replay through blkreplay changed the image")
    tool = os.path.join(os.path.dirname(binary("x86_64")), "tools", "tandem-log")
    dump = subprocess.run([tool, "dump", blog], capture_output=True, text=True).stdout
    blocks = [l for l in dump.splitlines() if " block " in l]
    if not blocks or "op=read" not in blocks[0]:
        fail(f"the blkreplay recording logs no block requests:\n{dump[:3000]}")
    # Replay against another disk: stops at the first request that differs.
    other = os.path.join(tmp, "other.raw")
    with open(disk, "rb") as f:
        data = bytearray(f.read())
    data[512 + 3] ^= 0xff
    with open(other, "wb") as f:
        f.write(data)
    oref = [a.replace(disk, other) for a in ref]
    s, out, err = run([binary("x86_64")] + BASE + oref +
                      ["-icount", f"shift=auto,rr=replay,rrfile={blog}"])
    if s == 0 or "other data than in the recording" not in err:
        fail(f"replay against a changed disk: status {s}, expected the divergence named:\n{err}")
    # Without snapshot=on the recording's disk would change under it.
    bad = [a.replace(",snapshot,", ",") for a in ref]
    s, out, err = run([binary("x86_64")] + BASE + bad +
                      ["-icount", f"shift=auto,rr=record,rrfile={blog}"])
    if s == 0 or "must not change: add snapshot=on" not in err:
        fail(f"blkreplay over a writable image under rr: status {s}, expected a clear error:\n"
             f"{err}")
    print(f"blkreplay: recorded ({len(blocks)} block requests logged) and replayed exactly, "
          f"image unchanged; a changed disk is caught at its first request")


def linux(tmp):
    disk = os.path.join(tmp, "disk.raw")
    rnd = random.Random(1)
    data = bytes(rnd.getrandbits(8) for _ in range(8 << 20))
    with open(disk, "wb") as f:
        f.write(data)
    kernel, _ = x86_linux_guest(tmp)
    mods = kernel_modules(kernel, ("ata_piix", "sd_mod"))
    script = os.path.join(tmp, "script.sh")
    with open(script, "w") as f:
        f.write("mount -t devtmpfs devtmpfs /dev\n")
        for name, _ in mods:
            f.write(f"busybox insmod /lib/modules/{name}.ko || echo insmod {name} failed\n")
        f.write("sleep 1\n"
                "echo sector0 $(dd if=/dev/sda bs=512 count=1 2>/dev/null | md5sum)\n"
                "echo first4m $(dd if=/dev/sda bs=1M count=4 2>/dev/null | md5sum)\n"
                "echo tandem-ide-write | dd of=/dev/sda bs=512 seek=100 conv=sync,notrunc "
                "2>/dev/null\nsync\n")
    initrd = os.path.join(tmp, "initramfs.cpio.gz")
    subprocess.run([sys.executable, os.path.join(REPO, "tests", "guests", "linux",
                                                 "mkinitramfs.py"), initrd, "--script", script],
                   check=True)
    append_modules(initrd, mods)
    s, out, err = run([binary("x86_64"), "-M", "pc", "-m", "256", "-nographic",
                       "-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0",
                       "-drive", f"file={disk},format=raw,if=ide"], timeout=800)
    text = clean(out)
    log = text[-6000:] + "\n" + err
    for pat in (r"ata1\.00: ATA-", r"sd 0:0:0:0: \[sda\]", r"tandem-linux: script exit 0"):
        if not re.search(pat, text):
            fail(f"Linux: no {pat!r} in the output:\n{log}")
    want0 = hashlib.md5(data[:512]).hexdigest()
    want4 = hashlib.md5(data[:4 << 20]).hexdigest()
    if f"sector0 {want0}" not in text or f"first4m {want4}" not in text:
        fail(f"Linux read other data than the image holds ({want0}, {want4}):\n{log}")
    if s != 0:
        fail(f"exit status {s} after poweroff:\n{log}")
    got = open(disk, "rb").read()[100 * 512:100 * 512 + 16]
    if got != b"tandem-ide-write":
        fail(f"the guest's write did not reach the image (sector 100: {got!r})")
    print("Linux: ata_piix found the disk, reads match the host, writes reach the image")


def smm_firmware():
    """SeaBIOS's SMM build (bios-256k.bin) asks for a software SMI and waits
    for a handler Tandem does not have: the wait must come with a warning
    saying so, not in silence."""
    bios = "/usr/share/seabios/bios-256k.bin"
    if not os.path.exists(bios):
        fail(f"{bios} missing (package seabios)")
    p = subprocess.Popen([binary("x86_64"), "-M", "pc", "-nographic", "-monitor", "none",
                          "-net", "none", "-bios", bios], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    time.sleep(3)
    p.terminate()
    _, err = p.communicate(timeout=30)
    err = err.decode(errors="replace")
    if "asked for a software SMI (APM control port 0xb2" not in err or "no SMM" not in err:
        fail(f"bios-256k.bin's SMI went unreported:\n{err}")
    print("bios-256k.bin: the SMI it waits on is reported")


def main():
    smm_firmware()
    with tempfile.TemporaryDirectory() as tmp:
        seabios(tmp)
        linux(tmp)
    print("PASS")


if __name__ == "__main__":
    main()
