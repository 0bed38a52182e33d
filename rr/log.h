/* The record/replay log: format, writer and reader.
 *
 * File layout (all integers little-endian):
 *   header:  "TANDEMRR" | u32 version | u32 header_len | header body
 *            body = varint-length strings: target arch, config text
 *            ("key=value\n" lines describing the machine configuration),
 *            snapshot name; then i32 shift (-1 = auto), u32 nregs,
 *            u64 config hash (FNV-1a 64 of the config text), u32 crc32c of
 *            the body
 *   frames:  "TRFM" | u32 compressed_len | u32 raw_len | u32 nevents |
 *            u64 first_event_index | u64 first_icount | u32 crc32c of the
 *            compressed bytes | zstd data (one zstd frame)
 *   index:   "TRIX" | u32 nframes | per frame: u64 file offset, u64 first
 *            icount, u64 first event index | u32 crc32c |
 *            "TRND" | u64 offset of "TRIX"   (written by rr_writer_close)
 * A recording cut short has no index: readers scan the frames.
 *
 * Events inside a frame's raw bytes: u8 kind, then varint deltas of icount,
 * brcount and device accesses against the previous event (the first event
 * of each frame is delta-coded against zero, so frames decode alone), then
 * the registers (PC first) as a u32 bitmap of those that differ from the
 * previous event's plus the XOR of each differing one as a varint, then
 * varint payload length and payload bytes.
 *
 * The order of RrEventKind is the file format: append only, and bump
 * RR_LOG_VERSION on any change.
 *
 * Details the layout above leaves open, as version 1 settles them:
 * - header_len counts the body including its trailing crc; the crc covers
 *   the body bytes before it. Strings hold no NUL byte. The body is at most
 *   1 MiB. shift is -1..63, nregs <= RR_MAX_REGS. The writer computes the
 *   config hash itself (RrHeader.config_hash and .version are ignored by
 *   rr_writer_open) as rr_fnv1a64(config, strlen(config), RR_FNV1A64_SEED);
 *   the reader checks it.
 * - Varints are unsigned LEB128, at most 10 bytes. The register bitmap is a
 *   fixed u32; bit i is regs[i], only bits below the header's nregs may be
 *   set, and a set bit has a non-zero XOR. Every event holds exactly the
 *   header's nregs registers.
 * - icount and brcount never go back, across frames too (the writer refuses
 *   such an event). "mmio" is already a count since the previous event, so
 *   it is stored as it is, not as a delta.
 * - The crc of the index covers "TRIX" through the last entry.
 * - crc32c is CRC-32C (Castagnoli) with the usual pre/post inversion;
 *   rr_crc32c(0, buf, n) is the checksum of buf, and feeding a result back
 *   as crc continues it over more bytes.
 * - Payloads must have the shape given next to each kind (writer and reader
 *   both check): serial_input >= 1 byte; host_clock exactly 8; shift 1 byte
 *   with a value 0..63; warp exactly one varint; reset and quit none; end
 *   20 (i32 status, u64 RAM hash, u64 CPU state hash), or from version 7
 *   28 + 8n: those, then the RAM map (u32 chunk shift 12..40, u32 n
 *   1..RR_END_MAX_CHUNKS, n u64 hashes of the guest memory in chunks of
 *   2^shift bytes, machine_memory_chunks()), so that a replay that ends
 *   with other memory says where; block 12 to
 *   30; net at least 3 (netdev, flags 0 or 1, at least one frame byte);
 *   input 4 (device 0, keyboard: u16 keycode, u8 down 0 or 1) or 14
 *   (device 1, mouse: i32 dx, i32 dy, i32 dz, u8 buttons); audio at
 *   least 3 (card, source 0 or 1, at least one sample byte); checkpoint
 *   exactly 1 byte, 0 or 1; tsc 8 (the counter), or a memory check: 16
 *   (version 9: the counter, u64 RAM hash) or from version 10 24 + 8n
 *   (the counter, u64 RAM hash, u64 CPU state hash, n u64 device state
 *   hashes, n <= RR_STATE_CHECK_MAX_DEVICES).
 * - A frame holds at least one event and at most 4 MiB of raw bytes (the
 *   writer ends a frame at 64 KiB or 4096 events).
 * - Frames and events are numbered from 0, in the format and in messages.
 * - A file that ends in "TRND" claims to be complete: its frames must end
 *   where the index starts and agree with it, else the log is corrupt. A
 *   file without the trailer is a recording cut short: a partial frame or a
 *   partial index at its end is the end of the log, not an error (so in
 *   such a file a damaged length in the last frame reads as a cut). A file
 *   too short to hold its header cannot be opened at all. */
