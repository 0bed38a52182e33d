/* The ATA channel and the PIIX3 IDE function against a raw image: IDENTIFY,
 * PIO and DMA transfers, LBA48, errors, hostile register and PRD use. */
#include <criterion/criterion.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"
#include "devices/ide.h"
#include "devices/pci.h"
#include "devices/piix_ide.h"
#include "vmm/machine.h"

#include "dev_machine.h"

#define DEVFN   PCI_DEVFN(1, 1)
#define CMD     0x1f0
#define CTL     0x3f6
#define BMIBA   0xc000
#define SECTORS 4096u                 /* 2 MiB image */
#define RAM     (1u << 20)

static uint64_t icount;
static Machine *m;
static PiixIde *ide;
static BlockDev *blk;
static char *path;
static int irq14, irq_edges;
static uint8_t *image;                /* what the image holds */

static void set_irq(void *opaque, int n, int level)
{
    if (n == 14) {
        if (level && !irq14)
            irq_edges++;
        irq14 = level;
    }
}

static uint8_t pattern(uint64_t off) { return (uint8_t)(off * 7 + (off >> 9) * 13); }

static void setup(void)
{
    m = dev_machine_new(&icount);
    cr_assert_eq(machine_alloc_ram(m, 0, RAM, NULL), 0);
    PciBus *bus = pci_bus_create(m, &m->io);
    GError *err = NULL;
    ide = piix_ide_create(m, bus, DEVFN, &m->io, irq_line(set_irq, NULL, 14),
                          irq_line(set_irq, NULL, 15), &err);
    cr_assert_not_null(ide);
    int fd = g_file_open_tmp("tandem-ide-XXXXXX", &path, NULL);
    cr_assert(fd >= 0);
    image = g_malloc((size_t)SECTORS * 512);
    for (uint64_t i = 0; i < (uint64_t)SECTORS * 512; i++)
        image[i] = pattern(i);
    cr_assert_eq(write(fd, image, (size_t)SECTORS * 512), (ssize_t)SECTORS * 512);
    close(fd);
    BlockOpenOpts o = { .format = "raw" };
    blk = blk_open(path, &o, &err);
    cr_assert_not_null(blk);
    cr_assert(ide_attach_disk(piix_ide_bus(ide, 0), 0, blk, "TD00001", &err));
    piix_ide_firmware_setup(ide, BMIBA);
    irq14 = irq_edges = 0;
}

static void teardown(void)
{
    dev_machine_free(m);
    blk_close(blk);
    g_unlink(path);
    g_free(path);
    g_free(image);
}

TestSuite(ide, .init = setup, .fini = teardown);

static uint8_t inb(uint16_t p) { return (uint8_t)dev_in(m, p, 1); }
static uint16_t inw(uint16_t p) { return (uint16_t)dev_in(m, p, 2); }
static void outb(uint16_t p, uint8_t v) { dev_out(m, p, 1, v); }
static void outw(uint16_t p, uint16_t v) { dev_out(m, p, 2, v); }

static void run_for(int64_t ns) { dev_machine_run_to(m, &icount, (int64_t)icount + ns); }

/* Waits (in virtual time) until BSY clears; returns the status. */
static uint8_t wait_ready(void)
{
    for (int i = 0; i < 100; i++) {
        uint8_t st = inb(CTL);
        if (!(st & IDE_STAT_BSY))
            return st;
        run_for(IDE_REQUEST_NS);
    }
    cr_assert_fail("the drive stayed busy");
    return 0;
}

static void lba28(uint32_t lba, uint8_t count, uint8_t cmd)
{
    outb(CMD + 6, (uint8_t)(0xe0 | (lba >> 24)));
    outb(CMD + 2, count);
    outb(CMD + 3, (uint8_t)lba);
    outb(CMD + 4, (uint8_t)(lba >> 8));
    outb(CMD + 5, (uint8_t)(lba >> 16));
    outb(CMD + 7, cmd);
}

