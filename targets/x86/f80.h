/* Software x87 extended precision (80-bit) arithmetic, exact to the bit:
 * + - * / sqrt, remainders, scaling, rounding to integer, and the
 * conversions to and from the memory formats, with the x87 conventions:
 *
 *   - precision control rounds the significand to 24, 53 or 64 bits while
 *     the exponent keeps its 15-bit range; a denormalised result is rounded
 *     at the same fixed bit position of the significand;
 *   - tininess is detected after rounding (as every Intel FPU does);
 *   - masked underflow is signalled only when the tiny result is inexact;
 *     unmasked underflow/overflow deliver the result with the exponent
 *     biased by +-24576 (SDM vol. 1 4.9.1.4-5);
 *   - NaN propagation follows SDM vol. 1 table 4-7 (x87 column): a QNaN
 *     beats an SNaN, of two NaNs of one kind the larger significand wins
 *     (equal significands: the positive one), an SNaN is quieted;
 *   - pseudo-NaN, pseudo-infinity and unnormal operands are invalid
 *     (unsupported formats on the 387 and later); pseudo-denormals are
 *     accepted as denormals with exponent 1.
 *
 * Flags are collected in x87 status-word bit positions (F80_IE .. F80_PE)
 * plus F80_C1, the "rounded up" indication.  Only fpu.c, fpu_trans.c and
 * the unit tests include this header. */
#ifndef TANDEM_X86_F80_H
#define TANDEM_X86_F80_H

#include <stdbool.h>
#include <stdint.h>

typedef struct F80 {
    uint64_t mant;
    uint16_t sexp;
} F80;

enum {
    F80_IE = 0x01, F80_DE = 0x02, F80_ZE = 0x04, F80_OE = 0x08,
    F80_UE = 0x10, F80_PE = 0x20, F80_SF = 0x40, F80_C1 = 0x200,
};
enum { F80_RN = 0, F80_RD = 1, F80_RU = 2, F80_RZ = 3 };

/* Operand classes; F80_UNSUP = pseudo-NaN/pseudo-infinity/unnormal. */
enum { F80_ZERO, F80_DENORM, F80_NORMAL, F80_INF, F80_QNAN, F80_SNAN, F80_UNSUP };

typedef struct F80Ctx {
    unsigned prec;           /* significand bits: 24, 53 or 64 */
    unsigned rc;             /* F80_RN .. F80_RZ */
    unsigned mask;           /* FCW bits 0-5: masked exceptions */
    unsigned fl;             /* raised: F80_IE.. | F80_C1 */
} F80Ctx;

typedef unsigned __int128 f80_u128;

#define F80_BIAS 16383
#define F80_ADJ  24576       /* exponent bias adjust of unmasked O/U */

static const F80 f80_indefinite = { 0xc000000000000000ull, 0xffff };

static inline F80 f80_make(bool sign, unsigned exp, uint64_t mant)
{
    F80 r = { mant, (uint16_t)((sign ? 0x8000u : 0) | exp) };
    return r;
}
static inline bool f80_sign(F80 a) { return a.sexp >> 15; }
static inline unsigned f80_exp(F80 a) { return a.sexp & 0x7fff; }

static inline int f80_class(F80 a)
{
    unsigned e = f80_exp(a);
    bool j = a.mant >> 63;
    if (e == 0x7fff) {
        if (!j)
            return F80_UNSUP;
        if (!(a.mant << 1))
            return F80_INF;
        return (a.mant >> 62) & 1 ? F80_QNAN : F80_SNAN;
    }
    if (e == 0)
        return a.mant ? F80_DENORM : F80_ZERO;
    return j ? F80_NORMAL : F80_UNSUP;
}

static inline bool f80_is_nan(int c) { return c == F80_QNAN || c == F80_SNAN; }

/* Finite nonzero a as sig * 2^(*exp - BIAS - 63) with bit 63 of sig set
 * (*exp may go below 1 for denormals). */
