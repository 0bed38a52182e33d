/* qcow2 guest-to-host mapping: L2 tables, reads (standard, zero,
 * compressed and unallocated clusters) and writes (in place where the
 * cluster is ours alone, else copy-on-write into a new cluster). */
#include "block/qcow2.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define X64 "%#" PRIx64

typedef enum Kind { K_UNALLOC, K_ZERO, K_NORMAL, K_COMPRESSED } Kind;

/* An L2 entry, decoded and checked against the file. */
typedef struct Desc {
    Kind kind;
    uint64_t host;                          /* NORMAL, COMPRESSED; ZERO: 0 or preallocated */
    uint64_t csize;                         /* COMPRESSED: bytes of compressed data */
    bool copied;
} Desc;

void q2_cache_free(Qcow2 *s)
{
    for (int i = 0; i < QCOW2_L2_CACHE; i++)
        g_free(s->l2_cache[i].table);
}

/* The L2 table at off, in file byte order.  Valid until the next call. */
int q2_l2_load(BlockDev *bs, uint64_t off, uint64_t **table)
{
    Qcow2 *s = bs->opaque;
    Qcow2CacheEntry *victim = &s->l2_cache[0];
    for (int i = 0; i < QCOW2_L2_CACHE; i++) {
        Qcow2CacheEntry *c = &s->l2_cache[i];
        if (c->offset == off) {
            c->last_use = ++s->cache_clock;
            *table = c->table;
            return 0;
        }
        if (c->last_use < victim->last_use)
            victim = c;
    }
    if (!victim->table)
        victim->table = g_malloc(s->cluster_size);
    victim->offset = 0;
    int r = blk_fd_pread(s->fd, victim->table, s->cluster_size, off);
    if (r < 0)
        return q2_io(bs, r, "reading an L2 table", off);
    victim->offset = off;
    victim->last_use = ++s->cache_clock;
    *table = victim->table;
    return 0;
}

int q2_l2_store(BlockDev *bs, uint64_t off, const uint64_t *table)
{
    Qcow2 *s = bs->opaque;
    int r = blk_fd_pwrite(s->fd, table, s->cluster_size, off);
    return r < 0 ? q2_io(bs, r, "writing an L2 table", off) : 0;
}

static int l2_set(BlockDev *bs, uint64_t l2_off, uint64_t idx, uint64_t val)
{
    Qcow2 *s = bs->opaque;
    uint64_t *t;
    int r = q2_l2_load(bs, l2_off, &t);
    if (r < 0)
        return r;
    t[idx] = GUINT64_TO_BE(val);
    r = blk_fd_pwrite(s->fd, &t[idx], 8, l2_off + idx * 8);
    return r < 0 ? q2_io(bs, r, "writing an L2 table", l2_off) : 0;
}

static int decode(BlockDev *bs, uint64_t gidx, uint64_t e, Desc *d)
{
    Qcow2 *s = bs->opaque;
    uint64_t goff = gidx << s->cluster_bits;
    memset(d, 0, sizeof(*d));
    d->copied = e & QCOW_OFLAG_COPIED;
    if (e & QCOW_OFLAG_COMPRESSED) {
        unsigned x = 62 - (s->cluster_bits - 8);
        d->kind = K_COMPRESSED;
        d->host = e & ((1ull << x) - 1);
        uint64_t sectors = ((e & ~QCOW_OFLAG_COPIED & ~QCOW_OFLAG_COMPRESSED) >> x) + 1;
        d->csize = sectors * 512 - (d->host & 511);
        if (d->host >> 56 || d->host < s->cluster_size || d->host >= s->file_size)
            return q2_corrupt(bs, "compressed cluster for guest offset " X64 " at host offset "
                              X64 " is in the header or past the end of the file", goff,
                              d->host);
        return 0;
    }
    if (e & L2E_RESERVED || (s->version < 3 && e & QCOW_OFLAG_ZERO))
        return q2_corrupt(bs, "L2 entry " X64 " for guest offset " X64
                          " has reserved bits set", e, goff);
    d->host = e & L2E_OFFSET_MASK;
    if (!q2_aligned(s, d->host))
        return q2_corrupt(bs, "L2 entry for guest offset " X64 ": data offset " X64
                          " is not cluster aligned", goff, d->host);
    if (e & QCOW_OFLAG_ZERO) {
        d->kind = K_ZERO;
        return 0;
    }
    if (!d->host) {
        if (d->copied)
            return q2_corrupt(bs, "L2 entry for guest offset " X64 " has data offset 0 "
                              "(only valid with an external data file)", goff);
        d->kind = K_UNALLOC;
        return 0;
    }
    if (d->host >= s->file_size)
        return q2_corrupt(bs, "L2 entry for guest offset " X64 ": data offset " X64
                          " is past the end of the file", goff, d->host);
    d->kind = K_NORMAL;
    return 0;
}

