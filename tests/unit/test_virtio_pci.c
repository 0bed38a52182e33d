/* The modern virtio PCI transport (devices/virtio_pci.c) as a driver sees
 * it: the function's identity, the vendor capabilities walked from the
 * capability pointer, the BAR they point into (64-bit, placed above 4 GiB
 * too), common-cfg feature negotiation and queue set-up, the notify
 * address, ISR read-to-clear and INTx, the PCI_CFG window onto the BAR,
 * bus mastering, and hostile values. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <glib.h>
#include <string.h>

#include "devices/pci.h"
#include "devices/virtio.h"
#include "devices/virtio_pci.h"
#include "vmm/machine.h"

#include "virtq_driver.h"

#define RAM      0x100000ull
#define RAM_SIZE 0x10000ull
#define DESC     (RAM + 0x1000)
#define AVAIL    (RAM + 0x2000)
#define USED     (RAM + 0x3000)
#define BUF      (RAM + 0x8000)
#define QSIZE    8
#define BAR_LO   0xfe000000ull
#define TYPE     0x2a
#define DEVFN    PCI_DEVFN(3, 0)

static uint64_t icount;
static Machine *m;
static uint8_t *ram;
static PciBus *bus;
static PciDevice *fn;
static VirtioPci *vp;
static VirtioDevice *vdev;
static int intx;
static VqDriver drv;

/* Found by walking the capability list. */
static struct {
    uint64_t common, notify, isr, device;
    uint32_t common_len, notify_len, isr_len, device_len, mult;
    unsigned pcicfg;         /* the PCI_CFG capability's position */
    int found;
} caps;

static void route(void *opaque, PciDevice *d, int pin, int level)
{
    cr_assert_eq(pin, 0);
    intx = level;
}

/* The same echo backend as test_virtio_mmio: queue 0 upper-cases what it
 * reads into the writable part. */
typedef struct Echo {
    uint8_t config[8];
    int resets, processed;
} Echo;

static Echo echo;

static uint64_t echo_features(void *be) { return (1ull << VIRTIO_F_INDIRECT_DESC) | 0x5; }

static uint64_t echo_config_read(void *be, uint32_t off, unsigned size)
{
    uint64_t v = 0;
    cr_assert_leq(off + size, sizeof(echo.config));
    memcpy(&v, echo.config + off, size);
    return v;
}

static void echo_config_write(void *be, uint32_t off, uint64_t val, unsigned size)
{
    cr_assert_leq(off + size, sizeof(echo.config));
    memcpy(echo.config + off, &val, size);
}

static bool echo_one(void *opaque, VirtQueue *vq, const VirtqElem *el)
{
    uint8_t buf[512];
    size_t len = virtq_elem_read(vq, el, 0, buf, MIN(el->out_len, sizeof(buf)));
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)toupper(buf[i]);
    virtq_push(vq, el, (uint32_t)virtq_elem_write(vq, el, 0, buf, len));
    echo.processed++;
    return true;
}

static void echo_notify(void *be, VirtQueue *vq) { virtq_drain(vq, echo_one, NULL); }
static void echo_reset(void *be) { echo.resets++; }

static const VirtioDeviceOps echo_ops = {
    .name = "echo",
    .device_id = TYPE,
    .num_queues = 2,
    .queue_max = QSIZE,
    .config_size = 8,
    .features = echo_features,
    .config_read = echo_config_read,
    .config_write = echo_config_write,
    .queue_notify = echo_notify,
    .reset = echo_reset,
};

static uint32_t cfg(unsigned off, unsigned size) { return pci_config_read(fn, off, size); }
static void cfgw(unsigned off, uint32_t v, unsigned size) { pci_config_write(fn, off, v, size); }

static uint64_t bar_base(void)
{
    return (cfg(PCI_BASE_ADDRESS_0 + 16, 4) & ~0xfull) |
           (uint64_t)cfg(PCI_BASE_ADDRESS_0 + 20, 4) << 32;
}

static uint64_t rd(uint64_t addr, unsigned size)
{
    uint64_t v = 0;
    cr_assert_eq(as_read(&m->as, addr, size, &v), MEM_OK, "read at 0x%llx",
                 (unsigned long long)addr);
    return v;
}

static void wr(uint64_t addr, unsigned size, uint64_t v)
{
    cr_assert_eq(as_write(&m->as, addr, size, v), MEM_OK);
}

static uint64_t common(unsigned off, unsigned size) { return rd(caps.common + off, size); }
static void common_w(unsigned off, unsigned size, uint64_t v) { wr(caps.common + off, size, v); }

/* As Linux's virtio_pci_modern_dev does: every vendor capability, the
 * first of each type, its BAR's address plus offset. */
