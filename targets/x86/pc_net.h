/* The pc board's network cards: -device rtl8139|virtio-net-pci,netdev=ID
 * [,mac=...][,addr=SLOT] (devices/rtl8139.c, devices/virtio_net.c behind
 * devices/virtio_pci.c, on the netdevs of net/net.h), and the firmware
 * set-up the board does for PCI functions when it starts a kernel itself. */
#ifndef TANDEM_X86_PC_NET_H
#define TANDEM_X86_PC_NET_H

#include <glib.h>

#include "devices/pci.h"
#include "devices/rtl8139.h"

typedef struct Machine Machine;

enum { PC_MAX_NICS = 4 };

typedef struct PcNics {
    Rtl8139 *nic[PC_MAX_NICS];  /* the rtl8139s, for their firmware set-up */
    int slot[PC_MAX_NICS];
    int n;
    int cards;                  /* every card, virtio-net-pci too */
} PcNics;

/* Takes every -device rtl8139, then every -device virtio-net-pci.  Cards
 * go in the first free slot from 3 (QEMU's pc has VGA in slot 2, so its
 * first NIC is 00:03.0), or at addr=; MACs default to QEMU's
 * 52:54:00:12:34:56, the last byte counting up per card. */
bool pc_nics_create(Machine *m, PciBus *bus, PcNics *nics, GError **err);
/* addr=SLOT[.FN] of a -device (hex, as QEMU's PCI addresses): false when
 * it is not one. */
bool pc_parse_pci_addr(const char *s, int *devfn);
/* A PCI device's slot: *addr, or else the addr= of -device spec (then
 * stored in *addr, g_free'd by the caller), parsed; -1 when neither is
 * given.  false with an error naming the value when it is no address. */
bool pc_device_devfn(const char *spec, char **addr, int *devfn, GError **err);
/* The first free slot from 3 (function 0), or -1. */
int pc_pci_free_devfn(PciBus *bus);
/* SeaBIOS's interrupt routing, for boards that start a kernel directly:
 * PIIX3's PIRQ A-D to IRQs 10, 10, 11, 11; the IRQ INTA# of a card in
 * slot reaches. */
void pc_pirq_firmware(PciBus *bus);
uint8_t pc_pirq_irq(int slot);
/* What SeaBIOS would do, for a Linux kernel booted directly: PIIX3's PIRQ
 * routes A-D to IRQs 10, 10, 11, 11 (when there are cards), each card's
 * BARs (I/O from 0xc100, memory below 0xfec00000) and interrupt line. */
void pc_nics_firmware(PciBus *bus, const PcNics *nics);
/* The same for every virtio-pci function (network and disks): BAR 4 at
 * 0xfe000000 + 16 KiB * n, the interrupt line of its slot's INTA#. */
void pc_virtio_firmware(PciBus *bus);

#endif
