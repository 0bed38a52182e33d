/* The PMU position counter of hybrid replay (kvm.h, KvmCounter; DESIGN.md
 * "Hybrid replay"): the guest's retired conditional branches (kvm/pmu.c
 * picks the event by CPUID), counted by perf only while the vCPU thread
 * is in guest mode (exclude_host), with an overflow signal that stops
 * KVM_RUN at a chosen count.
 *
 * The signal (KVM_PMU_SIGNAL, delivered to the vCPU thread: F_SETOWN_EX)
 * sets immediate_exit as well as interrupting KVM_RUN, so an overflow that
 * lands while the thread is outside KVM_RUN still stops the next entry.
 *
 * kvm_counter_open() checks the counter before the replay trusts it: a
 * scratch VM runs a loop of exactly LOOP conditional branches, which the
 * counter must read exactly (no host branches, none lost), with an
 * overflow armed half-way that must have fired. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kvm/kvm_int.h"
#include "kvm/pmu.h"

struct KvmCounter {
    KvmVcpu *v;
    int fd;
    PmuEvent ev;
    uint64_t base;              /* the count before the last reset */
    volatile sig_atomic_t fired;
};

/* The one counter of this process (a machine has one vCPU): the signal
 * handler's. */
static KvmCounter *volatile pmu_counter;

static void overflow_handler(int sig)
{
    (void)sig;
    KvmCounter *c = pmu_counter;
    if (!c)
        return;
    c->fired = 1;
    if (c->v && c->v->run)
        __atomic_store_n(&c->v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
}

uint64_t kvm_counter_read(KvmCounter *c)
{
    uint64_t n = 0;
    if (read(c->fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
        return c->base;     /* cannot fail on an open counting event */
    return c->base + n;
}

bool kvm_counter_arm(KvmCounter *c, uint64_t n, GError **err)
{
    /* Off, the count so far kept, a new period from zero, on again: the
     * overflow comes n events from now (and any earlier one is
     * forgotten once it cannot come any more). */
    if (ioctl(c->fd, PERF_EVENT_IOC_DISABLE, 0) < 0)
        goto fail;
    c->base = kvm_counter_read(c);
    uint64_t period = n ? n : (1ull << 62);
    if (ioctl(c->fd, PERF_EVENT_IOC_RESET, 0) < 0 ||
        ioctl(c->fd, PERF_EVENT_IOC_PERIOD, &period) < 0 ||
        ioctl(c->fd, PERF_EVENT_IOC_ENABLE, 0) < 0)
        goto fail;
    c->fired = 0;
    return true;
fail:
    tn_error(err, "KVM replay: the PMU counter (%s): %s", c->ev.name, strerror(errno));
    return false;
}

bool kvm_counter_fired(const KvmCounter *c)
{
    return c->fired;
}

const PmuEvent *kvm_counter_event(const KvmCounter *c)
{
    return &c->ev;
}

void kvm_counter_close(KvmCounter *c)
{
    if (!c)
        return;
    if (pmu_counter == c)
        pmu_counter = NULL;
    if (c->fd >= 0)
        close(c->fd);
    g_free(c);
}

/* The check: LOOP conditional branches in a scratch VM, read exactly, and
 * the overflow armed at LOOP / 2 fired. */
#define LOOP 1000

static bool counter_check(KvmCounter *c, GError **err)
{
    /* mov ecx, LOOP; 1: dec ecx; jnz 1b; hlt */
    static const uint8_t code[] = { 0xb9, LOOP & 0xff, LOOP >> 8, 0, 0, 0x49, 0x75, 0xfd, 0xf4 };
    if (!kvm_counter_arm(c, LOOP / 2, err))
        return false;
    uint64_t before = kvm_counter_read(c);
    uint32_t exit_reason;
    uint64_t xcr0;
    if (kvm_scratch_run(c->v->kvm_fd, c->v->cpu, "PMU counter", code, sizeof(code), NULL,
                        &exit_reason, &xcr0, err) < 0)
        return false;
    uint64_t n = kvm_counter_read(c) - before;
    bool fired = c->fired;
    /* The signal set immediate_exit of the replay's vCPU: nothing ran. */
    __atomic_store_n(&c->v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
    if (!kvm_counter_arm(c, 0, err))
        return false;
    if (exit_reason != KVM_EXIT_HLT) {
        tn_error(err, "KVM replay: the PMU counter check: exit reason %u instead of HLT",
                 exit_reason);
        return false;
    }
    if (n != LOOP) {
        tn_error(err, "KVM replay: the PMU counter (%s) counted %" PRIu64 " conditional "
                 "branches in a guest loop of %d: it cannot place the replay on this host",
                 c->ev.name, n, LOOP);
        return false;
    }
    if (!fired) {
        tn_error(err, "KVM replay: the PMU counter (%s) counts, but its overflow signal "
                 "never came", c->ev.name);
        return false;
    }
    return true;
}

KvmCounter *kvm_counter_open(KvmVcpu *v, GError **err)
{
    char vendor[13];
    unsigned family, model;
    pmu_host_cpu(vendor, &family, &model);
    PmuEvent ev;
    if (!pmu_branch_event(vendor, family, model, &ev)) {
        tn_error(err, "KVM replay: no retired-conditional-branch event is known for this "
                 "host CPU (%s family %#x model %#x)", vendor, family, model);
        return NULL;
    }
    struct perf_event_attr a;
    memset(&a, 0, sizeof(a));
    a.size = sizeof(a);
    a.type = PERF_TYPE_RAW;
    a.config = ev.config;
    a.sample_period = 1ull << 62;
    a.pinned = 1;
    a.exclude_host = 1;         /* the guest's branches only */
    a.exclude_hv = 1;
    int fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) {
        tn_error(err, "KVM replay: the PMU event %s (raw %#" PRIx64 ") cannot be opened: %s "
                 "(no PMU, a virtual machine without one, or perf_event_paranoid)",
                 ev.name, ev.config, strerror(errno));
        return NULL;
    }
    KvmCounter *c = g_new0(KvmCounter, 1);
    c->v = v;
    c->fd = fd;
    c->ev = ev;
    if (pmu_counter) {
        tn_error(err, "KVM replay: a PMU counter is already open in this process");
        kvm_counter_close(c);
        return NULL;
    }
    struct sigaction sa = { .sa_handler = overflow_handler, .sa_flags = SA_RESTART };
    sigemptyset(&sa.sa_mask);
    struct f_owner_ex owner = { .type = F_OWNER_TID, .pid = (pid_t)syscall(SYS_gettid) };
    if (sigaction(KVM_PMU_SIGNAL, &sa, NULL) < 0 || fcntl(fd, F_SETOWN_EX, &owner) < 0 ||
        fcntl(fd, F_SETSIG, KVM_PMU_SIGNAL) < 0 ||
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC) < 0) {
        tn_error(err, "KVM replay: the PMU counter's overflow signal: %s", strerror(errno));
        kvm_counter_close(c);
        return NULL;
    }
    pmu_counter = c;
    if (!counter_check(c, err)) {
        kvm_counter_close(c);
        return NULL;
    }
    return c;
}

KvmCounter *kvm_counter(KvmVcpu *v)
{
    return v->counter;
}

const char *kvm_counter_why(const KvmVcpu *v)
{
    return v->counter_why ? v->counter_why : "not asked for";
}
