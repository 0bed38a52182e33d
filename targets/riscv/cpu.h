/* RISC-V hart state and the contract between the interpreter engine
 * (engine.c, decode.c, exec_*.c), the privileged architecture (csr.c,
 * trap.c, mmu.c, pmp.c) and the FPU (fpu.c).
 *
 * Width is written once: RV32 and RV64 share this state.  In RV32 every x[]
 * holds its 32-bit value sign-extended to 64 bits, so most handlers need no
 * width check; width-specific handlers are instantiated from templates. */
#ifndef TANDEM_RISCV_CPU_H
#define TANDEM_RISCV_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/debug.h"
#include "vmm/machine.h"

typedef struct RiscvCPU RiscvCPU;
typedef struct RvInsn RvInsn;
typedef struct RvBlock RvBlock;

/* A predecoded instruction.  The handler returns in + 1 to continue in the
 * block, or NULL to leave it (cpu->pc set, or a trap taken through
 * riscv_raise).  rd == 0 is rewritten by the decoder to RV_SINK (a scratch
 * register) for instructions whose other effects must still happen, so
 * handlers write x[rd] unconditionally. */
typedef const RvInsn *RvHandler(RiscvCPU *cpu, const RvInsn *in);

struct RvInsn {
    RvHandler *fn;
    uint64_t pc;            /* virtual address of this instruction */
    int64_t imm;            /* sign-extended immediate (or other operand) */
    uint8_t rd, rs1, rs2, rs3;
    uint8_t len;            /* 2 (compressed) or 4 */
    uint8_t rm;             /* FP rounding-mode field; AMO aq/rl bits */
    uint8_t rem;            /* instructions after this one in its block */
    uint8_t alt;            /* fn is a specialised form (exec_int.c) */
    uint16_t csr;           /* CSR number for Zicsr */
    int16_t jump;           /* branch/JAL target in the block: its index - ours */
    uint32_t raw;           /* 32-bit encoding (compressed ones expanded) */
};

#define RV_SINK 32          /* x[32]: write-only scratch for rd == 0 */

enum {
    RV_PRIV_U = 0,
    RV_PRIV_S = 1,
    RV_PRIV_M = 3,
};

/* Exception causes (mcause without the interrupt bit). */
enum {
    RV_EXC_INSN_MISALIGNED = 0,
    RV_EXC_INSN_ACCESS = 1,
    RV_EXC_ILLEGAL_INSN = 2,
    RV_EXC_BREAKPOINT = 3,
    RV_EXC_LOAD_MISALIGNED = 4,
    RV_EXC_LOAD_ACCESS = 5,
    RV_EXC_STORE_MISALIGNED = 6,    /* also AMO */
    RV_EXC_STORE_ACCESS = 7,
    RV_EXC_ECALL_U = 8,
    RV_EXC_ECALL_S = 9,
    RV_EXC_ECALL_M = 11,
    RV_EXC_INSN_PAGE_FAULT = 12,
    RV_EXC_LOAD_PAGE_FAULT = 13,
    RV_EXC_STORE_PAGE_FAULT = 15,
};

/* Interrupt numbers = mip bit positions. */
enum {
    RV_IRQ_SSIP = 1, RV_IRQ_MSIP = 3,
    RV_IRQ_STIP = 5, RV_IRQ_MTIP = 7,
    RV_IRQ_SEIP = 9, RV_IRQ_MEIP = 11,
};

typedef enum RvAccess { RV_ACC_READ = 0, RV_ACC_WRITE = 1, RV_ACC_EXEC = 2 } RvAccess;

#define RV_MSTATUS_SIE   (1ull << 1)
#define RV_MSTATUS_MIE   (1ull << 3)
#define RV_MSTATUS_SPIE  (1ull << 5)
#define RV_MSTATUS_UBE   (1ull << 6)
#define RV_MSTATUS_MPIE  (1ull << 7)
#define RV_MSTATUS_SPP   (1ull << 8)
#define RV_MSTATUS_MPP   (3ull << 11)
#define RV_MSTATUS_FS    (3ull << 13)
#define RV_MSTATUS_XS    (3ull << 15)
#define RV_MSTATUS_MPRV  (1ull << 17)
#define RV_MSTATUS_SUM   (1ull << 18)
#define RV_MSTATUS_MXR   (1ull << 19)
#define RV_MSTATUS_TVM   (1ull << 20)
#define RV_MSTATUS_TW    (1ull << 21)
#define RV_MSTATUS_TSR   (1ull << 22)
#define RV_MSTATUS_UXL   (3ull << 32)
#define RV_MSTATUS_SXL   (3ull << 34)
#define RV_MSTATUS_SD64  (1ull << 63)
#define RV_MSTATUS_SD32  (1ull << 31)

/* Software TLB: one direct-mapped table per (privilege used for the access,
 * access kind).  host address = va + addend. */