#ifndef TANDEM_RR_LOG_H
#define TANDEM_RR_LOG_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RR_LOG_VERSION 10
/* Oldest version this build reads (version 1 lacks RR_EV_TSC, version 2
 * RR_EV_BLOCK, version 3 RR_EV_NET, version 4 RR_EV_INPUT and
 * RR_EV_AUDIO, version 5 RR_EV_CHECKPOINT, version 6 the end's RAM map,
 * version 7 lazy timer checkpoints; version 8 was recorded while an x86
 * memory-mapped device access that raised an interrupt did not end its
 * block (Machine.mmio_irq_at_block_end), version 9 has memory checks
 * without state checks; nothing else differs). */
#define RR_END_MAX_CHUNKS 4096
/* Devices a state check (version 10) hashes at most. */
#define RR_STATE_CHECK_MAX_DEVICES 64
#define RR_LOG_VERSION_MIN 1
#define RR_MAX_REGS 32          /* PC + 31 GPRs on RISC-V; more ISAs fit */
#define RR_MAX_PAYLOAD 65536
#define RR_FNV1A64_SEED 0xcbf29ce484222325ull   /* FNV-1a 64 offset basis */
/* A KVM replay runs free between two events at least this many
 * instructions apart and single-steps to closer ones (targets/x86/
 * kvm_switch.c; tandem-log info shows the split). */
#define RR_KVM_FREE_RUN_MIN 256
/* ... and, without a branch counter, interprets up to asynchronous events
 * (rr_event_async) closer than this, to land on them exactly. */
#define RR_KVM_ASYNC_FREE_RUN_MIN 100000

typedef enum RrEventKind {
    RR_EV_SERIAL_INPUT = 0,     /* payload: u8 port, bytes */
    RR_EV_HOST_CLOCK = 1,       /* payload: i64 host ns (synchronous) */
    RR_EV_SHIFT = 2,            /* payload: u8 new shift (shift=auto) */
    RR_EV_WARP = 3,             /* payload: varint ns the idle clock warped */
    RR_EV_RESET = 4,            /* reset requested from outside (monitor) */
    RR_EV_QUIT = 5,             /* the user stopped the recording */
    RR_EV_END = 6,              /* payload: i32 exit status, u64 RAM hash,
                                   u64 full CPU state hash */
    RR_EV_TSC = 7,              /* payload: u64 time-stamp counter the guest
                                   read (synchronous; x86 RDTSC/RDTSCP) */
    RR_EV_BLOCK = 8,            /* payload: u8 drive, u8 op (0 read, 1 write,
                                   2 flush), varint offset, varint length,
                                   u64 data hash (synchronous; blkreplay) */
    RR_EV_NET = 9,              /* payload: u8 netdev, u8 flags (bit 0: more
                                   pieces of this frame follow), frame bytes
                                   (filter-replay; see net/net.h) */
    RR_EV_INPUT = 10,           /* payload: u8 device (0 keyboard, 1 mouse),
                                   the event (see above; vmm/input.h) */
    RR_EV_AUDIO = 11,           /* payload: u8 card, u8 source (0 PCM in,
                                   1 mic in), samples the card took from
                                   its input backend (audio/audio.h) */
    RR_EV_CHECKPOINT = 12,      /* payload: u8 why (0: timers fire here;
                                   1: a device access reads the virtual
                                   clock here, synchronous; 2: lazy
                                   timers fire here, and nothing sees it
                                   before the next device access: see
                                   rr/replay.c).  No value:
                                   only the position, for KVM replay to
                                   land on (DESIGN.md "Hybrid replay") */
    RR_EV__COUNT
} RrEventKind;

typedef struct RrEvent {
    RrEventKind kind;
    uint64_t icount;            /* retired instructions at the event */
    uint64_t brcount;           /* retired conditional branches */
    uint64_t mmio;              /* device accesses since the previous event */
    uint32_t nregs;
    uint64_t regs[RR_MAX_REGS]; /* regs[0] = PC */
    uint32_t len;
    uint8_t data[RR_MAX_PAYLOAD];
} RrEvent;

/* A lazy event (format 8): timers that fired (RR_EV_CHECKPOINT why 2) or a
 * shift change (RR_EV_SHIFT with a second byte 1) that nothing saw before
 * the next device access, where a KVM replay, not knowing the instruction
 * count, applies it (rr/replay.c, "lazy timers"). */
