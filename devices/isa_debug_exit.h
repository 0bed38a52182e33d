/* isa-debug-exit: a port whose write ends the emulator with status
 * (value << 1) | 1, as QEMU's device of that name (test programs use it). */
#ifndef TANDEM_ISA_DEBUG_EXIT_H
#define TANDEM_ISA_DEBUG_EXIT_H

#include <glib.h>
#include <stdint.h>

#include "vmm/memory.h"

typedef struct Machine Machine;
typedef struct IsaDebugExit IsaDebugExit;

/* QEMU's defaults when -device gives no iobase/iosize. */
#define ISA_DEBUG_EXIT_IOBASE 0x501
#define ISA_DEBUG_EXIT_IOSIZE 2

IsaDebugExit *isa_debug_exit_create(Machine *m, AddressSpace *io, uint16_t iobase,
                                    uint16_t iosize, GError **err);
/* From a -device spec: properties iobase and iosize. */
IsaDebugExit *isa_debug_exit_from_spec(Machine *m, AddressSpace *io, const char *spec,
                                       GError **err);

#endif
