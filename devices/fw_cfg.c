/* QEMU firmware configuration device (x86 port I/O flavour with DMA).
 *
 * Items are byte arrays the board sets up front.  The traditional interface
 * selects an item and reads it one byte at a time; reads past the end give
 * 0.  Data-port writes are ignored (QEMU >= 2.4).  The DMA interface reads
 * an FWCfgDmaAccess structure from guest RAM and copies, skips or selects;
 * writes to items are not supported and report the error bit.  Everything
 * is a function of the guest's accesses: no timers, no host state. */
#include "devices/fw_cfg.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "devices/devsnap.h"
#include "vmm/device.h"
#include "vmm/machine.h"

#define NGENERIC (FW_CFG_FILE_FIRST + FW_CFG_FILE_SLOTS)
#define KEY_INDEX_MASK 0x3fff   /* the key without bits 14 and 15 */
#define DIR_ENTRY_SIZE 64
#define DMA_ACCESS_SIZE 16

static const uint8_t dma_signature[8] = { 'Q', 'E', 'M', 'U', ' ', 'C', 'F', 'G' };

typedef struct FwCfgItem {
    uint8_t *data;
    uint32_t len;
} FwCfgItem;

typedef struct FwCfgFile {
    char name[FW_CFG_MAX_FILE_PATH];
} FwCfgFile;

struct FwCfg {
    Machine *m;
    FwCfgItem generic[NGENERIC];
    FwCfgItem arch[FW_CFG_ARCH_SLOTS];
    FwCfgFile files[FW_CFG_FILE_SLOTS];   /* sorted; file i is key 0x20 + i */
    unsigned nfiles;

    FwCfgItem *cur;          /* selected item, NULL for an invalid key */
    uint32_t offset;         /* read position in cur, at most cur->len */
    uint64_t dma_addr;       /* high half latched by a write at +4 */
};

static void put_be16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = (uint8_t)v; }
static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24; p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The slot for key, or NULL: bit 14 (the legacy write channel) is ignored. */
static FwCfgItem *item_for_key(FwCfg *s, uint16_t key)
{
    unsigned idx = key & KEY_INDEX_MASK;
    if (key & FW_CFG_ARCH_LOCAL)
        return idx < FW_CFG_ARCH_SLOTS ? &s->arch[idx] : NULL;
    return idx < NGENERIC ? &s->generic[idx] : NULL;
}

static void set_item(FwCfgItem *it, uint8_t *data, size_t len)
{
    g_assert(len <= UINT32_MAX);
    g_free(it->data);
    it->data = data;
    it->len = (uint32_t)len;
}

static void select_key(FwCfg *s, uint16_t key)
{
    s->cur = item_for_key(s, key);
    s->offset = 0;
}

static uint8_t data_read(FwCfg *s)
{
    if (!s->cur || s->offset >= s->cur->len)
        return 0;
    return s->cur->data[s->offset++];
}

/* ---- DMA ---- */

/* Guest RAM only: a transfer into ROM or device space is an error. */
static bool dma_to_guest(FwCfg *s, uint64_t pa, const void *buf, size_t len)
{
    uint64_t p = pa;
    size_t left = len;
    while (left) {
        MemRegion *r = as_find(&s->m->as, p);
        if (!r || !r->host || r->readonly)
            return false;
        uint64_t room = r->size - (p - r->base);
        size_t n = room < left ? (size_t)room : left;
        p += n;
        left -= n;
        if (left && !p)         /* wrapped past the top of the space */
            return false;
    }
    return as_copy_to(&s->m->as, pa, buf, len) == MEM_OK;
}

static bool dma_zero_guest(FwCfg *s, uint64_t pa, uint64_t len)
{
    static const uint8_t zeros[4096];
    while (len) {
        size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
        if (!dma_to_guest(s, pa, zeros, n))
            return false;
        pa += n;
        len -= n;
    }
    return true;
}

