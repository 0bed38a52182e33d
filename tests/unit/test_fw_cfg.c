#include <criterion/criterion.h>
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "devices/fw_cfg.h"
#include "vmm/machine.h"

#include "dev_machine.h"

#define RAM_SIZE 0x10000u
#define ROM_BASE 0x20000u
#define SEL  FW_CFG_IO_BASE
#define DATA (FW_CFG_IO_BASE + 1)
#define DMA_HI (FW_CFG_IO_BASE + 4)
#define DMA_LO (FW_CFG_IO_BASE + 8)

static uint64_t icount;
static Machine *m;
static FwCfg *fw;
static uint8_t ram[RAM_SIZE], rom[0x1000];

static void setup(void)
{
    m = dev_machine_new(&icount);
    memset(ram, 0, sizeof(ram));
    cr_assert_eq(as_add_ram(&m->as, "ram", 0, RAM_SIZE, ram, false), 0);
    cr_assert_eq(as_add_ram(&m->as, "rom", ROM_BASE, sizeof(rom), rom, true), 0);
    fw = fw_cfg_create(m, &m->io, FW_CFG_IO_BASE);
    cr_assert_not_null(fw);
}

static void teardown(void)
{
    dev_machine_free(m);
}

TestSuite(fw_cfg, .init = setup, .fini = teardown);

static uint64_t in(uint16_t port, unsigned size) { return dev_in(m, port, size); }
static void out(uint16_t port, unsigned size, uint64_t v) { dev_out(m, port, size, v); }

static void select_key(uint16_t key) { out(SEL, 2, key); }

static void read_data(void *buf, size_t len)
{
    uint8_t *p = buf;
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)in(DATA, 1);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24; p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* Writes an FWCfgDmaAccess at desc and starts it as a guest would: the
 * big-endian halves of the address go out as 32-bit port writes, so the
 * CPU's little-endian value is the byte-swapped half. */
static uint32_t dma(uint32_t desc, uint32_t control, uint32_t length, uint64_t addr)
{
    put_be32(ram + desc, control);
    put_be32(ram + desc + 4, length);
    put_be32(ram + desc + 8, (uint32_t)(addr >> 32));
    put_be32(ram + desc + 12, (uint32_t)addr);
    out(DMA_HI, 4, GUINT32_SWAP_LE_BE(0));
    out(DMA_LO, 4, GUINT32_SWAP_LE_BE(desc));
    return be32(ram + desc);
}

Test(fw_cfg, signature_and_id)
{
    char sig[5] = { 0 };
    select_key(FW_CFG_SIGNATURE);
    read_data(sig, 4);
    cr_assert_str_eq(sig, "QEMU");
    /* Past the end: zeros. */
    cr_assert_eq(in(DATA, 1), 0);
    cr_assert_eq(in(DATA, 1), 0);

    uint8_t id[4];
    select_key(FW_CFG_ID);
    read_data(id, 4);
    cr_assert_eq(id[0] | id[1] << 8 | id[2] << 16 | (uint32_t)id[3] << 24, 3);

    /* Selecting again restarts at offset 0; byte reads at 0x510 read data. */
    select_key(FW_CFG_SIGNATURE);
    cr_assert_eq(in(SEL, 1), 'Q');
    cr_assert_eq(in(DATA, 1), 'E');

    /* The DMA register reads "QEMU CFG" in big-endian order. */
    cr_assert_eq(in(DMA_HI, 4), 0x554d4551u);     /* bytes 'Q','E','M','U' */
    cr_assert_eq(in(DMA_LO, 4), 0x47464320u);     /* bytes ' ','C','F','G' */
    cr_assert_eq(in(DMA_HI, 1), 'Q');
    cr_assert_eq(in(DMA_HI + 7, 1), 'G');
    uint64_t v;
    cr_assert_eq(as_read(&m->io, DMA_HI, 8, &v), MEM_OK);
    cr_assert_eq(GUINT64_SWAP_LE_BE(v), 0x51454d5520434647ull);
}

