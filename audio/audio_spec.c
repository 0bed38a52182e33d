/* -audiodev spec checking (audio/audio.h), apart from the backends so that
 * tools and the option fuzzer link it alone.  The drivers' property lists
 * live here too; the backends (audio.c, wav.c, pa.c) point at them. */
#include <string.h>

#include "audio/audio.h"
#include "vmm/error.h"
#include "vmm/options.h"

const char *const audio_none_props[] = { NULL };
const char *const audio_wav_props[] = { "path", "in.path", NULL };
const char *const audio_pa_props[] = { "server", NULL };

typedef struct AudioSpecDriver {
    const char *name;
    const char *const *props;
} AudioSpecDriver;

/* The same names, in the same order, as the drivers in audio.c. */
static const AudioSpecDriver spec_drivers[] = {
    { "none", audio_none_props },
    { "wav", audio_wav_props },
    { "pa", audio_pa_props },
};

static const AudioSpecDriver *find_spec_driver(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(spec_drivers); i++)
        if (!strcmp(spec_drivers[i].name, name))
            return &spec_drivers[i];
    return NULL;
}

char *audio_spec_id(const char *spec)
{
    char *id = NULL;
    device_spec_prop(spec, "id", &id);
    return id;
}

bool audio_check_spec(const char *spec, GError **err)
{
    g_autofree char *drv = device_spec_driver(spec);
    const AudioSpecDriver *d = find_spec_driver(drv);
    if (!d) {
        tn_error(err, "-audiodev %s: unknown audio driver '%s' (none, wav, pa)", spec, drv);
        return false;
    }
    g_autofree char *id = audio_spec_id(spec);
    if (!id || !*id) {
        tn_error(err, "-audiodev %s: id= is required", spec);
        return false;
    }
    gchar **parts = g_strsplit(spec, ",", -1);
    bool ok = true;
    for (int i = 1; parts[i] && ok; i++) {
        const char *eq = strchr(parts[i], '=');
        g_autofree char *key = eq ? g_strndup(parts[i], (gsize)(eq - parts[i]))
                                  : g_strdup(parts[i]);
        bool known = !strcmp(key, "id");
        for (const char *const *p = d->props; *p && !known; p++)
            known = !strcmp(key, *p);
        if (!known || !eq) {
            g_autofree char *list = g_strjoinv(", ", (char **)d->props);
            tn_error(err, "-audiodev %s: %s '%s' (the %s driver takes id%s%s)", spec,
                     known ? "no value for" : "unknown property", key, d->name,
                     *list ? ", " : "", list);
            ok = false;
        }
    }
    g_strfreev(parts);
    return ok;
}