static void lba48(uint64_t lba, uint16_t count, uint8_t cmd)
{
    outb(CMD + 6, 0x40);
    outb(CMD + 2, (uint8_t)(count >> 8));
    outb(CMD + 3, (uint8_t)(lba >> 24));
    outb(CMD + 4, (uint8_t)(lba >> 32));
    outb(CMD + 5, (uint8_t)(lba >> 40));
    outb(CMD + 2, (uint8_t)count);
    outb(CMD + 3, (uint8_t)lba);
    outb(CMD + 4, (uint8_t)(lba >> 8));
    outb(CMD + 5, (uint8_t)(lba >> 16));
    outb(CMD + 7, cmd);
}

static void read_block(uint8_t *buf, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i += 2) {
        uint16_t w = inw(CMD);
        buf[i] = (uint8_t)w;
        buf[i + 1] = (uint8_t)(w >> 8);
    }
}

Test(ide, identify)
{
    outb(CMD + 6, 0xa0);
    outb(CMD + 7, 0xec);
    cr_assert_eq(irq14, 1);
    uint8_t st = inb(CMD + 7);
    cr_assert_eq(st & (IDE_STAT_DRQ | IDE_STAT_DRDY | IDE_STAT_BSY), IDE_STAT_DRQ | IDE_STAT_DRDY);
    cr_assert_eq(irq14, 0, "reading status acknowledges the interrupt");
    uint8_t id[512];
    read_block(id, 512);
    cr_assert_eq(inb(CMD + 7) & IDE_STAT_DRQ, 0);
    uint16_t w[256];
    for (int i = 0; i < 256; i++)
        w[i] = (uint16_t)(id[2 * i] | id[2 * i + 1] << 8);
    char model[41];
    for (int i = 0; i < 20; i++) {
        model[2 * i] = (char)(w[27 + i] >> 8);
        model[2 * i + 1] = (char)w[27 + i];
    }
    model[40] = 0;
    cr_assert_str_eq(g_strchomp(model), "TANDEM HARDDISK");
    cr_assert_eq(w[10], ('T' << 8) | 'D');
    cr_assert_eq((uint32_t)w[60] | (uint32_t)w[61] << 16, SECTORS);
    cr_assert_eq((uint64_t)w[100] | (uint64_t)w[101] << 16, SECTORS);
    cr_assert(w[49] & (1 << 9) && w[49] & (1 << 8), "LBA and DMA");
    cr_assert(w[83] & (1 << 10) && w[83] & (1 << 13) && w[83] & (1 << 12), "LBA48, flushes");
    cr_assert_eq(w[63] & 7, 7);
    cr_assert_eq(w[88] & 0x3f, 0x3f);
    cr_assert_eq(w[255] & 0xff, 0xa5);
    uint8_t sum = 0;
    for (int i = 0; i < 512; i++)
        sum = (uint8_t)(sum + id[i]);
    cr_assert_eq(sum, 0, "integrity word");
    /* SET FEATURES: MWDMA2 is then the selected mode. */
    outb(CMD + 1, 0x03);
    outb(CMD + 2, 0x22);
    outb(CMD + 7, 0xef);
    cr_assert_eq(inb(CMD + 7) & IDE_STAT_ERR, 0);
    outb(CMD + 7, 0xec);
    read_block(id, 512);
    cr_assert_eq(id[2 * 63 + 1], 0x04);
}

Test(ide, pio_read_write)
{
    uint8_t buf[3 * 512];
    lba28(10, 3, 0x20);
    for (int s = 0; s < 3; s++) {
        uint8_t st = wait_ready();
        cr_assert_eq(st & (IDE_STAT_DRQ | IDE_STAT_ERR), IDE_STAT_DRQ, "sector %d", s);
        read_block(buf + 512 * s, 512);
    }
    cr_assert_eq(memcmp(buf, image + 10 * 512, sizeof(buf)), 0);
    cr_assert_eq(wait_ready() & IDE_STAT_DRQ, 0);

    lba28(20, 2, 0x30);
    cr_assert(inb(CTL) & IDE_STAT_DRQ, "write: DRQ at once");
    for (int i = 0; i < 1024; i += 2) {
        if (i == 512) {
            cr_assert_eq(inb(CTL) & (IDE_STAT_BSY | IDE_STAT_DRQ), IDE_STAT_BSY);
            cr_assert(wait_ready() & IDE_STAT_DRQ, "the second sector's DRQ");
        }
        outw(CMD, (uint16_t)(0xa5a5 ^ i));
    }
    cr_assert_eq(wait_ready() & (IDE_STAT_DRQ | IDE_STAT_ERR), 0);
    inb(CMD + 7);
    uint8_t disk[1024];
    cr_assert_eq(blk_pread(blk, 20 * 512, disk, 1024), 0);
    for (int i = 0; i < 1024; i += 2)
        cr_assert_eq(disk[i] | disk[i + 1] << 8, (uint16_t)(0xa5a5 ^ i));
    /* 32-bit data accesses move two words. */
    lba28(10, 1, 0x20);
    wait_ready();
    uint32_t d = (uint32_t)dev_in(m, CMD, 4);
    cr_assert_eq(d, (uint32_t)image[5120] | (uint32_t)image[5121] << 8 |
                    (uint32_t)image[5122] << 16 | (uint32_t)image[5123] << 24);
}

