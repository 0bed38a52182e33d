/* The wav backend: output to a WAV file, input from one (audio/audio.h).
 * Only little-endian 16-bit PCM is written and read. */
#include "audio/audio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmm/error.h"
#include "vmm/options.h"

#define WAV_HEADER 44

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v & 0xffff);
    put16(p + 2, v >> 16);
}

static uint32_t get32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static unsigned get16(const uint8_t *p)
{
    return p[0] | (unsigned)p[1] << 8;
}

/* ---- writer ---- */

struct WavWriter {
    int fd;
    char *path;
    unsigned channels, rate;
    uint32_t data_bytes;
    uint64_t phase;             /* resampling: output rate units carried over */
    bool failed, rate_warned;
};

static bool write_header(WavWriter *w)
{
    uint8_t h[WAV_HEADER];
    unsigned ch = w->channels ? w->channels : 2, rate = w->rate ? w->rate : 48000;
    memcpy(h, "RIFF", 4);
    put32(h + 4, 36 + w->data_bytes);
    memcpy(h + 8, "WAVEfmt ", 8);
    put32(h + 16, 16);
    put16(h + 20, 1);                 /* PCM */
    put16(h + 22, ch);
    put32(h + 24, rate);
    put32(h + 28, rate * ch * 2);
    put16(h + 32, ch * 2);
    put16(h + 34, 16);
    memcpy(h + 36, "data", 4);
    put32(h + 40, w->data_bytes);
    return pwrite(w->fd, h, sizeof(h), 0) == (ssize_t)sizeof(h);
}

WavWriter *wav_writer_open(const char *path, GError **err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        tn_error(err, "cannot create WAV file '%s': %s", path, g_strerror(errno));
        return NULL;
    }
    WavWriter *w = g_new0(WavWriter, 1);
    w->fd = fd;
    w->path = g_strdup(path);
    if (!write_header(w)) {
        tn_error(err, "cannot write WAV file '%s': %s", path, g_strerror(errno));
        wav_writer_close(w);
        return NULL;
    }
    return w;
}

static bool append(WavWriter *w, const uint8_t *buf, size_t n)
{
    if (n > UINT32_MAX - 36 - w->data_bytes) {
        w->failed = true;
        fprintf(stderr, "tandem: audio: %s reached the 4 GiB size limit of WAV files; no "
                "more output is written\n", w->path);
        return false;
    }
    if (pwrite(w->fd, buf, n, WAV_HEADER + (off_t)w->data_bytes) != (ssize_t)n) {
        w->failed = true;
        fprintf(stderr, "tandem: audio: cannot write %s: %s\n", w->path, g_strerror(errno));
        return false;
    }
    w->data_bytes += (uint32_t)n;
    /* Sizes kept current: a killed emulator leaves a valid file. */
    if (!write_header(w)) {
        w->failed = true;
        return false;
    }
    return true;
}

bool wav_writer_add(WavWriter *w, const uint8_t *buf, size_t n, unsigned channels, unsigned rate)
{
    if (w->failed || !channels || !rate)
        return false;
    if (!w->channels) {
        w->channels = channels;
        w->rate = rate;
    }
    if (rate == w->rate && channels == w->channels)
        return append(w, buf, n);
    if (!w->rate_warned) {
        w->rate_warned = true;
        fprintf(stderr, "tandem: audio: the guest plays at %u Hz, %u channels; %s is %u Hz, "
                "%u channels: converted (nearest sample)\n", rate, channels, w->path,
                w->rate, w->channels);
    }
    /* Each input frame is repeated (or skipped) so that w->rate output
     * frames come out per rate input frames. */
    size_t in_frames = n / (2 * channels), fsz = 2 * w->channels;
    uint8_t out[4096];
    size_t o = 0;
    for (size_t i = 0; i < in_frames; i++) {
        const uint8_t *f = buf + i * 2 * channels;
        for (w->phase += w->rate; w->phase >= rate; w->phase -= rate) {
            if (o + fsz > sizeof(out)) {
                if (!append(w, out, o))
                    return false;
                o = 0;
            }
            for (unsigned c = 0; c < w->channels; c++) {
                const uint8_t *smp = f + 2 * (c < channels ? c : 0);
                out[o++] = smp[0];
                out[o++] = smp[1];
            }
        }
    }
    return o ? append(w, out, o) : true;
}

void wav_writer_close(WavWriter *w)
{
    if (!w)
        return;
    close(w->fd);
    g_free(w->path);
    g_free(w);
}

/* ---- reader ---- */

typedef struct WavReader {
    uint8_t *data;              /* the samples */
    size_t len;
    unsigned channels, rate;
    size_t pos[2];              /* frames read, per source (PCM in, mic) */
    bool rate_warned;
} WavReader;

