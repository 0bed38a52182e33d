/* -accel kvm,switch-test=SEED: the pc board's CPU moves between the
 * interpreter and KVM every N instructions, N drawn at random from
 * 1..switch-max, while the guest runs on.  It tests what hybrid replay
 * stands on: the complete transfer of the CPU state both ways at any
 * instruction boundary, and KVM computing what the interpreter computes.
 *
 * The position stays exact throughout, so the run is the interpreter's in
 * every clock mode (timers fire at the same instruction): on KVM each
 * instruction is single-stepped, and kvm_step.c first checks that it
 * cannot fault or deliver anything (the single-step flag would leak into
 * the guest's exception frame and the handler would run uncounted).  An
 * instruction it does not clear runs on the interpreter, then KVM takes
 * over again; so do pending interrupts, which the interpreter delivers.
 * A step that ends where the plan says it cannot stops the run with an
 * error naming the instruction: never a silently different run.
 *
 * At exit it prints how the instructions were shared and why KVM handed
 * instructions back, which the switch test checks (a run that never
 * reached KVM proves nothing). */
#include "targets/x86/kvm_switch.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint/checkpoint.h"
#include "kvm/kvm.h"
#include "kvm/pmu.h"
#include "rr/log.h"
#include "rr/rr.h"
#include "targets/x86/cpu.h"
#include "targets/x86/kvm_step.h"
#include "vmm/error.h"
#include "vmm/chardev.h"
#include "vmm/machine.h"

#define MAX_REASONS 24
/* Instructions the interpreter runs when KVM hands back a second time in
 * a row. */
#define HANDBACK_RUN 32

/* A whole machine (state stream and RAM) kept to replay a diverged stretch
 * again from. */
typedef struct Snap {
    uint8_t *st;             /* checkpoint_save_state(), NULL: none */
    size_t len;
    uint8_t *ram[AS_MAX_REGIONS];     /* each RAM region's bytes */
    uint64_t size[AS_MAX_REGIONS];    /* ... and their sizes (buffers reused) */
    uint64_t out[MACHINE_MAX_SERIAL];
    uint64_t events;
    uint64_t checks;         /* rr_mem_checks() when taken */
    int64_t host_ns;         /* when */
} Snap;

struct X86Switch {
    Machine *m;
    X86CPU *cpu;
    KvmVcpu *v;
    uint64_t rng, max, kvm_max;
    bool kvm_phase;          /* this leg is KVM's */
    bool all_kvm;            /* replay: KVM steps whatever it can, always */
    uint64_t leg_left;       /* instructions left in the leg */
    bool on_kvm;             /* the state is in KVM (inside kvm_leg only) */
    bool free_leg;           /* ... put there for a free run (on_kvm_free) */

    uint64_t kvm_insns, interp_insns, kvm_legs, interp_legs, handbacks;

    /* Replay with breakpoint landing (-accel kvm,landing=breakpoint):
     * free runs on KVM between events (land_*). */
    bool land;
    bool patch_hlt;               /* hardware breakpoints do not fire: HLT patches */
    /* The PMU counter (landing=auto|pmu where the host has one): the
     * guest's branch count is cpu->brcount + (counter - ctr_at) while a
     * free run is on KVM (ctr_at read when it goes there, cpu->brcount
     * brought up to date when it leaves). */
    KvmCounter *ctr;
    unsigned skid;
    uint64_t ctr_at;
    uint64_t ctr_overflows, ctr_checks;
    uint64_t free_runs, free_insns, land_hits, land_accesses, land_halts, land_steps;
    uint64_t interp_lands, interp_hits;     /* interp_land */
    uint64_t st_icount, st_interp, st_kvm;   /* at the start of the free run */
    bool retire_pending;     /* landed at an access: its instruction retires next */
    RrEvent *ev;             /* the event of the free run (hold_event) */
    uint64_t lazy_fired;     /* lazy timer checkpoints the access hook consumed */
    uint64_t lazy_total;
    /* TANDEM_KVM_PROGRESS=SECONDS: the report every so often (diagnostics
     * of long replays, docs/record-replay.md). */
    int64_t progress_ns, next_progress;

    /* Falling back (DESIGN.md: a stretch that diverged is replayed again
     * from the last snapshot, on the interpreter): snapshots taken at the
     * start of a free run at most SNAP_NS of host time after the last.
     * `good`: where memory is known to be the recording's (the last memory
     * check passed and only the interpreter ran since; every snapshot of a
     * log without memory checks is `latest`); `latest`: a newer one without
     * that, tried first; a stretch that diverges again from it goes back to
     * `good`. */
    Snap good, latest;
    Snap *restored;          /* the one the replay went back to last */
    int64_t snap_host_ns, snap_cost_ns;   /* the last snapshot's time, cost */
    /* A fall-back went back: a snapshot where the next free run starts
     * (that stretch was replayed exactly; a later divergence then goes
     * back no further than there). */
    bool snap_soon;
    uint64_t snaps, redo_insns;
    int64_t snap_total_ns;
    char *diverged;          /* set by the access hook: why */
    /* rr found the run off the recording's (sw_diverged: its message), at
     * event rr_at: back to the snapshot as soon as the switch has the CPU. */
    char *rr_diverged;
    uint64_t rr_at;
    bool in_run;             /* inside sw_run */
    /* Memory checks (rr_mem_checks) the log has had so far, and whether a
     * free run ran since the last: the snapshot is then not taken (its
     * memory is not known good). */
    uint64_t mem_checks;
    bool unchecked;
    uint64_t checks_seen;    /* rr_mem_checks() after the last run (the report) */
    uint64_t step_until;     /* interpret until this many events are done */
    uint64_t fallbacks;
    uint64_t stuck;          /* interpreter steps in a row without progress */
    struct { const char *why; uint64_t n; } reasons[MAX_REASONS];
};

static X86Switch *x86_switch_new(Machine *m, X86CPU *cpu, uint64_t seed, uint64_t max,
                                 uint64_t kvm_max, GError **err);

static uint64_t next_rand(X86Switch *s)
{
    /* xorshift64* */
    uint64_t x = s->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->rng = x;
    return x * 0x2545f4914f6cdd1dull;
}

/* Leg lengths spread over every order of magnitude up to max. */
static uint64_t draw_leg(X86Switch *s, uint64_t max)
{
    unsigned bits = 0;
    while (bits < 63 && (1ull << bits) < max)
        bits++;
    uint64_t lim = 1ull << (next_rand(s) % (bits + 1));
    if (lim > max)
        lim = max;
    return 1 + next_rand(s) % lim;
}

static void note_reason(X86Switch *s, const char *why)
{
    s->handbacks++;
    for (int i = 0; i < MAX_REASONS; i++) {
        if (s->reasons[i].why == why || !s->reasons[i].why) {
            s->reasons[i].why = why;
            s->reasons[i].n++;
            return;
        }
    }
}

static bool leave_kvm(X86Switch *s, GError **err)
{
    if (!s->on_kvm)
        return true;
    s->on_kvm = false;
    /* An NMI a device raised meanwhile is still the X86CPU's.  The TSC
     * is the interpreter's: RDTSC, RDTSCP and RDMSR never run on KVM here,
     * and KVM's TSC went on in host time. */
    X86CPU *cpu = s->cpu;
    bool nmi = cpu->nmi_pending;
    int64_t tsc_offset = cpu->tsc_offset;
    /* x87 instructions never run on KVM here (kvm_step.c), so the x87
     * last-instruction pointers cannot have changed; and some hosts lose
     * them on the way through KVM (QEMU TCG's XRSTOR in the harness). */
    X86Fpu ptrs = cpu->fpu;
    if (!kvm_get_state(s->v, cpu, err))
        return false;
    cpu->nmi_pending |= nmi;
    cpu->tsc_offset = tsc_offset;
    cpu->fpu.fip = ptrs.fip;
    cpu->fpu.fdp = ptrs.fdp;
    cpu->fpu.fcs = ptrs.fcs;
    cpu->fpu.fds = ptrs.fds;
    cpu->fpu.fop = ptrs.fop;
    /* Single-stepped, XSETBV never runs on KVM, and a host that pins XCR0
     * (kvm.h, kvm_xcr0_pinned) reports its pinned value instead of the
     * guest's.  A free run runs the guest's XSETBV (Linux's at boot) where
     * it stands: KVM's XCR0 is the one the guest ran with.  On a pinning
     * host that is only so once the guest has turned XSAVE on (CR4.OSXSAVE:
     * then it ran with the pinned XCR0, which is what Linux sets); before,
     * XCR0 means nothing to it and stays the interpreter's. */
    if (!s->free_leg || (kvm_xcr0_pinned(s->v) && !(cpu->cr4 & X86_CR4_OSXSAVE)))
        cpu->fpu.xcr0 = ptrs.xcr0;
    s->free_leg = false;
    return true;
}

