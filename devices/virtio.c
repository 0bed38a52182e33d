/* Virtio device core and split-virtqueue helpers.
 *
 * The rings live in guest RAM and the guest may rewrite them at any time,
 * so every value read from them is checked before use: indices against the
 * queue size, chains against loops and their length limit, and each ring
 * and buffer against guest RAM (writable buffers against ROM too).  A guest
 * that breaks the rules gets DEVICE_NEEDS_RESET, never a crash. */
#include "devices/virtio.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "checkpoint/snap.h"

/* Transport feature bits 24..40 that the helpers here implement; a
 * backend's other bits in that range are not offered. */
#define TRANSPORT_FEATURES_MASK (((1ull << 41) - 1) & ~((1ull << 24) - 1))
#define TRANSPORT_FEATURES_OK   ((1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << VIRTIO_F_VERSION_1))

static void update_irq(VirtioDevice *vdev)
{
    if (vdev->update_irq)
        vdev->update_irq(vdev->transport);
}

void virtio_init(VirtioDevice *vdev, AddressSpace *as,
                 void (*update)(void *transport), void *transport)
{
    memset(vdev, 0, sizeof(*vdev));
    vdev->as = as;
    vdev->update_irq = update;
    vdev->transport = transport;
    for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
        vdev->vq[i].vdev = vdev;
        vdev->vq[i].index = i;
    }
}

int virtio_plug(VirtioDevice *vdev, const VirtioDeviceOps *ops, void *backend)
{
    if (!ops || !ops->device_id || ops->num_queues < 1 ||
        ops->num_queues > VIRTIO_MAX_QUEUES || ops->queue_max < 1 ||
        ops->queue_max > VIRTQ_MAX_SIZE || !ops->queue_notify)
        return -EINVAL;
    vdev->ops = ops;
    vdev->backend = backend;
    virtio_reset(vdev);
    return 0;
}

void virtio_reset(VirtioDevice *vdev)
{
    vdev->status = 0;
    vdev->driver_features = 0;
    vdev->isr = 0;
    for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
        VirtQueue *vq = &vdev->vq[i];
        vq->num = 0;
        vq->ready = false;
        vq->desc = vq->avail = vq->used = 0;
        vq->last_avail = vq->used_idx = 0;
    }
    if (vdev->ops && vdev->ops->reset)
        vdev->ops->reset(vdev->backend);
    update_irq(vdev);
}

uint64_t virtio_device_features(const VirtioDevice *vdev)
{
    if (!vdev->ops)
        return 0;
    uint64_t f = vdev->ops->features ? vdev->ops->features(vdev->backend) : 0;
    f &= ~TRANSPORT_FEATURES_MASK | TRANSPORT_FEATURES_OK;
    return f | (1ull << VIRTIO_F_VERSION_1);
}

bool virtio_has_feature(const VirtioDevice *vdev, unsigned bit)
{
    return bit < 64 && ((vdev->driver_features >> bit) & 1);
}

