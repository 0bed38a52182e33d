/* Internal interface of the RISC-V interpreter: the decoder (decode.c), the
 * integer handlers (exec_int.c, exec_xlen.h) and the engine's memory slow
 * paths (engine.c).  Nothing outside targets/riscv/ includes this. */
#ifndef TANDEM_RISCV_DECODE_H
#define TANDEM_RISCV_DECODE_H

#include "targets/riscv/cpu.h"

#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

/* Continue with the next instruction of the block.  Handlers tail-call it
 * (threaded dispatch: one indirect jump per instruction, each at its own
 * site); returning in + 1 to the run loop is equivalent, only slower.  Block
 * exits tail-call into the next block the same way (rv_chain); should the
 * compiler not turn these calls into jumps, the recursion is bounded by the
 * run loop's CHAIN_MAX instructions (engine.c). */
#define RV_NEXT(cpu, in) RV_DISPATCH(cpu, (in) + 1)

/* Continue at instruction p (p is evaluated once). */
#define RV_DISPATCH(cpu, p)                                                   \
    do {                                                                      \
        const RvInsn *p_ = (p);                                               \
        return p_->fn((cpu), p_);                                             \
    } while (0)

/* ---- decode.c ---- */

/* Expand a compressed instruction into its 32-bit equivalent.  Returns 0
 * for reserved or illegal encodings (0 is not a valid 32-bit instruction). */
uint32_t riscv_rvc_expand(uint16_t c, int xlen);

/* Decode the instruction at pc: raw is the 16-bit encoding when len == 2,
 * the 32-bit one when len == 4.  Always fills *out (an illegal encoding gets
 * a handler that raises with the original encoding as tval).  Returns
 * RV_DEC_END when the block must end after this instruction (the engine
 * goes on past conditional branches: their handlers leave when taken). */
unsigned riscv_decode(RvInsn *out, uint32_t raw, unsigned len, uint64_t pc, int xlen);
#define RV_DEC_END 1u

/* ---- exec_int.c: handlers the decoder tables point at ---- */

/* Specialise the handlers of a decoded block (rem already set): fuse
 * adjacent register-only pairs, and let branches whose target lies in the
 * block jump there directly.  riscv_plain gives the handler that runs `in`
 * alone and leaves the block on every jump (for truncated copies). */
void riscv_specialise(RvInsn *insns, unsigned n);
RvHandler *riscv_plain(const RvInsn *in);

#define RV_INT_HANDLERS(X) \
    X(nop) X(illegal) X(li) X(fence_i) X(block_end) \
    X(add) X(sub) X(sll) X(slt) X(sltu) X(xor) X(srl) X(sra) X(or) X(and) \
    X(addi) X(slti) X(sltiu) X(xori) X(ori) X(andi) X(slli) X(srli) X(srai) \
    X(addw) X(subw) X(sllw) X(srlw) X(sraw) \
    X(addiw) X(slliw) X(srliw) X(sraiw) \
    X(mul) X(mulw) X(div) X(divu) X(rem) X(remu) \
    X(divw) X(divuw) X(remw) X(remuw)

/* Instantiated once per XLEN: rv_lw_32, rv_lw_64, ... */
#define RV_XLEN_HANDLERS(X) \
    X(lb) X(lh) X(lw) X(ld) X(lbu) X(lhu) X(lwu) \
    X(sb) X(sh) X(sw) X(sd) \
    X(jal) X(jalr) X(beq) X(bne) X(blt) X(bge) X(bltu) X(bgeu) \
    X(jal_local) X(beq_local) X(bne_local) X(blt_local) X(bge_local) \
    X(bltu_local) X(bgeu_local) \
    X(mulh) X(mulhsu) X(mulhu) \
    X(lr_w) X(sc_w) X(amoswap_w) X(amoadd_w) X(amoxor_w) X(amoand_w) \
    X(amoor_w) X(amomin_w) X(amomax_w) X(amominu_w) X(amomaxu_w) \
    X(lr_d) X(sc_d) X(amoswap_d) X(amoadd_d) X(amoxor_d) X(amoand_d) \
    X(amoor_d) X(amomin_d) X(amomax_d) X(amominu_d) X(amomaxu_d)

#define RV_DECLARE_HANDLER(n) RvHandler rv_##n;
#define RV_DECLARE_XLEN_HANDLER(n) RvHandler rv_##n##_32, rv_##n##_64;
RV_INT_HANDLERS(RV_DECLARE_HANDLER)
RV_XLEN_HANDLERS(RV_DECLARE_XLEN_HANDLER)

/* ---- engine.c: slow paths of the atomics (the fast paths are inline in
 * exec_xlen.h).  va is naturally aligned; all take the trap and return
 * false on a fault. ---- */

/* FENCE.I: blocks are re-checked against memory before their next use. */
void rv_code_fence(RiscvCPU *cpu);

