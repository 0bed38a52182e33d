/* qcow2: header parsing and validation, open/close, image creation.
 *
 * Every offset and size taken from the file is checked here (or, for L2
 * entries, where they are used in qcow2_map.c) before it is used: a
 * hostile image gets an error naming the field, never a crash or a huge
 * allocation. */
#include "block/qcow2.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/error.h"

#define X64 "%#" PRIx64

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) << 32 | rd32(p + 4);
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

static void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, v >> 32);
    wr32(p + 4, (uint32_t)v);
}

int q2_corrupt(BlockDev *bs, const char *fmt, ...)
{
    Qcow2 *s = bs->opaque;
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    s->broken = true;
    int r = blk_fail(bs, EIO, "corrupt qcow2 image: %s", msg);
    g_free(msg);
    return r;
}

int q2_io(BlockDev *bs, int r, const char *what, uint64_t off)
{
    return blk_fail(bs, -r, "%s at " X64 ": %s", what, off, g_strerror(-r));
}

const char *q2_meta_find(Qcow2 *s, uint64_t off, uint64_t len)
{
    uint64_t first = off >> s->cluster_bits;
    uint64_t last = (off + len - 1) >> s->cluster_bits;
    for (uint64_t c = first; c <= last; c++) {
        const char *what = g_hash_table_lookup(s->meta, GSIZE_TO_POINTER(c + 1));
        if (what)
            return what;
    }
    return NULL;
}

bool q2_meta_add(BlockDev *bs, uint64_t off, uint64_t len, const char *what, GError **err)
{
    Qcow2 *s = bs->opaque;
    const char *old = q2_meta_find(s, off, len);
    if (old) {
        tn_error(err, "%s: corrupt qcow2 image: %s at " X64 " overlaps the %s",
                 bs->filename, what, off, old);
        return false;
    }
    uint64_t first = off >> s->cluster_bits;
    uint64_t last = (off + len - 1) >> s->cluster_bits;
    for (uint64_t c = first; c <= last; c++)
        g_hash_table_insert(s->meta, GSIZE_TO_POINTER(c + 1), (gpointer)what);
    return true;
}

/* ------------------------------------------------------------- header */

typedef struct Header {
    uint32_t version;
    uint64_t backing_offset;
    uint32_t backing_size;
    uint32_t cluster_bits;
    uint64_t size;
    uint32_t crypt_method;
    uint32_t l1_size;
    uint64_t l1_offset;
    uint64_t rt_offset;
    uint32_t rt_clusters;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    uint64_t incompat, compat, autoclear;
    uint32_t refcount_order;
    uint32_t header_length;
    uint8_t compression_type;
    char *backing_format;                   /* from the extension, or NULL */
    char *feature_names[64];                /* incompatible bits, from the table */
} Header;

static void header_free(Header *h)
{
    g_free(h->backing_format);
    for (int i = 0; i < 64; i++)
        g_free(h->feature_names[i]);
}

#define FAIL(...) do { tn_error(err, __VA_ARGS__); return false; } while (0)

/* The extensions lie between the header and the end of the first cluster
 * (or the backing file name, which must come after them). */
static bool parse_extensions(const char *fn, const uint8_t *c, Header *h, uint64_t end,
                             GError **err)
{
    uint64_t p = h->header_length;
    while (p + 8 <= end) {
        uint32_t type = rd32(c + p), len = rd32(c + p + 4);
        if (type == QCOW2_EXT_END)
            return true;
        if (len > end - p - 8)
            FAIL("%s: header extension %#x at %" PRIu64 ": length %u runs past the end "
                 "of the header area", fn, type, p, len);
        const uint8_t *d = c + p + 8;
        if (type == QCOW2_EXT_BACKING_FORMAT) {
            if (len == 0 || len > 63 || memchr(d, 0, len))
                FAIL("%s: backing file format extension: bad length %u or NUL in name", fn, len);
            g_free(h->backing_format);
            h->backing_format = g_strndup((const char *)d, len);
        } else if (type == QCOW2_EXT_FEATURE_TABLE) {
            for (uint32_t i = 0; i + 48 <= len; i += 48) {
                if (d[i] == 0 && d[i + 1] < 64) {
                    g_free(h->feature_names[d[i + 1]]);
                    h->feature_names[d[i + 1]] = g_strndup((const char *)d + i + 2, 46);
                }
            }
        }
        p += 8 + (((uint64_t)len + 7) & ~7ull);
    }
    return true;
}

