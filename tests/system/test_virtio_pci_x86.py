"""virtio-blk-pci and virtio-net-pci on the pc board (devices/virtio_pci.c)
with Debian's x86_64 kernel, which has virtio_pci, virtio_blk and
virtio_net as modules: the initramfs loads them from the linux-image-amd64
package's /lib/modules.

0. SeaBIOS, with its own virtio-blk driver, boots a boot sector from a
   virtio-blk-pci disk on tandem-system-i386 and -x86_64, with -drive
   if=virtio and, recorded and replayed on blkreplay, with -device.
1. QEMU's short forms: -drive file=D.qcow2,if=virtio,snapshot=on and
   -nic user,model=virtio,hostfwd=...: the guest finds both modern
   functions (1af4:1041, 1af4:1042, revision 1), reads the disk (md5 equal
   to the host's), writes it with O_DIRECT and reads the write back past
   the page cache (md5 of the whole disk equal to what the host computes),
   gets a DHCP lease on eth0 and exchanges data through hostfwd: the host
   fetches 64 KiB of the guest's disk from its httpd and sends it a line.
2. The -device forms (-device virtio-blk-pci on a blkreplay drive over a
   raw snapshot=on image, -netdev user + -device virtio-net-pci with
   -object filter-replay) recorded with -icount shift=auto,rr=record; the
   replay with no host connection prints the same serial output byte for
   byte and ends matching; the log holds block and net events.
3. The images are unchanged (snapshot=on).

usage: test_virtio_pci_x86.py"""
import hashlib
import os
import random
import re
import subprocess
import sys
import tempfile
import urllib.request

from tandemtest import (BUILD, DHCP_RUN, DHCP_UP, REPO, Run, append_modules, binary, fail,
                        free_port, kernel_modules, need, print_boot_disk, send_through,
                        tail, text, x86_linux_guest)

GUEST_PORT = 7000       # the guest's nc: a line from the host
HTTP_PORT = 7001        # the guest's httpd: 64 KiB of its disk to the host
DISK = 4 << 20
SENT = 64 << 10          # bytes the guest sends back from the disk
PATTERN_AT = 1 << 20     # where the guest writes
PATTERN = b"tandem-virtio-pci-write!" * 171  # 4104 bytes: one 4 KiB block and a bit
BLOCK = 4096


def initramfs(tmp, kernel):
    mods = kernel_modules(kernel, ("virtio_pci", "virtio_blk", "virtio_net"))
    pat = os.path.join(tmp, "pattern.bin")
    script = os.path.join(tmp, "script.sh")
    with open(script, "w") as f:
        f.write("mount -t devtmpfs devtmpfs /dev\n")
        for name, _ in mods:
            f.write(f"busybox insmod /lib/modules/{name}.ko || echo insmod {name} failed\n")
        f.write(f"""
for d in /sys/bus/pci/devices/*; do
    if [ "$(cat $d/vendor)" = 0x1af4 ]; then
        echo "pci ${{d##*/}} $(cat $d/vendor):$(cat $d/device) rev $(cat $d/revision) irq $(cat $d/irq)"
    fi
done
for d in /sys/bus/virtio/devices/*; do echo "virtio ${{d##*/}} type $(cat $d/device)"; done
echo "disk-md5 $(busybox dd if=/dev/vda bs={BLOCK} count={DISK // BLOCK} 2>/dev/null | busybox md5sum)"
busybox dd if=/pattern.bin of=/dev/vda bs={BLOCK} seek={PATTERN_AT // BLOCK} oflag=direct 2>/dev/null || echo write failed
echo 3 > /proc/sys/vm/drop_caches
echo "after-md5 $(busybox dd if=/dev/vda bs={BLOCK} count={DISK // BLOCK} iflag=direct 2>/dev/null | busybox md5sum)"
{DHCP_UP}{DHCP_RUN}busybox mkdir -p /www
busybox dd if=/dev/vda of=/www/msg bs={BLOCK} count={SENT // BLOCK} 2>/dev/null
busybox httpd -f -p {HTTP_PORT} -h /www &
busybox nc -l -p {GUEST_PORT} < /dev/null > /tmp/got &
nc=$!
sleep 1
echo GUEST-LISTENING
wait $nc
echo "host said: $(cat /tmp/got)"
cat /proc/interrupts | grep -c virtio
""")
    # The pattern file, padded to whole blocks, rides in the initramfs.
    blob = PATTERN + bytes(-len(PATTERN) % BLOCK)
    initrd = os.path.join(tmp, "initramfs.cpio.gz")
    subprocess.run([sys.executable, os.path.join(REPO, "tests", "guests", "linux",
                                                 "mkinitramfs.py"), initrd, "--script", script],
                   check=True)
    append_modules(initrd, mods)
    sys.path.insert(0, os.path.join(REPO, "tests", "guests", "linux"))
    import gzip
    from mkinitramfs import Cpio
    c = Cpio()
    c.file("pattern.bin", blob, 0o644)
    with open(initrd, "ab") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as g:
            g.write(c.finish())
    return initrd, blob


