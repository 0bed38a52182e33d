/* The pa backend: PulseAudio through libpulse-simple (audio/audio.h).
 * Streams are opened with the rate and channels the guest uses and
 * reopened when they change; writes and reads block, as the simple API
 * does, so the guest's audio runs at the server's pace. */
#include "audio/audio.h"

#include <stdio.h>
#include <string.h>

#include "vmm/error.h"
#include "vmm/options.h"

#ifdef TANDEM_HAVE_PULSE
#include <pulse/error.h>
#include <pulse/simple.h>

typedef struct PaStream {
    pa_simple *s;
    unsigned channels, rate;
    bool failed;
} PaStream;

typedef struct PaBackend {
    char *server;
    PaStream play, rec[2];
} PaBackend;

static bool stream_open(PaBackend *b, PaStream *st, pa_stream_direction_t dir, unsigned ch,
                        unsigned rate, GError **err)
{
    if (st->s && st->channels == ch && st->rate == rate)
        return true;
    if (st->s)
        pa_simple_free(st->s);
    st->s = NULL;
    pa_sample_spec ss = { .format = PA_SAMPLE_S16LE, .rate = rate, .channels = (uint8_t)ch };
    int e = 0;
    st->s = pa_simple_new(b->server, "tandem", dir, NULL,
                          dir == PA_STREAM_PLAYBACK ? "guest output" : "guest input", &ss, NULL,
                          NULL, &e);
    if (!st->s) {
        tn_error(err, "-audiodev pa: cannot connect to the PulseAudio server%s%s: %s",
                 b->server ? " " : "", b->server ? b->server : "", pa_strerror(e));
        return false;
    }
    st->channels = ch;
    st->rate = rate;
    return true;
}

static void pa_close(void *p)
{
    PaBackend *b = p;
    if (b->play.s)
        pa_simple_free(b->play.s);
    for (int i = 0; i < 2; i++)
        if (b->rec[i].s)
            pa_simple_free(b->rec[i].s);
    g_free(b->server);
    g_free(b);
}

static void *pa_open(const char *spec, bool input, GError **err)
{
    PaBackend *b = g_new0(PaBackend, 1);
    device_spec_prop(spec, "server", &b->server);
    /* Connect now: no server is an error at start, not a silent guest. */
    if (!stream_open(b, &b->play, PA_STREAM_PLAYBACK, 2, 48000, err)) {
        pa_close(b);
        return NULL;
    }
    return b;
}

static void stream_failed(PaStream *st, const char *what, const char *msg)
{
    if (!st->failed)
        fprintf(stderr, "tandem: audio: PulseAudio %s: %s; it stays silent\n", what, msg);
    st->failed = true;
}

static void pa_out(void *p, const uint8_t *buf, size_t n, unsigned ch, unsigned rate)
{
    PaBackend *b = p;
    GError *err = NULL;
    int e = 0;
    if (b->play.failed)
        return;
    if (!stream_open(b, &b->play, PA_STREAM_PLAYBACK, ch, rate, &err)) {
        stream_failed(&b->play, "playback", err->message);
        g_error_free(err);
    } else if (pa_simple_write(b->play.s, buf, n, &e) < 0) {
        stream_failed(&b->play, "playback", pa_strerror(e));
    }
}

static void pa_in(void *p, unsigned source, uint8_t *buf, size_t n, unsigned ch, unsigned rate)
{
    PaBackend *b = p;
    PaStream *st = &b->rec[source ? 1 : 0];
    GError *err = NULL;
    int e = 0;
    memset(buf, 0, n);
    if (st->failed)
        return;
    if (!stream_open(b, st, PA_STREAM_RECORD, ch, rate, &err)) {
        stream_failed(st, "capture", err->message);
        g_error_free(err);
    } else if (pa_simple_read(st->s, buf, n, &e) < 0) {
        memset(buf, 0, n);
        stream_failed(st, "capture", pa_strerror(e));
    }
}

const AudioDriver audio_pa_driver = {
    .name = "pa", .props = audio_pa_props, .open = pa_open, .out = pa_out, .in = pa_in,
    .close = pa_close,
};

#else

static void *pa_open(const char *spec, bool input, GError **err)
{
    tn_error(err, "-audiodev pa: this build has no PulseAudio support (libpulse-dev was "
             "missing when it was configured; ./setup.sh installs it)");
    return NULL;
}

const AudioDriver audio_pa_driver = {
    .name = "pa", .props = audio_pa_props, .open = pa_open,
};

#endif
