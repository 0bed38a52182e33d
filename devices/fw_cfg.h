/* QEMU's firmware configuration device (fw_cfg), as x86 firmware and Linux
 * use it: selector at base (16-bit writes), data at base + 1 (8-bit reads),
 * DMA address register at base + 4 (64-bit big-endian, written as two
 * 32-bit halves; the write to the low half at base + 8 starts a transfer).
 *
 * Items are set up by the board before the guest runs.  What QEMU's pc
 * provides and SeaBIOS / Linux's boot path read (the lead adds them):
 *   FW_CFG_NB_CPUS (i16), FW_CFG_MAX_CPUS (i16), FW_CFG_NUMA (i64 count of
 *     NUMA nodes, then per-CPU and per-node i64s; 0 = no NUMA),
 *   FW_CFG_UUID (16 bytes), FW_CFG_NOGRAPHIC (i16), FW_CFG_BOOT_MENU (i16),
 *   FW_CFG_RAM_SIZE (i64),
 *   FW_CFG_X86_IRQ0_OVERRIDE (i32 1: the MADT routes IRQ0 to GSI2),
 *   FW_CFG_X86_E820_TABLE (legacy reservations: le32 count, then 20-byte
 *     {le64 address, le64 length, le32 type} entries; may be count 0),
 *   files "etc/e820" (the RAM map, same 20-byte entries, SeaBIOS prefers it
 *     to the CMOS sizes), "bootorder" (optional, NUL-separated device paths),
 *   "etc/boot-fail-wait" (le32 ms), "etc/reserved-memory-end" (le64,
 *     optional), "etc/table-loader" + "etc/acpi/tables" + "etc/acpi/rsdp"
 *     (ACPI via the linker/loader), "etc/smbios/smbios-tables" +
 *     "etc/smbios/smbios-anchor" (optional: SeaBIOS builds defaults),
 *   "genroms/<name>" option ROMs SeaBIOS runs (e.g. QEMU's
 *     linuxboot_dma.bin for -kernel).
 * For -kernel, the option ROM reads (all le32 except the *_DATA blobs):
 *   FW_CFG_SETUP_ADDR/SIZE/DATA (real-mode setup sectors),
 *   FW_CFG_KERNEL_ADDR/SIZE/DATA (protected-mode part),
 *   FW_CFG_INITRD_ADDR/SIZE/DATA, FW_CFG_CMDLINE_ADDR/SIZE/DATA (size with
 *   the NUL), plus FW_CFG_KERNEL_ENTRY for multiboot. */
#ifndef TANDEM_FW_CFG_H
#define TANDEM_FW_CFG_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/memory.h"

typedef struct Machine Machine;
typedef struct FwCfg FwCfg;

/* Ports of the PC (selector; data is one above, DMA at +4). */
#define FW_CFG_IO_BASE 0x510

