/* qcow2 driver internals, shared by qcow2.c (header, open, create),
 * qcow2_map.c (L1/L2 mapping, reads and writes) and qcow2_refcount.c
 * (refcounts and cluster allocation).  Format: QEMU's
 * docs/interop/qcow2.txt; all on-disk integers are big-endian.
 *
 * Metadata is written through at once (no dirty caches): data before the
 * L2 entry that points at it, refcounts before the pointer that needs
 * them, so a crash can leak clusters but never leave a dangling pointer.
 * Lazy refcounts are not used, so the dirty bit is never set. */
#ifndef TANDEM_BLOCK_QCOW2_H
#define TANDEM_BLOCK_QCOW2_H

#include "block/block_int.h"

#define QCOW2_MAGIC 0x514649fbu             /* "QFI\xfb" */
#define QCOW2_V2_HEADER_LEN 72
#define QCOW2_V3_HEADER_LEN 104
#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21
#define QCOW2_MAX_L1_BYTES (32u << 20)      /* QEMU's limits too */
#define QCOW2_MAX_RT_BYTES (8u << 20)
#define QCOW2_MAX_BACKING_NAME 1023
#define QCOW2_MAX_SNAPSHOTS 65536
#define QCOW2_MAX_SNAPSHOTS_BYTES (64u << 20)  /* whole snapshot table, as QEMU */
#define QCOW2_MAX_SNAPSHOT_EXTRA 1024u
#define QCOW2_MAX_SNAPSHOT_ID 15            /* BlkSnapshotInfo.id holds 15 + NUL */
#define QCOW2_SNAPSHOT_EXTRA_LEN 24         /* what we write: vm_state_size, disk size, icount */

/* Header field offsets. */
#define QH_BACKING_OFFSET 8
#define QH_L1_SIZE 36                       /* then l1_table_offset (u64) */
#define QH_RT_OFFSET 48                     /* then rt clusters (u32) */
#define QH_NB_SNAPSHOTS 60                  /* then snapshots_offset (u64) */
#define QH_AUTOCLEAR 88

/* Incompatible feature bits. */
#define QCOW2_INCOMPAT_DIRTY (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2 (1ull << 4)

/* Header extensions. */
#define QCOW2_EXT_END 0
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau
#define QCOW2_EXT_FEATURE_TABLE 0x6803f857u

/* L1 and L2 entries. */
#define QCOW_OFLAG_COPIED (1ull << 63)      /* refcount is exactly 1 */
#define QCOW_OFLAG_COMPRESSED (1ull << 62)
#define QCOW_OFLAG_ZERO (1ull << 0)         /* v3 standard clusters */
#define L1E_OFFSET_MASK 0x00fffffffffffe00ull
#define L1E_RESERVED 0x7f000000000001ffull
#define L2E_OFFSET_MASK 0x00fffffffffffe00ull
#define L2E_RESERVED 0x3f000000000001feull
#define RTE_OFFSET_MASK 0xfffffffffffffe00ull

/* A small cache of whole clusters read from the file (L2 tables), kept
 * in file byte order; updates are written through. */
#define QCOW2_L2_CACHE 16

typedef struct Qcow2CacheEntry {
    uint64_t offset;                        /* 0: empty slot */
    uint64_t last_use;
    uint64_t *table;
} Qcow2CacheEntry;

/* One entry of the snapshot table, as read (or about to be written). */
typedef struct Qcow2Snapshot {
    uint64_t l1_offset;
    uint32_t l1_size;
    char *id, *name;
    uint32_t date_sec, date_nsec;
    uint64_t vm_clock_ns;
    uint64_t vm_state_size;
    uint64_t disk_size;
    uint64_t icount;                        /* UINT64_MAX: not recorded */
    uint32_t extra_len;                     /* extra data as read: kept on rewrite */
    uint8_t *extra;
} Qcow2Snapshot;

typedef struct Qcow2 {
    int fd;
    uint32_t version;
    uint32_t cluster_bits;
    uint64_t cluster_size;
    uint64_t l2_entries;                    /* per L2 table */
    uint64_t file_end;                      /* allocation point, cluster aligned */
    uint64_t file_size;                     /* for bounds checks */

    uint64_t *l1;                           /* host order */
    uint32_t l1_size;
    uint64_t l1_offset;

    uint64_t *rt;                           /* host order */
    uint64_t rt_entries;
    uint64_t rt_offset;
    uint32_t rt_clusters;
    uint32_t refcount_order;
    uint64_t rb_entries;                    /* refcounts per refcount block */
    uint64_t refcount_max;

    uint64_t incompat, compat, autoclear;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    uint64_t snapshots_bytes;               /* table length (0 when empty) */
    Qcow2Snapshot *snaps;                   /* nb_snapshots of them */

    /* Host cluster indices holding metadata (header, L1, refcount table
     * and blocks, L2 tables): writes of guest data must never land on
     * them, and no two tables may share a cluster. */
    GHashTable *meta;

    Qcow2CacheEntry l2_cache[QCOW2_L2_CACHE];
    uint64_t cache_clock;

    /* The last decompressed cluster, keyed by its L2 entry. */
    uint64_t zcache_entry;
    uint8_t *zcache;
    uint8_t *zbuf;                          /* compressed input */

    bool wrote;                             /* autoclear bits cleared */
    bool broken;                            /* metadata found corrupt: no more writes */
} Qcow2;

