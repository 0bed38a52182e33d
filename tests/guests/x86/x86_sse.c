/* x86_sse (pm32 and lm64 from one source): representative SSE..SSE4.2 instructions of each group.
 * Moves (aligned/unaligned, #GP(0) for a misaligned MOVAPS/MOVDQA), packed
 * and scalar float arithmetic in each MXCSR rounding mode, FTZ/DAZ,
 * conversions (incl. the integer indefinite), CMPPS predicates and
 * COMISS/UCOMISS flags, SSE2 integer (saturation, packs, unpacks, shuffles,
 * shifts by >= the width, PMADDWD, PSADBW, PMOVMSKB), SSE3, SSSE3, SSE4.1,
 * SSE4.2 (PCMPGTQ, PCMPxSTRx with flags, CRC32), MXCSR flags, LDMXCSR #GP
 * on reserved bits, and an unmasked SIMD exception -> #XM (CR4.OSXMMEXCPT)
 * or #UD without it.  Values certain from the SDM are checked (integer ops
 * against C models written here); the rest is printed for the comparison
 * with QEMU.
 *
 * Not printed or avoided (QEMU 7.2 differs from the hardware, see the
 * README): MXCSR.DE (QEMU never reports denormal operands; masked out of
 * every printed MXCSR), MIN/MAX with DAZ, arithmetic with two NaN inputs,
 * the alignment of PHMINPOSUW m128 (only the register form is used).
 *
 * The compiler is told -mgeneral-regs-only: operands go through memory
 * and xmm0..xmm2 (xmm8+ in one REX test) inside the asm blocks.  In pm32
 * the 64-bit register forms (MOVQ r64, CVT*2SI r64, CVTSI2SD r64, PEXTRQ,
 * PINSRQ, CRC32Q) and XMM8-15 are left out; 32-bit results are stored into
 * the 64-bit G/G2 zero-extended in both modes (ST). */
#include "rt.h"

/* GCC 12 at -O2 vectorises the PMULHW model below into one 64x64 signed
 * multiply-high of the whole quadword (wrong): no vectoriser here. */
#pragma GCC optimize("no-tree-vectorize")

RT_TEST_NAME("x86_sse");

typedef union x128 {
    u8 b[16];
    u16 w[8];
    u32 d[4];
    u64 q[2];
    int8_t sb[16];
    int16_t sw[8];
    int32_t sd[4];
} __attribute__((aligned(16))) x128;

static x128 XA, XB, XC, XR;
static u8 BUF[64] __attribute__((aligned(16)));
static u32 MXI = 0x1f80, MXO, MXD = 0x1f80;
static u64 G, G2, FO;

/* Mode-neutral pieces of the asm strings: AX is the full-width accumulator
 * (push/pop), ST(r, g) stores the 32-bit register e<r> zero-extended into
 * the u64 operand g (lm64: the MOV to e<r> already cleared the upper half),
 * LDQ(hi, lo, x) loads a 64-bit constant into the low quadword of xmm x and
 * clears the upper one (lm64: MOV r64 + MOVQ; pm32: MOVD + PINSRD). */
#ifdef RT_LM64
#define AX "%%rax"
#define ST(r, g) "mov %%r" r ", %[" g "]"
#define LDQ(hi, lo, x) "mov $" hi lo ", %%rax\n\tmovq %%rax, " x
#define SSE_CLOBBER "rax", "rcx", "rdx"
static u64 sx32(u32 v) { return (u64)(int64_t)(int32_t)v; }   /* CVT*2SI r64 */
#else
#define AX "%%eax"
#define ST(r, g) "mov %%e" r ", %[" g "]\n\tmovl $0, 4+%[" g "]"
#define LDQ(hi, lo, x) "mov $0x" lo ", %%eax\n\tmovd %%eax, " x "\n\tmov $" hi ", %%eax\n\tpinsrd $1, %%eax, " x
#define SSE_CLOBBER "eax", "ecx", "edx"
static u64 sx32(u32 v) { return v; }                         /* CVT*2SI r32 */
#endif

#ifdef RT_LM64
#define MOVQ_X1_G "movq %%xmm1, %%rax\n\tmov %%rax, %[g]"
#else
#define MOVQ_X1_G "movq %%xmm1, %[g]"
#endif

/* xmm0 = XA, xmm1 = XB, xmm2 = XC; MXCSR = MXI; result XR = xmm0, MXO. */
#define SSE(body) __asm__ volatile(                                                  \
    "ldmxcsr %[mxi]\n\tmovdqu %[a], %%xmm0\n\tmovdqu %[b], %%xmm1\n\tmovdqu %[c], %%xmm2\n\t" \
    body "\n\tmovdqu %%xmm0, %[r]\n\tstmxcsr %[mxo]\n\tldmxcsr %[mxd]"                 \
    : [r] "=m"(XR), [mxo] "=m"(MXO), [g] "+m"(G), [g2] "+m"(G2), [fo] "=m"(FO), [buf] "+m"(BUF) \
    : [a] "m"(XA), [b] "m"(XB), [c] "m"(XC), [mxi] "m"(MXI), [mxd] "m"(MXD)          \
    : "memory", "cc", SSE_CLOBBER)

#define MX_FLAGS(m) ((m) & 0x3d)            /* without DE */

static void set4(x128 *x, u32 a, u32 b, u32 c, u32 d) { x->d[0] = a; x->d[1] = b; x->d[2] = c; x->d[3] = d; }
static void set2(x128 *x, u64 a, u64 b) { x->q[0] = a; x->q[1] = b; }
static void setb(x128 *x, const char *s) { memset(x, 0, 16); for (int i = 0; i < 16 && s[i]; i++) x->b[i] = (u8)s[i]; }

static void px(const char *name)
{
    printf("%-14s %08x %08x %08x %08x mx %02x\n", name, XR.d[3], XR.d[2], XR.d[1], XR.d[0], MX_FLAGS(MXO));
}
#define CHECK_X(w3, w2, w1, w0) do { CHECK_EQ(XR.d[3], w3); CHECK_EQ(XR.d[2], w2); \
    CHECK_EQ(XR.d[1], w1); CHECK_EQ(XR.d[0], w0); } while (0)
#define CHECK_XQ(q1, q0) do { CHECK_EQ(XR.q[1], q1); CHECK_EQ(XR.q[0], q0); } while (0)
static const char *const rc_name[4] = { "rn", "rd", "ru", "rz" };