static bool parse_header(const char *fn, const uint8_t *c, uint64_t file_size, Header *h,
                         GError **err)
{
    h->cluster_bits = rd32(c + 20);
    uint64_t cs = 1ull << h->cluster_bits;
    h->backing_offset = rd64(c + 8);
    h->backing_size = rd32(c + 16);
    h->size = rd64(c + 24);
    h->crypt_method = rd32(c + 32);
    h->l1_size = rd32(c + 36);
    h->l1_offset = rd64(c + 40);
    h->rt_offset = rd64(c + 48);
    h->rt_clusters = rd32(c + 56);
    h->nb_snapshots = rd32(c + 60);
    h->snapshots_offset = rd64(c + 64);
    if (h->version == 2) {
        h->header_length = QCOW2_V2_HEADER_LEN;
        h->refcount_order = 4;
    } else {
        h->incompat = rd64(c + 72);
        h->compat = rd64(c + 80);
        h->autoclear = rd64(c + 88);
        h->refcount_order = rd32(c + 96);
        h->header_length = rd32(c + 100);
        if (h->header_length < QCOW2_V3_HEADER_LEN || h->header_length % 8 ||
            h->header_length > cs)
            FAIL("%s: bad header_length %u (a multiple of 8, at least %d and at most the "
                 "cluster size)", fn, h->header_length, QCOW2_V3_HEADER_LEN);
        if (h->header_length > 104)
            h->compression_type = c[104];
    }
    if (h->header_length > file_size)
        FAIL("%s: file (%" PRIu64 " bytes) too short for its header_length %u", fn,
             file_size, h->header_length);
    if (h->refcount_order > 6)
        FAIL("%s: bad refcount_order %u (at most 6)", fn, h->refcount_order);

    uint64_t ext_end = cs;
    if (h->backing_offset) {
        if (h->backing_size == 0 || h->backing_size > QCOW2_MAX_BACKING_NAME)
            FAIL("%s: bad backing_file_size %u (1..%d)", fn, h->backing_size,
                 QCOW2_MAX_BACKING_NAME);
        if (h->backing_offset < h->header_length || h->backing_offset >= cs ||
            h->backing_size > cs - h->backing_offset ||
            h->backing_offset + h->backing_size > file_size)
            FAIL("%s: bad backing_file_offset " X64 " (the name must lie in the first "
                 "cluster, after the header, inside the file)", fn, h->backing_offset);
        if (memchr(c + h->backing_offset, 0, h->backing_size))
            FAIL("%s: backing file name contains a NUL byte", fn);
        ext_end = h->backing_offset;
    }
    if (h->version >= 3 && !parse_extensions(fn, c, h, ext_end, err))
        return false;

    if (h->incompat & QCOW2_INCOMPAT_DIRTY)
        FAIL("%s: image is marked dirty (opened with lazy refcounts and not closed "
             "cleanly); repair it with 'qemu-img check -r all'", fn);
    if (h->incompat & QCOW2_INCOMPAT_CORRUPT)
        FAIL("%s: image is marked corrupt; repair it with 'qemu-img check -r all'", fn);
    if (h->incompat & QCOW2_INCOMPAT_DATA_FILE)
        FAIL("%s: images with an external data file are not supported", fn);
    if (h->incompat & QCOW2_INCOMPAT_EXTL2)
        FAIL("%s: images with extended L2 entries (subclusters) are not supported; "
             "convert with 'qemu-img convert -O qcow2'", fn);
    if (h->incompat & QCOW2_INCOMPAT_COMPRESSION) {
        if (h->compression_type == 0)
            FAIL("%s: compression type feature bit set but compression_type is zlib (0)", fn);
        FAIL("%s: compression_type %u (%s) is not supported, only zlib", fn,
             h->compression_type, h->compression_type == 1 ? "zstd" : "unknown");
    } else if (h->compression_type != 0) {
        FAIL("%s: compression_type %u set without its incompatible feature bit", fn,
             h->compression_type);
    }
    uint64_t unknown = h->incompat & ~0x1full;
    if (unknown) {
        int bit = __builtin_ctzll(unknown);
        FAIL("%s: unsupported incompatible features " X64 " (bit %d: %s)", fn, unknown, bit,
             h->feature_names[bit] ? h->feature_names[bit] : "unknown");
    }
    if (h->crypt_method)
        FAIL("%s: encrypted images (crypt_method %u) are not supported", fn, h->crypt_method);

    if (h->size > (uint64_t)INT64_MAX)
        FAIL("%s: virtual size %" PRIu64 " is too large", fn, h->size);
    /* One L1 entry maps l2_entries clusters. */
    unsigned l1_shift = 2 * h->cluster_bits - 3;
    uint64_t need_l1 = (h->size >> l1_shift) + !!(h->size & ((1ull << l1_shift) - 1));
    if (need_l1 > QCOW2_MAX_L1_BYTES / 8)
        FAIL("%s: virtual size %" PRIu64 " is too large for %" PRIu64 "-byte clusters", fn,
             h->size, cs);
    if (h->l1_size > QCOW2_MAX_L1_BYTES / 8)
        FAIL("%s: l1_size %u is too large (at most %u)", fn, h->l1_size,
             QCOW2_MAX_L1_BYTES / 8);
    if (h->l1_size < need_l1)
        FAIL("%s: l1_size %u is too small for the virtual size %" PRIu64 " (needs %" PRIu64
             ")", fn, h->l1_size, h->size, need_l1);
    if (h->l1_size && (h->l1_offset & (cs - 1) || h->l1_offset < cs ||
                       h->l1_offset > file_size || h->l1_size * 8ull > file_size - h->l1_offset))
        FAIL("%s: bad l1_table_offset " X64 " (unaligned, in the header or past the end of "
             "the file for %u entries)", fn, h->l1_offset, h->l1_size);

    if (h->rt_clusters == 0 || h->rt_clusters > QCOW2_MAX_RT_BYTES / cs)
        FAIL("%s: bad refcount_table_clusters %u (1..%" PRIu64 ")", fn, h->rt_clusters,
             QCOW2_MAX_RT_BYTES / cs);
    if (h->rt_offset & (cs - 1) || h->rt_offset < cs || h->rt_offset > file_size ||
        h->rt_clusters * cs > file_size - h->rt_offset)
        FAIL("%s: bad refcount_table_offset " X64 " (unaligned, in the header or past the "
             "end of the file)", fn, h->rt_offset);

    if (h->nb_snapshots > QCOW2_MAX_SNAPSHOTS)
        FAIL("%s: nb_snapshots %u is too large", fn, h->nb_snapshots);
    if (h->nb_snapshots && (h->snapshots_offset & (cs - 1) || h->snapshots_offset < cs ||
                            h->snapshots_offset >= file_size))
        FAIL("%s: bad snapshots_offset " X64, fn, h->snapshots_offset);
    return true;
}

