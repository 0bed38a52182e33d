/* virtio-pci, modern transport (see virtio_pci.h for the layout).
 *
 * Every access to the BAR is checked here: the common configuration takes
 * each field at its own width (and the 64-bit ring addresses as one 8-byte
 * access too); other sizes, offsets between or past the fields, and the
 * gaps between the structures read 0 and ignore writes.  Selectors take any
 * value and are checked where they are used.  The PCI_CFG window in
 * configuration space reaches the BAR through the same bar_read/bar_write.
 *
 * Nothing touches guest memory while the command register's bus master bit
 * is clear (the core's dma_allowed hook): a kick then only marks its queue
 * pending, and setting the bit runs the pending kicks in queue order. */
#include "devices/virtio_pci.h"

#include <string.h>

#include "checkpoint/snap.h"
#include "devices/devsnap.h"
#include "vmm/error.h"
#include "vmm/machine.h"

struct VirtioPci {
    Machine *m;
    PciDevice *pci;          /* NULL while pci_add_device runs */
    PciDeviceInfo info;      /* per function: the IDs come from the type */
    PciBarMap bar;
    uint32_t type;
    VirtioDevice vdev;
    uint32_t dfselect, gfselect;
    uint16_t queue_select;
    uint16_t pending;        /* queues kicked while bus mastering was off */
};

static bool bus_master(const VirtioPci *t)
{
    return t->pci && (pci_get_word(t->pci, PCI_COMMAND) & PCI_COMMAND_MASTER);
}

static bool pci_dma_allowed(void *opaque)
{
    return bus_master(opaque);
}

static void pci_update_irq(void *opaque)
{
    VirtioPci *t = opaque;
    if (t->pci)
        pci_set_irq(t->pci, t->vdev.isr != 0);
}

static VirtQueue *selected_queue(VirtioPci *t)
{
    const VirtioDeviceOps *ops = t->vdev.ops;
    if (!ops || t->queue_select >= (unsigned)ops->num_queues)
        return NULL;
    return &t->vdev.vq[t->queue_select];
}

/* Device reset: the core's, then the transport's defaults (queue_size
 * reads the maximum until the driver writes a smaller one). */
static void transport_reset(VirtioPci *t)
{
    virtio_reset(&t->vdev);
    t->dfselect = t->gfselect = 0;
    t->queue_select = 0;
    t->pending = 0;
    const VirtioDeviceOps *ops = t->vdev.ops;
    for (int i = 0; ops && i < ops->num_queues; i++)
        t->vdev.vq[i].num = ops->queue_max;
}

static uint64_t set_half(uint64_t old, bool high, uint32_t val)
{
    if (high)
        return (old & 0xffffffffull) | ((uint64_t)val << 32);
    return (old & ~0xffffffffull) | val;
}

/* The width of the common configuration field at off, 0 if none starts
 * there. */
static unsigned common_width(uint64_t off)
{
    switch (off) {
    case VIRTIO_PCI_COMMON_STATUS:
    case VIRTIO_PCI_COMMON_CFGGENERATION:
        return 1;
    case VIRTIO_PCI_COMMON_MSIX:
    case VIRTIO_PCI_COMMON_NUMQ:
    case VIRTIO_PCI_COMMON_Q_SELECT:
    case VIRTIO_PCI_COMMON_Q_SIZE:
    case VIRTIO_PCI_COMMON_Q_MSIX:
    case VIRTIO_PCI_COMMON_Q_ENABLE:
    case VIRTIO_PCI_COMMON_Q_NOFF:
        return 2;
    case VIRTIO_PCI_COMMON_DFSELECT:
    case VIRTIO_PCI_COMMON_DF:
    case VIRTIO_PCI_COMMON_GFSELECT:
    case VIRTIO_PCI_COMMON_GF:
    case VIRTIO_PCI_COMMON_Q_DESCLO:
    case VIRTIO_PCI_COMMON_Q_DESCHI:
    case VIRTIO_PCI_COMMON_Q_AVAILLO:
    case VIRTIO_PCI_COMMON_Q_AVAILHI:
    case VIRTIO_PCI_COMMON_Q_USEDLO:
    case VIRTIO_PCI_COMMON_Q_USEDHI:
        return 4;
    default:
        return 0;
    }
}

