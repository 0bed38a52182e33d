"""What the gdb system tests share (test_gdb.py, test_gdb_x86.py): a work
folder, free ports, emulators started with their output in a file, and
Debian's gdb-multiarch run in batch mode against a stub."""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

from tandemtest import fail

GDB = shutil.which("gdb-multiarch")
if not GDB:
    fail("gdb-multiarch is missing (./setup.sh installs it)")


class GdbRun:
    def __init__(self, prefix):
        self.tmp = tempfile.mkdtemp(prefix=prefix)

    @staticmethod
    def free_port():
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        return port

    def start(self, cmd, name, env=None):
        out = open(os.path.join(self.tmp, name + ".out"), "wb")
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env)

    def output(self, name):
        with open(os.path.join(self.tmp, name + ".out"), "rb") as f:
            return f.read().decode(errors="replace")

    def finish(self, proc, name, timeout=60):
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            fail(f"{name} did not exit; output:\n{self.output(name)[-3000:]}")

    def gdb(self, arch, elf, port, commands):
        """gdb-multiarch -batch: `set architecture arch`, the symbols of
        elf, `target remote`, then commands; returns what it printed."""
        script = os.path.join(self.tmp, "cmds.gdb")
        with open(script, "w") as f:
            f.write(f"set architecture {arch}\nset pagination off\nset confirm off\n"
                    f"file {elf}\ntarget remote 127.0.0.1:{port}\n")
            f.write(commands)
        r = subprocess.run([GDB, "-nx", "-batch", "-x", script], capture_output=True,
                           timeout=120, stdin=subprocess.DEVNULL)
        out = r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")
        print(out)
        return out


class RawClient:
    """A minimal remote-protocol client (no-ack mode) for what gdb itself
    does not do, such as the stub's own single step on RISC-V (gdb steps
    RISC-V in software)."""

    def __init__(self, port, proc, output):
        self.proc = proc
        self.output = output
        self.buf = b""
        for _ in range(200):
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
                break
            except OSError:
                time.sleep(0.05)
        else:
            proc.kill()
            fail("cannot connect to the stub")
        self.ask("QStartNoAckMode")
        self.sock.sendall(b"+")

    def packet(self):
        while True:
            self.buf = self.buf.lstrip(b"+")
            m = re.match(rb"\$([^#]*)#([0-9a-f]{2})", self.buf, re.S)
            if m:
                self.buf = self.buf[m.end():]
                return m.group(1).decode("latin-1")
            chunk = self.sock.recv(65536)
            if not chunk:
                fail(f"the stub closed the connection:\n{self.output()[-2000:]}")
            self.buf += chunk

    def ask(self, data):
        d = data.encode()
        self.sock.sendall(b"$" + d + b"#%02x" % (sum(d) & 0xff))
        return self.packet()

    def reg(self, n):
        """Register n (hex number in the target description) as an integer."""
        return int.from_bytes(bytes.fromhex(self.ask(f"p{n:x}")), "little")
