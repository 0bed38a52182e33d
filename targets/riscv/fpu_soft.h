/* Software IEEE 754 binary32/binary64 arithmetic with RISC-V conventions:
 * every NaN result is the canonical quiet NaN, tininess is detected after
 * rounding, and all five rounding modes (RMM included) are exact.
 *
 * fpu.c uses it where the host FPU cannot help (RMM, hosts other than
 * x86-64, hosts without FMA) and for the operations that are cheaper on the
 * bits anyway (conversions to integers, compares, min/max, classify).  It
 * is self-contained so that the unit tests can check the host fast path
 * against it.
 *
 * Values travel as raw bit patterns in uint64_t (binary32 in the low 32
 * bits).  Functions that can raise exceptions OR RISC-V fflags bits into
 * *fl. */
#ifndef TANDEM_RISCV_FPU_SOFT_H
#define TANDEM_RISCV_FPU_SOFT_H

#include <stdbool.h>
#include <stdint.h>

enum { FPU_S = 0, FPU_D = 1 };                          /* formats */
enum { FPU_RNE, FPU_RTZ, FPU_RDN, FPU_RUP, FPU_RMM };   /* rm encodings */
enum { FPU_NX = 1, FPU_UF = 2, FPU_OF = 4, FPU_DZ = 8, FPU_NV = 16 };

typedef unsigned __int128 fpu_u128;

static inline int fpu_mant_bits(int f) { return f == FPU_S ? 23 : 52; }
static inline int fpu_bias(int f) { return f == FPU_S ? 127 : 1023; }
static inline uint64_t fpu_exp_max(int f) { return f == FPU_S ? 0xff : 0x7ff; }
static inline uint64_t fpu_sign_mask(int f)
{
    return f == FPU_S ? 0x80000000u : 0x8000000000000000ull;
}
static inline uint64_t fpu_inf(int f, bool sign)
{
    return (fpu_exp_max(f) << fpu_mant_bits(f)) | (sign ? fpu_sign_mask(f) : 0);
}
static inline uint64_t fpu_zero(int f, bool sign)
{
    return sign ? fpu_sign_mask(f) : 0;
}
static inline uint64_t fpu_default_nan(int f)
{
    return f == FPU_S ? 0x7fc00000u : 0x7ff8000000000000ull;
}
static inline bool fpu_sign(int f, uint64_t a)
{
    return (a & fpu_sign_mask(f)) != 0;
}
static inline uint64_t fpu_abs(int f, uint64_t a)
{
    return a & (fpu_sign_mask(f) - 1);
}
static inline bool fpu_is_nan(int f, uint64_t a)
{
    return fpu_abs(f, a) > fpu_inf(f, false);
}
static inline bool fpu_is_snan(int f, uint64_t a)
{
    return fpu_is_nan(f, a) && !(a & (1ull << (fpu_mant_bits(f) - 1)));
}
static inline bool fpu_is_inf(int f, uint64_t a)
{
    return fpu_abs(f, a) == fpu_inf(f, false);
}
static inline bool fpu_is_zero(int f, uint64_t a)
{
    return fpu_abs(f, a) == 0;
}

/* Finite nonzero a as sig * 2^(exp - 63) with bit 63 of sig set. */
static inline void fpu_unpack(int f, uint64_t a, int *exp, uint64_t *sig)
{
    int mb = fpu_mant_bits(f);
    int e = (int)(fpu_abs(f, a) >> mb);
    uint64_t m = a & ((1ull << mb) - 1);

    if (e == 0) {
        int lz = __builtin_clzll(m);
        *sig = m << lz;
        *exp = 1 - fpu_bias(f) - mb + (63 - lz);
    } else {
        *sig = (m | (1ull << mb)) << (63 - mb);
        *exp = e - fpu_bias(f);
    }
}

static inline uint64_t fpu_shr_jam(uint64_t x, int d)
{
    if (d == 0) {
        return x;
    }
    if (d >= 64) {
        return x != 0;
    }
    return (x >> d) | ((x << (64 - d)) != 0);
}

static inline fpu_u128 fpu_shr_jam128(fpu_u128 x, int d)
{
    if (d == 0) {
        return x;
    }
    if (d >= 128) {
        return x != 0;
    }
    return (x >> d) | ((x << (128 - d)) != 0);
}

/* sig / 2^shift (shift >= 1) rounded to an integer by rm for a value of the
 * given sign.  The low bits of sig may hold a sticky bit. */
