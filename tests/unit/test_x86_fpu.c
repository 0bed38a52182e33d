/* The x87 FPU, FXSAVE/FXRSTOR, XSAVE/XRSTOR, XGETBV/XSETBV (fpu.c and
 * the soft-float f80.h).  Instructions are decoded and run one at a time
 * on a CPU in real mode (memory operands through [EBX] with a 67 prefix)
 * so that exceptions land in the real-mode IVT where the test can see
 * them.  Expected values are the bit patterns an Intel x87 produces; the
 * random test compares f80.h with the host's x87 (x86-64 hosts only). */
#include "targets/x86/f80.h"
#include "targets/x86/flags.h"
#include "targets/x86/fpu.h"
#include "x86_fixture.h"

#define CODE 0x1000u
#define DATA 0x2000u
#define HANDLER 0x800u          /* IVT entry v -> 0000:HANDLER+v */

static void setup(void)
{
    x86f_setup(1);
    real_mode();
    cpu->cr0 = X86_CR0_ET | X86_CR0_NE;
    cpu->cr4 = X86_CR4_OSFXSR | X86_CR4_OSXSAVE;
    cpu->idt.base = 0;
    cpu->idt.limit = 0x3ff;
    cpu->regs[X86_RSP] = 0xf000;
    for (unsigned v = 0; v < 32; v++)
        ivt(v, 0, HANDLER + v);
    cpu->pending_vec = -1;
    cpu->pending_err = -1;
    x86_tlb_flush(cpu, false);
    x86_fpu_reset(cpu);
    x86_fpu_init(cpu);
    cpu->regs[X86_RBX] = DATA;
}

TestSuite(x86_fpu, .init = setup, .fini = x86f_teardown);

/* ---- running one instruction ---- */

static XInsn ins[2];

static const XInsn *reached(X86CPU *c, const XInsn *in)
{
    (void)c;
    return in;
}

/* Runs the bytes at CS:CODE; returns -1 when the instruction retired, or
 * the vector it raised. */
static int run_bytes(const uint8_t *b, unsigned n)
{
    memcpy(ram + CODE, b, n);
    memset(ins, 0, sizeof(ins));
    unsigned len = x86_decode(&ins[0], b, n, CODE, cpu->hflags);
    cr_assert_eq(len, n, "length %u for %u bytes", len, n);
    ins[0].rem = 0;
    ins[1].fn = reached;
    ins[1].pc = CODE + n;
    cpu->rip = CODE;
    cpu->icount = 1;
    const XInsn *r = ins[0].fn(cpu, &ins[0]);
    if (r == &ins[1])
        return -1;
    cr_assert_null(r);
    cr_assert_eq(cpu->icount, 0, "a faulting instruction must not retire");
    cr_assert(cpu->rip >= HANDLER && cpu->rip < HANDLER + 32, "rip %llx",
              (unsigned long long)cpu->rip);
    return (int)(cpu->rip - HANDLER);
}

#define RUN(...) ({ const uint8_t b_[] = { __VA_ARGS__ }; run_bytes(b_, sizeof(b_)); })
#define OK(...) cr_assert_eq(RUN(__VA_ARGS__), -1, "did not retire")

/* [EBX] memory forms: 67 <opc> <modrm with rm = 3> */
#define MEM(opc, reg) 0x67, (opc), (uint8_t)((reg) << 3 | 3)
/* 0F AE /reg [EBX] */
#define MEMAE(reg) 0x67, 0x0f, 0xae, (uint8_t)((reg) << 3 | 3)

static void put_bytes(unsigned off, const void *p, unsigned n) { memcpy(ram + DATA + off, p, n); }
static void put_u64(uint64_t v) { put_bytes(0, &v, 8); }
static void put_u32(uint32_t v) { put_bytes(0, &v, 4); }
static void put_u16(uint16_t v) { put_bytes(0, &v, 2); }
static uint64_t get_u64(unsigned off) { uint64_t v; memcpy(&v, ram + DATA + off, 8); return v; }
static uint32_t get_u32(unsigned off) { uint32_t v; memcpy(&v, ram + DATA + off, 4); return v; }
static uint16_t get_u16(unsigned off) { uint16_t v; memcpy(&v, ram + DATA + off, 2); return v; }

static void fld80(uint16_t sexp, uint64_t mant)
{
    put_u64(mant);
    memcpy(ram + DATA + 8, &sexp, 2);
    OK(MEM(0xdb, 5));
}

static void fld64(double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    put_u64(v);
    OK(MEM(0xdd, 0));
}

static F80 st(unsigned i)
{
    unsigned p = (((cpu->fpu.fsw >> 11) & 7) + i) & 7;
    F80 v = { cpu->fpu.st[p].mant, cpu->fpu.st[p].sexp };
    return v;
}

static unsigned top(void) { return (cpu->fpu.fsw >> 11) & 7; }

#define ASSERT_ST(i, se, m) do {                                              \
        F80 v_ = st(i);                                                       \
        cr_assert(v_.sexp == (se) && v_.mant == (m),                          \
                  "st%u = %04x:%016llx, want %04x:%016llx", (unsigned)(i),    \
                  v_.sexp, (unsigned long long)v_.mant, (unsigned)(se),       \
                  (unsigned long long)(m));                                   \
    } while (0)

static void set_cw(uint16_t cw)
{
    put_u16(cw);
    OK(MEM(0xd9, 5));
}

/* ---- loads, stores, constants ---- */

/* Outside the fopcode compatibility mode (the default) FOP is the opcode
 * of the last instruction that signalled an unmasked exception. */
