/* PIIX4 power management function (82371AB function 3).
 *
 * The PM timer is a function of virtual time, tick t at the first
 * nanosecond where t * 10^9 / 3579545 is reached, so reads need no timer.
 * TMR_STS is also computed lazily: the status is brought up to date (set
 * if bit 23 toggled since it was last looked at) on every access to the
 * block.  A Timer runs only while TMR_EN is set and TMR_STS clear, the one
 * case where the toggle must raise the SCI on time; a guest that does not
 * ask for timer interrupts costs nothing.
 *
 * ACPI mode is always on: SCI_EN reads 1 and the FADT we give says
 * SMI_CMD = 0.  There is no SMM, so GBL_RLS (which would raise an SMI) is
 * dropped; BIOS_RLS in GLBCTL does set GBL_STS, as the datasheet says.
 *
 * Sleep: SLP_EN with SLP_TYP 0 is S5 soft-off (the DSDT's _S5 is
 * {0, 0, 0, 0}) and powers the machine off with exit status 0, as QEMU
 * does.  The other sleep types (S1-S4) need a wake-up path this machine
 * does not have; the DSDT does not offer them, so a guest that writes one
 * anyway is stopped with an error naming the type, rather than left
 * spinning on a WAK_STS that would never come.
 *
 * The status registers of the rest of the block (GPSTS, GLBSTS, DEVSTS)
 * have no event sources here and read 0; P_LVL2/P_LVL3 read 0 without
 * entering C2/C3 (the FADT gives no P_BLK); the enable and control
 * registers are storage.
 *
 * A PMBA whose 64 ports overlap another device's leaves the block
 * unmapped (real hardware would fight on the bus) and says so on stderr,
 * once per device; moving PMBA again retries. */
#include "devices/piix4_pm.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "devices/devsnap.h"
#include "vmm/clock.h"
#include "vmm/machine.h"

/* QEMU gives its PCI functions this subsystem (Red Hat / QEMU). */
#define QEMU_SUBVENDOR 0x1af4
#define QEMU_SUBDEVICE 0x1100

#define PM1_STS_MASK (PIIX4_PM1_TMR | PIIX4_PM1_BM | PIIX4_PM1_GBL | PIIX4_PM1_PWRBTN | \
                      PIIX4_PM1_RTC | PIIX4_PM1_PWRBTNOR | PIIX4_PM1_WAK)
#define PM1_EN_MASK  (PIIX4_PM1_TMR | PIIX4_PM1_GBL | PIIX4_PM1_PWRBTN | PIIX4_PM1_RTC)
#define PM1_SCI_MASK PM1_EN_MASK
#define CNT_BM_RLD   0x0002
#define CNT_STORED   (CNT_BM_RLD | PIIX4_CNT_SLP_TYP)

/* TMR_STS is set each time bit 23 of the timer toggles. */
#define TMR_PERIOD_SHIFT 23
#define TMR_MASK         0xffffffu

struct Piix4Pm {
    Machine *m;
    PciDevice *pci;
    AddressSpace *io;
    IrqLine sci;
    int sci_level;
    Timer timer;
    int map_base;            /* -1: unmapped */
    bool map_warned;
    uint16_t sts, en, cnt;   /* PM1_STS, PM1_EN, PM1_CNT's stored bits */
    int64_t tmr_period;      /* timer tick >> 23 that TMR_STS accounts for */
    uint8_t regs[PIIX4_PM_IO_SIZE];   /* 0x0c-0x3f */
};

/* Guest-writable bits of the storage registers at 0x0c-0x3f. */
static const uint8_t regs_wmask[PIIX4_PM_IO_SIZE] = {
    [0x0e] = 0xff, [0x0f] = 0xff,                                 /* GPEN */
    [0x10] = 0xff, [0x11] = 0xff, [0x12] = 0xff, [0x13] = 0xff,   /* PCNTRL */
    [0x20] = 0xff, [0x21] = 0xff,                                 /* GLBEN */
    [0x28] = 0xff & ~PIIX4_GLBCTL_BIOS_RLS,                       /* GLBCTL */
    [0x29] = 0xff, [0x2a] = 0xff, [0x2b] = 0xff,
    [0x2c] = 0xff, [0x2d] = 0xff, [0x2e] = 0xff, [0x2f] = 0xff,   /* DEVCTL */
    [0x34] = 0xff, [0x35] = 0xff, [0x36] = 0xff, [0x37] = 0xff,   /* GPOREG */
};

static int64_t tick_of_ns(int64_t ns) { return clock_ticks_at(ns, PIIX4_PM_TIMER_HZ); }
static int64_t ns_of_tick(int64_t t) { return clock_tick_ns(t, PIIX4_PM_TIMER_HZ); }