static inline uint64_t fpu_round_shift(uint64_t sig, int shift, bool sign,
                                       int rm, bool *inexact)
{
    uint64_t kept, rest;            /* rest: the fraction, left-aligned */
    const uint64_t half = 1ull << 63;

    if (shift < 64) {
        kept = sig >> shift;
        rest = sig << (64 - shift);
    } else if (shift == 64) {
        kept = 0;
        rest = sig;
    } else {
        kept = 0;
        rest = sig != 0;            /* nonzero, below one half */
    }
    *inexact = rest != 0;
    switch (rm) {
    case FPU_RNE:
        return kept + (rest > half || (rest == half && (kept & 1)));
    case FPU_RMM:
        return kept + (rest >= half);
    case FPU_RDN:
        return kept + (sign && rest);
    case FPU_RUP:
        return kept + (!sign && rest);
    default:
        return kept;
    }
}

static inline uint64_t fpu_overflow(int f, bool sign, int rm, uint32_t *fl)
{
    *fl |= FPU_OF | FPU_NX;
    bool to_inf = rm == FPU_RNE || rm == FPU_RMM ||
                  (rm == FPU_RDN && sign) || (rm == FPU_RUP && !sign);
    return to_inf ? fpu_inf(f, sign) : fpu_inf(f, sign) - 1;
}

/* Round sign * sig * 2^(exp - 63) (bit 63 of sig set, sticky in bit 0) to
 * format f. */
static inline uint64_t fpu_round_pack(int f, bool sign, int exp, uint64_t sig,
                                      int rm, uint32_t *fl)
{
    const int mb = fpu_mant_bits(f);
    const int emin = 1 - fpu_bias(f);
    int shift = 63 - mb;
    bool tiny = false, inexact;

    if (exp > fpu_bias(f)) {
        return fpu_overflow(f, sign, rm, fl);
    }
    if (exp < emin) {
        /* Tiny after rounding: still below 2^emin once rounded to full
         * precision with an unbounded exponent. */
        tiny = exp < emin - 1 ||
               fpu_round_shift(sig, shift, sign, rm, &inexact) >> (mb + 1) == 0;
        shift += emin - exp;
    }
    uint64_t r = fpu_round_shift(sig, shift, sign, rm, &inexact);
    /* The exponent field is added below the significand so that a carry out
     * of rounding moves into it (subnormal -> normal, binade up). */
    uint64_t bits = (exp < emin ? 0 : (uint64_t)(exp + fpu_bias(f) - 1) << mb) + r;
    if (bits >> mb >= fpu_exp_max(f)) {
        return fpu_overflow(f, sign, rm, fl);
    }
    if (inexact) {
        *fl |= FPU_NX | (tiny ? FPU_UF : 0);
    }
    return bits | (sign ? fpu_sign_mask(f) : 0);
}

static inline uint64_t fpu_nan_result(int f, uint64_t a, uint64_t b, uint32_t *fl)
{
    if (fpu_is_snan(f, a) || fpu_is_snan(f, b)) {
        *fl |= FPU_NV;
    }
    return fpu_default_nan(f);
}

static inline uint64_t fpu_invalid(int f, uint32_t *fl)
{
    *fl |= FPU_NV;
    return fpu_default_nan(f);
}

/* ---- arithmetic ---- */

static uint64_t fpu_soft_add(int f, uint64_t a, uint64_t b, int rm, uint32_t *fl)
{
    bool sa = fpu_sign(f, a), sb = fpu_sign(f, b);

    if (fpu_is_nan(f, a) || fpu_is_nan(f, b)) {
        return fpu_nan_result(f, a, b, fl);
    }
    if (fpu_is_inf(f, a)) {
        return fpu_is_inf(f, b) && sa != sb ? fpu_invalid(f, fl) : a;
    }
    if (fpu_is_inf(f, b)) {
        return b;
    }
    if (fpu_is_zero(f, a)) {
        if (fpu_is_zero(f, b)) {
            return sa == sb ? a : fpu_zero(f, rm == FPU_RDN);
        }
        return b;
    }
    if (fpu_is_zero(f, b)) {
        return a;
    }

    int ea, eb;
    uint64_t ma, mb;
    fpu_unpack(f, a, &ea, &ma);
    fpu_unpack(f, b, &eb, &mb);
    /* Leading bit at 62 leaves room for the carry; the significands have at
     * most 53 bits, so this loses nothing. */
    ma >>= 1;
    mb >>= 1;
    if (ea < eb || (ea == eb && ma < mb)) {
        int te = ea; ea = eb; eb = te;
        uint64_t tm = ma; ma = mb; mb = tm;
        bool ts = sa; sa = sb; sb = ts;
    }
    mb = fpu_shr_jam(mb, ea - eb > 64 ? 64 : ea - eb);
    uint64_t m = sa == sb ? ma + mb : ma - mb;
    if (m == 0) {
        return fpu_zero(f, rm == FPU_RDN);
    }
    int lz = __builtin_clzll(m);
    return fpu_round_pack(f, sa, ea + 1 - lz, m << lz, rm, fl);
}

