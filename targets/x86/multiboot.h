/* Multiboot (version 1) kernels on the pc board (multiboot.c). */
#ifndef TANDEM_X86_MULTIBOOT_H
#define TANDEM_X86_MULTIBOOT_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "targets/x86/cpu.h"

typedef struct Multiboot Multiboot;

/* Does img carry a valid multiboot header in its first 8 KiB? */
bool multiboot_is_multiboot(const uint8_t *img, size_t len);
/* Load kernel img (read from path `kernel`), its command line and the
 * comma-separated module files of `initrd`, and set the CPU to the
 * multiboot entry state.  ram_low: RAM below 4 GiB. */
Multiboot *multiboot_load(X86CPU *cpu, const char *kernel, const uint8_t *img, size_t len,
                          const char *cmdline, const char *initrd, uint64_t ram_low,
                          GError **err);
/* After a CPU reset: load the images again and restart the kernel. */
bool multiboot_reset(Multiboot *mb, X86CPU *cpu, GError **err);
void multiboot_free(Multiboot *mb);

#endif
