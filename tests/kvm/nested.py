#!/usr/bin/env python3
"""Run commands that need /dev/kvm inside a nested Linux guest.

Boots Debian's x86_64 kernel under `qemu-system-x86_64 -accel tcg -cpu
qemu64,+svm` with a generated initramfs: busybox, the kvm-amd modules, the
commands' programs with every shared library they need, and any extra files
asked for.  Inside that guest /dev/kvm is real (AMD SVM emulated by TCG), so
KVM code can be tested on a host that has no /dev/kvm.

usage:
  nested.py [options] -- CMD [ARGS...]
  nested.py [options] --commands FILE      (one command a line, shell words;
                                           blank lines and # comments skipped)

The guest's serial console is copied to stdout as it comes.  Each command
runs in turn (stdin /dev/null, working directory = the host's current one)
and the guest prints `@@nested-exit <n> <status>` after command n.
The exit status of nested.py is:
  0          every command exited 0;
  <status>   the first command that failed exited with <status>
             (77 from a test still means "skipped" to meson);
  99         the harness itself failed: no /dev/kvm in the guest, a module
             that would not load, a timeout, a stall (--stall: a command
             silent that long), a kernel panic, a guest that
             stopped early, or a missing host package.

Files in the guest: each command's program (found on PATH like a shell
would), arguments that name existing regular files, and every --file, at the
same absolute paths as on the host (symlinks on the way are reproduced, so a
program that finds its data relative to itself or to the build directory
still does).  ELF programs bring the libraries `ldd` lists, the dynamic
loader and /etc/ld.so.cache.

Environment of the commands: PATH, HOME=/root, the host's ASAN_OPTIONS,
UBSAN_OPTIONS, LSAN_OPTIONS, MSAN_OPTIONS, TSAN_OPTIONS, MALLOC_PERTURB_,
LD_LIBRARY_PATH, TANDEM_* and CRITERION_* variables, and each --env.

The files go in a gzip'd newc cpio cached in --workdir (default: a temporary
directory, removed afterwards) under a name derived from the paths, sizes and
mtimes of everything in it; rebuilt files make a new one, unused ones go
after a day.  Each run appends a small uncompressed cpio holding /init (the
commands and environment), so changing only those reuses the cache.

The guest has one CPU, --mem of memory (2G) and no PMU (perf counters:
none), and its kernel is the newest /boot/vmlinuz-* whose modules are
installed.  Boot to a ready /dev/kvm takes about 5 s on a 2-core host.
"""
import argparse
import gzip
import hashlib
import os
import re
import selectors
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

try:
    import ctypes
    LIBC = ctypes.CDLL(None)
except (ImportError, OSError):
    LIBC = None

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guests", "linux"))
from mkinitramfs import Cpio  # noqa: E402  (the newc writer, shared)
from kmod import KmodError, modname, module_order, read_module  # noqa: E402

# Bump when the layout or /init changes, so old cached images are not reused.
FORMAT = 4

HARNESS_FAIL = 99
MODULES = ["irqbypass", "ccp", "kvm", "kvm-amd"]
APPLETS = ["sh", "ash", "mount", "umount", "mkdir", "insmod", "lsmod", "cat",
           "echo", "ls", "dmesg", "poweroff", "sync", "sleep", "true",
           "false", "test", "[", "env", "tail", "head", "grep", "uname",
           "rm", "cp", "mv", "ln", "chmod", "id", "ps", "kill", "wc", "date",
           "printf", "readlink", "dirname", "basename", "find", "stat", "md5sum"]
QEMU_PKG = "qemu-system-x86"
KERNEL_PKG = "linux-image-amd64"
BUSYBOX_PKG = "busybox-static"
MARK = "@@nested-"
# Passed on to the commands in the guest, besides --env.
FORWARD_ENV = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "MSAN_OPTIONS",
               "TSAN_OPTIONS", "MALLOC_PERTURB_", "LD_LIBRARY_PATH"}
FORWARD_PREFIXES = ("TANDEM_", "CRITERION_")
# Terminal control from SeaBIOS and the like: noise in a log.
ESCAPES = re.compile(rb"\x1b(\[[0-9;?]*[ -/]*[@-~]|[()][0-9A-Za-z]|[c78=>])|\r")


