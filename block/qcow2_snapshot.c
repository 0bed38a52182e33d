/* qcow2 internal snapshots: the snapshot table, create, revert (goto),
 * delete, and the VM state stored with a snapshot.
 *
 * Layout (docs/interop/qcow2.txt, "Snapshots"): a snapshot is a copy of
 * the active L1 table plus an entry in the snapshot table.  Every cluster
 * reachable from an L1 table counts one reference per path to it, so
 * taking a snapshot adds one to each L2 table and data cluster the active
 * table reaches, and the COPIED flag (refcount exactly 1) is cleared on
 * them; writes then copy shared clusters (qcow2_map.c).  The VM state
 * lives in the guest address space of the snapshot's L1 past the disk,
 * from the first L1 entry that maps no disk cluster.
 *
 * Crash safety: every change is ordered so that an interrupted one leaks
 * clusters at worst (refcounts too high), never leaves a reference a
 * refcount does not count: references are added before a table points at
 * them, the new snapshot table goes to fresh clusters and one header
 * write (nb_snapshots, snapshots_offset) switches to it, references are
 * dropped after nothing points at them any more. */
#include "block/qcow2.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/error.h"

#define X64 "%#" PRIx64
#define SN_HEADER_LEN 40

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, (uint16_t)v);
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, v >> 32);
    put32(p + 4, (uint32_t)v);
}

/* Bytes of guest address space one L1 entry maps. */
static uint64_t l1_span(const Qcow2 *s)
{
    return s->cluster_size * s->l2_entries;
}

/* The first L1 index past a disk of size bytes: where VM state starts. */
static uint64_t vm_state_index(const Qcow2 *s, uint64_t size)
{
    return size / l1_span(s) + !!(size % l1_span(s));
}

static uint64_t clusters_for(const Qcow2 *s, uint64_t bytes)
{
    return (bytes + s->cluster_size - 1) >> s->cluster_bits;
}

static void sn_free(Qcow2Snapshot *sn)
{
    g_free(sn->id);
    g_free(sn->name);
    g_free(sn->extra);
}

void q2_snapshots_free(Qcow2 *s)
{
    for (uint32_t i = 0; s->snaps && i < s->nb_snapshots; i++)
        sn_free(&s->snaps[i]);
    g_free(s->snaps);
    s->snaps = NULL;
}

/* ------------------------------------------------------------ loading */

#define FAIL(...) do { tn_error(err, __VA_ARGS__); return false; } while (0)

