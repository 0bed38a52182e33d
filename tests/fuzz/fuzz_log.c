/* libFuzzer harness for the log reader.
 *
 * Each input is read twice: as a whole log file, and as the raw event bytes
 * of one frame that is otherwise well formed (valid header, zstd, checksums,
 * index), which takes the fuzzer straight to the event decoder. Besides "no
 * crash, no hang, no leak", it checks that the reader and the frame scan
 * agree, and that every event the reader accepts survives a trip through the
 * writer unchanged. Build and run: tests/fuzz/run.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <zstd.h>

#include "rr/log.h"
#include "rr/varint.h"

typedef struct Files {
    int in_fd, out_fd;
    char in[64], out[64];
    RrEvent *a, *b;
} Files;

static Files *files(void)
{
    static Files f;
    if (!f.a) {
        /* a GError set twice, a g_return_if_fail: bugs, so crashes */
        g_log_set_always_fatal(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL);
        f.in_fd = memfd_create("fuzz_log_in", MFD_CLOEXEC);
        f.out_fd = memfd_create("fuzz_log_out", MFD_CLOEXEC);
        if (f.in_fd < 0 || f.out_fd < 0)
            abort();
        snprintf(f.in, sizeof(f.in), "/proc/self/fd/%d", f.in_fd);
        snprintf(f.out, sizeof(f.out), "/proc/self/fd/%d", f.out_fd);
        f.a = malloc(sizeof(RrEvent));
        f.b = malloc(sizeof(RrEvent));
    }
    return &f;
}

