/* Realtek RTL8139 10/100 Ethernet controller (PCI 10ec:8139), in the
 * RTL8139 ("normal", non-C+) mode that Linux's 8139too and the BSD rl
 * drivers use.
 *
 * BAR0: 256 I/O ports, BAR1: the same registers as 256 bytes of memory;
 * INTA#.  Registers (byte offsets; see rtl8139.c for their details):
 *   00 IDR0-5 (MAC)   08 MAR0-7 (multicast hash)   10 TSD0-3   20 TSAD0-3
 *   30 RBSTART   37 CR   38 CAPR   3A CBR   3C IMR   3E ISR   40 TCR
 *   44 RCR   48 TCTR   4C MPC   50 9346CR (93C46 EEPROM pins)
 *   51/52/59/5A/D8 CONFIG0/1/3/4/5   54 TimerInt   58 MSR   5C MULINT
 *   5E RERID   60 TSAD   62 BMCR   64 BMSR   66 ANAR   68 ANLPAR
 *   6A ANER   74 CSCR
 *
 * The PCI revision is 0x10 and TCR reports an RTL8139C: QEMU reports an
 * 8139C+ (revision 0x20), which Linux hands to 8139cp for its C+
 * descriptor mode, not emulated here; with revision 0x10 Linux binds
 * 8139too.  The MAC comes from the EEPROM (words 7-9) as on the card;
 * the link is always up at 100 Mbit/s full duplex. */
#ifndef TANDEM_RTL8139_H
#define TANDEM_RTL8139_H

#include <glib.h>
#include <stdint.h>

#include "devices/pci.h"
#include "net/net.h"

typedef struct Machine Machine;
typedef struct Rtl8139 Rtl8139;

#define RTL8139_VENDOR   0x10ec
#define RTL8139_DEVICE   0x8139
#define RTL8139_REVISION 0x10
#define RTL8139_REGS     0x100

/* Adds the function at devfn; registers go to io (BAR0) and m->as (BAR1),
 * DMA to m->as.  nc may be NULL (no netdev: transmitted frames vanish,
 * nothing arrives).  Fails when devfn is taken or the netdev has a device
 * already. */
Rtl8139 *rtl8139_create(Machine *m, PciBus *bus, int devfn, AddressSpace *io,
                        const uint8_t mac[6], NetClient *nc, GError **err);
PciDevice *rtl8139_pci(Rtl8139 *s);
/* What firmware does for boards that start a kernel directly: BAR0 at
 * iobase, BAR1 at mmio, the interrupt line register, I/O, memory and bus
 * mastering enabled. */
void rtl8139_firmware_setup(Rtl8139 *s, uint16_t iobase, uint32_t mmio, uint8_t irq_line);

/* The NetClient frontend calls, exposed for the unit tests. */
bool rtl8139_can_receive(void *opaque, size_t len);
void rtl8139_receive(void *opaque, const uint8_t *buf, size_t len);

#endif
