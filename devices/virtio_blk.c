/* virtio-blk: the request queue and config space (virtio 1.x, 5.2).
 *
 * Every length and offset a request carries is checked against the disk
 * before any data moves; the descriptors themselves were checked against
 * guest RAM by virtq_pop. */
#include "devices/virtio_blk.h"

#include <stdio.h>
#include <string.h>

#include "checkpoint/snap.h"
#include "devices/devsnap.h"
#include "vmm/error.h"
#include "vmm/machine.h"

#define SECTOR    512u
#define HDR_LEN   16u            /* struct virtio_blk_outhdr */
#define CHUNK     (64u * 1024)

struct VirtioBlk {
    VirtioDevice *vdev;
    BlockDev *blk;
    uint64_t sectors;
    bool read_only;
    bool err_logged;
    char serial[VIRTIO_BLK_ID_BYTES + 1];
    uint8_t buf[CHUNK];
};

static uint64_t vblk_features(void *be)
{
    VirtioBlk *b = be;
    uint64_t f = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
                 (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_F_INDIRECT_DESC);
    if (b->read_only)
        f |= 1ull << VIRTIO_BLK_F_RO;
    return f;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* struct virtio_blk_config up to num_queues; the fields of features not
 * offered (size_max, geometry, topology, writeback, num_queues) read 0. */
static uint64_t vblk_config_read(void *be, uint32_t off, unsigned size)
{
    VirtioBlk *b = be;
    uint8_t c[VIRTIO_BLK_CONFIG_SIZE] = { 0 };
    put_le(c + 0, b->sectors, 8);                       /* capacity */
    put_le(c + 12, VIRTIO_BLK_QUEUE_MAX - 2, 4);        /* seg_max, as QEMU */
    put_le(c + 20, SECTOR, 4);                          /* blk_size */
    return get_le(c + off, size);
}

static void log_error(VirtioBlk *b, const char *what)
{
    if (b->err_logged)
        return;
    b->err_logged = true;
    fprintf(stderr, "tandem: virtio-blk %s: %s failed: %s (the guest sees an I/O error; "
            "further errors on this disk are not shown)\n", blk_filename(b->blk), what,
            blk_last_error(b->blk));
}

/* [sector, sector + len) is whole sectors on the disk. */
static bool range_ok(const VirtioBlk *b, uint64_t sector, uint64_t len)
{
    return len % SECTOR == 0 && sector <= b->sectors && len / SECTOR <= b->sectors - sector;
}

static uint8_t do_read(VirtioBlk *b, VirtQueue *vq, const VirtqElem *e, uint64_t sector,
                       uint64_t len, uint64_t *written)
{
    if (!range_ok(b, sector, len))
        return VIRTIO_BLK_S_IOERR;
    for (uint64_t done = 0; done < len;) {
        size_t n = (size_t)MIN(len - done, CHUNK);
        if (blk_pread(b->blk, sector * SECTOR + done, b->buf, n) < 0) {
            log_error(b, "read");
            return VIRTIO_BLK_S_IOERR;
        }
        if (virtq_elem_write(vq, e, done, b->buf, n) != n)
            return VIRTIO_BLK_S_IOERR;
        done += n;
        *written = done;
    }
    return VIRTIO_BLK_S_OK;
}

static uint8_t do_write(VirtioBlk *b, VirtQueue *vq, const VirtqElem *e, uint64_t sector,
                        uint64_t len)
{
    if (b->read_only || !range_ok(b, sector, len))
        return VIRTIO_BLK_S_IOERR;
    for (uint64_t done = 0; done < len;) {
        size_t n = (size_t)MIN(len - done, CHUNK);
        if (virtq_elem_read(vq, e, HDR_LEN + done, b->buf, n) != n)
            return VIRTIO_BLK_S_IOERR;
        if (blk_pwrite(b->blk, sector * SECTOR + done, b->buf, n) < 0) {
            log_error(b, "write");
            return VIRTIO_BLK_S_IOERR;
        }
        done += n;
    }
    return VIRTIO_BLK_S_OK;
}

/* Serves one request; false when it was malformed (the device is then
 * broken and the chain is not returned, as QEMU does). */
static bool handle(void *opaque, VirtQueue *vq, const VirtqElem *e)
{
    VirtioBlk *b = opaque;
    uint8_t hdr[HDR_LEN];
    if (e->out_len < HDR_LEN || e->in_len < 1 ||
        virtq_elem_read(vq, e, 0, hdr, HDR_LEN) != HDR_LEN) {
        virtio_set_broken(vq->vdev);
        return false;
    }
    uint32_t type = (uint32_t)get_le(hdr, 4);
    uint64_t sector = get_le(hdr + 8, 8);
    uint64_t data_in = e->in_len - 1;            /* the status byte is last */
    uint64_t written = 0;
    uint8_t status;

    switch (type) {
    case VIRTIO_BLK_T_IN:
        status = do_read(b, vq, e, sector, data_in, &written);
        break;
    case VIRTIO_BLK_T_OUT:
        status = do_write(b, vq, e, sector, e->out_len - HDR_LEN);
        break;
    case VIRTIO_BLK_T_FLUSH:
        status = VIRTIO_BLK_S_OK;
        if (blk_flush(b->blk) < 0) {
            log_error(b, "flush");
            status = VIRTIO_BLK_S_IOERR;
        }
        break;
    case VIRTIO_BLK_T_GET_ID: {
        /* QEMU: the serial with its NUL, cut to the buffer and 20 bytes. */
        size_t n = MIN(strlen(b->serial) + 1, (size_t)MIN(data_in, VIRTIO_BLK_ID_BYTES));
        written = virtq_elem_write(vq, e, 0, b->serial, n);
        status = VIRTIO_BLK_S_OK;
        break;
    }
    default:
        status = VIRTIO_BLK_S_UNSUPP;
        break;
    }
    virtq_elem_write(vq, e, data_in, &status, 1);
    virtq_push(vq, e, (uint32_t)MIN(written + 1, UINT32_MAX));
    return true;
}

static void vblk_notify(void *be, VirtQueue *vq)
{
    virtq_drain(vq, handle, be);
}

/* Snapshots: requests complete inside the notify, so nothing is in flight
 * and the queues (saved by the transport) are the whole state.  The disk's
 * size and mode are configuration and must match. */
#define SNAP_VERSION 1

static void vblk_save(void *be, void *wp)
{
    VirtioBlk *b = be;
    SnapWriter *w = wp;
    snap_put_u8(w, SNAP_VERSION);
    snap_put_u64(w, b->sectors);
    snap_put_bool(w, b->read_only);
}

static bool vblk_load(void *be, void *rp)
{
    VirtioBlk *b = be;
    SnapReader *r = rp;
    if (!devsnap_version(r, SNAP_VERSION, "virtio-blk"))
        return false;
    uint64_t sectors = snap_get_u64(r);
    bool ro = snap_get_bool(r);
    if (snap_reader_ok(r) && sectors != b->sectors)
        snap_reader_fail(r, "virtio-blk: the snapshot's disk has %llu sectors, this one %llu",
                         (unsigned long long)sectors, (unsigned long long)b->sectors);
    if (snap_reader_ok(r) && ro != b->read_only)
        snap_reader_fail(r, "virtio-blk: the snapshot's disk is %s, this one %s",
                         ro ? "read-only" : "writable", b->read_only ? "read-only" : "writable");
    return snap_reader_ok(r);
}

static const VirtioDeviceOps vblk_ops = {
    .name = "virtio-blk",
    .device_id = VIRTIO_ID_BLOCK,
    .num_queues = 1,
    .queue_max = VIRTIO_BLK_QUEUE_MAX,
    .config_size = VIRTIO_BLK_CONFIG_SIZE,
    .features = vblk_features,
    .config_read = vblk_config_read,
    .queue_notify = vblk_notify,
    .save = vblk_save,
    .load = vblk_load,
};

VirtioBlk *virtio_blk_create(Machine *m, VirtioSlot slot, BlockDev *blk, const char *serial,
                             GError **err)
{
    uint64_t sectors = blk_size(blk) / SECTOR;
    if (!sectors) {
        tn_error(err, "virtio-blk: image %s is smaller than one 512-byte sector",
                 blk_filename(blk));
        return NULL;
    }
    if (serial && strlen(serial) > VIRTIO_BLK_ID_BYTES) {
        tn_error(err, "virtio-blk: serial %s is longer than %d characters", serial,
                 VIRTIO_BLK_ID_BYTES);
        return NULL;
    }
    VirtioBlk *b = g_new0(VirtioBlk, 1);
    b->blk = blk;
    b->sectors = sectors;
    b->read_only = blk_is_read_only(blk);
    g_strlcpy(b->serial, serial ? serial : "", sizeof(b->serial));
    b->vdev = slot.plug(slot.transport, &vblk_ops, b);
    if (!b->vdev) {
        tn_error(err, "virtio-blk: %s", m->error ? m->error : "cannot plug the device");
        g_free(b);
        return NULL;
    }
    machine_keep(m, b);
    return b;
}