/* ---------------------------------------------------------------- moves */
static void test_moves(void)
{
    set4(&XA, 0x11111111, 0x22222222, 0x33333333, 0x44444444);
    set4(&XB, 0xaaaaaaaa, 0xbbbbbbbb, 0xcccccccc, 0xdddddddd);
    for (int i = 0; i < 64; i++)
        BUF[i] = (u8)(i * 7 + 1);
    SSE("movaps %%xmm1, %%xmm0");
    CHECK_X(0xdddddddd, 0xcccccccc, 0xbbbbbbbb, 0xaaaaaaaa);
    SSE("movups 1+%[buf], %%xmm0");
    CHECK_EQ(XR.b[0], 8);
    CHECK_EQ(XR.b[15], (u8)(16 * 7 + 1));
    SSE("lddqu 3+%[buf], %%xmm0");
    CHECK_EQ(XR.b[0], 22);
    SSE("movdqu %%xmm1, 5+%[buf]");
    CHECK_EQ(BUF[5], 0xaa);
    CHECK_EQ(BUF[20], 0xdd);
    CHECK_EQ(BUF[21], (u8)(21 * 7 + 1));
    SSE("movss %%xmm1, %%xmm0");                  /* register: merge */
    CHECK_X(0x44444444, 0x33333333, 0x22222222, 0xaaaaaaaa);
    SSE("movss 16+%[buf], %%xmm0");               /* memory: zero upper */
    CHECK_EQ(XR.d[1] | XR.d[2] | XR.d[3], 0);
    SSE("movsd %%xmm1, %%xmm0");
    CHECK_X(0x44444444, 0x33333333, 0xbbbbbbbb, 0xaaaaaaaa);
    SSE("movhlps %%xmm1, %%xmm0");
    CHECK_X(0x44444444, 0x33333333, 0xdddddddd, 0xcccccccc);
    SSE("movlhps %%xmm1, %%xmm0");
    CHECK_X(0xbbbbbbbb, 0xaaaaaaaa, 0x22222222, 0x11111111);
    SSE("movq %%xmm1, %%xmm0");
    CHECK_X(0, 0, 0xbbbbbbbb, 0xaaaaaaaa);
    G = 0x123456789abcdef0ull;
    SSE("movq %[g], %%xmm0\n\tmovd %%xmm1, %%eax\n\t" ST("ax", "g2"));
    CHECK_XQ(0, 0x123456789abcdef0ull);
    CHECK_EQ(G2, 0xaaaaaaaa);
    SSE(MOVQ_X1_G "\n\tmovhps 8+%[buf], %%xmm0\n\tmovshdup %%xmm1, %%xmm1\n\tmovsldup %%xmm1, %%xmm2\n\tpunpckldq %%xmm2, %%xmm0");
    px("movhps/dup");
#ifdef RT_LM64
    /* REX: xmm9, xmm12 */
    __asm__ volatile("movdqu %[a], %%xmm9\n\tmovdqu %[b], %%xmm12\n\tpaddd %%xmm12, %%xmm9\n\tpshufd $0x1b, %%xmm9, %%xmm12\n\tmovdqu %%xmm12, %[r]"
                     : [r] "=m"(XR) : [a] "m"(XA), [b] "m"(XB) : "memory");
    CHECK_X(0xbbbbbbbb, 0xdddddddd, 0xffffffff, 0x22222221);
#endif
    /* alignment */
    EXPECT_FAULT(EXC_GP, 0, __asm__ volatile("movaps 4+%0, %%xmm0" :: "m"(BUF)));
    EXPECT_FAULT(EXC_GP, 0, __asm__ volatile("movdqa %%xmm0, 8+%0" : "=m"(BUF)));
    EXPECT_FAULT(EXC_GP, 0, __asm__ volatile("addps 4+%0, %%xmm0" :: "m"(BUF)));
    EXPECT_FAULT(EXC_GP, 0, __asm__ volatile("pshufb 1+%0, %%xmm0" :: "m"(BUF)));
    CHECK_EQ(TRY(__asm__ volatile("addss 4+%0, %%xmm0\n\tmovdqa 16+%0, %%xmm0" :: "m"(BUF))), -1);
}

/* ------------------------------------------------------ float arithmetic */
static void test_float(void)
{
    /* packed single: lanes 1/3, 2/0.1, -1.75/3, 1e30*1e30 (overflow) */
    set4(&XA, 0x3f800000, 0x40000000, 0xbfe00000, 0x7149f2ca);
    set4(&XB, 0x40400000, 0x3dcccccd, 0x40400000, 0x7149f2ca);
    for (unsigned rc = 0; rc < 4; rc++) {
        MXI = 0x1f80 | rc << 13;
        printf("-- %s\n", rc_name[rc]);
        SSE("divps %%xmm1, %%xmm0"); px("divps");
        CHECK_EQ(XR.d[0], (rc == 0 || rc == 2) ? 0x3eaaaaabu : 0x3eaaaaaau);
        SSE("mulps %%xmm1, %%xmm0"); px("mulps");
        CHECK_EQ(XR.d[3], (rc == 0 || rc == 2) ? 0x7f800000u : 0x7f7fffffu);
        CHECK_EQ(MX_FLAGS(MXO), 0x28);
        SSE("addps %%xmm1, %%xmm0"); px("addps");
        SSE("subps %%xmm1, %%xmm0"); px("subps");
        SSE("sqrtps %%xmm1, %%xmm0"); px("sqrtps");
        SSE("divss %%xmm1, %%xmm0"); px("divss");
        CHECK_X(0x7149f2ca, 0xbfe00000, 0x40000000, (rc == 0 || rc == 2) ? 0x3eaaaaabu : 0x3eaaaaaau);
        set2(&XC, 0x3ff0000000000000ull, 0xbff0000000000000ull);
        SSE("movapd %%xmm2, %%xmm0\n\t" LDQ("0x40080000", "00000000", "%%xmm1") "\n\tmovlhps %%xmm1, %%xmm1\n\tdivpd %%xmm1, %%xmm0");
        px("divpd");
        CHECK_EQ(XR.q[0], rc == 2 ? 0x3fd5555555555556ull : 0x3fd5555555555555ull);
        CHECK_EQ(XR.q[1], rc == 1 ? 0xbfd5555555555556ull : 0xbfd5555555555555ull);
        SSE("" LDQ("0x40000000", "00000000", "%%xmm0") "\n\tsqrtsd %%xmm0, %%xmm0"); px("sqrtsd");
        CHECK_EQ(XR.q[0], (rc == 0 || rc == 2) ? 0x3ff6a09e667f3bcdull : 0x3ff6a09e667f3bccull);
        SSE("" LDQ("0x3ff00000", "00000001", "%%xmm0") "\n\t" LDQ("0x3ca00000", "00000000", "%%xmm1") "\n\taddsd %%xmm1, %%xmm0");
        px("addsd tie");
        CHECK_EQ(XR.q[0], rc == 1 || rc == 3 ? 0x3ff0000000000001ull : 0x3ff0000000000002ull);
    }
    MXI = 0x1f80;
    /* specials (one NaN at most per operation) */
    set4(&XA, 0x00000000, 0x7f800000, 0x7fa00000, 0xff800000);
    set4(&XB, 0x00000000, 0xff800000, 0x3f800000, 0x3f800000);
    SSE("divps %%xmm1, %%xmm0"); px("divps spec");
    CHECK_X(0xff800000, 0x7fe00000, 0xffc00000, 0xffc00000);
    CHECK_EQ(MX_FLAGS(MXO), 0x01);
    SSE("addps %%xmm1, %%xmm0"); px("addps spec");
    CHECK_X(0xff800000, 0x7fe00000, 0xffc00000, 0x00000000);
    set4(&XB, 0x80000000, 0x3f800000, 0x3f800000, 0x3f800000);
    set4(&XA, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000);
    SSE("divps %%xmm1, %%xmm0"); px("divps by -0");
    CHECK_EQ(XR.d[0], 0xff800000u);
    CHECK_EQ(MX_FLAGS(MXO), 0x04);
    /* MIN/MAX (no DAZ): second operand on equal or unordered */
    set4(&XA, 0x80000000, 0x7fc00000, 0x3f800000, 0x40000000);
    set4(&XB, 0x00000000, 0x3f800000, 0x7fc00000, 0x3f800000);
    SSE("minps %%xmm1, %%xmm0"); px("minps");
    CHECK_X(0x3f800000, 0x7fc00000, 0x3f800000, 0x00000000);
    SSE("maxps %%xmm1, %%xmm0"); px("maxps");
    CHECK_X(0x40000000, 0x7fc00000, 0x3f800000, 0x00000000);
    /* FTZ / DAZ: tiny products; a denormal input */
    set4(&XA, 0x1e3ce508, 0x00000001, 0x00400000, 0x3f800000);
    set4(&XB, 0x1e3ce508, 0x3f800000, 0x40000000, 0x3f800000);
    MXI = 0x1f80;
    SSE("mulps %%xmm1, %%xmm0"); px("mulps");
    CHECK_EQ(MX_FLAGS(MXO), 0x30);
    MXI = 0x1f80 | 0x8000;
    SSE("mulps %%xmm1, %%xmm0"); px("mulps ftz");
    CHECK_EQ(XR.d[0], 0);
    CHECK_EQ(MX_FLAGS(MXO), 0x30);
    MXI = 0x1f80 | 0x0040;
    SSE("mulps %%xmm1, %%xmm0"); px("mulps daz");
    CHECK_EQ(XR.d[1], 0);
    CHECK_EQ(XR.d[2], 0);
    MXI = 0x1f80;
}

