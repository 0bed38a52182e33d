#!/usr/bin/env python3
"""Random instruction-stream generator for Tandem's x86 differential tester.

From a seed, emits an assembly file (GNU as, AT&T syntax) with N snippets
for 64-bit, 32-bit or 16-bit mode (16: real mode, the rm16 runtime; the
default operand and address size is 16 bits, 32-bit forms carry 66/67
prefixes).  The guest runtime (rand_rt.c, rand_run.S) loads
random register, flag, XMM, MXCSR and scratch-memory state (from its own
PRNG, seeded by the seed written here), runs one snippet and dumps the whole
state; tests/system/test_random_x86.py compares the dumps of Tandem and QEMU.

Rules that keep snippets deterministic and fault-free:
  * memory operands only as disp(%rbp/%ebp) (16-bit: disp(%bp) or, with a
    67 prefix, disp(%ebp)): rbp/ebp holds the 64-byte scratch buffer
    (16-byte aligned, below 64 KiB in rm16) and is never written; rsp/esp is
    never touched.  16-bit only: groups that first point BX/SI/DI at the
    buffer (LEA from BP, or an index chosen so that the 16-bit sum wraps
    around 64 KiB onto it) and then use the other 16-bit addressing forms
    ((%bx,%si), (%bp,%di), (%si), ...) or 32-bit ones with a scaled index;
  * divides only with dividend/divisor fixed by the snippet so that the
    quotient fits; BSF/BSR only after a BTS that makes the source non-zero;
  * shift counts are immediates or set in CL by the snippet; 16-bit
    SHLD/SHRD counts stay <= 16;
  * no RDTSC, CPUID, RDRAND, no RCPPS/RSQRTPS (approximations are
    implementation-specific), no string instructions;
  * 16-bit: no BMI1/2 (VEX: #UD in real mode), no MOVBE and only CRC32
    r/m8 (QEMU 7.2 takes the operand size of MOVBE and CRC32 from the 66
    prefix alone, the reverse of the SDM in 16-bit code: README).

Flags the SDM leaves undefined are masked per snippet: each instruction
names the flags it writes and the ones it leaves undefined (table UNDEF
below); a snippet's mask is what is still undefined after its last
instruction.  The mask is printed with the snippet list (--list) and used by
the comparison.

usage: x86_random.py --seed N --bits 64|32|16 --count N -o out.S [--meta out.json]
"""
import argparse
import json
import random

CF, PF, AF, ZF, SF, OF = 0x1, 0x4, 0x10, 0x40, 0x80, 0x800
ALL = CF | PF | AF | ZF | SF | OF

# Flags left undefined, per instruction (SDM volume 2), for the flag-writing
# instructions the generator emits.  Count-dependent cases (shifts/rotates)
# are computed in shift_flags().  Entries marked QEMU are not undefined in
# the SDM but QEMU 7.2 TCG computes them wrongly; they are masked so the
# differential test does not force Tandem to copy the bug.
UNDEF = {
    "add": 0, "adc": 0, "sub": 0, "sbb": 0, "cmp": 0, "neg": 0, "inc": 0, "dec": 0,
    "xadd": 0, "cmpxchg": 0,
    "and": AF, "or": AF, "xor": AF, "test": AF,
    "mul": SF | ZF | AF | PF, "imul": SF | ZF | AF | PF,
    "div": ALL, "idiv": ALL,
    "bt": OF | SF | AF | PF, "bts": OF | SF | AF | PF, "btr": OF | SF | AF | PF,
    "btc": OF | SF | AF | PF,
    "bsf": CF | OF | SF | AF | PF, "bsr": CF | OF | SF | AF | PF,
    "popcnt": 0,
    "lzcnt": OF | SF | AF | PF, "tzcnt": OF | SF | AF | PF,
    "andn": AF | PF, "bextr": AF | SF | PF, "blsmsk": AF | PF, "blsr": AF | PF,
    "blsi": AF | PF | CF,    # CF: QEMU 7.2 inverts it (SDM: CF = source != 0)
    "bzhi": AF | PF,
    "daa": OF, "das": OF, "aaa": OF | SF | ZF | PF, "aas": OF | SF | ZF | PF,
    "aam": OF | AF | CF, "aad": OF | AF | CF,
    "comis": 0, "ptest": 0, "pcmpstr": 0,
    "shld": AF, "shrd": AF,
}
# MXCSR bits not compared: DE (bit 1, denormal operand) is set by Intel
# hardware (and Tandem) when a source is denormal and DAZ=0; QEMU 7.2 TCG
# never sets it for SSE.
MXCSR_UNDEF = 0x2

# Which NaN a two-operand SSE operation returns when both inputs are NaN:
# Intel returns the first source (the destination), QEMU 7.2 the one with
# the larger significand (the x87 rule).  An XMM lane (32 or 64 bits) where
# both emulators produced some NaN is therefore not compared bit for bit
# (test_random_x86.py, NAN_LANES).
NAN_LANES = True