static bool is_ring_addr(uint64_t off)
{
    return off == VIRTIO_PCI_COMMON_Q_DESCLO || off == VIRTIO_PCI_COMMON_Q_AVAILLO ||
           off == VIRTIO_PCI_COMMON_Q_USEDLO;
}

static uint64_t *ring_field(VirtQueue *vq, uint64_t off)
{
    switch (off & ~7ull) {
    case VIRTIO_PCI_COMMON_Q_DESCLO:
        return &vq->desc;
    case VIRTIO_PCI_COMMON_Q_AVAILLO:
        return &vq->avail;
    default:
        return &vq->used;
    }
}

static uint64_t common_read(VirtioPci *t, uint64_t off, unsigned size)
{
    VirtioDevice *vdev = &t->vdev;
    VirtQueue *vq = selected_queue(t);
    if (size == 8 && is_ring_addr(off))
        return vq ? *ring_field(vq, off) : 0;
    if (size != common_width(off))
        return 0;
    switch (off) {
    case VIRTIO_PCI_COMMON_DFSELECT:
        return t->dfselect;
    case VIRTIO_PCI_COMMON_DF:
        if (t->dfselect > 1)
            return 0;
        return (uint32_t)(virtio_device_features(vdev) >> (32 * t->dfselect));
    case VIRTIO_PCI_COMMON_GFSELECT:
        return t->gfselect;
    case VIRTIO_PCI_COMMON_GF:
        if (t->gfselect > 1)
            return 0;
        return (uint32_t)(vdev->driver_features >> (32 * t->gfselect));
    case VIRTIO_PCI_COMMON_MSIX:
    case VIRTIO_PCI_COMMON_Q_MSIX:
        return VIRTIO_MSI_NO_VECTOR;
    case VIRTIO_PCI_COMMON_NUMQ:
        return vdev->ops ? (unsigned)vdev->ops->num_queues : 0;
    case VIRTIO_PCI_COMMON_STATUS:
        return vdev->status;
    case VIRTIO_PCI_COMMON_CFGGENERATION:
        return (uint8_t)vdev->config_generation;
    case VIRTIO_PCI_COMMON_Q_SELECT:
        return t->queue_select;
    case VIRTIO_PCI_COMMON_Q_SIZE:
        return vq ? vq->num : 0;
    case VIRTIO_PCI_COMMON_Q_ENABLE:
        return vq ? vq->ready : 0;
    case VIRTIO_PCI_COMMON_Q_NOFF:
        return vq ? vq->index : 0;
    default:                 /* the ring address halves */
        if (!vq)
            return 0;
        return (uint32_t)(*ring_field(vq, off) >> (off & 4 ? 32 : 0));
    }
}

/* Queue fields; the layout of an enabled queue is fixed until reset. */
static void queue_write(VirtioPci *t, uint64_t off, uint64_t val, unsigned size)
{
    VirtQueue *vq = selected_queue(t);
    if (!vq)
        return;
    if (off == VIRTIO_PCI_COMMON_Q_ENABLE) {
        /* Writing 0 is not the driver's to do (virtio 1.x 4.1.4.3.2). */
        if (val == 1 && vq->num)
            vq->ready = true;
        return;
    }
    if (vq->ready)
        return;
    if (off == VIRTIO_PCI_COMMON_Q_SIZE) {
        if (val >= 1 && val <= t->vdev.ops->queue_max)
            vq->num = (uint16_t)val;
        return;
    }
    uint64_t *f = ring_field(vq, off);
    *f = size == 8 ? val : set_half(*f, off & 4, (uint32_t)val);
}

