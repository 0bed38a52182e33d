/* -drive specs: parsing (no image is opened here: options.c and the
 * log-reader fuzzer link this alone; drive.c opens and hands out). */
#include "block/drive.h"

#include <errno.h>
#include <string.h>

#include "vmm/error.h"

/* Splits "a=b,c,,d=e" at single commas; ",," is a literal comma (QEMU). */
static GPtrArray *split_opts(const char *spec)
{
    GPtrArray *parts = g_ptr_array_new_with_free_func(g_free);
    GString *cur = g_string_new(NULL);
    for (const char *p = spec;; p++) {
        if (*p == ',' && p[1] == ',') {
            g_string_append_c(cur, ',');
            p++;
        } else if (*p == ',' || !*p) {
            g_ptr_array_add(parts, g_string_free(cur, FALSE));
            if (!*p)
                break;
            cur = g_string_new(NULL);
        } else {
            g_string_append_c(cur, *p);
        }
    }
    return parts;
}

static bool parse_bool(const char *spec, const char *key, const char *val, bool *out,
                       GError **err)
{
    if (!val || !strcmp(val, "on") || !strcmp(val, "true") || !strcmp(val, "yes")) {
        *out = true;
    } else if (!strcmp(val, "off") || !strcmp(val, "false") || !strcmp(val, "no")) {
        *out = false;
    } else {
        tn_error(err, "-drive %s: %s=%s: give on or off", spec, key, val);
        return false;
    }
    return true;
}

static bool parse_int(const char *spec, const char *key, const char *val, int max, int *out,
                      GError **err)
{
    char *end = NULL;
    long v = val ? strtol(val, &end, 10) : -1;
    if (!val || !*val || *end || v < 0 || v > max) {
        tn_error(err, "-drive %s: %s=%s is not a number from 0 to %d", spec, key,
                 val ? val : "", max);
        return false;
    }
    *out = (int)v;
    return true;
}

void drive_clear(Drive *d)
{
    g_free(d->id);
    g_free(d->file);
    g_free(d->format);
    g_free(d->image);
    g_free(d->user_buf);
    memset(d, 0, sizeof(*d));
}

