/* PIIX3 IDE function: the PCI header, the bus master and the PRD walk
 * (see piix_ide.h).
 *
 * The PRD walk is bounded for hostile tables: at most 8192 entries per
 * start (a whole 64 KiB table page) and at most the command's bytes.
 * Addresses with no RAM behind them read as zeros and drop writes; ROM is
 * not written.  A PRD table that cannot be read sets the error bit and
 * ends the transfer. */
#include "devices/piix_ide.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "devices/devsnap.h"
#include "vmm/error.h"
#include "vmm/machine.h"

#define QEMU_SUBVENDOR 0x1af4
#define QEMU_SUBDEVICE 0x1100

#define PRD_MAX_ENTRIES 8192
#define PAGE 4096u

typedef struct BusMaster {
    PiixIde *s;
    IdeBus *bus;
    uint8_t cmd, status;
    uint32_t prd_ptr;
    /* Walk state since the last start. */
    uint32_t next;                 /* address of the next PRD entry */
    uint32_t seg_addr, seg_left;   /* the current entry's rest */
    bool eot;                      /* the current entry is the last */
    unsigned entries;
} BusMaster;

struct PiixIde {
    Machine *m;
    AddressSpace *io;
    PciDevice *pci;
    BusMaster bm[2];
    int bm_base;                   /* -1: unmapped */
    bool map_warned;
};

/* ---- guest memory ---- */

static void dma_copy(AddressSpace *as, uint32_t pa, uint8_t *buf, size_t n, bool to_memory)
{
    while (n) {
        size_t piece = PAGE - (pa & (PAGE - 1));
        if (piece > n)
            piece = n;
        MemRegion *r = as_find(as, pa);
        bool ram = r && r->host && pa - r->base + piece <= r->size;
        if (!to_memory) {
            if (ram)
                memcpy(buf, r->host + (pa - r->base), piece);
            else
                memset(buf, 0, piece);
        } else if (ram && !r->readonly) {
            as_copy_to(as, pa, buf, piece);
        }
        buf += piece;
        pa += (uint32_t)piece;       /* 32-bit addresses wrap */
        n -= piece;
    }
}

/* ---- bus master ---- */

static bool next_entry(BusMaster *bm)
{
    if (bm->eot || bm->entries >= PRD_MAX_ENTRIES)
        return false;
    uint8_t e[8];
    if (as_copy_from(&bm->s->m->as, bm->next, e, sizeof(e)) != MEM_OK) {
        bm->status |= BM_STAT_ERROR;
        bm->eot = true;
        return false;
    }
    bm->seg_addr = (uint32_t)(e[0] | e[1] << 8 | e[2] << 16 | (uint32_t)e[3] << 24) & ~1u;
    uint32_t count = (uint32_t)(e[4] | e[5] << 8) & 0xfffe;
    bm->seg_left = count ? count : 0x10000;
    bm->eot = (e[7] & 0x80) != 0;
    bm->next += 8;
    bm->entries++;
    return true;
}

static size_t bm_rw(void *opaque, uint8_t *buf, size_t len, bool to_memory)
{
    BusMaster *bm = opaque;
    size_t done = 0;
    while (done < len) {
        if (!bm->seg_left && !next_entry(bm))
            break;
        size_t n = bm->seg_left < len - done ? bm->seg_left : len - done;
        dma_copy(&bm->s->m->as, bm->seg_addr, buf + done, n, to_memory);
        bm->seg_addr += (uint32_t)n;
        bm->seg_left -= (uint32_t)n;
        done += n;
    }
    return done;
}

static void bm_end(void *opaque, bool short_table)
{
    BusMaster *bm = opaque;
    /* Active stays set when the table had more room than the command
     * moved (the driver then stops the engine itself). */
    if (short_table || (bm->eot && !bm->seg_left))
        bm->status &= (uint8_t)~BM_STAT_ACTIVE;
}

static void bm_irq(void *opaque)
{
    BusMaster *bm = opaque;
    bm->status |= BM_STAT_INTR;
}

static const IdeDmaOps bm_dma_ops = {
    .rw = bm_rw,
    .end = bm_end,
    .irq = bm_irq,
};

static void bm_write_cmd(BusMaster *bm, uint8_t v)
{
    uint8_t old = bm->cmd;
    bm->cmd = v & (BM_CMD_START | BM_CMD_READ);
    if ((v & BM_CMD_START) && !(old & BM_CMD_START)) {
        bm->status |= BM_STAT_ACTIVE;
        bm->next = bm->prd_ptr;
        bm->seg_left = 0;
        bm->eot = false;
        bm->entries = 0;
        ide_dma_start(bm->bus);
    } else if (!(v & BM_CMD_START) && (old & BM_CMD_START)) {
        bm->status &= (uint8_t)~BM_STAT_ACTIVE;
        ide_dma_stop(bm->bus);
    }
}

