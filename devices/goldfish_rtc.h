/* Goldfish RTC (Android emulator RTC; QEMU's RISC-V virt board has one):
 * a nanosecond wall clock with one alarm. */
#ifndef TANDEM_GOLDFISH_RTC_H
#define TANDEM_GOLDFISH_RTC_H

#include <stdint.h>

#include "vmm/device.h"

typedef struct Machine Machine;
typedef struct GoldfishRtc GoldfishRtc;

#define GOLDFISH_RTC_MMIO_SIZE 0x1000

enum {
    GOLDFISH_RTC_TIME_LOW        = 0x00,   /* reading latches TIME_HIGH */
    GOLDFISH_RTC_TIME_HIGH       = 0x04,
    GOLDFISH_RTC_ALARM_LOW       = 0x08,   /* writing arms the alarm */
    GOLDFISH_RTC_ALARM_HIGH      = 0x0c,
    GOLDFISH_RTC_IRQ_ENABLED     = 0x10,
    GOLDFISH_RTC_CLEAR_ALARM     = 0x14,
    GOLDFISH_RTC_ALARM_STATUS    = 0x18,
    GOLDFISH_RTC_CLEAR_INTERRUPT = 0x1c,
};

/* The clock starts at the host's wall-clock time (read through
 * machine_host_clock_ns, the record/replay choke point).  Returns NULL
 * (machine_set_error) on failure. */
GoldfishRtc *goldfish_rtc_create(Machine *m, uint64_t base, IrqLine irq);

#endif
