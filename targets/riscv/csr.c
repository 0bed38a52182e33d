/* Control and status registers (Zicsr, privileged spec 1.12).
 *
 * The model is QEMU 7.2's `-cpu rv64,h=false` (or rv32) with the choices
 * below where the spec leaves one; each was checked against QEMU 7.2 with a
 * bare-metal probe unless it says otherwise.
 *
 * - misa is read-only: RV64/RV32 IMAFDCSU.  mvendorid, marchid, mimpid and
 *   mconfigptr read 0.
 * - mstatus is kept in the RV64 layout; SD is derived on read.  UXL/SXL are
 *   2 on RV64.  UBE/SBE/MBE, XS, VS, MPV/GVA read 0 (QEMU lets VS and
 *   MPV/GVA be written and breaks UXL on sstatus writes; we do not).  MPP=2
 *   keeps the old MPP (QEMU stores 2; the spec says WARL).  RV32 mstatush
 *   reads 0.
 * - medeleg: every defined synchronous cause except ecall-from-M (spec
 *   1.12; QEMU also lets bit 11 be set).  mideleg, sip, sie: SSIP STIP
 *   SEIP.  mip: SSIP STIP SEIP writable from M; sip: SSIP.  Reads OR in the
 *   device lines (mip_hw); read-modify-writes start from the software bits.
 * - mtvec/stvec: a write with MODE >= 2 is ignored (as QEMU).
 * - mepc/sepc: bit 0 reads 0 (C is always on, so bit 1 is kept).
 * - mcounteren/scounteren: 32 bits.  mcountinhibit: CY and IR only (the
 *   hpm counters are hardwired to 0).  menvcfg/senvcfg: FIOM only; RV32
 *   menvcfgh reads 0.
 * - satp: Bare/Sv39/Sv48 on RV64 (Sv57 and others are ignored writes),
 *   Bare/Sv32 on RV32; ASID is 16 (RV64) / 9 (RV32) bits.
 * - pmpcfg0..3 (RV32) / pmpcfg0, pmpcfg2 (RV64), pmpaddr0..15; the other PMP
 *   CSRs are illegal, as in QEMU 7.2 (see pmp.c).
 * - mcycle, minstret count retired instructions (see the cpu.h offsets);
 *   mhpmcounter3..31 and mhpmevent3..31 read 0 and ignore writes, so
 *   firmware finds no programmable counters.  hpmcounterN obey the
 *   counter-enable bits and read 0.  time needs the board's timer.
 * - stimecmp (no Sstc), mtinst/mtval2 (no H), mseccfg, the trigger and
 *   debug CSRs: illegal.
 *
 * Nothing here flushes on a privilege change; writes that change
 * translation (satp, SUM, MXR, MPRV, MPP, PMP) flush the TLB.  Every CSR
 * instruction ends its block, so changes to interrupt enables are seen by
 * the engine's interrupt check before the next instruction. */
#include "targets/riscv/cpu.h"

enum {
    CSR_FFLAGS = 0x001, CSR_FRM = 0x002, CSR_FCSR = 0x003,
    CSR_SSTATUS = 0x100, CSR_SIE = 0x104, CSR_STVEC = 0x105,
    CSR_SCOUNTEREN = 0x106, CSR_SENVCFG = 0x10a,
    CSR_SSCRATCH = 0x140, CSR_SEPC = 0x141, CSR_SCAUSE = 0x142,
    CSR_STVAL = 0x143, CSR_SIP = 0x144, CSR_SATP = 0x180,
    CSR_MSTATUS = 0x300, CSR_MISA = 0x301, CSR_MEDELEG = 0x302,
    CSR_MIDELEG = 0x303, CSR_MIE = 0x304, CSR_MTVEC = 0x305,
    CSR_MCOUNTEREN = 0x306, CSR_MENVCFG = 0x30a, CSR_MSTATUSH = 0x310,
    CSR_MENVCFGH = 0x31a, CSR_MCOUNTINHIBIT = 0x320,
    CSR_MHPMEVENT3 = 0x323, CSR_MHPMEVENT31 = 0x33f,
    CSR_MSCRATCH = 0x340, CSR_MEPC = 0x341, CSR_MCAUSE = 0x342,
    CSR_MTVAL = 0x343, CSR_MIP = 0x344,
    CSR_PMPCFG0 = 0x3a0, CSR_PMPCFG15 = 0x3af,
    CSR_PMPADDR0 = 0x3b0, CSR_PMPADDR63 = 0x3ef,
    CSR_MCYCLE = 0xb00, CSR_MHPMCOUNTER31 = 0xb1f,
    CSR_MCYCLEH = 0xb80, CSR_MHPMCOUNTER31H = 0xb9f,
    CSR_CYCLE = 0xc00, CSR_HPMCOUNTER31 = 0xc1f,
    CSR_CYCLEH = 0xc80, CSR_HPMCOUNTER31H = 0xc9f,
    CSR_MVENDORID = 0xf11, CSR_MARCHID = 0xf12, CSR_MIMPID = 0xf13,
    CSR_MHARTID = 0xf14, CSR_MCONFIGPTR = 0xf15,
};