/* ----------------------------------------------------------- conversions */
static void test_convert(void)
{
    set4(&XA, 0x3fc00000, 0xc0200000, 0x4f32d05e, 0x7fc00000);   /* 1.5 -2.5 3e9 NaN */
    static const u32 want[4][2] = { { 2, (u32)-2 }, { 1, (u32)-3 }, { 2, (u32)-2 }, { 1, (u32)-2 } };
    for (unsigned rc = 0; rc < 4; rc++) {
        MXI = 0x1f80 | rc << 13;
        SSE("cvtps2dq %%xmm0, %%xmm0"); px(rc_name[rc]);
        CHECK_X(0x80000000, 0x80000000, want[rc][1], want[rc][0]);
        CHECK_EQ(MX_FLAGS(MXO), 0x21);
        SSE("cvttps2dq %%xmm0, %%xmm0");
        CHECK_X(0x80000000, 0x80000000, (u32)-2, 1);
#ifdef RT_LM64
        SSE("cvtss2si %%xmm0, %%rax\n\t" ST("ax", "g"));
#else
        SSE("cvtss2si %%xmm0, %%eax\n\t" ST("ax", "g"));
#endif
        CHECK_EQ(G, sx32(want[rc][0]));
#ifdef RT_LM64
        SSE("pshufd $2, %%xmm0, %%xmm0\n\tcvtss2si %%xmm0, %%eax\n\t" ST("ax", "g") "\n\tcvtss2si %%xmm0, %%rax\n\t" ST("ax", "g2"));
        CHECK_EQ(G2, 3000000000ull);
#else
        SSE("pshufd $2, %%xmm0, %%xmm0\n\tcvtss2si %%xmm0, %%eax\n\t" ST("ax", "g") "\n\tcvttss2si %%xmm0, %%ecx\n\t" ST("cx", "g2"));
        CHECK_EQ(G2, 0x80000000u);
#endif
        CHECK_EQ(G, 0x80000000u);
        G = 0x7fffffff;
        SSE("cvtsi2ssl %k[g], %%xmm0"); px("cvtsi2ss");
        CHECK_EQ(XR.d[0], rc == 2 || rc == 0 ? 0x4f000000u : 0x4effffffu);
#ifdef RT_LM64
        G = 0x7fffffffffffffffull;
        SSE("cvtsi2sdq %[g], %%xmm0"); px("cvtsi2sd");
        CHECK_EQ(XR.q[0], rc == 2 || rc == 0 ? 0x43e0000000000000ull : 0x43dfffffffffffffull);
#else
        G = 0x80000001;                                          /* exact in a double */
        SSE("cvtsi2sdl %k[g], %%xmm0"); px("cvtsi2sd");
        CHECK_EQ(XR.q[0], 0xc1dfffffffc00000ull);
#endif
        set2(&XB, 0x47efffffffffffffull, 0x3fd5555555555555ull);   /* FLT_MAX overflow, 1/3 */
        SSE("cvtpd2ps %%xmm1, %%xmm0"); px("cvtpd2ps");
#ifdef RT_LM64
        SSE("cvtsd2si %%xmm1, %%rax\n\t" ST("ax", "g"));
        CHECK_EQ(G, 0x8000000000000000ull);
#else
        SSE("cvtsd2si %%xmm1, %%eax\n\t" ST("ax", "g"));
        CHECK_EQ(G, 0x80000000u);
#endif
    }
    MXI = 0x1f80;
    set4(&XB, 0x7fa00000, 0xff800000, 0, 0);
    SSE("cvtps2pd %%xmm1, %%xmm0"); px("cvtps2pd");
    CHECK_XQ(0xfff0000000000000ull, 0x7ffc000000000000ull);
    CHECK_EQ(MX_FLAGS(MXO), 0x01);
    set4(&XB, (u32)-7, 0x7fffffff, 0, 0);
    SSE("cvtdq2pd %%xmm1, %%xmm0");
    CHECK_XQ(0x41dfffffffc00000ull, 0xc01c000000000000ull);
    SSE("cvtdq2ps %%xmm1, %%xmm0"); px("cvtdq2ps");
    CHECK_EQ(XR.d[1], 0x4f000000u);
}

