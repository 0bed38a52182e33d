/* The x87 transcendental instructions (F2XM1 FYL2X FYL2XP1 FPTAN FPATAN
 * FSIN FCOS FSINCOS) in integer arithmetic, so that a guest sees the same
 * bits on every host: record on one machine, replay on another.
 *
 * Values are carried as XF: a sign, an unbounded exponent and a 128-bit
 * significand.  Every XF operation rounds to odd (it truncates and sets the
 * last bit when anything was lost), so the final rounding to 64 bits in
 * f80_round_pack_p() sees the direction of what was lost and a result is
 * the correctly rounded value of the function unless the exact value lies
 * within about 2^-120 of a rounding boundary.  The functions are Taylor
 * series after an argument reduction; their error is below 2^-125.
 *
 * What the x87 computes is not quite the textbook function: FSIN, FCOS,
 * FSINCOS and FPTAN reduce the argument modulo pi/2 using pi rounded down
 * to 66 bits (SDM vol. 1, 8.3.8), exactly, so near multiples of pi/2 and
 * for large arguments they differ from sin/cos/tan.  FPATAN's quadrant
 * offsets use the same constant.  Both are reproduced here.
 *
 * The flags follow f80.h: PE for every inexact result (and only then), C1
 * when the result was rounded away from zero, UE/OE as for arithmetic
 * (masked underflow only when tiny and inexact; unmasked ones deliver the
 * result with the exponent adjusted by 24576). */
#include "targets/x86/fpu_trans.h"

typedef f80_u128 u128;

/* (-1)^s * m * 2^(e - 127); m is 0 (the value zero) or has bit 127 set. */
typedef struct XF {
    u128 m;
    int e;
    bool s;
} XF;

#define U128(hi, lo) ((u128)(hi) << 64 | (lo))
#define XF_C(hi, lo, e) { U128(hi, lo), e, false }

static const XF xf_one = XF_C(0x8000000000000000ull, 0, 0);
static const XF xf_ln2 = XF_C(0xb17217f7d1cf79abull, 0xc9e3b39803f2f6afull, -1);
static const XF xf_2_ln2 = XF_C(0xb8aa3b295c17f0bbull, 0xbe87fed0691d3e89ull, 1);

/* The x87's pi: pi rounded down to 66 bits, 0x3.243F6A8885A308D3p0. */
static const u128 pi66_mant = U128(3, 0x243f6a8885a308d3ull);   /* * 2^-64 */
static const XF xf_pi66 = XF_C(0xc90fdaa22168c234ull, 0xc000000000000000ull, 1);

/* atan(j / 8), j = 1..8, rounded to 128 bits (computed with mpmath). */
static const XF atan_tab[8] = {
    XF_C(0xfeadd4d5617b6e32ull, 0xc897989f3e888ef8ull, -4),
    XF_C(0xfadbafc96406eb15ull, 0x6dc79ef5f7a217e6ull, -3),
    XF_C(0xb7b0ca0f26f78473ull, 0x8aa32122dcfe4483ull, -2),
    XF_C(0xed63382b0dda7b45ull, 0x6fe445ecbc3a8d03ull, -2),
    XF_C(0x8f005d5ef7f59f9bull, 0x5c835e1665c43748ull, -1),
    XF_C(0xa4bc7d1934f70924ull, 0x19a87f2a457dac9full, -1),
    XF_C(0xb8053e2bc2319e73ull, 0xcb2da55210a4443dull, -1),
    XF_C(0xc90fdaa22168c234ull, 0xc4c6628b80dc1cd1ull, -1),
};

/* ---- XF arithmetic ---- */

static inline int clz128(u128 v)
{
    uint64_t hi = (uint64_t)(v >> 64);
    return hi ? __builtin_clzll(hi) : 64 + __builtin_clzll((uint64_t)v);
}

/* m * 2^(e - 127), normalised. */
static XF xf_make(bool s, int e, u128 m)
{
    XF r = { 0, 0, s };
    if (m) {
        int lz = clz128(m);
        r.m = m << lz;
        r.e = e - lz;
    }
    return r;
}

