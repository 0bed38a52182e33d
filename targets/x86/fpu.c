/* The x87 FPU (D8-DF, FWAIT), FXSAVE/FXRSTOR, XSAVE/XRSTOR, XGETBV/XSETBV.
 *
 * Everything is computed in software, so results do not depend on the
 * host: arithmetic, conversions, compares, remainders and scaling with the
 * exact extended precision of f80.h, the transcendental instructions
 * (F2XM1 FYL2X FYL2XP1 FPTAN FPATAN FSIN FCOS FSINCOS) with fpu_trans.c,
 * correctly rounded in the current rounding mode.
 *
 * Exceptions: flags accumulate in FSW; an unmasked one sets ES/B and the
 * next waiting x87 instruction (or FWAIT) raises #MF when CR0.NE = 1.
 * With CR0.NE = 0 the PC routes FERR# to IRQ 13; the board has no such
 * wire, so the exception is then ignored (as if IGNNE# were asserted).
 * Unmasked I/D/Z leave the destination and TOP unchanged; unmasked O/U
 * deliver the exponent-adjusted result to a register destination and do
 * not store to memory. */
#include <string.h>

#include "targets/x86/cpu.h"
#include "targets/x86/f80.h"
#include "targets/x86/flags.h"
#include "targets/x86/fpu.h"
#include "targets/x86/fpu_trans.h"
#include "targets/x86/insn.h"

/* ---- stack ---- */

static inline unsigned ftop(const X86CPU *cpu)
{
    return (cpu->fpu.fsw >> 11) & 7;
}

static inline void set_top(X86CPU *cpu, unsigned t)
{
    cpu->fpu.fsw = (uint16_t)((cpu->fpu.fsw & ~X86_FSW_TOP) | (t & 7) << 11);
}

static inline unsigned phys(const X86CPU *cpu, unsigned i)
{
    return (ftop(cpu) + i) & 7;
}

static inline bool fempty(const X86CPU *cpu, unsigned i)
{
    return !((cpu->fpu.ftw >> phys(cpu, i)) & 1);
}

static inline F80 fget(const X86CPU *cpu, unsigned i)
{
    const X86Float80 *r = &cpu->fpu.st[phys(cpu, i)];
    F80 v = { r->mant, r->sexp };
    return v;
}

static inline void fput(X86CPU *cpu, unsigned i, F80 v)
{
    unsigned p = phys(cpu, i);
    cpu->fpu.st[p].mant = v.mant;
    cpu->fpu.st[p].sexp = v.sexp;
    cpu->fpu.ftw |= (uint8_t)(1u << p);
}

static inline void fpop(X86CPU *cpu)
{
    cpu->fpu.ftw &= (uint8_t)~(1u << ftop(cpu));
    set_top(cpu, ftop(cpu) + 1);
}

static inline void fpush(X86CPU *cpu, F80 v)
{
    set_top(cpu, ftop(cpu) - 1);
    fput(cpu, 0, v);
}

static inline F80Ctx fctx(const X86CPU *cpu)
{
    static const unsigned prec[4] = { 24, 64, 53, 64 };   /* 01 reserved */
    unsigned cw = cpu->fpu.fcw;
    F80Ctx c = { prec[(cw >> 8) & 3], (cw >> 10) & 3, cw & 0x3f, 0 };
    return c;
}

/* Merge raised flags into FSW (C1 replaced).  Returns false when an
 * unmasked I, D or Z exception forbids delivering the result. */
static bool fflags(X86CPU *cpu, unsigned fl)
{
    uint16_t fsw = cpu->fpu.fsw & (uint16_t)~X86_FSW_C1;
    fsw |= (uint16_t)(fl & (0x7f | X86_FSW_C1));
    unsigned unm = fl & ~cpu->fpu.fcw & 0x3f;
    if (unm) {
        fsw |= X86_FSW_ES | X86_FSW_B;
        cpu->fpu.fop = cpu->fop_cur;
    }
    cpu->fpu.fsw = fsw;
    return !(unm & (F80_IE | F80_DE | F80_ZE));
}

/* ES and B follow the flags and masks (FLDCW, FLDENV, FRSTOR, FXRSTOR). */
static void fsync_es(X86CPU *cpu)
{
    if (cpu->fpu.fsw & ~cpu->fpu.fcw & 0x3f)
        cpu->fpu.fsw |= X86_FSW_ES | X86_FSW_B;
    else
        cpu->fpu.fsw &= (uint16_t)~(X86_FSW_ES | X86_FSW_B);
}

static inline void set_fcw(X86CPU *cpu, uint16_t v)
{
    cpu->fpu.fcw = (uint16_t)((v & 0x1f3f) | 0x40);  /* bit 6 reads 1 */
}

/* Stack underflow (C1 = 0) / overflow (C1 = 1): IE|SF.  Returns whether
 * the masked response (QNaN indefinite) goes ahead. */
static inline bool fstack_fault(X86CPU *cpu, bool overflow)
{
    return fflags(cpu, F80_IE | F80_SF | (overflow ? F80_C1 : 0));
}

static inline void set_cc(X86CPU *cpu, uint16_t cc)
{
    cpu->fpu.fsw = (uint16_t)((cpu->fpu.fsw &
                               ~(X86_FSW_C0 | X86_FSW_C1 | X86_FSW_C2 | X86_FSW_C3)) | cc);
}

/* ---- entry checks and last-instruction pointers ---- */

/* Waiting instruction: #NM (CR0.EM/TS), then #MF for a pending unmasked
 * exception when CR0.NE = 1. */
#define FPU_WAIT(cpu, in)                                                    \
    do {                                                                     \
        if (unlikely((cpu)->cr0 & (X86_CR0_EM | X86_CR0_TS)))                \
            return x86_raise((cpu), (in), X86_EXC_NM, X86_NO_ERR);           \
        if (unlikely((cpu)->fpu.fsw & X86_FSW_ES) && ((cpu)->cr0 & X86_CR0_NE)) \
            return x86_raise((cpu), (in), X86_EXC_MF, X86_NO_ERR);           \
    } while (0)

/* FN* control instructions: #NM only. */
#define FPU_NOWAIT(cpu, in)                                                  \
    do {                                                                     \
        if (unlikely((cpu)->cr0 & (X86_CR0_EM | X86_CR0_TS)))                \
            return x86_raise((cpu), (in), X86_EXC_NM, X86_NO_ERR);           \
    } while (0)

/* Non-control instructions record FCS:FIP and (memory operand) FDS:FDP
 * once their memory access has succeeded.  FOP only in the fopcode
 * compatibility mode (IA32_MISC_ENABLE bit 2); otherwise it is the opcode
 * of the last instruction that signalled an unmasked exception (fflags),
 * as on Intel CPUs since the Pentium 4 by default (SDM vol. 1, 8.1.9.1). */
static inline void fnote(X86CPU *cpu, const XInsn *in)
{
    X86Fpu *f = &cpu->fpu;
    cpu->fop_cur =
        (uint16_t)((in->op & 7) << 8 | in->mod << 6 | (in->reg & 7) << 3 | (in->rm & 7));
    if (cpu->misc_enable & X86_MISC_FOPCODE_COMPAT)
        f->fop = cpu->fop_cur;
    f->fip = in->pc;
    f->fcs = cpu->seg[X86_CS].selector;
    if (in->mod != 3) {
        f->fdp = x86_ea(cpu, in);
        f->fds = cpu->seg[in->seg].selector;
    }
}

#define FPU_EA(cpu, in) x86_ea((cpu), (in))

/* ---- loads of memory operands ---- */

/* Memory operand of the D8/DA/DC/DE arithmetic forms as an F80. */
static bool ld_arith(X86CPU *cpu, const XInsn *in, F80Ctx *c, F80 *v)
{
    uint64_t x;
    unsigned opc = in->op & 0xff;
    unsigned size = opc == 0xdc ? 8 : opc == 0xde ? 2 : 4;
    if (!x86_ld(cpu, in, in->seg, FPU_EA(cpu, in), size, &x))
        return false;
    switch (opc) {
    case 0xd8: *v = f80_from_ieee(c, x, 23, 8); break;
    case 0xdc: *v = f80_from_ieee(c, x, 52, 11); break;
    case 0xda: *v = f80_from_i64((int32_t)x); break;
    default: *v = f80_from_i64((int16_t)x); break;
    }
    return true;
}

/* ---- arithmetic ---- */

