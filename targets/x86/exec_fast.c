/* Specialised variants of the hot general-purpose handlers (X86Fast,
 * insn.h): the decoder picks one when an instruction has operand size 4
 * or 8 and a register operand (any mode), or a memory operand with 64-bit
 * addressing through a segment without a base (64-bit mode) or 32-bit
 * addressing through a flat ES/SS/DS (X86_HF_FLAT32).  So the size
 * switches of x86_reg_get/x86_reg_set, the ModRM.mod test and the
 * segmentation checks are gone from the hot path: a register is one load,
 * a memory operand one add and a TLB compare (x86_ld_flat/x86_st_flat).
 *
 * Each variant computes exactly what the generic handler computes for its
 * form (the generic ones are in exec_alu.c and exec_ctl.c; the unit and
 * differential tests run both).
 *
 * Every variant is compiled twice from one body: the fast one serves
 * memory operands from TLB hits only and on anything else (a miss, an
 * unaligned access) restarts the instruction in its slow twin, which
 * uses the out-of-line accessors (faults included).  That keeps the fast
 * one free of locals whose address escapes, so its dispatch of the next
 * instruction is a tail jump and not a nested call.  The restart is exact
 * because no state changes before the last access: a store that misses
 * after a load that hit just repeats the (RAM) load.  Non-canonical
 * branch targets go to the generic handler, which raises the fault. */
#include "targets/x86/exec.h"

typedef unsigned __int128 u128;
typedef __int128 s128;

/* ---- operands ---- */

static XI_ALWAYS uint64_t rd(const X86CPU *cpu, unsigned r, unsigned sz)
{
    return sz == 8 ? cpu->regs[r] : (uint32_t)cpu->regs[r];
}

/* 32-bit results zero-extend. */
static XI_ALWAYS void wr(X86CPU *cpu, unsigned r, unsigned sz, uint64_t v)
{
    cpu->regs[r] = sz == 8 ? v : (uint32_t)v;
}

/* The memory operand's linear address: 64-bit addressing through a
 * segment without a base, or 32-bit addressing (wrapping at 4 GiB) through
 * a flat one. */
static XI_ALWAYS uint64_t ea(const X86CPU *cpu, const XInsn *in)
{
    uint64_t a = (uint64_t)in->disp;
    if (in->base != X86_NONE)
        a += cpu->regs[in->base];
    if (in->index != X86_NONE)
        a += cpu->regs[in->index] << in->scale;
    return in->asize == 4 ? (uint32_t)a : a;
}

/* Memory access for a body compiled with `slow` (the twin to restart in,
 * or NULL in the twin itself): false means "return FAIL". */
static XI_ALWAYS bool ld(X86CPU *cpu, const XInsn *in, XHandler *slow, int seg,
                         uint64_t lin, unsigned sz, uint64_t *v)
{
    if (!slow)
        return x86_ld(cpu, in, seg, lin, sz, v);
    const X86TlbEntry *t = x86_tlb_entry(cpu, x86_cpl(cpu) == 3, X86_ACC_READ, lin);
    if (likely((((lin & ~0xfffull) ^ t->tag) | (lin & (sz - 1))) == 0)) {
        *v = mem_load_le((const uint8_t *)(uintptr_t)(lin + t->addend), sz);
        return true;
    }
    return false;
}

static XI_ALWAYS bool st(X86CPU *cpu, const XInsn *in, XHandler *slow, int seg,
                         uint64_t lin, unsigned sz, uint64_t v)
{
    if (!slow)
        return x86_st(cpu, in, seg, lin, sz, v);
    const X86TlbEntry *t = x86_tlb_entry(cpu, x86_cpl(cpu) == 3, X86_ACC_WRITE, lin);
    if (likely((((lin & ~0xfffull) ^ t->tag) | (lin & (sz - 1))) == 0)) {
        mem_store_le((uint8_t *)(uintptr_t)(lin + t->addend), sz, v);
        return true;
    }
    return false;
}

/* After a failed ld/st: the fast body restarts in its twin, the twin
 * leaves the block (the fault has been raised). */
#define FAIL (slow ? slow(cpu, in) : NULL)

/* The r/m operand: register rm or memory. */
static XI_ALWAYS bool rm_get(X86CPU *cpu, const XInsn *in, XHandler *slow, unsigned sz,
                             bool mem, uint64_t *v)
{
    if (!mem) {
        *v = rd(cpu, in->rm, sz);
        return true;
    }
    return ld(cpu, in, slow, in->seg, ea(cpu, in), sz, v);
}

/* One variant from body(cpu, in, slow, size, mem): the fast handler and
 * its slow twin. */
