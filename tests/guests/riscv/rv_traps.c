/* rv_traps: synchronous traps and privilege transitions.
 * ECALL from M / S / U (causes 11 / 9 / 8, mepc = the ecall, mtval = 0),
 * EBREAK, illegal instructions (mtval = the instruction bits: 32-bit and
 * 16-bit), privileged instructions from lower modes (MRET from S/U, SRET
 * from U, SRET with TSR, WFI from U and with TW, SFENCE.VMA / satp with
 * TVM), access faults for unmapped physical addresses, medeleg delegation
 * to S-mode with the S handler's view (scause/sepc/stval, SPP/SPIE/SIE),
 * non-delegation of traps taken in M, mstatus MPP/MPIE/MIE after traps and
 * MRET (MPP = U afterwards), SRET semantics,
 * vectored mtvec / stvec: exceptions use the base, interrupts base + 4*n.
 * (A misaligned fetch cannot happen with C: jumps clear bit 0 only.) */
#include "rt.h"

RT_TEST_NAME("rv_traps");

static ureg insn_at(ureg pc, int len)
{
    return len == 2 ? *(volatile uint16_t *)pc : *(volatile uint32_t *)pc;
}

/* Run `text` at label 1; return the label's address. */
#define AT(text) ({ ureg __pc; __asm__ volatile( \
    ".option push\n.option norelax\n.option norvc\nlla %0, 1f\n1: " text "\n.option pop" \
    : "=&r"(__pc) :: "memory"); __pc; })

static void test_m_traps(void)
{
    ureg pc;

    rt_trap_clear();
    pc = AT("ecall");
    CHECK_MTRAP(EXC_ECALL_M);
    CHECKEQ(rt_mtrap.epc, pc);
    CHECKEQ(rt_mtrap.tval, 0);
    CHECKEQ((rt_mtrap.status & MSTATUS_MPP) >> 11, PRV_M);

    rt_trap_clear();
    pc = AT("ebreak");
    CHECK_MTRAP(EXC_BREAKPOINT);
    CHECKEQ(rt_mtrap.epc, pc);

    /* Illegal instructions: mtval holds the encoding. */
    rt_trap_clear();
    pc = AT(".word 0x1234500b");                  /* custom-0: not implemented */
    CHECK_MTRAP(EXC_ILLEGAL);
    CHECKEQ(rt_mtrap.epc, pc);
    CHECKEQ(rt_mtrap.tval, 0x1234500b);
    rt_trap_clear();
    pc = AT(".word 0x00000073 | (0x7ff << 20)");   /* SYSTEM funct12 that is nothing */
    CHECK_MTRAP(EXC_ILLEGAL);
    CHECKEQ(rt_mtrap.tval, insn_at(pc, 4));
    rt_trap_clear();
    pc = AT(".word 0x02000033 | (1 << 25) | (7 << 12) | (0x7f << 25)"); /* OP funct7 0x7f */
    CHECK_MTRAP(EXC_ILLEGAL);
    CHECKEQ(rt_mtrap.tval, insn_at(pc, 4));
    rt_trap_clear();
    pc = AT(".word 0x00007003");                  /* LOAD funct3 = 7: reserved */
    CHECK_MTRAP(EXC_ILLEGAL);
    CHECKEQ(rt_mtrap.tval, 0x00007003);
#if !IS_RV64
    rt_trap_clear();
    pc = AT(".word 0x00053503");               /* ld is illegal on RV32 */
    CHECK_MTRAP(EXC_ILLEGAL);
    CHECKEQ(rt_mtrap.tval, 0x00053503);
    rt_trap_clear();
    pc = AT(".word 0x0005051b");                  /* addiw is illegal on RV32 */
    CHECK_MTRAP(EXC_ILLEGAL);
    CHECKEQ(rt_mtrap.tval, 0x0005051b);
#endif
    rt_trap_clear();
    pc = AT(".option rvc\n.2byte 0x0000");        /* 16-bit illegal */
    CHECK_MTRAP(EXC_ILLEGAL);
    CHECKEQ(rt_mtrap.epc, pc);
    CHECKEQ(rt_mtrap.tval, 0);
    rt_trap_clear();
}