/* Counter indexes = bit positions in mcounteren and mcountinhibit. */
enum { CNT_CY = 0, CNT_TM = 1, CNT_IR = 2 };

#define MSTATUS_WRITABLE                                                     \
    (RV_MSTATUS_SIE | RV_MSTATUS_MIE | RV_MSTATUS_SPIE | RV_MSTATUS_MPIE |   \
     RV_MSTATUS_SPP | RV_MSTATUS_MPP | RV_MSTATUS_FS | RV_MSTATUS_MPRV |     \
     RV_MSTATUS_SUM | RV_MSTATUS_MXR | RV_MSTATUS_TVM | RV_MSTATUS_TW |      \
     RV_MSTATUS_TSR)
#define SSTATUS_WRITABLE                                                     \
    (RV_MSTATUS_SIE | RV_MSTATUS_SPIE | RV_MSTATUS_SPP | RV_MSTATUS_FS |     \
     RV_MSTATUS_SUM | RV_MSTATUS_MXR)
#define SSTATUS_VISIBLE                                                      \
    (SSTATUS_WRITABLE | RV_MSTATUS_UBE | RV_MSTATUS_XS | RV_MSTATUS_UXL)
/* Changing these changes what a cached translation would return. */
#define MSTATUS_XLATE \
    (RV_MSTATUS_SUM | RV_MSTATUS_MXR | RV_MSTATUS_MPRV | RV_MSTATUS_MPP)

#define S_INTS ((1ull << RV_IRQ_SSIP) | (1ull << RV_IRQ_STIP) | (1ull << RV_IRQ_SEIP))
#define M_INTS ((1ull << RV_IRQ_MSIP) | (1ull << RV_IRQ_MTIP) | (1ull << RV_IRQ_MEIP))
#define SIP_WRITABLE (1ull << RV_IRQ_SSIP)

/* Causes 0-9, 12, 13, 15: everything defined except ecall from M. */
#define MEDELEG_WRITABLE 0xb3ffull
#define MCOUNTINHIBIT_WRITABLE ((1ull << CNT_CY) | (1ull << CNT_IR))
#define ENVCFG_FIOM 1ull

#define ISA_BIT(c) (1ull << ((c) - 'A'))
#define MISA_EXT                                                             \
    (ISA_BIT('I') | ISA_BIT('M') | ISA_BIT('A') | ISA_BIT('F') |             \
     ISA_BIT('D') | ISA_BIT('C') | ISA_BIT('S') | ISA_BIT('U'))

#define SATP64_MODE_SHIFT 60

enum { CSR_OK = 0, CSR_ILLEGAL = RV_EXC_ILLEGAL_INSN };

static inline uint64_t xlen_mask(const RiscvCPU *cpu)
{
    return cpu->xlen == 32 ? 0xffffffffull : ~0ull;
}

/* ---- counters ---- */

/* Instructions retired before `in` (in == NULL: a debugger access between
 * instructions). */
static uint64_t icount_now(const RiscvCPU *cpu, const RvInsn *in)
{
    return in ? riscv_icount_at(cpu, in) : cpu->icount;
}

/* The count the instruction after `in` starts from: a CSR write to a
 * counter is what the next instruction reads (spec 3.3.1). */
static uint64_t icount_next(const RiscvCPU *cpu, const RvInsn *in)
{
    return in ? riscv_icount_at(cpu, in) + 1 : cpu->icount;
}

static uint64_t *counter_off(RiscvCPU *cpu, unsigned idx)
{
    return idx == CNT_CY ? &cpu->mcycle_off : &cpu->minstret_off;
}