static CpuExit fail(X86Switch *s, GError *err)
{
    machine_set_error(s->m, "%s", err->message);
    g_error_free(err);
    return CPU_EXIT_ERROR;
}

static bool irq_deliverable(X86CPU *cpu)
{
    return cpu->nmi_pending ||
           (cpu->intr && (cpu->eflags & X86_IF) && !cpu->inhibit_irq);
}

/* One instruction on KVM, single-stepped and counted (plan p). */
static CpuExit kvm_step(X86Switch *s, const X86StepPlan *p)
{
    X86CPU *cpu = s->cpu;
    GError *err = NULL;
    if (!s->on_kvm) {
        if (!kvm_put_state(s->v, cpu, &err) || !kvm_set_guest_debug(s->v, true, NULL, 0, &err))
            return fail(s, err);
        s->on_kvm = true;
        s->free_leg = false;
        s->kvm_legs++;
    }
    uint64_t pc = cpu->rip;
    KvmStop st = kvm_run(s->v, &err);
    switch (st) {
    case KVM_STOP_DEBUG: {
        const KvmDebugExit *d = kvm_debug_exit(s->v);
        if (d->exception != 1 || !(d->dr6 & 0x4000)) {
            tn_error(&err, "KVM switch: unexpected debug exit (vector %u, DR6 %#" PRIx64
                     ") stepping the instruction at %#" PRIx64, d->exception, d->dr6, pc);
            return fail(s, err);
        }
        break;
    }
    case KVM_STOP_REQUEST:
    case KVM_STOP_KICK:
        break;
    case KVM_STOP_ERROR:
        return fail(s, err);
    default:
        tn_error(&err, "KVM switch: KVM stopped (%s) while stepping the instruction at %#"
                 PRIx64 ", which the step plan did not allow", kvm_stop_name(st), pc);
        return fail(s, err);
    }
    if (!kvm_get_regs(s->v, cpu, &err))
        return fail(s, err);
    kvm_pdptes_fixup(s->v);     /* the next plan walks the page tables */
    bool moved = cpu->rip != pc;
    if (st != KVM_STOP_DEBUG && !moved && !x86_kvm_step_expected(p, pc)) {
        /* Stopped before the instruction ran. */
        if (++s->stuck > 100000) {
            tn_error(&err, "KVM switch: KVM keeps stopping (%s) before the instruction at %#"
                     PRIx64 " (icount %" PRIu64 ")", kvm_stop_name(st), pc, cpu->icount);
            return fail(s, err);
        }
    } else {
        s->stuck = 0;
        if (!x86_kvm_step_expected(p, cpu->rip)) {
            tn_error(&err, "KVM switch: the instruction at %#" PRIx64 " (opcode %#x, %u bytes) "
                     "ended at %#" PRIx64 " on KVM, where it cannot: an event was delivered "
                     "there that the step plan did not foresee, so the instruction count is "
                     "lost (icount %" PRIu64 ")", pc, p->in.op, p->in.len, cpu->rip,
                     cpu->icount);
            return fail(s, err);
        }
        if (!p->rep || moved) {
            cpu->icount++;
            cpu->brcount += p->cond;
            s->kvm_insns++;
        }
        cpu->inhibit_irq = false;
    }
    if (st == KVM_STOP_REQUEST) {
        if (!leave_kvm(s, &err))
            return fail(s, err);
        return CPU_EXIT_REQUEST;
    }
    return CPU_EXIT_BUDGET;
}

/* Up to n instructions with KVM stepping what it can. */
static CpuExit kvm_leg(X86Switch *s, uint64_t n)
{
    X86CPU *cpu = s->cpu;
    GError *err = NULL;
    uint64_t start = cpu->icount;
    CpuExit r = CPU_EXIT_BUDGET;
    while (cpu->icount - start < n) {
        if (s->m->exit_request) {
            r = CPU_EXIT_REQUEST;
            break;
        }
        X86StepPlan p;
        const char *why = cpu->halted ? "halted"
                        : irq_deliverable(cpu) ? "interrupt to deliver"
                        : x86_kvm_step_plan(cpu, &p);
        if (!why) {
            r = kvm_step(s, &p);
            if (r != CPU_EXIT_BUDGET)
                return r;
            continue;
        }
        note_reason(s, why);
        /* Handed back: the interpreter runs a few instructions (moving the
         * state costs far more than one instruction, and instructions KVM
         * cannot take come in clusters: a loop over a read-only page). */
        bool was_on_kvm = s->on_kvm;
        if (!leave_kvm(s, &err))
            return fail(s, err);
        uint64_t before = cpu->icount, left = n - (cpu->icount - start);
        uint64_t pc = cpu->rip, rcx = cpu->regs[X86_RCX];
        r = x86_cpu_ops.run(cpu, was_on_kvm || left < HANDBACK_RUN ? 1
                                 : HANDBACK_RUN);
        s->interp_insns += cpu->icount - before;
        if (r != CPU_EXIT_BUDGET)
            break;
        /* No progress at all, many times over: say where, do not spin. */
        if (cpu->icount == before && cpu->rip == pc && cpu->regs[X86_RCX] == rcx) {
            if (++s->stuck > 1000000) {
                tn_error(&err, "KVM switch: no progress at %#" PRIx64 " (icount %" PRIu64
                         "): the interpreter retires nothing there", pc, cpu->icount);
                return fail(s, err);
            }
        } else {
            s->stuck = 0;
        }
    }
    if (!leave_kvm(s, &err))
        return fail(s, err);
    return r;
}


/* Up to n instructions on the interpreter (replay with free runs: short
 * stretches between events, and what cannot run free, cost far less
 * there than single-stepped on KVM, each step a VM exit). */
static CpuExit interp_leg(X86Switch *s, uint64_t n)
{
    GError *err = NULL;
    if (!leave_kvm(s, &err))
        return fail(s, err);
    uint64_t before = s->cpu->icount;
    CpuExit r = x86_cpu_ops.run(s->cpu, n);
    s->interp_insns += s->cpu->icount - before;
    return r;
}

/* ---- replay: free runs landed on the log's events ----
 *
 * Between two events far enough apart, the guest runs free on KVM: no
 * single-stepping, no instruction count.  The run stops at the next event
 * (DESIGN.md "Hybrid replay", breakpoint landing):
 * - an event the guest's own device access consumes (a clock read the
 *   record logged as a checkpoint, the host clock, a block request, the
 *   end) is found by counting device accesses: the access hook sees the
 *   access the event's "mmio" names, and the event's position becomes the
 *   CPU's before the device model runs and rr/ checks it;
 * - any other event is found with a hardware breakpoint on its PC: at each
 *   hit the registers and the device accesses since the previous event
 *   must equal the log's, else the guest goes on past the breakpoint
 *   (RFLAGS.RF); a HLT exit is checked the same way (idle events).
 * There the log's icount and branch count become the CPU's.  Timers are
 * no obstacle: every timer that fired in the recording left a checkpoint
 * event, so none is due before the next event.  Interrupts a device access
 * raises are delivered by the interpreter right after that access, where
 * the recording's interpreter took them.  Anything else the free run meets
 * that the log does not foresee is reported as a divergence. */

#define LAND_MIN RR_KVM_FREE_RUN_MIN   /* closer events are interpreted to */
#define LAND_RECHECK 4096   /* steps before the free-run conditions are looked at again */
/* Breakpoint hits at the event's PC without a match before the free run
 * is declared diverged (a loop that passes it that often without ever
 * reaching the logged registers has gone elsewhere). */
#define LAND_MAX_HITS 1000000
/* Breakpoint hits on KVM before a free run goes on on the interpreter
 * (interp_land). */
#define INTERP_LAND_HITS 32

static CpuExit kvm_leg(X86Switch *s, uint64_t n);