static bool load_entry(BlockDev *bs, uint32_t i, uint64_t start, uint64_t *p, GError **err)
{
    Qcow2 *s = bs->opaque;
    Qcow2Snapshot *sn = &s->snaps[i];
    const char *fn = bs->filename;
    uint8_t h[SN_HEADER_LEN];
    if (*p - start + SN_HEADER_LEN > QCOW2_MAX_SNAPSHOTS_BYTES)
        FAIL("%s: corrupt qcow2 image: snapshot table: entry %u lies more than %u bytes into "
             "the table", fn, i, QCOW2_MAX_SNAPSHOTS_BYTES);
    if (*p + SN_HEADER_LEN > s->file_size)
        FAIL("%s: corrupt qcow2 image: snapshot table: entry %u at " X64 " runs past the end "
             "of the file (%u snapshots at " X64 ")", fn, i, *p, s->nb_snapshots, start);
    int r = blk_fd_pread(s->fd, h, sizeof(h), *p);
    if (r < 0)
        FAIL("%s: reading the snapshot table at " X64 ": %s", fn, *p, g_strerror(-r));
    sn->l1_offset = get64(h);
    sn->l1_size = get32(h + 8);
    uint32_t id_len = (uint32_t)h[12] << 8 | h[13], name_len = (uint32_t)h[14] << 8 | h[15];
    sn->date_sec = get32(h + 16);
    sn->date_nsec = get32(h + 20);
    sn->vm_clock_ns = get64(h + 24);
    sn->vm_state_size = get32(h + 32);
    sn->extra_len = get32(h + 36);
    if (sn->extra_len > QCOW2_MAX_SNAPSHOT_EXTRA)
        FAIL("%s: corrupt qcow2 image: snapshot table: entry %u: extra data size %u is too "
             "large (at most %u)", fn, i, sn->extra_len, QCOW2_MAX_SNAPSHOT_EXTRA);
    if (id_len == 0 || id_len > QCOW2_MAX_SNAPSHOT_ID)
        FAIL("%s: corrupt qcow2 image: snapshot table: entry %u: id string of %u bytes "
             "(1..%d)", fn, i, id_len, QCOW2_MAX_SNAPSHOT_ID);
    uint64_t len = SN_HEADER_LEN + (uint64_t)sn->extra_len + id_len + name_len;
    if (*p - start + len > QCOW2_MAX_SNAPSHOTS_BYTES)
        FAIL("%s: corrupt qcow2 image: snapshot table: entry %u lies more than %u bytes into "
             "the table", fn, i, QCOW2_MAX_SNAPSHOTS_BYTES);
    if (*p + len > s->file_size)
        FAIL("%s: corrupt qcow2 image: snapshot table: entry %u at " X64 " (%" PRIu64
             " bytes) runs past the end of the file", fn, i, *p, len);
    uint8_t *rest = g_malloc(len - SN_HEADER_LEN + 1);
    r = blk_fd_pread(s->fd, rest, len - SN_HEADER_LEN, *p + SN_HEADER_LEN);
    if (r < 0) {
        g_free(rest);
        FAIL("%s: reading the snapshot table at " X64 ": %s", fn, *p, g_strerror(-r));
    }
    const uint8_t *id = rest + sn->extra_len, *name = id + id_len;
    bool nul = memchr(id, 0, id_len + name_len) != NULL;
    sn->extra = sn->extra_len ? g_memdup2(rest, sn->extra_len) : NULL;
    sn->id = g_strndup((const char *)id, id_len);
    sn->name = g_strndup((const char *)name, name_len);
    g_free(rest);
    if (nul)
        FAIL("%s: corrupt qcow2 image: snapshot table: entry %u: NUL byte in its id or name",
             fn, i);
    sn->disk_size = bs->size;
    sn->icount = UINT64_MAX;
    if (sn->extra_len >= 8)
        sn->vm_state_size = get64(sn->extra);
    if (sn->extra_len >= 16)
        sn->disk_size = get64(sn->extra + 8);
    if (sn->extra_len >= 24)
        sn->icount = get64(sn->extra + 16);
    if (sn->disk_size > (uint64_t)INT64_MAX)
        FAIL("%s: corrupt qcow2 image: snapshot '%s' (id %s): disk size %" PRIu64
             " is too large", fn, sn->name, sn->id, sn->disk_size);
    if (sn->l1_size > QCOW2_MAX_L1_BYTES / 8)
        FAIL("%s: corrupt qcow2 image: snapshot '%s' (id %s): L1 table of %u entries is too "
             "large (at most %u)", fn, sn->name, sn->id, sn->l1_size, QCOW2_MAX_L1_BYTES / 8);
    if (sn->l1_size) {
        uint64_t o = sn->l1_offset, bytes = sn->l1_size * 8ull;
        if (!q2_aligned(s, o) || o < s->cluster_size || o > s->file_size ||
            bytes > s->file_size - o)
            FAIL("%s: corrupt qcow2 image: snapshot '%s' (id %s): L1 table offset " X64
                 " is unaligned, in the header or past the end of the file for %u entries",
                 fn, sn->name, sn->id, o, sn->l1_size);
        if (!q2_meta_add(bs, o, bytes, "snapshot L1 table", err))
            return false;
    }
    *p = (*p + len + 7) & ~7ull;
    return true;
}

bool q2_snapshots_load(BlockDev *bs, uint64_t offset, uint32_t nb, GError **err)
{
    Qcow2 *s = bs->opaque;
    s->snapshots_offset = nb ? offset : 0;
    s->snapshots_bytes = 0;
    s->nb_snapshots = nb;
    s->snaps = g_new0(Qcow2Snapshot, MAX(nb, 1));
    uint64_t p = offset;
    for (uint32_t i = 0; i < nb; i++)
        if (!load_entry(bs, i, offset, &p, err))
            return false;
    if (!nb)
        return true;
    s->snapshots_bytes = p - offset;
    return q2_meta_add(bs, offset, s->snapshots_bytes, "snapshot table", err);
}

