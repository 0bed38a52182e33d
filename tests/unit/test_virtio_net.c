/* virtio-net behind a virtio-mmio transport, with a NetClient whose backend
 * half the test plays: config space and features, transmit, receive (the
 * header, num_buffers, interrupts, buffers that are missing or too short,
 * a driver not ready), hostile rings and descriptors, and the NetClient
 * questions having no side effects. */
#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>

#include "devices/virtio.h"
#include "devices/virtio_mmio.h"
#include "devices/virtio_net.h"
#include "net/net.h"
#include "vmm/machine.h"

#include "dev_machine.h"
#include "virtq_driver.h"

#define BASE     0x10001000ull
#define RAM      0x80000000ull
#define RAM_SIZE 0x200000ull             /* 2 MiB */
#define ROM      0x1000ull
#define RX_DESC  (RAM + 0x1000)
#define RX_AVAIL (RAM + 0x2000)
#define RX_USED  (RAM + 0x3000)
#define TX_DESC  (RAM + 0x4000)
#define TX_AVAIL (RAM + 0x5000)
#define TX_USED  (RAM + 0x6000)
#define ITABLE   (RAM + 0x7000)
#define BUF      (RAM + 0x10000)
#define QSIZE    8
#define HDR      VIRTIO_NET_HDR_LEN

static uint64_t icount;
static Machine *m;
static uint8_t *ram, *rom;
static VirtioMmio *slot;
static VirtioNet *dev;
static NetClient nc;
static int irq_level;
static GPtrArray *sent;                  /* GBytes the device transmitted */
static VqDriver drv;
static VqRing rxq = { .index = VIRTIO_NET_RXQ, .desc = RX_DESC, .avail = RX_AVAIL,
                      .used = RX_USED, .size = QSIZE };
static VqRing txq = { .index = VIRTIO_NET_TXQ, .desc = TX_DESC, .avail = TX_AVAIL,
                      .used = TX_USED, .size = QSIZE };
static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };

static void rec_irq(void *opaque, int n, int level) { irq_level = level; }

static void capture(void *opaque, const uint8_t *buf, size_t len)
{
    g_ptr_array_add(sent, g_bytes_new(buf, len));
}

static void setup(void)
{
    m = dev_machine_new(&icount);
    ram = g_malloc0(RAM_SIZE);
    rom = g_malloc0(0x1000);
    cr_assert_eq(as_add_ram(&m->as, "ram", RAM, RAM_SIZE, ram, false), 0);
    cr_assert_eq(as_add_ram(&m->as, "rom", ROM, 0x1000, rom, true), 0);
    irq_level = 0;
    slot = virtio_mmio_create(m, BASE, irq_line(rec_irq, NULL, 1));
    cr_assert_not_null(slot);
    drv = (VqDriver){ .m = m, .base = BASE, .ram = ram, .ram_base = RAM };
    memset(&nc, 0, sizeof(nc));
    nc.id = "n1";
    nc.transmit = capture;
    sent = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    GError *err = NULL;
    dev = virtio_net_create(m, virtio_mmio_slot(slot), "virtio-net-device", MAC, &nc, &err);
    cr_assert_not_null(dev, "%s", err ? err->message : "?");
}

static void teardown(void)
{
    dev_machine_free(m);
    g_ptr_array_free(sent, true);
    g_free(ram);
    g_free(rom);
}

TestSuite(virtio_net, .init = setup, .fini = teardown);

#define V1  (1ull << VIRTIO_F_VERSION_1)
#define IND (1ull << VIRTIO_F_INDIRECT_DESC)
#define FEATURES (V1 | (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS))

static uint8_t *gp(uint64_t pa) { return vqd_gp(&drv, pa); }

static void driver_init(uint64_t features)
{
    vqd_negotiate(&drv, features);
    vqd_queue(&drv, &rxq, VIRTIO_NET_QUEUE_MAX);
    vqd_queue(&drv, &txq, VIRTIO_NET_QUEUE_MAX);
    vqd_driver_ok(&drv);
}

static void frame(uint8_t *p, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(seed + i * 3);
}

