/* What record/replay logs and compares of a hart: PC and x1..x31 with every
 * event, and a hash of the whole architectural state at the end. */
#include <string.h>

#include "checkpoint/snap.h"
#include "targets/riscv/cpu.h"

const char *const riscv_reg_names[32] = {
    "pc", "x1 (ra)", "x2 (sp)", "x3 (gp)", "x4 (tp)", "x5 (t0)", "x6 (t1)",
    "x7 (t2)", "x8 (s0)", "x9 (s1)", "x10 (a0)", "x11 (a1)", "x12 (a2)",
    "x13 (a3)", "x14 (a4)", "x15 (a5)", "x16 (a6)", "x17 (a7)", "x18 (s2)",
    "x19 (s3)", "x20 (s4)", "x21 (s5)", "x22 (s6)", "x23 (s7)", "x24 (s8)",
    "x25 (s9)", "x26 (s10)", "x27 (s11)", "x28 (t3)", "x29 (t4)", "x30 (t5)",
    "x31 (t6)",
};

unsigned riscv_regs(void *opaque, uint64_t *out)
{
    const RiscvCPU *cpu = opaque;
    out[0] = cpu->pc;
    memcpy(out + 1, cpu->x + 1, 31 * sizeof(uint64_t));
    return 32;
}

void riscv_set_reg(void *opaque, unsigned idx, uint64_t val)
{
    RiscvCPU *cpu = opaque;
    if (idx == 0)
        cpu->pc = val;
    else if (idx < 32)
        cpu->x[idx] = val;
}

static uint64_t h64(uint64_t h, uint64_t v)
{
    h = (h ^ v) * 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 31);
}

uint64_t riscv_state_hash(void *opaque)
{
    const RiscvCPU *cpu = opaque;
    uint64_t h = 0x5249534356ull;
    h = h64(h, cpu->pc);
    for (int i = 1; i < 32; i++)
        h = h64(h, cpu->x[i]);
    for (int i = 0; i < 32; i++)
        h = h64(h, cpu->f[i]);
    const uint64_t csrs[] = {
        cpu->fflags, cpu->frm, (uint64_t)cpu->priv, cpu->misa, cpu->mstatus,
        cpu->medeleg, cpu->mideleg, cpu->mie, cpu->mip, cpu->mip_hw, cpu->mtvec,
        cpu->mscratch, cpu->mepc, cpu->mcause, cpu->mtval, cpu->mcounteren,
        cpu->mcountinhibit, cpu->menvcfg, cpu->stvec, cpu->sscratch, cpu->sepc,
        cpu->scause, cpu->stval, cpu->satp, cpu->scounteren, cpu->senvcfg,
        cpu->icount, cpu->brcount, cpu->mcycle_off, cpu->minstret_off,
    };
    for (size_t i = 0; i < sizeof(csrs) / sizeof(csrs[0]); i++)
        h = h64(h, csrs[i]);
    for (int i = 0; i < 16; i++)
        h = h64(h, cpu->pmpcfg[i]);
    for (int i = 0; i < 64; i++)
        h = h64(h, cpu->pmpaddr[i]);
    return h;
}

/* ---- snapshots (checkpoint/snap.h) ---- */

#define RV_SNAP_VERSION 1

/* The 64-bit CSRs and counters, in stream order: one list for save and
 * load. */
#define RV_SNAP_CSRS(c)                                                                   \
    &(c)->misa, &(c)->mstatus, &(c)->medeleg, &(c)->mideleg, &(c)->mie, &(c)->mip,        \
        &(c)->mtvec, &(c)->mscratch, &(c)->mepc, &(c)->mcause, &(c)->mtval,               \
        &(c)->mcounteren, &(c)->mcountinhibit, &(c)->menvcfg, &(c)->mhartid, &(c)->stvec, \
        &(c)->sscratch, &(c)->sepc, &(c)->scause, &(c)->stval, &(c)->satp,                \
        &(c)->scounteren, &(c)->senvcfg, &(c)->mcycle_off, &(c)->minstret_off, &(c)->mip_hw

