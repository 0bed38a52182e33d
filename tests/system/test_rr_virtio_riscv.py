"""Record/replay of a riscv64 virt Linux guest with a virtio-blk disk and a
virtio-net card (devices/virtio_net.c, docs/net.md "virtio-net").

1. Linux 6.1 from ../shared/guests/riscv64 with Debian's riscv64
   busybox-static (./setup.sh unpacks it into .deps/riscv64) mounts an
   ext2 disk (made with mke2fs -d, converted to qcow2) attached through
   QEMU's blkreplay command line, gets a DHCP lease from slirp over
   -device virtio-net-device,netdev=net1, fetches a file from a Python
   HTTP server on the host through 10.0.2.2, stores it and a file of its
   own on the disk, reads both back after a remount, prints their md5sums,
   exchanges a line with the host through a hostfwd port and powers off.  Recorded with -icount shift=auto,rr=record and
   -object filter-replay.
2. The HTTP server is gone: the replay prints the same serial output byte
   for byte and ends matching; the log holds block and net events
   (tandem-log dump); the original image's sha256 is unchanged after both
   runs (the disk is a snapshot=on overlay).
3. A replay with another MAC on the card is refused naming netdev.0.

usage: test_rr_virtio_riscv.py"""
import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

from tandemtest import (BUILD, DHCP_RUN, DHCP_UP, OPENSBI, REPO, Run, binary, fail, free_port,
                        http_server, need, riscv_linux_guest, send_through, tail, text)

GUEST_PORT = 7000
GREETING = "hello-through-hostfwd"


def busybox():
    bb = os.path.join(REPO, ".deps", "riscv64", "root", "usr", "bin", "busybox")
    if not os.path.exists(bb):
        fail(f"{bb} is missing: run ./setup.sh test (it fetches Debian's riscv64 "
             "busybox-static)")
    return bb


def initramfs(tmp, http_port):
    script = os.path.join(tmp, "script.sh")
    with open(script, "w") as f:
        f.write(f"""
mount -t devtmpfs devtmpfs /dev
busybox mkdir -p /mnt
busybox mount -t ext2 /dev/vda /mnt || echo mount failed
echo "disk says: $(busybox cat /mnt/hello.txt)"
{DHCP_UP}echo "mac: $(busybox cat /sys/class/net/eth0/address) carrier $(busybox cat /sys/class/net/eth0/carrier)"
{DHCP_RUN}busybox wget -q -O /mnt/data.bin http://10.0.2.2:{http_port}/data.bin || echo wget failed
busybox seq 1 20000 > /mnt/seq.txt
busybox sync
busybox umount /mnt
busybox mount -t ext2 -o ro /dev/vda /mnt || echo remount failed
busybox md5sum /mnt/data.bin /mnt/seq.txt /mnt/hello.txt
busybox umount /mnt
echo {GREETING} > /tmp/msg
busybox nc -l -p {GUEST_PORT} < /tmp/msg > /tmp/got &
busybox sleep 1
echo GUEST-LISTENING
wait
echo "host said: $(busybox cat /tmp/got)"
""")
    initrd = os.path.join(tmp, "initramfs.cpio.gz")
    subprocess.run([sys.executable, os.path.join(REPO, "tests", "guests", "linux",
                                                 "mkinitramfs.py"), initrd, "--script", script,
                    "--busybox", busybox()], check=True)
    return initrd