int q2_entry_range(BlockDev *bs, uint64_t gidx, uint64_t e, uint64_t *host, uint64_t *len)
{
    Qcow2 *s = bs->opaque;
    Desc d;
    int r = decode(bs, gidx, e, &d);
    *host = d.host;
    *len = 0;
    if (r < 0)
        return r;
    if (d.kind == K_NORMAL || (d.kind == K_ZERO && d.host))
        *len = s->cluster_size;
    else if (d.kind == K_COMPRESSED)
        *len = d.csize;
    return 0;
}

/* The L2 entry of guest cluster gidx in table l1 (0 if its L2 table is
 * absent or gidx lies past the table). */
static int get_entry(BlockDev *bs, const uint64_t *l1, uint64_t l1_size, uint64_t gidx,
                     uint64_t *e)
{
    Qcow2 *s = bs->opaque;
    uint64_t l1i = gidx / s->l2_entries, l2i = gidx % s->l2_entries;
    *e = 0;
    if (l1i >= l1_size)
        return 0;
    uint64_t l2_off = l1[l1i] & L1E_OFFSET_MASK;
    if (!l2_off)
        return 0;
    uint64_t *t;
    int r = q2_l2_load(bs, l2_off, &t);
    if (r < 0)
        return r;
    *e = GUINT64_FROM_BE(t[l2i]);
    return 0;
}

static int decompress(BlockDev *bs, const Desc *d, uint64_t e)
{
    Qcow2 *s = bs->opaque;
    if (s->zcache_entry == e)
        return 0;
    uint64_t n = MIN(d->csize, s->file_size - d->host);
    int r = blk_fd_pread(s->fd, s->zbuf, n, d->host);
    if (r < 0)
        return q2_io(bs, r, "reading a compressed cluster", d->host);
    z_stream z = {0};
    if (inflateInit2(&z, -15) != Z_OK)
        return blk_fail(bs, ENOMEM, "zlib: inflateInit2 failed");
    z.next_in = s->zbuf;
    z.avail_in = (uInt)n;
    z.next_out = s->zcache;
    z.avail_out = (uInt)s->cluster_size;
    int zr = inflate(&z, Z_FINISH);
    bool full = z.avail_out == 0;
    inflateEnd(&z);
    s->zcache_entry = 0;
    if (!full || (zr != Z_STREAM_END && zr != Z_OK && zr != Z_BUF_ERROR))
        return q2_corrupt(bs, "compressed cluster at " X64 " (%" PRIu64 " bytes) does not "
                          "decompress to a whole cluster", d->host, d->csize);
    s->zcache_entry = e;
    return 0;
}

/* Reads bytes [in, in + n) of guest cluster gidx, described by e;
 * unallocated clusters come from the backing image when backing. */