static uint64_t counter_read(RiscvCPU *cpu, const RvInsn *in, unsigned idx)
{
    uint64_t off = *counter_off(cpu, idx);
    if (cpu->mcountinhibit & (1ull << idx))
        return off;
    return icount_now(cpu, in) + off;
}

/* Value the next instruction sees if nothing writes the counter. */
static uint64_t counter_next(RiscvCPU *cpu, const RvInsn *in, unsigned idx)
{
    uint64_t off = *counter_off(cpu, idx);
    if (cpu->mcountinhibit & (1ull << idx))
        return off;
    return icount_next(cpu, in) + off;
}

static void counter_write(RiscvCPU *cpu, const RvInsn *in, unsigned idx, uint64_t val)
{
    uint64_t *off = counter_off(cpu, idx);
    if (cpu->mcountinhibit & (1ull << idx))
        *off = val;
    else
        *off = val - icount_next(cpu, in);
}

static void mcountinhibit_write(RiscvCPU *cpu, const RvInsn *in, uint64_t val)
{
    static const unsigned idxs[] = { CNT_CY, CNT_IR };
    uint64_t old = cpu->mcountinhibit;
    val &= MCOUNTINHIBIT_WRITABLE;
    for (unsigned k = 0; k < 2; k++) {
        uint64_t bit = 1ull << idxs[k];
        uint64_t *off = counter_off(cpu, idxs[k]);
        if (!(old & bit) && (val & bit))
            *off += icount_next(cpu, in);       /* freeze */
        else if ((old & bit) && !(val & bit))
            *off -= icount_next(cpu, in);       /* resume */
    }
    cpu->mcountinhibit = val;
}

static uint64_t read_time(RiscvCPU *cpu, const RvInsn *in)
{
    /* The timer sees the exact count, as for an MMIO read. */
    uint64_t ahead = in ? in->rem + 1u : 0;
    cpu->icount -= ahead;
    uint64_t t = cpu->rdtime(cpu->rdtime_opaque);
    cpu->icount += ahead;
    return t;
}

static bool counter_enabled(const RiscvCPU *cpu, unsigned idx)
{
    if (cpu->priv == RV_PRIV_M)
        return true;
    if (!((cpu->mcounteren >> idx) & 1))
        return false;
    return cpu->priv == RV_PRIV_S || ((cpu->scounteren >> idx) & 1);
}

/* cycle/time/instret/hpmcounterN and their RV32 high halves. */
static int user_counter_read(RiscvCPU *cpu, const RvInsn *in, unsigned csr,
                             uint64_t *v)
{
    unsigned idx = csr & 0x1f;
    bool high = csr >= CSR_CYCLEH;
    uint64_t c = 0;
    if (!counter_enabled(cpu, idx))
        return CSR_ILLEGAL;
    if (idx == CNT_TM) {
        if (!cpu->rdtime)
            return CSR_ILLEGAL;
        c = read_time(cpu, in);
    } else if (idx == CNT_CY || idx == CNT_IR) {
        c = counter_read(cpu, in, idx);
    }
    *v = high ? c >> 32 : c;
    return CSR_OK;
}

/* mcycle/minstret/mhpmcounterN (+h): 0xb01/0xb81 do not exist. */
static int machine_counter(RiscvCPU *cpu, const RvInsn *in, unsigned csr,
                           uint64_t *v, bool write, uint64_t nv)
{
    unsigned idx = csr & 0x1f;
    bool high = csr >= CSR_MCYCLEH;
    if (idx == CNT_TM)
        return CSR_ILLEGAL;
    if (idx != CNT_CY && idx != CNT_IR) {
        *v = 0;
        return CSR_OK;
    }
    if (!write) {
        uint64_t c = counter_read(cpu, in, idx);
        *v = high ? c >> 32 : c;
        return CSR_OK;
    }
    uint64_t cur = counter_next(cpu, in, idx);
    if (cpu->xlen == 32) {
        nv &= 0xffffffffull;
        nv = high ? (nv << 32) | (cur & 0xffffffffull)
                  : (cur & ~0xffffffffull) | nv;
    }
    counter_write(cpu, in, idx, nv);
    return CSR_OK;
}

/* ---- mstatus and friends ---- */

