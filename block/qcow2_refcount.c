/* qcow2 refcounts and cluster allocation.
 *
 * Clusters are allocated at the end of the file, never reused: freed
 * space stays a hole with refcount 0 (which is not a leak).  New refcount
 * blocks cover themselves where they can; the refcount table grows by
 * moving it to the end of the file and pointing the header at the copy. */
#include "block/qcow2.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "vmm/error.h"

#define X64 "%#" PRIx64

bool q2_refcount_check_table(BlockDev *bs, GError **err)
{
    Qcow2 *s = bs->opaque;
    for (uint64_t i = 0; i < s->rt_entries; i++) {
        uint64_t e = s->rt[i], off = e & RTE_OFFSET_MASK;
        if (!e)
            continue;
        if (e & ~RTE_OFFSET_MASK || !q2_aligned(s, off) || s->file_size < s->cluster_size ||
            off > s->file_size - s->cluster_size) {
            tn_error(err, "%s: corrupt qcow2 image: refcount table entry %" PRIu64 " (" X64
                     ") is unaligned, has reserved bits set or is past the end of the file",
                     bs->filename, i, e);
            return false;
        }
        if (!q2_meta_add(bs, off, s->cluster_size, "refcount block", err))
            return false;
    }
    return true;
}

/* Where cluster's refcount lives: the block's offset (0: none) and the
 * byte offset and width inside it. */
static uint64_t locate(Qcow2 *s, uint64_t cluster, uint64_t *byte, unsigned *shift,
                       unsigned *nbytes)
{
    uint64_t ti = cluster / s->rb_entries, bi = cluster % s->rb_entries;
    if (ti >= s->rt_entries)
        return 0;
    uint64_t bit = bi << s->refcount_order;
    *byte = bit / 8;
    *shift = bit % 8;
    *nbytes = s->refcount_order < 3 ? 1 : 1u << (s->refcount_order - 3);
    return s->rt[ti];
}

int q2_refcount_get(BlockDev *bs, uint64_t cluster, uint64_t *val)
{
    Qcow2 *s = bs->opaque;
    uint64_t byte;
    unsigned shift, nbytes;
    uint64_t rb = locate(s, cluster, &byte, &shift, &nbytes);
    *val = 0;
    if (!rb)
        return 0;
    uint8_t b[8];
    int r = blk_fd_pread(s->fd, b, nbytes, rb + byte);
    if (r < 0)
        return q2_io(bs, r, "reading a refcount block", rb);
    if (s->refcount_order < 3) {
        *val = (b[0] >> shift) & s->refcount_max;
        return 0;
    }
    for (unsigned i = 0; i < nbytes; i++)
        *val = *val << 8 | b[i];
    return 0;
}

static int refcount_set(BlockDev *bs, uint64_t cluster, uint64_t val)
{
    Qcow2 *s = bs->opaque;
    uint64_t byte;
    unsigned shift, nbytes;
    uint64_t rb = locate(s, cluster, &byte, &shift, &nbytes);
    g_assert(rb);
    uint8_t b[8];
    if (s->refcount_order < 3) {
        int r = blk_fd_pread(s->fd, b, 1, rb + byte);
        if (r < 0)
            return q2_io(bs, r, "reading a refcount block", rb);
        b[0] = (uint8_t)((b[0] & ~(s->refcount_max << shift)) | val << shift);
    } else {
        for (unsigned i = 0; i < nbytes; i++)
            b[i] = (uint8_t)(val >> 8 * (nbytes - 1 - i));
    }
    int r = blk_fd_pwrite(s->fd, b, nbytes, rb + byte);
    return r < 0 ? q2_io(bs, r, "writing a refcount block", rb) : 0;
}

/* Moves file_end past any cluster that is already in use (a refcount
 * beyond the end of the file would be odd, but must not be trusted away)
 * until n free clusters follow it; returns their offset. */
static int reserve(BlockDev *bs, uint64_t n, uint64_t *off)
{
    Qcow2 *s = bs->opaque;
    for (;;) {
        uint64_t start = s->file_end, i;
        if (start >> 56)
            return blk_fail(bs, EFBIG, "image file would grow past 64 PiB");
        for (i = 0; i < n; i++) {
            uint64_t v;
            int r = q2_refcount_get(bs, (start >> s->cluster_bits) + i, &v);
            if (r < 0)
                return r;
            if (v)
                break;
        }
        if (i == n) {
            *off = start;
            s->file_end = start + n * s->cluster_size;
            /* The caller writes them next; bounds checks count them in. */
            if (s->file_end > s->file_size)
                s->file_size = s->file_end;
            return 0;
        }
        s->file_end = start + (i + 1) * s->cluster_size;
    }
}

static int rt_set(BlockDev *bs, uint64_t idx, uint64_t val)
{
    Qcow2 *s = bs->opaque;
    s->rt[idx] = val;
    uint64_t be = GUINT64_TO_BE(val);
    int r = blk_fd_pwrite(s->fd, &be, 8, s->rt_offset + idx * 8);
    return r < 0 ? q2_io(bs, r, "writing the refcount table", s->rt_offset) : 0;
}

void q2_meta_set(Qcow2 *s, uint64_t off, uint64_t n, const char *what)
{
    for (uint64_t i = 0; i < n; i++) {
        gpointer key = GSIZE_TO_POINTER((off >> s->cluster_bits) + i + 1);
        if (what)
            g_hash_table_insert(s->meta, key, (gpointer)what);
        else
            g_hash_table_remove(s->meta, key);
    }
}