/* op: ModRM.reg of D8 (0 add, 1 mul, 4 sub, 5 subr, 6 div, 7 divr). */
static F80 farith(F80Ctx *c, unsigned op, F80 a, F80 b)
{
    switch (op) {
    case 0: return f80_add(c, a, b, false);
    case 1: return f80_mul(c, a, b);
    case 4: return f80_add(c, a, b, true);
    case 5: return f80_add(c, b, a, true);
    case 6: return f80_div(c, a, b);
    default: return f80_div(c, b, a);
    }
}

static const uint16_t cmp_cc[4] = {
    [F80_LT] = X86_FSW_C0, [F80_EQ] = X86_FSW_C3, [F80_GT] = 0,
    [F80_UN] = X86_FSW_C0 | X86_FSW_C2 | X86_FSW_C3,
};

/* FCOM-family on a, b (already known non-empty); pops npop times. */
static void fcom(X86CPU *cpu, F80 a, F80 b, bool quiet, unsigned npop)
{
    F80Ctx c = fctx(cpu);
    int r = f80_compare(&c, a, b, quiet);
    if (!fflags(cpu, c.fl))
        return;
    set_cc(cpu, cmp_cc[r]);
    while (npop--)
        fpop(cpu);
}

/* Compare with empty operand(s): stack underflow, masked -> unordered. */
static void fcom_underflow(X86CPU *cpu, unsigned npop)
{
    if (!fstack_fault(cpu, false))
        return;
    set_cc(cpu, cmp_cc[F80_UN]);
    while (npop--)
        fpop(cpu);
}

/* D8 /r, DA /r, DC /r, DE /r with a memory operand. */
static const XInsn *fpu_arith_mem(X86CPU *cpu, const XInsn *in)
{
    FPU_WAIT(cpu, in);
    F80Ctx c = fctx(cpu);
    F80 b;
    if (!ld_arith(cpu, in, &c, &b))
        return NULL;
    fnote(cpu, in);
    unsigned op = in->reg & 7;
    if (fempty(cpu, 0)) {
        if (op == 2 || op == 3)
            fcom_underflow(cpu, op == 3);
        else if (fstack_fault(cpu, false))
            fput(cpu, 0, f80_indefinite);
        X86_NEXT(cpu, in);
    }
    F80 a = fget(cpu, 0);
    if (op == 2 || op == 3) {
        int r = f80_compare(&c, a, b, false);
        if (fflags(cpu, c.fl)) {
            set_cc(cpu, cmp_cc[r]);
            if (op == 3)
                fpop(cpu);
        }
        X86_NEXT(cpu, in);
    }
    F80 r = farith(&c, op, a, b);
    if (fflags(cpu, c.fl))
        fput(cpu, 0, r);
    X86_NEXT(cpu, in);
}

/* D8 register forms: ST0 = ST0 op ST(i); FCOM/FCOMP ST(i). */
static const XInsn *fpu_d8_reg(X86CPU *cpu, const XInsn *in)
{
    FPU_WAIT(cpu, in);
    fnote(cpu, in);
    unsigned op = in->reg & 7, i = in->rm & 7;
    bool cmp = op == 2 || op == 3;
    if (fempty(cpu, 0) || fempty(cpu, i)) {
        if (cmp)
            fcom_underflow(cpu, op == 3);
        else if (fstack_fault(cpu, false))
            fput(cpu, 0, f80_indefinite);
        X86_NEXT(cpu, in);
    }
    if (cmp) {
        fcom(cpu, fget(cpu, 0), fget(cpu, i), false, op == 3);
        X86_NEXT(cpu, in);
    }
    F80Ctx c = fctx(cpu);
    F80 r = farith(&c, op, fget(cpu, 0), fget(cpu, i));
    if (fflags(cpu, c.fl))
        fput(cpu, 0, r);
    X86_NEXT(cpu, in);
}

/* DC / DE register forms: ST(i) = ST(i) op ST0 (reg 4/5 and 6/7 are the
 * reversed operations), DE pops.  DC D0/D8 and DE D0 are FCOM/FCOMP
 * aliases, DE D9 FCOMPP. */
static const XInsn *fpu_dcde_reg(X86CPU *cpu, const XInsn *in)
{
    unsigned op = in->reg & 7, i = in->rm & 7;
    bool pop = (in->op & 0xff) == 0xde;
    if (pop && op == 3 && i != 1)
        return x86_raise(cpu, in, X86_EXC_UD, X86_NO_ERR);
    FPU_WAIT(cpu, in);
    fnote(cpu, in);
    if (op == 2 || op == 3) {
        /* DC D0+i FCOM, DC D8+i FCOMP, DE D0+i FCOMP, DE D9 FCOMPP */
        unsigned npop = (op == 3 ? 1 : 0) + (pop ? 1 : 0);
        if (fempty(cpu, 0) || fempty(cpu, i))
            fcom_underflow(cpu, npop);
        else
            fcom(cpu, fget(cpu, 0), fget(cpu, i), false, npop);
        X86_NEXT(cpu, in);
    }
    if (fempty(cpu, 0) || fempty(cpu, i)) {
        if (fstack_fault(cpu, false)) {
            fput(cpu, i, f80_indefinite);
            if (pop)
                fpop(cpu);
        }
        X86_NEXT(cpu, in);
    }
    F80Ctx c = fctx(cpu);
    F80 r = farith(&c, op >= 4 ? op ^ 1 : op, fget(cpu, i), fget(cpu, 0));
    if (fflags(cpu, c.fl)) {
        fput(cpu, i, r);
        if (pop)
            fpop(cpu);
    }
    X86_NEXT(cpu, in);
}

/* ---- loads and stores ---- */

static const XInsn *fld_value(X86CPU *cpu, const XInsn *in, F80 v, unsigned fl)
{
    if (!fempty(cpu, 7)) {
        if (fstack_fault(cpu, true))
            fpush(cpu, f80_indefinite);
        X86_NEXT(cpu, in);
    }
    if (fflags(cpu, fl))
        fpush(cpu, v);
    X86_NEXT(cpu, in);
}

/* D9 /0 FLD m32fp, DD /0 FLD m64fp, DB /5 FLD m80fp, DB /0 FILD m32int,
 * DF /0 FILD m16int, DF /5 FILD m64int, DF /4 FBLD. */
static const XInsn *fpu_fld_mem(X86CPU *cpu, const XInsn *in)
{
    FPU_WAIT(cpu, in);
    uint64_t ea = FPU_EA(cpu, in), x = 0;
    unsigned opc = in->op & 0xff, reg = in->reg & 7;
    F80Ctx c = fctx(cpu);
    F80 v;
    if (reg == 5 && opc == 0xdb) {
        uint8_t b[10];
        if (!x86_ld_buf(cpu, in, in->seg, ea, b, 10))
            return NULL;
        memcpy(&v.mant, b, 8);
        v.sexp = (uint16_t)(b[8] | b[9] << 8);
    } else if (reg == 4) {
        uint8_t b[10];
        if (!x86_ld_buf(cpu, in, in->seg, ea, b, 10))
            return NULL;
        int64_t n = 0;
        for (int k = 8; k >= 0; k--)
            n = n * 100 + (b[k] >> 4) * 10 + (b[k] & 15);
        v = f80_from_i64(n);
        v.sexp |= (uint16_t)((b[9] & 0x80) << 8);
    } else {
        unsigned size = opc == 0xd9 ? 4 : opc == 0xdd ? 8 : opc == 0xdb ? 4 :
                        reg == 5 ? 8 : 2;
        if (!x86_ld(cpu, in, in->seg, ea, size, &x))
            return NULL;
        if (opc == 0xd9)
            v = f80_from_ieee(&c, x, 23, 8);
        else if (opc == 0xdd)
            v = f80_from_ieee(&c, x, 52, 11);
        else
            v = f80_from_i64((int64_t)x86_sext(x, size));
    }
    fnote(cpu, in);
    return fld_value(cpu, in, v, c.fl);
}

/* D9 C0+i FLD ST(i) */
static const XInsn *fpu_fld_st(X86CPU *cpu, const XInsn *in)
{
    FPU_WAIT(cpu, in);
    fnote(cpu, in);
    unsigned i = in->rm & 7;
    if (fempty(cpu, i)) {
        if (fstack_fault(cpu, false))
            fpush(cpu, f80_indefinite);
        X86_NEXT(cpu, in);
    }
    return fld_value(cpu, in, fget(cpu, i), 0);
}

/* Integer / BCD results of FIST, FISTP, FISTTP, FBSTP. */
static const uint8_t bcd_indefinite[10] = { 0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff };

/* D9 /2 /3, DD /2 /3, DB /7 (m80), DB /1 /2 /3, DD /1, DF /1 /2 /3 /6 /7. */
static const XInsn *fpu_fst_mem(X86CPU *cpu, const XInsn *in)
{
    FPU_WAIT(cpu, in);
    unsigned opc = in->op & 0xff, reg = in->reg & 7;
    uint64_t ea = FPU_EA(cpu, in);
    F80Ctx c = fctx(cpu);
    bool empty = fempty(cpu, 0);
    F80 a = empty ? f80_indefinite : fget(cpu, 0);
    unsigned fl = empty ? F80_IE | F80_SF : 0;
    bool pop;
    uint8_t b[10];
    unsigned size;
    uint64_t x = 0;

    if (opc == 0xd9 || opc == 0xdd) {
        if (reg == 1) {                       /* DD /1 FISTTP m64int */
            x = (uint64_t)f80_to_int(&c, a, 64, F80_RZ);
            size = 8;
            pop = true;
        } else {
            x = opc == 0xd9 ? f80_to_ieee(&c, a, 23, 8) : f80_to_ieee(&c, a, 52, 11);
            size = opc == 0xd9 ? 4 : 8;
            pop = reg == 3;
        }
    } else if (opc == 0xdb && reg == 7) {     /* FSTP m80fp: a copy */
        memcpy(b, &a.mant, 8);
        b[8] = (uint8_t)a.sexp;
        b[9] = (uint8_t)(a.sexp >> 8);
        size = 10;
        pop = true;
    } else if (opc == 0xdf && reg == 6) {     /* FBSTP m80bcd */
        int64_t n = f80_to_int(&c, a, 64, c.rc);
        uint64_t m = n < 0 ? 0 - (uint64_t)n : (uint64_t)n;
        if ((c.fl & F80_IE) || m > 999999999999999999ull) {
            c.fl = (c.fl & ~(F80_PE | F80_C1)) | F80_IE;
            memcpy(b, bcd_indefinite, 10);
        } else {
            for (int k = 0; k < 9; k++) {
                b[k] = (uint8_t)(m % 10 | (m / 10 % 10) << 4);
                m /= 100;
            }
            b[9] = f80_sign(a) ? 0x80 : 0;
        }
        size = 10;
        pop = true;
    } else {                                  /* FIST/FISTP/FISTTP */
        unsigned bits = opc == 0xdb ? 32 : (opc == 0xdf && reg == 7) ? 64 : 16;
        x = (uint64_t)f80_to_int(&c, a, bits, reg == 1 ? F80_RZ : c.rc);
        size = bits / 8;
        pop = reg != 2;
    }
    if (empty)
        c.fl = F80_IE | F80_SF;               /* the indefinite, no other flags */
    fl |= c.fl;
    /* An unmasked exception stores nothing (I, and O/U of FST m32/m64). */
    bool ok = !(fl & ~cpu->fpu.fcw & (F80_IE | F80_OE | F80_UE));
    if (ok) {
        bool st = size == 10 ? x86_st_buf(cpu, in, in->seg, ea, b, 10)
                             : x86_st(cpu, in, in->seg, ea, size, x);
        if (!st)
            return NULL;
    } else if (!x86_probe(cpu, in, in->seg, ea, size, X86_ACC_WRITE)) {
        return NULL;
    }
    fnote(cpu, in);
    fflags(cpu, fl);
    if (ok && pop)
        fpop(cpu);
    X86_NEXT(cpu, in);
}

/* DD D0+i FST ST(i), DD D8+i FSTP ST(i), D9 D8+i / DF D0+i / DF D8+i
 * (FSTP aliases). */
static const XInsn *fpu_fst_st(X86CPU *cpu, const XInsn *in)
{
    FPU_WAIT(cpu, in);
    fnote(cpu, in);
    unsigned i = in->rm & 7;
    bool pop = !((in->op & 0xff) == 0xdd && (in->reg & 7) == 2);
    if (fempty(cpu, 0)) {
        if (!fstack_fault(cpu, false))
            X86_NEXT(cpu, in);
        fput(cpu, i, f80_indefinite);
    } else {
        fflags(cpu, 0);
        fput(cpu, i, fget(cpu, 0));
    }
    if (pop)
        fpop(cpu);
    X86_NEXT(cpu, in);
}

/* ---- register-only instructions ---- */

/* D9 C8+i FXCH, DD C8+i and DF C8+i aliases. */
static const XInsn *fpu_fxch(X86CPU *cpu, const XInsn *in)
{
    FPU_WAIT(cpu, in);
    fnote(cpu, in);
    unsigned i = in->rm & 7;
    if (fempty(cpu, 0) || fempty(cpu, i)) {
        if (!fstack_fault(cpu, false))
            X86_NEXT(cpu, in);
        if (fempty(cpu, 0))
            fput(cpu, 0, f80_indefinite);
        if (fempty(cpu, i))
            fput(cpu, i, f80_indefinite);
    } else {
        fflags(cpu, 0);
    }
    F80 a = fget(cpu, 0), b = fget(cpu, i);
    fput(cpu, 0, b);
    fput(cpu, i, a);
    X86_NEXT(cpu, in);
}

/* DD C0+i FFREE, DF C0+i FFREEP. */
static const XInsn *fpu_ffree(X86CPU *cpu, const XInsn *in)
{
    FPU_WAIT(cpu, in);
    fnote(cpu, in);
    cpu->fpu.ftw &= (uint8_t)~(1u << phys(cpu, in->rm & 7));
    if ((in->op & 0xff) == 0xdf)
        fpop(cpu);
    X86_NEXT(cpu, in);
}

/* DA/DB C0..DF: FCMOVcc ST0, ST(i). */
static const XInsn *fpu_fcmov(X86CPU *cpu, const XInsn *in)
{
    static const uint8_t cc[4] = { 2, 4, 6, 10 };      /* B E BE P */
    FPU_WAIT(cpu, in);
    fnote(cpu, in);
    unsigned i = in->rm & 7;
    bool t = x86_cond(cpu, cc[in->reg & 3] | ((in->op & 0xff) == 0xdb));
    if (fempty(cpu, 0) || fempty(cpu, i)) {
        if (fstack_fault(cpu, false))
            fput(cpu, 0, f80_indefinite);
        X86_NEXT(cpu, in);
    }
    fflags(cpu, 0);
    if (t)
        fput(cpu, 0, fget(cpu, i));
    X86_NEXT(cpu, in);
}

/* DD E0+i FUCOM, DD E8+i FUCOMP, DA E9 FUCOMPP. */
static const XInsn *fpu_fucom(X86CPU *cpu, const XInsn *in)
{
    FPU_WAIT(cpu, in);
    fnote(cpu, in);
    unsigned i = in->rm & 7;
    unsigned npop = (in->op & 0xff) == 0xda ? 2 : (in->reg & 7) == 5;
    if (fempty(cpu, 0) || fempty(cpu, i))
        fcom_underflow(cpu, npop);
    else
        fcom(cpu, fget(cpu, 0), fget(cpu, i), true, npop);
    X86_NEXT(cpu, in);
}

/* DB E8+i FUCOMI, DB F0+i FCOMI, DF E8+i FUCOMIP, DF F0+i FCOMIP. */
static const XInsn *fpu_fcomi(X86CPU *cpu, const XInsn *in)
{
    FPU_WAIT(cpu, in);
    fnote(cpu, in);
    unsigned i = in->rm & 7;
    bool quiet = (in->reg & 7) == 5, pop = (in->op & 0xff) == 0xdf;
    int r;
    if (fempty(cpu, 0) || fempty(cpu, i)) {
        if (!fstack_fault(cpu, false))
            X86_NEXT(cpu, in);
        r = F80_UN;
    } else {
        F80Ctx c = fctx(cpu);
        r = f80_compare(&c, fget(cpu, 0), fget(cpu, i), quiet);
        if (!fflags(cpu, c.fl))
            X86_NEXT(cpu, in);
    }
    static const uint8_t ef[4] = {
        [F80_LT] = X86_CF, [F80_EQ] = X86_ZF, [F80_GT] = 0,
        [F80_UN] = X86_ZF | X86_PF | X86_CF,
    };
    x86_set_arith(cpu, ef[r]);
    if (pop)
        fpop(cpu);
    X86_NEXT(cpu, in);
}

/* Rounded-constant table: value rounded to nearest, and the mantissa for
 * round-down/toward-zero when the exact value lies below it (RN rounded
 * up) or for round-up when it lies above (RN rounded down). */