static uint64_t status_read(const RiscvCPU *cpu, uint64_t visible)
{
    uint64_t s = cpu->mstatus & visible;
    bool sd = (cpu->mstatus & RV_MSTATUS_FS) == RV_MSTATUS_FS ||
              (cpu->mstatus & RV_MSTATUS_XS) == RV_MSTATUS_XS;
    if (cpu->xlen == 32)
        return (s & 0xffffffffull) | (sd ? RV_MSTATUS_SD32 : 0);
    return s | (sd ? RV_MSTATUS_SD64 : 0);
}

static void status_write(RiscvCPU *cpu, uint64_t val, uint64_t writable)
{
    uint64_t old = cpu->mstatus;
    uint64_t s = (old & ~writable) | (val & writable);
    if (((s & RV_MSTATUS_MPP) >> 11) == 2)
        s = (s & ~RV_MSTATUS_MPP) | (old & RV_MSTATUS_MPP);
    cpu->mstatus = s;
    if ((old ^ s) & MSTATUS_XLATE)
        riscv_tlb_flush(cpu);
}

static uint64_t misa_value(const RiscvCPU *cpu)
{
    return cpu->xlen == 32 ? (1ull << 30) | MISA_EXT : (2ull << 62) | MISA_EXT;
}

static bool satp_mode_ok(const RiscvCPU *cpu, uint64_t val)
{
    if (cpu->xlen == 32)
        return true;        /* one bit: Bare or Sv32 */
    uint64_t mode = val >> SATP64_MODE_SHIFT;
    return mode == 0 || mode == 8 || mode == 9;
}

static void satp_write(RiscvCPU *cpu, uint64_t val)
{
    if (!satp_mode_ok(cpu, val))
        return;
    if (cpu->satp != val) {
        cpu->satp = val;
        riscv_tlb_flush(cpu);
    }
}

static void tvec_write(uint64_t *tvec, uint64_t val)
{
    if ((val & 3) < 2)
        *tvec = val;
}

/* ---- the register file ---- */

/* Read csr into *v (not yet truncated to XLEN), or refuse it: unknown,
 * absent at this XLEN, or guarded (FS off, TVM, counter enables). */
static int csr_read(RiscvCPU *cpu, const RvInsn *in, unsigned csr, uint64_t *v)
{
    bool rv32 = cpu->xlen == 32;

    if ((csr >= CSR_CYCLE && csr <= CSR_HPMCOUNTER31) ||
        (rv32 && csr >= CSR_CYCLEH && csr <= CSR_HPMCOUNTER31H))
        return user_counter_read(cpu, in, csr, v);
    if ((csr >= CSR_MCYCLE && csr <= CSR_MHPMCOUNTER31) ||
        (rv32 && csr >= CSR_MCYCLEH && csr <= CSR_MHPMCOUNTER31H))
        return machine_counter(cpu, in, csr, v, false, 0);
    if (csr >= CSR_MHPMEVENT3 && csr <= CSR_MHPMEVENT31) {
        *v = 0;
        return CSR_OK;
    }
    if (csr >= CSR_PMPCFG0 && csr <= CSR_PMPCFG15) {
        unsigned n = csr - CSR_PMPCFG0;
        if (n >= 4 || (!rv32 && (n & 1)))
            return CSR_ILLEGAL;
        *v = riscv_pmpcfg_read(cpu, n);
        return CSR_OK;
    }
    if (csr >= CSR_PMPADDR0 && csr <= CSR_PMPADDR63) {
        unsigned n = csr - CSR_PMPADDR0;
        if (n >= 16)
            return CSR_ILLEGAL;
        *v = riscv_pmpaddr_read(cpu, n);
        return CSR_OK;
    }

    switch (csr) {
    case CSR_FFLAGS: case CSR_FRM: case CSR_FCSR:
        if (riscv_fs_off(cpu))
            return CSR_ILLEGAL;
        *v = csr == CSR_FFLAGS ? (cpu->fflags & 0x1f)
           : csr == CSR_FRM ? (cpu->frm & 7)
           : ((cpu->frm & 7) << 5) | (cpu->fflags & 0x1f);
        return CSR_OK;

    case CSR_SSTATUS: *v = status_read(cpu, SSTATUS_VISIBLE); return CSR_OK;
    case CSR_SIE: *v = cpu->mie & cpu->mideleg & S_INTS; return CSR_OK;
    case CSR_STVEC: *v = cpu->stvec; return CSR_OK;
    case CSR_SCOUNTEREN: *v = cpu->scounteren; return CSR_OK;
    case CSR_SENVCFG: *v = cpu->senvcfg; return CSR_OK;
    case CSR_SSCRATCH: *v = cpu->sscratch; return CSR_OK;
    case CSR_SEPC: *v = cpu->sepc; return CSR_OK;
    case CSR_SCAUSE: *v = cpu->scause; return CSR_OK;
    case CSR_STVAL: *v = cpu->stval; return CSR_OK;
    case CSR_SIP: *v = riscv_mip(cpu) & cpu->mideleg & S_INTS; return CSR_OK;
    case CSR_SATP:
        if (cpu->priv == RV_PRIV_S && (cpu->mstatus & RV_MSTATUS_TVM))
            return CSR_ILLEGAL;
        *v = cpu->satp;
        return CSR_OK;

    case CSR_MSTATUS: *v = status_read(cpu, ~0ull); return CSR_OK;
    case CSR_MISA: *v = misa_value(cpu); return CSR_OK;
    case CSR_MEDELEG: *v = cpu->medeleg; return CSR_OK;
    case CSR_MIDELEG: *v = cpu->mideleg; return CSR_OK;
    case CSR_MIE: *v = cpu->mie; return CSR_OK;
    case CSR_MTVEC: *v = cpu->mtvec; return CSR_OK;
    case CSR_MCOUNTEREN: *v = cpu->mcounteren; return CSR_OK;
    case CSR_MENVCFG: *v = cpu->menvcfg; return CSR_OK;
    case CSR_MCOUNTINHIBIT: *v = cpu->mcountinhibit; return CSR_OK;
    case CSR_MSCRATCH: *v = cpu->mscratch; return CSR_OK;
    case CSR_MEPC: *v = cpu->mepc; return CSR_OK;
    case CSR_MCAUSE: *v = cpu->mcause; return CSR_OK;
    case CSR_MTVAL: *v = cpu->mtval; return CSR_OK;
    case CSR_MIP: *v = riscv_mip(cpu); return CSR_OK;
    case CSR_MSTATUSH: case CSR_MENVCFGH:
        if (!rv32)
            return CSR_ILLEGAL;
        *v = 0;
        return CSR_OK;

    case CSR_MVENDORID: case CSR_MARCHID: case CSR_MIMPID: case CSR_MCONFIGPTR:
        *v = 0;
        return CSR_OK;
    case CSR_MHARTID: *v = cpu->mhartid; return CSR_OK;
    default:
        return CSR_ILLEGAL;
    }
}

