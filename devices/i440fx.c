/* i440FX host bridge (82441FX PMC) and PIIX3 function 0 (PCI-to-ISA bridge).
 *
 * Only the registers a PC firmware and OS program are modelled beyond
 * storage: PAM and SMRAM in the host bridge, the PIRQ routers and the
 * reset control register in the PIIX3.  The other device-specific registers
 * are plain read/write storage with their power-on values (as QEMU keeps
 * them), so firmware that pokes DRAM timing or ISA recovery registers reads
 * back what it wrote.  Unlike QEMU, a reset puts PAM back to its power-on
 * value (all segments to ROM/PCI), as the hardware does; SeaBIOS copes with
 * both. */
#include "devices/i440fx.h"

#include <glib.h>
#include <string.h>

#include "devices/devsnap.h"
#include "vmm/machine.h"

/* SMRAM (0x72) bits. */
#define SMRAM_D_OPEN   0x40
#define SMRAM_D_CLS    0x20
#define SMRAM_D_LCK    0x10
#define SMRAM_G_SMRAME 0x08
#define SMRAM_C_BASE   0x02     /* compatible SMRAM at 0xa0000, hardwired */

/* PIIX3 reset control register (port 0xcf9). */
#define RCR_SRST 0x02           /* a reset is a hard (system) reset */
#define RCR_RCPU 0x04           /* writing 1 resets */

/* QEMU gives its PCI functions this subsystem (Red Hat / QEMU). */
#define QEMU_SUBVENDOR 0x1af4
#define QEMU_SUBDEVICE 0x1100

struct I440fx {
    Machine *m;
    PciBus *bus;
    I440fxConfig cfg;
    PciDevice *host, *piix3;
    int pirq_count[4];      /* asserted INTx inputs per PIRQ */
    int isa_level[16];      /* level last given to cfg.isa_irq[] */
    uint8_t rcr;
};

static bool touches(unsigned off, unsigned size, unsigned reg, unsigned len)
{
    return off < reg + len && reg < off + size;
}

/* ---- host bridge ---- */

static void notify_pam(I440fx *s)
{
    if (s->cfg.pam_changed)
        s->cfg.pam_changed(s->cfg.opaque, &s->host->config[I440FX_PAM]);
}

static void host_reset(PciDevice *d)
{
    I440fx *s = d->opaque;
    d->wmask[I440FX_PAM] = 0x30;              /* PAM0 low nibble reserved */
    for (int i = 1; i < I440FX_NPAM; i++)
        d->wmask[I440FX_PAM + i] = 0x33;      /* bits 7,6,3,2 reserved */
    d->wmask[I440FX_SMRAM] = SMRAM_D_OPEN | SMRAM_D_CLS | SMRAM_D_LCK | SMRAM_G_SMRAME;
    pci_set_byte(d, I440FX_SMRAM, SMRAM_C_BASE);
    /* PAM is zero after the header reset. */
    if (s->host)
        notify_pam(s);
    if (s->host && s->cfg.smram_changed)
        s->cfg.smram_changed(s->cfg.opaque, SMRAM_C_BASE);
}

static void host_config_write(PciDevice *d, unsigned off, unsigned size, uint32_t old)
{
    I440fx *s = d->opaque;
    if (touches(off, size, I440FX_SMRAM, 1)) {
        uint8_t was = (uint8_t)(old >> (8 * (I440FX_SMRAM - off)));
        uint8_t now = d->config[I440FX_SMRAM];
        if (was & SMRAM_D_LCK)
            now = was;                  /* locked until reset */
        else if (now & SMRAM_D_LCK)
            now &= (uint8_t)~SMRAM_D_OPEN;
        d->config[I440FX_SMRAM] = now;
        if (now != was && s->cfg.smram_changed)
            s->cfg.smram_changed(s->cfg.opaque, now);
    }
    if (touches(off, size, I440FX_PAM, I440FX_NPAM)) {
        bool changed = false;
        for (unsigned i = 0; i < size; i++) {
            unsigned a = off + i;
            if (a >= I440FX_PAM && a < I440FX_PAM + I440FX_NPAM &&
                d->config[a] != (uint8_t)(old >> (8 * i)))
                changed = true;
        }
        if (changed)
            notify_pam(s);
    }
}