static inline XF xf_neg(XF a)
{
    a.s = !a.s;
    return a;
}

static inline XF xf_ldexp(XF a, int n)
{
    a.e += n;
    return a;
}

/* A finite nonzero F80 (denormals included), exactly. */
static XF xf_from_f80(F80 a)
{
    int e;
    uint64_t m = f80_unpack(a, &e);
    XF r = { (u128)m << 64, e - F80_BIAS, f80_sign(a) };
    return r;
}

static XF xf_from_int(int64_t v)
{
    uint64_t m = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    return xf_make(v < 0, 127, m);
}

/* |a| < |b| */
static inline bool xf_less_abs(XF a, XF b)
{
    if (!a.m || !b.m)
        return !a.m && b.m;
    return a.e < b.e || (a.e == b.e && a.m < b.m);
}

/* 256-bit value hi:lo shifted right by n, the lost bits jammed into bit 0. */
static void shr256_jam(u128 *hi, u128 *lo, unsigned n)
{
    if (n == 0)
        return;
    if (n >= 256) {
        *lo = (*hi | *lo) != 0;
        *hi = 0;
        return;
    }
    if (n >= 128) {
        bool st = *lo != 0;
        *lo = f80_shr_jam128(*hi, n - 128) | st;
        *hi = 0;
        return;
    }
    bool st = (*lo << (128 - n)) != 0;
    *lo = (*lo >> n) | (*hi << (128 - n)) | st;
    *hi >>= n;
}

/* Normalise the nonzero hi:lo * 2^(e - 255) to an XF, rounding to odd. */
static XF xf_pack256(bool s, int e, u128 hi, u128 lo)
{
    if (!hi) {
        hi = lo;
        lo = 0;
        e -= 128;
    }
    int lz = clz128(hi);
    if (lz) {
        hi = (hi << lz) | (lo >> (128 - lz));
        lo <<= lz;
    }
    XF r = { hi | (lo != 0), e - lz, s };
    return r;
}

static XF xf_add(XF a, XF b)
{
    if (!b.m)
        return a;
    if (!a.m)
        return b;
    if (xf_less_abs(a, b)) {
        XF t = a;
        a = b;
        b = t;
    }
    /* One bit of headroom: both at bits 254..127 of 256. */
    u128 ahi = a.m >> 1, alo = a.m << 127;
    u128 bhi = b.m >> 1, blo = b.m << 127;
    unsigned d = a.e - b.e > 300 ? 300 : (unsigned)(a.e - b.e);
    shr256_jam(&bhi, &blo, d);
    u128 hi, lo;
    if (a.s == b.s) {
        lo = alo + blo;
        hi = ahi + bhi + (lo < alo);
    } else {
        lo = alo - blo;
        hi = ahi - bhi - (alo < blo);
        if (!hi && !lo)
            return xf_make(false, 0, 0);
    }
    /* hi:lo = |a + b| * 2^(254 - a.e) */
    return xf_pack256(a.s, a.e + 1, hi, lo);
}

static inline XF xf_sub(XF a, XF b)
{
    return xf_add(a, xf_neg(b));
}

static XF xf_mul(XF a, XF b)
{
    bool s = a.s ^ b.s;
    if (!a.m || !b.m)
        return xf_make(s, 0, 0);
    uint64_t ah = (uint64_t)(a.m >> 64), al = (uint64_t)a.m;
    uint64_t bh = (uint64_t)(b.m >> 64), bl = (uint64_t)b.m;
    u128 hh = (u128)ah * bh, hl = (u128)ah * bl, lh = (u128)al * bh, ll = (u128)al * bl;
    u128 mid = (uint64_t)hl + (u128)(uint64_t)lh + (ll >> 64);
    u128 hi = hh + (hl >> 64) + (lh >> 64) + (mid >> 64);
    u128 lo = mid << 64 | (uint64_t)ll;
    /* product = hi:lo * 2^(a.e + b.e - 254), hi >= 2^126 */
    return xf_pack256(s, a.e + b.e + 1, hi, lo);
}

