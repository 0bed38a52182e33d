/* Included by sse.c only: SSE/SSE2/SSE3/SSE4.1 floating point.
 *
 * The guest's SSE semantics are the host's (this file needs an x86-64 host
 * with SSE4.1): each operation runs the same host instruction inside one
 * window that installs the guest's MXCSR control bits (rounding, FTZ, DAZ)
 * with every exception masked and the flags clear, and reads the flags
 * back.  So results, NaN propagation, denormal handling and the flags are
 * the hardware's by construction.  A non-x86 host would need a soft-float
 * path here (not written).
 *
 * Unmasked exceptions: the masked run tells which exceptions occur; the
 * SDM's order decides what the guest sees: an unmasked pre-computation
 * exception (IE, DE, ZE) on any element sets only the pre-computation
 * flags and faults; otherwise all flags are set and an unmasked
 * post-computation exception (OE, UE, PE) faults.  The destination is not
 * written in either case.  With UE unmasked, underflow is signalled for
 * every tiny result, exact or not; a second run with FTZ set detects
 * tininess for that.  With OE/UE unmasked the SDM's scaled-result PE rule
 * is approximated by the masked run's PE.  #XM if CR4.OSXMMEXCPT, else #UD.
 *
 * RCPPS/RSQRTPS/RCPSS/RSQRTSS are implementation-specific approximations
 * (Intel publishes no table): the host instruction gives them, which equals
 * the hardware on Intel hosts. */

typedef long long sse_v __attribute__((vector_size(16)));

/* One host operation: d = op(d, s) with control *mx in, flags out. */
typedef void HostFn(X86Xmm *d, const X86Xmm *s, unsigned imm, uint32_t *mx);

/* The window.  Only asm statements (volatile, so kept in order) run
 * between FP_BEGIN and FP_END: no compiler-generated FP code can slip in. */
#define FP_BEGIN(d, s)                                                        \
    sse_v a_, b_;                                                             \
    uint32_t sv_;                                                             \
    memcpy(&a_, (d), 16);                                                     \
    memcpy(&b_, (s), 16);                                                     \
    __asm__ volatile("stmxcsr %0\n\tldmxcsr %1" : "=m"(sv_) : "m"(*mx))
#define FP_END(d)                                                             \
    __asm__ volatile("stmxcsr %0\n\tldmxcsr %1" : "=m"(*mx) : "m"(sv_));      \
    memcpy((d), &a_, 16)
#define FP_OP(insn) __asm__ volatile(insn " %[b], %[a]" : [a] "+x"(a_) : [b] "x"(b_))
#define FP_OPI(insn, i)                                                       \
    __asm__ volatile(insn " %[c], %[b], %[a]" : [a] "+x"(a_) : [b] "x"(b_), [c] "i"(i))

#define HOST2(name, insn)                                                     \
    static void hf_##name(X86Xmm *d, const X86Xmm *s, unsigned imm, uint32_t *mx) \
    {                                                                         \
        (void)imm;                                                            \
        FP_BEGIN(d, s);                                                       \
        FP_OP(insn);                                                          \
        FP_END(d);                                                            \
    }

SSE_COLD bool fp_unmasked(X86CPU *cpu, const XInsn *in, HostFn *fn, X86Xmm *d,
                          const X86Xmm *s, unsigned imm, uint32_t f)
{
    uint32_t g = cpu->fpu.mxcsr;
    uint32_t unm = ~(g >> 7) & MX_FLAGS;
    X86Xmm r = *d;

    if ((unm & MX_UE) && !(f & MX_UE)) {
        X86Xmm t = *d;
        uint32_t mx = (g & ~MX_FLAGS) | MX_MASKS | MX_FTZ;
        fn(&t, s, imm, &mx);
        f |= mx & MX_UE;
    }
    if (f & unm & (MX_IE | MX_DE | MX_ZE))
        f &= MX_IE | MX_DE | MX_ZE;
    if (!(f & unm)) {
        uint32_t mx = (g & ~MX_FLAGS) | MX_MASKS;
        fn(&r, s, imm, &mx);
        cpu->fpu.mxcsr = g | (mx & MX_FLAGS);
        *d = r;
        return true;
    }
    cpu->fpu.mxcsr = g | f;
    x86_raise(cpu, in, (cpu->cr4 & X86_CR4_OSXMMEXCPT) ? X86_EXC_XM : X86_EXC_UD,
              X86_NO_ERR);
    return false;
}

