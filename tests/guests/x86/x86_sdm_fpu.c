/* x86_sdm_fpu (pm32, tandem-only): x87 and SSE behaviour that the Intel SDM
 * defines and QEMU 7.2 does not implement (see README.md, "QEMU 7.2
 * deviations"), so this guest is not compared with QEMU: every expected
 * value below comes from the SDM (section quoted at each test), and the
 * guest checks them itself.
 *
 *  1. C1 as the round-up indicator (FADD FMUL FST FBSTP FSCALE FRNDINT)
 *  2. DE for denormal operands (FLD m32/m64, not m80; arithmetic; FTST;
 *     unmasked: TOP and the operands unchanged)
 *  3. stack overflow/underflow: SF, C1, the masked QNaN indefinite
 *     (FLD, FADD, FSTP, FISTP, FXCH), unmasked overflow leaves TOP
 *  4. FCOMI/FUCOMI clear OF, SF, AF
 *  5. FNSTENV/FSTENV mask all exceptions afterwards
 *  6. FPREM/FPREM1 quotient bits in C0/C3/C1
 *  7. FSIN/FCOS/FSINCOS/FPTAN with |x| >= 2^63: C2, operand unchanged;
 *     FSIN(inf): IE, the indefinite
 *  8. unmasked ZE: destination unchanged, #MF at the next waiting insn
 *  9. #MF taken by a waiting x87 instruction (FLD1), not only FWAIT
 * 10. FXRSTOR/LDMXCSR with reserved MXCSR bits: #GP(0)
 * 11. unmasked SIMD exceptions: #XM (CR4.OSXMMEXCPT=1; destination
 *     unchanged, flag set), #UD with OSXMMEXCPT=0
 * 12. SSE: MXCSR.DE for denormal inputs, DAZ; MIN/MAX with DAZ return the
 *     zeroed operand; two NaNs -> the first source, quieted; PHMINPOSUW
 *     m128 alignment (#GP(0))
 *
 * -mgeneral-regs-only: every x87/SSE value goes through the globals below
 * and inline assembly. */
#include "rt.h"

RT_TEST_NAME("x86_sdm_fpu");

typedef struct __attribute__((packed)) f80 {
    u64 m;
    u16 e;
} f80;

#define F(e_, m_) ((f80){ (m_), (e_) })
#define ONE F(0x3fff, 0x8000000000000000ull)
#define INDEF F(0xffff, 0xc000000000000000ull)

static f80 A, B, R, R2;
static u16 CW, SW, SW2;
static u64 M64;
static u32 M32, FI, FO;
static u16 M16;
static u8 BCD[10];
static u8 ENV[28];
static u8 FXB[512 + 16] __attribute__((aligned(16)));

/* FNINIT, FLDCW CW, body, FNINIT. */
#define X87(body) __asm__ volatile("fninit\n\tfldcw %[cw]\n\t" body "\n\tfninit"              \
    : [r] "=m"(R), [r2] "=m"(R2), [sw] "=m"(SW), [sw2] "=m"(SW2), [fo] "=m"(FO),          \
      [m64] "+m"(M64), [m32] "+m"(M32), [m16] "+m"(M16), [bcd] "+m"(BCD), [env] "+m"(ENV) \
    : [a] "m"(A), [b] "m"(B), [cw] "m"(CW), [fi] "m"(FI)                                  \
    : "memory", "cc", "eax")

#define CW_DEF 0x037f                       /* all masked, RN, 64-bit precision */
#define CW_RC(rc) ((u16)(CW_DEF & ~0xc00) | (u16)((rc) << 10))
#define RC_RN 0
#define RC_RU 2
/* FSW: B C3 TOP C2 C1 C0 ES SF PE UE OE ZE DE IE */
#define SW_IE 0x0001
#define SW_DE 0x0002
#define SW_ZE 0x0004
#define SW_UE 0x0010
#define SW_PE 0x0020
#define SW_SF 0x0040
#define SW_ES 0x0080
#define SW_C0 0x0100
#define SW_C1 0x0200
#define SW_C2 0x0400
#define SW_C3 0x4000
#define SW_B  0x8000
#define SW_TOP(t) ((u16)((t) << 11))
#define SW_NOTOP 0x47ff                     /* condition codes, ES, SF, flags */

static void show(const char *name, u64 got, u64 want, int line)
{
    printf("%-46s %llx%s\n", name, (unsigned long long)got,
           got == want ? "" : "  <-- wrong");
    if (got != want)
        rt_check_fail(__FILE__, line, name, got, want);
}
#define SHOW(name, got, want) show(name, (u64)(got), (u64)(want), __LINE__)
static void show80(const char *name, f80 got, f80 want, int line)
{
    int ok = got.m == want.m && got.e == want.e;
    printf("%-46s %04x_%016llx%s\n", name, got.e, (unsigned long long)got.m, ok ? "" : "  <-- wrong");
    if (!ok) {
        rt_check_fail(__FILE__, line, name, got.m, want.m);
        if (got.e != want.e)
            rt_check_fail(__FILE__, line, name, got.e, want.e);
    }
}
#define SHOW80(name, got, want) show80(name, got, want, __LINE__)

/* ------------------------------------------------------ 1. C1 round-up */
/* SDM Vol. 1, 8.1.3.1 "Condition Code Flags": "...the C1 flag ... When the
 * inexact-result exception (#P) is generated, C1 indicates whether the
 * result was rounded up (C1 = 1) or not (C1 = 0)"; the per-instruction
 * "FPU Flags Affected" of FADD, FMUL, FST, FSCALE: "C1 Set to 0 if stack
 * underflow occurred.  Set if result was rounded up; cleared otherwise."
 * FBSTP and FRNDINT say the same. */
