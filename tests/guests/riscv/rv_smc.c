/* rv_smc: self-modifying code with FENCE.I.
 * Patch an instruction in a function that has already run, fence.i, run
 * it again (many times in a row, with a different immediate each time);
 * patch the instruction right after the store in the same block; patch a
 * compressed instruction; copy code to a fresh page and run it, then
 * overwrite that page with different code; run a 32-bit instruction that
 * straddles a page boundary and patch its upper half. */
#include "rt.h"

RT_TEST_NAME("rv_smc");

typedef ureg (*fn_t)(ureg);

/* addi a0, a0, imm */
static uint32_t addi_a0(int imm)
{
    return ((uint32_t)(imm & 0xfff) << 20) | (10 << 15) | (10 << 7) | 0x13;
}
#define INSN_RET 0x00008067u
#define INSN_NOP 0x00000013u

/* A patchable function in .text: addi a0, a0, 1; ret (no RVC). */
extern char patch_fn[];
__asm__(".pushsection .text.patch, \"ax\", @progbits\n"
        ".balign 64\n"
        ".option push\n.option norvc\n"
        "patch_fn:\n"
        "    addi a0, a0, 1\n"
        "    ret\n"
        ".option pop\n"
        ".popsection\n");

/* Compressed: c.addi a0, 1; c.jr ra */
extern char cpatch_fn[];
__asm__(".pushsection .text.patch, \"ax\", @progbits\n"
        ".balign 64\n"
        "cpatch_fn:\n"
        "    c.addi a0, 1\n"
        "    c.jr ra\n"
        ".popsection\n");

static void patch32(void *at, uint32_t insn)
{
    volatile uint16_t *p = at;          /* may be only 2-byte aligned */
    p[0] = (uint16_t)insn;
    p[1] = (uint16_t)(insn >> 16);
}

static void test_patch_text(void)
{
    fn_t f = (fn_t)patch_fn;
    CHECKEQ(f(10), 11);
    CHECKEQ(f(10), 11);
    for (int i = -20; i <= 20; i++) {
        patch32(patch_fn, addi_a0(i * 97));
        rt_fence_i();
        CHECKEQ(f(1000), (ureg)(1000 + i * 97));
    }
    /* Replace the ret by a second addi and append a ret. */
    patch32(patch_fn, addi_a0(5));
    patch32(patch_fn + 4, addi_a0(7));
    patch32(patch_fn + 8, INSN_RET);
    rt_fence_i();
    CHECKEQ(f(0), 12);
    patch32(patch_fn, addi_a0(1));
    patch32(patch_fn + 4, INSN_RET);
    rt_fence_i();
    CHECKEQ(f(0), 1);

    /* Compressed: c.addi a0, 1 -> c.addi a0, -3 (0x1575). */
    fn_t g = (fn_t)cpatch_fn;
    CHECKEQ(g(100), 101);
    *(volatile uint16_t *)cpatch_fn = 0x1575;
    rt_fence_i();
    CHECKEQ(g(100), 97);
    /* A 2-byte slot replaced by a 4-byte instruction and the ret moved. */
    patch32(cpatch_fn, addi_a0(-100));
    *(volatile uint16_t *)(cpatch_fn + 4) = 0x8082;    /* c.jr ra */
    rt_fence_i();
    CHECKEQ(g(100), 0);
}

/* Modify the very next instruction in the same straight-line block. */
static void test_patch_next(void)
{
    ureg r;
    for (int i = 0; i < 4; i++) {
        uint32_t insn = ((uint32_t)(i * 3 + 1) << 20) | (0 << 15) | (11 << 7) | 0x13; /* li a1, n */
        __asm__ volatile(".option push\n.option norvc\n.option norelax\n"
                         "lla t0, 1f\n\t"
                         "sw %1, 0(t0)\n\t"
                         "fence.i\n"
                         "1: li a1, 0\n\t"
                         "mv %0, a1\n"
                         ".option pop"
                         : "=r"(r) : "r"(insn) : "t0", "a1", "memory");
        CHECKEQ(r, (ureg)(i * 3 + 1));
    }
}

static uint32_t codepage[3][1024] __attribute__((aligned(4096)));

static void test_new_page(void)
{
    /* f(x) = (x << 2) + 3 */
    uint32_t *p = codepage[0];
    p[0] = 0x00251513;              /* slli a0, a0, 2 */
    p[1] = addi_a0(3);
    p[2] = INSN_RET;
    rt_fence_i();
    CHECKEQ(((fn_t)p)(5), 23);
    /* Same page, different code (including a loop): f(x) = 7 * x */
    static const uint32_t mul7[] = {
        0x00050593,                 /* mv a1, a0 */
        0x00700613,                 /* li a2, 7 */
        0x00000513,                 /* li a0, 0 */
        0x00b50533,                 /* 1: add a0, a0, a1 */
        0xfff60613,                 /* addi a2, a2, -1 */
        0xfe061ce3,                 /* bnez a2, 1b */
        INSN_RET,
    };
    for (unsigned i = 0; i < sizeof(mul7) / 4; i++)
        p[i] = mul7[i];
    rt_fence_i();
    CHECKEQ(((fn_t)p)(6), 42);
    /* Patch one instruction inside the loop body. */
    p[3] = 0x40b50533;              /* sub a0, a0, a1 */
    rt_fence_i();
    CHECKEQ(((fn_t)p)(6), (ureg)-42);
    /* Copy code to a second page and run both. */
    memcpy(codepage[1], p, sizeof(mul7));
    codepage[1][1] = 0x00300613;    /* li a2, 3 */
    rt_fence_i();
    CHECKEQ(((fn_t)codepage[1])(6), (ureg)-18);
    CHECKEQ(((fn_t)p)(1), (ureg)-7);
}

static void test_straddle(void)
{
    /* A 32-bit instruction whose halves lie on two pages. */
    uint16_t *end = (uint16_t *)codepage[2];          /* page 2 starts here */
    end[-3] = 0x0001;               /* c.nop */
    uint32_t insn = addi_a0(0x123);
    end[-2] = 0x0001;               /* c.nop */
    end[-1] = (uint16_t)insn;       /* first half on page 1 */
    end[0] = (uint16_t)(insn >> 16);/* second half on page 2 */
    end[1] = 0x8082;                /* c.jr ra */
    rt_fence_i();
    fn_t f = (fn_t)&end[-3];
    CHECKEQ(f(0), 0x123);
    /* Change only the upper half (on the second page). */
    insn = addi_a0(-0x200);
    end[0] = (uint16_t)(insn >> 16);
    rt_fence_i();
    CHECKEQ(f(0), (ureg)-0x200);
}

int main(void)
{
    rt_trap_clear();
    test_patch_text();
    test_patch_next();
    test_new_page();
    test_straddle();
    CHECKEQ(rt_mtrap.count, 0);
    return 0;
}