static XF xf_div(XF a, XF b)
{
    u128 rem = a.m, d = b.m, q;
    int e = a.e - b.e;
    unsigned n = 127;
    if (rem >= d) {
        rem -= d;
        q = 1;
    } else {
        q = 0;
        n = 128;
        e--;
    }
    /* Restoring division, one quotient bit per step. */
    for (unsigned i = 0; i < n; i++) {
        bool top = rem >> 127;
        rem <<= 1;
        q <<= 1;
        if (top || rem >= d) {
            rem -= d;
            q |= 1;
        }
    }
    XF r = { q | (rem != 0), e, a.s ^ b.s };
    return r;
}

/* a / k for an integer 2 <= k < 2^31: long division 32 bits at a time
 * (64-bit divisions only: libgcc's 128-bit one is much slower). */
static XF xf_div_int(XF a, uint32_t k)
{
    if (!a.m)
        return a;
    u128 q = 0;
    uint64_t r = 0;
    for (int i = 3; i >= 0; i--) {
        uint64_t cur = r << 32 | (uint32_t)(a.m >> (32 * i));
        q = q << 32 | cur / k;
        r = cur % k;
    }
    uint64_t cur = r << 32;
    uint32_t qlast = (uint32_t)(cur / k);
    r = cur % k;
    /* a.m / k = (q + qlast / 2^32 + ...); q >= 2^96 */
    int lz = clz128(q);
    u128 m = q << lz | (lz ? qlast >> (32 - lz) : 0);
    bool st = (uint32_t)((uint64_t)qlast << lz) != 0 || r != 0;
    XF res = { m | st, a.e - lz, a.s };
    return res;
}

/* ---- series ---- */

/* The series are summed as "leading term + correction" with one final
 * addition, so that when the correction is far below the last of 128 bits
 * (a tiny argument: sin x = x - x^3/6) the rounded-to-odd sum still says
 * on which side of the leading term the value lies. */

/* sin(r)/r - 1 = -z/(2*3) * (1 - z/(4*5) * (1 - ...)), z = r^2, |r| <= pi/4:
 * 17 terms leave less than 2^-130. */
static XF sin_m1(XF z)
{
    XF t = xf_one;
    for (uint32_t n = 17; n >= 2; n--)
        t = xf_sub(xf_one, xf_div_int(xf_mul(z, t), (2 * n) * (2 * n + 1)));
    return xf_neg(xf_div_int(xf_mul(z, t), 2 * 3));
}

/* cos(r) - 1 = -z/(1*2) * (1 - z/(3*4) * (1 - ...)). */
static XF cos_m1(XF z)
{
    XF t = xf_one;
    for (uint32_t n = 17; n >= 2; n--)
        t = xf_sub(xf_one, xf_div_int(xf_mul(z, t), (2 * n - 1) * (2 * n)));
    return xf_neg(xf_div_int(xf_mul(z, t), 1 * 2));
}

static XF sin_series(XF r)
{
    return xf_add(r, xf_mul(r, sin_m1(xf_mul(r, r))));
}

static XF cos_series(XF r)
{
    return xf_add(xf_one, cos_m1(xf_mul(r, r)));
}

/* tan(r) = r + r * (s - c) / (1 + c) and cot(r) = 1/r + (c - s) / (r (1 + s))
 * with s = sin(r)/r - 1, c = cos(r) - 1. */
static XF tan_series(XF r, bool cot)
{
    XF z = xf_mul(r, r), s = sin_m1(z), c = cos_m1(z);
    if (cot)
        return xf_add(xf_div(xf_one, r),
                      xf_div(xf_sub(c, s), xf_mul(r, xf_add(xf_one, s))));
    return xf_add(r, xf_div(xf_mul(r, xf_sub(s, c)), xf_add(xf_one, c)));
}

/* t + t * sum_{n>=1} (+-z)^n / (2n + 1), z = t^2: atan (alt) for
 * |t| <= 1/16, atanh for |t| <= 0.1716; terms is the highest n. */
