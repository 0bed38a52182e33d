/* General-purpose arithmetic: ADD..CMP, TEST, INC/DEC, NOT/NEG, MUL/DIV,
 * shifts and rotates, SHLD/SHRD, BT*, BSF/BSR, POPCNT/TZCNT/LZCNT, BCD
 * adjusts, CMPXCHG/XADD, BMI1/BMI2, and the opcode table x86_ops_int[] of
 * every general-purpose instruction (exec_ctl.c and exec_str.c hold the
 * rest of the handlers).
 *
 * A memory destination is written before any flag or register changes, so
 * a faulting store leaves the architectural state as it was.  Flags the
 * SDM leaves undefined follow QEMU TCG (the differential reference), noted
 * where they are set. */
#include "targets/x86/exec.h"

typedef unsigned __int128 u128;
typedef __int128 s128;

/* Segment base as the hardware applies it (for alignment checks on linear
 * addresses): in 64-bit mode only FS and GS have one. */
static inline uint64_t seg_base(const X86CPU *cpu, unsigned seg)
{
    if ((cpu->hflags & X86_HF_CS64) && seg != X86_FS && seg != X86_GS)
        return 0;
    return cpu->seg[seg].base;
}

static const XInsn *raise_ud(X86CPU *cpu, const XInsn *in)
{
    return x86_raise(cpu, in, X86_EXC_UD, X86_NO_ERR);
}

/* Merge CF/OF (or another subset) into the materialised flags. */
static inline void set_flags_masked(X86CPU *cpu, uint32_t mask, uint32_t f)
{
    x86_set_arith(cpu, (x86_arith(cpu) & ~mask) | (f & mask));
}

/* ---- ADD OR ADC SBB AND SUB XOR CMP TEST ---- */

enum { A_ADD, A_OR, A_ADC, A_SBB, A_AND, A_SUB, A_XOR, A_CMP, A_TEST };

static const uint8_t alu_ccop[9] = {
    X86_CC_ADD, X86_CC_LOGIC, X86_CC_ADC, X86_CC_SBB, X86_CC_LOGIC,
    X86_CC_SUB, X86_CC_LOGIC, X86_CC_SUB, X86_CC_LOGIC,
};

static XI_ALWAYS uint64_t alu_calc(unsigned op, uint64_t a, uint64_t b, uint64_t c)
{
    switch (op) {
    case A_ADD: return a + b;
    case A_OR: return a | b;
    case A_ADC: return a + b + c;
    case A_SBB: return a - b - c;
    case A_AND: case A_TEST: return a & b;
    case A_XOR: return a ^ b;
    default: return a - b;
    }
}

static XI_ALWAYS void alu_flags(X86CPU *cpu, unsigned op, unsigned sz, uint64_t r,
                                uint64_t b, uint64_t c)
{
    if (op == A_ADC || op == A_SBB)
        x86_cc3(cpu, alu_ccop[op], sz, r, b, c);
    else
        x86_cc(cpu, alu_ccop[op], sz, r, b);
}

#define ALU_STORES(op) ((op) != A_CMP && (op) != A_TEST)

/* r/m op= b */
static XI_ALWAYS const XInsn *alu_rm(X86CPU *cpu, const XInsn *in, unsigned op,
                                    uint64_t b)
{
    unsigned sz = in->osize;
    uint64_t a, r, c = 0;

    if (op == A_ADC || op == A_SBB)
        c = x86_cf(cpu);
    if (in->mod == 3) {
        a = x86_reg_get(cpu, in->rm, sz);
        r = alu_calc(op, a, b, c);
        if (ALU_STORES(op))
            x86_reg_set(cpu, in->rm, sz, r);
    } else {
        uint64_t ea = x86_ea(cpu, in);
        if (!x86_ld_inline(cpu, in, in->seg, ea, sz, &a))
            return NULL;
        r = alu_calc(op, a, b, c);
        if (ALU_STORES(op) && !x86_st_inline(cpu, in, in->seg, ea, sz, r))
            return NULL;
    }
    alu_flags(cpu, op, sz, r, b, c);
    X86_NEXT(cpu, in);
}

/* register op= b */
static XI_ALWAYS const XInsn *alu_reg(X86CPU *cpu, const XInsn *in, unsigned op,
                                     unsigned reg, uint64_t b)
{
    unsigned sz = in->osize;
    uint64_t c = (op == A_ADC || op == A_SBB) ? x86_cf(cpu) : 0;
    uint64_t r = alu_calc(op, x86_reg_get(cpu, reg, sz), b, c);

    if (ALU_STORES(op))
        x86_reg_set(cpu, reg, sz, r);
    alu_flags(cpu, op, sz, r, b, c);
    X86_NEXT(cpu, in);
}

#define ALU_HANDLERS(name, OP)                                                \
TEST_HANDLERS(name, OP)                                                       \
static const XInsn *name##_r_rm(X86CPU *cpu, const XInsn *in)                 \
{                                                                             \
    uint64_t b;                                                               \
    if (!xi_rm_get(cpu, in, in->osize, &b))                                  \
        return NULL;                                                          \
    return alu_reg(cpu, in, OP, in->reg, b);                                  \
}

#define TEST_HANDLERS(name, OP)                                               \
static const XInsn *name##_rm_r(X86CPU *cpu, const XInsn *in)                 \
{                                                                             \
    return alu_rm(cpu, in, OP, x86_reg_get(cpu, in->reg, in->osize));         \
}                                                                             \
static const XInsn *name##_a_i(X86CPU *cpu, const XInsn *in)                  \
{                                                                             \
    return alu_reg(cpu, in, OP, X86_RAX, in->imm);                            \
}                                                                             \
static const XInsn *name##_rm_i(X86CPU *cpu, const XInsn *in)                 \
{                                                                             \
    return alu_rm(cpu, in, OP, in->imm);                                      \
}

ALU_HANDLERS(add, A_ADD)
ALU_HANDLERS(or, A_OR)
ALU_HANDLERS(adc, A_ADC)
ALU_HANDLERS(sbb, A_SBB)
ALU_HANDLERS(and, A_AND)
ALU_HANDLERS(sub, A_SUB)
ALU_HANDLERS(xor, A_XOR)
ALU_HANDLERS(cmp, A_CMP)
TEST_HANDLERS(test, A_TEST)

/* ---- INC DEC NOT NEG ---- */

static XI_ALWAYS const XInsn *unary_rm(X86CPU *cpu, const XInsn *in, unsigned kind)
{
    unsigned sz = in->osize;
    uint64_t a, r, ea = 0;

    if (in->mod == 3) {
        a = x86_reg_get(cpu, in->rm, sz);
    } else {
        ea = x86_ea(cpu, in);
        if (!x86_ld_inline(cpu, in, in->seg, ea, sz, &a))
            return NULL;
    }
    switch (kind) {
    case 0: r = a + 1; break;
    case 1: r = a - 1; break;
    case 2: r = ~a; break;
    default: r = -a; break;
    }
    if (in->mod == 3)
        x86_reg_set(cpu, in->rm, sz, r);
    else if (!x86_st_inline(cpu, in, in->seg, ea, sz, r))
        return NULL;
    switch (kind) {
    case 0: x86_cc(cpu, X86_CC_INC, sz, r, x86_cf(cpu)); break;
    case 1: x86_cc(cpu, X86_CC_DEC, sz, r, x86_cf(cpu)); break;
    case 2: break;
    default: x86_cc(cpu, X86_CC_SUB, sz, r, a); break;
    }
    X86_NEXT(cpu, in);
}

static const XInsn *inc_rm(X86CPU *cpu, const XInsn *in) { return unary_rm(cpu, in, 0); }
static const XInsn *dec_rm(X86CPU *cpu, const XInsn *in) { return unary_rm(cpu, in, 1); }
static const XInsn *not_rm(X86CPU *cpu, const XInsn *in) { return unary_rm(cpu, in, 2); }
static const XInsn *neg_rm(X86CPU *cpu, const XInsn *in) { return unary_rm(cpu, in, 3); }

