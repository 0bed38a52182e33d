/* The landing algorithms of landing.h. */
#include "kvm/landing.h"

#include <inttypes.h>
#include <stdio.h>

static bool at(const LandPos *now, const LandPos *t)
{
    return now->pc == t->pc && now->brcount == t->brcount && now->digest == t->digest;
}

/* To the next arrival at pc: a single step off it when the guest stands on
 * it (too early), else a breakpoint run; *now is the new position. */
static bool advance(const LandOps *ops, void *o, uint64_t pc, LandPos *now, LandStats *st,
                    char *why, size_t whylen)
{
    if (now->pc == pc) {
        if (!ops->step(o)) {
            snprintf(why, whylen, "single-step at %#" PRIx64 " failed", now->pc);
            return false;
        }
        st->steps++;
    } else {
        if (!ops->run_to_pc(o, pc)) {
            snprintf(why, whylen, "running to pc %#" PRIx64 " failed", pc);
            return false;
        }
        st->hits++;
    }
    ops->position(o, now);
    return true;
}

LandResult land_counted(const LandOps *ops, void *o, const LandPos *target, unsigned skid,
                        LandStats *st, char *why, size_t whylen)
{
    LandPos now;
    ops->position(o, &now);
    if (now.brcount > target->brcount) {
        snprintf(why, whylen, "already %" PRIu64 " branches, past the target's %" PRIu64,
                 now.brcount, target->brcount);
        return LAND_DIVERGED;
    }
    /* Stop one more branch short than the skid: an interrupt that comes
     * skid branches late then still stands before the target's last
     * branch, never past the target PC with the same count. */
    uint64_t margin = (uint64_t)skid + 1;
    if (ops->run_branches && target->brcount - now.brcount > margin) {
        if (!ops->run_branches(o, target->brcount - margin)) {
            snprintf(why, whylen, "running to branch %" PRIu64 " failed",
                     target->brcount - margin);
            return LAND_ERROR;
        }
        ops->position(o, &now);
    }
    for (;;) {
        if (now.brcount > target->brcount) {
            snprintf(why, whylen, "branch count %" PRIu64 " passed the target's %" PRIu64
                     " (pc %#" PRIx64 ")", now.brcount, target->brcount, now.pc);
            return LAND_DIVERGED;
        }
        if (now.pc == target->pc && now.brcount == target->brcount) {
            if (at(&now, target))
                return LAND_OK;
            snprintf(why, whylen, "at pc %#" PRIx64 " and branch %" PRIu64 " the registers "
                     "differ (digest %016" PRIx64 ", the log has %016" PRIx64 ")", now.pc,
                     now.brcount, now.digest, target->digest);
            return LAND_DIVERGED;
        }
        if (!advance(ops, o, target->pc, &now, st, why, whylen))
            return LAND_ERROR;
    }
}

LandResult land_breakpoints(const LandOps *ops, void *o, const LandPos *target,
                            uint64_t max_hits, LandStats *st, char *why, size_t whylen)
{
    LandPos now;
    ops->position(o, &now);
    for (uint64_t n = 0;; n++) {
        if (now.pc == target->pc && now.digest == target->digest &&
            now.accesses == target->accesses)
            return LAND_OK;
        if (now.accesses > target->accesses) {
            snprintf(why, whylen, "%" PRIu64 " device accesses, more than the %" PRIu64
                     " the log has before this event", now.accesses, target->accesses);
            return LAND_DIVERGED;
        }
        if (n == max_hits) {
            snprintf(why, whylen, "no match after %" PRIu64 " hits at pc %#" PRIx64,
                     max_hits, target->pc);
            return LAND_DIVERGED;
        }
        if (!advance(ops, o, target->pc, &now, st, why, whylen))
            return LAND_ERROR;
    }
}
