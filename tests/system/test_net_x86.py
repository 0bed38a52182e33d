"""User networking on the pc board (-netdev user, -device rtl8139) and its
record/replay (-object filter-replay, docs/record-replay.md "Network").

1. Debian's x86_64 kernel boots directly with
   -netdev user,id=n1,hostfwd=tcp:127.0.0.1:PORT-:7000 -device rtl8139,netdev=n1;
   its initramfs loads 8139too (a module in Debian's kernel), gets an
   address from slirp's DHCP server with udhcpc, fetches a file from a
   Python HTTP server on the host through 10.0.2.2 (md5 equal to the
   host's), and serves a line on port 7000 that the host reads through the
   hostfwd port.  This run is recorded with -icount shift=auto,rr=record.
2. The HTTP server is stopped and nothing connects: the replay prints the
   same serial output byte for byte and ends matching the recording; the
   log holds net events (tandem-log dump).
3. Errors: a replay whose network configuration differs (another MAC, no
   netdev) is refused naming netdev.0; a recording without filter-replay
   is refused saying to add it; -net none records and replays a SeaBIOS
   boot.

usage: test_net_x86.py"""
import hashlib
import os
import random
import re
import subprocess
import sys
import tempfile

from tandemtest import (BUILD, DHCP_RUN, DHCP_UP, REPO, Run, append_modules, binary, fail,
                        free_port, http_server, kernel_modules, need, print_boot_disk,
                        send_through, tail, text, x86_linux_guest)

GUEST_PORT = 7000
GREETING = "hello-through-hostfwd"


def initramfs(tmp, kernel, http_port):
    mods = kernel_modules(kernel, ("8139too",))
    script = os.path.join(tmp, "script.sh")
    with open(script, "w") as f:
        f.write("mount -t devtmpfs devtmpfs /dev\n")
        for name, _ in mods:
            f.write(f"busybox insmod /lib/modules/{name}.ko || echo insmod {name} failed\n")
        f.write(f"""
{DHCP_UP}{DHCP_RUN}busybox ifconfig eth0 | grep "inet addr"
busybox wget -q -O /tmp/data http://10.0.2.2:{http_port}/data.bin || echo wget failed
echo "fetched $(busybox md5sum /tmp/data)"
echo {GREETING} > /tmp/msg
busybox nc -l -p {GUEST_PORT} < /tmp/msg > /tmp/got &
sleep 1
echo GUEST-LISTENING
wait
echo "host said: $(cat /tmp/got)"
""")
    initrd = os.path.join(tmp, "initramfs.cpio.gz")
    subprocess.run([sys.executable, os.path.join(REPO, "tests", "guests", "linux",
                                                 "mkinitramfs.py"), initrd, "--script", script],
                   check=True)
    append_modules(initrd, mods)
    return initrd


def base_args(kernel, initrd, fwd_port, extra=()):
    return [binary("x86_64"), "-M", "pc", "-m", "256", "-nographic", "-monitor", "none",
            "-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0",
            "-netdev", f"user,id=n1,hostfwd=tcp:127.0.0.1:{fwd_port}-:{GUEST_PORT}",
            "-device", "rtl8139,netdev=n1", *extra]