/* One FWCfgDmaAccess at addr; returns the control value to write back. */
static uint32_t dma_run(FwCfg *s, uint64_t addr)
{
    uint8_t d[DMA_ACCESS_SIZE];
    if (as_copy_from(&s->m->as, addr, d, sizeof(d)) != MEM_OK)
        return FW_CFG_DMA_CTL_ERROR;
    uint32_t control = get_be32(d);
    uint32_t length = get_be32(d + 4);
    uint64_t target = (uint64_t)get_be32(d + 8) << 32 | get_be32(d + 12);

    if (control & FW_CFG_DMA_CTL_SELECT)
        select_key(s, (uint16_t)(control >> 16));

    uint32_t avail = s->cur ? s->cur->len - s->offset : 0;
    uint32_t n = length < avail ? length : avail;
    if (control & FW_CFG_DMA_CTL_READ) {
        /* Bytes past the end of the item read as 0, as on the data port. */
        if (n && !dma_to_guest(s, target, s->cur->data + s->offset, n))
            return FW_CFG_DMA_CTL_ERROR;
        s->offset += n;
        if (length > n && !dma_zero_guest(s, target + n, length - n))
            return FW_CFG_DMA_CTL_ERROR;
    } else if (control & FW_CFG_DMA_CTL_WRITE) {
        return FW_CFG_DMA_CTL_ERROR;      /* every item is read-only */
    } else if (control & FW_CFG_DMA_CTL_SKIP) {
        s->offset += n;
    }
    return 0;
}

static void dma_start(FwCfg *s)
{
    uint64_t addr = s->dma_addr;
    /* The register reads back as 0 after an operation (the specification),
     * so a 32-bit address needs only the low-half write next time. */
    s->dma_addr = 0;
    uint8_t ctl[4];
    put_be32(ctl, dma_run(s, addr));
    dma_to_guest(s, addr, ctl, sizeof(ctl));   /* nowhere to report a failure */
}

/* ---- port handlers ---- */

static uint64_t ctl_read(void *opaque, uint64_t off, unsigned size)
{
    /* Byte reads of either port read data; a 16-bit read is not an
     * access the device decodes and has no effect (QEMU gives 0). */
    return size == 1 ? data_read(opaque) : 0;
}

static void ctl_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    if (size == 2 && off == 0)
        select_key(opaque, (uint16_t)val);
    /* Byte writes are data-port writes: ignored. */
}

static const MemOps fw_cfg_ctl_ops = {
    .name = "fw_cfg",
    .read = ctl_read,
    .write = ctl_write,
    .min_access = 1,
    .max_access = 2,
};

static uint64_t dma_read(void *opaque, uint64_t off, unsigned size)
{
    /* A big-endian register: the byte at the lowest port is the most
     * significant, i.e. the signature reads in memory order. */
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)dma_signature[off + i] << (8 * i);
    return v;
}

static void dma_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    FwCfg *s = opaque;
    if (size == 8 && off == 0) {
        s->dma_addr = GUINT64_SWAP_LE_BE(val);
        dma_start(s);
    } else if (size == 4 && off == 0) {
        s->dma_addr = (uint64_t)GUINT32_SWAP_LE_BE((uint32_t)val) << 32 |
                      (uint32_t)s->dma_addr;
    } else if (size == 4 && off == 4) {
        s->dma_addr = (s->dma_addr & ~0xffffffffull) | GUINT32_SWAP_LE_BE((uint32_t)val);
        dma_start(s);
    }
    /* Other widths and offsets are not decoded. */
}

static const MemOps fw_cfg_dma_ops = {
    .name = "fw_cfg-dma",
    .read = dma_read,
    .write = dma_write,
    .min_access = 1,
    .max_access = 8,
};

/* ---- board API ---- */