static void test_c1(void)
{
    printf("1. C1 round-up indicator\n");
    /* 1 + 0.75 ulp (ulp of 1.0 = 2^-63) */
    A = ONE, B = F(0x3fbf, 0xc000000000000000ull);
    CW = CW_RC(RC_RN);
    X87("fldt %[b]\n\tfldt %[a]\n\tfaddp\n\tfnstsw %[sw]\n\tfstpt %[r]");
    SHOW80("fadd 1+0.75ulp rn: result", R, F(0x3fff, 0x8000000000000001ull));
    SHOW("fadd 1+0.75ulp rn: sw (PE C1)", SW & SW_NOTOP, SW_PE | SW_C1);
    B = F(0x3fbe, 0x8000000000000000ull);                 /* 0.25 ulp */
    X87("fldt %[b]\n\tfldt %[a]\n\tfaddp\n\tfnstsw %[sw]\n\tfstpt %[r]");
    SHOW80("fadd 1+0.25ulp rn: result", R, ONE);
    SHOW("fadd 1+0.25ulp rn: sw (PE, C1=0)", SW & SW_NOTOP, SW_PE);
    CW = CW_RC(RC_RU);
    X87("fldt %[b]\n\tfldt %[a]\n\tfaddp\n\tfnstsw %[sw]\n\tfstpt %[r]");
    SHOW80("fadd 1+0.25ulp ru: result", R, F(0x3fff, 0x8000000000000001ull));
    SHOW("fadd 1+0.25ulp ru: sw (PE C1)", SW & SW_NOTOP, SW_PE | SW_C1);
    /* (1 + ulp)^2 = 1 + 2 ulp + ulp^2 */
    A = B = F(0x3fff, 0x8000000000000001ull);
    CW = CW_RC(RC_RN);
    X87("fldt %[b]\n\tfldt %[a]\n\tfmulp\n\tfnstsw %[sw]\n\tfstpt %[r]");
    SHOW80("fmul (1+ulp)^2 rn: result", R, F(0x3fff, 0x8000000000000002ull));
    SHOW("fmul (1+ulp)^2 rn: sw (PE, C1=0)", SW & SW_NOTOP, SW_PE);
    CW = CW_RC(RC_RU);
    X87("fldt %[b]\n\tfldt %[a]\n\tfmulp\n\tfnstsw %[sw]\n\tfstpt %[r]");
    SHOW80("fmul (1+ulp)^2 ru: result", R, F(0x3fff, 0x8000000000000003ull));
    SHOW("fmul (1+ulp)^2 ru: sw (PE C1)", SW & SW_NOTOP, SW_PE | SW_C1);
    /* FST m32: 1 + 0.75 ulp(single) rounds up, 1 + 0.25 ulp down */
    CW = CW_RC(RC_RN);
    A = F(0x3fff, 0x800000c000000000ull);
    X87("fldt %[a]\n\tfsts %[m32]\n\tfnstsw %[sw]");
    SHOW("fst m32 1+0.75ulp: value", M32, 0x3f800001);
    SHOW("fst m32 1+0.75ulp: sw (PE C1)", SW & SW_NOTOP, SW_PE | SW_C1);
    A = F(0x3fff, 0x8000004000000000ull);
    X87("fldt %[a]\n\tfsts %[m32]\n\tfnstsw %[sw]");
    SHOW("fst m32 1+0.25ulp: value", M32, 0x3f800000);
    SHOW("fst m32 1+0.25ulp: sw (PE, C1=0)", SW & SW_NOTOP, SW_PE);
    /* FBSTP: 2.75 -> 3 (up), 2.5 -> 2 (to even, not up) */
    A = F(0x4000, 0xb000000000000000ull);
    X87("fldt %[a]\n\tfbstp %[bcd]\n\tfnstsw %[sw]");
    SHOW("fbstp 2.75: bcd", BCD[0], 3);
    SHOW("fbstp 2.75: sw (PE C1)", SW & SW_NOTOP, SW_PE | SW_C1);
    A = F(0x4000, 0xa000000000000000ull);
    X87("fldt %[a]\n\tfbstp %[bcd]\n\tfnstsw %[sw]");
    SHOW("fbstp 2.5: bcd", BCD[0], 2);
    SHOW("fbstp 2.5: sw (PE, C1=0)", SW & SW_NOTOP, SW_PE);
    /* FSCALE into the denormals: 1.5 * 2^-16446 = 0.75 * 2^-16445 (the
     * smallest denormal) -> 2^-16445 (up); 1.0 * 2^-16447 -> 0 (down) */
    A = F(0x3fff, 0xc000000000000000ull);
    M32 = (u32)-16446;
    X87("fildl %[m32]\n\tfldt %[a]\n\tfscale\n\tfnstsw %[sw]\n\tfstpt %[r]");
    SHOW80("fscale 1.5*2^-16446: result", R, F(0x0000, 0x0000000000000001ull));
    SHOW("fscale 1.5*2^-16446: sw (UE PE C1)", SW & SW_NOTOP, SW_UE | SW_PE | SW_C1);
    A = ONE;
    M32 = (u32)-16447;
    X87("fildl %[m32]\n\tfldt %[a]\n\tfscale\n\tfnstsw %[sw]\n\tfstpt %[r]");
    SHOW80("fscale 1.0*2^-16447: result", R, F(0x0000, 0));
    SHOW("fscale 1.0*2^-16447: sw (UE PE, C1=0)", SW & SW_NOTOP, SW_UE | SW_PE);
    /* FRNDINT */
    A = F(0x4000, 0xb000000000000000ull);
    X87("fldt %[a]\n\tfrndint\n\tfnstsw %[sw]\n\tfstpt %[r]");
    SHOW80("frndint 2.75: result", R, F(0x4000, 0xc000000000000000ull));
    SHOW("frndint 2.75: sw (PE C1)", SW & SW_NOTOP, SW_PE | SW_C1);
    A = F(0x4000, 0xa000000000000000ull);
    X87("fldt %[a]\n\tfrndint\n\tfnstsw %[sw]\n\tfstpt %[r]");
    SHOW80("frndint 2.5: result", R, F(0x4000, 0x8000000000000000ull));
    SHOW("frndint 2.5: sw (PE, C1=0)", SW & SW_NOTOP, SW_PE);
}

