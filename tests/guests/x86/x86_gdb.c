/* x86_gdb (pm32, lm64): the target of the gdb stub's x86 system test
 * (tests/system/test_gdb_x86.py), not an ISA test.  It has functions to
 * break at, a variable to watch, and gdb_regs: known values in general,
 * x87 and SSE registers at the label gdb_regs_here, then straight-line
 * code with a REP STOSB (3 iterations: 3 single-steps, as on hardware)
 * and a call to step through.  The test finds all of it through the ELF's
 * symbols.  Run alone it passes like the others. */
#include "rt.h"

RT_TEST_NAME("x86_gdb");

volatile ureg gdb_counter;      /* watched by the test */
volatile ureg gdb_result;
unsigned char gdb_buf[16];      /* REP STOSB fills 3 bytes */
/* xmm0 as four dwords, xmm1 as the doubles 1.5 and -2.25. */
const u32 gdb_xmm_init[8] __attribute__((aligned(16))) = {
    0x11223344, 0x55667788, 0x99aabbcc, 0xddeeff00,
    0, 0x3ff80000, 0, 0xc0020000,
};

__attribute__((noinline)) ureg gdb_add(ureg a, ureg b)
{
    ureg r = a + b;
    __asm__ volatile("" : "+r"(r));
    return r;
}

__attribute__((noinline)) void gdb_tick(ureg i)
{
    gdb_counter = gdb_counter + i;
}

/* Returns gdb_add(rdx, 7) + 1 with rdx = 0x33..33. */
ureg gdb_regs(void);
#if defined(RT_LM64)
__asm__(".text\n"
        ".globl gdb_regs\n"
        ".type gdb_regs, @function\n"
        "gdb_regs:\n"
        "  push %rbx\n"
        "  push %r12\n"
        "  fninit\n"
        "  fld1\n"
        "  fldpi\n"
        "  movdqu gdb_xmm_init(%rip), %xmm0\n"
        "  movupd gdb_xmm_init+16(%rip), %xmm1\n"
        "  movabs $0x1111111111111111, %rax\n"
        "  movabs $0x2222222222222222, %rbx\n"
        "  movabs $0x3333333333333333, %rdx\n"
        "  movabs $0x4444444444444444, %rsi\n"
        "  movabs $0x5555555555555555, %r8\n"
        "  movabs $0x6666666666666666, %r12\n"
        "  lea gdb_buf(%rip), %rdi\n"
        "  mov $3, %ecx\n"
        ".globl gdb_regs_here\n"
        "gdb_regs_here:\n"
        "  mov $0x5a, %al\n"
        "  rep stosb\n"
        "  mov %rdx, %rdi\n"
        "  mov $7, %esi\n"
        "  call gdb_add\n"
        "  add $1, %rax\n"
        "  fstp %st(0)\n"
        "  fstp %st(0)\n"
        "  pop %r12\n"
        "  pop %rbx\n"
        "  ret\n"
        ".size gdb_regs, . - gdb_regs\n");
#define REGS_RESULT 0x333333333333333bull
#else
__asm__(".text\n"
        ".globl gdb_regs\n"
        ".type gdb_regs, @function\n"
        "gdb_regs:\n"
        "  push %ebx\n"
        "  push %esi\n"
        "  push %edi\n"
        "  fninit\n"
        "  fld1\n"
        "  fldpi\n"
        "  movdqu gdb_xmm_init, %xmm0\n"
        "  movupd gdb_xmm_init+16, %xmm1\n"
        "  mov $0x11111111, %eax\n"
        "  mov $0x22222222, %ebx\n"
        "  mov $0x33333333, %edx\n"
        "  mov $0x44444444, %esi\n"
        "  lea gdb_buf, %edi\n"
        "  mov $3, %ecx\n"
        ".globl gdb_regs_here\n"
        "gdb_regs_here:\n"
        "  mov $0x5a, %al\n"
        "  rep stosb\n"
        "  push $7\n"
        "  push %edx\n"
        "  call gdb_add\n"
        "  add $8, %esp\n"
        "  add $1, %eax\n"
        "  fstp %st(0)\n"
        "  fstp %st(0)\n"
        "  pop %edi\n"
        "  pop %esi\n"
        "  pop %ebx\n"
        "  ret\n"
        ".size gdb_regs, . - gdb_regs\n");
#define REGS_RESULT 0x3333333bull
#endif

void test_main(void)
{
    CHECK_EQ(gdb_regs(), REGS_RESULT);
    ureg sum = 0;
    for (ureg i = 1; i <= 10; i++) {
        sum = gdb_add(sum, i);
        gdb_tick(i);
    }
    gdb_result = sum;
    CHECK_EQ(gdb_buf[0], 0x5a);
    CHECK_EQ(gdb_buf[2], 0x5a);
    CHECK_EQ(gdb_buf[3], 0);
    CHECK_EQ(sum, 55);
    CHECK_EQ(gdb_counter, 55);
}
