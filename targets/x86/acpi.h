/* ACPI tables for the pc board (acpi.c): what Linux needs to find the
 * local APIC, the I/O APIC, the interrupt overrides and the PIIX4 power
 * management registers (so `poweroff` powers the machine off). */
#ifndef TANDEM_X86_ACPI_H
#define TANDEM_X86_ACPI_H

#include <stddef.h>
#include <stdint.h>

/* Where the pc board's fixed hardware is (the PIIX4 PM block as SeaBIOS
 * programs it on QEMU, the APICs at their power-on addresses). */
#define PC_ACPI_PM_BASE   0x600
#define PC_ACPI_SCI_IRQ   9
#define PC_LAPIC_ADDR     0xfee00000u
#define PC_IOAPIC_ADDR    0xfec00000u

/* Size the tables take (a bound: acpi_build never writes more). */
#define PC_ACPI_TABLES_MAX 1024

/* Build RSDP, RSDT, FADT (revision 1, as QEMU's pc), FACS, DSDT (with
 * \_S5) and MADT into buf, which the guest will see at guest address
 * `addr` (16-byte aligned).  Returns the bytes used; *rsdp: the RSDP's
 * guest address. */
size_t pc_acpi_build(uint8_t *buf, uint32_t addr, uint32_t *rsdp);

#endif