static void common_write(VirtioPci *t, uint64_t off, uint64_t val, unsigned size)
{
    VirtioDevice *vdev = &t->vdev;
    if (size == 8 && is_ring_addr(off)) {
        queue_write(t, off, val, 8);
        return;
    }
    if (size != common_width(off))
        return;
    switch (off) {
    case VIRTIO_PCI_COMMON_DFSELECT:
        t->dfselect = (uint32_t)val;
        break;
    case VIRTIO_PCI_COMMON_GFSELECT:
        t->gfselect = (uint32_t)val;
        break;
    case VIRTIO_PCI_COMMON_GF:
        if (t->gfselect <= 1 && !(vdev->status & VIRTIO_STATUS_FEATURES_OK))
            vdev->driver_features = set_half(vdev->driver_features, t->gfselect,
                                             (uint32_t)val);
        break;
    case VIRTIO_PCI_COMMON_STATUS:
        if (val == 0)
            transport_reset(t);
        else
            virtio_set_status(vdev, (uint8_t)val);
        break;
    case VIRTIO_PCI_COMMON_Q_SELECT:
        t->queue_select = (uint16_t)val;
        break;
    case VIRTIO_PCI_COMMON_Q_SIZE:
    case VIRTIO_PCI_COMMON_Q_ENABLE:
    case VIRTIO_PCI_COMMON_Q_DESCLO:
    case VIRTIO_PCI_COMMON_Q_DESCHI:
    case VIRTIO_PCI_COMMON_Q_AVAILLO:
    case VIRTIO_PCI_COMMON_Q_AVAILHI:
    case VIRTIO_PCI_COMMON_Q_USEDLO:
    case VIRTIO_PCI_COMMON_Q_USEDHI:
        queue_write(t, off, val, size);
        break;
    default:                 /* read-only fields, MSI-X vectors (no MSI-X) */
        break;
    }
}

static uint64_t bar_read(void *opaque, uint64_t addr, unsigned size)
{
    VirtioPci *t = opaque;
    VirtioDevice *vdev = &t->vdev;
    const VirtioDeviceOps *ops = vdev->ops;
    uint64_t region = addr & ~(uint64_t)(VIRTIO_PCI_REGION_SIZE - 1);
    uint64_t off = addr - region;
    if (!ops)
        return 0;
    switch (region) {
    case VIRTIO_PCI_COMMON_OFF:
        return common_read(t, off, size);
    case VIRTIO_PCI_ISR_OFF:
        if (off == 0) {
            uint32_t isr = vdev->isr;
            virtio_ack_isr(vdev, isr);
            return isr & 0xff;
        }
        return 0;
    case VIRTIO_PCI_DEVICE_OFF:
        if (!ops->config_read || size > 4 || off + size > ops->config_size)
            return 0;
        return ops->config_read(vdev->backend, (uint32_t)off, size);
    default:                 /* notifications are write-only */
        return 0;
    }
}

static void bar_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    VirtioPci *t = opaque;
    VirtioDevice *vdev = &t->vdev;
    const VirtioDeviceOps *ops = vdev->ops;
    uint64_t region = addr & ~(uint64_t)(VIRTIO_PCI_REGION_SIZE - 1);
    uint64_t off = addr - region;
    if (!ops)
        return;
    switch (region) {
    case VIRTIO_PCI_COMMON_OFF:
        common_write(t, off, val, size);
        break;
    case VIRTIO_PCI_DEVICE_OFF:
        if (ops->config_write && size <= 4 && off + size <= ops->config_size)
            ops->config_write(vdev->backend, (uint32_t)off, val, size);
        break;
    case VIRTIO_PCI_NOTIFY_OFF: {
        /* The address names the queue; the value (its index, without
         * NOTIFICATION_DATA) adds nothing. */
        uint64_t q = off / VIRTIO_PCI_NOTIFY_MULT;
        if (q >= (uint64_t)ops->num_queues || !vdev->vq[q].ready)
            break;
        if (bus_master(t))
            ops->queue_notify(vdev->backend, &vdev->vq[q]);
        else
            t->pending |= (uint16_t)(1u << q);
        break;
    }
    default:                 /* ISR is read-only */
        break;
    }
}

static const MemOps virtio_pci_bar_ops = {
    .name = "virtio-pci",
    .read = bar_read,
    .write = bar_write,
    .min_access = 1,
    .max_access = 8,
};

