/* The virtual clock: a function of the guest instruction count.
 *
 *   ns = base_ns + ((icount - base_icount) << shift)
 *
 * base_* move when the shift changes (shift=auto) and when an idle CPU warps
 * time forward to the next timer deadline.  Nothing in the machine reads host
 * time except through rr/ (host clock reads are logged events).
 *
 * Realtime mode (vclock_set_realtime; -accel kvm, where no instruction
 * count exists) follows host time instead:
 *
 *   ns = base_ns + (host CLOCK_MONOTONIC ns - rt_start)
 *
 * Timers and deadlines work as in icount mode; vclock_warp() does nothing
 * (an idle CPU's wait already let the time pass), vclock_insns_until()
 * counts one "instruction" per 1 << shift ns (callers only use it as a
 * bound), and the shift has no effect on the time.  Record/replay never
 * runs in this mode. */
#ifndef TANDEM_CLOCK_H
#define TANDEM_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

typedef struct Timer Timer;
typedef void TimerCb(void *opaque);

struct Timer {
    int64_t deadline;        /* virtual ns; INT64_MAX when not armed */
    TimerCb *cb;
    void *opaque;
    Timer *next;             /* armed list, sorted by deadline */
    bool armed;
    /* Its callback changes only the device's own state and interrupt
     * lines: nothing the guest can see but through a device access or an
     * interrupt it takes.  Record/replay may then log its firing as a lazy
     * checkpoint (rr/, DESIGN.md "Hybrid replay").  Set after timer_init. */
    bool lazy;
    /* Snapshots: the timer's rank in the armed list when it was saved, so
     * a load restores the firing order of equal deadlines
     * (vclock_sort_loaded). */
    uint32_t load_rank;
};

typedef struct VClock {
    int shift;               /* ns per instruction = 1 << shift */
    bool auto_shift;         /* shift=auto */
    bool sleep;              /* sleep=on: idle waits in host time */
    int64_t base_ns;
    uint64_t base_icount;
    /* The CPU's retired-instruction counter. */
    const uint64_t *icount;
    Timer *timers;
    bool realtime;           /* vclock_set_realtime(): host time */
    int64_t rt_start;        /* host ns when base_ns was taken */
    /* Set to 1 by timer_mod: a timer armed while the CPU runs (by a device
     * access) makes it leave its run loop, so the main loop bounds the
     * next slice by the new deadline and the timer fires exactly there,
     * wherever the slices happened to end (the machine's exit_request;
     * NULL: none). */
    volatile int *exit_request;
    /* Device callbacks under way (the address spaces raise it around each
     * guest access to a device).  While it is non-zero, a read of the
     * time calls on_access_read first: record/replay logs or checks such
     * a read, since its value depends on the exact position of the
     * access (rr/, "checkpoint" events). */
    int in_access;
    void (*on_access_read)(void *opaque);
    void *on_access_opaque;
} VClock;

/* Devices clocked at hz from virtual time: the pulses before ns (0 for
 * ns <= 0), and the first nanosecond of pulse t (INT64_MAX if never). */
static inline int64_t clock_ticks_at(int64_t ns, uint64_t hz)
{
    return ns <= 0 ? 0 : (int64_t)((unsigned __int128)ns * hz / 1000000000u);
}

static inline int64_t clock_tick_ns(int64_t t, uint64_t hz)
{
    unsigned __int128 v = ((unsigned __int128)t * 1000000000u + hz - 1) / hz;
    return v >= INT64_MAX ? INT64_MAX : (int64_t)v;
}

void vclock_init(VClock *c, const uint64_t *icount, int shift);
/* Point the clock at the CPU's counter once it exists (time so far kept). */
void vclock_attach(VClock *c, const uint64_t *icount);
int64_t vclock_ns(const VClock *c);
void vclock_set_shift(VClock *c, int shift);
/* Advance virtual time without instructions (idle warp); nothing in
 * realtime mode. */
void vclock_warp(VClock *c, int64_t ns);
/* Switch to realtime mode from now on (time so far kept); for good. */
void vclock_set_realtime(VClock *c);
/* Host CLOCK_MONOTONIC in ns. */
int64_t vclock_host_ns(void);

void timer_init(Timer *t, TimerCb *cb, void *opaque);
void timer_mod(VClock *c, Timer *t, int64_t deadline_ns);
void timer_del(VClock *c, Timer *t);
/* Are all timers due at ns (deadline <= ns) lazy ones?  (True if none is.) */
bool vclock_due_lazy(const VClock *c, int64_t ns);
/* Earliest armed deadline, INT64_MAX if none. */
int64_t vclock_next_deadline(const VClock *c);
/* Instructions to execute until virtual time reaches ns (>= 1 if ns is in
 * the future, 0 if reached). */
uint64_t vclock_insns_until(const VClock *c, int64_t ns);
/* Snapshots: forget every armed timer (the loaded state re-arms them). */
void vclock_disarm_all(VClock *c);
/* Snapshots: after every timer was re-armed from a snapshot, put equal
 * deadlines back in the order they had when saved (Timer.load_rank). */
void vclock_sort_loaded(VClock *c);
/* Rank of t in the armed list (0 = first), or UINT32_MAX when unarmed. */
uint32_t vclock_timer_rank(const VClock *c, const Timer *t);
/* Armed timers. */
unsigned vclock_armed_count(const VClock *c);

/* Fire expired timers; returns how many fired. */
int vclock_run_timers(VClock *c);

#endif
