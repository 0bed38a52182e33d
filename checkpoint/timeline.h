/* The replay timeline: in-memory snapshots at spaced positions of a replay,
 * so that going back in time (gdb's reverse-stepi and reverse-continue,
 * replay_seek) costs one restore plus at most one spacing of replay.
 *
 * RAM is tracked copy-on-write: after each snapshot guest RAM is made
 * read-only; the first write to a page faults, the fault handler copies the
 * page's old contents into an undo area (a bump allocator in reserved
 * memory, nothing allocated in the handler) and makes the page writable.
 * Snapshot k thus holds the old contents of exactly the pages written
 * between it and snapshot k + 1; restoring k copies back, newest first,
 * every page saved since k.  Memory cost: one page per page written in each
 * interval, plus the CPU/device state (a few KiB) per snapshot.
 *
 * Disks are copy-on-write too: before a write reaches a writable drive's
 * image, what it overwrites is kept; a restore writes it back, newest
 * first.
 *
 * Going back truncates the timeline at the restored snapshot: replaying
 * forward again takes the later snapshots anew (replay is deterministic, so
 * they come out the same). */
#ifndef TANDEM_TIMELINE_H
#define TANDEM_TIMELINE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Machine Machine;
typedef struct Timeline Timeline;

/* Default spacing between snapshots, in instructions: bounds the replay a
 * seek needs (about 0.05 s on the interpreter). */
#define TIMELINE_DEFAULT_SPACING (1ull << 23)

/* Starts tracking m's RAM; the first snapshot is taken by the first
 * timeline_tick.  Fails (with the reason) when the machine cannot be
 * snapshotted or the RAM cannot be tracked.  One timeline per process. */
Timeline *timeline_new(Machine *m, uint64_t spacing, GError **err);
void timeline_free(Timeline *t);

/* The main loop, between slices: takes a snapshot when the position has
 * passed the last one by the spacing (or none exists).  false and
 * m->error set if it cannot. */
bool timeline_tick(Timeline *t);
/* Instructions the CPU may run before the next snapshot is due (the main
 * loop bounds its slice with it so snapshots land at exact spacings). */
uint64_t timeline_budget(const Timeline *t, uint64_t budget);

/* Position of the first snapshot (the beginning of what can be reached
 * backwards); UINT64_MAX before the first tick. */
uint64_t timeline_begin(const Timeline *t);
/* Restores the latest snapshot at or before icount `target` (the machine
 * then stands at its position, returned in *at).  false with err when there
 * is none (target before the beginning) or the restore failed (then
 * m->error is set too). */
bool timeline_restore(Timeline *t, uint64_t target, uint64_t *at, GError **err);
/* Position of the latest snapshot strictly before icount `before`, or
 * UINT64_MAX. */
uint64_t timeline_prev(const Timeline *t, uint64_t before);

typedef struct TimelineStats {
    unsigned snapshots;
    uint64_t pages_saved;        /* undo pages held */
    uint64_t state_bytes;        /* CPU and device state held */
    uint64_t restores;
    uint64_t faults;             /* first writes caught since the start */
    uint64_t disk_bytes;         /* disk contents held (what writes overwrote) */
} TimelineStats;
void timeline_stats(const Timeline *t, TimelineStats *s);

#endif
