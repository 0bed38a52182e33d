/* The KVM_RUN loop: port I/O, MMIO and filtered MSR exits are served here
 * by the same device models and MSR code the interpreter uses; HLT,
 * shutdown, debug exits, kicks, the interrupt window and device requests
 * return to the caller. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm/kvm_int.h"
#include "targets/x86/mem.h"

static const char *exit_name(uint32_t r)
{
    static const char *const names[] = {
        [KVM_EXIT_UNKNOWN] = "KVM_EXIT_UNKNOWN",
        [KVM_EXIT_EXCEPTION] = "KVM_EXIT_EXCEPTION",
        [KVM_EXIT_IO] = "KVM_EXIT_IO",
        [KVM_EXIT_HYPERCALL] = "KVM_EXIT_HYPERCALL",
        [KVM_EXIT_DEBUG] = "KVM_EXIT_DEBUG",
        [KVM_EXIT_HLT] = "KVM_EXIT_HLT",
        [KVM_EXIT_MMIO] = "KVM_EXIT_MMIO",
        [KVM_EXIT_IRQ_WINDOW_OPEN] = "KVM_EXIT_IRQ_WINDOW_OPEN",
        [KVM_EXIT_SHUTDOWN] = "KVM_EXIT_SHUTDOWN",
        [KVM_EXIT_FAIL_ENTRY] = "KVM_EXIT_FAIL_ENTRY",
        [KVM_EXIT_INTR] = "KVM_EXIT_INTR",
        [KVM_EXIT_SET_TPR] = "KVM_EXIT_SET_TPR",
        [KVM_EXIT_TPR_ACCESS] = "KVM_EXIT_TPR_ACCESS",
        [KVM_EXIT_NMI] = "KVM_EXIT_NMI",
        [KVM_EXIT_INTERNAL_ERROR] = "KVM_EXIT_INTERNAL_ERROR",
        [KVM_EXIT_OSI] = "KVM_EXIT_OSI",
        [KVM_EXIT_WATCHDOG] = "KVM_EXIT_WATCHDOG",
        [KVM_EXIT_EPR] = "KVM_EXIT_EPR",
        [KVM_EXIT_SYSTEM_EVENT] = "KVM_EXIT_SYSTEM_EVENT",
        [KVM_EXIT_IOAPIC_EOI] = "KVM_EXIT_IOAPIC_EOI",
        [KVM_EXIT_HYPERV] = "KVM_EXIT_HYPERV",
        [KVM_EXIT_X86_RDMSR] = "KVM_EXIT_X86_RDMSR",
        [KVM_EXIT_X86_WRMSR] = "KVM_EXIT_X86_WRMSR",
#ifdef KVM_EXIT_DIRTY_RING_FULL
        [KVM_EXIT_DIRTY_RING_FULL] = "KVM_EXIT_DIRTY_RING_FULL",
#endif
#ifdef KVM_EXIT_X86_BUS_LOCK
        [KVM_EXIT_X86_BUS_LOCK] = "KVM_EXIT_X86_BUS_LOCK",
#endif
#ifdef KVM_EXIT_NOTIFY
        [KVM_EXIT_NOTIFY] = "KVM_EXIT_NOTIFY",
#endif
#ifdef KVM_EXIT_MEMORY_FAULT
        [KVM_EXIT_MEMORY_FAULT] = "KVM_EXIT_MEMORY_FAULT",
#endif
    };
    if (r < G_N_ELEMENTS(names) && names[r])
        return names[r];
    return "an unknown exit";
}

const char *kvm_stop_name(KvmStop s)
{
    switch (s) {
    case KVM_STOP_ERROR: return "error";
    case KVM_STOP_HLT: return "hlt";
    case KVM_STOP_SHUTDOWN: return "shutdown";
    case KVM_STOP_DEBUG: return "debug";
    case KVM_STOP_KICK: return "kick";
    case KVM_STOP_IRQ_WINDOW: return "irq-window";
    case KVM_STOP_REQUEST: return "request";
    case KVM_STOP_ACCESS: return "access";
    }
    return "?";
}

/* ---- MMIO: the interpreter's bus rules (x86_bus_read/write) ---- */

