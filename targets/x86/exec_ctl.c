/* Near control transfers (Jcc, LOOP*, JrCXZ, JMP, CALL, RET), the stack
 * (PUSH, POP, PUSHA, POPA, ENTER, LEAVE) and data movement (MOV and its
 * extending forms, XCHG, CMOVcc, SETcc, LEA, MOVBE, BSWAP, XLAT, CBW/CWD,
 * LAHF/SAHF, flag bits), plus hint NOPs, UD2 and BOUND. */
#include "targets/x86/exec.h"

static const XInsn *raise_gp0(X86CPU *cpu, const XInsn *in)
{
    return x86_raise(cpu, in, X86_EXC_GP, 0);
}

/* A near branch target: within the CS limit outside 64-bit mode, canonical
 * (48-bit) in it.  A bad target faults on the branch itself. */
static inline bool target_ok(const X86CPU *cpu, uint64_t t)
{
    if (cpu->hflags & X86_HF_CS64)
        return (uint64_t)((int64_t)(t << 16) >> 16) == t;
    return t <= cpu->seg[X86_CS].limit;
}

/* Leave the block for a near branch target (entering its block directly
 * when the jump cache has it). */
static XI_ALWAYS const XInsn *near_jump(X86CPU *cpu, const XInsn *in, uint64_t t)
{
    return x86_jump_chain(cpu, in, t, (cpu->hflags & X86_HF_CS64) != 0);
}

/* ---- conditional branches: each retires one conditional branch ---- */

const XInsn *xi_jcc(X86CPU *cpu, const XInsn *in)
{
    if (x86_cond(cpu, in->cc)) {
        if (unlikely(!target_ok(cpu, in->imm)))
            return raise_gp0(cpu, in);
        cpu->brcount++;
        return near_jump(cpu, in, in->imm);
    }
    cpu->brcount++;
    return near_jump(cpu, in, x86_next_rip(in));
}

/* LOOP/LOOPE/LOOPNE: the address size picks CX, ECX or RCX; the counter is
 * written only once the branch is known not to fault. */
static XI_ALWAYS const XInsn *loop_common(X86CPU *cpu, const XInsn *in, int zf)
{
    unsigned as = in->asize;
    uint64_t c = (x86_reg_get(cpu, X86_RCX, as) - 1) & x86_addr_mask(as);
    bool take = c != 0;

    if (take && zf >= 0)
        take = x86_cond(cpu, 4) == (zf != 0);
    if (take && unlikely(!target_ok(cpu, in->imm)))
        return raise_gp0(cpu, in);
    x86_reg_set(cpu, X86_RCX, as, c);
    cpu->brcount++;
    return near_jump(cpu, in, take ? in->imm : x86_next_rip(in));
}

const XInsn *xi_loopne(X86CPU *cpu, const XInsn *in) { return loop_common(cpu, in, 0); }
const XInsn *xi_loope(X86CPU *cpu, const XInsn *in) { return loop_common(cpu, in, 1); }
const XInsn *xi_loop(X86CPU *cpu, const XInsn *in) { return loop_common(cpu, in, -1); }

const XInsn *xi_jrcxz(X86CPU *cpu, const XInsn *in)
{
    bool take = x86_reg_get(cpu, X86_RCX, in->asize) == 0;
    if (take && unlikely(!target_ok(cpu, in->imm)))
        return raise_gp0(cpu, in);
    cpu->brcount++;
    return near_jump(cpu, in, take ? in->imm : x86_next_rip(in));
}

/* ---- JMP CALL RET ---- */

const XInsn *xi_jmp_rel(X86CPU *cpu, const XInsn *in)
{
    if (unlikely(!target_ok(cpu, in->imm)))
        return raise_gp0(cpu, in);
    return near_jump(cpu, in, in->imm);
}

const XInsn *xi_call_rel(X86CPU *cpu, const XInsn *in)
{
    if (unlikely(!target_ok(cpu, in->imm)))
        return raise_gp0(cpu, in);
    if (!x86_push(cpu, in, in->osize, x86_next_rip(in)))
        return NULL;
    return near_jump(cpu, in, in->imm);
}

/* Indirect targets have the operand size (zero-extended). */
const XInsn *xi_jmp_rm(X86CPU *cpu, const XInsn *in)
{
    uint64_t t;
    if (!x86_rm_get(cpu, in, in->osize, &t))
        return NULL;
    if (unlikely(!target_ok(cpu, t)))
        return raise_gp0(cpu, in);
    return near_jump(cpu, in, t);
}

