/* -drive specs: opening the images, handing them to devices (the parsing
 * is drive_spec.c). */
#include "block/drive.h"

#include <errno.h>
#include <string.h>

#include "vmm/error.h"
#include "vmm/options.h"

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

Drive *drives_for_device(DriveSet *s, const char *spec, const char *board_if, GError **err)
{
    g_autofree char *id = NULL;
    if (!device_spec_prop(spec, "drive", &id)) {
        tn_error(err, "-device %s: give the disk image with drive=ID (an -drive ...,id=ID)",
                 spec);
        return NULL;
    }
    Drive *d = drives_find(s, id);
    if (!d) {
        tn_error(err, "-device %s: drive=%s: no -drive has id=%s", spec, id, id);
        return NULL;
    }
    if (d->iface != DRIVE_IF_NONE) {
        tn_error(err, "-device %s: drive=%s is an if=%s drive, which the board attaches "
                 "itself; give it if=none", spec, id, board_if);
        return NULL;
    }
    return d;
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
        if ((!s->d[i].blkreplay || s->d[i].observed) && s->d[i].blk)
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

DriveSet *drives_open(const char *const *specs, int n, int rr_mode, bool rr_snapshot,
                      GError **err)
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
        /* A recording replays only from the disk it started from: the
         * image must not change, unless rrsnapshot= takes a snapshot of
         * it at the start (record) and goes back to it (replay). */
        if (rr_mode && !rr_snapshot && !img->snapshot && !img->read_only) {
            tn_error(err, "-drive %s: under record/replay the image of blkreplay drive %s "
                     "must not change: add snapshot=on (as QEMU's documented command line "
                     "does) or readonly=on to -drive %s, or give -icount rrsnapshot=NAME "
                     "(a snapshot of the disk at the start, which replay goes back to)",
                     drive_name(img), drive_name(d), drive_name(img));
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

void drives_observe(DriveSet *s, BlkObserver *fn, void *opaque)
{
    for (int i = 0; s && i < s->n; i++) {
        Drive *d = &s->d[i];
        if (d->blkreplay && d->below && !d->observed) {
            d->blk = blk_observe(d->below->blk, fn, opaque, (unsigned)i);
            d->observed = true;
        }
    }
}