static void do_mmio(KvmVcpu *v)
{
    struct kvm_run *run = v->run;
    unsigned n = run->mmio.len;
    uint64_t val = 0;
    if (n == 0 || n > 8)
        return;
    if (v->access_hook) {
        unsigned c = x86_bus_accesses(v->as, run->mmio.phys_addr, n, run->mmio.is_write);
        if (c && !v->access_hook(v->access_opaque, run->mmio.is_write, c))
            return;
    }
    if (run->mmio.is_write) {
        memcpy(&val, run->mmio.data, n);
        x86_bus_write(v->as, run->mmio.phys_addr, n, val);
    } else {
        val = x86_bus_read(v->as, run->mmio.phys_addr, n);
        memcpy(run->mmio.data, &val, n);
    }
}

/* Port I/O, string forms (count > 1) included: the data is count items
 * of `size` bytes at data_offset. */
static void do_io(KvmVcpu *v)
{
    struct kvm_run *run = v->run;
    uint8_t *p = (uint8_t *)run + run->io.data_offset;
    unsigned size = run->io.size;
    for (uint32_t i = 0; i < run->io.count; i++, p += size) {
        uint64_t val = 0;
        if (v->access_hook) {
            unsigned c = x86_bus_accesses(v->cpu->io, run->io.port, size,
                                          run->io.direction == KVM_EXIT_IO_OUT);
            if (c && !v->access_hook(v->access_opaque, false, c))
                return;
        }
        if (run->io.direction == KVM_EXIT_IO_OUT) {
            memcpy(&val, p, size);
            x86_io_write(v->cpu, NULL, run->io.port, size, val);
        } else {
            val = x86_io_read(v->cpu, NULL, run->io.port, size);
            memcpy(p, &val, size);
        }
    }
}

/* Filtered MSRs: the interpreter's MSR code answers.  KVM's copies (the
 * TSC and TSC_AUX the hardware uses for RDTSC/RDTSCP, the APIC base,
 * MISC_ENABLE, which kvm_get_state() reads back) follow a successful
 * write. */
enum { MSR_TSC = 0x10, MSR_APIC_BASE = 0x1b, MSR_MISC_ENABLE = 0x1a0,
       MSR_TSC_AUX = 0xc0000103 };

static bool do_msr(KvmVcpu *v, bool write, GError **err)
{
    struct kvm_run *run = v->run;
    X86CPU *cpu = v->cpu;
    uint32_t idx = run->msr.index;
    if (!write) {
        uint64_t val = 0;
        run->msr.error = !x86_msr_read(cpu, idx, &val);
        run->msr.data = run->msr.error ? 0 : val;
        return true;
    }
    run->msr.error = !x86_msr_write(cpu, idx, run->msr.data);
    if (run->msr.error)
        return true;
    switch (idx) {
    case MSR_TSC:
        return kvm_set_tsc(v, x86_rdtsc(cpu, NULL), err);
    case MSR_APIC_BASE:
        return kvm_set_msr(v, idx, cpu->apic_base, err);
    case MSR_MISC_ENABLE:
        return kvm_set_msr(v, idx, cpu->misc_enable, err);
    case MSR_TSC_AUX:
        return kvm_set_msr(v, idx, cpu->tsc_aux, err);
    default:
        return true;
    }
}

/* CR8 (the TPR's class): KVM reads kvm_run.cr8 on every entry and
 * reports the guest's on every exit; v->cr8 is what KVM has.  A local
 * APIC's TPR may have been written through MMIO meanwhile. */
static void cr8_to_kvm(KvmVcpu *v)
{
    X86CPU *cpu = v->cpu;
    if (cpu->apic)
        v->cr8 = cpu->apic_get_tpr(cpu->apic) >> 4;
    v->run->cr8 = v->cr8;
}

static void cr8_from_kvm(KvmVcpu *v)
{
    X86CPU *cpu = v->cpu;
    uint64_t cr8 = v->run->cr8;
    if (cr8 == v->cr8)
        return;
    v->cr8 = cr8;
    cpu->cr8 = cr8;
    if (cpu->apic)
        cpu->apic_set_tpr(cpu->apic, (uint8_t)(cr8 << 4));
}

/* An I/O, MMIO or MSR exit is complete (RIP past the instruction, the
 * value read in its register) only once KVM_RUN is entered again: enter
 * with immediate_exit so that it completes and no instruction runs. */