typedef struct FConst {
    uint64_t mant;
    uint16_t sexp;
    int8_t down_delta, up_delta;  /* added to mant for RD/RZ and RU */
} FConst;

static const FConst fconsts[7] = {
    { 0x8000000000000000ull, 0x3fff, 0, 0 },       /* 1 */
    { 0xd49a784bcd1b8afeull, 0x4000, 0, 1 },       /* log2(10) */
    { 0xb8aa3b295c17f0bcull, 0x3fff, -1, 0 },      /* log2(e) */
    { 0xc90fdaa22168c235ull, 0x4000, -1, 0 },      /* pi */
    { 0x9a209a84fbcff799ull, 0x3ffd, -1, 0 },      /* log10(2) */
    { 0xb17217f7d1cf79acull, 0x3ffe, -1, 0 },      /* ln(2) */
    { 0, 0, 0, 0 },                                /* +0 */
};

/* D9 E0..FF: FCHS FABS FTST FXAM, constants, and the rest. */
static const XInsn *fpu_fconst(X86CPU *cpu, const XInsn *in)
{
    FPU_WAIT(cpu, in);
    fnote(cpu, in);
    const FConst *k = &fconsts[in->rm & 7];
    unsigned rc = (cpu->fpu.fcw >> 10) & 3;
    F80 v = { k->mant, k->sexp };
    if (rc == F80_RD || rc == F80_RZ)
        v.mant += (uint64_t)(int64_t)k->down_delta;
    else if (rc == F80_RU)
        v.mant += (uint64_t)(int64_t)k->up_delta;
    return fld_value(cpu, in, v, 0);
}

/* D9 E0 FCHS, E1 FABS, E4 FTST, E5 FXAM. */
static const XInsn *fpu_d9_e0(X86CPU *cpu, const XInsn *in)
{
    FPU_WAIT(cpu, in);
    fnote(cpu, in);
    unsigned rm = in->rm & 7;
    if (rm == 5) {                                /* FXAM */
        F80 a = fget(cpu, 0);
        uint16_t cc;
        if (fempty(cpu, 0)) {
            cc = X86_FSW_C3 | X86_FSW_C0;
        } else {
            static const uint16_t cls[7] = {
                [F80_ZERO] = X86_FSW_C3, [F80_DENORM] = X86_FSW_C3 | X86_FSW_C2,
                [F80_NORMAL] = X86_FSW_C2, [F80_INF] = X86_FSW_C2 | X86_FSW_C0,
                [F80_QNAN] = X86_FSW_C0, [F80_SNAN] = X86_FSW_C0, [F80_UNSUP] = 0,
            };
            cc = cls[f80_class(a)];
        }
        set_cc(cpu, cc | (f80_sign(a) ? X86_FSW_C1 : 0));
        X86_NEXT(cpu, in);
    }
    if (fempty(cpu, 0)) {
        if (rm == 4)
            fcom_underflow(cpu, 0);
        else if (fstack_fault(cpu, false))
            fput(cpu, 0, f80_indefinite);
        X86_NEXT(cpu, in);
    }
    F80 a = fget(cpu, 0);
    if (rm == 4) {
        F80 zero = { 0, 0 };
        fcom(cpu, a, zero, false, 0);
        X86_NEXT(cpu, in);
    }
    fflags(cpu, 0);
    a.sexp = rm == 0 ? a.sexp ^ 0x8000 : a.sexp & 0x7fff;
    fput(cpu, 0, a);
    X86_NEXT(cpu, in);
}

/* ---- transcendentals (fpu_trans.c) ---- */

/* D9 F0 F2XM1, F1 FYL2X, F2 FPTAN, F3 FPATAN, F9 FYL2XP1, FB FSINCOS,
 * FE FSIN, FF FCOS (op = low 3 bits; F9 maps to 4). */
static const XInsn *fpu_trans(X86CPU *cpu, const XInsn *in)
{
    FPU_WAIT(cpu, in);
    fnote(cpu, in);
    unsigned rm = in->rm & 7, reg = in->reg & 7;
    unsigned op = reg == 6 ? rm : rm == 1 ? 4 : rm == 3 ? 5 : rm;
    bool two = op == 1 || op == 3 || op == 4;     /* ST1 op ST0 -> ST1, pop */
    bool pushes = op == 2 || op == 5;
    if (fempty(cpu, 0) || (two && fempty(cpu, 1))) {
        if (fstack_fault(cpu, false)) {
            if (two) {
                fput(cpu, 1, f80_indefinite);
                fpop(cpu);
            } else {
                fput(cpu, 0, f80_indefinite);
                if (pushes)
                    fpush(cpu, f80_indefinite);
            }
        }
        X86_NEXT(cpu, in);
    }
    if (pushes && !fempty(cpu, 7)) {
        if (fstack_fault(cpu, true)) {
            fput(cpu, 0, f80_indefinite);
            fpush(cpu, f80_indefinite);
        }
        X86_NEXT(cpu, in);
    }
    F80Ctx c = fctx(cpu);
    F80 a = fget(cpu, 0), r0 = a, r1 = a;
    bool in_range = true;
    switch (op) {
    case 0: r0 = f80_f2xm1(&c, a); break;
    case 1: r0 = f80_fyl2x(&c, fget(cpu, 1), a); break;
    case 2: in_range = f80_fptan(&c, a, &r1, &r0); break;
    case 3: r0 = f80_fpatan(&c, fget(cpu, 1), a); break;
    case 4: r0 = f80_fyl2xp1(&c, fget(cpu, 1), a); break;
    case 5: in_range = f80_fsincos(&c, a, &r1, &r0); break;
    case 6: in_range = f80_fsincos(&c, a, &r0, NULL); break;
    default: in_range = f80_fsincos(&c, a, NULL, &r0); break;
    }
    if (!fflags(cpu, c.fl))
        X86_NEXT(cpu, in);
    if (two) {
        fput(cpu, 1, r0);
        fpop(cpu);
        X86_NEXT(cpu, in);
    }
    /* FPTAN/FSIN/FCOS/FSINCOS set C2 when |ST0| >= 2^63 and leave it;
     * the others leave C2 alone. */
    if (!in_range) {
        cpu->fpu.fsw |= X86_FSW_C2;
        X86_NEXT(cpu, in);
    }
    if (op != 0)
        cpu->fpu.fsw &= (uint16_t)~X86_FSW_C2;
    if (pushes) {
        fput(cpu, 0, r1);
        fpush(cpu, r0);
    } else {
        fput(cpu, 0, r0);
    }
    X86_NEXT(cpu, in);
}

/* D9 F4 FXTRACT, F5 FPREM1, F6 FDECSTP, F7 FINCSTP, F8 FPREM, FA FSQRT,
 * FC FRNDINT, FD FSCALE. */
static const XInsn *fpu_d9_f0(X86CPU *cpu, const XInsn *in)
{
    FPU_WAIT(cpu, in);
    fnote(cpu, in);
    unsigned b = (in->reg & 7) << 3 | (in->rm & 7);  /* 0x34.. */
    if (b == 0x36 || b == 0x37) {
        set_top(cpu, ftop(cpu) + (b == 0x37 ? 1 : 7));
        fflags(cpu, 0);
        X86_NEXT(cpu, in);
    }
    bool two = b == 0x35 || b == 0x38 || b == 0x3d;
    if (fempty(cpu, 0) || (two && fempty(cpu, 1))) {
        if (fstack_fault(cpu, false)) {
            fput(cpu, 0, f80_indefinite);
            if (b == 0x34) {
                fpush(cpu, f80_indefinite);
            }
            if (b == 0x35 || b == 0x38)
                set_cc(cpu, 0);
        }
        X86_NEXT(cpu, in);
    }
    F80Ctx c = fctx(cpu);
    F80 a = fget(cpu, 0), r;
    switch (b) {
    case 0x34: {                                    /* FXTRACT */
        if (!fempty(cpu, 7)) {
            if (fstack_fault(cpu, true)) {
                fput(cpu, 0, f80_indefinite);
                fpush(cpu, f80_indefinite);
            }
            X86_NEXT(cpu, in);
        }
        int ca = f80_class(a);
        F80 e, s;
        if (ca == F80_UNSUP) {
            e = s = f80_invalid(&c);
        } else if (f80_is_nan(ca)) {
            e = s = f80_nan2(&c, a, ca, a, ca);
        } else if (ca == F80_ZERO) {
            c.fl |= F80_ZE;
            e = f80_make(true, 0x7fff, 1ull << 63);
            s = a;
        } else if (ca == F80_INF) {
            e = f80_make(false, 0x7fff, 1ull << 63);
            s = a;
        } else {
            int ex;
            if (ca == F80_DENORM)
                c.fl |= F80_DE;
            uint64_t m = f80_unpack(a, &ex);
            e = f80_from_i64(ex - F80_BIAS);
            s = f80_make(f80_sign(a), F80_BIAS, m);
        }
        if (fflags(cpu, c.fl)) {
            fput(cpu, 0, e);
            fpush(cpu, s);
        }
        X86_NEXT(cpu, in);
    }
    case 0x35:                                      /* FPREM1 */
    case 0x38: {                                    /* FPREM */
        uint64_t q;
        bool partial;
        r = f80_prem(&c, a, fget(cpu, 1), b == 0x35, &q, &partial);
        if (!fflags(cpu, c.fl))
            X86_NEXT(cpu, in);
        uint16_t cc = 0;
        if (partial)
            cc = X86_FSW_C2;
        else if (!(c.fl & F80_IE))
            cc = (q & 4 ? X86_FSW_C0 : 0) | (q & 2 ? X86_FSW_C3 : 0) |
                 (q & 1 ? X86_FSW_C1 : 0);
        set_cc(cpu, cc);
        fput(cpu, 0, r);
        X86_NEXT(cpu, in);
    }
    case 0x3a: r = f80_sqrt(&c, a); break;
    case 0x3c: r = f80_round_int(&c, a, c.rc); break;
    default: r = f80_fscale(&c, a, fget(cpu, 1)); break;
    }
    if (fflags(cpu, c.fl))
        fput(cpu, 0, r);
    X86_NEXT(cpu, in);
}