static XF odd_series(XF t, bool alt, uint32_t terms)
{
    XF z = xf_mul(t, t), a = xf_div_int(xf_one, 2 * terms + 1);
    if (alt)
        z = xf_neg(z);
    for (uint32_t n = terms; --n >= 1;)
        a = xf_add(xf_div_int(xf_one, 2 * n + 1), xf_mul(z, a));
    return xf_add(t, xf_mul(t, xf_mul(z, a)));
}

/* e^u - 1 for |u| <= ln 2: u * (1 + u/2 * (1 + u/3 * (...))). */
static XF expm1_series(XF u)
{
    XF t = xf_one;
    for (uint32_t n = 32; n >= 1; n--)
        t = xf_add(xf_one, xf_div_int(xf_mul(u, t), n + 1));
    return xf_mul(u, t);
}

/* atan(t) for 0 < t <= 1: atan(j/8) + atan((t - j/8) / (1 + t j/8)) with
 * j/8 the nearest eighth, leaving |t'| <= 1/16. */
static XF atan01(XF t)
{
    /* j = round(8t); t = m * 2^(e-127) with e <= 0 */
    int sh = 127 - 4 - t.e;                  /* t.m >> sh = floor(16t) */
    uint32_t j = sh >= 128 ? 0 : (uint32_t)((t.m >> sh) + 1) >> 1;
    if (j == 0)
        return odd_series(t, true, 16);
    XF c = xf_make(false, 127 - 3, j);
    XF tp = xf_div(xf_sub(t, c), xf_add(xf_one, xf_mul(t, c)));
    return xf_add(atan_tab[j - 1], odd_series(tp, true, 16));
}

/* log2(m * 2^e) for m in [1, 2) (an XF with exponent 0) and m != 1 when
 * e == 0: e + 2/ln2 * atanh((m - 1) / (m + 1)), with m scaled into
 * [sqrt(1/2), sqrt(2)). */
static XF log2_xf(XF m, int e)
{
    static const u128 sqrt2 = U128(0xb504f333f9de6484ull, 0x597d89b3754abe9full);
    if (m.m > sqrt2) {
        m.e = -1;
        e++;
    }
    XF s = xf_div(xf_sub(m, xf_one), xf_add(m, xf_one));
    XF l = xf_mul(xf_2_ln2, odd_series(s, false, 26));
    return xf_add(xf_from_int(e), l);
}

/* ---- rounding ---- */

/* Round v to the extended format at 64 bits; inexact: the exact value is
 * not v itself but lies strictly between v and the next 128-bit value. */
static F80 xf_round(F80Ctx *c, XF v, bool inexact)
{
    if (!v.m)
        return f80_make(v.s, 0, 0);
    int e = v.e;
    if (e > 0x20000)
        e = 0x20000;
    else if (e < -0x20000)
        e = -0x20000;
    return f80_round_pack_p(c, 64, v.s, e + F80_BIAS, (uint64_t)(v.m >> 64),
                            (uint64_t)v.m | inexact);
}

static inline F80 f80_inf(bool s)
{
    return f80_make(s, 0x7fff, 1ull << 63);
}

static inline F80 f80_zero(bool s)
{
    return f80_make(s, 0, 0);
}

/* Unsupported, NaN and denormal screening of one operand. */
static bool screen1(F80Ctx *c, F80 a, int ca, F80 *r)
{
    if (ca == F80_UNSUP) {
        *r = f80_invalid(c);
        return true;
    }
    if (f80_is_nan(ca)) {
        *r = f80_nan2(c, a, ca, a, ca);
        return true;
    }
    if (ca == F80_DENORM) {
        c->fl |= F80_DE;
        if (!(c->mask & F80_DE)) {
            *r = f80_indefinite;     /* not delivered */
            return true;
        }
    }
    return false;
}

/* Unsupported and NaN operands of a two-operand instruction.  The
 * instruction's own invalid and zero-divide cases come next, and only then
 * denormal operands (SDM vol. 1, 4.9.2: #IA and #Z take precedence over
 * #D, so a denormal operand of an invalid operation raises IE alone). */