static uint64_t fpu_soft_mul(int f, uint64_t a, uint64_t b, int rm, uint32_t *fl)
{
    bool s = fpu_sign(f, a) != fpu_sign(f, b);

    if (fpu_is_nan(f, a) || fpu_is_nan(f, b)) {
        return fpu_nan_result(f, a, b, fl);
    }
    if (fpu_is_inf(f, a) || fpu_is_inf(f, b)) {
        if (fpu_is_zero(f, a) || fpu_is_zero(f, b)) {
            return fpu_invalid(f, fl);
        }
        return fpu_inf(f, s);
    }
    if (fpu_is_zero(f, a) || fpu_is_zero(f, b)) {
        return fpu_zero(f, s);
    }

    int ea, eb;
    uint64_t ma, mb;
    fpu_unpack(f, a, &ea, &ma);
    fpu_unpack(f, b, &eb, &mb);
    fpu_u128 p = (fpu_u128)ma * mb;         /* in [2^126, 2^128) */
    int e = ea + eb;
    if (p >> 127) {
        e++;
    } else {
        p <<= 1;
    }
    uint64_t sig = (uint64_t)(p >> 64) | ((uint64_t)p != 0);
    return fpu_round_pack(f, s, e, sig, rm, fl);
}

static uint64_t fpu_soft_div(int f, uint64_t a, uint64_t b, int rm, uint32_t *fl)
{
    bool s = fpu_sign(f, a) != fpu_sign(f, b);

    if (fpu_is_nan(f, a) || fpu_is_nan(f, b)) {
        return fpu_nan_result(f, a, b, fl);
    }
    if (fpu_is_inf(f, a)) {
        return fpu_is_inf(f, b) ? fpu_invalid(f, fl) : fpu_inf(f, s);
    }
    if (fpu_is_inf(f, b)) {
        return fpu_zero(f, s);
    }
    if (fpu_is_zero(f, b)) {
        if (fpu_is_zero(f, a)) {
            return fpu_invalid(f, fl);
        }
        *fl |= FPU_DZ;
        return fpu_inf(f, s);
    }
    if (fpu_is_zero(f, a)) {
        return fpu_zero(f, s);
    }

    int ea, eb;
    uint64_t ma, mb;
    fpu_unpack(f, a, &ea, &ma);
    fpu_unpack(f, b, &eb, &mb);
    int e = ea - eb;
    fpu_u128 n;
    if (ma >= mb) {
        n = (fpu_u128)ma << 63;
    } else {
        n = (fpu_u128)ma << 64;
        e--;
    }
    uint64_t q = (uint64_t)(n / mb);        /* in [2^63, 2^64) */
    q |= (uint64_t)(n % mb) != 0;
    return fpu_round_pack(f, s, e, q, rm, fl);
}

