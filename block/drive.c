/* -drive specs: parsing, opening the images, handing them to devices. */
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
            } else {
                tn_error(err, "-drive %s: if=%s is not supported (ide, none)", spec, val);
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
                 "ide-hd,drive=ID", spec);
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

const char *drive_name(const Drive *d)
{
    return d->id ? d->id : d->file ? d->file : "?";
}

Drive *drives_find(DriveSet *s, const char *id)
{
    for (int i = 0; s && i < s->n; i++)
        if (s->d[i].id && !strcmp(s->d[i].id, id))
            return &s->d[i];
    return NULL;
}

Drive *drives_ide(DriveSet *s, int index)
{
    for (int i = 0; s && i < s->n; i++)
        if (s->d[i].iface == DRIVE_IF_IDE && s->d[i].index == index)
            return &s->d[i];
    return NULL;
}

bool drive_claim(Drive *d, const char *user, GError **err)
{
    if (d->user) {
        tn_error(err, "drive %s is already in use by %s", drive_name(d), d->user);
        return false;
    }
    g_free(d->user_buf);
    d->user_buf = g_strdup(user);
    d->user = d->user_buf;
    return true;
}

void drives_close(DriveSet *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n; i++) {
        if (!s->d[i].blkreplay && s->d[i].blk)
            blk_close(s->d[i].blk);
        drive_clear(&s->d[i]);
    }
    g_free(s->d);
    g_free(s);
}

static bool open_image(Drive *d, GError **err)
{
    BlockOpenOpts o = { .format = d->format, .read_only = d->read_only,
                        .snapshot = d->snapshot };
    GError *e = NULL;
    d->blk = blk_open(d->file, &o, &e);
    if (!d->blk) {
        tn_error(err, "-drive %s: %s", drive_name(d), e->message);
        g_error_free(e);
        return false;
    }
    return true;
}

DriveSet *drives_open(const char *const *specs, int n, int rr_mode, GError **err)
{
    DriveSet *s = g_new0(DriveSet, 1);
    s->d = g_new0(Drive, n > 0 ? n : 1);
    for (int i = 0; i < n; i++) {
        if (!drive_parse(specs[i], &s->d[i], err))
            goto fail;
        s->n++;
        Drive *d = &s->d[i];
        if (d->id) {
            for (int j = 0; j < i; j++) {
                if (s->d[j].id && !strcmp(s->d[j].id, d->id)) {
                    tn_error(err, "-drive %s: id=%s is used by another -drive", specs[i],
                             d->id);
                    goto fail;
                }
            }
        }
        if (d->iface == DRIVE_IF_IDE && d->index >= 0 && drives_ide(s, d->index) != d) {
            tn_error(err, "-drive %s: IDE index %d (bus %d, unit %d) is taken by another "
                     "-drive", specs[i], d->index, d->index / 2, d->index % 2);
            goto fail;
        }
    }
    /* if=ide drives without an index take the first free one, in order. */
    for (int i = 0; i < s->n; i++) {
        Drive *d = &s->d[i];
        if (d->iface != DRIVE_IF_IDE || d->index >= 0)
            continue;
        for (int x = 0; x < DRIVE_IDE_INDEXES && d->index < 0; x++)
            if (!drives_ide(s, x))
                d->index = x;
        if (d->index < 0) {
            tn_error(err, "-drive %s: all %d IDE positions are taken", drive_name(d),
                     DRIVE_IDE_INDEXES);
            goto fail;
        }
    }
    for (int i = 0; i < s->n; i++)
        if (!s->d[i].blkreplay && !open_image(&s->d[i], err))
            goto fail;
    for (int i = 0; i < s->n; i++) {
        Drive *d = &s->d[i];
        if (!d->blkreplay)
            continue;
        /* Logging of completions comes with the record/replay integration;
         * until then a recording would silently miss the disk's timing. */
        if (rr_mode) {
            tn_error(err, "-drive %s: blkreplay record/replay is not implemented yet "
                     "(a blkreplay drive works without -icount rr=...)", drive_name(d));
            goto fail;
        }
        Drive *img = drives_find(s, d->image);
        if (!img || img == d) {
            tn_error(err, "-drive %s: image=%s: no -drive has that id", drive_name(d),
                     d->image);
            goto fail;
        }
        if (img->iface != DRIVE_IF_NONE) {
            tn_error(err, "-drive %s: image=%s must be an if=none drive", drive_name(d),
                     d->image);
            goto fail;
        }
        if (img->blkreplay) {
            tn_error(err, "-drive %s: image=%s is itself a blkreplay drive", drive_name(d),
                     d->image);
            goto fail;
        }
        g_autofree char *user = g_strdup_printf("blkreplay drive %s", drive_name(d));
        if (!drive_claim(img, user, err))
            goto fail;
        d->below = img;
        d->blk = img->blk;
    }
    return s;
fail:
    drives_close(s);
    return NULL;
}