static inline uint64_t f80_unpack(F80 a, int *exp)
{
    int e = (int)f80_exp(a);
    uint64_t m = a.mant;
    if (e == 0)
        e = 1;               /* denormal and pseudo-denormal */
    int lz = __builtin_clzll(m);
    *exp = e - lz;
    return m << lz;
}

static inline F80 f80_quiet(F80 a)
{
    a.mant |= 1ull << 62;
    return a;
}

/* Result of an operation with NaN operand(s) (x87 rules above). */
static inline F80 f80_nan2(F80Ctx *c, F80 a, int ca, F80 b, int cb)
{
    if (ca == F80_SNAN || cb == F80_SNAN)
        c->fl |= F80_IE;
    if (!f80_is_nan(cb))
        return f80_quiet(a);
    if (!f80_is_nan(ca))
        return f80_quiet(b);
    if (ca != cb)            /* one QNaN, one SNaN: the QNaN */
        return ca == F80_QNAN ? a : b;
    uint64_t ma = a.mant << 1, mb = b.mant << 1;
    if (ma != mb)
        return f80_quiet(ma > mb ? a : b);
    return f80_quiet(f80_sign(a) ? b : a);
}

static inline f80_u128 f80_shr_jam128(f80_u128 v, unsigned n)
{
    if (n == 0)
        return v;
    if (n >= 128)
        return v != 0;
    return (v >> n) | ((v << (128 - n)) != 0);
}

/* Round sig (64 bits) + ext (bits below) at bit k of sig (k = 64 - p).
 * Returns the rounded significand still aligned at bit 63 (or 0 with
 * *carry when it overflowed to 2^64), sets *inexact and *up. */
static inline uint64_t f80_rnd(unsigned rc, bool sign, uint64_t sig, uint64_t ext,
                               unsigned k, bool *inexact, bool *up, bool *carry)
{
    bool rbit, sticky;
    if (k == 0) {
        rbit = ext >> 63;
        sticky = (ext << 1) != 0;
    } else {
        rbit = (sig >> (k - 1)) & 1;
        sticky = (sig & ((1ull << (k - 1)) - 1)) || ext;
    }
    uint64_t s = k ? sig >> k : sig;
    bool inc;
    switch (rc) {
    case F80_RN: inc = rbit && (sticky || (s & 1)); break;
    case F80_RD: inc = sign && (rbit || sticky); break;
    case F80_RU: inc = !sign && (rbit || sticky); break;
    default: inc = false; break;
    }
    *inexact = rbit || sticky;
    *up = inc;
    s += inc;
    *carry = k ? (s >> (64 - k)) != 0 : (inc && s == 0);
    if (*carry)
        return 1ull << 63;
    return s << k;
}

/* Round sign * (sig + ext / 2^64) * 2^(exp - BIAS - 63) to the extended
 * format at precision prec, raising O/U/P and C1.  sig has bit 63 set. */