Test(ide, read_multiple_and_lba48)
{
    outb(CMD + 2, 4);
    outb(CMD + 7, 0xc6);                    /* SET MULTIPLE MODE 4 */
    cr_assert_eq(inb(CMD + 7) & IDE_STAT_ERR, 0);
    uint8_t buf[8 * 512];
    lba28(100, 8, 0xc4);
    for (int blk_ = 0; blk_ < 2; blk_++) {
        cr_assert(wait_ready() & IDE_STAT_DRQ);
        read_block(buf + 2048 * blk_, 2048);
    }
    cr_assert_eq(memcmp(buf, image + 100 * 512, sizeof(buf)), 0);
    /* LBA48: the high bytes come from the first writes. */
    lba48(SECTORS - 2, 2, 0x24);
    cr_assert(wait_ready() & IDE_STAT_DRQ);
    read_block(buf, 512);
    cr_assert(wait_ready() & IDE_STAT_DRQ);
    read_block(buf + 512, 512);
    cr_assert_eq(memcmp(buf, image + (SECTORS - 2) * 512, 1024), 0);
    /* HOB reads the previous values. */
    lba48(0x0102030405ull, 1, 0x40);        /* READ VERIFY EXT: out of range */
    uint8_t st = wait_ready();
    cr_assert(st & IDE_STAT_ERR);
    cr_assert_eq(inb(CMD + 1), IDE_ERR_IDNF);
}

Test(ide, errors)
{
    lba28(SECTORS - 1, 2, 0x20);            /* one past the end */
    cr_assert(wait_ready() & IDE_STAT_ERR);
    cr_assert_eq(inb(CMD + 1), IDE_ERR_IDNF);
    outb(CMD + 7, 0x00);                    /* NOP aborts */
    cr_assert(inb(CMD + 7) & IDE_STAT_ERR);
    cr_assert_eq(inb(CMD + 1), IDE_ERR_ABRT);
    outb(CMD + 7, 0xa0);                    /* PACKET: not an ATAPI device */
    cr_assert_eq(inb(CMD + 1), IDE_ERR_ABRT);
    outb(CMD + 2, 3);
    outb(CMD + 7, 0xc6);                    /* multiple count must be a power of 2 */
    cr_assert_eq(inb(CMD + 1), IDE_ERR_ABRT);
    outb(CMD + 2, 0);
    outb(CMD + 7, 0xc6);                    /* multiple mode off ... */
    lba28(0, 1, 0xc4);                      /* ... then READ MULTIPLE aborts */
    cr_assert_eq(inb(CMD + 1), IDE_ERR_ABRT);
    outb(CMD + 7, 0xe5);                    /* CHECK POWER MODE */
    cr_assert_eq(inb(CMD + 2), 0xff);
    outb(CMD + 7, 0xe7);                    /* FLUSH CACHE */
    cr_assert_eq(wait_ready() & IDE_STAT_ERR, 0);
    /* The slave is absent: everything reads 0, commands are ignored. */
    outb(CMD + 6, 0xb0);
    outb(CMD + 2, 0x55);
    cr_assert_eq(inb(CMD + 2), 0);
    cr_assert_eq(inb(CMD + 7), 0);
    outb(CMD + 7, 0xec);
    cr_assert_eq(inb(CTL), 0);
    /* The secondary channel is empty. */
    cr_assert_eq(inb(0x177), 0);
}

