/* Page walks: 32-bit paging (4 KiB pages, 4 MiB pages with CR4.PSE and
 * PSE-36), PAE paging and 4-level paging (Intel SDM vol. 3A chapter 4).
 *
 * Accessed and dirty flags are set like QEMU TCG does it, which matches
 * what Intel hardware is seen to do: A on every non-leaf entry as the walk
 * passes it (once the entry is known present and well formed), A on the
 * leaf (and D for writes) only once the access is known to be allowed.
 * They are written back only when they change, atomically for RAM.
 * Paging-structure entries outside RAM/ROM read as all ones (PC: unmapped
 * reads float high), which gives a reserved-bit fault in PAE and 4-level
 * paging.
 *
 * Not modelled: PCID, SMEP, SMAP, protection keys, 5-level paging (none is
 * advertised in CPUID), the A20 gate, and paging-structure caches (every
 * TLB miss walks from CR3; mem.c's TLB is the only cache). */
#include "targets/x86/mem.h"

#define PTE_P  (1ull << 0)
#define PTE_W  (1ull << 1)
#define PTE_U  (1ull << 2)
#define PTE_A  (1ull << 5)
#define PTE_D  (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_G  (1ull << 8)
#define PTE_NX (1ull << 63)

#define PHYS_MASK ((1ull << X86_PHYS_BITS) - 1)
/* Bits 51:MAXPHYADDR of 64-bit entries are reserved. */
#define RSVD_ADDR (((1ull << 52) - 1) & ~PHYS_MASK)
/* PAE paging also reserves bits 62:52 (4-level paging ignores them). */
#define RSVD_PAE_HI (((1ull << 63) - 1) & ~((1ull << 52) - 1))
/* PAE PDPTEs: 63:MAXPHYADDR, 8:5 and 2:1 are reserved. */
#define RSVD_PDPTE (~PHYS_MASK | 0x1e6ull)

/* A paging-structure entry: where it lives, for the A/D write-back. */
typedef struct PtEntry {
    uint64_t pa;
    uint8_t *host;           /* RAM (NULL: MMIO, unmapped or ROM) */
    unsigned size;           /* 4 or 8 */
    bool rom;
} PtEntry;

/* debug: a debugger's walk, which never touches a device: an entry
 * outside RAM/ROM reads as 0 (not present). */
static uint64_t pt_read(X86CPU *cpu, uint64_t pa, unsigned size, PtEntry *pe, bool debug)
{
    pe->pa = pa;
    pe->size = size;
    pe->host = NULL;
    pe->rom = false;
    MemRegion *r = as_find(cpu->as, pa);
    if (r && r->host && r->size >= size && pa - r->base <= r->size - size) {
        const uint8_t *p = r->host + (pa - r->base);
        if (r->readonly)
            pe->rom = true;
        else
            pe->host = r->host + (pa - r->base);
        return mem_load_le(p, size);
    }
    uint64_t v;
    if (debug)
        return 0;
    if (as_read(cpu->as, pa, size, &v) != MEM_OK)
        return ~0ull >> (64 - 8 * size);
    return v;
}

/* Set bits in an entry whose value was e. */
static void pt_set(X86CPU *cpu, const PtEntry *pe, uint64_t e, uint64_t bits)
{
    if ((e & bits) == bits || pe->rom)
        return;
    if (pe->host) {
        if (pe->size == 4)
            __atomic_fetch_or((uint32_t *)(void *)pe->host, (uint32_t)bits,
                              __ATOMIC_SEQ_CST);
        else
            __atomic_fetch_or((uint64_t *)(void *)pe->host, bits, __ATOMIC_SEQ_CST);
        return;
    }
    as_write(cpu->as, pe->pa, pe->size, e | bits);
}

static int page_fault(X86CPU *cpu, uint64_t lin, X86Access acc, bool user,
                      uint32_t bits, int *err)
{
    if (acc == X86_ACC_WRITE)
        bits |= X86_PFERR_W;
    if (user)
        bits |= X86_PFERR_U;
    /* I/D: fetches, only with PAE/4-level paging and NXE (or SMEP, which
     * we do not advertise). */
    if (acc == X86_ACC_EXEC && (cpu->cr4 & X86_CR4_PAE) && (cpu->efer & X86_EFER_NXE))
        bits |= X86_PFERR_I;
    cpu->cr2 = lin;
    *err = (int)bits;
    return X86_EXC_PF;
}

bool x86_pae_pdptes_ok(X86CPU *cpu, uint64_t cr3)
{
    for (unsigned i = 0; i < 4; i++) {
        PtEntry pe;
        uint64_t e = pt_read(cpu, (cr3 & 0xffffffe0ull) + i * 8, 8, &pe, false);
        if ((e & PTE_P) && (e & RSVD_PDPTE))
            return false;
    }
    return true;
}

/* debug: x86_translate_debug's walk (no A/D bits, no device reads; the
 * caller restores CR2). */