void virtio_set_status(VirtioDevice *vdev, uint8_t status)
{
    if (!vdev->ops)
        return;
    if ((status & VIRTIO_STATUS_FEATURES_OK) && !(vdev->status & VIRTIO_STATUS_FEATURES_OK)) {
        uint64_t f = vdev->driver_features;
        bool ok = !(f & ~virtio_device_features(vdev)) &&
                  ((f >> VIRTIO_F_VERSION_1) & 1) &&
                  (!vdev->ops->set_features || vdev->ops->set_features(vdev->backend, f));
        if (!ok)
            status &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
    }
    vdev->status = (uint8_t)(status & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET) |
                   (vdev->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

void virtio_set_isr(VirtioDevice *vdev, uint32_t bits)
{
    vdev->isr |= bits;
    update_irq(vdev);
}

void virtio_ack_isr(VirtioDevice *vdev, uint32_t bits)
{
    vdev->isr &= ~bits;
    update_irq(vdev);
}

void virtio_config_changed(VirtioDevice *vdev)
{
    vdev->config_generation++;
    virtio_set_isr(vdev, VIRTIO_ISR_CONFIG);
}

void virtio_set_broken(VirtioDevice *vdev)
{
    if (vdev->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
        return;
    vdev->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
    if (vdev->status & VIRTIO_STATUS_DRIVER_OK)
        virtio_set_isr(vdev, VIRTIO_ISR_CONFIG);
}

/* ---- snapshots ---- */

void virtio_save(const VirtioDevice *vdev, void *wp)
{
    SnapWriter *w = wp;
    snap_put_u32(w, vdev->ops ? vdev->ops->device_id : 0);
    snap_put_u64(w, vdev->driver_features);
    snap_put_u8(w, vdev->status);
    snap_put_u32(w, vdev->isr);
    snap_put_u32(w, vdev->config_generation);
    for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
        const VirtQueue *vq = &vdev->vq[i];
        snap_put_u64(w, vq->num);
        snap_put_bool(w, vq->ready);
        snap_put_u64(w, vq->desc);
        snap_put_u64(w, vq->avail);
        snap_put_u64(w, vq->used);
        snap_put_u16(w, vq->last_avail);
        snap_put_u16(w, vq->used_idx);
    }
    if (vdev->ops && vdev->ops->save)
        vdev->ops->save(vdev->backend, w);
}

bool virtio_load(VirtioDevice *vdev, void *rp)
{
    SnapReader *r = rp;
    const VirtioDeviceOps *ops = vdev->ops;
    uint32_t id = snap_get_u32(r);
    uint32_t want = ops ? ops->device_id : 0;
    if (snap_reader_ok(r) && id != want)
        return snap_reader_fail(r, "the snapshot has virtio device type %u here, this "
                                "machine %u", id, want);
    uint64_t features = snap_get_u64(r);
    uint8_t status = snap_get_u8(r);
    uint32_t isr = snap_get_u32(r);
    uint32_t generation = snap_get_u32(r);
    VirtQueue vq[VIRTIO_MAX_QUEUES];
    /* Queue sizes are ring moduli and bound the chain walks; queues the
     * backend does not have stay unset. */
    for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
        uint64_t max = ops && i < (unsigned)ops->num_queues ? ops->queue_max : 0;
        vq[i] = vdev->vq[i];
        vq[i].num = (uint16_t)snap_get_max(r, max, "virtqueue size");
        vq[i].ready = snap_get_bool(r);
        vq[i].desc = snap_get_u64(r);
        vq[i].avail = snap_get_u64(r);
        vq[i].used = snap_get_u64(r);
        vq[i].last_avail = snap_get_u16(r);
        vq[i].used_idx = snap_get_u16(r);
        if (snap_reader_ok(r) && vq[i].ready && !vq[i].num)
            snap_reader_fail(r, "virtqueue %u is ready without a size", i);
    }
    if (!snap_reader_ok(r))
        return false;
    if (ops && ops->load && !ops->load(vdev->backend, r))
        return snap_reader_fail(r, "the %s backend rejected its state",
                                ops->name ? ops->name : "virtio");
    if (!snap_reader_ok(r))
        return false;
    vdev->driver_features = features;
    vdev->status = status;
    vdev->isr = isr;
    vdev->config_generation = generation;
    memcpy(vdev->vq, vq, sizeof(vq));
    return true;
}

/* [pa, pa+len) lies in guest RAM (writable: and not in ROM). */
static bool ram_range_ok(AddressSpace *as, uint64_t pa, uint64_t len, bool writable)
{
    if (len == 0)
        return true;
    if (pa + (len - 1) < pa)
        return false;
    while (len) {
        MemRegion *r = as_find(as, pa);
        if (!r || !r->host || (writable && r->readonly))
            return false;
        uint64_t n = r->size - (pa - r->base);
        if (n > len)
            n = len;
        pa += n;
        len -= n;
    }
    return true;
}

static bool read16(AddressSpace *as, uint64_t pa, uint16_t *v)
{
    uint16_t le;
    if (as_copy_from(as, pa, &le, 2) != MEM_OK)
        return false;
    *v = GUINT16_FROM_LE(le);
    return true;
}

typedef struct Desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
} Desc;