/* ----------------------------------------------------------- comparisons */
static void test_compare(void)
{
    set4(&XA, 0x3f800000, 0x40000000, 0x7fc00000, 0x40400000);   /* 1 2 NaN 3 */
    set4(&XB, 0x40000000, 0x40000000, 0x3f800000, 0x40000000);   /* 2 2 1 2 */
    static const u8 want[8] = { 0x2, 0x1, 0x3, 0x4, 0xd, 0xe, 0xc, 0xb };
    for (unsigned p = 0; p < 8; p++) {
        switch (p) {
        case 0: SSE("cmpeqps %%xmm1, %%xmm0"); break;
        case 1: SSE("cmpltps %%xmm1, %%xmm0"); break;
        case 2: SSE("cmpleps %%xmm1, %%xmm0"); break;
        case 3: SSE("cmpunordps %%xmm1, %%xmm0"); break;
        case 4: SSE("cmpneqps %%xmm1, %%xmm0"); break;
        case 5: SSE("cmpnltps %%xmm1, %%xmm0"); break;
        case 6: SSE("cmpnleps %%xmm1, %%xmm0"); break;
        case 7: SSE("cmpordps %%xmm1, %%xmm0"); break;
        }
        u8 m = 0;
        for (int i = 0; i < 4; i++) {
            CHECK(XR.d[i] == 0 || XR.d[i] == 0xffffffff);
            m |= (u8)((XR.d[i] & 1) << i);
        }
        CHECK_EQ(m, want[p]);
        /* QNaN: signalling predicates (LT LE NLT NLE) raise IE */
        CHECK_EQ(MX_FLAGS(MXO), (p == 1 || p == 2 || p == 5 || p == 6) ? 1 : 0);
    }
    set2(&XA, 0x3ff0000000000000ull, 0x7ff8000000000000ull);
    set2(&XB, 0x3ff0000000000000ull, 0x3ff0000000000000ull);
    SSE("cmplepd %%xmm1, %%xmm0");
    CHECK_XQ(0, ~0ull);
    /* COMISS / UCOMISS: ZF PF CF; OF SF AF cleared */
    static const u32 a[] = { 0x3f800000, 0x40000000, 0x40000000, 0x7fc00000, 0x7fa00000, 0x80000000 };
    static const u32 b[] = { 0x40000000, 0x3f800000, 0x40000000, 0x3f800000, 0x3f800000, 0x00000000 };
    static const u32 fl[] = { FL_CF, 0, FL_ZF, FL_ZF | FL_PF | FL_CF, FL_ZF | FL_PF | FL_CF, FL_ZF };
    for (unsigned i = 0; i < 6; i++) {
        set4(&XA, a[i], 0, 0, 0);
        set4(&XB, b[i], 0, 0, 0);
        SSE("mov $0x8d5, %%eax\n\tpush " AX "\n\tpopf\n\tcomiss %%xmm1, %%xmm0\n\tpushf\n\tpop " AX "\n\t" ST("ax", "g"));
        CHECK_EQ(G & 0x8d5, fl[i]);
        CHECK_EQ(MX_FLAGS(MXO), i == 3 || i == 4 ? 1 : 0);
        SSE("mov $0x8d5, %%eax\n\tpush " AX "\n\tpopf\n\tucomiss %%xmm1, %%xmm0\n\tpushf\n\tpop " AX "\n\t" ST("ax", "g"));
        CHECK_EQ(G & 0x8d5, fl[i]);
        CHECK_EQ(MX_FLAGS(MXO), i == 4 ? 1 : 0);
    }
}

/* --------------------------------------------------------- SSE2 integer */
static u32 hash;
static void hash_x(void)
{
    for (int i = 0; i < 16; i++) {
        hash ^= XR.b[i];
        hash *= 16777619u;
    }
}
static int8_t sat8(int v) { return (int8_t)(v > 127 ? 127 : v < -128 ? -128 : v); }
static u8 usat8(int v) { return (u8)(v > 255 ? 255 : v < 0 ? 0 : v); }
static int16_t sat16(int v) { return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v); }
static u16 usat16(int v) { return (u16)(v > 65535 ? 65535 : v < 0 ? 0 : v); }
static u64 rng = 0x9e3779b97f4a7c15ull;
static u64 rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static void rnd_inputs(unsigned i)
{
    XA.q[0] = rnd(), XA.q[1] = rnd(), XB.q[0] = rnd(), XB.q[1] = rnd();
    if (i & 1) {                      /* edge bytes */
        for (int k = 0; k < 16; k += 3) {
            XA.b[k] = (u8)(0x7f + (k & 2));
            XB.b[k] = (u8)(0x80 - (k & 4));
        }
    }
}

#define CMPW() do { if (memcmp(&w, &XR, 16)) { bad++; if (bad <= 4) \
    printf("TEST x86_sse: FAIL line %d round %u: %016llx%016llx\n", __LINE__, it, \
           (unsigned long long)XR.q[1], (unsigned long long)XR.q[0]); } hash_x(); } while (0)

