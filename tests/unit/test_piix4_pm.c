#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>

#include "devices/pci.h"
#include "devices/piix4_pm.h"
#include "vmm/machine.h"

#include "dev_machine.h"

#define PM_DEVFN PCI_DEVFN(1, 3)
#define BASE     0x600

static uint64_t icount;
static Machine *m;
static PciBus *bus;
static Piix4Pm *pm;
static PciDevice *fn;
static int sci, sci_edges;

static void set_sci(void *opaque, int n, int level)
{
    cr_assert_eq(n, 9);
    cr_assert_neq(sci, level, "SCI set to its current level");
    sci = level;
    sci_edges++;
}

static void setup(void)
{
    m = dev_machine_new(&icount);
    sci = sci_edges = 0;
    bus = pci_bus_create(m, &m->io);
    cr_assert_not_null(bus);
    pm = piix4_pm_create(m, bus, PM_DEVFN, &m->io, irq_line(set_sci, NULL, 9));
    cr_assert_not_null(pm);
    fn = piix4_pm_pci(pm);
}

static void teardown(void)
{
    dev_machine_free(m);
}

TestSuite(piix4_pm, .init = setup, .fini = teardown);

static void reset_all(void)
{
    for (int i = 0; i < m->ndevices; i++)
        if (m->devices[i].ops->reset)
            m->devices[i].ops->reset(m->devices[i].dev);
}

static uint64_t in(uint16_t port, unsigned size) { return dev_in(m, port, size); }
static void out(uint16_t port, unsigned size, uint64_t v) { dev_out(m, port, size, v); }

static bool port_mapped(uint16_t port)
{
    uint64_t v;
    return as_read(&m->io, port, 1, &v) != MEM_UNMAPPED;
}

/* Configuration accesses through ports 0xcf8/0xcfc, as a guest does. */
static uint32_t cfg_read(unsigned reg, unsigned size)
{
    return dev_pci_cfg_read(m, PM_DEVFN, reg, size);
}

static void cfg_write(unsigned reg, unsigned size, uint32_t v)
{
    dev_pci_cfg_write(m, PM_DEVFN, reg, size, v);
}

static int64_t tick_ns(int64_t t) { return clock_tick_ns(t, PIIX4_PM_TIMER_HZ); }

static void run_to(int64_t ns) { dev_machine_run_to(m, &icount, ns); }

static uint32_t pm_tmr(void)
{
    return (uint32_t)in(BASE + PIIX4_PM_TMR, 4);
}

Test(piix4_pm, identity)
{
    cr_assert_eq(cfg_read(0x00, 4), 0x71138086);
    cr_assert_eq(cfg_read(0x08, 4), 0x06800003);         /* class 068000, rev 03 */
    cr_assert_eq(cfg_read(0x0e, 1), 0x00);
    cr_assert_eq(cfg_read(0x2c, 4), 0x11001af4);
    cr_assert_eq(cfg_read(0x3d, 1), 0x00);               /* no interrupt pin */
    cr_assert_eq(cfg_read(0x04, 2), 0x0000);
    cr_assert_eq(cfg_read(0x06, 2), 0x0280);
    cr_assert_eq(cfg_read(PIIX4_PM_PMBA, 4), 0x00000001);
    cr_assert_eq(cfg_read(PIIX4_PM_PMREGMISC, 1), 0x00);
    cr_assert_eq(cfg_read(PIIX4_PM_SMBBA, 4), 0x00000001);
    cfg_write(0x00, 4, 0);
    cfg_write(0x08, 4, 0xffffffff);
    cfg_write(0x2c, 4, 0);
    cfg_write(0x3c, 4, 0xffffffff);
    cr_assert_eq(cfg_read(0x00, 4), 0x71138086);
    cr_assert_eq(cfg_read(0x08, 4), 0x06800003);
    cr_assert_eq(cfg_read(0x2c, 4), 0x11001af4);
    cr_assert_eq(cfg_read(0x3c, 4), 0x000000ff);         /* only the line is writable */
    cr_assert_eq(piix4_pm_io_base(pm), -1);
}

