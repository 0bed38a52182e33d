/* rv_d: the D extension.
 * A generated table (rv_d_vectors.h, gen/gen_fp.py) covers the double
 * versions of the arithmetic, fused multiply-adds, min/max, compares, sign
 * injection, fclass, conversions to and from integers, fmv.x.d / fmv.d.x
 * (RV64), and fcvt.s.d / fcvt.d.s (rounding, overflow, underflow, NaNs),
 * in every rounding mode with the exact fflags.  By hand: static rounding
 * modes and RMM ties, fld/fsd of arbitrary bit patterns (no
 * canonicalisation), single results of fcvt.s.d are NaN-boxed, NaN-boxed
 * singles seen by double ops are just doubles (a NaN), canonical NaNs, and
 * FS = Off making D instructions illegal. */
#include "fp_common.h"

RT_TEST_NAME("rv_d");

#include "rv_d_vectors.h"

#define FADDD_RM(rm) ({ u64 __r; u64 __in[2] = { a, b }; __asm__ volatile( \
    "fld f1, 0(%1)\n\tfld f2, 8(%1)\n\tfadd.d f0, f1, f2, " #rm "\n\tfsd f0, 0(%0)" \
    :: "r"(&__r), "r"(__in) : "f0", "f1", "f2", "memory"); __r; })

static void test_static_rm(void)
{
    u64 a = 0x3ff0000000000000ull, b = 0x3ca0000000000000ull;   /* 1 + 2^-53: a tie */
    csr_write(frm, RM_RDN);
    CHECKEQ(FADDD_RM(rne), 0x3ff0000000000000ull);
    CHECKEQ(FADDD_RM(rtz), 0x3ff0000000000000ull);
    CHECKEQ(FADDD_RM(rdn), 0x3ff0000000000000ull);
    CHECKEQ(FADDD_RM(rup), 0x3ff0000000000001ull);
    CHECKEQ(FADDD_RM(rmm), 0x3ff0000000000001ull);
    CHECKEQ(FADDD_RM(dyn), 0x3ff0000000000000ull);
    a = 0xbff0000000000000ull; b = 0xbca0000000000000ull;
    CHECKEQ(FADDD_RM(rmm), 0xbff0000000000001ull);
    CHECKEQ(FADDD_RM(rup), 0xbff0000000000000ull);
    CHECKEQ(FADDD_RM(dyn), 0xbff0000000000001ull);
    CHECKEQ(csr_read(fflags), FFLAG_NX);
    csr_write(fcsr, 0);
}

static void test_moves(void)
{
    u64 mem[4];
    /* fld / fsd move any bit pattern, sNaN included, without flags. */
    mem[0] = 0x7ff0000000000001ull;
    mem[1] = 0xfff4000000abcdefull;
    csr_write(fflags, 0);
    __asm__ volatile("fld f10, 0(%0)\n\tfld f11, 8(%0)\n\t"
                     "fsd f11, 16(%0)\n\tfsd f10, 24(%0)"
                     :: "r"(mem) : "f10", "f11", "memory");
    CHECKEQ(mem[2], 0xfff4000000abcdefull);
    CHECKEQ(mem[3], 0x7ff0000000000001ull);
    CHECKEQ(csr_read(fflags), 0);
    /* fsgnj.d on a NaN keeps its payload. */
    __asm__ volatile("fld f10, 0(%0)\n\tfsgnjn.d f12, f10, f10\n\tfsd f12, 16(%0)"
                     :: "r"(mem) : "f10", "f12", "memory");
    CHECKEQ(mem[2], 0xfff0000000000001ull);
    ureg x;
#if IS_RV64
    __asm__ volatile("fmv.d.x f13, %1\n\tfmv.x.d %0, f13" : "=r"(x) : "r"((ureg)0x8000000000000001ull) : "f13");
    CHECKEQ(x, 0x8000000000000001ull);
#endif
    /* A boxed single read by a double op is a NaN double (no NV: quiet). */
    mem[0] = BOX(0x3f800000);
    mem[1] = 0x3ff0000000000000ull;
    __asm__ volatile("fld f10, 0(%0)\n\tfld f11, 8(%0)\n\t"
                     "fadd.d f12, f10, f11\n\tfsd f12, 16(%0)"
                     :: "r"(mem) : "f10", "f11", "f12", "memory");
    CHECKEQ(mem[2], 0x7ff8000000000000ull);
    CHECKEQ(csr_read(fflags), 0);
    /* fcvt.s.d produces a boxed single. */
    __asm__ volatile("fld f11, 8(%0)\n\tfcvt.s.d f12, f11\n\tfsd f12, 16(%0)"
                     :: "r"(mem) : "f11", "f12", "memory");
    CHECKEQ(mem[2], BOX(0x3f800000));
    /* fclass.d of a NaN-boxed single: 0xffffffff3f800000 is a quiet NaN. */
    __asm__ volatile("fld f10, 0(%1)\n\tfclass.d %0, f10" : "=r"(x) : "r"(mem) : "f10");
    CHECKEQ(x, 0x200);
    csr_write(fcsr, 0);
}

static void test_fs(void)
{
    ureg pc;
    csr_clear(mstatus, MSTATUS_FS);
#define ILL(text) do { \
        rt_trap_clear(); \
        __asm__ volatile(".option push\n.option norelax\n.option norvc\n" \
                         "lla %0, 1f\n1: " text "\n.option pop" \
                         : "=&r"(pc) :: "t0", "f0", "memory"); \
        CHECK_MTRAP(EXC_ILLEGAL); \
        CHECKEQ(rt_mtrap.tval, *(volatile uint32_t *)pc); \
    } while (0)
    ILL("fadd.d f0, f1, f2");
    ILL("fsqrt.d f0, f1");
    ILL("fld f0, 0(sp)");
    ILL("fsd f0, 0(sp)");
    ILL("fcvt.s.d f0, f1");
    ILL("fcvt.d.w f0, zero");
    ILL("feq.d t0, f0, f1");
    ILL("fnmadd.d f0, f1, f2, f3");
    rt_trap_clear();
    __asm__ volatile(".option push\n.option norelax\n"
                     "lla %0, 1f\n1: c.fsdsp f0, 8(sp)\n.option pop"
                     : "=&r"(pc) :: "memory");
    CHECK_MTRAP(EXC_ILLEGAL);
    CHECKEQ(rt_mtrap.tval, *(volatile uint16_t *)pc);
    fp_on();
    rt_trap_clear();
    __asm__ volatile("fmv.d f0, f1" ::: "f0");
    CHECKEQ(rt_mtrap.count, 0);
    CHECKEQ(csr_read(mstatus) & MSTATUS_FS, MSTATUS_FS);
}

int main(void)
{
    fp_on();
    rt_trap_clear();
    test_static_rm();
    test_moves();
    FP_RUN_VECTORS();
    test_fs();
    return 0;
}