static void test_int(void)
{
    hash = 2166136261u;
    unsigned bad = 0;
    for (unsigned it = 0; it < 64; it++) {
        rnd_inputs(it);
        x128 w;
        SSE("paddsb %%xmm1, %%xmm0");
        for (int i = 0; i < 16; i++) w.sb[i] = sat8(XA.sb[i] + XB.sb[i]);
        CMPW();
        SSE("paddusb %%xmm1, %%xmm0");
        for (int i = 0; i < 16; i++) w.b[i] = usat8(XA.b[i] + XB.b[i]);
        CMPW();
        SSE("psubsw %%xmm1, %%xmm0");
        for (int i = 0; i < 8; i++) w.sw[i] = sat16(XA.sw[i] - XB.sw[i]);
        CMPW();
        SSE("psubusw %%xmm1, %%xmm0");
        for (int i = 0; i < 8; i++) w.w[i] = usat16(XA.w[i] - XB.w[i]);
        CMPW();
        SSE("packsswb %%xmm1, %%xmm0");
        for (int i = 0; i < 8; i++) w.sb[i] = sat8(XA.sw[i]), w.sb[i + 8] = sat8(XB.sw[i]);
        CMPW();
        SSE("packuswb %%xmm1, %%xmm0");
        for (int i = 0; i < 8; i++) w.b[i] = usat8(XA.sw[i]), w.b[i + 8] = usat8(XB.sw[i]);
        CMPW();
        SSE("packssdw %%xmm1, %%xmm0");
        for (int i = 0; i < 4; i++) w.sw[i] = sat16(XA.sd[i]), w.sw[i + 4] = sat16(XB.sd[i]);
        CMPW();
        SSE("packusdw %%xmm1, %%xmm0");
        for (int i = 0; i < 4; i++) w.w[i] = usat16(XA.sd[i]), w.w[i + 4] = usat16(XB.sd[i]);
        CMPW();
        SSE("punpcklbw %%xmm1, %%xmm0");
        for (int i = 0; i < 8; i++) w.b[2 * i] = XA.b[i], w.b[2 * i + 1] = XB.b[i];
        CMPW();
        SSE("punpckhdq %%xmm1, %%xmm0");
        w.d[0] = XA.d[2], w.d[1] = XB.d[2], w.d[2] = XA.d[3], w.d[3] = XB.d[3];
        CMPW();
        SSE("punpcklqdq %%xmm1, %%xmm0");
        w.q[0] = XA.q[0], w.q[1] = XB.q[0];
        CMPW();
        SSE("pshufd $0x9c, %%xmm1, %%xmm0");
        for (int i = 0; i < 4; i++) w.d[i] = XB.d[(0x9c >> (2 * i)) & 3];
        CMPW();
        SSE("pshufhw $0x1b, %%xmm1, %%xmm0");
        w.q[0] = XB.q[0];
        for (int i = 0; i < 4; i++) w.w[4 + i] = XB.w[4 + 3 - i];
        CMPW();
        SSE("pshuflw $0x55, %%xmm1, %%xmm0");
        w.q[1] = XB.q[1];
        for (int i = 0; i < 4; i++) w.w[i] = XB.w[1];
        CMPW();
        SSE("pmaddwd %%xmm1, %%xmm0");
        for (int i = 0; i < 4; i++)
            w.d[i] = (u32)((int32_t)XA.sw[2 * i] * XB.sw[2 * i] + (int32_t)XA.sw[2 * i + 1] * XB.sw[2 * i + 1]);
        CMPW();
        SSE("psadbw %%xmm1, %%xmm0");
        w.q[0] = w.q[1] = 0;
        for (int i = 0; i < 16; i++)
            w.q[i / 8] += XA.b[i] > XB.b[i] ? XA.b[i] - XB.b[i] : XB.b[i] - XA.b[i];
        CMPW();
        SSE("pmulhw %%xmm1, %%xmm0");
        for (int i = 0; i < 8; i++) w.w[i] = (u16)(((int32_t)XA.sw[i] * XB.sw[i]) >> 16);
        CMPW();
        SSE("pmuludq %%xmm1, %%xmm0");
        w.q[0] = (u64)XA.d[0] * XB.d[0], w.q[1] = (u64)XA.d[2] * XB.d[2];
        CMPW();
        SSE("pavgb %%xmm1, %%xmm0");
        for (int i = 0; i < 16; i++) w.b[i] = (u8)((XA.b[i] + XB.b[i] + 1) >> 1);
        CMPW();
        SSE("pcmpgtb %%xmm1, %%xmm0");
        for (int i = 0; i < 16; i++) w.b[i] = XA.sb[i] > XB.sb[i] ? 0xff : 0;
        CMPW();
        SSE("pminub %%xmm1, %%xmm0\n\tpmaxsw %%xmm1, %%xmm0");
        for (int i = 0; i < 16; i++) w.b[i] = XA.b[i] < XB.b[i] ? XA.b[i] : XB.b[i];
        for (int i = 0; i < 8; i++) w.sw[i] = w.sw[i] > XB.sw[i] ? w.sw[i] : XB.sw[i];
        CMPW();
        SSE("pmovmskb %%xmm0, %%eax\n\t" ST("ax", "g"));
        u64 mk = 0;
        for (int i = 0; i < 16; i++) mk |= (u64)(XA.b[i] >> 7) << i;
        bad += G != mk;
        /* shifts: by register (count in xmm1's low quadword) incl. >= width */
        unsigned cnt = (unsigned)(it * 5) % 70;
        XB.q[0] = cnt, XB.q[1] = rnd();
        SSE("psllw %%xmm1, %%xmm0");
        for (int i = 0; i < 8; i++) w.w[i] = cnt > 15 ? 0 : (u16)(XA.w[i] << cnt);
        CMPW();
        SSE("psrad %%xmm1, %%xmm0");
        for (int i = 0; i < 4; i++) w.sd[i] = XA.sd[i] >> (cnt > 31 ? 31 : cnt);
        CMPW();
        SSE("psrlq %%xmm1, %%xmm0");
        for (int i = 0; i < 2; i++) w.q[i] = cnt > 63 ? 0 : XA.q[i] >> cnt;
        CMPW();
        XB.q[0] |= 1ull << 40;                /* a count that does not fit 32 bits */
        SSE("psrlw %%xmm1, %%xmm0");
        bad += (XR.q[0] | XR.q[1]) != 0;
    }
    /* immediates >= width, byte shifts */
    set2(&XA, 0x8000000180000001ull, 0xfedcba9876543210ull);
    SSE("psraw $16, %%xmm0");
    CHECK_XQ(0xffffffff00000000ull, 0xffff0000ffff0000ull);
    SSE("pslld $32, %%xmm0");
    CHECK_XQ(0, 0);
    SSE("pslldq $5, %%xmm0");
    CHECK_XQ(0x5432108000000180ull, 0x0000010000000000ull);
    SSE("psrldq $17, %%xmm0");
    CHECK_XQ(0, 0);
    CHECK_EQ(bad, 0);
    printf("sse2 int: 64 rounds hash %08x\n", hash);
}

/* ---------------------------------------------------------- SSE3 / SSSE3 */
static void test_sse3(void)
{
    set4(&XA, 0x3f800000, 0x40000000, 0x40400000, 0x40800000);   /* 1 2 3 4 */
    set4(&XB, 0x40a00000, 0x40c00000, 0x40e00000, 0x41000000);   /* 5 6 7 8 */
    SSE("haddps %%xmm1, %%xmm0");
    CHECK_X(0x41700000, 0x41300000, 0x40e00000, 0x40400000);     /* 15 11 7 3 */
    SSE("hsubps %%xmm1, %%xmm0");
    CHECK_X(0xbf800000, 0xbf800000, 0xbf800000, 0xbf800000);
    set2(&XA, 0x3ff0000000000000ull, 0x4000000000000000ull);     /* 1 2 */
    set2(&XB, 0x4008000000000000ull, 0x4010000000000000ull);     /* 3 4 */
    SSE("addsubpd %%xmm1, %%xmm0");
    CHECK_XQ(0x4018000000000000ull, 0xc000000000000000ull);      /* 6, -2 */
    SSE("movddup %%xmm1, %%xmm0");
    CHECK_XQ(0x4008000000000000ull, 0x4008000000000000ull);
    SSE("addsubps %%xmm1, %%xmm0"); px("addsubps");

    unsigned bad = 0;
    hash = 2166136261u;
    for (unsigned it = 0; it < 32; it++) {
        rnd_inputs(it);
        x128 w;
        SSE("pshufb %%xmm1, %%xmm0");
        for (int i = 0; i < 16; i++) w.b[i] = (XB.b[i] & 0x80) ? 0 : XA.b[XB.b[i] & 15];
        CMPW();
        SSE("palignr $5, %%xmm1, %%xmm0");
        for (int i = 0; i < 16; i++) w.b[i] = i + 5 < 16 ? XB.b[i + 5] : XA.b[i + 5 - 16];
        CMPW();
        SSE("palignr $20, %%xmm1, %%xmm0");
        for (int i = 0; i < 16; i++) w.b[i] = i + 4 < 16 ? XA.b[i + 4] : 0;
        CMPW();
        SSE("phaddw %%xmm1, %%xmm0");
        for (int i = 0; i < 4; i++) w.w[i] = (u16)(XA.w[2 * i] + XA.w[2 * i + 1]), w.w[i + 4] = (u16)(XB.w[2 * i] + XB.w[2 * i + 1]);
        CMPW();
        SSE("phaddsw %%xmm1, %%xmm0");
        for (int i = 0; i < 4; i++) w.sw[i] = sat16(XA.sw[2 * i] + XA.sw[2 * i + 1]), w.sw[i + 4] = sat16(XB.sw[2 * i] + XB.sw[2 * i + 1]);
        CMPW();
        SSE("pmulhrsw %%xmm1, %%xmm0");
        for (int i = 0; i < 8; i++) w.w[i] = (u16)((((int32_t)XA.sw[i] * XB.sw[i] >> 14) + 1) >> 1);
        CMPW();
        SSE("pmaddubsw %%xmm1, %%xmm0");
        for (int i = 0; i < 8; i++) w.sw[i] = sat16(XA.b[2 * i] * XB.sb[2 * i] + XA.b[2 * i + 1] * XB.sb[2 * i + 1]);
        CMPW();
        XB.b[3] = 0, XB.w[5] = 0, XB.d[3] = 0;
        SSE("psignb %%xmm1, %%xmm0");
        for (int i = 0; i < 16; i++) w.sb[i] = (int8_t)(XB.sb[i] < 0 ? -XA.sb[i] : XB.sb[i] ? XA.sb[i] : 0);
        CMPW();
        SSE("psignw %%xmm1, %%xmm0");
        for (int i = 0; i < 8; i++) w.sw[i] = (int16_t)(XB.sw[i] < 0 ? -XA.sw[i] : XB.sw[i] ? XA.sw[i] : 0);
        CMPW();
        SSE("psignd %%xmm1, %%xmm0");
        for (int i = 0; i < 4; i++) w.d[i] = XB.sd[i] < 0 ? -XA.d[i] : XB.sd[i] ? XA.d[i] : 0;
        CMPW();
        SSE("pabsb %%xmm1, %%xmm0");
        for (int i = 0; i < 16; i++) w.b[i] = (u8)(XB.sb[i] < 0 ? -XB.sb[i] : XB.sb[i]);
        CMPW();
        SSE("pabsw %%xmm1, %%xmm0\n\tpabsd %%xmm0, %%xmm0");
        for (int i = 0; i < 8; i++) w.w[i] = (u16)(XB.sw[i] < 0 ? -XB.sw[i] : XB.sw[i]);
        for (int i = 0; i < 4; i++) w.d[i] = w.sd[i] < 0 ? -w.d[i] : w.d[i];
        CMPW();
    }
    CHECK_EQ(bad, 0);
    printf("ssse3: 32 rounds hash %08x\n", hash);
}