Test(x86_fpu, fop_default_mode)
{
    cpu->fpu.fop = 0;
    fld64(1.5);
    OK(MEM(0xdd, 3));                    /* fstp m64: FIP/FDP, not FOP */
    cr_assert_eq(cpu->fpu.fop, 0);
    cr_assert_eq(cpu->fpu.fip, CODE);
    cpu->fpu.fcw = 0x037f & ~0x04;       /* ZE unmasked */
    fld64(1.0);
    fld64(0.0);
    OK(0xde, 0xf9);                      /* fdivp: 1/0 signals ZE, unmasked */
    cr_assert(cpu->fpu.fsw & 0x80);      /* ES */
    cr_assert_eq(cpu->fpu.fop, 0x6f9);
}

Test(x86_fpu, fld_fst_roundtrip)
{
    cpu->misc_enable |= X86_MISC_FOPCODE_COMPAT;     /* FOP of every instruction */
    fld64(1.5);
    ASSERT_ST(0, 0x3fff, 0xc000000000000000ull);
    cr_assert_eq(top(), 7);
    cr_assert_eq(cpu->fpu.ftw, 0x80);
    OK(MEM(0xdd, 3));                    /* fstp m64 */
    cr_assert_eq(get_u64(0), 0x3ff8000000000000ull);
    cr_assert_eq(top(), 0);
    cr_assert_eq(cpu->fpu.ftw, 0);
    /* FOP / FIP / FDP of the last non-control instruction */
    cr_assert_eq(cpu->fpu.fop, 0x51b);
    cr_assert_eq(cpu->fpu.fip, CODE);
    cr_assert_eq(cpu->fpu.fdp, DATA);
}

Test(x86_fpu, constants_follow_rounding)
{
    OK(0xd9, 0xeb);                      /* fldpi */
    ASSERT_ST(0, 0x4000, 0xc90fdaa22168c235ull);
    set_cw(0x037f | 0x400);              /* round down */
    OK(0xd9, 0xeb);
    ASSERT_ST(0, 0x4000, 0xc90fdaa22168c234ull);
    OK(0xd9, 0xe9);                      /* fldl2t, down */
    ASSERT_ST(0, 0x4000, 0xd49a784bcd1b8afeull);
    set_cw(0x037f | 0x800);              /* up */
    OK(0xd9, 0xe9);
    ASSERT_ST(0, 0x4000, 0xd49a784bcd1b8affull);
    OK(0xd9, 0xed);                      /* fldln2, up */
    ASSERT_ST(0, 0x3ffe, 0xb17217f7d1cf79acull);
    OK(0xd9, 0xe8);                      /* fld1 */
    ASSERT_ST(0, 0x3fff, 0x8000000000000000ull);
    OK(0xd9, 0xee);                      /* fldz */
    ASSERT_ST(0, 0, 0);
}

Test(x86_fpu, fldcw_reserved_bits)
{
    set_cw(0x0000);
    OK(MEM(0xd9, 7));                    /* fnstcw */
    cr_assert_eq(get_u16(0), 0x0040);
    set_cw(0xffff);
    OK(MEM(0xd9, 7));
    cr_assert_eq(get_u16(0), 0x1f7f);
}

Test(x86_fpu, single_store_rounding_and_overflow)
{
    fld64(1.0 + 0x1p-30);                /* not representable in binary32 */
    OK(MEM(0xd9, 2));                    /* fst m32, nearest */
    cr_assert_eq(get_u32(0), 0x3f800000u);
    cr_assert(cpu->fpu.fsw & 0x20);      /* PE */
    cr_assert(!(cpu->fpu.fsw & X86_FSW_C1));
    set_cw(0x037f | 0x800);              /* up */
    OK(MEM(0xd9, 2));
    cr_assert_eq(get_u32(0), 0x3f800001u);
    cr_assert(cpu->fpu.fsw & X86_FSW_C1);  /* rounded up */
    fld64(1e300);
    OK(MEM(0xd9, 3));                    /* fstp m32: overflow, up -> inf */
    cr_assert_eq(get_u32(0), 0x7f800000u);
    cr_assert(cpu->fpu.fsw & 0x08);
    set_cw(0x037f | 0xc00);              /* chop: largest finite */
    fld64(-1e300);
    OK(MEM(0xd9, 3));
    cr_assert_eq(get_u32(0), 0xff7fffffu);
}

Test(x86_fpu, integer_conversions)
{
    put_u32((uint32_t)-123456);
    OK(MEM(0xdb, 0));                    /* fild m32 */
    OK(MEM(0xdf, 3));                    /* fistp m16: out of range */
    cr_assert_eq(get_u16(0), 0x8000);
    cr_assert(cpu->fpu.fsw & X86_FSW_IE);
    OK(0xdb, 0xe2);                      /* fnclex */
    fld64(-2.5);
    OK(MEM(0xdb, 2));                    /* fist m32, nearest even */
    cr_assert_eq(get_u32(0), (uint32_t)-2);
    OK(MEM(0xdb, 1));                    /* fisttp m32: truncates */
    cr_assert_eq(get_u32(0), (uint32_t)-2);
    fld64(3.5);
    OK(MEM(0xdf, 7));                    /* fistp m64 */
    cr_assert_eq(get_u64(0), 4);
    fld80(0x7fff, 0xc000000000000000ull);    /* QNaN */
    OK(MEM(0xdf, 7));
    cr_assert_eq(get_u64(0), 0x8000000000000000ull);
    put_u64(0x8000000000000000ull);
    OK(MEM(0xdf, 5));                    /* fild m64: -2^63 exact */
    ASSERT_ST(0, 0xc03e, 0x8000000000000000ull);
}