class HarnessError(Exception):
    pass


def log(msg):
    sys.stdout.flush()
    print("nested: " + msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# The guest's file tree.

class Tree:
    """Guest paths -> ('dir',) | ('link', target) | ('file', src, perm) |
    ('data', bytes, perm).  Paths are absolute and normalised."""

    def __init__(self):
        self.e = {"/": ("dir",)}

    def _resolve(self, path, depth=0):
        """`path` with the links already in the tree followed (not the last
        component)."""
        if depth > 40:
            raise HarnessError("symlink loop at %s" % path)
        parts = [p for p in path.split("/") if p]
        cur = "/"
        for i, comp in enumerate(parts[:-1]):
            nxt = os.path.join(cur, comp)
            ent = self.e.get(nxt)
            if ent and ent[0] == "link":
                tgt = os.path.normpath(os.path.join(cur, ent[1]))
                rest = "/".join(parts[i + 1:])
                return self._resolve(os.path.join(tgt, rest), depth + 1)
            cur = nxt
        return os.path.join(cur, parts[-1]) if parts else "/"

    def mkdir(self, path):
        path = self._resolve(os.path.normpath(path))
        ent = self.e.get(path)
        if ent and ent[0] == "link":
            tgt = os.path.normpath(os.path.join(os.path.dirname(path), ent[1]))
            return self.mkdir(tgt)
        if ent:
            if ent[0] != "dir":
                raise HarnessError("%s is a file and a directory" % path)
            return path
        if path != "/":
            self.mkdir(os.path.dirname(path))
        self.e[path] = ("dir",)
        return path

    def put(self, path, ent, replace=True):
        path = os.path.normpath(path)
        parent = self.mkdir(os.path.dirname(path))
        path = os.path.join(parent, os.path.basename(path))
        old = self.e.get(path)
        if old and (not replace or old[0] == "dir"):
            return path
        self.e[path] = ent
        return path

    def exists(self, path):
        return self._resolve(os.path.normpath(path)) in self.e

    def mirror(self, host, depth=0):
        """Copy host path `host` (a file or a directory tree) to the same
        path in the guest, reproducing the symlinks met on the way."""
        if depth > 40:
            raise HarnessError("symlink loop at %s" % host)
        host = os.path.normpath(os.path.abspath(host))
        parts = [p for p in host.split("/") if p]
        cur = "/"
        for i, comp in enumerate(parts):
            nxt = os.path.join(cur, comp)
            if os.path.islink(nxt):
                tgt = os.readlink(nxt)
                if self.e.get(nxt, ("link",))[0] == "link":
                    self.e.setdefault(nxt, ("link", tgt))
                self.mkdir(cur)
                real = os.path.normpath(os.path.join(cur, tgt))
                rest = "/".join(parts[i + 1:])
                return self.mirror(os.path.join(real, rest) if rest else real,
                                   depth + 1)
            cur = nxt
        self.copy(host, host)

    def copy(self, src, dst):
        """Copy host `src` (file or tree, following symlinks) to guest
        `dst`; symlinks inside a copied tree stay symlinks."""
        st = os.stat(src)
        if stat.S_ISDIR(st.st_mode):
            self.mkdir(dst)
            for name in sorted(os.listdir(src)):
                s, d = os.path.join(src, name), os.path.join(dst, name)
                if os.path.islink(s):
                    self.put(d, ("link", os.readlink(s)))
                else:
                    self.copy(s, d)
        elif stat.S_ISREG(st.st_mode):
            self.put(dst, ("file", src, stat.S_IMODE(st.st_mode)))
        else:
            raise HarnessError("%s is not a regular file or a directory" % src)

    def key(self):
        h = hashlib.sha256(b"nested-initramfs %d\n" % FORMAT)
        for path in sorted(self.e):
            ent = self.e[path]
            h.update(repr((path, ent[0])).encode())
            if ent[0] == "link":
                h.update(ent[1].encode())
            elif ent[0] == "data":
                h.update(hashlib.sha256(ent[1]).digest() + b"%o" % ent[2])
            elif ent[0] == "file":
                st = os.stat(ent[1])
                h.update(repr((ent[1], st.st_size, st.st_mtime_ns,
                               ent[2])).encode())
        return h.hexdigest()[:24]

    def total_size(self):
        n = 0
        for ent in self.e.values():
            if ent[0] == "file":
                n += os.path.getsize(ent[1])
            elif ent[0] == "data":
                n += len(ent[1])
        return n

    def write(self, out, level):
        c = Cpio()
        c.dir("dev")
        c.chardev("dev/console", 5, 1)   # for the kernel before devtmpfs
        c.chardev("dev/null", 1, 3)
        # Parents before children.
        for path in sorted(self.e, key=lambda p: p.split("/")):
            if path == "/":
                continue
            name = path[1:]
            ent = self.e[path]
            if ent[0] == "dir":
                if name != "dev":   # written above
                    c.dir(name)
            elif ent[0] == "link":
                c.link(name, ent[1])
            elif ent[0] == "data":
                c.file(name, ent[1], ent[2])
            else:
                with open(ent[1], "rb") as f:
                    c.file(name, f.read(), ent[2])
        data = c.finish()
        tmp = out + ".tmp.%d" % os.getpid()
        with open(tmp, "wb") as f:
            if level:
                with gzip.GzipFile(fileobj=f, mode="wb", mtime=0,
                                   compresslevel=level) as g:
                    g.write(data)
            else:
                f.write(data)
        os.replace(tmp, out)


# --------------------------------------------------------------------------
# Host inputs.

def version_key(v):
    return [(0, int(x)) if x.isdigit() else (1, x)
            for x in re.split(r"[.\-+~]", v)]


def find_kernel(kernel, moddir):
    if kernel:
        if not os.path.isfile(kernel):
            raise HarnessError("kernel %s not found" % kernel)
        ver = os.path.basename(kernel).partition("vmlinuz-")[2]
    else:
        cands = []
        for name in os.listdir("/boot") if os.path.isdir("/boot") else []:
            if name.startswith("vmlinuz-"):
                ver = name[len("vmlinuz-"):]
                if os.path.isdir(os.path.join("/lib/modules", ver)):
                    cands.append((version_key(ver), ver))
        if not cands:
            raise HarnessError(
                "no /boot/vmlinuz-* with matching /lib/modules/<version>: "
                "install the Debian package %s (apt-get install %s)"
                % (KERNEL_PKG, KERNEL_PKG))
        ver = max(cands)[1]
        kernel = os.path.join("/boot", "vmlinuz-" + ver)
    if not os.access(kernel, os.R_OK):
        raise HarnessError("%s is not readable by this user" % kernel)
    if not moddir:
        moddir = os.path.join("/lib/modules", ver)
    if not os.path.isfile(os.path.join(moddir, "modules.dep")):
        raise HarnessError(
            "%s/modules.dep not found (kernel modules for %s): install the "
            "Debian package %s" % (moddir, kernel, KERNEL_PKG))
    return kernel, moddir


def is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def shebang(path):
    """The interpreter named by a script's #! line, or None."""
    try:
        with open(path, "rb") as f:
            head = f.read(256)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    words = head[2:].split(b"\n")[0].split()
    return words[0].decode() if words else None


_ldd_cache = {}


def shared_libs(path):
    """The files the dynamic loader maps for ELF `path` (loader included);
    [] for a static program."""
    if path in _ldd_cache:
        return _ldd_cache[path]
    if not shutil.which("ldd"):
        raise HarnessError("ldd not found: install the Debian package libc-bin")
    r = subprocess.run(["ldd", path], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    libs = []
    for line in r.stdout.splitlines():
        line = line.strip()
        if "not a dynamic executable" in line or "statically linked" in line:
            break
        m = re.match(r"(\S+) => not found", line)
        if m:
            raise HarnessError("%s needs %s, which ldd cannot find"
                               % (path, m.group(1)))
        m = re.match(r"\S+ => (/\S+) \(0x[0-9a-f]+\)$", line) or \
            re.match(r"(/\S+) \(0x[0-9a-f]+\)$", line)
        if m:
            libs.append(m.group(1))
    _ldd_cache[path] = libs
    return libs


def which(prog, cwd):
    if "/" in prog:
        p = os.path.join(cwd, prog)
        if not os.path.isfile(p):
            raise HarnessError("command %s not found" % prog)
        return os.path.abspath(p)
    p = shutil.which(prog)
    if not p:
        raise HarnessError("command %s not found on PATH" % prog)
    return os.path.abspath(p)


# --------------------------------------------------------------------------
# /init

INIT_HEAD = r"""#!/nested/busybox sh
echo
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/nested/bin
export HOME=/root
fail() {
    echo "@@nested-error $*"
    /nested/busybox dmesg 2>/dev/null | /nested/busybox tail -n 20
    /nested/busybox poweroff -f
    /nested/busybox sleep 5
    exit 1
}
bb=/nested/busybox
$bb mount -t devtmpfs devtmpfs /dev || fail "cannot mount devtmpfs"
$bb mount -t proc proc /proc || fail "cannot mount /proc"
$bb mount -t sysfs sysfs /sys || fail "cannot mount /sys"
$bb chmod 1777 /tmp   # the initramfs is already a writable tmpfs
$bb mkdir -p /dev/shm /dev/pts
$bb mount -t tmpfs -o mode=1777 tmpfs /dev/shm
$bb mount -t devpts devpts /dev/pts
[ -e /dev/fd ] || $bb ln -s /proc/self/fd /dev/fd
echo "@@nested-booted $($bb uname -r)"
for m in %(modules)s; do
    $bb insmod /nested/modules/$m.ko || fail "module $m failed to load (insmod $m.ko)"
done
[ -c /dev/kvm ] || fail "no /dev/kvm in the guest after loading the kvm modules"
echo "@@nested-kvm-ready"
%(env)s
$bb mkdir -p %(cwd)s && cd %(cwd)s || fail "cannot cd to %(cwd)s"
"""

INIT_CMD = r"""echo "@@nested-run %(n)d: "%(shown)s
%(cmd)s </dev/null
echo "@@nested-exit %(n)d $?"
"""

INIT_TAIL = r"""echo "@@nested-done"
$bb sync
$bb poweroff -f
$bb sleep 5
"""


def make_init(cmds, modules, env, cwd):
    envs = "\n".join("export %s=%s" % (k, shlex.quote(v)) for k, v in env)
    s = INIT_HEAD % {"modules": " ".join(modules), "env": envs,
                     "cwd": shlex.quote(cwd)}
    for n, argv in enumerate(cmds, 1):
        q = " ".join(shlex.quote(a) for a in argv)
        s += INIT_CMD % {"n": n, "cmd": q, "shown": shlex.quote(q)}
    return (s + INIT_TAIL).encode()


# --------------------------------------------------------------------------
# Boot and watch.

class Cleaner:
    """Drop terminal escapes and carriage returns from a byte stream that
    arrives in pieces (the serial port gives single bytes)."""

    def __init__(self):
        self.held = b""

    def __call__(self, chunk):
        data = self.held + chunk
        self.held = b""
        i = data.rfind(b"\x1b")
        if i >= 0 and not ESCAPES.match(data, i) and len(data) - i < 16:
            data, self.held = data[:i], data[i:]
        return ESCAPES.sub(b"", data)


def run_guest(qemu_argv, timeout, ncmds, stall=0):
    """Boot; copy the console to stdout; return (statuses, problem).  With
    stall, a command that prints nothing for that many seconds ends the
    run (a guest hung inside the nested one)."""
    def child_setup():
        os.setsid()
        if LIBC is not None:  # Take QEMU down with us if we are killed.
            LIBC.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG

    p = subprocess.Popen(qemu_argv, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, preexec_fn=child_setup)
    statuses, problem = {}, None
    booted = ready = done = False
    panic = running = None
    errors = []
    t0 = time.monotonic()
    deadline = t0 + timeout
    last_out = t0
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ)
    buf = b""
    out = sys.stdout.buffer
    fd = p.stdout.fileno()
    clean = Cleaner()
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                if done:
                    log("warning: QEMU did not exit after the guest's "
                        "poweroff; killed it")
                else:
                    problem = "timeout: the guest ran past %gs" % timeout
                    if running:
                        problem += " (in command %s)" % running
                break
            if not sel.select(min(left, 1.0)):
                quiet = time.monotonic() - last_out
                if stall and running and quiet >= stall:
                    problem = ("stall: command %s printed nothing for %gs"
                               % (running, stall))
                    break
                continue
            last_out = time.monotonic()
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunk = clean(chunk)
            out.write(chunk)
            out.flush()
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for raw in lines:
                line = raw.decode("utf-8", "replace")
                i = line.find(MARK)
                if i >= 0:
                    word, _, rest = line[i + len(MARK):].partition(" ")
                    if word == "booted":
                        booted = True
                    elif word == "kvm-ready":
                        ready = True
                        ready_at = time.monotonic() - t0
                    elif word == "run":
                        running = rest.partition(":")[0]
                    elif word == "exit":
                        m = re.match(r"(\d+) (\d+)", rest)
                        if m:
                            statuses[int(m.group(1))] = int(m.group(2))
                            running = None
                    elif word == "done":
                        done = True
                        deadline = min(deadline, time.monotonic() + 15)
                    elif word == "error":
                        errors.append(rest.strip())
                if "Kernel panic" in line and panic is None:
                    panic = line.strip()
    finally:
        if p.poll() is None:
            try:
                p.wait(timeout=0 if problem else 10)
            except subprocess.TimeoutExpired:
                pass
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        sel.close()
    buf += clean.held
    if buf:
        out.write(buf + b"\n")
        out.flush()
    if ready:
        log("/dev/kvm was ready %.1fs after QEMU started" % ready_at)
    if problem:
        pass
    elif panic:
        problem = "kernel panic in the guest: %s" % panic
    elif errors:
        problem = "; ".join(errors)
    elif not booted:
        problem = ("the guest kernel never reached /init (QEMU exited with "
                   "status %s)" % p.returncode)
    elif not ready:
        problem = "the guest stopped before /dev/kvm was ready"
    elif not done or len(statuses) < ncmds:
        problem = ("the guest stopped before all commands finished "
                   "(%d of %d reported)" % (len(statuses), ncmds))
    elif p.returncode not in (0, -signal.SIGKILL):
        problem = "QEMU exited with status %d" % p.returncode
    if problem and errors and not problem.startswith(errors[0]):
        problem += " (guest said: %s)" % "; ".join(errors)
    return statuses, problem


def parse_args(argv):
    if "--" in argv:
        i = argv.index("--")
        argv, cmd = argv[:i], argv[i + 1:]
    else:
        cmd = []
    ap = argparse.ArgumentParser(
        prog="nested.py",
        usage="%(prog)s [options] -- CMD [ARGS...]\n"
              "       %(prog)s [options] --commands FILE",
        description="Run commands that need /dev/kvm inside a nested guest "
                    "(QEMU TCG with AMD SVM).")
    ap.add_argument("--commands", metavar="FILE",
                    help="file with one command a line (shell words)")
    ap.add_argument("--timeout", type=float, default=300,
                    help="seconds for the whole guest run (default 300)")
    ap.add_argument("--stall", type=float, default=0, metavar="S",
                    help="end the run when a command prints nothing for S "
                    "seconds (default: no limit)")
    ap.add_argument("--mem", default="2G", help="guest memory (default 2G)")
    ap.add_argument("--workdir", help="where to build and cache the "
                    "initramfs (default: a temporary directory)")
    ap.add_argument("--file", action="append", default=[],
                    metavar="SRC[:DST]",
                    help="also copy file or directory SRC into the guest, "
                         "at DST (default: the same absolute path)")
    ap.add_argument("--env", action="append", default=[], metavar="K[=V]",
                    help="set K in the commands' environment (without =V: "
                         "this process's value of K)")
    ap.add_argument("--cwd", help="working directory of the commands in the "
                    "guest (default: the current one)")
    ap.add_argument("--no-arg-files", action="store_true",
                    help="do not copy in arguments that name existing files")
    ap.add_argument("--kernel", help="kernel image (default: the newest "
                    "/boot/vmlinuz-* with modules installed)")
    ap.add_argument("--modules-dir", help="default /lib/modules/<version>")
    ap.add_argument("--busybox", default="/bin/busybox")
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--cpu", default="qemu64,+svm")
    ap.add_argument("--compress", type=int, default=1, metavar="LEVEL",
                    help="gzip level of the initramfs, 0 for none (default 1)")
    a = ap.parse_args(argv)
    if bool(cmd) == bool(a.commands):
        ap.error("give either -- CMD [ARGS...] or --commands FILE")
    cmds = [cmd] if cmd else []
    if a.commands:
        with open(a.commands) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#"):
                    cmds.append(shlex.split(line))
        if not cmds:
            ap.error("%s lists no command" % a.commands)
    return a, cmds


def build(a, cmds, workdir):
    qemu = shutil.which(a.qemu)
    if not qemu:
        raise HarnessError("%s not found: install the Debian package %s"
                           % (a.qemu, QEMU_PKG))
    if not is_elf(a.busybox):
        raise HarnessError("%s not found or not a program: install the Debian "
                           "package %s" % (a.busybox, BUSYBOX_PKG))
    if shared_libs(os.path.realpath(a.busybox)):
        raise HarnessError("%s is dynamically linked: install the Debian "
                           "package %s" % (a.busybox, BUSYBOX_PKG))
    kernel, moddir = find_kernel(a.kernel, a.modules_dir)
    mods = module_order(moddir, MODULES)

    cwd = os.path.abspath(a.cwd or os.getcwd())
    t = Tree()
    for d in ("dev", "proc", "sys", "tmp", "root", "etc", "nested/bin",
              "nested/modules"):
        t.mkdir("/" + d)
    # The host's top-level symlinks (/bin -> usr/bin on merged /usr), so
    # mirrored paths and the loader's paths agree.
    for d in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        if os.path.islink("/" + d):
            t.put("/" + d, ("link", os.readlink("/" + d)))

    elves = []
    for argv in cmds:
        prog = which(argv[0], cwd)
        argv[0] = prog
        t.mirror(prog)
        elves.append(os.path.realpath(prog))
        interp = shebang(prog)
        if interp:  # a script: bring its interpreter (busybox has sh)
            if os.path.isfile(interp):
                t.mirror(interp)
                elves.append(os.path.realpath(interp))
            elif not interp.endswith("/sh"):
                raise HarnessError("%s needs %s, not found"
                                   % (prog, interp))
        if not a.no_arg_files:
            for arg in argv[1:]:
                p = os.path.join(cwd, arg)
                if arg and os.path.isfile(p) and not arg.startswith("/dev/") \
                        and not arg.startswith("/proc/"):
                    t.mirror(p)
    for spec in a.file:
        src, sep, dst = spec.partition(":")
        src = os.path.abspath(src)
        if not os.path.exists(src):
            raise HarnessError("--file %s: %s does not exist" % (spec, src))
        if sep and dst:
            t.copy(src, os.path.join(cwd, dst))
        else:
            t.mirror(src)
        if os.path.isfile(src) and os.access(src, os.X_OK) and is_elf(src):
            elves.append(os.path.realpath(src))
    for elf in elves:
        if is_elf(elf):
            for lib in shared_libs(elf):
                t.mirror(lib)
    if os.path.isfile("/etc/ld.so.cache"):
        t.put("/etc/ld.so.cache", ("file", "/etc/ld.so.cache", 0o644))
    for name, data in (("passwd", b"root:x:0:0:root:/root:/bin/sh\n"),
                       ("group", b"root:x:0:\n")):
        if not t.exists("/etc/" + name):
            t.put("/etc/" + name, ("data", data, 0o644))

    t.put("/nested/busybox", ("file", os.path.realpath(a.busybox), 0o755))
    for app in APPLETS:
        t.put("/nested/bin/" + app, ("link", "../busybox"))
    if not t.exists("/bin/sh"):
        t.put("/bin/sh", ("link", "/nested/busybox"))
    names = []
    for rel in mods:
        n = modname(rel)
        names.append(n)
        t.put("/nested/modules/%s.ko" % n,
              ("data", read_module(os.path.join(moddir, rel)), 0o644))

    init = make_init(cmds, names, guest_env(a.env), cwd)

    size = t.total_size()
    memb = parse_mem(a.mem)
    if memb and size > memb // 2:
        raise HarnessError("the initramfs holds %d MiB, too much for --mem %s"
                           % (size >> 20, a.mem))
    os.makedirs(workdir, exist_ok=True)
    out = os.path.join(workdir, "initramfs-%s.cpio%s"
                       % (t.key(), ".gz" if a.compress else ""))
    if os.path.exists(out):
        log("initramfs %s (cached, %d MiB of files)" % (out, size >> 20))
    else:
        t0 = time.monotonic()
        t.write(out, a.compress)
        log("initramfs %s (%d MiB of files, %d KiB written, %.1fs)"
            % (out, size >> 20, os.path.getsize(out) >> 10,
               time.monotonic() - t0))
        prune(workdir, out)
    return qemu, kernel, out, init


def guest_env(specs):
    """(name, value) pairs for the commands' environment: the sanitizer and
    test settings of this process, then --env."""
    env = {}
    for k, v in os.environ.items():
        if k in FORWARD_ENV or k.startswith(FORWARD_PREFIXES):
            env[k] = v
    for spec in specs:
        k, sep, v = spec.partition("=")
        if not sep:
            if k not in os.environ:
                continue
            v = os.environ[k]
        env[k] = v
    for k in env:
        if not re.match(r"[A-Za-z_][A-Za-z0-9_]*$", k):
            raise HarnessError("--env %s: not a variable name" % k)
    return sorted(env.items())


def write_run_initrd(cached, init, out):
    """The cached image, then a small uncompressed cpio with /init (the
    kernel unpacks concatenated archives in turn)."""
    c = Cpio()
    c.file("init", init, 0o755)
    with open(cached, "rb") as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst)
        dst.write(b"\0" * (-dst.tell() % 4))
        dst.write(c.finish())