def make_disk(tmp):
    src = os.path.join(tmp, "fs")
    os.mkdir(src)
    with open(os.path.join(src, "hello.txt"), "w") as f:
        f.write("hello from the host's mke2fs\n")
    raw = os.path.join(tmp, "disk.raw")
    with open(raw, "wb") as f:
        f.truncate(8 << 20)
    mke2fs = shutil.which("mke2fs") or need("/sbin/mke2fs")
    subprocess.run([mke2fs, "-q", "-F", "-t", "ext2", "-b", "1024", "-d", src, raw],
                   check=True, env=dict(os.environ, E2FSPROGS_FAKE_TIME="1700000000"))
    disk = os.path.join(tmp, "disk.qcow2")
    subprocess.run([need("/usr/bin/qemu-img"), "convert", "-f", "raw", "-O", "qcow2", raw, disk],
                   check=True)
    return disk


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    fw = need(os.path.join(OPENSBI, "fw_jump.elf"))
    with tempfile.TemporaryDirectory() as tmp:
        image, _ = riscv_linux_guest(tmp)
        root = os.path.join(tmp, "www")
        os.mkdir(root)
        data = bytes(random.Random(1).getrandbits(8) for _ in range(200000))
        with open(os.path.join(root, "data.bin"), "wb") as f:
            f.write(data)
        want = hashlib.md5(data).hexdigest()
        seq_md5 = hashlib.md5("".join(f"{i}\n" for i in range(1, 20001)).encode()).hexdigest()
        srv = http_server(root)
        initrd = initramfs(tmp, srv.server_address[1])
        disk = make_disk(tmp)
        disk_sha = sha256(disk)
        log = os.path.join(tmp, "virtio.rr")
        fwd = free_port()

        def args(mode):
            return [binary("riscv64"), "-M", "virt", "-m", "256", "-nographic",
                    "-monitor", "none", "-bios", fw, "-kernel", image, "-initrd", initrd,
                    "-append", "console=ttyS0 quiet",
                    "-drive", f"file={disk},if=none,snapshot=on,id=img-direct",
                    "-drive", "driver=blkreplay,if=none,image=img-direct,id=img-blkreplay",
                    "-device", "virtio-blk-device,drive=img-blkreplay",
                    "-netdev", f"user,id=net1,hostfwd=tcp:127.0.0.1:{fwd}-:{GUEST_PORT}",
                    "-device", "virtio-net-device,netdev=net1",
                    "-object", "filter-replay,id=replay,netdev=net1",
                    "-icount", f"shift=auto,rr={mode},rrfile={log}"]

        # 1. Record with the HTTP server up and a connection through hostfwd.
        r = Run(args("record"))
        if not r.wait_for("GUEST-LISTENING", 300):
            st, out, err = r.finish(10)
            fail(f"record: the guest never listened on port {GUEST_PORT}:\n{tail(out, err)}")
        try:
            got = send_through(fwd, b"host-was-here\n")
        except OSError as e:
            r.finish(10)
            fail(f"hostfwd 127.0.0.1:{fwd} -> guest:{GUEST_PORT}: {e}")
        st, rec_out, rec_err = r.finish(300)
        srv.shutdown()
        srv.server_close()
        t = text(rec_out)
        if st != 0:
            fail(f"record: exit status {st}:\n{tail(rec_out, rec_err)}")
        for pat, what in (
                (r"disk says: hello from the host's mke2fs", "the file mke2fs put on the disk"),
                (r"mac: 52:54:00:12:34:56 carrier 1", "the card's MAC and link"),
                (r"dhcp: 10\.0\.2\.15 router 10\.0\.2\.2 dns 10\.0\.2\.3", "DHCP lease"),
                (want + r"\s+/mnt/data\.bin", "the fetched file's md5 read back from the disk"),
                (seq_md5 + r"\s+/mnt/seq\.txt", "the guest's own file read back"),
                ("host said: host-was-here", "the host's line through hostfwd"),
                (r"tandem-linux: script exit 0", "the script's end")):
            if not re.search(pat, t):
                fail(f"record: no {what} ({pat!r}) in the output:\n{tail(rec_out, rec_err)}")
        for bad in ("mount failed", "udhcpc failed", "wget failed"):
            if bad in t:
                fail(f"record: the guest reported a failure:\n{tail(rec_out, rec_err)}")
        if got.decode(errors="replace").strip() != GREETING:
            fail(f"hostfwd: the host read {got!r}, the guest sent {GREETING!r}")
        print(f"recorded: ext2 on virtio-blk, DHCP, {len(data)} bytes over HTTP on virtio-net "
              f"(md5 {want}) stored and read back")

        dump = subprocess.run([os.path.join(BUILD, "tools", "tandem-log"), "dump", log],
                              capture_output=True, text=True).stdout
        nets = [ln for ln in dump.splitlines() if " net " in ln]
        blocks = [ln for ln in dump.splitlines() if " block " in ln]
        if len(nets) < 50 or "netdev=0" not in nets[0]:
            fail(f"the log should hold the frames as net events ({len(nets)}):\n{dump[-3000:]}")
        if len(blocks) < 10:
            fail(f"the log should hold block events ({len(blocks)}):\n{dump[-3000:]}")

        # 2. Replay with no host service.
        st, rep_out, rep_err = Run(args("replay")).finish(300)
        if st != 0 or "final state matches" not in rep_err:
            fail(f"replay: status {st}:\n{tail(rep_out, rep_err)}")
        if rep_out != rec_out:
            fail(f"replay: the serial output differs from the recording:\n--- recorded ---\n"
                 f"{text(rec_out)[-3000:]}\n--- replayed ---\n{text(rep_out)[-3000:]}")
        if sha256(disk) != disk_sha:
            fail("record/replay changed the original image")
        print(f"replayed without the host service: identical output ({len(rep_out)} bytes), "
              f"{len(nets)} net and {len(blocks)} block events, image unchanged; "
              f"{rep_err.strip().splitlines()[-1]}")

        # 3. The log belongs to this card: another MAC is refused, naming it.
        other = [a.replace("virtio-net-device,netdev=net1",
                           "virtio-net-device,netdev=net1,mac=52:54:00:12:34:99")
                 for a in args("replay")]
        p = subprocess.run(other, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
        e = p.stderr.decode(errors="replace")
        if (p.returncode == 0 or "netdev.0=net1 type=user device=virtio-net-device" not in e
                or "52:54:00:12:34:99" not in e):
            fail(f"a replay with another MAC: status {p.returncode}:\n{e[-2000:]}")
        print("a replay with another MAC is refused naming netdev.0")
    print("PASS")


if __name__ == "__main__":
    main()