/* ---------------------------------------------------------------- SSE4.1 */
static void test_sse41(void)
{
    unsigned bad = 0;
    hash = 2166136261u;
    for (unsigned it = 0; it < 32; it++) {
        rnd_inputs(it);
        x128 w;
        SSE("pmovsxbw %%xmm1, %%xmm0");
        for (int i = 0; i < 8; i++) w.sw[i] = XB.sb[i];
        CMPW();
        SSE("pmovzxbd %%xmm1, %%xmm0");
        for (int i = 0; i < 4; i++) w.d[i] = XB.b[i];
        CMPW();
        SSE("pmovsxwq %%xmm1, %%xmm0");
        for (int i = 0; i < 2; i++) w.q[i] = (u64)(int64_t)XB.sw[i];
        CMPW();
        SSE("pmulld %%xmm1, %%xmm0");
        for (int i = 0; i < 4; i++) w.d[i] = XA.d[i] * XB.d[i];
        CMPW();
        SSE("pmuldq %%xmm1, %%xmm0");
        for (int i = 0; i < 2; i++) w.q[i] = (u64)((int64_t)XA.sd[2 * i] * XB.sd[2 * i]);
        CMPW();
        SSE("pminsd %%xmm1, %%xmm0");
        for (int i = 0; i < 4; i++) w.sd[i] = XA.sd[i] < XB.sd[i] ? XA.sd[i] : XB.sd[i];
        CMPW();
        SSE("pmaxud %%xmm1, %%xmm0");
        for (int i = 0; i < 4; i++) w.d[i] = XA.d[i] > XB.d[i] ? XA.d[i] : XB.d[i];
        CMPW();
        SSE("pminuw %%xmm1, %%xmm0\n\tpmaxsb %%xmm1, %%xmm0");
        for (int i = 0; i < 8; i++) w.w[i] = XA.w[i] < XB.w[i] ? XA.w[i] : XB.w[i];
        for (int i = 0; i < 16; i++) w.sb[i] = w.sb[i] > XB.sb[i] ? w.sb[i] : XB.sb[i];
        CMPW();
        /* BLENDVPS/PBLENDVB: mask in xmm0 (XA), xmm1 <- xmm2 where the mask is set */
        XC.q[0] = rnd(), XC.q[1] = rnd();
        SSE("blendvps %%xmm0, %%xmm2, %%xmm1\n\tmovdqa %%xmm1, %%xmm0");
        for (int i = 0; i < 4; i++) w.d[i] = XA.sd[i] < 0 ? XC.d[i] : XB.d[i];
        CMPW();
        SSE("pblendvb %%xmm0, %%xmm2, %%xmm1\n\tmovdqa %%xmm1, %%xmm0");
        for (int i = 0; i < 16; i++) w.b[i] = XA.sb[i] < 0 ? XC.b[i] : XB.b[i];
        CMPW();
        SSE("pblendw $0xa5, %%xmm1, %%xmm0");
        for (int i = 0; i < 8; i++) w.w[i] = (0xa5 >> i) & 1 ? XB.w[i] : XA.w[i];
        CMPW();
        SSE("pcmpeqq %%xmm0, %%xmm0\n\tpcmpgtq %%xmm1, %%xmm0");
        for (int i = 0; i < 2; i++) w.q[i] = (int64_t)-1 > (int64_t)XB.q[i] ? ~0ull : 0;
        CMPW();
        SSE("pcmpgtq %%xmm1, %%xmm0");
        for (int i = 0; i < 2; i++) w.q[i] = (int64_t)XA.q[i] > (int64_t)XB.q[i] ? ~0ull : 0;
        CMPW();
        /* PTEST: ZF = (a & b) == 0, CF = (~a & b) == 0 */
        if (it & 2)
            XB.q[0] &= ~XA.q[0], XB.q[1] &= ~XA.q[1];
        if (it & 4)
            XB.q[0] &= XA.q[0], XB.q[1] &= XA.q[1];
        SSE("ptest %%xmm1, %%xmm0\n\tpushf\n\tpop " AX "\n\t" ST("ax", "g"));
        u64 wf = (((XA.q[0] & XB.q[0]) | (XA.q[1] & XB.q[1])) ? 0 : FL_ZF) |
                 (((~XA.q[0] & XB.q[0]) | (~XA.q[1] & XB.q[1])) ? 0 : FL_CF);
        bad += (G & 0x8d5) != wf;
    }
    CHECK_EQ(bad, 0);
    printf("sse4.1 int: 32 rounds hash %08x\n", hash);

    /* ROUNDPS: imm 0..3, 4 = MXCSR.RC; bit 3 suppresses PE */
    set4(&XA, 0x40200000, 0xc0200000, 0x3f000000, 0x3fc00000);   /* 2.5 -2.5 0.5 1.5 */
    SSE("roundps $0, %%xmm0, %%xmm0");
    CHECK_X(0x40000000, 0x00000000, 0xc0000000, 0x40000000);
    CHECK_EQ(MX_FLAGS(MXO), 0x20);
    SSE("roundps $1, %%xmm0, %%xmm0");
    CHECK_X(0x3f800000, 0x00000000, 0xc0400000, 0x40000000);
    SSE("roundps $2, %%xmm0, %%xmm0");
    CHECK_X(0x40000000, 0x3f800000, 0xc0000000, 0x40400000);
    SSE("roundps $0xb, %%xmm0, %%xmm0");
    CHECK_X(0x3f800000, 0x00000000, 0xc0000000, 0x40000000);
    CHECK_EQ(MX_FLAGS(MXO), 0);
    MXI = 0x1f80 | 2 << 13;
    SSE("roundps $4, %%xmm0, %%xmm0");
    CHECK_X(0x40000000, 0x3f800000, 0xc0000000, 0x40400000);
    MXI = 0x1f80;
    set2(&XA, 0xc004000000000000ull, 0x7ff4000000000000ull);     /* -2.5, SNaN */
    SSE("roundpd $3, %%xmm0, %%xmm0"); px("roundpd");
    CHECK_XQ(0x7ffc000000000000ull, 0xc000000000000000ull);
    CHECK_EQ(MX_FLAGS(MXO), 0x21);
    SSE("roundsd $0xc, %%xmm0, %%xmm0");                          /* MXCSR.RC (RN), upper kept */
    CHECK_XQ(0x7ff4000000000000ull, 0xc000000000000000ull);
    /* INSERTPS / EXTRACTPS / PEXTRx / PINSRx / DPPS */
    set4(&XA, 0x11111111, 0x22222222, 0x33333333, 0x44444444);
    set4(&XB, 0xaaaaaaaa, 0xbbbbbbbb, 0xcccccccc, 0xdddddddd);
    SSE("insertps $0x99, %%xmm1, %%xmm0");                        /* src 2 -> dst 1, zero 0 and 3 */
    CHECK_X(0, 0x33333333, 0xcccccccc, 0);
    SSE("insertps $0x00, 4+%[buf], %%xmm0");                      /* memory: 32 bits */
    CHECK_EQ(XR.d[0], (u32)BUF[4] | (u32)BUF[5] << 8 | (u32)BUF[6] << 16 | (u32)BUF[7] << 24);
    SSE("pextrb $13, %%xmm1, %%eax\n\t" ST("ax", "g") "\n\tpextrw $6, %%xmm1, %%ecx\n\t" ST("cx", "g2"));
    CHECK_EQ(G, 0xdd);
    CHECK_EQ(G2, 0xdddd);
#ifdef RT_LM64
    SSE("pextrd $2, %%xmm1, %%eax\n\t" ST("ax", "g") "\n\tpextrq $1, %%xmm1, %[g2]");
    CHECK_EQ(G2, 0xddddddddccccccccull);
#else
    SSE("pextrd $2, %%xmm1, %%eax\n\t" ST("ax", "g") "\n\tpextrd $3, %%xmm1, %[g2]");  /* m32 */
    CHECK_EQ((u32)G2, 0xdddddddd);
#endif
    CHECK_EQ(G, 0xcccccccc);
    SSE("extractps $1, %%xmm1, %%eax\n\t" ST("ax", "g"));
    CHECK_EQ(G, 0xbbbbbbbb);
    G = 0x123456789abcdef0ull;
    SSE("pinsrb $15, %k[g], %%xmm0\n\tpinsrd $1, %k[g], %%xmm0\n\tpinsrw $2, %k[g], %%xmm0");
    CHECK_X(0xf0444444, 0x33333333, 0x9abcdef0, 0x11111111);
#ifdef RT_LM64
    SSE("pinsrq $1, %[g], %%xmm0");
    CHECK_XQ(0x123456789abcdef0ull, 0x2222222211111111ull);
#else
    SSE("pinsrd $3, %[g], %%xmm0");                              /* m32 */
    CHECK_X(0x9abcdef0, 0x33333333, 0x22222222, 0x11111111);
#endif
    set4(&XA, 0x3f800000, 0x40000000, 0x40400000, 0x40800000);   /* 1 2 3 4 */
    set4(&XB, 0x40a00000, 0x40c00000, 0x40e00000, 0x41000000);   /* 5 6 7 8 */
    SSE("dpps $0xf1, %%xmm1, %%xmm0");
    CHECK_X(0, 0, 0, 0x428c0000);                                 /* 70 */
    SSE("dpps $0x5a, %%xmm1, %%xmm0");                            /* lanes 0,2 -> dst 1,3 */
    CHECK_X(0x41d00000, 0, 0x41d00000, 0);                        /* 5 + 21 = 26 */
    set2(&XA, 0x3ff0000000000000ull, 0x4000000000000000ull);
    set2(&XB, 0x4008000000000000ull, 0x4010000000000000ull);
    SSE("dppd $0x31, %%xmm1, %%xmm0");
    CHECK_XQ(0, 0x4026000000000000ull);                           /* 11 */
    /* PHMINPOSUW (register form only), MPSADBW */
    set4(&XA, 0x00070009, 0x00030005, 0x00030004, 0xffff0010);
    SSE("phminposuw %%xmm0, %%xmm0");
    CHECK_X(0, 0, 0, 0x00030003);
    for (int i = 0; i < 16; i++)
        XA.b[i] = (u8)(i * 11), XB.b[i] = (u8)(200 - i * 3);
    SSE("mpsadbw $5, %%xmm1, %%xmm0"); px("mpsadbw");
}

