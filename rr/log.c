/* The record/replay log: writer and reader (format in rr/log.h).
 *
 * The reader trusts nothing in the file: every length is checked against a
 * fixed cap and against the bytes the file holds before anything is
 * allocated, every frame's checksum before it is decompressed, and a whole
 * frame is decoded once before its first event is handed out, so a corrupt
 * frame is reported, never half delivered. */
#include "rr/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "rr/varint.h"
#include "vmm/error.h"

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

static const char *const event_names[RR_EV__COUNT] = {
    [RR_EV_SERIAL_INPUT] = "serial_input",
    [RR_EV_HOST_CLOCK] = "host_clock",
    [RR_EV_SHIFT] = "shift",
    [RR_EV_WARP] = "warp",
    [RR_EV_RESET] = "reset",
    [RR_EV_QUIT] = "quit",
    [RR_EV_END] = "end",
};

const char *rr_event_name(RrEventKind k)
{
    if ((unsigned)k >= RR_EV__COUNT)
        return "unknown";
    return event_names[k];
}

uint64_t rr_fnv1a64(const void *buf, size_t len, uint64_t seed)
{
    const uint8_t *p = buf;
    uint64_t h = seed;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* The payload layouts of rr/log.h, enforced on both sides so that the
 * tools and the replayer can decode a payload without second-guessing it. */
static bool payload_ok(unsigned kind, const uint8_t *d, uint32_t len, char *why, size_t whylen)
{
    uint64_t v;
    const uint8_t *p = d;
    switch (kind) {
    case RR_EV_SERIAL_INPUT:
        if (len >= 1)
            return true;
        g_snprintf(why, whylen, "serial_input payload has no port byte");
        return false;
    case RR_EV_HOST_CLOCK:
        if (len == 8)
            return true;
        g_snprintf(why, whylen, "host_clock payload is %" PRIu32 " bytes, not 8", len);
        return false;
    case RR_EV_SHIFT:
        if (len == 1 && d[0] <= 63)
            return true;
        if (len != 1)
            g_snprintf(why, whylen, "shift payload is %" PRIu32 " bytes, not 1", len);
        else
            g_snprintf(why, whylen, "shift %u is out of range (0..63)", d[0]);
        return false;
    case RR_EV_WARP:
        if (varint_get(&p, d + len, &v) && p == d + len)
            return true;
        g_snprintf(why, whylen, "warp payload is not one varint");
        return false;
    case RR_EV_RESET:
    case RR_EV_QUIT:
        if (len == 0)
            return true;
        g_snprintf(why, whylen, "%s event carries %" PRIu32 " payload bytes, expected none",
                   event_names[kind], len);
        return false;
    case RR_EV_END:
        if (len == 20)
            return true;
        g_snprintf(why, whylen, "end payload is %" PRIu32 " bytes, not 20", len);
        return false;
    }
    g_snprintf(why, whylen, "unknown event kind %u", kind);
    return false;
}

static bool write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* Reads up to len bytes at off; returns the count (short only at EOF), or
 * -1 with errno set. */
static ssize_t pread_full(int fd, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, p + got, len - got, (off_t)(off + got));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* ---------------------------------------------------------------- writer */

typedef struct IndexEnt {
    uint64_t offset, first_icount, first_event;
} IndexEnt;

struct RrWriter {
    int fd;
    char *path;
    uint32_t nregs;
    ZSTD_CCtx *cctx;
    uint8_t *raw;                   /* the open frame's events */
    size_t raw_len;
    uint8_t *out;                   /* frame header + compressed bytes */
    size_t out_cap;
    uint32_t frame_events;
    uint64_t frame_first_event, frame_first_icount;
    uint64_t prev_regs[RR_MAX_REGS];    /* delta base inside the frame */
    uint64_t events;
    uint64_t last_icount, last_brcount;
    uint64_t bytes;                 /* written to the file */
    GArray *index;                  /* IndexEnt per written frame */
    GError *failed;                 /* a write failed: the file is unusable */
};

static bool writer_failed(RrWriter *w, GError **err)
{
    if (err)
        *err = g_error_copy(w->failed);
    return false;
}

static bool writer_io_error(RrWriter *w, GError **err, const char *what)
{
    int e = errno;
    g_set_error(&w->failed, TANDEM_ERROR, 0, "%s: %s: %s", w->path, what, g_strerror(e));
    return writer_failed(w, err);
}

RrWriter *rr_writer_open(const char *path, const RrHeader *h, GError **err)
{
    const char *arch = h->arch ? h->arch : "";
    const char *config = h->config ? h->config : "";
    const char *snap = h->snapshot ? h->snapshot : "";
    size_t la = strlen(arch), lc = strlen(config), ls = strlen(snap);

    if (h->nregs > RR_MAX_REGS) {
        tn_error(err, "%s: %" PRIu32 " registers per event, the log holds at most %d",
                 path, h->nregs, RR_MAX_REGS);
        return NULL;
    }
    if (h->shift < -1 || h->shift > 63) {
        tn_error(err, "%s: shift %" PRId32 " is out of range", path, h->shift);
        return NULL;
    }
    size_t body = varint_len(la) + la + varint_len(lc) + lc + varint_len(ls) + ls +
                  4 + 4 + 8 + 4;
    if (la > HDR_MAX_BODY || lc > HDR_MAX_BODY || ls > HDR_MAX_BODY || body > HDR_MAX_BODY) {
        tn_error(err, "%s: the log header would exceed %d bytes", path, HDR_MAX_BODY);
        return NULL;
    }

    uint8_t *hb = g_malloc(HDR_FIXED + body);
    uint8_t *p = hb;
    memcpy(p, LOG_MAGIC, 8);
    le32_put(p + 8, RR_LOG_VERSION);
    le32_put(p + 12, (uint32_t)body);
    p += HDR_FIXED;
    p += varint_put(p, la);
    memcpy(p, arch, la);
    p += la;
    p += varint_put(p, lc);
    memcpy(p, config, lc);
    p += lc;
    p += varint_put(p, ls);
    memcpy(p, snap, ls);
    p += ls;
    le32_put(p, (uint32_t)h->shift);
    le32_put(p + 4, h->nregs);
    le64_put(p + 8, rr_fnv1a64(config, lc, RR_FNV1A64_SEED));
    p += 16;
    le32_put(p, rr_crc32c(0, hb + HDR_FIXED, (size_t)(p - hb - HDR_FIXED)));
    p += 4;

    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        tn_error(err, "cannot create %s: %s", path, g_strerror(e));
        g_free(hb);
        return NULL;
    }
    if (!write_all(fd, hb, (size_t)(p - hb))) {
        int e = errno;
        tn_error(err, "%s: writing the log header: %s", path, g_strerror(e));
        close(fd);
        g_free(hb);
        return NULL;
    }

    RrWriter *w = g_new0(RrWriter, 1);
    w->fd = fd;
    w->path = g_strdup(path);
    w->nregs = h->nregs;
    w->cctx = ZSTD_createCCtx();
    w->raw = g_malloc(FRAME_TARGET_RAW + EVENT_MAX);
    w->out_cap = FRAME_HDR + ZSTD_compressBound(FRAME_TARGET_RAW + EVENT_MAX);
    w->out = g_malloc(w->out_cap);
    w->bytes = (uint64_t)(p - hb);
    w->index = g_array_new(false, false, sizeof(IndexEnt));
    g_free(hb);
    if (!w->cctx) {
        tn_error(err, "%s: cannot create a zstd compression context", path);
        close(w->fd);
        w->fd = -1;
        g_array_free(w->index, true);
        g_free(w->out);
        g_free(w->raw);
        g_free(w->path);
        g_free(w);
        return NULL;
    }
    return w;
}