static void parse_caps(void)
{
    memset(&caps, 0, sizeof(caps));
    cr_assert(cfg(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
    unsigned pos = cfg(PCI_CAPABILITY_LIST, 1), hops = 0;
    while (pos) {
        cr_assert_geq(pos, PCI_CONFIG_HEADER_SIZE);
        cr_assert_lt(hops++, 48, "capability list loops");
        cr_assert_eq(cfg(pos, 1), PCI_CAP_ID_VNDR);
        unsigned type = cfg(pos + 3, 1), bar = cfg(pos + 4, 1);
        uint32_t off = cfg(pos + 8, 4), len = cfg(pos + 12, 4);
        if (type == VIRTIO_PCI_CAP_PCI_CFG) {
            /* Its bar, offset and length are the driver's to write. */
            cr_assert_geq(cfg(pos + 2, 1), 20);
            if (!caps.pcicfg)
                caps.pcicfg = pos;
            caps.found |= 1 << type;
            pos = cfg(pos + 1, 1);
            continue;
        }
        cr_assert_eq(bar, 4);
        uint64_t a = bar_base() + off;
        switch (type) {
        case VIRTIO_PCI_CAP_COMMON_CFG:
            caps.common = a, caps.common_len = len;
            break;
        case VIRTIO_PCI_CAP_NOTIFY_CFG:
            cr_assert_geq(cfg(pos + 2, 1), 20);
            caps.notify = a, caps.notify_len = len, caps.mult = cfg(pos + 16, 4);
            break;
        case VIRTIO_PCI_CAP_ISR_CFG:
            caps.isr = a, caps.isr_len = len;
            break;
        case VIRTIO_PCI_CAP_DEVICE_CFG:
            caps.device = a, caps.device_len = len;
            break;
        default:
            cr_assert_fail("unexpected cfg_type %u", type);
        }
        caps.found |= 1 << type;
        pos = cfg(pos + 1, 1);
    }
    cr_assert_eq(caps.found, 0x3e);
}

/* What firmware does: BAR 4 at hi:BAR_LO, memory decoding, bus master. */
static void place_bar(uint32_t hi)
{
    cfgw(PCI_BASE_ADDRESS_0 + 16, (uint32_t)BAR_LO, 4);
    cfgw(PCI_BASE_ADDRESS_0 + 20, hi, 4);
    cfgw(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    parse_caps();
}

static void setup(void)
{
    m = g_new0(Machine, 1);
    as_init(&m->as);
    as_init(&m->io);
    icount = 0;
    m->icount = &icount;
    vclock_init(&m->clock, &icount, 0);
    ram = g_malloc0(RAM_SIZE);
    cr_assert_eq(as_add_ram(&m->as, "ram", RAM, RAM_SIZE, ram, false), 0);
    bus = pci_bus_create(m, &m->io);
    cr_assert_not_null(bus);
    pci_bus_set_intx_router(bus, route, NULL);
    intx = 0;
    memset(&echo, 0, sizeof(echo));
    GError *err = NULL;
    vp = virtio_pci_create(m, bus, DEVFN, &m->as, TYPE, &err);
    cr_assert_not_null(vp);
    vdev = virtio_pci_plug(vp, &echo_ops, &echo);
    cr_assert_not_null(vdev, "%s", m->error);
    fn = virtio_pci_device(vp);
    drv = (VqDriver){ .m = m, .ram = ram, .ram_base = RAM };
}

static void teardown(void)
{
    for (int i = m->ndevices - 1; i >= 0; i--)
        m->devices[i].ops->destroy(m->devices[i].dev);
    g_free(m->devices);
    g_free(m->error);
    g_free(m);
    g_free(ram);
}

TestSuite(virtio_pci, .init = setup, .fini = teardown);

#define V1 (1ull << VIRTIO_F_VERSION_1)

static void negotiate(uint64_t f)
{
    common_w(VIRTIO_PCI_COMMON_STATUS, 1, 0);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_STATUS, 1), 0);
    common_w(VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    common_w(VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
    common_w(VIRTIO_PCI_COMMON_GF, 4, (uint32_t)f);
    common_w(VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
    common_w(VIRTIO_PCI_COMMON_GF, 4, (uint32_t)(f >> 32));
    common_w(VIRTIO_PCI_COMMON_STATUS, 1, 0x0b);
}

/* Queue 0 as Linux sets it up: size as offered or smaller, the three
 * addresses as 32-bit halves, enable, notify offset. */
static VqRing queue0(uint16_t size)
{
    VqRing q = { .index = 0, .desc = DESC, .avail = AVAIL, .used = USED, .size = size };
    memset(vqd_gp(&drv, AVAIL), 0, 0x1000);
    memset(vqd_gp(&drv, USED), 0, 0x1000);
    common_w(VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_Q_SIZE, 2), QSIZE);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
    common_w(VIRTIO_PCI_COMMON_Q_SIZE, 2, size);
    common_w(VIRTIO_PCI_COMMON_Q_DESCLO, 4, (uint32_t)DESC);
    common_w(VIRTIO_PCI_COMMON_Q_DESCHI, 4, 0);
    common_w(VIRTIO_PCI_COMMON_Q_AVAILLO, 4, (uint32_t)AVAIL);
    common_w(VIRTIO_PCI_COMMON_Q_AVAILHI, 4, 0);
    common_w(VIRTIO_PCI_COMMON_Q_USEDLO, 8, USED);     /* one 64-bit store works too */
    common_w(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
    return q;
}

static uint64_t notify_addr(unsigned q)
{
    common_w(VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
    return caps.notify + common(VIRTIO_PCI_COMMON_Q_NOFF, 2) * caps.mult;
}

/* "hello" out, 8 bytes back; returns the used index after the kick. */
static uint16_t request(VqRing *q, uint16_t head)
{
    memcpy(vqd_gp(&drv, BUF), "hello", 5);
    vqd_put_desc(&drv, DESC, head, BUF, 5, VIRTQ_DESC_F_NEXT, (uint16_t)(head + 1));
    vqd_put_desc(&drv, DESC, head + 1u, BUF + 0x100, 8, VIRTQ_DESC_F_WRITE, 0);
    vqd_offer(&drv, q, head);
    wr(notify_addr(q->index), 2, q->index);
    return vqd_used_idx(&drv, q);
}

Test(virtio_pci, identity)
{
    cr_assert_eq(cfg(PCI_VENDOR_ID, 2), 0x1af4);
    cr_assert_eq(cfg(PCI_DEVICE_ID, 2), 0x1040 + TYPE);
    cr_assert_eq(cfg(PCI_REVISION_ID, 1), 1);
    cr_assert_eq(cfg(PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
    cr_assert_geq(cfg(PCI_SUBSYSTEM_ID, 2), 0x40);
    cr_assert_eq(cfg(PCI_INTERRUPT_PIN, 1), 1);
    cr_assert_eq(cfg(PCI_CAPABILITY_LIST, 1), VIRTIO_PCI_CAP_FIRST);
    /* BAR 4 sizes as 16 KiB, 64-bit, prefetchable; BAR 5 is its high half. */
    cfgw(PCI_BASE_ADDRESS_0 + 16, 0xffffffff, 4);
    cfgw(PCI_BASE_ADDRESS_0 + 20, 0xffffffff, 4);
    cr_assert_eq(cfg(PCI_BASE_ADDRESS_0 + 16, 4), 0xffffc00c);
    cr_assert_eq(cfg(PCI_BASE_ADDRESS_0 + 20, 4), 0xffffffff);
    for (int b = 0; b < 4; b++)
        cr_assert_eq(cfg(PCI_BASE_ADDRESS_0 + 4 * b, 4), 0, "BAR %d", b);
    /* Types 1 and 2 are the network card and the disk of QEMU. */
    GError *err = NULL;
    VirtioPci *net = virtio_pci_create(m, bus, PCI_DEVFN(4, 0), &m->as, 1, &err);
    VirtioPci *blk = virtio_pci_create(m, bus, PCI_DEVFN(5, 0), &m->as, 2, &err);
    cr_assert(net && blk);
    cr_assert_eq(pci_config_read(virtio_pci_device(net), PCI_DEVICE_ID, 2), 0x1041);
    cr_assert_eq(pci_config_read(virtio_pci_device(net), PCI_CLASS_DEVICE, 2), 0x0200);
    cr_assert_eq(pci_config_read(virtio_pci_device(blk), PCI_DEVICE_ID, 2), 0x1042);
    cr_assert_eq(pci_config_read(virtio_pci_device(blk), PCI_CLASS_DEVICE, 2), 0x0100);
    /* A taken slot, a type without a modern ID, a backend of another type. */
    cr_assert_null(virtio_pci_create(m, bus, DEVFN, &m->as, 1, &err));
    g_clear_error(&err);
    cr_assert_null(virtio_pci_create(m, bus, PCI_DEVFN(6, 0), &m->as, 0x40, &err));
    g_clear_error(&err);
    cr_assert_null(virtio_pci_plug(net, &echo_ops, &echo));
    cr_assert(strstr(m->error, "type"), "%s", m->error);
    cr_assert_null(virtio_pci_plug(vp, &echo_ops, &echo));   /* already plugged */
}

Test(virtio_pci, capabilities)
{
    place_bar(0);
    cr_assert_eq(caps.common, BAR_LO + VIRTIO_PCI_COMMON_OFF);
    cr_assert_geq(caps.common_len, 0x38);
    cr_assert_eq(caps.isr_len, 1);
    cr_assert_eq(caps.device_len, 8);
    cr_assert_eq(caps.mult, 4);
    cr_assert_geq(caps.notify_len, 2 * caps.mult);
    /* The list is read-only to the guest, but for the PCI_CFG window's
     * bar, offset, length and data. */
    for (unsigned off = VIRTIO_PCI_CAP_FIRST; off < 0x100; off += 4) {
        uint32_t v = cfg(off, 4), rw = 0;
        if (off == caps.pcicfg + 4)
            rw = 0xff;
        else if (off >= caps.pcicfg + 8 && off < caps.pcicfg + 20)
            rw = 0xffffffff;
        cfgw(off, ~v, 4);
        cr_assert_eq(cfg(off, 4) & ~rw, v & ~rw, "config 0x%x", off);
        cfgw(off, v, 4);
    }
    cfgw(PCI_CAPABILITY_LIST, 0x80, 1);
    cr_assert_eq(cfg(PCI_CAPABILITY_LIST, 1), VIRTIO_PCI_CAP_FIRST);
    /* Without memory decoding the registers are gone. */
    uint64_t v;
    cfgw(PCI_COMMAND, 0, 2);
    cr_assert_eq(as_read(&m->as, caps.common + VIRTIO_PCI_COMMON_NUMQ, 2, &v), MEM_UNMAPPED);
    /* A 64-bit BAR placed above 4 GiB decodes there. */
    place_bar(1);
    cr_assert_eq(caps.common, (1ull << 32) + BAR_LO);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_NUMQ, 2), 2);
    cr_assert_eq(as_read(&m->as, BAR_LO + VIRTIO_PCI_COMMON_NUMQ, 2, &v), MEM_UNMAPPED);
}

Test(virtio_pci, features)
{
    place_bar(0);
    common_w(VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_DF, 4), (1u << VIRTIO_F_INDIRECT_DESC) | 0x5);
    common_w(VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_DF, 4), 1);            /* VERSION_1 */
    common_w(VIRTIO_PCI_COMMON_DFSELECT, 4, 2);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_DF, 4), 0);
    common_w(VIRTIO_PCI_COMMON_DFSELECT, 4, 0xffffffff);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_DFSELECT, 4), 0xffffffff);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_DF, 4), 0);
    /* Without VERSION_1, FEATURES_OK does not stick. */
    negotiate(0x1);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_STATUS, 1), 0x03);
    negotiate(V1 | 0x4);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_STATUS, 1), 0x0b);
    common_w(VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_GF, 4), 0x4);
    /* Frozen once FEATURES_OK is set; selector 7 writes nothing. */
    common_w(VIRTIO_PCI_COMMON_GF, 4, 0x1);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_GF, 4), 0x4);
    common_w(VIRTIO_PCI_COMMON_GFSELECT, 4, 7);
    common_w(VIRTIO_PCI_COMMON_GF, 4, 0xffffffff);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_GF, 4), 0);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
    common_w(VIRTIO_PCI_COMMON_MSIX, 2, 0);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
}