#undef FAIL

/* ------------------------------------------------------------ helpers */

static int find(Qcow2 *s, const char *name_or_id)
{
    for (uint32_t i = 0; i < s->nb_snapshots; i++)
        if (!strcmp(s->snaps[i].id, name_or_id))
            return (int)i;
    for (uint32_t i = 0; i < s->nb_snapshots; i++)
        if (!strcmp(s->snaps[i].name, name_or_id))
            return (int)i;
    return -1;
}

static int find_or_fail(BlockDev *bs, const char *name_or_id)
{
    int i = find(bs->opaque, name_or_id);
    return i >= 0 ? i : blk_fail(bs, ENOENT, "no snapshot '%s'", name_or_id);
}

static int sync_fd(BlockDev *bs)
{
    Qcow2 *s = bs->opaque;
    if (fdatasync(s->fd) < 0)
        return blk_fail(bs, errno, "flush: %s", g_strerror(errno));
    return 0;
}

/* A snapshot's L1 table, host order, every entry checked. */
static int load_snapshot_l1(BlockDev *bs, const Qcow2Snapshot *sn, uint64_t **out)
{
    Qcow2 *s = bs->opaque;
    uint64_t *l1 = g_new0(uint64_t, MAX(sn->l1_size, 1));
    *out = l1;
    if (!sn->l1_size)
        return 0;
    int r = blk_fd_pread(s->fd, l1, sn->l1_size * 8ull, sn->l1_offset);
    if (r < 0)
        return q2_io(bs, r, "reading a snapshot L1 table", sn->l1_offset);
    char *what = g_strdup_printf("snapshot '%s' (id %s): L1", sn->name, sn->id);
    for (uint32_t i = 0; i < sn->l1_size && r == 0; i++) {
        l1[i] = GUINT64_FROM_BE(l1[i]);
        r = q2_check_l1_entry(bs, what, i, l1[i]);
    }
    g_free(what);
    return r;
}

/* Appends to refs (host cluster indices, once per reference) every
 * cluster that entries [from, to) of l1 reach: L2 tables and what their
 * entries point at.  what names the table in messages. */
static int collect_refs(BlockDev *bs, const uint64_t *l1, uint64_t from, uint64_t to,
                        const char *what, GArray *refs)
{
    Qcow2 *s = bs->opaque;
    for (uint64_t i = from; i < to; i++) {
        uint64_t off = l1[i] & L1E_OFFSET_MASK;
        if (!off)
            continue;
        const char *kind = q2_meta_find(s, off, s->cluster_size);
        if (kind && strcmp(kind, "L2 table"))
            return q2_corrupt(bs, "%s entry %" PRIu64 ": L2 table at " X64 " overlaps the %s",
                              what, i, off, kind);
        uint64_t c = off >> s->cluster_bits;
        g_array_append_val(refs, c);
        uint64_t *t;
        int r = q2_l2_load(bs, off, &t);
        if (r < 0)
            return r;
        for (uint64_t j = 0; j < s->l2_entries; j++) {
            uint64_t e = GUINT64_FROM_BE(t[j]), host, len;
            if (!e)
                continue;
            if ((r = q2_entry_range(bs, i * s->l2_entries + j, e, &host, &len)) < 0)
                return r;
            if (!len)
                continue;
            for (c = host >> s->cluster_bits; c <= (host + len - 1) >> s->cluster_bits; c++)
                g_array_append_val(refs, c);
        }
    }
    return 0;
}

/* Adds one reference to each cluster in refs; on failure takes back the
 * ones added, so the image is as before. */
static int refs_add(BlockDev *bs, GArray *refs)
{
    for (guint i = 0; i < refs->len; i++) {
        int r = q2_refcount_add(bs, g_array_index(refs, uint64_t, i), 1);
        if (r < 0) {
            while (i--)
                q2_refcount_add(bs, g_array_index(refs, uint64_t, i), -1);
            return r;
        }
    }
    return 0;
}

