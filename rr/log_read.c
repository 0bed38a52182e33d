/* The event reader: checks each frame's checksum, decompresses it into a
 * reused buffer and decodes it whole once before its first event is handed
 * out, so a corrupt frame is reported, never half delivered. */
#include <inttypes.h>
#include <string.h>
#include <zstd.h>

#include "rr/log_format.h"
#include "vmm/error.h"

typedef struct DecState {
    uint64_t icount, brcount;
    RrRegPredictor pred;
} DecState;

typedef enum ReaderState { RD_MORE, RD_END, RD_ERROR } ReaderState;

struct RrReader {
    LogFile lf;
    Scan s;
    ZSTD_DCtx *dctx;
    uint8_t *comp;
    size_t comp_cap;
    uint8_t *raw;
    size_t raw_cap;
    FrameHdr fh;                    /* the frame being delivered */
    const uint8_t *cur, *end;
    uint32_t left;                  /* its undelivered events */
    DecState st;
    uint64_t delivered;
    uint64_t last_icount, last_brcount;     /* of the last event checked */
    ReaderState state;
    GError *error;
    char *tail;
    /* Seeking (rr_reader_seek): where each frame loaded so far starts. */
    GArray *frames;                 /* of FrameMark, in file order */
    RrEvent *skip;                  /* scratch for skipped events */
};

typedef struct FrameMark {
    Scan before;                    /* the scan state before the frame */
    uint64_t last_icount, last_brcount;
} FrameMark;

/* Decodes the event at *pp against st; ev may be NULL (check only).
 * false with why filled on anything the writer would not produce. */
static bool decode_event(const uint8_t **pp, const uint8_t *end, uint32_t nregs,
                         uint32_t version, DecState *st, RrEvent *ev, char *why,
                         size_t whylen)
{
    const uint8_t *p = *pp;
    uint64_t di, db, mmio, len;

    if (p >= end) {
        g_snprintf(why, whylen, "the frame ends before it");
        return false;
    }
    unsigned kind = *p++;
    if (kind >= RR_EV__COUNT) {
        g_snprintf(why, whylen, "unknown kind %u", kind);
        return false;
    }
    /* Kinds later formats added (tsc: 2, block: 3, net: 4, input and audio: 5,
     * checkpoint: 6). */
    if ((kind == RR_EV_TSC && version < 2) || (kind == RR_EV_BLOCK && version < 3) ||
        (kind == RR_EV_NET && version < 4) || (kind == RR_EV_INPUT && version < 5) ||
        (kind == RR_EV_AUDIO && version < 5) ||
        (kind == RR_EV_CHECKPOINT && version < 6)) {
        const char *name = rr_event_name((RrEventKind)kind);
        g_snprintf(why, whylen, "a%s %s event in a version %" PRIu32 " log, which has none",
                   strchr("aeiou", name[0]) ? "n" : "", name, version);
        return false;
    }
    if (!varint_get(&p, end, &di) || !varint_get(&p, end, &db) || !varint_get(&p, end, &mmio)) {
        g_snprintf(why, whylen, "bad varint in its position");
        return false;
    }
    if (di > UINT64_MAX - st->icount || db > UINT64_MAX - st->brcount) {
        g_snprintf(why, whylen, "position overflows");
        return false;
    }
    if (end - p < 4) {
        g_snprintf(why, whylen, "the frame ends in its register bitmap");
        return false;
    }
    uint32_t bits = le32_get(p);
    p += 4;
    if (nregs < 32 && (bits >> nregs)) {
        g_snprintf(why, whylen, "register bitmap 0x%" PRIx32 " names registers beyond %" PRIu32,
                   bits, nregs);
        return false;
    }
    uint64_t regs[RR_MAX_REGS];
    const uint64_t *base = NULL;
    for (uint32_t i = 0; i < nregs; i++) {
        uint64_t x = 0;
        if ((bits & (1u << i)) && (!varint_get(&p, end, &x) || !x)) {
            g_snprintf(why, whylen, "bad value for register %" PRIu32, i);
            return false;
        }
        if (i == 0) {
            regs[0] = st->pred.prev[0] ^ x;
            base = rrlog_pred_base(&st->pred, regs[0]);
        } else {
            regs[i] = base[i] ^ x;
        }
    }
    if (!varint_get(&p, end, &len) || len > RR_MAX_PAYLOAD || len > (uint64_t)(end - p)) {
        g_snprintf(why, whylen, "bad payload length");
        return false;
    }
    if (!rrlog_payload_ok(kind, p, (uint32_t)len, why, whylen))
        return false;
    /* Lazy timer checkpoints and shift changes came with format 8. */
    if (version < 8 && ((kind == RR_EV_CHECKPOINT && p[0] == 2) ||
                        (kind == RR_EV_SHIFT && len == 2))) {
        g_snprintf(why, whylen, "a lazy %s event in a version %" PRIu32 " log, which has none",
                   rr_event_name((RrEventKind)kind), version);
        return false;
    }
    st->icount += di;
    st->brcount += db;
    if (nregs)
        rrlog_pred_update(&st->pred, regs, nregs);
    if (ev) {
        ev->kind = (RrEventKind)kind;
        ev->icount = st->icount;
        ev->brcount = st->brcount;
        ev->mmio = mmio;
        ev->nregs = nregs;
        memset(ev->regs, 0, sizeof(ev->regs));
        memcpy(ev->regs, regs, nregs * sizeof(uint64_t));
        ev->len = (uint32_t)len;
        memcpy(ev->data, p, len);
    }
    *pp = p + len;
    return true;
}

