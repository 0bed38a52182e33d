/* The PC's pair of Intel 8259A programmable interrupt controllers: the
 * master at ports 0x20/0x21 drives the CPU's INTR, the slave at 0xa0/0xa1
 * is cascaded on the master's IR2, and the PIIX3 edge/level control
 * registers (ELCR) sit at 0x4d0 (IRQ 0-7) and 0x4d1 (IRQ 8-15). */
#ifndef TANDEM_I8259_H
#define TANDEM_I8259_H

#include <stdbool.h>

#include <glib.h>

#include "vmm/device.h"
#include "vmm/memory.h"

typedef struct Machine Machine;
typedef struct I8259 I8259;

#define I8259_MASTER_PORT 0x20
#define I8259_SLAVE_PORT  0xa0
#define I8259_ELCR_PORT   0x4d0
#define I8259_NIRQ        16
/* The master input the slave's INT is wired to. */
#define I8259_CASCADE_IRQ 2

/* Maps both chips and the ELCR in io (the port I/O space); intr_out is the
 * level of the INTR wire to the CPU (or the LAPIC's LINT0).  Returns NULL
 * (machine_set_error) on failure. */
I8259 *i8259_create(Machine *m, AddressSpace *io, IrqLine intr_out);

/* The wire of ISA IRQ irq (0..15) into the pair; devices drive its level.
 * Input 2 is ORed with the slave's INT.  An irq outside 0..15 gives a
 * line that goes nowhere. */
IrqLine i8259_input(I8259 *p, int irq);

/* The INTA cycle: returns the vector of the highest-priority request and
 * moves it from IRR to ISR (the slave answers for IRQ 8-15).  When the
 * request vanished before the acknowledge, returns the spurious vector of
 * IR7 of the chip concerned (IRQ7 or IRQ15). */
int i8259_ack(I8259 *p);

/* The level of INTR: a request the master would deliver is pending. */
bool i8259_pending(I8259 *p);
/* Both chips' requested, in-service and mask bits, on one line. */
void i8259_describe(const I8259 *p, GString *s);

#endif
