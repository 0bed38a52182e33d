/* The wav audio backend (audio/wav.c): the WAV file it writes (header,
 * sizes kept current, later rates converted), the input file it reads
 * (1 or 2 channels to what the card asks, silence after the end, two
 * sources with their own positions) and malformed input files, refused
 * with a message, never read out of bounds; -audiodev spec checks. */
#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include "audio/audio.h"

static char *tmpdir;

static void tmpdir_make(const char *template)
{
    tmpdir = g_dir_make_tmp(template, NULL);
    cr_assert(tmpdir);
}

static char *tmpdir_path(const char *name)
{
    return g_build_filename(tmpdir, name, NULL);
}

static void tmpdir_remove(void)
{
    if (!tmpdir)
        return;
    GDir *d = g_dir_open(tmpdir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *p = tmpdir_path(name);
        unlink(p);
    }
    if (d)
        g_dir_close(d);
    rmdir(tmpdir);
    g_free(tmpdir);
    tmpdir = NULL;
}

TestSuite(audio_wav, .fini = tmpdir_remove);

static void le16(uint8_t *p, unsigned v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void le32(uint8_t *p, uint32_t v) { le16(p, v & 0xffff); le16(p + 2, v >> 16); }

/* A WAV file: fmt chunk (format, channels, rate, bits) then data. */
static char *make_wav(const char *name, unsigned fmt, unsigned ch, unsigned rate,
                      unsigned bits, const uint8_t *data, uint32_t len, uint32_t claimed)
{
    GByteArray *a = g_byte_array_new();
    uint8_t h[44];
    memcpy(h, "RIFF", 4);
    le32(h + 4, 36 + len);
    memcpy(h + 8, "WAVEfmt ", 8);
    le32(h + 16, 16);
    le16(h + 20, fmt);
    le16(h + 22, ch);
    le32(h + 24, rate);
    le32(h + 28, rate * ch * bits / 8);
    le16(h + 32, ch * bits / 8);
    le16(h + 34, bits);
    memcpy(h + 36, "data", 4);
    le32(h + 40, claimed);
    g_byte_array_append(a, h, 44);
    g_byte_array_append(a, data, len);
    char *path = tmpdir_path(name);
    cr_assert(g_file_set_contents(path, (char *)a->data, a->len, NULL));
    g_byte_array_free(a, TRUE);
    return path;
}

static void *open_spec(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static GError *last_err;

static void *open_spec(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *spec = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_clear_error(&last_err);
    void *be = audio_wav_driver.open(spec, true, &last_err);
    g_free(spec);
    return be;
}

Test(audio_wav, output_file)
{
    tmpdir_make("tandem-wav-XXXXXX");
    g_autofree char *out = tmpdir_path("out.wav");
    void *be = open_spec("wav,id=a,path=%s", out);
    cr_assert_not_null(be, "%s", last_err ? last_err->message : "");
    uint8_t s[8] = { 1, 0, 2, 0, 3, 0, 4, 0 };      /* two stereo frames */
    audio_wav_driver.out(be, s, 8, 2, 8000);
    gchar *f;
    gsize len;
    cr_assert(g_file_get_contents(out, &f, &len, NULL));
    cr_assert_eq(len, 52, "sizes are written as the data comes");
    cr_assert_eq(memcmp(f + 44, s, 8), 0);
    cr_assert_eq((uint8_t)f[24] | (uint8_t)f[25] << 8, 8000);
    cr_assert_eq((uint8_t)f[40], 8);
    g_free(f);
    /* 16 kHz into the 8 kHz file: every other frame. */
    uint8_t t[16] = { 10, 0, 11, 0, 20, 0, 21, 0, 30, 0, 31, 0, 40, 0, 41, 0 };
    audio_wav_driver.out(be, t, 16, 2, 16000);
    audio_wav_driver.close(be);
    cr_assert(g_file_get_contents(out, &f, &len, NULL));
    cr_assert_eq(len, 60);
    cr_assert_eq((uint8_t)f[52], 20);
    cr_assert_eq((uint8_t)f[56], 40);
    cr_assert_eq((uint8_t)f[40], 16);
    g_free(f);
    /* An output file that cannot be created. */
    cr_assert_null(open_spec("wav,id=a,path=/nonexistent-dir/x.wav"));
    cr_assert(strstr(last_err->message, "cannot create WAV file"), "%s", last_err->message);
}

Test(audio_wav, input_file)
{
    tmpdir_make("tandem-wav-XXXXXX");
    uint8_t mono[6] = { 1, 0x10, 2, 0x20, 3, 0x30 };
    g_autofree char *in = make_wav("mono.wav", 1, 1, 8000, 16, mono, 6, 6);
    g_autofree char *out = tmpdir_path("o.wav");
    void *be = open_spec("wav,id=a,path=%s,in.path=%s", out, in);
    cr_assert_not_null(be, "%s", last_err ? last_err->message : "");
    uint8_t b[12];
    audio_wav_driver.in(be, 0, b, 8, 2, 8000);     /* 2 stereo frames from mono */
    static const uint8_t want[8] = { 1, 0x10, 1, 0x10, 2, 0x20, 2, 0x20 };
    cr_assert_eq(memcmp(b, want, 8), 0);
    memset(b, 0xee, sizeof(b));
    audio_wav_driver.in(be, 0, b, 8, 2, 8000);     /* one frame left, then silence */
    static const uint8_t tail[8] = { 3, 0x30, 3, 0x30, 0, 0, 0, 0 };
    cr_assert_eq(memcmp(b, tail, 8), 0);
    audio_wav_driver.in(be, 1, b, 4, 1, 8000);     /* the mic has its own position */
    static const uint8_t mic[4] = { 1, 0x10, 2, 0x20 };
    cr_assert_eq(memcmp(b, mic, 4), 0);
    audio_wav_driver.close(be);
    /* No in.path: silence. */
    be = open_spec("wav,id=a,path=%s", out);
    memset(b, 0xee, sizeof(b));
    audio_wav_driver.in(be, 0, b, 12, 2, 48000);
    for (int i = 0; i < 12; i++)
        cr_assert_eq(b[i], 0);
    audio_wav_driver.close(be);
}

Test(audio_wav, malformed_input_files)
{
    tmpdir_make("tandem-wav-XXXXXX");
    g_autofree char *out = tmpdir_path("o.wav");
    uint8_t d[8] = { 0 };
    struct { unsigned fmt, ch, bits; uint32_t len, claimed; const char *why; } bad[] = {
        { 3, 2, 32, 8, 8, "only 16-bit PCM" },          /* float */
        { 1, 6, 16, 8, 8, "only 16-bit PCM" },          /* 6 channels */
        { 1, 2, 8, 8, 8, "only 16-bit PCM" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *in = make_wav("bad.wav", bad[i].fmt, bad[i].ch, 8000, bad[i].bits, d,
                                       bad[i].len, bad[i].claimed);
        cr_assert_null(open_spec("wav,id=a,path=%s,in.path=%s", out, in), "case %zu", i);
        cr_assert(strstr(last_err->message, bad[i].why), "case %zu: %s", i,
                  last_err->message);
    }
    /* A data chunk claiming 4 GiB in an 8-byte file: the bytes there. */
    g_autofree char *big = make_wav("big.wav", 1, 2, 8000, 16, d, 8, 0xffffffffu);
    void *be = open_spec("wav,id=a,path=%s,in.path=%s", out, big);
    cr_assert_not_null(be, "%s", last_err ? last_err->message : "");
    uint8_t b[64];
    audio_wav_driver.in(be, 0, b, sizeof(b), 2, 8000);
    audio_wav_driver.close(be);
    /* Not RIFF at all; too short; no data chunk; missing file. */
    g_autofree char *junk = tmpdir_path("junk.wav");
    g_file_set_contents(junk, "hello", 5, NULL);
    cr_assert_null(open_spec("wav,id=a,path=%s,in.path=%s", out, junk));
    cr_assert(strstr(last_err->message, "not a WAV file"), "%s", last_err->message);
    g_autofree char *nodata = tmpdir_path("nodata.wav");
    {
        g_autofree char *full = make_wav("full.wav", 1, 2, 8000, 16, d, 8, 8);
        gchar *f;
        gsize len;
        cr_assert(g_file_get_contents(full, &f, &len, NULL));
        g_file_set_contents(nodata, f, 36, NULL);     /* RIFF header and fmt only */
        g_free(f);
    }
    cr_assert_null(open_spec("wav,id=a,path=%s,in.path=%s", out, nodata));
    cr_assert(strstr(last_err->message, "has no data chunk"), "%s", last_err->message);
    cr_assert_null(open_spec("wav,id=a,path=%s,in.path=/nonexistent.wav", out));
    cr_assert(strstr(last_err->message, "in.path=/nonexistent.wav"), "%s", last_err->message);
    g_clear_error(&last_err);
}

Test(audio_wav, specs)
{
    GError *err = NULL;
    cr_assert(audio_check_spec("wav,id=a,path=x.wav,in.path=y.wav", &err));
    cr_assert(audio_check_spec("none,id=n", &err));
    cr_assert(audio_check_spec("pa,id=p,server=unix:/x", &err));
    cr_assert(!audio_check_spec("wav,path=x.wav", &err));
    cr_assert(strstr(err->message, "id= is required"), "%s", err->message);
    g_clear_error(&err);
    cr_assert(!audio_check_spec("none,id=n,path=x", &err));
    cr_assert(strstr(err->message, "unknown property 'path' (the none driver takes id)"), "%s",
              err->message);
    g_clear_error(&err);
    cr_assert(!audio_check_spec("wav,id=a,path", &err));
    cr_assert(strstr(err->message, "no value for 'path'"), "%s", err->message);
    g_clear_error(&err);
    cr_assert(!audio_check_spec("alsa,id=a", &err));
    cr_assert(strstr(err->message, "unknown audio driver 'alsa' (none, wav, pa)"), "%s",
              err->message);
    g_clear_error(&err);
}