static uint8_t bm_read_byte(BusMaster *bm, unsigned off)
{
    switch (off) {
    case 0: return bm->cmd;
    case 2: return bm->status;
    case 4: case 5: case 6: case 7:
        return (uint8_t)(bm->prd_ptr >> (8 * (off - 4)));
    default: return 0;
    }
}

static void bm_write_byte(BusMaster *bm, unsigned off, uint8_t v)
{
    switch (off) {
    case 0:
        bm_write_cmd(bm, v);
        break;
    case 2:
        bm->status = (uint8_t)((bm->status & ~0x60 & ~(v & (BM_STAT_ERROR | BM_STAT_INTR))) |
                               (v & 0x60));
        break;
    case 4: case 5: case 6: case 7: {
        unsigned sh = 8 * (off - 4);
        bm->prd_ptr = (bm->prd_ptr & ~(0xffu << sh)) | (uint32_t)v << sh;
        bm->prd_ptr &= ~3u;
        break;
    }
    }
}

static uint64_t bm_io_read(void *opaque, uint64_t off, unsigned size)
{
    PiixIde *s = opaque;
    uint64_t v = 0;
    for (unsigned i = 0; i < size && off + i < PIIX_IDE_BM_SIZE; i++) {
        unsigned o = (unsigned)off + i;
        v |= (uint64_t)bm_read_byte(&s->bm[o / 8], o % 8) << (8 * i);
    }
    return v;
}

static void bm_io_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    PiixIde *s = opaque;
    for (unsigned i = 0; i < size && off + i < PIIX_IDE_BM_SIZE; i++) {
        unsigned o = (unsigned)off + i;
        bm_write_byte(&s->bm[o / 8], o % 8, (uint8_t)(val >> (8 * i)));
    }
}

static const MemOps bm_io_ops = {
    .name = "piix-ide-bm",
    .read = bm_io_read,
    .write = bm_io_write,
    .min_access = 1,
    .max_access = 4,
};

/* ---- PCI function ---- */

static void update_mapping(PiixIde *s)
{
    uint64_t a = pci_bar_address(s->pci, 4);
    int want = a == PCI_BAR_UNMAPPED ? -1 : (int)a;
    if (want == s->bm_base)
        return;
    if (s->bm_base >= 0) {
        as_remove(s->io, (uint64_t)s->bm_base);
        s->bm_base = -1;
    }
    if (want < 0)
        return;
    if (as_add_mmio(s->io, "piix-ide-bm", (uint64_t)want, PIIX_IDE_BM_SIZE, &bm_io_ops,
                    s) == 0) {
        s->bm_base = want;
        return;
    }
    if (!s->map_warned) {
        s->map_warned = true;
        fprintf(stderr, "tandem: piix-ide: cannot map the bus master registers at ports "
                "0x%x-0x%x: another device uses some of them; they stay unmapped until "
                "BAR4 moves\n", want, want + PIIX_IDE_BM_SIZE - 1);
    }
}

static void ide_pci_reset(PciDevice *d)
{
    pci_set_word(d, PCI_STATUS, PCI_STATUS_FAST_BACK | PCI_STATUS_DEVSEL_MEDIUM);
}

static void ide_pci_bars_changed(PciDevice *d)
{
    PiixIde *s = d->opaque;
    if (s->pci)                  /* NULL while pci_add_device runs */
        update_mapping(s);
}

static const PciDeviceInfo piix_ide_info = {
    .name = "piix3-ide",
    .vendor_id = 0x8086,
    .device_id = 0x7010,
    .class_code = 0x010180,      /* IDE, legacy mode, bus master capable */
    .subsystem_vendor_id = QEMU_SUBVENDOR,
    .subsystem_id = QEMU_SUBDEVICE,
    .reset = ide_pci_reset,
    .bars_changed = ide_pci_bars_changed,
};

/* ---- lifecycle ---- */

static void piix_ide_reset(void *dev)
{
    PiixIde *s = dev;
    for (int c = 0; c < 2; c++) {
        BusMaster *bm = &s->bm[c];
        bm->cmd = bm->status = 0;
        bm->prd_ptr = 0;
        bm->seg_left = 0;
        bm->eot = false;
    }
    update_mapping(s);
}

static void piix_ide_destroy(void *dev)
{
    PiixIde *s = dev;
    if (s->bm_base >= 0)
        as_remove(s->io, (uint64_t)s->bm_base);
    g_free(s);
}

/* ---- snapshots ---- */

#define SNAP_VERSION 1

/* The bus masters, with the PRD walk of a transfer in flight; the channels
 * (ide.c) save their own command state.  BMIBA is in the configuration
 * space the PCI bus loads first: the mapping is re-derived from it. */