#define RV_TLB_BITS 8
#define RV_TLB_SIZE (1u << RV_TLB_BITS)
typedef struct RvTlbEntry {
    uint64_t tag;           /* va & ~0xfff, or ~0 when empty */
    uintptr_t addend;       /* host pointer - va */
    uint64_t pa_page;       /* physical page base */
} RvTlbEntry;

struct RiscvCPU {
    /* Hot state first. */
    uint64_t x[33];          /* x[32] = RV_SINK */
    uint64_t pc;
    uint64_t icount;         /* retired instructions (DESIGN.md: the position) */
    uint64_t brcount;        /* retired conditional branches */
    /* Handlers may enter the next block themselves while icount stays
     * within this (engine.c); 0 sends every block end to the run loop. */
    uint64_t chain_end;
    uint64_t f[32];          /* FP registers, NaN-boxed singles */
    uint32_t fflags;         /* accrued exception flags (NV DZ OF UF NX) */
    uint32_t frm;            /* dynamic rounding mode */

    int xlen;                /* 32 or 64 (fixed per machine) */
    int priv;                /* RV_PRIV_* */

    /* LR/SC reservation (physical address; ~0 = none). */
    uint64_t resv_addr;

    /* Machine CSRs. */
    uint64_t misa, mstatus, medeleg, mideleg, mie, mip, mtvec, mscratch,
             mepc, mcause, mtval, mcounteren, mcountinhibit, menvcfg,
             mhartid;
    /* Supervisor CSRs (sstatus/sie/sip are views of the m* ones). */
    uint64_t stvec, sscratch, sepc, scause, stval, satp, scounteren, senvcfg;
    uint64_t pmpcfg[16];     /* one byte per entry, 8 per element (RV64 view) */
    uint64_t pmpaddr[64];
    /* mcycle/minstret (csr.c): counter = icount + *_off while it counts;
     * while mcountinhibit stops it, *_off holds the frozen value. */
    uint64_t mcycle_off, minstret_off;
    /* Interrupt lines driven by devices (OR-ed into mip as read). */
    uint64_t mip_hw;
    /* Set when WFI found nothing pending: the engine returns CPU_EXIT_IDLE. */
    bool wfi;
    /* Breakpoints and watchpoints of an attached debugger (debug.c);
     * NULL without any, so the engine's paths look at nothing more. */
    CpuDebug *dbg;

    /* Software TLB (engine.c owns it, mmu.c fills it through riscv_translate). */
    RvTlbEntry tlb[4][3][RV_TLB_SIZE];

    /* Block cache (engine.c). */
    void *bcache;

    Machine *m;
    AddressSpace *as;
    /* The board's timer (CLINT mtime) for the time CSR and rdtime. */
    uint64_t (*rdtime)(void *opaque);
    void *rdtime_opaque;
};

/* ---- engine.c / mem.c (interpreter) ---- */
RiscvCPU *riscv_cpu_create(Machine *m, int xlen);
void riscv_cpu_free(RiscvCPU *cpu);
/* Architectural reset: priv M, pc = reset_pc, CSRs to their reset values. */
void riscv_cpu_reset(RiscvCPU *cpu, uint64_t reset_pc);
/* Drive a mip bit from a device (irq is RV_IRQ_*). */
void riscv_cpu_set_irq(RiscvCPU *cpu, int irq, int level);
/* Drop every cached translation (satp write, SFENCE.VMA, priv/MPRV/SUM/MXR
 * changes, PMP writes). */
void riscv_tlb_flush(RiscvCPU *cpu);
/* Drop every translated block (FENCE.I, code writes). */
void riscv_code_flush(RiscvCPU *cpu);
/* Exact instructions retired before `in` executes (icount is pre-added by
 * the block's length at block entry). */
static inline uint64_t riscv_icount_at(const RiscvCPU *cpu, const RvInsn *in)
{
    return cpu->icount - in->rem - 1;
}

/* Guest memory accesses for handlers, through the TLB.  On a fault they take
 * the trap (riscv_raise) and return false; the handler then returns NULL. */
bool rv_load(RiscvCPU *cpu, const RvInsn *in, uint64_t va, unsigned size, uint64_t *val);
bool rv_store(RiscvCPU *cpu, const RvInsn *in, uint64_t va, unsigned size, uint64_t val);

extern const CpuOps riscv_cpu_ops;
/* ---- debug.c (gdb stub hooks, vmm/debug.h) ---- */
extern const CpuDebugOps riscv_debug_ops;

/* ---- state.c (record/replay views of the hart) ---- */
extern const char *const riscv_reg_names[32];
unsigned riscv_regs(void *cpu, uint64_t *out);
void riscv_set_reg(void *cpu, unsigned idx, uint64_t val);
uint64_t riscv_state_hash(void *cpu);
/* Snapshots: CpuOps.save/load. */
void riscv_save(void *cpu, void *writer);
bool riscv_load(void *cpu, void *reader);

