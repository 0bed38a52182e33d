/* What a block driver sees: the BlockDev it fills in and the ops table it
 * provides.  The generic layer (block.c) checks bounds and read-only
 * before calling a driver, so drivers see only in-range requests. */
#ifndef TANDEM_BLOCK_INT_H
#define TANDEM_BLOCK_INT_H

#include "block/block.h"

typedef struct BlockDriver {
    const char *name;
    /* fd is the image, opened read-only or read-write; the driver owns it
     * from here on (also on failure).  depth is the backing chain depth
     * of this image (0 for the top one); chain lists the images above it
     * as "dev:ino" strings, for loop detection. */
    bool (*open)(BlockDev *bs, int fd, int depth, GPtrArray *chain, GError **err);
    int (*pread)(BlockDev *bs, uint64_t off, void *buf, size_t len);
    int (*pwrite)(BlockDev *bs, uint64_t off, const void *buf, size_t len);
    int (*flush)(BlockDev *bs);
    void (*close)(BlockDev *bs);
    /* Internal snapshots (block.h); NULL: the format cannot hold them.
     * The generic layer checks read-only and the arguments first. */
    bool (*can_snapshot)(BlockDev *bs, const char **why);
    int (*snapshot_list)(BlockDev *bs, BlkSnapshotInfo **out, size_t *n);
    int (*snapshot_create)(BlockDev *bs, const char *name, const void *vmstate, size_t len,
                           uint64_t vm_clock_ns, uint64_t icount);
    int (*snapshot_goto)(BlockDev *bs, const char *name_or_id, void **vmstate, size_t *len);
    int (*snapshot_read_vmstate)(BlockDev *bs, const char *name_or_id, void **vmstate,
                                 size_t *len);
    int (*snapshot_delete)(BlockDev *bs, const char *name_or_id);
} BlockDriver;

struct BlockDev {
    const BlockDriver *drv;
    void *opaque;               /* the driver's state */
    char *filename;
    uint64_t size;              /* virtual size in bytes */
    bool read_only;
    BlockDev *backing;          /* owned; qcow2 only */
    char *error;                /* last I/O failure, "" if none */
    /* Called before every write (blk_set_write_hook). */
    BlkWriteHook *write_hook;
    void *write_hook_opaque;
};

extern const BlockDriver blk_driver_raw;
extern const BlockDriver blk_driver_qcow2;

/* Records "filename: message" as the last error and returns -errnum
 * (errnum is a positive errno). */
int blk_fail(BlockDev *bs, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Opens a backing image read-only, format given or probed, depth as for
 * BlockDriver.open. */
BlockDev *blk_open_backing(const char *path, const char *format, int depth,
                           GPtrArray *chain, GError **err);

/* Whole-buffer pread/pwrite that retry on EINTR and short counts; pread
 * fills the part past end of file with zeros.  Return 0 or -errno. */
int blk_fd_pread(int fd, void *buf, size_t len, uint64_t off);
int blk_fd_pwrite(int fd, const void *buf, size_t len, uint64_t off);

/* The qcow2 driver's own entry for snapshot=on: an empty overlay over
 * backing (which it takes ownership of) in the temp file fd. */
BlockDev *qcow2_open_overlay(int fd, const char *name, BlockDev *backing, GError **err);
bool qcow2_format_fd(int fd, const char *name, uint64_t size, const char *backing,
                     const char *backing_fmt, GError **err);

#endif
