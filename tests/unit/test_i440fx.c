#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>

#include "devices/i440fx.h"
#include "devices/pci.h"
#include "vmm/machine.h"

#include "dev_machine.h"

static uint64_t icount;
static Machine *m;
static PciBus *bus;
static I440fx *chip;

static uint8_t pam_seen[I440FX_NPAM], pirq_seen[4], smram_seen;
static int pam_calls, pirq_calls, smram_calls;
static int isa_level[16], isa_edges[16];

static void on_pam(void *opaque, const uint8_t pam[I440FX_NPAM])
{
    memcpy(pam_seen, pam, I440FX_NPAM);
    pam_calls++;
}

static void on_pirq(void *opaque, const uint8_t pirq[4])
{
    memcpy(pirq_seen, pirq, 4);
    pirq_calls++;
}

static void on_smram(void *opaque, uint8_t v)
{
    smram_seen = v;
    smram_calls++;
}

static void set_isa(void *opaque, int n, int level)
{
    cr_assert(n >= 0 && n < 16);
    cr_assert_neq(isa_level[n], level, "IRQ %d set to its current level", n);
    isa_level[n] = level;
    isa_edges[n]++;
}

static void reset_all(void)
{
    for (int i = 0; i < m->ndevices; i++)
        if (m->devices[i].ops->reset)
            m->devices[i].ops->reset(m->devices[i].dev);
}

static void setup(void)
{
    m = dev_machine_new(&icount);
    memset(isa_level, 0, sizeof(isa_level));
    memset(isa_edges, 0, sizeof(isa_edges));
    pam_calls = pirq_calls = smram_calls = 0;
    bus = pci_bus_create(m, &m->io);
    cr_assert_not_null(bus);
    I440fxConfig cfg = {
        .pam_changed = on_pam,
        .pirq_changed = on_pirq,
        .smram_changed = on_smram,
    };
    for (int i = 0; i < 16; i++)
        cfg.isa_irq[i] = irq_line(set_isa, NULL, i);
    chip = i440fx_create(m, bus, &cfg);
    cr_assert_not_null(chip);
}

static void teardown(void)
{
    dev_machine_free(m);
}

TestSuite(i440fx, .init = setup, .fini = teardown);

static uint64_t in(uint16_t port, unsigned size) { return dev_in(m, port, size); }
static void out(uint16_t port, unsigned size, uint64_t v) { dev_out(m, port, size, v); }

static uint32_t cfg_read(int devfn, unsigned reg, unsigned size)
{
    return dev_pci_cfg_read(m, devfn, reg, size);
}

static void cfg_write(int devfn, unsigned reg, unsigned size, uint32_t v)
{
    dev_pci_cfg_write(m, devfn, reg, size, v);
}

#define HOST PCI_DEVFN(0, 0)
#define ISA  PCI_DEVFN(1, 0)

Test(i440fx, identity)
{
    cr_assert_eq(cfg_read(HOST, 0, 4), 0x12378086);
    cr_assert_eq(cfg_read(HOST, 0x08, 4), 0x06000002);   /* class 0600, rev 02 */
    cr_assert_eq(cfg_read(HOST, 0x0e, 1), 0x00);
    cr_assert_eq(cfg_read(HOST, 0x2c, 4), 0x11001af4);
    cr_assert_eq(cfg_read(ISA, 0, 4), 0x70008086);
    cr_assert_eq(cfg_read(ISA, 0x0a, 2), 0x0601);
    cr_assert_eq(cfg_read(ISA, 0x0e, 1), 0x80);          /* multifunction */
    cr_assert_eq(cfg_read(ISA, 0x04, 2), 0x0007);
    cr_assert_eq(cfg_read(ISA, 0x06, 2), 0x0200);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(cfg_read(ISA, 0x60 + i, 1), 0x80);
    cr_assert_eq(cfg_read(ISA, 0x4c, 1), 0x4d);
    cr_assert_eq(cfg_read(HOST, I440FX_SMRAM, 1), 0x02);
    /* IDs, class and header type are read-only. */
    cfg_write(HOST, 0, 4, 0);
    cfg_write(HOST, 0x08, 4, 0xffffffff);
    cfg_write(ISA, 0x0e, 1, 0);
    cr_assert_eq(cfg_read(HOST, 0, 4), 0x12378086);
    cr_assert_eq(cfg_read(HOST, 0x08, 4), 0x06000002);
    cr_assert_eq(cfg_read(ISA, 0x0e, 1), 0x80);
    /* Callbacks at creation. */
    cr_assert_eq(pam_calls, 1);
    cr_assert_eq(pirq_calls, 1);
    cr_assert_eq(smram_calls, 1);
    cr_assert_eq(pirq_seen[0], 0x80);
}

