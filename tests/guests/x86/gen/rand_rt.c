/* Random-snippet guest (see x86_random.py): for each snippet, random
 * registers, flags, MXCSR, XMM registers and scratch memory from a PRNG
 * seeded by rand_seed and the snippet index (test_random_x86.py mirrors it
 * to show the initial state), run it (rand_run.S), print the whole state:
 *   O <i> g <gpr...> f <flags> m <mxcsr>
 *   O <i> x <xmm0 ... xmmN>       (each 32 hex digits, high first)
 *   O <i> s <scratch, 64 bytes as 8 little-endian quadwords> */
#include "rt.h"

RT_TEST_NAME("x86_random");

#ifdef RT_LM64            /* pm32 and rm16: the 32-bit registers */
#define NGPR 16
#define NXMM 16
#else
#define NGPR 8
#define NXMM 8
#endif

struct rstate {
    ureg gpr[NGPR];
    ureg flags;
    u32 mxcsr;
    u32 pad;
#ifndef RT_LM64
    u32 pad2;
#endif
    u8 xmm[NXMM][16];
} __attribute__((aligned(16)));

_Static_assert(__builtin_offsetof(struct rstate, xmm) == (NGPR == 16 ? 144 : 48), "layout");

struct rstate rand_in, rand_out;
u64 rand_scratch[8] __attribute__((aligned(16)));
extern void *const rand_table[];
extern const u32 rand_count;
extern const u64 rand_seed;
extern const u8 rand_ctl[];   /* bit 0: DAZ off (generator's choice) */
void rand_run(void *code);

static u64 rng;
static u64 rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1Dull;
}

static const u64 edge[8] = {
    0, 1, ~0ull, 0x7fffffffffffffffull, 0x8000000000000000ull, 0x80000000, 0x7fffffff, 0xffffffff,
};
static const u32 fspecial[16] = {
    0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000,
    0xffc00000, 0x7f800001, 0x00000001, 0x807fffff, 0x7f7fffff, 0x00800000, 0x4f000000,
    0xcf000000, 0x3f000000,
};
static const u64 dspecial[16] = {
    0, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull,
    0x7ff0000000000000ull, 0xfff0000000000000ull, 0x7ff8000000000000ull, 0xfff8000000000000ull,
    0x7ff0000000000001ull, 0x0000000000000001ull, 0x800fffffffffffffull, 0x7fefffffffffffffull,
    0x0010000000000000ull, 0x41e0000000000000ull, 0xc1e0000000000000ull, 0x43e0000000000000ull,
};

static u64 gpr_value(void)
{
    u64 r = rnd();
    unsigned k = (unsigned)(r >> 60);
    u64 v = rnd();
    switch (k) {
    case 8: case 9: return v & 0xff;
    case 10: case 11: return edge[v >> 61];
    case 12: return v & 0xffffffff;
    case 13: return (u64)(int64_t)(int32_t)(u32)v;
    case 14: return v & 0xffff;
    case 15: return 0 - (v & 0xff);
    default: return v;
    }
}

static u32 nice_float(u64 r)
{
    return (u32)(r & 0x80000000u) | ((u32)(123 + ((r >> 40) & 7)) << 23) | (u32)((r >> 8) & 0x7fffff);
}

static u64 xmm_half(void)
{
    u64 r = rnd();
    unsigned k = (unsigned)(r >> 61);
    u64 v = rnd();
    switch (k) {
    case 3: return fspecial[v >> 60] | ((u64)nice_float(v) << 32);
    case 4: return nice_float(v) | ((u64)nice_float(v >> 3) << 32);
    case 5: return dspecial[v >> 60];
    case 6: return (v & 0x800fffffffffffffull) | ((u64)(1016 + ((v >> 52) & 15)) << 52);
    case 7: return (v & 0x000000ff000000ffull) - ((v >> 63) ? 0x0000008000000080ull : 0);
    default: return v;
    }
}

static void put_hex(u64 v, int digits)
{
    static const char hx[] = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; i--)
        rt_putc(hx[(v >> (4 * i)) & 15]);
}

void test_main(void)
{
#ifdef RT_RM16
    /* The rm16 runtime leaves the FPU/SSE alone: CR0.EM off, MP and NE on,
     * CR4.OSFXSR and OSXMMEXCPT (SSE runs in real mode too). */
    write_cr(0, (read_cr(0) & ~(ureg)4) | 0x22);
    write_cr(4, read_cr(4) | 0x600);
    __asm__ volatile("fninit");
#endif
    for (u32 i = 0; i < rand_count; i++) {
        rng = (rand_seed ^ 0x9E3779B97F4A7C15ull) + ((u64)i << 32) + i;
        if (!rng)
            rng = 1;
        for (int k = 0; k < 16; k++)
            rnd();
        for (int g = 0; g < NGPR; g++)
            rand_in.gpr[g] = (ureg)gpr_value();
        rand_in.gpr[4] = 0;
        rand_in.gpr[5] = (ureg)(uintptr_t)rand_scratch;
        rand_in.flags = 0x2 | (ureg)(rnd() & 0x8d5);
        u64 r = rnd();
        u32 mx = 0x1f80;
        if ((r & 0xff) < 64)
            mx |= (u32)(r >> 62) << 13;          /* rounding control */
        if (((r >> 8) & 15) == 0)
            mx |= 0x0040;                        /* DAZ */
        if (((r >> 12) & 15) == 0)
            mx |= 0x8000;                        /* FTZ */
        if (rand_ctl[i] & 1)
            mx &= ~0x40u;
        rand_in.mxcsr = mx;
        for (int x = 0; x < NXMM; x++) {
            u64 lo = xmm_half(), hi = xmm_half();
            memcpy(&rand_in.xmm[x][0], &lo, 8);
            memcpy(&rand_in.xmm[x][8], &hi, 8);
        }
        for (int k = 0; k < 8; k++)
            rand_scratch[k] = rnd();

        rand_run(rand_table[i]);

        printf("O %u g", (unsigned)i);
        for (int g = 0; g < NGPR; g++) {
            rt_putc(' ');
            put_hex(g == 4 ? 0 : rand_out.gpr[g], 2 * (int)sizeof(ureg));
        }
        printf(" f %lx m %x\nO %u x", rand_out.flags, rand_out.mxcsr, (unsigned)i);
        for (int x = 0; x < NXMM; x++) {
            u64 lo, hi;
            memcpy(&lo, &rand_out.xmm[x][0], 8);
            memcpy(&hi, &rand_out.xmm[x][8], 8);
            rt_putc(' ');
            put_hex(hi, 16);
            put_hex(lo, 16);
        }
        printf("\nO %u s", (unsigned)i);
        for (int k = 0; k < 8; k++) {
            rt_putc(' ');
            put_hex(rand_scratch[k], 16);
        }
        rt_putc('\n');
    }
}