/* D9 D0 FNOP; DB E0 FENI, E1 FDISI, E4 FSETPM: no-ops on the 387 and later
 * (the latter three are non-waiting control forms). */
static const XInsn *fpu_fnop(X86CPU *cpu, const XInsn *in)
{
    FPU_WAIT(cpu, in);
    fnote(cpu, in);
    X86_NEXT(cpu, in);
}

static const XInsn *fpu_nop_nowait(X86CPU *cpu, const XInsn *in)
{
    FPU_NOWAIT(cpu, in);
    X86_NEXT(cpu, in);
}

/* ---- control instructions ---- */

/* 9B FWAIT: #NM when CR0.MP and CR0.TS, #MF for a pending exception. */
static const XInsn *fpu_fwait(X86CPU *cpu, const XInsn *in)
{
    if (unlikely((cpu->cr0 & (X86_CR0_MP | X86_CR0_TS)) == (X86_CR0_MP | X86_CR0_TS)))
        return x86_raise(cpu, in, X86_EXC_NM, X86_NO_ERR);
    if (unlikely(cpu->fpu.fsw & X86_FSW_ES) && (cpu->cr0 & X86_CR0_NE))
        return x86_raise(cpu, in, X86_EXC_MF, X86_NO_ERR);
    X86_NEXT(cpu, in);
}

/* DB E2 FNCLEX, DB E3 FNINIT */
static const XInsn *fpu_fnclex(X86CPU *cpu, const XInsn *in)
{
    FPU_NOWAIT(cpu, in);
    cpu->fpu.fsw &= 0x7f00;                 /* flags, SF, ES, B cleared */
    X86_NEXT(cpu, in);
}

static const XInsn *fpu_fninit(X86CPU *cpu, const XInsn *in)
{
    FPU_NOWAIT(cpu, in);
    x86_fpu_init(cpu);
    X86_NEXT(cpu, in);
}

/* DD /7 FNSTSW m16, DF E0 FNSTSW AX, D9 /7 FNSTCW m16 */
static const XInsn *fpu_fnstsw_ax(X86CPU *cpu, const XInsn *in)
{
    FPU_NOWAIT(cpu, in);
    x86_reg_set(cpu, X86_RAX, 2, cpu->fpu.fsw);
    X86_NEXT(cpu, in);
}

static const XInsn *fpu_fnstsw_cw(X86CPU *cpu, const XInsn *in)
{
    FPU_NOWAIT(cpu, in);
    uint16_t v = (in->op & 0xff) == 0xdd ? cpu->fpu.fsw : cpu->fpu.fcw;
    if (!x86_st(cpu, in, in->seg, FPU_EA(cpu, in), 2, v))
        return NULL;
    X86_NEXT(cpu, in);
}

/* D9 /5 FLDCW m16 */
static const XInsn *fpu_fldcw(X86CPU *cpu, const XInsn *in)
{
    FPU_WAIT(cpu, in);
    uint64_t v;
    if (!x86_ld(cpu, in, in->seg, FPU_EA(cpu, in), 2, &v))
        return NULL;
    set_fcw(cpu, (uint16_t)v);
    fsync_es(cpu);
    X86_NEXT(cpu, in);
}

/* Full tag word from the abridged one and the register contents. */
uint16_t x86_fpu_full_tag(const X86CPU *cpu)
{
    uint16_t t = 0;
    for (unsigned p = 0; p < 8; p++) {
        unsigned tag;
        const X86Float80 *r = &cpu->fpu.st[p];
        unsigned e = r->sexp & 0x7fff;
        if (!((cpu->fpu.ftw >> p) & 1))
            tag = 3;
        else if (e == 0 && r->mant == 0)
            tag = 1;
        else if (e == 0 || e == 0x7fff || !(r->mant >> 63))
            tag = 2;
        else
            tag = 0;
        t |= (uint16_t)(tag << (2 * p));
    }
    return t;
}

static uint8_t abridged_tag(uint16_t full)
{
    uint8_t t = 0;
    for (unsigned p = 0; p < 8; p++)
        if (((full >> (2 * p)) & 3) != 3)
            t |= (uint8_t)(1u << p);
    return t;
}

static inline void put16(uint8_t *b, uint16_t v) { b[0] = (uint8_t)v; b[1] = (uint8_t)(v >> 8); }
static inline void put32(uint8_t *b, uint32_t v) { put16(b, (uint16_t)v); put16(b + 2, (uint16_t)(v >> 16)); }
static inline void put64(uint8_t *b, uint64_t v) { put32(b, (uint32_t)v); put32(b + 4, (uint32_t)(v >> 32)); }
static inline uint16_t get16(const uint8_t *b) { return (uint16_t)(b[0] | b[1] << 8); }
static inline uint32_t get32(const uint8_t *b) { return get16(b) | (uint32_t)get16(b + 2) << 16; }
static inline uint64_t get64(const uint8_t *b) { return get32(b) | (uint64_t)get32(b + 4) << 32; }

static inline bool real_format(const X86CPU *cpu)
{
    return !(cpu->hflags & X86_HF_PE) || (cpu->hflags & X86_HF_VM);
}

/* FSTENV image (14 or 28 bytes, SDM vol. 1 figures 8-9..8-12).  The
 * unused upper halves of the 32-bit forms read as FFFFH on the hardware. */
static unsigned env_image(const X86CPU *cpu, bool o32, uint8_t *b)
{
    const X86Fpu *f = &cpu->fpu;
    bool real = real_format(cpu);
    uint32_t ip = (uint32_t)f->fip, dp = (uint32_t)f->fdp;
    if (real) {
        ip += (uint32_t)f->fcs << 4;
        dp += (uint32_t)f->fds << 4;
    }
    if (o32) {
        memset(b, 0xff, 28);
        put16(b, f->fcw);
        put16(b + 4, f->fsw);
        put16(b + 8, x86_fpu_full_tag(cpu));
        if (real) {
            put16(b + 12, (uint16_t)ip);
            put32(b + 16, (f->fop & 0x7ffu) | (ip >> 16) << 12);
            put16(b + 20, (uint16_t)dp);
            put32(b + 24, (dp >> 16) << 12);
        } else {
            put32(b + 12, ip);
            put32(b + 16, f->fcs | (uint32_t)(f->fop & 0x7ff) << 16);
            put32(b + 20, dp);
            put16(b + 24, f->fds);
        }
        return 28;
    }
    put16(b, f->fcw);
    put16(b + 2, f->fsw);
    put16(b + 4, x86_fpu_full_tag(cpu));
    if (real) {
        put16(b + 6, (uint16_t)ip);
        put16(b + 8, (uint16_t)((f->fop & 0x7ff) | ((ip >> 16) & 0xf) << 12));
        put16(b + 10, (uint16_t)dp);
        put16(b + 12, (uint16_t)(((dp >> 16) & 0xf) << 12));
    } else {
        put16(b + 6, (uint16_t)ip);
        put16(b + 8, f->fcs);
        put16(b + 10, (uint16_t)dp);
        put16(b + 12, f->fds);
    }
    return 14;
}

