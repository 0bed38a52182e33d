/* Guest physical address space: RAM/ROM regions backed by host memory and
 * MMIO regions dispatched to device ops. */
#ifndef TANDEM_MEMORY_H
#define TANDEM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct MemOps {
    const char *name;
    /* off is relative to the region base; size is 1, 2, 4 or 8. */
    uint64_t (*read)(void *opaque, uint64_t off, unsigned size);
    void (*write)(void *opaque, uint64_t off, uint64_t val, unsigned size);
    /* Accepted access sizes; anything else is an access fault. 0 means 1 / 8. */
    unsigned min_access, max_access;
} MemOps;

typedef struct MemRegion {
    const char *name;
    uint64_t base, size;
    uint8_t *host;          /* RAM or ROM backing; NULL for MMIO */
    bool readonly;          /* ROM: guest writes fault */
    const MemOps *ops;      /* MMIO only */
    void *opaque;
} MemRegion;

typedef enum MemResult {
    MEM_OK = 0,
    MEM_UNMAPPED,           /* nothing at that address */
    MEM_BAD_ACCESS,         /* size or alignment the device does not accept */
    MEM_READONLY,           /* write to ROM */
} MemResult;

#define AS_MAX_REGIONS 64

typedef struct AddressSpace {
    MemRegion regions[AS_MAX_REGIONS];   /* sorted by base, non-overlapping */
    int nregions;
    /* Called for every write to RAM that does not go through a CPU's fast
     * path (device DMA, loaders, slow-path CPU stores) so the interpreter can
     * drop translated code. */
    void (*code_write)(void *opaque, uint64_t pa, uint64_t len);
    void *code_write_opaque;
    /* Called after every change of the map (as_add_ram, as_add_mmio,
     * as_remove) so an accelerator mirroring it (kvm/) can follow. */
    void (*map_changed)(void *opaque);
    void *map_changed_opaque;
    /* Device accesses since reset: part of the record/replay position. */
    uint64_t mmio_accesses;
    /* Called before each device access is counted and made (NULL: none;
     * record/replay's, rr/). */
    void (*access_hook)(void *opaque);
    void *access_hook_opaque;
    /* Raised around each device callback (NULL: none): the machine points
     * it at its clock's in_access, so that a device reading the virtual
     * clock during a guest access is seen (vmm/clock.h). */
    int *in_access;
} AddressSpace;

void as_init(AddressSpace *as);
/* Return 0, or -EEXIST on overlap / -ENOSPC when full. */
int as_add_ram(AddressSpace *as, const char *name, uint64_t base, uint64_t size,
               uint8_t *host, bool readonly);
int as_add_mmio(AddressSpace *as, const char *name, uint64_t base, uint64_t size,
                const MemOps *ops, void *opaque);
/* Unmap the region that starts at base (boards remapping windows such as
 * the PC's PAM segments).  Return 0, or -ENOENT.  Whoever caches
 * translations of it (a CPU's TLB and code cache) must drop them. */
int as_remove(AddressSpace *as, uint64_t base);
MemRegion *as_find(AddressSpace *as, uint64_t pa);

/* CPU-side accesses of 1/2/4/8 bytes (little-endian guests). */
MemResult as_read(AddressSpace *as, uint64_t pa, unsigned size, uint64_t *val);
MemResult as_write(AddressSpace *as, uint64_t pa, unsigned size, uint64_t val);
/* What as_read (as_write, if write) would return for this access, without
 * making it; *device set when it would reach a device (and count as a
 * device access). */
MemResult as_probe(AddressSpace *as, uint64_t pa, unsigned size, bool write, bool *device);

/* Bulk copies into / out of RAM (loaders, DMA). Fail with MEM_UNMAPPED if
 * any byte is outside RAM/ROM. Writes go to ROM too (loaders). */
MemResult as_copy_to(AddressSpace *as, uint64_t pa, const void *buf, size_t len);
MemResult as_copy_from(AddressSpace *as, uint64_t pa, void *buf, size_t len);

/* Host pointer for [pa, pa+len) if it lies in one RAM/ROM region, else NULL. */
uint8_t *as_host_ptr(AddressSpace *as, uint64_t pa, uint64_t len);

const char *mem_result_str(MemResult r);

/* Little-endian 1/2/4/8-byte accesses to host memory holding guest bytes
 * (RAM/ROM backing; CPU fast paths).  The host is little-endian. */
static inline uint64_t mem_load_le(const uint8_t *p, unsigned size)
{
    switch (size) {
    case 1: return p[0];
    case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
    case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
    default: { uint64_t v; memcpy(&v, p, 8); return v; }
    }
}

static inline void mem_store_le(uint8_t *p, unsigned size, uint64_t v)
{
    switch (size) {
    case 1: p[0] = (uint8_t)v; break;
    case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
    case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
    default: memcpy(p, &v, 8); break;
    }
}

#endif