static int64_t now_tick(const Piix4Pm *s)
{
    return tick_of_ns(machine_ns(s->m));
}

static void sync_tmr_sts(Piix4Pm *s)
{
    int64_t p = now_tick(s) >> TMR_PERIOD_SHIFT;
    if (p > s->tmr_period) {
        s->tmr_period = p;
        s->sts |= PIIX4_PM1_TMR;
    }
}

/* After anything that may have changed the SCI inputs or TMR_EN/TMR_STS. */
static void update(Piix4Pm *s)
{
    int level = (s->sts & s->en & PM1_SCI_MASK) != 0;    /* SCI_EN is always 1 */
    if (level != s->sci_level) {
        s->sci_level = level;
        irq_set(&s->sci, level);
    }
    VClock *c = &s->m->clock;
    if ((s->en & PIIX4_PM1_TMR) && !(s->sts & PIIX4_PM1_TMR)) {
        int64_t when = ns_of_tick((s->tmr_period + 1) << TMR_PERIOD_SHIFT);
        if (!s->timer.armed || s->timer.deadline != when)
            timer_mod(c, &s->timer, when);
    } else {
        timer_del(c, &s->timer);
    }
}

static void pm_timer_cb(void *opaque)
{
    Piix4Pm *s = opaque;
    sync_tmr_sts(s);
    update(s);
}

static void enter_sleep(Piix4Pm *s)
{
    unsigned typ = (s->cnt & PIIX4_CNT_SLP_TYP) >> PIIX4_CNT_SLP_TYP_SHIFT;
    if (typ == 0) {
        machine_request_shutdown(s->m, 0);
        return;
    }
    machine_set_error(s->m, "piix4-pm: the guest entered sleep type %u (SLP_TYP in PM1_CNT): "
                      "S1-S4 suspend is not supported, there is no wake-up; only "
                      "SLP_TYP 0 (S5 soft-off) is", typ);
}

/* ---- the PM register block ---- */

static uint8_t read_byte(const Piix4Pm *s, unsigned off, uint32_t tmr)
{
    unsigned sh = 8 * (off & 1);
    switch (off) {
    case PIIX4_PM1_STS:
    case PIIX4_PM1_STS + 1:
        return (uint8_t)(s->sts >> sh);
    case PIIX4_PM1_EN:
    case PIIX4_PM1_EN + 1:
        return (uint8_t)(s->en >> sh);
    case PIIX4_PM1_CNT:
    case PIIX4_PM1_CNT + 1:
        return (uint8_t)((s->cnt | PIIX4_CNT_SCI_EN) >> sh);
    case PIIX4_PM_TMR:
    case PIIX4_PM_TMR + 1:
    case PIIX4_PM_TMR + 2:
    case PIIX4_PM_TMR + 3:
        return (uint8_t)(tmr >> 8 * (off - PIIX4_PM_TMR));
    case 0x06:
    case 0x07:
        return 0;
    default:
        return s->regs[off];
    }
}

static uint64_t pm_read(void *opaque, uint64_t off, unsigned size)
{
    Piix4Pm *s = opaque;
    sync_tmr_sts(s);
    uint32_t tmr = (uint32_t)now_tick(s) & TMR_MASK;
    uint64_t v = 0;
    for (unsigned i = 0; i < size && off + i < PIIX4_PM_IO_SIZE; i++)
        v |= (uint64_t)read_byte(s, (unsigned)off + i, tmr) << (8 * i);
    update(s);
    return v;
}

/* Returns whether the byte set SLP_EN. */
static bool write_byte(Piix4Pm *s, unsigned off, uint8_t b)
{
    unsigned sh = 8 * (off & 1);
    uint16_t mask = (uint16_t)(0xff << sh), v = (uint16_t)(b << sh);
    switch (off) {
    case PIIX4_PM1_STS:
    case PIIX4_PM1_STS + 1:
        s->sts &= (uint16_t)~(v & PM1_STS_MASK);
        return false;
    case PIIX4_PM1_EN:
    case PIIX4_PM1_EN + 1:
        s->en = (uint16_t)((s->en & ~mask) | (v & PM1_EN_MASK));
        return false;
    case PIIX4_PM1_CNT:
    case PIIX4_PM1_CNT + 1:
        s->cnt = (uint16_t)((s->cnt & ~mask) | (v & CNT_STORED));
        return (v & PIIX4_CNT_SLP_EN) != 0;
    case PIIX4_GLBCTL:
        if (b & PIIX4_GLBCTL_BIOS_RLS)
            s->sts |= PIIX4_PM1_GBL;
        break;
    default:
        if (off < 0x0c)
            return false;       /* PM_TMR and the reserved 0x06-0x07 */
        break;
    }
    s->regs[off] = (uint8_t)((s->regs[off] & ~regs_wmask[off]) | (b & regs_wmask[off]));
    return false;
}

