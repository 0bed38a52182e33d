#include <criterion/criterion.h>
#include <ctype.h>
#include <glib.h>
#include <string.h>

#include "devices/virtio.h"
#include "devices/virtio_mmio.h"
#include "vmm/machine.h"

#define BASE     0x10001000ull
#define RAM      0x80000000ull
#define RAM_SIZE 0x10000ull
#define ROM      0x1000ull
#define DESC     (RAM + 0x1000)
#define AVAIL    (RAM + 0x2000)
#define USED     (RAM + 0x3000)
#define BUF      (RAM + 0x8000)
#define QSIZE    8

static uint64_t icount;
static Machine *m;
static uint8_t *ram, *rom;
static VirtioMmio *slot;
static int irq_level;

static void rec_irq(void *opaque, int n, int level) { irq_level = level; }

/* A fake backend: queue 0 upper-cases what it reads into the writable part. */
typedef struct Echo {
    VirtioDevice *vdev;
    uint64_t features;
    uint8_t config[8];
    int resets, processed;
    uint64_t accepted;
    bool refuse;
} Echo;

static uint64_t echo_features(void *be) { return ((Echo *)be)->features; }

static bool echo_set_features(void *be, uint64_t f)
{
    Echo *e = be;
    e->accepted = f;
    return !e->refuse;
}

static uint64_t echo_config_read(void *be, uint32_t off, unsigned size)
{
    Echo *e = be;
    uint64_t v = 0;
    cr_assert_leq(off + size, sizeof(e->config));
    memcpy(&v, e->config + off, size);
    return v;
}

static void echo_config_write(void *be, uint32_t off, uint64_t val, unsigned size)
{
    Echo *e = be;
    cr_assert_leq(off + size, sizeof(e->config));
    memcpy(e->config + off, &val, size);
}

static void echo_notify(void *be, VirtQueue *vq)
{
    Echo *e = be;
    VirtqElem *el;
    int n = 0;
    while ((el = virtq_pop(vq))) {
        uint8_t buf[512];
        size_t len = virtq_elem_read(vq, el, 0, buf, MIN(el->out_len, sizeof(buf)));
        cr_assert_eq(len, MIN(el->out_len, sizeof(buf)));
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)toupper(buf[i]);
        size_t w = virtq_elem_write(vq, el, 0, buf, len);
        virtq_push(vq, el, (uint32_t)w);
        g_free(el);
        n++;
    }
    e->processed += n;
    if (n)
        virtq_notify(vq);
}

static void echo_reset(void *be) { ((Echo *)be)->resets++; }

static const VirtioDeviceOps echo_ops = {
    .name = "echo",
    .device_id = 0x42,
    .num_queues = 2,
    .queue_max = QSIZE,
    .config_size = 8,
    .features = echo_features,
    .set_features = echo_set_features,
    .config_read = echo_config_read,
    .config_write = echo_config_write,
    .queue_notify = echo_notify,
    .reset = echo_reset,
};

static Echo echo;

static uint32_t rd(uint64_t off)
{
    uint64_t v = 0;
    cr_assert_eq(as_read(&m->as, BASE + off, 4, &v), MEM_OK);
    return (uint32_t)v;
}

static void wr(uint64_t off, uint32_t v)
{
    cr_assert_eq(as_write(&m->as, BASE + off, 4, v), MEM_OK);
}

static void setup(void)
{
    m = g_new0(Machine, 1);
    as_init(&m->as);
    icount = 0;
    m->icount = &icount;
    vclock_init(&m->clock, &icount, 0);
    ram = g_malloc0(RAM_SIZE);
    rom = g_malloc0(0x1000);
    cr_assert_eq(as_add_ram(&m->as, "ram", RAM, RAM_SIZE, ram, false), 0);
    cr_assert_eq(as_add_ram(&m->as, "rom", ROM, 0x1000, rom, true), 0);
    irq_level = 0;
    memset(&echo, 0, sizeof(echo));
    echo.features = (1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << 29) | 0x5;
    slot = virtio_mmio_create(m, BASE, irq_line(rec_irq, NULL, 1));
    cr_assert_not_null(slot);
}

static void teardown(void)
{
    for (int i = m->ndevices - 1; i >= 0; i--)
        m->devices[i].ops->destroy(m->devices[i].dev);
    g_free(m->devices);
    g_free(m->error);
    g_free(m);
    g_free(ram);
    g_free(rom);
}

TestSuite(virtio_mmio, .init = setup, .fini = teardown);

/* Guest-side helpers writing the rings straight into RAM. */
static uint8_t *gp(uint64_t pa) { return ram + (pa - RAM); }

