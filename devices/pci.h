/* PCI bus 0 behind configuration mechanism #1 (ports 0xcf8 / 0xcfc-0xcff):
 * a registry of up to 256 functions, each with a 256-byte configuration
 * space whose guest writes go through per-byte write masks (read-only IDs
 * and class, BAR sizing with the all-ones probe, command bits) and then to
 * an optional device hook. */
#ifndef TANDEM_PCI_H
#define TANDEM_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/memory.h"

typedef struct Machine Machine;
typedef struct PciBus PciBus;
typedef struct PciDevice PciDevice;

#define PCI_CONFIG_ADDRESS_PORT 0xcf8
#define PCI_CONFIG_DATA_PORT    0xcfc

#define PCI_DEVFN(slot, fn) ((((slot) & 0x1f) << 3) | ((fn) & 7))
#define PCI_SLOT(devfn)     (((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn)     ((devfn) & 7)

/* Type 0 header. */
#define PCI_VENDOR_ID       0x00
#define PCI_DEVICE_ID       0x02
#define PCI_COMMAND         0x04
#define PCI_STATUS          0x06
#define PCI_REVISION_ID     0x08
#define PCI_CLASS_PROG      0x09
#define PCI_CLASS_DEVICE    0x0a
#define PCI_CACHE_LINE_SIZE 0x0c
#define PCI_LATENCY_TIMER   0x0d
#define PCI_HEADER_TYPE     0x0e
#define PCI_BASE_ADDRESS_0  0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID    0x2e
#define PCI_ROM_ADDRESS     0x30
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE  0x3c
#define PCI_INTERRUPT_PIN   0x3d
#define PCI_CONFIG_HEADER_SIZE 0x40
#define PCI_CONFIG_SPACE_SIZE  0x100

#define PCI_HEADER_TYPE_MULTI 0x80

#define PCI_COMMAND_IO          0x0001
#define PCI_COMMAND_MEMORY      0x0002
#define PCI_COMMAND_MASTER      0x0004
#define PCI_COMMAND_SPECIAL     0x0008
#define PCI_COMMAND_PARITY      0x0040
#define PCI_COMMAND_SERR        0x0100
#define PCI_COMMAND_INTX_DISABLE 0x0400

#define PCI_STATUS_INTERRUPT     0x0008
#define PCI_STATUS_CAP_LIST      0x0010
#define PCI_STATUS_FAST_BACK     0x0080
#define PCI_STATUS_DEVSEL_MEDIUM 0x0200
/* The write-1-to-clear error bits. */
#define PCI_STATUS_W1C           0xf900

/* BAR numbers 0-5, and the expansion ROM. */
#define PCI_NUM_BARS 6
#define PCI_ROM_SLOT 6
/* BAR kinds (the low bits the BAR reads with). */
#define PCI_BAR_IO        0x01
#define PCI_BAR_MEM32     0x00
#define PCI_BAR_MEM64     0x04
#define PCI_BAR_PREFETCH  0x08
#define PCI_BAR_UNMAPPED  UINT64_MAX

/* What a function is; const, shared by all instances of a type. */
typedef struct PciDeviceInfo {
    const char *name;
    uint16_t vendor_id, device_id;
    uint32_t class_code;         /* base class << 16 | subclass << 8 | prog-if */
    uint8_t revision;
    uint8_t header_type;         /* 0, or PCI_HEADER_TYPE_MULTI on function 0 */
    uint16_t subsystem_vendor_id, subsystem_id;
    uint8_t interrupt_pin;       /* 0 none, 1-4 INTA#-INTD# */
    /* Device-specific power-on values (config 0x40-0xff is zero before),
     * the command/status defaults and any write-mask changes; called when
     * the function is added and at every machine reset. */
    void (*reset)(PciDevice *d);
    /* Before a guest read of size bytes at off is taken from config[]: a
     * register with read side effects (a window onto other registers)
     * fills in its bytes here. */
    void (*config_read)(PciDevice *d, unsigned off, unsigned size);
    /* After a guest write of size bytes at off was merged into config[];
     * old holds the bytes before it (little-endian). */
    void (*config_write)(PciDevice *d, unsigned off, unsigned size, uint32_t old);
    /* A BAR, the ROM BAR or the command register was written: mappings
     * may have changed (see pci_bar_address). */
    void (*bars_changed)(PciDevice *d);
} PciDeviceInfo;

struct PciDevice {
    PciBus *bus;
    const PciDeviceInfo *info;
    void *opaque;
    int devfn;
    uint8_t config[PCI_CONFIG_SPACE_SIZE];
    uint8_t wmask[PCI_CONFIG_SPACE_SIZE];   /* bits the guest may write */
    uint8_t w1cmask[PCI_CONFIG_SPACE_SIZE]; /* bits a 1 clears */
    uint64_t bar_size[PCI_NUM_BARS + 1];    /* 0: not implemented */
    uint8_t bar_type[PCI_NUM_BARS + 1];
    int irq_state;                          /* INTx level before DisINTx */
    int irq_out;                            /* level given to the bus */
};

/* Maps the configuration ports in io (0xcf8-0xcff).  Returns NULL
 * (machine_set_error) if they are taken. */