/* Run fn on (d, s) for the guest: flags into MXCSR, *d updated unless an
 * unmasked exception faulted (then false, the fault raised). */
SSE_INLINE bool fp_exec(X86CPU *cpu, const XInsn *in, HostFn *fn, X86Xmm *d,
                        const X86Xmm *s, unsigned imm)
{
    uint32_t g = cpu->fpu.mxcsr;
    uint32_t mx = (g & ~MX_FLAGS) | MX_MASKS;
    X86Xmm r = *d;

    if (unlikely((g & MX_MASKS) != MX_MASKS))
        return fp_unmasked(cpu, in, fn, d, s, imm, (fn(&r, s, imm, &mx), mx & MX_FLAGS));
    fn(&r, s, imm, &mx);
    cpu->fpu.mxcsr = g | (mx & MX_FLAGS);
    *d = r;
    return true;
}

/* xmm[reg] = fn(xmm[reg], src) with src of msize bytes. */
SSE_INLINE const XInsn *fp_run(X86CPU *cpu, const XInsn *in, HostFn *fn, unsigned msize,
                               bool align)
{
    X86Xmm s, d;

    SSE_CHECK(cpu, in);
    if (!xmm_load(cpu, in, &s, msize, align))
        return NULL;
    d = cpu->fpu.xmm[in->reg];
    if (!fp_exec(cpu, in, fn, &d, &s, (unsigned)in->imm))
        return NULL;
    cpu->fpu.xmm[in->reg] = d;
    X86_NEXT(cpu, in);
}