static void put_desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len,
                     uint16_t flags, uint16_t next)
{
    uint8_t *d = table >= RAM ? gp(table) + 16 * i : rom + (table - ROM) + 16 * i;
    memcpy(d, &addr, 8);
    memcpy(d + 8, &len, 4);
    memcpy(d + 12, &flags, 2);
    memcpy(d + 14, &next, 2);
}

static uint16_t avail_idx;

static void offer(uint16_t head)
{
    memcpy(gp(AVAIL + 4 + 2 * (avail_idx % QSIZE)), &head, 2);
    avail_idx++;
    memcpy(gp(AVAIL + 2), &avail_idx, 2);
}

static uint16_t used_idx(void)
{
    uint16_t v;
    memcpy(&v, gp(USED + 2), 2);
    return v;
}

static void used_elem(unsigned i, uint32_t *id, uint32_t *len)
{
    memcpy(id, gp(USED + 4 + 8 * (i % QSIZE)), 4);
    memcpy(len, gp(USED + 8 + 8 * (i % QSIZE)), 4);
}

static VirtioDevice *plug(void)
{
    VirtioDevice *vdev = virtio_mmio_plug(slot, &echo_ops, &echo);
    cr_assert_not_null(vdev);
    echo.vdev = vdev;
    return vdev;
}

/* The driver init sequence of the virtio spec, queue 0 set up. */
static void driver_init(uint64_t features)
{
    avail_idx = 0;
    wr(VIRTIO_MMIO_STATUS, 0);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
    wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
    wr(VIRTIO_MMIO_STATUS, 0x0b);
    cr_assert_eq(rd(VIRTIO_MMIO_STATUS), 0x0b);
    wr(VIRTIO_MMIO_QUEUE_SEL, 0);
    cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), QSIZE);
    wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
    wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)DESC);
    wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
    wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)AVAIL);
    wr(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
    wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)USED);
    wr(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
    wr(VIRTIO_MMIO_QUEUE_READY, 1);
    cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_READY), 1);
    wr(VIRTIO_MMIO_STATUS, 0x0f);
}

#define V1 (1ull << VIRTIO_F_VERSION_1)

Test(virtio_mmio, empty_slot)
{
    cr_assert_eq(rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
    cr_assert_eq(rd(VIRTIO_MMIO_VERSION), 2);
    cr_assert_eq(rd(VIRTIO_MMIO_DEVICE_ID), 0);
    cr_assert_eq(rd(VIRTIO_MMIO_VENDOR_ID), 0x554d4551);
    for (uint64_t off = 0x10; off < 0x1000; off += 4) {
        wr(off, 0xffffffff);
        cr_assert_eq(rd(off), 0, "offset 0x%lx", (unsigned long)off);
    }
    cr_assert_eq(irq_level, 0);
}

Test(virtio_mmio, identity_and_features)
{
    plug();
    cr_assert_eq(rd(VIRTIO_MMIO_DEVICE_ID), 0x42);
    wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    /* Offered: device bits and INDIRECT_DESC; EVENT_IDX is not supported. */
    cr_assert_eq(rd(VIRTIO_MMIO_DEVICE_FEATURES), (1u << VIRTIO_F_INDIRECT_DESC) | 0x5);
    wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    cr_assert_eq(rd(VIRTIO_MMIO_DEVICE_FEATURES), 1);
    wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
    cr_assert_eq(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0);
    wr(VIRTIO_MMIO_QUEUE_SEL, 1);
    cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), QSIZE);
    wr(VIRTIO_MMIO_QUEUE_SEL, 2);
    cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
    wr(VIRTIO_MMIO_QUEUE_NUM, 4);       /* no such queue: ignored */
    wr(VIRTIO_MMIO_QUEUE_READY, 1);
    cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
    cr_assert_null(virtio_mmio_plug(slot, &echo_ops, &echo));
    cr_assert_not_null(m->error);
}

Test(virtio_mmio, feature_negotiation)
{
    plug();
    driver_init(V1 | 1);
    cr_assert_eq(echo.accepted, V1 | 1);
    /* Features can no longer change. */
    wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(VIRTIO_MMIO_DRIVER_FEATURES, 0x4);
    cr_assert(!virtio_has_feature(echo.vdev, 2));

    /* Unoffered bit (EVENT_IDX), missing VERSION_1, backend refusal. */
    uint64_t bad[] = { V1 | (1ull << 29), 1, V1 };
    for (int i = 0; i < 3; i++) {
        echo.refuse = i == 2;
        wr(VIRTIO_MMIO_STATUS, 0);
        wr(VIRTIO_MMIO_STATUS, 3);
        wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
        wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)bad[i]);
        wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
        wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(bad[i] >> 32));
        wr(VIRTIO_MMIO_STATUS, 0x0b);
        cr_assert_eq(rd(VIRTIO_MMIO_STATUS), 0x03, "case %d", i);
    }
}

