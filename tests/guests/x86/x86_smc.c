/* x86_smc (lm64): self-modifying code, which the block cache and the code
 * generator (targets/x86/jit.c) must see at once, as the hardware does
 * for stores by the same processor:
 *   1. a hot function in RAM, called until it is compiled, then patched
 *      from outside: the next call runs the new code;
 *   2. a loop whose store rewrites the immediate of the very next
 *      instruction in its own block, every iteration;
 *   3. a hot loop that writes a data word on the page of its own code
 *      (not the code itself);
 *   4. a store that rewrites a later instruction of the same block from
 *      behind a TLB miss (a first touch of the page's write mapping);
 * and one code-generator case that is not about SMC (test_two_readers).
 * Differential against QEMU, and run by test_guest_x86.py with the code
 * generator off and compiling every block at its first entry. */
#include "rt.h"

RT_TEST_NAME("x86_smc");

static u8 codebuf[3 * 4096] __attribute__((aligned(4096)));

typedef u64 (*fn_t)(u64);

static u64 call1(const u8 *f, u64 arg)
{
    return ((fn_t)(uintptr_t)f)(arg);
}

/* mov eax, imm32; add rax, rdi; ret */
static void put_addimm(u8 *p, u32 imm)
{
    p[0] = 0xb8;
    memcpy(p + 1, &imm, 4);
    p[5] = 0x48; p[6] = 0x01; p[7] = 0xf8;       /* add rax, rdi */
    p[8] = 0xc3;
}

static void test_patch_hot(void)
{
    u8 *f = codebuf;
    put_addimm(f, 1000);
    u64 s = 0;
    for (u64 i = 0; i < 200; i++)
        s += call1(f, i);
    printf("patch: before %lx\n", (unsigned long)s);
    CHECK_EQ(s, 200 * 1000 + 199 * 200 / 2);
    u32 imm = 7;
    memcpy(f + 1, &imm, 4);
    s = 0;
    for (u64 i = 0; i < 200; i++)
        s += call1(f, i);
    printf("patch: after %lx\n", (unsigned long)s);
    CHECK_EQ(s, 200 * 7 + 199 * 200 / 2);
    /* A whole new instruction: sub instead of add. */
    f[6] = 0x29;                                  /* sub rax, rdi */
    CHECK_EQ(call1(f, 3), 4);
}

/* rdi = n.  Each iteration stores ecx into the immediate of the MOV right
 * after the store, which then loads it: returns n + (n - 1) + ... + 1. */
static const u8 self_loop[] = {
    0x89, 0xf9,                                   /* mov ecx, edi */
    0x31, 0xd2,                                   /* xor edx, edx */
    0x89, 0x0d, 0x01, 0x00, 0x00, 0x00,           /* 4: mov [rip+1], ecx */
    0xb8, 0x00, 0x00, 0x00, 0x00,                 /* 10: mov eax, imm32 */
    0x48, 0x01, 0xc2,                             /* add rdx, rax */
    0xff, 0xc9,                                   /* dec ecx */
    0x75, 0xee,                                   /* jnz 4 */
    0x48, 0x89, 0xd0,                             /* mov rax, rdx */
    0xc3,                                         /* ret */
};

static void test_self_loop(void)
{
    u8 *f = codebuf + 4096;
    memcpy(f, self_loop, sizeof(self_loop));
    for (u64 n = 1; n <= 300; n += 37) {
        u64 r = call1(f, n);
        printf("self: n=%lu -> %lu\n", (unsigned long)n, (unsigned long)r);
        CHECK_EQ(r, n * (n + 1) / 2);
    }
}

/* rdi = n: counts to n in the word at offset 64 of its own page. */
static const u8 data_loop[] = {
    0x48, 0x8d, 0x35, 0x39, 0x00, 0x00, 0x00,     /* lea rsi, [rip+0x39] (= 64) */
    0x48, 0xc7, 0x06, 0x00, 0x00, 0x00, 0x00,     /* mov qword [rsi], 0 */
    0x48, 0x83, 0x06, 0x01,                       /* 14: add qword [rsi], 1 */
    0x48, 0xff, 0xcf,                             /* dec rdi */
    0x75, 0xf7,                                   /* jnz 14 */
    0x48, 0x8b, 0x06,                             /* mov rax, [rsi] */
    0xc3,                                         /* ret */
};

static void test_data_on_code_page(void)
{
    u8 *f = codebuf + 2 * 4096;
    memcpy(f, data_loop, sizeof(data_loop));
    u64 r = call1(f, 5000);
    printf("data: %lu\n", (unsigned long)r);
    CHECK_EQ(r, 5000);
    CHECK_EQ(*(volatile u64 *)(f + 64), 5000);
}

/* Not self-modifying: two condition readers after one flag writer in
 * one block (CMP, CMOVcc, CMOVcc, Jcc), run hot.  The code generator
 * once reused the writer's operands for the second reader after the first
 * had changed them. */
static void test_two_readers(void)
{
    u64 a = 0, b = 0, n = 0;
    for (u64 i = 0; i < 1000; i++) {
        u64 x = i % 3, one = 1, two = 2;
        asm volatile("cmp $1, %[x]\n\t"
                     "cmovne %[one], %[a]\n\t"
                     "cmove %[two], %[b]\n\t"
                     "jne 1f\n\t"
                     "inc %[n]\n"
                     "1:"
                     : [a] "+r"(a), [b] "+r"(b), [n] "+r"(n)
                     : [x] "r"(x), [one] "r"(one), [two] "r"(two)
                     : "cc");
        a += i & 1;
    }
    printf("readers: a=%lu b=%lu n=%lu\n", (unsigned long)a, (unsigned long)b,
           (unsigned long)n);
    CHECK_EQ(n, 333);
    CHECK_EQ(b, 2);
}

void test_main(void)
{
    test_two_readers();
    test_patch_hot();
    test_self_loop();
    test_data_on_code_page();
    /* Case 4: the first store of test_self_loop hit a write TLB miss
     * already (a fresh page); run it again on a page whose code was
     * rewritten wholesale in between. */
    memset(codebuf + 4096, 0xcc, 64);
    test_self_loop();
}
