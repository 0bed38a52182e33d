/* Trap entry and interrupt selection (privileged spec 1.12, 3.1.6-3.1.9).
 *
 * Traps change the privilege but flush nothing: the software TLB is
 * indexed by privilege, and the engine never caches MPRV-translated data
 * accesses, so neither the new priv nor the new MPP can make a cached entry
 * wrong.  A trap drops the LR reservation (the spec allows it, and it keeps
 * SC semantics independent of what a handler did). */
#include "targets/riscv/cpu.h"

/* Interrupts in the order they are taken within one target privilege. */
static const int irq_order[] = {
    RV_IRQ_MEIP, RV_IRQ_MSIP, RV_IRQ_MTIP,
    RV_IRQ_SEIP, RV_IRQ_SSIP, RV_IRQ_STIP,
};

static inline uint64_t xlen_mask(const RiscvCPU *cpu)
{
    return cpu->xlen == 32 ? 0xffffffffull : ~0ull;
}

uint64_t riscv_mip(const RiscvCPU *cpu)
{
    return cpu->mip | cpu->mip_hw;
}

bool riscv_wfi_wakeup(const RiscvCPU *cpu)
{
    return (riscv_mip(cpu) & cpu->mie) != 0;
}

void riscv_do_trap(RiscvCPU *cpu, uint64_t cause, bool interrupt, uint64_t tval)
{
    uint64_t mask = xlen_mask(cpu);
    uint64_t epc = cpu->pc & mask;
    uint64_t xcause = cause | (interrupt ? 1ull << (cpu->xlen - 1) : 0);
    uint64_t deleg = interrupt ? cpu->mideleg : cpu->medeleg;
    uint64_t tvec;
    int from = cpu->priv;

    cpu->resv_addr = ~0ull;
    tval &= mask;

    if (from <= RV_PRIV_S && cause < 64 && ((deleg >> cause) & 1)) {
        cpu->scause = xcause;
        cpu->sepc = epc;
        cpu->stval = tval;
        uint64_t s = cpu->mstatus & ~(RV_MSTATUS_SPIE | RV_MSTATUS_SIE | RV_MSTATUS_SPP);
        if (cpu->mstatus & RV_MSTATUS_SIE)
            s |= RV_MSTATUS_SPIE;
        if (from == RV_PRIV_S)
            s |= RV_MSTATUS_SPP;
        cpu->mstatus = s;
        cpu->priv = RV_PRIV_S;
        tvec = cpu->stvec;
    } else {
        cpu->mcause = xcause;
        cpu->mepc = epc;
        cpu->mtval = tval;
        uint64_t s = cpu->mstatus & ~(RV_MSTATUS_MPIE | RV_MSTATUS_MIE | RV_MSTATUS_MPP);
        if (cpu->mstatus & RV_MSTATUS_MIE)
            s |= RV_MSTATUS_MPIE;
        s |= (uint64_t)from << 11;
        cpu->mstatus = s;
        cpu->priv = RV_PRIV_M;
        tvec = cpu->mtvec;
    }

    uint64_t pc = tvec & ~3ull;
    if (interrupt && (tvec & 3) == 1)
        pc += 4 * cause;
    cpu->pc = pc & mask;
}

const RvInsn *riscv_raise(RiscvCPU *cpu, const RvInsn *in, uint64_t cause, uint64_t tval)
{
    /* The faulting instruction and the rest of its block do not retire. */
    cpu->icount -= in->rem + 1u;
    cpu->pc = in->pc;
    riscv_do_trap(cpu, cause, false, tval);
    return NULL;
}

/* The highest-priority interrupt that would be taken now, or -1. */
static int pending_irq(const RiscvCPU *cpu)
{
    uint64_t pending = riscv_mip(cpu) & cpu->mie;
    if (!pending)
        return -1;

    uint64_t m_ints = pending & ~cpu->mideleg;
    uint64_t s_ints = pending & cpu->mideleg;
    bool m_on = cpu->priv < RV_PRIV_M || (cpu->mstatus & RV_MSTATUS_MIE);
    /* Delegated interrupts are never taken in M-mode. */
    bool s_on = cpu->priv < RV_PRIV_S ||
                (cpu->priv == RV_PRIV_S && (cpu->mstatus & RV_MSTATUS_SIE));
    uint64_t take = (m_on ? m_ints : 0);
    if (!take)
        take = s_on ? s_ints : 0;
    if (!take)
        return -1;
    for (unsigned i = 0; i < sizeof(irq_order) / sizeof(irq_order[0]); i++)
        if (take & (1ull << irq_order[i]))
            return irq_order[i];
    /* A bit outside the standard set (none are writable today). */
    return __builtin_ctzll(take);
}

bool riscv_check_interrupts(RiscvCPU *cpu)
{
    int irq = pending_irq(cpu);
    if (irq < 0)
        return false;
    cpu->wfi = false;
    riscv_do_trap(cpu, (uint64_t)irq, true, 0);
    return true;
}