static bool read_desc(AddressSpace *as, uint64_t table, unsigned i, Desc *d)
{
    uint8_t raw[16];
    if (as_copy_from(as, table + 16ull * i, raw, sizeof(raw)) != MEM_OK)
        return false;
    uint64_t a;
    uint32_t l;
    uint16_t f, n;
    memcpy(&a, raw, 8);
    memcpy(&l, raw + 8, 4);
    memcpy(&f, raw + 12, 2);
    memcpy(&n, raw + 14, 2);
    d->addr = GUINT64_FROM_LE(a);
    d->len = GUINT32_FROM_LE(l);
    d->flags = GUINT16_FROM_LE(f);
    d->next = GUINT16_FROM_LE(n);
    return true;
}

static bool dma_allowed(const VirtioDevice *vdev)
{
    return !vdev->dma_allowed || vdev->dma_allowed(vdev->transport);
}

static bool queue_usable(const VirtQueue *vq)
{
    return vq->vdev->ops && vq->ready && vq->num &&
           !(vq->vdev->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET) && dma_allowed(vq->vdev);
}

/* Walk the chain starting at head into a new element; NULL if malformed. */
static VirtqElem *walk_chain(VirtQueue *vq, uint16_t head)
{
    VirtioDevice *vdev = vq->vdev;
    AddressSpace *as = vdev->as;
    uint64_t table = vq->desc;
    unsigned tsize = vq->num;
    Desc d;

    if (head >= tsize || !read_desc(as, table, head, &d))
        return NULL;
    /* Like QEMU, an indirect table is accepted only as the whole chain. */
    if (d.flags & VIRTQ_DESC_F_INDIRECT) {
        if (!virtio_has_feature(vdev, VIRTIO_F_INDIRECT_DESC) ||
            (d.flags & VIRTQ_DESC_F_NEXT) || d.len == 0 || d.len % 16 ||
            d.len / 16 > VIRTQ_MAX_SIZE || !ram_range_ok(as, d.addr, d.len, false))
            return NULL;
        table = d.addr;
        tsize = d.len / 16;
        if (!read_desc(as, table, 0, &d))
            return NULL;
    }

    VirtqElem *e = g_malloc0(sizeof(*e) + tsize * sizeof(VirtqSeg));
    e->head = head;
    unsigned count = 0;
    for (;;) {
        bool w = d.flags & VIRTQ_DESC_F_WRITE;
        if (count >= tsize ||                       /* a loop */
            (d.flags & VIRTQ_DESC_F_INDIRECT) ||    /* nested or not at head */
            (!w && e->nin) ||                       /* readable after writable */
            !ram_range_ok(as, d.addr, d.len, w))
            goto bad;
        e->seg[count].addr = d.addr;
        e->seg[count].len = d.len;
        count++;
        if (w) {
            e->nin++;
            e->in_len += d.len;
        } else {
            e->nout++;
            e->out_len += d.len;
        }
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            break;
        if (d.next >= tsize || !read_desc(as, table, d.next, &d))
            goto bad;
    }
    return e;
bad:
    g_free(e);
    return NULL;
}

/* The next available chain without taking it: NULL with *broken false when
 * there is none, NULL with *broken true when the ring or chain is
 * malformed.  No side effect. */
static VirtqElem *next_chain(VirtQueue *vq, bool *broken)
{
    *broken = false;
    if (!queue_usable(vq))
        return NULL;
    AddressSpace *as = vq->vdev->as;
    uint16_t avail_idx, head;

    if (!ram_range_ok(as, vq->desc, 16ull * vq->num, false) ||
        !ram_range_ok(as, vq->avail, 6 + 2ull * vq->num, false) ||
        !read16(as, vq->avail + 2, &avail_idx))
        goto broken;
    uint16_t n = (uint16_t)(avail_idx - vq->last_avail);
    if (n == 0)
        return NULL;
    if (n > vq->num)
        goto broken;
    if (!read16(as, vq->avail + 4 + 2ull * (vq->last_avail % vq->num), &head))
        goto broken;
    VirtqElem *e = walk_chain(vq, head);
    if (!e)
        goto broken;
    return e;
broken:
    *broken = true;
    return NULL;
}

