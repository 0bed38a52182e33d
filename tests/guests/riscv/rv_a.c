/* rv_a: the A extension.  LR/SC success and failure (SC without a
 * reservation, SC to another address, SC after a successful SC), LR.W
 * sign-extension, every AMO in its .W and (RV64) .D form with the old value
 * returned and the memory result, rd = x0 forms, aq/rl variants, and the
 * misaligned cases: AMO -> store/AMO address misaligned (cause 6), LR ->
 * load address misaligned (cause 4), with mtval = the address. */
#include "rt.h"

RT_TEST_NAME("rv_a");

/* Word/doubleword cells, with guards around to catch wide writes. */
static volatile uint64_t cells[8] __attribute__((aligned(64)));
/* A different page for "SC to a different address". */
static volatile uint64_t other[512] __attribute__((aligned(4096)));

#define AMO(op, addr, v) ({ ureg __o; __asm__ volatile(op " %0, %2, (%1)" \
    : "=&r"(__o) : "r"(addr), "r"((ureg)(v)) : "memory"); __o; })

static void reset_cells(void)
{
    for (int i = 0; i < 8; i++)
        cells[i] = 0x5a5a5a5a5a5a5a5aull;
}

static void test_lrsc(void)
{
    volatile uint32_t *w = (volatile uint32_t *)&cells[2];
    ureg v, rc;

    reset_cells();
    *w = 0x80000001u;
    /* LR then SC to the same address: succeeds (0), stores. */
    __asm__ volatile("lr.w %0, (%2)\n\tsc.w %1, %3, (%2)"
                     : "=&r"(v), "=&r"(rc) : "r"(w), "r"((ureg)0x1234) : "memory");
    CHECKEQ(v, (ureg)(sreg)(int32_t)0x80000001);          /* sign-extended */
    CHECKEQ(rc, 0);
    CHECKEQ(*w, 0x1234);
    CHECKEQ(cells[2] >> 32, 0x5a5a5a5a);
    /* The SC consumed the reservation: another SC fails, no store. */
    __asm__ volatile("sc.w %0, %2, (%1)" : "=&r"(rc) : "r"(w), "r"((ureg)0x5678) : "memory");
    CHECK(rc != 0);
    CHECKEQ(*w, 0x1234);
    /* SC to a different address (another page) fails, and the SC there
     * still invalidates the reservation on w. */
    __asm__ volatile("lr.w %0, (%2)\n\tsc.w %1, %3, (%4)"
                     : "=&r"(v), "=&r"(rc) : "r"(w), "r"((ureg)0x9999), "r"(&other[100]) : "memory");
    CHECK(rc != 0);
    CHECKEQ(other[100], 0);
    __asm__ volatile("sc.w %0, %2, (%1)" : "=&r"(rc) : "r"(w), "r"((ureg)0x7777) : "memory");
    CHECK(rc != 0);
    CHECKEQ(*w, 0x1234);
    /* Ordering bits and a reservation re-taken by a second LR. */
    __asm__ volatile("lr.w.aq %0, (%2)\n\tlr.w.aqrl %0, (%2)\n\tsc.w.rl %1, %3, (%2)"
                     : "=&r"(v), "=&r"(rc) : "r"(w), "r"((ureg)0xabcd) : "memory");
    CHECKEQ(rc, 0);
    CHECKEQ(*w, 0xabcd);
    /* A retry loop: */
    ureg tries = 0;
    __asm__ volatile("1: lr.w t0, (%1)\n\taddi t0, t0, 1\n\tsc.w t1, t0, (%1)\n\t"
                     "addi %0, %0, 1\n\tbnez t1, 1b"
                     : "+r"(tries) : "r"(w) : "t0", "t1", "memory");
    CHECKEQ(*w, 0xabce);
    CHECK(tries >= 1);          /* SC may fail spuriously: only progress */
#if IS_RV64
    volatile uint64_t *d = &cells[4];
    *d = 0x8000000000000001ull;
    __asm__ volatile("lr.d %0, (%2)\n\tsc.d %1, %3, (%2)"
                     : "=&r"(v), "=&r"(rc) : "r"(d), "r"((ureg)0x1122334455667788ull) : "memory");
    CHECKEQ(v, 0x8000000000000001ull);
    CHECKEQ(rc, 0);
    CHECKEQ(*d, 0x1122334455667788ull);
    __asm__ volatile("sc.d %0, %2, (%1)" : "=&r"(rc) : "r"(d), "r"((ureg)1) : "memory");
    CHECK(rc != 0);
    CHECKEQ(*d, 0x1122334455667788ull);
    /* LR.D then SC.W to a different address fails. */
    __asm__ volatile("lr.d %0, (%2)\n\tsc.d %1, %3, (%4)"
                     : "=&r"(v), "=&r"(rc) : "r"(d), "r"((ureg)5), "r"(&other[200]) : "memory");
    CHECK(rc != 0);
    CHECKEQ(other[200], 0);
#endif
    /* sc with rd = x0 after lr: must still store. */
    __asm__ volatile("lr.w %0, (%1)\n\tsc.w x0, %2, (%1)"
                     : "=&r"(v) : "r"(w), "r"((ureg)0x4242) : "memory");
    CHECKEQ(*w, 0x4242);
}

