/* KVM memory slots mirroring the CPU's address space: one slot per RAM or
 * ROM region, sharing the interpreter's host memory; ROM read-only (guest
 * writes become MMIO exits, which the bus drops as it does for ROM); MMIO
 * regions and holes unmapped (MMIO exits).  The map may change at any
 * exit (the pc board's PAM registers): the address space's map_changed
 * hook marks it, and the slots are brought up to date before KVM runs. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "kvm/kvm_int.h"

#define PAGE 0x1000ull

static bool set_slot(KvmVcpu *v, int id, const KvmSlot *s, GError **err)
{
    struct kvm_userspace_memory_region r = {
        .slot = (uint32_t)id,
        .flags = s->readonly ? KVM_MEM_READONLY : 0,
        .guest_phys_addr = s->gpa,
        .memory_size = s->used ? s->size : 0,
        .userspace_addr = s->uaddr,
    };
    if (ioctl(v->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
        tn_error(err, "KVM: cannot %s memory slot at 0x%" G_GINT64_MODIFIER "x "
                 "(0x%" G_GINT64_MODIFIER "x bytes): %s", s->used ? "map" : "unmap",
                 s->gpa, s->size, strerror(errno));
        return false;
    }
    return true;
}

/* The page-aligned copy of ROM [src, src + size). */
static uint8_t *rom_copy(KvmVcpu *v, const uint8_t *src, uint64_t size, GError **err)
{
    for (int i = 0; i < v->nroms; i++)
        if (v->roms[i].src == src && v->roms[i].size == size)
            return v->roms[i].copy;
    if (v->nroms == AS_MAX_REGIONS) {
        tn_error(err, "KVM: too many unaligned ROM regions");
        return NULL;
    }
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        tn_error(err, "KVM: cannot allocate a ROM copy: %s", strerror(errno));
        return NULL;
    }
    memcpy(p, src, size);
    v->roms[v->nroms++] = (KvmRomCopy){ src, size, p };
    return p;
}

void kvm_roms_refresh(KvmVcpu *v)
{
    for (int i = 0; i < v->nroms; i++)
        if (memcmp(v->roms[i].copy, v->roms[i].src, v->roms[i].size))
            memcpy(v->roms[i].copy, v->roms[i].src, v->roms[i].size);
}

/* The slot region r wants, or false with *err set. */
static bool wanted(KvmVcpu *v, const MemRegion *r, KvmSlot *s, GError **err)
{
    uintptr_t host = (uintptr_t)r->host;
    if ((r->base | r->size) & (PAGE - 1)) {
        tn_error(err, "KVM: %s at 0x%" G_GINT64_MODIFIER "x (0x%" G_GINT64_MODIFIER
                 "x bytes) is not page-aligned in guest memory", r->name, r->base, r->size);
        return false;
    }
    if (host & (PAGE - 1)) {
        if (!r->readonly) {
            tn_error(err, "KVM: the host memory of RAM %s at 0x%" G_GINT64_MODIFIER "x is "
                     "not page-aligned", r->name, r->base);
            return false;
        }
        uint8_t *c = rom_copy(v, r->host, r->size, err);
        if (!c)
            return false;
        host = (uintptr_t)c;
    }
    *s = (KvmSlot){ .used = true, .readonly = r->readonly, .gpa = r->base,
                    .size = r->size, .uaddr = host };
    return true;
}

static bool slot_eq(const KvmSlot *a, const KvmSlot *b)
{
    return a->gpa == b->gpa && a->size == b->size && a->uaddr == b->uaddr &&
           a->readonly == b->readonly;
}

bool kvm_slots_sync(KvmVcpu *v, GError **err)
{
    AddressSpace *as = v->as;
    KvmSlot want[AS_MAX_REGIONS];
    bool keep[AS_MAX_REGIONS] = { false };
    int nwant = 0;

    for (int i = 0; i < as->nregions; i++) {
        if (!as->regions[i].host)
            continue;
        if (!wanted(v, &as->regions[i], &want[nwant], err))
            return false;
        nwant++;
    }
    /* Drop the slots that changed first: the new ones may overlap them. */
    for (int id = 0; id < AS_MAX_REGIONS; id++) {
        KvmSlot *s = &v->slots[id];
        if (!s->used)
            continue;
        bool found = false;
        for (int w = 0; w < nwant && !found; w++) {
            if (!keep[w] && slot_eq(&want[w], s)) {
                keep[w] = true;
                found = true;
            }
        }
        if (!found) {
            s->used = false;
            if (!set_slot(v, id, s, err))
                return false;
        }
    }
    for (int w = 0; w < nwant; w++) {
        if (keep[w])
            continue;
        int id = 0;
        while (v->slots[id].used)
            id++;                   /* there are as many ids as regions */
        v->slots[id] = want[w];
        if (!set_slot(v, id, &v->slots[id], err)) {
            v->slots[id].used = false;
            return false;
        }
    }
    v->map_dirty = false;
    return true;
}

void kvm_slots_free(KvmVcpu *v)
{
    for (int i = 0; i < v->nroms; i++)
        munmap(v->roms[i].copy, v->roms[i].size);
    v->nroms = 0;
}