static bool load_l1(BlockDev *bs, const Header *h, GError **err)
{
    Qcow2 *s = bs->opaque;
    s->l1_size = h->l1_size;
    s->l1_offset = h->l1_offset;
    s->l1 = g_new0(uint64_t, MAX(h->l1_size, 1));
    if (!h->l1_size)
        return true;
    if (!q2_meta_add(bs, h->l1_offset, h->l1_size * 8ull, "L1 table", err))
        return false;
    int r = blk_fd_pread(s->fd, s->l1, h->l1_size * 8ull, h->l1_offset);
    if (r < 0)
        FAIL("%s: reading the L1 table: %s", bs->filename, g_strerror(-r));
    for (uint32_t i = 0; i < h->l1_size; i++) {
        uint64_t e = s->l1[i] = GUINT64_FROM_BE(s->l1[i]);
        uint64_t off = e & L1E_OFFSET_MASK;
        if (e & L1E_RESERVED)
            FAIL("%s: corrupt qcow2 image: L1 entry %u (" X64 ") has reserved bits set",
                 bs->filename, i, e);
        if (!off) {
            if (e)
                FAIL("%s: corrupt qcow2 image: L1 entry %u has flags but no offset",
                     bs->filename, i);
            continue;
        }
        if (!q2_aligned(s, off) || off > s->file_size - s->cluster_size ||
            s->file_size < s->cluster_size)
            FAIL("%s: corrupt qcow2 image: L1 entry %u: L2 table offset " X64
                 " is unaligned or past the end of the file", bs->filename, i, off);
        if (!q2_meta_add(bs, off, s->cluster_size, "L2 table", err))
            return false;
    }
    return true;
}