/* ------------------------------------------------------ 2. denormals */
/* SDM Vol. 1, 8.5.2 "Denormal Operand Exception (#D)": "The x87 FPU
 * signals the denormal-operand exception ... if an arithmetic instruction
 * attempts to operate on a denormal operand"; FLD: "#D Source operand is a
 * denormal value.  Does not occur if the source operand is in double
 * extended-precision floating-point format."  FTST: "#D One operand is
 * denormal."  8.5.2: "When the exception is not masked, the DE flag is
 * set, a software exception handler is invoked, and the top-of-stack
 * pointer (TOP) and source operands remain unchanged." */
static void test_denormal(void)
{
    printf("2. denormal operands\n");
    CW = CW_DEF;
    M32 = 1;                                   /* 2^-149 */
    X87("flds %[m32]\n\tfnstsw %[sw]\n\tfstpt %[r]");
    SHOW("fld m32 denormal: sw (DE)", SW & SW_NOTOP, SW_DE);
    SHOW80("fld m32 denormal: value (normalized)", R, F(0x3fff - 149, 0x8000000000000000ull));
    M64 = 1;                                   /* 2^-1074 */
    X87("fldl %[m64]\n\tfnstsw %[sw]\n\tfstpt %[r]");
    SHOW("fld m64 denormal: sw (DE)", SW & SW_NOTOP, SW_DE);
    SHOW80("fld m64 denormal: value (normalized)", R, F(0x3fff - 1074, 0x8000000000000000ull));
    A = F(0x0000, 0x0000000000000001ull);
    X87("fldt %[a]\n\tfnstsw %[sw]\n\tfstpt %[r]");
    SHOW("fld m80 denormal: sw (no DE)", SW & SW_NOTOP, 0);
    SHOW80("fld m80 denormal: value", R, A);
    B = ONE;
    X87("fldt %[b]\n\tfldt %[a]\n\tfaddp\n\tfnstsw %[sw]\n\tfstpt %[r]");
    SHOW("fadd 1+denormal: sw (DE PE)", SW & SW_NOTOP, SW_DE | SW_PE);
    SHOW80("fadd 1+denormal: result", R, ONE);
    X87("fldt %[a]\n\tftst\n\tfnstsw %[sw]");
    SHOW("ftst denormal: sw (DE, > 0)", SW & SW_NOTOP, SW_DE);
    A = F(0x8000, 0x0000000000000001ull);
    X87("fldt %[a]\n\tftst\n\tfnstsw %[sw]");
    SHOW("ftst -denormal: sw (DE, < 0: C0)", SW & SW_NOTOP, SW_DE | SW_C0);
    /* DE unmasked: FLD m32 loads nothing, TOP unchanged */
    CW = CW_DEF & ~SW_DE;
    M32 = 1;
    X87("fld1\n\tflds %[m32]\n\tfnstsw %[sw]\n\tfnclex\n\tfstpt %[r]");
    SHOW("fld m32 denormal, DE unmasked: sw", SW, SW_B | SW_TOP(7) | SW_ES | SW_DE);
    SHOW80("fld m32 denormal, DE unmasked: st0", R, ONE);
    CW = CW_DEF;
}

/* ---------------------------------------------- 3. stack faults */
/* SDM Vol. 1, 8.5.1.1 "Stack Overflow or Underflow Exception (#IS)":
 * "...the IE flag and the SF flag are set ... The C1 flag is set to 1 for
 * overflow and cleared (0) for underflow.  If the invalid-operation
 * exception is masked, the x87 FPU returns the floating point, integer,
 * or packed decimal integer indefinite value to the destination operand
 * ... If the invalid-operation exception is not masked, a software
 * exception handler is invoked and the top-of-stack pointer (TOP) and
 * source operands remain unchanged."  8.5.1.2, the table of masked
 * responses: FXCH "Change empty register(s) to the QNaN floating-point
 * indefinite value, then perform exchange." */
