/* rv_c: every compressed instruction, written with explicit c.* mnemonics:
 * C.ADDI4SPN, C.LW/C.SW, C.LD/C.SD (RV64), C.FLD/C.FSD, C.FLW/C.FSW (RV32),
 * C.NOP, C.ADDI, C.ADDIW (RV64), C.LI, C.ADDI16SP, C.LUI, C.SRLI, C.SRAI,
 * C.ANDI, C.SUB, C.XOR, C.OR, C.AND, C.SUBW/C.ADDW (RV64), C.J, C.JAL
 * (RV32), C.BEQZ, C.BNEZ, C.SLLI, C.LWSP/C.SWSP, C.LDSP/C.SDSP (RV64),
 * C.FLDSP/C.FSDSP, C.FLWSP/C.FSWSP (RV32), C.JR, C.MV, C.JALR, C.ADD,
 * C.EBREAK (breakpoint trap, mepc = its address), the all-zero illegal
 * instruction, and 32-bit instructions at 2-byte-aligned addresses. */
#include "rt.h"

RT_TEST_NAME("rv_c");

#if IS_RV64
#define XV(v64, v32) ((ureg)(v64))
#else
#define XV(v64, v32) ((ureg)(v32))
#endif

/* One compressed op on a0: r = op(a0). */
#define C1(insn, in) ({ register ureg __a0 __asm__("a0") = (ureg)(in); \
    __asm__ volatile(insn : "+r"(__a0)); __a0; })
/* Two-register op: a0 = a0 op a1. */
#define C2(insn, x, y) ({ register ureg __a0 __asm__("a0") = (ureg)(x); \
    register ureg __a1 __asm__("a1") = (ureg)(y); \
    __asm__ volatile(insn " a0, a1" : "+r"(__a0) : "r"(__a1)); __a0; })

static void test_alu(void)
{
    CHECKEQ(C1("c.li a0, -32", 0), (ureg)-32);
    CHECKEQ(C1("c.li a0, 31", 0), 31);
    CHECKEQ(C1("c.lui a0, 1", 0), 0x1000);
    CHECKEQ(C1("c.lui a0, 31", 0), 0x1f000);
    CHECKEQ(C1("c.lui a0, 0xfffe0", 0), XV(0xfffffffffffe0000ull, 0xfffe0000));
    CHECKEQ(C1("c.lui a0, 0xfffff", 0), (ureg)-4096);
    CHECKEQ(C1("c.addi a0, -32", 100), 68);
    CHECKEQ(C1("c.addi a0, 31", (ureg)-1), 30);
    CHECKEQ(C1("c.nop", 77), 77);
#if IS_RV64
    CHECKEQ(C1("c.addiw a0, 1", 0x7fffffff), 0xffffffff80000000ull);
    CHECKEQ(C1("c.addiw a0, 0", 0x12345678deadbeefull), 0xffffffffdeadbeefull);
    CHECKEQ(C1("c.addiw a0, -1", 0x100000000ull), (ureg)-1);
#endif
    CHECKEQ(C1("c.slli a0, 4", 0x81), 0x810);
    CHECKEQ(C1("c.slli a0, " STR(XLEN) "-1", 3), (ureg)1 << (XLEN - 1));
    CHECKEQ(C1("c.srli a0, 4", (ureg)-16), (ureg)-1 >> 4);
    CHECKEQ(C1("c.srli a0, " STR(XLEN) "-1", (ureg)-1), 1);
    CHECKEQ(C1("c.srai a0, 4", (ureg)-256), (ureg)-16);
    CHECKEQ(C1("c.srai a0, " STR(XLEN) "-1", XV(0x8000000000000000ull, 0x80000000)), (ureg)-1);
    CHECKEQ(C1("c.andi a0, -32", 0xfff), 0xfe0);
    CHECKEQ(C1("c.andi a0, 31", 0xfff), 0x1f);
    CHECKEQ(C1("c.andi a0, 0", 0xfff), 0);
    CHECKEQ(C2("c.sub", 5, 7), (ureg)-2);
    CHECKEQ(C2("c.xor", 0xff00, 0x0ff0), 0xf0f0);
    CHECKEQ(C2("c.or", 0xff00, 0x0ff0), 0xfff0);
    CHECKEQ(C2("c.and", 0xff00, 0x0ff0), 0x0f00);
#if IS_RV64
    CHECKEQ(C2("c.subw", 0x80000000ull, 1), 0x7fffffff);
    CHECKEQ(C2("c.subw", 0, 1), (ureg)-1);
    CHECKEQ(C2("c.addw", 0x7fffffff, 1), 0xffffffff80000000ull);
    CHECKEQ(C2("c.addw", 0xffffffff00000001ull, 0x00000005ffffffffull), 0);
#endif
    CHECKEQ(C2("c.mv", 1, 0x1234), 0x1234);
    CHECKEQ(C2("c.add", 0x1000, (ureg)-1), 0xfff);
    /* The same ops on other registers (rd' = s1, rs2' = a5; full-register
     * forms on t3 / t4). */
    ureg r;
    __asm__ volatile("li s1, 10\n\tli a5, 3\n\tc.sub s1, a5\n\tc.slli s1, 2\n\t"
                     "c.addi s1, 1\n\tmv %0, s1" : "=r"(r) :: "s1", "a5");
    CHECKEQ(r, 29);
    __asm__ volatile("li t3, 7\n\tli t4, 8\n\tc.add t3, t4\n\tc.mv t4, t3\n\t"
                     "c.add t4, t3\n\tmv %0, t4" : "=r"(r) :: "t3", "t4");
    CHECKEQ(r, 30);
}