static bool flush_frame(RrWriter *w, GError **err)
{
    if (!w->frame_events)
        return true;
    size_t n = ZSTD_compressCCtx(w->cctx, w->out + FRAME_HDR, w->out_cap - FRAME_HDR,
                                 w->raw, w->raw_len, ZSTD_LEVEL);
    uint8_t *h = w->out;
    IndexEnt ie = { w->bytes, w->frame_first_icount, w->frame_first_event };
    uint32_t nev = w->frame_events, raw = (uint32_t)w->raw_len;

    w->raw_len = 0;
    w->frame_events = 0;
    memset(w->prev_regs, 0, sizeof(w->prev_regs));
    if (ZSTD_isError(n)) {
        g_set_error(&w->failed, TANDEM_ERROR, 0, "%s: zstd: %s", w->path, ZSTD_getErrorName(n));
        return writer_failed(w, err);
    }
    memcpy(h, FRAME_MAGIC, 4);
    le32_put(h + 4, (uint32_t)n);
    le32_put(h + 8, raw);
    le32_put(h + 12, nev);
    le64_put(h + 16, ie.first_event);
    le64_put(h + 24, ie.first_icount);
    le32_put(h + 32, rr_crc32c(0, h + FRAME_HDR, n));
    if (!write_all(w->fd, h, FRAME_HDR + n))
        return writer_io_error(w, err, "writing a frame");
    g_array_append_val(w->index, ie);
    w->bytes += FRAME_HDR + n;
    return true;
}