static void test_stack(void)
{
    printf("3. stack overflow/underflow\n");
    CW = CW_DEF;
    X87("fld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\t"
        "fldz\n\tfnstsw %[sw]\n\tfstpt %[r]");
    SHOW("fld into full stack: sw (TOP7 C1 SF IE)", SW, SW_TOP(7) | SW_C1 | SW_SF | SW_IE);
    SHOW80("fld into full stack: st0", R, INDEF);
    CW = CW_DEF & ~SW_IE;
    X87("fld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\t"
        "fldz\n\tfnstsw %[sw]\n\tfnclex\n\tfstpt %[r]");
    SHOW("fld into full stack, IE unmasked: sw", SW, SW_B | SW_TOP(0) | SW_C1 | SW_ES | SW_SF | SW_IE);
    SHOW80("fld into full stack, IE unmasked: st0", R, ONE);
    CW = CW_DEF;
    X87("fld1\n\tfadd %%st(1), %%st\n\tfnstsw %[sw]\n\tfstpt %[r]");
    SHOW("fadd st(1) empty: sw (TOP7 SF IE, C1=0)", SW, SW_TOP(7) | SW_SF | SW_IE);
    SHOW80("fadd st(1) empty: st0", R, INDEF);
    M64 = 0x1234;
    X87("fstpl %[m64]\n\tfnstsw %[sw]");
    SHOW("fstp m64 empty: sw (TOP1 SF IE)", SW, SW_TOP(1) | SW_SF | SW_IE);
    SHOW("fstp m64 empty: value (indefinite)", M64, 0xfff8000000000000ull);
    M16 = 0x1234;
    X87("fistps %[m16]\n\tfnstsw %[sw]");
    SHOW("fistp m16 empty: sw (TOP1 SF IE)", SW, SW_TOP(1) | SW_SF | SW_IE);
    SHOW("fistp m16 empty: value (indefinite)", M16, 0x8000);
    X87("fld1\n\tfxch %%st(1)\n\tfnstsw %[sw]\n\tfstpt %[r]\n\tfstpt %[r2]");
    SHOW("fxch st(1) empty: sw (TOP7 SF IE)", SW, SW_TOP(7) | SW_SF | SW_IE);
    SHOW80("fxch st(1) empty: st0", R, INDEF);
    SHOW80("fxch st(1) empty: st1", R2, ONE);
}

/* --------------------------------------------------------- 4. FCOMI */
/* SDM Vol. 2A, FCOMI/FCOMIP/FUCOMI/FUCOMIP: "Flags Affected: The ZF, PF,
 * and CF flags are set according to the result ... The OF, SF and AF
 * flags are cleared to 0 in the EFLAGS register (regardless of whether an
 * invalid-operation exception is detected)." */
static void test_fcomi(void)
{
    printf("4. FCOMI/FUCOMI clear OF SF AF\n");
    CW = CW_DEF;
    FI = 0x2 | FL_ARITH;
    A = ONE, B = F(0x4000, 0x8000000000000000ull);       /* 1 < 2 */
    X87("fldt %[b]\n\tfldt %[a]\n\tpushl %[fi]\n\tpopfl\n\tfcomi %%st(1), %%st\n\tpushfl\n\tpopl %[fo]");
    SHOW("fcomi 1,2: eflags & arith (CF)", FO & FL_ARITH, FL_CF);
    X87("fldt %[b]\n\tfldt %[a]\n\tpushl %[fi]\n\tpopfl\n\tfucomip %%st(1), %%st\n\tpushfl\n\tpopl %[fo]");
    SHOW("fucomip 1,2: eflags & arith (CF)", FO & FL_ARITH, FL_CF);
    B = F(0x7fff, 0xc000000000000001ull);                /* QNaN */
    X87("fldt %[b]\n\tfldt %[a]\n\tpushl %[fi]\n\tpopfl\n\tfucomi %%st(1), %%st\n\tpushfl\n\tpopl %[fo]\n\tfnstsw %[sw]");
    SHOW("fucomi 1,qnan: eflags (ZF PF CF)", FO & FL_ARITH, FL_ZF | FL_PF | FL_CF);
    SHOW("fucomi 1,qnan: sw (no IE)", SW & SW_NOTOP, 0);
    X87("fldt %[b]\n\tfldt %[a]\n\tpushl %[fi]\n\tpopfl\n\tfcomi %%st(1), %%st\n\tpushfl\n\tpopl %[fo]\n\tfnstsw %[sw]");
    SHOW("fcomi 1,qnan: eflags (ZF PF CF)", FO & FL_ARITH, FL_ZF | FL_PF | FL_CF);
    SHOW("fcomi 1,qnan: sw (IE)", SW & SW_NOTOP, SW_IE);
}

/* ------------------------------------------------------- 5. FNSTENV */
/* SDM Vol. 2A, FSTENV/FNSTENV: "...saves the current FPU operating
 * environment ... and then masks all floating-point exceptions." Operation:
 * "FPUControlWord.ExceptionMasks <- 111111B". */
static void test_fstenv(void)
{
    printf("5. FNSTENV masks all exceptions\n");
    CW = 0x0360;                               /* all unmasked, nothing pending */
    X87("fnstenv %[env]\n\tfnstcw %[sw]");
    SHOW("fnstenv: fcw afterwards", SW, 0x037f);
    SHOW("fnstenv: fcw in the image", ENV[0] | ENV[1] << 8, 0x0360);
    CW = 0x0b72;                               /* RU, PC 64, some masks */
    X87("fstenv %[env]\n\tfnstcw %[sw]");
    SHOW("fstenv: fcw afterwards (RC/PC kept)", SW, 0x0b7f);
    CW = CW_DEF;
}

/* ----------------------------------------------- 6. FPREM/FPREM1 Q bits */
/* SDM Vol. 2A, FPREM1 (and FPREM): "FPU Flags Affected: C0 Set to bit 2
 * (Q2) of the quotient.  C1 Set to 0 if stack underflow occurred;
 * otherwise, set to least significant bit of quotient (Q0).  C2 Set to 0
 * if reduction complete; set to 1 if incomplete.  C3 Set to bit 1 (Q1) of
 * the quotient."  FPREM1 rounds the quotient to the nearest integer
 * (IEEE remainder), FPREM truncates. */