static bool screen2_nan(F80Ctx *c, F80 a, int ca, F80 b, int cb, F80 *r)
{
    if (ca == F80_UNSUP || cb == F80_UNSUP) {
        *r = f80_invalid(c);
        return true;
    }
    if (f80_is_nan(ca) || f80_is_nan(cb)) {
        *r = f80_nan2(c, a, ca, b, cb);
        return true;
    }
    return false;
}

/* DE for denormal operands; returns true when unmasked (nothing is
 * delivered, *r a placeholder). */
static bool screen2_denormal(F80Ctx *c, int ca, int cb, F80 *r)
{
    if (ca != F80_DENORM && cb != F80_DENORM)
        return false;
    c->fl |= F80_DE;
    *r = f80_indefinite;
    return !(c->mask & F80_DE);
}

/* ---- FSIN FCOS FSINCOS FPTAN ---- */

/* |x| = k * pi66/2 + r exactly, |r| <= pi66/4 (x finite, nonzero, below
 * 2^63).  Returns k mod 4. */
static unsigned trig_reduce(F80 x, XF *r)
{
    int e;
    uint64_t m = f80_unpack(x, &e);
    int u = e - F80_BIAS;                    /* |x| in [2^u, 2^(u+1)) */
    if (u < -1) {
        *r = xf_from_f80(x);
        r->s = false;
        return 0;
    }
    /* |x| * 2^65 = X and pi66/2 * 2^65 = pi66_mant, both integers */
    u128 X = (u128)m << (u + 2);
    u128 k = X / pi66_mant;
    u128 rem = X - k * pi66_mant;
    bool neg = false;
    if (rem > pi66_mant >> 1) {              /* pi66_mant is odd: no tie */
        k++;
        rem = pi66_mant - rem;
        neg = true;
    }
    /* rem != 0: pi66_mant is odd and 66 bits wide, X has 64 significant */
    *r = xf_make(neg, 127 - 65, rem);
    return (unsigned)k & 3;
}

/* sin(r + q * pi/2) */
static XF sin_quadrant(XF r, unsigned q)
{
    XF v = q & 1 ? cos_series(r) : sin_series(r);
    return q & 2 ? xf_neg(v) : v;
}

/* Screening shared by FSIN FCOS FSINCOS FPTAN: returns 1 when *r is the
 * result (NaN, invalid, zero handled by the caller: 2), 0 to compute,
 * -1 when out of range. */
static int trig_screen(F80Ctx *c, F80 x, int cx, F80 *r)
{
    if (screen1(c, x, cx, r))
        return 1;
    if (cx == F80_INF) {
        *r = f80_invalid(c);
        return 1;
    }
    if (cx == F80_ZERO)
        return 2;
    if (f80_exp(x) >= F80_BIAS + 63)
        return -1;
    return 0;
}

bool f80_fsincos(F80Ctx *c, F80 x, F80 *s, F80 *co)
{
    int cx = f80_class(x);
    F80 r;
    switch (trig_screen(c, x, cx, &r)) {
    case -1:
        return false;
    case 1:
        if (s)
            *s = r;
        if (co)
            *co = r;
        return true;
    case 2:
        if (s)
            *s = x;
        if (co)
            *co = f80_make(false, F80_BIAS, 1ull << 63);
        return true;
    }
    XF red;
    unsigned q = trig_reduce(x, &red);
    if (co) {
        /* C1 (rounded up) is the sine's when both are computed */
        F80Ctx cc = *c;
        cc.fl = 0;
        *co = xf_round(&cc, sin_quadrant(red, q + 1), true);
        c->fl |= cc.fl & ~(s ? F80_C1 : 0);
    }
    if (s) {
        XF v = sin_quadrant(red, q);
        if (f80_sign(x))
            v = xf_neg(v);
        *s = xf_round(c, v, true);
    }
    return true;
}

