/* Included by sse.c only: MMX and SSE2..SSE4.1 integer operations, the
 * data-movement instructions and the bitwise/shuffle PS/PD forms.
 *
 * An operation works on n bytes (8 for MM, 16 for XMM) of d (the
 * destination, also the first source) and s; imm is the instruction's
 * immediate.  mmx_run/xmm_run fetch the operands, check, and commit, so
 * each operation is written once for both register files. */

typedef void SseOp(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm);

/* MM: dst mm[reg], src mm[rm] or msize bytes of memory (never aligned). */
SSE_INLINE const XInsn *mmx_run(X86CPU *cpu, const XInsn *in, SseOp *op, unsigned msize)
{
    X86Xmm d, s;

    MMX_CHECK(cpu, in);
    s.q[1] = 0;
    if (!mm_load(cpu, in, &s.q[0], msize))
        return NULL;
    mmx_enter(cpu);
    d.q[0] = mm_get(cpu, in->reg);
    d.q[1] = 0;
    op(&d, &s, 8, (unsigned)in->imm);
    mm_set(cpu, in->reg, d.q[0]);
    X86_NEXT(cpu, in);
}

/* XMM: dst xmm[reg], src xmm[rm] or msize bytes (16: aligned if align). */
SSE_INLINE const XInsn *xmm_run(X86CPU *cpu, const XInsn *in, SseOp *op, unsigned msize,
                                bool align)
{
    X86Xmm s;

    SSE_CHECK(cpu, in);
    if (!xmm_load(cpu, in, &s, msize, align))
        return NULL;
    op(&cpu->fpu.xmm[in->reg], &s, 16, (unsigned)in->imm);
    X86_NEXT(cpu, in);
}

