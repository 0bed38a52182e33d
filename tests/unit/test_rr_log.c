#include <criterion/criterion.h>

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "rr/log.h"
#include "rr/varint.h"

static char *tmpdir;

static void setup(void)
{
    tmpdir = g_dir_make_tmp("tandem-rrlog-XXXXXX", NULL);
    cr_assert(tmpdir);
}

static void teardown(void)
{
    GDir *d = g_dir_open(tmpdir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        char *p = g_build_filename(tmpdir, name, NULL);
        unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    rmdir(tmpdir);
    g_free(tmpdir);
}

TestSuite(rr_log, .init = setup, .fini = teardown);

static char *tpath(const char *name)
{
    return g_build_filename(tmpdir, name, NULL);
}

/* ------------------------------------------------------ event generator */

/* Replays the same event sequence from a seed, so long logs need not be
 * kept in memory to be checked. */
typedef struct Gen {
    uint64_t rng;
    uint64_t icount, brcount;
    uint64_t regs[RR_MAX_REGS];
    uint32_t nregs;
    bool big;                       /* large serial payloads */
} Gen;

static uint64_t rnd(Gen *g)
{
    g->rng ^= g->rng << 13;
    g->rng ^= g->rng >> 7;
    g->rng ^= g->rng << 17;
    return g->rng;
}

static void gen_init(Gen *g, uint64_t seed, uint32_t nregs, bool big)
{
    memset(g, 0, sizeof(*g));
    g->rng = seed * 0x9e3779b97f4a7c15ull + 1;
    g->nregs = nregs;
    g->big = big;
    g->regs[0] = 0x80000000;
}

static void gen_next(Gen *g, RrEvent *ev)
{
    uint64_t r = rnd(g);
    uint64_t step = (r & 7) == 0 ? 0 : (r & 7) == 1 ? rnd(g) >> 24 : r % 1000;
    g->icount += step;
    g->brcount += step ? rnd(g) % (step + 1) : 0;
    g->regs[0] += 4 * (r % 64);
    for (uint32_t i = 1; i < g->nregs; i++)
        if (rnd(g) % 4 == 0)
            g->regs[i] = (rnd(g) % 3 == 0) ? rnd(g) : rnd(g) % 4096;

    ev->kind = (RrEventKind)(rnd(g) % RR_EV__COUNT);
    ev->icount = g->icount;
    ev->brcount = g->brcount;
    ev->mmio = rnd(g) % 17 == 0 ? rnd(g) : rnd(g) % 5;
    ev->nregs = g->nregs;
    memset(ev->regs, 0, sizeof(ev->regs));
    memcpy(ev->regs, g->regs, g->nregs * sizeof(uint64_t));
    switch (ev->kind) {
    case RR_EV_SERIAL_INPUT:
        ev->len = 1 + (uint32_t)(g->big ? RR_MAX_PAYLOAD - 1 - rnd(g) % 4096 : rnd(g) % 24);
        ev->data[0] = (uint8_t)(rnd(g) % 4);
        for (uint32_t i = 1; i < ev->len; i++)
            ev->data[i] = (uint8_t)rnd(g);
        break;
    case RR_EV_HOST_CLOCK:
    case RR_EV_TSC:
        ev->len = 8;
        le64_put(ev->data, rnd(g));
        if (ev->kind == RR_EV_TSC && rnd(g) % 4 == 0) {
            le64_put(ev->data + 8, rnd(g));     /* a memory check's RAM hash */
            ev->len = 16;
            if (rnd(g) % 2) {                   /* a state check: CPU, n devices */
                unsigned n = (unsigned)(rnd(g) % (RR_STATE_CHECK_MAX_DEVICES + 1));
                for (unsigned i = 0; i <= n; i++)
                    le64_put(ev->data + 16 + 8 * i, rnd(g));
                ev->len = 24 + 8 * n;
            }
        }
        break;
    case RR_EV_SHIFT:
        ev->len = 1;
        ev->data[0] = (uint8_t)(rnd(g) % 11);
        break;
    case RR_EV_WARP:
        ev->len = (uint32_t)varint_put(ev->data, rnd(g) >> (rnd(g) % 64));
        break;
    case RR_EV_BLOCK:
        ev->data[0] = (uint8_t)(rnd(g) % 4);
        ev->data[1] = (uint8_t)(rnd(g) % 3);
        ev->len = 2;
        ev->len += (uint32_t)varint_put(ev->data + ev->len, rnd(g) >> (rnd(g) % 64));
        ev->len += (uint32_t)varint_put(ev->data + ev->len, rnd(g) >> (rnd(g) % 64));
        le64_put(ev->data + ev->len, rnd(g));
        ev->len += 8;
        break;
    case RR_EV_NET:
        /* Frame pieces: up to a whole payload for the big cases. */
        ev->len = 2 + 1 + (uint32_t)(g->big ? RR_MAX_PAYLOAD - 3 - rnd(g) % 4096 : rnd(g) % 1514);
        ev->data[0] = (uint8_t)(rnd(g) % 3);
        ev->data[1] = (uint8_t)(rnd(g) % 2);
        for (uint32_t i = 2; i < ev->len; i++)
            ev->data[i] = (uint8_t)rnd(g);
        break;
    case RR_EV_AUDIO:
        ev->len = 2 + 1 + (uint32_t)(g->big ? RR_MAX_PAYLOAD - 3 - rnd(g) % 4096 : rnd(g) % 4096);
        ev->data[0] = 0;
        ev->data[1] = (uint8_t)(rnd(g) % 2);
        for (uint32_t i = 2; i < ev->len; i++)
            ev->data[i] = (uint8_t)rnd(g);
        break;
    case RR_EV_CHECKPOINT:
        ev->len = 1;
        ev->data[0] = (uint8_t)(rnd(g) % 2);
        break;
    case RR_EV_INPUT:
        ev->data[0] = (uint8_t)(rnd(g) % 2);
        if (ev->data[0] == 0) {
            ev->len = 4;
            ev->data[1] = (uint8_t)rnd(g);
            ev->data[2] = (uint8_t)(rnd(g) % 3);
            ev->data[3] = (uint8_t)(rnd(g) % 2);
        } else {
            ev->len = 14;
            for (uint32_t i = 1; i < 14; i++)
                ev->data[i] = (uint8_t)rnd(g);
        }
        break;
    case RR_EV_END:
        ev->len = 20;
        le32_put(ev->data, (uint32_t)rnd(g));
        le64_put(ev->data + 4, rnd(g));
        le64_put(ev->data + 12, rnd(g));
        break;
    default:
        ev->len = 0;
        break;
    }
}

/* Criterion reports every assertion to its runner, so the hot loops
 * compare first and assert only on a difference. */
static void assert_same(const RrEvent *a, const RrEvent *b, uint64_t i)
{
    if (a->kind == b->kind && a->icount == b->icount && a->brcount == b->brcount &&
        a->mmio == b->mmio && a->nregs == b->nregs &&
        !memcmp(a->regs, b->regs, sizeof(a->regs)) && a->len == b->len &&
        !memcmp(a->data, b->data, a->len))
        return;
    cr_assert_eq(a->kind, b->kind, "event %" PRIu64 ": kind", i);
    cr_assert_eq(a->icount, b->icount, "event %" PRIu64 ": icount", i);
    cr_assert_eq(a->brcount, b->brcount, "event %" PRIu64 ": brcount", i);
    cr_assert_eq(a->mmio, b->mmio, "event %" PRIu64 ": mmio", i);
    cr_assert_eq(a->nregs, b->nregs, "event %" PRIu64 ": nregs", i);
    cr_assert(!memcmp(a->regs, b->regs, sizeof(a->regs)), "event %" PRIu64 ": regs", i);
    cr_assert_eq(a->len, b->len, "event %" PRIu64 ": len", i);
    cr_assert_fail("event %" PRIu64 ": data", i);
}

static RrHeader test_header(uint32_t nregs, int32_t shift)
{
    RrHeader h = {
        .arch = "riscv64",
        .config = "machine=virt\nram=128M\nsmp=1\n",
        .snapshot = "",
        .shift = shift,
        .nregs = nregs,
    };
    return h;
}

/* Writes n generated events, ending a frame after every flush_every
 * events (0: only the writer's own frame ends). */
static void write_log(const char *path, uint64_t seed, uint32_t nregs, bool big, uint64_t n,
                      uint64_t flush_every)
{
    GError *e = NULL;
    RrHeader h = test_header(nregs, 3);
    RrWriter *w = rr_writer_open(path, &h, &e);
    cr_assert(w, "open: %s", e ? e->message : "");
    RrEvent *ev = g_new(RrEvent, 1);
    Gen g;
    gen_init(&g, seed, nregs, big);
    for (uint64_t i = 0; i < n; i++) {
        gen_next(&g, ev);
        cr_assert(rr_writer_add(w, ev, &e), "add %" PRIu64 ": %s", i, e ? e->message : "");
        if (flush_every && (i + 1) % flush_every == 0)
            cr_assert(rr_writer_flush(w, &e));
    }
    cr_assert_eq(rr_writer_events(w), n);
    g_free(ev);
    cr_assert(rr_writer_close(w, &e), "close: %s", e ? e->message : "");
}

/* Reads the whole log and checks it against the generator; returns the
 * reader's result (0 or -1) and the event count. */
static int read_check(const char *path, uint64_t seed, uint32_t nregs, bool big,
                      uint64_t *count, bool *truncated, GError **err)
{
    RrReader *r = rr_reader_open(path, err);
    if (!r)
        return -2;
    RrEvent *ev = g_new(RrEvent, 1), *want = g_new(RrEvent, 1);
    Gen g;
    gen_init(&g, seed, nregs, big);
    int rc;
    uint64_t i = 0;
    while ((rc = rr_reader_next(r, ev, err)) > 0) {
        gen_next(&g, want);
        assert_same(ev, want, i);
        i++;
        if (rr_reader_event_index(r) != i)
            cr_assert_fail("event index %" PRIu64 ", want %" PRIu64, rr_reader_event_index(r), i);
    }
    *count = i;
    *truncated = rr_reader_truncated(r);
    if (rc == 0)
        cr_assert_eq(*truncated, rr_reader_tail_message(r)[0] != 0);
    /* the end is sticky */
    cr_assert_eq(rr_reader_next(r, ev, NULL), rc);
    g_free(ev);
    g_free(want);
    rr_reader_close(r);
    return rc;
}

static GByteArray *slurp(const char *path)
{
    gchar *buf;
    gsize len;
    cr_assert(g_file_get_contents(path, &buf, &len, NULL));
    GByteArray *a = g_byte_array_new_take((guint8 *)buf, len);
    return a;
}

static void spit(const char *path, const uint8_t *p, size_t n)
{
    /* a new file each time: rewriting a truncated one makes ext4 flush */
    unlink(path);
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    cr_assert_eq(fwrite(p, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

/* ------------------------------------------------------ helpers */

Test(rr_log, checksums_and_names)
{
    cr_assert_eq(rr_crc32c(0, "123456789", 9), 0xe3069283u);
    cr_assert_eq(rr_crc32c(rr_crc32c(0, "1234", 4), "56789", 5), 0xe3069283u);
    cr_assert_eq(rr_crc32c(0, "", 0), 0);
    uint8_t big[1000];
    for (int i = 0; i < 1000; i++)
        big[i] = (uint8_t)(i * 7);
    uint32_t whole = rr_crc32c(0, big, sizeof(big));
    for (int cut = 0; cut <= 1000; cut += 37)
        cr_assert_eq(rr_crc32c(rr_crc32c(0, big, cut), big + cut, sizeof(big) - cut), whole);
    cr_assert_eq(rr_fnv1a64("", 0, RR_FNV1A64_SEED), RR_FNV1A64_SEED);
    cr_assert_eq(rr_fnv1a64("a", 1, RR_FNV1A64_SEED), 0xaf63dc4c8601ec8cull);
    cr_assert_eq(rr_fnv1a64("foobar", 6, RR_FNV1A64_SEED), 0x85944171f73967e8ull);
    cr_assert_str_eq(rr_event_name(RR_EV_SERIAL_INPUT), "serial_input");
    cr_assert_str_eq(rr_event_name(RR_EV_END), "end");
    cr_assert_str_eq(rr_event_name(RR_EV__COUNT), "unknown");
}

Test(rr_log, varints)
{
    uint8_t b[16];
    uint64_t vals[] = { 0, 1, 127, 128, 300, UINT32_MAX, 1ull << 63, UINT64_MAX };
    for (size_t i = 0; i < G_N_ELEMENTS(vals); i++) {
        size_t n = varint_put(b, vals[i]);
        cr_assert_eq(n, varint_len(vals[i]));
        const uint8_t *p = b;
        uint64_t v;
        cr_assert(varint_get(&p, b + n, &v));
        cr_assert_eq(v, vals[i]);
        cr_assert_eq(p, b + n);
        p = b;
        cr_assert(!varint_get(&p, b + n - 1, &v), "short input must fail");
    }
    memset(b, 0x80, sizeof(b));
    const uint8_t *p = b;
    uint64_t v;
    cr_assert(!varint_get(&p, b + sizeof(b), &v), "11-byte varint");
    uint8_t over[10] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02 };
    p = over;
    cr_assert(!varint_get(&p, over + 10, &v), "bits beyond 64");
}

/* ------------------------------------------------------ round trips */

Test(rr_log, round_trip_all_kinds)
{
    char *path = tpath("a.log");
    GError *e = NULL;
    write_log(path, 1, 32, false, 3000, 0);
    uint64_t n;
    bool trunc;
    cr_assert_eq(read_check(path, 1, 32, false, &n, &trunc, &e), 0, "%s", e ? e->message : "");
    cr_assert_eq(n, 3000);
    cr_assert(!trunc);

    RrReader *r = rr_reader_open(path, &e);
    const RrHeader *h = rr_reader_header(r);
    cr_assert_eq(h->version, RR_LOG_VERSION);
    cr_assert_str_eq(h->arch, "riscv64");
    cr_assert_str_eq(h->config, "machine=virt\nram=128M\nsmp=1\n");
    cr_assert_str_eq(h->snapshot, "");
    cr_assert_eq(h->shift, 3);
    cr_assert_eq(h->nregs, 32);
    cr_assert_eq(h->config_hash, rr_fnv1a64(h->config, strlen(h->config), RR_FNV1A64_SEED));
    rr_reader_close(r);
    g_free(path);
}

Test(rr_log, round_trip_register_counts)
{
    uint32_t counts[] = { 0, 1, 2, 17, 31, 32 };
    for (size_t k = 0; k < G_N_ELEMENTS(counts); k++) {
        char *path = tpath("r.log");
        GError *e = NULL;
        write_log(path, 7 + k, counts[k], false, 500, 61);
        uint64_t n;
        bool trunc;
        cr_assert_eq(read_check(path, 7 + k, counts[k], false, &n, &trunc, &e), 0,
                     "nregs %u: %s", counts[k], e ? e->message : "");
        cr_assert_eq(n, 500);
        cr_assert(!trunc);
        g_free(path);
    }
}

Test(rr_log, large_payloads)
{
    char *path = tpath("big.log");
    GError *e = NULL;
    write_log(path, 3, 32, true, 40, 0);
    uint64_t n;
    bool trunc;
    cr_assert_eq(read_check(path, 3, 32, true, &n, &trunc, &e), 0, "%s", e ? e->message : "");
    cr_assert_eq(n, 40);

    RrFrameInfo *fr;
    size_t nf;
    bool idx;
    cr_assert(rr_log_frames(path, &fr, &nf, &idx, &e));
    cr_assert(idx);
    cr_assert_geq(nf, 2);
    for (size_t i = 0; i < nf; i++)
        cr_assert_leq(fr[i].raw_len, 2 * 65536 + 1024);
    g_free(fr);
    g_free(path);
}

Test(rr_log, many_frames_and_index)
{
    char *path = tpath("many.log");
    GError *e = NULL;
    write_log(path, 5, 32, false, 20000, 0);
    RrFrameInfo *fr;
    size_t nf;
    bool idx;
    cr_assert(rr_log_frames(path, &fr, &nf, &idx, &e), "%s", e ? e->message : "");
    cr_assert(idx);
    cr_assert_geq(nf, 5);           /* 4096 events per frame at most */
    uint64_t ev = 0;
    for (size_t i = 0; i < nf; i++) {
        cr_assert_eq(fr[i].first_event, ev);
        cr_assert_leq(fr[i].nevents, 4096);
        if (i)
            cr_assert_eq(fr[i].offset, fr[i - 1].offset + 36 + fr[i - 1].compressed_len);
        ev += fr[i].nevents;
    }
    cr_assert_eq(ev, 20000);
    g_free(fr);
    uint64_t n;
    bool trunc;
    cr_assert_eq(read_check(path, 5, 32, false, &n, &trunc, &e), 0, "%s", e ? e->message : "");
    cr_assert_eq(n, 20000);
    cr_assert(!trunc);
    g_free(path);
}

Test(rr_log, empty_log)
{
    char *path = tpath("empty.log");
    GError *e = NULL;
    write_log(path, 1, 32, false, 0, 0);
    uint64_t n;
    bool trunc;
    cr_assert_eq(read_check(path, 1, 32, false, &n, &trunc, &e), 0);
    cr_assert_eq(n, 0);
    cr_assert(!trunc);
    RrFrameInfo *fr;
    size_t nf;
    bool idx;
    cr_assert(rr_log_frames(path, &fr, &nf, &idx, &e));
    cr_assert(idx);
    cr_assert_eq(nf, 0);
    g_free(fr);
    g_free(path);
}

Test(rr_log, killed_recording_reads_to_last_frame)
{
    char *path = tpath("k.log"), *copy = tpath("k2.log");
    GError *e = NULL;
    RrHeader h = test_header(32, -1);
    RrWriter *w = rr_writer_open(path, &h, &e);
    RrEvent *ev = g_new(RrEvent, 1);
    Gen g;
    gen_init(&g, 9, 32, false);
    for (int i = 0; i < 100; i++) {
        gen_next(&g, ev);
        cr_assert(rr_writer_add(w, ev, &e));
        if (i == 59)
            cr_assert(rr_writer_flush(w, &e));
    }
    /* what a crash leaves: 60 events in a frame, the rest lost */
    GByteArray *a = slurp(path);
    cr_assert_eq(a->len, rr_writer_bytes(w));
    spit(copy, a->data, a->len);
    cr_assert(rr_writer_close(w, &e));
    g_byte_array_unref(a);
    g_free(ev);
    ev = NULL;

    uint64_t n;
    bool trunc;
    cr_assert_eq(read_check(copy, 9, 32, false, &n, &trunc, &e), 0, "%s", e ? e->message : "");
    cr_assert_eq(n, 60);
    cr_assert(trunc);
    RrReader *r = rr_reader_open(copy, &e);
    ev = g_new(RrEvent, 1);
    while (rr_reader_next(r, ev, &e) > 0)
        ;
    g_free(ev);
    cr_assert(strstr(rr_reader_tail_message(r), "after frame 0 (event 59, icount "),
              "%s", rr_reader_tail_message(r));
    cr_assert(strstr(rr_reader_tail_message(r), "without an index"));
    rr_reader_close(r);
    cr_assert_eq(read_check(path, 9, 32, false, &n, &trunc, &e), 0);
    cr_assert_eq(n, 100);
    cr_assert(!trunc);
    g_free(path);
    g_free(copy);
}

/* ------------------------------------------------------ writer refusals */

Test(rr_log, writer_refuses_bad_events)
{
    char *path = tpath("w.log");
    GError *e = NULL;
    RrHeader h = test_header(4, 0);
    RrWriter *w = rr_writer_open(path, &h, &e);
    RrEvent *ev = g_new0(RrEvent, 1);
    ev->kind = RR_EV_RESET;
    ev->icount = 100;
    ev->brcount = 10;
    ev->nregs = 4;
    cr_assert(rr_writer_add(w, ev, &e));

    ev->nregs = 3;
    cr_assert(!rr_writer_add(w, ev, &e));
    cr_assert(strstr(e->message, "registers"), "%s", e->message);
    g_clear_error(&e);
    ev->nregs = 4;

    ev->icount = 99;
    cr_assert(!rr_writer_add(w, ev, &e));
    cr_assert(strstr(e->message, "goes back"), "%s", e->message);
    g_clear_error(&e);
    ev->icount = 100;

    ev->kind = RR_EV__COUNT;
    cr_assert(!rr_writer_add(w, ev, &e));
    g_clear_error(&e);

    ev->kind = RR_EV_HOST_CLOCK;
    ev->len = 7;
    cr_assert(!rr_writer_add(w, ev, &e));
    g_clear_error(&e);
    /* The counter; it and a RAM hash; those, the CPU's and n devices'. */
    ev->kind = RR_EV_TSC;
    const uint32_t bad_tsc[] = { 12, 20, 28, 24 + 8 * (RR_STATE_CHECK_MAX_DEVICES + 1) };
    for (size_t i = 0; i < sizeof(bad_tsc) / sizeof(bad_tsc[0]); i++) {
        ev->len = bad_tsc[i];
        cr_assert(!rr_writer_add(w, ev, &e), "tsc payload of %u bytes taken", bad_tsc[i]);
        char want[64];
        snprintf(want, sizeof(want), "tsc payload is %u bytes, not 8, 16 or 24 + 8n",
                 bad_tsc[i]);
        cr_assert(strstr(e->message, want), "%s", e->message);
        g_clear_error(&e);
    }
    ev->kind = RR_EV_SERIAL_INPUT;
    ev->len = RR_MAX_PAYLOAD + 1;
    cr_assert(!rr_writer_add(w, ev, &e));
    g_clear_error(&e);
    ev->len = 0;
    cr_assert(!rr_writer_add(w, ev, &e));
    g_clear_error(&e);
    ev->kind = RR_EV_SHIFT;
    ev->len = 1;
    ev->data[0] = 64;
    cr_assert(!rr_writer_add(w, ev, &e));
    g_clear_error(&e);

    /* refused events leave no trace */
    ev->kind = RR_EV_QUIT;
    ev->len = 0;
    cr_assert(rr_writer_add(w, ev, &e));
    cr_assert_eq(rr_writer_events(w), 2);
    cr_assert(rr_writer_close(w, &e));
    uint64_t n = 0;
    RrReader *r = rr_reader_open(path, &e);
    int rc;
    while ((rc = rr_reader_next(r, ev, &e)) > 0)
        n++;
    cr_assert_eq(rc, 0);
    cr_assert_eq(n, 2);
    cr_assert_eq(ev->kind, RR_EV_QUIT);
    rr_reader_close(r);

    RrHeader bad = test_header(RR_MAX_REGS + 1, 0);
    cr_assert_null(rr_writer_open(path, &bad, &e));
    g_clear_error(&e);
    g_free(ev);
    g_free(path);
}

/* ------------------------------------------------------ damaged files */

/* A small log of several frames: 25 events, a frame every 7. */
static GByteArray *small_log(const char *path)
{
    write_log(path, 11, 32, false, 25, 7);
    return slurp(path);
}

Test(rr_log, truncation_at_every_offset)
{
    char *path = tpath("s.log"), *cut = tpath("cut.log");
    GByteArray *a = small_log(path);
    RrFrameInfo *fr;
    size_t nf;
    bool idx;
    GError *e = NULL;
    cr_assert(rr_log_frames(path, &fr, &nf, &idx, &e));
    cr_assert_eq(nf, 4);
    uint64_t hdr_end = fr[0].offset;

    for (size_t len = 0; len <= a->len; len++) {
        spit(cut, a->data, len);
        uint64_t n = 0;
        bool trunc = false;
        int rc = read_check(cut, 11, 32, false, &n, &trunc, &e);
        if (len < hdr_end) {
            cr_assert_eq(rc, -2, "len %zu: a partial header must not open", len);
            cr_assert(strstr(e->message, "header"), "len %zu: %s", len, e->message);
            g_clear_error(&e);
            continue;
        }
        cr_assert_eq(rc, 0, "len %zu: %s", len, e ? e->message : "");
        uint64_t want = 0;
        size_t complete = 0;
        for (size_t i = 0; i < nf; i++)
            if (fr[i].offset + 36 + fr[i].compressed_len <= len) {
                want += fr[i].nevents;
                complete++;
            }
        cr_assert_eq(n, want, "len %zu: %" PRIu64 " events, want %" PRIu64, len, n, want);
        cr_assert_eq(trunc, len != a->len, "len %zu", len);

        RrFrameInfo *f2;
        size_t n2;
        bool idx2;
        cr_assert(rr_log_frames(cut, &f2, &n2, &idx2, &e), "len %zu: %s", len,
                  e ? e->message : "");
        cr_assert_eq(n2, complete, "len %zu", len);
        cr_assert_eq(idx2, len == a->len);
        g_free(f2);
    }
    g_free(fr);
    g_byte_array_unref(a);
    g_free(path);
    g_free(cut);
}

Test(rr_log, truncation_message)
{
    char *path = tpath("s.log"), *cut = tpath("cut.log");
    GByteArray *a = small_log(path);
    RrFrameInfo *fr;
    size_t nf;
    bool idx;
    GError *e = NULL;
    cr_assert(rr_log_frames(path, &fr, &nf, &idx, &e));
    /* cut inside frame 2: frames 0 and 1 (14 events) survive */
    spit(cut, a->data, fr[2].offset + 40);
    RrReader *r = rr_reader_open(cut, &e);
    RrEvent *ev = g_new(RrEvent, 1);
    uint64_t last = 0;
    while (rr_reader_next(r, ev, &e) > 0)
        last = ev->icount;
    cr_assert(rr_reader_truncated(r));
    char *want = g_strdup_printf("the log ends after frame 1 (event 13, icount %" PRIu64
                                 ") with an incomplete frame: the recording was cut short",
                                 last);
    cr_assert_str_eq(rr_reader_tail_message(r), want);
    g_free(want);
    rr_reader_close(r);

    /* cut right after the header */
    spit(cut, a->data, fr[0].offset + 3);
    r = rr_reader_open(cut, &e);
    cr_assert_eq(rr_reader_next(r, ev, &e), 0);
    cr_assert(rr_reader_truncated(r));
    cr_assert(strstr(rr_reader_tail_message(r), "after its header"));
    rr_reader_close(r);
    g_free(ev);
    g_free(fr);
    g_byte_array_unref(a);
    g_free(path);
    g_free(cut);
}

Test(rr_log, every_flipped_byte_is_reported)
{
    char *path = tpath("s.log"), *bad = tpath("bad.log");
    GByteArray *a = small_log(path);
    uint8_t masks[] = { 0xff, 0x01, 0x80, 0x10 };
    for (size_t m = 0; m < G_N_ELEMENTS(masks); m++) {
        for (size_t off = 0; off < a->len; off++) {
            /* The version field (offset 8) flipped to an older version
             * this build also reads is another valid header: nothing
             * checksums it. */
            if (off == 8 && (RR_LOG_VERSION ^ masks[m]) >= RR_LOG_VERSION_MIN &&
                (RR_LOG_VERSION ^ masks[m]) < RR_LOG_VERSION)
                continue;
            a->data[off] ^= masks[m];
            spit(bad, a->data, a->len);
            a->data[off] ^= masks[m];
            GError *e = NULL;
            uint64_t n;
            bool trunc;
            int rc = read_check(bad, 11, 32, false, &n, &trunc, &e);
            cr_assert(rc < 0, "flip 0x%02x at %zu not detected (%" PRIu64 " events, %s)",
                      masks[m], off, n, trunc ? "truncated" : "clean");
            cr_assert(e && e->message[0]);
            const char *msg = e->message;
            cr_assert(strstr(msg, "frame ") || strstr(msg, "index") || strstr(msg, "header") ||
                      strstr(msg, "magic") || strstr(msg, "version") || strstr(msg, "trailer"),
                      "flip at %zu: %s", off, msg);
            g_error_free(e);
        }
    }
    g_byte_array_unref(a);
    g_free(path);
    g_free(bad);
}

Test(rr_log, wrong_version_and_magic)
{
    char *path = tpath("s.log"), *bad = tpath("bad.log");
    GByteArray *a = small_log(path);
    GError *e = NULL;

    le32_put(a->data + 8, RR_LOG_VERSION + 1);
    spit(bad, a->data, a->len);
    cr_assert_null(rr_reader_open(bad, &e));
    g_autofree char *want = g_strdup_printf("log format version %d, this Tandem reads versions "
                                            "%d to %d", RR_LOG_VERSION + 1, RR_LOG_VERSION_MIN,
                                            RR_LOG_VERSION);
    cr_assert_str_eq(e->message, want);
    g_clear_error(&e);
    le32_put(a->data + 8, 0);
    spit(bad, a->data, a->len);
    cr_assert_null(rr_reader_open(bad, &e));
    g_clear_error(&e);
    /* Version 1 logs (no TSC events) still read. */
    le32_put(a->data + 8, 1);
    spit(bad, a->data, a->len);
    RrReader *r1 = rr_reader_open(bad, &e);
    cr_assert_not_null(r1, "%s", e ? e->message : "");
    rr_reader_close(r1);
    le32_put(a->data + 8, RR_LOG_VERSION);

    a->data[0] = 'X';
    spit(bad, a->data, a->len);
    cr_assert_null(rr_reader_open(bad, &e));
    cr_assert(strstr(e->message, "not a Tandem"), "%s", e->message);
    g_clear_error(&e);

    RrFrameInfo *fr;
    size_t nf;
    bool idx;
    cr_assert(!rr_log_frames(bad, &fr, &nf, &idx, &e));
    g_clear_error(&e);

    cr_assert_null(rr_reader_open(tmpdir, &e));
    g_clear_error(&e);
    char *none = tpath("missing.log");
    cr_assert_null(rr_reader_open(none, &e));
    cr_assert(strstr(e->message, "missing.log"));
    g_clear_error(&e);
    g_free(none);
    g_byte_array_unref(a);
    g_free(path);
    g_free(bad);
}

/* ------------------------------------------------------ hand-made files */

/* A header with the given fields and a correct checksum. */
static GByteArray *make_header(uint32_t version, uint32_t nregs, int32_t shift)
{
    const char *arch = "riscv64", *cfg = "machine=virt\n", *snap = "";
    uint8_t body[256], *p = body;
    p += varint_put(p, strlen(arch));
    memcpy(p, arch, strlen(arch));
    p += strlen(arch);
    p += varint_put(p, strlen(cfg));
    memcpy(p, cfg, strlen(cfg));
    p += strlen(cfg);
    p += varint_put(p, strlen(snap));
    le32_put(p, (uint32_t)shift);
    le32_put(p + 4, nregs);
    le64_put(p + 8, rr_fnv1a64(cfg, strlen(cfg), RR_FNV1A64_SEED));
    p += 16;
    le32_put(p, rr_crc32c(0, body, (size_t)(p - body)));
    p += 4;
    GByteArray *a = g_byte_array_new();
    uint8_t fx[16];
    memcpy(fx, "TANDEMRR", 8);
    le32_put(fx + 8, version);
    le32_put(fx + 12, (uint32_t)(p - body));
    g_byte_array_append(a, fx, 16);
    g_byte_array_append(a, body, (guint)(p - body));
    return a;
}

typedef struct Frame {
    uint32_t raw_len_adjust;        /* added to the true raw length */
    uint32_t nevents;
    uint64_t first_event, first_icount;
} Frame;

static void append_frame(GByteArray *a, const uint8_t *raw, size_t rawlen, const Frame *f)
{
    size_t cap = ZSTD_compressBound(rawlen);
    uint8_t *c = g_malloc(cap + 36);
    size_t n = ZSTD_compress(c + 36, cap, raw, rawlen, 3);
    cr_assert(!ZSTD_isError(n));
    memcpy(c, "TRFM", 4);
    le32_put(c + 4, (uint32_t)n);
    le32_put(c + 8, (uint32_t)rawlen + f->raw_len_adjust);
    le32_put(c + 12, f->nevents);
    le64_put(c + 16, f->first_event);
    le64_put(c + 24, f->first_icount);
    le32_put(c + 32, rr_crc32c(0, c + 36, n));
    g_byte_array_append(a, c, (guint)(n + 36));
    g_free(c);
}

/* Event bytes: kind, deltas, bitmap, reg XORs, payload. */
static size_t put_event(uint8_t *p, unsigned kind, uint64_t di, uint64_t db, uint64_t mmio,
                        uint32_t bits, const uint64_t *x, const void *pay, uint64_t len)
{
    uint8_t *s = p;
    *p++ = (uint8_t)kind;
    p += varint_put(p, di);
    p += varint_put(p, db);
    p += varint_put(p, mmio);
    le32_put(p, bits);
    p += 4;
    for (int i = 0, k = 0; i < 32; i++)
        if (bits & (1u << i))
            p += varint_put(p, x[k++]);
    p += varint_put(p, len);
    if (pay)
        memcpy(p, pay, len);
    p += pay ? len : 0;
    return (size_t)(p - s);
}

/* Reads path to the end; returns the final rc and the error text. */
static int read_all(const char *path, uint64_t *n, char **msg)
{
    GError *e = NULL;
    *n = 0;
    *msg = NULL;
    RrReader *r = rr_reader_open(path, &e);
    if (!r) {
        *msg = g_strdup(e->message);
        g_error_free(e);
        return -2;
    }
    RrEvent *ev = g_new(RrEvent, 1);
    int rc;
    while ((rc = rr_reader_next(r, ev, &e)) > 0)
        (*n)++;
    if (rc < 0) {
        *msg = g_strdup(e->message);
        g_error_free(e);
    }
    g_free(ev);
    rr_reader_close(r);
    return rc;
}

static void expect_frame_error(const uint8_t *raw, size_t rawlen, Frame f, uint32_t nregs,
                               const char *what)
{
    char *path = tpath("h.log");
    GByteArray *a = make_header(1, nregs, 0);
    uint64_t frame_off = a->len;
    append_frame(a, raw, rawlen, &f);
    spit(path, a->data, a->len);
    uint64_t n;
    char *msg;
    int rc = read_all(path, &n, &msg);
    cr_assert_eq(rc, -1, "%s: not reported (rc %d)", what, rc);
    cr_assert_eq(n, 0);
    char *at = g_strdup_printf("frame 0 at offset 0x%" PRIx64 ": ", frame_off);
    cr_assert(g_str_has_prefix(msg, at), "%s: %s", what, msg);
    g_free(at);
    g_free(msg);
    g_byte_array_unref(a);
    g_free(path);
}

Test(rr_log, hand_made_frames)
{
    uint8_t raw[256];
    uint64_t x[32] = { 0x80000000, 5 };
    size_t n;
    Frame ok = { 0, 1, 0, 10 };

    /* sanity: a well-formed hand-made frame reads, and ends without index */
    n = put_event(raw, RR_EV_QUIT, 10, 2, 0, 3, x, NULL, 0);
    {
        char *path = tpath("h.log");
        GByteArray *a = make_header(1, 2, 0);
        append_frame(a, raw, n, &ok);
        spit(path, a->data, a->len);
        uint64_t cnt;
        char *msg;
        cr_assert_eq(read_all(path, &cnt, &msg), 0, "%s", msg);
        cr_assert_eq(cnt, 1);
        g_byte_array_unref(a);
        g_free(path);
    }

    n = put_event(raw, RR_EV__COUNT, 10, 2, 0, 3, x, NULL, 0);
    expect_frame_error(raw, n, ok, 2, "kind out of range");

    n = put_event(raw, RR_EV_QUIT, 10, 2, 0, 1u << 5, x, NULL, 0);
    expect_frame_error(raw, n, ok, 2, "register beyond nregs");

    uint64_t zero[1] = { 0 };
    n = put_event(raw, RR_EV_QUIT, 10, 2, 0, 1, zero, NULL, 0);
    expect_frame_error(raw, n, ok, 2, "unchanged register marked");

    n = put_event(raw, RR_EV_SERIAL_INPUT, 10, 2, 0, 0, x, NULL, 0);
    raw[n - 1] = 0x81;      /* payload length 65537 as a varint */
    raw[n++] = 0x80;
    raw[n++] = 0x04;
    expect_frame_error(raw, n, ok, 2, "payload over the limit");

    n = put_event(raw, RR_EV_SERIAL_INPUT, 10, 2, 0, 0, x, "ab", 2);
    n -= 1;
    expect_frame_error(raw, n, ok, 2, "payload past the frame");

    n = put_event(raw, RR_EV_HOST_CLOCK, 10, 2, 0, 0, x, "1234567", 7);
    expect_frame_error(raw, n, ok, 2, "host clock of 7 bytes");

    n = 0;
    raw[n++] = RR_EV_QUIT;
    for (int i = 0; i < 10; i++)
        raw[n++] = 0x80;
    raw[n++] = 0;
    memset(raw + n, 0, 6);
    n += 6;
    expect_frame_error(raw, n, ok, 2, "11-byte varint");

    n = put_event(raw, RR_EV_QUIT, UINT64_MAX, 0, 0, 0, x, NULL, 0);
    n += put_event(raw + n, RR_EV_QUIT, 1, 0, 0, 0, x, NULL, 0);
    expect_frame_error(raw, n, (Frame){ 0, 2, 0, UINT64_MAX }, 2, "icount overflow");

    n = put_event(raw, RR_EV_QUIT, 10, 0, 0, 0, x, NULL, 0);
    expect_frame_error(raw, n, (Frame){ 0, 2, 0, 10 }, 2, "fewer events than the header");
    n += put_event(raw + n, RR_EV_QUIT, 10, 0, 0, 0, x, NULL, 0);
    expect_frame_error(raw, n, (Frame){ 0, 1, 0, 10 }, 2, "bytes after the events");

    n = put_event(raw, RR_EV_QUIT, 10, 0, 0, 0, x, NULL, 0);
    expect_frame_error(raw, n, (Frame){ 0, 1, 0, 11 }, 2, "first icount mismatch");
    expect_frame_error(raw, n, (Frame){ 0, 1, 5, 10 }, 2, "first event index mismatch");
    expect_frame_error(raw, n, (Frame){ 1, 1, 0, 10 }, 2, "raw length mismatch");
    expect_frame_error(raw, n, (Frame){ 100u << 20, 1, 0, 10 }, 2, "raw length over the cap");
    expect_frame_error(raw, n, (Frame){ 0, 0, 0, 10 }, 2, "no events");
    expect_frame_error(raw, n, (Frame){ 0, 1000, 0, 10 }, 2, "more events than bytes");
}

/* A log of each version holding one event of this kind and payload: refused
 * naming the kind before version since, read from it on. */
static void expect_since(RrEventKind kind, const uint8_t *pay, uint32_t len, uint32_t since,
                         bool lazy)
{
    uint8_t raw[256];
    uint64_t x[32] = { 0x80000000, 5 };
    Frame ok = { 0, 1, 0, 10 };
    size_t n = put_event(raw, kind, 10, 2, 0, 3, x, pay, len);
    const char *name = rr_event_name(kind);
    g_autofree char *path = tpath("since.log");
    /* (A lazy checkpoint in a log older than checkpoints is refused as a
     * checkpoint.) */
    for (uint32_t version = lazy ? 6 : 1; version <= RR_LOG_VERSION; version++) {
        GByteArray *a = make_header(version, 2, 0);
        append_frame(a, raw, n, &ok);
        spit(path, a->data, a->len);
        uint64_t cnt;
        char *msg;
        int rc = read_all(path, &cnt, &msg);
        if (version < since) {
            cr_assert_eq(rc, -1, "%s, version %u", name, version);
            g_autofree char *want = g_strdup_printf("a%s %s event in a version %u log, which "
                                                    "has none",
                                                    lazy ? " lazy" : strchr("aeiou", name[0])
                                                    ? "n" : "", name, version);
            cr_assert(strstr(msg, want), "%s", msg);
        } else {
            cr_assert_eq(rc, 0, "%s", msg);
            cr_assert_eq(cnt, 1);
        }
        g_free(msg);
        g_byte_array_unref(a);
    }
}

static void expect_kind_since(RrEventKind kind, const uint8_t *pay, uint32_t len, uint32_t since)
{
    expect_since(kind, pay, len, since, false);
}

/* The lazy forms of timer checkpoints and shift changes (format 8). */
static void expect_lazy_since(RrEventKind kind, const uint8_t *pay, uint32_t len, uint32_t since)
{
    expect_since(kind, pay, len, since, true);
}

/* A current log holding one event of this kind with a bad payload: refused
 * with why in the message. */
static void expect_bad_payload(RrEventKind kind, const uint8_t *pay, uint32_t len,
                               const char *why)
{
    uint8_t raw[256];
    uint64_t x[32] = { 0x80000000, 5 };
    Frame ok = { 0, 1, 0, 10 };
    size_t n = put_event(raw, kind, 10, 2, 0, 3, x, pay, len);
    g_autofree char *bp = tpath("badpay.log");
    GByteArray *a = make_header(RR_LOG_VERSION, 2, 0);
    append_frame(a, raw, n, &ok);
    spit(bp, a->data, a->len);
    uint64_t cnt;
    char *msg;
    cr_assert_eq(read_all(bp, &cnt, &msg), -1, "%s", why);
    cr_assert(strstr(msg, why), "%s: %s", why, msg);
    g_free(msg);
    g_byte_array_unref(a);
}

/* Input events came with format 5: older logs that hold one are corrupt;
 * the payload is a 4-byte key or a 14-byte mouse event. */
Test(rr_log, input_events_by_version)
{
    static const uint8_t key[4] = { 0, 30, 0, 1 };
    expect_kind_since(RR_EV_INPUT, key, 4, 5);
    static const struct { uint8_t pay[16]; uint32_t len; const char *why; } bad[] = {
        { { 0, 30, 0, 2 }, 4, "key state 2" },
        { { 2, 30, 0, 1 }, 4, "names device 2" },
        { { 0, 30, 0 }, 3, "3 bytes, not 4 (keyboard)" },
        { { 1, 1, 0, 0, 0 }, 4, "4 bytes, not 14 (mouse)" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
        expect_bad_payload(RR_EV_INPUT, bad[i].pay, bad[i].len, bad[i].why);
}

/* Checkpoint events came with format 6: older logs that hold one are
 * corrupt; the payload is one byte, 0 (timers) or 1 (a clock read in an
 * access). */
Test(rr_log, checkpoint_events_by_version)
{
    static const uint8_t why[1] = { 1 };
    expect_kind_since(RR_EV_CHECKPOINT, why, 1, 6);
    static const uint8_t lazy[1] = { 2 };
    expect_lazy_since(RR_EV_CHECKPOINT, lazy, 1, 8);
    static const uint8_t shift[2] = { 3, 1 };
    expect_lazy_since(RR_EV_SHIFT, shift, 2, 8);
    expect_bad_payload(RR_EV_SHIFT, (const uint8_t[2]){ 3, 2 }, 2,
                       "shift payload's second byte is 2, not 1 (lazy)");
    static const struct { uint8_t pay[2]; uint32_t len; const char *why; } bad[] = {
        { { 3 }, 1, "checkpoint payload is 3, not 0 (timers), 1 (clock read) or 2 (lazy timers)" },
        { { 0, 0 }, 2, "checkpoint payload is 2 bytes, not 1" },
        { { 0 }, 0, "checkpoint payload is 0 bytes, not 1" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
        expect_bad_payload(RR_EV_CHECKPOINT, bad[i].pay, bad[i].len, bad[i].why);
}

/* Net events came with format 4: older logs that hold one are corrupt, and
 * the payload must be netdev, flags 0/1, at least one frame byte. */
Test(rr_log, net_events_by_version)
{
    uint8_t pay[16] = { 1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    expect_kind_since(RR_EV_NET, pay, 14, 4);
    pay[1] = 2;
    expect_bad_payload(RR_EV_NET, pay, 14, "flags 0x02");
    pay[1] = 0;
    RrEvent *ev = g_new0(RrEvent, 1);
    ev->kind = RR_EV_NET;
    ev->nregs = 2;
    ev->len = 2;
    GError *e = NULL;
    RrHeader h = test_header(2, 0);
    g_autofree char *wpath = tpath("netw.log");
    RrWriter *w = rr_writer_open(wpath, &h, &e);
    cr_assert_not_null(w);
    cr_assert(!rr_writer_add(w, ev, &e), "a net event without frame bytes is refused");
    cr_assert(strstr(e->message, "net payload is 2 bytes"), "%s", e->message);
    g_clear_error(&e);
    cr_assert(rr_writer_close(w, &e));
    g_free(ev);
}

Test(rr_log, position_going_back_across_frames)
{
    char *path = tpath("h.log");
    uint8_t raw[64];
    uint64_t x[1] = { 0 };
    GByteArray *a = make_header(1, 0, 0);
    size_t n = put_event(raw, RR_EV_QUIT, 100, 50, 0, 0, x, NULL, 0);
    append_frame(a, raw, n, &(Frame){ 0, 1, 0, 100 });
    uint64_t second = a->len;
    n = put_event(raw, RR_EV_QUIT, 100, 49, 0, 0, x, NULL, 0);
    append_frame(a, raw, n, &(Frame){ 0, 1, 1, 100 });
    spit(path, a->data, a->len);
    uint64_t cnt;
    char *msg;
    cr_assert_eq(read_all(path, &cnt, &msg), -1);
    cr_assert_eq(cnt, 1);
    char *want = g_strdup_printf("frame 1 at offset 0x%" PRIx64 ": position goes back from "
                                 "icount 100 brcount 50 to icount 100 brcount 49", second);
    cr_assert_str_eq(msg, want);
    g_free(want);
    g_free(msg);
    g_byte_array_unref(a);
    g_free(path);
}

Test(rr_log, header_checks)
{
    char *path = tpath("h.log");
    GError *e = NULL;

    GByteArray *a = make_header(1, RR_MAX_REGS + 1, 0);
    spit(path, a->data, a->len);
    cr_assert_null(rr_reader_open(path, &e));
    cr_assert(strstr(e->message, "registers"), "%s", e->message);
    g_clear_error(&e);
    g_byte_array_unref(a);

    a = make_header(1, 2, 64);
    spit(path, a->data, a->len);
    cr_assert_null(rr_reader_open(path, &e));
    g_clear_error(&e);
    g_byte_array_unref(a);

    /* a well-formed header with 2 registers, then a frame whose events
     * claim more registers than that */
    a = make_header(1, 2, -1);
    uint8_t raw[64];
    uint64_t x[3] = { 1, 2, 3 };
    size_t n = put_event(raw, RR_EV_QUIT, 1, 0, 0, 7, x, NULL, 0);
    append_frame(a, raw, n, &(Frame){ 0, 1, 0, 1 });
    spit(path, a->data, a->len);
    uint64_t cnt;
    char *msg;
    cr_assert_eq(read_all(path, &cnt, &msg), -1);
    cr_assert(strstr(msg, "beyond 2"), "%s", msg);
    g_free(msg);
    g_byte_array_unref(a);

    /* compressed length that cannot come from zstd */
    a = make_header(1, 2, 0);
    size_t at = a->len;
    n = put_event(raw, RR_EV_QUIT, 1, 0, 0, 0, x, NULL, 0);
    append_frame(a, raw, n, &(Frame){ 0, 1, 0, 1 });
    le32_put(a->data + at + 4, 0x7fffffff);
    spit(path, a->data, a->len);
    cr_assert_eq(read_all(path, &cnt, &msg), -1);
    cr_assert(strstr(msg, "compressed length"), "%s", msg);
    g_free(msg);
    g_byte_array_unref(a);
    g_free(path);
}

/* The end event's payload: 20 bytes, or with a RAM map (version 7) 28 +
 * 8n; the writer refuses every other shape, naming what is wrong. */
Test(rr_log, end_ram_map_shapes)
{
    char *path = tpath("end.log");
    GError *e = NULL;
    RrHeader h = test_header(4, 0);
    RrWriter *w = rr_writer_open(path, &h, &e);
    RrEvent *ev = g_new0(RrEvent, 1);
    ev->kind = RR_EV_END;
    ev->icount = 100;
    ev->nregs = 4;
    ev->len = 20;
    cr_assert(rr_writer_add(w, ev, &e));
    uint32_t shift = 16, n = 3;
    memcpy(ev->data + 20, &shift, 4);
    memcpy(ev->data + 24, &n, 4);
    ev->len = 28 + 8 * 3;
    cr_assert(rr_writer_add(w, ev, &e), "%s", e ? e->message : "");
    static const struct { uint32_t shift, n, len; const char *msg; } bad[] = {
        { 16, 3, 24, "not 20 or 28 + a RAM map" },
        { 16, 3, 28 + 8 * 2, "a RAM map of 3 chunks makes it 52" },
        { 11, 3, 28 + 8 * 3, "chunk shift 11 is out of range" },
        { 41, 3, 28 + 8 * 3, "chunk shift 41 is out of range" },
        { 16, 0, 28, "has 0 chunks" },
        { 16, RR_END_MAX_CHUNKS + 1, 28 + 8, "has 4097 chunks" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memcpy(ev->data + 20, &bad[i].shift, 4);
        memcpy(ev->data + 24, &bad[i].n, 4);
        ev->len = bad[i].len;
        cr_assert(!rr_writer_add(w, ev, &e), "case %zu accepted", i);
        cr_assert(strstr(e->message, bad[i].msg), "case %zu: %s", i, e->message);
        g_clear_error(&e);
    }
    cr_assert(rr_writer_close(w, &e));
    g_free(ev);
    g_free(path);
}

/* Where two RAM maps differ: adjacent chunks as one range, at most six
 * ranges named, the count and the chunk size. */
Test(rr_log, memory_diff_text)
{
    uint64_t want[10] = { 0 }, have[10] = { 0 }, base[10];
    for (int i = 0; i < 10; i++)
        base[i] = (uint64_t)i << 16;
    base[9] = 0xfffe0000;   /* another region */
    cr_assert_null(rr_memory_diff(want, have, base, 10, 16));
    have[2] = have[3] = 1;
    have[8] = have[9] = 1;  /* not adjacent in guest-physical space */
    char *d = rr_memory_diff(want, have, base, 10, 16);
    cr_assert_str_eq(d, "guest-physical 0x20000-0x3ffff, 0x80000-0x8ffff, "
                        "0xfffe0000-0xfffeffff; 4 of 10 64 KiB chunks");
    g_free(d);
    /* Every other chunk of 16 differs: 8 ranges, 6 named. */
    uint64_t w16[16] = { 0 }, h16[16] = { 0 }, b16[16];
    for (int i = 0; i < 16; i++) {
        b16[i] = (uint64_t)i << 20;
        h16[i] = !(i & 1);
    }
    d = rr_memory_diff(w16, h16, b16, 16, 20);
    cr_assert_str_eq(d, "guest-physical 0-0xfffff, 0x200000-0x2fffff, 0x400000-0x4fffff, "
                        "0x600000-0x6fffff, 0x800000-0x8fffff, 0xa00000-0xafffff and 2 more "
                        "ranges; 8 of 16 1 MiB chunks");
    g_free(d);
}