static int refs_drop(BlockDev *bs, GArray *refs)
{
    Qcow2 *s = bs->opaque;
    for (guint i = 0; i < refs->len; i++) {
        uint64_t c = g_array_index(refs, uint64_t, i);
        int r = q2_refcount_release(bs, c << s->cluster_bits, s->cluster_size);
        if (r < 0)
            return r;
    }
    return 0;
}

static int refcount(BlockDev *bs, uint64_t off, uint64_t *v)
{
    Qcow2 *s = bs->opaque;
    return q2_refcount_get(bs, off >> s->cluster_bits, v);
}

/* Sets the COPIED flag on the active L1 entries and the entries of their
 * L2 tables exactly where the cluster's refcount is 1 (qemu-img check
 * wants it exact both ways); the entries of a shared L2 table all lose it
 * (what they point at is shared too). */
static int fix_copied(BlockDev *bs)
{
    Qcow2 *s = bs->opaque;
    for (uint32_t i = 0; i < s->l1_size; i++) {
        uint64_t e = s->l1[i], off = e & L1E_OFFSET_MASK, rc;
        if (!off)
            continue;
        int r = refcount(bs, off, &rc);
        uint64_t *t;
        if (r < 0 || (r = q2_l2_load(bs, off, &t)) < 0)
            return r;
        bool changed = false;
        for (uint64_t j = 0; j < s->l2_entries; j++) {
            uint64_t x = GUINT64_FROM_BE(t[j]), host = x & L2E_OFFSET_MASK, drc = 0;
            if (!x || (x & QCOW_OFLAG_COMPRESSED) || !host)
                continue;
            if (rc == 1 && (r = refcount(bs, host, &drc)) < 0)
                return r;
            uint64_t want = drc == 1 ? x | QCOW_OFLAG_COPIED : x & ~QCOW_OFLAG_COPIED;
            if (want != x) {
                t[j] = GUINT64_TO_BE(want);
                changed = true;
            }
        }
        if (changed && (r = q2_l2_store(bs, off, t)) < 0)
            return r;
        uint64_t want = rc == 1 ? off | QCOW_OFLAG_COPIED : off;
        if (want != e && (r = q2_set_l1(bs, i, want)) < 0)
            return r;
    }
    return 0;
}

/* Writes the snapshot table v[0..n) to fresh clusters, switches the
 * header to it, frees the old one.  Once switched (*switched), s->snaps is
 * v and the caller frees what is no longer in it, even when freeing the
 * old table fails (its refcounts found corrupt); before that nothing
 * changed on disk that a reader would see, and v is still the caller's. */