Test(ide, srst_and_nien)
{
    lba28(0, 4, 0x20);
    wait_ready();
    outb(CTL, IDE_CTL_SRST | IDE_CTL_NIEN);
    cr_assert(inb(CTL) & IDE_STAT_BSY);
    outb(CTL, IDE_CTL_NIEN);
    cr_assert_eq(inb(CTL), IDE_STAT_DRDY | IDE_STAT_DSC);
    cr_assert_eq(inb(CMD + 2), 1);          /* signature */
    cr_assert_eq(inb(CMD + 3), 1);
    cr_assert_eq(inb(CMD + 4), 0);
    cr_assert_eq(inb(CMD + 5), 0);
    int edges = irq_edges;
    outb(CMD + 7, 0xe5);
    cr_assert_eq(irq_edges, edges, "nIEN masks the interrupt");
    outb(CTL, 0);
    cr_assert_eq(irq14, 1, "pending interrupt shows once enabled");
    inb(CMD + 7);
    cr_assert_eq(irq14, 0);
}

/* PRD table at 0x1000, data at 0x10000. */
static void prd(int i, uint32_t addr, uint32_t count, bool eot)
{
    uint8_t e[8] = { (uint8_t)addr, (uint8_t)(addr >> 8), (uint8_t)(addr >> 16),
                     (uint8_t)(addr >> 24), (uint8_t)count, (uint8_t)(count >> 8), 0,
                     eot ? 0x80 : 0 };
    cr_assert_eq(as_copy_to(&m->as, 0x1000 + 8 * (uint64_t)i, e, 8), MEM_OK);
}

static uint8_t dma(uint8_t cmd, uint32_t lba, uint8_t count, bool to_memory)
{
    dev_out(m, BMIBA + 4, 4, 0x1000);
    outb(BMIBA, to_memory ? BM_CMD_READ : 0);
    outb(BMIBA + 2, BM_STAT_INTR | BM_STAT_ERROR);
    lba28(lba, count, cmd);
    outb(BMIBA, (to_memory ? BM_CMD_READ : 0) | BM_CMD_START);
    wait_ready();
    uint8_t bm = inb(BMIBA + 2);
    outb(BMIBA, 0);
    return bm;
}

Test(ide, dma_read_write)
{
    prd(0, 0x10000, 1024, false);
    prd(1, 0x20000, 0, true);               /* 0: 64 KiB */
    memset(m->ram + 0x10000, 0, 0x20000);
    uint8_t bm = dma(0xc8, 40, 2 + 128, true);
    cr_assert_eq(bm & (BM_STAT_INTR | BM_STAT_ACTIVE), BM_STAT_INTR, "status %#x", bm);
    cr_assert_eq(irq14, 1);
    cr_assert_eq(inb(CMD + 7) & (IDE_STAT_ERR | IDE_STAT_DRQ), 0);
    cr_assert_eq(memcmp(m->ram + 0x10000, image + 40 * 512, 1024), 0);
    cr_assert_eq(memcmp(m->ram + 0x20000, image + 42 * 512, 0x10000), 0);

    memset(m->ram + 0x10000, 0x3c, 1024);
    prd(0, 0x10000, 1024, true);
    bm = dma(0xca, 7, 2, false);
    cr_assert_eq(bm & (BM_STAT_INTR | BM_STAT_ACTIVE), BM_STAT_INTR);
    uint8_t disk[1024];
    cr_assert_eq(blk_pread(blk, 7 * 512, disk, 1024), 0);
    for (int i = 0; i < 1024; i++)
        cr_assert_eq(disk[i], 0x3c);

    /* A table longer than the transfer leaves Active set. */
    prd(0, 0x10000, 4096, true);
    bm = dma(0xc8, 0, 1, true);
    cr_assert_eq(bm & (BM_STAT_INTR | BM_STAT_ACTIVE), BM_STAT_INTR | BM_STAT_ACTIVE);
}

