/* The block layer: disk images behind one small interface, for the disk
 * device models (and, later, record/replay) to use.
 *
 * Two formats: raw and qcow2 (versions 2 and 3; see docs/block.md for
 * what is and is not supported).  A BlockDev is not thread-safe; two of
 * them in one process are independent.
 *
 * Errors: open reports a GError; I/O calls return 0 or a negative errno
 * and leave a message, naming the image and what is wrong with it, that
 * blk_last_error() returns until the next failing call. */
#ifndef TANDEM_BLOCK_H
#define TANDEM_BLOCK_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest backing chain followed (the image itself not counted). */
#define BLK_MAX_BACKING_DEPTH 16

typedef struct BlockDev BlockDev;

typedef struct BlockOpenOpts {
    const char *format;     /* "raw", "qcow2", or NULL to probe the magic */
    bool read_only;
    /* Writes go to a temporary qcow2 overlay (an unlinked temp file) over
     * the image, which is opened read-only and never written. */
    bool snapshot;
} BlockOpenOpts;

BlockDev *blk_open(const char *path, const BlockOpenOpts *o, GError **err);
void blk_close(BlockDev *bs);

/* Byte-granular; off + len must lie within blk_size(). */
int blk_pread(BlockDev *bs, uint64_t off, void *buf, size_t len);
int blk_pwrite(BlockDev *bs, uint64_t off, const void *buf, size_t len);
int blk_flush(BlockDev *bs);

uint64_t blk_size(const BlockDev *bs);
bool blk_is_read_only(const BlockDev *bs);
const char *blk_format(const BlockDev *bs);
const char *blk_filename(const BlockDev *bs);
/* The backing image, or NULL (owned by bs). */
BlockDev *blk_backing(const BlockDev *bs);
/* Message of the last failed I/O call ("" when none). */
const char *blk_last_error(const BlockDev *bs);

/* An observed view of another image (blkreplay): every request goes to
 * below (not owned: close the view first), and after each one that
 * succeeded the observer sees it, with the data read or written (NULL for
 * a flush).  A negative return fails the request with that -errno (a
 * replay that diverged).  tag tells the observer which view it is. */
typedef enum BlkOp { BLK_OP_READ, BLK_OP_WRITE, BLK_OP_FLUSH } BlkOp;
typedef int BlkObserver(void *opaque, unsigned tag, BlkOp op, uint64_t off,
                        const void *data, size_t len);
BlockDev *blk_observe(BlockDev *below, BlkObserver *fn, void *opaque, unsigned tag);

/* Internal snapshots (qcow2 only; see docs/block.md).  The calls follow
 * an observed view (blk_observe) to the image below; with snapshot=on the
 * snapshots go into the temporary overlay and live only as long as it.
 * Snapshots are found by name_or_id as QEMU does: a snapshot whose id
 * string is name_or_id, else the first whose name (tag) is. */
typedef struct BlkSnapshotInfo {
    char id[16];              /* "1", "2", ... as qemu-img shows */
    char *name;               /* tag */
    uint64_t vm_state_size;   /* bytes of VM state stored with it (0: disk-only) */
    uint32_t date_sec, date_nsec;
    uint64_t vm_clock_ns;
    uint64_t icount;          /* UINT64_MAX when not recorded */
} BlkSnapshotInfo;

/* True when bs (after following an observed view) is a writable qcow2
 * image that can hold internal snapshots; else false with *why (may be
 * NULL) set to a static message. */
bool blk_can_snapshot(BlockDev *bs, const char **why);
/* The snapshots, in table order; free with blk_snapshot_list_free.
 * 0 or -errno (blk_last_error says why). */
int blk_snapshot_list(BlockDev *bs, BlkSnapshotInfo **out, size_t *n);
void blk_snapshot_list_free(BlkSnapshotInfo *v, size_t n);
/* Creates snapshot name holding the current disk contents and vmstate
 * (len bytes, may be 0/NULL).  Snapshots with the same name are replaced
 * (deleted first, as QEMU's savevm does). */
int blk_snapshot_create(BlockDev *bs, const char *name, const void *vmstate, size_t len,
                        uint64_t vm_clock_ns, uint64_t icount);
/* Reverts the disk to snapshot name_or_id and returns its vmstate
 * (g_malloc'd, *len bytes; NULL/0 when it has none; vmstate may be NULL
 * when not wanted).  -ENOENT when there is no such snapshot. */
int blk_snapshot_goto(BlockDev *bs, const char *name_or_id, void **vmstate, size_t *len);
/* Reads a snapshot's vmstate without reverting the disk. */
int blk_snapshot_read_vmstate(BlockDev *bs, const char *name_or_id, void **vmstate,
                              size_t *len);
int blk_snapshot_delete(BlockDev *bs, const char *name_or_id);

/* Called before each write to bs reaches its driver (the range is within
 * the image): the reverse-execution timeline saves what the write will
 * overwrite.  NULL removes it. */
typedef void BlkWriteHook(void *opaque, BlockDev *bs, uint64_t off, size_t len);
void blk_set_write_hook(BlockDev *bs, BlkWriteHook *fn, void *opaque);

/* Writes a fresh, empty qcow2 v3 image (64 KiB clusters, 16-bit
 * refcounts) of the given virtual size; backing may be NULL, else it is
 * recorded with backing_fmt ("raw"/"qcow2") exactly as given. */
bool blk_create_qcow2(const char *path, uint64_t size, const char *backing,
                      const char *backing_fmt, GError **err);

#endif
