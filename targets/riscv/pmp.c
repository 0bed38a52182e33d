/* Physical memory protection (privileged spec 1.12, section 3.7).
 *
 * 16 entries with 4-byte granularity (G = 0), as QEMU 7.2: pmpcfg0..3
 * (RV32) or pmpcfg0/pmpcfg2 (RV64) and pmpaddr0..15; csr.c makes the
 * higher-numbered PMP CSRs illegal, again as QEMU 7.2 does.
 *
 * WARL choices: pmpcfg bits 6:5 read as zero; the reserved R=0 W=1
 * combination is stored as written (QEMU keeps it too) and grants writes
 * only.  pmpaddr holds address bits 55:2 (RV64) or 33:2 (RV32); on RV64 the
 * WARL bits 63:54 read back what was written, as in QEMU 7.2 (the
 * differential tests compare register dumps), but take no part in
 * matching.
 *
 * An S- or U-mode access that no entry matches fails even when every entry
 * is OFF: at least one entry is implemented (QEMU 7.2 behaves the same). */
#include "targets/riscv/cpu.h"

#define PMP_ENTRIES 16

#define PMP_R 0x01
#define PMP_W 0x02
#define PMP_X 0x04
#define PMP_A 0x18
#define PMP_L 0x80
#define PMP_CFG_MASK (PMP_R | PMP_W | PMP_X | PMP_A | PMP_L)

enum { PMP_OFF = 0, PMP_TOR = 1, PMP_NA4 = 2, PMP_NAPOT = 3 };

static inline unsigned cfg_of(const RiscvCPU *cpu, unsigned i)
{
    return (unsigned)(cpu->pmpcfg[i / 8] >> (8 * (i % 8))) & 0xff;
}

static inline unsigned mode_of(unsigned cfg)
{
    return (cfg & PMP_A) >> 3;
}

/* The pmpaddr bits that hold an address (bits 55:2 or 33:2 of it). */
#define PMP_ADDR_BITS ((1ull << 54) - 1)

/* Byte range [*lo, *last] covered by entry i; false if it covers nothing. */
static bool entry_range(const RiscvCPU *cpu, unsigned i, unsigned cfg,
                        uint64_t *lo, uint64_t *last)
{
    uint64_t a = cpu->pmpaddr[i] & PMP_ADDR_BITS;
    switch (mode_of(cfg)) {
    case PMP_TOR: {
        uint64_t base = i ? (cpu->pmpaddr[i - 1] & PMP_ADDR_BITS) << 2 : 0;
        uint64_t top = a << 2;
        if (base >= top)
            return false;
        *lo = base;
        *last = top - 1;
        return true;
    }
    case PMP_NA4:
        *lo = a << 2;
        *last = *lo + 3;
        return true;
    case PMP_NAPOT: {
        /* a = base/4 with k trailing ones: 2^(k+3) bytes.  a has at most 54
         * significant bits, so k <= 54 and nothing overflows. */
        unsigned k = (unsigned)__builtin_ctzll(~a);
        uint64_t size = 1ull << (k + 3);
        *lo = (a << 2) & ~(size - 1);
        *last = *lo + size - 1;
        return true;
    }
    default:
        return false;
    }
}

static bool entry_allows(unsigned cfg, RvAccess acc, int priv)
{
    /* A matching unlocked entry does not restrict M-mode. */
    if (priv == RV_PRIV_M && !(cfg & PMP_L))
        return true;
    switch (acc) {
    case RV_ACC_READ: return cfg & PMP_R;
    case RV_ACC_WRITE: return cfg & PMP_W;
    default: return cfg & PMP_X;
    }
}

bool riscv_pmp_check(const RiscvCPU *cpu, uint64_t pa, uint64_t size,
                     RvAccess acc, int priv, bool *page_ok)
{
    uint64_t last = pa + size - 1;
    uint64_t page = pa & ~0xfffull, page_last = page | 0xfff;
    /* Set once a higher-priority entry covers only part of the page. */
    bool split = false;

    for (unsigned i = 0; i < PMP_ENTRIES; i++) {
        unsigned cfg = cfg_of(cpu, i);
        uint64_t lo, hi;
        if (!entry_range(cpu, i, cfg, &lo, &hi))
            continue;
        if (hi < page || lo > page_last)
            continue;
        bool covers_page = lo <= page && hi >= page_last;
        if (last < lo || pa > hi) {
            split = true;
            continue;
        }
        if (page_ok)
            *page_ok = !split && covers_page;
        /* Matching only some bytes of the access fails it. */
        if (pa < lo || last > hi)
            return false;
        return entry_allows(cfg, acc, priv);
    }
    if (page_ok)
        *page_ok = !split;
    return priv == RV_PRIV_M;
}

/* ---- CSR bodies ---- */

/* RV32 pmpcfgN holds entries 4N..4N+3, RV64 pmpcfgN (N even) 4N..4N+7. */
uint64_t riscv_pmpcfg_read(const RiscvCPU *cpu, unsigned n)
{
    if (cpu->xlen == 32)
        return (uint32_t)(cpu->pmpcfg[n / 2] >> (32 * (n % 2)));
    return cpu->pmpcfg[n / 2];
}

void riscv_pmpcfg_write(RiscvCPU *cpu, unsigned n, uint64_t val)
{
    unsigned first = 4 * n, count = cpu->xlen == 32 ? 4 : 8;
    bool changed = false;
    for (unsigned k = 0; k < count; k++) {
        unsigned i = first + k;
        if (i >= PMP_ENTRIES)
            break;
        unsigned old = cfg_of(cpu, i);
        unsigned cfg = (unsigned)(val >> (8 * k)) & PMP_CFG_MASK;
        if (old & PMP_L || cfg == old)
            continue;
        uint64_t *w = &cpu->pmpcfg[i / 8];
        unsigned sh = 8 * (i % 8);
        *w = (*w & ~(0xffull << sh)) | ((uint64_t)cfg << sh);
        changed = true;
    }
    if (changed)
        riscv_tlb_flush(cpu);
}

uint64_t riscv_pmpaddr_read(const RiscvCPU *cpu, unsigned n)
{
    return n < PMP_ENTRIES ? cpu->pmpaddr[n] : 0;
}

void riscv_pmpaddr_write(RiscvCPU *cpu, unsigned n, uint64_t val)
{
    if (n >= PMP_ENTRIES || cfg_of(cpu, n) & PMP_L)
        return;
    /* A locked TOR entry also locks the address below it. */
    if (n + 1 < PMP_ENTRIES) {
        unsigned next = cfg_of(cpu, n + 1);
        if ((next & PMP_L) && mode_of(next) == PMP_TOR)
            return;
    }
    if (cpu->xlen == 32)
        val &= 0xffffffffull;
    if (cpu->pmpaddr[n] == val)
        return;
    cpu->pmpaddr[n] = val;
    riscv_tlb_flush(cpu);
}