/* The free-run conditions: flat code segment (the breakpoint is a linear
 * address), protected mode, the guest's own breakpoints off, and no
 * debugger or reverse-execution timeline (they stop at positions the log
 * does not name). */
static bool free_run_ok(const X86Switch *s)
{
    const X86CPU *cpu = s->cpu;
    return (cpu->hflags & X86_HF_PE) && !(cpu->hflags & X86_HF_VM) &&
           cpu->seg[X86_CS].base == 0 && !(cpu->dr[7] & 0xff) && !s->m->gdb &&
           !s->m->timeline;
}

/* The position of event e is now the CPU's: the counts of the free run. */
static void landed(X86Switch *s, const RrEvent *e)
{
    X86CPU *cpu = s->cpu;
    uint64_t interp = s->interp_insns - s->st_interp, stepped = s->kvm_insns - s->st_kvm;
    uint64_t ran = e->icount - s->st_icount;
    uint64_t free = ran > interp + stepped ? ran - interp - stepped : 0;
    s->free_insns += free;
    s->kvm_insns += free;
    cpu->icount = e->icount;
    cpu->brcount = e->brcount;
    if (s->ctr && s->on_kvm)
        s->ctr_at = kvm_counter_read(s->ctr);   /* counted on from here */
    s->st_icount = e->icount;
    s->st_interp = s->interp_insns;
    s->st_kvm = s->kvm_insns;
}

static bool regs_match(X86Switch *s, const RrEvent *e);
static int reg_diff(X86Switch *s, const RrEvent *e, uint64_t *now);

/* The guest's conditional branches so far: cpu->brcount, and while a free
 * run is on KVM what the PMU counter has seen there since (s->ctr). */
static uint64_t br_now(X86Switch *s)
{
    uint64_t n = s->cpu->brcount;
    if (s->ctr && s->on_kvm)
        n += kvm_counter_read(s->ctr) - s->ctr_at;
    return n;
}

/* Do the registers, the device accesses since the previous event and,
 * with the PMU counter, the branch count match e?  (Then RF, which KVM
 * may report at a breakpoint, goes as the log has it.) */
static bool at_event(X86Switch *s, const RrEvent *e)
{
    if (rr_event_lazy(e) || rr_accesses_since_event(s->m) != e->mmio || (s->ctr && br_now(s) != e->brcount) ||
        !regs_match(s, e))
        return false;
    s->ctr_checks += s->ctr != NULL;
    if (!(e->regs[17] & X86_RF))
        x86_set_eflags(s->cpu, x86_eflags(s->cpu) & ~(uint64_t)X86_RF, ~0ull);
    return true;
}

/* The first register (RF aside: KVM may report it at a breakpoint) that
 * differs from e's, its value into now[]; -1: none; RR_MAX_REGS: the
 * count differs. */
static int reg_diff(X86Switch *s, const RrEvent *e, uint64_t *now)
{
    unsigned n = x86_cpu_ops.regs(s->cpu, now);
    if (n != e->nregs)
        return RR_MAX_REGS;
    for (unsigned i = 0; i < n; i++) {
        uint64_t mask = i == 17 ? ~(uint64_t)X86_RF : ~0ull;
        if ((now[i] & mask) != (e->regs[i] & mask))
            return (int)i;
    }
    return -1;
}

/* The registers (RF aside) equal e's? */
static bool regs_match(X86Switch *s, const RrEvent *e)
{
    uint64_t now[RR_MAX_REGS];
    return reg_diff(s, e, now) < 0;
}

/* kvm_set_access_hook: before a device access of the free run, counting
 * n (a split one more).  More accesses than the next event allows, or
 * other registers at the access that consumes it, is a divergence: the
 * access is not made (the caller falls back). */
static bool land_access(void *opaque, bool mmio_write, unsigned n)
{
    X86Switch *s = opaque;
    Machine *m = s->m;
    if (s->diverged)
        return false;
    const RrEvent *e = rr_peek_event(m);
    /* Lazy timers the recording fired before this access, nothing seeing
     * when: they fire now, at the virtual time they did there (the CPU's
     * icount stands in for it until the next landing sets it). */
    while (e && rr_event_lazy(e) && rr_accesses_since_event(m) == e->mmio) {
        s->cpu->icount = e->icount;
        if (rr_fire_lazy(m) < 0)
            return false;
        s->lazy_fired++;
        s->lazy_total++;
        e = rr_peek_event(m);
    }
    if (!e)
        return true;
    uint64_t acc = rr_accesses_since_event(m) + 1, last = acc + n - 1;
    if (last > e->mmio || (n > 1 && rr_event_in_access(e) && e->mmio > acc)) {
        s->diverged = g_strdup_printf("at device access %" PRIu64 " since the previous event, "
                                      "where the log has %" PRIu64 " before the next%s",
                                      last, e->mmio, n > 1 ? " (a split access)" : "");
        return false;
    }
    if (!rr_event_in_access(e) || acc != e->mmio)
        return true;
    GError *err = NULL;
    if (!kvm_peek_regs(s->v, s->cpu, &err)) {
        machine_set_error(m, "%s", err->message);
        g_error_free(err);
        return false;
    }
    /* Before an MMIO write KVM has run the rest of the instruction and
     * moved RIP past it; the log has the position the access starts at. */
    X86CPU *cpu = s->cpu;
    if (mmio_write && cpu->rip > e->regs[0] && cpu->rip - e->regs[0] <= 15)
        cpu->rip = e->regs[0];
    /* (The end's position is after its instruction: rr_finish checks it.) */
    if (e->kind != RR_EV_END && !regs_match(s, e)) {
        s->diverged = g_strdup_printf("at the device access of the event: other registers "
                                      "(pc %#" PRIx64 ", the log has %#" PRIx64 ")",
                                      cpu->rip, e->regs[0]);
        return false;
    }
    if (s->ctr && e->kind != RR_EV_END) {
        uint64_t br = br_now(s);
        if (br != e->brcount) {
            s->diverged = g_strdup_printf("at the device access of the event: %" PRIu64
                                          " conditional branches, where the log has %" PRIu64,
                                          br, e->brcount);
            return false;
        }
        s->ctr_checks++;
    }
    landed(s, e);
    s->land_accesses++;
    /* The log puts these before the accessing instruction retires, which
     * it does when KVM completes the exit; the end, after it. */
    s->retire_pending = e->kind != RR_EV_END;
    return true;
}

/* The breakpoint of a free run: a debug register, or, where those do not
 * fire (kvm_hw_breakpoints_work: QEMU TCG's nested SVM, which also never
 * reports an INT3 to KVM), a HLT written into the byte KVM maps at the
 * event's PC, put there only while the guest runs on KVM: HLT exits to
 * us with RIP past it, and the byte and RIP are put back.  HLT faults
 * outside ring 0, so the patch is only used on a supervisor-only page
 * (code there never runs in user mode). */
typedef struct FreeBp {
    uint64_t lin;           /* the event's PC (CS base 0) */
    uint8_t *byte;          /* INT3: the patched byte, NULL when not in place */
    uint8_t saved;
    uint64_t pa;
    bool none;              /* no breakpoint needed */
    /* Not in place yet: the PMU counter stops the run first, its skid
     * short of the event's branch count (bp_counted). */
    bool deferred;
    uint64_t brcount;       /* the event's */
    bool lazy;              /* a lazy timer checkpoint: the next access fires it */
    bool fast_step;         /* its instruction can be stepped on KVM as it is */
    X86StepPlan plan;       /* ... and ends at one of these */
} FreeBp;

static void bp_remove(FreeBp *b)
{
    if (b->byte) {
        *b->byte = b->saved;
        b->byte = NULL;
    }
}

static bool patch(X86Switch *s, FreeBp *b, GError **err);

/* With the PMU counter: the overflow that stops the free run, armed from
 * the branch count now (pmu_overflow_after: short of a breakpoint event,
 * the breakpoint deferred until then; past an access event). */
static bool ctr_arm(X86Switch *s, FreeBp *b, GError **err)
{
    /* (Lazy timers fire at the next access, some branches past theirs.) */
    uint64_t n = b->lazy ? 0 : pmu_overflow_after(s->cpu->brcount, b->brcount, s->skid, b->none,
                                                  &b->deferred);
    return kvm_counter_arm(s->ctr, n, err);
}

