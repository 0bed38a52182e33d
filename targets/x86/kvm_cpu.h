/* -accel kvm for the pc board: the X86CPU runs on KVM (kvm/kvm.h) behind
 * a CpuOps, so the main loop (vmm/main_loop.c) drives it as it drives the
 * interpreter.  See docs/architecture.md, "KVM (kvm/)". */
#ifndef TANDEM_X86_KVM_CPU_H
#define TANDEM_X86_KVM_CPU_H

#include <glib.h>

typedef struct Machine Machine;
typedef struct X86CPU X86CPU;
typedef struct X86Kvm X86Kvm;

/* Put cpu (m's only CPU, with its board fully built) on KVM: checks that
 * KVM can run its model, creates the VM, and replaces m->cpu and
 * m->cpu_ops with the KVM-backed ones (m->icount stays: it no longer
 * moves).  The X86CPU keeps the interrupt lines (intr, nmi_pending), the
 * MSRs KVM's filter sends to the interpreter, and a copy of the state
 * that is refreshed before dumps.  NULL with the reason on failure (m is
 * unchanged). */
X86Kvm *x86_kvm_attach(Machine *m, X86CPU *cpu, GError **err);

/* The CPU's INTR or NMI line rose (from a device model, on the thread
 * running the CPU): make a KVM_RUN in progress return so the event is
 * injected at once. */
void x86_kvm_event(X86Kvm *k);

#endif