Test(x86_fpu, bcd)
{
    uint8_t bcd[10] = { 0x89, 0x67, 0x45, 0x23, 0x01, 0, 0, 0, 0, 0x80 };
    put_bytes(0, bcd, 10);
    OK(MEM(0xdf, 4));                    /* fbld: -123456789 */
    OK(MEM(0xdf, 6));                    /* fbstp */
    cr_assert_eq(memcmp(ram + DATA, bcd, 10), 0);
    fld64(1e18);                         /* too large */
    OK(MEM(0xdf, 6));
    static const uint8_t indef[10] = { 0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff };
    cr_assert_eq(memcmp(ram + DATA, indef, 10), 0);
    cr_assert(cpu->fpu.fsw & X86_FSW_IE);
}

/* ---- arithmetic ---- */

Test(x86_fpu, precision_control)
{
    set_cw(0x007f);                      /* single precision, nearest */
    fld64(1.0);
    fld64(3.0);
    OK(0xde, 0xf9);                      /* fdivp st1, st: 1/3 */
    ASSERT_ST(0, 0x3ffd, 0xaaaaab0000000000ull);
    cr_assert(cpu->fpu.fsw & X86_FSW_C1);
    set_cw(0x027f);                      /* double */
    fld64(1.0);
    fld64(3.0);
    OK(0xde, 0xf9);
    ASSERT_ST(0, 0x3ffd, 0xaaaaaaaaaaaaa800ull);
    set_cw(0x037f);                      /* extended */
    fld64(1.0);
    fld64(3.0);
    OK(0xde, 0xf9);
    ASSERT_ST(0, 0x3ffd, 0xaaaaaaaaaaaaaaabull);
    set_cw(0x0f7f);                      /* extended, chop */
    fld64(1.0);
    fld64(3.0);
    OK(0xde, 0xf9);
    ASSERT_ST(0, 0x3ffd, 0xaaaaaaaaaaaaaaaaull);
}

Test(x86_fpu, reversed_forms)
{
    fld64(10.0);
    fld64(4.0);                          /* st0 = 4, st1 = 10 */
    OK(0xdc, 0xe9);                      /* fsub st1, st: st1 = 10 - 4 */
    ASSERT_ST(1, 0x4001, 0xc000000000000000ull);
    OK(0xdc, 0xe1);                      /* fsubr st1, st: st1 = 4 - 6 */
    ASSERT_ST(1, 0xc000, 0x8000000000000000ull);
    OK(0xd8, 0xe9);                      /* fsubr st, st1: st0 = -2 - 4 */
    ASSERT_ST(0, 0xc001, 0xc000000000000000ull);
    OK(0xde, 0xf1);                      /* fdivrp st1, st: st1 = -6 / -2, pop */
    ASSERT_ST(0, 0x4000, 0xc000000000000000ull);
    cr_assert_eq(top(), 7);
}

Test(x86_fpu, special_values)
{
    /* zero signs: x - x = +0 (nearest), -0 (down) */
    fld64(5.0);
    OK(0xd9, 0xc0);                      /* fld st0 */
    OK(0xde, 0xe9);                      /* fsubp */
    ASSERT_ST(0, 0, 0);
    set_cw(0x077f);
    OK(0xd9, 0xc0);
    OK(0xde, 0xe9);
    ASSERT_ST(0, 0x8000, 0);
    set_cw(0x037f);
    /* inf - inf: invalid, masked -> indefinite */
    fld80(0x7fff, 0x8000000000000000ull);
    OK(0xd9, 0xc0);
    OK(0xde, 0xe9);
    ASSERT_ST(0, 0xffff, 0xc000000000000000ull);
    cr_assert(cpu->fpu.fsw & X86_FSW_IE);
    OK(0xdb, 0xe2);
    /* NaN propagation: of two QNaNs the larger significand */
    fld80(0x7fff, 0xc000000000000001ull);
    fld80(0xffff, 0xc000000000000005ull);
    OK(0xd8, 0xc1);
    ASSERT_ST(0, 0xffff, 0xc000000000000005ull);
    cr_assert(!(cpu->fpu.fsw & X86_FSW_IE));
    /* SNaN + QNaN: the QNaN, IE */
    fld80(0x7fff, 0xa000000000000000ull);
    OK(0xd8, 0xc1);
    ASSERT_ST(0, 0xffff, 0xc000000000000005ull);
    cr_assert(cpu->fpu.fsw & X86_FSW_IE);
    OK(0xdb, 0xe2);
    /* x / 0: ZE, infinity */
    fld64(0.0);
    fld64(-3.0);
    OK(0xd8, 0xf1);                      /* fdiv st, st1 */
    ASSERT_ST(0, 0xffff, 0x8000000000000000ull);
    cr_assert(cpu->fpu.fsw & 0x04);
    /* denormal operand: DE */
    OK(0xdb, 0xe3);
    fld80(0x0000, 0x0000000000000001ull);
    cr_assert(!(cpu->fpu.fsw & 0x02));
    OK(0xd8, 0xc0);                      /* fadd st, st */
    ASSERT_ST(0, 0x0000, 0x0000000000000002ull);
    cr_assert(cpu->fpu.fsw & 0x02);
    /* unnormal: unsupported -> IE */
    fld80(0x3fff, 0x4000000000000000ull);
    OK(0xd8, 0xc0);
    ASSERT_ST(0, 0xffff, 0xc000000000000000ull);
    cr_assert(cpu->fpu.fsw & X86_FSW_IE);
}

Test(x86_fpu, underflow_and_overflow)
{
    /* masked underflow: denormal result with UE|PE */
    fld80(0x0001, 0x8000000000000001ull);
    fld64(0.5);
    OK(0xd8, 0xc9);                      /* fmul st, st1 */
    ASSERT_ST(0, 0x0000, 0x4000000000000000ull);   /* rounded to even */
    cr_assert_eq(cpu->fpu.fsw & 0x3f, 0x30);
    /* unmasked overflow: exponent biased by -24576 */
    OK(0xdb, 0xe3);
    set_cw(0x0377);                      /* OM = 0 */
    fld80(0x7ffe, 0x8000000000000000ull);
    OK(0xd8, 0xc0);
    ASSERT_ST(0, 0x7fff - 24576, 0x8000000000000000ull);
    cr_assert(cpu->fpu.fsw & 0x08);
    cr_assert(cpu->fpu.fsw & X86_FSW_ES);
}