static inline F80 f80_round_pack_p(F80Ctx *c, unsigned prec, bool sign, int exp,
                                   uint64_t sig, uint64_t ext)
{
    unsigned k = 64 - prec;
    bool inexact, up, carry;
    uint64_t m = f80_rnd(c->rc, sign, sig, ext, k, &inexact, &up, &carry);
    int e = exp + carry;

    if (e < 1) {
        /* Tiny after rounding with an unbounded exponent. */
        if (!(c->mask & F80_UE)) {
            c->fl |= F80_UE | (inexact ? F80_PE : 0) | (up ? F80_C1 : 0);
            e += F80_ADJ;
            return f80_make(sign, e < 1 ? 0 : (unsigned)e, m);
        }
        f80_u128 v = f80_shr_jam128((f80_u128)sig << 64 | ext, (unsigned)(1 - exp));
        m = f80_rnd(c->rc, sign, (uint64_t)(v >> 64), (uint64_t)v, k, &inexact, &up,
                    &carry);
        if (inexact)
            c->fl |= F80_UE | F80_PE | (up ? F80_C1 : 0);
        /* Rounding up into the smallest normal gives exponent field 1. */
        return f80_make(sign, (carry || (m >> 63)) ? 1 : 0, m);
    }
    if (e >= 0x7fff) {
        if (!(c->mask & F80_OE)) {
            c->fl |= F80_OE | (inexact ? F80_PE : 0) | (up ? F80_C1 : 0);
            e -= F80_ADJ;
            return f80_make(sign, e >= 0x7fff ? 0x7ffe : (unsigned)e, m);
        }
        c->fl |= F80_OE | F80_PE;
        bool inf = c->rc == F80_RN || (c->rc == F80_RD && sign) ||
                   (c->rc == F80_RU && !sign);
        if (inf) {
            c->fl |= F80_C1;
            return f80_make(sign, 0x7fff, 1ull << 63);
        }
        return f80_make(sign, 0x7ffe, ~0ull << k);
    }
    if (inexact)
        c->fl |= F80_PE | (up ? F80_C1 : 0);
    return f80_make(sign, (unsigned)e, m);
}

static inline F80 f80_round_pack(F80Ctx *c, bool sign, int exp, uint64_t sig,
                                 uint64_t ext)
{
    return f80_round_pack_p(c, c->prec, sign, exp, sig, ext);
}

/* Normalise a nonzero 128-bit significand v (value v * 2^(exp - BIAS - 127))
 * and round. */
static inline F80 f80_norm_round(F80Ctx *c, unsigned prec, bool sign, int exp,
                                 f80_u128 v)
{
    uint64_t hi = (uint64_t)(v >> 64);
    int lz = hi ? __builtin_clzll(hi) : 64 + __builtin_clzll((uint64_t)v);
    v <<= lz;
    return f80_round_pack_p(c, prec, sign, exp - lz, (uint64_t)(v >> 64), (uint64_t)v);
}

/* Common screening of two operands: unsupported -> IE, NaNs, denormal
 * operands -> DE.  Returns true when *r is the final result. */
static inline bool f80_screen2(F80Ctx *c, F80 a, int ca, F80 b, int cb, F80 *r)
{
    if (ca == F80_UNSUP || cb == F80_UNSUP) {
        c->fl |= F80_IE;
        *r = f80_indefinite;
        return true;
    }
    if (f80_is_nan(ca) || f80_is_nan(cb)) {
        *r = f80_nan2(c, a, ca, b, cb);
        return true;
    }
    if (ca == F80_DENORM || cb == F80_DENORM) {
        c->fl |= F80_DE;
        if (!(c->mask & F80_DE)) {
            *r = f80_indefinite;     /* not delivered: the caller aborts */
            return true;
        }
    }
    return false;
}

static inline F80 f80_invalid(F80Ctx *c)
{
    c->fl |= F80_IE;
    return f80_indefinite;
}

static inline F80 f80_add(F80Ctx *c, F80 a, F80 b, bool negb)
{
    int ca = f80_class(a), cb = f80_class(b);
    F80 r;
    if (f80_screen2(c, a, ca, b, cb, &r))
        return r;
    bool sa = f80_sign(a), sb = f80_sign(b) ^ negb;
    if (ca == F80_INF || cb == F80_INF) {
        if (ca == F80_INF && cb == F80_INF && sa != sb)
            return f80_invalid(c);
        return f80_make(ca == F80_INF ? sa : sb, 0x7fff, 1ull << 63);
    }
    if (ca == F80_ZERO && cb == F80_ZERO)
        return f80_make(sa == sb ? sa : c->rc == F80_RD, 0, 0);
    if (cb == F80_ZERO) {
        int e;
        uint64_t s = f80_unpack(a, &e);
        return f80_round_pack(c, sa, e, s, 0);
    }
    if (ca == F80_ZERO) {
        int e;
        uint64_t s = f80_unpack(b, &e);
        return f80_round_pack(c, sb, e, s, 0);
    }
    int ea, eb;
    uint64_t ma = f80_unpack(a, &ea), mb = f80_unpack(b, &eb);
    if (ea < eb || (ea == eb && mb > ma)) {
        int te = ea; ea = eb; eb = te;
        uint64_t tm = ma; ma = mb; mb = tm;
        bool ts = sa; sa = sb; sb = ts;
    }
    /* |a| >= |b|; significands at bits 126..63, headroom for the carry. */
    f80_u128 va = (f80_u128)ma << 63;
    f80_u128 vb = f80_shr_jam128((f80_u128)mb << 63, (unsigned)(ea - eb));
    f80_u128 v;
    if (sa == sb) {
        v = va + vb;
    } else {
        v = va - vb;
        if (v == 0)
            return f80_make(c->rc == F80_RD, 0, 0);
    }
    return f80_norm_round(c, c->prec, sa, ea + 1, v);
}

