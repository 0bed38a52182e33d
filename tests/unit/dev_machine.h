/* A bare Machine for device unit tests: both address spaces and a virtual
 * clock driven by *icount (shift 0: one ns per instruction), no CPU. */
#ifndef TANDEM_TEST_DEV_MACHINE_H
#define TANDEM_TEST_DEV_MACHINE_H

#include <stdint.h>

#include "vmm/machine.h"

/* Sets *icount to 0; the test advances time by writing it. */
Machine *dev_machine_new(uint64_t *icount);
/* Destroys the devices (reverse order) and the machine's allocations. */
void dev_machine_free(Machine *m);

#endif