static WavReader *wav_reader_open(const char *path, GError **err)
{
    gchar *file;
    gsize len;
    GError *e = NULL;
    if (!g_file_get_contents(path, &file, &len, &e)) {
        tn_error(err, "in.path=%s: %s", path, e->message);
        g_error_free(e);
        return NULL;
    }
    const uint8_t *f = (const uint8_t *)file;
    WavReader *r = NULL;
    if (len < 12 || memcmp(f, "RIFF", 4) || memcmp(f + 8, "WAVE", 4)) {
        tn_error(err, "in.path=%s: not a WAV file (no RIFF/WAVE header)", path);
        goto out;
    }
    unsigned fmt = 0, ch = 0, rate = 0, bits = 0;
    for (size_t p = 12; p + 8 <= len;) {
        uint32_t clen = get32(f + p + 4);
        size_t body = p + 8;
        if (clen > len - body)
            clen = (uint32_t)(len - body);     /* a truncated file: what is there */
        if (!memcmp(f + p, "fmt ", 4) && clen >= 16) {
            fmt = get16(f + body);
            ch = get16(f + body + 2);
            rate = get32(f + body + 4);
            bits = get16(f + body + 14);
        } else if (!memcmp(f + p, "data", 4)) {
            if (fmt != 1 || bits != 16 || (ch != 1 && ch != 2)) {
                tn_error(err, "in.path=%s: only 16-bit PCM WAV files with 1 or 2 channels "
                         "are read (this one: format %u, %u bits, %u channels)", path, fmt,
                         bits, ch);
                goto out;
            }
            r = g_new0(WavReader, 1);
            r->data = g_memdup2(f + body, clen);
            r->len = clen;
            r->channels = ch;
            r->rate = rate;
            goto out;
        }
        p = body + clen + (clen & 1);
    }
    tn_error(err, "in.path=%s: the WAV file has no %s chunk", path, fmt ? "data" : "fmt");
out:
    g_free(file);
    return r;
}

/* Frames from the file converted to the requested channels; silence
 * after its end. */
static void wav_read(WavReader *r, unsigned source, uint8_t *buf, size_t n, unsigned ch,
                     unsigned rate)
{
    if (rate != r->rate && !r->rate_warned) {
        r->rate_warned = true;
        fprintf(stderr, "tandem: audio: the guest records at %u Hz; the input file has "
                "%u Hz and is read as it is\n", rate, r->rate);
    }
    size_t *pos = &r->pos[source ? 1 : 0];
    size_t frames = n / (2 * ch), have = r->len / (2 * r->channels);
    memset(buf, 0, n);
    for (size_t i = 0; i < frames && *pos < have; i++, (*pos)++) {
        const uint8_t *in = r->data + *pos * 2 * r->channels;
        for (unsigned c = 0; c < ch; c++) {
            const uint8_t *s = in + 2 * (c < r->channels ? c : 0);
            buf[(i * ch + c) * 2] = s[0];
            buf[(i * ch + c) * 2 + 1] = s[1];
        }
    }
}

/* ---- the backend ---- */

typedef struct WavBackend {
    WavWriter *out;
    WavReader *in;
} WavBackend;

static void wav_close(void *p)
{
    WavBackend *b = p;
    wav_writer_close(b->out);
    if (b->in)
        g_free(b->in->data);
    g_free(b->in);
    g_free(b);
}

static void *wav_open(const char *spec, bool input, GError **err)
{
    WavBackend *b = g_new0(WavBackend, 1);
    char *path = NULL, *in = NULL;
    if (!device_spec_prop(spec, "path", &path))
        path = g_strdup("tandem.wav");
    b->out = wav_writer_open(path, err);
    g_free(path);
    if (b->out && input && device_spec_prop(spec, "in.path", &in)) {
        b->in = wav_reader_open(in, err);
        g_free(in);
        if (!b->in) {
            wav_close(b);
            return NULL;
        }
    }
    if (!b->out) {
        wav_close(b);
        return NULL;
    }
    return b;
}

static void wav_out(void *p, const uint8_t *buf, size_t n, unsigned ch, unsigned rate)
{
    WavBackend *b = p;
    wav_writer_add(b->out, buf, n, ch, rate);
}

static void wav_in(void *p, unsigned source, uint8_t *buf, size_t n, unsigned ch, unsigned rate)
{
    WavBackend *b = p;
    if (b->in)
        wav_read(b->in, source, buf, n, ch, rate);
    else
        memset(buf, 0, n);
}

const AudioDriver audio_wav_driver = {
    .name = "wav", .props = audio_wav_props, .open = wav_open, .out = wav_out, .in = wav_in,
    .close = wav_close,
};