static bool load_refcount_table(BlockDev *bs, const Header *h, GError **err)
{
    Qcow2 *s = bs->opaque;
    s->rt_offset = h->rt_offset;
    s->rt_clusters = h->rt_clusters;
    s->rt_entries = (uint64_t)h->rt_clusters * s->cluster_size / 8;
    s->refcount_order = h->refcount_order;
    s->rb_entries = s->cluster_size * 8 >> h->refcount_order;
    s->refcount_max = h->refcount_order == 6 ? UINT64_MAX
                                             : (1ull << (1u << h->refcount_order)) - 1;
    if (!q2_meta_add(bs, s->rt_offset, s->rt_entries * 8, "refcount table", err))
        return false;
    s->rt = g_new(uint64_t, s->rt_entries);
    int r = blk_fd_pread(s->fd, s->rt, s->rt_entries * 8, s->rt_offset);
    if (r < 0)
        FAIL("%s: reading the refcount table: %s", bs->filename, g_strerror(-r));
    for (uint64_t i = 0; i < s->rt_entries; i++)
        s->rt[i] = GUINT64_FROM_BE(s->rt[i]);
    return q2_refcount_check_table(bs, err);
}

static bool q2_open_image(BlockDev *bs, int fd, GError **err, Header *h)
{
    Qcow2 *s = g_new0(Qcow2, 1);
    s->fd = fd;
    s->meta = g_hash_table_new(g_direct_hash, g_direct_equal);
    bs->opaque = s;
    const char *fn = bs->filename;

    struct stat st;
    if (fstat(fd, &st) < 0)
        FAIL("%s: cannot stat: %s", fn, g_strerror(errno));
    s->file_size = (uint64_t)st.st_size;
    uint8_t first[QCOW2_V3_HEADER_LEN];
    if (s->file_size < QCOW2_V2_HEADER_LEN)
        FAIL("%s: file too short (%" PRIu64 " bytes) for a qcow2 header", fn, s->file_size);
    int r = blk_fd_pread(fd, first, sizeof(first), 0);
    if (r < 0)
        FAIL("%s: reading the header: %s", fn, g_strerror(-r));
    if (rd32(first) != QCOW2_MAGIC)
        FAIL("%s: not a qcow2 image (bad magic)", fn);
    h->version = rd32(first + 4);
    if (h->version != 2 && h->version != 3)
        FAIL("%s: unsupported qcow2 version %u (2 or 3)", fn, h->version);
    if (h->version == 3 && s->file_size < QCOW2_V3_HEADER_LEN)
        FAIL("%s: file too short (%" PRIu64 " bytes) for a qcow2 v3 header", fn, s->file_size);
    uint32_t cb = rd32(first + 20);
    if (cb < QCOW2_MIN_CLUSTER_BITS || cb > QCOW2_MAX_CLUSTER_BITS)
        FAIL("%s: cluster_bits %u out of range (%d..%d)", fn, cb, QCOW2_MIN_CLUSTER_BITS,
             QCOW2_MAX_CLUSTER_BITS);
    s->version = h->version;
    s->cluster_bits = cb;
    s->cluster_size = 1ull << cb;
    s->l2_entries = s->cluster_size / 8;

    uint8_t *c = g_malloc0(s->cluster_size);
    r = blk_fd_pread(fd, c, s->cluster_size, 0);
    bool ok = r == 0;
    if (!ok)
        tn_error(err, "%s: reading the header: %s", fn, g_strerror(-r));
    ok = ok && parse_header(fn, c, s->file_size, h, err);
    g_free(c);
    if (!ok)
        return false;
    s->incompat = h->incompat;
    s->compat = h->compat;
    s->autoclear = h->autoclear;
    s->file_end = (s->file_size + s->cluster_size - 1) & ~(s->cluster_size - 1);
    bs->size = h->size;
    if (!q2_meta_add(bs, 0, s->cluster_size, "header", err))
        return false;
    if (!load_refcount_table(bs, h, err) || !load_l1(bs, h, err) ||
        !q2_snapshots_load(bs, h->snapshots_offset, h->nb_snapshots, err))
        return false;
    s->zbuf = g_malloc(2 * s->cluster_size + 512);
    s->zcache = g_malloc(s->cluster_size);
    s->zcache_entry = 0;
    return true;
}

