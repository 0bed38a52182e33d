/* Record/replay of a whole machine: the one place non-determinism enters.
 * One code path per input serves both directions: record reads the host and
 * logs, replay reads the log; both then apply the value the same way. */
#include "rr/rr.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checkpoint/checkpoint.h"
#include "checkpoint/snap.h"
#include "net/net.h"
#include "rr/log.h"
#include "rr/varint.h"
#include "vmm/chardev.h"
#include "vmm/error.h"
#include "vmm/hash.h"
#include "vmm/input.h"
#include "vmm/machine.h"

/* A checkpoint's position, without RrEvent's payload room. */
typedef struct RrHeld {
    RrEventKind kind;        /* RR_EV_CHECKPOINT (timers) or RR_EV_SHIFT */
    uint8_t shift;
    uint64_t icount, brcount, mmio;
    uint32_t nregs;
    uint64_t regs[RR_MAX_REGS];
} RrHeld;

typedef struct RrSerialShim {
    Rr *rr;
    int port;
    CharFrontend dev;        /* the device's own frontend */
} RrSerialShim;

struct Rr {
    Machine *m;
    RrMode mode;
    char *path;
    RrWriter *w;
    RrReader *r;

    /* Replay: the next event, read ahead. */
    RrEvent *next;
    bool have_next;
    bool log_done;           /* no more events (END consumed or tail) */
    bool truncated;          /* stop_truncated() ended the replay */
    bool user_stopped;       /* rr_user_quit() ended the replay */
    bool quit_replayed;      /* the log's quit event was delivered */
    uint64_t nevents;        /* events logged or replayed */
    uint64_t last_mmio;      /* device accesses at the previous event */

    RrEvent *scratch;        /* record: event being built */
    /* Checkpoint events (log version 6): logged in record, checked in
     * replay; false replaying an older log, which has none. */
    bool checkpoints;
    uint64_t ckpt_access;    /* device accesses at the last clock-read checkpoint */
    /* Record: timer checkpoints not written yet (log version 8, "lazy
     * timers" below), at most until the next event, device access or
     * interrupt; counted in nevents and last_mmio already. */
    struct RrHeld *lazy;
    unsigned nlazy, lazy_cap;
    RrEvent *lazy_ev;        /* where they are built to be written */
    RrSerialShim shims[MACHINE_MAX_SERIAL];
    int64_t last_flush_us;
    /* Memory checks (log version 9, "memory checks" below): record, when
     * the last was taken and what it cost (host ns); replay, how many
     * passed. */
    int64_t mem_check_ns, mem_check_cost;
    int64_t mem_check_every;     /* TANDEM_RR_MEM_CHECK_NS, or -1: the default */
    uint64_t mem_checks;
};

/* ---- hashing ---- */


static bool file_digest(const char *what, const char *path, GString *cfg, GError **err)
{
    gchar *data;
    gsize len;
    GError *e = NULL;
    if (!g_file_get_contents(path, &data, &len, &e)) {
        tn_error(err, "cannot read %s '%s': %s", what, path, e->message);
        g_error_free(e);
        return false;
    }
    g_string_append_printf(cfg, "%s=%s size %zu hash %016" PRIx64 "\n", what,
                           path, (size_t)len, tn_hash_bytes((const uint8_t *)data, len, 0));
    g_free(data);
    return true;
}

/* The machine configuration a log belongs to, one "key=value" per line.
 * File names are informational: a replay elsewhere may use other paths, so
 * only sizes and hashes are compared for them. */
static char *config_text(Machine *m, GError **err)
{
    const Options *o = m->opts;
    GString *cfg = g_string_new(NULL);
    g_string_append_printf(cfg, "arch=%s\n", o->arch);
    g_string_append_printf(cfg, "machine=%s\n", o->machine ? o->machine : "(default)");
    g_string_append_printf(cfg, "ram=%" PRIu64 "\n", m->ram_size);
    g_string_append_printf(cfg, "serial-ports=%d\n", m->nserial);
    if (o->icount_shift < 0)
        g_string_append(cfg, "icount-shift=auto\n");
    else
        g_string_append_printf(cfg, "icount-shift=%d\n", o->icount_shift);
    if (o->bios && strcmp(o->bios, "none") && !file_digest("bios", o->bios, cfg, err))
        goto fail;
    if (o->bios && !strcmp(o->bios, "none"))
        g_string_append(cfg, "bios=none\n");
    if (o->kernel && !file_digest("kernel", o->kernel, cfg, err))
        goto fail;
    if (o->initrd && !file_digest("initrd", o->initrd, cfg, err))
        goto fail;
    if (o->dtb && !file_digest("dtb", o->dtb, cfg, err))
        goto fail;
    g_string_append_printf(cfg, "append=%s\n", o->append ? o->append : "");
    net_config_text(m->net, cfg);
    g_string_append_printf(cfg, "initial-memory-hash=%016" PRIx64 "\n", machine_memory_hash(m));
    return g_string_free(cfg, FALSE);
fail:
    g_string_free(cfg, TRUE);
    return NULL;
}

/* Compare two config texts; return a description of the differences. */
static char *config_diff(const char *logged, const char *now)
{
    gchar **a = g_strsplit(logged, "\n", -1), **b = g_strsplit(now, "\n", -1);
    GString *d = g_string_new(NULL);
    for (int pass = 0; pass < 2; pass++) {
        gchar **x = pass ? b : a, **y = pass ? a : b;
        for (int i = 0; x[i]; i++) {
            if (!*x[i])
                continue;
            const char *eq = strchr(x[i], '=');
            size_t klen = eq ? (size_t)(eq - x[i]) : strlen(x[i]);
            const char *other = NULL;
            for (int j = 0; y[j]; j++)
                if (!strncmp(y[j], x[i], klen) && y[j][klen] == '=')
                    other = y[j];
            /* Paths of images may differ between hosts: compare the rest. */
            const char *xs = eq ? eq + 1 : "", *ys = other ? other + klen + 1 : NULL;
            if (other && (!strncmp(x[i], "bios=", 5) || !strncmp(x[i], "kernel=", 7) ||
                          !strncmp(x[i], "initrd=", 7) || !strncmp(x[i], "dtb=", 4))) {
                const char *xh = strstr(xs, " size "), *yh = strstr(ys, " size ");
                if (xh && yh && !strcmp(xh, yh))
                    continue;
            } else if (other && !strcmp(xs, ys)) {
                continue;
            }
            if (pass == 0)
                g_string_append_printf(d, "\n  recorded %.*s=%s, this machine has %s",
                                       (int)klen, x[i], xs, ys ? ys : "none");
            else if (!other)
                g_string_append_printf(d, "\n  this machine has %s, the recording had none", x[i]);
        }
    }
    g_strfreev(a);
    g_strfreev(b);
    return g_string_free(d, FALSE);
}

/* ---- positions ---- */

static void fill_position(Rr *rr, RrEvent *ev, RrEventKind kind)
{
    Machine *m = rr->m;
    ev->kind = kind;
    ev->icount = *m->icount;
    ev->brcount = m->cpu_ops->brcount(m->cpu);
    ev->mmio = machine_device_accesses(m) - rr->last_mmio;
    ev->nregs = m->cpu_ops->regs(m->cpu, ev->regs);
    ev->len = 0;
}

static bool write_event(Rr *rr, const RrEvent *ev)
{
    GError *err = NULL;
    if (!rr_writer_add(rr->w, ev, &err)) {
        machine_set_error(rr->m, "record: cannot write %s: %s", rr->path, err->message);
        g_error_free(err);
        return false;
    }
    return true;
}

static void flush_lazy(Rr *rr, bool lazy);

