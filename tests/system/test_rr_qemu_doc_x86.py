"""QEMU's record/replay documentation (docs/system/replay.rst, kept in
../shared/reference/qemu-record-replay.rst) on tandem-system-x86_64, with
its command lines as written: the disk through blkreplay over a snapshot
drive on ide-hd, -netdev user with rtl8139 and filter-replay, the serial
port.

The guest: Debian's x86_64 kernel with a small initramfs that loads the
modules (ata_piix, sd_mod, ext4 for ext2 with the crc32c it
asks for, 8139too) and switches to the root
given by root=/dev/sda: an ext2 filesystem made on the host with mke2fs -d
and converted to qcow2 with qemu-img.  Its /init (on the disk) writes files
on the disk and syncs, gets a DHCP lease from slirp, fetches a file from a
Python HTTP server on the host through 10.0.2.2, receives a file the host
sends through the hostfwd port, stores both on the disk, prints the md5sums
of all it wrote and read, remounts / read-only and powers off.

1. Record with the documentation's command line (plus the kernel, the
   hostfwd on the netdev, -nographic): the md5sums equal the host's.
2. Replay with the documentation's replay command line, the HTTP server
   stopped and nothing connecting: the serial output is byte-identical and
   the replay ends matching the recording's final state.
3. The qcow2 image's sha256 is unchanged after both; the log holds block
   and net events (tandem-log dump).

usage: test_rr_qemu_doc_x86.py"""
import gzip
import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

from tandemtest import (BUILD, REPO, Run, binary, fail, free_port, http_server,
                        kernel_modules, need, send_through, tail, text, x86_linux_guest)

sys.path.insert(0, os.path.join(REPO, "tests", "guests", "linux"))
from mkinitramfs import Cpio  # noqa: E402

GUEST_PORT = 7000
MODULES = ("ata_piix", "sd_mod", "crc32c_generic", "ext4", "8139too")
ROOT_APPLETS = ["sh", "mount", "umount", "cat", "echo", "md5sum", "seq", "cp", "sync",
                "grep", "ifconfig", "route", "udhcpc", "wget", "nc", "sleep", "poweroff",
                "chmod", "dd", "ls", "mkdir", "date", "wc", "rm"]

INITRAMFS_INIT = """#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t devtmpfs devtmpfs /dev
for m in {mods}; do
    insmod /lib/modules/$m.ko || echo "initramfs: insmod $m failed"
done
root=
for x in $(cat /proc/cmdline); do
    case $x in root=*) root=${{x#root=}};; esac
done
i=0
while [ ! -b "$root" ] && [ $i -lt 20 ]; do sleep 1; i=$((i+1)); done
if ! mount -t ext2 "$root" /root; then
    echo "initramfs: cannot mount root=$root"
    poweroff -f
fi
mount --move /dev /root/dev
umount /proc
exec switch_root /root /init
"""

# Runs as PID 1 on the disk.  $1 of the body: nothing; it must not exit.
ROOT_INIT_HEAD = """#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo "rr-doc: root $(grep '^/dev/sda / ' /proc/mounts)"
cat > /dhcp.sh <<'EOS'
#!/bin/sh
case "$1" in
bound|renew)
    ifconfig $interface $ip netmask $subnet up
    route add default gw $router
    echo "dhcp: $ip router $router dns $dns" > /dev/console
    ;;
esac
EOS
chmod +x /dhcp.sh
dhcp() {
    ifconfig lo 127.0.0.1 up
    ifconfig eth0 up
    udhcpc -i eth0 -n -q -f -s /dhcp.sh >/dev/null 2>&1 || echo udhcpc failed
}
"""

ROOT_INIT_TAIL = """
sync
mount -o remount,ro /
echo "rr-doc: done"
poweroff -f
"""