static int write_table(BlockDev *bs, Qcow2Snapshot *v, uint32_t n, bool *switched)
{
    Qcow2 *s = bs->opaque;
    *switched = false;
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t extra = MAX(v[i].extra_len, QCOW2_SNAPSHOT_EXTRA_LEN);
        bytes += (SN_HEADER_LEN + extra + strlen(v[i].id) + strlen(v[i].name) + 7) & ~7ull;
    }
    if (bytes > QCOW2_MAX_SNAPSHOTS_BYTES)
        return blk_fail(bs, EFBIG, "the snapshot table would exceed %u bytes",
                        QCOW2_MAX_SNAPSHOTS_BYTES);
    uint64_t off = 0, nclusters = clusters_for(s, bytes);
    int r;
    if (n) {
        uint8_t *buf = g_malloc0(nclusters << s->cluster_bits), *p = buf;
        for (uint32_t i = 0; i < n; i++) {
            const Qcow2Snapshot *sn = &v[i];
            uint32_t extra = MAX(sn->extra_len, QCOW2_SNAPSHOT_EXTRA_LEN);
            size_t id_len = strlen(sn->id), name_len = strlen(sn->name);
            put64(p, sn->l1_offset);
            put32(p + 8, sn->l1_size);
            put16(p + 12, (uint16_t)id_len);
            put16(p + 14, (uint16_t)name_len);
            put32(p + 16, sn->date_sec);
            put32(p + 20, sn->date_nsec);
            put64(p + 24, sn->vm_clock_ns);
            put32(p + 32, (uint32_t)sn->vm_state_size);
            put32(p + 36, extra);
            p += SN_HEADER_LEN;
            if (sn->extra_len)
                memcpy(p, sn->extra, sn->extra_len);   /* keeps fields we do not know */
            put64(p, sn->vm_state_size);
            put64(p + 8, sn->disk_size);
            put64(p + 16, sn->icount);
            p += extra;
            memcpy(p, sn->id, id_len);
            memcpy(p + id_len, sn->name, name_len);
            p += (id_len + name_len + SN_HEADER_LEN + extra + 7) / 8 * 8 - SN_HEADER_LEN - extra;
        }
        g_assert((uint64_t)(p - buf) == bytes);
        r = q2_alloc_clusters(bs, nclusters, &off);
        if (r == 0 && !q2_meta_add(bs, off, bytes, "snapshot table", NULL))
            r = q2_corrupt(bs, "new snapshot table at " X64 " overlaps metadata", off);
        if (r == 0 && (r = blk_fd_pwrite(s->fd, buf, nclusters << s->cluster_bits, off)) < 0)
            r = q2_io(bs, r, "writing the snapshot table", off);
        g_free(buf);
        if (r < 0)
            return r;
    }
    if ((r = sync_fd(bs)) < 0)
        return r;
    uint8_t h[12];
    put32(h, n);
    put64(h + 4, off);
    if ((r = blk_fd_pwrite(s->fd, h, sizeof(h), QH_NB_SNAPSHOTS)) < 0)
        return q2_io(bs, r, "writing the header", QH_NB_SNAPSHOTS);
    if ((r = sync_fd(bs)) < 0)
        return r;
    uint64_t old_off = s->snapshots_offset, old_bytes = s->snapshots_bytes;
    g_free(s->snaps);
    s->snaps = v;
    *switched = true;
    s->nb_snapshots = n;
    s->snapshots_offset = off;
    s->snapshots_bytes = bytes;
    if (!old_bytes)
        return 0;
    q2_meta_set(s, old_off, clusters_for(s, old_bytes), NULL);
    return q2_refcount_release(bs, old_off, old_bytes);
}

/* The VM state of sn, read through its L1 table l1. */
static int read_vmstate(BlockDev *bs, const Qcow2Snapshot *sn, const uint64_t *l1,
                        void **out, size_t *len)
{
    Qcow2 *s = bs->opaque;
    *out = NULL;
    *len = 0;
    if (!sn->vm_state_size)
        return 0;
    uint64_t idx = vm_state_index(s, sn->disk_size);
    if (idx >= sn->l1_size || sn->vm_state_size > (sn->l1_size - idx) * l1_span(s))
        return blk_fail(bs, EIO, "corrupt qcow2 image: snapshot '%s' (id %s): its %" PRIu64
                        " bytes of VM state lie past the end of its L1 table (%u entries)",
                        sn->name, sn->id, sn->vm_state_size, sn->l1_size);
    void *buf = sn->vm_state_size <= SIZE_MAX ? g_try_malloc(sn->vm_state_size) : NULL;
    if (!buf)
        return blk_fail(bs, ENOMEM, "snapshot '%s' (id %s): cannot allocate %" PRIu64
                        " bytes for its VM state", sn->name, sn->id, sn->vm_state_size);
    int r = q2_read_l1(bs, l1, sn->l1_size, idx * l1_span(s), buf, sn->vm_state_size);
    if (r < 0) {
        g_free(buf);
        return r;
    }
    *out = buf;
    *len = sn->vm_state_size;
    return 0;
}

/* Removes snapshot i: the table first, then its references, then its L1
 * copy; the COPIED flags of the active tables are brought up to date. */