/* Write the new value of csr (already merged with the old one).  The CSR
 * exists and is writable at this privilege: csr_read accepted it. */
static void csr_write(RiscvCPU *cpu, const RvInsn *in, unsigned csr, uint64_t v)
{
    bool rv32 = cpu->xlen == 32;
    uint64_t xm = xlen_mask(cpu);

    if ((csr >= CSR_MCYCLE && csr <= CSR_MHPMCOUNTER31) ||
        (rv32 && csr >= CSR_MCYCLEH && csr <= CSR_MHPMCOUNTER31H)) {
        uint64_t ignored;
        machine_counter(cpu, in, csr, &ignored, true, v);
        return;
    }
    if (csr >= CSR_PMPCFG0 && csr <= CSR_PMPCFG15) {
        riscv_pmpcfg_write(cpu, csr - CSR_PMPCFG0, v);
        return;
    }
    if (csr >= CSR_PMPADDR0 && csr <= CSR_PMPADDR63) {
        riscv_pmpaddr_write(cpu, csr - CSR_PMPADDR0, v);
        return;
    }

    switch (csr) {
    case CSR_FFLAGS:
        cpu->fflags = (uint32_t)v & 0x1f;
        riscv_fs_dirty(cpu);
        break;
    case CSR_FRM:
        cpu->frm = (uint32_t)v & 7;
        riscv_fs_dirty(cpu);
        break;
    case CSR_FCSR:
        cpu->fflags = (uint32_t)v & 0x1f;
        cpu->frm = (uint32_t)(v >> 5) & 7;
        riscv_fs_dirty(cpu);
        break;

    case CSR_SSTATUS: status_write(cpu, v, SSTATUS_WRITABLE); break;
    case CSR_SIE: {
        uint64_t w = cpu->mideleg & S_INTS;
        cpu->mie = (cpu->mie & ~w) | (v & w);
        break;
    }
    case CSR_STVEC: tvec_write(&cpu->stvec, v & xm); break;
    case CSR_SCOUNTEREN: cpu->scounteren = v & 0xffffffffull; break;
    case CSR_SENVCFG: cpu->senvcfg = v & ENVCFG_FIOM; break;
    case CSR_SSCRATCH: cpu->sscratch = v & xm; break;
    case CSR_SEPC: cpu->sepc = v & xm & ~1ull; break;
    case CSR_SCAUSE: cpu->scause = v & xm; break;
    case CSR_STVAL: cpu->stval = v & xm; break;
    case CSR_SIP: {
        uint64_t w = cpu->mideleg & SIP_WRITABLE;
        cpu->mip = (cpu->mip & ~w) | (v & w);
        break;
    }
    case CSR_SATP: satp_write(cpu, v & xm); break;

    case CSR_MSTATUS: status_write(cpu, v, MSTATUS_WRITABLE); break;
    case CSR_MEDELEG: cpu->medeleg = v & MEDELEG_WRITABLE; break;
    case CSR_MIDELEG: cpu->mideleg = v & S_INTS; break;
    case CSR_MIE: cpu->mie = v & (S_INTS | M_INTS); break;
    case CSR_MTVEC: tvec_write(&cpu->mtvec, v & xm); break;
    case CSR_MCOUNTEREN: cpu->mcounteren = v & 0xffffffffull; break;
    case CSR_MENVCFG: cpu->menvcfg = v & ENVCFG_FIOM; break;
    case CSR_MCOUNTINHIBIT: mcountinhibit_write(cpu, in, v); break;
    case CSR_MSCRATCH: cpu->mscratch = v & xm; break;
    case CSR_MEPC: cpu->mepc = v & xm & ~1ull; break;
    case CSR_MCAUSE: cpu->mcause = v & xm; break;
    case CSR_MTVAL: cpu->mtval = v & xm; break;
    case CSR_MIP: cpu->mip = (cpu->mip & ~S_INTS) | (v & S_INTS); break;
    default:
        /* misa, mstatush, menvcfgh, mhpmevent: read-only or WARL zero. */
        break;
    }
}

