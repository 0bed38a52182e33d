/* x86_count (pm32, lm64): exercises each rule of the x86 instruction and
 * conditional-branch counts (interp/icount.md, x86): Jcc taken and not
 * taken (short, near, with prefixes), LOOP/LOOPE/LOOPNE, JECXZ/JRCXZ, REP
 * MOVS/STOS/LODS/CMPS/SCAS with a count of 0, 1 and n, REPE/REPNE ending
 * early, both directions, REP instructions back to back and in a loop,
 * CMOVcc/SETcc, CALL/RET/JMP (direct, indirect, REP RET), PAUSE, INT n,
 * INT3 and INTO (pm32) to an assembly handler ending in IRET.  Fault-free
 * and no interrupts (IF stays 0).
 *
 * Each block is bracketed by two markers, "xchg %bx,%bx" (66 87 DB), and
 * the guest prints the counts worked out by hand for the instructions
 * between them:
 *   COUNT <block> icount=N brcount=M
 * tests/system/test_count_x86.py runs the guest on QEMU with the counting
 * plugin (mark=on: it prints the count at each marker) and checks the
 * plugin against these numbers (the plugin's rules against hand counts),
 * then compares the whole-run counts with Tandem's.  The results are also
 * checked (CHECK_EQ), so the guest passes only where the instructions did
 * what they should. */
#include "rt.h"

RT_TEST_NAME("x86_count");

#define MK "xchg %%bx, %%bx\n\t"
#define INT_VEC 0x41

#ifdef RT_LM64
#define LM(x) x
#define PM(x)
#define SEL_HANDLER SEL_KCODE
#else
#define LM(x)
#define PM(x) x
#define SEL_HANDLER SEL_KCODE32
#endif

void count_handler(void);
__asm__(
    ".text\n"
    ".globl count_handler\n"
    "count_handler:\n"
    "  inc %eax\n"
#ifdef RT_LM64
    "  iretq\n"
#else
    "  iret\n"
#endif
);

static unsigned nblocks;

static void expect(const char *name, unsigned icount, unsigned brcount)
{
    printf("COUNT %s icount=%u brcount=%u\n", name, icount, brcount);
    nblocks++;
}

static u8 src[64], dst[64];

static void fill(void)
{
    for (unsigned i = 0; i < sizeof(src); i++) {
        src[i] = (u8)(i * 7 + 1);
        dst[i] = 0;
    }
}