static inline F80 f80_mul(F80Ctx *c, F80 a, F80 b)
{
    int ca = f80_class(a), cb = f80_class(b);
    F80 r;
    if (f80_screen2(c, a, ca, b, cb, &r))
        return r;
    bool s = f80_sign(a) ^ f80_sign(b);
    if (ca == F80_INF || cb == F80_INF) {
        if (ca == F80_ZERO || cb == F80_ZERO)
            return f80_invalid(c);
        return f80_make(s, 0x7fff, 1ull << 63);
    }
    if (ca == F80_ZERO || cb == F80_ZERO)
        return f80_make(s, 0, 0);
    int ea, eb;
    uint64_t ma = f80_unpack(a, &ea), mb = f80_unpack(b, &eb);
    return f80_norm_round(c, c->prec, s, ea + eb - F80_BIAS + 1, (f80_u128)ma * mb);
}

static inline F80 f80_div(F80Ctx *c, F80 a, F80 b)
{
    int ca = f80_class(a), cb = f80_class(b);
    bool s = f80_sign(a) ^ f80_sign(b);
    F80 r;
    /* A zero divisor takes precedence over a denormal dividend (ZE alone,
     * as the hardware reports it). */
    if (cb == F80_ZERO && ca == F80_DENORM) {
        c->fl |= F80_ZE;
        return f80_make(s, 0x7fff, 1ull << 63);
    }
    if (f80_screen2(c, a, ca, b, cb, &r))
        return r;
    if (ca == F80_INF) {
        if (cb == F80_INF)
            return f80_invalid(c);
        return f80_make(s, 0x7fff, 1ull << 63);
    }
    if (cb == F80_INF)
        return f80_make(s, 0, 0);
    if (cb == F80_ZERO) {
        if (ca == F80_ZERO)
            return f80_invalid(c);
        c->fl |= F80_ZE;
        return f80_make(s, 0x7fff, 1ull << 63);
    }
    if (ca == F80_ZERO)
        return f80_make(s, 0, 0);
    int ea, eb;
    uint64_t ma = f80_unpack(a, &ea), mb = f80_unpack(b, &eb);
    f80_u128 n = (f80_u128)ma << 64;
    f80_u128 q1 = n / mb;
    uint64_t r1 = (uint64_t)(n % mb);
    f80_u128 n2 = (f80_u128)r1 << 64;
    uint64_t q2 = (uint64_t)(n2 / mb);
    uint64_t r2 = (uint64_t)(n2 % mb);
    /* quotient = q1 * 2^64 + q2 (+ sticky r2), value * 2^(ea - eb - 128) */
    f80_u128 v;
    int e;
    if (q1 >> 64) {
        v = (q1 << 63) | (q2 >> 1) | ((q2 & 1) | (r2 != 0));
        e = ea - eb + F80_BIAS;
    } else {
        v = (q1 << 64) | q2 | (r2 != 0);
        e = ea - eb + F80_BIAS - 1;
    }
    return f80_norm_round(c, c->prec, s, e, v);
}