static uint8_t mem[1024] __attribute__((aligned(16)));

static void fill_mem(void)
{
    for (int i = 0; i < 1024; i++)
        mem[i] = (uint8_t)(i * 13 + 5);
}

static u64 mem_u64(int off)
{
    u64 v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | mem[off + i];
    return v;
}

static uint32_t mem_u32(int off)
{
    return (uint32_t)mem_u64(off);
}

static void test_loadstore(void)
{
    ureg r;
    fill_mem();
    /* c.lw / c.sw: offsets 0..124, scaled by 4; sign-extended on RV64. */
    __asm__ volatile("mv a4, %1\n\tc.lw a3, 124(a4)\n\tmv %0, a3"
                     : "=r"(r) : "r"(mem) : "a3", "a4", "memory");
    CHECKEQ(r, (ureg)(sreg)(int32_t)mem_u32(124));
    __asm__ volatile("mv a4, %1\n\tc.lw a3, 0(a4)\n\tmv %0, a3"
                     : "=r"(r) : "r"(mem) : "a3", "a4", "memory");
    CHECKEQ(r, (ureg)(sreg)(int32_t)mem_u32(0));
    __asm__ volatile("mv a4, %0\n\tli a3, -2\n\tc.sw a3, 64(a4)"
                     :: "r"(mem) : "a3", "a4", "memory");
    CHECKEQ(mem_u32(64), 0xfffffffe);
    CHECKEQ(mem[68], (uint8_t)(68 * 13 + 5));
    /* Sign extension of c.lw on RV64. */
    mem[8] = 0; mem[9] = 0; mem[10] = 0; mem[11] = 0x80;
    __asm__ volatile("mv a4, %1\n\tc.lw a3, 8(a4)\n\tmv %0, a3"
                     : "=r"(r) : "r"(mem) : "a3", "a4", "memory");
    CHECKEQ(r, XV(0xffffffff80000000ull, 0x80000000));
#if IS_RV64
    fill_mem();
    __asm__ volatile("mv a4, %1\n\tc.ld a3, 248(a4)\n\tmv %0, a3"
                     : "=r"(r) : "r"(mem) : "a3", "a4", "memory");
    CHECKEQ(r, mem_u64(248));
    __asm__ volatile("mv a4, %0\n\tli a3, 0x123456789a\n\tc.sd a3, 8(a4)"
                     :: "r"(mem) : "a3", "a4", "memory");
    CHECKEQ(mem_u64(8), 0x123456789aull);
#endif
    /* FP compressed loads/stores (bit patterns only, no arithmetic). */
    u64 fv;
    fill_mem();
    __asm__ volatile("mv a4, %1\n\tc.fld fa5, 248(a4)\n\tc.fsd fa5, 0(a4)\n\t"
                     "fsd fa5, 0(%2)"
                     : "=m"(fv) : "r"(mem), "r"(&fv) : "a4", "fa5", "memory");
    CHECKEQ(fv, mem_u64(248));
    CHECKEQ(mem_u64(0), mem_u64(248));
#if !IS_RV64
    fill_mem();
    __asm__ volatile("mv a4, %1\n\tc.flw fa5, 124(a4)\n\tc.fsw fa5, 4(a4)\n\t"
                     "fsd fa5, 0(%2)"
                     : "=m"(fv) : "r"(mem), "r"(&fv) : "a4", "fa5", "memory");
    CHECKEQ(fv, 0xffffffff00000000ull | mem_u32(124));   /* NaN-boxed */
    CHECKEQ(mem_u32(4), mem_u32(124));
#endif
}