Test(i440fx, config_address_register)
{
    out(0xcf8, 4, 0x80000000);
    cr_assert_eq(in(0xcf8, 4), 0x80000000);
    /* Reserved bits 30:24 and 1:0 read 0. */
    out(0xcf8, 4, 0xffffffff);
    cr_assert_eq(in(0xcf8, 4), 0x80fffffc);
    /* Non-dword accesses are not CONFIG_ADDRESS. */
    out(0xcf8, 2, 0);
    out(0xcf8, 1, 0);
    out(0xcfa, 1, 0);
    cr_assert_eq(in(0xcf8, 4), 0x80fffffc);
    cr_assert_eq(in(0xcf8, 1), 0xff);
    cr_assert_eq(in(0xcfa, 2), 0xffff);
    /* Enable bit clear: data reads all ones, writes dropped. */
    out(0xcf8, 4, 0x00000000 | 0x5c);          /* host, PAM3, disabled */
    cr_assert_eq(in(0xcfc, 4), 0xffffffff);
    out(0xcfc, 4, 0x33333333);
    cr_assert_eq(cfg_read(HOST, 0x5c, 4), 0);
}

Test(i440fx, sizes_and_alignments)
{
    /* Scratch registers of the host bridge (0x40-0xff writable). */
    cfg_write(HOST, 0xb0, 4, 0x11223344);
    cr_assert_eq(cfg_read(HOST, 0xb0, 4), 0x11223344);
    cr_assert_eq(cfg_read(HOST, 0xb0, 1), 0x44);
    cr_assert_eq(cfg_read(HOST, 0xb1, 1), 0x33);
    cr_assert_eq(cfg_read(HOST, 0xb2, 1), 0x22);
    cr_assert_eq(cfg_read(HOST, 0xb3, 1), 0x11);
    cr_assert_eq(cfg_read(HOST, 0xb0, 2), 0x3344);
    cr_assert_eq(cfg_read(HOST, 0xb2, 2), 0x1122);
    cfg_write(HOST, 0xb1, 1, 0xaa);
    cfg_write(HOST, 0xb2, 2, 0xccbb);
    cr_assert_eq(cfg_read(HOST, 0xb0, 4), 0xccbbaa44);
    cfg_write(HOST, 0xb3, 1, 0x99);
    cr_assert_eq(cfg_read(HOST, 0xb0, 4), 0x99bbaa44);
    /* Misaligned 16/32-bit port accesses are split by the bus: the memory
     * layer rejects them and the CPU issues byte accesses. */
    uint64_t v;
    out(0xcf8, 4, dev_pci_cfg_addr(HOST, 0xb0));
    cr_assert_eq(as_read(&m->io, 0xcfd, 2, &v), MEM_BAD_ACCESS);
    cr_assert_eq(as_read(&m->io, 0xcfe, 4, &v), MEM_BAD_ACCESS);
    cr_assert_eq(as_read(&m->io, 0xcfc, 8, &v), MEM_BAD_ACCESS);
    /* Register bits 1:0 in CONFIG_ADDRESS do not offset the access. */
    out(0xcf8, 4, dev_pci_cfg_addr(HOST, 0xb0) | 3);
    cr_assert_eq(in(0xcfc, 1), 0x44);
}

Test(i440fx, absent_devices_read_all_ones)
{
    for (int devfn = 0; devfn < 256; devfn++) {
        if (devfn == HOST || devfn == ISA)
            continue;
        cr_assert_eq(cfg_read(devfn, 0, 4), 0xffffffff, "devfn %d", devfn);
        cr_assert_eq(cfg_read(devfn, 2, 2), 0xffff);
        cr_assert_eq(cfg_read(devfn, 0x3d, 1), 0xff);
        cfg_write(devfn, 0x04, 2, 0x7);
    }
    /* Other buses are empty. */
    out(0xcf8, 4, 0x80010000);
    cr_assert_eq(in(0xcfc, 4), 0xffffffff);
    out(0xcf8, 4, 0x80ff0000);
    cr_assert_eq(in(0xcfc, 4), 0xffffffff);
}

