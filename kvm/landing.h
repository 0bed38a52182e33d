/* Landing: bringing a guest that runs on KVM to the exact position of the
 * next logged event (DESIGN.md "Hybrid replay").  The algorithms only,
 * over an abstract stopped-guest interface (LandOps), so that they are
 * unit-tested with a simulated guest and counter (tests/unit/test_landing.c)
 * and driven by KVM (breakpoints, single-step, the PMU) in the replay.
 *
 * A position is what the log holds for every event: the PC, the number of
 * retired conditional branches since the start (brcount), a digest of the
 * registers, and the number of device accesses since the previous event. */
#ifndef TANDEM_KVM_LANDING_H
#define TANDEM_KVM_LANDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct LandPos {
    uint64_t pc;
    uint64_t brcount;
    uint64_t digest;
    uint64_t accesses;
} LandPos;

typedef struct LandOps {
    /* Run until the branch counter reaches at least `count` (a PMU
     * overflow interrupt: it may stop later, by up to the event's skid).
     * NULL without a PMU. */
    bool (*run_branches)(void *o, uint64_t count);
    /* Run until the instruction at `pc` is about to execute (a hardware
     * breakpoint; the instruction the guest stands on runs first). */
    bool (*run_to_pc)(void *o, uint64_t pc);
    /* Execute exactly one instruction. */
    bool (*step)(void *o);
    /* Where the guest is now (brcount only meaningful with a counter). */
    void (*position)(void *o, LandPos *now);
} LandOps;

typedef enum LandResult {
    LAND_OK,            /* stopped exactly at the target position */
    LAND_DIVERGED,      /* the guest went past the target, or never matched */
    LAND_ERROR,         /* the backend failed (why says) */
} LandResult;

typedef struct LandStats {
    uint64_t hits;      /* breakpoint hits at the target PC */
    uint64_t steps;     /* single steps */
} LandStats;

/* With the branch counter: run to target.brcount - skid - 1, then from one
 * breakpoint hit at target.pc to the next until brcount and the digest
 * match.  Diverged when brcount passes the target (a skid larger than
 * declared, or a different execution) or brcount and PC match with
 * another digest. */
LandResult land_counted(const LandOps *ops, void *o, const LandPos *target, unsigned skid,
                        LandStats *st, char *why, size_t whylen);

/* Without a counter: breakpoint hits at target.pc until the digest and the
 * device-access count both match (the first full match is the landing),
 * at most max_hits hits.  A loop whose iterations leave identical
 * registers and touch no device lands on the first of them: an equivalent
 * state, and a wrong one is caught at the next event's landing. */
LandResult land_breakpoints(const LandOps *ops, void *o, const LandPos *target,
                            uint64_t max_hits, LandStats *st, char *why, size_t whylen);

#endif
