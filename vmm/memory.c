#include "vmm/memory.h"

#include <errno.h>
#include <string.h>

void as_init(AddressSpace *as)
{
    memset(as, 0, sizeof(*as));
}

static int as_insert(AddressSpace *as, const MemRegion *r)
{
    if (r->size == 0 || r->base + r->size - 1 < r->base)
        return -EINVAL;
    if (as->nregions == AS_MAX_REGIONS)
        return -ENOSPC;
    int i = 0;
    while (i < as->nregions && as->regions[i].base < r->base)
        i++;
    if (i > 0) {
        const MemRegion *p = &as->regions[i - 1];
        if (p->base + p->size > r->base)
            return -EEXIST;
    }
    if (i < as->nregions && r->base + r->size > as->regions[i].base)
        return -EEXIST;
    memmove(&as->regions[i + 1], &as->regions[i],
            (size_t)(as->nregions - i) * sizeof(*r));
    as->regions[i] = *r;
    as->nregions++;
    if (as->map_changed)
        as->map_changed(as->map_changed_opaque);
    return 0;
}

int as_add_ram(AddressSpace *as, const char *name, uint64_t base, uint64_t size,
               uint8_t *host, bool readonly)
{
    MemRegion r = { .name = name, .base = base, .size = size, .host = host,
                    .readonly = readonly };
    return as_insert(as, &r);
}

int as_add_mmio(AddressSpace *as, const char *name, uint64_t base, uint64_t size,
                const MemOps *ops, void *opaque)
{
    MemRegion r = { .name = name, .base = base, .size = size, .ops = ops,
                    .opaque = opaque };
    return as_insert(as, &r);
}

int as_remove(AddressSpace *as, uint64_t base)
{
    for (int i = 0; i < as->nregions; i++) {
        if (as->regions[i].base == base) {
            memmove(&as->regions[i], &as->regions[i + 1],
                    (size_t)(as->nregions - i - 1) * sizeof(MemRegion));
            as->nregions--;
            if (as->map_changed)
                as->map_changed(as->map_changed_opaque);
            return 0;
        }
    }
    return -ENOENT;
}

MemRegion *as_find(AddressSpace *as, uint64_t pa)
{
    int lo = 0, hi = as->nregions - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        MemRegion *r = &as->regions[mid];
        if (pa < r->base)
            hi = mid - 1;
        else if (pa - r->base >= r->size)
            lo = mid + 1;
        else
            return r;
    }
    return NULL;
}

static MemResult mmio_check(const MemRegion *r, uint64_t off, unsigned size)
{
    unsigned lo = r->ops->min_access ? r->ops->min_access : 1;
    unsigned hi = r->ops->max_access ? r->ops->max_access : 8;
    if (size < lo || size > hi || (off & (size - 1)) || off + size > r->size)
        return MEM_BAD_ACCESS;
    return MEM_OK;
}

/* The region of an access of size bytes at pa and its offset there, or
 * NULL (*res: why) where nothing or RAM too short answers, or a device
 * refuses its size or alignment. */
static MemRegion *locate(AddressSpace *as, uint64_t pa, unsigned size, uint64_t *off,
                         MemResult *res)
{
    MemRegion *r = as_find(as, pa);
    *res = MEM_UNMAPPED;
    if (!r)
        return NULL;
    *off = pa - r->base;
    if (r->host && *off + size > r->size)
        return NULL;
    *res = r->host ? MEM_OK : mmio_check(r, *off, size);
    return *res == MEM_OK ? r : NULL;
}

MemResult as_probe(AddressSpace *as, uint64_t pa, unsigned size, bool write, bool *device)
{
    uint64_t off;
    MemResult res;
    MemRegion *r = locate(as, pa, size, &off, &res);
    *device = r && !r->host;
    return r && r->host && write && r->readonly ? MEM_READONLY : res;
}

MemResult as_read(AddressSpace *as, uint64_t pa, unsigned size, uint64_t *val)
{
    uint64_t off;
    MemResult res;
    MemRegion *r = locate(as, pa, size, &off, &res);
    if (!r)
        return res;
    if (r->host) {
        *val = mem_load_le(r->host + off, size);
        return MEM_OK;
    }
    if (as->access_hook)
        as->access_hook(as->access_hook_opaque);
    as->mmio_accesses++;
    if (as->in_access)
        ++*as->in_access;
    *val = r->ops->read ? r->ops->read(r->opaque, off, size) : 0;
    if (as->in_access)
        --*as->in_access;
    return MEM_OK;
}

MemResult as_write(AddressSpace *as, uint64_t pa, unsigned size, uint64_t val)
{
    uint64_t off;
    MemResult res;
    MemRegion *r = locate(as, pa, size, &off, &res);
    if (!r)
        return res;
    if (r->host) {
        if (r->readonly)
            return MEM_READONLY;
        mem_store_le(r->host + off, size, val);
        if (as->code_write)
            as->code_write(as->code_write_opaque, pa, size);
        return MEM_OK;
    }
    if (as->access_hook)
        as->access_hook(as->access_hook_opaque);
    as->mmio_accesses++;
    if (as->in_access)
        ++*as->in_access;
    if (r->ops->write)
        r->ops->write(r->opaque, off, val, size);
    if (as->in_access)
        --*as->in_access;
    return MEM_OK;
}

uint8_t *as_host_ptr(AddressSpace *as, uint64_t pa, uint64_t len)
{
    MemRegion *r = as_find(as, pa);
    if (!r || !r->host || len > r->size || pa - r->base > r->size - len)
        return NULL;
    return r->host + (pa - r->base);
}

MemResult as_copy_to(AddressSpace *as, uint64_t pa, const void *buf, size_t len)
{
    const uint8_t *src = buf;
    while (len) {
        MemRegion *r = as_find(as, pa);
        if (!r || !r->host)
            return MEM_UNMAPPED;
        uint64_t off = pa - r->base;
        size_t n = r->size - off < len ? (size_t)(r->size - off) : len;
        memcpy(r->host + off, src, n);
        if (as->code_write)
            as->code_write(as->code_write_opaque, pa, n);
        pa += n; src += n; len -= n;
    }
    return MEM_OK;
}

MemResult as_copy_from(AddressSpace *as, uint64_t pa, void *buf, size_t len)
{
    uint8_t *dst = buf;
    while (len) {
        MemRegion *r = as_find(as, pa);
        if (!r || !r->host)
            return MEM_UNMAPPED;
        uint64_t off = pa - r->base;
        size_t n = r->size - off < len ? (size_t)(r->size - off) : len;
        memcpy(dst, r->host + off, n);
        pa += n; dst += n; len -= n;
    }
    return MEM_OK;
}

const char *mem_result_str(MemResult r)
{
    switch (r) {
    case MEM_OK: return "ok";
    case MEM_UNMAPPED: return "no device or memory at this address";
    case MEM_BAD_ACCESS: return "access size or alignment not accepted by the device";
    case MEM_READONLY: return "write to read-only memory";
    }
    return "?";
}
