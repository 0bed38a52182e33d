/* Lazy condition codes (flags.h): the six arithmetic flags computed from
 * what the last flag-setting instruction recorded.
 *
 * Every operand is masked to the recorded size here, so producers may
 * leave garbage above it.  Flags the SDM leaves undefined are computed the
 * way QEMU TCG does (our differential reference), noted per operation:
 *   - AF after LOGIC, shifts, MUL/IMUL and BMI: 0.
 *   - OF after shifts by more than one: the 1-bit rule applied to the last
 *     step, i.e. top bit of (src ^ dst) where src is the operand shifted
 *     by count - 1 (SHL: CF ^ MSB(result); SHR: 0 for counts > 1 since
 *     src has a clear top bit; SAR: always 0).  For SHR the header's src2
 *     (top bit of the original operand) gives the same answer for count 1,
 *     the only defined case, so we do not read it.
 *   - SF/ZF/PF after MUL/IMUL: from the low half of the result. */
#include "targets/x86/flags.h"
#include "targets/x86/insn.h"

/* Per-size constants: mask and sign bit. */
static const uint64_t size_mask[4] = { 0xff, 0xffff, 0xffffffffull, ~0ull };
static const uint64_t sign_bit[4] = { 0x80, 0x8000, 0x80000000ull, 1ull << 63 };

/* SF, ZF, PF of a masked result. */
static inline uint32_t szp(uint64_t d, uint64_t sb)
{
    return x86_pf(d) | (d == 0 ? X86_ZF : 0) | (d & sb ? X86_SF : 0);
}

uint32_t x86_arith(const X86CPU *cpu)
{
    unsigned op = cpu->cc_op >> 2, lg = cpu->cc_op & 3;
    uint64_t m = size_mask[lg], sb = sign_bit[lg];
    uint64_t d = cpu->cc_dst & m, s = cpu->cc_src & m, a;
    uint32_t f;

    switch (op) {
    case X86_CC_EFLAGS:
        return (uint32_t)cpu->eflags & X86_ARITH_FLAGS;
    case X86_CC_ADD:
    case X86_CC_ADC:
        if (op == X86_CC_ADC && (cpu->cc_src2 & 1)) {
            a = (d - s - 1) & m;
            f = d <= s ? X86_CF : 0;
        } else {
            a = (d - s) & m;
            f = d < s ? X86_CF : 0;
        }
        f |= (a ^ s ^ d) & X86_AF;
        if ((a ^ d) & (s ^ d) & sb)
            f |= X86_OF;
        return f | szp(d, sb);
    case X86_CC_SUB:
    case X86_CC_SBB:
        if (op == X86_CC_SBB && (cpu->cc_src2 & 1)) {
            a = (d + s + 1) & m;
            f = a <= s ? X86_CF : 0;
        } else {
            a = (d + s) & m;
            f = a < s ? X86_CF : 0;
        }
        f |= (a ^ s ^ d) & X86_AF;
        if ((a ^ s) & (a ^ d) & sb)
            f |= X86_OF;
        return f | szp(d, sb);
    case X86_CC_LOGIC:
        return szp(d, sb);
    case X86_CC_INC:
        f = (cpu->cc_src ? X86_CF : 0) | ((d & 0xf) == 0 ? X86_AF : 0);
        if (d == sb)
            f |= X86_OF;
        return f | szp(d, sb);
    case X86_CC_DEC:
        f = (cpu->cc_src ? X86_CF : 0) | ((d & 0xf) == 0xf ? X86_AF : 0);
        if (d == sb - 1)
            f |= X86_OF;
        return f | szp(d, sb);
    case X86_CC_SHL:
        f = s & sb ? X86_CF : 0;
        if ((s ^ d) & sb)
            f |= X86_OF;
        return f | szp(d, sb);
    case X86_CC_SAR:
    case X86_CC_SHR:
        f = s & 1 ? X86_CF : 0;
        if ((s ^ d) & sb)
            f |= X86_OF;
        return f | szp(d, sb);
    case X86_CC_MUL:
        return (s ? X86_CF | X86_OF : 0) | szp(d, sb);
    case X86_CC_BLSI:
        return (s ? X86_CF : 0) | szp(d, sb);
    case X86_CC_BLSMSK:
    case X86_CC_BLSR:
        return (s ? 0 : X86_CF) | szp(d, sb);
    default:
        return (uint32_t)cpu->eflags & X86_ARITH_FLAGS;
    }
}