static const XInsn *inc_r(X86CPU *cpu, const XInsn *in)
{
    uint64_t r = x86_reg_get(cpu, in->reg, in->osize) + 1;
    x86_reg_set(cpu, in->reg, in->osize, r);
    x86_cc(cpu, X86_CC_INC, in->osize, r, x86_cf(cpu));
    X86_NEXT(cpu, in);
}

static const XInsn *dec_r(X86CPU *cpu, const XInsn *in)
{
    uint64_t r = x86_reg_get(cpu, in->reg, in->osize) - 1;
    x86_reg_set(cpu, in->reg, in->osize, r);
    x86_cc(cpu, X86_CC_DEC, in->osize, r, x86_cf(cpu));
    X86_NEXT(cpu, in);
}

/* ---- MUL IMUL DIV IDIV ----
 * MUL/IMUL: CF = OF = the high half is significant; SF ZF PF from the low
 * half and AF = 0 (undefined; QEMU).  DIV/IDIV leave the flags as they
 * were (undefined; QEMU). */

static const XInsn *mul_rm(X86CPU *cpu, const XInsn *in)
{
    unsigned sz = in->osize;
    uint64_t b, a = x86_reg_get(cpu, X86_RAX, sz), lo, hi;

    if (!x86_rm_get(cpu, in, sz, &b))
        return NULL;
    switch (sz) {
    case 1:
        lo = a * b;
        x86_reg_set(cpu, X86_RAX, 2, lo);
        hi = lo >> 8;
        break;
    case 2:
    case 4:
        lo = a * b;
        hi = lo >> (sz * 8);
        x86_reg_set(cpu, X86_RAX, sz, lo);
        x86_reg_set(cpu, X86_RDX, sz, hi);
        break;
    default: {
        u128 p = (u128)a * b;
        lo = (uint64_t)p;
        hi = (uint64_t)(p >> 64);
        cpu->regs[X86_RAX] = lo;
        cpu->regs[X86_RDX] = hi;
    }
    }
    x86_cc(cpu, X86_CC_MUL, sz, lo, hi);
    X86_NEXT(cpu, in);
}

static const XInsn *imul_rm(X86CPU *cpu, const XInsn *in)
{
    unsigned sz = in->osize;
    uint64_t b, lo, ovf;
    int64_t a = (int64_t)x86_sext(cpu->regs[X86_RAX], sz);

    if (!x86_rm_get(cpu, in, sz, &b))
        return NULL;
    if (sz == 8) {
        s128 p = (s128)a * (int64_t)b;
        lo = (uint64_t)p;
        cpu->regs[X86_RAX] = lo;
        cpu->regs[X86_RDX] = (uint64_t)(p >> 64);
        ovf = p != (int64_t)lo;
    } else {
        int64_t p = a * (int64_t)x86_sext(b, sz);
        lo = (uint64_t)p;
        if (sz == 1) {
            x86_reg_set(cpu, X86_RAX, 2, lo);
        } else {
            x86_reg_set(cpu, X86_RAX, sz, lo);
            x86_reg_set(cpu, X86_RDX, sz, (uint64_t)(p >> (sz * 8)));
        }
        ovf = p != (int64_t)x86_sext(lo, sz);
    }
    x86_cc(cpu, X86_CC_MUL, sz, lo, ovf);
    X86_NEXT(cpu, in);
}

/* IMUL r, r/m, imm (69, 6B) and IMUL r, r/m (0F AF). */
static XI_ALWAYS const XInsn *imul_2(X86CPU *cpu, const XInsn *in, uint64_t a, uint64_t b)
{
    unsigned sz = in->osize;
    uint64_t lo, ovf;

    if (sz == 8) {
        s128 p = (s128)(int64_t)a * (int64_t)b;
        lo = (uint64_t)p;
        ovf = p != (int64_t)lo;
    } else {
        int64_t p = (int64_t)x86_sext(a, sz) * (int64_t)x86_sext(b, sz);
        lo = (uint64_t)p;
        ovf = p != (int64_t)x86_sext(lo, sz);
    }
    x86_reg_set(cpu, in->reg, sz, lo);
    x86_cc(cpu, X86_CC_MUL, sz, lo, ovf);
    X86_NEXT(cpu, in);
}

static const XInsn *imul_r_rm_i(X86CPU *cpu, const XInsn *in)
{
    uint64_t a;
    if (!x86_rm_get(cpu, in, in->osize, &a))
        return NULL;
    return imul_2(cpu, in, a, in->imm);
}

static const XInsn *imul_r_rm(X86CPU *cpu, const XInsn *in)
{
    uint64_t b;
    if (!x86_rm_get(cpu, in, in->osize, &b))
        return NULL;
    return imul_2(cpu, in, x86_reg_get(cpu, in->reg, in->osize), b);
}

static const XInsn *raise_de(X86CPU *cpu, const XInsn *in)
{
    return x86_raise(cpu, in, X86_EXC_DE, X86_NO_ERR);
}

static const XInsn *div_rm(X86CPU *cpu, const XInsn *in)
{
    unsigned sz = in->osize;
    uint64_t d, q, r;

    if (!x86_rm_get(cpu, in, sz, &d))
        return NULL;
    if (d == 0)
        return raise_de(cpu, in);
    if (sz == 8) {
        uint64_t hi = cpu->regs[X86_RDX];
        if (hi >= d)
            return raise_de(cpu, in);
        u128 n = (u128)hi << 64 | cpu->regs[X86_RAX];
        q = (uint64_t)(n / d);
        r = (uint64_t)(n % d);
    } else {
        uint64_t n = sz == 1 ? x86_reg_get(cpu, X86_RAX, 2)
                   : x86_reg_get(cpu, X86_RDX, sz) << (sz * 8) | x86_reg_get(cpu, X86_RAX, sz);
        q = n / d;
        r = n % d;
        if (q > x86_size_mask(sz))
            return raise_de(cpu, in);
    }
    if (sz == 1) {
        x86_reg_set(cpu, X86_RAX, 2, r << 8 | q);
    } else {
        x86_reg_set(cpu, X86_RAX, sz, q);
        x86_reg_set(cpu, X86_RDX, sz, r);
    }
    X86_NEXT(cpu, in);
}

static const XInsn *idiv_rm(X86CPU *cpu, const XInsn *in)
{
    unsigned sz = in->osize;
    uint64_t db;
    int64_t q, r;

    if (!x86_rm_get(cpu, in, sz, &db))
        return NULL;
    int64_t d = (int64_t)x86_sext(db, sz);
    if (d == 0)
        return raise_de(cpu, in);
    if (sz == 8) {
        /* Divide magnitudes so that no case overflows the host. */
        s128 n = (s128)((u128)cpu->regs[X86_RDX] << 64 | cpu->regs[X86_RAX]);
        u128 un = n < 0 ? -(u128)n : (u128)n;
        uint64_t ud = d < 0 ? -(uint64_t)d : (uint64_t)d;
        if ((uint64_t)(un >> 64) >= ud)
            return raise_de(cpu, in);
        uint64_t uq = (uint64_t)(un / ud), ur = (uint64_t)(un % ud);
        bool neg = (n < 0) != (d < 0);
        if (uq > (neg ? 1ull << 63 : (1ull << 63) - 1))
            return raise_de(cpu, in);
        q = (int64_t)(neg ? -uq : uq);
        r = (int64_t)(n < 0 ? -ur : ur);
    } else {
        int64_t n;
        if (sz == 1)
            n = (int16_t)cpu->regs[X86_RAX];
        else
            n = (int64_t)x86_sext(x86_reg_get(cpu, X86_RDX, sz) << (sz * 8) |
                                  x86_reg_get(cpu, X86_RAX, sz), sz * 2);
        if (n == INT64_MIN && d == -1)
            return raise_de(cpu, in);
        q = n / d;
        r = n % d;
        if (q != (int64_t)x86_sext((uint64_t)q, sz))
            return raise_de(cpu, in);
    }
    if (sz == 1) {
        x86_reg_set(cpu, X86_RAX, 2, ((uint64_t)r & 0xff) << 8 | ((uint64_t)q & 0xff));
    } else {
        x86_reg_set(cpu, X86_RAX, sz, (uint64_t)q);
        x86_reg_set(cpu, X86_RDX, sz, (uint64_t)r);
    }
    X86_NEXT(cpu, in);
}

