/* rv_i: the RV32I / RV64I base integer instructions.
 * ALU ops and immediates, shifts (incl. the *W forms on RV64), LUI/AUIPC,
 * every branch taken and not taken, JAL/JALR link values, loads and stores
 * of each size with sign/zero extension, misaligned loads and stores on RAM
 * (performed, not trapped: checked by value, also across a page boundary),
 * x0 as a destination, FENCE / FENCE.TSO / PAUSE as no-ops. */
#include "rt.h"

RT_TEST_NAME("rv_i");

/* Pick the expected value for this XLEN. */
#if IS_RV64
#define XV(v64, v32) ((ureg)(v64))
#else
#define XV(v64, v32) ((ureg)(v32))
#endif

#define RR(op, a, b) ({ ureg __r; __asm__ volatile(op " %0, %1, %2" \
    : "=r"(__r) : "r"((ureg)(a)), "r"((ureg)(b))); __r; })
#define RI(op, a, imm) ({ ureg __r; __asm__ volatile(op " %0, %1, %2" \
    : "=r"(__r) : "r"((ureg)(a)), "i"(imm)); __r; })
/* 1 if the branch is taken. */
#define BR(op, a, b) ({ ureg __t; __asm__ volatile( \
    "li %0, 1\n\t" op " %1, %2, 1f\n\tli %0, 0\n1:" \
    : "=&r"(__t) : "r"((ureg)(a)), "r"((ureg)(b))); __t; })

static volatile ureg sink;

static void test_alu(void)
{
    const ureg MAX = (ureg)-1 >> 1, MIN = MAX + 1;

    CHECKEQ(RR("add", 5, 7), 12);
    CHECKEQ(RR("add", MAX, 1), MIN);
    CHECKEQ(RR("add", (ureg)-1, 1), 0);
    CHECKEQ(RR("sub", 0, 1), (ureg)-1);
    CHECKEQ(RR("sub", MIN, 1), MAX);
    CHECKEQ(RR("sub", 5, 7), (ureg)-2);
    CHECKEQ(RI("addi", 0, -2048), (ureg)-2048);
    CHECKEQ(RI("addi", 1, 2047), 2048);
    CHECKEQ(RI("addi", MAX, 1), MIN);

    CHECKEQ(RR("slt", (ureg)-1, 1), 1);
    CHECKEQ(RR("slt", 1, (ureg)-1), 0);
    CHECKEQ(RR("slt", MIN, MAX), 1);
    CHECKEQ(RR("slt", 5, 5), 0);
    CHECKEQ(RR("sltu", (ureg)-1, 1), 0);
    CHECKEQ(RR("sltu", 1, (ureg)-1), 1);
    CHECKEQ(RR("sltu", MAX, MIN), 1);
    CHECKEQ(RR("sltu", 0, 0), 0);
    CHECKEQ(RI("slti", (ureg)-5, -4), 1);
    CHECKEQ(RI("slti", (ureg)-4, -4), 0);
    CHECKEQ(RI("slti", MIN, 0), 1);
    CHECKEQ(RI("sltiu", 0, 1), 1);          /* seqz */
    CHECKEQ(RI("sltiu", 7, 1), 0);
    CHECKEQ(RI("sltiu", MAX, -1), 1);       /* imm sign-extends: all ones */
    CHECKEQ(RI("sltiu", (ureg)-1, -1), 0);
    CHECKEQ(RI("sltiu", (ureg)-2, -1), 1);

    CHECKEQ(RR("and", XV(0xff00ff00ff00ff00ull, 0xff00ff00), XV(0x0ff00ff00ff00ff0ull, 0x0ff00ff0)),
            XV(0x0f000f000f000f00ull, 0x0f000f00));
    CHECKEQ(RR("or", XV(0xff00ff00ff00ff00ull, 0xff00ff00), XV(0x0ff00ff00ff00ff0ull, 0x0ff00ff0)),
            XV(0xfff0fff0fff0fff0ull, 0xfff0fff0));
    CHECKEQ(RR("xor", XV(0xff00ff00ff00ff00ull, 0xff00ff00), XV(0x0ff00ff00ff00ff0ull, 0x0ff00ff0)),
            XV(0xf0f0f0f0f0f0f0f0ull, 0xf0f0f0f0));
    CHECKEQ(RI("andi", XV(0x123456789abcdef0ull, 0x9abcdef0), -16), XV(0x123456789abcdef0ull, 0x9abcdef0));
    CHECKEQ(RI("andi", XV(0x123456789abcdef0ull, 0x9abcdef0), 0x7ff), 0x6f0);
    CHECKEQ(RI("andi", XV(0x123456789abcdef0ull, 0x9abcdef0), -2048), XV(0x123456789abcd800ull, 0x9abcd800));
    CHECKEQ(RI("ori", 0x100, -2048), (ureg)-2048 | 0x100);
    CHECKEQ(RI("ori", 0, 0x555), 0x555);
    CHECKEQ(RI("xori", 0x0f0, -1), ~(ureg)0x0f0);   /* not */
    CHECKEQ(RI("xori", 0x0f0, 0x0ff), 0x00f);
}

