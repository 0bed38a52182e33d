/* PCI configuration mechanism #1 and the functions of bus 0.
 *
 * CONFIG_ADDRESS (0xcf8, dword accesses): bit 31 enable, 23:16 bus,
 * 15:8 device/function, 7:2 register; bits 30:24 and 1:0 are reserved and
 * read 0 (as on the 82441FX).  CONFIG_DATA (0xcfc-0xcff) accesses of 1, 2
 * or 4 bytes reach register | (port & 3).  With the enable bit clear, on
 * another bus or for an absent function, reads give all ones and writes are
 * dropped.  Non-dword accesses to 0xcf8-0xcfb are ordinary I/O cycles:
 * nobody answers, except the byte at 0xcf9 which the chipset may claim. */
#include "devices/pci.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "devices/devsnap.h"
#include "vmm/device.h"
#include "vmm/machine.h"

#define CONFIG_ADDRESS_MASK 0x80fffffcu
#define CONFIG_ENABLE       0x80000000u

struct PciBus {
    Machine *m;
    uint32_t config_addr;
    PciDevice *devs[256];
    void (*route)(void *opaque, PciDevice *d, int pin, int level);
    void *route_opaque;
    uint8_t (*cf9_read)(void *opaque);
    void (*cf9_write)(void *opaque, uint8_t val);
    void *cf9_opaque;
};

static bool ranges_overlap(unsigned a, unsigned alen, unsigned b, unsigned blen)
{
    return a < b + blen && b < a + alen;
}

/* ---- INTx ---- */

static void update_irq(PciDevice *d)
{
    uint16_t status = pci_get_word(d, PCI_STATUS) & ~PCI_STATUS_INTERRUPT;
    if (d->irq_state)
        status |= PCI_STATUS_INTERRUPT;
    pci_set_word(d, PCI_STATUS, status);

    int out = d->irq_state && !(pci_get_word(d, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE);
    if (out == d->irq_out)
        return;
    d->irq_out = out;
    uint8_t pin = d->config[PCI_INTERRUPT_PIN];
    if (pin >= 1 && pin <= 4 && d->bus->route)
        d->bus->route(d->bus->route_opaque, d, pin - 1, out);
}

void pci_set_irq(PciDevice *d, int level)
{
    d->irq_state = level != 0;
    update_irq(d);
}

void pci_bus_set_intx_router(PciBus *bus,
                             void (*route)(void *opaque, PciDevice *d, int pin, int level),
                             void *opaque)
{
    bus->route = route;
    bus->route_opaque = opaque;
}

void pci_bus_set_port_cf9(PciBus *bus, uint8_t (*read)(void *opaque),
                          void (*write)(void *opaque, uint8_t val), void *opaque)
{
    bus->cf9_read = read;
    bus->cf9_write = write;
    bus->cf9_opaque = opaque;
}

/* ---- configuration space ---- */

static uint32_t config_bytes(const PciDevice *d, unsigned off, unsigned size)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)d->config[(off + i) & 0xff] << (8 * i);
    return v;
}

uint32_t pci_config_read(PciDevice *d, unsigned off, unsigned size)
{
    if (d->info->config_read && size >= 1 && size <= 4)
        d->info->config_read(d, off & 0xff, size);
    return config_bytes(d, off, size);
}

void pci_config_write(PciDevice *d, unsigned off, uint32_t val, unsigned size)
{
    off &= 0xff;
    if (size > 4 || off + size > PCI_CONFIG_SPACE_SIZE)
        return;
    uint32_t old = config_bytes(d, off, size);
    for (unsigned i = 0; i < size; i++) {
        unsigned a = off + i;
        uint8_t b = (uint8_t)(val >> (8 * i));
        uint8_t nv = (uint8_t)((d->config[a] & ~d->wmask[a]) | (b & d->wmask[a]));
        d->config[a] = (uint8_t)(nv & ~(b & d->w1cmask[a]));
    }
    if (ranges_overlap(off, size, PCI_COMMAND, 2))
        update_irq(d);
    if (d->info->config_write)
        d->info->config_write(d, off, size, old);
    if (d->info->bars_changed &&
        (ranges_overlap(off, size, PCI_COMMAND, 2) ||
         ranges_overlap(off, size, PCI_BASE_ADDRESS_0, 4 * PCI_NUM_BARS) ||
         ranges_overlap(off, size, PCI_ROM_ADDRESS, 4)))
        d->info->bars_changed(d);
}

