/* x87 state helpers shared with sse.c (MMX aliasing) and the reset code.
 * Internal to targets/x86/. */
#ifndef TANDEM_X86_FPU_H
#define TANDEM_X86_FPU_H

#include "targets/x86/cpu.h"

/* FSW bits */
#define X86_FSW_IE  0x0001u
#define X86_FSW_SF  0x0040u
#define X86_FSW_ES  0x0080u
#define X86_FSW_C0  0x0100u
#define X86_FSW_C1  0x0200u
#define X86_FSW_C2  0x0400u
#define X86_FSW_TOP 0x3800u
#define X86_FSW_C3  0x4000u
#define X86_FSW_B   0x8000u

/* MXCSR bits FXRSTOR/LDMXCSR accept (DAZ supported): FXSAVE's MXCSR_MASK. */
#define X86_MXCSR_MASK 0x0000ffffu

/* An MMX instruction (other than EMMS) puts the x87 unit in MMX mode:
 * TOP = 0 and every register tagged valid.  A register written by MMX
 * also gets sexp = 0xffff (the sse helper does that per write). */
static inline void x86_mmx_enter(X86CPU *cpu)
{
    cpu->fpu.fsw &= (uint16_t)~X86_FSW_TOP;
    cpu->fpu.ftw = 0xff;
}

/* EMMS: every register empty. */
static inline void x86_mmx_emms(X86CPU *cpu)
{
    cpu->fpu.ftw = 0;
}

/* FNINIT state (also XRSTOR's x87 init, less the registers). */
static inline void x86_fpu_init(X86CPU *cpu)
{
    cpu->fpu.fcw = 0x037f;
    cpu->fpu.fsw = 0;
    cpu->fpu.ftw = 0;
    cpu->fpu.fop = 0;
    cpu->fpu.fip = cpu->fpu.fdp = 0;
    cpu->fpu.fcs = cpu->fpu.fds = 0;
}

/* Power-on / RESET state (SDM vol. 3 table 9-1): FCW 0040H, FTW 5555H
 * (all registers valid, +0.0), MXCSR 1F80H, XCR0 = 1, XMM zero. */
static inline void x86_fpu_reset(X86CPU *cpu)
{
    X86Fpu *f = &cpu->fpu;
    for (int i = 0; i < 8; i++) {
        f->st[i].mant = 0;
        f->st[i].sexp = 0;
    }
    x86_fpu_init(cpu);
    f->fcw = 0x0040;
    f->ftw = 0xff;
    f->mxcsr = 0x1f80;
    for (int i = 0; i < 16; i++)
        f->xmm[i].q[0] = f->xmm[i].q[1] = 0;
    f->xcr0 = 1;
}

#endif