bool rr_writer_add(RrWriter *w, const RrEvent *ev, GError **err)
{
    char why[128];

    if (w->failed)
        return writer_failed(w, err);
    if ((unsigned)ev->kind >= RR_EV__COUNT) {
        tn_error(err, "event %" PRIu64 ": unknown kind %u", w->events, (unsigned)ev->kind);
        return false;
    }
    if (ev->nregs != w->nregs) {
        tn_error(err, "event %" PRIu64 ": %" PRIu32 " registers, the log header says %" PRIu32,
                 w->events, ev->nregs, w->nregs);
        return false;
    }
    if (ev->len > RR_MAX_PAYLOAD) {
        tn_error(err, "event %" PRIu64 ": payload of %" PRIu32 " bytes exceeds %d",
                 w->events, ev->len, RR_MAX_PAYLOAD);
        return false;
    }
    if (w->events && (ev->icount < w->last_icount || ev->brcount < w->last_brcount)) {
        tn_error(err, "event %" PRIu64 " (%s): position goes back from icount %" PRIu64
                 " brcount %" PRIu64 " to icount %" PRIu64 " brcount %" PRIu64,
                 w->events, rr_event_name(ev->kind), w->last_icount, w->last_brcount,
                 ev->icount, ev->brcount);
        return false;
    }
    if (!payload_ok(ev->kind, ev->data, ev->len, why, sizeof(why))) {
        tn_error(err, "event %" PRIu64 ": %s", w->events, why);
        return false;
    }

    bool first = w->frame_events == 0;
    uint8_t *p = w->raw + w->raw_len;
    *p++ = (uint8_t)ev->kind;
    p += varint_put(p, ev->icount - (first ? 0 : w->last_icount));
    p += varint_put(p, ev->brcount - (first ? 0 : w->last_brcount));
    p += varint_put(p, ev->mmio);
    uint8_t *bitmap = p;
    uint32_t bits = 0;
    p += 4;
    for (uint32_t i = 0; i < w->nregs; i++) {
        uint64_t x = ev->regs[i] ^ w->prev_regs[i];
        if (x) {
            bits |= 1u << i;
            p += varint_put(p, x);
            w->prev_regs[i] = ev->regs[i];
        }
    }
    le32_put(bitmap, bits);
    p += varint_put(p, ev->len);
    memcpy(p, ev->data, ev->len);
    p += ev->len;

    if (first) {
        w->frame_first_event = w->events;
        w->frame_first_icount = ev->icount;
    }
    w->raw_len = (size_t)(p - w->raw);
    w->frame_events++;
    w->events++;
    w->last_icount = ev->icount;
    w->last_brcount = ev->brcount;
    if (w->raw_len >= FRAME_TARGET_RAW || w->frame_events >= FRAME_TARGET_EVENTS)
        return flush_frame(w, err);
    return true;
}

bool rr_writer_flush(RrWriter *w, GError **err)
{
    if (w->failed)
        return writer_failed(w, err);
    return flush_frame(w, err);
}

