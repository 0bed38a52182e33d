/* The SYSTEM opcode (0x73): ECALL, EBREAK, MRET, SRET, WFI, SFENCE.VMA and
 * Zicsr.  Every one of them ends its block, so each handler sets cpu->pc
 * and returns NULL (or raises).
 *
 * MRET and SRET change the privilege without a TLB flush: the TLB is
 * indexed by privilege and the engine does not cache MPRV-translated data
 * accesses, so clearing MPRV or rewriting MPP leaves no stale entry.  They
 * drop the LR reservation, as the spec permits.
 *
 * Illegal-instruction traps report the instruction bits in xtval (QEMU 7.2
 * does; OpenSBI's trap-based CSR probing relies only on the cause).
 * EBREAK reports tval 0, as QEMU 7.2. */
#include "targets/riscv/cpu.h"

#define SEXT32(v) ((uint64_t)(int64_t)(int32_t)(v))

static inline uint64_t next_pc(const RiscvCPU *cpu, const RvInsn *in)
{
    uint64_t pc = in->pc + in->len;
    return cpu->xlen == 32 ? (uint32_t)pc : pc;
}

static const RvInsn *illegal(RiscvCPU *cpu, const RvInsn *in)
{
    return riscv_raise(cpu, in, RV_EXC_ILLEGAL_INSN, in->raw);
}

static const RvInsn *sys_ecall(RiscvCPU *cpu, const RvInsn *in)
{
    /* 8, 9, 11 for U, S, M. */
    return riscv_raise(cpu, in, RV_EXC_ECALL_U + (uint64_t)cpu->priv, 0);
}

static const RvInsn *sys_ebreak(RiscvCPU *cpu, const RvInsn *in)
{
    return riscv_raise(cpu, in, RV_EXC_BREAKPOINT, 0);
}

static const RvInsn *sys_mret(RiscvCPU *cpu, const RvInsn *in)
{
    if (cpu->priv != RV_PRIV_M)
        return illegal(cpu, in);
    uint64_t s = cpu->mstatus;
    int to = (int)((s & RV_MSTATUS_MPP) >> 11);
    s &= ~(RV_MSTATUS_MIE | RV_MSTATUS_MPP);
    if (s & RV_MSTATUS_MPIE)
        s |= RV_MSTATUS_MIE;
    s |= RV_MSTATUS_MPIE;
    /* MPP becomes U, the least-privileged mode; leaving M clears MPRV. */
    if (to != RV_PRIV_M)
        s &= ~RV_MSTATUS_MPRV;
    cpu->mstatus = s;
    cpu->priv = to;
    cpu->resv_addr = ~0ull;
    cpu->pc = cpu->mepc & (cpu->xlen == 32 ? 0xffffffffull : ~0ull);
    return NULL;
}

static const RvInsn *sys_sret(RiscvCPU *cpu, const RvInsn *in)
{
    if (cpu->priv == RV_PRIV_U ||
        (cpu->priv == RV_PRIV_S && (cpu->mstatus & RV_MSTATUS_TSR)))
        return illegal(cpu, in);
    uint64_t s = cpu->mstatus;
    int to = (s & RV_MSTATUS_SPP) ? RV_PRIV_S : RV_PRIV_U;
    s &= ~(RV_MSTATUS_SIE | RV_MSTATUS_SPP | RV_MSTATUS_MPRV);
    if (s & RV_MSTATUS_SPIE)
        s |= RV_MSTATUS_SIE;
    s |= RV_MSTATUS_SPIE;
    cpu->mstatus = s;
    cpu->priv = to;
    cpu->resv_addr = ~0ull;
    cpu->pc = cpu->sepc & (cpu->xlen == 32 ? 0xffffffffull : ~0ull);
    return NULL;
}

/* WFI is illegal in S with TW, and in U always: the spec lets a
 * less-privileged WFI trap after an implementation-defined time, which may
 * be zero, and QEMU 7.2 does so in U whenever S-mode exists. */
static const RvInsn *sys_wfi(RiscvCPU *cpu, const RvInsn *in)
{
    if (cpu->priv == RV_PRIV_U ||
        (cpu->priv < RV_PRIV_M && (cpu->mstatus & RV_MSTATUS_TW)))
        return illegal(cpu, in);
    if (!riscv_wfi_wakeup(cpu))
        cpu->wfi = true;
    cpu->pc = next_pc(cpu, in);
    return NULL;
}