static inline __attribute__((always_inline)) int
walk(X86CPU *cpu, uint64_t lin, X86Access acc, bool user, uint64_t *pa,
     uint64_t *pte_flags, int *err, bool debug)
{
    if (!(cpu->cr0 & X86_CR0_PG)) {
        *pa = (uint32_t)lin;
        *pte_flags = X86_PTEF_W | X86_PTEF_U | X86_PTEF_D | (12ull << 52);
        return 0;
    }

    bool lma = cpu->efer & X86_EFER_LMA;
    bool pae = cpu->cr4 & X86_CR4_PAE;
    if (!lma)
        lin = (uint32_t)lin;
    /* Callers check canonical form (it is #GP/#SS, not #PF). */
    uint64_t rsvd_hi = RSVD_ADDR | ((cpu->efer & X86_EFER_NXE) ? 0 : PTE_NX);
    unsigned esize, ibits;
    int level;
    uint64_t table;
    PtEntry pe;
    uint64_t e;

    if (!pae) {
        esize = 4;
        ibits = 10;
        level = 1;
        table = cpu->cr3 & 0xfffff000ull;
        rsvd_hi = 0;
    } else if (lma) {
        esize = 8;
        ibits = 9;
        level = 3;
        table = cpu->cr3 & PHYS_MASK & ~0xfffull;
    } else {
        /* The hardware loads the four PDPTEs when CR3 is written (and
         * faults there on reserved bits, see x86_pae_pdptes_ok); we read
         * them at walk time, as QEMU TCG does, so a guest that changes a
         * PDPTE without reloading CR3 sees the change at once.  A reserved
         * bit found here is reported as a reserved-bit #PF (QEMU too). */
        esize = 8;
        ibits = 9;
        level = 1;
        e = pt_read(cpu, (cpu->cr3 & 0xffffffe0ull) + ((lin >> 30) & 3) * 8, 8, &pe, debug);
        if (!(e & PTE_P))
            return page_fault(cpu, lin, acc, user, 0, err);
        if (e & RSVD_PDPTE)
            return page_fault(cpu, lin, acc, user, X86_PFERR_P | X86_PFERR_RSVD, err);
        table = e & PHYS_MASK & ~0xfffull;
        rsvd_hi |= RSVD_PAE_HI;
    }

    uint64_t rights = PTE_W | PTE_U, nx = 0;
    unsigned shift;
    for (;;) {
        shift = 12 + (unsigned)level * ibits;
        uint64_t idx = (lin >> shift) & ((1ull << ibits) - 1);
        e = pt_read(cpu, table + idx * esize, esize, &pe, debug);
        if (!(e & PTE_P))
            return page_fault(cpu, lin, acc, user, 0, err);
        uint64_t rsvd = rsvd_hi;
        bool large = false;
        if (e & PTE_PS) {
            if (!pae) {
                /* PDE: a 4 MiB page; PSE-36 with MAXPHYADDR 40: bits 20:13 are
                 * physical bits 39:32, bit 21 is reserved. */
                if (level == 1 && (cpu->cr4 & X86_CR4_PSE)) {
                    large = true;
                    rsvd = 1ull << 21;
                }
            } else if (level == 3) {
                rsvd |= PTE_PS;              /* PML4E: PS is reserved */
            } else if (level > 0) {
                large = true;                /* 2 MiB / 1 GiB page */
                rsvd |= ((1ull << shift) - 1) & ~0x1fffull;
            }
        }
        if (e & rsvd)
            return page_fault(cpu, lin, acc, user, X86_PFERR_P | X86_PFERR_RSVD, err);
        rights &= e;
        nx |= e & PTE_NX;
        if (level == 0 || large)
            break;
        if (!debug)
            pt_set(cpu, &pe, e, PTE_A);
        table = e & PHYS_MASK & ~0xfffull;
        level--;
    }

    if (user && !(rights & PTE_U))
        return page_fault(cpu, lin, acc, user, X86_PFERR_P, err);
    if (acc == X86_ACC_WRITE && !(rights & PTE_W) &&
        (user || (cpu->cr0 & X86_CR0_WP)))
        return page_fault(cpu, lin, acc, user, X86_PFERR_P, err);
    /* NX is reserved (so never set here) unless EFER.NXE. */
    if (acc == X86_ACC_EXEC && nx)
        return page_fault(cpu, lin, acc, user, X86_PFERR_P, err);

    uint64_t set = PTE_A | (acc == X86_ACC_WRITE ? PTE_D : 0);
    if (!debug)
        pt_set(cpu, &pe, e, set);
    e |= set;

    uint64_t base;
    if (!pae && shift == 22)
        base = (e & 0xffc00000ull) | (((e >> 13) & 0xff) << 32);
    else
        base = e & PHYS_MASK & ~((1ull << shift) - 1);
    *pa = base | (lin & ((1ull << shift) - 1));
    *pte_flags = (rights & (PTE_W | PTE_U)) | (e & (PTE_D | PTE_G)) | nx |
                 (shift > 12 ? X86_PTEF_PS : 0) | ((uint64_t)shift << 52);
    return 0;
}

int x86_translate(X86CPU *cpu, uint64_t lin, X86Access acc, bool user,
                  uint64_t *pa, uint64_t *pte_flags, int *err)
{
    return walk(cpu, lin, acc, user, pa, pte_flags, err, false);
}

/* A supervisor read passes every permission check that remains. */
bool x86_translate_debug(X86CPU *cpu, uint64_t lin, uint64_t *pa)
{
    uint64_t cr2 = cpu->cr2, flags;
    int err;
    int vec = walk(cpu, lin, X86_ACC_READ, false, pa, &flags, &err, true);
    cpu->cr2 = cr2;
    return vec == 0;
}

/* Would an access fault?  The full permission checks without side effects
 * (no A/D bits, no device reads, CR2 kept). */
int x86_translate_probe(X86CPU *cpu, uint64_t lin, X86Access acc, bool user, uint64_t *pa)
{
    uint64_t cr2 = cpu->cr2, flags;
    int err;
    int vec = walk(cpu, lin, acc, user, pa, &flags, &err, true);
    cpu->cr2 = cr2;
    return vec;
}