/* ---- shifts and rotates (group 2) ----
 * The count is masked to 5 bits (6 with a 64-bit operand); a masked count
 * of 0 changes no flag.  The destination is written back even then (a
 * 32-bit register is zero-extended), as QEMU does.  Undefined flags: OF for
 * counts > 1 follows the 1-bit rule applied to the result (ROL: CF ^
 * MSB; ROR: the two top bits; RCL/RCR: MSB(old) ^ MSB(new)), AF = 0 for
 * shifts (QEMU). */

enum { G2_ROL, G2_ROR, G2_RCL, G2_RCR, G2_SHL, G2_SHR, G2_SAL, G2_SAR };

static XI_ALWAYS const XInsn *shift(X86CPU *cpu, const XInsn *in, unsigned op,
                                    unsigned count)
{
    unsigned sz = in->osize, w = sz * 8;
    uint64_t m = x86_size_mask(sz), v, r, src = 0, ea = 0;
    unsigned c = count & (sz == 8 ? 63 : 31);
    bool upd = c != 0;          /* do the flags change? */
    uint32_t f = 0;

    if (in->mod == 3) {
        v = x86_reg_get(cpu, in->rm, sz);
    } else {
        ea = x86_ea(cpu, in);
        if (!x86_ld_inline(cpu, in, in->seg, ea, sz, &v))
            return NULL;
    }
    r = v;
    switch (op) {
    case G2_ROL: {
        unsigned k = c & (w - 1);
        if (k)
            r = ((v << k) | (v >> (w - k))) & m;
        f = (r & 1) ? X86_CF : 0;
        if (((r >> (w - 1)) ^ r) & 1)
            f |= X86_OF;
        break;
    }
    case G2_ROR: {
        unsigned k = c & (w - 1);
        if (k)
            r = ((v >> k) | (v << (w - k))) & m;
        f = (r >> (w - 1)) & 1 ? X86_CF : 0;
        if (((r >> (w - 1)) ^ (r >> (w - 2))) & 1)
            f |= X86_OF;
        break;
    }
    case G2_RCL:
    case G2_RCR: {
        /* Through CF: 9 or 17 positions for byte and word operands; a
         * count that is a multiple of those changes nothing (QEMU). */
        unsigned k = sz == 1 ? c % 9 : sz == 2 ? c % 17 : c;
        upd = k != 0;
        if (!k)
            break;
        unsigned n = w + 1;
        u128 nm = ((u128)1 << n) - 1;
        u128 t = (u128)x86_cf(cpu) << w | v;
        if (op == G2_RCL)
            t = ((t << k) | (t >> (n - k))) & nm;
        else
            t = ((t >> k) | (t << (n - k))) & nm;
        r = (uint64_t)t & m;
        f = (uint64_t)(t >> w) & 1 ? X86_CF : 0;
        if (((v ^ r) >> (w - 1)) & 1)
            f |= X86_OF;
        break;
    }
    case G2_SHL:
    case G2_SAL:
        if (c) {
            r = (v << c) & m;
            src = (v << (c - 1)) & m;
        }
        break;
    case G2_SHR:
        if (c) {
            r = v >> c;
            src = v >> (c - 1);
        }
        break;
    default: {
        int64_t sv = (int64_t)x86_sext(v, sz);
        if (c) {
            r = (uint64_t)(sv >> c) & m;
            src = (uint64_t)(sv >> (c - 1)) & m;
        }
        break;
    }
    }
    if (in->mod == 3)
        x86_reg_set(cpu, in->rm, sz, r);
    else if (!x86_st_inline(cpu, in, in->seg, ea, sz, r))
        return NULL;
    if (upd) {
        switch (op) {
        case G2_ROL: case G2_ROR: case G2_RCL: case G2_RCR:
            set_flags_masked(cpu, X86_CF | X86_OF, f);
            break;
        case G2_SHL: case G2_SAL:
            x86_cc(cpu, X86_CC_SHL, sz, r, src);
            break;
        case G2_SHR:
            x86_cc3(cpu, X86_CC_SHR, sz, r, src, v);
            break;
        default:
            x86_cc(cpu, X86_CC_SAR, sz, r, src);
            break;
        }
    }
    X86_NEXT(cpu, in);
}

#define SHIFT_HANDLERS(name, OP)                                              \
static const XInsn *name##_1(X86CPU *cpu, const XInsn *in)                    \
{ return shift(cpu, in, OP, 1); }                                             \
static const XInsn *name##_cl(X86CPU *cpu, const XInsn *in)                   \
{ return shift(cpu, in, OP, (unsigned)cpu->regs[X86_RCX] & 0xff); }           \
static const XInsn *name##_i(X86CPU *cpu, const XInsn *in)                    \
{ return shift(cpu, in, OP, (unsigned)in->imm & 0xff); }

SHIFT_HANDLERS(rol, G2_ROL)
SHIFT_HANDLERS(ror, G2_ROR)
SHIFT_HANDLERS(rcl, G2_RCL)
SHIFT_HANDLERS(rcr, G2_RCR)
SHIFT_HANDLERS(shl, G2_SHL)
SHIFT_HANDLERS(shr, G2_SHR)
SHIFT_HANDLERS(sar, G2_SAR)

/* SHLD/SHRD.  A 16-bit operand with a count above 16 shifts the 48-bit
 * value dst:src:dst, Intel's behaviour (the SDM leaves the result
 * undefined; QEMU does the same).  Flags as SHL/SHR of the last step. */
static XI_ALWAYS const XInsn *shd(X86CPU *cpu, const XInsn *in, bool right,
                                  unsigned count)
{
    unsigned sz = in->osize, w = sz * 8;
    uint64_t m = x86_size_mask(sz), a, r, src = 0, ea = 0;
    uint64_t b = x86_reg_get(cpu, in->reg, sz);
    unsigned c = count & (sz == 8 ? 63 : 31);

    if (in->mod == 3) {
        a = x86_reg_get(cpu, in->rm, sz);
    } else {
        ea = x86_ea(cpu, in);
        if (!x86_ld(cpu, in, in->seg, ea, sz, &a))
            return NULL;
    }
    r = a;
    if (c) {
        u128 v;
        unsigned top = sz == 2 ? 32 : w;
        if (sz == 2)
            v = a << 32 | b << 16 | a;
        else if (right)
            v = (u128)b << w | a;
        else
            v = (u128)a << w | b;
        if (right) {
            r = (uint64_t)(v >> c) & m;
            src = (uint64_t)(v >> (c - 1)) & m;
        } else {
            r = (uint64_t)(v >> (top - c)) & m;
            src = (uint64_t)(v >> (top - c + 1)) & m;
        }
    }
    if (in->mod == 3)
        x86_reg_set(cpu, in->rm, sz, r);
    else if (!x86_st(cpu, in, in->seg, ea, sz, r))
        return NULL;
    if (c) {
        if (right)
            x86_cc3(cpu, X86_CC_SHR, sz, r, src, a);
        else
            x86_cc(cpu, X86_CC_SHL, sz, r, src);
    }
    X86_NEXT(cpu, in);
}

static const XInsn *shld_i(X86CPU *cpu, const XInsn *in)
{ return shd(cpu, in, false, (unsigned)in->imm & 0xff); }
static const XInsn *shld_cl(X86CPU *cpu, const XInsn *in)
{ return shd(cpu, in, false, (unsigned)cpu->regs[X86_RCX] & 0xff); }
static const XInsn *shrd_i(X86CPU *cpu, const XInsn *in)
{ return shd(cpu, in, true, (unsigned)in->imm & 0xff); }
static const XInsn *shrd_cl(X86CPU *cpu, const XInsn *in)
{ return shd(cpu, in, true, (unsigned)cpu->regs[X86_RCX] & 0xff); }