/* ---------------------------------------------------------------- SSE4.2 */
static u32 crc32c(u32 crc, const u8 *p, unsigned n)
{
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x82f63b78u & -(crc & 1));
    }
    return crc;
}

static void pcmp(const char *name, const char *a, const char *b)
{
    setb(&XA, a);
    setb(&XB, b);
    printf("%-8s", name);
#define PCMPI(imm) do { SSE("pcmpistri $" #imm ", %%xmm1, %%xmm0\n\tpushf\n\tpop " AX "\n\t" ST("ax", "g") "\n\t" ST("cx", "g2")); \
        printf(" i%02x:%llu/%02llx", imm, (unsigned long long)G2, (unsigned long long)(G & 0x8d5)); } while (0)
    PCMPI(0x00); PCMPI(0x04); PCMPI(0x08); PCMPI(0x0c); PCMPI(0x18); PCMPI(0x40); PCMPI(0x01); PCMPI(0x3a);
    SSE("pcmpistrm $0x40, %%xmm1, %%xmm0");
    printf(" m40:%08x%08x", XR.d[1], XR.d[0]);
    SSE("pcmpistrm $0x0c, %%xmm1, %%xmm0");
    printf(" m0c:%04x", XR.w[0]);
    SSE("mov $3, %%eax\n\tmov $-20, %%edx\n\tpcmpestri $0x0c, %%xmm1, %%xmm0\n\tpushf\n\tpop " AX "\n\t" ST("ax", "g") "\n\t" ST("cx", "g2"));
    printf(" e0c:%llu/%02llx", (unsigned long long)G2, (unsigned long long)(G & 0x8d5));
    SSE("mov $5, %%eax\n\tmov $7, %%edx\n\tpcmpestrm $0x44, %%xmm1, %%xmm0\n\tpushf\n\tpop " AX "\n\t" ST("ax", "g"));
    printf(" em44:%08x%08x/%02llx\n", XR.d[1], XR.d[0], (unsigned long long)(G & 0x8d5));
}

