"""Random instruction-stream differential test for Tandem's x86 interpreter.

For each fixed seed: tests/guests/x86/gen/x86_random.py writes N random
snippets (64-bit, 32-bit or 16-bit mode: lm64, pm32 or the real-mode rm16
runtime), build_guest.sh assembles them with the
runner (gen/rand_rt.c, gen/rand_run.S) into a BIOS image, which runs on
Tandem and on QEMU (run_qemu.sh).  The guest dumps every general register,
the flags, MXCSR, the XMM registers and the scratch memory after each
snippet; the dumps must be identical except for the flags the SDM leaves
undefined for the snippet's instructions (the generator's UNDEF table).  On a
difference the first differing snippet is reported with its source, its
disassembly (objdump -d), its initial state and both dumps.

usage: test_random_x86.py [--bits 64|32|16] [--seeds S,S,...] [--count N]
                          [--keep DIR] [--qemu-vs-qemu] [--accel tcg,jit-threshold=1]"""
import argparse
import os
import subprocess
import sys
import tempfile

from tandemtest import REPO, fail

sys.path.insert(0, os.path.join(REPO, "tests", "guests", "x86", "gen"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import x86_random  # noqa: E402
from test_guest_x86 import run_qemu, run_tandem  # noqa: E402

X86 = os.path.join(REPO, "tests", "guests", "x86")
SEEDS = {64: [11, 12, 13, 14, 15], 32: [21, 22, 23, 24, 25], 16: [31, 32, 33, 34, 35]}
MODE = {64: "lm64", 32: "pm32", 16: "rm16"}
MASK64 = (1 << 64) - 1


# ---- mirror of the guest's PRNG (rand_rt.c), to show initial states
class Rng:
    def __init__(self, seed, i):
        self.s = ((seed ^ 0x9E3779B97F4A7C15) + (i << 32) + i) & MASK64 or 1
        for _ in range(16):
            self.next()

    def next(self):
        s = self.s
        s ^= s >> 12
        s ^= (s << 25) & MASK64
        s ^= s >> 27
        self.s = s
        return (s * 0x2545F4914F6CDD1D) & MASK64


EDGE = [0, 1, MASK64, 0x7fffffffffffffff, 0x8000000000000000, 0x80000000, 0x7fffffff, 0xffffffff]
FSPECIAL = [0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000,
            0xffc00000, 0x7f800001, 0x00000001, 0x807fffff, 0x7f7fffff, 0x00800000, 0x4f000000,
            0xcf000000, 0x3f000000]
DSPECIAL = [0, 0x8000000000000000, 0x3ff0000000000000, 0xbff0000000000000, 0x7ff0000000000000,
            0xfff0000000000000, 0x7ff8000000000000, 0xfff8000000000000, 0x7ff0000000000001,
            0x0000000000000001, 0x800fffffffffffff, 0x7fefffffffffffff, 0x0010000000000000,
            0x41e0000000000000, 0xc1e0000000000000, 0x43e0000000000000]


def initial_state(seed, i, bits, scratch_addr, ctl=0):
    r = Rng(seed, i)
    ngpr = 16 if bits == 64 else 8

    def gpr():
        k = r.next() >> 60
        v = r.next()
        if k in (8, 9):
            return v & 0xff
        if k in (10, 11):
            return EDGE[v >> 61]
        if k == 12:
            return v & 0xffffffff
        if k == 13:
            w = v & 0xffffffff
            return (w | 0xffffffff00000000) if w >> 31 else w
        if k == 14:
            return v & 0xffff
        if k == 15:
            return (-(v & 0xff)) & MASK64
        return v

    def nice(v):
        return (v & 0x80000000) | ((123 + ((v >> 40) & 7)) << 23) | ((v >> 8) & 0x7fffff)

    def half():
        k = r.next() >> 61
        v = r.next()
        if k == 3:
            return FSPECIAL[v >> 60] | (nice(v) << 32)
        if k == 4:
            return nice(v) | (nice(v >> 3) << 32)
        if k == 5:
            return DSPECIAL[v >> 60]
        if k == 6:
            return (v & 0x800fffffffffffff) | ((1016 + ((v >> 52) & 15)) << 52)
        if k == 7:
            return ((v & 0x000000ff000000ff) - (0x0000008000000080 if v >> 63 else 0)) & MASK64
        return v

    wmask = MASK64 if bits == 64 else 0xffffffff
    g = [gpr() & wmask for _ in range(ngpr)]
    g[4] = 0
    g[5] = scratch_addr
    flags = 0x2 | (r.next() & 0x8d5)
    v = r.next()
    mx = 0x1f80
    if (v & 0xff) < 64:
        mx |= (v >> 62) << 13
    if ((v >> 8) & 15) == 0:
        mx |= 0x40
    if ((v >> 12) & 15) == 0:
        mx |= 0x8000
    if ctl & 1:
        mx &= ~0x40
    xmm = []
    for _ in range(ngpr):
        lo, hi = half(), half()
        xmm.append((hi << 64) | lo)
    scratch = [r.next() for _ in range(8)]
    return g, flags, mx, xmm, scratch


# ---- dumps
def parse(out):
    snaps, other = {}, []
    for line in out.replace("\r\n", "\n").splitlines():
        p = line.split()
        if len(p) >= 3 and p[0] == "O" and p[1].isdigit():
            d = snaps.setdefault(int(p[1]), {})
            if p[2] == "g":
                fi = p.index("f")
                d["g"] = [int(v, 16) for v in p[3:fi]]
                d["f"] = int(p[fi + 1], 16)
                d["m"] = int(p[fi + 3], 16)
            elif p[2] == "x":
                d["x"] = [int(v, 16) for v in p[3:]]
            elif p[2] == "s":
                d["s"] = [int(v, 16) for v in p[3:]]
        else:
            other.append(line)
    return snaps, other


GPR64 = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi"] + [f"r{i}" for i in range(8, 16)]
GPR32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"]


def is_nan32(v):
    return (v >> 23) & 0xff == 0xff and v & 0x7fffff != 0


def is_nan64(v):
    return (v >> 52) & 0x7ff == 0x7ff and v & 0xfffffffffffff != 0


def nan_lanes_only(a, b):
    """Every differing 32-bit lane (or 64-bit lane) holds a NaN in both."""
    ok32 = all(((a >> s) & 0xffffffff) == ((b >> s) & 0xffffffff) or
               (is_nan32((a >> s) & 0xffffffff) and is_nan32((b >> s) & 0xffffffff))
               for s in range(0, 128, 32))
    ok64 = all(((a >> s) & MASK64) == ((b >> s) & MASK64) or
               (is_nan64((a >> s) & MASK64) and is_nan64((b >> s) & MASK64))
               for s in range(0, 128, 64))
    return ok32 or ok64


def diff_snap(q, t, undef, bits):
    """Differences between two dumps of one snippet (empty if equal)."""
    if not q or not t or set(q) != set(t):
        return ["incomplete dump"]
    names = GPR64 if bits == 64 else GPR32
    d = []
    for i, (a, b) in enumerate(zip(q["g"], t["g"])):
        if a != b:
            d.append(f"{names[i]}: qemu {a:x} tandem {b:x}")
    care = ~undef
    if (q["f"] & care) != (t["f"] & care):
        d.append(f"flags: qemu {q['f']:x} tandem {t['f']:x} (undefined mask {undef:x})")
    if (q["m"] & ~x86_random.MXCSR_UNDEF) != (t["m"] & ~x86_random.MXCSR_UNDEF):
        d.append(f"mxcsr: qemu {q['m']:x} tandem {t['m']:x} (not compared: {x86_random.MXCSR_UNDEF:x})")
    for i, (a, b) in enumerate(zip(q["x"], t["x"])):
        if a != b and not (x86_random.NAN_LANES and nan_lanes_only(a, b)):
            d.append(f"xmm{i}: qemu {a:032x} tandem {b:032x}")
    for i, (a, b) in enumerate(zip(q["s"], t["s"])):
        if a != b:
            d.append(f"scratch[{8 * i}]: qemu {a:016x} tandem {b:016x}")
    return d


def disasm(elf, i, bits=32):
    syms = {}
    nm = subprocess.run(["nm", elf], capture_output=True, text=True).stdout
    for line in nm.splitlines():
        p = line.split()
        if len(p) == 3:
            syms[p[2]] = int(p[0], 16)
    a, b = syms.get(f"snip_{i}"), syms.get(f"snip_{i + 1}", syms.get("rand_done"))
    if a is None:
        return "(no symbol)"
    args = ["objdump", "-d", "-w", elf, f"--start-address={a:#x}"]
    if bits == 16:
        args[2:2] = ["-M", "i8086"]
    if b is not None and b > a:
        args.append(f"--stop-address={b:#x}")
    out = subprocess.run(args, capture_output=True, text=True).stdout
    return "\n".join(l for l in out.splitlines() if l.startswith(" ") or "<snip_" in l)


def build(seed, bits, count, d):
    asm, meta = x86_random.generate(seed, bits, count)
    src = os.path.join(d, f"rand{bits}-{seed}.S")
    with open(src, "w") as f:
        f.write(asm)
    elf, img = src[:-2] + ".elf", src[:-2] + ".bin"
    mode = MODE[bits]
    r = subprocess.run(["sh", os.path.join(X86, "build_guest.sh"), mode, elf, img,
                        os.path.join(X86, "gen", "rand_rt.c"), os.path.join(X86, "gen", "rand_run.S"),
                        src], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"building the random guest (seed {seed}) failed:\n{r.stdout}{r.stderr}")
    return elf, img, meta


def scratch_address(elf):
    nm = subprocess.run(["nm", elf], capture_output=True, text=True).stdout
    for line in nm.splitlines():
        p = line.split()
        if len(p) == 3 and p[2] == "rand_scratch":
            return int(p[0], 16)
    return 0


def check_seed(seed, bits, count, d, against_qemu, accel=None):
    elf, img, meta = build(seed, bits, count, d)
    qst, qout, qerr = run_qemu(img)
    if qst != 0 or "PASS" not in qout:
        return [f"seed {seed}: the guest fails on QEMU (code {qst}):\n{qout[-3000:]}\n{qerr}"]
    if against_qemu:
        tst, tout, terr = qst, *run_qemu(img)[1:]
        who = "qemu (second run)"
    else:
        tst, tout, terr = run_tandem(img, accel=accel)
        who = "tandem" + (f" (-accel {accel})" if accel else "")
    qs, qother = parse(qout)
    ts, tother = parse(tout)
    problems = []
    for i in range(count):
        dd = diff_snap(qs.get(i), ts.get(i), meta[i]["undef_flags"], bits)
        if dd:
            g, fl, mx, xmm, scr = initial_state(seed, i, bits, scratch_address(elf),
                                                     meta[i]["ctl"])
            names = GPR64 if bits == 64 else GPR32
            w = 16 if bits == 64 else 8
            init = " ".join(f"{n}={v:0{w}x}" for n, v in zip(names, g))
            xs = " ".join(f"xmm{k}={v:032x}" for k, v in enumerate(xmm))
            msg = [f"seed {seed} ({bits}-bit) snippet {i}: {who} differs from QEMU",
                   "  source: " + "; ".join(meta[i]["insns"]),
                   "  disassembly:\n" + disasm(elf, i, bits),
                   f"  initial: {init} flags={fl:x} mxcsr={mx:x}",
                   f"  initial: {xs}",
                   "  initial scratch: " + " ".join(f"{v:016x}" for v in scr),
                   "  differences:"] + ["    " + x for x in dd]
            if not ts.get(i):
                msg.append(f"  {who} stopped here: exit status {tst}\n  stderr: {terr[-2000:]}")
            problems.append("\n".join(msg))
            break
    if not problems and qother != tother:
        import difflib
        diff = "\n".join(difflib.unified_diff(qother, tother, "qemu", who, lineterm=""))
        problems.append(f"seed {seed}: other output differs:\n{diff}\n(exit status {tst})")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bits", type=int, choices=(16, 32, 64), default=64)
    ap.add_argument("--seeds")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--keep", help="keep the generated sources and images here")
    ap.add_argument("--qemu-vs-qemu", action="store_true",
                    help="compare QEMU with itself (checks the generator's determinism)")
    ap.add_argument("--accel", help="-accel value for Tandem (e.g. tcg,jit-threshold=1)")
    a = ap.parse_args()
    seeds = [int(s) for s in a.seeds.split(",")] if a.seeds else SEEDS[a.bits]
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        d = a.keep or tmp
        os.makedirs(d, exist_ok=True)
        for seed in seeds:
            p = check_seed(seed, a.bits, a.count, d, a.qemu_vs_qemu, a.accel)
            print(f"seed {seed} ({a.bits}-bit, {a.count} snippets): {'FAIL' if p else 'ok'}")
            problems += p
    if problems:
        fail("\n\n".join(problems))
    print(f"PASS random-x86-{a.bits}: {len(seeds)} images x {a.count} snippets match QEMU")


if __name__ == "__main__":
    main()