/* ---- BT BTS BTR BTC ----
 * CF = the bit; ZF unchanged; OF SF AF PF (undefined) unchanged. */

enum { BT_T, BT_S, BT_R, BT_C };

static XI_ALWAYS const XInsn *bt_op(X86CPU *cpu, const XInsn *in, unsigned op,
                                    uint64_t off, bool reg_off)
{
    unsigned sz = in->osize, w = sz * 8;
    uint64_t v, r, ea = 0;
    unsigned bit;

    if (in->mod == 3) {
        v = x86_reg_get(cpu, in->rm, sz);
        bit = off & (w - 1);
    } else {
        ea = x86_ea(cpu, in);
        if (reg_off) {
            /* A register offset is signed and may leave the operand:
             * address the operand-sized unit that holds the bit. */
            int64_t so = (int64_t)x86_sext(off, sz);
            unsigned lg = sz == 2 ? 4 : sz == 4 ? 5 : 6;
            ea = (ea + (uint64_t)((so >> lg) * (int64_t)sz)) & x86_addr_mask(in->asize);
            bit = (unsigned)so & (w - 1);
        } else {
            bit = off & (w - 1);
        }
        if (!x86_ld(cpu, in, in->seg, ea, sz, &v))
            return NULL;
    }
    uint64_t mask = 1ull << bit;
    switch (op) {
    case BT_S: r = v | mask; break;
    case BT_R: r = v & ~mask; break;
    case BT_C: r = v ^ mask; break;
    default: r = v; break;
    }
    if (op != BT_T) {
        if (in->mod == 3)
            x86_reg_set(cpu, in->rm, sz, r);
        else if (!x86_st(cpu, in, in->seg, ea, sz, r))
            return NULL;
    }
    set_flags_masked(cpu, X86_CF, (v & mask) ? X86_CF : 0);
    X86_NEXT(cpu, in);
}

#define BT_HANDLERS(name, OP)                                                 \
static const XInsn *name##_r(X86CPU *cpu, const XInsn *in)                    \
{ return bt_op(cpu, in, OP, x86_reg_get(cpu, in->reg, in->osize), true); }    \
static const XInsn *name##_i(X86CPU *cpu, const XInsn *in)                    \
{ return bt_op(cpu, in, OP, in->imm & 0xff, false); }

BT_HANDLERS(bt, BT_T)
BT_HANDLERS(bts, BT_S)
BT_HANDLERS(btr, BT_R)
BT_HANDLERS(btc, BT_C)

/* ---- BSF BSR TZCNT LZCNT POPCNT ---- */

/* BSF/BSR with a zero source: ZF = 1 and the destination keeps its value;
 * a 32-bit destination is still written, so its upper half is cleared
 * (Intel's documented-in-practice behaviour, and QEMU's).  The undefined
 * CF OF SF AF PF are those of a logic operation on the source (QEMU). */
static XI_ALWAYS const XInsn *bsx(X86CPU *cpu, const XInsn *in, bool rev)
{
    unsigned sz = in->osize;
    uint64_t s, r;

    if (!x86_rm_get(cpu, in, sz, &s))
        return NULL;
    if (s)
        r = rev ? 63u - (unsigned)__builtin_clzll(s) : (unsigned)__builtin_ctzll(s);
    else
        r = x86_reg_get(cpu, in->reg, sz);
    x86_reg_set(cpu, in->reg, sz, r);
    x86_cc(cpu, X86_CC_LOGIC, sz, s, 0);
    X86_NEXT(cpu, in);
}

static const XInsn *bsf(X86CPU *cpu, const XInsn *in) { return bsx(cpu, in, false); }
static const XInsn *bsr(X86CPU *cpu, const XInsn *in) { return bsx(cpu, in, true); }

/* TZCNT/LZCNT: CF = source is zero, ZF = result is zero; SF PF from the
 * result, OF = AF = 0 (undefined ones as QEMU): exactly the BLSR rule. */
static XI_ALWAYS const XInsn *xzcnt(X86CPU *cpu, const XInsn *in, bool lead)
{
    unsigned sz = in->osize, w = sz * 8;
    uint64_t s, r;

    if (!x86_rm_get(cpu, in, sz, &s))
        return NULL;
    if (!s)
        r = w;
    else if (lead)
        r = (unsigned)__builtin_clzll(s) - (64 - w);
    else
        r = (unsigned)__builtin_ctzll(s);
    x86_reg_set(cpu, in->reg, sz, r);
    x86_cc(cpu, X86_CC_BLSR, sz, r, s);
    X86_NEXT(cpu, in);
}

static const XInsn *tzcnt(X86CPU *cpu, const XInsn *in) { return xzcnt(cpu, in, false); }
static const XInsn *lzcnt(X86CPU *cpu, const XInsn *in) { return xzcnt(cpu, in, true); }

static const XInsn *popcnt(X86CPU *cpu, const XInsn *in)
{
    uint64_t s;
    if (!x86_rm_get(cpu, in, in->osize, &s))
        return NULL;
    x86_reg_set(cpu, in->reg, in->osize, (uint64_t)__builtin_popcountll(s));
    x86_set_arith(cpu, s ? 0 : X86_ZF);
    X86_NEXT(cpu, in);
}

/* ---- BCD adjusts (not in 64-bit mode) ---- */

/* DAA/DAS: OF (undefined) = 0 as QEMU. */
static const XInsn *daa_das(X86CPU *cpu, const XInsn *in, bool sub)
{
    uint32_t ef = x86_arith(cpu), f = 0;
    unsigned al = cpu->regs[X86_RAX] & 0xff, old = al;

    if ((al & 0xf) > 9 || (ef & X86_AF)) {
        f |= X86_AF;
        if (sub && (al < 6 || (ef & X86_CF)))
            f |= X86_CF;
        al = (sub ? al - 6 : al + 6) & 0xff;
    }
    if (old > 0x99 || (ef & X86_CF)) {
        al = (sub ? al - 0x60 : al + 0x60) & 0xff;
        f |= X86_CF;
    }
    x86_reg_set(cpu, X86_RAX, 1, al);
    x86_set_arith(cpu, f | x86_pf(al) | (al ? 0 : X86_ZF) | (al & 0x80 ? X86_SF : 0));
    X86_NEXT(cpu, in);
}

static const XInsn *daa(X86CPU *cpu, const XInsn *in) { return daa_das(cpu, in, false); }
static const XInsn *das(X86CPU *cpu, const XInsn *in) { return daa_das(cpu, in, true); }

/* AAA/AAS: only AF and CF change (the undefined OF SF ZF PF keep their
 * values, as QEMU). */
static const XInsn *aaa_aas(X86CPU *cpu, const XInsn *in, bool sub)
{
    uint32_t ef = x86_arith(cpu);
    uint64_t ax = cpu->regs[X86_RAX] & 0xffff;

    if ((ax & 0xf) > 9 || (ef & X86_AF)) {
        ax = sub ? ax - 6 - 0x100 : ax + 0x106;
        ef |= X86_AF | X86_CF;
    } else {
        ef &= ~(uint32_t)(X86_AF | X86_CF);
    }
    x86_reg_set(cpu, X86_RAX, 2, ax & 0xff0f);
    x86_set_arith(cpu, ef);
    X86_NEXT(cpu, in);
}

static const XInsn *aaa(X86CPU *cpu, const XInsn *in) { return aaa_aas(cpu, in, false); }
static const XInsn *aas(X86CPU *cpu, const XInsn *in) { return aaa_aas(cpu, in, true); }

/* AAM/AAD: SF ZF PF from AL; the undefined OF AF CF are 0 (QEMU). */
static const XInsn *aam(X86CPU *cpu, const XInsn *in)
{
    unsigned base = in->imm & 0xff, al = cpu->regs[X86_RAX] & 0xff;
    if (!base)
        return raise_de(cpu, in);
    unsigned lo = al % base;
    x86_reg_set(cpu, X86_RAX, 2, (al / base) << 8 | lo);
    x86_cc(cpu, X86_CC_LOGIC, 1, lo, 0);
    X86_NEXT(cpu, in);
}

