/* MMX, SSE, SSE2, SSE3, SSSE3, SSE4.1, SSE4.2 (CRC32 included), MXCSR
 * access and the fences.  The handlers live in sse_int.h (integer and
 * data movement) and sse_fp.h (floating point); this file has the SSE4.2
 * string and CRC32 instructions, MXCSR, fences and the opcode table.
 *
 * Not modelled: #AC for misaligned MMX/scalar operands with CR0.AM and
 * EFLAGS.AC at CPL 3; AMD's MXCSR.MM misaligned-SSE mode. */
#include "targets/x86/sse.h"

#include "targets/x86/sse_int.h"
#include "targets/x86/sse_fp.h"

/* ---- SSE4.2 string compares ---- */

/* Element i of v as the format imm[1:0] says (ub, uw, sb, sw). */
static inline int pcs_elem(const X86Xmm *v, unsigned i, unsigned fmt)
{
    switch (fmt) {
    case 0: return v->b[i];
    case 1: return v->w[i];
    case 2: return (int8_t)v->b[i];
    default: return (int16_t)v->w[i];
    }
}

/* Implicit length: elements before the first zero one. */
static unsigned pcs_implicit(const X86Xmm *v, unsigned n, unsigned fmt)
{
    for (unsigned i = 0; i < n; i++)
        if (pcs_elem(v, i, fmt) == 0)
            return i;
    return n;
}

/* Explicit length: |EAX| or |EDX| (RAX/RDX with REX.W), at most n. */
static unsigned pcs_explicit(uint64_t r, bool w, unsigned n)
{
    int64_t v = w ? (int64_t)r : (int32_t)r;
    uint64_t a = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    return a < n ? (unsigned)a : n;
}

/* IntRes2 of the SDM for src1 a (length la) and src2 b (length lb). */
static uint32_t pcs_compare(const X86Xmm *a, const X86Xmm *b, unsigned la, unsigned lb,
                            unsigned imm)
{
    unsigned fmt = imm & 3, n = (imm & 1) ? 8 : 16;
    uint32_t res = 0, all = (1u << n) - 1;

    switch ((imm >> 2) & 3) {
    case 0:                              /* equal any */
        for (unsigned j = 0; j < lb; j++)
            for (unsigned i = 0; i < la; i++)
                if (pcs_elem(a, i, fmt) == pcs_elem(b, j, fmt)) {
                    res |= 1u << j;
                    break;
                }
        break;
    case 1:                              /* ranges: pairs a[i] <= b <= a[i+1] */
        for (unsigned j = 0; j < lb; j++) {
            int e = pcs_elem(b, j, fmt);
            for (unsigned i = 0; i + 1 < la; i += 2)
                if (pcs_elem(a, i, fmt) <= e && e <= pcs_elem(a, i + 1, fmt)) {
                    res |= 1u << j;
                    break;
                }
        }
        break;
    case 2:                              /* equal each */
        for (unsigned j = 0; j < n; j++) {
            bool va = j < la, vb = j < lb;
            if (va && vb ? pcs_elem(a, j, fmt) == pcs_elem(b, j, fmt) : !va && !vb)
                res |= 1u << j;
        }
        break;
    default:                             /* equal ordered (substring) */
        for (unsigned j = 0; j < n; j++) {
            bool m = true;
            for (unsigned k = 0; k + j < n && m; k++) {
                if (k >= la)
                    break;               /* needle ended: match */
                if (j + k >= lb || pcs_elem(a, k, fmt) != pcs_elem(b, j + k, fmt))
                    m = false;
            }
            if (m)
                res |= 1u << j;
        }
        break;
    }
    switch ((imm >> 4) & 3) {
    case 1:
        res ^= all;
        break;
    case 3:
        res ^= (1u << lb) - 1;           /* only the valid elements of src2 */
        break;
    }
    return res & all;
}

