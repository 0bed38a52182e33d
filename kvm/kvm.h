/* The KVM accelerator for x86 guests (DESIGN.md, "Hybrid replay").
 *
 * One KvmVcpu runs one X86CPU's machine on KVM: no in-kernel irqchip or
 * PIT, so interrupt controllers and timers stay our device models; RAM is
 * shared with the interpreter (same host mapping), ROM is mapped read-only,
 * MMIO and port I/O exits go to the machine's address spaces (cpu->as,
 * cpu->io), and the MSRs whose values the interpreter defines (TSC,
 * TSC_AUX, APIC base, MISC_ENABLE, model-specific identity MSRs, every MSR
 * the interpreter does not implement) are answered by the interpreter's
 * MSR code.  CPUID is the interpreter's model, leaf for leaf.
 *
 * CPU state lives in KVM between kvm_put_state() and kvm_get_state();
 * kvm_run() changes in the X86CPU only what the interpreter alone keeps:
 * the MSRs filtered WRMSRs write, and CR8 with the local APIC's TPR.
 *
 * Only x86-64 Linux hosts build the real backend; elsewhere (and with
 * -Dkvm=disabled) every call fails with a message saying why. */
#ifndef TANDEM_KVM_H
#define TANDEM_KVM_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct Machine Machine;
typedef struct X86CPU X86CPU;
typedef struct KvmVcpu KvmVcpu;
typedef struct KvmCounter KvmCounter;
typedef struct PmuEvent PmuEvent;

/* Why kvm_run() returned. */
typedef enum KvmStop {
    KVM_STOP_ERROR = -1,     /* *err says why */
    KVM_STOP_HLT,            /* the guest executed HLT (RIP after it) */
    KVM_STOP_SHUTDOWN,       /* triple fault: the caller resets the machine */
    KVM_STOP_DEBUG,          /* single step or hardware breakpoint: kvm_debug_exit() */
    KVM_STOP_KICK,           /* kvm_kick() (or a signal) interrupted the run */
    KVM_STOP_IRQ_WINDOW,     /* the window requested by kvm_inject_interrupt() opened */
    KVM_STOP_REQUEST,        /* a device set m->exit_request (shutdown, reset, error) */
    KVM_STOP_ACCESS,         /* an I/O or MMIO exit was served (kvm_set_access_hook) */
} KvmStop;

/* The debug exit of the last KVM_STOP_DEBUG (struct kvm_debug_exit_arch). */
typedef struct KvmDebugExit {
    uint32_t exception;      /* 1: #DB (step, hardware breakpoint), 3: #BP */
    uint64_t pc;             /* linear address where the guest stopped */
    uint64_t dr6, dr7;
} KvmDebugExit;

/* Can this host run guests on KVM?  /dev/kvm opens read-write, API
 * version 12, and the capabilities the backend needs are there.  The
 * message names what is missing ("/dev/kvm: Permission denied", "KVM lacks
 * KVM_CAP_X86_MSR_FILTER (kernel too old)"). */
bool kvm_probe(GError **err);

/* Can KVM here run cpu's model?  Every CPUID feature of the
 * interpreter's model must be one KVM supports; the message lists those
 * it does not.  Also fails where kvm_probe() does. */
bool kvm_supports_cpu(X86CPU *cpu, GError **err);

/* A VM and one vCPU for cpu (on machine m), after the kvm_supports_cpu()
 * check: memory slots for every RAM and ROM region of cpu->as (they
 * follow later changes of the map: PAM shadowing), the interpreter's
 * CPUID, the MSR filter.  The vCPU's state is KVM's reset state until
 * kvm_put_state().
 *
 * It then drops every capability of the process (libcap): the only
 * privileged step is opening /dev/kvm, so create the VM after anything
 * else that needs privileges.
 *
 * Installs a no-op SIGUSR1 handler (kvm_kick() uses SIGUSR1). */
KvmVcpu *kvm_create(Machine *m, X86CPU *cpu, GError **err);
void kvm_destroy(KvmVcpu *v);

/* Move the whole CPU state interpreter -> KVM: general registers, RIP,
 * RFLAGS (lazy flags materialised), segments with their hidden parts,
 * LDTR/TR, GDTR/IDTR, CR0/2/3/4/8, EFER, APIC base, DR0-3/6/7, the MSRs the
 * interpreter keeps (SYSCALL/SYSENTER, KernelGSbase, PAT, MTRRs, TSC_AUX,
 * the TSC from the interpreter's virtual TSC), x87/SSE and XCR0, the NMI
 * state, the STI/MOV SS shadow and HLT (kept by the KvmVcpu: without an
 * in-kernel irqchip KVM_SET_MP_STATE accepts only RUNNABLE).  cpu is
 * normally the vCPU's own X86CPU: filtered MSRs are served from that one
 * while KVM runs. */
bool kvm_put_state(KvmVcpu *v, const X86CPU *cpu, GError **err);

/* Move it back KVM -> interpreter, and make the interpreter's caches
 * consistent (hflags, TLB, decoded code: the guest may have written
 * anything).  An event KVM was in the middle of delivering (an exit during
 * IDT delivery) is delivered by the interpreter. */
bool kvm_get_state(KvmVcpu *v, X86CPU *cpu, GError **err);

/* PAE paging: take back the accessed bit a host set in the (reserved)
 * PDPTE bit 5 while KVM ran; the hardware never writes PDPTEs, QEMU TCG's
 * nested paging does.  kvm_get_state() does it too. */
void kvm_pdptes_fixup(KvmVcpu *v);

/* Only the general registers, RIP and RFLAGS, KVM -> interpreter, with no
 * cache invalidated: for a caller that knows nothing else changed (the
 * single-stepping of targets/x86/kvm_switch.c).  kvm_get_state() before
 * the interpreter runs again. */