const XInsn *xi_call_rm(X86CPU *cpu, const XInsn *in)
{
    uint64_t t;
    if (!x86_rm_get(cpu, in, in->osize, &t))
        return NULL;
    if (unlikely(!target_ok(cpu, t)))
        return raise_gp0(cpu, in);
    if (!x86_push(cpu, in, in->osize, x86_next_rip(in)))
        return NULL;
    return near_jump(cpu, in, t);
}

static XI_ALWAYS const XInsn *ret_common(X86CPU *cpu, const XInsn *in, uint64_t extra)
{
    uint64_t t;
    if (!x86_peek(cpu, in, 0, in->osize, &t))
        return NULL;
    if (unlikely(!target_ok(cpu, t)))
        return raise_gp0(cpu, in);
    x86_set_sp(cpu, cpu->regs[X86_RSP] + in->osize + extra);
    return near_jump(cpu, in, t);
}

const XInsn *xi_ret(X86CPU *cpu, const XInsn *in) { return ret_common(cpu, in, 0); }
const XInsn *xi_ret_imm(X86CPU *cpu, const XInsn *in)
{
    return ret_common(cpu, in, in->imm & 0xffff);
}

/* ---- stack ---- */

const XInsn *xi_push_r(X86CPU *cpu, const XInsn *in)
{
    if (!x86_push(cpu, in, in->osize, x86_reg_get(cpu, in->reg, in->osize)))
        return NULL;
    X86_NEXT(cpu, in);
}

const XInsn *xi_pop_r(X86CPU *cpu, const XInsn *in)
{
    uint64_t v;
    if (!x86_pop(cpu, in, in->osize, &v))
        return NULL;
    x86_reg_set(cpu, in->reg, in->osize, v);
    X86_NEXT(cpu, in);
}

const XInsn *xi_push_i(X86CPU *cpu, const XInsn *in)
{
    if (!x86_push(cpu, in, in->osize, in->imm))
        return NULL;
    X86_NEXT(cpu, in);
}

const XInsn *xi_push_rm(X86CPU *cpu, const XInsn *in)
{
    uint64_t v;
    if (!xi_rm_get(cpu, in, in->osize, &v) || !x86_push(cpu, in, in->osize, v))
        return NULL;
    X86_NEXT(cpu, in);
}

/* POP r/m: a memory destination addressed through RSP sees RSP after the
 * pop (SDM); RSP changes only once the store succeeded. */
const XInsn *xi_pop_rm(X86CPU *cpu, const XInsn *in)
{
    unsigned sz = in->osize;
    uint64_t v;

    if (in->mod == 3) {
        if (!x86_pop(cpu, in, sz, &v))
            return NULL;
        x86_reg_set(cpu, in->rm, sz, v);
        X86_NEXT(cpu, in);
    }
    if (!x86_peek(cpu, in, 0, sz, &v))
        return NULL;
    uint64_t old = cpu->regs[X86_RSP];
    x86_set_sp(cpu, old + sz);
    uint64_t ea = x86_ea(cpu, in);
    cpu->regs[X86_RSP] = old;
    if (!x86_st(cpu, in, in->seg, ea, sz, v))
        return NULL;
    x86_set_sp(cpu, old + sz);
    X86_NEXT(cpu, in);
}

/* PUSHA: every slot is checked before the first write. */
const XInsn *xi_pusha(X86CPU *cpu, const XInsn *in)
{
    unsigned sz = in->osize;
    uint64_t sp = cpu->regs[X86_RSP], spm = x86_sp_mask(cpu);

    for (unsigned i = 1; i <= 8; i++)
        if (!x86_probe(cpu, in, X86_SS, (sp - i * sz) & spm, sz, X86_ACC_WRITE))
            return NULL;
    for (unsigned r = X86_RAX; r <= X86_RDI; r++) {
        uint64_t v = r == X86_RSP ? sp : cpu->regs[r];
        if (!x86_push(cpu, in, sz, v & x86_size_mask(sz)))
            return NULL;
    }
    X86_NEXT(cpu, in);
}

/* POPA: DI SI BP (SP skipped) BX DX CX AX from the top of the stack. */
const XInsn *xi_popa(X86CPU *cpu, const XInsn *in)
{
    unsigned sz = in->osize;
    uint64_t v[8];

    for (unsigned i = 0; i < 8; i++)
        if (i != 3 && !x86_peek(cpu, in, i * sz, sz, &v[i]))
            return NULL;
    for (unsigned i = 0; i < 8; i++)
        if (i != 3)
            x86_reg_set(cpu, X86_RDI - i, sz, v[i]);
    x86_set_sp(cpu, cpu->regs[X86_RSP] + 8 * sz);
    X86_NEXT(cpu, in);
}

