/* Linux bzImage kernels on the pc board (linuxboot.c). */
#ifndef TANDEM_X86_LINUXBOOT_H
#define TANDEM_X86_LINUXBOOT_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "targets/x86/cpu.h"

typedef struct LinuxBoot LinuxBoot;

/* Does img carry the boot protocol's setup header ("HdrS")? */
bool linuxboot_is_linux(const uint8_t *img, size_t len);
/* Load bzImage img with its command line and initrd (path or NULL), and set
 * the CPU to the 32-bit boot protocol's entry state.  ram_low: RAM below
 * 4 GiB; ram_high: RAM above 4 GiB (both for the e820 map). */
LinuxBoot *linuxboot_load(X86CPU *cpu, const uint8_t *img, size_t len, const char *cmdline,
                          const char *initrd, uint64_t ram_low, uint64_t ram_high,
                          GError **err);
/* After a CPU reset: load the images again and restart the kernel. */
bool linuxboot_reset(LinuxBoot *lb, X86CPU *cpu, GError **err);
void linuxboot_free(LinuxBoot *lb);

#endif