static void prem(int ieee, u32 x, u32 y, u16 want_sw, f80 want)
{
    char name[64];
    M32 = x;
    FI = y;
    if (ieee)
        X87("fildl %[fi]\n\tfildl %[m32]\n\tfprem1\n\tfnstsw %[sw]\n\tfstpt %[r]");
    else
        X87("fildl %[fi]\n\tfildl %[m32]\n\tfprem\n\tfnstsw %[sw]\n\tfstpt %[r]");
    memcpy(name, ieee ? "fprem1 " : "fprem  ", 8);
    name[7] = (char)('0' + x / 10), name[8] = (char)('0' + x % 10), name[9] = '/';
    name[10] = (char)('0' + y), name[11] = 0;
    SHOW(name, SW & (SW_C3 | SW_C2 | SW_C1 | SW_C0), want_sw);
    SHOW80(name, R, want);
}

static void test_prem(void)
{
    printf("6. FPREM/FPREM1 quotient bits (C0=Q2 C3=Q1 C1=Q0)\n");
    CW = CW_DEF;
    prem(1, 7, 1, SW_C0 | SW_C3 | SW_C1, F(0, 0));                     /* q 7 */
    prem(1, 5, 1, SW_C0 | SW_C1, F(0, 0));                             /* q 5 */
    prem(1, 10, 3, SW_C3 | SW_C1, ONE);                                /* q 3, r 1 */
    prem(1, 11, 2, SW_C0 | SW_C3, F(0xbfff, 0x8000000000000000ull));   /* q 6, r -1 */
    prem(1, 6, 4, SW_C3, F(0xc000, 0x8000000000000000ull));            /* q 2, r -2 */
    prem(0, 7, 2, SW_C3 | SW_C1, ONE);                                 /* q 3, r 1 */
    prem(0, 14, 3, SW_C0, F(0x4000, 0x8000000000000000ull));           /* q 4, r 2 */
}

/* ------------------------------------------------- 7. FSIN range */
/* SDM Vol. 2A, FSIN: "The source operand must be within the range -2^63
 * to +2^63.  ... If the source operand is outside the acceptable range,
 * the C2 flag in the FPU status word is set, and the value in register
 * ST(0) remains unchanged."  FPTAN/FSINCOS: "...the C2 flag ... is set,
 * and the value in register ST(0) remains unchanged.  The instruction
 * does not raise an exception" (nothing is pushed).  FSIN table: +-inf ->
 * "*" (invalid operation: masked, the indefinite). */
static void test_trig_range(void)
{
    printf("7. FSIN/FCOS/FSINCOS/FPTAN out of range\n");
    CW = CW_DEF;
    A = F(0x403e, 0x8000000000000000ull);                /* 2^63 */
    X87("fldt %[a]\n\tfsin\n\tfnstsw %[sw]\n\tfstpt %[r]");
    SHOW("fsin 2^63: sw (C2)", SW, SW_TOP(7) | SW_C2);
    SHOW80("fsin 2^63: st0 unchanged", R, A);
    A = F(0xc03e, 0x8000000000000000ull);                /* -2^63 */
    X87("fldt %[a]\n\tfcos\n\tfnstsw %[sw]\n\tfstpt %[r]");
    SHOW("fcos -2^63: sw (C2)", SW, SW_TOP(7) | SW_C2);
    SHOW80("fcos -2^63: st0 unchanged", R, A);
    A = F(0x4050, 0xc000000000000000ull);
    X87("fldt %[a]\n\tfsincos\n\tfnstsw %[sw]\n\tfstpt %[r]");
    SHOW("fsincos 1.5*2^81: sw (C2, nothing pushed)", SW, SW_TOP(7) | SW_C2);
    SHOW80("fsincos 1.5*2^81: st0 unchanged", R, A);
    A = F(0x403e, 0x8000000000000000ull);
    X87("fldt %[a]\n\tfptan\n\tfnstsw %[sw]\n\tfstpt %[r]");
    SHOW("fptan 2^63: sw (C2, nothing pushed)", SW, SW_TOP(7) | SW_C2);
    SHOW80("fptan 2^63: st0 unchanged", R, A);
    A = F(0x7fff, 0x8000000000000000ull);                /* +inf */
    X87("fldt %[a]\n\tfsin\n\tfnstsw %[sw]\n\tfstpt %[r]");
    SHOW("fsin +inf: sw flags (IE)", SW & 0x7f, SW_IE);
    SHOW80("fsin +inf: st0 (indefinite)", R, INDEF);
}

/* ---------------------------------------------- 8./9. unmasked ZE, #MF */
/* SDM Vol. 1, 8.5.3 "Divide-By-Zero Exception (#Z)": "If the divide-by-zero
 * exception is not masked, the ZE flag is set, a software exception
 * handler is called, and the top-of-stack pointer (TOP) and source
 * operands remain unchanged."  8.6 / 8.7: "the x87 FPU ... waits until it
 * encounters the next 'waiting' floating-point instruction or WAIT/FWAIT
 * instruction ... Just before the next waiting instruction is executed,
 * the pending exception is handled" (#MF with CR0.NE = 1); FLD1 is a
 * waiting instruction (only the FN... forms are not). */