SSE_INLINE const XInsn *pcmpstr(X86CPU *cpu, const XInsn *in, bool expl, bool index)
{
    X86Xmm b;
    const X86Xmm *a = &cpu->fpu.xmm[in->reg];
    unsigned imm = (unsigned)in->imm, fmt = imm & 3, n = (imm & 1) ? 8 : 16, la, lb;
    bool w = in->pfx & X86_P_REXW;
    uint32_t res, f = 0;

    SSE_CHECK(cpu, in);
    if (!xmm_load(cpu, in, &b, 16, false))     /* no alignment needed */
        return NULL;
    if (expl) {
        la = pcs_explicit(cpu->regs[X86_RAX], w, n);
        lb = pcs_explicit(cpu->regs[X86_RDX], w, n);
    } else {
        la = pcs_implicit(a, n, fmt);
        lb = pcs_implicit(&b, n, fmt);
    }
    res = pcs_compare(a, &b, la, lb, imm);
    if (index) {
        unsigned idx = n;
        if (res)
            idx = (imm & 0x40) ? 31 - (unsigned)__builtin_clz(res)
                               : (unsigned)__builtin_ctz(res);
        x86_reg_set(cpu, X86_RCX, 4, idx);
    } else {
        X86Xmm *m = &cpu->fpu.xmm[0];
        if (imm & 0x40) {
            unsigned es = 16 / n;
            for (unsigned i = 0; i < n; i++)
                memset(&m->b[i * es], (res >> i & 1) ? 0xff : 0, es);
        } else {
            m->q[0] = res;
            m->q[1] = 0;
        }
    }
    if (res)
        f |= X86_CF;
    if (lb < n)
        f |= X86_ZF;
    if (la < n)
        f |= X86_SF;
    if (res & 1)
        f |= X86_OF;
    x86_set_arith(cpu, f);
    X86_NEXT(cpu, in);
}

static const XInsn *h_pcmpestrm(X86CPU *cpu, const XInsn *in) { return pcmpstr(cpu, in, true, false); }
static const XInsn *h_pcmpestri(X86CPU *cpu, const XInsn *in) { return pcmpstr(cpu, in, true, true); }
static const XInsn *h_pcmpistrm(X86CPU *cpu, const XInsn *in) { return pcmpstr(cpu, in, false, false); }
static const XInsn *h_pcmpistri(X86CPU *cpu, const XInsn *in) { return pcmpstr(cpu, in, false, true); }

/* ---- CRC32 (F2 0F 38 F0/F1): CRC-32C, reflected polynomial 0x82F63B78,
 * no inversion; the source's bytes in memory order.  A general-purpose
 * instruction: no CR0/CR4 checks.  The destination is r32, or r64 with
 * REX.W whose upper half becomes zero. ---- */