bool rr_event_lazy(const RrEvent *ev);
/* An event at a position no instruction of the guest marks: timers that
 * fired (not inside a device access, not lazy), host input, an idle
 * warp, a shift change, a reset or quit.  The guest may pass its pc
 * again and again with the same registers before it (a loop whose state
 * is all in memory), so without an instruction or branch count a KVM
 * replay cannot tell those passes apart (targets/x86/kvm_switch.c). */
bool rr_event_async(const RrEvent *ev);
/* Is ev consumed inside a guest access to a device (so a KVM replay finds
 * it by counting device accesses rather than with a breakpoint;
 * targets/x86/kvm_switch.c)? */
bool rr_event_in_access(const RrEvent *ev);

typedef struct RrHeader {
    uint32_t version;
    char *arch;
    char *config;               /* "key=value\n" lines */
    char *snapshot;             /* "" when none */
    int32_t shift;
    uint32_t nregs;
    uint64_t config_hash;
} RrHeader;

const char *rr_event_name(RrEventKind k);
/* Where two RAM maps (an end event's, and the replay's own at its end:
 * n chunk hashes of 2^shift bytes starting at base[i]) differ, as text
 * ("guest-physical 0x100000-0x10ffff, 0x7f0000-0x7fffff; 2 of 2048 64 KiB
 * chunks"), or NULL where they agree.  g_free() it. */
char *rr_memory_diff(const uint64_t *want, const uint64_t *have, const uint64_t *base, size_t n,
                     unsigned shift);
uint64_t rr_fnv1a64(const void *buf, size_t len, uint64_t seed);
uint32_t rr_crc32c(uint32_t crc, const void *buf, size_t len);

/* ---- writer ---- */
typedef struct RrWriter RrWriter;
/* Creates path and writes the header at once (a recording killed later is
 * still readable up to its last complete frame). */
RrWriter *rr_writer_open(const char *path, const RrHeader *h, GError **err);
bool rr_writer_add(RrWriter *w, const RrEvent *ev, GError **err);
/* Ends the current frame (if any events) and write()s it. */
bool rr_writer_flush(RrWriter *w, GError **err);
/* Flushes, writes the index, closes and frees (also on failure). A failed
 * write() makes the writer refuse everything after it; an event that breaks
 * the format (see above) is refused alone, with an error. */
bool rr_writer_close(RrWriter *w, GError **err);
/* Events added so far; bytes written to the file so far (the frame being
 * filled is not in the file yet). */
uint64_t rr_writer_events(const RrWriter *w);
uint64_t rr_writer_bytes(const RrWriter *w);
/* Raw bytes of events not yet written in a frame. */
size_t rr_writer_pending(const RrWriter *w);

/* ---- reader ---- */
typedef struct RrReader RrReader;
RrReader *rr_reader_open(const char *path, GError **err);
const RrHeader *rr_reader_header(const RrReader *r);
/* 1: *ev filled; 0: no more events (clean end, or a truncated tail:
 * rr_reader_truncated() says which); -1: corrupt data, err names the frame
 * and byte offset. A frame is checked whole before its first event comes
 * out. After 0 or -1 every later call answers the same. ev->regs beyond
 * nregs are zero. */
int rr_reader_next(RrReader *r, RrEvent *ev, GError **err);
/* Both meaningful once rr_reader_next has returned 0. The tail message is
 * the human-readable reason the log stopped early ("" if it did not). */
bool rr_reader_truncated(const RrReader *r);
const char *rr_reader_tail_message(const RrReader *r);
uint64_t rr_reader_event_index(const RrReader *r);   /* events returned so far */
/* Go back (or forward) so that the next event returned is number `event`
 * (0-based), as if the events before it had just been read.  Frames seen
 * before are found at once; others are read through. */
bool rr_reader_seek(RrReader *r, uint64_t event, GError **err);
void rr_reader_close(RrReader *r);

/* Frame-level view for tandem-log verify/info and seeking. */
typedef struct RrFrameInfo {
    uint64_t offset, first_event, first_icount;
    uint32_t nevents, compressed_len, raw_len;
} RrFrameInfo;
/* Scans the file: returns frames in *out (g_free). Reads the frame headers
 * (not their contents, which rr_reader_next checks) and, where the file has
 * an index, checks them against it. A truncated log yields its complete
 * frames and true; *has_index is true for a cleanly closed log. */
bool rr_log_frames(const char *path, RrFrameInfo **out, size_t *n, bool *has_index,
                   GError **err);

#endif
