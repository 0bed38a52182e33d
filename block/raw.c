/* The raw format: the file is the disk, byte for byte. */
#include "block/block_int.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/error.h"

typedef struct Raw {
    int fd;
} Raw;

static bool raw_open(BlockDev *bs, int fd, int depth, GPtrArray *chain, GError **err)
{
    Raw *s = g_new0(Raw, 1);
    s->fd = fd;
    bs->opaque = s;
    /* lseek, not st_size, so block devices report their size too. */
    off_t end = lseek(fd, 0, SEEK_END);
    if (end < 0) {
        tn_error(err, "%s: cannot find the size: %s", bs->filename, g_strerror(errno));
        return false;
    }
    bs->size = (uint64_t)end;
    return true;
}

static int raw_pread(BlockDev *bs, uint64_t off, void *buf, size_t len)
{
    Raw *s = bs->opaque;
    int r = blk_fd_pread(s->fd, buf, len, off);
    if (r < 0)
        return blk_fail(bs, -r, "read at %#" G_GINT64_MODIFIER "x: %s", off, g_strerror(-r));
    return 0;
}

static int raw_pwrite(BlockDev *bs, uint64_t off, const void *buf, size_t len)
{
    Raw *s = bs->opaque;
    int r = blk_fd_pwrite(s->fd, buf, len, off);
    if (r < 0)
        return blk_fail(bs, -r, "write at %#" G_GINT64_MODIFIER "x: %s", off, g_strerror(-r));
    return 0;
}

static int raw_flush(BlockDev *bs)
{
    Raw *s = bs->opaque;
    if (fdatasync(s->fd) < 0)
        return blk_fail(bs, errno, "flush: %s", g_strerror(errno));
    return 0;
}

static void raw_close(BlockDev *bs)
{
    Raw *s = bs->opaque;
    close(s->fd);
    g_free(s);
    bs->opaque = NULL;
}

const BlockDriver blk_driver_raw = {
    .name = "raw",
    .open = raw_open,
    .pread = raw_pread,
    .pwrite = raw_pwrite,
    .flush = raw_flush,
    .close = raw_close,
};
