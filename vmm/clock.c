#include "vmm/clock.h"

#include <stddef.h>
#include <time.h>

int64_t vclock_host_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void vclock_init(VClock *c, const uint64_t *icount, int shift)
{
    c->shift = shift;
    c->auto_shift = false;
    c->sleep = true;
    c->base_ns = 0;
    c->base_icount = icount ? *icount : 0;
    c->icount = icount;
    c->timers = NULL;
    c->realtime = false;
    c->rt_start = 0;
    c->exit_request = NULL;
    c->in_access = 0;
    c->on_access_read = NULL;
    c->on_access_opaque = NULL;
}

static int64_t raw_ns(const VClock *c)
{
    if (c->realtime)
        return c->base_ns + (vclock_host_ns() - c->rt_start);
    uint64_t ic = c->icount ? *c->icount : c->base_icount;
    return c->base_ns + (int64_t)((ic - c->base_icount) << c->shift);
}

void vclock_attach(VClock *c, const uint64_t *icount)
{
    c->base_ns = raw_ns(c);
    if (c->realtime)
        c->rt_start = vclock_host_ns();
    c->icount = icount;
    c->base_icount = icount ? *icount : 0;
}

int64_t vclock_ns(const VClock *c)
{
    if (c->in_access && c->on_access_read)
        c->on_access_read(c->on_access_opaque);
    return raw_ns(c);
}

void vclock_set_shift(VClock *c, int shift)
{
    c->base_ns = raw_ns(c);
    if (c->realtime)
        c->rt_start = vclock_host_ns();
    c->base_icount = c->icount ? *c->icount : c->base_icount;
    c->shift = shift;
}

void vclock_warp(VClock *c, int64_t ns)
{
    if (ns > 0 && !c->realtime)
        c->base_ns += ns;
}

void vclock_set_realtime(VClock *c)
{
    if (c->realtime)
        return;
    c->base_ns = raw_ns(c);
    c->rt_start = vclock_host_ns();
    c->realtime = true;
}

void timer_init(Timer *t, TimerCb *cb, void *opaque)
{
    t->deadline = INT64_MAX;
    t->cb = cb;
    t->opaque = opaque;
    t->next = NULL;
    t->armed = false;
    t->lazy = false;
}

void timer_del(VClock *c, Timer *t)
{
    if (!t->armed)
        return;
    for (Timer **p = &c->timers; *p; p = &(*p)->next) {
        if (*p == t) {
            *p = t->next;
            break;
        }
    }
    t->next = NULL;
    t->armed = false;
    t->deadline = INT64_MAX;
}

void timer_mod(VClock *c, Timer *t, int64_t deadline_ns)
{
    timer_del(c, t);
    t->deadline = deadline_ns;
    Timer **p = &c->timers;
    /* Equal deadlines fire in arming order: keeps runs reproducible. */
    while (*p && (*p)->deadline <= deadline_ns)
        p = &(*p)->next;
    t->next = *p;
    *p = t;
    t->armed = true;
    if (c->exit_request && !c->realtime)
        *c->exit_request = 1;
}

bool vclock_due_lazy(const VClock *c, int64_t ns)
{
    for (const Timer *t = c->timers; t && t->deadline <= ns; t = t->next)
        if (!t->lazy)
            return false;
    return true;
}

int64_t vclock_next_deadline(const VClock *c)
{
    return c->timers ? c->timers->deadline : INT64_MAX;
}

uint64_t vclock_insns_until(const VClock *c, int64_t ns)
{
    int64_t now = raw_ns(c);
    if (ns <= now)
        return 0;
    uint64_t delta = (uint64_t)(ns - now);
    uint64_t unit = 1ull << c->shift;
    return (delta + unit - 1) >> c->shift;
}

int vclock_run_timers(VClock *c)
{
    int fired = 0;
    int64_t now = raw_ns(c);
    while (c->timers && c->timers->deadline <= now) {
        Timer *t = c->timers;
        c->timers = t->next;
        t->next = NULL;
        t->armed = false;
        t->deadline = INT64_MAX;
        t->cb(t->opaque);
        fired++;
    }
    return fired;
}

void vclock_disarm_all(VClock *c)
{
    while (c->timers) {
        Timer *t = c->timers;
        c->timers = t->next;
        t->next = NULL;
        t->armed = false;
        t->deadline = INT64_MAX;
    }
}

void vclock_sort_loaded(VClock *c)
{
    /* Insertion sort by (deadline, rank): the list is short. */
    Timer *sorted = NULL;
    while (c->timers) {
        Timer *t = c->timers;
        c->timers = t->next;
        Timer **p = &sorted;
        while (*p && ((*p)->deadline < t->deadline ||
                      ((*p)->deadline == t->deadline && (*p)->load_rank <= t->load_rank)))
            p = &(*p)->next;
        t->next = *p;
        *p = t;
    }
    c->timers = sorted;
}

uint32_t vclock_timer_rank(const VClock *c, const Timer *t)
{
    uint32_t n = 0;
    for (const Timer *x = c->timers; x; x = x->next, n++)
        if (x == t)
            return n;
    return UINT32_MAX;
}

unsigned vclock_armed_count(const VClock *c)
{
    unsigned n = 0;
    for (const Timer *x = c->timers; x; x = x->next)
        n++;
    return n;
}