Test(piix4_pm, config_masks)
{
    cfg_write(PIIX4_PM_PMBA, 4, 0xffffffff);
    cr_assert_eq(cfg_read(PIIX4_PM_PMBA, 4), 0x0000ffc1);
    cfg_write(PIIX4_PM_PMBA, 4, 0x00001234);
    cr_assert_eq(cfg_read(PIIX4_PM_PMBA, 4), 0x00001201);
    cfg_write(PIIX4_PM_PMBA, 1, 0x00);
    cr_assert_eq(cfg_read(PIIX4_PM_PMBA, 4), 0x00001201);
    cfg_write(PIIX4_PM_PMBA + 1, 1, 0xab);
    cr_assert_eq(cfg_read(PIIX4_PM_PMBA, 2), 0xab01);
    cfg_write(PIIX4_PM_PMREGMISC, 1, 0xfe);
    cr_assert_eq(cfg_read(PIIX4_PM_PMREGMISC, 1), 0x00);
    cfg_write(PIIX4_PM_SMBBA, 4, 0xffffffff);
    cr_assert_eq(cfg_read(PIIX4_PM_SMBBA, 4), 0x0000fff1);
    cfg_write(PIIX4_PM_SMBHSTCFG, 1, 0x09);
    cr_assert_eq(cfg_read(PIIX4_PM_SMBHSTCFG, 1), 0x09);
    /* The rest of 0x40-0xff is storage. */
    cfg_write(0x58, 4, 0x12345678);
    cr_assert_eq(cfg_read(0x58, 4), 0x12345678);
    cfg_write(0xfc, 4, 0xdeadbeef);
    cr_assert_eq(cfg_read(0xfc, 4), 0xdeadbeef);
    cr_assert_eq(piix4_pm_io_base(pm), -1);
}

Test(piix4_pm, enable_maps_disable_unmaps)
{
    cr_assert(!port_mapped(BASE));
    cfg_write(PIIX4_PM_PMBA, 4, BASE | 1);
    cr_assert(!port_mapped(BASE), "mapped before PMREGMISC enables it");
    cfg_write(PIIX4_PM_PMREGMISC, 1, PIIX4_PM_PMIOSE);
    cr_assert_eq(piix4_pm_io_base(pm), BASE);
    cr_assert_eq(in(BASE + PIIX4_PM1_CNT, 2), PIIX4_CNT_SCI_EN);
    cr_assert(port_mapped(BASE + 0x3f));
    cr_assert(!port_mapped(BASE + 0x40));
    cr_assert(!port_mapped(BASE - 1));
    cfg_write(PIIX4_PM_PMREGMISC, 1, 0);
    cr_assert_eq(piix4_pm_io_base(pm), -1);
    cr_assert(!port_mapped(BASE));
    cr_assert(!port_mapped(BASE + 0x3f));
    /* A dword write at PMREGMISC (bits 7:1 and 0x81-0x83 are other things). */
    cfg_write(PIIX4_PM_PMREGMISC, 4, 0xffffffff);
    cr_assert_eq(piix4_pm_io_base(pm), BASE);
}

Test(piix4_pm, remap)
{
    piix4_pm_set_base(pm, BASE);
    cr_assert_eq(cfg_read(PIIX4_PM_PMBA, 4), BASE | 1);
    cr_assert_eq(cfg_read(PIIX4_PM_PMREGMISC, 1), 1);
    out(BASE + PIIX4_PM1_EN, 2, PIIX4_PM1_PWRBTN);
    cfg_write(PIIX4_PM_PMBA, 4, 0xb001);
    cr_assert_eq(piix4_pm_io_base(pm), 0xb000);
    cr_assert(!port_mapped(BASE));
    cr_assert_eq(in(0xb000 + PIIX4_PM1_EN, 2), PIIX4_PM1_PWRBTN, "state kept across a move");
    /* Byte writes move it too: the high byte first, then the low. */
    cfg_write(PIIX4_PM_PMBA + 1, 1, 0xc0);
    cr_assert_eq(piix4_pm_io_base(pm), 0xc000);
    cfg_write(PIIX4_PM_PMBA, 1, 0x40);
    cr_assert_eq(piix4_pm_io_base(pm), 0xc040);
    cr_assert(port_mapped(0xc040));
    cr_assert(!port_mapped(0xc000));
    cr_assert(!port_mapped(0xb000));
}