static int delete_at(BlockDev *bs, uint32_t i)
{
    Qcow2 *s = bs->opaque;
    Qcow2Snapshot sn = s->snaps[i];
    uint64_t *l1;
    GArray *refs = g_array_new(false, false, sizeof(uint64_t));
    char *what = g_strdup_printf("snapshot '%s' (id %s): L1", sn.name, sn.id);
    int r = load_snapshot_l1(bs, &sn, &l1);
    if (r == 0)
        r = collect_refs(bs, l1, 0, sn.l1_size, what, refs);
    g_free(what);
    g_free(l1);
    if (r < 0) {
        g_array_free(refs, true);
        return r;
    }
    uint32_t n = s->nb_snapshots - 1;
    Qcow2Snapshot *v = g_new0(Qcow2Snapshot, MAX(n, 1));
    memcpy(v, s->snaps, i * sizeof(*v));
    memcpy(v + i, s->snaps + i + 1, (n - i) * sizeof(*v));
    bool switched;
    r = write_table(bs, v, n, &switched);
    if (!switched)
        g_free(v);
    else
        sn_free(&sn);
    if (r < 0) {
        g_array_free(refs, true);
        return r;
    }
    r = refs_drop(bs, refs);
    g_array_free(refs, true);
    if (r == 0 && sn.l1_size) {
        q2_meta_set(s, sn.l1_offset, clusters_for(s, sn.l1_size * 8ull), NULL);
        r = q2_refcount_release(bs, sn.l1_offset, sn.l1_size * 8ull);
    }
    return r < 0 ? r : fix_copied(bs);
}

/* ------------------------------------------------------------ the ops */

bool q2_can_snapshot(BlockDev *bs, const char **why)
{
    Qcow2 *s = bs->opaque;
    if (s->broken) {
        *why = "the image was found corrupt";
        return false;
    }
    if (s->refcount_order == 0) {
        *why = "an image with 1-bit refcounts cannot share clusters with a snapshot";
        return false;
    }
    return true;
}

int q2_snapshot_list(BlockDev *bs, BlkSnapshotInfo **out, size_t *n)
{
    Qcow2 *s = bs->opaque;
    BlkSnapshotInfo *v = g_new0(BlkSnapshotInfo, MAX(s->nb_snapshots, 1));
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        const Qcow2Snapshot *sn = &s->snaps[i];
        g_strlcpy(v[i].id, sn->id, sizeof(v[i].id));
        v[i].name = g_strdup(sn->name);
        v[i].vm_state_size = sn->vm_state_size;
        v[i].date_sec = sn->date_sec;
        v[i].date_nsec = sn->date_nsec;
        v[i].vm_clock_ns = sn->vm_clock_ns;
        v[i].icount = sn->icount;
    }
    *out = v;
    *n = s->nb_snapshots;
    return 0;
}

/* As QEMU: one more than the largest numeric id. */
static char *new_id(Qcow2 *s)
{
    uint64_t max = 0;
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        uint64_t v = g_ascii_strtoull(s->snaps[i].id, NULL, 10);
        max = MAX(max, v);
    }
    return g_strdup_printf("%" PRIu64, max + 1);
}

/* Writes the VM state through the active L1 table (growing it) at the
 * VM state offset; the last cluster is padded with zeros. */
static int write_vmstate(BlockDev *bs, const void *vmstate, size_t len)
{
    Qcow2 *s = bs->opaque;
    uint64_t off = vm_state_index(s, bs->size) * l1_span(s);
    uint64_t need = vm_state_index(s, bs->size) + vm_state_index(s, len);
    if (need > QCOW2_MAX_L1_BYTES / 8)
        return blk_fail(bs, EFBIG, "%zu bytes of VM state need an L1 table of %" PRIu64
                        " entries (QEMU's limit is %u)", len, need, QCOW2_MAX_L1_BYTES / 8);
    size_t whole = len & ~(size_t)(s->cluster_size - 1), tail = len - whole;
    int r = 0;
    if (whole)
        r = q2_write(bs, off, vmstate, whole);
    if (r == 0 && tail) {
        uint8_t *buf = g_malloc0(s->cluster_size);
        memcpy(buf, (const uint8_t *)vmstate + whole, tail);
        r = q2_write(bs, off + whole, buf, s->cluster_size);
        g_free(buf);
    }
    return r;
}