/* Access faults on physical addresses with nothing behind them. */
#define HOLE 0x20000ul

static void test_access_faults(void)
{
    ureg v = 0;
    rt_trap_clear();
    __asm__ volatile("lw %0, 0(%1)" : "+r"(v) : "r"(HOLE) : "memory");
    CHECK_MTRAP(EXC_LOAD_ACCESS);
    CHECKEQ(rt_mtrap.tval, HOLE);
    rt_trap_clear();
    __asm__ volatile("sw %0, 8(%1)" :: "r"(v), "r"(HOLE) : "memory");
    CHECK_MTRAP(EXC_STORE_ACCESS);
    CHECKEQ(rt_mtrap.tval, HOLE + 8);
    rt_trap_clear();
    rt_recover = RT_RECOVER_RA;
    ((void (*)(void))HOLE)();
    CHECK_MTRAP(EXC_INSN_ACCESS);
    CHECKEQ(rt_mtrap.epc, HOLE);
    CHECKEQ(rt_mtrap.tval, HOLE);
    rt_trap_clear();
}

/* ---- lower modes ---- */
static ureg do_ecall(ureg arg)
{
    register ureg a0 __asm__("a0") = arg;
    register ureg a7 __asm__("a7") = 0;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a7) : "memory");
    return a0 + 1;
}

static ureg do_ebreak(ureg arg)
{
    __asm__ volatile("ebreak" ::: "memory");
    return arg;
}

static ureg do_illegal(ureg arg)
{
    __asm__ volatile(".word 0x1234500b" ::: "memory");
    return arg;
}

static ureg do_mret(ureg arg)
{
    __asm__ volatile("mret" ::: "memory");
    return arg;
}

static ureg do_sret(ureg arg)
{
    __asm__ volatile("sret" ::: "memory");
    return arg;
}

static ureg do_wfi(ureg arg)
{
    __asm__ volatile("wfi" ::: "memory");
    return arg;
}

static ureg do_sfence_satp(ureg arg)
{
    __asm__ volatile("sfence.vma" ::: "memory");
    (void)csr_read(satp);
    return arg;
}

