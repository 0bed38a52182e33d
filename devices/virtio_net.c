/* virtio-net: the receive and transmit queues and the config space
 * (virtio 1.x, 5.1).
 *
 * The descriptors were checked against guest RAM by virtq_pop; lengths here
 * are checked against the header and NET_MAX_FRAME before anything moves. */
#include "devices/virtio_net.h"

#include <string.h>

#include "checkpoint/snap.h"
#include "devices/devsnap.h"
#include "vmm/error.h"
#include "vmm/machine.h"

struct VirtioNet {
    VirtioDevice *vdev;
    NetClient *nc;
    uint8_t mac[6];
    uint16_t status;                /* config status: VIRTIO_NET_S_LINK_UP */
    uint8_t frame[NET_MAX_FRAME];   /* transmit bounce buffer */
};

static uint64_t vnet_features(void *be)
{
    return (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS) |
           (1ull << VIRTIO_F_INDIRECT_DESC);
}

/* struct virtio_net_config up to status: mac[6], le16 status. */
static uint64_t vnet_config_read(void *be, uint32_t off, unsigned size)
{
    VirtioNet *n = be;
    uint8_t c[VIRTIO_NET_CONFIG_SIZE];
    memcpy(c, n->mac, 6);
    c[6] = (uint8_t)n->status;
    c[7] = (uint8_t)(n->status >> 8);
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)c[off + i] << (8 * i);
    return v;
}

/* The driver may be handed frames: it said DRIVER_OK, its receive queue is
 * set up and the device is not waiting for a reset. */
static bool rx_enabled(const VirtioNet *n)
{
    const VirtioDevice *vdev = n->vdev;
    const VirtQueue *vq = &vdev->vq[VIRTIO_NET_RXQ];
    return (vdev->status & VIRTIO_STATUS_DRIVER_OK) &&
           !(vdev->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET) && vq->ready && vq->num;
}

bool virtio_net_can_receive(void *opaque, size_t len)
{
    VirtioNet *n = opaque;
    if (!rx_enabled(n))
        return true;                /* dropped */
    uint64_t in_len;
    bool broken;
    /* A malformed ring: receive finds it and breaks the device. */
    return virtq_peek(&n->vdev->vq[VIRTIO_NET_RXQ], &in_len, &broken) || broken;
}

void virtio_net_receive(void *opaque, const uint8_t *buf, size_t len)
{
    VirtioNet *n = opaque;
    VirtQueue *vq = &n->vdev->vq[VIRTIO_NET_RXQ];
    if (!rx_enabled(n))
        return;
    uint64_t in_len;
    bool broken;
    if (!virtq_peek(vq, &in_len, &broken)) {
        if (broken)
            g_free(virtq_pop(vq));  /* sets DEVICE_NEEDS_RESET */
        return;
    }
    if (in_len < VIRTIO_NET_HDR_LEN + (uint64_t)len)
        return;                     /* does not fit: dropped, the buffer stays */
    VirtqElem *e = virtq_pop(vq);
    if (!e)
        return;
    /* flags, gso_type, hdr_len, gso_size, csum_start, csum_offset: 0 (no
     * offload); num_buffers: 1. */
    uint8_t hdr[VIRTIO_NET_HDR_LEN] = { 0 };
    hdr[10] = 1;
    size_t done = virtq_elem_write(vq, e, 0, hdr, sizeof(hdr));
    if (done == sizeof(hdr))
        done += virtq_elem_write(vq, e, sizeof(hdr), buf, len);
    virtq_push(vq, e, (uint32_t)done);
    g_free(e);
    virtq_notify(vq);
}

/* Sends one chain's frame; false when the chain was malformed. */
static bool transmit(void *opaque, VirtQueue *vq, const VirtqElem *e)
{
    VirtioNet *n = opaque;
    if (e->out_len < VIRTIO_NET_HDR_LEN) {
        virtio_set_broken(vq->vdev);
        return false;
    }
    uint64_t len = e->out_len - VIRTIO_NET_HDR_LEN;
    if (len <= sizeof(n->frame) &&
        virtq_elem_read(vq, e, VIRTIO_NET_HDR_LEN, n->frame, (size_t)len) == len)
        net_client_transmit(n->nc, n->frame, (size_t)len);
    virtq_push(vq, e, 0);
    return true;
}

static void vnet_notify(void *be, VirtQueue *vq)
{
    /* Receive buffers are taken when frames arrive (net_pump). */
    if (vq->index == VIRTIO_NET_TXQ)
        virtq_drain(vq, transmit, be);
}

/* Snapshots: transmits complete inside the notify and receives inside the
 * delivery, so nothing is in flight; the queues are the transport's.  The
 * address is configuration and must match. */
#define SNAP_VERSION 1

static void vnet_save(void *be, void *wp)
{
    VirtioNet *n = be;
    SnapWriter *w = wp;
    snap_put_u8(w, SNAP_VERSION);
    for (int i = 0; i < 6; i++)
        snap_put_u8(w, n->mac[i]);
    snap_put_u16(w, n->status);
}

static bool vnet_load(void *be, void *rp)
{
    VirtioNet *n = be;
    SnapReader *r = rp;
    if (!devsnap_version(r, SNAP_VERSION, "virtio-net"))
        return false;
    uint8_t mac[6];
    for (int i = 0; i < 6; i++)
        mac[i] = snap_get_u8(r);
    uint16_t status = snap_get_u16(r);
    devsnap_check_mask(r, status, VIRTIO_NET_S_LINK_UP, "virtio-net link status");
    if (snap_reader_ok(r) && memcmp(mac, n->mac, 6))
        snap_reader_fail(r, "virtio-net: the snapshot's card has MAC "
                         "%02x:%02x:%02x:%02x:%02x:%02x, this one another", mac[0], mac[1],
                         mac[2], mac[3], mac[4], mac[5]);
    if (!snap_reader_ok(r))
        return false;
    n->status = status;
    return true;
}

static const VirtioDeviceOps vnet_ops = {
    .name = "virtio-net",
    .device_id = VIRTIO_ID_NET,
    .num_queues = 2,
    .queue_max = VIRTIO_NET_QUEUE_MAX,
    .config_size = VIRTIO_NET_CONFIG_SIZE,
    .features = vnet_features,
    .config_read = vnet_config_read,
    .queue_notify = vnet_notify,
    .save = vnet_save,
    .load = vnet_load,
};

VirtioNet *virtio_net_create(Machine *m, VirtioSlot slot, const char *model,
                             const uint8_t mac[6], NetClient *nc, GError **err)
{
    VirtioNet *n = g_new0(VirtioNet, 1);
    memcpy(n->mac, mac, 6);
    n->status = VIRTIO_NET_S_LINK_UP;
    if (nc && !net_client_attach(nc, model, mac, virtio_net_can_receive,
                                 virtio_net_receive, n, err)) {
        g_free(n);
        return NULL;
    }
    n->nc = nc;
    n->vdev = slot.plug(slot.transport, &vnet_ops, n);
    if (!n->vdev) {
        tn_error(err, "virtio-net: %s", m->error ? m->error : "cannot plug the device");
        if (nc)
            nc->model = NULL;
        g_free(n);
        return NULL;
    }
    machine_keep(m, n);
    return n;
}