static int piix_ide_save(void *dev, void *wp)
{
    PiixIde *s = dev;
    SnapWriter *w = wp;
    snap_put_u8(w, SNAP_VERSION);
    for (int c = 0; c < 2; c++) {
        const BusMaster *bm = &s->bm[c];
        snap_put_u8(w, bm->cmd);
        snap_put_u8(w, bm->status);
        snap_put_u32(w, bm->prd_ptr);
        snap_put_u32(w, bm->next);
        snap_put_u32(w, bm->seg_addr);
        snap_put_u64(w, bm->seg_left);
        snap_put_bool(w, bm->eot);
        snap_put_u64(w, bm->entries);
    }
    return 0;
}

static int piix_ide_load(void *dev, void *rp)
{
    PiixIde *s = dev;
    SnapReader *r = rp;
    if (!devsnap_version(r, SNAP_VERSION, "piix3-ide"))
        return -1;
    BusMaster bm[2] = { s->bm[0], s->bm[1] };
    for (int c = 0; c < 2; c++) {
        bm[c].cmd = (uint8_t)devsnap_check_mask(r, snap_get_u8(r), BM_CMD_START | BM_CMD_READ,
                                                "IDE bus master command");
        bm[c].status = snap_get_u8(r);
        bm[c].prd_ptr = (uint32_t)devsnap_check_mask(r, snap_get_u32(r), ~3u,
                                                     "IDE PRD table pointer");
        bm[c].next = snap_get_u32(r);
        bm[c].seg_addr = snap_get_u32(r);
        bm[c].seg_left = (uint32_t)snap_get_max(r, 0x10000, "IDE PRD segment length");
        bm[c].eot = snap_get_bool(r);
        bm[c].entries = (unsigned)snap_get_max(r, PRD_MAX_ENTRIES, "IDE PRD entries walked");
    }
    if (!snap_reader_ok(r))
        return -1;
    s->bm[0] = bm[0];
    s->bm[1] = bm[1];
    update_mapping(s);
    return 0;
}

static const DeviceOps piix_ide_device_ops = {
    .name = "piix3-ide",
    .reset = piix_ide_reset,
    .save = piix_ide_save,
    .load = piix_ide_load,
    .destroy = piix_ide_destroy,
};

PiixIde *piix_ide_create(Machine *m, PciBus *bus, int devfn, AddressSpace *io,
                         IrqLine irq14, IrqLine irq15, GError **err)
{
    static const uint16_t cmd_base[2] = { 0x1f0, 0x170 }, ctl[2] = { 0x3f6, 0x376 };
    static const char *const names[2] = { "ide.0", "ide.1" };
    IdeBus *b[2];
    for (int c = 0; c < 2; c++) {
        b[c] = ide_bus_create(m, io, names[c], cmd_base[c], ctl[c], c ? irq15 : irq14, err);
        if (!b[c])
            return NULL;     /* a created channel stays registered, like a device */
    }
    PiixIde *s = g_new0(PiixIde, 1);
    s->m = m;
    s->io = io;
    s->bm_base = -1;
    s->pci = pci_add_device(bus, devfn, &piix_ide_info, s);
    if (!s->pci) {
        tn_error(err, "piix3-ide: PCI function %02x.%x is taken or out of range",
                 PCI_SLOT(devfn), PCI_FUNC(devfn));
        g_free(s);
        return NULL;
    }
    pci_register_bar(s->pci, 4, PIIX_IDE_BM_SIZE, PCI_BAR_IO);
    for (int c = 0; c < 2; c++) {
        s->bm[c].s = s;
        s->bm[c].bus = b[c];
        ide_set_dma(b[c], &bm_dma_ops, &s->bm[c]);
    }
    piix_ide_reset(s);
    machine_add_device(m, &piix_ide_device_ops, s);
    return s;
}

IdeBus *piix_ide_bus(PiixIde *s, int channel)
{
    return s->bm[channel & 1].bus;
}

PciDevice *piix_ide_pci(PiixIde *s)
{
    return s->pci;
}

void piix_ide_firmware_setup(PiixIde *s, uint16_t bmiba)
{
    pci_config_write(s->pci, PIIX_IDE_IDETIM, PIIX_IDE_IDETIM_IDE, 2);
    pci_config_write(s->pci, PIIX_IDE_IDETIM + 2, PIIX_IDE_IDETIM_IDE, 2);
    pci_config_write(s->pci, PCI_BASE_ADDRESS_0 + 16, bmiba, 4);
    pci_config_write(s->pci, PCI_COMMAND,
                     pci_get_word(s->pci, PCI_COMMAND) | PCI_COMMAND_IO | PCI_COMMAND_MASTER,
                     2);
}
