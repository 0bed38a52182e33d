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
#include <string.h>

#include "kvm/kvm.h"
#include "targets/x86/cpu.h"
#include "targets/x86/kvm_step.h"
#include "vmm/error.h"

#define MAX_REASONS 24
/* Instructions the interpreter runs when KVM hands back a second time in
 * a row. */
#define HANDBACK_RUN 32

struct X86Switch {
    Machine *m;
    X86CPU *cpu;
    KvmVcpu *v;
    uint64_t rng, max, kvm_max;
    bool kvm_phase;          /* this leg is KVM's */
    bool all_kvm;            /* replay: KVM steps whatever it can, always */
    uint64_t leg_left;       /* instructions left in the leg */
    bool on_kvm;             /* the state is in KVM (inside kvm_leg only) */

    uint64_t kvm_insns, interp_insns, kvm_legs, interp_legs, handbacks;
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
    /* XSETBV never runs on KVM here; a host that pins XCR0 (kvm.h,
     * kvm_xcr0_pinned) reports its pinned value instead of the guest's. */
    cpu->fpu.xcr0 = ptrs.xcr0;
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

static CpuExit sw_run(void *opaque, uint64_t max)
{
    X86Switch *s = opaque;
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
    fprintf(stderr, "tandem: %s: %" PRIu64 " instructions on KVM (single-stepped, "
            "%" PRIu64 " stretches), %" PRIu64 " on the interpreter; %.1f%% on KVM\n",
            s->all_kvm ? "KVM replay" : "KVM switch test",
            s->kvm_insns, s->kvm_legs, s->interp_insns,
            all ? 100.0 * (double)s->kvm_insns / (double)all : 0.0);
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
    return s;
}