bool f80_fptan(F80Ctx *c, F80 x, F80 *t, F80 *one)
{
    int cx = f80_class(x);
    F80 r;
    switch (trig_screen(c, x, cx, &r)) {
    case -1:
        return false;
    case 1:
        *t = *one = r;
        return true;
    case 2:
        *t = x;
        *one = f80_make(false, F80_BIAS, 1ull << 63);
        return true;
    }
    XF red;
    unsigned q = trig_reduce(x, &red);
    /* tan(r + pi/2) = -cot(r) */
    XF v = tan_series(red, q & 1);
    if (q & 1)
        v = xf_neg(v);
    if (f80_sign(x))
        v = xf_neg(v);
    *t = xf_round(c, v, true);
    *one = f80_make(false, F80_BIAS, 1ull << 63);
    return true;
}

/* ---- FPATAN ---- */

F80 f80_fpatan(F80Ctx *c, F80 y, F80 x)
{
    int cy = f80_class(y), cx = f80_class(x);
    F80 r;
    if (screen2_nan(c, y, cy, x, cx, &r) || screen2_denormal(c, cy, cx, &r))
        return r;
    bool sy = f80_sign(y), sx = f80_sign(x);
    XF v;
    if (cy == F80_ZERO || (cx == F80_INF && cy != F80_INF)) {
        if (!sx)
            return f80_zero(sy);
        v = xf_pi66;                         /* +-pi */
    } else if (cy == F80_INF) {
        v = xf_ldexp(xf_pi66, -2);           /* pi/4 or 3pi/4 */
        if (cx == F80_INF && sx)
            v = xf_mul(v, xf_from_int(3));
        else if (cx != F80_INF)
            v = xf_ldexp(xf_pi66, -1);
    } else if (cx == F80_ZERO) {
        v = xf_ldexp(xf_pi66, -1);
    } else {
        XF ax = xf_from_f80(x), ay = xf_from_f80(y);
        ax.s = ay.s = false;
        bool steep = xf_less_abs(ax, ay);
        v = atan01(steep ? xf_div(ax, ay) : xf_div(ay, ax));
        if (steep)
            v = xf_sub(xf_ldexp(xf_pi66, -1), v);
        if (sx)
            v = xf_sub(xf_pi66, v);
    }
    v.s = sy;
    return xf_round(c, v, true);
}

/* ---- FYL2X FYL2XP1 ---- */

/* y * log2(w) for finite nonzero y and w > 0 (w exact). */
static F80 ylog2(F80Ctx *c, F80 y, XF w)
{
    XF yy = xf_from_f80(y);
    if (w.m == (u128)1 << 127)               /* power of two: exact product */
        return xf_round(c, xf_mul(yy, xf_from_int(w.e)), false);
    int e = w.e;
    w.e = 0;
    return xf_round(c, xf_mul(yy, log2_xf(w, e)), true);
}

/* Results for log2(w) = -inf (w = +0): y * -inf; a finite y raises ZE
 * (and a denormal y nothing more, ZE taking precedence). */
static F80 ylog2_zero(F80Ctx *c, F80 y, int cy)
{
    if (cy == F80_ZERO)
        return f80_invalid(c);
    if (cy != F80_INF)
        c->fl |= F80_ZE;
    return f80_inf(!f80_sign(y));
}

/* Zero or infinite y times a finite nonzero log2(w), w above (up) or below
 * one. */
static F80 ylog2_special(F80 y, int cy, bool below_one)
{
    bool s = f80_sign(y) ^ below_one;
    return cy == F80_ZERO ? f80_zero(s) : f80_inf(s);
}

F80 f80_fyl2x(F80Ctx *c, F80 y, F80 x)
{
    int cy = f80_class(y), cx = f80_class(x);
    F80 r;
    if (screen2_nan(c, y, cy, x, cx, &r))
        return r;
    if (cx == F80_ZERO)
        return ylog2_zero(c, y, cy);
    if (f80_sign(x))
        return f80_invalid(c);
    bool one = x.sexp == F80_BIAS && x.mant == 1ull << 63;
    if ((cx == F80_INF && cy == F80_ZERO) || (one && cy == F80_INF))
        return f80_invalid(c);                       /* 0 * inf */
    if (screen2_denormal(c, cy, cx, &r))
        return r;
    if (cx == F80_INF)
        return f80_inf(f80_sign(y));
    if (one)                                         /* log2(1) = +0 */
        return f80_zero(f80_sign(y));
    XF w = xf_from_f80(x);
    if (cy == F80_ZERO || cy == F80_INF)
        return ylog2_special(y, cy, w.e < 0);
    return ylog2(c, y, w);
}

