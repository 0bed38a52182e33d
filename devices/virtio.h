/* Virtio device core, independent of the transport: the backend interface
 * (virtio-blk, virtio-net, ... implement VirtioDeviceOps), device status and
 * feature negotiation, and split-virtqueue helpers that walk descriptor
 * chains in guest RAM with every index and address checked. */
#ifndef TANDEM_VIRTIO_H
#define TANDEM_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/memory.h"

#define VIRTIO_MAX_QUEUES 16
#define VIRTQ_MAX_SIZE    1024      /* queue size and indirect-table limit */

/* Device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE        0x01
#define VIRTIO_STATUS_DRIVER             0x02
#define VIRTIO_STATUS_DRIVER_OK          0x04
#define VIRTIO_STATUS_FEATURES_OK        0x08
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED             0x80

/* Transport-level feature bits. */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_VERSION_1     32

/* Interrupt status bits. */
#define VIRTIO_ISR_QUEUE  0x1
#define VIRTIO_ISR_CONFIG 0x2

/* Descriptor flags. */
#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

typedef struct VirtioDevice VirtioDevice;
typedef struct VirtQueue VirtQueue;

/* What a device type (the backend) provides.  The transport offers
 * features() | VIRTIO_F_VERSION_1.  Config offsets are checked against
 * config_size before the callbacks are called. */
typedef struct VirtioDeviceOps {
    const char *name;
    uint32_t device_id;             /* virtio spec device type, never 0 */
    int num_queues;                 /* 1..VIRTIO_MAX_QUEUES */
    uint16_t queue_max;             /* QueueNumMax, 1..VIRTQ_MAX_SIZE */
    uint32_t config_size;
    uint64_t (*features)(void *be);
    /* Optional: false refuses the negotiated set (FEATURES_OK stays clear). */
    bool (*set_features)(void *be, uint64_t features);
    uint64_t (*config_read)(void *be, uint32_t off, unsigned size);
    void (*config_write)(void *be, uint32_t off, uint64_t val, unsigned size);
    /* The driver kicked vq: pop, process, push, notify. */
    void (*queue_notify)(void *be, VirtQueue *vq);
    /* Device reset (status 0 or machine reset): drop in-flight work. */
    void (*reset)(void *be);
    /* Snapshots (optional: NULL for a backend whose state is all in the
     * queues and guest RAM).  save appends the backend's state to a
     * SnapWriter; load reads it back from a SnapReader as raw state (no
     * notifications, no I/O) and returns false on a bad stream. */
    void (*save)(void *be, void *w);
    bool (*load)(void *be, void *r);
} VirtioDeviceOps;

struct VirtQueue {
    VirtioDevice *vdev;
    unsigned index;
    uint16_t num;                   /* queue size the driver chose; 0 = unset */
    bool ready;
    uint64_t desc, avail, used;     /* guest-physical ring addresses */
    uint16_t last_avail;            /* next avail->ring entry to take */
    uint16_t used_idx;              /* our copy of used->idx */
};

struct VirtioDevice {
    const VirtioDeviceOps *ops;     /* NULL: no device plugged */
    void *backend;
    AddressSpace *as;
    VirtQueue vq[VIRTIO_MAX_QUEUES];
    uint64_t driver_features;
    uint8_t status;
    uint32_t isr;
    uint32_t config_generation;
    /* Transport hook: drive the interrupt line from isr. */
    void (*update_irq)(void *transport);
    void *transport;
    /* Transport hook, optional: false while the device may not touch guest
     * memory (PCI bus mastering off).  The queues then look empty and
     * nothing is read or written; the transport decides what becomes of a
     * kick meanwhile. */
    bool (*dma_allowed)(void *transport);
};

/* Where a backend plugs in: a transport and its plug call (virtio_mmio_slot,
 * virtio_pci_slot).  plug returns the VirtioDevice the backend drives its
 * queues through, or NULL (machine_set_error) when the slot is taken or
 * does not take this device. */