def initramfs(tmp, kernel, wanted=MODULES):
    """busybox and the modules; /init mounts root= and switches to it."""
    mods = kernel_modules(kernel, wanted)
    with open(need("/bin/busybox"), "rb") as f:
        bb = f.read()
    c = Cpio()
    for d in ("bin", "dev", "proc", "root", "lib", "lib/modules"):
        c.dir(d)
    c.chardev("dev/console", 5, 1)
    c.file("bin/busybox", bb)
    for a in ("sh", "mount", "umount", "insmod", "cat", "echo", "sleep", "poweroff",
              "switch_root"):
        c.link("bin/" + a, "busybox")
    for name, blob in mods:
        c.file(f"lib/modules/{name}.ko", blob, 0o644)
    c.file("init", INITRAMFS_INIT.format(mods=" ".join(n for n, _ in mods)).encode())
    path = os.path.join(tmp, "initramfs.cpio.gz")
    with open(path, "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as g:
            g.write(c.finish())
    return path


def root_image(tmp, body, files, size_mb=64):
    """An ext2 root filesystem (busybox, /init = ROOT_INIT_HEAD + body +
    ROOT_INIT_TAIL, and `files`: {path on the disk: bytes}) made with
    mke2fs -d, converted to qcow2.  Returns the qcow2's path."""
    for tool in ("mke2fs", "qemu-img"):
        if not shutil.which(tool) and not os.path.exists("/sbin/" + tool):
            fail(f"{tool} is missing (install e2fsprogs and qemu-utils: ./setup.sh does)")
    top = os.path.join(tmp, "rootfs")
    for d in ("bin", "dev", "proc", "sys", "tmp", "data"):
        os.makedirs(os.path.join(top, d))
    shutil.copy(need("/bin/busybox"), os.path.join(top, "bin", "busybox"))
    for a in ROOT_APPLETS:
        os.symlink("busybox", os.path.join(top, "bin", a))
    with open(os.path.join(top, "init"), "w") as f:
        f.write(ROOT_INIT_HEAD + body + ROOT_INIT_TAIL)
    os.chmod(os.path.join(top, "init"), 0o755)
    for p, data in files.items():
        with open(os.path.join(top, p), "wb") as f:
            f.write(data)
    raw = os.path.join(tmp, "root.ext2")
    mke2fs = shutil.which("mke2fs") or "/sbin/mke2fs"
    r = subprocess.run([mke2fs, "-q", "-F", "-t", "ext2", "-b", "4096", "-L", "tandem-root",
                        "-d", top, raw, f"{size_mb}M"], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"mke2fs -d {top}: {r.stderr}")
    disk = os.path.join(tmp, "disk.qcow2")
    r = subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, disk],
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"qemu-img convert: {r.stderr}")
    os.unlink(raw)
    return disk


def doc_cmdline(emulator, kernel, initrd, disk, log, mode, fwd_port=None):
    """The documentation's command line; only the binary, the kernel, the
    hostfwd on the netdev (with fwd_port) and -nographic added."""
    fwd = f",hostfwd=tcp:127.0.0.1:{fwd_port}-:{GUEST_PORT}" if fwd_port else ""
    return [emulator,
            "-icount", f"shift=auto,rr={mode},rrfile={log}",
            "-drive", f"file={disk},if=none,snapshot,id=img-direct",
            "-drive", "driver=blkreplay,if=none,image=img-direct,id=img-blkreplay",
            "-device", "ide-hd,drive=img-blkreplay",
            "-netdev", f"user,id=net1{fwd}",
            "-device", "rtl8139,netdev=net1",
            "-object", "filter-replay,id=replay,netdev=net1",
            "-kernel", kernel, "-initrd", initrd,
            "-append", "console=ttyS0 root=/dev/sda", "-nographic"]


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


GUEST_BODY = """
seq 1 20000 > /data/seq.txt
cp /data/host.bin /data/host.copy
sync
echo "rr-doc: wrote $(md5sum /data/seq.txt) $(md5sum /data/host.copy)"
dhcp
wget -q -O /data/http.bin http://10.0.2.2:{http_port}/data.bin || echo wget failed
sync
echo "rr-doc: fetched $(md5sum /data/http.bin)"
echo "guest-got-it" > /tmp/ack
nc -l -p {guest_port} < /tmp/ack > /data/fwd.bin &
sleep 1
echo GUEST-LISTENING
wait
sync
echo "rr-doc: received $(md5sum /data/fwd.bin)"
echo "rr-doc: files $(ls /data | wc -l)"
"""