static void test_lower_modes(void)
{
    /* ecall from S and U, not delegated. */
    rt_trap_clear();
    CHECKEQ(rt_call_in_mode(PRV_S, do_ecall, 41), 42);
    CHECK_MTRAP(EXC_ECALL_S);
    CHECKEQ(rt_mtrap.mode, PRV_S);
    CHECKEQ(rt_mtrap.tval, 0);
    CHECKEQ((rt_mtrap.status & MSTATUS_MPP) >> 11, PRV_S);
    rt_trap_clear();
    CHECKEQ(rt_call_in_mode(PRV_U, do_ecall, 41), 42);
    CHECK_MTRAP(EXC_ECALL_U);
    CHECKEQ((rt_mtrap.status & MSTATUS_MPP) >> 11, PRV_U);
    rt_trap_clear();
    rt_call_in_mode(PRV_U, do_ebreak, 0);
    CHECK_MTRAP(EXC_BREAKPOINT);
    rt_trap_clear();
    rt_call_in_mode(PRV_S, do_illegal, 0);
    CHECK_MTRAP(EXC_ILLEGAL);
    CHECKEQ(rt_mtrap.tval, 0x1234500b);

    /* Privileged instructions. */
    rt_trap_clear();
    rt_call_in_mode(PRV_S, do_mret, 0);
    CHECK_MTRAP(EXC_ILLEGAL);
    CHECKEQ(rt_mtrap.tval, 0x30200073);
    rt_trap_clear();
    rt_call_in_mode(PRV_U, do_mret, 0);
    CHECK_MTRAP(EXC_ILLEGAL);
    rt_trap_clear();
    rt_call_in_mode(PRV_U, do_sret, 0);
    CHECK_MTRAP(EXC_ILLEGAL);
    CHECKEQ(rt_mtrap.tval, 0x10200073);
    rt_trap_clear();
    rt_call_in_mode(PRV_U, do_wfi, 0);
    CHECK_MTRAP(EXC_ILLEGAL);
    CHECKEQ(rt_mtrap.tval, 0x10500073);
    rt_trap_clear();
    rt_call_in_mode(PRV_U, do_sfence_satp, 0);
    CHECKEQ(rt_mtrap.count, 2);
    CHECKEQ(rt_mtrap.cause, EXC_ILLEGAL);
    /* TSR: sret from S traps; TW: wfi from S traps; TVM: sfence.vma and
     * satp from S trap. */
    csr_set(mstatus, MSTATUS_TSR | MSTATUS_TW | MSTATUS_TVM);
    rt_trap_clear();
    rt_call_in_mode(PRV_S, do_sret, 0);
    CHECK_MTRAP(EXC_ILLEGAL);
    rt_trap_clear();
    rt_call_in_mode(PRV_S, do_wfi, 0);
    CHECK_MTRAP(EXC_ILLEGAL);
    rt_trap_clear();
    rt_call_in_mode(PRV_S, do_sfence_satp, 0);
    CHECKEQ(rt_mtrap.count, 2);
    CHECKEQ(rt_mtrap.cause, EXC_ILLEGAL);
    csr_clear(mstatus, MSTATUS_TSR | MSTATUS_TW | MSTATUS_TVM);
    /* Without them, sfence.vma and satp are fine in S. */
    rt_trap_clear();
    rt_call_in_mode(PRV_S, do_sfence_satp, 0);
    CHECKEQ(rt_mtrap.count, 0);
}

/* ---- delegation ---- */
static void test_delegation(void)
{
    csr_write(medeleg, (1u << EXC_ECALL_U) | (1u << EXC_ILLEGAL) | (1u << EXC_BREAKPOINT));
    csr_write(stvec, (ureg)rt_strap_entry);

    /* ecall from U -> S handler; SPP = 0 (U), SPIE = old SIE. */
    csr_set(mstatus, MSTATUS_SIE);      /* S interrupts on: none pending, no effect */
    csr_write(sie, 0);
    rt_trap_clear();
    CHECKEQ(rt_call_in_mode(PRV_U, do_ecall, 7), 8);
    CHECKEQ(rt_mtrap.count, 0);
    CHECK_STRAP(EXC_ECALL_U);
    CHECKEQ(rt_strap.tval, 0);
    CHECKEQ(rt_strap.status & MSTATUS_SPP, 0);
    CHECKEQ(rt_strap.status & MSTATUS_SPIE, MSTATUS_SPIE);
    CHECKEQ(rt_strap.status & MSTATUS_SIE, 0);
    csr_clear(mstatus, MSTATUS_SIE);

    /* Illegal in S with medeleg[2]: handled by S, SPP = 1. */
    rt_trap_clear();
    rt_call_in_mode(PRV_S, do_illegal, 0);
    CHECKEQ(rt_mtrap.count, 0);
    CHECK_STRAP(EXC_ILLEGAL);
    CHECKEQ(rt_strap.tval, 0x1234500b);
    CHECKEQ(rt_strap.status & MSTATUS_SPP, MSTATUS_SPP);
    CHECKEQ(rt_strap.status & MSTATUS_SPIE, 0);     /* SIE was 0 */
    CHECKEQ(rt_strap.mode, PRV_S);
    /* ecall from S is not delegated (bit 9 clear): M. */
    rt_trap_clear();
    rt_call_in_mode(PRV_S, do_ecall, 0);
    CHECK_MTRAP(EXC_ECALL_S);
    CHECKEQ(rt_strap.count, 0);
    /* Traps taken in M never go to S, whatever medeleg says. */
    rt_trap_clear();
    AT("ebreak");
    CHECK_MTRAP(EXC_BREAKPOINT);
    CHECKEQ(rt_strap.count, 0);
    rt_trap_clear();
    AT(".word 0x1234500b");
    CHECK_MTRAP(EXC_ILLEGAL);
    CHECKEQ(rt_strap.count, 0);
    /* A delegated breakpoint from U. */
    rt_trap_clear();
    rt_call_in_mode(PRV_U, do_ebreak, 0);
    CHECK_STRAP(EXC_BREAKPOINT);
    CHECKEQ(rt_mtrap.count, 0);
    csr_write(medeleg, 0);
    rt_trap_clear();
}