static bool on_kvm_free(X86Switch *s, FreeBp *b, GError **err)
{
    if (!s->on_kvm) {
        if (!kvm_put_state(s->v, s->cpu, err))
            return false;
        s->free_leg = true;
        if (s->ctr) {
            if (!ctr_arm(s, b, err))
                return false;
            s->ctr_at = kvm_counter_read(s->ctr);
        }
        s->on_kvm = true;
        s->kvm_legs++;
    }
    kvm_set_access_hook(s->v, land_access, s, true);
    /* (Single-stepping, from the last leg, off.) */
    if (b->none || b->deferred || s->patch_hlt)
        return kvm_set_guest_debug(s->v, false, NULL, 0, err) &&
               (b->none || b->deferred || patch(s, b, err));
    return kvm_set_guest_debug(s->v, false, &b->lin, 1, err);
}

/* The counter's overflow stopped the free run (KVM_STOP_KICK): the
 * deferred breakpoint goes in place now, on KVM. */
static bool bp_counted(X86Switch *s, FreeBp *b, GError **err)
{
    b->deferred = false;
    s->ctr_overflows++;
    if (!kvm_counter_arm(s->ctr, 0, err))
        return false;
    if (s->patch_hlt)
        return patch(s, b, err);
    return kvm_set_guest_debug(s->v, false, &b->lin, 1, err);
}

static bool patch(X86Switch *s, FreeBp *b, GError **err)
{
    uint8_t *p = kvm_guest_ram_ptr(s->v, b->pa);
    if (!p) {
        tn_error(err, "KVM replay: no memory at %#" PRIx64 " for the breakpoint at pc %#"
                 PRIx64, b->pa, b->lin);
        return false;
    }
    b->saved = *p;
    *p = 0xf4;
    b->byte = p;
    return true;
}

/* A HLT breakpoint that was not the landing, its instruction one that
 * cannot fault or deliver anything (x86_kvm_step_always_safe): single-step
 * it on KVM, check where it ended, and put the HLT back. */
static bool step_past_patch(X86Switch *s, FreeBp *b, GError **err)
{
    X86CPU *cpu = s->cpu;
    if (!kvm_set_guest_debug(s->v, true, NULL, 0, err))
        return false;
    KvmStop st = kvm_run(s->v, err);
    if (st == KVM_STOP_ERROR || !kvm_get_regs(s->v, cpu, err))
        return false;
    if (st != KVM_STOP_DEBUG || !x86_kvm_step_expected(&b->plan, cpu->rip)) {
        tn_error(err, "KVM replay: stepping over the breakpoint at %#" PRIx64 " stopped (%s) "
                 "at %#" PRIx64 ", where the instruction cannot end", b->lin,
                 kvm_stop_name(st), cpu->rip);
        return false;
    }
    s->land_steps++;
    return kvm_set_guest_debug(s->v, false, NULL, 0, err) && patch(s, b, err);
}

/* Off KVM inside a free run: the breakpoint out of the guest's memory
 * first (the interpreter must not see it). */
static bool off_kvm_free(X86Switch *s, FreeBp *b, GError **err)
{
    bp_remove(b);
    if (s->ctr && s->on_kvm)
        s->cpu->brcount = br_now(s);
    if (s->on_kvm && !s->patch_hlt && !b->none && !kvm_set_guest_debug(s->v, false, NULL, 0, err))
        return false;
    return leave_kvm(s, err);
}

/* Where the free run cannot start (a HLT breakpoint on a PC that does not
 * translate, or on a page user code may run): false. */
static bool free_bp_init(X86Switch *s, const RrEvent *e, FreeBp *b)
{
    memset(b, 0, sizeof(*b));
    b->lin = e->regs[0];
    b->brcount = e->brcount;
    b->lazy = rr_event_lazy(e);
    b->none = rr_event_in_access(e) || b->lazy;   /* found by counting accesses */
    if (!s->patch_hlt || b->none)
        return true;
    X86CPU *cpu = s->cpu;
    uint64_t pa;
    if (x86_kvm_step_always_safe(cpu, b->lin)) {
        uint64_t saved = cpu->rip;
        cpu->rip = b->lin;
        b->fast_step = !x86_kvm_step_plan(cpu, &b->plan);
        cpu->rip = saved;
    }
    /* (Not without paging, even where only ring 0 runs: firmware copies
     * its own code about, SeaBIOS to high memory, and a copy made while
     * the HLT is in place runs it later.) */
    return (cpu->cr0 & X86_CR0_PG) &&
           !x86_translate_probe(cpu, b->lin, X86_ACC_EXEC, false, &b->pa) &&
           x86_translate_probe(cpu, b->lin, X86_ACC_EXEC, true, &pa);
}

static bool off_kvm_free(X86Switch *s, FreeBp *b, GError **err);

/* Stopped where the event may be: 1 if it is (then off KVM, the log's
 * counts the CPU's), 0 if not, -1 on error. */
static int land_if_at(X86Switch *s, FreeBp *bp, const RrEvent *ev, GError **err)
{
    if (!at_event(s, ev))
        return 0;
    if (!off_kvm_free(s, bp, err))
        return -1;
    landed(s, ev);
    return 1;
}

/* ---- falling back ---- */

#define SNAP_NS 1000000000LL  /* host time between snapshots of free runs */
#define SNAP_COST_RATIO 20    /* ... at least this many times what one takes */
/* Events interpreted past the one where rr found a divergence after a
 * fall-back (fall_back_rr). */
#define RR_STEP_EVENTS 2000

/* The machine where a free run starts, into *p. */
static bool snap_take(X86Switch *s, Snap *p, GError **err)
{
    Machine *m = s->m;
    size_t len;
    int64_t t0 = vclock_host_ns();
    uint8_t *st = checkpoint_save_state(m, &len, err);
    if (!st)
        return false;
    g_free(p->st);
    p->st = st;
    p->len = len;
    bool fresh = false;
    for (int i = 0; i < AS_MAX_REGIONS; i++) {
        const MemRegion *r = i < m->as.nregions ? &m->as.regions[i] : NULL;
        uint64_t size = r && r->host ? r->size : 0;
        if (p->size[i] != size) {
            g_free(p->ram[i]);
            p->ram[i] = size ? g_malloc(size) : NULL;
            p->size[i] = size;
            fresh = true;
        }
        if (size)
            memcpy(p->ram[i], r->host, size);
    }
    for (int i = 0; i < m->nserial; i++)
        p->out[i] = chardev_output_count(m->serial[i]);
    p->events = rr_events_done(m);
    p->checks = s->mem_checks;
    s->snap_host_ns = p->host_ns = vclock_host_ns();
    /* What the next ones cost: not a first copy, which also faults in
     * its buffer's pages (several times the copy in the harness, where
     * it spaced the snapshots of a Linux boot a minute apart and the
     * first divergence went back to the start). */
    if (!fresh || !s->snap_cost_ns)
        s->snap_cost_ns = fresh ? 0 : s->snap_host_ns - t0;
    s->snaps++;
    s->snap_total_ns += s->snap_host_ns - t0;
    return true;
}

static void snap_drop(Snap *p)
{
    g_free(p->st);
    p->st = NULL;
}

static void snap_free(X86Switch *s)
{
    Snap *both[2] = { &s->good, &s->latest };
    for (int k = 0; k < 2; k++) {
        snap_drop(both[k]);
        for (int i = 0; i < AS_MAX_REGIONS; i++)
            g_free(both[k]->ram[i]);
    }
    g_free(s->diverged);
}

/* The snapshot a divergence goes back to: the newest, but `good` where the
 * replay already went back to `latest` for this stretch; NULL: none. */
static Snap *snap_pick(X86Switch *s, bool again)
{
    if (again)
        return s->restored == &s->latest && s->good.st ? &s->good : NULL;
    if (s->latest.st && (!s->good.st || s->latest.events >= s->good.events))
        return &s->latest;
    return s->good.st ? &s->good : NULL;
}

static CpuExit snap_restore(X86Switch *s, Snap *p, uint64_t events);

/* A free run towards event `events` (ev) went elsewhere (why): back to
 * the snapshot, with a warning, to interpret through that event. */