/* A receive buffer of len bytes at BUF + 0x2000 * i, descriptor i. */
static void post_rx(unsigned i, uint32_t len)
{
    memset(gp(BUF + 0x2000ull * i), 0xee, len);
    vqd_put_desc(&drv, RX_DESC, i, BUF + 0x2000ull * i, len, VIRTQ_DESC_F_WRITE, 0);
    vqd_offer(&drv, &rxq, (uint16_t)i);
}

/* ---- config and features ---- */

Test(virtio_net, identity_features_config)
{
    cr_assert_eq(vqd_rd(&drv, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
    vqd_wr(&drv, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    cr_assert_eq(vqd_rd(&drv, VIRTIO_MMIO_DEVICE_FEATURES),
                 (1u << VIRTIO_NET_F_MAC) | (1u << VIRTIO_NET_F_STATUS) |
                 (1u << VIRTIO_F_INDIRECT_DESC));
    vqd_wr(&drv, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    cr_assert_eq(vqd_rd(&drv, VIRTIO_MMIO_DEVICE_FEATURES), 1);      /* VERSION_1 */
    for (unsigned i = 0; i < 6; i++)
        cr_assert_eq(vqd_cfg(&drv, i, 1), MAC[i]);
    cr_assert_eq(vqd_cfg(&drv, 0, 4), 0xab005452u);
    cr_assert_eq(vqd_cfg(&drv, 4, 2), 0xefcd);
    cr_assert_eq(vqd_cfg(&drv, 6, 2), VIRTIO_NET_S_LINK_UP);
    /* Past the config space; writes change nothing. */
    cr_assert_eq(vqd_cfg(&drv, VIRTIO_NET_CONFIG_SIZE, 1), 0);
    cr_assert_eq(vqd_cfg(&drv, 8, 4), 0);
    cr_assert_eq(vqd_cfg(&drv, 0x100 - 4, 4), 0);
    cr_assert_eq(as_write(&m->as, BASE + VIRTIO_MMIO_CONFIG, 4, 0x12345678), MEM_OK);
    cr_assert_eq(vqd_cfg(&drv, 0, 1), MAC[0]);
    /* Features not offered are refused; the two queues and no third. */
    vqd_wr(&drv, VIRTIO_MMIO_STATUS, 0);
    vqd_wr(&drv, VIRTIO_MMIO_STATUS, 3);
    vqd_wr(&drv, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    vqd_wr(&drv, VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_NET_F_MRG_RXBUF);
    vqd_wr(&drv, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    vqd_wr(&drv, VIRTIO_MMIO_DRIVER_FEATURES, 1);
    vqd_wr(&drv, VIRTIO_MMIO_STATUS, 0x0b);
    cr_assert_eq(vqd_rd(&drv, VIRTIO_MMIO_STATUS), 3);
    vqd_wr(&drv, VIRTIO_MMIO_QUEUE_SEL, 2);
    cr_assert_eq(vqd_rd(&drv, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
    cr_assert_str_eq(nc.model, "virtio-net-device");
    cr_assert_eq(memcmp(nc.mac, MAC, 6), 0);
}

Test(virtio_net, a_netdev_takes_one_device)
{
    GError *err = NULL;
    VirtioMmio *t2 = virtio_mmio_create(m, BASE + 0x1000, irq_line(rec_irq, NULL, 2));
    cr_assert_null(virtio_net_create(m, virtio_mmio_slot(t2), "virtio-net-device", MAC, &nc, &err));
    cr_assert(strstr(err->message, "already used"), "%s", err->message);
    g_clear_error(&err);
    /* A taken transport: the netdev is left free. */
    NetClient other = { .id = "n2" };
    cr_assert_null(virtio_net_create(m, virtio_mmio_slot(slot), "virtio-net-device", MAC, &other,
                                    &err));
    cr_assert_null(other.model);
    g_clear_error(&err);
    /* No netdev at all. */
    cr_assert_not_null(virtio_net_create(m, virtio_mmio_slot(t2), "virtio-net-device", MAC, NULL,
                                        &err));
}

/* ---- transmit ---- */

Test(virtio_net, transmit_split_and_indirect)
{
    driver_init(FEATURES | IND);
    /* Header 5 + 7 bytes, frame 60 + 40 bytes. */
    uint8_t f[100];
    frame(f, sizeof(f), 1);
    memset(gp(BUF), 0, HDR);
    memcpy(gp(BUF + 0x100), f, 60);
    memcpy(gp(BUF + 0x200), f + 60, 40);
    vqd_put_desc(&drv, TX_DESC, 0, BUF, 5, VIRTQ_DESC_F_NEXT, 3);
    vqd_put_desc(&drv, TX_DESC, 3, BUF + 5, 7, VIRTQ_DESC_F_NEXT, 5);
    vqd_put_desc(&drv, TX_DESC, 5, BUF + 0x100, 60, VIRTQ_DESC_F_NEXT, 6);
    vqd_put_desc(&drv, TX_DESC, 6, BUF + 0x200, 40, 0, 0);
    vqd_offer(&drv, &txq, 0);
    /* The header and the frame in one segment, through an indirect table. */
    memcpy(gp(BUF + 0x300 + HDR), f, 50);
    vqd_put_desc(&drv, ITABLE, 0, BUF + 0x300, HDR + 50, 0, 0);
    vqd_put_desc(&drv, TX_DESC, 1, ITABLE, 16, VIRTQ_DESC_F_INDIRECT, 0);
    vqd_offer(&drv, &txq, 1);
    vqd_kick(&drv, &txq);
    cr_assert_eq(sent->len, 2);
    gsize n;
    const uint8_t *p = g_bytes_get_data(sent->pdata[0], &n);
    cr_assert_eq(n, 100);
    cr_assert_eq(memcmp(p, f, 100), 0);
    p = g_bytes_get_data(sent->pdata[1], &n);
    cr_assert_eq(n, 50);
    cr_assert_eq(memcmp(p, f, 50), 0);
    cr_assert_eq(vqd_used_idx(&drv, &txq), 2);
    cr_assert_eq(vqd_used_id(&drv, &txq, 0), 0);
    cr_assert_eq(vqd_used_len(&drv, &txq, 0), 0);
    cr_assert_eq(vqd_used_id(&drv, &txq, 1), 1);
    cr_assert_eq(irq_level, 1);
    cr_assert_eq(vqd_rd(&drv, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_ISR_QUEUE);
    vqd_wr(&drv, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_QUEUE);
    cr_assert_eq(irq_level, 0);
    /* A header alone is an empty frame; the interrupt suppressed. */
    uint16_t no_irq = VIRTQ_AVAIL_F_NO_INTERRUPT;
    memcpy(gp(TX_AVAIL), &no_irq, 2);
    vqd_put_desc(&drv, TX_DESC, 2, BUF, HDR, 0, 0);
    vqd_offer(&drv, &txq, 2);
    vqd_kick(&drv, &txq);
    cr_assert_eq(sent->len, 3);
    cr_assert_eq(g_bytes_get_size(sent->pdata[2]), 0);
    cr_assert_eq(irq_level, 0);
    cr_assert_not(vqd_broken(&drv));
}

/* 20 indirect segments naming the same 4 KiB: 80 KiB is more than any
 * frame; it is dropped and its chain returned, the device still works. */
Test(virtio_net, transmit_oversized_frame_is_dropped)
{
    driver_init(FEATURES | IND);
    vqd_put_desc(&drv, ITABLE, 0, BUF, HDR, VIRTQ_DESC_F_NEXT, 1);
    for (unsigned i = 1; i <= 20; i++)
        vqd_put_desc(&drv, ITABLE, i, BUF + 0x1000, 4096, i < 20 ? VIRTQ_DESC_F_NEXT : 0,
                     (uint16_t)(i + 1));
    vqd_put_desc(&drv, TX_DESC, 0, ITABLE, 21 * 16, VIRTQ_DESC_F_INDIRECT, 0);
    vqd_offer(&drv, &txq, 0);
    vqd_put_desc(&drv, TX_DESC, 1, BUF, HDR + 64, 0, 0);
    vqd_offer(&drv, &txq, 1);
    vqd_kick(&drv, &txq);
    cr_assert_eq(vqd_used_idx(&drv, &txq), 2);
    cr_assert_eq(sent->len, 1);
    cr_assert_eq(g_bytes_get_size(sent->pdata[0]), 64);
    cr_assert_not(vqd_broken(&drv));
}

/* ---- receive ---- */

Test(virtio_net, receive_header_and_frame)
{
    driver_init(FEATURES);
    uint8_t f[1514];
    frame(f, sizeof(f), 9);
    /* No buffer yet: the frame waits in the netdev. */
    cr_assert_not(virtio_net_can_receive(dev, sizeof(f)));
    post_rx(0, 1526);
    post_rx(1, 1526);
    cr_assert(virtio_net_can_receive(dev, sizeof(f)));
    virtio_net_receive(dev, f, sizeof(f));
    cr_assert_eq(vqd_used_idx(&drv, &rxq), 1);
    cr_assert_eq(vqd_used_id(&drv, &rxq, 0), 0);
    cr_assert_eq(vqd_used_len(&drv, &rxq, 0), HDR + sizeof(f));
    static const uint8_t want_hdr[HDR] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
    cr_assert_eq(memcmp(gp(BUF), want_hdr, HDR), 0);
    cr_assert_eq(memcmp(gp(BUF + HDR), f, sizeof(f)), 0);
    cr_assert_eq(irq_level, 1);
    vqd_wr(&drv, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_QUEUE);
    /* A short frame into the second buffer; the rest of it untouched. */
    virtio_net_receive(dev, f, 60);
    cr_assert_eq(vqd_used_idx(&drv, &rxq), 2);
    cr_assert_eq(vqd_used_len(&drv, &rxq, 1), HDR + 60);
    cr_assert_eq(memcmp(gp(BUF + 0x2000 + HDR), f, 60), 0);
    cr_assert_eq(*gp(BUF + 0x2000 + HDR + 60), 0xee);
    cr_assert_eq(irq_level, 1);
    cr_assert_not(virtio_net_can_receive(dev, 60));
}

/* The header and the frame over several writable segments. */
Test(virtio_net, receive_scattered)
{
    driver_init(FEATURES);
    uint8_t f[200];
    frame(f, sizeof(f), 77);
    vqd_put_desc(&drv, RX_DESC, 2, BUF, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 4);
    vqd_put_desc(&drv, RX_DESC, 4, BUF + 0x100, 100, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 7);
    vqd_put_desc(&drv, RX_DESC, 7, BUF + 0x200, 108, VIRTQ_DESC_F_WRITE, 0);
    vqd_offer(&drv, &rxq, 2);
    virtio_net_receive(dev, f, sizeof(f));
    cr_assert_eq(vqd_used_len(&drv, &rxq, 0), HDR + sizeof(f));
    cr_assert_eq(*gp(BUF + 0x100 + 6), 1);                 /* num_buffers */
    cr_assert_eq(memcmp(gp(BUF + 0x100 + 8), f, 92), 0);
    cr_assert_eq(memcmp(gp(BUF + 0x200), f + 92, 108), 0);
}

Test(virtio_net, frame_longer_than_the_buffer_is_dropped)
{
    driver_init(FEATURES);
    uint8_t f[1000];
    frame(f, sizeof(f), 3);
    post_rx(0, HDR + 100);
    /* The device takes it (it would wait forever otherwise) and drops it;
     * the buffer stays for the next frame. */
    cr_assert(virtio_net_can_receive(dev, sizeof(f)));
    virtio_net_receive(dev, f, sizeof(f));
    cr_assert_eq(vqd_used_idx(&drv, &rxq), 0);
    cr_assert_eq(irq_level, 0);
    virtio_net_receive(dev, f, 100);
    cr_assert_eq(vqd_used_idx(&drv, &rxq), 1);
    cr_assert_eq(vqd_used_len(&drv, &rxq, 0), HDR + 100);
    cr_assert_not(vqd_broken(&drv));
}

Test(virtio_net, nothing_arrives_before_driver_ok_or_after_reset)
{
    uint8_t f[64];
    frame(f, sizeof(f), 5);
    vqd_negotiate(&drv, FEATURES);
    vqd_queue(&drv, &rxq, VIRTIO_NET_QUEUE_MAX);
    post_rx(0, 2048);
    /* Not DRIVER_OK: frames are taken and dropped. */
    cr_assert(virtio_net_can_receive(dev, sizeof(f)));
    virtio_net_receive(dev, f, sizeof(f));
    cr_assert_eq(vqd_used_idx(&drv, &rxq), 0);
    vqd_driver_ok(&drv);
    virtio_net_receive(dev, f, sizeof(f));
    cr_assert_eq(vqd_used_idx(&drv, &rxq), 1);
    vqd_wr(&drv, VIRTIO_MMIO_STATUS, 0);
    cr_assert(virtio_net_can_receive(dev, sizeof(f)));
    virtio_net_receive(dev, f, sizeof(f));
    cr_assert_eq(vqd_used_idx(&drv, &rxq), 1);
    cr_assert_eq(irq_level, 0);
}

/* ---- hostile rings and descriptors ---- */

static void expect_broken(void)
{
    cr_assert(vqd_broken(&drv));
    cr_assert_eq(vqd_rd(&drv, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_ISR_CONFIG,
                 VIRTIO_ISR_CONFIG);
    /* A broken device takes (and drops) frames and sends nothing. */
    uint8_t f[60] = { 0 };
    cr_assert(virtio_net_can_receive(dev, sizeof(f)));
    virtio_net_receive(dev, f, sizeof(f));
    size_t before = sent->len;
    vqd_kick(&drv, &txq);
    cr_assert_eq(sent->len, before);
}

Test(virtio_net, rx_buffer_outside_ram)
{
    driver_init(FEATURES);
    vqd_put_desc(&drv, RX_DESC, 0, 0x40000000ull, 2048, VIRTQ_DESC_F_WRITE, 0);
    vqd_offer(&drv, &rxq, 0);
    uint8_t f[60] = { 0 };
    /* Asking has no side effect; the delivery finds the bad buffer. */
    cr_assert(virtio_net_can_receive(dev, sizeof(f)));
    cr_assert_not(vqd_broken(&drv));
    virtio_net_receive(dev, f, sizeof(f));
    cr_assert_eq(vqd_used_idx(&drv, &rxq), 0);
    expect_broken();
}

Test(virtio_net, rx_buffer_in_rom_or_past_the_end_of_ram)
{
    driver_init(FEATURES);
    vqd_put_desc(&drv, RX_DESC, 0, ROM, 2048, VIRTQ_DESC_F_WRITE, 0);
    vqd_offer(&drv, &rxq, 0);
    uint8_t f[60] = { 0 };
    virtio_net_receive(dev, f, sizeof(f));
    expect_broken();
    driver_init(FEATURES);
    cr_assert_not(vqd_broken(&drv));
    vqd_put_desc(&drv, RX_DESC, 0, RAM + RAM_SIZE - 16, 2048, VIRTQ_DESC_F_WRITE, 0);
    vqd_offer(&drv, &rxq, 0);
    virtio_net_receive(dev, f, sizeof(f));
    expect_broken();
}

Test(virtio_net, rx_readable_buffer_takes_nothing)
{
    driver_init(FEATURES);
    /* A device-readable buffer has no room for a frame: dropped, kept. */
    vqd_put_desc(&drv, RX_DESC, 0, BUF, 2048, 0, 0);
    vqd_offer(&drv, &rxq, 0);
    uint8_t f[60] = { 0 };
    cr_assert(virtio_net_can_receive(dev, sizeof(f)));
    virtio_net_receive(dev, f, sizeof(f));
    cr_assert_eq(vqd_used_idx(&drv, &rxq), 0);
    cr_assert_not(vqd_broken(&drv));
}

Test(virtio_net, descriptor_loops)
{
    driver_init(FEATURES);
    vqd_put_desc(&drv, RX_DESC, 0, BUF, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    vqd_put_desc(&drv, RX_DESC, 1, BUF, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
    vqd_offer(&drv, &rxq, 0);
    uint8_t f[60] = { 0 };
    cr_assert(virtio_net_can_receive(dev, sizeof(f)));
    cr_assert_not(vqd_broken(&drv));
    virtio_net_receive(dev, f, sizeof(f));
    expect_broken();

    driver_init(FEATURES);
    vqd_put_desc(&drv, TX_DESC, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 0);
    vqd_offer(&drv, &txq, 0);
    vqd_kick(&drv, &txq);
    cr_assert_eq(sent->len, 0);
    cr_assert_eq(vqd_used_idx(&drv, &txq), 0);
    expect_broken();
}

Test(virtio_net, tx_chain_shorter_than_the_header)
{
    driver_init(FEATURES);
    vqd_put_desc(&drv, TX_DESC, 0, BUF, HDR - 1, 0, 0);
    vqd_offer(&drv, &txq, 0);
    vqd_kick(&drv, &txq);
    cr_assert_eq(sent->len, 0);
    expect_broken();
}

Test(virtio_net, tx_descriptor_index_and_avail_index_out_of_range)
{
    driver_init(FEATURES);
    vqd_offer(&drv, &txq, QSIZE + 3);
    vqd_kick(&drv, &txq);
    expect_broken();
    driver_init(FEATURES);
    uint16_t idx = QSIZE + 5;                 /* more entries than the ring has */
    memcpy(gp(TX_AVAIL + 2), &idx, 2);
    vqd_kick(&drv, &txq);
    expect_broken();
    driver_init(FEATURES);
    memcpy(gp(RX_AVAIL + 2), &idx, 2);
    uint8_t f[60] = { 0 };
    cr_assert(virtio_net_can_receive(dev, sizeof(f)));
    cr_assert_not(vqd_broken(&drv));
    virtio_net_receive(dev, f, sizeof(f));
    expect_broken();
}

Test(virtio_net, rings_outside_ram)
{
    vqd_negotiate(&drv, FEATURES);
    VqRing bad = txq;
    bad.used = ROM;                           /* the used ring must be writable */
    vqd_queue(&drv, &rxq, VIRTIO_NET_QUEUE_MAX);
    vqd_wr(&drv, VIRTIO_MMIO_QUEUE_SEL, VIRTIO_NET_TXQ);
    vqd_wr(&drv, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
    vqd_wr(&drv, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)TX_DESC);
    vqd_wr(&drv, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)TX_AVAIL);
    vqd_wr(&drv, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)bad.used);
    vqd_wr(&drv, VIRTIO_MMIO_QUEUE_READY, 1);
    vqd_driver_ok(&drv);
    memset(gp(TX_AVAIL), 0, 0x1000);
    vqd_put_desc(&drv, TX_DESC, 0, BUF, HDR + 60, 0, 0);
    txq.avail_idx = 0;
    vqd_offer(&drv, &txq, 0);
    vqd_kick(&drv, &txq);
    cr_assert(vqd_broken(&drv));
    /* The frame went out before the used ring was found bad. */
    cr_assert_eq(sent->len, 1);

    /* A receive ring whose avail ring lies past RAM. */
    driver_init(FEATURES);
    vqd_wr(&drv, VIRTIO_MMIO_QUEUE_SEL, VIRTIO_NET_RXQ);
    vqd_wr(&drv, VIRTIO_MMIO_QUEUE_READY, 0);
    vqd_wr(&drv, VIRTIO_MMIO_QUEUE_DRIVER_LOW, 0xfffffff0u);
    vqd_wr(&drv, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0xffffffffu);
    vqd_wr(&drv, VIRTIO_MMIO_QUEUE_READY, 1);
    uint8_t f[60] = { 0 };
    cr_assert(virtio_net_can_receive(dev, sizeof(f)));
    cr_assert_not(vqd_broken(&drv));
    virtio_net_receive(dev, f, sizeof(f));
    cr_assert(vqd_broken(&drv));
}
