/* Private to sse.c and the handler headers it includes (sse_int.h,
 * sse_fp.h): availability checks, the MMX view of the x87 registers and
 * operand access for MMX/XMM instructions. */
#ifndef TANDEM_X86_SSE_H
#define TANDEM_X86_SSE_H

#include <string.h>

#include "targets/x86/flags.h"
#include "targets/x86/fpu.h"
#include "targets/x86/insn.h"

#define SSE_INLINE static inline __attribute__((always_inline))
#define SSE_COLD static __attribute__((noinline, cold))

/* MXCSR */
#define MX_IE 0x01u
#define MX_DE 0x02u
#define MX_ZE 0x04u
#define MX_OE 0x08u
#define MX_UE 0x10u
#define MX_PE 0x20u
#define MX_FLAGS 0x3fu
#define MX_MASKS 0x1f80u
#define MX_DAZ 0x40u
#define MX_FTZ 0x8000u
#define MX_WRITABLE X86_MXCSR_MASK

/* ---- MMX: mmN is the significand of physical x87 register RN (fpu.h
 * does the x87 side of the transition) ---- */
static inline uint64_t mm_get(const X86CPU *cpu, unsigned r)
{
    return cpu->fpu.st[r & 7].mant;
}

/* An MMX write also sets the register's sign+exponent to all ones. */
static inline void mm_set(X86CPU *cpu, unsigned r, uint64_t v)
{
    cpu->fpu.st[r & 7].mant = v;
    cpu->fpu.st[r & 7].sexp = 0xffff;
}

static inline void mmx_enter(X86CPU *cpu)
{
    x86_mmx_enter(cpu);
}

/* ---- availability ----
 * SSE (XMM operands): #UD if CR0.EM or !CR4.OSFXSR, then #NM if CR0.TS.
 * MMX (MM operands, SSE-added MMX forms included): #UD if CR0.EM, #NM if
 * CR0.TS, #MF if an x87 exception is pending (FSW.ES).  Instructions that
 * use both register files check both. */
static inline bool sse_ready(const X86CPU *cpu)
{
    return !(cpu->cr0 & (X86_CR0_EM | X86_CR0_TS)) && (cpu->cr4 & X86_CR4_OSFXSR);
}

static inline bool mmx_ready(const X86CPU *cpu)
{
    return !(cpu->cr0 & (X86_CR0_EM | X86_CR0_TS)) && !(cpu->fpu.fsw & X86_FSW_ES);
}

SSE_COLD const XInsn *sse_unavail(X86CPU *cpu, const XInsn *in)
{
    if ((cpu->cr0 & X86_CR0_EM) || !(cpu->cr4 & X86_CR4_OSFXSR))
        return x86_raise(cpu, in, X86_EXC_UD, X86_NO_ERR);
    return x86_raise(cpu, in, X86_EXC_NM, X86_NO_ERR);
}

/* A pending x87 exception is reported as #MF whatever CR0.NE says (the
 * FERR#/IRQ13 route of CR0.NE = 0 is not modelled). */
SSE_COLD const XInsn *mmx_unavail(X86CPU *cpu, const XInsn *in)
{
    if (cpu->cr0 & X86_CR0_EM)
        return x86_raise(cpu, in, X86_EXC_UD, X86_NO_ERR);
    if (cpu->cr0 & X86_CR0_TS)
        return x86_raise(cpu, in, X86_EXC_NM, X86_NO_ERR);
    return x86_raise(cpu, in, X86_EXC_MF, X86_NO_ERR);
}

SSE_COLD const XInsn *ssemmx_unavail(X86CPU *cpu, const XInsn *in)
{
    if (!sse_ready(cpu))
        return sse_unavail(cpu, in);
    return x86_raise(cpu, in, X86_EXC_MF, X86_NO_ERR);
}

#define SSE_CHECK(cpu, in)                                                    \
    do {                                                                      \
        if (unlikely(!sse_ready(cpu)))                                        \
            return sse_unavail(cpu, in);                                      \
    } while (0)
#define MMX_CHECK(cpu, in)                                                    \
    do {                                                                      \
        if (unlikely(!mmx_ready(cpu)))                                        \
            return mmx_unavail(cpu, in);                                      \
    } while (0)
/* XMM and MM operands (CVTPI2PS, MOVQ2DQ, ...). */
#define SSEMMX_CHECK(cpu, in)                                                 \
    do {                                                                      \
        if (unlikely(!sse_ready(cpu) || (cpu->fpu.fsw & X86_FSW_ES)))             \
            return ssemmx_unavail(cpu, in);                                   \
    } while (0)

/* ---- memory operands ---- */

/* Linear address of offset ea (alignment checks look at its low bits). */
static inline uint64_t sse_lin(const X86CPU *cpu, const XInsn *in, uint64_t ea)
{
    if ((cpu->hflags & X86_HF_CS64) && in->seg < X86_FS)
        return ea;
    return cpu->seg[in->seg].base + ea;
}

/* Legacy SSE 16-byte operands of the aligned forms: #GP(0) if the linear
 * address is not a multiple of 16, before any other memory check. */
static inline bool sse_aligned(X86CPU *cpu, const XInsn *in, uint64_t ea)
{
    if (likely(!(sse_lin(cpu, in, ea) & 15)))
        return true;
    x86_raise(cpu, in, X86_EXC_GP, 0);
    return false;
}

/* Source operand: the XMM register rm, or size bytes of memory
 * zero-extended into *s (16: aligned if align). */
SSE_INLINE bool xmm_load(X86CPU *cpu, const XInsn *in, X86Xmm *s, unsigned size,
                         bool align)
{
    uint64_t ea, v;

    if (in->mod == 3) {
        *s = cpu->fpu.xmm[in->rm];
        return true;
    }
    ea = x86_ea(cpu, in);
    if (size == 16) {
        if (align && !sse_aligned(cpu, in, ea))
            return false;
        return x86_ld_buf(cpu, in, in->seg, ea, s, 16);
    }
    if (!x86_ld(cpu, in, in->seg, ea, size, &v))
        return false;
    s->q[0] = v;
    s->q[1] = 0;
    return true;
}

/* Store size bytes of v to the memory operand (16: aligned if align). */
SSE_INLINE bool xmm_store(X86CPU *cpu, const XInsn *in, const X86Xmm *v, unsigned size,
                          bool align)
{
    uint64_t ea = x86_ea(cpu, in);

    if (size == 16) {
        if (align && !sse_aligned(cpu, in, ea))
            return false;
        return x86_st_buf(cpu, in, in->seg, ea, v, 16);
    }
    return x86_st(cpu, in, in->seg, ea, size, size == 8 ? v->q[0] : v->d[0]);
}

/* MMX source: the MM register rm, or size bytes of memory zero-extended. */
SSE_INLINE bool mm_load(X86CPU *cpu, const XInsn *in, uint64_t *v, unsigned size)
{
    if (in->mod == 3) {
        *v = mm_get(cpu, in->rm);
        return true;
    }
    return x86_ld(cpu, in, in->seg, x86_ea(cpu, in), size, v);
}

/* REX.W selects 64-bit general-register operands of SSE instructions
 * (66 never changes their size). */
static inline unsigned sse_gsize(const XInsn *in)
{
    return (in->pfx & X86_P_REXW) ? 8 : 4;
}

#endif
