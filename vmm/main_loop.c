/* The main loop: run the CPU in slices bounded by the next timer deadline,
 * fire timers, service host input, and let an idle CPU wait.
 *
 * Virtual time only moves with retired instructions, except when the CPU is
 * idle (WFI/HLT): then it warps to the next deadline, after waiting that long
 * in host time when sleep=on. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <time.h>

#include <signal.h>

#include "checkpoint/timeline.h"
#include "checkpoint/vmsnap.h"
#include "net/net.h"
#include "rr/rr.h"
#include "vmm/chardev.h"
#include "vmm/gdbstub.h"
#include "vmm/input.h"
#include "vmm/machine.h"

/* Set by SIGINT/SIGTERM/SIGHUP: the run ends as if the user quit, so a
 * recording gets its end marker. */
static volatile sig_atomic_t quit_signal;
/* The running machine's exit_request: the CPU leaves its run loop (and a
 * KVM run, which the signal interrupts) to let this loop see the signal. */
static volatile int *quit_exit_request;

static void on_quit_signal(int sig)
{
    quit_signal = sig;
    if (quit_exit_request)
        *quit_exit_request = 1;
}

int machine_quit_signal(void)
{
    return quit_signal;
}

/* Instructions per slice between looks at host input.
 *
 * Record/replay relies on this loop stopping the CPU at the same positions
 * in both directions: a slice ends at SLICE_INSNS after the previous stop,
 * at the next timer deadline, when the CPU idles or a device asks, and (in
 * replay) at the next logged event; record only delivers events at those
 * stops, so both runs stop at the same instructions and interrupts are taken
 * at the same block boundaries. */
#define SLICE_INSNS (1u << 20)
/* shift=auto looks at the drift between virtual and host time this often,
 * and changes the shift by one step when the drift exceeds AUTO_DRIFT_NS.
 * Integer shifts cannot match the host exactly, so the shift alternates
 * between two neighbours; the wide band keeps those changes (logged events
 * under record) to a few per second. */
#define AUTO_PERIOD_NS 250000000LL
#define AUTO_DRIFT_NS 500000000LL
#define AUTO_MAX_SHIFT 10

static int64_t host_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

typedef struct LoopState {
    int64_t host_start, virt_start;
    int64_t next_auto;
} LoopState;

static int collect_fds(Machine *m, struct pollfd *pfd, Chardev **owner, int max)
{
    int n = 0;
    for (int i = 0; i < m->nserial && n < max; i++) {
        int fd = chardev_input_fd(m->serial[i]);
        /* Do not read more while the device still has bytes to take. */
        if (fd >= 0 && chardev_pending(m->serial[i]) == 0) {
            pfd[n] = (struct pollfd){ .fd = fd, .events = POLLIN };
            owner[n++] = m->serial[i];
        }
    }
    if (m->monitor_own && n < max) {
        int fd = chardev_input_fd(m->monitor_own);
        if (fd >= 0) {
            pfd[n] = (struct pollfd){ .fd = fd, .events = POLLIN };
            owner[n++] = m->monitor_own;
        }
    }
    return n;
}

/* Wait for host input for at most timeout_ns (-1 = forever); deliver it. */
static bool service_input(Machine *m, int64_t timeout_ns)
{
    struct pollfd pfd[MACHINE_MAX_SERIAL + 1 + GDBSTUB_MAX_FDS + NET_MAX_FDS];
    Chardev *owner[MACHINE_MAX_SERIAL + 1];
    bool any = false;
    input_poll(m);           /* sendkey's releases */
    for (int i = 0; i < m->nserial; i++)
        any |= chardev_pump(m->serial[i]);
    any |= net_pump(m->net);
    int n = collect_fds(m, pfd, owner, MACHINE_MAX_SERIAL + 1);
    int nchr = n;        /* then the gdb stub's sockets */
    n += gdbstub_poll_fds(m->gdb, pfd + n, GDBSTUB_MAX_FDS);
    int ngdb = n;        /* then the network backends' (they may shorten the wait) */
    n += net_poll_fds(m->net, pfd + n, NET_MAX_FDS, &timeout_ns);
    if (n == 0) {
        if (timeout_ns > 0 && !any) {
            struct timespec ts = { timeout_ns / 1000000000, timeout_ns % 1000000000 };
            nanosleep(&ts, NULL);
        }
        return net_poll_done(m->net, pfd, 0, false) || any;
    }
    int tmo = timeout_ns < 0 ? -1 : (int)((timeout_ns + 999999) / 1000000);
    if (any)
        tmo = 0;
    int r = poll(pfd, (nfds_t)n, tmo);
    if (r > 0) {
        for (int i = 0; i < ngdb; i++)
            if (pfd[i].revents)
                any |= i < nchr ? chardev_service(owner[i])
                                : gdbstub_service(m->gdb, &pfd[i]);
    }
    return net_poll_done(m->net, pfd + ngdb, n - ngdb, r < 0) || any;
}

