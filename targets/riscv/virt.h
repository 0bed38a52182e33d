/* The RISC-V "virt" board: QEMU 7.2's memory map, device tree, reset vector
 * and image-loading rules, so Debian's OpenSBI, U-Boot and Linux boot on it
 * unchanged. */
#ifndef TANDEM_RISCV_VIRT_H
#define TANDEM_RISCV_VIRT_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/target.h"

typedef struct Machine Machine;
typedef struct VirtioMmio VirtioMmio;

/* Memory map. */
#define VIRT_MROM_BASE      UINT64_C(0x1000)
#define VIRT_MROM_SIZE      UINT64_C(0xf000)
#define VIRT_TEST_BASE      UINT64_C(0x100000)
#define VIRT_TEST_SIZE      UINT64_C(0x1000)
#define VIRT_RTC_BASE       UINT64_C(0x101000)
#define VIRT_RTC_SIZE       UINT64_C(0x1000)
#define VIRT_CLINT_BASE     UINT64_C(0x2000000)
#define VIRT_CLINT_SIZE     UINT64_C(0x10000)
#define VIRT_PLIC_BASE      UINT64_C(0xc000000)
#define VIRT_PLIC_SIZE      UINT64_C(0x600000)  /* one hart: contexts M, S */
#define VIRT_UART0_BASE     UINT64_C(0x10000000)
#define VIRT_UART0_SIZE     UINT64_C(0x100)
#define VIRT_VIRTIO_BASE    UINT64_C(0x10001000)
#define VIRT_VIRTIO_SIZE    UINT64_C(0x1000)
#define VIRT_VIRTIO_COUNT   8
#define VIRT_DRAM_BASE      UINT64_C(0x80000000)
#define VIRT_DRAM_DEFAULT   (UINT64_C(128) << 20)

/* PLIC sources. */
#define VIRT_VIRTIO_IRQ     1                 /* .. VIRT_VIRTIO_IRQ + 7 */
#define VIRT_UART0_IRQ      10
#define VIRT_RTC_IRQ        11
#define VIRT_PLIC_NDEV      96                /* "riscv,ndev", as QEMU 7.2 */

/* Device-tree phandles (the values QEMU 7.2 uses). */
#define VIRT_PHANDLE_CPU0   1
#define VIRT_PHANDLE_INTC0  2
#define VIRT_PHANDLE_PLIC   3
#define VIRT_PHANDLE_TEST   4

/* Where fw_dynamic_info sits in the MROM (right after the reset code). */
#define VIRT_FW_DYN_OFFSET  0x28
#define FW_DYNAMIC_INFO_MAGIC   0x4942534fu   /* "OSBI" */
#define FW_DYNAMIC_INFO_VERSION 2
#define FW_DYNAMIC_INFO_NEXT_MODE_S 1

#define VIRT_DEFAULT_BIOS64 \
    "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"

extern const BoardDesc riscv_virt_board;

/* Builds the board into m from m->opts: RAM, MROM, CPU, devices, firmware,
 * kernel, initrd, device tree, reset vector.  With -machine dumpdtb=F it
 * also writes the final blob to F (main then exits without running). */
bool riscv_virt_init(Machine *m, int xlen, GError **err);

/* Transport n (0..7) in the order QEMU fills them with -device
 * virtio-*-device: n = 0 is the highest address (0x10008000), the one Linux
 * probes first (so the first disk becomes vda).  NULL if out of range. */
VirtioMmio *riscv_virt_virtio(Machine *m, int n);

/* The pieces of riscv_virt_init, public for the unit tests. */

/* The generated tree for an xlen-bit hart and ram_size bytes of DRAM,
 * without bootargs or initrd.  Returns a g_malloc'ed blob, or NULL with err
 * set. */
void *riscv_virt_create_fdt(int xlen, uint64_t ram_size, GError **err);

/* Opens *fdt (generated or a user's -dtb blob) into a new buffer, sets
 * /chosen bootargs (when bootargs is non-empty) and linux,initrd-start/end
 * (when initrd_end > initrd_start), creating /chosen if missing, and packs
 * it.  *fdt is replaced (the old buffer freed). */
bool riscv_virt_fdt_chosen(void **fdt, const char *bootargs,
                           uint64_t initrd_start, uint64_t initrd_end,
                           GError **err);

/* QEMU 7.2's placement: 2 MiB-aligned, as high as possible below the end
 * of DRAM or 3 GiB, whichever is lower.  Returns 0 if it does not fit. */
uint64_t riscv_virt_fdt_addr(uint64_t ram_base, uint64_t ram_size,
                             uint64_t fdt_size);

/* Where a kernel goes after firmware ending at fw_end (2 MiB alignment on
 * RV64, 4 MiB on RV32). */
uint64_t riscv_virt_kernel_start(int xlen, uint64_t fw_end);

/* Writes the reset code and fw_dynamic_info into rom (at least
 * VIRT_FW_DYN_OFFSET + 6 * 8 bytes): a0 = mhartid, a1 = fdt_addr,
 * a2 = &fw_dynamic_info, jump to start_addr.  next_addr = kernel_entry.
 * Returns the bytes written. */
size_t riscv_virt_rom(uint8_t *rom, int xlen, uint64_t start_addr,
                      uint64_t fdt_addr, uint64_t kernel_entry);

#endif
