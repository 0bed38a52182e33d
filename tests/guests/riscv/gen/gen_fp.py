#!/usr/bin/env python3
"""Generate the F / D test vectors (rv_f_vectors.h, rv_d_vectors.h).

Expected results come from an exact model written from the ISA manual and
IEEE 754-2008: every operation is computed exactly on Python Fractions and
then rounded to the destination format in the requested rounding mode;
flags follow IEEE 754 with RISC-V's choices (tininess detected after
rounding, canonical NaN results, no NaN payload propagation, fused
multiply-add raising NV for inf * 0 even with a quiet NaN addend,
saturating float -> integer conversions).  No RISC-V code or emulator is
involved.

Usage: gen_fp.py s > ../rv_f_vectors.h ; gen_fp.py d > ../rv_d_vectors.h
"""
import sys
from fractions import Fraction

RNE, RTZ, RDN, RUP, RMM = range(5)
RMS = (RNE, RTZ, RDN, RUP, RMM)
NV, DZ, OF, UF, NX = 0x10, 0x08, 0x04, 0x02, 0x01


class Fmt:
    def __init__(self, name, bits, ebits, p):
        self.name, self.bits, self.ebits, self.p = name, bits, ebits, p
        self.bias = (1 << (ebits - 1)) - 1
        self.emin = 1 - self.bias
        self.emax = self.bias
        self.mmask = (1 << (p - 1)) - 1
        self.emask = (1 << ebits) - 1
        self.sign = 1 << (bits - 1)
        self.qnan = (self.emask << (p - 1)) | (1 << (p - 2))
        self.inf = self.emask << (p - 1)
        self.maxf = ((self.emask - 1) << (p - 1)) | self.mmask


S = Fmt('s', 32, 8, 24)
D = Fmt('d', 64, 11, 53)


def floor_log2(x):
    """floor(log2(x)) for a positive Fraction."""
    e = x.numerator.bit_length() - x.denominator.bit_length()
    if Fraction(2) ** e > x:
        e -= 1
    elif Fraction(2) ** (e + 1) <= x:
        e += 1
    return e


def decode(F, v):
    s = v >> (F.bits - 1) & 1
    e = v >> (F.p - 1) & F.emask
    m = v & F.mmask
    if e == F.emask:
        if m == 0:
            return ('inf', s)
        return ('nan', m >> (F.p - 2) == 0)     # True = signaling
    if e == 0:
        if m == 0:
            return ('zero', s)
        return ('num', s, Fraction(m) * Fraction(2) ** (F.emin - F.p + 1))
    return ('num', s, Fraction(m | (1 << (F.p - 1))) * Fraction(2) ** (e - F.bias - F.p + 1))


def value(d):
    """Signed Fraction of a zero/num operand."""
    if d[0] == 'zero':
        return Fraction(0)
    return -d[2] if d[1] else d[2]


def zero(F, s):
    return F.sign if s else 0


def infv(F, s):
    return F.inf | (F.sign if s else 0)


def rnd_int(x, sign, rm):
    """Round positive Fraction x to an integer; returns (n, inexact)."""
    n = x.numerator // x.denominator
    r = x - n
    if r == 0:
        return n, False
    half = Fraction(1, 2)
    up = {RNE: r > half or (r == half and n % 2 == 1), RTZ: False,
          RDN: sign == 1, RUP: sign == 0, RMM: r >= half}[rm]
    return n + (1 if up else 0), True


