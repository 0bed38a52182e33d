/* rv_f: the F extension.
 * A generated table (rv_f_vectors.h, gen/gen_fp.py: an exact rational
 * model of IEEE 754 as RISC-V specifies it) covers add/sub/mul/div/sqrt,
 * the four fused multiply-adds, min/max (signed zeros, sNaN), compares,
 * sign injection, fclass, float<->integer conversions (saturation, flags,
 * RV64 sign-extension of 32-bit results) and fmv, each in every rounding
 * mode where it matters, with the exact fflags after each operation.
 * By hand: fcsr / frm / fflags aliasing and accrual, static rounding-mode
 * encodings overriding frm (RMM ties), reserved rounding modes trapping,
 * NaN boxing (improperly boxed inputs read as the canonical NaN, results
 * boxed, fmv.x.w / fsw ignore the box), canonical NaN results, and
 * mstatus.FS: off makes every FP instruction and FP CSR illegal, writes
 * make it Dirty. */
#include "fp_common.h"

RT_TEST_NAME("rv_f");

#include "rv_f_vectors.h"

static void test_fcsr(void)
{
    ureg old;
    csr_write(fcsr, 0);
    csr_write(fcsr, 0xff);
    CHECKEQ(csr_read(fcsr), 0xff);
    CHECKEQ(csr_read(frm), 7);
    CHECKEQ(csr_read(fflags), 0x1f);
    csr_write(fcsr, 0xffffffff);                /* bits 31:8 are read-only 0 */
    CHECKEQ(csr_read(fcsr), 0xff);
    csr_write(frm, 3);
    CHECKEQ(csr_read(fcsr), 0x7f);
    csr_write(fflags, 0x05);
    CHECKEQ(csr_read(fcsr), 0x65);
    __asm__ volatile("fsrm %0, %1" : "=r"(old) : "r"((ureg)1));
    CHECKEQ(old, 3);
    __asm__ volatile("fsflags %0, %1" : "=r"(old) : "r"((ureg)0x12));
    CHECKEQ(old, 0x05);
    __asm__ volatile("fsrmi %0, 4" : "=r"(old));
    CHECKEQ(old, 1);
    __asm__ volatile("fsflagsi %0, 0" : "=r"(old));
    CHECKEQ(old, 0x12);
    __asm__ volatile("frcsr %0" : "=r"(old));
    CHECKEQ(old, 0x80);
    csr_write(frm, 0x1f);                       /* 3-bit field */
    CHECKEQ(csr_read(frm), 7);
    csr_write(fcsr, 0);

    /* Flags accrue. */
    u64 in[3] = { BOX(0x3f800000), BOX(0x00000000), 0 };    /* 1.0, +0 */
    __asm__ volatile("flw f1, 0(%0)\n\tflw f2, 8(%0)\n\t"
                     "fdiv.s f3, f1, f2\n\t"              /* DZ */
                     "fsqrt.s f4, f2\n\t"                 /* exact: nothing */
                     "fdiv.s f4, f2, f2\n\t"              /* NV */
                     :: "r"(in) : "f1", "f2", "f3", "f4");
    CHECKEQ(csr_read(fflags), FFLAG_DZ | FFLAG_NV);
    csr_write(fflags, 0);
}

/* fadd.s with a static rounding mode on (1 + 2^-24): a tie. */
#define FADD_RM(rm) ({ uint32_t __r; __asm__ volatile( \
    "fmv.w.x f1, %1\n\tfmv.w.x f2, %2\n\tfadd.s f0, f1, f2, " #rm "\n\tfmv.x.w %0, f0" \
    : "=r"(__r) : "r"(a), "r"(b) : "f0", "f1", "f2"); __r; })

static void test_static_rm(void)
{
    uint32_t a = 0x3f800000, b = 0x33800000;        /* 1.0, 2^-24 */
    csr_write(frm, RM_RUP);                         /* static modes override frm */
    CHECKEQ(FADD_RM(rne), 0x3f800000);
    CHECKEQ(FADD_RM(rtz), 0x3f800000);
    CHECKEQ(FADD_RM(rdn), 0x3f800000);
    CHECKEQ(FADD_RM(rup), 0x3f800001);
    CHECKEQ(FADD_RM(rmm), 0x3f800001);
    CHECKEQ(FADD_RM(dyn), 0x3f800001);
    a = 0xbf800000; b = 0xb3800000;                 /* -1 - 2^-24 */
    csr_write(frm, RM_RNE);
    CHECKEQ(FADD_RM(rne), 0xbf800000);
    CHECKEQ(FADD_RM(rtz), 0xbf800000);
    CHECKEQ(FADD_RM(rdn), 0xbf800001);
    CHECKEQ(FADD_RM(rup), 0xbf800000);
    CHECKEQ(FADD_RM(rmm), 0xbf800001);
    CHECKEQ(FADD_RM(dyn), 0xbf800000);
    /* A tie that RNE rounds up: (1 + 2^-23) + 2^-24. */
    a = 0x3f800001; b = 0x33800000;
    CHECKEQ(FADD_RM(rne), 0x3f800002);
    CHECKEQ(FADD_RM(rmm), 0x3f800002);
    CHECKEQ(FADD_RM(rtz), 0x3f800001);
    /* RMM on overflow: to infinity. */
    a = 0x7f7fffff; b = 0x7f7fffff;
    CHECKEQ(FADD_RM(rmm), 0x7f800000);
    CHECKEQ(FADD_RM(rtz), 0x7f7fffff);
    CHECKEQ(csr_read(fflags), FFLAG_OF | FFLAG_NX);
    csr_write(fcsr, 0);
}