extern const char mf_fwait2[], mf_fld1[];
static void test_mf(void)
{
    printf("8./9. unmasked ZE, #MF at the next waiting instruction\n");
    CW = CW_DEF & ~SW_ZE;
    int v = TRY(__asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldz\n\tfld1\n\tfdiv %%st(1), %%st\n\t"
                                 "fnstsw %[sw]\n\t.globl mf_fwait2\nmf_fwait2: fwait\n\tnop"
                                 : [sw] "=m"(SW) : [cw] "m"(CW) : "memory"));
    SHOW("fdiv 1/0 ZE unmasked: vector at fwait", v, EXC_MF);
    SHOW("fdiv 1/0 ZE unmasked: #MF ip", rt_fault.ip == (ureg)mf_fwait2, 1);
    __asm__ volatile("fnclex\n\tfstpt %[r]\n\tfstpt %[r2]\n\tfninit" : [r] "=m"(R), [r2] "=m"(R2) :: "memory");
    SHOW("fdiv 1/0 ZE unmasked: sw", SW, SW_B | SW_TOP(6) | SW_ES | SW_ZE);
    SHOW80("fdiv 1/0 ZE unmasked: st0 unchanged", R, ONE);
    SHOW80("fdiv 1/0 ZE unmasked: st1", R2, F(0, 0));
    /* FDIVR m32 by zero: st0 unchanged */
    M32 = 0;
    A = F(0x4000, 0xc000000000000000ull);
    v = TRY(__asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfdivs %[m32]\n\tfnstsw %[sw]\n\tfwait"
                             : [sw] "=m"(SW) : [cw] "m"(CW), [a] "m"(A), [m32] "m"(M32) : "memory"));
    SHOW("fdiv m32 0 ZE unmasked: vector", v, EXC_MF);
    __asm__ volatile("fnclex\n\tfstpt %[r]\n\tfninit" : [r] "=m"(R) :: "memory");
    SHOW80("fdiv m32 0 ZE unmasked: st0 unchanged", R, A);
    /* #MF taken by FLD1 (a waiting instruction): FLD1 does not execute */
    v = TRY(__asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldz\n\tfld1\n\tfdiv %%st(1), %%st\n\t"
                             ".globl mf_fld1\nmf_fld1: fld1\n\tnop"
                             :: [cw] "m"(CW) : "memory"));
    SHOW("#MF at fld1: vector", v, EXC_MF);
    SHOW("#MF at fld1: ip = the fld1", rt_fault.ip == (ureg)mf_fld1, 1);
    __asm__ volatile("fnstsw %[sw]\n\tfnclex\n\tfninit" : [sw] "=m"(SW) :: "memory");
    SHOW("#MF at fld1: sw (TOP 6: fld1 not done)", SW, SW_B | SW_TOP(6) | SW_ES | SW_ZE);
    CW = CW_DEF;
}

/* ---------------------------------------------------------- SSE helpers */
typedef union x128 {
    u8 b[16];
    u32 d[4];
    u64 q[2];
} __attribute__((aligned(16))) x128;
static x128 XA, XB, XR;
static u32 MXI = 0x1f80, MXO, MXD = 0x1f80;

/* xmm0 = XA, xmm1 = XB, MXCSR = MXI; body; XR = xmm0, MXO = MXCSR. */
#define SSE(body) __asm__ volatile(                                                   \
    "ldmxcsr %[mxi]\n\tmovdqu %[a], %%xmm0\n\tmovdqu %[b], %%xmm1\n\t"                 \
    body "\n\tmovdqu %%xmm0, %[r]\n\tstmxcsr %[mxo]\n\tldmxcsr %[mxd]"                 \
    : [r] "=m"(XR), [mxo] "=m"(MXO), [fx] "+m"(FXB)                                    \
    : [a] "m"(XA), [b] "m"(XB), [mxi] "m"(MXI), [mxd] "m"(MXD)                         \
    : "memory", "cc")
static void set4(x128 *x, u32 a, u32 b, u32 c, u32 d) { x->d[0] = a; x->d[1] = b; x->d[2] = c; x->d[3] = d; }

/* ---------------------------------------------------- 10. reserved MXCSR */
/* SDM Vol. 2B, LDMXCSR: "#GP(0) ... If an attempt is made to set a
 * reserved bit in MXCSR" (reserved: bits 31:16 here, MXCSR_MASK =
 * 0xFFFF); FXRSTOR: "#GP(0) ... If trying to set any reserved bits in the
 * MXCSR register" (Vol. 1, 10.5.1.1: "...attempting to write a non-zero
 * value to the reserved bits ... causes a general-protection exception"). */
static void test_mxcsr_reserved(void)
{
    printf("10. reserved MXCSR bits\n");
    u32 m = 0x1f80 | 0x10000, got = 0;
    int v = TRY(__asm__ volatile("ldmxcsr %0" :: "m"(m)));
    SHOW("ldmxcsr bit 16: vector", v, EXC_GP);
    SHOW("ldmxcsr bit 16: error code", rt_fault.err, 0);
    m = 0x1f80 | 0x80000000u;
    v = TRY(__asm__ volatile("ldmxcsr %0" :: "m"(m)));
    SHOW("ldmxcsr bit 31: vector", v, EXC_GP);
    __asm__ volatile("stmxcsr %0" : "=m"(got));
    SHOW("mxcsr unchanged", got, 0x1f80);
    __asm__ volatile("fxsave %0" : "=m"(FXB) :: "memory");
    SHOW("fxsave: mxcsr_mask", FXB[28] | FXB[29] << 8 | (u32)FXB[30] << 16 | (u32)FXB[31] << 24, 0xffff);
    FXB[24] = 0x80, FXB[25] = 0x1f, FXB[26] = 0x01, FXB[27] = 0;  /* mxcsr 0x11f80 */
    v = TRY(__asm__ volatile("fxrstor %0" :: "m"(FXB) : "memory"));
    SHOW("fxrstor mxcsr bit 16: vector", v, EXC_GP);
    SHOW("fxrstor mxcsr bit 16: error code", rt_fault.err, 0);
    FXB[26] = 0;
    FXB[24] = 0xa0;                            /* 0x1fa0: PE flag, legal */
    v = TRY(__asm__ volatile("fxrstor %0" :: "m"(FXB) : "memory"));
    SHOW("fxrstor mxcsr 0x1fa0: no fault", v, -1);
    __asm__ volatile("stmxcsr %0" : "=m"(got));
    SHOW("fxrstor mxcsr 0x1fa0: mxcsr", got, 0x1fa0);
    m = 0x1f80;
    __asm__ volatile("ldmxcsr %0\n\tfninit" :: "m"(m));
}