static void test_shifts(void)
{
    const ureg one = 1, neg = XV(0x8000000000000010ull, 0x80000010);

    CHECKEQ(RR("sll", one, 0), 1);
    CHECKEQ(RR("sll", one, XLEN - 1), (ureg)1 << (XLEN - 1));
    CHECKEQ(RR("sll", one, XLEN), 1);          /* shamt uses low log2(XLEN) bits */
    CHECKEQ(RR("sll", one, XLEN + 3), 8);
    CHECKEQ(RR("sll", 0x81, (ureg)-1), (ureg)1 << (XLEN - 1));
    CHECKEQ(RR("srl", neg, 4), XV(0x0800000000000001ull, 0x08000001));
    CHECKEQ(RR("srl", neg, XLEN + 4), XV(0x0800000000000001ull, 0x08000001));
    CHECKEQ(RR("srl", neg, XLEN - 1), 1);
    CHECKEQ(RR("sra", neg, 4), XV(0xf800000000000001ull, 0xf8000001));
    CHECKEQ(RR("sra", neg, XLEN - 1), (ureg)-1);
    CHECKEQ(RR("sra", 0x70, 4), 7);
    CHECKEQ(RR("sra", neg, XLEN), neg);
    CHECKEQ(RI("slli", 3, 4), 48);
    CHECKEQ(RI("slli", 3, XLEN - 1), (ureg)1 << (XLEN - 1));
    CHECKEQ(RI("srli", neg, 4), XV(0x0800000000000001ull, 0x08000001));
    CHECKEQ(RI("srli", (ureg)-1, XLEN - 1), 1);
    CHECKEQ(RI("srai", neg, 4), XV(0xf800000000000001ull, 0xf8000001));
    CHECKEQ(RI("srai", neg, XLEN - 1), (ureg)-1);
    CHECKEQ(RI("srai", 0x70, 0), 0x70);

#if IS_RV64
    /* Upper 32 source bits are ignored; results are sign-extended. */
    CHECKEQ(RR("addw", 0x7fffffff, 1), 0xffffffff80000000ull);
    CHECKEQ(RR("addw", 0x12345678ffffffffull, 2), 1);
    CHECKEQ(RR("subw", 0x80000000ull, 1), 0x7fffffff);
    CHECKEQ(RR("subw", 0, 1), (ureg)-1);
    CHECKEQ(RI("addiw", 0x00000000fffffffeull, 1), (ureg)-1);   /* sext.w */
    CHECKEQ(RI("addiw", 0xabcdef0012345678ull, 0), 0x12345678);
    CHECKEQ(RI("addiw", 0x7fffffff, 1), 0xffffffff80000000ull);
    CHECKEQ(RR("sllw", 1, 31), 0xffffffff80000000ull);
    CHECKEQ(RR("sllw", 1, 32), 1);             /* 5-bit shamt */
    CHECKEQ(RR("sllw", 0xffffffff00000003ull, 30), 0xffffffffc0000000ull);
    CHECKEQ(RR("srlw", 0xffffffff80000000ull, 0), 0xffffffff80000000ull);
    CHECKEQ(RR("srlw", 0xffffffff80000000ull, 1), 0x40000000);
    CHECKEQ(RR("srlw", 0x12345678f0000000ull, 36), 0x0f000000);
    CHECKEQ(RR("sraw", 0x0000000080000000ull, 4), 0xfffffffff8000000ull);
    CHECKEQ(RR("sraw", 0xffffffff7fffffffull, 31), 0);
    CHECKEQ(RR("sraw", 0x80000000ull, 63), (ureg)-1);
    CHECKEQ(RI("slliw", 0x12345678ull, 4), 0x23456780);
    CHECKEQ(RI("slliw", 0x1ull, 31), 0xffffffff80000000ull);
    CHECKEQ(RI("srliw", 0xffffffff80000000ull, 31), 1);
    CHECKEQ(RI("srliw", 0xffffffff80000000ull, 0), 0xffffffff80000000ull);
    CHECKEQ(RI("sraiw", 0x80000000ull, 31), (ureg)-1);
    CHECKEQ(RI("sraiw", 0xfffffff0ull, 2), (ureg)-4);
    CHECKEQ(RI("sraiw", 0x5555555512345678ull, 0), 0x12345678);
#endif
}

