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

/* Writes a fresh, empty qcow2 v3 image (64 KiB clusters, 16-bit
 * refcounts) of the given virtual size; backing may be NULL, else it is
 * recorded with backing_fmt ("raw"/"qcow2") exactly as given. */
bool blk_create_qcow2(const char *path, uint64_t size, const char *backing,
                      const char *backing_fmt, GError **err);

#endif