static bool write_index(RrWriter *w, GError **err)
{
    if (w->index->len > UINT32_MAX) {
        g_set_error(&w->failed, TANDEM_ERROR, 0, "%s: too many frames for the index", w->path);
        return writer_failed(w, err);
    }
    size_t n = w->index->len;
    size_t len = INDEX_HEAD + n * INDEX_ENTRY + 4 + TRAILER;
    uint8_t *b = g_malloc(len);
    uint8_t *p = b;
    memcpy(p, INDEX_MAGIC, 4);
    le32_put(p + 4, (uint32_t)n);
    p += INDEX_HEAD;
    for (size_t i = 0; i < n; i++) {
        const IndexEnt *e = &g_array_index(w->index, IndexEnt, i);
        le64_put(p, e->offset);
        le64_put(p + 8, e->first_icount);
        le64_put(p + 16, e->first_event);
        p += INDEX_ENTRY;
    }
    le32_put(p, rr_crc32c(0, b, (size_t)(p - b)));
    p += 4;
    memcpy(p, TRAILER_MAGIC, 4);
    le64_put(p + 4, w->bytes);
    bool ok = write_all(w->fd, b, len);
    g_free(b);
    if (!ok)
        return writer_io_error(w, err, "writing the index");
    w->bytes += len;
    return true;
}

bool rr_writer_close(RrWriter *w, GError **err)
{
    bool ok = rr_writer_flush(w, err) && write_index(w, err);
    if (close(w->fd) < 0 && ok) {
        int e = errno;
        tn_error(err, "%s: closing: %s", w->path, g_strerror(e));
        ok = false;
    }
    ZSTD_freeCCtx(w->cctx);
    g_array_free(w->index, true);
    if (w->failed)
        g_error_free(w->failed);
    g_free(w->out);
    g_free(w->raw);
    g_free(w->path);
    g_free(w);
    return ok;
}

uint64_t rr_writer_events(const RrWriter *w)
{
    return w->events;
}

uint64_t rr_writer_bytes(const RrWriter *w)
{
    return w->bytes;
}

/* ---------------------------------------------------------------- reading */

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

static void logfile_close(LogFile *lf)
{
    if (lf->fd >= 0)
        close(lf->fd);
    lf->fd = -1;
    g_free(lf->h.arch);
    g_free(lf->h.config);
    g_free(lf->h.snapshot);
    g_free(lf->idx_err);
    g_free(lf->idx);
}

static bool get_string(const uint8_t **p, const uint8_t *end, char **out)
{
    uint64_t n;
    if (!varint_get(p, end, &n) || n > (uint64_t)(end - *p) || memchr(*p, 0, n))
        return false;
    *out = g_strndup((const char *)*p, n);
    *p += n;
    return true;
}

static bool parse_header(LogFile *lf, GError **err)
{
    uint8_t fx[HDR_FIXED];
    ssize_t n = pread_full(lf->fd, fx, sizeof(fx), 0);
    if (n < 0) {
        int e = errno;
        tn_error(err, "reading the log header: %s", g_strerror(e));
        return false;
    }
    if (memcmp(fx, LOG_MAGIC, MIN((size_t)n, 8))) {
        tn_error(err, "not a Tandem record/replay log (bad magic)");
        return false;
    }
    if (n < 12) {
        tn_error(err, "truncated log header (the file holds %zd bytes)", n);
        return false;
    }
    uint32_t version = le32_get(fx + 8);
    if (version != RR_LOG_VERSION) {
        tn_error(err, "log format version %" PRIu32 ", this Tandem reads version %d",
                 version, RR_LOG_VERSION);
        return false;
    }
    if (n < HDR_FIXED) {
        tn_error(err, "truncated log header (the file holds %zd bytes)", n);
        return false;
    }
    uint32_t blen = le32_get(fx + 12);
    if (blen < HDR_MIN_BODY || blen > HDR_MAX_BODY) {
        tn_error(err, "log header: implausible length %" PRIu32, blen);
        return false;
    }
    if (HDR_FIXED + (uint64_t)blen > lf->size) {
        tn_error(err, "truncated log header (%" PRIu64 " of %" PRIu32 " bytes)",
                 lf->size - HDR_FIXED, blen);
        return false;
    }
    uint8_t *body = g_malloc(blen);
    bool ok = false;
    n = pread_full(lf->fd, body, blen, HDR_FIXED);
    if (n != (ssize_t)blen) {
        int e = n < 0 ? errno : EIO;
        tn_error(err, "reading the log header: %s", g_strerror(e));
        goto free_body;
    }
    const uint8_t *p = body, *end = body + blen - 4;
    if (rr_crc32c(0, body, blen - 4) != le32_get(end)) {
        tn_error(err, "log header: checksum mismatch");
        goto free_body;
    }
    if (!get_string(&p, end, &lf->h.arch) || !get_string(&p, end, &lf->h.config) ||
        !get_string(&p, end, &lf->h.snapshot) || end - p != 16) {
        tn_error(err, "log header: malformed");
        goto free_body;
    }
    lf->h.version = version;
    lf->h.shift = (int32_t)le32_get(p);
    lf->h.nregs = le32_get(p + 4);
    lf->h.config_hash = le64_get(p + 8);
    if (lf->h.shift < -1 || lf->h.shift > 63) {
        tn_error(err, "log header: shift %" PRId32 " is out of range", lf->h.shift);
        goto free_body;
    }
    if (lf->h.nregs > RR_MAX_REGS) {
        tn_error(err, "log header: %" PRIu32 " registers per event (at most %d)",
                 lf->h.nregs, RR_MAX_REGS);
        goto free_body;
    }
    if (lf->h.config_hash != rr_fnv1a64(lf->h.config, strlen(lf->h.config), RR_FNV1A64_SEED)) {
        tn_error(err, "log header: configuration hash does not match the configuration");
        goto free_body;
    }
    lf->frames_start = HDR_FIXED + (uint64_t)blen;
    ok = true;
free_body:
    g_free(body);
    return ok;
}