static inline F80 f80_sqrt(F80Ctx *c, F80 a)
{
    int ca = f80_class(a);
    if (ca == F80_UNSUP)
        return f80_invalid(c);
    if (f80_is_nan(ca))
        return f80_nan2(c, a, ca, a, ca);
    if (ca == F80_ZERO)
        return a;
    if (f80_sign(a))
        return f80_invalid(c);
    if (ca == F80_INF)
        return a;
    if (ca == F80_DENORM) {
        c->fl |= F80_DE;
        if (!(c->mask & F80_DE))
            return f80_indefinite;
    }
    int e;
    uint64_t m = f80_unpack(a, &e);
    int u = e - F80_BIAS;
    f80_u128 x = (f80_u128)m << ((u & 1) ? 64 : 63);
    int half = (u - (u & 1)) / 2;
    f80_u128 rem = 0;
    uint64_t root = 0;
    for (int i = 0; i < 64; i++) {
        rem = (rem << 2) | (uint64_t)(x >> 126);
        x <<= 2;
        f80_u128 t = ((f80_u128)root << 2) | 1;
        root <<= 1;
        if (rem >= t) {
            rem -= t;
            root |= 1;
        }
    }
    /* rem = X - root^2; the next root bit is 1 iff rem > root, and the
     * exact half never occurs. */
    uint64_t ext = (rem > root ? 1ull << 63 : 0) | (rem != 0);
    return f80_round_pack(c, false, half + F80_BIAS, root, ext);
}

/* ---- integers ---- */

static inline F80 f80_from_i64(int64_t v)
{
    if (v == 0)
        return f80_make(false, 0, 0);
    bool s = v < 0;
    uint64_t m = s ? 0 - (uint64_t)v : (uint64_t)v;
    int lz = __builtin_clzll(m);
    return f80_make(s, (unsigned)(F80_BIAS + 63 - lz), m << lz);
}

/* Round a finite value to an integer-valued F80 in mode rc (FRNDINT). */
static inline F80 f80_round_int(F80Ctx *c, F80 a, unsigned rc)
{
    int ca = f80_class(a);
    if (ca == F80_UNSUP)
        return f80_invalid(c);
    if (f80_is_nan(ca))
        return f80_nan2(c, a, ca, a, ca);
    if (ca == F80_ZERO || ca == F80_INF)
        return a;
    if (ca == F80_DENORM) {
        c->fl |= F80_DE;
        if (!(c->mask & F80_DE))
            return f80_indefinite;
    }
    int e;
    uint64_t m = f80_unpack(a, &e);
    int u = e - F80_BIAS;            /* value = m * 2^(u - 63) */
    if (u >= 63)
        return a;
    bool s = f80_sign(a), inexact, up, carry;
    uint64_t r;
    if (u < -1) {
        /* |a| < 0.5: the rounding bit is zero, all is sticky */
        f80_rnd(rc, s, 0, 1, 0, &inexact, &up, &carry);
        r = up;
    } else {
        unsigned k = (unsigned)(63 - u);     /* fraction bits, 1..64 */
        uint64_t ip = k == 64 ? 0 : m >> k;
        uint64_t frac = k == 64 ? m : m << (64 - k);
        /* ip < 2^63: no carry out */
        r = f80_rnd(rc, s, ip, frac, 0, &inexact, &up, &carry);
    }
    if (inexact)
        c->fl |= F80_PE | (up ? F80_C1 : 0);
    if (r == 0)
        return f80_make(s, 0, 0);
    int lz = __builtin_clzll(r);
    return f80_make(s, (unsigned)(F80_BIAS + 63 - lz), r << lz);
}

/* Convert to a signed integer of `bits` (16, 32, 64) in mode rc.  Invalid
 * (NaN, infinity, unsupported, out of range) raises IE and returns the
 * integer indefinite (the most negative value). */