static void log_event(Rr *rr, RrEvent *ev)
{
    if (rr->nlazy)
        flush_lazy(rr, false);
    if (!write_event(rr, ev))
        return;
    rr->nevents++;
    rr->last_mmio = machine_device_accesses(rr->m);
}

/* Replay: the run left the recording's (fmt: the message, "replay
 * diverged at event ...").  A KVM replay that can go back and interpret
 * the stretch again takes it (Machine.replay_diverged); else it ends the
 * replay with that error. */
static void __attribute__((format(printf, 2, 3))) diverged(Machine *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (!m->error && m->replay_diverged && m->replay_diverged(m->replay_diverged_opaque, msg))
        m->exit_request = 1;
    else
        machine_set_error(m, "%s", msg);
    g_free(msg);
}

/* Replay: the event at the head of the log has been delivered. */
static void consumed(Rr *rr)
{
    rr->have_next = false;
    rr->nevents++;
    rr->last_mmio = machine_device_accesses(rr->m);
}

/* Replay: does the machine stand where the log says?  Sets the error. */
static bool check_position(Rr *rr, const RrEvent *want)
{
    Machine *m = rr->m;
    RrEvent *now = rr->scratch;
    fill_position(rr, now, want->kind);
    GString *why = g_string_new(NULL);
    if (now->icount != want->icount)
        g_string_append_printf(why, "\n  icount: log %" PRIu64 ", replay %" PRIu64,
                               want->icount, now->icount);
    if (now->brcount != want->brcount)
        g_string_append_printf(why, "\n  conditional branches: log %" PRIu64 ", replay %" PRIu64,
                               want->brcount, now->brcount);
    if (now->mmio != want->mmio)
        g_string_append_printf(why, "\n  device accesses: log %" PRIu64 ", replay %" PRIu64,
                               want->mmio, now->mmio);
    for (unsigned i = 0; i < want->nregs && i < now->nregs; i++) {
        if (now->regs[i] != want->regs[i]) {
            g_string_append_printf(why, "\n  first register that differs: %s: log 0x%" PRIx64
                                   ", replay 0x%" PRIx64, m->cpu_ops->reg_names[i],
                                   want->regs[i], now->regs[i]);
            break;
        }
    }
    if (!why->len) {
        g_string_free(why, TRUE);
        return true;
    }
    diverged(m, "replay diverged at event %" PRIu64 " (%s) at icount %" PRIu64
             " (expected position: icount %" PRIu64 ", pc 0x%" PRIx64 "):%s",
             rr->nevents, rr_event_name(want->kind), now->icount, want->icount,
             want->regs[0], why->str);
    g_string_free(why, TRUE);
    return false;
}

/* Replay: read the next event into rr->next. */
static void read_ahead(Rr *rr)
{
    if (rr->have_next || rr->log_done)
        return;
    GError *err = NULL;
    int r = rr_reader_next(rr->r, rr->next, &err);
    if (r > 0) {
        rr->have_next = true;
        return;
    }
    rr->log_done = true;
    if (r < 0) {
        machine_set_error(rr->m, "replay: %s: %s", rr->path, err->message);
        g_error_free(err);
    }
}

static void stop_truncated(Rr *rr);

/* Replay: the next event, or NULL when the log has no more (the machine is
 * then stopping: error or cut-short log). */
static RrEvent *peek(Rr *rr)
{
    read_ahead(rr);
    if (rr->m->error)
        return NULL;
    if (!rr->have_next) {
        stop_truncated(rr);
        return NULL;
    }
    return rr->next;
}

/* Replay: the log ran out without an END event. */
static void stop_truncated(Rr *rr)
{
    Machine *m = rr->m;
    if (m->error || m->shutdown_requested)
        return;
    fprintf(stderr, "tandem: replay: %s; replayed %" PRIu64 " events up to icount %" PRIu64
            ", stopping\n", rr_reader_tail_message(rr->r), rr->nevents, *m->icount);
    rr->truncated = true;
    machine_request_shutdown(m, RR_EXIT_TRUNCATED);
}

/* ---- serial input ---- */

static int shim_can_receive(void *opaque)
{
    RrSerialShim *s = opaque;
    return s->dev.can_receive ? s->dev.can_receive(s->dev.opaque) : 0;
}

static void shim_receive(void *opaque, const uint8_t *buf, size_t len)
{
    RrSerialShim *s = opaque;
    Rr *rr = s->rr;
    if (rr->mode == RR_MODE_RECORD) {
        RrEvent *ev = rr->scratch;
        fill_position(rr, ev, RR_EV_SERIAL_INPUT);
        if (len > RR_MAX_PAYLOAD - 1)
            len = RR_MAX_PAYLOAD - 1;
        ev->data[0] = (uint8_t)s->port;
        memcpy(ev->data + 1, buf, len);
        ev->len = (uint32_t)len + 1;
        log_event(rr, ev);
    }
    s->dev.receive(s->dev.opaque, buf, len);
}

/* Events the guest's own access consumes (or the end of the run checks),
 * as opposed to the ones the main loop delivers at their position. */
static bool sync_event(RrEventKind k)
{
    return k == RR_EV_HOST_CLOCK || k == RR_EV_TSC || k == RR_EV_BLOCK || k == RR_EV_END ||
           k == RR_EV_AUDIO || k == RR_EV_CHECKPOINT;
}

/* ---- checkpoints ---- */

/* ---- lazy timers (log version 8) ----
 *
 * A timer checkpoint pins the instruction the timers fired at, which a KVM
 * free run can only find with a breakpoint, one hit per pass of a loop.
 * Where every timer due is a lazy one (vmm/clock.h: device state and
 * interrupt lines only), the guest cannot tell when they fired until it
 * accesses a device or takes an interrupt.  So record holds such
 * checkpoints back (their positions taken):
 * - at the next device access, before it, they are written as lazy (why
 *   2): a KVM replay fires them there, at the logged virtual time, without
 *   knowing the instruction count (targets/x86/kvm_switch.c);
 * - at an interrupt the CPU takes, any other event, a snapshot or the
 *   end, they are written as ordinary timer checkpoints (why 0).
 * The interpreter replays both kinds at their positions, as before.
 * Changes of shift=auto's shift are held back the same way (a lazy one
 * has a second payload byte, 1): they change only how virtual time
 * follows the instruction count, which the guest sees only through timers
 * and clock reads, themselves events.  A
 * recording killed while some are held back ends before them. */

static void flush_lazy(Rr *rr, bool lazy)
{
    unsigned n = rr->nlazy;
    rr->nlazy = 0;
    RrEvent *ev = rr->lazy_ev;
    for (unsigned i = 0; i < n && !rr->m->error; i++) {
        const RrHeld *h = &rr->lazy[i];
        ev->kind = h->kind;
        ev->icount = h->icount;
        ev->brcount = h->brcount;
        ev->mmio = h->mmio;
        ev->nregs = h->nregs;
        memcpy(ev->regs, h->regs, sizeof(h->regs));
        if (h->kind == RR_EV_SHIFT) {
            ev->data[0] = h->shift;
            ev->data[1] = 1;
            ev->len = lazy ? 2 : 1;
        } else {
            ev->data[0] = lazy ? 2 : 0;
            ev->len = 1;
        }
        write_event(rr, ev);
    }
}

/* AddressSpace.access_hook (record): before a device access. */
static void access_start(void *opaque)
{
    Rr *rr = opaque;
    if (rr->nlazy)
        flush_lazy(rr, true);
}

void rr_interrupt_taken(Machine *m)
{
    Rr *rr = m ? m->rr : NULL;
    if (rr && rr->nlazy)
        flush_lazy(rr, false);
}

/* Record: hold back a timer checkpoint (or a shift change) at the
 * current position. */