static const XInsn *aad(X86CPU *cpu, const XInsn *in)
{
    uint64_t ax = cpu->regs[X86_RAX];
    unsigned al = (unsigned)(ax + ((ax >> 8) & 0xff) * (in->imm & 0xff)) & 0xff;
    x86_reg_set(cpu, X86_RAX, 2, al);
    x86_cc(cpu, X86_CC_LOGIC, 1, al, 0);
    X86_NEXT(cpu, in);
}

/* ---- CMPXCHG XADD CMPXCHG8B/16B ---- */

/* Flags as CMP accumulator, destination.  Equal: destination = source.
 * Not equal: accumulator = destination, and a memory destination is
 * written back with its own value (the hardware's write cycle); a
 * register destination is left alone (no zero-extension), as QEMU. */
static const XInsn *cmpxchg(X86CPU *cpu, const XInsn *in)
{
    unsigned sz = in->osize;
    uint64_t m = x86_size_mask(sz), d;
    uint64_t acc = x86_reg_get(cpu, X86_RAX, sz), s = x86_reg_get(cpu, in->reg, sz);
    bool eq;

    if (in->mod == 3) {
        d = x86_reg_get(cpu, in->rm, sz);
        eq = d == acc;
        if (eq)
            x86_reg_set(cpu, in->rm, sz, s);
    } else {
        uint64_t ea = x86_ea(cpu, in);
        if (!x86_ld(cpu, in, in->seg, ea, sz, &d))
            return NULL;
        eq = d == acc;
        if (!x86_st(cpu, in, in->seg, ea, sz, eq ? s : d))
            return NULL;
    }
    if (!eq)
        x86_reg_set(cpu, X86_RAX, sz, d);
    x86_cc(cpu, X86_CC_SUB, sz, (acc - d) & m, d);
    X86_NEXT(cpu, in);
}

static const XInsn *xadd(X86CPU *cpu, const XInsn *in)
{
    unsigned sz = in->osize;
    uint64_t s = x86_reg_get(cpu, in->reg, sz), d, r;

    if (in->mod == 3) {
        d = x86_reg_get(cpu, in->rm, sz);
        r = d + s;
        x86_reg_set(cpu, in->reg, sz, d);
        x86_reg_set(cpu, in->rm, sz, r);
    } else {
        uint64_t ea = x86_ea(cpu, in);
        if (!x86_ld(cpu, in, in->seg, ea, sz, &d))
            return NULL;
        r = d + s;
        if (!x86_st(cpu, in, in->seg, ea, sz, r))
            return NULL;
        x86_reg_set(cpu, in->reg, sz, d);
    }
    x86_cc(cpu, X86_CC_ADD, sz, r, s);
    X86_NEXT(cpu, in);
}

/* CMPXCHG8B (osize != 8) / CMPXCHG16B (REX.W).  Only ZF changes.  Memory
 * is always written (the old value on failure). */
static const XInsn *cmpxchg8b(X86CPU *cpu, const XInsn *in)
{
    uint64_t ea = x86_ea(cpu, in);
    uint64_t *r = cpu->regs;
    bool eq;

    if (in->osize == 8) {
        uint64_t mem[2];
        if ((seg_base(cpu, in->seg) + ea) & 15)
            return x86_raise(cpu, in, X86_EXC_GP, 0);
        if (!x86_ld_buf(cpu, in, in->seg, ea, mem, 16))
            return NULL;
        eq = mem[0] == r[X86_RAX] && mem[1] == r[X86_RDX];
        uint64_t nv[2] = { r[X86_RBX], r[X86_RCX] };
        if (!x86_st_buf(cpu, in, in->seg, ea, eq ? nv : mem, 16))
            return NULL;
        if (!eq) {
            r[X86_RAX] = mem[0];
            r[X86_RDX] = mem[1];
        }
    } else {
        uint64_t mem;
        if (!x86_ld(cpu, in, in->seg, ea, 8, &mem))
            return NULL;
        eq = mem == ((r[X86_RDX] & 0xffffffff) << 32 | (r[X86_RAX] & 0xffffffff));
        uint64_t nv = (r[X86_RCX] & 0xffffffff) << 32 | (r[X86_RBX] & 0xffffffff);
        if (!x86_st(cpu, in, in->seg, ea, 8, eq ? nv : mem))
            return NULL;
        if (!eq) {
            r[X86_RAX] = (uint32_t)mem;
            r[X86_RDX] = mem >> 32;
        }
    }
    set_flags_masked(cpu, X86_ZF, eq ? X86_ZF : 0);
    X86_NEXT(cpu, in);
}

/* ---- BMI1 / BMI2 (VEX; L must be 0) ---- */

/* VEX.W is ignored outside 64-bit mode. */
static inline unsigned vex_size(const X86CPU *cpu, const XInsn *in)
{
    return (cpu->hflags & X86_HF_CS64) ? in->osize : 4;
}

#define BMI_PROLOGUE(sz, e)                                                   \
    unsigned sz = vex_size(cpu, in);                                          \
    uint64_t e;                                                               \
    if (in->vexl)                                                             \
        return raise_ud(cpu, in);                                             \
    if (!x86_rm_get(cpu, in, sz, &e))                                         \
        return NULL

static const XInsn *andn(X86CPU *cpu, const XInsn *in)
{
    BMI_PROLOGUE(sz, e);
    uint64_t r = ~x86_reg_get(cpu, in->vreg, sz) & e;
    x86_reg_set(cpu, in->reg, sz, r);
    x86_cc(cpu, X86_CC_LOGIC, sz, r, 0);
    X86_NEXT(cpu, in);
}

static XI_ALWAYS const XInsn *bls(X86CPU *cpu, const XInsn *in, unsigned ccop)
{
    BMI_PROLOGUE(sz, e);
    uint64_t r = ccop == X86_CC_BLSI ? e & -e : ccop == X86_CC_BLSMSK ? e ^ (e - 1)
               : e & (e - 1);
    x86_reg_set(cpu, in->vreg, sz, r);
    x86_cc(cpu, ccop, sz, r, e);
    X86_NEXT(cpu, in);
}

static const XInsn *blsr(X86CPU *cpu, const XInsn *in) { return bls(cpu, in, X86_CC_BLSR); }
static const XInsn *blsmsk(X86CPU *cpu, const XInsn *in) { return bls(cpu, in, X86_CC_BLSMSK); }
static const XInsn *blsi(X86CPU *cpu, const XInsn *in) { return bls(cpu, in, X86_CC_BLSI); }

/* BZHI: CF = index beyond the operand; SF ZF from the result, OF = 0, the
 * undefined PF from the result and AF = 0 (QEMU). */
static const XInsn *bzhi(X86CPU *cpu, const XInsn *in)
{
    BMI_PROLOGUE(sz, e);
    unsigned n = cpu->regs[in->vreg] & 0xff, w = sz * 8;
    uint64_t r = n < w ? e & ((1ull << n) - 1) : e;
    x86_reg_set(cpu, in->reg, sz, r);
    x86_cc(cpu, X86_CC_LOGIC, sz, r, 0);
    set_flags_masked(cpu, X86_CF, n >= w ? X86_CF : 0);
    X86_NEXT(cpu, in);
}

/* BEXTR: ZF from the result, CF = OF = 0; the undefined SF PF from the
 * result, AF = 0 (QEMU). */
static const XInsn *bextr(X86CPU *cpu, const XInsn *in)
{
    BMI_PROLOGUE(sz, e);
    uint64_t ctl = cpu->regs[in->vreg];
    unsigned start = ctl & 0xff, len = (ctl >> 8) & 0xff, w = sz * 8;
    uint64_t r = start < w ? e >> start : 0;
    if (len < 64)
        r &= (1ull << len) - 1;
    x86_reg_set(cpu, in->reg, sz, r);
    x86_cc(cpu, X86_CC_LOGIC, sz, r, 0);
    X86_NEXT(cpu, in);
}