Test(i440fx, pam_callback)
{
    int calls = pam_calls;
    cfg_write(HOST, 0x59, 1, 0xff);
    cr_assert_eq(pam_calls, calls + 1);
    cr_assert_eq(pam_seen[0], 0x30);               /* low nibble reserved */
    cfg_write(HOST, 0x5c, 4, 0xffffffff);          /* PAM3-PAM6 */
    cr_assert_eq(pam_calls, calls + 2);
    for (int i = 3; i <= 6; i++)
        cr_assert_eq(pam_seen[i], 0x33);
    cr_assert_eq(pam_seen[1], 0);
    cfg_write(HOST, 0x5a, 2, 0x1111);              /* PAM1-2: read enable only */
    cr_assert_eq(pam_calls, calls + 3);
    cr_assert_eq(pam_seen[1], 0x11);
    cr_assert_eq(pam_seen[2], 0x11);
    /* Writing the same value again: no callback. */
    cfg_write(HOST, 0x5a, 2, 0x1111);
    cr_assert_eq(pam_calls, calls + 3);
    /* A dword at 0x58 touches DRAMT and PAM0-2. */
    cfg_write(HOST, 0x58, 4, 0x00000000);
    cr_assert_eq(pam_calls, calls + 4);
    cr_assert_eq(pam_seen[0], 0);
    cr_assert_eq(pam_seen[2], 0);
    cr_assert_eq(pam_seen[3], 0x33);
    cr_assert_eq(cfg_read(HOST, 0x5c, 4), 0x33333333);
    /* Reset: PAM back to 0 and reported. */
    reset_all();
    cr_assert_eq(pam_calls, calls + 5);
    for (int i = 0; i < I440FX_NPAM; i++)
        cr_assert_eq(pam_seen[i], 0);
}

Test(i440fx, smram)
{
    cfg_write(HOST, I440FX_SMRAM, 1, 0xff);
    cr_assert_eq(cfg_read(HOST, I440FX_SMRAM, 1), 0x3a);   /* D_LCK clears D_OPEN */
    cr_assert_eq(smram_seen, 0x3a);
    cfg_write(HOST, I440FX_SMRAM, 1, 0x00);                /* locked */
    cr_assert_eq(cfg_read(HOST, I440FX_SMRAM, 1), 0x3a);
    reset_all();
    cr_assert_eq(cfg_read(HOST, I440FX_SMRAM, 1), 0x02);
    cfg_write(HOST, I440FX_SMRAM, 1, 0x48);                /* D_OPEN | G_SMRAME */
    cr_assert_eq(cfg_read(HOST, I440FX_SMRAM, 1), 0x4a);
    cfg_write(HOST, I440FX_SMRAM, 1, 0x00);
    cr_assert_eq(cfg_read(HOST, I440FX_SMRAM, 1), 0x02);
}

/* A test device with BARs and an interrupt pin. */
static int bars_changed_calls;
static void test_bars_changed(PciDevice *d) { bars_changed_calls++; }
static const PciDeviceInfo test_dev_info = {
    .name = "test",
    .vendor_id = 0x1234,
    .device_id = 0x5678,
    .class_code = 0x020000,
    .revision = 1,
    .interrupt_pin = 1,
    .bars_changed = test_bars_changed,
};

static PciDevice *add_test_dev(int devfn)
{
    PciDevice *d = pci_add_device(bus, devfn, &test_dev_info, NULL);
    cr_assert_not_null(d);
    pci_register_bar(d, 0, 0x100, PCI_BAR_IO);
    pci_register_bar(d, 1, 0x1000, PCI_BAR_MEM32);
    pci_register_bar(d, 2, 0x100000, PCI_BAR_MEM64 | PCI_BAR_PREFETCH);
    pci_register_bar(d, PCI_ROM_SLOT, 0x10000, 0);
    return d;
}

