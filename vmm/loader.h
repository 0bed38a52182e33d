/* Guest image loaders: whole files, ELF executables, raw images, the Linux
 * RISC-V Image header, and a map of what was loaded where (overlap checks,
 * and the copies a board writes back on reset, as a machine reset reloads
 * its boot images).  Target-independent; every failure is a GError
 * (TANDEM_ERROR) that says what is wrong, and hostile input never makes
 * these read or write out of bounds. */
#ifndef TANDEM_LOADER_H
#define TANDEM_LOADER_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/memory.h"

/* Read all of `path` into a new buffer (g_free it).  `what` ("kernel",
 * "firmware", ...) prefixes the message; an empty file is an error. */
bool load_file(const char *what, const char *path, uint8_t **data,
               size_t *len, GError **err);

/* True if img starts with the ELF magic (then load_elf decides the rest). */
bool elf_is_elf(const uint8_t *img, size_t len);

/* Load every PT_LOAD segment of a little-endian ELF at its p_paddr, the bytes
 * past p_filesz zero-filled, into RAM/ROM of `as`.  expect_class is 32 or 64,
 * expect_machine an EM_* value.  Nothing is written unless every segment is
 * valid, inside the file, inside one RAM/ROM region, and disjoint from the
 * other segments.  On success: *entry = e_entry, [*lowest, *highest) spans
 * the loaded segments (*highest is exclusive).  Any out pointer may be NULL. */
bool load_elf(AddressSpace *as, const uint8_t *img, size_t len,
              int expect_class, uint16_t expect_machine, uint64_t *entry,
              uint64_t *lowest, uint64_t *highest, GError **err);

/* Copy img to [addr, addr + len), which must lie inside one RAM/ROM region. */
bool load_raw(AddressSpace *as, uint64_t addr, const uint8_t *img, size_t len,
              GError **err);

/* The 64-byte header at the start of a Linux RISC-V "Image"
 * (Documentation/riscv/boot-image-header.rst). */
typedef struct LinuxRiscvImage {
    uint64_t text_offset;    /* load offset from a 2 MiB (RV64) base */
    uint64_t image_size;     /* bytes the kernel occupies once running, 0 =
                              * unknown (older kernels) */
    uint64_t flags;          /* bit 0: big-endian */
    uint32_t version;        /* major << 16 | minor */
} LinuxRiscvImage;

#define LINUX_RISCV_IMAGE_MAGIC2 0x05435352u   /* "RSC\x05" at 0x38 */

/* True if img carries the Image magic at offset 0x38; fills *h. */
bool linux_riscv_image_parse(const uint8_t *img, size_t len,
                             LinuxRiscvImage *h);

/* What went where: named ranges [start, end) of guest physical memory. */
typedef struct LoadRange {
    char *what;              /* "firmware", "kernel", "initrd", "device tree" */
    char *file;              /* the host file, or NULL for generated images */
    uint64_t start, end;
    uint8_t *saved;          /* contents for loadmap_restore, or NULL */
} LoadRange;

typedef struct LoadMap {
    LoadRange *r;
    int n, cap;
} LoadMap;

void loadmap_init(LoadMap *lm);
void loadmap_free(LoadMap *lm);
/* Record [start, end); fails, naming both images, if it overlaps a range
 * already recorded.  An empty range is accepted and not recorded. */
bool loadmap_add(LoadMap *lm, const char *what, const char *file,
                 uint64_t start, uint64_t end, GError **err);
/* Keep a copy of every recorded range's current guest contents. */
bool loadmap_snapshot(LoadMap *lm, AddressSpace *as, GError **err);
/* Write the kept copies back (machine reset). */
void loadmap_restore(const LoadMap *lm, AddressSpace *as);

#endif