/* ENTER alloc, level.  All reads and write checks come first.  The frame
 * pointer walk uses the stack address size; RBP is written with the
 * operand size and RSP with the stack size (as QEMU). */
const XInsn *xi_enter(X86CPU *cpu, const XInsn *in)
{
    unsigned sz = in->osize, level = in->imm2 & 31, n = 0;
    uint64_t alloc = in->imm & 0xffff, spm = x86_sp_mask(cpu);
    uint64_t sp = cpu->regs[X86_RSP], bp = cpu->regs[X86_RBP];
    uint64_t frame = (sp - sz) & spm, vals[33];

    vals[n++] = bp & x86_size_mask(sz);
    if (level) {
        for (unsigned i = 1; i < level; i++) {
            bp = (bp - sz) & spm;
            if (!x86_ld(cpu, in, X86_SS, bp, sz, &vals[n]))
                return NULL;
            n++;
        }
        vals[n++] = frame;
    }
    for (unsigned i = 0; i < n; i++)
        if (!x86_probe(cpu, in, X86_SS, (sp - (i + 1) * sz) & spm, sz, X86_ACC_WRITE))
            return NULL;
    for (unsigned i = 0; i < n; i++)
        if (!x86_st(cpu, in, X86_SS, (sp - (i + 1) * sz) & spm, sz, vals[i]))
            return NULL;
    x86_reg_set(cpu, X86_RBP, sz, frame);
    x86_set_sp(cpu, sp - n * sz - alloc);
    X86_NEXT(cpu, in);
}

const XInsn *xi_leave(X86CPU *cpu, const XInsn *in)
{
    unsigned sz = in->osize;
    uint64_t bp = cpu->regs[X86_RBP] & x86_sp_mask(cpu), v;

    if (!x86_ld(cpu, in, X86_SS, bp, sz, &v))
        return NULL;
    x86_set_sp(cpu, bp + sz);
    x86_reg_set(cpu, X86_RBP, sz, v);
    X86_NEXT(cpu, in);
}

/* ---- MOV and friends ---- */

const XInsn *xi_mov_rm_r(X86CPU *cpu, const XInsn *in)
{
    if (!xi_rm_set(cpu, in, in->osize, x86_reg_get(cpu, in->reg, in->osize)))
        return NULL;
    X86_NEXT(cpu, in);
}

const XInsn *xi_mov_r_rm(X86CPU *cpu, const XInsn *in)
{
    uint64_t v;
    if (!xi_rm_get(cpu, in, in->osize, &v))
        return NULL;
    x86_reg_set(cpu, in->reg, in->osize, v);
    X86_NEXT(cpu, in);
}

const XInsn *xi_mov_rm_i(X86CPU *cpu, const XInsn *in)
{
    if (!xi_rm_set(cpu, in, in->osize, in->imm))
        return NULL;
    X86_NEXT(cpu, in);
}

const XInsn *xi_mov_r_i(X86CPU *cpu, const XInsn *in)
{
    x86_reg_set(cpu, in->reg, in->osize, in->imm);
    X86_NEXT(cpu, in);
}

const XInsn *xi_mov_a_moffs(X86CPU *cpu, const XInsn *in)
{
    uint64_t v;
    if (!x86_ld(cpu, in, in->seg, x86_ea(cpu, in), in->osize, &v))
        return NULL;
    x86_reg_set(cpu, X86_RAX, in->osize, v);
    X86_NEXT(cpu, in);
}

const XInsn *xi_mov_moffs_a(X86CPU *cpu, const XInsn *in)
{
    if (!x86_st(cpu, in, in->seg, x86_ea(cpu, in), in->osize,
                x86_reg_get(cpu, X86_RAX, in->osize)))
        return NULL;
    X86_NEXT(cpu, in);
}

const XInsn *xi_lea(X86CPU *cpu, const XInsn *in)
{
    x86_reg_set(cpu, in->reg, in->osize, x86_ea(cpu, in));
    X86_NEXT(cpu, in);
}

/* MOVSXD: sign-extends with REX.W; otherwise a plain 32- or 16-bit move. */
const XInsn *xi_movsxd(X86CPU *cpu, const XInsn *in)
{
    unsigned ssz = in->osize == 8 ? 4 : in->osize;
    uint64_t v;
    if (!x86_rm_get(cpu, in, ssz, &v))
        return NULL;
    x86_reg_set(cpu, in->reg, in->osize, x86_sext(v, ssz));
    X86_NEXT(cpu, in);
}