Test(i440fx, bar_sizing)
{
    int devfn = PCI_DEVFN(3, 0);
    PciDevice *d = add_test_dev(devfn);
    cr_assert_null(pci_add_device(bus, devfn, &test_dev_info, NULL));
    cr_assert_null(pci_add_device(bus, 256, &test_dev_info, NULL));
    cr_assert_eq(cfg_read(devfn, 0, 4), 0x56781234);

    cr_assert_eq(cfg_read(devfn, 0x10, 4), 0x1);
    cr_assert_eq(cfg_read(devfn, 0x14, 4), 0x0);
    cr_assert_eq(cfg_read(devfn, 0x18, 4), 0xc);
    cr_assert_eq(cfg_read(devfn, 0x1c, 4), 0x0);

    static const struct { unsigned reg; uint32_t probe; } bars[] = {
        { 0x10, 0xffffff01 }, { 0x14, 0xfffff000 }, { 0x18, 0xfff0000c },
        { 0x1c, 0xffffffff }, { 0x20, 0 }, { 0x24, 0 }, { 0x30, 0xffff0001 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bars); i++) {
        cfg_write(devfn, bars[i].reg, 4, 0xffffffff);
        cr_assert_eq(cfg_read(devfn, bars[i].reg, 4), bars[i].probe, "reg 0x%x", bars[i].reg);
    }
    /* The probe value never maps anything. */
    cfg_write(devfn, 0x04, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
    for (int b = 0; b <= PCI_ROM_SLOT; b++)
        cr_assert_eq(pci_bar_address(d, b), PCI_BAR_UNMAPPED, "bar %d", b);

    int calls = bars_changed_calls;
    cfg_write(devfn, 0x10, 4, 0xc001);
    cfg_write(devfn, 0x14, 4, 0xfebf1000);
    cfg_write(devfn, 0x18, 4, 0x00000000);
    cfg_write(devfn, 0x1c, 4, 0x00000008);
    cfg_write(devfn, 0x30, 4, 0xfeb00001);
    cr_assert_eq(bars_changed_calls, calls + 5);
    cr_assert_eq(cfg_read(devfn, 0x10, 4), 0xc001);
    cr_assert_eq(pci_bar_address(d, 0), 0xc000);
    cr_assert_eq(pci_bar_address(d, 1), 0xfebf1000);
    cr_assert_eq(pci_bar_address(d, 2), 0x800000000ull);
    cr_assert_eq(pci_bar_address(d, 3), PCI_BAR_UNMAPPED);
    cr_assert_eq(pci_bar_address(d, PCI_ROM_SLOT), 0xfeb00000);
    /* Byte writes into a BAR keep the read-only low bits. */
    cfg_write(devfn, 0x10, 1, 0xff);
    cr_assert_eq(cfg_read(devfn, 0x10, 4), 0xc001);
    cfg_write(devfn, 0x11, 1, 0xd0);
    cr_assert_eq(pci_bar_address(d, 0), 0xd000);
    /* Command bits gate decoding. */
    cfg_write(devfn, 0x04, 2, PCI_COMMAND_MEMORY);
    cr_assert_eq(pci_bar_address(d, 0), PCI_BAR_UNMAPPED);
    cr_assert_eq(pci_bar_address(d, 1), 0xfebf1000);
    cfg_write(devfn, 0x04, 2, 0);
    cr_assert_eq(pci_bar_address(d, 1), PCI_BAR_UNMAPPED);
    /* Writable command bits only. */
    cfg_write(devfn, 0x04, 2, 0xffff);
    cr_assert_eq(cfg_read(devfn, 0x04, 2), 0x0547);
    /* Status: error bits are write-1-to-clear, others read-only. */
    pci_set_word(d, PCI_STATUS, 0xf900 | PCI_STATUS_CAP_LIST);
    cfg_write(devfn, 0x06, 2, 0x8100);
    cr_assert_eq(cfg_read(devfn, 0x06, 2), 0x7810);
    cfg_write(devfn, 0x04, 4, 0xffff0000);        /* command 0, clear all */
    cr_assert_eq(cfg_read(devfn, 0x04, 4), 0x00100000);
    /* Reset clears addresses, keeps sizes. */
    reset_all();
    cr_assert_eq(cfg_read(devfn, 0x10, 4), 0x1);
    cr_assert_eq(cfg_read(devfn, 0x18, 4), 0xc);
    cfg_write(devfn, 0x14, 4, 0xffffffff);
    cr_assert_eq(cfg_read(devfn, 0x14, 4), 0xfffff000);
}

Test(i440fx, pirq_routing)
{
    PciDevice *a = add_test_dev(PCI_DEVFN(3, 0));    /* INTA -> PIRQ (3-1+0)&3 = C */
    PciDevice *b = add_test_dev(PCI_DEVFN(4, 0));    /* PIRQD */
    PciDevice *c = add_test_dev(PCI_DEVFN(5, 0));    /* PIRQA */

    pci_set_irq(a, 1);                                  /* routes disabled */
    for (int i = 0; i < 16; i++)
        cr_assert_eq(isa_level[i], 0);
    cr_assert_eq(i440fx_pirq_irq(chip, 2), -1);

    int calls = pirq_calls;
    cfg_write(ISA, 0x62, 1, 0x0b);                       /* PIRQC -> IRQ 11 */
    cr_assert_eq(pirq_calls, calls + 1);
    cr_assert_eq(pirq_seen[2], 0x0b);
    cr_assert_eq(i440fx_pirq_irq(chip, 2), 11);
    cr_assert_eq(isa_level[11], 1);                      /* pending INTx appears */

    cfg_write(ISA, 0x60, 4, 0x0b0b0bff);                 /* A:off, B C D: 11 */
    cr_assert_eq(cfg_read(ISA, 0x60, 4), 0x0b0b0b8f);    /* bits 6:4 reserved */
    pci_set_irq(b, 1);
    cr_assert_eq(isa_edges[11], 1);                      /* shared, still high */
    pci_set_irq(a, 0);
    cr_assert_eq(isa_level[11], 1);
    pci_set_irq(b, 0);
    cr_assert_eq(isa_level[11], 0);

    /* INTx disable masks; the status bit still shows the pending line. */
    cfg_write(ISA, 0x60, 1, 0x05);                       /* PIRQA -> IRQ 5 */
    pci_set_irq(c, 1);
    cr_assert_eq(isa_level[5], 1);
    cfg_write(PCI_DEVFN(5, 0), 0x04, 2, PCI_COMMAND_INTX_DISABLE);
    cr_assert_eq(isa_level[5], 0);
    cr_assert_eq(cfg_read(PCI_DEVFN(5, 0), 0x06, 2) & PCI_STATUS_INTERRUPT, PCI_STATUS_INTERRUPT);
    cfg_write(PCI_DEVFN(5, 0), 0x04, 2, 0);
    cr_assert_eq(isa_level[5], 1);
    /* Moving the route moves the level. */
    cfg_write(ISA, 0x60, 1, 0x09);
    cr_assert_eq(isa_level[5], 0);
    cr_assert_eq(isa_level[9], 1);
    /* Reset: routes disabled, lines deasserted. */
    reset_all();
    for (int i = 0; i < 16; i++)
        cr_assert_eq(isa_level[i], 0);
    cr_assert_eq(pirq_seen[0], 0x80);
    cr_assert_eq(cfg_read(PCI_DEVFN(5, 0), 0x06, 2) & PCI_STATUS_INTERRUPT, 0);
}

Test(i440fx, reset_control_register)
{
    cr_assert_eq(in(0xcf9, 1), 0);
    out(0xcf9, 1, 0x02);
    cr_assert_eq(in(0xcf9, 1), 0x02);
    cr_assert(!m->reset_requested);
    out(0xcf9, 1, 0x06);
    cr_assert(m->reset_requested);
    /* CONFIG_ADDRESS is untouched by byte accesses at 0xcf9. */
    out(0xcf8, 4, 0x80000800);
    out(0xcf9, 1, 0x00);
    cr_assert_eq(in(0xcf8, 4), 0x80000800);
}

Test(i440fx, hostile_sweep)
{
    PciDevice *d = add_test_dev(PCI_DEVFN(3, 0));
    GRand *r = g_rand_new_with_seed(42);
    for (int iter = 0; iter < 300000; iter++) {
        uint16_t port = (uint16_t)(0xcf8 + g_rand_int_range(r, 0, 8));
        unsigned size = 1u << g_rand_int_range(r, 0, 3);
        uint32_t v = g_rand_int(r);
        if (port == 0xcf8 && size == 4 && g_rand_int_range(r, 0, 4))
            v = (v & 0x8000fffc) | (v & 0x80000000 ? 0 : 0x80000000);   /* mostly bus 0 */
        if (port == 0xcf9 && size == 1)
            v &= ~4u;                                  /* no reset storms */
        MemResult res;
        if (g_rand_boolean(r)) {
            res = as_write(&m->io, port, size, v);
        } else {
            uint64_t val;
            res = as_read(&m->io, port, size, &val);
        }
        cr_assert(res == MEM_OK || res == MEM_BAD_ACCESS);
        if (!(iter % 1000))
            pci_set_irq(d, g_rand_boolean(r));
    }
    g_rand_free(r);
    /* Identities survived. */
    cr_assert_eq(cfg_read(HOST, 0, 4), 0x12378086);
    cr_assert_eq(cfg_read(ISA, 0, 4), 0x70008086);
    cr_assert_eq(cfg_read(PCI_DEVFN(3, 0), 0, 4), 0x56781234);
    cr_assert_eq(cfg_read(HOST, I440FX_SMRAM, 1) & 0x87, 0x02);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(cfg_read(ISA, 0x60 + i, 1) & 0x70, 0);
    /* Interrupt levels are consistent with the routes after a reset. */
    pci_set_irq(d, 0);
    for (int i = 0; i < 16; i++)
        cr_assert_eq(isa_level[i], 0, "IRQ %d", i);
}

Test(i440fx, create_failures)
{
    /* The functions are taken already. */
    cr_assert_null(i440fx_create(m, bus, NULL));
    cr_assert_not_null(m->error);
    /* Ports taken. */
    Machine *m2 = dev_machine_new(&icount);
    cr_assert_not_null(pci_bus_create(m2, &m2->io));
    cr_assert_null(pci_bus_create(m2, &m2->io));
    dev_machine_free(m2);
}
