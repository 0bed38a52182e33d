/* virtio-blk behind a virtio-mmio transport, against a raw image: config
 * space, reads, writes, flushes, GET_ID, a read-only image, requests the
 * disk cannot serve, hostile descriptors and snapshots.  The rings and
 * buffers are built straight in a RAM buffer. */
#include <criterion/criterion.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"
#include "checkpoint/snap.h"
#include "devices/virtio.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_mmio.h"
#include "vmm/machine.h"

#include "dev_machine.h"
#include "virtq_driver.h"

#define BASE     0x10001000ull
#define RAM      0x80000000ull
#define RAM_SIZE 0x400000ull             /* 4 MiB */
#define ROM      0x1000ull
#define DESC     (RAM + 0x1000)
#define AVAIL    (RAM + 0x2000)
#define USED     (RAM + 0x3000)
#define HDR      (RAM + 0x4000)
#define STATUS   (RAM + 0x4100)
#define ITABLE   (RAM + 0x5000)          /* indirect tables */
#define BUF      (RAM + 0x10000)
#define QSIZE    16
#define SECTORS  4096u                   /* 2 MiB image */

static uint64_t icount;
static Machine *m;
static uint8_t *ram, *rom;
static VirtioMmio *slot;
static BlockDev *blk;
static char *path;
static int irq_level;
static VqDriver drv;
static VqRing q0 = { .index = 0, .desc = DESC, .avail = AVAIL, .used = USED, .size = QSIZE };

static void rec_irq(void *opaque, int n, int level) { irq_level = level; }

static uint8_t pattern(uint64_t off) { return (uint8_t)(off * 7 + (off >> 9) * 13); }

static void make_image(void)
{
    int fd = g_file_open_tmp("tandem-vblk-XXXXXX", &path, NULL);
    cr_assert(fd >= 0);
    uint8_t *img = g_malloc((size_t)SECTORS * 512);
    for (uint64_t i = 0; i < (uint64_t)SECTORS * 512; i++)
        img[i] = pattern(i);
    cr_assert_eq(write(fd, img, (size_t)SECTORS * 512), (ssize_t)SECTORS * 512);
    close(fd);
    g_free(img);
}

static void open_disk(bool read_only, const char *serial)
{
    GError *err = NULL;
    BlockOpenOpts o = { .format = "raw", .read_only = read_only };
    blk = blk_open(path, &o, &err);
    cr_assert_not_null(blk);
    cr_assert_not_null(virtio_blk_create(m, virtio_mmio_slot(slot), blk, serial, &err));
}

static void setup_common(void)
{
    m = dev_machine_new(&icount);
    ram = g_malloc0(RAM_SIZE);
    rom = g_malloc0(0x1000);
    cr_assert_eq(as_add_ram(&m->as, "ram", RAM, RAM_SIZE, ram, false), 0);
    cr_assert_eq(as_add_ram(&m->as, "rom", ROM, 0x1000, rom, true), 0);
    irq_level = 0;
    slot = virtio_mmio_create(m, BASE, irq_line(rec_irq, NULL, 1));
    drv = (VqDriver){ .m = m, .base = BASE, .ram = ram, .ram_base = RAM };
    cr_assert_not_null(slot);
    make_image();
}

static void setup(void)
{
    setup_common();
    open_disk(false, "TD-VBLK-1");
}

static void teardown(void)
{
    dev_machine_free(m);
    if (blk)
        blk_close(blk);
    blk = NULL;
    g_unlink(path);
    g_free(path);
    g_free(ram);
    g_free(rom);
}

TestSuite(virtio_blk, .init = setup, .fini = teardown);
/* Tests that open their disk themselves. */
TestSuite(virtio_blk_own_disk, .init = setup_common, .fini = teardown);

/* ---- the driver's side ---- */

static uint32_t rd(uint64_t off) { return vqd_rd(&drv, off); }
static void wr(uint64_t off, uint32_t v) { vqd_wr(&drv, off, v); }
static uint8_t *gp(uint64_t pa) { return vqd_gp(&drv, pa); }