static CpuExit fall_back(X86Switch *s, uint64_t events, const RrEvent *ev, const char *why)
{
    GError *err = NULL;
    Snap *p = snap_pick(s, false);
    if (!p) {
        tn_error(&err, "KVM replay diverged %s running free towards event %" PRIu64 " (%s at "
                 "icount %" PRIu64 ", pc %#" PRIx64 "), with no snapshot to go back to", why,
                 events, rr_event_name(ev->kind), ev->icount, ev->regs[0]);
        return fail(s, err);
    }
    fprintf(stderr, "tandem: warning: KVM replay diverged %s running free towards event %"
            PRIu64 " (%s at icount %" PRIu64 ", pc %#" PRIx64 "); replaying again from event %"
            PRIu64 ", on the interpreter through it\n", why, events, rr_event_name(ev->kind),
            ev->icount, ev->regs[0], p->events);
    return snap_restore(s, p, events);
}

/* rr's checks found the run off the recording's (sw_diverged): a free run
 * since the snapshot landed on a pass of the event's pc with the right
 * registers but other memory (a loop that keeps its state there). */
static CpuExit fall_back_rr(X86Switch *s)
{
    char *why = s->rr_diverged;
    s->rr_diverged = NULL;
    s->m->exit_request = 0;
    bool again = rr_events_done(s->m) < s->step_until;
    Snap *p = snap_pick(s, again);
    if (!p) {
        machine_set_error(s->m, "%s", why);
        g_free(why);
        return CPU_EXIT_ERROR;
    }
    /* One line: the message's first two (the register that differs), not
     * its register dump. */
    char *nl = strchr(why, '\n');
    if (nl && (nl = strchr(nl + 1, '\n')))
        *nl = '\0';
    for (char *c = why; *c; c++)
        if (*c == '\n')
            *c = ' ';
    fprintf(stderr, "tandem: warning: KVM replay diverged after free runs (found on the "
            "interpreter: %s); replaying again from event %" PRIu64 ", on the interpreter "
            "through event %" PRIu64 "%s\n", g_strstrip(why), p->events,
            s->rr_at + RR_STEP_EVENTS,
            again ? " (from an older snapshot: the newer one diverged too)" : "");
    g_free(why);
    CpuExit r = snap_restore(s, p, s->rr_at);
    /* A loop that made one free run land on the wrong pass makes the next
     * ones too: the interpreter goes on a while past it. */
    s->step_until += RR_STEP_EVENTS;
    return r;
}

/* rr found the run off the recording's: take it (the stretch is replayed
 * again from the snapshot) unless the interpreter itself went there from
 * the snapshot, or there is none. */
static bool sw_diverged(void *opaque, const char *why)
{
    X86Switch *s = opaque;
    if (s->rr_diverged)
        return true;            /* (what follows the first is moot) */
    if (!snap_pick(s, rr_events_done(s->m) < s->step_until))
        return false;
    s->rr_diverged = g_strdup(why);
    s->rr_at = rr_events_done(s->m);
    /* Found by the main loop (a timer checkpoint), outside the CPU: now,
     * before it looks at the same event again. */
    if (!s->in_run)
        fall_back_rr(s);
    return true;
}

/* Back to snapshot p, to interpret through event `events`. */
static CpuExit snap_restore(X86Switch *s, Snap *p, uint64_t events)
{
    Machine *m = s->m;
    GError *err = NULL;
    /* Whatever exit is pending completes first (it may write RAM). */
    if (s->on_kvm && !kvm_get_regs(s->v, s->cpu, &err))
        return fail(s, err);
    s->on_kvm = false;
    uint64_t icount = s->cpu->icount;
    for (int i = 0; i < m->as.nregions; i++) {
        const MemRegion *r = &m->as.regions[i];
        if (r->host && p->ram[i] && p->size[i] == r->size)
            memcpy(r->host, p->ram[i], r->size);
    }
    if (!checkpoint_load_state(m, p->st, p->len, &err))
        return fail(s, err);
    for (int i = 0; i < m->nserial; i++)
        chardev_output_rewind(m->serial[i], p->out[i]);
    if (p == &s->good && s->latest.st && s->latest.events > p->events)
        snap_drop(&s->latest);          /* (after this stretch, not before) */
    s->restored = p;
    s->step_until = events + 1;
    s->fallbacks++;
    s->snap_soon = true;
    if (icount > s->cpu->icount)
        s->redo_insns += icount - s->cpu->icount;
    /* Memory is known good where `good` was taken; from `latest`, no more
     * than it was there.  A check that passed before the divergence was
     * found is about the memory just replaced: land_run must not take it
     * for one since the restore. */
    s->unchecked = p != &s->good;
    s->mem_checks = rr_mem_checks(m);
    return CPU_EXIT_BUDGET;
}


/* A breakpoint hit that did not match: why the free run has diverged, or
 * NULL to go on past it.  The instruction of a TSC event is the RDTSC the
 * recording logged: the guest cannot run it again without an event. */
static char *no_landing(X86Switch *s, uint64_t hits0, const RrEvent *ev)
{
    if (s->ctr && br_now(s) > ev->brcount)
        return g_strdup_printf("(%" PRIu64 " conditional branches at the event's pc, past the "
                               "log's %" PRIu64 ")", br_now(s), ev->brcount);
    if (ev->kind == RR_EV_TSC) {
        /* Which register: the first that differs. */
        uint64_t now[RR_MAX_REGS];
        int i = reg_diff(s, ev, now);
        if (i >= 0 && i < RR_MAX_REGS)
            return g_strdup_printf("(at the RDTSC of the event with other registers: %s "
                                   "%#" PRIx64 ", the log has %#" PRIx64 ")",
                                   x86_cpu_ops.reg_names[i], now[i], ev->regs[i]);
        if (rr_accesses_since_event(s->m) != ev->mmio)
            return g_strdup_printf("(at the RDTSC of the event after %" PRIu64 " device "
                                   "accesses, where the log has %" PRIu64 ")",
                                   rr_accesses_since_event(s->m), ev->mmio);
        return g_strdup("(at the RDTSC of the event with other registers)");
    }
    if (s->land_hits - hits0 > LAND_MAX_HITS)
        return g_strdup_printf("(no match after %d breakpoint hits)", LAND_MAX_HITS);
    return NULL;
}

/* A free run whose breakpoint keeps being passed without a match (a timer
 * event inside a hot loop, found without a PMU) costs a VM exit per loop
 * iteration; the interpreter runs such a loop far faster.  From the
 * breakpoint hit where the free run stands, the interpreter runs on with
 * the same breakpoint (a CpuDebug of its own, vmm/debug.h) and the same
 * check at each arrival there.  Returns 1 landed (the log's counts the
 * CPU's), 0 diverged (*why set), 2 a quit signal came, -1 an error. */
static int interp_land(X86Switch *s, FreeBp *bp, const RrEvent *ev, uint64_t hits0, char **why,
                       GError **err)
{
    X86CPU *cpu = s->cpu;
    Machine *m = s->m;
    if (!off_kvm_free(s, bp, err))
        return -1;
    CpuDebug d;
    memset(&d, 0, sizeof(d));
    d.bp[0] = bp->lin;
    d.nbp = 1;
    d.resume_icount = cpu->icount;      /* (the instruction here runs first) */
    d.resume_pc = cpu->rip;
    x86_debug_ops.set_debug(cpu, &d);
    s->interp_lands++;
    int r = 0;
    for (;;) {
        if (machine_quit_signal()) {
            r = 2;
            break;
        }
        CpuExit x = interp_leg(s, 1u << 20);
        if (s->rr_diverged) {
            r = 2;              /* (land_run goes back to the snapshot) */
            break;
        }
        if (m->error) {
            r = -1;
            tn_error(err, "%s", m->error);
            break;
        }
        if (rr_accesses_since_event(m) > ev->mmio) {
            *why = g_strdup_printf("(%" PRIu64 " device accesses on the interpreter, where the "
                                   "log has %" PRIu64 " before the event)",
                                   rr_accesses_since_event(m), ev->mmio);
            break;
        }
        if (x == CPU_EXIT_DEBUG && d.hit == DEBUG_HIT_BREAK) {
            d.hit = DEBUG_HIT_NONE;
            s->land_hits++;
            s->interp_hits++;
            if (at_event(s, ev)) {
                r = 1;
                break;
            }
            if ((*why = no_landing(s, hits0, ev)))
                break;
            d.resume_icount = cpu->icount;
            d.resume_pc = cpu->rip;
            continue;
        }
        if (x == CPU_EXIT_BUDGET || x == CPU_EXIT_REQUEST) {
            m->exit_request = 0;        /* (a timer armed: the log has its firing) */
            continue;
        }
        *why = g_strdup_printf("(the guest %s at pc %#" PRIx64 " on the interpreter, before "
                               "the event)", x == CPU_EXIT_IDLE ? "halted" : "stopped",
                               cpu->rip);
        break;
    }
    x86_debug_ops.set_debug(cpu, NULL);
    if (r == 1)
        landed(s, ev);
    return r;
}

