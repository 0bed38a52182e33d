/* virtio-mmio transport (virtio 1.x, "version 2").
 *
 * Registers below 0x100 are 32 bits wide: other sizes read 0 and are
 * ignored, as is everything but MagicValue, Version and VendorID while no
 * backend is plugged.  The config space at 0x100 takes 1-, 2- and 4-byte
 * accesses within the backend's config_size. */
#include "devices/virtio_mmio.h"

#include <glib.h>

#include "checkpoint/snap.h"
#include "devices/devsnap.h"
#include "vmm/machine.h"
#include "vmm/memory.h"

struct VirtioMmio {
    Machine *m;
    IrqLine irq;
    int irq_level;
    VirtioDevice vdev;
    uint32_t dev_features_sel, drv_features_sel, queue_sel;
};

static void mmio_update_irq(void *opaque)
{
    VirtioMmio *t = opaque;
    int level = t->vdev.isr != 0;
    if (level != t->irq_level) {
        t->irq_level = level;
        irq_set(&t->irq, level);
    }
}

static VirtQueue *selected_queue(VirtioMmio *t)
{
    const VirtioDeviceOps *ops = t->vdev.ops;
    if (!ops || t->queue_sel >= (uint32_t)ops->num_queues)
        return NULL;
    return &t->vdev.vq[t->queue_sel];
}

static uint64_t set_half(uint64_t old, bool high, uint32_t val)
{
    if (high)
        return (old & 0xffffffffull) | ((uint64_t)val << 32);
    return (old & ~0xffffffffull) | val;
}

static uint64_t config_read(VirtioMmio *t, uint64_t off, unsigned size)
{
    const VirtioDeviceOps *ops = t->vdev.ops;
    if (!ops || !ops->config_read || size > 4 || off + size > ops->config_size)
        return 0;
    return ops->config_read(t->vdev.backend, (uint32_t)off, size);
}

static void config_write(VirtioMmio *t, uint64_t off, uint64_t val, unsigned size)
{
    const VirtioDeviceOps *ops = t->vdev.ops;
    if (!ops || !ops->config_write || size > 4 || off + size > ops->config_size)
        return;
    ops->config_write(t->vdev.backend, (uint32_t)off, val, size);
}

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
    VirtioMmio *t = opaque;
    VirtioDevice *vdev = &t->vdev;

    if (off >= VIRTIO_MMIO_CONFIG)
        return config_read(t, off - VIRTIO_MMIO_CONFIG, size);
    if (size != 4)
        return 0;
    switch (off) {
    case VIRTIO_MMIO_MAGIC_VALUE:
        return VIRTIO_MMIO_MAGIC;
    case VIRTIO_MMIO_VERSION:
        return 2;
    case VIRTIO_MMIO_VENDOR_ID:
        return VIRTIO_MMIO_VENDOR;
    default:
        break;
    }
    if (!vdev->ops)
        return 0;

    VirtQueue *vq = selected_queue(t);
    switch (off) {
    case VIRTIO_MMIO_DEVICE_ID:
        return vdev->ops->device_id;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        if (t->dev_features_sel > 1)
            return 0;
        return (uint32_t)(virtio_device_features(vdev) >> (32 * t->dev_features_sel));
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
        return vq ? vdev->ops->queue_max : 0;
    case VIRTIO_MMIO_QUEUE_NUM:
        return vq ? vq->num : 0;
    case VIRTIO_MMIO_QUEUE_READY:
        return vq ? vq->ready : 0;
    case VIRTIO_MMIO_INTERRUPT_STATUS:
        return vdev->isr;
    case VIRTIO_MMIO_STATUS:
        return vdev->status;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
        return vq ? (uint32_t)vq->desc : 0;
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
        return vq ? (uint32_t)(vq->desc >> 32) : 0;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
        return vq ? (uint32_t)vq->avail : 0;
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
        return vq ? (uint32_t)(vq->avail >> 32) : 0;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
        return vq ? (uint32_t)vq->used : 0;
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        return vq ? (uint32_t)(vq->used >> 32) : 0;
    case VIRTIO_MMIO_CONFIG_GENERATION:
        return vdev->config_generation;
    default:
        return 0;
    }
}

/* Queue layout registers; changes to a live queue are ignored. */
static void queue_write(VirtioMmio *t, uint64_t off, uint32_t val)
{
    VirtQueue *vq = selected_queue(t);
    if (!vq)
        return;
    if (off == VIRTIO_MMIO_QUEUE_READY) {
        vq->ready = (val & 1) && vq->num;
        return;
    }
    if (vq->ready)
        return;
    switch (off) {
    case VIRTIO_MMIO_QUEUE_NUM:
        if (val >= 1 && val <= t->vdev.ops->queue_max)
            vq->num = (uint16_t)val;
        break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
        vq->desc = set_half(vq->desc, off & 4, val);
        break;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
        vq->avail = set_half(vq->avail, off & 4, val);
        break;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        vq->used = set_half(vq->used, off & 4, val);
        break;
    default:
        break;
    }
}