static inline int64_t f80_to_int(F80Ctx *c, F80 a, unsigned bits, unsigned rc)
{
    int64_t indef = (int64_t)(~0ull << (bits - 1));
    int ca = f80_class(a);
    if (ca == F80_UNSUP || f80_is_nan(ca) || ca == F80_INF) {
        c->fl |= F80_IE;
        return indef;
    }
    if (ca == F80_ZERO)
        return 0;
    int e;
    uint64_t m = f80_unpack(a, &e);
    int u = e - F80_BIAS;
    bool s = f80_sign(a), inexact, up, carry;
    uint64_t r;
    if (u > 63) {
        c->fl |= F80_IE;
        return indef;
    }
    if (u == 63) {
        r = m;
        inexact = up = carry = false;
    } else if (u < -1) {
        f80_rnd(rc, s, 0, 1, 0, &inexact, &up, &carry);
        r = up;
    } else {
        unsigned k = (unsigned)(63 - u);
        uint64_t ip = k == 64 ? 0 : m >> k;
        uint64_t frac = k == 64 ? m : m << (64 - k);
        r = f80_rnd(rc, s, ip, frac, 0, &inexact, &up, &carry);
    }
    uint64_t lim = 1ull << (bits - 1);       /* |min| */
    if (carry || r > lim || (r == lim && !s)) {
        c->fl |= F80_IE;
        return indef;
    }
    if (inexact)
        c->fl |= F80_PE | (up ? F80_C1 : 0);
    return s ? (int64_t)(0 - r) : (int64_t)r;
}

/* ---- binary32 / binary64 ---- */

/* fb: fraction bits (23, 52), eb: exponent bits (8, 11). */
static inline F80 f80_from_ieee(F80Ctx *c, uint64_t v, unsigned fb, unsigned eb)
{
    unsigned emax = (1u << eb) - 1, bias = emax >> 1;
    bool s = (v >> (fb + eb)) & 1;
    unsigned e = (unsigned)(v >> fb) & emax;
    uint64_t f = v & ((1ull << fb) - 1);
    if (e == emax) {
        if (!f)
            return f80_make(s, 0x7fff, 1ull << 63);
        F80 r = f80_make(s, 0x7fff, 1ull << 63 | f << (63 - fb));
        if (!(f >> (fb - 1))) {
            c->fl |= F80_IE;
            r = f80_quiet(r);
        }
        return r;
    }
    if (e == 0) {
        if (!f)
            return f80_make(s, 0, 0);
        c->fl |= F80_DE;
        int lz = __builtin_clzll(f);
        /* value = f * 2^(1 - bias - fb) */
        int ex = 1 - (int)bias - (int)fb + 63 - lz + F80_BIAS;
        return f80_make(s, (unsigned)ex, f << lz);
    }
    return f80_make(s, e - bias + F80_BIAS, 1ull << 63 | f << (63 - fb));
}