/* -------------------------------------------------------- 11. #XM / #UD */
/* SDM Vol. 1, 11.5.1 / Vol. 3A, 6.15 "#XM": "...the processor generates
 * a SIMD floating-point exception (#XM) ... if CR4.OSXMMEXCPT = 1 ... If
 * OSXMMEXCPT is 0, the processor generates an invalid-opcode exception
 * (#UD)".  Vol. 1, 11.5.1: "...for an unmasked exception ... the
 * destination operand is not updated" (SSE: no result is stored for an
 * unmasked exception, pre- or post-computation), and the flag is set. */
static void test_xm(void)
{
    printf("11. unmasked SIMD exceptions\n");
    set4(&XA, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000);
    set4(&XB, 0, 0x3f800000, 0x3f800000, 0x3f800000);
    u32 mx = 0x1f80 & ~0x200u;                 /* ZM clear */
    int v = TRY(__asm__ volatile("ldmxcsr %[mx]\n\tmovdqu %[a], %%xmm0\n\tmovdqu %[b], %%xmm1\n\t"
                                 "divps %%xmm1, %%xmm0" :: [mx] "m"(mx), [a] "m"(XA), [b] "m"(XB) : "memory"));
    __asm__ volatile("movdqu %%xmm0, %[r]\n\tstmxcsr %[mxo]\n\tldmxcsr %[mxd]"
                     : [r] "=m"(XR), [mxo] "=m"(MXO) : [mxd] "m"(MXD) : "memory");
    SHOW("divps 1/0 ZE unmasked: vector", v, EXC_XM);
    SHOW("divps 1/0 ZE unmasked: mxcsr (ZE set)", MXO, mx | 0x04);
    SHOW("divps 1/0 ZE unmasked: xmm0 lane 0 unchanged", XR.d[0], 0x3f800000);
    SHOW("divps 1/0 ZE unmasked: xmm0 lane 1 unchanged", XR.d[1], 0x3f800000);
    /* post-computation PE unmasked: still nothing stored */
    set4(&XB, 0x40400000, 0x40400000, 0x40400000, 0x40400000);   /* 3.0 */
    mx = 0x1f80 & ~0x1000u;                                      /* PM clear */
    v = TRY(__asm__ volatile("ldmxcsr %[mx]\n\tmovdqu %[a], %%xmm0\n\tmovdqu %[b], %%xmm1\n\t"
                             "divps %%xmm1, %%xmm0" :: [mx] "m"(mx), [a] "m"(XA), [b] "m"(XB) : "memory"));
    __asm__ volatile("movdqu %%xmm0, %[r]\n\tstmxcsr %[mxo]\n\tldmxcsr %[mxd]"
                     : [r] "=m"(XR), [mxo] "=m"(MXO) : [mxd] "m"(MXD) : "memory");
    SHOW("divps 1/3 PE unmasked: vector", v, EXC_XM);
    SHOW("divps 1/3 PE unmasked: mxcsr (PE set)", MXO, mx | 0x20);
    SHOW("divps 1/3 PE unmasked: xmm0 unchanged", XR.d[2], 0x3f800000);
    /* CR4.OSXMMEXCPT = 0: #UD */
    ureg cr4 = read_cr(4);
    write_cr(4, cr4 & ~(ureg)0x400);
    set4(&XB, 0, 0x3f800000, 0x3f800000, 0x3f800000);
    mx = 0x1f80 & ~0x200u;
    v = TRY(__asm__ volatile("ldmxcsr %[mx]\n\tmovdqu %[a], %%xmm0\n\tmovdqu %[b], %%xmm1\n\t"
                             "divps %%xmm1, %%xmm0" :: [mx] "m"(mx), [a] "m"(XA), [b] "m"(XB) : "memory"));
    __asm__ volatile("ldmxcsr %[mxd]" :: [mxd] "m"(MXD) : "memory");
    write_cr(4, cr4);
    SHOW("divps 1/0 ZE unmasked, OSXMMEXCPT=0: vector", v, EXC_UD);
    /* masked: no exception */
    MXI = 0x1f80;
    SSE("divps %%xmm1, %%xmm0");
    SHOW("divps 1/0 masked: lane 0 (+inf)", XR.d[0], 0x7f800000);
    SHOW("divps 1/0 masked: mxcsr flags", MXO & 0x3f, 0x04);
}