static uint64_t dummy_read(void *opaque, uint64_t off, unsigned size) { return 0x5a; }
static const MemOps dummy_ops = { .name = "dummy", .read = dummy_read, .max_access = 4 };

Test(piix4_pm, port_conflicts_leave_it_unmapped)
{
    cr_assert_eq(as_add_mmio(&m->io, "dummy", 0x710, 4, &dummy_ops, NULL), 0);
    piix4_pm_set_base(pm, 0x700);
    cr_assert_eq(piix4_pm_io_base(pm), -1);
    cr_assert_null(m->error, "a guest's PMBA does not stop the machine");
    cr_assert_eq(in(0x710, 1), 0x5a);
    cr_assert(!port_mapped(0x700));
    /* Over the PCI configuration ports: they keep working. */
    cfg_write(PIIX4_PM_PMBA, 4, 0xcc0);
    cr_assert_eq(piix4_pm_io_base(pm), -1);
    cr_assert_eq(cfg_read(0x00, 4), 0x71138086);
    /* Moving on maps it again. */
    cfg_write(PIIX4_PM_PMBA, 4, BASE);
    cr_assert_eq(piix4_pm_io_base(pm), BASE);
    cr_assert_eq(in(BASE + PIIX4_PM1_CNT, 2), 1);
    /* Moving back onto the conflict unmaps the old place. */
    cfg_write(PIIX4_PM_PMBA, 4, 0x700);
    cr_assert_eq(piix4_pm_io_base(pm), -1);
    cr_assert(!port_mapped(BASE));
}

Test(piix4_pm, pm1_sts_write_one_to_clear)
{
    piix4_pm_set_base(pm, BASE);
    cr_assert_eq(in(BASE + PIIX4_PM1_STS, 2), 0);
    piix4_pm_power_button(pm);
    cr_assert_eq(in(BASE + PIIX4_PM1_STS, 2), PIIX4_PM1_PWRBTN);
    cr_assert_eq(sci, 0, "PWRBTN_EN is clear");
    out(BASE + PIIX4_PM1_STS, 2, 0);
    out(BASE + PIIX4_PM1_STS, 2, (uint16_t)~PIIX4_PM1_PWRBTN);
    cr_assert_eq(in(BASE + PIIX4_PM1_STS, 2), PIIX4_PM1_PWRBTN);
    out(BASE + PIIX4_PM1_STS, 1, 0xff);                   /* the other byte */
    cr_assert_eq(in(BASE + PIIX4_PM1_STS, 2), PIIX4_PM1_PWRBTN);
    out(BASE + PIIX4_PM1_STS + 1, 1, 0x01);
    cr_assert_eq(in(BASE + PIIX4_PM1_STS, 2), 0);
    /* Power button with PWRBTN_EN: an SCI until cleared. */
    out(BASE + PIIX4_PM1_EN, 2, PIIX4_PM1_PWRBTN);
    piix4_pm_power_button(pm);
    cr_assert_eq(sci, 1);
    out(BASE + PIIX4_PM1_STS, 2, PIIX4_PM1_PWRBTN);
    cr_assert_eq(sci, 0);
    piix4_pm_power_button(pm);
    cr_assert_eq(sci, 1);
    out(BASE + PIIX4_PM1_EN, 2, 0);
    cr_assert_eq(sci, 0);
    cr_assert_eq(in(BASE + PIIX4_PM1_STS, 2), PIIX4_PM1_PWRBTN);
    /* Reserved PM1_EN bits read 0. */
    out(BASE + PIIX4_PM1_EN, 2, 0xffff);
    cr_assert_eq(in(BASE + PIIX4_PM1_EN, 2), 0x0521);
}