static XI_ALWAYS const XInsn *movx(X86CPU *cpu, const XInsn *in, unsigned ssz, bool sx)
{
    uint64_t v;
    if (!xi_rm_get(cpu, in, ssz, &v))
        return NULL;
    x86_reg_set(cpu, in->reg, in->osize, sx ? x86_sext(v, ssz) : v);
    X86_NEXT(cpu, in);
}

const XInsn *xi_movzx_b(X86CPU *cpu, const XInsn *in) { return movx(cpu, in, 1, false); }
const XInsn *xi_movzx_w(X86CPU *cpu, const XInsn *in) { return movx(cpu, in, 2, false); }
const XInsn *xi_movsx_b(X86CPU *cpu, const XInsn *in) { return movx(cpu, in, 1, true); }
const XInsn *xi_movsx_w(X86CPU *cpu, const XInsn *in) { return movx(cpu, in, 2, true); }

/* Byte reversal of an operand.  16 bits (BSWAP r16, undefined in the SDM):
 * Intel hardware gives 0, and so does QEMU (it swaps the zero-extended
 * value as 32 bits and keeps the low half); MOVBE swaps the two bytes. */
static inline uint64_t bswap_sz(uint64_t v, unsigned sz)
{
    switch (sz) {
    case 2: return __builtin_bswap16((uint16_t)v);
    case 4: return __builtin_bswap32((uint32_t)v);
    default: return __builtin_bswap64(v);
    }
}

const XInsn *xi_bswap(X86CPU *cpu, const XInsn *in)
{
    uint64_t v = in->osize == 2 ? 0 : bswap_sz(cpu->regs[in->reg], in->osize);
    x86_reg_set(cpu, in->reg, in->osize, v);
    X86_NEXT(cpu, in);
}

const XInsn *xi_movbe_ld(X86CPU *cpu, const XInsn *in)
{
    uint64_t v;
    if (!x86_rm_get(cpu, in, in->osize, &v))
        return NULL;
    x86_reg_set(cpu, in->reg, in->osize, bswap_sz(v, in->osize));
    X86_NEXT(cpu, in);
}

const XInsn *xi_movbe_st(X86CPU *cpu, const XInsn *in)
{
    uint64_t v = bswap_sz(x86_reg_get(cpu, in->reg, in->osize), in->osize);
    if (!x86_rm_set(cpu, in, in->osize, v))
        return NULL;
    X86_NEXT(cpu, in);
}

const XInsn *xi_xchg_rm_r(X86CPU *cpu, const XInsn *in)
{
    unsigned sz = in->osize;
    uint64_t b = x86_reg_get(cpu, in->reg, sz), a;

    if (in->mod == 3) {
        a = x86_reg_get(cpu, in->rm, sz);
        x86_reg_set(cpu, in->rm, sz, b);
    } else {
        uint64_t ea = x86_ea(cpu, in);
        if (!x86_ld(cpu, in, in->seg, ea, sz, &a) || !x86_st(cpu, in, in->seg, ea, sz, b))
            return NULL;
    }
    x86_reg_set(cpu, in->reg, sz, a);
    X86_NEXT(cpu, in);
}

/* 90+r.  90 itself (no REX.B) is NOP whatever the operand size: XCHG EAX,
 * EAX does not clear the upper half of RAX; F3 90 (PAUSE) lands here too. */
const XInsn *xi_xchg_a_r(X86CPU *cpu, const XInsn *in)
{
    unsigned sz = in->osize;
    if (in->reg != X86_RAX) {
        uint64_t a = x86_reg_get(cpu, X86_RAX, sz), b = x86_reg_get(cpu, in->reg, sz);
        x86_reg_set(cpu, X86_RAX, sz, b);
        x86_reg_set(cpu, in->reg, sz, a);
    }
    X86_NEXT(cpu, in);
}

const XInsn *xi_cbw(X86CPU *cpu, const XInsn *in)
{
    unsigned sz = in->osize;
    x86_reg_set(cpu, X86_RAX, sz, x86_sext(cpu->regs[X86_RAX], sz / 2));
    X86_NEXT(cpu, in);
}

const XInsn *xi_cwd(X86CPU *cpu, const XInsn *in)
{
    unsigned sz = in->osize;
    uint64_t a = x86_reg_get(cpu, X86_RAX, sz);
    x86_reg_set(cpu, X86_RDX, sz, (a >> (sz * 8 - 1)) & 1 ? ~0ull : 0);
    X86_NEXT(cpu, in);
}