static void put_desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len,
                     uint16_t flags, uint16_t next)
{
    vqd_put_desc(&drv, table, i, addr, len, flags, next);
}

static void offer(uint16_t head) { vqd_offer(&drv, &q0, head); }
static uint16_t used_idx(void) { return vqd_used_idx(&drv, &q0); }
static uint32_t used_len(unsigned i) { return vqd_used_len(&drv, &q0, i); }

#define V1 (1ull << VIRTIO_F_VERSION_1)
#define IND (1ull << VIRTIO_F_INDIRECT_DESC)

static void driver_init(uint64_t features)
{
    vqd_negotiate(&drv, features);
    vqd_queue(&drv, &q0, VIRTIO_BLK_QUEUE_MAX);
    vqd_driver_ok(&drv);
}

static void header(uint32_t type, uint64_t sector)
{
    memset(gp(HDR), 0, 16);
    memcpy(gp(HDR), &type, 4);
    memcpy(gp(HDR + 8), &sector, 8);
    *gp(STATUS) = 0xee;
}

/* hdr (out) -> data (in or out, len bytes at BUF) -> status (in), at
 * descriptors 0..2; len 0 leaves the data descriptor out. */
static void request(uint32_t type, uint64_t sector, uint32_t len)
{
    header(type, sector);
    uint16_t dflags = (type == VIRTIO_BLK_T_OUT ? 0 : VIRTQ_DESC_F_WRITE) | VIRTQ_DESC_F_NEXT;
    if (len) {
        put_desc(DESC, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
        put_desc(DESC, 1, BUF, len, dflags, 2);
    } else {
        put_desc(DESC, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 2);
    }
    put_desc(DESC, 2, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
    offer(0);
}

static void kick(void) { vqd_kick(&drv, &q0); }
static bool broken(void) { return vqd_broken(&drv); }

static void check_image(uint64_t off, const uint8_t *want, size_t len)
{
    uint8_t *got = g_malloc(len);
    cr_assert_eq(blk_pread(blk, off, got, len), 0);
    cr_assert_eq(memcmp(got, want, len), 0, "image at 0x%llx", (unsigned long long)off);
    g_free(got);
}

static void check_pattern(const uint8_t *p, uint64_t off, size_t len)
{
    for (size_t i = 0; i < len; i++)
        cr_assert_eq(p[i], pattern(off + i), "byte %zu (disk offset 0x%llx)", i,
                     (unsigned long long)(off + i));
}

/* ---- config and features ---- */

static uint64_t cfg(uint32_t off, unsigned size) { return vqd_cfg(&drv, off, size); }

Test(virtio_blk, identity_features_config)
{
    cr_assert_eq(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
    wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    uint32_t lo = rd(VIRTIO_MMIO_DEVICE_FEATURES);
    cr_assert_eq(lo, (1u << VIRTIO_BLK_F_SEG_MAX) | (1u << VIRTIO_BLK_F_BLK_SIZE) |
                     (1u << VIRTIO_BLK_F_FLUSH) | (1u << VIRTIO_F_INDIRECT_DESC));
    wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    cr_assert_eq(rd(VIRTIO_MMIO_DEVICE_FEATURES), 1);      /* VERSION_1 */
    /* capacity (8 bytes, read as two words and bytewise), seg_max, blk_size */
    cr_assert_eq(cfg(0, 4), SECTORS);
    cr_assert_eq(cfg(4, 4), 0);
    cr_assert_eq(cfg(1, 1), SECTORS >> 8);
    cr_assert_eq(cfg(0, 2), SECTORS & 0xffff);
    cr_assert_eq(cfg(8, 4), 0);                              /* size_max: not offered */
    cr_assert_eq(cfg(12, 4), VIRTIO_BLK_QUEUE_MAX - 2);
    cr_assert_eq(cfg(20, 4), 512);
    cr_assert_eq(cfg(32, 4), 0);
    /* Past the config space, and writes (nothing is writable). */
    cr_assert_eq(cfg(VIRTIO_BLK_CONFIG_SIZE, 4), 0);
    cr_assert_eq(cfg(VIRTIO_BLK_CONFIG_SIZE - 1, 1), 0);
    cr_assert_eq(cfg(0x100 - 4, 4), 0);
    cr_assert_eq(as_write(&m->as, BASE + VIRTIO_MMIO_CONFIG, 4, 0x1234), MEM_OK);
    cr_assert_eq(cfg(0, 4), SECTORS);
}

/* ---- requests ---- */

Test(virtio_blk, read)
{
    driver_init(V1);
    request(VIRTIO_BLK_T_IN, 3, 1024);
    kick();
    cr_assert_eq(used_idx(), 1);
    cr_assert_eq(used_len(0), 1025);
    cr_assert_eq(*gp(STATUS), VIRTIO_BLK_S_OK);
    check_pattern(gp(BUF), 3 * 512, 1024);
    cr_assert_eq(irq_level, 1);
    cr_assert_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_ISR_QUEUE);
    wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_QUEUE);
    cr_assert_eq(irq_level, 0);
    /* The last sector. */
    request(VIRTIO_BLK_T_IN, SECTORS - 1, 512);
    kick();
    cr_assert_eq(*gp(STATUS), VIRTIO_BLK_S_OK);
    check_pattern(gp(BUF), (SECTORS - 1) * 512ull, 512);
}

Test(virtio_blk, read_scattered_with_status_in_the_data_segment)
{
    driver_init(V1);
    /* Header split 5 + 11 bytes; data 512 + 100 + (412 + status) in one
     * segment, the status byte being the last writable byte. */
    header(VIRTIO_BLK_T_IN, 7);
    memcpy(gp(BUF + 0x8000), gp(HDR), 16);
    put_desc(DESC, 4, BUF + 0x8000, 5, VIRTQ_DESC_F_NEXT, 9);
    put_desc(DESC, 9, BUF + 0x8005, 11, VIRTQ_DESC_F_NEXT, 1);
    put_desc(DESC, 1, BUF, 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
    put_desc(DESC, 2, BUF + 0x1000, 100, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 3);
    put_desc(DESC, 3, BUF + 0x2000, 413, VIRTQ_DESC_F_WRITE, 0);
    offer(4);
    kick();
    cr_assert_eq(used_idx(), 1);
    cr_assert_eq(used_len(0), 1025);
    check_pattern(gp(BUF), 7 * 512, 512);
    check_pattern(gp(BUF + 0x1000), 7 * 512 + 512, 100);
    check_pattern(gp(BUF + 0x2000), 7 * 512 + 612, 412);
    cr_assert_eq(*gp(BUF + 0x2000 + 412), VIRTIO_BLK_S_OK);
}

Test(virtio_blk, read_through_an_indirect_table)
{
    driver_init(V1 | IND);
    header(VIRTIO_BLK_T_IN, 100);
    put_desc(ITABLE, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
    put_desc(ITABLE, 1, BUF, 2048, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
    put_desc(ITABLE, 2, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
    put_desc(DESC, 0, ITABLE, 48, VIRTQ_DESC_F_INDIRECT, 0);
    offer(0);
    kick();
    cr_assert_eq(*gp(STATUS), VIRTIO_BLK_S_OK);
    check_pattern(gp(BUF), 100 * 512, 2048);
}

/* Bigger than the bounce buffer, and 512 indirect segments all naming the
 * same 4 KiB: 2 MiB moved chunk by chunk. */
Test(virtio_blk, large_aliased_requests)
{
    driver_init(V1 | IND);
    header(VIRTIO_BLK_T_IN, 0);
    put_desc(ITABLE, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
    for (unsigned i = 1; i <= 512; i++)
        put_desc(ITABLE, i, BUF, 4096, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1));
    put_desc(ITABLE, 513, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
    put_desc(DESC, 0, ITABLE, 514 * 16, VIRTQ_DESC_F_INDIRECT, 0);
    offer(0);
    kick();
    cr_assert_eq(*gp(STATUS), VIRTIO_BLK_S_OK);
    cr_assert_eq(used_len(0), (2u << 20) + 1);
    check_pattern(gp(BUF), (2u << 20) - 4096, 4096);        /* the last segment wins */

    /* The same segments as a write: every 4 KiB of the disk gets BUF. */
    header(VIRTIO_BLK_T_OUT, 0);
    for (unsigned i = 1; i <= 512; i++)
        put_desc(ITABLE, i, BUF, 4096, VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1));
    memset(gp(BUF), 0x5a, 4096);
    offer(0);
    kick();
    cr_assert_eq(*gp(STATUS), VIRTIO_BLK_S_OK);
    cr_assert_eq(used_len(1), 1);
    uint8_t want[4096];
    memset(want, 0x5a, sizeof(want));
    check_image(0, want, sizeof(want));
    check_image((2u << 20) - 4096, want, sizeof(want));
}

Test(virtio_blk, write_flush_and_read_back)
{
    driver_init(V1);
    for (int i = 0; i < 1536; i++)
        gp(BUF)[i] = (uint8_t)(i ^ 0xa5);
    uint8_t want[1536];
    memcpy(want, gp(BUF), sizeof(want));
    request(VIRTIO_BLK_T_OUT, 40, 1536);
    kick();
    cr_assert_eq(*gp(STATUS), VIRTIO_BLK_S_OK);
    cr_assert_eq(used_len(0), 1);
    check_image(40 * 512, want, sizeof(want));

    request(VIRTIO_BLK_T_FLUSH, 0, 0);
    kick();
    cr_assert_eq(*gp(STATUS), VIRTIO_BLK_S_OK);
    cr_assert_eq(used_idx(), 2);

    memset(gp(BUF), 0, 1536);
    request(VIRTIO_BLK_T_IN, 40, 1536);
    kick();
    cr_assert_eq(*gp(STATUS), VIRTIO_BLK_S_OK);
    cr_assert_eq(memcmp(gp(BUF), want, sizeof(want)), 0);
    /* Neighbours untouched. */
    uint8_t before[512];
    cr_assert_eq(blk_pread(blk, 39 * 512, before, 512), 0);
    check_pattern(before, 39 * 512, 512);
    cr_assert_eq(blk_pread(blk, 43 * 512, before, 512), 0);
    check_pattern(before, 43 * 512, 512);
}

Test(virtio_blk, get_id)
{
    driver_init(V1);
    memset(gp(BUF), 0xff, 64);
    request(VIRTIO_BLK_T_GET_ID, 0, VIRTIO_BLK_ID_BYTES);
    kick();
    cr_assert_eq(*gp(STATUS), VIRTIO_BLK_S_OK);
    cr_assert_str_eq((char *)gp(BUF), "TD-VBLK-1");
    cr_assert_eq(used_len(0), 11);
    /* A short buffer gets what fits; a long one no more than 20 bytes. */
    memset(gp(BUF), 0xff, 64);
    request(VIRTIO_BLK_T_GET_ID, 0, 4);
    kick();
    cr_assert_eq(*gp(STATUS), VIRTIO_BLK_S_OK);
    cr_assert_eq(memcmp(gp(BUF), "TD-V\xff", 5), 0);
    memset(gp(BUF), 0xff, 64);
    request(VIRTIO_BLK_T_GET_ID, 0, 64);
    kick();
    cr_assert_eq(*gp(STATUS), VIRTIO_BLK_S_OK);
    cr_assert_eq(gp(BUF)[10], 0xff);
}

Test(virtio_blk, unsupported_types)
{
    driver_init(V1);
    const uint32_t types[] = { 2, 3, 5, 10, 11, 13, 14, 0x80000000u, 0xffffffffu };
    for (unsigned i = 0; i < G_N_ELEMENTS(types); i++) {
        request(types[i], 0, 512);
        kick();
        cr_assert_eq(*gp(STATUS), VIRTIO_BLK_S_UNSUPP, "type 0x%x", types[i]);
    }
    cr_assert_not(broken());
}

Test(virtio_blk, requests_the_disk_cannot_serve)
{
    driver_init(V1);
    struct { uint32_t type; uint64_t sector; uint32_t len; } c[] = {
        { VIRTIO_BLK_T_IN, SECTORS, 512 },               /* past the end */
        { VIRTIO_BLK_T_IN, SECTORS - 1, 1024 },          /* runs off the end */
        { VIRTIO_BLK_T_IN, 0, 513 },                     /* not whole sectors */
        { VIRTIO_BLK_T_IN, UINT64_MAX, 512 },            /* sector * 512 overflows */
        { VIRTIO_BLK_T_IN, UINT64_MAX / 512 + 1, 512 },
        { VIRTIO_BLK_T_OUT, SECTORS, 512 },
        { VIRTIO_BLK_T_OUT, SECTORS - 1, 1024 },
        { VIRTIO_BLK_T_OUT, 1, 100 },
        { VIRTIO_BLK_T_OUT, UINT64_MAX, 512 },
    };
    memset(gp(BUF), 0x77, 4096);
    for (unsigned i = 0; i < G_N_ELEMENTS(c); i++) {
        request(c[i].type, c[i].sector, c[i].len);
        kick();
        cr_assert_eq(used_idx(), i + 1, "case %u", i);
        cr_assert_eq(*gp(STATUS), VIRTIO_BLK_S_IOERR, "case %u", i);
        cr_assert_eq(used_len(i), 1, "case %u", i);
    }
    cr_assert_not(broken());
    uint8_t *img = g_malloc((size_t)SECTORS * 512);
    cr_assert_eq(blk_pread(blk, 0, img, (size_t)SECTORS * 512), 0);
    check_pattern(img, 0, (size_t)SECTORS * 512);
    g_free(img);
    /* A request without data is fine. */
    request(VIRTIO_BLK_T_IN, SECTORS, 0);
    kick();
    cr_assert_eq(*gp(STATUS), VIRTIO_BLK_S_OK);
}

Test(virtio_blk_own_disk, read_only_image)
{
    open_disk(true, NULL);
    wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    cr_assert(rd(VIRTIO_MMIO_DEVICE_FEATURES) & (1u << VIRTIO_BLK_F_RO));
    driver_init(V1 | (1ull << VIRTIO_BLK_F_RO));
    memset(gp(BUF), 0x33, 512);
    request(VIRTIO_BLK_T_OUT, 0, 512);
    kick();
    cr_assert_eq(*gp(STATUS), VIRTIO_BLK_S_IOERR);
    uint8_t s0[512];
    cr_assert_eq(blk_pread(blk, 0, s0, 512), 0);
    check_pattern(s0, 0, 512);
    request(VIRTIO_BLK_T_IN, 1, 512);
    kick();
    cr_assert_eq(*gp(STATUS), VIRTIO_BLK_S_OK);
    check_pattern(gp(BUF), 512, 512);
    /* No serial: an empty string, as QEMU's default. */
    memset(gp(BUF), 0xff, 8);
    request(VIRTIO_BLK_T_GET_ID, 0, 20);
    kick();
    cr_assert_eq(*gp(STATUS), VIRTIO_BLK_S_OK);
    cr_assert_eq(gp(BUF)[0], 0);
    cr_assert_eq(gp(BUF)[1], 0xff);
}

Test(virtio_blk_own_disk, creation_errors)
{
    GError *err = NULL;
    BlockOpenOpts o = { .format = "raw" };
    blk = blk_open(path, &o, &err);
    cr_assert_not_null(blk);
    cr_assert_null(virtio_blk_create(m, virtio_mmio_slot(slot), blk, "123456789012345678901", &err));
    cr_assert(strstr(err->message, "longer than 20"));
    g_clear_error(&err);
    cr_assert_not_null(virtio_blk_create(m, virtio_mmio_slot(slot), blk, "12345678901234567890", &err));
    cr_assert_null(virtio_blk_create(m, virtio_mmio_slot(slot), blk, NULL, &err));
    cr_assert(strstr(err->message, "already holds"), "%s", err->message);
    g_clear_error(&err);
}

/* ---- hostile descriptors: DEVICE_NEEDS_RESET or an error status ---- */

/* The request was refused as malformed: nothing used, the device broken
 * (with a config interrupt) until the driver resets it. */
static void expect_broken(void)
{
    kick();
    cr_assert_eq(used_idx(), 0);
    cr_assert(broken());
    cr_assert_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_ISR_CONFIG, VIRTIO_ISR_CONFIG);
    request(VIRTIO_BLK_T_IN, 0, 512);
    kick();
    cr_assert_eq(used_idx(), 0);
    /* A reset brings it back. */
    driver_init(V1 | IND);
    cr_assert_not(broken());
    request(VIRTIO_BLK_T_IN, 0, 512);
    kick();
    cr_assert_eq(used_idx(), 1);
    cr_assert_eq(*gp(STATUS), VIRTIO_BLK_S_OK);
}

Test(virtio_blk, short_header)
{
    driver_init(V1);
    header(VIRTIO_BLK_T_IN, 0);
    put_desc(DESC, 0, HDR, 15, VIRTQ_DESC_F_NEXT, 2);
    put_desc(DESC, 2, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
    offer(0);
    expect_broken();
}

Test(virtio_blk, no_status_byte)
{
    driver_init(V1);
    header(VIRTIO_BLK_T_IN, 0);
    put_desc(DESC, 0, HDR, 16, 0, 0);
    offer(0);
    expect_broken();
}

Test(virtio_blk, zero_length_status)
{
    driver_init(V1);
    header(VIRTIO_BLK_T_FLUSH, 0);
    put_desc(DESC, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 2);
    put_desc(DESC, 2, STATUS, 0, VIRTQ_DESC_F_WRITE, 0);
    offer(0);
    expect_broken();
    cr_assert_eq(*gp(STATUS), VIRTIO_BLK_S_OK);
}

Test(virtio_blk, only_writable_segments)
{
    driver_init(V1);
    put_desc(DESC, 0, BUF, 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
    put_desc(DESC, 2, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
    offer(0);
    expect_broken();
}

Test(virtio_blk, buffers_outside_ram)
{
    /* Data at MMIO, past the end of RAM, wrapping the address space, in
     * ROM (writable); the header in MMIO; a huge length. */
    const struct { uint64_t addr; uint32_t len; bool hdr; } c[] = {
        { BASE, 512, false },
        { RAM + RAM_SIZE - 256, 512, false },
        { UINT64_MAX - 255, 512, false },
        { ROM, 512, false },
        { 0x40000000, 512, false },
        { BUF, 0xffffffffu, false },
        { BASE, 16, true },
        { UINT64_MAX - 7, 16, true },
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(c); i++) {
        driver_init(V1);
        header(VIRTIO_BLK_T_IN, 0);
        if (c[i].hdr) {
            put_desc(DESC, 0, c[i].addr, c[i].len, VIRTQ_DESC_F_NEXT, 1);
            put_desc(DESC, 1, BUF, 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
        } else {
            put_desc(DESC, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
            put_desc(DESC, 1, c[i].addr, c[i].len, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
        }
        put_desc(DESC, 2, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
        offer(0);
        kick();
        cr_assert_eq(used_idx(), 0, "case %u", i);
        cr_assert(broken(), "case %u", i);
    }
    for (int i = 0; i < 0x1000; i++)
        cr_assert_eq(rom[i], 0);
}

Test(virtio_blk, zero_length_data_segment_anywhere)
{
    /* Length 0 moves nothing, so its address is never used. */
    driver_init(V1);
    header(VIRTIO_BLK_T_IN, 0);
    put_desc(DESC, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
    put_desc(DESC, 1, UINT64_MAX, 0, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
    put_desc(DESC, 2, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
    offer(0);
    kick();
    cr_assert_eq(used_idx(), 1);
    cr_assert_eq(*gp(STATUS), VIRTIO_BLK_S_OK);
    cr_assert_eq(used_len(0), 1);
}

Test(virtio_blk, descriptor_loops)
{
    driver_init(V1);
    header(VIRTIO_BLK_T_IN, 0);
    put_desc(DESC, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
    put_desc(DESC, 1, BUF, 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    offer(0);
    expect_broken();
}

Test(virtio_blk, indirect_loops_and_nesting)
{
    for (int c = 0; c < 4; c++) {
        driver_init(V1 | IND);
        header(VIRTIO_BLK_T_IN, 0);
        put_desc(ITABLE, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
        switch (c) {
        case 0:     /* a loop inside the table */
            put_desc(ITABLE, 1, BUF, 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
            put_desc(DESC, 0, ITABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
            break;
        case 1:     /* next past the table */
            put_desc(ITABLE, 1, BUF, 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
            put_desc(DESC, 0, ITABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
            break;
        case 2:     /* a nested table */
            put_desc(ITABLE, 1, ITABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
            put_desc(DESC, 0, ITABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
            break;
        case 3:     /* a table outside RAM */
            put_desc(DESC, 0, RAM + RAM_SIZE - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
            break;
        }
        offer(0);
        kick();
        cr_assert_eq(used_idx(), 0, "case %d", c);
        cr_assert(broken(), "case %d", c);
    }
}

Test(virtio_blk, read_into_the_rings)
{
    /* A read that lands on the descriptor table and avail ring (the disk
     * pattern becomes ring indices): the device may break or serve
     * garbage, but stops, and writes nothing outside RAM. */
    driver_init(V1);
    request(VIRTIO_BLK_T_IN, 5, 0x2000);
    put_desc(DESC, 1, DESC, 0x2000, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
    kick();
    for (int i = 0; i < 0x1000; i++)
        cr_assert_eq(rom[i], 0);
}

/* ---- snapshots ---- */

static const DeviceEntry *transport_entry(void)
{
    for (int i = 0; i < m->ndevices; i++)
        if (!strcmp(m->devices[i].ops->name, "virtio_mmio"))
            return &m->devices[i];
    cr_assert_fail("no virtio_mmio device");
    return NULL;
}

Test(virtio_blk, snapshot_round_trip)
{
    driver_init(V1);
    request(VIRTIO_BLK_T_IN, 1, 512);
    kick();
    const DeviceEntry *t = transport_entry();
    SnapWriter w;
    snap_writer_init(&w, &m->clock);
    cr_assert_eq(t->ops->save(t->dev, &w), 0);
    size_t len;
    uint8_t *state = snap_writer_steal(&w, &len);

    /* Reset, then load: the queue is back where it was. */
    wr(VIRTIO_MMIO_STATUS, 0);
    SnapReader r;
    snap_reader_init(&r, state, len, "test");
    cr_assert_eq(t->ops->load(t->dev, &r), 0, "%s", snap_reader_error(&r) ?: "");
    cr_assert_eq(snap_reader_left(&r), 0);
    snap_reader_free(&r);
    cr_assert_eq(rd(VIRTIO_MMIO_STATUS), 0x0f);
    request(VIRTIO_BLK_T_IN, 2, 512);
    kick();
    cr_assert_eq(used_idx(), 2);
    check_pattern(gp(BUF), 1024, 512);

    /* A machine whose disk is another size refuses the state. */
    uint8_t *bad = g_memdup2(state, len);
    bool found = false;
    for (size_t i = 0; i + 8 <= len; i++) {
        uint64_t v;
        memcpy(&v, bad + i, 8);
        if (v == SECTORS && i + 9 == len) {
            v = SECTORS + 1;
            memcpy(bad + i, &v, 8);
            found = true;
        }
    }
    cr_assert(found, "the disk size is not the stream's last field but one");
    snap_reader_init(&r, bad, len, "test");
    cr_assert_neq(t->ops->load(t->dev, &r), 0);
    cr_assert(strstr(snap_reader_error(&r), "sectors"), "%s", snap_reader_error(&r));
    snap_reader_free(&r);
    cr_assert_eq(rd(VIRTIO_MMIO_STATUS), 0x0f);
    g_free(bad);
    g_free(state);
}