/* A file that ends in "TRND" claims an index: from then on the frames must
 * end exactly where it starts and agree with it, so a damaged length is
 * told from a recording cut short. */
static void probe_index(LogFile *lf)
{
    uint8_t t[TRAILER], ih[INDEX_HEAD];

    lf->frames_end = lf->size;
    if (lf->size < lf->frames_start + TRAILER ||
        pread_full(lf->fd, t, TRAILER, lf->size - TRAILER) != TRAILER ||
        memcmp(t, TRAILER_MAGIC, 4))
        return;
    lf->idx_claimed = true;
    lf->frames_end = lf->size - TRAILER;

    uint64_t off = le64_get(t + 4);
    uint64_t room = lf->size - TRAILER;
    if (off < lf->frames_start || off > room || room - off < INDEX_HEAD + 4) {
        lf->idx_err = g_strdup_printf("the trailer points at offset 0x%" PRIx64
                                      ", outside the log", off);
        return;
    }
    if (pread_full(lf->fd, ih, INDEX_HEAD, off) != INDEX_HEAD || memcmp(ih, INDEX_MAGIC, 4)) {
        lf->idx_err = g_strdup_printf("index at offset 0x%" PRIx64 ": bad magic", off);
        return;
    }
    uint32_t n = le32_get(ih + 4);
    uint64_t len = INDEX_HEAD + (uint64_t)n * INDEX_ENTRY + 4;
    if (room - off != len) {
        lf->idx_err = g_strdup_printf("index at offset 0x%" PRIx64 ": %" PRIu32
                                      " entries do not fill its %" PRIu64 " bytes",
                                      off, n, room - off);
        return;
    }
    uint8_t *b = g_malloc(len);
    if (pread_full(lf->fd, b, len, off) != (ssize_t)len) {
        lf->idx_err = g_strdup_printf("index at offset 0x%" PRIx64 ": read error", off);
        goto free_buf;
    }
    if (rr_crc32c(0, b, len - 4) != le32_get(b + len - 4)) {
        lf->idx_err = g_strdup_printf("index at offset 0x%" PRIx64 ": checksum mismatch", off);
        goto free_buf;
    }
    lf->idx = g_new(IndexEnt, n ? n : 1);
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = b + INDEX_HEAD + (size_t)i * INDEX_ENTRY;
        lf->idx[i].offset = le64_get(e);
        lf->idx[i].first_icount = le64_get(e + 8);
        lf->idx[i].first_event = le64_get(e + 16);
    }
    lf->nidx = n;
    lf->has_index = true;
    lf->frames_end = off;
free_buf:
    g_free(b);
}

