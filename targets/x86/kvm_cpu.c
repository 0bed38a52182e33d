/* -accel kvm: the pc board's CPU on KVM behind a CpuOps (kvm_cpu.h).
 *
 * The main loop treats it like the interpreter, with the virtual clock in
 * realtime mode (vmm/clock.h): run() returns CPU_EXIT_BUDGET when kicked
 * (timer deadline, the periodic input poll, a signal), CPU_EXIT_IDLE when
 * the guest halted and nothing can wake it now, CPU_EXIT_REQUEST for device
 * requests (and a triple fault, which resets the machine as the
 * interpreter's does).
 *
 * Interrupts: there is no in-kernel irqchip.  The device models raise the
 * X86CPU's intr line (pc_cpu_intr) and nmi_pending as for the interpreter;
 * before each KVM_RUN an asserted line is acknowledged through the board's
 * intr_ack (the local APIC, the 8259 behind it) and injected when KVM can
 * take it, otherwise KVM is asked to exit when the interrupt window opens.
 * A line that rises while KVM_RUN is serving an I/O exit kicks it.
 *
 * Kicks: a helper thread waits on a timerfd armed before every KVM_RUN for
 * the next timer deadline, or KICK_PERIOD_NS at most (host input, the
 * monitor), and calls kvm_kick(). */
#include "targets/x86/kvm_cpu.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "kvm/kvm.h"
#include "targets/x86/cpu.h"
#include "vmm/error.h"
#include "vmm/hash.h"
#include "vmm/machine.h"

/* The longest KVM_RUN without a look at host input. */
#define KICK_PERIOD_NS 4000000LL

struct X86Kvm {
    Machine *m;
    X86CPU *cpu;
    KvmVcpu *v;
    /* The X86CPU was changed from outside (reset, a kernel loader): put it
     * into KVM before running. */
    bool dirty;
    bool in_run;
    int tfd, efd;            /* kick timer, stop the kicker */
    pthread_t kicker;
    bool kicker_started;
};

static void *kicker_main(void *opaque)
{
    X86Kvm *k = opaque;
    struct pollfd p[2] = { { .fd = k->tfd, .events = POLLIN },
                           { .fd = k->efd, .events = POLLIN } };
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return NULL;
        }
        if (p[1].revents)
            return NULL;
        if (p[0].revents & POLLIN) {
            uint64_t n;
            if (read(k->tfd, &n, sizeof(n)) == (ssize_t)sizeof(n))
                kvm_kick(k->v);
        }
    }
}

/* Kick the next KVM_RUN at the next timer deadline (host time: the clock
 * is in realtime mode), and after KICK_PERIOD_NS at most. */
static void arm_kick(X86Kvm *k)
{
    Machine *m = k->m;
    int64_t gap = KICK_PERIOD_NS;
    int64_t dl = vclock_next_deadline(&m->clock);
    if (dl != INT64_MAX) {
        int64_t left = dl - machine_ns(m);
        if (left < gap)
            gap = left;
    }
    if (gap < 1000)
        gap = 1000;
    struct itimerspec its = { .it_value = { gap / 1000000000, gap % 1000000000 } };
    timerfd_settime(k->tfd, 0, &its, NULL);
}

/* Pending NMI and external interrupt to KVM: 1 if one was injected, 0 if
 * none (an interrupt KVM cannot take now asks for the window), -1 on
 * error. */
static int deliver(X86Kvm *k, GError **err)
{
    X86CPU *cpu = k->cpu;
    int did = 0;
    if (cpu->nmi_pending) {
        if (!kvm_inject_nmi(k->v, err))
            return -1;
        cpu->nmi_pending = false;
        did = 1;
    }
    if (cpu->intr && cpu->intr_ack) {
        if (kvm_interrupt_ready(k->v)) {
            int vec = cpu->intr_ack(cpu->intr_opaque);
            if (vec >= 0) {
                if (kvm_inject_interrupt(k->v, (uint8_t)vec, err) < 0)
                    return -1;
                did = 1;
            }
        } else if (kvm_inject_interrupt(k->v, 0, err) < 0) {
            return -1;
        }
    }
    return did;
}

static bool put_if_dirty(X86Kvm *k, GError **err)
{
    if (!k->dirty)
        return true;
    if (!kvm_put_state(k->v, k->cpu, err))
        return false;
    /* A pending NMI went with the state. */
    k->cpu->nmi_pending = false;
    k->dirty = false;
    return true;
}

static CpuExit kvm_cpu_run(void *opaque, uint64_t max_insns)
{
    X86Kvm *k = opaque;
    Machine *m = k->m;
    GError *err = NULL;
    (void)max_insns;         /* no instruction count: time bounds the run */
    if (!put_if_dirty(k, &err))
        goto fail;
    for (;;) {
        if (deliver(k, &err) < 0)
            goto fail;
        arm_kick(k);
        k->in_run = true;
        KvmStop s = kvm_run(k->v, &err);
        k->in_run = false;
        switch (s) {
        case KVM_STOP_HLT: {
            /* Returned at once while halted: wake it if an event can be
             * injected now. */
            int d = deliver(k, &err);
            if (d < 0)
                goto fail;
            if (d > 0)
                continue;
            return CPU_EXIT_IDLE;
        }
        case KVM_STOP_IRQ_WINDOW:
        case KVM_STOP_ACCESS:       /* only with an access hook, never set here */
            continue;
        case KVM_STOP_KICK:
        case KVM_STOP_DEBUG:
            return CPU_EXIT_BUDGET;
        case KVM_STOP_REQUEST:
            return CPU_EXIT_REQUEST;
        case KVM_STOP_SHUTDOWN:
            /* Triple fault: QEMU's pc (and the interpreter) reset. */
            machine_request_reset(m);
            return CPU_EXIT_REQUEST;
        case KVM_STOP_ERROR:
            goto fail;
        }
    }
fail:
    machine_set_error(m, "%s", err ? err->message : "KVM failed");
    g_clear_error(&err);
    return CPU_EXIT_ERROR;
}