struct amo_case { const char *name; uint32_t init, src, old_expect, mem_expect; };

static void test_amo_w(void)
{
    volatile uint32_t *w = (volatile uint32_t *)&cells[3] + 1;   /* upper word */
    ureg o;

#define AMOW(op, init, src, mem_expect) do { \
        reset_cells(); *w = (init); \
        o = AMO(op, w, (ureg)(sreg)(int32_t)(src)); \
        CHECKEQ(o, (ureg)(sreg)(int32_t)(init)); \
        CHECKEQ(*w, (uint32_t)(mem_expect)); \
        CHECKEQ(cells[3] & 0xffffffffu, 0x5a5a5a5a); \
        CHECKEQ(cells[2], 0x5a5a5a5a5a5a5a5aull); \
        CHECKEQ(cells[4], 0x5a5a5a5a5a5a5a5aull); \
    } while (0)

    AMOW("amoswap.w", 0x80000000u, 0x12345678u, 0x12345678u);
    AMOW("amoadd.w", 0x7fffffffu, 1, 0x80000000u);
    AMOW("amoadd.w", 0xffffffffu, 2, 1);
    AMOW("amoxor.w", 0xff00ff00u, 0x0ff00ff0u, 0xf0f0f0f0u);
    AMOW("amoand.w", 0xff00ff00u, 0x0ff00ff0u, 0x0f000f00u);
    AMOW("amoor.w", 0xff00ff00u, 0x0ff00ff0u, 0xfff0fff0u);
    AMOW("amomin.w", 0xfffffffeu, 1, 0xfffffffeu);          /* -2 < 1 */
    AMOW("amomin.w", 5, 0x80000000u, 0x80000000u);
    AMOW("amomax.w", 0xfffffffeu, 1, 1);
    AMOW("amomax.w", 0x7fffffffu, 0x80000000u, 0x7fffffffu);
    AMOW("amominu.w", 0xfffffffeu, 1, 1);
    AMOW("amominu.w", 0x80000000u, 0x7fffffffu, 0x7fffffffu);
    AMOW("amomaxu.w", 0xfffffffeu, 1, 0xfffffffeu);
    AMOW("amomaxu.w", 3, 0x80000000u, 0x80000000u);
    AMOW("amoadd.w.aq", 10, 20, 30);
    AMOW("amoswap.w.rl", 10, 20, 20);
    AMOW("amoor.w.aqrl", 0x10, 0x01, 0x11);
#if IS_RV64
    /* On RV64 the .W forms use only the low 32 bits of rs2. */
    reset_cells();
    *w = 0x7fffffff;
    o = AMO("amomin.w", w, 0x00000001ffffffffull);   /* rs2 low word = -1 */
    CHECKEQ(o, 0x7fffffff);
    CHECKEQ(*w, 0xffffffffu);
    reset_cells();
    *w = 5;
    o = AMO("amoadd.w", w, 0x1234567800000003ull);
    CHECKEQ(*w, 8);
#endif
    /* rd = x0: memory still updated. */
    reset_cells();
    *w = 100;
    __asm__ volatile("amoadd.w x0, %1, (%0)" :: "r"(w), "r"((ureg)23) : "memory");
    CHECKEQ(*w, 123);
    /* rd == rs2: rd gets the old value, memory gets the old rs2. */
    ureg r = 7;
    *w = 40;
    __asm__ volatile("amoadd.w %0, %0, (%1)" : "+r"(r) : "r"(w) : "memory");
    CHECKEQ(r, 40);
    CHECKEQ(*w, 47);
}