static uint64_t fpu_soft_sqrt(int f, uint64_t a, int rm, uint32_t *fl)
{
    if (fpu_is_nan(f, a)) {
        return fpu_nan_result(f, a, a, fl);
    }
    if (fpu_is_zero(f, a)) {
        return a;
    }
    if (fpu_sign(f, a)) {
        return fpu_invalid(f, fl);
    }
    if (fpu_is_inf(f, a)) {
        return a;
    }

    int ea;
    uint64_t ma;
    fpu_unpack(f, a, &ea, &ma);
    /* n in [2^126, 2^128) with an even power of two left over, so that its
     * integer square root has exactly 64 bits. */
    fpu_u128 n;
    int e;
    if (ea & 1) {
        n = (fpu_u128)ma << 64;
        e = (ea - 1) / 2;
    } else {
        n = (fpu_u128)ma << 63;
        e = ea / 2;
    }
    fpu_u128 root = 0, bit = (fpu_u128)1 << 126;
    while (bit) {
        if (n >= root + bit) {
            n -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    uint64_t sig = (uint64_t)root | (n != 0);
    return fpu_round_pack(f, false, e, sig, rm, fl);
}

/* a * b + c with one rounding.  RISC-V: 0 * inf raises NV even when c is a
 * quiet NaN. */
static uint64_t fpu_soft_fma(int f, uint64_t a, uint64_t b, uint64_t c, int rm,
                             uint32_t *fl)
{
    bool sp = fpu_sign(f, a) != fpu_sign(f, b), sc = fpu_sign(f, c);
    bool prod_inf = fpu_is_inf(f, a) || fpu_is_inf(f, b);
    bool prod_zero = fpu_is_zero(f, a) || fpu_is_zero(f, b);

    if (fpu_is_nan(f, a) || fpu_is_nan(f, b) || fpu_is_nan(f, c)) {
        if (prod_inf && prod_zero) {
            *fl |= FPU_NV;
        }
        fpu_nan_result(f, a, b, fl);
        return fpu_nan_result(f, c, c, fl);
    }
    if (prod_inf) {
        if (prod_zero || (fpu_is_inf(f, c) && sc != sp)) {
            return fpu_invalid(f, fl);
        }
        return fpu_inf(f, sp);
    }
    if (fpu_is_inf(f, c)) {
        return c;
    }
    if (prod_zero) {
        if (fpu_is_zero(f, c)) {
            return sp == sc ? c : fpu_zero(f, rm == FPU_RDN);
        }
        return c;
    }

    int ea, eb, ec;
    uint64_t ma, mb, mc;
    fpu_unpack(f, a, &ea, &ma);
    fpu_unpack(f, b, &eb, &mb);
    fpu_u128 p = (fpu_u128)ma * mb;
    int ep = ea + eb;
    /* Product with its leading bit at 125 (its low 22+ bits are zero, so the
     * shift is exact). */
    if (p >> 127) {
        p >>= 2;
        ep++;
    } else {
        p >>= 1;
    }
    if (fpu_is_zero(f, c)) {
        return fpu_round_pack(f, sp, ep, (uint64_t)fpu_shr_jam128(p, 62), rm, fl);
    }
    fpu_unpack(f, c, &ec, &mc);
    fpu_u128 q = (fpu_u128)mc << 62;        /* leading bit at 125 too */

    fpu_u128 big = p, small = q;
    int ebig = ep, esmall = ec;
    bool sbig = sp, ssmall = sc;
    if (ec > ep || (ec == ep && q > p)) {
        big = q; small = p;
        ebig = ec; esmall = ep;
        sbig = sc; ssmall = sp;
    }
    int d = ebig - esmall;
    small = fpu_shr_jam128(small, d > 128 ? 128 : d);
    fpu_u128 m = sbig == ssmall ? big + small : big - small;
    if (m == 0) {
        return fpu_zero(f, rm == FPU_RDN);
    }
    uint64_t hi = (uint64_t)(m >> 64);
    int lead = hi ? 127 - __builtin_clzll(hi) : 63 - __builtin_clzll((uint64_t)m);
    uint64_t sig;
    if (lead >= 63) {
        sig = (uint64_t)fpu_shr_jam128(m, lead - 63);
    } else {
        sig = (uint64_t)m << (63 - lead);
    }
    return fpu_round_pack(f, sbig, ebig + lead - 125, sig, rm, fl);
}

/* ---- conversions ---- */

/* Between formats (to == from copies, canonicalising NaN). */
static uint64_t fpu_soft_cvt(int to, int from, uint64_t a, int rm, uint32_t *fl)
{
    bool s = fpu_sign(from, a);

    if (fpu_is_nan(from, a)) {
        if (fpu_is_snan(from, a)) {
            *fl |= FPU_NV;
        }
        return fpu_default_nan(to);
    }
    if (fpu_is_inf(from, a)) {
        return fpu_inf(to, s);
    }
    if (fpu_is_zero(from, a)) {
        return fpu_zero(to, s);
    }
    int e;
    uint64_t m;
    fpu_unpack(from, a, &e, &m);
    return fpu_round_pack(to, s, e, m, rm, fl);
}

/* Integer (sign, magnitude) to format f. */
static uint64_t fpu_soft_from_int(int f, bool neg, uint64_t mag, int rm, uint32_t *fl)
{
    if (mag == 0) {
        return 0;
    }
    int lz = __builtin_clzll(mag);
    return fpu_round_pack(f, neg, 63 - lz, mag << lz, rm, fl);
}

/* To a width-bit (32 or 64) integer, saturating with NV as the RISC-V spec's
 * table says; out-of-range results raise NV only (not NX).  32-bit results
 * come back sign-extended to 64 bits (the FCVT.W[U] register format). */
static uint64_t fpu_soft_to_int(int f, uint64_t a, int rm, bool is_signed,
                                int width, uint32_t *fl)
{
    const uint64_t umax = width == 64 ? ~0ull : (1ull << width) - 1;
    const uint64_t smax = umax >> 1;
    bool neg = fpu_sign(f, a);
    uint64_t mag = 0, res;
    bool inexact = false, range = true;

    if (fpu_is_nan(f, a)) {
        neg = false;
        range = false;
    } else if (fpu_is_inf(f, a)) {
        range = false;
    } else if (!fpu_is_zero(f, a)) {
        int e;
        uint64_t m;
        fpu_unpack(f, a, &e, &m);
        if (e >= 64) {
            range = false;
        } else if (e == 63) {
            mag = m;
        } else {
            mag = fpu_round_shift(m, 63 - e, neg, rm, &inexact);
        }
        if (range) {
            if (is_signed) {
                range = mag <= smax + neg;
            } else {
                range = neg ? mag == 0 : mag <= umax;
            }
        }
    }
    if (!range) {
        *fl |= FPU_NV;
        if (is_signed) {
            res = neg ? ~smax : smax;
        } else {
            res = neg ? 0 : umax;
        }
    } else {
        res = neg ? -mag : mag;
        if (inexact) {
            *fl |= FPU_NX;
        }
    }
    return width == 32 ? (uint64_t)(int64_t)(int32_t)res : res;
}

/* ---- compares, min/max, classify ---- */

/* Total order of non-NaN values as an integer, -0 just below +0. */
static inline int64_t fpu_order_key(int f, uint64_t a)
{
    int64_t mag = (int64_t)fpu_abs(f, a);
    return fpu_sign(f, a) ? -mag - 1 : mag;
}

static inline bool fpu_soft_eq(int f, uint64_t a, uint64_t b, uint32_t *fl)
{
    if (fpu_is_nan(f, a) || fpu_is_nan(f, b)) {
        fpu_nan_result(f, a, b, fl);
        return false;
    }
    return a == b || (fpu_is_zero(f, a) && fpu_is_zero(f, b));
}

/* FLT (or_equal false) and FLE: signaling, NV on any NaN. */
static inline bool fpu_soft_lt(int f, uint64_t a, uint64_t b, bool or_equal,
                               uint32_t *fl)
{
    if (fpu_is_nan(f, a) || fpu_is_nan(f, b)) {
        *fl |= FPU_NV;
        return false;
    }
    if (fpu_is_zero(f, a) && fpu_is_zero(f, b)) {
        return or_equal;
    }
    int64_t ka = fpu_order_key(f, a), kb = fpu_order_key(f, b);
    return or_equal ? ka <= kb : ka < kb;
}

/* IEEE 754-2019 minimumNumber / maximumNumber. */
static inline uint64_t fpu_soft_minmax(int f, uint64_t a, uint64_t b, bool is_max,
                                       uint32_t *fl)
{
    bool na = fpu_is_nan(f, a), nb = fpu_is_nan(f, b);

    if (na || nb) {
        fpu_nan_result(f, a, b, fl);
        if (na && nb) {
            return fpu_default_nan(f);
        }
        return na ? b : a;
    }
    int64_t ka = fpu_order_key(f, a), kb = fpu_order_key(f, b);
    if (is_max) {
        return ka >= kb ? a : b;
    }
    return ka <= kb ? a : b;
}

/* FCLASS: one bit of ten. */
static inline uint64_t fpu_soft_class(int f, uint64_t a)
{
    bool s = fpu_sign(f, a);
    uint64_t mag = fpu_abs(f, a);

    if (fpu_is_nan(f, a)) {
        return fpu_is_snan(f, a) ? 1u << 8 : 1u << 9;
    }
    if (mag == fpu_inf(f, false)) {
        return s ? 1u << 0 : 1u << 7;
    }
    if (mag == 0) {
        return s ? 1u << 3 : 1u << 4;
    }
    if (mag >> fpu_mant_bits(f) == 0) {
        return s ? 1u << 2 : 1u << 5;
    }
    return s ? 1u << 1 : 1u << 6;
}

#endif