#define CHECK(c)                                                        \
    do {                                                                \
        if (!(c)) {                                                     \
            fprintf(stderr, "fuzz_log: %s:%d: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                    \
        }                                                               \
    } while (0)

static bool same(const RrEvent *x, const RrEvent *y)
{
    return x->kind == y->kind && x->icount == y->icount && x->brcount == y->brcount &&
           x->mmio == y->mmio && x->nregs == y->nregs &&
           !memcmp(x->regs, y->regs, sizeof(x->regs)) && x->len == y->len &&
           !memcmp(x->data, y->data, x->len);
}

/* Writes every event of in to out, then reads both side by side. */
static void round_trip(Files *f, const RrHeader *h, uint64_t nevents)
{
    GError *e = NULL;
    CHECK(ftruncate(f->out_fd, 0) == 0);
    RrWriter *w = rr_writer_open(f->out, h, &e);
    CHECK(w);
    RrReader *r = rr_reader_open(f->in, &e);
    CHECK(r);
    while (rr_reader_next(r, f->a, &e) > 0)
        CHECK(rr_writer_add(w, f->a, &e));
    CHECK(rr_reader_event_index(r) == nevents);
    rr_reader_close(r);
    CHECK(rr_writer_close(w, &e));

    RrReader *ra = rr_reader_open(f->in, &e), *rb = rr_reader_open(f->out, &e);
    CHECK(ra && rb);
    CHECK(rr_reader_header(rb)->nregs == h->nregs && rr_reader_header(rb)->shift == h->shift);
    CHECK(!strcmp(rr_reader_header(rb)->config, h->config));
    int rc;
    while ((rc = rr_reader_next(ra, f->a, &e)) > 0) {
        CHECK(rr_reader_next(rb, f->b, &e) == 1);
        CHECK(same(f->a, f->b));
    }
    CHECK(rc == 0);
    CHECK(rr_reader_next(rb, f->b, &e) == 0 && !rr_reader_truncated(rb));
    rr_reader_close(ra);
    rr_reader_close(rb);
}

static void put(Files *f, const void *data, size_t size)
{
    CHECK(ftruncate(f->in_fd, 0) == 0);
    CHECK(pwrite(f->in_fd, data, size, 0) == (ssize_t)size);
}

/* Reads the log in f->in to the end and checks what came out. */
static void check_log(Files *f)
{
    GError *e = NULL;

    RrReader *r = rr_reader_open(f->in, &e);
    if (!r) {
        CHECK(e && e->message[0]);
        g_clear_error(&e);
        RrFrameInfo *fr = NULL;
        size_t n;
        bool idx;
        CHECK(!rr_log_frames(f->in, &fr, &n, &idx, &e));
        g_clear_error(&e);
        return;
    }
    int rc;
    while ((rc = rr_reader_next(r, f->a, &e)) > 0)
        CHECK(f->a->kind < RR_EV__COUNT && f->a->len <= RR_MAX_PAYLOAD);
    CHECK(rr_reader_next(r, f->a, NULL) == rc);
    uint64_t nevents = rr_reader_event_index(r);
    bool truncated = rr_reader_truncated(r);
    CHECK(truncated == (rc == 0 && rr_reader_tail_message(r)[0] != 0));
    if (rc < 0) {
        CHECK(e && e->message[0]);
        g_clear_error(&e);
    }

    RrFrameInfo *fr = NULL;
    size_t n = 0;
    bool idx = false;
    bool ok = rr_log_frames(f->in, &fr, &n, &idx, &e);
    if (rc == 0) {
        /* what the reader accepted whole, the scan accepts and counts alike */
        CHECK(ok);
        uint64_t sum = 0;
        for (size_t i = 0; i < n; i++)
            sum += fr[i].nevents;
        CHECK(sum == nevents);
        CHECK(idx == !truncated);
    }
    g_clear_error(&e);
    g_free(fr);

    if (rc == 0) {
        RrHeader h = *rr_reader_header(r);
        round_trip(f, &h, nevents);
    }
    rr_reader_close(r);
}

/* A complete log whose single frame holds raw as its events: data[0]
 * picks the register count, data[1] the event count in the frame header. */
static void check_as_frame(Files *f, const uint8_t *data, size_t size)
{
    static ZSTD_CCtx *cctx;
    if (size < 3)
        return;
    if (!cctx)
        cctx = ZSTD_createCCtx();
    uint32_t nregs = data[0] % (RR_MAX_REGS + 1), nevents = data[1] % 128 + 1;
    const uint8_t *raw = data + 2;
    size_t rawlen = size - 2;
    uint64_t first_icount = 0;
    const uint8_t *p = raw + 1;
    varint_get(&p, raw + rawlen, &first_icount);

    size_t cap = 64 + 36 + ZSTD_compressBound(rawlen) + 8 + 24 + 4 + 12;
    uint8_t *b = malloc(cap), *q = b;
    memcpy(q, "TANDEMRR", 8);
    le32_put(q + 8, RR_LOG_VERSION);
    le32_put(q + 12, 3 + 4 + 4 + 8 + 4);
    q += 16;
    uint8_t *body = q;
    *q++ = 0;
    *q++ = 0;
    *q++ = 0;
    le32_put(q, 3);
    le32_put(q + 4, nregs);
    le64_put(q + 8, RR_FNV1A64_SEED);
    q += 16;
    le32_put(q, rr_crc32c(0, body, (size_t)(q - body)));
    q += 4;

    uint64_t frame_off = (uint64_t)(q - b);
    size_t n = ZSTD_compressCCtx(cctx, q + 36, ZSTD_compressBound(rawlen), raw, rawlen, 1);
    CHECK(!ZSTD_isError(n));
    memcpy(q, "TRFM", 4);
    le32_put(q + 4, (uint32_t)n);
    le32_put(q + 8, (uint32_t)rawlen);
    le32_put(q + 12, nevents);
    le64_put(q + 16, 0);
    le64_put(q + 24, first_icount);
    le32_put(q + 32, rr_crc32c(0, q + 36, n));
    q += 36 + n;

    uint8_t *ix = q;
    memcpy(q, "TRIX", 4);
    le32_put(q + 4, 1);
    le64_put(q + 8, frame_off);
    le64_put(q + 16, first_icount);
    le64_put(q + 24, 0);
    le32_put(q + 32, rr_crc32c(0, ix, 32));
    memcpy(q + 36, "TRND", 4);
    le64_put(q + 40, (uint64_t)(ix - b));
    q += 48;

    put(f, b, (size_t)(q - b));
    free(b);
    check_log(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Files *f = files();
    put(f, data, size);
    check_log(f);
    check_as_frame(f, data, size);
    return 0;
}