Test(virtio_mmio, request_round_trip)
{
    plug();
    driver_init(V1);
    memcpy(gp(BUF), "hello", 5);
    put_desc(DESC, 0, BUF, 5, VIRTQ_DESC_F_NEXT, 1);
    put_desc(DESC, 1, BUF + 0x100, 16, VIRTQ_DESC_F_WRITE, 0);
    offer(0);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    cr_assert_eq(echo.processed, 1);
    cr_assert_eq(used_idx(), 1);
    uint32_t id, len;
    used_elem(0, &id, &len);
    cr_assert_eq(id, 0);
    cr_assert_eq(len, 5);
    cr_assert_eq(memcmp(gp(BUF + 0x100), "HELLO", 5), 0);
    cr_assert_eq(irq_level, 1);
    cr_assert_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_ISR_QUEUE);
    wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_QUEUE);
    cr_assert_eq(irq_level, 0);
    cr_assert_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);

    /* A notify with nothing new does nothing. */
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    cr_assert_eq(echo.processed, 1);
    cr_assert_eq(irq_level, 0);
    /* Notifies for queues that are not ready or do not exist are ignored. */
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0xffff);
    cr_assert_eq(echo.processed, 1);
}

Test(virtio_mmio, scattered_chain_and_ring_wrap)
{
    plug();
    driver_init(V1);
    /* Readable "ab" + "cdef" + "g", writable 3 + 10 bytes. */
    memcpy(gp(BUF), "ab", 2);
    memcpy(gp(BUF + 0x10), "cdef", 4);
    memcpy(gp(BUF + 0x20), "g", 1);
    put_desc(DESC, 5, BUF, 2, VIRTQ_DESC_F_NEXT, 2);
    put_desc(DESC, 2, BUF + 0x10, 4, VIRTQ_DESC_F_NEXT, 7);
    put_desc(DESC, 7, BUF + 0x20, 1, VIRTQ_DESC_F_NEXT, 0);
    put_desc(DESC, 0, BUF + 0x100, 3, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
    put_desc(DESC, 1, BUF + 0x200, 10, VIRTQ_DESC_F_WRITE, 0);
    /* Enough requests to wrap the 8-entry rings twice. */
    for (int r = 0; r < 20; r++) {
        memset(gp(BUF + 0x100), 0, 3);
        offer(5);
        wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
        cr_assert_eq(used_idx(), r + 1);
        uint32_t id, len;
        used_elem((unsigned)r, &id, &len);
        cr_assert_eq(id, 5);
        cr_assert_eq(len, 7);
        cr_assert_eq(memcmp(gp(BUF + 0x100), "ABC", 3), 0);
        cr_assert_eq(memcmp(gp(BUF + 0x200), "DEFG", 4), 0);
    }
    cr_assert_eq(echo.processed, 20);
}

Test(virtio_mmio, indirect_descriptors)
{
    plug();
    driver_init(V1 | (1ull << VIRTIO_F_INDIRECT_DESC));
    uint64_t table = RAM + 0x6000;
    memcpy(gp(BUF), "xyz", 3);
    put_desc(table, 0, BUF, 3, VIRTQ_DESC_F_NEXT, 1);
    put_desc(table, 1, BUF + 0x100, 3, VIRTQ_DESC_F_WRITE, 0);
    put_desc(DESC, 3, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
    offer(3);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    cr_assert_eq(used_idx(), 1);
    cr_assert_eq(memcmp(gp(BUF + 0x100), "XYZ", 3), 0);
    cr_assert_eq(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET, 0);
}

Test(virtio_mmio, indirect_without_the_feature_breaks)
{
    plug();
    driver_init(V1);
    uint64_t table = RAM + 0x6000;
    put_desc(table, 0, BUF, 3, 0, 0);
    put_desc(DESC, 3, table, 16, VIRTQ_DESC_F_INDIRECT, 0);
    offer(3);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    cr_assert_eq(used_idx(), 0);
    cr_assert_eq(rd(VIRTIO_MMIO_STATUS), 0x4f);
    cr_assert_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_ISR_CONFIG);
    cr_assert_eq(irq_level, 1);
}

/* Each malformed request marks the device broken and is never used. */
static void expect_broken(void)
{
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    cr_assert_eq(used_idx(), 0);
    cr_assert_eq(echo.processed, 0);
    cr_assert_eq(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET,
                 VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    /* Later requests are not served until the driver resets. */
    put_desc(DESC, 6, BUF + 0x100, 4, VIRTQ_DESC_F_WRITE, 0);
    offer(6);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    cr_assert_eq(used_idx(), 0);
}

Test(virtio_mmio, hostile_loop)
{
    plug();
    driver_init(V1);
    put_desc(DESC, 0, BUF, 4, VIRTQ_DESC_F_NEXT, 1);
    put_desc(DESC, 1, BUF, 4, VIRTQ_DESC_F_NEXT, 0);
    offer(0);
    expect_broken();
}

Test(virtio_mmio, hostile_indices)
{
    plug();
    driver_init(V1);
    offer(QSIZE);                       /* head out of range */
    expect_broken();
}

Test(virtio_mmio, hostile_next)
{
    plug();
    driver_init(V1);
    put_desc(DESC, 0, BUF, 4, VIRTQ_DESC_F_NEXT, 0xffff);
    offer(0);
    expect_broken();
}

Test(virtio_mmio, hostile_avail_jump)
{
    plug();
    driver_init(V1);
    uint16_t idx = QSIZE + 1;
    memcpy(gp(AVAIL + 2), &idx, 2);
    expect_broken();
}

Test(virtio_mmio, hostile_buffers)
{
    /* Buffer outside RAM, writable buffer in ROM, buffer wrapping the
     * address space, buffer running off the end of RAM, readable after
     * writable. */
    for (int c = 0; c < 5; c++) {
        cr_assert_eq(as_write(&m->as, BASE + VIRTIO_MMIO_STATUS, 4, 0), MEM_OK);
        if (c == 0)
            plug();
        driver_init(V1);
        memset(gp(USED), 0, 0x100);
        echo.processed = 0;
        switch (c) {
        case 0: put_desc(DESC, 0, BASE, 4, 0, 0); break;
        case 1: put_desc(DESC, 0, ROM, 4, VIRTQ_DESC_F_WRITE, 0); break;
        case 2: put_desc(DESC, 0, UINT64_MAX - 1, 4, 0, 0); break;
        case 3: put_desc(DESC, 0, RAM + RAM_SIZE - 2, 4, 0, 0); break;
        case 4:
            put_desc(DESC, 0, BUF, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
            put_desc(DESC, 1, BUF, 4, 0, 0);
            break;
        }
        offer(0);
        expect_broken();
    }
}

Test(virtio_mmio, hostile_rings)
{
    plug();
    driver_init(V1);
    /* Rings placed in MMIO / ROM: the device refuses to touch them. */
    wr(VIRTIO_MMIO_QUEUE_READY, 0);
    wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)ROM);
    wr(VIRTIO_MMIO_QUEUE_READY, 1);
    put_desc(DESC, 0, BUF + 0x100, 4, VIRTQ_DESC_F_WRITE, 0);
    offer(0);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    cr_assert_eq(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET,
                 VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    for (int i = 0; i < 0x100; i++)
        cr_assert_eq(rom[i], 0);

    wr(VIRTIO_MMIO_STATUS, 0);
    driver_init(V1);
    wr(VIRTIO_MMIO_QUEUE_READY, 0);
    wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)BASE);
    wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
    wr(VIRTIO_MMIO_QUEUE_READY, 1);
    offer(0);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    cr_assert_eq(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET,
                 VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

Test(virtio_mmio, no_interrupt_flag)
{
    plug();
    driver_init(V1);
    uint16_t flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
    memcpy(gp(AVAIL), &flags, 2);
    put_desc(DESC, 0, BUF + 0x100, 4, VIRTQ_DESC_F_WRITE, 0);
    offer(0);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    cr_assert_eq(used_idx(), 1);
    cr_assert_eq(irq_level, 0);
    cr_assert_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
}

Test(virtio_mmio, queue_registers)
{
    plug();
    wr(VIRTIO_MMIO_QUEUE_SEL, 0);
    wr(VIRTIO_MMIO_QUEUE_READY, 1);     /* no size yet: stays off */
    cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
    wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE + 1);
    cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_NUM), 0);
    wr(VIRTIO_MMIO_QUEUE_NUM, 4);
    cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_NUM), 4);
    wr(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
    wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0x2);
    cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_DESC_LOW), 0x1000);
    cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_DESC_HIGH), 0x2);
    wr(VIRTIO_MMIO_QUEUE_READY, 1);
    wr(VIRTIO_MMIO_QUEUE_NUM, 2);       /* live queue: ignored */
    wr(VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
    cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_NUM), 4);
    cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_DESC_LOW), 0x1000);
    wr(VIRTIO_MMIO_QUEUE_SEL, 1);
    cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
    wr(VIRTIO_MMIO_QUEUE_SEL, 0);
    cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_READY), 1);
}