static unsigned bar_offset(int bar)
{
    return bar == PCI_ROM_SLOT ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4u * (unsigned)bar;
}

void pci_register_bar(PciDevice *d, int bar, uint64_t size, uint8_t type)
{
    g_assert(bar >= 0 && bar <= PCI_ROM_SLOT);
    g_assert(size && !(size & (size - 1)));
    unsigned off = bar_offset(bar);
    uint64_t wmask = ~(size - 1);
    if (bar == PCI_ROM_SLOT) {
        g_assert(size >= 0x800 && size <= 0x80000000ull);
        type = 0;
        wmask |= 1;                  /* the ROM enable bit */
    } else if (type & PCI_BAR_IO) {
        g_assert(type == PCI_BAR_IO && size >= 4 && size <= 0x10000);
    } else if (type & PCI_BAR_MEM64) {
        g_assert(bar < PCI_NUM_BARS - 1 && size >= 16);
        g_assert(!d->bar_size[bar + 1]);
    } else {
        g_assert(size >= 16 && size <= 0x80000000ull);
    }
    d->bar_size[bar] = size;
    d->bar_type[bar] = type;
    pci_set_long(d, off, type);
    for (unsigned i = 0; i < 4; i++)
        d->wmask[off + i] = (uint8_t)(wmask >> (8 * i));
    if (bar != PCI_ROM_SLOT && (type & PCI_BAR_MEM64)) {
        pci_set_long(d, off + 4, 0);
        for (unsigned i = 0; i < 4; i++)
            d->wmask[off + 4 + i] = (uint8_t)(wmask >> (32 + 8 * i));
    }
}

uint64_t pci_bar_address(const PciDevice *d, int bar)
{
    if (bar < 0 || bar > PCI_ROM_SLOT || !d->bar_size[bar])
        return PCI_BAR_UNMAPPED;
    uint16_t cmd = pci_get_word(d, PCI_COMMAND);
    uint64_t size = d->bar_size[bar];
    unsigned off = bar_offset(bar);
    uint32_t lo = pci_get_long(d, off);

    if (bar != PCI_ROM_SLOT && (d->bar_type[bar] & PCI_BAR_IO)) {
        uint64_t a = lo & ~(uint32_t)(size - 1);
        if (!(cmd & PCI_COMMAND_IO) || !a || a + size > 0x10000)
            return PCI_BAR_UNMAPPED;
        return a;
    }
    if (!(cmd & PCI_COMMAND_MEMORY))
        return PCI_BAR_UNMAPPED;
    if (bar == PCI_ROM_SLOT && !(lo & 1))
        return PCI_BAR_UNMAPPED;
    uint64_t a = lo & ~(uint32_t)(size - 1) & ~0xfu;
    uint64_t limit = 1ull << 32;
    if (bar != PCI_ROM_SLOT && (d->bar_type[bar] & PCI_BAR_MEM64)) {
        a |= (uint64_t)pci_get_long(d, off + 4) << 32;
        limit = 0;               /* 2^64 */
    }
    /* 0 is "not programmed"; ending at the top of the space is what the
     * all-ones sizing probe leaves behind, not a placement. */
    if (!a || a + size - 1 < a || (limit && a + size >= limit) ||
        (!limit && a + size == 0))
        return PCI_BAR_UNMAPPED;
    return a;
}

