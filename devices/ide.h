/* An ATA channel (IDE bus) with up to two ATA hard disks on BlockDevs.
 *
 * Command block (8 ports at cmd_base): 0 data (16-bit PIO; a 32-bit access
 * moves two words), 1 error / features, 2 sector count, 3 LBA low (sector
 * number), 4 LBA mid (cylinder low), 5 LBA high (cylinder high), 6
 * device/head (bit 4 DEV, bit 6 LBA), 7 status / command.  Control block
 * (1 port at ctl_port): alternate status / device control (bit 1 nIEN,
 * bit 2 SRST, bit 7 HOB).  An LBA48 command takes the previous ("HOB")
 * and current values of the sector count and LBA registers.
 *
 * Commands (ATA/ATAPI-6): IDENTIFY DEVICE, READ/WRITE SECTORS (EXT),
 * READ/WRITE MULTIPLE (EXT), SET MULTIPLE MODE, READ/WRITE DMA (EXT),
 * READ VERIFY SECTORS (EXT), FLUSH CACHE (EXT), SET FEATURES, IDLE,
 * STANDBY, CHECK POWER MODE, SLEEP, INITIALIZE DEVICE PARAMETERS,
 * RECALIBRATE, SEEK, EXECUTE DEVICE DIAGNOSTIC, NOP (which aborts, as the
 * standard says).  Anything else aborts (ERR, ABRT).
 *
 * Timing: every block transfer or no-data command that touches the image
 * is a request that completes IDE_REQUEST_NS of virtual time after it
 * starts, on a Timer, so it lands at the same instruction under -icount.
 * All of a request's data movement (image and guest memory) and its
 * status/interrupt change happen in one place, ide_complete(), which is
 * where blkreplay will log (record) or wait for (replay) completions. */
#ifndef TANDEM_IDE_H
#define TANDEM_IDE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block/block.h"
#include "vmm/device.h"
#include "vmm/memory.h"

typedef struct Machine Machine;
typedef struct IdeBus IdeBus;

/* Virtual time from the start of a request to its completion. */
#define IDE_REQUEST_NS 20000

/* Status register. */
#define IDE_STAT_ERR  0x01
#define IDE_STAT_DRQ  0x08
#define IDE_STAT_DSC  0x10
#define IDE_STAT_DF   0x20
#define IDE_STAT_DRDY 0x40
#define IDE_STAT_BSY  0x80
/* Error register. */
#define IDE_ERR_ABRT  0x04
#define IDE_ERR_IDNF  0x10
#define IDE_ERR_UNC   0x40
/* Device control register. */
#define IDE_CTL_NIEN  0x02
#define IDE_CTL_SRST  0x04
#define IDE_CTL_HOB   0x80

/* The most sectors per DRQ block for READ/WRITE MULTIPLE. */
#define IDE_MAX_MULT  16

/* The bus master a channel does DMA through (devices/piix_ide.c). */
typedef struct IdeDmaOps {
    /* Copies len bytes between buf and guest memory along the PRD table,
     * from where the previous call of this transfer stopped.  Returns the
     * bytes moved: fewer when the table ended first. */
    size_t (*rw)(void *opaque, uint8_t *buf, size_t len, bool to_memory);
    /* The DMA request is over; short: the PRD table ended before it. */
    void (*end)(void *opaque, bool short_table);
    /* The channel raised its interrupt (the bus master's status bit). */
    void (*irq)(void *opaque);
} IdeDmaOps;

/* Maps the channel's ports in io (cmd_base..+7 and ctl_port) and
 * registers it.  Returns NULL with err if a port is taken. */
IdeBus *ide_bus_create(Machine *m, AddressSpace *io, const char *name, uint16_t cmd_base,
                       uint16_t ctl_port, IrqLine irq, GError **err);
/* Puts an ATA disk on unit 0 (master) or 1 (slave); blk stays the
 * caller's.  serial: the IDENTIFY serial number (at most 20 characters). */
bool ide_attach_disk(IdeBus *b, int unit, BlockDev *blk, const char *serial, GError **err);
bool ide_unit_used(const IdeBus *b, int unit);
void ide_set_dma(IdeBus *b, const IdeDmaOps *ops, void *opaque);

/* The bus master's start bit went to 1 (start) or 0 (stop). */
void ide_dma_start(IdeBus *b);
void ide_dma_stop(IdeBus *b);

#endif
