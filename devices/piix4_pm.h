/* PIIX4 function 3, power management (82371AB PMC): the ACPI fixed
 * hardware of QEMU's pc at 00:01.3.
 *
 * Configuration space: PMBA (0x40, bits 15:6 the I/O base of the 64-byte
 * PM register block, bit 0 reads 1) and PMREGMISC (0x80, bit 0 enables
 * that block); SMBBA (0x90) and SMBHSTCFG (0xd2) are storage (no SMBus).
 *
 * PM block, offsets from PMBA:
 *   0x00 PM1_STS  write-1-to-clear: TMR_STS 0, BM 4, GBL 5, PWRBTN 8,
 *                 RTC 10, PWRBTNOR 11, WAK 15
 *   0x02 PM1_EN   TMR_EN 0, GBL_EN 5, PWRBTN_EN 8, RTC_EN 10
 *   0x04 PM1_CNT  SCI_EN 0 (reads 1), BM_RLD 1, GBL_RLS 2 (write-only),
 *                 SLP_TYP 12:10, SLP_EN 13 (write-only)
 *   0x08 PM_TMR   24-bit counter at 3.579545 MHz of virtual time
 *   0x0c-0x3f     GPSTS, GPEN, PCNTRL, P_LVL2/3, GLBSTS, DEVSTS, GLBEN,
 *                 GLBCTL, DEVCTL, GPIREG, GPOREG
 * The SCI is a level: SCI_EN && (PM1_STS & PM1_EN & (TMR|GBL|PWRBTN|RTC)). */
#ifndef TANDEM_PIIX4_PM_H
#define TANDEM_PIIX4_PM_H

#include <stdint.h>

#include "devices/pci.h"
#include "vmm/device.h"
#include "vmm/memory.h"

typedef struct Machine Machine;
typedef struct Piix4Pm Piix4Pm;

/* Configuration registers. */
#define PIIX4_PM_PMBA       0x40
#define PIIX4_PM_PMREGMISC  0x80
#define PIIX4_PM_SMBBA      0x90
#define PIIX4_PM_SMBHSTCFG  0xd2
#define PIIX4_PM_PMIOSE     0x01    /* PMREGMISC: PM I/O space enable */

/* The PM register block. */
#define PIIX4_PM_IO_SIZE    64
#define PIIX4_PM1_STS       0x00
#define PIIX4_PM1_EN        0x02
#define PIIX4_PM1_CNT       0x04
#define PIIX4_PM_TMR        0x08
#define PIIX4_GLBCTL        0x28

#define PIIX4_PM1_TMR       0x0001  /* TMR_STS / TMR_EN */
#define PIIX4_PM1_BM        0x0010
#define PIIX4_PM1_GBL       0x0020  /* GBL_STS / GBL_EN */
#define PIIX4_PM1_PWRBTN    0x0100  /* PWRBTN_STS / PWRBTN_EN */
#define PIIX4_PM1_RTC       0x0400
#define PIIX4_PM1_PWRBTNOR  0x0800
#define PIIX4_PM1_WAK       0x8000

#define PIIX4_CNT_SCI_EN    0x0001
#define PIIX4_CNT_SLP_TYP_SHIFT 10
#define PIIX4_CNT_SLP_TYP   0x1c00
#define PIIX4_CNT_SLP_EN    0x2000

#define PIIX4_GLBCTL_BIOS_RLS 0x00000002

/* The ACPI PM timer's rate (Hz of virtual time). */
#define PIIX4_PM_TIMER_HZ   3579545

/* Adds the function at devfn on bus (PCI_DEVFN(1, 3) on pc) whose PM
 * block goes into io (port I/O, unmapped until enabled) and whose SCI
 * drives sci (ISA IRQ 9 on pc).  Returns NULL (machine_set_error) if
 * devfn is taken. */
Piix4Pm *piix4_pm_create(Machine *m, PciBus *bus, int devfn, AddressSpace *io,
                         IrqLine sci);

/* What firmware does: PMBA = base (bits 15:6 kept) and PMREGMISC bit 0
 * set, which maps the block.  For boards that start a kernel directly. */
void piix4_pm_set_base(Piix4Pm *s, uint16_t base);

/* Where the block is mapped now, or -1 (disabled, or its ports were
 * taken by another device). */
int piix4_pm_io_base(const Piix4Pm *s);

/* The power button was pressed (monitor system_powerdown): PWRBTN_STS. */
void piix4_pm_power_button(Piix4Pm *s);

PciDevice *piix4_pm_pci(Piix4Pm *s);

#endif