void riscv_save(void *opaque, void *writer)
{
    const RiscvCPU *cpu = opaque;
    SnapWriter *w = writer;
    snap_put_u8(w, RV_SNAP_VERSION);
    snap_put_u8(w, (uint8_t)cpu->xlen);
    for (int i = 1; i < 32; i++)
        snap_put_u64(w, cpu->x[i]);
    snap_put_u64(w, cpu->pc);
    snap_put_u64(w, cpu->icount);
    snap_put_u64(w, cpu->brcount);
    for (int i = 0; i < 32; i++)
        snap_put_u64(w, cpu->f[i]);
    snap_put_u32(w, cpu->fflags);
    snap_put_u32(w, cpu->frm);
    snap_put_u8(w, (uint8_t)cpu->priv);
    snap_put_u64(w, cpu->resv_addr);
    const uint64_t *const csrs[] = { RV_SNAP_CSRS(cpu) };
    for (size_t i = 0; i < sizeof(csrs) / sizeof(csrs[0]); i++)
        snap_put_u64(w, *csrs[i]);
    for (int i = 0; i < 16; i++)
        snap_put_u64(w, cpu->pmpcfg[i]);
    for (int i = 0; i < 64; i++)
        snap_put_u64(w, cpu->pmpaddr[i]);
    snap_put_bool(w, cpu->wfi);
}

bool riscv_load(void *opaque, void *reader)
{
    RiscvCPU *cpu = opaque;
    SnapReader *r = reader;
    unsigned v = snap_get_u8(r);
    if (snap_reader_ok(r) && v != RV_SNAP_VERSION)
        return snap_reader_fail(r, "RISC-V CPU state version %u (this build reads %u)", v,
                                RV_SNAP_VERSION);
    unsigned xlen = snap_get_u8(r);
    if (snap_reader_ok(r) && (int)xlen != cpu->xlen)
        return snap_reader_fail(r, "saved from an RV%u hart, this machine is RV%d", xlen,
                                cpu->xlen);
    RiscvCPU t = *cpu;
    for (int i = 1; i < 32; i++)
        t.x[i] = snap_get_u64(r);
    t.pc = snap_get_u64(r);
    t.icount = snap_get_u64(r);
    t.brcount = snap_get_u64(r);
    for (int i = 0; i < 32; i++)
        t.f[i] = snap_get_u64(r);
    t.fflags = snap_get_u32(r) & 0x1f;
    t.frm = snap_get_u32(r) & 7;
    unsigned priv = snap_get_u8(r);
    if (snap_reader_ok(r) && priv != RV_PRIV_U && priv != RV_PRIV_S && priv != RV_PRIV_M)
        return snap_reader_fail(r, "privilege level %u", priv);
    t.priv = (int)priv;
    t.resv_addr = snap_get_u64(r);
    uint64_t *const csrs[] = { RV_SNAP_CSRS(&t) };
    for (size_t i = 0; i < sizeof(csrs) / sizeof(csrs[0]); i++)
        *csrs[i] = snap_get_u64(r);
    for (int i = 0; i < 16; i++)
        t.pmpcfg[i] = snap_get_u64(r);
    for (int i = 0; i < 64; i++)
        t.pmpaddr[i] = snap_get_u64(r);
    t.wfi = snap_get_bool(r);
    if (!snap_reader_ok(r))
        return false;
    if (t.misa != cpu->misa)
        return snap_reader_fail(r, "misa 0x%llx differs from this hart's 0x%llx",
                                (unsigned long long)t.misa, (unsigned long long)cpu->misa);
    *cpu = t;
    cpu->x[0] = 0;
    cpu->chain_end = 0;
    riscv_tlb_flush(cpu);
    riscv_code_flush(cpu);
    return true;
}