/* The TLB carries no ASIDs: every SFENCE.VMA drops everything. */
static const RvInsn *sys_sfence_vma(RiscvCPU *cpu, const RvInsn *in)
{
    if (cpu->priv == RV_PRIV_U ||
        (cpu->priv == RV_PRIV_S && (cpu->mstatus & RV_MSTATUS_TVM)))
        return illegal(cpu, in);
    riscv_tlb_flush(cpu);
    cpu->pc = next_pc(cpu, in);
    return NULL;
}

/* ---- Zicsr ---- */

static const RvInsn *csr_op(RiscvCPU *cpu, const RvInsn *in, uint64_t val,
                            uint64_t mask, bool write)
{
    uint64_t old;
    if (riscv_csr_rw(cpu, in, in->csr, &old, val, mask, write))
        return illegal(cpu, in);
    cpu->x[in->rd] = cpu->xlen == 32 ? SEXT32(old) : old;
    cpu->pc = next_pc(cpu, in);
    return NULL;
}

/* CSRRS/CSRRC with rs1 = x0 (or uimm = 0) do not write, so read-only CSRs
 * are fine; CSRRW always writes. */
static const RvInsn *sys_csrrw(RiscvCPU *cpu, const RvInsn *in)
{
    return csr_op(cpu, in, cpu->x[in->rs1], ~0ull, true);
}

static const RvInsn *sys_csrrs(RiscvCPU *cpu, const RvInsn *in)
{
    return csr_op(cpu, in, ~0ull, cpu->x[in->rs1], in->rs1 != 0);
}

static const RvInsn *sys_csrrc(RiscvCPU *cpu, const RvInsn *in)
{
    return csr_op(cpu, in, 0, cpu->x[in->rs1], in->rs1 != 0);
}

static const RvInsn *sys_csrrwi(RiscvCPU *cpu, const RvInsn *in)
{
    return csr_op(cpu, in, (uint64_t)in->imm, ~0ull, true);
}

static const RvInsn *sys_csrrsi(RiscvCPU *cpu, const RvInsn *in)
{
    return csr_op(cpu, in, ~0ull, (uint64_t)in->imm, in->imm != 0);
}

static const RvInsn *sys_csrrci(RiscvCPU *cpu, const RvInsn *in)
{
    return csr_op(cpu, in, 0, (uint64_t)in->imm, in->imm != 0);
}

/* ---- decoder ---- */

static const struct {
    uint32_t raw;
    RvHandler *fn;
} fixed_insns[] = {
    { 0x00000073, sys_ecall },
    { 0x00100073, sys_ebreak },
    { 0x30200073, sys_mret },
    { 0x10200073, sys_sret },
    { 0x10500073, sys_wfi },
};

static RvHandler *const csr_handlers[8] = {
    [1] = sys_csrrw, [2] = sys_csrrs, [3] = sys_csrrc,
    [5] = sys_csrrwi, [6] = sys_csrrsi, [7] = sys_csrrci,
};

bool riscv_decode_system(RvInsn *out, uint32_t raw, int xlen)
{
    unsigned funct3 = (raw >> 12) & 7;
    unsigned rd = (raw >> 7) & 31, rs1 = (raw >> 15) & 31;

    out->raw = raw;
    if (funct3 == 0) {
        for (unsigned i = 0; i < sizeof(fixed_insns) / sizeof(fixed_insns[0]); i++) {
            if (raw == fixed_insns[i].raw) {
                out->fn = fixed_insns[i].fn;
                return true;
            }
        }
        /* SFENCE.VMA rs1, rs2 */
        if ((raw >> 25) == 0x09 && rd == 0) {
            out->fn = sys_sfence_vma;
            out->rs1 = (uint8_t)rs1;
            out->rs2 = (uint8_t)((raw >> 20) & 31);
            return true;
        }
        return false;
    }
    if (!csr_handlers[funct3])
        return false;
    out->fn = csr_handlers[funct3];
    out->csr = (uint16_t)(raw >> 20);
    out->rd = rd ? (uint8_t)rd : RV_SINK;
    out->rs1 = (uint8_t)rs1;
    out->imm = rs1;            /* uimm for the immediate forms */
    return true;
}