static int read_part(BlockDev *bs, uint64_t gidx, uint64_t e, const Desc *d, uint64_t in,
                     uint8_t *buf, size_t n, bool backing)
{
    Qcow2 *s = bs->opaque;
    uint64_t goff = (gidx << s->cluster_bits) + in;
    int r;
    switch (d->kind) {
    case K_UNALLOC:
        if (bs->backing && backing) {
            uint64_t bsz = blk_size(bs->backing);
            size_t part = goff >= bsz ? 0 : (size_t)MIN((uint64_t)n, bsz - goff);
            if (part && (r = blk_pread(bs->backing, goff, buf, part)) < 0)
                return blk_fail(bs, -r, "backing file: %s", blk_last_error(bs->backing));
            memset(buf + part, 0, n - part);
        } else {
            memset(buf, 0, n);
        }
        return 0;
    case K_ZERO:
        memset(buf, 0, n);
        return 0;
    case K_NORMAL:
        r = blk_fd_pread(s->fd, buf, n, d->host + in);
        return r < 0 ? q2_io(bs, r, "reading data", d->host + in) : 0;
    case K_COMPRESSED:
        if ((r = decompress(bs, d, e)) < 0)
            return r;
        memcpy(buf, s->zcache + in, n);
        return 0;
    }
    return 0;
}

static int read_via(BlockDev *bs, const uint64_t *l1, uint64_t l1_size, bool backing,
                    uint64_t off, void *buf, size_t len)
{
    Qcow2 *s = bs->opaque;
    uint8_t *p = buf;
    while (len) {
        uint64_t gidx = off >> s->cluster_bits, in = off & (s->cluster_size - 1);
        size_t n = (size_t)MIN((uint64_t)len, s->cluster_size - in);
        uint64_t e;
        Desc d;
        int r = get_entry(bs, l1, l1_size, gidx, &e);
        if (r < 0 || (r = decode(bs, gidx, e, &d)) < 0 ||
            (r = read_part(bs, gidx, e, &d, in, p, n, backing)) < 0)
            return r;
        p += n;
        off += n;
        len -= n;
    }
    return 0;
}

int q2_read(BlockDev *bs, uint64_t off, void *buf, size_t len)
{
    Qcow2 *s = bs->opaque;
    return read_via(bs, s->l1, s->l1_size, true, off, buf, len);
}

int q2_read_l1(BlockDev *bs, const uint64_t *l1, uint32_t l1_size, uint64_t off, void *buf,
               size_t len)
{
    return read_via(bs, l1, l1_size, false, off, buf, len);
}

/* ------------------------------------------------------------- writes */

int q2_check_l1_entry(BlockDev *bs, const char *what, uint64_t idx, uint64_t e)
{
    Qcow2 *s = bs->opaque;
    uint64_t off = e & L1E_OFFSET_MASK;
    if (e & L1E_RESERVED)
        return q2_corrupt(bs, "%s entry %" PRIu64 " (" X64 ") has reserved bits set", what,
                          idx, e);
    if (!off && e)
        return q2_corrupt(bs, "%s entry %" PRIu64 " has flags but no offset", what, idx);
    if (off && (!q2_aligned(s, off) || s->file_size < s->cluster_size ||
                off > s->file_size - s->cluster_size))
        return q2_corrupt(bs, "%s entry %" PRIu64 ": L2 table offset " X64 " is unaligned or "
                          "past the end of the file", what, idx, off);
    return 0;
}

int q2_set_l1(BlockDev *bs, uint64_t l1i, uint64_t val)
{
    Qcow2 *s = bs->opaque;
    s->l1[l1i] = val;
    uint64_t be = GUINT64_TO_BE(val);
    int r = blk_fd_pwrite(s->fd, &be, 8, s->l1_offset + l1i * 8);
    return r < 0 ? q2_io(bs, r, "writing the L1 table", s->l1_offset) : 0;
}

/* An L2 table for l1i that only we reference: allocated, or copied from a
 * shared one (a table also used by an internal snapshot). */
