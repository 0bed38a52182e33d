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

/* Header field offsets. */
#define QH_BACKING_OFFSET 8
#define QH_RT_OFFSET 48                     /* then rt clusters (u32) */
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

/* qcow2_map.c */
int q2_read(BlockDev *bs, uint64_t off, void *buf, size_t len);
int q2_write(BlockDev *bs, uint64_t off, const void *buf, size_t len);
void q2_cache_free(Qcow2 *s);

#endif