Test(piix4_pm, global_lock_release)
{
    piix4_pm_set_base(pm, BASE);
    out(BASE + PIIX4_PM1_EN, 2, PIIX4_PM1_GBL);
    out(BASE + PIIX4_GLBCTL, 4, 0x00000003);              /* SMI_EN | BIOS_RLS */
    cr_assert_eq(in(BASE + PIIX4_GLBCTL, 4), 0x00000001, "BIOS_RLS is write-only");
    cr_assert_eq(in(BASE + PIIX4_PM1_STS, 2), PIIX4_PM1_GBL);
    cr_assert_eq(sci, 1);
    out(BASE + PIIX4_PM1_STS, 2, PIIX4_PM1_GBL);
    cr_assert_eq(sci, 0);
}

Test(piix4_pm, timer_rate)
{
    piix4_pm_set_base(pm, BASE);
    cr_assert_eq(pm_tmr(), 0);
    icount = 279;                                         /* tick 1 is at 279.36 ns */
    cr_assert_eq(pm_tmr(), 0);
    icount = 280;
    cr_assert_eq(pm_tmr(), 1);
    icount = 1000000000;                                  /* one second */
    cr_assert_eq(pm_tmr(), PIIX4_PM_TIMER_HZ);
    icount = 123456789012ull;
    uint64_t ticks = (uint64_t)((unsigned __int128)123456789012ull * PIIX4_PM_TIMER_HZ /
                                1000000000u);
    cr_assert_eq(pm_tmr(), ticks & 0xffffff);
    /* 24 bits: it wraps, and the top byte reads 0. */
    icount = (uint64_t)tick_ns((1 << 24) + 5);
    cr_assert_eq(pm_tmr(), 5);
    icount = (uint64_t)tick_ns((1 << 24) - 1);
    cr_assert_eq(pm_tmr(), 0xffffff);
    cr_assert_eq(in(BASE + PIIX4_PM_TMR + 3, 1), 0);
    cr_assert_eq(in(BASE + PIIX4_PM_TMR + 2, 1), 0xff);
    cr_assert_eq(in(BASE + PIIX4_PM_TMR + 2, 2), 0x00ff);
    cr_assert_eq(in(BASE + PIIX4_PM_TMR, 2), 0xffff);
    /* Read-only. */
    out(BASE + PIIX4_PM_TMR, 4, 0);
    cr_assert_eq(pm_tmr(), 0xffffff);
    /* No timer runs while nobody asked for TMR_STS interrupts. */
    cr_assert_eq(vclock_next_deadline(&m->clock), INT64_MAX);
}