int riscv_csr_rw(RiscvCPU *cpu, const RvInsn *in, unsigned csr, uint64_t *old,
                 uint64_t val, uint64_t mask, bool write)
{
    uint64_t xm = xlen_mask(cpu);
    uint64_t v = 0;

    csr &= 0xfff;
    if ((int)((csr >> 8) & 3) > cpu->priv)
        return RV_EXC_ILLEGAL_INSN;
    if (write && (csr >> 10) == 3)
        return RV_EXC_ILLEGAL_INSN;
    int r = csr_read(cpu, in, csr, &v);
    if (r)
        return r;
    v &= xm;
    if (write) {
        /* The modify starts from the software-written interrupt bits, not
         * from what the devices currently assert (spec 3.1.9). */
        uint64_t base = v;
        if (csr == CSR_MIP)
            base = cpu->mip & xm;
        else if (csr == CSR_SIP)
            base = cpu->mip & cpu->mideleg & S_INTS;
        csr_write(cpu, in, csr, (base & ~(mask & xm)) | (val & mask & xm));
    }
    *old = v;
    return 0;
}

void riscv_csr_reset(RiscvCPU *cpu)
{
    cpu->misa = misa_value(cpu);
    cpu->mstatus = cpu->xlen == 64 ? (2ull << 32) | (2ull << 34) : 0;
    cpu->medeleg = cpu->mideleg = 0;
    cpu->mie = cpu->mip = 0;
    cpu->mtvec = cpu->mscratch = cpu->mepc = cpu->mcause = cpu->mtval = 0;
    cpu->mcounteren = cpu->mcountinhibit = cpu->menvcfg = 0;
    cpu->stvec = cpu->sscratch = cpu->sepc = cpu->scause = cpu->stval = 0;
    cpu->satp = cpu->scounteren = cpu->senvcfg = 0;
    for (unsigned i = 0; i < sizeof(cpu->pmpcfg) / sizeof(cpu->pmpcfg[0]); i++)
        cpu->pmpcfg[i] = 0;
    for (unsigned i = 0; i < sizeof(cpu->pmpaddr) / sizeof(cpu->pmpaddr[0]); i++)
        cpu->pmpaddr[i] = 0;
    /* mcycle and minstret start out equal to the retired-instruction count
     * (the replay position), which is handy when reading traces. */
    cpu->mcycle_off = cpu->minstret_off = 0;
}
