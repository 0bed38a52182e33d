/* Address translation: Sv32 (RV32), Sv39 and Sv48 (RV64), then PMP
 * (privileged spec 1.12, section 4.3 and 4.4).
 *
 * M-mode and satp.MODE = Bare map identically; every access is then
 * PMP-checked at its effective privilege.  A and D are updated by the
 * "hardware" (as QEMU 7.2 does): A on any access, D on a store, written
 * back to guest RAM only after the access is known to succeed, so D is
 * exact.  Page-table accesses use S-mode PMP permissions; one that fails
 * PMP or does not hit RAM/ROM raises the access fault of the original
 * access type.  Svnapot and Svpbmt are not implemented, so PTE bits 63:54
 * must be zero. */
#include "targets/riscv/cpu.h"

#define PTE_V (1ull << 0)
#define PTE_R (1ull << 1)
#define PTE_W (1ull << 2)
#define PTE_X (1ull << 3)
#define PTE_U (1ull << 4)
#define PTE_A (1ull << 6)
#define PTE_D (1ull << 7)

enum { SATP_BARE = 0, SATP_SV39 = 8, SATP_SV48 = 9 };

typedef struct PagingMode {
    unsigned levels;
    unsigned pte_size;
    unsigned vpn_bits;
    unsigned va_bits;        /* 0: no canonical check (Sv32) */
} PagingMode;

static const PagingMode sv32 = { 2, 4, 10, 0 };
static const PagingMode sv39 = { 3, 8, 9, 39 };
static const PagingMode sv48 = { 4, 8, 9, 48 };

static int page_fault(RvAccess acc)
{
    return acc == RV_ACC_EXEC ? RV_EXC_INSN_PAGE_FAULT
         : acc == RV_ACC_WRITE ? RV_EXC_STORE_PAGE_FAULT
         : RV_EXC_LOAD_PAGE_FAULT;
}

static int access_fault(RvAccess acc)
{
    return acc == RV_ACC_EXEC ? RV_EXC_INSN_ACCESS
         : acc == RV_ACC_WRITE ? RV_EXC_STORE_ACCESS
         : RV_EXC_LOAD_ACCESS;
}

int riscv_data_priv(const RiscvCPU *cpu)
{
    if (cpu->priv == RV_PRIV_M && (cpu->mstatus & RV_MSTATUS_MPRV))
        return (int)((cpu->mstatus & RV_MSTATUS_MPP) >> 11);
    return cpu->priv;
}

/* The paging mode in force for S/U accesses, with the root table's PPN;
 * NULL for Bare. */
static const PagingMode *paging_mode(const RiscvCPU *cpu, uint64_t *root_ppn)
{
    if (cpu->xlen == 32) {
        *root_ppn = cpu->satp & 0x3fffff;
        return (cpu->satp >> 31) & 1 ? &sv32 : NULL;
    }
    *root_ppn = cpu->satp & ((1ull << 44) - 1);
    switch (cpu->satp >> 60) {
    case SATP_SV39: return &sv39;
    case SATP_SV48: return &sv48;
    default: return NULL;
    }
}

static bool pte_leaf_allows(const RiscvCPU *cpu, uint64_t pte, RvAccess acc, int priv)
{
    if (pte & PTE_U) {
        /* S-mode never executes user pages; it reads and writes them only
         * with SUM. */
        if (priv == RV_PRIV_S &&
            (acc == RV_ACC_EXEC || !(cpu->mstatus & RV_MSTATUS_SUM)))
            return false;
    } else if (priv == RV_PRIV_U) {
        return false;
    }
    switch (acc) {
    case RV_ACC_READ:
        return (pte & PTE_R) ||
               ((pte & PTE_X) && (cpu->mstatus & RV_MSTATUS_MXR));
    case RV_ACC_WRITE:
        return pte & PTE_W;
    default:
        return pte & PTE_X;
    }
}

/* debug: a debugger's look (riscv_translate_debug): no permission or PMP
 * check, no A/D update. */