Test(piix4_pm, timer_overflow_sci)
{
    piix4_pm_set_base(pm, BASE);
    out(BASE + PIIX4_PM1_EN, 2, PIIX4_PM1_TMR);
    cr_assert_eq(vclock_next_deadline(&m->clock), tick_ns(1 << 23));
    run_to(tick_ns(1 << 23) - 1);
    cr_assert_eq(sci, 0);
    cr_assert_eq(in(BASE + PIIX4_PM1_STS, 2), 0);
    run_to(tick_ns(1 << 23));
    cr_assert_eq(sci, 1, "bit 23 went 0 -> 1");
    cr_assert_eq(in(BASE + PIIX4_PM1_STS, 2), PIIX4_PM1_TMR);
    cr_assert_eq(vclock_next_deadline(&m->clock), INT64_MAX, "no timer while TMR_STS is set");
    out(BASE + PIIX4_PM1_STS, 2, PIIX4_PM1_TMR);
    cr_assert_eq(sci, 0);
    cr_assert_eq(vclock_next_deadline(&m->clock), tick_ns(1 << 24));
    run_to(tick_ns(1 << 24));
    cr_assert_eq(sci, 1, "bit 23 went 1 -> 0");
    cr_assert_eq(pm_tmr(), 0);
    out(BASE + PIIX4_PM1_STS, 2, PIIX4_PM1_TMR);
    /* TMR_EN off: no timer and no SCI, but the status is still set. */
    out(BASE + PIIX4_PM1_EN, 2, 0);
    cr_assert_eq(vclock_next_deadline(&m->clock), INT64_MAX);
    run_to(tick_ns(3 << 23) + 10);
    cr_assert_eq(sci, 0);
    cr_assert_eq(in(BASE + PIIX4_PM1_STS, 2), PIIX4_PM1_TMR);
    /* Enabling with the status pending raises the SCI at once. */
    out(BASE + PIIX4_PM1_EN, 2, PIIX4_PM1_TMR);
    cr_assert_eq(sci, 1);
    out(BASE + PIIX4_PM1_STS, 2, PIIX4_PM1_TMR);
    cr_assert_eq(sci, 0);
    cr_assert_eq(vclock_next_deadline(&m->clock), tick_ns(4 << 23));
    /* Late timer service: one status, one SCI edge. */
    int edges = sci_edges;
    run_to(tick_ns(9 << 23));
    cr_assert_eq(sci, 1);
    cr_assert_eq(sci_edges, edges + 1);
}

Test(piix4_pm, sci_en_reads_one)
{
    piix4_pm_set_base(pm, BASE);
    cr_assert_eq(in(BASE + PIIX4_PM1_CNT, 2), PIIX4_CNT_SCI_EN);
    out(BASE + PIIX4_PM1_CNT, 2, 0);
    cr_assert_eq(in(BASE + PIIX4_PM1_CNT, 2), PIIX4_CNT_SCI_EN);
    cr_assert_eq(in(BASE + PIIX4_PM1_CNT, 4), PIIX4_CNT_SCI_EN);
    cr_assert_eq(in(BASE + PIIX4_PM1_CNT, 1), PIIX4_CNT_SCI_EN);
}

Test(piix4_pm, s5_powers_off)
{
    piix4_pm_set_base(pm, BASE);
    /* SLP_TYP alone does nothing and reads back; SLP_EN reads 0. */
    out(BASE + PIIX4_PM1_CNT, 2, 5 << PIIX4_CNT_SLP_TYP_SHIFT);
    cr_assert_eq(in(BASE + PIIX4_PM1_CNT, 2), (5 << PIIX4_CNT_SLP_TYP_SHIFT) | 1);
    cr_assert(!m->shutdown_requested);
    out(BASE + PIIX4_PM1_CNT, 2, PIIX4_CNT_SLP_EN | 0 << PIIX4_CNT_SLP_TYP_SHIFT);
    cr_assert(m->shutdown_requested);
    cr_assert_eq(m->exit_status, 0);
    cr_assert_null(m->error);
    cr_assert_eq(in(BASE + PIIX4_PM1_CNT, 2) & PIIX4_CNT_SLP_EN, 0);
}

Test(piix4_pm, s5_by_byte_write)
{
    piix4_pm_set_base(pm, BASE);
    m->exit_status = 7;
    out(BASE + PIIX4_PM1_CNT + 1, 1, PIIX4_CNT_SLP_EN >> 8);
    cr_assert(m->shutdown_requested);
    cr_assert_eq(m->exit_status, 0);
}

Test(piix4_pm, suspend_is_an_error)
{
    piix4_pm_set_base(pm, BASE);
    out(BASE + PIIX4_PM1_CNT, 2, PIIX4_CNT_SLP_EN | 1 << PIIX4_CNT_SLP_TYP_SHIFT);
    cr_assert(!m->shutdown_requested);
    cr_assert_not_null(m->error);
    cr_assert(strstr(m->error, "sleep type 1"), "%s", m->error);
    cr_assert(m->exit_request);
}