#if IS_RV64
static void test_amo_d(void)
{
    volatile uint64_t *d = &cells[5];
    ureg o;

#define AMOD(op, init, src, mem_expect) do { \
        reset_cells(); *d = (init); \
        o = AMO(op, d, (src)); \
        CHECKEQ(o, (init)); \
        CHECKEQ(*d, (mem_expect)); \
        CHECKEQ(cells[4], 0x5a5a5a5a5a5a5a5aull); \
        CHECKEQ(cells[6], 0x5a5a5a5a5a5a5a5aull); \
    } while (0)

    AMOD("amoswap.d", 0x8000000000000000ull, 0x123456789abcdef0ull, 0x123456789abcdef0ull);
    AMOD("amoadd.d", 0x7fffffffffffffffull, 1, 0x8000000000000000ull);
    AMOD("amoadd.d", 0x00000000ffffffffull, 1, 0x0000000100000000ull);
    AMOD("amoxor.d", 0xff00ff00ff00ff00ull, 0x0ff00ff00ff00ff0ull, 0xf0f0f0f0f0f0f0f0ull);
    AMOD("amoand.d", 0xff00ff00ff00ff00ull, 0x0ff00ff00ff00ff0ull, 0x0f000f000f000f00ull);
    AMOD("amoor.d", 0xff00ff00ff00ff00ull, 0x0ff00ff00ff00ff0ull, 0xfff0fff0fff0fff0ull);
    AMOD("amomin.d", 0xfffffffffffffffeull, 1, 0xfffffffffffffffeull);
    AMOD("amomin.d", 0x0000000080000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull);
    AMOD("amomax.d", 0xfffffffffffffffeull, 1, 1);
    AMOD("amomax.d", 0x7fffffffffffffffull, 0x8000000000000000ull, 0x7fffffffffffffffull);
    AMOD("amominu.d", 0xfffffffffffffffeull, 1, 1);
    AMOD("amominu.d", 0x0000000100000000ull, 0x00000000ffffffffull, 0x00000000ffffffffull);
    AMOD("amomaxu.d", 0xfffffffffffffffeull, 1, 0xfffffffffffffffeull);
    AMOD("amomaxu.d", 0x0000000100000000ull, 0x00000000ffffffffull, 0x0000000100000000ull);
    AMOD("amoadd.d.aqrl", 1, 2, 3);
}
#endif

static void test_misaligned(void)
{
    char *base = (char *)&cells[1];
    ureg o = 0;

    reset_cells();
    rt_trap_clear();
    __asm__ volatile("amoadd.w %0, %2, (%1)" : "+r"(o) : "r"(base + 2), "r"((ureg)1) : "memory");
    CHECK_MTRAP(EXC_STORE_MISALIGNED);
    CHECKEQ(rt_mtrap.tval, (ureg)(base + 2));
    CHECKEQ(cells[1], 0x5a5a5a5a5a5a5a5aull);

    rt_trap_clear();
    __asm__ volatile("amoswap.w %0, %2, (%1)" : "+r"(o) : "r"(base + 1), "r"((ureg)1) : "memory");
    CHECK_MTRAP(EXC_STORE_MISALIGNED);
    CHECKEQ(rt_mtrap.tval, (ureg)(base + 1));
    CHECKEQ(cells[1], 0x5a5a5a5a5a5a5a5aull);

#if IS_RV64
    rt_trap_clear();
    __asm__ volatile("amoor.d %0, %2, (%1)" : "+r"(o) : "r"(base + 4), "r"((ureg)1) : "memory");
    CHECK_MTRAP(EXC_STORE_MISALIGNED);
    CHECKEQ(rt_mtrap.tval, (ureg)(base + 4));
    CHECKEQ(cells[1], 0x5a5a5a5a5a5a5a5aull);
#endif
    rt_trap_clear();
    __asm__ volatile("lr.w %0, (%1)" : "=r"(o) : "r"(base + 2) : "memory");
    CHECK_MTRAP(EXC_LOAD_MISALIGNED);
    CHECKEQ(rt_mtrap.tval, (ureg)(base + 2));
#if IS_RV64
    rt_trap_clear();
    __asm__ volatile("lr.d %0, (%1)" : "=r"(o) : "r"(base + 4) : "memory");
    CHECK_MTRAP(EXC_LOAD_MISALIGNED);
    CHECKEQ(rt_mtrap.tval, (ureg)(base + 4));
#endif
    rt_trap_clear();
}

int main(void)
{
    rt_trap_clear();
    test_lrsc();
    test_amo_w();
#if IS_RV64
    test_amo_d();
#endif
    CHECKEQ(rt_mtrap.count, 0);
    test_misaligned();
    return 0;
}