#define FP_H(name, msize, align)                                              \
    static const XInsn *h_##name(X86CPU *cpu, const XInsn *in)                \
    {                                                                         \
        return fp_run(cpu, in, hf_##name, msize, align);                      \
    }
/* Packed single/double (m128, aligned), scalar single (m32), double (m64). */
#define FP_4(op)                                                              \
    HOST2(op##ps, #op "ps") HOST2(op##pd, #op "pd")                           \
    HOST2(op##ss, #op "ss") HOST2(op##sd, #op "sd")                           \
    FP_H(op##ps, 16, true) FP_H(op##pd, 16, true)                             \
    FP_H(op##ss, 4, false) FP_H(op##sd, 8, false)
FP_4(add)
FP_4(sub)
FP_4(mul)
FP_4(div)
FP_4(min)
FP_4(max)
FP_4(sqrt)

HOST2(rcpps, "rcpps") HOST2(rcpss, "rcpss")
HOST2(rsqrtps, "rsqrtps") HOST2(rsqrtss, "rsqrtss")
FP_H(rcpps, 16, true) FP_H(rcpss, 4, false)
FP_H(rsqrtps, 16, true) FP_H(rsqrtss, 4, false)

HOST2(haddps, "haddps") HOST2(haddpd, "haddpd")
HOST2(hsubps, "hsubps") HOST2(hsubpd, "hsubpd")
HOST2(addsubps, "addsubps") HOST2(addsubpd, "addsubpd")
FP_H(haddps, 16, true) FP_H(haddpd, 16, true)
FP_H(hsubps, 16, true) FP_H(hsubpd, 16, true)
FP_H(addsubps, 16, true) FP_H(addsubpd, 16, true)

/* Conversions between FP formats and packed int32. */
HOST2(cvtps2pd, "cvtps2pd") HOST2(cvtpd2ps, "cvtpd2ps")
HOST2(cvtss2sd, "cvtss2sd") HOST2(cvtsd2ss, "cvtsd2ss")
HOST2(cvtdq2ps, "cvtdq2ps") HOST2(cvtps2dq, "cvtps2dq") HOST2(cvttps2dq, "cvttps2dq")
HOST2(cvttpd2dq, "cvttpd2dq") HOST2(cvtdq2pd, "cvtdq2pd") HOST2(cvtpd2dq, "cvtpd2dq")
FP_H(cvtps2pd, 8, false) FP_H(cvtpd2ps, 16, true)
FP_H(cvtss2sd, 4, false) FP_H(cvtsd2ss, 8, false)
FP_H(cvtdq2ps, 16, true) FP_H(cvtps2dq, 16, true) FP_H(cvttps2dq, 16, true)
FP_H(cvttpd2dq, 16, true) FP_H(cvtdq2pd, 8, false) FP_H(cvtpd2dq, 16, true)

/* CMPPS/PD/SS/SD: the predicate is imm[2:0]. */
#define FP_CMP(name, insn)                                                    \
    static void hf_##name(X86Xmm *d, const X86Xmm *s, unsigned imm, uint32_t *mx) \
    {                                                                         \
        FP_BEGIN(d, s);                                                       \
        switch (imm & 7) {                                                    \
        case 0: FP_OPI(insn, 0); break;                                       \
        case 1: FP_OPI(insn, 1); break;                                       \
        case 2: FP_OPI(insn, 2); break;                                       \
        case 3: FP_OPI(insn, 3); break;                                       \
        case 4: FP_OPI(insn, 4); break;                                       \
        case 5: FP_OPI(insn, 5); break;                                       \
        case 6: FP_OPI(insn, 6); break;                                       \
        default: FP_OPI(insn, 7); break;                                      \
        }                                                                     \
        FP_END(d);                                                            \
    }
FP_CMP(cmpps, "cmpps") FP_CMP(cmppd, "cmppd") FP_CMP(cmpss, "cmpss") FP_CMP(cmpsd, "cmpsd")
FP_H(cmpps, 16, true) FP_H(cmppd, 16, true) FP_H(cmpss, 4, false) FP_H(cmpsd, 8, false)

/* ROUNDPS/PD/SS/SD: imm[2] = use MXCSR.RC, else RC = imm[1:0]; imm[3]
 * suppresses PE.  The rounding control goes into the window's MXCSR. */
#define FP_ROUND(name, insn)                                                  \
    static void hf_##name(X86Xmm *d, const X86Xmm *s, unsigned imm, uint32_t *mx) \
    {                                                                         \
        if (!(imm & 4))                                                       \
            *mx = (*mx & ~0x6000u) | (imm & 3) << 13;                         \
        FP_BEGIN(d, s);                                                       \
        if (imm & 8)                                                          \
            FP_OPI(insn, 12);                                                 \
        else                                                                  \
            FP_OPI(insn, 4);                                                  \
        FP_END(d);                                                            \
    }
FP_ROUND(roundps, "roundps") FP_ROUND(roundpd, "roundpd")
FP_ROUND(roundss, "roundss") FP_ROUND(roundsd, "roundsd")
FP_H(roundps, 16, true) FP_H(roundpd, 16, true) FP_H(roundss, 4, false) FP_H(roundsd, 8, false)

/* DPPS: products of the elements selected by imm[7:4] (others +0.0),
 * summed as (p0 + p1) + (p2 + p3), stored to the elements of imm[3:0]
 * (others +0.0).  Each step is one host MULSS/ADDSS in the window, so
 * rounding and flags are those of the separate operations (intermediate
 * denormals may raise DE, as with the separate instructions). */
static void hf_dpps(X86Xmm *d, const X86Xmm *s, unsigned imm, uint32_t *mx)
{
    sse_v p[4], t, u;
    uint32_t sv_;
    X86Xmm r;

    for (unsigned i = 0; i < 4; i++) {
        X86Xmm x = { .d = { (imm & (0x10u << i)) ? d->d[i] : 0 } };
        memcpy(&p[i], &x, 16);
    }
    __asm__ volatile("stmxcsr %0\n\tldmxcsr %1" : "=m"(sv_) : "m"(*mx));
    for (unsigned i = 0; i < 4; i++) {
        if (imm & (0x10u << i)) {
            X86Xmm y = { .d = { s->d[i] } };
            memcpy(&t, &y, 16);
            __asm__ volatile("mulss %[b], %[a]" : [a] "+x"(p[i]) : [b] "x"(t));
        }
    }
    t = p[0];
    __asm__ volatile("addss %[b], %[a]" : [a] "+x"(t) : [b] "x"(p[1]));
    u = p[2];
    __asm__ volatile("addss %[b], %[a]" : [a] "+x"(u) : [b] "x"(p[3]));
    __asm__ volatile("addss %[b], %[a]" : [a] "+x"(t) : [b] "x"(u));
    __asm__ volatile("stmxcsr %0\n\tldmxcsr %1" : "=m"(*mx) : "m"(sv_));
    memcpy(&r, &t, 16);
    for (unsigned i = 0; i < 4; i++)
        d->d[i] = (imm & (1u << i)) ? r.d[0] : 0;
}

static void hf_dppd(X86Xmm *d, const X86Xmm *s, unsigned imm, uint32_t *mx)
{
    sse_v p[2], t;
    uint32_t sv_;
    X86Xmm r;

    for (unsigned i = 0; i < 2; i++) {
        X86Xmm x = { .q = { (imm & (0x10u << i)) ? d->q[i] : 0 } };
        memcpy(&p[i], &x, 16);
    }
    __asm__ volatile("stmxcsr %0\n\tldmxcsr %1" : "=m"(sv_) : "m"(*mx));
    for (unsigned i = 0; i < 2; i++) {
        if (imm & (0x10u << i)) {
            X86Xmm y = { .q = { s->q[i] } };
            memcpy(&t, &y, 16);
            __asm__ volatile("mulsd %[b], %[a]" : [a] "+x"(p[i]) : [b] "x"(t));
        }
    }
    t = p[0];
    __asm__ volatile("addsd %[b], %[a]" : [a] "+x"(t) : [b] "x"(p[1]));
    __asm__ volatile("stmxcsr %0\n\tldmxcsr %1" : "=m"(*mx) : "m"(sv_));
    memcpy(&r, &t, 16);
    for (unsigned i = 0; i < 2; i++)
        d->q[i] = (imm & (1u << i)) ? r.q[0] : 0;
}
FP_H(dpps, 16, true) FP_H(dppd, 16, true)

/* ---- COMISS/UCOMISS/COMISD/UCOMISD: ZF PF CF, OF SF AF cleared ---- */
#define FP_COMI(name, insn)                                                   \
    static void hf_##name(X86Xmm *d, const X86Xmm *s, unsigned imm, uint32_t *mx) \
    {                                                                         \
        uint8_t z, p, c;                                                      \
        (void)imm;                                                            \
        FP_BEGIN(d, s);                                                       \
        __asm__ volatile(insn " %[b], %[a]\n\tsetz %[z]\n\tsetp %[p]\n\tsetc %[c]" \
                         : [z] "=q"(z), [p] "=q"(p), [c] "=q"(c)              \
                         : [a] "x"(a_), [b] "x"(b_) : "cc");                  \
        FP_END(d);                                                            \
        d->d[0] = (z ? X86_ZF : 0) | (p ? X86_PF : 0) | (c ? X86_CF : 0);     \
    }
FP_COMI(comiss, "comiss") FP_COMI(ucomiss, "ucomiss")
FP_COMI(comisd, "comisd") FP_COMI(ucomisd, "ucomisd")

SSE_INLINE const XInsn *comi_run(X86CPU *cpu, const XInsn *in, HostFn *fn, unsigned msize)
{
    X86Xmm s, d;

    SSE_CHECK(cpu, in);
    if (!xmm_load(cpu, in, &s, msize, false))
        return NULL;
    d = cpu->fpu.xmm[in->reg];
    if (!fp_exec(cpu, in, fn, &d, &s, 0))
        return NULL;
    x86_set_arith(cpu, d.d[0]);
    X86_NEXT(cpu, in);
}

static const XInsn *h_comiss(X86CPU *cpu, const XInsn *in) { return comi_run(cpu, in, hf_comiss, 4); }
static const XInsn *h_ucomiss(X86CPU *cpu, const XInsn *in) { return comi_run(cpu, in, hf_ucomiss, 4); }
static const XInsn *h_comisd(X86CPU *cpu, const XInsn *in) { return comi_run(cpu, in, hf_comisd, 8); }
static const XInsn *h_ucomisd(X86CPU *cpu, const XInsn *in) { return comi_run(cpu, in, hf_ucomisd, 8); }

/* ---- scalar FP to integer: imm = 1 for a 64-bit result; d->q[0] = it.
 * Overflow and NaN give the integer indefinite (host behaviour). ---- */
#define FP_TOINT(name, insn)                                                  \
    static void hf_##name(X86Xmm *d, const X86Xmm *s, unsigned imm, uint32_t *mx) \
    {                                                                         \
        uint64_t r;                                                           \
        uint32_t r32;                                                         \
        FP_BEGIN(d, s);                                                       \
        if (imm) {                                                            \
            __asm__ volatile(insn " %[b], %[r]" : [r] "=r"(r) : [b] "x"(b_)); \
        } else {                                                              \
            __asm__ volatile(insn " %[b], %[r]" : [r] "=r"(r32) : [b] "x"(b_)); \
            r = r32;                                                          \
        }                                                                     \
        FP_END(d);                                                            \
        d->q[0] = r;                                                          \
    }
FP_TOINT(cvtss2si, "cvtss2si") FP_TOINT(cvttss2si, "cvttss2si")
FP_TOINT(cvtsd2si, "cvtsd2si") FP_TOINT(cvttsd2si, "cvttsd2si")

SSE_INLINE const XInsn *toint_run(X86CPU *cpu, const XInsn *in, HostFn *fn, unsigned msize)
{
    X86Xmm s, d;
    unsigned w = in->pfx & X86_P_REXW ? 1 : 0;

    SSE_CHECK(cpu, in);
    if (!xmm_load(cpu, in, &s, msize, false))
        return NULL;
    d = s;
    if (!fp_exec(cpu, in, fn, &d, &s, w))
        return NULL;
    x86_reg_set(cpu, in->reg, w ? 8 : 4, d.q[0]);
    X86_NEXT(cpu, in);
}

static const XInsn *h_cvtss2si(X86CPU *cpu, const XInsn *in) { return toint_run(cpu, in, hf_cvtss2si, 4); }
static const XInsn *h_cvttss2si(X86CPU *cpu, const XInsn *in) { return toint_run(cpu, in, hf_cvttss2si, 4); }
static const XInsn *h_cvtsd2si(X86CPU *cpu, const XInsn *in) { return toint_run(cpu, in, hf_cvtsd2si, 8); }
static const XInsn *h_cvttsd2si(X86CPU *cpu, const XInsn *in) { return toint_run(cpu, in, hf_cvttsd2si, 8); }

/* ---- integer to scalar FP: s->q[0] holds the integer, imm = 1 if 64-bit ---- */
#define FP_FROMINT(name, insn)                                                \
    static void hf_##name(X86Xmm *d, const X86Xmm *s, unsigned imm, uint32_t *mx) \
    {                                                                         \
        uint64_t v = s->q[0];                                                 \
        uint32_t v32 = (uint32_t)v;                                           \
        FP_BEGIN(d, s);                                                       \
        if (imm)                                                              \
            __asm__ volatile(insn "q %[g], %[a]" : [a] "+x"(a_) : [g] "r"(v));  \
        else                                                                  \
            __asm__ volatile(insn "l %[g], %[a]" : [a] "+x"(a_) : [g] "r"(v32)); \
        FP_END(d);                                                            \
    }
FP_FROMINT(cvtsi2ss, "cvtsi2ss") FP_FROMINT(cvtsi2sd, "cvtsi2sd")

SSE_INLINE const XInsn *fromint_run(X86CPU *cpu, const XInsn *in, HostFn *fn)
{
    X86Xmm s, d;
    unsigned w = in->pfx & X86_P_REXW ? 1 : 0;

    SSE_CHECK(cpu, in);
    if (!x86_rm_get(cpu, in, w ? 8 : 4, &s.q[0]))
        return NULL;
    s.q[1] = 0;
    d = cpu->fpu.xmm[in->reg];
    if (!fp_exec(cpu, in, fn, &d, &s, w))
        return NULL;
    cpu->fpu.xmm[in->reg] = d;
    X86_NEXT(cpu, in);
}

static const XInsn *h_cvtsi2ss(X86CPU *cpu, const XInsn *in) { return fromint_run(cpu, in, hf_cvtsi2ss); }
static const XInsn *h_cvtsi2sd(X86CPU *cpu, const XInsn *in) { return fromint_run(cpu, in, hf_cvtsi2sd); }

/* ---- conversions with MMX operands, done with the XMM forms on the
 * relevant elements (zero elsewhere: an exact zero raises nothing) ---- */

/* CVTPI2PS: two int32 into the low two singles, the high two kept. */
static void hf_cvtpi2ps(X86Xmm *d, const X86Xmm *s, unsigned imm, uint32_t *mx)
{
    X86Xmm t = { .q = { s->q[0], 0 } };
    (void)imm;
    hf_cvtdq2ps(&t, &t, 0, mx);
    d->q[0] = t.q[0];
}

/* CVTPS2PI / CVTTPS2PI / CVTPD2PI / CVTTPD2PI: d->q[0] = the pair. */
#define FP_TOPI(name, xname, ps)                                              \
    static void hf_##name(X86Xmm *d, const X86Xmm *s, unsigned imm, uint32_t *mx) \
    {                                                                         \
        X86Xmm t = { .q = { s->q[0], (ps) ? 0 : s->q[1] } };                  \
        (void)imm;                                                            \
        hf_##xname(&t, &t, 0, mx);                                            \
        d->q[0] = t.q[0];                                                     \
    }
FP_TOPI(cvtps2pi, cvtps2dq, 1) FP_TOPI(cvttps2pi, cvttps2dq, 1)
FP_TOPI(cvtpd2pi, cvtpd2dq, 0) FP_TOPI(cvttpd2pi, cvttpd2dq, 0)

/* xmm[reg] = fn(xmm[reg], mm/m64); the MMX transition only with an MM
 * source (the SDM: a memory source leaves the x87 state alone). */
SSE_INLINE const XInsn *frompi_run(X86CPU *cpu, const XInsn *in, HostFn *fn)
{
    X86Xmm s, d;

    if (in->mod == 3)
        SSEMMX_CHECK(cpu, in);
    else
        SSE_CHECK(cpu, in);
    s.q[1] = 0;
    if (!mm_load(cpu, in, &s.q[0], 8))
        return NULL;
    d = cpu->fpu.xmm[in->reg];
    if (!fp_exec(cpu, in, fn, &d, &s, 0))
        return NULL;
    if (in->mod == 3)
        mmx_enter(cpu);
    cpu->fpu.xmm[in->reg] = d;
    X86_NEXT(cpu, in);
}

static const XInsn *h_cvtpi2ps(X86CPU *cpu, const XInsn *in) { return frompi_run(cpu, in, hf_cvtpi2ps); }
static const XInsn *h_cvtpi2pd(X86CPU *cpu, const XInsn *in) { return frompi_run(cpu, in, hf_cvtdq2pd); }

/* mm[reg] = fn(xmm/m64 or xmm/m128). */
SSE_INLINE const XInsn *topi_run(X86CPU *cpu, const XInsn *in, HostFn *fn, unsigned msize)
{
    X86Xmm s, d;

    SSEMMX_CHECK(cpu, in);
    if (!xmm_load(cpu, in, &s, msize, msize == 16))
        return NULL;
    d = s;
    if (!fp_exec(cpu, in, fn, &d, &s, 0))
        return NULL;
    mmx_enter(cpu);
    mm_set(cpu, in->reg, d.q[0]);
    X86_NEXT(cpu, in);
}

static const XInsn *h_cvtps2pi(X86CPU *cpu, const XInsn *in) { return topi_run(cpu, in, hf_cvtps2pi, 8); }
static const XInsn *h_cvttps2pi(X86CPU *cpu, const XInsn *in) { return topi_run(cpu, in, hf_cvttps2pi, 8); }
static const XInsn *h_cvtpd2pi(X86CPU *cpu, const XInsn *in) { return topi_run(cpu, in, hf_cvtpd2pi, 16); }
static const XInsn *h_cvttpd2pi(X86CPU *cpu, const XInsn *in) { return topi_run(cpu, in, hf_cvttpd2pi, 16); }