Test(fw_cfg, integer_items_little_endian)
{
    fw_cfg_add_i16(fw, FW_CFG_NB_CPUS, 0x1234);
    fw_cfg_add_i32(fw, FW_CFG_KERNEL_ADDR, 0x100000);
    fw_cfg_add_i64(fw, FW_CFG_RAM_SIZE, 0x0102030405060708ull);
    fw_cfg_add_i32(fw, FW_CFG_X86_IRQ0_OVERRIDE, 1);
    uint8_t b[8];
    select_key(FW_CFG_NB_CPUS);
    read_data(b, 3);
    cr_assert(b[0] == 0x34 && b[1] == 0x12 && b[2] == 0);
    select_key(FW_CFG_KERNEL_ADDR);
    read_data(b, 4);
    cr_assert(b[0] == 0 && b[1] == 0 && b[2] == 0x10 && b[3] == 0);
    select_key(FW_CFG_RAM_SIZE);
    read_data(b, 8);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(b[i], 8 - i);
    select_key(FW_CFG_X86_IRQ0_OVERRIDE);
    cr_assert_eq(in(DATA, 1), 1);
    /* Bit 14 (legacy write channel) selects the same item. */
    select_key(FW_CFG_X86_IRQ0_OVERRIDE | FW_CFG_WRITE_CHANNEL);
    cr_assert_eq(in(DATA, 1), 1);
    /* Replacing an item. */
    fw_cfg_add_i16(fw, FW_CFG_NB_CPUS, 7);
    select_key(FW_CFG_NB_CPUS);
    cr_assert_eq(in(DATA, 1), 7);
}

Test(fw_cfg, absent_keys_and_writes_ignored)
{
    uint16_t keys[] = { 0x0006, 0x001f, 0x0020, 0x3fff, 0x8000, 0x801f, 0x8020, 0xbfff, 0xffff };
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
        select_key(keys[i]);
        for (int j = 0; j < 4; j++)
            cr_assert_eq(in(DATA, 1), 0, "key 0x%x", keys[i]);
    }
    /* Data writes are no-ops (QEMU >= 2.4). */
    select_key(FW_CFG_SIGNATURE);
    out(DATA, 1, 'X');
    out(SEL, 1, 'Y');
    cr_assert_eq(in(DATA, 1), 'Q');
    /* A 16-bit read of the selector decodes nothing and does not advance. */
    cr_assert_eq(in(SEL, 2), 0);
    cr_assert_eq(in(DATA, 1), 'E');
}

Test(fw_cfg, file_directory_sorted)
{
    cr_assert_eq(fw_cfg_add_file(fw, "etc/e820", "0123456789abcdefghij", 20), 0);
    cr_assert_eq(fw_cfg_add_file(fw, "bootorder", "/pci@i0cf8/ide@1,1\n", 19), 0);
    cr_assert_eq(fw_cfg_add_file(fw, "genroms/linuxboot_dma.bin", "\x55\xaa", 2), 0);
    cr_assert_eq(fw_cfg_add_file(fw, "etc/boot-fail-wait", "\0\0\0\0", 4), 0);
    cr_assert_eq(fw_cfg_add_file(fw, "bootorder", "x", 1), -EEXIST);
    cr_assert_eq(fw_cfg_add_file(fw, "", "x", 1), -EINVAL);
    char longname[80];
    memset(longname, 'a', sizeof(longname));
    longname[56] = 0;
    cr_assert_eq(fw_cfg_add_file(fw, longname, "x", 1), -ENAMETOOLONG);
    longname[55] = 0;                      /* 55 characters fit */
    cr_assert_eq(fw_cfg_add_file(fw, longname, "y", 1), 0);

    const char *const order[] = {
        longname, "bootorder", "etc/boot-fail-wait", "etc/e820",
        "genroms/linuxboot_dma.bin",
    };
    static const uint32_t sizes[] = { 1, 19, 4, 20, 2 };

    uint8_t cnt[4];
    select_key(FW_CFG_FILE_DIR);
    read_data(cnt, 4);
    cr_assert_eq(be32(cnt), 5);
    for (unsigned i = 0; i < 5; i++) {
        uint8_t e[64];
        read_data(e, 64);
        cr_assert_eq(be32(e), sizes[i], "entry %u", i);
        cr_assert_eq(e[4] << 8 | e[5], FW_CFG_FILE_FIRST + i);
        cr_assert_eq(e[6] | e[7], 0);
        cr_assert_eq(e[63], 0);
        cr_assert_str_eq((char *)e + 8, order[i]);
        cr_assert_eq(fw_cfg_file_key(fw, order[i]), (int)(FW_CFG_FILE_FIRST + i));
    }
    cr_assert_eq(in(DATA, 1), 0);          /* end of the directory */
    cr_assert_eq(fw_cfg_file_key(fw, "nope"), -1);

    /* Each key reads its file. */
    char buf[21] = { 0 };
    select_key((uint16_t)fw_cfg_file_key(fw, "etc/e820"));
    read_data(buf, 20);
    cr_assert_str_eq(buf, "0123456789abcdefghij");
    select_key((uint16_t)fw_cfg_file_key(fw, "bootorder"));
    read_data(buf, 19);
    buf[19] = 0;
    cr_assert_str_eq(buf, "/pci@i0cf8/ide@1,1\n");
}