static void test_sp_forms(void)
{
    ureg r, d;
    fill_mem();
    /* sp-relative forms: point sp at mem for the duration of the asm. */
    __asm__ volatile("mv t0, sp\n\tmv sp, %1\n\t"
                     "c.lwsp a3, 252(sp)\n\t"
                     "mv sp, t0\n\tmv %0, a3"
                     : "=r"(r) : "r"(mem) : "t0", "a3", "memory");
    CHECKEQ(r, (ureg)(sreg)(int32_t)mem_u32(252));
    __asm__ volatile("mv t0, sp\n\tmv sp, %0\n\tli t1, 0x55aa33cc\n\t"
                     "c.swsp t1, 12(sp)\n\tmv sp, t0"
                     :: "r"(mem) : "t0", "t1", "memory");
    CHECKEQ(mem_u32(12), 0x55aa33cc);
#if IS_RV64
    __asm__ volatile("mv t0, sp\n\tmv sp, %1\n\t"
                     "c.ldsp a3, 504(sp)\n\t"
                     "mv sp, t0\n\tmv %0, a3"
                     : "=r"(r) : "r"(mem) : "t0", "a3", "memory");
    CHECKEQ(r, mem_u64(504));
    __asm__ volatile("mv t0, sp\n\tmv sp, %0\n\tli t1, -3\n\t"
                     "c.sdsp t1, 496(sp)\n\tmv sp, t0"
                     :: "r"(mem) : "t0", "t1", "memory");
    CHECKEQ(mem_u64(496), (u64)-3);
#endif
    u64 fv;
    __asm__ volatile("mv t0, sp\n\tmv sp, %1\n\t"
                     "c.fldsp ft3, 504(sp)\n\tc.fsdsp ft3, 16(sp)\n\t"
                     "mv sp, t0\n\tfsd ft3, 0(%2)"
                     : "=m"(fv) : "r"(mem), "r"(&fv) : "t0", "ft3", "memory");
    CHECKEQ(fv, mem_u64(504));
    CHECKEQ(mem_u64(16), mem_u64(504));
#if !IS_RV64
    __asm__ volatile("mv t0, sp\n\tmv sp, %1\n\t"
                     "c.flwsp ft3, 252(sp)\n\tc.fswsp ft3, 40(sp)\n\t"
                     "mv sp, t0\n\tfsd ft3, 0(%2)"
                     : "=m"(fv) : "r"(mem), "r"(&fv) : "t0", "ft3", "memory");
    CHECKEQ(fv, 0xffffffff00000000ull | mem_u32(252));
    CHECKEQ(mem_u32(40), mem_u32(252));
#endif
    /* c.addi16sp / c.addi4spn. */
    __asm__ volatile("mv t0, sp\n\tc.addi16sp sp, -512\n\tsub %0, t0, sp\n\t"
                     "c.addi16sp sp, 496\n\tc.addi16sp sp, 16\n\tsub %1, t0, sp"
                     : "=r"(r), "=r"(d) :: "t0", "memory");
    CHECKEQ(r, 512);
    CHECKEQ(d, 0);
    __asm__ volatile("c.addi4spn a3, sp, 1020\n\tsub %0, a3, sp\n\t"
                     "c.addi4spn a3, sp, 4\n\tsub %1, a3, sp"
                     : "=r"(r), "=r"(d) :: "a3");
    CHECKEQ(r, 1020);
    CHECKEQ(d, 4);
}

