/* The driver's side of a virtio-mmio device for unit tests: register
 * accesses, split rings built straight in a RAM buffer, feature
 * negotiation and queue set-up.  Used by test_virtio_blk and
 * test_virtio_net. */
#ifndef TANDEM_TEST_VIRTQ_DRIVER_H
#define TANDEM_TEST_VIRTQ_DRIVER_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "devices/virtio.h"
#include "devices/virtio_mmio.h"
#include "vmm/machine.h"

typedef struct VqDriver {
    Machine *m;
    uint64_t base;              /* the transport's registers */
    uint8_t *ram;               /* host copy of guest RAM at ram_base */
    uint64_t ram_base;
} VqDriver;

/* One queue as the driver lays it out. */
typedef struct VqRing {
    unsigned index;
    uint64_t desc, avail, used;
    uint16_t size;
    uint16_t avail_idx;         /* the driver's next avail->idx */
} VqRing;

static inline uint32_t vqd_rd(VqDriver *d, uint64_t off)
{
    uint64_t v = 0;
    cr_assert_eq(as_read(&d->m->as, d->base + off, 4, &v), MEM_OK);
    return (uint32_t)v;
}

static inline void vqd_wr(VqDriver *d, uint64_t off, uint32_t v)
{
    cr_assert_eq(as_write(&d->m->as, d->base + off, 4, v), MEM_OK);
}

static inline uint64_t vqd_cfg(VqDriver *d, uint32_t off, unsigned size)
{
    uint64_t v = 0;
    cr_assert_eq(as_read(&d->m->as, d->base + VIRTIO_MMIO_CONFIG + off, size, &v), MEM_OK);
    return v;
}

static inline uint8_t *vqd_gp(VqDriver *d, uint64_t pa) { return d->ram + (pa - d->ram_base); }

static inline void vqd_put_desc(VqDriver *d, uint64_t table, unsigned i, uint64_t addr,
                                uint32_t len, uint16_t flags, uint16_t next)
{
    uint8_t *p = vqd_gp(d, table) + 16 * i;
    memcpy(p, &addr, 8);
    memcpy(p + 8, &len, 4);
    memcpy(p + 12, &flags, 2);
    memcpy(p + 14, &next, 2);
}

/* Puts head in the avail ring and publishes it. */
static inline void vqd_offer(VqDriver *d, VqRing *q, uint16_t head)
{
    memcpy(vqd_gp(d, q->avail + 4 + 2 * (q->avail_idx % q->size)), &head, 2);
    q->avail_idx++;
    memcpy(vqd_gp(d, q->avail + 2), &q->avail_idx, 2);
}

static inline uint16_t vqd_used_idx(VqDriver *d, const VqRing *q)
{
    uint16_t v;
    memcpy(&v, vqd_gp(d, q->used + 2), 2);
    return v;
}

static inline uint32_t vqd_used_id(VqDriver *d, const VqRing *q, unsigned i)
{
    uint32_t id;
    memcpy(&id, vqd_gp(d, q->used + 4 + 8 * (i % q->size)), 4);
    return id;
}

static inline uint32_t vqd_used_len(VqDriver *d, const VqRing *q, unsigned i)
{
    uint32_t len;
    memcpy(&len, vqd_gp(d, q->used + 8 + 8 * (i % q->size)), 4);
    return len;
}

static inline void vqd_kick(VqDriver *d, const VqRing *q)
{
    vqd_wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, q->index);
}

static inline bool vqd_broken(VqDriver *d)
{
    return vqd_rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET;
}

/* Reset, ACKNOWLEDGE | DRIVER, the features, FEATURES_OK (checked). */
static inline void vqd_negotiate(VqDriver *d, uint64_t features)
{
    vqd_wr(d, VIRTIO_MMIO_STATUS, 0);
    vqd_wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    vqd_wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    vqd_wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
    vqd_wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    vqd_wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
    vqd_wr(d, VIRTIO_MMIO_STATUS, 0x0b);
    cr_assert_eq(vqd_rd(d, VIRTIO_MMIO_STATUS), 0x0b);
}

/* Clears q's avail and used rings (one page each) and gives the device
 * its layout; QueueNumMax must be max. */
static inline void vqd_queue(VqDriver *d, VqRing *q, uint32_t max)
{
    q->avail_idx = 0;
    memset(vqd_gp(d, q->avail), 0, 0x1000);
    memset(vqd_gp(d, q->used), 0, 0x1000);
    vqd_wr(d, VIRTIO_MMIO_QUEUE_SEL, q->index);
    cr_assert_eq(vqd_rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX), max);
    vqd_wr(d, VIRTIO_MMIO_QUEUE_NUM, q->size);
    vqd_wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)q->desc);
    vqd_wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(q->desc >> 32));
    vqd_wr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)q->avail);
    vqd_wr(d, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(q->avail >> 32));
    vqd_wr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)q->used);
    vqd_wr(d, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(q->used >> 32));
    vqd_wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
}

static inline void vqd_driver_ok(VqDriver *d)
{
    vqd_wr(d, VIRTIO_MMIO_STATUS, 0x0f);
}

#endif