Test(x86_fpu, sqrt_scale_rem_rndint_xtract)
{
    fld64(2.0);
    OK(0xd9, 0xfa);                      /* fsqrt */
    ASSERT_ST(0, 0x3fff, 0xb504f333f9de6484ull);
    OK(0xdb, 0xe3);
    fld64(3.0);
    fld64(1.25);
    OK(0xd9, 0xfd);                      /* fscale: 1.25 * 2^3 */
    ASSERT_ST(0, 0x4002, 0xa000000000000000ull);
    OK(0xdb, 0xe3);
    fld64(3.0);
    fld64(17.0);
    OK(0xd9, 0xf8);                      /* fprem: 17 rem 3 = 2, q = 5 */
    ASSERT_ST(0, 0x4000, 0x8000000000000000ull);
    cr_assert_eq(cpu->fpu.fsw & 0x4700, X86_FSW_C0 | X86_FSW_C1);
    OK(0xd9, 0xf5);                      /* fprem1: 2 rem 3 = -1 */
    ASSERT_ST(0, 0xbfff, 0x8000000000000000ull);
    OK(0xdb, 0xe3);
    fld64(2.5);
    OK(0xd9, 0xfc);                      /* frndint: 2 */
    ASSERT_ST(0, 0x4000, 0x8000000000000000ull);
    cr_assert(cpu->fpu.fsw & 0x20);
    fld64(-12.0);
    OK(0xd9, 0xf4);                      /* fxtract: st0 = -1.5, st1 = 3 */
    ASSERT_ST(0, 0xbfff, 0xc000000000000000ull);
    ASSERT_ST(1, 0x4000, 0xc000000000000000ull);
}

/* ---- comparisons ---- */

Test(x86_fpu, compares)
{
    fld64(2.0);
    fld64(1.0);
    OK(0xd8, 0xd1);                      /* fcom st1: 1 < 2 */
    cr_assert_eq(cpu->fpu.fsw & 0x4500, X86_FSW_C0);
    OK(0xdb, 0xf1);                      /* fcomi st1 */
    cr_assert(x86_cond(cpu, 2));         /* CF */
    cr_assert(!x86_cond(cpu, 4));
    cpu->eflags |= X86_OF | X86_SF | X86_AF;
    OK(0xdb, 0xf1);
    cr_assert_eq(x86_eflags(cpu) & X86_ARITH_FLAGS, X86_CF);
    OK(0xd9, 0xe4);                      /* ftst: 1 > 0 */
    cr_assert_eq(cpu->fpu.fsw & 0x4500, 0);
    fld80(0x7fff, 0xc000000000000000ull);        /* QNaN */
    OK(0xdb, 0xe9);                      /* fucomi: quiet */
    cr_assert_eq(x86_eflags(cpu) & X86_ARITH_FLAGS, X86_ZF | X86_PF | X86_CF);
    cr_assert(!(cpu->fpu.fsw & X86_FSW_IE));
    OK(0xdf, 0xf1);                      /* fcomip: signalling, pops */
    cr_assert(cpu->fpu.fsw & X86_FSW_IE);
    cr_assert_eq(top(), 6);
    OK(0xda, 0xe9);                      /* fucompp: 1 vs 2, pops twice */
    cr_assert_eq(cpu->fpu.fsw & 0x4500, X86_FSW_C0);
    cr_assert_eq(top(), 0);
    cr_assert_eq(cpu->fpu.ftw, 0);
}

Test(x86_fpu, fxam_classes)
{
    static const struct { uint16_t se; uint64_t m; uint16_t cc; } t[] = {
        { 0x3fff, 0x8000000000000000ull, X86_FSW_C2 },                 /* normal */
        { 0x8000, 0, X86_FSW_C3 | X86_FSW_C1 },                        /* -0 */
        { 0x0000, 1, X86_FSW_C3 | X86_FSW_C2 },                        /* denormal */
        { 0x7fff, 0x8000000000000000ull, X86_FSW_C2 | X86_FSW_C0 },    /* inf */
        { 0xffff, 0xc000000000000000ull, X86_FSW_C0 | X86_FSW_C1 },    /* -NaN */
        { 0x3fff, 0x0000000000000001ull, 0 },                          /* unnormal */
    };
    for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
        OK(0xdb, 0xe3);
        fld80(t[i].se, t[i].m);
        OK(0xd9, 0xe5);
        cr_assert_eq(cpu->fpu.fsw & 0x4700, t[i].cc, "case %zu", i);
    }
    OK(0xdb, 0xe3);
    OK(0xd9, 0xe5);                      /* empty */
    cr_assert_eq(cpu->fpu.fsw & 0x4500, X86_FSW_C3 | X86_FSW_C0);
}

Test(x86_fpu, fcmov)
{
    fld64(7.0);
    fld64(1.0);
    cpu->eflags = 0x2;
    x86_set_arith(cpu, X86_CF);
    OK(0xda, 0xc1);                      /* fcmovb: CF = 1 -> moves */
    ASSERT_ST(0, 0x4001, 0xe000000000000000ull);
    fld64(1.0);
    OK(0xdb, 0xc2);                      /* fcmovnb: not taken */
    ASSERT_ST(0, 0x3fff, 0x8000000000000000ull);
}

/* ---- the stack ---- */

