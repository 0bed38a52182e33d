/* virtio-net (virtio 1.x device type 1) on a NetClient, behind any virtio
 * transport (devices/virtio.h).
 *
 * Two queues: receiveq1 (0) and transmitq1 (1); no control queue.
 * Offered features: MAC (the config space holds the address), STATUS (the
 * link, always up) and the transport's INDIRECT_DESC and VERSION_1.  No
 * checksum or segmentation offload and no mergeable receive buffers: every
 * frame travels whole after a 12-byte virtio_net_hdr whose fields are 0,
 * but for num_buffers, which is 1 on receive (without MRG_RXBUF a frame
 * takes one buffer).
 *
 * Receive: the netdev asks virtio_net_can_receive before it delivers a
 * frame (net/net.h), so frames wait in the netdev's queue while the driver
 * has posted no buffer; the answer depends only on guest memory and the
 * device state, so record and replay agree.  A frame that does not fit the
 * next buffer is dropped and the buffer left for the next frame.  A
 * driver that has not set DRIVER_OK (or whose receive queue is not ready,
 * or a device that needs a reset) gets nothing: its frames are dropped.
 *
 * Transmit: served synchronously in the queue notify, like virtio-blk:
 * each chain's readable part is the header and the frame; the frame goes
 * to the netdev and the chain comes back with length 0.  A chain shorter
 * than the header, or with writable descriptors, sets DEVICE_NEEDS_RESET
 * (QEMU's behaviour); a frame longer than NET_MAX_FRAME is dropped and its
 * chain returned. */
#ifndef TANDEM_VIRTIO_NET_H
#define TANDEM_VIRTIO_NET_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/virtio.h"
#include "net/net.h"

typedef struct Machine Machine;
typedef struct VirtioNet VirtioNet;

#define VIRTIO_ID_NET          1
#define VIRTIO_NET_QUEUE_MAX   256      /* QEMU's default queue size */
#define VIRTIO_NET_HDR_LEN     12       /* struct virtio_net_hdr, VERSION_1 */
#define VIRTIO_NET_CONFIG_SIZE 8        /* mac, status */
#define VIRTIO_NET_RXQ         0
#define VIRTIO_NET_TXQ         1

/* Feature bits and the link status bit. */
#define VIRTIO_NET_F_MAC       5
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS    16
#define VIRTIO_NET_S_LINK_UP   1

/* Plugs a card with address mac into the empty transport slot; model is
 * its -device name (virtio-net-device, virtio-net-pci: the netdev and a
 * recording's configuration show it).  nc may be
 * NULL (no netdev: transmitted frames vanish, nothing arrives).  The
 * backend is freed with the machine.  NULL with err when the netdev has a
 * device already or the slot is taken. */
VirtioNet *virtio_net_create(Machine *m, VirtioSlot slot, const char *model,
                             const uint8_t mac[6], NetClient *nc, GError **err);

/* The NetClient frontend (public for the unit tests). */
bool virtio_net_can_receive(void *opaque, size_t len);
void virtio_net_receive(void *opaque, const uint8_t *buf, size_t len);

#endif