bool kvm_complete_pending(KvmVcpu *v, GError **err)
{
    struct kvm_run *run = v->run;
    if (!v->pending_op)
        return true;
    __atomic_store_n(&run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    int r = ioctl(v->fd, KVM_RUN, 0);
    int e = errno;
    /* A kick meanwhile, or the PMU counter's overflow, is kept for the
     * next kvm_run(). */
    __atomic_store_n(&run->immediate_exit,
                     __atomic_load_n(&v->kick_pending, __ATOMIC_SEQ_CST) ||
                         (v->counter && kvm_counter_fired(v->counter)),
                     __ATOMIC_SEQ_CST);
    if (r < 0 && e != EINTR) {
        tn_error(err, "KVM: KVM_RUN (completing %s): %s", exit_name(run->exit_reason),
                 strerror(e));
        return false;
    }
    v->pending_op = false;
    cr8_from_kvm(v);
    return true;
}

static KvmStop fail(KvmVcpu *v, GError **err)
{
    struct kvm_run *run = v->run;
    uint32_t r = run->exit_reason;
    switch (r) {
    case KVM_EXIT_FAIL_ENTRY:
        tn_error(err, "KVM: %s (hardware entry failure reason 0x%llx, host CPU %u)",
                 exit_name(r), (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
                 run->fail_entry.cpu);
        break;
    case KVM_EXIT_UNKNOWN:
        tn_error(err, "KVM: %s (hardware exit reason 0x%llx)", exit_name(r),
                 (unsigned long long)run->hw.hardware_exit_reason);
        break;
    case KVM_EXIT_INTERNAL_ERROR: {
        GString *d = g_string_new(NULL);
        for (uint32_t i = 0; i < run->internal.ndata && i < G_N_ELEMENTS(run->internal.data);
             i++)
            g_string_append_printf(d, " 0x%llx", (unsigned long long)run->internal.data[i]);
        tn_error(err, "KVM: %s (suberror %u%s%s%s)", exit_name(r), run->internal.suberror,
                 run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
                     ? ": instruction emulation failed" : "",
                 d->len ? ", data" : "", d->str);
        g_string_free(d, TRUE);
        break;
    }
    default:
        tn_error(err, "KVM: unexpected exit %s (exit reason %u)", exit_name(r), r);
        break;
    }
    return KVM_STOP_ERROR;
}

static KvmStop run_loop(KvmVcpu *v, GError **err)
{
    struct kvm_run *run = v->run;
    Machine *m = v->m;
    for (;;) {
        if (__atomic_load_n(&v->kick_pending, __ATOMIC_SEQ_CST))
            return KVM_STOP_KICK;
        if (m->exit_request)
            return KVM_STOP_REQUEST;
        if (v->map_dirty && !kvm_slots_sync(v, err))
            return KVM_STOP_ERROR;
        cr8_to_kvm(v);
        int r = ioctl(v->fd, KVM_RUN, 0);
        int e = errno;
        v->pending_op = false;
        if (r < 0 && e != EINTR && e != EAGAIN) {
            tn_error(err, "KVM: KVM_RUN: %s", strerror(e));
            return KVM_STOP_ERROR;
        }
        cr8_from_kvm(v);
        v->ready = run->ready_for_interrupt_injection && run->if_flag;
        if (r < 0 || run->exit_reason == KVM_EXIT_INTR)
            return KVM_STOP_KICK;
        switch (run->exit_reason) {
        case KVM_EXIT_IO:
            do_io(v);
            v->pending_op = true;
            if (v->stop_after_access)
                return KVM_STOP_ACCESS;
            break;
        case KVM_EXIT_MMIO:
            do_mmio(v);
            v->pending_op = true;
            if (v->guest_debug.control & KVM_GUESTDBG_SINGLESTEP) {
                v->rearm_debug = true;
                /* KVM has emulated the whole instruction before an MMIO
                 * write exit, and will not report its single step ("FIXME:
                 * return into emulator if single-stepping" in
                 * complete_emulated_mmio): the step ends here. */
                if (run->mmio.is_write) {
                    v->dbg = (KvmDebugExit){ .exception = 1, .dr6 = 0x4000 };
                    return KVM_STOP_DEBUG;
                }
            }
            if (v->stop_after_access)
                return KVM_STOP_ACCESS;
            break;
        case KVM_EXIT_X86_RDMSR:
        case KVM_EXIT_X86_WRMSR:
            v->pending_op = true;
            if (!do_msr(v, run->exit_reason == KVM_EXIT_X86_WRMSR, err))
                return KVM_STOP_ERROR;
            break;
        case KVM_EXIT_SET_TPR:
            break;                  /* cr8_from_kvm() took it */
        case KVM_EXIT_HLT:
            v->halted = true;
            return KVM_STOP_HLT;
        case KVM_EXIT_SHUTDOWN:
            return KVM_STOP_SHUTDOWN;
        case KVM_EXIT_DEBUG:
            v->dbg.exception = run->debug.arch.exception;
            v->dbg.pc = run->debug.arch.pc;
            v->dbg.dr6 = run->debug.arch.dr6;
            v->dbg.dr7 = run->debug.arch.dr7;
            return KVM_STOP_DEBUG;
        case KVM_EXIT_IRQ_WINDOW_OPEN:
            run->request_interrupt_window = 0;
            return KVM_STOP_IRQ_WINDOW;
        default:
            return fail(v, err);
        }
    }
}

KvmStop kvm_run(KvmVcpu *v, GError **err)
{
    if (v->halted)
        return KVM_STOP_HLT;
    v->thread = pthread_self();
    __atomic_store_n(&v->in_run, 1, __ATOMIC_SEQ_CST);
    KvmStop s = run_loop(v, err);
    __atomic_store_n(&v->in_run, 0, __ATOMIC_SEQ_CST);
    if (s == KVM_STOP_KICK) {
        __atomic_store_n(&v->kick_pending, 0, __ATOMIC_SEQ_CST);
        __atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
    }
    /* Return with the last device access finished. */
    if (s != KVM_STOP_ERROR && !kvm_complete_pending(v, err))
        return KVM_STOP_ERROR;
    if (s != KVM_STOP_ERROR && v->rearm_debug) {
        v->rearm_debug = false;
        if (!kvm_ioctl_ok(ioctl(v->fd, KVM_SET_GUEST_DEBUG, &v->guest_debug),
                          "KVM_SET_GUEST_DEBUG", err))
            return KVM_STOP_ERROR;
    }
    return s;
}

void kvm_set_access_hook(KvmVcpu *v, bool (*hook)(void *opaque, bool mmio_write, unsigned n),
                         void *opaque, bool stop)
{
    v->access_hook = hook;
    v->access_opaque = opaque;
    v->stop_after_access = stop;
}

/* ---- events ---- */

void kvm_request_irq_window(KvmVcpu *v, bool on)
{
    v->run->request_interrupt_window = on;
}

bool kvm_interrupt_ready(const KvmVcpu *v)
{
    return v->ready;
}

int kvm_inject_interrupt(KvmVcpu *v, uint8_t vector, GError **err)
{
    if (!v->ready) {
        v->run->request_interrupt_window = 1;
        return 0;
    }
    struct kvm_interrupt irq = { .irq = vector };
    if (!kvm_ioctl_ok(ioctl(v->fd, KVM_INTERRUPT, &irq), "KVM_INTERRUPT", err))
        return -1;
    v->ready = false;
    v->halted = false;
    v->run->request_interrupt_window = 0;
    return 1;
}

bool kvm_inject_nmi(KvmVcpu *v, GError **err)
{
    if (!kvm_ioctl_ok(ioctl(v->fd, KVM_NMI), "KVM_NMI", err))
        return false;
    v->halted = false;
    return true;
}

bool kvm_set_guest_debug(KvmVcpu *v, bool singlestep, const uint64_t *hw_bp, int n,
                         GError **err)
{
    struct kvm_guest_debug d;
    if (n < 0 || n > 4) {
        tn_error(err, "KVM: %d hardware breakpoints asked for; there are 4", n);
        return false;
    }
    memset(&d, 0, sizeof(d));
    if (singlestep || n) {
        d.control = KVM_GUESTDBG_ENABLE;
        if (singlestep)
            d.control |= KVM_GUESTDBG_SINGLESTEP;
        if (n)
            d.control |= KVM_GUESTDBG_USE_HW_BP;
        for (int i = 0; i < n; i++) {
            d.arch.debugreg[i] = hw_bp[i];
            d.arch.debugreg[7] |= 2ull << (2 * i);     /* Gi; R/W 00, LEN 00: execute */
        }
    }
    v->guest_debug = d;
    v->rearm_debug = false;
    return kvm_ioctl_ok(ioctl(v->fd, KVM_SET_GUEST_DEBUG, &d), "KVM_SET_GUEST_DEBUG", err);
}

const KvmDebugExit *kvm_debug_exit(const KvmVcpu *v)
{
    return &v->dbg;
}