Test(piix4_pm, access_widths)
{
    piix4_pm_set_base(pm, BASE);
    piix4_pm_power_button(pm);
    out(BASE + PIIX4_PM1_EN, 1, PIIX4_PM1_TMR | PIIX4_PM1_GBL);
    out(BASE + PIIX4_PM1_EN + 1, 1, PIIX4_PM1_PWRBTN >> 8);
    cr_assert_eq(in(BASE + PIIX4_PM1_STS, 4), 0x01210100);
    cr_assert_eq(in(BASE + PIIX4_PM1_STS + 1, 1), 0x01);
    cr_assert_eq(in(BASE + PIIX4_PM1_EN, 2), 0x0121);
    cr_assert_eq(in(BASE + PIIX4_PM1_EN + 1, 1), 0x01);
    cr_assert_eq(sci, 1);
    /* A dword write at 0 clears status and sets the enables together. */
    out(BASE + PIIX4_PM1_STS, 4, 0x00000100);
    cr_assert_eq(in(BASE + PIIX4_PM1_STS, 4), 0x00000000);
    cr_assert_eq(sci, 0);
    /* GPEN: storage at every width. */
    out(BASE + 0x0e, 2, 0xbeef);
    cr_assert_eq(in(BASE + 0x0e, 1), 0xef);
    cr_assert_eq(in(BASE + 0x0f, 1), 0xbe);
    cr_assert_eq(in(BASE + 0x0c, 4), 0xbeef0000, "GPSTS has no sources");
    out(BASE + 0x34, 4, 0x11223344);                      /* GPOREG */
    out(BASE + 0x35, 1, 0xaa);
    cr_assert_eq(in(BASE + 0x34, 4), 0x1122aa44);
    cr_assert_eq(in(BASE + 0x36, 2), 0x1122);
    /* Read-only and reserved bytes read 0. */
    out(BASE + 0x14, 2, 0xffff);                          /* P_LVL2/3 */
    out(BASE + 0x30, 4, 0xffffffff);                      /* GPIREG */
    out(BASE + 0x38, 4, 0xffffffff);
    out(BASE + 0x3c, 4, 0xffffffff);
    out(BASE + 0x06, 2, 0xffff);
    cr_assert_eq(in(BASE + 0x14, 4), 0);
    cr_assert_eq(in(BASE + 0x30, 4), 0);
    cr_assert_eq(in(BASE + 0x38, 4), 0);
    cr_assert_eq(in(BASE + 0x3c, 4), 0);
    cr_assert_eq(in(BASE + 0x04, 4), 1);
    /* Misaligned and 8-byte accesses are the bus's to split or refuse. */
    uint64_t v;
    cr_assert_eq(as_read(&m->io, BASE + 1, 2, &v), MEM_BAD_ACCESS);
    cr_assert_eq(as_read(&m->io, BASE + 8, 8, &v), MEM_BAD_ACCESS);
}

Test(piix4_pm, reset_values)
{
    piix4_pm_set_base(pm, BASE);
    out(BASE + PIIX4_PM1_EN, 2, PIIX4_PM1_TMR | PIIX4_PM1_PWRBTN);
    out(BASE + PIIX4_PM1_CNT, 2, 3 << PIIX4_CNT_SLP_TYP_SHIFT);
    out(BASE + 0x0e, 2, 0x1234);
    piix4_pm_power_button(pm);
    cfg_write(PIIX4_PM_SMBBA, 4, 0x1100);
    cfg_write(0x60, 4, 0x55555555);
    cr_assert_eq(sci, 1);
    cr_assert_neq(vclock_next_deadline(&m->clock), INT64_MAX);
    icount = 5000;
    reset_all();
    cr_assert_eq(sci, 0);
    cr_assert_eq(vclock_next_deadline(&m->clock), INT64_MAX);
    cr_assert_eq(piix4_pm_io_base(pm), -1);
    cr_assert(!port_mapped(BASE));
    cr_assert_eq(cfg_read(PIIX4_PM_PMBA, 4), 1);
    cr_assert_eq(cfg_read(PIIX4_PM_PMREGMISC, 1), 0);
    cr_assert_eq(cfg_read(PIIX4_PM_SMBBA, 4), 1);
    cr_assert_eq(cfg_read(0x60, 4), 0);
    cr_assert_eq(cfg_read(0x00, 4), 0x71138086);
    piix4_pm_set_base(pm, BASE);
    cr_assert_eq(in(BASE + PIIX4_PM1_STS, 4), 0);
    cr_assert_eq(in(BASE + PIIX4_PM1_CNT, 4), 1);
    cr_assert_eq(in(BASE + 0x0c, 4), 0);
    /* The timer is a function of virtual time, not of resets. */
    cr_assert_eq(pm_tmr(), (uint32_t)(5000ull * PIIX4_PM_TIMER_HZ / 1000000000u));
}

