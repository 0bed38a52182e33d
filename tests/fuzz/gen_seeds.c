/* Writes a few small, valid record/replay logs into DIR: the seed corpus
 * for fuzz_log (and sample input for tandem-log). Also the raw events of
 * some frames, in the form fuzz_log's frame pass takes: a register-count
 * byte, an event-count byte, the decompressed frame.
 *
 *   gen_seeds DIR */
#include <stdio.h>
#include <string.h>
#include <zstd.h>

#include "rr/log.h"
#include "rr/varint.h"

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void fill_event(RrEvent *ev, RrEventKind kind, uint32_t nregs, uint64_t *icount)
{
    *icount += rnd() % 5000;
    ev->kind = kind;
    ev->icount = *icount;
    ev->brcount = *icount / 7;
    ev->mmio = rnd() % 4;
    ev->nregs = nregs;
    for (uint32_t i = 0; i < nregs; i++)
        if (i == 0 || rnd() % 3 == 0)
            ev->regs[i] = i == 0 ? 0x80000000 + (rnd() % 4096) * 4 : rnd() % 100000;
    switch (kind) {
    case RR_EV_SERIAL_INPUT: {
        static const char text[] = "root\nls -l /\n\x1b[A\x03";
        ev->data[0] = 0;
        ev->len = 1 + (uint32_t)(rnd() % sizeof(text));
        memcpy(ev->data + 1, text, ev->len - 1);
        break;
    }
    case RR_EV_HOST_CLOCK:
        ev->len = 8;
        le64_put(ev->data, 1700000000000000000ull + rnd() % 1000000000000ull);
        break;
    case RR_EV_TSC:
        ev->len = 8;
        le64_put(ev->data, rnd() % 100000000000ull);
        break;
    case RR_EV_SHIFT:
        ev->len = 1;
        ev->data[0] = (uint8_t)(rnd() % 11);
        break;
    case RR_EV_WARP:
        ev->len = (uint32_t)varint_put(ev->data, rnd() % 100000000);
        break;
    case RR_EV_END:
        ev->len = 20;
        le32_put(ev->data, 0);
        le64_put(ev->data + 4, rnd());
        le64_put(ev->data + 12, rnd());
        break;
    default:
        ev->len = 0;
        break;
    }
}

/* Writes nevents events (kinds cycling), a frame every flush_every;
 * close_it false leaves the file as a killed recorder would. */
static int write_seed(const char *dir, const char *name, uint32_t nregs, int32_t shift,
                      unsigned nevents, unsigned flush_every, bool close_it)
{
    char *path = g_build_filename(dir, name, NULL);
    RrHeader h = {
        .arch = "riscv64",
        .config = "machine=virt\nram=128M\nsmp=1\nkernel=Image\n",
        .snapshot = shift < 0 ? "init" : "",
        .shift = shift,
        .nregs = nregs,
    };
    GError *e = NULL;
    RrWriter *w = rr_writer_open(path, &h, &e);
    RrEvent *ev = g_new0(RrEvent, 1);
    uint64_t icount = 0;
    int rc = 0;
    if (!w)
        goto fail;
    for (unsigned i = 0; i < nevents; i++) {
        RrEventKind k = i + 1 == nevents && close_it ? RR_EV_END
                        : (RrEventKind)((i * 5 + rnd() % 2) % RR_EV_END);
        fill_event(ev, k, nregs, &icount);
        if (!rr_writer_add(w, ev, &e))
            goto fail;
        if (flush_every && (i + 1) % flush_every == 0 && !rr_writer_flush(w, &e))
            goto fail;
    }
    if (!close_it) {
        /* keep what a crash would leave: the frames written so far */
        if (!rr_writer_flush(w, &e))
            goto fail;
        gchar *buf;
        gsize len;
        if (!g_file_get_contents(path, &buf, &len, &e))
            goto fail;
        bool ok = rr_writer_close(w, &e);
        w = NULL;
        if (!ok || !g_file_set_contents(path, buf, (gssize)(len - len / 7), &e)) {
            g_free(buf);
            goto fail;
        }
        g_free(buf);
    } else {
        bool ok = rr_writer_close(w, &e);
        w = NULL;
        if (!ok)
            goto fail;
    }
    goto out;
fail:
    fprintf(stderr, "gen_seeds: %s: %s\n", path, e ? e->message : "failed");
    g_clear_error(&e);
    if (w)
        rr_writer_close(w, NULL);
    rc = 1;
out:
    g_free(ev);
    g_free(path);
    return rc;
}

/* The first frame of the log name, decompressed, as a frame-pass seed. */
static int write_raw_seed(const char *dir, const char *name, uint32_t nregs)
{
    char *path = g_build_filename(dir, name, NULL);
    char *out = g_strconcat(path, ".frame", NULL);
    RrFrameInfo *fr = NULL;
    size_t n;
    bool idx;
    gchar *file = NULL;
    gsize len;
    int rc = 1;
    if (!rr_log_frames(path, &fr, &n, &idx, NULL) || !n ||
        !g_file_get_contents(path, &file, &len, NULL))
        goto out;
    uint8_t *raw = g_malloc(2 + fr[0].raw_len);
    size_t got = ZSTD_decompress(raw + 2, fr[0].raw_len, file + fr[0].offset + 36,
                                 fr[0].compressed_len);
    raw[0] = (uint8_t)nregs;
    raw[1] = (uint8_t)(fr[0].nevents - 1);
    if (!ZSTD_isError(got) && g_file_set_contents(out, (char *)raw, (gssize)(got + 2), NULL))
        rc = 0;
    g_free(raw);
out:
    if (rc)
        fprintf(stderr, "gen_seeds: cannot make %s\n", out);
    g_free(file);
    g_free(fr);
    g_free(out);
    g_free(path);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_seeds DIR\n");
        return 64;
    }
    int rc = 0;
    rc |= write_seed(argv[1], "small.log", 32, 3, 25, 7, true);
    rc |= write_seed(argv[1], "one_frame.log", 2, 0, 9, 0, true);
    rc |= write_seed(argv[1], "noregs_auto.log", 0, -1, 60, 13, true);
    rc |= write_seed(argv[1], "empty.log", 32, 5, 0, 0, true);
    rc |= write_seed(argv[1], "killed.log", 32, 3, 40, 10, false);
    rc |= write_seed(argv[1], "many_frames.log", 4, 1, 120, 3, true);
    rc |= write_raw_seed(argv[1], "small.log", 32);
    rc |= write_raw_seed(argv[1], "noregs_auto.log", 0);
    rc |= write_raw_seed(argv[1], "one_frame.log", 2);
    return rc;
}