/* The event a free run goes to, in the switch's own whole RrEvent:
 * consuming it (an access) recycles rr's slot. */
static RrEvent *hold_event(X86Switch *s, const RrEvent *e)
{
    if (!s->ev)
        s->ev = g_new(RrEvent, 1);
    memcpy(s->ev, e, offsetof(RrEvent, data) + e->len);
    return s->ev;
}

static CpuExit free_run(X86Switch *s, const RrEvent *e)
{
    X86CPU *cpu = s->cpu;
    Machine *m = s->m;
    GError *err = NULL;
    FreeBp bp;
    if (!free_bp_init(s, e, &bp)) {
        /* Interpreted a while, never past the event. */
        uint64_t dist = e->icount - cpu->icount;
        return interp_leg(s, dist < LAND_RECHECK ? dist : LAND_RECHECK);
    }
    uint64_t events = rr_events_done(m);
    const RrEvent *ev = hold_event(s, e);
    CpuExit ret = CPU_EXIT_BUDGET;
    char *why = NULL;
    int hit = 0;
    uint64_t hits0 = s->land_hits;
    s->free_runs++;
    s->st_icount = cpu->icount;
    s->st_interp = s->interp_insns;
    s->st_kvm = s->kvm_insns;
    for (;;) {
        if (machine_quit_signal()) {
            /* Ended from outside (SIGINT): where the run is stays unknown. */
            ret = CPU_EXIT_REQUEST;
            break;
        }
        if (!s->on_kvm && irq_deliverable(cpu)) {
            CpuExit r = interp_leg(s, 1);
            if (r != CPU_EXIT_BUDGET && r != CPU_EXIT_IDLE) {
                ret = r;
                break;
            }
            if (m->error || s->rr_diverged || rr_events_done(m) != events)
                break;
            continue;
        }
        if (!s->on_kvm && !on_kvm_free(s, &bp, &err))
            goto fail;
        /* An interrupt line up that IF masks: the run stops where the
         * guest unmasks it (STI, POPF, IRET), for the interpreter to
         * deliver it there, as the recording's did. */
        kvm_request_irq_window(s->v, cpu->intr && !irq_deliverable(cpu));
        KvmStop st = kvm_run(s->v, &err);
        kvm_request_irq_window(s->v, false);
        if (st == KVM_STOP_ERROR)
            goto fail;
        if (s->diverged) {
            why = s->diverged;
            s->diverged = NULL;
            goto diverge;
        }
        if (s->rr_diverged)
            goto diverge;           /* (why NULL: rr's message) */
        if (st == KVM_STOP_SHUTDOWN) {
            why = g_strdup("(a triple fault)");
            goto diverge;
        }
        if (s->retire_pending) {
            cpu->icount++;      /* the access's instruction, completed */
            s->retire_pending = false;
        }
        if (m->error) {
            ret = CPU_EXIT_ERROR;
            break;
        }
        if (s->lazy_fired) {
            /* Only lazy timers so far: on towards the event after them. */
            events += s->lazy_fired;
            s->lazy_fired = 0;
            const RrEvent *n = rr_peek_event(m);
            if (rr_events_done(m) == events && n) {
                ev = hold_event(s, n);
                if (!off_kvm_free(s, &bp, &err))
                    goto fail;
                if (!free_bp_init(s, ev, &bp)) {
                    why = g_strdup("(no breakpoint can be put at the event after lazy timers)");
                    goto diverge;
                }
                hits0 = s->land_hits;
            }
        }
        if (rr_events_done(m) != events)
            break;              /* an access consumed the event */
        if (m->shutdown_requested || m->reset_requested) {
            if (!off_kvm_free(s, &bp, &err))
                goto fail;
            if (ev->kind == RR_EV_END && rr_accesses_since_event(m) == ev->mmio) {
                landed(s, ev);
            } else if (m->reset_requested) {
                /* No event marks where: the count the reset happens at is
                 * unknown, and the rest of the replay would be off. */
                tn_error(&err, "KVM replay: the guest reset the machine at pc %#" PRIx64
                         " during a free run, where the log has no position (replay with "
                         "-accel kvm,landing=step)", cpu->rip);
                goto fail;
            }
            ret = CPU_EXIT_REQUEST;
            break;
        }
        bool step_over = false;
        switch (st) {
        case KVM_STOP_DEBUG: {
            const KvmDebugExit *d = kvm_debug_exit(s->v);
            if (s->patch_hlt || d->exception != 1 || !(d->dr6 & 1)) {
                tn_error(&err, "KVM replay: unexpected debug exit (vector %u, DR6 %#" PRIx64
                         ") running free towards event %" PRIu64 " (%s at icount %" PRIu64 ")",
                         d->exception, d->dr6, events, rr_event_name(ev->kind), ev->icount);
                goto fail;
            }
            if (!kvm_get_regs(s->v, cpu, &err))
                goto fail;
            s->land_hits++;
            if ((hit = land_if_at(s, &bp, ev, &err)) != 0)
                goto landed_or_failed;
            if ((why = no_landing(s, hits0, ev)))
                goto diverge;
            if (s->land_hits - hits0 >= INTERP_LAND_HITS)
                goto interp;
            if (!kvm_resume_past_breakpoint(s->v, &err))
                goto fail;
            continue;
        }
        case KVM_STOP_HLT:
            if (!kvm_get_regs(s->v, cpu, &err))
                goto fail;
            if (bp.byte && cpu->rip == bp.lin + 1) {
                /* The HLT breakpoint: back to before it. */
                bp_remove(&bp);
                cpu->rip = bp.lin;
                if (!kvm_unhalt_at(s->v, bp.lin, &err))
                    goto fail;
                s->land_hits++;
                if ((hit = land_if_at(s, &bp, ev, &err)) != 0)
                    goto landed_or_failed;
                if ((why = no_landing(s, hits0, ev)))
                    goto diverge;
                if (s->land_hits - hits0 >= INTERP_LAND_HITS)
                    goto interp;
                if (bp.fast_step) {
                    /* Step it on KVM as it stands, then back in place. */
                    if (!step_past_patch(s, &bp, &err))
                        goto fail;
                    continue;
                }
                if (!off_kvm_free(s, &bp, &err))
                    goto fail;
                step_over = true;
                break;
            }
            if ((hit = land_if_at(s, &bp, ev, &err)) != 0) {
                s->land_halts++;
                ret = CPU_EXIT_IDLE;
                goto landed_or_failed;
            }
            if (!irq_deliverable(cpu)) {
                why = g_strdup_printf("(the guest halted at pc %#" PRIx64 " with no interrupt "
                                      "to wake it)", cpu->rip);
                goto diverge;
            }
            if (!off_kvm_free(s, &bp, &err))
                goto fail;
            break;              /* the interpreter wakes it (below) */
        case KVM_STOP_REQUEST:
            m->exit_request = 0;        /* a timer armed: the log has its firing */
            /* fall through */
        case KVM_STOP_ACCESS:
        case KVM_STOP_KICK:
        case KVM_STOP_IRQ_WINDOW:
            if (s->ctr && kvm_counter_fired(s->ctr)) {
                if (bp.none) {
                    why = g_strdup_printf("(%" PRIu64 " conditional branches and not yet the "
                                          "device access of the event, where the log has %"
                                          PRIu64 ")", br_now(s), ev->brcount);
                    goto diverge;
                }
                if (bp.deferred && !bp_counted(s, &bp, &err))
                    goto fail;
            }
            if (!cpu->intr && !cpu->nmi_pending)
                continue;
            if (!off_kvm_free(s, &bp, &err))
                goto fail;
            break;
        default:
            tn_error(&err, "KVM replay: KVM stopped (%s) at pc %#" PRIx64 " running free "
                     "towards event %" PRIu64 " (%s at icount %" PRIu64 ")", kvm_stop_name(st),
                     cpu->rip, events, rr_event_name(ev->kind), ev->icount);
            goto fail;
        }
        /* Off KVM: past the INT3 breakpoint by one instruction, or an
         * interrupt line up, which the interpreter delivers where the
         * recording's did, at this instruction boundary. */
        CpuExit r = CPU_EXIT_BUDGET;
        /* A device's request to leave the run loop (a timer armed) means
         * nothing here: the log has the firing.  Shutdown, reset and
         * errors were handled above. */
        m->exit_request = 0;
        if (step_over) {
            r = kvm_leg(s, 1);
        } else if (irq_deliverable(cpu) || cpu->halted) {
            r = interp_leg(s, 1);
        }
        if (r != CPU_EXIT_BUDGET && r != CPU_EXIT_IDLE) {
            ret = r;
            break;
        }
        if (m->error || s->rr_diverged || rr_events_done(m) != events)
            break;
    }
landed_or_failed:
    if (hit < 0)
        goto fail;
    if (s->ctr && !kvm_counter_arm(s->ctr, 0, &err))
        goto fail;
    if (!off_kvm_free(s, &bp, &err))
        return fail(s, err);
    kvm_set_access_hook(s->v, NULL, NULL, false);
    return ret;
fail:
    bp_remove(&bp);
    if (s->ctr)
        kvm_counter_arm(s->ctr, 0, NULL);
    kvm_set_access_hook(s->v, NULL, NULL, false);
    return fail(s, err);
diverge:
    bp_remove(&bp);
    if (s->ctr && !kvm_counter_arm(s->ctr, 0, &err)) {
        g_free(why);
        goto fail;
    }
    kvm_set_access_hook(s->v, NULL, NULL, false);
    ret = why ? fall_back(s, events, ev, why) : fall_back_rr(s);
    g_free(why);
    return ret;
interp:
    hit = interp_land(s, &bp, ev, hits0, &why, &err);
    if (hit == 0)
        goto diverge;
    if (hit == 2) {
        hit = 0;
        ret = CPU_EXIT_REQUEST;
    }
    goto landed_or_failed;
}