static int walk(RiscvCPU *cpu, const PagingMode *pm, uint64_t root_ppn,
                uint64_t va, RvAccess acc, int priv, uint64_t *pa, bool *page_ok,
                bool debug)
{
    if (pm->va_bits) {
        /* Bits 63:va_bits must all equal bit va_bits-1. */
        int64_t top = (int64_t)va >> (pm->va_bits - 1);
        if (top != 0 && top != -1)
            return page_fault(acc);
    }

    uint64_t ppn_mask = pm->pte_size == 4 ? 0x3fffffull : (1ull << 44) - 1;
    uint64_t vpn_mask = (1ull << pm->vpn_bits) - 1;
    uint64_t table = root_ppn << 12;
    uint64_t pte, pte_addr;
    int level = (int)pm->levels - 1;

    for (;;) {
        unsigned shift = 12 + (unsigned)level * pm->vpn_bits;
        pte_addr = table + ((va >> shift) & vpn_mask) * pm->pte_size;
        if (!debug && !riscv_pmp_check(cpu, pte_addr, pm->pte_size, RV_ACC_READ,
                                       RV_PRIV_S, NULL))
            return access_fault(acc);
        const uint8_t *host = as_host_ptr(cpu->as, pte_addr, pm->pte_size);
        if (!host)
            return access_fault(acc);
        if (pm->pte_size == 4) {
            uint32_t v;
            __builtin_memcpy(&v, host, 4);
            pte = v;
        } else {
            __builtin_memcpy(&pte, host, 8);
        }

        if (!(pte & PTE_V) || ((pte & (PTE_R | PTE_W)) == PTE_W))
            return page_fault(acc);
        /* N (Svnapot), PBMT (Svpbmt) and the reserved bits. */
        if (pm->pte_size == 8 && (pte >> 54))
            return page_fault(acc);
        if (pte & (PTE_R | PTE_X))
            break;
        if (level == 0)
            return page_fault(acc);
        table = ((pte >> 10) & ppn_mask) << 12;
        level--;
    }

    if (!debug && !pte_leaf_allows(cpu, pte, acc, priv))
        return page_fault(acc);
    uint64_t ppn = (pte >> 10) & ppn_mask;
    unsigned low_bits = (unsigned)level * pm->vpn_bits;
    /* A superpage's PPN must be aligned to its size. */
    if (ppn & ((1ull << low_bits) - 1))
        return page_fault(acc);
    uint64_t off_mask = (1ull << (12 + low_bits)) - 1;
    uint64_t out = ((ppn << 12) & ~off_mask) | (va & off_mask);
    if (debug) {
        *pa = out;
        return 0;
    }

    if (!riscv_pmp_check(cpu, out, 1, acc, priv, page_ok))
        return access_fault(acc);

    uint64_t need = PTE_A | (acc == RV_ACC_WRITE ? PTE_D : 0);
    if ((pte & need) != need) {
        if (!riscv_pmp_check(cpu, pte_addr, pm->pte_size, RV_ACC_WRITE,
                             RV_PRIV_S, NULL) ||
            as_write(cpu->as, pte_addr, pm->pte_size, pte | need) != MEM_OK)
            return access_fault(acc);
    }
    *pa = out;
    return 0;
}

int riscv_translate(RiscvCPU *cpu, uint64_t va, RvAccess acc, int priv,
                    uint64_t *pa, bool *page_ok)
{
    uint64_t root_ppn;
    const PagingMode *pm = NULL;
    bool ok = false;

    if (cpu->xlen == 32)
        va = (uint32_t)va;
    if (priv != RV_PRIV_M)
        pm = paging_mode(cpu, &root_ppn);
    if (pm) {
        int cause = walk(cpu, pm, root_ppn, va, acc, priv, pa, &ok, false);
        *page_ok = cause == 0 && ok;
        return cause;
    }
    if (!riscv_pmp_check(cpu, va, 1, acc, priv, &ok)) {
        *page_ok = false;
        return access_fault(acc);
    }
    *pa = va;
    *page_ok = ok;
    return 0;
}

bool riscv_translate_debug(RiscvCPU *cpu, uint64_t va, uint64_t *pa)
{
    uint64_t root_ppn;
    const PagingMode *pm = NULL;
    bool ok;

    if (cpu->xlen == 32)
        va = (uint32_t)va;
    if (cpu->priv != RV_PRIV_M)
        pm = paging_mode(cpu, &root_ppn);
    if (!pm) {
        *pa = va;
        return true;
    }
    return walk(cpu, pm, root_ppn, va, RV_ACC_READ, cpu->priv, pa, &ok, true) == 0;
}
