/* Record/replay of a whole machine (-icount ...,rr=record|replay,rrfile=F).
 *
 * Every non-deterministic input passes through here.  Record logs it with
 * the guest position (icount, conditional branches, device accesses, PC and
 * registers); replay takes it from the log at exactly that position and
 * checks the position, stopping with a message that names the event and what
 * differs at the first mismatch. */
#ifndef TANDEM_RR_H
#define TANDEM_RR_H

#include "block/block.h"
#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Machine Machine;
typedef struct Rr Rr;

typedef enum RrMode { RR_MODE_OFF = 0, RR_MODE_RECORD, RR_MODE_REPLAY } RrMode;

/* Exit status of a replay whose log was cut short (replayed to its end). */
#define RR_EXIT_TRUNCATED 3

/* After the board is built: opens the log (record: writes the header with
 * the machine configuration; replay: checks it against this machine). */
bool rr_start(Machine *m, GError **err);
/* At the end of the run: record writes the END event with the final state
 * and closes the log; replay checks the END event.  Returns the process exit
 * status (replay: non-zero when the run did not match). */
int rr_finish(Machine *m, int status);
void rr_free(Machine *m);

/* Host wall-clock read (synchronous event). */
int64_t rr_host_clock(Machine *m);
/* A time-stamp counter read by the guest (x86 RDTSC): record logs the
 * value, replay returns the logged one and checks the position (and that
 * the interpreter computed the same value). */
uint64_t rr_tsc(Machine *m, uint64_t value);
/* A blkreplay drive's request completed (BlkObserver, opaque = the
 * Machine): record logs it with a hash of its data, replay checks it
 * against the log (a difference stops the run and fails the request). */
int rr_block_observer(void *opaque, unsigned tag, BlkOp op, uint64_t off, const void *data,
                      size_t len);
/* A frame netdev delivers to its device, at a main-loop stop (net/net.c):
 * record logs it (RR_EV_NET, cut into pieces when longer than a payload);
 * otherwise nothing.  Replay delivers the logged frames itself. */
void rr_net_frame(Machine *m, unsigned netdev, const uint8_t *buf, size_t len);
/* Host keyboard / mouse input (vmm/input.c, at a main-loop stop): record logs it (RR_EV_INPUT) and both record and
 * off deliver it to the devices; replay ignores it (the log's events are
 * delivered instead). */
void rr_input_key(Machine *m, int keycode, bool down);
void rr_input_mouse(Machine *m, int dx, int dy, int dz, unsigned buttons);
/* Audio input a sound card takes (audio/audio.c, from the card's timer):
 * record fills buf with fill(opaque, ...) and logs it (RR_EV_AUDIO), replay
 * fills it from the log, whose next event must be this card's input at
 * this position (else the replay stops, naming the difference); off just
 * fills. */
void rr_audio_input(Machine *m, unsigned card, unsigned source, uint8_t *buf, size_t len,
                    void (*fill)(void *opaque, uint8_t *buf, size_t len), void *opaque);
/* Idle warp of the virtual clock (record: logs; others: just warps). */
void rr_warp(Machine *m, int64_t ns);
/* shift=auto adaptation. */
void rr_set_shift(Machine *m, int shift);
/* The user asked to quit / reset (monitor, C-a x, signal). */
void rr_user_quit(Machine *m);
void rr_user_reset(Machine *m);

/* The main loop's vclock_run_timers(): when timers are due, record logs
 * a checkpoint event first (their position, for KVM replay to land on)
 * and replay checks it; then the timers fire.  Returns how many fired. */
int rr_fire_timers(Machine *m);
/* Record: the CPU takes an interrupt (or NMI) now: timer checkpoints held
 * back as lazy are written as ordinary ones (rr/replay.c, "lazy timers"). */
void rr_interrupt_taken(Machine *m);
/* Replay under KVM: the log's next event is a lazy timer checkpoint
 * (rr_event_lazy) and the guest is about to make the device access after
 * it, the CPU's icount put at the event's (the virtual time the timers
 * fired at): consume it and fire the timers due.  Returns how many fired,
 * or -1 with the machine's error set. */
int rr_fire_lazy(Machine *m);
/* Replay: the log's next event (read ahead, not consumed), or NULL at the
 * end of the log; valid until the next event is consumed. */
const struct RrEvent *rr_peek_event(Machine *m);
/* Events logged or replayed so far. */
uint64_t rr_events_done(Machine *m);
/* Device accesses since the previous event (an event's "mmio"). */
uint64_t rr_accesses_since_event(Machine *m);
/* Replay: memory checks passed so far (TSC events with a RAM hash, log
 * version 9). */
uint64_t rr_mem_checks(Machine *m);
/* Replay: can the log hold memory checks (an x86 log of version 9 or
 * later)? */
bool rr_log_mem_checked(Machine *m);
/* Replay: icount of the next event that the main loop must deliver, or
 * UINT64_MAX.  Record/off: UINT64_MAX. */
uint64_t rr_next_async_icount(Machine *m);
/* Replay, after the CPU ran: false (with the machine's error set) when it
 * went past the log's next event, one the guest's own access consumes (a
 * clock read, a block request, a timer checkpoint, the end), without
 * consuming it: a divergence that would otherwise run on forever. */
bool rr_sync_passed_ok(Machine *m);
/* Replay: deliver every event due at the current position.  Returns false
 * (and sets m->error or stops the machine) when the replay cannot go on. */
bool rr_deliver_due(Machine *m);
/* Replay: the CPU went idle; true if the log has an event here. */
bool rr_idle_ok(Machine *m);
/* Record: write a frame when 4 KiB of events are pending or the oldest is
 * 5 s old; cheap otherwise, so the main loop calls it at every poll. */
void rr_flush(Machine *m);

/* Snapshots (checkpoint/): the log position into a SnapWriter, and back
 * from a SnapReader (replay seeks its log there; a recording accepts only
 * its own start). */
void rr_save_state(Machine *m, void *writer);
bool rr_load_state(Machine *m, void *reader);
/* Replay: could a snapshot taken after nevents events at icount belong to
 * this recording (the log's events before it are not after it, the next
 * one not before it)?  false with the reason.  Leaves the replay where it
 * stands.  Record/off: true. */
bool rr_snapshot_fits(Machine *m, uint64_t nevents, uint64_t icount, GError **err);

#endif