static int own_l2(BlockDev *bs, uint64_t l1i, uint64_t *l2_off)
{
    Qcow2 *s = bs->opaque;
    uint64_t e = s->l1[l1i], old = e & L1E_OFFSET_MASK;
    if (old && (e & QCOW_OFLAG_COPIED)) {
        *l2_off = old;
        return 0;
    }
    uint64_t off;
    int r = q2_alloc_cluster(bs, &off);
    if (r < 0)
        return r;
    if (!q2_meta_add(bs, off, s->cluster_size, "L2 table", NULL))
        return q2_corrupt(bs, "new L2 table at " X64 " overlaps metadata", off);
    uint8_t *buf = g_malloc0(s->cluster_size);
    uint64_t *t;
    if (old) {
        if ((r = q2_l2_load(bs, old, &t)) < 0) {
            g_free(buf);
            return r;
        }
        memcpy(buf, t, s->cluster_size);
        /* Every cluster a shared table maps is shared too. */
        uint64_t *nt = (uint64_t *)buf;
        for (uint64_t i = 0; i < s->l2_entries; i++)
            nt[i] &= ~GUINT64_TO_BE(QCOW_OFLAG_COPIED);
    }
    r = blk_fd_pwrite(s->fd, buf, s->cluster_size, off);
    g_free(buf);
    if (r < 0)
        return q2_io(bs, r, "writing a new L2 table", off);
    if ((r = q2_set_l1(bs, l1i, off | QCOW_OFLAG_COPIED)) < 0)
        return r;
    if (old && (r = q2_refcount_release(bs, old, s->cluster_size)) < 0)
        return r;
    *l2_off = off;
    return 0;
}

static int check_data_target(BlockDev *bs, uint64_t host)
{
    Qcow2 *s = bs->opaque;
    const char *what = q2_meta_find(s, host, s->cluster_size);
    if (what)
        return q2_corrupt(bs, "data cluster at " X64 " overlaps the %s", host, what);
    return 0;
}

static int write_cluster(BlockDev *bs, uint64_t gidx, uint64_t in, const uint8_t *data,
                         size_t n, uint8_t *cbuf)
{
    Qcow2 *s = bs->opaque;
    uint64_t cs = s->cluster_size;
    uint64_t l1i = gidx / s->l2_entries, l2i = gidx % s->l2_entries;
    uint64_t l2_off = 0, e, *t;
    Desc d;
    int r = own_l2(bs, l1i, &l2_off);
    if (r < 0 || (r = q2_l2_load(bs, l2_off, &t)) < 0)
        return r;
    e = GUINT64_FROM_BE(t[l2i]);
    if ((r = decode(bs, gidx, e, &d)) < 0)
        return r;

    if (d.kind == K_NORMAL && d.copied) {
        if ((r = check_data_target(bs, d.host)) < 0)
            return r;
        r = blk_fd_pwrite(s->fd, data, n, d.host + in);
        return r < 0 ? q2_io(bs, r, "writing data", d.host + in) : 0;
    }

    /* Build the whole new cluster: old contents around the new bytes. */
    if (n < cs && (r = read_part(bs, gidx, e, &d, 0, cbuf, cs, true)) < 0)
        return r;
    memcpy(cbuf + in, data, n);

    bool reuse = d.kind == K_ZERO && d.host && d.copied;   /* preallocated, ours */
    uint64_t host = d.host;
    if (!reuse && (r = q2_alloc_cluster(bs, &host)) < 0)
        return r;
    if ((r = check_data_target(bs, host)) < 0)
        return r;
    r = blk_fd_pwrite(s->fd, cbuf, cs, host);
    if (r < 0)
        return q2_io(bs, r, "writing data", host);
    if (host + cs > s->file_size)
        s->file_size = host + cs;
    if ((r = l2_set(bs, l2_off, l2i, host | QCOW_OFLAG_COPIED)) < 0)
        return r;
    if (reuse || d.kind == K_UNALLOC || (d.kind == K_ZERO && !d.host))
        return 0;
    return q2_refcount_release(bs, d.host, d.kind == K_COMPRESSED ? d.csize : cs);
}

static int clear_autoclear(BlockDev *bs)
{
    Qcow2 *s = bs->opaque;
    /* We keep none of the autoclear features (bitmaps) up to date, so
     * the spec asks us to clear them before the first write. */
    if (s->version < 3 || !s->autoclear)
        return 0;
    uint64_t zero = 0;
    int r = blk_fd_pwrite(s->fd, &zero, 8, QH_AUTOCLEAR);
    if (r < 0)
        return q2_io(bs, r, "writing the header", QH_AUTOCLEAR);
    s->autoclear = 0;
    return 0;
}

