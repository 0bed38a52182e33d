/* SiFive PLIC (platform-level interrupt controller) as QEMU's RISC-V virt
 * board configures it: 3 priority bits, level-triggered sources, one
 * context per hart and privilege mode (M then S). */
#ifndef TANDEM_RISCV_PLIC_H
#define TANDEM_RISCV_PLIC_H

#include <stdint.h>

#include "vmm/device.h"

typedef struct Machine Machine;
typedef struct RiscvPlic RiscvPlic;

#define RISCV_PLIC_PRIORITY      0x000000   /* 4 bytes per source */
#define RISCV_PLIC_PENDING       0x001000   /* 1 bit per source */
#define RISCV_PLIC_ENABLE        0x002000   /* 0x80 per context */
#define RISCV_PLIC_ENABLE_STRIDE 0x80
#define RISCV_PLIC_CONTEXT       0x200000   /* threshold, claim: 0x1000 per context */
#define RISCV_PLIC_CONTEXT_STRIDE 0x1000
#define RISCV_PLIC_MAX_SOURCES   1024
#define RISCV_PLIC_MAX_CONTEXTS  15872
#define RISCV_PLIC_PRIO_MASK     7          /* priorities 1..7; 0 = never */

/* QEMU virt: 96 sources (ids 1..95; 0 means "none"), a 0x600000 window. */
#define RISCV_PLIC_VIRT_SOURCES  96
#define RISCV_PLIC_VIRT_SIZE     0x600000

/* Maps a PLIC of size bytes at base with nsources source ids (0 reserved)
 * and ncontexts contexts; ctx_irq[i] is context i's output (M-mode context
 * -> MEIP, S-mode -> SEIP; the array is copied).  Returns NULL
 * (machine_set_error) on failure. */
RiscvPlic *riscv_plic_create(Machine *m, uint64_t base, uint64_t size,
                             int nsources, int ncontexts, const IrqLine *ctx_irq);

/* The level-triggered input wire of source src (1..nsources-1).  Lines of
 * ids out of range are accepted and do nothing. */
IrqLine riscv_plic_input(RiscvPlic *p, int src);

#endif
