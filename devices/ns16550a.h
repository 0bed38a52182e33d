/* NS16550A UART (the serial port of the RISC-V virt board and of the PC's
 * COM ports). */
#ifndef TANDEM_NS16550A_H
#define TANDEM_NS16550A_H

#include <stdint.h>

#include "vmm/chardev.h"
#include "vmm/device.h"
#include "vmm/memory.h"

typedef struct Machine Machine;
typedef struct Ns16550a Ns16550a;

/* Size of the MMIO window; registers are 1 byte apart (reg-shift 0). */
#define NS16550A_MMIO_SIZE 0x100
/* Input clock of the divisor latch (1.8432 MHz * 2, as QEMU's virt). */
#define NS16550A_CLOCK_HZ 3686400

/* Maps the UART at base and wires it to irq.  chr may be NULL: output is
 * discarded and no input arrives.  Returns NULL (machine_set_error) on
 * failure. */
Ns16550a *ns16550a_create(Machine *m, uint64_t base, Chardev *chr, IrqLine irq);

/* The same in another address space (the PC's port I/O space, 8 ports). */
Ns16550a *ns16550a_create_in(Machine *m, AddressSpace *as, uint64_t base,
                             uint64_t size, Chardev *chr, IrqLine irq);
/* Size of the register window in port I/O space. */
#define NS16550A_PIO_SIZE 8

/* The frontend this UART registers with its chardev (chardev layer, tests). */
const CharFrontend *ns16550a_frontend(Ns16550a *s);

#endif