static bool open_backing(BlockDev *bs, const Header *h, int depth, GPtrArray *chain,
                         GError **err)
{
    Qcow2 *s = bs->opaque;
    if (!h->backing_offset)
        return true;
    char *name = g_malloc0(h->backing_size + 1);
    int r = blk_fd_pread(s->fd, name, h->backing_size, h->backing_offset);
    if (r < 0) {
        g_free(name);
        FAIL("%s: reading the backing file name: %s", bs->filename, g_strerror(-r));
    }
    const char *fmt = h->backing_format;
    if (fmt && strcmp(fmt, "raw") && strcmp(fmt, "qcow2")) {
        tn_error(err, "%s: backing file format '%s' is not supported (raw or qcow2)",
                 bs->filename, fmt);
        g_free(name);
        return false;
    }
    char *path;
    if (g_path_is_absolute(name)) {
        path = g_strdup(name);
    } else {
        char *dir = g_path_get_dirname(bs->filename);
        path = g_build_filename(dir, name, NULL);
        g_free(dir);
    }
    g_free(name);
    GError *e = NULL;
    bs->backing = blk_open_backing(path, fmt, depth + 1, chain, &e);
    g_free(path);
    if (!bs->backing) {
        tn_error(err, "%s: backing file: %s", bs->filename, e->message);
        g_error_free(e);
        return false;
    }
    return true;
}

static bool qcow2_open(BlockDev *bs, int fd, int depth, GPtrArray *chain, GError **err)
{
    Header h = {0};
    bool ok = q2_open_image(bs, fd, err, &h) && open_backing(bs, &h, depth, chain, err);
    header_free(&h);
    return ok;
}

BlockDev *qcow2_open_overlay(int fd, const char *name, BlockDev *backing, GError **err)
{
    BlockDev *bs = g_new0(BlockDev, 1);
    bs->drv = &blk_driver_qcow2;
    bs->filename = g_strdup(name);
    bs->error = g_strdup("");
    bs->backing = backing;
    Header h = {0};
    bool ok = q2_open_image(bs, fd, err, &h);
    header_free(&h);
    if (!ok) {
        blk_close(bs);
        return NULL;
    }
    return bs;
}

static int qcow2_flush(BlockDev *bs)
{
    Qcow2 *s = bs->opaque;
    if (fdatasync(s->fd) < 0)
        return blk_fail(bs, errno, "flush: %s", g_strerror(errno));
    return 0;
}

static void qcow2_close(BlockDev *bs)
{
    Qcow2 *s = bs->opaque;
    if (!bs->read_only)
        fdatasync(s->fd);
    close(s->fd);
    q2_cache_free(s);
    q2_snapshots_free(s);
    g_hash_table_destroy(s->meta);
    g_free(s->l1);
    g_free(s->rt);
    g_free(s->zbuf);
    g_free(s->zcache);
    g_free(s);
    bs->opaque = NULL;
}

