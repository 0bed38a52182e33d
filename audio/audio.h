/* Audio backends (-audiodev DRIVER,id=ID,... and QEMU's -audio shorthand):
 *
 *   none   output discarded, input silence
 *   wav    output written to a WAV file (path=, default tandem.wav);
 *          input read from a WAV file (in.path=; silence without one and
 *          after its end), for tests without a sound server
 *   pa     PulseAudio through libpulse-simple (server=); a run that
 *          cannot reach a server stops at start saying so
 *
 * A sound card takes an AudioPort from audio_port(): its output goes to
 * the backend; its input passes through record/replay (rr_audio_input):
 * record logs the samples the backend gave, replay feeds the logged ones
 * and opens no input at all.  Output needs no log: it is the guest's DMA,
 * produced again by the replay (to whatever backend the replay names). */
#ifndef TANDEM_AUDIO_H
#define TANDEM_AUDIO_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/ac97.h"

typedef struct Machine Machine;
typedef struct AudioDev AudioDev;

/* Checks an -audiodev spec (driver, id=, the driver's properties); err
 * names what is wrong.  These two live in audio/audio_spec.c, which links
 * alone (tools, the option fuzzer). */
bool audio_check_spec(const char *spec, GError **err);
/* The id= of a checked spec (g_free). */
char *audio_spec_id(const char *spec);

/* The backend of -audiodev id=id, opened on first use and closed with the
 * machine.  NULL with err when there is no such -audiodev or it cannot be
 * opened. */
AudioDev *audio_get(Machine *m, const char *id, GError **err);
/* The port of sound card number card (its number in the log). */
void audio_port(AudioDev *d, unsigned card, AudioPort *port);

/* ---- backends (audio/wav.c, audio/pa.c) ---- */

typedef struct AudioDriver {
    const char *name;
    const char *const *props;        /* accepted properties besides id */
    /* Opens the backend; input false: do not open any input (replay). */
    void *(*open)(const char *spec, bool input, GError **err);
    void (*out)(void *be, const uint8_t *buf, size_t nbytes, unsigned channels, unsigned rate);
    /* Fills nbytes (silence where there is nothing). */
    void (*in)(void *be, unsigned source, uint8_t *buf, size_t nbytes, unsigned channels,
               unsigned rate);
    void (*close)(void *be);
} AudioDriver;

/* The properties each driver accepts besides id (audio/audio_spec.c). */
extern const char *const audio_none_props[];
extern const char *const audio_wav_props[];
extern const char *const audio_pa_props[];

extern const AudioDriver audio_wav_driver;
extern const AudioDriver audio_pa_driver;

/* A little-endian PCM WAV file being written (audio/wav.c; tests use it). */
typedef struct WavWriter WavWriter;
WavWriter *wav_writer_open(const char *path, GError **err);
/* Appends S16LE samples; the header takes channels and rate from the
 * first call, and later samples at another rate or channel count are
 * converted to those (nearest sample). */
bool wav_writer_add(WavWriter *w, const uint8_t *buf, size_t nbytes, unsigned channels,
                    unsigned rate);
void wav_writer_close(WavWriter *w);

#endif
