"""The gdb stub against a hostile client: raw packets over the socket.
Malformed packets (bad hex, bad lengths, out-of-range registers, oversized
packets, bad checksums) get an error reply or a nack; the stub and the
guest keep working: at the end a plain continue runs the guest to PASS.

usage: test_gdb_protocol.py GUEST64.elf"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

from tandemtest import binary, fail

elf = sys.argv[1]
if not os.path.exists(elf):
    fail(f"{elf} was not built")

s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
out = tempfile.TemporaryFile()
proc = subprocess.Popen([binary("riscv64"), "-M", "virt", "-m", "128M", "-nographic",
                         "-serial", "stdio", "-monitor", "none", "-bios", elf,
                         "-gdb", f"tcp:127.0.0.1:{port}", "-S"],
                        stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

sock = None
for _ in range(100):
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        break
    except OSError:
        time.sleep(0.05)
if not sock:
    proc.kill()
    fail("cannot connect to the stub")
buf = b""


def frame(data):
    if isinstance(data, str):
        data = data.encode("latin-1")
    return b"$" + data + b"#%02x" % (sum(data) & 0xff)


def recv_until(pred, what):
    global buf
    deadline = time.time() + 10
    while True:
        r = pred(buf)
        if r is not None:
            return r
        if time.time() > deadline:
            proc.kill()
            fail(f"no {what} from the stub (have {buf[:200]!r})")
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        if not chunk:
            proc.kill()
            fail(f"the stub closed the connection waiting for {what}")
        buf += chunk


def take_ack():
    def pred(b):
        return b[:1] if b[:1] in (b"+", b"-") else None
    global buf
    a = recv_until(pred, "ack")
    buf = buf[1:]
    return a


def take_packet():
    global buf
    def pred(b):
        m = re.match(rb"\$([^#]*)#([0-9a-f]{2})", b, re.S)
        return m
    m = recv_until(pred, "reply packet")
    buf = buf[m.end():]
    data = m.group(1)
    if sum(data) & 0xff != int(m.group(2), 16):
        fail(f"bad checksum on the stub's reply {data!r}")
    sock.sendall(b"+")
    return data.decode("latin-1")


def ask(data, expect_ack=b"+"):
    sock.sendall(frame(data) if not isinstance(data, bytes) or not data.startswith(b"$")
                 else data)
    a = take_ack()
    if a != expect_ack:
        fail(f"{data!r}: ack {a!r}, expected {expect_ack!r}")
    return take_packet() if a == b"+" else None


def check(data, pattern, what):
    r = ask(data)
    if not re.fullmatch(pattern, r):
        fail(f"{what}: {data!r} -> {r!r}, expected /{pattern}/")
    print(f"ok  {what}: {str(data)[:40]!r} -> {r[:60]!r}")
    return r


if "Reverse" in ask("qSupported"):
    fail("ReverseStep/ReverseContinue must not be offered yet")
r = check("qSupported:multiprocess+;swbreak+;hwbreak+",
          r"PacketSize=[0-9a-f]+;.*qXfer:features:read\+.*", "qSupported")
for f in ("QStartNoAckMode+", "vContSupported+", "swbreak+", "hwbreak+"):
    if f not in r:
        fail(f"qSupported lacks {f}")
check("?", r"T05.*", "stop reason")
check("qAttached", "1", "qAttached")
check("qC", "QC1", "qC")
check("qfThreadInfo", "m1", "qfThreadInfo")
check("qsThreadInfo", "l", "qsThreadInfo")
check("Hg0", "OK", "Hg0")
check("Hc-1", "OK", "Hc-1")
check("Hg7", r"E[0-9a-f]{2}", "H on a missing thread")
check("T1", "OK", "T on our thread")
check("T9", r"E[0-9a-f]{2}", "T on a missing thread")
x = check("qXfer:features:read:target.xml:0,ffff", r"(?s)l<\?xml.*</target>\s*", "target.xml")
if "riscv:rv64" not in x or 'name="pc"' not in x or 'name="fcsr"' not in x:
    fail("target.xml lacks the architecture, pc or fcsr")
check("qXfer:features:read:target.xml:10,20", r"(?s)m.{32}", "target.xml piece")
check("qXfer:features:read:other.xml:0,100", r"E[0-9a-f]{2}", "unknown annex")
check("qXfer:features:read:target.xml:zz,10", r"E[0-9a-f]{2}", "qXfer bad offset")
check("vMustReplyEmpty", "", "unknown v packet")
check("qNoSuchThing", "", "unknown q packet")
check("j", "", "unknown packet")
check("vCont?", r"vCont;c;C;s;S;t", "vCont?")
g = check("g", r"[0-9a-f]{528}", "g (33 registers of 8 bytes)")
check("p20", r"[0-9a-f]{16}", "p pc")
check("p21", r"[0-9a-f]{16}", "p f0")
check("p44", r"[0-9a-f]{8}", "p fcsr")
check("p45", r"E[0-9a-f]{2}", "p out of range")
check("pffffffff", r"E[0-9a-f]{2}", "p far out of range")
check("p", r"E[0-9a-f]{2}", "p without a number")
check("pxyz", r"E[0-9a-f]{2}", "p bad hex")
check("P5=0102030405060708", "OK", "P t0")
check("p5", "0102030405060708", "P then p")
check("P5=01020304", r"E[0-9a-f]{2}", "P short value")
check("P5=01020304050607zz", r"E[0-9a-f]{2}", "P bad hex")
check("P99=0102030405060708", r"E[0-9a-f]{2}", "P out of range")
check("P5", r"E[0-9a-f]{2}", "P without value")
check("G" + g[:-2], r"E[0-9a-f]{2}", "G short")
check("G" + g[:-2] + "zz", r"E[0-9a-f]{2}", "G bad hex")
check("G" + g, "OK", "G round trip")
check("g", re.escape(g), "g after G")
check("m80000000,10", r"[0-9a-f]{32}", "m RAM")
check("m80000000,0", "", "m zero length")
check("m0,4", r"E[0-9a-f]{2}", "m unmapped")
check("m10000000,4", r"E[0-9a-f]{2}", "m device (not RAM)")
check("m80000000", r"E[0-9a-f]{2}", "m without length")
check("m80000000,ffffffff", r"E[0-9a-f]{2}", "m too long")
check("mzz,4", r"E[0-9a-f]{2}", "m bad hex")
check("m11111111111111111111,4", r"E[0-9a-f]{2}", "m address too long")
check("Mffffffffffff0000,2:0102", r"E[0-9a-f]{2}", "M unmapped")
check("M80010000,2:01", r"E[0-9a-f]{2}", "M short data")
check("M80010000,2:01zz", r"E[0-9a-f]{2}", "M bad hex")
check("M80010000,2:a55a", "OK", "M")
check("m80010000,2", "a55a", "M then m")
check("X80010000,0:", "OK", "X probe")
check(b"X80010000,2:}\x03}\x04", "OK", "X escaped binary")
check("m80010000,2", "2324", "X then m")
check(b"X80010000,2:}", r"E[0-9a-f]{2}", "X dangling escape")
check("Z0,80002000", r"E[0-9a-f]{2}", "Z0 without kind")
check("Z0,zz,2", r"E[0-9a-f]{2}", "Z0 bad hex")
check("Z9,80002000,2", "", "Z unknown type")
check("Z2,80004038,0", r"E[0-9a-f]{2}", "Z2 zero length")
check("Z0,80002000,2", "OK", "Z0")
check("Z0,80002000,2", "OK", "Z0 again")
check("z0,80002000,2", "OK", "z0")
check("z0,80002000,2", "OK", "z0 again")
check("bs", r"E[0-9a-f]{2}", "reverse step refused")
check("bc", r"E[0-9a-f]{2}", "reverse continue refused")
check("vCont;x", r"E[0-9a-f]{2}", "vCont bad action")
check("vCont;c:zz;", r"E[0-9a-f]{2}", "vCont bad thread list")
check("s zz", r"E[0-9a-f]{2}", "s bad address")
check(b"g\x00", r"E[0-9a-f]{2}", "NUL inside a packet")

# Bad checksums and an oversized packet.
sock.sendall(b"$g#00")
if take_ack() != b"-":
    fail("bad checksum not nacked")
print("ok  bad checksum -> '-'")
sock.sendall(b"$g#zz")
if take_ack() != b"-":
    fail("non-hex checksum not nacked")
print("ok  non-hex checksum -> '-'")
big = "m" + "0" * 70000
check(big, r"E[0-9a-f]{2}", "oversized packet")
check("qC", "QC1", "still answering")
# Garbage between packets is ignored; '-' asks for the last reply again.
sock.sendall(b"garbage+++")
check("qC", "QC1", "after garbage")
sock.sendall(b"-")
if take_packet() != "QC1":
    fail("'-' did not resend the last reply")
print("ok  '-' resends")

# Restore the registers (P5 above) and run: a breakpoint, Ctrl-C, then on.
check("G" + g, "OK", "G restore")
check("QStartNoAckMode", "OK", "QStartNoAckMode")
def ask_noack(data):
    sock.sendall(frame(data))
    return take_packet()
r = ask_noack("qC")
if r != "QC1":
    fail(f"no-ack mode: qC -> {r!r}")
# A loop to interrupt: "j ." in spare RAM, the pc there.
if ask_noack("M80010000,4:6f000000") != "OK" or ask_noack("P20=0000018000000000") != "OK":
    fail("cannot plant the loop")
sock.sendall(frame("vCont;c"))
time.sleep(0.3)
sock.sendall(b"\x03")
r = take_packet()
if not r.startswith("T02"):
    fail(f"Ctrl-C: {r!r}")
print(f"ok  Ctrl-C -> {r!r}")
if ask_noack("p20") != "0000018000000000":
    fail("Ctrl-C did not stop in the loop")
r = ask_noack("vCont;s:1")
if not r.startswith("T05") or ask_noack("p20") != "0000018000000000":
    fail(f"vCont;s in the loop: {r!r}")
print(f"ok  vCont;s -> {r!r}")
# Back to the reset state; a breakpoint at the entry point.
if ask_noack("G" + g) != "OK" or ask_noack("Z0,80000000,4") != "OK":
    fail("cannot restore the registers or set a breakpoint")
r = ask_noack("c")
if r != "T05swbreak:;thread:1;":
    fail(f"breakpoint stop reply: {r!r}")
print(f"ok  breakpoint -> {r!r}")
if ask_noack("p20") != "0000008000000000" or ask_noack("z0,80000000,4") != "OK":
    fail("not stopped at the entry point")
r = ask_noack("D")
if r != "OK":
    fail(f"D: {r!r}")
sock.close()
try:
    st = proc.wait(timeout=60)
except subprocess.TimeoutExpired:
    proc.kill()
    fail("the guest did not finish after detach")
out.seek(0)
text = out.read().decode(errors="replace")
if st != 0 or "TEST gdb_guest: PASS" not in text:
    fail(f"guest after the hostile session: status {st}\n{text[-3000:]}")
print("PASS test_gdb_protocol")