Test(piix4_pm, hostile_sweep)
{
    GRand *r = g_rand_new_with_seed(7);
    for (int iter = 0; iter < 200000; iter++) {
        unsigned size = 1u << g_rand_int_range(r, 0, 3);
        uint32_t v = g_rand_int(r);
        int what = g_rand_int_range(r, 0, 10);
        if (what == 0) {
            unsigned reg = (unsigned)g_rand_int_range(r, 0, 256) & ~(size - 1);
            pci_config_write(fn, reg, v, size);
        } else if (what == 1) {
            unsigned reg = (unsigned)g_rand_int_range(r, 0, 256) & ~(size - 1);
            (void)pci_config_read(fn, reg, size);
        } else if (what == 2) {
            icount += g_rand_int_range(r, 0, 1 << 22);
            vclock_run_timers(&m->clock);
        } else if (what == 3) {
            piix4_pm_power_button(pm);
        } else {
            int base = piix4_pm_io_base(pm);
            uint16_t port = (uint16_t)((base >= 0 ? base : 0) + g_rand_int_range(r, 0, 64));
            MemResult res;
            if (g_rand_boolean(r)) {
                res = as_write(&m->io, port, size, v);
            } else {
                uint64_t val;
                res = as_read(&m->io, port, size, &val);
            }
            cr_assert(res == MEM_OK || res == MEM_BAD_ACCESS || res == MEM_UNMAPPED);
        }
        if (!(iter % 4096))
            reset_all();
    }
    g_rand_free(r);
    cr_assert_eq(pci_config_read(fn, 0, 4), 0x71138086);
    cr_assert_eq(pci_config_read(fn, PIIX4_PM_PMBA, 4) & 0xffff003f, 1);
    reset_all();
    cr_assert_eq(sci, 0);
    cr_assert_eq(vclock_next_deadline(&m->clock), INT64_MAX);
    cr_assert_eq(piix4_pm_io_base(pm), -1);
}

Test(piix4_pm, create_failures)
{
    cr_assert_null(piix4_pm_create(m, bus, PM_DEVFN, &m->io, irq_line(NULL, NULL, 0)));
    cr_assert_not_null(m->error);
    cr_assert(strstr(m->error, "01.3"), "%s", m->error);
}

Test(piix4_pm, two_machines)
{
    uint64_t icount2;
    Machine *m2 = dev_machine_new(&icount2);
    PciBus *bus2 = pci_bus_create(m2, &m2->io);
    Piix4Pm *pm2 = piix4_pm_create(m2, bus2, PM_DEVFN, &m2->io, irq_line(NULL, NULL, 0));
    cr_assert_not_null(pm2);
    piix4_pm_set_base(pm2, BASE);
    piix4_pm_set_base(pm, BASE);
    icount2 = 1000000000;
    uint64_t v;
    cr_assert_eq(as_read(&m2->io, BASE + PIIX4_PM_TMR, 4, &v), MEM_OK);
    cr_assert_eq(v, PIIX4_PM_TIMER_HZ);
    cr_assert_eq(pm_tmr(), 0);
    dev_machine_free(m2);
}