/* KVM's state into the X86CPU (for dumps and digests).  KVM stays the
 * owner: the X86CPU is a snapshot, except for the fields the devices and
 * the MSR filter share, which kvm_get_state() leaves consistent; an NMI
 * KVM holds stays in KVM only. */
static void sync_out(X86Kvm *k)
{
    if (k->dirty)
        return;
    GError *err = NULL;
    bool nmi = k->cpu->nmi_pending;
    if (!kvm_get_state(k->v, k->cpu, &err)) {
        fprintf(stderr, "tandem: cannot read the CPU state from KVM: %s\n", err->message);
        g_error_free(err);
    }
    k->cpu->nmi_pending = nmi;
}

static void kvm_cpu_reset(void *opaque)
{
    X86Kvm *k = opaque;
    x86_cpu_reset(k->cpu);
    k->dirty = true;
}

static void kvm_cpu_dump(void *opaque, FILE *f)
{
    X86Kvm *k = opaque;
    sync_out(k);
    x86_cpu_ops.dump(k->cpu, f);
}

static uint64_t kvm_cpu_brcount(void *opaque)
{
    return x86_cpu_ops.brcount(((X86Kvm *)opaque)->cpu);
}

static uint64_t kvm_cpu_digest(void *opaque)
{
    X86Kvm *k = opaque;
    sync_out(k);
    return x86_cpu_ops.digest(k->cpu);
}

static unsigned kvm_cpu_regs(void *opaque, uint64_t *out)
{
    X86Kvm *k = opaque;
    sync_out(k);
    return x86_cpu_ops.regs(k->cpu, out);
}

static void kvm_cpu_set_reg(void *opaque, unsigned idx, uint64_t val)
{
    X86Kvm *k = opaque;
    sync_out(k);
    x86_cpu_ops.set_reg(k->cpu, idx, val);
    k->dirty = true;
}

static uint64_t kvm_cpu_state_hash(void *opaque)
{
    X86Kvm *k = opaque;
    sync_out(k);
    return x86_cpu_ops.state_hash(k->cpu);
}

static void x86_kvm_free(X86Kvm *k)
{
    if (k->kicker_started) {
        uint64_t one = 1;
        if (write(k->efd, &one, sizeof(one)) == (ssize_t)sizeof(one))
            pthread_join(k->kicker, NULL);
    }
    if (k->tfd >= 0)
        close(k->tfd);
    if (k->efd >= 0)
        close(k->efd);
    kvm_destroy(k->v);
    g_free(k);
}

static void kvm_cpu_destroy(void *opaque)
{
    X86Kvm *k = opaque;
    X86CPU *cpu = k->cpu;
    x86_kvm_free(k);
    x86_cpu_ops.destroy(cpu);
}

static const CpuOps x86_kvm_cpu_ops = {
    .name = "x86-kvm",
    .run = kvm_cpu_run,
    .reset = kvm_cpu_reset,
    .dump = kvm_cpu_dump,
    .brcount = kvm_cpu_brcount,
    .digest = kvm_cpu_digest,
    .regs = kvm_cpu_regs,
    .reg_names = x86_reg_names,
    .set_reg = kvm_cpu_set_reg,
    .state_hash = kvm_cpu_state_hash,
    .destroy = kvm_cpu_destroy,
};

X86Kvm *x86_kvm_attach(Machine *m, X86CPU *cpu, GError **err)
{
    if (!kvm_supports_cpu(cpu, err))
        return NULL;
    X86Kvm *k = g_new0(X86Kvm, 1);
    k->m = m;
    k->cpu = cpu;
    k->tfd = k->efd = -1;
    k->dirty = true;
    k->v = kvm_create(m, cpu, err);
    if (!k->v)
        goto fail;
    k->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    k->efd = eventfd(0, EFD_CLOEXEC);
    if (k->tfd < 0 || k->efd < 0) {
        tn_error(err, "KVM: cannot create the kick timer: %s", strerror(errno));
        goto fail;
    }
    /* Signals (the kick signal, SIGINT...) go to the CPU's thread only. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int r = pthread_create(&k->kicker, NULL, kicker_main, k);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r) {
        tn_error(err, "KVM: cannot start the kick thread: %s", strerror(r));
        goto fail;
    }
    k->kicker_started = true;
    m->cpu = k;
    m->cpu_ops = &x86_kvm_cpu_ops;
    return k;
fail:
    x86_kvm_free(k);
    return NULL;
}

void x86_kvm_event(X86Kvm *k)
{
    if (k && k->in_run)
        kvm_kick(k->v);
}
