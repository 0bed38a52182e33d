#!/usr/bin/env python3
"""Build the x86 Linux test initramfs: Debian's busybox-static and a tiny
/init, as a gzip'd newc cpio (no root, no cpio tool needed).

usage: mkinitramfs.py OUT.cpio.gz [--busybox /bin/busybox] [--script FILE]

/init mounts /proc and /sys, prints "tandem-linux: init reached" and runs a
busybox shell on the console with the prompt "guest# ".  `poweroff -f`
powers the machine off through ACPI.

With --script FILE, /init instead runs FILE (busybox sh commands, as
/script) with its output on the console, prints "tandem-linux: script exit
<status>" and powers off (`poweroff -f`): a boot that needs no console
input.
"""
import argparse
import gzip
import os
import stat

INIT = b"""#!/bin/sh
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo "tandem-linux: init reached"
export PS1='guest# '
exec /bin/sh
"""

SCRIPT_INIT = b"""#!/bin/sh
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo "tandem-linux: init reached"
/bin/sh /script
echo "tandem-linux: script exit $?"
poweroff -f
"""

# What the tests use; busybox provides them all.
APPLETS = ["sh", "mount", "echo", "cat", "ls", "uname", "poweroff", "reboot",
           "sum", "md5sum", "dd", "sleep", "date", "halt", "dmesg", "seq",
           "true", "false", "test", "head", "tail", "wc", "grep", "sync",
           "tr", "cut", "sed", "sort", "uniq", "expr"]


class Cpio:
    def __init__(self):
        self.out = bytearray()
        self.ino = 1

    def entry(self, name, mode, data=b"", rdev=(0, 0)):
        namez = name.encode() + b"\0"
        hdr = "070701" + "".join("%08x" % v for v in (
            self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1],
            len(namez), 0))
        self.ino += 1
        self.out += hdr.encode() + namez
        self.out += b"\0" * (-len(self.out) % 4)
        self.out += data
        self.out += b"\0" * (-len(self.out) % 4)

    def dir(self, name):
        self.entry(name, stat.S_IFDIR | 0o755)

    def file(self, name, data, perm=0o755):
        self.entry(name, stat.S_IFREG | perm, data)

    def link(self, name, target):
        self.entry(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name, major, minor):
        self.entry(name, stat.S_IFCHR | 0o600, rdev=(major, minor))

    def finish(self):
        self.entry("TRAILER!!!", 0)
        self.out += b"\0" * (-len(self.out) % 512)
        return bytes(self.out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--busybox", default="/bin/busybox")
    ap.add_argument("--script", help="commands /init runs instead of a shell")
    a = ap.parse_args()
    with open(a.busybox, "rb") as f:
        bb = f.read()
    if bb[:4] != b"\x7fELF":
        raise SystemExit("%s is not an ELF program" % a.busybox)
    if b"ld-linux" in bb[:4096]:
        raise SystemExit("%s is dynamically linked: install Debian's busybox-static"
                         % a.busybox)
    c = Cpio()
    for d in ("bin", "sbin", "dev", "proc", "sys", "tmp"):
        c.dir(d)
    c.chardev("dev/console", 5, 1)
    c.chardev("dev/null", 1, 3)
    c.chardev("dev/ttyS0", 4, 64)
    c.file("bin/busybox", bb)
    for ap_ in APPLETS:
        c.link("bin/" + ap_, "busybox")
    if a.script:
        with open(a.script, "rb") as f:
            c.file("script", f.read(), 0o644)
        c.file("init", SCRIPT_INIT)
    else:
        c.file("init", INIT)
    # mtime 0 in the gzip header: the same input makes the same file.
    with open(a.out, "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as g:
            g.write(c.finish())


if __name__ == "__main__":
    main()