int q2_snapshot_create(BlockDev *bs, const char *name, const void *vmstate, size_t len,
                       uint64_t vm_clock_ns, uint64_t icount)
{
    Qcow2 *s = bs->opaque;
    const char *why;
    if (!q2_can_snapshot(bs, &why))
        return blk_fail(bs, ENOTSUP, "cannot take a snapshot: %s", why);
    int r = q2_begin_write(bs);
    if (r < 0)
        return r;
    /* Replace, as savevm does: the old one goes first. */
    for (uint32_t i = 0; i < s->nb_snapshots;) {
        if (!strcmp(s->snaps[i].name, name)) {
            if ((r = delete_at(bs, i)) < 0)
                return r;
        } else {
            i++;
        }
    }
    if (s->nb_snapshots >= QCOW2_MAX_SNAPSHOTS)
        return blk_fail(bs, EFBIG, "the image already holds %u snapshots, the most qcow2 "
                        "allows", s->nb_snapshots);
    if (len && (r = write_vmstate(bs, vmstate, len)) < 0)
        return r;

    /* One more reference to everything the disk part of the active table
     * reaches; the VM state part moves to the snapshot's table below. */
    uint64_t vm_idx = vm_state_index(s, bs->size);
    GArray *refs = g_array_new(false, false, sizeof(uint64_t));
    r = collect_refs(bs, s->l1, 0, MIN(vm_idx, s->l1_size), "L1 table", refs);
    if (r == 0)
        r = refs_add(bs, refs);
    g_array_free(refs, true);
    if (r < 0 || (r = fix_copied(bs)) < 0)
        return r;

    /* The snapshot's copy of the L1 table. */
    uint64_t l1_bytes = s->l1_size * 8ull, l1_off = 0;
    if (s->l1_size) {
        uint64_t nc = clusters_for(s, l1_bytes);
        if ((r = q2_alloc_clusters(bs, nc, &l1_off)) < 0)
            return r;
        if (!q2_meta_add(bs, l1_off, l1_bytes, "snapshot L1 table", NULL))
            return q2_corrupt(bs, "new snapshot L1 table at " X64 " overlaps metadata", l1_off);
        uint64_t *t = g_new0(uint64_t, nc << (s->cluster_bits - 3));
        for (uint32_t i = 0; i < s->l1_size; i++)
            t[i] = GUINT64_TO_BE(s->l1[i]);
        r = blk_fd_pwrite(s->fd, t, nc << s->cluster_bits, l1_off);
        g_free(t);
        if (r < 0)
            return q2_io(bs, r, "writing a snapshot L1 table", l1_off);
    }
    /* The VM state is the snapshot's alone now: out of the active table
     * (a crash from here until the header switches leaks it, no more). */
    bool vm_entries = false;
    for (uint64_t i = vm_idx; i < s->l1_size; i++) {
        vm_entries |= s->l1[i] != 0;
        s->l1[i] = 0;
    }
    if (vm_entries) {
        uint64_t n = s->l1_size - vm_idx;
        uint64_t *zero = g_new0(uint64_t, n);
        r = blk_fd_pwrite(s->fd, zero, n * 8, s->l1_offset + vm_idx * 8);
        g_free(zero);
        if (r < 0)
            return q2_io(bs, r, "writing the L1 table", s->l1_offset);
    }

    Qcow2Snapshot sn = {
        .l1_offset = l1_off,
        .l1_size = s->l1_size,
        .id = new_id(s),
        .name = g_strdup(name),
        .vm_clock_ns = vm_clock_ns,
        .vm_state_size = len,
        .disk_size = bs->size,
        .icount = icount,
    };
    int64_t now = g_get_real_time();
    sn.date_sec = (uint32_t)(now / G_USEC_PER_SEC);
    sn.date_nsec = (uint32_t)(now % G_USEC_PER_SEC * 1000);
    uint32_t n = s->nb_snapshots + 1;
    Qcow2Snapshot *v = g_new0(Qcow2Snapshot, n);
    memcpy(v, s->snaps, s->nb_snapshots * sizeof(*v));
    v[n - 1] = sn;
    bool switched;
    r = write_table(bs, v, n, &switched);
    if (!switched) {
        sn_free(&sn);
        g_free(v);
    }
    return r;
}