bool drive_parse(const char *spec, Drive *out, GError **err)
{
    Drive d = { .iface = DRIVE_IF_IDE, .index = -1 };
    GPtrArray *parts = split_opts(spec);
    int bus = -1, unit = -1;
    bool iface_given = false, ok = false;
    for (guint i = 0; i < parts->len; i++) {
        const char *kv = parts->pdata[i];
        if (!*kv)
            continue;
        const char *eq = strchr(kv, '=');
        g_autofree char *key = eq ? g_strndup(kv, (gsize)(eq - kv)) : g_strdup(kv);
        const char *val = eq ? eq + 1 : NULL;
        if (strcmp(key, "snapshot") && strcmp(key, "readonly") && !val) {
            tn_error(err, "-drive %s: '%s' needs a value (%s=...)", spec, key, key);
            goto out;
        }
        if (!strcmp(key, "file")) {
            if (!*val) {
                tn_error(err, "-drive %s: file= needs a file name", spec);
                goto out;
            }
            g_free(d.file);
            d.file = g_strdup(val);
        } else if (!strcmp(key, "id")) {
            if (!*val || !g_ascii_isalpha(val[0])) {
                tn_error(err, "-drive %s: id=%s: an id starts with a letter", spec, val);
                goto out;
            }
            g_free(d.id);
            d.id = g_strdup(val);
        } else if (!strcmp(key, "if")) {
            iface_given = true;
            if (!strcmp(val, "ide")) {
                d.iface = DRIVE_IF_IDE;
            } else if (!strcmp(val, "none")) {
                d.iface = DRIVE_IF_NONE;
            } else if (!strcmp(val, "virtio")) {
                d.iface = DRIVE_IF_VIRTIO;
            } else {
                tn_error(err, "-drive %s: if=%s is not supported (ide, virtio, none)", spec,
                         val);
                goto out;
            }
        } else if (!strcmp(key, "format") || !strcmp(key, "driver")) {
            if (!strcmp(val, "raw") || !strcmp(val, "qcow2")) {
                g_free(d.format);
                d.format = g_strdup(val);
            } else if (!strcmp(key, "driver") && !strcmp(val, "blkreplay")) {
                d.blkreplay = true;
            } else {
                tn_error(err, "-drive %s: %s=%s is not supported (raw, qcow2%s)", spec, key,
                         val, !strcmp(key, "driver") ? ", blkreplay" : "");
                goto out;
            }
        } else if (!strcmp(key, "snapshot")) {
            if (!parse_bool(spec, key, val, &d.snapshot, err))
                goto out;
        } else if (!strcmp(key, "readonly") || !strcmp(key, "read-only")) {
            if (!parse_bool(spec, key, val, &d.read_only, err))
                goto out;
        } else if (!strcmp(key, "media")) {
            if (strcmp(val, "disk")) {
                tn_error(err, "-drive %s: media=%s: only disks (media=disk) are supported; "
                         "there is no CD-ROM model yet", spec, val);
                goto out;
            }
        } else if (!strcmp(key, "index")) {
            if (!parse_int(spec, key, val, DRIVE_IDE_INDEXES - 1, &d.index, err))
                goto out;
        } else if (!strcmp(key, "bus")) {
            if (!parse_int(spec, key, val, 1, &bus, err))
                goto out;
        } else if (!strcmp(key, "unit")) {
            if (!parse_int(spec, key, val, 1, &unit, err))
                goto out;
        } else if (!strcmp(key, "image")) {
            g_free(d.image);
            d.image = g_strdup(val);
        } else {
            tn_error(err, "-drive %s: unknown or unsupported parameter '%s' (supported: "
                     "file, if, id, format, driver, snapshot, readonly, media, index, bus, "
                     "unit, image)", spec, key);
            goto out;
        }
    }
    if (bus >= 0 || unit >= 0) {
        if (d.index >= 0) {
            tn_error(err, "-drive %s: give index= or bus=/unit=, not both", spec);
            goto out;
        }
        d.index = (bus < 0 ? 0 : bus) * 2 + (unit < 0 ? 0 : unit);
    }
    if (d.blkreplay) {
        if (d.file || d.format) {
            tn_error(err, "-drive %s: driver=blkreplay takes its data from image=ID, not "
                     "from file= or format=", spec);
            goto out;
        }
        if (!d.image) {
            tn_error(err, "-drive %s: driver=blkreplay needs image=ID (the id of an "
                     "if=none drive)", spec);
            goto out;
        }
        if (d.snapshot) {
            tn_error(err, "-drive %s: put snapshot on the image drive, not on blkreplay",
                     spec);
            goto out;
        }
    } else {
        if (d.image) {
            tn_error(err, "-drive %s: image= is for driver=blkreplay", spec);
            goto out;
        }
        if (!d.file) {
            tn_error(err, "-drive %s: no file= given", spec);
            goto out;
        }
    }
    if (d.iface == DRIVE_IF_VIRTIO && d.index >= 0) {
        tn_error(err, "-drive %s: index/bus/unit are for if=ide; if=virtio drives take the "
                 "next free virtio transport in command-line order", spec);
        goto out;
    }
    if (d.iface == DRIVE_IF_NONE && d.index >= 0) {
        tn_error(err, "-drive %s: index/bus/unit are for if=ide; an if=none drive is placed "
                 "by its device (-device ide-hd,drive=ID,bus=ide.B,unit=U)", spec);
        goto out;
    }
    if (d.iface == DRIVE_IF_NONE && !d.id) {
        tn_error(err, "-drive %s: an if=none drive needs id=ID for a device to use it", spec);
        goto out;
    }
    if (d.blkreplay && iface_given && d.iface != DRIVE_IF_NONE) {
        tn_error(err, "-drive %s: a blkreplay drive is if=none, used with -device "
                 "ide-hd,drive=ID or virtio-blk-device,drive=ID", spec);
        goto out;
    }
    ok = true;
out:
    g_ptr_array_free(parts, TRUE);
    if (ok && out)
        *out = d;
    else
        drive_clear(&d);
    return ok;
}