/* ------------------------------------------------------------- create */

/* Layout: header, refcount table, one refcount block, the L1 table. */
bool qcow2_format_fd(int fd, const char *name, uint64_t size, const char *backing,
                     const char *backing_fmt, GError **err)
{
    const unsigned cb = 16;
    const uint64_t cs = 1ull << cb;
    unsigned l1_shift = 2 * cb - 3;
    uint64_t l1_size = (size >> l1_shift) + !!(size & ((1ull << l1_shift) - 1));
    if (size > (uint64_t)INT64_MAX || l1_size > QCOW2_MAX_L1_BYTES / 8)
        FAIL("%s: virtual size %" PRIu64 " is too large", name, size);
    uint64_t l1_clusters = MAX(1, (l1_size * 8 + cs - 1) / cs);
    uint64_t nclusters = 3 + l1_clusters;
    size_t blen = backing ? strlen(backing) : 0;
    size_t flen = backing_fmt ? strlen(backing_fmt) : 0;
    if (blen > QCOW2_MAX_BACKING_NAME || flen > 63)
        FAIL("%s: backing file name or format too long", name);

    uint8_t *buf = g_malloc0(3 * cs);
    wr32(buf, QCOW2_MAGIC);
    wr32(buf + 4, 3);
    wr32(buf + 20, cb);
    wr64(buf + 24, size);
    wr32(buf + 36, (uint32_t)l1_size);
    wr64(buf + 40, 3 * cs);
    wr64(buf + 48, cs);
    wr32(buf + 56, 1);
    wr32(buf + 96, 4);
    wr32(buf + 100, QCOW2_V3_HEADER_LEN);
    uint64_t p = QCOW2_V3_HEADER_LEN;
    if (backing_fmt) {
        wr32(buf + p, QCOW2_EXT_BACKING_FORMAT);
        wr32(buf + p + 4, (uint32_t)flen);
        memcpy(buf + p + 8, backing_fmt, flen);
        p += 8 + ((flen + 7) & ~7ul);
    }
    p += 8;                                 /* end-of-extensions marker */
    if (backing) {
        wr64(buf + 8, p);
        wr32(buf + 16, (uint32_t)blen);
        memcpy(buf + p, backing, blen);
    }
    wr64(buf + cs, 2 * cs);                 /* refcount table -> block */
    for (uint64_t i = 0; i < nclusters; i++) {
        buf[2 * cs + 2 * i] = 0;
        buf[2 * cs + 2 * i + 1] = 1;
    }
    int r = ftruncate(fd, 0) < 0 ? -errno : 0;
    if (!r)
        r = blk_fd_pwrite(fd, buf, 3 * cs, 0);
    if (!r && ftruncate(fd, (off_t)(nclusters * cs)) < 0)
        r = -errno;
    g_free(buf);
    if (r < 0)
        FAIL("%s: writing the new image: %s", name, g_strerror(-r));
    return true;
}

static int qcow2_pread(BlockDev *bs, uint64_t off, void *buf, size_t len)
{
    return q2_read(bs, off, buf, len);
}

static int qcow2_pwrite(BlockDev *bs, uint64_t off, const void *buf, size_t len)
{
    return q2_write(bs, off, buf, len);
}

const BlockDriver blk_driver_qcow2 = {
    .name = "qcow2",
    .open = qcow2_open,
    .pread = qcow2_pread,
    .pwrite = qcow2_pwrite,
    .flush = qcow2_flush,
    .close = qcow2_close,
    .can_snapshot = q2_can_snapshot,
    .snapshot_list = q2_snapshot_list,
    .snapshot_create = q2_snapshot_create,
    .snapshot_goto = q2_snapshot_goto,
    .snapshot_read_vmstate = q2_snapshot_read_vmstate,
    .snapshot_delete = q2_snapshot_delete,
};