static const PciDeviceInfo i440fx_host_info = {
    .name = "i440fx",
    .vendor_id = 0x8086,
    .device_id = 0x1237,
    .class_code = 0x060000,      /* host bridge */
    .revision = 0x02,
    .subsystem_vendor_id = QEMU_SUBVENDOR,
    .subsystem_id = QEMU_SUBDEVICE,
    .reset = host_reset,
    .config_write = host_config_write,
};

/* ---- PIIX3: interrupt routing ---- */

int i440fx_pirq_irq(I440fx *s, int pirq)
{
    if (pirq < 0 || pirq > 3)
        return -1;
    uint8_t r = s->piix3->config[PIIX3_PIRQRC + pirq];
    return (r & PIIX3_PIRQ_DISABLE) ? -1 : (r & 0x0f);
}

static void update_isa_irqs(I440fx *s)
{
    int level[16] = { 0 };
    for (int p = 0; p < 4; p++) {
        int irq = i440fx_pirq_irq(s, p);
        if (irq >= 0 && s->pirq_count[p] > 0)
            level[irq] = 1;
    }
    for (int i = 0; i < 16; i++) {
        if (level[i] != s->isa_level[i]) {
            s->isa_level[i] = level[i];
            irq_set(&s->cfg.isa_irq[i], level[i]);
        }
    }
}

static void route_intx(void *opaque, PciDevice *d, int pin, int level)
{
    I440fx *s = opaque;
    int pirq = (PCI_SLOT(d->devfn) - 1 + pin) & 3;
    if (level)
        s->pirq_count[pirq]++;
    else if (s->pirq_count[pirq] > 0)
        s->pirq_count[pirq]--;
    update_isa_irqs(s);
}

/* ---- PIIX3 ---- */

static uint8_t rcr_read(void *opaque)
{
    I440fx *s = opaque;
    return s->rcr;
}

static void rcr_write(void *opaque, uint8_t val)
{
    I440fx *s = opaque;
    s->rcr = val & RCR_SRST;
    if (val & RCR_RCPU)
        machine_request_reset(s->m);
}