static bool logfile_open(LogFile *lf, const char *path, GError **err)
{
    struct stat st;

    memset(lf, 0, sizeof(*lf));
    lf->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (lf->fd < 0) {
        int e = errno;
        tn_error(err, "cannot open %s: %s", path, g_strerror(e));
        return false;
    }
    if (fstat(lf->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        tn_error(err, "%s: not a regular file", path);
        goto fail;
    }
    lf->size = (uint64_t)st.st_size;
    if (!parse_header(lf, err))
        goto fail;
    probe_index(lf);
    return true;
fail:
    logfile_close(lf);
    return false;
}

static int frame_error(GError **err, const Scan *s, uint64_t off, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

static int frame_error(GError **err, const Scan *s, uint64_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    tn_error(err, "frame %" PRIu64 " at offset 0x%" PRIx64 ": %s", s->frame, off, msg);
    g_free(msg);
    return -1;
}

static int index_error(const LogFile *lf, GError **err)
{
    tn_error(err, "%s", lf->idx_err);
    return -1;
}

/* The frame at s->pos does not fit in what is left: the end of a recording
 * cut short, unless the file claims to be complete. */
static int frame_cut(const LogFile *lf, Scan *s, GError **err)
{
    if (lf->idx_err)
        return index_error(lf, err);
    if (lf->idx_claimed)
        return frame_error(err, s, s->pos, "runs past the index at offset 0x%" PRIx64,
                           lf->frames_end);
    s->trunc = TRUNC_FRAME;
    return 0;
}

/* "TRIX" where a frame could start in a file without a trailer: an index
 * cut short, or one whose trailer is damaged. */
static int index_unclaimed(const LogFile *lf, Scan *s, const uint8_t *b, uint64_t avail,
                           GError **err)
{
    if (avail >= INDEX_HEAD) {
        uint64_t need = INDEX_HEAD + (uint64_t)le32_get(b + 4) * INDEX_ENTRY + 4 + TRAILER;
        if (avail >= need) {
            tn_error(err, "index at offset 0x%" PRIx64 ": no valid trailer after it", s->pos);
            return -1;
        }
    }
    s->trunc = TRUNC_INDEX;
    return 0;
}

/* Reads and checks the header of the frame at s->pos. 1: *fh is a frame
 * whose bytes are all in the file; 0: the frames end (s->trunc says how);
 * -1: corrupt. */
static int scan_next(const LogFile *lf, Scan *s, FrameHdr *fh, GError **err)
{
    uint8_t b[FRAME_HDR];

    if (s->pos >= lf->frames_end) {
        if (lf->has_index) {
            if (s->frame != lf->nidx) {
                tn_error(err, "index at offset 0x%" PRIx64 ": lists %" PRIu32
                         " frames, the log holds %" PRIu64, lf->frames_end, lf->nidx, s->frame);
                return -1;
            }
            return 0;
        }
        if (lf->idx_err)
            return index_error(lf, err);
        s->trunc = TRUNC_NO_INDEX;
        return 0;
    }
    uint64_t avail = lf->frames_end - s->pos;
    size_t want = (size_t)MIN(avail, (uint64_t)FRAME_HDR);
    ssize_t got = pread_full(lf->fd, b, want, s->pos);
    if (got != (ssize_t)want) {
        int e = got < 0 ? errno : EIO;
        return frame_error(err, s, s->pos, "read error: %s", g_strerror(e));
    }
    if (want < 4) {
        if (!memcmp(b, FRAME_MAGIC, want) || !memcmp(b, INDEX_MAGIC, want))
            return frame_cut(lf, s, err);
        return frame_error(err, s, s->pos, "bad magic");
    }
    if (!memcmp(b, INDEX_MAGIC, 4)) {
        if (lf->idx_err)
            return index_error(lf, err);
        if (lf->idx_claimed)
            return frame_error(err, s, s->pos, "an index where a frame belongs");
        return index_unclaimed(lf, s, b, avail, err);
    }
    if (memcmp(b, FRAME_MAGIC, 4))
        return frame_error(err, s, s->pos, "bad magic");
    if (want < FRAME_HDR)
        return frame_cut(lf, s, err);

    fh->offset = s->pos;
    fh->clen = le32_get(b + 4);
    fh->raw_len = le32_get(b + 8);
    fh->nevents = le32_get(b + 12);
    fh->first_event = le64_get(b + 16);
    fh->first_icount = le64_get(b + 24);
    fh->crc = le32_get(b + 32);
    if (fh->nevents == 0)
        return frame_error(err, s, s->pos, "holds no events");
    if (fh->raw_len > FRAME_MAX_RAW)
        return frame_error(err, s, s->pos, "raw length %" PRIu32 " exceeds %d",
                           fh->raw_len, FRAME_MAX_RAW);
    if (fh->nevents > fh->raw_len / EVENT_MIN)
        return frame_error(err, s, s->pos, "%" PRIu32 " events cannot fit in %" PRIu32 " bytes",
                           fh->nevents, fh->raw_len);
    if (fh->clen == 0 || fh->clen > ZSTD_compressBound(fh->raw_len))
        return frame_error(err, s, s->pos, "compressed length %" PRIu32
                           " is implausible for %" PRIu32 " bytes", fh->clen, fh->raw_len);
    if (fh->first_event != s->events)
        return frame_error(err, s, s->pos, "starts at event %" PRIu64 ", expected %" PRIu64,
                           fh->first_event, s->events);
    if (s->frame && fh->first_icount < s->prev_first_icount)
        return frame_error(err, s, s->pos, "icount goes back from %" PRIu64 " to %" PRIu64,
                           s->prev_first_icount, fh->first_icount);
    if (lf->has_index) {
        if (s->frame >= lf->nidx)
            return frame_error(err, s, s->pos, "missing from the index (%" PRIu32 " entries)",
                               lf->nidx);
        const IndexEnt *e = &lf->idx[s->frame];
        if (e->offset != fh->offset || e->first_icount != fh->first_icount ||
            e->first_event != fh->first_event)
            return frame_error(err, s, s->pos, "does not match its index entry (offset 0x%"
                               PRIx64 ", event %" PRIu64 ", icount %" PRIu64 ")",
                               e->offset, e->first_event, e->first_icount);
    }
    if (fh->clen > avail - FRAME_HDR)
        return frame_cut(lf, s, err);
    s->pos += FRAME_HDR + (uint64_t)fh->clen;
    return 1;
}

/* Moves past the frame scan_next returned. */
static void scan_advance(Scan *s, const FrameHdr *fh)
{
    s->frame++;
    s->events += fh->nevents;
    s->prev_first_icount = fh->first_icount;
}

/* ---------------------------------------------------------------- reader */

typedef struct DecState {
    uint64_t icount, brcount;
    uint64_t regs[RR_MAX_REGS];
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
};

/* Decodes the event at *pp against st; ev may be NULL (check only).
 * false with why filled on anything the writer would not produce. */
static bool decode_event(const uint8_t **pp, const uint8_t *end, uint32_t nregs,
                         DecState *st, RrEvent *ev, char *why, size_t whylen)
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
    for (uint32_t i = 0; i < nregs; i++) {
        if (!(bits & (1u << i)))
            continue;
        uint64_t x;
        if (!varint_get(&p, end, &x) || !x) {
            g_snprintf(why, whylen, "bad value for register %" PRIu32, i);
            return false;
        }
        st->regs[i] ^= x;
    }
    if (!varint_get(&p, end, &len) || len > RR_MAX_PAYLOAD || len > (uint64_t)(end - p)) {
        g_snprintf(why, whylen, "bad payload length");
        return false;
    }
    if (!payload_ok(kind, p, (uint32_t)len, why, whylen))
        return false;
    st->icount += di;
    st->brcount += db;
    if (ev) {
        ev->kind = (RrEventKind)kind;
        ev->icount = st->icount;
        ev->brcount = st->brcount;
        ev->mmio = mmio;
        ev->nregs = nregs;
        memcpy(ev->regs, st->regs, sizeof(ev->regs));
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

    int rc = scan_next(&r->lf, &r->s, fh, err);
    if (rc <= 0)
        return rc;
    if (!grow(&r->comp, &r->comp_cap, fh->clen) || !grow(&r->raw, &r->raw_cap, fh->raw_len))
        return frame_error(err, &r->s, fh->offset, "out of memory");
    ssize_t got = pread_full(r->lf.fd, r->comp, fh->clen, fh->offset + FRAME_HDR);
    if (got != (ssize_t)fh->clen) {
        int e = got < 0 ? errno : EIO;
        return frame_error(err, &r->s, fh->offset, "read error: %s", g_strerror(e));
    }
    if (rr_crc32c(0, r->comp, fh->clen) != fh->crc)
        return frame_error(err, &r->s, fh->offset, "checksum mismatch");
    if (ZSTD_findFrameCompressedSize(r->comp, fh->clen) != fh->clen)
        return frame_error(err, &r->s, fh->offset, "not a single zstd frame");
    size_t n = ZSTD_decompressDCtx(r->dctx, r->raw, fh->raw_len, r->comp, fh->clen);
    if (ZSTD_isError(n))
        return frame_error(err, &r->s, fh->offset, "zstd: %s", ZSTD_getErrorName(n));
    if (n != fh->raw_len)
        return frame_error(err, &r->s, fh->offset, "decompressed to %zu bytes, expected %"
                           PRIu32, n, fh->raw_len);

    const uint8_t *p = r->raw, *end = r->raw + fh->raw_len;
    DecState st;
    memset(&st, 0, sizeof(st));
    for (uint32_t i = 0; i < fh->nevents; i++) {
        if (!decode_event(&p, end, r->lf.h.nregs, &st, NULL, why, sizeof(why)))
            return frame_error(err, &r->s, fh->offset, "event %" PRIu64 ": %s",
                               fh->first_event + i, why);
        if (i == 0) {
            if (st.icount != fh->first_icount)
                return frame_error(err, &r->s, fh->offset, "first event at icount %" PRIu64
                                   ", the frame header says %" PRIu64,
                                   st.icount, fh->first_icount);
            if (r->delivered && (st.icount < r->last_icount || st.brcount < r->last_brcount))
                return frame_error(err, &r->s, fh->offset, "position goes back from icount %"
                                   PRIu64 " brcount %" PRIu64 " to icount %" PRIu64
                                   " brcount %" PRIu64, r->last_icount, r->last_brcount,
                                   st.icount, st.brcount);
        }
    }
    if (p != end)
        return frame_error(err, &r->s, fh->offset, "%td bytes left after its %" PRIu32 " events",
                           end - p, fh->nevents);

    r->last_icount = st.icount;
    r->last_brcount = st.brcount;
    memset(&r->st, 0, sizeof(r->st));
    r->cur = r->raw;
    r->end = end;
    r->left = fh->nevents;
    scan_advance(&r->s, fh);
    return 1;
}

RrReader *rr_reader_open(const char *path, GError **err)
{
    RrReader *r = g_new0(RrReader, 1);
    if (!logfile_open(&r->lf, path, err)) {
        g_free(r);
        return NULL;
    }
    r->dctx = ZSTD_createDCtx();
    if (!r->dctx) {
        tn_error(err, "cannot create a zstd decompression context");
        logfile_close(&r->lf);
        g_free(r);
        return NULL;
    }
    r->s.pos = r->lf.frames_start;
    r->tail = g_strdup("");
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
    if (!decode_event(&r->cur, r->end, r->lf.h.nregs, &r->st, ev, why, sizeof(why))) {
        /* load_frame decoded this frame already: only a bug gets here */
        Scan at = r->s;
        at.frame--;
        frame_error(&r->error, &at, r->fh.offset, "event %" PRIu64 ": %s", r->delivered, why);
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
    logfile_close(&r->lf);
    ZSTD_freeDCtx(r->dctx);
    if (r->error)
        g_error_free(r->error);
    g_free(r->comp);
    g_free(r->raw);
    g_free(r->tail);
    g_free(r);
}

bool rr_log_frames(const char *path, RrFrameInfo **out, size_t *n, bool *has_index,
                   GError **err)
{
    LogFile lf;
    Scan s = { 0 };
    FrameHdr fh;
    int rc;

    *out = NULL;
    *n = 0;
    *has_index = false;
    if (!logfile_open(&lf, path, err))
        return false;
    GArray *a = g_array_new(false, false, sizeof(RrFrameInfo));
    s.pos = lf.frames_start;
    while ((rc = scan_next(&lf, &s, &fh, err)) > 0) {
        RrFrameInfo fi = {
            .offset = fh.offset, .first_event = fh.first_event,
            .first_icount = fh.first_icount, .nevents = fh.nevents,
            .compressed_len = fh.clen, .raw_len = fh.raw_len,
        };
        g_array_append_val(a, fi);
        scan_advance(&s, &fh);
    }
    if (rc == 0) {
        *n = a->len;
        *out = (RrFrameInfo *)(void *)g_array_free(a, false);
        *has_index = lf.has_index;
    } else {
        g_array_free(a, true);
    }
    logfile_close(&lf);
    return rc == 0;
}
