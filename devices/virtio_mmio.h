/* virtio-mmio transport, version 2 (modern) register layout.  QEMU's RISC-V
 * virt board has 8 of them at 0x10001000 + 0x1000 * i, PLIC sources 1..8;
 * an empty one reads DeviceID 0 and drivers skip it. */
#ifndef TANDEM_VIRTIO_MMIO_H
#define TANDEM_VIRTIO_MMIO_H

#include <stdint.h>

#include "devices/virtio.h"
#include "vmm/device.h"

typedef struct Machine Machine;
typedef struct VirtioMmio VirtioMmio;

#define VIRTIO_MMIO_SIZE   0x1000
#define VIRTIO_MMIO_MAGIC  0x74726976   /* "virt" */
#define VIRTIO_MMIO_VENDOR 0x554d4551   /* "QEMU", as QEMU reports */

enum {
    VIRTIO_MMIO_MAGIC_VALUE         = 0x000,
    VIRTIO_MMIO_VERSION             = 0x004,
    VIRTIO_MMIO_DEVICE_ID           = 0x008,
    VIRTIO_MMIO_VENDOR_ID           = 0x00c,
    VIRTIO_MMIO_DEVICE_FEATURES     = 0x010,
    VIRTIO_MMIO_DEVICE_FEATURES_SEL = 0x014,
    VIRTIO_MMIO_DRIVER_FEATURES     = 0x020,
    VIRTIO_MMIO_DRIVER_FEATURES_SEL = 0x024,
    VIRTIO_MMIO_QUEUE_SEL           = 0x030,
    VIRTIO_MMIO_QUEUE_NUM_MAX       = 0x034,
    VIRTIO_MMIO_QUEUE_NUM           = 0x038,
    VIRTIO_MMIO_QUEUE_READY         = 0x044,
    VIRTIO_MMIO_QUEUE_NOTIFY        = 0x050,
    VIRTIO_MMIO_INTERRUPT_STATUS    = 0x060,
    VIRTIO_MMIO_INTERRUPT_ACK       = 0x064,
    VIRTIO_MMIO_STATUS              = 0x070,
    VIRTIO_MMIO_QUEUE_DESC_LOW      = 0x080,
    VIRTIO_MMIO_QUEUE_DESC_HIGH     = 0x084,
    VIRTIO_MMIO_QUEUE_DRIVER_LOW    = 0x090,
    VIRTIO_MMIO_QUEUE_DRIVER_HIGH   = 0x094,
    VIRTIO_MMIO_QUEUE_DEVICE_LOW    = 0x0a0,
    VIRTIO_MMIO_QUEUE_DEVICE_HIGH   = 0x0a4,
    VIRTIO_MMIO_CONFIG_GENERATION   = 0x0fc,
    VIRTIO_MMIO_CONFIG              = 0x100,
};

/* Maps an empty transport at base, interrupting on irq.  Returns NULL
 * (machine_set_error) on failure. */
VirtioMmio *virtio_mmio_create(Machine *m, uint64_t base, IrqLine irq);

/* Plugs a backend into an empty transport; returns the VirtioDevice the
 * backend drives its queues through, or NULL (machine_set_error) if the
 * slot is taken or ops are unusable.  The backend is reset through
 * ops->reset whenever the transport resets. */
VirtioDevice *virtio_mmio_plug(VirtioMmio *t, const VirtioDeviceOps *ops, void *backend);
/* The same as a slot for virtio_blk_create / virtio_net_create. */
VirtioSlot virtio_mmio_slot(VirtioMmio *t);

#endif