def linux(tmp):
    kernel, _ = x86_linux_guest(tmp)
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    data = bytes(random.Random(8139).getrandbits(8) for _ in range(300000))
    with open(os.path.join(root, "data.bin"), "wb") as f:
        f.write(data)
    want = hashlib.md5(data).hexdigest()
    srv = http_server(root)
    fwd = free_port()
    initrd = initramfs(tmp, kernel, srv.server_address[1])
    log = os.path.join(tmp, "net.rr")
    filt = ["-object", "filter-replay,id=replay,netdev=n1"]

    # 1. Record, with the host service up and a connection through hostfwd.
    r = Run(base_args(kernel, initrd, fwd, filt + ["-icount",
                                                   f"shift=auto,rr=record,rrfile={log}"]))
    if not r.wait_for("GUEST-LISTENING", 600):
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
    for pat, what in ((r"8139too .* eth0: RealTek RTL8139 at .*52:54:00:12:34:56, IRQ 11",
                       "8139too bound the card"),
                      (r"eth0: link up, 100Mbps, full-duplex", "the link"),
                      (r"dhcp: 10\.0\.2\.15 router 10\.0\.2\.2 dns 10\.0\.2\.3", "DHCP lease"),
                      ("fetched " + want, "the file's md5 in the guest"),
                      ("host said: host-was-here", "the host's line through hostfwd"),
                      (r"tandem-linux: script exit 0", "the script's end")):
        if not re.search(pat, t):
            fail(f"record: no {what} ({pat!r}) in the output:\n{tail(rec_out, rec_err)}")
    if got.decode(errors="replace").strip() != GREETING:
        fail(f"hostfwd: the host read {got!r}, the guest sent {GREETING!r}")
    print(f"recorded: DHCP, {len(data)} bytes over HTTP (md5 {want}), hostfwd both ways")

    dump = subprocess.run([os.path.join(BUILD, "tools", "tandem-log"), "dump", log],
                          capture_output=True, text=True).stdout
    nets = [l for l in dump.splitlines() if " net " in l]
    if len(nets) < 100 or "netdev=0" not in nets[0] or "head=" not in nets[0]:
        fail(f"the log should hold the frames as net events ({len(nets)}):\n{dump[-3000:]}")

    # 2. Replay with nothing on the host side: same output, same end.
    r = Run(base_args(kernel, initrd, fwd, filt + ["-icount",
                                                   f"shift=auto,rr=replay,rrfile={log}"]))
    st, rep_out, rep_err = r.finish(900)
    if st != 0 or "final state matches" not in rep_err:
        fail(f"replay: status {st}:\n{tail(rep_out, rep_err)}")
    if rep_out != rec_out:
        fail(f"replay: the serial output differs from the recording:\n--- recorded ---\n"
             f"{text(rec_out)[-3000:]}\n--- replayed ---\n{text(rep_out)[-3000:]}")
    print(f"replayed without the host service: identical output ({len(rep_out)} bytes), "
          f"{len(nets)} net events, {rep_err.strip().splitlines()[-1]}")

    # 3. The configuration the log belongs to.
    def refused(args, needle, what):
        p = subprocess.run(args, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
        err = p.stderr.decode(errors="replace")
        if p.returncode == 0 or needle not in err:
            fail(f"{what}: status {p.returncode}, expected {needle!r}:\n{err[-2000:]}")
        return err

    replay = ["-icount", f"shift=auto,rr=replay,rrfile={log}"]
    other_mac = [a.replace("rtl8139,netdev=n1", "rtl8139,netdev=n1,mac=52:54:00:12:34:99")
                 for a in base_args(kernel, initrd, fwd, filt + replay)]
    e = refused(other_mac, "recorded with another machine configuration",
                "replay with another MAC")
    if "netdev.0" not in e or "52:54:00:12:34:99" not in e:
        fail(f"the refusal should name netdev.0 and both MACs:\n{e}")
    no_net = [binary("x86_64"), "-M", "pc", "-m", "256", "-nographic", "-monitor", "none",
              "-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0", "-net", "none",
              *replay]
    refused(no_net, "recorded netdev.0=n1 type=user device=rtl8139", "replay without the netdev")
    refused(base_args(kernel, initrd, fwd, ["-icount", f"shift=auto,rr=record,rrfile={log}.x"]),
            "-object filter-replay,id=replay0,netdev=n1", "record without filter-replay")
    print("replays with another network configuration and records without filter-replay "
          "are refused")


def net_none(tmp):
    """-net none, QEMU's documented record/replay command line: a SeaBIOS
    disk boot that prints and leaves through isa-debug-exit."""
    need("/usr/share/seabios/bios.bin")
    msg = b"tandem-net: no network\r\n\0"
    disk = print_boot_disk(os.path.join(tmp, "boot.raw"), msg)
    log = os.path.join(tmp, "none.rr")
    base = [binary("x86_64"), "-M", "pc", "-m", "128M", "-nographic", "-monitor", "none",
            "-device", "isa-debug-exit", "-drive", f"file={disk},format=raw,snapshot=on",
            "-net", "none"]
    outs = []
    for mode in ("record", "replay"):
        p = subprocess.run(base + ["-icount", f"shift=auto,rr={mode},rrfile={log}"],
                           capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
        err = p.stderr.decode(errors="replace")
        if p.returncode != 85 or b"no network" not in p.stdout:
            fail(f"-net none {mode}: status {p.returncode}:\n{text(p.stdout)}\n{err}")
        outs.append(p.stdout)
    if outs[0] != outs[1] or "final state matches" not in err:
        fail(f"-net none: the replay differs:\n{err}")
    print("-net none records and replays")
    return disk


def nic_forms(tmp, disk):
    """QEMU's -nic and -net nic/-net user forms on the same boot; without
    any network option no card, and a note saying so."""
    base = [binary("x86_64"), "-M", "pc", "-m", "128M", "-nographic", "-monitor", "none",
            "-device", "isa-debug-exit", "-drive", f"file={disk},format=raw,snapshot=on"]

    def run(extra):
        p = subprocess.run(base + extra, capture_output=True, timeout=120,
                           stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr.decode(errors="replace")

    st, out, err = run([])
    if st != 85 or "note: no network card" not in err or "-nic user" not in err:
        fail(f"no network option: status {st}, expected the note:\n{err}")
    st, out, err = run(["-net", "none"])
    if st != 85 or "note:" in err:
        fail(f"-net none: status {st}, no note expected:\n{err}")
    log = os.path.join(tmp, "nic.rr")
    forms = (["-nic", "user,model=rtl8139,id=n0"],
             ["-net", "nic,model=rtl8139", "-net", "user,id=n0"],
             ["-net", "user,id=n0", "-net", "nic"])
    for form in forms:
        rec = form + ["-object", "filter-replay,id=r0,netdev=n0"]
        for mode in ("record", "replay"):
            st, out, err = run(rec + ["-icount", f"shift=auto,rr={mode},rrfile={log}"])
            if st != 85 or b"no network" not in out:
                fail(f"{' '.join(form)} {mode}: status {st}:\n{text(out)}\n{err}")
        if "final state matches" not in err:
            fail(f"{' '.join(form)}: the replay did not match:\n{err}")
        st, out, err = run(["-net", "none", "-icount", f"shift=auto,rr=replay,rrfile={log}"])
        if st == 0 or "netdev.0=n0 type=user device=rtl8139" not in err:
            fail(f"{' '.join(form)}: the recording should hold the card:\n{err}")
    st, out, err = run(["-nic", "user", "-icount", f"shift=auto,rr=record,rrfile={log}.x"])
    if st == 0 or "filter-replay,id=replay0,netdev=__org.qemu.nic0" not in err:
        fail(f"-nic user recorded without filter-replay: status {st}:\n{err}")
    print("-nic user and -net nic -net user record and replay an rtl8139; no option: "
          "no card, with a note")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        disk = net_none(tmp)
        nic_forms(tmp, disk)
        linux(tmp)
    print("PASS")


if __name__ == "__main__":
    main()
