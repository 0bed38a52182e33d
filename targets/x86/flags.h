/* Lazy condition codes.  Arithmetic instructions record what they did
 * (operation, operand size, result and a source operand) instead of
 * computing six flags; flags are computed when something reads them
 * (Jcc/SETcc/CMOVcc through x86_cond, PUSHF, interrupts through
 * x86_eflags).  Internal to targets/x86/.
 *
 * cc_op = X86_CC_<OP> * 4 + log2(operand size), except X86_CC_EFLAGS
 * (the arithmetic flags are in cpu->eflags).  Meaning of the operands:
 *
 *   ADD   dst = result, src = second operand
 *   ADC   dst = result, src = second operand, src2 = carry in
 *   SUB   dst = result, src = second operand (CMP: the result not stored)
 *   SBB   dst = result, src = second operand, src2 = borrow in
 *   LOGIC dst = result (CF = OF = 0, AF = 0)
 *   INC   dst = result, src = CF before (INC/DEC keep CF)
 *   DEC   dst = result, src = CF before
 *   SHL   dst = result, src = the value shifted left by count - 1
 *         (CF = its top bit; OF = CF ^ top bit of result)
 *   SAR   dst = result, src = the value shifted right by count - 1
 *         (CF = its bit 0; OF = 0)
 *   SHR   as SAR, OF = top bit of the original operand, which is passed in
 *         src2
 *   MUL   dst = low half of the result, src = high half or overflow
 *         indicator (CF = OF = src != 0; SF ZF PF from dst as the hardware
 *         leaves them, AF = 0)
 *   BLSx  BMI1 BLSI/BLSMSK/BLSR: dst = result, src = source (CF rule
 *         per instruction: CLEAR for BLSR/BLSMSK (src == 0), SET for BLSI
 *         (src != 0))
 *
 * Instructions whose flags do not fit (rotates, BT*, shifts by 1 with
 * special OF, BSF/BSR, DAA, ...) compute them and store them with
 * x86_set_arith(). */
#ifndef TANDEM_X86_FLAGS_H
#define TANDEM_X86_FLAGS_H

#include "targets/x86/cpu.h"

enum {
    X86_CC_EFLAGS = 0,
    X86_CC_ADD, X86_CC_ADC, X86_CC_SUB, X86_CC_SBB, X86_CC_LOGIC,
    X86_CC_INC, X86_CC_DEC, X86_CC_SHL, X86_CC_SAR, X86_CC_SHR, X86_CC_MUL,
    X86_CC_BLSI, X86_CC_BLSMSK, X86_CC_BLSR,
    X86_CC_NOPS,
};

static inline unsigned x86_size_log2(unsigned size)
{
    return size == 8 ? 3 : size == 4 ? 2 : size == 2 ? 1 : 0;
}

static inline void x86_cc(X86CPU *cpu, unsigned op, unsigned size, uint64_t dst,
                          uint64_t src)
{
    cpu->cc_op = op * 4 + x86_size_log2(size);
    cpu->cc_dst = dst;
    cpu->cc_src = src;
}

static inline void x86_cc3(X86CPU *cpu, unsigned op, unsigned size, uint64_t dst,
                           uint64_t src, uint64_t src2)
{
    x86_cc(cpu, op, size, dst, src);
    cpu->cc_src2 = src2;
}

/* The six arithmetic flags now (X86_ARITH_FLAGS bits). */
uint32_t x86_arith(const X86CPU *cpu);
/* Only CF (cheaper: ADC/SBB/RCL/RCR/SETC/JC). */
bool x86_cf(const X86CPU *cpu);

/* Replace the arithmetic flags by f (X86_ARITH_FLAGS bits). */
static inline void x86_set_arith(X86CPU *cpu, uint32_t f)
{
    cpu->eflags = (cpu->eflags & ~(uint64_t)X86_ARITH_FLAGS) | (f & X86_ARITH_FLAGS);
    cpu->cc_op = X86_CC_EFLAGS;
}

/* Materialise the lazy flags into cpu->eflags (cc_op becomes EFLAGS). */
static inline void x86_flags_sync(X86CPU *cpu)
{
    if (cpu->cc_op != X86_CC_EFLAGS)
        x86_set_arith(cpu, x86_arith(cpu));
}

/* Condition code cc (0..15, the low nibble of Jcc/SETcc/CMOVcc):
 * O NO B AE E NE BE A S NS P NP L GE LE G. */
bool x86_cond(const X86CPU *cpu, unsigned cc);

/* x86_cond with the common cases inline and without data-dependent
 * branches: ZF and SF from any lazy result, CF/ZF/SF/OF tests after SUB
 * (CMP) and LOGIC (TEST/AND/OR/XOR); everything else calls x86_cond.  For
 * the hot handlers, where cc usually is a constant or predictable. */
static inline __attribute__((always_inline)) bool x86_cond_inline(const X86CPU *cpu,
                                                                  unsigned cc)
{
    unsigned op = cpu->cc_op >> 2, lg = cpu->cc_op & 3;
    if (__builtin_expect(op != X86_CC_EFLAGS, 1)) {
        uint64_t m = ~0ull >> (64 - (8u << lg)), sb = (m >> 1) + 1;
        uint64_t d = cpu->cc_dst & m;
        bool neg = cc & 1;
        switch (cc >> 1) {
        case 2: return (d == 0) ^ neg;
        case 4: return ((d & sb) != 0) ^ neg;
        default: break;
        }
        if (op == X86_CC_SUB) {
            /* The operands: a - s = d.  Signed order is unsigned order
             * with the sign bits flipped. */
            uint64_t s = cpu->cc_src & m, a = (d + s) & m;
            switch (cc >> 1) {
            case 1: return (a < s) ^ neg;
            case 3: return (a <= s) ^ neg;
            case 6: return ((a ^ sb) < (s ^ sb)) ^ neg;
            case 7: return ((a ^ sb) <= (s ^ sb)) ^ neg;
            default: break;
            }
        } else if (op == X86_CC_LOGIC) {
            switch (cc >> 1) {
            case 0: case 1: return neg;
            case 3: return (d == 0) ^ neg;
            case 6: return ((d & sb) != 0) ^ neg;
            case 7: return (d == 0 || (d & sb)) ^ neg;
            default: break;
            }
        }
    }
    return x86_cond(cpu, cc);
}

/* PF of a result: even parity of the low byte. */
static inline uint32_t x86_pf(uint64_t v)
{
    return __builtin_parity((unsigned)(v & 0xff)) ? 0 : X86_PF;
}

#endif
