/* -accel kvm,switch-test=SEED for the pc board (kvm_switch.c): the X86CPU
 * alternates between the interpreter and KVM at random instruction
 * counts, counted exactly, behind one CpuOps. */
#ifndef TANDEM_X86_KVM_SWITCH_H
#define TANDEM_X86_KVM_SWITCH_H

#include <glib.h>
#include <stdint.h>

typedef struct Machine Machine;
typedef struct X86CPU X86CPU;
typedef struct X86Switch X86Switch;

/* Replace m's CPU (cpu, the board fully built) with the switching one:
 * legs of 1..max instructions (seeded by seed), alternately on the
 * interpreter and on KVM (KVM's of 1..kvm_max; 0: max).  NULL with the reason when KVM cannot run
 * cpu's model (m unchanged). */
X86Switch *x86_switch_attach(Machine *m, X86CPU *cpu, uint64_t seed, uint64_t max,
                             uint64_t kvm_max, GError **err);

/* The same CPU with KVM stepping every instruction it can, always (the
 * interpreter runs the rest): -icount rr=replay with -accel kvm, whose
 * positions must be exact.  Breakpoint and PMU landing (kvm/landing.c)
 * are not driven from the replay yet. */
X86Switch *x86_stepper_attach(Machine *m, X86CPU *cpu, GError **err);

#endif