void pci_device_reset(PciDevice *d)
{
    const PciDeviceInfo *info = d->info;
    memset(d->config, 0, sizeof(d->config));
    pci_set_word(d, PCI_VENDOR_ID, info->vendor_id);
    pci_set_word(d, PCI_DEVICE_ID, info->device_id);
    pci_set_byte(d, PCI_REVISION_ID, info->revision);
    pci_set_byte(d, PCI_CLASS_PROG, (uint8_t)info->class_code);
    pci_set_word(d, PCI_CLASS_DEVICE, (uint16_t)(info->class_code >> 8));
    pci_set_byte(d, PCI_HEADER_TYPE, info->header_type);
    pci_set_word(d, PCI_SUBSYSTEM_VENDOR_ID, info->subsystem_vendor_id);
    pci_set_word(d, PCI_SUBSYSTEM_ID, info->subsystem_id);
    pci_set_byte(d, PCI_INTERRUPT_PIN, info->interrupt_pin);
    for (int bar = 0; bar <= PCI_ROM_SLOT; bar++)
        if (d->bar_size[bar])
            pci_set_long(d, bar_offset(bar), d->bar_type[bar]);
    d->irq_state = 0;
    if (info->reset)
        info->reset(d);
    update_irq(d);
    bool has_bars = false;
    for (int bar = 0; bar <= PCI_ROM_SLOT; bar++)
        has_bars |= d->bar_size[bar] != 0;
    if (has_bars && info->bars_changed)
        info->bars_changed(d);
}

void pci_firmware_setup(PciDevice *d, const uint64_t bars[PCI_NUM_BARS], uint8_t irq_line)
{
    uint16_t cmd = pci_get_word(d, PCI_COMMAND) | PCI_COMMAND_MASTER;
    for (int bar = 0; bar < PCI_NUM_BARS; bar++) {
        if (!bars[bar] || !d->bar_size[bar])
            continue;
        unsigned off = bar_offset(bar);
        pci_config_write(d, off, (uint32_t)bars[bar], 4);
        if (d->bar_type[bar] & PCI_BAR_MEM64)
            pci_config_write(d, off + 4, (uint32_t)(bars[bar] >> 32), 4);
        cmd |= d->bar_type[bar] & PCI_BAR_IO ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
    }
    pci_config_write(d, PCI_INTERRUPT_LINE, irq_line, 1);
    pci_config_write(d, PCI_COMMAND, cmd, 2);
}

PciDevice *pci_find_device(PciBus *bus, int devfn)
{
    return devfn >= 0 && devfn < 256 ? bus->devs[devfn] : NULL;
}

PciDevice *pci_add_device(PciBus *bus, int devfn, const PciDeviceInfo *info,
                          void *opaque)
{
    if (devfn < 0 || devfn > 255 || bus->devs[devfn])
        return NULL;
    PciDevice *d = g_new0(PciDevice, 1);
    d->bus = bus;
    d->info = info;
    d->opaque = opaque;
    d->devfn = devfn;
    pci_set_word(d, PCI_COMMAND, 0);
    uint16_t cmd_wmask = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
                         PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE;
    d->wmask[PCI_COMMAND] = (uint8_t)cmd_wmask;
    d->wmask[PCI_COMMAND + 1] = (uint8_t)(cmd_wmask >> 8);
    d->w1cmask[PCI_STATUS] = (uint8_t)PCI_STATUS_W1C;
    d->w1cmask[PCI_STATUS + 1] = (uint8_t)(PCI_STATUS_W1C >> 8);
    d->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
    d->wmask[PCI_LATENCY_TIMER] = 0xff;
    d->wmask[PCI_INTERRUPT_LINE] = 0xff;
    memset(d->wmask + PCI_CONFIG_HEADER_SIZE, 0xff,
           PCI_CONFIG_SPACE_SIZE - PCI_CONFIG_HEADER_SIZE);
    bus->devs[devfn] = d;
    pci_device_reset(d);
    return d;
}

/* ---- ports ---- */

static uint64_t addr_read(void *opaque, uint64_t off, unsigned size)
{
    PciBus *bus = opaque;
    if (size == 4)
        return bus->config_addr;
    if (size == 1 && off == 1 && bus->cf9_read)
        return bus->cf9_read(bus->cf9_opaque);
    return 0xffffffffu >> (32 - 8 * size);
}

static void addr_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    PciBus *bus = opaque;
    if (size == 4)
        bus->config_addr = (uint32_t)val & CONFIG_ADDRESS_MASK;
    else if (size == 1 && off == 1 && bus->cf9_write)
        bus->cf9_write(bus->cf9_opaque, (uint8_t)val);
}