def md5(b):
    return hashlib.md5(b).hexdigest()


def hostfwd(fwd):
    return [f"hostfwd=tcp:127.0.0.1:{fwd[0]}-:{GUEST_PORT}",
            f"hostfwd=tcp:127.0.0.1:{fwd[1]}-:{HTTP_PORT}"]


def run_guest(args, fwd, what):
    r = Run(args)
    if not r.wait_for("GUEST-LISTENING", 600):
        st, out, err = r.finish(10)
        fail(f"{what}: the guest never listened on port {GUEST_PORT}:\n{tail(out, err)}")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{fwd[1]}/msg", timeout=120) as u:
            got = u.read()
        send_through(fwd[0], b"host-was-here\n")
    except OSError as e:
        r.finish(10)
        fail(f"{what}: hostfwd 127.0.0.1:{fwd} -> guest:{GUEST_PORT},{HTTP_PORT}: {e}")
    st, out, err = r.finish(300)
    if st != 0:
        fail(f"{what}: exit status {st}:\n{tail(out, err)}")
    return got, out, err


def check_guest(what, out, got, data, blob):
    t = text(out)
    after = bytearray(data)
    after[PATTERN_AT:PATTERN_AT + len(blob)] = blob
    fn = r"pci 0000:00:0[0-9a-f]\.0 0x1af4:0x104{} rev 0x01 irq 1[01]"
    for pat, desc in ((fn.format(2), "the disk's function"), (fn.format(1), "the card's function"),
                      (r"virtio \S+ type 0x0002", "the virtio-blk device"),
                      (r"virtio \S+ type 0x0001", "the virtio-net device"),
                      (r"virtio_blk virtio\d: \[vda\] 8192 512-byte logical blocks", "vda"),
                      ("disk-md5 " + md5(data), "the disk's md5 in the guest"),
                      ("after-md5 " + md5(bytes(after)), "the md5 after the guest's write"),
                      (r"dhcp: 10\.0\.2\.15 router 10\.0\.2\.2 dns 10\.0\.2\.3", "DHCP lease"),
                      ("host said: host-was-here", "the host's line through hostfwd"),
                      (r"tandem-linux: script exit 0", "the script's end")):
        if not re.search(pat, t):
            fail(f"{what}: no {desc} ({pat!r}) in the output:\n{t[-4000:]}")
    for line in t.splitlines():
        if re.match(r"(insmod \S+|write|udhcpc) failed", line) or "Call Trace" in line:
            fail(f"{what}: {line!r} in the output:\n{t[-4000:]}")
    if got != data[:SENT]:
        fail(f"{what}: hostfwd: the host fetched {len(got)} bytes (md5 {md5(got)}), the guest "
             f"sent {SENT} of its disk (md5 {md5(data[:SENT])})")


def seabios(tmp):
    need("/usr/share/seabios/bios.bin")
    msg = b"tandem: booted from virtio-blk-pci\r\n\0"
    disk = print_boot_disk(os.path.join(tmp, "boot.raw"), msg)
    log = os.path.join(tmp, "seabios.rr")
    for arch in ("i386", "x86_64"):
        base = [binary(arch), "-M", "pc", "-m", "128M", "-nographic", "-monitor", "none",
                "-device", "isa-debug-exit", "-net", "none"]
        runs = [("if=virtio", ["-drive", f"file={disk},format=raw,if=virtio,snapshot=on"])]
        dev = ["-drive", f"file={disk},format=raw,if=none,snapshot=on,id=img-direct",
               "-drive", "driver=blkreplay,if=none,image=img-direct,id=img-blkreplay",
               "-device", "virtio-blk-pci,drive=img-blkreplay"]
        for mode in ("record", "replay"):
            runs.append((mode, dev + ["-icount", f"shift=auto,rr={mode},rrfile={log}"]))
        outs = []
        for what, extra in runs:
            p = subprocess.run(base + extra, capture_output=True, timeout=120,
                               stdin=subprocess.DEVNULL)
            err = p.stderr.decode(errors="replace")
            if p.returncode != 85 or b"booted from virtio-blk-pci" not in p.stdout:
                fail(f"SeaBIOS {arch} {what}: status {p.returncode}:\n{text(p.stdout)}\n{err}")
            outs.append(p.stdout)
        if outs[1] != outs[2] or "final state matches" not in err:
            fail(f"SeaBIOS {arch}: the replay differs:\n{err}")
    print("SeaBIOS boots from virtio-blk-pci on i386 and x86_64, recorded and replayed")