static void test_lui_auipc(void)
{
    ureg r, a, b;
    __asm__ volatile("lui %0, 0x80000" : "=r"(r));
    CHECKEQ(r, XV(0xffffffff80000000ull, 0x80000000));
    __asm__ volatile("lui %0, 0x12345" : "=r"(r));
    CHECKEQ(r, 0x12345000);
    __asm__ volatile("lui %0, 0xfffff" : "=r"(r));
    CHECKEQ(r, (ureg)-4096);
    __asm__ volatile("lui %0, 0" : "=r"(r));
    CHECKEQ(r, 0);
    __asm__ volatile(".option push\n.option norelax\n"
                     "1: auipc %0, 0\n\tlla %1, 1b\n.option pop"
                     : "=r"(a), "=r"(b));
    CHECKEQ(a, b);
    __asm__ volatile(".option push\n.option norelax\n"
                     "1: auipc %0, 1\n\tlla %1, 1b\n.option pop"
                     : "=r"(a), "=r"(b));
    CHECKEQ(a - b, 0x1000);
    __asm__ volatile(".option push\n.option norelax\n"
                     "1: auipc %0, 0xfffff\n\tlla %1, 1b\n.option pop"
                     : "=r"(a), "=r"(b));
    CHECKEQ(b - a, 0x1000);
    __asm__ volatile(".option push\n.option norelax\n"
                     "1: auipc %0, 0x80000\n\tlla %1, 1b\n.option pop"
                     : "=r"(a), "=r"(b));
    CHECKEQ(a - b, XV(0xffffffff80000000ull, 0x80000000));
}