Test(fw_cfg, file_slots_full)
{
    for (int i = 0; i < FW_CFG_FILE_SLOTS; i++) {
        char name[32];
        snprintf(name, sizeof(name), "opt/f%03d", FW_CFG_FILE_SLOTS - 1 - i);
        cr_assert_eq(fw_cfg_add_file(fw, name, &i, sizeof(i)), 0);
    }
    cr_assert_eq(fw_cfg_add_file(fw, "opt/zzz", "x", 1), -ENOSPC);
    /* Inserted in reverse order, keys follow the names. */
    select_key(FW_CFG_FILE_FIRST + FW_CFG_FILE_SLOTS - 1);
    int v;
    read_data(&v, sizeof(v));
    cr_assert_eq(v, 0);
    select_key(FW_CFG_FILE_FIRST);
    read_data(&v, sizeof(v));
    cr_assert_eq(v, FW_CFG_FILE_SLOTS - 1);
}

Test(fw_cfg, dma_read_select_skip)
{
    uint8_t blob[300];
    for (unsigned i = 0; i < sizeof(blob); i++)
        blob[i] = (uint8_t)(i * 7 + 1);
    fw_cfg_add_bytes(fw, FW_CFG_KERNEL_DATA, blob, sizeof(blob));

    /* Select + read 100 bytes. */
    uint32_t ctl = dma(0x100, (uint32_t)FW_CFG_KERNEL_DATA << 16 | FW_CFG_DMA_CTL_SELECT |
                       FW_CFG_DMA_CTL_READ, 100, 0x1000);
    cr_assert_eq(ctl, 0);
    cr_assert_eq(memcmp(ram + 0x1000, blob, 100), 0);
    /* Only the control field is written back. */
    cr_assert_eq(be32(ram + 0x104), 100);
    /* The address register reads the signature again (not the address). */
    cr_assert_eq(in(DMA_LO, 4), 0x47464320u);

    /* Skip 50, then read on: offsets continue from the selection. */
    cr_assert_eq(dma(0x100, FW_CFG_DMA_CTL_SKIP, 50, 0), 0);
    cr_assert_eq(dma(0x100, FW_CFG_DMA_CTL_READ, 10, 0x2000), 0);
    cr_assert_eq(memcmp(ram + 0x2000, blob + 150, 10), 0);
    /* The traditional port continues at the same offset. */
    cr_assert_eq(in(DATA, 1), blob[160]);

    /* Reading past the end fills zeros and succeeds. */
    memset(ram + 0x3000, 0xee, 400);
    cr_assert_eq(dma(0x100, FW_CFG_DMA_CTL_READ, 400, 0x3000), 0);
    cr_assert_eq(memcmp(ram + 0x3000, blob + 161, sizeof(blob) - 161), 0);
    for (unsigned i = sizeof(blob) - 161; i < 400; i++)
        cr_assert_eq(ram[0x3000 + i], 0);
    cr_assert_eq(in(DATA, 1), 0);

    /* Select alone resets the offset; a traditional read follows. */
    cr_assert_eq(dma(0x100, (uint32_t)FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT, 0, 0), 0);
    cr_assert_eq(in(DATA, 1), 'Q');

    /* Read with an invalid key: zeros, no error. */
    memset(ram + 0x4000, 0xee, 16);
    cr_assert_eq(dma(0x100, 0x3000u << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ,
                     16, 0x4000), 0);
    for (int i = 0; i < 16; i++)
        cr_assert_eq(ram[0x4000 + i], 0);
}

