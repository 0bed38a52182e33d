/* The landing algorithms (kvm/landing.c) against a simulated guest with a
 * simulated branch counter whose overflow stops late by a random skid, and
 * the PMU event table (kvm/pmu.c). */
#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>

#include "kvm/landing.h"
#include "kvm/pmu.h"
#include "vmm/hash.h"

/* The simulated guest:
 *   0x100: r0 += 1
 *   0x104: if (r0 % 7) goto 0x100          conditional branch
 *   0x108: r1 += 1; one device access
 *   0x10c: if (r1 < 1000) goto 0x100       conditional branch
 *   0x110: stays (halted)                                         */
typedef struct Sim {
    uint64_t pc, r0, r1, br, acc, insns;
    unsigned skid;          /* the counter's real skid: up to this many late */
    GRand *rng;
    bool corrupt_at_hits;   /* flip r1 on the way (a divergence) */
} Sim;

static void sim_reset(Sim *s, unsigned skid, guint32 seed)
{
    if (s->rng)
        g_rand_free(s->rng);
    memset(s, 0, sizeof(*s));
    s->pc = 0x100;
    s->skid = skid;
    s->rng = g_rand_new_with_seed(seed);
}

static void sim_step(Sim *s)
{
    s->insns++;
    switch (s->pc) {
    case 0x100: s->r0++; s->pc = 0x104; break;
    case 0x104: s->br++; s->pc = s->r0 % 7 ? 0x100 : 0x108; break;
    case 0x108: s->r1++; s->acc++; s->pc = 0x10c; break;
    case 0x10c: s->br++; s->pc = s->r1 < 1000 ? 0x100 : 0x110; break;
    default: break;
    }
}

static uint64_t sim_digest(const Sim *s)
{
    uint64_t r[2] = { s->r0, s->r1 };
    return tn_reg_digest(s->pc, r, 2);
}

static bool op_run_branches(void *o, uint64_t count)
{
    Sim *s = o;
    while (s->br < count && s->pc != 0x110)
        sim_step(s);
    /* The overflow interrupt arrives late. */
    uint64_t late = s->skid ? (uint64_t)g_rand_int_range(s->rng, 0, (gint32)s->skid + 1) : 0;
    uint64_t stop = s->br + late;
    while (s->br < stop && s->pc != 0x110)
        sim_step(s);
    return true;
}

static bool op_run_to_pc(void *o, uint64_t pc)
{
    Sim *s = o;
    do {
        sim_step(s);
    } while (s->pc != pc && s->pc != 0x110);
    return s->pc == pc;
}

static bool op_step(void *o)
{
    sim_step(o);
    return true;
}

static void op_position(void *o, LandPos *p)
{
    Sim *s = o;
    p->pc = s->pc;
    p->brcount = s->br;
    p->digest = sim_digest(s);
    p->accesses = s->acc;
}

static const LandOps pmu_ops = { op_run_branches, op_run_to_pc, op_step, op_position };
static const LandOps bp_ops = { NULL, op_run_to_pc, op_step, op_position };

/* The position (and instruction count) after n instructions from reset. */
static LandPos target_after(uint64_t n, uint64_t *insns)
{
    Sim s = { 0 };
    sim_reset(&s, 0, 1);
    while (s.insns < n)
        sim_step(&s);
    LandPos p;
    op_position(&s, &p);
    *insns = s.insns;
    g_rand_free(s.rng);
    return p;
}

static Sim sim;

static void fini(void)
{
    if (sim.rng)
        g_rand_free(sim.rng);
    sim.rng = NULL;
}

TestSuite(landing, .fini = fini);

