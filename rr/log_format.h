/* Internal to the log library (rr/log*.c): the on-disk constants and the
 * frame scanner shared by the reader and rr_log_frames. */
#ifndef TANDEM_RR_LOG_FORMAT_H
#define TANDEM_RR_LOG_FORMAT_H

#include <string.h>
#include <sys/types.h>

#include "rr/log.h"
#include "rr/varint.h"

#define LOG_MAGIC "TANDEMRR"
#define FRAME_MAGIC "TRFM"
#define INDEX_MAGIC "TRIX"
#define TRAILER_MAGIC "TRND"

enum {
    HDR_FIXED = 16,                 /* magic, version, header_len */
    HDR_MIN_BODY = 3 + 4 + 4 + 8 + 4,
    HDR_MAX_BODY = 1 << 20,
    FRAME_HDR = 36,
    INDEX_HEAD = 8,                 /* "TRIX", nframes */
    INDEX_ENTRY = 24,
    TRAILER = 12,
    FRAME_TARGET_RAW = 64 * 1024,
    FRAME_TARGET_EVENTS = 4096,
    /* kind, three one-byte varints, bitmap, payload length */
    EVENT_MIN = 1 + 3 + 4 + 1,
    EVENT_MAX = 1 + 3 * VARINT_MAX_LEN + 4 + RR_MAX_REGS * VARINT_MAX_LEN +
                VARINT_MAX_LEN + RR_MAX_PAYLOAD,
    /* A writer frame is under FRAME_TARGET_RAW + EVENT_MAX; the cap leaves
     * room without letting a hostile header ask for much memory. */
    FRAME_MAX_RAW = 4 << 20,
    ZSTD_LEVEL = 3,
};

typedef struct IndexEnt {
    uint64_t offset, first_icount, first_event;
} IndexEnt;

typedef struct LogFile {
    int fd;
    uint64_t size;
    RrHeader h;
    uint64_t frames_start, frames_end;
    bool idx_claimed;               /* the file ends in a "TRND" trailer */
    bool has_index;                 /* ... pointing at a sound index */
    char *idx_err;                  /* why a claimed index is unusable */
    IndexEnt *idx;
    uint32_t nidx;
} LogFile;

typedef struct FrameHdr {
    uint64_t offset;
    uint32_t clen, raw_len, nevents, crc;
    uint64_t first_event, first_icount;
} FrameHdr;

typedef enum TruncKind {
    TRUNC_NONE,
    TRUNC_FRAME,                    /* part of a frame at the end */
    TRUNC_NO_INDEX,                 /* ends between frames, no index */
    TRUNC_INDEX,                    /* part of the index at the end */
} TruncKind;

typedef struct Scan {
    uint64_t pos;                   /* where the next frame starts */
    uint64_t frame;                 /* complete frames passed */
    uint64_t events;                /* events in them */
    uint64_t prev_first_icount;
    TruncKind trunc;
} Scan;

/* The payload layouts of rr/log.h, enforced by writer and reader alike so
 * that tools and the replayer can decode a payload without second-guessing
 * it. false with why filled when the payload does not fit its kind. */
bool rrlog_payload_ok(unsigned kind, const uint8_t *d, uint32_t len, char *why, size_t whylen);

/* Register prediction, shared by writer and reader.  An event's registers
 * are coded as XORs against a base: the PC against the previous event's PC;
 * the other registers against the registers of the last event in the same
 * frame with the same PC (a guest polling for input is interrupted at a few
 * PCs, where few registers change), else against the previous event's.
 * Reset at every frame start so frames decode alone. */
#define RRLOG_PRED_SLOTS 64
typedef struct RrRegPredictor {
    uint64_t prev[RR_MAX_REGS];
    uint64_t slot_pc[RRLOG_PRED_SLOTS];
    bool slot_used[RRLOG_PRED_SLOTS];
    uint64_t slot_regs[RRLOG_PRED_SLOTS][RR_MAX_REGS];
} RrRegPredictor;

static inline void rrlog_pred_reset(RrRegPredictor *p)
{
    memset(p->prev, 0, sizeof(p->prev));
    memset(p->slot_used, 0, sizeof(p->slot_used));
}

static inline unsigned rrlog_pred_slot(uint64_t pc)
{
    return (unsigned)((pc * 0x9e3779b97f4a7c15ull) >> 58);
}

static inline const uint64_t *rrlog_pred_base(const RrRegPredictor *p, uint64_t pc)
{
    unsigned s = rrlog_pred_slot(pc);
    return p->slot_used[s] && p->slot_pc[s] == pc ? p->slot_regs[s] : p->prev;
}

static inline void rrlog_pred_update(RrRegPredictor *p, const uint64_t *regs, uint32_t n)
{
    unsigned s = rrlog_pred_slot(regs[0]);
    memcpy(p->prev, regs, n * sizeof(uint64_t));
    memcpy(p->slot_regs[s], regs, n * sizeof(uint64_t));
    p->slot_pc[s] = regs[0];
    p->slot_used[s] = true;
}

/* Reads up to len bytes at off; returns the count (short only at EOF), or
 * -1 with errno set. */
ssize_t rrlog_pread(int fd, void *buf, size_t len, uint64_t off);

/* Opens path, checks and parses its header, looks for the index. */
bool rrlog_open(LogFile *lf, const char *path, GError **err);
void rrlog_close(LogFile *lf);

/* Reads and checks the header of the frame at s->pos. 1: *fh is a frame
 * whose bytes are all in the file; 0: the frames end (s->trunc says how);
 * -1: corrupt. */
int rrlog_scan_next(const LogFile *lf, Scan *s, FrameHdr *fh, GError **err);
/* Moves past the frame rrlog_scan_next returned. */
void rrlog_scan_advance(Scan *s, const FrameHdr *fh);

/* "frame N at offset 0x...: ..." for the frame s is at. */
int rrlog_frame_error(GError **err, const Scan *s, uint64_t off, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

#endif
