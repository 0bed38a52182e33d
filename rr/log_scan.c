/* Reading the log's structure: header, index, frame headers.
 *
 * Nothing in the file is trusted: every length is checked against a fixed
 * cap and against the bytes the file holds before anything is allocated. A
 * file that ends in "TRND" claims to be complete, which is how a damaged
 * length is told from a recording cut short. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "rr/log_format.h"
#include "vmm/error.h"

ssize_t rrlog_pread(int fd, void *buf, size_t len, uint64_t off)
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

void rrlog_close(LogFile *lf)
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
    ssize_t n = rrlog_pread(lf->fd, fx, sizeof(fx), 0);
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
    if (version < RR_LOG_VERSION_MIN || version > RR_LOG_VERSION) {
        tn_error(err, "log format version %" PRIu32 ", this Tandem reads versions %d to %d",
                 version, RR_LOG_VERSION_MIN, RR_LOG_VERSION);
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
    n = rrlog_pread(lf->fd, body, blen, HDR_FIXED);
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
        rrlog_pread(lf->fd, t, TRAILER, lf->size - TRAILER) != TRAILER ||
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
    if (rrlog_pread(lf->fd, ih, INDEX_HEAD, off) != INDEX_HEAD || memcmp(ih, INDEX_MAGIC, 4)) {
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
    if (rrlog_pread(lf->fd, b, len, off) != (ssize_t)len) {
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

bool rrlog_open(LogFile *lf, const char *path, GError **err)
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
    rrlog_close(lf);
    return false;
}

int rrlog_frame_error(GError **err, const Scan *s, uint64_t off, const char *fmt, ...)
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
        return rrlog_frame_error(err, s, s->pos, "runs past the index at offset 0x%" PRIx64,
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

int rrlog_scan_next(const LogFile *lf, Scan *s, FrameHdr *fh, GError **err)
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
    ssize_t got = rrlog_pread(lf->fd, b, want, s->pos);
    if (got != (ssize_t)want) {
        int e = got < 0 ? errno : EIO;
        return rrlog_frame_error(err, s, s->pos, "read error: %s", g_strerror(e));
    }
    if (want < 4) {
        if (!memcmp(b, FRAME_MAGIC, want) || !memcmp(b, INDEX_MAGIC, want))
            return frame_cut(lf, s, err);
        return rrlog_frame_error(err, s, s->pos, "bad magic");
    }
    if (!memcmp(b, INDEX_MAGIC, 4)) {
        if (lf->idx_err)
            return index_error(lf, err);
        if (lf->idx_claimed)
            return rrlog_frame_error(err, s, s->pos, "an index where a frame belongs");
        return index_unclaimed(lf, s, b, avail, err);
    }
    if (memcmp(b, FRAME_MAGIC, 4))
        return rrlog_frame_error(err, s, s->pos, "bad magic");
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
        return rrlog_frame_error(err, s, s->pos, "holds no events");
    if (fh->raw_len > FRAME_MAX_RAW)
        return rrlog_frame_error(err, s, s->pos, "raw length %" PRIu32 " exceeds %d",
                           fh->raw_len, FRAME_MAX_RAW);
    if (fh->nevents > fh->raw_len / EVENT_MIN)
        return rrlog_frame_error(err, s, s->pos, "%" PRIu32 " events cannot fit in %" PRIu32 " bytes",
                           fh->nevents, fh->raw_len);
    if (fh->clen == 0 || fh->clen > ZSTD_compressBound(fh->raw_len))
        return rrlog_frame_error(err, s, s->pos, "compressed length %" PRIu32
                           " is implausible for %" PRIu32 " bytes", fh->clen, fh->raw_len);
    if (fh->first_event != s->events)
        return rrlog_frame_error(err, s, s->pos, "starts at event %" PRIu64 ", expected %" PRIu64,
                           fh->first_event, s->events);
    if (s->frame && fh->first_icount < s->prev_first_icount)
        return rrlog_frame_error(err, s, s->pos, "icount goes back from %" PRIu64 " to %" PRIu64,
                           s->prev_first_icount, fh->first_icount);
    if (lf->has_index) {
        if (s->frame >= lf->nidx)
            return rrlog_frame_error(err, s, s->pos, "missing from the index (%" PRIu32 " entries)",
                               lf->nidx);
        const IndexEnt *e = &lf->idx[s->frame];
        if (e->offset != fh->offset || e->first_icount != fh->first_icount ||
            e->first_event != fh->first_event)
            return rrlog_frame_error(err, s, s->pos, "does not match its index entry (offset 0x%"
                               PRIx64 ", event %" PRIu64 ", icount %" PRIu64 ")",
                               e->offset, e->first_event, e->first_icount);
    }
    if (fh->clen > avail - FRAME_HDR)
        return frame_cut(lf, s, err);
    s->pos += FRAME_HDR + (uint64_t)fh->clen;
    return 1;
}

void rrlog_scan_advance(Scan *s, const FrameHdr *fh)
{
    s->frame++;
    s->events += fh->nevents;
    s->prev_first_icount = fh->first_icount;
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
    if (!rrlog_open(&lf, path, err))
        return false;
    GArray *a = g_array_new(false, false, sizeof(RrFrameInfo));
    s.pos = lf.frames_start;
    while ((rc = rrlog_scan_next(&lf, &s, &fh, err)) > 0) {
        RrFrameInfo fi = {
            .offset = fh.offset, .first_event = fh.first_event,
            .first_icount = fh.first_icount, .nevents = fh.nevents,
            .compressed_len = fh.clen, .raw_len = fh.raw_len,
        };
        g_array_append_val(a, fi);
        rrlog_scan_advance(&s, &fh);
    }
    if (rc == 0) {
        *n = a->len;
        *out = (RrFrameInfo *)(void *)g_array_free(a, false);
        *has_index = lf.has_index;
    } else {
        g_array_free(a, true);
    }
    rrlog_close(&lf);
    return rc == 0;
}