Test(x86_fpu, stack_overflow_underflow)
{
    for (int i = 0; i < 8; i++)
        OK(0xd9, 0xe8);
    cr_assert_eq(cpu->fpu.ftw, 0xff);
    OK(0xd9, 0xee);                      /* ninth push: overflow */
    cr_assert_eq(cpu->fpu.fsw & 0x3ff & ~X86_FSW_C0 & ~X86_FSW_C2,
                 X86_FSW_IE | X86_FSW_SF | X86_FSW_C1);
    ASSERT_ST(0, 0xffff, 0xc000000000000000ull);
    OK(0xdb, 0xe3);
    OK(0xd8, 0xc1);                      /* fadd with empty regs: underflow */
    cr_assert_eq(cpu->fpu.fsw & (X86_FSW_IE | X86_FSW_SF | X86_FSW_C1),
                 X86_FSW_IE | X86_FSW_SF);
    ASSERT_ST(0, 0xffff, 0xc000000000000000ull);
    /* unmasked: nothing changes, ES set */
    OK(0xdb, 0xe3);
    set_cw(0x037e);
    OK(0xd9, 0xc1);                      /* fld st1 (empty) */
    cr_assert_eq(top(), 0);
    cr_assert_eq(cpu->fpu.ftw, 0);
    cr_assert(cpu->fpu.fsw & X86_FSW_ES);
    cr_assert(cpu->fpu.fsw & X86_FSW_B);
}

Test(x86_fpu, fxch_ffree_incdec)
{
    fld64(1.0);
    fld64(2.0);
    OK(0xd9, 0xc9);                      /* fxch st1 */
    ASSERT_ST(0, 0x3fff, 0x8000000000000000ull);
    ASSERT_ST(1, 0x4000, 0x8000000000000000ull);
    OK(0xdd, 0xc1);                      /* ffree st1 (R7) */
    cr_assert_eq(cpu->fpu.ftw, 1u << 6);
    OK(0xd9, 0xf7);                      /* fincstp */
    cr_assert_eq(top(), 7);
    OK(0xd9, 0xf6);                      /* fdecstp */
    cr_assert_eq(top(), 6);
}

/* ---- exceptions ---- */

Test(x86_fpu, mf_at_next_waiting_instruction)
{
    set_cw(0x037b);                      /* ZM = 0 */
    fld64(0.0);
    fld64(1.0);
    OK(0xd8, 0xf1);                      /* fdiv: unmasked ZE, st0 unchanged */
    ASSERT_ST(0, 0x3fff, 0x8000000000000000ull);
    cr_assert(cpu->fpu.fsw & X86_FSW_ES);
    uint64_t fip = cpu->fpu.fip;
    cr_assert_eq(RUN(0x9b), X86_EXC_MF); /* fwait */
    cr_assert_eq(RUN(0xd9, 0xe8), X86_EXC_MF);   /* fld1 */
    cr_assert_eq(cpu->fpu.fip, fip);
    OK(0xdf, 0xe0);                      /* fnstsw ax: no wait */
    cr_assert_eq(cpu->regs[X86_RAX] & 0xffff, cpu->fpu.fsw);
    OK(0xdb, 0xe2);                      /* fnclex */
    OK(0x9b);
    /* With CR0.NE = 0 (FERR# not wired) the waiting instruction goes on. */
    OK(0xd8, 0xf1);
    cpu->cr0 &= ~X86_CR0_NE;
    OK(0x9b);
}

Test(x86_fpu, nm)
{
    cpu->cr0 |= X86_CR0_TS;
    cr_assert_eq(RUN(0xd9, 0xe8), X86_EXC_NM);
    OK(0x9b);                            /* WAIT: only with MP */
    cpu->cr0 |= X86_CR0_MP;
    cr_assert_eq(RUN(0x9b), X86_EXC_NM);
    cr_assert_eq(RUN(0xdb, 0xe3), X86_EXC_NM);
    cpu->cr0 = X86_CR0_EM | X86_CR0_NE;
    cr_assert_eq(RUN(0xd9, 0xe8), X86_EXC_NM);
    OK(0x9b);
    cr_assert_eq(RUN(0x0f, 0xae, 0x07), X86_EXC_NM);     /* fxsave [bx] */
}

/* ---- state images ---- */

Test(x86_fpu, fnstenv_fldenv_formats)
{
    fld64(1.0);                          /* R7 valid */
    fld64(0.0);                          /* R6 zero */
    fld80(0x7fff, 0x8000000000000000ull);    /* R5 special */
    cpu->hflags = X86_HF_PE;             /* 16-bit protected mode */
    cpu->seg[X86_CS].selector = 0x08;
    cpu->seg[X86_DS].selector = 0x10;
    OK(0xdd, 0xc0 + 4);                  /* ffree st4 (R1): stays empty */
    cpu->misc_enable |= X86_MISC_FOPCODE_COMPAT;
    fld80(0x3fff, 0x8000000000000000ull);    /* records FOP/FIP/FDP */
    OK(0xdb, 0xe2);
    OK(0x66, MEM(0xd9, 6));              /* o32 fnstenv, protected format */
    cr_assert_eq(get_u32(0), 0xffff037f);
    cr_assert_eq(get_u32(4), 0xffff0000u | cpu->fpu.fsw);
    /* R4 valid, R5 special, R6 zero, R7 valid, others empty */
    cr_assert_eq(get_u32(8), 0xffff0000u | 0x18ff);
    cr_assert_eq(get_u32(12), CODE);
    cr_assert_eq(get_u32(16), 0x08u | 0x32bu << 16);
    cr_assert_eq(get_u32(20), DATA);
    cr_assert_eq(get_u32(24), 0xffff0010u);
    cr_assert_eq(cpu->fpu.fcw, 0x037f);  /* FSTENV masks all: already */
    /* FLDENV with a tag word marking everything empty */
    put_u16(0x0362);
    memset(ram + DATA + 8, 0xff, 2);
    OK(0x66, MEM(0xd9, 4));              /* o32 fldenv */
    cr_assert_eq(cpu->fpu.fcw, 0x0362);
    cr_assert_eq(cpu->fpu.ftw, 0);
    /* 16-bit real-mode format */
    cpu->hflags = 0;
    cpu->fpu.fip = 0x1234;
    cpu->fpu.fcs = 0x1000;
    cpu->fpu.fop = 0x7ff;
    cpu->fpu.fdp = 0x10;
    cpu->fpu.fds = 0x2345;
    OK(MEM(0xd9, 6));                    /* o16 fnstenv, real-mode format */
    cr_assert_eq(get_u16(6), 0x1234);
    cr_assert_eq(get_u16(8), 0x17ff);
    cr_assert_eq(get_u16(10), 0x3460);
    cr_assert_eq(get_u16(12), 0x2000);
}