static void test_reserved_rm(void)
{
    ureg pc;
    /* fadd.s f0, f1, f2 with rm = 5 and 6 (static): illegal. */
    for (unsigned rm = 5; rm <= 6; rm++) {
        rt_trap_clear();
        uint32_t insn = 0x00208053u | (rm << 12);
        __asm__ volatile(".option push\n.option norelax\n.option norvc\n"
                         "lla %0, 1f\n\t"
                         "j 2f\n"
                         "1: .word 0x00208053 | (5 << 12)\n"
                         "   j 3f\n"
                         "2: lla t0, 1b\n\t"
                         "sw %1, 0(t0)\n\t"
                         "fence.i\n\t"
                         "j 1b\n"
                         "3:\n"
                         ".option pop"
                         : "=&r"(pc) : "r"(insn) : "t0", "f0", "memory");
        CHECK_MTRAP(EXC_ILLEGAL);
        CHECKEQ(rt_mtrap.epc, pc);
        CHECKEQ(rt_mtrap.tval, insn);
    }
    /* Dynamic with frm = 5, 6, 7: illegal. */
    for (unsigned rm = 5; rm <= 7; rm++) {
        csr_write(frm, rm);
        rt_trap_clear();
        __asm__ volatile("fadd.s f0, f1, f2, dyn" ::: "f0");
        CHECK_MTRAP(EXC_ILLEGAL);
        rt_trap_clear();
        __asm__ volatile("fcvt.w.s t0, f1, dyn" ::: "t0");
        CHECK_MTRAP(EXC_ILLEGAL);
    }
    /* An op without rounding is fine with a bad frm. */
    rt_trap_clear();
    __asm__ volatile("fsgnj.s f0, f1, f2\n\tfmin.s f0, f1, f2\n\tflt.s t0, f1, f2"
                     ::: "f0", "t0");
    CHECKEQ(rt_mtrap.count, 0);
    csr_write(fcsr, 0);
}

static void test_boxing(void)
{
    u64 mem[4];
    uint32_t w;
    ureg x;

    /* flw / fmv.w.x box; fsd shows the box. */
    mem[0] = 0x12345678abcdef01ull;
    __asm__ volatile("flw f5, 4(%0)\n\tfsd f5, 8(%0)" :: "r"(mem) : "f5", "memory");
    CHECKEQ(mem[1], BOX(0x12345678));
    __asm__ volatile("fmv.w.x f5, %1\n\tfsd f5, 0(%0)" :: "r"(mem), "r"((ureg)0x80000001) : "f5", "memory");
    CHECKEQ(mem[0], BOX(0x80000001));
    /* An arithmetic result is boxed. */
    mem[0] = BOX(0x3f800000);
    __asm__ volatile("fld f5, 0(%0)\n\tfadd.s f6, f5, f5\n\tfsd f6, 8(%0)" :: "r"(mem) : "f5", "f6", "memory");
    CHECKEQ(mem[1], BOX(0x40000000));
#if IS_RV64
    __asm__ volatile("flw f5, 0(%1)\n\tfmv.x.d %0, f5" : "=r"(x) : "r"(mem) : "f5", "memory");
    CHECKEQ(x, BOX(0x3f800000));
#endif
    /* Improperly boxed (a double 1.0): single ops see the canonical NaN. */
    mem[0] = 0x3ff0000000000000ull;
    csr_write(fflags, 0);
    __asm__ volatile("fld f5, 0(%0)\n\tfadd.s f6, f5, f5\n\tfsd f6, 8(%0)\n\t"
                     "fsgnj.s f7, f5, f5\n\tfsd f7, 16(%0)\n\t"
                     "fcvt.d.s f8, f5\n\tfsd f8, 24(%0)"
                     :: "r"(mem) : "f5", "f6", "f7", "f8", "memory");
    CHECKEQ(mem[1], BOX(0x7fc00000));
    CHECKEQ(mem[2], BOX(0x7fc00000));
    CHECKEQ(mem[3], 0x7ff8000000000000ull);
    CHECKEQ(csr_read(fflags), 0);               /* a quiet NaN: no NV */
    __asm__ volatile("fld f5, 0(%1)\n\tfclass.s %0, f5" : "=r"(x) : "r"(mem) : "f5", "memory");
    CHECKEQ(x, 0x200);
    /* Partially boxed (upper word not all ones) is not boxed either. */
    mem[0] = 0xfffffffe3f800000ull;
    __asm__ volatile("fld f5, 0(%1)\n\tfclass.s %0, f5" : "=r"(x) : "r"(mem) : "f5", "memory");
    CHECKEQ(x, 0x200);
    __asm__ volatile("fld f5, 0(%1)\n\tfeq.s %0, f5, f5" : "=r"(x) : "r"(mem) : "f5", "memory");
    CHECKEQ(x, 0);
    /* fmv.x.w and fsw just take the low 32 bits. */
    mem[0] = 0x00000000c0490fdbull;
    __asm__ volatile("fld f5, 0(%1)\n\tfmv.x.w %0, f5" : "=r"(x) : "r"(mem) : "f5", "memory");
    CHECKEQ(x, (ureg)(sreg)(int32_t)0xc0490fdb);      /* sign-extended on RV64 */
    __asm__ volatile("fld f5, 0(%1)\n\tfsw f5, 8(%1)" :: "r"(&w), "r"(mem) : "f5", "memory");
    CHECKEQ((uint32_t)mem[1], 0xc0490fdb);
    (void)w;
    CHECKEQ(rt_mtrap.count, 0);
}