Test(virtio_pci, round_trip_isr_and_intx)
{
    place_bar(0);
    cfgw(PCI_INTERRUPT_LINE, 11, 1);
    negotiate(V1);
    VqRing q = queue0(4);
    common_w(VIRTIO_PCI_COMMON_STATUS, 1, 0x0f);
    cr_assert_eq(intx, 0);
    cr_assert_eq(request(&q, 0), 1);
    cr_assert_eq(vqd_used_len(&drv, &q, 0), 5);
    cr_assert_eq(memcmp(vqd_gp(&drv, BUF + 0x100), "HELLO", 5), 0);
    cr_assert_eq(intx, 1);
    cr_assert(cfg(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
    /* The ISR read returns the queue bit, clears it and drops INTx. */
    cr_assert_eq(rd(caps.isr, 1), VIRTIO_ISR_QUEUE);
    cr_assert_eq(intx, 0);
    cr_assert_eq(rd(caps.isr, 1), 0);
    /* Writes to ISR change nothing; DisINTx masks the line. */
    cr_assert_eq(request(&q, 2), 2);
    wr(caps.isr, 1, 0);
    cr_assert_eq(intx, 1);
    cfgw(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE, 2);
    cr_assert_eq(intx, 0);
    cr_assert_eq(rd(caps.isr, 1), VIRTIO_ISR_QUEUE);
    cfgw(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    cr_assert_eq(intx, 0);
    /* The device config window: the backend's bytes, 1/2/4 wide. */
    wr(caps.device + 2, 2, 0xbeef);
    cr_assert_eq(rd(caps.device, 4), 0xbeef0000);
    cr_assert_eq(rd(caps.device + 3, 1), 0xbe);
    cr_assert_eq(rd(caps.device + 8, 4), 0);                   /* past config_size */
    cr_assert_eq(rd(caps.device, 8), 0);
    wr(caps.device + 8, 4, 0x12345678);
    wr(caps.device + 0xffc, 4, 0x12345678);
    cr_assert_eq(echo.processed, 2);
}

Test(virtio_pci, status_zero_resets)
{
    place_bar(0);
    negotiate(V1);
    VqRing q = queue0(4);
    common_w(VIRTIO_PCI_COMMON_STATUS, 1, 0x0f);
    common_w(VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
    request(&q, 0);
    int resets = echo.resets;
    common_w(VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
    common_w(VIRTIO_PCI_COMMON_STATUS, 1, 0);
    cr_assert_eq(echo.resets, resets + 1);
    cr_assert_eq(intx, 0);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_STATUS, 1), 0);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_DFSELECT, 4), 0);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_Q_SELECT, 2), 0);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_Q_SIZE, 2), QSIZE);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_Q_DESCLO, 4), 0);
    cr_assert_eq(rd(caps.isr, 1), 0);
    /* A machine reset does the same, and the function's config too. */
    negotiate(V1);
    queue0(4);
    m->devices[m->ndevices - 1].ops->reset(m->devices[m->ndevices - 1].dev);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_STATUS, 1), 0);
}

