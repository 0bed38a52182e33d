/* Motorola MC146818 real-time clock and CMOS RAM (the PC's RTC at ports
 * 0x70/0x71, IRQ 8). */
#ifndef TANDEM_MC146818_H
#define TANDEM_MC146818_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/device.h"
#include "vmm/memory.h"

typedef struct Machine Machine;
typedef struct Mc146818 Mc146818;

/* Ports from the base: index (bit 7 = NMI disable), then data. */
#define MC146818_PIO_SIZE 2
#define MC146818_CMOS_SIZE 128

/* CMOS indices with a meaning for the clock; everything else from 0x0e up is
 * battery-backed RAM the board fills. */
enum {
    MC146818_SEC = 0x00, MC146818_SEC_ALARM = 0x01,
    MC146818_MIN = 0x02, MC146818_MIN_ALARM = 0x03,
    MC146818_HOUR = 0x04, MC146818_HOUR_ALARM = 0x05,
    MC146818_WDAY = 0x06, MC146818_MDAY = 0x07,
    MC146818_MONTH = 0x08, MC146818_YEAR = 0x09,
    MC146818_REG_A = 0x0a, MC146818_REG_B = 0x0b,
    MC146818_REG_C = 0x0c, MC146818_REG_D = 0x0d,
    MC146818_CENTURY = 0x32,      /* the PC (and ACPI FADT) century byte */
};

/* Maps the index/data ports at port, port + 1 of io and raises irq8 for the
 * periodic, alarm and update-ended interrupts.  The wall clock is read once
 * through machine_host_clock_ns, lazily at the guest's first access to the
 * data port (so after record/replay has started), unless
 * mc146818_set_time_ns gave it first; from then on it follows virtual time.
 * Returns NULL (machine_set_error) on failure. */
Mc146818 *mc146818_create(Machine *m, AddressSpace *io, uint16_t port, IrqLine irq8);

/* Board setup of CMOS RAM (memory sizes, boot order, checksums).  Indices
 * 0x00-0x0d and MC146818_CENTURY belong to the clock and are ignored, as are
 * indices >= 128. */
void mc146818_cmos_set(Mc146818 *rtc, unsigned index, uint8_t value);
/* What the guest would read at index, without side effects (register C is
 * not cleared).  Clock indices read the clock, which reads the host clock
 * if that has not happened yet: call it only once the machine is complete. */
uint8_t mc146818_cmos_get(Mc146818 *rtc, unsigned index);

/* Sets the clock to unix_ns (ns since 1970-01-01 00:00:00, shown as UTC)
 * at the current virtual time: `-rtc base=...`, tests.  Before the guest's
 * first access it replaces the host clock read altogether. */
void mc146818_set_time_ns(Mc146818 *rtc, int64_t unix_ns);

/* Bit 7 of the last index written to port 0x70: NMIs are masked. */
bool mc146818_nmi_masked(const Mc146818 *rtc);

#endif