static bool grow(uint8_t **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return true;
    size_t n = MAX(need, *cap * 2);
    g_free(*buf);
    *buf = g_try_malloc(n);
    *cap = *buf ? n : 0;
    return *buf != NULL;
}

/* Reads, checks, decompresses and fully decodes the next frame.
 * 1: ready to deliver; 0: the frames end; -1: corrupt. */
static int load_frame(RrReader *r, GError **err)
{
    FrameHdr *fh = &r->fh;
    char why[160];
    FrameMark mark = { r->s, r->last_icount, r->last_brcount };

    int rc = rrlog_scan_next(&r->lf, &r->s, fh, err);
    if (rc <= 0)
        return rc;
    if (!grow(&r->comp, &r->comp_cap, fh->clen) || !grow(&r->raw, &r->raw_cap, fh->raw_len))
        return rrlog_frame_error(err, &r->s, fh->offset, "out of memory");
    ssize_t got = rrlog_pread(r->lf.fd, r->comp, fh->clen, fh->offset + FRAME_HDR);
    if (got != (ssize_t)fh->clen) {
        int e = got < 0 ? errno : EIO;
        return rrlog_frame_error(err, &r->s, fh->offset, "read error: %s", g_strerror(e));
    }
    if (rr_crc32c(0, r->comp, fh->clen) != fh->crc)
        return rrlog_frame_error(err, &r->s, fh->offset, "checksum mismatch");
    if (ZSTD_findFrameCompressedSize(r->comp, fh->clen) != fh->clen)
        return rrlog_frame_error(err, &r->s, fh->offset, "not a single zstd frame");
    size_t n = ZSTD_decompressDCtx(r->dctx, r->raw, fh->raw_len, r->comp, fh->clen);
    if (ZSTD_isError(n))
        return rrlog_frame_error(err, &r->s, fh->offset, "zstd: %s", ZSTD_getErrorName(n));
    if (n != fh->raw_len)
        return rrlog_frame_error(err, &r->s, fh->offset, "decompressed to %zu bytes, expected %"
                           PRIu32, n, fh->raw_len);

    const uint8_t *p = r->raw, *end = r->raw + fh->raw_len;
    DecState st;
    memset(&st, 0, sizeof(st));
    for (uint32_t i = 0; i < fh->nevents; i++) {
        if (!decode_event(&p, end, r->lf.h.nregs, r->lf.h.version, &st, NULL, why, sizeof(why)))
            return rrlog_frame_error(err, &r->s, fh->offset, "event %" PRIu64 ": %s",
                               fh->first_event + i, why);
        if (i == 0) {
            if (st.icount != fh->first_icount)
                return rrlog_frame_error(err, &r->s, fh->offset, "first event at icount %" PRIu64
                                   ", the frame header says %" PRIu64,
                                   st.icount, fh->first_icount);
            if (r->delivered && (st.icount < r->last_icount || st.brcount < r->last_brcount))
                return rrlog_frame_error(err, &r->s, fh->offset, "position goes back from icount %"
                                   PRIu64 " brcount %" PRIu64 " to icount %" PRIu64
                                   " brcount %" PRIu64, r->last_icount, r->last_brcount,
                                   st.icount, st.brcount);
        }
    }
    if (p != end)
        return rrlog_frame_error(err, &r->s, fh->offset, "%td bytes left after its %" PRIu32 " events",
                           end - p, fh->nevents);

    r->last_icount = st.icount;
    r->last_brcount = st.brcount;
    memset(&r->st, 0, sizeof(r->st));
    r->cur = r->raw;
    r->end = end;
    r->left = fh->nevents;
    if (mark.before.frame == r->frames->len)
        g_array_append_val(r->frames, mark);
    rrlog_scan_advance(&r->s, fh);
    return 1;
}