F80 f80_fyl2xp1(F80Ctx *c, F80 y, F80 x)
{
    int cy = f80_class(y), cx = f80_class(x);
    F80 r;
    if (screen2_nan(c, y, cy, x, cx, &r))
        return r;
    bool sx = f80_sign(x);
    if (cx == F80_ZERO) {
        if (cy == F80_INF)
            return f80_invalid(c);
        if (screen2_denormal(c, cy, cx, &r))
            return r;
        return f80_zero(f80_sign(y) ^ sx);
    }
    if (cx == F80_INF) {
        if (sx || cy == F80_ZERO)
            return f80_invalid(c);
        if (screen2_denormal(c, cy, cx, &r))
            return r;
        return f80_inf(f80_sign(y));
    }
    /* The SDM defines |x| < 1 - sqrt(2)/2 only; beyond, this is the same
     * function: log2(1 + x) for x > -1. */
    XF a = xf_from_f80(x);
    XF w = xf_add(xf_one, a);
    if (w.s && w.m)
        return f80_invalid(c);
    if (!w.m)
        return ylog2_zero(c, y, cy);
    if (screen2_denormal(c, cy, cx, &r))
        return r;
    if (cy == F80_ZERO || cy == F80_INF)
        return ylog2_special(y, cy, sx);
    /* |x| < 1/4: log2(1 + x) = 2/ln2 * atanh(x / (2 + x)), precise for
     * small x; otherwise 1 + x is exact and log2 takes it apart. */
    if (a.e < -2) {
        XF s = xf_div(a, xf_add(xf_from_int(2), a));
        XF l = xf_mul(xf_2_ln2, odd_series(s, false, 26));
        return xf_round(c, xf_mul(xf_from_f80(y), l), true);
    }
    return ylog2(c, y, w);
}

/* ---- F2XM1 ---- */

F80 f80_f2xm1(F80Ctx *c, F80 x)
{
    int cx = f80_class(x);
    F80 r;
    if (screen1(c, x, cx, &r))
        return r;
    if (cx == F80_ZERO)
        return x;
    bool sx = f80_sign(x);
    if (cx == F80_INF)
        return sx ? f80_make(true, F80_BIAS, 1ull << 63) : x;
    /* The SDM defines -1 <= x <= 1 only; beyond, this is still 2^x - 1
     * (overflowing, or tending to -1).  x = n + f, n an integer, |f| <= 1/2
     * (|f| < 1 when n = 0). */
    XF a = xf_from_f80(x);
    int n;
    XF f;
    if (a.e >= 20) {
        n = sx ? -(1 << 20) : 1 << 20;
        f = xf_make(false, 0, 0);
    } else if (a.e < 0) {
        n = 0;                               /* |x| < 1: 2^x - 1 = expm1(x ln2) */
        f = a;
    } else {
        /* a.m * 2^(a.e - 127): integer part rounded to nearest */
        unsigned sh = (unsigned)(127 - a.e);
        u128 ip = a.m >> sh, frac = a.m - (ip << sh);
        if (frac >> (sh - 1))
            ip++;
        n = sx ? -(int)ip : (int)ip;
        f = xf_sub(a, xf_from_int(n));
    }
    XF p2 = { (u128)1 << 127, n, false };    /* 2^n */
    XF p2m1 = xf_sub(p2, xf_one);            /* 2^n - 1 */
    if (!f.m)
        return xf_round(c, p2m1, false);
    XF em1 = expm1_series(xf_mul(f, xf_ln2));
    if (n == 0)
        return xf_round(c, em1, true);
    /* 2^n * (1 + em1) - 1 = 2^n * em1 + (2^n - 1) */
    return xf_round(c, xf_add(xf_ldexp(em1, n), p2m1), true);
}