static const XInsn *pdep(X86CPU *cpu, const XInsn *in)
{
    BMI_PROLOGUE(sz, mask);
    uint64_t s = x86_reg_get(cpu, in->vreg, sz), r = 0;
    for (uint64_t bit = 1; mask; bit <<= 1) {
        uint64_t low = mask & -mask;
        if (s & bit)
            r |= low;
        mask &= mask - 1;
    }
    x86_reg_set(cpu, in->reg, sz, r);
    X86_NEXT(cpu, in);
}

static const XInsn *pext(X86CPU *cpu, const XInsn *in)
{
    BMI_PROLOGUE(sz, mask);
    uint64_t s = x86_reg_get(cpu, in->vreg, sz), r = 0;
    for (uint64_t bit = 1; mask; bit <<= 1) {
        uint64_t low = mask & -mask;
        if (s & low)
            r |= bit;
        mask &= mask - 1;
    }
    x86_reg_set(cpu, in->reg, sz, r);
    X86_NEXT(cpu, in);
}

/* MULX: reg = high half, vreg = low half of rDX * r/m (high wins when both
 * name the same register); no flags. */
static const XInsn *mulx(X86CPU *cpu, const XInsn *in)
{
    BMI_PROLOGUE(sz, e);
    uint64_t lo, hi;
    if (sz == 8) {
        u128 p = (u128)cpu->regs[X86_RDX] * e;
        lo = (uint64_t)p;
        hi = (uint64_t)(p >> 64);
    } else {
        uint64_t p = (cpu->regs[X86_RDX] & 0xffffffff) * e;
        lo = p;
        hi = p >> 32;
    }
    x86_reg_set(cpu, in->vreg, sz, lo);
    x86_reg_set(cpu, in->reg, sz, hi);
    X86_NEXT(cpu, in);
}

static const XInsn *rorx(X86CPU *cpu, const XInsn *in)
{
    BMI_PROLOGUE(sz, e);
    unsigned w = sz * 8, k = in->imm & (w - 1);
    uint64_t r = k ? ((e >> k) | (e << (w - k))) & x86_size_mask(sz) : e;
    x86_reg_set(cpu, in->reg, sz, r);
    X86_NEXT(cpu, in);
}

static XI_ALWAYS const XInsn *shx(X86CPU *cpu, const XInsn *in, unsigned op)
{
    BMI_PROLOGUE(sz, e);
    unsigned c = cpu->regs[in->vreg] & (sz == 8 ? 63 : 31);
    uint64_t r;
    switch (op) {
    case G2_SHL: r = e << c; break;
    case G2_SHR: r = e >> c; break;
    default: r = (uint64_t)((int64_t)x86_sext(e, sz) >> c); break;
    }
    x86_reg_set(cpu, in->reg, sz, r);
    X86_NEXT(cpu, in);
}

static const XInsn *shlx(X86CPU *cpu, const XInsn *in) { return shx(cpu, in, G2_SHL); }
static const XInsn *shrx(X86CPU *cpu, const XInsn *in) { return shx(cpu, in, G2_SHR); }
static const XInsn *sarx(X86CPU *cpu, const XInsn *in) { return shx(cpu, in, G2_SAR); }

/* ---- the opcode table ---- */

#define ANY (-1)
#define EX(m, b, r, md, p, i, fl, f, n, x) \
    { .op = X86_OP(m, b), .reg = (r), .rm = ANY, .mod = (md), .pfx = (p), \
      .imm = (i), .flags = (fl), .fn = (f), .name = (n), .fast = (x) }
#define E(m, b, r, md, p, i, fl, f, n) EX(m, b, r, md, p, i, fl, f, n, NULL)
/* One-byte and 0F map shorthands. */
#define O1(b, i, fl, f, n) E(X86_MAP_1B, b, ANY, X86_M_ANY, X86_PF_NONE, i, fl, f, n)
#define G1(b, r, i, fl, f, n) E(X86_MAP_1B, b, r, X86_M_ANY, X86_PF_NONE, i, fl, f, n)
#define O2(b, i, fl, f, n) E(X86_MAP_0F, b, ANY, X86_M_ANY, X86_PF_NONE, i, fl, f, n)
#define G2(b, r, i, fl, f, n) E(X86_MAP_0F, b, r, X86_M_ANY, X86_PF_NONE, i, fl, f, n)
/* The same with specialised variants x (exec_fast.c). */
#define O1X(b, i, fl, f, n, x) \
    EX(X86_MAP_1B, b, ANY, X86_M_ANY, X86_PF_NONE, i, fl, f, n, x)
#define G1X(b, r, i, fl, f, n, x) \
    EX(X86_MAP_1B, b, r, X86_M_ANY, X86_PF_NONE, i, fl, f, n, x)
#define O2X(b, i, fl, f, n, x) \
    EX(X86_MAP_0F, b, ANY, X86_M_ANY, X86_PF_NONE, i, fl, f, n, x)
#define XF(n) (&xf_##n)
#define NOXF(n) NULL

#define MR X86_D_MODRM
#define BY X86_D_BYTE
#define LK X86_D_LOCK
#define BR (X86_D_F64 | X86_D_END)
#define VX (X86_D_MODRM | X86_D_VEX | X86_D_SSE | X86_D_VEXW)