RrReader *rr_reader_open(const char *path, GError **err)
{
    RrReader *r = g_new0(RrReader, 1);
    if (!rrlog_open(&r->lf, path, err)) {
        g_free(r);
        return NULL;
    }
    r->dctx = ZSTD_createDCtx();
    if (!r->dctx) {
        tn_error(err, "cannot create a zstd decompression context");
        rrlog_close(&r->lf);
        g_free(r);
        return NULL;
    }
    r->s.pos = r->lf.frames_start;
    r->tail = g_strdup("");
    r->frames = g_array_new(FALSE, FALSE, sizeof(FrameMark));
    return r;
}

const RrHeader *rr_reader_header(const RrReader *r)
{
    return &r->lf.h;
}

static void set_tail(RrReader *r)
{
    const char *how;
    switch (r->s.trunc) {
    case TRUNC_FRAME:
        how = "with an incomplete frame: the recording was cut short";
        break;
    case TRUNC_NO_INDEX:
        how = "without an index: the recording was cut short";
        break;
    case TRUNC_INDEX:
        how = "with an incomplete index: the recording was cut short while closing";
        break;
    default:
        return;
    }
    g_free(r->tail);
    if (!r->s.frame)
        r->tail = g_strdup_printf("the log ends after its header %s", how);
    else
        r->tail = g_strdup_printf("the log ends after frame %" PRIu64 " (event %" PRIu64
                                  ", icount %" PRIu64 ") %s", r->s.frame - 1,
                                  r->delivered - 1, r->last_icount, how);
}

int rr_reader_next(RrReader *r, RrEvent *ev, GError **err)
{
    char why[160];

    if (r->state == RD_ERROR) {
        if (err)
            *err = g_error_copy(r->error);
        return -1;
    }
    if (r->state == RD_END)
        return 0;
    while (!r->left) {
        int rc = load_frame(r, &r->error);
        if (rc < 0) {
            r->state = RD_ERROR;
            if (err)
                *err = g_error_copy(r->error);
            return -1;
        }
        if (rc == 0) {
            r->state = RD_END;
            set_tail(r);
            return 0;
        }
    }
    if (!decode_event(&r->cur, r->end, r->lf.h.nregs, r->lf.h.version, &r->st, ev, why, sizeof(why))) {
        /* load_frame decoded this frame already: only a bug gets here */
        Scan at = r->s;
        at.frame--;
        rrlog_frame_error(&r->error, &at, r->fh.offset, "event %" PRIu64 ": %s", r->delivered, why);
        r->state = RD_ERROR;
        if (err)
            *err = g_error_copy(r->error);
        return -1;
    }
    r->left--;
    r->delivered++;
    return 1;
}

bool rr_reader_truncated(const RrReader *r)
{
    return r->state == RD_END && r->s.trunc != TRUNC_NONE;
}

const char *rr_reader_tail_message(const RrReader *r)
{
    return r->tail;
}

uint64_t rr_reader_event_index(const RrReader *r)
{
    return r->delivered;
}

void rr_reader_close(RrReader *r)
{
    if (!r)
        return;
    rrlog_close(&r->lf);
    ZSTD_freeDCtx(r->dctx);
    if (r->error)
        g_error_free(r->error);
    g_free(r->comp);
    g_free(r->raw);
    g_free(r->tail);
    g_array_free(r->frames, TRUE);
    g_free(r->skip);
    g_free(r);
}

bool rr_reader_seek(RrReader *r, uint64_t event, GError **err)
{
    /* The last frame seen that starts at or before the event. */
    const FrameMark *best = NULL;
    guint lo = 0, hi = r->frames->len;
    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        const FrameMark *f = &g_array_index(r->frames, FrameMark, mid);
        if (f->before.events <= event) {
            best = f;
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (best) {
        r->s = best->before;
        r->last_icount = best->last_icount;
        r->last_brcount = best->last_brcount;
        r->delivered = best->before.events;
    } else {
        memset(&r->s, 0, sizeof(r->s));
        r->s.pos = r->lf.frames_start;
        r->last_icount = r->last_brcount = 0;
        r->delivered = 0;
    }
    r->left = 0;
    r->state = RD_MORE;
    if (r->error)
        g_error_free(r->error);
    r->error = NULL;
    g_free(r->tail);
    r->tail = g_strdup("");
    if (!r->skip)
        r->skip = g_new(RrEvent, 1);
    while (r->delivered < event) {
        int rc = rr_reader_next(r, r->skip, err);
        if (rc < 0)
            return false;
        if (rc == 0) {
            tn_error(err, "the log has %" PRIu64 " events, cannot go to event %" PRIu64,
                     r->delivered, event);
            return false;
        }
    }
    return true;
}