/* sw_run for a replay with breakpoint landing. */
static void report(const X86Switch *s);

static CpuExit land_run(X86Switch *s, uint64_t max)
{
    X86CPU *cpu = s->cpu;
    if (s->progress_ns && vclock_host_ns() >= s->next_progress) {
        s->next_progress = vclock_host_ns() + s->progress_ns;
        fprintf(stderr, "tandem: KVM replay progress: %" PRIu64 " events, icount %" PRIu64
                ", %" PRIu64 " lazy events fired\n", rr_events_done(s->m), cpu->icount,
                s->lazy_total);
        report(s);
    }
    Machine *m = s->m;
    if (s->rr_diverged)
        return fall_back_rr(s);
    uint64_t checks = rr_mem_checks(m);
    if (checks != s->mem_checks) {
        s->mem_checks = checks;
        s->unchecked = false;   /* memory as the recording's, interpreted since */
    }
    /* An interrupt to take (a timer just fired) or a halted CPU: the
     * interpreter, as the recording did, before anything runs on KVM. */
    if (irq_deliverable(cpu) || cpu->halted)
        return interp_leg(s, 1);
    const RrEvent *e = rr_peek_event(m);
    uint64_t dist = e && e->icount > cpu->icount ? e->icount - cpu->icount : 0;
    bool stepping = rr_events_done(m) < s->step_until;     /* after a fall-back */
    /* Without a branch count, an asynchronous event's breakpoint may match
     * at an earlier pass of its pc with the same registers (a loop that
     * keeps its state in memory): near ones are interpreted to. */
    bool exact = e && (dist < LAND_MIN || (!s->ctr && rr_event_async(e) &&
                                            dist < RR_KVM_ASYNC_FREE_RUN_MIN));
    if (!e || exact || !free_run_ok(s) || stepping) {
        /* The interpreter, exactly: up to an event the main loop
         * delivers, or through the instruction that consumes a
         * synchronous one; where only the conditions forbid a free run, a
         * little at a time, to look again soon (a boot leaving real
         * mode). */
        uint64_t n = e ? (dist ? dist : 1) : max;
        if (e && !exact && n > LAND_RECHECK)
            n = LAND_RECHECK;
        return interp_leg(s, n < max ? n : max);
    }
    /* -rr-perturb inside this free run: flip the bit where it starts (the
     * snapshot before it, so the fall-back has the good state). */
    const Options *o = m->opts;
    bool perturb = o->perturb_reg >= 0 && !m->perturbed && o->perturb_icount > cpu->icount &&
                   o->perturb_icount < e->icount;
    /* (Copying the RAM takes a while on a slow host: then less often.) */
    int64_t every = SNAP_NS > SNAP_COST_RATIO * s->snap_cost_ns ? SNAP_NS
                                                                : SNAP_COST_RATIO * s->snap_cost_ns;
    /* With memory checks: into `good` where the last one passed and only
     * the interpreter ran since (so memory is known good), else into
     * `latest`, which a free run that went elsewhere unseen may be in. */
    bool good = !s->unchecked && rr_log_mem_checked(m);
    /* A memory check passed since `good` was taken, and nothing ran on KVM
     * since: the new `good` is where a divergence that rr finds late (a
     * failed check) goes back to, instead of an old one. */
    int64_t now = vclock_host_ns();
    bool newer_good = good && (!s->good.st || (s->good.checks != s->mem_checks &&
                                                now - s->good.host_ns >= every));
    if ((!s->good.st && !s->latest.st) || perturb || s->snap_soon || newer_good ||
        now - s->snap_host_ns >= every) {
        GError *err = NULL;
        if (!snap_take(s, good ? &s->good : &s->latest, &err))
            return fail(s, err);
        if (good)
            snap_drop(&s->latest);
        s->snap_soon = false;
        e = rr_peek_event(m);
    }
    s->unchecked = true;
    if (perturb) {
        char where[96];
        snprintf(where, sizeof(where), "at icount %" PRIu64 " (KVM replay: where the free run "
                 "through icount %" PRIu64 " starts)", cpu->icount, o->perturb_icount);
        machine_perturb(m, where);
        if (m->error)
            return CPU_EXIT_ERROR;
    }
    return free_run(s, e);
}

static CpuExit sw_run(void *opaque, uint64_t max)
{
    X86Switch *s = opaque;
    if (s->land) {
        s->in_run = true;
        CpuExit r = land_run(s, max);
        s->in_run = false;
        /* (The last check may come after the last land_run: rr is gone
         * when the switch reports.) */
        s->checks_seen = rr_mem_checks(s->m);
        return r;
    }
    X86CPU *cpu = s->cpu;
    uint64_t end = cpu->icount + max;
    while (cpu->icount < end) {
        uint64_t n = end - cpu->icount;
        if (n > s->leg_left)
            n = s->leg_left;
        uint64_t before = cpu->icount;
        CpuExit r;
        if (s->kvm_phase) {
            r = kvm_leg(s, n);
        } else {
            r = x86_cpu_ops.run(cpu, n);
            s->interp_insns += cpu->icount - before;
        }
        uint64_t did = cpu->icount - before;
        s->leg_left -= did < s->leg_left ? did : s->leg_left;
        if (s->leg_left == 0 && s->all_kvm) {
            s->leg_left = UINT64_MAX;
        } else if (s->leg_left == 0) {
            s->kvm_phase = !s->kvm_phase;
            s->leg_left = draw_leg(s, s->kvm_phase ? s->kvm_max : s->max);
            if (!s->kvm_phase)
                s->interp_legs++;
        }
        if (r != CPU_EXIT_BUDGET)
            return r;
    }
    return CPU_EXIT_BUDGET;
}

static void sw_reset(void *o) { x86_cpu_ops.reset(((X86Switch *)o)->cpu); }
static void sw_dump(void *o, FILE *f) { x86_cpu_ops.dump(((X86Switch *)o)->cpu, f); }
static uint64_t sw_brcount(void *o) { return x86_cpu_ops.brcount(((X86Switch *)o)->cpu); }
static uint64_t sw_digest(void *o) { return x86_cpu_ops.digest(((X86Switch *)o)->cpu); }
static uint64_t sw_state_hash(void *o) { return x86_cpu_ops.state_hash(((X86Switch *)o)->cpu); }