/* Handlers: _mm (no prefix) and _x (66) forms of one operation. */
#define SSE_H_MM(name, msize)                                                 \
    static const XInsn *h_##name##_mm(X86CPU *cpu, const XInsn *in)           \
    {                                                                         \
        return mmx_run(cpu, in, op_##name, msize);                            \
    }
#define SSE_H_X(name, msize, align)                                           \
    static const XInsn *h_##name##_x(X86CPU *cpu, const XInsn *in)            \
    {                                                                         \
        return xmm_run(cpu, in, op_##name, msize, align);                     \
    }
#define SSE_H_BOTH(name) SSE_H_MM(name, 8) SSE_H_X(name, 16, true)

/* ---- saturation ---- */
static inline int8_t sat_s8(int v) { return v > 127 ? 127 : v < -128 ? -128 : (int8_t)v; }
static inline uint8_t sat_u8(int v) { return v > 255 ? 255 : v < 0 ? 0 : (uint8_t)v; }
static inline int16_t sat_s16(int32_t v)
{
    return v > 32767 ? 32767 : v < -32768 ? -32768 : (int16_t)v;
}
static inline uint16_t sat_u16(int32_t v) { return v > 65535 ? 65535 : v < 0 ? 0 : (uint16_t)v; }

/* Element-wise: a = d element, b = s element, as type T. */
#define SSE_EW(name, T, f, expr)                                              \
    static void op_##name(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm) \
    {                                                                         \
        (void)imm;                                                            \
        for (unsigned i = 0; i < n / sizeof(d->f[0]); i++) {                  \
            T a = (T)d->f[i], b = (T)s->f[i];                                 \
            (void)a;                                                          \
            d->f[i] = (expr);                                                 \
        }                                                                     \
    }

SSE_EW(paddb, uint8_t, b, a + b)
SSE_EW(paddw, uint16_t, w, a + b)
SSE_EW(paddd, uint32_t, d, a + b)
SSE_EW(paddq, uint64_t, q, a + b)
SSE_EW(psubb, uint8_t, b, a - b)
SSE_EW(psubw, uint16_t, w, a - b)
SSE_EW(psubd, uint32_t, d, a - b)
SSE_EW(psubq, uint64_t, q, a - b)
SSE_EW(paddsb, int8_t, b, sat_s8(a + b))
SSE_EW(paddsw, int16_t, w, sat_s16(a + b))
SSE_EW(psubsb, int8_t, b, sat_s8(a - b))
SSE_EW(psubsw, int16_t, w, sat_s16(a - b))
SSE_EW(paddusb, uint8_t, b, sat_u8(a + b))
SSE_EW(paddusw, uint16_t, w, sat_u16(a + b))
SSE_EW(psubusb, uint8_t, b, sat_u8(a - b))
SSE_EW(psubusw, uint16_t, w, sat_u16(a - b))
SSE_EW(pmullw, int16_t, w, (uint16_t)((int32_t)a * b))
SSE_EW(pmulhw, int16_t, w, (uint16_t)(((int32_t)a * b) >> 16))
SSE_EW(pmulhuw, uint16_t, w, (uint16_t)(((uint32_t)a * b) >> 16))
SSE_EW(pmulhrsw, int16_t, w, (uint16_t)(((((int32_t)a * b) >> 14) + 1) >> 1))
SSE_EW(pmulld, int32_t, d, (uint32_t)((int64_t)a * b))
SSE_EW(pavgb, uint8_t, b, (uint8_t)((a + b + 1) >> 1))
SSE_EW(pavgw, uint16_t, w, (uint16_t)(((uint32_t)a + b + 1) >> 1))
SSE_EW(pminub, uint8_t, b, a < b ? a : b)
SSE_EW(pmaxub, uint8_t, b, a > b ? a : b)
SSE_EW(pminsw, int16_t, w, a < b ? a : b)
SSE_EW(pmaxsw, int16_t, w, a > b ? a : b)
SSE_EW(pminsb, int8_t, b, a < b ? a : b)
SSE_EW(pmaxsb, int8_t, b, a > b ? a : b)
SSE_EW(pminuw, uint16_t, w, a < b ? a : b)
SSE_EW(pmaxuw, uint16_t, w, a > b ? a : b)
SSE_EW(pminsd, int32_t, d, a < b ? a : b)
SSE_EW(pmaxsd, int32_t, d, a > b ? a : b)
SSE_EW(pminud, uint32_t, d, a < b ? a : b)
SSE_EW(pmaxud, uint32_t, d, a > b ? a : b)
SSE_EW(pand, uint64_t, q, a & b)
SSE_EW(pandn, uint64_t, q, ~a & b)
SSE_EW(por, uint64_t, q, a | b)
SSE_EW(pxor, uint64_t, q, a ^ b)
SSE_EW(pcmpeqb, uint8_t, b, a == b ? 0xff : 0)
SSE_EW(pcmpeqw, uint16_t, w, a == b ? 0xffff : 0)
SSE_EW(pcmpeqd, uint32_t, d, a == b ? ~0u : 0)
SSE_EW(pcmpeqq, uint64_t, q, a == b ? ~0ull : 0)
SSE_EW(pcmpgtb, int8_t, b, a > b ? 0xff : 0)
SSE_EW(pcmpgtw, int16_t, w, a > b ? 0xffff : 0)
SSE_EW(pcmpgtd, int32_t, d, a > b ? ~0u : 0)
SSE_EW(pcmpgtq, int64_t, q, a > b ? ~0ull : 0)
SSE_EW(psignb, int8_t, b, (uint8_t)(b < 0 ? -a : b == 0 ? 0 : a))
SSE_EW(psignw, int16_t, w, (uint16_t)(b < 0 ? -a : b == 0 ? 0 : a))
SSE_EW(psignd, int32_t, d, b < 0 ? 0u - (uint32_t)a : b == 0 ? 0 : (uint32_t)a)
SSE_EW(pabsb, int8_t, b, (uint8_t)(b < 0 ? -b : b))
SSE_EW(pabsw, int16_t, w, (uint16_t)(b < 0 ? -b : b))
SSE_EW(pabsd, int32_t, d, b < 0 ? 0u - (uint32_t)b : (uint32_t)b)
SSE_EW(mov, uint64_t, q, b)

static void op_pmuludq(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm)
{
    (void)imm;
    for (unsigned i = 0; i < n / 8; i++)
        d->q[i] = (uint64_t)d->d[2 * i] * s->d[2 * i];
}

static void op_pmuldq(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm)
{
    (void)imm;
    for (unsigned i = 0; i < n / 8; i++)
        d->q[i] = (uint64_t)((int64_t)(int32_t)d->d[2 * i] * (int32_t)s->d[2 * i]);
}

static void op_pmaddwd(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm)
{
    (void)imm;
    for (unsigned i = 0; i < n / 4; i++) {
        int32_t lo = (int16_t)d->w[2 * i] * (int16_t)s->w[2 * i];
        int32_t hi = (int16_t)d->w[2 * i + 1] * (int16_t)s->w[2 * i + 1];
        d->d[i] = (uint32_t)lo + (uint32_t)hi;     /* 0x8000^2 * 2 wraps */
    }
}

/* Unsigned bytes of d times signed bytes of s. */
static void op_pmaddubsw(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm)
{
    (void)imm;
    for (unsigned i = 0; i < n / 2; i++)
        d->w[i] = (uint16_t)sat_s16(d->b[2 * i] * (int8_t)s->b[2 * i] +
                                    d->b[2 * i + 1] * (int8_t)s->b[2 * i + 1]);
}

static void op_psadbw(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm)
{
    (void)imm;
    for (unsigned i = 0; i < n / 8; i++) {
        unsigned sum = 0;
        for (unsigned j = 0; j < 8; j++) {
            int v = d->b[8 * i + j] - s->b[8 * i + j];
            sum += (unsigned)(v < 0 ? -v : v);
        }
        d->q[i] = sum;
    }
}

/* ---- packs: d's elements narrowed into the low half, s's into the high ---- */
#define SSE_PACK(name, wf, nf, WT, NT, sat)                                   \
    static void op_##name(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm) \
    {                                                                         \
        X86Xmm r;                                                             \
        unsigned h = n / sizeof(d->wf[0]);                                    \
        (void)imm;                                                            \
        for (unsigned i = 0; i < h; i++) {                                    \
            r.nf[i] = (NT)sat((WT)d->wf[i]);                                  \
            r.nf[h + i] = (NT)sat((WT)s->wf[i]);                              \
        }                                                                     \
        memcpy(d, &r, n);                                                     \
    }
SSE_PACK(packsswb, w, b, int16_t, uint8_t, sat_s8)
SSE_PACK(packuswb, w, b, int16_t, uint8_t, sat_u8)
SSE_PACK(packssdw, d, w, int32_t, uint16_t, sat_s16)
SSE_PACK(packusdw, d, w, int32_t, uint16_t, sat_u16)

/* ---- unpacks: interleave the low (or high) halves of d and s ---- */
#define SSE_UNPCK(name, f, high)                                              \
    static void op_##name(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm) \
    {                                                                         \
        X86Xmm r;                                                             \
        unsigned h = n / 2 / sizeof(d->f[0]), o = (high) ? h : 0;             \
        (void)imm;                                                            \
        for (unsigned i = 0; i < h; i++) {                                    \
            r.f[2 * i] = d->f[o + i];                                         \
            r.f[2 * i + 1] = s->f[o + i];                                     \
        }                                                                     \
        memcpy(d, &r, n);                                                     \
    }
SSE_UNPCK(punpcklbw, b, 0)
SSE_UNPCK(punpcklwd, w, 0)
SSE_UNPCK(punpckldq, d, 0)
SSE_UNPCK(punpcklqdq, q, 0)
SSE_UNPCK(punpckhbw, b, 1)
SSE_UNPCK(punpckhwd, w, 1)
SSE_UNPCK(punpckhdq, d, 1)
SSE_UNPCK(punpckhqdq, q, 1)

/* ---- horizontal add/sub (SSSE3): pairs of d, then pairs of s ---- */
#define SSE_HOR(name, f, T, expr)                                             \
    static void op_##name(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm) \
    {                                                                         \
        X86Xmm r;                                                             \
        unsigned h = n / 2 / sizeof(d->f[0]);                                 \
        (void)imm;                                                            \
        for (unsigned i = 0; i < h; i++) {                                    \
            T a = (T)d->f[2 * i], b = (T)d->f[2 * i + 1];                     \
            r.f[i] = (expr);                                                  \
            a = (T)s->f[2 * i];                                               \
            b = (T)s->f[2 * i + 1];                                           \
            r.f[h + i] = (expr);                                              \
        }                                                                     \
        memcpy(d, &r, n);                                                     \
    }
SSE_HOR(phaddw, w, uint16_t, (uint16_t)(a + b))
SSE_HOR(phaddd, d, uint32_t, a + b)
SSE_HOR(phaddsw, w, int16_t, (uint16_t)sat_s16(a + b))
SSE_HOR(phsubw, w, uint16_t, (uint16_t)(a - b))
SSE_HOR(phsubd, d, uint32_t, a - b)
SSE_HOR(phsubsw, w, int16_t, (uint16_t)sat_s16(a - b))

static void op_pshufb(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm)
{
    X86Xmm r;
    (void)imm;
    for (unsigned i = 0; i < n; i++)
        r.b[i] = (s->b[i] & 0x80) ? 0 : d->b[s->b[i] & (n - 1)];
    memcpy(d, &r, n);
}

/* (d:s) >> imm bytes, n bytes kept. */
static void op_palignr(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm)
{
    uint8_t t[32];
    X86Xmm r;
    memcpy(t, s, n);
    memcpy(t + n, d, n);
    for (unsigned i = 0; i < n; i++)
        r.b[i] = i + imm < 2 * n ? t[i + imm] : 0;
    memcpy(d, &r, n);
}

/* ---- shifts: count = the low 64 bits of s (the register/memory form) or
 * the immediate (the 71..73 groups put it in s too) ---- */
#define SSE_SHIFT(name, f, T, bits, expr, big)                                \
    static void op_##name(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm) \
    {                                                                         \
        uint64_t c = s->q[0];                                                 \
        (void)imm;                                                            \
        for (unsigned i = 0; i < n / sizeof(d->f[0]); i++) {                  \
            T a = (T)d->f[i];                                                 \
            d->f[i] = c >= (bits) ? (big) : (expr);                           \
        }                                                                     \
    }
SSE_SHIFT(psrlw, w, uint16_t, 16, (uint16_t)(a >> c), 0)
SSE_SHIFT(psrld, d, uint32_t, 32, a >> c, 0)
SSE_SHIFT(psrlq, q, uint64_t, 64, a >> c, 0)
SSE_SHIFT(psllw, w, uint16_t, 16, (uint16_t)(a << c), 0)
SSE_SHIFT(pslld, d, uint32_t, 32, a << c, 0)
SSE_SHIFT(psllq, q, uint64_t, 64, a << c, 0)
SSE_SHIFT(psraw, w, int16_t, 16, (uint16_t)(a >> c), (uint16_t)(a >> 15))
SSE_SHIFT(psrad, d, int32_t, 32, (uint32_t)(a >> c), (uint32_t)(a >> 31))

/* Shift groups 71..73: rm is the destination, imm the count. */
SSE_INLINE const XInsn *shimm_mm(X86CPU *cpu, const XInsn *in, SseOp *op)
{
    X86Xmm d, c;

    MMX_CHECK(cpu, in);
    mmx_enter(cpu);
    d.q[0] = mm_get(cpu, in->rm);
    c.q[0] = in->imm & 0xff;
    op(&d, &c, 8, 0);
    mm_set(cpu, in->rm, d.q[0]);
    X86_NEXT(cpu, in);
}

SSE_INLINE const XInsn *shimm_x(X86CPU *cpu, const XInsn *in, SseOp *op)
{
    X86Xmm c;

    SSE_CHECK(cpu, in);
    c.q[0] = in->imm & 0xff;
    op(&cpu->fpu.xmm[in->rm], &c, 16, 0);
    X86_NEXT(cpu, in);
}

#define SSE_H_SHIMM(name)                                                     \
    static const XInsn *h_##name##i_mm(X86CPU *cpu, const XInsn *in)          \
    {                                                                         \
        return shimm_mm(cpu, in, op_##name);                                  \
    }                                                                         \
    static const XInsn *h_##name##i_x(X86CPU *cpu, const XInsn *in)           \
    {                                                                         \
        return shimm_x(cpu, in, op_##name);                                   \
    }
SSE_H_SHIMM(psrlw)
SSE_H_SHIMM(psrld)
SSE_H_SHIMM(psrlq)
SSE_H_SHIMM(psllw)
SSE_H_SHIMM(pslld)
SSE_H_SHIMM(psllq)
SSE_H_SHIMM(psraw)
SSE_H_SHIMM(psrad)

/* Byte shifts of a whole XMM register by imm (count > 15 clears it). */
static void op_psrldq(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm)
{
    X86Xmm r;
    unsigned c = (unsigned)s->q[0];
    (void)imm;
    for (unsigned i = 0; i < n; i++)
        r.b[i] = i + c < n ? d->b[i + c] : 0;
    *d = r;
}

static void op_pslldq(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm)
{
    X86Xmm r;
    unsigned c = (unsigned)s->q[0];
    (void)imm;
    for (unsigned i = 0; i < n; i++)
        r.b[i] = i >= c ? d->b[i - c] : 0;
    *d = r;
}

static const XInsn *h_psrldq(X86CPU *cpu, const XInsn *in)
{
    return shimm_x(cpu, in, op_psrldq);
}

static const XInsn *h_pslldq(X86CPU *cpu, const XInsn *in)
{
    return shimm_x(cpu, in, op_pslldq);
}

/* ---- shuffles with an immediate: d = shuffle(s) ---- */
static void op_pshufw(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm)
{
    X86Xmm r;
    (void)n;
    for (unsigned i = 0; i < 4; i++)
        r.w[i] = s->w[(imm >> (2 * i)) & 3];
    d->q[0] = r.q[0];
}

static void op_pshufd(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm)
{
    X86Xmm r;
    (void)n;
    for (unsigned i = 0; i < 4; i++)
        r.d[i] = s->d[(imm >> (2 * i)) & 3];
    *d = r;
}

static void op_pshuflw(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm)
{
    X86Xmm r;
    (void)n;
    for (unsigned i = 0; i < 4; i++)
        r.w[i] = s->w[(imm >> (2 * i)) & 3];
    r.q[1] = s->q[1];
    *d = r;
}

static void op_pshufhw(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm)
{
    X86Xmm r;
    (void)n;
    r.q[0] = s->q[0];
    for (unsigned i = 0; i < 4; i++)
        r.w[4 + i] = s->w[4 + ((imm >> (2 * i)) & 3)];
    *d = r;
}

static void op_shufps(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm)
{
    X86Xmm r;
    (void)n;
    r.d[0] = d->d[imm & 3];
    r.d[1] = d->d[(imm >> 2) & 3];
    r.d[2] = s->d[(imm >> 4) & 3];
    r.d[3] = s->d[(imm >> 6) & 3];
    *d = r;
}

static void op_shufpd(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm)
{
    X86Xmm r;
    (void)n;
    r.q[0] = d->q[imm & 1];
    r.q[1] = s->q[(imm >> 1) & 1];
    *d = r;
}

/* ---- SSE4.1 blends, PHMINPOSUW, MPSADBW ---- */
static void op_blendps(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm)
{
    (void)n;
    for (unsigned i = 0; i < 4; i++)
        if (imm & (1u << i))
            d->d[i] = s->d[i];
}

static void op_blendpd(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm)
{
    (void)n;
    for (unsigned i = 0; i < 2; i++)
        if (imm & (1u << i))
            d->q[i] = s->q[i];
}

static void op_pblendw(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm)
{
    (void)n;
    for (unsigned i = 0; i < 8; i++)
        if (imm & (1u << i))
            d->w[i] = s->w[i];
}

static void op_phminposuw(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm)
{
    unsigned idx = 0;
    (void)n;
    (void)imm;
    for (unsigned i = 1; i < 8; i++)
        if (s->w[i] < s->w[idx])
            idx = i;
    d->q[0] = s->w[idx] | (uint64_t)idx << 16;
    d->q[1] = 0;
}

/* Eight sums of absolute differences of 4-byte groups: d's block starts
 * at byte imm[2]*4 and slides by one, s's fixed block is imm[1:0]*4. */
static void op_mpsadbw(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm)
{
    X86Xmm r;
    unsigned da = (imm >> 2 & 1) * 4, sa = (imm & 3) * 4;
    (void)n;
    for (unsigned i = 0; i < 8; i++) {
        unsigned sum = 0;
        for (unsigned j = 0; j < 4; j++) {
            int v = d->b[da + i + j] - s->b[sa + j];
            sum += (unsigned)(v < 0 ? -v : v);
        }
        r.w[i] = (uint16_t)sum;
    }
    *d = r;
}

/* Variable blends (implicit XMM0 mask) read XMM0 from the CPU. */
SSE_INLINE const XInsn *blendv_run(X86CPU *cpu, const XInsn *in, unsigned esize)
{
    X86Xmm s, m;
    X86Xmm *d = &cpu->fpu.xmm[in->reg];

    SSE_CHECK(cpu, in);
    if (!xmm_load(cpu, in, &s, 16, true))
        return NULL;
    m = cpu->fpu.xmm[0];
    for (unsigned i = 0; i < 16; i += esize)
        if (m.b[i + esize - 1] & 0x80)
            memcpy(&d->b[i], &s.b[i], esize);
    X86_NEXT(cpu, in);
}

static const XInsn *h_pblendvb(X86CPU *cpu, const XInsn *in) { return blendv_run(cpu, in, 1); }
static const XInsn *h_blendvps(X86CPU *cpu, const XInsn *in) { return blendv_run(cpu, in, 4); }
static const XInsn *h_blendvpd(X86CPU *cpu, const XInsn *in) { return blendv_run(cpu, in, 8); }

static const XInsn *h_ptest(X86CPU *cpu, const XInsn *in)
{
    X86Xmm s;
    const X86Xmm *d = &cpu->fpu.xmm[in->reg];
    uint32_t f = 0;

    SSE_CHECK(cpu, in);
    if (!xmm_load(cpu, in, &s, 16, true))
        return NULL;
    if (!((d->q[0] & s.q[0]) | (d->q[1] & s.q[1])))
        f |= X86_ZF;
    if (!((~d->q[0] & s.q[0]) | (~d->q[1] & s.q[1])))
        f |= X86_CF;
    x86_set_arith(cpu, f);
    X86_NEXT(cpu, in);
}

/* PMOVSX/PMOVZX: the low 16 / esize_out * esize_in bytes of the source. */
#define SSE_PMOVX(name, sf, df, ST, DT, cnt)                                  \
    static void op_##name(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm) \
    {                                                                         \
        X86Xmm r;                                                             \
        (void)n;                                                              \
        (void)imm;                                                            \
        for (unsigned i = 0; i < (cnt); i++)                                  \
            r.df[i] = (DT)(ST)s->sf[i];                                       \
        *d = r;                                                               \
    }
SSE_PMOVX(pmovsxbw, b, w, int8_t, uint16_t, 8)
SSE_PMOVX(pmovsxbd, b, d, int8_t, uint32_t, 4)
SSE_PMOVX(pmovsxbq, b, q, int8_t, uint64_t, 2)
SSE_PMOVX(pmovsxwd, w, d, int16_t, uint32_t, 4)
SSE_PMOVX(pmovsxwq, w, q, int16_t, uint64_t, 2)
SSE_PMOVX(pmovsxdq, d, q, int32_t, uint64_t, 2)
SSE_PMOVX(pmovzxbw, b, w, uint8_t, uint16_t, 8)
SSE_PMOVX(pmovzxbd, b, d, uint8_t, uint32_t, 4)
SSE_PMOVX(pmovzxbq, b, q, uint8_t, uint64_t, 2)
SSE_PMOVX(pmovzxwd, w, d, uint16_t, uint32_t, 4)
SSE_PMOVX(pmovzxwq, w, q, uint16_t, uint64_t, 2)
SSE_PMOVX(pmovzxdq, d, q, uint32_t, uint64_t, 2)

/* ---- handler instances ---- */
SSE_H_BOTH(paddb) SSE_H_BOTH(paddw) SSE_H_BOTH(paddd) SSE_H_BOTH(paddq)
SSE_H_BOTH(psubb) SSE_H_BOTH(psubw) SSE_H_BOTH(psubd) SSE_H_BOTH(psubq)
SSE_H_BOTH(paddsb) SSE_H_BOTH(paddsw) SSE_H_BOTH(psubsb) SSE_H_BOTH(psubsw)
SSE_H_BOTH(paddusb) SSE_H_BOTH(paddusw) SSE_H_BOTH(psubusb) SSE_H_BOTH(psubusw)
SSE_H_BOTH(pmullw) SSE_H_BOTH(pmulhw) SSE_H_BOTH(pmulhuw) SSE_H_BOTH(pmulhrsw)
SSE_H_BOTH(pavgb) SSE_H_BOTH(pavgw) SSE_H_BOTH(pminub) SSE_H_BOTH(pmaxub)
SSE_H_BOTH(pminsw) SSE_H_BOTH(pmaxsw)
SSE_H_BOTH(pand) SSE_H_BOTH(pandn) SSE_H_BOTH(por) SSE_H_BOTH(pxor)
SSE_H_BOTH(pcmpeqb) SSE_H_BOTH(pcmpeqw) SSE_H_BOTH(pcmpeqd)
SSE_H_BOTH(pcmpgtb) SSE_H_BOTH(pcmpgtw) SSE_H_BOTH(pcmpgtd)
SSE_H_BOTH(psignb) SSE_H_BOTH(psignw) SSE_H_BOTH(psignd)
SSE_H_BOTH(pabsb) SSE_H_BOTH(pabsw) SSE_H_BOTH(pabsd)
SSE_H_BOTH(pmuludq) SSE_H_BOTH(pmaddwd) SSE_H_BOTH(pmaddubsw) SSE_H_BOTH(psadbw)
SSE_H_BOTH(packsswb) SSE_H_BOTH(packuswb) SSE_H_BOTH(packssdw)
SSE_H_BOTH(punpckhbw) SSE_H_BOTH(punpckhwd) SSE_H_BOTH(punpckhdq)
SSE_H_BOTH(phaddw) SSE_H_BOTH(phaddd) SSE_H_BOTH(phaddsw)
SSE_H_BOTH(phsubw) SSE_H_BOTH(phsubd) SSE_H_BOTH(phsubsw)
SSE_H_BOTH(pshufb) SSE_H_BOTH(palignr)
SSE_H_BOTH(psrlw) SSE_H_BOTH(psrld) SSE_H_BOTH(psrlq)
SSE_H_BOTH(psllw) SSE_H_BOTH(pslld) SSE_H_BOTH(psllq)
SSE_H_BOTH(psraw) SSE_H_BOTH(psrad)
/* The MMX low unpacks read only 32 bits of memory. */
SSE_H_MM(punpcklbw, 4) SSE_H_MM(punpcklwd, 4) SSE_H_MM(punpckldq, 4)
SSE_H_X(punpcklbw, 16, true) SSE_H_X(punpcklwd, 16, true) SSE_H_X(punpckldq, 16, true)
SSE_H_X(punpcklqdq, 16, true) SSE_H_X(punpckhqdq, 16, true)
SSE_H_MM(pshufw, 8)
SSE_H_X(pshufd, 16, true) SSE_H_X(pshuflw, 16, true) SSE_H_X(pshufhw, 16, true)
SSE_H_X(shufps, 16, true) SSE_H_X(shufpd, 16, true)
SSE_H_X(pmuldq, 16, true) SSE_H_X(pcmpeqq, 16, true) SSE_H_X(pcmpgtq, 16, true)
SSE_H_X(packusdw, 16, true) SSE_H_X(pmulld, 16, true)
SSE_H_X(pminsb, 16, true) SSE_H_X(pmaxsb, 16, true)
SSE_H_X(pminuw, 16, true) SSE_H_X(pmaxuw, 16, true)
SSE_H_X(pminsd, 16, true) SSE_H_X(pmaxsd, 16, true)
SSE_H_X(pminud, 16, true) SSE_H_X(pmaxud, 16, true)
SSE_H_X(phminposuw, 16, true)
SSE_H_X(blendps, 16, true) SSE_H_X(blendpd, 16, true) SSE_H_X(pblendw, 16, true)
SSE_H_X(mpsadbw, 16, true)
SSE_H_X(pmovsxbw, 8, false) SSE_H_X(pmovsxbd, 4, false) SSE_H_X(pmovsxbq, 2, false)
SSE_H_X(pmovsxwd, 8, false) SSE_H_X(pmovsxwq, 4, false) SSE_H_X(pmovsxdq, 8, false)
SSE_H_X(pmovzxbw, 8, false) SSE_H_X(pmovzxbd, 4, false) SSE_H_X(pmovzxbq, 2, false)
SSE_H_X(pmovzxwd, 8, false) SSE_H_X(pmovzxwq, 4, false) SSE_H_X(pmovzxdq, 8, false)

/* ---- moves ---- */

/* Full-register loads: MOVUPS/MOVUPD/MOVDQU/LDDQU (unaligned) and
 * MOVAPS/MOVAPD/MOVDQA/MOVNTDQA (aligned). */
static const XInsn *h_movu_ld(X86CPU *cpu, const XInsn *in)
{
    return xmm_run(cpu, in, op_mov, 16, false);
}

static const XInsn *h_mova_ld(X86CPU *cpu, const XInsn *in)
{
    return xmm_run(cpu, in, op_mov, 16, true);
}

SSE_INLINE const XInsn *xmm_st_run(X86CPU *cpu, const XInsn *in, bool align)
{
    SSE_CHECK(cpu, in);
    if (in->mod == 3)
        cpu->fpu.xmm[in->rm] = cpu->fpu.xmm[in->reg];
    else if (!xmm_store(cpu, in, &cpu->fpu.xmm[in->reg], 16, align))
        return NULL;
    X86_NEXT(cpu, in);
}

static const XInsn *h_movu_st(X86CPU *cpu, const XInsn *in) { return xmm_st_run(cpu, in, false); }
static const XInsn *h_mova_st(X86CPU *cpu, const XInsn *in) { return xmm_st_run(cpu, in, true); }

/* MOVSS/MOVSD loads: a register source merges the low element, memory
 * zero-extends. */
SSE_INLINE const XInsn *movs_ld(X86CPU *cpu, const XInsn *in, unsigned size)
{
    X86Xmm s;
    X86Xmm *d = &cpu->fpu.xmm[in->reg];

    SSE_CHECK(cpu, in);
    if (!xmm_load(cpu, in, &s, size, false))
        return NULL;
    if (in->mod == 3)
        memcpy(d, &s, size);
    else
        *d = s;
    X86_NEXT(cpu, in);
}

SSE_INLINE const XInsn *movs_st(X86CPU *cpu, const XInsn *in, unsigned size)
{
    const X86Xmm *s = &cpu->fpu.xmm[in->reg];

    SSE_CHECK(cpu, in);
    if (in->mod == 3)
        memcpy(&cpu->fpu.xmm[in->rm], s, size);
    else if (!xmm_store(cpu, in, s, size, false))
        return NULL;
    X86_NEXT(cpu, in);
}

static const XInsn *h_movss_ld(X86CPU *cpu, const XInsn *in) { return movs_ld(cpu, in, 4); }
static const XInsn *h_movsd_ld(X86CPU *cpu, const XInsn *in) { return movs_ld(cpu, in, 8); }
static const XInsn *h_movss_st(X86CPU *cpu, const XInsn *in) { return movs_st(cpu, in, 4); }
static const XInsn *h_movsd_st(X86CPU *cpu, const XInsn *in) { return movs_st(cpu, in, 8); }

/* Store the low (MOVLPS/MOVLPD 13) or high (MOVHPS/MOVHPD 17) quadword. */
static const XInsn *h_movlp_st(X86CPU *cpu, const XInsn *in) { return movs_st(cpu, in, 8); }

static const XInsn *h_movhp_st(X86CPU *cpu, const XInsn *in)
{
    X86Xmm t;

    SSE_CHECK(cpu, in);
    t.q[0] = cpu->fpu.xmm[in->reg].q[1];
    if (!xmm_store(cpu, in, &t, 8, false))
        return NULL;
    X86_NEXT(cpu, in);
}

/* 0F 12 / 0F 16 (memory: MOVLPS/MOVLPD, MOVHPS/MOVHPD; register: MOVHLPS,
 * MOVLHPS), MOVSLDUP, MOVSHDUP, MOVDDUP. */
static void op_movlp(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm)
{
    (void)n; (void)imm;
    d->q[0] = s->q[0];
}
static void op_movhlps(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm)
{
    (void)n; (void)imm;
    d->q[0] = s->q[1];
}
static void op_movhp(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm)
{
    (void)n; (void)imm;
    d->q[1] = s->q[0];
}
static void op_movsldup(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm)
{
    (void)n; (void)imm;
    d->d[0] = d->d[1] = s->d[0];
    d->d[2] = d->d[3] = s->d[2];
}
static void op_movshdup(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm)
{
    (void)n; (void)imm;
    d->d[0] = d->d[1] = s->d[1];
    d->d[2] = d->d[3] = s->d[3];
}
static void op_movddup(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm)
{
    (void)n; (void)imm;
    d->q[0] = d->q[1] = s->q[0];
}
/* MOVQ xmm, xmm/m64 (F3 0F 7E): zero the high quadword. */
static void op_movq_x(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm)
{
    (void)n; (void)imm;
    d->q[0] = s->q[0];
    d->q[1] = 0;
}
SSE_H_X(movlp, 8, false) SSE_H_X(movhlps, 16, false) SSE_H_X(movhp, 8, false)
SSE_H_X(movsldup, 16, true) SSE_H_X(movshdup, 16, true) SSE_H_X(movddup, 8, false)
SSE_H_X(movq_x, 8, false)

/* MOVLHPS: 0F 16 with a register source (memory is MOVHPS). */
static void op_movlhps(X86Xmm *d, const X86Xmm *s, unsigned n, unsigned imm)
{
    (void)n; (void)imm;
    d->q[1] = s->q[0];
}
SSE_H_X(movlhps, 16, false)

/* MOVQ mm, mm/m64 (0F 6F) and MOVQ mm/m64, mm (0F 7F). */
SSE_H_MM(mov, 8)

static const XInsn *h_movq_mm_st(X86CPU *cpu, const XInsn *in)
{
    uint64_t v;

    MMX_CHECK(cpu, in);
    v = mm_get(cpu, in->reg);
    if (in->mod != 3 && !x86_st(cpu, in, in->seg, x86_ea(cpu, in), 8, v))
        return NULL;
    mmx_enter(cpu);
    if (in->mod == 3)
        mm_set(cpu, in->rm, v);
    X86_NEXT(cpu, in);
}

/* MOVNTQ m64, mm. */
static const XInsn *h_movntq(X86CPU *cpu, const XInsn *in) { return h_movq_mm_st(cpu, in); }

/* MOVD/MOVQ mm|xmm, r/m32|r/m64 (0F 6E). */
static const XInsn *h_movd_to_mm(X86CPU *cpu, const XInsn *in)
{
    uint64_t v;

    MMX_CHECK(cpu, in);
    if (!x86_rm_get(cpu, in, sse_gsize(in), &v))
        return NULL;
    mmx_enter(cpu);
    mm_set(cpu, in->reg, v);
    X86_NEXT(cpu, in);
}

static const XInsn *h_movd_to_x(X86CPU *cpu, const XInsn *in)
{
    uint64_t v;
    X86Xmm *d = &cpu->fpu.xmm[in->reg];

    SSE_CHECK(cpu, in);
    if (!x86_rm_get(cpu, in, sse_gsize(in), &v))
        return NULL;
    d->q[0] = v;
    d->q[1] = 0;
    X86_NEXT(cpu, in);
}

/* MOVD/MOVQ r/m32|r/m64, mm|xmm (0F 7E): a 32-bit register destination is
 * zero-extended. */
static const XInsn *h_movd_from_mm(X86CPU *cpu, const XInsn *in)
{
    MMX_CHECK(cpu, in);
    if (!x86_rm_set(cpu, in, sse_gsize(in), mm_get(cpu, in->reg)))
        return NULL;
    mmx_enter(cpu);
    X86_NEXT(cpu, in);
}

static const XInsn *h_movd_from_x(X86CPU *cpu, const XInsn *in)
{
    SSE_CHECK(cpu, in);
    if (!x86_rm_set(cpu, in, sse_gsize(in), cpu->fpu.xmm[in->reg].q[0]))
        return NULL;
    X86_NEXT(cpu, in);
}

/* MOVQ xmm/m64, xmm (66 0F D6): a register destination is zero-extended. */
static const XInsn *h_movq_x_st(X86CPU *cpu, const XInsn *in)
{
    const X86Xmm *s = &cpu->fpu.xmm[in->reg];

    SSE_CHECK(cpu, in);
    if (in->mod == 3) {
        X86Xmm *d = &cpu->fpu.xmm[in->rm];
        d->q[0] = s->q[0];
        d->q[1] = 0;
    } else if (!xmm_store(cpu, in, s, 8, false)) {
        return NULL;
    }
    X86_NEXT(cpu, in);
}

/* MOVQ2DQ xmm, mm (F3 0F D6) and MOVDQ2Q mm, xmm (F2 0F D6). */
static const XInsn *h_movq2dq(X86CPU *cpu, const XInsn *in)
{
    X86Xmm *d = &cpu->fpu.xmm[in->reg];

    SSEMMX_CHECK(cpu, in);
    mmx_enter(cpu);
    d->q[0] = mm_get(cpu, in->rm);
    d->q[1] = 0;
    X86_NEXT(cpu, in);
}

static const XInsn *h_movdq2q(X86CPU *cpu, const XInsn *in)
{
    SSEMMX_CHECK(cpu, in);
    mmx_enter(cpu);
    mm_set(cpu, in->reg, cpu->fpu.xmm[in->rm].q[0]);
    X86_NEXT(cpu, in);
}

/* MOVNTI m32/m64, r32/r64. */
static const XInsn *h_movnti(X86CPU *cpu, const XInsn *in)
{
    unsigned size = sse_gsize(in);

    SSE_CHECK(cpu, in);
    if (!x86_st(cpu, in, in->seg, x86_ea(cpu, in), size,
                x86_reg_get(cpu, in->reg, size)))
        return NULL;
    X86_NEXT(cpu, in);
}

/* ---- sign masks (register destination, zero-extended) ---- */
static const XInsn *h_movmskps(X86CPU *cpu, const XInsn *in)
{
    const X86Xmm *s = &cpu->fpu.xmm[in->rm];
    uint32_t m = 0;

    SSE_CHECK(cpu, in);
    for (unsigned i = 0; i < 4; i++)
        m |= (s->d[i] >> 31) << i;
    x86_reg_set(cpu, in->reg, 4, m);
    X86_NEXT(cpu, in);
}

static const XInsn *h_movmskpd(X86CPU *cpu, const XInsn *in)
{
    const X86Xmm *s = &cpu->fpu.xmm[in->rm];

    SSE_CHECK(cpu, in);
    x86_reg_set(cpu, in->reg, 4, (s->q[0] >> 63) | (s->q[1] >> 63) << 1);
    X86_NEXT(cpu, in);
}

static uint32_t sse_bytemask(const X86Xmm *s, unsigned n)
{
    uint32_t m = 0;
    for (unsigned i = 0; i < n; i++)
        m |= (uint32_t)(s->b[i] >> 7) << i;
    return m;
}

static const XInsn *h_pmovmskb_mm(X86CPU *cpu, const XInsn *in)
{
    X86Xmm s;

    MMX_CHECK(cpu, in);
    mmx_enter(cpu);
    s.q[0] = mm_get(cpu, in->rm);
    x86_reg_set(cpu, in->reg, 4, sse_bytemask(&s, 8));
    X86_NEXT(cpu, in);
}

static const XInsn *h_pmovmskb_x(X86CPU *cpu, const XInsn *in)
{
    SSE_CHECK(cpu, in);
    x86_reg_set(cpu, in->reg, 4, sse_bytemask(&cpu->fpu.xmm[in->rm], 16));
    X86_NEXT(cpu, in);
}

/* ---- word/byte/dword inserts and extracts ---- */

/* PINSRW mm, r32/m16, imm (0F C4). */
static const XInsn *h_pinsrw_mm(X86CPU *cpu, const XInsn *in)
{
    uint64_t v;
    X86Xmm d;

    MMX_CHECK(cpu, in);
    if (!x86_rm_get(cpu, in, 2, &v))
        return NULL;
    mmx_enter(cpu);
    d.q[0] = mm_get(cpu, in->reg);
    d.w[in->imm & 3] = (uint16_t)v;
    mm_set(cpu, in->reg, d.q[0]);
    X86_NEXT(cpu, in);
}

/* PINSRB/PINSRW/PINSRD/PINSRQ xmm, r/m, imm: size bytes at element imm. */
SSE_INLINE const XInsn *pinsr_run(X86CPU *cpu, const XInsn *in, unsigned size)
{
    uint64_t v;
    unsigned i = (unsigned)in->imm & (16 / size - 1);

    SSE_CHECK(cpu, in);
    if (!x86_rm_get(cpu, in, size, &v))
        return NULL;
    memcpy(&cpu->fpu.xmm[in->reg].b[i * size], &v, size);
    X86_NEXT(cpu, in);
}

static const XInsn *h_pinsrw_x(X86CPU *cpu, const XInsn *in) { return pinsr_run(cpu, in, 2); }
static const XInsn *h_pinsrb(X86CPU *cpu, const XInsn *in) { return pinsr_run(cpu, in, 1); }
static const XInsn *h_pinsrd(X86CPU *cpu, const XInsn *in)
{
    return pinsr_run(cpu, in, sse_gsize(in));
}

/* PEXTRW r32, mm/xmm, imm (0F C5, register forms only). */
static const XInsn *h_pextrw_mm(X86CPU *cpu, const XInsn *in)
{
    MMX_CHECK(cpu, in);
    mmx_enter(cpu);
    x86_reg_set(cpu, in->reg, 4, (mm_get(cpu, in->rm) >> (16 * (in->imm & 3))) & 0xffff);
    X86_NEXT(cpu, in);
}

static const XInsn *h_pextrw_x(X86CPU *cpu, const XInsn *in)
{
    SSE_CHECK(cpu, in);
    x86_reg_set(cpu, in->reg, 4, cpu->fpu.xmm[in->rm].w[in->imm & 7]);
    X86_NEXT(cpu, in);
}

/* PEXTRB/PEXTRW/PEXTRD/PEXTRQ/EXTRACTPS r/m, xmm, imm (0F 3A 14..17):
 * a register destination gets the element zero-extended. */
SSE_INLINE const XInsn *pextr_run(X86CPU *cpu, const XInsn *in, unsigned size)
{
    uint64_t v = 0;
    unsigned i = (unsigned)in->imm & (16 / size - 1);

    SSE_CHECK(cpu, in);
    memcpy(&v, &cpu->fpu.xmm[in->reg].b[i * size], size);
    if (in->mod == 3)
        x86_reg_set(cpu, in->rm, size == 8 ? 8 : 4, v);
    else if (!x86_st(cpu, in, in->seg, x86_ea(cpu, in), size, v))
        return NULL;
    X86_NEXT(cpu, in);
}

static const XInsn *h_pextrb(X86CPU *cpu, const XInsn *in) { return pextr_run(cpu, in, 1); }
static const XInsn *h_pextrw_rm(X86CPU *cpu, const XInsn *in) { return pextr_run(cpu, in, 2); }
static const XInsn *h_pextrd(X86CPU *cpu, const XInsn *in)
{
    return pextr_run(cpu, in, sse_gsize(in));
}
/* EXTRACTPS: always 32 bits (REX.W only widens a register destination,
 * whose upper half is zero either way). */
static const XInsn *h_extractps(X86CPU *cpu, const XInsn *in) { return pextr_run(cpu, in, 4); }

/* INSERTPS xmm, xmm/m32, imm: source element imm[7:6] (memory: the m32),
 * destination element imm[5:4], then zero the elements in imm[3:0]. */
static const XInsn *h_insertps(X86CPU *cpu, const XInsn *in)
{
    X86Xmm s;
    X86Xmm *d = &cpu->fpu.xmm[in->reg];
    unsigned imm = (unsigned)in->imm;

    SSE_CHECK(cpu, in);
    if (!xmm_load(cpu, in, &s, 4, false))
        return NULL;
    d->d[(imm >> 4) & 3] = in->mod == 3 ? s.d[(imm >> 6) & 3] : s.d[0];
    for (unsigned i = 0; i < 4; i++)
        if (imm & (1u << i))
            d->d[i] = 0;
    X86_NEXT(cpu, in);
}

/* MASKMOVQ / MASKMOVDQU: bytes of reg whose mask byte (rm) has bit 7 set
 * go to seg:[rDI] (DS unless overridden).  The span from the first to the
 * last selected byte is probed before any byte is written; an all-zero
 * mask writes nothing and faults on nothing. */
static bool maskmov(X86CPU *cpu, const XInsn *in, const X86Xmm *v, const X86Xmm *m,
                    unsigned n)
{
    uint64_t base = cpu->regs[X86_RDI] & x86_addr_mask(in->asize);
    int first = -1, last = -1;

    for (unsigned i = 0; i < n; i++) {
        if (m->b[i] & 0x80) {
            if (first < 0)
                first = (int)i;
            last = (int)i;
        }
    }
    if (first < 0)
        return true;
    if (!x86_probe(cpu, in, in->seg, (base + (unsigned)first) & x86_addr_mask(in->asize),
                   (unsigned)(last - first + 1), X86_ACC_WRITE))
        return false;
    for (int i = first; i <= last; i++) {
        if ((m->b[i] & 0x80) &&
            !x86_st(cpu, in, in->seg, (base + (unsigned)i) & x86_addr_mask(in->asize), 1,
                    v->b[i]))
            return false;
    }
    return true;
}

static const XInsn *h_maskmovq(X86CPU *cpu, const XInsn *in)
{
    X86Xmm v, m;

    MMX_CHECK(cpu, in);
    v.q[0] = mm_get(cpu, in->reg);
    m.q[0] = mm_get(cpu, in->rm);
    if (!maskmov(cpu, in, &v, &m, 8))
        return NULL;
    mmx_enter(cpu);
    X86_NEXT(cpu, in);
}

static const XInsn *h_maskmovdqu(X86CPU *cpu, const XInsn *in)
{
    SSE_CHECK(cpu, in);
    if (!maskmov(cpu, in, &cpu->fpu.xmm[in->reg], &cpu->fpu.xmm[in->rm], 16))
        return NULL;
    X86_NEXT(cpu, in);
}

/* EMMS: every x87 tag empty. */
static const XInsn *h_emms(X86CPU *cpu, const XInsn *in)
{
    MMX_CHECK(cpu, in);
    x86_mmx_emms(cpu);
    X86_NEXT(cpu, in);
}
