"""Shared helpers for Tandem's system tests (run by meson with the build dir
in TANDEM_BUILD)."""
import glob
import gzip
import http.server
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pexpect

BUILD = os.environ.get("TANDEM_BUILD", os.path.join(os.path.dirname(__file__), "../../build"))
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
SHARED = os.path.abspath(os.environ.get("TANDEM_SHARED", os.path.join(REPO, "..", "shared")))

OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic"
UBOOT_S = "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin"
UBOOT_M = "/usr/lib/u-boot/qemu-riscv64/u-boot.bin"


def binary(arch="riscv64"):
    return os.path.join(BUILD, "tandem-system-" + arch)


def need(path):
    """A missing input is a test failure, never a silent skip."""
    if not os.path.exists(path):
        fail(f"required file {path} is missing (install the packages in setup.sh)")
    return path


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def spawn(args, arch="riscv64", timeout=120, logname=None):
    log = open(os.path.join(BUILD, "meson-logs", (logname or "sys") + ".serial.log"), "wb") \
        if os.path.isdir(os.path.join(BUILD, "meson-logs")) else None
    child = pexpect.spawn(binary(arch), args, timeout=timeout, logfile=log)
    return child


def expect(child, pattern, what, timeout=None):
    try:
        return child.expect(pattern, timeout=timeout if timeout is not None else -1)
    except pexpect.TIMEOUT:
        fail(f"timed out waiting for {what!r}; last output:\n{child.before[-2000:].decode(errors='replace')}")
    except pexpect.EOF:
        fail(f"emulator exited while waiting for {what!r}; output:\n{child.before[-3000:].decode(errors='replace')}")


def wait_exit(child, timeout=60):
    try:
        child.expect(pexpect.EOF, timeout=timeout)
    except pexpect.TIMEOUT:
        child.terminate(force=True)
        fail("emulator did not exit")
    child.close()
    return child.exitstatus if child.exitstatus is not None else 128 + (child.signalstatus or 0)


def riscv_linux_guest(tmpdir):
    """Gunzipped kernel Image and the initramfs of ../shared/guests/riscv64."""
    src = need(os.path.join(SHARED, "guests", "riscv64", "Image.gz"))
    initrd = need(os.path.join(SHARED, "guests", "riscv64", "initramfs.cpio.gz"))
    image = os.path.join(tmpdir, "Image")
    with gzip.open(src, "rb") as fi, open(image, "wb") as fo:
        shutil.copyfileobj(fi, fo)
    return image, initrd


def x86_linux_guest(tmpdir, arch="x86_64"):
    """Debian's Linux kernel and an initramfs of busybox-static with a tiny
    /init (tests/guests/linux): for x86_64 the installed linux-image-amd64
    and busybox-static; for i386 the i686 kernel and the i386 busybox-static
    that ./setup.sh unpacks into .deps/i386/root."""
    if arch == "x86_64":
        kernels = sorted(glob.glob("/boot/vmlinuz-*-amd64"))
        busybox = "/bin/busybox"
        hint = "install Debian's linux-image-amd64 and busybox-static (./setup.sh does)"
    else:
        root = os.path.join(REPO, ".deps", "i386", "root")
        kernels = sorted(glob.glob(os.path.join(root, "boot", "vmlinuz-*-686")))
        busybox = os.path.join(root, "bin", "busybox")
        hint = "run ./setup.sh test: it fetches Debian's linux-image-686 and i386 busybox-static"
    if not kernels or not os.path.exists(busybox):
        fail(f"no Linux kernel or busybox for {arch}: {hint}")
    initrd = os.path.join(tmpdir, "initramfs.cpio.gz")
    subprocess.run([sys.executable, os.path.join(REPO, "tests", "guests", "linux",
                                                 "mkinitramfs.py"), initrd,
                    "--busybox", busybox], check=True)
    return kernels[-1], initrd


def run(args, arch="riscv64", timeout=60, input=None):
    return subprocess.run([binary(arch)] + args, capture_output=True, timeout=timeout,
                          input=input)


