/* Audio backends: the machine's open backends and the sound cards' ports
 * through record/replay (audio/audio.h); -audiodev specs are checked in
 * audio/audio_spec.c. */
#include "audio/audio.h"

#include <stdio.h>
#include <string.h>

#include "rr/rr.h"
#include "vmm/error.h"
#include "vmm/machine.h"
#include "vmm/options.h"

static void *none_open(const char *spec, bool input, GError **err)
{
    return g_new0(char, 1);
}

static void none_out(void *be, const uint8_t *buf, size_t n, unsigned ch, unsigned rate)
{
}

static void none_in(void *be, unsigned source, uint8_t *buf, size_t n, unsigned ch,
                    unsigned rate)
{
    memset(buf, 0, n);
}

static const AudioDriver none_driver = {
    .name = "none", .props = audio_none_props, .open = none_open, .out = none_out, .in = none_in,
    .close = g_free,
};

static const AudioDriver *const drivers[] = { &none_driver, &audio_wav_driver, &audio_pa_driver };

static const AudioDriver *find_driver(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(drivers); i++)
        if (!strcmp(drivers[i]->name, name))
            return drivers[i];
    return NULL;
}

/* ---- the machine's backends ---- */

struct AudioDev {
    Machine *m;
    const AudioDriver *drv;
    void *be;
    char *id;
};

typedef struct AudioSet {
    AudioDev devs[16];
    int n;
} AudioSet;

static void set_destroy(void *p)
{
    AudioSet *s = p;
    for (int i = 0; i < s->n; i++) {
        s->devs[i].drv->close(s->devs[i].be);
        g_free(s->devs[i].id);
    }
    g_free(s);
}

/* The backends hold no guest state: snapshots carry nothing for them. */
static int set_save(void *dev, void *w)
{
    return 0;
}

static int set_load(void *dev, void *r)
{
    return 0;
}

static const DeviceOps audio_set_ops = {
    .name = "audio backends",
    .save = set_save,
    .load = set_load,
    .destroy = set_destroy,
};

static AudioSet *machine_set(Machine *m)
{
    for (int i = 0; i < m->ndevices; i++)
        if (m->devices[i].ops == &audio_set_ops)
            return m->devices[i].dev;
    AudioSet *s = g_new0(AudioSet, 1);
    machine_add_device(m, &audio_set_ops, s);
    return s;
}

AudioDev *audio_get(Machine *m, const char *id, GError **err)
{
    AudioSet *set = machine_set(m);
    for (int i = 0; i < set->n; i++)
        if (!strcmp(set->devs[i].id, id))
            return &set->devs[i];
    const Options *o = m->opts;
    for (int i = 0; i < o->naudiodevs; i++) {
        g_autofree char *sid = audio_spec_id(o->audiodevs[i]);
        if (!sid || strcmp(sid, id))
            continue;
        if (set->n == (int)G_N_ELEMENTS(set->devs)) {
            tn_error(err, "too many audio backends");
            return NULL;
        }
        g_autofree char *name = device_spec_driver(o->audiodevs[i]);
        const AudioDriver *drv = find_driver(name);
        bool replay = o->rr_mode == RR_MODE_REPLAY;
        char *in = NULL;
        if (replay && device_spec_prop(o->audiodevs[i], "in.path", &in)) {
            fprintf(stderr, "tandem: replay: -audiodev %s: in.path=%s is not read, the audio "
                    "input comes from the recording\n", id, in);
            g_free(in);
        }
        void *be = drv->open(o->audiodevs[i], !replay, err);
        if (!be)
            return NULL;
        AudioDev *d = &set->devs[set->n++];
        *d = (AudioDev){ m, drv, be, g_strdup(id) };
        return d;
    }
    tn_error(err, "audiodev=%s: there is no -audiodev with id=%s", id, id);
    return NULL;
}

/* ---- ports ---- */

typedef struct Port {
    AudioDev *d;
    unsigned card;
    unsigned source, channels, rate;
} Port;

static void port_out(void *opaque, const uint8_t *buf, size_t n, unsigned ch, unsigned rate)
{
    Port *p = opaque;
    p->d->drv->out(p->d->be, buf, n, ch, rate);
}

static void port_fill(void *opaque, uint8_t *buf, size_t n)
{
    Port *p = opaque;
    p->d->drv->in(p->d->be, p->source, buf, n, p->channels, p->rate);
}

static void port_in(void *opaque, unsigned source, uint8_t *buf, size_t n, unsigned ch,
                    unsigned rate)
{
    Port *p = opaque;
    p->source = source;
    p->channels = ch;
    p->rate = rate;
    rr_audio_input(p->d->m, p->card, source, buf, n, port_fill, p);
}

void audio_port(AudioDev *d, unsigned card, AudioPort *port)
{
    Port *p = g_new0(Port, 1);
    p->d = d;
    p->card = card;
    machine_keep(d->m, p);
    *port = (AudioPort){ .out = port_out, .in = port_in, .opaque = p };
}
