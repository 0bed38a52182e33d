/* SiFive CLINT (the ACLINT MSWI + MTIMER pair at one base, as on QEMU's
 * RISC-V virt board): per-hart msip and mtimecmp, one shared mtime. */
#ifndef TANDEM_RISCV_ACLINT_H
#define TANDEM_RISCV_ACLINT_H

#include <stdint.h>

#include "vmm/device.h"

typedef struct Machine Machine;
typedef struct RiscvAclint RiscvAclint;

#define RISCV_ACLINT_MMIO_SIZE   0x10000
#define RISCV_ACLINT_MSIP        0x0000     /* 4 bytes per hart */
#define RISCV_ACLINT_MTIMECMP    0x4000     /* 8 bytes per hart */
#define RISCV_ACLINT_MTIME       0xbff8
#define RISCV_ACLINT_MAX_HARTS   4095       /* what the 0x4000..0xbff8 window holds */
/* mtime ticks at 10 MHz: one tick every 100 ns of virtual time. */
#define RISCV_ACLINT_TIMEBASE_HZ 10000000
#define RISCV_ACLINT_NS_PER_TICK 100

/* Maps the CLINT at base for nharts harts.  msip[i] and mtip[i] are hart i's
 * MSIP and MTIP lines (the arrays are copied).  Returns NULL
 * (machine_set_error) on failure. */
RiscvAclint *riscv_aclint_create(Machine *m, uint64_t base, int nharts,
                                 const IrqLine *msip, const IrqLine *mtip);

/* Current mtime; its signature fits the CPU's rdtime callback. */
uint64_t riscv_aclint_mtime(void *clint);

#endif