VirtqElem *virtq_pop(VirtQueue *vq)
{
    bool broken;
    VirtqElem *e = next_chain(vq, &broken);
    if (broken)
        virtio_set_broken(vq->vdev);
    if (e)
        vq->last_avail++;
    return e;
}

bool virtq_peek(VirtQueue *vq, uint64_t *in_len, bool *broken)
{
    VirtqElem *e = next_chain(vq, broken);
    if (!e)
        return false;
    *in_len = e->in_len;
    g_free(e);
    return true;
}

size_t virtq_elem_read(VirtQueue *vq, const VirtqElem *e, size_t off, void *buf, size_t len)
{
    uint8_t *dst = buf;
    size_t done = 0;
    if (!dma_allowed(vq->vdev))
        return 0;
    for (unsigned i = 0; i < e->nout && done < len; i++) {
        const VirtqSeg *s = &e->seg[i];
        if (off >= s->len) {
            off -= s->len;
            continue;
        }
        size_t n = MIN(s->len - off, len - done);
        if (as_copy_from(vq->vdev->as, s->addr + off, dst + done, n) != MEM_OK)
            break;
        done += n;
        off = 0;
    }
    return done;
}

size_t virtq_elem_write(VirtQueue *vq, const VirtqElem *e, size_t off, const void *buf, size_t len)
{
    const uint8_t *src = buf;
    size_t done = 0;
    if (!dma_allowed(vq->vdev))
        return 0;
    for (unsigned i = e->nout; i < e->nout + e->nin && done < len; i++) {
        const VirtqSeg *s = &e->seg[i];
        if (off >= s->len) {
            off -= s->len;
            continue;
        }
        size_t n = MIN(s->len - off, len - done);
        if (as_copy_to(vq->vdev->as, s->addr + off, src + done, n) != MEM_OK)
            break;
        done += n;
        off = 0;
    }
    return done;
}

void virtq_push(VirtQueue *vq, const VirtqElem *e, uint32_t len)
{
    if (!queue_usable(vq))
        return;
    AddressSpace *as = vq->vdev->as;
    if (!ram_range_ok(as, vq->used, 6 + 8ull * vq->num, true)) {
        virtio_set_broken(vq->vdev);
        return;
    }
    uint32_t ent[2] = { GUINT32_TO_LE((uint32_t)e->head), GUINT32_TO_LE(len) };
    as_copy_to(as, vq->used + 4 + 8ull * (vq->used_idx % vq->num), ent, sizeof(ent));
    vq->used_idx++;
    uint16_t idx = GUINT16_TO_LE(vq->used_idx);
    as_copy_to(as, vq->used + 2, &idx, 2);
}

void virtq_notify(VirtQueue *vq)
{
    if (!vq->vdev->ops || !dma_allowed(vq->vdev))
        return;
    uint16_t flags = 0;
    if (vq->ready && vq->num && read16(vq->vdev->as, vq->avail, &flags) &&
        (flags & VIRTQ_AVAIL_F_NO_INTERRUPT))
        return;
    virtio_set_isr(vq->vdev, VIRTIO_ISR_QUEUE);
}

void virtq_drain(VirtQueue *vq, bool (*handle)(void *opaque, VirtQueue *vq, const VirtqElem *e),
                 void *opaque)
{
    bool done = false;
    for (unsigned i = 0; i < vq->num; i++) {
        VirtqElem *e = virtq_pop(vq);
        if (!e)
            break;
        bool ok = handle(opaque, vq, e);
        g_free(e);
        if (!ok)
            break;
        done = true;
    }
    if (done)
        virtq_notify(vq);
}
