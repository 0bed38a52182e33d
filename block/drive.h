/* -drive: the user's disks, between the command line and the disk devices.
 *
 * Spelled as QEMU's pc (a subset):
 *   -drive file=F[,if=ide|virtio|none][,id=ID][,format=raw|qcow2][,snapshot[=on|off]]
 *          [,readonly=on|off][,media=disk][,index=N | bus=B,unit=U]
 *   -drive driver=blkreplay,if=none,image=ID,id=ID2
 *   -hda F .. -hdd F       (-drive file=F,index=0..3,media=disk)
 * if= defaults to ide (QEMU's default on pc): such a drive is attached by
 * the board at IDE index N (bus N / 2, unit N % 2) or the first free one.
 * if=none drives are attached by a device (-device ide-hd,drive=ID) or
 * stay unused (QEMU allows that; rrsnapshot keeps one such drive).
 *
 * blkreplay passes requests to its image; under record/replay each one
 * is logged (record) and checked (replay) through drives_observe(): the
 * request, its place and a hash of its data, so a replay against another
 * disk stops at the first request that differs. */
#ifndef TANDEM_DRIVE_H
#define TANDEM_DRIVE_H

#include <glib.h>
#include <stdbool.h>

#include "block/block.h"

typedef enum DriveIf {
    DRIVE_IF_IDE,
    DRIVE_IF_NONE,
    DRIVE_IF_VIRTIO,        /* a virtio-blk disk the board attaches (riscv virt) */
} DriveIf;

/* IDE positions: index = bus * 2 + unit. */
#define DRIVE_IDE_INDEXES 4

typedef struct Drive {
    char *id;               /* NULL: none given */
    DriveIf iface;
    int index;              /* if=ide: 0..3, or -1 for the first free one */
    char *file;             /* NULL for blkreplay */
    char *format;           /* "raw", "qcow2", NULL: probe */
    bool snapshot, read_only;
    bool blkreplay;
    char *image;            /* blkreplay: the id of the drive below */
    /* After drives_open: */
    BlockDev *blk;          /* blkreplay: the image drive's (not owned), or
                             * an observed view of it (owned) */
    bool observed;          /* blk is drives_observe()'s view */
    struct Drive *below;    /* blkreplay: the image drive */
    const char *user;       /* what uses it ("ide-hd", "blkreplay img"), or NULL */
    char *user_buf;
} Drive;

typedef struct DriveSet {
    Drive *d;
    int n;
} DriveSet;

/* Checks one -drive spec (the keys and their values); fills *out when
 * given (free with drive_clear). */
bool drive_parse(const char *spec, Drive *out, GError **err);
void drive_clear(Drive *d);

/* Parses every spec and opens the images: ids unique, blkreplay images
 * resolved, if=ide indexes assigned.  Under record/replay (rr_mode 1 or
 * 2) the image below a blkreplay drive must not change: snapshot=on or
 * readonly=on, else an error says so; with rr_snapshot (-icount
 * rrsnapshot=NAME) it may, since the snapshot NAME taken at the start of
 * the recording brings the disk back for the replay.  Returns NULL on
 * error, after closing what was opened. */
DriveSet *drives_open(const char *const *specs, int n, int rr_mode, bool rr_snapshot,
                      GError **err);
/* Gives every blkreplay drive an observed view of its image (blk_observe,
 * tag = the drive's position in the set), so that record/replay logs and
 * checks each request (rr_block_observer). */
void drives_observe(DriveSet *s, BlkObserver *fn, void *opaque);
void drives_close(DriveSet *s);

Drive *drives_find(DriveSet *s, const char *id);
/* The drive a disk device's -device spec names with drive=ID: it must
 * exist and be if=none (board_if names the interface the board attaches by
 * itself, for the message).  NULL with err set otherwise. */
Drive *drives_for_device(DriveSet *s, const char *spec, const char *board_if, GError **err);
/* The if=ide drive at index (0..3), or NULL. */
Drive *drives_ide(DriveSet *s, int index);
/* Marks d as used by user (a device); false with an error when it is
 * already in use. */
bool drive_claim(Drive *d, const char *user, GError **err);
/* The name the user knows the drive by (its id, or its file). */
const char *drive_name(const Drive *d);

#endif