/* ---- flags ---- */

const XInsn *xi_lahf(X86CPU *cpu, const XInsn *in)
{
    uint32_t f = x86_arith(cpu);
    x86_reg_set(cpu, X86_AH, 1, (f & (X86_SF | X86_ZF | X86_AF | X86_PF | X86_CF)) | 2);
    X86_NEXT(cpu, in);
}

const XInsn *xi_sahf(X86CPU *cpu, const XInsn *in)
{
    uint32_t m = X86_SF | X86_ZF | X86_AF | X86_PF | X86_CF;
    uint32_t ah = (cpu->regs[X86_RAX] >> 8) & 0xff;
    x86_set_arith(cpu, (x86_arith(cpu) & ~m) | (ah & m));
    X86_NEXT(cpu, in);
}

const XInsn *xi_cmc(X86CPU *cpu, const XInsn *in)
{
    x86_set_arith(cpu, x86_arith(cpu) ^ X86_CF);
    X86_NEXT(cpu, in);
}

const XInsn *xi_clc(X86CPU *cpu, const XInsn *in)
{
    x86_set_arith(cpu, x86_arith(cpu) & ~X86_CF);
    X86_NEXT(cpu, in);
}

const XInsn *xi_stc(X86CPU *cpu, const XInsn *in)
{
    x86_set_arith(cpu, x86_arith(cpu) | X86_CF);
    X86_NEXT(cpu, in);
}

const XInsn *xi_cld(X86CPU *cpu, const XInsn *in)
{
    cpu->eflags &= ~(uint64_t)X86_DF;
    X86_NEXT(cpu, in);
}

const XInsn *xi_std(X86CPU *cpu, const XInsn *in)
{
    cpu->eflags |= X86_DF;
    X86_NEXT(cpu, in);
}

const XInsn *xi_salc(X86CPU *cpu, const XInsn *in)
{
    x86_reg_set(cpu, X86_RAX, 1, x86_cf(cpu) ? 0xff : 0);
    X86_NEXT(cpu, in);
}

/* CMOVcc reads its source whatever the condition; a 32-bit destination is
 * zero-extended even when nothing moves. */
const XInsn *xi_cmov(X86CPU *cpu, const XInsn *in)
{
    uint64_t v;
    if (!xi_rm_get(cpu, in, in->osize, &v))
        return NULL;
    if (x86_cond(cpu, in->cc))
        x86_reg_set(cpu, in->reg, in->osize, v);
    else if (in->osize == 4)
        cpu->regs[in->reg] = (uint32_t)cpu->regs[in->reg];
    X86_NEXT(cpu, in);
}

const XInsn *xi_setcc(X86CPU *cpu, const XInsn *in)
{
    if (!xi_rm_set(cpu, in, 1, x86_cond(cpu, in->cc)))
        return NULL;
    X86_NEXT(cpu, in);
}

const XInsn *xi_xlat(X86CPU *cpu, const XInsn *in)
{
    uint64_t a = (cpu->regs[X86_RBX] + (cpu->regs[X86_RAX] & 0xff)) & x86_addr_mask(in->asize);
    uint64_t v;
    if (!x86_ld(cpu, in, in->seg, a, 1, &v))
        return NULL;
    x86_reg_set(cpu, X86_RAX, 1, v);
    X86_NEXT(cpu, in);
}

/* BOUND r, m: signed bounds at [m] and [m + size]; #BR when outside. */
const XInsn *xi_bound(X86CPU *cpu, const XInsn *in)
{
    unsigned sz = in->osize;
    uint64_t ea = x86_ea(cpu, in), lo, hi;

    if (!x86_ld(cpu, in, in->seg, ea, sz, &lo) ||
        !x86_ld(cpu, in, in->seg, (ea + sz) & x86_addr_mask(in->asize), sz, &hi))
        return NULL;
    int64_t i = (int64_t)x86_sext(cpu->regs[in->reg], sz);
    if (i < (int64_t)x86_sext(lo, sz) || i > (int64_t)x86_sext(hi, sz))
        return x86_raise(cpu, in, X86_EXC_BR, X86_NO_ERR);
    X86_NEXT(cpu, in);
}

/* Hint NOPs (0F 0D, 0F 18..1F): the memory operand is not accessed. */
const XInsn *xi_nop_rm(X86CPU *cpu, const XInsn *in)
{
    X86_NEXT(cpu, in);
}

const XInsn *xi_ud2(X86CPU *cpu, const XInsn *in)
{
    return x86_raise(cpu, in, X86_EXC_UD, X86_NO_ERR);
}