bool x86_cf(const X86CPU *cpu)
{
    unsigned op = cpu->cc_op >> 2, lg = cpu->cc_op & 3;
    uint64_t m = size_mask[lg];
    uint64_t d = cpu->cc_dst & m, s = cpu->cc_src & m;

    switch (op) {
    case X86_CC_SUB:
        return ((d + s) & m) < s;
    case X86_CC_LOGIC:
        return false;
    case X86_CC_ADD:
        return d < s;
    case X86_CC_ADC:
        return (cpu->cc_src2 & 1) ? d <= s : d < s;
    case X86_CC_SBB:
        return (cpu->cc_src2 & 1) ? ((d + s + 1) & m) <= s : ((d + s) & m) < s;
    case X86_CC_INC:
    case X86_CC_DEC:
        return cpu->cc_src != 0;
    case X86_CC_SHL:
        return (s & sign_bit[lg]) != 0;
    case X86_CC_SAR:
    case X86_CC_SHR:
        return s & 1;
    case X86_CC_MUL:
    case X86_CC_BLSI:
        return s != 0;
    case X86_CC_BLSMSK:
    case X86_CC_BLSR:
        return s == 0;
    default:
        return cpu->eflags & X86_CF;
    }
}

/* Condition from materialised flags: cc>>1 picks the test, cc&1 negates. */
static inline bool cond_flags(uint32_t f, unsigned cc)
{
    bool r;
    switch (cc >> 1) {
    case 0: r = f & X86_OF; break;
    case 1: r = f & X86_CF; break;
    case 2: r = f & X86_ZF; break;
    case 3: r = f & (X86_CF | X86_ZF); break;
    case 4: r = f & X86_SF; break;
    case 5: r = f & X86_PF; break;
    case 6: r = !(f & X86_SF) != !(f & X86_OF); break;
    default: r = (f & X86_ZF) || !(f & X86_SF) != !(f & X86_OF); break;
    }
    return r ^ (cc & 1);
}

bool x86_cond(const X86CPU *cpu, unsigned cc)
{
    unsigned op = cpu->cc_op >> 2, lg = cpu->cc_op & 3;
    uint64_t m = size_mask[lg], sb = sign_bit[lg];
    uint64_t d = cpu->cc_dst & m;
    bool r;

    if (op == X86_CC_EFLAGS)
        return cond_flags((uint32_t)cpu->eflags, cc);
    /* Every lazy operation derives ZF, SF and PF from the result. */
    switch (cc >> 1) {
    case 2: return (d == 0) ^ (cc & 1);
    case 4: return ((d & sb) != 0) ^ (cc & 1);
    case 5: return (x86_pf(d) != 0) ^ (cc & 1);
    default: break;
    }
    if (op == X86_CC_SUB) {
        /* CMP a, s: compare the operands directly. */
        uint64_t s = cpu->cc_src & m, a = (d + s) & m;
        int64_t sa = (int64_t)x86_sext(a, 1u << lg), ss = (int64_t)x86_sext(s, 1u << lg);
        switch (cc >> 1) {
        case 1: r = a < s; break;
        case 3: r = a <= s; break;
        case 6: r = sa < ss; break;
        case 7: r = sa <= ss; break;
        default: return cond_flags(x86_arith(cpu), cc);
        }
        return r ^ (cc & 1);
    }
    if (op == X86_CC_LOGIC) {
        /* CF = OF = 0. */
        switch (cc >> 1) {
        case 0: case 1: r = false; break;
        case 3: r = d == 0; break;
        case 6: r = (d & sb) != 0; break;
        default: r = d == 0 || (d & sb); break;
        }
        return r ^ (cc & 1);
    }
    return cond_flags(x86_arith(cpu), cc);
}

uint64_t x86_eflags(X86CPU *cpu)
{
    return (cpu->eflags & ~(uint64_t)X86_ARITH_FLAGS) | x86_arith(cpu) | 2;
}

/* Bits that exist in EFLAGS (0 1 2 4 6-14 16-21); the rest read as 0. */
#define EFLAGS_LIVE 0x3f7fd7ull

void x86_set_eflags(X86CPU *cpu, uint64_t v, uint64_t mask)
{
    uint64_t old = x86_eflags(cpu);
    uint64_t nv = (((old & ~mask) | (v & mask)) & EFLAGS_LIVE) | 2;

    cpu->eflags = nv;
    cpu->cc_op = X86_CC_EFLAGS;
    if ((old ^ nv) & X86_VM)
        x86_update_hflags(cpu);
}
