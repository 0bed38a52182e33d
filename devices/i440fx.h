/* The i440FX chipset of QEMU's pc: the 82441FX PCI host bridge (PMC) at
 * 00:00.0 and function 0 of the PIIX3 (PCI-to-ISA bridge) at 00:01.0.
 *
 * The board owns the memory map and the interrupt controllers; this file
 * tells it what the guest programs:
 *   - PAM0-PAM6 (host 0x59-0x5f): RE (bit 0/4) and WE (bit 1/5) per
 *     segment of 0xc0000-0xfffff (PAM0 high nibble: 0xf0000-0xfffff;
 *     PAMn, n = 1..6: low nibble 0xc0000 + (n-1) * 0x8000, high nibble
 *     0x4000 above).  RE = 0 / WE = 0 send reads / writes to ROM/PCI.
 *   - SMRAM (host 0x72): accepted, G_SMRAME/D_OPEN/D_CLS/D_LCK kept; there
 *     is no SMM.
 *   - PIRQRC[A-D] (PIIX3 0x60-0x63): bit 7 disables the route, bits 3:0
 *     are the ISA IRQ.  PCI INTx reach PIRQ (slot - 1 + pin) & 3 (pin 0 =
 *     INTA#, QEMU's wiring) and, through these registers, cfg->isa_irq[].
 *   - The reset control register at port 0xcf9: bit 2 resets the machine.
 * The ELCR (0x4d0/0x4d1) is the PIC's. */
#ifndef TANDEM_I440FX_H
#define TANDEM_I440FX_H

#include <stdint.h>

#include "devices/pci.h"
#include "vmm/device.h"

typedef struct Machine Machine;
typedef struct I440fx I440fx;

#define I440FX_PAM     0x59    /* PAM0; PAM6 at 0x5f */
#define I440FX_NPAM    7
#define I440FX_SMRAM   0x72
#define PIIX3_PIRQRC   0x60    /* PIRQRC[A]; [D] at 0x63 */
#define PIIX3_PIRQ_DISABLE 0x80

#define PAM_RE 0x1
#define PAM_WE 0x2

typedef struct I440fxConfig {
    /* PAM registers changed (also called at creation and reset). */
    void (*pam_changed)(void *opaque, const uint8_t pam[I440FX_NPAM]);
    /* SMRAM register changed (optional). */
    void (*smram_changed)(void *opaque, uint8_t smram);
    /* PIRQ route registers changed (optional; routing is done here). */
    void (*pirq_changed)(void *opaque, const uint8_t pirq[4]);
    void *opaque;
    /* The ISA IRQ lines PCI interrupts are routed to (to the 8259s and
     * the I/O APIC's pins 0-15); lines left zero are not driven. */
    IrqLine isa_irq[16];
} I440fxConfig;

/* Adds both functions to bus (which must have 00:00.0 and 00:01.0 free)
 * and claims port 0xcf9.  Returns NULL (machine_set_error) on failure. */
I440fx *i440fx_create(Machine *m, PciBus *bus, const I440fxConfig *cfg);

PciDevice *i440fx_host(I440fx *s);
PciDevice *i440fx_piix3(I440fx *s);
/* The ISA IRQ PIRQ pirq (0-3 = A-D) is routed to, or -1 if disabled. */
int i440fx_pirq_irq(I440fx *s, int pirq);

#endif