static void auto_shift(Machine *m, LoopState *ls)
{
    int64_t now = host_mono_ns();
    if (now < ls->next_auto)
        return;
    ls->next_auto = now + AUTO_PERIOD_NS;
    int64_t host_el = now - ls->host_start;
    int64_t virt_el = machine_ns(m) - ls->virt_start;
    int s = m->clock.shift;
    if (virt_el > host_el + AUTO_DRIFT_NS && s > 0)
        rr_set_shift(m, s - 1);
    else if (virt_el < host_el - AUTO_DRIFT_NS && s < AUTO_MAX_SHIFT)
        rr_set_shift(m, s + 1);
}

/* The CPU waits for an interrupt: let virtual time pass. */
static bool idle_wait(Machine *m, LoopState *ls)
{
    int64_t deadline = vclock_next_deadline(&m->clock);
    if (input_deadline(m) < deadline)
        deadline = input_deadline(m);
    int64_t now = machine_ns(m);
    bool has_input = m->monitor_own != NULL || m->gdb != NULL;
    for (int i = 0; i < m->nserial; i++)
        has_input |= chardev_input_fd(m->serial[i]) >= 0 || chardev_pending(m->serial[i]);
    has_input |= net_has_input(m->net);
    if (deadline == INT64_MAX) {
        if (!has_input) {
            GString *irqs = g_string_new(NULL);
            if (m->board_describe_irqs)
                m->board_describe_irqs(m, irqs);
            machine_set_error(m, "the guest is waiting for an interrupt with no timer armed "
                                 "and no input connected: it can never wake up%s%s",
                              irqs->len ? "\n  " : "", irqs->str);
            g_string_free(irqs, TRUE);
            return false;
        }
        service_input(m, -1);
        return true;
    }
    int64_t gap = deadline - now;
    if (gap < 0)
        gap = 0;
    if (m->clock.sleep) {
        int64_t t0 = host_mono_ns();
        bool woke = service_input(m, gap);
        int64_t slept = host_mono_ns() - t0;
        if (woke && slept < gap)
            gap = slept;
    } else {
        service_input(m, 0);
    }
    rr_warp(m, gap);
    (void)ls;
    return true;
}