def parse_mem(m):
    mm = re.match(r"(\d+)([KMGT]?)B?$", m.upper())
    if not mm:
        return None
    return int(mm.group(1)) << {"": 20, "K": 10, "M": 20, "G": 30,
                                "T": 40}[mm.group(2)]


def prune(workdir, keep):
    """Drop cached images unused for a day (other tests may share the
    directory, so recent ones stay)."""
    now = time.time()
    for name in os.listdir(workdir):
        p = os.path.join(workdir, name)
        if name.startswith("initramfs-") and p != keep:
            try:
                if now - os.path.getmtime(p) > 86400:
                    os.unlink(p)
            except OSError:
                pass


def main(argv):
    a, cmds = parse_args(argv)
    tmp = run_file = None
    try:
        workdir = a.workdir
        if not workdir:
            tmp = workdir = tempfile.mkdtemp(prefix="nested-kvm-")
        qemu, kernel, cached, init = build(a, cmds, workdir)
        os.utime(cached)  # in use: keep it from prune()
        initrd = os.path.join(workdir, "run-%d.cpio" % os.getpid())
        run_file = initrd
        write_run_initrd(cached, init, initrd)
        qemu_argv = [qemu, "-M", "pc", "-accel", "tcg", "-cpu", a.cpu,
                     "-m", a.mem, "-smp", "1", "-nographic", "-nodefaults",
                     "-serial", "stdio", "-no-reboot",
                     "-kernel", kernel, "-initrd", initrd,
                     "-append", "console=ttyS0 quiet panic=-1"]
        log("booting %s (%s, timeout %gs)" % (os.path.basename(kernel),
                                              a.cpu, a.timeout))
        t0 = time.monotonic()
        statuses, problem = run_guest(qemu_argv, a.timeout, len(cmds), a.stall)
        took = time.monotonic() - t0
    except (HarnessError, KmodError) as e:
        log("FAILED: %s" % e)
        return HARNESS_FAIL
    finally:
        if run_file and os.path.exists(run_file):
            os.unlink(run_file)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    first_bad = None
    for n in range(1, len(cmds) + 1):
        st = statuses.get(n)
        if st is None:
            log("command %d: no result" % n)
        elif st == 0:
            log("command %d ok" % n)
        else:
            log("command %d FAILED: exit status %d%s" % (
                n, st, " (killed by signal %d?)" % (st - 128)
                if st > 128 else ""))
            if first_bad is None:
                first_bad = st
    if problem:
        log("FAILED after %.1fs: %s" % (took, problem))
        return HARNESS_FAIL
    log("guest finished in %.1fs" % took)
    return first_bad or 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(HARNESS_FAIL))
    sys.exit(main(sys.argv[1:]))