static void sw_dump_state(void *o, FILE *f) { x86_dump_state(((X86Switch *)o)->cpu, f); }

/* Snapshots: between runs the state is the X86CPU's (every run leaves KVM
 * before it returns), and a loaded one goes to KVM at the next entry. */
static void sw_save(void *o, void *w) { x86_cpu_ops.save(((X86Switch *)o)->cpu, w); }

static bool sw_load(void *o, void *r)
{
    X86Switch *s = o;
    s->on_kvm = false;
    return x86_cpu_ops.load(s->cpu, r);
}

static unsigned sw_regs(void *o, uint64_t *out)
{
    return x86_cpu_ops.regs(((X86Switch *)o)->cpu, out);
}

static void sw_set_reg(void *o, unsigned idx, uint64_t val)
{
    x86_cpu_ops.set_reg(((X86Switch *)o)->cpu, idx, val);
}

static void report(const X86Switch *s)
{
    uint64_t all = s->kvm_insns + s->interp_insns;
    const char *what = s->all_kvm ? "KVM replay" : "KVM switch test";
    if (s->land)
        fprintf(stderr, "tandem: %s: %" PRIu64 " instructions on KVM (%" PRIu64 " in free runs, "
                "%" PRIu64 " single-stepped; %" PRIu64 " stretches), %" PRIu64 " on the "
                "interpreter; %.1f%% on KVM\n", what, s->kvm_insns, s->free_insns,
                s->kvm_insns - s->free_insns, s->kvm_legs, s->interp_insns,
                all ? 100.0 * (double)s->kvm_insns / (double)all : 0.0);
    else
        fprintf(stderr, "tandem: %s: %" PRIu64 " instructions on KVM (single-stepped, "
                "%" PRIu64 " stretches), %" PRIu64 " on the interpreter; %.1f%% on KVM\n",
                what, s->kvm_insns, s->kvm_legs, s->interp_insns,
                all ? 100.0 * (double)s->kvm_insns / (double)all : 0.0);
    if (s->land)
        fprintf(stderr, "tandem: KVM replay: %" PRIu64 " free runs (%" PRIu64 " instructions) "
                "landed: %" PRIu64 " breakpoint hits (%" PRIu64 " stepped over on KVM, %" PRIu64
                " on the interpreter after %d on KVM in %" PRIu64 " free runs), %" PRIu64
                " on a device access, %" PRIu64 " on HLT; %" PRIu64 " lazy events fired in "
                "them\n", s->free_runs, s->free_insns, s->land_hits, s->land_steps,
                s->interp_hits, INTERP_LAND_HITS, s->interp_lands, s->land_accesses,
                s->land_halts, s->lazy_total);
    if (s->land && s->checks_seen)
        fprintf(stderr, "tandem: KVM replay: %" PRIu64 " memory check%s passed\n",
                s->checks_seen, s->checks_seen == 1 ? "" : "s");
    if (s->ctr)
        fprintf(stderr, "tandem: KVM replay: PMU counter %s: %" PRIu64 " overflows, %" PRIu64
                " landings matched its branch count\n", kvm_counter_event(s->ctr)->name,
                s->ctr_overflows, s->ctr_checks);
    if (s->fallbacks)
        fprintf(stderr, "tandem: KVM replay: %" PRIu64 " diverged free run%s replayed again "
                "on the interpreter from a snapshot\n", s->fallbacks, s->fallbacks == 1 ? "" : "s");
    if (s->snaps)
        fprintf(stderr, "tandem: KVM replay: %" PRIu64 " snapshot%s (%.1f ms each on "
                "average), %" PRIu64 " instructions undone by fall-backs\n", s->snaps,
                s->snaps == 1 ? "" : "s", (double)s->snap_total_ns / 1e6 / (double)s->snaps,
                s->redo_insns);
    if (s->handbacks) {
        fprintf(stderr, "tandem: %s: %" PRIu64 " instructions handed to the "
                "interpreter:", s->all_kvm ? "KVM replay" : "KVM switch test", s->handbacks);
        for (int i = 0; i < MAX_REASONS && s->reasons[i].why; i++)
            fprintf(stderr, "%s %s (%" PRIu64 ")", i ? ";" : "", s->reasons[i].why,
                    s->reasons[i].n);
        fprintf(stderr, "\n");
    }
}

static void sw_destroy(void *o)
{
    X86Switch *s = o;
    report(s);
    if (s->m->replay_diverged_opaque == s)
        s->m->replay_diverged = NULL;
    snap_free(s);
    g_free(s->rr_diverged);
    g_free(s->ev);
    kvm_destroy(s->v);
    x86_cpu_ops.destroy(s->cpu);
    g_free(s);
}

static const CpuOps x86_switch_cpu_ops = {
    .name = "x86-kvm-switch",
    .run = sw_run,
    .reset = sw_reset,
    .dump = sw_dump,
    .brcount = sw_brcount,
    .digest = sw_digest,
    .regs = sw_regs,
    .reg_names = x86_reg_names,
    .set_reg = sw_set_reg,
    .state_hash = sw_state_hash,
    .dump_state = sw_dump_state,
    .save = sw_save,
    .load = sw_load,
    .destroy = sw_destroy,
};

X86Switch *x86_switch_attach(Machine *m, X86CPU *cpu, uint64_t seed, uint64_t max,
                             uint64_t kvm_max, GError **err)
{
    X86Switch *s = x86_switch_new(m, cpu, seed, max, kvm_max, err);
    if (s) {
        /* Start on the interpreter (firmware's first instructions), for at
         * most as long as a KVM stretch: a short guest still reaches KVM. */
        s->leg_left = draw_leg(s, s->kvm_max < s->max ? s->kvm_max : s->max);
        s->interp_legs = 1;
    }
    return s;
}

X86Switch *x86_stepper_attach(Machine *m, X86CPU *cpu, GError **err)
{
    X86Switch *s = x86_switch_new(m, cpu, 0, 1, 1, err);
    if (s) {
        s->all_kvm = true;
        s->kvm_phase = true;
        s->leg_left = UINT64_MAX;
        s->land = m->opts->kvm_landing != KVM_LAND_STEP;
        if (s->land) {
            m->replay_diverged = sw_diverged;
            m->replay_diverged_opaque = s;
            int hw = kvm_hw_breakpoints_work(s->v, err);
            if (hw < 0)
                return NULL;
            s->patch_hlt = !hw;
            if (s->patch_hlt)
                fprintf(stderr, "tandem: KVM: hardware breakpoints do not fire on this host "
                        "(QEMU TCG's nested SVM?); the replay lands on HLT patches in ring-0 code and "
                        "interprets elsewhere\n");
            s->ctr = kvm_counter(s->v);
            if (s->ctr)
                s->skid = kvm_counter_event(s->ctr)->skid;
            else if (m->opts->kvm_landing == KVM_LAND_AUTO)
                fprintf(stderr, "tandem: KVM replay: no PMU counter (%s); free runs land "
                        "with breakpoints alone\n", kvm_counter_why(s->v));
        }
    }
    return s;
}

static X86Switch *x86_switch_new(Machine *m, X86CPU *cpu, uint64_t seed, uint64_t max,
                                 uint64_t kvm_max, GError **err)
{
    if (!kvm_supports_cpu(cpu, err))
        return NULL;
    X86Switch *s = g_new0(X86Switch, 1);
    s->m = m;
    s->cpu = cpu;
    s->max = max ? max : 1;
    s->kvm_max = kvm_max ? kvm_max : s->max;
    /* splitmix64 of the seed: nearby seeds give unrelated sequences */
    uint64_t z = seed + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    s->rng = (z ^ (z >> 31)) | 1;
    s->v = kvm_create(m, cpu, err);
    if (!s->v) {
        g_free(s);
        return NULL;
    }
    m->cpu = s;
    m->cpu_ops = &x86_switch_cpu_ops;
    const char *p = getenv("TANDEM_KVM_PROGRESS");
    if (p && atoi(p) > 0)
        s->progress_ns = (int64_t)atoi(p) * 1000000000;
    return s;
}