static void env_load(X86CPU *cpu, bool o32, const uint8_t *b)
{
    X86Fpu *f = &cpu->fpu;
    bool real = real_format(cpu);
    uint16_t tag;
    if (o32) {
        set_fcw(cpu, get16(b));
        f->fsw = get16(b + 4);
        tag = get16(b + 8);
        if (real) {
            f->fip = get16(b + 12) | (get32(b + 16) >> 12 & 0xffff) << 16;
            f->fop = get16(b + 16) & 0x7ff;
            f->fdp = get16(b + 20) | (get32(b + 24) >> 12 & 0xffff) << 16;
            f->fcs = f->fds = 0;
        } else {
            f->fip = get32(b + 12);
            f->fcs = get16(b + 16);
            f->fop = get16(b + 18) & 0x7ff;
            f->fdp = get32(b + 20);
            f->fds = get16(b + 24);
        }
    } else {
        set_fcw(cpu, get16(b));
        f->fsw = get16(b + 2);
        tag = get16(b + 4);
        if (real) {
            f->fip = get16(b + 6) | (uint32_t)(get16(b + 8) >> 12) << 16;
            f->fop = get16(b + 8) & 0x7ff;
            f->fdp = get16(b + 10) | (uint32_t)(get16(b + 12) >> 12) << 16;
            f->fcs = f->fds = 0;
        } else {
            f->fip = get16(b + 6);
            f->fcs = get16(b + 8);
            f->fdp = get16(b + 10);
            f->fds = get16(b + 12);
        }
    }
    f->ftw = abridged_tag(tag);
    fsync_es(cpu);
}

static inline bool env_o32(const XInsn *in)
{
    return in->osize != 2;
}

/* D9 /6 FNSTENV, DD /6 FNSAVE */
static const XInsn *fpu_fnstenv(X86CPU *cpu, const XInsn *in)
{
    FPU_NOWAIT(cpu, in);
    uint8_t b[108];
    unsigned n = env_image(cpu, env_o32(in), b);
    bool save = (in->op & 0xff) == 0xdd;
    if (save) {
        for (unsigned i = 0; i < 8; i++) {
            F80 v = fget(cpu, i);
            memcpy(b + n + 10 * i, &v.mant, 8);
            put16(b + n + 10 * i + 8, v.sexp);
        }
        n += 80;
    }
    if (!x86_st_buf(cpu, in, in->seg, FPU_EA(cpu, in), b, n))
        return NULL;
    if (save)
        x86_fpu_init(cpu);
    else
        cpu->fpu.fcw |= 0x3f;          /* FSTENV masks all exceptions */
    X86_NEXT(cpu, in);
}

/* D9 /4 FLDENV, DD /4 FRSTOR */
static const XInsn *fpu_fldenv(X86CPU *cpu, const XInsn *in)
{
    FPU_WAIT(cpu, in);
    uint8_t b[108];
    bool o32 = env_o32(in), rstor = (in->op & 0xff) == 0xdd;
    unsigned n = (o32 ? 28 : 14) + (rstor ? 80 : 0);
    if (!x86_ld_buf(cpu, in, in->seg, FPU_EA(cpu, in), b, n))
        return NULL;
    env_load(cpu, o32, b);
    if (rstor) {
        unsigned off = o32 ? 28 : 14;
        for (unsigned i = 0; i < 8; i++) {
            X86Float80 *r = &cpu->fpu.st[phys(cpu, i)];
            memcpy(&r->mant, b + off + 10 * i, 8);
            r->sexp = get16(b + off + 10 * i + 8);
        }
    }
    X86_NEXT(cpu, in);
}

/* ---- FXSAVE / FXRSTOR / XSAVE / XRSTOR ---- */

static inline unsigned nxmm(const X86CPU *cpu)
{
    return (cpu->hflags & X86_HF_CS64) ? 16 : 8;
}

/* Legacy-region pieces (SDM vol. 1 tables 10-2, 10-3). */
static void fx_put_x87(const X86CPU *cpu, uint8_t *b, bool w64)
{
    const X86Fpu *f = &cpu->fpu;
    put16(b, f->fcw);
    put16(b + 2, f->fsw);
    b[4] = f->ftw;
    b[5] = 0;
    put16(b + 6, f->fop & 0x7ff);
    if (w64) {
        put64(b + 8, f->fip);
        put64(b + 16, f->fdp);
    } else {
        put32(b + 8, (uint32_t)f->fip);
        put32(b + 12, f->fcs);
        put32(b + 16, (uint32_t)f->fdp);
        put32(b + 20, f->fds);
    }
    for (unsigned i = 0; i < 8; i++) {
        F80 v = fget(cpu, i);
        memcpy(b + 32 + 16 * i, &v.mant, 8);
        put16(b + 40 + 16 * i, v.sexp);
    }
}

static void fx_get_x87(X86CPU *cpu, const uint8_t *b, bool w64)
{
    X86Fpu *f = &cpu->fpu;
    set_fcw(cpu, get16(b));
    f->fsw = get16(b + 2);
    f->ftw = b[4];
    f->fop = get16(b + 6) & 0x7ff;
    if (w64) {
        f->fip = get64(b + 8);
        f->fdp = get64(b + 16);
        f->fcs = f->fds = 0;
    } else {
        f->fip = get32(b + 8);
        f->fcs = get16(b + 12);
        f->fdp = get32(b + 16);
        f->fds = get16(b + 20);
    }
    for (unsigned i = 0; i < 8; i++) {
        X86Float80 *r = &f->st[phys(cpu, i)];
        memcpy(&r->mant, b + 32 + 16 * i, 8);
        r->sexp = get16(b + 40 + 16 * i);
    }
    fsync_es(cpu);
}

static void fx_put_sse(const X86CPU *cpu, uint8_t *b, bool xmm)
{
    put32(b + 24, cpu->fpu.mxcsr);
    put32(b + 28, X86_MXCSR_MASK);
    if (xmm)
        memcpy(b + 160, cpu->fpu.xmm, 16 * nxmm(cpu));
}

/* The whole legacy region (x87, MXCSR, all sixteen XMM registers), as the
 * state transfer to KVM (kvm/state.c) reads and writes it; reserved bytes
 * of the register slots are zero. */
void x86_fx_image_save(const X86CPU *cpu, uint8_t *b, bool w64)
{
    for (unsigned i = 0; i < 8; i++)
        memset(b + 32 + 16 * i, 0, 16);
    fx_put_x87(cpu, b, w64);
    put32(b + 24, cpu->fpu.mxcsr);
    put32(b + 28, X86_MXCSR_MASK);
    memcpy(b + 160, cpu->fpu.xmm, sizeof(cpu->fpu.xmm));
}

void x86_fx_image_load(X86CPU *cpu, const uint8_t *b, bool w64)
{
    fx_get_x87(cpu, b, w64);
    cpu->fpu.mxcsr = get32(b + 24);
    memcpy(cpu->fpu.xmm, b + 160, sizeof(cpu->fpu.xmm));
}

static inline uint64_t lin_addr(const X86CPU *cpu, const XInsn *in, uint64_t off)
{
    if ((cpu->hflags & X86_HF_CS64) && in->seg != X86_FS && in->seg != X86_GS)
        return off;
    return cpu->seg[in->seg].base + off;
}

static inline bool fx_w64(const XInsn *in)
{
    return in->pfx & X86_P_REXW;
}

/* 0F AE /0 FXSAVE m512 */
static const XInsn *fpu_fxsave(X86CPU *cpu, const XInsn *in)
{
    if (cpu->cr0 & (X86_CR0_EM | X86_CR0_TS))
        return x86_raise(cpu, in, X86_EXC_NM, X86_NO_ERR);
    uint64_t ea = FPU_EA(cpu, in);
    if (lin_addr(cpu, in, ea) & 15)
        return x86_raise(cpu, in, X86_EXC_GP, 0);
    uint8_t b[512];
    /* Reserved bytes keep their contents (as QEMU): read-modify-write. */
    if (!x86_probe(cpu, in, in->seg, ea, 512, X86_ACC_WRITE) ||
        !x86_ld_buf(cpu, in, in->seg, ea, b, 512))
        return NULL;
    fx_put_x87(cpu, b, fx_w64(in));
    /* Without CR4.OSFXSR the SDM leaves MXCSR/XMM implementation
     * dependent; like QEMU they are not saved. */
    if (cpu->cr4 & X86_CR4_OSFXSR)
        fx_put_sse(cpu, b, true);
    if (!x86_st_buf(cpu, in, in->seg, ea, b, 512))
        return NULL;
    X86_NEXT(cpu, in);
}

