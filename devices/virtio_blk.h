/* virtio-blk (virtio 1.x device type 2) on a BlockDev, behind any virtio
 * transport (devices/virtio.h).
 *
 * One request queue.  Requests: IN (read), OUT (write), FLUSH and GET_ID
 * (the serial, at most 20 bytes); anything else answers UNSUPP.  Offered
 * features: SEG_MAX, BLK_SIZE (512), FLUSH, RO for a read-only image, and
 * the transport's INDIRECT_DESC.
 *
 * Requests are served synchronously in the queue notify: the data moves,
 * the used ring is updated and the interrupt raised while the guest's
 * notifying store executes, so every completion lands at that instruction
 * and record/replay needs no events of its own (a blkreplay drive's view
 * logs each request itself).  Transfers go through a 64 KiB bounce buffer,
 * chunk by chunk, whatever the request's size.
 *
 * A malformed request (no 16-byte header in the readable part, no status
 * byte in the writable part) sets DEVICE_NEEDS_RESET, as QEMU does; a
 * request the disk cannot serve (misaligned, past the end, a write to a
 * read-only image, an I/O error) gets VIRTIO_BLK_S_IOERR. */
#ifndef TANDEM_VIRTIO_BLK_H
#define TANDEM_VIRTIO_BLK_H

#include <glib.h>

#include "block/block.h"
#include "devices/virtio.h"

typedef struct Machine Machine;
typedef struct VirtioBlk VirtioBlk;

#define VIRTIO_ID_BLOCK        2
#define VIRTIO_BLK_QUEUE_MAX   256      /* QEMU's default queue size */
#define VIRTIO_BLK_ID_BYTES    20
#define VIRTIO_BLK_CONFIG_SIZE 36       /* capacity .. num_queues */

/* Feature bits. */
#define VIRTIO_BLK_F_SIZE_MAX  1
#define VIRTIO_BLK_F_SEG_MAX   2
#define VIRTIO_BLK_F_RO        5
#define VIRTIO_BLK_F_BLK_SIZE  6
#define VIRTIO_BLK_F_FLUSH     9

/* Request types and status values. */
#define VIRTIO_BLK_T_IN        0
#define VIRTIO_BLK_T_OUT       1
#define VIRTIO_BLK_T_FLUSH     4
#define VIRTIO_BLK_T_GET_ID    8
#define VIRTIO_BLK_S_OK        0
#define VIRTIO_BLK_S_IOERR     1
#define VIRTIO_BLK_S_UNSUPP    2

/* Plugs a disk on blk (which stays the caller's and must outlive the
 * machine's devices) into the empty transport slot.  serial: GET_ID's answer
 * (NULL: empty, as QEMU's default), at most VIRTIO_BLK_ID_BYTES.  The
 * backend is freed with the machine.  NULL with err when the image is
 * empty or the slot is taken. */
VirtioBlk *virtio_blk_create(Machine *m, VirtioSlot slot, BlockDev *blk, const char *serial,
                             GError **err);

#endif