static void test_sse42(void)
{
    /* hand-checked: "lo" in "hello world" (equal ordered) at 3; first vowel at 1 */
    setb(&XA, "lo");
    setb(&XB, "hello world");
    SSE("pcmpistri $0x0c, %%xmm1, %%xmm0\n\tpushf\n\tpop " AX "\n\t" ST("ax", "g") "\n\t" ST("cx", "g2"));
    CHECK_EQ(G2, 3);
    CHECK_EQ(G & 0x8d5, FL_CF | FL_ZF | FL_SF);
    setb(&XA, "aeiou");
    SSE("pcmpistri $0x00, %%xmm1, %%xmm0\n\tpushf\n\tpop " AX "\n\t" ST("ax", "g") "\n\t" ST("cx", "g2"));
    CHECK_EQ(G2, 1);
    CHECK_EQ(G & 0x8d5, FL_CF | FL_ZF | FL_SF);
    SSE("pcmpistri $0x40, %%xmm1, %%xmm0\n\t" ST("cx", "g2"));   /* most significant: 'o' at 7 */
    CHECK_EQ(G2, 7);
    setb(&XA, "az");
    setb(&XB, "ABcDe");
    SSE("pcmpistrm $0x44, %%xmm1, %%xmm0");                        /* ranges, byte mask */
    CHECK_XQ(0, 0xff00ff0000ull);
    setb(&XA, "0123456789abcdef");
    SSE("pcmpistri $0x18, %%xmm0, %%xmm0\n\tpushf\n\tpop " AX "\n\t" ST("ax", "g") "\n\t" ST("cx", "g2"));
    CHECK_EQ(G2, 16);                                              /* equal each, negated: no mismatch */
    CHECK_EQ(G & 0x8d5, 0);
    pcmp("s1", "lo", "hello world");
    pcmp("s2", "aeiou", "xyzabcdefghijklmnop");
    pcmp("s3", "AZaz", "Tandem Virtual!");
    pcmp("s4", "abcd", "abcx");
    pcmp("s5", "", "abc");
    pcmp("s6", "xyz", "");
    /* word elements */
    set4(&XA, 0x00020001, 0x00000003, 0, 0);
    set4(&XB, 0x00030009, 0x00010002, 0x00000005, 0);
    SSE("pcmpistri $0x01, %%xmm1, %%xmm0\n\t" ST("cx", "g2"));
    CHECK_EQ(G2, 1);
    SSE("pcmpistrm $0x41, %%xmm1, %%xmm0"); px("pcmpistrm w");
    /* CRC32 */
    static const u8 msg[] = "123456789";
    ureg c = 0xffffffff;
    for (int i = 0; i < 9; i++)
        __asm__ volatile("crc32b %1, %k0" : "+r"(c) : "m"(msg[i]));
    CHECK_EQ(c ^ 0xffffffff, 0xe3069283u);
    u64 v = 0x0123456789abcdefull;
#ifdef RT_LM64
    c = 0x12345678;
    __asm__ volatile("crc32q %1, %0" : "+r"(c) : "r"(v));
    CHECK_EQ(c, crc32c(0x12345678, (const u8 *)&v, 8));
    c = 0xffffffffdeadbeefull;                       /* crc32l: upper half cleared */
#else
    c = 0xdeadbeef;
#endif
    __asm__ volatile("crc32l %1, %k0" : "+r"(c) : "r"((u32)v));
    CHECK_EQ(c, crc32c(0xdeadbeef, (const u8 *)&v, 4));
    c = 1;
    __asm__ volatile("crc32w %1, %k0" : "+r"(c) : "r"((u16)0xabcd));
    u16 wv = 0xabcd;
    CHECK_EQ(c, crc32c(1, (const u8 *)&wv, 2));
}

/* ------------------------------------------------- MXCSR, #GP, #XM, #UD */
static void test_mxcsr(void)
{
    u32 m = 0;
    __asm__ volatile("stmxcsr %0" : "=m"(m));
    CHECK_EQ(m, 0x1f80);
    m = 0xffff;
    CHECK_EQ(TRY(__asm__ volatile("ldmxcsr %0" :: "m"(m))), -1);   /* DAZ supported */
    __asm__ volatile("stmxcsr %0" : "=m"(m));
    CHECK_EQ(m, 0xffff);
    /* sticky flags */
    MXI = 0x1f80;
    set4(&XA, 0x3f800000, 0, 0, 0);
    set4(&XB, 0x40400000, 0x3f800000, 0x3f800000, 0x3f800000);
    SSE("divps %%xmm1, %%xmm0\n\tmulps %%xmm1, %%xmm0");
    CHECK_EQ(MX_FLAGS(MXO), 0x20);
    ureg cr4 = read_cr(4);
    m = 0x1f80;
    __asm__ volatile("ldmxcsr %0" :: "m"(m));
    /* without CR4.OSFXSR: SSE instructions #UD; CR0.TS: #NM; CR0.EM: #UD */
    write_cr(4, cr4 & ~(ureg)0x200);
    CHECK_EQ(TRY(__asm__ volatile("addps %%xmm1, %%xmm0" ::: "memory")), EXC_UD);
    write_cr(4, cr4);
    ureg cr0 = read_cr(0);
    write_cr(0, cr0 | 8);
    CHECK_EQ(TRY(__asm__ volatile("addps %%xmm1, %%xmm0" ::: "memory")), EXC_NM);
    write_cr(0, cr0 | 4);
    CHECK_EQ(TRY(__asm__ volatile("paddb %%xmm1, %%xmm0" ::: "memory")), EXC_UD);
    write_cr(0, cr0);
    CHECK_EQ(TRY(__asm__ volatile("addps %%xmm1, %%xmm0" ::: "memory")), -1);
    MXI = 0x1f80;
}

void test_main(void)
{
    test_moves();
    test_float();
    test_convert();
    test_compare();
    test_int();
    test_sse3();
    test_sse41();
    test_sse42();
    test_mxcsr();
    /* clear the vector registers for the final dump */
    __asm__ volatile("pxor %%xmm0, %%xmm0\n\tpxor %%xmm1, %%xmm1\n\tpxor %%xmm2, %%xmm2" ::: "memory");
#ifdef RT_LM64
    __asm__ volatile("pxor %%xmm9, %%xmm9\n\tpxor %%xmm12, %%xmm12" ::: "memory");
#endif
    rt_dump_fpu = 1;
}