def kernel_modules(kernel, wanted):
    """[(name, contents)] of the `wanted` modules of Debian's `kernel` and
    their dependencies, in load order (tests/guests/linux/kmod.py)."""
    sys.path.insert(0, os.path.join(REPO, "tests", "guests", "linux"))
    from kmod import KmodError, module_order, read_module
    ver = os.path.basename(kernel)[len("vmlinuz-"):]
    mdir = need(os.path.join("/lib/modules", ver))
    try:
        return [(os.path.basename(m).split(".ko")[0], read_module(os.path.join(mdir, m)))
                for m in module_order(mdir, wanted)]
    except KmodError as e:
        fail(str(e))


def append_modules(initrd, mods):
    """Append /lib/modules/NAME.ko for each (name, contents) to a gzip'd
    initramfs as a second archive (the kernel unpacks both)."""
    sys.path.insert(0, os.path.join(REPO, "tests", "guests", "linux"))
    from mkinitramfs import Cpio
    c = Cpio()
    c.dir("lib")
    c.dir("lib/modules")
    for name, blob in mods:
        c.file(f"lib/modules/{name}.ko", blob, 0o644)
    with open(initrd, "ab") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as g:
            g.write(c.finish())


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def send_through(port, data, timeout=60):
    """Connect to a hostfwd port on 127.0.0.1, send data, close the sending
    side and read the guest's answer to its end."""
    got = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        while True:
            b = s.recv(4096)
            if not b:
                return got
            got += b


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def http_server(root):
    """A Python HTTP server on 127.0.0.1 serving the folder `root`, in a
    thread; .server_address[1] is its port, .shutdown() stops it."""
    handler = lambda *a, **k: _Quiet(*a, directory=root, **k)  # noqa: E731
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


class Run:
    """An emulator process whose stdout and stderr are collected by threads."""

    def __init__(self, args):
        self.p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.out = bytearray()
        self.err = b""
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()
        self.te = threading.Thread(target=self._read_err, daemon=True)
        self.te.start()

    def _read(self):
        while True:
            b = self.p.stdout.read1(65536)
            if not b:
                return
            self.out += b

    def _read_err(self):
        self.err = self.p.stderr.read()

    def wait_for(self, text, timeout):
        end = time.time() + timeout
        while time.time() < end:
            if text.encode() in self.out:
                return True
            if self.p.poll() is not None:
                time.sleep(0.2)
                return text.encode() in self.out
            time.sleep(0.1)
        return False

    def finish(self, timeout):
        try:
            st = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            st = None
        self.t.join(5)
        self.te.join(5)
        return st, bytes(self.out), self.err.decode(errors="replace")


def text(out):
    return out.decode(errors="replace").replace("\r", "")


def tail(out, err):
    return text(out)[-5000:] + "\n--- stderr ---\n" + err[-3000:]


# Lines for a busybox initramfs /init (inside an f-string: they hold no
# braces): a udhcpc script that configures the lease and prints it, lo
# and eth0 up (DHCP_UP), then the DHCP exchange itself (DHCP_RUN).
DHCP_UP = """cat > /dhcp.sh <<'EOS'
#!/bin/sh
case "$1" in
bound|renew)
    busybox ifconfig $interface $ip netmask $subnet up
    busybox route add default gw $router
    echo "dhcp: $ip router $router dns $dns" > /dev/console
    ;;
esac
EOS
busybox chmod +x /dhcp.sh
busybox ifconfig lo 127.0.0.1 up
busybox ifconfig eth0 up
"""
DHCP_RUN = "busybox udhcpc -i eth0 -n -q -f -s /dhcp.sh >/dev/null 2>&1 || echo udhcpc failed\n"


def print_boot_disk(path, msg):
    """A 1 MiB raw disk whose boot sector prints msg (bytes, NUL-ended) on
    COM1 and leaves through isa-debug-exit (port 0x501, value 0x2a)."""
    # cli; ds = 0; si = 0x7c00 + 0x40; print the string on 0x3f8; out 0x2a to 0x501.
    code = bytes([0xFA, 0x31, 0xC0, 0x8E, 0xD8, 0xBE, 0x40, 0x7C, 0xBA, 0xF8, 0x03,
                  0xAC, 0x84, 0xC0, 0x74, 0x03, 0xEE, 0xEB, 0xF8, 0xBA, 0x01, 0x05, 0xB0,
                  0x2A, 0xEE, 0xF4, 0xEB, 0xFD])
    img = bytearray(1 << 20)
    img[:len(code)] = code
    img[0x40:0x40 + len(msg)] = msg
    img[510:512] = b"\x55\xaa"
    with open(path, "wb") as f:
        f.write(img)
    return path