Test(virtio_mmio, status_zero_resets)
{
    plug();
    int r0 = echo.resets;
    driver_init(V1);
    cr_assert_eq(echo.resets, r0 + 1);  /* driver_init starts with a reset */
    put_desc(DESC, 0, BUF + 0x100, 4, VIRTQ_DESC_F_WRITE, 0);
    offer(0);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    cr_assert_eq(irq_level, 1);
    wr(VIRTIO_MMIO_STATUS, 0);
    cr_assert_eq(echo.resets, r0 + 2);
    cr_assert_eq(irq_level, 0);
    cr_assert_eq(rd(VIRTIO_MMIO_STATUS), 0);
    cr_assert_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
    cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_NUM), 0);
    /* Machine reset does the same. */
    driver_init(V1);
    m->devices[0].ops->reset(m->devices[0].dev);
    cr_assert_eq(rd(VIRTIO_MMIO_STATUS), 0);
    cr_assert_eq(rd(VIRTIO_MMIO_DEVICE_ID), 0x42);
}

Test(virtio_mmio, config_space)
{
    plug();
    memcpy(echo.config, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
    uint64_t v;
    cr_assert_eq(as_read(&m->as, BASE + 0x100, 1, &v), MEM_OK);
    cr_assert_eq(v, 0x11);
    cr_assert_eq(as_read(&m->as, BASE + 0x102, 2, &v), MEM_OK);
    cr_assert_eq(v, 0x4433);
    cr_assert_eq(as_read(&m->as, BASE + 0x104, 4, &v), MEM_OK);
    cr_assert_eq(v, 0x88776655);
    cr_assert_eq(as_read(&m->as, BASE + 0x108, 4, &v), MEM_OK);   /* past config_size */
    cr_assert_eq(v, 0);
    cr_assert_eq(as_read(&m->as, BASE + 0xffc, 4, &v), MEM_OK);
    cr_assert_eq(v, 0);
    cr_assert_eq(as_write(&m->as, BASE + 0x101, 1, 0xab), MEM_OK);
    cr_assert_eq(echo.config[1], 0xab);
    cr_assert_eq(as_write(&m->as, BASE + 0x108, 4, 0xffffffff), MEM_OK);
    cr_assert_eq(as_read(&m->as, BASE + 0x100, 8, &v), MEM_BAD_ACCESS);

    cr_assert_eq(rd(VIRTIO_MMIO_CONFIG_GENERATION), 0);
    virtio_config_changed(echo.vdev);
    cr_assert_eq(rd(VIRTIO_MMIO_CONFIG_GENERATION), 1);
    cr_assert_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_ISR_CONFIG);
    cr_assert_eq(irq_level, 1);
    wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_CONFIG);
    cr_assert_eq(irq_level, 0);
}