static void test_branches(void)
{
    const ureg MAX = (ureg)-1 >> 1, MIN = MAX + 1;

    CHECKEQ(BR("beq", 3, 3), 1);
    CHECKEQ(BR("beq", 3, 4), 0);
    CHECKEQ(BR("beq", (ureg)-1, XV(0xffffffffull, 0xffffffff)), XV(0, 1));
    CHECKEQ(BR("bne", 3, 4), 1);
    CHECKEQ(BR("bne", 3, 3), 0);
    CHECKEQ(BR("blt", (ureg)-1, 0), 1);
    CHECKEQ(BR("blt", 0, (ureg)-1), 0);
    CHECKEQ(BR("blt", MIN, MAX), 1);
    CHECKEQ(BR("blt", 5, 5), 0);
    CHECKEQ(BR("bge", 5, 5), 1);
    CHECKEQ(BR("bge", 0, (ureg)-1), 1);
    CHECKEQ(BR("bge", MIN, MAX), 0);
    CHECKEQ(BR("bltu", 0, (ureg)-1), 1);
    CHECKEQ(BR("bltu", (ureg)-1, 0), 0);
    CHECKEQ(BR("bltu", MAX, MIN), 1);
    CHECKEQ(BR("bltu", 7, 7), 0);
    CHECKEQ(BR("bgeu", 7, 7), 1);
    CHECKEQ(BR("bgeu", (ureg)-1, 0), 1);
    CHECKEQ(BR("bgeu", MAX, MIN), 0);
    /* Backward branch: a counted loop. */
    ureg n;
    __asm__ volatile("li %0, 0\n\tli t0, 10\n"
                     "1: addi %0, %0, 3\n\taddi t0, t0, -1\n\tbnez t0, 1b"
                     : "=&r"(n) :: "t0");
    CHECKEQ(n, 30);
    /* A long forward branch (over 2 KiB of code). */
    __asm__ volatile("li %0, 1\n\tbeqz zero, 1f\n\tli %0, 2\n"
                     ".fill 600, 4, 0x00000013\n"
                     "1:" : "=&r"(n));
    CHECKEQ(n, 1);
}

static void test_jumps(void)
{
    ureg link, expect, tmp;
    __asm__ volatile(".option push\n.option norvc\n.option norelax\n"
                     "jal %0, 1f\n2: nop\n1: lla %1, 2b\n.option pop"
                     : "=r"(link), "=r"(expect));
    CHECKEQ(link, expect);
    /* JAL with x0 as link: a plain jump. */
    __asm__ volatile(".option push\n.option norvc\n"
                     "li %0, 1\n\tjal x0, 1f\n\tli %0, 2\n1:\n.option pop"
                     : "=&r"(tmp));
    CHECKEQ(tmp, 1);
    /* JALR: target = (rs1 + imm) & ~1, link = pc + 4. */
    __asm__ volatile(".option push\n.option norvc\n.option norelax\n"
                     "lla t0, 1f\n\taddi t0, t0, -7\n"
                     "jalr %0, 7(t0)\n2: nop\n1: lla %1, 2b\n.option pop"
                     : "=r"(link), "=r"(expect) :: "t0");
    CHECKEQ(link, expect);
    __asm__ volatile(".option push\n.option norvc\n.option norelax\n"
                     "lla t0, 1f\n\taddi t0, t0, 1\n"      /* odd address */
                     "li %2, 5\n\tjalr %0, 0(t0)\n2: li %2, 9\n1: lla %1, 2b\n.option pop"
                     : "=r"(link), "=r"(expect), "=&r"(tmp) :: "t0");
    CHECKEQ(link, expect);
    CHECKEQ(tmp, 5);
    /* rd == rs1: the target uses the old value. */
    __asm__ volatile(".option push\n.option norvc\n.option norelax\n"
                     "lla %0, 1f\n\tjalr %0, 0(%0)\n2: nop\n1: lla %1, 2b\n.option pop"
                     : "=&r"(link), "=r"(expect));
    CHECKEQ(link, expect);
    /* Negative JALR offset. */
    __asm__ volatile(".option push\n.option norvc\n.option norelax\n"
                     "lla t0, 1f\n\taddi t0, t0, 100\n"
                     "jalr %0, -100(t0)\n2: nop\n1: lla %1, 2b\n.option pop"
                     : "=r"(link), "=r"(expect) :: "t0");
    CHECKEQ(link, expect);
}

static uint8_t buf[64] __attribute__((aligned(16)));

#define LD(op, off) ({ ureg __r; __asm__ volatile(op " %0, " #off "(%1)" \
    : "=r"(__r) : "r"(base) : "memory"); __r; })