static inline uint64_t f80_to_ieee(F80Ctx *c, F80 a, unsigned fb, unsigned eb)
{
    unsigned emax = (1u << eb) - 1;
    int bias = (int)(emax >> 1);
    uint64_t sbit = 1ull << (fb + eb);
    int ca = f80_class(a);
    bool s = f80_sign(a);
    uint64_t inf = (uint64_t)emax << fb;
    if (ca == F80_UNSUP) {
        c->fl |= F80_IE;
        return sbit | inf | 1ull << (fb - 1);
    }
    if (f80_is_nan(ca)) {
        if (ca == F80_SNAN)
            c->fl |= F80_IE;
        return (s ? sbit : 0) | inf | 1ull << (fb - 1) |
               ((a.mant << 1) >> (64 - fb));
    }
    if (ca == F80_INF)
        return (s ? sbit : 0) | inf;
    if (ca == F80_ZERO)
        return s ? sbit : 0;
    int e;
    uint64_t m = f80_unpack(a, &e);
    int x = e - F80_BIAS + bias;             /* target biased exponent */
    unsigned k = 63 - fb;
    bool inexact, up, carry;
    uint64_t r = f80_rnd(c->rc, s, m, 0, k, &inexact, &up, &carry);
    int xr = x + carry;
    uint64_t out;
    if (xr < 1) {
        if (!(c->mask & F80_UE)) {
            c->fl |= F80_UE | (inexact ? F80_PE : 0);
            return 0;                /* not stored: the caller aborts */
        }
        f80_u128 v = f80_shr_jam128((f80_u128)m << 64, (unsigned)(1 - x));
        r = f80_rnd(c->rc, s, (uint64_t)(v >> 64), (uint64_t)v, k, &inexact, &up,
                    &carry);
        if (inexact)
            c->fl |= F80_UE | F80_PE | (up ? F80_C1 : 0);
        /* r >> k is the fraction; its bit fb (the integer bit) set means
         * the result rounded up to the smallest normal: exponent 1. */
        out = carry ? 1ull << fb : r >> k;
    } else if (xr >= (int)emax) {
        c->fl |= F80_OE;
        if (!(c->mask & F80_OE))
            return 0;
        c->fl |= F80_PE;
        bool toinf = c->rc == F80_RN || (c->rc == F80_RD && s) ||
                     (c->rc == F80_RU && !s);
        if (toinf)
            c->fl |= F80_C1;
        out = toinf ? inf : inf - 1;
    } else {
        if (inexact)
            c->fl |= F80_PE | (up ? F80_C1 : 0);
        out = (uint64_t)xr << fb | ((r << 1) >> (64 - fb));
    }
    return (s ? sbit : 0) | out;
}

/* ---- comparison ---- */

enum { F80_LT, F80_EQ, F80_GT, F80_UN };

/* quiet: FUCOM (only SNaN is invalid) versus FCOM (any NaN). */
static inline int f80_compare(F80Ctx *c, F80 a, F80 b, bool quiet)
{
    int ca = f80_class(a), cb = f80_class(b);
    if (ca == F80_UNSUP || cb == F80_UNSUP) {
        c->fl |= F80_IE;
        return F80_UN;
    }
    if (f80_is_nan(ca) || f80_is_nan(cb)) {
        if (!quiet || ca == F80_SNAN || cb == F80_SNAN)
            c->fl |= F80_IE;
        return F80_UN;
    }
    if (ca == F80_DENORM || cb == F80_DENORM)
        c->fl |= F80_DE;
    if (ca == F80_ZERO && cb == F80_ZERO)
        return F80_EQ;
    bool sa = f80_sign(a), sb = f80_sign(b);
    if (ca == F80_ZERO)
        return sb ? F80_GT : F80_LT;
    if (cb == F80_ZERO)
        return sa ? F80_LT : F80_GT;
    if (sa != sb)
        return sa ? F80_LT : F80_GT;
    int ea = 0, eb = 0;
    uint64_t ma = 0, mb = 0;
    if (ca == F80_INF)
        ea = 0x10000;
    else
        ma = f80_unpack(a, &ea);
    if (cb == F80_INF)
        eb = 0x10000;
    else
        mb = f80_unpack(b, &eb);
    int mag = ea != eb ? (ea < eb ? -1 : 1) : ma != mb ? (ma < mb ? -1 : 1) : 0;
    if (mag == 0)
        return F80_EQ;
    return (mag < 0) != sa ? F80_LT : F80_GT;
}

/* ---- remainder, scale ---- */

/* FPREM (near = false) / FPREM1 (near = true) of finite nonzero a by finite
 * nonzero b.  *q gets the low quotient bits, *partial whether the
 * reduction is incomplete (exponent difference >= 64). */