static void mmio_write(void *opaque, uint64_t off, uint64_t val64, unsigned size)
{
    VirtioMmio *t = opaque;
    VirtioDevice *vdev = &t->vdev;
    uint32_t val = (uint32_t)val64;

    if (off >= VIRTIO_MMIO_CONFIG) {
        config_write(t, off - VIRTIO_MMIO_CONFIG, val64, size);
        return;
    }
    if (size != 4 || !vdev->ops)
        return;
    switch (off) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        t->dev_features_sel = val;
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        if (t->drv_features_sel <= 1 && !(vdev->status & VIRTIO_STATUS_FEATURES_OK))
            vdev->driver_features = set_half(vdev->driver_features,
                                             t->drv_features_sel, val);
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        t->drv_features_sel = val;
        break;
    case VIRTIO_MMIO_QUEUE_SEL:
        t->queue_sel = val;
        break;
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        if (val < (uint32_t)vdev->ops->num_queues && vdev->vq[val].ready)
            vdev->ops->queue_notify(vdev->backend, &vdev->vq[val]);
        break;
    case VIRTIO_MMIO_INTERRUPT_ACK:
        virtio_ack_isr(vdev, val);
        break;
    case VIRTIO_MMIO_STATUS:
        if (val == 0) {
            virtio_reset(vdev);
            t->dev_features_sel = t->drv_features_sel = t->queue_sel = 0;
        } else {
            virtio_set_status(vdev, (uint8_t)val);
        }
        break;
    case VIRTIO_MMIO_QUEUE_NUM:
    case VIRTIO_MMIO_QUEUE_READY:
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        queue_write(t, off, val);
        break;
    default:
        break;
    }
}

static const MemOps virtio_mmio_mem_ops = {
    .name = "virtio_mmio",
    .read = mmio_read,
    .write = mmio_write,
    .min_access = 1,
    .max_access = 4,
};

static void virtio_mmio_reset(void *dev)
{
    VirtioMmio *t = dev;
    t->dev_features_sel = t->drv_features_sel = t->queue_sel = 0;
    virtio_reset(&t->vdev);
}

static void virtio_mmio_destroy(void *dev)
{
    g_free(dev);
}

#define SNAP_VERSION 1

static int virtio_mmio_save(void *dev, void *wp)
{
    VirtioMmio *t = dev;
    SnapWriter *w = wp;
    snap_put_u8(w, SNAP_VERSION);
    snap_put_bool(w, t->irq_level);
    snap_put_u32(w, t->dev_features_sel);
    snap_put_u32(w, t->drv_features_sel);
    snap_put_u32(w, t->queue_sel);
    virtio_save(&t->vdev, w);
    return 0;
}

/* The selectors are checked where they are used (selected_queue), so any
 * value is safe to take. */
static int virtio_mmio_load(void *dev, void *rp)
{
    VirtioMmio *t = dev;
    SnapReader *r = rp;
    if (!devsnap_version(r, SNAP_VERSION, "virtio_mmio"))
        return -1;
    int irq_level = snap_get_bool(r);
    uint32_t dsel = snap_get_u32(r), drsel = snap_get_u32(r), qsel = snap_get_u32(r);
    if (!snap_reader_ok(r) || !virtio_load(&t->vdev, r))
        return -1;
    t->irq_level = irq_level;
    t->dev_features_sel = dsel;
    t->drv_features_sel = drsel;
    t->queue_sel = qsel;
    return 0;
}

static const DeviceOps virtio_mmio_device_ops = {
    .name = "virtio_mmio",
    .reset = virtio_mmio_reset,
    .save = virtio_mmio_save,
    .load = virtio_mmio_load,
    .destroy = virtio_mmio_destroy,
};

VirtioMmio *virtio_mmio_create(Machine *m, uint64_t base, IrqLine irq)
{
    VirtioMmio *t = g_new0(VirtioMmio, 1);
    t->m = m;
    t->irq = irq;
    virtio_init(&t->vdev, &m->as, mmio_update_irq, t);
    int err = as_add_mmio(&m->as, "virtio_mmio", base, VIRTIO_MMIO_SIZE,
                          &virtio_mmio_mem_ops, t);
    if (err) {
        machine_set_error(m, "virtio_mmio: cannot map at 0x%" G_GINT64_MODIFIER "x: %s",
                          base, g_strerror(-err));
        g_free(t);
        return NULL;
    }
    machine_add_device(m, &virtio_mmio_device_ops, t);
    return t;
}

VirtioDevice *virtio_mmio_plug(VirtioMmio *t, const VirtioDeviceOps *ops, void *backend)
{
    if (t->vdev.ops) {
        machine_set_error(t->m, "virtio_mmio: slot already holds %s",
                          t->vdev.ops->name ? t->vdev.ops->name : "a device");
        return NULL;
    }
    if (virtio_plug(&t->vdev, ops, backend) < 0) {
        machine_set_error(t->m, "virtio_mmio: unusable device ops for %s",
                          ops && ops->name ? ops->name : "a device");
        return NULL;
    }
    return &t->vdev;
}

static VirtioDevice *slot_plug(void *transport, const VirtioDeviceOps *ops, void *backend)
{
    return virtio_mmio_plug(transport, ops, backend);
}

VirtioSlot virtio_mmio_slot(VirtioMmio *t)
{
    return (VirtioSlot){ .plug = slot_plug, .transport = t };
}