Test(x86_fpu, fsave_frstor)
{
    fld64(3.0);
    fld64(-1.0);
    uint16_t fsw = cpu->fpu.fsw;
    OK(0x66, MEM(0xdd, 6));              /* o32 fnsave, real-mode format */
    cr_assert_eq(get_u32(0), 0xffff037f);
    cr_assert_eq(get_u16(4), fsw);
    cr_assert_eq(get_u64(28), 0x8000000000000000ull);     /* ST0 = -1 */
    cr_assert_eq(get_u16(36), 0xbfff);
    cr_assert_eq(get_u64(38), 0xc000000000000000ull);     /* ST1 = 3 */
    cr_assert_eq(get_u16(46), 0x4000);
    /* FNSAVE reinitialised */
    cr_assert_eq(cpu->fpu.fsw, 0);
    cr_assert_eq(cpu->fpu.ftw, 0);
    OK(0x66, MEM(0xdd, 4));              /* o32 frstor */
    cr_assert_eq(cpu->fpu.fsw, fsw);
    cr_assert_eq(cpu->fpu.ftw, 0xc0);
    ASSERT_ST(0, 0xbfff, 0x8000000000000000ull);
    ASSERT_ST(1, 0x4000, 0xc000000000000000ull);
}

Test(x86_fpu, fxsave_fxrstor)
{
    fld64(3.0);
    fld64(-1.0);
    cpu->fpu.mxcsr = 0x1fa0;
    cpu->fpu.xmm[3].q[0] = 0x1122334455667788ull;
    memset(ram + DATA, 0xee, 512);
    OK(MEMAE(0));                    /* 0F AE /0 */
    const uint8_t *b = ram + DATA;
    cr_assert_eq(get_u16(0), 0x037f);
    cr_assert_eq(get_u16(2), cpu->fpu.fsw);
    cr_assert_eq(b[4], 0xc0);            /* abridged tag */
    cr_assert_eq(b[5], 0);
    cr_assert_eq(get_u16(6), cpu->fpu.fop);
    cr_assert_eq(get_u32(8), CODE);
    cr_assert_eq(get_u32(24), 0x1fa0);
    cr_assert_eq(get_u32(28), 0xffff);
    cr_assert_eq(get_u64(32), 0x8000000000000000ull);
    cr_assert_eq(get_u16(40), 0xbfff);
    cr_assert_eq(b[42], 0xee);           /* reserved bytes untouched */
    cr_assert_eq(get_u64(160 + 48), 0x1122334455667788ull);
    cr_assert_eq(b[416], 0xee);
    /* restore into a clean unit */
    OK(0xdb, 0xe3);
    cpu->fpu.mxcsr = 0x1f80;
    cpu->fpu.xmm[3].q[0] = 0;
    OK(MEMAE(1));
    cr_assert_eq(cpu->fpu.ftw, 0xc0);
    cr_assert_eq(cpu->fpu.mxcsr, 0x1fa0);
    cr_assert_eq(cpu->fpu.xmm[3].q[0], 0x1122334455667788ull);
    ASSERT_ST(1, 0x4000, 0xc000000000000000ull);
    /* reserved MXCSR bits and misalignment: #GP */
    uint32_t bad = 0x10000;
    memcpy(ram + DATA + 24, &bad, 4);
    cr_assert_eq(RUN(MEMAE(1)), X86_EXC_GP);
    cpu->regs[X86_RBX] = DATA + 8;
    cr_assert_eq(RUN(MEMAE(0)), X86_EXC_GP);
}

