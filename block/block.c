/* The generic block layer: opening (format probe, backing chains,
 * snapshot=on), request bounds and read-only checks, error messages. */
#include "block/block_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/error.h"

int blk_fail(BlockDev *bs, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_free(bs->error);
    bs->error = g_strdup_printf("%s: %s", bs->filename, msg);
    g_free(msg);
    return -errnum;
}

int blk_fd_pread(int fd, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0) {
            memset(p, 0, len);
            return 0;
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

int blk_fd_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

static const BlockDriver *find_driver(const char *name)
{
    if (!strcmp(name, "raw"))
        return &blk_driver_raw;
    if (!strcmp(name, "qcow2"))
        return &blk_driver_qcow2;
    return NULL;
}

/* Like QEMU: the qcow2 magic makes it qcow2, anything else is raw. */
static const char *probe(int fd)
{
    uint8_t m[4];
    if (blk_fd_pread(fd, m, 4, 0) == 0 && !memcmp(m, "QFI\xfb", 4))
        return "qcow2";
    return "raw";
}

static BlockDev *open_image(const char *path, const char *format, bool ro, int depth,
                            GPtrArray *chain, GError **err)
{
    const BlockDriver *drv = NULL;
    if (format && !(drv = find_driver(format))) {
        tn_error(err, "%s: unknown image format '%s' (raw or qcow2)", path, format);
        return NULL;
    }
    /* O_NONBLOCK so that a FIFO named by a hostile backing file name
     * cannot hang the open; only files and block devices are accepted. */
    int fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        tn_error(err, "%s: cannot open: %s", path, g_strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        tn_error(err, "%s: cannot stat: %s", path, g_strerror(errno));
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
        tn_error(err, "%s: not a regular file or block device", path);
        close(fd);
        return NULL;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    char *key = g_strdup_printf("%ju:%ju", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
    for (guint i = 0; i < chain->len; i++) {
        if (!strcmp(chain->pdata[i], key)) {
            tn_error(err, "%s: backing chain loop: this file is already in the chain", path);
            g_free(key);
            close(fd);
            return NULL;
        }
    }
    g_ptr_array_add(chain, key);
    if (!drv)
        drv = find_driver(probe(fd));

    BlockDev *bs = g_new0(BlockDev, 1);
    bs->drv = drv;
    bs->filename = g_strdup(path);
    bs->read_only = ro;
    bs->error = g_strdup("");
    if (!drv->open(bs, fd, depth, chain, err)) {
        blk_close(bs);
        return NULL;
    }
    return bs;
}

BlockDev *blk_open_backing(const char *path, const char *format, int depth,
                           GPtrArray *chain, GError **err)
{
    if (depth > BLK_MAX_BACKING_DEPTH) {
        tn_error(err, "%s: backing chain deeper than %d images", path, BLK_MAX_BACKING_DEPTH);
        return NULL;
    }
    return open_image(path, format, true, depth, chain, err);
}

BlockDev *blk_open(const char *path, const BlockOpenOpts *o, GError **err)
{
    BlockOpenOpts none = {0};
    if (!o)
        o = &none;
    GPtrArray *chain = g_ptr_array_new_with_free_func(g_free);
    bool ro = o->read_only || o->snapshot;
    BlockDev *bs = open_image(path, o->format, ro, 0, chain, err);
    g_ptr_array_free(chain, true);
    if (!bs || !o->snapshot || o->read_only)
        return bs;

    char *tmp = NULL;
    GError *e = NULL;
    int fd = g_file_open_tmp("tandem-snapshot-XXXXXX.qcow2", &tmp, &e);
    if (fd < 0) {
        tn_error(err, "%s: snapshot overlay: %s", path, e->message);
        g_error_free(e);
        blk_close(bs);
        return NULL;
    }
    /* Unlinked at once: the overlay lives only as long as the fd. */
    unlink(tmp);
    g_free(tmp);
    char *name = g_strdup_printf("%s (snapshot overlay)", path);
    BlockDev *ov = NULL;
    if (qcow2_format_fd(fd, name, bs->size, NULL, NULL, err))
        ov = qcow2_open_overlay(fd, name, bs, err);
    else {
        close(fd);
        blk_close(bs);
    }
    g_free(name);
    return ov;
}

void blk_close(BlockDev *bs)
{
    if (!bs)
        return;
    if (bs->drv && bs->opaque)
        bs->drv->close(bs);
    blk_close(bs->backing);
    g_free(bs->filename);
    g_free(bs->error);
    g_free(bs);
}

static int check_range(BlockDev *bs, uint64_t off, size_t len, const char *what)
{
    if (off > bs->size || len > bs->size - off)
        return blk_fail(bs, EINVAL, "%s of %zu bytes at %#" G_GINT64_MODIFIER "x is beyond "
                        "the end of the disk (%" G_GUINT64_FORMAT " bytes)",
                        what, len, off, bs->size);
    return 0;
}

int blk_pread(BlockDev *bs, uint64_t off, void *buf, size_t len)
{
    int r = check_range(bs, off, len, "read");
    if (r < 0 || !len)
        return r;
    return bs->drv->pread(bs, off, buf, len);
}

int blk_pwrite(BlockDev *bs, uint64_t off, const void *buf, size_t len)
{
    if (bs->read_only)
        return blk_fail(bs, EROFS, "image is read-only");
    int r = check_range(bs, off, len, "write");
    if (r < 0 || !len)
        return r;
    if (bs->write_hook)
        bs->write_hook(bs->write_hook_opaque, bs, off, len);
    return bs->drv->pwrite(bs, off, buf, len);
}

void blk_set_write_hook(BlockDev *bs, BlkWriteHook *fn, void *opaque)
{
    bs->write_hook = fn;
    bs->write_hook_opaque = opaque;
}

int blk_flush(BlockDev *bs)
{
    if (bs->read_only)
        return 0;
    return bs->drv->flush(bs);
}

uint64_t blk_size(const BlockDev *bs)
{
    return bs->size;
}

bool blk_is_read_only(const BlockDev *bs)
{
    return bs->read_only;
}

const char *blk_format(const BlockDev *bs)
{
    return bs->drv->name;
}

const char *blk_filename(const BlockDev *bs)
{
    return bs->filename;
}

BlockDev *blk_backing(const BlockDev *bs)
{
    return bs->backing;
}

const char *blk_last_error(const BlockDev *bs)
{
    return bs->error;
}

bool blk_create_qcow2(const char *path, uint64_t size, const char *backing,
                      const char *backing_fmt, GError **err)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        tn_error(err, "%s: cannot create: %s", path, g_strerror(errno));
        return false;
    }
    bool ok = qcow2_format_fd(fd, path, size, backing, backing_fmt, err);
    if (ok && fsync(fd) < 0) {
        tn_error(err, "%s: fsync: %s", path, g_strerror(errno));
        ok = false;
    }
    close(fd);
    return ok;
}

/* ---- internal snapshots ---- */

static const char *no_snapshots(const BlockDev *bs)
{
    return bs->drv == &blk_driver_raw ? "raw images cannot hold snapshots"
                                      : "this image format cannot hold snapshots";
}

bool blk_can_snapshot(BlockDev *bs, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = NULL;
    if (!bs->drv->can_snapshot) {
        *why = no_snapshots(bs);
        return false;
    }
    if (bs->read_only) {
        *why = "the image is read-only";
        return false;
    }
    return bs->drv->can_snapshot(bs, why);
}

/* 0 when the driver has the snapshot op and the call may go ahead. */
static int snapshot_op(BlockDev *bs, bool have, bool writes, const char *name)
{
    if (!have)
        return blk_fail(bs, ENOTSUP, "%s", no_snapshots(bs));
    if (writes && bs->read_only)
        return blk_fail(bs, EROFS, "image is read-only");
    if (name && !name[0])
        return blk_fail(bs, EINVAL, "empty snapshot name");
    if (name && strlen(name) > UINT16_MAX)
        return blk_fail(bs, EINVAL, "snapshot name of %zu bytes is too long (at most %u)",
                        strlen(name), UINT16_MAX);
    return 0;
}

int blk_snapshot_list(BlockDev *bs, BlkSnapshotInfo **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int r = snapshot_op(bs, bs->drv->snapshot_list != NULL, false, NULL);
    return r < 0 ? r : bs->drv->snapshot_list(bs, out, n);
}

void blk_snapshot_list_free(BlkSnapshotInfo *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        g_free(v[i].name);
    g_free(v);
}

int blk_snapshot_create(BlockDev *bs, const char *name, const void *vmstate, size_t len,
                        uint64_t vm_clock_ns, uint64_t icount)
{
    if (!name)
        return blk_fail(bs, EINVAL, "no snapshot name");
    int r = snapshot_op(bs, bs->drv->snapshot_create != NULL, true, name);
    if (r < 0)
        return r;
    if (len && !vmstate)
        return blk_fail(bs, EINVAL, "VM state of %zu bytes without data", len);
    return bs->drv->snapshot_create(bs, name, vmstate, len, vm_clock_ns, icount);
}

int blk_snapshot_goto(BlockDev *bs, const char *name_or_id, void **vmstate, size_t *len)
{
    if (vmstate)
        *vmstate = NULL;
    if (len)
        *len = 0;
    if (!name_or_id)
        return blk_fail(bs, EINVAL, "no snapshot name");
    int r = snapshot_op(bs, bs->drv->snapshot_goto != NULL, true, name_or_id);
    return r < 0 ? r : bs->drv->snapshot_goto(bs, name_or_id, vmstate, len);
}

int blk_snapshot_read_vmstate(BlockDev *bs, const char *name_or_id, void **vmstate,
                              size_t *len)
{
    *vmstate = NULL;
    *len = 0;
    if (!name_or_id)
        return blk_fail(bs, EINVAL, "no snapshot name");
    int r = snapshot_op(bs, bs->drv->snapshot_read_vmstate != NULL, false, name_or_id);
    return r < 0 ? r : bs->drv->snapshot_read_vmstate(bs, name_or_id, vmstate, len);
}

int blk_snapshot_delete(BlockDev *bs, const char *name_or_id)
{
    if (!name_or_id)
        return blk_fail(bs, EINVAL, "no snapshot name");
    int r = snapshot_op(bs, bs->drv->snapshot_delete != NULL, true, name_or_id);
    return r < 0 ? r : bs->drv->snapshot_delete(bs, name_or_id);
}

/* ---- observed views (blk_observe) ---- */

/* The image below failed: its message is the view's. */
static int obs_fail(BlockDev *bs, BlockDev *below, int r)
{
    g_free(bs->error);
    bs->error = g_strdup(blk_last_error(below));
    return r;
}

typedef struct Observed {
    BlockDev *below;
    BlkObserver *fn;
    void *opaque;
    unsigned tag;
} Observed;

static int obs_pread(BlockDev *bs, uint64_t off, void *buf, size_t len)
{
    Observed *o = bs->opaque;
    int r = blk_pread(o->below, off, buf, len);
    if (r < 0)
        return obs_fail(bs, o->below, r);
    return o->fn(o->opaque, o->tag, BLK_OP_READ, off, buf, len);
}

static int obs_pwrite(BlockDev *bs, uint64_t off, const void *buf, size_t len)
{
    Observed *o = bs->opaque;
    int r = blk_pwrite(o->below, off, buf, len);
    if (r < 0)
        return obs_fail(bs, o->below, r);
    return o->fn(o->opaque, o->tag, BLK_OP_WRITE, off, buf, len);
}

static int obs_flush(BlockDev *bs)
{
    Observed *o = bs->opaque;
    int r = blk_flush(o->below);
    if (r < 0)
        return obs_fail(bs, o->below, r);
    return o->fn(o->opaque, o->tag, BLK_OP_FLUSH, 0, NULL, 0);
}

/* Snapshots are the image's: the view forwards them.  The observer does
 * not see them (they are not guest requests). */
static bool obs_can_snapshot(BlockDev *bs, const char **why)
{
    Observed *o = bs->opaque;
    return blk_can_snapshot(o->below, why);
}

static int obs_snapshot_list(BlockDev *bs, BlkSnapshotInfo **out, size_t *n)
{
    Observed *o = bs->opaque;
    int r = blk_snapshot_list(o->below, out, n);
    return r < 0 ? obs_fail(bs, o->below, r) : r;
}

static int obs_snapshot_create(BlockDev *bs, const char *name, const void *vmstate,
                               size_t len, uint64_t vm_clock_ns, uint64_t icount)
{
    Observed *o = bs->opaque;
    int r = blk_snapshot_create(o->below, name, vmstate, len, vm_clock_ns, icount);
    return r < 0 ? obs_fail(bs, o->below, r) : r;
}

static int obs_snapshot_goto(BlockDev *bs, const char *name_or_id, void **vmstate,
                             size_t *len)
{
    Observed *o = bs->opaque;
    int r = blk_snapshot_goto(o->below, name_or_id, vmstate, len);
    return r < 0 ? obs_fail(bs, o->below, r) : r;
}

static int obs_snapshot_read_vmstate(BlockDev *bs, const char *name_or_id, void **vmstate,
                                     size_t *len)
{
    Observed *o = bs->opaque;
    int r = blk_snapshot_read_vmstate(o->below, name_or_id, vmstate, len);
    return r < 0 ? obs_fail(bs, o->below, r) : r;
}

static int obs_snapshot_delete(BlockDev *bs, const char *name_or_id)
{
    Observed *o = bs->opaque;
    int r = blk_snapshot_delete(o->below, name_or_id);
    return r < 0 ? obs_fail(bs, o->below, r) : r;
}

static void obs_close(BlockDev *bs)
{
    g_free(bs->opaque);
    bs->opaque = NULL;
}

static const BlockDriver blk_driver_observed = {
    .name = "observed",
    .pread = obs_pread,
    .pwrite = obs_pwrite,
    .flush = obs_flush,
    .close = obs_close,
    .can_snapshot = obs_can_snapshot,
    .snapshot_list = obs_snapshot_list,
    .snapshot_create = obs_snapshot_create,
    .snapshot_goto = obs_snapshot_goto,
    .snapshot_read_vmstate = obs_snapshot_read_vmstate,
    .snapshot_delete = obs_snapshot_delete,
};

BlockDev *blk_observe(BlockDev *below, BlkObserver *fn, void *opaque, unsigned tag)
{
    BlockDev *bs = g_new0(BlockDev, 1);
    Observed *o = g_new0(Observed, 1);
    *o = (Observed){ .below = below, .fn = fn, .opaque = opaque, .tag = tag };
    bs->drv = &blk_driver_observed;
    bs->opaque = o;
    bs->filename = g_strdup(below->filename);
    bs->size = below->size;
    bs->read_only = below->read_only;
    bs->error = g_strdup("");
    return bs;
}