#define VARIANT(name, body, sz, mem)                                          \
static __attribute__((noinline, cold)) const XInsn *                          \
name##_slow(X86CPU *cpu, const XInsn *in)                                     \
{ return body(cpu, in, NULL, sz, mem); }                                      \
static const XInsn *name(X86CPU *cpu, const XInsn *in)                        \
{ return body(cpu, in, name##_slow, sz, mem); }

/* The four variants of one operation and the X86Fast the opcode table
 * points to. */
#define FAST4(name, body)                                                     \
VARIANT(name##_r4, body, 4, false)                                            \
VARIANT(name##_r8, body, 8, false)                                            \
VARIANT(name##_m4, body, 4, true)                                             \
VARIANT(name##_m8, body, 8, true)                                             \
const X86Fast xf_##name = { { name##_r4, name##_r8 }, { name##_m4, name##_m8 } };

/* Register forms only. */
#define FAST2(name, body)                                                     \
VARIANT(name##_r4, body, 4, false)                                            \
VARIANT(name##_r8, body, 8, false)                                            \
const X86Fast xf_##name = { { name##_r4, name##_r8 }, { NULL, NULL } };

/* Memory forms only. */
#define FAST2M(name, body)                                                    \
VARIANT(name##_m4, body, 4, true)                                             \
VARIANT(name##_m8, body, 8, true)                                             \
const X86Fast xf_##name = { { NULL, NULL }, { name##_m4, name##_m8 } };

/* Body parameters: cpu, in, the slow twin (NULL in the twin), operand
 * size, memory form. */
#define BODY_ARGS X86CPU *cpu, const XInsn *in, XHandler *slow, unsigned sz, bool mem

/* ---- ADD OR AND SUB XOR CMP TEST ---- */

enum { OP_ADD, OP_OR, OP_AND, OP_SUB, OP_XOR, OP_CMP, OP_TEST };

static XI_ALWAYS uint64_t calc(unsigned op, uint64_t a, uint64_t b)
{
    switch (op) {
    case OP_ADD: return a + b;
    case OP_OR: return a | b;
    case OP_AND: case OP_TEST: return a & b;
    case OP_XOR: return a ^ b;
    default: return a - b;
    }
}

/* The lazy flags (flags.h): LOGIC needs the result only. */
static XI_ALWAYS void set_cc(X86CPU *cpu, unsigned op, unsigned sz, uint64_t r, uint64_t b)
{
    switch (op) {
    case OP_ADD:
        x86_cc(cpu, X86_CC_ADD, sz, r, b);
        break;
    case OP_SUB: case OP_CMP:
        x86_cc(cpu, X86_CC_SUB, sz, r, b);
        break;
    default:
        cpu->cc_op = X86_CC_LOGIC * 4 + x86_size_log2(sz);
        cpu->cc_dst = r;
        break;
    }
}

#define STORES(op) ((op) != OP_CMP && (op) != OP_TEST)

/* r/m op= b */
static XI_ALWAYS const XInsn *alu_rm(BODY_ARGS, unsigned op, uint64_t b)
{
    uint64_t a, r;
    if (!mem) {
        a = rd(cpu, in->rm, sz);
        r = calc(op, a, b);
        if (STORES(op))
            wr(cpu, in->rm, sz, r);
    } else {
        uint64_t lin = ea(cpu, in);
        if (!ld(cpu, in, slow, in->seg, lin, sz, &a))
            return FAIL;
        r = calc(op, a, b);
        if (STORES(op) && !st(cpu, in, slow, in->seg, lin, sz, r))
            return FAIL;
    }
    set_cc(cpu, op, sz, r, b);
    X86_NEXT(cpu, in);
}

/* reg op= r/m */
static XI_ALWAYS const XInsn *alu_r(BODY_ARGS, unsigned op)
{
    uint64_t b;
    if (!rm_get(cpu, in, slow, sz, mem, &b))
        return FAIL;
    uint64_t r = calc(op, rd(cpu, in->reg, sz), b);
    if (STORES(op))
        wr(cpu, in->reg, sz, r);
    set_cc(cpu, op, sz, r, b);
    X86_NEXT(cpu, in);
}

/* rAX op= imm (no ModRM: always the register form) */
static XI_ALWAYS const XInsn *alu_a(BODY_ARGS, unsigned op)
{
    (void)slow, (void)mem;
    uint64_t r = calc(op, rd(cpu, X86_RAX, sz), in->imm);
    if (STORES(op))
        wr(cpu, X86_RAX, sz, r);
    set_cc(cpu, op, sz, r, in->imm);
    X86_NEXT(cpu, in);
}

#define FAST_ALU(name, OP)                                                    \
static XI_ALWAYS const XInsn *name##_rm_r_(BODY_ARGS)                         \
{ return alu_rm(cpu, in, slow, sz, mem, OP, rd(cpu, in->reg, sz)); }          \
static XI_ALWAYS const XInsn *name##_rm_i_(BODY_ARGS)                         \
{ return alu_rm(cpu, in, slow, sz, mem, OP, in->imm); }                       \
static XI_ALWAYS const XInsn *name##_a_i_(BODY_ARGS)                          \
{ return alu_a(cpu, in, slow, sz, mem, OP); }                                 \
FAST4(name##_rm_r, name##_rm_r_)                                              \
FAST4(name##_rm_i, name##_rm_i_)                                              \
FAST2(name##_a_i, name##_a_i_)

#define FAST_ALU_R(name, OP)                                                  \
FAST_ALU(name, OP)                                                            \
static XI_ALWAYS const XInsn *name##_r_rm_(BODY_ARGS)                         \
{ return alu_r(cpu, in, slow, sz, mem, OP); }                                 \
FAST4(name##_r_rm, name##_r_rm_)

FAST_ALU_R(add, OP_ADD)
FAST_ALU_R(or, OP_OR)
FAST_ALU_R(and, OP_AND)
FAST_ALU_R(sub, OP_SUB)
FAST_ALU_R(xor, OP_XOR)
FAST_ALU_R(cmp, OP_CMP)
FAST_ALU(test, OP_TEST)

/* ---- INC DEC NOT NEG ---- */

enum { U_INC, U_DEC, U_NOT, U_NEG };

static XI_ALWAYS const XInsn *unary(BODY_ARGS, unsigned kind)
{
    uint64_t a, r, lin = 0;
    if (!mem) {
        a = rd(cpu, in->rm, sz);
    } else {
        lin = ea(cpu, in);
        if (!ld(cpu, in, slow, in->seg, lin, sz, &a))
            return FAIL;
    }
    switch (kind) {
    case U_INC: r = a + 1; break;
    case U_DEC: r = a - 1; break;
    case U_NOT: r = ~a; break;
    default: r = -a; break;
    }
    if (!mem)
        wr(cpu, in->rm, sz, r);
    else if (!st(cpu, in, slow, in->seg, lin, sz, r))
        return FAIL;
    switch (kind) {
    case U_INC: x86_cc(cpu, X86_CC_INC, sz, r, x86_cf(cpu)); break;
    case U_DEC: x86_cc(cpu, X86_CC_DEC, sz, r, x86_cf(cpu)); break;
    case U_NOT: break;
    default: x86_cc(cpu, X86_CC_SUB, sz, r, a); break;
    }
    X86_NEXT(cpu, in);
}

#define FAST_UNARY(name, K)                                                   \
static XI_ALWAYS const XInsn *name##_(BODY_ARGS)                              \
{ return unary(cpu, in, slow, sz, mem, K); }                                  \
FAST4(name, name##_)

FAST_UNARY(inc_rm, U_INC)
FAST_UNARY(dec_rm, U_DEC)
FAST_UNARY(not_rm, U_NOT)
FAST_UNARY(neg_rm, U_NEG)

/* ---- SHL SHR SAR (register operand) ---- */

enum { S_SHL, S_SHR, S_SAR };

/* v shifted, with the flags; a zero count changes no flag (the register
 * is still written, so a 32-bit one is zero-extended). */
static XI_ALWAYS uint64_t shift_val(X86CPU *cpu, unsigned op, unsigned sz, unsigned count,
                                    uint64_t v)
{
    unsigned c = count & (sz == 8 ? 63 : 31);
    uint64_t r, src;
    if (unlikely(c == 0))
        return v;
    switch (op) {
    case S_SHL:
        r = v << c;
        src = v << (c - 1);
        x86_cc(cpu, X86_CC_SHL, sz, r, src);
        break;
    case S_SHR:
        r = v >> c;
        src = v >> (c - 1);
        x86_cc3(cpu, X86_CC_SHR, sz, r, src, v);
        break;
    default: {
        int64_t sv = sz == 8 ? (int64_t)v : (int64_t)(int32_t)v;
        r = (uint64_t)(sv >> c);
        src = (uint64_t)(sv >> (c - 1));
        x86_cc(cpu, X86_CC_SAR, sz, r, src);
        break;
    }
    }
    return r;
}

static XI_ALWAYS const XInsn *shift(X86CPU *cpu, const XInsn *in, unsigned op,
                                    unsigned sz, unsigned count)
{
    wr(cpu, in->rm, sz, shift_val(cpu, op, sz, count, rd(cpu, in->rm, sz)));
    X86_NEXT(cpu, in);
}

#define FAST_SHIFT(name, OP)                                                  \
static XI_ALWAYS const XInsn *name##_i_(BODY_ARGS)                            \
{ (void)slow, (void)mem; return shift(cpu, in, OP, sz, (unsigned)in->imm & 0xff); } \
static XI_ALWAYS const XInsn *name##_1_(BODY_ARGS)                            \
{ (void)slow, (void)mem; return shift(cpu, in, OP, sz, 1); }                  \
static XI_ALWAYS const XInsn *name##_cl_(BODY_ARGS)                           \
{                                                                             \
    (void)slow, (void)mem;                                                    \
    return shift(cpu, in, OP, sz, (unsigned)cpu->regs[X86_RCX] & 0xff);       \
}                                                                             \
FAST2(name##_i, name##_i_)                                                    \
FAST2(name##_1, name##_1_)                                                    \
FAST2(name##_cl, name##_cl_)

FAST_SHIFT(shl, S_SHL)
FAST_SHIFT(shr, S_SHR)
FAST_SHIFT(sar, S_SAR)

/* ---- IMUL r, r/m (, imm) ---- */

static XI_ALWAYS const XInsn *imul(X86CPU *cpu, const XInsn *in, unsigned sz,
                                   uint64_t a, uint64_t b)
{
    uint64_t lo, ovf;
    if (sz == 8) {
        s128 p = (s128)(int64_t)a * (int64_t)b;
        lo = (uint64_t)p;
        ovf = p != (int64_t)lo;
    } else {
        int64_t p = (int64_t)(int32_t)a * (int32_t)b;
        lo = (uint64_t)p;
        ovf = p != (int32_t)lo;
    }
    wr(cpu, in->reg, sz, lo);
    x86_cc(cpu, X86_CC_MUL, sz, lo, ovf);
    X86_NEXT(cpu, in);
}

static XI_ALWAYS const XInsn *imul_r_rm_(BODY_ARGS)
{
    uint64_t b;
    if (!rm_get(cpu, in, slow, sz, mem, &b))
        return FAIL;
    return imul(cpu, in, sz, rd(cpu, in->reg, sz), b);
}

static XI_ALWAYS const XInsn *imul_r_rm_i_(BODY_ARGS)
{
    uint64_t a;
    if (!rm_get(cpu, in, slow, sz, mem, &a))
        return FAIL;
    return imul(cpu, in, sz, a, in->imm);
}

FAST4(imul_r_rm, imul_r_rm_)
FAST4(imul_r_rm_i, imul_r_rm_i_)

/* ---- MOV LEA MOVSXD MOVZX MOVSX CMOVcc ---- */

static XI_ALWAYS const XInsn *mov_rm_r_(BODY_ARGS)
{
    uint64_t v = rd(cpu, in->reg, sz);
    if (!mem)
        wr(cpu, in->rm, sz, v);
    else if (!st(cpu, in, slow, in->seg, ea(cpu, in), sz, v))
        return FAIL;
    X86_NEXT(cpu, in);
}

static XI_ALWAYS const XInsn *mov_r_rm_(BODY_ARGS)
{
    uint64_t v;
    if (!rm_get(cpu, in, slow, sz, mem, &v))
        return FAIL;
    wr(cpu, in->reg, sz, v);
    X86_NEXT(cpu, in);
}

static XI_ALWAYS const XInsn *mov_rm_i_(BODY_ARGS)
{
    if (!mem)
        wr(cpu, in->rm, sz, in->imm);
    else if (!st(cpu, in, slow, in->seg, ea(cpu, in), sz, in->imm))
        return FAIL;
    X86_NEXT(cpu, in);
}

/* B8+r: reg is the register (PLUSR). */
static XI_ALWAYS const XInsn *mov_r_i_(BODY_ARGS)
{
    (void)slow, (void)mem;
    wr(cpu, in->reg, sz, in->imm);
    X86_NEXT(cpu, in);
}

static XI_ALWAYS const XInsn *lea_(BODY_ARGS)
{
    (void)slow, (void)mem;
    wr(cpu, in->reg, sz, ea(cpu, in));
    X86_NEXT(cpu, in);
}

/* MOVSXD: sign-extends with REX.W, else a plain 32-bit move. */
static XI_ALWAYS const XInsn *movsxd_(BODY_ARGS)
{
    uint64_t v;
    if (!rm_get(cpu, in, slow, 4, mem, &v))
        return FAIL;
    wr(cpu, in->reg, sz, sz == 8 ? (uint64_t)(int64_t)(int32_t)v : v);
    X86_NEXT(cpu, in);
}

/* MOVZX/MOVSX from memory (byte registers have the AH mapping: those stay
 * generic) and from a 16-bit register. */
static XI_ALWAYS const XInsn *movx(BODY_ARGS, unsigned ssz, bool sx)
{
    uint64_t v;
    if (!mem)
        v = cpu->regs[in->rm] & 0xffff;
    else if (!ld(cpu, in, slow, in->seg, ea(cpu, in), ssz, &v))
        return FAIL;
    if (sx)
        v = ssz == 1 ? (uint64_t)(int64_t)(int8_t)v : (uint64_t)(int64_t)(int16_t)v;
    wr(cpu, in->reg, sz, v);
    X86_NEXT(cpu, in);
}

static XI_ALWAYS const XInsn *movzx_b_(BODY_ARGS)
{ return movx(cpu, in, slow, sz, mem, 1, false); }
static XI_ALWAYS const XInsn *movsx_b_(BODY_ARGS)
{ return movx(cpu, in, slow, sz, mem, 1, true); }
static XI_ALWAYS const XInsn *movzx_w_(BODY_ARGS)
{ return movx(cpu, in, slow, sz, mem, 2, false); }
static XI_ALWAYS const XInsn *movsx_w_(BODY_ARGS)
{ return movx(cpu, in, slow, sz, mem, 2, true); }

/* CMOVcc reads its source whatever the condition; a select, not a branch
 * (the condition is data), and a 32-bit destination is zero-extended
 * either way. */
static XI_ALWAYS const XInsn *cmov_(BODY_ARGS)
{
    uint64_t v;
    if (!rm_get(cpu, in, slow, sz, mem, &v))
        return FAIL;
    uint64_t keep = -(uint64_t)!x86_cond_inline(cpu, in->cc);
    wr(cpu, in->reg, sz, (v & ~keep) | (cpu->regs[in->reg] & keep));
    X86_NEXT(cpu, in);
}

FAST4(mov_rm_r, mov_rm_r_)
FAST4(mov_r_rm, mov_r_rm_)
FAST4(mov_rm_i, mov_rm_i_)
FAST2(mov_r_i, mov_r_i_)
FAST2M(lea, lea_)
FAST4(movsxd, movsxd_)
FAST2M(movzx_b, movzx_b_)
FAST2M(movsx_b, movsx_b_)
FAST4(movzx_w, movzx_w_)
FAST4(movsx_w, movsx_w_)
FAST4(cmov, cmov_)

/* ---- branches and the stack (operand size 8: near branches, PUSH/POP) ----
 * In 64-bit mode SS has no base and the stack pointer is all of RSP. */

static XI_ALWAYS const XInsn *jcc_take(X86CPU *cpu, const XInsn *in, bool take)
{
    if (unlikely(take && !x86_canonical(in->imm)))
        return xi_jcc(cpu, in);
    cpu->brcount++;
    return x86_jump_chain(cpu, in, take ? in->imm : x86_next_rip(in), true);
}

static XI_ALWAYS const XInsn *jcc_(BODY_ARGS)
{
    (void)slow, (void)sz, (void)mem;
    return jcc_take(cpu, in, x86_cond_inline(cpu, in->cc));
}

static XI_ALWAYS const XInsn *jmp_rel_(BODY_ARGS)
{
    (void)slow, (void)sz, (void)mem;
    if (unlikely(!x86_canonical(in->imm)))
        return xi_jmp_rel(cpu, in);
    return x86_jump_chain(cpu, in, in->imm, true);
}

static XI_ALWAYS const XInsn *call_rel_(BODY_ARGS)
{
    (void)sz, (void)mem;
    if (unlikely(!x86_canonical(in->imm)))
        return xi_call_rel(cpu, in);
    uint64_t sp = cpu->regs[X86_RSP] - 8;
    if (!st(cpu, in, slow, X86_SS, sp, 8, x86_next_rip(in)))
        return FAIL;
    cpu->regs[X86_RSP] = sp;
    return x86_jump_chain(cpu, in, in->imm, true);
}

static XI_ALWAYS const XInsn *ret_(BODY_ARGS)
{
    (void)sz, (void)mem;
    uint64_t t, sp = cpu->regs[X86_RSP];
    if (!ld(cpu, in, slow, X86_SS, sp, 8, &t))
        return FAIL;
    if (unlikely(!x86_canonical(t)))
        return xi_ret(cpu, in);
    cpu->regs[X86_RSP] = sp + 8;
    return x86_jump_chain(cpu, in, t, true);
}

static XI_ALWAYS const XInsn *push_r_(BODY_ARGS)
{
    (void)sz, (void)mem;
    uint64_t sp = cpu->regs[X86_RSP] - 8;
    if (!st(cpu, in, slow, X86_SS, sp, 8, cpu->regs[in->reg]))
        return FAIL;
    cpu->regs[X86_RSP] = sp;
    X86_NEXT(cpu, in);
}

/* POP RSP leaves the popped value in RSP. */
static XI_ALWAYS const XInsn *pop_r_(BODY_ARGS)
{
    (void)sz, (void)mem;
    uint64_t v, sp = cpu->regs[X86_RSP];
    if (!ld(cpu, in, slow, X86_SS, sp, 8, &v))
        return FAIL;
    cpu->regs[X86_RSP] = sp + 8;
    cpu->regs[in->reg] = v;
    X86_NEXT(cpu, in);
}

/* Operand size 8 only (near branches and PUSH/POP have no 32-bit form in
 * 64-bit mode). */
#define FAST1(name, body)                                                     \
VARIANT(name##_r8, body, 8, false)                                            \
const X86Fast xf_##name = { { NULL, name##_r8 }, { NULL, NULL } };

FAST1(jcc, jcc_)
FAST1(jmp_rel, jmp_rel_)
FAST1(call_rel, call_rel_)
FAST1(ret, ret_)
FAST1(push_r, push_r_)
FAST1(pop_r, pop_r_)

/* ---- fused pairs ----
 * The two-operand idiom "MOV r1, r2; SHx r1, imm" runs as one handler
 * (x86_fuse): the copy goes straight into the shift instead of through
 * the register file, and there is one dispatch instead of two.  So does
 * a register CMP or TEST and the Jcc after it (the flags are still
 * recorded: they stay live after the branch).  The pair
 * still is two instructions: the second keeps its own handler, and the
 * first runs it fused only while it is still there.  When the engine
 * stops a block before the second (a budget or single-step end, a store
 * into the running block), it replaces that handler and the first runs
 * alone.  Neither can fault, so icount needs nothing else. */

/* MOV with the destination in rm (89) or in reg (8B). */
static XI_ALWAYS const XInsn *mov_shift(X86CPU *cpu, const XInsn *in, bool to_rm,
                                        unsigned sz, unsigned op, XHandler *partner)
{
    unsigned dst = to_rm ? in->rm : in->reg, src = to_rm ? in->reg : in->rm;
    uint64_t v = rd(cpu, src, sz);
    const XInsn *n = in + 1;
    if (unlikely(n->fn != partner)) {
        wr(cpu, dst, sz, v);
        X86_NEXT(cpu, in);
    }
    wr(cpu, dst, sz, shift_val(cpu, op, sz, (unsigned)n->imm & 0xff, v));
    X86_NEXT(cpu, n);
}

#define FUSED_SHIFT(mov, TO_RM, sh, OP, SZ)                                   \
static const XInsn *mov##_##sh##_i_r##SZ(X86CPU *cpu, const XInsn *in)       \
{ return mov_shift(cpu, in, TO_RM, SZ, OP, sh##_i_r##SZ); }

#define FUSED_SHIFTS(mov, TO_RM, SZ)                                          \
FUSED_SHIFT(mov, TO_RM, shl, S_SHL, SZ)                                       \
FUSED_SHIFT(mov, TO_RM, shr, S_SHR, SZ)                                       \
FUSED_SHIFT(mov, TO_RM, sar, S_SAR, SZ)

FUSED_SHIFTS(mov_rm_r, true, 4)
FUSED_SHIFTS(mov_rm_r, true, 8)
FUSED_SHIFTS(mov_r_rm, false, 4)
FUSED_SHIFTS(mov_r_rm, false, 8)

/* And the two idioms that continue such a pair with a register ALU
 * operation on its result: "x ^= x << n" (MOV t, x; SHL t, n; XOR x, t,
 * or XOR t, x: the xorshift step of hashes) and "(x >> n) & mask" (MOV t, x; SHR t, n;
 * AND t, imm, a field extraction).  The third keeps its own handler too,
 * and runs fused only while both partners are in place.  The flags end
 * up exactly as the three would leave them one by one. */
enum { T_XOR, T_XORD, T_AND };

static XI_ALWAYS const XInsn *mov_shift3(X86CPU *cpu, const XInsn *in, bool to_rm,
                                         unsigned sz, unsigned op, XHandler *partner,
                                         unsigned third, unsigned tsz, XHandler *partner3)
{
    unsigned dst = to_rm ? in->rm : in->reg, src = to_rm ? in->reg : in->rm;
    uint64_t v = rd(cpu, src, sz);
    const XInsn *n = in + 1, *n3 = in + 2;
    if (unlikely(n->fn != partner)) {
        wr(cpu, dst, sz, v);
        X86_NEXT(cpu, in);
    }
    uint64_t r = shift_val(cpu, op, sz, (unsigned)n->imm & 0xff, v);
    wr(cpu, dst, sz, r);
    if (unlikely(n3->fn != partner3))
        X86_NEXT(cpu, n);
    if (third == T_XOR) {
        /* XOR rm, reg with rm == src and reg == dst (x86_fuse checks). */
        uint64_t x = v ^ r;
        wr(cpu, src, sz, x);
        set_cc(cpu, OP_XOR, sz, x, r);
    } else if (third == T_XORD) {
        /* XOR rm, reg with rm == dst and reg == src. */
        uint64_t x = r ^ v;
        wr(cpu, dst, sz, x);
        set_cc(cpu, OP_XOR, sz, x, v);
    } else {
        /* AND rm, imm with rm == dst. */
        uint64_t x = r & n3->imm;
        if (tsz == 4)
            x = (uint32_t)x;
        wr(cpu, dst, tsz, x);
        set_cc(cpu, OP_AND, tsz, x, n3->imm);
    }
    X86_NEXT(cpu, n3);
}

#define FUSED3(mov, TO_RM, sh, OP, SZ, t, T, TSZ, p3)                         \
static const XInsn *mov##_##sh##_i_r##SZ##_##t(X86CPU *cpu, const XInsn *in)  \
{ return mov_shift3(cpu, in, TO_RM, SZ, OP, sh##_i_r##SZ, T, TSZ, p3); }

#define FUSED3S(mov, TO_RM, SZ)                                               \
FUSED3(mov, TO_RM, shl, S_SHL, SZ, xor, T_XOR, SZ, xor_rm_r_r##SZ)            \
FUSED3(mov, TO_RM, shr, S_SHR, SZ, xor, T_XOR, SZ, xor_rm_r_r##SZ)            \
FUSED3(mov, TO_RM, shl, S_SHL, SZ, xord, T_XORD, SZ, xor_rm_r_r##SZ)          \
FUSED3(mov, TO_RM, shr, S_SHR, SZ, xord, T_XORD, SZ, xor_rm_r_r##SZ)          \
FUSED3(mov, TO_RM, shr, S_SHR, SZ, and4, T_AND, 4, and_rm_i_r4)               \
FUSED3(mov, TO_RM, shr, S_SHR, SZ, and8, T_AND, 8, and_rm_i_r8)               \
FUSED3(mov, TO_RM, sar, S_SAR, SZ, and4, T_AND, 4, and_rm_i_r4)               \
FUSED3(mov, TO_RM, sar, S_SAR, SZ, and8, T_AND, 8, and_rm_i_r8)

FUSED3S(mov_rm_r, true, 4)
FUSED3S(mov_rm_r, true, 8)
FUSED3S(mov_r_rm, false, 4)
FUSED3S(mov_r_rm, false, 8)

/* CMP/TEST on registers (r/m with reg or imm, or reg with r/m), then Jcc. */
enum { C_RM_R, C_RM_I, C_R_RM };

static XI_ALWAYS const XInsn *cmp_jcc(X86CPU *cpu, const XInsn *in, unsigned op,
                                      unsigned form, unsigned sz, XHandler *partner)
{
    uint64_t a = rd(cpu, form == C_R_RM ? in->reg : in->rm, sz);
    uint64_t b = form == C_RM_I ? in->imm : rd(cpu, form == C_R_RM ? in->rm : in->reg, sz);
    uint64_t d = calc(op, a, b);
    set_cc(cpu, op, sz, d, b);
    const XInsn *n = in + 1;
    if (unlikely(n->fn != partner))
        X86_NEXT(cpu, in);
    /* The condition straight from the operands (x86_cond_inline would
     * find them again in the lazy flags). */
    const uint64_t m = sz == 8 ? ~0ull : 0xffffffffull, sb = (m >> 1) + 1;
    b &= m;
    d &= m;
    const unsigned cc = n->cc;
    const bool neg = cc & 1;
    bool c;
    if (op == OP_CMP) {
        switch (cc >> 1) {
        case 0: c = ((a ^ b) & (a ^ d) & sb) != 0; break;
        case 1: c = a < b; break;
        case 2: c = a == b; break;
        case 3: c = a <= b; break;
        case 4: c = (d & sb) != 0; break;
        case 5: return jcc_(cpu, n, NULL, 8, false);
        case 6: c = (a ^ sb) < (b ^ sb); break;
        default: c = (a ^ sb) <= (b ^ sb); break;
        }
    } else {
        switch (cc >> 1) {
        case 0: case 1: c = false; break;
        case 2: case 3: c = d == 0; break;
        case 4: case 6: c = (d & sb) != 0; break;
        case 5: return jcc_(cpu, n, NULL, 8, false);
        default: c = d == 0 || (d & sb); break;
        }
    }
    return jcc_take(cpu, n, c ^ neg);
}

#define FUSED_JCC(name, OP, FORM, SZ)                                         \
static const XInsn *name##_r##SZ##_jcc(X86CPU *cpu, const XInsn *in)          \
{ return cmp_jcc(cpu, in, OP, FORM, SZ, jcc_r8); }
#define FUSED_JCCS(name, OP, FORM) FUSED_JCC(name, OP, FORM, 4) FUSED_JCC(name, OP, FORM, 8)

FUSED_JCCS(cmp_rm_r, OP_CMP, C_RM_R)
FUSED_JCCS(cmp_rm_i, OP_CMP, C_RM_I)
FUSED_JCCS(cmp_r_rm, OP_CMP, C_R_RM)
FUSED_JCCS(test_rm_r, OP_TEST, C_RM_R)
FUSED_JCCS(test_rm_i, OP_TEST, C_RM_I)

typedef struct Fusion {
    XHandler *first, *second, *fused;
    int to_rm;               /* the second's rm must be the first's
                              * destination: rm (1) or reg (0); -1: no
                              * condition */
} Fusion;

/* Triples: a MOV+shift pair (the first two as in Fusion, to_rm given)
 * and a third operating on the pair's registers. */
typedef struct Fusion3 {
    XHandler *first, *second, *third, *fused;
    int to_rm;
    unsigned third_kind;     /* T_XOR: rm = MOV's source, reg = its
                              * destination; T_XORD: the other way
                              * round; T_AND: rm = destination */
} Fusion3;

#define FUSION3(mov, TO_RM, sh, SZ, t, T, p3) \
    { mov##_r##SZ, sh##_i_r##SZ, p3, mov##_##sh##_i_r##SZ##_##t, TO_RM, T },
#define FUSIONS3(mov, TO_RM, SZ) \
    FUSION3(mov, TO_RM, shl, SZ, xor, T_XOR, xor_rm_r_r##SZ) \
    FUSION3(mov, TO_RM, shr, SZ, xor, T_XOR, xor_rm_r_r##SZ) \
    FUSION3(mov, TO_RM, shl, SZ, xord, T_XORD, xor_rm_r_r##SZ) \
    FUSION3(mov, TO_RM, shr, SZ, xord, T_XORD, xor_rm_r_r##SZ) \
    FUSION3(mov, TO_RM, shr, SZ, and4, T_AND, and_rm_i_r4) \
    FUSION3(mov, TO_RM, shr, SZ, and8, T_AND, and_rm_i_r8) \
    FUSION3(mov, TO_RM, sar, SZ, and4, T_AND, and_rm_i_r4) \
    FUSION3(mov, TO_RM, sar, SZ, and8, T_AND, and_rm_i_r8)

static const Fusion3 fusions3[] = {
    FUSIONS3(mov_rm_r, true, 4)
    FUSIONS3(mov_rm_r, true, 8)
    FUSIONS3(mov_r_rm, false, 4)
    FUSIONS3(mov_r_rm, false, 8)
};

static bool fuse3(XInsn *insns, unsigned i, unsigned n)
{
    if (i + 2 >= n)
        return false;
    XInsn *a = &insns[i], *b = &insns[i + 1], *c = &insns[i + 2];
    for (size_t k = 0; k < sizeof(fusions3) / sizeof(fusions3[0]); k++) {
        const Fusion3 *f = &fusions3[k];
        if (a->fn != f->first || b->fn != f->second || c->fn != f->third)
            continue;
        unsigned dst = f->to_rm ? a->rm : a->reg, src = f->to_rm ? a->reg : a->rm;
        if (b->rm != dst)
            continue;
        if (f->third_kind == T_AND ? c->rm != dst
            : src == dst || c->rm != (f->third_kind == T_XOR ? src : dst) ||
              c->reg != (f->third_kind == T_XOR ? dst : src))
            continue;
        a->fn = f->fused;
        return true;
    }
    return false;
}

#define FUSION(mov, TO_RM, sh, SZ) \
    { mov##_r##SZ, sh##_i_r##SZ, mov##_##sh##_i_r##SZ, TO_RM },
#define FUSIONS(mov, TO_RM, SZ) \
    FUSION(mov, TO_RM, shl, SZ) FUSION(mov, TO_RM, shr, SZ) FUSION(mov, TO_RM, sar, SZ)

static const Fusion fusions[] = {
    FUSIONS(mov_rm_r, true, 4)
    FUSIONS(mov_rm_r, true, 8)
    FUSIONS(mov_r_rm, false, 4)
    FUSIONS(mov_r_rm, false, 8)
#define FUSION_JCC(name) \
    { name##_r4, jcc_r8, name##_r4_jcc, -1 }, { name##_r8, jcc_r8, name##_r8_jcc, -1 },
    FUSION_JCC(cmp_rm_r) FUSION_JCC(cmp_rm_i) FUSION_JCC(cmp_r_rm)
    FUSION_JCC(test_rm_r) FUSION_JCC(test_rm_i)
};

void x86_fuse(XInsn *insns, unsigned n)
{
    for (unsigned i = 0; i + 1 < n; i++) {
        if (fuse3(insns, i, n)) {
            i += 2;
            continue;
        }
        XInsn *a = &insns[i], *b = &insns[i + 1];
        for (size_t k = 0; k < sizeof(fusions) / sizeof(fusions[0]); k++) {
            const Fusion *f = &fusions[k];
            if (a->fn == f->first && b->fn == f->second &&
                (f->to_rm < 0 || b->rm == (f->to_rm ? a->rm : a->reg))) {
                a->fn = f->fused;
                i++;
                break;
            }
        }
    }
}