PciBus *pci_bus_create(Machine *m, AddressSpace *io);

/* Adds function devfn (0-255) on bus 0; the header is built from info and
 * info->reset runs.  Defaults: command bits IO, MEMORY, MASTER, PARITY,
 * SERR, INTX_DISABLE writable; the error bits of status write-1-to-clear;
 * cache line, latency timer, interrupt line and all of 0x40-0xff writable;
 * the rest of the header read-only.  Returns NULL if devfn is out of range
 * or taken. */
PciDevice *pci_add_device(PciBus *bus, int devfn, const PciDeviceInfo *info,
                          void *opaque);
PciDevice *pci_find_device(PciBus *bus, int devfn);

/* Declares BAR bar (0-5, or PCI_ROM_SLOT) of size bytes (a power of two,
 * at least 4 for I/O and 16 for memory); type is PCI_BAR_IO or PCI_BAR_MEM32
 * / PCI_BAR_MEM64 (uses bar and bar + 1) with PCI_BAR_PREFETCH.  Board-side
 * misuse asserts. */
void pci_register_bar(PciDevice *d, int bar, uint64_t size, uint8_t type);
/* Where the BAR decodes now, or PCI_BAR_UNMAPPED (decoding disabled in the
 * command register / ROM enable bit, address 0, or beyond the space). */
uint64_t pci_bar_address(const PciDevice *d, int bar);

/* Config helpers for device code (little-endian, no masks, no hooks). */
static inline uint8_t pci_get_byte(const PciDevice *d, unsigned off)
{
    return d->config[off & 0xff];
}
static inline uint16_t pci_get_word(const PciDevice *d, unsigned off)
{
    return (uint16_t)(d->config[off & 0xff] | d->config[(off + 1) & 0xff] << 8);
}
static inline uint32_t pci_get_long(const PciDevice *d, unsigned off)
{
    return pci_get_word(d, off) | (uint32_t)pci_get_word(d, off + 2) << 16;
}
static inline void pci_set_byte(PciDevice *d, unsigned off, uint8_t v)
{
    d->config[off & 0xff] = v;
}
static inline void pci_set_word(PciDevice *d, unsigned off, uint16_t v)
{
    d->config[off & 0xff] = (uint8_t)v;
    d->config[(off + 1) & 0xff] = (uint8_t)(v >> 8);
}
static inline void pci_set_long(PciDevice *d, unsigned off, uint32_t v)
{
    pci_set_word(d, off, (uint16_t)v);
    pci_set_word(d, off + 2, (uint16_t)(v >> 16));
}

/* Guest-view configuration accesses (what the ports do, hooks included),
 * for tests and board code: size 1, 2 or 4 within one dword. */
uint32_t pci_config_read(PciDevice *d, unsigned off, unsigned size);
void pci_config_write(PciDevice *d, unsigned off, uint32_t val, unsigned size);

/* INTx of a function (its interrupt pin): level 0/1.  Masked while the
 * command register's INTX_DISABLE is set; PCI_STATUS_INTERRUPT shows it. */
void pci_set_irq(PciDevice *d, int level);
/* The chipset's INTx router: pin 0-3 (INTA#-INTD#) of d changed level. */
void pci_bus_set_intx_router(PciBus *bus,
                             void (*route)(void *opaque, PciDevice *d, int pin, int level),
                             void *opaque);
/* Port 0xcf9 (inside the 0xcf8 dword, byte accesses only) belongs to the
 * chipset (PIIX3's reset control register). */
void pci_bus_set_port_cf9(PciBus *bus, uint8_t (*read)(void *opaque),
                          void (*write)(void *opaque, uint8_t val), void *opaque);

/* A BAR whose registers a device maps with as_add_mmio: the device
 * declares it once (pci_bar_map_init) and calls pci_bar_map_update from
 * its bars_changed hook, which moves the mapping to where the BAR
 * decodes now (or removes it).  A mapping that collides with another
 * region is left out, with one warning per BAR naming the device. */
typedef struct PciBarMap {
    AddressSpace *as;
    const char *name;
    const MemOps *ops;
    void *opaque;
    int bar;
    uint64_t size;
    uint64_t base;               /* PCI_BAR_UNMAPPED while not mapped */
    bool warned;
} PciBarMap;

void pci_bar_map_init(PciBarMap *b, int bar, AddressSpace *as, const char *name,
                      uint64_t size, const MemOps *ops, void *opaque);
void pci_bar_map_update(PciDevice *d, PciBarMap *b);
/* Removes the mapping (device destroy). */
void pci_bar_map_remove(PciBarMap *b);

/* What firmware does to a function before an OS sees it: BAR n at bars[n]
 * (0: left alone; a 64-bit BAR takes both halves), the interrupt line,
 * and in the command register I/O and memory decoding (for the kinds of
 * BARs programmed) and bus mastering.  For boards that start a kernel
 * without firmware. */
void pci_firmware_setup(PciDevice *d, const uint64_t bars[PCI_NUM_BARS], uint8_t irq_line);

/* The function's power-on state (header from info, BARs cleared, INTx
 * deasserted, info->reset); the bus does this at machine reset. */
void pci_device_reset(PciDevice *d);

#endif
