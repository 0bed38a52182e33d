/* Single-stepping x86 guests on KVM, counted (kvm_step.c): which
 * instructions may run there under single-step without the guest
 * noticing, and where the step may end. */
#ifndef TANDEM_X86_KVM_STEP_H
#define TANDEM_X86_KVM_STEP_H

#include <stdbool.h>
#include <stdint.h>

#include "targets/x86/insn.h"

typedef struct X86StepPlan {
    XInsn in;                /* the instruction at CS:RIP */
    uint64_t next[2];        /* the RIPs the step may end at */
    int nnext;
    bool rep;                /* a REP string instruction: one iteration per
                              * step, retired when RIP leaves it */
    bool cond;               /* a conditional branch (brcount) */
} X86StepPlan;

/* Plan one step of the instruction at the X86CPU's CS:RIP (its state
 * current: general registers, RIP and RFLAGS at least, the rest as when
 * it was put on KVM).  NULL: KVM may run it, as *p says; otherwise why the
 * interpreter must (it might fault, deliver an event, read the host's
 * time, or change what these checks rely on). */
const char *x86_kvm_step_plan(X86CPU *cpu, X86StepPlan *p);

/* Could the instruction at CS:rip be single-stepped on KVM whatever the
 * registers hold: no memory operand, no stack, no I/O, no string, no
 * x87/SSE, at most a direct branch whose target passes the checks now?
 * (A breakpoint's instruction, stepped over on every pass.)  The X86CPU's
 * modes and page tables as now. */
bool x86_kvm_step_always_safe(X86CPU *cpu, uint64_t rip);

/* Did a step that ended at rip go where the plan said it could? */
bool x86_kvm_step_expected(const X86StepPlan *p, uint64_t rip);

#endif