static const MemOps pci_addr_ops = {
    .name = "pci-config-address",
    .read = addr_read,
    .write = addr_write,
    .min_access = 1,
    .max_access = 4,
};

/* The function CONFIG_ADDRESS points at, or NULL. */
static PciDevice *addressed(PciBus *bus)
{
    uint32_t a = bus->config_addr;
    if (!(a & CONFIG_ENABLE) || ((a >> 16) & 0xff) != 0)
        return NULL;
    return bus->devs[(a >> 8) & 0xff];
}

static uint64_t data_read(void *opaque, uint64_t off, unsigned size)
{
    PciBus *bus = opaque;
    PciDevice *d = addressed(bus);
    if (!d)
        return 0xffffffffu >> (32 - 8 * size);
    return pci_config_read(d, (bus->config_addr & 0xfc) | (unsigned)off, size);
}

static void data_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    PciBus *bus = opaque;
    PciDevice *d = addressed(bus);
    if (d)
        pci_config_write(d, (bus->config_addr & 0xfc) | (unsigned)off, (uint32_t)val, size);
}

static const MemOps pci_data_ops = {
    .name = "pci-config-data",
    .read = data_read,
    .write = data_write,
    .min_access = 1,
    .max_access = 4,
};

static void pci_bus_reset(void *dev)
{
    PciBus *bus = dev;
    bus->config_addr = 0;
    for (int i = 0; i < 256; i++)
        if (bus->devs[i])
            pci_device_reset(bus->devs[i]);
}

static void pci_bus_destroy(void *dev)
{
    PciBus *bus = dev;
    for (int i = 0; i < 256; i++)
        g_free(bus->devs[i]);
    g_free(bus);
}

/* ---- snapshots ---- */

#define SNAP_VERSION 1

/* CONFIG_ADDRESS, then every function: its devfn, its whole configuration
 * space (BARs, command, the device-specific registers of i440FX, PIIX3,
 * ... which keep their state there) and its INTx levels.  The write masks
 * and BAR sizes are the function type's and are not saved.  The owners
 * of the functions load after the bus and re-derive their mappings from
 * the loaded registers. */
static int pci_bus_save(void *dev, void *wp)
{
    PciBus *bus = dev;
    SnapWriter *w = wp;
    uint64_t n = 0;
    for (int i = 0; i < 256; i++)
        n += bus->devs[i] != NULL;
    snap_put_u8(w, SNAP_VERSION);
    snap_put_u32(w, bus->config_addr);
    snap_put_u64(w, n);
    for (int i = 0; i < 256; i++) {
        const PciDevice *d = bus->devs[i];
        if (!d)
            continue;
        snap_put_u64(w, (uint64_t)i);
        snap_put_bytes(w, d->config, sizeof(d->config));
        snap_put_bool(w, d->irq_state);
        snap_put_bool(w, d->irq_out);
    }
    return 0;
}

typedef struct PciSnapFn {
    PciDevice *d;
    uint8_t config[PCI_CONFIG_SPACE_SIZE];
    int irq_state, irq_out;
} PciSnapFn;