# Flags written (defined or not); instructions absent here write none.
WRITES = {k: ALL for k in UNDEF}
WRITES.update({"inc": ALL & ~CF, "dec": ALL & ~CF, "bt": ALL & ~ZF, "bts": ALL & ~ZF,
               "btr": ALL & ~ZF, "btc": ALL & ~ZF})


def shift_flags(op, bits, count):
    """(written, undefined) for a shift/rotate by count (already an int)."""
    n = count & (63 if bits == 64 else 31)
    if n == 0:
        return 0, 0
    if op in ("shl", "sal", "shr", "sar"):
        u = AF | (OF if n != 1 else 0)
        if n >= bits and op != "sar":
            u |= CF
        return ALL, u
    # rol ror rcl rcr: CF and OF only
    return CF | OF, (OF if n != 1 else 0)


class Gen:
    def __init__(self, seed, bits):
        self.r = random.Random(seed)
        self.bits = bits
        if bits == 64:
            self.gp = ["ax", "cx", "dx", "bx", "si", "di", "8", "9", "10", "11", "12", "13",
                       "14", "15"]
        else:
            self.gp = ["ax", "cx", "dx", "bx", "si", "di"]
        self.nxmm = 16 if bits == 64 else 8
        self.base = "%rbp" if bits == 64 else "%ebp"

    def membase(self):
        """The scratch base register; 16-bit code: BP (16-bit addressing,
        SS) or EBP (67 prefix)."""
        if self.bits == 16:
            return "%bp" if self.r.random() < 0.6 else "%ebp"
        return self.base

    # ---- operands
    def sizes(self, allow8=True):
        s = [16, 32] + ([64] if self.bits == 64 else [])
        if self.bits == 16:
            s = [16, 16, 32]      # mostly the default operand size
        if allow8:
            s = [8] + s
        return s

    def reg(self, size, r=None, legacy8=False):
        r = r if r is not None else self.r.choice(self.gp)
        if r.isdigit():
            return "%r" + r + {8: "b", 16: "w", 32: "d", 64: ""}[size]
        if size == 8:
            if r in ("si", "di"):
                return "%" + r + "l"   # sil/dil (64-bit mode only)
            return "%" + r[0] + "l"
        return "%" + {16: "", 32: "e", 64: "r"}[size] + r

    def r8pool(self):
        if self.bits != 64:
            return ["%al", "%cl", "%dl", "%bl", "%ah", "%ch", "%dh", "%bh"]
        return [self.reg(8, g) for g in self.gp]

    def two(self, size):
        if size == 8:
            if self.bits == 64 and self.r.random() < 0.3:
                pool = ["%al", "%cl", "%dl", "%bl", "%ah", "%ch", "%dh", "%bh"]
            else:
                pool = self.r8pool() if self.bits != 64 else [self.reg(8, g) for g in self.gp]
            return self.r.choice(pool), self.r.choice(pool)
        return self.reg(size), self.reg(size)

    def one(self, size):
        if size == 8:
            return self.r.choice(self.r8pool())
        return self.reg(size)

    def mem(self, size):
        d = self.r.randrange(0, 64 - size // 8 + 1)
        return f"{d}({self.membase()})"

    def amem(self, align=16):
        return f"{self.r.choice(range(0, 64, align))}({self.membase()})"

    def imm(self, size, signed8=False):
        if signed8:
            return self.r.randrange(-128, 128)
        v = self.r.choice([0, 1, 2, 0x7f, 0x80, 0xff, -1, self.r.getrandbits(min(size, 32))])
        if size == 8:
            v &= 0xff
        elif size == 16:
            v &= 0xffff
        else:
            # imm32 (sign-extended for 64-bit operands)
            v &= 0xffffffff
            if size == 64 and v >= 0x80000000:
                v -= 1 << 32
        return v

    @staticmethod
    def sfx(size):
        return {8: "b", 16: "w", 32: "l", 64: "q"}[size]

    def xmm(self):
        return f"%xmm{self.r.randrange(self.nxmm)}"

    # ---- instruction classes: each returns a list of (text, written, undefined)
    def alu2(self):
        op = self.r.choice(["add", "adc", "sub", "sbb", "and", "or", "xor", "cmp", "test"])
        size = self.r.choice(self.sizes())
        s = self.sfx(size)
        form = self.r.randrange(4)
        if form == 0:
            a, b = self.two(size)
            t = f"{op}{s} {a}, {b}"
        elif form == 1:
            t = f"{op}{s} ${self.imm(size)}, {self.one(size)}"
        elif form == 2:
            t = f"{op}{s} {self.mem(size)}, {self.one(size)}"
        else:
            t = f"{op}{s} {self.one(size)}, {self.mem(size)}"
        if op != "test" and form == 1 and size > 8 and self.r.random() < 0.5:
            t = f"{op}{s} ${self.imm(8, signed8=True)}, {self.one(size)}"   # 83 /n ib
        return [(t, WRITES[op], UNDEF[op])]

    def unary(self):
        op = self.r.choice(["inc", "dec", "neg", "not"])
        size = self.r.choice(self.sizes())
        dst = self.one(size) if self.r.random() < 0.7 else self.mem(size)
        w = 0 if op == "not" else WRITES[op]
        return [(f"{op}{self.sfx(size)} {dst}", w, UNDEF.get(op, 0))]

    def shift(self):
        op = self.r.choice(["shl", "shr", "sar", "rol", "ror", "rcl", "rcr"])
        size = self.r.choice(self.sizes())
        s = self.sfx(size)
        dst = self.one(size) if self.r.random() < 0.8 else self.mem(size)
        form = self.r.randrange(3)
        out = []
        if form == 0:
            count = 1
            out.append((f"{op}{s} {dst}", *shift_flags(op, size, 1)))
        elif form == 1:
            count = self.r.choice([0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 200,
                                   self.r.randrange(256)])
            out.append((f"{op}{s} ${count}, {dst}", *shift_flags(op, size, count)))
        else:
            count = self.r.randrange(256)
            if "%cl" in dst or "%cx" in dst or "%ecx" in dst or "%rcx" in dst or "%ch" in dst:
                dst = self.mem(size)
            out.append((f"movb ${count}, %cl", 0, 0))
            out.append((f"{op}{s} %cl, {dst}", *shift_flags(op, size, count)))
        return out

    def shld(self):
        op = self.r.choice(["shld", "shrd"])
        size = self.r.choice(self.sizes(allow8=False))
        s = self.sfx(size)
        a, b = self.two(size)
        dst = b if self.r.random() < 0.8 else self.mem(size)
        mx = 16 if size == 16 else (63 if size == 64 else 31)
        count = self.r.randrange(mx + 1)
        u = (AF | (OF if count != 1 else 0)) if count else 0
        w = ALL if count else 0
        if self.r.random() < 0.5:
            return [(f"{op}{s} ${count}, {a}, {dst}", w, u)]
        if "cx" in a or "cx" in dst or "%cl" in dst:
            a2 = self.reg(size, "dx")
            a = a2
            if "dx" in dst:
                dst = self.mem(size)
            if "cx" in dst or "%cl" in dst:
                dst = self.mem(size)
        return [(f"movb ${count + self.r.choice([0, 32 if size < 64 else 64])}, %cl", 0, 0),
                (f"{op}{s} %cl, {a}, {dst}", w, u)]

    def muldiv(self):
        k = self.r.randrange(4)
        size = self.r.choice(self.sizes())
        s = self.sfx(size)
        if k == 0:
            op = self.r.choice(["mul", "imul"])
            src = self.one(size) if self.r.random() < 0.7 else self.mem(size)
            return [(f"{op}{s} {src}", WRITES[op], UNDEF[op])]
        if k == 1 and size > 8:
            a, b = self.two(size)
            if self.r.random() < 0.5:
                return [(f"imul{s} {a}, {b}", ALL, UNDEF["imul"])]
            return [(f"imul{s} ${self.imm(size)}, {a}, {b}", ALL, UNDEF["imul"])]
        return self.divide(size)

    def divide(self, size):
        signed = self.r.random() < 0.5
        r = self.r
        if signed:
            lim = 1 << (size - 1)
            d = 0
            while d == 0:
                d = r.choice([r.randrange(-lim, lim), r.randrange(-5, 6), -1, 1])
            q = r.choice([r.randrange(-lim, lim), r.randrange(-3, 4)])
            qd = q * d
            rem = r.randrange(abs(d))
            neg = qd < 0 or (qd == 0 and r.random() < 0.5)
            if neg:
                rem = -rem
            n = qd + rem
            if not (-(1 << (2 * size - 1)) <= n < (1 << (2 * size - 1))):
                n, q = rem, 0
            n &= (1 << 2 * size) - 1
            d &= (1 << size) - 1
        else:
            d = 0
            while d == 0:
                d = r.choice([r.getrandbits(size), r.randrange(1, 11), (1 << size) - 1])
            q = r.getrandbits(size)
            n = q * d + r.randrange(d)
        op = "idiv" if signed else "div"
        s = self.sfx(size)
        lo, hi = n & ((1 << size) - 1), n >> size
        out = []
        if size == 8:
            divisor = r.choice(["%bl", "%cl", "%dl"] + (["%bh", "%ch", "%dh"] if self.bits != 64 else
                                                          ["%sil", "%dil", "%r9b"]))
            out.append((f"movw ${n & 0xffff}, %ax", 0, 0))
            out.append((f"movb ${d}, {divisor}", 0, 0))
        else:
            divisor = self.reg(size, r.choice([g for g in self.gp if g not in ("ax", "dx")]))
            mv = "movabsq" if size == 64 else f"mov{s}"
            out.append((f"{mv} ${lo}, {self.reg(size, 'ax')}", 0, 0))
            out.append((f"{mv} ${hi}, {self.reg(size, 'dx')}", 0, 0))
            out.append((f"{mv} ${d}, {divisor}", 0, 0))
        if r.random() < 0.3:
            b = self.membase()
            out.append((f"mov{s} {divisor}, 16({b})", 0, 0))
            divisor = f"16({b})"
        out.append((f"{op}{s} {divisor}", ALL, ALL))
        return out

    def bits_(self):
        k = self.r.randrange(5)
        size = self.r.choice(self.sizes(allow8=False))
        s = self.sfx(size)
        a, b = self.two(size)
        if k == 0:
            op = self.r.choice(["bt", "bts", "btr", "btc"])
            if self.r.random() < 0.5:
                dst = b if self.r.random() < 0.7 else self.mem(size)
                return [(f"{op}{s} ${self.r.randrange(256)}, {dst}", WRITES[op], UNDEF[op])]
            return [(f"{op}{s} {a}, {b}", WRITES[op], UNDEF[op])]
        if k == 1:
            op = self.r.choice(["bsf", "bsr"])
            return [(f"bts{s} ${self.r.randrange(size)}, {a}", WRITES["bts"], UNDEF["bts"]),
                    (f"{op}{s} {a}, {b}", WRITES[op], UNDEF[op])]
        op = self.r.choice(["popcnt", "lzcnt", "tzcnt"])
        src = a if self.r.random() < 0.7 else self.mem(size)
        return [(f"{op}{s} {src}, {b}", WRITES[op], UNDEF[op])]

    def bmi(self):
        size = self.r.choice([32, 64] if self.bits == 64 else [32])
        s = self.sfx(size)
        a, b = self.two(size)
        c = self.reg(size)
        op = self.r.choice(["andn", "bextr", "blsi", "blsmsk", "blsr", "bzhi", "pdep", "pext",
                            "rorx", "sarx", "shlx", "shrx", "mulx"])
        w, u = WRITES.get(op, 0), UNDEF.get(op, 0)
        if op in ("blsi", "blsmsk", "blsr"):
            src = a if self.r.random() < 0.7 else self.mem(size)
            return [(f"{op}{s} {src}, {b}", w, u)]
        if op == "rorx":
            return [(f"rorx{s} ${self.r.randrange(size)}, {a}, {b}", 0, 0)]
        if op == "mulx":
            if b == c:
                c = self.reg(size, "ax" if "ax" not in b else "bx")
            return [(f"mulx{s} {a}, {b}, {c}", 0, 0)]
        if op in ("bextr", "bzhi") and self.r.random() < 0.7:
            # a meaningful control value in the index register
            ctl = self.r.randrange(size + 8) | (self.r.randrange(size + 8) << 8 if op == "bextr" else 0)
            g = self.r.choice(self.gp)
            return [(f"movl ${ctl}, {self.reg(32, g)}", 0, 0),
                    (f"{op}{s} {self.reg(size, g)}, {a}, {b}", w, u)]
        src2 = a if self.r.random() < 0.7 else self.mem(size)
        if op in ("andn", "pdep", "pext"):     # Intel: op dst, vvvv, r/m
            return [(f"{op}{s} {src2}, {c}, {b}", w, u)]
        return [(f"{op}{s} {c}, {src2}, {b}", w, u)]    # Intel: op dst, r/m, vvvv

    def misc(self):
        k = self.r.randrange(12)
        size = self.r.choice(self.sizes())
        s = self.sfx(size)
        a, b = self.two(size)
        if k == 0:
            cc = self.r.choice(["o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np",
                                "l", "ge", "le", "g"])
            if size == 8:
                return [(f"set{cc} {a if self.r.random() < 0.7 else self.mem(8)}", 0, 0)]
            return [(f"cmov{cc}{s} {a if self.r.random() < 0.7 else self.mem(size)}, {b}", 0, 0)]
        if k == 1:
            if size == 8 or self.r.random() < 0.3:
                src = self.r.choice([self.one(8), self.mem(8)])
                dsz = self.r.choice([x for x in self.sizes(False)])
                op = self.r.choice(["movzb", "movsb"])
                return [(f"{op}{self.sfx(dsz)} {src}, {self.reg(dsz)}", 0, 0)]
            src = self.r.choice([self.reg(16), self.mem(16)])
            dsz = self.r.choice([32] + ([64] if self.bits == 64 else []))
            op = self.r.choice(["movzw", "movsw"])
            if self.bits == 64 and self.r.random() < 0.3:
                return [(f"movslq {self.r.choice([self.reg(32), self.mem(32)])}, {self.reg(64)}", 0, 0)]
            return [(f"{op}{self.sfx(dsz)} {src}, {self.reg(dsz)}", 0, 0)]
        if k == 2:
            ops = ["cbtw", "cwtl", "cwtd", "cltd"] + (["cltq", "cqto"] if self.bits == 64 else [])
            return [(self.r.choice(ops), 0, 0)]
        if k == 3 and size > 8 and self.bits == 16 and self.r.random() < 0.6:
            # 16-bit addressing: the sum wraps at 64 KiB
            form = self.r.choice(["%bx,%si", "%bx,%di", "%bp,%si", "%bp,%di", "%si", "%di", "%bx",
                                  "%bp"])
            disp = self.r.choice([0, 8, -8, 0x7fff, -0x8000, self.r.randrange(-0x8000, 0x8000)])
            return [(f"lea{s} {disp}({form}), {self.reg(size)}", 0, 0)]
        if k == 3 and size > 8:
            base = self.reg(32 if self.bits == 16 else self.bits)
            idx = self.reg(32 if self.bits == 16 else self.bits)
            sc = self.r.choice([1, 2, 4, 8])
            disp = self.r.choice([0, 8, -8, 0x12345678, -0x1000])
            return [(f"lea{s} {disp}({base},{idx},{sc}), {self.reg(size)}", 0, 0)]
        if k == 4:
            if self.r.random() < 0.5:
                return [(f"xchg{s} {a}, {b}", 0, 0)]
            return [(f"xchg{s} {a}, {self.mem(size)}", 0, 0)]
        if k == 5:
            sz = self.r.choice([32, 64] if self.bits == 64 else [32])
            return [(f"bswap {self.reg(sz)}", 0, 0)]
        if k == 6 and size > 8 and self.bits != 16:
            if self.r.random() < 0.5:
                return [(f"movbe{s} {self.mem(size)}, {a}", 0, 0)]
            return [(f"movbe{s} {a}, {self.mem(size)}", 0, 0)]
        if k == 7:
            op = self.r.choice(["cmpxchg", "xadd"])
            dst = b if self.r.random() < 0.5 else self.mem(size)
            return [(f"{op}{s} {a}, {dst}", ALL, 0)]
        if k == 8:
            return [(self.r.choice(["clc", "stc", "cmc"]), CF, 0)]
        if k == 9:
            # SAHF loads SF ZF AF PF CF from AH; LAHF stores them into AH
            if self.r.random() < 0.5:
                return [("lahf", 0, 0)]
            return [("sahf", CF | PF | AF | ZF | SF, 0)]
        if k == 10:
            if self.bits == 64 and size == 64:
                return [(f"movabsq ${self.r.getrandbits(64)}, {a}", 0, 0)]
            return [(f"mov{s} ${self.imm(size)}, {a}", 0, 0)]
        if k == 11:
            sz = self.r.choice([8, 16, 32] + ([64] if self.bits == 64 else []))
            if self.bits == 16:
                sz = 8            # CRC32 r/m16/32: QEMU 7.2 bug in 16-bit code (README)
            s2 = self.sfx(sz)
            src = self.one(sz) if self.r.random() < 0.6 else self.mem(sz)
            dst = self.reg(64 if sz == 64 else 32)
            return [(f"crc32{s2} {src}, {dst}", 0, 0)]
        return [(f"mov{s} {a}, {b}", 0, 0)]

    def bcd(self):
        op = self.r.choice(["daa", "das", "aaa", "aas", "aam", "aad"])
        out = []
        # AAA/AAS: the SDM's AX +/- 0x106 and QEMU's separate AL/AH adjust
        # differ when AL carries into AH: AL is set in the range where they
        # agree (AF and CF stay random).
        if op == "aaa":
            out.append((f"movb ${self.r.randrange(0xfa)}, %al", 0, 0))
        if op == "aas":
            out.append((f"movb ${self.r.randrange(6, 0x100)}, %al", 0, 0))
        if op in ("aam", "aad"):
            base = self.r.choice([10, 10, 16, 7, 1, 255])
            out.append((f"{op} ${base}", WRITES[op], UNDEF[op]))
        else:
            out.append((op, WRITES[op], UNDEF[op]))
        return out

    # ---- 16-bit code: the other addressing forms
    ADDR_OPS = ["add", "adc", "sub", "sbb", "and", "or", "xor", "cmp", "mov"]

    def addr16(self):
        """Points BX/SI/DI at the scratch buffer, then one ALU operation
        through a 16-bit (or a 67-prefixed 32-bit) addressing form.
        BP = EBP = the buffer; the 16-bit sums are taken modulo 64 KiB, so an
        index near 0xFFFF wraps back onto the buffer."""
        r = self.r
        size = r.choice([8, 16, 16, 32])
        s = self.sfx(size)
        o = r.randrange(0, 64 - size // 8 + 1)    # target offset in the buffer
        out = []
        if r.random() < 0.75:
            form = r.choice(["bx,si", "bx,di", "bp,si", "bp,di", "si", "di", "bx"])
            regs = form.split(",")
            off = 0                                # base + index + disp - bp
            for g in regs:
                if g == "bp":
                    continue
                if g == "bx" or len(regs) == 1:
                    v = r.randrange(0, 64)         # LEA from BP
                    out.append((f"leaw {v}(%bp), %{g}", 0, 0))
                else:
                    v = r.choice([r.getrandbits(16), 0xfff0 + r.randrange(16), r.randrange(64)])
                    out.append((f"movw ${v}, %{g}", 0, 0))
                off += v
            d = (o - off) & 0xffff
            if d >= 0x8000:
                d -= 0x10000
            m = f"{d}(%{regs[0]}" + (f",%{regs[1]})" if len(regs) > 1 else ")")
        else:
            sc = r.choice([1, 2, 4, 8])
            k = r.randrange(0, 8)
            idx = r.choice(["esi", "edi", "ebx", "eax", "ecx", "edx"])
            out.append((f"movl ${k}, %{idx}", 0, 0))
            base = "ebp"
            if r.random() < 0.4:
                base = r.choice([g for g in ("esi", "edi", "ebx") if g != idx])
                v = r.randrange(0, 64)
                out.append((f"leal {v}(%ebp), %{base}", 0, 0))
                o2 = o - v
            else:
                o2 = o
            m = f"{o2 - k * sc}(%{base},%{idx},{sc})"
        op = r.choice(self.ADDR_OPS)
        reg = self.one(size)      # may be an address register: read before the write
        if r.random() < 0.5:
            t = f"{op}{s} {m}, {reg}"
        else:
            t = f"{op}{s} {reg}, {m}"
        w = 0 if op == "mov" else WRITES[op]
        return out + [(t, w, UNDEF.get(op, 0))]

    # ---- SSE
    SSE_INT2 = ["paddb", "paddw", "paddd", "paddq", "paddsb", "paddsw", "paddusb", "paddusw",
                "psubb", "psubw", "psubd", "psubq", "psubsb", "psubsw", "psubusb", "psubusw",
                "pmullw", "pmulhw", "pmulhuw", "pmuludq", "pmaddwd", "pand", "pandn", "por",
                "pxor", "pcmpeqb", "pcmpeqw", "pcmpeqd", "pcmpgtb", "pcmpgtw", "pcmpgtd",
                "pavgb", "pavgw", "pminub", "pmaxub", "pminsw", "pmaxsw", "psadbw", "packsswb",
                "packssdw", "packuswb", "punpcklbw", "punpcklwd", "punpckldq", "punpcklqdq",
                "punpckhbw", "punpckhwd", "punpckhdq", "punpckhqdq", "psllw", "pslld", "psllq",
                "psrlw", "psrld", "psrlq", "psraw", "psrad",
                # SSSE3
                "pshufb", "phaddw", "phaddd", "phaddsw", "phsubw", "phsubd", "phsubsw", "pabsb",
                "pabsw", "pabsd", "psignb", "psignw", "psignd", "pmaddubsw", "pmulhrsw",
                # SSE4.1 / 4.2
                "pmulld", "pmuldq", "pminsb", "pminsd", "pminuw", "pminud", "pmaxsb", "pmaxsd",
                "pmaxuw", "pmaxud", "pcmpeqq", "packusdw", "pmovsxbw", "pmovsxbd", "pmovsxbq",
                "pmovsxwd", "pmovsxwq", "pmovsxdq", "pmovzxbw", "pmovzxbd", "pmovzxbq",
                "pmovzxwd", "pmovzxwq", "pmovzxdq", "phminposuw", "pcmpgtq"]
    SSE_FP2 = ["addps", "addpd", "addss", "addsd", "subps", "subpd", "subss", "subsd", "mulps",
               "mulpd", "mulss", "mulsd", "divps", "divpd", "divss", "divsd", "minps", "minpd",
               "minss", "minsd", "maxps", "maxpd", "maxss", "maxsd", "sqrtps", "sqrtpd", "sqrtss",
               "sqrtsd", "andps", "andpd", "andnps", "andnpd", "orps", "orpd", "xorps", "xorpd",
               "unpcklps", "unpckhps", "unpcklpd", "unpckhpd", "cvtps2pd", "cvtpd2ps", "cvtss2sd",
               "cvtsd2ss", "cvtdq2ps", "cvtps2dq", "cvttps2dq", "cvtdq2pd", "cvtpd2dq",
               "cvttpd2dq", "haddps", "haddpd", "hsubps", "hsubpd", "addsubps", "addsubpd",
               "movsldup", "movshdup", "movddup", "movaps", "movups", "movapd", "movdqa",
               "movdqu", "movss", "movsd", "movhlps", "movlhps"]
    SSE_IMM = [("pshufd", 256), ("pshuflw", 256), ("pshufhw", 256), ("shufps", 256),
               ("shufpd", 4), ("palignr", 32), ("pblendw", 256), ("blendps", 16),
               ("blendpd", 4), ("roundps", 16), ("roundpd", 16), ("roundss", 16),
               ("roundsd", 16), ("cmpps", 8), ("cmppd", 8), ("cmpss", 8), ("cmpsd", 8),
               ("insertps", 256), ("mpsadbw", 8), ("dppd", 256)]

    def sse(self):
        k = self.r.randrange(10)
        x1, x2 = self.xmm(), self.xmm()
        if k <= 3:
            op = self.r.choice(self.SSE_INT2)
            if op.startswith("pmov"):   # m64/m32/m16: no alignment rule
                src = x1 if self.r.random() < 0.7 else self.amem(8)
                return [(f"{op} {src}, {x2}", 0, 0)]
            src = x1 if self.r.random() < 0.8 else self.amem()
            return [(f"{op} {src}, {x2}", 0, 0)]
        if k <= 6:
            op = self.r.choice(self.SSE_FP2)
            if op in ("movhlps", "movlhps"):
                return [(f"{op} {x1}, {x2}", 0, 0)]
            scalar = op.endswith("ss") or op.endswith("sd") and op not in ("addsubpd",)
            src = x1 if self.r.random() < 0.8 else self.amem(8 if scalar else 16)
            return [(f"{op} {src}, {x2}", 0, 0)]
        if k == 7:
            op, lim = self.r.choice(self.SSE_IMM)
            if op == "dppd":
                return [(f"dppd ${self.r.choice([0x31, 0x32, 0x33, 0x11, 0x22])}, {x1}, {x2}", 0, 0)]
            return [(f"{op} ${self.r.randrange(lim)}, {x1}, {x2}", 0, 0)]
        if k == 8:
            # shifts by immediate, byte shifts
            op = self.r.choice(["psllw", "pslld", "psllq", "psrlw", "psrld", "psrlq", "psraw",
                                "psrad", "pslldq", "psrldq"])
            return [(f"{op} ${self.r.randrange(70)}, {x1}", 0, 0)]
        # GPR <-> XMM, flags from SSE
        j = self.r.randrange(9)
        if j == 0:
            sz = self.r.choice([32, 64] if self.bits == 64 else [32])
            if self.r.random() < 0.5:
                return [(f"mov{'d' if sz == 32 else 'q'} {self.reg(sz)}, {x1}", 0, 0)]
            return [(f"mov{'d' if sz == 32 else 'q'} {x1}, {self.reg(sz)}", 0, 0)]
        if j == 1:
            op = self.r.choice(["pmovmskb", "movmskps", "movmskpd"])
            return [(f"{op} {x1}, {self.reg(32)}", 0, 0)]
        if j == 2:
            op = self.r.choice(["comiss", "ucomiss", "comisd", "ucomisd"])
            return [(f"{op} {x1}, {x2}", ALL, 0)]
        if j == 3:
            return [(f"ptest {x1}, {x2}", ALL, 0)]
        if j == 4:
            op = self.r.choice(["pcmpistri", "pcmpistrm", "pcmpestri", "pcmpestrm"])
            imm = self.r.choice([0x00, 0x04, 0x08, 0x0c, 0x18, 0x1a, 0x3a, 0x40, 0x44, 0x01,
                                 0x0d, 0x49, self.r.randrange(0x80)])
            out = []
            if "estr" in op:
                out.append((f"movl ${self.r.randrange(-20, 20) & 0xffffffff}, %eax", 0, 0))
                out.append((f"movl ${self.r.randrange(-20, 20) & 0xffffffff}, %edx", 0, 0))
            out.append((f"{op} ${imm}, {x1}, {x2}", ALL, 0))
            return out
        if j == 5:
            sz = self.r.choice([32, 64] if self.bits == 64 else [32])
            op = self.r.choice(["cvtsi2ss", "cvtsi2sd"])
            return [(f"{op}{'l' if sz == 32 else 'q'} {self.reg(sz)}, {x1}", 0, 0)]
        if j == 6:
            sz = self.r.choice([32, 64] if self.bits == 64 else [32])
            op = self.r.choice(["cvtss2si", "cvttss2si", "cvtsd2si", "cvttsd2si"])
            return [(f"{op} {x1}, {self.reg(sz)}", 0, 0)]
        if j == 7:
            sz = self.r.choice([8, 16, 32] + ([64] if self.bits == 64 else []))
            lanes = 128 // sz
            ix = self.r.randrange(lanes)
            rsz = 64 if sz == 64 else 32
            if self.r.random() < 0.5:
                op = {8: "pextrb", 16: "pextrw", 32: "pextrd", 64: "pextrq"}[sz]
                return [(f"{op} ${ix}, {x1}, {self.reg(rsz)}", 0, 0)]
            op = {8: "pinsrb", 16: "pinsrw", 32: "pinsrd", 64: "pinsrq"}[sz]
            return [(f"{op} ${ix}, {self.reg(rsz)}, {x1}", 0, 0)]
        op = self.r.choice(["blendvps", "blendvpd", "pblendvb"])
        return [(f"{op} %xmm0, {x1}, {x2}", 0, 0)]

    def snippet(self):
        classes = [(self.alu2, 14), (self.unary, 4), (self.shift, 10), (self.shld, 3),
                   (self.muldiv, 6), (self.bits_, 6), (self.bmi, 5), (self.misc, 10),
                   (self.sse, 22)]
        if self.bits != 64:
            classes.append((self.bcd, 3))
        if self.bits == 16:
            classes = [c for c in classes if c[0] != self.bmi] + [(self.addr16, 6)]
        fns = [c for c, w in classes for _ in range(w)]
        insns = []
        undef = 0
        for _ in range(self.r.choice([1, 1, 2, 3])):
            for _try in range(50):
                group = self.r.choice(fns)()
                u = undef
                ok = True
                for t, w, uu in group:
                    if flag_reads(t) & u:     # would consume an undefined flag
                        ok = False
                        break
                    u = (u & ~w) | uu
                if ok:
                    insns += group
                    undef = u
                    break
        text = [t for t, _, _ in insns]
        # DAZ: Intel returns the zeroed operand from MIN/MAX, QEMU 7.2 the
        # original denormal: such snippets run with DAZ off (rand_ctl bit 0).
        ctl = 1 if any(t.split()[0][:3] in ("min", "max") for t in text) else 0
        return text, undef, ctl


CC_READS = {"o": OF, "no": OF, "b": CF, "c": CF, "nae": CF, "ae": CF, "nb": CF, "nc": CF,
            "e": ZF, "z": ZF, "ne": ZF, "nz": ZF, "be": CF | ZF, "na": CF | ZF, "a": CF | ZF,
            "nbe": CF | ZF, "s": SF, "ns": SF, "p": PF, "pe": PF, "np": PF, "po": PF,
            "l": SF | OF, "nge": SF | OF, "ge": SF | OF, "nl": SF | OF, "le": ZF | SF | OF,
            "ng": ZF | SF | OF, "g": ZF | SF | OF, "nle": ZF | SF | OF}


def flag_reads(text):
    """Arithmetic flags an instruction reads (those the generator emits)."""
    m = text.split()[0]
    if m.startswith(("adc", "sbb", "rcl", "rcr", "cmc")):
        return CF
    if m == "lahf":
        return SF | ZF | AF | PF | CF
    if m in ("daa", "das"):
        return CF | AF
    if m in ("aaa", "aas"):
        return AF
    for pre in ("cmov", "set"):
        if m.startswith(pre):
            cc = m[len(pre):]
            if cc not in CC_READS:
                cc = cc[:-1]      # size suffix
            return CC_READS[cc]
    return 0


def generate(seed, bits, count):
    g = Gen(seed, bits)
    snippets = []
    lines = [f"/* generated by x86_random.py --seed {seed} --bits {bits} --count {count} */",
             "    .text", f"    .code{bits}"]
    ctls = []
    for i in range(count):
        text, undef, ctl = g.snippet()
        ctls.append(ctl)
        snippets.append({"index": i, "insns": text, "undef_flags": undef, "ctl": ctl})
        lines.append(f"snip_{i}:")
        lines += ["    " + t for t in text]
        lines.append("    jmp rand_done")
    lines += ["    .section .rodata", "    .balign 8", "    .globl rand_table, rand_count, rand_seed",
              "rand_table:"]
    word = ".quad" if bits == 64 else ".long"
    lines += [f"    {word} snip_{i}" for i in range(count)]
    lines += ["    .globl rand_ctl", "rand_ctl:"] + [f"    .byte {c}" for c in ctls]
    lines += ["    .balign 4", "rand_count:", f"    .long {count}", "    .balign 8", "rand_seed:",
              f"    .quad {seed & 0xffffffffffffffff}", ""]
    return "\n".join(lines) + '    .section .note.GNU-stack, "", @progbits\n', snippets


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--bits", type=int, choices=(16, 32, 64), required=True)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--meta")
    a = ap.parse_args()
    asm, snippets = generate(a.seed, a.bits, a.count)
    with open(a.output, "w") as f:
        f.write(asm)
    if a.meta:
        with open(a.meta, "w") as f:
            json.dump(snippets, f, indent=1)


if __name__ == "__main__":
    main()