/* Well-known keys (the fw_cfg specification and QEMU's key list). */
#define FW_CFG_SIGNATURE       0x0000   /* "QEMU"; set by fw_cfg_create */
#define FW_CFG_ID              0x0001   /* le32 features; set by fw_cfg_create */
#define FW_CFG_UUID            0x0002
#define FW_CFG_RAM_SIZE        0x0003
#define FW_CFG_NOGRAPHIC       0x0004
#define FW_CFG_NB_CPUS         0x0005
#define FW_CFG_MACHINE_ID      0x0006
#define FW_CFG_KERNEL_ADDR     0x0007
#define FW_CFG_KERNEL_SIZE     0x0008
#define FW_CFG_KERNEL_CMDLINE  0x0009
#define FW_CFG_INITRD_ADDR     0x000a
#define FW_CFG_INITRD_SIZE     0x000b
#define FW_CFG_BOOT_DEVICE     0x000c
#define FW_CFG_NUMA            0x000d
#define FW_CFG_BOOT_MENU       0x000e
#define FW_CFG_MAX_CPUS        0x000f
#define FW_CFG_KERNEL_ENTRY    0x0010
#define FW_CFG_KERNEL_DATA     0x0011
#define FW_CFG_INITRD_DATA     0x0012
#define FW_CFG_CMDLINE_ADDR    0x0013
#define FW_CFG_CMDLINE_SIZE    0x0014
#define FW_CFG_CMDLINE_DATA    0x0015
#define FW_CFG_SETUP_ADDR      0x0016
#define FW_CFG_SETUP_SIZE      0x0017
#define FW_CFG_SETUP_DATA      0x0018
#define FW_CFG_FILE_DIR        0x0019   /* maintained by fw_cfg_add_file */
#define FW_CFG_FILE_FIRST      0x0020
/* Selector bit 14 (legacy write channel; ignored) and bit 15 (arch-local). */
#define FW_CFG_WRITE_CHANNEL   0x4000
#define FW_CFG_ARCH_LOCAL      0x8000
/* x86 arch-local keys. */
#define FW_CFG_X86_ACPI_TABLES    (FW_CFG_ARCH_LOCAL + 0)
#define FW_CFG_X86_SMBIOS_ENTRIES (FW_CFG_ARCH_LOCAL + 1)
#define FW_CFG_X86_IRQ0_OVERRIDE  (FW_CFG_ARCH_LOCAL + 2)
#define FW_CFG_X86_E820_TABLE     (FW_CFG_ARCH_LOCAL + 3)
#define FW_CFG_X86_HPET           (FW_CFG_ARCH_LOCAL + 4)

/* File items and arch-local keys this device holds. */
#define FW_CFG_FILE_SLOTS 0x100
#define FW_CFG_ARCH_SLOTS 0x20
/* A file name with its NUL. */
#define FW_CFG_MAX_FILE_PATH 56

/* FWCfgDmaAccess.control bits. */
#define FW_CFG_DMA_CTL_ERROR  0x01
#define FW_CFG_DMA_CTL_READ   0x02
#define FW_CFG_DMA_CTL_SKIP   0x04
#define FW_CFG_DMA_CTL_SELECT 0x08
#define FW_CFG_DMA_CTL_WRITE  0x10

/* Maps the ports at base..base+1 and base+4..base+11 in io; DMA goes to
 * m->as.  Returns NULL (machine_set_error) if the ports are taken. */
FwCfg *fw_cfg_create(Machine *m, AddressSpace *io, uint16_t base);

/* Sets a keyed item (a copy of data), replacing any earlier value.  key is
 * below FW_CFG_FILE_FIRST, or FW_CFG_ARCH_LOCAL + n with n below
 * FW_CFG_ARCH_SLOTS (anything else is a board bug and asserts).  Items are
 * at most 4 GiB - 1. */
void fw_cfg_add_bytes(FwCfg *s, uint16_t key, const void *data, size_t len);
/* The same, taking ownership of a g_malloc'ed buffer (big kernels/initrds). */
void fw_cfg_add_bytes_take(FwCfg *s, uint16_t key, void *data, size_t len);
/* Little-endian integer items, like QEMU's legacy keys. */
void fw_cfg_add_i16(FwCfg *s, uint16_t key, uint16_t value);
void fw_cfg_add_i32(FwCfg *s, uint16_t key, uint32_t value);
void fw_cfg_add_i64(FwCfg *s, uint16_t key, uint64_t value);

/* Adds a named file item (a copy of data) and lists it in the directory.
 * As in QEMU, the directory is sorted by name (strcmp) and file i of that
 * order has key FW_CFG_FILE_FIRST + i, so adding a file renumbers those
 * after it: add all files before the guest runs.  Returns 0, -EEXIST (name
 * taken), -ENAMETOOLONG (55 characters at most), -EINVAL (empty name) or
 * -ENOSPC (FW_CFG_FILE_SLOTS files already). */
int fw_cfg_add_file(FwCfg *s, const char *name, const void *data, size_t len);
/* The key the guest selects for a file today, or -1. */
int fw_cfg_file_key(FwCfg *s, const char *name);

#endif