int q2_begin_write(BlockDev *bs)
{
    Qcow2 *s = bs->opaque;
    if (s->broken)
        return blk_fail(bs, EIO, "image was found corrupt earlier; refusing to write");
    int r;
    if (!s->wrote) {
        if ((r = clear_autoclear(bs)) < 0)
            return r;
        s->wrote = true;
    }
    return 0;
}

int q2_l1_grow(BlockDev *bs, uint64_t n)
{
    Qcow2 *s = bs->opaque;
    if (n <= s->l1_size)
        return 0;
    if (n > QCOW2_MAX_L1_BYTES / 8)
        return blk_fail(bs, EFBIG, "the L1 table would need %" PRIu64 " entries (more than "
                        "QEMU's limit of %u)", n, QCOW2_MAX_L1_BYTES / 8);
    uint64_t cs = s->cluster_size, clusters = (n * 8 + cs - 1) / cs;
    uint64_t off;
    int r = q2_alloc_clusters(bs, clusters, &off);
    if (r < 0)
        return r;
    if (!q2_meta_add(bs, off, clusters * cs, "L1 table", NULL))
        return q2_corrupt(bs, "new L1 table at " X64 " overlaps metadata", off);
    uint64_t *t = g_new0(uint64_t, clusters * cs / 8);
    for (uint32_t i = 0; i < s->l1_size; i++)
        t[i] = GUINT64_TO_BE(s->l1[i]);
    r = blk_fd_pwrite(s->fd, t, clusters * cs, off);
    g_free(t);
    if (r < 0)
        return q2_io(bs, r, "writing the new L1 table", off);
    if (off + clusters * cs > s->file_size)
        s->file_size = off + clusters * cs;
    if (fdatasync(s->fd) < 0)
        return blk_fail(bs, errno, "flush: %s", g_strerror(errno));
    /* l1_size and l1_table_offset are adjacent: one write switches. */
    uint8_t h[12];
    uint32_t be32 = GUINT32_TO_BE((uint32_t)n);
    uint64_t be64 = GUINT64_TO_BE(off);
    memcpy(h, &be32, 4);
    memcpy(h + 4, &be64, 8);
    r = blk_fd_pwrite(s->fd, h, sizeof(h), QH_L1_SIZE);
    if (r < 0)
        return q2_io(bs, r, "writing the header", QH_L1_SIZE);
    if (fdatasync(s->fd) < 0)
        return blk_fail(bs, errno, "flush: %s", g_strerror(errno));
    uint64_t old_off = s->l1_offset, old_n = s->l1_size;
    s->l1 = g_renew(uint64_t, s->l1, n);
    memset(s->l1 + old_n, 0, (n - old_n) * 8);
    s->l1_size = (uint32_t)n;
    s->l1_offset = off;
    if (!old_n)
        return 0;
    q2_meta_set(s, old_off, (old_n * 8 + cs - 1) / cs, NULL);
    return q2_refcount_release(bs, old_off, old_n * 8);
}

int q2_write(BlockDev *bs, uint64_t off, const void *buf, size_t len)
{
    Qcow2 *s = bs->opaque;
    int r = q2_begin_write(bs);
    if (r < 0)
        return r;
    uint64_t l1_span = s->cluster_size * s->l2_entries;
    if (len && (r = q2_l1_grow(bs, (off + len - 1) / l1_span + 1)) < 0)
        return r;
    const uint8_t *p = buf;
    uint8_t *cbuf = g_malloc(s->cluster_size);
    r = 0;
    while (len) {
        uint64_t gidx = off >> s->cluster_bits, in = off & (s->cluster_size - 1);
        size_t n = (size_t)MIN((uint64_t)len, s->cluster_size - in);
        if ((r = write_cluster(bs, gidx, in, p, n, cbuf)) < 0)
            break;
        p += n;
        off += n;
        len -= n;
    }
    g_free(cbuf);
    return r;
}