static inline F80 f80_rem(F80Ctx *c, F80 a, F80 b, bool near, uint64_t *q,
                          bool *partial)
{
    int ea, eb;
    uint64_t ma = f80_unpack(a, &ea), mb = f80_unpack(b, &eb);
    bool s = f80_sign(a);
    int d = ea - eb;
    *q = 0;
    *partial = false;
    if (d >= 64) {
        /* Partial: reduce the exponent by N = 32..63 (AMD's documented
         * choice, which Intel parts follow), truncating quotient. */
        int n = 32 + ((d - 32) & 31);
        eb += d - n;
        d = n;
        near = false;
        *partial = true;
    }
    f80_u128 rem = ma;
    uint64_t qq = 0;
    int er = eb;                      /* rem's exponent scale: value rem*2^(er-B-63) */
    if (d < 0) {
        er = ea;
        if (near && d == -1 && ma > mb) {
            /* |a| in (|b|/2, |b|): the quotient rounds to 1 */
            rem = ((f80_u128)mb << 1) - ma;
            s = !s;
            qq = 1;
        }
    } else {
        for (int i = 0; i <= d; i++) {
            qq <<= 1;
            if (rem >= mb) {
                rem -= mb;
                qq |= 1;
            }
            if (i < d)
                rem <<= 1;
        }
        if (near) {
            f80_u128 twice = rem << 1;
            if (twice > mb || (twice == mb && (qq & 1))) {
                rem = mb - rem;
                s = !s;
                qq++;
            }
        }
    }
    *q = qq;
    if (rem == 0)
        return f80_make(f80_sign(a), 0, 0);
    return f80_norm_round(c, 64, s, er + 64, rem);
}

/* a * 2^n for finite nonzero a (FSCALE), rounded to 64 bits. */
static inline F80 f80_scale(F80Ctx *c, F80 a, int n)
{
    int e;
    uint64_t m = f80_unpack(a, &e);
    return f80_round_pack_p(c, 64, f80_sign(a), e + n, m, 0);
}

/* FPREM/FPREM1 with the special cases (SDM tables 3-30/3-31). */
static inline F80 f80_prem(F80Ctx *c, F80 a, F80 b, bool near, uint64_t *q,
                           bool *partial)
{
    int ca = f80_class(a), cb = f80_class(b);
    F80 r;
    *q = 0;
    *partial = false;
    if (ca == F80_UNSUP || cb == F80_UNSUP)
        return f80_invalid(c);
    if (f80_is_nan(ca) || f80_is_nan(cb))
        return f80_nan2(c, a, ca, b, cb);
    if (ca == F80_INF || cb == F80_ZERO)
        return f80_invalid(c);
    if (f80_screen2(c, a, ca, b, cb, &r))
        return r;
    if (ca == F80_ZERO || cb == F80_INF) {
        if (ca == F80_DENORM) {
            int e;
            uint64_t m = f80_unpack(a, &e);
            return f80_round_pack_p(c, 64, f80_sign(a), e, m, 0);
        }
        return a;
    }
    return f80_rem(c, a, b, near, q, partial);
}

/* FSCALE: a * 2^trunc(b), with the special cases (SDM table 3-47). */
static inline F80 f80_fscale(F80Ctx *c, F80 a, F80 b)
{
    int ca = f80_class(a), cb = f80_class(b);
    F80 r;
    if (f80_screen2(c, a, ca, b, cb, &r))
        return r;
    bool sa = f80_sign(a), sb = f80_sign(b);
    if (cb == F80_INF) {
        if ((ca == F80_INF && sb) || (ca == F80_ZERO && !sb))
            return f80_invalid(c);
        if (ca == F80_INF || ca == F80_ZERO)
            return a;
        return sb ? f80_make(sa, 0, 0) : f80_make(sa, 0x7fff, 1ull << 63);
    }
    if (ca == F80_INF || ca == F80_ZERO)
        return a;
    int n = 0;
    if (cb != F80_ZERO) {
        int eb;
        uint64_t mb = f80_unpack(b, &eb);
        int u = eb - F80_BIAS;
        if (u >= 30)
            n = 1 << 30;         /* far beyond the exponent range */
        else if (u >= 0)
            n = (int)(mb >> (63 - u));
        n = sb ? -n : n;
    }
    return f80_scale(c, a, n);
}

#endif