Test(x86_fpu, xsave_xrstor_xsetbv)
{
    cpu->regs[X86_RCX] = 0;
    OK(0x0f, 0x01, 0xd0);                /* xgetbv */
    cr_assert_eq(cpu->regs[X86_RAX], 1);
    cr_assert_eq(cpu->regs[X86_RDX], 0);
    cpu->regs[X86_RAX] = 2;              /* bit 0 clear: #GP */
    cr_assert_eq(RUN(0x0f, 0x01, 0xd1), X86_EXC_GP);
    cpu->regs[X86_RAX] = 7;
    cr_assert_eq(RUN(0x0f, 0x01, 0xd1), X86_EXC_GP);
    cpu->regs[X86_RAX] = 3;
    OK(0x0f, 0x01, 0xd1);
    cr_assert_eq(cpu->fpu.xcr0, 3);
    cpu->regs[X86_RCX] = 1;
    cr_assert_eq(RUN(0x0f, 0x01, 0xd0), X86_EXC_GP);

    fld64(2.0);
    cpu->fpu.xmm[0].q[1] = 0xabcdull;
    memset(ram + DATA, 0, 1024);
    uint64_t other = 1ull << 9;          /* a bit outside RFBM: kept */
    memcpy(ram + DATA + 512, &other, 8);
    cpu->regs[X86_RAX] = ~0u;
    cpu->regs[X86_RDX] = ~0u;
    OK(MEMAE(4));                    /* xsave */
    cr_assert_eq(get_u64(512), other | 3);
    cr_assert_eq(get_u64(32), 0x8000000000000000ull);
    cr_assert_eq(get_u64(160 + 8), 0xabcd);
    cr_assert_eq(get_u32(24), 0x1f80);
    /* XRSTOR with XSTATE_BV = 1: SSE initialised, x87 loaded */
    uint64_t bv = 1;
    memcpy(ram + DATA + 512, &bv, 8);
    OK(0xdb, 0xe3);
    OK(MEMAE(5));
    cr_assert_eq(cpu->fpu.xmm[0].q[1], 0);
    ASSERT_ST(0, 0x4000, 0x8000000000000000ull);
    /* XSTATE_BV = 0: x87 initialised */
    bv = 0;
    memcpy(ram + DATA + 512, &bv, 8);
    OK(MEMAE(5));
    cr_assert_eq(cpu->fpu.ftw, 0);
    cr_assert_eq(cpu->fpu.fcw, 0x037f);
    /* header checks */
    bv = 4;
    memcpy(ram + DATA + 512, &bv, 8);
    cr_assert_eq(RUN(MEMAE(5)), X86_EXC_GP);
    bv = 1ull << 63;
    memset(ram + DATA + 512, 0, 8);
    memcpy(ram + DATA + 520, &bv, 8);
    cr_assert_eq(RUN(MEMAE(5)), X86_EXC_GP);
    /* without CR4.OSXSAVE: #UD */
    cpu->cr4 &= ~X86_CR4_OSXSAVE;
    cr_assert_eq(RUN(MEMAE(4)), X86_EXC_UD);
    cr_assert_eq(RUN(0x0f, 0x01, 0xd0), X86_EXC_UD);
}

Test(x86_fpu, mmx_helpers)
{
    fld64(1.0);
    x86_mmx_enter(cpu);
    cr_assert_eq(top(), 0);
    cr_assert_eq(cpu->fpu.ftw, 0xff);
    x86_mmx_emms(cpu);
    cr_assert_eq(cpu->fpu.ftw, 0);
}

/* ---- transcendentals (fpu_trans.c; its values: test_x86_fpu_trans.c) ---- */

Test(x86_fpu, transcendental_stack_effects)
{
    fld64(0.5);
    OK(0xd9, 0xfe);                      /* fsin */
    ASSERT_ST(0, 0x3ffd, 0xf57743a2582f7f44ull);
    cr_assert_eq(cpu->fpu.fsw & (0x3f | X86_FSW_C1 | X86_FSW_C2), 0x20 | X86_FSW_C1);
    OK(0xdb, 0xe3);
    fld64(0.5);
    OK(0xd9, 0xfb);                      /* fsincos: st0 = cos, st1 = sin */
    cr_assert_eq(top(), 6);
    ASSERT_ST(0, 0x3ffe, 0xe0a94032dbea7ceeull);
    ASSERT_ST(1, 0x3ffd, 0xf57743a2582f7f44ull);
    OK(0xdb, 0xe3);
    fld64(0.5);
    OK(0xd9, 0xf2);                      /* fptan: st0 = 1, st1 = tan */
    cr_assert_eq(top(), 6);
    ASSERT_ST(0, 0x3fff, 0x8000000000000000ull);
    ASSERT_ST(1, 0x3ffe, 0x8bda7adf9a3a5219ull);
    OK(0xdb, 0xe3);
    fld64(1.0);
    fld64(2.0);
    OK(0xd9, 0xf3);                      /* fpatan: atan(st1 / st0), popped */
    cr_assert_eq(top(), 7);
    ASSERT_ST(0, 0x3ffd, 0xed63382b0dda7b45ull);
    cr_assert_eq(cpu->fpu.fsw & (0x3f | X86_FSW_C1), 0x20);
    OK(0xdb, 0xe3);
    fld64(3.0);
    fld64(10.0);
    OK(0xd9, 0xf1);                      /* fyl2x: 3 log2(10) */
    cr_assert_eq(top(), 7);
    ASSERT_ST(0, 0x4002, 0x9f73da38d9d4a83full);
    OK(0xdb, 0xe3);
    fld64(2.0);
    fld64(0.125);
    OK(0xd9, 0xf9);                      /* fyl2xp1: 2 log2(1.125) */
    ASSERT_ST(0, 0x3ffd, 0xae00d1cfdeb43cfdull);
    OK(0xdb, 0xe3);
    fld64(0.5);
    OK(0xd9, 0xf0);                      /* f2xm1: sqrt(2) - 1 */
    ASSERT_ST(0, 0x3ffd, 0xd413cccfe7799211ull);
}

/* |x| >= 2^63: C2 and nothing changes; only FSIN FCOS FSINCOS FPTAN
 * write C2. */
Test(x86_fpu, transcendental_c2)
{
    fld64(0x1p64);
    OK(0xd9, 0xff);                      /* fcos */
    cr_assert(cpu->fpu.fsw & X86_FSW_C2);
    ASSERT_ST(0, 0x403f, 0x8000000000000000ull);
    OK(0xd9, 0xfb);                      /* fsincos: nothing pushed */
    cr_assert_eq(top(), 7);
    cr_assert(cpu->fpu.fsw & X86_FSW_C2);
    cr_assert_eq(cpu->fpu.fsw & 0x3f, 0);
    fld64(0.5);
    OK(0xd9, 0xf0);                      /* f2xm1 leaves C2 */
    cr_assert(cpu->fpu.fsw & X86_FSW_C2);
    OK(0xd9, 0xfe);                      /* an fsin in range clears it */
    cr_assert(!(cpu->fpu.fsw & X86_FSW_C2));
}