def round_to(F, sign, x, rm):
    """Round a positive exact Fraction x; returns (bits, flags)."""
    assert x > 0
    e = floor_log2(x)
    q_unb = Fraction(2) ** (e - F.p + 1)
    n_unb, _ = rnd_int(x / q_unb, sign, rm)
    tiny = n_unb * q_unb < Fraction(2) ** F.emin
    q = Fraction(2) ** (max(e, F.emin) - F.p + 1)
    n, inexact = rnd_int(x / q, sign, rm)
    r = n * q
    flags = 0
    if r >= Fraction(2) ** (F.emax + 1):
        to_inf = rm in (RNE, RMM) or (rm == RUP and not sign) or (rm == RDN and sign)
        return (infv(F, sign) if to_inf else F.maxf | (F.sign if sign else 0)), OF | NX
    if inexact:
        flags |= NX
        if tiny:
            flags |= UF
    if r == 0:
        return zero(F, sign), flags
    if r < Fraction(2) ** F.emin:
        m = r / Fraction(2) ** (F.emin - F.p + 1)
        assert m.denominator == 1
        bits = int(m)
    else:
        e2 = floor_log2(r)
        m = r / Fraction(2) ** (e2 - F.p + 1)
        assert m.denominator == 1
        bits = ((e2 + F.bias) << (F.p - 1)) | (int(m) & F.mmask)
    return bits | (F.sign if sign else 0), flags


def round_signed(F, x, rm):
    """Round a nonzero signed Fraction."""
    return round_to(F, 1 if x < 0 else 0, abs(x), rm)


def nan_result(F, *ds):
    flags = NV if any(d[0] == 'nan' and d[1] for d in ds) else 0
    return F.qnan, flags


def op_add(F, a, b, rm, negb=False):
    da, db = decode(F, a), decode(F, b)
    if negb and db[0] != 'nan':
        db = (db[0], db[1] ^ 1) + tuple(db[2:])
    if da[0] == 'nan' or db[0] == 'nan':
        return nan_result(F, da, db)
    if da[0] == 'inf' and db[0] == 'inf':
        if da[1] != db[1]:
            return F.qnan, NV
        return infv(F, da[1]), 0
    if da[0] == 'inf':
        return infv(F, da[1]), 0
    if db[0] == 'inf':
        return infv(F, db[1]), 0
    s = value(da) + value(db)
    if s == 0:
        if da[0] == 'zero' and db[0] == 'zero' and da[1] == db[1]:
            return zero(F, da[1]), 0
        return zero(F, 1 if rm == RDN else 0), 0
    return round_signed(F, s, rm)


def op_mul(F, a, b, rm):
    da, db = decode(F, a), decode(F, b)
    if da[0] == 'nan' or db[0] == 'nan':
        return nan_result(F, da, db)
    sign = da[1] ^ db[1]
    if (da[0] == 'inf' and db[0] == 'zero') or (da[0] == 'zero' and db[0] == 'inf'):
        return F.qnan, NV
    if da[0] == 'inf' or db[0] == 'inf':
        return infv(F, sign), 0
    if da[0] == 'zero' or db[0] == 'zero':
        return zero(F, sign), 0
    return round_to(F, sign, da[2] * db[2], rm)


def op_div(F, a, b, rm):
    da, db = decode(F, a), decode(F, b)
    if da[0] == 'nan' or db[0] == 'nan':
        return nan_result(F, da, db)
    sign = da[1] ^ db[1]
    if da[0] == 'inf' and db[0] == 'inf':
        return F.qnan, NV
    if da[0] == 'zero' and db[0] == 'zero':
        return F.qnan, NV
    if da[0] == 'inf':
        return infv(F, sign), 0
    if db[0] == 'inf':
        return zero(F, sign), 0
    if db[0] == 'zero':
        return infv(F, sign), DZ
    if da[0] == 'zero':
        return zero(F, sign), 0
    return round_to(F, sign, da[2] / db[2], rm)