static void test_loads_stores(void)
{
    static const uint8_t init[16] = { 0x81, 0x72, 0xe3, 0x54, 0xc5, 0x36, 0xa7, 0x98,
                                      0x09, 0xfa, 0x6b, 0xdc, 0x4d, 0xbe, 0x2f, 0x80 };
    for (int i = 0; i < 64; i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    memcpy(buf + 16, init, 16);
    uint8_t *base = buf + 16;

    CHECKEQ(LD("lb", 0), (ureg)(sreg)(int8_t)0x81);
    CHECKEQ(LD("lb", 1), 0x72);
    CHECKEQ(LD("lbu", 0), 0x81);
    CHECKEQ(LD("lb", -1), (ureg)(sreg)(int8_t)buf[15]);
    CHECKEQ(LD("lh", 0), (ureg)(sreg)(int16_t)0x7281);
    CHECKEQ(LD("lh", 2), (ureg)(sreg)(int16_t)0x54e3);
    CHECKEQ(LD("lh", 14), (ureg)(sreg)(int16_t)0x802f);
    CHECKEQ(LD("lhu", 14), 0x802f);
    CHECKEQ(LD("lw", 0), XV(0x54e37281ull, 0x54e37281));
    CHECKEQ(LD("lw", 4), XV(0xffffffff98a736c5ull, 0x98a736c5));
#if IS_RV64
    CHECKEQ(LD("lwu", 4), 0x98a736c5ull);
    CHECKEQ(LD("lwu", 0), 0x54e37281ull);
    CHECKEQ(LD("ld", 0), 0x98a736c554e37281ull);
    CHECKEQ(LD("ld", 8), 0x802fbe4ddc6bfa09ull);
#endif

    /* Stores touch exactly their bytes. */
    uint8_t *p = buf + 32;
    for (int i = 0; i < 16; i++)
        p[i] = 0xee;
    __asm__ volatile("sb %1, 1(%0)" :: "r"(p), "r"((ureg)0x1234) : "memory");
    __asm__ volatile("sh %1, 2(%0)" :: "r"(p), "r"((ureg)0xabcdef) : "memory");
    __asm__ volatile("sw %1, 4(%0)" :: "r"(p), "r"((ureg)XV(0x1122334455667788ull, 0x55667788)) : "memory");
#if IS_RV64
    __asm__ volatile("sd %1, 8(%0)" :: "r"(p), "r"((ureg)0x0102030405060708ull) : "memory");
    static const uint8_t want[16] = { 0xee, 0x34, 0xef, 0xcd, 0x88, 0x77, 0x66, 0x55,
                                      0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01 };
#else
    static const uint8_t want[16] = { 0xee, 0x34, 0xef, 0xcd, 0x88, 0x77, 0x66, 0x55,
                                      0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee };
#endif
    for (int i = 0; i < 16; i++)
        CHECKEQ(p[i], want[i]);
    CHECKEQ(p[-1], 0x80);             /* init[15], untouched */
    CHECKEQ(p[16], (uint8_t)(48 * 7 + 3));
    /* Negative store offset. */
    __asm__ volatile("sb %1, -1(%0)" :: "r"(p), "r"((ureg)0x5a) : "memory");
    CHECKEQ(buf[31], 0x5a);
}

/* Two pages to straddle. */
static uint8_t pages[8192] __attribute__((aligned(4096)));

static void test_misaligned(void)
{
    uint8_t *base = buf + 16;           /* same contents as above */
    rt_trap_clear();
    CHECKEQ(LD("lh", 1), (ureg)(sreg)(int16_t)0xe372);
    CHECKEQ(LD("lhu", 3), 0xc554);
    CHECKEQ(LD("lw", 1), XV(0xffffffffc554e372ull, 0xc554e372));
    CHECKEQ(LD("lw", 2), XV(0x36c554e3ull, 0x36c554e3));
    CHECKEQ(LD("lw", 3), XV(0xffffffffa736c554ull, 0xa736c554));
#if IS_RV64
    CHECKEQ(LD("lwu", 1), 0xc554e372ull);
    CHECKEQ(LD("ld", 1), 0x0998a736c554e372ull);
    CHECKEQ(LD("ld", 3), 0x6bfa0998a736c554ull);
    CHECKEQ(LD("ld", 2), 0xfa0998a736c554e3ull);
    CHECKEQ(LD("ld", 7), 0x2fbe4ddc6bfa0998ull);
#endif
    uint8_t *p = buf + 48;
    for (int i = 0; i < 16; i++)
        p[i] = 0;
    __asm__ volatile("sh %1, 1(%0)" :: "r"(p), "r"((ureg)0xa1b2) : "memory");
    __asm__ volatile("sw %1, 5(%0)" :: "r"(p), "r"((ureg)0xc1d2e3f4) : "memory");
    CHECKEQ(p[0], 0);
    CHECKEQ(p[1], 0xb2);
    CHECKEQ(p[2], 0xa1);
    CHECKEQ(p[3], 0);
    CHECKEQ(p[4], 0);
    CHECKEQ(p[5], 0xf4);
    CHECKEQ(p[6], 0xe3);
    CHECKEQ(p[7], 0xd2);
    CHECKEQ(p[8], 0xc1);
    CHECKEQ(p[9], 0);
#if IS_RV64
    __asm__ volatile("sd %1, 7(%0)" :: "r"(p), "r"((ureg)0x1122334455667788ull) : "memory");
    CHECKEQ(p[6], 0xe3);
    CHECKEQ(p[7], 0x88);
    CHECKEQ(p[14], 0x11);
    CHECKEQ(p[15], 0);
#endif
    /* Across a page boundary. */
    uint8_t *q = pages + 4096 - 2;
    for (int i = 0; i < 8; i++)
        q[i] = (uint8_t)(0x10 + i);
    base = q;
    CHECKEQ(LD("lw", 0), 0x13121110);
    CHECKEQ(LD("lh", 1), 0x1211);
    __asm__ volatile("sw %1, 1(%0)" :: "r"(q), "r"((ureg)0x44332211) : "memory");
    CHECKEQ(q[0], 0x10);
    CHECKEQ(q[1], 0x11);
    CHECKEQ(q[2], 0x22);
    CHECKEQ(q[3], 0x33);
    CHECKEQ(q[4], 0x44);
    CHECKEQ(q[5], 0x15);
#if IS_RV64
    pages[4096 - 5] = 0xa5;
    pages[4096 - 4] = 0xb6;
    pages[4096 - 3] = 0xc7;
    base = pages + 4096 - 5;
    CHECKEQ(LD("ld", 0), 0x4433221110c7b6a5ull);
#endif
    /* Performed in hardware: no traps. */
    CHECKEQ(rt_mtrap.count, 0);
}

static void test_x0_fence(void)
{
    ureg r;
    __asm__ volatile("addi x0, x0, 5\n\tlui x0, 0x12345\n\tadd %0, x0, x0"
                     : "=r"(r));
    CHECKEQ(r, 0);
    /* A load to x0 still happens (no trap for a valid address) */
    __asm__ volatile("lw x0, 0(%0)" :: "r"(buf) : "memory");
    __asm__ volatile("fence\n\tfence rw, rw\n\tfence r, r\n\tfence.tso\n\t"
                     ".word 0x0100000f\n\t"       /* pause (Zihintpause) */
                     "fence iorw, iorw" ::: "memory");
    CHECKEQ(rt_mtrap.count, 0);
}

int main(void)
{
    rt_trap_clear();
    test_alu();
    test_shifts();
    test_lui_auipc();
    test_branches();
    test_jumps();
    test_loads_stores();
    test_misaligned();
    test_x0_fence();
    sink = 0;
    return 0;
}