Test(ide, dma_hostile)
{
    /* Too short a table: Active clears, no interrupt, the drive is ready. */
    prd(0, 0x10000, 512, true);
    inb(CMD + 7);
    int edges = irq_edges;
    uint8_t bm = dma(0xc8, 0, 4, true);
    cr_assert_eq(bm & (BM_STAT_INTR | BM_STAT_ACTIVE), 0);
    cr_assert_eq(irq_edges, edges);
    /* No end bit anywhere: the walk stops at the transfer's size. */
    for (int i = 0; i < 64; i++)
        prd(i, 0x40000, 2, false);
    bm = dma(0xc8, 0, 1, true);
    cr_assert(bm & BM_STAT_INTR);
    /* Addresses outside RAM and past 4 GiB wrap: nothing breaks. */
    prd(0, 0xfffff000, 0, true);
    bm = dma(0xc8, 0, 128, true);
    cr_assert(bm & BM_STAT_INTR);
    prd(0, 0xfffff000, 0, true);
    bm = dma(0xca, 0, 128, false);
    cr_assert(bm & BM_STAT_INTR);
    /* A PRD table outside RAM: the error bit, the transfer ends short. */
    dev_out(m, BMIBA + 4, 4, 0xfff00000);
    lba28(0, 1, 0xc8);
    outb(BMIBA, BM_CMD_READ | BM_CMD_START);
    wait_ready();
    cr_assert(inb(BMIBA + 2) & BM_STAT_ERROR);
    outb(BMIBA, 0);
    /* DMA command without the bus master: busy until SRST. */
    lba28(0, 1, 0xc8);
    run_for(10 * IDE_REQUEST_NS);
    cr_assert(inb(CTL) & IDE_STAT_BSY);
    outb(CTL, IDE_CTL_SRST);
    outb(CTL, 0);
    cr_assert_eq(inb(CTL), IDE_STAT_DRDY | IDE_STAT_DSC);
}

Test(ide, hostile_registers)
{
    /* Every register, every size, in a pseudo-random order, with time
     * passing: the model must stay consistent (no crash, no hang). */
    uint32_t x = 12345;
    prd(0, 0x10000, 0, true);
    dev_out(m, BMIBA + 4, 4, 0x1000);
    for (int i = 0; i < 200000; i++) {
        x = x * 1103515245 + 12345;
        unsigned r = (x >> 8) % 26;
        uint8_t v = (uint8_t)(x >> 20);
        if (r < 8) {
            outb((uint16_t)(CMD + r), r == 7 && v == 0x90 ? 0xec : v);
        } else if (r < 16) {
            inb((uint16_t)(CMD + r - 8));
        } else if (r == 16) {
            outb(CTL, v & 0x86);
        } else if (r == 17) {
            inb(CTL);
        } else if (r == 18) {
            outb(BMIBA, v & 9);
        } else if (r == 19) {
            outb(BMIBA + 2, v);
        } else if (r == 20) {
            dev_out(m, CMD, 4, x);
        } else if (r == 21) {
            dev_in(m, CMD, 4);
        } else if (r == 22) {
            run_for(x % (3 * IDE_REQUEST_NS));
        } else if (r == 23) {
            dev_out(m, BMIBA + 4, 4, x & 0x7fffc);
        } else {
            inb(BMIBA + 2);
        }
    }
    /* And it still works afterwards (the random writes may have changed
     * the image, so compare with what it holds now). */
    outb(BMIBA, 0);
    outb(CTL, IDE_CTL_SRST);
    outb(CTL, 0);
    uint8_t buf[512], want[512];
    lba28(3, 1, 0x20);
    cr_assert(wait_ready() & IDE_STAT_DRQ);
    read_block(buf, 512);
    cr_assert_eq(blk_pread(blk, 3 * 512, want, 512), 0);
    cr_assert_eq(memcmp(buf, want, 512), 0);
}

Test(ide, attach_checks)
{
    GError *err = NULL;
    cr_assert_not(ide_attach_disk(piix_ide_bus(ide, 0), 0, blk, "x", &err));
    cr_assert(strstr(err->message, "already has a disk"));
    g_clear_error(&err);
    cr_assert_not(ide_attach_disk(piix_ide_bus(ide, 0), 2, blk, "x", &err));
    g_clear_error(&err);
    cr_assert_eq(pci_config_read(piix_ide_pci(ide), PCI_CLASS_PROG, 1), 0x80);
    cr_assert_eq(pci_config_read(piix_ide_pci(ide), PCI_DEVICE_ID, 2), 0x7010);
}