/* ----------------------------------------------------------- 12. SSE */
/* SDM Vol. 1, 11.5.2.2 "Denormal Operand Exception (#D)": "The processor
 * signals the denormal operand exception if an arithmetic instruction
 * attempts to operate on a denormal operand" (SSE/SSE2: "DE flag in the
 * MXCSR"); 10.2.3.4 "Denormals-Are-Zeros": "...converts all denormal
 * source operands to a zero with the sign of the original operand before
 * performing any computations on them ... The processor does not set the
 * denormal-operand exception flag (DE)".  MINSS/MAXSS (Vol. 2B) return
 * the selected source as the operation sees it: with DAZ the zero.
 * Table 4-7 "Rules for handling NaNs" (Vol. 1, 4.8.3.5): SSE with two NaN
 * sources: "Source operand 1 ... (if this operand is an SNaN, it is
 * converted to a QNaN)" -- the first source, not the larger significand.
 * PHMINPOSUW (legacy SSE, exceptions type 4): "#GP(0) ... If a memory
 * operand is not aligned on a 16-byte boundary". */
static void test_sse(void)
{
    printf("12. SSE denormals, DAZ, NaN selection, alignment\n");
    set4(&XA, 0x3f800000, 0, 0, 0);
    set4(&XB, 0x00000001, 0, 0, 0);
    MXI = 0x1f80;
    SSE("mulss %%xmm1, %%xmm0");
    SHOW("mulss 1*denormal: result", XR.d[0], 0x00000001);
    SHOW("mulss 1*denormal: mxcsr flags (DE)", MXO & 0x3f, 0x02);
    MXI = 0x1f80 | 0x40;                       /* DAZ */
    SSE("mulss %%xmm1, %%xmm0");
    SHOW("mulss 1*denormal DAZ: result (+0)", XR.d[0], 0);
    SHOW("mulss 1*denormal DAZ: mxcsr flags (none)", MXO & 0x3f, 0);
    MXI = 0x1f80;
    set4(&XA, 0x00000001, 0, 0, 0);
    set4(&XB, 0x3f800000, 0, 0, 0);
    SSE("minss %%xmm1, %%xmm0");
    SHOW("minss denormal,1: result (the denormal)", XR.d[0], 0x00000001);
    SHOW("minss denormal,1: mxcsr flags (DE)", MXO & 0x3f, 0x02);
    MXI = 0x1f80 | 0x40;
    SSE("minss %%xmm1, %%xmm0");
    SHOW("minss denormal,1 DAZ: result (+0)", XR.d[0], 0);
    SHOW("minss denormal,1 DAZ: mxcsr flags", MXO & 0x3f, 0);
    set4(&XA, 0x3f800000, 0, 0, 0);
    set4(&XB, 0x00000001, 0, 0, 0);
    SSE("minps %%xmm1, %%xmm0");
    SHOW("minps 1,denormal DAZ: lane 0 (+0)", XR.d[0], 0);
    set4(&XA, 0x80000001, 0, 0, 0);
    set4(&XB, 0xbf800000, 0, 0, 0);
    SSE("maxss %%xmm1, %%xmm0");
    SHOW("maxss -denormal,-1 DAZ: result (-0)", XR.d[0], 0x80000000);
    XA.q[0] = 0x8000000000000001ull, XA.q[1] = 0;
    XB.q[0] = 0xbff0000000000000ull, XB.q[1] = 0;
    SSE("maxsd %%xmm1, %%xmm0");
    SHOW("maxsd -denormal,-1 DAZ: result (-0)", XR.q[0], 0x8000000000000000ull);
    MXI = 0x1f80;
    /* NaN selection: the first source */
    set4(&XA, 0x7fc00001, 0xffc00001, 0x7f800001, 0x7fc00001);
    set4(&XB, 0x7fc00005, 0x7fc00005, 0x7fc00005, 0x7f800005);
    SSE("addps %%xmm1, %%xmm0");
    SHOW("addps qnan1,qnan5: lane 0 (first)", XR.d[0], 0x7fc00001);
    SHOW("addps -qnan1,qnan5: lane 1 (first)", XR.d[1], 0xffc00001);
    SHOW("addps snan1,qnan5: lane 2 (first, quiet)", XR.d[2], 0x7fc00001);
    SHOW("addps qnan1,snan5: lane 3 (first)", XR.d[3], 0x7fc00001);
    SHOW("addps nans: mxcsr flags (IE)", MXO & 0x3f, 0x01);
    XA.q[0] = 0x7ff0000000000001ull, XA.q[1] = 0x7ff8000000000001ull;
    XB.q[0] = 0x7ff0000000000009ull, XB.q[1] = 0x7ff8000000000009ull;
    SSE("mulpd %%xmm1, %%xmm0");
    SHOW("mulpd snan1,snan9: lane 0 (first, quiet)", XR.q[0], 0x7ff8000000000001ull);
    SHOW("mulpd qnan1,qnan9: lane 1 (first)", XR.q[1], 0x7ff8000000000001ull);
    /* PHMINPOSUW alignment */
    for (int i = 0; i < 32; i++)
        FXB[i] = (u8)(0x40 - i);
    int v = TRY(__asm__ volatile("phminposuw 8+%0, %%xmm0" :: "m"(FXB) : "memory"));
    SHOW("phminposuw misaligned m128: vector", v, EXC_GP);
    SHOW("phminposuw misaligned m128: error code", rt_fault.err, 0);
    v = TRY(__asm__ volatile("phminposuw %0, %%xmm0" :: "m"(FXB) : "memory"));
    SHOW("phminposuw aligned m128: no fault", v, -1);
}

void test_main(void)
{
    test_c1();
    test_denormal();
    test_stack();
    test_fcomi();
    test_fstenv();
    test_prem();
    test_trig_range();
    test_mf();
    test_mxcsr_reserved();
    test_xm();
    test_sse();
    __asm__ volatile("fninit\n\tpxor %%xmm0, %%xmm0\n\tpxor %%xmm1, %%xmm1" ::: "memory");
    rt_dump_fpu = 1;
}