int machine_run(Machine *m)
{
    LoopState ls = { host_mono_ns(), machine_ns(m), 0 };
    ls.next_auto = ls.host_start + AUTO_PERIOD_NS;
    int64_t next_poll = ls.host_start;

    bool replay = m->rr_mode == RR_MODE_REPLAY;
    quit_exit_request = &m->exit_request;
    struct sigaction sa = { .sa_handler = on_quit_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    machine_reset(m);
    vmsnap_start(m);         /* rrsnapshot=, -loadvm: before the first instruction */
    if (replay && m->gdb && !m->timeline) {
        GError *err = NULL;
        m->timeline = timeline_new(m, m->opts->rr_snapshot_interval, &err);
        if (!m->timeline) {
            fprintf(stderr, "tandem: warning: %s\n", err->message);
            g_error_free(err);
        }
    }
    for (;;) {
        if (quit_signal && !m->shutdown_requested) {
            fprintf(stderr, "tandem: terminating on signal %d\n", (int)quit_signal);
            rr_user_quit(m);
        }
        if (replay && !m->error && !m->shutdown_requested)
            rr_deliver_due(m);
        if (m->error)
            break;
        if (m->shutdown_requested)
            break;
        if (m->reset_requested) {
            m->reset_requested = false;
            if (m->opts->no_reboot) {
                m->exit_status = 0;
                break;
            }
            machine_reset(m);
        }
        m->exit_request = 0;
        if (m->timeline && !timeline_tick(m->timeline))
            continue;
        vmsnap_check_break(m);      /* replay_break, replay_seek: pause there */
        if (m->paused || gdbstub_holds(m->gdb)) {
            service_input(m, -1);
            continue;
        }

        uint64_t budget = SLICE_INSNS;
        int64_t deadline = vclock_next_deadline(&m->clock);
        if (deadline != INT64_MAX) {
            uint64_t until = vclock_insns_until(&m->clock, deadline);
            if (until < budget)
                budget = until;
        }
        if (replay) {
            uint64_t ev = rr_next_async_icount(m);
            if (ev != UINT64_MAX && ev - *m->icount < budget)
                budget = ev - *m->icount;
            if (m->shutdown_requested || m->error)
                continue;
        }
        if (m->opts->perturb_reg >= 0) {
            /* Fault injection (tests): stop at the position and flip a bit. */
            uint64_t at = m->opts->perturb_icount;
            if (*m->icount == at && !m->perturbed) {
                char where[48];
                snprintf(where, sizeof(where), "at icount %llu", (unsigned long long)at);
                machine_perturb(m, where);
            } else if (*m->icount < at && at - *m->icount < budget) {
                budget = at - *m->icount;
            }
        }
        if (m->timeline)
            budget = timeline_budget(m->timeline, budget);
        budget = gdbstub_budget(m->gdb, budget);
        budget = vmsnap_budget(m, budget);
        CpuExit ex = CPU_EXIT_BUDGET;
        if (budget)
            ex = m->cpu_ops->run(m->cpu, budget);
        /* The guest asked to stop: nothing more happens (record logs no
         * event after the end). */
        if (m->shutdown_requested || m->error)
            continue;
        /* A guest gone elsewhere may never make the access the log's next
         * event waits for: stop it at the end of the slice that passes it
         * (the slices stay the recording's: ending one there would move
         * where a pending interrupt is taken). */
        if (replay && !rr_sync_passed_ok(m))
            continue;
        gdbstub_cpu_stopped(m->gdb, ex);
        int fired = rr_fire_timers(m);

        if (ex == CPU_EXIT_ERROR && !m->error)
            machine_set_error(m, "the CPU stopped with an unrecoverable error");
        /* A timer that fired after the CPU went idle may have raised the
         * interrupt it waits for: let the CPU look before waiting (the
         * same in record and replay, since timers follow virtual time). */
        if (ex == CPU_EXIT_IDLE && fired)
            continue;
        if (ex == CPU_EXIT_IDLE) {
            if (replay) {
                /* The log says how long the idle lasted. */
                if (!rr_idle_ok(m))
                    break;
                if (!rr_deliver_due(m))
                    break;
                rr_fire_timers(m);
                service_input(m, 0);
                continue;
            }
            if (!idle_wait(m, &ls))
                break;
            rr_fire_timers(m);
            rr_flush(m);
            continue;
        }
        int64_t now = host_mono_ns();
        if (now >= next_poll) {
            service_input(m, 0);
            next_poll = now + 1000000;      /* 1 ms */
            rr_flush(m);      /* writes a frame only when rr's policy says so */
        }
        /* (Not after a quit the monitor just took: the log ends there.) */
        if (m->clock.auto_shift && !replay && !m->shutdown_requested)
            auto_shift(m, &ls);
    }
    if (m->timeline) {
        TimelineStats ts;
        timeline_stats(m->timeline, &ts);
        fprintf(stderr, "tandem: reverse execution: %u snapshots, %llu restores, %.1f MiB of "
                "saved pages, %.1f KiB of machine state, %.1f KiB of disk contents\n",
                ts.snapshots, (unsigned long long)ts.restores,
                ts.pages_saved * 4096.0 / 1048576.0, ts.state_bytes / 1024.0,
                ts.disk_bytes / 1024.0);
    }
    gdbstub_machine_exit(m->gdb);
    if (m->error) {
        fprintf(stderr, "tandem: %s\n", m->error);
        if (m->cpu_ops && m->cpu_ops->dump)
            m->cpu_ops->dump(m->cpu, stderr);
        rr_finish(m, 1);
        return 1;
    }
    return rr_finish(m, m->exit_status);
}