void test_main(void)
{
    ureg a, c, d;

    /* Jcc: a counted loop, 5 x (dec, jnz): 4 taken, 1 not. */
    __asm__ volatile(MK
                     "mov $5, %%ecx\n\t"
                     "1: dec %%ecx\n\t"
                     "jnz 1b\n\t"
                     MK : "=c"(c) :: "cc", "ebx");
    CHECK_EQ(c, 0);
    expect("jcc_loop", 1 + 5 + 5, 5);

    /* Jcc forms: near (0F 8x) taken, a DS-prefixed (branch hint) short Jcc
     * not taken, in lm64 a REX.W-prefixed Jcc taken; every condition once
     * over one flag state (after cmp 1, 2: CF SF, not ZF OF). */
    __asm__ volatile(MK
                     "xor %%eax, %%eax\n\t"
                     "%{disp32%} jz 1f\n\t"
                     "ud2\n\t"
                     "1: .byte 0x3e\n\t"
                     "jnz 2f\n\t"
                     "2:\n\t"
                     LM(".byte 0x48\n\t" "jz 3f\n\t" "ud2\n\t" "3:\n\t")
                     "mov $1, %%eax\n\t"
                     "cmp $2, %%eax\n\t"
                     "jo 4f\n\t"   "4: jno 4f\n\t"  "4: jb 4f\n\t"  "4: jae 4f\n\t"
                     "4: je 4f\n\t" "4: jne 4f\n\t" "4: jbe 4f\n\t" "4: ja 4f\n\t"
                     "4: js 4f\n\t" "4: jns 4f\n\t" "4: jp 4f\n\t"  "4: jnp 4f\n\t"
                     "4: jl 4f\n\t" "4: jge 4f\n\t" "4: jle 4f\n\t" "4: jg 4f\n\t"
                     "4:\n\t"
                     MK : "=a"(a) :: "cc", "ebx");
    expect("jcc_forms", LM(1 +) 3 + 2 + 16, LM(1 +) 2 + 16);

    /* LOOP 4 times (3 taken, 1 not); LOOPE with ZF=1 to the end of RCX;
     * LOOPNE ending early on ZF=1 at the third pass (RCX 10 -> 7). */
    __asm__ volatile(MK
                     "mov $4, %%ecx\n\t"
                     "1: loop 1b\n\t"
                     "mov $5, %%ecx\n\t"
                     "xor %%eax, %%eax\n\t"
                     "1: loope 1b\n\t"
                     "mov $10, %%ecx\n\t"
                     "mov $3, %%edx\n\t"
                     "1: dec %%edx\n\t"
                     "loopne 1b\n\t"
                     MK : "=a"(a), "=c"(c), "=d"(d) :: "cc", "ebx");
    CHECK_EQ(c, 7);
    CHECK_EQ(d, 0);
    expect("loop", 1 + 4 + 2 + 5 + 2 + 3 * 2, 4 + 5 + 3);

    /* JECXZ / JRCXZ taken and not taken. */
    __asm__ volatile(MK
                     "xor %%ecx, %%ecx\n\t"
                     "jecxz 1f\n\t"
                     "ud2\n\t"
                     "1: inc %%ecx\n\t"
                     "jecxz 2f\n\t"
                     "2:\n\t"
                     LM("jrcxz 3f\n\t" "dec %%ecx\n\t" "jrcxz 3f\n\t" "ud2\n\t" "3:\n\t")
                     MK : "=c"(c) :: "cc", "ebx");
    CHECK_EQ(c, LM(0) PM(1));
    expect("jrcxz", 4 LM(+ 3), 2 LM(+ 2));

    /* REP MOVS with RCX = 0, 1, 7 (bytes) and 3 (dwords): one each. */
    fill();
    {
        ureg s = (ureg)src, t = (ureg)dst;
        __asm__ volatile(MK
                         "xor %%ecx, %%ecx\n\t"
                         "rep movsb\n\t"
                         "mov $1, %%ecx\n\t"
                         "rep movsb\n\t"
                         "mov $7, %%ecx\n\t"
                         "rep movsb\n\t"
                         "mov $3, %%ecx\n\t"
                         "rep movsl\n\t"
                         MK : "+S"(s), "+D"(t), "=c"(c) :: "cc", "ebx", "memory");
        CHECK_EQ(s - (ureg)src, 20);
        CHECK_EQ(t - (ureg)dst, 20);
        CHECK_EQ(memcmp(src, dst, 20), 0);
        CHECK_EQ(dst[20], 0);
    }
    expect("rep_movs", 8, 0);

    /* Back to back REP instructions with RCX = 0 (each is one), REP STOS
     * in a loop (three separate instructions), REP STOS backwards, REP LODS,
     * and in lm64 REP MOVSQ and an address-size (ECX) REP STOSB. */
    {
        ureg t = (ureg)dst, s = (ureg)src;
        __asm__ volatile(MK
                         "xor %%ecx, %%ecx\n\t"
                         "rep stosb\n\t"
                         "rep stosb\n\t"
                         "rep movsb\n\t"
                         "mov $0x5a, %%eax\n\t"
                         "mov $3, %%edx\n\t"
                         "1: mov $2, %%ecx\n\t"
                         "rep stosb\n\t"
                         "dec %%edx\n\t"
                         "jnz 1b\n\t"
                         "std\n\t"
                         "mov $4, %%ecx\n\t"
                         "rep stosb\n\t"
                         "cld\n\t"
                         "mov $5, %%ecx\n\t"
                         "rep lodsb\n\t"
                         LM("mov $2, %%ecx\n\t" "rep movsq\n\t"
                            "mov $3, %%ecx\n\t" "addr32 rep stosb\n\t")
                         MK : "+S"(s), "+D"(t), "=c"(c), "=a"(a), "=d"(d)
                         :: "cc", "ebx", "memory");
        CHECK_EQ(c, 0);
        CHECK_EQ(a & 0xff, src[4]);
        CHECK_EQ(s - (ureg)src, 5 LM(+ 16));
        CHECK_EQ(t - (ureg)dst, 2 LM(+ 16 + 3));
        CHECK_EQ(dst[0], 0x5a);
        CHECK_EQ(dst[1], 0x5a);
        PM(CHECK_EQ(dst[6], 0x5a));
        LM(CHECK_EQ(dst[2], src[5]));
        LM(CHECK_EQ(dst[20], src[4]));
    }
    expect("rep_stos", 4 + 2 + 3 * 4 + 4 + 2 LM(+ 4), 3);

    /* REPE CMPS stopping at the first difference (4 of 10 compared), at the
     * count (all equal), with RCX = 0; REPNE SCAS finding a byte at the 6th
     * place; REPE SCAS with RCX = 1; each followed by a Jcc on its flags. */
    fill();
    memcpy(dst, src, 16);
    dst[3] ^= 1;
    {
        ureg s = (ureg)src, t = (ureg)dst;
        ureg s2, t2, c2, c3, c4;
        __asm__ volatile(MK
                         "mov $10, %%ecx\n\t"
                         "repe cmpsb\n\t"
                         "jne 1f\n\t"
                         "ud2\n\t"
                         "1:\n\t"
                         MK : "+S"(s), "+D"(t), "=c"(c) :: "cc", "ebx", "memory");
        CHECK_EQ(c, 6);
        CHECK_EQ(s - (ureg)src, 4);
        expect("repe_cmps_early", 3, 1);
        s2 = (ureg)src + 4;
        t2 = (ureg)dst + 4;
        __asm__ volatile(MK
                         "mov $8, %%ecx\n\t"
                         "repe cmpsb\n\t"
                         "je 1f\n\t"
                         "ud2\n\t"
                         "1: xor %%ecx, %%ecx\n\t"
                         "repe cmpsb\n\t"
                         "repne cmpsb\n\t"
                         MK : "+S"(s2), "+D"(t2), "=c"(c2) :: "cc", "ebx", "memory");
        CHECK_EQ(s2 - (ureg)src, 12);
        expect("repe_cmps_full", 6, 1);
        t = (ureg)src;
        __asm__ volatile(MK
                         "mov $20, %%ecx\n\t"
                         "mov %3, %%al\n\t"
                         "repne scasb\n\t"
                         "je 1f\n\t"
                         "ud2\n\t"
                         "1: mov $1, %%ecx\n\t"
                         "repe scasb\n\t"
                         "jne 2f\n\t"
                         "2:\n\t"
                         MK : "+D"(t), "=c"(c3), "=&a"(c4) : "m"(src[5]) : "cc", "ebx",
                         "memory");
        CHECK_EQ(c3, 0);
        CHECK_EQ(t - (ureg)src, 7);
        expect("scas", 7, 2);
    }

    /* CMOVcc and SETcc are not branches. */
    __asm__ volatile(MK
                     "xor %%eax, %%eax\n\t"
                     "mov $1, %%ecx\n\t"
                     "cmovz %%ecx, %%eax\n\t"
                     "cmovnz %%ecx, %%eax\n\t"
                     "setz %%cl\n\t"
                     "setnz %%dl\n\t"
                     MK : "=a"(a), "=c"(c), "=d"(d) :: "cc", "ebx");
    CHECK_EQ(a, 1);
    expect("cmov_setcc", 6, 0);

    /* CALL/RET, JMP (direct, indirect), REP RET and PAUSE are not branches. */
    {
        ureg tgt;
        __asm__ volatile(MK
                         "call 1f\n\t"
                         "jmp 2f\n\t"
                         "1: ret\n\t"
                         "2: call 3f\n\t"
                         "jmp 4f\n\t"
                         "3: rep ret\n\t"
                         "4: lea 5f, %0\n\t"
                         "jmp *%0\n\t"
                         "ud2\n\t"
                         "5: pause\n\t"
                         "jmp 6f\n\t"
                         "6:\n\t"
                         MK : "=r"(tgt) :: "cc", "ebx", "memory");
    }
    expect("call_ret_jmp", 10, 0);

    /* INT n, INT3 (and INTO in pm32, OF set and clear) to an assembly
     * handler (inc eax; iret): the INT counts, then the handler's two. */
    rt_set_gate_target(INT_VEC, 0xE, 0, SEL_HANDLER, (ureg)count_handler);
    rt_set_gate_target(3, 0xE, 0, SEL_HANDLER, (ureg)count_handler);
    PM(rt_set_gate_target(4, 0xE, 0, SEL_HANDLER, (ureg)count_handler));
    __asm__ volatile(MK
                     "xor %%eax, %%eax\n\t"
                     "int $0x41\n\t"
                     "int3\n\t"
                     PM("mov $0x7f, %%cl\n\t" "add $1, %%cl\n\t" "into\n\t"
                        "add $1, %%cl\n\t" "into\n\t")
                     MK : "=a"(a), "=c"(c) :: "cc", "ebx", "memory");
    rt_set_gate(3, 0xE, 0);
    PM(rt_set_gate(4, 0xE, 0));
    CHECK_EQ(a, 2 PM(+ 1));
    expect("int_iret", 1 + 3 + 3 PM(+ 2 + 3 + 2), 0);

    printf("%u blocks\n", nblocks);
}