/* 0F AE /1 FXRSTOR m512 */
static const XInsn *fpu_fxrstor(X86CPU *cpu, const XInsn *in)
{
    if (cpu->cr0 & (X86_CR0_EM | X86_CR0_TS))
        return x86_raise(cpu, in, X86_EXC_NM, X86_NO_ERR);
    uint64_t ea = FPU_EA(cpu, in);
    if (lin_addr(cpu, in, ea) & 15)
        return x86_raise(cpu, in, X86_EXC_GP, 0);
    uint8_t b[512];
    if (!x86_ld_buf(cpu, in, in->seg, ea, b, 512))
        return NULL;
    bool sse = cpu->cr4 & X86_CR4_OSFXSR;
    uint32_t mx = get32(b + 24);
    if (sse && (mx & ~X86_MXCSR_MASK))
        return x86_raise(cpu, in, X86_EXC_GP, 0);
    fx_get_x87(cpu, b, fx_w64(in));
    if (sse) {
        cpu->fpu.mxcsr = mx;
        memcpy(cpu->fpu.xmm, b + 160, 16 * nxmm(cpu));
    }
    X86_NEXT(cpu, in);
}

/* Common checks of XSAVE/XRSTOR; returns the vector or -1. */
static int xsave_check(const X86CPU *cpu, const XInsn *in, uint64_t ea)
{
    if (!(cpu->cr4 & X86_CR4_OSXSAVE) || (in->pfx & X86_P_LOCK))
        return X86_EXC_UD;
    if (cpu->cr0 & X86_CR0_TS)
        return X86_EXC_NM;
    if (lin_addr(cpu, in, ea) & 63)
        return X86_EXC_GP;
    return -1;
}

#define XSAVE_SIZE 576          /* legacy region + header (x87, SSE) */

static inline uint64_t xsave_rfbm(const X86CPU *cpu)
{
    return ((cpu->regs[X86_RDX] & 0xffffffffull) << 32 |
            (cpu->regs[X86_RAX] & 0xffffffffull)) & cpu->fpu.xcr0;
}

/* 0F AE /4 XSAVE mem */
static const XInsn *fpu_xsave(X86CPU *cpu, const XInsn *in)
{
    uint64_t ea = FPU_EA(cpu, in);
    int v = xsave_check(cpu, in, ea);
    if (v >= 0)
        return x86_raise(cpu, in, v, v == X86_EXC_GP ? 0 : X86_NO_ERR);
    uint64_t rfbm = xsave_rfbm(cpu);
    uint8_t b[XSAVE_SIZE];
    if (!x86_probe(cpu, in, in->seg, ea, XSAVE_SIZE, X86_ACC_WRITE) ||
        !x86_ld_buf(cpu, in, in->seg, ea, b, XSAVE_SIZE))
        return NULL;
    if (rfbm & 1)
        fx_put_x87(cpu, b, fx_w64(in));
    if (rfbm & 2)
        fx_put_sse(cpu, b, true);
    /* XSTATE_BV[i] = XINUSE[i] for requested components; like QEMU we
     * treat x87 and SSE state as always in use. */
    put64(b + 512, get64(b + 512) | rfbm);
    if (!x86_st_buf(cpu, in, in->seg, ea, b, XSAVE_SIZE))
        return NULL;
    X86_NEXT(cpu, in);
}

/* 0F AE /5 XRSTOR mem (standard form only; no XSAVEC support) */
static const XInsn *fpu_xrstor(X86CPU *cpu, const XInsn *in)
{
    uint64_t ea = FPU_EA(cpu, in);
    int v = xsave_check(cpu, in, ea);
    if (v >= 0)
        return x86_raise(cpu, in, v, v == X86_EXC_GP ? 0 : X86_NO_ERR);
    uint64_t rfbm = xsave_rfbm(cpu);
    uint8_t b[XSAVE_SIZE];
    if (!x86_ld_buf(cpu, in, in->seg, ea, b, XSAVE_SIZE))
        return NULL;
    uint64_t bv = get64(b + 512);
    /* Header: XCOMP_BV and the next 8 bytes must be 0, XSTATE_BV within
     * XCR0; MXCSR is loaded (and checked) whenever RFBM[1] is set. */
    if (get64(b + 520) || get64(b + 528) || (bv & ~cpu->fpu.xcr0))
        return x86_raise(cpu, in, X86_EXC_GP, 0);
    uint32_t mx = get32(b + 24);
    if ((rfbm & 2) && (mx & ~X86_MXCSR_MASK))
        return x86_raise(cpu, in, X86_EXC_GP, 0);
    if (rfbm & 1) {
        if (bv & 1) {
            fx_get_x87(cpu, b, fx_w64(in));
        } else {
            x86_fpu_init(cpu);
            for (int i = 0; i < 8; i++) {
                cpu->fpu.st[i].mant = 0;
                cpu->fpu.st[i].sexp = 0;
            }
        }
    }
    if (rfbm & 2) {
        cpu->fpu.mxcsr = mx;
        if (bv & 2)
            memcpy(cpu->fpu.xmm, b + 160, 16 * nxmm(cpu));
        else
            memset(cpu->fpu.xmm, 0, 16 * nxmm(cpu));
    }
    X86_NEXT(cpu, in);
}

/* 0F 01 D0 XGETBV */
static const XInsn *fpu_xgetbv(X86CPU *cpu, const XInsn *in)
{
    if (!(cpu->cr4 & X86_CR4_OSXSAVE))
        return x86_raise(cpu, in, X86_EXC_UD, X86_NO_ERR);
    if ((uint32_t)cpu->regs[X86_RCX] != 0)
        return x86_raise(cpu, in, X86_EXC_GP, 0);
    x86_reg_set(cpu, X86_RAX, 4, (uint32_t)cpu->fpu.xcr0);
    x86_reg_set(cpu, X86_RDX, 4, cpu->fpu.xcr0 >> 32);
    X86_NEXT(cpu, in);
}

/* 0F 01 D1 XSETBV */
static const XInsn *fpu_xsetbv(X86CPU *cpu, const XInsn *in)
{
    if (!(cpu->cr4 & X86_CR4_OSXSAVE))
        return x86_raise(cpu, in, X86_EXC_UD, X86_NO_ERR);
    uint64_t val = (cpu->regs[X86_RDX] & 0xffffffffull) << 32 |
                   (cpu->regs[X86_RAX] & 0xffffffffull);
    if (x86_cpl(cpu) != 0 || (uint32_t)cpu->regs[X86_RCX] != 0 ||
        !(val & 1) || (val & ~3ull))
        return x86_raise(cpu, in, X86_EXC_GP, 0);
    cpu->fpu.xcr0 = val;
    X86_NEXT(cpu, in);
}

/* ---- the table ---- */

#define M  X86_D_MODRM
#define R(opc, r, fn_, nm) { .op = X86_OP(X86_MAP_1B, opc), .reg = r, .rm = -1, \
                             .mod = X86_M_REG, .flags = M, .fn = fn_, .name = nm }
#define RR(opc, r, m, fn_, nm) { .op = X86_OP(X86_MAP_1B, opc), .reg = r, .rm = m, \
                                 .mod = X86_M_REG, .flags = M, .fn = fn_, .name = nm }
#define MM(opc, r, fn_, nm) { .op = X86_OP(X86_MAP_1B, opc), .reg = r, .rm = -1, \
                              .mod = X86_M_MEM, .flags = M, .fn = fn_, .name = nm }

