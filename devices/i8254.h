/* Intel 8254 programmable interval timer (ports 0x40-0x43) and the PC's
 * port 0x61 (NMI status and control: counter 2 gate, speaker enable,
 * refresh toggle, counter 2 output). */
#ifndef TANDEM_I8254_H
#define TANDEM_I8254_H

#include <stdbool.h>

#include "vmm/device.h"
#include "vmm/memory.h"

typedef struct Machine Machine;
typedef struct I8254 I8254;

#define I8254_PORT       0x40
#define I8254_PORT61     0x61
/* The PIT's input clock: 1.193182 MHz of virtual time. */
#define I8254_CLOCK_HZ   1193182
/* Port 0x61 bit 4 toggles every 18 input clocks (15.085 us), the DRAM
 * refresh period a PC BIOS programs in counter 1. */
#define I8254_REFRESH_TICKS 18

/* Maps the PIT at 0x40-0x43 and port 0x61 in io.  irq0 follows counter 0's
 * OUT (the PIC, edge-triggered, sees its rising edges).  Returns NULL
 * (machine_set_error) on failure. */
I8254 *i8254_create(Machine *m, AddressSpace *io, IrqLine irq0);

/* Counter n's OUT at the current virtual time (tests, HPET legacy mode). */
bool i8254_out(I8254 *pit, int n);

#endif