int q2_snapshot_read_vmstate(BlockDev *bs, const char *name_or_id, void **vmstate,
                             size_t *len)
{
    Qcow2 *s = bs->opaque;
    int i = find_or_fail(bs, name_or_id);
    if (i < 0)
        return i;
    uint64_t *l1;
    int r = load_snapshot_l1(bs, &s->snaps[i], &l1);
    if (r == 0)
        r = read_vmstate(bs, &s->snaps[i], l1, vmstate, len);
    g_free(l1);
    return r;
}

int q2_snapshot_goto(BlockDev *bs, const char *name_or_id, void **vmstate, size_t *len)
{
    Qcow2 *s = bs->opaque;
    int i = find_or_fail(bs, name_or_id);
    if (i < 0)
        return i;
    const Qcow2Snapshot *sn = &s->snaps[i];
    if (sn->disk_size != bs->size)
        return blk_fail(bs, ENOTSUP, "snapshot '%s' (id %s) has a disk of %" PRIu64 " bytes, "
                        "the image now %" PRIu64 "; reverting to another size is not "
                        "supported", sn->name, sn->id, sn->disk_size, bs->size);
    const char *why;
    if (!q2_can_snapshot(bs, &why))
        return blk_fail(bs, ENOTSUP, "cannot revert to a snapshot: %s", why);
    int r = q2_begin_write(bs);
    if (r < 0)
        return r;

    uint64_t *l1, vm_idx = vm_state_index(s, bs->size);
    uint64_t ncopy = MIN(vm_idx, sn->l1_size);
    void *vm = NULL;
    size_t vm_len = 0;
    GArray *add = g_array_new(false, false, sizeof(uint64_t));
    GArray *drop = g_array_new(false, false, sizeof(uint64_t));
    char *what = g_strdup_printf("snapshot '%s' (id %s): L1", sn->name, sn->id);
    /* Everything that can fail on a corrupt image comes before a change. */
    r = load_snapshot_l1(bs, sn, &l1);
    if (r == 0 && vmstate)
        r = read_vmstate(bs, sn, l1, &vm, &vm_len);
    if (r == 0)
        r = collect_refs(bs, l1, 0, ncopy, what, add);
    if (r == 0)
        r = collect_refs(bs, s->l1, 0, s->l1_size, "L1 table", drop);
    g_free(what);
    if (r == 0)
        r = refs_add(bs, add);
    if (r < 0)
        goto out;

    /* The new active table, written at once; flags fixed below. */
    uint64_t *t = g_new0(uint64_t, s->l1_size);
    for (uint64_t k = 0; k < ncopy; k++)
        t[k] = GUINT64_TO_BE(l1[k] & ~QCOW_OFLAG_COPIED);
    r = blk_fd_pwrite(s->fd, t, s->l1_size * 8ull, s->l1_offset);
    g_free(t);
    if (r < 0) {
        r = q2_io(bs, r, "writing the L1 table", s->l1_offset);
        goto out;
    }
    memset(s->l1, 0, s->l1_size * 8ull);
    for (uint64_t k = 0; k < ncopy; k++) {
        s->l1[k] = l1[k] & ~QCOW_OFLAG_COPIED;
        if (s->l1[k])
            q2_meta_set(s, s->l1[k] & L1E_OFFSET_MASK, 1, "L2 table");
    }
    if ((r = sync_fd(bs)) < 0 || (r = refs_drop(bs, drop)) < 0 || (r = fix_copied(bs)) < 0)
        goto out;
    if (vmstate) {
        *vmstate = vm;
        *len = vm_len;
        vm = NULL;
    }
out:
    g_free(vm);
    g_free(l1);
    g_array_free(add, true);
    g_array_free(drop, true);
    return r;
}

int q2_snapshot_delete(BlockDev *bs, const char *name_or_id)
{
    int i = find_or_fail(bs, name_or_id);
    if (i < 0)
        return i;
    int r = q2_begin_write(bs);
    return r < 0 ? r : delete_at(bs, (uint32_t)i);
}