/* The kicks that waited for bus mastering, once it is on. */
static void run_pending(VirtioPci *t)
{
    const VirtioDeviceOps *ops = t->vdev.ops;
    for (int q = 0; ops && q < ops->num_queues && t->pending && bus_master(t); q++) {
        if (!(t->pending & (1u << q)))
            continue;
        t->pending &= (uint16_t)~(1u << q);
        if (t->vdev.vq[q].ready)
            ops->queue_notify(t->vdev.backend, &t->vdev.vq[q]);
    }
}

/* ---- PCI configuration space ---- */

static bool ranges_overlap(unsigned a, unsigned alen, unsigned b, unsigned blen)
{
    return a < b + blen && b < a + alen;
}

/* Where the PCI_CFG window points: false unless cap.bar is our BAR,
 * cap.length 1, 2 or 4, and cap.offset a multiple of it inside the BAR.
 * What lies there is bar_read/bar_write's to check. */
static bool window(const PciDevice *d, uint64_t *off, unsigned *len)
{
    uint32_t o = pci_get_long(d, VIRTIO_PCI_CFG_CAP + VIRTIO_PCI_CAP_OFFSET);
    uint32_t l = pci_get_long(d, VIRTIO_PCI_CFG_CAP + VIRTIO_PCI_CAP_LENGTH);
    if (pci_get_byte(d, VIRTIO_PCI_CFG_CAP + VIRTIO_PCI_CAP_BAR) != VIRTIO_PCI_BAR ||
        (l != 1 && l != 2 && l != 4) || o % l || (uint64_t)o + l > VIRTIO_PCI_BAR_SIZE)
        return false;
    *off = o;
    *len = l;
    return true;
}

/* A guest read of pci_cfg_data reads the BAR and stores the first
 * cap.length bytes there; through an unusable window all four read 0. */
static void virtio_pci_config_read(PciDevice *d, unsigned off, unsigned size)
{
    if (!ranges_overlap(off, size, VIRTIO_PCI_CFG_DATA, 4))
        return;
    uint64_t boff;
    unsigned len;
    if (!window(d, &boff, &len)) {
        pci_set_long(d, VIRTIO_PCI_CFG_DATA, 0);
        return;
    }
    uint64_t v = bar_read(d->opaque, boff, len);
    for (unsigned i = 0; i < len; i++)
        pci_set_byte(d, VIRTIO_PCI_CFG_DATA + i, (uint8_t)(v >> (8 * i)));
}

/* A guest write of pci_cfg_data (any part of it) writes its first
 * cap.length bytes to the BAR; setting the bus master bit runs the kicks
 * that waited for it. */
static void virtio_pci_config_write(PciDevice *d, unsigned off, unsigned size, uint32_t old)
{
    VirtioPci *t = d->opaque;
    if (ranges_overlap(off, size, VIRTIO_PCI_CFG_DATA, 4)) {
        uint64_t boff;
        unsigned len;
        if (window(d, &boff, &len))
            bar_write(t, boff, pci_get_long(d, VIRTIO_PCI_CFG_DATA) & (0xffffffffu >> (32 - 8 * len)),
                      len);
    }
    if (ranges_overlap(off, size, PCI_COMMAND, 2))
        run_pending(t);
}

static void put_cap(PciDevice *d, unsigned at, unsigned next, uint8_t cfg_type,
                    uint32_t offset, uint32_t length, unsigned cap_len)
{
    pci_set_byte(d, at, PCI_CAP_ID_VNDR);
    pci_set_byte(d, at + 1, (uint8_t)next);
    pci_set_byte(d, at + 2, (uint8_t)cap_len);
    pci_set_byte(d, at + 3, cfg_type);
    pci_set_byte(d, at + 4, VIRTIO_PCI_BAR);
    pci_set_long(d, at + 8, offset);
    pci_set_long(d, at + 12, length);
}

/* The capability list, read-only but for the PCI_CFG window's bar,
 * offset, length and data: common (0x40), notify (0x50, 20 bytes with
 * notify_off_multiplier), ISR (0x64), device (0x74), PCI_CFG (0x84, 20
 * bytes with pci_cfg_data; the window starts closed, bar 0 length 0). */