Test(virtio_mmio, register_sizes)
{
    plug();
    uint64_t v = 1;
    cr_assert_eq(as_read(&m->as, BASE, 8, &v), MEM_BAD_ACCESS);
    cr_assert_eq(as_read(&m->as, BASE + 1, 2, &v), MEM_BAD_ACCESS);
    cr_assert_eq(as_read(&m->as, BASE + VIRTIO_MMIO_DEVICE_ID, 1, &v), MEM_OK);
    cr_assert_eq(v, 0);                 /* registers are 32-bit only */
    cr_assert_eq(as_write(&m->as, BASE + VIRTIO_MMIO_STATUS, 1, 3), MEM_OK);
    cr_assert_eq(rd(VIRTIO_MMIO_STATUS), 0);
    cr_assert_eq(as_read(&m->as, BASE + 0x1000, 4, &v), MEM_UNMAPPED);
    for (uint64_t off = 0; off < 0x100; off += 4) {
        if (off == VIRTIO_MMIO_STATUS || off == VIRTIO_MMIO_QUEUE_NOTIFY)
            continue;
        wr(off, 0xffffffff);
    }
    cr_assert_eq(echo.processed, 0);
}

Test(virtio_mmio, bad_backend_ops)
{
    VirtioDeviceOps bad = echo_ops;
    bad.num_queues = VIRTIO_MAX_QUEUES + 1;
    cr_assert_null(virtio_mmio_plug(slot, &bad, &echo));
    bad = echo_ops;
    bad.device_id = 0;
    cr_assert_null(virtio_mmio_plug(slot, &bad, &echo));
    cr_assert_eq(rd(VIRTIO_MMIO_DEVICE_ID), 0);
}