Test(landing, counted_lands_exactly_with_skid)
{
    static const uint64_t at[] = { 1, 2, 9, 10, 500, 4321, 9000, 15999 };
    static const unsigned skids[] = { 0, 1, 10, 100 };
    for (size_t i = 0; i < G_N_ELEMENTS(at); i++) {
        for (size_t k = 0; k < G_N_ELEMENTS(skids); k++) {
            for (guint32 seed = 1; seed <= 60; seed++) {
                uint64_t insns;
                LandPos t = target_after(at[i], &insns);
                sim_reset(&sim, skids[k], seed);
                LandStats st = { 0 };
                char why[200] = "";
                LandResult r = land_counted(&pmu_ops, &sim, &t, skids[k], &st, why, sizeof(why));
                cr_assert_eq(r, LAND_OK, "target after %lu insns, skid %u, seed %u: %s",
                             (unsigned long)at[i], skids[k], seed, why);
                cr_assert_eq(sim.insns, insns, "landed after %lu instructions, not %lu",
                             (unsigned long)sim.insns, (unsigned long)insns);
                /* The counter brings it within skid branches: few hits. */
                cr_assert_leq(st.hits, 2 * skids[k] + 2);
            }
        }
    }
}

Test(landing, counted_without_pmu_uses_breakpoints_only)
{
    uint64_t insns;
    LandPos t = target_after(5000, &insns);
    sim_reset(&sim, 0, 1);
    LandStats st = { 0 };
    char why[200];
    cr_assert_eq(land_counted(&bp_ops, &sim, &t, 100, &st, why, sizeof(why)), LAND_OK, "%s", why);
    cr_assert_eq(sim.insns, insns);
}

Test(landing, counted_skid_larger_than_declared_is_caught)
{
    uint64_t insns;
    LandPos t = target_after(9000, &insns);
    int diverged = 0;
    for (guint32 seed = 1; seed <= 50; seed++) {
        sim_reset(&sim, 400, seed);            /* the real skid: 400 */
        LandStats st = { 0 };
        char why[200] = "";
        LandResult r = land_counted(&pmu_ops, &sim, &t, 10, &st, why, sizeof(why));
        if (r == LAND_OK) {
            cr_assert_eq(sim.insns, insns, "a landing is never at the wrong place");
        } else {
            cr_assert_eq(r, LAND_DIVERGED);
            cr_assert(strstr(why, "passed the target"), "%s", why);
            diverged++;
        }
    }
    cr_assert_gt(diverged, 0, "an overshooting counter must be reported");
}

Test(landing, counted_wrong_registers_diverge)
{
    uint64_t insns;
    LandPos t = target_after(3000, &insns);
    t.digest ^= 1;
    sim_reset(&sim, 10, 3);
    LandStats st = { 0 };
    char why[200];
    cr_assert_eq(land_counted(&pmu_ops, &sim, &t, 10, &st, why, sizeof(why)), LAND_DIVERGED);
    cr_assert(strstr(why, "registers differ"), "%s", why);
}

Test(landing, counted_already_past)
{
    uint64_t insns;
    LandPos t = target_after(100, &insns);
    sim_reset(&sim, 0, 1);
    for (int i = 0; i < 500; i++)
        sim_step(&sim);
    LandStats st = { 0 };
    char why[200];
    cr_assert_eq(land_counted(&pmu_ops, &sim, &t, 10, &st, why, sizeof(why)), LAND_DIVERGED);
}

Test(landing, breakpoints_land_on_digest_and_accesses)
{
    static const uint64_t at[] = { 1, 3, 77, 2048, 15998 };
    for (size_t i = 0; i < G_N_ELEMENTS(at); i++) {
        uint64_t insns;
        LandPos t = target_after(at[i], &insns);
        sim_reset(&sim, 0, 1);
        LandStats st = { 0 };
        char why[200];
        cr_assert_eq(land_breakpoints(&bp_ops, &sim, &t, 1u << 20, &st, why, sizeof(why)),
                     LAND_OK, "%s", why);
        cr_assert_eq(sim.insns, insns);
    }
}