static void virtio_pci_config_reset(PciDevice *d)
{
    VirtioPci *t = d->opaque;
    const VirtioDeviceOps *ops = t->vdev.ops;
    uint32_t nq = ops ? (uint32_t)ops->num_queues : 1;
    uint32_t cfg = ops && ops->config_size ? ops->config_size : 4;
    memset(d->wmask + PCI_CONFIG_HEADER_SIZE, 0, PCI_CONFIG_SPACE_SIZE - PCI_CONFIG_HEADER_SIZE);
    pci_set_word(d, PCI_STATUS, pci_get_word(d, PCI_STATUS) | PCI_STATUS_CAP_LIST);
    pci_set_byte(d, PCI_CAPABILITY_LIST, VIRTIO_PCI_CAP_FIRST);
    put_cap(d, 0x40, 0x50, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFF,
            VIRTIO_PCI_COMMON_LEN, 16);
    put_cap(d, 0x50, 0x64, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFF,
            nq * VIRTIO_PCI_NOTIFY_MULT, 20);
    pci_set_long(d, 0x50 + 16, VIRTIO_PCI_NOTIFY_MULT);
    put_cap(d, 0x64, 0x74, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF, 1, 16);
    put_cap(d, 0x74, VIRTIO_PCI_CFG_CAP, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_OFF,
            cfg, 16);
    put_cap(d, VIRTIO_PCI_CFG_CAP, 0, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, 20);
    pci_set_byte(d, VIRTIO_PCI_CFG_CAP + VIRTIO_PCI_CAP_BAR, 0);
    pci_set_long(d, VIRTIO_PCI_CFG_DATA, 0);
    d->wmask[VIRTIO_PCI_CFG_CAP + VIRTIO_PCI_CAP_BAR] = 0xff;
    memset(d->wmask + VIRTIO_PCI_CFG_CAP + VIRTIO_PCI_CAP_OFFSET, 0xff, 12);
}

static void virtio_pci_bars_changed(PciDevice *d)
{
    VirtioPci *t = d->opaque;
    if (t->pci)
        pci_bar_map_update(d, &t->bar);
}

/* ---- lifecycle and snapshots ---- */

static void virtio_pci_reset(void *dev)
{
    transport_reset(dev);
}

static void virtio_pci_destroy(void *dev)
{
    VirtioPci *t = dev;
    pci_bar_map_remove(&t->bar);
    g_free(t);
}

/* 2: the pending kicks. */
#define SNAP_VERSION 2

/* The selectors, the kicks waiting for bus mastering, and the device; the
 * configuration space (BAR, command, INTx state, the PCI_CFG window's
 * registers and data) is the PCI bus's, loaded before, and the mapping is
 * re-derived from it. */
static int virtio_pci_save(void *dev, void *wp)
{
    VirtioPci *t = dev;
    SnapWriter *w = wp;
    snap_put_u8(w, SNAP_VERSION);
    snap_put_u32(w, t->dfselect);
    snap_put_u32(w, t->gfselect);
    snap_put_u16(w, t->queue_select);
    snap_put_u16(w, t->pending);
    virtio_save(&t->vdev, w);
    return 0;
}

static int virtio_pci_load(void *dev, void *rp)
{
    VirtioPci *t = dev;
    SnapReader *r = rp;
    if (!devsnap_version(r, SNAP_VERSION, "virtio-pci"))
        return -1;
    uint32_t dsel = snap_get_u32(r), gsel = snap_get_u32(r);
    uint16_t qsel = snap_get_u16(r);
    unsigned nq = t->vdev.ops ? (unsigned)t->vdev.ops->num_queues : 0;
    uint16_t pending = (uint16_t)devsnap_check_mask(r, snap_get_u16(r), (1u << nq) - 1,
                                                    "virtio-pci pending kicks");
    if (!snap_reader_ok(r) || !virtio_load(&t->vdev, r))
        return -1;
    t->dfselect = dsel;
    t->gfselect = gsel;
    t->queue_select = qsel;
    t->pending = pending;
    pci_bar_map_update(t->pci, &t->bar);
    return 0;
}