def main():
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        kernel, _ = x86_linux_guest(tmp)
        rnd = random.Random(9)
        host_bin = bytes(rnd.getrandbits(8) for _ in range(100000))
        http_data = bytes(rnd.getrandbits(8) for _ in range(200000))
        fwd_data = bytes(rnd.getrandbits(8) for _ in range(50000))
        seq = "".join(f"{i}\n" for i in range(1, 20001)).encode()
        www = os.path.join(tmp, "www")
        os.mkdir(www)
        with open(os.path.join(www, "data.bin"), "wb") as f:
            f.write(http_data)
        srv = http_server(www)
        fwd = free_port()
        initrd = initramfs(tmp, kernel)
        disk = root_image(tmp, GUEST_BODY.format(http_port=srv.server_address[1],
                                                 guest_port=GUEST_PORT),
                          {"data/host.bin": host_bin})
        before = sha256(disk)
        log = os.path.join(tmp, "replay.bin")

        # 1. Record.
        r = Run(doc_cmdline(binary("x86_64"), kernel, initrd, disk, log, "record", fwd))
        if not r.wait_for("GUEST-LISTENING", 300):
            st, out, err = r.finish(10)
            srv.shutdown()
            fail(f"record: the guest never listened on port {GUEST_PORT}:\n{tail(out, err)}")
        try:
            ack = send_through(fwd, fwd_data)
        except OSError as e:
            r.finish(10)
            fail(f"hostfwd 127.0.0.1:{fwd} -> guest:{GUEST_PORT}: {e}")
        st, rec_out, rec_err = r.finish(300)
        srv.shutdown()
        srv.server_close()
        t = text(rec_out)
        if st != 0:
            fail(f"record: exit status {st}:\n{tail(rec_out, rec_err)}")
        md5 = lambda b: hashlib.md5(b).hexdigest()  # noqa: E731
        for pat, what in (
                (r"rr-doc: root /dev/sda / ext2 rw", "the disk as the root"),
                (r"dhcp: 10\.0\.2\.15 router 10\.0\.2\.2", "the DHCP lease"),
                (f"rr-doc: wrote {md5(seq)}  /data/seq.txt {md5(host_bin)}  /data/host.copy",
                 "the md5sums of the files written"),
                (f"rr-doc: fetched {md5(http_data)}  /data/http.bin", "the HTTP file's md5"),
                (f"rr-doc: received {md5(fwd_data)}  /data/fwd.bin",
                 "the md5 of the file sent through hostfwd"),
                ("rr-doc: files 5", "five files in /data"),
                ("rr-doc: done", "the end of /init")):
            if not re.search(pat, t):
                fail(f"record: no {what} ({pat!r}) in the output:\n{tail(rec_out, rec_err)}")
        if ack.strip() != b"guest-got-it":
            fail(f"hostfwd: the host read {ack!r} from the guest")
        if sha256(disk) != before:
            fail("the recording changed the qcow2 image (snapshot under blkreplay)")
        t_rec = time.time() - t0
        print(f"recorded in {t_rec:.0f} s: root on the IDE disk, files written, DHCP, "
              f"{len(http_data)} bytes over HTTP, {len(fwd_data)} through hostfwd, md5s match")

        dump = subprocess.run([os.path.join(BUILD, "tools", "tandem-log"), "dump", log],
                              capture_output=True, text=True)
        if dump.returncode != 0:
            fail(f"tandem-log dump: status {dump.returncode}:\n{dump.stderr}")
        lines = dump.stdout.splitlines()
        blocks = [l for l in lines if " block " in l]
        writes = [l for l in blocks if "op=write" in l]
        nets = [l for l in lines if " net " in l]
        if len(blocks) < 20 or len(writes) < 5 or len(nets) < 50:
            fail(f"the log should hold block reads and writes and net frames "
                 f"({len(blocks)} block, {len(writes)} writes, {len(nets)} net):\n"
                 f"{dump.stdout[-3000:]}")

        # 2. Replay with no HTTP server and nothing connecting to hostfwd.
        t1 = time.time()
        r = Run(doc_cmdline(binary("x86_64"), kernel, initrd, disk, log, "replay", fwd))
        st, rep_out, rep_err = r.finish(300)
        if st != 0 or "final state matches" not in rep_err:
            fail(f"replay: status {st}:\n{tail(rep_out, rep_err)}")
        if rep_out != rec_out:
            fail(f"replay: the serial output differs from the recording:\n--- recorded ---\n"
                 f"{text(rec_out)[-3000:]}\n--- replayed ---\n{text(rep_out)[-3000:]}")
        if sha256(disk) != before:
            fail("the replay changed the qcow2 image")
        print(f"replayed in {time.time() - t1:.0f} s without the host service: identical "
              f"output ({len(rep_out)} bytes), {len(blocks)} block events "
              f"({len(writes)} writes), {len(nets)} net events; "
              f"{rep_err.strip().splitlines()[-1]}")
        print(f"image sha256 unchanged after both: {before}")
    print("PASS")


if __name__ == "__main__":
    main()
