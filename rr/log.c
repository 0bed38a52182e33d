/* The record/replay log: event names, hashes, payload rules and the
 * writer (format in rr/log.h; reading in log_scan.c and log_read.c).
 *
 * The writer keeps one frame's events in a fixed buffer and compresses it
 * whole, so adding an event allocates nothing. */
#include "rr/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "rr/log_format.h"
#include "vmm/error.h"

static const char *const event_names[RR_EV__COUNT] = {
    [RR_EV_SERIAL_INPUT] = "serial_input",
    [RR_EV_HOST_CLOCK] = "host_clock",
    [RR_EV_SHIFT] = "shift",
    [RR_EV_WARP] = "warp",
    [RR_EV_RESET] = "reset",
    [RR_EV_QUIT] = "quit",
    [RR_EV_END] = "end",
    [RR_EV_TSC] = "tsc",
    [RR_EV_BLOCK] = "block",
    [RR_EV_NET] = "net",
    [RR_EV_INPUT] = "input",
    [RR_EV_AUDIO] = "audio",
    [RR_EV_CHECKPOINT] = "checkpoint",
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

bool rrlog_payload_ok(unsigned kind, const uint8_t *d, uint32_t len, char *why, size_t whylen)
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
        if ((len == 1 || (len == 2 && d[1] == 1)) && d[0] <= 63)
            return true;
        if (len == 2 && d[1] != 1)
            g_snprintf(why, whylen, "shift payload's second byte is %u, not 1 (lazy)", d[1]);
        else if (len != 1 && len != 2)
            g_snprintf(why, whylen, "shift payload is %" PRIu32 " bytes, not 1 or 2", len);
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
    case RR_EV_END: {
        if (len == 20)
            return true;
        uint32_t shift = len >= 28 ? le32_get(d + 20) : 0, n = len >= 28 ? le32_get(d + 24) : 0;
        if (len < 28) {
            g_snprintf(why, whylen, "end payload is %" PRIu32 " bytes, not 20 or 28 + a RAM map",
                       len);
        } else if (shift < 12 || shift > 40) {
            g_snprintf(why, whylen, "end RAM map chunk shift %" PRIu32 " is out of range "
                       "(12..40)", shift);
        } else if (n < 1 || n > RR_END_MAX_CHUNKS) {
            g_snprintf(why, whylen, "end RAM map has %" PRIu32 " chunks (1..%d)", n,
                       RR_END_MAX_CHUNKS);
        } else if (len != 28 + 8 * n) {
            g_snprintf(why, whylen, "end payload is %" PRIu32 " bytes, where a RAM map of %"
                       PRIu32 " chunks makes it %" PRIu32, len, n, 28 + 8 * n);
        } else {
            return true;
        }
        return false;
    }
    case RR_EV_TSC:             /* the counter; a memory (9) or state check (10) */
        if (len == 8 || len == 16 ||
            (len >= 24 && len % 8 == 0 && len <= 24 + 8 * RR_STATE_CHECK_MAX_DEVICES))
            return true;
        g_snprintf(why, whylen, "tsc payload is %" PRIu32 " bytes, not 8, 16 or 24 + 8n "
                   "(n <= %d)", len, RR_STATE_CHECK_MAX_DEVICES);
        return false;
    case RR_EV_BLOCK:
        if (len >= 12 && len <= 30)
            return true;
        g_snprintf(why, whylen, "block payload is %" PRIu32 " bytes, not 12 to 30", len);
        return false;
    case RR_EV_NET:
        if (len >= 3 && d[1] <= 1)
            return true;
        if (len < 3)
            g_snprintf(why, whylen, "net payload is %" PRIu32 " bytes, at least 3 expected",
                       len);
        else
            g_snprintf(why, whylen, "net payload has flags 0x%02x (only bit 0 is defined)",
                       d[1]);
        return false;
    case RR_EV_CHECKPOINT:
        if (len == 1 && d[0] <= 2)
            return true;
        if (len == 1)
            g_snprintf(why, whylen, "checkpoint payload is %u, not 0 (timers), 1 (clock read) "
                       "or 2 (lazy timers)", d[0]);
        else
            g_snprintf(why, whylen, "checkpoint payload is %" PRIu32 " bytes, not 1", len);
        return false;
    case RR_EV_AUDIO:
        if (len >= 3 && d[1] <= 1)
            return true;
        if (len < 3)
            g_snprintf(why, whylen, "audio payload is %" PRIu32 " bytes, at least 3 expected",
                       len);
        else
            g_snprintf(why, whylen, "audio payload names source %u (0 PCM in, 1 mic in)", d[1]);
        return false;
    case RR_EV_INPUT:
        if (len == 4 && d[0] == 0 && d[3] <= 1)
            return true;
        if (len == 14 && d[0] == 1)
            return true;
        if (len >= 1 && d[0] > 1)
            g_snprintf(why, whylen, "input payload names device %u (0 keyboard, 1 mouse)", d[0]);
        else if (len == 4 && d[0] == 0)
            g_snprintf(why, whylen, "input payload has key state %u (0 up, 1 down)", d[3]);
        else
            g_snprintf(why, whylen, "input payload is %" PRIu32 " bytes, not %s", len,
                       len && d[0] ? "14 (mouse)" : "4 (keyboard)");
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

/* ---------------------------------------------------------------- writer */

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
    RrRegPredictor pred;                /* delta bases inside the frame */
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
    rrlog_pred_reset(&w->pred);
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
    if (!rrlog_payload_ok(ev->kind, ev->data, ev->len, why, sizeof(why))) {
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
    const uint64_t *base = w->nregs ? rrlog_pred_base(&w->pred, ev->regs[0]) : w->pred.prev;
    for (uint32_t i = 0; i < w->nregs; i++) {
        uint64_t x = ev->regs[i] ^ (i == 0 ? w->pred.prev[0] : base[i]);
        if (x) {
            bits |= 1u << i;
            p += varint_put(p, x);
        }
    }
    if (w->nregs)
        rrlog_pred_update(&w->pred, ev->regs, w->nregs);
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

size_t rr_writer_pending(const RrWriter *w)
{
    return w->raw_len;
}

uint64_t rr_writer_bytes(const RrWriter *w)
{
    return w->bytes;
}

char *rr_memory_diff(const uint64_t *want, const uint64_t *have, const uint64_t *base, size_t n,
                     unsigned shift)
{
    uint64_t chunk = 1ull << shift;
    GString *g = g_string_new("guest-physical ");
    size_t ndiff = 0, nranges = 0;
    for (size_t i = 0; i < n; i++) {
        if (want[i] == have[i])
            continue;
        ndiff++;
        /* One range per run of adjacent differing chunks. */
        size_t j = i;
        while (j + 1 < n && want[j + 1] != have[j + 1] && base[j + 1] == base[j] + chunk)
            j++;
        ndiff += j - i;
        if (nranges++ < 6)
            g_string_append_printf(g, "%s%#" PRIx64 "-%#" PRIx64, nranges > 1 ? ", " : "",
                                   base[i], base[j] + chunk - 1);
        i = j;
    }
    if (!ndiff) {
        g_string_free(g, TRUE);
        return NULL;
    }
    if (nranges > 6)
        g_string_append_printf(g, " and %zu more ranges", nranges - 6);
    if (chunk >= (1ull << 20))
        g_string_append_printf(g, "; %zu of %zu %" PRIu64 " MiB chunks", ndiff, n, chunk >> 20);
    else
        g_string_append_printf(g, "; %zu of %zu %" PRIu64 " KiB chunks", ndiff, n, chunk >> 10);
    return g_string_free(g, FALSE);
}

bool rr_event_lazy(const RrEvent *ev)
{
    return (ev->kind == RR_EV_CHECKPOINT && ev->len == 1 && ev->data[0] == 2) ||
           (ev->kind == RR_EV_SHIFT && ev->len == 2 && ev->data[1] == 1);
}

bool rr_event_in_access(const RrEvent *ev)
{
    return ev->kind == RR_EV_HOST_CLOCK || ev->kind == RR_EV_BLOCK || ev->kind == RR_EV_END ||
           (ev->kind == RR_EV_CHECKPOINT && ev->data[0] == 1);
}

bool rr_event_async(const RrEvent *ev)
{
    /* Not at its RDTSC, not inside a device access, not lazy (at the
     * access after it). */
    return ev->kind != RR_EV_TSC && !rr_event_in_access(ev) && !rr_event_lazy(ev);
}