static const DeviceOps virtio_pci_device_ops = {
    .name = "virtio-pci",
    .reset = virtio_pci_reset,
    .save = virtio_pci_save,
    .load = virtio_pci_load,
    .destroy = virtio_pci_destroy,
};

static uint32_t class_for(uint32_t type)
{
    switch (type) {
    case 1:
        return 0x020000;     /* Ethernet controller */
    case 2:
        return 0x010000;     /* SCSI storage controller, as QEMU */
    default:
        return 0xff0000;     /* unclassified */
    }
}

VirtioPci *virtio_pci_create(Machine *m, PciBus *bus, int devfn, AddressSpace *as,
                             uint32_t type, GError **err)
{
    if (type < 1 || type > 0x3f) {
        tn_error(err, "virtio-pci: no modern PCI device ID for virtio device type %u", type);
        return NULL;
    }
    VirtioPci *t = g_new0(VirtioPci, 1);
    t->m = m;
    t->type = type;
    t->info = (PciDeviceInfo){
        .name = "virtio-pci",
        .vendor_id = VIRTIO_PCI_VENDOR,
        .device_id = (uint16_t)(VIRTIO_PCI_DEVICE_BASE + type),
        .class_code = class_for(type),
        .revision = VIRTIO_PCI_REVISION,
        .subsystem_vendor_id = VIRTIO_PCI_VENDOR,
        .subsystem_id = VIRTIO_PCI_SUBSYSTEM,
        .interrupt_pin = 1,
        .reset = virtio_pci_config_reset,
        .config_read = virtio_pci_config_read,
        .config_write = virtio_pci_config_write,
        .bars_changed = virtio_pci_bars_changed,
    };
    virtio_init(&t->vdev, as, pci_update_irq, t);
    t->vdev.dma_allowed = pci_dma_allowed;
    pci_bar_map_init(&t->bar, VIRTIO_PCI_BAR, as, "virtio-pci", VIRTIO_PCI_BAR_SIZE,
                     &virtio_pci_bar_ops, t);
    PciDevice *d = pci_add_device(bus, devfn, &t->info, t);
    if (!d) {
        tn_error(err, "virtio-pci: PCI slot %02x.%x is taken or out of range",
                 PCI_SLOT(devfn), PCI_FUNC(devfn));
        g_free(t);
        return NULL;
    }
    pci_register_bar(d, VIRTIO_PCI_BAR, VIRTIO_PCI_BAR_SIZE, PCI_BAR_MEM64 | PCI_BAR_PREFETCH);
    t->pci = d;
    machine_add_device(m, &virtio_pci_device_ops, t);
    return t;
}

VirtioDevice *virtio_pci_plug(VirtioPci *t, const VirtioDeviceOps *ops, void *backend)
{
    if (t->vdev.ops) {
        machine_set_error(t->m, "virtio-pci: function already holds %s",
                          t->vdev.ops->name ? t->vdev.ops->name : "a device");
        return NULL;
    }
    if (ops && ops->device_id != t->type) {
        machine_set_error(t->m, "virtio-pci: %s is virtio device type %u, this function "
                          "is for type %u", ops->name ? ops->name : "the device",
                          ops->device_id, t->type);
        return NULL;
    }
    if (virtio_plug(&t->vdev, ops, backend) < 0) {
        machine_set_error(t->m, "virtio-pci: unusable device ops for %s",
                          ops && ops->name ? ops->name : "a device");
        return NULL;
    }
    transport_reset(t);
    /* The capabilities describe the backend's queues and config size. */
    virtio_pci_config_reset(t->pci);
    return &t->vdev;
}

static VirtioDevice *slot_plug(void *transport, const VirtioDeviceOps *ops, void *backend)
{
    return virtio_pci_plug(transport, ops, backend);
}

VirtioSlot virtio_pci_slot(VirtioPci *t)
{
    return (VirtioSlot){ .plug = slot_plug, .transport = t };
}

PciDevice *virtio_pci_device(VirtioPci *t)
{
    return t->pci;
}