static void pm_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    Piix4Pm *s = opaque;
    sync_tmr_sts(s);
    bool sleep = false;
    for (unsigned i = 0; i < size && off + i < PIIX4_PM_IO_SIZE; i++)
        sleep |= write_byte(s, (unsigned)off + i, (uint8_t)(val >> (8 * i)));
    update(s);
    if (sleep)
        enter_sleep(s);
}

static const MemOps pm_io_ops = {
    .name = "piix4-pm",
    .read = pm_read,
    .write = pm_write,
    .min_access = 1,
    .max_access = 4,
};

/* Puts the block where PMBA and PMREGMISC say. */
static void update_mapping(Piix4Pm *s)
{
    int want = -1;
    if (pci_get_byte(s->pci, PIIX4_PM_PMREGMISC) & PIIX4_PM_PMIOSE)
        want = pci_get_word(s->pci, PIIX4_PM_PMBA) & 0xffc0;
    if (want == s->map_base)
        return;
    if (s->map_base >= 0) {
        as_remove(s->io, (uint64_t)s->map_base);
        s->map_base = -1;
    }
    if (want < 0)
        return;
    int err = as_add_mmio(s->io, "piix4-pm", (uint64_t)want, PIIX4_PM_IO_SIZE, &pm_io_ops, s);
    if (!err) {
        s->map_base = want;
        return;
    }
    if (!s->map_warned) {
        s->map_warned = true;
        fprintf(stderr, "tandem: piix4-pm: cannot map the PM registers at ports 0x%x-0x%x: %s; "
                "they stay unmapped until PMBA moves\n", want, want + PIIX4_PM_IO_SIZE - 1,
                err == -EEXIST ? "another device uses some of them" : g_strerror(-err));
    }
}

/* ---- PCI function ---- */

static void pm_pci_reset(PciDevice *d)
{
    Piix4Pm *s = d->opaque;
    pci_set_word(d, PCI_STATUS, PCI_STATUS_FAST_BACK | PCI_STATUS_DEVSEL_MEDIUM);
    /* PMBA: bits 15:6 the base, bit 0 the I/O space indicator. */
    d->wmask[PIIX4_PM_PMBA] = 0xc0;
    d->wmask[PIIX4_PM_PMBA + 1] = 0xff;
    d->wmask[PIIX4_PM_PMBA + 2] = 0;
    d->wmask[PIIX4_PM_PMBA + 3] = 0;
    pci_set_long(d, PIIX4_PM_PMBA, 1);
    d->wmask[PIIX4_PM_PMREGMISC] = PIIX4_PM_PMIOSE;     /* bits 7:1 reserved */
    /* SMBBA: bits 15:4 the base, bit 0 the I/O space indicator. */
    d->wmask[PIIX4_PM_SMBBA] = 0xf0;
    d->wmask[PIIX4_PM_SMBBA + 1] = 0xff;
    d->wmask[PIIX4_PM_SMBBA + 2] = 0;
    d->wmask[PIIX4_PM_SMBBA + 3] = 0;
    pci_set_long(d, PIIX4_PM_SMBBA, 1);
    if (s->pci)                 /* NULL while pci_add_device runs */
        update_mapping(s);
}

static bool touches(unsigned off, unsigned size, unsigned reg, unsigned len)
{
    return off < reg + len && reg < off + size;
}

static void pm_pci_config_write(PciDevice *d, unsigned off, unsigned size, uint32_t old)
{
    Piix4Pm *s = d->opaque;
    if (touches(off, size, PIIX4_PM_PMBA, 2) || touches(off, size, PIIX4_PM_PMREGMISC, 1))
        update_mapping(s);
}

static const PciDeviceInfo piix4_pm_info = {
    .name = "piix4-pm",
    .vendor_id = 0x8086,
    .device_id = 0x7113,
    .class_code = 0x068000,      /* bridge, other */
    .revision = 0x03,
    .subsystem_vendor_id = QEMU_SUBVENDOR,
    .subsystem_id = QEMU_SUBDEVICE,
    .reset = pm_pci_reset,
    .config_write = pm_pci_config_write,
};

/* ---- lifecycle ---- */

/* Runs after the PCI bus reset (registered later), which already put the
 * configuration registers back and unmapped the block. */