typedef struct VirtioSlot {
    VirtioDevice *(*plug)(void *transport, const VirtioDeviceOps *ops, void *backend);
    void *transport;
} VirtioSlot;

void virtio_init(VirtioDevice *vdev, AddressSpace *as,
                 void (*update_irq)(void *transport), void *transport);
/* Attach a backend; 0 or -EINVAL when ops are unusable. */
int virtio_plug(VirtioDevice *vdev, const VirtioDeviceOps *ops, void *backend);
/* Device reset: status, features, queues and interrupts to 0; the backend's
 * reset runs too. */
void virtio_reset(VirtioDevice *vdev);

uint64_t virtio_device_features(const VirtioDevice *vdev);
bool virtio_has_feature(const VirtioDevice *vdev, unsigned bit);
/* A driver status write (not 0: the transport turns 0 into virtio_reset).
 * Setting FEATURES_OK validates the driver's features. */
void virtio_set_status(VirtioDevice *vdev, uint8_t status);

void virtio_set_isr(VirtioDevice *vdev, uint32_t bits);
void virtio_ack_isr(VirtioDevice *vdev, uint32_t bits);
/* The backend changed its config space: new generation, config interrupt. */
void virtio_config_changed(VirtioDevice *vdev);
/* The driver broke the rules (bad ring, bad chain): DEVICE_NEEDS_RESET and a
 * config interrupt; the queues stop until the next reset. */
void virtio_set_broken(VirtioDevice *vdev);

/* Snapshots: status, features, interrupt status and every queue's layout
 * and indexes, then the backend's own state (VirtioDeviceOps.save/load).
 * virtio_load checks the stream against the plugged backend (device type,
 * queue sizes) and leaves vdev unchanged when it fails (the reader says
 * why); it changes no interrupt line. */
void virtio_save(const VirtioDevice *vdev, void *w);
bool virtio_load(VirtioDevice *vdev, void *r);

/* A descriptor chain: device-readable segments first, then writable ones. */
typedef struct VirtqSeg {
    uint64_t addr;
    uint32_t len;
} VirtqSeg;

typedef struct VirtqElem {
    uint16_t head;                  /* id for the used ring */
    unsigned nout, nin;
    uint64_t out_len, in_len;
    VirtqSeg seg[];                 /* nout readable, then nin writable */
} VirtqElem;

/* Next available chain, or NULL when there is none or the ring is broken
 * (the device is then marked DEVICE_NEEDS_RESET).  Free with g_free. */
VirtqElem *virtq_pop(VirtQueue *vq);
/* Is a chain available?  Like virtq_pop but takes nothing and changes
 * nothing (a malformed ring sets *broken, not DEVICE_NEEDS_RESET): what a
 * device may ask at any time, e.g. whether a receive buffer is there.
 * *in_len: the chain's writable bytes. */
bool virtq_peek(VirtQueue *vq, uint64_t *in_len, bool *broken);
/* Copy between a chain's segments, starting at byte off of the readable
 * (read) or writable (write) part; returns the bytes copied. */
size_t virtq_elem_read(VirtQueue *vq, const VirtqElem *e, size_t off, void *buf, size_t len);
size_t virtq_elem_write(VirtQueue *vq, const VirtqElem *e, size_t off, const void *buf, size_t len);
/* Return a chain to the driver with len bytes written into it. */
void virtq_push(VirtQueue *vq, const VirtqElem *e, uint32_t len);
/* Raise the queue interrupt unless the driver suppressed it. */
void virtq_notify(VirtQueue *vq);
/* A device's answer to the driver's kick: pop chains and hand each to
 * handle (which pushes it back) until none is left, handle returns false,
 * or a ring's worth is done (a chain that reads into the avail ring cannot
 * keep the device busy); then notify if any was handled. */
void virtq_drain(VirtQueue *vq, bool (*handle)(void *opaque, VirtQueue *vq, const VirtqElem *e),
                 void *opaque);

#endif