static inline bool q2_aligned(const Qcow2 *s, uint64_t off)
{
    return (off & (s->cluster_size - 1)) == 0;
}

/* qcow2.c */
int q2_corrupt(BlockDev *bs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int q2_io(BlockDev *bs, int r, const char *what, uint64_t off);
/* Records host cluster range [off, off + len) as metadata of kind what;
 * fails (naming both) when any of it already is. */
bool q2_meta_add(BlockDev *bs, uint64_t off, uint64_t len, const char *what, GError **err);
const char *q2_meta_find(Qcow2 *s, uint64_t off, uint64_t len);

/* qcow2_refcount.c */
bool q2_refcount_check_table(BlockDev *bs, GError **err);
int q2_refcount_get(BlockDev *bs, uint64_t cluster, uint64_t *val);
int q2_refcount_add(BlockDev *bs, uint64_t cluster, int delta);
/* Drops one reference from every host cluster in [off, off + len). */
int q2_refcount_release(BlockDev *bs, uint64_t off, uint64_t len);
/* A fresh cluster with refcount 1, or -errno. */
int q2_alloc_cluster(BlockDev *bs, uint64_t *off);
/* n contiguous fresh clusters, each with refcount 1. */
int q2_alloc_clusters(BlockDev *bs, uint64_t n, uint64_t *off);
/* Marks (what != NULL) or unmarks n host clusters from off as metadata,
 * without the overlap check of q2_meta_add. */
void q2_meta_set(Qcow2 *s, uint64_t off, uint64_t n, const char *what);

/* qcow2_map.c */
int q2_read(BlockDev *bs, uint64_t off, void *buf, size_t len);
/* Writes through the active L1 table; offsets past the disk (the VM
 * state area of internal snapshots) grow the L1 table as needed. */
int q2_write(BlockDev *bs, uint64_t off, const void *buf, size_t len);
/* Reads through another L1 table (a snapshot's, entries already checked);
 * unallocated clusters and clusters past l1_size read as zeros. */
int q2_read_l1(BlockDev *bs, const uint64_t *l1, uint32_t l1_size, uint64_t off, void *buf,
               size_t len);
void q2_cache_free(Qcow2 *s);
/* Before any change to the image: refuses a broken image, clears the
 * autoclear bits once. */
int q2_begin_write(BlockDev *bs);
/* The L2 table at off, in file byte order, through the cache (valid until
 * the next call); q2_l2_store writes a table changed in place back. */
int q2_l2_load(BlockDev *bs, uint64_t off, uint64_t **table);
int q2_l2_store(BlockDev *bs, uint64_t off, const uint64_t *table);
int q2_set_l1(BlockDev *bs, uint64_t l1i, uint64_t val);
/* Grows the active L1 table to at least n entries: a copy in new
 * clusters, then the header, then the old table is freed. */
int q2_l1_grow(BlockDev *bs, uint64_t n);
/* The host bytes an L2 entry for guest cluster gidx holds a reference to
 * (*len 0: none): a standard or preallocated zero cluster, or the
 * sectors of a compressed one.  Checks the entry like a read does. */
int q2_entry_range(BlockDev *bs, uint64_t gidx, uint64_t e, uint64_t *host, uint64_t *len);
/* An L1 entry's L2 table offset checked against the file (aligned, inside
 * it, no reserved bits); what names the table for the message. */
int q2_check_l1_entry(BlockDev *bs, const char *what, uint64_t idx, uint64_t e);

/* qcow2_snapshot.c */
/* Reads and checks the snapshot table at open. */
bool q2_snapshots_load(BlockDev *bs, uint64_t offset, uint32_t nb, GError **err);
void q2_snapshots_free(Qcow2 *s);
bool q2_can_snapshot(BlockDev *bs, const char **why);
int q2_snapshot_list(BlockDev *bs, BlkSnapshotInfo **out, size_t *n);
int q2_snapshot_create(BlockDev *bs, const char *name, const void *vmstate, size_t len,
                       uint64_t vm_clock_ns, uint64_t icount);
int q2_snapshot_goto(BlockDev *bs, const char *name_or_id, void **vmstate, size_t *len);
int q2_snapshot_read_vmstate(BlockDev *bs, const char *name_or_id, void **vmstate,
                             size_t *len);
int q2_snapshot_delete(BlockDev *bs, const char *name_or_id);

#endif
