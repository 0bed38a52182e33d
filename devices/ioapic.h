/* 82093AA I/O APIC (version 0x20, with the EOI register at 0x40), 24 pins,
 * delivering to the one local APIC. */
#ifndef TANDEM_IOAPIC_H
#define TANDEM_IOAPIC_H

#include <glib.h>

#include "devices/lapic.h"
#include "vmm/device.h"

typedef struct Machine Machine;
typedef struct Ioapic Ioapic;

#define IOAPIC_BASE      0xfec00000ull
#define IOAPIC_MMIO_SIZE 0x1000
#define IOAPIC_PINS      24
#define IOAPIC_VERSION   0x00170020u     /* max redirection entry 23, version 0x20 */

/* Maps the IOAPIC at IOAPIC_BASE in m->as, delivering to l, and registers
 * itself as l's EOI-broadcast receiver.  Returns NULL (machine_set_error)
 * on failure. */
Ioapic *ioapic_create(Machine *m, Lapic *l);

/* Input pin 0..23.  The level is the asserted state: polarity bits are
 * kept for the guest to read back but not applied, as every device drives
 * its IrqLine active-high. */
IrqLine ioapic_input(Ioapic *io, int pin);

/* EOI for vector (the LAPIC broadcast or the EOI register): clears the
 * remote IRR of level-triggered entries with that vector and re-delivers
 * those whose line is still asserted. */
void ioapic_eoi(Ioapic *io, int vector);
/* The unmasked or asserted pins on one line (vector, level, remote IRR). */
void ioapic_describe(const Ioapic *io, GString *s);

#endif
