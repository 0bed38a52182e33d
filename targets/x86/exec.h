/* Private interface of the general-purpose instruction handlers: exec_alu.c
 * (arithmetic, logic, shifts, bit operations, BMI, and the one opcode table
 * x86_ops_int[]), exec_ctl.c (branches, stack, data movement),
 * exec_str.c (string instructions) and exec_fast.c (specialised
 * variants of the hot ones).  The handlers below are reachable only
 * through x86_ops_int[]; nothing outside these four files includes this. */
#ifndef TANDEM_X86_EXEC_H
#define TANDEM_X86_EXEC_H

#include "targets/x86/block.h"
#include "targets/x86/flags.h"
#include "targets/x86/insn.h"
#include "targets/x86/mem.h"

#define XI_ALWAYS inline __attribute__((always_inline))

/* x86_rm_get/x86_rm_set with mem.h's inline fast paths, for the hot
 * handlers (the rest call the out-of-line ones). */
static XI_ALWAYS bool xi_rm_get(X86CPU *cpu, const XInsn *in, unsigned size, uint64_t *v)
{
    if (in->mod == 3) {
        *v = x86_reg_get(cpu, in->rm, size);
        return true;
    }
    return x86_ld_inline(cpu, in, in->seg, x86_ea(cpu, in), size, v);
}

static XI_ALWAYS bool xi_rm_set(X86CPU *cpu, const XInsn *in, unsigned size, uint64_t v)
{
    if (in->mod == 3) {
        x86_reg_set(cpu, in->rm, size, v);
        return true;
    }
    return x86_st_inline(cpu, in, in->seg, x86_ea(cpu, in), size, v);
}

/* exec_ctl.c */
#define XI_CTL_HANDLERS(X) \
    X(jcc) X(loopne) X(loope) X(loop) X(jrcxz) \
    X(jmp_rel) X(call_rel) X(jmp_rm) X(call_rm) X(ret) X(ret_imm) \
    X(push_r) X(pop_r) X(push_i) X(push_rm) X(pop_rm) X(pusha) X(popa) \
    X(enter) X(leave) \
    X(mov_rm_r) X(mov_r_rm) X(mov_rm_i) X(mov_r_i) X(mov_a_moffs) \
    X(mov_moffs_a) X(lea) X(movsxd) X(movzx_b) X(movzx_w) X(movsx_b) \
    X(movsx_w) X(movbe_ld) X(movbe_st) X(xchg_rm_r) X(xchg_a_r) X(cbw) \
    X(cwd) X(lahf) X(sahf) X(cmc) X(clc) X(stc) X(cld) X(std) X(cmov) \
    X(setcc) X(xlat) X(salc) X(bound) X(nop_rm) X(ud2) X(bswap)

/* exec_str.c */
#define XI_STR_HANDLERS(X) X(movs) X(cmps) X(stos) X(lods) X(scas)

#define XI_DECLARE(n) XHandler xi_##n;
XI_CTL_HANDLERS(XI_DECLARE)
XI_STR_HANDLERS(XI_DECLARE)
#undef XI_DECLARE

/* exec_fast.c: specialised variants (insn.h X86Fast) of the handlers
 * named, for the opcode table. */
#define XI_FAST_ALU(X, n) X(n##_rm_r) X(n##_rm_i) X(n##_a_i)
#define XI_FAST_ALU_R(X, n) XI_FAST_ALU(X, n) X(n##_r_rm)
#define XI_FAST_SHIFT(X, n) X(n##_i) X(n##_1) X(n##_cl)
#define XI_FAST(X) \
    XI_FAST_ALU_R(X, add) XI_FAST_ALU_R(X, or) XI_FAST_ALU_R(X, and) \
    XI_FAST_ALU_R(X, sub) XI_FAST_ALU_R(X, xor) XI_FAST_ALU_R(X, cmp) \
    XI_FAST_ALU(X, test) \
    X(inc_rm) X(dec_rm) X(not_rm) X(neg_rm) \
    XI_FAST_SHIFT(X, shl) XI_FAST_SHIFT(X, shr) XI_FAST_SHIFT(X, sar) \
    X(imul_r_rm) X(imul_r_rm_i) \
    X(mov_rm_r) X(mov_r_rm) X(mov_rm_i) X(mov_r_i) X(lea) X(movsxd) \
    X(movzx_b) X(movsx_b) X(movzx_w) X(movsx_w) X(cmov) \
    X(jcc) X(jmp_rel) X(call_rel) X(ret) X(push_r) X(pop_r)

#define XI_DECLARE_FAST(n) extern const X86Fast xf_##n;
XI_FAST(XI_DECLARE_FAST)
#undef XI_DECLARE_FAST

/* Iterations a REP string instruction runs per execution before it
 * restarts itself (x86_restart) so the run loop can take interrupts.  Every
 * iteration counts the same whatever path it takes, so where a REP stops
 * depends on guest state only. */
#define X86_REP_CHUNK 4096u

/* The chunk: one iteration while a debugger single-steps (cpu->dbg_step),
 * which then stops after each iteration as the hardware's single-step
 * trap does (x86_restart ends the step). */
static inline unsigned x86_rep_chunk(const X86CPU *cpu)
{
    return unlikely(cpu->dbg_step != NULL) ? 1u : X86_REP_CHUNK;
}

#endif