#define ALU_ROW(b, name, lk, F)                                               \
    O1(b + 0, X86_I_NONE, MR | BY | (lk), name##_rm_r, #name),                \
    O1X(b + 1, X86_I_NONE, MR | (lk), name##_rm_r, #name, F(name##_rm_r)),    \
    O1(b + 2, X86_I_NONE, MR | BY, name##_r_rm, #name),                       \
    O1X(b + 3, X86_I_NONE, MR, name##_r_rm, #name, F(name##_r_rm)),           \
    O1(b + 4, X86_I_B, BY, name##_a_i, #name),                                \
    O1X(b + 5, X86_I_Z, 0, name##_a_i, #name, F(name##_a_i))

#define GRP1(r, name, lk, F)                                                  \
    G1(0x80, r, X86_I_B, MR | BY | (lk), name##_rm_i, #name),                 \
    G1X(0x81, r, X86_I_Z, MR | (lk), name##_rm_i, #name, F(name##_rm_i)),     \
    G1(0x82, r, X86_I_B, MR | BY | X86_D_NO64 | (lk), name##_rm_i, #name),    \
    G1X(0x83, r, X86_I_B, MR | (lk), name##_rm_i, #name, F(name##_rm_i))

#define GRP2(r, name, F)                                                      \
    G1(0xc0, r, X86_I_UB, MR | BY, name##_i, #name),                          \
    G1X(0xc1, r, X86_I_UB, MR, name##_i, #name, F(name##_i)),                 \
    G1(0xd0, r, X86_I_NONE, MR | BY, name##_1, #name),                        \
    G1X(0xd1, r, X86_I_NONE, MR, name##_1, #name, F(name##_1)),               \
    G1(0xd2, r, X86_I_NONE, MR | BY, name##_cl, #name),                       \
    G1X(0xd3, r, X86_I_NONE, MR, name##_cl, #name, F(name##_cl))

#define VEX38(b, r, p, f, n) E(X86_MAP_0F38, b, r, X86_M_ANY, p, X86_I_NONE, VX, f, n)

const X86OpDef x86_ops_int[] = {
    ALU_ROW(0x00, add, LK, XF),
    ALU_ROW(0x08, or, LK, XF),
    ALU_ROW(0x10, adc, LK, NOXF),
    ALU_ROW(0x18, sbb, LK, NOXF),
    ALU_ROW(0x20, and, LK, XF),
    ALU_ROW(0x28, sub, LK, XF),
    ALU_ROW(0x30, xor, LK, XF),
    ALU_ROW(0x38, cmp, 0, XF),
    O1(0x27, X86_I_NONE, X86_D_NO64, daa, "daa"),
    O1(0x2f, X86_I_NONE, X86_D_NO64, das, "das"),
    O1(0x37, X86_I_NONE, X86_D_NO64, aaa, "aaa"),
    O1(0x3f, X86_I_NONE, X86_D_NO64, aas, "aas"),
    O1(0x40, X86_I_NONE, X86_D_NO64 | X86_D_PLUSR, inc_r, "inc"),
    O1(0x48, X86_I_NONE, X86_D_NO64 | X86_D_PLUSR, dec_r, "dec"),
    O1X(0x50, X86_I_NONE, X86_D_DEF64 | X86_D_PLUSR, xi_push_r, "push", XF(push_r)),
    O1X(0x58, X86_I_NONE, X86_D_DEF64 | X86_D_PLUSR, xi_pop_r, "pop", XF(pop_r)),
    O1(0x60, X86_I_NONE, X86_D_NO64, xi_pusha, "pusha"),
    O1(0x61, X86_I_NONE, X86_D_NO64, xi_popa, "popa"),
    E(X86_MAP_1B, 0x62, ANY, X86_M_MEM, X86_PF_NONE, X86_I_NONE, MR | X86_D_NO64,
      xi_bound, "bound"),
    O1X(0x63, X86_I_NONE, MR | X86_D_ONLY64, xi_movsxd, "movsxd", XF(movsxd)),
    O1(0x68, X86_I_Z, X86_D_DEF64, xi_push_i, "push"),
    O1X(0x69, X86_I_Z, MR, imul_r_rm_i, "imul", XF(imul_r_rm_i)),
    O1(0x6a, X86_I_B, X86_D_DEF64, xi_push_i, "push"),
    O1X(0x6b, X86_I_B, MR, imul_r_rm_i, "imul", XF(imul_r_rm_i)),
    O1X(0x70, X86_I_REL8, X86_D_CC | BR, xi_jcc, "jcc", XF(jcc)),
    GRP1(0, add, LK, XF), GRP1(1, or, LK, XF), GRP1(2, adc, LK, NOXF),
    GRP1(3, sbb, LK, NOXF), GRP1(4, and, LK, XF), GRP1(5, sub, LK, XF),
    GRP1(6, xor, LK, XF), GRP1(7, cmp, 0, XF),
    O1(0x84, X86_I_NONE, MR | BY, test_rm_r, "test"),
    O1X(0x85, X86_I_NONE, MR, test_rm_r, "test", XF(test_rm_r)),
    O1(0x86, X86_I_NONE, MR | BY | LK, xi_xchg_rm_r, "xchg"),
    O1(0x87, X86_I_NONE, MR | LK, xi_xchg_rm_r, "xchg"),
    O1(0x88, X86_I_NONE, MR | BY, xi_mov_rm_r, "mov"),
    O1X(0x89, X86_I_NONE, MR, xi_mov_rm_r, "mov", XF(mov_rm_r)),
    O1(0x8a, X86_I_NONE, MR | BY, xi_mov_r_rm, "mov"),
    O1X(0x8b, X86_I_NONE, MR, xi_mov_r_rm, "mov", XF(mov_r_rm)),
    EX(X86_MAP_1B, 0x8d, ANY, X86_M_MEM, X86_PF_NONE, X86_I_NONE, MR, xi_lea, "lea",
       XF(lea)),
    G1(0x8f, 0, X86_I_NONE, MR | X86_D_DEF64, xi_pop_rm, "pop"),
    O1(0x90, X86_I_NONE, X86_D_PLUSR, xi_xchg_a_r, "xchg"),
    O1(0x98, X86_I_NONE, 0, xi_cbw, "cbw"),
    O1(0x99, X86_I_NONE, 0, xi_cwd, "cwd"),
    O1(0x9e, X86_I_NONE, 0, xi_sahf, "sahf"),
    O1(0x9f, X86_I_NONE, 0, xi_lahf, "lahf"),
    O1(0xa0, X86_I_MOFFS, BY, xi_mov_a_moffs, "mov"),
    O1(0xa1, X86_I_MOFFS, 0, xi_mov_a_moffs, "mov"),
    O1(0xa2, X86_I_MOFFS, BY, xi_mov_moffs_a, "mov"),
    O1(0xa3, X86_I_MOFFS, 0, xi_mov_moffs_a, "mov"),
    O1(0xa4, X86_I_NONE, BY, xi_movs, "movs"),
    O1(0xa5, X86_I_NONE, 0, xi_movs, "movs"),
    O1(0xa6, X86_I_NONE, BY, xi_cmps, "cmps"),
    O1(0xa7, X86_I_NONE, 0, xi_cmps, "cmps"),
    O1(0xa8, X86_I_B, BY, test_a_i, "test"),
    O1X(0xa9, X86_I_Z, 0, test_a_i, "test", XF(test_a_i)),
    O1(0xaa, X86_I_NONE, BY, xi_stos, "stos"),
    O1(0xab, X86_I_NONE, 0, xi_stos, "stos"),
    O1(0xac, X86_I_NONE, BY, xi_lods, "lods"),
    O1(0xad, X86_I_NONE, 0, xi_lods, "lods"),
    O1(0xae, X86_I_NONE, BY, xi_scas, "scas"),
    O1(0xaf, X86_I_NONE, 0, xi_scas, "scas"),
    O1(0xb0, X86_I_B, BY | X86_D_PLUSR, xi_mov_r_i, "mov"),
    O1X(0xb8, X86_I_V, X86_D_PLUSR, xi_mov_r_i, "mov", XF(mov_r_i)),
    GRP2(0, rol, NOXF), GRP2(1, ror, NOXF), GRP2(2, rcl, NOXF), GRP2(3, rcr, NOXF),
    GRP2(4, shl, XF), GRP2(5, shr, XF), GRP2(6, shl, XF), GRP2(7, sar, XF),
    O1(0xc2, X86_I_W, BR, xi_ret_imm, "ret"),
    O1X(0xc3, X86_I_NONE, BR, xi_ret, "ret", XF(ret)),
    G1(0xc6, 0, X86_I_B, MR | BY, xi_mov_rm_i, "mov"),
    G1X(0xc7, 0, X86_I_Z, MR, xi_mov_rm_i, "mov", XF(mov_rm_i)),
    O1(0xc8, X86_I_WB, X86_D_DEF64, xi_enter, "enter"),
    O1(0xc9, X86_I_NONE, X86_D_DEF64, xi_leave, "leave"),
    O1(0xd4, X86_I_UB, X86_D_NO64, aam, "aam"),
    O1(0xd5, X86_I_UB, X86_D_NO64, aad, "aad"),
    O1(0xd6, X86_I_NONE, X86_D_NO64, xi_salc, "salc"),
    O1(0xd7, X86_I_NONE, 0, xi_xlat, "xlat"),
    O1(0xe0, X86_I_REL8, BR, xi_loopne, "loopne"),
    O1(0xe1, X86_I_REL8, BR, xi_loope, "loope"),
    O1(0xe2, X86_I_REL8, BR, xi_loop, "loop"),
    O1(0xe3, X86_I_REL8, BR, xi_jrcxz, "jrcxz"),
    O1X(0xe8, X86_I_RELZ, BR, xi_call_rel, "call", XF(call_rel)),
    O1X(0xe9, X86_I_RELZ, BR, xi_jmp_rel, "jmp", XF(jmp_rel)),
    O1X(0xeb, X86_I_REL8, BR, xi_jmp_rel, "jmp", XF(jmp_rel)),
    O1(0xf5, X86_I_NONE, 0, xi_cmc, "cmc"),
    G1(0xf6, 0, X86_I_B, MR | BY, test_rm_i, "test"),
    G1(0xf6, 1, X86_I_B, MR | BY, test_rm_i, "test"),
    G1(0xf6, 2, X86_I_NONE, MR | BY | LK, not_rm, "not"),
    G1(0xf6, 3, X86_I_NONE, MR | BY | LK, neg_rm, "neg"),
    G1(0xf6, 4, X86_I_NONE, MR | BY, mul_rm, "mul"),
    G1(0xf6, 5, X86_I_NONE, MR | BY, imul_rm, "imul"),
    G1(0xf6, 6, X86_I_NONE, MR | BY, div_rm, "div"),
    G1(0xf6, 7, X86_I_NONE, MR | BY, idiv_rm, "idiv"),
    G1X(0xf7, 0, X86_I_Z, MR, test_rm_i, "test", XF(test_rm_i)),
    G1X(0xf7, 1, X86_I_Z, MR, test_rm_i, "test", XF(test_rm_i)),
    G1X(0xf7, 2, X86_I_NONE, MR | LK, not_rm, "not", XF(not_rm)),
    G1X(0xf7, 3, X86_I_NONE, MR | LK, neg_rm, "neg", XF(neg_rm)),
    G1(0xf7, 4, X86_I_NONE, MR, mul_rm, "mul"),
    G1(0xf7, 5, X86_I_NONE, MR, imul_rm, "imul"),
    G1(0xf7, 6, X86_I_NONE, MR, div_rm, "div"),
    G1(0xf7, 7, X86_I_NONE, MR, idiv_rm, "idiv"),
    O1(0xf8, X86_I_NONE, 0, xi_clc, "clc"),
    O1(0xf9, X86_I_NONE, 0, xi_stc, "stc"),
    O1(0xfc, X86_I_NONE, 0, xi_cld, "cld"),
    O1(0xfd, X86_I_NONE, 0, xi_std, "std"),
    G1(0xfe, 0, X86_I_NONE, MR | BY | LK, inc_rm, "inc"),
    G1(0xfe, 1, X86_I_NONE, MR | BY | LK, dec_rm, "dec"),
    G1X(0xff, 0, X86_I_NONE, MR | LK, inc_rm, "inc", XF(inc_rm)),
    G1X(0xff, 1, X86_I_NONE, MR | LK, dec_rm, "dec", XF(dec_rm)),
    G1(0xff, 2, X86_I_NONE, MR | BR, xi_call_rm, "call"),
    G1(0xff, 4, X86_I_NONE, MR | BR, xi_jmp_rm, "jmp"),
    G1(0xff, 6, X86_I_NONE, MR | X86_D_DEF64, xi_push_rm, "push"),

    /* 0F map */
    O2(0x0b, X86_I_NONE, 0, xi_ud2, "ud2"),
    O2(0x0d, X86_I_NONE, MR, xi_nop_rm, "nop"),
    O2(0x18, X86_I_NONE, MR, xi_nop_rm, "nop"),
    O2(0x19, X86_I_NONE, MR, xi_nop_rm, "nop"),
    O2(0x1a, X86_I_NONE, MR, xi_nop_rm, "nop"),
    O2(0x1b, X86_I_NONE, MR, xi_nop_rm, "nop"),
    O2(0x1c, X86_I_NONE, MR, xi_nop_rm, "nop"),
    O2(0x1d, X86_I_NONE, MR, xi_nop_rm, "nop"),
    O2(0x1e, X86_I_NONE, MR, xi_nop_rm, "nop"),
    O2(0x1f, X86_I_NONE, MR, xi_nop_rm, "nop"),
    O2X(0x40, X86_I_NONE, MR | X86_D_CC, xi_cmov, "cmov", XF(cmov)),
    O2X(0x80, X86_I_RELZ, X86_D_CC | BR, xi_jcc, "jcc", XF(jcc)),
    O2(0x90, X86_I_NONE, MR | X86_D_CC | X86_D_RMBYTE, xi_setcc, "setcc"),
    O2(0xa3, X86_I_NONE, MR, bt_r, "bt"),
    O2(0xa4, X86_I_UB, MR, shld_i, "shld"),
    O2(0xa5, X86_I_NONE, MR, shld_cl, "shld"),
    O2(0xab, X86_I_NONE, MR | LK, bts_r, "bts"),
    O2(0xac, X86_I_UB, MR, shrd_i, "shrd"),
    O2(0xad, X86_I_NONE, MR, shrd_cl, "shrd"),
    O2X(0xaf, X86_I_NONE, MR, imul_r_rm, "imul", XF(imul_r_rm)),
    O2(0xb0, X86_I_NONE, MR | BY | LK, cmpxchg, "cmpxchg"),
    O2(0xb1, X86_I_NONE, MR | LK, cmpxchg, "cmpxchg"),
    O2(0xb3, X86_I_NONE, MR | LK, btr_r, "btr"),
    O2X(0xb6, X86_I_NONE, MR | X86_D_RMBYTE, xi_movzx_b, "movzx", XF(movzx_b)),
    O2X(0xb7, X86_I_NONE, MR, xi_movzx_w, "movzx", XF(movzx_w)),
    E(X86_MAP_0F, 0xb8, ANY, X86_M_ANY, X86_PF_F3, X86_I_NONE, MR, popcnt, "popcnt"),
    G2(0xba, 4, X86_I_UB, MR, bt_i, "bt"),
    G2(0xba, 5, X86_I_UB, MR | LK, bts_i, "bts"),
    G2(0xba, 6, X86_I_UB, MR | LK, btr_i, "btr"),
    G2(0xba, 7, X86_I_UB, MR | LK, btc_i, "btc"),
    O2(0xbb, X86_I_NONE, MR | LK, btc_r, "btc"),
    O2(0xbc, X86_I_NONE, MR, bsf, "bsf"),
    E(X86_MAP_0F, 0xbc, ANY, X86_M_ANY, X86_PF_F3, X86_I_NONE, MR, tzcnt, "tzcnt"),
    O2(0xbd, X86_I_NONE, MR, bsr, "bsr"),
    E(X86_MAP_0F, 0xbd, ANY, X86_M_ANY, X86_PF_F3, X86_I_NONE, MR, lzcnt, "lzcnt"),
    O2X(0xbe, X86_I_NONE, MR | X86_D_RMBYTE, xi_movsx_b, "movsx", XF(movsx_b)),
    O2X(0xbf, X86_I_NONE, MR, xi_movsx_w, "movsx", XF(movsx_w)),
    O2(0xc0, X86_I_NONE, MR | BY | LK, xadd, "xadd"),
    O2(0xc1, X86_I_NONE, MR | LK, xadd, "xadd"),
    E(X86_MAP_0F, 0xc7, 1, X86_M_MEM, X86_PF_NONE, X86_I_NONE, MR | LK, cmpxchg8b,
      "cmpxchg8b"),
    O2(0xc8, X86_I_NONE, X86_D_PLUSR, xi_bswap, "bswap"),

    /* 0F38 / 0F3A */
    E(X86_MAP_0F38, 0xf0, ANY, X86_M_MEM, X86_PF_NONE, X86_I_NONE, MR, xi_movbe_ld,
      "movbe"),
    E(X86_MAP_0F38, 0xf1, ANY, X86_M_MEM, X86_PF_NONE, X86_I_NONE, MR, xi_movbe_st,
      "movbe"),
    VEX38(0xf2, ANY, X86_PF_NONE, andn, "andn"),
    VEX38(0xf3, 1, X86_PF_NONE, blsr, "blsr"),
    VEX38(0xf3, 2, X86_PF_NONE, blsmsk, "blsmsk"),
    VEX38(0xf3, 3, X86_PF_NONE, blsi, "blsi"),
    VEX38(0xf5, ANY, X86_PF_NONE, bzhi, "bzhi"),
    VEX38(0xf5, ANY, X86_PF_F2, pdep, "pdep"),
    VEX38(0xf5, ANY, X86_PF_F3, pext, "pext"),
    VEX38(0xf6, ANY, X86_PF_F2, mulx, "mulx"),
    VEX38(0xf7, ANY, X86_PF_NONE, bextr, "bextr"),
    VEX38(0xf7, ANY, X86_PF_66, shlx, "shlx"),
    VEX38(0xf7, ANY, X86_PF_F3, sarx, "sarx"),
    VEX38(0xf7, ANY, X86_PF_F2, shrx, "shrx"),
    E(X86_MAP_0F3A, 0xf0, ANY, X86_M_ANY, X86_PF_F2, X86_I_UB, VX, rorx, "rorx"),
    { 0 },
};