static void hold_lazy(Rr *rr, RrEventKind kind, uint8_t shift)
{
    if (rr->nlazy == rr->lazy_cap) {
        rr->lazy_cap = rr->lazy_cap ? 2 * rr->lazy_cap : 16;
        rr->lazy = g_renew(RrHeld, rr->lazy, rr->lazy_cap);
    }
    if (!rr->lazy_ev)
        rr->lazy_ev = g_new0(RrEvent, 1);
    RrEvent *ev = rr->scratch;
    fill_position(rr, ev, kind);
    RrHeld *h = &rr->lazy[rr->nlazy++];
    h->kind = kind;
    h->shift = shift;
    h->icount = ev->icount;
    h->brcount = ev->brcount;
    h->mmio = ev->mmio;
    h->nregs = ev->nregs;
    memcpy(h->regs, ev->regs, sizeof(h->regs));
    rr->nevents++;
    rr->last_mmio = machine_device_accesses(rr->m);
}

/* Record: log a checkpoint (why: 0 timers fire, 1 a clock read inside a
 * device access; lazy timers are held back).  Replay: the log's next
 * event must be that checkpoint (a lazy one for timers too), at this
 * position. */
static bool checkpoint(Rr *rr, uint8_t why)
{
    Machine *m = rr->m;
    if (rr->mode == RR_MODE_RECORD) {
        if (why == 0 && vclock_due_lazy(&m->clock, machine_ns(m))) {
            hold_lazy(rr, RR_EV_CHECKPOINT, 0);
            return true;
        }
        RrEvent *ev = rr->scratch;
        fill_position(rr, ev, RR_EV_CHECKPOINT);
        ev->data[0] = why;
        ev->len = 1;
        log_event(rr, ev);
        return true;
    }
    RrEvent *ev = peek(rr);
    if (!ev)
        return false;
    if (ev->kind != RR_EV_CHECKPOINT || (ev->data[0] == 2 ? 0 : ev->data[0]) != why) {
        diverged(m, "replay diverged at event %" PRIu64 ": %s at icount %" PRIu64
                 " (pc 0x%" PRIx64 "), but the log's next event is %s at icount %"
                 PRIu64, rr->nevents,
                 why ? "a device access read the virtual clock"
                     : "timers are due",
                 *m->icount,
                 m->cpu_ops->regs(m->cpu, rr->scratch->regs) ? rr->scratch->regs[0] : 0,
                 ev->kind == RR_EV_CHECKPOINT
                     ? (ev->data[0] ? "a clock-read checkpoint" : "a timer checkpoint")
                     : rr_event_name(ev->kind), ev->icount);
        return false;
    }
    if (!check_position(rr, ev))
        return false;
    consumed(rr);
    return true;
}

/* VClock.on_access_read: a device read the virtual clock during a guest
 * access, so what it computes depends on the exact position of the
 * access; one checkpoint per access. */
static void access_read(void *opaque)
{
    Rr *rr = opaque;
    Machine *m = rr->m;
    uint64_t acc = machine_device_accesses(m);
    if (m->error || acc == rr->ckpt_access)
        return;
    rr->ckpt_access = acc;
    checkpoint(rr, 1);
}

int rr_fire_timers(Machine *m)
{
    Rr *rr = m->rr;
    if (rr && rr->checkpoints && !m->error &&
        vclock_next_deadline(&m->clock) <= machine_ns(m) && !checkpoint(rr, 0))
        return 0;
    return vclock_run_timers(&m->clock);
}

static bool apply(Rr *rr, const RrEvent *ev);

int rr_fire_lazy(Machine *m)
{
    Rr *rr = m->rr;
    RrEvent *ev = peek(rr);
    if (!ev)
        return -1;
    uint64_t acc = machine_device_accesses(m) - rr->last_mmio;
    if (!rr_event_lazy(ev) || acc != ev->mmio) {
        diverged(m, "replay diverged at event %" PRIu64 ": lazy timers fired after %"
                 PRIu64 " device accesses, but the log's next event is %s after %"
                 PRIu64, rr->nevents, acc, rr_event_name(ev->kind), ev->mmio);
        return -1;
    }
    consumed(rr);
    if (ev->kind == RR_EV_SHIFT)
        return apply(rr, ev) ? 0 : -1;
    if (vclock_next_deadline(&m->clock) > machine_ns(m)) {
        diverged(m, "replay diverged at event %" PRIu64 " (lazy timer checkpoint at "
                 "icount %" PRIu64 "): no timer is due there", rr->nevents - 1,
                 ev->icount);
        return -1;
    }
    return vclock_run_timers(&m->clock);
}

/* ---- public hooks ---- */

