/* The PIIX3 IDE function (82371SB function 1, 8086:7010) at 00:01.1 on
 * QEMU's pc: two ATA channels in legacy ("compatibility") mode, primary at
 * ports 0x1f0-0x1f7 + 0x3f6 on ISA IRQ 14, secondary at 0x170-0x177 +
 * 0x376 on IRQ 15, and the SFF-8038i bus master at BAR4 (BMIBA, 16 ports;
 * 0x00 primary, 0x08 secondary):
 *   +0 command  bit 0 start/stop, bit 3 direction (1: to memory)
 *   +2 status   bit 0 active, bit 1 error (W1C), bit 2 interrupt (W1C),
 *               bits 5-6 drive DMA capable (storage)
 *   +4 PRD table pointer (dword aligned)
 * A PRD entry is two dwords: the physical address (bit 0 ignored), then
 * the byte count in bits 15:1 (0 means 64 KiB) and end-of-table in bit 31.
 * The IDE timing registers (IDETIM 0x40-0x43, SIDETIM 0x44) are storage.
 *
 * As in QEMU, the legacy ports decode whatever IDETIM and the command
 * register say; BMIBA follows the command register's I/O enable. */
#ifndef TANDEM_PIIX_IDE_H
#define TANDEM_PIIX_IDE_H

#include <glib.h>
#include <stdint.h>

#include "devices/ide.h"
#include "devices/pci.h"

typedef struct Machine Machine;
typedef struct PiixIde PiixIde;

#define PIIX_IDE_IDETIM      0x40    /* primary; secondary at 0x42 */
#define PIIX_IDE_IDETIM_IDE  0x8000  /* IDE decode enable */
#define PIIX_IDE_BM_SIZE     16

#define BM_CMD_START   0x01
#define BM_CMD_READ    0x08          /* the bus master writes memory */
#define BM_STAT_ACTIVE 0x01
#define BM_STAT_ERROR  0x02
#define BM_STAT_INTR   0x04

/* Adds the function at devfn with both channels; DMA goes to m->as. */
PiixIde *piix_ide_create(Machine *m, PciBus *bus, int devfn, AddressSpace *io,
                         IrqLine irq14, IrqLine irq15, GError **err);
IdeBus *piix_ide_bus(PiixIde *s, int channel);
PciDevice *piix_ide_pci(PiixIde *s);
/* What firmware does (for boards that start a kernel directly): both
 * channels' decode enabled in IDETIM, BMIBA = bmiba, I/O and bus
 * mastering enabled. */
void piix_ide_firmware_setup(PiixIde *s, uint16_t bmiba);

#endif
