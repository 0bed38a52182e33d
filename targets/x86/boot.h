/* Direct kernel loading on the pc board: what multiboot.c and linuxboot.c
 * share (boot.c). */
#ifndef TANDEM_X86_BOOT_H
#define TANDEM_X86_BOOT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "targets/x86/cpu.h"

/* Write a GDT at gdt_base with flat 4 GiB code (execute/read) at selector
 * cs and flat data (read/write) at selector ds (both GDT, RPL 0, below
 * 0x40), and start the CPU at eip in 32-bit protected mode: paging off,
 * CS = cs, DS/ES/FS/GS/SS = ds, interrupts off. */
bool x86_boot_flat32(X86CPU *cpu, uint32_t gdt_base, uint16_t cs, uint16_t ds, uint32_t eip,
                     GError **err);

#endif
