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
/* Advance virtual time (*icount, one ns per instruction) to ns, firing
 * timers on the way as a main loop would (one slice per deadline). */
void dev_machine_run_to(Machine *m, uint64_t *icount, int64_t ns);
/* Port I/O as a guest does it; the access must reach a device. */
uint64_t dev_in(Machine *m, uint16_t port, unsigned size);
void dev_out(Machine *m, uint16_t port, unsigned size, uint64_t v);
/* PCI configuration accesses through ports 0xcf8/0xcfc (mechanism #1);
 * dev_pci_cfg_addr is the CONFIG_ADDRESS value for a register. */
uint32_t dev_pci_cfg_addr(int devfn, unsigned reg);
uint32_t dev_pci_cfg_read(Machine *m, int devfn, unsigned reg, unsigned size);
void dev_pci_cfg_write(Machine *m, int devfn, unsigned reg, unsigned size, uint32_t v);

#endif