bool kvm_get_regs(KvmVcpu *v, X86CPU *cpu, GError **err);

/* Run until one of the KvmStop reasons.  Port I/O, MMIO and filtered MSR
 * accesses are served on the way; the last one is complete when it
 * returns.  Returns KVM_STOP_HLT at once while the vCPU is halted (until
 * an interrupt or NMI is injected).  Devices see the position the X86CPU
 * had at kvm_put_state() (no instruction count on KVM yet). */
KvmStop kvm_run(KvmVcpu *v, GError **err);
const char *kvm_stop_name(KvmStop s);

/* Inject external interrupt `vector` if the vCPU can take it now (IF set,
 * no interrupt shadow, no event in flight): returns 1.  Otherwise asks KVM
 * to stop with KVM_STOP_IRQ_WINDOW as soon as it can, and returns 0; -1
 * on error.  An injected interrupt is delivered by the next kvm_run();
 * until then it is in KVM only (kvm_get_state() does not see it). */
int kvm_inject_interrupt(KvmVcpu *v, uint8_t vector, GError **err);
/* Make kvm_run() stop with KVM_STOP_IRQ_WINDOW as soon as the guest can
 * take an external interrupt (IF set, no interrupt shadow), or not: an
 * interrupt pending in our interrupt controllers that the guest masks
 * with IF is delivered by the interpreter where it unmasks it. */
void kvm_request_irq_window(KvmVcpu *v, bool on);
/* Would kvm_inject_interrupt() inject now? */
bool kvm_interrupt_ready(const KvmVcpu *v);
bool kvm_inject_nmi(KvmVcpu *v, GError **err);

/* Single-step and/or up to 4 instruction breakpoints (linear addresses,
 * debug registers owned by the host: the guest's DR7 is untouched).
 * singlestep false and n 0 turn guest debugging off. */
bool kvm_set_guest_debug(KvmVcpu *v, bool singlestep, const uint64_t *hw_bp, int n,
                         GError **err);
const KvmDebugExit *kvm_debug_exit(const KvmVcpu *v);
/* Hybrid replay: call hook(opaque, mmio_write, n) before each I/O or MMIO
 * access of an exit that reaches a device, n the device accesses it counts
 * as (x86_bus_accesses: 1 but for split ones; mmio_write: KVM has already
 * executed the rest of the instruction, RIP is past it); false from it
 * skips the access (and the rest of the exit: the caller is about to throw
 * the state away).  With stop set kvm_run() returns KVM_STOP_ACCESS once
 * the exit is served.  NULL hook: none. */
void kvm_set_access_hook(KvmVcpu *v, bool (*hook)(void *opaque, bool mmio_write, unsigned n),
                         void *opaque, bool stop);
/* The general registers as KVM holds them now, into cpu (RIP, RFLAGS and
 * the 16 GPRs), without completing a pending I/O or MMIO exit (so callable
 * from the access hook). */
bool kvm_peek_regs(KvmVcpu *v, X86CPU *cpu, GError **err);
/* Set the guest's RFLAGS.RF: its next instruction runs without triggering
 * the instruction breakpoint it stands on (the hardware clears RF after
 * it). */
bool kvm_resume_past_breakpoint(KvmVcpu *v, GError **err);
/* 1 if hardware breakpoints set with KVM_SET_GUEST_DEBUG fire on this host,
 * 0 if not (QEMU TCG's nested SVM), -1 on error (a scratch VM tries). */
int kvm_hw_breakpoints_work(KvmVcpu *v, GError **err);
/* After a HLT exit: not halted, RIP set to rip (a HLT the replay wrote
 * over an instruction, which is put back). */
bool kvm_unhalt_at(KvmVcpu *v, uint64_t rip, GError **err);
/* The host byte KVM maps at guest-physical gpa (the copy KVM sees for
 * ROM), or NULL where no memory slot covers it. */
uint8_t *kvm_guest_ram_ptr(KvmVcpu *v, uint64_t gpa);

/* Make kvm_run() return KVM_STOP_KICK soon: async-signal-safe, callable
 * from any thread or a signal handler. */
void kvm_kick(KvmVcpu *v);

/* 0 normally.  On a host whose CPU does not make the guest's XSETBV exit
 * to KVM (QEMU TCG's nested SVM), KVM cannot follow the guest's XCR0: it
 * is kept at the model's full set (CPUID 0xD.0, x87 | SSE), and this
 * returns that value (kvm_put_state() puts it, kvm_get_state() reads it:
 * the guest's own XSETBV lasts only until the next exit there). */
uint64_t kvm_xcr0_pinned(const KvmVcpu *v);

/* The PMU position counter of hybrid replay (counter.c): the guest's
 * retired conditional branches (kvm/pmu.h), counted only in guest mode on
 * the vCPU thread.  kvm_create() opens it for a replay that may land with
 * it (-accel kvm,landing=auto|pmu; opening needs the privileges it drops
 * after) and checks it on a scratch VM; NULL where there is none, and
 * kvm_counter_why() says why. */
KvmCounter *kvm_counter(KvmVcpu *v);
const char *kvm_counter_why(const KvmVcpu *v);
/* The guest's conditional branches counted since the counter opened. */
uint64_t kvm_counter_read(KvmCounter *c);
/* Interrupt kvm_run() (KVM_STOP_KICK, kvm_counter_fired() true) once n
 * more branches have retired, or up to the event's skid later; 0
 * disarms. */
bool kvm_counter_arm(KvmCounter *c, uint64_t n, GError **err);
bool kvm_counter_fired(const KvmCounter *c);
const PmuEvent *kvm_counter_event(const KvmCounter *c);

#endif