static int alloc_refblock(BlockDev *bs, uint64_t ti)
{
    Qcow2 *s = bs->opaque;
    uint64_t off;
    int r = reserve(bs, 1, &off);
    if (r < 0)
        return r;
    uint64_t self = off >> s->cluster_bits;
    bool covers_self = self / s->rb_entries == ti;
    uint8_t *buf = g_malloc0(s->cluster_size);
    if (covers_self) {
        uint64_t bit = (self % s->rb_entries) << s->refcount_order;
        if (s->refcount_order < 3)
            buf[bit / 8] = (uint8_t)(1u << (bit % 8));
        else
            buf[bit / 8 + (1u << (s->refcount_order - 3)) - 1] = 1;
    }
    r = blk_fd_pwrite(s->fd, buf, s->cluster_size, off);
    g_free(buf);
    if (r < 0)
        return q2_io(bs, r, "writing a new refcount block", off);
    if ((r = rt_set(bs, ti, off)) < 0)
        return r;
    q2_meta_set(s, off, 1, "refcount block");
    return covers_self ? 0 : q2_refcount_add(bs, self, 1);
}

static int grow_table(BlockDev *bs, uint64_t need_ti)
{
    Qcow2 *s = bs->opaque;
    uint64_t cs = s->cluster_size, per_cluster = cs / 8;
    uint64_t n = MAX(2ull * s->rt_clusters, (need_ti + per_cluster) / per_cluster);
    /* The new table must also cover itself and the blocks it may need. */
    while ((((s->file_end >> s->cluster_bits) + n + 4) / s->rb_entries) >= n * per_cluster)
        n++;
    if (n * cs > QCOW2_MAX_RT_BYTES)
        return blk_fail(bs, EFBIG, "refcount table would exceed %u bytes", QCOW2_MAX_RT_BYTES);
    uint64_t new_off;
    int r = reserve(bs, n, &new_off);
    if (r < 0)
        return r;
    uint64_t entries = n * per_cluster;
    uint64_t *t = g_new0(uint64_t, entries);
    for (uint64_t i = 0; i < s->rt_entries; i++)
        t[i] = GUINT64_TO_BE(s->rt[i]);
    r = blk_fd_pwrite(s->fd, t, entries * 8, new_off);
    if (r < 0) {
        g_free(t);
        return q2_io(bs, r, "writing the new refcount table", new_off);
    }
    for (uint64_t i = 0; i < s->rt_entries; i++)
        t[i] = s->rt[i];
    uint64_t old_off = s->rt_offset, old_n = s->rt_clusters;
    g_free(s->rt);
    s->rt = t;
    s->rt_entries = entries;
    s->rt_offset = new_off;
    s->rt_clusters = (uint32_t)n;
    q2_meta_set(s, old_off, old_n, NULL);
    q2_meta_set(s, new_off, n, "refcount table");
    for (uint64_t i = 0; i < n; i++)
        if ((r = q2_refcount_add(bs, (new_off >> s->cluster_bits) + i, 1)) < 0)
            return r;
    if (fdatasync(s->fd) < 0)
        return blk_fail(bs, errno, "flush: %s", g_strerror(errno));
    uint8_t h[12];
    uint64_t be = GUINT64_TO_BE(new_off);
    uint32_t be32 = GUINT32_TO_BE((uint32_t)n);
    memcpy(h, &be, 8);
    memcpy(h + 8, &be32, 4);
    r = blk_fd_pwrite(s->fd, h, 12, QH_RT_OFFSET);
    if (r < 0)
        return q2_io(bs, r, "writing the header", 0);
    return q2_refcount_release(bs, old_off, old_n * cs);
}

int q2_refcount_add(BlockDev *bs, uint64_t cluster, int delta)
{
    Qcow2 *s = bs->opaque;
    uint64_t ti = cluster / s->rb_entries;
    int r;
    if (delta < 0 && (ti >= s->rt_entries || !s->rt[ti]))
        return q2_corrupt(bs, "refcount of cluster " X64 " would drop below zero",
                          cluster << s->cluster_bits);
    if (ti >= s->rt_entries && (r = grow_table(bs, ti)) < 0)
        return r;
    if (!s->rt[ti] && (r = alloc_refblock(bs, ti)) < 0)
        return r;
    uint64_t v;
    if ((r = q2_refcount_get(bs, cluster, &v)) < 0)
        return r;
    if (delta < 0 && v == 0)
        return q2_corrupt(bs, "refcount of cluster " X64 " would drop below zero",
                          cluster << s->cluster_bits);
    if (delta > 0 && v == s->refcount_max)
        return blk_fail(bs, ERANGE, "refcount of cluster " X64 " would overflow",
                        cluster << s->cluster_bits);
    return refcount_set(bs, cluster, delta > 0 ? v + 1 : v - 1);
}

int q2_refcount_release(BlockDev *bs, uint64_t off, uint64_t len)
{
    Qcow2 *s = bs->opaque;
    uint64_t first = off >> s->cluster_bits, last = (off + len - 1) >> s->cluster_bits;
    for (uint64_t c = first; c <= last; c++) {
        int r = q2_refcount_add(bs, c, -1);
        if (r < 0)
            return r;
        uint64_t v;
        if ((r = q2_refcount_get(bs, c, &v)) < 0)
            return r;
        if (!v)
            q2_meta_set(s, c << s->cluster_bits, 1, NULL);
    }
    return 0;
}

int q2_alloc_cluster(BlockDev *bs, uint64_t *off)
{
    return q2_alloc_clusters(bs, 1, off);
}

int q2_alloc_clusters(BlockDev *bs, uint64_t n, uint64_t *off)
{
    Qcow2 *s = bs->opaque;
    int r = reserve(bs, n, off);
    for (uint64_t i = 0; r == 0 && i < n; i++)
        r = q2_refcount_add(bs, (*off >> s->cluster_bits) + i, 1);
    return r;
}