/* ---- trap.c ---- */
/* Take synchronous exception `cause` at instruction `in` (which does not
 * retire): fixes icount, sets epc = in->pc, enters the handler.  Returns NULL
 * so handlers can `return riscv_raise(...)`. */
const RvInsn *riscv_raise(RiscvCPU *cpu, const RvInsn *in, uint64_t cause, uint64_t tval);
/* Enter the trap handler for cause/tval with epc = cpu->pc (already exact). */
void riscv_do_trap(RiscvCPU *cpu, uint64_t cause, bool interrupt, uint64_t tval);
/* Between blocks: take the highest-priority pending enabled interrupt.
 * Returns true if one was taken. */
bool riscv_check_interrupts(RiscvCPU *cpu);
/* Any interrupt pending and enabled in mie (wakes WFI regardless of
 * mstatus.xIE). */
bool riscv_wfi_wakeup(const RiscvCPU *cpu);
uint64_t riscv_mip(const RiscvCPU *cpu);

/* ---- system.c ---- */
/* Decode a SYSTEM-opcode (0x73) instruction: ECALL, EBREAK, MRET, SRET, WFI,
 * SFENCE.VMA and the six Zicsr forms.  Returns false if not recognised.
 * The decoder always ends a block after a SYSTEM instruction. */
bool riscv_decode_system(RvInsn *out, uint32_t raw, int xlen);

/* ---- csr.c ---- */
/* CSR reset values (misa, mstatus, ...); riscv_cpu_reset calls it. */
void riscv_csr_reset(RiscvCPU *cpu);
/* Read-modify-write a CSR for Zicsr: *old receives the value before the
 * write; if write is true the new value is (old & ~mask) | (val & mask).
 * Returns 0 or RV_EXC_ILLEGAL_INSN. `in` gives the exact icount for
 * counters (NULL: between instructions, e.g. a debugger).  On RV32 val and
 * mask are cut to 32 bits and *old is the zero-extended 32-bit value. */
int riscv_csr_rw(RiscvCPU *cpu, const RvInsn *in, unsigned csr, uint64_t *old,
                 uint64_t val, uint64_t mask, bool write);

/* ---- mmu.c / pmp.c ---- */
/* Translate va for an access of kind acc at privilege `priv` (already the
 * effective one: MPRV applied by the caller for loads/stores).  Updates A/D
 * bits.  Returns 0 and sets *pa, or the exception cause.  *page_ok is set
 * true when the whole 4 KiB page has the same translation and PMP result, so
 * the engine may cache it in the TLB. */
int riscv_translate(RiscvCPU *cpu, uint64_t va, RvAccess acc, int priv,
                    uint64_t *pa, bool *page_ok);
/* A debugger's view of va (debug.c): translated at the current privilege
 * without permission or PMP checks and without setting A/D.  Returns false
 * when va is not mapped. */
bool riscv_translate_debug(RiscvCPU *cpu, uint64_t va, uint64_t *pa);
/* Privilege used for data accesses (MPRV). */
int riscv_data_priv(const RiscvCPU *cpu);
/* PMP check of the bytes [pa, pa + size) for an access of kind acc at
 * privilege priv: false when denied (an access fault).  If page_ok is not
 * NULL it is set when every byte of pa's 4 KiB page gets the same answer. */
bool riscv_pmp_check(const RiscvCPU *cpu, uint64_t pa, uint64_t size,
                     RvAccess acc, int priv, bool *page_ok);
/* pmpcfgN / pmpaddrN CSR bodies for csr.c (n is the CSR index; the caller
 * has checked that the CSR exists).  Writes honour the L bits and flush the
 * TLB when something changed. */
uint64_t riscv_pmpcfg_read(const RiscvCPU *cpu, unsigned n);
void riscv_pmpcfg_write(RiscvCPU *cpu, unsigned n, uint64_t val);
uint64_t riscv_pmpaddr_read(const RiscvCPU *cpu, unsigned n);
void riscv_pmpaddr_write(RiscvCPU *cpu, unsigned n, uint64_t val);

/* ---- fpu.c ---- */
/* Decode an F/D instruction (32-bit encoding, compressed ones expanded
 * first).  Returns false if raw is not an F/D instruction. */
bool riscv_decode_fp(RvInsn *out, uint32_t raw, int xlen);
/* Mark the FP state dirty (mstatus.FS = 3).  mstatus is kept in the RV64
 * layout without SD; csr.c derives SD (bit 63, or bit 31 for RV32) on read. */
static inline void riscv_fs_dirty(RiscvCPU *cpu)
{
    cpu->mstatus |= RV_MSTATUS_FS;
}
/* FP instructions are illegal while mstatus.FS is Off. */
static inline bool riscv_fs_off(const RiscvCPU *cpu)
{
    return (cpu->mstatus & RV_MSTATUS_FS) == 0;
}

#endif