static void piix3_reset(PciDevice *d)
{
    I440fx *s = d->opaque;
    /* Power-on values from the PIIX3 datasheet (as QEMU sets them). */
    pci_set_word(d, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    pci_set_word(d, PCI_STATUS, PCI_STATUS_DEVSEL_MEDIUM);
    pci_set_byte(d, 0x4c, 0x4d);        /* IORT */
    pci_set_byte(d, 0x4e, 0x03);        /* XBCS */
    for (int i = 0; i < 4; i++) {
        pci_set_byte(d, PIIX3_PIRQRC + i, PIIX3_PIRQ_DISABLE);
        d->wmask[PIIX3_PIRQRC + i] = 0x8f;   /* bits 6:4 reserved */
    }
    pci_set_byte(d, 0x69, 0x02);        /* TOM */
    pci_set_byte(d, 0x70, 0x80);        /* MBIRQ0 */
    pci_set_byte(d, 0x71, 0x80);        /* MBIRQ1 */
    pci_set_byte(d, 0x76, 0x0c);        /* MBDMA0 */
    pci_set_byte(d, 0x77, 0x0c);        /* MBDMA1 */
    pci_set_byte(d, 0x78, 0x02);        /* PCSC */
    pci_set_byte(d, 0xa0, 0x08);        /* SMICNTL */
    pci_set_byte(d, 0xa8, 0x0f);        /* FTMR */
    s->rcr = 0;
    if (s->piix3) {
        update_isa_irqs(s);
        if (s->cfg.pirq_changed)
            s->cfg.pirq_changed(s->cfg.opaque, &d->config[PIIX3_PIRQRC]);
    }
}

static void piix3_config_write(PciDevice *d, unsigned off, unsigned size, uint32_t old)
{
    I440fx *s = d->opaque;
    if (!touches(off, size, PIIX3_PIRQRC, 4))
        return;
    update_isa_irqs(s);
    if (s->cfg.pirq_changed)
        s->cfg.pirq_changed(s->cfg.opaque, &d->config[PIIX3_PIRQRC]);
}

static const PciDeviceInfo piix3_info = {
    .name = "piix3",
    .vendor_id = 0x8086,
    .device_id = 0x7000,
    .class_code = 0x060100,      /* ISA bridge */
    .revision = 0x00,
    .header_type = PCI_HEADER_TYPE_MULTI,
    .subsystem_vendor_id = QEMU_SUBVENDOR,
    .subsystem_id = QEMU_SUBDEVICE,
    .reset = piix3_reset,
    .config_write = piix3_config_write,
};

/* ---- lifecycle ---- */

static void i440fx_destroy(void *dev)
{
    g_free(dev);
}

/* ---- snapshots ---- */

#define SNAP_VERSION 1

/* PAM, SMRAM and the PIRQ routes live in the functions' configuration
 * space, which the PCI bus saves; this keeps the interrupt routing's
 * counts and output levels and the reset control register. */
static int i440fx_save(void *dev, void *wp)
{
    I440fx *s = dev;
    SnapWriter *w = wp;
    snap_put_u8(w, SNAP_VERSION);
    for (int p = 0; p < 4; p++)
        snap_put_u64(w, (uint64_t)s->pirq_count[p]);
    for (int i = 0; i < 16; i++)
        snap_put_bool(w, s->isa_level[i]);
    snap_put_u8(w, s->rcr);
    return 0;
}

/* Runs after the PCI bus loaded the registers: the board hears them as
 * after a reset, which re-derives its memory map (PAM) without touching
 * the guest; the ISA lines keep their saved levels (the interrupt
 * controllers hold the same). */
static int i440fx_load(void *dev, void *rp)
{
    I440fx *s = dev;
    SnapReader *r = rp;
    if (!devsnap_version(r, SNAP_VERSION, "i440fx"))
        return -1;
    int count[4], level[16];
    for (int p = 0; p < 4; p++)
        count[p] = (int)snap_get_max(r, 256 * 4, "i440fx PIRQ assertion count");
    for (int i = 0; i < 16; i++)
        level[i] = snap_get_bool(r);
    uint8_t rcr = (uint8_t)devsnap_check_mask(r, snap_get_u8(r), RCR_SRST,
                                              "PIIX3 reset control");
    if (!snap_reader_ok(r))
        return -1;
    memcpy(s->pirq_count, count, sizeof(count));
    memcpy(s->isa_level, level, sizeof(level));
    s->rcr = rcr;
    notify_pam(s);
    if (s->cfg.smram_changed)
        s->cfg.smram_changed(s->cfg.opaque, s->host->config[I440FX_SMRAM]);
    if (s->cfg.pirq_changed)
        s->cfg.pirq_changed(s->cfg.opaque, &s->piix3->config[PIIX3_PIRQRC]);
    return 0;
}

static const DeviceOps i440fx_device_ops = {
    .name = "i440fx",
    .save = i440fx_save,
    .load = i440fx_load,
    .destroy = i440fx_destroy,     /* the PCI bus resets the functions */
};

PciDevice *i440fx_host(I440fx *s) { return s->host; }
PciDevice *i440fx_piix3(I440fx *s) { return s->piix3; }

I440fx *i440fx_create(Machine *m, PciBus *bus, const I440fxConfig *cfg)
{
    I440fx *s = g_new0(I440fx, 1);
    s->m = m;
    s->bus = bus;
    if (cfg)
        s->cfg = *cfg;
    s->host = pci_add_device(bus, PCI_DEVFN(0, 0), &i440fx_host_info, s);
    s->piix3 = s->host ? pci_add_device(bus, PCI_DEVFN(1, 0), &piix3_info, s) : NULL;
    if (!s->host || !s->piix3) {
        /* The bus frees what it holds; the host function may point here. */
        machine_set_error(m, "i440fx: PCI functions 00:00.0 / 00:01.0 are taken");
        machine_keep(m, s);
        return NULL;
    }
    pci_bus_set_intx_router(bus, route_intx, s);
    pci_bus_set_port_cf9(bus, rcr_read, rcr_write, s);
    notify_pam(s);
    if (s->cfg.smram_changed)
        s->cfg.smram_changed(s->cfg.opaque, SMRAM_C_BASE);
    if (s->cfg.pirq_changed)
        s->cfg.pirq_changed(s->cfg.opaque, &s->piix3->config[PIIX3_PIRQRC]);
    machine_add_device(m, &i440fx_device_ops, s);
    return s;
}