static uint32_t crc32c(uint32_t c, uint64_t v, unsigned size)
{
    for (unsigned i = 0; i < size; i++) {
        c ^= (uint8_t)(v >> (8 * i));
        for (unsigned k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
    }
    return c;
}

static const XInsn *h_crc32(X86CPU *cpu, const XInsn *in)
{
    unsigned size = (in->op & 1) ? in->osize : 1;
    uint64_t v;

    if (!x86_rm_get(cpu, in, size, &v))
        return NULL;
    x86_reg_set(cpu, in->reg, 4, crc32c((uint32_t)cpu->regs[in->reg], v, size));
    X86_NEXT(cpu, in);
}

/* ---- MXCSR, fences, CLFLUSH (0F AE) ---- */
static const XInsn *h_ldmxcsr(X86CPU *cpu, const XInsn *in)
{
    uint64_t v;

    SSE_CHECK(cpu, in);
    if (!x86_ld(cpu, in, in->seg, x86_ea(cpu, in), 4, &v))
        return NULL;
    if (v & ~(uint64_t)MX_WRITABLE)
        return x86_raise(cpu, in, X86_EXC_GP, 0);
    cpu->fpu.mxcsr = (uint32_t)v;
    X86_NEXT(cpu, in);
}

static const XInsn *h_stmxcsr(X86CPU *cpu, const XInsn *in)
{
    SSE_CHECK(cpu, in);
    if (!x86_st(cpu, in, in->seg, x86_ea(cpu, in), 4, cpu->fpu.mxcsr))
        return NULL;
    X86_NEXT(cpu, in);
}

/* The interpreter runs one CPU in program order: fences have nothing to
 * order. */
static const XInsn *h_fence(X86CPU *cpu, const XInsn *in)
{
    X86_NEXT(cpu, in);
}

/* No cache to flush, but the access must be valid: faults like a byte
 * read (segment checks and page faults). */
static const XInsn *h_clflush(X86CPU *cpu, const XInsn *in)
{
    if (!x86_probe(cpu, in, in->seg, x86_ea(cpu, in), 1, X86_ACC_READ))
        return NULL;
    X86_NEXT(cpu, in);
}

/* ---- the opcode table ---- */
#define SSE_F (X86_D_MODRM | X86_D_SSE)
#define E_(map, byte, r, m, p, im, fn_, nm)                                   \
    { .op = X86_OP(X86_MAP_##map, byte), .reg = (r), .rm = -1, .mod = X86_M_##m, \
      .pfx = X86_PF_##p, .imm = X86_I_##im, .flags = SSE_F, .fn = (fn_), .name = (nm) }
/* Any ModRM form, no immediate. */
#define E(map, byte, p, fn_, nm) E_(map, byte, -1, ANY, p, NONE, fn_, nm)
#define EI(map, byte, p, fn_, nm) E_(map, byte, -1, ANY, p, UB, fn_, nm)
#define EM(map, byte, p, fn_, nm) E_(map, byte, -1, MEM, p, NONE, fn_, nm)
#define ER(map, byte, p, fn_, nm) E_(map, byte, -1, REG, p, NONE, fn_, nm)
/* MMX (no prefix) and XMM (66) forms of one operation. */
#define EMX(map, byte, name, nm) E(map, byte, NONE, h_##name##_mm, nm), E(map, byte, 66, h_##name##_x, nm)
/* Packed single/double, scalar single/double. */
#define E4(byte, op) E(0F, byte, NONE, h_##op##ps, #op "ps"), E(0F, byte, 66, h_##op##pd, #op "pd"), \
    E(0F, byte, F3, h_##op##ss, #op "ss"), E(0F, byte, F2, h_##op##sd, #op "sd")
/* Shift-by-immediate groups: mod = 3 only. */
#define ESH(byte, r, name, nm)                                                \
    E_(0F, byte, r, REG, NONE, UB, h_##name##i_mm, nm),                       \
    E_(0F, byte, r, REG, 66, UB, h_##name##i_x, nm)

const X86OpDef x86_ops_sse[] = {
    /* 0F 10..17 */
    E(0F, 0x10, NONE, h_movu_ld, "movups"), E(0F, 0x10, 66, h_movu_ld, "movupd"),
    E(0F, 0x10, F3, h_movss_ld, "movss"), E(0F, 0x10, F2, h_movsd_ld, "movsd"),
    E(0F, 0x11, NONE, h_movu_st, "movups"), E(0F, 0x11, 66, h_movu_st, "movupd"),
    E(0F, 0x11, F3, h_movss_st, "movss"), E(0F, 0x11, F2, h_movsd_st, "movsd"),
    EM(0F, 0x12, NONE, h_movlp_x, "movlps"), ER(0F, 0x12, NONE, h_movhlps_x, "movhlps"),
    EM(0F, 0x12, 66, h_movlp_x, "movlpd"),
    E(0F, 0x12, F3, h_movsldup_x, "movsldup"), E(0F, 0x12, F2, h_movddup_x, "movddup"),
    EM(0F, 0x13, NONE, h_movlp_st, "movlps"), EM(0F, 0x13, 66, h_movlp_st, "movlpd"),
    E(0F, 0x14, NONE, h_punpckldq_x, "unpcklps"), E(0F, 0x14, 66, h_punpcklqdq_x, "unpcklpd"),
    E(0F, 0x15, NONE, h_punpckhdq_x, "unpckhps"), E(0F, 0x15, 66, h_punpckhqdq_x, "unpckhpd"),
    EM(0F, 0x16, NONE, h_movhp_x, "movhps"), ER(0F, 0x16, NONE, h_movlhps_x, "movlhps"),
    EM(0F, 0x16, 66, h_movhp_x, "movhpd"), E(0F, 0x16, F3, h_movshdup_x, "movshdup"),
    EM(0F, 0x17, NONE, h_movhp_st, "movhps"), EM(0F, 0x17, 66, h_movhp_st, "movhpd"),

    /* 0F 28..2F */
    E(0F, 0x28, NONE, h_mova_ld, "movaps"), E(0F, 0x28, 66, h_mova_ld, "movapd"),
    E(0F, 0x29, NONE, h_mova_st, "movaps"), E(0F, 0x29, 66, h_mova_st, "movapd"),
    E(0F, 0x2a, NONE, h_cvtpi2ps, "cvtpi2ps"), E(0F, 0x2a, 66, h_cvtpi2pd, "cvtpi2pd"),
    E(0F, 0x2a, F3, h_cvtsi2ss, "cvtsi2ss"), E(0F, 0x2a, F2, h_cvtsi2sd, "cvtsi2sd"),
    EM(0F, 0x2b, NONE, h_mova_st, "movntps"), EM(0F, 0x2b, 66, h_mova_st, "movntpd"),
    E(0F, 0x2c, NONE, h_cvttps2pi, "cvttps2pi"), E(0F, 0x2c, 66, h_cvttpd2pi, "cvttpd2pi"),
    E(0F, 0x2c, F3, h_cvttss2si, "cvttss2si"), E(0F, 0x2c, F2, h_cvttsd2si, "cvttsd2si"),
    E(0F, 0x2d, NONE, h_cvtps2pi, "cvtps2pi"), E(0F, 0x2d, 66, h_cvtpd2pi, "cvtpd2pi"),
    E(0F, 0x2d, F3, h_cvtss2si, "cvtss2si"), E(0F, 0x2d, F2, h_cvtsd2si, "cvtsd2si"),
    E(0F, 0x2e, NONE, h_ucomiss, "ucomiss"), E(0F, 0x2e, 66, h_ucomisd, "ucomisd"),
    E(0F, 0x2f, NONE, h_comiss, "comiss"), E(0F, 0x2f, 66, h_comisd, "comisd"),

    /* 0F 50..5F */
    ER(0F, 0x50, NONE, h_movmskps, "movmskps"), ER(0F, 0x50, 66, h_movmskpd, "movmskpd"),
    E4(0x51, sqrt),
    E(0F, 0x52, NONE, h_rsqrtps, "rsqrtps"), E(0F, 0x52, F3, h_rsqrtss, "rsqrtss"),
    E(0F, 0x53, NONE, h_rcpps, "rcpps"), E(0F, 0x53, F3, h_rcpss, "rcpss"),
    E(0F, 0x54, NONE, h_pand_x, "andps"), E(0F, 0x54, 66, h_pand_x, "andpd"),
    E(0F, 0x55, NONE, h_pandn_x, "andnps"), E(0F, 0x55, 66, h_pandn_x, "andnpd"),
    E(0F, 0x56, NONE, h_por_x, "orps"), E(0F, 0x56, 66, h_por_x, "orpd"),
    E(0F, 0x57, NONE, h_pxor_x, "xorps"), E(0F, 0x57, 66, h_pxor_x, "xorpd"),
    E4(0x58, add), E4(0x59, mul),
    E(0F, 0x5a, NONE, h_cvtps2pd, "cvtps2pd"), E(0F, 0x5a, 66, h_cvtpd2ps, "cvtpd2ps"),
    E(0F, 0x5a, F3, h_cvtss2sd, "cvtss2sd"), E(0F, 0x5a, F2, h_cvtsd2ss, "cvtsd2ss"),
    E(0F, 0x5b, NONE, h_cvtdq2ps, "cvtdq2ps"), E(0F, 0x5b, 66, h_cvtps2dq, "cvtps2dq"),
    E(0F, 0x5b, F3, h_cvttps2dq, "cvttps2dq"),
    E4(0x5c, sub), E4(0x5d, min), E4(0x5e, div), E4(0x5f, max),

    /* 0F 60..7F */
    EMX(0F, 0x60, punpcklbw, "punpcklbw"), EMX(0F, 0x61, punpcklwd, "punpcklwd"),
    EMX(0F, 0x62, punpckldq, "punpckldq"), EMX(0F, 0x63, packsswb, "packsswb"),
    EMX(0F, 0x64, pcmpgtb, "pcmpgtb"), EMX(0F, 0x65, pcmpgtw, "pcmpgtw"),
    EMX(0F, 0x66, pcmpgtd, "pcmpgtd"), EMX(0F, 0x67, packuswb, "packuswb"),
    EMX(0F, 0x68, punpckhbw, "punpckhbw"), EMX(0F, 0x69, punpckhwd, "punpckhwd"),
    EMX(0F, 0x6a, punpckhdq, "punpckhdq"), EMX(0F, 0x6b, packssdw, "packssdw"),
    E(0F, 0x6c, 66, h_punpcklqdq_x, "punpcklqdq"), E(0F, 0x6d, 66, h_punpckhqdq_x, "punpckhqdq"),
    E(0F, 0x6e, NONE, h_movd_to_mm, "movd"), E(0F, 0x6e, 66, h_movd_to_x, "movd"),
    E(0F, 0x6f, NONE, h_mov_mm, "movq"), E(0F, 0x6f, 66, h_mova_ld, "movdqa"),
    E(0F, 0x6f, F3, h_movu_ld, "movdqu"),
    EI(0F, 0x70, NONE, h_pshufw_mm, "pshufw"), EI(0F, 0x70, 66, h_pshufd_x, "pshufd"),
    EI(0F, 0x70, F3, h_pshufhw_x, "pshufhw"), EI(0F, 0x70, F2, h_pshuflw_x, "pshuflw"),
    ESH(0x71, 2, psrlw, "psrlw"), ESH(0x71, 4, psraw, "psraw"), ESH(0x71, 6, psllw, "psllw"),
    ESH(0x72, 2, psrld, "psrld"), ESH(0x72, 4, psrad, "psrad"), ESH(0x72, 6, pslld, "pslld"),
    ESH(0x73, 2, psrlq, "psrlq"), ESH(0x73, 6, psllq, "psllq"),
    E_(0F, 0x73, 3, REG, 66, UB, h_psrldq, "psrldq"),
    E_(0F, 0x73, 7, REG, 66, UB, h_pslldq, "pslldq"),
    EMX(0F, 0x74, pcmpeqb, "pcmpeqb"), EMX(0F, 0x75, pcmpeqw, "pcmpeqw"),
    EMX(0F, 0x76, pcmpeqd, "pcmpeqd"),
    { .op = X86_OP(X86_MAP_0F, 0x77), .reg = -1, .rm = -1, .flags = X86_D_SSE,
      .fn = h_emms, .name = "emms" },
    E(0F, 0x7c, 66, h_haddpd, "haddpd"), E(0F, 0x7c, F2, h_haddps, "haddps"),
    E(0F, 0x7d, 66, h_hsubpd, "hsubpd"), E(0F, 0x7d, F2, h_hsubps, "hsubps"),
    E(0F, 0x7e, NONE, h_movd_from_mm, "movd"), E(0F, 0x7e, 66, h_movd_from_x, "movd"),
    E(0F, 0x7e, F3, h_movq_x_x, "movq"),
    E(0F, 0x7f, NONE, h_movq_mm_st, "movq"), E(0F, 0x7f, 66, h_mova_st, "movdqa"),
    E(0F, 0x7f, F3, h_movu_st, "movdqu"),

    /* 0F C2..C6 */
    EI(0F, 0xc2, NONE, h_cmpps, "cmpps"), EI(0F, 0xc2, 66, h_cmppd, "cmppd"),
    EI(0F, 0xc2, F3, h_cmpss, "cmpss"), EI(0F, 0xc2, F2, h_cmpsd, "cmpsd"),
    EM(0F, 0xc3, NONE, h_movnti, "movnti"),
    EI(0F, 0xc4, NONE, h_pinsrw_mm, "pinsrw"), EI(0F, 0xc4, 66, h_pinsrw_x, "pinsrw"),
    E_(0F, 0xc5, -1, REG, NONE, UB, h_pextrw_mm, "pextrw"),
    E_(0F, 0xc5, -1, REG, 66, UB, h_pextrw_x, "pextrw"),
    EI(0F, 0xc6, NONE, h_shufps_x, "shufps"), EI(0F, 0xc6, 66, h_shufpd_x, "shufpd"),

    /* 0F D0..FE */
    E(0F, 0xd0, 66, h_addsubpd, "addsubpd"), E(0F, 0xd0, F2, h_addsubps, "addsubps"),
    EMX(0F, 0xd1, psrlw, "psrlw"), EMX(0F, 0xd2, psrld, "psrld"), EMX(0F, 0xd3, psrlq, "psrlq"),
    EMX(0F, 0xd4, paddq, "paddq"), EMX(0F, 0xd5, pmullw, "pmullw"),
    E(0F, 0xd6, 66, h_movq_x_st, "movq"),
    ER(0F, 0xd6, F3, h_movq2dq, "movq2dq"), ER(0F, 0xd6, F2, h_movdq2q, "movdq2q"),
    ER(0F, 0xd7, NONE, h_pmovmskb_mm, "pmovmskb"), ER(0F, 0xd7, 66, h_pmovmskb_x, "pmovmskb"),
    EMX(0F, 0xd8, psubusb, "psubusb"), EMX(0F, 0xd9, psubusw, "psubusw"),
    EMX(0F, 0xda, pminub, "pminub"), EMX(0F, 0xdb, pand, "pand"),
    EMX(0F, 0xdc, paddusb, "paddusb"), EMX(0F, 0xdd, paddusw, "paddusw"),
    EMX(0F, 0xde, pmaxub, "pmaxub"), EMX(0F, 0xdf, pandn, "pandn"),
    EMX(0F, 0xe0, pavgb, "pavgb"), EMX(0F, 0xe1, psraw, "psraw"), EMX(0F, 0xe2, psrad, "psrad"),
    EMX(0F, 0xe3, pavgw, "pavgw"), EMX(0F, 0xe4, pmulhuw, "pmulhuw"),
    EMX(0F, 0xe5, pmulhw, "pmulhw"),
    E(0F, 0xe6, 66, h_cvttpd2dq, "cvttpd2dq"), E(0F, 0xe6, F3, h_cvtdq2pd, "cvtdq2pd"),
    E(0F, 0xe6, F2, h_cvtpd2dq, "cvtpd2dq"),
    EM(0F, 0xe7, NONE, h_movntq, "movntq"), EM(0F, 0xe7, 66, h_mova_st, "movntdq"),
    EMX(0F, 0xe8, psubsb, "psubsb"), EMX(0F, 0xe9, psubsw, "psubsw"),
    EMX(0F, 0xea, pminsw, "pminsw"), EMX(0F, 0xeb, por, "por"),
    EMX(0F, 0xec, paddsb, "paddsb"), EMX(0F, 0xed, paddsw, "paddsw"),
    EMX(0F, 0xee, pmaxsw, "pmaxsw"), EMX(0F, 0xef, pxor, "pxor"),
    EM(0F, 0xf0, F2, h_movu_ld, "lddqu"),
    EMX(0F, 0xf1, psllw, "psllw"), EMX(0F, 0xf2, pslld, "pslld"), EMX(0F, 0xf3, psllq, "psllq"),
    EMX(0F, 0xf4, pmuludq, "pmuludq"), EMX(0F, 0xf5, pmaddwd, "pmaddwd"),
    EMX(0F, 0xf6, psadbw, "psadbw"),
    ER(0F, 0xf7, NONE, h_maskmovq, "maskmovq"), ER(0F, 0xf7, 66, h_maskmovdqu, "maskmovdqu"),
    EMX(0F, 0xf8, psubb, "psubb"), EMX(0F, 0xf9, psubw, "psubw"),
    EMX(0F, 0xfa, psubd, "psubd"), EMX(0F, 0xfb, psubq, "psubq"),
    EMX(0F, 0xfc, paddb, "paddb"), EMX(0F, 0xfd, paddw, "paddw"), EMX(0F, 0xfe, paddd, "paddd"),

    /* 0F 38: SSSE3 (MMX and XMM forms), SSE4.1, SSE4.2 */
    EMX(0F38, 0x00, pshufb, "pshufb"), EMX(0F38, 0x01, phaddw, "phaddw"),
    EMX(0F38, 0x02, phaddd, "phaddd"), EMX(0F38, 0x03, phaddsw, "phaddsw"),
    EMX(0F38, 0x04, pmaddubsw, "pmaddubsw"), EMX(0F38, 0x05, phsubw, "phsubw"),
    EMX(0F38, 0x06, phsubd, "phsubd"), EMX(0F38, 0x07, phsubsw, "phsubsw"),
    EMX(0F38, 0x08, psignb, "psignb"), EMX(0F38, 0x09, psignw, "psignw"),
    EMX(0F38, 0x0a, psignd, "psignd"), EMX(0F38, 0x0b, pmulhrsw, "pmulhrsw"),
    E(0F38, 0x10, 66, h_pblendvb, "pblendvb"), E(0F38, 0x14, 66, h_blendvps, "blendvps"),
    E(0F38, 0x15, 66, h_blendvpd, "blendvpd"), E(0F38, 0x17, 66, h_ptest, "ptest"),
    EMX(0F38, 0x1c, pabsb, "pabsb"), EMX(0F38, 0x1d, pabsw, "pabsw"),
    EMX(0F38, 0x1e, pabsd, "pabsd"),
    E(0F38, 0x20, 66, h_pmovsxbw_x, "pmovsxbw"), E(0F38, 0x21, 66, h_pmovsxbd_x, "pmovsxbd"),
    E(0F38, 0x22, 66, h_pmovsxbq_x, "pmovsxbq"), E(0F38, 0x23, 66, h_pmovsxwd_x, "pmovsxwd"),
    E(0F38, 0x24, 66, h_pmovsxwq_x, "pmovsxwq"), E(0F38, 0x25, 66, h_pmovsxdq_x, "pmovsxdq"),
    E(0F38, 0x28, 66, h_pmuldq_x, "pmuldq"), E(0F38, 0x29, 66, h_pcmpeqq_x, "pcmpeqq"),
    EM(0F38, 0x2a, 66, h_mova_ld, "movntdqa"), E(0F38, 0x2b, 66, h_packusdw_x, "packusdw"),
    E(0F38, 0x30, 66, h_pmovzxbw_x, "pmovzxbw"), E(0F38, 0x31, 66, h_pmovzxbd_x, "pmovzxbd"),
    E(0F38, 0x32, 66, h_pmovzxbq_x, "pmovzxbq"), E(0F38, 0x33, 66, h_pmovzxwd_x, "pmovzxwd"),
    E(0F38, 0x34, 66, h_pmovzxwq_x, "pmovzxwq"), E(0F38, 0x35, 66, h_pmovzxdq_x, "pmovzxdq"),
    E(0F38, 0x37, 66, h_pcmpgtq_x, "pcmpgtq"),
    E(0F38, 0x38, 66, h_pminsb_x, "pminsb"), E(0F38, 0x39, 66, h_pminsd_x, "pminsd"),
    E(0F38, 0x3a, 66, h_pminuw_x, "pminuw"), E(0F38, 0x3b, 66, h_pminud_x, "pminud"),
    E(0F38, 0x3c, 66, h_pmaxsb_x, "pmaxsb"), E(0F38, 0x3d, 66, h_pmaxsd_x, "pmaxsd"),
    E(0F38, 0x3e, 66, h_pmaxuw_x, "pmaxuw"), E(0F38, 0x3f, 66, h_pmaxud_x, "pmaxud"),
    E(0F38, 0x40, 66, h_pmulld_x, "pmulld"), E(0F38, 0x41, 66, h_phminposuw_x, "phminposuw"),
    /* CRC32: F2 selects it, but 66 keeps its operand-size meaning, so
     * these are not X86_D_SSE entries (0F 38 F0/F1 without F2 is MOVBE). */
    { .op = X86_OP(X86_MAP_0F38, 0xf0), .reg = -1, .rm = -1, .mod = X86_M_ANY,
      .pfx = X86_PF_F2, .flags = X86_D_MODRM | X86_D_RMBYTE, .fn = h_crc32, .name = "crc32" },
    { .op = X86_OP(X86_MAP_0F38, 0xf1), .reg = -1, .rm = -1, .mod = X86_M_ANY,
      .pfx = X86_PF_F2, .flags = X86_D_MODRM, .fn = h_crc32, .name = "crc32" },

    /* 0F 3A */
    EI(0F3A, 0x08, 66, h_roundps, "roundps"), EI(0F3A, 0x09, 66, h_roundpd, "roundpd"),
    EI(0F3A, 0x0a, 66, h_roundss, "roundss"), EI(0F3A, 0x0b, 66, h_roundsd, "roundsd"),
    EI(0F3A, 0x0c, 66, h_blendps_x, "blendps"), EI(0F3A, 0x0d, 66, h_blendpd_x, "blendpd"),
    EI(0F3A, 0x0e, 66, h_pblendw_x, "pblendw"),
    EI(0F3A, 0x0f, NONE, h_palignr_mm, "palignr"), EI(0F3A, 0x0f, 66, h_palignr_x, "palignr"),
    EI(0F3A, 0x14, 66, h_pextrb, "pextrb"), EI(0F3A, 0x15, 66, h_pextrw_rm, "pextrw"),
    EI(0F3A, 0x16, 66, h_pextrd, "pextrd"), EI(0F3A, 0x17, 66, h_extractps, "extractps"),
    EI(0F3A, 0x20, 66, h_pinsrb, "pinsrb"), EI(0F3A, 0x21, 66, h_insertps, "insertps"),
    EI(0F3A, 0x22, 66, h_pinsrd, "pinsrd"),
    EI(0F3A, 0x40, 66, h_dpps, "dpps"), EI(0F3A, 0x41, 66, h_dppd, "dppd"),
    EI(0F3A, 0x42, 66, h_mpsadbw_x, "mpsadbw"),
    EI(0F3A, 0x60, 66, h_pcmpestrm, "pcmpestrm"), EI(0F3A, 0x61, 66, h_pcmpestri, "pcmpestri"),
    EI(0F3A, 0x62, 66, h_pcmpistrm, "pcmpistrm"), EI(0F3A, 0x63, 66, h_pcmpistri, "pcmpistri"),

    /* 0F AE: the prefix is ignored (not X86_D_SSE); the other forms of
     * the group belong to fpu.c (FXSAVE, XSAVE...) and sys.c. */
    { .op = X86_OP(X86_MAP_0F, 0xae), .reg = 2, .rm = -1, .mod = X86_M_MEM,
      .flags = X86_D_MODRM, .fn = h_ldmxcsr, .name = "ldmxcsr" },
    { .op = X86_OP(X86_MAP_0F, 0xae), .reg = 3, .rm = -1, .mod = X86_M_MEM,
      .flags = X86_D_MODRM, .fn = h_stmxcsr, .name = "stmxcsr" },
    { .op = X86_OP(X86_MAP_0F, 0xae), .reg = 5, .rm = -1, .mod = X86_M_REG,
      .flags = X86_D_MODRM, .fn = h_fence, .name = "lfence" },
    { .op = X86_OP(X86_MAP_0F, 0xae), .reg = 6, .rm = -1, .mod = X86_M_REG,
      .flags = X86_D_MODRM, .fn = h_fence, .name = "mfence" },
    { .op = X86_OP(X86_MAP_0F, 0xae), .reg = 7, .rm = -1, .mod = X86_M_REG,
      .flags = X86_D_MODRM, .fn = h_fence, .name = "sfence" },
    { .op = X86_OP(X86_MAP_0F, 0xae), .reg = 7, .rm = -1, .mod = X86_M_MEM,
      .flags = X86_D_MODRM, .fn = h_clflush, .name = "clflush" },
    { 0 },
};