/* ---- mstatus stack bits ---- */
static ureg saw_status;
static int hook_status(rt_frame *f, ureg cause, ureg epc, ureg tval)
{
    (void)f; (void)tval;
    saw_status = csr_read(mstatus);
    csr_write(mepc, epc + 4);
    return cause == EXC_ECALL_M;
}

static ureg s_get_status_bits(ureg arg)
{
    (void)arg;
    return csr_read(sstatus) & (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP);
}

/* In S: set SPP = S, SPIE = 1, SIE = 0, SRET to the next instruction. */
static ureg s_sret_bits(ureg arg)
{
    ureg out;
    (void)arg;
    __asm__ volatile(".option push\n.option norelax\n"
                     "csrci sstatus, 2\n\t"
                     "li t0, 0x120\n\tcsrs sstatus, t0\n\t"
                     "lla t0, 1f\n\tcsrw sepc, t0\n\tsret\n"
                     "1: csrr %0, sstatus\n.option pop"
                     : "=r"(out) :: "t0", "memory");
    return out & (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP);
}

static void test_status_bits(void)
{
    /* Trap from M with MIE = 1, MPIE = 0. */
    csr_write(mie, 0);
    csr_clear(mstatus, MSTATUS_MPIE | MSTATUS_MPP);
    csr_set(mstatus, MSTATUS_MIE);
    rt_mhook = hook_status;
    rt_trap_clear();
    __asm__ volatile("ecall" ::: "memory");
    rt_mhook = 0;
    CHECKEQ(saw_status & (MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP),
            MSTATUS_MPIE | MSTATUS_MPP);
    /* After MRET (to M): MIE = 1 from MPIE, MPIE = 1, MPP = U. */
    ureg st = csr_read(mstatus);
    CHECKEQ(st & (MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP), MSTATUS_MIE | MSTATUS_MPIE);
    csr_clear(mstatus, MSTATUS_MIE);

    /* MRET to S with MPIE = 0: S sees SIE/SPIE/SPP as left (all 0).
     * (Priv 1.12 also clears MPRV on an MRET to S/U; QEMU 7.2 predates
     * that rule, so it is checked only with -DRT_STRICT_SPEC.) */
    csr_clear(mstatus, MSTATUS_MPIE);
    rt_trap_clear();
    CHECKEQ(rt_call_in_mode(PRV_S, s_get_status_bits, 0), 0);
    /* The return trap from S left MPP = S; the runtime MRETs to M. */
    CHECKEQ(rt_mtrap.count, 0);
#ifdef RT_STRICT_SPEC
    /* MRET to a mode below M clears MPRV (priv 1.12). */
    csr_set(mstatus, MSTATUS_MPRV);
    rt_call_in_mode(PRV_S, s_get_status_bits, 0);
    CHECKEQ(csr_read(mstatus) & MSTATUS_MPRV, 0);
    csr_clear(mstatus, MSTATUS_MPRV);
#endif

    /* SRET from S to S: SIE = SPIE, SPIE = 1, SPP = U. */
    csr_write(sie, 0);
    rt_trap_clear();
    CHECKEQ(rt_call_in_mode(PRV_S, s_sret_bits, 0), MSTATUS_SIE | MSTATUS_SPIE);
    CHECKEQ(rt_mtrap.count, 0);
    csr_clear(mstatus, MSTATUS_SIE | MSTATUS_SPIE);
}