/* Rounding control applies, precision control does not. */
Test(x86_fpu, transcendental_rounding)
{
    set_cw(0x037f | 0x800);              /* up */
    fld64(1.0);
    OK(0xd9, 0xff);                      /* fcos */
    ASSERT_ST(0, 0x3ffe, 0x8a51407da8345c92ull);
    cr_assert(cpu->fpu.fsw & X86_FSW_C1);
    set_cw(0x037f | 0x400);              /* down */
    fld64(1.0);
    OK(0xd9, 0xff);
    ASSERT_ST(0, 0x3ffe, 0x8a51407da8345c91ull);
    cr_assert(!(cpu->fpu.fsw & X86_FSW_C1));
    set_cw(0x007f);                      /* single precision */
    fld64(1.0);
    OK(0xd9, 0xfe);                      /* fsin: all 64 bits */
    ASSERT_ST(0, 0x3ffe, 0xd76aa47848677021ull);
}

Test(x86_fpu, transcendental_unmasked)
{
    /* IE: the operand stays, ES */
    set_cw(0x037e);
    fld80(0x7fff, 0x8000000000000000ull);
    OK(0xd9, 0xfe);                      /* fsin(inf) */
    ASSERT_ST(0, 0x7fff, 0x8000000000000000ull);
    cr_assert_eq(cpu->fpu.fsw & 0x3f, 0x01);
    cr_assert(cpu->fpu.fsw & X86_FSW_ES);
    OK(0xdb, 0xe3);
    set_cw(0x037e);
    fld80(0x7fff, 0x8000000000000000ull);
    OK(0xd9, 0xf2);                      /* fptan(inf): nothing pushed */
    cr_assert_eq(top(), 7);
    OK(0xdb, 0xe3);
    /* UE: the result with its exponent biased by +24576 */
    set_cw(0x036f);
    fld80(0x0000, 0x4000000000000001ull);
    OK(0xd9, 0xfe);
    ASSERT_ST(0, 0x6000, 0x8000000000000002ull);
    cr_assert_eq(cpu->fpu.fsw & 0x3f, 0x32);
    cr_assert(cpu->fpu.fsw & X86_FSW_ES);
}

/* ---- f80.h against the host x87 ---- */

#if defined(__x86_64__)
typedef struct __attribute__((packed)) HF { uint64_t m; uint16_t se; } HF;

static F80 gen(void)
{
    uint64_t k = rnd();
    unsigned e;
    switch (k % 8) {
    case 0: e = 0; break;
    case 1: e = 0x7fff; break;
    case 2: e = 1 + (unsigned)(rnd() % 70); break;
    case 3: e = 0x7ffe - (unsigned)(rnd() % 70); break;
    default: e = 16383 + (unsigned)(rnd() % 80) - 40; break;
    }
    uint64_t m = rnd();
    if ((k >> 8) % 4 == 0)
        m &= ~0ull << (rnd() % 64);
    if (e != 0)
        m |= 1ull << 63;
    F80 r = { m, (uint16_t)(e | (rnd() & 1 ? 0x8000 : 0)) };
    return r;
}

#define HOSTOP(insn)                                                          \
    __asm__ volatile("fnstenv %[env]\n\tfldcw %[cw]\n\tfnclex\n\t"            \
                     "fldt %[b]\n\tfldt %[a]\n\t" insn "\n\tfnstsw %[sw]\n\t" \
                     "fstpt %[r]\n\tfstp %%st(0)\n\tfldenv %[env]"            \
                     : [r] "=m"(hr), [sw] "=m"(sw), [env] "=m"(env)           \
                     : [a] "m"(ha), [b] "m"(hb), [cw] "m"(cw))

Test(x86_fpu, softfloat_matches_host)
{
    static const unsigned prec[4] = { 24, 64, 53, 64 };
    for (int i = 0; i < 200000; i++) {
        F80 a = gen(), b = gen();
        unsigned pc = (unsigned)(rnd() % 4), rc = (unsigned)(rnd() % 4);
        if (pc == 1)
            pc = 3;
        uint16_t cw = (uint16_t)(0x7f | pc << 8 | rc << 10), sw;
        HF ha = { a.mant, a.sexp }, hb = { b.mant, b.sexp }, hr;
        uint8_t env[28];
        F80Ctx c = { prec[pc], rc, 0x3f, 0 };
        F80 s;
        int op = (int)(rnd() % 5);
        switch (op) {
        case 0: HOSTOP("fadd %%st(1), %%st"); s = f80_add(&c, a, b, false); break;
        case 1: HOSTOP("fsub %%st(1), %%st"); s = f80_add(&c, a, b, true); break;
        case 2: HOSTOP("fmul %%st(1), %%st"); s = f80_mul(&c, a, b); break;
        case 3: HOSTOP("fdiv %%st(1), %%st"); s = f80_div(&c, a, b); break;
        default: HOSTOP("fsqrt"); s = f80_sqrt(&c, a); break;
        }
        cr_assert(hr.m == s.mant && hr.se == s.sexp && ((sw ^ c.fl) & 0x23f) == 0,
                  "op %d cw %04x a %04x:%016llx b %04x:%016llx host %04x:%016llx/%04x "
                  "soft %04x:%016llx/%04x", op, cw, a.sexp, (unsigned long long)a.mant,
                  b.sexp, (unsigned long long)b.mant, hr.se, (unsigned long long)hr.m,
                  sw & 0x23f, s.sexp, (unsigned long long)s.mant, c.fl & 0x23f);
    }
}
#endif
