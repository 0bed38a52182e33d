/* Intel 8042 keyboard controller of the PC (the "KBC"), with a PS/2
 * keyboard on its first port and a PS/2 mouse on its aux port.
 *
 * Ports: 0x60 data, 0x64 status (read) / command (write).  Interrupts: the
 * keyboard line (ISA IRQ 1) is high while the output buffer holds a byte
 * from the keyboard or the controller and command byte bit 0 is set; the
 * aux line (ISA IRQ 12) while it holds a byte from the mouse and bit 1 is
 * set.  Each byte read from 0x60 drops the line before the next byte is
 * loaded, so an edge-triggered 8259 sees one edge per byte.
 *
 * Output port bit 0 (written 0 with D1, or pulsed with FE / F0-FF) asks for
 * a machine reset (machine_request_reset).  Bit 1 is the A20 gate: the
 * board may wire the callback set with i8042_set_a20 (the CPU does not mask
 * A20 yet, so by default the gate only reads back). */
#ifndef TANDEM_I8042_H
#define TANDEM_I8042_H

#include <stdbool.h>

#include "devices/ps2.h"
#include "vmm/device.h"
#include "vmm/memory.h"

typedef struct Machine Machine;
typedef struct I8042 I8042;

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT  0x64
#define I8042_KBD_IRQ   1
#define I8042_AUX_IRQ   12

/* Maps the controller at ports 0x60 and 0x64 of io (one byte each) and
 * creates its keyboard and mouse.  Returns NULL (machine_set_error) when
 * the ports are taken. */
I8042 *i8042_create(Machine *m, AddressSpace *io, IrqLine kbd_irq, IrqLine aux_irq);

/* The A20 gate callback: called with the gate's state whenever output port
 * bit 1 changes, at every reset (the gate is on after reset) and after a
 * snapshot load. */
void i8042_set_a20(I8042 *s, void (*a20)(void *opaque, bool on), void *opaque);
bool i8042_a20(const I8042 *s);

/* The devices on the ports, for host input (ps2_kbd_key, ps2_mouse_move:
 * called only through record/replay). */
Ps2Kbd *i8042_kbd(I8042 *s);
Ps2Mouse *i8042_mouse(I8042 *s);

#endif