void fw_cfg_add_bytes_take(FwCfg *s, uint16_t key, void *data, size_t len)
{
    g_assert(!(key & FW_CFG_WRITE_CHANNEL));
    g_assert((key & FW_CFG_ARCH_LOCAL) || key < FW_CFG_FILE_FIRST);
    g_assert(key != FW_CFG_FILE_DIR);     /* fw_cfg_add_file keeps it */
    FwCfgItem *it = item_for_key(s, key);
    g_assert(it);
    set_item(it, data, len);
    if (s->cur == it)
        s->offset = 0;
}

void fw_cfg_add_bytes(FwCfg *s, uint16_t key, const void *data, size_t len)
{
    uint8_t *copy = g_malloc(len ? len : 1);
    if (len)
        memcpy(copy, data, len);
    fw_cfg_add_bytes_take(s, key, copy, len);
}

void fw_cfg_add_i16(FwCfg *s, uint16_t key, uint16_t value)
{
    uint16_t le = GUINT16_TO_LE(value);
    fw_cfg_add_bytes(s, key, &le, sizeof(le));
}

void fw_cfg_add_i32(FwCfg *s, uint16_t key, uint32_t value)
{
    uint32_t le = GUINT32_TO_LE(value);
    fw_cfg_add_bytes(s, key, &le, sizeof(le));
}

void fw_cfg_add_i64(FwCfg *s, uint16_t key, uint64_t value)
{
    uint64_t le = GUINT64_TO_LE(value);
    fw_cfg_add_bytes(s, key, &le, sizeof(le));
}

static void rebuild_directory(FwCfg *s)
{
    size_t len = 4 + (size_t)s->nfiles * DIR_ENTRY_SIZE;
    uint8_t *dir = g_malloc0(len);
    put_be32(dir, s->nfiles);
    for (unsigned i = 0; i < s->nfiles; i++) {
        uint8_t *e = dir + 4 + (size_t)i * DIR_ENTRY_SIZE;
        put_be32(e, s->generic[FW_CFG_FILE_FIRST + i].len);
        put_be16(e + 4, (uint16_t)(FW_CFG_FILE_FIRST + i));
        memcpy(e + 8, s->files[i].name, FW_CFG_MAX_FILE_PATH);
    }
    set_item(&s->generic[FW_CFG_FILE_DIR], dir, len);
}

int fw_cfg_add_file(FwCfg *s, const char *name, const void *data, size_t len)
{
    size_t nlen = strlen(name);
    if (!nlen)
        return -EINVAL;
    if (nlen >= FW_CFG_MAX_FILE_PATH)
        return -ENAMETOOLONG;
    unsigned pos = 0;
    while (pos < s->nfiles && strcmp(s->files[pos].name, name) < 0)
        pos++;
    if (pos < s->nfiles && !strcmp(s->files[pos].name, name))
        return -EEXIST;
    if (s->nfiles == FW_CFG_FILE_SLOTS)
        return -ENOSPC;
    g_assert(len <= UINT32_MAX);

    FwCfgItem *items = &s->generic[FW_CFG_FILE_FIRST];
    memmove(&s->files[pos + 1], &s->files[pos],
            (s->nfiles - pos) * sizeof(s->files[0]));
    memmove(&items[pos + 1], &items[pos], (s->nfiles - pos) * sizeof(items[0]));
    memset(&s->files[pos], 0, sizeof(s->files[pos]));
    memcpy(s->files[pos].name, name, nlen);
    items[pos].data = g_malloc(len ? len : 1);
    if (len)
        memcpy(items[pos].data, data, len);
    items[pos].len = (uint32_t)len;
    s->nfiles++;
    rebuild_directory(s);
    s->cur = NULL;           /* keys moved: nothing stays selected */
    s->offset = 0;
    return 0;
}

int fw_cfg_file_key(FwCfg *s, const char *name)
{
    for (unsigned i = 0; i < s->nfiles; i++)
        if (!strcmp(s->files[i].name, name))
            return FW_CFG_FILE_FIRST + (int)i;
    return -1;
}

/* ---- lifecycle ---- */