Test(landing, breakpoints_give_up_and_catch_extra_accesses)
{
    uint64_t insns;
    LandPos t = target_after(15001, &insns);
    sim_reset(&sim, 0, 1);
    LandStats st = { 0 };
    char why[200];
    cr_assert_eq(land_breakpoints(&bp_ops, &sim, &t, 5, &st, why, sizeof(why)), LAND_DIVERGED);
    cr_assert(strstr(why, "no match after 5 hits"), "%s", why);
    /* A target whose registers never occur: the device accesses run past
     * the log's count first. */
    t.digest ^= 1;
    sim_reset(&sim, 0, 1);
    cr_assert_eq(land_breakpoints(&bp_ops, &sim, &t, 1u << 20, &st, why, sizeof(why)),
                 LAND_DIVERGED);
    cr_assert(strstr(why, "device accesses"), "%s", why);
}

Test(pmu, event_table)
{
    PmuEvent ev;
    cr_assert(pmu_branch_event("GenuineIntel", 6, 0x55, &ev));        /* Skylake-SP */
    cr_assert_eq(ev.config, 0x01c4);
    cr_assert(pmu_branch_event("GenuineIntel", 6, 0x6a, &ev));        /* Ice Lake-SP */
    cr_assert_eq(ev.config, 0x11c4);
    cr_assert(pmu_branch_event("GenuineIntel", 6, 0xcf, &ev));        /* Emerald Rapids */
    cr_assert_eq(ev.config, 0x11c4);
    cr_assert(pmu_branch_event("AuthenticAMD", 0x19, 0x11, &ev));     /* Zen 4 */
    cr_assert_eq(ev.config, 0xd1);
    cr_assert_gt(ev.skid, 100);
    cr_assert(pmu_branch_event("HygonGenuine", 0x18, 0, &ev));
    cr_assert_not(pmu_branch_event("AuthenticAMD", 0x15, 0x02, &ev)); /* Bulldozer */
    cr_assert_not(pmu_branch_event("GenuineIntel", 0xf, 0x04, &ev));  /* NetBurst */
    cr_assert_not(pmu_branch_event("CentaurHauls", 6, 0xf, &ev));
    unsigned f, m;
    pmu_cpuid_family_model(0x00a10f11, &f, &m);                       /* Zen 4 */
    cr_assert_eq(f, 0x19);
    cr_assert_eq(m, 0x11);
    pmu_cpuid_family_model(0x000c06f2, &f, &m);                       /* Emerald Rapids */
    cr_assert_eq(f, 6);
    cr_assert_eq(m, 0xcf);
}

/* Where a free run's counter overflow is armed (pmu_overflow_after). */
Test(pmu, overflow_margin)
{
    bool deferred;
    /* A breakpoint event far ahead: skid + 1 short of it, deferred. */
    cr_assert_eq(pmu_overflow_after(1000, 100000, 100, false, &deferred), 100000 - 1000 - 101);
    cr_assert(deferred);
    /* ... landing, late by the whole skid, still before its last branch. */
    cr_assert_lt(1000 + (100000 - 1000 - 101) + 100, 100000);
    /* Closer than the margin, or already there: breakpoint at once. */
    cr_assert_eq(pmu_overflow_after(1000, 1101, 100, false, &deferred), 0);
    cr_assert(!deferred);
    cr_assert_eq(pmu_overflow_after(1000, 1102, 100, false, &deferred), 1);
    cr_assert(deferred);
    cr_assert_eq(pmu_overflow_after(1000, 1000, 100, false, &deferred), 0);
    cr_assert(!deferred);
    cr_assert_eq(pmu_overflow_after(1000, 900, 100, false, &deferred), 0);
    /* An access event: one branch past it (a divergence), never deferred. */
    cr_assert_eq(pmu_overflow_after(1000, 5000, 100, true, &deferred), 4001);
    cr_assert(!deferred);
    cr_assert_eq(pmu_overflow_after(1000, 1000, 1000, true, &deferred), 1);
    cr_assert_eq(pmu_overflow_after(1000, 10, 1000, true, &deferred), 1);
}