typedef uint64_t RvAmoOp(uint64_t old, uint64_t src);
/* Read-modify-write: *old = memory; memory = op(old, src). */
bool rv_amo(RiscvCPU *cpu, const RvInsn *in, uint64_t va, unsigned size,
            RvAmoOp *op, uint64_t src, uint64_t *old);
/* Load-reserved: sets cpu->resv_addr to the physical address. */
bool rv_lr(RiscvCPU *cpu, const RvInsn *in, uint64_t va, unsigned size, uint64_t *val);
/* Store-conditional: *ok tells whether it stored; clears the reservation. */
bool rv_sc(RiscvCPU *cpu, const RvInsn *in, uint64_t va, unsigned size,
           uint64_t val, bool *ok);

static inline RvTlbEntry *rv_tlb_entry(RiscvCPU *cpu, int priv, RvAccess acc,
                                       uint64_t va)
{
    return &cpu->tlb[priv][acc][(va >> 12) & (RV_TLB_SIZE - 1)];
}

/* A hit for a naturally aligned access of `size` bytes (so it cannot cross
 * the page): one compare checks the page and the alignment.  Misaligned
 * accesses take the slow path, which performs them. */
static inline bool rv_tlb_hit(const RvTlbEntry *e, uint64_t va, unsigned size)
{
    return (va & (~0xfffull | (size - 1))) == e->tag;
}

/* ---- block chaining (engine.c owns the blocks) ---- */

#define RV_MAX_BLOCK 64     /* instructions in a block at most */

/* A run of predecoded instructions from one guest page (engine.c). */
struct RvBlock {
    uint64_t vpc;
    uint64_t pa;
    uint64_t pa2;           /* page of a straddling last insn's tail, or ~0 */
    RvBlock *hnext;         /* hash chain */
    RvBlock *pnext[2];      /* code-page lists: [0] page of pa, [1] of pa2 */
    uint32_t n;             /* instructions (the end sentinel not counted) */
    uint32_t epoch;         /* FENCE.I epoch it was last checked in */
    bool dead;
    bool bp;                /* one instruction at a debugger breakpoint:
                               never chained into (engine.c) */
    RvInsn insns[];         /* n + 1 */
};

#define RV_JC_BITS 14
#define RV_JC_SIZE (1u << RV_JC_BITS)

/* The part of the block cache a handler reads to enter the next block
 * itself: the engine's state starts with it, so cpu->bcache points here.
 * The jump cache holds only live blocks whose translation needs no check
 * beyond the ITLB (no page-straddling tail, whole-page permissions). */
typedef struct RvChainCache {
    uint32_t epoch;         /* bumped by FENCE.I */
    RvBlock *jc[RV_JC_SIZE];
} RvChainCache;

static inline unsigned rv_jc_index(uint64_t pc)
{
    return (unsigned)(pc >> 1) & (RV_JC_SIZE - 1);
}

/* Leave the block for pc: enter pc's block directly when the run loop
 * would find it in the jump cache (same checks as its lookup: ITLB for the
 * current privilege, physical address, FENCE.I epoch) and it fits under
 * cpu->chain_end, which stands for what the run loop checks between blocks
 * (budget, pending interrupts, exit requests).  Otherwise return to the run
 * loop with cpu->pc set.  Inline, so every exit has its own indirect jump. */
static inline const RvInsn *rv_chain(RiscvCPU *cpu, uint64_t pc)
{
    const RvChainCache *cc = cpu->bcache;
    const RvBlock *b = cc->jc[rv_jc_index(pc)];
    const RvTlbEntry *t = rv_tlb_entry(cpu, cpu->priv, RV_ACC_EXEC, pc);
    uint64_t icount = cpu->icount + b->n;
    if (likely(b->vpc == pc && t->tag == (pc & ~0xfffull) &&
               b->pa == (t->pa_page | (pc & 0xfff)) && b->epoch == cc->epoch &&
               icount <= cpu->chain_end)) {
        cpu->icount = icount;
        RV_DISPATCH(cpu, b->insns);
    }
    cpu->pc = pc;
    return NULL;
}

/* A taken branch or JAL to in[in->jump], in its own block.  Forward, it
 * skips instructions of the block's run (they do not retire); backward, it
 * starts another run of the block's tail, which needs what entering a block
 * needs.  The block itself cannot have changed: its ITLB entry, privilege
 * and FENCE.I epoch change only through instructions that end blocks, and
 * a store that invalidates it clears chain_end. */
static inline const RvInsn *rv_jump_local(RiscvCPU *cpu, const RvInsn *in)
{
    const RvInsn *t = in + in->jump;
    uint64_t icount = cpu->icount - in->rem + t->rem + 1;
    if (likely(in->jump > 0 || icount <= cpu->chain_end)) {
        cpu->icount = icount;
        RV_DISPATCH(cpu, t);
    }
    cpu->icount -= in->rem;
    cpu->pc = t->pc;
    return NULL;
}

#endif