static int pci_bus_load(void *dev, void *rp)
{
    PciBus *bus = dev;
    SnapReader *r = rp;
    if (!devsnap_version(r, SNAP_VERSION, "pci"))
        return -1;
    uint32_t config_addr = (uint32_t)devsnap_check_mask(r, snap_get_u32(r), CONFIG_ADDRESS_MASK,
                                                        "PCI CONFIG_ADDRESS");
    uint64_t have = 0;
    for (int i = 0; i < 256; i++)
        have += bus->devs[i] != NULL;
    uint64_t n = snap_get_max(r, 256, "PCI function count");
    if (snap_reader_ok(r) && n != have) {
        snap_reader_fail(r, "the snapshot has %llu PCI functions, this machine %llu",
                         (unsigned long long)n, (unsigned long long)have);
        return -1;
    }
    PciSnapFn *fn = g_new0(PciSnapFn, n ? n : 1);
    int prev = -1;
    for (uint64_t k = 0; k < n && snap_reader_ok(r); k++) {
        int devfn = (int)snap_get_max(r, 255, "PCI devfn");
        snap_get_bytes(r, fn[k].config, sizeof(fn[k].config));
        fn[k].irq_state = snap_get_bool(r);
        fn[k].irq_out = snap_get_bool(r);
        if (!snap_reader_ok(r))
            break;
        PciDevice *d = bus->devs[devfn];
        if (devfn <= prev || !d) {
            snap_reader_fail(r, "PCI function %02x.%x of the snapshot is not on this machine",
                             PCI_SLOT(devfn), PCI_FUNC(devfn));
            break;
        }
        uint16_t vendor = (uint16_t)(fn[k].config[PCI_VENDOR_ID] |
                                     fn[k].config[PCI_VENDOR_ID + 1] << 8);
        uint16_t device = (uint16_t)(fn[k].config[PCI_DEVICE_ID] |
                                     fn[k].config[PCI_DEVICE_ID + 1] << 8);
        if (vendor != d->info->vendor_id || device != d->info->device_id) {
            snap_reader_fail(r, "PCI function %02x.%x is %04x:%04x in the snapshot, %s "
                             "(%04x:%04x) here", PCI_SLOT(devfn), PCI_FUNC(devfn), vendor,
                             device, d->info->name, d->info->vendor_id, d->info->device_id);
            break;
        }
        fn[k].d = d;
        prev = devfn;
    }
    bool ok = snap_reader_ok(r);
    if (ok) {
        bus->config_addr = config_addr;
        for (uint64_t k = 0; k < n; k++) {
            memcpy(fn[k].d->config, fn[k].config, sizeof(fn[k].config));
            fn[k].d->irq_state = fn[k].irq_state;
            fn[k].d->irq_out = fn[k].irq_out;
        }
    }
    g_free(fn);
    return ok ? 0 : -1;
}

static const DeviceOps pci_bus_device_ops = {
    .name = "pci",
    .reset = pci_bus_reset,
    .save = pci_bus_save,
    .load = pci_bus_load,
    .destroy = pci_bus_destroy,
};

PciBus *pci_bus_create(Machine *m, AddressSpace *io)
{
    PciBus *bus = g_new0(PciBus, 1);
    bus->m = m;
    int err = as_add_mmio(io, "pci-config-address", PCI_CONFIG_ADDRESS_PORT, 4,
                          &pci_addr_ops, bus);
    if (!err)
        err = as_add_mmio(io, "pci-config-data", PCI_CONFIG_DATA_PORT, 4,
                          &pci_data_ops, bus);
    if (err) {
        machine_set_error(m, "pci: cannot map ports 0xcf8-0xcff: %s", g_strerror(-err));
        machine_keep(m, bus);      /* a mapped half may still point here */
        return NULL;
    }
    machine_add_device(m, &pci_bus_device_ops, bus);
    return bus;
}

/* ---- BAR mappings ---- */

void pci_bar_map_init(PciBarMap *b, int bar, AddressSpace *as, const char *name,
                      uint64_t size, const MemOps *ops, void *opaque)
{
    *b = (PciBarMap){ .as = as, .name = name, .ops = ops, .opaque = opaque, .bar = bar,
                      .size = size, .base = PCI_BAR_UNMAPPED };
}

void pci_bar_map_remove(PciBarMap *b)
{
    if (b->base != PCI_BAR_UNMAPPED)
        as_remove(b->as, b->base);
    b->base = PCI_BAR_UNMAPPED;
}

void pci_bar_map_update(PciDevice *d, PciBarMap *b)
{
    uint64_t want = pci_bar_address(d, b->bar);
    if (want == b->base)
        return;
    pci_bar_map_remove(b);
    if (want == PCI_BAR_UNMAPPED)
        return;
    if (as_add_mmio(b->as, b->name, want, b->size, b->ops, b->opaque) == 0) {
        b->base = want;
    } else if (!b->warned) {
        b->warned = true;
        fprintf(stderr, "tandem: %s: cannot map BAR%d at 0x%llx-0x%llx: another device "
                "uses some of it\n", b->name, b->bar, (unsigned long long)want,
                (unsigned long long)(want + b->size - 1));
    }
}
