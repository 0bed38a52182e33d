"""Shared helpers for Tandem's system tests (run by meson with the build dir
in TANDEM_BUILD)."""
import glob
import gzip
import os
import shutil
import subprocess
import sys
import tempfile

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
