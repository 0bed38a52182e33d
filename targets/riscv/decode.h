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
 * site); returning in + 1 to the run loop is equivalent, only slower.  The
 * recursion is bounded by the block length if the compiler does not turn
 * it into a jump. */
#define RV_NEXT(cpu, in) return (in)[1].fn((cpu), (in) + 1)

/* ---- decode.c ---- */

/* Expand a compressed instruction into its 32-bit equivalent.  Returns 0
 * for reserved or illegal encodings (0 is not a valid 32-bit instruction). */
uint32_t riscv_rvc_expand(uint16_t c, int xlen);

/* Decode the instruction at pc: raw is the 16-bit encoding when len == 2,
 * the 32-bit one when len == 4.  Always fills *out (an illegal encoding gets
 * a handler that raises with the original encoding as tval).  Returns
 * RV_DEC_END when the block must end after this instruction. */
unsigned riscv_decode(RvInsn *out, uint32_t raw, unsigned len, uint64_t pc, int xlen);
#define RV_DEC_END 1u

/* ---- exec_int.c: handlers the decoder tables point at ---- */

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

#endif