static void test_control(void)
{
    ureg r, link, expect;
    /* c.j forward and backward. */
    __asm__ volatile("li %0, 0\n\tc.j 2f\n1: addi %0, %0, 10\n\tc.j 3f\n"
                     "2: addi %0, %0, 1\n\tc.j 1b\n3:" : "=&r"(r));
    CHECKEQ(r, 11);
    /* c.beqz / c.bnez, taken and not taken. */
    __asm__ volatile("li %0, 0\n\tli a3, 0\n\tli a4, 5\n\t"
                     "c.beqz a3, 1f\n\taddi %0, %0, 1\n"
                     "1: c.bnez a3, 2f\n\taddi %0, %0, 2\n"
                     "2: c.beqz a4, 3f\n\taddi %0, %0, 4\n"
                     "3: c.bnez a4, 4f\n\taddi %0, %0, 8\n4:"
                     : "=&r"(r) :: "a3", "a4");
    CHECKEQ(r, 6);
    /* Backward c.bnez loop. */
    __asm__ volatile("li %0, 0\n\tli a3, 5\n"
                     "1: addi %0, %0, 2\n\tc.addi a3, -1\n\tc.bnez a3, 1b"
                     : "=&r"(r) :: "a3");
    CHECKEQ(r, 10);
    /* c.jr */
    __asm__ volatile(".option push\n.option norelax\n"
                     "li %0, 1\n\tlla t1, 1f\n\tc.jr t1\n\tli %0, 2\n1:\n.option pop"
                     : "=&r"(r) :: "t1");
    CHECKEQ(r, 1);
    /* c.jalr: link = pc + 2. */
    __asm__ volatile(".option push\n.option norelax\n"
                     "mv t2, ra\n\tlla t1, 1f\n\tc.jalr t1\n2: nop\n1: mv %0, ra\n\t"
                     "lla %1, 2b\n\tmv ra, t2\n.option pop"
                     : "=&r"(link), "=&r"(expect) :: "t1", "t2");
    CHECKEQ(link, expect);
#if !IS_RV64
    /* c.jal (RV32 only): link = pc + 2. */
    __asm__ volatile(".option push\n.option norelax\n"
                     "mv t2, ra\n\tc.jal 1f\n2: nop\n1: mv %0, ra\n\t"
                     "lla %1, 2b\n\tmv ra, t2\n.option pop"
                     : "=&r"(link), "=&r"(expect) :: "t2");
    CHECKEQ(link, expect);
#endif
    /* 32-bit instructions at addresses that are 2 mod 4, and a 32-bit
     * branch landing on a compressed one. */
    __asm__ volatile(".option push\n.option norelax\n.balign 4\n"
                     "c.li %0, 1\n"
                     ".option norvc\n"
                     "addi %0, %0, 2\n"
                     "beq zero, zero, 1f\n"
                     "addi %0, %0, 64\n"
                     ".option rvc\n"
                     "1: c.addi %0, 4\n"
                     ".option norvc\n"
                     "lla t1, 2f\n"
                     "jalr zero, 0(t1)\n"
                     ".option rvc\n"
                     "c.nop\n"
                     ".option norvc\n"
                     "2: addi %0, %0, 8\n"
                     ".option pop"
                     : "=&r"(r) :: "t1");
    CHECKEQ(r, 15);
}

static void test_traps(void)
{
    ureg where;
    rt_trap_clear();
    __asm__ volatile(".option push\n.option norelax\n"
                     "lla %0, 1f\n1: c.ebreak\n.option pop" : "=r"(where));
    CHECK_MTRAP(EXC_BREAKPOINT);
    CHECKEQ(rt_mtrap.epc, where);
    rt_trap_clear();
    __asm__ volatile(".option push\n.option norelax\n"
                     "lla %0, 1f\n1: .2byte 0\n.option pop" : "=r"(where));
    CHECK_MTRAP(EXC_ILLEGAL);
    CHECKEQ(rt_mtrap.epc, where);
    CHECKEQ(rt_mtrap.tval, 0);
    rt_trap_clear();
}

int main(void)
{
    rt_trap_clear();
    test_alu();
    test_loadstore();
    test_sp_forms();
    test_control();
    CHECKEQ(rt_mtrap.count, 0);
    test_traps();
    return 0;
}