Test(virtio_pci, hostile_values)
{
    place_bar(0);
    negotiate(V1);
    /* A selector past the queues: size 0, nothing sticks, no kick. */
    common_w(VIRTIO_PCI_COMMON_Q_SELECT, 2, 0xffff);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_Q_SELECT, 2), 0xffff);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
    common_w(VIRTIO_PCI_COMMON_Q_SIZE, 2, 4);
    common_w(VIRTIO_PCI_COMMON_Q_DESCLO, 8, DESC);
    common_w(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_Q_DESCLO, 8), 0);
    /* Sizes 0 and above the maximum are refused. */
    common_w(VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
    common_w(VIRTIO_PCI_COMMON_Q_SIZE, 2, 0);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_Q_SIZE, 2), QSIZE);
    common_w(VIRTIO_PCI_COMMON_Q_SIZE, 2, QSIZE + 1);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_Q_SIZE, 2), QSIZE);
    common_w(VIRTIO_PCI_COMMON_Q_SIZE, 2, 0xffff);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_Q_SIZE, 2), QSIZE);
    /* Read-only fields stay; writing 0 to queue_enable is not a reset. */
    common_w(VIRTIO_PCI_COMMON_NUMQ, 2, 9);
    common_w(VIRTIO_PCI_COMMON_Q_NOFF, 2, 9);
    common_w(VIRTIO_PCI_COMMON_CFGGENERATION, 1, 9);
    common_w(VIRTIO_PCI_COMMON_DF, 4, 0);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_NUMQ, 2), 2);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_Q_NOFF, 2), 0);
    VqRing q = queue0(4);
    common_w(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 0);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
    /* An enabled queue's layout is fixed. */
    common_w(VIRTIO_PCI_COMMON_Q_SIZE, 2, 2);
    common_w(VIRTIO_PCI_COMMON_Q_DESCLO, 4, 0x1234);
    common_w(VIRTIO_PCI_COMMON_Q_USEDLO, 8, 0);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_Q_SIZE, 2), 4);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_Q_DESCLO, 8), DESC);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_Q_USEDLO, 8), USED);
    /* Widths other than the field's read 0 and write nothing. */
    cr_assert_eq(common(VIRTIO_PCI_COMMON_Q_SIZE, 4), 0);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_Q_SIZE, 1), 0);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_DFSELECT, 2), 0);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_Q_DESCLO + 2, 2), 0);
    common_w(VIRTIO_PCI_COMMON_STATUS, 2, 0);                   /* not a reset */
    common_w(VIRTIO_PCI_COMMON_STATUS, 4, 0x10000);              /* status and q_select */
    common_w(VIRTIO_PCI_COMMON_Q_SELECT, 1, 1);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_STATUS, 1), 0x0b);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_Q_SELECT, 2), 0);
    /* Past the common structure, in the gaps, in the notify page: 0. */
    for (uint64_t off = 0x38; off < VIRTIO_PCI_BAR_SIZE; off += 0x1f8)
        if (off < VIRTIO_PCI_ISR_OFF || off >= VIRTIO_PCI_ISR_OFF + VIRTIO_PCI_REGION_SIZE)
            for (unsigned s = 1; s <= 8; s <<= 1) {
                uint64_t a = (BAR_LO + off) & ~(uint64_t)(s - 1);
                if (a < caps.device || a >= caps.device + VIRTIO_PCI_REGION_SIZE)
                    cr_assert_eq(rd(a, s), 0, "0x%llx/%u", (unsigned long long)a, s);
                wr(a, s, ~0ull);
            }
    cr_assert_eq(common(VIRTIO_PCI_COMMON_STATUS, 1), 0x0b);
    /* Kicks: a queue not enabled, past the queues, odd widths, the far end
     * of the notify page. */
    common_w(VIRTIO_PCI_COMMON_STATUS, 1, 0x0f);
    memcpy(vqd_gp(&drv, BUF), "hello", 5);
    vqd_put_desc(&drv, DESC, 0, BUF, 5, VIRTQ_DESC_F_NEXT, 1);
    vqd_put_desc(&drv, DESC, 1, BUF + 0x100, 8, VIRTQ_DESC_F_WRITE, 0);
    vqd_offer(&drv, &q, 0);
    wr(caps.notify + caps.mult, 2, 1);                        /* queue 1: not enabled */
    wr(caps.notify + 2 * caps.mult, 2, 0);                    /* no queue 2 */
    wr(caps.notify + VIRTIO_PCI_REGION_SIZE - 8, 8, 0);
    cr_assert_eq(echo.processed, 0);
    wr(caps.notify, 1, 0x55);                                 /* the address counts */
    cr_assert_eq(echo.processed, 1);
    cr_assert_eq(vqd_used_idx(&drv, &q), 1);
    cr_assert_eq(rd(caps.notify, 4), 0);
    /* A ring outside RAM: DEVICE_NEEDS_RESET, a config interrupt, no crash;
     * the queue stays stopped until a reset. */
    rd(caps.isr, 1);
    negotiate(V1);
    common_w(VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
    common_w(VIRTIO_PCI_COMMON_Q_DESCLO, 8, 0xfffffffffffff000ull);
    common_w(VIRTIO_PCI_COMMON_Q_AVAILLO, 8, AVAIL);
    common_w(VIRTIO_PCI_COMMON_Q_USEDLO, 8, USED);
    common_w(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
    common_w(VIRTIO_PCI_COMMON_STATUS, 1, 0x0f);
    memset(vqd_gp(&drv, AVAIL), 0, 8);
    q.avail_idx = 0;
    vqd_offer(&drv, &q, 0);
    wr(caps.notify, 2, 0);
    cr_assert(common(VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    cr_assert_eq(intx, 1);
    cr_assert_eq(rd(caps.isr, 1), VIRTIO_ISR_CONFIG);
    cr_assert_eq(intx, 0);
    common_w(VIRTIO_PCI_COMMON_STATUS, 1, 0x0f);              /* the driver cannot clear it */
    cr_assert(common(VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    common_w(VIRTIO_PCI_COMMON_STATUS, 1, 0);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_STATUS, 1), 0);
}

/* ---- the PCI_CFG window ---- */

static void win_set(unsigned bar, uint32_t off, uint32_t len)
{
    cfgw(caps.pcicfg + 4, bar, 1);
    cfgw(caps.pcicfg + 8, off, 4);
    cfgw(caps.pcicfg + 12, len, 4);
}

static uint32_t win_mask(unsigned len)
{
    return 0xffffffffu >> (32 - 8 * len);
}

/* As SeaBIOS's vp_read does through the window: the first len bytes. */
static uint32_t win_rd(uint32_t off, unsigned len)
{
    win_set(4, off, len);
    return cfg(caps.pcicfg + 16, 4) & win_mask(len);
}

static void win_wr(uint32_t off, unsigned len, uint32_t v)
{
    win_set(4, off, len);
    cfgw(caps.pcicfg + 16, v, len);
}

Test(virtio_pci, pci_cfg_window_reads_and_writes)
{
    place_bar(0);
    cr_assert_neq(caps.pcicfg, 0);
    /* Closed at reset: bar 0, length 0, data 0. */
    cr_assert_eq(cfg(caps.pcicfg + 4, 1), 0);
    cr_assert_eq(cfg(caps.pcicfg + 12, 4), 0);
    cr_assert_eq(cfg(caps.pcicfg + 16, 4), 0);
    negotiate(V1);
    VqRing q = queue0(4);
    /* Reads equal the BAR's, at each field's width. */
    static const struct { uint32_t off; unsigned len; } f[] = {
        { VIRTIO_PCI_COMMON_DFSELECT, 4 }, { VIRTIO_PCI_COMMON_DF, 4 },
        { VIRTIO_PCI_COMMON_NUMQ, 2 }, { VIRTIO_PCI_COMMON_STATUS, 1 },
        { VIRTIO_PCI_COMMON_Q_SIZE, 2 }, { VIRTIO_PCI_COMMON_Q_ENABLE, 2 },
        { VIRTIO_PCI_COMMON_Q_DESCLO, 4 }, { VIRTIO_PCI_COMMON_Q_USEDLO, 4 },
        { VIRTIO_PCI_COMMON_MSIX, 2 }, { VIRTIO_PCI_COMMON_Q_SIZE, 4 },
        { VIRTIO_PCI_DEVICE_OFF, 4 }, { VIRTIO_PCI_DEVICE_OFF + 3, 1 },
        { VIRTIO_PCI_DEVICE_OFF + 6, 2 }, { VIRTIO_PCI_DEVICE_OFF + 8, 4 },
        { 0x800, 4 }, { VIRTIO_PCI_NOTIFY_OFF, 2 },
    };
    memcpy(echo.config, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
    for (size_t i = 0; i < G_N_ELEMENTS(f); i++)
        cr_assert_eq(win_rd(f[i].off, f[i].len), rd(BAR_LO + f[i].off, f[i].len),
                     "0x%x/%u", f[i].off, f[i].len);
    cr_assert_eq(win_rd(VIRTIO_PCI_COMMON_NUMQ, 2), 2);
    cr_assert_eq(win_rd(VIRTIO_PCI_DEVICE_OFF + 4, 4), 0x88776655);
    /* A byte of the data register: that byte of the BAR's value. */
    win_set(4, VIRTIO_PCI_DEVICE_OFF, 4);
    cr_assert_eq(cfg(caps.pcicfg + 17, 1), 0x22);
    cr_assert_eq(cfg(caps.pcicfg + 18, 2), 0x4433);
    /* Writes land where a BAR write does. */
    win_wr(VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_Q_SELECT, 2), 1);
    win_wr(VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
    win_wr(VIRTIO_PCI_DEVICE_OFF + 2, 2, 0xbeef);
    cr_assert_eq(rd(caps.device, 4), 0xbeef2211);
    win_wr(VIRTIO_PCI_DEVICE_OFF + 4, 4, 0xcafef00d);
    cr_assert_eq(memcmp(echo.config + 4, "\x0d\xf0\xfe\xca", 4), 0);
    /* A one-byte store to the data with length 4 writes all four bytes
     * the data holds (here what a read of the window left there). */
    win_set(4, VIRTIO_PCI_DEVICE_OFF, 4);
    cr_assert_eq(cfg(caps.pcicfg + 16, 4), 0xbeef2211);
    cfgw(caps.pcicfg + 16, 0x5a, 1);
    cr_assert_eq(rd(caps.device, 4), 0xbeef225a);
    /* The whole protocol through the window, the BAR unmapped: DRIVER_OK,
     * a kick, ISR read-to-clear. */
    cfgw(PCI_COMMAND, PCI_COMMAND_MASTER, 2);
    uint64_t v;
    cr_assert_eq(as_read(&m->as, caps.common, 1, &v), MEM_UNMAPPED);
    win_wr(VIRTIO_PCI_COMMON_STATUS, 1, 0x0f);
    cr_assert_eq(win_rd(VIRTIO_PCI_COMMON_STATUS, 1), 0x0f);
    memcpy(vqd_gp(&drv, BUF), "hello", 5);
    vqd_put_desc(&drv, DESC, 0, BUF, 5, VIRTQ_DESC_F_NEXT, 1);
    vqd_put_desc(&drv, DESC, 1, BUF + 0x100, 8, VIRTQ_DESC_F_WRITE, 0);
    vqd_offer(&drv, &q, 0);
    win_wr(VIRTIO_PCI_NOTIFY_OFF, 2, 0);
    cr_assert_eq(vqd_used_idx(&drv, &q), 1);
    cr_assert_eq(memcmp(vqd_gp(&drv, BUF + 0x100), "HELLO", 5), 0);
    cr_assert_eq(intx, 1);
    cr_assert_eq(win_rd(VIRTIO_PCI_ISR_OFF, 1), VIRTIO_ISR_QUEUE);
    cr_assert_eq(intx, 0);
    cr_assert_eq(win_rd(VIRTIO_PCI_ISR_OFF, 1), 0);
    /* A status write of 0 through it resets the device. */
    win_wr(VIRTIO_PCI_COMMON_STATUS, 1, 0);
    cr_assert_eq(win_rd(VIRTIO_PCI_COMMON_STATUS, 1), 0);
    cr_assert_eq(win_rd(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
}

Test(virtio_pci, pci_cfg_window_hostile)
{
    place_bar(0);
    negotiate(V1);
    memcpy(echo.config, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
    /* Other BARs, lengths other than 1, 2 and 4, unaligned offsets, the end
     * of the BAR and past it (with 32-bit wrap-around): reads 0, writes
     * nothing. */
    static const struct { unsigned bar; uint32_t off, len; } w[] = {
        { 0, VIRTIO_PCI_COMMON_NUMQ, 2 }, { 5, VIRTIO_PCI_COMMON_NUMQ, 2 },
        { 0xff, VIRTIO_PCI_COMMON_NUMQ, 2 }, { 3, VIRTIO_PCI_COMMON_NUMQ, 2 },
        { 4, VIRTIO_PCI_COMMON_NUMQ, 0 }, { 4, VIRTIO_PCI_COMMON_NUMQ, 3 },
        { 4, VIRTIO_PCI_COMMON_NUMQ, 8 }, { 4, VIRTIO_PCI_COMMON_NUMQ, 0xffffffff },
        { 4, VIRTIO_PCI_COMMON_NUMQ, 0x80000002 },
        { 4, VIRTIO_PCI_DEVICE_OFF + 1, 2 }, { 4, VIRTIO_PCI_DEVICE_OFF + 2, 4 },
        { 4, VIRTIO_PCI_COMMON_STATUS + 1, 4 },
        { 4, VIRTIO_PCI_BAR_SIZE, 1 }, { 4, VIRTIO_PCI_BAR_SIZE + VIRTIO_PCI_COMMON_NUMQ, 2 },
        { 4, 0xfffffffc, 4 }, { 4, 0xffffffff, 1 },
        { 4, 0x100000000ull - VIRTIO_PCI_BAR_SIZE + VIRTIO_PCI_COMMON_NUMQ, 2 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(w); i++) {
        win_set(w[i].bar, w[i].off, w[i].len);
        cfgw(caps.pcicfg + 16, 0xdeadbeef, 4);
        cr_assert_eq(cfg(caps.pcicfg + 16, 4), 0, "bar %u off 0x%x len %u", w[i].bar,
                     w[i].off, w[i].len);
        cfgw(caps.pcicfg + 16, 0, 4);
    }
    /* Nothing moved: status, selectors, the backend's config. */
    cr_assert_eq(common(VIRTIO_PCI_COMMON_STATUS, 1), 0x0b);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_DFSELECT, 4), 0);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_Q_SELECT, 2), 0);
    cr_assert_eq(memcmp(echo.config, "\x11\x22\x33\x44\x55\x66\x77\x88", 8), 0);
    /* A valid window onto nothing (a gap, past the common structure, the
     * write-only notify page): what the BAR gives, 0. */
    cr_assert_eq(win_rd(0x0ffc, 4), 0);
    cr_assert_eq(win_rd(VIRTIO_PCI_COMMON_LEN, 4), 0);
    cr_assert_eq(win_rd(VIRTIO_PCI_ISR_OFF + 4, 4), 0);
    cr_assert_eq(win_rd(VIRTIO_PCI_BAR_SIZE - 4, 4), 0);
    /* The data register spans no other field: a window write next to it
     * opens nothing. */
    cr_assert_eq(caps.pcicfg + 20 <= 0x100, true);
    /* A machine reset closes the window. */
    win_set(4, VIRTIO_PCI_COMMON_NUMQ, 2);
    pci_device_reset(fn);
    cr_assert_eq(cfg(caps.pcicfg + 4, 1), 0);
    cr_assert_eq(cfg(caps.pcicfg + 8, 4), 0);
    cr_assert_eq(cfg(caps.pcicfg + 12, 4), 0);
    cr_assert_eq(cfg(caps.pcicfg + 16, 4), 0);
}

/* ---- bus mastering ---- */

Test(virtio_pci, no_dma_without_bus_master)
{
    place_bar(0);
    negotiate(V1);
    VqRing q = queue0(4);
    common_w(VIRTIO_PCI_COMMON_STATUS, 1, 0x0f);
    cfgw(PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    memcpy(vqd_gp(&drv, BUF), "hello", 5);
    vqd_put_desc(&drv, DESC, 0, BUF, 5, VIRTQ_DESC_F_NEXT, 1);
    vqd_put_desc(&drv, DESC, 1, BUF + 0x100, 8, VIRTQ_DESC_F_WRITE, 0);
    vqd_offer(&drv, &q, 0);
    uint64_t kick = notify_addr(0);
    /* Kicks (and a kick through the PCI_CFG window) change no byte of RAM
     * and raise nothing; registers still work. */
    uint8_t *before = g_memdup2(ram, RAM_SIZE);
    wr(kick, 2, 0);
    wr(kick, 2, 0);
    win_wr(VIRTIO_PCI_NOTIFY_OFF, 2, 0);
    cfgw(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE, 2);
    cfgw(PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    cr_assert_eq(memcmp(ram, before, RAM_SIZE), 0);
    cr_assert_eq(echo.processed, 0);
    cr_assert_eq(intx, 0);
    cr_assert_eq(rd(caps.isr, 1), 0);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_STATUS, 1), 0x0f);
    /* What a backend that takes buffers on its own (virtio-net receive)
     * sees: no buffer, no broken ring, nothing written. */
    uint64_t in_len;
    bool broken = true;
    cr_assert_not(virtq_peek(&vdev->vq[0], &in_len, &broken));
    cr_assert_not(broken);
    cr_assert_null(virtq_pop(&vdev->vq[0]));
    virtq_notify(&vdev->vq[0]);
    cr_assert_eq(intx, 0);
    cr_assert_eq(common(VIRTIO_PCI_COMMON_STATUS, 1), 0x0f);
    cr_assert_eq(memcmp(ram, before, RAM_SIZE), 0);
    /* Setting the bit runs the kick that waited, once. */
    cfgw(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    cr_assert_eq(echo.processed, 1);
    cr_assert_eq(vqd_used_idx(&drv, &q), 1);
    cr_assert_eq(memcmp(vqd_gp(&drv, BUF + 0x100), "HELLO", 5), 0);
    cr_assert_eq(intx, 1);
    cr_assert_eq(rd(caps.isr, 1), VIRTIO_ISR_QUEUE);
    cfgw(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    cr_assert_eq(echo.processed, 1);
    /* A kick forgotten by a device reset stays forgotten. */
    cfgw(PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    vqd_offer(&drv, &q, 0);
    wr(kick, 2, 0);
    common_w(VIRTIO_PCI_COMMON_STATUS, 1, 0);
    negotiate(V1);
    q = queue0(4);
    common_w(VIRTIO_PCI_COMMON_STATUS, 1, 0x0f);
    vqd_offer(&drv, &q, 0);                     /* offered, not kicked */
    memcpy(before, ram, RAM_SIZE);
    cfgw(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    cr_assert_eq(echo.processed, 1);
    cr_assert_eq(memcmp(ram, before, RAM_SIZE), 0);
    g_free(before);
}