static void fw_cfg_reset(void *dev)
{
    FwCfg *s = dev;
    s->cur = NULL;
    s->offset = 0;
    s->dma_addr = 0;
}

static void fw_cfg_destroy(void *dev)
{
    FwCfg *s = dev;
    for (unsigned i = 0; i < NGENERIC; i++)
        g_free(s->generic[i].data);
    for (unsigned i = 0; i < FW_CFG_ARCH_SLOTS; i++)
        g_free(s->arch[i].data);
    g_free(s);
}

/* ---- snapshots ---- */

#define SNAP_VERSION 1

/* The items are the board's configuration, built again by the machine
 * that loads the snapshot; the guest's state is which item it selected,
 * how far it read, and the DMA address latch.  The selection is stored as
 * 0 (none), 1 + generic slot, or 1 + NGENERIC + arch-local slot. */
static int fw_cfg_save(void *dev, void *wp)
{
    FwCfg *s = dev;
    SnapWriter *w = wp;
    uint64_t sel = 0;
    if (s->cur && s->cur >= s->generic && s->cur < s->generic + NGENERIC)
        sel = 1 + (uint64_t)(s->cur - s->generic);
    else if (s->cur)
        sel = 1 + NGENERIC + (uint64_t)(s->cur - s->arch);
    snap_put_u8(w, SNAP_VERSION);
    snap_put_u64(w, sel);
    snap_put_u64(w, s->offset);
    snap_put_u64(w, s->dma_addr);
    return 0;
}

static int fw_cfg_load(void *dev, void *rp)
{
    FwCfg *s = dev;
    SnapReader *r = rp;
    if (!devsnap_version(r, SNAP_VERSION, "fw_cfg"))
        return -1;
    uint64_t sel = snap_get_max(r, NGENERIC + FW_CFG_ARCH_SLOTS, "fw_cfg selected item");
    FwCfgItem *cur = !sel ? NULL
                   : sel <= NGENERIC ? &s->generic[sel - 1] : &s->arch[sel - 1 - NGENERIC];
    /* The offset indexes the item's data: it may not pass this machine's
     * copy of the item. */
    uint64_t offset = snap_get_max(r, cur ? cur->len : 0, "fw_cfg read offset");
    uint64_t dma_addr = snap_get_u64(r);
    if (!snap_reader_ok(r))
        return -1;
    s->cur = cur;
    s->offset = (uint32_t)offset;
    s->dma_addr = dma_addr;
    return 0;
}

static const DeviceOps fw_cfg_device_ops = {
    .name = "fw_cfg",
    .reset = fw_cfg_reset,
    .save = fw_cfg_save,
    .load = fw_cfg_load,
    .destroy = fw_cfg_destroy,
};

FwCfg *fw_cfg_create(Machine *m, AddressSpace *io, uint16_t base)
{
    if ((uint32_t)base + 12 > 0x10000) {
        machine_set_error(m, "fw_cfg: ports 0x%x..+12 do not fit the I/O space", base);
        return NULL;
    }
    FwCfg *s = g_new0(FwCfg, 1);
    s->m = m;
    int err = as_add_mmio(io, "fw_cfg", base, 2, &fw_cfg_ctl_ops, s);
    if (!err)
        err = as_add_mmio(io, "fw_cfg-dma", base + 4u, 8, &fw_cfg_dma_ops, s);
    if (err) {
        /* as has no removal: a half-mapped device stays allocated with the
         * machine, which fails to build anyway. */
        machine_set_error(m, "fw_cfg: cannot map ports at 0x%x: %s", base,
                          g_strerror(-err));
        machine_keep(m, s);
        return NULL;
    }
    fw_cfg_add_bytes(s, FW_CFG_SIGNATURE, "QEMU", 4);
    fw_cfg_add_i32(s, FW_CFG_ID, 0x3);   /* traditional interface + DMA */
    rebuild_directory(s);
    machine_add_device(m, &fw_cfg_device_ops, s);
    return s;
}