const X86OpDef x86_ops_fpu[] = {
    /* D8: m32fp arithmetic, ST0 op ST(i) */
    MM(0xd8, -1, fpu_arith_mem, "fadd/fmul/fcom/fsub/fdiv m32fp"),
    R(0xd8, -1, fpu_d8_reg, "fadd/fmul/fcom/fsub/fdiv st,st(i)"),
    /* D9 */
    MM(0xd9, 0, fpu_fld_mem, "fld m32fp"),
    MM(0xd9, 2, fpu_fst_mem, "fst m32fp"),
    MM(0xd9, 3, fpu_fst_mem, "fstp m32fp"),
    MM(0xd9, 4, fpu_fldenv, "fldenv"),
    MM(0xd9, 5, fpu_fldcw, "fldcw"),
    MM(0xd9, 6, fpu_fnstenv, "fnstenv"),
    MM(0xd9, 7, fpu_fnstsw_cw, "fnstcw"),
    R(0xd9, 0, fpu_fld_st, "fld st(i)"),
    R(0xd9, 1, fpu_fxch, "fxch"),
    RR(0xd9, 2, 0, fpu_fnop, "fnop"),
    R(0xd9, 3, fpu_fst_st, "fstp1"),
    RR(0xd9, 4, 0, fpu_d9_e0, "fchs"),
    RR(0xd9, 4, 1, fpu_d9_e0, "fabs"),
    RR(0xd9, 4, 4, fpu_d9_e0, "ftst"),
    RR(0xd9, 4, 5, fpu_d9_e0, "fxam"),
    RR(0xd9, 5, 0, fpu_fconst, "fld1"),
    RR(0xd9, 5, 1, fpu_fconst, "fldl2t"),
    RR(0xd9, 5, 2, fpu_fconst, "fldl2e"),
    RR(0xd9, 5, 3, fpu_fconst, "fldpi"),
    RR(0xd9, 5, 4, fpu_fconst, "fldlg2"),
    RR(0xd9, 5, 5, fpu_fconst, "fldln2"),
    RR(0xd9, 5, 6, fpu_fconst, "fldz"),
    RR(0xd9, 6, 0, fpu_trans, "f2xm1"),
    RR(0xd9, 6, 1, fpu_trans, "fyl2x"),
    RR(0xd9, 6, 2, fpu_trans, "fptan"),
    RR(0xd9, 6, 3, fpu_trans, "fpatan"),
    RR(0xd9, 6, 4, fpu_d9_f0, "fxtract"),
    RR(0xd9, 6, 5, fpu_d9_f0, "fprem1"),
    RR(0xd9, 6, 6, fpu_d9_f0, "fdecstp"),
    RR(0xd9, 6, 7, fpu_d9_f0, "fincstp"),
    RR(0xd9, 7, 0, fpu_d9_f0, "fprem"),
    RR(0xd9, 7, 1, fpu_trans, "fyl2xp1"),
    RR(0xd9, 7, 2, fpu_d9_f0, "fsqrt"),
    RR(0xd9, 7, 3, fpu_trans, "fsincos"),
    RR(0xd9, 7, 4, fpu_d9_f0, "frndint"),
    RR(0xd9, 7, 5, fpu_d9_f0, "fscale"),
    RR(0xd9, 7, 6, fpu_trans, "fsin"),
    RR(0xd9, 7, 7, fpu_trans, "fcos"),
    /* DA: m32int arithmetic, FCMOVcc, FUCOMPP */
    MM(0xda, -1, fpu_arith_mem, "fiadd/fimul/ficom/fisub/fidiv m32int"),
    R(0xda, 0, fpu_fcmov, "fcmovb"),
    R(0xda, 1, fpu_fcmov, "fcmove"),
    R(0xda, 2, fpu_fcmov, "fcmovbe"),
    R(0xda, 3, fpu_fcmov, "fcmovu"),
    RR(0xda, 5, 1, fpu_fucom, "fucompp"),
    /* DB */
    MM(0xdb, 0, fpu_fld_mem, "fild m32int"),
    MM(0xdb, 1, fpu_fst_mem, "fisttp m32int"),
    MM(0xdb, 2, fpu_fst_mem, "fist m32int"),
    MM(0xdb, 3, fpu_fst_mem, "fistp m32int"),
    MM(0xdb, 5, fpu_fld_mem, "fld m80fp"),
    MM(0xdb, 7, fpu_fst_mem, "fstp m80fp"),
    R(0xdb, 0, fpu_fcmov, "fcmovnb"),
    R(0xdb, 1, fpu_fcmov, "fcmovne"),
    R(0xdb, 2, fpu_fcmov, "fcmovnbe"),
    R(0xdb, 3, fpu_fcmov, "fcmovnu"),
    RR(0xdb, 4, 0, fpu_nop_nowait, "fneni"),
    RR(0xdb, 4, 1, fpu_nop_nowait, "fndisi"),
    RR(0xdb, 4, 2, fpu_fnclex, "fnclex"),
    RR(0xdb, 4, 3, fpu_fninit, "fninit"),
    RR(0xdb, 4, 4, fpu_nop_nowait, "fnsetpm"),
    R(0xdb, 5, fpu_fcomi, "fucomi"),
    R(0xdb, 6, fpu_fcomi, "fcomi"),
    /* DC: m64fp arithmetic, ST(i) op ST0 */
    MM(0xdc, -1, fpu_arith_mem, "fadd/fmul/fcom/fsub/fdiv m64fp"),
    R(0xdc, -1, fpu_dcde_reg, "fadd/fmul/fsub/fdiv st(i),st"),
    /* DD */
    MM(0xdd, 0, fpu_fld_mem, "fld m64fp"),
    MM(0xdd, 1, fpu_fst_mem, "fisttp m64int"),
    MM(0xdd, 2, fpu_fst_mem, "fst m64fp"),
    MM(0xdd, 3, fpu_fst_mem, "fstp m64fp"),
    MM(0xdd, 4, fpu_fldenv, "frstor"),
    MM(0xdd, 6, fpu_fnstenv, "fnsave"),
    MM(0xdd, 7, fpu_fnstsw_cw, "fnstsw m16"),
    R(0xdd, 0, fpu_ffree, "ffree"),
    R(0xdd, 1, fpu_fxch, "fxch4"),
    R(0xdd, 2, fpu_fst_st, "fst st(i)"),
    R(0xdd, 3, fpu_fst_st, "fstp st(i)"),
    R(0xdd, 4, fpu_fucom, "fucom"),
    R(0xdd, 5, fpu_fucom, "fucomp"),
    /* DE: m16int arithmetic, ...P forms */
    MM(0xde, -1, fpu_arith_mem, "fiadd/fimul/ficom/fisub/fidiv m16int"),
    R(0xde, -1, fpu_dcde_reg, "faddp/fmulp/fcompp/fsubp/fdivp"),
    /* DF */
    MM(0xdf, 0, fpu_fld_mem, "fild m16int"),
    MM(0xdf, 1, fpu_fst_mem, "fisttp m16int"),
    MM(0xdf, 2, fpu_fst_mem, "fist m16int"),
    MM(0xdf, 3, fpu_fst_mem, "fistp m16int"),
    MM(0xdf, 4, fpu_fld_mem, "fbld"),
    MM(0xdf, 5, fpu_fld_mem, "fild m64int"),
    MM(0xdf, 6, fpu_fst_mem, "fbstp"),
    MM(0xdf, 7, fpu_fst_mem, "fistp m64int"),
    R(0xdf, 0, fpu_ffree, "ffreep"),
    R(0xdf, 1, fpu_fxch, "fxch7"),
    R(0xdf, 2, fpu_fst_st, "fstp8"),
    R(0xdf, 3, fpu_fst_st, "fstp9"),
    RR(0xdf, 4, 0, fpu_fnstsw_ax, "fnstsw ax"),
    R(0xdf, 5, fpu_fcomi, "fucomip"),
    R(0xdf, 6, fpu_fcomi, "fcomip"),
    /* FWAIT */
    { .op = X86_OP(X86_MAP_1B, 0x9b), .reg = -1, .rm = -1, .fn = fpu_fwait, .name = "fwait" },
    /* 0F AE, 0F 01 */
    { .op = X86_OP(X86_MAP_0F, 0xae), .reg = 0, .rm = -1, .mod = X86_M_MEM, .flags = M,
      .fn = fpu_fxsave, .name = "fxsave" },
    { .op = X86_OP(X86_MAP_0F, 0xae), .reg = 1, .rm = -1, .mod = X86_M_MEM, .flags = M,
      .fn = fpu_fxrstor, .name = "fxrstor" },
    { .op = X86_OP(X86_MAP_0F, 0xae), .reg = 4, .rm = -1, .mod = X86_M_MEM, .flags = M,
      .fn = fpu_xsave, .name = "xsave" },
    { .op = X86_OP(X86_MAP_0F, 0xae), .reg = 5, .rm = -1, .mod = X86_M_MEM, .flags = M,
      .fn = fpu_xrstor, .name = "xrstor" },
    { .op = X86_OP(X86_MAP_0F, 0x01), .reg = 2, .rm = 0, .mod = X86_M_REG, .flags = M,
      .fn = fpu_xgetbv, .name = "xgetbv" },
    { .op = X86_OP(X86_MAP_0F, 0x01), .reg = 2, .rm = 1, .mod = X86_M_REG,
      .flags = M | X86_D_END, .fn = fpu_xsetbv, .name = "xsetbv" },
    { 0 },
};