static void test_nan_results(void)
{
    u64 mem[4] = { BOX(0x7f812345), BOX(0x3f800000), 0, 0 };   /* sNaN, 1.0 */
    csr_write(fflags, 0);
    __asm__ volatile("fld f1, 0(%0)\n\tfld f2, 8(%0)\n\t"
                     "fmul.s f3, f1, f2\n\tfsd f3, 16(%0)\n\t"
                     "fsgnjn.s f4, f1, f1\n\tfsd f4, 24(%0)"
                     :: "r"(mem) : "f1", "f2", "f3", "f4", "memory");
    CHECKEQ(mem[2], BOX(0x7fc00000));           /* canonical, payload dropped */
    CHECKEQ(mem[3], BOX(0xff812345));           /* sign injection keeps it */
    CHECKEQ(csr_read(fflags), FFLAG_NV);
    csr_write(fflags, 0);
}

static void test_fs(void)
{
    ureg pc, st;
    /* FS = Off: FP instructions and the FP CSRs are illegal. */
    csr_clear(mstatus, MSTATUS_FS);
    CHECKEQ(csr_read(mstatus) & MSTATUS_FS, 0);
#define ILL(text) do { \
        rt_trap_clear(); \
        __asm__ volatile(".option push\n.option norelax\n.option norvc\n" \
                         "lla %0, 1f\n1: " text "\n.option pop" \
                         : "=&r"(pc) :: "t0", "f0", "memory"); \
        CHECK_MTRAP(EXC_ILLEGAL); \
        CHECKEQ(rt_mtrap.epc, pc); \
        CHECKEQ(rt_mtrap.tval, *(volatile uint32_t *)pc); \
    } while (0)
    ILL("fadd.s f0, f1, f2");
    ILL("fmadd.s f0, f1, f2, f3");
    ILL("flw f0, 0(sp)");
    ILL("fsw f0, 0(sp)");
    ILL("fmv.w.x f0, zero");
    ILL("fmv.x.w t0, f0");
    ILL("fcvt.s.w f0, zero");
    ILL("fclass.s t0, f0");
    ILL("csrr t0, fcsr");
    ILL("csrr t0, frm");
    ILL("csrw fflags, zero");
    /* Compressed FP loads/stores too (16-bit mtval). */
    rt_trap_clear();
    __asm__ volatile(".option push\n.option norelax\n"
                     "lla %0, 1f\n1: c.fldsp f0, 0(sp)\n.option pop"
                     : "=&r"(pc) :: "f0", "memory");
    CHECK_MTRAP(EXC_ILLEGAL);
    CHECKEQ(rt_mtrap.tval, *(volatile uint16_t *)pc);
    /* FS = Initial: usable; a write makes it Dirty, and SD reflects it. */
    fp_on();
    st = csr_read(mstatus);
    CHECKEQ(st & MSTATUS_FS, 0x2000);
    CHECKEQ(st >> (XLEN - 1), 0);
    rt_trap_clear();
    __asm__ volatile("fadd.s f0, f1, f2" ::: "f0");
    CHECKEQ(rt_mtrap.count, 0);
    st = csr_read(mstatus);
    CHECKEQ(st & MSTATUS_FS, MSTATUS_FS);
    CHECKEQ(st >> (XLEN - 1), 1);
    /* Clean (2) then an fflags write: Dirty again. */
    csr_clear(mstatus, MSTATUS_FS);
    csr_set(mstatus, 0x4000);
    CHECKEQ(csr_read(mstatus) & MSTATUS_FS, 0x4000);
    csr_write(fflags, 1);
    CHECKEQ(csr_read(mstatus) & MSTATUS_FS, MSTATUS_FS);
    csr_write(fflags, 0);
    rt_trap_clear();
}

int main(void)
{
    fp_on();
    rt_trap_clear();
    test_fcsr();
    test_static_rm();
    test_boxing();
    test_nan_results();
    FP_RUN_VECTORS();
    test_reserved_rm();
    test_fs();
    return 0;
}