def main():
    need("/usr/bin/qemu-img")
    with tempfile.TemporaryDirectory() as tmp:
        seabios(tmp)
        kernel, _ = x86_linux_guest(tmp)
        initrd, blob = initramfs(tmp, kernel)
        data = random.Random(1042).randbytes(DISK)
        raw = os.path.join(tmp, "disk.raw")
        with open(raw, "wb") as f:
            f.write(data)
        qcow = os.path.join(tmp, "disk.qcow2")
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, qcow],
                       check=True, capture_output=True)
        sums = {p: md5(open(p, "rb").read()) for p in (raw, qcow)}
        base = [binary("x86_64"), "-M", "pc", "-m", "256", "-nographic", "-monitor", "none",
                "-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0"]

        # 1. -drive if=virtio on qcow2, -nic user,model=virtio.
        fwd = (free_port(), free_port())
        got, out, err = run_guest(
            base + ["-drive", f"file={qcow},if=virtio,snapshot=on",
                    "-nic", ",".join(["user,model=virtio"] + hostfwd(fwd))],
            fwd, "if=virtio / -nic model=virtio")
        check_guest("if=virtio / -nic model=virtio", out, got, data, blob)
        if "note:" in err:
            fail(f"a run with a card should print no note:\n{err}")
        print("if=virtio on qcow2 and -nic model=virtio: the guest read and wrote the disk, "
              "got a lease and talked through hostfwd")

        # 2. The -device forms under record/replay.
        log = os.path.join(tmp, "vpci.rr")
        fwd = (free_port(), free_port())
        dev = base + [
            "-drive", f"file={raw},format=raw,if=none,snapshot=on,id=img-direct",
            "-drive", "driver=blkreplay,if=none,image=img-direct,id=img-blkreplay",
            "-device", "virtio-blk-pci,drive=img-blkreplay",
            "-netdev", ",".join(["user,id=n1"] + hostfwd(fwd)),
            "-device", "virtio-net-pci,netdev=n1",
            "-object", "filter-replay,id=replay,netdev=n1"]
        got, rec_out, rec_err = run_guest(
            dev + ["-icount", f"shift=auto,rr=record,rrfile={log}"], fwd, "record")
        check_guest("record", rec_out, got, data, blob)
        dump = subprocess.run([os.path.join(BUILD, "tools", "tandem-log"), "dump", log],
                              capture_output=True, text=True).stdout.splitlines()
        blocks = [l for l in dump if " block " in l]
        writes = [l for l in blocks if "op=write" in l]
        nets = [l for l in dump if " net " in l]
        if len(blocks) < 10 or not writes or len(nets) < 20:
            fail(f"the log should hold block reads, writes and net frames ({len(blocks)} "
                 f"block, {len(writes)} writes, {len(nets)} net):\n" + "\n".join(dump[-40:]))
        p = subprocess.run(base + ["-net", "none", "-icount", f"shift=auto,rr=replay,rrfile={log}"],
                           capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
        e = p.stderr.decode(errors="replace")
        if p.returncode == 0 or "netdev.0=n1 type=user device=virtio-net-pci" not in e:
            fail(f"a replay without the card should be refused naming it:\n{e[-2000:]}")
        print(f"recorded: {len(blocks)} block events ({len(writes)} writes), {len(nets)} net")

        r = Run(dev + ["-icount", f"shift=auto,rr=replay,rrfile={log}"])
        st, rep_out, rep_err = r.finish(900)
        if st != 0 or "final state matches" not in rep_err:
            fail(f"replay: status {st}:\n{tail(rep_out, rep_err)}")
        if rep_out != rec_out:
            fail(f"replay: the serial output differs from the recording:\n--- recorded ---\n"
                 f"{text(rec_out)[-3000:]}\n--- replayed ---\n{text(rep_out)[-3000:]}")
        print(f"replayed without a host connection: identical output ({len(rep_out)} bytes), "
              f"{rep_err.strip().splitlines()[-1]}")

        # 3. snapshot=on kept both images as they were.
        for p, s in sums.items():
            if md5(open(p, "rb").read()) != s:
                fail(f"{p} changed under snapshot=on")
    print("PASS")


if __name__ == "__main__":
    main()