Test(fw_cfg, dma_64bit_write_and_high_half)
{
    fw_cfg_add_bytes(fw, FW_CFG_CMDLINE_DATA, "console=ttyS0", 14);
    put_be32(ram + 0x200, (uint32_t)FW_CFG_CMDLINE_DATA << 16 | FW_CFG_DMA_CTL_SELECT |
             FW_CFG_DMA_CTL_READ);
    put_be32(ram + 0x204, 14);
    put_be32(ram + 0x208, 0);
    put_be32(ram + 0x20c, 0x5000);
    out(DMA_HI, 8, GUINT64_SWAP_LE_BE(0x200ull));
    cr_assert_eq(be32(ram + 0x200), 0);
    cr_assert_str_eq((char *)ram + 0x5000, "console=ttyS0");

    /* A high half beyond RAM: the descriptor cannot be read, nothing is
     * written; the register is back at 0 afterwards, so a low-half write
     * alone then works. */
    put_be32(ram + 0x200, (uint32_t)FW_CFG_CMDLINE_DATA << 16 | FW_CFG_DMA_CTL_SELECT |
             FW_CFG_DMA_CTL_READ);
    memset(ram + 0x5000, 0, 16);
    out(DMA_HI, 4, GUINT32_SWAP_LE_BE(1));
    out(DMA_LO, 4, GUINT32_SWAP_LE_BE(0x200));
    cr_assert_eq(ram[0x5000], 0);
    out(DMA_LO, 4, GUINT32_SWAP_LE_BE(0x200));
    cr_assert_eq(be32(ram + 0x200), 0);
    cr_assert_str_eq((char *)ram + 0x5000, "console=ttyS0");
}

Test(fw_cfg, dma_errors)
{
    fw_cfg_add_bytes(fw, FW_CFG_INITRD_DATA, "initrd-data", 11);
    uint32_t sel = (uint32_t)FW_CFG_INITRD_DATA << 16 | FW_CFG_DMA_CTL_SELECT;

    /* Target outside RAM. */
    cr_assert_eq(dma(0x100, sel | FW_CFG_DMA_CTL_READ, 11, 0x80000000ull), FW_CFG_DMA_CTL_ERROR);
    cr_assert_eq(dma(0x100, sel | FW_CFG_DMA_CTL_READ, 11, 0xffffffffffffff00ull),
                 FW_CFG_DMA_CTL_ERROR);
    /* Straddling the end of RAM. */
    cr_assert_eq(dma(0x100, sel | FW_CFG_DMA_CTL_READ, 11, RAM_SIZE - 4), FW_CFG_DMA_CTL_ERROR);
    /* Into ROM. */
    memset(rom, 0xaa, sizeof(rom));
    cr_assert_eq(dma(0x100, sel | FW_CFG_DMA_CTL_READ, 11, ROM_BASE), FW_CFG_DMA_CTL_ERROR);
    cr_assert_eq(rom[0], 0xaa);
    /* Zero fill beyond the item into an unmapped range. */
    cr_assert_eq(dma(0x100, sel | FW_CFG_DMA_CTL_READ, 0x20000, 0x8000), FW_CFG_DMA_CTL_ERROR);
    /* Writes to items are not supported. */
    cr_assert_eq(dma(0x100, sel | FW_CFG_DMA_CTL_WRITE, 4, 0x1000), FW_CFG_DMA_CTL_ERROR);
    /* Nothing to do: success. */
    cr_assert_eq(dma(0x100, 0, 4, 0x1000), 0);
    /* Read wins over write and skip. */
    cr_assert_eq(dma(0x100, sel | FW_CFG_DMA_CTL_READ | FW_CFG_DMA_CTL_WRITE |
                     FW_CFG_DMA_CTL_SKIP, 6, 0x1000), 0);
    cr_assert_eq(memcmp(ram + 0x1000, "initrd", 6), 0);
    /* Descriptor at an unmapped address: no crash, nothing written. */
    out(DMA_LO, 4, GUINT32_SWAP_LE_BE(0x90000000u));
    /* Descriptor straddling the end of RAM. */
    out(DMA_LO, 4, GUINT32_SWAP_LE_BE(RAM_SIZE - 8));
}