static void pm_reset(void *dev)
{
    Piix4Pm *s = dev;
    s->sts = s->en = s->cnt = 0;
    memset(s->regs, 0, sizeof(s->regs));
    s->tmr_period = now_tick(s) >> TMR_PERIOD_SHIFT;
    update(s);
    update_mapping(s);
}

static void pm_destroy(void *dev)
{
    Piix4Pm *s = dev;
    timer_del(&s->m->clock, &s->timer);
    if (s->map_base >= 0)
        as_remove(s->io, (uint64_t)s->map_base);
    g_free(s);
}

/* ---- snapshots ---- */

#define SNAP_VERSION 1

/* The configuration registers (PMBA, PMREGMISC) are the PCI bus's, which
 * loads before this function: the block's mapping is re-derived from them
 * here.  map_warned is the host's (a stderr message given once). */
static int pm_save(void *dev, void *wp)
{
    Piix4Pm *s = dev;
    SnapWriter *w = wp;
    snap_put_u8(w, SNAP_VERSION);
    snap_put_bool(w, s->sci_level);
    snap_put_u16(w, s->sts);
    snap_put_u16(w, s->en);
    snap_put_u16(w, s->cnt);
    snap_put_u64(w, (uint64_t)s->tmr_period);
    snap_put_bytes(w, s->regs, sizeof(s->regs));
    snap_put_timer(w, &s->timer);
    return 0;
}

static int pm_load(void *dev, void *rp)
{
    Piix4Pm *s = dev;
    SnapReader *r = rp;
    if (!devsnap_version(r, SNAP_VERSION, "piix4-pm"))
        return -1;
    int sci_level = snap_get_bool(r);
    uint16_t sts = (uint16_t)devsnap_check_mask(r, snap_get_u16(r), PM1_STS_MASK, "PM1_STS");
    uint16_t en = (uint16_t)devsnap_check_mask(r, snap_get_u16(r), PM1_EN_MASK, "PM1_EN");
    uint16_t cnt = (uint16_t)devsnap_check_mask(r, snap_get_u16(r), CNT_STORED, "PM1_CNT");
    /* TMR_STS accounts for periods up to now at most (the clock is the
     * snapshot's when devices load); a later one would re-arm the timer in
     * the past for ever. */
    int64_t tmr_period = (int64_t)snap_get_max(r, (uint64_t)(now_tick(s) >> TMR_PERIOD_SHIFT),
                                               "PIIX4 PM timer period");
    uint8_t regs[PIIX4_PM_IO_SIZE];
    snap_get_bytes(r, regs, sizeof(regs));
    if (snap_reader_ok(r))
        snap_get_timer(r, &s->m->clock, &s->timer);
    if (!snap_reader_ok(r))
        return -1;
    s->sci_level = sci_level;
    s->sts = sts;
    s->en = en;
    s->cnt = cnt;
    s->tmr_period = tmr_period;
    memcpy(s->regs, regs, sizeof(regs));
    update_mapping(s);
    return 0;
}

static const DeviceOps piix4_pm_device_ops = {
    .name = "piix4-pm",
    .reset = pm_reset,
    .save = pm_save,
    .load = pm_load,
    .destroy = pm_destroy,
};

Piix4Pm *piix4_pm_create(Machine *m, PciBus *bus, int devfn, AddressSpace *io,
                         IrqLine sci)
{
    Piix4Pm *s = g_new0(Piix4Pm, 1);
    s->m = m;
    s->io = io;
    s->sci = sci;
    s->map_base = -1;
    timer_init(&s->timer, pm_timer_cb, s);
    s->timer.lazy = true;      /* state and interrupt line only */
    s->pci = pci_add_device(bus, devfn, &piix4_pm_info, s);
    if (!s->pci) {
        machine_set_error(m, "piix4-pm: PCI function %02x.%x is taken or out of range",
                          PCI_SLOT(devfn), PCI_FUNC(devfn));
        g_free(s);
        return NULL;
    }
    pm_reset(s);
    machine_add_device(m, &piix4_pm_device_ops, s);
    return s;
}

void piix4_pm_set_base(Piix4Pm *s, uint16_t base)
{
    pci_config_write(s->pci, PIIX4_PM_PMBA, base, 4);
    pci_config_write(s->pci, PIIX4_PM_PMREGMISC,
                     pci_get_byte(s->pci, PIIX4_PM_PMREGMISC) | PIIX4_PM_PMIOSE, 1);
}

int piix4_pm_io_base(const Piix4Pm *s)
{
    return s->map_base;
}

void piix4_pm_power_button(Piix4Pm *s)
{
    sync_tmr_sts(s);
    s->sts |= PIIX4_PM1_PWRBTN;
    update(s);
}

PciDevice *piix4_pm_pci(Piix4Pm *s)
{
    return s->pci;
}