/* ---- vectored mode ---- */
static void test_vectored(void)
{
    csr_write(mtvec, (ureg)rt_mvec_table | 1);
    CHECKEQ(csr_read(mtvec), (ureg)rt_mvec_table | 1);
    /* Exceptions go to the base. */
    rt_trap_clear();
    __asm__ volatile("ecall" ::: "memory");
    CHECK_MTRAP(EXC_ECALL_M);
    CHECKEQ(rt_mtrap.vec, RT_VEC_TABLE | 0);
    /* Machine software interrupt -> entry 3. */
    rt_trap_clear();
    MMIO32(RT_CLINT_MSIP) = 1;
    csr_write(mie, MIP_MSIP);
    csr_set(mstatus, MSTATUS_MIE);
    for (int i = 0; i < 1000 && !rt_mtrap.count; i++)
        __asm__ volatile("nop");
    csr_clear(mstatus, MSTATUS_MIE);
    MMIO32(RT_CLINT_MSIP) = 0;
    CHECK_MTRAP(CAUSE_INT | IRQ_MSI);
    CHECKEQ(rt_mtrap.vec, RT_VEC_TABLE | IRQ_MSI);
    /* Supervisor software interrupt (not delegated) -> entry 1 of mtvec. */
    rt_trap_clear();
    csr_write(mie, MIP_SSIP);
    csr_set(mip, MIP_SSIP);
    csr_set(mstatus, MSTATUS_MIE);
    for (int i = 0; i < 1000 && !rt_mtrap.count; i++)
        __asm__ volatile("nop");
    csr_clear(mstatus, MSTATUS_MIE);
    csr_clear(mip, MIP_SSIP);
    CHECK_MTRAP(CAUSE_INT | IRQ_SSI);
    CHECKEQ(rt_mtrap.vec, RT_VEC_TABLE | IRQ_SSI);
    csr_write(mtvec, (ureg)rt_mtrap_entry);

    /* stvec vectored: delegated SSIP taken in S at entry 1, exceptions at
     * the base. */
    csr_write(stvec, (ureg)rt_svec_table | 1);
    csr_write(mideleg, MIP_SSIP);
    csr_write(medeleg, 1u << EXC_ILLEGAL);
    rt_trap_clear();
    rt_call_in_mode(PRV_S, do_illegal, 0);
    CHECK_STRAP(EXC_ILLEGAL);
    CHECKEQ(rt_strap.vec, RT_VEC_TABLE | 0);
    rt_trap_clear();
    csr_write(mie, MIP_SSIP);           /* = sie.SSIE */
    csr_set(mip, MIP_SSIP);
    csr_set(mstatus, MSTATUS_SIE);
    rt_call_in_mode(PRV_S, do_ecall, 0);   /* pending at entry: taken in S first */
    csr_clear(mstatus, MSTATUS_SIE);
    csr_clear(mip, MIP_SSIP);
    CHECKEQ(rt_strap.count, 1);
    CHECKEQ(rt_strap.cause, CAUSE_INT | IRQ_SSI);
    CHECKEQ(rt_strap.vec, RT_VEC_TABLE | IRQ_SSI);
    CHECK_MTRAP(EXC_ECALL_S);
    csr_write(mie, 0);
    csr_write(mideleg, 0);
    csr_write(medeleg, 0);
    csr_write(stvec, (ureg)rt_strap_entry);
    rt_trap_clear();
}

int main(void)
{
    rt_trap_clear();
    test_m_traps();
    test_access_faults();
    test_lower_modes();
    test_delegation();
    test_status_bits();
    test_vectored();
    return 0;
}