Test(fw_cfg, reset_deselects)
{
    select_key(FW_CFG_SIGNATURE);
    cr_assert_eq(in(DATA, 1), 'Q');
    out(DMA_HI, 4, 0x12345678);
    for (int i = 0; i < m->ndevices; i++)
        if (m->devices[i].ops->reset)
            m->devices[i].ops->reset(m->devices[i].dev);
    cr_assert_eq(in(DATA, 1), 0);
}

Test(fw_cfg, hostile_sweep)
{
    uint8_t blob[64];
    for (unsigned i = 0; i < sizeof(blob); i++)
        blob[i] = (uint8_t)i;
    fw_cfg_add_bytes(fw, FW_CFG_KERNEL_DATA, blob, sizeof(blob));
    cr_assert_eq(fw_cfg_add_file(fw, "etc/x", blob, 10), 0);
    /* Random descriptors everywhere in RAM, random ports and sizes. */
    GRand *r = g_rand_new_with_seed(1234);
    for (int iter = 0; iter < 200000; iter++) {
        uint16_t port = (uint16_t)(FW_CFG_IO_BASE + g_rand_int_range(r, 0, 12));
        unsigned size = 1u << g_rand_int_range(r, 0, 4);
        uint64_t v = (uint64_t)g_rand_int(r) << 32 | g_rand_int(r);
        if (g_rand_boolean(r)) {
            /* Keep DMA in RAM most of the time so transfers happen. */
            if (port >= DMA_HI && g_rand_int_range(r, 0, 4)) {
                uint32_t desc = g_rand_int_range(r, 0, RAM_SIZE - 16) & ~3u;
                put_be32(ram + desc, g_rand_int(r) & 0x001f001f);
                put_be32(ram + desc + 4, g_rand_int_range(r, 0, 0x200));
                put_be32(ram + desc + 8, 0);
                put_be32(ram + desc + 12, g_rand_int_range(r, 0, RAM_SIZE + 0x100));
                v = GUINT32_SWAP_LE_BE(desc);
                port = DMA_LO;
                size = 4;
            }
            MemResult res = as_write(&m->io, port, size, v);
            cr_assert(res == MEM_OK || res == MEM_BAD_ACCESS || res == MEM_UNMAPPED);
        } else {
            uint64_t val;
            MemResult res = as_read(&m->io, port, size, &val);
            cr_assert(res == MEM_OK || res == MEM_BAD_ACCESS || res == MEM_UNMAPPED);
        }
    }
    g_rand_free(r);
    /* Still intact. */
    char sig[5] = { 0 };
    select_key(FW_CFG_SIGNATURE);
    read_data(sig, 4);
    cr_assert_str_eq(sig, "QEMU");
    select_key(FW_CFG_KERNEL_DATA);
    uint8_t back[64];
    read_data(back, 64);
    cr_assert_eq(memcmp(back, blob, 64), 0);
}

Test(fw_cfg, ports_taken)
{
    Machine *m2 = dev_machine_new(&icount);
    cr_assert_not_null(fw_cfg_create(m2, &m2->io, 0x600));
    cr_assert_null(fw_cfg_create(m2, &m2->io, 0x600));
    cr_assert_not_null(m2->error);
    cr_assert_null(fw_cfg_create(m2, &m2->io, 0xfffa));
    dev_machine_free(m2);
}