int64_t rr_host_clock(Machine *m)
{
    Rr *rr = m->rr;
    if (rr && rr->mode == RR_MODE_REPLAY) {
        read_ahead(rr);
        if (!rr->have_next) {
            stop_truncated(rr);
            return 0;
        }
        RrEvent *ev = rr->next;
        if (ev->kind != RR_EV_HOST_CLOCK) {
            diverged(m, "replay diverged at event %" PRIu64 ": the guest read the host "
                     "clock at icount %" PRIu64 " (pc 0x%" PRIx64 "), but the log's next "
                     "event is %s at icount %" PRIu64, rr->nevents, *m->icount,
                     m->cpu_ops->regs(m->cpu, rr->scratch->regs) ? rr->scratch->regs[0] : 0,
                     rr_event_name(ev->kind), ev->icount);
            return 0;
        }
        if (!check_position(rr, ev) || ev->len != 8)
            return 0;
        int64_t ns;
        memcpy(&ns, ev->data, 8);
        consumed(rr);
        return ns;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    if (rr && rr->mode == RR_MODE_RECORD) {
        RrEvent *ev = rr->scratch;
        fill_position(rr, ev, RR_EV_HOST_CLOCK);
        memcpy(ev->data, &ns, 8);
        ev->len = 8;
        log_event(rr, ev);
    }
    return ns;
}

/* ---- memory checks (log version 9) and state checks (version 10) ----
 *
 * A TSC event may carry a hash of the guest's RAM (machine_memory_hash) as
 * it stands when the RDTSC reads the counter, logged about every
 * MEM_CHECK_NS of recording host time (less often where hashing takes
 * long: at most 1/MEM_CHECK_COST_RATIO of the time).  Since version 10 it
 * also carries the hash of the CPU's whole state (CpuOps.state_hash) and
 * one of each device's saved state (checkpoint_device_hashes).  The
 * replay compares: event registers see neither memory nor the rest of the
 * machine, and a KVM replay that landed on an earlier pass of a loop
 * whose state lives in memory would otherwise go on with other memory
 * contents, or with a device timer the guest armed there (the memory
 * may agree again by the next check; the timer fires early much later).
 * targets/x86/kvm_switch.c goes back to its last checked snapshot
 * instead; a snapshot it takes after a check passed is then known good
 * in all of that, not only in memory. */

#define MEM_CHECK_NS 3000000000LL
#define MEM_CHECK_COST_RATIO 30

static uint32_t mem_check_add(Rr *rr, uint8_t *data)
{
    int64_t now = g_get_monotonic_time() * 1000;
    int64_t every = MEM_CHECK_COST_RATIO * rr->mem_check_cost;
    if (every < MEM_CHECK_NS)
        every = MEM_CHECK_NS;
    if (rr->mem_check_every >= 0)
        every = rr->mem_check_every;
    if (rr->mem_check_ns && now - rr->mem_check_ns < every)
        return 0;
    Machine *m = rr->m;
    uint64_t h[2 + RR_STATE_CHECK_MAX_DEVICES];
    h[0] = machine_memory_hash(m);
    h[1] = m->cpu_ops->state_hash(m->cpu);
    unsigned n = checkpoint_device_hashes(m, h + 2, RR_STATE_CHECK_MAX_DEVICES);
    for (unsigned i = 0; i < 2 + n; i++)
        le64_put(data + 8 * i, h[i]);
    rr->mem_check_ns = g_get_monotonic_time() * 1000;
    rr->mem_check_cost = rr->mem_check_ns - now;
    if (!rr->mem_check_ns)
        rr->mem_check_ns = 1;
    return 8 * (2 + n);
}

/* Replay: the RAM hash a TSC event carries, and from version 10 the CPU's
 * and each device's state hash, against the machine's. */
static bool mem_check(Rr *rr, const RrEvent *ev)
{
    if (ev->len < 16)
        return true;
    Machine *m = rr->m;
    uint64_t want = le64_get(ev->data + 8), got = machine_memory_hash(m);
    if (got != want) {
        diverged(m, "replay diverged at event %" PRIu64 " (tsc, icount %" PRIu64 "): the "
                 "guest's memory differs from the recording's there (RAM hash %#" PRIx64
                 ", the log has %#" PRIx64 ")", rr->nevents, ev->icount, got, want);
        return false;
    }
    if (ev->len >= 24) {
        /* State checks (version 10): the CPU, then each device. */
        want = le64_get(ev->data + 16);
        got = m->cpu_ops->state_hash(m->cpu);
        if (got != want) {
            diverged(m, "replay diverged at event %" PRIu64 " (tsc, icount %" PRIu64 "): the "
                     "CPU's state differs from the recording's there where the event's "
                     "registers and memory do not (state hash %#" PRIx64 ", the log has %#"
                     PRIx64 ")", rr->nevents, ev->icount, got, want);
            return false;
        }
        uint64_t dev[RR_STATE_CHECK_MAX_DEVICES];
        unsigned logged = (ev->len - 24) / 8;
        unsigned n = checkpoint_device_hashes(m, dev, RR_STATE_CHECK_MAX_DEVICES);
        if (n != logged) {
            diverged(m, "replay diverged at event %" PRIu64 " (tsc, icount %" PRIu64 "): the "
                     "log's state check has %u devices, this machine %u", rr->nevents,
                     ev->icount, logged, n);
            return false;
        }
        for (unsigned i = 0; i < n; i++) {
            want = le64_get(ev->data + 24 + 8 * i);
            if (dev[i] != want) {
                diverged(m, "replay diverged at event %" PRIu64 " (tsc, icount %" PRIu64 "): "
                         "the state of device %s (the machine's device %u) differs from the "
                         "recording's there where the event's registers and memory do not "
                         "(hash %#" PRIx64 ", the log has %#" PRIx64 ")", rr->nevents,
                         ev->icount, m->devices[i].ops->name, i, dev[i], want);
                return false;
            }
        }
    }
    rr->mem_checks++;
    return true;
}

uint64_t rr_mem_checks(Machine *m)
{
    return m->rr ? m->rr->mem_checks : 0;
}

bool rr_log_mem_checked(Machine *m)
{
    Rr *rr = m->rr;
    return rr && rr->mode == RR_MODE_REPLAY && rr->r && rr_reader_header(rr->r)->version >= 9;
}

uint64_t rr_tsc(Machine *m, uint64_t value)
{
    Rr *rr = m->rr;
    if (!rr)
        return value;
    if (rr->mode == RR_MODE_RECORD) {
        RrEvent *ev = rr->scratch;
        fill_position(rr, ev, RR_EV_TSC);
        memcpy(ev->data, &value, 8);
        ev->len = 8 + mem_check_add(rr, ev->data + 8);
        log_event(rr, ev);
        return value;
    }
    read_ahead(rr);
    if (!rr->have_next) {
        stop_truncated(rr);
        return value;
    }
    RrEvent *ev = rr->next;
    if (ev->kind != RR_EV_TSC) {
        diverged(m, "replay diverged at event %" PRIu64 ": the guest read the "
                 "time-stamp counter at icount %" PRIu64 " (pc 0x%" PRIx64 "), but the "
                 "log's next event is %s at icount %" PRIu64, rr->nevents, *m->icount,
                 m->cpu_ops->regs(m->cpu, rr->scratch->regs) ? rr->scratch->regs[0] : 0,
                 rr_event_name(ev->kind), ev->icount);
        return value;
    }
    if (!check_position(rr, ev) || !mem_check(rr, ev))
        return value;
    uint64_t logged;
    memcpy(&logged, ev->data, 8);
    if (logged != value) {
        diverged(m, "replay diverged at event %" PRIu64 " (tsc, icount %" PRIu64 "): "
                 "the time-stamp counter reads 0x%" PRIx64 ", the recording read 0x%" PRIx64,
                 rr->nevents, ev->icount, value, logged);
        return logged;
    }
    consumed(rr);
    return logged;
}

static void put_varint(RrEvent *ev, uint64_t v)
{
    while (v >= 0x80) {
        ev->data[ev->len++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    ev->data[ev->len++] = (uint8_t)v;
}

static bool get_varint(const RrEvent *ev, uint32_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && *pos < ev->len; shift += 7) {
        uint8_t b = ev->data[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

static const char *const blk_op_names[] = { "read", "write", "flush" };

int rr_block_observer(void *opaque, unsigned tag, BlkOp op, uint64_t off, const void *data,
                      size_t len)
{
    Machine *m = opaque;
    Rr *rr = m->rr;
    if (!rr)
        return 0;
    uint64_t h = data ? tn_hash_bytes(data, len, 0) : 0;
    if (rr->mode == RR_MODE_RECORD) {
        RrEvent *ev = rr->scratch;
        fill_position(rr, ev, RR_EV_BLOCK);
        ev->data[0] = (uint8_t)tag;
        ev->data[1] = (uint8_t)op;
        ev->len = 2;
        put_varint(ev, off);
        put_varint(ev, len);
        memcpy(ev->data + ev->len, &h, 8);
        ev->len += 8;
        log_event(rr, ev);
        return 0;
    }
    read_ahead(rr);
    if (!rr->have_next) {
        stop_truncated(rr);
        return -EIO;
    }
    RrEvent *ev = rr->next;
    if (ev->kind != RR_EV_BLOCK) {
        diverged(m, "replay diverged at event %" PRIu64 ": drive %u's %s of %zu bytes "
                 "at %#" PRIx64 " completed at icount %" PRIu64 ", but the log's next "
                 "event is %s at icount %" PRIu64, rr->nevents, tag,
                 blk_op_names[op], len, off, *m->icount, rr_event_name(ev->kind),
                 ev->icount);
        return -EIO;
    }
    if (!check_position(rr, ev))
        return -EIO;
    uint32_t pos = 2;
    uint64_t loff = 0, llen = 0, lh = 0;
    bool ok = ev->len >= 2 && get_varint(ev, &pos, &loff) && get_varint(ev, &pos, &llen) &&
              pos + 8 == ev->len;
    if (ok)
        memcpy(&lh, ev->data + pos, 8);
    if (!ok || ev->data[0] != tag || ev->data[1] != op || loff != off || llen != len) {
        diverged(m, "replay diverged at event %" PRIu64 " (block, icount %" PRIu64 "): "
                 "drive %u's %s of %zu bytes at %#" PRIx64 ", but the recording had "
                 "drive %u's %s of %" PRIu64 " bytes at %#" PRIx64, rr->nevents,
                 ev->icount, tag, blk_op_names[op], len, off, ev->data[0],
                 ev->data[1] < 3 ? blk_op_names[ev->data[1]] : "?", llen, loff);
        return -EIO;
    }
    if (lh != h) {
        diverged(m, "replay diverged at event %" PRIu64 " (block, icount %" PRIu64 "): "
                 "drive %u's %s of %zu bytes at %#" PRIx64 " %s other data than in "
                 "the recording (data hash %016" PRIx64 ", recorded %016" PRIx64 "): "
                 "is this the disk image the recording started from?", rr->nevents,
                 ev->icount, tag, blk_op_names[op], len, off,
                 op == BLK_OP_READ ? "read" : "wrote", h, lh);
        return -EIO;
    }
    consumed(rr);
    return 0;
}

typedef struct NetPiece {
    Rr *rr;
    unsigned netdev;
} NetPiece;

static void log_net_piece(void *opaque, bool more, const uint8_t *p, size_t n)
{
    NetPiece *np = opaque;
    RrEvent *ev = np->rr->scratch;
    fill_position(np->rr, ev, RR_EV_NET);
    ev->data[0] = (uint8_t)np->netdev;
    ev->data[1] = more;
    memcpy(ev->data + 2, p, n);
    ev->len = (uint32_t)n + 2;
    log_event(np->rr, ev);
}

void rr_net_frame(Machine *m, unsigned netdev, const uint8_t *buf, size_t len)
{
    Rr *rr = m->rr;
    if (!rr || rr->mode != RR_MODE_RECORD || !len)
        return;
    NetPiece np = { rr, netdev };
    net_split_frame(buf, len, log_net_piece, &np);
}

void rr_input_key(Machine *m, int keycode, bool down)
{
    Rr *rr = m->rr;
    if (rr && rr->mode == RR_MODE_REPLAY)
        return;
    if (rr && rr->mode == RR_MODE_RECORD) {
        RrEvent *ev = rr->scratch;
        fill_position(rr, ev, RR_EV_INPUT);
        ev->data[0] = 0;
        ev->data[1] = (uint8_t)keycode;
        ev->data[2] = (uint8_t)(keycode >> 8);
        ev->data[3] = down;
        ev->len = 4;
        log_event(rr, ev);
    }
    input_deliver_key(m, keycode, down);
}

void rr_input_mouse(Machine *m, int dx, int dy, int dz, unsigned buttons)
{
    Rr *rr = m->rr;
    if (rr && rr->mode == RR_MODE_REPLAY)
        return;
    if (rr && rr->mode == RR_MODE_RECORD) {
        RrEvent *ev = rr->scratch;
        fill_position(rr, ev, RR_EV_INPUT);
        ev->data[0] = 1;
        le32_put(ev->data + 1, (uint32_t)dx);
        le32_put(ev->data + 5, (uint32_t)dy);
        le32_put(ev->data + 9, (uint32_t)dz);
        ev->data[13] = (uint8_t)buttons;
        ev->len = 14;
        log_event(rr, ev);
    }
    input_deliver_mouse(m, dx, dy, dz, buttons);
}

void rr_audio_input(Machine *m, unsigned card, unsigned source, uint8_t *buf, size_t len,
                    void (*fill)(void *opaque, uint8_t *buf, size_t len), void *opaque)
{
    Rr *rr = m->rr;
    if (!rr || rr->mode == RR_MODE_OFF) {
        fill(opaque, buf, len);
        return;
    }
    if (rr->mode == RR_MODE_RECORD) {
        fill(opaque, buf, len);
        /* Pieces of at most a payload, all at this position. */
        for (size_t off = 0; off < len;) {
            size_t n = len - off < RR_MAX_PAYLOAD - 2 ? len - off : RR_MAX_PAYLOAD - 2;
            RrEvent *ev = rr->scratch;
            fill_position(rr, ev, RR_EV_AUDIO);
            ev->data[0] = (uint8_t)card;
            ev->data[1] = (uint8_t)source;
            memcpy(ev->data + 2, buf + off, n);
            ev->len = (uint32_t)n + 2;
            log_event(rr, ev);
            off += n;
        }
        return;
    }
    memset(buf, 0, len);
    for (size_t off = 0; off < len;) {
        read_ahead(rr);
        if (!rr->have_next) {
            stop_truncated(rr);
            return;
        }
        RrEvent *ev = rr->next;
        if (ev->kind != RR_EV_AUDIO) {
            diverged(m, "replay diverged at event %" PRIu64 ": sound card %u takes "
                     "audio input at icount %" PRIu64 ", but the log's next event is "
                     "%s at icount %" PRIu64, rr->nevents, card, *m->icount,
                     rr_event_name(ev->kind), ev->icount);
            return;
        }
        if (!check_position(rr, ev))
            return;
        size_t n = ev->len - 2;
        if (ev->data[0] != card || ev->data[1] != source || n > len - off) {
            diverged(m, "replay diverged at event %" PRIu64 " (audio, icount %" PRIu64
                     "): sound card %u takes %zu bytes of %s input, the recording "
                     "has %zu bytes for card %u's %s", rr->nevents, ev->icount, card,
                     len - off, source ? "mic" : "PCM", n, ev->data[0],
                     ev->data[1] ? "mic" : "PCM");
            return;
        }
        memcpy(buf + off, ev->data + 2, n);
        off += n;
        consumed(rr);
    }
}

void rr_warp(Machine *m, int64_t ns)
{
    Rr *rr = m->rr;
    if (rr && rr->mode == RR_MODE_RECORD) {
        RrEvent *ev = rr->scratch;
        fill_position(rr, ev, RR_EV_WARP);
        put_varint(ev, (uint64_t)ns);
        log_event(rr, ev);
    }
    vclock_warp(&m->clock, ns);
}

void rr_set_shift(Machine *m, int shift)
{
    Rr *rr = m->rr;
    if (rr && rr->mode == RR_MODE_REPLAY)
        return;             /* the log decides */
    if (rr && rr->mode == RR_MODE_RECORD && rr->checkpoints) {
        hold_lazy(rr, RR_EV_SHIFT, (uint8_t)shift);
    } else if (rr && rr->mode == RR_MODE_RECORD) {
        RrEvent *ev = rr->scratch;
        fill_position(rr, ev, RR_EV_SHIFT);
        ev->data[0] = (uint8_t)shift;
        ev->len = 1;
        log_event(rr, ev);
    }
    vclock_set_shift(&m->clock, shift);
}

void rr_user_quit(Machine *m)
{
    Rr *rr = m->rr;
    if (rr && rr->mode == RR_MODE_RECORD) {
        RrEvent *ev = rr->scratch;
        fill_position(rr, ev, RR_EV_QUIT);
        log_event(rr, ev);
    }
    if (rr && rr->mode == RR_MODE_REPLAY) {
        fprintf(stderr, "tandem: replay stopped by the user at icount %" PRIu64 "\n", *m->icount);
        rr->user_stopped = true;
    }
    machine_request_shutdown(m, 0);
}

void rr_user_reset(Machine *m)
{
    Rr *rr = m->rr;
    if (rr && rr->mode == RR_MODE_REPLAY) {
        fprintf(stderr, "tandem: system_reset is not available during replay (the log decides)\n");
        return;
    }
    if (rr && rr->mode == RR_MODE_RECORD) {
        RrEvent *ev = rr->scratch;
        fill_position(rr, ev, RR_EV_RESET);
        log_event(rr, ev);
    }
    machine_request_reset(m);
}

uint64_t rr_next_async_icount(Machine *m)
{
    Rr *rr = m->rr;
    if (!rr || rr->mode != RR_MODE_REPLAY)
        return UINT64_MAX;
    read_ahead(rr);
    if (!rr->have_next) {
        if (rr->log_done)
            stop_truncated(rr);
        return UINT64_MAX;
    }
    /* Synchronous events (host clock, TSC) are consumed by the guest's own
     * access; END is checked when the run ends. */
    if (sync_event(rr->next->kind))
        return UINT64_MAX;
    return rr->next->icount;
}

bool rr_sync_passed_ok(Machine *m)
{
    Rr *rr = m->rr;
    if (!rr || rr->mode != RR_MODE_REPLAY || m->error)
        return true;
    read_ahead(rr);
    if (!rr->have_next || !sync_event(rr->next->kind) || *m->icount <= rr->next->icount)
        return true;
    const RrEvent *e = rr->next;
    uint64_t regs[RR_MAX_REGS];
    m->cpu_ops->regs(m->cpu, regs);
    diverged(m, "replay diverged at event %" PRIu64 " (%s at icount %" PRIu64 ", pc %#"
             PRIx64 "): the guest ran past it without the device access the log has "
             "there (now at icount %" PRIu64 ", pc %#" PRIx64 ")", rr->nevents,
             rr_event_name(e->kind), e->icount, e->regs[0], *m->icount, regs[0]);
    return false;
}

const RrEvent *rr_peek_event(Machine *m)
{
    Rr *rr = m->rr;
    if (!rr || rr->mode != RR_MODE_REPLAY)
        return NULL;
    read_ahead(rr);
    return rr->have_next ? rr->next : NULL;
}

uint64_t rr_events_done(Machine *m)
{
    return m->rr ? m->rr->nevents : 0;
}


uint64_t rr_accesses_since_event(Machine *m)
{
    return m->rr ? machine_device_accesses(m) - m->rr->last_mmio : 0;
}

static bool apply(Rr *rr, const RrEvent *ev)
{
    Machine *m = rr->m;
    uint32_t pos = 0;
    uint64_t v;
    switch (ev->kind) {
    case RR_EV_SERIAL_INPUT: {
        if (ev->len < 1 || ev->data[0] >= m->nserial) {
            machine_set_error(m, "replay: event %" PRIu64 " is input for serial port %d, "
                              "but this machine has %d", rr->nevents - 1,
                              ev->len ? ev->data[0] : -1, m->nserial);
            return false;
        }
        RrSerialShim *s = &rr->shims[ev->data[0]];
        size_t n = ev->len - 1;
        int room = s->dev.can_receive ? s->dev.can_receive(s->dev.opaque) : 0;
        if (!s->dev.receive || room < (int)n) {
            diverged(m, "replay diverged at event %" PRIu64 " (serial_input): the "
                     "serial port takes %d bytes at icount %" PRIu64 ", the log "
                     "delivers %zu", rr->nevents - 1, room, ev->icount, n);
            return false;
        }
        s->dev.receive(s->dev.opaque, ev->data + 1, n);
        return true;
    }
    case RR_EV_SHIFT:
        if (ev->len < 1 || ev->len > 2 || ev->data[0] > 10) {
            machine_set_error(m, "replay: event %" PRIu64 ": bad shift payload", rr->nevents - 1);
            return false;
        }
        vclock_set_shift(&m->clock, ev->data[0]);
        return true;
    case RR_EV_WARP:
        if (!get_varint(ev, &pos, &v) || v > INT64_MAX) {
            machine_set_error(m, "replay: event %" PRIu64 ": bad warp payload", rr->nevents - 1);
            return false;
        }
        vclock_warp(&m->clock, (int64_t)v);
        return true;
    case RR_EV_NET: {
        char *why = NULL;
        if (!net_replay_piece(m->net, ev->data[0], ev->data[1] & 1, ev->data + 2, ev->len - 2,
                              &why)) {
            diverged(m, "replay diverged at event %" PRIu64 " (net, icount %" PRIu64
                     "): %s", rr->nevents - 1, ev->icount, why);
            g_free(why);
            return false;
        }
        return true;
    }
    case RR_EV_INPUT: {
        bool ok = ev->data[0] == 0
                      ? input_deliver_key(m, ev->data[1] | ev->data[2] << 8, ev->data[3])
                      : input_deliver_mouse(m, (int32_t)le32_get(ev->data + 1),
                                            (int32_t)le32_get(ev->data + 5),
                                            (int32_t)le32_get(ev->data + 9), ev->data[13]);
        if (!ok) {
            machine_set_error(m, "replay: event %" PRIu64 " is %s input, but this machine "
                              "has no %s", rr->nevents - 1, ev->data[0] ? "mouse" : "keyboard",
                              ev->data[0] ? "mouse" : "keyboard");
            return false;
        }
        return true;
    }
    case RR_EV_RESET:
        machine_request_reset(m);
        return true;
    case RR_EV_QUIT:
        fprintf(stderr, "tandem: replay: the recording was stopped by the user here "
                "(icount %" PRIu64 ")\n", ev->icount);
        rr->quit_replayed = true;
        machine_request_shutdown(m, 0);
        return true;
    default:
        machine_set_error(m, "replay: event %" PRIu64 " (%s) cannot be delivered here",
                          rr->nevents - 1, rr_event_name(ev->kind));
        return false;
    }
}

bool rr_deliver_due(Machine *m)
{
    Rr *rr = m->rr;
    if (!rr || rr->mode != RR_MODE_REPLAY)
        return true;
    for (;;) {
        RrEvent *ev = peek(rr);
        if (!ev)
            return false;
        if (sync_event(ev->kind))
            return true;
        if (ev->icount > *m->icount)
            return true;
        if (!check_position(rr, ev))
            return !m->error;       /* (or a KVM replay went back: on) */
        /* apply() may read *ev after the slot is released: it stays valid
         * until the next read_ahead. */
        consumed(rr);
        if (!apply(rr, ev))
            return false;
        if (m->shutdown_requested)
            return true;
    }
}

bool rr_idle_ok(Machine *m)
{
    Rr *rr = m->rr;
    if (!rr || rr->mode != RR_MODE_REPLAY)
        return true;
    RrEvent *want = peek(rr);
    if (!want)
        return false;
    if (want->icount == *m->icount && want->kind != RR_EV_END)
        return true;
    diverged(m, "replay diverged at event %" PRIu64 ": the guest waits for an "
             "interrupt at icount %" PRIu64 ", but the log's next event is %s at "
             "icount %" PRIu64, rr->nevents, *m->icount, rr_event_name(want->kind),
             want->icount);
    return !m->error;               /* (or a KVM replay went back: on) */
}

void rr_flush(Machine *m)
{
    Rr *rr = m->rr;
    if (!rr || rr->mode != RR_MODE_RECORD)
        return;
    /* Small frames cost header bytes: write once 4 KiB are pending, or when
     * the oldest pending event is 5 s old (what a killed recording loses). */
    int64_t now = g_get_monotonic_time();
    size_t pending = rr_writer_pending(rr->w);
    if (!pending) {
        rr->last_flush_us = now;
        return;
    }
    if (pending < 4096 && now - rr->last_flush_us < 5000000)
        return;
    rr->last_flush_us = now;
    GError *err = NULL;
    if (!rr_writer_flush(rr->w, &err)) {
        machine_set_error(m, "record: cannot write %s: %s", rr->path, err->message);
        g_error_free(err);
    }
}

/* ---- snapshots ---- */

#define RR_SNAP_VERSION 1

void rr_save_state(Machine *m, void *writer)
{
    SnapWriter *w = writer;
    Rr *rr = m->rr;
    /* The log up to here is what a snapshot stands after. */
    if (rr && rr->nlazy)
        flush_lazy(rr, false);
    snap_put_u8(w, RR_SNAP_VERSION);
    snap_put_u8(w, rr ? (uint8_t)rr->mode : RR_MODE_OFF);
    /* Events delivered (replay) or logged (record) so far: a replay
     * restarts the log there. */
    snap_put_u64(w, rr ? rr->nevents : 0);
    snap_put_u64(w, rr ? rr->last_mmio : 0);
}

bool rr_load_state(Machine *m, void *reader)
{
    SnapReader *r = reader;
    Rr *rr = m->rr;
    unsigned v = snap_get_u8(r);
    if (snap_reader_ok(r) && v != RR_SNAP_VERSION)
        return snap_reader_fail(r, "record/replay state version %u (this build reads %u)", v,
                                RR_SNAP_VERSION);
    snap_get_u8(r);         /* the mode it was taken in: any may load it */
    uint64_t nevents = snap_get_u64(r);
    uint64_t last_mmio = snap_get_u64(r);
    if (!snap_reader_ok(r))
        return false;
    if (!rr)
        return true;
    if (rr->mode == RR_MODE_RECORD) {
        /* Only at the start of a recording (rrsnapshot): the log has
         * nothing yet to go back to. */
        if (rr->nevents != 0)
            return snap_reader_fail(r, "a recording cannot go back in time (%" PRIu64
                                    " events logged)", rr->nevents);
        rr->last_mmio = last_mmio;
        return true;
    }
    /* The device-access count goes back with the machine: the next
     * clock-reading access, though it repeats a count seen before, must
     * meet its checkpoint again. */
    rr->ckpt_access = UINT64_MAX;
    GError *err = NULL;
    if (!rr_reader_seek(rr->r, nevents, &err)) {
        snap_reader_fail(r, "replay log %s: %s", rr->path, err->message);
        g_error_free(err);
        return false;
    }
    rr->have_next = false;
    rr->log_done = false;
    rr->nevents = nevents;
    rr->last_mmio = last_mmio;
    /* A snapshot of this recording stands before the events that follow
     * it (the CPU is loaded already: *m->icount is the snapshot's). */
    read_ahead(rr);
    if (m->error)
        return snap_reader_fail(r, "%s", m->error);
    if (rr->have_next && rr->next->icount < *m->icount)
        return snap_reader_fail(r, "the snapshot (icount %" PRIu64 ", after %" PRIu64 " events) "
                                "does not belong to the recording %s: its event %" PRIu64
                                " (%s) is at icount %" PRIu64 ", before the snapshot",
                                *m->icount, nevents, rr->path, nevents,
                                rr_event_name(rr->next->kind), rr->next->icount);
    return true;
}

bool rr_snapshot_fits(Machine *m, uint64_t nevents, uint64_t icount, GError **err)
{
    Rr *rr = m->rr;
    if (!rr || rr->mode != RR_MODE_REPLAY)
        return true;
    /* Events nevents - 1 and nevents must stand on either side of it. */
    RrEvent *ev = g_new0(RrEvent, 1);
    GError *e = NULL;
    bool ok = true;
    uint64_t from = nevents ? nevents - 1 : 0;
    if (!rr_reader_seek(rr->r, from, &e)) {
        tn_error(err, "it comes after %" PRIu64 " events, but the recording %s has fewer (%s): "
                 "it is not a snapshot of this recording", nevents, rr->path, e->message);
        g_clear_error(&e);
        ok = false;
    }
    for (uint64_t i = from; ok && i <= nevents; i++) {
        int r = rr_reader_next(rr->r, ev, &e);
        if (r < 0) {
            tn_error(err, "replay log %s: %s", rr->path, e->message);
            g_clear_error(&e);
            ok = false;
        } else if (r == 0) {
            tn_error(err, "it comes after %" PRIu64 " events, but the recording %s has %" PRIu64
                     " and ends without one after it: it is not a snapshot of this recording",
                     nevents, rr->path, i);
            ok = false;
        } else if (i < nevents ? ev->icount > icount : ev->icount < icount) {
            tn_error(err, "it stands at icount %" PRIu64 " after %" PRIu64 " events, but event %"
                     PRIu64 " (%s) of the recording %s is at icount %" PRIu64 ": it is not a "
                     "snapshot of this recording", icount, nevents, i,
                     rr_event_name(ev->kind), rr->path, ev->icount);
            ok = false;
        }
    }
    g_free(ev);
    /* Back to where the replay stands. */
    if (!rr_reader_seek(rr->r, rr->nevents, &e)) {
        machine_set_error(m, "replay log %s: %s", rr->path, e->message);
        if (ok)
            tn_error(err, "replay log %s: %s", rr->path, e->message);
        g_error_free(e);
        return false;
    }
    rr->have_next = false;
    rr->log_done = false;
    return ok;
}

/* ---- start / finish ---- */

bool rr_start(Machine *m, GError **err)
{
    const Options *o = m->opts;
    if (!o->rr_mode)
        return true;
    Rr *rr = g_new0(Rr, 1);
    rr->m = m;
    rr->mode = o->rr_mode;
    rr->path = g_strdup(o->rr_file);
    rr->scratch = g_new0(RrEvent, 1);
    rr->next = g_new0(RrEvent, 1);
    m->rr = rr;
    m->rr_mode = rr->mode;

    char *cfg = config_text(m, err);
    if (!cfg)
        return false;
    uint64_t tmp[RR_MAX_REGS];
    unsigned nregs = m->cpu_ops->regs(m->cpu, tmp);

    /* Tests and diagnostics: memory checks at most every N ns of host
     * time (0: at every TSC event) instead of the default. */
    rr->mem_check_every = -1;
    const char *mc = getenv("TANDEM_RR_MEM_CHECK_NS");
    if (mc && rr->mode == RR_MODE_RECORD) {
        char *end;
        errno = 0;
        long long v = strtoll(mc, &end, 10);
        if (!*mc || *end || errno || v < 0) {
            tn_error(err, "TANDEM_RR_MEM_CHECK_NS '%s' is not a number of nanoseconds (0 or more)",
                     mc);
            g_free(cfg);
            return false;
        }
        rr->mem_check_every = v;
    }
    if (rr->mode == RR_MODE_RECORD) {
        RrHeader h = {
            .version = RR_LOG_VERSION, .arch = (char *)o->arch, .config = cfg,
            .snapshot = (char *)(o->rr_snapshot ? o->rr_snapshot : ""),
            .shift = o->icount_shift, .nregs = nregs,
            .config_hash = rr_fnv1a64(cfg, strlen(cfg), 0),
        };
        rr->w = rr_writer_open(rr->path, &h, err);
        g_free(cfg);
        if (!rr->w)
            return false;
    } else {
        rr->r = rr_reader_open(rr->path, err);
        if (!rr->r) {
            g_free(cfg);
            return false;
        }
        const RrHeader *h = rr_reader_header(rr->r);
        if (strcmp(h->arch, o->arch)) {
            tn_error(err, "%s was recorded for %s, not %s", rr->path, h->arch, o->arch);
            g_free(cfg);
            return false;
        }
        char *diff = config_diff(h->config, cfg);
        g_free(cfg);
        if (*diff) {
            tn_error(err, "%s was recorded with another machine configuration:%s",
                     rr->path, diff);
            g_free(diff);
            return false;
        }
        g_free(diff);
        /* A recording made with rrsnapshot=NAME starts from snapshot NAME
         * (its disks included), so the replay must start there too. */
        const char *want = o->rr_snapshot ? o->rr_snapshot : "";
        const char *logged = h->snapshot ? h->snapshot : "";
        if (strcmp(logged, want)) {
            if (!*logged)
                tn_error(err, "%s was recorded without rrsnapshot= (from reset): replay it "
                         "without rrsnapshot=%s", rr->path, want);
            else if (!*want)
                tn_error(err, "%s was recorded with rrsnapshot=%s: the replay starts from "
                         "that snapshot, add rrsnapshot=%s to -icount", rr->path, logged,
                         logged);
            else
                tn_error(err, "%s was recorded with rrsnapshot=%s, not rrsnapshot=%s",
                         rr->path, logged, want);
            return false;
        }
        if (h->nregs != nregs) {
            tn_error(err, "%s logs %u registers per event, this CPU has %u", rr->path,
                     h->nregs, nregs);
            return false;
        }
    }
    /* Only for the ISAs a KVM replay exists for (x86): elsewhere they
     * would only make the log longer (RISC-V firmware polls mtime). */
    bool x86 = !strcmp(o->arch, "x86_64") || !strcmp(o->arch, "i386");
    rr->checkpoints = x86 && (rr->mode == RR_MODE_RECORD ||
                              rr_reader_header(rr->r)->version >= 6);
    if (x86 && rr->mode == RR_MODE_REPLAY && rr_reader_header(rr->r)->version < 9)
        m->mmio_irq_at_block_end = true;
    if (rr->checkpoints) {
        rr->ckpt_access = UINT64_MAX;
        m->clock.on_access_read = access_read;
        m->clock.on_access_opaque = rr;
        if (rr->mode == RR_MODE_RECORD) {
            m->as.access_hook = m->io.access_hook = access_start;
            m->as.access_hook_opaque = m->io.access_hook_opaque = rr;
        }
    }
    /* Serial input goes through the shims. */
    for (int i = 0; i < m->nserial; i++) {
        RrSerialShim *s = &rr->shims[i];
        s->rr = rr;
        s->port = i;
        s->dev = chardev_get_frontend(m->serial[i]);
        CharFrontend fe = { shim_can_receive, shim_receive, s };
        chardev_set_frontend(m->serial[i], &fe);
        if (rr->mode == RR_MODE_REPLAY)
            chardev_discard_input(m->serial[i]);
    }
    return true;
}
/* Where the memory at the end differs from the recording's (the end
 * event's RAM map, log version 7), or NULL where the log has no map or
 * the machine's memory is laid out otherwise. */
static char *end_memory_diff(Machine *m, const RrEvent *want)
{
    if (want->len < 28)
        return NULL;
    uint32_t shift, n;
    memcpy(&shift, want->data + 20, 4);
    memcpy(&n, want->data + 24, 4);
    uint64_t *want_h = g_new(uint64_t, n), *have = g_new(uint64_t, n), *base = g_new(uint64_t, n);
    memcpy(want_h, want->data + 28, 8 * (size_t)n);
    char *d = NULL;
    if (machine_memory_chunks(m, shift, have, base, n) == n)
        d = rr_memory_diff(want_h, have, base, n, shift);
    g_free(want_h);
    g_free(have);
    g_free(base);
    return d;
}


int rr_finish(Machine *m, int status)
{
    Rr *rr = m->rr;
    if (!rr)
        return status;
    GError *err = NULL;
    RrEvent *ev = rr->scratch;
    if (rr->mode == RR_MODE_RECORD) {
        fill_position(rr, ev, RR_EV_END);
        int32_t st = status;
        uint64_t mh = machine_memory_hash(m), sh = m->cpu_ops->state_hash(m->cpu);
        memcpy(ev->data, &st, 4);
        memcpy(ev->data + 4, &mh, 8);
        memcpy(ev->data + 12, &sh, 8);
        /* The RAM map: where a replay that ends with other memory differs. */
        uint32_t shift = machine_memory_chunk_shift(m, RR_END_MAX_CHUNKS);
        uint64_t *hash = g_new(uint64_t, RR_END_MAX_CHUNKS);
        uint32_t nc = (uint32_t)machine_memory_chunks(m, shift, hash, NULL, RR_END_MAX_CHUNKS);
        ev->len = 20;
        if (nc >= 1 && nc <= RR_END_MAX_CHUNKS) {
            memcpy(ev->data + 20, &shift, 4);
            memcpy(ev->data + 24, &nc, 4);
            memcpy(ev->data + 28, hash, 8 * (size_t)nc);
            ev->len = 28 + 8 * nc;
        }
        g_free(hash);
        log_event(rr, ev);
        uint64_t n = rr_writer_events(rr->w);
        if (!rr_writer_close(rr->w, &err)) {
            fprintf(stderr, "tandem: record: %s: %s\n", rr->path, err->message);
            g_error_free(err);
            rr->w = NULL;
            return status ? status : 1;
        }
        rr->w = NULL;
        fprintf(stderr, "tandem: recorded %" PRIu64 " events, %" PRIu64 " instructions to %s\n",
                n, *m->icount, rr->path);
        return status;
    }
    /* Replay: a run that ended by itself must end where the recording did. */
    /* (Not the status: a guest may exit with RR_EXIT_TRUNCATED's value
     * itself, and must be checked like any other.) */
    if (m->error || rr->truncated || rr->user_stopped)
        return status;
    read_ahead(rr);
    if (m->error)
        return 1;
    /* Recordings before this was fixed could log a shift=auto change in
     * the main loop iteration that took a monitor quit, after the quit:
     * nothing ran after it. */
    while (rr->quit_replayed && rr->have_next && rr->next->kind == RR_EV_SHIFT &&
           rr->next->icount == *m->icount) {
        consumed(rr);
        read_ahead(rr);
    }
    if (!rr->have_next || rr->next->kind != RR_EV_END) {
        if (rr->have_next)
            fprintf(stderr, "tandem: replay diverged: the guest stopped at icount %" PRIu64
                    " but the log goes on with %s at icount %" PRIu64 "\n", *m->icount,
                    rr_event_name(rr->next->kind), rr->next->icount);
        else
            fprintf(stderr, "tandem: replay: %s\n", rr_reader_tail_message(rr->r));
        return rr->have_next ? 1 : RR_EXIT_TRUNCATED;
    }
    const RrEvent *want = rr->next;
    m->replay_diverged = NULL;      /* (too late to replay anything again) */
    if (!check_position(rr, want)) {
        fprintf(stderr, "tandem: %s\n", m->error);
        return 1;
    }
    int32_t st;
    uint64_t mh, sh;
    memcpy(&st, want->data, 4);
    memcpy(&mh, want->data + 4, 8);
    memcpy(&sh, want->data + 12, 8);
    uint64_t mh2 = machine_memory_hash(m), sh2 = m->cpu_ops->state_hash(m->cpu);
    if (mh != mh2 || sh != sh2 || st != status) {
        char *where = mh != mh2 ? end_memory_diff(m, want) : NULL;
        fprintf(stderr, "tandem: replay diverged at the end (icount %" PRIu64 "):%s%s%s%s%s%s\n",
                *m->icount, mh != mh2 ? " memory contents differ" : "",
                where ? " (" : "", where ? where : "", where ? ");" : mh != mh2 ? ";" : "",
                sh != sh2 ? " CPU state differs;" : "",
                st != status ? " exit status differs;" : "");
        g_free(where);
        return 1;
    }
    fprintf(stderr, "tandem: replay finished: %" PRIu64 " events, %" PRIu64
            " instructions; final state matches the recording (digest %016" PRIx64 ")\n",
            rr->nevents + 1, *m->icount, mh ^ sh);
    return status;
}

void rr_free(Machine *m)
{
    Rr *rr = m->rr;
    if (!rr)
        return;
    if (rr->w) {
        GError *err = NULL;
        if (!rr_writer_close(rr->w, &err))
            g_error_free(err);
    }
    if (rr->r)
        rr_reader_close(rr->r);
    g_free(rr->scratch);
    g_free(rr->next);
    g_free(rr->lazy);
    g_free(rr->lazy_ev);
    g_free(rr->path);
    g_free(rr);
    m->rr = NULL;
}