def isqrt(n):
    if n == 0:
        return 0
    x = 1 << ((n.bit_length() + 1) // 2)
    while True:
        y = (x + n // x) // 2
        if y >= x:
            return x
        x = y


def op_sqrt(F, a, rm):
    da = decode(F, a)
    if da[0] == 'nan':
        return nan_result(F, da)
    if da[0] == 'zero':
        return a, 0
    if da[1]:
        return F.qnan, NV
    if da[0] == 'inf':
        return a, 0
    K = 1400
    scaled = da[2] * Fraction(4) ** K
    assert scaled.denominator == 1
    n = int(scaled)
    s = isqrt(n)
    if s * s == n:
        v = Fraction(s, 2 ** K)
    else:
        v = (Fraction(s) + Fraction(1, 2)) / 2 ** K
    return round_to(F, 0, v, rm)


def op_fma(F, a, b, c, rm, negprod, negc):
    da, db, dc = decode(F, a), decode(F, b), decode(F, c)
    snan = any(d[0] == 'nan' and d[1] for d in (da, db, dc))
    infzero = ((da[0] == 'inf' and db[0] == 'zero') or
               (da[0] == 'zero' and db[0] == 'inf'))
    if infzero:
        return F.qnan, NV
    if da[0] == 'nan' or db[0] == 'nan' or dc[0] == 'nan':
        return F.qnan, NV if snan else 0
    psign = da[1] ^ db[1] ^ (1 if negprod else 0)
    csign = dc[1] ^ (1 if negc else 0)
    pinf = da[0] == 'inf' or db[0] == 'inf'
    if pinf and dc[0] == 'inf' and psign != csign:
        return F.qnan, NV
    if pinf:
        return infv(F, psign), 0
    if dc[0] == 'inf':
        return infv(F, csign), 0
    pzero = da[0] == 'zero' or db[0] == 'zero'
    p = Fraction(0) if pzero else da[2] * db[2] * (-1 if psign else 1)
    cv = value(dc) * (-1 if negc else 1)
    s = p + cv
    if s == 0:
        if pzero and dc[0] == 'zero' and psign == csign:
            return zero(F, psign), 0
        return zero(F, 1 if rm == RDN else 0), 0
    return round_signed(F, s, rm)


def op_minmax(F, a, b, is_max):
    da, db = decode(F, a), decode(F, b)
    flags = NV if any(d[0] == 'nan' and d[1] for d in (da, db)) else 0
    if da[0] == 'nan' and db[0] == 'nan':
        return F.qnan, flags
    if da[0] == 'nan':
        return b, flags
    if db[0] == 'nan':
        return a, flags

    def key(d, v):
        if d[0] == 'inf':
            return (Fraction(-1) if d[1] else Fraction(1)) * 10 ** 400, 0
        return value(d), -1 if (d[0] == 'zero' and d[1]) else 0
    ka, kb = key(da, a), key(db, b)
    if is_max:
        return (a if ka >= kb else b), flags
    return (a if ka <= kb else b), flags


def op_cmp(F, a, b, kind):
    da, db = decode(F, a), decode(F, b)
    anynan = da[0] == 'nan' or db[0] == 'nan'
    snan = any(d[0] == 'nan' and d[1] for d in (da, db))
    if anynan:
        if kind == 'eq':
            return 0, NV if snan else 0
        return 0, NV

    def num(d):
        if d[0] == 'inf':
            return (Fraction(-1) if d[1] else Fraction(1)) * 10 ** 400
        return value(d)
    x, y = num(da), num(db)
    return int({'eq': x == y, 'lt': x < y, 'le': x <= y}[kind]), 0


def op_class(F, a):
    d = decode(F, a)
    if d[0] == 'nan':
        return 0x100 if d[1] else 0x200
    neg = a >> (F.bits - 1) & 1
    if d[0] == 'inf':
        return 0x001 if neg else 0x080
    if d[0] == 'zero':
        return 0x008 if neg else 0x010
    sub = (a >> (F.p - 1) & F.emask) == 0
    if neg:
        return 0x004 if sub else 0x002
    return 0x020 if sub else 0x040


def op_f2i(F, a, rm, bits, signed):
    d = decode(F, a)
    lo = -(1 << (bits - 1)) if signed else 0
    hi = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1
    if d[0] == 'nan':
        return hi, NV
    if d[0] == 'inf':
        return (lo if d[1] else hi), NV
    if d[0] == 'zero':
        return 0, 0
    n, inexact = rnd_int(d[2], d[1], rm)
    n = -n if d[1] else n
    if n < lo:
        return lo, NV
    if n > hi:
        return hi, NV
    return n, NX if inexact else 0


def op_i2f(F, n, rm):
    if n == 0:
        return 0, 0
    return round_signed(F, Fraction(n), rm)


def op_cvt_ff(Fd, Fs, a, rm):
    d = decode(Fs, a)
    if d[0] == 'nan':
        return nan_result(Fd, d)
    if d[0] == 'inf':
        return infv(Fd, d[1]), 0
    if d[0] == 'zero':
        return zero(Fd, d[1]), 0
    return round_to(Fd, d[1], d[2], rm)


def sgnj(F, a, b, kind):
    sa, sb = a & F.sign, b & F.sign
    mag = a & ~F.sign & ((1 << F.bits) - 1)
    s = {'j': sb, 'jn': sb ^ F.sign, 'jx': sa ^ sb}[kind]
    return mag | s


# ---------------------------------------------------------------------------
def sx(v, bits):
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def ux(v, bits):
    return v & ((1 << bits) - 1)


def operands(F):
    """Named interesting values for format F."""
    if F is S:
        return {
            'p0': 0x00000000, 'n0': 0x80000000, 'one': 0x3f800000, 'mone': 0xbf800000,
            'two': 0x40000000, 'three': 0x40400000, 'half': 0x3f000000,
            'onep': 0x3f800001, 'onem': 0x3f7fffff, 'tenth': 0x3dcccccd,
            'max': 0x7f7fffff, 'mmax': 0xff7fffff, 'minn': 0x00800000,
            'mminn': 0x80800000, 'minsub': 0x00000001, 'maxsub': 0x007fffff,
            'inf': 0x7f800000, 'minf': 0xff800000, 'qnan': 0x7fc00000,
            'qnanp': 0x7fc12345, 'snan': 0x7f800001, 'msnan': 0xff812345,
            'tiesmall': 0x33800000,         # 2^-24: 1 + this is a tie
            'big': 0x4b800000,              # 2^24
            'p2_31': 0x4f000000, 'm2_31': 0xcf000000, 'p2_32': 0x4f800000,
            'p2_63': 0x5f000000, 'm2_63': 0xdf000000, 'p2_64': 0x5f800000,
            'three_e9': 0x4f32d05e, 'mthree_e9': 0xcf32d05e,
            'm2_5': 0xc0200000, 'p2_5': 0x40200000, 'p1_5': 0x3fc00000,
            'm0_5': 0xbf000000, 'm0_9': 0xbf666666, 'p0_9': 0x3f666666,
            'em76': 0x19800000, 'mem75': 0x9a000000,   # 2^-76, -2^-75
            'sevenish': 0x40e00001,
        }
    return {
        'p0': 0, 'n0': 0x8000000000000000, 'one': 0x3ff0000000000000,
        'mone': 0xbff0000000000000, 'two': 0x4000000000000000,
        'three': 0x4008000000000000, 'half': 0x3fe0000000000000,
        'onep': 0x3ff0000000000001, 'onem': 0x3fefffffffffffff,
        'tenth': 0x3fb999999999999a, 'max': 0x7fefffffffffffff,
        'mmax': 0xffefffffffffffff, 'minn': 0x0010000000000000,
        'mminn': 0x8010000000000000, 'minsub': 0x0000000000000001,
        'maxsub': 0x000fffffffffffff, 'inf': 0x7ff0000000000000,
        'minf': 0xfff0000000000000, 'qnan': 0x7ff8000000000000,
        'qnanp': 0x7ff8000000012345, 'snan': 0x7ff0000000000001,
        'msnan': 0xfff0000000012345,
        'tiesmall': 0x3ca0000000000000,     # 2^-53
        'big': 0x4340000000000000,          # 2^53
        'p2_31': 0x41e0000000000000, 'm2_31': 0xc1e0000000000000,
        'p2_32': 0x41f0000000000000, 'p2_63': 0x43e0000000000000,
        'm2_63': 0xc3e0000000000000, 'p2_64': 0x43f0000000000000,
        'three_e9': 0x41e65a0bc0000000, 'mthree_e9': 0xc1e65a0bc0000000,
        'm2_5': 0xc004000000000000, 'p2_5': 0x4004000000000000,
        'p1_5': 0x3ff8000000000000, 'm0_5': 0xbfe0000000000000,
        'm0_9': 0xbfeccccccccccccd, 'p0_9': 0x3feccccccccccccd,
        'em76': 0, 'mem75': 0,             # set by fixup_d
        'sevenish': 0x401c000000000001,
        # beyond single range / for conversions to single
        'e300': 0x7e37e43c8800759c, 'em300': 0x01a56e1fc2f8f359,
        'fltmax_tie': 0x47effffff0000000,   # halfway between FLT_MAX and 2^128
        'fltmax_below': 0x47efffffefffffff, 'sgl_sub': 0x36a0000000000000,
        'p2_31m': 0x41dfffffffc00000,       # 2^31 - 1
        'p2_31mh': 0x41dfffffffe00000,      # 2^31 - 0.5
        'm2_31mh': 0xc1e0000000100000,      # -2^31 - 0.5
    }


def fixup_d(ops):
    # D: 2^-538 and -2^-537 multiply to -2^-1075... keep an analogue of the
    # single-precision "tininess after rounding" case: a*b = -2^-1076 with
    # c = 2^-1022 gives 2^-1022 - 2^-1076.
    ops['em76'] = (0x3ff - 538) << 52          # 2^-538
    ops['mem75'] = (1 << 63) | ((0x3ff - 538) << 52)   # -2^-538
    return ops


def tofmt(F, n):
    """Boxed 64-bit register image of a value of format F."""
    return (0xffffffff00000000 | n) if F is S else n


def gen(F, xlen):
    O = operands(F)
    if F is D:
        O = fixup_d(O)
    sfx = F.name
    vec = []        # (opname, rm, a, b, c, result, flags)

    def add(name, rm, a, b, c, r, fl):
        vec.append((name, rm, a, b, c, r, fl))

    specials = ['p0', 'n0', 'one', 'mone', 'inf', 'minf', 'qnanp', 'snan', 'max', 'minsub']
    numeric_pairs = [
        ('one', 'three'), ('mone', 'three'), ('two', 'three'), ('tenth', 'three'),
        ('one', 'tiesmall'), ('mone', 'tiesmall'), ('onep', 'tiesmall'),
        ('max', 'max'), ('mmax', 'max'), ('max', 'two'), ('minn', 'half'),
        ('minsub', 'half'), ('maxsub', 'minsub'), ('minn', 'mminn'), ('one', 'mone'),
        ('onem', 'onep'), ('tenth', 'tenth'), ('p2_5', 'm0_9'), ('big', 'one'),
        ('sevenish', 'three'), ('p0_9', 'tenth'), ('minn', 'onem'),
    ]
    two = {'add': lambda a, b, rm: op_add(F, a, b, rm),
           'sub': lambda a, b, rm: op_add(F, a, b, rm, negb=True),
           'mul': lambda a, b, rm: op_mul(F, a, b, rm),
           'div': lambda a, b, rm: op_div(F, a, b, rm)}
    for op, fn in two.items():
        for x in specials:
            for y in specials:
                for rm in (RNE, RDN):
                    r, fl = fn(O[x], O[y], rm)
                    add(f'f{op}_{sfx}', rm, tofmt(F, O[x]), tofmt(F, O[y]), 0, tofmt(F, r), fl)
        for x, y in numeric_pairs:
            for rm in RMS:
                r, fl = fn(O[x], O[y], rm)
                add(f'f{op}_{sfx}', rm, tofmt(F, O[x]), tofmt(F, O[y]), 0, tofmt(F, r), fl)
    for x in ['p0', 'n0', 'one', 'two', 'three', 'tenth', 'max', 'minn', 'minsub',
              'maxsub', 'inf', 'minf', 'mone', 'qnanp', 'snan', 'onem', 'onep', 'big']:
        for rm in RMS:
            r, fl = op_sqrt(F, O[x], rm)
            add(f'fsqrt_{sfx}', rm, tofmt(F, O[x]), 0, 0, tofmt(F, r), fl)
    fmas = {'fmadd': (False, False), 'fmsub': (False, True),
            'fnmsub': (True, False), 'fnmadd': (True, True)}
    triples = [
        ('one', 'two', 'three'), ('onep', 'onem', 'mone'), ('tenth', 'three', 'mone'),
        ('inf', 'p0', 'qnanp'), ('p0', 'minf', 'one'), ('inf', 'one', 'minf'),
        ('inf', 'one', 'inf'), ('one', 'one', 'snan'), ('qnanp', 'one', 'one'),
        ('p0', 'one', 'n0'), ('n0', 'one', 'n0'), ('p0', 'one', 'p0'),
        ('one', 'mone', 'one'), ('max', 'two', 'mmax'), ('max', 'max', 'minf'),
        ('minn', 'half', 'minsub'), ('em76', 'mem75', 'minn'), ('mem75', 'em76', 'mminn'),
        ('minsub', 'half', 'p0'), ('tiesmall', 'one', 'one'), ('sevenish', 'sevenish', 'mone'),
        ('onem', 'onem', 'mone'),
    ]
    for op, (np_, nc) in fmas.items():
        for x, y, z in triples:
            for rm in RMS:
                r, fl = op_fma(F, O[x], O[y], O[z], rm, np_, nc)
                add(f'{op}_{sfx}', rm, tofmt(F, O[x]), tofmt(F, O[y]), tofmt(F, O[z]),
                    tofmt(F, r), fl)
    mm = ['p0', 'n0', 'one', 'mone', 'inf', 'minf', 'qnanp', 'snan', 'msnan', 'minsub']
    for x in mm:
        for y in mm:
            for nm, ismax in (('fmin', False), ('fmax', True)):
                r, fl = op_minmax(F, O[x], O[y], ismax)
                add(f'{nm}_{sfx}', RNE, tofmt(F, O[x]), tofmt(F, O[y]), 0, tofmt(F, r), fl)
            for k in ('eq', 'lt', 'le'):
                r, fl = op_cmp(F, O[x], O[y], k)
                add(f'f{k}_{sfx}', RNE, tofmt(F, O[x]), tofmt(F, O[y]), 0, r, fl)
            for k in ('j', 'jn', 'jx'):
                r = sgnj(F, O[x], O[y], k)
                add(f'fsgn{k}_{sfx}', RNE, tofmt(F, O[x]), tofmt(F, O[y]), 0, tofmt(F, r), 0)
    for x in ['p0', 'n0', 'one', 'mone', 'inf', 'minf', 'qnan', 'qnanp', 'snan',
              'msnan', 'minsub', 'maxsub', 'minn', 'mminn', 'max']:
        add(f'fclass_{sfx}', RNE, tofmt(F, O[x]), 0, 0, op_class(F, O[x]), 0)
    # float -> integer
    cvt_src = ['p0', 'n0', 'one', 'mone', 'half', 'm0_5', 'p1_5', 'p2_5', 'm2_5', 'm0_9',
               'p0_9', 'three_e9', 'mthree_e9', 'p2_31', 'm2_31', 'p2_32', 'p2_63',
               'm2_63', 'p2_64', 'inf', 'minf', 'qnanp', 'snan', 'max', 'minsub', 'tenth']
    if F is D:
        cvt_src += ['p2_31m', 'p2_31mh', 'm2_31mh']
    i_ops = [('w', 32, True), ('wu', 32, False)]
    if xlen == 64:
        i_ops += [('l', 64, True), ('lu', 64, False)]
    for nm, bits, signed in i_ops:
        for x in cvt_src:
            for rm in RMS:
                r, fl = op_f2i(F, O[x], rm, bits, signed)
                add(f'fcvt_{nm}_{sfx}', rm, tofmt(F, O[x]), 0, 0, ux(sx(r, bits), xlen), fl)
    # integer -> float (the .w forms ignore the upper register bits on RV64)
    ints = [0, 1, -1, 3, 16777217, -16777217, 0x7fffffff, -0x80000000, 0xffffffff,
            0x12345679, 2 ** 53 + 1, -(2 ** 53 + 1), 2 ** 63 - 1, -2 ** 63, 2 ** 64 - 1,
            0x7ffffffffffffdff, 0x00000001fffffffd]
    for nm, bits, signed in i_ops:
        for n in ints:
            reg = ux(n, xlen)
            if bits == 32 and xlen == 64:
                reg = ux(n, 32) | (0xa5a5a5a500000000 if n % 2 else 0x5a5a5a5a00000000)
            src = sx(reg, bits) if signed else ux(reg, bits)
            if bits > xlen:
                continue
            for rm in RMS:
                r, fl = op_i2f(F, src, rm)
                add(f'fcvt_{sfx}_{nm}', rm, reg, 0, 0, tofmt(F, r), fl)
    # fmv.x / fmv.*.x
    for x in ['one', 'mone', 'snan', 'n0', 'qnanp']:
        v = O[x]
        r = ux(sx(v, F.bits), xlen) if F.bits <= xlen else None
        if r is not None:
            add(f'fmv_x_{"w" if F is S else "d"}', RNE, tofmt(F, v), 0, 0, r, 0)
            add(f'fmv_{"w" if F is S else "d"}_x', RNE, ux(sx(v, F.bits), xlen), 0, 0,
                tofmt(F, v), 0)
    # conversions between formats (only in the D file)
    if F is D:
        for x in ['one', 'tenth', 'e300', 'em300', 'fltmax_tie', 'fltmax_below', 'sgl_sub',
                  'max', 'minsub',
                  'inf', 'minf', 'qnanp', 'snan', 'n0', 'p0', 'onep', 'mthree_e9']:
            for rm in RMS:
                r, fl = op_cvt_ff(S, D, O[x], rm)
                add('fcvt_s_d', rm, O[x], 0, 0, tofmt(S, r), fl)
        SO = operands(S)
        for x in ['one', 'tenth', 'max', 'minsub', 'maxsub', 'inf', 'minf', 'qnanp', 'snan',
                  'n0', 'msnan']:
            r, fl = op_cvt_ff(D, S, SO[x], RNE)
            add('fcvt_d_s', RNE, tofmt(S, SO[x]), 0, 0, r, fl)
    return vec


# ---------------------------------------------------------------------------
# Instruction shapes: how each op takes operands and gives its result.
def shape(name):
    if name.startswith(('fadd', 'fsub', 'fmul', 'fdiv', 'fmin', 'fmax', 'fsgnj')):
        return 'fff'
    if name.startswith('fsqrt') or name in ('fcvt_s_d', 'fcvt_d_s'):
        return 'ff'
    if name.startswith(('fmadd', 'fmsub', 'fnmsub', 'fnmadd')):
        return 'ffff'
    if name.startswith(('feq', 'flt', 'fle', 'fclass', 'fmv_x')):
        return 'xf' if not name.startswith(('feq', 'flt', 'fle')) else 'xff'
    if name.startswith('fcvt_w') or name.startswith('fcvt_l'):
        return 'xf'
    if name.startswith(('fcvt_s_', 'fcvt_d_')) or name.startswith(('fmv_w_x', 'fmv_d_x')):
        return 'fx'
    raise ValueError(name)


def emit(F):
    tag = F.name
    out = []
    w = out.append
    w(f'/* Generated by gen/gen_fp.py {tag}: do not edit.  F/D test vectors with')
    w(' * expected results and fflags from an exact rational model of IEEE 754 as')
    w(' * specified for RISC-V (see the generator). */')
    per_xlen = {x: gen(F, x) for x in (64, 32)}
    names = []
    for x in (64, 32):
        for v in per_xlen[x]:
            if v[0] not in names:
                names.append(v[0])
    w('enum {')
    for n in names:
        w(f'    FOP_{n.upper()},')
    w('};')
    w('static const char *const fop_names[] = {')
    for n in names:
        w(f'    "{n.replace("_", ".")}",')
    w('};')
    def fmt_entry(e):
        (n, rm, a, b, c, r, fl) = e
        return (f'    {{ FOP_{n.upper()}, {rm}, 0x{fl:02x}, 0x{a:x}ull, 0x{b:x}ull, '
                f'0x{c:x}ull, 0x{r:x}ull }},')
    # Entries valid for both XLENs go in one table, the rest per XLEN.
    in32 = set(per_xlen[32])
    common = [e for e in per_xlen[64] if e in in32]
    cset = set(common)
    w('static const struct fvec fvecs_common[] = {')
    for e in common:
        w(fmt_entry(e))
    w('};')
    for x in (64, 32):
        w(f'#if __riscv_xlen == {x}')
        w('static const struct fvec fvecs[] = {')
        for e in per_xlen[x]:
            if e not in cset:
                w(fmt_entry(e))
        w('};')
        w('#endif')
    # Dispatcher.
    w('/* Run one vector: in[0..2] = operands, returns the result (FP results')
    w(' * as the 64-bit register image), *fl = fflags after the op.  The')
    w(' * rounding mode comes from frm (dynamic). */')
    w('static u64 fop_run(int op, const u64 *in, unsigned *fl)')
    w('{')
    w('    u64 out = 0;')
    w('    ureg xr = 0, fflags = 0;')
    w('    switch (op) {')
    for n in names:
        sh = shape(n)
        mnem = n.replace('_', '.')
        only64 = n.startswith(('fcvt_l', 'fcvt_s_l', 'fcvt_d_l')) or n in ('fmv_x_d', 'fmv_d_x')
        if only64:
            w('#if __riscv_xlen == 64')
        w(f'    case FOP_{n.upper()}:')
        pre = 'fld f1, 0(%[in])\\n\\tfld f2, 8(%[in])\\n\\tfld f3, 16(%[in])\\n\\t' \
              'csrw fflags, zero\\n\\t'
        if sh == 'fff':
            body = f'{mnem} f0, f1, f2\\n\\tfsd f0, 0(%[out])'
        elif sh == 'ff':
            body = f'{mnem} f0, f1\\n\\tfsd f0, 0(%[out])'
        elif sh == 'ffff':
            body = f'{mnem} f0, f1, f2, f3\\n\\tfsd f0, 0(%[out])'
        elif sh == 'xf':
            body = f'{mnem} %[xr], f1'
        elif sh == 'xff':
            body = f'{mnem} %[xr], f1, f2'
        elif sh == 'fx':
            body = f'{mnem} f0, %[xi]\\n\\tfsd f0, 0(%[out])'
        w(f'        __asm__ volatile("{pre}{body}\\n\\tfrflags %[fl]"')
        w('                         : [xr] "=&r"(xr), [fl] "=&r"(fflags)')
        w('                         : [in] "r"(in), [out] "r"(&out), [xi] "r"((ureg)in[0])')
        w('                         : "f0", "f1", "f2", "f3", "memory");')
        if sh in ('xf', 'xff'):
            w('        out = xr;')
        w('        break;')
        if only64:
            w('#endif')
    w('    default:')
    w('        CHECK(!"unknown FP op");')
    w('    }')
    w('    *fl = (unsigned)fflags;')
    w('    return out;')
    w('}')
    return '\n'.join(out) + '\n'


if __name__ == '__main__':
    which = sys.argv[1] if len(sys.argv) > 1 else 's'
    sys.stdout.write(emit(S if which == 's' else D))
